//! Ledger consensus for one tally: Tendermint rounds with two-party quorums.
//!
//! Every node of a tally network runs one [`Ledger`] per tally. Per height
//! the nodes go through rounds of *propose → prevote → precommit*; a
//! block is final once **a majority (or the configured threshold) of the
//! stock party's nodes and of the foil party's nodes** precommitted it in
//! one round. Those precommits are the block's certificate, which anyone
//! knowing the tally network can check. `docs/protocol/ledger.md` explains
//! the protocol, its messages and why it is safe.
//!
//! The machine does no I/O. The caller feeds it [`Input`]s with the time
//! and carries out each [`Output`] *in order*: commit `persist` durably,
//! then send `send`, then hand over `events`; and ticks it again at
//! `wake_at`.
//!
//! ```
//! use tallymesh_core::block::Genesis;
//! use tallymesh_core::rules::{Applied, EntryContext, EntryRefused, EntryRules};
//! use tallymesh_core::tally_network::{TallyId, TallyNetwork};
//! use tallymesh_core::{Digest, SecretKey, Timestamp};
//! use tallymesh_protocol::ledger::{Event, Input, Ledger, LedgerConfig};
//!
//! /// Takes any entry once.
//! struct Once;
//! impl EntryRules for Once {
//!     type State = Vec<Digest>;
//!     fn admit(&self, _: &[u8]) -> Result<(), EntryRefused> { Ok(()) }
//!     fn apply(&self, seen: &mut Vec<Digest>, entry: &[u8], _: &EntryContext<'_>) -> Result<Applied, EntryRefused> {
//!         let id = Digest::of(entry);
//!         if seen.contains(&id) { return Err(EntryRefused::never("already certified")) }
//!         seen.push(id);
//!         Ok(Applied::default())
//!     }
//! }
//!
//! let keys = [SecretKey::from_seed(&[1; 32]), SecretKey::from_seed(&[2; 32])];
//! let network = TallyNetwork::new(vec![keys[0].public()], vec![keys[1].public()]).unwrap();
//! let genesis = Genesis { tally: TallyId([7; 16]), hash: Digest([0; 32]), time: Timestamp::EPOCH, network };
//! let mut nodes: Vec<Ledger<Once>> = keys
//!     .iter()
//!     .map(|k| Ledger::new(LedgerConfig::default(), SecretKey::from_seed(&k.seed()), genesis.clone(), Once, vec![]))
//!     .collect();
//!
//! // The stock node submits an entry; messages are delivered until quiet.
//! let now = Timestamp::from_millis(1_000);
//! let mut queue = vec![(0, Input::Submit { entry: b"chit".to_vec() })];
//! let mut certified = 0;
//! while let Some((i, input)) = queue.pop() {
//!     let out = nodes[i].step(now, input);
//!     // (a real node commits out.persist durably here, before sending)
//!     for message in out.send {
//!         for to in message.to {
//!             let j = nodes.iter().position(|n| n.node() == to).unwrap();
//!             queue.push((j, Input::Received { from: nodes[i].node(), bytes: message.bytes.clone() }));
//!         }
//!     }
//!     certified += out.events.iter().filter(|e| matches!(e, Event::EntryCertified { .. })).count();
//! }
//! assert_eq!(certified, 2, "both nodes certified the entry");
//! assert!(nodes.iter().all(|n| n.height() == 2 && n.tip() == nodes[0].tip()));
//! ```

mod config;
mod io;
mod machine;
mod message;
mod state;

pub use config::LedgerConfig;
pub use io::{Durable, Event, Input, Outgoing, Output};
pub use machine::{Ledger, RestoreError};
pub use message::{
    LEDGER_VERSION, MAX_BLOCKS_PER_MESSAGE, MAX_ENTRIES_PER_MESSAGE, MAX_PROOF_VOTES, Message, MessageError,
    message_tally,
};

use tallymesh_core::tally_network::TallyId;

/// The `ledger/blocks` message carrying certified blocks (encoded block,
/// certificate bytes) in height order, as stored: how a node serves
/// [`Event::BlocksWanted`] from its store.
pub fn blocks_message(tally: TallyId, blocks: Vec<(Vec<u8>, Vec<u8>)>) -> Vec<u8> {
    Message::Blocks { tally, blocks }.encode()
}
