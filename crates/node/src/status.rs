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
}
