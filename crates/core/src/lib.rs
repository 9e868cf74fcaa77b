//! The vocabulary of Tallymesh as types, and the rules over them.
//!
//! `core` knows nothing of sockets, files or clocks: time is always a
//! parameter, so every function here is deterministic and can be
//! property-tested. Every other crate of ours stands on this one.
//!
//! ```
//! use tallymesh_core::{Unit, Units};
//!
//! let chip = Unit::chip();
//! let amount = chip.parse("12.5").unwrap();
//! assert_eq!(amount, Units::new(12_500));
//! assert_eq!(chip.format(amount), "12.500 CHIP");
//! ```

pub mod action_key;
pub mod block;
pub mod card;
pub mod cbor;
pub mod certificate;
pub mod device;
pub mod hash;
mod keys;
mod party;
pub mod record;
pub mod rules;
pub mod tally;
pub mod tally_network;
mod time;
pub mod trust;
mod units;
mod version;
pub mod vote;

pub use hash::Digest;
pub use keys::{KeyError, PublicKey, SecretKey, Signature};
pub use party::{PartyId, PartyIdError};
pub use time::Timestamp;
pub use units::{AmountError, Unit, UnitError, Units};
pub use version::{ProtocolVersion, VersionError};
