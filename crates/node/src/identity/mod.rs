//! The party this node acts for: creating it, backing it up, restoring it.
//!
//! A node acts for at most one party. Its **state** is [`IdentityState::None`]
//! until the user creates a party or restores one, then
//! [`IdentityState::Ready`]; or, when the party's main device enrolled it
//! in the party's cadre ([`crate::cadre`]), [`IdentityState::Member`]: it
//! acts for the party as one of its devices, with a certificate the party
//! signed, and never holds the party secret. The party secret lives in the node's keystore
//! (never in the database); the database holds the public facts — party
//! id, display name, when it was created — and this device's certificate,
//! which the party key signs whenever the node has an identity and a peer
//! id that no certificate covers yet.
//!
//! Backups: [`Identity::recovery_phrase`] gives the 24 words of the party
//! secret (BIP-39, English); [`Identity::export_backup`] an encrypted file
//! that also holds the display name. Restoring either on a fresh node gives
//! back the same party id. Restoring on a node that already acts for a
//! party is refused unless it is the same party (which repairs a keystore
//! that lost the secret). A wrong phrase or passphrase changes nothing.
//!
//! ```no_run
//! # async fn example(node: tallymesh_node::Node) -> Result<(), tallymesh_node::NodeError> {
//! use tallymesh_node::identity::{IdentityState, RecoveryPhrase};
//! use tallymesh_node::keystore::Passphrase;
//!
//! let identity = node.identity();
//! if identity.state().await? == IdentityState::None {
//!     identity.create("Alice").await?;
//! }
//! let words = identity.recovery_phrase().await?;
//! let backup = identity.export_backup(&Passphrase::new("a long passphrase")).await?;
//!
//! // Later, on a fresh node:
//! # let fresh = node.clone();
//! let restored = fresh.identity().restore_from_phrase(&words, "Alice").await?;
//! # let _ = (backup, restored);
//! # Ok(()) }
//! ```

mod backup;
mod phrase;

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use tallymesh_core::device::{DeviceCertificate, MAX_DEVICE_NAME};
use tallymesh_core::record::Signed;
use tallymesh_core::{PartyId, SecretKey, Timestamp};
use tallymesh_store::{IdentityOrigin, OwnDeviceCertificate, OwnIdentity, Store};
use thiserror::Error;

use crate::keystore::{KdfParams, Keystore, KeystoreError, Passphrase, Purpose, SecretSeed};
use crate::{Node, NodeError, NodeEvent};

pub use phrase::{PHRASE_WORDS, PhraseError, RecoveryPhrase};

/// The longest display name, in characters (as on a contact card).
pub const MAX_DISPLAY_NAME: usize = tallymesh_core::card::MAX_NAME;

/// Whom this node acts for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "camelCase", rename_all_fields = "camelCase")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub enum IdentityState {
    /// No party yet: onboarding creates one or restores one.
    None,
    /// The node acts for this party and holds its secret.
    Ready {
        /// The party id (`did:key:z6Mk…`).
        party_id: String,
        /// The last eight characters of the party id, shown beside names.
        fingerprint: String,
        /// The name the party shows.
        display_name: String,
        /// When the party was created, as far as this node knows (ms since
        /// the Unix epoch; a restore from a phrase counts from the restore).
        created_at_ms: u64,
        /// This device's libp2p peer id, which its certificate binds.
        device_peer_id: String,
    },
    /// The node acts for this party as one of its devices, enrolled by the
    /// party's main device; the party secret stays on the main device.
    Member {
        /// The party id (`did:key:z6Mk…`).
        party_id: String,
        /// The last eight characters of the party id.
        fingerprint: String,
        /// The name the party shows.
        display_name: String,
        /// This device's libp2p peer id, which its certificate binds.
        device_peer_id: String,
    },
    /// The database names a party, but the keystore does not hold its
    /// secret (the keychain was reset, or the data directory moved to
    /// another machine). Restoring the same party repairs it.
    KeyMissing {
        /// The party id.
        party_id: String,
        /// Its fingerprint.
        fingerprint: String,
        /// The name the party shows.
        display_name: String,
        /// Where the secret was expected, in words.
        keystore: String,
    },
}

