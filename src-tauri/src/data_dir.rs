//! Which data directory this instance uses: `--data-dir DIR` (or
//! `--data-dir=DIR`), else `TALLYMESH_DATA_DIR`, else the per-user default.
//! Two instances with different data directories run side by side.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// The environment variable that names the data directory.
pub(crate) const DATA_DIR_ENV: &str = "TALLYMESH_DATA_DIR";

const FLAG: &str = "--data-dir";

/// Why no data directory could be chosen.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum DataDirError {
    /// `--data-dir` came last, or with an empty value.
    #[error("--data-dir needs a directory: start Tallymesh with --data-dir DIR")]
    MissingValue,
    /// The system has no per-user data directory (no home directory).
    #[error(
        "no per-user data directory is known on this system: start Tallymesh with --data-dir DIR or set {DATA_DIR_ENV}"
    )]
    NoDefault,
}

/// Chooses the data directory from the program's arguments (without the
/// program name), the value of [`DATA_DIR_ENV`] and the per-user default.
/// The last `--data-dir` wins; other arguments are left to others. A
/// relative path is made absolute against the current directory, so the
/// status and the logs show where the data really is.
pub(crate) fn choose(
    args: impl IntoIterator<Item = OsString>,
    env: Option<OsString>,
    default: impl FnOnce() -> Option<PathBuf>,
) -> Result<PathBuf, DataDirError> {
    let mut chosen = None;
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        if arg == FLAG {
            chosen = Some(args.next().ok_or(DataDirError::MissingValue)?);
        } else if let Some(value) = arg.to_str().and_then(|a| a.strip_prefix(FLAG)?.strip_prefix('=')) {
            chosen = Some(OsString::from(value));
        }
    }
    let dir = match chosen {
        Some(dir) if dir.is_empty() => return Err(DataDirError::MissingValue),
        Some(dir) => PathBuf::from(dir),
        None => match env.filter(|d| !d.is_empty()) {
            Some(dir) => PathBuf::from(dir),
            None => default().ok_or(DataDirError::NoDefault)?,
        },
    };
    Ok(std::path::absolute(&dir).unwrap_or(dir))
}

/// Whether to look for other nodes on the local network: yes, unless the
/// arguments say `--no-lan-discovery` (the end-to-end tests, which must not
/// multicast on the machine's real interfaces).
pub(crate) fn lan_discovery(args: impl IntoIterator<Item = OsString>) -> bool {
    !args.into_iter().any(|arg| arg == "--no-lan-discovery")
}

/// The folder of the node's rotating log files inside `data_dir`.
pub(crate) fn log_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("logs")
}

/// The webview's own storage (local storage, caches) inside `data_dir`, so
/// two instances never share it; created if needed, private to the user.
/// `None` if it cannot be created (the data directory itself is unusable,
/// which the window reports): the webview then keeps the system's default.
pub(crate) fn webview_dir(data_dir: &Path) -> Option<PathBuf> {
    let dir = data_dir.join("webview");
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    match builder.create(&dir) {
        Ok(()) => Some(dir),
        Err(error) => {
            tracing::warn!(
                "the webview keeps its storage in the default place: cannot create {}: {error}",
                dir.display()
            );
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lan_discovery_is_on_unless_the_arguments_turn_it_off() {
        assert!(lan_discovery(["--data-dir", "/x"].map(OsString::from)));
        assert!(!lan_discovery(["--no-lan-discovery"].map(OsString::from)));
    }

    fn args(list: &[&str]) -> Vec<OsString> {
        list.iter().map(OsString::from).collect()
    }

    fn no_default() -> Option<PathBuf> {
        None
    }

    #[test]
    fn the_flag_with_a_separate_value_names_the_directory() {
        let dir = choose(args(&["--data-dir", "/tmp/tm-a"]), None, no_default).unwrap();
        assert_eq!(dir, PathBuf::from("/tmp/tm-a"));
    }

    #[test]
    fn the_flag_with_an_equals_sign_names_the_directory() {
        let dir = choose(args(&["--data-dir=/tmp/tm-b"]), None, no_default).unwrap();
        assert_eq!(dir, PathBuf::from("/tmp/tm-b"));
    }

    #[test]
    fn the_flag_wins_over_the_environment_and_the_default() {
        let dir = choose(args(&["--data-dir", "/from/flag"]), Some("/from/env".into()), || {
            Some("/from/default".into())
        })
        .unwrap();
        assert_eq!(dir, PathBuf::from("/from/flag"));
    }

    #[test]
    fn the_last_flag_wins() {
        let dir = choose(args(&["--data-dir", "/first", "--data-dir=/second"]), None, no_default).unwrap();
        assert_eq!(dir, PathBuf::from("/second"));
    }

    #[test]
    fn the_environment_wins_over_the_default() {
        let dir = choose(args(&[]), Some("/from/env".into()), || Some("/from/default".into())).unwrap();
        assert_eq!(dir, PathBuf::from("/from/env"));
    }

    #[test]
    fn an_empty_environment_variable_is_ignored() {
        let dir = choose(args(&[]), Some("".into()), || Some("/from/default".into())).unwrap();
        assert_eq!(dir, PathBuf::from("/from/default"));
    }

    #[test]
    fn without_flag_or_environment_the_default_is_used() {
        let dir = choose(args(&["--other", "x"]), None, || Some("/from/default".into())).unwrap();
        assert_eq!(dir, PathBuf::from("/from/default"));
    }

    #[test]
    fn a_relative_directory_is_made_absolute() {
        let dir = choose(args(&["--data-dir", "relative/dir"]), None, no_default).unwrap();
        assert!(dir.is_absolute(), "{}", dir.display());
        assert!(dir.ends_with("relative/dir"), "{}", dir.display());
    }

    #[test]
    fn a_flag_without_a_value_is_refused() {
        assert_eq!(
            choose(args(&["--data-dir"]), None, no_default),
            Err(DataDirError::MissingValue)
        );
        assert_eq!(
            choose(args(&["--data-dir="]), None, no_default),
            Err(DataDirError::MissingValue)
        );
    }

    #[test]
    fn no_directory_at_all_is_refused_with_a_hint() {
        let err = choose(args(&[]), None, no_default).unwrap_err();
        assert_eq!(err, DataDirError::NoDefault);
        assert!(err.to_string().contains("--data-dir DIR"), "{err}");
        assert!(err.to_string().contains(DATA_DIR_ENV), "{err}");
    }

    #[test]
    fn the_webview_storage_is_created_inside_the_data_directory() {
        let root = tempfile::tempdir().unwrap();
        let dir = webview_dir(root.path()).unwrap();
        assert_eq!(dir, root.path().join("webview"));
        assert!(dir.is_dir());
    }

    #[test]
    fn an_unusable_data_directory_leaves_the_webview_storage_unset() {
        let root = tempfile::tempdir().unwrap();
        let file = root.path().join("file");
        std::fs::write(&file, b"x").unwrap();
        assert_eq!(webview_dir(&file.join("data")), None);
    }

    #[test]
    fn similar_flags_are_not_mistaken_for_the_data_directory() {
        let dir = choose(args(&["--data-directory=/x"]), None, || Some("/from/default".into())).unwrap();
        assert_eq!(dir, PathBuf::from("/from/default"));
    }
}
