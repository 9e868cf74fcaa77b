//! Chat, protocol `chat` v1 (`/tallymesh/chat/1`): what travels between
//! devices, and the plaintext events inside the encryption.
//!
//! Two layers:
//! - the **wire**: [`ChatRequest`] and [`ChatResponse`], envelopes of
//!   version 1. A [`SealedItem`] carries one encrypted event for one
//!   device, with the sending device's certificate (signed by its party)
//!   and the device's [`ItemSeal`] over the item (signed by its node key),
//!   so the receiver can check who claims to send before decrypting, and
//!   a certificate its party never signed leaves evidence against the
//!   device that sent under it;
//! - the **events**: [`ChatEvent`], the deterministic CBOR the sender
//!   encrypts (Olm between two devices, Megolm for a group) — a message
//!   with its [`Body`], a receipt, a typing indicator, or a group's room
//!   key.
//!
//! Message ids are [`Ulid`]s: 48 bits of milliseconds then 80 random bits,
//! so ids sort in the order their senders made them. A one-to-one
//! conversation's id is derived from the two party keys
//! ([`direct_conversation`]), so both sides name it alike without asking.
//!
//! This module only encodes and decodes, and refuses what breaks a limit;
//! encryption and deciding are the node's business. `docs/protocol/chat.md`
//! is the contract.
//!
//! ```
//! use tallymesh_protocol::chat::{Body, ChatEvent, Ulid};
//!
//! let event = ChatEvent::Message {
//!     conversation: [7; 16],
//!     id: Ulid::from_parts(1_795_000_000_000, [1; 10]).to_bytes(),
//!     peer: None,
//!     body: Body::Text("lunch at one?".into()),
//! };
//! let bytes = event.encode();
//! assert_eq!(ChatEvent::decode(&bytes).unwrap(), event);
//! ```

use tallymesh_core::cbor::{self, Value};
use tallymesh_core::hash::Digest;
use tallymesh_core::record::{Fields, Record, RecordError, Signed};
use tallymesh_core::trust::{CHAT_CERTIFICATE_FIELD, CHAT_ITEM_SEAL_KIND};
use tallymesh_core::{ProtocolVersion, PublicKey, SecretKey};
use thiserror::Error;

use crate::{Envelope, EnvelopeError, Limits};

/// The chat protocol version this code speaks.
pub const CHAT_VERSION: ProtocolVersion = ProtocolVersion(1);

/// The protocol's name on the network.
pub const CHAT_PROTOCOL: &str = "/tallymesh/chat/1";

/// The largest request: one sealed item, or a batch of keys.
pub const MAX_REQUEST_BYTES: usize = 64 * 1024;

/// The largest response: a mailbox's batch of items.
pub const MAX_RESPONSE_BYTES: usize = 1024 * 1024;

/// The largest encrypted event in an item.
pub const MAX_SEALED_BYTES: usize = 48 * 1024;

/// The most events one sealed item carries: a sender with several events
/// waiting for the same device seals them together (see
/// [`ChatEvent::bundle`]).
pub const MAX_EVENTS_PER_ITEM: usize = 16;

/// The largest plaintext a sender puts several events into, in bytes: a
/// bundle stays this small, so its item stays within
/// [`MAX_REQUEST_BYTES`]. One event alone may be larger.
pub const MAX_BUNDLE_BYTES: usize = 32 * 1024;

/// The largest message text, in bytes of UTF-8.
pub const MAX_TEXT_BYTES: usize = 4_096;

/// The largest memo of a payment request, in bytes of UTF-8.
pub const MAX_MEMO_BYTES: usize = 200;

/// The most items a mailbox hands over in one answer.
pub const MAX_ITEMS_PER_FETCH: usize = 64;

/// The most one-time keys in one batch handed to a mailbox.
pub const MAX_KEYS_PER_BATCH: usize = 50;

/// The most message ids one receipt acknowledges.
pub const MAX_RECEIPT_IDS: usize = 256;

/// The most parties in a group conversation, its creator included.
pub const MAX_GROUP_MEMBERS: usize = 32;

/// The longest group name, in characters.
pub const MAX_GROUP_NAME_CHARS: usize = 64;

/// The most addresses a mailbox announces.
pub const MAX_MAILBOX_ADDRESSES: usize = 8;

/// The longest refusal message kept, in characters.
pub const MAX_REFUSAL_CHARS: usize = 256;

/// The largest item seal, in bytes (a seal is about 200).
pub const MAX_SEAL_BYTES: usize = 1024;

/// A conversation's id.
pub type ConversationId = [u8; 16];

/// A message's id: the bytes of its [`Ulid`].
pub type MessageId = [u8; 16];

const DELIVER: &str = "chat/deliver";
const CLAIM: &str = "chat/claim";
const FETCH: &str = "chat/fetch";
const ACK: &str = "chat/ack";
const MAILBOX: &str = "chat/mailbox";
const TAKEN: &str = "chat/taken";
const KEY: &str = "chat/key";
const ITEMS: &str = "chat/items";
const DONE: &str = "chat/done";
const REFUSED: &str = "chat/refused";

/// Why received chat bytes were refused. Nothing is changed by a refusal.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ChatMessageError {
    /// The envelope was too large, malformed or of another version.
    #[error(transparent)]
    Envelope(#[from] EnvelopeError),
    /// A kind this protocol does not have.
    #[error("unknown chat message kind {0:?}")]
    UnknownKind(String),
    /// The body is not what its kind says.
    #[error("malformed chat message: {0}")]
    Body(#[from] RecordError),
    /// A field breaks one of the protocol's limits.
    #[error("chat message refused: {0}")]
    Limit(String),
}

fn limit(text: impl Into<String>) -> ChatMessageError {
    ChatMessageError::Limit(text.into())
}

/// The limits a node applies to received chat requests.
pub fn request_limits() -> Limits {
    Limits {
        max_frame_bytes: MAX_REQUEST_BYTES,
    }
}

/// The limits a node applies to received chat responses.
pub fn response_limits() -> Limits {
    Limits {
        max_frame_bytes: MAX_RESPONSE_BYTES,
    }
}

/// How an event was encrypted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sealed {
    /// An Olm pre-key message: the first messages of a session, which can
    /// start it on the receiving device.
    OlmPreKey(Vec<u8>),
    /// An Olm message of a session both devices hold.
    OlmNormal(Vec<u8>),
    /// A Megolm message of a group conversation.
    Megolm {
        /// The Megolm session's id (base64, as vodozemac writes it).
        session_id: String,
        /// The message.
        bytes: Vec<u8>,
    },
}

impl Sealed {
    /// The encrypted bytes.
    pub fn bytes(&self) -> &[u8] {
        match self {
            Sealed::OlmPreKey(bytes) | Sealed::OlmNormal(bytes) | Sealed::Megolm { bytes, .. } => bytes,
        }
    }
}

/// One encrypted event for one device.
///
/// ```
/// use tallymesh_core::SecretKey;
/// use tallymesh_protocol::chat::{Sealed, SealedItem};
///
/// let device = SecretKey::from_seed(&[4; 32]);
/// let item = SealedItem {
///     id: [1; 16],
///     certificate: b"the device certificate as its party signed it".to_vec(),
///     sealed: Sealed::OlmNormal(vec![9; 64]),
///     expires_at_ms: 1_795_000_000_000,
///     ephemeral: false,
///     seal: Vec::new(),
/// }
/// .sealed_by(&device);
/// assert_eq!(item.check_seal().unwrap(), device.public());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedItem {
    /// A random id: mailboxes and receivers drop a second copy.
    pub id: [u8; 16],
    /// The sending device's certificate, as its party signed it.
    pub certificate: Vec<u8>,
    /// The event, encrypted for the receiving device.
    pub sealed: Sealed,
    /// A mailbox drops the item at this time (ms since the Unix epoch).
    pub expires_at_ms: u64,
    /// A typing indicator: delivered directly or not at all, never held.
    pub ephemeral: bool,
    /// The sending device's signed [`ItemSeal`] over the fields above, as
    /// made by [`SealedItem::sealed_by`].
    pub seal: Vec<u8>,
}

