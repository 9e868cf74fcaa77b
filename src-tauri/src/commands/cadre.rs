//! Commands about the party's cadre: enrolling a device, listing the
//! party's devices, revoking one.

use std::time::Duration;

use tallymesh_node::cadre::{CadreDevice, DEFAULT_INVITE_EXPIRY, EnrollmentLink};
use tauri::State;

use crate::error::ApiError;
use crate::node::NodeState;

/// A new one-time enrollment link, accepted for `expires_in_secs` (an hour
/// when not given), with a QR code of it. Only on the party's main device.
#[tauri::command]
#[specta::specta]
pub async fn cadre_invite(
    node: State<'_, NodeState>,
    expires_in_secs: Option<u32>,
) -> Result<EnrollmentLink, ApiError> {
    let expires_in = expires_in_secs.map_or(DEFAULT_INVITE_EXPIRY, |secs| Duration::from_secs(u64::from(secs)));
    Ok(node.running()?.cadre().enrollment_link(expires_in).await?)
}

/// The party's devices, this one first; revoked ones marked.
#[tauri::command]
#[specta::specta]
pub async fn cadre_list(node: State<'_, NodeState>) -> Result<Vec<CadreDevice>, ApiError> {
    Ok(node.running()?.cadre().list().await?)
}

/// Revokes an enrolled device: it drops off the party's card.
#[tauri::command]
#[specta::specta]
pub async fn cadre_revoke(node: State<'_, NodeState>, peer_id: String) -> Result<(), ApiError> {
    Ok(node.running()?.cadre().revoke(&peer_id).await?)
}
