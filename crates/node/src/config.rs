//! What a node is started with.

use std::path::PathBuf;

use std::time::Duration;

use tallymesh_net::{ConnectionLimits, GossipScoring, KademliaMode, Multiaddr, NetConfig, RequestProtocol};

use crate::cadre::DeviceKind;
use crate::keystore::{KdfParams, KeystoreConfig};

/// Everything needed to start a [`crate::Node`].
#[derive(Debug, Clone, PartialEq)]
pub struct NodeConfig {
    /// Where the node keeps its database, logs and control endpoint.
    pub data_dir: PathBuf,
    /// Addresses to listen on. Port 0 picks a free port.
    pub listen: Vec<Multiaddr>,
    /// Whether to serve the local control endpoint for the CLI.
    pub control_endpoint: bool,
    /// Where the device key and the party secret are kept. A data
    /// directory keeps using the backend it started with.
    pub keystore: KeystoreConfig,
    /// The Argon2id settings of files this node encrypts from now on: a new
    /// key file, and backups. Existing files keep their own.
    pub file_kdf: KdfParams,
    /// The name this device's certificate gives it ("Laptop"); `None` uses
    /// the computer's name.
    pub device_name: Option<String>,
    /// What kind of device this node is: the desktop shell says
    /// [`DeviceKind::Desktop`]; headless by default. A device tells the
    /// main device when it joins a cadre, so the party's windows can tell
    /// its devices apart.
    pub device_kind: DeviceKind,
    /// Whether to find other nodes on the local network by multicast DNS.
    /// On for people's machines; tests turn it off, since it multicasts on
    /// the real interfaces.
    pub lan_discovery: bool,
    /// Whether this node answers DHT queries from the start. `None` lets
    /// the swarm decide once others can dial it; nodes on loopback or a LAN
    /// say `Some(true)`, since nobody there confirms an external address.
    pub dht_server: Option<bool>,
    /// Whether to relay connections for the party's other devices (and
    /// only theirs) that cannot be dialled directly: an always-on node.
    /// Its listen addresses count as ones others can dial, so it serves
    /// from the start (see [`crate::cadre`] and `docs/protocol/cadre.md`).
    pub relay_server: bool,
    /// How the tally ledgers run: the consensus timeouts and limits, how
    /// often journals are pruned.
    pub ledger: crate::ledger::TallyLedgersConfig,
    /// Whether this device chats or only holds mail, and how long items
    /// wait.
    pub chat: crate::chat::ChatConfig,
    /// How trust scores move and where they change what the node does.
    pub trust: tallymesh_core::trust::TrustConfig,
    /// Caps on connections, and how many incoming ones are kept by trust.
    pub connection_limits: ConnectionLimits,
    /// How long a request to a peer may wait for its answer before it
    /// counts as timed out.
    pub request_timeout: Duration,
}

impl NodeConfig {
    /// A node in `data_dir`, listening on all interfaces over TCP and QUIC
    /// on ports the system picks, serving the control endpoint, keeping its
    /// keys in the OS keychain.
    pub fn new(data_dir: PathBuf) -> Self {
        NodeConfig {
            data_dir,
            listen: default_listen_addrs(),
            control_endpoint: true,
            keystore: KeystoreConfig::OsKeychain,
            file_kdf: KdfParams::RECOMMENDED,
            device_name: None,
            device_kind: DeviceKind::Headless,
            lan_discovery: true,
            dht_server: None,
            relay_server: false,
            ledger: crate::ledger::TallyLedgersConfig::default(),
            chat: crate::chat::ChatConfig::default(),
            trust: tallymesh_core::trust::TrustConfig::default(),
            connection_limits: ConnectionLimits::default(),
            request_timeout: NetConfig::default().request_timeout,
        }
    }

    /// The same node, with caps on connections `limits`.
    pub fn with_connection_limits(mut self, limits: ConnectionLimits) -> Self {
        self.connection_limits = limits;
        self
    }

    /// The same node, letting a request wait `timeout` for its answer.
    pub fn with_request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// The same node, running its tally ledgers with `ledger`.
    pub fn with_ledger_config(mut self, ledger: crate::ledger::TallyLedgersConfig) -> Self {
        self.ledger = ledger;
        self
    }

    /// The same node, taking part in chat as `chat` says.
    pub fn with_chat(mut self, chat: crate::chat::ChatConfig) -> Self {
        self.chat = chat;
        self
    }

    /// The same node, scoring trust with `trust`.
    pub fn with_trust_config(mut self, trust: tallymesh_core::trust::TrustConfig) -> Self {
        self.trust = trust;
        self
    }

