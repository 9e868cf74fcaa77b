//! What the node does with what arrives from the network: requests on its
//! protocols are answered, the rest becomes node events.

use std::sync::{PoisonError, Weak};

use tallymesh_net::{NetEvent, PeerId};
use tokio::sync::mpsc;

use crate::node::Inner;
use crate::{Node, NodeEvent, Reachability};

/// Serves the swarm's events until the swarm stops or the node is gone.
/// Holds the node weakly, so a node dropped without `shutdown` is not kept
/// alive by its own network.
pub(crate) async fn serve(node: Weak<Inner>, mut events: mpsc::Receiver<NetEvent>) {
    while let Some(event) = events.recv().await {
        let Some(inner) = node.upgrade() else {
            break;
        };
        let node = Node { inner };
        match event {
            NetEvent::Request {
                peer,
                protocol,
                bytes,
                responder,
            } => {
                let protocols = &node.inner.protocols;
                let served = [
                    (&protocols.contact, Served::Contact),
                    (&protocols.cadre, Served::Cadre),
                    (&protocols.tally, Served::Tally),
                    (&protocols.chat, Served::Chat),
                ]
                .into_iter()
                .find_map(|(name, served)| (*name == protocol).then_some(served));
                if let Some(served) = served {
                    // Answering reads and writes the database: not on the
                    // loop that serves every other event.
                    tokio::spawn(async move {
                        let answer = node.inner.trust.judged(peer, served.answer(&node, peer, &bytes)).await;
                        if let Err(error) = responder.respond(answer) {
                            tracing::debug!(%peer, %protocol, "an answer was not sent: {error}");
                        }
                    });
                } else if protocol == node.inner.protocols.trust {
                    tokio::spawn(async move {
                        // No answer (the responder dropped) refuses the request.
                        if let Some(answer) = node.trust().answer(peer, &bytes).await
                            && let Err(error) = responder.respond(answer)
                        {
                            tracing::debug!(%peer, "a trust answer was not sent: {error}");
                        }
                    });
                } else if protocol == node.inner.protocols.ledger {
                    // Never waits: the bytes are queued for the tally's task.
                    let received = match crate::ledger::wire::node_key_of(&peer) {
                        Some(from) => node.inner.ledgers.receive(from, bytes),
                        None => Err(crate::ledger::ReceiveError::Stopped),
                    };
                    if let Err(crate::ledger::ReceiveError::Malformed(error)) = &received {
                        node.strike(peer, &format!("an unreadable ledger message: {error}"));
                    }
                    // No ack: dropping the responder refuses the request.
                    if let Some(ack) = crate::ledger::wire::Ack::of(&received) {
                        if received.is_ok() {
                            node.inner.trust.valid(peer);
                        }
                        if let Err(error) = responder.respond(ack.bytes()) {
                            tracing::trace!(%peer, "a ledger ack was not sent: {error}");
                        }
                    }
                } else {
                    tracing::debug!(%peer, %protocol, "a request on a protocol this node does not serve");
                }
            }
            NetEvent::PingRtt { peer, rtt } => node.device_rtt(peer, rtt).await,
            NetEvent::Misbehaved { peer, reason } => node.strike(peer, &reason.to_string()),
            NetEvent::Gossip {
                topic,
                propagated_by,
                bytes,
                validation,
                ..
            } if topic == crate::trust::TRUST_TOPIC => {
                tokio::spawn(async move { node.trust().on_gossip(propagated_by, bytes, validation).await });
            }
            NetEvent::Reachability(found) => node.set_reachability(Reachability::from_net(&found)),
            NetEvent::RelayOffered { relay, addresses } => {
                tokio::spawn(async move { node.relay_offered(relay, addresses).await });
            }
            NetEvent::RelayReservation { relay } => node.relay_reserved(relay),
            NetEvent::RelayReservationLost { relay, reason } => node.relay_lost(relay, &reason),
            other => {
                if let Some(event) = NodeEvent::from_net(&other) {
                    // No subscriber is not an error.
                    let _ = node.inner.events.send(event);
                }
                match other {
                    NetEvent::PeerConnected(peer) => {
                        let cadre = node.cadre();
                        tokio::spawn(async move { cadre.device_connected(peer).await });
                        let chat = node.chat();
                        tokio::spawn(async move { chat.device_connected(peer).await });
                        node.device_connected(peer).await;
                    }
                    NetEvent::PeerDisconnected(peer) => node.device_disconnected(peer).await,
                    _ => {}
                }
            }
        }
    }
}

/// The request protocols whose every request gets an answer, and counts
/// in the asking peer's trust.
#[derive(Debug, Clone, Copy)]
enum Served {
    Contact,
    Cadre,
    Tally,
    Chat,
}

impl Served {
    /// Answers one request on this protocol.
    async fn answer(self, node: &Node, peer: PeerId, bytes: &[u8]) -> Vec<u8> {
        match self {
            Served::Contact => node.contacts().answer(peer, bytes).await,
            Served::Cadre => node.cadre().answer(peer, bytes).await,
            Served::Tally => node.tallies().answer(peer, bytes).await,
            Served::Chat => node.chat().answer(peer, bytes).await,
        }
    }
}

impl Node {
    /// Whether peers on the internet can dial this node, as AutoNAT last
    /// found (unknown until a probe answers).
    pub fn reachability(&self) -> Reachability {
        self.inner
            .reachability
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Keeps what AutoNAT found; a change is told to the window.
    pub(crate) fn set_reachability(&self, reachability: Reachability) {
        let previous = std::mem::replace(
            &mut *self.inner.reachability.lock().unwrap_or_else(PoisonError::into_inner),
            reachability.clone(),
        );
        if previous != reachability {
            tracing::info!(?reachability, "reachability from the internet changed");
            // No subscriber is not an error.
            let _ = self.inner.events.send(NodeEvent::ReachabilityChanged { reachability });
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::{KeystoreConfig, Node, NodeConfig, NodeEvent, Reachability};

    #[tokio::test]
    async fn a_new_reachability_is_kept_in_the_status_and_told_once() {
        let dir = tempfile::tempdir().unwrap();
        let config = NodeConfig::new(dir.path().to_owned())
            .with_listen(vec!["/ip4/127.0.0.1/tcp/0".parse().unwrap()])
            .with_lan_discovery(false)
            .with_keystore(KeystoreConfig::key_file("open sesame, please".to_owned().into()));
        let node = Node::start(config).await.unwrap();
        assert_eq!(node.status().await.unwrap().reachability, Reachability::Unknown);
        let mut events = node.events();

        let public = Reachability::Public {
            address: "/ip4/203.0.113.7/tcp/4001".into(),
        };
        node.set_reachability(public.clone());
        node.set_reachability(public.clone());
        node.set_reachability(Reachability::Private);

        assert_eq!(node.status().await.unwrap().reachability, Reachability::Private);
        let mut told = Vec::new();
        while let Ok(event) = events.try_recv() {
            if let NodeEvent::ReachabilityChanged { reachability } = event {
                told.push(reachability);
            }
        }
        assert_eq!(told, vec![public, Reachability::Private]);
        node.shutdown().await;
    }
}
