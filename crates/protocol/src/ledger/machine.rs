//! The ledger machine: Tendermint's Algorithm 1 with two-party quorums.
//!
//! Line numbers in comments refer to Algorithm 1 of Buchman, Kwon and
//! Milosevic, "The latest gossip on BFT consensus" (2018).

use std::collections::{BTreeMap, HashSet};

use tallymesh_core::block::{Block, EncodedBlock, Genesis, MAX_ENTRY_BYTES};
use tallymesh_core::cbor::{self, Value};
use tallymesh_core::certificate::Certificate;
use tallymesh_core::record::{Record, Signed};
use tallymesh_core::rules::{EntryContext, EntryRefused, EntryRules};
use tallymesh_core::tally_network::TallyNetwork;
use tallymesh_core::vote::{Proposal, Step, Vote};
use tallymesh_core::{Digest, PublicKey, SecretKey, Timestamp};
use thiserror::Error;

use super::config::LedgerConfig;
use super::io::{Durable, Event, Input, Outgoing, Output};
use super::message::{MAX_ENTRIES_PER_MESSAGE, MAX_PROOF_VOTES, Message};
use super::state::{
    Candidate, Chain, Checked, Height, MAX_VOTES_PER_STEP, Pending, PendingEntry, RoundStep, Timeout, TimeoutKind,
    check_block,
};
use crate::Limits;

/// Messages for the next height kept until this node gets there.
const MAX_FUTURE_MESSAGES: usize = 512;

/// Bytes of blocks sent in one reply (under the envelope's 1 MiB).
const SYNC_BYTES: usize = 768 * 1024;

/// Upper bound on rule firings in one step: each firing moves the state
/// forward, so this is never reached; it guards against a bug looping.
const MAX_FIRINGS: usize = 100_000;

/// Why durable records could not be restored.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RestoreError {
    /// The records do not describe a chain this machine could have made.
    #[error("the ledger's stored records are inconsistent: {0}")]
    Corrupt(String),
}

/// One node's consensus machine for one tally.
///
/// Sans-I/O: feed it [`Input`]s with the current time through
/// [`Ledger::step`], and carry out the returned [`Output`] in order
/// (persist, then send, then events).
pub struct Ledger<R: EntryRules> {
    config: LedgerConfig,
    limits: Limits,
    key: SecretKey,
    me: PublicKey,
    rules: R,
    chain: Chain<R::State>,
    h: Height<R::State>,
    pending: Pending,
    future: Vec<(PublicKey, Vec<u8>)>,
    future_ids: HashSet<Digest>,
    last_sync_request: Option<Timestamp>,
    last_served: BTreeMap<PublicKey, (Timestamp, u64)>,
    next_rebroadcast: Option<Timestamp>,
    /// The current gap between rebroadcasts: doubles while nothing
    /// changes, back to the configured interval on progress.
    rebroadcast_gap: u64,
    next_idle_sync: Option<Timestamp>,
    idle_sync_turn: usize,
    started: bool,
}

/// Reads a signed record's body without checking its signature: a cheap
/// look at heights and rounds before paying for verification.
fn peek<T: Record>(bytes: &[u8]) -> Option<T> {
    let Ok(Value::Array(parts)) = cbor::decode(bytes) else {
        return None;
    };
    match parts.as_slice() {
        [Value::Text(kind), Value::Bytes(body), _, _] if kind == T::KIND => {
            T::from_value(&cbor::decode(body).ok()?).ok()
        }
        _ => None,
    }
}

impl<R: EntryRules> Ledger<R> {
    /// A machine for a tally that starts at its genesis, signing with this
    /// node's `key`. `state` is the rules' state of the signed tally.
    pub fn new(config: LedgerConfig, key: SecretKey, genesis: Genesis, rules: R, state: R::State) -> Ledger<R> {
        let chain = Chain::new(&genesis, state, config.retained_blocks);
        Ledger {
            me: key.public(),
            h: Height::new(1, chain.network.clone()),
            chain,
            config,
            limits: Limits::default(),
            key,
            rules,
            pending: Pending::default(),
            future: Vec::new(),
            future_ids: HashSet::new(),
            last_sync_request: None,
            last_served: BTreeMap::new(),
            next_rebroadcast: None,
            rebroadcast_gap: 0,
            next_idle_sync: None,
            idle_sync_turn: 0,
            started: false,
        }
    }

