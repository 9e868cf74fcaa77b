//! What each party agrees to in a tally: its terms, its nodes, and the
//! optional contract both sides refer to.

use crate::cbor::Value;
use crate::record::{Fields, RecordError};
use crate::{Digest, PublicKey, Units};

/// The most nodes one party may name for a tally's network.
pub const MAX_NODES: usize = crate::tally_network::MAX_NODES_PER_SIDE;

/// The longest contract title, in bytes.
pub const MAX_TITLE_BYTES: usize = 200;

/// The most days of notice a party may ask for before paying on demand
/// (ten years).
pub const MAX_CALL_DAYS: u32 = 3_650;

/// One side's terms: what it grants its partner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Terms {
    /// The most the partner may come to owe this side. Zero grants no credit.
    pub limit: Units,
    /// Days of notice this side gives before it must pay after a demand.
    pub call: u32,
}

/// The contract a tally refers to: its title and the SHA-256 of its text.
/// The text itself travels beside the tally; the hash binds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contract {
    /// A short title, shown with the tally.
    pub title: String,
    /// The SHA-256 of the contract's text.
    pub hash: Digest,
}

/// One party's part of a tally: who it is, what it grants, and where it
/// keeps the tally.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Party {
    /// The party's key (its [`PartyId`](crate::PartyId)).
    pub party: PublicKey,
    /// What this party grants the other.
    pub terms: Terms,
    /// The nodes this party names to keep the tally (device keys of its
    /// cadre); at least one.
    pub nodes: Vec<PublicKey>,
}

impl Terms {
    /// Checks the bounds every tally's terms keep.
    pub fn check(&self) -> Result<(), String> {
        if self.limit.parts() < 0 {
            return Err("a credit limit cannot be negative".into());
        }
        if self.call > MAX_CALL_DAYS {
            return Err(format!("a call of more than {MAX_CALL_DAYS} days is not allowed"));
        }
        Ok(())
    }
}

impl Contract {
    pub(crate) fn to_value(&self) -> Value {
        Value::map([
            (0, Value::Text(self.title.clone())),
            (1, Value::Bytes(self.hash.0.to_vec())),
        ])
    }

    pub(crate) fn from_value(value: &Value) -> Result<Contract, RecordError> {
        let f = Fields::named("contract", value)?;
        crate::block::exact_keys(value, 2, "contract")?;
        let title = f.text(0)?;
        if title.len() > MAX_TITLE_BYTES || title.trim().is_empty() {
            return Err(RecordError::Invalid(format!(
                "a contract title has 1 to {MAX_TITLE_BYTES} bytes"
            )));
        }
        Ok(Contract {
            title: title.to_owned(),
            hash: crate::block::digest(&f, 1)?,
        })
    }
}

impl Party {
    pub(crate) fn to_value(&self) -> Value {
        Value::map([
            (0, Value::Bytes(self.party.as_bytes().to_vec())),
            (1, Value::Uint(self.terms.limit.parts().unsigned_abs())),
            (2, Value::Uint(u64::from(self.terms.call))),
            (
                3,
                Value::Array(self.nodes.iter().map(|k| Value::Bytes(k.as_bytes().to_vec())).collect()),
            ),
        ])
    }

    pub(crate) fn from_value(value: &Value) -> Result<Party, RecordError> {
        let f = Fields::named("tally side", value)?;
        crate::block::exact_keys(value, 4, "tally side")?;
        let limit =
            i64::try_from(f.uint(1)?).map_err(|_| RecordError::Invalid("a credit limit is too large".into()))?;
        let call = u32::try_from(f.uint(2)?).unwrap_or(u32::MAX);
        let terms = Terms {
            limit: Units::new(limit),
            call,
        };
        terms.check().map_err(RecordError::Invalid)?;
        let items = f.array(3)?;
        if items.is_empty() || items.len() > MAX_NODES {
            return Err(RecordError::Invalid(format!("each party names 1 to {MAX_NODES} nodes")));
        }
        let nodes = items
            .iter()
            .map(|item| match item {
                Value::Bytes(b) => PublicKey::from_bytes(b).map_err(RecordError::from),
                _ => Err(RecordError::Shape("a node key is a byte string".into())),
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Party {
            party: f.key(0)?,
            terms,
            nodes,
        })
    }
}
