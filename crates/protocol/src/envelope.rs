//! The outer frame of every protocol message.

use serde::{Deserialize, Serialize};
use tallymesh_core::{ProtocolVersion, VersionError};
use thiserror::Error;

/// Bounds checked before a received frame is decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// The largest frame accepted, in bytes.
    pub max_frame_bytes: usize,
}

impl Default for Limits {
    /// 1 MiB: far above any block of chits, far below what could hurt a node.
    fn default() -> Self {
        Limits {
            max_frame_bytes: 1024 * 1024,
        }
    }
}

/// A versioned, typed frame around a protocol message's body.
///
/// The body stays as bytes: DESIGN §4 asks that signed records be verified
/// and stored exactly as received, never re-encoded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Envelope {
    /// The protocol version the sender speaks.
    #[serde(rename = "v")]
    pub version: ProtocolVersion,
    /// What the body is, e.g. `ledger/vote`.
    #[serde(rename = "k")]
    pub kind: String,
    /// The message itself.
    #[serde(rename = "b", with = "serde_bytes_compat")]
    pub body: Vec<u8>,
}

/// Why a received frame was refused. None of these panics or changes state.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum EnvelopeError {
    /// The frame is larger than the limit; it was not decoded.
    #[error("message of {size} bytes refused: the limit is {limit} bytes")]
    TooLarge {
        /// The frame's size.
        size: usize,
        /// The limit in force.
        limit: usize,
    },
    /// The bytes are not an envelope.
    #[error("malformed message: {0}")]
    Malformed(String),
    /// The envelope is well formed but speaks another version.
    #[error(transparent)]
    Version(#[from] VersionError),
}

impl Envelope {
    /// An envelope around `body`.
    pub fn new(version: ProtocolVersion, kind: &str, body: Vec<u8>) -> Self {
        Envelope {
            version,
            kind: kind.to_owned(),
            body,
        }
    }

    /// The CBOR bytes of this envelope.
    pub fn encode(&self) -> Vec<u8> {
        let mut bytes = Vec::with_capacity(self.body.len() + self.kind.len() + 16);
        // Writing CBOR into a Vec cannot fail: the only errors are the writer's.
        if ciborium::into_writer(self, &mut bytes).is_err() {
            bytes.clear();
        }
        bytes
    }

    /// Reads an envelope from untrusted bytes: size first, then structure,
    /// then version.
    pub fn decode(bytes: &[u8], limits: &Limits, supported: &[ProtocolVersion]) -> Result<Envelope, EnvelopeError> {
        if bytes.len() > limits.max_frame_bytes {
            return Err(EnvelopeError::TooLarge {
                size: bytes.len(),
                limit: limits.max_frame_bytes,
            });
        }
        let envelope: Envelope = ciborium::from_reader(bytes).map_err(|e| EnvelopeError::Malformed(e.to_string()))?;
        ProtocolVersion::check(envelope.version, supported)?;
        Ok(envelope)
    }
}

/// Serialises `Vec<u8>` as a CBOR byte string rather than an array of
/// integers, which is both smaller and what other implementations expect.
mod serde_bytes_compat {
    use serde::de::{Error, Visitor};
    use serde::{Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_bytes(bytes)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<u8>, D::Error> {
        struct BytesVisitor;
        impl<'de> Visitor<'de> for BytesVisitor {
            type Value = Vec<u8>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a byte string")
            }
            fn visit_bytes<E: Error>(self, v: &[u8]) -> Result<Vec<u8>, E> {
                Ok(v.to_vec())
            }
            fn visit_byte_buf<E: Error>(self, v: Vec<u8>) -> Result<Vec<u8>, E> {
                Ok(v)
            }
        }
        // Not `deserialize_bytes`: ciborium serves that only for byte
        // strings that fit its 4 KiB scratch buffer and refuses longer ones.
        deserializer.deserialize_byte_buf(BytesVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const V1: ProtocolVersion = ProtocolVersion(1);

    #[test]
    fn oversized_frame_is_refused_before_decoding() {
        let limits = Limits { max_frame_bytes: 8 };
        let err = Envelope::decode(&[0u8; 9], &limits, &[V1]).unwrap_err();
        assert_eq!(err, EnvelopeError::TooLarge { size: 9, limit: 8 });
    }

    #[test]
    fn unknown_version_is_refused_clearly() {
        let bytes = Envelope::new(ProtocolVersion(9), "ledger/vote", vec![]).encode();
        let err = Envelope::decode(&bytes, &Limits::default(), &[V1]).unwrap_err();
        assert_eq!(err.to_string(), "unsupported protocol version v9; this node speaks v1");
    }

    #[test]
    fn body_is_a_cbor_byte_string() {
        let bytes = Envelope::new(V1, "k", vec![0xAB]).encode();
        // 0x41 = byte string of length 1, followed by the byte itself.
        assert!(bytes.windows(2).any(|w| w == [0x41, 0xAB]));
    }

    #[test]
    fn bodies_larger_than_four_kibibytes_round_trip() {
        for size in [4_096, 4_097, 70_000, 900_000] {
            let sent = Envelope::new(V1, "ledger/blocks", vec![7; size]);
            assert_eq!(
                Envelope::decode(&sent.encode(), &Limits::default(), &[V1]),
                Ok(sent),
                "{size}"
            );
        }
    }

    proptest! {
        #[test]
        fn encode_then_decode_round_trips(kind in "[a-z/]{0,20}", body in proptest::collection::vec(any::<u8>(), 0..256)) {
            let sent = Envelope::new(V1, &kind, body);
            prop_assert_eq!(Envelope::decode(&sent.encode(), &Limits::default(), &[V1]), Ok(sent));
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = Envelope::decode(&bytes, &Limits::default(), &[V1]);
        }
    }
}
