//! The ledger machine's memory: the certified chain, the consensus state of
//! the height being decided, and the pending entries.

use std::collections::{BTreeMap, BTreeSet, HashSet, VecDeque};

use tallymesh_core::block::{Block, EncodedBlock, Genesis};
use tallymesh_core::record::Signed;
use tallymesh_core::rules::{EntryContext, EntryRules};
use tallymesh_core::tally_network::{TallyId, TallyNetwork};
use tallymesh_core::vote::{Proposal, Step, Vote};
use tallymesh_core::{Digest, PublicKey, Timestamp};

/// The most votes kept per node for one step of one round. A node signs
/// one; more are proof of a byzantine node, kept (for nil or a known block
/// only) so that it counts for each value it signed, as Algorithm 1 counts
/// messages: dropping them could hide the prevotes that justify a
/// re-proposed block from some nodes and stall the height.
pub(crate) const MAX_VOTES_PER_STEP: usize = 4;

/// The votes of one step of one round, by signer.
pub(crate) type VoteBook = BTreeMap<PublicKey, Vec<Signed<Vote>>>;

/// What checking a block's entries produced: the rules' state after them
/// and the network they install for the next height, if any.
#[derive(Debug, Clone)]
pub(crate) struct Checked<S> {
    pub state: S,
    pub network: Option<TallyNetwork>,
}

/// The certified chain, as far as this node knows it.
pub(crate) struct Chain<S> {
    pub tally: TallyId,
    /// The last certified height (0: only the genesis).
    pub height: u64,
    pub tip: Digest,
    pub tip_time: Timestamp,
    /// The rules' state after the last certified block.
    pub state: S,
    /// The network that decides height `height + 1`.
    pub network: TallyNetwork,
    retained: VecDeque<(EncodedBlock, Vec<u8>)>,
    retain: usize,
}

impl<S> Chain<S> {
    pub fn new(genesis: &Genesis, state: S, retain: usize) -> Chain<S> {
        Chain {
            tally: genesis.tally,
            height: 0,
            tip: genesis.hash,
            tip_time: genesis.time,
            state,
            network: genesis.network.clone(),
            retained: VecDeque::new(),
            retain: retain.max(1),
        }
    }

    pub fn append(&mut self, block: EncodedBlock, certificate: Vec<u8>, checked: Checked<S>) {
        self.height = block.block().height;
        self.tip = block.hash();
        self.tip_time = block.block().time;
        self.state = checked.state;
        if let Some(network) = checked.network {
            self.network = network;
        }
        self.retained.push_back((block, certificate));
        while self.retained.len() > self.retain {
            self.retained.pop_front();
        }
    }

    /// The lowest height still held in memory.
    pub fn first_retained(&self) -> u64 {
        self.retained
            .front()
            .map_or(self.height.saturating_add(1), |(b, _)| b.block().height)
    }

    /// Retained certified blocks from `from`, at most `count` and about
    /// `budget` bytes (always at least one when there is one).
    pub fn range(&self, from: u64, count: usize, budget: usize) -> Vec<(Vec<u8>, Vec<u8>)> {
        let first = self.first_retained();
        let skip = usize::try_from(from.saturating_sub(first)).unwrap_or(usize::MAX);
        let mut out = Vec::new();
        let mut bytes = 0usize;
        for (block, certificate) in self.retained.iter().skip(skip).take(count) {
            let size = block.bytes().len() + certificate.len();
            if !out.is_empty() && bytes + size > budget {
                break;
            }
            bytes += size;
            out.push((block.bytes().to_vec(), certificate.clone()));
        }
        out
    }

    /// A retained certified block.
    pub fn get(&self, height: u64) -> Option<&(EncodedBlock, Vec<u8>)> {
        let index = usize::try_from(height.checked_sub(self.first_retained())?).ok()?;
        self.retained.get(index)
    }
}