/// The sending device's seal over one [`SealedItem`]: record kind
/// `chat-item` ([`CHAT_ITEM_SEAL_KIND`]), signed by the device's node key
/// (the Ed25519 key of its peer id).
///
/// It names the certificate the item is sent under by its SHA-256, at body
/// key [`CHAT_CERTIFICATE_FIELD`]: when that certificate is not signed by
/// the party it names, the seal and the certificate are evidence anyone can
/// check alone (`tallymesh_core::trust::EvidenceKind::ForgedCertificate`),
/// small and without the ciphertext.
///
/// Body (map): `0` version `1`, `1` SHA-256 of the certificate, `2` the
/// item id, `3` SHA-256 of the encrypted bytes, `4` expires at (ms), `5`
/// ephemeral.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemSeal {
    /// SHA-256 of the sending device's certificate, as its party signed it.
    pub certificate: Digest,
    /// The item's id.
    pub item: [u8; 16],
    /// SHA-256 of the encrypted event's bytes.
    pub sealed: Digest,
    /// The item's expiry (ms since the Unix epoch).
    pub expires_at_ms: u64,
    /// Whether the item is a typing indicator.
    pub ephemeral: bool,
}

impl ItemSeal {
    /// The seal that covers `item` as it is (its own seal aside).
    pub fn of(item: &SealedItem) -> ItemSeal {
        ItemSeal {
            certificate: Digest::of(&item.certificate),
            item: item.id,
            sealed: Digest::of(item.sealed.bytes()),
            expires_at_ms: item.expires_at_ms,
            ephemeral: item.ephemeral,
        }
    }
}

impl Record for ItemSeal {
    const KIND: &'static str = CHAT_ITEM_SEAL_KIND;

    fn to_value(&self) -> Value {
        Value::map([
            (0, Value::Uint(1)),
            (CHAT_CERTIFICATE_FIELD, Value::Bytes(self.certificate.0.to_vec())),
            (2, Value::Bytes(self.item.to_vec())),
            (3, Value::Bytes(self.sealed.0.to_vec())),
            (4, Value::Uint(self.expires_at_ms)),
            (5, Value::Bool(self.ephemeral)),
        ])
    }

    fn from_value(value: &Value) -> Result<Self, RecordError> {
        let f = Fields::named("chat item seal", value)?;
        f.version(&[1])?;
        let digest = |field| -> Result<Digest, RecordError> {
            f.bytes(field)?
                .try_into()
                .map(Digest)
                .map_err(|_| RecordError::Invalid("a SHA-256 is 32 bytes".into()))
        };
        Ok(ItemSeal {
            certificate: digest(CHAT_CERTIFICATE_FIELD)?,
            item: f
                .bytes(2)?
                .try_into()
                .map_err(|_| RecordError::Invalid("an item id is 16 bytes".into()))?,
            sealed: digest(3)?,
            expires_at_ms: f.uint(4)?,
            ephemeral: f.bool(5)?,
        })
    }
}

/// Why an item's seal was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SealError {
    /// The seal is not a signed `chat-item` record, or its signature does
    /// not verify.
    #[error("the item's seal does not read: {0}")]
    Unreadable(#[from] RecordError),
    /// A signed seal, but over another item (or another certificate).
    #[error("the item's seal covers another {0}")]
    OtherItem(&'static str),
}

impl SealedItem {
    /// The same item, sealed by the sending device whose node key is
    /// `device`.
    pub fn sealed_by(mut self, device: &SecretKey) -> SealedItem {
        self.seal = Signed::sign(ItemSeal::of(&self), device).bytes().to_vec();
        self
    }

    /// Checks the seal: a `chat-item` record whose signature verifies and
    /// which covers exactly this item's certificate, id, encrypted bytes,
    /// expiry and kind. Returns the node key that sealed it; whether the
    /// certificate names that device is the receiver's check.
    pub fn check_seal(&self) -> Result<PublicKey, SealError> {
        let seal = Signed::<ItemSeal>::from_bytes(&self.seal)?;
        let covers = ItemSeal::of(self);
        let record = seal.record();
        if record.certificate != covers.certificate {
            return Err(SealError::OtherItem("certificate"));
        }
        if record.item != covers.item {
            return Err(SealError::OtherItem("item id"));
        }
        if record.sealed != covers.sealed {
            return Err(SealError::OtherItem("ciphertext"));
        }
        if record.expires_at_ms != covers.expires_at_ms || record.ephemeral != covers.ephemeral {
            return Err(SealError::OtherItem("expiry or kind"));
        }
        Ok(*seal.signer())
    }

    fn to_value(&self) -> Value {
        let (kind, session) = match &self.sealed {
            Sealed::OlmPreKey(_) => (0, None),
            Sealed::OlmNormal(_) => (1, None),
            Sealed::Megolm { session_id, .. } => (2, Some(session_id.clone())),
        };
        let mut entries = vec![
            (Value::Uint(0), Value::Bytes(self.id.to_vec())),
            (Value::Uint(1), Value::Bytes(self.certificate.clone())),
            (Value::Uint(2), Value::Uint(kind)),
            (Value::Uint(3), Value::Bytes(self.sealed.bytes().to_vec())),
            (Value::Uint(5), Value::Uint(self.expires_at_ms)),
            (Value::Uint(6), Value::Bool(self.ephemeral)),
            (Value::Uint(7), Value::Bytes(self.seal.clone())),
        ];
        if let Some(session) = session {
            entries.push((Value::Uint(4), Value::Text(session)));
        }
        Value::map_of(entries)
    }

    fn from_value(value: &Value) -> Result<SealedItem, ChatMessageError> {
        let f = Fields::named("chat item", value)?;
        let bytes = f.bytes(3)?.to_vec();
        if bytes.len() > MAX_SEALED_BYTES {
            return Err(limit(format!(
                "an encrypted event of {} bytes (the limit is {MAX_SEALED_BYTES})",
                bytes.len()
            )));
        }
        let sealed = match f.uint(2)? {
            0 => Sealed::OlmPreKey(bytes),
            1 => Sealed::OlmNormal(bytes),
            2 => {
                let session_id = f.text(4)?;
                if session_id.is_empty() || session_id.len() > 64 {
                    return Err(limit("a Megolm session id of 1 to 64 characters"));
                }
                Sealed::Megolm {
                    session_id: session_id.to_owned(),
                    bytes,
                }
            }
            other => return Err(limit(format!("unknown encryption {other}"))),
        };
        let certificate = f.bytes(1)?.to_vec();
        if certificate.len() > tallymesh_core::record::MAX_RECORD_BYTES {
            return Err(limit("a device certificate over the record limit"));
        }
        let seal = f.bytes(7)?.to_vec();
        if seal.len() > MAX_SEAL_BYTES {
            return Err(limit(format!("an item seal over {MAX_SEAL_BYTES} bytes")));
        }
        Ok(SealedItem {
            id: array(f.bytes(0)?, "an item id is 16 bytes")?,
            certificate,
            sealed,
            expires_at_ms: f.uint(5)?,
            ephemeral: f.bool(6)?,
            seal,
        })
    }

    /// The item's own bytes (deterministic CBOR), as a mailbox keeps it.
    pub fn encode(&self) -> Vec<u8> {
        cbor::encode(&self.to_value())
    }

    /// Reads an item a mailbox kept.
    pub fn decode(bytes: &[u8]) -> Result<SealedItem, ChatMessageError> {
        if bytes.len() > MAX_REQUEST_BYTES {
            return Err(limit("an item over the request limit"));
        }
        let value = cbor::decode(bytes).map_err(RecordError::from)?;
        SealedItem::from_value(&value)
    }
}

/// What one device asks of another on `/tallymesh/chat/1`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChatRequest {
    /// `chat/deliver`: an item for device `to` — the answering device
    /// itself, or another device of its party whose mail it holds.
    Deliver {
        /// The receiving device's peer id (multihash bytes).
        to: Vec<u8>,
        /// The item.
        item: SealedItem,
    },
    /// `chat/claim`: a one-time key of `device` (the answering device, or
    /// one whose keys it holds), to start an Olm session with it.
    Claim {
        /// The device's peer id bytes.
        device: Vec<u8>,
    },
    /// `chat/fetch`: a device of the party asks its mailbox for the items
    /// held for it, and hands it fresh one-time keys to give out.
    Fetch {
        /// Signed `chat-key` records of the asking device (may be empty).
        keys: Vec<Vec<u8>>,
    },
    /// `chat/ack`: the asking device kept these items; the mailbox drops
    /// them.
    Ack {
        /// The items' ids.
        ids: Vec<[u8; 16]>,
    },
    /// `chat/mailbox`: a device tells another device of its party that it
    /// holds mail, and where it listens.
    Mailbox {
        /// Its listen addresses (multiaddr text).
        addresses: Vec<String>,
    },
}

