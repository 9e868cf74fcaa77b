//! Applying a batch of [`ChatWrite`]s: one transaction, and few statements.
//!
//! Every statement is a round trip to the connection's thread, so writes of
//! one kind are applied by one multi-row statement (`INSERT … VALUES (…),
//! (…)`, `UPDATE … WHERE (conversation, id) IN (VALUES …)`, `DELETE …
//! WHERE seq IN (…)`) wherever that changes no outcome: [`plan`] lets a
//! write join the latest group of its kind only when no write between them
//! touches a row it touches, and the groups are applied in order. A
//! multi-row statement is cut into chunks whose sizes are powers of two up
//! to [`MAX_ROWS`], so a handful of statement shapes, each prepared once
//! per connection, serve any batch.

use std::collections::{HashMap, HashSet};

use sqlx::sqlite::{SqliteConnection, SqliteRow};

use super::{ConversationRow, MESSAGE_COLUMNS, MessageRow, OutboxRow};
use crate::{Store, StoreError};

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
        /// Its place in the queue, as read from the store.
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
        /// Its place in the queue, as read from the store (an item queued
        /// in the same batch has no place yet).
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

/// The most rows one statement writes.
const MAX_ROWS: usize = 64;

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

/// A row a write changes or whose state decides what it does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Row {
    /// A message: conversation and id.
    Message([u8; 16], [u8; 16]),
    /// An outbox item.
    Outbox(i64),
    /// An item taken.
    Seen([u8; 16]),
}

/// What of its table a write touches.
#[derive(Debug, Clone, Copy)]
enum Reach {
    /// Only the row it adds, which no other write names (an outbox item:
    /// its place is given when it is kept).
    New,
    /// One row.
    Row(Row),
    /// Any row.
    Any,
}

impl ChatWrite {
    /// The table this write touches, and which of its rows.
    fn reach(&self) -> (&'static str, Reach) {
        match self {
            ChatWrite::Account { .. } => ("chat_account", Reach::Any),
            ChatWrite::Session { .. } => ("chat_sessions", Reach::Any),
            ChatWrite::GroupOutbound { .. } => ("chat_group_outbound", Reach::Any),
            ChatWrite::GroupInbound { .. } => ("chat_group_inbound", Reach::Any),
            ChatWrite::Conversation(_) => ("chat_conversations", Reach::Any),
            ChatWrite::Message(row) => ("chat_messages", Reach::Row(Row::Message(row.conversation, row.id))),
            ChatWrite::Status { conversation, id, .. }
            | ChatWrite::PaidChit { conversation, id, .. }
            | ChatWrite::Notified { conversation, id } => {
                ("chat_messages", Reach::Row(Row::Message(*conversation, *id)))
            }
            ChatWrite::Outbox(_) => ("chat_outbox", Reach::New),
            ChatWrite::OutboxSealed { seq, .. } | ChatWrite::OutboxDone { seq } => {
                ("chat_outbox", Reach::Row(Row::Outbox(*seq)))
            }
            ChatWrite::MailboxPut { .. } | ChatWrite::MailboxDrop { .. } => ("chat_mailbox", Reach::Any),
            ChatWrite::MailboxKeys { .. } => ("chat_mailbox_keys", Reach::Any),
            ChatWrite::Seen { item_id, .. } => ("chat_seen", Reach::Row(Row::Seen(*item_id))),
            ChatWrite::Mailbox { .. } => ("chat_mailboxes", Reach::Any),
        }
    }
}

