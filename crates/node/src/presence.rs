//! Which contacts are online, and keeping in touch with them.
//!
//! A contact is **online** while one of the devices its card certifies is
//! connected to this node; its round-trip time is the latest ping to such
//! a device; **last seen** is the last moment one was connected, kept in
//! the database so it survives a restart. Every change is a
//! [`NodeEvent::PresenceChanged`].
//!
//! Keeping in touch: once a second the node looks at its contacts. Each one
//! that is offline is dialled at the addresses its card lists, again after
//! 1, 2, 4, … seconds, at most every five minutes; any connection resets
//! the wait. After a few failed rounds the node looks the party's card up
//! in the DHT, where every node publishes its own card under its party id
//! (signed, so a card found there is checked like any other): a contact
//! whose addresses changed is found again. The node publishes its card
//! when it has an identity, again when its addresses change, and every ten
//! minutes. A member device keeps in touch with its own party the same way,
//! so the main device can hand it the party's newer card.

use std::collections::{HashMap, HashSet};
use std::sync::{PoisonError, Weak};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use tallymesh_core::card::ContactCard;
use tallymesh_net::multiaddr::Protocol;
use tallymesh_net::{Multiaddr, PeerId};

use crate::node::{Inner, unix_millis};
use crate::retry::Retry;
use crate::{Node, NodeError, NodeEvent};

/// How often the node looks at its offline contacts.
const TICK: Duration = Duration::from_secs(1);
/// How often the node's own card is published again.
const REPUBLISH_EVERY: Duration = Duration::from_secs(600);
/// How soon a failed publication is tried again.
const REPUBLISH_AFTER_FAILURE: Duration = Duration::from_secs(5);

/// How a contact can be reached right now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ContactPresence {
    /// The contact's party id.
    pub party_id: String,
    /// Whether one of its devices is connected.
    pub online: bool,
    /// The latest ping round trip to one of its devices, in milliseconds.
    pub rtt_ms: Option<u32>,
    /// When one of its devices was last connected (ms since the Unix
    /// epoch); `None` if never.
    pub last_seen_ms: Option<u64>,
}

/// The DHT key a party's card is published under.
pub fn card_key(party_id: &str) -> Vec<u8> {
    format!("{}{party_id}", crate::card_records::CARD_KEY_PREFIX).into_bytes()
}

/// The connected devices of each contact, in memory.
#[derive(Debug, Default)]
pub(crate) struct PresenceBook {
    parties: HashMap<String, Online>,
}

#[derive(Debug, Default)]
struct Online {
    devices: HashSet<PeerId>,
    rtt: Option<Duration>,
}

impl PresenceBook {
    fn is_online(&self, party_id: &str) -> bool {
        self.parties.get(party_id).is_some_and(|p| !p.devices.is_empty())
    }
}

impl Node {
    /// Every contact's presence, by party id.
    pub async fn presence(&self) -> Result<Vec<ContactPresence>, NodeError> {
        let store = self.running_store().await?;
        let seen: HashMap<String, i64> = store.last_seen().await?.into_iter().collect();
        let contacts = store.contacts().await?;
        let book = self.book();
        Ok(contacts
            .iter()
            .map(|row| presence_of(&book, &row.party_id, seen.get(&row.party_id).copied()))
            .collect())
    }

    /// A device connected: its party, if a contact, is online.
    pub(crate) async fn device_connected(&self, peer: PeerId) {
        let Some(party) = self.party_of_device(peer).await else {
            return;
        };
        let changed = {
            let mut book = self.book();
            let entry = book.parties.entry(party.clone()).or_default();
            let was_online = !entry.devices.is_empty();
            entry.devices.insert(peer);
            !was_online
        };
        self.note_seen(&party).await;
        if changed {
            tracing::info!(party = %party, %peer, "a contact is online");
            self.announce_presence(&party).await;
            // Cards travel with every reconnection, so each side keeps the
            // other's current addresses and devices.
            let contacts = self.contacts();
            tokio::spawn(async move { contacts.exchange_cards(peer).await });
        }
    }

