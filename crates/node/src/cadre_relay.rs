//! The cadre's own relay.
//!
//! An always-on device of the party (`tallymesh node run --relay`,
//! [`crate::NodeConfig::relay_server`]) relays connections for the party's
//! other devices, so a laptop behind NAT stays reachable through it. It
//! grants reservations to the party's devices only — on the main device
//! the devices it enrolled and did not revoke, on a member device the
//! others its copy of the party's card lists — and refuses everyone
//! else's; the list follows enrollments and revocations as they happen.
//!
//! Every other device of the party notices, through identify, when a
//! connected device of its own party offers to relay, and asks it for a
//! reservation by listening on `<its address>/p2p/<relay>/p2p-circuit` —
//! at most two relays at once, taken in order of trust (the party's own
//! devices score alike, so the relays that failed it least come first).
//! Once granted, the circuit address is among the node's listen addresses,
//! so the main device puts it on the party's card (and in the DHT), and
//! contacts dial the laptop through the relay. A reservation refused or
//! lost is asked for again after 1, 2, 4, … seconds (at most every five
//! minutes), while the relay is still offered; a relay whose device was
//! revoked is given up. A node that is a relay itself asks no other.
//!
//! Nothing here polls: a task looks again when the party's devices may
//! have changed (the node's identity or cadre changed, which on a member
//! device includes a newer card of the party), when a reservation was
//! lost, and when the next retry falls due.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, PoisonError, Weak};
use std::time::Instant;

use tokio::sync::Notify;
use tokio::sync::broadcast::error::RecvError;

use tallymesh_net::multiaddr::Protocol;
use tallymesh_net::{Multiaddr, PeerId};

use crate::node::Inner;
use crate::retry::Retry;
use crate::{Node, NodeEvent};

/// How many of its party's relays a device holds reservations on (or asks)
/// at once: the best ranked; another is asked when one is lost.
const RELAYS_AT_ONCE: usize = 2;

/// What the node knows of its party's relays, in memory.
#[derive(Debug, Default)]
pub(crate) struct RelayBook {
    /// Connected peers that offer to relay, with where they listen.
    offered: HashMap<PeerId, Vec<Multiaddr>>,
    /// The relays asked for a reservation: the circuit address listened
    /// on, and whether the reservation was granted.
    asked: HashMap<PeerId, (Multiaddr, bool)>,
    /// When to ask a relay again after a refusal or a loss.
    retries: HashMap<PeerId, Retry>,
    /// On a relay server: the devices it grants reservations to now.
    allowed: Option<HashSet<PeerId>>,
    /// Wakes [`keep_cadre_relay`] when a reservation was lost, so that it
    /// waits for the new retry.
    wake: Arc<Notify>,
}

impl RelayBook {
    /// When the next relay offered and not asked is due to be asked again,
    /// if any waits.
    fn next_retry(&self) -> Option<Instant> {
        self.retries
            .iter()
            .filter(|(relay, _)| self.offered.contains_key(*relay) && !self.asked.contains_key(*relay))
            .map(|(_, retry)| retry.next_at())
            .min()
    }
}

/// Keeps the cadre's relay in step with the party (see the module docs)
/// until the node is gone: once at the start, then whenever the party's
/// devices may have changed, a reservation was lost, or a retry is due.
/// Holds the node weakly.
pub(crate) async fn keep_cadre_relay(node: Weak<Inner>) {
    let Some((mut events, wake)) = node.upgrade().map(|inner| {
        let wake = inner.relays.lock().unwrap_or_else(PoisonError::into_inner).wake.clone();
        (inner.events.subscribe(), wake)
    }) else {
        return;
    };
    loop {
        let next_retry = {
            let Some(inner) = node.upgrade() else {
                break;
            };
            let node = Node { inner };
            node.follow_party_relays().await;
            node.relays().next_retry()
        };
        let retry_due = async {
            match next_retry {
                Some(at) => tokio::time::sleep_until(at.into()).await,
                None => std::future::pending().await,
            }
        };
        tokio::pin!(retry_due);
        loop {
            tokio::select! {
                () = &mut retry_due => break,
                () = wake.notified() => break,
                event = events.recv() => match event {
                    Ok(NodeEvent::IdentityChanged { .. } | NodeEvent::CadreChanged) | Err(RecvError::Lagged(_)) => break,
                    Ok(NodeEvent::ShuttingDown) | Err(RecvError::Closed) => return,
                    Ok(_) => {}
                },
            }
        }
    }
}

impl Node {
    /// The other devices of this node's party: on the main device those it
    /// enrolled and did not revoke, on a member device the others the
    /// party's card lists. Empty without an identity.
    pub(crate) async fn party_devices(&self) -> HashSet<PeerId> {
        let Ok(directory) = self.directory().await else {
            return HashSet::new();
        };
        directory
            .own_devices()
            .unwrap_or_default()
            .iter()
            .filter_map(|certificate| PeerId::from_bytes(&certificate.record().peer_id).ok())
            .collect()
    }

    fn relays(&self) -> std::sync::MutexGuard<'_, RelayBook> {
        self.inner.relays.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A connected peer offers to relay (identify).
    pub(crate) async fn relay_offered(&self, relay: PeerId, addresses: Vec<Multiaddr>) {
        self.relays().offered.insert(relay, addresses);
        self.use_party_relays().await;
    }

