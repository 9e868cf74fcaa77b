//! Attestations: a party's signed statement of how far it trusts another.
//!
//! ```
//! use tallymesh_core::record::Signed;
//! use tallymesh_core::trust::{Attestation, AttestationKind};
//! use tallymesh_core::{PartyId, SecretKey, Timestamp};
//!
//! let alice = SecretKey::from_seed(&[1; 32]);
//! let bob = PartyId::new(SecretKey::from_seed(&[2; 32]).public());
//! let attestation = Attestation {
//!     attester: PartyId::new(alice.public()),
//!     subject: bob,
//!     kind: AttestationKind::Trade,
//!     score_milli: 800,
//!     issued_at: Timestamp::from_millis(1_000),
//!     expires_at: Timestamp::from_millis(2_000),
//! };
//! let signed = Signed::sign(attestation, &alice);
//! let received = Attestation::verify(signed.bytes(), Timestamp::from_millis(1_500)).unwrap();
//! assert_eq!(received.record().score(), 0.8);
//! assert!(Attestation::verify(signed.bytes(), Timestamp::from_millis(2_000)).is_err());
//! ```

use thiserror::Error;

use crate::cbor::Value;
use crate::record::{Fields, Record, RecordError, Signed};
use crate::{PartyId, Timestamp};

/// The version of the attestation encoding.
pub const ATTESTATION_VERSION: u64 = 1;

/// The most an attestation's issue time may lie ahead of the receiver's
/// clock (clocks of different machines disagree a little).
pub const MAX_CLOCK_AHEAD_MS: u64 = 5 * 60 * 1000;

/// The longest an attestation may be valid for: a year and a day.
pub const MAX_VALIDITY_MS: u64 = 366 * 24 * 60 * 60 * 1000;

/// What an attestation vouches for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AttestationKind {
    /// "I know who this is."
    Identity,
    /// "This party keeps its tallies: pays, honours invoices."
    Trade,
    /// "This party's nodes serve well: lifts, mailboxes, ledgers."
    Service,
    /// A kind of a later version, kept and counted as it is.
    Other(u64),
}

impl AttestationKind {
    /// The kind's code on the wire.
    pub fn code(self) -> u64 {
        match self {
            AttestationKind::Identity => 0,
            AttestationKind::Trade => 1,
            AttestationKind::Service => 2,
            AttestationKind::Other(code) => code,
        }
    }

    /// The kind with `code`.
    pub fn from_code(code: u64) -> AttestationKind {
        match code {
            0 => AttestationKind::Identity,
            1 => AttestationKind::Trade,
            2 => AttestationKind::Service,
            other => AttestationKind::Other(other),
        }
    }

    /// The kind's name, as the CLI and the UI write it.
    pub fn name(self) -> String {
        match self {
            AttestationKind::Identity => "identity".to_owned(),
            AttestationKind::Trade => "trade".to_owned(),
            AttestationKind::Service => "service".to_owned(),
            AttestationKind::Other(code) => format!("kind-{code}"),
        }
    }

    /// The kind named `name` (`identity`, `trade`, `service`).
    pub fn from_name(name: &str) -> Option<AttestationKind> {
        match name {
            "identity" => Some(AttestationKind::Identity),
            "trade" => Some(AttestationKind::Trade),
            "service" => Some(AttestationKind::Service),
            _ => None,
        }
    }
}

/// A signed statement: "I, attester, trust subject this much for this,
/// until then". Signed by the attester's party key as a
/// `trust-attestation` record.
///
/// CBOR (map): 0 version (1), 1 attester party key, 2 subject party key,
/// 3 kind (0 identity, 1 trade, 2 service), 4 score in thousandths
/// (0–1000), 5 issued at (ms), 6 expires at (ms). Readers of version 1
/// ignore keys they do not know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attestation {
    /// Who vouches.
    pub attester: PartyId,
    /// For whom.
    pub subject: PartyId,
    /// For what.
    pub kind: AttestationKind,
    /// How much, in thousandths: 0 (not at all) to 1000 (fully).
    pub score_milli: u16,
    /// When the attester signed it.
    pub issued_at: Timestamp,
    /// When it stops counting: refused at or after this moment.
    pub expires_at: Timestamp,
}

