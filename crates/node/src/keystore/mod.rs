//! Where a node keeps its two secrets: the device's node key seed (always)
//! and the party secret seed (once the node has an identity).
//!
//! Two backends:
//! - the **OS keychain** ([`KeystoreConfig::OsKeychain`], the default):
//!   Secret Service on Linux, Keychain on macOS, Credential Manager on
//!   Windows; one entry per secret under the service `org.tallymesh.app`,
//!   account `<purpose>.<keystore id>`;
//! - a **key file** ([`KeystoreConfig::KeyFile`]) for headless machines
//!   without a keychain: `<data dir>/keys.tmkey`, mode 0600, encrypted with
//!   a passphrase (Argon2id, then XChaCha20-Poly1305).
//!
//! Nothing secret is written anywhere else: not to the database, not to
//! logs, not into error messages. Secret values ([`SecretSeed`],
//! [`Passphrase`]) are wiped from memory when dropped and print as
//! `redacted`. `docs/keys.md` describes the formats byte by byte.
//!
//! Every call may block (a D-Bus round trip, a disk sync, a key
//! derivation): async code calls it through `spawn_blocking`.
//!
//! ```
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use tallymesh_node::keystore::{KdfParams, Keystore, Passphrase, Purpose, SecretSeed};
//!
//! let dir = tempfile::tempdir()?;
//! let path = dir.path().join("keys.tmkey");
//! let passphrase = Passphrase::new("a long passphrase");
//! // Real key files use KdfParams::RECOMMENDED (the default).
//! let keystore = Keystore::open_key_file(&path, &passphrase, KdfParams::INSECURE_FOR_TESTS)?;
//! keystore.put(Purpose::PartySecret, &SecretSeed::generate()?)?;
//! assert!(keystore.get(Purpose::PartySecret)?.is_some());
//!
//! let wrong = Keystore::open_key_file(&path, &Passphrase::new("not it at all"), KdfParams::INSECURE_FOR_TESTS);
//! assert!(wrong.unwrap_err().to_string().starts_with("wrong passphrase for key file"));
//! # Ok(()) }
//! ```

pub(crate) mod envelope;
mod key_file;
mod keychain;
mod secret;

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use thiserror::Error;

pub use key_file::KEY_FILE_NAME;
pub use keychain::SERVICE as KEYCHAIN_SERVICE;
pub use secret::{MIN_PASSPHRASE_CHARS, Passphrase, SecretSeed};

use key_file::KeyFile;
use keychain::Keychain;

/// Which secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Purpose {
    /// The device's libp2p node key seed: its peer id.
    DeviceKey,
    /// The party secret seed: the party key and every action key.
    PartySecret,
    /// The key that encrypts this device's chat state (the Olm account and
    /// sessions, as vodozemac pickles) before it is written to the
    /// database.
    ChatPickleKey,
}

impl Purpose {
    /// The first half of the keychain account name.
    pub fn account_prefix(self) -> &'static str {
        match self {
            Purpose::DeviceKey => "device-key",
            Purpose::PartySecret => "party-secret",
            Purpose::ChatPickleKey => "chat-pickle-key",
        }
    }

    /// The entry tag in a key file.
    pub(crate) fn file_tag(self) -> u8 {
        match self {
            Purpose::DeviceKey => 0x01,
            Purpose::PartySecret => 0x02,
            Purpose::ChatPickleKey => 0x03,
        }
    }
}

impl std::fmt::Display for Purpose {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Purpose::DeviceKey => "device key",
            Purpose::PartySecret => "party secret",
            Purpose::ChatPickleKey => "chat pickle key",
        })
    }
}

/// The cost of turning a passphrase into a key (Argon2id). Stored in each
/// key file and backup, so files made with other settings still open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KdfParams {
    /// Memory, in KiB.
    pub memory_kib: u32,
    /// Passes over the memory.
    pub iterations: u32,
    /// Lanes.
    pub parallelism: u32,
}

