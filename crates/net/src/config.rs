//! Settings of the swarm.
//!
//! ```
//! use tallymesh_net::{KademliaMode, NetConfig, ProtocolName, RequestProtocol};
//!
//! // A node on a LAN or in a test: no multicast discovery, DHT server from the start.
//! let config = NetConfig {
//!     mdns: false,
//!     kademlia_mode: KademliaMode::Server,
//!     request_protocols: vec![RequestProtocol::new(ProtocolName::new("ledger").unwrap())],
//!     ..NetConfig::default()
//! };
//! assert!(config.validate().is_ok());
//! ```

use std::collections::HashSet;
use std::time::Duration;

use crate::error::NetError;
use crate::protocol::RequestProtocol;
use crate::records::RecordPolicy;

/// Settings of the swarm. [`NetConfig::default`] suits the desktop app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetConfig {
    /// How long a connection with no open streams stays up.
    pub idle_connection_timeout: Duration,
    /// The request-response protocols the node serves and uses.
    pub request_protocols: Vec<RequestProtocol>,
    /// How long a request may wait for its answer, and an inbound request
    /// for the node's answer.
    pub request_timeout: Duration,
    /// Whether Kademlia serves queries to others.
    pub kademlia_mode: KademliaMode,
    /// How long a DHT query (put, get, bootstrap) may run.
    pub kademlia_query_timeout: Duration,
    /// The largest DHT record value stored or published, in bytes.
    pub max_record_bytes: usize,
    /// Judges every record a peer asks this node to store; `None` stores
    /// them all (libp2p's default).
    pub record_policy: Option<RecordPolicy>,
    /// The largest gossip message payload published or accepted, in bytes.
    pub max_gossip_bytes: usize,
    /// The gossipsub heartbeat: how often meshes are repaired and recent
    /// message ids gossiped.
    pub gossip_heartbeat: Duration,
    /// Discover peers on the local network by multicast DNS. On for the
    /// desktop; keep it off in tests (it multicasts on real interfaces).
    pub mdns: bool,
    /// Act as a circuit relay (a headless node serving its own cadre):
    /// reservations are granted only to the peers
    /// [`crate::Client::allow_relay_reservations`] names, and the node's
    /// own listen addresses count as external from the start, so it serves
    /// on a LAN or loopback too. The relay client is always on.
    pub relay_server: bool,
    /// How often each connection is pinged ([`crate::NetEvent::PingRtt`]).
    pub ping_interval: Duration,
    /// Caps on connections.
    pub connection_limits: ConnectionLimits,
    /// How peers' priorities weigh in gossipsub's peer scoring.
    pub gossip_scoring: GossipScoring,
}

impl Default for NetConfig {
    fn default() -> Self {
        NetConfig {
            idle_connection_timeout: Duration::from_secs(60),
            request_protocols: Vec::new(),
            request_timeout: Duration::from_secs(20),
            kademlia_mode: KademliaMode::Automatic,
            kademlia_query_timeout: Duration::from_secs(30),
            max_record_bytes: 16 * 1024,
            record_policy: None,
            max_gossip_bytes: 64 * 1024,
            gossip_heartbeat: Duration::from_secs(1),
            mdns: true,
            relay_server: false,
            ping_interval: Duration::from_secs(15),
            connection_limits: ConnectionLimits::default(),
            gossip_scoring: GossipScoring::default(),
        }
    }
}

impl NetConfig {
    /// Checks the settings that can contradict themselves: every request
    /// protocol is named once, and limits and intervals are not zero.
    pub fn validate(&self) -> Result<(), NetError> {
        let mut names = HashSet::new();
        for protocol in &self.request_protocols {
            if !names.insert(&protocol.name) {
                return Err(NetError::InvalidConfig(format!(
                    "the request protocol {} is configured twice",
                    protocol.name
                )));
            }
        }
        let zero = [
            ("max_record_bytes", self.max_record_bytes == 0),
            ("max_gossip_bytes", self.max_gossip_bytes == 0),
            ("gossip_heartbeat", self.gossip_heartbeat.is_zero()),
            ("ping_interval", self.ping_interval.is_zero()),
            ("request_timeout", self.request_timeout.is_zero()),
            ("kademlia_query_timeout", self.kademlia_query_timeout.is_zero()),
            (
                "connection_limits.incoming_slots",
                self.connection_limits.incoming_slots == 0,
            ),
        ];
        if let Some((name, _)) = zero.iter().find(|(_, is_zero)| *is_zero) {
            return Err(NetError::InvalidConfig(format!("{name} must not be zero")));
        }
        let scoring = self.gossip_scoring;
        if scoring.publish_below > scoring.gossip_below || scoring.graylist_below > scoring.publish_below {
            return Err(NetError::InvalidConfig(
                "gossip_scoring: graylist_below ≤ publish_below ≤ gossip_below".into(),
            ));
        }
        Ok(())
    }
}

