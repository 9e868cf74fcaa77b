//! The tally network: the nodes both parties nominated for a tally, and the
//! quorum rule that makes a block final.
//!
//! A quorum is **more than a threshold of the stock party's nodes *and*
//! more than a threshold of the foil party's nodes**. Each threshold is at
//! least one half (a majority, the default), so any two quorums share at
//! least one node of each party: a party whose own nodes are honest can
//! never see two different blocks certified at one height, whatever the
//! other party does, and neither party can certify anything alone.
//!
//! ```
//! use tallymesh_core::tally_network::{TallyNetwork, Threshold};
//! use tallymesh_core::SecretKey;
//!
//! let key = |n: u8| SecretKey::from_seed(&[n; 32]).public();
//! let network = TallyNetwork::new(vec![key(1)], vec![key(2), key(3), key(4)]).unwrap();
//! // One stock node, and a majority (2) of the three foil nodes.
//! assert_eq!(network.quorum_size(tallymesh_core::tally_network::Side::Foil), 2);
//! assert!(network.is_quorum([key(1), key(2), key(4)].iter()));
//! assert!(!network.is_quorum([key(2), key(3), key(4)].iter()), "the foil party alone is not a quorum");
//! assert_eq!(Threshold::TWO_THIRDS.quorum(4), 3);
//! ```

use std::collections::BTreeSet;

use thiserror::Error;

use crate::cbor::{self, Value};
use crate::record::{Fields, RecordError};
use crate::{Digest, PublicKey};

/// The most nodes one party may nominate for a tally.
pub const MAX_NODES_PER_SIDE: usize = 32;

/// A tally's id: a UUIDv7 chosen by the party that drafted it.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TallyId(pub [u8; 16]);

impl TallyId {
    /// The id in `bytes`, which must be 16 long.
    pub fn from_bytes(bytes: &[u8]) -> Option<TallyId> {
        bytes.try_into().ok().map(TallyId)
    }

    /// The 16 bytes of the id.
    pub fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }
}

impl std::fmt::Display for TallyId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&crate::hash::hex(&self.0))
    }
}

impl std::fmt::Debug for TallyId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TallyId({})", crate::hash::hex(&self.0))
    }
}

/// One of the two parties of a tally.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Side {
    /// The expected creditor (vendor).
    Stock,
    /// The expected debtor (client).
    Foil,
}

impl Side {
    /// Both sides, stock first.
    pub const BOTH: [Side; 2] = [Side::Stock, Side::Foil];
}

/// How much of one party's nodes a quorum needs: **more than**
/// `numerator / denominator` of them.
///
/// Only fractions in `[1/2, 1)` are allowed. At least one half keeps any two
/// quorums overlapping on every side; below one keeps a quorum reachable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Threshold {
    numerator: u8,
    denominator: u8,
}

impl Threshold {
    /// More than half: a simple majority (the default).
    pub const MAJORITY: Threshold = Threshold {
        numerator: 1,
        denominator: 2,
    };

    /// More than two thirds.
    pub const TWO_THIRDS: Threshold = Threshold {
        numerator: 2,
        denominator: 3,
    };

    /// More than `numerator / denominator`, which must be in `[1/2, 1)`.
    pub fn new(numerator: u8, denominator: u8) -> Result<Threshold, NetworkError> {
        let at_least_half = u16::from(numerator) * 2 >= u16::from(denominator);
        if denominator == 0 || numerator >= denominator || !at_least_half {
            return Err(NetworkError::BadThreshold { numerator, denominator });
        }
        Ok(Threshold { numerator, denominator })
    }

    /// The fraction's numerator.
    pub fn numerator(&self) -> u8 {
        self.numerator
    }

    /// The fraction's denominator.
    pub fn denominator(&self) -> u8 {
        self.denominator
    }

    /// The fewest of `nodes` nodes that are more than the threshold.
    pub fn quorum(&self, nodes: usize) -> usize {
        nodes * usize::from(self.numerator) / usize::from(self.denominator) + 1
    }
}

impl Default for Threshold {
    fn default() -> Self {
        Threshold::MAJORITY
    }
}

/// Why a tally network was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum NetworkError {
    /// A party nominated no node.
    #[error("each party must nominate at least one node")]
    EmptySide,
    /// A party nominated too many nodes.
    #[error("a party may nominate at most {MAX_NODES_PER_SIDE} nodes")]
    TooManyNodes,
    /// A node appears twice (within one party or in both).
    #[error("a node may be nominated only once, by one party")]
    DuplicateNode,
    /// The threshold fraction is outside `[1/2, 1)`.
    #[error("a threshold of {numerator}/{denominator} is not between one half and one")]
    BadThreshold {
        /// The numerator given.
        numerator: u8,
        /// The denominator given.
        denominator: u8,
    },
}