/// Why an attestation was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum AttestationError {
    /// Not a well-formed, correctly signed attestation record.
    #[error("the attestation does not read: {0}")]
    Record(#[from] RecordError),
    /// Signed by someone other than the attester it names.
    #[error("the attestation is not signed by the party it names as attester")]
    Forged,
    /// Expired at the time it was checked.
    #[error("the attestation expired")]
    Expired,
    /// Issued further in the future than clocks may disagree.
    #[error("the attestation is dated in the future")]
    FromTheFuture,
}

impl Attestation {
    /// The score as a number in `[0, 1]`.
    pub fn score(&self) -> f64 {
        f64::from(self.score_milli.min(1000)) / 1000.0
    }

    /// The score in `[0, 1]` as thousandths, rounded.
    pub fn milli_of(score: f64) -> u16 {
        // In [0, 1000] after clamping, so the cast is exact.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let milli = (super::score::clamp(score) * 1000.0).round() as u16;
        milli
    }

    /// Reads untrusted bytes and checks them at `now`: the record and its
    /// signature, signed by the attester it names, issued no later than
    /// [`MAX_CLOCK_AHEAD_MS`] from now, and not expired.
    pub fn verify(bytes: &[u8], now: Timestamp) -> Result<Signed<Attestation>, AttestationError> {
        let signed = Signed::<Attestation>::from_bytes(bytes)?;
        let record = signed.record();
        if signed.signer() != record.attester.key() {
            return Err(AttestationError::Forged);
        }
        if record.issued_at > now.plus_millis(MAX_CLOCK_AHEAD_MS) {
            return Err(AttestationError::FromTheFuture);
        }
        if record.expires_at <= now {
            return Err(AttestationError::Expired);
        }
        Ok(signed)
    }
}

impl Record for Attestation {
    const KIND: &'static str = "trust-attestation";

    fn to_value(&self) -> Value {
        Value::map([
            (0, Value::Uint(ATTESTATION_VERSION)),
            (1, Value::Bytes(self.attester.key().as_bytes().to_vec())),
            (2, Value::Bytes(self.subject.key().as_bytes().to_vec())),
            (3, Value::Uint(self.kind.code())),
            (4, Value::Uint(u64::from(self.score_milli))),
            (5, Value::Uint(self.issued_at.as_millis())),
            (6, Value::Uint(self.expires_at.as_millis())),
        ])
    }