impl IdentityState {
    /// The party id, when there is a party.
    pub fn party_id(&self) -> Option<PartyId> {
        match self {
            IdentityState::None => None,
            IdentityState::Ready { party_id, .. }
            | IdentityState::Member { party_id, .. }
            | IdentityState::KeyMissing { party_id, .. } => party_id.parse().ok(),
        }
    }
}

/// Why an identity operation was refused. Each says what to do instead;
/// none repeats a secret.
#[derive(Debug, Error)]
pub enum IdentityError {
    /// The operation needs a party and there is none.
    #[error("this node has no identity yet: create one or restore one")]
    NoIdentity,
    /// `create` on a node that already acts for a party.
    #[error(
        "this node already acts for {display_name} ({party_id}); a node acts for one party — use another data directory for another"
    )]
    AlreadyExists {
        /// The party it acts for.
        party_id: String,
        /// Its name.
        display_name: String,
    },
    /// A restore of another party on a node that already has one.
    #[error(
        "this node acts for {existing}, and the backup or phrase belongs to another party ({restoring}); restore it in a fresh data directory"
    )]
    OtherParty {
        /// The party the node acts for.
        existing: String,
        /// The party in the backup or phrase.
        restoring: String,
    },
    /// The keystore lost the party secret.
    #[error(
        "the party secret of {party_id} is missing from {keystore}; restore it from the recovery phrase or a backup"
    )]
    SecretMissing {
        /// The party.
        party_id: String,
        /// Where it was expected.
        keystore: String,
    },
    /// An empty or too long display name.
    #[error("a display name has 1 to {MAX_DISPLAY_NAME} characters")]
    BadDisplayName,
    /// A recovery phrase that is not one.
    #[error(transparent)]
    BadPhrase(#[from] PhraseError),
    /// The backup's passphrase is wrong (or the file was altered).
    #[error("wrong passphrase for this backup (or the file has been altered); nothing was changed")]
    WrongBackupPassphrase,
    /// The bytes are not a backup this build can read.
    #[error("cannot read the backup: {0}; nothing was changed")]
    BadBackup(String),
    /// A backup passphrase too short to protect anything.
    #[error(
        "a backup passphrase needs at least {} characters",
        crate::keystore::MIN_PASSPHRASE_CHARS
    )]
    WeakPassphrase,
    /// An operation that needs the party secret, on a member device.
    #[error(
        "this device acts for {display_name} as one of its devices and does not hold the party secret; do this on {display_name}'s main device"
    )]
    NotTheMainDevice {
        /// The party's name.
        display_name: String,
    },
    /// The database holds a party id that does not parse.
    #[error("the database's record of this node's party is damaged ({0})")]
    Damaged(String),
}

/// Writes a backup file at `path`: readable by this user only, and on the
/// disk before this returns. Without `replace` an existing file is refused
/// (`AlreadyExists`); with it, the file is replaced whole, through a
/// temporary file beside it, so a failure never leaves half a backup.
pub fn write_backup_file(path: &std::path::Path, bytes: &[u8], replace: bool) -> std::io::Result<()> {
    use std::io::Write;
    let write_new = |target: &std::path::Path| -> std::io::Result<()> {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(target)?;
        file.write_all(bytes)?;
        file.sync_all()
    };
    if !replace {
        return write_new(path);
    }
    let mut temporary = path.as_os_str().to_owned();
    temporary.push(".partial");
    let temporary = std::path::PathBuf::from(temporary);
    // A leftover from an earlier failure is ours to remove.
    let _ = std::fs::remove_file(&temporary);
    let written = write_new(&temporary).and_then(|()| std::fs::rename(&temporary, path));
    if written.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    written
}

/// The node's identity in memory: the state, and this device's
/// certificate while the state is ready.
#[derive(Debug)]
pub(crate) struct IdentityCache {
    state: IdentityState,
    certificate: Option<Signed<DeviceCertificate>>,
}

impl IdentityCache {
    fn none() -> IdentityCache {
        IdentityCache {
            state: IdentityState::None,
            certificate: None,
        }
    }
}

