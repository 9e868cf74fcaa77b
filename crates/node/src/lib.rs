//! A running Tallymesh node: the one API the desktop app and the headless
//! `tallymesh` command both use.
//!
//! A [`Node`] is built from a [`NodeConfig`]. Starting it claims the data
//! directory (one node per directory), opens the database, starts the
//! network and serves the local control endpoint that the CLI talks to.
//! Everything that happens is published on one stream of [`NodeEvent`]s.
//!
//! ```no_run
//! # async fn example() -> Result<(), tallymesh_node::NodeError> {
//! use tallymesh_node::{Node, NodeConfig};
//!
//! let node = Node::start(NodeConfig::new("/tmp/alice".into())).await?;
//! let mut events = node.events();
//! let status = node.status().await?;
//! println!("{} listening on {:?}", status.peer_id, status.listen_addrs);
//! node.shutdown().await;
//! # drop(events.try_recv());
//! # Ok(()) }
//! ```

pub mod cadre;
mod cadre_relay;
mod card_records;
pub mod chat;
mod config;
pub mod contacts;
pub mod control;
mod data_dir;
mod error;
mod event;
pub mod identity;
pub mod keystore;
pub mod ledger;
pub mod ledger_api;
pub mod links;
pub mod logging;
mod network;
mod node;
pub mod peers;
pub mod presence;
mod protocols;
mod retry;
mod status;
pub mod tallies;
pub mod trust;

pub use config::NodeConfig;
pub use data_dir::DataDir;
pub use error::NodeError;
pub use event::NodeEvent;
pub use identity::{Identity, IdentityError, IdentityState};
pub use keystore::{KdfParams, KeystoreConfig, KeystoreError, Passphrase};
pub use ledger::{LedgerTransport, TallyLedgers};
pub use node::Node;
pub use status::{NodeStatus, Reachability};
pub use tallymesh_net::Multiaddr;

/// This build's version, as shown to users and reported by `status`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
