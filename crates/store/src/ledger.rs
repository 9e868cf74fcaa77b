//! The ledger machine's durable records, per tally: the journal the machine
//! is rebuilt from after a restart, and the certified blocks a node serves
//! to nodes that are behind.
//!
//! The ledger machine asks for records to be kept before it sends anything
//! (a vote before the vote leaves, a certified block before the next
//! height). The node maps each to a [`LedgerRecord`] and writes all records
//! of one machine step with one [`Store::ledger_append`]: one transaction,
//! on disk when the call returns (WAL with `synchronous=FULL`, so the
//! commit has been synced). After a restart [`Store::ledger_records`] hands
//! them back in the order written, for the machine's restore.
//!
//! The store knows nothing of what the bytes mean; it keeps two promises of
//! its own: one certified block per height (a different one is refused as a
//! fork), and whole steps or nothing of a step after a crash.
//!
//! ```no_run
//! # async fn example() -> Result<(), tallymesh_store::StoreError> {
//! use tallymesh_store::{LedgerRecord, Store};
//! let store = Store::open("/tmp/node/tallymesh.sqlite".as_ref()).await?;
//! let tally = [7; 16];
//! store.ledger_serve(&tally, b"the signed tally", 1_700_000_000_000).await?;
//! let prevote = LedgerRecord::Vote { height: 1, round: 0, step: 0, vote: b"signed prevote".to_vec() };
//! store.ledger_append(&tally, &[prevote.clone()]).await?;
//! // The vote is on disk: now it may be sent.
//! assert_eq!(store.ledger_records(&tally).await?, vec![prevote]);
//! # Ok(()) }
//! ```

use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt::Write as _;

use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqliteConnection};

use crate::{Store, StoreError};

/// One record the ledger machine asked to keep, in the ledger's words with
/// plain numbers and bytes. Mirrors the machine's durable records one to
/// one; the node converts between the two.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LedgerRecord {
    /// A vote this node signed, kept before it is sent so that a restarted
    /// node sends the same vote again rather than a different one.
    Vote {
        /// Height voted on.
        height: u64,
        /// Round.
        round: u64,
        /// Step, as the node numbers it (the ledger uses 0 for prevote and 1
        /// for precommit); kept as given.
        step: u8,
        /// The signed vote bytes.
        vote: Vec<u8>,
    },
    /// A proposal this node made as the round's proposer.
    Proposal {
        /// Height.
        height: u64,
        /// Round.
        round: u64,
        /// The proposal message, as sent.
        message: Vec<u8>,
    },
    /// This node locked on a block, with the prevotes that justified it.
    Lock {
        /// Height.
        height: u64,
        /// Round in which the node locked.
        round: u64,
        /// The encoded block locked on.
        block: Vec<u8>,
        /// The signed prevotes for the block in that round.
        proof: Vec<Vec<u8>>,
    },
    /// A certified block. Also kept in the block table, one per height.
    Block {
        /// Its height, 1 or more (block 0 is the genesis).
        height: u64,
        /// The encoded block.
        block: Vec<u8>,
        /// Its certificate's bytes.
        certificate: Vec<u8>,
    },
    /// An entry submitted on this node, pending until certified.
    Pending {
        /// The entry's id (SHA-256 of its bytes).
        id: [u8; 32],
        /// The entry, as its author signed it.
        entry: Vec<u8>,
    },
    /// Entries that are no longer pending.
    Settled {
        /// Their ids.
        ids: Vec<[u8; 32]>,
    },
}

/// A tally whose ledger this node serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerTally {
    /// The tally id.
    pub tally: [u8; 16],
    /// Block 0: the tally both parties signed, as signed.
    pub genesis: Vec<u8>,
    /// When this node began serving it (ms).
    pub created_at_ms: i64,
}

/// A certified block as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerBlock {
    /// Its height.
    pub height: u64,
    /// The encoded block.
    pub block: Vec<u8>,
    /// The certificate first stored with it.
    pub certificate: Vec<u8>,
}

