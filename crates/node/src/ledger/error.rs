//! Why the ledger host refused something: one enum per operation.

use tallymesh_core::Digest;
use tallymesh_core::tally_network::TallyId;
use tallymesh_protocol::ledger::{MessageError, RestoreError};
use tallymesh_store::StoreError;
use thiserror::Error;

use super::genesis::GenesisError;
use super::journal::JournalError;

/// Why the host could not start, or could not serve or rebuild a tally.
#[derive(Debug, Error)]
pub enum LedgerHostError {
    /// The store failed, or refused the tally (served before with another
    /// genesis).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The stored genesis record of the tally cannot be read.
    #[error("tally {tally}: {source}")]
    Genesis {
        /// The tally.
        tally: TallyId,
        /// What is wrong with the record.
        source: GenesisError,
    },
    /// The rules cannot read back the state they wrote at the genesis.
    #[error("tally {tally}: the rules cannot read their stored state at the genesis: {reason}")]
    State {
        /// The tally.
        tally: TallyId,
        /// Why, in the rules' words.
        reason: String,
    },
    /// A journal record of the tally cannot be handed back to the machine.
    #[error("tally {tally}: {source}")]
    Journal {
        /// The tally.
        tally: TallyId,
        /// The record's problem.
        source: JournalError,
    },
    /// The journal does not describe a chain the machine could have made
    /// (a stored block the rules refuse, say).
    #[error("tally {tally}: {source}")]
    Restore {
        /// The tally.
        tally: TallyId,
        /// What the machine found.
        source: RestoreError,
    },
    /// This node is not in the tally network of the genesis: it would
    /// have no vote.
    #[error("tally {tally}: this node is not in the tally network, so it cannot serve the ledger")]
    NotInNetwork {
        /// The tally.
        tally: TallyId,
    },
    /// The host has been shut down.
    #[error("the ledger host has shut down")]
    Stopped,
}

/// Why an entry was not taken.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SubmitError {
    /// This node serves no ledger for the tally.
    #[error("this node serves no ledger for tally {tally}")]
    NotServed {
        /// The tally.
        tally: TallyId,
    },
    /// The rules (or the machine's limits) refused the entry; it was not
    /// offered to anyone.
    #[error("entry {id} was refused: {reason}")]
    Refused {
        /// The entry's id.
        id: Digest,
        /// Why, in words a user can act on.
        reason: String,
    },
    /// The entry could not be stored durably, so it was not offered to
    /// anyone; the tally's ledger is being rebuilt from the store.
    #[error("tally {tally}: the entry could not be stored, so it was not sent: {reason}")]
    NotStored {
        /// The tally.
        tally: TallyId,
        /// The store's error.
        reason: String,
    },
    /// The tally's ledger is stopped after its store failed, and takes
    /// nothing until it has been rebuilt from the store.
    #[error("tally {tally}: the ledger is stopped after a storage failure ({reason}); try again later")]
    Unavailable {
        /// The tally.
        tally: TallyId,
        /// The failure that stopped it.
        reason: String,
    },
    /// The host has been shut down.
    #[error("the ledger host has shut down")]
    Stopped,
}

/// Why received bytes were not handed to a ledger machine. Delivery is
/// best effort, so the sender is not told; the transport may use this to
/// judge the peer.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ReceiveError {
    /// Not a ledger message this version reads (too large, another
    /// version, malformed).
    #[error(transparent)]
    Malformed(#[from] MessageError),
    /// A message for a tally this node does not serve.
    #[error("this node serves no ledger for tally {tally}")]
    NotServed {
        /// The tally named by the message.
        tally: TallyId,
    },
    /// The tally's queue is full; the message was dropped (the protocol
    /// resends what matters).
    #[error("tally {tally}: too many messages waiting; this one was dropped")]
    Busy {
        /// The tally.
        tally: TallyId,
    },
    /// The host has been shut down.
    #[error("the ledger host has shut down")]
    Stopped,
}
