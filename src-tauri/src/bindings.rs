//! The typed bindings the UI calls Rust through: every command and event,
//! with their TypeScript types, generated from the Rust definitions and
//! checked in at `ui/src/backend/bindings.ts`.
//!
//! The test `bindings_are_up_to_date` fails when the checked-in file is
//! stale; `UPDATE_BINDINGS=1 cargo test --workspace bindings_are_up_to_date`
//! rewrites it.

use tauri::Wry;
use tauri_specta::{Builder, collect_commands, collect_events};

use crate::commands;
use crate::events::NodeEventMessage;

/// Every command and event the window can use.
pub(crate) fn builder() -> Builder<Wry> {
    Builder::<Wry>::new()
        .commands(collect_commands![
            commands::node::node_status,
            commands::identity::identity_state,
            commands::identity::identity_create,
            commands::identity::identity_recovery_phrase,
            commands::identity::identity_save_backup::<Wry>,
            commands::identity::identity_restore_phrase,
            commands::identity::identity_restore_backup,
            commands::contacts::contacts_list,
            commands::contacts::contact_get,
            commands::contacts::contact_remove,
            commands::contacts::contact_my_card,
            commands::contacts::contact_read_link,
            commands::contacts::contact_read_image,
            commands::contacts::contact_add,
            commands::contacts::contact_invites,
            commands::contacts::contact_invite_revoke,
            commands::contacts::contact_scan_start,
            commands::contacts::contact_scan_stop,
            commands::contacts::contact_redeem,
            commands::contacts::contacts_presence,
            commands::cadre::cadre_invite,
            commands::cadre::cadre_list,
            commands::cadre::cadre_revoke,
            commands::tallies::tallies_list,
            commands::tallies::tally_get,
            commands::tallies::tally_propose,
            commands::tallies::tally_counter,
            commands::tallies::tally_accept,
            commands::tallies::tally_refuse,
            commands::tallies::tally_pay,
            commands::tallies::tally_invoice,
            commands::tallies::tally_approve,
            commands::tallies::tally_decline,
            commands::tallies::tally_set,
            commands::tallies::tally_close,
            commands::tallies::tally_chits,
            commands::tallies::tallies_position,
            commands::tallies::tally_export_csv::<Wry>,
            commands::network::network_peers,
            commands::trust::trust_list,
            commands::trust::trust_show,
            commands::trust::trust_attest,
            commands::trust::trust_evidence,
            commands::links::links_take,
            commands::chat::chat_conversations,
            commands::chat::chat_conversation_with,
            commands::chat::chat_messages,
            commands::chat::chat_send,
            commands::chat::chat_request_payment,
            commands::chat::chat_pay,
            commands::chat::chat_create_group,
            commands::chat::chat_mark_read,
            commands::chat::chat_typing,
            commands::chat::chat_pending_notifications,
            commands::chat::chat_mark_notified,
            commands::chat::chat_mailbox_status,
        ])
        .events(collect_events![NodeEventMessage])
        // Counters and timestamps (u64, i64) stay far below 2^53; the UI
        // reads them as plain numbers.
        .dangerously_cast_bigints_to_number()
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use specta_typescript::Typescript;

    use super::*;

    /// The checked-in bindings, relative to this crate.
    const CHECKED_IN: &str = "../ui/src/backend/bindings.ts";

    /// Opts the file out of type checking (the UI's strict settings reject
    /// some generated helpers; the UI's own code checks every use of it)
    /// and says how to regenerate it.
    const HEADER: &str = "// @ts-nocheck\n\
        // Regenerate with `UPDATE_BINDINGS=1 cargo test --workspace bindings_are_up_to_date`.";

    /// What every command resolves to: the shape the generated commands
    /// return, under the name the UI uses.
    const RESULT_TYPE: &str = "/** What a command resolves to: its data, or the error it failed with. */\n\
        export type Result<T, E> = { status: \"ok\"; data: T } | { status: \"error\"; error: E };";

    /// The bindings as the current Rust code defines them.
    fn render() -> String {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bindings.ts");
        builder()
            .export(Typescript::default().header(HEADER).with_raw(RESULT_TYPE), &path)
            .unwrap();
        tidy(&std::fs::read_to_string(&path).unwrap())
    }

    /// The same text with the exporter's stray spacing removed: no trailing
    /// blanks, one space after a comment's opening, one newline at the end.
    fn tidy(text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        for line in text.lines() {
            let line = line.trim_end();
            let body = line.trim_start();
            let indent = &line[..line.len() - body.len()];
            out.push_str(indent);
            match ["/**  ", " *  ", "*  "].iter().find(|p| body.starts_with(*p)) {
                Some(prefix) => {
                    out.push_str(prefix.trim_end());
                    out.push(' ');
                    out.push_str(body[prefix.len()..].trim_start());
                }
                None => out.push_str(body),
            }
            out.push('\n');
        }
        let end = out.trim_end().len();
        out.truncate(end);
        out.push('\n');
        out
    }

    #[test]
    fn bindings_are_up_to_date() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(CHECKED_IN);
        let rendered = render();
        if std::env::var_os("UPDATE_BINDINGS").is_some_and(|v| v == "1") {
            std::fs::write(&path, &rendered).unwrap();
            return;
        }
        let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            checked_in == rendered,
            "{} is stale: commands, events or their types changed in Rust. \
             Regenerate it with `UPDATE_BINDINGS=1 cargo test --workspace bindings_are_up_to_date` \
             and commit the result.",
            path.display()
        );
    }

    #[test]
    fn rendering_is_deterministic() {
        assert_eq!(render(), render());
    }

    #[test]
    fn the_bindings_name_what_the_ui_imports() {
        let rendered = render();
        assert!(rendered.starts_with("// @ts-nocheck\n"), "{rendered}");
        for export in [
            "export const commands",
            "export const events",
            "export type NodeStatus",
            "export type NodeEvent",
            "export type ApiError",
            "export type Result<T, E>",
        ] {
            assert!(rendered.contains(export), "missing `{export}`");
        }
        assert!(
            rendered.contains("nodeStatus: () => typedError<NodeStatus, ApiError>(__TAURI_INVOKE(\"node_status\"))")
        );
        // The window hears what Rust serialises: the `_Serialize` form.
        assert!(rendered.contains("nodeEvent: makeEvent<NodeEvent_Serialize, NodeEvent_Deserialize>(\"node-event\")"));
        assert!(rendered.contains("startedAtMs: number"), "u64 fields are plain numbers");
        assert!(
            !rendered.contains("NodeEventMessage"),
            "the event's wrapper stays in Rust"
        );
    }

    #[test]
    fn tidying_removes_stray_spacing_only() {
        let text = "/**  One. */\nexport type A = {\t\n\t/**  Two. */\n\ta: string,\n};\n/**\n *  Three.\n */\n\n\n";
        assert_eq!(
            tidy(text),
            "/** One. */\nexport type A = {\n\t/** Two. */\n\ta: string,\n};\n/**\n * Three.\n */\n"
        );
    }
}