/// What [`Store::ledger_append`] wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LedgerAppended {
    /// Journal records written.
    pub written: usize,
    /// Blocks that were already stored, byte for byte, at their height: not
    /// written again (their first certificate is kept).
    pub blocks_already_kept: usize,
    /// The tally's last journal sequence number after the append.
    pub last_seq: u64,
}

/// A journal row ready to insert.
struct JournalRow<'a> {
    kind: &'static str,
    height: Option<i64>,
    round: Option<i64>,
    step: Option<i64>,
    entry_id: Option<&'a [u8]>,
    body: Option<Cow<'a, [u8]>>,
    proof: Option<Vec<u8>>,
    /// For a block: its height, bytes and certificate, for `ledger_blocks`.
    certified: Option<(u64, &'a [u8], &'a [u8])>,
}

impl JournalRow<'_> {
    fn of_kind(kind: &'static str) -> Self {
        JournalRow {
            kind,
            height: None,
            round: None,
            step: None,
            entry_id: None,
            body: None,
            proof: None,
            certified: None,
        }
    }
}

impl Store {
    /// Starts serving the ledger of `tally`, whose block 0 is `genesis`.
    /// Returns whether the tally is new; serving a tally again with the same
    /// genesis changes nothing, with another genesis is refused.
    pub async fn ledger_serve(&self, tally: &[u8; 16], genesis: &[u8], now_ms: i64) -> Result<bool, StoreError> {
        let query = |e| StoreError::query(&self.path, e);
        let done = sqlx::query(
            "INSERT INTO ledger_tallies (tally, genesis, created_at_ms) VALUES (?1, ?2, ?3) \
             ON CONFLICT (tally) DO NOTHING",
        )
        .bind(tally.as_slice())
        .bind(genesis)
        .bind(now_ms)
        .execute(&self.pool)
        .await
        .map_err(query)?;
        if done.rows_affected() == 1 {
            tracing::debug!(tally = %hex(tally), "ledger served");
            return Ok(true);
        }
        // A served tally's genesis never changes, so this read needs no
        // transaction with the insert above.
        let kept: Vec<u8> = sqlx::query_scalar("SELECT genesis FROM ledger_tallies WHERE tally = ?")
            .bind(tally.as_slice())
            .fetch_one(&self.pool)
            .await
            .map_err(query)?;
        if kept == genesis {
            Ok(false)
        } else {
            Err(StoreError::LedgerGenesisMismatch {
                path: self.path.clone(),
                tally: hex(tally),
            })
        }
    }

    /// Every tally whose ledger this node serves, oldest first.
    pub async fn ledger_tallies(&self) -> Result<Vec<LedgerTally>, StoreError> {
        let rows =
            sqlx::query("SELECT tally, genesis, created_at_ms FROM ledger_tallies ORDER BY created_at_ms, tally")
                .fetch_all(&self.pool)
                .await
                .map_err(|e| StoreError::query(&self.path, e))?;
        rows.iter()
            .map(|row| {
                let read = |e: sqlx::Error| StoreError::query(&self.path, e);
                let tally: Vec<u8> = row.try_get("tally").map_err(read)?;
                Ok(LedgerTally {
                    tally: tally.as_slice().try_into().map_err(|_| StoreError::Query {
                        path: self.path.clone(),
                        reason: format!("a tally id of {} bytes", tally.len()),
                    })?,
                    genesis: row.try_get("genesis").map_err(read)?,
                    created_at_ms: row.try_get("created_at_ms").map_err(read)?,
                })
            })
            .collect()
    }