impl KdfParams {
    /// For every file people keep: 64 MiB, 3 passes, 1 lane.
    pub const RECOMMENDED: KdfParams = KdfParams {
        memory_kib: 64 * 1024,
        iterations: 3,
        parallelism: 1,
    };

    /// Cheap settings that make tests fast. They protect nothing: never use
    /// them for a file a person keeps.
    pub const INSECURE_FOR_TESTS: KdfParams = KdfParams {
        memory_kib: 64,
        iterations: 1,
        parallelism: 1,
    };

    /// The most memory a file may ask for when it is opened (1 GiB), so a
    /// crafted file cannot exhaust the machine.
    pub const MAX_MEMORY_KIB: u32 = 1024 * 1024;
    /// The most passes a file may ask for.
    pub const MAX_ITERATIONS: u32 = 64;
    /// The most lanes a file may ask for.
    pub const MAX_PARALLELISM: u32 = 16;

    /// Checks settings read from a file against the bounds above.
    pub(crate) fn check_readable(&self) -> Result<(), String> {
        if self.memory_kib > Self::MAX_MEMORY_KIB {
            return Err(format!("{} KiB of memory", self.memory_kib));
        }
        if self.iterations == 0 || self.iterations > Self::MAX_ITERATIONS {
            return Err(format!("{} iterations", self.iterations));
        }
        if self.parallelism == 0 || self.parallelism > Self::MAX_PARALLELISM {
            return Err(format!("{} lanes", self.parallelism));
        }
        Ok(())
    }
}

impl Default for KdfParams {
    fn default() -> Self {
        KdfParams::RECOMMENDED
    }
}

/// Where a node keeps its secrets; part of [`crate::NodeConfig`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum KeystoreConfig {
    /// The OS keychain (the default, and what the desktop app uses).
    #[default]
    OsKeychain,
    /// `<data dir>/keys.tmkey`, encrypted with `passphrase`; created (with
    /// the node's `file_kdf` settings) if it does not exist yet.
    KeyFile {
        /// Unlocks the file (and protects it, when it is created).
        passphrase: Passphrase,
    },
}

impl KeystoreConfig {
    /// A key file unlocked by `passphrase`.
    pub fn key_file(passphrase: Passphrase) -> KeystoreConfig {
        KeystoreConfig::KeyFile { passphrase }
    }

    /// The kind of backend this configuration chooses.
    pub fn kind(&self) -> KeystoreKind {
        match self {
            KeystoreConfig::OsKeychain => KeystoreKind::OsKeychain,
            KeystoreConfig::KeyFile { .. } => KeystoreKind::KeyFile,
        }
    }
}

/// The two backends, by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeystoreKind {
    /// The OS keychain.
    OsKeychain,
    /// The encrypted key file in the data directory.
    KeyFile,
}

impl KeystoreKind {
    /// The word stored in the node's metadata (`keystore_backend`).
    pub fn as_str(self) -> &'static str {
        match self {
            KeystoreKind::OsKeychain => "os-keychain",
            KeystoreKind::KeyFile => "key-file",
        }
    }

    fn parse(text: &str) -> Option<KeystoreKind> {
        match text {
            "os-keychain" => Some(KeystoreKind::OsKeychain),
            "key-file" => Some(KeystoreKind::KeyFile),
            _ => None,
        }
    }
}

impl std::fmt::Display for KeystoreKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            KeystoreKind::OsKeychain => "the OS keychain",
            KeystoreKind::KeyFile => "an encrypted key file",
        })
    }
}