/// What the identity code needs from the node that owns it.
#[derive(Debug)]
pub(crate) struct DeviceFacts {
    /// This device's peer id.
    pub(crate) peer_id: tallymesh_net::PeerId,
    /// The name its certificate gives it.
    pub(crate) name: String,
    /// The Argon2id settings of backups this node makes.
    pub(crate) file_kdf: KdfParams,
    /// This device's chat identity key (Curve25519), when it chats: its
    /// certificate carries it.
    pub(crate) chat_identity_key: Option<[u8; 32]>,
    /// Whether this node is the desktop app or a headless node.
    pub(crate) kind: crate::cadre::DeviceKind,
}

/// Loads the node's identity at start: the public facts from the database,
/// the secret's presence from the keystore, and a certificate for this
/// device (signed now if none covers the current peer id and name).
pub(crate) async fn load(
    store: &Store,
    keystore: &Arc<Keystore>,
    device: &DeviceFacts,
    now_ms: u64,
) -> Result<IdentityCache, NodeError> {
    let Some(row) = store.own_identity().await? else {
        return Ok(IdentityCache::none());
    };
    let party_id: PartyId = row
        .party_id
        .parse()
        .map_err(|e: tallymesh_core::PartyIdError| IdentityError::Damaged(e.to_string()))?;
    if row.origin == IdentityOrigin::Cadre {
        return Ok(load_member(&row, &party_id, device));
    }
    let secret = blocking(keystore, |k| k.get(Purpose::PartySecret)).await?;
    let party_key = secret
        .map(|seed| SecretKey::from_seed(seed.expose()))
        .filter(|key| &key.public() == party_id.key());
    let Some(party_key) = party_key else {
        tracing::warn!(party = %party_id, keystore = %keystore.describe(), "the party secret is missing from the keystore");
        return Ok(IdentityCache {
            state: IdentityState::KeyMissing {
                party_id: party_id.to_string(),
                fingerprint: party_id.fingerprint(),
                display_name: row.display_name,
                keystore: keystore.describe(),
            },
            certificate: None,
        });
    };
    let stored = row
        .device
        .as_ref()
        .filter(|d| d.peer_id == device.peer_id.to_string())
        .and_then(|d| Signed::<DeviceCertificate>::from_bytes(&d.certificate).ok())
        .filter(|c| {
            c.record().party == party_id
                && c.record().name == device.name
                && c.record().chat_identity_key == device.chat_identity_key
        });
    let certificate = match stored {
        Some(certificate) => certificate,
        None => {
            let certificate = certify(&party_key, device, now_ms);
            store
                .set_own_device_certificate(
                    &OwnDeviceCertificate {
                        peer_id: device.peer_id.to_string(),
                        certificate: certificate.bytes().to_vec(),
                    },
                    to_i64(now_ms),
                )
                .await?;
            tracing::info!(party = %party_id, peer = %device.peer_id, "signed a new device certificate");
            certificate
        }
    };
    Ok(IdentityCache {
        state: ready_state(
            &party_id,
            &row.display_name,
            u64::try_from(row.created_at_ms).unwrap_or(0),
            device,
        ),
        certificate: Some(certificate),
    })
}

/// A member device's identity from its row: the certificate the party
/// signed for this very peer id. Without one (the device key changed, so
/// the certificate names another device), the node has no identity and
/// must be enrolled again.
fn load_member(row: &OwnIdentity, party_id: &PartyId, device: &DeviceFacts) -> IdentityCache {
    let certificate = row
        .device
        .as_ref()
        .filter(|d| d.peer_id == device.peer_id.to_string())
        .and_then(|d| Signed::<DeviceCertificate>::from_bytes(&d.certificate).ok())
        .filter(|c| {
            c.record().party == *party_id
                && c.signer() == party_id.key()
                && c.record().peer_id == device.peer_id.to_bytes()
        });
    let Some(certificate) = certificate else {
        tracing::warn!(party = %party_id, peer = %device.peer_id, "the cadre certificate kept does not name this device; enroll it again");
        return IdentityCache::none();
    };
    IdentityCache {
        state: member_state(party_id, &row.display_name, device),
        certificate: Some(certificate),
    }
}

/// A handle to the node's identity: `node.identity()`. Cheap to clone;
/// operations are serialised, so two restores never interleave.
#[derive(Debug, Clone)]
pub struct Identity {
    node: Node,
}

