//! The nodes of a tally: which devices of the party keep it, how each of
//! them learns that it does, how the nodes of both parties find each other,
//! and whose nodes an open tally waits for (`docs/protocol/tally.md`,
//! "Nodes").
//!
//! - **Nominated nodes.** Each party names its own devices: by default
//!   every device of its cadre (this one and every enrolled device not
//!   revoked), or those it picks. The device that signs the party's chits
//!   (the main device) is always one of them, since it hands its chits to
//!   its own copy of the ledger.
//! - **`tally/nodes` notices.** Every node of an open tally tells every
//!   other node of the tally, over `/tallymesh/tally/1`, the open tally
//!   and where the tally's nodes listen as far as it knows. A member device
//!   that never saw the negotiation learns the tally this way, keeps it
//!   and serves its ledger; a node that learns new addresses passes them on.
//!   The answer gives the answering node's addresses back. A notice is
//!   sent again to a node only when what the sender knows changed, and
//!   until that node took it.
//! - **When.** The notices are looked over only when something they rest
//!   on may have changed (a tally opened, a contact's or the party's card, the
//!   cadre, this node's listen addresses, addresses learned for a node)
//!   and, for a node a notice did not reach, when it connects or after
//!   1, 2, 4, … seconds (at most every five minutes).

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::PoisonError;
use std::time::Instant;

use tallymesh_core::card::ContactCard;
use tallymesh_core::tally::{OpenTally, other};
use tallymesh_core::tally_network::{Side, TallyId};
use tallymesh_core::{Digest, PartyId, PublicKey};
use tallymesh_net::multiaddr::Protocol;
use tallymesh_net::{Multiaddr, PeerId};
use tallymesh_protocol::negotiation::{
    MAX_NODE_ADDRESS_BYTES, MAX_NODE_ADDRESSES, NodeAddresses, NodesNotice, TallyMessage, TallyRequest,
    decode_nodes_taken, encode_nodes_taken, limits,
};
use tallymesh_store::TallyRow;

use super::negotiate::to_i64;
use super::wire::Answer;
use super::{NodesWait, Tallies, TallyChange, TallyError, Who, now, record_of, side_text, tally_id_text};
use crate::identity::IdentityState;
use crate::ledger::wire::{node_key_of, peer_of};
use crate::retry::Retry;
use crate::{Node, NodeEvent};

/// The most bytes of addresses one notice carries.
const DIRECTORY_BYTES: usize = 24 * 1024;

/// What this node knows about spreading its tallies' nodes: the digest of
/// the addresses each node of each tally last took from us, the notices
/// on their way, whether anything changed since they were last looked
/// over, and the nodes they did not reach.
#[derive(Debug, Default)]
pub(crate) struct NodeNotices {
    taken: HashMap<(TallyId, PublicKey), Digest>,
    sending: HashSet<(TallyId, PublicKey)>,
    /// Whether every notice was looked over since the last change that
    /// could alter one (false at the start: nothing was looked over yet).
    settled: bool,
    /// The nodes a notice did not reach, and when to try them again.
    unreached: HashMap<PeerId, Retry>,
}

impl NodeNotices {
    /// Something a notice rests on may have changed: look them over again.
    pub(crate) fn unsettle(&mut self) {
        self.settled = false;
    }

    /// Follows a node event: the notices are looked over again after a
    /// change they rest on, or when a node one of them did not reach
    /// connects. Returns whether they are to be.
    pub(crate) fn follow(&mut self, event: &NodeEvent) -> bool {
        let unsettles = match event {
            NodeEvent::TallyChanged {
                change: TallyChange::Accepted,
                ..
            }
            | NodeEvent::ContactsChanged { .. }
            | NodeEvent::CadreChanged
            | NodeEvent::IdentityChanged { .. }
            | NodeEvent::Listening { .. }
            | NodeEvent::ListenerClosed { .. } => true,
            NodeEvent::PeerConnected { peer_id } => peer_id
                .parse::<PeerId>()
                .is_ok_and(|peer| self.unreached.contains_key(&peer)),
            _ => false,
        };
        if unsettles {
            self.unsettle();
        }
        unsettles
    }

    /// Whether the notices are to be looked over at `now`: after a
    /// change, or when a node they did not reach is due again. Counts the
    /// look as begun, and as the attempt at every node due.
    fn begin_look(&mut self, now: Instant) -> bool {
        let mut due = !self.settled;
        for retry in self.unreached.values_mut().filter(|retry| retry.is_due(now)) {
            retry.attempted(now);
            due = true;
        }
        self.settled = true;
        due
    }