    /// Appends the records of one machine step to the tally's journal, in
    /// order, in one transaction: when this returns `Ok` they are on disk;
    /// when it returns an error none of them was stored.
    ///
    /// Each block is also stored in the block table. A block identical to
    /// the one stored at its height is a no-op (no journal record either);
    /// a different one is refused as [`StoreError::LedgerFork`], and one
    /// that skips a height as [`StoreError::LedgerGap`]. Heights and rounds
    /// above 2^63 − 1 are refused as [`StoreError::LedgerOutOfRange`].
    pub async fn ledger_append(
        &self,
        tally: &[u8; 16],
        records: &[LedgerRecord],
    ) -> Result<LedgerAppended, StoreError> {
        // Refuse what cannot be stored before touching the database.
        let rows = records
            .iter()
            .map(|record| self.journal_row(tally, record))
            .collect::<Result<Vec<_>, _>>()?;
        let mut tx = self.write().await?;
        match self.append_rows(&mut tx, tally, &rows).await {
            Ok(appended) => {
                tx.commit().await.map_err(|e| StoreError::query(&self.path, e))?;
                tracing::trace!(tally = %hex(tally), written = appended.written, last_seq = appended.last_seq, "ledger append");
                Ok(appended)
            }
            Err(e) => {
                // Rolled back now rather than when the connection is next used.
                if let Err(rollback) = tx.rollback().await {
                    tracing::warn!(tally = %hex(tally), error = %rollback, "ledger append rollback failed");
                }
                Err(e)
            }
        }
    }

    /// The tally's journal, in the order written: what the ledger machine is
    /// restored from. Blocks come with their bytes and certificate.
    pub async fn ledger_records(&self, tally: &[u8; 16]) -> Result<Vec<LedgerRecord>, StoreError> {
        self.require_served(tally).await?;
        let rows = sqlx::query(
            "SELECT j.seq, j.kind, j.height, j.round, j.step, j.entry_id, j.body, j.proof, b.block, b.certificate \
             FROM ledger_journal AS j \
             LEFT JOIN ledger_blocks AS b ON j.kind = 'block' AND b.tally = j.tally AND b.height = j.height \
             WHERE j.tally = ?1 ORDER BY j.seq",
        )
        .bind(tally.as_slice())
        .fetch_all(&self.pool)
        .await
        .map_err(|e| StoreError::query(&self.path, e))?;
        rows.iter().map(|row| self.journal_record(tally, row)).collect()
    }

    /// Up to `limit` certified blocks from `from_height` on, in height
    /// order: what a node that is behind asks for.
    pub async fn ledger_blocks(
        &self,
        tally: &[u8; 16],
        from_height: u64,
        limit: u32,
    ) -> Result<Vec<LedgerBlock>, StoreError> {
        let from = self.stored_int(tally, "height", from_height)?;
        self.require_served(tally).await?;
        let rows = sqlx::query(
            "SELECT height, block, certificate FROM ledger_blocks \
             WHERE tally = ?1 AND height >= ?2 ORDER BY height LIMIT ?3",
        )
        .bind(tally.as_slice())
        .bind(from)
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .map_err(|e| StoreError::query(&self.path, e))?;
        rows.iter().map(|row| self.block_row(tally, row)).collect()
    }

