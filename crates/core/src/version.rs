//! Protocol versions carried by every wire message.

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// The version of a Tallymesh wire protocol (ledger, chat, control, ...).
///
/// Every message carries one; a receiver that does not speak it refuses the
/// message with [`VersionError`] instead of guessing at its meaning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ProtocolVersion(pub u16);

impl ProtocolVersion {
    /// Accepts `received` when it is one of `supported`.
    pub fn check(received: ProtocolVersion, supported: &[ProtocolVersion]) -> Result<(), VersionError> {
        if supported.contains(&received) {
            Ok(())
        } else {
            Err(VersionError {
                received,
                supported: supported.to_vec(),
            })
        }
    }
}

impl std::fmt::Display for ProtocolVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "v{}", self.0)
    }
}

/// A message spoke a protocol version this node does not.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("unsupported protocol version {received}; this node speaks {}", list(.supported))]
pub struct VersionError {
    /// The version the message carried.
    pub received: ProtocolVersion,
    /// The versions this node accepts.
    pub supported: Vec<ProtocolVersion>,
}

fn list(versions: &[ProtocolVersion]) -> String {
    versions
        .iter()
        .map(ProtocolVersion::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_version_is_refused_with_a_message_naming_both_sides() {
        let err = ProtocolVersion::check(ProtocolVersion(7), &[ProtocolVersion(1), ProtocolVersion(2)]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "unsupported protocol version v7; this node speaks v1, v2"
        );
    }

    #[test]
    fn supported_version_is_accepted() {
        assert!(ProtocolVersion::check(ProtocolVersion(1), &[ProtocolVersion(1)]).is_ok());
    }
}
