//! What the node keeps of a served tally's block 0, so that its ledger
//! machine can be rebuilt after a restart.
//!
//! [`Store::ledger_serve`](tallymesh_store::Store::ledger_serve) keeps one
//! byte string per served tally, compared byte for byte when the tally is
//! served again. The node writes there a **genesis record**: a
//! deterministic CBOR map with exactly these keys:
//!
//! | key | field | type |
//! |---|---|---|
//! | 0 | version | `1` |
//! | 1 | tally id | bytes(16) |
//! | 2 | hash of the signed tally (block 1's `previous`) | bytes(32) |
//! | 3 | time the tally was opened | uint, ms since the Unix epoch |
//! | 4 | initial tally network | the tally network map (`docs/protocol/ledger.md` §1) |
//! | 5 | the rules' state at the genesis | bytes, as [`LedgerRules::encode_state`] wrote them |
//!
//! The same genesis and state always give the same bytes, so serving a
//! tally twice is recognised as the same tally, and a different genesis
//! under the same id is refused by the store.
//!
//! ```
//! use tallymesh_core::block::Genesis;
//! use tallymesh_core::tally_network::{TallyId, TallyNetwork};
//! use tallymesh_core::{Digest, SecretKey, Timestamp};
//! use tallymesh_node::ledger::GenesisRecord;
//!
//! let key = |n: u8| SecretKey::from_seed(&[n; 32]).public();
//! let genesis = Genesis {
//!     tally: TallyId([7; 16]),
//!     hash: Digest([1; 32]),
//!     time: Timestamp::from_millis(1_700_000_000_000),
//!     network: TallyNetwork::new(vec![key(1)], vec![key(2)]).unwrap(),
//! };
//! let record = GenesisRecord { genesis, state: b"rules state".to_vec() };
//! let bytes = record.encode();
//! assert_eq!(GenesisRecord::decode(&bytes).unwrap(), record);
//! ```

use tallymesh_core::block::Genesis;
use tallymesh_core::cbor::{self, Value};
use tallymesh_core::record::{Fields, RecordError};
use tallymesh_core::rules::EntryRules;
use tallymesh_core::tally_network::{TallyId, TallyNetwork};
use tallymesh_core::{Digest, Timestamp};
use thiserror::Error;

/// The version of the genesis record this code writes and reads.
pub const GENESIS_RECORD_VERSION: u64 = 1;

/// How many keys a genesis record has (0 to 5).
const FIELDS: u64 = 6;

/// Entry rules as the node's ledger host needs them: besides judging
/// entries, they can write down their state at a tally's genesis and read
/// it back, so that a served tally's machine can be rebuilt after a
/// restart (`Ledger::restore` replays the certified blocks from that
/// state).
pub trait LedgerRules: EntryRules {
    /// The state as bytes. Must be deterministic: the same state gives the
    /// same bytes (the store compares them when a tally is served again).
    fn encode_state(&self, state: &Self::State) -> Vec<u8>;

    /// The state from bytes [`LedgerRules::encode_state`] wrote; an error
    /// says why they cannot be read.
    fn decode_state(&self, bytes: &[u8]) -> Result<Self::State, String>;
}

/// A served tally's genesis and the rules' state at it, as kept in the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenesisRecord {
    /// Block 0 as the ledger machine takes it.
    pub genesis: Genesis,
    /// The rules' state at the genesis, encoded by the rules.
    pub state: Vec<u8>,
}

/// Why stored genesis bytes cannot be read back.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum GenesisError {
    /// Not a genesis record: not deterministic CBOR, a field missing or of
    /// the wrong type, or a network that breaks the network rules.
    #[error("malformed ledger genesis record: {0}")]
    Malformed(#[from] RecordError),
    /// A key this version does not know: the record was written by a later
    /// version, or damaged.
    #[error("a ledger genesis record has exactly the fields 0 to 5")]
    UnknownField,
}