/// Why the keystore could not keep or give back a secret. No variant ever
/// carries secret bytes or a passphrase.
#[derive(Debug, Error)]
pub enum KeystoreError {
    /// There is no usable OS keychain (none installed, locked, no session).
    #[error(
        "the OS keychain is not available ({reason}); on a machine without one, keep the keys in an encrypted key file instead"
    )]
    KeychainUnavailable {
        /// The platform's explanation.
        reason: String,
    },
    /// The keychain answered but refused.
    #[error("the OS keychain could not {action}: {reason}")]
    Keychain {
        /// What was being done.
        action: &'static str,
        /// The platform's explanation.
        reason: String,
    },
    /// The key file's passphrase is wrong (or its bytes were altered).
    #[error("wrong passphrase for key file {}", path.display())]
    WrongPassphrase {
        /// The key file.
        path: PathBuf,
    },
    /// The key file is not a Tallymesh key file or is damaged.
    #[error(
        "the key file {} is damaged or is not a Tallymesh key file ({reason}); it was left untouched",
        path.display()
    )]
    KeyFileDamaged {
        /// The key file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The key file cannot be read or written.
    #[error("cannot use the key file {}: {reason}", path.display())]
    KeyFile {
        /// The key file.
        path: PathBuf,
        /// The operating system's reason.
        reason: String,
    },
    /// A new passphrase is too short to protect anything.
    #[error("a passphrase needs at least {MIN_PASSPHRASE_CHARS} characters")]
    WeakPassphrase,
    /// A stored secret has the wrong length.
    #[error("the {purpose} kept in {keystore} is damaged (it is not 32 bytes)")]
    BadSecret {
        /// Which secret.
        purpose: Purpose,
        /// Where it is kept, in words.
        keystore: String,
    },
    /// The node was started with another backend than the one its data
    /// directory uses.
    #[error("this data directory keeps its keys in {kept}, but the node was started with {configured}")]
    WrongBackend {
        /// The backend the data directory uses.
        kept: KeystoreKind,
        /// The backend the node was started with.
        configured: KeystoreKind,
    },
    /// The OS could not provide randomness.
    #[error("the system's random number generator failed: {0}")]
    Random(String),
    /// A blocking keystore task did not finish.
    #[error("a keystore task failed: {0}")]
    Task(String),
}

/// An open keystore: one of the two backends. Cheap to share behind an
/// `Arc`; calls block (see the module docs).
pub struct Keystore {
    backend: Backend,
}

enum Backend {
    Keychain(Keychain),
    KeyFile(Mutex<KeyFile>),
}

impl std::fmt::Debug for Keystore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Keystore({})", self.describe())
    }
}

impl Keystore {
    /// The OS keychain entries of `keystore_id`. Fails with
    /// [`KeystoreError::KeychainUnavailable`] when there is no usable
    /// keychain.
    pub fn open_os_keychain(keystore_id: &str) -> Result<Keystore, KeystoreError> {
        Ok(Keystore {
            backend: Backend::Keychain(Keychain::open(keystore_id)?),
        })
    }

    /// The key file at `path`, unlocked with `passphrase`; created (empty,
    /// with `new_file_kdf`) if it does not exist.
    pub fn open_key_file(
        path: &Path,
        passphrase: &Passphrase,
        new_file_kdf: KdfParams,
    ) -> Result<Keystore, KeystoreError> {
        Ok(Keystore {
            backend: Backend::KeyFile(Mutex::new(KeyFile::open_or_create(path, passphrase, new_file_kdf)?)),
        })
    }

    /// Which backend this is.
    pub fn kind(&self) -> KeystoreKind {
        match self.backend {
            Backend::Keychain(_) => KeystoreKind::OsKeychain,
            Backend::KeyFile(_) => KeystoreKind::KeyFile,
        }
    }

    /// Where the secrets are, in words: "the OS keychain" or "the key file …".
    pub fn describe(&self) -> String {
        match &self.backend {
            Backend::Keychain(_) => "the OS keychain".to_owned(),
            Backend::KeyFile(file) => match file.lock() {
                Ok(file) => format!("the key file {}", file.path().display()),
                Err(_) => "the key file".to_owned(),
            },
        }
    }

    /// The secret kept for `purpose`, if any.
    pub fn get(&self, purpose: Purpose) -> Result<Option<SecretSeed>, KeystoreError> {
        match &self.backend {
            Backend::Keychain(keychain) => keychain.get(purpose),
            Backend::KeyFile(file) => lock(file)?.get(purpose),
        }
    }