    /// A relay granted this node a reservation.
    pub(crate) fn relay_reserved(&self, relay: PeerId) {
        let mut book = self.relays();
        book.retries.remove(&relay);
        if let Some((_, granted)) = book.asked.get_mut(&relay) {
            *granted = true;
            tracing::info!(%relay, "reachable through a relay of this party");
        }
    }

    /// A reservation was refused or ended: ask again later.
    pub(crate) fn relay_lost(&self, relay: PeerId, reason: &str) {
        let mut book = self.relays();
        if book.asked.remove(&relay).is_some() {
            tracing::info!(%relay, "a relay of this party holds no reservation for this device: {reason}");
            let now = Instant::now();
            book.retries
                .entry(relay)
                .or_insert_with(|| Retry::starting(now))
                .attempted(now);
            book.wake.notify_one();
        }
    }

    /// A relay server follows the party's devices with the peers it grants
    /// reservations to; any other node keeps its reservations on its
    /// party's relays.
    async fn follow_party_relays(&self) {
        if self.inner.relay_server {
            let devices = self.party_devices().await;
            if self.relays().allowed.as_ref() == Some(&devices) {
                return;
            }
            match self.inner.net.allow_relay_reservations(devices.iter().copied()).await {
                Ok(()) => {
                    tracing::info!(devices = devices.len(), "relaying for this party's devices");
                    self.relays().allowed = Some(devices);
                }
                Err(error) => tracing::debug!("cannot tell the relay whom it serves: {error}"),
            }
        } else {
            self.use_party_relays().await;
        }
    }

    /// Asks every offered relay of this party that holds no reservation
    /// for this device (and is due) for one, and gives up those whose
    /// device is no longer the party's.
    async fn use_party_relays(&self) {
        if self.inner.relay_server {
            return;
        }
        {
            let book = self.relays();
            if book.offered.is_empty() && book.asked.is_empty() {
                return;
            }
        }
        let devices = self.party_devices().await;
        // Relays are asked in order of trust (the party's own devices all
        // score alike, so those that failed us least first), at most
        // `RELAYS_AT_ONCE` at a time.
        let offered: Vec<PeerId> = self.relays().offered.keys().copied().collect();
        let ranked = self.trust().rank_peers(offered).await;
        let now = Instant::now();
        let (ask, give_up) = {
            let mut book = self.relays();
            let give_up: Vec<(PeerId, Multiaddr)> = book
                .asked
                .iter()
                .filter(|(relay, _)| !devices.contains(relay))
                .map(|(relay, (circuit, _))| (*relay, circuit.clone()))
                .collect();
            for (relay, _) in &give_up {
                book.asked.remove(relay);
            }
            let mut ask = Vec::new();
            let mut held = book.asked.len();
            for relay in &ranked {
                if held >= RELAYS_AT_ONCE {
                    break;
                }
                let Some(addresses) = book.offered.get(relay) else {
                    continue;
                };
                let due = book.retries.get(relay).is_none_or(|retry| retry.is_due(now));
                if devices.contains(relay)
                    && !book.asked.contains_key(relay)
                    && due
                    && let Some(circuit) = circuit_through(*relay, addresses)
                {
                    ask.push((*relay, circuit));
                    held += 1;
                }
            }
            for (relay, circuit) in &ask {
                book.asked.insert(*relay, (circuit.clone(), false));
            }
            (ask, give_up)
        };
        for (relay, circuit) in give_up {
            tracing::info!(%relay, "no longer a device of this party: its relay is given up");
            if let Err(error) = self.inner.net.stop_listening(circuit).await {
                tracing::debug!(%relay, "cannot give up a relay: {error}");
            }
        }
        for (relay, circuit) in ask {
            tracing::info!(%relay, %circuit, "asking a relay of this party for a reservation");
            if let Err(error) = self.inner.net.listen(circuit).await {
                self.relay_lost(relay, &error.to_string());
            }
        }
    }
}

/// The circuit address to listen on through `relay`, from where it
/// listens: TCP first, then anything else it offers.
fn circuit_through(relay: PeerId, addresses: &[Multiaddr]) -> Option<Multiaddr> {
    let is_tcp = |address: &&Multiaddr| address.iter().any(|p| matches!(p, Protocol::Tcp(_)));
    let address = addresses.iter().find(is_tcp).or_else(|| addresses.first())?;
    let mut circuit = address.clone();
    if !matches!(circuit.iter().last(), Some(Protocol::P2p(_))) {
        circuit.push(Protocol::P2p(relay));
    }
    circuit.push(Protocol::P2pCircuit);
    Some(circuit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_relay_is_asked_through_its_tcp_address_first() {
        let relay = PeerId::random();
        let quic: Multiaddr = "/ip4/127.0.0.1/udp/4001/quic-v1".parse().unwrap();
        let tcp: Multiaddr = "/ip4/127.0.0.1/tcp/4001".parse().unwrap();
        assert_eq!(
            circuit_through(relay, &[quic.clone(), tcp]).unwrap().to_string(),
            format!("/ip4/127.0.0.1/tcp/4001/p2p/{relay}/p2p-circuit")
        );
        assert_eq!(
            circuit_through(relay, &[quic]).unwrap().to_string(),
            format!("/ip4/127.0.0.1/udp/4001/quic-v1/p2p/{relay}/p2p-circuit")
        );
        assert_eq!(circuit_through(relay, &[]), None);
    }
}