impl GenesisRecord {
    /// The record's deterministic CBOR bytes.
    pub fn encode(&self) -> Vec<u8> {
        let g = &self.genesis;
        cbor::encode(&Value::map([
            (0, Value::Uint(GENESIS_RECORD_VERSION)),
            (1, Value::Bytes(g.tally.0.to_vec())),
            (2, Value::Bytes(g.hash.0.to_vec())),
            (3, Value::Uint(g.time.as_millis())),
            (4, g.network.to_value()),
            (5, Value::Bytes(self.state.clone())),
        ]))
    }

    /// Reads a record from stored bytes, checking every field.
    pub fn decode(bytes: &[u8]) -> Result<GenesisRecord, GenesisError> {
        let value = cbor::decode(bytes).map_err(RecordError::from)?;
        let f = Fields::named("ledger genesis", &value)?;
        if let Value::Map(entries) = &value
            && !entries.iter().all(|(k, _)| matches!(k, Value::Uint(n) if *n < FIELDS))
        {
            return Err(GenesisError::UnknownField);
        }
        f.version(&[GENESIS_RECORD_VERSION])?;
        let tally =
            TallyId::from_bytes(f.bytes(1)?).ok_or_else(|| RecordError::Invalid("a tally id is 16 bytes".into()))?;
        let hash: [u8; 32] = f
            .bytes(2)?
            .try_into()
            .map_err(|_| RecordError::Invalid("a hash is 32 bytes".into()))?;
        Ok(GenesisRecord {
            genesis: Genesis {
                tally,
                hash: Digest(hash),
                time: Timestamp::from_millis(f.uint(3)?),
                network: TallyNetwork::from_value(f.required(4)?)?,
            },
            state: f.bytes(5)?.to_vec(),
        })
    }
}

#[cfg(test)]
mod tests {
    use tallymesh_core::SecretKey;
    use tallymesh_core::tally_network::Threshold;

    use super::*;

    fn record() -> GenesisRecord {
        let key = |n: u8| SecretKey::from_seed(&[n; 32]).public();
        GenesisRecord {
            genesis: Genesis {
                tally: TallyId([3; 16]),
                hash: Digest([4; 32]),
                time: Timestamp::from_millis(1_763_000_000_123),
                network: TallyNetwork::with_thresholds(
                    vec![key(1), key(2)],
                    vec![key(3), key(4), key(5)],
                    Threshold::MAJORITY,
                    Threshold::TWO_THIRDS,
                )
                .unwrap(),
            },
            state: vec![0, 1, 2, 255],
        }
    }

    #[test]
    fn a_genesis_record_round_trips_with_its_thresholds() {
        let record = record();
        assert_eq!(GenesisRecord::decode(&record.encode()), Ok(record));
    }

    #[test]
    fn the_encoding_is_deterministic_and_names_every_field() {
        let record = record();
        assert_eq!(record.encode(), record.clone().encode());
        let value = cbor::decode(&record.encode()).unwrap();
        for key in 0..FIELDS {
            assert!(value.get(key).is_some(), "field {key}");
        }
        assert_eq!(value.get(0), Some(&Value::Uint(1)));
    }

    #[test]
    fn unknown_fields_versions_and_damage_are_refused() {
        let record = record();
        let Value::Map(mut entries) = cbor::decode(&record.encode()).unwrap() else {
            panic!("a map")
        };
        entries.push((Value::Uint(6), Value::Null));
        let extra = cbor::encode(&Value::map_of(entries));
        assert_eq!(GenesisRecord::decode(&extra), Err(GenesisError::UnknownField));

        let later = cbor::encode(&Value::map([(0, Value::Uint(2))]));
        let err = GenesisRecord::decode(&later).unwrap_err();
        assert!(err.to_string().contains("version 2 is not supported"), "{err}");

        let bytes = record.encode();
        for cut in 0..bytes.len() {
            assert!(GenesisRecord::decode(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        assert!(GenesisRecord::decode(b"the signed tally").is_err());
    }
}
