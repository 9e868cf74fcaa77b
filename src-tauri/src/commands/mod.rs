//! The commands the window may call, one module per domain. Each is a few
//! lines: call the node's API, map its errors to [`crate::ApiError`].

pub mod cadre;
pub mod chat;
pub mod contacts;
pub mod identity;
pub mod links;
pub mod network;
pub mod node;
pub mod tallies;
pub mod trust;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::error::{ApiError, ApiErrorCode};

/// Decodes a file the window read and sent as base64 (standard alphabet),
/// refusing more than `max_bytes` before decoding. `what` names it in the
/// message ("image", "backup file").
pub(crate) fn decode_base64(text: &str, max_bytes: usize, what: &str) -> Result<Vec<u8>, ApiError> {
    let text = text.trim();
    if text.len() / 4 * 3 > max_bytes {
        return Err(ApiError::new(
            ApiErrorCode::InvalidInput,
            format!(
                "This {what} is too large (more than {} MB).",
                max_bytes.div_ceil(1024 * 1024)
            ),
        ));
    }
    STANDARD
        .decode(text)
        .map_err(|_| ApiError::new(ApiErrorCode::InvalidInput, format!("This {what} could not be read.")))
}

/// A file name from a display name: letters, digits, `-` and `_`; others
/// become `-`.
pub(crate) fn file_stem(display_name: &str) -> String {
    let stem: String = display_name
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    let stem = stem.trim_matches('-');
    if stem.is_empty() {
        "tallymesh".to_owned()
    } else {
        stem.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_come_from_a_name_and_never_leave_the_folder() {
        assert_eq!(file_stem("Ana María"), "Ana-María");
        assert_eq!(file_stem("../etc/passwd"), "etc-passwd");
        assert_eq!(file_stem("  "), "tallymesh");
    }

    #[test]
    fn files_decode_within_their_limit_and_are_refused_beyond_it() {
        assert_eq!(decode_base64(" aGVsbG8= ", 16, "image").unwrap(), b"hello");
        let error = decode_base64(&"A".repeat(40), 16, "image").unwrap_err();
        assert_eq!(error.code, ApiErrorCode::InvalidInput);
        assert_eq!(error.message, "This image is too large (more than 1 MB).");
        let error = decode_base64("not base64!", 16, "backup file").unwrap_err();
        assert_eq!(error.message, "This backup file could not be read.");
    }
}
