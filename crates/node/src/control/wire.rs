//! The control protocol's messages: one JSON object per line.

use serde::{Deserialize, Serialize};
use tallymesh_core::ProtocolVersion;

use crate::contacts::InviteSpec;
use crate::identity::RecoveryPhrase;
use crate::keystore::Passphrase;

/// The control protocol version this build speaks.
pub const CONTROL_VERSION: ProtocolVersion = ProtocolVersion(1);

/// The longest request or response line accepted, newline included.
pub const MAX_LINE_BYTES: usize = 64 * 1024;

/// One call from a client.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Request {
    /// The protocol version the client speaks.
    pub v: ProtocolVersion,
    /// Chosen by the client; echoed in the response.
    pub id: u64,
    /// What to do.
    #[serde(flatten)]
    pub call: Call,
}

/// The calls a node answers. Parameters are camelCase fields beside
/// `method`. Passphrases and phrases print as `redacted` in `Debug`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "snake_case", rename_all_fields = "camelCase")]
pub enum Call {
    /// The node's [`crate::NodeStatus`].
    Status,
    /// The node's [`crate::IdentityState`].
    Identity,
    /// Creates the node's party. Result: the new [`crate::IdentityState`].
    IdentityCreate {
        /// The party's display name.
        display_name: String,
    },
    /// The recovery phrase. Result: `{"phrase": "<24 words>"}`.
    IdentityPhrase,
    /// An encrypted backup. Result: `{"backup": "<base64>"}` (standard
    /// alphabet, padded).
    IdentityExport {
        /// Protects the backup; at least 8 characters.
        passphrase: Passphrase,
    },
    /// Restores from a recovery phrase. Result: the [`crate::IdentityState`].
    IdentityRestorePhrase {
        /// The 24 words.
        phrase: RecoveryPhrase,
        /// The display name to use.
        display_name: String,
    },
    /// Restores from a backup file. Result: the [`crate::IdentityState`].
    IdentityRestoreBackup {
        /// The backup file's bytes, base64 (standard alphabet, padded).
        backup: String,
        /// The backup's passphrase.
        passphrase: Passphrase,
    },
    /// Signs this party's card. Result: a [`crate::contacts::SharedCard`].
    ContactCard {
        /// An invite for the card to carry; none when absent.
        #[serde(default)]
        invite: Option<InviteRequest>,
    },
    /// Adds the party of a `tallymesh:` card link. Result: the
    /// [`crate::contacts::Contact`].
    ContactAdd {
        /// The link.
        link: String,
    },
    /// Every contact. Result: an array of [`crate::contacts::Contact`].
    ContactList,
    /// One contact. Result: the [`crate::contacts::Contact`].
    ContactGet {
        /// Its party id.
        party_id: String,
    },
    /// Forgets a contact. Result: `{}`.
    ContactRemove {
        /// Its party id.
        party_id: String,
    },
    /// Every invite this party made. Result: an array of
    /// [`crate::contacts::OwnInvite`].
    InviteList,
    /// Withdraws an invite. Result: `{}`.
    InviteRevoke {
        /// The token, 32 hex digits.
        token: String,
    },
    /// Redeems the invite on a card link: the node reaches the inviter's
    /// devices and both parties keep each other's card. Result: the
    /// inviter as a [`crate::contacts::Contact`].
    ContactRedeem {
        /// The link.
        link: String,
    },
    /// The connected peers. Result: an array of [`crate::peers::PeerInfo`].
    Peers,
    /// Makes a one-time enrollment link on the party's main device.
    /// Result: `{"link": "tallymesh:cadre?v=1&d=…"}`.
    CadreInvite {
        /// How long it is accepted, in seconds from now (default one hour).
        #[serde(default)]
        expires_in_secs: Option<u64>,
    },
    /// Joins the party of an enrollment link as one of its devices (the
    /// node must have no identity). Result: the new
    /// [`crate::IdentityState`].
    CadreJoin {
        /// The `tallymesh:cadre?…` link.
        link: String,
        /// The name of this device on its certificate; the node's device
        /// name when absent.
        #[serde(default)]
        device_name: Option<String>,
    },
    /// The party's devices. Result: an array of
    /// [`crate::cadre::CadreDevice`], this device first.
    CadreList,
    /// Revokes an enrolled device. Result: `{}`.
    CadreRevoke {
        /// Its peer id.
        peer_id: String,
    },
    /// Serves a test-network tally's ledger and remembers where its other
    /// nodes listen. Result: a [`crate::ledger_api::Served`].
    LedgerServe {
        /// Block 0 of the tally.
        genesis: crate::ledger_api::TestGenesis,
        /// Addresses of other nodes, `…/p2p/<peer id>`.
        #[serde(default)]
        peers: Vec<String>,
    },
    /// Submits entries to a served tally: one given in hex, or `count`
    /// opaque test entries. Result: `{"submitted": n}`, with `"id"` for one
    /// entry given in hex.
    LedgerSubmit {
        /// The tally id.
        tally_id: String,
        /// One entry, hex.
        #[serde(default)]
        hex: Option<String>,
        /// How many test entries to make and submit.
        #[serde(default)]
        count: Option<u64>,
    },
    /// Where a served tally's ledger stands. Result: a
    /// [`crate::ledger_api::LedgerView`].
    LedgerShow {
        /// The tally id.
        tally_id: String,
    },
    /// Hands a `tallymesh:` link to the node, which announces it to its
    /// window (see [`crate::links`]). Result: `{}`.
    OpenLink {
        /// The link.
        link: String,
    },
    /// Every tally. Result: a list of [`crate::tallies::TallySummary`].
    TallyList,
    /// One tally. Result: a [`crate::tallies::TallyDetail`].
    TallyShow {
        /// The tally id.
        tally_id: String,
    },
    /// A page of a tally's chits. Result: a [`crate::tallies::ChitPage`].
    TallyChits {
        /// The tally id.
        tally_id: String,
        /// The cursor a previous page returned.
        #[serde(default)]
        before: Option<String>,
        /// At most this many.
        limit: u32,
    },
    /// Offers a tally. Result: its [`crate::tallies::TallySummary`].
    TallyOffer {
        /// The offer.
        offer: crate::tallies::TallyOffer,
    },
    /// Counters the partner's offer. Result: the [`crate::tallies::TallySummary`].
    TallyCounter {
        /// The tally id.
        tally_id: String,
        /// Our terms.
        terms: crate::tallies::TallyTerms,
    },
    /// Accepts the partner's offer. Result: the [`crate::tallies::TallySummary`].
    TallyAccept {
        /// The tally id.
        tally_id: String,
    },
    /// Refuses the partner's offer or withdraws ours. Result: the summary.
    TallyRefuse {
        /// The tally id.
        tally_id: String,
        /// Why.
        #[serde(default)]
        reason: String,
    },
    /// Pays the partner. Result: the [`crate::tallies::ChitView`].
    TallyPay {
        /// The tally id.
        tally_id: String,
        /// The amount, as typed in the tally's unit.
        amount: String,
        /// A note.
        #[serde(default)]
        memo: String,
    },
    /// Asks the partner to pay. Result: the chit.
    TallyInvoice {
        /// The tally id.
        tally_id: String,
        /// The amount.
        amount: String,
        /// A note.
        #[serde(default)]
        memo: String,
    },
    /// Pays the partner's invoice. Result: the chit.
    TallyApprove {
        /// The tally id.
        tally_id: String,
        /// The invoice's id.
        invoice: String,
    },
    /// Declines the partner's invoice. Result: the chit.
    TallyDecline {
        /// The tally id.
        tally_id: String,
        /// The invoice's id.
        invoice: String,
    },
    /// Changes our trading variables or call. Result: the chit.
    TallySet {
        /// The tally id.
        tally_id: String,
        /// The changes.
        setting: crate::tallies::SettingInput,
    },
    /// Asks to close the tally. Result: the chit.
    TallyClose {
        /// The tally id.
        tally_id: String,
    },
    /// Sends a text message. Result: the [`crate::chat::MessageView`].
    ChatSend {
        /// A contact's party id, or a conversation id.
        to: String,
        /// The text (at most 4,096 bytes).
        text: String,
    },
    /// Every conversation. Result: a list of
    /// [`crate::chat::ConversationView`].
    ChatList,
    /// The latest messages of a conversation, oldest first. Result: a list
    /// of [`crate::chat::MessageView`].
    ChatShow {
        /// A conversation id, or a contact's party id (its one-to-one
        /// conversation).
        conversation: String,
        /// How many (default 50).
        #[serde(default)]
        limit: Option<u32>,
    },
    /// Marks a conversation read. Result: `{"count": n}`.
    ChatRead {
        /// A conversation id.
        conversation: String,
    },
    /// Asks a contact to pay on a tally. Result: the
    /// [`crate::chat::MessageView`].
    ChatRequestPayment {
        /// A contact's party id, or a one-to-one conversation id.
        to: String,
        /// The tally id.
        tally_id: String,
        /// The amount, as typed in the tally's unit.
        amount: String,
        /// What for.
        #[serde(default)]
        memo: String,
    },
    /// Pays a payment request of a thread. Result: the payment's
    /// [`crate::chat::MessageView`].
    ChatPay {
        /// The conversation id.
        conversation: String,
        /// The request's message id.
        message_id: String,
    },
    /// Makes a group conversation. Result: the
    /// [`crate::chat::ConversationView`].
    ChatGroupCreate {
        /// Its name.
        name: String,
        /// The contacts' party ids.
        members: Vec<String>,
    },
    /// What this node's mailbox holds. Result: a
    /// [`crate::chat::MailboxStatus`].
    MailboxStatus,
    /// Every subject with a score, and every contact. Result: an array of
    /// [`crate::trust::TrustScore`].
    TrustList,
    /// Everything behind one subject's score. Result: a
    /// [`crate::trust::TrustDetail`].
    TrustShow {
        /// A party id, or a peer id.
        subject: String,
    },
    /// Signs an attestation and hands it on. Result: the
    /// [`crate::trust::AttestationView`].
    TrustAttest {
        /// The party attested.
        party_id: String,
        /// `identity`, `trade` or `service`.
        kind: String,
        /// How much, from 0 to 1.
        score: f64,
        /// For how many days it counts (default 365).
        #[serde(default)]
        valid_days: Option<u32>,
    },
    /// Every attestation kept. Result: an array of
    /// [`crate::trust::AttestationView`].
    TrustAttestations,
    /// Every piece of verified evidence kept. Result: an array of
    /// [`crate::trust::EvidenceView`].
    TrustEvidence,
    /// The parameters the node scores trust with. Result: a
    /// `tallymesh_core::trust::TrustConfig`.
    TrustConfig,
}