    /// Keeps `seed` for `purpose`, replacing what was kept.
    pub fn put(&self, purpose: Purpose, seed: &SecretSeed) -> Result<(), KeystoreError> {
        match &self.backend {
            Backend::Keychain(keychain) => keychain.put(purpose, seed),
            Backend::KeyFile(file) => lock(file)?.put(purpose, seed),
        }
    }

    /// Forgets the secret kept for `purpose`; nothing kept is not an error.
    pub fn delete(&self, purpose: Purpose) -> Result<(), KeystoreError> {
        match &self.backend {
            Backend::Keychain(keychain) => keychain.delete(purpose),
            Backend::KeyFile(file) => lock(file)?.delete(purpose),
        }
    }
}

fn lock(file: &Mutex<KeyFile>) -> Result<std::sync::MutexGuard<'_, KeyFile>, KeystoreError> {
    // A panic while holding the lock cannot leave the file half-written
    // (writes are atomic), and the in-memory copy is only replaced after a
    // write succeeded, so the value behind a poisoned lock is still good.
    Ok(file.lock().unwrap_or_else(std::sync::PoisonError::into_inner))
}

/// The node's metadata key of its keystore id.
pub(crate) const META_KEYSTORE_ID: &str = "keystore_id";
/// The node's metadata key of the backend its data directory uses.
pub(crate) const META_KEYSTORE_BACKEND: &str = "keystore_backend";

