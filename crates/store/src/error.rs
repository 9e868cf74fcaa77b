//! What can go wrong with the node's database, in words a person can act on.

use std::path::{Path, PathBuf};

use thiserror::Error;

/// An error of the node's database. Every variant names the file.
#[derive(Debug, Error)]
pub enum StoreError {
    /// The file is not a SQLite database of ours, or it is damaged.
    #[error(
        "the database file {} is damaged or is not a Tallymesh database ({reason}); it was left untouched — move it aside to start fresh, or restore it from a backup",
        path.display()
    )]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What the check found.
        reason: String,
    },
    /// The file was written by a newer Tallymesh that this one cannot read.
    #[error(
        "the database file {} was written by a newer version of Tallymesh (schema {found}; this version reads up to {supported}); it was left untouched — update Tallymesh to open it",
        path.display()
    )]
    NewerSchema {
        /// The file.
        path: PathBuf,
        /// The newest schema version found in the file.
        found: i64,
        /// The newest schema version this build knows.
        supported: i64,
    },
    /// SQLite could not open the file at all (permissions, missing folder).
    #[error("cannot open the database file {}: {reason}", path.display())]
    Open {
        /// The file.
        path: PathBuf,
        /// The operating system's or SQLite's reason.
        reason: String,
    },
    /// Bringing the schema up to date failed; nothing was half-applied,
    /// since each migration runs in its own transaction.
    #[error("cannot update the database file {}: {reason}", path.display())]
    Migrate {
        /// The file.
        path: PathBuf,
        /// SQLite's reason.
        reason: String,
    },
    /// A read or write failed (for example, the disk is full).
    #[error("database {} failed: {reason}", path.display())]
    Query {
        /// The file.
        path: PathBuf,
        /// SQLite's reason.
        reason: String,
    },
    /// The node serves no ledger for this tally: it was never asked to
    /// ([`Store::ledger_serve`](crate::Store::ledger_serve)).
    #[error("database {}: this node serves no ledger for tally {tally}", path.display())]
    LedgerNotServed {
        /// The file.
        path: PathBuf,
        /// The tally id, in hex.
        tally: String,
    },
    /// The tally is already served with a different genesis: two tallies
    /// cannot share an id, so the caller holds the wrong genesis.
    #[error(
        "database {}: tally {tally} is already served with a different genesis; nothing was changed",
        path.display()
    )]
    LedgerGenesisMismatch {
        /// The file.
        path: PathBuf,
        /// The tally id, in hex.
        tally: String,
    },
    /// A block differing from the certified block already stored at its
    /// height: storing it would be a fork. Nothing of the batch was stored.
    #[error(
        "database {}: tally {tally} already has a different certified block at height {height}; refusing a fork, nothing of this step was stored",
        path.display()
    )]
    LedgerFork {
        /// The file.
        path: PathBuf,
        /// The tally id, in hex.
        tally: String,
        /// The height.
        height: u64,
    },
    /// A block that does not follow the last certified block: certified
    /// blocks are stored in height order with no gap. Nothing of the batch
    /// was stored.
    #[error(
        "database {}: tally {tally}: block {height} does not follow the last certified block {tip}; nothing of this step was stored",
        path.display()
    )]
    LedgerGap {
        /// The file.
        path: PathBuf,
        /// The tally id, in hex.
        tally: String,
        /// The block's height.
        height: u64,
        /// The last certified height stored (0: only the genesis).
        tip: u64,
    },
    /// A number the database cannot hold (heights and rounds up to
    /// 2^63 − 1), or a block at height 0, which is the genesis. Nothing was
    /// stored.
    #[error(
        "database {}: tally {tally}: {what} {value} is out of range; nothing was stored",
        path.display()
    )]
    LedgerOutOfRange {
        /// The file.
        path: PathBuf,
        /// The tally id, in hex.
        tally: String,
        /// Which number.
        what: &'static str,
        /// Its value.
        value: u64,
    },
    /// A stored ledger record cannot be read back: the file was changed
    /// behind the node's back or damaged.
    #[error(
        "database {}: tally {tally}: ledger record {seq} is damaged ({reason}); restore the file from a backup, or let the node fetch the ledger again from the tally network",
        path.display()
    )]
    LedgerRecordDamaged {
        /// The file.
        path: PathBuf,
        /// The tally id, in hex.
        tally: String,
        /// The record's sequence number.
        seq: i64,
        /// What is wrong with it.
        reason: String,
    },
    /// A stored certified block cannot be read back.
    #[error(
        "database {}: tally {tally}: the certified block at height {height} is damaged ({reason}); restore the file from a backup, or let the node fetch the ledger again from the tally network",
        path.display()
    )]
    LedgerBlockDamaged {
        /// The file.
        path: PathBuf,
        /// The tally id, in hex.
        tally: String,
        /// The height, as stored.
        height: i64,
        /// What is wrong with it.
        reason: String,
    },
}

impl StoreError {
    pub(crate) fn query(path: &Path, error: sqlx::Error) -> StoreError {
        StoreError::Query {
            path: path.to_owned(),
            reason: error.to_string(),
        }
    }
}
