//! What the node does with what arrives from the network: requests on its
//! protocols are answered, the rest becomes node events.

use std::sync::Weak;

use tallymesh_net::NetEvent;
use tokio::sync::mpsc;

use crate::node::Inner;
use crate::{Node, NodeEvent};

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
                if protocol == node.inner.protocols.contact {
                    // Answering reads and writes the database: not on the
                    // loop that serves every other event.
                    tokio::spawn(async move {
                        let answer = node.contacts().answer(peer, &bytes).await;
                        if let Err(error) = responder.respond(answer) {
                            tracing::debug!(%peer, "a contact answer was not sent: {error}");
                        }
                    });
                } else if protocol == node.inner.protocols.cadre {
                    tokio::spawn(async move {
                        let answer = node.cadre().answer(peer, &bytes).await;
                        if let Err(error) = responder.respond(answer) {
                            tracing::debug!(%peer, "a cadre answer was not sent: {error}");
                        }
                    });
                } else if protocol == node.inner.protocols.ledger {
                    // Never waits: the bytes are queued for the tally's task.
                    let received = match crate::ledger::wire::node_key_of(&peer) {
                        Some(from) => node.inner.ledgers.receive(from, bytes),
                        None => Err(crate::ledger::ReceiveError::Stopped),
                    };
                    match crate::ledger::wire::Ack::of(&received) {
                        Some(ack) => {
                            if let Err(error) = responder.respond(ack.bytes()) {
                                tracing::trace!(%peer, "a ledger ack was not sent: {error}");
                            }
                        }
                        None => {
                            // Dropping the responder refuses the request.
                            if let Err(error) = received {
                                node.strike(peer, &format!("an unreadable ledger message: {error}"));
                            }
                        }
                    }
                } else {
                    tracing::debug!(%peer, %protocol, "a request on a protocol this node does not serve");
                }
            }
            NetEvent::PingRtt { peer, rtt } => node.device_rtt(peer, rtt).await,
            NetEvent::Misbehaved { peer, reason } => node.strike(peer, &reason.to_string()),
            other => {
                if let Some(event) = NodeEvent::from_net(&other) {
                    // No subscriber is not an error.
                    let _ = node.inner.events.send(event);
                }
                match other {
                    NetEvent::PeerConnected(peer) => node.device_connected(peer).await,
                    NetEvent::PeerDisconnected(peer) => node.device_disconnected(peer).await,
                    _ => {}
                }
            }
        }
    }
}
