//! All of a node's persistence: one SQLite file, opened through sqlx in WAL
//! mode with `synchronous=FULL`, migrated when opened.
//!
//! Opening checks the file before changing anything: a file that is not a
//! Tallymesh database, a damaged one, or one written by a newer version of
//! Tallymesh is refused with an error naming the file, and is left exactly
//! as it was.
//!
//! Besides the node's own facts and contacts it keeps each served tally's
//! ledger: the records the ledger machine must find again after a crash,
//! appended one machine step per transaction ([`Store::ledger_append`],
//! [`Store::ledger_records`]), and the certified blocks, one per height
//! ([`Store::ledger_blocks`]).
//!
//! ```no_run
//! # async fn example() -> Result<(), tallymesh_store::StoreError> {
//! let store = tallymesh_store::Store::open("/tmp/node/tallymesh.sqlite".as_ref()).await?;
//! store.set_meta("display_theme", "dark", 1_700_000_000_000).await?;
//! assert_eq!(store.meta("display_theme").await?.as_deref(), Some("dark"));
//! store.close().await;
//! # Ok(()) }
//! ```

mod cadre;
mod chat;
mod contacts;
mod error;
mod identity;
mod ledger;
mod open;
mod presence;
mod tallies;
mod trust;

use std::path::{Path, PathBuf};

use sqlx::SqlitePool;

pub use cadre::{CadreDeviceRow, CadreTokenRow};
pub use chat::{ChatWrite, ConversationRow, MailboxHeld, MessageRow, OutboxRow};
pub use contacts::{ContactRow, ContactSaved, InviteRow};
pub use error::StoreError;
pub use identity::{IdentityOrigin, OwnDeviceCertificate, OwnIdentity};
pub use ledger::{LedgerAppended, LedgerBlock, LedgerRecord, LedgerTally};
pub use tallies::{Certified, ChitRow, TallyMessageRow, TallyRow};
pub use trust::{AttestationRow, EvidenceRow, TrustEventRow, TrustScoreRow};

/// The migrations compiled into this build, from `crates/store/migrations`.
static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// The newest schema version this build knows: the version of its last migration.
pub fn supported_schema_version() -> i64 {
    MIGRATOR.iter().map(|m| m.version).max().unwrap_or(0)
}

/// An open node database.
#[derive(Debug, Clone)]
pub struct Store {
    pool: SqlitePool,
    path: PathBuf,
    schema_version: i64,
}

impl Store {
    /// Opens (creating if needed) the database at `path` and brings its
    /// schema up to date. See the crate docs for what is refused.
    pub async fn open(path: &Path) -> Result<Store, StoreError> {
        open::inspect(path).await?;
        let pool = open::pool(path).await?;
        MIGRATOR.run(&pool).await.map_err(|e| StoreError::Migrate {
            path: path.to_owned(),
            reason: e.to_string(),
        })?;
        let schema_version = open::applied_version(&pool, path).await?;
        tracing::debug!(path = %path.display(), schema_version, "store open");
        Ok(Store {
            pool,
            path: path.to_owned(),
            schema_version,
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The version of the newest migration applied to this database.
    pub fn schema_version(&self) -> i64 {
        self.schema_version
    }

    /// A transaction that writes. It takes the write lock at once (`BEGIN
    /// IMMEDIATE`): a deferred transaction that reads first cannot upgrade
    /// to a write after another connection wrote in between (SQLite answers
    /// "database is locked" at once, and the busy timeout does not help),
    /// so every read-then-write here would fail under concurrent writes.
    pub(crate) async fn write(&self) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>, StoreError> {
        self.pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(|e| StoreError::query(&self.path, e))
    }

    /// The value stored under `key` in the node's metadata, if any.
    pub async fn meta(&self, key: &str) -> Result<Option<String>, StoreError> {
        sqlx::query_scalar("SELECT value FROM node_meta WHERE key = ?")
            .bind(key)
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| StoreError::query(&self.path, e))
    }

    /// Stores `value` under `key` in the node's metadata, durably.
    pub async fn set_meta(&self, key: &str, value: &str, now_ms: i64) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO node_meta (key, value, updated_at_ms) VALUES (?1, ?2, ?3) \
             ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated_at_ms = excluded.updated_at_ms",
        )
        .bind(key)
        .bind(value)
        .bind(now_ms)
        .execute(&self.pool)
        .await
        .map_err(|e| StoreError::query(&self.path, e))?;
        Ok(())
    }

    /// Flushes and closes every connection. The WAL is checkpointed, so the
    /// file alone holds everything afterwards.
    pub async fn close(self) {
        // Without an explicit checkpoint the WAL can outlive the pool.
        if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)").execute(&self.pool).await {
            tracing::warn!(path = %self.path.display(), error = %e, "checkpoint at close failed");
        }
        self.pool.close().await;
    }
}

#[cfg(test)]
mod tests;
