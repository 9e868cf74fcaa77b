//! The handle the rest of the node uses to talk to the swarm.
//!
//! ```no_run
//! # async fn example(client: tallymesh_net::Client) -> Result<(), Box<dyn std::error::Error>> {
//! client.subscribe("tallymesh/evidence/1").await?;
//! client.publish("tallymesh/evidence/1", b"signed evidence".to_vec()).await?;
//! client.put_record(b"party id".to_vec(), b"signed card".to_vec()).await?;
//! for peer in client.peers().await? {
//!     println!("{} at {:?}, rtt {:?}", peer.peer, peer.addresses, peer.rtt);
//! }
//! # Ok(()) }
//! ```
//!
//! Every method sends one command to the event loop and waits for its
//! answer; a stopped loop answers every command with a `Stopped` error.

use libp2p::{Multiaddr, PeerId};
use tokio::sync::{mpsc, oneshot};

use crate::error::{DhtError, GossipError, NetError, RequestError};
use crate::event::ConnectedPeer;
use crate::protocol::ProtocolName;

pub(crate) type Reply<T> = oneshot::Sender<T>;

pub(crate) enum Command {
    Listen {
        address: Multiaddr,
        reply: Reply<Result<(), NetError>>,
    },
    StopListening {
        address: Multiaddr,
        reply: Reply<bool>,
    },
    Dial {
        address: Multiaddr,
        reply: Reply<Result<(), NetError>>,
    },
    AddAddress {
        peer: PeerId,
        address: Multiaddr,
        reply: Reply<()>,
    },
    AddExternalAddress {
        address: Multiaddr,
        reply: Reply<()>,
    },
    AllowRelayReservations {
        peers: std::collections::HashSet<PeerId>,
        reply: Reply<()>,
    },
    Disconnect {
        peer: PeerId,
        reply: Reply<bool>,
    },
    SetPriority {
        peer: PeerId,
        priority: u8,
        reply: Reply<()>,
    },
    GossipScore {
        peer: PeerId,
        reply: Reply<Option<f64>>,
    },
    ListenAddrs {
        reply: Reply<Vec<Multiaddr>>,
    },
    ConnectedPeers {
        reply: Reply<Vec<PeerId>>,
    },
    Peers {
        reply: Reply<Vec<ConnectedPeer>>,
    },
    Request {
        peer: PeerId,
        protocol: ProtocolName,
        payload: Vec<u8>,
        reply: Reply<Result<Vec<u8>, RequestError>>,
    },
    PutRecord {
        key: Vec<u8>,
        value: Vec<u8>,
        reply: Reply<Result<(), DhtError>>,
    },
    GetRecord {
        key: Vec<u8>,
        reply: Reply<Result<Vec<Vec<u8>>, DhtError>>,
    },
    Bootstrap {
        reply: Reply<Result<(), DhtError>>,
    },
    Subscribe {
        topic: String,
        reply: Reply<Result<(), GossipError>>,
    },
    Unsubscribe {
        topic: String,
        reply: Reply<bool>,
    },
    Publish {
        topic: String,
        payload: Vec<u8>,
        reply: Reply<Result<(), GossipError>>,
    },
    Shutdown,
}

/// A cloneable handle to the swarm's event loop.
#[derive(Debug, Clone)]
pub struct Client {
    commands: mpsc::Sender<Command>,
    local_peer_id: PeerId,
}

impl Client {
    pub(crate) fn new(commands: mpsc::Sender<Command>, local_peer_id: PeerId) -> Self {
        Client {
            commands,
            local_peer_id,
        }
    }

    /// This node's peer id.
    pub fn local_peer_id(&self) -> PeerId {
        self.local_peer_id
    }

    /// Starts listening on `address` (port 0 picks a free port; the chosen
    /// address arrives as [`crate::NetEvent::Listening`]). Listening on
    /// `/p2p/<relay>/p2p-circuit` asks that relay for a reservation
    /// ([`crate::NetEvent::RelayReservation`]).
    pub async fn listen(&self, address: Multiaddr) -> Result<(), NetError> {
        self.ask(|reply| Command::Listen { address, reply })
            .await
            .ok_or(NetError::Stopped)?
    }

