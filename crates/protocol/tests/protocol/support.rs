//! The step-by-step harness shared by the ledger tests: real ledger
//! machines of one tally, a queue of their messages delivered in order,
//! nodes that can be cut off, and simulated time.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use tallymesh_core::block::{Block, EncodedBlock, Genesis};
use tallymesh_core::record::Signed;
use tallymesh_core::tally_network::{TallyId, TallyNetwork};
use tallymesh_core::vote::{Proposal, Step, Vote};
use tallymesh_core::{Digest, PublicKey, SecretKey, Timestamp};
use tallymesh_protocol::ledger::{Durable, Event, Input, Ledger, LedgerConfig, Message, Output};
use tallymesh_protocol::sim::{SimChit, SimRules, SimState};

/// The tally every test ledger keeps.
pub const TALLY: TallyId = TallyId([3; 16]);

/// The simulated clock: `ms` after the tally's genesis.
pub fn at(ms: u64) -> Timestamp {
    Timestamp::from_millis(1_000_000 + ms)
}

/// A tally between two parties, with `stock + foil` nodes and machines.
pub struct Tally {
    pub parties: [SecretKey; 2],
    pub keys: Vec<SecretKey>,
    pub genesis: Genesis,
    pub rules: SimRules,
    pub nodes: Vec<Option<Ledger<SimRules>>>,
    pub durable: Vec<Vec<Durable>>,
    pub events: Vec<Vec<Event>>,
    pub queue: VecDeque<(usize, PublicKey, Vec<u8>)>,
    /// Nodes whose incoming messages are dropped.
    pub cut: Vec<bool>,
    /// Every message each node sent, delivered or not.
    pub sent: Vec<Vec<Vec<u8>>>,
    pub now: u64,
    pub serial: u64,
}

impl Tally {
    pub fn new(stock: usize, foil: usize) -> Tally {
        Tally::with_spares(stock, foil, 0)
    }

    /// `spares` extra nodes that are not (yet) members.
    pub fn with_spares(stock: usize, foil: usize, spares: usize) -> Tally {
        let keys: Vec<SecretKey> = (0..stock + foil + spares)
            .map(|i| SecretKey::from_seed(&[10 + i as u8; 32]))
            .collect();
        let public: Vec<PublicKey> = keys.iter().map(SecretKey::public).collect();
        let network = TallyNetwork::new(public[..stock].to_vec(), public[stock..stock + foil].to_vec()).unwrap();
        let parties = [SecretKey::from_seed(&[1; 32]), SecretKey::from_seed(&[2; 32])];
        let genesis = Genesis {
            tally: TALLY,
            hash: Digest::of(b"the signed tally"),
            time: at(0),
            network,
        };
        let rules = SimRules {
            tally: TALLY,
            stock: parties[0].public(),
            foil: parties[1].public(),
        };
        let n = keys.len();
        let mut tally = Tally {
            parties,
            keys,
            genesis,
            rules,
            nodes: Vec::new(),
            durable: vec![Vec::new(); n],
            events: vec![Vec::new(); n],
            queue: VecDeque::new(),
            cut: vec![false; n],
            sent: vec![Vec::new(); n],
            now: 0,
            serial: 0,
        };
        tally.nodes = (0..n).map(|i| Some(tally.machine(i))).collect();
        tally
    }

    pub fn machine(&self, i: usize) -> Ledger<SimRules> {
        Ledger::new(
            LedgerConfig::default(),
            SecretKey::from_seed(&self.keys[i].seed()),
            self.genesis.clone(),
            self.rules.clone(),
            SimState::default(),
        )
    }

    pub fn node(&self, i: usize) -> &Ledger<SimRules> {
        self.nodes[i].as_ref().unwrap()
    }

    pub fn chit(&mut self, party: usize) -> Vec<u8> {
        self.serial += 1;
        let chit = SimChit {
            tally: TALLY,
            serial: self.serial,
        };
        Signed::sign(chit, &self.parties[party]).bytes().to_vec()
    }

    pub fn step(&mut self, i: usize, input: Input) {
        let _ = self.step_out(i, input);
    }

    pub fn step_out(&mut self, i: usize, input: Input) -> Output {
        let Some(machine) = self.nodes[i].as_mut() else {
            return Output::default();
        };
        let out = machine.step(at(self.now), input);
        self.take(i, out.clone());
        out
    }

