//! The ledger machine's durable records in the store's words, and back.
//!
//! `tallymesh-store` keeps the journal without knowing the protocol crate:
//! its [`LedgerRecord`] mirrors the machine's [`Durable`] with plain numbers
//! and bytes. The mapping is one to one. Every [`Durable`] has a record;
//! a record maps back unless the store holds a number the machine never
//! writes (a vote step other than 0 or 1), which is a [`JournalError`], not
//! a panic.
//!
//! | `Durable` | `LedgerRecord` |
//! |---|---|
//! | `Vote { step: Prevote, .. }` | `Vote { step: 0, .. }` |
//! | `Vote { step: Precommit, .. }` | `Vote { step: 1, .. }` |
//! | `Proposal`, `Lock`, `Block` | the same fields |
//! | `Pending { id: Digest, .. }` | `Pending { id: [u8; 32], .. }` |
//! | `Settled { ids: Vec<Digest> }` | `Settled { ids: Vec<[u8; 32]> }` |

use tallymesh_core::Digest;
use tallymesh_core::vote::Step;
use tallymesh_protocol::ledger::Durable;
use tallymesh_store::LedgerRecord;
use thiserror::Error;

/// The journal's number for a prevote.
pub const PREVOTE: u8 = 0;

/// The journal's number for a precommit.
pub const PRECOMMIT: u8 = 1;

/// Why a stored journal record cannot be handed back to the ledger machine.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum JournalError {
    /// A vote whose step is neither a prevote (0) nor a precommit (1): the
    /// record was not written by this mapping.
    #[error(
        "a stored vote at height {height} round {round} has step {step}, which is neither prevote (0) nor precommit (1)"
    )]
    UnknownStep {
        /// The vote's height.
        height: u64,
        /// Its round.
        round: u64,
        /// The step number found.
        step: u8,
    },
}

/// The journal's number for a vote step.
pub fn step_number(step: Step) -> u8 {
    match step {
        Step::Prevote => PREVOTE,
        Step::Precommit => PRECOMMIT,
    }
}

/// The store's record for a machine record.
pub fn to_record(durable: Durable) -> LedgerRecord {
    match durable {
        Durable::Vote {
            height,
            round,
            step,
            vote,
        } => LedgerRecord::Vote {
            height,
            round,
            step: step_number(step),
            vote,
        },
        Durable::Proposal { height, round, message } => LedgerRecord::Proposal { height, round, message },
        Durable::Lock {
            height,
            round,
            block,
            proof,
        } => LedgerRecord::Lock {
            height,
            round,
            block,
            proof,
        },
        Durable::Block {
            height,
            block,
            certificate,
        } => LedgerRecord::Block {
            height,
            block,
            certificate,
        },
        Durable::Pending { id, entry } => LedgerRecord::Pending { id: id.0, entry },
        Durable::Settled { ids } => LedgerRecord::Settled {
            ids: ids.into_iter().map(|id| id.0).collect(),
        },
    }
}

/// The machine's record for a stored one.
pub fn from_record(record: LedgerRecord) -> Result<Durable, JournalError> {
    Ok(match record {
        LedgerRecord::Vote {
            height,
            round,
            step,
            vote,
        } => Durable::Vote {
            height,
            round,
            step: match step {
                PREVOTE => Step::Prevote,
                PRECOMMIT => Step::Precommit,
                step => return Err(JournalError::UnknownStep { height, round, step }),
            },
            vote,
        },
        LedgerRecord::Proposal { height, round, message } => Durable::Proposal { height, round, message },
        LedgerRecord::Lock {
            height,
            round,
            block,
            proof,
        } => Durable::Lock {
            height,
            round,
            block,
            proof,
        },
        LedgerRecord::Block {
            height,
            block,
            certificate,
        } => Durable::Block {
            height,
            block,
            certificate,
        },
        LedgerRecord::Pending { id, entry } => Durable::Pending { id: Digest(id), entry },
        LedgerRecord::Settled { ids } => Durable::Settled {
            ids: ids.into_iter().map(Digest).collect(),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn every_kind() -> Vec<Durable> {
        vec![
            Durable::Vote {
                height: 3,
                round: 1,
                step: Step::Prevote,
                vote: b"prevote".to_vec(),
            },
            Durable::Vote {
                height: 3,
                round: 2,
                step: Step::Precommit,
                vote: b"precommit".to_vec(),
            },
            Durable::Proposal {
                height: 4,
                round: 0,
                message: b"proposal".to_vec(),
            },
            Durable::Lock {
                height: 4,
                round: 7,
                block: b"block".to_vec(),
                proof: vec![b"one".to_vec(), b"two".to_vec(), vec![]],
            },
            Durable::Block {
                height: 5,
                block: b"block five".to_vec(),
                certificate: b"certificate".to_vec(),
            },
            Durable::Pending {
                id: Digest::of(b"entry"),
                entry: b"entry".to_vec(),
            },
            Durable::Settled {
                ids: vec![Digest::of(b"entry"), Digest([9; 32])],
            },
            Durable::Settled { ids: vec![] },
        ]
    }

    #[test]
    fn every_kind_round_trips_through_the_store_record() {
        for durable in every_kind() {
            let record = to_record(durable.clone());
            assert_eq!(from_record(record.clone()), Ok(durable.clone()), "{record:?}");
            // And the other way round: a stored record maps to the same record again.
            assert_eq!(from_record(record.clone()).map(to_record), Ok(record));
        }
    }

    #[test]
    fn steps_are_numbered_as_the_docs_say() {
        let record = to_record(Durable::Vote {
            height: 1,
            round: 0,
            step: Step::Prevote,
            vote: vec![],
        });
        assert!(matches!(record, LedgerRecord::Vote { step: 0, .. }));
        let record = to_record(Durable::Vote {
            height: 1,
            round: 0,
            step: Step::Precommit,
            vote: vec![],
        });
        assert!(matches!(record, LedgerRecord::Vote { step: 1, .. }));
    }

    #[test]
    fn an_unknown_step_is_an_error_naming_the_vote() {
        let record = LedgerRecord::Vote {
            height: 8,
            round: 2,
            step: 2,
            vote: b"vote".to_vec(),
        };
        let err = from_record(record).unwrap_err();
        assert_eq!(
            err,
            JournalError::UnknownStep {
                height: 8,
                round: 2,
                step: 2
            }
        );
        assert!(err.to_string().contains("height 8 round 2 has step 2"), "{err}");
    }
}