    /// Stops the listener started with exactly `address` (for a relay,
    /// the `/p2p/<relay>/p2p-circuit` address given to [`Client::listen`]),
    /// ending its reservation; false if there was none.
    pub async fn stop_listening(&self, address: Multiaddr) -> Result<bool, NetError> {
        self.ask(|reply| Command::StopListening { address, reply })
            .await
            .ok_or(NetError::Stopped)
    }

    /// Dials `address`; success means the dial started, and
    /// [`crate::NetEvent::PeerConnected`] (or
    /// [`crate::NetEvent::DialFailed`]) tells how it ended.
    pub async fn dial(&self, address: Multiaddr) -> Result<(), NetError> {
        self.ask(|reply| Command::Dial { address, reply })
            .await
            .ok_or(NetError::Stopped)?
    }

    /// Remembers that `peer` listens on `address`: requests to the peer dial
    /// it there, and the DHT routes through it.
    pub async fn add_address(&self, peer: PeerId, address: Multiaddr) -> Result<(), NetError> {
        self.ask(|reply| Command::AddAddress { peer, address, reply })
            .await
            .ok_or(NetError::Stopped)
    }

    /// Declares an address others can dial this node at (a headless node
    /// with a public address it knows from its configuration).
    pub async fn add_external_address(&self, address: Multiaddr) -> Result<(), NetError> {
        self.ask(|reply| Command::AddExternalAddress { address, reply })
            .await
            .ok_or(NetError::Stopped)
    }

    /// On a relay server ([`crate::NetConfig::relay_server`]): the peers
    /// that may hold a reservation from now on, in place of the previous
    /// ones. Nobody may until this is called. A peer left out keeps its
    /// reservation until its renewal, which is refused.
    pub async fn allow_relay_reservations(&self, peers: impl IntoIterator<Item = PeerId>) -> Result<(), NetError> {
        let peers = peers.into_iter().collect();
        self.ask(|reply| Command::AllowRelayReservations { peers, reply })
            .await
            .ok_or(NetError::Stopped)
    }

    /// Closes every connection to `peer`; false if there was none.
    pub async fn disconnect(&self, peer: PeerId) -> Result<bool, NetError> {
        self.ask(|reply| Command::Disconnect { peer, reply })
            .await
            .ok_or(NetError::Stopped)
    }

    /// How much the node wants to keep `peer` connected, 0 (least) to 255;
    /// peers never given one count as [`crate::DEFAULT_PRIORITY`]. When the
    /// incoming slots are full, the incoming connection of the peer with
    /// the lowest priority is closed first (`ConnectionLimits::incoming_slots`);
    /// the priority is also the peer's application score in gossipsub
    /// ([`crate::GossipScoring`]).
    pub async fn set_peer_priority(&self, peer: PeerId, priority: u8) -> Result<(), NetError> {
        self.ask(|reply| Command::SetPriority { peer, priority, reply })
            .await
            .ok_or(NetError::Stopped)
    }

    /// `peer`'s score in gossipsub's peer scoring (its priority, as
    /// [`crate::GossipScoring`] weighs it, plus gossipsub's own penalties);
    /// `None` for a peer gossipsub does not know.
    pub async fn gossip_score(&self, peer: PeerId) -> Result<Option<f64>, NetError> {
        self.ask(|reply| Command::GossipScore { peer, reply })
            .await
            .ok_or(NetError::Stopped)
    }

    /// The addresses the node listens on now.
    pub async fn listen_addrs(&self) -> Result<Vec<Multiaddr>, NetError> {
        self.ask(|reply| Command::ListenAddrs { reply })
            .await
            .ok_or(NetError::Stopped)
    }