/// The answer to a [`ChatRequest`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChatResponse {
    /// `chat/taken`: the item was kept — by the device it was for, or
    /// (`held`) by a mailbox of its party.
    Taken {
        /// Kept by a mailbox, not by the device itself.
        held: bool,
    },
    /// `chat/key`: a signed `chat-key` record of the device asked for.
    Key {
        /// The record, as signed.
        key: Vec<u8>,
    },
    /// `chat/items`: items held for the asking device, oldest first.
    Items {
        /// The items.
        items: Vec<SealedItem>,
        /// More are held than fit in this answer.
        more: bool,
        /// How many one-time keys of the asking device the mailbox holds.
        keys_held: u64,
    },
    /// `chat/done`: an ack or a mailbox announcement was taken.
    Done {
        /// How many items were dropped (for an ack).
        count: u64,
    },
    /// `chat/refused`: nothing was kept.
    Refused {
        /// Why, for the program.
        reason: ChatRefusal,
        /// Why, for people (at most [`MAX_REFUSAL_CHARS`]).
        message: String,
    },
}

/// Why a chat request was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChatRefusal {
    /// The request does not read.
    BadRequest,
    /// The device is neither this one nor another of this party's.
    NotHere,
    /// The sending party is not a contact of the receiving party.
    NotAContact,
    /// The sending device's certificate does not verify for its party.
    BadCertificate,
    /// The event does not decrypt (altered, or not for this device).
    Undecryptable,
    /// No key of that device is held here.
    NoKeys,
    /// The mailbox holds as much as it will for that device.
    MailboxFull,
    /// The node cannot answer now (no identity, shutting down).
    Unavailable,
    /// The event needs something that has not arrived yet (a group's room
    /// key): try again later.
    Later,
    /// A reason of a newer version of the protocol.
    Other(u64),
}

impl ChatRefusal {
    /// The reason's code on the wire.
    pub fn code(self) -> u64 {
        match self {
            ChatRefusal::BadRequest => 0,
            ChatRefusal::NotHere => 1,
            ChatRefusal::NotAContact => 2,
            ChatRefusal::BadCertificate => 3,
            ChatRefusal::Undecryptable => 4,
            ChatRefusal::NoKeys => 5,
            ChatRefusal::MailboxFull => 6,
            ChatRefusal::Unavailable => 7,
            ChatRefusal::Later => 8,
            ChatRefusal::Other(code) => code,
        }
    }

    /// The reason of a code on the wire.
    pub fn from_code(code: u64) -> ChatRefusal {
        match code {
            0 => ChatRefusal::BadRequest,
            1 => ChatRefusal::NotHere,
            2 => ChatRefusal::NotAContact,
            3 => ChatRefusal::BadCertificate,
            4 => ChatRefusal::Undecryptable,
            5 => ChatRefusal::NoKeys,
            6 => ChatRefusal::MailboxFull,
            7 => ChatRefusal::Unavailable,
            8 => ChatRefusal::Later,
            other => ChatRefusal::Other(other),
        }
    }
}

fn body_of(bytes: &[u8], limits: &Limits) -> Result<(String, Value), ChatMessageError> {
    let envelope = Envelope::decode(bytes, limits, &[CHAT_VERSION])?;
    let value = cbor::decode(&envelope.body).map_err(RecordError::from)?;
    Ok((envelope.kind, value))
}

fn seal(kind: &str, body: &Value) -> Vec<u8> {
    Envelope::new(CHAT_VERSION, kind, cbor::encode(body)).encode()
}

fn array<const N: usize>(bytes: &[u8], problem: &str) -> Result<[u8; N], ChatMessageError> {
    bytes.try_into().map_err(|_| limit(problem))
}

fn peer_bytes(bytes: &[u8]) -> Result<Vec<u8>, ChatMessageError> {
    if bytes.is_empty() || bytes.len() > 64 {
        return Err(limit("a peer id of 1 to 64 bytes"));
    }
    Ok(bytes.to_vec())
}

impl ChatRequest {
    /// The envelope bytes of the request.
    pub fn encode(&self) -> Vec<u8> {
        match self {
            ChatRequest::Deliver { to, item } => seal(
                DELIVER,
                &Value::map([(0, Value::Bytes(to.clone())), (1, item.to_value())]),
            ),
            ChatRequest::Claim { device } => seal(CLAIM, &Value::map([(0, Value::Bytes(device.clone()))])),
            ChatRequest::Fetch { keys } => seal(
                FETCH,
                &Value::map([(0, Value::Array(keys.iter().cloned().map(Value::Bytes).collect()))]),
            ),
            ChatRequest::Ack { ids } => seal(
                ACK,
                &Value::map([(
                    0,
                    Value::Array(ids.iter().map(|id| Value::Bytes(id.to_vec())).collect()),
                )]),
            ),
            ChatRequest::Mailbox { addresses } => seal(
                MAILBOX,
                &Value::map([(0, Value::Array(addresses.iter().cloned().map(Value::Text).collect()))]),
            ),
        }
    }

    /// Reads a request from untrusted bytes: size, envelope, shape, limits.
    /// Nothing inside is verified or decrypted here.
    pub fn decode(bytes: &[u8]) -> Result<ChatRequest, ChatMessageError> {
        let (kind, value) = body_of(bytes, &request_limits())?;
        let f = Fields::named("chat request", &value)?;
        match kind.as_str() {
            DELIVER => Ok(ChatRequest::Deliver {
                to: peer_bytes(f.bytes(0)?)?,
                item: SealedItem::from_value(f.required(1)?)?,
            }),
            CLAIM => Ok(ChatRequest::Claim {
                device: peer_bytes(f.bytes(0)?)?,
            }),
            FETCH => {
                let keys = f.array(0)?;
                if keys.len() > MAX_KEYS_PER_BATCH {
                    return Err(limit(format!("more than {MAX_KEYS_PER_BATCH} keys in one batch")));
                }
                let keys = keys
                    .iter()
                    .map(|key| match key {
                        Value::Bytes(bytes) if bytes.len() <= 1024 => Ok(bytes.clone()),
                        _ => Err(limit("a key record is bytes of at most 1 KiB")),
                    })
                    .collect::<Result<_, _>>()?;
                Ok(ChatRequest::Fetch { keys })
            }
            ACK => {
                let ids = f.array(0)?;
                if ids.len() > MAX_ITEMS_PER_FETCH {
                    return Err(limit(format!("more than {MAX_ITEMS_PER_FETCH} ids in one ack")));
                }
                let ids = ids
                    .iter()
                    .map(|id| match id {
                        Value::Bytes(bytes) => array(bytes, "an item id is 16 bytes"),
                        _ => Err(limit("an item id is 16 bytes")),
                    })
                    .collect::<Result<_, _>>()?;
                Ok(ChatRequest::Ack { ids })
            }
            MAILBOX => {
                let addresses = f.array(0)?;
                if addresses.len() > MAX_MAILBOX_ADDRESSES {
                    return Err(limit(format!("more than {MAX_MAILBOX_ADDRESSES} addresses")));
                }
                let addresses = addresses
                    .iter()
                    .map(|a| match a {
                        Value::Text(text) if !text.is_empty() && text.len() <= 256 => Ok(text.clone()),
                        _ => Err(limit("an address is text of 1 to 256 bytes")),
                    })
                    .collect::<Result<_, _>>()?;
                Ok(ChatRequest::Mailbox { addresses })
            }
            _ => Err(ChatMessageError::UnknownKind(kind)),
        }
    }
}