/// Checks that `block` may follow the chain's tip: its place, its proposer,
/// and every entry under the rules. This is Tendermint's `valid(v)`, the
/// same on every node. Entries already in `admitted` skip the rules'
/// stateless checks, which they passed on arrival.
pub(crate) fn check_block<R: EntryRules>(
    rules: &R,
    chain: &Chain<R::State>,
    admitted: &HashSet<Digest>,
    block: &Block,
) -> Result<Checked<R::State>, String> {
    if block.tally != chain.tally {
        return Err("the block is for another tally".into());
    }
    if block.height != chain.height.saturating_add(1) {
        return Err(format!(
            "the block is for height {}, not {}",
            block.height,
            chain.height.saturating_add(1)
        ));
    }
    if block.previous != chain.tip {
        return Err("the block does not follow the last certified block".into());
    }
    if block.time < chain.tip_time {
        return Err("the block is older than the block before it".into());
    }
    if !chain.network.contains(&block.proposer) {
        return Err("the block's proposer is not in the tally network".into());
    }
    if block.entries.is_empty() {
        return Err("the block carries no entries".into());
    }
    let context = EntryContext {
        tally: chain.tally,
        height: block.height,
        time: block.time,
        network: &chain.network,
    };
    let mut ids = HashSet::with_capacity(block.entries.len());
    let mut state = chain.state.clone();
    let mut network = None;
    for entry in &block.entries {
        let id = Digest::of(entry);
        if !ids.insert(id) {
            return Err("the block carries an entry twice".into());
        }
        if !admitted.contains(&id) {
            rules.admit(entry).map_err(|e| format!("an entry is refused: {e}"))?;
        }
        let applied = rules
            .apply(&mut state, entry, &context)
            .map_err(|e| format!("an entry is refused: {e}"))?;
        if applied.network.is_some() {
            network = applied.network;
        }
    }
    Ok(Checked { state, network })
}

/// The three steps of a round.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum RoundStep {
    Propose,
    Prevote,
    Precommit,
}

/// Which timeout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TimeoutKind {
    Propose,
    Prevote,
    Precommit,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Timeout {
    pub at: Timestamp,
    pub kind: TimeoutKind,
    pub round: u64,
}

/// A block seen at this height, with its check once made.
pub(crate) struct Candidate<S> {
    pub block: EncodedBlock,
    pub check: Option<Result<Checked<S>, String>>,
}

/// Tendermint's per-height state (Algorithm 1's `round_p`, `step_p`,
/// `lockedValue/lockedRound`, `validValue/validRound`) and the messages
/// received for this height.
pub(crate) struct Height<S> {
    pub height: u64,
    pub network: TallyNetwork,
    pub round: u64,
    pub step: RoundStep,
    pub locked: Option<(u64, Digest)>,
    pub valid: Option<(u64, Digest)>,
    pub blocks: BTreeMap<Digest, Candidate<S>>,
    /// The first proposal from each round's proposer.
    pub proposals: BTreeMap<u64, Signed<Proposal>>,
    /// Each node's votes for each round and step: normally one; a node
    /// that signed several counts for each of them, as in Algorithm 1
    /// (see [`MAX_VOTES_PER_STEP`]).
    pub votes: BTreeMap<(u64, Step), VoteBook>,
    /// Nodes already reported for signing twice, per round and step.
    pub reported: HashSet<(PublicKey, u64, Step)>,
    /// The highest round each member has been seen in.
    pub highest_round: BTreeMap<PublicKey, u64>,
    pub own_votes: BTreeMap<(u64, Step), Signed<Vote>>,
    /// Proposal messages this node sent, by round.
    pub own_proposals: BTreeMap<u64, Vec<u8>>,
    /// The round whose prevote timeout was scheduled (Algorithm 1 line 34).
    pub prevote_timer: Option<u64>,
    /// The round whose precommit timeout was scheduled (line 47).
    pub precommit_timer: Option<u64>,
    /// The round in which line 36 fired.
    pub valid_set_in: Option<u64>,
    /// The round in which this node takes part with running timers.
    pub active_round: Option<u64>,
    pub timeouts: Vec<Timeout>,
    /// Ids of signed votes and proposals already taken in.
    pub seen: HashSet<Digest>,
}

