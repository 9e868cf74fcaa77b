//! The simulated world: nodes, a faulty network, a clock, and the
//! invariants checked after every step.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet};

use tallymesh_core::block::{EncodedBlock, Genesis};
use tallymesh_core::certificate::Certificate;
use tallymesh_core::record::Signed;
use tallymesh_core::rules::NetworkChange;
use tallymesh_core::tally_network::{Side, TallyId, TallyNetwork, Threshold};
use tallymesh_core::vote::{Proposal, Step, Vote};
use tallymesh_core::{Digest, PublicKey, SecretKey, Timestamp};

use super::rng::Rng;
use super::rules::{SimChit, SimRules, SimState, network_change};
use super::scenario::{Behaviour, Change, Scenario};
use crate::ledger::{Durable, Event, Input, Ledger, LedgerConfig, Message, Output};
use crate::{Envelope, Limits};

/// Simulated time of the genesis, in ms since the Unix epoch.
const START: u64 = 1_700_000_000_000;

/// After every fault has healed, every valid entry must be certified on
/// every honest node of the final network within this many simulated ms.
pub const LIVENESS_BOUND: u64 = 60_000;

/// Delivery delays once healed: short, still reordering.
const HEALED_MAX_DELAY: u64 = 20;

/// A bound on steps per seed, far above any healthy run.
const MAX_STEPS: u64 = 2_000_000;

/// How a run is watched.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// Print what happens to standard error.
    pub trace: bool,
}

/// What a run that broke no invariant did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outcome {
    /// The seed.
    pub seed: u64,
    /// Blocks certified (the highest height any node reached).
    pub blocks: u64,
    /// Valid entries certified.
    pub entries: usize,
    /// Simulated milliseconds until every entry was certified everywhere.
    pub millis: u64,
    /// Machine steps taken.
    pub steps: u64,
    /// Messages delivered.
    pub deliveries: u64,
    /// Double-signing proofs the honest nodes reported.
    pub double_signed: u64,
    /// Messages the honest nodes refused.
    pub refused: u64,
}

/// An invariant broken by a seed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// The seed.
    pub seed: u64,
    /// Simulated ms since the start.
    pub at: u64,
    /// What broke.
    pub what: String,
}

/// The one command that replays `seed` with a trace.
pub fn replay_command(seed: u64) -> String {
    format!("cargo run -p tallymesh-protocol --example sim -- --seed {seed} --trace")
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "seed {} broke an invariant at {} ms: {}\n  scenario: {}\n  replay:   {}",
            self.seed,
            self.at,
            self.what,
            Scenario::generate(self.seed).describe(),
            replay_command(self.seed)
        )
    }
}

impl std::error::Error for Violation {}

/// Runs the scenario of `seed`.
pub fn run(seed: u64) -> Result<Outcome, Violation> {
    run_scenario(&Scenario::generate(seed), Options::default())
}

/// Runs `scenario`.
pub fn run_scenario(scenario: &Scenario, options: Options) -> Result<Outcome, Violation> {
    let mut world = World::new(scenario, options)?;
    world.run()
}

/// The ledger timeouts the simulator uses: short, so seeds run fast.
pub fn sim_config() -> LedgerConfig {
    LedgerConfig {
        timeout_propose: 300,
        timeout_prevote: 200,
        timeout_precommit: 200,
        timeout_delta: 100,
        timeout_growth_rounds: 10,
        rebroadcast_interval: 500,
        sync_interval: 200,
        idle_sync_interval: 2_000,
        ..LedgerConfig::default()
    }
}

enum What {
    Deliver { to: usize, from: PublicKey, bytes: Vec<u8> },
    Wake { node: usize, generation: u64 },
    Submit { node: usize, entry: Vec<u8> },
    Crash { node: usize, lose_sends: bool },
    Restart { node: usize },
    Inject,
    Heal,
}

struct Scheduled {
    at: u64,
    seq: u64,
    what: What,
}

impl PartialEq for Scheduled {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}
impl Eq for Scheduled {}
impl PartialOrd for Scheduled {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Scheduled {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.at, self.seq).cmp(&(other.at, other.seq))
    }
}