impl ChatResponse {
    /// A refusal, its message cut to [`MAX_REFUSAL_CHARS`].
    pub fn refused(reason: ChatRefusal, message: &str) -> ChatResponse {
        ChatResponse::Refused {
            reason,
            message: message.chars().take(MAX_REFUSAL_CHARS).collect(),
        }
    }

    /// The envelope bytes of the response.
    pub fn encode(&self) -> Vec<u8> {
        match self {
            ChatResponse::Taken { held } => seal(TAKEN, &Value::map([(0, Value::Bool(*held))])),
            ChatResponse::Key { key } => seal(KEY, &Value::map([(0, Value::Bytes(key.clone()))])),
            ChatResponse::Items { items, more, keys_held } => seal(
                ITEMS,
                &Value::map([
                    (0, Value::Array(items.iter().map(SealedItem::to_value).collect())),
                    (1, Value::Bool(*more)),
                    (2, Value::Uint(*keys_held)),
                ]),
            ),
            ChatResponse::Done { count } => seal(DONE, &Value::map([(0, Value::Uint(*count))])),
            ChatResponse::Refused { reason, message } => seal(
                REFUSED,
                &Value::map([(0, Value::Uint(reason.code())), (1, Value::Text(message.clone()))]),
            ),
        }
    }

    /// Reads a response from untrusted bytes.
    pub fn decode(bytes: &[u8]) -> Result<ChatResponse, ChatMessageError> {
        let (kind, value) = body_of(bytes, &response_limits())?;
        let f = Fields::named("chat response", &value)?;
        match kind.as_str() {
            TAKEN => Ok(ChatResponse::Taken { held: f.bool(0)? }),
            KEY => {
                let key = f.bytes(0)?;
                if key.len() > 1024 {
                    return Err(limit("a key record is at most 1 KiB"));
                }
                Ok(ChatResponse::Key { key: key.to_vec() })
            }
            ITEMS => {
                let items = f.array(0)?;
                if items.len() > MAX_ITEMS_PER_FETCH {
                    return Err(limit(format!("more than {MAX_ITEMS_PER_FETCH} items in one answer")));
                }
                Ok(ChatResponse::Items {
                    items: items.iter().map(SealedItem::from_value).collect::<Result<_, _>>()?,
                    more: f.bool(1)?,
                    keys_held: f.uint(2)?,
                })
            }
            DONE => Ok(ChatResponse::Done { count: f.uint(0)? }),
            REFUSED => Ok(ChatResponse::refused(ChatRefusal::from_code(f.uint(0)?), f.text(1)?)),
            _ => Err(ChatMessageError::UnknownKind(kind)),
        }
    }
}

/// A group conversation's name and members, as its creator set them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupInfo {
    /// Its name, 1 to [`MAX_GROUP_NAME_CHARS`] characters.
    pub name: String,
    /// The party keys of its members, the creator included, 2 to
    /// [`MAX_GROUP_MEMBERS`], no repeats.
    pub members: Vec<[u8; 32]>,
}

impl GroupInfo {
    /// Checks the name and the member list.
    pub fn check(&self) -> Result<(), ChatMessageError> {
        let chars = self.name.trim().chars().count();
        if chars == 0 || chars > MAX_GROUP_NAME_CHARS || self.name.chars().any(char::is_control) {
            return Err(limit(format!(
                "a group name has 1 to {MAX_GROUP_NAME_CHARS} characters"
            )));
        }
        if self.members.len() < 2 || self.members.len() > MAX_GROUP_MEMBERS {
            return Err(limit(format!("a group has 2 to {MAX_GROUP_MEMBERS} members")));
        }
        let mut sorted = self.members.clone();
        sorted.sort_unstable();
        sorted.dedup();
        if sorted.len() != self.members.len() {
            return Err(limit("a group lists each member once"));
        }
        Ok(())
    }

    fn to_value(&self) -> Value {
        Value::map([
            (0, Value::Text(self.name.clone())),
            (
                1,
                Value::Array(self.members.iter().map(|m| Value::Bytes(m.to_vec())).collect()),
            ),
        ])
    }

    fn from_value(value: &Value) -> Result<GroupInfo, ChatMessageError> {
        let f = Fields::named("chat group", value)?;
        let members = f.array(1)?;
        if members.len() > MAX_GROUP_MEMBERS {
            return Err(limit(format!("a group has 2 to {MAX_GROUP_MEMBERS} members")));
        }
        let info = GroupInfo {
            name: f.text(0)?.to_owned(),
            members: members
                .iter()
                .map(|m| match m {
                    Value::Bytes(bytes) => array(bytes, "a member is a 32-byte party key"),
                    _ => Err(limit("a member is a 32-byte party key")),
                })
                .collect::<Result<_, _>>()?,
        };
        info.check()?;
        Ok(info)
    }
}

/// What a message says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body {
    /// Text, 1 to [`MAX_TEXT_BYTES`] bytes.
    Text(String),
    /// "Pay me": an amount on a tally both parties hold.
    PaymentRequest {
        /// The tally (its UUID bytes).
        tally: [u8; 16],
        /// The amount, in the tally's smallest unit, above zero.
        units: u64,
        /// What for, at most [`MAX_MEMO_BYTES`].
        memo: String,
    },
    /// "Paid": the chit that answers a payment request.
    Payment {
        /// The request's message id.
        request: MessageId,
        /// The tally.
        tally: [u8; 16],
        /// The chit's id (SHA-256 of its signed bytes).
        chit: [u8; 32],
        /// The amount paid.
        units: u64,
    },
    /// Something that happened on a tally with the partner, shown in the
    /// thread. Only made by the node itself for its own thread; never sent.
    TallyEvent {
        /// The tally.
        tally: [u8; 16],
        /// What happened, in words.
        what: String,
    },
    /// Reserved for bearer token offers: carried, not yet acted on.
    TokenOffer {
        /// The offer's bytes.
        offer: Vec<u8>,
    },
}

impl Body {
    /// Checks the body's limits (what a sender must meet too).
    pub fn check(&self) -> Result<(), ChatMessageError> {
        match self {
            Body::Text(text) => {
                if text.trim().is_empty() {
                    return Err(limit("an empty message"));
                }
                if text.len() > MAX_TEXT_BYTES {
                    return Err(limit(format!(
                        "a message of {} bytes (the limit is {MAX_TEXT_BYTES})",
                        text.len()
                    )));
                }
                if text.contains('\0') {
                    return Err(limit("a message with a NUL character"));
                }
            }
            Body::PaymentRequest { units, memo, .. } => {
                if *units == 0 || i64::try_from(*units).is_err() {
                    return Err(limit("a payment request asks for more than zero"));
                }
                if memo.len() > MAX_MEMO_BYTES {
                    return Err(limit(format!("a memo of at most {MAX_MEMO_BYTES} bytes")));
                }
            }
            Body::Payment { units, .. } => {
                if *units == 0 {
                    return Err(limit("a payment of zero"));
                }
            }
            Body::TallyEvent { what, .. } => {
                if what.len() > MAX_MEMO_BYTES {
                    return Err(limit("a tally event's words are too long"));
                }
            }
            Body::TokenOffer { offer } => {
                if offer.len() > MAX_TEXT_BYTES {
                    return Err(limit("a token offer is too large"));
                }
            }
        }
        Ok(())
    }