impl Identity {
    pub(crate) fn new(node: Node) -> Identity {
        Identity { node }
    }

    /// Whom the node acts for.
    pub async fn state(&self) -> Result<IdentityState, NodeError> {
        self.node.running_store().await?;
        Ok(self.node.inner.identity.lock().await.state.clone())
    }

    /// The party this node acts for, as its main device or a member; `None`
    /// without one or while its secret is missing. Read from this device's
    /// certificate, so asking costs no parsing.
    pub(crate) async fn acting_party(&self) -> Result<Option<PartyId>, NodeError> {
        self.node.running_store().await?;
        let cache = self.node.inner.identity.lock().await;
        Ok(match &cache.state {
            IdentityState::Ready { .. } | IdentityState::Member { .. } => cache
                .certificate
                .as_ref()
                .map(|certificate| certificate.record().party)
                .or_else(|| cache.state.party_id()),
            IdentityState::None | IdentityState::KeyMissing { .. } => None,
        })
    }

    /// Creates a new party named `display_name` with a fresh secret from
    /// the OS's random number generator, keeps the secret in the keystore
    /// and signs this device's certificate. Refused if the node already
    /// acts for a party.
    pub async fn create(&self, display_name: &str) -> Result<IdentityState, NodeError> {
        let name = check_display_name(display_name)?;
        let mut cache = self.node.inner.identity.lock().await;
        match &cache.state {
            IdentityState::None => {}
            IdentityState::Member { display_name, .. } => {
                return Err(IdentityError::NotTheMainDevice {
                    display_name: display_name.clone(),
                }
                .into());
            }
            IdentityState::Ready {
                party_id, display_name, ..
            }
            | IdentityState::KeyMissing {
                party_id, display_name, ..
            } => {
                return Err(IdentityError::AlreadyExists {
                    party_id: party_id.clone(),
                    display_name: display_name.clone(),
                }
                .into());
            }
        }
        let seed = SecretSeed::generate()?;
        let now = crate::node::unix_millis();
        self.adopt(&mut cache, seed, name, now, IdentityOrigin::Created).await
    }

    /// The 24-word recovery phrase of the party secret. Show it to the
    /// user once, to write down; it is everything needed to restore.
    pub async fn recovery_phrase(&self) -> Result<RecoveryPhrase, NodeError> {
        let cache = self.node.inner.identity.lock().await;
        let seed = self.party_secret(&cache.state).await?;
        Ok(RecoveryPhrase::from_seed(&seed))
    }

    /// An encrypted backup file of the party (secret, display name,
    /// creation time) under `passphrase` (at least 8 characters).
    pub async fn export_backup(&self, passphrase: &Passphrase) -> Result<Vec<u8>, NodeError> {
        let cache = self.node.inner.identity.lock().await;
        let IdentityState::Ready {
            display_name,
            created_at_ms,
            ..
        } = &cache.state
        else {
            return Err(self.missing(&cache.state).into());
        };
        let contents = backup::BackupContents {
            party_secret: self.party_secret(&cache.state).await?,
            display_name: display_name.clone(),
            created_at_ms: Some(*created_at_ms),
        };
        let passphrase = passphrase.clone();
        let kdf = self.node.inner.device.file_kdf;
        let sealed = tokio::task::spawn_blocking(move || backup::seal(&contents, &passphrase, kdf))
            .await
            .map_err(|e| KeystoreError::Task(e.to_string()))??;
        tracing::info!("exported an identity backup");
        Ok(sealed)
    }

    /// Restores the party of `phrase`, naming it `display_name` (a phrase
    /// holds no name). See the module docs for when it is refused.
    pub async fn restore_from_phrase(
        &self,
        phrase: &RecoveryPhrase,
        display_name: &str,
    ) -> Result<IdentityState, NodeError> {
        let seed = phrase.to_seed().map_err(IdentityError::from)?;
        let name = check_display_name(display_name)?;
        let now = crate::node::unix_millis();
        self.restore(seed, name, None, now, IdentityOrigin::Phrase).await
    }

