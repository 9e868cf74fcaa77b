//! Signed records: the one shape every signed thing travels in.
//!
//! On the wire a signed record is the deterministic CBOR array
//! `[kind, body, signer, signature]`: the record's kind as text, the
//! record's own deterministic CBOR as a byte string, the signer's 32-byte
//! Ed25519 key, and the 64-byte signature over the domain-tagged body.
//! Its id is the SHA-256 of those bytes. A receiver checks the signature
//! over the body bytes exactly as received, then decodes them; the record
//! is stored as received and never re-encoded.
//!
//! ```
//! use tallymesh_core::record::{Record, RecordError, Signed, Fields};
//! use tallymesh_core::{cbor::Value, SecretKey};
//!
//! #[derive(Debug, Clone, PartialEq)]
//! struct Note(String);
//!
//! impl Record for Note {
//!     const KIND: &'static str = "note";
//!     fn to_value(&self) -> Value { Value::map([(0, Value::Text(self.0.clone()))]) }
//!     fn from_value(value: &Value) -> Result<Self, RecordError> {
//!         Ok(Note(Fields::of(value)?.text(0)?.to_owned()))
//!     }
//! }
//!
//! let key = SecretKey::from_seed(&[1; 32]);
//! let signed = Signed::sign(Note("hello".into()), &key);
//! let received = Signed::<Note>::from_bytes(signed.bytes()).unwrap();
//! assert_eq!(received.record(), &Note("hello".into()));
//! assert_eq!(received.signer(), &key.public());
//! ```

use thiserror::Error;

use crate::cbor::{self, CborError, Value};
use crate::{Digest, KeyError, PublicKey, SecretKey, Signature};

/// The largest signed record accepted, in bytes: far above any card or
/// certificate, small enough to refuse floods cheaply.
pub const MAX_RECORD_BYTES: usize = 64 * 1024;

/// A kind of record that can be signed.
pub trait Record: Sized {
    /// The kind's name, used in the domain tag: `tallymesh/v1/<KIND>`.
    const KIND: &'static str;

    /// The record as a CBOR value (encoded deterministically for signing).
    fn to_value(&self) -> Value;

    /// The record from a decoded CBOR value, checking every field.
    fn from_value(value: &Value) -> Result<Self, RecordError>;
}

