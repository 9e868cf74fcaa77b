//! The party this node acts for: its public facts and this device's
//! certificate. The secrets behind them are the keystore's business and
//! never reach this database.

use sqlx::Row;

use crate::{Store, StoreError};

/// How a node came to hold its party.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdentityOrigin {
    /// Created here, with a fresh party secret.
    Created,
    /// Restored from a recovery phrase.
    Phrase,
    /// Restored from an encrypted backup file.
    Backup,
    /// Enrolled as a member of the party's cadre by its main device: this
    /// node holds a device certificate, never the party secret.
    Cadre,
}

impl IdentityOrigin {
    /// The word stored in the `origin` column.
    pub fn as_str(self) -> &'static str {
        match self {
            IdentityOrigin::Created => "created",
            IdentityOrigin::Phrase => "phrase",
            IdentityOrigin::Backup => "backup",
            IdentityOrigin::Cadre => "cadre",
        }
    }

    fn parse(text: &str) -> Option<IdentityOrigin> {
        match text {
            "created" => Some(IdentityOrigin::Created),
            "phrase" => Some(IdentityOrigin::Phrase),
            "backup" => Some(IdentityOrigin::Backup),
            "cadre" => Some(IdentityOrigin::Cadre),
            _ => None,
        }
    }
}

/// The public facts of the party this node acts for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnIdentity {
    /// The party id (`did:key:z…`).
    pub party_id: String,
    /// The name the party shows.
    pub display_name: String,
    /// When the party was created, as far as this node knows (ms).
    pub created_at_ms: i64,
    /// How this node got the party.
    pub origin: IdentityOrigin,
    /// When this node got the party (ms).
    pub added_at_ms: i64,
    /// This device's certificate, once the party key has signed one.
    pub device: Option<OwnDeviceCertificate>,
}

/// A device certificate the party key signed for this node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnDeviceCertificate {
    /// The libp2p peer id the certificate binds, as text.
    pub peer_id: String,
    /// The signed `device` record, exactly as signed.
    pub certificate: Vec<u8>,
}

impl Store {
    /// The party this node acts for, if it has one.
    pub async fn own_identity(&self) -> Result<Option<OwnIdentity>, StoreError> {
        let row = sqlx::query(
            "SELECT party_id, display_name, created_at_ms, origin, added_at_ms, device_peer_id, device_certificate \
             FROM own_identity WHERE slot = 1",
        )
        .fetch_optional(&self.pool)
        .await
        .map_err(|e| StoreError::query(&self.path, e))?;
        let Some(row) = row else {
            return Ok(None);
        };
        let read = |e: sqlx::Error| StoreError::query(&self.path, e);
        let origin: String = row.try_get("origin").map_err(read)?;
        let origin = IdentityOrigin::parse(&origin).ok_or_else(|| StoreError::Query {
            path: self.path.clone(),
            reason: format!("unknown identity origin {origin:?}"),
        })?;
        let peer_id: Option<String> = row.try_get("device_peer_id").map_err(read)?;
        let certificate: Option<Vec<u8>> = row.try_get("device_certificate").map_err(read)?;
        Ok(Some(OwnIdentity {
            party_id: row.try_get("party_id").map_err(read)?,
            display_name: row.try_get("display_name").map_err(read)?,
            created_at_ms: row.try_get("created_at_ms").map_err(read)?,
            origin,
            added_at_ms: row.try_get("added_at_ms").map_err(read)?,
            device: peer_id
                .zip(certificate)
                .map(|(peer_id, certificate)| OwnDeviceCertificate { peer_id, certificate }),
        }))
    }

    /// Records the party this node acts for, replacing what was there, in
    /// one durable write.
    pub async fn save_own_identity(&self, identity: &OwnIdentity, now_ms: i64) -> Result<(), StoreError> {
        let (peer_id, certificate) = match &identity.device {
            Some(device) => (Some(device.peer_id.as_str()), Some(device.certificate.as_slice())),
            None => (None, None),
        };
        sqlx::query(
            "INSERT INTO own_identity \
                (slot, party_id, display_name, created_at_ms, origin, added_at_ms, device_peer_id, device_certificate, updated_at_ms) \
             VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) \
             ON CONFLICT(slot) DO UPDATE SET \
                party_id = excluded.party_id, display_name = excluded.display_name, \
                created_at_ms = excluded.created_at_ms, origin = excluded.origin, \
                added_at_ms = excluded.added_at_ms, device_peer_id = excluded.device_peer_id, \
                device_certificate = excluded.device_certificate, updated_at_ms = excluded.updated_at_ms",
        )
        .bind(&identity.party_id)
        .bind(&identity.display_name)
        .bind(identity.created_at_ms)
        .bind(identity.origin.as_str())
        .bind(identity.added_at_ms)
        .bind(peer_id)
        .bind(certificate)
        .bind(now_ms)
        .execute(&self.pool)
        .await
        .map_err(|e| StoreError::query(&self.path, e))?;
        Ok(())
    }

    /// Replaces this device's certificate. Returns `false` (and changes
    /// nothing) when the node has no party.
    pub async fn set_own_device_certificate(
        &self,
        device: &OwnDeviceCertificate,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE own_identity SET device_peer_id = ?1, device_certificate = ?2, updated_at_ms = ?3 WHERE slot = 1",
        )
        .bind(&device.peer_id)
        .bind(&device.certificate)
        .bind(now_ms)
        .execute(&self.pool)
        .await
        .map_err(|e| StoreError::query(&self.path, e))?;
        Ok(done.rows_affected() == 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alice() -> OwnIdentity {
        OwnIdentity {
            party_id: "did:key:z6MkmjY8GnV5i9YTDtPETC2uUAW6ejw3nk5mXF5yci5ab7th".into(),
            display_name: "Alice".into(),
            created_at_ms: 10,
            origin: IdentityOrigin::Created,
            added_at_ms: 10,
            device: None,
        }
    }

    #[tokio::test]
    async fn a_new_database_has_no_identity_and_no_certificate_to_replace() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("db.sqlite")).await.unwrap();
        assert_eq!(store.own_identity().await.unwrap(), None);
        let device = OwnDeviceCertificate {
            peer_id: "12D3".into(),
            certificate: vec![1, 2, 3],
        };
        assert!(!store.set_own_device_certificate(&device, 1).await.unwrap());
        assert_eq!(store.own_identity().await.unwrap(), None);
        store.close().await;
    }

    #[tokio::test]
    async fn the_identity_and_its_certificate_survive_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db.sqlite");
        let store = Store::open(&path).await.unwrap();
        store.save_own_identity(&alice(), 10).await.unwrap();
        let device = OwnDeviceCertificate {
            peer_id: "12D3KooW".into(),
            certificate: vec![0x84, 1, 2],
        };
        assert!(store.set_own_device_certificate(&device, 11).await.unwrap());
        store.close().await;

        let store = Store::open(&path).await.unwrap();
        let mut expected = alice();
        expected.device = Some(device);
        assert_eq!(store.own_identity().await.unwrap(), Some(expected));
        store.close().await;
    }

    #[tokio::test]
    async fn saving_again_replaces_the_one_row() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("db.sqlite")).await.unwrap();
        store.save_own_identity(&alice(), 10).await.unwrap();
        let mut renamed = alice();
        renamed.display_name = "Alice B.".into();
        renamed.origin = IdentityOrigin::Phrase;
        store.save_own_identity(&renamed, 20).await.unwrap();
        assert_eq!(store.own_identity().await.unwrap(), Some(renamed));
        store.close().await;
    }
}
