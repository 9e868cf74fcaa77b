//! `/tallymesh/tally/1` on this node: taking negotiation messages from
//! partners' devices, and delivering ours from the outbox.
//!
//! A request is one [`TallyRequest`] envelope: a negotiation message for
//! the party, or a `tally/nodes` notice for a node of an open tally
//! ([`super::nodes`]). The answer is an envelope of kind `tally/taken`
//! (kept; empty body), `tally/nodes-taken` (a notice taken, with where the
//! answering node knows the tally's nodes listen) or `tally/refused` with
//! the map `{0: elsewhere (bool), 1: message}`: `elsewhere` says the
//! message may be taken by another device of the party (this one is not
//! its main device), so the sender tries the next; otherwise the message
//! is not acceptable and is not sent again.

use std::sync::Weak;
use std::time::Duration;

use tokio::sync::broadcast::error::RecvError;

use tallymesh_core::PartyId;
use tallymesh_core::cbor::{self, Value};
use tallymesh_core::record::Fields;
use tallymesh_net::{PeerId, ProtocolName, RequestProtocol};
use tallymesh_protocol::negotiation::{
    MAX_MESSAGE_BYTES, NodeAddresses, TALLY_PROTOCOL, TALLY_PROTOCOL_VERSION, TallyRequest, decode_nodes_taken,
    encode_nodes_taken, limits,
};
use tallymesh_protocol::{Envelope, Limits};

use super::negotiate::to_i64;
use super::{Tallies, now};
use crate::node::Inner;
use crate::{IdentityState, Node};

/// How often the outbox is tried when nothing wakes it.
const OUTBOX_EVERY: Duration = Duration::from_secs(5);

/// The largest answer: a refusal, or where the nodes of a tally listen
/// (64 nodes with 8 addresses of up to 256 bytes).
const MAX_ANSWER_BYTES: usize = 160 * 1024;

const TAKEN: &str = "tally/taken";
const REFUSED: &str = "tally/refused";

/// The tally protocol as the swarm is configured with it.
pub(crate) fn request_protocol(name: ProtocolName) -> RequestProtocol {
    debug_assert_eq!(name.as_str(), TALLY_PROTOCOL);
    RequestProtocol::new(name).with_limits(MAX_MESSAGE_BYTES, MAX_ANSWER_BYTES)
}

/// The answer to a negotiation message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Answer {
    /// Kept.
    Taken,
    /// A nodes notice taken: where the answering node knows the tally's
    /// nodes listen.
    Nodes(NodeAddresses),
    /// Not kept.
    Refused {
        /// Another device of the party may take it.
        elsewhere: bool,
        /// Why, for people.
        message: String,
    },
}

impl Answer {
    pub(crate) fn encode(&self) -> Vec<u8> {
        let (kind, body) = match self {
            Answer::Taken => (TAKEN, Vec::new()),
            Answer::Nodes(addresses) => return encode_nodes_taken(addresses),
            Answer::Refused { elsewhere, message } => (
                REFUSED,
                cbor::encode(&Value::map([
                    (0, Value::Bool(*elsewhere)),
                    (1, Value::Text(message.chars().take(300).collect())),
                ])),
            ),
        };
        Envelope::new(TALLY_PROTOCOL_VERSION, kind, body).encode()
    }

    pub(crate) fn decode(bytes: &[u8]) -> Option<Answer> {
        let limits = Limits {
            max_frame_bytes: MAX_ANSWER_BYTES,
        };
        if let Some(addresses) = decode_nodes_taken(bytes, &limits) {
            return Some(Answer::Nodes(addresses));
        }
        let envelope = Envelope::decode(bytes, &limits, &[TALLY_PROTOCOL_VERSION]).ok()?;
        match envelope.kind.as_str() {
            TAKEN => Some(Answer::Taken),
            REFUSED => {
                let value = cbor::decode(&envelope.body).ok()?;
                let f = Fields::of(&value).ok()?;
                Some(Answer::Refused {
                    elsewhere: f.bool(0).ok()?,
                    message: f.text(1).ok()?.to_owned(),
                })
            }
            _ => None,
        }
    }
}

impl Tallies {
    /// The answer to a negotiation message from `peer`. Never fails: every
    /// refusal is an answer that says why.
    pub(crate) async fn answer(&self, peer: PeerId, bytes: &[u8]) -> Vec<u8> {
        let message = match TallyRequest::decode(bytes, &limits()) {
            // Any node of an open tally takes notices about it.
            Ok(TallyRequest::Nodes(notice)) => return self.take_nodes(peer, notice).await.encode(),
            Ok(TallyRequest::Message(message)) => message,
            Err(error) => {
                self.node.strike(peer, &format!("an unreadable tally message: {error}"));
                return Answer::Refused {
                    elsewhere: false,
                    message: format!("The message could not be read: {error}"),
                }
                .encode();
            }
        };
        match self.node.identity().state().await {
            Ok(IdentityState::Ready { .. }) => {}
            Ok(IdentityState::Member { display_name, .. }) => {
                return Answer::Refused {
                    elsewhere: true,
                    message: format!("This device is not {display_name}'s main device."),
                }
                .encode();
            }
            _ => {
                return Answer::Refused {
                    elsewhere: true,
                    message: "This device acts for no party now.".to_owned(),
                }
                .encode();
            }
        }
        match self.take(message).await {
            Ok(_) => Answer::Taken.encode(),
            Err(error) => {
                tracing::info!(%peer, "refused a tally message: {error}");
                Answer::Refused {
                    elsewhere: false,
                    message: error.to_string(),
                }
                .encode()
            }
        }
    }

