//! Raw camera buffers to pictures.
//!
//! Cameras deliver MJPEG, packed YUYV 4:2:2, NV12 4:2:0, grey or raw RGB/BGR.
//! We decode them here rather than through the capture library's own decoder
//! so no C JPEG library is needed and a malformed buffer is an error, never a
//! panic.

use image::{DynamicImage, GrayImage, ImageFormat, RgbImage};
use nokhwa::utils::FrameFormat;

use super::FrameImage;

/// The pixel formats [`decode`] reads, cheapest first: preferred when a
/// camera offers several at the same size and rate.
pub(crate) const READABLE: [FrameFormat; 6] = [
    FrameFormat::GRAY,
    FrameFormat::YUYV,
    FrameFormat::NV12,
    FrameFormat::RAWRGB,
    FrameFormat::RAWBGR,
    FrameFormat::MJPEG,
];

/// Rec. 601 luma of an RGB picture, in integer arithmetic.
pub(crate) fn rgb_to_luma(image: &RgbImage) -> GrayImage {
    let pixels = image
        .as_raw()
        .chunks_exact(3)
        .map(|p| luma_of(p[0], p[1], p[2]))
        .collect();
    // The buffer has exactly width × height bytes, so this cannot fail; an
    // empty picture is the harmless answer if it ever did.
    GrayImage::from_raw(image.width(), image.height(), pixels).unwrap_or_default()
}

fn luma_of(r: u8, g: u8, b: u8) -> u8 {
    ((77 * u32::from(r) + 150 * u32::from(g) + 29 * u32::from(b) + 128) >> 8) as u8
}

/// Decodes one raw buffer of `format` that the camera says is
/// `width` × `height`. The error says what was wrong, for the log.
pub(crate) fn decode(format: FrameFormat, width: u32, height: u32, bytes: &[u8]) -> Result<FrameImage, String> {
    if width == 0 || height == 0 {
        return Err(format!("{format} frame of {width}×{height}"));
    }
    let (w, h) = (width as usize, height as usize);
    match format {
        FrameFormat::MJPEG => {
            let image = image::load_from_memory_with_format(bytes, ImageFormat::Jpeg)
                .map_err(|e| format!("MJPEG frame: {e}"))?;
            Ok(match image {
                DynamicImage::ImageLuma8(grey) => FrameImage::Luma(grey),
                other => FrameImage::Rgb(other.into_rgb8()),
            })
        }
        FrameFormat::GRAY => {
            let stride = stride(bytes.len(), w, h, 1, format)?;
            let mut pixels = Vec::with_capacity(w * h);
            for row in bytes.chunks(stride).take(h) {
                pixels.extend_from_slice(&row[..w]);
            }
            GrayImage::from_raw(width, height, pixels)
                .map(FrameImage::Luma)
                .ok_or_else(|| format!("{format} frame of {} bytes", bytes.len()))
        }
        FrameFormat::YUYV => {
            if !w.is_multiple_of(2) {
                return Err(format!("YUYV frame of odd width {width}"));
            }
            let stride = stride(bytes.len(), w, h, 2, format)?;
            let mut rgb = Vec::with_capacity(w * h * 3);
            for row in bytes.chunks(stride).take(h) {
                for quad in row[..w * 2].chunks_exact(4) {
                    let (y0, u, y1, v) = (quad[0], quad[1], quad[2], quad[3]);
                    rgb.extend_from_slice(&yuv_to_rgb(y0, u, v));
                    rgb.extend_from_slice(&yuv_to_rgb(y1, u, v));
                }
            }
            rgb_image(width, height, rgb, format)
        }
        FrameFormat::NV12 => {
            if !w.is_multiple_of(2) || !h.is_multiple_of(2) {
                return Err(format!("NV12 frame of odd size {width}×{height}"));
            }
            let needed = w * h + w * h / 2;
            if bytes.len() < needed {
                return Err(format!("NV12 frame of {} bytes, {needed} expected", bytes.len()));
            }
            let (luma, chroma) = bytes.split_at(w * h);
            let mut rgb = Vec::with_capacity(w * h * 3);
            for y in 0..h {
                let chroma_row = &chroma[(y / 2) * w..(y / 2) * w + w];
                for x in 0..w {
                    let pair = (x / 2) * 2;
                    rgb.extend_from_slice(&yuv_to_rgb(luma[y * w + x], chroma_row[pair], chroma_row[pair + 1]));
                }
            }
            rgb_image(width, height, rgb, format)
        }
        FrameFormat::RAWRGB | FrameFormat::RAWBGR => {
            let stride = stride(bytes.len(), w, h, 3, format)?;
            let swap = format == FrameFormat::RAWBGR;
            let mut rgb = Vec::with_capacity(w * h * 3);
            for row in bytes.chunks(stride).take(h) {
                for p in row[..w * 3].chunks_exact(3) {
                    if swap {
                        rgb.extend_from_slice(&[p[2], p[1], p[0]]);
                    } else {
                        rgb.extend_from_slice(p);
                    }
                }
            }
            rgb_image(width, height, rgb, format)
        }
    }
}

