//! Rendering and reading QR codes.

use image::{GrayImage, Luma};
use qrcode::render::svg;
use qrcode::{EcLevel, QrCode};
use thiserror::Error;

/// Why a QR code could not be made or read.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum QrError {
    /// The payload does not fit in the largest QR code.
    #[error("{0} bytes do not fit in one QR code")]
    TooLong(usize),
    /// The frame holds no QR code that could be read.
    #[error("no readable QR code in the image")]
    NotFound,
    /// The image file could not be read as an image.
    #[error("the file is not an image this app can read: {0}")]
    BadImage(String),
}

fn code_for(payload: &[u8]) -> Result<QrCode, QrError> {
    // Medium error correction survives a scratched screen or a glare spot
    // while keeping codes small enough to scan from a phone's distance.
    QrCode::with_error_correction_level(payload, EcLevel::M).map_err(|_| QrError::TooLong(payload.len()))
}

/// An SVG document showing `payload` as a QR code, dark modules on a light
/// background with the standard quiet zone, scaling to its container.
pub fn render_svg(payload: &[u8]) -> Result<String, QrError> {
    let code = code_for(payload)?;
    Ok(code
        .render::<svg::Color<'_>>()
        .min_dimensions(256, 256)
        .dark_color(svg::Color("#0b1f1e"))
        .light_color(svg::Color("#ffffff"))
        .quiet_zone(true)
        .build())
}

/// A greyscale picture of `payload` as a QR code with `module_px` pixels
/// per module, as a camera would see a sharp one.
pub fn render_luma(payload: &[u8], module_px: u32) -> Result<GrayImage, QrError> {
    let code = code_for(payload)?;
    Ok(code
        .render::<Luma<u8>>()
        .module_dimensions(module_px.max(1), module_px.max(1))
        .quiet_zone(true)
        .build())
}

/// Every QR code payload readable in a greyscale frame, in the order found.
/// A frame with none gives [`QrError::NotFound`].
pub fn decode_luma(frame: &GrayImage) -> Result<Vec<Vec<u8>>, QrError> {
    let mut prepared = rqrr::PreparedImage::prepare(frame.clone());
    let payloads: Vec<Vec<u8>> = prepared
        .detect_grids()
        .into_iter()
        .filter_map(|grid| {
            let mut bytes = Vec::new();
            grid.decode_to(&mut bytes).ok().map(|_| bytes)
        })
        .collect();
    if payloads.is_empty() {
        Err(QrError::NotFound)
    } else {
        Ok(payloads)
    }
}

/// Every QR code payload in an encoded image file (PNG).
pub fn decode_image_bytes(bytes: &[u8]) -> Result<Vec<Vec<u8>>, QrError> {
    let image = image::load_from_memory(bytes).map_err(|e| QrError::BadImage(e.to_string()))?;
    decode_luma(&image.to_luma8())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_blank_frame_holds_no_code() {
        let blank = GrayImage::from_pixel(200, 200, Luma([255]));
        assert_eq!(decode_luma(&blank), Err(QrError::NotFound));
    }

    #[test]
    fn svg_is_a_complete_document() {
        let svg = render_svg(b"tallymesh:hello").unwrap();
        assert!(svg.starts_with("<?xml"));
        assert!(svg.trim_end().ends_with("</svg>"));
    }

    #[test]
    fn oversized_payload_is_refused() {
        assert_eq!(render_svg(&[b'x'; 4000]), Err(QrError::TooLong(4000)));
    }

    #[test]
    fn garbage_file_is_refused_as_not_an_image() {
        assert!(matches!(decode_image_bytes(b"not a png"), Err(QrError::BadImage(_))));
    }

    #[test]
    fn png_file_round_trips() {
        let frame = render_luma(b"tallymesh:card", 3).unwrap();
        let mut png = Vec::new();
        image::DynamicImage::ImageLuma8(frame)
            .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
            .unwrap();
        assert_eq!(decode_image_bytes(&png).unwrap(), vec![b"tallymesh:card".to_vec()]);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]
        #[test]
        fn rendered_codes_decode_to_the_same_bytes(payload in proptest::collection::vec(any::<u8>(), 1..300)) {
            let frame = render_luma(&payload, 3).unwrap();
            prop_assert_eq!(decode_luma(&frame).unwrap(), vec![payload]);
        }
    }
}
