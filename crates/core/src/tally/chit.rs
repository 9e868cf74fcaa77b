//! Chits: the signed entries that move value on a tally or change how it
//! runs.
//!
//! Every chit is one action of its author's party on the tally: it carries
//! the action's index, is signed with the action key the previous action
//! named, and names the key for the next ([`crate::action_key`]).

use crate::block::{digest, exact_keys, tally_id};
use crate::cbor::Value;
use crate::record::{Fields, Record, RecordError};
use crate::tally_network::{Side, TallyId};
use crate::{Digest, PublicKey, Timestamp, Units};

use super::agreement::MAX_MEMO_BYTES;
use super::terms::MAX_CALL_DAYS;
use super::variables::Rate;

/// The version of the chit encoding.
pub const CHIT_VERSION: u64 = 1;

/// A chit: one signed action of one party on one tally.
///
/// CBOR (map, exactly these keys): 0 version (1), 1 tally id bytes(16),
/// 2 author side (0 stock, 1 foil), 3 index of the action (from 0),
/// 4 next action key, 5 date (ms), 6 memo text, 7 body.
/// The body is a map whose key 0 names the kind:
///
/// | kind | keys |
/// |---|---|
/// | `transaction` | 1 units (> 0), 2 invoice id (optional, bytes(32)) |
/// | `invoice` | 1 units (> 0) |
/// | `decline` | 2 invoice id |
/// | `setting` | 1 target, 2 bound, 3 reward, 4 clutch (millionths, signed), 5 call days, 6 close (`true`); each optional, at least one |
/// | `lift` | reserved for lifts; refused by this version |
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chit {
    /// The tally.
    pub tally: TallyId,
    /// The side of the party that signed it.
    pub by: Side,
    /// Which action of its author's party this is on the tally, from 0.
    pub index: u64,
    /// The key that must sign the author's next action on the tally.
    pub next: PublicKey,
    /// When the author made it.
    pub date: Timestamp,
    /// A note both parties see.
    pub memo: String,
    /// What it does.
    pub body: ChitBody,
}

/// What a chit does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChitBody {
    /// A pledge of value by the author to its partner: `units` move the
    /// balance against the author. Pays an invoice when it names one.
    Transaction {
        /// How much, in the tally's smallest unit; positive.
        units: Units,
        /// The id of the partner's invoice this pays, if any.
        invoice: Option<Digest>,
    },
    /// A request by the author that its partner pay it `units`.
    Invoice {
        /// How much is asked; positive.
        units: Units,
    },
    /// The author declines its partner's invoice.
    Decline {
        /// The id of the invoice.
        invoice: Digest,
    },
    /// The author changes its own side's trading variables or call, or asks
    /// to close the tally.
    Setting(Setting),
}

/// A setting chit's changes; what is `None` stays as it was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Setting {
    /// The balance the author wants to reach through lifts.
    pub target: Option<Units>,
    /// The most the author accepts through lifts.
    pub bound: Option<Units>,
    /// The author's fee for lifting beyond the target.
    pub reward: Option<Rate>,
    /// The author's fee for reverse lifts.
    pub clutch: Option<Rate>,
    /// Days of notice the author gives before paying on demand.
    pub call: Option<u32>,
    /// Close the tally once its balance is zero.
    pub close: bool,
}

impl Setting {
    fn is_empty(&self) -> bool {
        *self == Setting::default()
    }
}

