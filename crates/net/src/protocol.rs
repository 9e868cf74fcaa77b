//! Names and size limits of the node's request-response protocols.
//!
//! ```
//! use tallymesh_net::{ProtocolName, RequestProtocol};
//!
//! let ledger = ProtocolName::new("ledger").unwrap();
//! assert_eq!(ledger.as_str(), "/tallymesh/ledger/1");
//! let protocol = RequestProtocol::new(ledger).with_limits(16 * 1024, 256 * 1024);
//! assert_eq!(protocol.max_response_bytes, 256 * 1024);
//! ```
//!
//! The net crate does not know what the node sends on a protocol; it only
//! knows the protocol's name and how large a request and a response may be.

use std::fmt;

use libp2p::StreamProtocol;
use thiserror::Error;

/// The longest short name a protocol may have.
const MAX_NAME_LEN: usize = 32;

/// Short names that other protocols of ours already use on the wire.
const RESERVED_NAMES: [&str; 3] = ["id", "kad", "gossip"];

/// Why a protocol name was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ProtocolNameError {
    /// The short name is empty or longer than 32 characters.
    #[error("a protocol name has 1 to {MAX_NAME_LEN} characters, not {0}")]
    Length(usize),
    /// The short name has a character outside `a-z`, `0-9` and `-`, or does
    /// not start with a letter.
    #[error("a protocol name starts with a-z and has only a-z, 0-9 and '-': {0:?}")]
    Characters(String),
    /// The short name belongs to a protocol the swarm itself runs.
    #[error("the protocol name {0:?} is used by the swarm itself")]
    Reserved(String),
    /// Versions start at 1.
    #[error("protocol versions start at 1")]
    VersionZero,
}

/// The wire name of one of our request-response protocols:
/// `/tallymesh/<name>/<version>`.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ProtocolName(StreamProtocol);

impl ProtocolName {
    /// The name `/tallymesh/<name>/1`.
    pub fn new(name: &str) -> Result<Self, ProtocolNameError> {
        Self::with_version(name, 1)
    }

    /// The name `/tallymesh/<name>/<version>`; a new version is a new
    /// protocol that peers negotiate separately.
    pub fn with_version(name: &str, version: u32) -> Result<Self, ProtocolNameError> {
        if name.is_empty() || name.len() > MAX_NAME_LEN {
            return Err(ProtocolNameError::Length(name.len()));
        }
        let starts_with_letter = name.starts_with(|c: char| c.is_ascii_lowercase());
        let allowed = name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !starts_with_letter || !allowed {
            return Err(ProtocolNameError::Characters(name.to_owned()));
        }
        if RESERVED_NAMES.contains(&name) {
            return Err(ProtocolNameError::Reserved(name.to_owned()));
        }
        if version == 0 {
            return Err(ProtocolNameError::VersionZero);
        }
        let full = format!("/tallymesh/{name}/{version}");
        // The checks above leave only names StreamProtocol accepts (they
        // start with '/'); the error arm keeps that promise honest.
        StreamProtocol::try_from_owned(full)
            .map(ProtocolName)
            .map_err(|_| ProtocolNameError::Characters(name.to_owned()))
    }

    /// The full wire name, e.g. `/tallymesh/ledger/1`.
    pub fn as_str(&self) -> &str {
        self.0.as_ref()
    }

    pub(crate) fn stream_protocol(&self) -> StreamProtocol {
        self.0.clone()
    }
}

impl fmt::Display for ProtocolName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for ProtocolName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ProtocolName({})", self.as_str())
    }
}

/// One request-response protocol the node serves and uses, with its limits.
///
/// A request or response larger than its limit is refused by the reader
/// after the length header, before anything is allocated for it; the sender
/// is reported as misbehaving.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestProtocol {
    /// The protocol's wire name.
    pub name: ProtocolName,
    /// The largest request payload accepted or sent, in bytes.
    pub max_request_bytes: usize,
    /// The largest response payload accepted or sent, in bytes.
    pub max_response_bytes: usize,
}

impl RequestProtocol {
    /// Default limit of a request: 64 KiB.
    pub const DEFAULT_MAX_REQUEST_BYTES: usize = 64 * 1024;
    /// Default limit of a response: 1 MiB.
    pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 1024 * 1024;

    /// The protocol with the default limits.
    pub fn new(name: ProtocolName) -> Self {
        RequestProtocol {
            name,
            max_request_bytes: Self::DEFAULT_MAX_REQUEST_BYTES,
            max_response_bytes: Self::DEFAULT_MAX_RESPONSE_BYTES,
        }
    }

    /// The same protocol with other limits.
    pub fn with_limits(mut self, max_request_bytes: usize, max_response_bytes: usize) -> Self {
        self.max_request_bytes = max_request_bytes;
        self.max_response_bytes = max_response_bytes;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_versioned_under_tallymesh() {
        assert_eq!(ProtocolName::new("chat").unwrap().as_str(), "/tallymesh/chat/1");
        assert_eq!(
            ProtocolName::with_version("lift-query", 2).unwrap().as_str(),
            "/tallymesh/lift-query/2"
        );
    }

    #[test]
    fn bad_names_are_refused_with_the_reason() {
        assert_eq!(ProtocolName::new(""), Err(ProtocolNameError::Length(0)));
        assert_eq!(ProtocolName::new(&"a".repeat(33)), Err(ProtocolNameError::Length(33)));
        assert!(matches!(
            ProtocolName::new("Ledger"),
            Err(ProtocolNameError::Characters(_))
        ));
        assert!(matches!(
            ProtocolName::new("a/b"),
            Err(ProtocolNameError::Characters(_))
        ));
        assert!(matches!(ProtocolName::new("1x"), Err(ProtocolNameError::Characters(_))));
        assert_eq!(ProtocolName::new("kad"), Err(ProtocolNameError::Reserved("kad".into())));
        assert_eq!(
            ProtocolName::with_version("ledger", 0),
            Err(ProtocolNameError::VersionZero)
        );
    }
}
