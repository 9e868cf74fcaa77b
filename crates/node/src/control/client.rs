//! Talking to a running node's control endpoint.

use std::path::{Path, PathBuf};

use thiserror::Error;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};

use zeroize::Zeroizing;

use super::wire::{CONTROL_VERSION, Call, FailureCode, InviteRequest, MAX_LINE_BYTES, Outcome, Request, Response};
use crate::NodeStatus;
use crate::contacts::{Contact, OwnInvite, SharedCard};
use crate::identity::{IdentityState, RecoveryPhrase};
use crate::keystore::Passphrase;

/// Why a control call failed.
#[derive(Debug, Error)]
pub enum ControlError {
    /// Nothing answers at the data directory's endpoint.
    #[error(
        "no Tallymesh node is running with the data directory {} — start one with `tallymesh node run --data-dir {}`",
        data_dir.display(),
        data_dir.display()
    )]
    NotRunning {
        /// The data directory asked about.
        data_dir: PathBuf,
    },
    /// The connection broke.
    #[error("lost the connection to the node: {0}")]
    Io(String),
    /// The node answered something this client cannot read.
    #[error("the node's answer could not be read: {0}")]
    Protocol(String),
    /// The node refused or failed the call.
    #[error("{message}")]
    Refused {
        /// What kind of failure.
        code: FailureCode,
        /// The node's explanation.
        message: String,
    },
}

trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Stream for T {}

/// A connection to a running node's control endpoint.
pub struct ControlClient {
    stream: BufReader<Box<dyn Stream>>,
    next_id: u64,
}

impl std::fmt::Debug for ControlClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ControlClient").field("next_id", &self.next_id).finish()
    }
}

impl ControlClient {
    /// Connects to the node using `data_dir`.
    pub async fn connect(data_dir: &Path) -> Result<ControlClient, ControlError> {
        let path = super::endpoint_path(data_dir);
        let not_running = || ControlError::NotRunning {
            data_dir: data_dir.to_owned(),
        };
        #[cfg(unix)]
        let stream: Box<dyn Stream> = Box::new(
            tokio::net::UnixStream::connect(&path)
                .await
                .map_err(|_| not_running())?,
        );
        #[cfg(windows)]
        let stream: Box<dyn Stream> = Box::new(
            tokio::net::windows::named_pipe::ClientOptions::new()
                .open(&path)
                .map_err(|_| not_running())?,
        );
        Ok(ControlClient {
            stream: BufReader::new(stream),
            next_id: 1,
        })
    }

    /// The node's status.
    pub async fn status(&mut self) -> Result<NodeStatus, ControlError> {
        let value = self.call(Call::Status).await?;
        serde_json::from_value(value).map_err(|e| ControlError::Protocol(e.to_string()))
    }

    /// Whom the node acts for.
    pub async fn identity(&mut self) -> Result<IdentityState, ControlError> {
        let value = self.call(Call::Identity).await?;
        decode(value)
    }

    /// Creates the node's party.
    pub async fn create_identity(&mut self, display_name: &str) -> Result<IdentityState, ControlError> {
        let value = self
            .call(Call::IdentityCreate {
                display_name: display_name.to_owned(),
            })
            .await?;
        decode(value)
    }

    /// The party's recovery phrase.
    pub async fn recovery_phrase(&mut self) -> Result<RecoveryPhrase, ControlError> {
        let value = self.call(Call::IdentityPhrase).await?;
        match value.get("phrase").and_then(|p| p.as_str()) {
            Some(phrase) => Ok(RecoveryPhrase::new(phrase)),
            None => Err(ControlError::Protocol("the answer holds no phrase".to_owned())),
        }
    }

    /// An encrypted backup of the party under `passphrase`.
    pub async fn export_backup(&mut self, passphrase: &Passphrase) -> Result<Vec<u8>, ControlError> {
        use base64::Engine as _;
        let value = self
            .call(Call::IdentityExport {
                passphrase: passphrase.clone(),
            })
            .await?;
        value
            .get("backup")
            .and_then(|b| b.as_str())
            .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
            .ok_or_else(|| ControlError::Protocol("the answer holds no backup".to_owned()))
    }

    /// Restores the party of `phrase`, named `display_name`.
    pub async fn restore_from_phrase(
        &mut self,
        phrase: &RecoveryPhrase,
        display_name: &str,
    ) -> Result<IdentityState, ControlError> {
        let value = self
            .call(Call::IdentityRestorePhrase {
                phrase: phrase.clone(),
                display_name: display_name.to_owned(),
            })
            .await?;
        decode(value)
    }

