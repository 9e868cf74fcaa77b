//! Reads `tauri.conf.json` (a link to the one at the repository root, so
//! the paths inside it are relative to this crate), declares the app's own
//! commands so that the capabilities must allow each one by name, and
//! checks that the UI has been built before it is embedded.

use std::path::Path;
use std::process::ExitCode;

use tauri_build::{AppManifest, Attributes};

/// The app's commands. Each gets an `allow-…` permission; only those named
/// in `capabilities/` can be called from the window.
const COMMANDS: &[&str] = &[
    "node_status",
    "identity_state",
    "identity_create",
    "identity_recovery_phrase",
    "identity_save_backup",
    "identity_restore_phrase",
    "identity_restore_backup",
    "contacts_list",
    "contact_get",
    "contact_remove",
    "contact_my_card",
    "contact_read_link",
    "contact_read_image",
    "contact_add",
    "contact_invites",
    "contact_invite_revoke",
    "contact_scan_start",
    "contact_scan_stop",
    "contact_redeem",
    "contacts_presence",
    "cadre_invite",
    "cadre_list",
    "cadre_revoke",
    "tallies_list",
    "tally_get",
    "tally_propose",
    "tally_counter",
    "tally_accept",
    "tally_refuse",
    "tally_pay",
    "tally_invoice",
    "tally_approve",
    "tally_decline",
    "tally_set",
    "tally_close",
    "tally_chits",
    "tallies_position",
    "tally_export_csv",
    "network_peers",
    "trust_list",
    "trust_show",
    "trust_attest",
    "trust_evidence",
    "links_take",
    "chat_conversations",
    "chat_conversation_with",
    "chat_messages",
    "chat_send",
    "chat_request_payment",
    "chat_pay",
    "chat_create_group",
    "chat_mark_read",
    "chat_typing",
    "chat_pending_notifications",
    "chat_mark_notified",
    "chat_mailbox_status",
];

/// The built UI that `tauri.conf.json` names as `frontendDist`.
const FRONTEND_DIST: &str = "../ui/dist";

fn main() -> ExitCode {
    println!("cargo::rerun-if-changed=../icons");

    // Without the dev server (`tauri dev`), generate_context! embeds the
    // built UI when the crate compiles: it must exist, and a new build of it
    // must recompile the crate.
    if !tauri_build::is_dev() {
        println!("cargo::rerun-if-changed={FRONTEND_DIST}");
        if !Path::new(FRONTEND_DIST).join("index.html").is_file() {
            println!(
                "cargo::error=the UI is not built: {FRONTEND_DIST}/index.html is missing. Build it first: `npm --prefix ui install && npm --prefix ui run build`."
            );
            return ExitCode::FAILURE;
        }
    }

    let attributes = Attributes::new()
        .config_path("tauri.conf.json")
        .app_manifest(AppManifest::new().commands(COMMANDS));
    match tauri_build::try_build(attributes) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            println!("cargo::error=tauri-build failed: {error:#}");
            ExitCode::FAILURE
        }
    }
}