/// The nodes both parties nominated for a tally, with each side's threshold.
///
/// CBOR (map): 0 stock node keys (array of bytes(32)), 1 foil node keys,
/// 2 stock threshold `[numerator, denominator]`, 3 foil threshold.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TallyNetwork {
    stock: Vec<PublicKey>,
    foil: Vec<PublicKey>,
    stock_threshold: Threshold,
    foil_threshold: Threshold,
}

impl TallyNetwork {
    /// A network with majority thresholds on both sides.
    pub fn new(stock: Vec<PublicKey>, foil: Vec<PublicKey>) -> Result<TallyNetwork, NetworkError> {
        TallyNetwork::with_thresholds(stock, foil, Threshold::MAJORITY, Threshold::MAJORITY)
    }

    /// A network with the given per-side thresholds.
    pub fn with_thresholds(
        stock: Vec<PublicKey>,
        foil: Vec<PublicKey>,
        stock_threshold: Threshold,
        foil_threshold: Threshold,
    ) -> Result<TallyNetwork, NetworkError> {
        if stock.is_empty() || foil.is_empty() {
            return Err(NetworkError::EmptySide);
        }
        if stock.len() > MAX_NODES_PER_SIDE || foil.len() > MAX_NODES_PER_SIDE {
            return Err(NetworkError::TooManyNodes);
        }
        let distinct: BTreeSet<&PublicKey> = stock.iter().chain(&foil).collect();
        if distinct.len() != stock.len() + foil.len() {
            return Err(NetworkError::DuplicateNode);
        }
        Ok(TallyNetwork {
            stock,
            foil,
            stock_threshold,
            foil_threshold,
        })
    }

    /// The nodes of one side, in the order their party nominated them.
    pub fn side(&self, side: Side) -> &[PublicKey] {
        match side {
            Side::Stock => &self.stock,
            Side::Foil => &self.foil,
        }
    }

    /// The threshold of one side.
    pub fn threshold(&self, side: Side) -> Threshold {
        match side {
            Side::Stock => self.stock_threshold,
            Side::Foil => self.foil_threshold,
        }
    }

    /// Every node, stock nodes first: the proposer rotation's order.
    pub fn nodes(&self) -> impl Iterator<Item = &PublicKey> {
        self.stock.iter().chain(&self.foil)
    }

    /// How many nodes the network has.
    pub fn len(&self) -> usize {
        self.stock.len() + self.foil.len()
    }

    /// Always false: both sides have at least one node.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The side `node` belongs to, if it is a member.
    pub fn side_of(&self, node: &PublicKey) -> Option<Side> {
        if self.stock.contains(node) {
            Some(Side::Stock)
        } else if self.foil.contains(node) {
            Some(Side::Foil)
        } else {
            None
        }
    }

    /// Whether `node` is a member.
    pub fn contains(&self, node: &PublicKey) -> bool {
        self.side_of(node).is_some()
    }

    /// How many of a side's nodes a quorum needs.
    pub fn quorum_size(&self, side: Side) -> usize {
        self.threshold(side).quorum(self.side(side).len())
    }

    /// How many of a side's nodes may fail (crash or lie) while the others
    /// still make a quorum of that side.
    pub fn tolerated_faults(&self, side: Side) -> usize {
        self.side(side).len() - self.quorum_size(side)
    }

    fn count(&self, signers: impl IntoIterator<Item = impl std::borrow::Borrow<PublicKey>>) -> (usize, usize) {
        let distinct: BTreeSet<PublicKey> = signers.into_iter().map(|k| *k.borrow()).collect();
        distinct.iter().fold((0, 0), |(s, f), key| match self.side_of(key) {
            Some(Side::Stock) => (s + 1, f),
            Some(Side::Foil) => (s, f + 1),
            None => (s, f),
        })
    }

    /// Whether `signers` (repeats and non-members ignored) hold more than
    /// the threshold of the stock nodes **and** of the foil nodes.
    pub fn is_quorum(&self, signers: impl IntoIterator<Item = impl std::borrow::Borrow<PublicKey>>) -> bool {
        let (stock, foil) = self.count(signers);
        stock >= self.quorum_size(Side::Stock) && foil >= self.quorum_size(Side::Foil)
    }

