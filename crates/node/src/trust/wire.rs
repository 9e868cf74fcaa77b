//! Trust on the wire: the gossip topic for attestations and evidence, the
//! `/tallymesh/trust/1` exchange with contacts, and the task that feeds the
//! scores.
//!
//! A gossip message and a shared record are both an [`Envelope`] of
//! version 1: `trust/attestation` (body: a signed attestation) or
//! `trust/evidence` (body: evidence bytes). The exchange's request and
//! answer are `trust/share` envelopes whose body is the map
//! `{0: [attestation, …], 1: [evidence, …]}`; a request of another version
//! is answered `trust/refused` with `{0: message}`.

use std::sync::Weak;
use std::time::Duration;

use tallymesh_core::ProtocolVersion;
use tallymesh_core::cbor::{self, Value};
use tallymesh_core::record::Fields;
use tallymesh_core::trust::{Attestation, AttestationError, EvidenceError};
use tallymesh_net::{GossipError, GossipValidation, PeerId, ProtocolName, RequestProtocol};
use tallymesh_protocol::{Envelope, EnvelopeError, Limits};
use tokio::sync::broadcast::error::RecvError;

use super::Trust;
use super::records::Taken;
use crate::node::Inner;
use crate::{Node, NodeEvent};

/// The gossip topic of attestations and evidence.
pub const TRUST_TOPIC: &str = "tallymesh/trust/1";

/// The request-response protocol contacts exchange attestations and
/// evidence on.
pub const TRUST_PROTOCOL: &str = "/tallymesh/trust/1";

/// The version of trust messages.
const VERSION: ProtocolVersion = ProtocolVersion(1);

const ATTESTATION: &str = "trust/attestation";
const EVIDENCE: &str = "trust/evidence";
const SHARE: &str = "trust/share";
const REFUSED: &str = "trust/refused";

/// The largest gossip message (the gossip limit).
const MAX_GOSSIP_BYTES: usize = 64 * 1024;
/// The largest exchange request or answer.
const MAX_SHARE_BYTES: usize = 512 * 1024;
/// The most attestations one exchange carries.
const MAX_SHARED_ATTESTATIONS: usize = 64;
/// The most pieces of evidence one exchange carries.
const MAX_SHARED_EVIDENCE: usize = 8;

/// How often publishing is tried while no peer takes the message.
const PUBLISH_TRIES: usize = 6;

/// How often valid messages are added to the scores.
const FLUSH_EVERY: Duration = Duration::from_secs(2);

/// How often every connected peer's priority is brought up to date with
/// its score (decay and expiring attestations move scores silently).
const RECHECK_EVERY: Duration = Duration::from_secs(30);

/// How often old routine trust events are pruned (and once at start).
const PRUNE_EVERY: Duration = Duration::from_secs(60 * 60);

/// The trust protocol as the swarm is configured with it.
pub(crate) fn request_protocol(name: ProtocolName) -> RequestProtocol {
    debug_assert_eq!(name.as_str(), TRUST_PROTOCOL);
    RequestProtocol::new(name).with_limits(MAX_SHARE_BYTES, MAX_SHARE_BYTES)
}

fn envelope(kind: &str, body: Vec<u8>) -> Vec<u8> {
    Envelope::new(VERSION, kind, body).encode()
}

fn share_body(attestations: Vec<Vec<u8>>, evidence: Vec<Vec<u8>>) -> Vec<u8> {
    cbor::encode(&Value::map([
        (0, Value::Array(attestations.into_iter().map(Value::Bytes).collect())),
        (1, Value::Array(evidence.into_iter().map(Value::Bytes).collect())),
    ]))
}

/// The records of a share: attestations, then evidence.
type Records = (Vec<Vec<u8>>, Vec<Vec<u8>>);