    /// A notice to `peer` was delivered (`reached`) or not, at `now`. A
    /// miss counts as an attempt unless the look that sent it counted one.
    fn reached(&mut self, peer: PeerId, reached: bool, now: Instant) {
        if reached {
            self.unreached.remove(&peer);
        } else {
            let retry = self.unreached.entry(peer).or_insert_with(|| Retry::starting(now));
            if retry.is_due(now) {
                retry.attempted(now);
            }
        }
    }
}

impl Tallies {
    /// Every device of our party that may keep a tally, this one first:
    /// this device and every device enrolled in the cadre and not revoked
    /// (on a member device: the devices the party's card lists).
    pub(crate) async fn cadre_nodes(&self) -> Result<Vec<PublicKey>, TallyError> {
        let me = self.node.inner.ledgers.node();
        let mut nodes = vec![me];
        let peers: Vec<PeerId> = self
            .node
            .directory()
            .await?
            .own_devices()
            .map_err(|e| TallyError::Invalid(format!("The party's card does not read here: {e}.")))?
            .iter()
            .filter_map(|certificate| PeerId::from_bytes(&certificate.record().peer_id).ok())
            .collect();
        for key in peers.iter().filter_map(node_key_of) {
            if !nodes.contains(&key) && nodes.len() < tallymesh_core::tally::MAX_NODES {
                nodes.push(key);
            }
        }
        Ok(nodes)
    }

    /// The nodes we name for our side: every device of the cadre, or the
    /// ones `chosen` (peer ids), which must be devices of the cadre and
    /// include this one.
    pub(crate) async fn our_nodes(&self, chosen: Option<&[String]>) -> Result<Vec<PublicKey>, TallyError> {
        let cadre = self.cadre_nodes().await?;
        let Some(chosen) = chosen else {
            return Ok(cadre);
        };
        let mut nodes = Vec::new();
        for text in chosen {
            let key = crate::ledger_api::parse_node_key(text).map_err(|_| {
                TallyError::Invalid(format!(
                    "{:?} is not a device's peer id.",
                    text.trim().chars().take(60).collect::<String>()
                ))
            })?;
            if !cadre.contains(&key) {
                return Err(TallyError::Invalid(format!(
                    "{} is not a device of your cadre; `tallymesh cadre list` shows them.",
                    text.trim().chars().take(60).collect::<String>()
                )));
            }
            if !nodes.contains(&key) {
                nodes.push(key);
            }
        }
        let me = self.node.inner.ledgers.node();
        if !nodes.contains(&me) {
            return Err(TallyError::Invalid(
                "This device signs your chits and hands them to the tally's ledger, so it must be one of your nodes."
                    .to_owned(),
            ));
        }
        Ok(nodes)
    }

    /// Checks that the nodes `nodes` an offer names for us are devices of
    /// our cadre now and include this device, before we accept it.
    pub(crate) async fn check_named_for_us(&self, nodes: &[PublicKey]) -> Result<(), TallyError> {
        let cadre = self.cadre_nodes().await?;
        let strangers: Vec<String> = nodes
            .iter()
            .filter(|node| !cadre.contains(node))
            .filter_map(|node| peer_of(node).map(|p| p.to_string()))
            .collect();
        if !strangers.is_empty() {
            return Err(TallyError::Invalid(format!(
                "The offer names nodes for you that are not devices of your cadre now ({}); counter it to name your own.",
                strangers.join(", ")
            )));
        }
        if !nodes.contains(&self.node.inner.ledgers.node()) {
            return Err(TallyError::Invalid(
                "The offer does not name this device as one of your nodes, and this device signs your chits; counter it to name your own."
                    .to_owned(),
            ));
        }
        Ok(())
    }

