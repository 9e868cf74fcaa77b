//! Camera-like pictures of QR codes, made deterministically from a seed:
//! scaled, rotated, placed anywhere in a larger frame under uneven light,
//! then degraded the way cheap webcams degrade them.

#![allow(dead_code)] // each test target uses a different part

use image::imageops::{self, FilterType};
use image::{GrayImage, Luma, LumaA};
use imageproc::filter::gaussian_blur_f32;
use imageproc::geometric_transformations::{Border, Interpolation, rotate_about_center};
use imageproc::noise::{gaussian_noise, salt_and_pepper_noise};
use tallymesh_offline::qr;

/// A contact-card link of realistic length (a signed card with one device
/// certificate and an address, base64url): 420 bytes.
pub fn card_payload() -> Vec<u8> {
    let mut link = b"tallymesh:card?v=1&d=".to_vec();
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut state = 0x2545_f491_4f6c_dd1du64;
    while link.len() < 420 {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        link.push(alphabet[(state % 64) as usize]);
    }
    link
}

/// An invite-sized payload: 80 bytes.
pub fn short_payload() -> Vec<u8> {
    let mut link = card_payload();
    link.truncate(80);
    link
}

/// How a frame is spoilt after the code is placed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Noise {
    /// A sharp, evenly lit picture.
    Clean,
    /// Sensor noise: Gaussian with this standard deviation (grey levels).
    Gaussian(f64),
    /// This fraction of pixels turned black or white.
    SaltPepper(f64),
    /// Out of focus: Gaussian blur with this sigma (pixels).
    Blur(f32),
    /// Dim and flat: the whole range squeezed into this many grey levels.
    LowContrast(u8),
    /// A poor webcam in a dim room: 100 grey levels, blur 0.8, noise 6.
    Webcam,
    /// Worse: 70 grey levels, blur 1.0, noise 8.
    BadWebcam,
}

/// One picture to make.
#[derive(Debug, Clone)]
pub struct Scene {
    pub payload: Vec<u8>,
    /// Pixels per QR module in the frame; fractions are fine.
    pub module_px: f32,
    /// Clockwise rotation of the code, in degrees.
    pub rotation_deg: f32,
    pub noise: Noise,
    pub width: u32,
    pub height: u32,
    /// Where the code's centre is, as a fraction of the frame's width and height.
    pub centre: (f32, f32),
    /// Places the clutter in the background.
    pub seed: u64,
    /// Draws the noise: a camera gives fresh noise in every frame of the
    /// same scene.
    pub noise_seed: u64,
}

impl Scene {
    /// A clean, upright card code, 3 px per module, centred in 640×480.
    pub fn card() -> Self {
        Self {
            payload: card_payload(),
            module_px: 3.0,
            rotation_deg: 0.0,
            noise: Noise::Clean,
            width: 640,
            height: 480,
            centre: (0.5, 0.5),
            seed: 1,
            noise_seed: 1,
        }
    }

    /// The picture; with an empty payload, the scene without a code.
    pub fn render(&self) -> GrayImage {
        self.spoil(self.compose())
    }

    /// The scene, evenly lit and sharp: everything but the noise.
    pub fn compose(&self) -> GrayImage {
        let mut frame = background(self.width, self.height, self.seed);
        if !self.payload.is_empty() {
            let code = code_patch(&self.payload, self.module_px, self.rotation_deg);
            let x = (self.centre.0 * self.width as f32) as i64 - i64::from(code.width()) / 2;
            let y = (self.centre.1 * self.height as f32) as i64 - i64::from(code.height()) / 2;
            imageops::overlay(&mut frame, &code, x, y);
        }
        lit(&frame)
    }

    /// `composed` (from [`Scene::compose`]) spoilt by this scene's noise.
    pub fn spoil(&self, mut composed: GrayImage) -> GrayImage {
        spoil(&mut composed, self.noise, self.noise_seed);
        composed
    }
}