/// Bytes per row. Some drivers pad rows; a buffer that is not a whole number
/// of rows of at least `w` pixels is refused.
fn stride(len: usize, w: usize, h: usize, bytes_per_pixel: usize, format: FrameFormat) -> Result<usize, String> {
    let row = w * bytes_per_pixel;
    if len < row * h {
        return Err(format!("{format} frame of {len} bytes, {} expected", row * h));
    }
    if len == row * h || !len.is_multiple_of(h) {
        // Extra bytes after the picture (or an uneven split) are ignored.
        return Ok(row);
    }
    Ok(len / h)
}

fn rgb_image(width: u32, height: u32, rgb: Vec<u8>, format: FrameFormat) -> Result<FrameImage, String> {
    RgbImage::from_raw(width, height, rgb)
        .map(FrameImage::Rgb)
        .ok_or_else(|| format!("{format} frame did not fill {width}×{height}"))
}

/// BT.601 limited-range YCbCr to RGB, as webcams send it.
fn yuv_to_rgb(y: u8, u: u8, v: u8) -> [u8; 3] {
    let c = 298 * (i32::from(y) - 16);
    let d = i32::from(u) - 128;
    let e = i32::from(v) - 128;
    let clamp = |x: i32| ((x + 128) >> 8).clamp(0, 255) as u8;
    [clamp(c + 409 * e), clamp(c - 100 * d - 208 * e), clamp(c + 516 * d)]
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn rgb_of(image: FrameImage) -> RgbImage {
        match image {
            FrameImage::Rgb(rgb) => rgb,
            FrameImage::Luma(grey) => DynamicImage::ImageLuma8(grey).into_rgb8(),
        }
    }

    #[test]
    fn yuyv_white_and_black_come_out_white_and_black() {
        // Two pixels: Y=235 (white) and Y=16 (black), neutral chroma.
        let image = rgb_of(decode(FrameFormat::YUYV, 2, 1, &[235, 128, 16, 128]).unwrap());
        assert_eq!(image.get_pixel(0, 0).0, [255, 255, 255]);
        assert_eq!(image.get_pixel(1, 0).0, [0, 0, 0]);
    }

    #[test]
    fn nv12_reads_the_luma_plane_and_shared_chroma() {
        let mut bytes = vec![235, 16, 16, 235];
        bytes.extend_from_slice(&[128, 128]);
        let image = rgb_of(decode(FrameFormat::NV12, 2, 2, &bytes).unwrap());
        assert_eq!(image.get_pixel(0, 0).0, [255, 255, 255]);
        assert_eq!(image.get_pixel(1, 0).0, [0, 0, 0]);
        assert_eq!(image.get_pixel(1, 1).0, [255, 255, 255]);
    }

    #[test]
    fn bgr_is_swapped_to_rgb() {
        let image = rgb_of(decode(FrameFormat::RAWBGR, 1, 1, &[1, 2, 3]).unwrap());
        assert_eq!(image.get_pixel(0, 0).0, [3, 2, 1]);
    }

    #[test]
    fn padded_grey_rows_are_cropped() {
        // 3 pixels wide, rows padded to 4 bytes.
        let bytes = [1, 2, 3, 0, 4, 5, 6, 0];
        match decode(FrameFormat::GRAY, 3, 2, &bytes).unwrap() {
            FrameImage::Luma(grey) => assert_eq!(grey.as_raw(), &vec![1, 2, 3, 4, 5, 6]),
            FrameImage::Rgb(_) => panic!("grey frame decoded as colour"),
        }
    }

    #[test]
    fn mjpeg_frames_decode() {
        let mut jpeg = Vec::new();
        DynamicImage::ImageRgb8(RgbImage::from_pixel(16, 8, image::Rgb([200, 20, 20])))
            .write_to(&mut std::io::Cursor::new(&mut jpeg), ImageFormat::Jpeg)
            .unwrap();
        let image = rgb_of(decode(FrameFormat::MJPEG, 16, 8, &jpeg).unwrap());
        assert_eq!(image.dimensions(), (16, 8));
        assert!(image.get_pixel(3, 3).0[0] > 150);
    }

    #[test]
    fn short_buffers_are_refused() {
        for format in READABLE {
            assert!(decode(format, 64, 48, &[0; 10]).is_err(), "{format}");
        }
        assert!(decode(FrameFormat::GRAY, 0, 10, &[]).is_err());
    }

    #[test]
    fn luma_weights_favour_green() {
        assert_eq!(luma_of(255, 255, 255), 255);
        assert_eq!(luma_of(0, 0, 0), 0);
        assert!(luma_of(0, 255, 0) > luma_of(255, 0, 0));
        assert!(luma_of(255, 0, 0) > luma_of(0, 0, 255));
    }

    proptest! {
        #[test]
        fn no_buffer_makes_decoding_panic(
            format in proptest::sample::select(READABLE.to_vec()),
            width in 0u32..40,
            height in 0u32..40,
            bytes in proptest::collection::vec(any::<u8>(), 0..4000),
        ) {
            let _ = decode(format, width, height, &bytes);
        }
    }
}
