//! The tally itself: the agreement both parties sign, revision by revision,
//! until both signatures cover the same bytes and it opens.

use crate::block::{Genesis, exact_keys, tally_id};
use crate::cbor::{self, Value};
use crate::record::{Fields, Record, RecordError, Signed};
use crate::tally_network::{Side, TallyId, TallyNetwork};
use crate::{Digest, PublicKey, Timestamp, Unit};

use super::terms::{Contract, Party};

/// The version of the tally encoding.
pub const TALLY_VERSION: u64 = 1;

/// The longest memo on a tally or chit, in bytes.
pub const MAX_MEMO_BYTES: usize = 1_000;

/// A credit agreement between two parties, as offered, countered and, once
/// both have signed the same revision, opened.
///
/// CBOR (map, exactly these keys, `contract` optional): 0 version (1),
/// 1 revision (from 1), 2 id bytes(16), 3 date (ms since the Unix epoch),
/// 4 memo text, 5 unit code text, 6 unit scale, 7 contract
/// `{0: title, 1: text hash}`, 8 stock side, 9 foil side; a side is
/// `{0: party key, 1: limit, 2: call days, 3: [node keys]}`;
/// 10 expires (ms): until when the partner may accept this revision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tally {
    /// Counts the changes since the first offer: any change makes a new
    /// revision, and a signature covers exactly one.
    pub revision: u64,
    /// The tally's id, a UUIDv7 chosen by the party that first offers it.
    pub id: TallyId,
    /// When this revision was made.
    pub date: Timestamp,
    /// A note both parties see.
    pub memo: String,
    /// Until when the partner may accept this revision (by its own clock).
    pub expires: Timestamp,
    /// What amounts count.
    pub unit: Unit,
    /// The contract the tally refers to, if any.
    pub contract: Option<Contract>,
    /// The expected creditor (vendor).
    pub stock: Party,
    /// The expected debtor (client).
    pub foil: Party,
}

impl Tally {
    /// One side's part.
    pub fn side(&self, side: Side) -> &Party {
        match side {
            Side::Stock => &self.stock,
            Side::Foil => &self.foil,
        }
    }

    /// The side `party` is on, if it is a party of the tally.
    pub fn side_of(&self, party: &PublicKey) -> Option<Side> {
        Side::BOTH.into_iter().find(|side| &self.side(*side).party == party)
    }

    /// The tally network the two parties named.
    pub fn network(&self) -> Result<TallyNetwork, RecordError> {
        TallyNetwork::new(self.stock.nodes.clone(), self.foil.nodes.clone())
            .map_err(|e| RecordError::Invalid(e.to_string()))
    }

    /// The terms that differ from `other`, by name, for a side-by-side view
    /// of a counter-offer.
    pub fn changes_from(&self, other: &Tally) -> Vec<&'static str> {
        let mut changed: Vec<&'static str> = [
            ("memo", self.memo != other.memo),
            ("unit", self.unit != other.unit),
            ("contract", self.contract != other.contract),
        ]
        .into_iter()
        .filter_map(|(name, differs)| differs.then_some(name))
        .collect();
        let names = [
            (Side::Stock, ["stock party", "stock limit", "stock call", "stock nodes"]),
            (Side::Foil, ["foil party", "foil limit", "foil call", "foil nodes"]),
        ];
        for (side, names) in names {
            let (a, b) = (self.side(side), other.side(side));
            let differs = [
                a.party != b.party,
                a.terms.limit != b.terms.limit,
                a.terms.call != b.terms.call,
                a.nodes != b.nodes,
            ];
            changed.extend(names.into_iter().zip(differs).filter_map(|(name, d)| d.then_some(name)));
        }
        changed
    }

    fn check(&self) -> Result<(), RecordError> {
        let invalid = |s: &str| Err(RecordError::Invalid(s.to_owned()));
        if self.revision == 0 {
            return invalid("a tally's revisions count from 1");
        }
        if self.expires < self.date {
            return invalid("an offer cannot expire before it is made");
        }
        if self.memo.len() > MAX_MEMO_BYTES {
            return Err(RecordError::Invalid(format!(
                "a memo has at most {MAX_MEMO_BYTES} bytes"
            )));
        }
        if self.stock.party == self.foil.party {
            return invalid("a tally needs two different parties");
        }
        self.network().map(|_| ())
    }
}

impl Record for Tally {
    const KIND: &'static str = "tally";

