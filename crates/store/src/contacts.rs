//! Contacts (other parties' cards, as received) and the invites this
//! node's party handed out. Verifying cards and deciding what an invite
//! allows are the node's business; this module keeps the rows.

use sqlx::Row;
use sqlx::sqlite::SqliteRow;

use crate::{Store, StoreError};

/// A known party and its card as received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactRow {
    /// The party id (`did:key:z…`).
    pub party_id: String,
    /// The display name the card carries.
    pub display_name: String,
    /// The signed card, exactly as received.
    pub card: Vec<u8>,
    /// When the party signed the card (ms).
    pub card_issued_at_ms: i64,
    /// The invite the card carried: token and expiry (ms).
    pub invite: Option<([u8; 16], i64)>,
    /// When this node first added the party (ms).
    pub added_at_ms: i64,
    /// When the row last changed (ms).
    pub updated_at_ms: i64,
}

/// What [`Store::save_contact`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContactSaved {
    /// The party was new.
    Added,
    /// The card was newer than the one kept, and replaced it.
    Updated,
    /// The card was not newer than the one kept; nothing changed.
    Kept,
}

/// An invite this node's party made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InviteRow {
    /// The random token.
    pub token: [u8; 16],
    /// Whether it may be redeemed more than once.
    pub reusable: bool,
    /// When it stops being accepted (ms).
    pub expires_at_ms: i64,
    /// How often it was redeemed.
    pub times_used: i64,
    /// When it was made (ms).
    pub created_at_ms: i64,
    /// Whether the party withdrew it.
    pub revoked: bool,
}

const CONTACT_COLUMNS: &str = "party_id, display_name, card, card_issued_at_ms, invite_token, invite_expires_at_ms, \
                               added_at_ms, updated_at_ms";
const INVITE_COLUMNS: &str = "token, reusable, expires_at_ms, times_used, created_at_ms, revoked";

impl Store {
    /// Adds a contact, or replaces its card when `contact`'s card was
    /// issued later than the kept one; an older or equally old card changes
    /// nothing. `added_at_ms` of a known party is kept. One transaction.
    pub async fn save_contact(&self, contact: &ContactRow) -> Result<ContactSaved, StoreError> {
        let query = |e| StoreError::query(&self.path, e);
        let mut tx = self.write().await?;
        let kept: Option<i64> = sqlx::query_scalar("SELECT card_issued_at_ms FROM contacts WHERE party_id = ?")
            .bind(&contact.party_id)
            .fetch_optional(&mut *tx)
            .await
            .map_err(query)?;
        let (token, expiry) = match &contact.invite {
            Some((token, expiry)) => (Some(token.as_slice()), Some(*expiry)),
            None => (None, None),
        };
        let saved = match kept {
            Some(kept) if kept >= contact.card_issued_at_ms => ContactSaved::Kept,
            Some(_) => {
                sqlx::query(
                    "UPDATE contacts SET display_name = ?2, card = ?3, card_issued_at_ms = ?4, invite_token = ?5, \
                     invite_expires_at_ms = ?6, updated_at_ms = ?7 WHERE party_id = ?1",
                )
                .bind(&contact.party_id)
                .bind(&contact.display_name)
                .bind(&contact.card)
                .bind(contact.card_issued_at_ms)
                .bind(token)
                .bind(expiry)
                .bind(contact.updated_at_ms)
                .execute(&mut *tx)
                .await
                .map_err(query)?;
                ContactSaved::Updated
            }
            None => {
                sqlx::query(&format!(
                    "INSERT INTO contacts ({CONTACT_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
                ))
                .bind(&contact.party_id)
                .bind(&contact.display_name)
                .bind(&contact.card)
                .bind(contact.card_issued_at_ms)
                .bind(token)
                .bind(expiry)
                .bind(contact.added_at_ms)
                .bind(contact.updated_at_ms)
                .execute(&mut *tx)
                .await
                .map_err(query)?;
                ContactSaved::Added
            }
        };
        tx.commit().await.map_err(query)?;
        Ok(saved)
    }