    /// A machine rebuilt from the durable records a previous run produced
    /// (in the order it produced them): the certified chain is replayed
    /// through the rules, and the votes, proposal and lock of the height
    /// being decided are taken back so that this node never signs a second
    /// vote for a step it already voted in.
    pub fn restore(
        config: LedgerConfig,
        key: SecretKey,
        genesis: Genesis,
        rules: R,
        state: R::State,
        records: impl IntoIterator<Item = Durable>,
    ) -> Result<Ledger<R>, RestoreError> {
        let corrupt = |what: String| RestoreError::Corrupt(what);
        let mut ledger = Ledger::new(config, key, genesis, rules, state);
        let mut blocks = BTreeMap::new();
        let (mut votes, mut proposals, mut locks, mut pending) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let mut settled = HashSet::new();
        for record in records {
            match record {
                Durable::Block {
                    height,
                    block,
                    certificate,
                } => {
                    blocks.insert(height, (block, certificate));
                }
                Durable::Vote { height, vote, .. } => votes.push((height, vote)),
                Durable::Proposal { height, round, message } => proposals.push((height, round, message)),
                Durable::Lock {
                    height,
                    round,
                    block,
                    proof,
                } => locks.push((height, round, block, proof)),
                Durable::Pending { id, entry } => pending.push((id, entry)),
                Durable::Settled { ids } => settled.extend(ids),
            }
        }
        let mut certified_entries = HashSet::new();
        for (height, (bytes, certificate)) in blocks {
            let block = EncodedBlock::from_bytes(&bytes).map_err(|e| corrupt(format!("block {height}: {e}")))?;
            if height != ledger.chain.height.saturating_add(1) || block.block().height != height {
                return Err(corrupt(format!(
                    "block {height} does not follow block {}",
                    ledger.chain.height
                )));
            }
            let checked = check_block(&ledger.rules, &ledger.chain, &HashSet::new(), block.block())
                .map_err(|e| corrupt(format!("block {height}: {e}")))?;
            certified_entries.extend(block.block().entries.iter().map(|e| Digest::of(e)));
            ledger.chain.append(block, certificate, checked);
        }
        ledger.h = Height::new(ledger.chain.height.saturating_add(1), ledger.chain.network.clone());
        for (id, entry) in pending {
            if !settled.contains(&id) && !certified_entries.contains(&id) {
                ledger.pending.push(PendingEntry {
                    id,
                    bytes: entry,
                    own: true,
                    since: Timestamp::EPOCH,
                });
            }
        }
        let height = ledger.h.height;
        let mut round = 0;
        for (h, bytes) in votes.into_iter().filter(|(h, _)| *h == height) {
            let vote = Signed::<Vote>::from_bytes(&bytes).map_err(|e| corrupt(format!("vote at height {h}: {e}")))?;
            let v = vote.record();
            round = round.max(v.round);
            ledger.h.seen.insert(Digest::of(&bytes));
            ledger
                .h
                .votes
                .entry((v.round, v.step))
                .or_default()
                .insert(ledger.me, vec![vote.clone()]);
            ledger.h.own_votes.insert((v.round, v.step), vote);
        }
        for (_, r, message) in proposals.into_iter().filter(|(h, _, _)| *h == height) {
            let Ok(Message::Proposal { proposal, block, .. }) = Message::decode(&message, &ledger.limits) else {
                return Err(corrupt(format!("proposal of round {r}")));
            };
            let proposal = Signed::<Proposal>::from_bytes(&proposal).map_err(|e| corrupt(e.to_string()))?;
            let block = EncodedBlock::from_bytes(&block).map_err(|e| corrupt(e.to_string()))?;
            round = round.max(r);
            ledger.h.seen.insert(proposal.id());
            ledger.h.proposals.insert(r, proposal);
            ledger
                .h
                .blocks
                .entry(block.hash())
                .or_insert(Candidate { block, check: None });
            ledger.h.own_proposals.insert(r, message);
        }
        if let Some((_, r, bytes, proof)) = locks
            .into_iter()
            .filter(|(h, _, _, _)| *h == height)
            .max_by_key(|(_, r, _, _)| *r)
        {
            let block = EncodedBlock::from_bytes(&bytes).map_err(|e| corrupt(format!("lock: {e}")))?;
            round = round.max(r);
            for vote in proof {
                let vote = Signed::<Vote>::from_bytes(&vote).map_err(|e| corrupt(format!("lock proof: {e}")))?;
                let v = vote.record();
                if v.height != height || v.round != r || v.step != Step::Prevote || v.block != Some(block.hash()) {
                    return Err(corrupt("a lock's proof holds another vote".into()));
                }
                ledger.h.seen.insert(vote.id());
                let votes = ledger.h.votes.entry((r, Step::Prevote)).or_default();
                let by = votes.entry(*vote.signer()).or_default();
                if !by.iter().any(|x| x.record().block == v.block) {
                    by.push(vote);
                }
            }
            // A lock is also a valid value: a quorum prevoted it in that round.
            ledger.h.locked = Some((r, block.hash()));
            ledger.h.valid = Some((r, block.hash()));
            ledger
                .h
                .blocks
                .entry(block.hash())
                .or_insert(Candidate { block, check: None });
        }
        ledger.h.round = round;
        let voted = |step| ledger.h.own_votes.contains_key(&(round, step));
        ledger.h.step = if voted(Step::Precommit) {
            RoundStep::Precommit
        } else if voted(Step::Prevote) {
            RoundStep::Prevote
        } else {
            RoundStep::Propose
        };
        Ok(ledger)
    }

    /// Takes one input at time `now`. Never panics, whatever the input.
    pub fn step(&mut self, now: Timestamp, input: Input) -> Output {
        let mut out = Output::default();
        if !self.started {
            self.start(now, &mut out);
        }
        match input {
            Input::Tick => self.on_tick(now, &mut out),
            Input::Received { from, bytes } => self.on_bytes(now, from, &bytes, &mut out),
            Input::Submit { entry } => self.on_submit(now, entry, &mut out),
        }
        self.settle(now, &mut out);
        out.wake_at = self.next_wake();
        out
    }

    /// This node's key.
    pub fn node(&self) -> PublicKey {
        self.me
    }

    /// The height being decided: one above the last certified block.
    pub fn height(&self) -> u64 {
        self.h.height
    }

    /// The round of the height being decided.
    pub fn round(&self) -> u64 {
        self.h.round
    }

    /// The hash of the last certified block (the genesis hash before any).
    pub fn tip(&self) -> Digest {
        self.chain.tip
    }

    /// The tally network deciding the current height.
    pub fn network(&self) -> &TallyNetwork {
        &self.chain.network
    }

    /// The rules' state after the last certified block.
    pub fn state(&self) -> &R::State {
        &self.chain.state
    }

    /// Ids of the entries held as pending, oldest first.
    pub fn pending(&self) -> Vec<Digest> {
        self.pending.list.iter().map(|e| e.id).collect()
    }

    /// A certified block still held in memory, with its certificate.
    pub fn certified(&self, height: u64) -> Option<(&EncodedBlock, &[u8])> {
        self.chain.get(height).map(|(b, c)| (b, c.as_slice()))
    }

    /// A one-line summary of the consensus state, for logs and traces.
    pub fn summary(&self) -> String {
        let mut timeouts: Vec<String> = self
            .h
            .timeouts
            .iter()
            .map(|t| format!("{:?}@{}r{}", t.kind, t.at.as_millis() % 1_000_000, t.round))
            .collect();
        timeouts.sort();
        format!(
            "height {} round {} step {:?} locked {:?} valid {:?} active {:?} pending {} proposals {:?} votes {:?} timeouts [{}]",
            self.h.height,
            self.h.round,
            self.h.step,
            self.h.locked.map(|(r, _)| r),
            self.h.valid.map(|(r, _)| r),
            self.h.active_round,
            self.pending.len(),
            self.h.proposals.keys().collect::<Vec<_>>(),
            self.h
                .votes
                .iter()
                .map(|((r, s), b)| (*r, *s, b.len()))
                .collect::<Vec<_>>(),
            timeouts.join(" "),
        )
    }

