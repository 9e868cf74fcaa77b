//! The swarm's protocols and transports.
//!
//! ```
//! // Every protocol of ours is versioned under /tallymesh/.
//! assert_eq!(tallymesh_net::IDENTIFY_PROTOCOL, "/tallymesh/id/1");
//! assert_eq!(tallymesh_net::KADEMLIA_PROTOCOL, "/tallymesh/kad/1");
//! assert_eq!(tallymesh_net::GOSSIP_PROTOCOL, "/tallymesh/gossip/1");
//! ```
//!
//! Transports: TCP (Noise, Yamux), QUIC, and circuit relay v2 as a client.
//! Behaviours, in the order they see a new connection: connection limits
//! (first, so a denied connection costs the others nothing), identify, ping,
//! Kademlia, gossipsub, mDNS (optional), relay client, relay server
//! (optional), DCUtR, AutoNAT, and our request-response protocols.

use std::collections::HashSet;
use std::sync::{Arc, PoisonError, RwLock};

use libp2p::identity::Keypair;
use libp2p::kad::store::{MemoryStore, MemoryStoreConfig};
use libp2p::swarm::NetworkBehaviour;
use libp2p::swarm::behaviour::toggle::Toggle;
use libp2p::{
    StreamProtocol, Swarm, autonat, connection_limits, dcutr, gossipsub, identify, kad, mdns, noise, ping, relay, tcp,
    yamux,
};

use crate::config::{KademliaMode, NetConfig};
use crate::error::NetError;
use crate::requests::RequestProtocols;
use crate::{GOSSIP_PROTOCOL, IDENTIFY_PROTOCOL, KADEMLIA_PROTOCOL};

/// Room for a gossip message's envelope (signature, public key, topic,
/// sequence number) on top of its payload.
const GOSSIP_ENVELOPE_BYTES: usize = 2 * 1024;
/// Room for a Kademlia message's other fields (closer peers and their
/// addresses) on top of a record's value.
const KADEMLIA_ENVELOPE_BYTES: usize = 16 * 1024;

/// The peers a relay server grants reservations to, shared between the
/// relay (which asks on every reservation and renewal) and the event loop
/// (which the node tells).
#[derive(Debug, Clone, Default)]
pub(crate) struct RelayClients(Arc<RwLock<HashSet<libp2p::PeerId>>>);

impl RelayClients {
    pub(crate) fn allows(&self, peer: &libp2p::PeerId) -> bool {
        self.0.read().unwrap_or_else(PoisonError::into_inner).contains(peer)
    }

    pub(crate) fn replace(&self, peers: HashSet<libp2p::PeerId>) {
        *self.0.write().unwrap_or_else(PoisonError::into_inner) = peers;
    }
}

/// The protocols every Tallymesh node runs.
#[derive(NetworkBehaviour)]
pub(crate) struct Behaviour {
    pub(crate) limits: connection_limits::Behaviour,
    pub(crate) identify: identify::Behaviour,
    pub(crate) ping: ping::Behaviour,
    pub(crate) kademlia: kad::Behaviour<MemoryStore>,
    pub(crate) gossipsub: gossipsub::Behaviour,
    pub(crate) mdns: Toggle<mdns::tokio::Behaviour>,
    pub(crate) relay_client: relay::client::Behaviour,
    pub(crate) relay_server: Toggle<relay::Behaviour>,
    pub(crate) dcutr: dcutr::Behaviour,
    pub(crate) autonat: autonat::Behaviour,
    pub(crate) requests: RequestProtocols,
}