    /// Whether `signers` hold more nodes of some side than that side may
    /// lose: while each side has a quorum of correct nodes, such a set holds
    /// at least one correct node. This is the two-sided form of
    /// Tendermint's "f + 1" (used to skip to a later round).
    pub fn is_skip_set(&self, signers: impl IntoIterator<Item = impl std::borrow::Borrow<PublicKey>>) -> bool {
        let (stock, foil) = self.count(signers);
        stock > self.tolerated_faults(Side::Stock) || foil > self.tolerated_faults(Side::Foil)
    }

    /// The node that proposes in `round` of `height`: a round robin over
    /// [`TallyNetwork::nodes`], moving one place per height and per round.
    pub fn proposer(&self, height: u64, round: u64) -> &PublicKey {
        let n = self.len() as u64;
        let index = (height % n + round % n) % n;
        let index = usize::try_from(index).unwrap_or(0);
        if index < self.stock.len() {
            &self.stock[index]
        } else {
            &self.foil[index - self.stock.len()]
        }
    }

    /// The network as a CBOR value.
    pub fn to_value(&self) -> Value {
        let keys =
            |side: &[PublicKey]| Value::Array(side.iter().map(|k| Value::Bytes(k.as_bytes().to_vec())).collect());
        let threshold = |t: Threshold| {
            Value::Array(vec![
                Value::Uint(u64::from(t.numerator)),
                Value::Uint(u64::from(t.denominator)),
            ])
        };
        Value::map([
            (0, keys(&self.stock)),
            (1, keys(&self.foil)),
            (2, threshold(self.stock_threshold)),
            (3, threshold(self.foil_threshold)),
        ])
    }

    /// The network from a CBOR value, checking every rule.
    pub fn from_value(value: &Value) -> Result<TallyNetwork, RecordError> {
        let f = Fields::named("tally network", value)?;
        let keys = |field: u64| -> Result<Vec<PublicKey>, RecordError> {
            let items = f.array(field)?;
            if items.len() > MAX_NODES_PER_SIDE {
                return Err(RecordError::Invalid(NetworkError::TooManyNodes.to_string()));
            }
            items
                .iter()
                .map(|item| match item {
                    Value::Bytes(b) => PublicKey::from_bytes(b).map_err(RecordError::from),
                    _ => Err(RecordError::Shape("a node key is a byte string".into())),
                })
                .collect()
        };
        let threshold = |field: u64| -> Result<Threshold, RecordError> {
            let small = |v: &Value| match v {
                Value::Uint(n) => u8::try_from(*n).ok(),
                _ => None,
            };
            match f.array(field)? {
                [n, d] => match (small(n), small(d)) {
                    (Some(n), Some(d)) => Threshold::new(n, d).map_err(|e| RecordError::Invalid(e.to_string())),
                    _ => Err(RecordError::Shape("a threshold is two small integers".into())),
                },
                _ => Err(RecordError::Shape("a threshold is [numerator, denominator]".into())),
            }
        };
        TallyNetwork::with_thresholds(keys(0)?, keys(1)?, threshold(2)?, threshold(3)?)
            .map_err(|e| RecordError::Invalid(e.to_string()))
    }