/// The records of a `trust/share` body.
fn read_share(body: &[u8]) -> Result<Records, String> {
    let value = cbor::decode(body).map_err(|e| e.to_string())?;
    let f = Fields::named("trust share", &value).map_err(|e| e.to_string())?;
    let list = |field, max: usize| -> Result<Vec<Vec<u8>>, String> {
        let items = f.array(field).map_err(|e| e.to_string())?;
        if items.len() > max {
            return Err(format!("more than {max} records"));
        }
        items
            .iter()
            .map(|item| match item {
                Value::Bytes(bytes) => Ok(bytes.clone()),
                _ => Err("a record is a byte string".to_owned()),
            })
            .collect()
    };
    Ok((list(0, MAX_SHARED_ATTESTATIONS)?, list(1, MAX_SHARED_EVIDENCE)?))
}

/// How long after its expiry an attestation may still be passed on
/// without blame: it may have expired on the way, or clocks disagree.
const EXPIRY_GRACE_MS: u64 = tallymesh_core::trust::MAX_CLOCK_AHEAD_MS;

/// Whether a refused attestation says the sender misbehaved: malformed,
/// forged, or expired for longer than the grace (nobody passes on a stale
/// attestation in good faith); rather than merely passed on something that
/// expired a moment ago or is dated a little ahead.
fn attestation_is_bad(error: &AttestationError, bytes: &[u8]) -> bool {
    match error {
        AttestationError::Record(_) | AttestationError::Forged => true,
        AttestationError::Expired => {
            let then =
                tallymesh_core::Timestamp::from_millis(super::book::now().as_millis().saturating_sub(EXPIRY_GRACE_MS));
            matches!(Attestation::verify(bytes, then), Err(AttestationError::Expired))
        }
        AttestationError::FromTheFuture => false,
    }
}

/// Whether refused evidence says the sender misbehaved.
fn evidence_is_bad(error: &EvidenceError) -> bool {
    !matches!(error, EvidenceError::Unsupported(_))
}

impl Trust {
    /// Judges a gossip message on the trust topic: keeps what verifies,
    /// forwards it unless the peer that brought it is trusted too little,
    /// and counts bad records against that peer.
    pub(crate) async fn on_gossip(&self, propagated_by: PeerId, bytes: Vec<u8>, validation: GossipValidation) {
        let limits = Limits {
            max_frame_bytes: MAX_GOSSIP_BYTES,
        };
        let envelope = match Envelope::decode(&bytes, &limits, &[VERSION]) {
            Ok(envelope) => envelope,
            Err(error) => {
                validation.reject();
                self.node
                    .strike(propagated_by, &format!("unreadable trust gossip: {error}"));
                return;
            }
        };
        // Attestations of strangers about strangers are checked and passed
        // on; evidence is passed on only when kept (it concerns someone this
        // node deals with), so throwaway keys cannot spread it far.
        let taken = match envelope.kind.as_str() {
            ATTESTATION => match self.take_attestation(&envelope.body, Some(propagated_by)).await {
                Ok(Taken::Ignored) => Ok(Taken::New),
                Ok(taken) => Ok(taken),
                Err(error) if attestation_is_bad(&error, &envelope.body) => Err(error.to_string()),
                Err(_) => Ok(Taken::Known),
            },
            EVIDENCE => match self.take_evidence(&envelope.body, Some(propagated_by)).await {
                Ok(taken) => Ok(taken),
                Err(error) if evidence_is_bad(&error) => Err(error.to_string()),
                Err(_) => Ok(Taken::Known),
            },
            other => Err(format!(
                "a trust message of unknown kind {:?}",
                other.chars().take(40).collect::<String>()
            )),
        };
        match taken {
            Err(why) => {
                validation.reject();
                self.node.strike(propagated_by, &format!("bad trust gossip: {why}"));
            }
            Ok(Taken::Known) => {
                validation.ignore();
            }
            Ok(Taken::Ignored) => {
                // Valid evidence about strangers: no blame, no forwarding.
                self.node.inner.trust.valid(propagated_by);
                validation.ignore();
            }
            Ok(Taken::New) => {
                self.node.inner.trust.valid(propagated_by);
                let relay = match self.subject_of(propagated_by).await.key() {
                    Some(subject) => {
                        self.score_now(&subject).await.unwrap_or(0.0) >= self.node.inner.trust.config.relay_threshold
                    }
                    None => true,
                };
                if relay {
                    validation.accept();
                } else {
                    tracing::info!(peer = %propagated_by, "not forwarding gossip from a peer trusted too little");
                    validation.ignore();
                }
            }
        }
    }

