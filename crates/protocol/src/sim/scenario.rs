//! What one seed simulates: the tally network, the entries, the faults.

use tallymesh_core::tally_network::Side;

use super::rng::Rng;

/// How a byzantine node misbehaves. It runs an honest machine; the
/// simulator rewrites what it sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Behaviour {
    /// As proposer, sends different blocks (one sometimes carrying a forged
    /// entry) to different nodes.
    EquivocatingProposer,
    /// Signs a second, different vote for every vote it casts, and sends
    /// each to some of the nodes.
    DoubleVoter,
}

/// Messages between two groups of nodes are dropped for a while.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Partition {
    /// Start, in simulated milliseconds.
    pub from: u64,
    /// End.
    pub until: u64,
    /// Each node's group.
    pub group: Vec<bool>,
}

/// A node stops, losing everything but its durable records, and restarts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Crash {
    /// Which node.
    pub node: usize,
    /// When.
    pub at: u64,
    /// For how long.
    pub down_for: u64,
    /// Whether it dies in its next step after persisting but before
    /// sending (else between two steps).
    pub lose_sends: bool,
}

/// A change of the tally network both parties sign during the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// A new node (the spare, index `stock + foil`) joins a side.
    Add {
        /// The side it joins.
        side: Side,
        /// When the change is submitted.
        at: u64,
    },
    /// A node leaves.
    Remove {
        /// Which node.
        node: usize,
        /// When the change is submitted.
        at: u64,
    },
}

/// Everything one seed runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scenario {
    /// The seed.
    pub seed: u64,
    /// Stock nodes (indices `0..stock`).
    pub stock: usize,
    /// Foil nodes (indices `stock..stock + foil`).
    pub foil: usize,
    /// Two-thirds thresholds on both sides instead of majorities.
    pub two_thirds: bool,
    /// Valid chits submitted.
    pub chits: usize,
    /// Chits signed by no party, which must be refused.
    pub invalid: usize,
    /// Chits are submitted within this many milliseconds of the start.
    pub submit_window: u64,
    /// When every fault stops (loss, duplication, long delays, partitions,
    /// crashes, forgeries, byzantine nodes beyond what a side tolerates).
    pub heal_at: u64,
    /// Messages lost before healing, per mille.
    pub loss: u64,
    /// Messages delivered twice before healing, per mille.
    pub duplicate: u64,
    /// Longest delivery delay before healing, in ms (delays are uniform,
    /// so messages are reordered).
    pub max_delay: u64,
    /// A partition, if any.
    pub partition: Option<Partition>,
    /// Crashes.
    pub crashes: Vec<Crash>,
    /// Byzantine nodes, all of one side.
    pub byzantine: Vec<(usize, Behaviour)>,
    /// Forged, replayed and malformed messages injected before healing.
    pub forgeries: u64,
    /// A network change, if any.
    pub change: Option<Change>,
}

/// The splits simulated, with their weights.
const SPLITS: [((usize, usize), u64); 7] = [
    ((1, 1), 4),
    ((1, 2), 2),
    ((2, 1), 2),
    ((2, 2), 3),
    ((1, 3), 1),
    ((3, 4), 1),
    ((4, 3), 1),
];

impl Scenario {
    /// The scenario of `seed`.
    pub fn generate(seed: u64) -> Scenario {
        let mut rng = Rng::new(seed ^ 0x7a11_7e5b_0000_0001);
        let total: u64 = SPLITS.iter().map(|(_, w)| w).sum();
        let mut pick = rng.below(total);
        let mut split = SPLITS[0].0;
        for (s, w) in SPLITS {
            if pick < w {
                split = s;
                break;
            }
            pick -= w;
        }
        let (stock, foil) = split;
        let n = stock + foil;
        let calm = rng.chance(100);
        let heal_at = if calm { 0 } else { rng.between(300, 6_000) };
        let faulty = |rng: &mut Rng, per_mille: u64| !calm && rng.chance(per_mille);
        let partition = faulty(&mut rng, 350).then(|| {
            let from = rng.below(heal_at);
            let until = rng.between(from, heal_at);
            let mut group: Vec<bool> = (0..=n).map(|_| rng.chance(500)).collect();
            let first = rng.index(n);
            group[first] = !group[(first + 1) % n];
            Partition { from, until, group }
        });
        let crash_count = if calm { 0 } else { rng.below(3) };
        let crashes = (0..crash_count)
            .map(|_| {
                let at = rng.below(heal_at);
                Crash {
                    node: rng.index(n),
                    at,
                    down_for: rng.between(10, (heal_at - at).max(10)),
                    lose_sends: rng.chance(500),
                }
            })
            .collect();
        let byzantine = if faulty(&mut rng, 250) {
            let (side_start, side_len) = if rng.chance(500) { (0, stock) } else { (stock, foil) };
            let count = if rng.chance(150) { side_len } else { 1 };
            let mut nodes: Vec<usize> = (side_start..side_start + side_len).collect();
            let mut chosen = Vec::new();
            for _ in 0..count {
                let node = nodes.swap_remove(rng.index(nodes.len()));
                let behaviour = if rng.chance(500) {
                    Behaviour::EquivocatingProposer
                } else {
                    Behaviour::DoubleVoter
                };
                chosen.push((node, behaviour));
            }
            chosen.sort_by_key(|(node, _)| *node);
            chosen
        } else {
            Vec::new()
        };
        let forgeries = if faulty(&mut rng, 500) { rng.between(1, 12) } else { 0 };
        let change = (byzantine.is_empty() && rng.chance(150)).then(|| {
            let at = rng.below(3_000);
            let bigger_side = if stock >= foil { (0, stock) } else { (stock, foil) };
            if bigger_side.1 >= 2 && rng.chance(500) {
                Change::Remove {
                    node: bigger_side.0 + rng.index(bigger_side.1),
                    at,
                }
            } else {
                let side = if rng.chance(500) { Side::Stock } else { Side::Foil };
                Change::Add { side, at }
            }
        });
        Scenario {
            seed,
            stock,
            foil,
            two_thirds: rng.chance(200),
            chits: usize::try_from(rng.between(1, 5)).unwrap_or(1),
            invalid: usize::from(rng.chance(150)),
            submit_window: rng.below(3_000),
            heal_at,
            loss: if calm { 0 } else { rng.below(300) },
            duplicate: if calm { 0 } else { rng.below(200) },
            max_delay: if calm { 20 } else { rng.between(5, 300) },
            partition,
            crashes,
            byzantine,
            forgeries,
            change,
        }
    }

    /// One line describing the scenario.
    pub fn describe(&self) -> String {
        format!(
            "{}+{}{} chits={} invalid={} heal={}ms loss={}‰ dup={}‰ delay≤{}ms partition={:?} crashes={:?} byzantine={:?} forgeries={} change={:?}",
            self.stock,
            self.foil,
            if self.two_thirds { " (2/3)" } else { "" },
            self.chits,
            self.invalid,
            self.heal_at,
            self.loss,
            self.duplicate,
            self.max_delay,
            self.partition.as_ref().map(|p| (p.from, p.until)),
            self.crashes
                .iter()
                .map(|c| (c.node, c.at, c.down_for, c.lose_sends))
                .collect::<Vec<_>>(),
            self.byzantine,
            self.forgeries,
            self.change,
        )
    }
}
