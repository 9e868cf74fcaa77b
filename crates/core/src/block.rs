//! Blocks of a tally's ledger: batches of entries, each chaining the hash
//! of the block before it.
//!
//! Block 0 is the tally both parties signed ([`Genesis`]); it needs no
//! votes. Every later block is proposed by one node of the tally network
//! and becomes final with a [`Certificate`](crate::certificate::Certificate).
//! A block is not signed itself: the proposer signs a
//! [`Proposal`](crate::vote::Proposal) naming the block's hash, and the
//! certificate's precommits name it too.
//!
//! ```
//! use tallymesh_core::block::{Block, EncodedBlock};
//! use tallymesh_core::tally_network::TallyId;
//! use tallymesh_core::{Digest, SecretKey, Timestamp};
//!
//! let block = Block {
//!     tally: TallyId([7; 16]),
//!     height: 1,
//!     previous: Digest::of(b"the tally both parties signed"),
//!     time: Timestamp::from_millis(1_000),
//!     proposer: SecretKey::from_seed(&[1; 32]).public(),
//!     entries: vec![b"a signed chit".to_vec()],
//! };
//! let sealed = EncodedBlock::new(block.clone());
//! let received = EncodedBlock::from_bytes(sealed.bytes()).unwrap();
//! assert_eq!(received.block(), &block);
//! assert_eq!(received.hash(), sealed.hash());
//! ```

use crate::cbor::{self, Value};
use crate::record::{Fields, RecordError};
use crate::tally_network::{TallyId, TallyNetwork};
use crate::{Digest, PublicKey, Timestamp};

/// The largest encoded block accepted, in bytes.
pub const MAX_BLOCK_BYTES: usize = 512 * 1024;

/// The most entries one block may carry.
pub const MAX_BLOCK_ENTRIES: usize = 1024;

/// The largest single entry, in bytes (the size of the largest signed record).
pub const MAX_ENTRY_BYTES: usize = crate::record::MAX_RECORD_BYTES;

/// The version of the block encoding this code writes and reads.
pub const BLOCK_VERSION: u64 = 1;

/// One block of a tally's ledger.
///
/// CBOR (map, exactly these keys): 0 version (1), 1 tally id bytes(16),
/// 2 height, 3 previous block hash bytes(32), 4 time (ms), 5 proposer node
/// key bytes(32), 6 entries (array of byte strings, each an entry exactly as
/// its author signed it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    /// The tally whose ledger this is.
    pub tally: TallyId,
    /// Its height: 1 for the first block after the signed tally.
    pub height: u64,
    /// The hash of block `height - 1` (for height 1, the genesis hash).
    pub previous: Digest,
    /// When the proposer made it, by the proposer's clock.
    pub time: Timestamp,
    /// The node that made it.
    pub proposer: PublicKey,
    /// The entries, opaque here: the tally rules read them.
    pub entries: Vec<Vec<u8>>,
}

impl Block {
    /// The block as a CBOR value.
    pub fn to_value(&self) -> Value {
        Value::map([
            (0, Value::Uint(BLOCK_VERSION)),
            (1, Value::Bytes(self.tally.0.to_vec())),
            (2, Value::Uint(self.height)),
            (3, Value::Bytes(self.previous.0.to_vec())),
            (4, Value::Uint(self.time.as_millis())),
            (5, Value::Bytes(self.proposer.as_bytes().to_vec())),
            (
                6,
                Value::Array(self.entries.iter().map(|e| Value::Bytes(e.clone())).collect()),
            ),
        ])
    }

    /// The block from a CBOR value, refusing unknown versions and keys.
    pub fn from_value(value: &Value) -> Result<Block, RecordError> {
        let f = Fields::named("block", value)?;
        f.version(&[BLOCK_VERSION])?;
        exact_keys(value, 7, "block")?;
        let entries = f.array(6)?;
        if entries.len() > MAX_BLOCK_ENTRIES {
            return Err(RecordError::Invalid(format!(
                "a block carries at most {MAX_BLOCK_ENTRIES} entries"
            )));
        }
        let entries = entries
            .iter()
            .map(|e| match e {
                Value::Bytes(b) if !b.is_empty() && b.len() <= MAX_ENTRY_BYTES => Ok(b.clone()),
                _ => Err(RecordError::Invalid(format!(
                    "an entry is a byte string of 1 to {MAX_ENTRY_BYTES} bytes"
                ))),
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Block {
            tally: tally_id(&f, 1)?,
            height: f.uint(2)?,
            previous: digest(&f, 3)?,
            time: Timestamp::from_millis(f.uint(4)?),
            proposer: f.key(5)?,
            entries,
        })
    }
}

/// A block together with the exact bytes it was made or received as, and
/// their hash (the block's id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodedBlock {
    bytes: Vec<u8>,
    hash: Digest,
    block: Block,
}