    /// Hands a new attestation to the gossip mesh and to every connected
    /// contact, in the background.
    pub(crate) fn share_attestation(&self, bytes: Vec<u8>) {
        let trust = self.clone();
        tokio::spawn(async move {
            trust.publish(envelope(ATTESTATION, bytes.clone())).await;
            trust.share_with_contacts(vec![bytes], Vec::new()).await;
        });
    }

    /// Hands new evidence to the gossip mesh and to every connected
    /// contact, in the background.
    pub(crate) fn share_evidence(&self, bytes: Vec<u8>) {
        let trust = self.clone();
        tokio::spawn(async move {
            trust.publish(envelope(EVIDENCE, bytes.clone())).await;
            trust.share_with_contacts(Vec::new(), vec![bytes]).await;
        });
    }

    /// Publishes on the trust topic. With no subscribed peer yet (a node
    /// that just started) or full queues it tries again after 1, 2, 4, 8
    /// and 16 seconds; contacts get the records directly meanwhile.
    async fn publish(&self, message: Vec<u8>) {
        let mut wait = Duration::from_secs(1);
        for _ in 0..PUBLISH_TRIES {
            match self.node.inner.net.publish(TRUST_TOPIC, message.clone()).await {
                Ok(()) => return,
                Err(GossipError::NoPeers | GossipError::QueuesFull) => {
                    tokio::time::sleep(wait).await;
                    wait = wait.saturating_mul(2);
                }
                Err(error) => {
                    tracing::debug!("trust gossip not published: {error}");
                    return;
                }
            }
        }
        tracing::debug!("trust gossip not published: no peer took it");
    }

    async fn share_with_contacts(&self, attestations: Vec<Vec<u8>>, evidence: Vec<Vec<u8>>) {
        let Ok(connected) = self.node.inner.net.connected_peers().await else {
            return;
        };
        let request = envelope(SHARE, share_body(attestations, evidence));
        for peer in connected {
            if matches!(self.subject_of(peer).await, super::Subject::Party(_)) {
                self.exchange(peer, request.clone()).await;
            }
        }
    }

    /// Sends `peer` (a contact's device that just connected) this party's
    /// own attestations and the evidence kept, and takes what it answers.
    pub(crate) async fn exchange_with(&self, peer: PeerId) {
        let Some(request) = self.own_share().await else {
            return;
        };
        self.exchange(peer, request).await;
    }

    /// Exchanges with the connected devices of the contact `party_id`.
    async fn exchange_with_party(&self, party_id: &str) {
        let Ok(connected) = self.node.inner.net.connected_peers().await else {
            return;
        };
        for peer in connected {
            if self.subject_of(peer).await.key().as_deref() == Some(party_id) {
                self.exchange_with(peer).await;
            }
        }
    }

    async fn exchange(&self, peer: PeerId, request: Vec<u8>) {
        let protocol = &self.node.inner.protocols.trust;
        match self.node.inner.net.request(peer, protocol, request).await {
            Ok(answer) => {
                let limits = Limits {
                    max_frame_bytes: MAX_SHARE_BYTES,
                };
                match Envelope::decode(&answer, &limits, &[VERSION]) {
                    Ok(envelope) if envelope.kind == SHARE => self.take_share(peer, &envelope.body).await,
                    Ok(envelope) if envelope.kind == REFUSED => {
                        tracing::info!(%peer, "a contact refused a trust exchange (another version?)");
                    }
                    Ok(_) => self.node.strike(peer, "a trust answer of another kind"),
                    Err(error) => self.node.strike(peer, &format!("an unreadable trust answer: {error}")),
                }
            }
            Err(tallymesh_net::RequestError::Timeout) => {
                self.node.inner.trust.timeout(peer, "a trust exchange timed out");
            }
            Err(error) => tracing::debug!(%peer, "no trust exchange: {error}"),
        }
    }