    /// The same node, listening only where `listen` says.
    pub fn with_listen(mut self, listen: Vec<Multiaddr>) -> Self {
        self.listen = listen;
        self
    }

    /// The same node, keeping its keys where `keystore` says.
    pub fn with_keystore(mut self, keystore: KeystoreConfig) -> Self {
        self.keystore = keystore;
        self
    }

    /// The same node, encrypting new files with `kdf` (tests use
    /// [`KdfParams::INSECURE_FOR_TESTS`]).
    pub fn with_file_kdf(mut self, kdf: KdfParams) -> Self {
        self.file_kdf = kdf;
        self
    }

    /// The same node, as a device of kind `kind`.
    pub fn with_device_kind(mut self, kind: DeviceKind) -> Self {
        self.device_kind = kind;
        self
    }

    /// The same node, with multicast DNS on the local network on or off.
    pub fn with_lan_discovery(mut self, on: bool) -> Self {
        self.lan_discovery = on;
        self
    }

    /// The same node, serving DHT queries (`true`) or only asking them
    /// (`false`) from the start.
    pub fn with_dht_server(mut self, server: bool) -> Self {
        self.dht_server = Some(server);
        self
    }

    /// The same node, relaying for its party's other devices (`true`) or not.
    pub fn with_relay_server(mut self, on: bool) -> Self {
        self.relay_server = on;
        self
    }

    /// The settings of the node's swarm. Trust sets each peer's priority;
    /// gossip to peers below the relay threshold stops, and their gossip is
    /// ignored below the disconnect threshold.
    pub(crate) fn net_config(&self, request_protocols: Vec<RequestProtocol>) -> NetConfig {
        let relay = crate::trust::priority_of(self.trust.relay_threshold);
        let gossip_scoring = GossipScoring {
            gossip_below: relay,
            publish_below: relay,
            graylist_below: crate::trust::priority_of(self.trust.disconnect_below).min(relay),
        };
        NetConfig {
            connection_limits: self.connection_limits,
            request_timeout: self.request_timeout,
            gossip_scoring,
            request_protocols,
            mdns: self.lan_discovery,
            relay_server: self.relay_server,
            record_policy: Some(crate::card_records::record_policy()),
            kademlia_mode: match self.dht_server {
                None => KademliaMode::Automatic,
                Some(true) => KademliaMode::Server,
                Some(false) => KademliaMode::Client,
            },
            ..NetConfig::default()
        }
    }

    /// The same node, calling this device `name` in its certificate.
    pub fn with_device_name(mut self, name: impl Into<String>) -> Self {
        self.device_name = Some(name.into());
        self
    }
}

/// TCP and QUIC on every IPv4 interface, ports chosen by the system.
pub fn default_listen_addrs() -> Vec<Multiaddr> {
    ["/ip4/0.0.0.0/tcp/0", "/ip4/0.0.0.0/udp/0/quic-v1"]
        .iter()
        .filter_map(|a| a.parse().ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_config_listens_on_tcp_and_quic() {
        let config = NodeConfig::new("/data".into());
        let text: Vec<String> = config.listen.iter().map(ToString::to_string).collect();
        assert_eq!(text, ["/ip4/0.0.0.0/tcp/0", "/ip4/0.0.0.0/udp/0/quic-v1"]);
        assert!(config.control_endpoint);
        assert_eq!(config.keystore, KeystoreConfig::OsKeychain);
        assert_eq!(config.file_kdf, KdfParams::RECOMMENDED);
    }

    #[test]
    fn the_swarm_follows_the_nodes_choices() {
        let desktop = NodeConfig::new("/data".into()).net_config(Vec::new());
        assert!(desktop.mdns);
        assert!(!desktop.relay_server);
        assert!(desktop.record_policy.is_some(), "the DHT keeps only valid cards");
        assert_eq!(desktop.kademlia_mode, KademliaMode::Automatic);

        let server = NodeConfig::new("/data".into())
            .with_lan_discovery(false)
            .with_dht_server(true)
            .with_relay_server(true)
            .net_config(Vec::new());
        assert!(!server.mdns);
        assert!(server.relay_server);
        assert_eq!(server.kademlia_mode, KademliaMode::Server);
    }

    #[test]
    fn a_key_file_config_never_prints_its_passphrase() {
        let config = NodeConfig::new("/data".into())
            .with_keystore(KeystoreConfig::key_file("open sesame, please".to_owned().into()));
        let printed = format!("{config:?}");
        assert!(!printed.contains("sesame"), "{printed}");
        assert!(printed.contains("KeyFile"), "{printed}");
    }
}