    /// Restores the party of a backup file's `bytes`.
    pub async fn restore_from_backup(
        &mut self,
        backup: &[u8],
        passphrase: &Passphrase,
    ) -> Result<IdentityState, ControlError> {
        use base64::Engine as _;
        let value = self
            .call(Call::IdentityRestoreBackup {
                backup: base64::engine::general_purpose::STANDARD.encode(backup),
                passphrase: passphrase.clone(),
            })
            .await?;
        decode(value)
    }

    /// This party's card, with a new invite if asked for.
    pub async fn contact_card(&mut self, invite: Option<InviteRequest>) -> Result<SharedCard, ControlError> {
        decode(self.call(Call::ContactCard { invite }).await?)
    }

    /// Adds the party of a card link.
    pub async fn add_contact(&mut self, link: &str) -> Result<Contact, ControlError> {
        decode(self.call(Call::ContactAdd { link: link.to_owned() }).await?)
    }

    /// Every contact.
    pub async fn contacts(&mut self) -> Result<Vec<Contact>, ControlError> {
        decode(self.call(Call::ContactList).await?)
    }

    /// One contact.
    pub async fn contact(&mut self, party_id: &str) -> Result<Contact, ControlError> {
        decode(
            self.call(Call::ContactGet {
                party_id: party_id.to_owned(),
            })
            .await?,
        )
    }

    /// Forgets a contact.
    pub async fn remove_contact(&mut self, party_id: &str) -> Result<(), ControlError> {
        self.call(Call::ContactRemove {
            party_id: party_id.to_owned(),
        })
        .await
        .map(drop)
    }

    /// Every invite the party made.
    pub async fn invites(&mut self) -> Result<Vec<OwnInvite>, ControlError> {
        decode(self.call(Call::InviteList).await?)
    }

    /// Withdraws an invite.
    pub async fn revoke_invite(&mut self, token: &str) -> Result<(), ControlError> {
        self.call(Call::InviteRevoke {
            token: token.to_owned(),
        })
        .await
        .map(drop)
    }

    /// Redeems the invite on a card link (see
    /// [`crate::contacts::Contacts::redeem_link`]).
    pub async fn redeem_contact(&mut self, link: &str) -> Result<Contact, ControlError> {
        decode(self.call(Call::ContactRedeem { link: link.to_owned() }).await?)
    }

    /// A one-time enrollment link, accepted for `expires_in_secs` (an hour
    /// when `None`).
    pub async fn cadre_invite(&mut self, expires_in_secs: Option<u64>) -> Result<String, ControlError> {
        let value = self.call(Call::CadreInvite { expires_in_secs }).await?;
        match value.get("link").and_then(|l| l.as_str()) {
            Some(link) => Ok(link.to_owned()),
            None => Err(ControlError::Protocol("the answer holds no link".to_owned())),
        }
    }

    /// Joins the party of an enrollment link as one of its devices.
    pub async fn cadre_join(&mut self, link: &str, device_name: Option<&str>) -> Result<IdentityState, ControlError> {
        decode(
            self.call(Call::CadreJoin {
                link: link.to_owned(),
                device_name: device_name.map(str::to_owned),
            })
            .await?,
        )
    }

    /// The party's devices, this one first.
    pub async fn cadre_list(&mut self) -> Result<Vec<crate::cadre::CadreDevice>, ControlError> {
        decode(self.call(Call::CadreList).await?)
    }

    /// Revokes an enrolled device.
    pub async fn cadre_revoke(&mut self, peer_id: &str) -> Result<(), ControlError> {
        self.call(Call::CadreRevoke {
            peer_id: peer_id.to_owned(),
        })
        .await
        .map(drop)
    }

    /// The connected peers.
    pub async fn peers(&mut self) -> Result<Vec<crate::peers::PeerInfo>, ControlError> {
        decode(self.call(Call::Peers).await?)
    }

    /// Serves a test-network tally's ledger (see [`crate::ledger_api`]).
    pub async fn ledger_serve(
        &mut self,
        genesis: &crate::ledger_api::TestGenesis,
        peers: &[String],
    ) -> Result<crate::ledger_api::Served, ControlError> {
        decode(
            self.call(Call::LedgerServe {
                genesis: genesis.clone(),
                peers: peers.to_vec(),
            })
            .await?,
        )
    }

