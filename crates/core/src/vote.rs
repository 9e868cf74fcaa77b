//! Votes and proposals: what nodes of a tally network sign during a round.
//!
//! A vote is signed by a node key over exactly
//! `(tally, height, round, step, block hash or nil)` (plus the record
//! version), as a [`Signed`] record of kind `ledger-vote`, so its signature
//! covers `tallymesh/v1/ledger-vote`, a zero byte, then the body. The body
//! must hold exactly those fields: two votes by one node for one step of
//! one round differ only if the node voted twice, and that pair is proof
//! anyone can check.
//!
//! ```
//! use tallymesh_core::record::Signed;
//! use tallymesh_core::tally_network::TallyId;
//! use tallymesh_core::vote::{Step, Vote};
//! use tallymesh_core::{Digest, SecretKey};
//!
//! let node = SecretKey::from_seed(&[1; 32]);
//! let vote = Vote { tally: TallyId([2; 16]), height: 4, round: 0, step: Step::Precommit, block: Some(Digest([9; 32])) };
//! let signed = Signed::sign(vote.clone(), &node);
//! let received = Signed::<Vote>::from_bytes(signed.bytes()).unwrap();
//! assert_eq!(received.record(), &vote);
//! assert_eq!(received.signer(), &node.public());
//! ```

use crate::Digest;
use crate::block::{digest, exact_keys, tally_id};
use crate::cbor::Value;
use crate::record::{Fields, Record, RecordError, Signed};
use crate::tally_network::TallyId;

/// The version of the vote and proposal encodings.
pub const VOTE_VERSION: u64 = 1;

/// The two voting steps of a Tendermint round.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Step {
    /// The first vote of a round: "this proposal is valid and I am free to
    /// take it".
    Prevote,
    /// The second: "a quorum prevoted this block and I lock on it".
    Precommit,
}

impl Step {
    fn code(self) -> u64 {
        match self {
            Step::Prevote => 0,
            Step::Precommit => 1,
        }
    }
}

/// One node's vote in one step of one round of one height.
///
/// CBOR (map, exactly these keys): 0 version (1), 1 tally id bytes(16),
/// 2 height, 3 round, 4 step (0 prevote, 1 precommit), 5 block hash
/// bytes(32) or null for nil.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Vote {
    /// The tally.
    pub tally: TallyId,
    /// The height voted on.
    pub height: u64,
    /// The round within the height.
    pub round: u64,
    /// Prevote or precommit.
    pub step: Step,
    /// The block voted for, or `None` for nil.
    pub block: Option<Digest>,
}

impl Record for Vote {
    const KIND: &'static str = "ledger-vote";

    fn to_value(&self) -> Value {
        Value::map([
            (0, Value::Uint(VOTE_VERSION)),
            (1, Value::Bytes(self.tally.0.to_vec())),
            (2, Value::Uint(self.height)),
            (3, Value::Uint(self.round)),
            (4, Value::Uint(self.step.code())),
            (5, self.block.map_or(Value::Null, |d| Value::Bytes(d.0.to_vec()))),
        ])
    }

    fn from_value(value: &Value) -> Result<Self, RecordError> {
        let f = Fields::named("vote", value)?;
        f.version(&[VOTE_VERSION])?;
        exact_keys(value, 6, "vote")?;
        let step = match f.uint(4)? {
            0 => Step::Prevote,
            1 => Step::Precommit,
            _ => {
                return Err(RecordError::Invalid(
                    "a vote's step is 0 (prevote) or 1 (precommit)".into(),
                ));
            }
        };
        let block = match f.required(5)? {
            Value::Null => None,
            _ => Some(digest(&f, 5)?),
        };
        Ok(Vote {
            tally: tally_id(&f, 1)?,
            height: f.uint(2)?,
            round: f.uint(3)?,
            step,
            block,
        })
    }
}

/// A proposer's signed statement: "in this round of this height I propose
/// the block with this hash", with the round in which a quorum prevoted it
/// if it is being proposed again (Tendermint's `validRound`).
///
/// CBOR (map, exactly these keys): 0 version (1), 1 tally id bytes(16),
/// 2 height, 3 round, 4 valid round (integer, or null for none), 5 block
/// hash bytes(32).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Proposal {
    /// The tally.
    pub tally: TallyId,
    /// The height proposed for.
    pub height: u64,
    /// The round proposed in.
    pub round: u64,
    /// The earlier round in which a quorum prevoted this block, if any.
    pub valid_round: Option<u64>,
    /// The hash of the proposed block.
    pub block: Digest,
}

impl Record for Proposal {
    const KIND: &'static str = "ledger-proposal";

    fn to_value(&self) -> Value {
        Value::map([
            (0, Value::Uint(VOTE_VERSION)),
            (1, Value::Bytes(self.tally.0.to_vec())),
            (2, Value::Uint(self.height)),
            (3, Value::Uint(self.round)),
            (4, self.valid_round.map_or(Value::Null, Value::Uint)),
            (5, Value::Bytes(self.block.0.to_vec())),
        ])
    }

