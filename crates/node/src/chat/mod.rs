//! End-to-end encrypted chat with contacts: `node.chat()`.
//!
//! Every device that chats has an Olm account; its Curve25519 identity key
//! is in the device's certificate, which the party signs, so a message is
//! known to come from a device of the party it claims. Messages of a
//! one-to-one conversation are encrypted with Olm for every chatting
//! device of the other party and for this party's own other devices; a
//! group conversation's messages are encrypted once with the sender's
//! Megolm session, whose room key goes to each device over Olm first.
//!
//! Delivery is direct (`/tallymesh/chat/1`) when the device answers;
//! otherwise the ciphertext is left with another device of the
//! recipient's party — its **mailbox**, e.g. an always-on headless node —
//! which holds it (ciphertext only, with an expiry) until the device
//! fetches it. Mailboxes also hand out the device's one-time keys, so a
//! session can start while the device is away. See
//! `docs/protocol/chat.md`.
//!
//! ```no_run
//! # async fn example(node: tallymesh_node::Node, bob: &str) -> Result<(), tallymesh_node::chat::ChatError> {
//! let chat = node.chat();
//! let sent = chat.send_text(bob, "Lunch at one?").await?;
//! for message in chat.messages(&sent.conversation, None, 50).await? {
//!     println!("{:?} {:?}", message.status, message.body);
//! }
//! # Ok(()) }
//! ```

mod at_rest;
mod crypto;
mod deliver;
mod wire;
mod writer;

use std::collections::{HashMap, HashSet};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tallymesh_core::device::DeviceCertificate;
use tallymesh_core::record::Signed;
use tallymesh_core::{PartyId, SecretKey};
use tallymesh_net::PeerId;
use tallymesh_protocol::chat::{
    Body, ChatEvent, ConversationId, GroupInfo, MAX_GROUP_MEMBERS, MessageId, SealedItem, Ulid, direct_conversation,
};
use tallymesh_store::{ChatWrite, ConversationRow, MessageRow, OutboxRow, Store};
use thiserror::Error;
use tokio::task::JoinHandle;
use zeroize::Zeroizing;

use crate::keystore::{Keystore, Purpose, SecretSeed};
use crate::tallies::TallyError;
use crate::{Node, NodeError, NodeEvent};

pub(crate) use crypto::ChatCrypto;
pub(crate) use deliver::{deliver, keep_mailboxes, note_tallies};
pub(crate) use wire::request_protocol;
pub(crate) use writer::ChatWriter;

/// How a node takes part in chat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatConfig {
    /// Whether this device chats (has an Olm account and a chat key in its
    /// certificate). A device that does not still holds mail for its
    /// party's other devices: an always-on mailbox.
    pub participate: bool,
    /// How long a message waits for a device (in the outbox, and held by
    /// a mailbox) before it is given up.
    pub item_lifetime: Duration,
    /// The longest a mailbox holds an item, whatever the sender asks.
    pub mailbox_hold: Duration,
}

impl Default for ChatConfig {
    fn default() -> Self {
        ChatConfig {
            participate: true,
            item_lifetime: Duration::from_secs(14 * 24 * 3_600),
            mailbox_hold: Duration::from_secs(30 * 24 * 3_600),
        }
    }
}

/// The most items a mailbox holds for one device.
pub const MAILBOX_ITEMS_PER_DEVICE: u64 = 10_000;

/// A conversation as the list shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ConversationView {
    /// Its id (32 hex digits).
    pub id: String,
    /// One-to-one or a group.
    pub kind: ConversationKind,
    /// The other party of a one-to-one conversation.
    pub party_id: Option<String>,
    /// The contact's name, or the group's.
    pub title: String,
    /// Everyone in it (for a one-to-one conversation: the other party).
    pub members: Vec<ChatMember>,
    /// Messages received and not read yet.
    pub unread: u32,
    /// Its latest message's time (ms since the Unix epoch).
    pub last_at_ms: u64,
    /// Its latest message.
    pub last_message: Option<MessageView>,
    /// Whether a device of the other party (of any member, for a group) is
    /// connected now.
    pub online: bool,
}

/// One-to-one or group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub enum ConversationKind {
    /// With one contact.
    Direct,
    /// With several parties.
    Group,
}

/// A party in a conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ChatMember {
    /// Its party id.
    pub party_id: String,
    /// Its name as this node knows it ("You" for this party).
    pub display_name: String,
}

/// Where a message is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub enum MessageStatus {
    /// Ours, not yet taken by any device of the recipient.
    Pending,
    /// Ours, held by a mailbox of the recipient's party.
    Held,
    /// Ours, on a device of the recipient.
    Delivered,
    /// Ours and read; or theirs and read here.
    Read,
    /// Theirs, not read yet.
    Received,
}

impl MessageStatus {
    fn of(text: &str) -> MessageStatus {
        match text {
            "held" => MessageStatus::Held,
            "delivered" => MessageStatus::Delivered,
            "read" => MessageStatus::Read,
            "received" => MessageStatus::Received,
            _ => MessageStatus::Pending,
        }
    }
}

/// What a message says, as the thread shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase", rename_all_fields = "camelCase")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub enum MessageBody {
    /// Text.
    Text {
        /// The text.
        text: String,
    },
    /// A request to be paid on a tally.
    PaymentRequest {
        /// The tally (a UUID).
        tally_id: String,
        /// The amount, in the tally's smallest unit.
        units: i64,
        /// The amount with its unit ("12.500 CHIP").
        amount: String,
        /// What for.
        memo: String,
        /// The chit that paid it, once paid (in hex).
        paid_chit: Option<String>,
    },
    /// A payment that answers a request.
    Payment {
        /// The request's message id.
        request_id: String,
        /// The tally.
        tally_id: String,
        /// The chit (in hex).
        chit_id: String,
        /// The amount, in the tally's smallest unit.
        units: i64,
        /// The amount with its unit.
        amount: String,
    },
    /// Something that happened on a tally with the partner.
    TallyEvent {
        /// The tally.
        tally_id: String,
        /// What happened.
        what: String,
    },
    /// A token offer (not yet supported: shown, not acted on).
    TokenOffer,
}