/// Writes of one kind applied by one statement, each with its place in the
/// batch, in batch order.
#[derive(Debug)]
enum Writes<'a> {
    /// New messages.
    Messages(Vec<(usize, &'a MessageRow)>),
    /// Messages moving to one status.
    Statuses(&'static str, Vec<(usize, [u8; 16], [u8; 16])>),
    /// New outbox items.
    Outbox(Vec<(usize, &'a OutboxRow)>),
    /// Outbox items done with.
    Done(Vec<(usize, i64)>),
    /// Items taken, and when.
    Seen(Vec<(usize, [u8; 16], i64)>),
    /// A write applied by itself.
    Alone(usize, &'a ChatWrite),
}

impl<'a> Writes<'a> {
    /// The group `write`, the batch's `index`th, starts.
    fn start(index: usize, write: &'a ChatWrite) -> Self {
        match write {
            ChatWrite::Message(row) => Writes::Messages(vec![(index, row)]),
            ChatWrite::Status {
                conversation,
                id,
                status,
            } => Writes::Statuses(status, vec![(index, *conversation, *id)]),
            ChatWrite::Outbox(row) => Writes::Outbox(vec![(index, row)]),
            ChatWrite::OutboxDone { seq } => Writes::Done(vec![(index, *seq)]),
            ChatWrite::Seen { item_id, now_ms } => Writes::Seen(vec![(index, *item_id, *now_ms)]),
            other => Writes::Alone(index, other),
        }
    }

    /// Adds `write` if it is of this group's kind; whether it did.
    fn join(&mut self, index: usize, write: &'a ChatWrite) -> bool {
        match (self, write) {
            (Writes::Messages(rows), ChatWrite::Message(row)) => rows.push((index, row)),
            (
                Writes::Statuses(to, rows),
                ChatWrite::Status {
                    conversation,
                    id,
                    status,
                },
            ) if to == status => rows.push((index, *conversation, *id)),
            (Writes::Outbox(rows), ChatWrite::Outbox(row)) => rows.push((index, row)),
            (Writes::Done(rows), ChatWrite::OutboxDone { seq }) => rows.push((index, *seq)),
            (Writes::Seen(rows), ChatWrite::Seen { item_id, now_ms }) => rows.push((index, *item_id, *now_ms)),
            _ => return false,
        }
        true
    }

    /// The places in the batch of the writes it holds, in order.
    fn places(&self) -> Vec<usize> {
        match self {
            Writes::Messages(rows) => rows.iter().map(|(at, _)| *at).collect(),
            Writes::Statuses(_, rows) => rows.iter().map(|(at, ..)| *at).collect(),
            Writes::Outbox(rows) => rows.iter().map(|(at, _)| *at).collect(),
            Writes::Done(rows) => rows.iter().map(|(at, _)| *at).collect(),
            Writes::Seen(rows) => rows.iter().map(|(at, ..)| *at).collect(),
            Writes::Alone(at, _) => vec![*at],
        }
    }
}

/// A group of writes and the rows they touch.
#[derive(Debug)]
struct Group<'a> {
    writes: Writes<'a>,
    table: &'static str,
    rows: HashSet<Row>,
    any: bool,
}

impl<'a> Group<'a> {
    fn new(index: usize, write: &'a ChatWrite) -> Self {
        let (table, _) = write.reach();
        let mut group = Group {
            writes: Writes::start(index, write),
            table,
            rows: HashSet::new(),
            any: false,
        };
        group.touch(write);
        group
    }

    fn touch(&mut self, write: &ChatWrite) {
        match write.reach().1 {
            Reach::New => {}
            Reach::Row(row) => {
                self.rows.insert(row);
            }
            Reach::Any => self.any = true,
        }
    }

    /// Whether a write touching `reach` of `table` could change what this
    /// group does, or be changed by it, if it went first.
    fn crosses(&self, table: &str, reach: Reach) -> bool {
        self.table == table
            && match reach {
                Reach::New => false,
                Reach::Row(row) => self.any || self.rows.contains(&row),
                Reach::Any => self.any || !self.rows.is_empty(),
            }
    }
}

/// Groups `writes` so that applying the groups in order, each as one
/// statement, does what applying the writes one by one would: a write joins
/// the latest group of its kind when no group after that one crosses it,
/// and starts a new group otherwise.
fn plan(writes: &[ChatWrite]) -> Vec<Group<'_>> {
    let mut groups: Vec<Group<'_>> = Vec::new();
    for (index, write) in writes.iter().enumerate() {
        let (table, reach) = write.reach();
        let mut joined = false;
        for at in (0..groups.len()).rev() {
            if groups[at].writes.join(index, write) {
                groups[at].touch(write);
                joined = true;
                break;
            }
            if groups[at].crosses(table, reach) {
                break;
            }
        }
        if !joined {
            groups.push(Group::new(index, write));
        }
    }
    groups
}

/// The sizes of the chunks `count` rows are written in: [`MAX_ROWS`] while
/// that many are left, then falling powers of two.
fn chunk_sizes(mut count: usize) -> impl Iterator<Item = usize> {
    std::iter::from_fn(move || {
        let size = match count {
            0 => return None,
            n if n >= MAX_ROWS => MAX_ROWS,
            n => 1 << n.ilog2(),
        };
        count -= size;
        Some(size)
    })
}

/// Cuts `rows` into the chunks of [`chunk_sizes`].
fn chunks<T>(rows: &[T]) -> impl Iterator<Item = &[T]> {
    let mut rest = rows;
    chunk_sizes(rows.len()).map(move |size| {
        let (chunk, after) = rest.split_at(size);
        rest = after;
        chunk
    })
}

/// `rows` parenthesised lists of `columns` parameters: `(?, ?), (?, ?)`.
/// Parameters are left unnumbered: SQLite finds a numbered one's name by
/// walking a list of them all, which costs a statement of many rows time
/// that grows with the square of its parameters.
fn values(columns: usize, rows: usize) -> String {
    let row = format!("({})", vec!["?"; columns].join(", "));
    vec![row; rows].join(", ")
}

/// The statement that keeps `rows` new messages, naming those it kept.
fn insert_messages_sql(rows: usize) -> String {
    format!(
        "INSERT INTO chat_messages ({MESSAGE_COLUMNS}) VALUES {} \
         ON CONFLICT(conversation, id) DO NOTHING RETURNING conversation, id",
        values(10, rows)
    )
}

/// The statement that moves `rows` messages forward to a status, bound
/// first and last, naming those it moved.
fn update_statuses_sql(rows: usize) -> String {
    format!(
        "UPDATE chat_messages SET status = ? WHERE (conversation, id) IN (VALUES {}) AND {} < {} \
         RETURNING conversation, id",
        values(2, rows),
        rank("status"),
        rank("?")
    )
}

/// The statement that queues `rows` outbox items.
fn insert_outbox_sql(rows: usize) -> String {
    format!(
        "INSERT INTO chat_outbox (to_peer, to_party, sealed, item, messages, created_at_ms, expires_at_ms) \
         VALUES {}",
        values(7, rows)
    )
}

/// The statement that drops `rows` outbox items, naming those it dropped.
fn delete_outbox_sql(rows: usize) -> String {
    format!(
        "DELETE FROM chat_outbox WHERE seq IN ({}) RETURNING seq",
        vec!["?"; rows].join(", ")
    )
}

/// The statement that keeps `rows` taken items' ids, naming the new ones.
fn insert_seen_sql(rows: usize) -> String {
    format!(
        "INSERT INTO chat_seen (item_id, seen_at_ms) VALUES {} ON CONFLICT(item_id) DO NOTHING RETURNING item_id",
        values(2, rows)
    )
}

/// For each write, in order, whether the statement named its row: a row
/// named once counts for the first write of it.
fn named(keys: impl IntoIterator<Item = Row>, mut returned: HashSet<Row>) -> Vec<bool> {
    keys.into_iter().map(|key| returned.remove(&key)).collect()
}

impl Store {
    /// Applies `writes` in one transaction; for each, whether it changed
    /// anything. Nothing is applied when one fails.
    pub async fn chat_write(&self, writes: &[ChatWrite]) -> Result<Vec<bool>, StoreError> {
        self.write_groups(writes, plan(writes)).await
    }

    /// Applies `groups`, made of `writes`, in one transaction.
    async fn write_groups(&self, writes: &[ChatWrite], groups: Vec<Group<'_>>) -> Result<Vec<bool>, StoreError> {
        let query = |e| StoreError::query(&self.path, e);
        let mut tx = self.write().await?;
        let mut changed = vec![false; writes.len()];
        for group in groups {
            let done = self.apply(&mut tx, &group.writes).await?;
            for (at, done) in group.writes.places().into_iter().zip(done) {
                changed[at] = done;
            }
        }
        // Each conversation's latest new message, set once.
        let mut latest: HashMap<[u8; 16], i64> = HashMap::new();
        for (write, changed) in writes.iter().zip(&changed) {
            if let (ChatWrite::Message(row), true) = (write, changed) {
                let at = latest.entry(row.conversation).or_insert(i64::MIN);
                *at = (*at).max(row.sent_at_ms.max(row.received_at_ms));
            }
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

    /// Applies one group; for each of its writes, whether it changed
    /// anything.
    async fn apply(&self, conn: &mut SqliteConnection, writes: &Writes<'_>) -> Result<Vec<bool>, StoreError> {
        match writes {
            Writes::Messages(rows) => self.insert_messages(conn, rows).await,
            Writes::Statuses(status, rows) => self.update_statuses(conn, status, rows).await,
            Writes::Outbox(rows) => self.insert_outbox(conn, rows).await,
            Writes::Done(rows) => self.delete_outbox(conn, rows).await,
            Writes::Seen(rows) => self.insert_seen(conn, rows).await,
            Writes::Alone(_, write) => Ok(vec![self.alone(conn, write).await?]),
        }
    }

    /// Keeps new messages; for each, whether it was new.
    async fn insert_messages(
        &self,
        conn: &mut SqliteConnection,
        rows: &[(usize, &MessageRow)],
    ) -> Result<Vec<bool>, StoreError> {
        let mut changed = Vec::with_capacity(rows.len());
        for chunk in chunks(rows) {
            let sql = insert_messages_sql(chunk.len());
            let mut query = sqlx::query(&sql);
            for (_, row) in chunk {
                query = query
                    .bind(row.conversation.as_slice())
                    .bind(row.id.as_slice())
                    .bind(&row.sender_party)
                    .bind(i64::from(row.outgoing))
                    .bind(&row.body)
                    .bind(row.sent_at_ms)
                    .bind(row.received_at_ms)
                    .bind(&row.status)
                    .bind(&row.paid_chit)
                    .bind(i64::from(row.notified));
            }
            let returned = self.message_keys(query.fetch_all(&mut *conn).await)?;
            changed.extend(named(
                chunk.iter().map(|(_, row)| Row::Message(row.conversation, row.id)),
                returned,
            ));
        }
        Ok(changed)
    }

    /// Moves messages forward to `status`; for each, whether it moved.
    async fn update_statuses(
        &self,
        conn: &mut SqliteConnection,
        status: &str,
        rows: &[(usize, [u8; 16], [u8; 16])],
    ) -> Result<Vec<bool>, StoreError> {
        let mut changed = Vec::with_capacity(rows.len());
        for chunk in chunks(rows) {
            let sql = update_statuses_sql(chunk.len());
            let mut query = sqlx::query(&sql).bind(status);
            for (_, conversation, id) in chunk {
                query = query.bind(conversation.as_slice()).bind(id.as_slice());
            }
            query = query.bind(status);
            let returned = self.message_keys(query.fetch_all(&mut *conn).await)?;
            changed.extend(named(
                chunk
                    .iter()
                    .map(|(_, conversation, id)| Row::Message(*conversation, *id)),
                returned,
            ));
        }
        Ok(changed)
    }

    /// Queues outbox items (each is new).
    async fn insert_outbox(
        &self,
        conn: &mut SqliteConnection,
        rows: &[(usize, &OutboxRow)],
    ) -> Result<Vec<bool>, StoreError> {
        for chunk in chunks(rows) {
            let sql = insert_outbox_sql(chunk.len());
            let mut query = sqlx::query(&sql);
            for (_, row) in chunk {
                query = query
                    .bind(&row.to_peer)
                    .bind(&row.to_party)
                    .bind(i64::from(row.sealed))
                    .bind(&row.item)
                    .bind(message_pairs(&row.messages))
                    .bind(row.created_at_ms)
                    .bind(row.expires_at_ms);
            }
            query
                .execute(&mut *conn)
                .await
                .map_err(|e| StoreError::query(&self.path, e))?;
        }
        Ok(vec![true; rows.len()])
    }

    /// Drops outbox items; for each, whether it was there.
    async fn delete_outbox(&self, conn: &mut SqliteConnection, rows: &[(usize, i64)]) -> Result<Vec<bool>, StoreError> {
        let mut changed = Vec::with_capacity(rows.len());
        for chunk in chunks(rows) {
            let sql = delete_outbox_sql(chunk.len());
            let mut query = sqlx::query_scalar::<_, i64>(&sql);
            for (_, seq) in chunk {
                query = query.bind(seq);
            }
            let returned = query
                .fetch_all(&mut *conn)
                .await
                .map_err(|e| StoreError::query(&self.path, e))?;
            changed.extend(named(
                chunk.iter().map(|(_, seq)| Row::Outbox(*seq)),
                returned.into_iter().map(Row::Outbox).collect(),
            ));
        }
        Ok(changed)
    }

    /// Keeps the ids of items taken; for each, whether it was new.
    async fn insert_seen(
        &self,
        conn: &mut SqliteConnection,
        rows: &[(usize, [u8; 16], i64)],
    ) -> Result<Vec<bool>, StoreError> {
        let mut changed = Vec::with_capacity(rows.len());
        for chunk in chunks(rows) {
            let sql = insert_seen_sql(chunk.len());
            let mut query = sqlx::query_scalar::<_, Vec<u8>>(&sql);
            for (_, item_id, now_ms) in chunk {
                query = query.bind(item_id.as_slice()).bind(now_ms);
            }
            let returned = query
                .fetch_all(&mut *conn)
                .await
                .map_err(|e| StoreError::query(&self.path, e))?
                .into_iter()
                .map(|id| self.chat_array(id).map(Row::Seen))
                .collect::<Result<HashSet<_>, _>>()?;
            changed.extend(named(chunk.iter().map(|(_, id, _)| Row::Seen(*id)), returned));
        }
        Ok(changed)
    }

    /// The (conversation, id) keys a `RETURNING conversation, id` named.
    fn message_keys(&self, rows: Result<Vec<SqliteRow>, sqlx::Error>) -> Result<HashSet<Row>, StoreError> {
        rows.map_err(|e| StoreError::query(&self.path, e))?
            .iter()
            .map(|row| {
                Ok(Row::Message(
                    self.chat_fixed(row, "conversation")?,
                    self.chat_fixed(row, "id")?,
                ))
            })
            .collect()
    }

    /// Applies one write by itself; whether it changed anything.
    async fn alone(&self, conn: &mut SqliteConnection, write: &ChatWrite) -> Result<bool, StoreError> {
        let query = |e| StoreError::query(&self.path, e);
        let first = |changed: Vec<bool>| changed.first().copied().unwrap_or(false);
        let done = match write {
            // Kinds written together, here alone.
            ChatWrite::Message(row) => return Ok(first(self.insert_messages(conn, &[(0, row)]).await?)),
            ChatWrite::Status {
                conversation,
                id,
                status,
            } => {
                return Ok(first(
                    self.update_statuses(conn, status, &[(0, *conversation, *id)]).await?,
                ));
            }
            ChatWrite::Outbox(row) => return Ok(first(self.insert_outbox(conn, &[(0, row)]).await?)),
            ChatWrite::OutboxDone { seq } => return Ok(first(self.delete_outbox(conn, &[(0, *seq)]).await?)),
            ChatWrite::Seen { item_id, now_ms } => {
                return Ok(first(self.insert_seen(conn, &[(0, *item_id, *now_ms)]).await?));
            }
            ChatWrite::Account { pickle } => sqlx::query(
                "INSERT INTO chat_account (slot, pickle, updated_at_ms) VALUES (1, ?1, 0) \
                 ON CONFLICT(slot) DO UPDATE SET pickle = excluded.pickle",
            )
            .bind(pickle)
            .execute(&mut *conn)
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
            .execute(&mut *conn)
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
            .execute(&mut *conn)
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
            .execute(&mut *conn)
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
                .execute(&mut *conn)
                .await
                .map_err(query)?
            }
            ChatWrite::PaidChit { conversation, id, chit } => {
                sqlx::query("UPDATE chat_messages SET paid_chit = ?3 WHERE conversation = ?1 AND id = ?2")
                    .bind(conversation.as_slice())
                    .bind(id.as_slice())
                    .bind(chit)
                    .execute(&mut *conn)
                    .await
                    .map_err(query)?
            }
            ChatWrite::Notified { conversation, id } => sqlx::query(
                "UPDATE chat_messages SET notified = 1 WHERE conversation = ?1 AND id = ?2 AND notified = 0",
            )
            .bind(conversation.as_slice())
            .bind(id.as_slice())
            .execute(&mut *conn)
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
            .execute(&mut *conn)
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
            .execute(&mut *conn)
            .await
            .map_err(query)?,
            ChatWrite::MailboxDrop { for_peer, item_id } => {
                sqlx::query("DELETE FROM chat_mailbox WHERE for_peer = ?1 AND item_id = ?2")
                    .bind(for_peer)
                    .bind(item_id.as_slice())
                    .execute(&mut *conn)
                    .await
                    .map_err(query)?
            }
            ChatWrite::MailboxKeys { for_peer, keys, now_ms } => {
                let mut affected = 0;
                for (key, fallback) in keys {
                    if *fallback {
                        sqlx::query("DELETE FROM chat_mailbox_keys WHERE for_peer = ? AND fallback = 1")
                            .bind(for_peer)
                            .execute(&mut *conn)
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
                    .execute(&mut *conn)
                    .await
                    .map_err(query)?
                    .rows_affected();
                }
                return Ok(affected > 0);
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
            .execute(&mut *conn)
            .await
            .map_err(query)?,
        };
        Ok(done.rows_affected() > 0)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    const STATUSES: [&str; 5] = ["pending", "received", "held", "delivered", "read"];

    fn message(conversation: u8, id: u8, status: &str, at: i64) -> MessageRow {
        MessageRow {
            conversation: [conversation; 16],
            id: [id; 16],
            sender_party: Some("did:key:z6Mk".into()),
            outgoing: true,
            body: vec![0xa0, id],
            sent_at_ms: at,
            received_at_ms: at,
            status: status.into(),
            paid_chit: None,
            notified: true,
        }
    }

    fn outbox(to: &str) -> ChatWrite {
        ChatWrite::Outbox(OutboxRow {
            seq: 0,
            to_peer: to.into(),
            to_party: "did:key:z6Mk".into(),
            sealed: false,
            item: to.as_bytes().to_vec(),
            messages: Vec::new(),
            created_at_ms: 1,
            expires_at_ms: 2,
        })
    }

    fn status(conversation: u8, id: u8, status: &'static str) -> ChatWrite {
        ChatWrite::Status {
            conversation: [conversation; 16],
            id: [id; 16],
            status,
        }
    }

    /// The kinds of `plan`'s groups, and the places of their writes.
    fn shape(writes: &[ChatWrite]) -> Vec<Vec<usize>> {
        plan(writes).iter().map(|group| group.writes.places()).collect()
    }

    #[test]
    fn chunks_are_powers_of_two_up_to_the_most_rows_and_cover_every_row() {
        assert_eq!(chunk_sizes(0).count(), 0);
        assert_eq!(chunk_sizes(1).collect::<Vec<_>>(), vec![1]);
        assert_eq!(chunk_sizes(37).collect::<Vec<_>>(), vec![32, 4, 1]);
        assert_eq!(chunk_sizes(130).collect::<Vec<_>>(), vec![64, 64, 2]);
        for count in 0..300 {
            let sizes: Vec<usize> = chunk_sizes(count).collect();
            assert_eq!(sizes.iter().sum::<usize>(), count);
            assert!(sizes.iter().all(|s| s.is_power_of_two() && *s <= MAX_ROWS));
        }
        let rows: Vec<u32> = (0..37).collect();
        let cut: Vec<&[u32]> = chunks(&rows).collect();
        assert_eq!(cut.concat(), rows, "chunks keep every row in order");
    }

    #[test]
    fn messages_and_their_outbox_items_sent_one_after_another_go_in_one_statement_each() {
        let writes: Vec<ChatWrite> = (1..=20u8)
            .flat_map(|id| [ChatWrite::Message(message(1, id, "pending", 1)), outbox("a")])
            .collect();
        let evens: Vec<usize> = (0..40).step_by(2).collect();
        let odds: Vec<usize> = (1..40).step_by(2).collect();
        assert_eq!(shape(&writes), vec![evens, odds]);
    }

    #[test]
    fn a_write_never_moves_before_one_that_touches_its_row() {
        // The second message would pass the status of the same message.
        let writes = vec![
            ChatWrite::Message(message(1, 1, "pending", 1)),
            status(1, 2, "delivered"),
            ChatWrite::Message(message(1, 2, "pending", 1)),
            ChatWrite::Message(message(1, 3, "pending", 1)),
        ];
        assert_eq!(shape(&writes), vec![vec![0], vec![1], vec![2, 3]]);
        // Another message's status is passed; a conversation write, on
        // another table, too.
        let writes = vec![
            ChatWrite::Message(message(1, 1, "pending", 1)),
            status(1, 9, "delivered"),
            ChatWrite::Conversation(ConversationRow {
                id: [1; 16],
                peer_party: Some("did:key:z6Mk".into()),
                name: None,
                members: Vec::new(),
                created_at_ms: 0,
                last_at_ms: 0,
            }),
            ChatWrite::Message(message(1, 2, "pending", 1)),
        ];
        assert_eq!(shape(&writes), vec![vec![0, 3], vec![1], vec![2]]);
        // Two statuses go together only when they are the same status.
        let writes = vec![
            status(1, 1, "delivered"),
            status(1, 2, "read"),
            status(1, 3, "delivered"),
            status(1, 2, "delivered"),
        ];
        assert_eq!(shape(&writes), vec![vec![0, 2], vec![1], vec![3]]);
        // Sealing an item and dropping it: never swapped.
        let writes = vec![
            ChatWrite::OutboxDone { seq: 4 },
            ChatWrite::OutboxSealed {
                seq: 4,
                item: vec![1],
                messages: Vec::new(),
                expires_at_ms: 9,
            },
            ChatWrite::OutboxDone { seq: 5 },
            ChatWrite::OutboxDone { seq: 4 },
        ];
        assert_eq!(shape(&writes), vec![vec![0, 2], vec![1], vec![3]]);
    }

    async fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("t.sqlite")).await.unwrap();
        (dir, store)
    }

    /// Every chat table's rows, as text, in a fixed order.
    async fn dump(store: &Store) -> Vec<String> {
        let mut rows = Vec::new();
        for sql in [
            "SELECT quote(conversation) || quote(id) || quote(sender_party) || outgoing || quote(body) || sent_at_ms \
             || ' ' || received_at_ms || status || quote(paid_chit) || notified FROM chat_messages \
             ORDER BY conversation, id",
            "SELECT seq || to_peer || sealed || quote(item) || quote(messages) || expires_at_ms FROM chat_outbox \
             ORDER BY seq",
            "SELECT quote(item_id) || seen_at_ms FROM chat_seen ORDER BY item_id",
            "SELECT quote(id) || last_at_ms FROM chat_conversations ORDER BY id",
            "SELECT quote(identity_key) || pickle FROM chat_sessions ORDER BY identity_key",
        ] {
            let found: Vec<String> = sqlx::query_scalar(sql).fetch_all(&store.pool).await.unwrap();
            rows.push(format!("{}:", found.len()));
            rows.extend(found);
        }
        rows
    }

    /// Writes of every kind that meet on a few rows: messages of two
    /// conversations, outbox items 1 to 4 (kept before the batch), items
    /// taken, sessions.
    fn write() -> impl Strategy<Value = ChatWrite> {
        let key = || (1..=2u8, 1..=3u8);
        prop_oneof![
            3 => (key(), 0..2usize, 0..100i64)
                .prop_map(|((c, id), s, at)| ChatWrite::Message(message(c, id, STATUSES[s], at))),
            3 => (key(), 0..5usize).prop_map(|((c, id), s)| status(c, id, STATUSES[s])),
            1 => key().prop_map(|(c, id)| ChatWrite::PaidChit {
                conversation: [c; 16],
                id: [id; 16],
                chit: "ab".into()
            }),
            1 => key().prop_map(|(c, id)| ChatWrite::Notified {
                conversation: [c; 16],
                id: [id; 16]
            }),
            2 => prop_oneof![Just("a"), Just("b")].prop_map(outbox),
            2 => (1..=4i64).prop_map(|seq| ChatWrite::OutboxDone { seq }),
            1 => (1..=4i64, any::<u8>()).prop_map(|(seq, byte)| ChatWrite::OutboxSealed {
                seq,
                item: vec![byte],
                messages: vec![([1; 16], [1; 16])],
                expires_at_ms: 9
            }),
            2 => (1..=3u8, 0..50i64).prop_map(|(id, now_ms)| ChatWrite::Seen {
                item_id: [id; 16],
                now_ms
            }),
            1 => (1..=2u8, 0..200i64).prop_map(|(c, at)| ChatWrite::Conversation(ConversationRow {
                id: [c; 16],
                peer_party: Some("did:key:z6Mk".into()),
                name: None,
                members: Vec::new(),
                created_at_ms: at,
                last_at_ms: at
            })),
            1 => (1..=2u8, any::<u8>()).prop_map(|(k, p)| ChatWrite::Session {
                identity_key: [k; 32],
                session_id: "s".into(),
                pickle: p.to_string(),
                now_ms: 1
            }),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

        #[test]
        fn a_batch_written_in_groups_does_what_its_writes_one_by_one_do(
            writes in prop::collection::vec(write(), 1..80)
        ) {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            let (grouped, alone) = runtime.block_on(async {
                let mut outcomes = Vec::new();
                for grouped in [true, false] {
                    let (_dir, store) = store().await;
                    let before = vec![outbox("a"), outbox("b"), outbox("a"), outbox("b")];
                    store.chat_write(&before).await.unwrap();
                    let groups = if grouped {
                        plan(&writes)
                    } else {
                        writes.iter().enumerate().map(|(at, write)| Group::new(at, write)).collect()
                    };
                    let changed = store.write_groups(&writes, groups).await.unwrap();
                    outcomes.push((changed, dump(&store).await));
                    store.close().await;
                }
                (outcomes.remove(0), outcomes.remove(0))
            });
            prop_assert_eq!(grouped, alone);
        }
    }

    /// The query plan of `sql` (its parameters unbound), one line a step.
    async fn query_plan(store: &Store, sql: &str) -> String {
        let rows = sqlx::query(&format!("EXPLAIN QUERY PLAN {sql}"))
            .fetch_all(&store.pool)
            .await
            .unwrap();
        rows.iter()
            .map(|row| sqlx::Row::get::<String, _>(row, "detail"))
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[tokio::test]
    async fn statuses_move_and_messages_are_read_by_key_through_the_primary_key_not_a_scan() {
        let (_dir, store) = store().await;
        let writes: Vec<ChatWrite> = (0..=255u8)
            .map(|id| ChatWrite::Message(message(1, id, "pending", 1)))
            .collect();
        store.chat_write(&writes).await.unwrap();
        for sql in [update_statuses_sql(16), super::super::messages_of_sql()] {
            let plan = query_plan(&store, &sql).await;
            assert!(plan.contains("SEARCH chat_messages USING INDEX"), "{plan}");
            assert!(!plan.contains("SCAN chat_messages"), "{plan}");
        }
        store.close().await;
    }

    #[tokio::test]
    async fn a_batch_past_the_most_rows_a_statement_writes_keeps_every_row_and_tells_which_were_new() {
        let (_dir, store) = store().await;
        let first: Vec<ChatWrite> = (0..100u8)
            .map(|id| ChatWrite::Message(message(1, id, "pending", 1)))
            .collect();
        assert_eq!(store.chat_write(&first).await.unwrap(), vec![true; 100]);
        // 50 kept before, 100 new, then one of them again.
        let mut again: Vec<ChatWrite> = (50..200u8)
            .map(|id| ChatWrite::Message(message(1, id, "pending", 1)))
            .collect();
        again.push(ChatWrite::Message(message(1, 150, "pending", 1)));
        let changed = store.chat_write(&again).await.unwrap();
        assert_eq!(changed.iter().filter(|c| **c).count(), 100);
        assert!(changed[..50].iter().all(|c| !c) && changed[50..150].iter().all(|c| *c) && !changed[150]);
        let statuses: Vec<ChatWrite> = (0..200u8).map(|id| status(1, id, "delivered")).collect();
        assert_eq!(store.chat_write(&statuses).await.unwrap(), vec![true; 200]);
        assert_eq!(store.chat_write(&statuses).await.unwrap(), vec![false; 200]);
        let kept: i64 = sqlx::query_scalar("SELECT count(*) FROM chat_messages WHERE status = 'delivered'")
            .fetch_one(&store.pool)
            .await
            .unwrap();
        assert_eq!(kept, 200);
        store.close().await;
    }
}