    /// Restores the party of a backup file made by
    /// [`Identity::export_backup`], unlocked with `passphrase`.
    pub async fn restore_from_backup(
        &self,
        backup: &[u8],
        passphrase: &Passphrase,
    ) -> Result<IdentityState, NodeError> {
        let bytes = backup.to_vec();
        let passphrase = passphrase.clone();
        let contents = tokio::task::spawn_blocking(move || backup::open(&bytes, &passphrase))
            .await
            .map_err(|e| KeystoreError::Task(e.to_string()))??;
        let name = check_display_name(&contents.display_name)?;
        let now = crate::node::unix_millis();
        self.restore(
            contents.party_secret,
            name,
            contents.created_at_ms,
            now,
            IdentityOrigin::Backup,
        )
        .await
    }

    /// This device's certificate, signed by the party key: what contact
    /// cards carry to prove the device acts for the party.
    pub async fn device_certificate(&self) -> Result<Signed<DeviceCertificate>, NodeError> {
        let cache = self.node.inner.identity.lock().await;
        match &cache.certificate {
            Some(certificate) => Ok(certificate.clone()),
            None => Err(self.missing(&cache.state).into()),
        }
    }

    /// The party key, read from the keystore for one use: for code in this
    /// crate that signs as the party (cards, tallies). Dropping it wipes it.
    #[allow(dead_code, reason = "contacts and tallies sign with it")]
    pub(crate) async fn party_key(&self) -> Result<SecretKey, NodeError> {
        let cache = self.node.inner.identity.lock().await;
        let seed = self.party_secret(&cache.state).await?;
        Ok(SecretKey::from_seed(seed.expose()))
    }

    /// The party secret, checked against the party id it must belong to.
    async fn party_secret(&self, state: &IdentityState) -> Result<SecretSeed, NodeError> {
        let IdentityState::Ready { party_id, .. } = state else {
            return Err(self.missing(state).into());
        };
        let keystore = &self.node.inner.keystore;
        let seed = blocking(keystore, |k| k.get(Purpose::PartySecret)).await?;
        match seed {
            Some(seed) if Some(PartyId::new(SecretKey::from_seed(seed.expose()).public())) == state.party_id() => {
                Ok(seed)
            }
            _ => Err(IdentityError::SecretMissing {
                party_id: party_id.clone(),
                keystore: keystore.describe(),
            }
            .into()),
        }
    }

    fn missing(&self, state: &IdentityState) -> IdentityError {
        match state {
            IdentityState::KeyMissing { party_id, keystore, .. } => IdentityError::SecretMissing {
                party_id: party_id.clone(),
                keystore: keystore.clone(),
            },
            IdentityState::Member { display_name, .. } => IdentityError::NotTheMainDevice {
                display_name: display_name.clone(),
            },
            _ => IdentityError::NoIdentity,
        }
    }

    async fn restore(
        &self,
        seed: SecretSeed,
        name: String,
        created_at_ms: Option<u64>,
        now: u64,
        origin: IdentityOrigin,
    ) -> Result<IdentityState, NodeError> {
        let restoring = PartyId::new(SecretKey::from_seed(seed.expose()).public());
        let mut cache = self.node.inner.identity.lock().await;
        if let IdentityState::Member { display_name, .. } = &cache.state {
            return Err(IdentityError::NotTheMainDevice {
                display_name: display_name.clone(),
            }
            .into());
        }
        match cache.state.party_id() {
            None => {}
            Some(existing) if existing == restoring => {
                // The same party: keep what the node knew of it, take the
                // name given now, and put the secret back in the keystore
                // (which is how a node whose keychain lost it recovers).
                let store = self.node.running_store().await?;
                let known = store.own_identity().await?;
                let (created, origin) = known
                    .map(|row| (u64::try_from(row.created_at_ms).unwrap_or(now), row.origin))
                    .unwrap_or((created_at_ms.unwrap_or(now), origin));
                return self.adopt(&mut cache, seed, name, created, origin).await;
            }
            Some(existing) => {
                return Err(IdentityError::OtherParty {
                    existing: existing.to_string(),
                    restoring: restoring.to_string(),
                }
                .into());
            }
        }
        self.adopt(&mut cache, seed, name, created_at_ms.unwrap_or(now), origin)
            .await
    }