    /// A device's last connection closed: its party may be offline now.
    pub(crate) async fn device_disconnected(&self, peer: PeerId) {
        let Some(party) = self.party_of_device(peer).await else {
            return;
        };
        let went_offline = {
            let mut book = self.book();
            let entry = book.parties.entry(party.clone()).or_default();
            let removed = entry.devices.remove(&peer);
            removed && entry.devices.is_empty()
        };
        self.note_seen(&party).await;
        if went_offline {
            tracing::info!(party = %party, %peer, "a contact went offline");
            self.announce_presence(&party).await;
        }
    }

    /// A ping round trip to a device.
    pub(crate) async fn device_rtt(&self, peer: PeerId, rtt: Duration) {
        let Some(party) = self.party_of_device(peer).await else {
            return;
        };
        {
            let mut book = self.book();
            let entry = book.parties.entry(party.clone()).or_default();
            if !entry.devices.contains(&peer) {
                return;
            }
            entry.rtt = Some(rtt);
        }
        self.announce_presence(&party).await;
    }

    fn book(&self) -> std::sync::MutexGuard<'_, PresenceBook> {
        self.inner.presence.lock().unwrap_or_else(PoisonError::into_inner)
    }

    async fn party_of_device(&self, peer: PeerId) -> Option<String> {
        match self.device_parties().await {
            Ok(parties) => parties.get(&peer).map(|(party, _)| party.clone()),
            Err(error) => {
                tracing::debug!("cannot tell whose device {peer} is: {error}");
                None
            }
        }
    }

    async fn note_seen(&self, party: &str) {
        if let Ok(store) = self.running_store().await
            && let Err(error) = store.record_seen(party, to_i64(unix_millis())).await
        {
            tracing::warn!(party = %party, "cannot note when a contact was seen: {error}");
        }
    }

    async fn announce_presence(&self, party: &str) {
        let last_seen = match self.running_store().await {
            Ok(store) => store
                .last_seen()
                .await
                .ok()
                .and_then(|seen| seen.into_iter().find(|(p, _)| p == party).map(|(_, at)| at)),
            Err(_) => None,
        };
        let presence = presence_of(&self.book(), party, last_seen);
        // No subscriber is not an error.
        let _ = self.inner.events.send(NodeEvent::PresenceChanged { presence });
    }
}

fn presence_of(book: &PresenceBook, party: &str, last_seen_ms: Option<i64>) -> ContactPresence {
    let online = book.parties.get(party).filter(|p| !p.devices.is_empty());
    ContactPresence {
        party_id: party.to_owned(),
        online: online.is_some(),
        rtt_ms: online
            .and_then(|p| p.rtt)
            .map(|rtt| u32::try_from(rtt.as_millis()).unwrap_or(u32::MAX)),
        last_seen_ms: last_seen_ms.and_then(|ms| u64::try_from(ms).ok()),
    }
}

/// What the keeping-in-touch task remembers between ticks.
#[derive(Debug, Default)]
struct Touch {
    retries: HashMap<String, Retry>,
    published: Option<(Instant, Vec<String>)>,
    publish_failed_at: Option<Instant>,
    /// On a member device: when to dial the party's other devices again.
    party_retry: Option<Retry>,
}

/// Keeps in touch with contacts and publishes this party's card (see the
/// module docs) until the node stops or is dropped.
pub(crate) async fn keep_in_touch(node: Weak<Inner>) {
    let mut touch = Touch::default();
    loop {
        tokio::time::sleep(TICK).await;
        let Some(inner) = node.upgrade() else {
            break;
        };
        let node = Node { inner };
        if node.running_store().await.is_err() {
            break;
        }
        node.publish_card(&mut touch).await;
        node.reach_offline_contacts(&mut touch).await;
        node.reach_own_party(&mut touch).await;
    }
}

