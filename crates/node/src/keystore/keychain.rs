//! The OS keychain backend, through `keyring`: Secret Service on Linux,
//! the login Keychain on macOS, Credential Manager on Windows.
//!
//! Each secret is one entry: service [`SERVICE`], account
//! `<purpose>.<keystore id>`. The keystore id is random and kept (not
//! secret) in the node's database, so two nodes on one machine never share
//! an entry and a moved data directory still finds its keys.

use std::time::Duration;

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
        let entry = self.entry(purpose)?;
        match retrying(|| entry.get_secret()) {
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
        let entry = self.entry(purpose)?;
        retrying(|| entry.set_secret(seed.expose())).map_err(|e| classify("store a secret", e))
    }

    pub(crate) fn delete(&self, purpose: Purpose) -> Result<(), KeystoreError> {
        let entry = self.entry(purpose)?;
        match retrying(|| entry.delete_credential()) {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(classify("delete a secret", e)),
        }
    }
}

/// The pauses before each new attempt of a keychain call that failed in
/// the platform's plumbing. A desktop keyring daemon that restarts (it is
/// started again on demand, and a second start replaces the first) drops
/// the calls in flight; asking again a moment later reaches the new one.
/// Every call is idempotent: reading, writing the same secret, deleting.
const RETRY_PAUSES: [Duration; 2] = [Duration::from_millis(200), Duration::from_millis(800)];

/// Runs `call`, again after each of [`RETRY_PAUSES`] while it fails with a
/// platform failure. Blocks: keystore calls run on blocking threads.
fn retrying<T>(mut call: impl FnMut() -> Result<T, keyring::Error>) -> Result<T, keyring::Error> {
    let mut pauses = RETRY_PAUSES.iter();
    loop {
        match call() {
            Err(keyring::Error::PlatformFailure(error)) => match pauses.next() {
                Some(pause) => {
                    tracing::warn!("the OS keychain failed ({error}); asking again");
                    std::thread::sleep(*pause);
                }
                None => return Err(keyring::Error::PlatformFailure(error)),
            },
            other => return other,
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

#[cfg(test)]
mod tests {
    use super::*;

    fn platform_failure() -> keyring::Error {
        keyring::Error::PlatformFailure("the keyring daemon went away".into())
    }

    #[test]
    fn a_keychain_that_restarts_is_asked_again() {
        let mut calls = 0;
        let answer = retrying(|| {
            calls += 1;
            if calls < 3 { Err(platform_failure()) } else { Ok(7) }
        });
        assert_eq!(answer.unwrap(), 7);
        assert_eq!(calls, 3);
    }

    #[test]
    fn a_keychain_that_stays_away_fails_after_the_last_pause() {
        let mut calls = 0;
        let answer: Result<(), _> = retrying(|| {
            calls += 1;
            Err(platform_failure())
        });
        assert!(matches!(answer, Err(keyring::Error::PlatformFailure(_))));
        assert_eq!(calls, RETRY_PAUSES.len() + 1);
    }

    #[test]
    fn answers_and_other_refusals_are_not_asked_again() {
        let mut calls = 0;
        let answer: Result<(), _> = retrying(|| {
            calls += 1;
            Err(keyring::Error::NoEntry)
        });
        assert!(matches!(answer, Err(keyring::Error::NoEntry)));
        assert_eq!(calls, 1);
    }
}