struct Node {
    seed: [u8; 32],
    key: PublicKey,
    machine: Option<Ledger<SimRules>>,
    durable: Vec<Durable>,
    /// Hashes of the blocks this node certified, by height - 1.
    chain: Vec<Digest>,
    entries: HashSet<Digest>,
    byzantine: Option<Behaviour>,
    dying: bool,
    generation: u64,
    next_wake: Option<u64>,
}

struct World<'a> {
    scenario: &'a Scenario,
    options: Options,
    rng: Rng,
    now: u64,
    seq: u64,
    queue: BinaryHeap<Reverse<Scheduled>>,
    nodes: Vec<Node>,
    index: HashMap<PublicKey, usize>,
    genesis: Genesis,
    rules: SimRules,
    parties: [SecretKey; 2],
    stranger: SecretKey,
    healed: bool,
    /// Certified block hashes by height - 1, as first seen.
    global: Vec<Digest>,
    /// The network deciding each height, by height - 1 (one ahead of `global`).
    networks: Vec<TallyNetwork>,
    /// Each honest node's signed vote per (height, round, step).
    signed_votes: HashMap<(usize, u64, u64, Step), Option<Digest>>,
    signed_proposals: HashMap<(usize, u64, u64), Digest>,
    valid_entries: HashSet<Digest>,
    invalid_entries: HashSet<Digest>,
    certified_entries: HashMap<Digest, u64>,
    last_submission: u64,
    recent: Vec<Vec<u8>>,
    outcome: Outcome,
    check_liveness: bool,
}