/// Why a signed record was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RecordError {
    /// Larger than [`MAX_RECORD_BYTES`].
    #[error("record of {0} bytes is over the limit of {MAX_RECORD_BYTES}")]
    TooLarge(usize),
    /// Not deterministic CBOR.
    #[error("malformed record: {0}")]
    Cbor(#[from] CborError),
    /// Not a signed record's shape.
    #[error("malformed record: {0}")]
    Shape(String),
    /// A signed record of another kind.
    #[error("expected a {expected} record, found a {found} record")]
    WrongKind {
        /// The kind asked for.
        expected: &'static str,
        /// The kind received.
        found: String,
    },
    /// A bad key or signature.
    #[error("{0}")]
    Key(#[from] KeyError),
    /// A field is missing or has the wrong type.
    #[error("field {field} of the {kind} record: {problem}")]
    Field {
        /// The record kind (or the part of it) being read.
        kind: &'static str,
        /// The field's key.
        field: u64,
        /// What is wrong with it.
        problem: &'static str,
    },
    /// The record's content breaks a rule of its kind.
    #[error("{0}")]
    Invalid(String),
}

/// A record with its signature, as received or as made.
#[derive(Debug, Clone, PartialEq)]
pub struct Signed<T> {
    bytes: Vec<u8>,
    record: T,
    signer: PublicKey,
    signature: Signature,
}

impl<T: Record> Signed<T> {
    /// Signs `record` with `key`.
    pub fn sign(record: T, key: &SecretKey) -> Signed<T> {
        let body = cbor::encode(&record.to_value());
        let signature = key.sign(T::KIND, &body);
        let signer = key.public();
        let bytes = cbor::encode(&Value::Array(vec![
            Value::Text(T::KIND.to_owned()),
            Value::Bytes(body),
            Value::Bytes(signer.as_bytes().to_vec()),
            Value::Bytes(signature.as_bytes().to_vec()),
        ]));
        Signed {
            bytes,
            record,
            signer,
            signature,
        }
    }

    /// Reads and verifies a signed record from untrusted bytes: size,
    /// shape, kind, signature over the body as received, then the body.
    pub fn from_bytes(bytes: &[u8]) -> Result<Signed<T>, RecordError> {
        if bytes.len() > MAX_RECORD_BYTES {
            return Err(RecordError::TooLarge(bytes.len()));
        }
        let shape = |what: &str| RecordError::Shape(what.to_owned());
        let Value::Array(parts) = cbor::decode(bytes)? else {
            return Err(shape("not an array"));
        };
        let [
            Value::Text(kind),
            Value::Bytes(body),
            Value::Bytes(signer),
            Value::Bytes(signature),
        ] = parts.as_slice()
        else {
            return Err(shape("expected [kind, body, signer, signature]"));
        };
        if kind != T::KIND {
            return Err(RecordError::WrongKind {
                expected: T::KIND,
                found: kind.chars().take(40).collect(),
            });
        }
        let signer = PublicKey::from_bytes(signer)?;
        let signature = Signature::from_bytes(signature)?;
        signer.verify(T::KIND, body, &signature)?;
        let record = T::from_value(&cbor::decode(body)?)?;
        Ok(Signed {
            bytes: bytes.to_vec(),
            record,
            signer,
            signature,
        })
    }

    /// The signed bytes, exactly as made or received.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The record.
    pub fn record(&self) -> &T {
        &self.record
    }

    /// The key that signed it.
    pub fn signer(&self) -> &PublicKey {
        &self.signer
    }

    /// The signature.
    pub fn signature(&self) -> &Signature {
        &self.signature
    }

    /// The record's id: the SHA-256 of its signed bytes.
    pub fn id(&self) -> Digest {
        Digest::of(&self.bytes)
    }
}

/// Typed access to the integer-keyed fields of a record's map, with errors
/// that name the field.
#[derive(Debug, Clone, Copy)]
pub struct Fields<'a> {
    kind: &'static str,
    value: &'a Value,
}

impl<'a> Fields<'a> {
    /// The fields of `value`, which must be a map.
    pub fn of(value: &'a Value) -> Result<Fields<'a>, RecordError> {
        Fields::named("record", value)
    }

    /// The fields of `value`, a map, naming `kind` in errors.
    pub fn named(kind: &'static str, value: &'a Value) -> Result<Fields<'a>, RecordError> {
        match value {
            Value::Map(_) => Ok(Fields { kind, value }),
            _ => Err(RecordError::Shape(format!("a {kind} is a map"))),
        }
    }

    fn problem(&self, field: u64, problem: &'static str) -> RecordError {
        RecordError::Field {
            kind: self.kind,
            field,
            problem,
        }
    }

