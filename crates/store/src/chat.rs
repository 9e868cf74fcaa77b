//! Chat: conversations and messages, the outbox, the mailbox held for the
//! party's other devices, and the encrypted pickles of the Olm and Megolm
//! state. Deciding is the node's business; this module keeps the rows.
//!
//! Writes go through [`Store::chat_write`], which applies a batch of
//! [`ChatWrite`]s in one transaction: the node gathers the writes of many
//! messages arriving at once and pays one fsync for all of them.

use std::collections::HashMap;

use sqlx::Row;
use sqlx::sqlite::SqliteRow;

use crate::{Store, StoreError};

/// A conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConversationRow {
    /// Its id.
    pub id: [u8; 16],
    /// The other party of a one-to-one conversation; `None` for a group.
    pub peer_party: Option<String>,
    /// A group's name.
    pub name: Option<String>,
    /// A group's members' party ids.
    pub members: Vec<String>,
    /// When it started (ms).
    pub created_at_ms: i64,
    /// Its latest message's time (ms).
    pub last_at_ms: i64,
}

/// A message of a conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageRow {
    /// The conversation.
    pub conversation: [u8; 16],
    /// The message's ULID bytes.
    pub id: [u8; 16],
    /// The sending party; `None` for a note the node made itself.
    pub sender_party: Option<String>,
    /// Sent by this party.
    pub outgoing: bool,
    /// The body's deterministic CBOR.
    pub body: Vec<u8>,
    /// When its sender made it (ms, from the id).
    pub sent_at_ms: i64,
    /// When this node kept it (ms).
    pub received_at_ms: i64,
    /// `pending`, `held`, `delivered`, `read` (outgoing); `received`,
    /// `read` (incoming).
    pub status: String,
    /// The chit that paid this payment request, from this node.
    pub paid_chit: Option<String>,
    /// Whether its "message received" event was handled.
    pub notified: bool,
}

/// An item waiting in the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxRow {
    /// Its place in the queue (0 for a row not yet kept).
    pub seq: i64,
    /// The device it is for (peer id text).
    pub to_peer: String,
    /// That device's party.
    pub to_party: String,
    /// Whether `item` is sealed: else it is the event's plaintext, to be
    /// sealed with an Olm session for the device.
    pub sealed: bool,
    /// The encoded sealed item, or the plaintext.
    pub item: Vec<u8>,
    /// The messages it carries, for their status: conversation and id
    /// of each (several when it carries a bundle of events).
    pub messages: Vec<([u8; 16], [u8; 16])>,
    /// When it was queued (ms).
    pub created_at_ms: i64,
    /// When it is given up (ms).
    pub expires_at_ms: i64,
}

/// What a mailbox holds for one device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailboxHeld {
    /// The device (peer id text).
    pub for_peer: String,
    /// How many items.
    pub items: u64,
    /// Their size in bytes.
    pub bytes: u64,
    /// When the oldest arrived (ms).
    pub oldest_ms: i64,
    /// When the next one expires (ms).
    pub next_expiry_ms: i64,
    /// How many of the device's one-time keys it holds.
    pub keys: u64,
}

/// One write of a [`Store::chat_write`] batch. Each reports whether it
/// changed anything.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChatWrite {
    /// The Olm account's encrypted pickle.
    Account {
        /// The pickle.
        pickle: String,
    },
    /// An Olm session's encrypted pickle.
    Session {
        /// The other device's identity key.
        identity_key: [u8; 32],
        /// The session's id.
        session_id: String,
        /// The pickle.
        pickle: String,
        /// Now (ms).
        now_ms: i64,
    },
    /// Our Megolm session of a group, and whom its key was given.
    GroupOutbound {
        /// The group.
        conversation: [u8; 16],
        /// The pickle.
        pickle: String,
        /// Identity keys, 32 bytes each.
        shared_with: Vec<u8>,
        /// Now (ms).
        now_ms: i64,
    },
    /// Another device's Megolm session.
    GroupInbound {
        /// The sending device's identity key.
        sender_key: [u8; 32],
        /// The session's id.
        session_id: String,
        /// The group.
        conversation: [u8; 16],
        /// The pickle.
        pickle: String,
    },
    /// A conversation: made if new; a group's name and members replaced.
    Conversation(ConversationRow),
    /// A message: kept if new (a second copy changes nothing); its
    /// conversation's latest time follows it.
    Message(MessageRow),
    /// A message's status, only ever forward (`read` beats `delivered`,
    /// which beats `held`, which beats `pending`).
    Status {
        /// The conversation.
        conversation: [u8; 16],
        /// The message.
        id: [u8; 16],
        /// The new status.
        status: &'static str,
    },
    /// The chit that paid a payment request.
    PaidChit {
        /// The conversation.
        conversation: [u8; 16],
        /// The request.
        id: [u8; 16],
        /// The chit id, in hex.
        chit: String,
    },
    /// A "message received" event was handled.
    Notified {
        /// The conversation.
        conversation: [u8; 16],
        /// The message.
        id: [u8; 16],
    },
    /// An item for the outbox.
    Outbox(OutboxRow),
    /// An outbox item's plaintext was sealed for its device, alone or
    /// with the events of the items queued after it (those items are
    /// dropped with [`ChatWrite::OutboxDone`] in the same batch).
    OutboxSealed {
        /// Its place in the queue.
        seq: i64,
        /// The encoded sealed item.
        item: Vec<u8>,
        /// Every message the sealed item carries.
        messages: Vec<([u8; 16], [u8; 16])>,
        /// When the sealed item is given up (ms).
        expires_at_ms: i64,
    },
    /// An outbox item reached its device (or was given up).
    OutboxDone {
        /// Its place in the queue.
        seq: i64,
    },
    /// An item held for another device of the party (kept once).
    MailboxPut {
        /// The device.
        for_peer: String,
        /// The item's id.
        item_id: [u8; 16],
        /// The encoded item.
        item: Vec<u8>,
        /// Who left it.
        from_peer: String,
        /// Now (ms).
        now_ms: i64,
        /// When it is dropped (ms).
        expires_at_ms: i64,
    },
    /// A held item was handed over.
    MailboxDrop {
        /// The device.
        for_peer: String,
        /// The item's id.
        item_id: [u8; 16],
    },
    /// Keys of another device of the party to hand out. A fallback key
    /// replaces the one held before.
    MailboxKeys {
        /// The device.
        for_peer: String,
        /// Signed key records, each with whether it is a fallback key.
        keys: Vec<(Vec<u8>, bool)>,
        /// Now (ms).
        now_ms: i64,
    },
    /// An item this device took.
    Seen {
        /// The item's id.
        item_id: [u8; 16],
        /// Now (ms).
        now_ms: i64,
    },
    /// A device of the party that holds our mail, and its addresses (one
    /// per line).
    Mailbox {
        /// Its peer id.
        peer_id: String,
        /// Its addresses.
        addresses: String,
        /// Now (ms).
        now_ms: i64,
    },
}

