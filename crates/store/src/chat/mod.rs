//! Chat: conversations and messages, the outbox, the mailbox held for the
//! party's other devices, and the encrypted pickles of the Olm and Megolm
//! state. Deciding is the node's business; this module keeps the rows.
//!
//! Writes go through [`Store::chat_write`], which applies a batch of
//! [`ChatWrite`]s in one transaction: the node gathers the writes of many
//! messages arriving at once and pays one fsync, and a few statements, for
//! all of them (see [`write`]).

use sqlx::Row;
use sqlx::sqlite::SqliteRow;

use crate::{Store, StoreError};

mod write;

pub use write::ChatWrite;

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

const MESSAGE_COLUMNS: &str = "conversation, id, sender_party, outgoing, body, sent_at_ms, received_at_ms, \
                               status, paid_chit, notified";

/// How many keys [`Store::chat_messages_of`] reads in one statement.
const MESSAGES_OF_CHUNK: usize = 32;

/// The statement that reads the messages of [`MESSAGES_OF_CHUNK`] keys.
fn messages_of_sql() -> String {
    format!(
        "SELECT {MESSAGE_COLUMNS} FROM chat_messages WHERE (conversation, id) IN (VALUES {})",
        vec!["(?, ?)"; MESSAGES_OF_CHUNK].join(", ")
    )
}

impl Store {
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
    /// particular order: one query per [`MESSAGES_OF_CHUNK`] keys.
    pub async fn chat_messages_of(&self, keys: &[([u8; 16], [u8; 16])]) -> Result<Vec<MessageRow>, StoreError> {
        let sql = messages_of_sql();
        let mut found = Vec::with_capacity(keys.len());
        for chunk in keys.chunks(MESSAGES_OF_CHUNK) {
            let mut query = sqlx::query(&sql);
            // A short chunk repeats its last key: one statement for all.
            for index in 0..MESSAGES_OF_CHUNK {
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