/// A message of a conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct MessageView {
    /// Its id (a ULID, 26 characters).
    pub id: String,
    /// Its conversation's id.
    pub conversation: String,
    /// Who sent it; `None` for what the node notes itself (tally events).
    pub sender_party_id: Option<String>,
    /// The sender's name as this node knows it.
    pub sender_name: Option<String>,
    /// Sent by this party.
    pub outgoing: bool,
    /// When its sender made it (ms).
    pub sent_at_ms: u64,
    /// When this node got it (ms).
    pub received_at_ms: u64,
    /// Where it is.
    pub status: MessageStatus,
    /// What it says.
    pub body: MessageBody,
}

/// What this node's mailbox holds, and which devices hold mail for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct MailboxStatus {
    /// Whether this device chats itself (else it only holds mail).
    pub chats: bool,
    /// Per device of the party: what is held for it.
    pub held: Vec<MailboxHeldView>,
    /// The devices of the party that hold mail for this one.
    pub mailboxes: Vec<String>,
}

/// What the mailbox holds for one device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct MailboxHeldView {
    /// The device's peer id.
    pub peer_id: String,
    /// Its name, when the party's card lists it.
    pub device_name: Option<String>,
    /// How many items.
    pub items: u64,
    /// Their size in bytes.
    pub bytes: u64,
    /// When the oldest arrived (ms).
    pub oldest_ms: u64,
    /// When the next one expires (ms).
    pub next_expiry_ms: u64,
    /// How many of its one-time keys are held.
    pub keys: u64,
}

/// Why a chat operation was refused. Each message can be shown as it is;
/// none repeats message text.
#[derive(Debug, Error)]
pub enum ChatError {
    /// Chat is with contacts only.
    #[error("{0} is not one of your contacts; add them first.")]
    NotAContact(String),
    /// No conversation with this id.
    #[error("There is no conversation {0}.")]
    UnknownConversation(String),
    /// No message with this id in the conversation.
    #[error("There is no message {0} in this conversation.")]
    UnknownMessage(String),
    /// The message breaks a limit (empty, too long, …).
    #[error("This message can't be sent: {0}.")]
    BadMessage(String),
    /// A group that breaks a rule.
    #[error("This group can't be made: {0}.")]
    BadGroup(String),
    /// This node holds mail for its party's devices and does not chat.
    #[error("This node keeps mail for its party's other devices and does not chat itself.")]
    MailboxOnly,
    /// The party's devices have no chat key yet, so none can be reached.
    #[error("None of {0}'s devices can chat yet (their certificates carry no chat key).")]
    NoChatDevice(String),
    /// Not a payment request, or one of our own.
    #[error("That message is not a payment request from the other party.")]
    NotAPaymentRequest,
    /// The request was paid already.
    #[error("That payment request was paid already.")]
    AlreadyPaid,
    /// The request names a tally that is not one with its sender.
    #[error("That payment request names a tally you don't share with its sender.")]
    WrongTally,
    /// The tally refused the payment.
    #[error(transparent)]
    Tally(#[from] TallyError),
    /// The node failed (storage, no identity, stopped).
    #[error(transparent)]
    Node(#[from] NodeError),
}

impl From<tallymesh_store::StoreError> for ChatError {
    fn from(error: tallymesh_store::StoreError) -> Self {
        ChatError::Node(error.into())
    }
}

impl From<crate::contacts::ContactError> for ChatError {
    fn from(error: crate::contacts::ContactError) -> Self {
        match error {
            crate::contacts::ContactError::Node(error) => ChatError::Node(error),
            other => ChatError::Node(NodeError::Chat(other.to_string())),
        }
    }
}

/// The node's chat state.
pub(crate) struct ChatState {
    pub(crate) config: ChatConfig,
    /// Olm and Megolm state; `None` on a node that only holds mail.
    pub(crate) crypto: Option<std::sync::Arc<Mutex<ChatCrypto>>>,
    /// This device's chat identity key, when it chats.
    pub(crate) identity_key: Option<[u8; 32]>,
    /// Encrypts the events waiting in the outbox to be sealed; `None` on a
    /// node that only holds mail.
    pub(crate) outbox_key: Option<at_rest::OutboxKey>,
    pub(crate) writer: ChatWriter,
    /// The device's node key: signs its one-time keys.
    pub(crate) node_key: SecretKey,
    /// Wakes the delivery task.
    pub(crate) outbox: std::sync::Arc<tokio::sync::Notify>,
    /// Counts items queued: a delivery under way for a device looks for
    /// its newer items only when this moved.
    pub(crate) queued: std::sync::atomic::AtomicU64,
    /// The last message id made here (ids only grow).
    last_id: Mutex<Option<Ulid>>,
    /// How many of our one-time keys each mailbox said it holds.
    pub(crate) keys_held: Mutex<HashMap<PeerId, u64>>,
    /// Mailboxes being fetched from now.
    pub(crate) fetching: Mutex<HashSet<PeerId>>,
    /// Devices of the party told since the start where this one holds mail.
    pub(crate) announced: Mutex<HashSet<PeerId>>,
    /// One-to-one conversations known to be kept (they are never dropped),
    /// as first read or made: sending needs no read to find its own.
    direct: Mutex<HashMap<ConversationId, ConversationRow>>,
    /// The items this device took, as the store keeps them (`chat_seen`),
    /// with when: a copy that arrives again is known without a read.
    seen: Mutex<HashMap<[u8; 16], i64>>,
}

impl std::fmt::Debug for ChatState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChatState")
            .field("participate", &self.config.participate)
            .finish_non_exhaustive()
    }
}

