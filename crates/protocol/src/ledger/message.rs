//! The ledger's wire messages, inside an [`Envelope`] of protocol `ledger` v1.
//!
//! Each body is a deterministic CBOR map whose key 0 is the tally id, so a
//! node can route a message to the right machine with [`message_tally`]
//! before anything else is decoded. Signed records inside (votes,
//! proposals, certificates) stay as the bytes their signers made; the
//! machine verifies them when, and only when, it needs them.

use tallymesh_core::ProtocolVersion;
use tallymesh_core::cbor::{self, Value};
use tallymesh_core::record::{Fields, RecordError};
use tallymesh_core::tally_network::TallyId;
use thiserror::Error;

use crate::{Envelope, EnvelopeError, Limits};

/// The ledger protocol version this code speaks.
pub const LEDGER_VERSION: ProtocolVersion = ProtocolVersion(1);

/// The most blocks one `ledger/blocks` message carries.
pub const MAX_BLOCKS_PER_MESSAGE: usize = 64;

/// The most entries one `ledger/entries` message carries.
pub const MAX_ENTRIES_PER_MESSAGE: usize = 256;

/// The most votes a proposal carries to justify its valid round.
pub const MAX_PROOF_VOTES: usize = 64;

/// A message of the ledger protocol, with inner records as raw bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// `ledger/proposal`: a signed proposal, the block it names, and when it
    /// re-proposes a block, the prevotes of its valid round (the proof that
    /// lets locked nodes take it).
    Proposal {
        /// The tally.
        tally: TallyId,
        /// A signed `ledger-proposal` record.
        proposal: Vec<u8>,
        /// The encoded block.
        block: Vec<u8>,
        /// Signed `ledger-vote` prevotes for the block in the valid round.
        proof: Vec<Vec<u8>>,
    },
    /// `ledger/vote`: one signed vote.
    Vote {
        /// The tally.
        tally: TallyId,
        /// A signed `ledger-vote` record.
        vote: Vec<u8>,
    },
    /// `ledger/entries`: entries offered for the next block.
    Entries {
        /// The tally.
        tally: TallyId,
        /// Each entry as its author signed it.
        entries: Vec<Vec<u8>>,
    },
    /// `ledger/sync-request`: "send me certified blocks from this height".
    SyncRequest {
        /// The tally.
        tally: TallyId,
        /// The first height wanted.
        from_height: u64,
    },
    /// `ledger/blocks`: certified blocks in height order, each with its
    /// certificate.
    Blocks {
        /// The tally.
        tally: TallyId,
        /// `(encoded block, certificate)` pairs.
        blocks: Vec<(Vec<u8>, Vec<u8>)>,
    },
}