    /// Makes `seed` the node's party: the secret into the keystore first,
    /// then the public facts and this device's certificate into the
    /// database in one write. A crash in between leaves an unused secret in
    /// the keystore (overwritten by the next create or restore), never a
    /// party whose secret is lost.
    async fn adopt(
        &self,
        cache: &mut IdentityCache,
        seed: SecretSeed,
        display_name: String,
        created_at_ms: u64,
        origin: IdentityOrigin,
    ) -> Result<IdentityState, NodeError> {
        let store = self.node.running_store().await?;
        let device = &self.node.inner.device;
        let now = crate::node::unix_millis();
        let party_key = SecretKey::from_seed(seed.expose());
        let party_id = PartyId::new(party_key.public());
        let certificate = certify(&party_key, device, now);
        drop(party_key);

        let added_at = match store.own_identity().await? {
            Some(row) if row.party_id == party_id.to_string() => row.added_at_ms,
            _ => to_i64(now),
        };
        blocking(&self.node.inner.keystore, move |k| k.put(Purpose::PartySecret, &seed)).await?;
        store
            .save_own_identity(
                &OwnIdentity {
                    party_id: party_id.to_string(),
                    display_name: display_name.clone(),
                    created_at_ms: to_i64(created_at_ms),
                    origin,
                    added_at_ms: added_at,
                    device: Some(OwnDeviceCertificate {
                        peer_id: device.peer_id.to_string(),
                        certificate: certificate.bytes().to_vec(),
                    }),
                },
                to_i64(now),
            )
            .await?;
        let state = ready_state(&party_id, &display_name, created_at_ms, device);
        *cache = IdentityCache {
            state: state.clone(),
            certificate: Some(certificate),
        };
        self.node.inner.directory.changed();
        tracing::info!(party = %party_id, origin = origin.as_str(), "identity ready");
        // No subscriber is not an error.
        let _ = self.node.inner.events.send(NodeEvent::IdentityChanged {
            identity: state.clone(),
        });
        Ok(state)
    }
}

impl Identity {
    /// Makes this node a member of `party`'s cadre: keeps the party's
    /// public facts with this device's certificate (origin `cadre`) and the
    /// party's card, in that order, and no secret. Refused unless the node
    /// has no identity. The certificate and card were verified by the
    /// caller.
    pub(crate) async fn become_member(
        &self,
        party: &PartyId,
        display_name: &str,
        certificate: Signed<DeviceCertificate>,
        card: &Signed<tallymesh_core::card::ContactCard>,
    ) -> Result<IdentityState, NodeError> {
        let store = self.node.running_store().await?;
        let mut cache = self.node.inner.identity.lock().await;
        match &cache.state {
            IdentityState::None => {}
            IdentityState::Ready {
                party_id, display_name, ..
            }
            | IdentityState::Member {
                party_id, display_name, ..
            }
            | IdentityState::KeyMissing {
                party_id, display_name, ..
            } => {
                return Err(IdentityError::AlreadyExists {
                    party_id: party_id.clone(),
                    display_name: display_name.clone(),
                }
                .into());
            }
        }
        let device = &self.node.inner.device;
        let now = crate::node::unix_millis();
        store
            .save_member_card(card.bytes(), to_i64(card.record().issued_at.as_millis()), to_i64(now))
            .await?;
        store
            .save_own_identity(
                &OwnIdentity {
                    party_id: party.to_string(),
                    display_name: display_name.to_owned(),
                    created_at_ms: to_i64(now),
                    origin: IdentityOrigin::Cadre,
                    added_at_ms: to_i64(now),
                    device: Some(OwnDeviceCertificate {
                        peer_id: device.peer_id.to_string(),
                        certificate: certificate.bytes().to_vec(),
                    }),
                },
                to_i64(now),
            )
            .await?;
        let state = member_state(party, display_name, device);
        *cache = IdentityCache {
            state: state.clone(),
            certificate: Some(certificate),
        };
        self.node.inner.directory.changed();
        tracing::info!(party = %party, "this device joined the party's cadre");
        // No subscriber is not an error.
        let _ = self.node.inner.events.send(NodeEvent::IdentityChanged {
            identity: state.clone(),
        });
        Ok(state)
    }
}