const RANK: &str = "CASE {} WHEN 'pending' THEN 0 WHEN 'received' THEN 0 WHEN 'held' THEN 1 \
                    WHEN 'delivered' THEN 2 WHEN 'read' THEN 3 ELSE 0 END";

fn rank(expr: &str) -> String {
    RANK.replace("{}", expr)
}

/// The `messages` column of an outbox item: conversation id then message
/// id, 32 bytes a message.
fn message_pairs(messages: &[([u8; 16], [u8; 16])]) -> Vec<u8> {
    messages
        .iter()
        .flat_map(|(c, m)| c.iter().chain(m.iter()).copied())
        .collect()
}

const MESSAGE_COLUMNS: &str = "conversation, id, sender_party, outgoing, body, sent_at_ms, received_at_ms, \
                               status, paid_chit, notified";

impl Store {
    /// Applies `writes` in one transaction; for each, whether it changed
    /// anything. Nothing is applied when one fails.
    pub async fn chat_write(&self, writes: &[ChatWrite]) -> Result<Vec<bool>, StoreError> {
        let query = |e| StoreError::query(&self.path, e);
        let mut tx = self.write().await?;
        let mut changed = Vec::with_capacity(writes.len());
        // Each conversation's latest new message, set once at the end.
        let mut latest: HashMap<[u8; 16], i64> = HashMap::new();
        for write in writes {
            let done = match write {
                ChatWrite::Account { pickle } => sqlx::query(
                    "INSERT INTO chat_account (slot, pickle, updated_at_ms) VALUES (1, ?1, 0) \
                     ON CONFLICT(slot) DO UPDATE SET pickle = excluded.pickle",
                )
                .bind(pickle)
                .execute(&mut *tx)
                .await
                .map_err(query)?,
                ChatWrite::Session {
                    identity_key,
                    session_id,
                    pickle,
                    now_ms,
                } => sqlx::query(
                    "INSERT INTO chat_sessions (identity_key, session_id, pickle, last_used_ms) VALUES (?1, ?2, ?3, ?4) \
                     ON CONFLICT(identity_key, session_id) DO UPDATE SET pickle = excluded.pickle, \
                     last_used_ms = excluded.last_used_ms",
                )
                .bind(identity_key.as_slice())
                .bind(session_id)
                .bind(pickle)
                .bind(now_ms)
                .execute(&mut *tx)
                .await
                .map_err(query)?,
                ChatWrite::GroupOutbound {
                    conversation,
                    pickle,
                    shared_with,
                    now_ms,
                } => sqlx::query(
                    "INSERT INTO chat_group_outbound (conversation, pickle, shared_with, updated_at_ms) \
                     VALUES (?1, ?2, ?3, ?4) ON CONFLICT(conversation) DO UPDATE SET pickle = excluded.pickle, \
                     shared_with = excluded.shared_with, updated_at_ms = excluded.updated_at_ms",
                )
                .bind(conversation.as_slice())
                .bind(pickle)
                .bind(shared_with)
                .bind(now_ms)
                .execute(&mut *tx)
                .await
                .map_err(query)?,
                ChatWrite::GroupInbound {
                    sender_key,
                    session_id,
                    conversation,
                    pickle,
                } => sqlx::query(
                    "INSERT INTO chat_group_inbound (sender_key, session_id, conversation, pickle) \
                     VALUES (?1, ?2, ?3, ?4) ON CONFLICT(sender_key, session_id) DO UPDATE SET pickle = excluded.pickle",
                )
                .bind(sender_key.as_slice())
                .bind(session_id)
                .bind(conversation.as_slice())
                .bind(pickle)
                .execute(&mut *tx)
                .await
                .map_err(query)?,
                ChatWrite::Conversation(row) => {
                    let kind = if row.peer_party.is_some() { "direct" } else { "group" };
                    sqlx::query(
                        "INSERT INTO chat_conversations (id, kind, peer_party, name, members, created_at_ms, last_at_ms) \
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT(id) DO UPDATE SET \
                         name = coalesce(excluded.name, name), members = coalesce(excluded.members, members)",
                    )
                    .bind(row.id.as_slice())
                    .bind(kind)
                    .bind(&row.peer_party)
                    .bind(&row.name)
                    .bind((!row.members.is_empty()).then(|| row.members.join("\n")))
                    .bind(row.created_at_ms)
                    .bind(row.last_at_ms)
                    .execute(&mut *tx)
                    .await
                    .map_err(query)?
                }
                ChatWrite::Message(row) => {
                    let done = sqlx::query(&format!(
                        "INSERT INTO chat_messages ({MESSAGE_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) \
                         ON CONFLICT(conversation, id) DO NOTHING"
                    ))
                    .bind(row.conversation.as_slice())
                    .bind(row.id.as_slice())
                    .bind(&row.sender_party)
                    .bind(i64::from(row.outgoing))
                    .bind(&row.body)
                    .bind(row.sent_at_ms)
                    .bind(row.received_at_ms)
                    .bind(&row.status)
                    .bind(&row.paid_chit)
                    .bind(i64::from(row.notified))
                    .execute(&mut *tx)
                    .await
                    .map_err(query)?;
                    if done.rows_affected() > 0 {
                        let at = latest.entry(row.conversation).or_insert(i64::MIN);
                        *at = (*at).max(row.sent_at_ms.max(row.received_at_ms));
                    }
                    done
                }
                ChatWrite::Status {
                    conversation,
                    id,
                    status,
                } => sqlx::query(&format!(
                    "UPDATE chat_messages SET status = ?3 WHERE conversation = ?1 AND id = ?2 AND {} < {}",
                    rank("status"),
                    rank("?3")
                ))
                .bind(conversation.as_slice())
                .bind(id.as_slice())
                .bind(*status)
                .execute(&mut *tx)
                .await
                .map_err(query)?,
                ChatWrite::PaidChit { conversation, id, chit } => {
                    sqlx::query("UPDATE chat_messages SET paid_chit = ?3 WHERE conversation = ?1 AND id = ?2")
                        .bind(conversation.as_slice())
                        .bind(id.as_slice())
                        .bind(chit)
                        .execute(&mut *tx)
                        .await
                        .map_err(query)?
                }
                ChatWrite::Notified { conversation, id } => {
                    sqlx::query("UPDATE chat_messages SET notified = 1 WHERE conversation = ?1 AND id = ?2 AND notified = 0")
                        .bind(conversation.as_slice())
                        .bind(id.as_slice())
                        .execute(&mut *tx)
                        .await
                        .map_err(query)?
                }
                ChatWrite::Outbox(row) => sqlx::query(
                    "INSERT INTO chat_outbox (to_peer, to_party, sealed, item, messages, created_at_ms, expires_at_ms) \
                     VALUES (?1, ?2, ?7, ?3, ?4, ?5, ?6)",
                )
                .bind(&row.to_peer)
                .bind(&row.to_party)
                .bind(&row.item)
                .bind(message_pairs(&row.messages))
                .bind(row.created_at_ms)
                .bind(row.expires_at_ms)
                .bind(i64::from(row.sealed))
                .execute(&mut *tx)
                .await
                .map_err(query)?,
                ChatWrite::OutboxSealed {
                    seq,
                    item,
                    messages,
                    expires_at_ms,
                } => sqlx::query(
                    "UPDATE chat_outbox SET sealed = 1, item = ?2, messages = ?3, expires_at_ms = ?4 \
                     WHERE seq = ?1 AND sealed = 0",
                )
                .bind(seq)
                .bind(item)
                .bind(message_pairs(messages))
                .bind(expires_at_ms)
                .execute(&mut *tx)
                .await
                .map_err(query)?,
                ChatWrite::OutboxDone { seq } => sqlx::query("DELETE FROM chat_outbox WHERE seq = ?")
                    .bind(seq)
                    .execute(&mut *tx)
                    .await
                    .map_err(query)?,
                ChatWrite::MailboxPut {
                    for_peer,
                    item_id,
                    item,
                    from_peer,
                    now_ms,
                    expires_at_ms,
                } => sqlx::query(
                    "INSERT INTO chat_mailbox (for_peer, item_id, item, from_peer, received_at_ms, expires_at_ms) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(for_peer, item_id) DO NOTHING",
                )
                .bind(for_peer)
                .bind(item_id.as_slice())
                .bind(item)
                .bind(from_peer)
                .bind(now_ms)
                .bind(expires_at_ms)
                .execute(&mut *tx)
                .await
                .map_err(query)?,
                ChatWrite::MailboxDrop { for_peer, item_id } => {
                    sqlx::query("DELETE FROM chat_mailbox WHERE for_peer = ?1 AND item_id = ?2")
                        .bind(for_peer)
                        .bind(item_id.as_slice())
                        .execute(&mut *tx)
                        .await
                        .map_err(query)?
                }
                ChatWrite::MailboxKeys { for_peer, keys, now_ms } => {
                    let mut affected = 0;
                    for (key, fallback) in keys {
                        if *fallback {
                            sqlx::query("DELETE FROM chat_mailbox_keys WHERE for_peer = ? AND fallback = 1")
                                .bind(for_peer)
                                .execute(&mut *tx)
                                .await
                                .map_err(query)?;
                        }
                        affected += sqlx::query(
                            "INSERT INTO chat_mailbox_keys (for_peer, key, fallback, received_at_ms) VALUES (?1, ?2, ?3, ?4) \
                             ON CONFLICT(for_peer, key) DO NOTHING",
                        )
                        .bind(for_peer)
                        .bind(key)
                        .bind(i64::from(*fallback))
                        .bind(now_ms)
                        .execute(&mut *tx)
                        .await
                        .map_err(query)?
                        .rows_affected();
                    }
                    changed.push(affected > 0);
                    continue;
                }
                ChatWrite::Seen { item_id, now_ms } => {
                    sqlx::query("INSERT INTO chat_seen (item_id, seen_at_ms) VALUES (?1, ?2) ON CONFLICT(item_id) DO NOTHING")
                        .bind(item_id.as_slice())
                        .bind(now_ms)
                        .execute(&mut *tx)
                        .await
                        .map_err(query)?
                }
                ChatWrite::Mailbox {
                    peer_id,
                    addresses,
                    now_ms,
                } => sqlx::query(
                    "INSERT INTO chat_mailboxes (peer_id, addresses, updated_at_ms) VALUES (?1, ?2, ?3) \
                     ON CONFLICT(peer_id) DO UPDATE SET addresses = excluded.addresses, \
                     updated_at_ms = excluded.updated_at_ms WHERE addresses <> excluded.addresses",
                )
                .bind(peer_id)
                .bind(addresses)
                .bind(now_ms)
                .execute(&mut *tx)
                .await
                .map_err(query)?,
            };
            changed.push(done.rows_affected() > 0);
        }
        for (conversation, at) in latest {
            sqlx::query("UPDATE chat_conversations SET last_at_ms = max(last_at_ms, ?2) WHERE id = ?1")
                .bind(conversation.as_slice())
                .bind(at)
                .execute(&mut *tx)
                .await
                .map_err(query)?;
        }
        tx.commit().await.map_err(query)?;
        Ok(changed)
    }