    fn to_value(&self) -> Value {
        let mut entries = vec![
            (Value::Uint(0), Value::Uint(TALLY_VERSION)),
            (Value::Uint(1), Value::Uint(self.revision)),
            (Value::Uint(2), Value::Bytes(self.id.0.to_vec())),
            (Value::Uint(3), Value::Uint(self.date.as_millis())),
            (Value::Uint(4), Value::Text(self.memo.clone())),
            (Value::Uint(5), Value::Text(self.unit.code().to_owned())),
            (Value::Uint(6), Value::Uint(u64::from(self.unit.scale()))),
            (Value::Uint(8), self.stock.to_value()),
            (Value::Uint(9), self.foil.to_value()),
            (Value::Uint(10), Value::Uint(self.expires.as_millis())),
        ];
        if let Some(contract) = &self.contract {
            entries.push((Value::Uint(7), contract.to_value()));
        }
        Value::map_of(entries)
    }

    fn from_value(value: &Value) -> Result<Self, RecordError> {
        let f = Fields::named("tally", value)?;
        f.version(&[TALLY_VERSION])?;
        exact_keys(value, 11, "tally")?;
        let scale = u8::try_from(f.uint(6)?).map_err(|_| RecordError::Invalid("a unit's scale is too large".into()))?;
        let unit = Unit::new(f.text(5)?, scale).map_err(|e| RecordError::Invalid(e.to_string()))?;
        let tally = Tally {
            revision: f.uint(1)?,
            id: tally_id(&f, 2)?,
            date: Timestamp::from_millis(f.uint(3)?),
            memo: f.text(4)?.to_owned(),
            unit,
            contract: f.optional(7).map(Contract::from_value).transpose()?,
            stock: Party::from_value(f.required(8)?)?,
            foil: Party::from_value(f.required(9)?)?,
            expires: Timestamp::from_millis(f.uint(10)?),
        };
        tally.check()?;
        Ok(tally)
    }
}

/// A tally both parties signed: the stock party's signature and the foil
/// party's over the same revision. It is block 0 of the tally's ledger.
///
/// Travels as the CBOR array `[stock's signed tally, foil's signed tally]`;
/// its hash is the SHA-256 of those bytes.
#[derive(Debug, Clone, PartialEq)]
pub struct OpenTally {
    stock: Signed<Tally>,
    foil: Signed<Tally>,
    bytes: Vec<u8>,
}

impl OpenTally {
    /// Joins the two parties' signatures, checking that each side signed
    /// with its own party key and that both signed the same revision.
    pub fn join(stock: Signed<Tally>, foil: Signed<Tally>) -> Result<OpenTally, RecordError> {
        if stock.record() != foil.record() {
            return Err(RecordError::Invalid(
                "the two signatures are over different revisions of the tally".into(),
            ));
        }
        let tally = stock.record();
        if stock.signer() != &tally.stock.party {
            return Err(RecordError::Invalid(
                "the stock side's signature is not the stock party's".into(),
            ));
        }
        if foil.signer() != &tally.foil.party {
            return Err(RecordError::Invalid(
                "the foil side's signature is not the foil party's".into(),
            ));
        }
        let bytes = cbor::encode(&Value::Array(vec![
            Value::Bytes(stock.bytes().to_vec()),
            Value::Bytes(foil.bytes().to_vec()),
        ]));
        Ok(OpenTally { stock, foil, bytes })
    }

    /// Reads and checks an open tally from untrusted bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<OpenTally, RecordError> {
        let Value::Array(parts) = cbor::decode(bytes)? else {
            return Err(RecordError::Shape("an open tally is an array".into()));
        };
        let [Value::Bytes(stock), Value::Bytes(foil)] = parts.as_slice() else {
            return Err(RecordError::Shape(
                "an open tally is [stock's signed tally, foil's signed tally]".into(),
            ));
        };
        OpenTally::join(Signed::from_bytes(stock)?, Signed::from_bytes(foil)?)
    }

    /// The agreed tally.
    pub fn tally(&self) -> &Tally {
        self.stock.record()
    }

    /// The stock party's signed revision.
    pub fn stock(&self) -> &Signed<Tally> {
        &self.stock
    }

    /// The foil party's signed revision.
    pub fn foil(&self) -> &Signed<Tally> {
        &self.foil
    }

    /// The bytes both signatures travel in.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The SHA-256 of [`OpenTally::bytes`]: block 1 chains to it.
    pub fn hash(&self) -> Digest {
        Digest::of(&self.bytes)
    }

    /// Block 0 of the tally's ledger.
    pub fn genesis(&self) -> Result<Genesis, RecordError> {
        let tally = self.tally();
        Ok(Genesis {
            tally: tally.id,
            hash: self.hash(),
            time: tally.date,
            network: tally.network()?,
        })
    }
}
