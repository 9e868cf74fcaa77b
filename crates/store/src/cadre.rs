//! The party's cadre: enrollment tokens and enrolled devices on the main
//! device, and the party's card on a member device. Deciding who may join
//! is the node's business; this module keeps the rows, and makes using a
//! token and keeping the device it enrolled one transaction.

use sqlx::Row;
use sqlx::sqlite::SqliteRow;

use crate::{Store, StoreError};

/// An enrollment token this node handed out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CadreTokenRow {
    /// The random token.
    pub token: [u8; 16],
    /// When it stops being accepted (ms).
    pub expires_at_ms: i64,
    /// When it was made (ms).
    pub created_at_ms: i64,
    /// When it enrolled a device, and that device's peer id.
    pub used: Option<(i64, String)>,
}

/// A device enrolled in the party's cadre.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CadreDeviceRow {
    /// Its libp2p peer id, as text.
    pub peer_id: String,
    /// The name its certificate gives it.
    pub name: String,
    /// The signed device certificate, exactly as signed.
    pub certificate: Vec<u8>,
    /// When it was enrolled (ms).
    pub enrolled_at_ms: i64,
    /// When it was revoked (ms), if it was.
    pub revoked_at_ms: Option<i64>,
    /// What kind of device it said it is when it joined (`desktop` or
    /// `headless`); `None` when it did not say.
    pub kind: Option<String>,
}

const DEVICE_COLUMNS: &str = "peer_id, name, certificate, enrolled_at_ms, revoked_at_ms, kind";