impl ChitBody {
    /// The kind's name on the wire.
    pub fn kind(&self) -> &'static str {
        match self {
            ChitBody::Transaction { .. } => "transaction",
            ChitBody::Invoice { .. } => "invoice",
            ChitBody::Decline { .. } => "decline",
            ChitBody::Setting(_) => "setting",
        }
    }

    fn to_value(&self) -> Value {
        let mut entries = vec![(Value::Uint(0), Value::Text(self.kind().to_owned()))];
        let units = |u: Units| Value::Uint(u.parts().unsigned_abs());
        let id = |d: &Digest| Value::Bytes(d.0.to_vec());
        match self {
            ChitBody::Transaction { units: u, invoice } => {
                entries.push((Value::Uint(1), units(*u)));
                if let Some(invoice) = invoice {
                    entries.push((Value::Uint(2), id(invoice)));
                }
            }
            ChitBody::Invoice { units: u } => entries.push((Value::Uint(1), units(*u))),
            ChitBody::Decline { invoice } => entries.push((Value::Uint(2), id(invoice))),
            ChitBody::Setting(s) => {
                let optional = [
                    (1, s.target.map(units)),
                    (2, s.bound.map(units)),
                    (3, s.reward.map(rate_value)),
                    (4, s.clutch.map(rate_value)),
                    (5, s.call.map(|c| Value::Uint(u64::from(c)))),
                    (6, s.close.then_some(Value::Bool(true))),
                ];
                entries.extend(optional.into_iter().filter_map(|(k, v)| v.map(|v| (Value::Uint(k), v))));
            }
        }
        Value::map_of(entries)
    }

    fn from_value(value: &Value) -> Result<ChitBody, RecordError> {
        let f = Fields::named("chit body", value)?;
        let allowed = |keys: &[u64]| match value {
            Value::Map(entries)
                if entries
                    .iter()
                    .all(|(k, _)| matches!(k, Value::Uint(n) if keys.contains(n))) =>
            {
                Ok(())
            }
            _ => Err(RecordError::Invalid(format!(
                "a {} chit has unknown fields",
                f.text(0).unwrap_or("")
            ))),
        };
        let units = |field| -> Result<Units, RecordError> {
            let parts =
                i64::try_from(f.uint(field)?).map_err(|_| RecordError::Invalid("an amount is too large".into()))?;
            Ok(Units::new(parts))
        };
        let positive = |field| -> Result<Units, RecordError> {
            let amount = units(field)?;
            if amount.is_positive() {
                Ok(amount)
            } else {
                Err(RecordError::Invalid("an amount must be more than zero".into()))
            }
        };
        match f.text(0)? {
            "transaction" => {
                allowed(&[0, 1, 2])?;
                Ok(ChitBody::Transaction {
                    units: positive(1)?,
                    invoice: f.optional(2).map(|_| digest(&f, 2)).transpose()?,
                })
            }
            "invoice" => {
                allowed(&[0, 1])?;
                Ok(ChitBody::Invoice { units: positive(1)? })
            }
            "decline" => {
                allowed(&[0, 2])?;
                Ok(ChitBody::Decline {
                    invoice: digest(&f, 2)?,
                })
            }
            "setting" => {
                allowed(&[0, 1, 2, 3, 4, 5, 6])?;
                let rate = |field| f.optional(field).map(|v| rate_from(v, field)).transpose();
                let call = f
                    .opt_uint(5)?
                    .map(|days| {
                        u32::try_from(days)
                            .ok()
                            .filter(|d| *d <= MAX_CALL_DAYS)
                            .ok_or_else(|| RecordError::Invalid(format!("a call has at most {MAX_CALL_DAYS} days")))
                    })
                    .transpose()?;
                let close = match f.optional(6) {
                    None => false,
                    Some(Value::Bool(true)) => true,
                    Some(_) => return Err(RecordError::Invalid("close is written only as true".into())),
                };
                let setting = Setting {
                    target: f.optional(1).map(|_| units(1)).transpose()?,
                    bound: f.optional(2).map(|_| units(2)).transpose()?,
                    reward: rate(3)?,
                    clutch: rate(4)?,
                    call,
                    close,
                };
                if setting.is_empty() {
                    return Err(RecordError::Invalid("a setting chit changes at least one thing".into()));
                }
                Ok(ChitBody::Setting(setting))
            }
            "lift" => Err(RecordError::Invalid(
                "lift chits are not supported by this version of Tallymesh".into(),
            )),
            other => Err(RecordError::Invalid(format!(
                "unknown chit kind {:?}",
                other.chars().take(20).collect::<String>()
            ))),
        }
    }
}

fn rate_value(rate: Rate) -> Value {
    let n = i64::from(rate.millionths());
    if n >= 0 {
        Value::Uint(n.unsigned_abs())
    } else {
        Value::Nint((-1 - n).unsigned_abs())
    }
}

fn rate_from(value: &Value, field: u64) -> Result<Rate, RecordError> {
    let n = match value {
        Value::Uint(n) => i64::try_from(*n).ok(),
        Value::Nint(n) => i64::try_from(*n).ok().map(|n| -1 - n),
        _ => None,
    };
    n.and_then(|n| i32::try_from(n).ok())
        .map(Rate::new)
        .filter(|r| r.is_fraction())
        .ok_or(RecordError::Field {
            kind: "chit body",
            field,
            problem: "not a fraction in millionths between -1 and 1",
        })
}

fn side_value(side: Side) -> Value {
    Value::Uint(match side {
        Side::Stock => 0,
        Side::Foil => 1,
    })
}

impl Record for Chit {
    const KIND: &'static str = "chit";

    fn to_value(&self) -> Value {
        Value::map([
            (0, Value::Uint(CHIT_VERSION)),
            (1, Value::Bytes(self.tally.0.to_vec())),
            (2, side_value(self.by)),
            (3, Value::Uint(self.index)),
            (4, Value::Bytes(self.next.as_bytes().to_vec())),
            (5, Value::Uint(self.date.as_millis())),
            (6, Value::Text(self.memo.clone())),
            (7, self.body.to_value()),
        ])
    }

    fn from_value(value: &Value) -> Result<Self, RecordError> {
        let f = Fields::named("chit", value)?;
        f.version(&[CHIT_VERSION])?;
        exact_keys(value, 8, "chit")?;
        let by = match f.uint(2)? {
            0 => Side::Stock,
            1 => Side::Foil,
            _ => return Err(RecordError::Invalid("a chit's side is 0 (stock) or 1 (foil)".into())),
        };
        let memo = f.text(6)?;
        if memo.len() > MAX_MEMO_BYTES {
            return Err(RecordError::Invalid(format!(
                "a memo has at most {MAX_MEMO_BYTES} bytes"
            )));
        }
        Ok(Chit {
            tally: tally_id(&f, 1)?,
            by,
            index: f.uint(3)?,
            next: f.key(4)?,
            date: Timestamp::from_millis(f.uint(5)?),
            memo: memo.to_owned(),
            body: ChitBody::from_value(f.required(7)?)?,
        })
    }
}