    /// The certified block at `height`, if stored.
    pub async fn ledger_block(&self, tally: &[u8; 16], height: u64) -> Result<Option<LedgerBlock>, StoreError> {
        let at = self.stored_int(tally, "height", height)?;
        self.require_served(tally).await?;
        let row = sqlx::query("SELECT height, block, certificate FROM ledger_blocks WHERE tally = ?1 AND height = ?2")
            .bind(tally.as_slice())
            .bind(at)
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| StoreError::query(&self.path, e))?;
        row.map(|row| self.block_row(tally, &row)).transpose()
    }

    /// The height of the last certified block stored; 0 when there is only
    /// the genesis.
    pub async fn ledger_height(&self, tally: &[u8; 16]) -> Result<u64, StoreError> {
        self.require_served(tally).await?;
        let tip: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(height), 0) FROM ledger_blocks WHERE tally = ?")
            .bind(tally.as_slice())
            .fetch_one(&self.pool)
            .await
            .map_err(|e| StoreError::query(&self.path, e))?;
        Ok(non_negative(tip))
    }

    /// Deletes journal records the machine no longer needs, in one
    /// transaction, and returns how many:
    ///
    /// - votes, proposals and locks of heights below `below_height`, but
    ///   never of a height without a stored certified block: `below_height`
    ///   is lowered to one above the last certified block, so the records of
    ///   the height being decided always stay;
    /// - pending entries named by a later settled record, then settled
    ///   records that no longer name any remaining pending entry.
    ///
    /// Blocks are never deleted. What is left restores the machine to the
    /// same state as before.
    pub async fn ledger_prune(&self, tally: &[u8; 16], below_height: u64) -> Result<u64, StoreError> {
        let below = self.stored_int(tally, "height", below_height)?;
        let mut tx = self.write().await?;
        match self.prune_rows(&mut tx, tally, below).await {
            Ok(removed) => {
                tx.commit().await.map_err(|e| StoreError::query(&self.path, e))?;
                tracing::debug!(tally = %hex(tally), removed, "ledger pruned");
                Ok(removed)
            }
            Err(e) => {
                if let Err(rollback) = tx.rollback().await {
                    tracing::warn!(tally = %hex(tally), error = %rollback, "ledger prune rollback failed");
                }
                Err(e)
            }
        }
    }

    async fn append_rows(
        &self,
        conn: &mut SqliteConnection,
        tally: &[u8; 16],
        rows: &[JournalRow<'_>],
    ) -> Result<LedgerAppended, StoreError> {
        let query = |e| StoreError::query(&self.path, e);
        let last_seq: Option<i64> = sqlx::query_scalar("SELECT last_seq FROM ledger_tallies WHERE tally = ?")
            .bind(tally.as_slice())
            .fetch_optional(&mut *conn)
            .await
            .map_err(query)?;
        let Some(mut seq) = last_seq else {
            return Err(self.not_served(tally));
        };
        let mut tip = self.tip(conn, tally).await?;
        let (mut written, mut blocks_already_kept) = (0, 0);
        for row in rows {
            if let Some((height, block, certificate)) = row.certified {
                if height > tip.saturating_add(1) {
                    return Err(StoreError::LedgerGap {
                        path: self.path.clone(),
                        tally: hex(tally),
                        height,
                        tip,
                    });
                }
                let inserted = sqlx::query(
                    "INSERT INTO ledger_blocks (tally, height, block, certificate) VALUES (?1, ?2, ?3, ?4) \
                     ON CONFLICT (tally, height) DO NOTHING",
                )
                .bind(tally.as_slice())
                .bind(row.height)
                .bind(block)
                .bind(certificate)
                .execute(&mut *conn)
                .await
                .map_err(query)?;
                if inserted.rows_affected() == 0 {
                    let stored: Vec<u8> =
                        sqlx::query_scalar("SELECT block FROM ledger_blocks WHERE tally = ?1 AND height = ?2")
                            .bind(tally.as_slice())
                            .bind(row.height)
                            .fetch_one(&mut *conn)
                            .await
                            .map_err(query)?;
                    if stored != block {
                        return Err(StoreError::LedgerFork {
                            path: self.path.clone(),
                            tally: hex(tally),
                            height,
                        });
                    }
                    blocks_already_kept += 1;
                    continue;
                }
                tip = tip.max(height);
            }
            seq += 1;
            sqlx::query(
                "INSERT INTO ledger_journal (tally, seq, kind, height, round, step, entry_id, body, proof) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )
            .bind(tally.as_slice())
            .bind(seq)
            .bind(row.kind)
            .bind(row.height)
            .bind(row.round)
            .bind(row.step)
            .bind(row.entry_id)
            .bind(row.body.as_deref())
            .bind(row.proof.as_deref())
            .execute(&mut *conn)
            .await
            .map_err(query)?;
            written += 1;
        }
        if written > 0 {
            sqlx::query("UPDATE ledger_tallies SET last_seq = ?2 WHERE tally = ?1")
                .bind(tally.as_slice())
                .bind(seq)
                .execute(&mut *conn)
                .await
                .map_err(query)?;
        }
        Ok(LedgerAppended {
            written,
            blocks_already_kept,
            last_seq: non_negative(seq),
        })
    }

    async fn prune_rows(&self, conn: &mut SqliteConnection, tally: &[u8; 16], below: i64) -> Result<u64, StoreError> {
        let query = |e| StoreError::query(&self.path, e);
        let served: Option<i64> = sqlx::query_scalar("SELECT 1 FROM ledger_tallies WHERE tally = ?")
            .bind(tally.as_slice())
            .fetch_optional(&mut *conn)
            .await
            .map_err(query)?;
        if served.is_none() {
            return Err(self.not_served(tally));
        }
        let tip = self.tip(conn, tally).await?;
        // The records of the height being decided (tip + 1) must stay: a
        // forgotten vote there could become a double vote.
        let below = below.min(i64::try_from(tip).unwrap_or(i64::MAX).saturating_add(1));
        let mut removed = sqlx::query(
            "DELETE FROM ledger_journal \
             WHERE tally = ?1 AND height < ?2 AND kind IN ('vote', 'proposal', 'lock')",
        )
        .bind(tally.as_slice())
        .bind(below)
        .execute(&mut *conn)
        .await
        .map_err(query)?
        .rows_affected();

        let rows = sqlx::query(
            "SELECT seq, kind, entry_id, CASE WHEN kind = 'settled' THEN body END AS ids FROM ledger_journal \
             WHERE tally = ?1 AND kind IN ('pending', 'settled') ORDER BY seq DESC",
        )
        .bind(tally.as_slice())
        .fetch_all(&mut *conn)
        .await
        .map_err(query)?;
        // Newest first: a pending record is dropped when a settled record
        // written after it names its id.
        let mut settled_later: HashSet<[u8; 32]> = HashSet::new();
        let mut still_pending: HashSet<[u8; 32]> = HashSet::new();
        let mut settled: Vec<(i64, Vec<[u8; 32]>)> = Vec::new();
        let mut doomed: Vec<i64> = Vec::new();
        for row in &rows {
            let seq: i64 = row.try_get("seq").map_err(query)?;
            let damaged = |reason: String| self.damaged(tally, seq, reason);
            let kind: String = row.try_get("kind").map_err(|e| damaged(e.to_string()))?;
            if kind == "settled" {
                let ids: Option<Vec<u8>> = row.try_get("ids").map_err(|e| damaged(e.to_string()))?;
                let ids = decode_ids(&ids.unwrap_or_default()).map_err(damaged)?;
                settled_later.extend(ids.iter().copied());
                settled.push((seq, ids));
            } else {
                let id: Option<Vec<u8>> = row.try_get("entry_id").map_err(|e| damaged(e.to_string()))?;
                let id: [u8; 32] = id
                    .as_deref()
                    .unwrap_or_default()
                    .try_into()
                    .map_err(|_| damaged("an entry id that is not 32 bytes".to_owned()))?;
                if settled_later.contains(&id) {
                    doomed.push(seq);
                } else {
                    still_pending.insert(id);
                }
            }
        }
        // A settled record naming a pending entry that stays must stay too,
        // or that entry would be offered again after a restart.
        doomed.extend(
            settled
                .iter()
                .filter(|(_, ids)| !ids.iter().any(|id| still_pending.contains(id)))
                .map(|(seq, _)| *seq),
        );
        for seq in doomed {
            removed += sqlx::query("DELETE FROM ledger_journal WHERE tally = ?1 AND seq = ?2")
                .bind(tally.as_slice())
                .bind(seq)
                .execute(&mut *conn)
                .await
                .map_err(query)?
                .rows_affected();
        }
        Ok(removed)
    }

    /// The last certified height stored, inside a transaction.
    async fn tip(&self, conn: &mut SqliteConnection, tally: &[u8; 16]) -> Result<u64, StoreError> {
        let tip: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(height), 0) FROM ledger_blocks WHERE tally = ?")
            .bind(tally.as_slice())
            .fetch_one(&mut *conn)
            .await
            .map_err(|e| StoreError::query(&self.path, e))?;
        Ok(non_negative(tip))
    }

    async fn require_served(&self, tally: &[u8; 16]) -> Result<(), StoreError> {
        let served: Option<i64> = sqlx::query_scalar("SELECT 1 FROM ledger_tallies WHERE tally = ?")
            .bind(tally.as_slice())
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| StoreError::query(&self.path, e))?;
        match served {
            Some(_) => Ok(()),
            None => Err(self.not_served(tally)),
        }
    }

    fn journal_row<'a>(&self, tally: &[u8; 16], record: &'a LedgerRecord) -> Result<JournalRow<'a>, StoreError> {
        let int = |what, value| self.stored_int(tally, what, value).map(Some);
        Ok(match record {
            LedgerRecord::Vote {
                height,
                round,
                step,
                vote,
            } => JournalRow {
                height: int("height", *height)?,
                round: int("round", *round)?,
                step: Some(i64::from(*step)),
                body: Some(Cow::Borrowed(vote)),
                ..JournalRow::of_kind("vote")
            },
            LedgerRecord::Proposal { height, round, message } => JournalRow {
                height: int("height", *height)?,
                round: int("round", *round)?,
                body: Some(Cow::Borrowed(message)),
                ..JournalRow::of_kind("proposal")
            },
            LedgerRecord::Lock {
                height,
                round,
                block,
                proof,
            } => JournalRow {
                height: int("height", *height)?,
                round: int("round", *round)?,
                body: Some(Cow::Borrowed(block)),
                proof: Some(
                    encode_proof(proof)
                        .map_err(|length| self.out_of_range(tally, "length of a prevote in a lock", length))?,
                ),
                ..JournalRow::of_kind("lock")
            },
            LedgerRecord::Block {
                height,
                block,
                certificate,
            } => {
                if *height == 0 {
                    return Err(self.out_of_range(tally, "block height (block 0 is the genesis)", 0));
                }
                JournalRow {
                    height: int("height", *height)?,
                    certified: Some((*height, block, certificate)),
                    ..JournalRow::of_kind("block")
                }
            }
            LedgerRecord::Pending { id, entry } => JournalRow {
                entry_id: Some(id),
                body: Some(Cow::Borrowed(entry)),
                ..JournalRow::of_kind("pending")
            },
            LedgerRecord::Settled { ids } => JournalRow {
                body: Some(Cow::Owned(ids.concat())),
                ..JournalRow::of_kind("settled")
            },
        })
    }

    fn journal_record(&self, tally: &[u8; 16], row: &SqliteRow) -> Result<LedgerRecord, StoreError> {
        let seq: i64 = row.try_get("seq").map_err(|e| StoreError::query(&self.path, e))?;
        let damaged = |reason: String| self.damaged(tally, seq, reason);
        let bytes = |column: &str| -> Result<Vec<u8>, StoreError> {
            let value: Option<Vec<u8>> = row.try_get(column).map_err(|e| damaged(e.to_string()))?;
            value.ok_or_else(|| damaged(format!("its {column} is missing")))
        };
        let number = |column: &str| -> Result<u64, StoreError> {
            let value: Option<i64> = row.try_get(column).map_err(|e| damaged(e.to_string()))?;
            let value = value.ok_or_else(|| damaged(format!("its {column} is missing")))?;
            u64::try_from(value).map_err(|_| damaged(format!("its {column} is {value}")))
        };
        let kind: String = row.try_get("kind").map_err(|e| damaged(e.to_string()))?;
        Ok(match kind.as_str() {
            "vote" => {
                let step = number("step")?;
                LedgerRecord::Vote {
                    height: number("height")?,
                    round: number("round")?,
                    step: u8::try_from(step).map_err(|_| damaged(format!("its step is {step}")))?,
                    vote: bytes("body")?,
                }
            }
            "proposal" => LedgerRecord::Proposal {
                height: number("height")?,
                round: number("round")?,
                message: bytes("body")?,
            },
            "lock" => LedgerRecord::Lock {
                height: number("height")?,
                round: number("round")?,
                block: bytes("body")?,
                proof: decode_proof(&bytes("proof")?).map_err(damaged)?,
            },
            "block" => {
                let height = number("height")?;
                let block: Option<Vec<u8>> = row.try_get("block").map_err(|e| damaged(e.to_string()))?;
                let block =
                    block.ok_or_else(|| damaged(format!("the certified block {height} it names is missing")))?;
                LedgerRecord::Block {
                    height,
                    block,
                    certificate: bytes("certificate")?,
                }
            }
            "pending" => {
                let id = bytes("entry_id")?;
                LedgerRecord::Pending {
                    id: id
                        .as_slice()
                        .try_into()
                        .map_err(|_| damaged(format!("an entry id of {} bytes", id.len())))?,
                    entry: bytes("body")?,
                }
            }
            "settled" => LedgerRecord::Settled {
                ids: decode_ids(&bytes("body")?).map_err(damaged)?,
            },
            other => return Err(damaged(format!("unknown kind {other:?}"))),
        })
    }

    fn block_row(&self, tally: &[u8; 16], row: &SqliteRow) -> Result<LedgerBlock, StoreError> {
        let height: i64 = row.try_get("height").map_err(|e| StoreError::query(&self.path, e))?;
        let damaged = |reason: String| StoreError::LedgerBlockDamaged {
            path: self.path.clone(),
            tally: hex(tally),
            height,
            reason,
        };
        Ok(LedgerBlock {
            height: u64::try_from(height).map_err(|_| damaged("a negative height".to_owned()))?,
            block: row.try_get("block").map_err(|e| damaged(e.to_string()))?,
            certificate: row.try_get("certificate").map_err(|e| damaged(e.to_string()))?,
        })
    }

    /// `value` as SQLite's signed 64-bit integer, or an error naming it.
    fn stored_int(&self, tally: &[u8; 16], what: &'static str, value: u64) -> Result<i64, StoreError> {
        i64::try_from(value).map_err(|_| self.out_of_range(tally, what, value))
    }

    fn out_of_range(&self, tally: &[u8; 16], what: &'static str, value: impl TryInto<u64>) -> StoreError {
        StoreError::LedgerOutOfRange {
            path: self.path.clone(),
            tally: hex(tally),
            what,
            value: value.try_into().unwrap_or(u64::MAX),
        }
    }

    fn not_served(&self, tally: &[u8; 16]) -> StoreError {
        StoreError::LedgerNotServed {
            path: self.path.clone(),
            tally: hex(tally),
        }
    }

    fn damaged(&self, tally: &[u8; 16], seq: i64, reason: String) -> StoreError {
        StoreError::LedgerRecordDamaged {
            path: self.path.clone(),
            tally: hex(tally),
            seq,
            reason,
        }
    }
}

