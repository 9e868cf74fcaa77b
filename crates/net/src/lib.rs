//! The node's libp2p swarm, behind a cloneable [`Client`] and an
//! [`EventLoop`] that owns it.
//!
//! [`new`] builds the swarm from the device's key and returns three
//! things: a `Client` that any task may clone and use to send commands, a
//! receiver of [`NetEvent`]s, and the `EventLoop` the caller spawns. The
//! loop ends when every client has been dropped or [`Client::shutdown`]
//! is called.
//!
//! ```no_run
//! # async fn example() -> Result<(), tallymesh_net::NetError> {
//! let key = libp2p::identity::Keypair::generate_ed25519();
//! let (client, mut events, event_loop) = tallymesh_net::new(key, tallymesh_net::NetConfig::default())?;
//! tokio::spawn(event_loop.run());
//! client.listen("/ip4/127.0.0.1/tcp/0".parse().unwrap()).await?;
//! while let Some(event) = events.recv().await {
//!     println!("{event:?}");
//! }
//! # Ok(()) }
//! ```

mod behaviour;
mod client;
mod event_loop;

pub use client::{Client, NetError};
pub use event_loop::EventLoop;
pub use libp2p::identity::{DecodingError, Keypair};
pub use libp2p::{Multiaddr, PeerId};

use std::time::Duration;

use tokio::sync::mpsc;

/// The identify protocol name of Tallymesh nodes, versioned like every
/// protocol of ours.
pub const IDENTIFY_PROTOCOL: &str = "/tallymesh/id/1";

/// Settings of the swarm.
#[derive(Debug, Clone)]
pub struct NetConfig {
    /// How long a connection with no open streams stays up.
    pub idle_connection_timeout: Duration,
}

impl Default for NetConfig {
    fn default() -> Self {
        NetConfig {
            idle_connection_timeout: Duration::from_secs(60),
        }
    }
}

/// Something that happened on the network.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NetEvent {
    /// The node now listens on this address.
    Listening(Multiaddr),
    /// The node stopped listening on this address.
    ListenerClosed(Multiaddr),
    /// The first connection to a peer opened.
    PeerConnected(PeerId),
    /// The last connection to a peer closed.
    PeerDisconnected(PeerId),
}

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

/// Builds the swarm for `key`: TCP and QUIC, Noise, Yamux, identify, ping.
pub fn new(key: Keypair, config: NetConfig) -> Result<(Client, mpsc::Receiver<NetEvent>, EventLoop), NetError> {
    let swarm = behaviour::build_swarm(key, &config)?;
    let local_peer_id = *swarm.local_peer_id();
    let (command_tx, command_rx) = mpsc::channel(64);
    let (event_tx, event_rx) = mpsc::channel(256);
    Ok((
        Client::new(command_tx, local_peer_id),
        event_rx,
        EventLoop::new(swarm, command_rx, event_tx),
    ))
}