    fn to_value(&self) -> Value {
        match self {
            Body::Text(text) => Value::map([(0, Value::Uint(0)), (1, Value::Text(text.clone()))]),
            Body::PaymentRequest { tally, units, memo } => Value::map([
                (0, Value::Uint(1)),
                (2, Value::Bytes(tally.to_vec())),
                (3, Value::Uint(*units)),
                (4, Value::Text(memo.clone())),
            ]),
            Body::Payment {
                request,
                tally,
                chit,
                units,
            } => Value::map([
                (0, Value::Uint(2)),
                (2, Value::Bytes(tally.to_vec())),
                (3, Value::Uint(*units)),
                (5, Value::Bytes(request.to_vec())),
                (6, Value::Bytes(chit.to_vec())),
            ]),
            Body::TallyEvent { tally, what } => Value::map([
                (0, Value::Uint(3)),
                (2, Value::Bytes(tally.to_vec())),
                (8, Value::Text(what.clone())),
            ]),
            Body::TokenOffer { offer } => Value::map([(0, Value::Uint(4)), (7, Value::Bytes(offer.clone()))]),
        }
    }

    fn from_value(value: &Value) -> Result<Body, ChatMessageError> {
        let f = Fields::named("chat body", value)?;
        let body = match f.uint(0)? {
            0 => Body::Text(f.text(1)?.to_owned()),
            1 => Body::PaymentRequest {
                tally: array(f.bytes(2)?, "a tally id is 16 bytes")?,
                units: f.uint(3)?,
                memo: f.text(4)?.to_owned(),
            },
            2 => Body::Payment {
                request: array(f.bytes(5)?, "a message id is 16 bytes")?,
                tally: array(f.bytes(2)?, "a tally id is 16 bytes")?,
                chit: array(f.bytes(6)?, "a chit id is 32 bytes")?,
                units: f.uint(3)?,
            },
            3 => Body::TallyEvent {
                tally: array(f.bytes(2)?, "a tally id is 16 bytes")?,
                what: f.text(8)?.to_owned(),
            },
            4 => Body::TokenOffer {
                offer: f.bytes(7)?.to_vec(),
            },
            other => return Err(limit(format!("unknown message kind {other}"))),
        };
        body.check()?;
        Ok(body)
    }

    /// The body's own bytes (deterministic CBOR), as a node stores it.
    pub fn encode(&self) -> Vec<u8> {
        cbor::encode(&self.to_value())
    }

    /// Reads a stored body.
    pub fn decode(bytes: &[u8]) -> Result<Body, ChatMessageError> {
        let value = cbor::decode(bytes).map_err(RecordError::from)?;
        Body::from_value(&value)
    }
}

/// The plaintext inside one encrypted item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChatEvent {
    /// A message of a conversation.
    Message {
        /// The conversation.
        conversation: ConversationId,
        /// The message's id (a [`Ulid`]).
        id: MessageId,
        /// On the copy a sender gives its own other devices of a one-to-one
        /// message: the other party's key, so they know the conversation.
        peer: Option<[u8; 32]>,
        /// What it says.
        body: Body,
    },
    /// Messages of the receiver's party were delivered to, or read on, a
    /// device of the sender's party.
    Receipt {
        /// The conversation.
        conversation: ConversationId,
        /// The messages, 1 to [`MAX_RECEIPT_IDS`].
        ids: Vec<MessageId>,
        /// Read, not only delivered.
        read: bool,
    },
    /// The sender started or stopped typing. Never stored.
    Typing {
        /// The conversation.
        conversation: ConversationId,
        /// Typing now.
        typing: bool,
    },
    /// A group's Megolm room key, sent over Olm to each device of the
    /// group, with the group's name and members.
    RoomKey {
        /// The group conversation.
        conversation: ConversationId,
        /// Its name and members.
        group: GroupInfo,
        /// The Megolm session key, as vodozemac exports it.
        session_key: Vec<u8>,
    },
}

impl ChatEvent {
    /// The conversation the event is about.
    pub fn conversation(&self) -> &ConversationId {
        match self {
            ChatEvent::Message { conversation, .. }
            | ChatEvent::Receipt { conversation, .. }
            | ChatEvent::Typing { conversation, .. }
            | ChatEvent::RoomKey { conversation, .. } => conversation,
        }
    }

    /// The deterministic CBOR the sender encrypts.
    pub fn encode(&self) -> Vec<u8> {
        let value = match self {
            ChatEvent::Message {
                conversation,
                id,
                peer,
                body,
            } => {
                let mut entries = vec![
                    (Value::Uint(0), Value::Uint(1)),
                    (Value::Uint(1), Value::Uint(0)),
                    (Value::Uint(2), Value::Bytes(conversation.to_vec())),
                    (Value::Uint(3), Value::Bytes(id.to_vec())),
                    (Value::Uint(4), body.to_value()),
                ];
                if let Some(peer) = peer {
                    entries.push((Value::Uint(10), Value::Bytes(peer.to_vec())));
                }
                Value::map_of(entries)
            }
            ChatEvent::Receipt {
                conversation,
                ids,
                read,
            } => Value::map([
                (0, Value::Uint(1)),
                (1, Value::Uint(1)),
                (2, Value::Bytes(conversation.to_vec())),
                (
                    5,
                    Value::Array(ids.iter().map(|id| Value::Bytes(id.to_vec())).collect()),
                ),
                (6, Value::Bool(*read)),
            ]),
            ChatEvent::Typing { conversation, typing } => Value::map([
                (0, Value::Uint(1)),
                (1, Value::Uint(2)),
                (2, Value::Bytes(conversation.to_vec())),
                (7, Value::Bool(*typing)),
            ]),
            ChatEvent::RoomKey {
                conversation,
                group,
                session_key,
            } => Value::map([
                (0, Value::Uint(1)),
                (1, Value::Uint(3)),
                (2, Value::Bytes(conversation.to_vec())),
                (8, group.to_value()),
                (9, Value::Bytes(session_key.clone())),
            ]),
        };
        cbor::encode(&value)
    }

    /// Reads decrypted bytes. A sender could put anything inside the
    /// encryption, so this is as strict as the wire.
    pub fn decode(bytes: &[u8]) -> Result<ChatEvent, ChatMessageError> {
        if bytes.len() > MAX_SEALED_BYTES {
            return Err(limit("an event over the size limit"));
        }
        let value = cbor::decode(bytes).map_err(RecordError::from)?;
        ChatEvent::from_value(&value)
    }

    /// The plaintext of one item carrying several events: the CBOR array of
    /// the events, each as [`ChatEvent::encode`] made it (deterministic
    /// CBOR, so the array is too). One event is sent as itself, not as an
    /// array of one.
    ///
    /// # Panics
    /// Never for at most [`MAX_EVENTS_PER_ITEM`] events; more is a bug of
    /// the caller, refused in debug builds.
    pub fn bundle(encoded: &[&[u8]]) -> Vec<u8> {
        debug_assert!(
            (1..=MAX_EVENTS_PER_ITEM).contains(&encoded.len()),
            "a bundle carries 1 to {MAX_EVENTS_PER_ITEM} events"
        );
        let count = u8::try_from(encoded.len().min(MAX_EVENTS_PER_ITEM)).unwrap_or(0);
        let mut bytes = Vec::with_capacity(1 + encoded.iter().map(|e| e.len()).sum::<usize>());
        // An array of fewer than 24 items: major type 4 with its length.
        bytes.push(0x80 | count);
        for event in encoded.iter().take(MAX_EVENTS_PER_ITEM) {
            bytes.extend_from_slice(event);
        }
        bytes
    }

