//! The key file backend: `<data dir>/keys.tmkey`, mode 0600, encrypted
//! with a passphrase (see [`super::envelope`] and `docs/keys.md`).
//!
//! The passphrase is stretched once, when the file is opened; later writes
//! reuse that key and salt with a fresh nonce. Every write goes to a
//! temporary file that is synced and then renamed over the old one, so a
//! crash leaves either the old file or the new one, never half of each.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use super::envelope::{self, Entries, EnvelopeError, MAX_ENVELOPE_BYTES, SealingKey};
use super::{KdfParams, KeystoreError, Passphrase, Purpose, SecretSeed};

/// The key file's name inside the data directory.
pub const KEY_FILE_NAME: &str = "keys.tmkey";

/// The first eight bytes of every key file.
pub(crate) const MAGIC: &[u8; 8] = b"TALLYKEY";

/// An open, unlocked key file.
pub(crate) struct KeyFile {
    path: PathBuf,
    key: SealingKey,
    entries: Entries,
}

impl std::fmt::Debug for KeyFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyFile")
            .field("path", &self.path)
            .field("entries", &self.entries)
            .finish_non_exhaustive()
    }
}

impl KeyFile {
    /// Unlocks the key file at `path` with `passphrase`; creates an empty
    /// one, with `new_file_kdf`, if there is none. A wrong passphrase or a
    /// damaged file is refused and the file is left exactly as it was.
    pub(crate) fn open_or_create(
        path: &Path,
        passphrase: &Passphrase,
        new_file_kdf: KdfParams,
    ) -> Result<KeyFile, KeystoreError> {
        let bytes = match read_limited(path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                passphrase.check_new()?;
                let key = SealingKey::derive_new(passphrase, new_file_kdf).map_err(|e| damaged(path, e))?;
                let file = KeyFile {
                    path: path.to_owned(),
                    key,
                    entries: Entries::default(),
                };
                file.write()?;
                tracing::info!(path = %path.display(), "created a new key file");
                return Ok(file);
            }
            Err(e) => return Err(io_error(path, &e)),
        };
        let (key, plaintext) =
            envelope::open(MAGIC, "Tallymesh key file", &bytes, passphrase).map_err(|e| match e {
                EnvelopeError::WrongPassphrase => KeystoreError::WrongPassphrase { path: path.to_owned() },
                other => damaged(path, other),
            })?;
        let entries = Entries::decode(&plaintext).map_err(|e| damaged(path, e))?;
        tighten_permissions(path);
        Ok(KeyFile {
            path: path.to_owned(),
            key,
            entries,
        })
    }

    /// The file's path.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// The secret kept for `purpose`, if any.
    pub(crate) fn get(&self, purpose: Purpose) -> Result<Option<SecretSeed>, KeystoreError> {
        match self.entries.get(purpose.file_tag()) {
            None => Ok(None),
            Some(bytes) => SecretSeed::from_slice(bytes).map(Some).ok_or(KeystoreError::BadSecret {
                purpose,
                keystore: format!("the key file {}", self.path.display()),
            }),
        }
    }

    /// Keeps `seed` for `purpose`, durably. On failure the file and this
    /// value are unchanged.
    pub(crate) fn put(&mut self, purpose: Purpose, seed: &SecretSeed) -> Result<(), KeystoreError> {
        let mut next = Entries::decode(&self.entries.encode()).map_err(|e| damaged(&self.path, e))?;
        next.set(purpose.file_tag(), seed.expose())
            .map_err(|e| damaged(&self.path, e))?;
        self.replace(next)
    }

    /// Forgets the secret kept for `purpose`, durably.
    pub(crate) fn delete(&mut self, purpose: Purpose) -> Result<(), KeystoreError> {
        let mut next = Entries::decode(&self.entries.encode()).map_err(|e| damaged(&self.path, e))?;
        if !next.remove(purpose.file_tag()) {
            return Ok(());
        }
        self.replace(next)
    }

    fn replace(&mut self, next: Entries) -> Result<(), KeystoreError> {
        let previous = std::mem::replace(&mut self.entries, next);
        if let Err(e) = self.write() {
            self.entries = previous;
            return Err(e);
        }
        Ok(())
    }

    fn write(&self) -> Result<(), KeystoreError> {
        let sealed = self
            .key
            .seal(MAGIC, &self.entries.encode())
            .map_err(|e| damaged(&self.path, e))?;
        write_atomically(&self.path, &sealed).map_err(|e| io_error(&self.path, &e))
    }
}

/// Reads a file of at most [`MAX_ENVELOPE_BYTES`] (one more, to notice).
fn read_limited(path: &Path) -> std::io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    File::open(path)?
        .take(MAX_ENVELOPE_BYTES as u64 + 1)
        .read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// Writes `bytes` to `path` through a synced temporary file in the same
/// directory (mode 0600 from the start), renamed over `path`, then syncs
/// the directory so the rename itself survives a crash.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut suffix = [0u8; 6];
    getrandom::fill(&mut suffix).map_err(|e| std::io::Error::other(e.to_string()))?;
    let temp = dir.join(format!(".{name}.{}.tmp", tallymesh_core::hash::hex(&suffix)));

    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let written = options.open(&temp).and_then(|mut file| {
        file.write_all(bytes)?;
        file.sync_all()
    });
    if let Err(e) = written.and_then(|()| std::fs::rename(&temp, path)) {
        let _ = std::fs::remove_file(&temp);
        return Err(e);
    }
    #[cfg(unix)]
    File::open(dir)?.sync_all()?;
    Ok(())
}

