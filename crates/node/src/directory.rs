//! Who is who, kept in memory: the contacts' cards (read and parsed), this
//! party's other devices, and device certificates whose signature was
//! checked. All of it changes rarely, and only through this node: a card
//! kept or a contact removed, a device enrolled or revoked, the party's
//! card arriving on a member device, the identity made or restored.
//!
//! Each of those calls [`Directory::changed`] right after the database
//! has it and before it returns, so the next read loads everything again:
//! a revoked device is not trusted from memory even for a moment after its
//! revocation returned. A load that raced with a change is used once and
//! not kept.
//!
//! The helpers that find "the devices a card certifies" and "the devices
//! of this party" live here, so every part of the node answers those
//! questions the same way.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use tallymesh_core::PartyId;
use tallymesh_core::card::ContactCard;
use tallymesh_core::device::DeviceCertificate;
use tallymesh_core::record::Signed;
use tallymesh_net::PeerId;

use crate::identity::IdentityState;
use crate::{Node, NodeError};

/// The most checked certificates kept; beyond it the memory starts over.
const MAX_VERIFIED: usize = 1_024;

/// The node's memory of parties and devices.
#[derive(Debug, Default)]
pub(crate) struct Directory {
    /// Counts the node's changes; a snapshot is good for one value.
    generation: AtomicU64,
    /// The snapshot of the current generation, once loaded.
    snapshot: Mutex<Option<Arc<Snapshot>>>,
    /// Device certificates as received, whose record and signature read,
    /// by their bytes. A certificate's bytes always read the same way, so
    /// this never goes stale; what depends on time or on who the party is
    /// is checked on every use.
    verified: Mutex<HashMap<Vec<u8>, Signed<DeviceCertificate>>>,
}

/// What the node knew of parties and devices at one moment.
#[derive(Debug)]
pub(crate) struct Snapshot {
    generation: u64,
    /// The party this node acts for (as its main device or a member).
    pub(crate) own: Option<PartyId>,
    /// The contacts whose kept card reads, by party id.
    contacts: HashMap<String, Signed<ContactCard>>,
    /// This party's other devices; why not, when they cannot be told.
    own_devices: Result<Vec<Signed<DeviceCertificate>>, String>,
}

impl Directory {
    /// The node changed contacts, its cadre, its card or its identity:
    /// forget what was read before.
    pub(crate) fn changed(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        *self.snapshot.lock().unwrap_or_else(PoisonError::into_inner) = None;
    }

    fn current(&self) -> Option<Arc<Snapshot>> {
        let kept = self.snapshot.lock().unwrap_or_else(PoisonError::into_inner);
        kept.as_ref()
            .filter(|s| s.generation == self.generation.load(Ordering::Acquire))
            .cloned()
    }

    fn keep(&self, snapshot: &Arc<Snapshot>) {
        let mut kept = self.snapshot.lock().unwrap_or_else(PoisonError::into_inner);
        if snapshot.generation == self.generation.load(Ordering::Acquire) {
            *kept = Some(Arc::clone(snapshot));
        }
    }

    /// The certificate `bytes` encode, its record and signature checked
    /// (once per distinct certificate).
    pub(crate) fn certificate(
        &self,
        bytes: &[u8],
    ) -> Result<Signed<DeviceCertificate>, tallymesh_core::record::RecordError> {
        if let Some(known) = self.verified.lock().unwrap_or_else(PoisonError::into_inner).get(bytes) {
            return Ok(known.clone());
        }
        let certificate = Signed::<DeviceCertificate>::from_bytes(bytes)?;
        let mut verified = self.verified.lock().unwrap_or_else(PoisonError::into_inner);
        if verified.len() >= MAX_VERIFIED {
            verified.clear();
        }
        verified.insert(bytes.to_vec(), certificate.clone());
        Ok(certificate)
    }
}

impl Snapshot {
    /// The kept card of the contact `party`.
    pub(crate) fn card(&self, party: &str) -> Option<&Signed<ContactCard>> {
        self.contacts.get(party)
    }

