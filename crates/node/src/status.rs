//! What `status` reports.

use serde::{Deserialize, Serialize};

/// A snapshot of a running node, for the Home screen and `tallymesh status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct NodeStatus {
    /// The node's software version.
    pub version: String,
    /// The data directory.
    pub data_dir: String,
    /// The SQLite database file.
    pub database_path: String,
    /// The newest migration applied to the database.
    pub schema_version: i64,
    /// The folder of the node's log files.
    pub log_dir: String,
    /// When the node started, in milliseconds since the Unix epoch.
    pub started_at_ms: u64,
    /// Whole seconds since the node started.
    pub uptime_secs: u64,
    /// This device's libp2p peer id.
    pub peer_id: String,
    /// The addresses the node listens on.
    pub listen_addrs: Vec<String>,
    /// How many peers are connected now.
    pub connected_peers: u32,
    /// Whether peers on the internet can dial this node.
    pub reachability: Reachability,
}

/// Whether peers on the internet can dial this node, as AutoNAT probes last
/// found. Peers behind NAT still reach it through relays and hole punching.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase", rename_all_fields = "camelCase")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub enum Reachability {
    /// Dialable from the internet at this address.
    Public {
        /// The address others dialled back, as a multiaddr.
        address: String,
    },
    /// Behind NAT or a firewall: reachable through relays and hole punching.
    Private,
    /// No probe has answered yet.
    #[default]
    Unknown,
}

impl Reachability {
    /// The reachability an AutoNAT finding means.
    pub(crate) fn from_net(reachability: &tallymesh_net::Reachability) -> Self {
        match reachability {
            tallymesh_net::Reachability::Public(address) => Reachability::Public {
                address: address.to_string(),
            },
            tallymesh_net::Reachability::Private => Reachability::Private,
            tallymesh_net::Reachability::Unknown => Reachability::Unknown,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn autonat_findings_become_reachability_with_the_public_address() {
        let address: tallymesh_net::Multiaddr = "/ip4/203.0.113.7/tcp/4001".parse().unwrap();
        assert_eq!(
            Reachability::from_net(&tallymesh_net::Reachability::Public(address)),
            Reachability::Public {
                address: "/ip4/203.0.113.7/tcp/4001".into()
            }
        );
        assert_eq!(
            Reachability::from_net(&tallymesh_net::Reachability::Private),
            Reachability::Private
        );
        assert_eq!(
            Reachability::from_net(&tallymesh_net::Reachability::Unknown),
            Reachability::Unknown
        );
    }

    #[test]
    fn reachability_serialises_with_a_kind_tag() {
        let json = serde_json::to_value(Reachability::Public {
            address: "/ip4/203.0.113.7/tcp/4001".into(),
        })
        .unwrap();
        assert_eq!(
            json,
            serde_json::json!({"kind": "public", "address": "/ip4/203.0.113.7/tcp/4001"})
        );
        assert_eq!(
            serde_json::to_value(Reachability::default()).unwrap(),
            serde_json::json!({"kind": "unknown"})
        );
    }
}
