//! What a node is started with.

use std::path::PathBuf;

use tallymesh_net::Multiaddr;

/// Everything needed to start a [`crate::Node`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeConfig {
    /// Where the node keeps its database, logs and control endpoint.
    pub data_dir: PathBuf,
    /// Addresses to listen on. Port 0 picks a free port.
    pub listen: Vec<Multiaddr>,
    /// Whether to serve the local control endpoint for the CLI.
    pub control_endpoint: bool,
}

impl NodeConfig {
    /// A node in `data_dir`, listening on all interfaces over TCP and QUIC
    /// on ports the system picks, serving the control endpoint.
    pub fn new(data_dir: PathBuf) -> Self {
        NodeConfig {
            data_dir,
            listen: default_listen_addrs(),
            control_endpoint: true,
        }
    }

    /// The same node, listening only where `listen` says.
    pub fn with_listen(mut self, listen: Vec<Multiaddr>) -> Self {
        self.listen = listen;
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
    }
}
