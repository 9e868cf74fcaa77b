//! Errors as they cross from Rust to the window: a small set of codes the
//! UI can act on, and a message for people.

use serde::Serialize;
use tallymesh_node::cadre::CadreError;
use tallymesh_node::contacts::{ContactError, RedeemError};
use tallymesh_node::links::LinkError;
use tallymesh_node::tallies::TallyError;
use tallymesh_node::trust::TrustError;
use tallymesh_node::{IdentityError, KeystoreError, NodeError};

/// What kind of failure a command met. The set stays small and grows only
/// when the UI needs to tell two cases apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub enum ApiErrorCode {
    /// The request itself is wrong; asking again unchanged will not help.
    InvalidInput,
    /// What the request names (a tally) is not on this device.
    NotFound,
    /// The node is not running or cannot be reached right now.
    Unavailable,
    /// The data directory or the database failed.
    Storage,
    /// Something failed that the user cannot act on.
    Internal,
}

/// An error crossing the command boundary: a small set of codes the UI can
/// act on, and a message for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type, thiserror::Error)]
#[error("{message}")]
pub struct ApiError {
    /// What kind of failure this is.
    pub code: ApiErrorCode,
    /// What happened, in words a person can act on.
    pub message: String,
}

impl ApiError {
    /// An error of kind `code` that says `message`.
    pub fn new(code: ApiErrorCode, message: impl Into<String>) -> Self {
        ApiError {
            code,
            message: message.into(),
        }
    }
}

impl From<NodeError> for ApiError {
    fn from(error: NodeError) -> Self {
        let code = match &error {
            NodeError::DataDir { .. } | NodeError::Store(_) | NodeError::Ledger(_) | NodeError::Chat(_) => {
                ApiErrorCode::Storage
            }
            NodeError::AlreadyRunning { .. } | NodeError::Net(_) | NodeError::Control { .. } | NodeError::Stopped => {
                ApiErrorCode::Unavailable
            }
            NodeError::Keystore(error) => keystore_code(error),
            NodeError::Identity(error) => identity_code(error),
            NodeError::InvalidConfig(_) => ApiErrorCode::InvalidInput,
        };
        ApiError::new(code, sentence(&error.to_string()))
    }
}

/// A message as the window shows it: the node's messages are written to
/// sit after "error:" on a command line; the window shows them alone, as a
/// sentence with a capital letter and a full stop.
pub(crate) fn sentence(message: &str) -> String {
    let message = message.trim();
    let mut chars = message.chars();
    let Some(first) = chars.next() else {
        return String::new();
    };
    let mut text: String = first.to_uppercase().chain(chars).collect();
    if !text.ends_with(['.', '!', '?', ')', '"']) {
        text.push('.');
    }
    text
}

impl From<ContactError> for ApiError {
    fn from(error: ContactError) -> Self {
        match error {
            ContactError::Node(error) => error.into(),
            // Everything else is about the card, link, image or invite
            // given: the message says what is wrong with it.
            other => ApiError::new(ApiErrorCode::InvalidInput, other.to_string()),
        }
    }
}

impl From<RedeemError> for ApiError {
    fn from(error: RedeemError) -> Self {
        match error {
            RedeemError::Card(error) => error.into(),
            RedeemError::Unreachable { .. } => ApiError::new(ApiErrorCode::Unavailable, error.to_string()),
            other => ApiError::new(ApiErrorCode::InvalidInput, other.to_string()),
        }
    }
}

impl From<CadreError> for ApiError {
    fn from(error: CadreError) -> Self {
        match error {
            CadreError::Node(error) => error.into(),
            CadreError::Unreachable { .. } => ApiError::new(ApiErrorCode::Unavailable, sentence(&error.to_string())),
            // The link, the device named or the main device's answer: the
            // message says what is wrong and what to do.
            other => ApiError::new(ApiErrorCode::InvalidInput, sentence(&other.to_string())),
        }
    }
}

impl From<TallyError> for ApiError {
    fn from(error: TallyError) -> Self {
        match error {
            TallyError::Node(error) => error.into(),
            TallyError::NotFound(_) => ApiError::new(ApiErrorCode::NotFound, sentence(&error.to_string())),
            // The tally named, the amount, the terms or the rules: the message says what is
            // wrong and what can be done.
            other => ApiError::new(ApiErrorCode::InvalidInput, sentence(&other.to_string())),
        }
    }
}