    /// The SHA-256 of the network's deterministic encoding.
    pub fn digest(&self) -> Digest {
        Digest::of(&cbor::encode(&self.to_value()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SecretKey;
    use proptest::prelude::*;

    fn keys(from: u8, n: usize) -> Vec<PublicKey> {
        (0..n)
            .map(|i| SecretKey::from_seed(&[from + i as u8; 32]).public())
            .collect()
    }

    #[test]
    fn thresholds_outside_half_to_one_are_refused() {
        assert!(Threshold::new(1, 3).is_err(), "below one half");
        assert!(Threshold::new(3, 3).is_err(), "one");
        assert!(Threshold::new(1, 0).is_err());
        assert!(Threshold::new(1, 2).is_ok());
        assert!(Threshold::new(3, 4).is_ok());
    }

    #[test]
    fn quorum_sizes_for_common_splits() {
        let m = Threshold::MAJORITY;
        assert_eq!([1, 2, 3, 4, 5].map(|n| m.quorum(n)), [1, 2, 2, 3, 3]);
        let t = Threshold::TWO_THIRDS;
        assert_eq!([1, 2, 3, 4, 6, 7].map(|n| t.quorum(n)), [1, 2, 3, 3, 5, 5]);
    }

    #[test]
    fn a_node_nominated_twice_or_an_empty_side_is_refused() {
        let a = keys(1, 2);
        assert_eq!(
            TallyNetwork::new(a.clone(), vec![a[0]]),
            Err(NetworkError::DuplicateNode)
        );
        assert_eq!(
            TallyNetwork::new(vec![a[0], a[0]], vec![a[1]]),
            Err(NetworkError::DuplicateNode)
        );
        assert_eq!(TallyNetwork::new(vec![], a), Err(NetworkError::EmptySide));
    }

    #[test]
    fn one_party_alone_is_never_a_quorum() {
        let network = TallyNetwork::new(keys(1, 3), keys(10, 4)).unwrap();
        assert!(!network.is_quorum(network.side(Side::Stock)));
        assert!(!network.is_quorum(network.side(Side::Foil)));
        assert!(network.is_quorum(network.nodes()));
    }

    #[test]
    fn non_members_and_repeats_do_not_count() {
        let network = TallyNetwork::new(keys(1, 1), keys(10, 1)).unwrap();
        let stranger = keys(50, 1)[0];
        let s = network.side(Side::Stock)[0];
        assert!(!network.is_quorum([s, s, stranger]));
    }

    #[test]
    fn the_proposer_rotates_over_every_node() {
        let network = TallyNetwork::new(keys(1, 1), keys(10, 2)).unwrap();
        let seen: BTreeSet<PublicKey> = (0..3).map(|r| *network.proposer(5, r)).collect();
        assert_eq!(seen.len(), 3);
        assert_eq!(network.proposer(5, 1), network.proposer(6, 0));
        assert_eq!(
            network.proposer(u64::MAX, u64::MAX),
            network.proposer(u64::MAX, u64::MAX)
        );
    }

    fn subset(all: &[PublicKey], mask: u64) -> Vec<PublicKey> {
        all.iter()
            .enumerate()
            .filter(|(i, _)| mask & (1 << i) != 0)
            .map(|(_, k)| *k)
            .collect()
    }

    fn any_threshold() -> impl Strategy<Value = Threshold> {
        (1u8..=20, 2u8..=21).prop_filter_map("in [1/2, 1)", |(n, d)| Threshold::new(n, d).ok())
    }

    proptest! {
        #[test]
        fn any_two_quorums_share_a_node_of_each_party(
            stock_n in 1usize..=8,
            foil_n in 1usize..=8,
            st in any_threshold(),
            ft in any_threshold(),
            a in any::<u64>(),
            b in any::<u64>(),
        ) {
            let network = TallyNetwork::with_thresholds(keys(1, stock_n), keys(100, foil_n), st, ft).unwrap();
            let all: Vec<PublicKey> = network.nodes().copied().collect();
            let (qa, qb) = (subset(&all, a), subset(&all, b));
            if network.is_quorum(&qa) && network.is_quorum(&qb) {
                for side in Side::BOTH {
                    let shared = qa.iter().any(|k| qb.contains(k) && network.side_of(k) == Some(side));
                    prop_assert!(shared, "quorums {qa:?} and {qb:?} share no {side:?} node");
                }
            }
        }

        #[test]
        fn a_skip_set_meets_every_set_of_correct_nodes_that_can_make_a_quorum(
            stock_n in 1usize..=8,
            foil_n in 1usize..=8,
            a in any::<u64>(),
            b in any::<u64>(),
        ) {
            // If `correct` alone makes a quorum and `skip` is a skip set, the
            // skip set holds a correct node.
            let network = TallyNetwork::new(keys(1, stock_n), keys(100, foil_n)).unwrap();
            let all: Vec<PublicKey> = network.nodes().copied().collect();
            let (correct, skip) = (subset(&all, a), subset(&all, b));
            if network.is_quorum(&correct) && network.is_skip_set(&skip) {
                prop_assert!(skip.iter().any(|k| correct.contains(k)));
            }
        }

        #[test]
        fn networks_round_trip_through_cbor(stock_n in 1usize..=5, foil_n in 1usize..=5, st in any_threshold(), ft in any_threshold()) {
            let network = TallyNetwork::with_thresholds(keys(1, stock_n), keys(100, foil_n), st, ft).unwrap();
            let bytes = cbor::encode(&network.to_value());
            let decoded = TallyNetwork::from_value(&cbor::decode(&bytes).unwrap()).unwrap();
            prop_assert_eq!(&decoded, &network);
            prop_assert_eq!(decoded.digest(), network.digest());
        }
    }
}
