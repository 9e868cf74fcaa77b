//! Small pictures of camera frames for the window's live preview.
//!
//! The window shows what the camera sees while a scan runs, a few times a
//! second. [`preview`] shrinks a frame and encodes it as a small JPEG (a few
//! kilobytes), ready to send as an event and show as an `<img>` through
//! [`Preview::data_url`]. [`PreviewPacer`] picks which frames to send.
//!
//! ```
//! use std::time::Duration;
//! use image::{GrayImage, Luma};
//! use tallymesh_offline::camera::Frame;
//! use tallymesh_offline::preview::{PreviewPacer, PreviewSettings, preview};
//!
//! let frame = Frame::luma(GrayImage::from_pixel(640, 480, Luma([90])), Duration::ZERO);
//! let mut pacer = PreviewPacer::new(Duration::from_millis(200));
//! assert!(pacer.due(&frame));
//!
//! let small = preview(&frame, PreviewSettings::default()).unwrap();
//! assert_eq!((small.width, small.height), (320, 240));
//! assert!(small.data_url().starts_with("data:image/jpeg;base64,"));
//! ```
//!
//! The picture is not mirrored; a window that wants the selfie feel flips
//! it when drawing.

use std::time::Duration;

use base64::Engine as _;
use image::codecs::jpeg::JpegEncoder;
use image::imageops;
use thiserror::Error;

use crate::camera::{Frame, FrameImage};

/// How big and how good a preview is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PreviewSettings {
    /// Widest the preview may be, in pixels.
    pub max_width: u32,
    /// Tallest the preview may be, in pixels.
    pub max_height: u32,
    /// JPEG quality, 1 to 100.
    pub quality: u8,
}

impl Default for PreviewSettings {
    /// 320×240 at quality 70: about 10 kB a picture, sharp enough to aim
    /// the code at the camera.
    fn default() -> Self {
        Self {
            max_width: 320,
            max_height: 240,
            quality: 70,
        }
    }
}

/// A frame made small for the window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preview {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// The picture as a JPEG file.
    pub jpeg: Vec<u8>,
    /// When the frame was taken, from the start of its source.
    pub timestamp: Duration,
}

impl Preview {
    /// The picture as a `data:` URL an `<img>` can show.
    pub fn data_url(&self) -> String {
        format!(
            "data:image/jpeg;base64,{}",
            base64::engine::general_purpose::STANDARD.encode(&self.jpeg)
        )
    }
}

/// Why a preview could not be made.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PreviewError {
    /// The frame has no pixels.
    #[error("the frame is empty")]
    EmptyFrame,
    /// The JPEG encoder refused the picture.
    #[error("the preview could not be encoded: {0}")]
    Encode(String),
}

/// `frame` shrunk to fit `settings` (keeping its shape, never enlarged) and
/// encoded as JPEG.
pub fn preview(frame: &Frame, settings: PreviewSettings) -> Result<Preview, PreviewError> {
    let (w, h) = (frame.width(), frame.height());
    if w == 0 || h == 0 {
        return Err(PreviewError::EmptyFrame);
    }
    let (width, height) = fit(w, h, settings.max_width.max(1), settings.max_height.max(1));
    let mut jpeg = Vec::new();
    let mut encoder = JpegEncoder::new_with_quality(&mut jpeg, settings.quality.clamp(1, 100));
    // `thumbnail` averages whole source pixels: fast, and free of the
    // aliasing a plain subsample would show on a QR code's fine pattern.
    let encoded = match frame.image() {
        FrameImage::Luma(image) => encoder.encode_image(&imageops::thumbnail(image, width, height)),
        FrameImage::Rgb(image) => encoder.encode_image(&imageops::thumbnail(image, width, height)),
    };
    encoded.map_err(|e| PreviewError::Encode(e.to_string()))?;
    Ok(Preview {
        width,
        height,
        jpeg,
        timestamp: frame.timestamp(),
    })
}

