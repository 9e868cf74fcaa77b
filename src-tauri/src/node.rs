//! The app's hold on its node: started once at launch, kept in Tauri's
//! state, stopped when the app exits.

use std::path::Path;

use tallymesh_node::cadre::DeviceKind;
use tallymesh_node::{Node, NodeConfig, NodeEvent};
use tauri::{AppHandle, Manager, Runtime};
use tauri_specta::Event as _;
use tokio::sync::broadcast::Receiver;
use tokio::sync::broadcast::error::RecvError;

use crate::error::{ApiError, ApiErrorCode};
use crate::events::NodeEventMessage;

/// The node, or why there is none. The window opens either way and shows
/// the reason through `node_status`.
#[derive(Debug)]
pub(crate) enum NodeState {
    /// The node started and runs.
    Running(Node),
    /// The node could not start; the message says why, for people.
    Unavailable(String),
}

impl NodeState {
    /// Starts a node in `data_dir` and waits until it runs or has failed.
    /// `lan_discovery` turns multicast DNS on the local network on or off.
    pub(crate) async fn start(data_dir: &Path, lan_discovery: bool) -> NodeState {
        let config = NodeConfig::new(data_dir.to_owned())
            .with_lan_discovery(lan_discovery)
            .with_device_kind(DeviceKind::Desktop);
        match Node::start(config).await {
            Ok(node) => NodeState::Running(node),
            Err(error) => {
                tracing::error!("the node did not start: {error}");
                NodeState::Unavailable(crate::error::sentence(&error.to_string()))
            }
        }
    }

    /// The running node, or an `unavailable` error that says why there is none.
    pub(crate) fn running(&self) -> Result<&Node, ApiError> {
        match self {
            NodeState::Running(node) => Ok(node),
            NodeState::Unavailable(reason) => Err(ApiError::new(ApiErrorCode::Unavailable, reason.clone())),
        }
    }

    /// Stops the node, if one runs. Calling it again does nothing.
    pub(crate) async fn shutdown(&self) {
        if let NodeState::Running(node) = self {
            node.shutdown().await;
        }
    }
}

/// Sends every node event to the window labelled `window` as a typed
/// `node-event`, until the node's event stream ends.
pub(crate) fn forward_events<R: Runtime>(app: AppHandle<R>, window: &'static str, mut events: Receiver<NodeEvent>) {
    tauri::async_runtime::spawn(async move {
        loop {
            match events.recv().await {
                Ok(event) => {
                    if matches!(event, NodeEvent::LinkOpened { .. })
                        && let Some(window) = app.get_webview_window(window)
                    {
                        // The person just opened a link: show them the offer.
                        let _ = window.unminimize();
                        let _ = window.set_focus();
                    }
                    if let Err(error) = NodeEventMessage(event).emit_to(&app, window) {
                        tracing::warn!("cannot pass a node event to the window: {error}");
                    }
                }
                Err(RecvError::Lagged(missed)) => {
                    tracing::warn!(missed, "the window fell behind the node's events");
                }
                Err(RecvError::Closed) => break,
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_node_that_cannot_start_leaves_its_reason_for_the_window() {
        let root = tempfile::tempdir().unwrap();
        // A file where the data directory should be.
        let path = root.path().join("data");
        std::fs::write(&path, b"x").unwrap();

        let state = NodeState::start(&path, false).await;

        let error = state.running().unwrap_err();
        assert_eq!(error.code, ApiErrorCode::Unavailable);
        assert!(
            error.message.starts_with("Cannot use the data directory"),
            "{}",
            error.message
        );
        assert!(error.message.contains(&path.display().to_string()), "{}", error.message);
    }

    #[tokio::test]
    async fn shutting_down_without_a_node_does_nothing() {
        NodeState::Unavailable("no node".into()).shutdown().await;
    }
}
