//! The party's tallies: one row each, the negotiation messages that made
//! it (with an outbox of those not yet delivered), and its chits, pending
//! or certified. The node decides; this module keeps the rows.
//!
//! Sides are written `stock` or `foil`, stages `offered`, `open`,
//! `refused`, `closing` or `closed`, chit kinds `transaction`, `invoice`,
//! `decline` or `setting`; the schema refuses anything else.

use sqlx::Row;
use sqlx::sqlite::SqliteRow;

use crate::{Store, StoreError};

/// A tally as the list of tallies shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TallyRow {
    /// The tally id.
    pub tally: [u8; 16],
    /// The partner's party key.
    pub partner: [u8; 32],
    /// Our side: `stock` or `foil`.
    pub side: String,
    /// Where it stands.
    pub stage: String,
    /// The newest revision: the signed offer, or the open tally.
    pub current: Vec<u8>,
    /// What the foil owes the stock, as certified.
    pub balance: i64,
    /// When it was first offered (ms).
    pub created_at_ms: i64,
    /// When it last changed (ms).
    pub updated_at_ms: i64,
}

/// A negotiation message as kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TallyMessageRow {
    /// The tally.
    pub tally: [u8; 16],
    /// Its place in the tally's messages, from 1.
    pub seq: i64,
    /// Whether this node sent it.
    pub outgoing: bool,
    /// When it was sent or received (ms).
    pub at_ms: i64,
    /// The envelope bytes.
    pub message: Vec<u8>,
    /// When the partner took it, for a sent message.
    pub delivered_at_ms: Option<i64>,
}

/// A chit of one of our tallies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChitRow {
    /// The tally.
    pub tally: [u8; 16],
    /// SHA-256 of the signed chit.
    pub id: [u8; 32],
    /// The author's side.
    pub by_side: String,
    /// Its place in the author's key chain.
    pub action: i64,
    /// What kind of chit it is.
    pub kind: String,
    /// Transactions: the change to the balance; invoices: the amount asked.
    pub units: Option<i64>,
    /// The author's note.
    pub memo: String,
    /// When its author made it (ms).
    pub date_ms: i64,
    /// The signed chit.
    pub chit: Vec<u8>,
    /// Once certified: the block height, when it was learnt, the balance after.
    pub certified: Option<Certified>,
    /// Why the tally network refused it, if it did.
    pub refused: Option<String>,
}

/// Where and when a chit was certified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Certified {
    /// The height of the block that holds it.
    pub height: i64,
    /// When this node learnt it (ms).
    pub at_ms: i64,
    /// The tally's balance after it.
    pub balance: i64,
}

const TALLY_COLUMNS: &str = "tally, partner, side, stage, current, balance, created_at_ms, updated_at_ms";
const MESSAGE_COLUMNS: &str = "tally, seq, outgoing, at_ms, message, delivered_at_ms";
const CHIT_COLUMNS: &str =
    "tally, id, by_side, action, kind, units, memo, date_ms, chit, height, certified_at_ms, balance, refused";

impl Store {
    /// Keeps a tally's row, new or changed (the balance is left alone when
    /// the row exists: [`Store::certify_chit`] keeps it).
    pub async fn save_tally(&self, row: &TallyRow) -> Result<(), StoreError> {
        sqlx::query(&format!(
            "INSERT INTO tallies ({TALLY_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) \
             ON CONFLICT (tally) DO UPDATE SET stage = excluded.stage, current = excluded.current, \
             updated_at_ms = excluded.updated_at_ms"
        ))
        .bind(row.tally.as_slice())
        .bind(row.partner.as_slice())
        .bind(&row.side)
        .bind(&row.stage)
        .bind(&row.current)
        .bind(row.balance)
        .bind(row.created_at_ms)
        .bind(row.updated_at_ms)
        .execute(&self.pool)
        .await
        .map_err(|e| StoreError::query(&self.path, e))?;
        Ok(())
    }