    /// Forgets every Olm and Megolm pickle: for a device whose pickle key is
    /// gone, which starts chat again with a new account.
    pub async fn chat_reset_crypto(&self) -> Result<(), StoreError> {
        let query = |e| StoreError::query(&self.path, e);
        let mut tx = self.write().await?;
        for table in [
            "chat_account",
            "chat_sessions",
            "chat_group_outbound",
            "chat_group_inbound",
        ] {
            sqlx::query(&format!("DELETE FROM {table}"))
                .execute(&mut *tx)
                .await
                .map_err(query)?;
        }
        tx.commit().await.map_err(query)?;
        Ok(())
    }

    /// The Olm account's encrypted pickle, once made.
    pub async fn chat_account(&self) -> Result<Option<String>, StoreError> {
        sqlx::query_scalar("SELECT pickle FROM chat_account WHERE slot = 1")
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| StoreError::query(&self.path, e))
    }

    /// Every Olm session: identity key, session id, encrypted pickle;
    /// most recently used first.
    pub async fn chat_sessions(&self) -> Result<Vec<([u8; 32], String, String)>, StoreError> {
        let rows = sqlx::query(
            "SELECT identity_key, session_id, pickle FROM chat_sessions ORDER BY last_used_ms DESC, session_id",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(|e| StoreError::query(&self.path, e))?;
        rows.iter()
            .map(|row| {
                Ok((
                    self.chat_fixed(row, "identity_key")?,
                    self.chat_get(row, "session_id")?,
                    self.chat_get(row, "pickle")?,
                ))
            })
            .collect()
    }

    /// Our Megolm sessions: conversation, encrypted pickle, identity keys
    /// shared with.
    pub async fn chat_groups_outbound(&self) -> Result<Vec<([u8; 16], String, Vec<u8>)>, StoreError> {
        let rows = sqlx::query("SELECT conversation, pickle, shared_with FROM chat_group_outbound")
            .fetch_all(&self.pool)
            .await
            .map_err(|e| StoreError::query(&self.path, e))?;
        rows.iter()
            .map(|row| {
                Ok((
                    self.chat_fixed(row, "conversation")?,
                    self.chat_get(row, "pickle")?,
                    self.chat_get(row, "shared_with")?,
                ))
            })
            .collect()
    }

    /// Other devices' Megolm sessions: sender key, session id,
    /// conversation, encrypted pickle.
    pub async fn chat_groups_inbound(&self) -> Result<Vec<([u8; 32], String, [u8; 16], String)>, StoreError> {
        let rows = sqlx::query("SELECT sender_key, session_id, conversation, pickle FROM chat_group_inbound")
            .fetch_all(&self.pool)
            .await
            .map_err(|e| StoreError::query(&self.path, e))?;
        rows.iter()
            .map(|row| {
                Ok((
                    self.chat_fixed(row, "sender_key")?,
                    self.chat_get(row, "session_id")?,
                    self.chat_fixed(row, "conversation")?,
                    self.chat_get(row, "pickle")?,
                ))
            })
            .collect()
    }

    /// Every conversation, the latest first.
    pub async fn chat_conversations(&self) -> Result<Vec<ConversationRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, peer_party, name, members, created_at_ms, last_at_ms FROM chat_conversations \
             ORDER BY last_at_ms DESC, id",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(|e| StoreError::query(&self.path, e))?;
        rows.iter().map(|row| self.conversation_of(row)).collect()
    }

    /// One conversation.
    pub async fn chat_conversation(&self, id: &[u8; 16]) -> Result<Option<ConversationRow>, StoreError> {
        let row = sqlx::query(
            "SELECT id, peer_party, name, members, created_at_ms, last_at_ms FROM chat_conversations WHERE id = ?",
        )
        .bind(id.as_slice())
        .fetch_optional(&self.pool)
        .await
        .map_err(|e| StoreError::query(&self.path, e))?;
        row.as_ref().map(|row| self.conversation_of(row)).transpose()
    }

    /// Unread incoming messages per conversation.
    pub async fn chat_unread_counts(&self) -> Result<Vec<([u8; 16], u64)>, StoreError> {
        let rows = sqlx::query(
            "SELECT conversation, count(*) AS unread FROM chat_messages WHERE status = 'received' GROUP BY conversation",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(|e| StoreError::query(&self.path, e))?;
        rows.iter()
            .map(|row| {
                let unread: i64 = self.chat_get(row, "unread")?;
                Ok((
                    self.chat_fixed(row, "conversation")?,
                    u64::try_from(unread).unwrap_or(0),
                ))
            })
            .collect()
    }

    /// Up to `limit` messages of a conversation before `before` (an id; the
    /// newest when `None`), newest first.
    pub async fn chat_messages(
        &self,
        conversation: &[u8; 16],
        before: Option<&[u8; 16]>,
        limit: u32,
    ) -> Result<Vec<MessageRow>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {MESSAGE_COLUMNS} FROM chat_messages WHERE conversation = ?1 AND (?2 IS NULL OR id < ?2) \
             ORDER BY id DESC LIMIT ?3"
        ))
        .bind(conversation.as_slice())
        .bind(before.map(|b| b.to_vec()))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(|e| StoreError::query(&self.path, e))?;
        rows.iter().map(|row| self.message_of(row)).collect()
    }

    /// One message.
    pub async fn chat_message(&self, conversation: &[u8; 16], id: &[u8; 16]) -> Result<Option<MessageRow>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {MESSAGE_COLUMNS} FROM chat_messages WHERE conversation = ?1 AND id = ?2"
        ))
        .bind(conversation.as_slice())
        .bind(id.as_slice())
        .fetch_optional(&self.pool)
        .await
        .map_err(|e| StoreError::query(&self.path, e))?;
        row.as_ref().map(|row| self.message_of(row)).transpose()
    }

    /// The messages with these keys (conversation, id) that are kept, in no
    /// particular order: one query per 32 keys.
    pub async fn chat_messages_of(&self, keys: &[([u8; 16], [u8; 16])]) -> Result<Vec<MessageRow>, StoreError> {
        const CHUNK: usize = 32;
        let sql = format!(
            "SELECT {MESSAGE_COLUMNS} FROM chat_messages WHERE (conversation, id) IN (VALUES {})",
            vec!["(?, ?)"; CHUNK].join(", ")
        );
        let mut found = Vec::with_capacity(keys.len());
        for chunk in keys.chunks(CHUNK) {
            let mut query = sqlx::query(&sql);
            // A short chunk repeats its last key: one statement for all.
            for index in 0..CHUNK {
                let (conversation, id) = chunk.get(index).or(chunk.last()).copied().unwrap_or_default();
                query = query.bind(conversation.to_vec()).bind(id.to_vec());
            }
            let rows = query
                .fetch_all(&self.pool)
                .await
                .map_err(|e| StoreError::query(&self.path, e))?;
            for row in &rows {
                found.push(self.message_of(row)?);
            }
        }
        Ok(found)
    }

    /// Incoming messages of a conversation not yet read, oldest first.
    pub async fn chat_unread(&self, conversation: &[u8; 16]) -> Result<Vec<MessageRow>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {MESSAGE_COLUMNS} FROM chat_messages WHERE conversation = ? AND status = 'received' ORDER BY id"
        ))
        .bind(conversation.as_slice())
        .fetch_all(&self.pool)
        .await
        .map_err(|e| StoreError::query(&self.path, e))?;
        rows.iter().map(|row| self.message_of(row)).collect()
    }

    /// Messages whose "message received" event was not handled yet, oldest
    /// first.
    pub async fn chat_unnotified(&self) -> Result<Vec<MessageRow>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {MESSAGE_COLUMNS} FROM chat_messages WHERE notified = 0 ORDER BY received_at_ms, id LIMIT 1000"
        ))
        .fetch_all(&self.pool)
        .await
        .map_err(|e| StoreError::query(&self.path, e))?;
        rows.iter().map(|row| self.message_of(row)).collect()
    }

    /// The devices with items waiting in the outbox, the one whose oldest
    /// item waits longest first.
    pub async fn chat_outbox_devices(&self) -> Result<Vec<String>, StoreError> {
        let rows = sqlx::query("SELECT to_peer FROM chat_outbox GROUP BY to_peer ORDER BY MIN(seq)")
            .fetch_all(&self.pool)
            .await
            .map_err(|e| StoreError::query(&self.path, e))?;
        rows.iter().map(|row| self.chat_get(row, "to_peer")).collect()
    }

    /// Up to `limit` outbox items for the device `to_peer` queued after
    /// `after_seq`, oldest first: what a delivery already under way for
    /// that device has not seen yet.
    pub async fn chat_outbox_of(
        &self,
        to_peer: &str,
        after_seq: i64,
        limit: u32,
    ) -> Result<Vec<OutboxRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT seq, to_peer, to_party, sealed, item, messages, created_at_ms, expires_at_ms \
             FROM chat_outbox WHERE to_peer = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
        )
        .bind(to_peer)
        .bind(after_seq)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(|e| StoreError::query(&self.path, e))?;
        rows.iter()
            .map(|row| {
                let pairs: Vec<u8> = self.chat_get(row, "messages")?;
                let messages = pairs
                    .chunks(32)
                    .map(|pair| {
                        let (conversation, id) = pair.split_at(pair.len().min(16));
                        Ok((self.chat_array(conversation.to_vec())?, self.chat_array(id.to_vec())?))
                    })
                    .collect::<Result<Vec<_>, StoreError>>()?;
                let sealed: i64 = self.chat_get(row, "sealed")?;
                Ok(OutboxRow {
                    seq: self.chat_get(row, "seq")?,
                    sealed: sealed != 0,
                    to_peer: self.chat_get(row, "to_peer")?,
                    to_party: self.chat_get(row, "to_party")?,
                    item: self.chat_get(row, "item")?,
                    messages,
                    created_at_ms: self.chat_get(row, "created_at_ms")?,
                    expires_at_ms: self.chat_get(row, "expires_at_ms")?,
                })
            })
            .collect()
    }

    /// Up to `limit` items held for `for_peer`, oldest first, and whether
    /// more are held. Expired items are not handed over.
    pub async fn chat_mailbox_items(
        &self,
        for_peer: &str,
        now_ms: i64,
        limit: u32,
    ) -> Result<(Vec<([u8; 16], Vec<u8>)>, bool), StoreError> {
        let rows = sqlx::query(
            "SELECT item_id, item FROM chat_mailbox WHERE for_peer = ?1 AND expires_at_ms > ?2 \
             ORDER BY received_at_ms, rowid LIMIT ?3",
        )
        .bind(for_peer)
        .bind(now_ms)
        .bind(i64::from(limit) + 1)
        .fetch_all(&self.pool)
        .await
        .map_err(|e| StoreError::query(&self.path, e))?;
        let more = rows.len() > usize::try_from(limit).unwrap_or(usize::MAX);
        let items = rows
            .iter()
            .take(usize::try_from(limit).unwrap_or(usize::MAX))
            .map(|row| Ok((self.chat_fixed(row, "item_id")?, self.chat_get(row, "item")?)))
            .collect::<Result<_, StoreError>>()?;
        Ok((items, more))
    }

    /// How many items are held for `for_peer`.
    pub async fn chat_mailbox_count(&self, for_peer: &str) -> Result<u64, StoreError> {
        let count: i64 = sqlx::query_scalar("SELECT count(*) FROM chat_mailbox WHERE for_peer = ?")
            .bind(for_peer)
            .fetch_one(&self.pool)
            .await
            .map_err(|e| StoreError::query(&self.path, e))?;
        Ok(u64::try_from(count).unwrap_or(0))
    }

    /// Drops every held item expired at `now_ms`; how many.
    pub async fn chat_mailbox_expire(&self, now_ms: i64) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM chat_mailbox WHERE expires_at_ms <= ?")
            .bind(now_ms)
            .execute(&self.pool)
            .await
            .map_err(|e| StoreError::query(&self.path, e))?;
        Ok(done.rows_affected())
    }

    /// What the mailbox holds, per device.
    pub async fn chat_mailbox_status(&self) -> Result<Vec<MailboxHeld>, StoreError> {
        let rows = sqlx::query(
            "SELECT p.for_peer AS for_peer, \
               (SELECT count(*) FROM chat_mailbox m WHERE m.for_peer = p.for_peer) AS items, \
               (SELECT coalesce(sum(length(item)), 0) FROM chat_mailbox m WHERE m.for_peer = p.for_peer) AS bytes, \
               (SELECT coalesce(min(received_at_ms), 0) FROM chat_mailbox m WHERE m.for_peer = p.for_peer) AS oldest, \
               (SELECT coalesce(min(expires_at_ms), 0) FROM chat_mailbox m WHERE m.for_peer = p.for_peer) AS expiry, \
               (SELECT count(*) FROM chat_mailbox_keys k WHERE k.for_peer = p.for_peer AND k.fallback = 0) AS keys \
             FROM (SELECT for_peer FROM chat_mailbox UNION SELECT for_peer FROM chat_mailbox_keys) p ORDER BY p.for_peer",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(|e| StoreError::query(&self.path, e))?;
        rows.iter()
            .map(|row| {
                let count = |name: &str| -> Result<u64, StoreError> {
                    let value: i64 = self.chat_get(row, name)?;
                    Ok(u64::try_from(value).unwrap_or(0))
                };
                Ok(MailboxHeld {
                    for_peer: self.chat_get(row, "for_peer")?,
                    items: count("items")?,
                    bytes: count("bytes")?,
                    oldest_ms: self.chat_get(row, "oldest")?,
                    next_expiry_ms: self.chat_get(row, "expiry")?,
                    keys: count("keys")?,
                })
            })
            .collect()
    }

    /// Hands out one key of `for_peer`: a one-time key (dropped, so it is
    /// never handed out twice), else the fallback key (kept).
    pub async fn chat_mailbox_take_key(&self, for_peer: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let query = |e| StoreError::query(&self.path, e);
        let mut tx = self.write().await?;
        let key: Option<Vec<u8>> = sqlx::query_scalar(
            "DELETE FROM chat_mailbox_keys WHERE rowid = (SELECT rowid FROM chat_mailbox_keys \
             WHERE for_peer = ? AND fallback = 0 ORDER BY received_at_ms, rowid LIMIT 1) RETURNING key",
        )
        .bind(for_peer)
        .fetch_optional(&mut *tx)
        .await
        .map_err(query)?;
        let key = match key {
            Some(key) => Some(key),
            None => sqlx::query_scalar("SELECT key FROM chat_mailbox_keys WHERE for_peer = ? AND fallback = 1")
                .bind(for_peer)
                .fetch_optional(&mut *tx)
                .await
                .map_err(query)?,
        };
        tx.commit().await.map_err(query)?;
        Ok(key)
    }

    /// How many one-time keys of `for_peer` are held.
    pub async fn chat_mailbox_key_count(&self, for_peer: &str) -> Result<u64, StoreError> {
        let count: i64 =
            sqlx::query_scalar("SELECT count(*) FROM chat_mailbox_keys WHERE for_peer = ? AND fallback = 0")
                .bind(for_peer)
                .fetch_one(&self.pool)
                .await
                .map_err(|e| StoreError::query(&self.path, e))?;
        Ok(u64::try_from(count).unwrap_or(0))
    }

    /// Every item this device took and still remembers, with when it took
    /// it (ms).
    pub async fn chat_seen_items(&self) -> Result<Vec<([u8; 16], i64)>, StoreError> {
        let rows: Vec<(Vec<u8>, i64)> = sqlx::query_as("SELECT item_id, seen_at_ms FROM chat_seen")
            .fetch_all(&self.pool)
            .await
            .map_err(|e| StoreError::query(&self.path, e))?;
        Ok(rows
            .into_iter()
            .filter_map(|(id, at)| Some((<[u8; 16]>::try_from(id.as_slice()).ok()?, at)))
            .collect())
    }

    /// Forgets items taken before `before_ms` (no copy of them can arrive
    /// any more) and drops held items expired at `now_ms`; how many held
    /// items were dropped.
    pub async fn chat_expire(&self, before_ms: i64, now_ms: i64) -> Result<u64, StoreError> {
        sqlx::query("DELETE FROM chat_seen WHERE seen_at_ms < ?")
            .bind(before_ms)
            .execute(&self.pool)
            .await
            .map_err(|e| StoreError::query(&self.path, e))?;
        self.chat_mailbox_expire(now_ms).await
    }

    /// The devices of this party that hold our mail: peer id and
    /// addresses.
    pub async fn chat_mailboxes(&self) -> Result<Vec<(String, Vec<String>)>, StoreError> {
        let rows = sqlx::query("SELECT peer_id, addresses FROM chat_mailboxes ORDER BY peer_id")
            .fetch_all(&self.pool)
            .await
            .map_err(|e| StoreError::query(&self.path, e))?;
        rows.iter()
            .map(|row| {
                let addresses: String = self.chat_get(row, "addresses")?;
                Ok((
                    self.chat_get(row, "peer_id")?,
                    addresses.lines().filter(|a| !a.is_empty()).map(str::to_owned).collect(),
                ))
            })
            .collect()
    }

    fn chat_get<'r, T: sqlx::Decode<'r, sqlx::Sqlite> + sqlx::Type<sqlx::Sqlite>>(
        &self,
        row: &'r SqliteRow,
        column: &str,
    ) -> Result<T, StoreError> {
        row.try_get(column).map_err(|e| StoreError::query(&self.path, e))
    }

    fn chat_array<const N: usize>(&self, bytes: Vec<u8>) -> Result<[u8; N], StoreError> {
        bytes.try_into().map_err(|_| StoreError::Query {
            path: self.path.clone(),
            reason: format!("a chat id is not {N} bytes"),
        })
    }

    fn chat_fixed<const N: usize>(&self, row: &SqliteRow, column: &str) -> Result<[u8; N], StoreError> {
        let bytes: Vec<u8> = self.chat_get(row, column)?;
        self.chat_array(bytes)
    }

    fn conversation_of(&self, row: &SqliteRow) -> Result<ConversationRow, StoreError> {
        let members: Option<String> = self.chat_get(row, "members")?;
        Ok(ConversationRow {
            id: self.chat_fixed(row, "id")?,
            peer_party: self.chat_get(row, "peer_party")?,
            name: self.chat_get(row, "name")?,
            members: members
                .map(|m| m.lines().map(str::to_owned).collect())
                .unwrap_or_default(),
            created_at_ms: self.chat_get(row, "created_at_ms")?,
            last_at_ms: self.chat_get(row, "last_at_ms")?,
        })
    }

    fn message_of(&self, row: &SqliteRow) -> Result<MessageRow, StoreError> {
        let outgoing: i64 = self.chat_get(row, "outgoing")?;
        let notified: i64 = self.chat_get(row, "notified")?;
        Ok(MessageRow {
            conversation: self.chat_fixed(row, "conversation")?,
            id: self.chat_fixed(row, "id")?,
            sender_party: self.chat_get(row, "sender_party")?,
            outgoing: outgoing != 0,
            body: self.chat_get(row, "body")?,
            sent_at_ms: self.chat_get(row, "sent_at_ms")?,
            received_at_ms: self.chat_get(row, "received_at_ms")?,
            status: self.chat_get(row, "status")?,
            paid_chit: self.chat_get(row, "paid_chit")?,
            notified: notified != 0,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("t.sqlite")).await.unwrap();
        (dir, store)
    }

    fn message(id: u8, status: &str) -> MessageRow {
        MessageRow {
            conversation: [1; 16],
            id: [id; 16],
            sender_party: Some("did:key:z6Mk".into()),
            outgoing: true,
            body: vec![0xa0],
            sent_at_ms: i64::from(id),
            received_at_ms: 5,
            status: status.into(),
            paid_chit: None,
            notified: true,
        }
    }

    #[tokio::test]
    async fn messages_are_read_by_their_keys_in_one_go_past_a_chunk_and_unknown_keys_are_left_out() {
        let (_dir, store) = store().await;
        let conversation = ConversationRow {
            id: [1; 16],
            peer_party: Some("did:key:z6Mk".into()),
            name: None,
            members: vec![],
            created_at_ms: 1,
            last_at_ms: 1,
        };
        let mut writes = vec![ChatWrite::Conversation(conversation)];
        writes.extend((1..=40).map(|id| ChatWrite::Message(message(id, "pending"))));
        store.chat_write(&writes).await.unwrap();
        let mut keys: Vec<([u8; 16], [u8; 16])> = (1..=40).map(|id| ([1; 16], [id; 16])).collect();
        keys.push(([1; 16], [99; 16]));
        keys.push(([2; 16], [3; 16]));
        let mut found: Vec<u8> = store
            .chat_messages_of(&keys)
            .await
            .unwrap()
            .iter()
            .map(|m| m.id[0])
            .collect();
        found.sort_unstable();
        assert_eq!(found, (1..=40).collect::<Vec<u8>>());
        let some = store.chat_messages_of(&[([1; 16], [7; 16])]).await.unwrap();
        assert_eq!(some, [message(7, "pending")]);
        assert!(store.chat_messages_of(&[]).await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn a_message_is_kept_once_and_its_status_only_moves_forward() {
        let (_dir, store) = store().await;
        let conversation = ConversationRow {
            id: [1; 16],
            peer_party: Some("did:key:z6Mk".into()),
            name: None,
            members: vec![],
            created_at_ms: 1,
            last_at_ms: 1,
        };
        let changed = store
            .chat_write(&[
                ChatWrite::Conversation(conversation),
                ChatWrite::Message(message(2, "pending")),
            ])
            .await
            .unwrap();
        assert_eq!(changed, [true, true]);
        assert_eq!(
            store
                .chat_write(&[ChatWrite::Message(message(2, "pending"))])
                .await
                .unwrap(),
            [false]
        );
        let status = |status| ChatWrite::Status {
            conversation: [1; 16],
            id: [2; 16],
            status,
        };
        assert_eq!(store.chat_write(&[status("read")]).await.unwrap(), [true]);
        assert_eq!(store.chat_write(&[status("delivered")]).await.unwrap(), [false]);
        let kept = store.chat_message(&[1; 16], &[2; 16]).await.unwrap().unwrap();
        assert_eq!(kept.status, "read");
        assert_eq!(store.chat_conversations().await.unwrap()[0].last_at_ms, 5);
    }

    #[tokio::test]
    async fn a_mailbox_hands_out_a_one_time_key_once_then_the_fallback() {
        let (_dir, store) = store().await;
        store
            .chat_write(&[ChatWrite::MailboxKeys {
                for_peer: "p".into(),
                keys: vec![(vec![1], false), (vec![9], true)],
                now_ms: 1,
            }])
            .await
            .unwrap();
        assert_eq!(store.chat_mailbox_key_count("p").await.unwrap(), 1);
        assert_eq!(store.chat_mailbox_take_key("p").await.unwrap(), Some(vec![1]));
        assert_eq!(store.chat_mailbox_take_key("p").await.unwrap(), Some(vec![9]));
        assert_eq!(store.chat_mailbox_take_key("p").await.unwrap(), Some(vec![9]));
        assert_eq!(store.chat_mailbox_take_key("q").await.unwrap(), None);
    }

    #[tokio::test]
    async fn held_items_expire_and_are_handed_over_oldest_first() {
        let (_dir, store) = store().await;
        let put = |id: u8, expires_at_ms| ChatWrite::MailboxPut {
            for_peer: "p".into(),
            item_id: [id; 16],
            item: vec![id],
            from_peer: "f".into(),
            now_ms: i64::from(id),
            expires_at_ms,
        };
        store.chat_write(&[put(1, 100), put(2, 50), put(3, 100)]).await.unwrap();
        let (items, more) = store.chat_mailbox_items("p", 10, 1).await.unwrap();
        assert_eq!(items, vec![([1; 16], vec![1])]);
        assert!(more);
        assert_eq!(store.chat_mailbox_expire(60).await.unwrap(), 1);
        assert_eq!(store.chat_mailbox_count("p").await.unwrap(), 2);
        let held = store.chat_mailbox_status().await.unwrap();
        assert_eq!(held[0].items, 2);
    }

    #[tokio::test]
    async fn the_outbox_names_its_devices_longest_waiting_first_and_reads_one_device_past_a_place() {
        let (_dir, store) = store().await;
        let item = |to: &str| {
            ChatWrite::Outbox(OutboxRow {
                seq: 0,
                to_peer: to.into(),
                to_party: "did:key:z6Mk".into(),
                sealed: true,
                item: vec![1, 2, 3],
                messages: Vec::new(),
                created_at_ms: 1,
                expires_at_ms: 2,
            })
        };
        store
            .chat_write(&[item("b"), item("a"), item("b"), item("a"), item("b")])
            .await
            .unwrap();
        assert_eq!(store.chat_outbox_devices().await.unwrap(), vec!["b", "a"]);
        let seqs = |rows: Vec<OutboxRow>| rows.iter().map(|r| r.seq).collect::<Vec<_>>();
        let of_b = seqs(store.chat_outbox_of("b", 0, 10).await.unwrap());
        assert_eq!(of_b.len(), 3);
        assert!(of_b.is_sorted(), "oldest first: {of_b:?}");
        assert_eq!(
            seqs(store.chat_outbox_of("b", of_b[0], 1).await.unwrap()),
            vec![of_b[1]]
        );
        assert!(store.chat_outbox_of("b", of_b[2], 10).await.unwrap().is_empty());
        store
            .chat_write(&[ChatWrite::OutboxDone { seq: of_b[0] }])
            .await
            .unwrap();
        assert_eq!(store.chat_outbox_devices().await.unwrap(), vec!["a", "b"]);
    }

    #[tokio::test]
    async fn a_sealed_bundle_names_every_message_it_carries_and_the_items_it_carries_are_gone() {
        let (_dir, store) = store().await;
        let plain = |n: u8, expires_at_ms| {
            ChatWrite::Outbox(OutboxRow {
                seq: 0,
                to_peer: "b".into(),
                to_party: "did:key:z6Mk".into(),
                sealed: false,
                item: vec![n],
                messages: vec![([n; 16], [n + 100; 16])],
                created_at_ms: 1,
                expires_at_ms,
            })
        };
        store
            .chat_write(&[plain(1, 10), plain(2, 20), plain(3, 30)])
            .await
            .unwrap();
        let rows = store.chat_outbox_of("b", 0, 10).await.unwrap();
        assert_eq!(rows[1].messages, vec![([2; 16], [102; 16])], "one message reads back");
        let carried: Vec<_> = rows.iter().flat_map(|r| r.messages.clone()).collect();
        let mut writes = vec![ChatWrite::OutboxSealed {
            seq: rows[0].seq,
            item: vec![9, 9],
            messages: carried.clone(),
            expires_at_ms: 30,
        }];
        writes.extend(rows[1..].iter().map(|r| ChatWrite::OutboxDone { seq: r.seq }));
        assert_eq!(store.chat_write(&writes).await.unwrap(), vec![true; 3]);
        let after = store.chat_outbox_of("b", 0, 10).await.unwrap();
        assert_eq!(after.len(), 1, "only the item that carries the bundle is left");
        assert!(after[0].sealed);
        assert_eq!(after[0].item, vec![9, 9]);
        assert_eq!(after[0].messages, carried, "it names all three messages, in order");
        assert_eq!(after[0].expires_at_ms, 30, "it waits as long as its latest event may");
        let again = store
            .chat_write(&[ChatWrite::OutboxSealed {
                seq: rows[0].seq,
                item: vec![8],
                messages: Vec::new(),
                expires_at_ms: 1,
            }])
            .await
            .unwrap();
        assert_eq!(again, vec![false], "a sealed item is never sealed again");
    }
}