    // ------------------------------------------------------------ inputs

    fn start(&mut self, now: Timestamp, out: &mut Output) {
        self.started = true;
        for entry in &mut self.pending.list {
            if entry.since == Timestamp::EPOCH {
                entry.since = now;
            }
        }
        // A node that starts (or restarts) asks every peer for what it
        // missed, resends what it had sent, and takes part in the round it
        // stopped in.
        let request = Message::SyncRequest {
            tally: self.chain.tally,
            from_height: self.h.height,
        };
        self.broadcast(request.encode(), out);
        self.last_sync_request = Some(now);
        self.next_idle_sync = Some(now.plus_millis(self.config.idle_sync_interval));
        let round = self.h.round;
        match self.h.step {
            RoundStep::Propose => {
                if self.h.heard_in(round) || !self.pending.is_empty() {
                    self.activate(now);
                }
            }
            RoundStep::Prevote => {
                self.h.active_round = Some(round);
                let at = now.plus_millis(self.config.grown(self.config.timeout_prevote, round));
                self.h.schedule(TimeoutKind::Prevote, round, at);
            }
            RoundStep::Precommit => {
                self.h.active_round = Some(round);
                let at = now.plus_millis(self.config.grown(self.config.timeout_precommit, round));
                self.h.schedule(TimeoutKind::Precommit, round, at);
            }
        }
        if self.engaged() {
            self.rebroadcast(out);
            self.rebroadcast_gap = self.config.rebroadcast_interval;
            self.next_rebroadcast = Some(now.plus_millis(self.rebroadcast_gap));
        }
    }

    /// Whether this node takes part in deciding the current height: it
    /// signed something at it, or has running timers. Such a node resends
    /// its latest votes until the height is decided, because a peer may be
    /// waiting for exactly the vote that was lost.
    fn engaged(&self) -> bool {
        self.h.active_round.is_some() || !self.h.own_votes.is_empty() || !self.h.own_proposals.is_empty()
    }

    fn on_tick(&mut self, now: Timestamp, out: &mut Output) {
        loop {
            let due = self
                .h
                .timeouts
                .iter()
                .enumerate()
                .filter(|(_, t)| t.at <= now)
                .min_by_key(|(_, t)| t.at)
                .map(|(i, _)| i);
            let Some(i) = due else { break };
            let timeout = self.h.timeouts.swap_remove(i);
            self.on_timeout(now, timeout, out);
            self.settle(now, out);
        }
        if self.next_rebroadcast.is_some_and(|at| at <= now) {
            if self.engaged() {
                self.rebroadcast(out);
                // Back off while nothing changes: a stalled height costs a
                // few small messages a minute, not a stream.
                let limit = self.config.rebroadcast_interval.saturating_mul(32);
                self.rebroadcast_gap = self.rebroadcast_gap.saturating_mul(2).clamp(1, limit);
                self.next_rebroadcast = Some(now.plus_millis(self.rebroadcast_gap));
            } else {
                self.next_rebroadcast = None;
            }
        }
        if self.next_idle_sync.is_some_and(|at| at <= now) {
            self.next_idle_sync = Some(now.plus_millis(self.config.idle_sync_interval));
            let peers: Vec<PublicKey> = self.chain.network.nodes().filter(|k| **k != self.me).copied().collect();
            if !peers.is_empty() {
                let peer = peers[self.idle_sync_turn % peers.len()];
                self.idle_sync_turn = self.idle_sync_turn.wrapping_add(1);
                let request = Message::SyncRequest {
                    tally: self.chain.tally,
                    from_height: self.h.height,
                };
                out.send.push(Outgoing {
                    to: vec![peer],
                    bytes: request.encode(),
                });
            }
        }
    }

    fn on_submit(&mut self, now: Timestamp, entry: Vec<u8>, out: &mut Output) {
        let id = Digest::of(&entry);
        match self.admit(now, &entry) {
            Err(refused) => out.events.push(Event::EntryRefused {
                id,
                reason: refused.reason,
            }),
            Ok(()) => {
                if let Some(held) = self.pending.list.iter_mut().find(|e| e.id == id) {
                    if held.own {
                        return;
                    }
                    held.own = true;
                } else if self.pending.len() >= self.config.max_pending {
                    out.events.push(Event::EntryRefused {
                        id,
                        reason: "too many entries are waiting for a block; try again later".into(),
                    });
                    return;
                } else {
                    self.pending.push(PendingEntry {
                        id,
                        bytes: entry.clone(),
                        own: true,
                        since: now,
                    });
                }
                out.persist.push(Durable::Pending {
                    id,
                    entry: entry.clone(),
                });
                out.events.push(Event::EntryPending { id });
                let offer = Message::Entries {
                    tally: self.chain.tally,
                    entries: vec![entry],
                };
                self.broadcast(offer.encode(), out);
                self.activate(now);
            }
        }
    }

    /// The checks an entry passes before it is held: size, the rules'
    /// stateless checks, and not refused for good after the chain's tip.
    fn admit(&self, now: Timestamp, entry: &[u8]) -> Result<(), EntryRefused> {
        if entry.is_empty() || entry.len() > MAX_ENTRY_BYTES {
            return Err(EntryRefused::never(format!(
                "an entry has 1 to {MAX_ENTRY_BYTES} bytes"
            )));
        }
        self.rules.admit(entry)?;
        let context = EntryContext {
            tally: self.chain.tally,
            height: self.h.height,
            time: now.max(self.chain.tip_time),
            network: &self.chain.network,
        };
        match self.rules.check(&self.chain.state, entry, &context) {
            Err(refused) if !refused.later => Err(refused),
            _ => Ok(()),
        }
    }

