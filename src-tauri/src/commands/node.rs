//! Commands about the node itself.

use tallymesh_node::NodeStatus;
use tauri::State;

use crate::error::ApiError;
use crate::node::NodeState;

/// The running node's status: version, paths, identity and network.
#[tauri::command]
#[specta::specta]
pub async fn node_status(node: State<'_, NodeState>) -> Result<NodeStatus, ApiError> {
    Ok(node.running()?.status().await?)
}
