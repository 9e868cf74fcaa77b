//! Commands about contacts: my card, adding a party from a link, an image
//! or the camera, and the invites on my cards.

use std::sync::Mutex;

use serde::Serialize;
use tallymesh_node::contacts::{CardPreview, CardScan, Contact, OwnInvite, ScanUpdate, SharedCard, card_qr_svg};
use tallymesh_node::control::InviteRequest;
use tallymesh_node::presence::ContactPresence;
use tauri::State;
use tauri::ipc::Channel;

use crate::commands::decode_base64;
use crate::error::ApiError;
use crate::node::NodeState;

/// The largest image file read for a QR code.
const MAX_IMAGE_BYTES: usize = 24 * 1024 * 1024;

/// This party's card, ready to share.
#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct MyCard {
    /// The link, the party id and the invite it carries.
    #[serde(flatten)]
    pub shared: SharedCard,
    /// The card as an SVG QR code.
    pub qr_svg: String,
}

/// The one camera scan the window may run at a time.
#[derive(Debug, Default)]
pub(crate) struct ScanState(Mutex<Option<CardScan>>);

impl ScanState {
    /// Keeps `scan` as the running one; the one before it stops.
    fn replace(&self, scan: Option<CardScan>) {
        let previous = match self.0.lock() {
            Ok(mut running) => std::mem::replace(&mut *running, scan),
            Err(poisoned) => std::mem::replace(&mut *poisoned.into_inner(), scan),
        };
        // Dropping a scan stops it and releases the camera.
        drop(previous);
    }
}

/// Every contact, by name.
#[tauri::command]
#[specta::specta]
pub async fn contacts_list(node: State<'_, NodeState>) -> Result<Vec<Contact>, ApiError> {
    Ok(node.running()?.contacts().list().await?)
}

/// One contact.
#[tauri::command]
#[specta::specta]
pub async fn contact_get(node: State<'_, NodeState>, party_id: String) -> Result<Contact, ApiError> {
    Ok(node.running()?.contacts().get(&party_id).await?)
}

/// Forgets a contact.
#[tauri::command]
#[specta::specta]
pub async fn contact_remove(node: State<'_, NodeState>, party_id: String) -> Result<(), ApiError> {
    Ok(node.running()?.contacts().remove(&party_id).await?)
}

/// My card, signed now, as a link and a QR code; with `invite`, a new
/// invite is made and the card carries it.
#[tauri::command]
#[specta::specta]
pub async fn contact_my_card(node: State<'_, NodeState>, invite: Option<InviteRequest>) -> Result<MyCard, ApiError> {
    let card = node.running()?.contacts().my_card(invite.map(Into::into)).await?;
    Ok(MyCard {
        shared: SharedCard::of(&card),
        qr_svg: card_qr_svg(&card)?,
    })
}

/// Reads and verifies the card of a pasted or opened link, without adding
/// it.
#[tauri::command]
#[specta::specta]
pub async fn contact_read_link(node: State<'_, NodeState>, link: String) -> Result<CardPreview, ApiError> {
    Ok(node.running()?.contacts().read_link(&link).await?)
}

/// Reads and verifies the card in a QR code image (the file's bytes in
/// base64), without adding it.
#[tauri::command]
#[specta::specta]
pub async fn contact_read_image(node: State<'_, NodeState>, image: String) -> Result<CardPreview, ApiError> {
    let bytes = decode_base64(&image, MAX_IMAGE_BYTES, "image")?;
    Ok(node.running()?.contacts().read_qr_image(&bytes).await?)
}

/// Adds the party of a card link (as a preview gave it).
#[tauri::command]
#[specta::specta]
pub async fn contact_add(node: State<'_, NodeState>, link: String) -> Result<Contact, ApiError> {
    Ok(node.running()?.contacts().add_from_link(&link).await?)
}

/// Every invite this party made, newest first.
#[tauri::command]
#[specta::specta]
pub async fn contact_invites(node: State<'_, NodeState>) -> Result<Vec<OwnInvite>, ApiError> {
    Ok(node.running()?.contacts().list_invites().await?)
}

/// Withdraws an invite.
#[tauri::command]
#[specta::specta]
pub async fn contact_invite_revoke(node: State<'_, NodeState>, token: String) -> Result<(), ApiError> {
    Ok(node.running()?.contacts().revoke_invite(&token).await?)
}

/// Starts scanning for a card with the camera; updates (previews, the card
/// found, or why it failed) arrive on `updates`. A scan already running
/// stops.
#[tauri::command]
#[specta::specta]
pub async fn contact_scan_start(
    node: State<'_, NodeState>,
    scans: State<'_, ScanState>,
    updates: Channel<ScanUpdate>,
) -> Result<(), ApiError> {
    let scan = node.running()?.contacts().scan_card(move |update| {
        if let Err(error) = updates.send(update) {
            tracing::debug!("a scan update did not reach the window: {error}");
        }
    });
    scans.replace(Some(scan));
    Ok(())
}

/// Stops the camera scan, if one runs; it reports `stopped`.
#[tauri::command]
#[specta::specta]
pub async fn contact_scan_stop(scans: State<'_, ScanState>) -> Result<(), ApiError> {
    scans.replace(None);
    Ok(())
}

/// Redeems the invite on a card link (as a preview gave it): reaches the
/// party's devices and exchanges cards, so each keeps the other. Resolves
/// to the party as a contact.
#[tauri::command]
#[specta::specta]
pub async fn contact_redeem(node: State<'_, NodeState>, link: String) -> Result<Contact, ApiError> {
    Ok(node.running()?.contacts().redeem_link(&link).await?)
}

/// Every contact's presence: online, round trip, last seen.
#[tauri::command]
#[specta::specta]
pub async fn contacts_presence(node: State<'_, NodeState>) -> Result<Vec<ContactPresence>, ApiError> {
    Ok(node.running()?.presence().await?)
}