    /// The raw value of a field, if present.
    pub fn optional(&self, field: u64) -> Option<&'a Value> {
        self.value.get(field)
    }

    /// The raw value of a field that must be present.
    pub fn required(&self, field: u64) -> Result<&'a Value, RecordError> {
        self.optional(field).ok_or_else(|| self.problem(field, "missing"))
    }

    /// An unsigned integer field.
    pub fn uint(&self, field: u64) -> Result<u64, RecordError> {
        match self.required(field)? {
            Value::Uint(n) => Ok(*n),
            _ => Err(self.problem(field, "not an unsigned integer")),
        }
    }

    /// An optional unsigned integer field.
    pub fn opt_uint(&self, field: u64) -> Result<Option<u64>, RecordError> {
        self.optional(field).map(|_| self.uint(field)).transpose()
    }

    /// A text field.
    pub fn text(&self, field: u64) -> Result<&'a str, RecordError> {
        match self.required(field)? {
            Value::Text(t) => Ok(t),
            _ => Err(self.problem(field, "not text")),
        }
    }

    /// A byte-string field.
    pub fn bytes(&self, field: u64) -> Result<&'a [u8], RecordError> {
        match self.required(field)? {
            Value::Bytes(b) => Ok(b),
            _ => Err(self.problem(field, "not a byte string")),
        }
    }

    /// An optional byte-string field.
    pub fn opt_bytes(&self, field: u64) -> Result<Option<&'a [u8]>, RecordError> {
        self.optional(field).map(|_| self.bytes(field)).transpose()
    }

    /// A boolean field.
    pub fn bool(&self, field: u64) -> Result<bool, RecordError> {
        match self.required(field)? {
            Value::Bool(b) => Ok(*b),
            _ => Err(self.problem(field, "not a boolean")),
        }
    }

    /// An array field.
    pub fn array(&self, field: u64) -> Result<&'a [Value], RecordError> {
        match self.required(field)? {
            Value::Array(items) => Ok(items),
            _ => Err(self.problem(field, "not an array")),
        }
    }

    /// A public-key field.
    pub fn key(&self, field: u64) -> Result<PublicKey, RecordError> {
        PublicKey::from_bytes(self.bytes(field)?).map_err(|_| self.problem(field, "not a valid public key"))
    }

    /// The record version in field 0, which must be one of `supported`.
    pub fn version(&self, supported: &[u64]) -> Result<u64, RecordError> {
        let version = self.uint(0)?;
        if supported.contains(&version) {
            Ok(version)
        } else {
            Err(RecordError::Invalid(format!(
                "{} version {version} is not supported by this version of Tallymesh",
                self.kind
            )))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[derive(Debug, Clone, PartialEq)]
    struct Note(String);

    impl Record for Note {
        const KIND: &'static str = "note";
        fn to_value(&self) -> Value {
            Value::map([(0, Value::Text(self.0.clone()))])
        }
        fn from_value(value: &Value) -> Result<Self, RecordError> {
            Ok(Note(Fields::of(value)?.text(0)?.to_owned()))
        }
    }

    #[derive(Debug, Clone, PartialEq)]
    struct Memo(String);

    impl Record for Memo {
        const KIND: &'static str = "memo";
        fn to_value(&self) -> Value {
            Value::map([(0, Value::Text(self.0.clone()))])
        }
        fn from_value(value: &Value) -> Result<Self, RecordError> {
            Ok(Memo(Fields::of(value)?.text(0)?.to_owned()))
        }
    }

    #[test]
    fn a_record_of_one_kind_never_verifies_as_another_even_relabelled() {
        let key = SecretKey::from_seed(&[3; 32]);
        let note = Signed::sign(Note("pay 5".into()), &key);
        assert!(matches!(
            Signed::<Memo>::from_bytes(note.bytes()),
            Err(RecordError::WrongKind { expected: "memo", .. })
        ));
        // Same body and signature, outer kind rewritten to "memo".
        let Value::Array(mut parts) = cbor::decode(note.bytes()).unwrap() else {
            unreachable!()
        };
        parts[0] = Value::Text("memo".into());
        let relabelled = cbor::encode(&Value::Array(parts));
        assert_eq!(
            Signed::<Memo>::from_bytes(&relabelled),
            Err(RecordError::Key(KeyError::BadSignature))
        );
    }

    #[test]
    fn oversized_records_are_refused_before_decoding() {
        let huge = vec![0u8; MAX_RECORD_BYTES + 1];
        assert_eq!(
            Signed::<Note>::from_bytes(&huge),
            Err(RecordError::TooLarge(MAX_RECORD_BYTES + 1))
        );
    }

    #[test]
    fn the_id_is_the_hash_of_the_signed_bytes() {
        let signed = Signed::sign(Note("x".into()), &SecretKey::from_seed(&[4; 32]));
        assert_eq!(signed.id(), Digest::of(signed.bytes()));
    }

    proptest! {
        #[test]
        fn signed_records_round_trip(text in ".{0,64}", seed in any::<[u8; 32]>()) {
            let key = SecretKey::from_seed(&seed);
            let signed = Signed::sign(Note(text), &key);
            prop_assert_eq!(Signed::<Note>::from_bytes(signed.bytes()), Ok(signed));
        }

        #[test]
        fn any_flipped_byte_is_refused(text in ".{0,64}", seed in any::<[u8; 32]>(), at in any::<prop::sample::Index>(), bit in 0u8..8) {
            let signed = Signed::sign(Note(text), &SecretKey::from_seed(&seed));
            let mut bytes = signed.bytes().to_vec();
            let i = at.index(bytes.len());
            bytes[i] ^= 1 << bit;
            prop_assert!(Signed::<Note>::from_bytes(&bytes).is_err());
        }
    }
}