    /// The answer to a `/tallymesh/trust/1` request from `peer`.
    pub(crate) async fn answer(&self, peer: PeerId, bytes: &[u8]) -> Option<Vec<u8>> {
        let limits = Limits {
            max_frame_bytes: MAX_SHARE_BYTES,
        };
        match Envelope::decode(bytes, &limits, &[VERSION]) {
            Ok(envelope) if envelope.kind == SHARE => {
                self.take_share(peer, &envelope.body).await;
                self.own_share().await
            }
            Ok(_) => {
                self.node.strike(peer, "a trust request of another kind");
                None
            }
            Err(error @ EnvelopeError::Version(_)) => {
                // Another version is told so, in words, as on every protocol.
                self.node.strike(peer, &format!("a trust request: {error}"));
                let message = Value::map([(0, Value::Text(error.to_string().chars().take(256).collect()))]);
                Some(envelope(REFUSED, cbor::encode(&message)))
            }
            Err(error) => {
                self.node.strike(peer, &format!("an unreadable trust request: {error}"));
                None
            }
        }
    }

    /// Takes every record of a share from `peer`, counting bad ones against it.
    async fn take_share(&self, peer: PeerId, body: &[u8]) {
        let (attestations, evidence) = match read_share(body) {
            Ok(records) => records,
            Err(why) => {
                self.node.strike(peer, &format!("an unreadable trust share: {why}"));
                return;
            }
        };
        let mut bad = None;
        for bytes in &attestations {
            if let Err(error) = self.take_attestation(bytes, Some(peer)).await
                && attestation_is_bad(&error, bytes)
            {
                bad = Some(error.to_string());
            }
        }
        for bytes in &evidence {
            match self.take_evidence(bytes, Some(peer)).await {
                Ok(Taken::New) => self.share_evidence(bytes.clone()),
                Ok(_) => {}
                Err(error) if evidence_is_bad(&error) => bad = Some(error.to_string()),
                Err(_) => {}
            }
        }
        match bad {
            Some(why) => self.node.strike(peer, &format!("a bad record in a trust share: {why}")),
            None => self.node.inner.trust.valid(peer),
        }
    }

    /// This party's own attestations still counting, and the newest
    /// evidence kept, as a `trust/share` envelope.
    async fn own_share(&self) -> Option<Vec<u8>> {
        let store = self.node.running_store().await.ok()?;
        let own = self.own_party().await.map(|p| p.to_string());
        let now = super::book::now().as_millis();
        let attestations = store
            .attestations(None)
            .await
            .ok()?
            .into_iter()
            .filter(|row| Some(&row.attester) == own.as_ref() && u64::try_from(row.expires_at_ms).unwrap_or(0) > now)
            .take(MAX_SHARED_ATTESTATIONS)
            .map(|row| row.record)
            .collect();
        let evidence = store
            .evidence()
            .await
            .ok()?
            .into_iter()
            .take(MAX_SHARED_EVIDENCE)
            .map(|row| row.evidence)
            .collect();
        Some(envelope(SHARE, share_body(attestations, evidence)))
    }
}