    /// Where the nodes of `open` listen, as this node knows it: its own
    /// listen addresses, the addresses kept for the others (from notices
    /// and answers), and the addresses the partner's card gives for its
    /// main device (the first it lists), likewise our party's card on a
    /// member device.
    pub(crate) async fn directory(&self, open: &OpenTally) -> Result<NodeAddresses, TallyError> {
        let tally = open.tally();
        let me = self.node.inner.ledgers.node();
        let store = self.node.running_store().await?;
        let kept = crate::ledger_api::known_peers(&store).await;
        let mut cards: Vec<ContactCard> = Vec::new();
        for side in Side::BOTH {
            let party = PartyId::new(tally.side(side).party);
            if let Ok(card) = self.contact_card(&party).await {
                cards.push(card);
            }
        }
        if let Ok(IdentityState::Member { .. }) = self.node.identity().state().await
            && let Ok(card) = self.node.contacts().my_card(None).await
        {
            cards.push(card.record().clone());
        }
        let own = self.node.net().listen_addrs().await.map_err(crate::NodeError::from)?;
        let mut directory = Vec::new();
        // Leaves room in a notice (at most 64 KiB) for the open tally.
        let mut budget = DIRECTORY_BYTES;
        for node in tally.stock.nodes.iter().chain(&tally.foil.nodes) {
            let Some(peer) = peer_of(node) else { continue };
            let mut addresses: Vec<Multiaddr> = Vec::new();
            if *node == me {
                addresses.extend(own.iter().filter(|a| concrete(a)).cloned());
            }
            addresses.extend(kept.iter().filter(|a| address_peer(a) == Some(peer)).cloned());
            for card in &cards {
                if crate::directory::card_peers(card).first() == Some(&peer) {
                    addresses.extend(card.addresses.iter().filter_map(|a| a.parse().ok()));
                }
            }
            let mut texts: Vec<String> = Vec::new();
            for address in addresses {
                let Some(address) = with_peer(address, peer) else {
                    continue;
                };
                let text = address.to_string();
                if text.len() <= MAX_NODE_ADDRESS_BYTES
                    && text.len() <= budget
                    && !texts.contains(&text)
                    && texts.len() < MAX_NODE_ADDRESSES
                {
                    budget -= text.len();
                    texts.push(text);
                }
            }
            if !texts.is_empty() {
                directory.push((*node, texts));
            }
        }
        Ok(directory)
    }

    /// Keeps the addresses a node of `open` gave for the tally's nodes
    /// (only for nodes of its network, other than this one, each address
    /// naming the node's own peer id) and adds them to the swarm. Returns
    /// whether anything was new.
    async fn remember(&self, open: &OpenTally, addresses: &NodeAddresses) -> Result<bool, TallyError> {
        let tally = open.tally();
        let me = self.node.inner.ledgers.node();
        let mut found = Vec::new();
        for (node, texts) in addresses {
            let named = tally.stock.nodes.contains(node) || tally.foil.nodes.contains(node);
            if !named || *node == me {
                continue;
            }
            let Some(peer) = peer_of(node) else { continue };
            for text in texts.iter().take(MAX_NODE_ADDRESSES) {
                let Ok(address) = text.parse::<Multiaddr>() else {
                    continue;
                };
                if let Some(address) = with_peer(address, peer)
                    && concrete(&address)
                {
                    found.push(address);
                }
            }
        }
        crate::ledger_api::remember_addresses(&self.node, &found)
            .await
            .map_err(|e| TallyError::Invalid(super::sentence(&e.to_string())))
    }

    /// Takes a `tally/nodes` notice: on any device of the party (main or
    /// member) whose node the open tally names. Keeps the addresses, keeps
    /// the tally if it is new here and serves its ledger, and answers with
    /// where this node knows the tally's nodes listen.
    pub(crate) async fn take_nodes(&self, peer: PeerId, notice: NodesNotice) -> Answer {
        match self.take_notice(&notice).await {
            Ok(directory) => Answer::Nodes(directory),
            Err(error) => {
                tracing::info!(%peer, "refused a tally nodes notice: {error}");
                Answer::Refused {
                    elsewhere: false,
                    message: error.to_string(),
                }
            }
        }
    }

    async fn take_notice(&self, notice: &NodesNotice) -> Result<NodeAddresses, TallyError> {
        let open = &notice.open;
        let tally = open.tally();
        let certificate = self.node.identity().device_certificate().await?;
        let my_party = *certificate.record().party.key();
        let Some(side) = tally.side_of(&my_party) else {
            return Err(TallyError::Invalid(
                "This device's party is not a party of that tally.".to_owned(),
            ));
        };
        let me = self.node.inner.ledgers.node();
        if !tally.side(side).nodes.contains(&me) {
            return Err(TallyError::Invalid(
                "This device is not one of the nodes its party named for that tally.".to_owned(),
            ));
        }
        if self.remember(open, &notice.addresses).await? {
            self.node.inner.tally_outbox.notify_one();
        }
        self.hold_open(open, &my_party).await?;
        self.directory(open).await
    }