    /// A tally, if we have it.
    pub async fn tally(&self, tally: &[u8; 16]) -> Result<Option<TallyRow>, StoreError> {
        let row = sqlx::query(&format!("SELECT {TALLY_COLUMNS} FROM tallies WHERE tally = ?"))
            .bind(tally.as_slice())
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| StoreError::query(&self.path, e))?;
        row.map(|row| self.tally_row(&row)).transpose()
    }

    /// Every tally, the most recently changed first.
    pub async fn tallies(&self) -> Result<Vec<TallyRow>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {TALLY_COLUMNS} FROM tallies ORDER BY updated_at_ms DESC, tally"
        ))
        .fetch_all(&self.pool)
        .await
        .map_err(|e| StoreError::query(&self.path, e))?;
        rows.iter().map(|row| self.tally_row(row)).collect()
    }

    /// Appends a negotiation message to its tally's, returning its `seq`.
    /// The tally's row must exist.
    pub async fn add_tally_message(
        &self,
        tally: &[u8; 16],
        outgoing: bool,
        message: &[u8],
        at_ms: i64,
    ) -> Result<i64, StoreError> {
        sqlx::query_scalar(
            "INSERT INTO tally_messages (tally, seq, outgoing, at_ms, message) \
             SELECT ?1, COALESCE(MAX(seq), 0) + 1, ?2, ?3, ?4 FROM tally_messages WHERE tally = ?1 \
             RETURNING seq",
        )
        .bind(tally.as_slice())
        .bind(outgoing)
        .bind(at_ms)
        .bind(message)
        .fetch_one(&self.pool)
        .await
        .map_err(|e| StoreError::query(&self.path, e))
    }

    /// A tally's messages, in order.
    pub async fn tally_messages(&self, tally: &[u8; 16]) -> Result<Vec<TallyMessageRow>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {MESSAGE_COLUMNS} FROM tally_messages WHERE tally = ? ORDER BY seq"
        ))
        .bind(tally.as_slice())
        .fetch_all(&self.pool)
        .await
        .map_err(|e| StoreError::query(&self.path, e))?;
        rows.iter().map(|row| self.message_row(row)).collect()
    }

    /// Sent messages no device of the partner took yet, oldest first.
    pub async fn tally_outbox(&self) -> Result<Vec<TallyMessageRow>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {MESSAGE_COLUMNS} FROM tally_messages WHERE outgoing = 1 AND delivered_at_ms IS NULL \
             ORDER BY at_ms, tally, seq"
        ))
        .fetch_all(&self.pool)
        .await
        .map_err(|e| StoreError::query(&self.path, e))?;
        rows.iter().map(|row| self.message_row(row)).collect()
    }

    /// Marks a sent message delivered.
    pub async fn tally_message_delivered(&self, tally: &[u8; 16], seq: i64, at_ms: i64) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE tally_messages SET delivered_at_ms = ?3 \
             WHERE tally = ?1 AND seq = ?2 AND outgoing = 1 AND delivered_at_ms IS NULL",
        )
        .bind(tally.as_slice())
        .bind(seq)
        .bind(at_ms)
        .execute(&self.pool)
        .await
        .map_err(|e| StoreError::query(&self.path, e))?;
        Ok(())
    }

    /// Keeps a chit as pending; a chit already kept is left as it is.
    /// Returns whether it was new.
    pub async fn add_chit(&self, row: &ChitRow) -> Result<bool, StoreError> {
        let done = sqlx::query(&format!(
            "INSERT INTO tally_chits ({CHIT_COLUMNS}) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, NULL, NULL, NULL, NULL) \
             ON CONFLICT (tally, id) DO NOTHING"
        ))
        .bind(row.tally.as_slice())
        .bind(row.id.as_slice())
        .bind(&row.by_side)
        .bind(row.action)
        .bind(&row.kind)
        .bind(row.units)
        .bind(&row.memo)
        .bind(row.date_ms)
        .bind(&row.chit)
        .execute(&self.pool)
        .await
        .map_err(|e| StoreError::query(&self.path, e))?;
        Ok(done.rows_affected() == 1)
    }

    /// Marks a chit certified and sets its tally's balance, in one
    /// transaction. Returns `false` (changing nothing) when the chit is
    /// not kept or was certified already.
    pub async fn certify_chit(
        &self,
        tally: &[u8; 16],
        id: &[u8; 32],
        certified: Certified,
    ) -> Result<bool, StoreError> {
        let query = |e| StoreError::query(&self.path, e);
        let mut tx = self.write().await?;
        let done = sqlx::query(
            "UPDATE tally_chits SET height = ?3, certified_at_ms = ?4, balance = ?5, refused = NULL \
             WHERE tally = ?1 AND id = ?2 AND height IS NULL",
        )
        .bind(tally.as_slice())
        .bind(id.as_slice())
        .bind(certified.height)
        .bind(certified.at_ms)
        .bind(certified.balance)
        .execute(&mut *tx)
        .await
        .map_err(query)?;
        if done.rows_affected() != 1 {
            tx.rollback().await.map_err(query)?;
            return Ok(false);
        }
        sqlx::query("UPDATE tallies SET balance = ?2, updated_at_ms = MAX(updated_at_ms, ?3) WHERE tally = ?1")
            .bind(tally.as_slice())
            .bind(certified.balance)
            .bind(certified.at_ms)
            .execute(&mut *tx)
            .await
            .map_err(query)?;
        tx.commit().await.map_err(query)?;
        Ok(true)
    }

    /// Marks a pending chit refused by the tally network.
    pub async fn refuse_chit(&self, tally: &[u8; 16], id: &[u8; 32], reason: &str) -> Result<(), StoreError> {
        sqlx::query("UPDATE tally_chits SET refused = ?3 WHERE tally = ?1 AND id = ?2 AND height IS NULL")
            .bind(tally.as_slice())
            .bind(id.as_slice())
            .bind(reason)
            .execute(&self.pool)
            .await
            .map_err(|e| StoreError::query(&self.path, e))?;
        Ok(())
    }

    /// How many chits of a tally wait to be certified: neither certified
    /// nor refused.
    pub async fn pending_chits(&self, tally: &[u8; 16]) -> Result<i64, StoreError> {
        let (count,): (i64,) =
            sqlx::query_as("SELECT count(*) FROM tally_chits WHERE tally = ?1 AND height IS NULL AND refused IS NULL")
                .bind(tally.as_slice())
                .fetch_one(&self.pool)
                .await
                .map_err(|e| StoreError::query(&self.path, e))?;
        Ok(count)
    }

    /// A chit of a tally, if kept.
    pub async fn chit(&self, tally: &[u8; 16], id: &[u8; 32]) -> Result<Option<ChitRow>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {CHIT_COLUMNS} FROM tally_chits WHERE tally = ?1 AND id = ?2"
        ))
        .bind(tally.as_slice())
        .bind(id.as_slice())
        .fetch_optional(&self.pool)
        .await
        .map_err(|e| StoreError::query(&self.path, e))?;
        row.map(|row| self.chit_row(&row)).transpose()
    }

    /// A page of a tally's chits, newest first: at most `limit`, coming
    /// before `before` (a chit's `(date_ms, action, id)`) when given. Chits
    /// made in the same millisecond come in the order of their authors' key
    /// chains.
    pub async fn chits(
        &self,
        tally: &[u8; 16],
        before: Option<(i64, i64, [u8; 32])>,
        limit: u32,
    ) -> Result<Vec<ChitRow>, StoreError> {
        let (date, action, id) = before.map_or((i64::MAX, i64::MAX, vec![0xff; 33]), |(d, a, id)| (d, a, id.to_vec()));
        let rows = sqlx::query(&format!(
            "SELECT {CHIT_COLUMNS} FROM tally_chits WHERE tally = ?1 AND (date_ms, action, id) < (?2, ?3, ?4) \
             ORDER BY date_ms DESC, action DESC, id DESC LIMIT ?5"
        ))
        .bind(tally.as_slice())
        .bind(date)
        .bind(action)
        .bind(id)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(|e| StoreError::query(&self.path, e))?;
        rows.iter().map(|row| self.chit_row(row)).collect()
    }

    /// Every certified chit of every tally, in the order this node learnt
    /// them: `(tally, certified at, balance after)`, for positions over time.
    pub async fn certified_balances(&self) -> Result<Vec<([u8; 16], i64, i64)>, StoreError> {
        let rows = sqlx::query(
            "SELECT tally, certified_at_ms, balance FROM tally_chits WHERE height IS NOT NULL \
             ORDER BY certified_at_ms, height, id",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(|e| StoreError::query(&self.path, e))?;
        let read = |e: sqlx::Error| StoreError::query(&self.path, e);
        rows.iter()
            .map(|row| {
                let tally: Vec<u8> = row.try_get("tally").map_err(read)?;
                Ok((
                    self.fixed(tally, "tally id")?,
                    row.try_get("certified_at_ms").map_err(read)?,
                    row.try_get("balance").map_err(read)?,
                ))
            })
            .collect()
    }

    pub(crate) fn fixed<const N: usize>(&self, bytes: Vec<u8>, what: &str) -> Result<[u8; N], StoreError> {
        bytes.try_into().map_err(|_| StoreError::Query {
            path: self.path.clone(),
            reason: format!("a stored {what} is not {N} bytes"),
        })
    }

    fn tally_row(&self, row: &SqliteRow) -> Result<TallyRow, StoreError> {
        let read = |e: sqlx::Error| StoreError::query(&self.path, e);
        Ok(TallyRow {
            tally: self.fixed(row.try_get("tally").map_err(read)?, "tally id")?,
            partner: self.fixed(row.try_get("partner").map_err(read)?, "party key")?,
            side: row.try_get("side").map_err(read)?,
            stage: row.try_get("stage").map_err(read)?,
            current: row.try_get("current").map_err(read)?,
            balance: row.try_get("balance").map_err(read)?,
            created_at_ms: row.try_get("created_at_ms").map_err(read)?,
            updated_at_ms: row.try_get("updated_at_ms").map_err(read)?,
        })
    }

    fn message_row(&self, row: &SqliteRow) -> Result<TallyMessageRow, StoreError> {
        let read = |e: sqlx::Error| StoreError::query(&self.path, e);
        Ok(TallyMessageRow {
            tally: self.fixed(row.try_get("tally").map_err(read)?, "tally id")?,
            seq: row.try_get("seq").map_err(read)?,
            outgoing: row.try_get("outgoing").map_err(read)?,
            at_ms: row.try_get("at_ms").map_err(read)?,
            message: row.try_get("message").map_err(read)?,
            delivered_at_ms: row.try_get("delivered_at_ms").map_err(read)?,
        })
    }

    fn chit_row(&self, row: &SqliteRow) -> Result<ChitRow, StoreError> {
        let read = |e: sqlx::Error| StoreError::query(&self.path, e);
        let height: Option<i64> = row.try_get("height").map_err(read)?;
        let at: Option<i64> = row.try_get("certified_at_ms").map_err(read)?;
        let balance: Option<i64> = row.try_get("balance").map_err(read)?;
        Ok(ChitRow {
            tally: self.fixed(row.try_get("tally").map_err(read)?, "tally id")?,
            id: self.fixed(row.try_get("id").map_err(read)?, "chit id")?,
            by_side: row.try_get("by_side").map_err(read)?,
            action: row.try_get("action").map_err(read)?,
            kind: row.try_get("kind").map_err(read)?,
            units: row.try_get("units").map_err(read)?,
            memo: row.try_get("memo").map_err(read)?,
            date_ms: row.try_get("date_ms").map_err(read)?,
            chit: row.try_get("chit").map_err(read)?,
            certified: match (height, at, balance) {
                (Some(height), Some(at_ms), Some(balance)) => Some(Certified { height, at_ms, balance }),
                _ => None,
            },
            refused: row.try_get("refused").map_err(read)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("db.sqlite")).await.unwrap();
        (dir, store)
    }

    fn tally(id: u8) -> TallyRow {
        TallyRow {
            tally: [id; 16],
            partner: [9; 32],
            side: "foil".into(),
            stage: "offered".into(),
            current: vec![0x82, id],
            balance: 0,
            created_at_ms: 10,
            updated_at_ms: 10,
        }
    }

    fn chit(tally: u8, id: u8, date_ms: i64) -> ChitRow {
        ChitRow {
            tally: [tally; 16],
            id: [id; 32],
            by_side: "foil".into(),
            action: i64::from(id),
            kind: "transaction".into(),
            units: Some(1_000),
            memo: "lunch".into(),
            date_ms,
            chit: vec![0x84, id],
            certified: None,
            refused: None,
        }
    }

    #[tokio::test]
    async fn a_tally_row_is_kept_and_updated_without_touching_its_balance() {
        let (_dir, store) = store().await;
        store.save_tally(&tally(1)).await.unwrap();
        store.add_chit(&chit(1, 1, 20)).await.unwrap();
        let certified = Certified {
            height: 1,
            at_ms: 30,
            balance: 1_000,
        };
        assert!(store.certify_chit(&[1; 16], &[1; 32], certified).await.unwrap());
        assert!(
            !store.certify_chit(&[1; 16], &[1; 32], certified).await.unwrap(),
            "once"
        );
        let mut open = tally(1);
        open.stage = "open".into();
        open.updated_at_ms = 40;
        store.save_tally(&open).await.unwrap();
        let kept = store.tally(&[1; 16]).await.unwrap().unwrap();
        assert_eq!(
            (kept.stage.as_str(), kept.balance, kept.updated_at_ms),
            ("open", 1_000, 40)
        );
        assert_eq!(store.certified_balances().await.unwrap(), vec![([1; 16], 30, 1_000)]);
    }

    #[tokio::test]
    async fn the_schema_refuses_an_unknown_stage() {
        let (_dir, store) = store().await;
        let mut bad = tally(1);
        bad.stage = "maybe".into();
        assert!(store.save_tally(&bad).await.is_err());
        assert!(store.tally(&[1; 16]).await.unwrap().is_none());
    }

    #[tokio::test]
    async fn messages_number_themselves_and_the_outbox_empties_as_they_are_delivered() {
        let (_dir, store) = store().await;
        store.save_tally(&tally(1)).await.unwrap();
        store.save_tally(&tally(2)).await.unwrap();
        assert_eq!(store.add_tally_message(&[1; 16], true, b"offer", 10).await.unwrap(), 1);
        assert_eq!(
            store.add_tally_message(&[1; 16], false, b"counter", 11).await.unwrap(),
            2
        );
        assert_eq!(store.add_tally_message(&[2; 16], true, b"offer", 12).await.unwrap(), 1);
        let outbox: Vec<_> = store
            .tally_outbox()
            .await
            .unwrap()
            .into_iter()
            .map(|m| (m.tally[0], m.seq))
            .collect();
        assert_eq!(outbox, vec![(1, 1), (2, 1)]);
        store.tally_message_delivered(&[1; 16], 1, 20).await.unwrap();
        let outbox: Vec<_> = store
            .tally_outbox()
            .await
            .unwrap()
            .into_iter()
            .map(|m| m.tally[0])
            .collect();
        assert_eq!(outbox, vec![2]);
        let messages = store.tally_messages(&[1; 16]).await.unwrap();
        assert_eq!(messages.len(), 2);
        assert_eq!(messages[1].message, b"counter");
        assert!(!messages[1].outgoing);
    }

    #[tokio::test]
    async fn chits_page_newest_first_without_gaps_or_repeats() {
        let (_dir, store) = store().await;
        store.save_tally(&tally(1)).await.unwrap();
        for n in 1..=7u8 {
            assert!(store.add_chit(&chit(1, n, i64::from(n % 3) * 100)).await.unwrap());
        }
        assert!(!store.add_chit(&chit(1, 1, 100)).await.unwrap(), "kept once");
        let mut seen = Vec::new();
        let mut before = None;
        loop {
            let page = store.chits(&[1; 16], before, 3).await.unwrap();
            let Some(last) = page.last() else { break };
            before = Some((last.date_ms, last.action, last.id));
            seen.extend(page.iter().map(|c| (c.date_ms, c.id[0])));
        }
        let mut expected: Vec<_> = (1..=7u8).map(|n| (i64::from(n % 3) * 100, n)).collect();
        expected.sort_by(|a, b| b.cmp(a));
        assert_eq!(seen, expected);
    }

    #[tokio::test]
    async fn chits_of_one_millisecond_come_in_key_chain_order() {
        let (_dir, store) = store().await;
        store.save_tally(&tally(1)).await.unwrap();
        // Ids that sort against the order the chits were made in.
        for (id, action) in [(9u8, 0i64), (5, 1), (1, 2)] {
            let mut row = chit(1, id, 500);
            row.action = action;
            store.add_chit(&row).await.unwrap();
        }
        let page = store.chits(&[1; 16], None, 10).await.unwrap();
        let actions: Vec<i64> = page.iter().map(|c| c.action).collect();
        assert_eq!(actions, [2, 1, 0], "newest first");
        let rest = store.chits(&[1; 16], Some((500, 1, [5; 32])), 10).await.unwrap();
        assert_eq!(rest.iter().map(|c| c.action).collect::<Vec<_>>(), [0]);
    }

    #[tokio::test]
    async fn a_refused_chit_keeps_its_reason_until_certified() {
        let (_dir, store) = store().await;
        store.save_tally(&tally(1)).await.unwrap();
        store.add_chit(&chit(1, 1, 5)).await.unwrap();
        store.refuse_chit(&[1; 16], &[1; 32], "over the limit").await.unwrap();
        let kept = store.chit(&[1; 16], &[1; 32]).await.unwrap().unwrap();
        assert_eq!(kept.refused.as_deref(), Some("over the limit"));
        assert!(kept.certified.is_none());
    }
}