    /// Reads the decrypted plaintext of an item: one event, or an array of
    /// 1 to [`MAX_EVENTS_PER_ITEM`] events (a bundle), in the order they
    /// are applied.
    pub fn decode_all(bytes: &[u8]) -> Result<Vec<ChatEvent>, ChatMessageError> {
        if bytes.len() > MAX_SEALED_BYTES {
            return Err(limit("an event over the size limit"));
        }
        let value = cbor::decode(bytes).map_err(RecordError::from)?;
        match &value {
            Value::Array(events) => {
                if events.is_empty() || events.len() > MAX_EVENTS_PER_ITEM {
                    return Err(limit(format!("an item carries 1 to {MAX_EVENTS_PER_ITEM} events")));
                }
                events.iter().map(ChatEvent::from_value).collect()
            }
            single => Ok(vec![ChatEvent::from_value(single)?]),
        }
    }

    fn from_value(value: &Value) -> Result<ChatEvent, ChatMessageError> {
        let f = Fields::named("chat event", value)?;
        f.version(&[1])?;
        let conversation = array(f.bytes(2)?, "a conversation id is 16 bytes")?;
        Ok(match f.uint(1)? {
            0 => ChatEvent::Message {
                conversation,
                id: array(f.bytes(3)?, "a message id is 16 bytes")?,
                peer: f
                    .opt_bytes(10)?
                    .map(|peer| array(peer, "a party key is 32 bytes"))
                    .transpose()?,
                body: Body::from_value(f.required(4)?)?,
            },
            1 => {
                let ids = f.array(5)?;
                if ids.is_empty() || ids.len() > MAX_RECEIPT_IDS {
                    return Err(limit(format!("a receipt names 1 to {MAX_RECEIPT_IDS} messages")));
                }
                ChatEvent::Receipt {
                    conversation,
                    ids: ids
                        .iter()
                        .map(|id| match id {
                            Value::Bytes(bytes) => array(bytes, "a message id is 16 bytes"),
                            _ => Err(limit("a message id is 16 bytes")),
                        })
                        .collect::<Result<_, _>>()?,
                    read: f.bool(6)?,
                }
            }
            2 => ChatEvent::Typing {
                conversation,
                typing: f.bool(7)?,
            },
            3 => {
                let session_key = f.bytes(9)?;
                if session_key.is_empty() || session_key.len() > 1024 {
                    return Err(limit("a room key of 1 to 1024 bytes"));
                }
                ChatEvent::RoomKey {
                    conversation,
                    group: GroupInfo::from_value(f.required(8)?)?,
                    session_key: session_key.to_vec(),
                }
            }
            other => return Err(limit(format!("unknown event kind {other}"))),
        })
    }
}

/// The id of the one-to-one conversation between two parties, the same
/// whichever side computes it: the first 16 bytes of
/// `SHA-256("tallymesh/v1/chat-direct" ‖ 0x00 ‖ smaller key ‖ larger key)`.
pub fn direct_conversation(a: &[u8; 32], b: &[u8; 32]) -> ConversationId {
    let (low, high) = if a <= b { (a, b) } else { (b, a) };
    let mut input = Vec::with_capacity(24 + 1 + 64);
    input.extend_from_slice(b"tallymesh/v1/chat-direct");
    input.push(0);
    input.extend_from_slice(low);
    input.extend_from_slice(high);
    let digest = Digest::of(&input);
    let mut id = [0u8; 16];
    id.copy_from_slice(&digest.0[..16]);
    id
}

/// A one-time key of a device, signed by the device's node key (kind
/// `chat-key`): what a mailbox hands out so a session can start while the
/// device is away.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatKey {
    /// The device's peer id bytes.
    pub peer_id: Vec<u8>,
    /// The device's Curve25519 chat identity key.
    pub identity_key: [u8; 32],
    /// The one-time (or fallback) Curve25519 key.
    pub key: [u8; 32],
    /// A fallback key: handed out again and again once the one-time keys
    /// are gone.
    pub fallback: bool,
    /// When the device signed it (ms).
    pub issued_at_ms: u64,
}

impl Record for ChatKey {
    const KIND: &'static str = "chat-key";

    fn to_value(&self) -> Value {
        Value::map([
            (0, Value::Uint(1)),
            (1, Value::Bytes(self.peer_id.clone())),
            (2, Value::Bytes(self.identity_key.to_vec())),
            (3, Value::Bytes(self.key.to_vec())),
            (4, Value::Bool(self.fallback)),
            (5, Value::Uint(self.issued_at_ms)),
        ])
    }

    fn from_value(value: &Value) -> Result<Self, RecordError> {
        let f = Fields::named("chat key", value)?;
        f.version(&[1])?;
        let key32 = |field| -> Result<[u8; 32], RecordError> {
            f.bytes(field)?
                .try_into()
                .map_err(|_| RecordError::Invalid("a chat key is 32 bytes".into()))
        };
        let peer_id = f.bytes(1)?.to_vec();
        if peer_id.is_empty() || peer_id.len() > 64 {
            return Err(RecordError::Invalid("a chat key needs a peer id".into()));
        }
        Ok(ChatKey {
            peer_id,
            identity_key: key32(2)?,
            key: key32(3)?,
            fallback: f.bool(4)?,
            issued_at_ms: f.uint(5)?,
        })
    }
}

/// A ULID: 48 bits of milliseconds since the Unix epoch, then 80 random
/// bits. Its 16 bytes (big-endian) and its 26-character Crockford base32
/// text both sort in time order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Ulid(u128);

const CROCKFORD: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

impl Ulid {
    /// The ULID of `millis` (only its low 48 bits count) and `random`.
    pub fn from_parts(millis: u64, random: [u8; 10]) -> Ulid {
        let mut bytes = [0u8; 16];
        bytes[..6].copy_from_slice(&millis.to_be_bytes()[2..]);
        bytes[6..].copy_from_slice(&random);
        Ulid(u128::from_be_bytes(bytes))
    }

    /// The ULID of these 16 bytes.
    pub fn from_bytes(bytes: [u8; 16]) -> Ulid {
        Ulid(u128::from_be_bytes(bytes))
    }

    /// Its 16 bytes.
    pub fn to_bytes(self) -> [u8; 16] {
        self.0.to_be_bytes()
    }

    /// Its milliseconds since the Unix epoch.
    pub fn millis(self) -> u64 {
        u64::try_from(self.0 >> 80).unwrap_or(u64::MAX)
    }

    /// The next ULID after this one in the same millisecond (for ids made
    /// faster than the clock ticks), or `None` at the very end.
    pub fn successor(self) -> Option<Ulid> {
        self.0.checked_add(1).map(Ulid)
    }

    /// Its 26-character text.
    pub fn to_text(self) -> String {
        (0..26)
            .map(|i| {
                let shift = 125 - 5 * i;
                char::from(CROCKFORD[usize::try_from((self.0 >> shift) & 0x1f).unwrap_or(0)])
            })
            .collect()
    }