    fn from_value(value: &Value) -> Result<Self, RecordError> {
        let f = Fields::named("attestation", value)?;
        f.version(&[ATTESTATION_VERSION])?;
        let attester = PartyId::new(f.key(1)?);
        let subject = PartyId::new(f.key(2)?);
        if attester == subject {
            return Err(RecordError::Invalid("a party cannot attest itself".into()));
        }
        let score_milli = u16::try_from(f.uint(4)?)
            .ok()
            .filter(|s| *s <= 1000)
            .ok_or_else(|| RecordError::Invalid("an attestation's score is 0 to 1000 thousandths".into()))?;
        let issued_at = Timestamp::from_millis(f.uint(5)?);
        let expires_at = Timestamp::from_millis(f.uint(6)?);
        if expires_at <= issued_at || expires_at.millis_since(issued_at) > MAX_VALIDITY_MS {
            return Err(RecordError::Invalid(
                "an attestation expires after it is issued, within a year and a day".into(),
            ));
        }
        Ok(Attestation {
            attester,
            subject,
            kind: AttestationKind::from_code(f.uint(3)?),
            score_milli,
            issued_at,
            expires_at,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SecretKey;
    use crate::cbor;
    use proptest::prelude::*;

    fn party(seed: u8) -> (SecretKey, PartyId) {
        let key = SecretKey::from_seed(&[seed; 32]);
        let id = PartyId::new(key.public());
        (key, id)
    }

    fn attestation(score_milli: u16) -> Attestation {
        Attestation {
            attester: party(1).1,
            subject: party(2).1,
            kind: AttestationKind::Trade,
            score_milli,
            issued_at: Timestamp::from_millis(10_000_000),
            expires_at: Timestamp::from_millis(20_000_000),
        }
    }

    #[test]
    fn an_attestation_signed_by_someone_else_is_refused_as_forged() {
        let mallory = SecretKey::from_seed(&[9; 32]);
        let forged = Signed::sign(attestation(900), &mallory);
        assert_eq!(
            Attestation::verify(forged.bytes(), Timestamp::from_millis(15_000_000)),
            Err(AttestationError::Forged)
        );
    }

    #[test]
    fn an_expired_or_future_attestation_is_refused() {
        let signed = Signed::sign(attestation(900), &party(1).0);
        assert!(Attestation::verify(signed.bytes(), Timestamp::from_millis(19_999_999)).is_ok());
        assert_eq!(
            Attestation::verify(signed.bytes(), Timestamp::from_millis(20_000_000)),
            Err(AttestationError::Expired)
        );
        let early = Timestamp::from_millis(10_000_000 - MAX_CLOCK_AHEAD_MS - 1);
        assert_eq!(
            Attestation::verify(signed.bytes(), early),
            Err(AttestationError::FromTheFuture)
        );
    }

    #[test]
    fn self_attestation_and_scores_over_a_thousand_are_refused() {
        let (key, alice) = party(1);
        let own = Attestation {
            subject: alice,
            ..attestation(500)
        };
        assert!(Attestation::verify(Signed::sign(own, &key).bytes(), Timestamp::from_millis(15_000_000)).is_err());
        let too_much = Signed::sign(attestation(1001), &key);
        assert!(Attestation::verify(too_much.bytes(), Timestamp::from_millis(15_000_000)).is_err());
    }

    #[test]
    fn unknown_kinds_and_fields_of_later_versions_are_kept_or_ignored() {
        let Value::Map(mut entries) = attestation(700).to_value() else {
            unreachable!()
        };
        entries.push((Value::Uint(30), Value::Text("later".into())));
        let mut value = Value::map_of(entries);
        if let Value::Map(entries) = &mut value {
            for (k, v) in entries.iter_mut() {
                if *k == Value::Uint(3) {
                    *v = Value::Uint(17);
                }
            }
        }
        let read = Attestation::from_value(&value).unwrap();
        assert_eq!(read.kind, AttestationKind::Other(17));
        assert_eq!(read.kind.name(), "kind-17");
    }

    #[test]
    fn kinds_read_back_by_name_and_code() {
        for kind in [
            AttestationKind::Identity,
            AttestationKind::Trade,
            AttestationKind::Service,
        ] {
            assert_eq!(AttestationKind::from_name(&kind.name()), Some(kind));
            assert_eq!(AttestationKind::from_code(kind.code()), kind);
        }
        assert_eq!(AttestationKind::from_name("friendship"), None);
    }

    proptest! {
        #[test]
        fn attestations_round_trip(score in 0u16..=1000, kind in 0u64..5, issued in 0u64..1u64 << 40, life in 1u64..MAX_VALIDITY_MS) {
            let (key, attester) = party(3);
            let record = Attestation {
                attester,
                subject: party(4).1,
                kind: AttestationKind::from_code(kind),
                score_milli: score,
                issued_at: Timestamp::from_millis(issued),
                expires_at: Timestamp::from_millis(issued + life),
            };
            let signed = Signed::sign(record.clone(), &key);
            let read = Attestation::verify(signed.bytes(), Timestamp::from_millis(issued)).unwrap();
            prop_assert_eq!(read.record(), &record);
            prop_assert_eq!(Attestation::milli_of(record.score()), score);
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = Attestation::verify(&bytes, Timestamp::EPOCH);
            let _ = cbor::decode(&bytes);
        }
    }
}
