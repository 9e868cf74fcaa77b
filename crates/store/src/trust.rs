//! Trust: scores, the events behind them, attestations and evidence. The
//! node computes and verifies; this module keeps the rows.
//!
//! A subject is a party id, or the peer id of a device no known party
//! answers for. Event kinds are `valid`, `invalid`, `timeout`, `evidence`
//! and `attested`; the schema refuses anything else. The first three are
//! **routine**: [`Store::prune_trust`] removes old ones, and the history
//! ([`Store::trust_events`]) reads them apart from attestation and evidence
//! events, so those never fall off behind a stream of routine ones.

use sqlx::Row;
use sqlx::sqlite::SqliteRow;

use crate::{Store, StoreError};

/// A subject's score as last computed.
#[derive(Debug, Clone, PartialEq)]
pub struct TrustScoreRow {
    /// The party id or peer id.
    pub subject: String,
    /// The score at `at_ms`, in `[0, 1]`.
    pub score: f64,
    /// When it was last decayed or changed (ms).
    pub at_ms: i64,
    /// Whether verified evidence names the subject.
    pub convicted: bool,
}

/// The routine event kinds: what peers do all the time.
const ROUTINE: &str = "('valid', 'invalid', 'timeout')";

/// One change of a score.
#[derive(Debug, Clone, PartialEq)]
pub struct TrustEventRow {
    /// Its place among all events: 0 for a new event; the id of a stored
    /// event to replace it (the node folds valid messages into one event
    /// per hour).
    pub id: i64,
    /// Whose score changed.
    pub subject: String,
    /// When (ms).
    pub at_ms: i64,
    /// `valid`, `invalid`, `timeout`, `evidence` or `attested`.
    pub kind: String,
    /// How many messages or timeouts it stands for.
    pub count: i64,
    /// What it added before clamping.
    pub delta: f64,
    /// The score after it.
    pub score: f64,
    /// Why, in words.
    pub reason: String,
}

/// An attestation as kept.
#[derive(Debug, Clone, PartialEq)]
pub struct AttestationRow {
    /// The attester's party id.
    pub attester: String,
    /// The subject's party id.
    pub subject: String,
    /// SHA-256 of the signed record.
    pub id: [u8; 32],
    /// Its kind's code.
    pub kind: i64,
    /// Its score, in thousandths.
    pub score_milli: i64,
    /// When it was signed (ms).
    pub issued_at_ms: i64,
    /// When it stops counting (ms).
    pub expires_at_ms: i64,
    /// The signed record, as received or made.
    pub record: Vec<u8>,
    /// When this node got it (ms).
    pub received_at_ms: i64,
    /// The boost this node gave the subject for it.
    pub boost: f64,
}

/// Verified evidence as kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvidenceRow {
    /// Names the offence.
    pub offence: [u8; 32],
    /// SHA-256 of the evidence bytes.
    pub id: [u8; 32],
    /// The kind's name.
    pub kind: String,
    /// The node key that misbehaved.
    pub node: [u8; 32],
    /// The party answerable for it, if bound.
    pub party: Option<String>,
    /// What happened, in words.
    pub summary: String,
    /// The evidence bytes.
    pub evidence: Vec<u8>,
    /// The peer that passed it on; `None` when found here.
    pub reported_by: Option<String>,
    /// When this node got it (ms).
    pub received_at_ms: i64,
}

const SCORE_COLUMNS: &str = "subject, score, at_ms, convicted";
const EVENT_COLUMNS: &str = "id, subject, at_ms, kind, count, delta, score, reason";
const ATTESTATION_COLUMNS: &str =
    "attester, subject, id, kind, score_milli, issued_at_ms, expires_at_ms, record, received_at_ms, boost";
const EVIDENCE_COLUMNS: &str = "offence, id, kind, node, party, summary, evidence, reported_by, received_at_ms";