/// The largest size with the shape of `w`×`h` that fits in
/// `max_w`×`max_h`, and no larger than `w`×`h`.
fn fit(w: u32, h: u32, max_w: u32, max_h: u32) -> (u32, u32) {
    if w <= max_w && h <= max_h {
        return (w, h);
    }
    let (w64, h64) = (u64::from(w), u64::from(h));
    // Scale by the tighter of the two limits, in integers.
    if w64 * u64::from(max_h) >= h64 * u64::from(max_w) {
        (max_w, ((h64 * u64::from(max_w) / w64) as u32).max(1))
    } else {
        (((w64 * u64::from(max_h) / h64) as u32).max(1), max_h)
    }
}

/// Decides which frames become previews: the first, then the first at
/// least `every` after the last one sent. Goes by frame timestamps, so a
/// slow scan simply sends fewer.
#[derive(Debug, Clone)]
pub struct PreviewPacer {
    every: Duration,
    last: Option<Duration>,
}

impl PreviewPacer {
    /// A pacer for one preview per `every`.
    pub fn new(every: Duration) -> Self {
        Self { every, last: None }
    }

    /// Whether `frame` should be sent; if so, it counts as sent.
    pub fn due(&mut self, frame: &Frame) -> bool {
        let now = frame.timestamp();
        let due = match self.last {
            None => true,
            // A source that restarted its clock starts over too.
            Some(last) => now < last || now - last >= self.every,
        };
        if due {
            self.last = Some(now);
        }
        due
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{GrayImage, Luma, Rgb, RgbImage};

    fn at(ms: u64) -> Frame {
        Frame::luma(GrayImage::new(4, 4), Duration::from_millis(ms))
    }

    #[test]
    fn shapes_are_kept_and_small_frames_not_enlarged() {
        assert_eq!(fit(640, 480, 320, 240), (320, 240));
        assert_eq!(fit(1280, 720, 320, 240), (320, 180));
        assert_eq!(fit(480, 640, 320, 240), (180, 240));
        assert_eq!(fit(100, 50, 320, 240), (100, 50));
        assert_eq!(fit(10_000, 1, 320, 240), (320, 1));
    }

    #[test]
    fn a_colour_preview_decodes_as_the_same_picture_smaller() {
        let frame = Frame::rgb(
            RgbImage::from_pixel(640, 360, Rgb([200, 30, 30])),
            Duration::from_millis(5),
        );
        let small = preview(&frame, PreviewSettings::default()).unwrap();
        assert_eq!(
            (small.width, small.height, small.timestamp),
            (320, 180, Duration::from_millis(5))
        );
        let back = image::load_from_memory(&small.jpeg).unwrap().to_rgb8();
        assert_eq!(back.dimensions(), (320, 180));
        assert!(back.get_pixel(100, 100).0[0] > 150);
        assert!(small.jpeg.len() < 20_000, "{} bytes", small.jpeg.len());
    }

    #[test]
    fn an_empty_frame_has_no_preview() {
        assert_eq!(
            preview(
                &Frame::luma(GrayImage::new(0, 0), Duration::ZERO),
                PreviewSettings::default()
            ),
            Err(PreviewError::EmptyFrame)
        );
    }

    #[test]
    fn the_data_url_holds_the_jpeg() {
        let small = preview(
            &Frame::luma(GrayImage::from_pixel(8, 8, Luma([1])), Duration::ZERO),
            PreviewSettings::default(),
        )
        .unwrap();
        let url = small.data_url();
        let encoded = url.strip_prefix("data:image/jpeg;base64,").unwrap();
        assert_eq!(
            base64::engine::general_purpose::STANDARD.decode(encoded).unwrap(),
            small.jpeg
        );
    }

    #[test]
    fn the_pacer_sends_one_frame_per_interval() {
        let mut pacer = PreviewPacer::new(Duration::from_millis(200));
        let sent: Vec<u64> = (0..20).map(|i| i * 33).filter(|&ms| pacer.due(&at(ms))).collect();
        assert_eq!(sent, vec![0, 231, 462]);
        // A source whose clock starts over is previewed at once.
        assert!(pacer.due(&at(0)));
    }
}