/// Why a received message was refused. Nothing is changed by a refusal.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum MessageError {
    /// The envelope was too large, malformed or of another version.
    #[error(transparent)]
    Envelope(#[from] EnvelopeError),
    /// A kind this protocol does not have.
    #[error("unknown ledger message kind {0:?}")]
    UnknownKind(String),
    /// The body is not what its kind says.
    #[error("malformed ledger message: {0}")]
    Body(#[from] RecordError),
    /// Too many items.
    #[error("ledger message carries too many items")]
    TooMany,
}

const PROPOSAL: &str = "ledger/proposal";
const VOTE: &str = "ledger/vote";
const ENTRIES: &str = "ledger/entries";
const SYNC_REQUEST: &str = "ledger/sync-request";
const BLOCKS: &str = "ledger/blocks";

fn byte_list(items: &[Vec<u8>]) -> Value {
    Value::Array(items.iter().map(|b| Value::Bytes(b.clone())).collect())
}

fn read_byte_list(f: &Fields<'_>, field: u64, max: usize) -> Result<Vec<Vec<u8>>, MessageError> {
    let items = f.array(field)?;
    if items.len() > max {
        return Err(MessageError::TooMany);
    }
    items
        .iter()
        .map(|v| match v {
            Value::Bytes(b) => Ok(b.clone()),
            _ => Err(RecordError::Shape("expected a byte string".into()).into()),
        })
        .collect()
}

fn read_tally(f: &Fields<'_>) -> Result<TallyId, MessageError> {
    TallyId::from_bytes(f.bytes(0)?).ok_or_else(|| RecordError::Invalid("a tally id is 16 bytes".into()).into())
}

impl Message {
    /// The tally the message is about.
    pub fn tally(&self) -> TallyId {
        match self {
            Message::Proposal { tally, .. }
            | Message::Vote { tally, .. }
            | Message::Entries { tally, .. }
            | Message::SyncRequest { tally, .. }
            | Message::Blocks { tally, .. } => *tally,
        }
    }

    /// The envelope bytes of the message.
    pub fn encode(&self) -> Vec<u8> {
        let tally = |t: &TallyId| Value::Bytes(t.0.to_vec());
        let (kind, body) = match self {
            Message::Proposal {
                tally: t,
                proposal,
                block,
                proof,
            } => (
                PROPOSAL,
                Value::map([
                    (0, tally(t)),
                    (1, Value::Bytes(proposal.clone())),
                    (2, Value::Bytes(block.clone())),
                    (3, byte_list(proof)),
                ]),
            ),
            Message::Vote { tally: t, vote } => (VOTE, Value::map([(0, tally(t)), (1, Value::Bytes(vote.clone()))])),
            Message::Entries { tally: t, entries } => (ENTRIES, Value::map([(0, tally(t)), (1, byte_list(entries))])),
            Message::SyncRequest { tally: t, from_height } => (
                SYNC_REQUEST,
                Value::map([(0, tally(t)), (1, Value::Uint(*from_height))]),
            ),
            Message::Blocks { tally: t, blocks } => (
                BLOCKS,
                Value::map([
                    (0, tally(t)),
                    (
                        1,
                        Value::Array(
                            blocks
                                .iter()
                                .map(|(b, c)| Value::Array(vec![Value::Bytes(b.clone()), Value::Bytes(c.clone())]))
                                .collect(),
                        ),
                    ),
                ]),
            ),
        };
        Envelope::new(LEDGER_VERSION, kind, cbor::encode(&body)).encode()
    }

    /// Reads a message from untrusted bytes: envelope size, version and
    /// shape, then the body's shape. Inner signatures are not checked here.
    pub fn decode(bytes: &[u8], limits: &Limits) -> Result<Message, MessageError> {
        let envelope = Envelope::decode(bytes, limits, &[LEDGER_VERSION])?;
        let value = cbor::decode(&envelope.body).map_err(RecordError::from)?;
        let f = Fields::named("ledger message", &value)?;
        let tally = read_tally(&f)?;
        Ok(match envelope.kind.as_str() {
            PROPOSAL => Message::Proposal {
                tally,
                proposal: f.bytes(1)?.to_vec(),
                block: f.bytes(2)?.to_vec(),
                proof: read_byte_list(&f, 3, MAX_PROOF_VOTES)?,
            },
            VOTE => Message::Vote {
                tally,
                vote: f.bytes(1)?.to_vec(),
            },
            ENTRIES => Message::Entries {
                tally,
                entries: read_byte_list(&f, 1, MAX_ENTRIES_PER_MESSAGE)?,
            },
            SYNC_REQUEST => Message::SyncRequest {
                tally,
                from_height: f.uint(1)?,
            },
            BLOCKS => {
                let items = f.array(1)?;
                if items.len() > MAX_BLOCKS_PER_MESSAGE {
                    return Err(MessageError::TooMany);
                }
                let blocks = items
                    .iter()
                    .map(|item| match item {
                        Value::Array(pair) => match pair.as_slice() {
                            [Value::Bytes(b), Value::Bytes(c)] => Ok((b.clone(), c.clone())),
                            _ => Err(RecordError::Shape("a certified block is [block, certificate]".into())),
                        },
                        _ => Err(RecordError::Shape("a certified block is [block, certificate]".into())),
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                Message::Blocks { tally, blocks }
            }
            other => return Err(MessageError::UnknownKind(other.chars().take(40).collect())),
        })
    }
}

/// The tally a ledger message is about, read without decoding the rest:
/// lets a node hand the bytes to the right machine.
pub fn message_tally(bytes: &[u8], limits: &Limits) -> Result<TallyId, MessageError> {
    Message::decode(bytes, limits).map(|m| m.tally())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const TALLY: TallyId = TallyId([9; 16]);

    #[test]
    fn every_kind_round_trips() {
        let messages = [
            Message::Proposal {
                tally: TALLY,
                proposal: vec![1],
                block: vec![2, 3],
                proof: vec![vec![4]],
            },
            Message::Vote {
                tally: TALLY,
                vote: vec![5],
            },
            Message::Entries {
                tally: TALLY,
                entries: vec![vec![6], vec![7]],
            },
            Message::SyncRequest {
                tally: TALLY,
                from_height: 12,
            },
            Message::Blocks {
                tally: TALLY,
                blocks: vec![(vec![8], vec![9])],
            },
        ];
        for message in messages {
            let bytes = message.encode();
            assert_eq!(Message::decode(&bytes, &Limits::default()), Ok(message.clone()));
            assert_eq!(message_tally(&bytes, &Limits::default()), Ok(TALLY));
        }
    }

    #[test]
    fn another_version_or_kind_is_refused() {
        let body = cbor::encode(&Value::map([(0, Value::Bytes(vec![9; 16])), (1, Value::Bytes(vec![]))]));
        let later = Envelope::new(ProtocolVersion(2), VOTE, body.clone()).encode();
        let err = Message::decode(&later, &Limits::default()).unwrap_err();
        assert!(err.to_string().contains("unsupported protocol version v2"), "{err}");
        let odd = Envelope::new(LEDGER_VERSION, "ledger/gossip", body).encode();
        assert!(matches!(
            Message::decode(&odd, &Limits::default()),
            Err(MessageError::UnknownKind(_))
        ));
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = Message::decode(&bytes, &Limits::default());
        }

        #[test]
        fn arbitrary_bodies_never_panic(kind in prop::sample::select(vec![PROPOSAL, VOTE, ENTRIES, SYNC_REQUEST, BLOCKS]), body in proptest::collection::vec(any::<u8>(), 0..100)) {
            let bytes = Envelope::new(LEDGER_VERSION, kind, body).encode();
            let _ = Message::decode(&bytes, &Limits::default());
        }
    }
}