pub(crate) fn build_swarm(
    key: Keypair,
    config: &NetConfig,
    relay_clients: &RelayClients,
) -> Result<Swarm<Behaviour>, NetError> {
    config.validate()?;
    let peer_id = key.public().to_peer_id();
    let gossipsub = gossipsub_behaviour(&key, config)?;
    let kademlia = kademlia_behaviour(peer_id, config);
    let mdns = if config.mdns {
        // A machine where the mDNS socket cannot be opened still runs
        // everything else; LAN discovery is a convenience.
        match mdns::tokio::Behaviour::new(mdns::Config::default(), peer_id) {
            Ok(mdns) => Some(mdns),
            Err(e) => {
                tracing::warn!(error = %e, "local network discovery (mDNS) is unavailable");
                None
            }
        }
    } else {
        None
    };
    let limits = config.connection_limits;
    let connection_limits = connection_limits::Behaviour::new(
        connection_limits::ConnectionLimits::default()
            .with_max_pending_incoming(Some(limits.max_pending_incoming))
            .with_max_established_incoming(Some(limits.max_established_incoming))
            .with_max_established(Some(limits.max_established))
            .with_max_established_per_peer(Some(limits.max_established_per_peer)),
    );
    let identify = identify::Behaviour::new(
        identify::Config::new(IDENTIFY_PROTOCOL.to_owned(), key.public())
            .with_agent_version(format!("tallymesh/{}", env!("CARGO_PKG_VERSION"))),
    );
    let ping = ping::Behaviour::new(ping::Config::new().with_interval(config.ping_interval));
    let relay_server = config.relay_server.then(|| {
        let mut relay_config = relay::Config::default();
        // Besides the default rates per peer and per IP: only the peers the
        // node named (its party's devices) get a reservation or a renewal.
        let allowed = relay_clients.clone();
        relay_config.reservation_rate_limiters.push(Box::new(
            move |peer: libp2p::PeerId, _: &libp2p::Multiaddr, _: std::time::Instant| allowed.allows(&peer),
        ));
        relay::Behaviour::new(peer_id, relay_config)
    });
    let requests = RequestProtocols::new(&config.request_protocols, config.request_timeout);

    let idle = config.idle_connection_timeout;
    let swarm = libp2p::SwarmBuilder::with_existing_identity(key)
        .with_tokio()
        .with_tcp(
            tcp::Config::default().nodelay(true),
            noise::Config::new,
            yamux::Config::default,
        )
        .map_err(|e| NetError::Transport(e.to_string()))?
        .with_quic()
        .with_relay_client(noise::Config::new, yamux::Config::default)
        .map_err(|e| NetError::Transport(e.to_string()))?
        .with_behaviour(move |_, relay_client| Behaviour {
            limits: connection_limits,
            identify,
            ping,
            kademlia,
            gossipsub,
            mdns: mdns.into(),
            relay_client,
            relay_server: relay_server.into(),
            dcutr: dcutr::Behaviour::new(peer_id),
            autonat: autonat::Behaviour::new(peer_id, autonat::Config::default()),
            requests,
        })
        .map_err(|e| NetError::Transport(e.to_string()))?
        .with_swarm_config(|c| c.with_idle_connection_timeout(idle))
        .build();
    Ok(swarm)
}

fn kademlia_behaviour(peer_id: libp2p::PeerId, config: &NetConfig) -> kad::Behaviour<MemoryStore> {
    let mut kad_config = kad::Config::new(StreamProtocol::new(KADEMLIA_PROTOCOL));
    kad_config
        .set_query_timeout(config.kademlia_query_timeout)
        .set_max_packet_size(config.max_record_bytes + KADEMLIA_ENVELOPE_BYTES);
    if config.record_policy.is_some() {
        // Records peers put reach the event loop, which stores them only
        // if the policy says so.
        kad_config.set_record_filtering(kad::StoreInserts::FilterBoth);
    }
    let store = MemoryStore::with_config(
        peer_id,
        MemoryStoreConfig {
            max_value_bytes: config.max_record_bytes,
            ..MemoryStoreConfig::default()
        },
    );
    let mut kademlia = kad::Behaviour::with_config(peer_id, store, kad_config);
    kademlia.set_mode(match config.kademlia_mode {
        KademliaMode::Automatic => None,
        KademliaMode::Server => Some(kad::Mode::Server),
        KademliaMode::Client => Some(kad::Mode::Client),
    });
    kademlia
}

fn gossipsub_behaviour(key: &Keypair, config: &NetConfig) -> Result<gossipsub::Behaviour, NetError> {
    let gossip_config = gossipsub::ConfigBuilder::default()
        .protocol_id(GOSSIP_PROTOCOL, gossipsub::Version::V1_1)
        .validation_mode(gossipsub::ValidationMode::Strict)
        .validate_messages()
        .max_transmit_size(config.max_gossip_bytes + GOSSIP_ENVELOPE_BYTES)
        .heartbeat_interval(config.gossip_heartbeat)
        .build()
        .map_err(|e| NetError::InvalidConfig(format!("gossipsub: {e}")))?;
    let mut gossipsub = gossipsub::Behaviour::new(gossipsub::MessageAuthenticity::Signed(key.clone()), gossip_config)
        .map_err(|e| NetError::InvalidConfig(format!("gossipsub: {e}")))?;
    // Peer scoring with the node's priorities as the application score
    // (`GossipScoring`). Colocation is not held against peers: on a LAN,
    // behind one NAT or on loopback many honest peers share an address.
    let params = gossipsub::PeerScoreParams {
        app_specific_weight: 1.0,
        ip_colocation_factor_weight: 0.0,
        ..gossipsub::PeerScoreParams::default()
    };
    let (gossip_threshold, publish_threshold, graylist_threshold) = config.gossip_scoring.thresholds();
    let thresholds = gossipsub::PeerScoreThresholds {
        gossip_threshold,
        publish_threshold,
        graylist_threshold,
        ..gossipsub::PeerScoreThresholds::default()
    };
    gossipsub
        .with_peer_score(params, thresholds)
        .map_err(|e| NetError::InvalidConfig(format!("gossipsub scoring: {e}")))?;
    Ok(gossipsub)
}
