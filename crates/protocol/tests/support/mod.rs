//! The step-by-step harness shared by the ledger tests: real ledger
//! machines of one tally, a queue of their messages delivered in order,
//! nodes that can be cut off, and simulated time.

// Each test target uses part of the harness.
#![allow(dead_code)]

use std::collections::VecDeque;

use tallymesh_core::block::Genesis;
use tallymesh_core::record::Signed;
use tallymesh_core::tally_network::{TallyId, TallyNetwork};
use tallymesh_core::{Digest, PublicKey, SecretKey, Timestamp};
use tallymesh_protocol::ledger::{Durable, Event, Input, Ledger, LedgerConfig, Output};
use tallymesh_protocol::sim::{SimChit, SimRules, SimState};

pub const TALLY: TallyId = TallyId([3; 16]);

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
}