/// Grey clutter: a wall with a few darker and lighter objects.
fn background(width: u32, height: u32, seed: u64) -> image::GrayAlphaImage {
    let mut frame = image::GrayAlphaImage::from_pixel(width, height, LumaA([170, 255]));
    let mut state = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    let mut next = |bound: u32| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % u64::from(bound.max(1))) as u32
    };
    for _ in 0..6 {
        let (w, h) = (20 + next(width / 3), 20 + next(height / 3));
        let (x, y) = (next(width), next(height));
        let tone = 40 + next(200) as u8;
        for py in y..(y + h).min(height) {
            for px in x..(x + w).min(width) {
                frame.put_pixel(px, py, LumaA([tone, 255]));
            }
        }
    }
    frame
}

/// The code with its quiet zone on a white card, rotated on a transparent
/// background so only the card lands in the frame.
fn code_patch(payload: &[u8], module_px: f32, rotation_deg: f32) -> image::GrayAlphaImage {
    // Render sharp at 8 px per module, then shrink with a triangle filter:
    // edges blur over a pixel as they do through a lens.
    let sharp = match qr::render_luma(payload, 8) {
        Ok(image) => image,
        Err(error) => panic!("test payload does not fit a QR code: {error}"),
    };
    let side = ((sharp.width() as f32) * module_px / 8.0).round().max(1.0) as u32;
    let scaled = imageops::resize(&sharp, side, side, FilterType::Triangle);
    // Paper is not quite white, ink not quite black.
    let card = image::GrayAlphaImage::from_fn(side, side, |x, y| {
        let v = f32::from(scaled.get_pixel(x, y).0[0]) / 255.0;
        LumaA([(25.0 + v * 215.0) as u8, 255])
    });
    if rotation_deg == 0.0 {
        return card;
    }
    let diagonal = ((side as f32) * std::f32::consts::SQRT_2).ceil() as u32 + 2;
    let mut padded = image::GrayAlphaImage::from_pixel(diagonal, diagonal, LumaA([0, 0]));
    let offset = i64::from((diagonal - side) / 2);
    imageops::overlay(&mut padded, &card, offset, offset);
    rotate_about_center(
        &padded,
        rotation_deg.to_radians(),
        Interpolation::Bilinear,
        Border::Constant(LumaA([0, 0])),
    )
}

/// Flattens to grey under light that falls off from the top-left corner.
fn lit(frame: &image::GrayAlphaImage) -> GrayImage {
    let (w, h) = frame.dimensions();
    GrayImage::from_fn(w, h, |x, y| {
        let fall = (x as f32 / w as f32 + y as f32 / h as f32) / 2.0;
        let light = 1.0 - 0.3 * fall;
        Luma([(f32::from(frame.get_pixel(x, y).0[0]) * light) as u8])
    })
}

fn squeeze(luma: &mut GrayImage, levels: u8, base: u8) {
    for p in luma.pixels_mut() {
        p.0[0] = base + (u16::from(p.0[0]) * u16::from(levels) / 255) as u8;
    }
}

fn spoil(luma: &mut GrayImage, noise: Noise, seed: u64) {
    match noise {
        Noise::Clean => {}
        Noise::Gaussian(sigma) => *luma = gaussian_noise(luma, 0.0, sigma, seed),
        Noise::SaltPepper(rate) => *luma = salt_and_pepper_noise(luma, rate, seed),
        Noise::Blur(sigma) => *luma = gaussian_blur_f32(luma, sigma),
        Noise::LowContrast(levels) => squeeze(luma, levels, 90),
        Noise::Webcam => {
            squeeze(luma, 100, 50);
            *luma = gaussian_blur_f32(luma, 0.8);
            *luma = gaussian_noise(luma, 0.0, 6.0, seed);
        }
        Noise::BadWebcam => {
            squeeze(luma, 70, 60);
            *luma = gaussian_blur_f32(luma, 1.0);
            *luma = gaussian_noise(luma, 0.0, 8.0, seed);
        }
    }
}

/// Scenes that fit a 640×480 frame whole: a card code is 89 modules wide
/// with its quiet zone, a short one 41.
pub fn fits(modules: f32, module_px: f32, rotation_deg: f32) -> bool {
    let r = rotation_deg.to_radians();
    modules * module_px * (r.cos().abs() + r.sin().abs()) <= 470.0
}