/// How a peer's priority ([`crate::Client::set_peer_priority`]) becomes its
/// application score in gossipsub's peer scoring: `priority − gossip_below`,
/// so peers at or above `gossip_below` score zero or more and any below it
/// score negative. A peer scored negative leaves the topic meshes and gets
/// no gossip (IHAVE) from this node; below `publish_below` it gets none of
/// the messages this node publishes; below `graylist_below` everything it
/// sends on gossipsub is ignored. Peers of higher priority are preferred
/// when meshes are trimmed or grafted opportunistically.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GossipScoring {
    /// The least priority that gets gossip.
    pub gossip_below: u8,
    /// The least priority that gets what this node publishes; at most
    /// `gossip_below`.
    pub publish_below: u8,
    /// The least priority whose gossip is read at all; at most
    /// `publish_below`.
    pub graylist_below: u8,
}

impl Default for GossipScoring {
    /// The node's trust defaults: gossip and publishing stop below a score
    /// of 0.2 (51 of 255), everything is ignored below 0.1 (26).
    fn default() -> Self {
        GossipScoring {
            gossip_below: 51,
            publish_below: 51,
            graylist_below: 26,
        }
    }
}

impl GossipScoring {
    /// The application score of a peer of `priority`.
    pub fn application_score(&self, priority: u8) -> f64 {
        f64::from(priority) - f64::from(self.gossip_below)
    }

    /// gossipsub's thresholds: half a point below each level, so a peer
    /// exactly at a level is above its threshold.
    pub(crate) fn thresholds(&self) -> (f64, f64, f64) {
        let at = |level: u8| self.application_score(level) - 0.5;
        (at(self.gossip_below), at(self.publish_below), at(self.graylist_below))
    }
}

/// Whether Kademlia answers other peers' queries and stores their records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum KademliaMode {
    /// Client until the node has a confirmed external address (AutoNAT),
    /// then server. Right for a laptop behind NAT.
    #[default]
    Automatic,
    /// Always a server. Needed on loopback and LANs, where no address is
    /// ever confirmed as external, and right for an always-on node.
    Server,
    /// Never a server: the node only asks.
    Client,
}

/// Caps on connections, enforced by libp2p's connection-limits behaviour
/// before any other protocol sees the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// Connections being set up from outside at once.
    pub max_pending_incoming: u32,
    /// Established connections opened by others.
    pub max_established_incoming: u32,
    /// Established connections in total.
    pub max_established: u32,
    /// Established connections to one peer (TCP, QUIC, relayed and
    /// hole-punched may coexist for a moment).
    pub max_established_per_peer: u32,
    /// Incoming connections kept by priority: when more are established,
    /// the one of the peer with the lowest priority
    /// ([`crate::Client::set_peer_priority`]; the newest among equals) is
    /// closed. Below `max_established_incoming`, which stays the hard limit,
    /// so a newcomer can still connect and push out someone less wanted.
    pub incoming_slots: u32,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        ConnectionLimits {
            max_pending_incoming: 32,
            max_established_incoming: 128,
            max_established: 192,
            max_established_per_peer: 4,
            incoming_slots: 112,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::ProtocolName;

    #[test]
    fn a_protocol_named_twice_is_refused() {
        let ledger = RequestProtocol::new(ProtocolName::new("ledger").unwrap());
        let config = NetConfig {
            request_protocols: vec![ledger.clone(), ledger.with_limits(1, 1)],
            ..NetConfig::default()
        };
        assert_eq!(
            config.validate(),
            Err(NetError::InvalidConfig(
                "the request protocol /tallymesh/ledger/1 is configured twice".into()
            ))
        );
    }

    #[test]
    fn zero_limits_are_refused() {
        let config = NetConfig {
            max_gossip_bytes: 0,
            ..NetConfig::default()
        };
        assert_eq!(
            config.validate(),
            Err(NetError::InvalidConfig("max_gossip_bytes must not be zero".into()))
        );
    }
}