impl EncodedBlock {
    /// Encodes `block`.
    pub fn new(block: Block) -> EncodedBlock {
        let bytes = cbor::encode(&block.to_value());
        EncodedBlock {
            hash: Digest::of(&bytes),
            bytes,
            block,
        }
    }

    /// Reads a block from untrusted bytes: size, then canonical CBOR, then
    /// every field.
    pub fn from_bytes(bytes: &[u8]) -> Result<EncodedBlock, RecordError> {
        if bytes.len() > MAX_BLOCK_BYTES {
            return Err(RecordError::TooLarge(bytes.len()));
        }
        let block = Block::from_value(&cbor::decode(bytes)?)?;
        Ok(EncodedBlock {
            bytes: bytes.to_vec(),
            hash: Digest::of(bytes),
            block,
        })
    }

    /// The encoded bytes, exactly as made or received.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The block's hash: the SHA-256 of its bytes.
    pub fn hash(&self) -> Digest {
        self.hash
    }

    /// The decoded block.
    pub fn block(&self) -> &Block {
        &self.block
    }
}

/// Block 0: the tally both parties signed, taken as given. The ledger starts
/// from its hash, its time and the tally network it names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Genesis {
    /// The tally.
    pub tally: TallyId,
    /// The hash of the signed tally's bytes: block 1's `previous`.
    pub hash: Digest,
    /// When the tally was opened: no block may be older.
    pub time: Timestamp,
    /// The nodes both parties nominated in the tally.
    pub network: TallyNetwork,
}

/// Refuses a map holding any key other than `0..count`.
pub(crate) fn exact_keys(value: &Value, count: u64, kind: &str) -> Result<(), RecordError> {
    match value {
        Value::Map(entries) if entries.iter().all(|(k, _)| matches!(k, Value::Uint(n) if *n < count)) => Ok(()),
        _ => Err(RecordError::Invalid(format!(
            "a {kind} has exactly the fields 0 to {}",
            count.saturating_sub(1)
        ))),
    }
}

pub(crate) fn tally_id(f: &Fields<'_>, field: u64) -> Result<TallyId, RecordError> {
    TallyId::from_bytes(f.bytes(field)?).ok_or_else(|| RecordError::Invalid("a tally id is 16 bytes".into()))
}

pub(crate) fn digest(f: &Fields<'_>, field: u64) -> Result<Digest, RecordError> {
    let bytes: [u8; 32] = f
        .bytes(field)?
        .try_into()
        .map_err(|_| RecordError::Invalid("a hash is 32 bytes".into()))?;
    Ok(Digest(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SecretKey;
    use proptest::prelude::*;

    fn block(entries: Vec<Vec<u8>>) -> Block {
        Block {
            tally: TallyId([3; 16]),
            height: 9,
            previous: Digest([4; 32]),
            time: Timestamp::from_millis(77),
            proposer: SecretKey::from_seed(&[5; 32]).public(),
            entries,
        }
    }

    #[test]
    fn unknown_fields_and_versions_are_refused() {
        let Value::Map(mut entries) = block(vec![]).to_value() else {
            unreachable!()
        };
        entries.push((Value::Uint(7), Value::Null));
        let extra = cbor::encode(&Value::map_of(entries.clone()));
        assert!(EncodedBlock::from_bytes(&extra).is_err());
        entries.pop();
        entries[0].1 = Value::Uint(2);
        let later = cbor::encode(&Value::map_of(entries));
        let err = EncodedBlock::from_bytes(&later).unwrap_err();
        assert!(err.to_string().contains("version 2"), "{err}");
    }

    #[test]
    fn empty_entries_are_refused() {
        let bytes = cbor::encode(&block(vec![vec![]]).to_value());
        assert!(EncodedBlock::from_bytes(&bytes).is_err());
    }

    proptest! {
        #[test]
        fn blocks_round_trip_and_hash_their_bytes(entries in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 1..50), 0..8)) {
            let sealed = EncodedBlock::new(block(entries));
            let received = EncodedBlock::from_bytes(sealed.bytes()).unwrap();
            prop_assert_eq!(&received, &sealed);
            prop_assert_eq!(received.hash(), Digest::of(sealed.bytes()));
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = EncodedBlock::from_bytes(&bytes);
        }
    }
}