/// Feeds the scores until the node is gone: what peers did wrong, their
/// valid messages every few seconds, double signatures and refused ledger
/// messages, and exchanges with contacts as they connect. Holds the node
/// weakly.
pub(crate) async fn run(node: Weak<Inner>) {
    let Some((inbox, mut events, mut ledger, net)) = node.upgrade().map(|inner| {
        let inbox = inner
            .trust
            .inbox
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        (
            inbox,
            inner.events.subscribe(),
            inner.ledgers.subscribe(),
            inner.net.clone(),
        )
    }) else {
        return;
    };
    let Some(mut inbox) = inbox else {
        return;
    };
    if let Err(error) = net.subscribe(TRUST_TOPIC).await {
        tracing::warn!("the trust gossip topic could not be joined: {error}");
    }
    let mut flush = tokio::time::interval(FLUSH_EVERY);
    flush.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut recheck = tokio::time::interval(RECHECK_EVERY);
    recheck.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut prune = tokio::time::interval(PRUNE_EVERY);
    prune.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = recheck.tick() => {
                let Some(inner) = node.upgrade() else { break };
                Node { inner }.trust().check_all_connected().await;
            }
            _ = prune.tick() => {
                let Some(inner) = node.upgrade() else { break };
                Node { inner }.trust().prune().await;
            }
            observation = inbox.recv() => {
                let Some(observation) = observation else { break };
                let Some(inner) = node.upgrade() else { break };
                Node { inner }.trust().observed(observation).await;
            }
            _ = flush.tick() => {
                let Some(inner) = node.upgrade() else { break };
                Node { inner }.trust().flush_valid().await;
            }
            event = events.recv() => {
                let event = match event {
                    Ok(event) => event,
                    Err(RecvError::Lagged(_)) => continue,
                    Err(RecvError::Closed) => break,
                };
                let Some(inner) = node.upgrade() else { break };
                let trust = Node { inner }.trust();
                match event {
                    NodeEvent::ContactsChanged { party_id } => {
                        trust.node.inner.trust.forget_parties();
                        // A new contact connected already (the handshake's
                        // connection): exchange with it now.
                        tokio::spawn(async move { trust.exchange_with_party(&party_id).await });
                    }
                    NodeEvent::CadreChanged | NodeEvent::IdentityChanged { .. } => {
                        trust.node.inner.trust.forget_parties();
                    }
                    NodeEvent::PeerConnected { peer_id } => {
                        if let Ok(peer) = peer_id.parse::<PeerId>() {
                            tokio::spawn(async move {
                                trust.check_connected(peer).await;
                                if matches!(trust.subject_of(peer).await, super::Subject::Party(_)) {
                                    trust.exchange_with(peer).await;
                                }
                            });
                        }
                    }
                    _ => {}
                }
            }
            event = ledger.recv() => {
                let event = match event {
                    Ok(event) => event,
                    Err(RecvError::Lagged(_)) => continue,
                    Err(RecvError::Closed) => break,
                };
                let Some(inner) = node.upgrade() else { break };
                let node = Node { inner };
                use tallymesh_protocol::ledger::Event;
                match event.event {
                    Event::DoubleSigned { node: culprit, first, second } => {
                        node.trust().double_signed(event.tally, culprit, first, second).await;
                    }
                    Event::Refused { from, reason } => {
                        if let Some(peer) = crate::ledger::wire::peer_of(&from) {
                            node.inner.trust.invalid(peer, &format!("a ledger message the consensus refused: {reason}"));
                        }
                    }
                    _ => {}
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_version_refusal_names_the_version() {
        let future = Envelope::new(ProtocolVersion(2), SHARE, Vec::new()).encode();
        let limits = Limits {
            max_frame_bytes: MAX_SHARE_BYTES,
        };
        let error = Envelope::decode(&future, &limits, &[VERSION]).unwrap_err();
        assert!(matches!(error, EnvelopeError::Version(_)));
        assert!(error.to_string().contains("unsupported protocol version v2"), "{error}");
    }

    #[test]
    fn a_share_reads_back_and_refuses_too_many_records() {
        let body = share_body(vec![vec![1], vec![2]], vec![vec![3]]);
        assert_eq!(read_share(&body), Ok((vec![vec![1], vec![2]], vec![vec![3]])));
        let flood = share_body(vec![vec![0]; MAX_SHARED_ATTESTATIONS + 1], Vec::new());
        assert!(read_share(&flood).is_err());
        assert!(read_share(b"\xff").is_err());
    }
}
