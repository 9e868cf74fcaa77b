//! What the network tells the node.
//!
//! ```no_run
//! # async fn example(mut events: tokio::sync::mpsc::Receiver<tallymesh_net::NetEvent>) {
//! use tallymesh_net::NetEvent;
//!
//! while let Some(event) = events.recv().await {
//!     match event {
//!         NetEvent::Request { bytes, responder, .. } => {
//!             // Answer with the same bytes; dropping the responder refuses.
//!             let _ = responder.respond(bytes);
//!         }
//!         NetEvent::Misbehaved { peer, reason } => println!("{peer}: {reason}"),
//!         other => println!("{other:?}"),
//!     }
//! }
//! # }
//! ```
//!
//! Payload bytes never appear in `Debug` output: only their length does,
//! so logging an event cannot leak what a peer sent.

use std::fmt;
use std::time::Duration;

use libp2p::{Multiaddr, PeerId};
use thiserror::Error;

use crate::frame::FrameError;
use crate::gossip::GossipValidation;
use crate::protocol::ProtocolName;
use crate::requests::Responder;

/// Something that happened on the network.
#[derive(Clone, PartialEq, Eq)]
pub enum NetEvent {
    /// The node now listens on this address.
    Listening(Multiaddr),
    /// The node stopped listening on this address.
    ListenerClosed(Multiaddr),
    /// The first connection to a peer opened.
    PeerConnected(PeerId),
    /// The last connection to a peer closed.
    PeerDisconnected(PeerId),
    /// A connection attempt failed. Informational: requests and DHT
    /// queries dial on their own and report their own failures.
    DialFailed {
        /// The peer dialled, when known.
        peer: Option<PeerId>,
        /// Why it failed.
        reason: String,
    },
    /// Multicast DNS found a peer on the local network; requests to it can
    /// now dial this address, but it is not dialled. Any libp2p node on the
    /// LAN may show up: recognise contacts by their peer id.
    PeerDiscovered {
        /// The peer.
        peer: PeerId,
        /// Where it listens.
        address: Multiaddr,
    },
    /// A ping round trip to a connected peer, for presence and latency.
    PingRtt {
        /// The peer.
        peer: PeerId,
        /// The measured round-trip time.
        rtt: Duration,
    },
    /// A peer sent a request on one of the configured protocols. Answer it
    /// with `responder`; drop the responder to refuse.
    Request {
        /// Who asked.
        peer: PeerId,
        /// On which protocol.
        protocol: ProtocolName,
        /// The request's payload, within the protocol's request limit.
        bytes: Vec<u8>,
        /// Sends the answer.
        responder: Responder,
    },
    /// A gossip message with a valid signature arrived on a subscribed
    /// topic. It travels on only if `validation` accepts it.
    Gossip {
        /// The topic.
        topic: String,
        /// The peer that signed and published it.
        author: PeerId,
        /// The peer it came from (the author, or a peer forwarding it).
        propagated_by: PeerId,
        /// The message's payload, within the gossip limit.
        bytes: Vec<u8>,
        /// Takes the node's verdict.
        validation: GossipValidation,
    },
    /// A peer broke the rules of one of our protocols; what it sent was
    /// dropped. The node may count this against the peer.
    Misbehaved {
        /// The peer.
        peer: PeerId,
        /// What it did.
        reason: Misbehaviour,
    },
    /// AutoNAT's view of whether others can dial this node changed.
    Reachability(Reachability),
    /// A relay accepted this node's reservation: peers can now reach it
    /// through `/p2p/<relay>/p2p-circuit` addresses.
    RelayReservation {
        /// The relay.
        relay: PeerId,
    },
    /// A reservation this node asked a relay for was refused, or one it
    /// held ended (the relay went away): the circuit listener is closed.
    RelayReservationLost {
        /// The relay.
        relay: PeerId,
        /// Why, in words.
        reason: String,
    },
    /// A connected peer serves as a circuit relay (identify lists the relay
    /// hop protocol), listening at `addresses`. It may still refuse this
    /// node a reservation.
    RelayOffered {
        /// The relay.
        relay: PeerId,
        /// Where it listens (circuit addresses left out).
        addresses: Vec<Multiaddr>,
    },
}

