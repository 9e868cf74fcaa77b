//! Commands about tallies: negotiating them, paying and invoicing on them,
//! their history, our net position, and saving a tally's chits as CSV.

use tallymesh_node::tallies::{
    ChitPage, ChitView, NetPosition, NodeChoice, SettingInput, TallyDetail, TallyOffer, TallySummary, TallyTerms,
};
use tauri::{AppHandle, Runtime, State};
use tauri_plugin_dialog::DialogExt;

use crate::error::{ApiError, ApiErrorCode};
use crate::node::NodeState;

/// Every tally, the most recently changed first.
#[tauri::command]
#[specta::specta]
pub async fn tallies_list(node: State<'_, NodeState>) -> Result<Vec<TallySummary>, ApiError> {
    Ok(node.running()?.tallies().list().await?)
}

/// Everything about one tally.
#[tauri::command]
#[specta::specta]
pub async fn tally_get(node: State<'_, NodeState>, id: String) -> Result<TallyDetail, ApiError> {
    Ok(node.running()?.tallies().get(&id).await?)
}

/// The devices that may keep a new tally for our side, and how many of
/// them a quorum needs.
#[tauri::command]
#[specta::specta]
pub async fn tally_node_choice(node: State<'_, NodeState>) -> Result<NodeChoice, ApiError> {
    Ok(node.running()?.tallies().node_choice().await?)
}

/// Offers a contact a new tally.
#[tauri::command]
#[specta::specta]
pub async fn tally_propose(node: State<'_, NodeState>, offer: TallyOffer) -> Result<TallySummary, ApiError> {
    Ok(node.running()?.tallies().propose(offer).await?)
}

/// Counters the partner's offer with our terms.
#[tauri::command]
#[specta::specta]
pub async fn tally_counter(
    node: State<'_, NodeState>,
    id: String,
    terms: TallyTerms,
) -> Result<TallySummary, ApiError> {
    Ok(node.running()?.tallies().counter(&id, terms).await?)
}

/// Accepts the partner's offer: the tally opens.
#[tauri::command]
#[specta::specta]
pub async fn tally_accept(node: State<'_, NodeState>, id: String) -> Result<TallySummary, ApiError> {
    Ok(node.running()?.tallies().accept(&id).await?)
}

/// Refuses the partner's offer, or withdraws ours.
#[tauri::command]
#[specta::specta]
pub async fn tally_refuse(node: State<'_, NodeState>, id: String, reason: String) -> Result<TallySummary, ApiError> {
    Ok(node.running()?.tallies().refuse(&id, &reason).await?)
}

/// Pays the partner `amount` (as typed, in the tally's unit).
#[tauri::command]
#[specta::specta]
pub async fn tally_pay(
    node: State<'_, NodeState>,
    id: String,
    amount: String,
    memo: String,
) -> Result<ChitView, ApiError> {
    Ok(node.running()?.tallies().pay(&id, &amount, &memo).await?)
}

/// Asks the partner to pay `amount`.
#[tauri::command]
#[specta::specta]
pub async fn tally_invoice(
    node: State<'_, NodeState>,
    id: String,
    amount: String,
    memo: String,
) -> Result<ChitView, ApiError> {
    Ok(node.running()?.tallies().invoice(&id, &amount, &memo).await?)
}

/// Pays the partner's open invoice.
#[tauri::command]
#[specta::specta]
pub async fn tally_approve(node: State<'_, NodeState>, id: String, invoice: String) -> Result<ChitView, ApiError> {
    Ok(node.running()?.tallies().approve(&id, &invoice).await?)
}

/// Declines the partner's open invoice.
#[tauri::command]
#[specta::specta]
pub async fn tally_decline(node: State<'_, NodeState>, id: String, invoice: String) -> Result<ChitView, ApiError> {
    Ok(node.running()?.tallies().decline(&id, &invoice).await?)
}

/// Changes our trading variables or call.
#[tauri::command]
#[specta::specta]
pub async fn tally_set(node: State<'_, NodeState>, id: String, setting: SettingInput) -> Result<ChitView, ApiError> {
    Ok(node.running()?.tallies().set(&id, &setting).await?)
}

/// Asks to close the tally: it closes when its balance is zero.
#[tauri::command]
#[specta::specta]
pub async fn tally_close(node: State<'_, NodeState>, id: String) -> Result<ChitView, ApiError> {
    Ok(node.running()?.tallies().close(&id).await?)
}

/// A page of the tally's chits, newest first.
#[tauri::command]
#[specta::specta]
pub async fn tally_chits(
    node: State<'_, NodeState>,
    id: String,
    before: Option<String>,
    limit: u32,
) -> Result<ChitPage, ApiError> {
    Ok(node.running()?.tallies().chits(&id, before.as_deref(), limit).await?)
}

/// Our net position per unit, now and over time.
#[tauri::command]
#[specta::specta]
pub async fn tallies_position(node: State<'_, NodeState>) -> Result<Vec<NetPosition>, ApiError> {
    Ok(node.running()?.tallies().position().await?)
}

/// Asks where to save the tally's chits as CSV (the system's save dialog,
/// with `dialog_title` and `file_kind` in the window's language) and writes
/// them there. Resolves to the file's path, or to `null` if the person
/// cancelled the dialog.
#[tauri::command]
#[specta::specta]
pub async fn tally_export_csv<R: Runtime>(
    app: AppHandle<R>,
    node: State<'_, NodeState>,
    id: String,
    dialog_title: String,
    file_kind: String,
) -> Result<Option<String>, ApiError> {
    let tallies = node.running()?.tallies();
    let detail = tallies.get(&id).await?;
    let csv = tallies.csv(&id).await?;
    let (chosen, answer) = tokio::sync::oneshot::channel();
    app.dialog()
        .file()
        .set_title(dialog_title)
        .set_file_name(format!(
            "{}-{}.csv",
            super::file_stem(&detail.summary.partner_name),
            detail.summary.id.chars().take(8).collect::<String>()
        ))
        .add_filter(file_kind, &["csv"])
        .save_file(move |path| {
            let _ = chosen.send(path);
        });
    let Some(path) = answer.await.ok().flatten() else {
        return Ok(None);
    };
    let path = path
        .into_path()
        .map_err(|e| ApiError::new(ApiErrorCode::InvalidInput, format!("Cannot save there: {e}")))?;
    let written = {
        let path = path.clone();
        tokio::task::spawn_blocking(move || std::fs::write(&path, csv)).await
    };
    match written {
        Ok(Ok(())) => Ok(Some(path.display().to_string())),
        Ok(Err(error)) => Err(ApiError::new(
            ApiErrorCode::Storage,
            format!("Could not write the file {}: {error}", path.display()),
        )),
        Err(error) => Err(ApiError::new(ApiErrorCode::Internal, error.to_string())),
    }
}