    fn on_bytes(&mut self, now: Timestamp, from: PublicKey, bytes: &[u8], out: &mut Output) {
        let message = match Message::decode(bytes, &self.limits) {
            Ok(message) => message,
            Err(e) => return refuse(out, from, e.to_string()),
        };
        if message.tally() != self.chain.tally {
            return refuse(out, from, "a message for another tally".into());
        }
        match message {
            Message::Proposal {
                proposal, block, proof, ..
            } => self.on_proposal(now, from, &proposal, &block, &proof, bytes, out),
            Message::Vote { vote, .. } => self.on_vote(now, from, &vote, Some(bytes), out),
            Message::Entries { entries, .. } => self.on_entries(now, from, entries, out),
            Message::SyncRequest { from_height, .. } => self.on_sync_request(now, from, from_height, out),
            Message::Blocks { blocks, .. } => self.on_blocks(now, from, blocks, out),
        }
    }

    /// Sorts a message by height: true if it is for the height being
    /// decided. Older ones tell of a peer that fell behind; newer ones of
    /// blocks this node missed (and are kept for later if just one ahead).
    fn for_this_height(
        &mut self,
        now: Timestamp,
        from: PublicKey,
        height: u64,
        raw: Option<&[u8]>,
        out: &mut Output,
    ) -> bool {
        if height < self.h.height {
            self.push_blocks(now, from, height, out);
            return false;
        }
        if height > self.h.height {
            if let Some(raw) = raw
                && height == self.h.height.saturating_add(1)
                && self.future.len() < MAX_FUTURE_MESSAGES
                && self.future_ids.insert(Digest::of(raw))
            {
                self.future.push((from, raw.to_vec()));
            }
            self.request_blocks(now, from, out);
            return false;
        }
        true
    }