/// How a peer broke the rules.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum Misbehaviour {
    /// A request was oversized or malformed.
    #[error("bad request on {protocol}: {error}")]
    BadRequest {
        /// The protocol it came on.
        protocol: ProtocolName,
        /// What was wrong with it.
        error: FrameError,
    },
    /// An answer to our request was oversized or malformed.
    #[error("bad response on {protocol}: {error}")]
    BadResponse {
        /// The protocol.
        protocol: ProtocolName,
        /// What was wrong with it.
        error: FrameError,
    },
    /// A DHT record the node's record policy rejected.
    #[error("a DHT record refused under {key}: {reason}")]
    BadRecord {
        /// The record's key, as text (bytes that are not UTF-8 replaced).
        key: String,
        /// What was wrong with it.
        reason: String,
    },
    /// A signed gossip message larger than the gossip limit.
    #[error("a gossip message of {size} bytes on {topic}; the limit is {limit}")]
    OversizedGossip {
        /// The topic.
        topic: String,
        /// The payload's size.
        size: usize,
        /// The configured limit.
        limit: usize,
    },
}

/// Whether peers on the internet can dial this node, as AutoNAT probes
/// found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reachability {
    /// Dialable at this address.
    Public(Multiaddr),
    /// Behind NAT or a firewall: reachable through relays and hole punching.
    Private,
    /// Not known yet.
    Unknown,
}

/// A connected peer as [`crate::Client::peers`] reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectedPeer {
    /// The peer.
    pub peer: PeerId,
    /// The remote address of each open connection.
    pub addresses: Vec<Multiaddr>,
    /// The latest ping round trip, if one completed.
    pub rtt: Option<Duration>,
}

/// Prints the length of payloads, never their bytes.
struct Len(usize);

impl fmt::Debug for Len {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<{} bytes>", self.0)
    }
}

impl fmt::Debug for NetEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NetEvent::Listening(address) => f.debug_tuple("Listening").field(address).finish(),
            NetEvent::ListenerClosed(address) => f.debug_tuple("ListenerClosed").field(address).finish(),
            NetEvent::PeerConnected(peer) => f.debug_tuple("PeerConnected").field(peer).finish(),
            NetEvent::PeerDisconnected(peer) => f.debug_tuple("PeerDisconnected").field(peer).finish(),
            NetEvent::DialFailed { peer, reason } => f
                .debug_struct("DialFailed")
                .field("peer", peer)
                .field("reason", reason)
                .finish(),
            NetEvent::PeerDiscovered { peer, address } => f
                .debug_struct("PeerDiscovered")
                .field("peer", peer)
                .field("address", address)
                .finish(),
            NetEvent::PingRtt { peer, rtt } => f.debug_struct("PingRtt").field("peer", peer).field("rtt", rtt).finish(),
            NetEvent::Request {
                peer,
                protocol,
                bytes,
                responder,
            } => f
                .debug_struct("Request")
                .field("peer", peer)
                .field("protocol", protocol)
                .field("bytes", &Len(bytes.len()))
                .field("request_id", &responder.request_id())
                .finish(),
            NetEvent::Gossip {
                topic,
                author,
                propagated_by,
                bytes,
                validation,
            } => f
                .debug_struct("Gossip")
                .field("topic", topic)
                .field("author", author)
                .field("propagated_by", propagated_by)
                .field("bytes", &Len(bytes.len()))
                .field("message_number", &validation.message_number())
                .finish(),
            NetEvent::Misbehaved { peer, reason } => f
                .debug_struct("Misbehaved")
                .field("peer", peer)
                .field("reason", reason)
                .finish(),
            NetEvent::Reachability(reachability) => f.debug_tuple("Reachability").field(reachability).finish(),
            NetEvent::RelayReservation { relay } => f.debug_struct("RelayReservation").field("relay", relay).finish(),
            NetEvent::RelayReservationLost { relay, reason } => f
                .debug_struct("RelayReservationLost")
                .field("relay", relay)
                .field("reason", reason)
                .finish(),
            NetEvent::RelayOffered { relay, addresses } => f
                .debug_struct("RelayOffered")
                .field("relay", relay)
                .field("addresses", addresses)
                .finish(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_shows_payload_lengths_not_bytes() {
        let (responder, _answer) = Responder::new(3, ProtocolName::new("chat").unwrap(), 10);
        let event = NetEvent::Request {
            peer: PeerId::random(),
            protocol: ProtocolName::new("chat").unwrap(),
            bytes: b"secret words".to_vec(),
            responder,
        };
        let printed = format!("{event:?}");
        assert!(printed.contains("<12 bytes>"), "{printed}");
        assert!(!printed.contains("115, 101"), "{printed}");
        assert!(!printed.contains("secret"), "{printed}");
    }
}
