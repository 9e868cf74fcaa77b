//! The errors a node's API returns: few, and each one actionable.

use std::path::PathBuf;

use tallymesh_net::NetError;
use tallymesh_store::StoreError;
use thiserror::Error;

use crate::identity::IdentityError;
use crate::keystore::KeystoreError;

/// Why a node operation failed.
#[derive(Debug, Error)]
pub enum NodeError {
    /// The data directory cannot be created, written or locked.
    #[error("cannot use the data directory {}: {reason}", path.display())]
    DataDir {
        /// The directory.
        path: PathBuf,
        /// What went wrong, in words.
        reason: String,
    },
    /// Another node already runs on this data directory.
    #[error("another Tallymesh node is already running with the data directory {}", path.display())]
    AlreadyRunning {
        /// The directory.
        path: PathBuf,
    },
    /// The database refused to open or failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The network could not start or has stopped.
    #[error(transparent)]
    Net(#[from] NetError),
    /// The control endpoint could not be served.
    #[error("cannot serve the control endpoint at {}: {reason}", path.display())]
    Control {
        /// The socket or pipe.
        path: PathBuf,
        /// Why not.
        reason: String,
    },
    /// The keystore cannot be opened or refused to keep or give a secret
    /// (no OS keychain, wrong key file passphrase, …).
    #[error(transparent)]
    Keystore(#[from] KeystoreError),
    /// An identity operation was refused (no identity yet, another party,
    /// a wrong phrase or backup passphrase, …); nothing was changed.
    #[error(transparent)]
    Identity(#[from] IdentityError),
    /// The tally ledgers could not start.
    #[error("the tally ledgers could not start: {0}")]
    Ledger(String),
    /// The node's settings contradict themselves (a trust parameter out of
    /// range, say); the node did not start.
    #[error("the node's settings do not work: {0}")]
    InvalidConfig(String),
    /// The chat state could not be loaded or kept.
    #[error("chat failed: {0}")]
    Chat(String),
    /// The node has been shut down.
    #[error("the node has shut down")]
    Stopped,
}