    /// Makes sure this device holds the open tally and serves its ledger:
    /// a device that never saw the negotiation keeps it as open; one that
    /// did takes it as the acceptance it may not have received yet.
    async fn hold_open(&self, open: &OpenTally, my_party: &PublicKey) -> Result<(), TallyError> {
        let tally = open.tally();
        let store = self.node.running_store().await?;
        if store.tally(&tally.id.0).await?.is_some() {
            self.take(TallyMessage::Accept(open.clone())).await?;
            return Ok(());
        }
        let negotiation = tallymesh_protocol::negotiation::Negotiation::opened(my_party, open)?;
        let me = negotiation.me();
        let now = now();
        let row = TallyRow {
            tally: tally.id.0,
            partner: *tally.side(other(me)).party.as_bytes(),
            side: side_text(me).to_owned(),
            stage: "open".to_owned(),
            current: open.bytes().to_vec(),
            balance: 0,
            created_at_ms: to_i64(now),
            updated_at_ms: to_i64(now),
        };
        self.keep(&row, &TallyMessage::Accept(open.clone()), false, now).await?;
        self.serve(open).await?;
        tracing::info!(tally = %tally_id_text(&tally.id), "this device keeps a tally its party named it for");
        self.changed(tally.id, TallyChange::Accepted);
        Ok(())
    }