impl Node {
    async fn publish_card(&self, touch: &mut Touch) {
        let Ok(state) = self.identity().state().await else {
            return;
        };
        // A member device's card is the main device's, as last received:
        // publishing it could only put an older card beside a newer one.
        if matches!(state, crate::IdentityState::Member { .. }) {
            return;
        }
        let Some(party) = state.party_id() else {
            return;
        };
        let Ok(addresses) = self.inner.net.listen_addrs().await else {
            return;
        };
        let addresses: Vec<String> = addresses.iter().map(ToString::to_string).collect();
        let now = Instant::now();
        let due = match &touch.published {
            None => true,
            Some((at, published)) => *published != addresses || now.duration_since(*at) >= REPUBLISH_EVERY,
        };
        let waiting = touch
            .publish_failed_at
            .is_some_and(|at| now.duration_since(at) < REPUBLISH_AFTER_FAILURE);
        if !due || waiting {
            return;
        }
        let card = match self.contacts().my_card(None).await {
            Ok(card) => card,
            Err(error) => {
                tracing::debug!("no card to publish: {error}");
                return;
            }
        };
        match self
            .inner
            .net
            .put_record(card_key(&party.to_string()), card.bytes().to_vec())
            .await
        {
            Ok(()) => {
                tracing::info!("published this party's card in the DHT");
                touch.published = Some((now, addresses));
                touch.publish_failed_at = None;
            }
            Err(error) => {
                tracing::debug!("the card could not be published yet: {error}");
                touch.publish_failed_at = Some(now);
            }
        }
    }

    async fn reach_offline_contacts(&self, touch: &mut Touch) {
        let Ok(store) = self.running_store().await else {
            return;
        };
        let Ok(rows) = store.contacts().await else {
            return;
        };
        // A device can be connected before its party became a contact (the
        // connection that redeemed an invite): count it now.
        let connected: HashSet<PeerId> = match self.inner.net.connected_peers().await {
            Ok(peers) => peers.into_iter().collect(),
            Err(_) => return,
        };
        let now = Instant::now();
        let known: HashSet<&str> = rows.iter().map(|row| row.party_id.as_str()).collect();
        touch.retries.retain(|party, _| known.contains(party.as_str()));
        for row in rows {
            if self.book().is_online(&row.party_id) {
                touch.retries.remove(&row.party_id);
                continue;
            }
            let already = device_peers(&row.card)
                .into_iter()
                .find(|peer| connected.contains(peer));
            if let Some(peer) = already {
                self.device_connected(peer).await;
                touch.retries.remove(&row.party_id);
                continue;
            }
            let retry = touch
                .retries
                .entry(row.party_id.clone())
                .or_insert_with(|| Retry::starting(now));
            if !retry.is_due(now) {
                continue;
            }
            let mut card = row.card;
            if retry.looks_in_dht()
                && let Some(newer) = self.card_from_dht(&row.party_id, row.card_issued_at_ms).await
            {
                card = newer;
                retry.start_over();
            }
            retry.attempted(now);
            self.dial_card(&card).await;
        }
    }

    /// On a member device, keeps a connection to one of the party's other
    /// devices: the main device sends its newer card to a device of its
    /// cadre that connects (`cadre/card`), so a member that was offline at
    /// an enrollment or a revocation catches up. Dialled again after 1, 2,
    /// 4, … seconds, at most every five minutes, while none is connected.
    async fn reach_own_party(&self, touch: &mut Touch) {
        if !matches!(self.identity().state().await, Ok(crate::IdentityState::Member { .. })) {
            touch.party_retry = None;
            return;
        }
        let Ok(card) = self.contacts().my_card(None).await else {
            return;
        };
        let own = self.inner.net.local_peer_id();
        let others: Vec<PeerId> = device_peers(card.bytes())
            .into_iter()
            .filter(|peer| *peer != own)
            .collect();
        let Ok(connected) = self.inner.net.connected_peers().await else {
            return;
        };
        if others.is_empty() || others.iter().any(|peer| connected.contains(peer)) {
            touch.party_retry = None;
            return;
        }
        let now = Instant::now();
        let retry = touch.party_retry.get_or_insert_with(|| Retry::starting(now));
        if !retry.is_due(now) {
            return;
        }
        retry.attempted(now);
        let addresses: Vec<Multiaddr> = card.record().addresses.iter().filter_map(|a| a.parse().ok()).collect();
        for peer in others {
            for address in &addresses {
                let _ = self.inner.net.add_address(peer, address.clone()).await;
                let mut target = address.clone();
                target.push(Protocol::P2p(peer));
                if let Err(error) = self.inner.net.dial(target).await {
                    tracing::debug!(%peer, "cannot dial a device of this party: {error}");
                }
            }
        }
    }