impl Store {
    /// Records a new enrollment token.
    pub async fn save_cadre_token(&self, token: &[u8; 16], expires_at_ms: i64, now_ms: i64) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO cadre_tokens (token, expires_at_ms, created_at_ms) VALUES (?1, ?2, ?3)")
            .bind(token.as_slice())
            .bind(expires_at_ms)
            .bind(now_ms)
            .execute(&self.pool)
            .await
            .map_err(|e| StoreError::query(&self.path, e))?;
        Ok(())
    }

    /// The enrollment token, if this node made it.
    pub async fn cadre_token(&self, token: &[u8; 16]) -> Result<Option<CadreTokenRow>, StoreError> {
        let row = sqlx::query(
            "SELECT token, expires_at_ms, created_at_ms, used_at_ms, used_by FROM cadre_tokens WHERE token = ?",
        )
        .bind(token.as_slice())
        .fetch_optional(&self.pool)
        .await
        .map_err(|e| StoreError::query(&self.path, e))?;
        let Some(row) = row else {
            return Ok(None);
        };
        let read = |e: sqlx::Error| StoreError::query(&self.path, e);
        let bytes: Vec<u8> = row.try_get("token").map_err(read)?;
        let used_at: Option<i64> = row.try_get("used_at_ms").map_err(read)?;
        let used_by: Option<String> = row.try_get("used_by").map_err(read)?;
        Ok(Some(CadreTokenRow {
            token: bytes.try_into().map_err(|_| StoreError::Query {
                path: self.path.clone(),
                reason: "an enrollment token is not 16 bytes".to_owned(),
            })?,
            expires_at_ms: row.try_get("expires_at_ms").map_err(read)?,
            created_at_ms: row.try_get("created_at_ms").map_err(read)?,
            used: used_at.zip(used_by),
        }))
    }

    /// Uses the enrollment token for `device` and keeps the device, in one
    /// transaction: only while the token is known, unused and not expired
    /// at `now_ms`. Returns `false` (and keeps nothing) otherwise, so two
    /// devices presenting one token never both join. A device enrolled
    /// again (after a revocation) replaces its row.
    pub async fn enroll_cadre_device(
        &self,
        token: &[u8; 16],
        device: &CadreDeviceRow,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let query = |e| StoreError::query(&self.path, e);
        let mut tx = self.write().await?;
        let used = sqlx::query(
            "UPDATE cadre_tokens SET used_at_ms = ?2, used_by = ?3 \
             WHERE token = ?1 AND used_at_ms IS NULL AND expires_at_ms > ?2",
        )
        .bind(token.as_slice())
        .bind(now_ms)
        .bind(&device.peer_id)
        .execute(&mut *tx)
        .await
        .map_err(query)?;
        if used.rows_affected() != 1 {
            tx.rollback().await.map_err(query)?;
            return Ok(false);
        }
        sqlx::query(&format!(
            "INSERT INTO cadre_devices ({DEVICE_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
             ON CONFLICT(peer_id) DO UPDATE SET name = excluded.name, certificate = excluded.certificate, \
             enrolled_at_ms = excluded.enrolled_at_ms, revoked_at_ms = excluded.revoked_at_ms, kind = excluded.kind"
        ))
        .bind(&device.peer_id)
        .bind(&device.name)
        .bind(&device.certificate)
        .bind(device.enrolled_at_ms)
        .bind(device.revoked_at_ms)
        .bind(&device.kind)
        .execute(&mut *tx)
        .await
        .map_err(query)?;
        tx.commit().await.map_err(query)?;
        Ok(true)
    }

    /// Every enrolled device, revoked ones included, oldest first.
    pub async fn cadre_devices(&self) -> Result<Vec<CadreDeviceRow>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {DEVICE_COLUMNS} FROM cadre_devices ORDER BY enrolled_at_ms, peer_id"
        ))
        .fetch_all(&self.pool)
        .await
        .map_err(|e| StoreError::query(&self.path, e))?;
        rows.iter().map(|row| self.device_row(row)).collect()
    }

    /// Marks an enrolled device revoked at `now_ms`. Returns whether a
    /// device that was not revoked yet has this peer id.
    pub async fn revoke_cadre_device(&self, peer_id: &str, now_ms: i64) -> Result<bool, StoreError> {
        let done =
            sqlx::query("UPDATE cadre_devices SET revoked_at_ms = ?2 WHERE peer_id = ?1 AND revoked_at_ms IS NULL")
                .bind(peer_id)
                .bind(now_ms)
                .execute(&self.pool)
                .await
                .map_err(|e| StoreError::query(&self.path, e))?;
        Ok(done.rows_affected() == 1)
    }

    /// Keeps the party's card on a member device, when it was issued later
    /// than the one kept (or none is). Returns whether it was kept.
    pub async fn save_member_card(&self, card: &[u8], issued_at_ms: i64, now_ms: i64) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "INSERT INTO member_card (slot, card, card_issued_at_ms, updated_at_ms) VALUES (1, ?1, ?2, ?3) \
             ON CONFLICT(slot) DO UPDATE SET card = excluded.card, card_issued_at_ms = excluded.card_issued_at_ms, \
             updated_at_ms = excluded.updated_at_ms WHERE excluded.card_issued_at_ms > member_card.card_issued_at_ms",
        )
        .bind(card)
        .bind(issued_at_ms)
        .bind(now_ms)
        .execute(&self.pool)
        .await
        .map_err(|e| StoreError::query(&self.path, e))?;
        Ok(done.rows_affected() == 1)
    }

    /// The party's card kept on a member device, as received.
    pub async fn member_card(&self) -> Result<Option<Vec<u8>>, StoreError> {
        sqlx::query_scalar("SELECT card FROM member_card WHERE slot = 1")
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| StoreError::query(&self.path, e))
    }

    fn device_row(&self, row: &SqliteRow) -> Result<CadreDeviceRow, StoreError> {
        let read = |e: sqlx::Error| StoreError::query(&self.path, e);
        Ok(CadreDeviceRow {
            peer_id: row.try_get("peer_id").map_err(read)?,
            name: row.try_get("name").map_err(read)?,
            certificate: row.try_get("certificate").map_err(read)?,
            enrolled_at_ms: row.try_get("enrolled_at_ms").map_err(read)?,
            revoked_at_ms: row.try_get("revoked_at_ms").map_err(read)?,
            kind: row.try_get("kind").map_err(read)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn device(peer: &str) -> CadreDeviceRow {
        CadreDeviceRow {
            peer_id: peer.into(),
            name: "Home server".into(),
            certificate: vec![0x84, 1],
            enrolled_at_ms: 50,
            revoked_at_ms: None,
            kind: None,
        }
    }

    #[tokio::test]
    async fn a_token_enrolls_one_device_once_and_never_after_it_expires() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("db.sqlite")).await.unwrap();
        store.save_cadre_token(&[1; 16], 100, 10).await.unwrap();
        store.save_cadre_token(&[2; 16], 100, 10).await.unwrap();
        assert!(store.enroll_cadre_device(&[1; 16], &device("A"), 50).await.unwrap());
        assert!(
            !store.enroll_cadre_device(&[1; 16], &device("B"), 51).await.unwrap(),
            "used"
        );
        assert!(
            !store.enroll_cadre_device(&[2; 16], &device("B"), 100).await.unwrap(),
            "expired"
        );
        assert!(
            !store.enroll_cadre_device(&[3; 16], &device("B"), 50).await.unwrap(),
            "unknown"
        );
        let devices = store.cadre_devices().await.unwrap();
        assert_eq!(devices, [device("A")]);
        let used = store.cadre_token(&[1; 16]).await.unwrap().unwrap();
        assert_eq!(used.used, Some((50, "A".to_owned())));
        assert_eq!(store.cadre_token(&[2; 16]).await.unwrap().unwrap().used, None);
        store.close().await;
    }

    #[tokio::test]
    async fn a_revoked_device_stays_listed_and_is_revoked_once() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("db.sqlite")).await.unwrap();
        store.save_cadre_token(&[1; 16], 100, 10).await.unwrap();
        store.enroll_cadre_device(&[1; 16], &device("A"), 50).await.unwrap();
        assert!(store.revoke_cadre_device("A", 60).await.unwrap());
        assert!(!store.revoke_cadre_device("A", 70).await.unwrap());
        assert!(!store.revoke_cadre_device("Z", 70).await.unwrap());
        assert_eq!(store.cadre_devices().await.unwrap()[0].revoked_at_ms, Some(60));
        store.close().await;
    }

    #[tokio::test]
    async fn a_device_keeps_the_kind_it_said_and_a_new_enrollment_replaces_it() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("db.sqlite")).await.unwrap();
        for token in [[1; 16], [2; 16], [3; 16]] {
            store.save_cadre_token(&token, 100, 10).await.unwrap();
        }
        let headless = CadreDeviceRow {
            kind: Some("headless".into()),
            ..device("A")
        };
        store.enroll_cadre_device(&[1; 16], &headless, 50).await.unwrap();
        store.enroll_cadre_device(&[2; 16], &device("B"), 50).await.unwrap();
        assert_eq!(store.cadre_devices().await.unwrap(), [headless, device("B")]);
        let desktop = CadreDeviceRow {
            kind: Some("desktop".into()),
            ..device("A")
        };
        store.enroll_cadre_device(&[3; 16], &desktop, 60).await.unwrap();
        assert_eq!(store.cadre_devices().await.unwrap()[0].kind.as_deref(), Some("desktop"));
        store.close().await;
    }

    #[tokio::test]
    async fn a_kind_the_table_does_not_know_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("db.sqlite")).await.unwrap();
        store.save_cadre_token(&[1; 16], 100, 10).await.unwrap();
        let odd = CadreDeviceRow {
            kind: Some("toaster".into()),
            ..device("A")
        };
        assert!(store.enroll_cadre_device(&[1; 16], &odd, 50).await.is_err());
        assert_eq!(store.cadre_devices().await.unwrap(), []);
        assert_eq!(
            store.cadre_token(&[1; 16]).await.unwrap().unwrap().used,
            None,
            "the token stays unused"
        );
        store.close().await;
    }

    #[tokio::test]
    async fn a_member_keeps_the_newest_party_card() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("db.sqlite")).await.unwrap();
        assert_eq!(store.member_card().await.unwrap(), None);
        assert!(store.save_member_card(&[1], 10, 1).await.unwrap());
        assert!(store.save_member_card(&[2], 20, 2).await.unwrap());
        assert!(!store.save_member_card(&[3], 15, 3).await.unwrap());
        assert_eq!(store.member_card().await.unwrap(), Some(vec![2]));
        store.close().await;
    }

    #[tokio::test]
    async fn a_member_identity_is_kept_with_the_cadre_origin() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("db.sqlite")).await.unwrap();
        let member = crate::OwnIdentity {
            party_id: "did:key:z6MkmjY8GnV5i9YTDtPETC2uUAW6ejw3nk5mXF5yci5ab7th".into(),
            display_name: "Alice".into(),
            created_at_ms: 10,
            origin: crate::IdentityOrigin::Cadre,
            added_at_ms: 10,
            device: Some(crate::OwnDeviceCertificate {
                peer_id: "12D3".into(),
                certificate: vec![1],
            }),
        };
        store.save_own_identity(&member, 10).await.unwrap();
        assert_eq!(store.own_identity().await.unwrap(), Some(member));
        store.close().await;
    }
}
