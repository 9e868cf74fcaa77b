//! The node's libp2p swarm, behind a cloneable [`Client`] and an
//! [`EventLoop`] that owns it.
//!
//! ```no_run
//! # async fn example() -> Result<(), Box<dyn std::error::Error>> {
//! use tallymesh_net::{NetConfig, NetEvent, ProtocolName, RequestProtocol};
//!
//! let echo = ProtocolName::new("echo")?;
//! let config = NetConfig {
//!     request_protocols: vec![RequestProtocol::new(echo.clone())],
//!     ..NetConfig::default()
//! };
//! let key = tallymesh_net::keypair_from_seed(&[7; 32])?;
//! let (client, mut events, event_loop) = tallymesh_net::new(key, config)?;
//! tokio::spawn(event_loop.run());
//! client.listen("/ip4/0.0.0.0/tcp/0".parse()?).await?;
//! client.listen("/ip4/0.0.0.0/udp/0/quic-v1".parse()?).await?;
//! while let Some(event) = events.recv().await {
//!     match event {
//!         NetEvent::Request { bytes, responder, .. } => {
//!             responder.respond(bytes)?;
//!         }
//!         other => println!("{other:?}"),
//!     }
//! }
//! # Ok(()) }
//! ```
//!
//! [`new`] builds the swarm from the device's key and returns three
//! things: a `Client` that any task may clone and use to send commands, a
//! receiver of [`NetEvent`]s, and the `EventLoop` the caller spawns. The
//! loop ends when every client has been dropped or [`Client::shutdown`]
//! is called. The event channel is bounded: a node that stops reading
//! events eventually stalls the loop, so read them promptly.
//!
//! What runs: TCP and QUIC transports with Noise and Yamux, circuit relay
//! v2 (client always, server on request), DCUtR hole punching, AutoNAT,
//! identify, ping, Kademlia, gossipsub with signed messages checked by the
//! node before they are forwarded, mDNS on the LAN, connection limits, and
//! request-response on the node's own protocols. This crate moves bytes:
//! what a request, a record or a gossip message means is the node's
//! business. `docs/protocol/net.md` describes the wire.

mod behaviour;
mod client;
mod config;
mod error;
mod event;
mod event_loop;
mod frame;
mod gossip;
mod protocol;
mod records;
mod requests;

pub use client::Client;
pub use config::{ConnectionLimits, GossipScoring, KademliaMode, NetConfig};
pub use error::{DhtError, GossipError, NetError, RequestError, RespondError};
pub use event::{ConnectedPeer, Misbehaviour, NetEvent, Reachability};
pub use event_loop::EventLoop;
pub use frame::FrameError;
pub use gossip::GossipValidation;
pub use libp2p::identity::{DecodingError, Keypair};
pub use libp2p::{Multiaddr, PeerId, multiaddr};
pub use protocol::{ProtocolName, ProtocolNameError, RequestProtocol};
pub use records::{RecordPolicy, RecordVerdict};
pub use requests::Responder;

use tokio::sync::mpsc;

/// The identify protocol name of Tallymesh nodes, versioned like every
/// protocol of ours.
pub const IDENTIFY_PROTOCOL: &str = "/tallymesh/id/1";

/// The Kademlia protocol name: a DHT of Tallymesh nodes only.
pub const KADEMLIA_PROTOCOL: &str = "/tallymesh/kad/1";

/// The gossipsub protocol name: a gossip mesh of Tallymesh nodes only.
pub const GOSSIP_PROTOCOL: &str = "/tallymesh/gossip/1";

/// The priority of a peer the node never gave one
/// ([`Client::set_peer_priority`]): the middle.
pub const DEFAULT_PRIORITY: u8 = 128;

/// How many commands may wait for the event loop.
const COMMAND_BUFFER: usize = 64;
/// How many events may wait for the node.
const EVENT_BUFFER: usize = 256;

/// The device's libp2p keypair from its 32-byte Ed25519 seed, as kept in
/// the node's keystore. The same seed always gives the same [`PeerId`].
///
/// ```
/// let a = tallymesh_net::keypair_from_seed(&[7; 32]).unwrap();
/// let b = tallymesh_net::keypair_from_seed(&[7; 32]).unwrap();
/// assert_eq!(a.public().to_peer_id(), b.public().to_peer_id());
/// ```
pub fn keypair_from_seed(seed: &[u8; 32]) -> Result<Keypair, DecodingError> {
    // libp2p wipes the buffer it is given; hand it a copy, not the caller's seed.
    let mut copy = *seed;
    Keypair::ed25519_from_bytes(&mut copy)
}

/// The peer id of the node whose Ed25519 identity key is `key` (32 bytes):
/// a Tallymesh node's device key is its libp2p identity, so a tally
/// network's node keys name peers. `None` if the bytes are not an Ed25519
/// public key.
///
/// ```
/// let key = tallymesh_net::keypair_from_seed(&[7; 32]).unwrap();
/// let public = tallymesh_net::ed25519_public_key(&key.public().to_peer_id()).unwrap();
/// assert_eq!(tallymesh_net::peer_id_of_ed25519(&public), Some(key.public().to_peer_id()));
/// ```
pub fn peer_id_of_ed25519(key: &[u8; 32]) -> Option<PeerId> {
    let public = libp2p::identity::ed25519::PublicKey::try_from_bytes(key).ok()?;
    Some(libp2p::identity::PublicKey::from(public).to_peer_id())
}

/// The Ed25519 public key a peer id embeds, or `None` for a peer id of
/// another key type (or one that hashes its key instead of embedding it).
pub fn ed25519_public_key(peer: &PeerId) -> Option<[u8; 32]> {
    let multihash = peer.as_ref();
    // Peer ids of small keys embed the protobuf-encoded key under the
    // identity multihash (code 0).
    if multihash.code() != 0 {
        return None;
    }
    let public = libp2p::identity::PublicKey::try_decode_protobuf(multihash.digest()).ok()?;
    Some(public.try_into_ed25519().ok()?.to_bytes())
}

/// Builds the swarm for `key` with `config` (see the crate docs for what
/// runs). Fails if the settings contradict themselves
/// ([`NetConfig::validate`]) or a transport cannot be set up.
pub fn new(key: Keypair, config: NetConfig) -> Result<(Client, mpsc::Receiver<NetEvent>, EventLoop), NetError> {
    let relay_clients = behaviour::RelayClients::default();
    let swarm = behaviour::build_swarm(key, &config, &relay_clients)?;
    let local_peer_id = *swarm.local_peer_id();
    let (command_tx, command_rx) = mpsc::channel(COMMAND_BUFFER);
    let (event_tx, event_rx) = mpsc::channel(EVENT_BUFFER);
    Ok((
        Client::new(command_tx, local_peer_id),
        event_rx,
        EventLoop::new(swarm, &config, relay_clients, command_rx, event_tx),
    ))
}
