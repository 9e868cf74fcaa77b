//! Contact cards in the DHT: which records this node stores for others.
//!
//! Every node publishes its party's signed card under
//! `/tallymesh/card/<party id>` ([`crate::presence::card_key`]), and the
//! DHT nodes closest to that key keep a copy. Without rules anyone could
//! put anything there and hide a party's card from its contacts; so a
//! node stores a record a peer puts only when:
//! - the key is a card key naming a party (other keys: not stored, the
//!   node keeps nothing else for others);
//! - the value is a card signed by the party the key names, every device
//!   certificate on it signed by that party, and it carries no invite (a
//!   token in a public record would let anyone redeem it);
//! - it is newer than the card kept under the key: issued later. An older
//!   or the same card is not stored, and not held against the sender
//!   (nodes replicate records; an old copy is no misbehaviour);
//! - no device certificate on it has expired (not stored, no strike: an
//!   old card replicated late).
//!
//! Anything else under a card key is refused and counted against the peer
//! that put it ([`tallymesh_net::Misbehaviour::BadRecord`]).

use tallymesh_core::card::ContactCard;
use tallymesh_core::device::DeviceCertificate;
use tallymesh_core::{PartyId, Timestamp};
use tallymesh_net::{RecordPolicy, RecordVerdict};

/// The prefix of the DHT key of a party's card; the party id follows.
pub(crate) const CARD_KEY_PREFIX: &str = "/tallymesh/card/";

/// The record policy of a node: cards only, the newest valid one per party.
pub(crate) fn record_policy() -> RecordPolicy {
    RecordPolicy::new(|key, offered, kept| judge(key, offered, kept, crate::contacts::now()))
}

/// The verdict on `offered` under `key` at `now`, given the value `kept`
/// under the key (see the module docs).
fn judge(key: &[u8], offered: &[u8], kept: Option<&[u8]>, now: Timestamp) -> RecordVerdict {
    let Some(party) = std::str::from_utf8(key)
        .ok()
        .and_then(|key| key.strip_prefix(CARD_KEY_PREFIX))
    else {
        return RecordVerdict::Ignore;
    };
    let Ok(party) = party.parse::<PartyId>() else {
        return RecordVerdict::Reject("the card key names no party".to_owned());
    };
    let card = match ContactCard::from_signed_bytes(offered) {
        Ok(card) => card,
        Err(error) => return RecordVerdict::Reject(format!("not a card its party signed: {error}")),
    };
    let record = card.record();
    if record.party != party {
        return RecordVerdict::Reject("a card of another party".to_owned());
    }
    if record.invite.is_some() {
        return RecordVerdict::Reject("a card carrying an invite".to_owned());
    }
    for device in &record.devices {
        if device.record().expires_at.is_some_and(|expiry| expiry <= now) {
            return RecordVerdict::Ignore;
        }
        if let Err(error) = DeviceCertificate::verify(device, Some(&party), now) {
            return RecordVerdict::Reject(format!("a device certificate that does not verify: {error}"));
        }
    }
    let kept_issued_at = kept
        .and_then(|kept| ContactCard::from_signed_bytes(kept).ok())
        .filter(|kept| kept.record().party == party)
        .map(|kept| kept.record().issued_at);
    match kept_issued_at {
        Some(kept) if kept >= record.issued_at => RecordVerdict::Ignore,
        _ => RecordVerdict::Store,
    }
}

#[cfg(test)]
mod tests {
    use tallymesh_core::SecretKey;
    use tallymesh_core::card::Invite;
    use tallymesh_core::record::Signed;

    use super::*;

    const NOW: Timestamp = Timestamp::from_millis(1_000_000);

    fn device(party: &SecretKey, expires_at: Option<Timestamp>) -> Signed<DeviceCertificate> {
        Signed::sign(
            DeviceCertificate {
                party: PartyId::new(party.public()),
                peer_id: vec![0, 36, 8, 1, 18, 32, 7],
                name: "Laptop".into(),
                issued_at: Timestamp::from_millis(10),
                chat_identity_key: None,
                expires_at,
            },
            party,
        )
    }