impl ChatState {
    /// Loads (or, on the first start, makes) this device's chat state, and
    /// starts the committing task on `store`.
    pub(crate) async fn load(
        config: ChatConfig,
        store: &Store,
        keystore: &std::sync::Arc<Keystore>,
        node_key: SecretKey,
    ) -> Result<(ChatState, JoinHandle<()>), NodeError> {
        let crypto = if config.participate {
            let seed = crate::identity::blocking(keystore, |k| match k.get(Purpose::ChatPickleKey)? {
                Some(seed) => Ok(seed),
                None => {
                    let seed = SecretSeed::generate()?;
                    k.put(Purpose::ChatPickleKey, &seed)?;
                    Ok(seed)
                }
            })
            .await?;
            let key = Zeroizing::new(*seed.expose());
            let (crypto, writes) = match ChatCrypto::load(store, key.clone()).await {
                Ok(loaded) => loaded,
                Err(error) => {
                    // The keystore lost the key the state was sealed with (a
                    // reset keychain, a data directory moved to another
                    // machine): that state can never be opened again, so chat
                    // starts over with a new account and a new chat key.
                    tracing::warn!(
                        "the chat state does not open with the keystore's key ({error}); starting chat anew"
                    );
                    store.chat_reset_crypto().await?;
                    ChatCrypto::load(store, key.clone()).await?
                }
            };
            if !writes.is_empty() {
                store.chat_write(&writes).await?;
                tracing::info!("made this device's chat account");
            }
            Some((crypto, at_rest::OutboxKey::derive(&key)))
        } else {
            None
        };
        let (crypto, outbox_key) = crypto.unzip();
        let identity_key = crypto.as_ref().map(ChatCrypto::identity_key);
        let seen = store.chat_seen_items().await?.into_iter().collect();
        let crypto = crypto.map(|crypto| std::sync::Arc::new(Mutex::new(crypto)));
        let (writer, task) = ChatWriter::start(store.clone(), crypto.clone());
        Ok((
            ChatState {
                config,
                crypto,
                identity_key,
                outbox_key,
                writer,
                node_key,
                outbox: std::sync::Arc::default(),
                queued: std::sync::atomic::AtomicU64::new(0),
                last_id: Mutex::new(None),
                keys_held: Mutex::default(),
                fetching: Mutex::default(),
                announced: Mutex::default(),
                direct: Mutex::default(),
                seen: Mutex::new(seen),
            },
            task,
        ))
    }

    /// A new message id, after every id made here before.
    fn next_id(&self) -> Result<Ulid, NodeError> {
        let mut random = [0u8; 10];
        getrandom::fill(&mut random).map_err(|e| NodeError::Keystore(crate::KeystoreError::Random(e.to_string())))?;
        let fresh = Ulid::from_parts(crate::node::unix_millis(), random);
        let mut last = self.last_id.lock().unwrap_or_else(PoisonError::into_inner);
        let id = match *last {
            Some(previous) if previous >= fresh => previous.successor().unwrap_or(fresh),
            _ => fresh,
        };
        *last = Some(id);
        Ok(id)
    }

    /// Runs `f` on the crypto state; refused on a mailbox-only node.
    pub(crate) fn with_crypto<T>(&self, f: impl FnOnce(&mut ChatCrypto) -> T) -> Result<T, ChatError> {
        let crypto = self.crypto.as_ref().ok_or(ChatError::MailboxOnly)?;
        let mut crypto = crypto.lock().unwrap_or_else(PoisonError::into_inner);
        Ok(f(&mut crypto))
    }

    /// The one-to-one conversation `id`, when it is known to be kept.
    pub(crate) fn known_direct(&self, id: &ConversationId) -> Option<ConversationRow> {
        self.direct
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(id)
            .cloned()
    }

    /// Whether this device took the item `id` already.
    pub(crate) fn seen(&self, id: &[u8; 16]) -> bool {
        self.seen
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .contains_key(id)
    }

    /// Remembers that the item `id` was taken at `at_ms`: call once its
    /// `Seen` write is on disk.
    pub(crate) fn keep_seen(&self, id: [u8; 16], at_ms: i64) {
        self.seen
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(id, at_ms);
    }

    /// Forgets the items taken before `before_ms`, as the store did.
    pub(crate) fn forget_seen_before(&self, before_ms: i64) {
        self.seen
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .retain(|_, at| *at >= before_ms);
    }

    /// Remembers a one-to-one conversation as kept: call once it is on disk.
    pub(crate) fn keep_direct(&self, row: ConversationRow) {
        self.direct
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(row.id, row);
    }
}

/// A device an event goes to.
#[derive(Debug, Clone)]
pub(crate) struct Recipient {
    pub(crate) peer: PeerId,
    pub(crate) party: String,
    pub(crate) key: [u8; 32],
}

/// The chat of this node's party: `node.chat()`.
#[derive(Debug, Clone)]
pub struct Chat {
    node: Node,
}

impl Node {
    /// End-to-end encrypted conversations with contacts (see
    /// [`crate::chat`]).
    pub fn chat(&self) -> Chat {
        Chat { node: self.clone() }
    }
}

/// The hex of a conversation id.
pub fn conversation_text(id: &ConversationId) -> String {
    tallymesh_core::hash::hex(id)
}

