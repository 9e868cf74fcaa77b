//! Commands about chat: conversations, messages, receipts, typing, payment
//! requests paid from the thread, groups, and the mailbox.

use tallymesh_node::chat::{ChatError, ConversationView, MailboxStatus, MessageView};
use tauri::State;

use crate::error::{ApiError, ApiErrorCode, sentence};
use crate::node::NodeState;

impl From<ChatError> for ApiError {
    fn from(error: ChatError) -> Self {
        match error {
            ChatError::Node(error) => error.into(),
            ChatError::Tally(error) => error.into(),
            // The contact, the message, the group or the request named:
            // the message says what is wrong.
            other => ApiError::new(ApiErrorCode::InvalidInput, sentence(&other.to_string())),
        }
    }
}

/// Every conversation, the latest first, with unread counts and presence.
#[tauri::command]
#[specta::specta]
pub async fn chat_conversations(node: State<'_, NodeState>) -> Result<Vec<ConversationView>, ApiError> {
    Ok(node.running()?.chat().conversations().await?)
}

/// The one-to-one conversation with a contact, made if there is none.
#[tauri::command]
#[specta::specta]
pub async fn chat_conversation_with(
    node: State<'_, NodeState>,
    party_id: String,
) -> Result<ConversationView, ApiError> {
    Ok(node.running()?.chat().conversation_with(&party_id).await?)
}

/// Up to `limit` messages of a conversation, oldest first, before the
/// message `before` (the latest when absent).
#[tauri::command]
#[specta::specta]
pub async fn chat_messages(
    node: State<'_, NodeState>,
    conversation: String,
    before: Option<String>,
    limit: u32,
) -> Result<Vec<MessageView>, ApiError> {
    Ok(node
        .running()?
        .chat()
        .messages(&conversation, before.as_deref(), limit)
        .await?)
}

/// Sends a text message in a conversation.
#[tauri::command]
#[specta::specta]
pub async fn chat_send(
    node: State<'_, NodeState>,
    conversation: String,
    text: String,
) -> Result<MessageView, ApiError> {
    Ok(node.running()?.chat().send_text(&conversation, &text).await?)
}

/// Asks the other party of a conversation to pay `amount` on a tally.
#[tauri::command]
#[specta::specta]
pub async fn chat_request_payment(
    node: State<'_, NodeState>,
    conversation: String,
    tally_id: String,
    amount: String,
    memo: String,
) -> Result<MessageView, ApiError> {
    Ok(node
        .running()?
        .chat()
        .request_payment(&conversation, &tally_id, &amount, &memo)
        .await?)
}

/// Pays a payment request of a conversation from its tally.
#[tauri::command]
#[specta::specta]
pub async fn chat_pay(
    node: State<'_, NodeState>,
    conversation: String,
    message_id: String,
) -> Result<MessageView, ApiError> {
    Ok(node.running()?.chat().pay(&conversation, &message_id).await?)
}

/// Makes a group conversation with contacts.
#[tauri::command]
#[specta::specta]
pub async fn chat_create_group(
    node: State<'_, NodeState>,
    name: String,
    members: Vec<String>,
) -> Result<ConversationView, ApiError> {
    Ok(node.running()?.chat().create_group(&name, &members).await?)
}

/// Marks a conversation read; its senders get read receipts.
#[tauri::command]
#[specta::specta]
pub async fn chat_mark_read(node: State<'_, NodeState>, conversation: String) -> Result<u32, ApiError> {
    Ok(node.running()?.chat().mark_read(&conversation).await?)
}

/// Tells the other parties that we started or stopped typing.
#[tauri::command]
#[specta::specta]
pub async fn chat_typing(node: State<'_, NodeState>, conversation: String, typing: bool) -> Result<(), ApiError> {
    Ok(node.running()?.chat().typing(&conversation, typing).await?)
}

/// Received messages whose notification was not shown yet.
#[tauri::command]
#[specta::specta]
pub async fn chat_pending_notifications(node: State<'_, NodeState>) -> Result<Vec<MessageView>, ApiError> {
    Ok(node.running()?.chat().pending_notifications().await?)
}

/// Marks a message's notification shown.
#[tauri::command]
#[specta::specta]
pub async fn chat_mark_notified(
    node: State<'_, NodeState>,
    conversation: String,
    message_id: String,
) -> Result<(), ApiError> {
    Ok(node.running()?.chat().mark_notified(&conversation, &message_id).await?)
}

/// What this device's mailbox holds.
#[tauri::command]
#[specta::specta]
pub async fn chat_mailbox_status(node: State<'_, NodeState>) -> Result<MailboxStatus, ApiError> {
    Ok(node.running()?.chat().mailbox_status().await?)
}
