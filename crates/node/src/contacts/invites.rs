//! The inviter's side of invites: made with a card, listed, withdrawn,
//! checked and counted when redeemed. (The handshake that redeems one over
//! the network comes with the networking work; it calls
//! [`Contacts::check_invite`] and [`Contacts::record_invite_use`].)

use serde::{Deserialize, Serialize};
use tallymesh_core::Timestamp;
use tallymesh_core::card::Invite;
use tallymesh_store::InviteRow;
use thiserror::Error;

use super::{ContactError, Contacts, InviteSpec, to_i64};
use crate::NodeError;

/// Why this node refuses one of its invites.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum InviteError {
    /// This node never made it.
    #[error("This invite is not known here.")]
    Unknown,
    /// Its time has passed.
    #[error("This invite has expired.")]
    Expired,
    /// A one-time invite that was already redeemed.
    #[error("This invite was already used.")]
    Used,
    /// The party withdrew it.
    #[error("This invite was withdrawn.")]
    Revoked,
}

/// An invite this node's party made, for the list of open invites.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct OwnInvite {
    /// The token, as 32 lowercase hex digits.
    pub token: String,
    /// Whether it may be redeemed more than once.
    pub reusable: bool,
    /// When it stops being accepted (ms since the Unix epoch).
    pub expires_at_ms: u64,
    /// How often it was redeemed.
    pub times_used: u64,
    /// When it was made (ms).
    pub created_at_ms: u64,
    /// Whether the party withdrew it.
    pub revoked: bool,
}

/// A token as 32 lowercase hex digits.
pub fn token_to_hex(token: &[u8; 16]) -> String {
    token.iter().map(|b| format!("{b:02x}")).collect()
}

/// A token from its 32 hex digits.
pub fn token_from_hex(text: &str) -> Result<[u8; 16], InviteError> {
    let text = text.trim();
    if text.len() != 32 || !text.is_ascii() {
        return Err(InviteError::Unknown);
    }
    let mut token = [0u8; 16];
    for (i, byte) in token.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).map_err(|_| InviteError::Unknown)?;
    }
    Ok(token)
}

impl From<&InviteRow> for OwnInvite {
    fn from(row: &InviteRow) -> Self {
        OwnInvite {
            token: token_to_hex(&row.token),
            reusable: row.reusable,
            expires_at_ms: u64::try_from(row.expires_at_ms).unwrap_or(0),
            times_used: u64::try_from(row.times_used).unwrap_or(0),
            created_at_ms: u64::try_from(row.created_at_ms).unwrap_or(0),
            revoked: row.revoked,
        }
    }
}

/// Whether `row` may be redeemed at `now`.
fn check(row: &InviteRow, now: Timestamp) -> Result<(), InviteError> {
    if row.revoked {
        return Err(InviteError::Revoked);
    }
    let invite = Invite {
        token: row.token,
        expires_at: Timestamp::from_millis(u64::try_from(row.expires_at_ms).unwrap_or(0)),
        reusable: row.reusable,
    };
    invite
        .check(now, u64::try_from(row.times_used).unwrap_or(u64::MAX))
        .map_err(|e| match e {
            tallymesh_core::card::InviteError::Expired => InviteError::Expired,
            tallymesh_core::card::InviteError::Used => InviteError::Used,
            tallymesh_core::card::InviteError::Unknown => InviteError::Unknown,
        })
}

impl Contacts {
    /// Makes and keeps a new invite with a random token.
    pub(super) async fn make_invite(&self, spec: InviteSpec, now: Timestamp) -> Result<Invite, ContactError> {
        let expires_in = u64::try_from(spec.expires_in.as_millis()).unwrap_or(u64::MAX);
        if expires_in < 1_000 {
            return Err(ContactError::BadInviteExpiry);
        }
        let mut token = [0u8; 16];
        getrandom::fill(&mut token).map_err(|e| NodeError::Keystore(crate::KeystoreError::Random(e.to_string())))?;
        let invite = Invite {
            token,
            expires_at: now.plus_millis(expires_in),
            reusable: spec.reusable,
        };
        let store = self.node.running_store().await?;
        store
            .save_invite(&InviteRow {
                token,
                reusable: invite.reusable,
                expires_at_ms: to_i64(invite.expires_at.as_millis()),
                times_used: 0,
                created_at_ms: to_i64(now.as_millis()),
                revoked: false,
            })
            .await?;
        tracing::info!(
            reusable = invite.reusable,
            expires_at_ms = invite.expires_at.as_millis(),
            "made an invite"
        );
        self.invites_changed();
        Ok(invite)
    }

