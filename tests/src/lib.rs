//! Shared pieces of the scenario tests: starting nodes on loopback in
//! temporary data directories, and finding the `tallymesh` binary.

use std::path::PathBuf;

use tallymesh_node::{Multiaddr, Node, NodeConfig, NodeError};
use tempfile::TempDir;

/// A node listening on 127.0.0.1 only, in a data directory that disappears
/// with it.
#[derive(Debug)]
pub struct TestNode {
    /// The running node.
    pub node: Node,
    /// Its data directory; dropped after the node.
    pub dir: TempDir,
}

/// Addresses on loopback with system-chosen ports: TCP and QUIC.
pub fn loopback() -> Vec<Multiaddr> {
    ["/ip4/127.0.0.1/tcp/0", "/ip4/127.0.0.1/udp/0/quic-v1"]
        .iter()
        .filter_map(|a| a.parse().ok())
        .collect()
}

impl TestNode {
    /// Starts a node on loopback in a fresh temporary directory.
    pub async fn start() -> Result<TestNode, NodeError> {
        let dir = tempfile::Builder::new()
            .prefix("tm-")
            .tempdir()
            .map_err(|e| NodeError::DataDir {
                path: std::env::temp_dir(),
                reason: e.to_string(),
            })?;
        let node = Node::start(NodeConfig::new(dir.path().to_owned()).with_listen(loopback())).await?;
        Ok(TestNode { node, dir })
    }
}

/// The `tallymesh` binary built alongside these tests (`target/<profile>/tallymesh`).
pub fn cli_binary() -> PathBuf {
    let mut dir = std::env::current_exe().unwrap_or_default();
    // target/<profile>/deps/<test> → target/<profile>
    dir.pop();
    if dir.ends_with("deps") {
        dir.pop();
    }
    dir.join(format!("tallymesh{}", std::env::consts::EXE_SUFFIX))
}
