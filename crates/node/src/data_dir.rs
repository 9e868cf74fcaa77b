//! The node's data directory: where it is, and claiming it.

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::NodeError;

/// How long [`DataDir::claim_when_free`] waits for a lock being let go.
const RELEASE_GRACE: Duration = Duration::from_secs(2);

/// How often it tries again meanwhile.
const RELEASE_RETRY: Duration = Duration::from_millis(50);

/// The environment variable that overrides the default data directory.
pub const DATA_DIR_ENV: &str = "TALLYMESH_DATA_DIR";

/// A data directory claimed by one running node.
///
/// Holding a `DataDir` holds an exclusive lock on `node.lock` inside it,
/// so two nodes never share a database; the lock goes with the value.
#[derive(Debug)]
pub struct DataDir {
    path: PathBuf,
    _lock: File,
}

impl DataDir {
    /// The per-user data directory of this OS (`~/.local/share/tallymesh`
    /// on Linux, `~/Library/Application Support/org.tallymesh.Tallymesh`
    /// on macOS, `%APPDATA%\tallymesh\Tallymesh\data` on Windows), unless
    /// `TALLYMESH_DATA_DIR` names another.
    pub fn default_path() -> Option<PathBuf> {
        if let Some(dir) = std::env::var_os(DATA_DIR_ENV).filter(|d| !d.is_empty()) {
            return Some(PathBuf::from(dir));
        }
        directories::ProjectDirs::from("org", "tallymesh", "Tallymesh").map(|dirs| dirs.data_dir().to_owned())
    }

    /// Creates `path` if needed (private to this user), checks that it can
    /// be written, and claims it for this node.
    pub fn claim(path: &Path) -> Result<DataDir, NodeError> {
        let fail = |reason: String| NodeError::DataDir {
            path: path.to_owned(),
            reason,
        };
        create_private_dir(path).map_err(|e| fail(describe(&e)))?;
        if !path.is_dir() {
            return Err(fail("it is not a directory".to_owned()));
        }
        let probe = path.join(".write-test");
        File::create(&probe)
            .and_then(|f| f.sync_all())
            .map_err(|e| fail(format!("it cannot be written ({})", describe(&e))))?;
        let _ = std::fs::remove_file(&probe);

        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path.join("node.lock"))
            .map_err(|e| fail(describe(&e)))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(NodeError::AlreadyRunning { path: path.to_owned() });
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(fail(describe(&e))),
        }
        Ok(DataDir {
            path: path.to_owned(),
            _lock: lock,
        })
    }

    /// Like [`DataDir::claim`], but a claim held by someone else is tried
    /// again for up to [`RELEASE_GRACE`] before it is refused: a node of
    /// this process that just stopped, or a child this process forked in
    /// the instant before it started its own program, may still hold the
    /// lock for a moment after it was let go.
    pub async fn claim_when_free(path: &Path) -> Result<DataDir, NodeError> {
        let deadline = tokio::time::Instant::now() + RELEASE_GRACE;
        loop {
            match DataDir::claim(path) {
                Err(NodeError::AlreadyRunning { .. }) if tokio::time::Instant::now() < deadline => {
                    tokio::time::sleep(RELEASE_RETRY).await;
                }
                claimed => return claimed,
            }
        }
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The SQLite database file.
    pub fn database_path(&self) -> PathBuf {
        database_path(&self.path)
    }

    /// The folder of rotating log files.
    pub fn log_dir(&self) -> PathBuf {
        log_dir(&self.path)
    }
}

/// The database file inside a data directory.
pub fn database_path(data_dir: &Path) -> PathBuf {
    data_dir.join("tallymesh.sqlite")
}

/// The log folder inside a data directory.
pub fn log_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("logs")
}

pub(crate) fn create_private_dir(path: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(path)
}

/// An I/O error in plain words, without Rust's `(os error N)` suffix.
fn describe(error: &std::io::Error) -> String {
    use std::io::ErrorKind as K;
    match error.kind() {
        K::PermissionDenied => "permission denied".to_owned(),
        K::NotADirectory => "a file is in the way of this path".to_owned(),
        K::ReadOnlyFilesystem => "the file system is read-only".to_owned(),
        K::StorageFull => "the disk is full".to_owned(),
        K::AlreadyExists => "a file with this name exists and is not a directory".to_owned(),
        _ => {
            let text = error.to_string();
            match text.find(" (os error") {
                Some(cut) => text[..cut].to_owned(),
                None => text,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claiming_creates_a_private_directory() {
        let root = tempfile::tempdir().unwrap();
        let dir = DataDir::claim(&root.path().join("a/b")).unwrap();
        assert!(dir.path().is_dir());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path()).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o700);
        }
    }

    #[test]
    fn a_second_claim_on_the_same_directory_is_refused() {
        let root = tempfile::tempdir().unwrap();
        let _first = DataDir::claim(root.path()).unwrap();
        let err = DataDir::claim(root.path()).unwrap_err();
        assert!(matches!(err, NodeError::AlreadyRunning { .. }), "{err:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_claim_let_go_within_the_grace_is_taken_and_one_kept_is_refused_after_it() {
        let root = tempfile::tempdir().unwrap();
        let first = DataDir::claim(root.path()).unwrap();
        let letting_go = tokio::spawn(async move {
            tokio::time::sleep(RELEASE_GRACE / 4).await;
            drop(first);
        });
        let second = DataDir::claim_when_free(root.path()).await.unwrap();
        letting_go.await.unwrap();
        let started = tokio::time::Instant::now();
        let err = DataDir::claim_when_free(root.path()).await.unwrap_err();
        assert!(matches!(err, NodeError::AlreadyRunning { .. }), "{err:?}");
        assert!(
            started.elapsed() >= RELEASE_GRACE,
            "refused only once the grace ran out"
        );
        drop(second);
    }

    #[test]
    fn the_claim_is_released_with_the_value() {
        let root = tempfile::tempdir().unwrap();
        drop(DataDir::claim(root.path()).unwrap());
        assert!(DataDir::claim(root.path()).is_ok());
    }

    #[test]
    fn a_path_through_a_file_is_refused_in_plain_words() {
        let root = tempfile::tempdir().unwrap();
        std::fs::write(root.path().join("file"), b"x").unwrap();
        let err = DataDir::claim(&root.path().join("file/data")).unwrap_err();
        let message = err.to_string();
        assert!(message.starts_with("cannot use the data directory"), "{message}");
        assert!(message.contains("a file is in the way"), "{message}");
        assert!(!message.contains("os error"), "{message}");
    }

    #[test]
    fn a_file_where_the_directory_should_be_is_refused() {
        let root = tempfile::tempdir().unwrap();
        let path = root.path().join("data");
        std::fs::write(&path, b"x").unwrap();
        let err = DataDir::claim(&path).unwrap_err();
        assert!(matches!(err, NodeError::DataDir { .. }), "{err:?}");
        assert_eq!(std::fs::read(&path).unwrap(), b"x", "the file is left alone");
    }
}