/// Opens the keystore a node in `data_dir` uses, as `config` says: reads
/// or makes its keystore id, refuses a backend other than the one the data
/// directory already uses, and records the backend on first use. Returns
/// the keystore and its id.
pub(crate) async fn open_for_node(
    config: &KeystoreConfig,
    new_file_kdf: KdfParams,
    data_dir: &Path,
    store: &tallymesh_store::Store,
    now_ms: i64,
) -> Result<(Keystore, String), crate::NodeError> {
    let configured = config.kind();
    if let Some(kept) = store.meta(META_KEYSTORE_BACKEND).await? {
        match KeystoreKind::parse(&kept) {
            Some(kept) if kept != configured => {
                return Err(KeystoreError::WrongBackend { kept, configured }.into());
            }
            _ => {}
        }
    }
    let keystore_id = match store.meta(META_KEYSTORE_ID).await? {
        Some(id) => id,
        None => {
            let mut bytes = [0u8; 16];
            getrandom::fill(&mut bytes).map_err(|e| KeystoreError::Random(e.to_string()))?;
            let id = tallymesh_core::hash::hex(&bytes);
            store.set_meta(META_KEYSTORE_ID, &id, now_ms).await?;
            id
        }
    };
    let config = config.clone();
    let path = data_dir.join(KEY_FILE_NAME);
    let id = keystore_id.clone();
    let keystore = tokio::task::spawn_blocking(move || match config {
        KeystoreConfig::OsKeychain => Keystore::open_os_keychain(&id),
        KeystoreConfig::KeyFile { passphrase } => Keystore::open_key_file(&path, &passphrase, new_file_kdf),
    })
    .await
    .map_err(|e| KeystoreError::Task(e.to_string()))??;
    store
        .set_meta(META_KEYSTORE_BACKEND, configured.as_str(), now_ms)
        .await?;
    Ok((keystore, keystore_id))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Whether this machine is expected to have a usable OS keychain. On
    /// Linux that means a D-Bus session (as `scripts/with-keyring.sh` and
    /// every desktop provide); without one the keychain tests say they were
    /// skipped. macOS and Windows always have one.
    pub(crate) fn keychain_expected() -> bool {
        let expected = if cfg!(target_os = "linux") {
            std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some_and(|a| !a.is_empty())
        } else {
            true
        };
        // `scripts/with-keyring.sh` (and so `make test`) requires them to run.
        let required = std::env::var("TALLYMESH_KEYCHAIN_TESTS").is_ok_and(|v| v == "required");
        assert!(
            expected || !required,
            "the keychain tests must run here, but there is no D-Bus session"
        );
        expected
    }

    fn random_id() -> String {
        let mut bytes = [0u8; 16];
        getrandom::fill(&mut bytes).unwrap();
        tallymesh_core::hash::hex(&bytes)
    }

    #[test]
    fn the_os_keychain_keeps_secrets_per_keystore_id() {
        if !keychain_expected() {
            eprintln!("skipped: no D-Bus session, so no Secret Service (run under scripts/with-keyring.sh)");
            return;
        }
        let (a_id, b_id) = (random_id(), random_id());
        let a = Keystore::open_os_keychain(&a_id).unwrap();
        let b = Keystore::open_os_keychain(&b_id).unwrap();
        assert_eq!(a.kind(), KeystoreKind::OsKeychain);
        assert!(a.get(Purpose::PartySecret).unwrap().is_none());

        a.put(Purpose::PartySecret, &SecretSeed::from_slice(&[0xa1; 32]).unwrap())
            .unwrap();
        a.put(Purpose::DeviceKey, &SecretSeed::from_slice(&[0xa2; 32]).unwrap())
            .unwrap();
        b.put(Purpose::PartySecret, &SecretSeed::from_slice(&[0xb1; 32]).unwrap())
            .unwrap();

        // A fresh handle reads what the first one stored.
        let again = Keystore::open_os_keychain(&a_id).unwrap();
        assert_eq!(again.get(Purpose::PartySecret).unwrap().unwrap().expose(), &[0xa1; 32]);
        assert_eq!(again.get(Purpose::DeviceKey).unwrap().unwrap().expose(), &[0xa2; 32]);
        assert_eq!(b.get(Purpose::PartySecret).unwrap().unwrap().expose(), &[0xb1; 32]);
        assert!(b.get(Purpose::DeviceKey).unwrap().is_none());

        // Replacing and deleting.
        a.put(Purpose::PartySecret, &SecretSeed::from_slice(&[0xa3; 32]).unwrap())
            .unwrap();
        assert_eq!(a.get(Purpose::PartySecret).unwrap().unwrap().expose(), &[0xa3; 32]);
        for purpose in [Purpose::PartySecret, Purpose::DeviceKey] {
            a.delete(purpose).unwrap();
            b.delete(purpose).unwrap();
            assert!(a.get(purpose).unwrap().is_none());
        }
        a.delete(Purpose::PartySecret).unwrap();
    }

    #[test]
    fn keychain_account_names_carry_the_purpose_and_the_keystore_id() {
        let keychain = Keychain::unchecked("0123abcd");
        assert_eq!(keychain.account(Purpose::DeviceKey), "device-key.0123abcd");
        assert_eq!(keychain.account(Purpose::PartySecret), "party-secret.0123abcd");
        assert_eq!(KEYCHAIN_SERVICE, "org.tallymesh.app");
    }

    #[test]
    fn a_key_file_keystore_describes_itself_by_path() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(KEY_FILE_NAME);
        let keystore = Keystore::open_key_file(
            &path,
            &Passphrase::new("long passphrase"),
            KdfParams::INSECURE_FOR_TESTS,
        )
        .unwrap();
        assert_eq!(keystore.kind(), KeystoreKind::KeyFile);
        assert_eq!(keystore.describe(), format!("the key file {}", path.display()));
        assert!(format!("{keystore:?}").contains("keys.tmkey"));
    }

    #[test]
    fn absurd_kdf_settings_are_out_of_bounds() {
        assert!(KdfParams::RECOMMENDED.check_readable().is_ok());
        assert!(KdfParams::INSECURE_FOR_TESTS.check_readable().is_ok());
        let mut huge = KdfParams::RECOMMENDED;
        huge.memory_kib = KdfParams::MAX_MEMORY_KIB + 1;
        assert!(huge.check_readable().is_err());
        let mut zero = KdfParams::RECOMMENDED;
        zero.iterations = 0;
        assert!(zero.check_readable().is_err());
    }
}