/// Trims a display name and checks its length.
fn check_display_name(name: &str) -> Result<String, IdentityError> {
    let name = name.trim();
    let chars = name.chars().count();
    if chars == 0 || chars > MAX_DISPLAY_NAME || name.chars().any(char::is_control) {
        return Err(IdentityError::BadDisplayName);
    }
    Ok(name.to_owned())
}

/// The party key's certificate for this device, signed now.
fn certify(party_key: &SecretKey, device: &DeviceFacts, now_ms: u64) -> Signed<DeviceCertificate> {
    Signed::sign(
        DeviceCertificate {
            party: PartyId::new(party_key.public()),
            peer_id: device.peer_id.to_bytes(),
            name: device.name.clone(),
            issued_at: Timestamp::from_millis(now_ms),
            chat_identity_key: device.chat_identity_key,
            expires_at: None,
        },
        party_key,
    )
}

fn member_state(party_id: &PartyId, display_name: &str, device: &DeviceFacts) -> IdentityState {
    IdentityState::Member {
        party_id: party_id.to_string(),
        fingerprint: party_id.fingerprint(),
        display_name: display_name.to_owned(),
        device_peer_id: device.peer_id.to_string(),
    }
}

fn ready_state(party_id: &PartyId, display_name: &str, created_at_ms: u64, device: &DeviceFacts) -> IdentityState {
    IdentityState::Ready {
        party_id: party_id.to_string(),
        fingerprint: party_id.fingerprint(),
        display_name: display_name.to_owned(),
        created_at_ms,
        device_peer_id: device.peer_id.to_string(),
    }
}

/// A device name fit for a certificate: trimmed, control characters
/// removed, at most 64 characters; `fallback` when nothing is left.
pub(crate) fn device_name(wanted: &str, fallback: &str) -> String {
    let cleaned: String = wanted
        .chars()
        .filter(|c| !c.is_control())
        .collect::<String>()
        .trim()
        .chars()
        .take(MAX_DEVICE_NAME)
        .collect();
    if cleaned.trim().is_empty() {
        fallback.to_owned()
    } else {
        cleaned.trim().to_owned()
    }
}

/// Runs a keystore call on the blocking pool.
pub(crate) async fn blocking<T, F>(keystore: &Arc<Keystore>, call: F) -> Result<T, KeystoreError>
where
    T: Send + 'static,
    F: FnOnce(&Keystore) -> Result<T, KeystoreError> + Send + 'static,
{
    let keystore = Arc::clone(keystore);
    tokio::task::spawn_blocking(move || call(&keystore))
        .await
        .map_err(|e| KeystoreError::Task(e.to_string()))?
}

fn to_i64(ms: u64) -> i64 {
    i64::try_from(ms).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_are_trimmed_and_bounded() {
        assert_eq!(check_display_name("  Alice  ").unwrap(), "Alice");
        assert!(check_display_name("   ").is_err());
        assert!(check_display_name(&"x".repeat(65)).is_err());
        assert!(check_display_name(&"é".repeat(64)).is_ok());
        assert!(check_display_name("Al\nice").is_err());
    }

    #[test]
    fn device_names_fit_a_certificate() {
        assert_eq!(device_name("  Laptop\t", "x"), "Laptop");
        assert_eq!(device_name("", "Tallymesh node"), "Tallymesh node");
        assert_eq!(device_name(&"n".repeat(80), "x").chars().count(), MAX_DEVICE_NAME);
    }

    #[test]
    fn identity_states_serialise_with_a_state_tag_in_camel_case() {
        assert_eq!(
            serde_json::to_value(IdentityState::None).unwrap(),
            serde_json::json!({"state": "none"})
        );
        let ready = IdentityState::Ready {
            party_id: "did:key:z6Mk".into(),
            fingerprint: "z6Mk".into(),
            display_name: "Alice".into(),
            created_at_ms: 5,
            device_peer_id: "12D3".into(),
        };
        assert_eq!(
            serde_json::to_value(&ready).unwrap(),
            serde_json::json!({
                "state": "ready", "partyId": "did:key:z6Mk", "fingerprint": "z6Mk",
                "displayName": "Alice", "createdAtMs": 5, "devicePeerId": "12D3"
            })
        );
    }
}