impl From<TrustError> for ApiError {
    fn from(error: TrustError) -> Self {
        match error {
            TrustError::Node(error) => error.into(),
            // The subject named, the score or kind given, or a record that
            // does not verify: the message says what is wrong.
            other => ApiError::new(ApiErrorCode::InvalidInput, sentence(&other.to_string())),
        }
    }
}

impl From<LinkError> for ApiError {
    fn from(error: LinkError) -> Self {
        ApiError::new(ApiErrorCode::InvalidInput, error.to_string())
    }
}

fn keystore_code(error: &KeystoreError) -> ApiErrorCode {
    match error {
        KeystoreError::WrongPassphrase { .. } | KeystoreError::WeakPassphrase => ApiErrorCode::InvalidInput,
        KeystoreError::KeychainUnavailable { .. }
        | KeystoreError::Keychain { .. }
        | KeystoreError::WrongBackend { .. } => ApiErrorCode::Unavailable,
        KeystoreError::KeyFileDamaged { .. } | KeystoreError::KeyFile { .. } | KeystoreError::BadSecret { .. } => {
            ApiErrorCode::Storage
        }
        KeystoreError::Random(_) | KeystoreError::Task(_) => ApiErrorCode::Internal,
    }
}

fn identity_code(error: &IdentityError) -> ApiErrorCode {
    match error {
        IdentityError::AlreadyExists { .. }
        | IdentityError::OtherParty { .. }
        | IdentityError::BadDisplayName
        | IdentityError::BadPhrase(_)
        | IdentityError::WrongBackupPassphrase
        | IdentityError::BadBackup(_)
        | IdentityError::WeakPassphrase
        | IdentityError::NotTheMainDevice { .. } => ApiErrorCode::InvalidInput,
        IdentityError::NoIdentity => ApiErrorCode::Unavailable,
        IdentityError::SecretMissing { .. } | IdentityError::Damaged(_) => ApiErrorCode::Storage,
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use tallymesh_node::{Node, NodeConfig};

    use super::*;

    fn code_of(error: impl Into<NodeError>) -> ApiErrorCode {
        ApiError::from(error.into()).code
    }

    #[test]
    fn the_code_serialises_in_camel_case_next_to_the_message() {
        let error = ApiError::new(ApiErrorCode::InvalidInput, "no");
        let json = serde_json::to_value(&error).unwrap();
        assert_eq!(json, serde_json::json!({"code": "invalidInput", "message": "no"}));
    }

    #[test]
    fn an_unusable_data_directory_is_a_storage_error_with_the_nodes_message() {
        let error = NodeError::DataDir {
            path: PathBuf::from("/data"),
            reason: "permission denied".into(),
        };
        let api = ApiError::from(error);
        assert_eq!(api.code, ApiErrorCode::Storage);
        assert_eq!(api.message, "Cannot use the data directory /data: permission denied.");
    }

    #[test]
    fn a_node_that_is_not_there_is_unavailable() {
        assert_eq!(code_of(NodeError::Stopped), ApiErrorCode::Unavailable);
        assert_eq!(
            code_of(NodeError::AlreadyRunning { path: "/data".into() }),
            ApiErrorCode::Unavailable
        );
        assert_eq!(
            code_of(NodeError::Control {
                path: "/data/control.sock".into(),
                reason: "in use".into()
            }),
            ApiErrorCode::Unavailable
        );
    }

    #[test]
    fn keystore_errors_say_whether_the_user_can_fix_them() {
        assert_eq!(
            code_of(KeystoreError::WrongPassphrase { path: "/k".into() }),
            ApiErrorCode::InvalidInput
        );
        assert_eq!(
            code_of(KeystoreError::KeychainUnavailable {
                reason: "no session".into()
            }),
            ApiErrorCode::Unavailable
        );
        assert_eq!(
            code_of(KeystoreError::KeyFileDamaged {
                path: "/k".into(),
                reason: "short".into()
            }),
            ApiErrorCode::Storage
        );
        assert_eq!(code_of(KeystoreError::Task("panicked".into())), ApiErrorCode::Internal);
    }

    #[test]
    fn refused_identity_operations_are_invalid_input() {
        assert_eq!(code_of(IdentityError::BadDisplayName), ApiErrorCode::InvalidInput);
        assert_eq!(
            code_of(IdentityError::WrongBackupPassphrase),
            ApiErrorCode::InvalidInput
        );
        assert_eq!(code_of(IdentityError::NoIdentity), ApiErrorCode::Unavailable);
        assert_eq!(
            code_of(IdentityError::NotTheMainDevice {
                display_name: "Alice".into()
            }),
            ApiErrorCode::InvalidInput
        );
        assert_eq!(code_of(IdentityError::Damaged("x".into())), ApiErrorCode::Storage);
    }

    #[test]
    fn node_messages_become_sentences_for_the_window() {
        let api = ApiError::from(NodeError::Identity(IdentityError::WrongBackupPassphrase));
        assert_eq!(
            api.message,
            "Wrong passphrase for this backup (or the file has been altered); nothing was changed."
        );
        assert_eq!(sentence("This is fine."), "This is fine.");
        assert_eq!(sentence(""), "");
    }

    #[test]
    fn refused_cards_and_links_are_invalid_input_with_the_nodes_sentence() {
        let api = ApiError::from(ContactError::Tampered);
        assert_eq!(api.code, ApiErrorCode::InvalidInput);
        assert_eq!(
            api.message,
            "This link was changed after it was made, so it can't be trusted."
        );
        assert_eq!(ApiError::from(ContactError::OwnCard).code, ApiErrorCode::InvalidInput);
        assert_eq!(ApiError::from(LinkError::NotALink).code, ApiErrorCode::InvalidInput);
        let api = ApiError::from(ContactError::Node(NodeError::Stopped));
        assert_eq!(api.code, ApiErrorCode::Unavailable);
    }

    #[test]
    fn refused_cadre_operations_say_why_in_a_sentence() {
        let api = ApiError::from(CadreError::ThisDevice);
        assert_eq!(api.code, ApiErrorCode::InvalidInput);
        assert_eq!(
            api.message,
            "This is the party's main device itself; it cannot be revoked from here."
        );
        let api = ApiError::from(CadreError::UnknownDevice("12D3KooW".into()));
        assert_eq!(api.code, ApiErrorCode::InvalidInput);
        assert!(
            api.message.starts_with("No device with the peer id 12D3KooW"),
            "{}",
            api.message
        );
        let api = ApiError::from(CadreError::BadAnswer {
            name: "Alice".into(),
            reason: "the card is another party's".into(),
        });
        assert_eq!(
            api.message,
            "Alice's device gave an answer that can't be trusted (the card is another party's); nothing was kept."
        );
        let api = ApiError::from(CadreError::Unreachable {
            name: "Alice".into(),
            reason: "no answer in time".into(),
        });
        assert_eq!(api.code, ApiErrorCode::Unavailable);
        assert!(
            api.message.starts_with("Could not reach Alice's devices"),
            "{}",
            api.message
        );
    }

    #[test]
    fn a_member_device_is_told_to_use_the_main_device() {
        let api = ApiError::from(CadreError::Node(NodeError::Identity(IdentityError::NotTheMainDevice {
            display_name: "Alice".into(),
        })));
        assert_eq!(api.code, ApiErrorCode::InvalidInput);
        assert!(api.message.contains("Alice"), "{}", api.message);
        assert!(api.message.ends_with('.'), "{}", api.message);
        let api = ApiError::from(CadreError::Node(NodeError::Identity(IdentityError::NoIdentity)));
        assert_eq!(api.code, ApiErrorCode::Unavailable);
    }

    #[test]
    fn a_tally_that_is_not_there_has_its_own_code_and_bad_input_stays_invalid_input() {
        let api = ApiError::from(TallyError::NotFound("01900000-0000-7000-8000-000000000000".into()));
        assert_eq!(api.code, ApiErrorCode::NotFound);
        assert_eq!(api.message, "There is no tally 01900000-0000-7000-8000-000000000000.");
        assert_eq!(
            serde_json::to_value(&api).unwrap()["code"],
            serde_json::json!("notFound")
        );
        assert_eq!(
            ApiError::from(TallyError::BadId("nope".into())).code,
            ApiErrorCode::InvalidInput
        );
        assert_eq!(ApiError::from(TallyError::NotOpen).code, ApiErrorCode::InvalidInput);
    }

    #[tokio::test]
    async fn a_damaged_database_is_a_storage_error_and_is_left_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let database = dir.path().join("tallymesh.sqlite");
        let garbage = b"this is not a database".repeat(100);
        std::fs::write(&database, &garbage).unwrap();

        let error = Node::start(NodeConfig::new(dir.path().to_owned()).with_lan_discovery(false))
            .await
            .unwrap_err();
        let api = ApiError::from(error);

        assert_eq!(api.code, ApiErrorCode::Storage);
        assert!(api.message.contains("tallymesh.sqlite"), "{}", api.message);
        assert!(api.message.contains("left untouched"), "{}", api.message);
        assert_eq!(std::fs::read(&database).unwrap(), garbage);
    }
}