/// A key file others can read is made private again (it was probably
/// copied with the wrong mode); the contents are encrypted, so this is a
/// second line of defence, not the first.
fn tighten_permissions(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = std::fs::metadata(path)
            && meta.permissions().mode() & 0o077 != 0
        {
            tracing::warn!(path = %path.display(), "the key file was readable by others; making it private (0600)");
            let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}

fn damaged(path: &Path, error: EnvelopeError) -> KeystoreError {
    KeystoreError::KeyFileDamaged {
        path: path.to_owned(),
        reason: error.to_string(),
    }
}

fn io_error(path: &Path, error: &std::io::Error) -> KeystoreError {
    let text = error.to_string();
    let reason = match text.find(" (os error") {
        Some(cut) => text[..cut].to_owned(),
        None => text,
    };
    KeystoreError::KeyFile {
        path: path.to_owned(),
        reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn passphrase() -> Passphrase {
        Passphrase::new("a long enough passphrase")
    }

    fn open(path: &Path, passphrase: &Passphrase) -> Result<KeyFile, KeystoreError> {
        KeyFile::open_or_create(path, passphrase, KdfParams::INSECURE_FOR_TESTS)
    }

    #[test]
    fn secrets_survive_reopening_and_are_not_in_the_file_in_clear() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(KEY_FILE_NAME);
        let mut file = open(&path, &passphrase()).unwrap();
        assert!(file.get(Purpose::DeviceKey).unwrap().is_none());
        file.put(Purpose::DeviceKey, &SecretSeed::from_slice(&[0x11; 32]).unwrap())
            .unwrap();
        file.put(Purpose::PartySecret, &SecretSeed::from_slice(&[0x22; 32]).unwrap())
            .unwrap();
        drop(file);

        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(&bytes[..8], MAGIC);
        assert!(!bytes.windows(32).any(|w| w == [0x11; 32] || w == [0x22; 32]));

        let mut file = open(&path, &passphrase()).unwrap();
        assert_eq!(file.get(Purpose::DeviceKey).unwrap().unwrap().expose(), &[0x11; 32]);
        assert_eq!(file.get(Purpose::PartySecret).unwrap().unwrap().expose(), &[0x22; 32]);
        file.delete(Purpose::PartySecret).unwrap();
        drop(file);
        let file = open(&path, &passphrase()).unwrap();
        assert!(file.get(Purpose::PartySecret).unwrap().is_none());
        assert!(file.get(Purpose::DeviceKey).unwrap().is_some());
    }

    #[test]
    fn a_wrong_passphrase_is_refused_clearly_and_the_file_is_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(KEY_FILE_NAME);
        let mut file = open(&path, &passphrase()).unwrap();
        file.put(Purpose::DeviceKey, &SecretSeed::generate().unwrap()).unwrap();
        drop(file);
        let before = std::fs::read(&path).unwrap();
        let modified = std::fs::metadata(&path).unwrap().modified().unwrap();

        let err = open(&path, &Passphrase::new("not the passphrase")).unwrap_err();
        assert!(matches!(err, KeystoreError::WrongPassphrase { .. }), "{err:?}");
        assert_eq!(
            err.to_string(),
            format!("wrong passphrase for key file {}", path.display())
        );
        assert_eq!(std::fs::read(&path).unwrap(), before);
        assert_eq!(std::fs::metadata(&path).unwrap().modified().unwrap(), modified);
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 1, "no temporary file is left: {names:?}");
    }

    #[test]
    fn a_damaged_or_foreign_file_is_refused_and_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(KEY_FILE_NAME);
        std::fs::write(&path, b"some other program's file").unwrap();
        let err = open(&path, &passphrase()).unwrap_err();
        assert!(matches!(err, KeystoreError::KeyFileDamaged { .. }), "{err:?}");
        assert!(err.to_string().contains("not a Tallymesh key file"), "{err}");
        assert_eq!(std::fs::read(&path).unwrap(), b"some other program's file");
    }

    #[test]
    fn a_new_key_file_needs_a_real_passphrase() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(KEY_FILE_NAME);
        let err = open(&path, &Passphrase::new("short")).unwrap_err();
        assert!(matches!(err, KeystoreError::WeakPassphrase), "{err:?}");
        assert!(!path.exists());
    }

    #[cfg(unix)]
    #[test]
    fn the_key_file_is_private_to_its_user() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(KEY_FILE_NAME);
        let mut file = open(&path, &passphrase()).unwrap();
        file.put(Purpose::DeviceKey, &SecretSeed::generate().unwrap()).unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);

        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        drop(open(&path, &passphrase()).unwrap());
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
    }

    #[test]
    fn a_failed_write_changes_neither_the_file_nor_the_value() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub").join(KEY_FILE_NAME);
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        let mut file = open(&path, &passphrase()).unwrap();
        file.put(Purpose::DeviceKey, &SecretSeed::from_slice(&[3; 32]).unwrap())
            .unwrap();
        let before = std::fs::read(&path).unwrap();
        // Take the directory away: the temporary file cannot be created.
        std::fs::remove_file(&path).unwrap();
        std::fs::remove_dir(dir.path().join("sub")).unwrap();
        let err = file
            .put(Purpose::PartySecret, &SecretSeed::from_slice(&[4; 32]).unwrap())
            .unwrap_err();
        assert!(matches!(err, KeystoreError::KeyFile { .. }), "{err:?}");
        assert!(file.get(Purpose::PartySecret).unwrap().is_none());
        assert_eq!(file.get(Purpose::DeviceKey).unwrap().unwrap().expose(), &[3; 32]);
        assert!(!before.is_empty());
    }
}
