//! A party's signed "no" to a revision of a tally: the partner refusing an
//! offer, or the offerer withdrawing it.

use crate::Digest;
use crate::block::{digest, exact_keys, tally_id};
use crate::cbor::Value;
use crate::record::{Fields, Record, RecordError};
use crate::tally_network::TallyId;

/// The version of the refusal encoding.
pub const REFUSAL_VERSION: u64 = 1;

/// The longest reason a refusal carries, in bytes.
pub const MAX_REASON_BYTES: usize = 500;

/// A refusal of one revision of a tally, signed by a party key.
///
/// CBOR (map, exactly these keys): 0 version (1), 1 tally id bytes(16),
/// 2 revision, 3 reason text (≤ 500 bytes, may be empty), 4 the refused
/// offer's id (the SHA-256 of its signed bytes: two offers may share a
/// revision number, an id names one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The tally.
    pub tally: TallyId,
    /// The revision refused.
    pub revision: u64,
    /// Why, in the refusing party's words.
    pub reason: String,
    /// The id of the signed offer refused.
    pub offer: Digest,
}

impl Record for Refusal {
    const KIND: &'static str = "tally-refusal";

    fn to_value(&self) -> Value {
        Value::map([
            (0, Value::Uint(REFUSAL_VERSION)),
            (1, Value::Bytes(self.tally.0.to_vec())),
            (2, Value::Uint(self.revision)),
            (3, Value::Text(self.reason.clone())),
            (4, Value::Bytes(self.offer.0.to_vec())),
        ])
    }

    fn from_value(value: &Value) -> Result<Self, RecordError> {
        let f = Fields::named("tally refusal", value)?;
        f.version(&[REFUSAL_VERSION])?;
        exact_keys(value, 5, "tally refusal")?;
        let reason = f.text(3)?;
        if reason.len() > MAX_REASON_BYTES {
            return Err(RecordError::Invalid(format!(
                "a refusal's reason has at most {MAX_REASON_BYTES} bytes"
            )));
        }
        Ok(Refusal {
            tally: tally_id(&f, 1)?,
            revision: f.uint(2)?,
            reason: reason.to_owned(),
            offer: digest(&f, 4)?,
        })
    }
}