/// A stored count or height, which the schema keeps at 0 or more.
fn non_negative(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

/// A lock's prevotes as one byte string: each as its length (4 bytes, big
/// endian) followed by its bytes. Returns the length of an item too long
/// for 4 bytes.
fn encode_proof(items: &[Vec<u8>]) -> Result<Vec<u8>, usize> {
    let mut out = Vec::with_capacity(items.iter().map(|item| 4 + item.len()).sum());
    for item in items {
        let length = u32::try_from(item.len()).map_err(|_| item.len())?;
        out.extend_from_slice(&length.to_be_bytes());
        out.extend_from_slice(item);
    }
    Ok(out)
}

/// The inverse of [`encode_proof`]; refuses a cut or overlong encoding.
fn decode_proof(mut bytes: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    let mut items = Vec::new();
    while !bytes.is_empty() {
        let Some((length, rest)) = bytes.split_first_chunk::<4>() else {
            return Err(format!("its proof ends in {} stray bytes", bytes.len()));
        };
        let length = u32::from_be_bytes(*length);
        let Some((item, rest)) = usize::try_from(length).ok().and_then(|n| rest.split_at_checked(n)) else {
            return Err(format!(
                "prevote {} of its proof claims {length} bytes but {} remain",
                items.len(),
                rest.len()
            ));
        };
        items.push(item.to_vec());
        bytes = rest;
    }
    Ok(items)
}

/// Entry ids stored back to back, 32 bytes each.
fn decode_ids(bytes: &[u8]) -> Result<Vec<[u8; 32]>, String> {
    let (ids, rest) = bytes.as_chunks::<32>();
    if rest.is_empty() {
        Ok(ids.to_vec())
    } else {
        Err(format!("{} bytes of entry ids, not a multiple of 32", bytes.len()))
    }
}

fn hex(bytes: &[u8]) -> String {
    let mut text = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        let _ = write!(text, "{byte:02x}");
    }
    text
}

#[cfg(test)]
mod tests;