    fn notices(&self) -> std::sync::MutexGuard<'_, NodeNotices> {
        notices_of(&self.node)
    }

    /// Sends a `tally/nodes` notice, for every open tally this node keeps,
    /// to every other node of the tally that has not taken what this node
    /// knows now — when anything may have changed since the last time (see
    /// the module docs). Returns at once: the notices go out in their own
    /// tasks.
    pub(crate) async fn spread_nodes(&self) -> Result<(), TallyError> {
        if !self.notices().begin_look(Instant::now()) {
            return Ok(());
        }
        let spread = self.spread_all().await;
        if spread.is_err() {
            self.notices().unsettle();
        }
        spread
    }

    async fn spread_all(&self) -> Result<(), TallyError> {
        let store = self.node.running_store().await?;
        let me = self.node.inner.ledgers.node();
        for row in store.tallies().await? {
            let Some(open) = record_of(&row.current)?.1 else {
                continue;
            };
            let tally = open.tally();
            let nodes: Vec<PublicKey> = tally.stock.nodes.iter().chain(&tally.foil.nodes).copied().collect();
            if !nodes.contains(&me) {
                continue;
            }
            let directory = self.directory(&open).await?;
            let digest = Digest::of(&encode_nodes_taken(&directory));
            let request = TallyRequest::Nodes(NodesNotice {
                open: open.clone(),
                addresses: directory.clone(),
            })
            .encode();
            for node in nodes.into_iter().filter(|node| *node != me) {
                let key = (tally.id, node);
                {
                    let mut notices = self.notices();
                    if notices.taken.get(&key) == Some(&digest) {
                        continue;
                    }
                    if !notices.sending.insert(key) {
                        // On its way with what we knew before: look again
                        // once it is answered.
                        notices.unsettle();
                        continue;
                    }
                }
                let Some(peer) = peer_of(&node) else { continue };
                for (_, texts) in directory.iter().filter(|(n, _)| *n == node) {
                    for address in texts.iter().filter_map(|t| t.parse::<Multiaddr>().ok()) {
                        let _ = self.node.net().add_address(peer, address).await;
                    }
                }
                let tallies = self.clone();
                let request = request.clone();
                let open = open.clone();
                tokio::spawn(async move {
                    let answer = tallies
                        .node
                        .net()
                        .request(peer, &tallies.node.inner.protocols.tally, request)
                        .await;
                    let taken = match answer {
                        Ok(bytes) => match decode_nodes_taken(&bytes, &limits()) {
                            Some(addresses) => {
                                match tallies.remember(&open, &addresses).await {
                                    Ok(true) => tallies.node.inner.tally_outbox.notify_one(),
                                    Ok(false) => {}
                                    Err(error) => tracing::debug!(%peer, "addresses not kept: {error}"),
                                }
                                true
                            }
                            None => {
                                // Refused for good (not one of the tally's
                                // nodes, say): sending it again changes
                                // nothing until what we know changes.
                                let why = match Answer::decode(&bytes) {
                                    Some(Answer::Refused { message, .. }) => message,
                                    _ => "an answer that does not read".to_owned(),
                                };
                                tracing::info!(%peer, "a node of a tally refused its nodes notice: {why}");
                                true
                            }
                        },
                        Err(error) => {
                            tracing::debug!(%peer, "a tally nodes notice was not delivered: {error}");
                            if matches!(error, tallymesh_net::RequestError::Timeout) {
                                tallies.node.inner.trust.timeout(peer, "a tally nodes notice timed out");
                            }
                            false
                        }
                    };
                    let mut notices = tallies.notices();
                    notices.sending.remove(&key);
                    notices.reached(peer, taken, Instant::now());
                    if taken {
                        notices.taken.insert(key, digest);
                    }
                });
            }
        }
        Ok(())
    }

    /// Whose nodes an open tally waits for: `None` unless chits wait to be
    /// certified and a side has fewer nodes up (this device, or connected
    /// to it now) than a quorum of that side. The partner's side is named
    /// first.
    pub(crate) async fn nodes_wait(
        &self,
        open: &OpenTally,
        me: Side,
        partner_name: &str,
    ) -> Result<Option<NodesWait>, TallyError> {
        let tally = open.tally();
        let store = self.node.running_store().await?;
        let waiting_chits = store.pending_chits(&tally.id.0).await? > 0;
        let waiting_entries = self
            .node
            .inner
            .ledgers
            .status(tally.id)
            .await
            .is_some_and(|status| status.pending > 0);
        if !waiting_chits && !waiting_entries {
            return Ok(None);
        }
        let network = open
            .genesis()
            .map_err(|e| TallyError::Invalid(format!("{e}.")))?
            .network;
        let connected: BTreeSet<PeerId> = self
            .node
            .net()
            .connected_peers()
            .await
            .map_err(crate::NodeError::from)?
            .into_iter()
            .collect();
        let this = self.node.inner.ledgers.node();
        for (side, who) in [(other(me), Who::Partner), (me, Who::Us)] {
            let nodes = network.side(side);
            let up = nodes
                .iter()
                .filter(|node| **node == this || peer_of(node).is_some_and(|p| connected.contains(&p)))
                .count();
            let needed = network.quorum_size(side);
            if up < needed {
                let name = match who {
                    Who::Partner => partner_name.to_owned(),
                    Who::Us => self.our_name().await,
                };
                return Ok(Some(NodesWait {
                    who,
                    name,
                    up: u32::try_from(up).unwrap_or(u32::MAX),
                    needed: u32::try_from(needed).unwrap_or(u32::MAX),
                }));
            }
        }
        Ok(None)
    }

    /// Our party's name.
    async fn our_name(&self) -> String {
        match self.node.identity().state().await {
            Ok(IdentityState::Ready { display_name, .. } | IdentityState::Member { display_name, .. }) => display_name,
            _ => String::new(),
        }
    }
}

/// The node's notices about its tallies' nodes.
pub(crate) fn notices_of(node: &Node) -> std::sync::MutexGuard<'_, NodeNotices> {
    node.inner.node_notices.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The node keys of the devices a contact's card certifies: what an offer
/// names for the partner (its main device first).
pub(crate) fn partner_nodes(card: &ContactCard) -> Result<Vec<PublicKey>, TallyError> {
    let nodes: Vec<PublicKey> = crate::directory::card_peers(card)
        .iter()
        .filter_map(node_key_of)
        .take(tallymesh_core::tally::MAX_NODES)
        .collect();
    if nodes.is_empty() {
        return Err(TallyError::Invalid(
            "The contact's card lists no device that could keep the tally.".to_owned(),
        ));
    }
    Ok(nodes)
}

/// The peer an address names in its `/p2p/` part.
fn address_peer(address: &Multiaddr) -> Option<PeerId> {
    address.iter().find_map(|p| match p {
        Protocol::P2p(peer) => Some(peer),
        _ => None,
    })
}

/// `address` ending in `/p2p/<peer>`: as it is when it names `peer`,
/// with it added when it names no peer, `None` when it names another.
fn with_peer(address: Multiaddr, peer: PeerId) -> Option<Multiaddr> {
    match address_peer(&address) {
        Some(named) if named == peer => Some(address),
        Some(_) => None,
        None => Some(address.with(Protocol::P2p(peer))),
    }
}

