//! The OS keychain backend, through `keyring`: Secret Service on Linux,
//! the login Keychain on macOS, Credential Manager on Windows.
//!
//! Each secret is one entry: service [`SERVICE`], account
//! `<purpose>.<keystore id>`. The keystore id is random and kept (not
//! secret) in the node's database, so two nodes on one machine never share
//! an entry and a moved data directory still finds its keys.

use keyring::Entry;

use super::{KeystoreError, Purpose, SecretSeed};

/// The keychain service every Tallymesh entry is filed under.
pub const SERVICE: &str = "org.tallymesh.app";

/// The entries of one keystore id in the OS keychain.
#[derive(Debug, Clone)]
pub(crate) struct Keychain {
    keystore_id: String,
}

impl Keychain {
    /// The keychain entries of `keystore_id`, checking that the keychain
    /// answers at all (a locked or missing keychain is refused here, not at
    /// the first secret).
    pub(crate) fn open(keystore_id: &str) -> Result<Keychain, KeystoreError> {
        let keychain = Keychain {
            keystore_id: keystore_id.to_owned(),
        };
        keychain.get(Purpose::DeviceKey)?;
        Ok(keychain)
    }

    /// The entries of `keystore_id`, without asking the keychain anything.
    #[cfg(test)]
    pub(crate) fn unchecked(keystore_id: &str) -> Keychain {
        Keychain {
            keystore_id: keystore_id.to_owned(),
        }
    }

    /// The account name of `purpose`'s entry.
    pub(crate) fn account(&self, purpose: Purpose) -> String {
        format!("{}.{}", purpose.account_prefix(), self.keystore_id)
    }

    fn entry(&self, purpose: Purpose) -> Result<Entry, KeystoreError> {
        Entry::new(SERVICE, &self.account(purpose)).map_err(|e| classify("open an entry", e))
    }

    pub(crate) fn get(&self, purpose: Purpose) -> Result<Option<SecretSeed>, KeystoreError> {
        match self.entry(purpose)?.get_secret() {
            Ok(bytes) => {
                let bytes = zeroize::Zeroizing::new(bytes);
                SecretSeed::from_slice(&bytes)
                    .map(Some)
                    .ok_or(KeystoreError::BadSecret {
                        purpose,
                        keystore: "the OS keychain".to_owned(),
                    })
            }
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(classify("read a secret", e)),
        }
    }

    pub(crate) fn put(&self, purpose: Purpose, seed: &SecretSeed) -> Result<(), KeystoreError> {
        self.entry(purpose)?
            .set_secret(seed.expose())
            .map_err(|e| classify("store a secret", e))
    }

    pub(crate) fn delete(&self, purpose: Purpose) -> Result<(), KeystoreError> {
        match self.entry(purpose)?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(classify("delete a secret", e)),
        }
    }
}

/// Tells "there is no usable keychain here" from other refusals, and keeps
/// secret bytes out of the message (`BadEncoding` carries them).
fn classify(action: &'static str, error: keyring::Error) -> KeystoreError {
    match error {
        keyring::Error::PlatformFailure(e) | keyring::Error::NoStorageAccess(e) => {
            KeystoreError::KeychainUnavailable { reason: e.to_string() }
        }
        keyring::Error::BadEncoding(_) => KeystoreError::Keychain {
            action,
            reason: "the entry is not in the expected encoding".to_owned(),
        },
        keyring::Error::Ambiguous(items) => KeystoreError::Keychain {
            action,
            reason: format!("{} entries match; remove the duplicates", items.len()),
        },
        other => KeystoreError::Keychain {
            action,
            reason: other.to_string(),
        },
    }
}