impl<'a> World<'a> {
    fn new(scenario: &'a Scenario, options: Options) -> Result<World<'a>, Violation> {
        let mut rng = Rng::new(scenario.seed);
        let n = scenario.stock + scenario.foil;
        let spare = matches!(scenario.change, Some(Change::Add { .. }));
        let nodes: Vec<Node> = (0..n + usize::from(spare))
            .map(|i| {
                let seed = rng.bytes32();
                Node {
                    seed,
                    key: SecretKey::from_seed(&seed).public(),
                    machine: None,
                    durable: Vec::new(),
                    chain: Vec::new(),
                    entries: HashSet::new(),
                    byzantine: scenario.byzantine.iter().find(|(b, _)| *b == i).map(|(_, b)| *b),
                    dying: false,
                    generation: 0,
                    next_wake: None,
                }
            })
            .collect();
        let parties = [
            SecretKey::from_seed(&rng.bytes32()),
            SecretKey::from_seed(&rng.bytes32()),
        ];
        let stranger = SecretKey::from_seed(&rng.bytes32());
        let threshold = if scenario.two_thirds {
            Threshold::TWO_THIRDS
        } else {
            Threshold::MAJORITY
        };
        let keys: Vec<PublicKey> = nodes.iter().map(|n| n.key).collect();
        let network = TallyNetwork::with_thresholds(
            keys[..scenario.stock].to_vec(),
            keys[scenario.stock..n].to_vec(),
            threshold,
            threshold,
        )
        .map_err(|e| Violation {
            seed: scenario.seed,
            at: 0,
            what: format!("the scenario's tally network is refused: {e}"),
        })?;
        let mut tally = [0u8; 16];
        tally.copy_from_slice(&rng.bytes32()[..16]);
        let tally = TallyId(tally);
        let genesis = Genesis {
            tally,
            hash: Digest::of(&[b"genesis".as_slice(), &scenario.seed.to_be_bytes()].concat()),
            time: Timestamp::from_millis(START),
            network: network.clone(),
        };
        let rules = SimRules {
            tally,
            stock: parties[0].public(),
            foil: parties[1].public(),
        };
        let index = keys.iter().enumerate().map(|(i, k)| (*k, i)).collect();
        Ok(World {
            scenario,
            options,
            rng,
            now: 0,
            seq: 0,
            queue: BinaryHeap::new(),
            nodes,
            index,
            genesis,
            rules,
            parties,
            stranger,
            healed: false,
            global: Vec::new(),
            networks: vec![network],
            signed_votes: HashMap::new(),
            signed_proposals: HashMap::new(),
            valid_entries: HashSet::new(),
            invalid_entries: HashSet::new(),
            certified_entries: HashMap::new(),
            last_submission: 0,
            recent: Vec::new(),
            outcome: Outcome {
                seed: scenario.seed,
                ..Outcome::default()
            },
            check_liveness: false,
        })
    }

    fn trace(&self, what: impl FnOnce() -> String) {
        if self.options.trace {
            eprintln!("[{:>6} ms] {}", self.now, what());
        }
    }

    fn violation(&self, what: String) -> Violation {
        Violation {
            seed: self.scenario.seed,
            at: self.now,
            what,
        }
    }

    fn schedule(&mut self, at: u64, what: What) {
        self.seq += 1;
        self.queue.push(Reverse(Scheduled {
            at,
            seq: self.seq,
            what,
        }));
    }

    fn machine(&self, node: usize) -> Ledger<SimRules> {
        Ledger::new(
            sim_config(),
            SecretKey::from_seed(&self.nodes[node].seed),
            self.genesis.clone(),
            self.rules.clone(),
            SimState::default(),
        )
    }

    /// Nodes that are members of the initial network, honest, and not
    /// removed by the scenario's change: where entries are submitted.
    fn submitters(&self) -> Vec<usize> {
        let n = self.scenario.stock + self.scenario.foil;
        (0..n)
            .filter(|i| self.nodes[*i].byzantine.is_none())
            .filter(|i| !matches!(self.scenario.change, Some(Change::Remove { node, .. }) if node == *i))
            .collect()
    }

    fn side_of(&self, node: usize) -> Side {
        if node < self.scenario.stock {
            Side::Stock
        } else {
            Side::Foil
        }
    }

    fn plan(&mut self) {
        let s = self.scenario;
        self.trace(|| format!("seed {}: {}", s.seed, s.describe()));
        for node in 0..self.nodes.len() {
            self.nodes[node].machine = Some(self.machine(node));
            self.schedule(0, What::Wake { node, generation: 0 });
        }
        let submitters = self.submitters();
        for serial in 0..s.chits + s.invalid {
            let node = submitters[self.rng.index(submitters.len())];
            let valid = serial < s.chits;
            let signer = if !valid {
                &self.stranger
            } else if self.side_of(node) == Side::Stock {
                &self.parties[0]
            } else {
                &self.parties[1]
            };
            let chit = SimChit {
                tally: self.genesis.tally,
                serial: serial as u64,
            };
            let entry = Signed::sign(chit, signer).bytes().to_vec();
            if valid {
                self.valid_entries.insert(Digest::of(&entry));
            } else {
                self.invalid_entries.insert(Digest::of(&entry));
            }
            let at = self.rng.below(s.submit_window + 1);
            self.last_submission = self.last_submission.max(at);
            if self.rng.chance(100) {
                // The same entry submitted twice, on two nodes.
                let other = submitters[self.rng.index(submitters.len())];
                let later = at + self.rng.below(500);
                self.last_submission = self.last_submission.max(later);
                self.schedule(
                    later,
                    What::Submit {
                        node: other,
                        entry: entry.clone(),
                    },
                );
            }
            self.schedule(at, What::Submit { node, entry });
        }
        if let Some(change) = s.change {
            self.plan_change(change, &submitters);
        }
        for crash in &s.crashes {
            self.schedule(
                crash.at,
                What::Crash {
                    node: crash.node,
                    lose_sends: crash.lose_sends,
                },
            );
            self.schedule(crash.at + crash.down_for, What::Restart { node: crash.node });
        }
        for _ in 0..s.forgeries {
            let at = self.rng.below(s.heal_at.max(1));
            self.schedule(at, What::Inject);
        }
        self.schedule(s.heal_at, What::Heal);
    }

    fn plan_change(&mut self, change: Change, submitters: &[usize]) {
        let s = self.scenario;
        let n = s.stock + s.foil;
        let keys: Vec<PublicKey> = self.nodes.iter().map(|n| n.key).collect();
        let (mut stock, mut foil) = (keys[..s.stock].to_vec(), keys[s.stock..n].to_vec());
        let at = match change {
            Change::Add { side, at } => {
                match side {
                    Side::Stock => stock.push(keys[n]),
                    Side::Foil => foil.push(keys[n]),
                }
                at
            }
            Change::Remove { node, at } => {
                stock.retain(|k| *k != keys[node]);
                foil.retain(|k| *k != keys[node]);
                at
            }
        };
        let initial = &self.networks[0];
        let Ok(network) = TallyNetwork::with_thresholds(
            stock,
            foil,
            initial.threshold(Side::Stock),
            initial.threshold(Side::Foil),
        ) else {
            return;
        };
        let record = NetworkChange {
            tally: self.genesis.tally,
            epoch: 1,
            network,
        };
        let entry = NetworkChange::cosigned_entry(
            &Signed::sign(record.clone(), &self.parties[0]),
            &Signed::sign(record, &self.parties[1]),
        );
        self.valid_entries.insert(Digest::of(&entry));
        let node = submitters[self.rng.index(submitters.len())];
        self.last_submission = self.last_submission.max(at);
        self.schedule(at, What::Submit { node, entry });
    }

    fn run(&mut self) -> Result<Outcome, Violation> {
        self.plan();
        let deadline = self.scenario.heal_at.max(self.last_submission) + LIVENESS_BOUND;
        while let Some(Reverse(next)) = self.queue.pop() {
            if next.at > deadline {
                break;
            }
            self.now = next.at;
            self.outcome.steps += 1;
            if self.outcome.steps > MAX_STEPS {
                return Err(self.violation(format!("more than {MAX_STEPS} steps: the run does not settle")));
            }
            self.handle(next.what)?;
            if self.check_liveness {
                self.check_liveness = false;
                if self.healed && self.now >= self.last_submission && self.all_certified() {
                    self.outcome.millis = self.now;
                    self.outcome.blocks = self.global.len() as u64;
                    self.outcome.entries = self.valid_entries.len();
                    return Ok(self.outcome.clone());
                }
            }
        }
        Err(self.violation(format!(
            "liveness: {} ms after the faults healed, not every entry is certified on every honest node ({})",
            LIVENESS_BOUND,
            self.missing()
        )))
    }

    fn handle(&mut self, what: What) -> Result<(), Violation> {
        match what {
            What::Deliver { to, from, bytes } => {
                if self.cut(self.index.get(&from).copied(), to) {
                    return Ok(());
                }
                self.outcome.deliveries += 1;
                self.step(to, Input::Received { from, bytes })
            }
            What::Wake { node, generation } => {
                if self.nodes[node].generation != generation || self.nodes[node].machine.is_none() {
                    return Ok(());
                }
                self.nodes[node].next_wake = None;
                self.step(node, Input::Tick)
            }
            What::Submit { node, entry } => {
                if self.nodes[node].machine.is_none() {
                    // Down: the user tries again a little later.
                    self.last_submission = self.last_submission.max(self.now + 200);
                    self.schedule(self.now + 200, What::Submit { node, entry });
                    return Ok(());
                }
                let id = Digest::of(&entry);
                self.trace(|| format!("submit {} to node {node}", short(&id)));
                self.check_liveness = true;
                self.step(node, Input::Submit { entry })
            }
            What::Crash { node, lose_sends } => {
                if self.nodes[node].machine.is_none() {
                    return Ok(());
                }
                if lose_sends {
                    self.trace(|| format!("node {node} will crash after persisting its next step"));
                    self.nodes[node].dying = true;
                } else {
                    self.crash(node);
                }
                Ok(())
            }
            What::Restart { node } => self.restart(node),
            What::Inject => {
                self.inject();
                Ok(())
            }
            What::Heal => {
                self.healed = true;
                self.trace(|| "faults heal".into());
                for node in 0..self.nodes.len() {
                    self.nodes[node].dying = false;
                    if self.nodes[node].machine.is_none() {
                        self.restart(node)?;
                    }
                    if let Some(behaviour) = self.nodes[node].byzantine
                        && !self.tolerated(node)
                    {
                        self.trace(|| format!("byzantine node {node} ({behaviour:?}) stops misbehaving"));
                        self.nodes[node].byzantine = None;
                    }
                }
                self.check_liveness = true;
                Ok(())
            }
        }
    }

    /// Whether the byzantine nodes of `node`'s side are few enough for
    /// that side to still make quorums without them.
    fn tolerated(&self, node: usize) -> bool {
        let side = self.side_of(node);
        let count = self
            .scenario
            .byzantine
            .iter()
            .filter(|(b, _)| self.side_of(*b) == side)
            .count();
        count <= self.networks[0].tolerated_faults(side)
    }

    /// Whether a partition cuts the link from `from` to `to` now.
    fn cut(&self, from: Option<usize>, to: usize) -> bool {
        let (Some(p), Some(from)) = (&self.scenario.partition, from) else {
            return false;
        };
        let active = self.now >= p.from && self.now < p.until;
        active && p.group.get(from) != p.group.get(to)
    }

    fn crash(&mut self, node: usize) {
        self.trace(|| format!("node {node} crashes"));
        let n = &mut self.nodes[node];
        n.machine = None;
        n.dying = false;
        n.generation += 1;
        n.next_wake = None;
    }

    fn restart(&mut self, node: usize) -> Result<(), Violation> {
        if self.nodes[node].machine.is_some() {
            return Ok(());
        }
        let restored = Ledger::restore(
            sim_config(),
            SecretKey::from_seed(&self.nodes[node].seed),
            self.genesis.clone(),
            self.rules.clone(),
            SimState::default(),
            self.nodes[node].durable.clone(),
        )
        .map_err(|e| self.violation(format!("node {node} cannot restore: {e}")))?;
        let certified = self.nodes[node].chain.len() as u64;
        if restored.height() != certified + 1 {
            return Err(self.violation(format!(
                "node {node} restarted at height {} after certifying {certified} blocks: a certified block was lost",
                restored.height()
            )));
        }
        self.trace(|| format!("node {node} restarts at height {}", restored.height()));
        self.nodes[node].machine = Some(restored);
        self.step(node, Input::Tick)
    }

    fn step(&mut self, node: usize, input: Input) -> Result<(), Violation> {
        let now = Timestamp::from_millis(START + self.now);
        let Some(machine) = self.nodes[node].machine.as_mut() else {
            return Ok(());
        };
        let traced = if self.options.trace {
            match &input {
                Input::Received { bytes, .. } => Message::decode(bytes, &Limits::default())
                    .map(|m| describe(&m))
                    .unwrap_or_else(|e| format!("bad message: {e}")),
                other => format!("{other:?}").chars().take(40).collect(),
            }
        } else {
            String::new()
        };
        let output = machine.step(now, input);
        if self.options.trace {
            let summary = machine.summary();
            self.trace(|| format!("node {node} <- {traced}: {summary}"));
        }
        self.take_output(node, output)
    }

    fn take_output(&mut self, node: usize, output: Output) -> Result<(), Violation> {
        // A byzantine node stays suspect after it stops misbehaving: what
        // it signed before still conflicts.
        let honest = !self.scenario.byzantine.iter().any(|(b, _)| *b == node);
        // 1. Durable first, as the store would commit it.
        for record in &output.persist {
            if honest {
                self.check_signed(node, record)?;
            }
        }
        self.nodes[node].durable.extend(output.persist);
        // 2. Events, with the invariants.
        for event in output.events {
            self.check_event(node, honest, event)?;
        }
        // 3. Messages, unless the node dies right now.
        if self.nodes[node].dying {
            self.crash(node);
            return Ok(());
        }
        for outgoing in output.send {
            let copies = self.byzantine_copies(node, &outgoing.bytes);
            for to_key in outgoing.to {
                let Some(&to) = self.index.get(&to_key) else { continue };
                let bytes = match &copies {
                    Some(other) if self.rng.chance(500) => other.clone(),
                    _ => outgoing.bytes.clone(),
                };
                self.send(node, to, bytes);
            }
        }
        if let Some(wake) = output.wake_at {
            let at = wake.as_millis().saturating_sub(START).max(self.now);
            let n = &mut self.nodes[node];
            if n.next_wake.is_none_or(|w| at < w) {
                n.generation += 1;
                n.next_wake = Some(at);
                let generation = n.generation;
                self.schedule(at, What::Wake { node, generation });
            }
        }
        Ok(())
    }

    fn send(&mut self, from: usize, to: usize, bytes: Vec<u8>) {
        if self.recent.len() < 64 && self.rng.chance(50) {
            self.recent.push(bytes.clone());
        }
        let key = self.nodes[from].key;
        if !self.healed {
            if self.rng.chance(self.scenario.loss) {
                return;
            }
            if self.rng.chance(self.scenario.duplicate) {
                let at = self.now + self.rng.between(1, self.scenario.max_delay);
                self.schedule(
                    at,
                    What::Deliver {
                        to,
                        from: key,
                        bytes: bytes.clone(),
                    },
                );
            }
        }
        let max = if self.healed {
            HEALED_MAX_DELAY
        } else {
            self.scenario.max_delay
        };
        let at = self.now + self.rng.between(1, max);
        self.schedule(at, What::Deliver { to, from: key, bytes });
    }

    /// Invariant: an honest node never signs two different votes for one
    /// step of one round, nor two proposals for one round, even across
    /// crashes. Every vote it signs is in `persist`, so checking those sees
    /// all of them.
    fn check_signed(&mut self, node: usize, record: &Durable) -> Result<(), Violation> {
        match record {
            Durable::Vote {
                height,
                round,
                step,
                vote,
            } => {
                let block = Signed::<Vote>::from_bytes(vote).ok().and_then(|v| v.record().block);
                if let Some(previous) = self.signed_votes.insert((node, *height, *round, *step), block)
                    && previous != block
                {
                    return Err(self.violation(format!(
                        "honest node {node} signed two different {step:?}s at height {height} round {round}"
                    )));
                }
            }
            Durable::Proposal { height, round, message } => {
                if let Ok(Message::Proposal { proposal, .. }) = Message::decode(message, &Limits::default())
                    && let Ok(p) = Signed::<Proposal>::from_bytes(&proposal)
                    && let Some(previous) = self.signed_proposals.insert((node, *height, *round), p.record().block)
                    && previous != p.record().block
                {
                    return Err(self.violation(format!(
                        "honest node {node} proposed two blocks at height {height} round {round}"
                    )));
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn check_event(&mut self, node: usize, honest: bool, event: Event) -> Result<(), Violation> {
        match event {
            Event::BlockCertified {
                height,
                hash,
                round,
                block,
                certificate,
            } => {
                self.trace(|| format!("node {node} certifies height {height} round {round}: {}", short(&hash)));
                self.check_certified(node, honest, height, hash, &block, &certificate)?;
            }
            Event::EntryRefused { id, reason }
                if self.valid_entries.contains(&id) && !self.certified_entries.contains_key(&id) =>
            {
                return Err(self.violation(format!("node {node} refused a valid entry {}: {reason}", short(&id))));
            }
            Event::DoubleSigned { node: culprit, .. } => {
                let index = self.index.get(&culprit).copied();
                if honest && index.is_some_and(|i| !self.scenario.byzantine.iter().any(|(b, _)| *b == i)) {
                    return Err(self.violation(format!(
                        "node {node} holds proof that honest node {index:?} signed twice"
                    )));
                }
                self.outcome.double_signed += 1;
            }
            Event::Refused { reason, .. } => {
                self.trace(|| format!("node {node} refuses a message: {reason}"));
                self.outcome.refused += 1;
            }
            _ => {}
        }
        Ok(())
    }

    /// The safety invariants, checked each time an honest node certifies.
    fn check_certified(
        &mut self,
        node: usize,
        honest: bool,
        height: u64,
        hash: Digest,
        block: &[u8],
        certificate: &[u8],
    ) -> Result<(), Violation> {
        // Certified blocks come in height order, with no gap.
        let n = &mut self.nodes[node];
        if height != n.chain.len() as u64 + 1 {
            return Err(self.violation(format!(
                "node {node} certified height {height} after {} blocks",
                self.nodes[node].chain.len()
            )));
        }
        n.chain.push(hash);
        if let Ok(decoded) = EncodedBlock::from_bytes(block) {
            n.entries.extend(decoded.block().entries.iter().map(|e| Digest::of(e)));
        }
        if self.healed {
            self.check_liveness = true;
        }
        if !honest {
            return Ok(());
        }
        // No two different certified blocks at one height (so an honest
        // party's nodes never disagree on a certified prefix).
        let index = usize::try_from(height - 1).unwrap_or(usize::MAX);
        if let Some(first) = self.global.get(index)
            && *first != hash
        {
            return Err(self.violation(format!(
                "fork: node {node} certified {} at height {height}, another honest node {}",
                short(&hash),
                short(first)
            )));
        }
        // Every certified block carries a quorum of both sides, under the
        // network of its height as the simulator itself tracks it (each
        // node assembles its own certificate, so each is checked).
        let network =
            self.networks.get(index).cloned().ok_or_else(|| {
                self.violation(format!("node {node} certified height {height} beyond the known chain"))
            })?;
        let cert = Certificate::from_bytes(certificate)
            .map_err(|e| self.violation(format!("node {node}, height {height}: unreadable certificate: {e}")))?;
        cert.verify(&network, self.genesis.tally, height, hash).map_err(|e| {
            self.violation(format!(
                "node {node}, height {height}: certificate without a quorum: {e}"
            ))
        })?;
        if self.global.len() == index {
            let decoded = EncodedBlock::from_bytes(block)
                .map_err(|e| self.violation(format!("height {height}: unreadable block: {e}")))?;
            if decoded.hash() != hash {
                return Err(self.violation(format!("height {height}: block does not match its hash")));
            }
            let mut next = network;
            for entry in &decoded.block().entries {
                let id = Digest::of(entry);
                if !self.valid_entries.contains(&id) {
                    return Err(self.violation(format!(
                        "height {height}: certified an entry no party made ({}{})",
                        short(&id),
                        if self.invalid_entries.contains(&id) {
                            ", signed by a stranger"
                        } else {
                            ""
                        }
                    )));
                }
                if let Some(earlier) = self.certified_entries.insert(id, height) {
                    return Err(self.violation(format!(
                        "entry {} certified twice, at heights {earlier} and {height}",
                        short(&id)
                    )));
                }
                if let Some(change) = network_change(&self.rules, entry) {
                    next = change.network;
                }
            }
            self.global.push(hash);
            self.networks.push(next);
        }
        Ok(())
    }

    /// Honest nodes of the final network that have not certified every
    /// valid entry.
    fn lagging(&self) -> Vec<usize> {
        let Some(last) = self.networks.last() else {
            return Vec::new();
        };
        (0..self.nodes.len())
            .filter(|i| last.contains(&self.nodes[*i].key))
            .filter(|i| !self.scenario.byzantine.iter().any(|(b, _)| b == i))
            .filter(|i| !self.valid_entries.iter().all(|e| self.nodes[*i].entries.contains(e)))
            .collect()
    }

    fn all_certified(&self) -> bool {
        self.lagging().is_empty()
    }

    fn missing(&self) -> String {
        for (i, n) in self.nodes.iter().enumerate() {
            self.trace(|| {
                format!(
                    "node {i}: {}",
                    n.machine.as_ref().map_or("down".into(), |m| m.summary())
                )
            });
        }
        self.lagging()
            .iter()
            .map(|i| {
                let n = &self.nodes[*i];
                let missing = self.valid_entries.iter().filter(|e| !n.entries.contains(e)).count();
                let (height, round) = n.machine.as_ref().map_or((0, 0), |m| (m.height(), m.round()));
                format!("node {i} lacks {missing}, at height {height} round {round}")
            })
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// What a byzantine node sends instead to some recipients, if anything.
    fn byzantine_copies(&mut self, node: usize, bytes: &[u8]) -> Option<Vec<u8>> {
        let behaviour = self.nodes[node].byzantine?;
        let key = SecretKey::from_seed(&self.nodes[node].seed);
        let message = Message::decode(bytes, &Limits::default()).ok()?;
        match (behaviour, message) {
            (Behaviour::DoubleVoter, Message::Vote { tally, vote }) => {
                let mut v = Signed::<Vote>::from_bytes(&vote).ok()?.record().clone();
                v.block = match v.block {
                    Some(_) => None,
                    None => Some(Digest(self.rng.bytes32())),
                };
                let other = Signed::sign(v, &key).bytes().to_vec();
                Some(Message::Vote { tally, vote: other }.encode())
            }
            (
                Behaviour::EquivocatingProposer,
                Message::Proposal {
                    tally,
                    proposal,
                    block,
                    proof,
                },
            ) => {
                let mut p = Signed::<Proposal>::from_bytes(&proposal).ok()?.record().clone();
                let mut b = EncodedBlock::from_bytes(&block).ok()?.block().clone();
                b.time = b.time.plus_millis(1);
                if self.rng.chance(500) {
                    // A chit with a forged signature: honest nodes must
                    // prevote nil on this block.
                    let forged = Signed::sign(
                        SimChit {
                            tally,
                            serial: self.rng.next_u64(),
                        },
                        &self.stranger,
                    );
                    b.entries.push(forged.bytes().to_vec());
                }
                let other = EncodedBlock::new(b);
                p.block = other.hash();
                let signed = Signed::sign(p, &key);
                Some(
                    Message::Proposal {
                        tally,
                        proposal: signed.bytes().to_vec(),
                        block: other.bytes().to_vec(),
                        proof,
                    }
                    .encode(),
                )
            }
            _ => None,
        }
    }

    /// Delivers a forged, replayed or malformed message to an honest node.
    fn inject(&mut self) {
        let n = self.scenario.stock + self.scenario.foil;
        let target = self.rng.index(n);
        let from = self.nodes[self.rng.index(n)].key;
        let (height, round) = self.nodes[target]
            .machine
            .as_ref()
            .map_or((1, 0), |m| (m.height(), m.round()));
        let tally = self.genesis.tally;
        let vote = |key: &SecretKey, tally: TallyId, block: Option<Digest>| {
            let v = Vote {
                tally,
                height,
                round,
                step: Step::Prevote,
                block,
            };
            Message::Vote {
                tally,
                vote: Signed::sign(v, key).bytes().to_vec(),
            }
            .encode()
        };
        let kind = self.rng.below(6);
        let bytes = match kind {
            // A member's vote with its signature tampered with.
            0 => {
                let key = SecretKey::from_seed(&self.nodes[self.rng.index(n)].seed);
                let v = Vote {
                    tally,
                    height,
                    round,
                    step: Step::Precommit,
                    block: Some(Digest(self.rng.bytes32())),
                };
                let mut signed = Signed::sign(v, &key).bytes().to_vec();
                let last = signed.len() - 1;
                signed[last] ^= 0x20;
                Message::Vote { tally, vote: signed }.encode()
            }
            // A vote by a node outside the tally network.
            1 => {
                let stranger = SecretKey::from_seed(&self.stranger.seed());
                vote(&stranger, tally, Some(Digest(self.rng.bytes32())))
            }
            // A member's genuine vote for another tally.
            2 => {
                let key = SecretKey::from_seed(&self.nodes[self.rng.index(n)].seed);
                vote(&key, TallyId([0xee; 16]), None)
            }
            // A replay of an earlier message.
            3 if !self.recent.is_empty() => self.recent[self.rng.index(self.recent.len())].clone(),
            // A message of a later protocol version.
            4 => Envelope::new(tallymesh_core::ProtocolVersion(9), "ledger/vote", vec![0xa0]).encode(),
            // Garbage.
            _ => {
                let len = self.rng.index(64);
                (0..len).map(|_| self.rng.next_u64() as u8).collect()
            }
        };
        self.trace(|| format!("inject a forged message (kind {kind}) into node {target}"));
        let at = self.now + self.rng.between(0, 10);
        self.schedule(
            at,
            What::Deliver {
                to: target,
                from,
                bytes,
            },
        );
    }
}

fn short(d: &Digest) -> String {
    d.to_string()[..8].to_owned()
}

fn describe(message: &Message) -> String {
    match message {
        Message::Proposal { proposal, .. } => match Signed::<Proposal>::from_bytes(proposal) {
            Ok(p) => format!(
                "proposal h{} r{} vr{:?} {}",
                p.record().height,
                p.record().round,
                p.record().valid_round,
                short(&p.record().block)
            ),
            Err(_) => "bad proposal".into(),
        },
        Message::Vote { vote, .. } => match Signed::<Vote>::from_bytes(vote) {
            Ok(v) => format!(
                "{:?} h{} r{} {}",
                v.record().step,
                v.record().height,
                v.record().round,
                v.record().block.map_or("nil".into(), |d| short(&d))
            ),
            Err(_) => "bad vote".into(),
        },
        Message::Entries { entries, .. } => format!("{} entries", entries.len()),
        Message::SyncRequest { from_height, .. } => format!("sync request from {from_height}"),
        Message::Blocks { blocks, .. } => format!("{} blocks", blocks.len()),
    }
}