    /// Whether `party` is a contact.
    pub(crate) fn is_contact(&self, party: &PartyId) -> bool {
        self.contacts.contains_key(&party.to_string())
    }

    /// The certificates of this party's other devices: enrolled and not
    /// revoked (on the main device), or listed on the party's card (on a
    /// member). Never this device; empty without an identity.
    pub(crate) fn own_devices(&self) -> Result<&[Signed<DeviceCertificate>], NodeError> {
        self.own_devices
            .as_deref()
            .map_err(|reason| NodeError::Identity(crate::IdentityError::Damaged(reason.clone())))
    }

    /// Whether `peer` is another device of this party.
    pub(crate) fn is_own_device(&self, peer: &PeerId) -> bool {
        let peer = peer.to_bytes();
        self.own_devices
            .as_ref()
            .is_ok_and(|devices| devices.iter().any(|d| d.record().peer_id == peer))
    }

    /// The display name of every contact, by party id.
    pub(crate) fn names(&self) -> HashMap<String, String> {
        self.contacts
            .iter()
            .map(|(party, card)| (party.clone(), card.record().name.clone()))
            .collect()
    }

    /// Which contact each device a kept card certifies belongs to: its
    /// party id and display name.
    pub(crate) fn device_parties(&self) -> HashMap<PeerId, (String, String)> {
        let mut parties = HashMap::new();
        for (party, card) in &self.contacts {
            for peer in card_peers(card.record()) {
                parties.insert(peer, (party.clone(), card.record().name.clone()));
            }
        }
        parties
    }
}

/// The peer ids of the devices `card` certifies, in its order.
pub(crate) fn card_peers(card: &ContactCard) -> Vec<PeerId> {
    card.devices
        .iter()
        .filter_map(|device| PeerId::from_bytes(&device.record().peer_id).ok())
        .collect()
}

impl Node {
    /// What the node knows of parties and devices now: kept in memory
    /// until the node changes any of it (see [`crate::directory`]).
    pub(crate) async fn directory(&self) -> Result<Arc<Snapshot>, NodeError> {
        let directory = &self.inner.directory;
        if let Some(snapshot) = directory.current() {
            return Ok(snapshot);
        }
        let generation = directory.generation.load(Ordering::Acquire);
        let store = self.running_store().await?;
        let state = self.identity().state().await?;
        let me = self.inner.net.local_peer_id().to_bytes();
        let mut contacts = HashMap::new();
        for row in store.contacts().await? {
            // Kept cards were verified when they came; one that no longer
            // reads is left out here and reported where contacts are listed.
            if let Ok(card) = ContactCard::from_signed_bytes(&row.card) {
                contacts.insert(row.party_id, card);
            }
        }
        let own_devices = match &state {
            IdentityState::Ready { .. } => Ok(store
                .cadre_devices()
                .await?
                .iter()
                .filter(|row| row.revoked_at_ms.is_none())
                .filter_map(|row| Signed::<DeviceCertificate>::from_bytes(&row.certificate).ok())
                .filter(|c| c.record().peer_id != me)
                .collect()),
            IdentityState::Member { .. } => match store.member_card().await? {
                Some(bytes) => ContactCard::from_signed_bytes(&bytes)
                    .map(|card| {
                        card.record()
                            .devices
                            .iter()
                            .filter(|c| c.record().peer_id != me)
                            .cloned()
                            .collect()
                    })
                    .map_err(|e| format!("the party's card kept on this member device does not read: {e}")),
                None => Err("the party's card is missing on this member device".to_owned()),
            },
            _ => Ok(Vec::new()),
        };
        let own = match &state {
            IdentityState::Ready { .. } | IdentityState::Member { .. } => state.party_id(),
            _ => None,
        };
        let snapshot = Arc::new(Snapshot {
            generation,
            own,
            contacts,
            own_devices,
        });
        directory.keep(&snapshot);
        Ok(snapshot)
    }
}