impl Store {
    /// Keeps new scores and the events that made them, in one transaction:
    /// each score replaces the subject's row; each event with id 0 is
    /// appended, and one with the id of a stored event of the same subject
    /// replaces that event.
    pub async fn save_trust(&self, scores: &[TrustScoreRow], events: &[TrustEventRow]) -> Result<(), StoreError> {
        let query = |e| StoreError::query(&self.path, e);
        let mut tx = self.write().await?;
        for score in scores {
            sqlx::query(&format!(
                "INSERT INTO trust_scores ({SCORE_COLUMNS}) VALUES (?1, ?2, ?3, ?4) \
                 ON CONFLICT (subject) DO UPDATE SET score = excluded.score, at_ms = excluded.at_ms, \
                 convicted = excluded.convicted"
            ))
            .bind(&score.subject)
            .bind(score.score)
            .bind(score.at_ms)
            .bind(score.convicted)
            .execute(&mut *tx)
            .await
            .map_err(query)?;
        }
        for event in events {
            let sql = if event.id == 0 {
                "INSERT INTO trust_events (subject, at_ms, kind, count, delta, score, reason) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
            } else {
                "UPDATE trust_events SET at_ms = ?2, kind = ?3, count = ?4, delta = ?5, score = ?6, reason = ?7 \
                 WHERE subject = ?1 AND id = ?8"
            };
            let done = sqlx::query(sql)
                .bind(&event.subject)
                .bind(event.at_ms)
                .bind(&event.kind)
                .bind(event.count)
                .bind(event.delta)
                .bind(event.score)
                .bind(&event.reason)
                .bind(event.id)
                .execute(&mut *tx)
                .await
                .map_err(query)?;
            if done.rows_affected() != 1 {
                return Err(StoreError::Query {
                    path: self.path.clone(),
                    reason: format!("no trust event {} of this subject to replace", event.id),
                });
            }
        }
        tx.commit().await.map_err(query)
    }

    /// A subject's newest event, if any.
    pub async fn latest_trust_event(&self, subject: &str) -> Result<Option<TrustEventRow>, StoreError> {
        sqlx::query(&format!(
            "SELECT {EVENT_COLUMNS} FROM trust_events WHERE subject = ? ORDER BY id DESC LIMIT 1"
        ))
        .bind(subject)
        .fetch_optional(&self.pool)
        .await
        .map_err(|e| StoreError::query(&self.path, e))?
        .map(|row| self.event_row(&row))
        .transpose()
    }

    /// Removes what the trust history no longer needs, in one transaction:
    /// routine events (`valid`, `invalid`, `timeout`) older than
    /// `before_ms`, routine events beyond the newest `keep_per_subject` of
    /// each subject, and the scores of devices no party answers for
    /// (subjects that are not `did:` party ids), not convicted, unchanged
    /// since before `before_ms` — decay has long brought those back to the
    /// start. Attestation and evidence events stay. Returns how many events
    /// and scores went.
    pub async fn prune_trust(&self, before_ms: i64, keep_per_subject: u32) -> Result<(u64, u64), StoreError> {
        let query = |e| StoreError::query(&self.path, e);
        let mut tx = self.write().await?;
        let old = sqlx::query(&format!(
            "DELETE FROM trust_events WHERE kind IN {ROUTINE} AND at_ms < ?1"
        ))
        .bind(before_ms)
        .execute(&mut *tx)
        .await
        .map_err(query)?
        .rows_affected();
        let beyond = sqlx::query(&format!(
            "DELETE FROM trust_events WHERE id IN ( \
               SELECT id FROM ( \
                 SELECT id, ROW_NUMBER() OVER (PARTITION BY subject ORDER BY id DESC) AS place \
                 FROM trust_events WHERE kind IN {ROUTINE}) \
               WHERE place > ?1)"
        ))
        .bind(keep_per_subject)
        .execute(&mut *tx)
        .await
        .map_err(query)?
        .rows_affected();
        let devices =
            sqlx::query("DELETE FROM trust_scores WHERE subject NOT LIKE 'did:%' AND convicted = 0 AND at_ms < ?1")
                .bind(before_ms)
                .execute(&mut *tx)
                .await
                .map_err(query)?
                .rows_affected();
        tx.commit().await.map_err(query)?;
        Ok((old + beyond, devices))
    }

