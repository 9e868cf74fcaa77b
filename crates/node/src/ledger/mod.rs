//! The node's ledger host: one sans-I/O ledger machine per tally this node
//! serves, made durable through the store and connected to the other nodes
//! of each tally network through a [`LedgerTransport`].
//!
//! The protocol crate's [`Ledger`](tallymesh_protocol::ledger::Ledger)
//! decides; this module carries out what it decides, for every step and in
//! this order (`docs/protocol/ledger.md`, §4 and §6 "In the node"):
//!
//! 1. **persist**: all records of the step in one store transaction
//!    ([`Store::ledger_append`](tallymesh_store::Store::ledger_append));
//! 2. only once that returned `Ok`, **send** the step's messages;
//! 3. **publish** its events (and serve blocks the machine no longer holds
//!    from the store, and prune the journal now and then);
//! 4. **arm the timer** for the machine's next tick.
//!
//! When the store fails, nothing of the step is sent and the machine is
//! dropped as if the node had crashed; it is rebuilt from what the store
//! holds, so its state never runs ahead of the disk.
//!
//! Each tally runs in its own task that owns its machine: the steps of one
//! tally are strictly sequential, different tallies proceed side by side.
//!
//! ```no_run
//! # async fn example(store: tallymesh_store::Store, node_key: tallymesh_core::SecretKey,
//! #     rules: impl tallymesh_node::ledger::LedgerRules<State = ()> + Clone + Send + Sync + 'static,
//! #     genesis: tallymesh_core::block::Genesis, from: tallymesh_core::PublicKey, bytes: Vec<u8>)
//! #     -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use tallymesh_core::{Digest, PublicKey};
//! use tallymesh_node::ledger::{LedgerTransport, TallyLedgers, TallyLedgersConfig};
//!
//! /// Hands ledger messages to the network (here: drops them).
//! struct Wire;
//! impl LedgerTransport for Wire {
//!     fn send(&self, _to: &[PublicKey], _bytes: Vec<u8>) {}
//! }
//!
//! let (events, _) = tokio::sync::broadcast::channel(64);
//! // Rebuilds the machine of every tally served before.
//! let ledgers = TallyLedgers::start(store, node_key, rules, Arc::new(Wire), events, TallyLedgersConfig::default()).await?;
//! ledgers.serve(genesis.clone(), ()).await?;
//! ledgers.receive(from, bytes)?; // what the wire delivered
//! let id = ledgers.submit(genesis.tally, b"a signed chit".to_vec()).await?;
//! # let _ = id;
//! ledgers.shutdown().await;
//! # Ok(()) }
//! ```

mod error;
mod genesis;
mod host;
pub mod journal;
mod rules;
mod tally;
#[cfg(test)]
mod tests;
pub mod wire;

use tallymesh_core::tally_network::TallyId;
use tallymesh_core::{Digest, PublicKey};
use tallymesh_protocol::ledger::{Event, LedgerConfig};

pub use error::{LedgerHostError, ReceiveError, SubmitError};
pub use genesis::{GENESIS_RECORD_VERSION, GenesisError, GenesisRecord, LedgerRules};
pub use host::TallyLedgers;
pub use rules::{NodeRules, RulesKind, RulesState, TEST_ENTRY_MAX_BYTES, TallyRulesState};

/// How ledger messages leave this node: the wire protocol
/// `/tallymesh/ledger/1` implements it.
///
/// Fire and forget: delivery is best effort, and the ledger protocol
/// resends what matters and asks for what it missed. `send` is called only
/// after the records of the step that made the message are durable, and
/// must not block (queue the bytes and return).
pub trait LedgerTransport: Send + Sync + 'static {
    /// Sends `bytes` (a ledger envelope) to each node in `to`.
    fn send(&self, to: &[PublicKey], bytes: Vec<u8>);
}

/// How the host runs its machines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TallyLedgersConfig {
    /// The ledger machine's timeouts and limits.
    pub ledger: LedgerConfig,
    /// Prune a tally's journal each time this many more blocks have been
    /// certified (and once when its machine starts); 0 never prunes.
    /// Pruning only deletes records the machine no longer needs.
    pub prune_every: u64,
    /// How many received messages and submissions may wait for one tally's
    /// machine; received messages beyond are dropped.
    pub inbox: usize,
}

impl Default for TallyLedgersConfig {
    fn default() -> Self {
        TallyLedgersConfig {
            ledger: LedgerConfig::default(),
            prune_every: 64,
            inbox: 1024,
        }
    }
}

/// A ledger machine's event, with the tally it is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerEvent {
    /// The tally.
    pub tally: TallyId,
    /// What happened, as the machine reported it.
    pub event: Event,
}

/// Where one tally's ledger stands on this node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TallyLedgerStatus {
    /// The height being decided: one above the last certified block.
    pub height: u64,
    /// The round of that height.
    pub round: u64,
    /// Entries held as pending.
    pub pending: usize,
    /// The hash of the last certified block (the genesis hash before the
    /// first block).
    pub tip: Digest,
    /// Set while the ledger is stopped after a storage failure (it is being
    /// rebuilt from the store and takes no input); the other fields are
    /// then as they were before the failure.
    pub failed: Option<String>,
}