    pub fn take(&mut self, i: usize, out: Output) {
        self.durable[i].extend(out.persist);
        self.events[i].extend(out.events);
        let from = self.keys[i].public();
        for message in out.send {
            self.sent[i].push(message.bytes.clone());
            for to in message.to {
                if let Some(j) = self.keys.iter().position(|k| k.public() == to) {
                    self.queue.push_back((j, from, message.bytes.clone()));
                }
            }
        }
    }

    /// Delivers messages until none are left, then lets time pass in
    /// ticks of 100 ms for `millis`, delivering as it goes.
    pub fn run(&mut self, millis: u64) {
        let end = self.now + millis;
        loop {
            while let Some((to, from, bytes)) = self.queue.pop_front() {
                if !self.cut[to] {
                    self.step(to, Input::Received { from, bytes });
                }
            }
            if self.now >= end {
                break;
            }
            self.now += 100;
            for i in 0..self.nodes.len() {
                self.step(i, Input::Tick);
            }
        }
    }

    pub fn certified(&self, i: usize) -> Vec<Digest> {
        self.events[i]
            .iter()
            .filter_map(|e| match e {
                Event::EntryCertified { id, .. } => Some(*id),
                _ => None,
            })
            .collect()
    }

    pub fn refusals(&self, i: usize) -> Vec<String> {
        self.events[i]
            .iter()
            .filter_map(|e| match e {
                Event::Refused { reason, .. } => Some(reason.clone()),
                _ => None,
            })
            .collect()
    }

    // ------------------------------------------------- scripted nodes

    /// Takes the machines of `nodes` away: from now on their keys sign only
    /// what a test scripts, and messages to them are dropped.
    pub fn script(&mut self, nodes: &[usize]) {
        for &i in nodes {
            self.nodes[i] = None;
        }
    }

    /// Node `i`'s key.
    pub fn key(&self, i: usize) -> PublicKey {
        self.keys[i].public()
    }

    /// A block for height 1, made now by node `proposer`.
    pub fn block(&self, proposer: usize, entries: Vec<Vec<u8>>) -> EncodedBlock {
        EncodedBlock::new(Block {
            tally: TALLY,
            height: 1,
            previous: self.genesis.hash,
            time: at(self.now),
            proposer: self.key(proposer),
            entries,
        })
    }

    /// A vote at height 1 signed by node `signer`: the signed record's bytes.
    pub fn vote(&self, signer: usize, round: u64, step: Step, block: Option<Digest>) -> Vec<u8> {
        let vote = Vote {
            tally: TALLY,
            height: 1,
            round,
            step,
            block,
        };
        Signed::sign(vote, &self.keys[signer]).bytes().to_vec()
    }

    /// The `ledger/vote` message carrying [`Tally::vote`].
    pub fn vote_message(&self, signer: usize, round: u64, step: Step, block: Option<Digest>) -> Vec<u8> {
        Message::Vote {
            tally: TALLY,
            vote: self.vote(signer, round, step, block),
        }
        .encode()
    }

    /// The `ledger/proposal` message in which node `proposer` proposes
    /// `block` in `round` of height 1, with a valid round and its proof.
    pub fn proposal(
        &self,
        proposer: usize,
        round: u64,
        block: &EncodedBlock,
        valid_round: Option<u64>,
        proof: Vec<Vec<u8>>,
    ) -> Vec<u8> {
        let proposal = Proposal {
            tally: TALLY,
            height: 1,
            round,
            valid_round,
            block: block.hash(),
        };
        Message::Proposal {
            tally: TALLY,
            proposal: Signed::sign(proposal, &self.keys[proposer]).bytes().to_vec(),
            block: block.bytes().to_vec(),
            proof,
        }
        .encode()
    }

    /// Node `to` receives `bytes` from node `from`, now; what it sends is
    /// queued.
    pub fn deliver(&mut self, to: usize, from: usize, bytes: Vec<u8>) {
        let _ = self.deliver_out(to, from, bytes);
    }

    /// [`Tally::deliver`], returning the step's output.
    pub fn deliver_out(&mut self, to: usize, from: usize, bytes: Vec<u8>) -> Output {
        let from = self.key(from);
        self.step_out(to, Input::Received { from, bytes })
    }

    /// Node `i` alone lets `millis` pass in ticks of 100 ms; what it sends
    /// is queued, not delivered.
    pub fn pass(&mut self, i: usize, millis: u64) {
        let end = self.now + millis;
        while self.now < end {
            self.now = (self.now + 100).min(end);
            self.step(i, Input::Tick);
        }
    }

    // ------------------------------------------------------ observers