    fn from_value(value: &Value) -> Result<Self, RecordError> {
        let f = Fields::named("proposal", value)?;
        f.version(&[VOTE_VERSION])?;
        exact_keys(value, 6, "proposal")?;
        let valid_round = match f.required(4)? {
            Value::Null => None,
            _ => Some(f.uint(4)?),
        };
        let round = f.uint(3)?;
        if valid_round.is_some_and(|vr| vr >= round) {
            return Err(RecordError::Invalid(
                "a proposal's valid round must be earlier than its round".into(),
            ));
        }
        Ok(Proposal {
            tally: tally_id(&f, 1)?,
            height: f.uint(2)?,
            round,
            valid_round,
            block: digest(&f, 5)?,
        })
    }
}

/// Two signed votes by one node for one step of one round of one height
/// that name different blocks: proof that the node voted twice.
pub fn is_double_vote(a: &Signed<Vote>, b: &Signed<Vote>) -> bool {
    let (x, y) = (a.record(), b.record());
    a.signer() == b.signer()
        && x.tally == y.tally
        && x.height == y.height
        && x.round == y.round
        && x.step == y.step
        && x.block != y.block
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SecretKey;
    use crate::cbor;
    use proptest::prelude::*;

    fn any_vote() -> impl Strategy<Value = Vote> {
        (
            any::<[u8; 16]>(),
            any::<u64>(),
            any::<u64>(),
            any::<bool>(),
            proptest::option::of(any::<[u8; 32]>()),
        )
            .prop_map(|(t, height, round, pre, block)| Vote {
                tally: TallyId(t),
                height,
                round,
                step: if pre { Step::Prevote } else { Step::Precommit },
                block: block.map(Digest),
            })
    }

    #[test]
    fn a_vote_with_an_extra_field_is_refused() {
        let vote = Vote {
            tally: TallyId([1; 16]),
            height: 1,
            round: 0,
            step: Step::Prevote,
            block: None,
        };
        let Value::Map(mut entries) = vote.to_value() else {
            unreachable!()
        };
        entries.push((Value::Uint(6), Value::Uint(0)));
        assert!(Vote::from_value(&Value::map_of(entries)).is_err());
    }

    #[test]
    fn a_proposal_whose_valid_round_is_not_earlier_is_refused() {
        let proposal = Proposal {
            tally: TallyId([1; 16]),
            height: 1,
            round: 2,
            valid_round: Some(2),
            block: Digest([0; 32]),
        };
        assert!(Proposal::from_value(&proposal.to_value()).is_err());
    }

    #[test]
    fn double_votes_are_recognised_and_repeats_are_not() {
        let key = SecretKey::from_seed(&[8; 32]);
        let vote = Vote {
            tally: TallyId([1; 16]),
            height: 3,
            round: 1,
            step: Step::Precommit,
            block: Some(Digest([1; 32])),
        };
        let a = Signed::sign(vote.clone(), &key);
        let b = Signed::sign(
            Vote {
                block: None,
                ..vote.clone()
            },
            &key,
        );
        assert!(is_double_vote(&a, &b));
        assert!(!is_double_vote(&a, &a.clone()));
        let c = Signed::sign(
            Vote {
                round: 2,
                block: None,
                ..vote
            },
            &key,
        );
        assert!(!is_double_vote(&a, &c));
    }

    proptest! {
        #[test]
        fn votes_round_trip(vote in any_vote(), seed in any::<[u8; 32]>()) {
            let signed = Signed::sign(vote, &SecretKey::from_seed(&seed));
            prop_assert_eq!(Signed::<Vote>::from_bytes(signed.bytes()), Ok(signed));
        }

        #[test]
        fn tampered_votes_are_refused(vote in any_vote(), seed in any::<[u8; 32]>(), at in any::<prop::sample::Index>(), bit in 0u8..8) {
            let signed = Signed::sign(vote, &SecretKey::from_seed(&seed));
            let mut bytes = signed.bytes().to_vec();
            let i = at.index(bytes.len());
            bytes[i] ^= 1 << bit;
            prop_assert!(Signed::<Vote>::from_bytes(&bytes).is_err());
        }

        #[test]
        fn a_vote_signature_never_passes_as_a_proposal(vote in any_vote(), seed in any::<[u8; 32]>()) {
            let signed = Signed::sign(vote, &SecretKey::from_seed(&seed));
            let Value::Array(mut parts) = cbor::decode(signed.bytes()).unwrap() else { unreachable!() };
            parts[0] = Value::Text(Proposal::KIND.into());
            prop_assert!(Signed::<Proposal>::from_bytes(&cbor::encode(&Value::Array(parts))).is_err());
        }

        #[test]
        fn proposals_round_trip(t in any::<[u8; 16]>(), height in any::<u64>(), round in 1u64.., vr in proptest::option::of(0u64..1000), seed in any::<[u8; 32]>()) {
            let proposal = Proposal { tally: TallyId(t), height, round, valid_round: vr.filter(|v| *v < round), block: Digest([6; 32]) };
            let signed = Signed::sign(proposal, &SecretKey::from_seed(&seed));
            prop_assert_eq!(Signed::<Proposal>::from_bytes(signed.bytes()), Ok(signed));
        }
    }
}