    fn on_vote(&mut self, now: Timestamp, from: PublicKey, bytes: &[u8], raw: Option<&[u8]>, out: &mut Output) {
        let id = Digest::of(bytes);
        if self.h.seen.contains(&id) {
            return;
        }
        let Some(vote) = peek::<Vote>(bytes) else {
            return refuse(out, from, "a malformed vote".into());
        };
        if vote.tally != self.chain.tally {
            return refuse(out, from, "a vote for another tally".into());
        }
        if !self.for_this_height(now, from, vote.height, raw, out) {
            return;
        }
        let signed = match Signed::<Vote>::from_bytes(bytes) {
            Ok(signed) => signed,
            Err(e) => return refuse(out, from, format!("a vote: {e}")),
        };
        let signer = *signed.signer();
        if !self.h.network.contains(&signer) {
            return refuse(out, from, "a vote by a node outside the tally network".into());
        }
        self.note_round(signer, vote.round);
        if vote.round > self.h.round.saturating_add(self.config.future_rounds) {
            return;
        }
        let known = vote.block.is_none_or(|d| self.h.blocks.contains_key(&d));
        let book = self.h.votes.entry((vote.round, vote.step)).or_default();
        let votes = book.entry(signer).or_default();
        match votes.first() {
            None => {
                votes.push(signed);
                self.h.seen.insert(id);
                if vote.round == self.h.round {
                    self.activate(now);
                }
            }
            Some(first) => {
                if votes.iter().any(|v| v.record().block == vote.block) {
                    self.h.seen.insert(id);
                    return;
                }
                if self.h.reported.insert((signer, vote.round, vote.step)) {
                    out.events.push(Event::DoubleSigned {
                        node: signer,
                        first: first.bytes().to_vec(),
                        second: signed.bytes().to_vec(),
                    });
                }
                // Kept only for values that can matter, and boundedly; not
                // marked seen otherwise, so that it counts if it comes back
                // (with the proposal of its block, say).
                if known && votes.len() < MAX_VOTES_PER_STEP {
                    votes.push(signed);
                    self.h.seen.insert(id);
                }
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn on_proposal(
        &mut self,
        now: Timestamp,
        from: PublicKey,
        proposal_bytes: &[u8],
        block_bytes: &[u8],
        proof: &[Vec<u8>],
        raw: &[u8],
        out: &mut Output,
    ) {
        let id = Digest::of(proposal_bytes);
        if self.h.seen.contains(&id) {
            return;
        }
        let Some(peeked) = peek::<Proposal>(proposal_bytes) else {
            return refuse(out, from, "a malformed proposal".into());
        };
        if peeked.tally != self.chain.tally {
            return refuse(out, from, "a proposal for another tally".into());
        }
        if !self.for_this_height(now, from, peeked.height, Some(raw), out) {
            return;
        }
        let signed = match Signed::<Proposal>::from_bytes(proposal_bytes) {
            Ok(signed) => signed,
            Err(e) => return refuse(out, from, format!("a proposal: {e}")),
        };
        let p = signed.record().clone();
        let signer = *signed.signer();
        if signer != *self.h.network.proposer(p.height, p.round) {
            return refuse(
                out,
                from,
                "a proposal by a node that is not the round's proposer".into(),
            );
        }
        let block = match EncodedBlock::from_bytes(block_bytes) {
            Ok(block) => block,
            Err(e) => return refuse(out, from, format!("a proposed block: {e}")),
        };
        if block.hash() != p.block || block.block().height != p.height || block.block().tally != p.tally {
            return refuse(out, from, "a proposal whose block does not match it".into());
        }
        self.note_round(signer, p.round);
        if p.round > self.h.round.saturating_add(self.config.future_rounds) {
            return;
        }
        self.h.seen.insert(id);
        match self.h.proposals.get(&p.round) {
            Some(first) if first.record() == &p => {}
            Some(first) => {
                out.events.push(Event::DoubleSigned {
                    node: signer,
                    first: first.bytes().to_vec(),
                    second: signed.bytes().to_vec(),
                });
                return;
            }
            None => {
                self.h.proposals.insert(p.round, signed);
                self.h
                    .blocks
                    .entry(block.hash())
                    .or_insert(Candidate { block, check: None });
                if p.round == self.h.round {
                    self.activate(now);
                }
            }
        }
        // The block is known now, so its proof counts even where it
        // conflicts with what an equivocating node sent before.
        if p.valid_round.is_some() {
            for vote in proof.iter().take(MAX_PROOF_VOTES) {
                self.on_vote(now, from, vote, None, out);
            }
        }
    }

    fn on_entries(&mut self, now: Timestamp, from: PublicKey, entries: Vec<Vec<u8>>, out: &mut Output) {
        if !self.chain.network.contains(&from) {
            return refuse(out, from, "entries from a node outside the tally network".into());
        }
        let mut added = false;
        for entry in entries.into_iter().take(MAX_ENTRIES_PER_MESSAGE) {
            let id = Digest::of(&entry);
            if self.pending.contains(&id) || self.pending.len() >= self.config.max_pending {
                continue;
            }
            if self.admit(now, &entry).is_ok() {
                self.pending.push(PendingEntry {
                    id,
                    bytes: entry,
                    own: false,
                    since: now,
                });
                added = true;
            }
        }
        if added {
            self.activate(now);
        }
    }

    fn on_sync_request(&mut self, now: Timestamp, from: PublicKey, from_height: u64, out: &mut Output) {
        if from == self.me {
            return;
        }
        if !self.chain.network.contains(&from) {
            return refuse(
                out,
                from,
                "a block request from a node outside the tally network".into(),
            );
        }
        let from_height = from_height.max(1);
        if from_height > self.chain.height {
            return;
        }
        if let Some((at, last)) = self.last_served.get(&from)
            && from_height <= *last
            && now < at.plus_millis(self.config.sync_interval)
        {
            return;
        }
        self.last_served.insert(from, (now, from_height));
        self.send_blocks(from, from_height, out);
    }

    fn send_blocks(&mut self, to: PublicKey, from_height: u64, out: &mut Output) {
        if from_height < self.chain.first_retained() {
            out.events.push(Event::BlocksWanted { peer: to, from_height });
            return;
        }
        let blocks = self.chain.range(from_height, self.config.max_sync_blocks, SYNC_BYTES);
        if !blocks.is_empty() {
            let message = Message::Blocks {
                tally: self.chain.tally,
                blocks,
            };
            out.send.push(Outgoing {
                to: vec![to],
                bytes: message.encode(),
            });
        }
    }

    fn on_blocks(&mut self, now: Timestamp, from: PublicKey, blocks: Vec<(Vec<u8>, Vec<u8>)>, out: &mut Output) {
        let mut advanced = false;
        for (block_bytes, certificate) in blocks {
            let block = match EncodedBlock::from_bytes(&block_bytes) {
                Ok(block) => block,
                Err(e) => return refuse(out, from, format!("a certified block: {e}")),
            };
            let height = block.block().height;
            if height < self.h.height {
                continue;
            }
            if height > self.h.height {
                break;
            }
            match self.check_certified(&block, &certificate) {
                Ok((round, checked)) => {
                    self.commit(now, block, certificate, round, checked, out);
                    advanced = true;
                }
                Err(reason) => return refuse(out, from, reason),
            }
        }
        if advanced && from != self.me {
            let request = Message::SyncRequest {
                tally: self.chain.tally,
                from_height: self.h.height,
            };
            out.send.push(Outgoing {
                to: vec![from],
                bytes: request.encode(),
            });
            self.last_sync_request = Some(now);
        }
    }

    /// Checks a block offered with its certificate: the certificate is a
    /// quorum of precommits for it under the network of its height, and the
    /// block itself may follow the tip.
    fn check_certified(&self, block: &EncodedBlock, certificate: &[u8]) -> Result<(u64, Checked<R::State>), String> {
        let certificate = Certificate::from_bytes(certificate).map_err(|e| e.to_string())?;
        let round = certificate
            .verify(&self.chain.network, self.chain.tally, self.h.height, block.hash())
            .map_err(|e| format!("a block's certificate: {e}"))?;
        let checked = check_block(&self.rules, &self.chain, &self.pending.ids, block.block())?;
        Ok((round, checked))
    }

    // ------------------------------------------------------------ timers

    fn on_timeout(&mut self, now: Timestamp, timeout: Timeout, out: &mut Output) {
        if timeout.round != self.h.round {
            return;
        }
        match timeout.kind {
            // Line 57: OnTimeoutPropose.
            TimeoutKind::Propose if self.h.step == RoundStep::Propose => {
                self.cast(Step::Prevote, None, out);
                self.h.step = RoundStep::Prevote;
            }
            // Line 61: OnTimeoutPrevote.
            TimeoutKind::Prevote if self.h.step == RoundStep::Prevote => {
                self.cast(Step::Precommit, None, out);
                self.h.step = RoundStep::Precommit;
            }
            // Line 65: OnTimeoutPrecommit.
            TimeoutKind::Precommit => self.start_round(now, self.h.round.saturating_add(1), out),
            _ => {}
        }
    }

    fn next_wake(&self) -> Option<Timestamp> {
        self.h
            .timeouts
            .iter()
            .map(|t| t.at)
            .chain(self.next_rebroadcast)
            .chain(self.next_idle_sync)
            .min()
    }

    /// Takes part in the current round with running timers: called on
    /// anything that shows the round is live (a message of the round, an
    /// entry to certify). A node with nothing pending that hears nothing
    /// stays idle and sends nothing.
    fn activate(&mut self, now: Timestamp) {
        let round = self.h.round;
        if self.h.active_round == Some(round) {
            return;
        }
        self.h.active_round = Some(round);
        if self.h.step == RoundStep::Propose {
            let at = now.plus_millis(self.config.grown(self.config.timeout_propose, round));
            self.h.schedule(TimeoutKind::Propose, round, at);
        }
        self.progressed(now);
    }

    /// Something moved: rebroadcast soon again, at the base interval.
    fn progressed(&mut self, now: Timestamp) {
        self.rebroadcast_gap = self.config.rebroadcast_interval;
        let at = now.plus_millis(self.rebroadcast_gap);
        if self.next_rebroadcast.is_none_or(|next| next > at) {
            self.next_rebroadcast = Some(at);
        }
    }

    /// Resends what this node said in the current round and offers its
    /// pending entries to the round's proposer: with lossy links this is
    /// what makes rounds, and round skipping, eventually succeed.
    fn rebroadcast(&mut self, out: &mut Output) {
        let round = self.h.round;
        if let Some(message) = self.h.own_proposals.get(&round).cloned() {
            self.broadcast(message, out);
        }
        let latest = self.h.own_votes.keys().map(|(r, _)| *r).max();
        if let Some(latest) = latest {
            for step in [Step::Prevote, Step::Precommit] {
                if let Some(vote) = self.h.own_votes.get(&(latest, step)) {
                    let message = Message::Vote {
                        tally: self.chain.tally,
                        vote: vote.bytes().to_vec(),
                    };
                    self.broadcast(message.encode(), out);
                }
            }
        }
        self.offer_pending(out);
    }

    fn offer_pending(&self, out: &mut Output) {
        let proposer = *self.h.network.proposer(self.h.height, self.h.round);
        if proposer == self.me {
            return;
        }
        let entries: Vec<Vec<u8>> = self
            .pending
            .own()
            .take(MAX_ENTRIES_PER_MESSAGE)
            .map(|e| e.bytes.clone())
            .collect();
        if !entries.is_empty() {
            let offer = Message::Entries {
                tally: self.chain.tally,
                entries,
            };
            out.send.push(Outgoing {
                to: vec![proposer],
                bytes: offer.encode(),
            });
        }
    }

    // ------------------------------------------------------------ sync

    /// Asks `peer` for certified blocks from the height being decided, at
    /// most once per sync interval.
    fn request_blocks(&mut self, now: Timestamp, peer: PublicKey, out: &mut Output) {
        if peer == self.me
            || self
                .last_sync_request
                .is_some_and(|at| now < at.plus_millis(self.config.sync_interval))
        {
            return;
        }
        self.last_sync_request = Some(now);
        let request = Message::SyncRequest {
            tally: self.chain.tally,
            from_height: self.h.height,
        };
        out.send.push(Outgoing {
            to: vec![peer],
            bytes: request.encode(),
        });
    }

    /// Sends a member still deciding an older height the blocks it lacks,
    /// at most once per sync interval.
    fn push_blocks(&mut self, now: Timestamp, peer: PublicKey, their_height: u64, out: &mut Output) {
        if peer == self.me || !self.chain.network.contains(&peer) {
            return;
        }
        if self
            .last_served
            .get(&peer)
            .is_some_and(|(at, _)| now < at.plus_millis(self.config.sync_interval))
        {
            return;
        }
        self.last_served.insert(peer, (now, their_height));
        self.send_blocks(peer, their_height.max(1), out);
    }

    // ------------------------------------------------------------ rules

    fn settle(&mut self, now: Timestamp, out: &mut Output) {
        for _ in 0..MAX_FIRINGS {
            if !self.fire_one(now, out) {
                return;
            }
        }
    }

    /// Fires the first of Algorithm 1's `upon` rules whose condition holds.
    fn fire_one(&mut self, now: Timestamp, out: &mut Output) -> bool {
        if self.try_decide(now, out) || self.try_skip(now, out) || self.try_propose(now, out) {
            return true;
        }
        if self.try_prevote(now, out) {
            return true;
        }
        let round = self.h.round;
        // Line 34: a quorum of prevotes of any kind starts the prevote timer.
        if self.h.step == RoundStep::Prevote
            && self.h.prevote_timer != Some(round)
            && self.h.quorum_any(round, Step::Prevote)
        {
            self.h.prevote_timer = Some(round);
            let at = now.plus_millis(self.config.grown(self.config.timeout_prevote, round));
            self.h.schedule(TimeoutKind::Prevote, round, at);
        }
        if self.try_lock(out) || self.try_precommit_nil(out) {
            return true;
        }
        // Line 47: a quorum of precommits of any kind starts the precommit timer.
        if self.h.precommit_timer != Some(round) && self.h.quorum_any(round, Step::Precommit) {
            self.h.precommit_timer = Some(round);
            let at = now.plus_millis(self.config.grown(self.config.timeout_precommit, round));
            self.h.schedule(TimeoutKind::Precommit, round, at);
        }
        false
    }

    /// Line 49: a quorum of precommits for a known, valid block in any round
    /// of this height certifies it.
    fn try_decide(&mut self, now: Timestamp, out: &mut Output) -> bool {
        let decided = self.h.votes.iter().find_map(|((round, step), _)| {
            (*step == Step::Precommit)
                .then(|| self.h.quorum_block(*round, Step::Precommit).map(|d| (*round, d)))
                .flatten()
        });
        let Some((round, hash)) = decided else {
            return false;
        };
        if !self.h.blocks.contains_key(&hash) {
            // Certified, but this node never received the block: fetch it
            // with its certificate from a node that precommitted it.
            let signer = self
                .h
                .votes
                .get(&(round, Step::Precommit))
                .and_then(|book| {
                    book.iter()
                        .find(|(k, votes)| **k != self.me && votes.iter().any(|v| v.record().block == Some(hash)))
                })
                .map(|(k, _)| *k);
            if let Some(peer) = signer {
                self.request_blocks(now, peer, out);
            }
            return false;
        }
        if !self.valid(hash) {
            return false;
        }
        let votes = self.h.votes_for(round, Step::Precommit, Some(hash));
        let Some(Candidate {
            block,
            check: Some(Ok(checked)),
        }) = self.h.blocks.remove(&hash)
        else {
            return false;
        };
        let certificate = Certificate::new(votes).to_bytes();
        self.commit(now, block, certificate, round, checked, out);
        true
    }

    /// Line 55: messages of a later round from a skip set (more nodes of
    /// some party than that party may lose) move this node to that round.
    fn try_skip(&mut self, now: Timestamp, out: &mut Output) -> bool {
        let round = self.h.round;
        let mut ahead: Vec<(u64, PublicKey)> = self
            .h
            .highest_round
            .iter()
            .filter(|(_, r)| **r > round)
            .map(|(k, r)| (*r, *k))
            .collect();
        ahead.sort_by_key(|(r, _)| std::cmp::Reverse(*r));
        let mut signers = Vec::with_capacity(ahead.len());
        for (i, (r, key)) in ahead.iter().enumerate() {
            signers.push(*key);
            let last_of_round = ahead.get(i + 1).is_none_or(|next| next.0 != *r);
            if last_of_round && self.h.network.is_skip_set(&signers) {
                self.start_round(now, *r, out);
                return true;
            }
        }
        false
    }

    /// Lines 14-19: the round's proposer proposes its valid value if it has
    /// one, or else a new block of pending entries (none when nothing is
    /// pending: no empty blocks).
    fn try_propose(&mut self, now: Timestamp, out: &mut Output) -> bool {
        let (height, round) = (self.h.height, self.h.round);
        if self.h.step != RoundStep::Propose
            || self.h.active_round != Some(round)
            || *self.h.network.proposer(height, round) != self.me
            || self.h.own_proposals.contains_key(&round)
        {
            return false;
        }
        let (block, valid_round) = match self.h.valid {
            Some((valid_round, hash)) => match self.h.blocks.get(&hash) {
                Some(candidate) => (candidate.block.clone(), Some(valid_round)),
                None => return false,
            },
            None => match self.build_block(now) {
                Some((block, checked)) => {
                    self.h.blocks.insert(
                        block.hash(),
                        Candidate {
                            block: block.clone(),
                            check: Some(Ok(checked)),
                        },
                    );
                    (block, None)
                }
                None => return false,
            },
        };
        let proposal = Proposal {
            tally: self.chain.tally,
            height,
            round,
            valid_round,
            block: block.hash(),
        };
        let signed = Signed::sign(proposal, &self.key);
        let proof = valid_round
            .map(|vr| {
                self.h
                    .votes_for(vr, Step::Prevote, Some(block.hash()))
                    .iter()
                    .take(MAX_PROOF_VOTES)
                    .map(|v| v.bytes().to_vec())
                    .collect()
            })
            .unwrap_or_default();
        let message = Message::Proposal {
            tally: self.chain.tally,
            proposal: signed.bytes().to_vec(),
            block: block.bytes().to_vec(),
            proof,
        }
        .encode();
        out.persist.push(Durable::Proposal {
            height,
            round,
            message: message.clone(),
        });
        self.h.seen.insert(signed.id());
        self.h.proposals.insert(round, signed);
        self.h.own_proposals.insert(round, message.clone());
        self.broadcast(message, out);
        true
    }

    /// Lines 22-33: prevote the round's proposal if it is valid and this
    /// node is free to take it (not locked on another block, or the
    /// proposal carries a quorum's prevotes from a round at or after the
    /// lock); otherwise prevote nil.
    fn try_prevote(&mut self, now: Timestamp, out: &mut Output) -> bool {
        let round = self.h.round;
        if self.h.step != RoundStep::Propose {
            return false;
        }
        let Some(proposal) = self.h.proposals.get(&round).map(|p| p.record().clone()) else {
            return false;
        };
        let hash = proposal.block;
        let choice = match proposal.valid_round {
            None => {
                let free = self.h.locked.is_none_or(|(_, locked)| locked == hash);
                let fits = free && self.timely(hash, now) && self.valid(hash);
                fits.then_some(hash)
            }
            Some(valid_round) => {
                if !self.h.quorum_for(valid_round, Step::Prevote, Some(hash)) {
                    // Wait for the proof, or for the propose timeout.
                    return false;
                }
                let free = self
                    .h
                    .locked
                    .is_none_or(|(locked_round, locked)| locked_round <= valid_round || locked == hash);
                (free && self.valid(hash)).then_some(hash)
            }
        };
        self.cast(Step::Prevote, choice, out);
        self.h.step = RoundStep::Prevote;
        true
    }

    /// Lines 36-43: a quorum of prevotes for a valid block in this round
    /// locks this node on it (if still prevoting) and makes it the valid
    /// value. The lock is persisted with the precommit.
    fn try_lock(&mut self, out: &mut Output) -> bool {
        let round = self.h.round;
        if self.h.step == RoundStep::Propose || self.h.valid_set_in == Some(round) {
            return false;
        }
        let Some(hash) = self.h.quorum_block(round, Step::Prevote) else {
            return false;
        };
        if !self.valid(hash) {
            return false;
        }
        if self.h.step == RoundStep::Prevote {
            if self.h.network.contains(&self.me)
                && let Some(candidate) = self.h.blocks.get(&hash)
            {
                let proof = self
                    .h
                    .votes_for(round, Step::Prevote, Some(hash))
                    .iter()
                    .map(|v| v.bytes().to_vec())
                    .collect();
                out.persist.push(Durable::Lock {
                    height: self.h.height,
                    round,
                    block: candidate.block.bytes().to_vec(),
                    proof,
                });
            }
            self.h.locked = Some((round, hash));
            self.cast(Step::Precommit, Some(hash), out);
            self.h.step = RoundStep::Precommit;
        }
        self.h.valid = Some((round, hash));
        self.h.valid_set_in = Some(round);
        true
    }

    /// Lines 44-46: a quorum of nil prevotes: precommit nil.
    fn try_precommit_nil(&mut self, out: &mut Output) -> bool {
        let round = self.h.round;
        if self.h.step != RoundStep::Prevote || !self.h.quorum_for(round, Step::Prevote, None) {
            return false;
        }
        self.cast(Step::Precommit, None, out);
        self.h.step = RoundStep::Precommit;
        true
    }

    // ------------------------------------------------------------ actions

    /// Lines 11-21, StartRound.
    fn start_round(&mut self, now: Timestamp, round: u64, out: &mut Output) {
        self.h.round = round;
        self.h.step = RoundStep::Propose;
        self.prune_pending(now, out);
        // Take part with timers if the round is live: something of it was
        // heard, an entry waits, or a block may be decided (a valid value).
        if self.h.heard_in(round) || !self.pending.is_empty() || self.h.valid.is_some() {
            self.activate(now);
        }
        self.offer_pending(out);
    }

    /// Signs, records and sends this node's vote for the current round, or
    /// resends the vote it already signed for that step: never two.
    fn cast(&mut self, step: Step, block: Option<Digest>, out: &mut Output) {
        if !self.h.network.contains(&self.me) {
            return;
        }
        let round = self.h.round;
        let signed = match self.h.own_votes.get(&(round, step)) {
            Some(existing) => existing.clone(),
            None => {
                let vote = Vote {
                    tally: self.chain.tally,
                    height: self.h.height,
                    round,
                    step,
                    block,
                };
                let signed = Signed::sign(vote, &self.key);
                out.persist.push(Durable::Vote {
                    height: self.h.height,
                    round,
                    step,
                    vote: signed.bytes().to_vec(),
                });
                self.h.own_votes.insert((round, step), signed.clone());
                self.h.seen.insert(signed.id());
                self.h
                    .votes
                    .entry((round, step))
                    .or_default()
                    .insert(self.me, vec![signed.clone()]);
                self.rebroadcast_gap = self.config.rebroadcast_interval;
                signed
            }
        };
        let message = Message::Vote {
            tally: self.chain.tally,
            vote: signed.bytes().to_vec(),
        };
        self.broadcast(message.encode(), out);
    }

    /// Appends a certified block: persist it, report it, drop its entries
    /// from the pending pool, and start the next height.
    fn commit(
        &mut self,
        now: Timestamp,
        block: EncodedBlock,
        certificate: Vec<u8>,
        round: u64,
        checked: Checked<R::State>,
        out: &mut Output,
    ) {
        let height = block.block().height;
        out.persist.push(Durable::Block {
            height,
            block: block.bytes().to_vec(),
            certificate: certificate.clone(),
        });
        let ids: Vec<Digest> = block.block().entries.iter().map(|e| Digest::of(e)).collect();
        out.events.push(Event::BlockCertified {
            height,
            hash: block.hash(),
            round,
            block: block.bytes().to_vec(),
            certificate: certificate.clone(),
        });
        out.events
            .extend(ids.iter().map(|id| Event::EntryCertified { id: *id, height }));
        if let Some(network) = &checked.network {
            out.events.push(Event::NetworkChanged {
                height: height.saturating_add(1),
                network: network.clone(),
            });
        }
        let settled = self.pending.remove(&ids.iter().copied().collect());
        if !settled.is_empty() {
            out.persist.push(Durable::Settled { ids: settled });
        }
        self.chain.append(block, certificate, checked);
        self.h = Height::new(height.saturating_add(1), self.chain.network.clone());
        self.next_rebroadcast = None;
        self.start_round(now, 0, out);
        let future = std::mem::take(&mut self.future);
        self.future_ids.clear();
        for (from, bytes) in future {
            self.on_bytes(now, from, &bytes, out);
        }
    }

    /// A new block of pending entries, in arrival order, that the rules
    /// accept one after another; `None` if none is acceptable now.
    fn build_block(&self, now: Timestamp) -> Option<(EncodedBlock, Checked<R::State>)> {
        let time = now.max(self.chain.tip_time);
        let context = EntryContext {
            tally: self.chain.tally,
            height: self.h.height,
            time,
            network: &self.chain.network,
        };
        let mut state = self.chain.state.clone();
        let mut network = None;
        let mut entries = Vec::new();
        let mut bytes = 0usize;
        for entry in &self.pending.list {
            if entries.len() >= self.config.max_block_entries || bytes + entry.bytes.len() > self.config.max_block_bytes
            {
                break;
            }
            if let Ok(applied) = self.rules.apply(&mut state, &entry.bytes, &context) {
                if applied.network.is_some() {
                    network = applied.network;
                }
                bytes += entry.bytes.len();
                entries.push(entry.bytes.clone());
            }
        }
        if entries.is_empty() {
            return None;
        }
        let block = Block {
            tally: self.chain.tally,
            height: self.h.height,
            previous: self.chain.tip,
            time,
            proposer: self.me,
            entries,
        };
        Some((EncodedBlock::new(block), Checked { state, network }))
    }

    /// Drops pending entries the rules refuse for good after the tip, and
    /// those not acceptable yet that waited too long.
    fn prune_pending(&mut self, now: Timestamp, out: &mut Output) {
        if self.pending.is_empty() {
            return;
        }
        let context = EntryContext {
            tally: self.chain.tally,
            height: self.h.height,
            time: now.max(self.chain.tip_time),
            network: &self.chain.network,
        };
        let mut state = self.chain.state.clone();
        let mut dropped = HashSet::new();
        let mut refused_own = Vec::new();
        for entry in &self.pending.list {
            match self.rules.apply(&mut state, &entry.bytes, &context) {
                Ok(_) => {}
                Err(refused) => {
                    let expired = now >= entry.since.plus_millis(self.config.pending_ttl);
                    if !refused.later || expired {
                        dropped.insert(entry.id);
                        if entry.own {
                            refused_own.push((entry.id, refused.reason));
                        }
                    }
                }
            }
        }
        if dropped.is_empty() {
            return;
        }
        let settled = self.pending.remove(&dropped);
        if !settled.is_empty() {
            out.persist.push(Durable::Settled { ids: settled });
        }
        for (id, reason) in refused_own {
            out.events.push(Event::EntryRefused { id, reason });
        }
    }

    /// Tendermint's `valid(v)` for a block seen at this height, checked once.
    fn valid(&mut self, hash: Digest) -> bool {
        let Some(candidate) = self.h.blocks.get_mut(&hash) else {
            return false;
        };
        if candidate.check.is_none() {
            candidate.check = Some(check_block(
                &self.rules,
                &self.chain,
                &self.pending.ids,
                candidate.block.block(),
            ));
        }
        matches!(candidate.check, Some(Ok(_)))
    }

    /// A fresh proposal's block must not claim a time far in this node's
    /// future (blocks can only move time forward, so one far-future block
    /// would drag every later one along).
    fn timely(&self, hash: Digest, now: Timestamp) -> bool {
        self.h
            .blocks
            .get(&hash)
            .is_some_and(|c| c.block.block().time <= now.plus_millis(self.config.max_clock_skew))
    }

    fn note_round(&mut self, signer: PublicKey, round: u64) {
        let highest = self.h.highest_round.entry(signer).or_insert(round);
        *highest = (*highest).max(round);
    }

    /// Sends to every other node of the network deciding this height.
    fn broadcast(&self, bytes: Vec<u8>, out: &mut Output) {
        let to: Vec<PublicKey> = self.h.network.nodes().filter(|k| **k != self.me).copied().collect();
        if !to.is_empty() {
            out.send.push(Outgoing { to, bytes });
        }
    }
}

fn refuse(out: &mut Output, from: PublicKey, reason: String) {
    out.events.push(Event::Refused { from, reason });
}