    /// The contact with this party id, if known.
    pub async fn contact(&self, party_id: &str) -> Result<Option<ContactRow>, StoreError> {
        let row = sqlx::query(&format!("SELECT {CONTACT_COLUMNS} FROM contacts WHERE party_id = ?"))
            .bind(party_id)
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| StoreError::query(&self.path, e))?;
        row.map(|row| self.contact_row(&row)).transpose()
    }

    /// Every contact, by display name.
    pub async fn contacts(&self) -> Result<Vec<ContactRow>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {CONTACT_COLUMNS} FROM contacts ORDER BY display_name COLLATE NOCASE, party_id"
        ))
        .fetch_all(&self.pool)
        .await
        .map_err(|e| StoreError::query(&self.path, e))?;
        rows.iter().map(|row| self.contact_row(row)).collect()
    }

    /// Forgets a contact. Returns whether there was one.
    pub async fn remove_contact(&self, party_id: &str) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM contacts WHERE party_id = ?")
            .bind(party_id)
            .execute(&self.pool)
            .await
            .map_err(|e| StoreError::query(&self.path, e))?;
        Ok(done.rows_affected() == 1)
    }

    /// Records a new invite.
    pub async fn save_invite(&self, invite: &InviteRow) -> Result<(), StoreError> {
        sqlx::query(&format!(
            "INSERT INTO invites ({INVITE_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
        ))
        .bind(invite.token.as_slice())
        .bind(invite.reusable)
        .bind(invite.expires_at_ms)
        .bind(invite.times_used)
        .bind(invite.created_at_ms)
        .bind(invite.revoked)
        .execute(&self.pool)
        .await
        .map_err(|e| StoreError::query(&self.path, e))?;
        Ok(())
    }

    /// The invite with this token, if this node made it.
    pub async fn invite(&self, token: &[u8; 16]) -> Result<Option<InviteRow>, StoreError> {
        let row = sqlx::query(&format!("SELECT {INVITE_COLUMNS} FROM invites WHERE token = ?"))
            .bind(token.as_slice())
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| StoreError::query(&self.path, e))?;
        row.map(|row| self.invite_row(&row)).transpose()
    }

    /// Every invite, newest first.
    pub async fn invites(&self) -> Result<Vec<InviteRow>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {INVITE_COLUMNS} FROM invites ORDER BY created_at_ms DESC, token"
        ))
        .fetch_all(&self.pool)
        .await
        .map_err(|e| StoreError::query(&self.path, e))?;
        rows.iter().map(|row| self.invite_row(row)).collect()
    }

    /// Withdraws an invite. Returns whether there was one.
    pub async fn revoke_invite(&self, token: &[u8; 16]) -> Result<bool, StoreError> {
        let done = sqlx::query("UPDATE invites SET revoked = 1 WHERE token = ?")
            .bind(token.as_slice())
            .execute(&self.pool)
            .await
            .map_err(|e| StoreError::query(&self.path, e))?;
        Ok(done.rows_affected() == 1)
    }

    /// Counts one redemption of an invite, in one statement that checks it
    /// may still be redeemed at `now_ms`: known, not withdrawn, not
    /// expired, and reusable or never used. Returns whether it counted, so
    /// two redemptions of a one-time invite can never both succeed.
    pub async fn use_invite(&self, token: &[u8; 16], now_ms: i64) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE invites SET times_used = times_used + 1 \
             WHERE token = ?1 AND revoked = 0 AND expires_at_ms > ?2 AND (reusable = 1 OR times_used = 0)",
        )
        .bind(token.as_slice())
        .bind(now_ms)
        .execute(&self.pool)
        .await
        .map_err(|e| StoreError::query(&self.path, e))?;
        Ok(done.rows_affected() == 1)
    }

    fn contact_row(&self, row: &SqliteRow) -> Result<ContactRow, StoreError> {
        let read = |e: sqlx::Error| StoreError::query(&self.path, e);
        let token: Option<Vec<u8>> = row.try_get("invite_token").map_err(read)?;
        let expiry: Option<i64> = row.try_get("invite_expires_at_ms").map_err(read)?;
        let invite = match (token, expiry) {
            (Some(token), Some(expiry)) => Some((self.token(&token)?, expiry)),
            _ => None,
        };
        Ok(ContactRow {
            party_id: row.try_get("party_id").map_err(read)?,
            display_name: row.try_get("display_name").map_err(read)?,
            card: row.try_get("card").map_err(read)?,
            card_issued_at_ms: row.try_get("card_issued_at_ms").map_err(read)?,
            invite,
            added_at_ms: row.try_get("added_at_ms").map_err(read)?,
            updated_at_ms: row.try_get("updated_at_ms").map_err(read)?,
        })
    }

    fn invite_row(&self, row: &SqliteRow) -> Result<InviteRow, StoreError> {
        let read = |e: sqlx::Error| StoreError::query(&self.path, e);
        let token: Vec<u8> = row.try_get("token").map_err(read)?;
        Ok(InviteRow {
            token: self.token(&token)?,
            reusable: row.try_get("reusable").map_err(read)?,
            expires_at_ms: row.try_get("expires_at_ms").map_err(read)?,
            times_used: row.try_get("times_used").map_err(read)?,
            created_at_ms: row.try_get("created_at_ms").map_err(read)?,
            revoked: row.try_get("revoked").map_err(read)?,
        })
    }

    fn token(&self, bytes: &[u8]) -> Result<[u8; 16], StoreError> {
        bytes.try_into().map_err(|_| StoreError::Query {
            path: self.path.clone(),
            reason: format!("an invite token of {} bytes", bytes.len()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alice(issued_at: i64, name: &str) -> ContactRow {
        ContactRow {
            party_id: "did:key:z6MkmjY8GnV5i9YTDtPETC2uUAW6ejw3nk5mXF5yci5ab7th".into(),
            display_name: name.into(),
            card: vec![0x84, issued_at as u8],
            card_issued_at_ms: issued_at,
            invite: Some(([7; 16], 99)),
            added_at_ms: issued_at,
            updated_at_ms: issued_at,
        }
    }

    #[tokio::test]
    async fn last_seen_moves_forward_only_is_kept_for_contacts_only_and_goes_with_them() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("db.sqlite")).await.unwrap();
        let party = alice(0, "").party_id;
        store.record_seen(&party, 5).await.unwrap();
        assert!(store.last_seen().await.unwrap().is_empty(), "not a contact yet");

        store.save_contact(&alice(10, "Alice")).await.unwrap();
        store.record_seen(&party, 50).await.unwrap();
        store.record_seen(&party, 40).await.unwrap();
        assert_eq!(store.last_seen().await.unwrap(), [(party.clone(), 50)]);

        store.remove_contact(&party).await.unwrap();
        assert!(store.last_seen().await.unwrap().is_empty());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn contacts_saved_at_once_from_many_tasks_are_all_kept_though_each_reads_before_it_writes() {
        let dir = tempfile::tempdir().unwrap();
        let store = std::sync::Arc::new(Store::open(&dir.path().join("db.sqlite")).await.unwrap());
        let saves: Vec<_> = (0..32i64)
            .map(|n| {
                let store = store.clone();
                tokio::spawn(async move {
                    let mut row = alice(n, "Someone");
                    row.party_id = format!("did:key:party-{n}");
                    // Each a new card and then a newer one: reads, then writes.
                    store.save_contact(&row).await?;
                    row.card_issued_at_ms += 100;
                    store.save_contact(&row).await
                })
            })
            .collect();
        for save in saves {
            assert_eq!(save.await.unwrap().unwrap(), ContactSaved::Updated);
        }
        assert_eq!(store.contacts().await.unwrap().len(), 32);
    }

    #[tokio::test]
    async fn a_newer_card_replaces_the_kept_one_and_an_older_one_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("db.sqlite")).await.unwrap();
        assert_eq!(
            store.save_contact(&alice(10, "Alice")).await.unwrap(),
            ContactSaved::Added
        );
        assert_eq!(
            store.save_contact(&alice(20, "Alice B.")).await.unwrap(),
            ContactSaved::Updated
        );
        assert_eq!(store.save_contact(&alice(15, "Old")).await.unwrap(), ContactSaved::Kept);
        let kept = store.contact(&alice(0, "").party_id).await.unwrap().unwrap();
        assert_eq!(kept.display_name, "Alice B.");
        assert_eq!(kept.card, alice(20, "").card);
        assert_eq!(kept.added_at_ms, 10, "the first add time is kept");
        assert_eq!(store.contacts().await.unwrap().len(), 1);
        assert!(store.remove_contact(&kept.party_id).await.unwrap());
        assert!(!store.remove_contact(&kept.party_id).await.unwrap());
        assert!(store.contacts().await.unwrap().is_empty());
        store.close().await;
    }

    #[tokio::test]
    async fn a_one_time_invite_counts_once_and_a_revoked_one_never() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("db.sqlite")).await.unwrap();
        let once = InviteRow {
            token: [1; 16],
            reusable: false,
            expires_at_ms: 100,
            times_used: 0,
            created_at_ms: 1,
            revoked: false,
        };
        let shop = InviteRow {
            token: [2; 16],
            reusable: true,
            ..once.clone()
        };
        store.save_invite(&once).await.unwrap();
        store.save_invite(&shop).await.unwrap();
        assert!(store.use_invite(&once.token, 50).await.unwrap());
        assert!(!store.use_invite(&once.token, 50).await.unwrap());
        assert!(store.use_invite(&shop.token, 50).await.unwrap());
        assert!(store.use_invite(&shop.token, 60).await.unwrap());
        assert!(!store.use_invite(&shop.token, 100).await.unwrap(), "expired");
        assert_eq!(store.invite(&shop.token).await.unwrap().unwrap().times_used, 2);
        assert!(store.revoke_invite(&shop.token).await.unwrap());
        assert!(!store.use_invite(&shop.token, 70).await.unwrap());
        assert!(!store.use_invite(&[3; 16], 1).await.unwrap());
        assert_eq!(store.invites().await.unwrap().len(), 2);
        store.close().await;
    }
}
