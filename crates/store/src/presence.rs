//! When contacts were last seen online.

use sqlx::Row;

use crate::{Store, StoreError};

impl Store {
    /// Notes that `party_id` (a contact) was seen online at `at_ms`; an
    /// earlier moment than the one kept changes nothing. A party that is not
    /// a contact is not noted.
    pub async fn record_seen(&self, party_id: &str, at_ms: i64) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO contact_presence (party_id, last_seen_ms) \
             SELECT ?1, ?2 WHERE EXISTS (SELECT 1 FROM contacts WHERE party_id = ?1) \
             ON CONFLICT (party_id) DO UPDATE SET last_seen_ms = max(last_seen_ms, excluded.last_seen_ms)",
        )
        .bind(party_id)
        .bind(at_ms)
        .execute(&self.pool)
        .await
        .map_err(|e| StoreError::query(&self.path, e))?;
        Ok(())
    }

    /// When each contact was last seen online, for those ever seen.
    pub async fn last_seen(&self) -> Result<Vec<(String, i64)>, StoreError> {
        let rows = sqlx::query("SELECT party_id, last_seen_ms FROM contact_presence")
            .fetch_all(&self.pool)
            .await
            .map_err(|e| StoreError::query(&self.path, e))?;
        rows.iter()
            .map(|row| {
                Ok((
                    row.try_get("party_id").map_err(|e| StoreError::query(&self.path, e))?,
                    row.try_get("last_seen_ms")
                        .map_err(|e| StoreError::query(&self.path, e))?,
                ))
            })
            .collect()
    }
}
