//! Tallymesh's protocols, free of I/O.
//!
//! Each protocol is a state machine: it takes a message or a tick carrying
//! the time, and returns messages to send, records to persist and events
//! to show. Nothing here opens a socket or a database, so the seeded
//! simulator can drive thousands of runs of many nodes in one process.
//!
//! Every protocol message travels inside an [`Envelope`], which carries the
//! protocol version and is size-checked before anything is decoded:
//!
//! ```
//! use tallymesh_protocol::{Envelope, Limits};
//! use tallymesh_core::ProtocolVersion;
//!
//! let sent = Envelope::new(ProtocolVersion(1), "ledger/vote", vec![1, 2, 3]);
//! let bytes = sent.encode();
//! let received = Envelope::decode(&bytes, &Limits::default(), &[ProtocolVersion(1)]).unwrap();
//! assert_eq!(received, sent);
//! ```

pub mod cadre;
pub mod chat;
pub mod contact;
mod envelope;
pub mod ledger;
pub mod negotiation;
#[cfg(feature = "sim")]
pub mod sim;

pub use envelope::{Envelope, EnvelopeError, Limits};