fn parse_conversation(text: &str) -> Option<ConversationId> {
    let text = text.trim();
    if text.len() != 32 {
        return None;
    }
    let mut id = [0u8; 16];
    for (i, byte) in id.iter_mut().enumerate() {
        *byte = u8::from_str_radix(text.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(id)
}

fn to_i64(ms: u64) -> i64 {
    i64::try_from(ms).unwrap_or(i64::MAX)
}

fn to_u64(ms: i64) -> u64 {
    u64::try_from(ms).unwrap_or(0)
}

/// The parties of a conversation other than `own`.
fn others(row: &ConversationRow, own: &str) -> Vec<String> {
    match &row.peer_party {
        Some(peer) => vec![peer.clone()],
        None => row.members.iter().filter(|m| m.as_str() != own).cloned().collect(),
    }
}

/// The amount of `units` in `unit` ("12.500 CHIP"), or the bare number.
fn format_amount(units: u64, unit: Option<&crate::tallies::UnitView>) -> String {
    let Some(unit) = unit else {
        return units.to_string();
    };
    let scale = u32::from(unit.scale);
    let divisor = 10u64.saturating_pow(scale);
    if scale == 0 {
        return format!("{units} {}", unit.code);
    }
    format!(
        "{}.{:0width$} {}",
        units / divisor,
        units % divisor,
        unit.code,
        width = usize::try_from(scale).unwrap_or(0)
    )
}

impl Chat {
    pub(crate) fn state(&self) -> &ChatState {
        &self.node.inner.chat
    }

    async fn store(&self) -> Result<Store, NodeError> {
        self.node.running_store().await
    }

    /// This node's party id, and whether it acts for it (main or member).
    async fn own_party(&self) -> Result<PartyId, ChatError> {
        self.node
            .identity()
            .acting_party()
            .await?
            .ok_or_else(|| NodeError::Identity(crate::IdentityError::NoIdentity).into())
    }

    /// Every conversation, the latest first.
    pub async fn conversations(&self) -> Result<Vec<ConversationView>, ChatError> {
        let store = self.store().await?;
        let rows = store.chat_conversations().await?;
        let unread: HashMap<[u8; 16], u64> = store.chat_unread_counts().await?.into_iter().collect();
        let names = self.names().await?;
        let mut views = Vec::with_capacity(rows.len());
        for row in rows {
            let count = unread.get(&row.id).copied().unwrap_or(0);
            views.push(self.conversation_view(&store, &row, count, &names).await?);
        }
        Ok(views)
    }

    /// One conversation.
    pub async fn conversation(&self, id: &str) -> Result<ConversationView, ChatError> {
        let store = self.store().await?;
        let row = self.conversation_row(&store, id).await?;
        let unread = store
            .chat_unread_counts()
            .await?
            .into_iter()
            .find(|(c, _)| *c == row.id)
            .map_or(0, |(_, n)| n);
        let names = self.names().await?;
        self.conversation_view(&store, &row, unread, &names).await
    }

    /// The one-to-one conversation with a contact, made if there is none.
    pub async fn conversation_with(&self, party_id: &str) -> Result<ConversationView, ChatError> {
        let row = self.direct_row(party_id).await?;
        self.conversation(&conversation_text(&row.id)).await
    }

    async fn conversation_row(&self, store: &Store, id: &str) -> Result<ConversationRow, ChatError> {
        let parsed =
            parse_conversation(id).ok_or_else(|| ChatError::UnknownConversation(id.chars().take(40).collect()))?;
        store
            .chat_conversation(&parsed)
            .await?
            .ok_or_else(|| ChatError::UnknownConversation(id.chars().take(40).collect()))
    }

    /// The direct conversation with `party_id` (a contact), kept if new.
    async fn direct_row(&self, party_id: &str) -> Result<ConversationRow, ChatError> {
        let own = self.own_party().await?;
        let directory = self.node.directory().await?;
        let peer: PartyId = party_id
            .trim()
            .parse()
            .ok()
            .filter(|peer| directory.is_contact(peer))
            .ok_or_else(|| ChatError::NotAContact(party_id.chars().take(80).collect()))?;
        let id = direct_conversation(own.key().as_bytes(), peer.key().as_bytes());
        let state = self.state();
        if let Some(row) = state.known_direct(&id) {
            return Ok(row);
        }
        let store = self.store().await?;
        if let Some(row) = store.chat_conversation(&id).await? {
            state.keep_direct(row.clone());
            return Ok(row);
        }
        let now = to_i64(crate::node::unix_millis());
        let row = ConversationRow {
            id,
            peer_party: Some(peer.to_string()),
            name: None,
            members: Vec::new(),
            created_at_ms: now,
            last_at_ms: now,
        };
        state.writer.write(vec![ChatWrite::Conversation(row.clone())]).await?;
        state.keep_direct(row.clone());
        let _ = self.node.inner.events.send(NodeEvent::ChatConversationsChanged);
        Ok(row)
    }

    /// Resolves `to`: a conversation id, or a contact's party id (its
    /// one-to-one conversation).
    async fn resolve(&self, to: &str) -> Result<ConversationRow, ChatError> {
        let to = to.trim();
        if to.starts_with("did:key:") {
            return self.direct_row(to).await;
        }
        let store = self.store().await?;
        self.conversation_row(&store, to).await
    }

    /// Names of the contacts, and this party as "You".
    async fn names(&self) -> Result<HashMap<String, String>, ChatError> {
        let directory = self.node.directory().await?;
        let mut names = directory.names();
        if let Some(own) = directory.own {
            names.insert(own.to_string(), "You".to_owned());
        }
        Ok(names)
    }

    async fn conversation_view(
        &self,
        store: &Store,
        row: &ConversationRow,
        unread: u64,
        names: &HashMap<String, String>,
    ) -> Result<ConversationView, ChatError> {
        let name_of = |party: &str| {
            names.get(party).cloned().unwrap_or_else(|| {
                party
                    .chars()
                    .rev()
                    .take(8)
                    .collect::<Vec<_>>()
                    .into_iter()
                    .rev()
                    .collect()
            })
        };
        let members: Vec<ChatMember> = match &row.peer_party {
            Some(peer) => vec![ChatMember {
                party_id: peer.clone(),
                display_name: name_of(peer),
            }],
            None => row
                .members
                .iter()
                .map(|m| ChatMember {
                    party_id: m.clone(),
                    display_name: name_of(m),
                })
                .collect(),
        };
        let title = match (&row.peer_party, &row.name) {
            (Some(peer), _) => name_of(peer),
            (None, Some(name)) => name.clone(),
            (None, None) => "Group".to_owned(),
        };
        let last = store.chat_messages(&row.id, None, 1).await?;
        let last_message = match last.first() {
            Some(message) => Some(self.message_view(message, names).await),
            None => None,
        };
        let online = {
            let presence = self.node.presence().await.unwrap_or_default();
            let parties: HashSet<&str> = members.iter().map(|m| m.party_id.as_str()).collect();
            presence
                .iter()
                .any(|p| p.online && parties.contains(p.party_id.as_str()))
        };
        Ok(ConversationView {
            id: conversation_text(&row.id),
            kind: if row.peer_party.is_some() {
                ConversationKind::Direct
            } else {
                ConversationKind::Group
            },
            party_id: row.peer_party.clone(),
            title,
            members,
            unread: u32::try_from(unread).unwrap_or(u32::MAX),
            last_at_ms: to_u64(row.last_at_ms),
            last_message,
            online,
        })
    }

    async fn message_view(&self, row: &MessageRow, names: &HashMap<String, String>) -> MessageView {
        let body = match Body::decode(&row.body) {
            Ok(Body::Text(text)) => MessageBody::Text { text },
            Ok(Body::PaymentRequest { tally, units, memo }) => MessageBody::PaymentRequest {
                tally_id: crate::tallies::tally_id_text(&tallymesh_core::tally_network::TallyId(tally)),
                units: i64::try_from(units).unwrap_or(i64::MAX),
                amount: self.amount(&tally, units).await,
                memo,
                paid_chit: row.paid_chit.clone(),
            },
            Ok(Body::Payment {
                request,
                tally,
                chit,
                units,
            }) => MessageBody::Payment {
                request_id: Ulid::from_bytes(request).to_text(),
                tally_id: crate::tallies::tally_id_text(&tallymesh_core::tally_network::TallyId(tally)),
                chit_id: tallymesh_core::hash::hex(&chit),
                units: i64::try_from(units).unwrap_or(i64::MAX),
                amount: self.amount(&tally, units).await,
            },
            Ok(Body::TallyEvent { tally, what }) => MessageBody::TallyEvent {
                tally_id: crate::tallies::tally_id_text(&tallymesh_core::tally_network::TallyId(tally)),
                what,
            },
            Ok(Body::TokenOffer { .. }) => MessageBody::TokenOffer,
            // Bodies were checked when they came; one that no longer reads
            // shows as an empty note rather than hiding the thread.
            Err(_) => MessageBody::Text { text: String::new() },
        };
        MessageView {
            id: Ulid::from_bytes(row.id).to_text(),
            conversation: conversation_text(&row.conversation),
            sender_name: row.sender_party.as_ref().and_then(|p| names.get(p).cloned()),
            sender_party_id: row.sender_party.clone(),
            outgoing: row.outgoing,
            sent_at_ms: to_u64(row.sent_at_ms),
            received_at_ms: to_u64(row.received_at_ms),
            status: MessageStatus::of(&row.status),
            body,
        }
    }

    async fn amount(&self, tally: &[u8; 16], units: u64) -> String {
        let unit = self
            .node
            .tallies()
            .get(&crate::tallies::tally_id_text(&tallymesh_core::tally_network::TallyId(
                *tally,
            )))
            .await
            .ok()
            .map(|detail| detail.summary.unit);
        format_amount(units, unit.as_ref())
    }

    /// Up to `limit` messages of a conversation, oldest first: the latest
    /// ones, or those before the message `before`.
    pub async fn messages(
        &self,
        conversation: &str,
        before: Option<&str>,
        limit: u32,
    ) -> Result<Vec<MessageView>, ChatError> {
        let store = self.store().await?;
        let row = self.conversation_row(&store, conversation).await?;
        let before = match before {
            Some(text) => Some(
                Ulid::parse(text)
                    .ok_or_else(|| ChatError::UnknownMessage(text.chars().take(40).collect()))?
                    .to_bytes(),
            ),
            None => None,
        };
        let names = self.names().await?;
        let mut rows = store
            .chat_messages(&row.id, before.as_ref(), limit.clamp(1, 500))
            .await?;
        rows.reverse();
        let mut views = Vec::with_capacity(rows.len());
        for row in &rows {
            views.push(self.message_view(row, &names).await);
        }
        Ok(views)
    }

    /// Sends `text` to `to`: a contact's party id or a conversation id.
    pub async fn send_text(&self, to: &str, text: &str) -> Result<MessageView, ChatError> {
        self.send(to, Body::Text(text.to_owned())).await
    }

    /// Asks the other party of a one-to-one conversation to pay `amount`
    /// (as typed, in the tally's unit) on the tally `tally_id` both hold.
    pub async fn request_payment(
        &self,
        to: &str,
        tally_id: &str,
        amount: &str,
        memo: &str,
    ) -> Result<MessageView, ChatError> {
        let row = self.resolve(to).await?;
        let Some(peer) = &row.peer_party else {
            return Err(ChatError::BadMessage(
                "a payment request goes to one party, not a group".into(),
            ));
        };
        let detail = self.node.tallies().get(tally_id).await?;
        if &detail.summary.party_id != peer {
            return Err(ChatError::WrongTally);
        }
        let unit = tallymesh_core::Unit::new(&detail.summary.unit.code, detail.summary.unit.scale)
            .map_err(|e| ChatError::BadMessage(e.to_string()))?;
        let units = crate::tallies::positive_amount(&unit, amount)?;
        let tally = crate::tallies::parse_id(tally_id)?;
        let body = Body::PaymentRequest {
            tally: tally.0,
            units: u64::try_from(units.parts()).unwrap_or(0),
            memo: memo.trim().to_owned(),
        };
        self.send(&conversation_text(&row.id), body).await
    }

    /// Pays the payment request `message_id` of a conversation from the
    /// tally it names (a chit through the tally API), and tells the
    /// requester with a payment message. Returns that message.
    pub async fn pay(&self, conversation: &str, message_id: &str) -> Result<MessageView, ChatError> {
        let store = self.store().await?;
        let row = self.conversation_row(&store, conversation).await?;
        let id = Ulid::parse(message_id)
            .ok_or_else(|| ChatError::UnknownMessage(message_id.chars().take(40).collect()))?
            .to_bytes();
        let message = store
            .chat_message(&row.id, &id)
            .await?
            .ok_or_else(|| ChatError::UnknownMessage(message_id.chars().take(40).collect()))?;
        let Ok(Body::PaymentRequest { tally, units, memo }) = Body::decode(&message.body) else {
            return Err(ChatError::NotAPaymentRequest);
        };
        if message.outgoing {
            return Err(ChatError::NotAPaymentRequest);
        }
        if message.paid_chit.is_some() {
            return Err(ChatError::AlreadyPaid);
        }
        let tally_id = crate::tallies::tally_id_text(&tallymesh_core::tally_network::TallyId(tally));
        let detail = self.node.tallies().get(&tally_id).await?;
        if Some(&detail.summary.party_id) != message.sender_party.as_ref() {
            return Err(ChatError::WrongTally);
        }
        let amount = format_amount(units, Some(&detail.summary.unit));
        let typed = amount.split(' ').next().unwrap_or_default().to_owned();
        let memo = if memo.is_empty() {
            "Paid from chat".to_owned()
        } else {
            memo
        };
        let chit = self.node.tallies().pay(&tally_id, &typed, &memo).await?;
        self.state()
            .writer
            .write(vec![ChatWrite::PaidChit {
                conversation: row.id,
                id,
                chit: chit.id.clone(),
            }])
            .await?;
        let mut chit_bytes = [0u8; 32];
        for (i, byte) in chit_bytes.iter_mut().enumerate() {
            *byte = chit
                .id
                .get(2 * i..2 * i + 2)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .unwrap_or(0);
        }
        let body = Body::Payment {
            request: id,
            tally,
            chit: chit_bytes,
            units,
        };
        tracing::info!(conversation = %conversation_text(&row.id), "paid a payment request from the thread");
        self.send(&conversation_text(&row.id), body).await
    }

    /// Makes a group conversation named `name` with the contacts
    /// `members` (this party joins it too).
    pub async fn create_group(&self, name: &str, members: &[String]) -> Result<ConversationView, ChatError> {
        if self.state().crypto.is_none() {
            return Err(ChatError::MailboxOnly);
        }
        let own = self.own_party().await?;
        let mut keys = vec![*own.key().as_bytes()];
        let mut parties = vec![own.to_string()];
        for member in members {
            let contact = self
                .node
                .contacts()
                .get(member)
                .await
                .map_err(|_| ChatError::NotAContact(member.chars().take(80).collect()))?;
            let party: PartyId = contact
                .party_id
                .parse()
                .map_err(|_| ChatError::NotAContact(member.chars().take(80).collect()))?;
            if !keys.contains(party.key().as_bytes()) {
                keys.push(*party.key().as_bytes());
                parties.push(party.to_string());
            }
        }
        let info = GroupInfo {
            name: name.trim().to_owned(),
            members: keys,
        };
        info.check()
            .map_err(|e| ChatError::BadGroup(e.to_string().replace("chat message refused: ", "")))?;
        if parties.len() > MAX_GROUP_MEMBERS {
            return Err(ChatError::BadGroup(format!(
                "a group has at most {MAX_GROUP_MEMBERS} members"
            )));
        }
        let id = self.state().next_id()?.to_bytes();
        let now = to_i64(crate::node::unix_millis());
        let row = ConversationRow {
            id,
            peer_party: None,
            name: Some(info.name.clone()),
            members: parties,
            created_at_ms: now,
            last_at_ms: now,
        };
        self.state().writer.write(vec![ChatWrite::Conversation(row)]).await?;
        tracing::info!(conversation = %conversation_text(&id), members = info.members.len(), "made a group conversation");
        let _ = self.node.inner.events.send(NodeEvent::ChatConversationsChanged);
        self.conversation(&conversation_text(&id)).await
    }

    /// Marks every received message of a conversation read, and tells
    /// their senders. Returns how many.
    pub async fn mark_read(&self, conversation: &str) -> Result<u32, ChatError> {
        let store = self.store().await?;
        let row = self.conversation_row(&store, conversation).await?;
        let unread = store.chat_unread(&row.id).await?;
        if unread.is_empty() {
            return Ok(0);
        }
        let mut writes = Vec::new();
        let mut by_sender: HashMap<String, Vec<MessageId>> = HashMap::new();
        for message in &unread {
            writes.push(ChatWrite::Status {
                conversation: row.id,
                id: message.id,
                status: "read",
            });
            if let Some(sender) = &message.sender_party {
                by_sender.entry(sender.clone()).or_default().push(message.id);
            }
        }
        self.state().writer.write(writes).await?;
        for (sender, ids) in by_sender {
            for chunk in ids.chunks(tallymesh_protocol::chat::MAX_RECEIPT_IDS) {
                let event = ChatEvent::Receipt {
                    conversation: row.id,
                    ids: chunk.to_vec(),
                    read: true,
                };
                if let Err(error) = self
                    .queue_to_parties(std::slice::from_ref(&sender), &event, None, false)
                    .await
                {
                    tracing::info!("a read receipt was not queued: {error}");
                }
            }
        }
        let count = u32::try_from(unread.len()).unwrap_or(u32::MAX);
        let _ = self.node.inner.events.send(NodeEvent::ChatConversationsChanged);
        Ok(count)
    }

    /// Tells the other parties of a conversation that this party started
    /// or stopped typing. Ephemeral: sent only to devices connected now,
    /// never stored or held.
    pub async fn typing(&self, conversation: &str, typing: bool) -> Result<(), ChatError> {
        let store = self.store().await?;
        let row = self.conversation_row(&store, conversation).await?;
        let own = self.own_party().await?.to_string();
        let event = ChatEvent::Typing {
            conversation: row.id,
            typing,
        };
        let recipients = self.recipients(&others(&row, &own), false).await?;
        let connected: HashSet<PeerId> = self
            .node
            .net()
            .connected_peers()
            .await
            .map_err(NodeError::from)?
            .into_iter()
            .collect();
        let plaintext = Zeroizing::new(event.encode());
        let certificate = self.node.identity().device_certificate().await?;
        for recipient in recipients.into_iter().filter(|r| connected.contains(&r.peer)) {
            let state = self.state();
            let sealed = state.with_crypto(|c| {
                if !c.has_session(&recipient.key) {
                    return None;
                }
                c.encrypt(recipient.key, &plaintext)
                    .ok()
                    .map(|sealed| (sealed, state.writer.submit(Vec::new())))
            })?;
            let Some((sealed, pending)) = sealed else {
                continue;
            };
            pending.done().await?;
            let item = SealedItem {
                id: random_id()?,
                certificate: certificate.bytes().to_vec(),
                sealed,
                expires_at_ms: crate::node::unix_millis().saturating_add(60_000),
                ephemeral: true,
                seal: Vec::new(),
            }
            .sealed_by(&state.node_key);
            let node = self.node.clone();
            tokio::spawn(async move {
                node.chat().send_ephemeral(recipient.peer, item).await;
            });
        }
        Ok(())
    }

    /// Messages whose "message received" event was not handled yet (a
    /// crash between keeping a message and telling of it loses nothing):
    /// oldest first. Mark each with [`Chat::mark_notified`].
    pub async fn pending_notifications(&self) -> Result<Vec<MessageView>, ChatError> {
        let store = self.store().await?;
        let names = self.names().await?;
        let mut views = Vec::new();
        for row in store.chat_unnotified().await? {
            views.push(self.message_view(&row, &names).await);
        }
        Ok(views)
    }

    /// Marks a message's "message received" event handled.
    pub async fn mark_notified(&self, conversation: &str, message_id: &str) -> Result<(), ChatError> {
        let id = Ulid::parse(message_id)
            .ok_or_else(|| ChatError::UnknownMessage(message_id.chars().take(40).collect()))?
            .to_bytes();
        let conversation = parse_conversation(conversation)
            .ok_or_else(|| ChatError::UnknownConversation(conversation.chars().take(40).collect()))?;
        self.state()
            .writer
            .write(vec![ChatWrite::Notified { conversation, id }])
            .await?;
        Ok(())
    }

    /// What this node's mailbox holds, and which devices hold mail for it.
    pub async fn mailbox_status(&self) -> Result<MailboxStatus, ChatError> {
        let store = self.store().await?;
        let now = to_i64(crate::node::unix_millis());
        store.chat_mailbox_expire(now).await?;
        let directory = self.node.directory().await?;
        let names: HashMap<String, String> = directory
            .own_devices()
            .unwrap_or_default()
            .iter()
            .filter_map(|c| {
                PeerId::from_bytes(&c.record().peer_id)
                    .ok()
                    .map(|p| (p.to_string(), c.record().name.clone()))
            })
            .collect();
        let held = store
            .chat_mailbox_status()
            .await?
            .into_iter()
            .map(|h| MailboxHeldView {
                device_name: names.get(&h.for_peer).cloned(),
                peer_id: h.for_peer,
                items: h.items,
                bytes: h.bytes,
                oldest_ms: to_u64(h.oldest_ms),
                next_expiry_ms: to_u64(h.next_expiry_ms),
                keys: h.keys,
            })
            .collect();
        Ok(MailboxStatus {
            chats: self.state().crypto.is_some(),
            held,
            mailboxes: store
                .chat_mailboxes()
                .await?
                .into_iter()
                .map(|(peer, _)| peer)
                .collect(),
        })
    }

    /// Sends `body` in the conversation `to` (or the one-to-one
    /// conversation with the party `to`).
    async fn send(&self, to: &str, body: Body) -> Result<MessageView, ChatError> {
        if self.state().crypto.is_none() {
            return Err(ChatError::MailboxOnly);
        }
        body.check()
            .map_err(|e| ChatError::BadMessage(e.to_string().replace("chat message refused: ", "")))?;
        let row = self.resolve(to).await?;
        let own = self.own_party().await?;
        let targets = others(&row, &own.to_string());
        let id = self.state().next_id()?;
        let now = crate::node::unix_millis();
        let message = MessageRow {
            conversation: row.id,
            id: id.to_bytes(),
            sender_party: Some(own.to_string()),
            outgoing: true,
            body: body.encode(),
            sent_at_ms: to_i64(id.millis()),
            received_at_ms: to_i64(now),
            status: "pending".to_owned(),
            paid_chit: None,
            notified: true,
        };
        let event = ChatEvent::Message {
            conversation: row.id,
            id: id.to_bytes(),
            peer: None,
            body: body.clone(),
        };
        // Our own other devices get a copy that names the other party.
        let own_copy = row.peer_party.as_ref().and_then(|peer| {
            peer.parse::<PartyId>().ok().map(|peer| ChatEvent::Message {
                conversation: row.id,
                id: id.to_bytes(),
                peer: Some(*peer.key().as_bytes()),
                body,
            })
        });
        let recipients = self.recipients(&targets, true).await?;
        if !recipients.iter().any(|r| r.party != own.to_string()) {
            return Err(ChatError::NoChatDevice(
                targets.first().cloned().unwrap_or_default().chars().take(80).collect(),
            ));
        }
        let group = row.peer_party.is_none().then(|| GroupInfo {
            name: row.name.clone().unwrap_or_default(),
            members: row
                .members
                .iter()
                .filter_map(|m| m.parse::<PartyId>().ok())
                .map(|p| *p.key().as_bytes())
                .collect(),
        });
        self.queue(
            &recipients,
            &event,
            own_copy.as_ref(),
            group.as_ref(),
            Some((row.id, id.to_bytes())),
            vec![ChatWrite::Message(message.clone())],
        )
        .await?;
        let names = self.names().await?;
        let view = self.message_view(&message, &names).await;
        let _ = self
            .node
            .inner
            .events
            .send(NodeEvent::ChatMessage { message: view.clone() });
        Ok(view)
    }

    /// The chatting devices of `parties` (from their cards; this party's
    /// own from its cadre), and with `own_too` this party's other chatting
    /// devices. This device is never one.
    pub(crate) async fn recipients(&self, parties: &[String], own_too: bool) -> Result<Vec<Recipient>, ChatError> {
        let own = self.own_party().await?.to_string();
        let me = self.node.net().local_peer_id();
        let directory = self.node.directory().await?;
        let mut recipients = Vec::new();
        let mut add = |certificate: &Signed<DeviceCertificate>, party: &str| {
            let record = certificate.record();
            let (Some(key), Ok(peer)) = (record.chat_identity_key, PeerId::from_bytes(&record.peer_id)) else {
                return;
            };
            if peer != me && record.party.to_string() == party {
                recipients.push(Recipient {
                    peer,
                    party: party.to_owned(),
                    key,
                });
            }
        };
        for party in parties {
            if *party == own {
                continue;
            }
            let card = directory
                .card(party)
                .ok_or_else(|| ChatError::NotAContact(party.chars().take(80).collect()))?;
            for certificate in &card.record().devices {
                add(certificate, party);
            }
        }
        if own_too {
            for certificate in directory.own_devices()? {
                add(certificate, &own);
            }
        }
        Ok(recipients)
    }

    /// Queues `event` (a receipt) for every chatting device of `parties`.
    pub(crate) async fn queue_to_parties(
        &self,
        parties: &[String],
        event: &ChatEvent,
        message: Option<(ConversationId, MessageId)>,
        own_too: bool,
    ) -> Result<(), ChatError> {
        let recipients = self.recipients(parties, own_too).await?;
        self.queue(&recipients, event, None, None, message, Vec::new()).await
    }

    /// Queues `event` for each recipient, with `extra` writes in one batch,
    /// then wakes delivery. A one-to-one event waits in the outbox
    /// encrypted at rest ([`at_rest`]): delivery seals it with the device's
    /// Olm session, together with the other events waiting for that device.
    /// A group message is sealed now, once, with the group's Megolm
    /// session, after its room key, which is sealed now with Olm for each
    /// device that lacks it (or, until a session with the device exists,
    /// waits encrypted at rest like a one-to-one event).
    async fn queue(
        &self,
        recipients: &[Recipient],
        event: &ChatEvent,
        own_copy: Option<&ChatEvent>,
        group: Option<&GroupInfo>,
        message: Option<(ConversationId, MessageId)>,
        mut writes: Vec<ChatWrite>,
    ) -> Result<(), ChatError> {
        let own = self.own_party().await?.to_string();
        let now = crate::node::unix_millis();
        let lifetime = u64::try_from(self.state().config.item_lifetime.as_millis()).unwrap_or(u64::MAX);
        let expires_at_ms = now.saturating_add(lifetime);
        let outbox = |r: &Recipient, sealed: bool, item: Vec<u8>, message: Option<(ConversationId, MessageId)>| {
            ChatWrite::Outbox(OutboxRow {
                seq: 0,
                to_peer: r.peer.to_string(),
                to_party: r.party.clone(),
                sealed,
                item,
                messages: message.filter(|_| r.party != own).into_iter().collect(),
                created_at_ms: to_i64(now),
                expires_at_ms: to_i64(expires_at_ms),
            })
        };
        let state = self.state();
        let key = state.outbox_key.as_ref().ok_or(ChatError::MailboxOnly)?;
        let at_rest = |r: &Recipient, plaintext: &[u8]| {
            key.wrap(&r.peer, plaintext)
                .ok_or_else(|| NodeError::Keystore(crate::KeystoreError::Random("no random nonce".into())))
        };
        let pending = match group {
            None => {
                let plaintext = Zeroizing::new(event.encode());
                let copy = own_copy.map(|copy| Zeroizing::new(copy.encode()));
                for r in recipients {
                    let text = match (&copy, r.party == own) {
                        (Some(copy), true) => copy,
                        _ => &plaintext,
                    };
                    writes.push(outbox(r, false, at_rest(r, text)?, message));
                }
                state.writer.submit(writes)
            }
            Some(info) => {
                let certificate = self.node.identity().device_certificate().await?;
                let item_id = random_id()?;
                let mut room_key_ids = (0..recipients.len())
                    .map(|_| random_id())
                    .collect::<Result<Vec<_>, _>>()?;
                let item_of = |id, sealed| {
                    SealedItem {
                        id,
                        certificate: certificate.bytes().to_vec(),
                        sealed,
                        expires_at_ms,
                        ephemeral: false,
                        seal: Vec::new(),
                    }
                    .sealed_by(&state.node_key)
                    .encode()
                };
                state.with_crypto(|crypto| {
                    let conversation = *event.conversation();
                    let (_, session_key, shared, made) = crypto.group_session(conversation);
                    writes.extend(made);
                    let fresh: Vec<&Recipient> = recipients.iter().filter(|r| !shared.contains(&r.key)).collect();
                    if !fresh.is_empty() {
                        let room_key = Zeroizing::new(
                            ChatEvent::RoomKey {
                                conversation,
                                group: info.clone(),
                                session_key: session_key.clone(),
                            }
                            .encode(),
                        );
                        for r in &fresh {
                            let sealed = crypto
                                .has_session(&r.key)
                                .then(|| crypto.encrypt(r.key, &room_key).ok());
                            writes.push(match (sealed.flatten(), room_key_ids.pop()) {
                                (Some(sealed), Some(id)) => outbox(r, true, item_of(id, sealed), None),
                                _ => outbox(r, false, at_rest(r, &room_key)?, None),
                            });
                        }
                        let keys: Vec<[u8; 32]> = fresh.iter().map(|r| r.key).collect();
                        writes.extend(crypto.group_shared(conversation, &keys));
                    }
                    match crypto.group_encrypt(conversation, &event.encode()) {
                        Ok((sealed, write)) => {
                            writes.push(write);
                            let item = item_of(item_id, sealed);
                            writes.extend(recipients.iter().map(|r| outbox(r, true, item.clone(), message)));
                        }
                        Err(error) => tracing::warn!("a group message could not be encrypted: {error}"),
                    }
                    Ok::<_, NodeError>(state.writer.submit(std::mem::take(&mut writes)))
                })??
            }
        };
        pending.done().await?;
        state.queued.fetch_add(1, std::sync::atomic::Ordering::Release);
        state.outbox.notify_one();
        Ok(())
    }
}

/// A random 16-byte item id.
pub(crate) fn random_id() -> Result<[u8; 16], NodeError> {
    let mut id = [0u8; 16];
    getrandom::fill(&mut id).map_err(|e| NodeError::Keystore(crate::KeystoreError::Random(e.to_string())))?;
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_lost_pickle_key_starts_chat_anew_instead_of_refusing_to_start() {
        use crate::keystore::{KdfParams, KeystoreConfig, Passphrase};
        let dir = tempfile::tempdir().unwrap();
        let config = crate::NodeConfig::new(dir.path().to_owned())
            .with_listen(vec!["/ip4/127.0.0.1/tcp/0".parse().unwrap()])
            .with_lan_discovery(false)
            .with_file_kdf(KdfParams::INSECURE_FOR_TESTS)
            .with_keystore(KeystoreConfig::key_file(Passphrase::new("a long passphrase")));
        let node = Node::start(config.clone()).await.unwrap();
        let first = node.inner.chat.identity_key;
        node.shutdown().await;
        let keystore = Keystore::open_key_file(
            &dir.path().join(crate::keystore::KEY_FILE_NAME),
            &Passphrase::new("a long passphrase"),
            KdfParams::INSECURE_FOR_TESTS,
        )
        .unwrap();
        keystore.delete(Purpose::ChatPickleKey).unwrap();
        drop(keystore);

        let node = Node::start(config).await.unwrap();
        assert!(node.inner.chat.identity_key.is_some());
        assert_ne!(
            node.inner.chat.identity_key, first,
            "a new account, with a new chat key"
        );
        node.shutdown().await;
    }

    #[test]
    fn amounts_show_with_the_units_scale() {
        let chip = crate::tallies::UnitView {
            code: "CHIP".into(),
            scale: 3,
        };
        assert_eq!(format_amount(12_500, Some(&chip)), "12.500 CHIP");
        assert_eq!(format_amount(5, Some(&chip)), "0.005 CHIP");
        assert_eq!(format_amount(7, None), "7");
    }

    #[test]
    fn conversation_ids_read_back_from_hex() {
        let id = [0xab; 16];
        assert_eq!(parse_conversation(&conversation_text(&id)), Some(id));
        assert_eq!(parse_conversation("xyz"), None);
    }

    #[test]
    fn message_views_serialise_with_a_kind_tag() {
        let body = MessageBody::Text { text: "hi".into() };
        assert_eq!(
            serde_json::to_value(&body).unwrap(),
            serde_json::json!({"kind": "text", "text": "hi"})
        );
    }
}