    /// What node `i` voted in one step of one round of height 1, as its
    /// durable records show: `None` if it has not voted, `Some(None)` for
    /// nil. Panics if it signed two different votes for that step.
    pub fn voted(&self, i: usize, round: u64, step: Step) -> Option<Option<Digest>> {
        let values: BTreeSet<Option<Digest>> = self.durable[i]
            .iter()
            .filter_map(|d| match d {
                Durable::Vote { vote, .. } => Some(Signed::<Vote>::from_bytes(vote).unwrap().record().clone()),
                _ => None,
            })
            .filter(|v| v.height == 1 && v.round == round && v.step == step)
            .map(|v| v.block)
            .collect();
        assert!(
            values.len() <= 1,
            "node {i} signed {values:?} in round {round} {step:?}"
        );
        values.into_iter().next()
    }

    /// Node `i`'s prevote in `round` of height 1 (see [`Tally::voted`]).
    pub fn prevote(&self, i: usize, round: u64) -> Option<Option<Digest>> {
        self.voted(i, round, Step::Prevote)
    }

    /// Node `i`'s precommit in `round` of height 1 (see [`Tally::voted`]).
    pub fn precommit(&self, i: usize, round: u64) -> Option<Option<Digest>> {
        self.voted(i, round, Step::Precommit)
    }

    /// The locks node `i` persisted: round and block hash, in order.
    pub fn locks(&self, i: usize) -> Vec<(u64, Digest)> {
        self.durable[i]
            .iter()
            .filter_map(|d| match d {
                Durable::Lock { round, block, .. } => Some((*round, EncodedBlock::from_bytes(block).unwrap().hash())),
                _ => None,
            })
            .collect()
    }

    /// The proposals node `i` persisted, with their blocks and proofs.
    pub fn proposals(&self, i: usize) -> Vec<(Proposal, EncodedBlock, Vec<Signed<Vote>>)> {
        self.durable[i]
            .iter()
            .filter_map(|d| match d {
                Durable::Proposal { message, .. } => match Message::decode(message, &Default::default()) {
                    Ok(Message::Proposal {
                        proposal, block, proof, ..
                    }) => Some((
                        Signed::<Proposal>::from_bytes(&proposal).unwrap().record().clone(),
                        EncodedBlock::from_bytes(&block).unwrap(),
                        proof.iter().map(|v| Signed::<Vote>::from_bytes(v).unwrap()).collect(),
                    )),
                    _ => None,
                },
                _ => None,
            })
            .collect()
    }

    /// The blocks node `i` certified: hash and the round that decided it.
    pub fn certified_blocks(&self, i: usize) -> Vec<(Digest, u64)> {
        self.events[i]
            .iter()
            .filter_map(|e| match e {
                Event::BlockCertified { hash, round, .. } => Some((*hash, *round)),
                _ => None,
            })
            .collect()
    }

    /// Every vote node `i` signed, from its durable records and from every
    /// message it sent (votes, and the proofs of its proposals), by height,
    /// round and step: an honest node has one value for each.
    pub fn signed_by(&self, i: usize) -> BTreeMap<(u64, u64, Step), BTreeSet<Option<Digest>>> {
        let mut votes: Vec<Vec<u8>> = self.durable[i]
            .iter()
            .filter_map(|d| match d {
                Durable::Vote { vote, .. } => Some(vote.clone()),
                _ => None,
            })
            .collect();
        for bytes in &self.sent[i] {
            match Message::decode(bytes, &Default::default()) {
                Ok(Message::Vote { vote, .. }) => votes.push(vote),
                Ok(Message::Proposal { proof, .. }) => votes.extend(proof),
                _ => {}
            }
        }
        let mut by_step: BTreeMap<(u64, u64, Step), BTreeSet<Option<Digest>>> = BTreeMap::new();
        for bytes in votes {
            let vote = Signed::<Vote>::from_bytes(&bytes).unwrap();
            if *vote.signer() == self.key(i) {
                let v = vote.record();
                by_step.entry((v.height, v.round, v.step)).or_default().insert(v.block);
            }
        }
        by_step
    }

    /// Proof that node `signer` signed two different records for one step,
    /// reported by node `i`.
    pub fn double_signed(&self, i: usize, signer: usize) -> Vec<(Vec<u8>, Vec<u8>)> {
        let node = self.key(signer);
        self.events[i]
            .iter()
            .filter_map(|e| match e {
                Event::DoubleSigned { node: n, first, second } if *n == node => Some((first.clone(), second.clone())),
                _ => None,
            })
            .collect()
    }
}
