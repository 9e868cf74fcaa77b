//! Commands about trust: scores and their history, attestations, evidence.

use tallymesh_node::trust::{Attest, AttestationView, EvidenceView, TrustDetail, TrustScore};
use tauri::State;

use crate::error::ApiError;
use crate::node::NodeState;

/// Every subject with a score, and every contact, contacts first.
#[tauri::command]
#[specta::specta]
pub async fn trust_list(node: State<'_, NodeState>) -> Result<Vec<TrustScore>, ApiError> {
    Ok(node.running()?.trust().list().await?)
}

/// Everything behind one subject's score: a party id or a peer id.
#[tauri::command]
#[specta::specta]
pub async fn trust_show(node: State<'_, NodeState>, subject: String) -> Result<TrustDetail, ApiError> {
    Ok(node.running()?.trust().show(&subject).await?)
}

/// Signs an attestation about a party and hands it on.
#[tauri::command]
#[specta::specta]
pub async fn trust_attest(node: State<'_, NodeState>, attest: Attest) -> Result<AttestationView, ApiError> {
    Ok(node.running()?.trust().attest(attest).await?)
}

/// The verified evidence of misbehaviour kept, newest first.
#[tauri::command]
#[specta::specta]
pub async fn trust_evidence(node: State<'_, NodeState>) -> Result<Vec<EvidenceView>, ApiError> {
    Ok(node.running()?.trust().evidence().await?)
}
