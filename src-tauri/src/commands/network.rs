//! Commands about the network: the peers this node is connected to.

use tallymesh_node::peers::PeerInfo;
use tauri::State;

use crate::error::ApiError;
use crate::node::NodeState;

/// The connected peers, contacts' devices first.
#[tauri::command]
#[specta::specta]
pub async fn network_peers(node: State<'_, NodeState>) -> Result<Vec<PeerInfo>, ApiError> {
    Ok(node.running()?.peers().await?)
}
