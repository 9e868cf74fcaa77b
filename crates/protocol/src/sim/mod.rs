//! A deterministic simulator of whole tally networks (feature `sim`).
//!
//! One seed fixes everything: the split of nodes between the parties, the
//! entries and when they are submitted, and the faults — message loss,
//! duplication, reordering and delay, partitions that heal, crashes that
//! keep only the durable records, byzantine nodes on one side (an
//! equivocating proposer, a node that signs two votes per step) and forged,
//! replayed and malformed messages. Every node runs the real
//! [`Ledger`](crate::ledger::Ledger) machine; the simulator plays the store
//! (it keeps exactly the records each step asked to persist, and crashes
//! can strike after persisting and before sending), the network and the
//! clock.
//!
//! After every step it checks:
//! - no two different blocks are certified at one height, by any honest node;
//! - every certified block carries a quorum of both sides under the network
//!   of its height, holds only entries a party made, none twice;
//! - each honest node certifies heights in order with no gap, so an honest
//!   party's nodes never disagree on a certified prefix;
//! - no honest node signs two different votes for one step, or two
//!   proposals for one round, even across crashes, and a restart never
//!   loses a certified block;
//! - once the faults heal, every valid entry is certified on every honest
//!   node of the final network within [`LIVENESS_BOUND`] simulated ms.
//!
//! ```
//! use tallymesh_protocol::sim;
//!
//! let outcome = sim::run(7).unwrap();
//! assert!(outcome.blocks >= 1);
//! ```
//!
//! A failing seed prints the one command that replays it with a trace:
//! `cargo run -p tallymesh-protocol --example sim -- --seed <N> --trace`.

mod rng;
mod rules;
mod scenario;
mod world;

pub use rng::Rng;
pub use rules::{SimChit, SimRules, SimState};
pub use scenario::{Behaviour, Change, Crash, Partition, Scenario};
pub use world::{LIVENESS_BOUND, Options, Outcome, Violation, replay_command, run, run_scenario, sim_config};
