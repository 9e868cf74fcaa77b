//! The events the app sends to the window.

use serde::Serialize;
use specta::Types;
use specta::datatype::DataType;
use tallymesh_node::NodeEvent;

/// A node event on its way to the window, under the name `node-event`.
///
/// It serialises as the [`NodeEvent`] it carries, and the bindings type it
/// as `NodeEvent`: the window never sees this wrapper, which exists only
/// because the event name belongs to the app, not to the node.
#[derive(Debug, Clone, Serialize, tauri_specta::Event)]
#[serde(transparent)]
#[tauri_specta(event_name = "node-event")]
pub struct NodeEventMessage(pub NodeEvent);

impl specta::Type for NodeEventMessage {
    fn definition(types: &mut Types) -> DataType {
        <NodeEvent as specta::Type>::definition(types)
    }
}
