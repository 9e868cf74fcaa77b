//! Commands about `tallymesh:` links the app was opened with.

use tauri::State;

use crate::error::ApiError;
use crate::links::PendingLinks;

/// The links the app was started with (or received before the window
/// listened), oldest first; each is handed out once.
#[tauri::command]
#[specta::specta]
pub async fn links_take(links: State<'_, PendingLinks>) -> Result<Vec<String>, ApiError> {
    Ok(links.take())
}