    /// Tries once to deliver every message waiting in the outbox: the
    /// messages to the most trusted partners first (a partner that lets
    /// requests time out holds up nobody it should not), each tally's in
    /// order — its later messages wait while an earlier one was not taken.
    pub(crate) async fn deliver_outbox(&self) -> Result<(), super::TallyError> {
        let store = self.node.running_store().await?;
        let mut held_back = std::collections::HashSet::new();
        let mut waiting = Vec::new();
        let mut scores: std::collections::HashMap<[u8; 32], f64> = std::collections::HashMap::new();
        for message in store.tally_outbox().await? {
            let Some(row) = store.tally(&message.tally).await? else {
                continue;
            };
            let Ok(partner) = tallymesh_core::PublicKey::from_bytes(&row.partner) else {
                continue;
            };
            let score = match scores.get(&row.partner) {
                Some(score) => *score,
                None => {
                    let score = self
                        .node
                        .trust()
                        .score_of(&PartyId::new(partner))
                        .await
                        .unwrap_or(self.node.trust().config().start);
                    scores.insert(row.partner, score);
                    score
                }
            };
            waiting.push((message, partner, score));
        }
        // A stable sort: each tally's messages keep their order.
        waiting.sort_by(|(_, _, a), (_, _, b)| b.total_cmp(a));
        for (message, partner, _) in waiting {
            if held_back.contains(&message.tally) {
                continue;
            }
            let Ok(card) = self.contact_card(&PartyId::new(partner)).await else {
                continue;
            };
            let protocol = &self.node.inner.protocols.tally;
            let answer = self
                .node
                .ask_devices_until(&card, protocol, &message.message, |answer| {
                    !matches!(Answer::decode(answer), Some(Answer::Refused { elsewhere: true, .. }))
                })
                .await;
            match answer.ok().as_deref().map(Answer::decode) {
                Some(Some(Answer::Taken)) => {
                    store
                        .tally_message_delivered(&message.tally, message.seq, to_i64(now()))
                        .await?;
                }
                Some(Some(Answer::Refused {
                    elsewhere: false,
                    message: why,
                })) => {
                    // Not acceptable there: sending it again changes nothing.
                    tracing::warn!("the partner refused a tally message: {why}");
                    store
                        .tally_message_delivered(&message.tally, message.seq, to_i64(now()))
                        .await?;
                }
                _ => {
                    held_back.insert(message.tally);
                }
            }
        }
        Ok(())
    }
}

/// Delivers the outbox when woken and every few seconds, and spreads the
/// tallies' nodes when anything they rest on changed, until the node is
/// gone. Holds the node weakly.
pub(crate) async fn deliver(node: Weak<Inner>) {
    let Some((wake, mut events)) = node
        .upgrade()
        .map(|inner| (inner.tally_outbox.clone(), inner.events.subscribe()))
    else {
        return;
    };
    loop {
        {
            let Some(inner) = node.upgrade() else {
                break;
            };
            let tallies = Node { inner }.tallies();
            if let Err(error) = tallies.deliver_outbox().await {
                tracing::debug!("the tally outbox could not be delivered now: {error}");
            }
            if let Err(error) = tallies.spread_nodes().await {
                tracing::debug!("the tallies' nodes were not told now: {error}");
            }
        }
        // A wake-up while delivering is kept and ends this wait at once.
        let wait = tokio::time::sleep(OUTBOX_EVERY);
        tokio::pin!(wait);
        loop {
            tokio::select! {
                () = &mut wait => break,
                () = wake.notified() => break,
                event = events.recv() => {
                    let Some(inner) = node.upgrade() else { return };
                    let running = Node { inner };
                    let mut notices = super::notices_of(&running);
                    match event {
                        Ok(event) => {
                            if notices.follow(&event) {
                                break;
                            }
                        }
                        Err(RecvError::Lagged(_)) => {
                            notices.unsettle();
                            break;
                        }
                        Err(RecvError::Closed) => return,
                    }
                }
            }
        }
    }
}

/// Follows the ledgers' events for the tallies we hold, until the node is
/// gone.
pub(crate) async fn follow_ledgers(node: Weak<Inner>) {
    let mut events = match node.upgrade() {
        Some(inner) => inner.ledgers.subscribe(),
        None => return,
    };
    loop {
        let event = match events.recv().await {
            Ok(event) => event,
            Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
            Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
        };
        let Some(inner) = node.upgrade() else {
            break;
        };
        let node = Node { inner };
        if let Err(error) = node.tallies().on_ledger(event).await {
            tracing::debug!("a ledger event was not followed: {error}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_round_trip() {
        let node = tallymesh_core::SecretKey::from_seed(&[3; 32]).public();
        for answer in [
            Answer::Taken,
            Answer::Nodes(vec![(node, vec!["/ip4/127.0.0.1/tcp/4001".into()])]),
            Answer::Refused {
                elsewhere: true,
                message: "not the main device".into(),
            },
        ] {
            assert_eq!(Answer::decode(&answer.encode()), Some(answer));
        }
        assert_eq!(Answer::decode(b"garbage"), None);
    }
}
