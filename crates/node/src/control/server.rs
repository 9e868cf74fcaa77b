//! Serving the control endpoint.

use std::path::{Path, PathBuf};

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::task::JoinHandle;

use super::wire::{CONTROL_VERSION, Call, Failure, FailureCode, MAX_LINE_BYTES, Outcome, Request, Response};
use crate::{Node, NodeError};

/// The running endpoint; stopping it removes the socket.
#[derive(Debug)]
pub(crate) struct ControlServer {
    path: PathBuf,
    task: JoinHandle<()>,
}

impl ControlServer {
    /// Starts answering requests for `node` at the endpoint of `data_dir`.
    pub(crate) fn serve(data_dir: &Path, node: Node) -> Result<ControlServer, NodeError> {
        let path = super::endpoint_path(data_dir);
        let task = listen(&path, node).map_err(|reason| NodeError::Control {
            path: path.clone(),
            reason,
        })?;
        Ok(ControlServer { path, task })
    }

    /// Stops accepting requests and removes the socket file.
    pub(crate) async fn stop(self) {
        self.task.abort();
        let _ = self.task.await;
        #[cfg(unix)]
        let _ = std::fs::remove_file(&self.path);
    }
}

#[cfg(unix)]
fn listen(path: &Path, node: Node) -> Result<JoinHandle<()>, String> {
    use std::os::unix::fs::PermissionsExt;

    // Sockets are limited to about 100 bytes of path on every Unix.
    const MAX_SOCKET_PATH: usize = 100;
    if path.as_os_str().len() > MAX_SOCKET_PATH {
        return Err(format!(
            "the path is longer than the {MAX_SOCKET_PATH} bytes a socket allows; choose a shorter data directory"
        ));
    }
    // We hold the data directory's lock, so a socket left here is stale:
    // its node died without cleaning up.
    match std::fs::remove_file(path) {
        Ok(()) => tracing::debug!(path = %path.display(), "removed stale control socket"),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e.to_string()),
    }
    let listener = tokio::net::UnixListener::bind(path).map_err(|e| e.to_string())?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(|e| e.to_string())?;
    Ok(tokio::spawn(async move {
        loop {
            match listener.accept().await {
                Ok((stream, _)) => {
                    tokio::spawn(serve_connection(stream, node.clone()));
                }
                Err(e) => {
                    tracing::warn!(error = %e, "control endpoint accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                }
            }
        }
    }))
}

#[cfg(windows)]
fn listen(path: &Path, node: Node) -> Result<JoinHandle<()>, String> {
    use tokio::net::windows::named_pipe::ServerOptions;

    let name = path.as_os_str().to_owned();
    let mut server = ServerOptions::new()
        .first_pipe_instance(true)
        .reject_remote_clients(true)
        .create(&name)
        .map_err(|e| e.to_string())?;
    Ok(tokio::spawn(async move {
        loop {
            if let Err(e) = server.connect().await {
                tracing::warn!(error = %e, "control endpoint connect failed");
                continue;
            }
            let next = match ServerOptions::new().reject_remote_clients(true).create(&name) {
                Ok(next) => next,
                Err(e) => {
                    tracing::warn!(error = %e, "control endpoint stopped");
                    return;
                }
            };
            let connected = std::mem::replace(&mut server, next);
            tokio::spawn(serve_connection(connected, node.clone()));
        }
    }))
}

/// Answers requests on one connection, one line at a time, until the
/// client hangs up or sends a line over the limit.
async fn serve_connection<S: AsyncRead + AsyncWrite + Unpin>(stream: S, node: Node) {
    let (reader, mut writer) = tokio::io::split(stream);
    let mut reader = BufReader::new(reader);
    loop {
        // Lines may carry a passphrase or a recovery phrase: wipe them.
        let mut line = zeroize::Zeroizing::new(Vec::new());
        let read = (&mut reader)
            .take(MAX_LINE_BYTES as u64)
            .read_until(b'\n', &mut line)
            .await;
        match read {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let too_large = !line.ends_with(b"\n") && line.len() >= MAX_LINE_BYTES;
        let response = if too_large {
            refusal(
                0,
                FailureCode::TooLarge,
                format!("requests are limited to {MAX_LINE_BYTES} bytes"),
            )
        } else {
            answer(&node, &line).await
        };
        let mut bytes = zeroize::Zeroizing::new(serde_json::to_vec(&response).unwrap_or_default());
        bytes.push(b'\n');
        if writer.write_all(&bytes).await.is_err() || too_large {
            return;
        }
    }
}

/// The response to one request line.
pub(crate) async fn answer(node: &Node, line: &[u8]) -> Response {
    #[derive(serde::Deserialize)]
    struct Header {
        v: tallymesh_core::ProtocolVersion,
        #[serde(default)]
        id: u64,
    }
    let header: Header = match serde_json::from_slice(line) {
        Ok(header) => header,
        Err(e) => return refusal(0, FailureCode::BadRequest, format!("not a control request: {e}")),
    };
    if let Err(e) = tallymesh_core::ProtocolVersion::check(header.v, &[CONTROL_VERSION]) {
        return refusal(header.id, FailureCode::UnsupportedVersion, e.to_string());
    }
    let request: Request = match serde_json::from_slice(line) {
        Ok(request) => request,
        Err(e) => return refusal(header.id, FailureCode::BadRequest, format!("unknown request: {e}")),
    };
    let result = carry_out(node, request.call).await;
    let outcome = match result {
        Ok(value) => Outcome::Ok(value),
        Err(e) => Outcome::Err(Failure {
            code: FailureCode::Failed,
            message: e.to_string(),
        }),
    };
    Response {
        v: CONTROL_VERSION,
        id: request.id,
        outcome,
    }
}

/// Carries out one well-formed call.
async fn carry_out(node: &Node, call: Call) -> Result<serde_json::Value, Box<dyn std::error::Error + Send + Sync>> {
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD;

    let identity = node.identity();
    let contacts = node.contacts();
    Ok(match call {
        Call::Status => json(&node.status().await?),
        Call::Identity => json(&identity.state().await?),
        Call::IdentityCreate { display_name } => json(&identity.create(&display_name).await?),
        Call::IdentityPhrase => {
            let phrase = identity.recovery_phrase().await?;
            serde_json::json!({ "phrase": phrase.expose() })
        }
        Call::IdentityExport { passphrase } => {
            let backup = identity.export_backup(&passphrase).await?;
            serde_json::json!({ "backup": STANDARD.encode(backup) })
        }
        Call::IdentityRestorePhrase { phrase, display_name } => {
            json(&identity.restore_from_phrase(&phrase, &display_name).await?)
        }
        Call::IdentityRestoreBackup { backup, passphrase } => {
            let bytes = STANDARD
                .decode(backup.trim())
                .map_err(|_| crate::IdentityError::BadBackup("the backup is not valid base64".to_owned()))
                .map_err(NodeError::from)?;
            json(&identity.restore_from_backup(&bytes, &passphrase).await?)
        }
        Call::ContactCard { invite } => {
            let card = contacts.my_card(invite.map(Into::into)).await?;
            json(&crate::contacts::SharedCard::of(&card))
        }
        Call::ContactAdd { link } => json(&contacts.add_from_link(&link).await?),
        Call::ContactList => json(&contacts.list().await?),
        Call::ContactGet { party_id } => json(&contacts.get(&party_id).await?),
        Call::ContactRemove { party_id } => {
            contacts.remove(&party_id).await?;
            serde_json::json!({})
        }
        Call::InviteList => json(&contacts.list_invites().await?),
        Call::InviteRevoke { token } => {
            contacts.revoke_invite(&token).await?;
            serde_json::json!({})
        }
        Call::ContactRedeem { link } => json(&contacts.redeem_link(&link).await?),
        Call::CadreInvite { expires_in_secs } => {
            let expires_in = expires_in_secs
                .map(std::time::Duration::from_secs)
                .unwrap_or(crate::cadre::DEFAULT_INVITE_EXPIRY);
            serde_json::json!({ "link": node.cadre().invite(expires_in).await? })
        }
        Call::CadreJoin { link, device_name } => json(&node.cadre().join(&link, device_name.as_deref()).await?),
        Call::CadreList => json(&node.cadre().list().await?),
        Call::CadreRevoke { peer_id } => {
            node.cadre().revoke(&peer_id).await?;
            serde_json::json!({})
        }
        Call::Peers => json(&node.peers().await?),
        Call::LedgerServe { genesis, peers } => {
            let peers = peers
                .iter()
                .map(|p| {
                    p.trim()
                        .parse()
                        .map_err(|_| crate::ledger_api::LedgerError::BadAddress(p.chars().take(200).collect()))
                })
                .collect::<Result<Vec<crate::Multiaddr>, _>>()?;
            json(&node.ledger().serve(&genesis, &peers).await?)
        }
        Call::LedgerSubmit { tally_id, hex, count } => match (hex, count) {
            (Some(hex), None) => {
                let entry = crate::ledger_api::unhex(hex.trim())
                    .filter(|e| !e.is_empty())
                    .ok_or("the entry is not hex digits (two per byte, at least one byte)")?;
                let id = node.ledger().submit(&tally_id, entry).await?;
                serde_json::json!({ "submitted": 1, "id": id })
            }
            (None, Some(count)) => {
                let submitted = node.ledger().submit_test_entries(&tally_id, count).await?;
                serde_json::json!({ "submitted": submitted })
            }
            _ => return Err("give either one entry in hex or a count of test entries".into()),
        },
        Call::LedgerShow { tally_id } => json(&node.ledger().show(&tally_id).await?),
        Call::OpenLink { link } => {
            node.open_link(&link)?;
            serde_json::json!({})
        }
        Call::TallyList => json(&node.tallies().list().await?),
        Call::TallyShow { tally_id } => json(&node.tallies().get(&tally_id).await?),
        Call::TallyChits {
            tally_id,
            before,
            limit,
        } => json(&node.tallies().chits(&tally_id, before.as_deref(), limit).await?),
        Call::TallyOffer { offer } => json(&node.tallies().propose(offer).await?),
        Call::TallyCounter { tally_id, terms } => json(&node.tallies().counter(&tally_id, terms).await?),
        Call::TallyAccept { tally_id } => json(&node.tallies().accept(&tally_id).await?),
        Call::TallyRefuse { tally_id, reason } => json(&node.tallies().refuse(&tally_id, &reason).await?),
        Call::TallyPay { tally_id, amount, memo } => json(&node.tallies().pay(&tally_id, &amount, &memo).await?),
        Call::TallyInvoice { tally_id, amount, memo } => {
            json(&node.tallies().invoice(&tally_id, &amount, &memo).await?)
        }
        Call::TallyApprove { tally_id, invoice } => json(&node.tallies().approve(&tally_id, &invoice).await?),
        Call::TallyDecline { tally_id, invoice } => json(&node.tallies().decline(&tally_id, &invoice).await?),
        Call::TallySet { tally_id, setting } => json(&node.tallies().set(&tally_id, &setting).await?),
        Call::TallyClose { tally_id } => json(&node.tallies().close(&tally_id).await?),
        Call::ChatSend { to, text } => json(&node.chat().send_text(&to, &text).await?),
        Call::ChatList => json(&node.chat().conversations().await?),
        Call::ChatShow { conversation, limit } => {
            let chat = node.chat();
            let id = if conversation.trim().starts_with("did:key:") {
                chat.conversation_with(&conversation).await?.id
            } else {
                conversation
            };
            json(&chat.messages(&id, None, limit.unwrap_or(50)).await?)
        }
        Call::ChatRead { conversation } => {
            serde_json::json!({ "count": node.chat().mark_read(&conversation).await? })
        }
        Call::ChatRequestPayment {
            to,
            tally_id,
            amount,
            memo,
        } => json(&node.chat().request_payment(&to, &tally_id, &amount, &memo).await?),
        Call::ChatPay {
            conversation,
            message_id,
        } => json(&node.chat().pay(&conversation, &message_id).await?),
        Call::ChatGroupCreate { name, members } => json(&node.chat().create_group(&name, &members).await?),
        Call::MailboxStatus => json(&node.chat().mailbox_status().await?),
        Call::TrustList => json(&node.trust().list().await?),
        Call::TrustShow { subject } => json(&node.trust().show(&subject).await?),
        Call::TrustAttest {
            party_id,
            kind,
            score,
            valid_days,
        } => json(
            &node
                .trust()
                .attest(crate::trust::Attest {
                    party_id,
                    kind,
                    score,
                    valid_days: valid_days.unwrap_or(365),
                })
                .await?,
        ),
        Call::TrustAttestations => json(&node.trust().attestations().await?),
        Call::TrustEvidence => json(&node.trust().evidence().await?),
        Call::TrustConfig => json(&node.trust().config()),
    })
}

/// A result as JSON. Our result types are plain structs and enums, so
/// serialising them cannot fail.
fn json<T: serde::Serialize>(value: &T) -> serde_json::Value {
    serde_json::to_value(value).unwrap_or_default()
}

fn refusal(id: u64, code: FailureCode, message: String) -> Response {
    Response {
        v: CONTROL_VERSION,
        id,
        outcome: Outcome::Err(Failure { code, message }),
    }
}