/// An invite asked for with a card.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct InviteRequest {
    /// Whether it may be redeemed more than once.
    #[serde(default)]
    pub reusable: bool,
    /// How long it is accepted, in seconds from now.
    pub expires_in_secs: u64,
}

impl From<InviteRequest> for InviteSpec {
    fn from(request: InviteRequest) -> Self {
        InviteSpec {
            reusable: request.reusable,
            expires_in: std::time::Duration::from_secs(request.expires_in_secs),
        }
    }
}

/// The answer to one request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Response {
    /// The protocol version the node speaks.
    pub v: ProtocolVersion,
    /// The request's id (0 when the request could not be read).
    pub id: u64,
    /// The result or the failure.
    #[serde(flatten)]
    pub outcome: Outcome,
}

/// A result or a failure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The call's result.
    Ok(serde_json::Value),
    /// Why the call failed.
    Err(Failure),
}

/// A failed call, as the client sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failure {
    /// What kind of failure, for programs.
    pub code: FailureCode,
    /// What happened, for people.
    pub message: String,
}

/// The kinds of failure a client can tell apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureCode {
    /// The line was not a request this node understands.
    BadRequest,
    /// The request spoke another protocol version.
    UnsupportedVersion,
    /// The request was longer than [`MAX_LINE_BYTES`].
    TooLarge,
    /// The node failed to carry out a well-formed request.
    Failed,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn secrets_in_calls_never_print() {
        let calls = [
            Call::IdentityExport {
                passphrase: Passphrase::new("my secret passphrase"),
            },
            Call::IdentityRestorePhrase {
                phrase: RecoveryPhrase::new("legal winner thank year"),
                display_name: "Alice".into(),
            },
            Call::IdentityRestoreBackup {
                backup: "VEFMTFlCQUs=".into(),
                passphrase: Passphrase::new("my secret passphrase"),
            },
        ];
        for call in calls {
            let printed = format!("{call:?}");
            assert!(!printed.contains("secret") && !printed.contains("winner"), "{printed}");
        }
    }

    #[test]
    fn requests_and_responses_have_the_documented_shape() {
        let request = Request {
            v: CONTROL_VERSION,
            id: 7,
            call: Call::Status,
        };
        assert_eq!(
            serde_json::to_value(&request).unwrap(),
            json!({"v": 1, "id": 7, "method": "status"})
        );

        let create = Request {
            v: CONTROL_VERSION,
            id: 8,
            call: Call::IdentityCreate {
                display_name: "Alice".into(),
            },
        };
        assert_eq!(
            serde_json::to_value(&create).unwrap(),
            json!({"v": 1, "id": 8, "method": "identity_create", "displayName": "Alice"})
        );
        let export: Request =
            serde_json::from_value(json!({"v": 1, "id": 9, "method": "identity_export", "passphrase": "pass word"}))
                .unwrap();
        assert_eq!(
            export.call,
            Call::IdentityExport {
                passphrase: Passphrase::new("pass word")
            }
        );

        let card: Request = serde_json::from_value(
            json!({"v": 1, "id": 10, "method": "contact_card", "invite": {"reusable": true, "expiresInSecs": 60}}),
        )
        .unwrap();
        assert_eq!(
            card.call,
            Call::ContactCard {
                invite: Some(InviteRequest {
                    reusable: true,
                    expires_in_secs: 60
                })
            }
        );
        let join: Request = serde_json::from_value(
            json!({"v": 1, "id": 12, "method": "cadre_join", "link": "tallymesh:cadre?v=1&d=x", "deviceName": "Box"}),
        )
        .unwrap();
        assert_eq!(
            join.call,
            Call::CadreJoin {
                link: "tallymesh:cadre?v=1&d=x".into(),
                device_name: Some("Box".into())
            }
        );
        let invite: Request = serde_json::from_value(json!({"v": 1, "id": 13, "method": "cadre_invite"})).unwrap();
        assert_eq!(invite.call, Call::CadreInvite { expires_in_secs: None });
        let plain: Request = serde_json::from_value(json!({"v": 1, "id": 11, "method": "contact_card"})).unwrap();
        assert_eq!(plain.call, Call::ContactCard { invite: None });
        assert_eq!(
            serde_json::to_value(Call::ContactRemove {
                party_id: "did:key:z6Mk".into()
            })
            .unwrap(),
            json!({"method": "contact_remove", "partyId": "did:key:z6Mk"})
        );

        let ok = Response {
            v: CONTROL_VERSION,
            id: 7,
            outcome: Outcome::Ok(json!({"a": 1})),
        };
        assert_eq!(
            serde_json::to_value(&ok).unwrap(),
            json!({"v": 1, "id": 7, "ok": {"a": 1}})
        );

        let err = Response {
            v: CONTROL_VERSION,
            id: 0,
            outcome: Outcome::Err(Failure {
                code: FailureCode::BadRequest,
                message: "m".into(),
            }),
        };
        assert_eq!(
            serde_json::to_value(&err).unwrap(),
            json!({"v": 1, "id": 0, "err": {"code": "bad_request", "message": "m"}})
        );
    }
}