    /// The peers with at least one open connection.
    pub async fn connected_peers(&self) -> Result<Vec<PeerId>, NetError> {
        self.ask(|reply| Command::ConnectedPeers { reply })
            .await
            .ok_or(NetError::Stopped)
    }

    /// The connected peers with the addresses of their connections and
    /// their latest ping round trip.
    pub async fn peers(&self) -> Result<Vec<ConnectedPeer>, NetError> {
        self.ask(|reply| Command::Peers { reply })
            .await
            .ok_or(NetError::Stopped)
    }

    /// Sends `payload` to `peer` on `protocol` and waits for the answer,
    /// at most the configured request timeout. Dials the peer if it is not
    /// connected (through addresses the swarm knows: connections, identify,
    /// the DHT, [`Client::add_address`]).
    pub async fn request(
        &self,
        peer: PeerId,
        protocol: &ProtocolName,
        payload: Vec<u8>,
    ) -> Result<Vec<u8>, RequestError> {
        let protocol = protocol.clone();
        self.ask(|reply| Command::Request {
            peer,
            protocol,
            payload,
            reply,
        })
        .await
        .ok_or(RequestError::Stopped)?
    }

    /// Publishes `value` under `key` in the DHT: stored locally and at the
    /// peers closest to the key. Succeeds once at least one peer took a
    /// copy. Anyone may publish under any key: whoever reads a record must
    /// check its signature.
    pub async fn put_record(&self, key: Vec<u8>, value: Vec<u8>) -> Result<(), DhtError> {
        self.ask(|reply| Command::PutRecord { key, value, reply })
            .await
            .ok_or(DhtError::Stopped)?
    }

    /// Every distinct value found under `key` (the local store included),
    /// once the DHT query has finished.
    pub async fn get_record(&self, key: Vec<u8>) -> Result<Vec<Vec<u8>>, DhtError> {
        self.ask(|reply| Command::GetRecord { key, reply })
            .await
            .ok_or(DhtError::Stopped)?
    }

    /// Fills the DHT routing table by looking up the node's own id through
    /// the peers it knows. The DHT also does this by itself now and then.
    pub async fn bootstrap(&self) -> Result<(), DhtError> {
        self.ask(|reply| Command::Bootstrap { reply })
            .await
            .ok_or(DhtError::Stopped)?
    }

    /// Receives gossip on `topic` ([`crate::NetEvent::Gossip`]) and helps
    /// forward it. Subscribing twice is harmless.
    pub async fn subscribe(&self, topic: &str) -> Result<(), GossipError> {
        let topic = topic.to_owned();
        self.ask(|reply| Command::Subscribe { topic, reply })
            .await
            .ok_or(GossipError::Stopped)?
    }

    /// Stops receiving gossip on `topic`; false if not subscribed.
    pub async fn unsubscribe(&self, topic: &str) -> Result<bool, GossipError> {
        let topic = topic.to_owned();
        self.ask(|reply| Command::Unsubscribe { topic, reply })
            .await
            .ok_or(GossipError::Stopped)
    }

    /// Signs and publishes `payload` on `topic`. The node need not be
    /// subscribed, but some connected peer must be.
    pub async fn publish(&self, topic: &str, payload: Vec<u8>) -> Result<(), GossipError> {
        let topic = topic.to_owned();
        self.ask(|reply| Command::Publish { topic, payload, reply })
            .await
            .ok_or(GossipError::Stopped)?
    }

    /// Asks the event loop to close every connection and stop.
    pub async fn shutdown(&self) {
        // If the loop has already stopped there is nothing left to do.
        let _ = self.commands.send(Command::Shutdown).await;
    }

    /// Sends a command and waits for its answer; `None` if the loop has
    /// stopped.
    async fn ask<T>(&self, command: impl FnOnce(Reply<T>) -> Command) -> Option<T> {
        let (reply, answer) = oneshot::channel();
        self.commands.send(command(reply)).await.ok()?;
        answer.await.ok()
    }
}