    /// Submits one entry (hex) or `count` test entries; the answer is
    /// `{"submitted": n}` (and `"id"` for one entry).
    pub async fn ledger_submit(
        &mut self,
        tally_id: &str,
        hex: Option<String>,
        count: Option<u64>,
    ) -> Result<serde_json::Value, ControlError> {
        self.call(Call::LedgerSubmit {
            tally_id: tally_id.to_owned(),
            hex,
            count,
        })
        .await
    }

    /// Where a served tally's ledger stands.
    pub async fn ledger_show(&mut self, tally_id: &str) -> Result<crate::ledger_api::LedgerView, ControlError> {
        decode(
            self.call(Call::LedgerShow {
                tally_id: tally_id.to_owned(),
            })
            .await?,
        )
    }

    /// Every subject with a trust score, and every contact.
    pub async fn trust_list(&mut self) -> Result<Vec<crate::trust::TrustScore>, ControlError> {
        decode(self.call(Call::TrustList).await?)
    }

    /// Everything behind one subject's trust score.
    pub async fn trust_show(&mut self, subject: &str) -> Result<crate::trust::TrustDetail, ControlError> {
        decode(
            self.call(Call::TrustShow {
                subject: subject.to_owned(),
            })
            .await?,
        )
    }

    /// Signs an attestation about `attest.party_id` and hands it on.
    pub async fn trust_attest(
        &mut self,
        attest: &crate::trust::Attest,
    ) -> Result<crate::trust::AttestationView, ControlError> {
        decode(
            self.call(Call::TrustAttest {
                party_id: attest.party_id.clone(),
                kind: attest.kind.clone(),
                score: attest.score,
                valid_days: Some(attest.valid_days),
            })
            .await?,
        )
    }

    /// Every piece of verified evidence the node keeps.
    pub async fn trust_evidence(&mut self) -> Result<Vec<crate::trust::EvidenceView>, ControlError> {
        decode(self.call(Call::TrustEvidence).await?)
    }

    /// The parameters the node scores trust with.
    pub async fn trust_config(&mut self) -> Result<tallymesh_core::trust::TrustConfig, ControlError> {
        decode(self.call(Call::TrustConfig).await?)
    }

    /// Hands a `tallymesh:` link to the node, which shows it in its window.
    pub async fn open_link(&mut self, link: &str) -> Result<(), ControlError> {
        self.call(Call::OpenLink { link: link.to_owned() }).await.map(drop)
    }

    /// Sends one call and reads its answer as `T`.
    pub async fn call_for<T: serde::de::DeserializeOwned>(&mut self, call: Call) -> Result<T, ControlError> {
        decode(self.call(call).await?)
    }

    /// Sends one call and waits for its answer.
    pub async fn call(&mut self, call: Call) -> Result<serde_json::Value, ControlError> {
        let id = self.next_id;
        self.next_id += 1;
        let request = Request {
            v: CONTROL_VERSION,
            id,
            call,
        };
        // The line may carry a passphrase or a phrase, and so may the answer.
        let mut line = Zeroizing::new(serde_json::to_vec(&request).map_err(|e| ControlError::Protocol(e.to_string()))?);
        line.push(b'\n');
        let io = |e: std::io::Error| ControlError::Io(e.to_string());
        self.stream.get_mut().write_all(&line).await.map_err(io)?;

        let mut answer = Zeroizing::new(Vec::new());
        (&mut self.stream)
            .take(MAX_LINE_BYTES as u64 * 16)
            .read_until(b'\n', &mut answer)
            .await
            .map_err(io)?;
        if answer.is_empty() {
            return Err(ControlError::Io("the node closed the connection".to_owned()));
        }
        let response: Response = serde_json::from_slice(&answer).map_err(|e| ControlError::Protocol(e.to_string()))?;
        if response.id != id && response.id != 0 {
            return Err(ControlError::Protocol(format!(
                "answer to request {} arrived for request {id}",
                response.id
            )));
        }
        match response.outcome {
            Outcome::Ok(value) => Ok(value),
            Outcome::Err(failure) => Err(ControlError::Refused {
                code: failure.code,
                message: failure.message,
            }),
        }
    }
}

fn decode<T: serde::de::DeserializeOwned>(value: serde_json::Value) -> Result<T, ControlError> {
    serde_json::from_value(value).map_err(|e| ControlError::Protocol(e.to_string()))
}
