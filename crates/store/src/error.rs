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
}

impl StoreError {
    pub(crate) fn query(path: &Path, error: sqlx::Error) -> StoreError {
        StoreError::Query {
            path: path.to_owned(),
            reason: error.to_string(),
        }
    }
}
