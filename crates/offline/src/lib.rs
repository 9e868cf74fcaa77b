//! Transports that work with no network at all.
//!
//! Today: QR codes — rendered to SVG for the screen, decoded from greyscale
//! frames such as an image file gives ([`qr`]), and found in a live webcam
//! stream ([`camera`], [`scan`], with a small [`preview`] for the window).
//! Contact cards, invites and (later) animated token exchanges all travel
//! this way.
//!
//! ```
//! use tallymesh_offline::qr;
//!
//! let payload = b"tallymesh:card?v=1";
//! let frame = qr::render_luma(payload, 4).unwrap();
//! let found = qr::decode_luma(&frame).unwrap();
//! assert_eq!(found, vec![payload.to_vec()]);
//! ```

pub mod camera;
pub mod preview;
pub mod qr;
pub mod scan;
