//! Commands about the party this app acts for: onboarding, the recovery
//! phrase, backups and restores.

use tallymesh_node::identity::{RecoveryPhrase, write_backup_file};
use tallymesh_node::{IdentityState, Passphrase};
use tauri::{AppHandle, Runtime, State};
use tauri_plugin_dialog::DialogExt;

use crate::commands::decode_base64;
use crate::error::{ApiError, ApiErrorCode};
use crate::node::NodeState;

/// The extension of backup files.
const BACKUP_EXTENSION: &str = "tallymesh-backup";

/// The largest backup file read: backups are a few hundred bytes.
const MAX_BACKUP_BYTES: usize = 64 * 1024;

/// Whom the node acts for: nobody yet, a party, or a party whose secret is
/// missing from the keychain.
#[tauri::command]
#[specta::specta]
pub async fn identity_state(node: State<'_, NodeState>) -> Result<IdentityState, ApiError> {
    Ok(node.running()?.identity().state().await?)
}

/// Creates a new party with this display name.
#[tauri::command]
#[specta::specta]
pub async fn identity_create(node: State<'_, NodeState>, display_name: String) -> Result<IdentityState, ApiError> {
    Ok(node.running()?.identity().create(&display_name).await?)
}

/// The 24 words of the recovery phrase, in order, to be written down.
/// The window shows them only while the person asks to see them.
#[tauri::command]
#[specta::specta]
pub async fn identity_recovery_phrase(node: State<'_, NodeState>) -> Result<Vec<String>, ApiError> {
    let phrase = node.running()?.identity().recovery_phrase().await?;
    Ok(phrase.expose().split_whitespace().map(str::to_owned).collect())
}

/// Asks where to save an encrypted backup (the system's save dialog, with
/// `dialog_title` and `file_kind` in the window's language) and writes it
/// there under `passphrase`. Resolves to the file's path, or to `null` if
/// the person cancelled the dialog.
#[tauri::command]
#[specta::specta]
pub async fn identity_save_backup<R: Runtime>(
    app: AppHandle<R>,
    node: State<'_, NodeState>,
    passphrase: String,
    dialog_title: String,
    file_kind: String,
) -> Result<Option<String>, ApiError> {
    let identity = node.running()?.identity();
    let (IdentityState::Ready { display_name, .. } | IdentityState::Member { display_name, .. }) =
        identity.state().await?
    else {
        return Err(ApiError::new(
            ApiErrorCode::InvalidInput,
            "There is no identity to back up yet: create one or restore one first.",
        ));
    };
    // Sealing first: a weak passphrase is refused before any dialog opens.
    let backup = identity.export_backup(&Passphrase::new(passphrase)).await?;

    let (chosen, answer) = tokio::sync::oneshot::channel();
    app.dialog()
        .file()
        .set_title(dialog_title)
        .set_file_name(format!("{}.{BACKUP_EXTENSION}", super::file_stem(&display_name)))
        .add_filter(file_kind, &[BACKUP_EXTENSION])
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
        tokio::task::spawn_blocking(move || write_backup_file(&path, &backup, true)).await
    };
    match written {
        Ok(Ok(())) => {
            tracing::info!("saved an identity backup");
            Ok(Some(path.display().to_string()))
        }
        Ok(Err(error)) => Err(ApiError::new(
            ApiErrorCode::Storage,
            format!("Could not write the backup to {}: {error}", path.display()),
        )),
        Err(error) => Err(ApiError::new(ApiErrorCode::Internal, error.to_string())),
    }
}

/// Restores the party of a recovery phrase, under `display_name`.
#[tauri::command]
#[specta::specta]
pub async fn identity_restore_phrase(
    node: State<'_, NodeState>,
    phrase: String,
    display_name: String,
) -> Result<IdentityState, ApiError> {
    let phrase = RecoveryPhrase::new(phrase);
    Ok(node
        .running()?
        .identity()
        .restore_from_phrase(&phrase, &display_name)
        .await?)
}

/// Restores the party of a backup file: its bytes in base64, and its
/// passphrase.
#[tauri::command]
#[specta::specta]
pub async fn identity_restore_backup(
    node: State<'_, NodeState>,
    backup: String,
    passphrase: String,
) -> Result<IdentityState, ApiError> {
    let bytes = decode_base64(&backup, MAX_BACKUP_BYTES, "backup file")?;
    Ok(node
        .running()?
        .identity()
        .restore_from_backup(&bytes, &Passphrase::new(passphrase))
        .await?)
}