/// An address another node could dial: not a wildcard, not port 0.
fn concrete(address: &Multiaddr) -> bool {
    address.iter().all(|p| match p {
        Protocol::Ip4(ip) => !ip.is_unspecified(),
        Protocol::Ip6(ip) => !ip.is_unspecified(),
        Protocol::Tcp(port) | Protocol::Udp(port) => port != 0,
        _ => true,
    })
}

/// How many of `n` named nodes a side's quorum needs, for `n` from 1 to the
/// most a side may name: tallies are made with a majority on each side
/// (`TallyNetwork::new`).
pub(super) fn quorums() -> Vec<u32> {
    let threshold = tallymesh_core::tally_network::Threshold::MAJORITY;
    (1..=tallymesh_core::tally::MAX_NODES)
        .map(|n| u32::try_from(threshold.quorum(n)).unwrap_or(u32::MAX))
        .collect()
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn the_quorums_offered_for_a_choice_are_a_majority_of_each_count_up_to_the_most_a_side_names() {
        let quorums = quorums();
        assert_eq!(quorums.len(), tallymesh_core::tally::MAX_NODES);
        assert_eq!(&quorums[..5], &[1, 2, 2, 3, 3]);
        for (n, needed) in (1u32..).zip(&quorums) {
            assert!(2 * needed > n && 2 * (needed - 1) <= n, "{needed} of {n}");
        }
    }

    fn tally_event(change: TallyChange) -> NodeEvent {
        NodeEvent::TallyChanged {
            tally: "0192f0c4-0000-7000-8000-000000000000".to_owned(),
            change,
        }
    }

    #[test]
    fn the_notices_are_looked_over_only_after_a_change_or_for_an_unreached_node_due_or_connected() {
        let start = Instant::now();
        let second = |n: u64| start + Duration::from_secs(n);
        let mut notices = NodeNotices::default();
        assert!(notices.begin_look(start), "nothing was looked over yet");
        assert!(!notices.begin_look(second(60)), "nothing changed since");

        assert!(!notices.follow(&tally_event(TallyChange::ChitCertified)));
        assert!(!notices.follow(&NodeEvent::PeerConnected {
            peer_id: PeerId::random().to_string()
        }));
        assert!(!notices.begin_look(second(60)), "a chit changes no tally's nodes");
        assert!(notices.follow(&tally_event(TallyChange::Accepted)));
        assert!(notices.begin_look(second(60)), "a tally opened");
        assert!(notices.follow(&NodeEvent::CadreChanged));
        assert!(notices.begin_look(second(60)), "the cadre changed");
        notices.unsettle();
        assert!(notices.begin_look(second(60)), "addresses were learned");

        // A notice that did not reach its node: tried again after 1, 2, 4 s…
        let peer = PeerId::random();
        notices.reached(peer, false, second(100));
        assert!(!notices.begin_look(second(100)));
        assert!(notices.begin_look(second(101)));
        notices.reached(peer, false, second(101));
        assert!(!notices.begin_look(second(102)), "the next try waits two seconds");
        assert!(notices.begin_look(second(103)));
        // … or as soon as it connects.
        assert!(notices.follow(&NodeEvent::PeerConnected {
            peer_id: peer.to_string()
        }));
        assert!(notices.begin_look(second(104)));
        notices.reached(peer, true, second(104));
        assert!(!notices.follow(&NodeEvent::PeerConnected {
            peer_id: peer.to_string()
        }));
        assert!(!notices.begin_look(second(10_000)), "reached: nothing left to try");
    }

    #[test]
    fn an_address_gets_the_peer_it_belongs_to_and_one_of_another_peer_is_dropped() {
        let peer = PeerId::random();
        let bare: Multiaddr = "/ip4/127.0.0.1/tcp/4001".parse().unwrap();
        let named = with_peer(bare.clone(), peer).unwrap();
        assert_eq!(address_peer(&named), Some(peer));
        assert_eq!(with_peer(named.clone(), peer), Some(named.clone()));
        assert_eq!(with_peer(named, PeerId::random()), None);
        assert!(concrete(&bare));
        assert!(!concrete(&"/ip4/0.0.0.0/tcp/4001".parse().unwrap()));
        assert!(!concrete(&"/ip4/127.0.0.1/tcp/0".parse().unwrap()));
    }
}