    fn card_with(party: &SecretKey, issued_at: u64, devices: Vec<Signed<DeviceCertificate>>) -> Vec<u8> {
        Signed::sign(
            ContactCard {
                name: "Alice".into(),
                party: PartyId::new(party.public()),
                devices,
                addresses: vec!["/ip4/127.0.0.1/tcp/4001".into()],
                issued_at: Timestamp::from_millis(issued_at),
                invite: None,
            },
            party,
        )
        .bytes()
        .to_vec()
    }

    fn card(party: &SecretKey, issued_at: u64) -> Vec<u8> {
        card_with(party, issued_at, vec![device(party, None)])
    }

    fn key_of(party: &SecretKey) -> Vec<u8> {
        crate::presence::card_key(&PartyId::new(party.public()).to_string())
    }

    fn is_rejected(verdict: &RecordVerdict) -> bool {
        matches!(verdict, RecordVerdict::Reject(_))
    }

    #[test]
    fn a_card_of_the_party_the_key_names_is_stored_when_newer() {
        let alice = SecretKey::from_seed(&[1; 32]);
        let key = key_of(&alice);
        assert_eq!(judge(&key, &card(&alice, 20), None, NOW), RecordVerdict::Store);
        assert_eq!(
            judge(&key, &card(&alice, 30), Some(&card(&alice, 20)), NOW),
            RecordVerdict::Store
        );
        // Older or the same: kept out, and nobody is blamed for replicating it.
        assert_eq!(
            judge(&key, &card(&alice, 20), Some(&card(&alice, 30)), NOW),
            RecordVerdict::Ignore
        );
        assert_eq!(
            judge(&key, &card(&alice, 30), Some(&card(&alice, 30)), NOW),
            RecordVerdict::Ignore
        );
    }

    #[test]
    fn garbage_and_other_parties_cards_under_a_card_key_are_rejected() {
        let alice = SecretKey::from_seed(&[1; 32]);
        let mallory = SecretKey::from_seed(&[2; 32]);
        let key = key_of(&alice);
        assert!(is_rejected(&judge(&key, b"not a card at all", None, NOW)));
        assert!(is_rejected(&judge(
            &key,
            &card(&mallory, 99),
            Some(&card(&alice, 20)),
            NOW
        )));
        // Alice's card with one byte changed no longer verifies.
        let mut tampered = card(&alice, 40);
        let last = tampered.len() - 1;
        tampered[last] ^= 1;
        assert!(is_rejected(&judge(&key, &tampered, None, NOW)));
        // Alice's card re-signed by mallory is not alice's.
        let forged = Signed::sign(
            ContactCard::from_signed_bytes(&card(&alice, 50))
                .unwrap()
                .record()
                .clone(),
            &mallory,
        );
        assert!(is_rejected(&judge(&key, forged.bytes(), None, NOW)));
        assert!(is_rejected(&judge(
            b"/tallymesh/card/not-a-party",
            &card(&alice, 20),
            None,
            NOW
        )));
    }

    #[test]
    fn a_card_carrying_an_invite_is_rejected() {
        let alice = SecretKey::from_seed(&[1; 32]);
        let mut record = ContactCard::from_signed_bytes(&card(&alice, 20))
            .unwrap()
            .record()
            .clone();
        record.invite = Some(Invite {
            token: [7; 16],
            expires_at: Timestamp::from_millis(u64::MAX),
            reusable: true,
        });
        let with_invite = Signed::sign(record, &alice);
        assert!(is_rejected(&judge(&key_of(&alice), with_invite.bytes(), None, NOW)));
    }

    #[test]
    fn a_card_with_an_expired_device_is_not_stored_nor_held_against_the_sender() {
        let alice = SecretKey::from_seed(&[1; 32]);
        let stale = card_with(&alice, 20, vec![device(&alice, Some(Timestamp::from_millis(500)))]);
        assert_eq!(judge(&key_of(&alice), &stale, None, NOW), RecordVerdict::Ignore);
    }

    #[test]
    fn other_keys_are_not_kept_for_others() {
        let alice = SecretKey::from_seed(&[1; 32]);
        assert_eq!(
            judge(b"/somebody/else", &card(&alice, 20), None, NOW),
            RecordVerdict::Ignore
        );
        assert_eq!(judge(&[0xff, 0xfe], b"x", None, NOW), RecordVerdict::Ignore);
    }
}
