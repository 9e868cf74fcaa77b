//! Opening the database: inspect without writing, then open for real.

use std::io::Read;
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{ConnectOptions, Connection, SqliteConnection, SqlitePool};

use crate::{StoreError, supported_schema_version};

/// The 16 bytes every SQLite 3 database file begins with.
const SQLITE_MAGIC: &[u8; 16] = b"SQLite format 3\0";

/// Checks an existing file without modifying it: that it is SQLite, that it
/// passes SQLite's quick integrity check, that it is ours, and that its
/// schema is not newer than this build's. A missing or empty file passes.
pub(crate) async fn inspect(path: &Path) -> Result<(), StoreError> {
    let corrupt = |reason: &str| StoreError::Corrupt {
        path: path.to_owned(),
        reason: reason.to_owned(),
    };
    let mut file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => {
            return Err(StoreError::Open {
                path: path.to_owned(),
                reason: e.to_string(),
            });
        }
    };
    let mut header = Vec::with_capacity(SQLITE_MAGIC.len());
    (&mut file)
        .take(SQLITE_MAGIC.len() as u64)
        .read_to_end(&mut header)
        .map_err(|e| StoreError::Open {
            path: path.to_owned(),
            reason: e.to_string(),
        })?;
    if header.is_empty() {
        return Ok(());
    }
    if header.as_slice() != SQLITE_MAGIC {
        return Err(corrupt("not a SQLite file"));
    }
    drop(file);

    // A plain connection with no pragmas: opening and reading change nothing.
    let options = SqliteConnectOptions::from_str("sqlite:")
        .map_err(|e| corrupt(&e.to_string()))?
        .filename(path)
        .create_if_missing(false)
        .foreign_keys(false)
        .log_statements(tracing::log::LevelFilter::Trace);
    let mut conn = SqliteConnection::connect_with(&options)
        .await
        .map_err(|e| classify(path, e))?;
    let verdict = check(&mut conn, path).await;
    let _ = conn.close().await;
    verdict
}

async fn check(conn: &mut SqliteConnection, path: &Path) -> Result<(), StoreError> {
    let corrupt = |reason: String| StoreError::Corrupt {
        path: path.to_owned(),
        reason,
    };
    let integrity: String = sqlx::query_scalar("PRAGMA quick_check")
        .fetch_one(&mut *conn)
        .await
        .map_err(|e| classify(path, e))?;
    if integrity != "ok" {
        return Err(corrupt(format!("integrity check: {integrity}")));
    }
    let tables: Vec<String> = sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table'")
        .fetch_all(&mut *conn)
        .await
        .map_err(|e| classify(path, e))?;
    if tables.is_empty() {
        return Ok(());
    }
    if !tables.iter().any(|t| t == "_sqlx_migrations") {
        return Err(corrupt("it holds tables of some other program".to_owned()));
    }
    let found: Option<i64> = sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations WHERE success")
        .fetch_one(&mut *conn)
        .await
        .map_err(|e| classify(path, e))?;
    let supported = supported_schema_version();
    match found {
        Some(found) if found > supported => Err(StoreError::NewerSchema {
            path: path.to_owned(),
            found,
            supported,
        }),
        _ => Ok(()),
    }
}

/// Opens the pool the node uses: WAL, `synchronous=FULL` (state that other
/// parties rely on must be on disk before a message about it leaves), and
/// foreign keys on.
pub(crate) async fn pool(path: &Path) -> Result<SqlitePool, StoreError> {
    let options = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(5))
        .log_statements(tracing::log::LevelFilter::Trace);
    // No idle timeout and no maximum lifetime: local SQLite connections do
    // not go stale, and without them sqlx runs no maintenance task, whose
    // idle-connection loop can spin when the pool is closed while it runs.
    // For the same reason no test before each acquire: it would cost every
    // query one more round trip to the connection's thread.
    SqlitePoolOptions::new()
        .max_connections(4)
        .idle_timeout(None)
        .max_lifetime(None)
        .test_before_acquire(false)
        .connect_with(options)
        .await
        .map_err(|e| classify(path, e))
}

/// The newest migration applied to an open database.
pub(crate) async fn applied_version(pool: &SqlitePool, path: &Path) -> Result<i64, StoreError> {
    let version: Option<i64> = sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations WHERE success")
        .fetch_one(pool)
        .await
        .map_err(|e| StoreError::query(path, e))?;
    Ok(version.unwrap_or(0))
}

/// Tells damage (SQLITE_CORRUPT, SQLITE_NOTADB) from failure to open.
fn classify(path: &Path, error: sqlx::Error) -> StoreError {
    const SQLITE_CORRUPT: &str = "11";
    const SQLITE_NOTADB: &str = "26";
    if let sqlx::Error::Database(db) = &error {
        let code = db.code();
        let primary = code.as_deref().map(|c| {
            // Extended codes carry the primary code in their low byte.
            c.parse::<i32>()
                .map(|n| (n & 0xff).to_string())
                .unwrap_or_else(|_| c.to_owned())
        });
        if matches!(primary.as_deref(), Some(SQLITE_CORRUPT | SQLITE_NOTADB)) {
            return StoreError::Corrupt {
                path: path.to_owned(),
                reason: db.message().to_owned(),
            };
        }
    }
    StoreError::Open {
        path: path.to_owned(),
        reason: error.to_string(),
    }
}