    /// Dials every device a card certifies at every address it lists.
    async fn dial_card(&self, card: &[u8]) {
        let Ok(card) = ContactCard::from_signed_bytes(card) else {
            return;
        };
        let record = card.record();
        let addresses: Vec<Multiaddr> = record.addresses.iter().filter_map(|a| a.parse().ok()).collect();
        for device in &record.devices {
            let Ok(peer) = PeerId::from_bytes(&device.record().peer_id) else {
                continue;
            };
            for address in &addresses {
                let _ = self.inner.net.add_address(peer, address.clone()).await;
                let mut target = address.clone();
                target.push(Protocol::P2p(peer));
                if let Err(error) = self.inner.net.dial(target).await {
                    tracing::debug!(%peer, "cannot dial a contact's device: {error}");
                }
            }
        }
    }

    /// A newer card of `party` from the DHT, verified and kept; its bytes.
    async fn card_from_dht(&self, party: &str, kept_issued_at_ms: i64) -> Option<Vec<u8>> {
        let values = match self.inner.net.get_record(card_key(party)).await {
            Ok(values) => values,
            Err(error) => {
                tracing::debug!(party = %party, "no card found in the DHT: {error}");
                return None;
            }
        };
        let newest = values
            .iter()
            .filter_map(|bytes| ContactCard::from_signed_bytes(bytes).ok())
            .filter(|card| card.record().party.to_string() == party)
            .max_by_key(|card| card.record().issued_at.as_millis())?;
        if to_i64(newest.record().issued_at.as_millis()) <= kept_issued_at_ms {
            return None;
        }
        let bytes = newest.bytes().to_vec();
        match self.contacts().add(newest).await {
            Ok(_) => {
                tracing::info!(party = %party, "found a contact's newer card in the DHT");
                Some(bytes)
            }
            Err(error) => {
                tracing::info!(party = %party, "a card found in the DHT was refused: {error}");
                None
            }
        }
    }
}

/// The peer ids of the devices a kept card certifies.
fn device_peers(card: &[u8]) -> Vec<PeerId> {
    ContactCard::from_signed_bytes(card)
        .map(|card| {
            card.record()
                .devices
                .iter()
                .filter_map(|device| PeerId::from_bytes(&device.record().peer_id).ok())
                .collect()
        })
        .unwrap_or_default()
}

fn to_i64(ms: u64) -> i64 {
    i64::try_from(ms).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_party_is_online_while_one_of_its_devices_is_connected() {
        let mut book = PresenceBook::default();
        let (a, b) = (PeerId::random(), PeerId::random());
        let entry = book.parties.entry("did:key:z6Mk".into()).or_default();
        entry.devices.extend([a, b]);
        entry.rtt = Some(Duration::from_micros(1_500));
        let presence = presence_of(&book, "did:key:z6Mk", Some(42));
        assert!(presence.online);
        assert_eq!(presence.rtt_ms, Some(1));
        assert_eq!(presence.last_seen_ms, Some(42));

        book.parties.get_mut("did:key:z6Mk").unwrap().devices.remove(&a);
        assert!(book.is_online("did:key:z6Mk"));
        book.parties.get_mut("did:key:z6Mk").unwrap().devices.remove(&b);
        let presence = presence_of(&book, "did:key:z6Mk", None);
        assert!(!presence.online);
        assert_eq!(presence.rtt_ms, None, "an offline party has no round trip");
        assert!(!book.is_online("someone else"));
    }

    #[test]
    fn cards_are_published_under_the_party_id() {
        assert_eq!(card_key("did:key:z6MkX"), b"/tallymesh/card/did:key:z6MkX");
    }
}