impl<S> Height<S> {
    pub fn new(height: u64, network: TallyNetwork) -> Height<S> {
        Height {
            height,
            network,
            round: 0,
            step: RoundStep::Propose,
            locked: None,
            valid: None,
            blocks: BTreeMap::new(),
            proposals: BTreeMap::new(),
            votes: BTreeMap::new(),
            reported: HashSet::new(),
            highest_round: BTreeMap::new(),
            own_votes: BTreeMap::new(),
            own_proposals: BTreeMap::new(),
            prevote_timer: None,
            precommit_timer: None,
            valid_set_in: None,
            active_round: None,
            timeouts: Vec::new(),
            seen: HashSet::new(),
        }
    }

    /// The signers of the votes for `value` (`None`: any value) in one step
    /// of one round.
    fn signers(&self, round: u64, step: Step, value: Option<Option<Digest>>) -> Vec<PublicKey> {
        self.votes
            .get(&(round, step))
            .map(|book| {
                book.iter()
                    .filter(|(_, votes)| value.is_none_or(|x| votes.iter().any(|v| v.record().block == x)))
                    .map(|(k, _)| *k)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The signed votes for `value` in one step of one round, one per node.
    pub fn votes_for(&self, round: u64, step: Step, value: Option<Digest>) -> Vec<Signed<Vote>> {
        self.votes
            .get(&(round, step))
            .map(|book| {
                book.values()
                    .filter_map(|votes| votes.iter().find(|v| v.record().block == value).cloned())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Whether a quorum voted `value` in this step of this round.
    pub fn quorum_for(&self, round: u64, step: Step, value: Option<Digest>) -> bool {
        self.network.is_quorum(self.signers(round, step, Some(value)))
    }

    /// Whether a quorum voted anything in this step of this round.
    pub fn quorum_any(&self, round: u64, step: Step) -> bool {
        self.network.is_quorum(self.signers(round, step, None))
    }

    /// The block, if any, that a quorum voted for in this step and round.
    pub fn quorum_block(&self, round: u64, step: Step) -> Option<Digest> {
        let book = self.votes.get(&(round, step))?;
        let values: BTreeSet<Digest> = book.values().flatten().filter_map(|v| v.record().block).collect();
        values.into_iter().find(|d| self.quorum_for(round, step, Some(*d)))
    }

    /// Whether anything of `round` was received.
    pub fn heard_in(&self, round: u64) -> bool {
        self.proposals.contains_key(&round)
            || self.votes.contains_key(&(round, Step::Prevote))
            || self.votes.contains_key(&(round, Step::Precommit))
    }

    pub fn schedule(&mut self, kind: TimeoutKind, round: u64, at: Timestamp) {
        self.timeouts.push(Timeout { at, kind, round });
    }
}

/// An entry waiting for a block.
pub(crate) struct PendingEntry {
    pub id: Digest,
    pub bytes: Vec<u8>,
    /// Submitted on this node (and so durable here).
    pub own: bool,
    pub since: Timestamp,
}

/// Entries waiting for a block, in arrival order.
#[derive(Default)]
pub(crate) struct Pending {
    pub list: Vec<PendingEntry>,
    pub ids: HashSet<Digest>,
}

impl Pending {
    pub fn len(&self) -> usize {
        self.list.len()
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    pub fn contains(&self, id: &Digest) -> bool {
        self.ids.contains(id)
    }

    pub fn push(&mut self, entry: PendingEntry) {
        if self.ids.insert(entry.id) {
            self.list.push(entry);
        }
    }

    /// Removes the entries whose ids are in `ids`, returning the ids of
    /// those submitted here.
    pub fn remove(&mut self, ids: &HashSet<Digest>) -> Vec<Digest> {
        let mut own = Vec::new();
        self.list.retain(|e| {
            if ids.contains(&e.id) {
                if e.own {
                    own.push(e.id);
                }
                false
            } else {
                true
            }
        });
        self.ids.retain(|id| !ids.contains(id));
        own
    }

    pub fn own(&self) -> impl Iterator<Item = &PendingEntry> {
        self.list.iter().filter(|e| e.own)
    }
}