    /// Tells the window the list of invites changed.
    fn invites_changed(&self) {
        // No subscriber is not an error.
        let _ = self.node.inner.events.send(crate::NodeEvent::InvitesChanged);
    }

    /// Every invite this node made, newest first.
    pub async fn list_invites(&self) -> Result<Vec<OwnInvite>, ContactError> {
        let store = self.node.running_store().await?;
        Ok(store.invites().await?.iter().map(OwnInvite::from).collect())
    }

    /// Withdraws an invite (given as its hex token): it is refused from now on.
    pub async fn revoke_invite(&self, token: &str) -> Result<(), ContactError> {
        let token = token_from_hex(token)?;
        let store = self.node.running_store().await?;
        if !store.revoke_invite(&token).await? {
            return Err(InviteError::Unknown.into());
        }
        tracing::info!("withdrew an invite");
        self.invites_changed();
        Ok(())
    }

    /// Whether the invite with this token may be redeemed now: refused as
    /// [`ContactError::Invite`] when unknown, expired, used or withdrawn.
    pub async fn check_invite(&self, token: &[u8; 16]) -> Result<(), ContactError> {
        let store = self.node.running_store().await?;
        let row = store.invite(token).await?.ok_or(InviteError::Unknown)?;
        Ok(check(&row, super::now())?)
    }

    /// Counts one redemption of the invite with this token, if it may be
    /// redeemed now; otherwise refuses it as [`Contacts::check_invite`]
    /// does. Two redemptions of a one-time invite never both count.
    pub async fn record_invite_use(&self, token: &[u8; 16]) -> Result<(), ContactError> {
        let now = super::now();
        let store = self.node.running_store().await?;
        if store.use_invite(token, to_i64(now.as_millis())).await? {
            self.invites_changed();
            return Ok(());
        }
        let row = store.invite(token).await?.ok_or(InviteError::Unknown)?;
        check(&row, now)?;
        // It was redeemable a moment ago and is not now: used meanwhile.
        Err(InviteError::Used.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(reusable: bool, times_used: i64, revoked: bool) -> InviteRow {
        InviteRow {
            token: [9; 16],
            reusable,
            expires_at_ms: 1_000,
            times_used,
            created_at_ms: 0,
            revoked,
        }
    }

    #[test]
    fn invites_are_refused_for_each_reason() {
        let at = Timestamp::from_millis(500);
        assert_eq!(check(&row(false, 0, false), at), Ok(()));
        assert_eq!(check(&row(false, 1, false), at), Err(InviteError::Used));
        assert_eq!(check(&row(true, 7, false), at), Ok(()));
        assert_eq!(
            check(&row(true, 0, false), Timestamp::from_millis(1_000)),
            Err(InviteError::Expired)
        );
        assert_eq!(check(&row(true, 0, true), at), Err(InviteError::Revoked));
    }

    #[test]
    fn tokens_round_trip_through_hex_and_other_text_is_unknown() {
        let token = [0xab; 16];
        let hex = token_to_hex(&token);
        assert_eq!(hex, "ab".repeat(16));
        assert_eq!(token_from_hex(&hex), Ok(token));
        assert_eq!(token_from_hex("abc"), Err(InviteError::Unknown));
        assert_eq!(token_from_hex(&"zz".repeat(16)), Err(InviteError::Unknown));
        assert_eq!(token_from_hex(&"é".repeat(16)), Err(InviteError::Unknown));
    }
}