    /// A subject's score row, if it has one.
    pub async fn trust_score(&self, subject: &str) -> Result<Option<TrustScoreRow>, StoreError> {
        sqlx::query(&format!("SELECT {SCORE_COLUMNS} FROM trust_scores WHERE subject = ?"))
            .bind(subject)
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| StoreError::query(&self.path, e))?
            .map(|row| self.score_row(&row))
            .transpose()
    }

    /// Every score row, by subject.
    pub async fn trust_scores(&self) -> Result<Vec<TrustScoreRow>, StoreError> {
        sqlx::query(&format!("SELECT {SCORE_COLUMNS} FROM trust_scores ORDER BY subject"))
            .fetch_all(&self.pool)
            .await
            .map_err(|e| StoreError::query(&self.path, e))?
            .iter()
            .map(|row| self.score_row(row))
            .collect()
    }

    /// A subject's history, newest first: its newest `limit` attestation
    /// and evidence events together with its newest `limit` routine events
    /// (read apart, so a stream of valid messages never pushes an
    /// attestation or evidence out of sight).
    pub async fn trust_events(&self, subject: &str, limit: u32) -> Result<Vec<TrustEventRow>, StoreError> {
        sqlx::query(&format!(
            "SELECT {EVENT_COLUMNS} FROM ( \
               SELECT * FROM (SELECT {EVENT_COLUMNS} FROM trust_events \
                 WHERE subject = ?1 AND kind NOT IN {ROUTINE} ORDER BY id DESC LIMIT ?2) \
               UNION ALL \
               SELECT * FROM (SELECT {EVENT_COLUMNS} FROM trust_events \
                 WHERE subject = ?1 AND kind IN {ROUTINE} ORDER BY id DESC LIMIT ?2)) \
             ORDER BY id DESC"
        ))
        .bind(subject)
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .map_err(|e| StoreError::query(&self.path, e))?
        .iter()
        .map(|row| self.event_row(row))
        .collect()
    }

    /// The score a subject's last event at or before `at_ms` left, if any
    /// (for the trend).
    pub async fn trust_score_at(&self, subject: &str, at_ms: i64) -> Result<Option<f64>, StoreError> {
        sqlx::query_scalar("SELECT score FROM trust_events WHERE subject = ?1 AND at_ms <= ?2 ORDER BY id DESC LIMIT 1")
            .bind(subject)
            .bind(at_ms)
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| StoreError::query(&self.path, e))
    }

    /// Keeps an attestation, replacing the one kept for the same attester
    /// and subject.
    pub async fn save_attestation(&self, row: &AttestationRow) -> Result<(), StoreError> {
        sqlx::query(&format!(
            "INSERT INTO trust_attestations ({ATTESTATION_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) \
             ON CONFLICT (attester, subject) DO UPDATE SET id = excluded.id, kind = excluded.kind, \
             score_milli = excluded.score_milli, issued_at_ms = excluded.issued_at_ms, \
             expires_at_ms = excluded.expires_at_ms, record = excluded.record, \
             received_at_ms = excluded.received_at_ms, boost = excluded.boost"
        ))
        .bind(&row.attester)
        .bind(&row.subject)
        .bind(row.id.as_slice())
        .bind(row.kind)
        .bind(row.score_milli)
        .bind(row.issued_at_ms)
        .bind(row.expires_at_ms)
        .bind(&row.record)
        .bind(row.received_at_ms)
        .bind(row.boost)
        .execute(&self.pool)
        .await
        .map_err(|e| StoreError::query(&self.path, e))?;
        Ok(())
    }

    /// The attestation kept for `attester` about `subject`.
    pub async fn attestation(&self, attester: &str, subject: &str) -> Result<Option<AttestationRow>, StoreError> {
        sqlx::query(&format!(
            "SELECT {ATTESTATION_COLUMNS} FROM trust_attestations WHERE attester = ? AND subject = ?"
        ))
        .bind(attester)
        .bind(subject)
        .fetch_optional(&self.pool)
        .await
        .map_err(|e| StoreError::query(&self.path, e))?
        .map(|row| self.attestation_row(&row))
        .transpose()
    }

    /// The attestations about `subject` (or, with `None`, all), newest
    /// first.
    pub async fn attestations(&self, subject: Option<&str>) -> Result<Vec<AttestationRow>, StoreError> {
        sqlx::query(&format!(
            "SELECT {ATTESTATION_COLUMNS} FROM trust_attestations WHERE ?1 IS NULL OR subject = ?1 \
             ORDER BY issued_at_ms DESC, attester"
        ))
        .bind(subject)
        .fetch_all(&self.pool)
        .await
        .map_err(|e| StoreError::query(&self.path, e))?
        .iter()
        .map(|row| self.attestation_row(row))
        .collect()
    }

    /// Keeps verified evidence; false (and nothing changes) when evidence
    /// of the same offence is kept already.
    pub async fn save_evidence(&self, row: &EvidenceRow) -> Result<bool, StoreError> {
        let done = sqlx::query(&format!(
            "INSERT INTO trust_evidence ({EVIDENCE_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) \
             ON CONFLICT (offence) DO NOTHING"
        ))
        .bind(row.offence.as_slice())
        .bind(row.id.as_slice())
        .bind(&row.kind)
        .bind(row.node.as_slice())
        .bind(&row.party)
        .bind(&row.summary)
        .bind(&row.evidence)
        .bind(&row.reported_by)
        .bind(row.received_at_ms)
        .execute(&self.pool)
        .await
        .map_err(|e| StoreError::query(&self.path, e))?;
        Ok(done.rows_affected() == 1)
    }

    /// How many pieces of evidence kept were passed on by `peer`.
    pub async fn evidence_reported_by(&self, peer: &str) -> Result<u64, StoreError> {
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM trust_evidence WHERE reported_by = ?")
            .bind(peer)
            .fetch_one(&self.pool)
            .await
            .map_err(|e| StoreError::query(&self.path, e))?;
        Ok(u64::try_from(count).unwrap_or(0))
    }

    /// Every piece of evidence kept, newest first.
    pub async fn evidence(&self) -> Result<Vec<EvidenceRow>, StoreError> {
        sqlx::query(&format!(
            "SELECT {EVIDENCE_COLUMNS} FROM trust_evidence ORDER BY received_at_ms DESC, offence"
        ))
        .fetch_all(&self.pool)
        .await
        .map_err(|e| StoreError::query(&self.path, e))?
        .iter()
        .map(|row| self.evidence_row(row))
        .collect()
    }

    /// What a partner did on our tallies: its certified payments (kept:
    /// the tally network certified them within the limits) and its
    /// certified declines of our invoices (broken).
    pub async fn trust_statistics(&self, partner: &[u8; 32]) -> Result<(u64, u64), StoreError> {
        let row = sqlx::query(
            "SELECT \
               COALESCE(SUM(c.kind = 'transaction'), 0) AS kept, \
               COALESCE(SUM(c.kind = 'decline'), 0) AS broken \
             FROM tally_chits c JOIN tallies t ON t.tally = c.tally \
             WHERE t.partner = ?1 AND c.by_side != t.side AND c.height IS NOT NULL",
        )
        .bind(partner.as_slice())
        .fetch_one(&self.pool)
        .await
        .map_err(|e| StoreError::query(&self.path, e))?;
        let count = |name: &str| -> Result<u64, StoreError> {
            let n: i64 = row.try_get(name).map_err(|e| StoreError::query(&self.path, e))?;
            Ok(u64::try_from(n).unwrap_or(0))
        };
        Ok((count("kept")?, count("broken")?))
    }

    fn score_row(&self, row: &SqliteRow) -> Result<TrustScoreRow, StoreError> {
        let get = |e| StoreError::query(&self.path, e);
        Ok(TrustScoreRow {
            subject: row.try_get("subject").map_err(get)?,
            score: row.try_get("score").map_err(get)?,
            at_ms: row.try_get("at_ms").map_err(get)?,
            convicted: row.try_get("convicted").map_err(get)?,
        })
    }

    fn event_row(&self, row: &SqliteRow) -> Result<TrustEventRow, StoreError> {
        let get = |e| StoreError::query(&self.path, e);
        Ok(TrustEventRow {
            id: row.try_get("id").map_err(get)?,
            subject: row.try_get("subject").map_err(get)?,
            at_ms: row.try_get("at_ms").map_err(get)?,
            kind: row.try_get("kind").map_err(get)?,
            count: row.try_get("count").map_err(get)?,
            delta: row.try_get("delta").map_err(get)?,
            score: row.try_get("score").map_err(get)?,
            reason: row.try_get("reason").map_err(get)?,
        })
    }

    fn attestation_row(&self, row: &SqliteRow) -> Result<AttestationRow, StoreError> {
        let get = |e| StoreError::query(&self.path, e);
        let id: Vec<u8> = row.try_get("id").map_err(get)?;
        Ok(AttestationRow {
            attester: row.try_get("attester").map_err(get)?,
            subject: row.try_get("subject").map_err(get)?,
            id: self.fixed(id, "attestation id")?,
            kind: row.try_get("kind").map_err(get)?,
            score_milli: row.try_get("score_milli").map_err(get)?,
            issued_at_ms: row.try_get("issued_at_ms").map_err(get)?,
            expires_at_ms: row.try_get("expires_at_ms").map_err(get)?,
            record: row.try_get("record").map_err(get)?,
            received_at_ms: row.try_get("received_at_ms").map_err(get)?,
            boost: row.try_get("boost").map_err(get)?,
        })
    }

    fn evidence_row(&self, row: &SqliteRow) -> Result<EvidenceRow, StoreError> {
        let get = |e| StoreError::query(&self.path, e);
        let offence: Vec<u8> = row.try_get("offence").map_err(get)?;
        let id: Vec<u8> = row.try_get("id").map_err(get)?;
        let node: Vec<u8> = row.try_get("node").map_err(get)?;
        Ok(EvidenceRow {
            offence: self.fixed(offence, "offence")?,
            id: self.fixed(id, "evidence id")?,
            kind: row.try_get("kind").map_err(get)?,
            node: self.fixed(node, "node key")?,
            party: row.try_get("party").map_err(get)?,
            summary: row.try_get("summary").map_err(get)?,
            evidence: row.try_get("evidence").map_err(get)?,
            reported_by: row.try_get("reported_by").map_err(get)?,
            received_at_ms: row.try_get("received_at_ms").map_err(get)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn store(dir: &tempfile::TempDir) -> Store {
        Store::open(&dir.path().join("tallymesh.sqlite")).await.unwrap()
    }

    fn event(subject: &str, at_ms: i64, score: f64) -> TrustEventRow {
        TrustEventRow {
            id: 0,
            subject: subject.into(),
            at_ms,
            kind: "invalid".into(),
            count: 1,
            delta: -0.1,
            score,
            reason: "a malformed ledger message".into(),
        }
    }

    #[tokio::test]
    async fn scores_and_their_events_survive_a_restart_newest_event_first() {
        let dir = tempfile::tempdir().unwrap();
        let store = store(&dir).await;
        let score = |value, at_ms| TrustScoreRow {
            subject: "did:key:z6Mkbob".into(),
            score: value,
            at_ms,
            convicted: false,
        };
        store
            .save_trust(&[score(0.4, 10)], &[event("did:key:z6Mkbob", 10, 0.4)])
            .await
            .unwrap();
        store
            .save_trust(&[score(0.3, 20)], &[event("did:key:z6Mkbob", 20, 0.3)])
            .await
            .unwrap();
        store.close().await;

        let store = self::store(&dir).await;
        assert_eq!(
            store.trust_score("did:key:z6Mkbob").await.unwrap(),
            Some(score(0.3, 20))
        );
        let events = store.trust_events("did:key:z6Mkbob", 10).await.unwrap();
        assert_eq!(events.iter().map(|e| e.score).collect::<Vec<_>>(), [0.3, 0.4]);
        assert!(events[0].id > events[1].id);
        assert_eq!(store.trust_score_at("did:key:z6Mkbob", 15).await.unwrap(), Some(0.4));
        assert_eq!(store.trust_score_at("did:key:z6Mkbob", 5).await.unwrap(), None);
        assert_eq!(store.trust_scores().await.unwrap().len(), 1);
        store.close().await;
    }

    #[tokio::test]
    async fn a_score_outside_zero_to_one_or_an_unknown_event_kind_is_refused_and_nothing_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let store = store(&dir).await;
        let bad = TrustScoreRow {
            subject: "did:key:z6Mkbob".into(),
            score: 1.5,
            at_ms: 1,
            convicted: false,
        };
        assert!(store.save_trust(&[bad], &[]).await.is_err());
        let mut odd = event("did:key:z6Mkbob", 1, 0.5);
        odd.kind = "gossip".into();
        let fine = TrustScoreRow {
            subject: "did:key:z6Mkbob".into(),
            score: 0.5,
            at_ms: 1,
            convicted: false,
        };
        assert!(store.save_trust(&[fine], &[odd]).await.is_err());
        assert_eq!(store.trust_score("did:key:z6Mkbob").await.unwrap(), None);
        assert!(store.trust_events("did:key:z6Mkbob", 10).await.unwrap().is_empty());
        store.close().await;
    }

    fn at(subject: &str, kind: &str, at_ms: i64) -> TrustEventRow {
        TrustEventRow {
            kind: kind.into(),
            ..event(subject, at_ms, 0.5)
        }
    }

    #[tokio::test]
    async fn an_event_with_a_stored_id_replaces_that_event_and_an_unknown_id_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let store = store(&dir).await;
        store.save_trust(&[], &[at("did:key:bob", "valid", 10)]).await.unwrap();
        let first = store.latest_trust_event("did:key:bob").await.unwrap().unwrap();
        let folded = TrustEventRow {
            count: 7,
            delta: 0.007,
            reason: "7 valid messages".into(),
            at_ms: 20,
            ..first.clone()
        };
        store.save_trust(&[], std::slice::from_ref(&folded)).await.unwrap();
        assert_eq!(store.trust_events("did:key:bob", 10).await.unwrap(), vec![folded]);
        // Another subject's event, or one that does not exist, is not replaced.
        let stray = TrustEventRow {
            subject: "did:key:carol".into(),
            ..first.clone()
        };
        assert!(store.save_trust(&[], &[stray]).await.is_err());
        assert!(store.latest_trust_event("did:key:carol").await.unwrap().is_none());
        store.close().await;
    }

    #[tokio::test]
    async fn attestation_and_evidence_events_stay_in_the_history_behind_any_number_of_routine_ones() {
        let dir = tempfile::tempdir().unwrap();
        let store = store(&dir).await;
        store
            .save_trust(&[], &[at("did:key:bob", "attested", 1)])
            .await
            .unwrap();
        store
            .save_trust(&[], &[at("did:key:bob", "evidence", 2)])
            .await
            .unwrap();
        let routine: Vec<TrustEventRow> = (0..300).map(|n| at("did:key:bob", "valid", 10 + n)).collect();
        store.save_trust(&[], &routine).await.unwrap();
        let history = store.trust_events("did:key:bob", 200).await.unwrap();
        assert_eq!(history.len(), 202);
        assert_eq!(history[0].at_ms, 309, "newest first");
        let kinds: Vec<&str> = history[200..].iter().map(|e| e.kind.as_str()).collect();
        assert_eq!(kinds, ["evidence", "attested"]);
        store.close().await;
    }

    #[tokio::test]
    async fn pruning_removes_old_and_surplus_routine_events_and_stale_device_scores_only() {
        let dir = tempfile::tempdir().unwrap();
        let store = store(&dir).await;
        let device = "12D3KooWstranger";
        let score = |subject: &str, at_ms, convicted| TrustScoreRow {
            subject: subject.into(),
            score: 0.5,
            at_ms,
            convicted,
        };
        store
            .save_trust(
                &[
                    score(device, 5, false),
                    score("12D3KooWcheat", 5, true),
                    score("did:key:bob", 5, false),
                    score("12D3KooWrecent", 500, false),
                ],
                &[
                    at("did:key:bob", "valid", 5),
                    at("did:key:bob", "invalid", 6),
                    at("did:key:bob", "timeout", 7),
                    at("did:key:bob", "attested", 8),
                    at("did:key:bob", "evidence", 9),
                    at(device, "invalid", 9),
                ],
            )
            .await
            .unwrap();
        let recent: Vec<TrustEventRow> = (0..5).map(|n| at("did:key:bob", "valid", 200 + n)).collect();
        store.save_trust(&[], &recent).await.unwrap();

        // Older than 100 ms goes; of the recent ones, the newest 3 stay.
        let (events, scores) = store.prune_trust(100, 3).await.unwrap();
        assert_eq!((events, scores), (6, 1));
        let left: Vec<(String, i64)> = store
            .trust_events("did:key:bob", 100)
            .await
            .unwrap()
            .into_iter()
            .map(|e| (e.kind, e.at_ms))
            .collect();
        assert_eq!(
            left,
            [
                ("valid".to_owned(), 204),
                ("valid".to_owned(), 203),
                ("valid".to_owned(), 202),
                ("evidence".to_owned(), 9),
                ("attested".to_owned(), 8),
            ]
        );
        assert!(store.trust_events(device, 10).await.unwrap().is_empty());
        let subjects: Vec<String> = store
            .trust_scores()
            .await
            .unwrap()
            .into_iter()
            .map(|r| r.subject)
            .collect();
        assert_eq!(subjects, ["12D3KooWcheat", "12D3KooWrecent", "did:key:bob"]);
        store.close().await;
    }

    #[tokio::test]
    async fn a_newer_attestation_of_the_same_attester_replaces_the_older() {
        let dir = tempfile::tempdir().unwrap();
        let store = store(&dir).await;
        let row = |milli, issued| AttestationRow {
            attester: "did:key:alice".into(),
            subject: "did:key:bob".into(),
            id: [u8::try_from(milli % 200).unwrap(); 32],
            kind: 1,
            score_milli: milli,
            issued_at_ms: issued,
            expires_at_ms: issued + 1_000,
            record: vec![1, 2, 3],
            received_at_ms: issued,
            boost: 0.05,
        };
        store.save_attestation(&row(800, 10)).await.unwrap();
        store.save_attestation(&row(600, 20)).await.unwrap();
        assert_eq!(
            store.attestation("did:key:alice", "did:key:bob").await.unwrap(),
            Some(row(600, 20))
        );
        assert_eq!(store.attestations(Some("did:key:bob")).await.unwrap().len(), 1);
        assert!(store.attestations(Some("did:key:carol")).await.unwrap().is_empty());
        assert_eq!(store.attestations(None).await.unwrap().len(), 1);
        store.close().await;
    }

    #[tokio::test]
    async fn evidence_of_one_offence_is_kept_once() {
        let dir = tempfile::tempdir().unwrap();
        let store = store(&dir).await;
        let row = |id: u8| EvidenceRow {
            offence: [7; 32],
            id: [id; 32],
            kind: "double-signed".into(),
            node: [3; 32],
            party: Some("did:key:mallory".into()),
            summary: "signed two different prevotes".into(),
            evidence: vec![id],
            reported_by: None,
            received_at_ms: 5,
        };
        assert!(store.save_evidence(&row(1)).await.unwrap());
        assert!(!store.save_evidence(&row(2)).await.unwrap());
        assert_eq!(store.evidence().await.unwrap(), vec![row(1)]);
        let passed_on = EvidenceRow {
            offence: [8; 32],
            reported_by: Some("12D3KooWcarrier".into()),
            ..row(3)
        };
        assert!(store.save_evidence(&passed_on).await.unwrap());
        assert_eq!(store.evidence_reported_by("12D3KooWcarrier").await.unwrap(), 1);
        assert_eq!(store.evidence_reported_by("12D3KooWother").await.unwrap(), 0);
        store.close().await;
    }

    #[tokio::test]
    async fn statistics_count_the_partners_certified_payments_and_declines_only() {
        use crate::{Certified, ChitRow, TallyRow};
        let dir = tempfile::tempdir().unwrap();
        let store = store(&dir).await;
        store
            .save_tally(&TallyRow {
                tally: [1; 16],
                partner: [9; 32],
                side: "stock".into(),
                stage: "open".into(),
                current: vec![0],
                balance: 0,
                created_at_ms: 1,
                updated_at_ms: 1,
            })
            .await
            .unwrap();
        let chit = |id: u8, by: &str, kind: &str| ChitRow {
            tally: [1; 16],
            id: [id; 32],
            by_side: by.into(),
            action: i64::from(id),
            kind: kind.into(),
            units: Some(5),
            memo: String::new(),
            date_ms: 1,
            chit: vec![id],
            certified: None,
            refused: None,
        };
        // The partner (foil) paid twice and declined once; one payment is
        // still pending; our own payment counts for nobody.
        for (id, by, kind, certify) in [
            (1, "foil", "transaction", true),
            (2, "foil", "transaction", true),
            (3, "foil", "decline", true),
            (4, "foil", "transaction", false),
            (5, "stock", "transaction", true),
        ] {
            store.add_chit(&chit(id, by, kind)).await.unwrap();
            if certify {
                let certified = Certified {
                    height: i64::from(id),
                    at_ms: 2,
                    balance: 0,
                };
                store.certify_chit(&[1; 16], &[id; 32], certified).await.unwrap();
            }
        }
        assert_eq!(store.trust_statistics(&[9; 32]).await.unwrap(), (2, 1));
        store.close().await;
    }

    #[tokio::test]
    async fn a_partner_with_no_tallies_has_no_statistics() {
        let dir = tempfile::tempdir().unwrap();
        let store = store(&dir).await;
        assert_eq!(store.trust_statistics(&[9; 32]).await.unwrap(), (0, 0));
        store.close().await;
    }
}
