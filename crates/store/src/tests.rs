use super::*;

fn db_in(dir: &tempfile::TempDir) -> PathBuf {
    dir.path().join("tallymesh.sqlite")
}

/// What must not change when a database is refused: the bytes of every
/// file in the folder, ignoring SQLite's shared-memory index (`-shm`),
/// which readers may rebuild, and an empty write-ahead log. A file that
/// vanishes while being listed (SQLite removing its `-wal` and `-shm` as the
/// last connection of a closed pool finishes closing) counts as absent.
fn snapshot(dir: &Path) -> Vec<(String, u64, u64)> {
    use std::hash::{Hash, Hasher};
    fn present<T>(result: std::io::Result<T>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => panic!("{e}"),
        }
    }
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap())
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let empty_wal = name.ends_with("-wal") && present(e.metadata())?.len() == 0;
            if name.ends_with("-shm") || empty_wal {
                return None;
            }
            let bytes = present(std::fs::read(e.path()))?;
            let mut hasher = std::collections::hash_map::DefaultHasher::new();
            bytes.hash(&mut hasher);
            Some((name, bytes.len() as u64, hasher.finish()))
        })
        .collect();
    files.sort();
    files
}

#[tokio::test]
async fn new_database_is_migrated_to_the_latest_schema() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&db_in(&dir)).await.unwrap();
    assert_eq!(store.schema_version(), supported_schema_version());
    assert!(store.schema_version() >= 20261121080000);
    store.close().await;
}

#[tokio::test]
async fn metadata_survives_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&db_in(&dir)).await.unwrap();
    store.set_meta("created_by", "0.1.0", 1).await.unwrap();
    store.set_meta("created_by", "0.1.1", 2).await.unwrap();
    store.close().await;

    let store = Store::open(&db_in(&dir)).await.unwrap();
    assert_eq!(store.meta("created_by").await.unwrap().as_deref(), Some("0.1.1"));
    assert_eq!(store.meta("missing").await.unwrap(), None);
    store.close().await;
}

#[tokio::test]
async fn a_file_that_is_not_sqlite_is_refused_and_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(db_in(&dir), b"these are not the bytes of a database, just text").unwrap();
    let before = snapshot(dir.path());

    let err = Store::open(&db_in(&dir)).await.unwrap_err();
    assert!(matches!(err, StoreError::Corrupt { .. }), "{err:?}");
    let message = err.to_string();
    assert!(message.contains(&db_in(&dir).display().to_string()), "{message}");
    assert!(message.contains("left untouched"), "{message}");
    assert_eq!(snapshot(dir.path()), before, "no file may be written or created");
}

#[tokio::test]
async fn closing_leaves_everything_in_the_database_file_alone() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&db_in(&dir)).await.unwrap();
    store.set_meta("k", "v", 1).await.unwrap();
    store.close().await;
    let wal = dir.path().join("tallymesh.sqlite-wal");
    assert!(!wal.exists() || std::fs::metadata(&wal).unwrap().len() == 0);
}

#[tokio::test]
async fn a_damaged_database_is_refused_and_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&db_in(&dir)).await.unwrap();
    store.set_meta("k", "v", 1).await.unwrap();
    store.close().await;
    // Keep SQLite's header but overwrite the schema page behind it.
    let mut bytes = std::fs::read(db_in(&dir)).unwrap();
    for b in bytes.iter_mut().skip(100).take(3000) {
        *b = 0xA5;
    }
    std::fs::write(db_in(&dir), &bytes).unwrap();
    let before = snapshot(dir.path());

    let err = Store::open(&db_in(&dir)).await.unwrap_err();
    assert!(matches!(err, StoreError::Corrupt { .. }), "{err:?}");
    assert_eq!(snapshot(dir.path()), before);
}

#[tokio::test]
async fn a_database_from_a_newer_version_is_refused_and_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&db_in(&dir)).await.unwrap();
    sqlx::query(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
         VALUES (29991231000000, 'from the future', 1, x'00', 0)",
    )
    .execute(&store.pool)
    .await
    .unwrap();
    store.close().await;
    let before = snapshot(dir.path());

    let err = Store::open(&db_in(&dir)).await.unwrap_err();
    match &err {
        StoreError::NewerSchema { found, supported, .. } => {
            assert_eq!(*found, 29991231000000);
            assert_eq!(*supported, supported_schema_version());
        }
        other => panic!("expected NewerSchema, got {other:?}"),
    }
    assert!(err.to_string().contains("update Tallymesh"));
    assert_eq!(snapshot(dir.path()), before);
}

#[tokio::test]
async fn another_programs_database_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_in(&dir);
    {
        let options = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(&path)
            .create_if_missing(true);
        let mut conn = <sqlx::SqliteConnection as sqlx::Connection>::connect_with(&options)
            .await
            .unwrap();
        sqlx::query("CREATE TABLE photos (id INTEGER)")
            .execute(&mut conn)
            .await
            .unwrap();
        sqlx::Connection::close(conn).await.unwrap();
    }
    let before = snapshot(dir.path());
    let err = Store::open(&path).await.unwrap_err();
    assert!(err.to_string().contains("some other program"), "{err}");
    assert_eq!(snapshot(dir.path()), before);
}

#[tokio::test]
async fn an_empty_file_is_treated_as_a_new_database() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(db_in(&dir), b"").unwrap();
    let store = Store::open(&db_in(&dir)).await.unwrap();
    assert_eq!(store.schema_version(), supported_schema_version());
    store.close().await;
}