    /// Reads the 26-character text (case-insensitive; `I`, `L` read as 1
    /// and `O` as 0, as Crockford's alphabet says).
    pub fn parse(text: &str) -> Option<Ulid> {
        let text = text.trim();
        if text.len() != 26 {
            return None;
        }
        let mut value: u128 = 0;
        for (i, c) in text.chars().enumerate() {
            let c = match c.to_ascii_uppercase() {
                'I' | 'L' => '1',
                'O' => '0',
                other => other,
            };
            let digit = CROCKFORD.iter().position(|d| char::from(*d) == c)?;
            // The first character holds only 3 bits (128 = 3 + 25 × 5).
            if i == 0 && digit > 7 {
                return None;
            }
            value = (value << 5) | u128::try_from(digit).ok()?;
        }
        Some(Ulid(value))
    }
}

impl std::fmt::Display for Ulid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_text())
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn item(sealed: Sealed) -> SealedItem {
        SealedItem {
            id: [3; 16],
            certificate: vec![0xa0, 1, 2],
            sealed,
            expires_at_ms: 1_795_000_000_000,
            ephemeral: false,
            seal: Vec::new(),
        }
        .sealed_by(&SecretKey::from_seed(&[2; 32]))
    }

    #[test]
    fn a_seal_names_the_device_that_made_it_and_covers_every_field_of_its_item() {
        let device = SecretKey::from_seed(&[2; 32]);
        let sealed = item(Sealed::OlmNormal(vec![4; 10]));
        let read = SealedItem::decode(&sealed.encode()).unwrap();
        assert_eq!(read.check_seal().unwrap(), device.public());

        type Change = (&'static str, fn(&mut SealedItem));
        let changes: [Change; 5] = [
            ("certificate", |i| i.certificate.push(0)),
            ("item id", |i| i.id[0] ^= 1),
            ("ciphertext", |i| i.sealed = Sealed::OlmNormal(vec![5; 10])),
            ("expiry or kind", |i| i.expires_at_ms += 1),
            ("expiry or kind", |i| i.ephemeral = true),
        ];
        for (what, change) in changes {
            let mut altered = sealed.clone();
            change(&mut altered);
            assert_eq!(altered.check_seal(), Err(SealError::OtherItem(what)));
        }
        let mut flipped = sealed.clone();
        let last = flipped.seal.len() - 1;
        flipped.seal[last] ^= 1;
        assert!(matches!(flipped.check_seal(), Err(SealError::Unreadable(_))));
        let unsealed = SealedItem {
            seal: Vec::new(),
            ..sealed
        };
        assert!(matches!(unsealed.check_seal(), Err(SealError::Unreadable(_))));
    }

    #[test]
    fn a_seal_and_a_certificate_its_party_never_signed_are_evidence_against_the_device() {
        use tallymesh_core::device::{DeviceCertificate, peer_id_bytes};
        use tallymesh_core::trust::{Evidence, EvidenceKind};
        use tallymesh_core::{PartyId, Timestamp};

        let (party, device, forger) = (
            SecretKey::from_seed(&[1; 32]),
            SecretKey::from_seed(&[2; 32]),
            SecretKey::from_seed(&[3; 32]),
        );
        let certificate = |signer: &SecretKey| {
            Signed::sign(
                DeviceCertificate {
                    party: PartyId::new(party.public()),
                    peer_id: peer_id_bytes(&device.public()),
                    name: "Phone".into(),
                    issued_at: Timestamp::from_millis(1),
                    chat_identity_key: Some([8; 32]),
                    expires_at: None,
                },
                signer,
            )
        };
        let sealed_under = |certificate: &Signed<DeviceCertificate>| {
            SealedItem {
                certificate: certificate.bytes().to_vec(),
                ..item(Sealed::OlmPreKey(vec![6; 40]))
            }
            .sealed_by(&device)
        };
        let evidence_of = |item: &SealedItem| {
            Evidence::new(
                EvidenceKind::ForgedCertificate,
                item.seal.clone(),
                item.certificate.clone(),
                None,
            )
        };

        let forged = sealed_under(&certificate(&forger));
        let evidence = evidence_of(&forged);
        let finding = Evidence::from_bytes(evidence.bytes()).unwrap().verify().unwrap();
        assert_eq!(finding.node, device.public());
        assert!(finding.summary.contains("never signed"), "{}", finding.summary);

        // Under the party's own certificate the same kind of seal proves nothing.
        let genuine = sealed_under(&certificate(&party));
        assert!(evidence_of(&genuine).verify().is_err());
    }

    #[test]
    fn an_item_without_a_seal_or_with_an_oversized_one_does_not_read() {
        let mut value = item(Sealed::OlmNormal(vec![1])).to_value();
        if let Value::Map(entries) = &mut value {
            entries.retain(|(k, _)| *k != Value::Uint(7));
        }
        assert!(SealedItem::decode(&cbor::encode(&value)).is_err());
        let oversized = SealedItem {
            seal: vec![0; MAX_SEAL_BYTES + 1],
            ..item(Sealed::OlmNormal(vec![1]))
        };
        let err = SealedItem::decode(&oversized.encode()).unwrap_err();
        assert!(err.to_string().contains("seal"), "{err}");
    }

    #[test]
    fn every_request_round_trips() {
        let requests = [
            ChatRequest::Deliver {
                to: vec![0, 36, 8, 1],
                item: item(Sealed::OlmPreKey(vec![9; 300])),
            },
            ChatRequest::Deliver {
                to: vec![1],
                item: item(Sealed::Megolm {
                    session_id: "abc".into(),
                    bytes: vec![1, 2],
                }),
            },
            ChatRequest::Claim { device: vec![5; 38] },
            ChatRequest::Fetch {
                keys: vec![vec![1; 100], vec![]],
            },
            ChatRequest::Ack {
                ids: vec![[1; 16], [2; 16]],
            },
            ChatRequest::Mailbox {
                addresses: vec!["/ip4/127.0.0.1/tcp/4001".into()],
            },
        ];
        for request in requests {
            assert_eq!(ChatRequest::decode(&request.encode()).unwrap(), request);
        }
    }

    #[test]
    fn every_response_round_trips() {
        let responses = [
            ChatResponse::Taken { held: true },
            ChatResponse::Key { key: vec![7; 200] },
            ChatResponse::Items {
                items: vec![item(Sealed::OlmNormal(vec![4; 10]))],
                more: true,
                keys_held: 12,
            },
            ChatResponse::Done { count: 3 },
            ChatResponse::refused(ChatRefusal::BadCertificate, "no"),
            ChatResponse::refused(ChatRefusal::Other(77), "newer"),
        ];
        for response in responses {
            assert_eq!(ChatResponse::decode(&response.encode()).unwrap(), response);
        }
    }

    #[test]
    fn a_request_over_the_limit_is_refused_before_decoding() {
        let bytes = vec![0u8; MAX_REQUEST_BYTES + 1];
        assert!(matches!(
            ChatRequest::decode(&bytes),
            Err(ChatMessageError::Envelope(EnvelopeError::TooLarge { .. }))
        ));
    }

    #[test]
    fn an_encrypted_event_over_its_limit_is_refused() {
        let request = ChatRequest::Deliver {
            to: vec![1],
            item: item(Sealed::OlmNormal(vec![0; MAX_SEALED_BYTES + 1])),
        };
        let err = ChatRequest::decode(&request.encode()).unwrap_err();
        assert!(err.to_string().contains("the limit is"), "{err}");
    }

    #[test]
    fn text_over_the_limit_or_empty_is_refused() {
        assert!(Body::Text("x".repeat(MAX_TEXT_BYTES)).check().is_ok());
        let long = Body::Text("x".repeat(MAX_TEXT_BYTES + 1));
        assert!(long.check().unwrap_err().to_string().contains("4096"));
        assert!(Body::Text("   ".into()).check().is_err());
        let event = ChatEvent::Message {
            conversation: [1; 16],
            id: [2; 16],
            peer: None,
            body: long,
        };
        assert!(ChatEvent::decode(&event.encode()).is_err());
    }

    #[test]
    fn every_event_round_trips() {
        let events = [
            ChatEvent::Message {
                conversation: [1; 16],
                id: [2; 16],
                peer: Some([6; 32]),
                body: Body::PaymentRequest {
                    tally: [3; 16],
                    units: 12_500,
                    memo: "lunch".into(),
                },
            },
            ChatEvent::Message {
                conversation: [1; 16],
                id: [2; 16],
                peer: None,
                body: Body::Payment {
                    request: [4; 16],
                    tally: [3; 16],
                    chit: [5; 32],
                    units: 12_500,
                },
            },
            ChatEvent::Message {
                conversation: [1; 16],
                id: [2; 16],
                peer: None,
                body: Body::TokenOffer { offer: vec![1, 2, 3] },
            },
            ChatEvent::Receipt {
                conversation: [1; 16],
                ids: vec![[2; 16], [3; 16]],
                read: true,
            },
            ChatEvent::Typing {
                conversation: [1; 16],
                typing: true,
            },
            ChatEvent::RoomKey {
                conversation: [1; 16],
                group: GroupInfo {
                    name: "Market".into(),
                    members: vec![[1; 32], [2; 32], [3; 32]],
                },
                session_key: vec![8; 229],
            },
        ];
        for event in events {
            assert_eq!(ChatEvent::decode(&event.encode()).unwrap(), event);
        }
    }

    fn text_event(n: u8, text: &str) -> ChatEvent {
        ChatEvent::Message {
            conversation: [1; 16],
            id: [n; 16],
            peer: None,
            body: Body::Text(text.into()),
        }
    }

    #[test]
    fn a_bundle_reads_back_as_its_events_in_order_and_one_event_as_a_list_of_one() {
        let events: Vec<ChatEvent> = (1..=3).map(|n| text_event(n, &format!("message {n}"))).collect();
        let encoded: Vec<Vec<u8>> = events.iter().map(ChatEvent::encode).collect();
        let slices: Vec<&[u8]> = encoded.iter().map(Vec::as_slice).collect();
        let bundle = ChatEvent::bundle(&slices);
        assert_eq!(ChatEvent::decode_all(&bundle).unwrap(), events);
        assert_eq!(
            ChatEvent::decode_all(&events[0].encode()).unwrap(),
            vec![events[0].clone()],
            "an item carrying one event reads as that event"
        );
        assert!(
            ChatEvent::decode(&bundle).is_err(),
            "a bundle is not one event: only decode_all reads it"
        );
    }

    #[test]
    fn a_bundle_of_none_of_too_many_or_of_bundles_is_refused() {
        assert!(ChatEvent::decode_all(&[0x80]).is_err(), "an empty bundle");
        let one = text_event(1, "hello").encode();
        let mut seventeen = vec![0x91];
        for _ in 0..=MAX_EVENTS_PER_ITEM {
            seventeen.extend_from_slice(&one);
        }
        let error = ChatEvent::decode_all(&seventeen).unwrap_err().to_string();
        assert!(error.contains("1 to 16 events"), "{error}");
        let inner = ChatEvent::bundle(&[&one, &one]);
        let nested = ChatEvent::bundle(&[&one, &inner]);
        assert!(ChatEvent::decode_all(&nested).is_err(), "a bundle inside a bundle");
        let mut not_an_event = vec![0x82];
        not_an_event.extend_from_slice(&one);
        not_an_event.push(0x01);
        assert!(
            ChatEvent::decode_all(&not_an_event).is_err(),
            "a number among the events"
        );
    }

    #[test]
    fn a_group_with_a_repeated_member_or_one_member_is_refused() {
        let once = GroupInfo {
            name: "x".into(),
            members: vec![[1; 32]],
        };
        assert!(once.check().is_err());
        let twice = GroupInfo {
            name: "x".into(),
            members: vec![[1; 32], [1; 32]],
        };
        assert!(twice.check().is_err());
    }

    #[test]
    fn a_direct_conversation_id_is_the_same_from_both_sides() {
        let (a, b) = ([1u8; 32], [2u8; 32]);
        assert_eq!(direct_conversation(&a, &b), direct_conversation(&b, &a));
        assert_ne!(direct_conversation(&a, &b), direct_conversation(&a, &[3; 32]));
    }

    #[test]
    fn ulids_sort_by_time_and_read_back_from_text() {
        let early = Ulid::from_parts(1_000, [0xff; 10]);
        let late = Ulid::from_parts(1_001, [0; 10]);
        assert!(early < late);
        assert!(early.to_text() < late.to_text());
        assert_eq!(late.millis(), 1_001);
        assert_eq!(Ulid::parse(&early.to_text()), Some(early));
        assert_eq!(Ulid::parse(&early.to_text().to_lowercase()), Some(early));
        assert_eq!(Ulid::parse("8ZZZZZZZZZZZZZZZZZZZZZZZZZ"), None);
        assert_eq!(Ulid::parse("short"), None);
        assert_eq!(Ulid::from_parts(0, [0; 10]).to_text(), "0".repeat(26));
    }

    proptest! {
        #[test]
        fn arbitrary_request_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
            let _ = ChatRequest::decode(&bytes);
            let _ = ChatResponse::decode(&bytes);
            let _ = ChatEvent::decode(&bytes);
            let _ = ChatEvent::decode_all(&bytes);
            let _ = SealedItem::decode(&bytes);
            let _ = Body::decode(&bytes);
        }

        #[test]
        fn altered_event_bytes_never_panic(flip in 0usize..200, bit in 0u8..8) {
            let event = ChatEvent::Message {
                conversation: [1; 16],
                id: [2; 16],
                peer: None,
                body: Body::PaymentRequest { tally: [3; 16], units: 5, memo: "m".into() },
            };
            let mut bytes = event.encode();
            let at = flip % bytes.len();
            bytes[at] ^= 1 << bit;
            let _ = ChatEvent::decode(&bytes);
        }

        #[test]
        fn any_bundle_round_trips(texts in proptest::collection::vec("[a-z ]{0,40}x", 1..=MAX_EVENTS_PER_ITEM)) {
            let events: Vec<ChatEvent> = texts
                .iter()
                .enumerate()
                .map(|(n, text)| text_event(u8::try_from(n).unwrap_or(0), text))
                .collect();
            let encoded: Vec<Vec<u8>> = events.iter().map(ChatEvent::encode).collect();
            let slices: Vec<&[u8]> = encoded.iter().map(Vec::as_slice).collect();
            prop_assert_eq!(ChatEvent::decode_all(&ChatEvent::bundle(&slices)).unwrap(), events);
        }

        #[test]
        fn altered_bundle_bytes_never_panic(flip in 0usize..400, bit in 0u8..8) {
            let one = text_event(1, "one").encode();
            let two = text_event(2, "two").encode();
            let mut bytes = ChatEvent::bundle(&[&one, &two]);
            let at = flip % bytes.len();
            bytes[at] ^= 1 << bit;
            let _ = ChatEvent::decode_all(&bytes);
        }

        #[test]
        fn text_round_trips(text in "[^\u{0}]{1,200}") {
            prop_assume!(!text.trim().is_empty());
            let event = ChatEvent::Message { conversation: [0; 16], id: [9; 16], peer: None, body: Body::Text(text) };
            prop_assert_eq!(ChatEvent::decode(&event.encode()).unwrap(), event);
        }

        #[test]
        fn ulid_text_round_trips(millis in 0u64..(1 << 48), random in any::<[u8; 10]>()) {
            let id = Ulid::from_parts(millis, random);
            prop_assert_eq!(Ulid::parse(&id.to_text()), Some(id));
            prop_assert_eq!(Ulid::from_bytes(id.to_bytes()), id);
            prop_assert_eq!(id.millis(), millis);
        }
    }
}
