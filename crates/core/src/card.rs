//! Contact cards and invites: how parties introduce themselves.
//!
//! A card is signed by the party key and carries the party's display name,
//! its device certificates and the addresses its devices listen on; it may
//! carry an invite (a token, an expiry, and whether it may be used more
//! than once). Cards travel as QR codes and as `tallymesh:` links:
//!
//! ```text
//! tallymesh:card?v=1&d=<base64url, no padding, of the signed card>
//! ```
//!
//! A party's main device enrolls another device of its own with an
//! **enrollment link**: the same signed card, whose invite carries an
//! enrollment token instead of a contact invite, behind another prefix so
//! that neither kind of link is ever taken for the other:
//!
//! ```text
//! tallymesh:cadre?v=1&d=<base64url, no padding, of the signed card>
//! ```

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use thiserror::Error;

use crate::cbor::Value;
use crate::device::DeviceCertificate;
use crate::record::{Fields, Record, RecordError, Signed};
use crate::{PartyId, Timestamp};

/// The longest display name, in characters.
pub const MAX_NAME: usize = 64;
/// The most device certificates one card carries.
pub const MAX_DEVICES: usize = 16;
/// The most addresses one card carries.
pub const MAX_ADDRESSES: usize = 32;
/// The longest address, in bytes.
pub const MAX_ADDRESS_BYTES: usize = 256;

const LINK_PREFIX: &str = "tallymesh:card?v=1&d=";
const CADRE_LINK_PREFIX: &str = "tallymesh:cadre?v=1&d=";

/// A party's signed introduction of itself.
///
/// Fields (CBOR map): 0 version (1), 1 display name, 2 party key,
/// 3 device certificates (signed bytes), 4 addresses (multiaddr text),
/// 5 issued at (ms), 6 invite (optional). Unknown fields are ignored.
#[derive(Debug, Clone, PartialEq)]
pub struct ContactCard {
    /// The name the party shows.
    pub name: String,
    /// The party.
    pub party: PartyId,
    /// Certificates of the party's devices, each as signed.
    pub devices: Vec<Signed<DeviceCertificate>>,
    /// Where the party's devices may be reached.
    pub addresses: Vec<String>,
    /// When the card was signed.
    pub issued_at: Timestamp,
    /// The invite this card carries, if any.
    pub invite: Option<Invite>,
}

/// An invitation to connect, carried by a card.
///
/// Fields (CBOR map): 0 token (16 bytes), 1 expires at (ms), 2 reusable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invite {
    /// A random token the inviter remembers.
    pub token: [u8; 16],
    /// After this moment the invite is refused.
    pub expires_at: Timestamp,
    /// Whether it may be redeemed more than once (a shop counter) or only
    /// once (a person).
    pub reusable: bool,
}

/// Why an invite cannot be accepted.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum InviteError {
    /// Its time has passed.
    #[error("this invite expired; ask for a new one")]
    Expired,
    /// A one-time invite that was already redeemed.
    #[error("this invite was already used; ask for a new one")]
    Used,
    /// The inviter has no such invite (never made, or withdrawn).
    #[error("this invite is not known to its sender; ask for a new one")]
    Unknown,
}

/// Why a card or a link was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CardError {
    /// Not a Tallymesh card link.
    #[error("this is not a Tallymesh contact link")]
    NotALink,
    /// Not a Tallymesh enrollment link.
    #[error("this is not a Tallymesh enrollment link (they start with tallymesh:cadre?)")]
    NotACadreLink,
    /// The link's data is not base64url.
    #[error("the contact link is damaged (it may have been cut short when copied)")]
    BadEncoding,
    /// The card inside is invalid or its signature does not match.
    #[error("the contact card is not valid: {0}")]
    Invalid(#[from] RecordError),
}

impl Invite {
    /// Checks the invite at `now`, given how often it was already used.
    pub fn check(&self, now: Timestamp, times_used: u64) -> Result<(), InviteError> {
        if now >= self.expires_at {
            return Err(InviteError::Expired);
        }
        if !self.reusable && times_used > 0 {
            return Err(InviteError::Used);
        }
        Ok(())
    }

    fn to_value(&self) -> Value {
        Value::map([
            (0, Value::Bytes(self.token.to_vec())),
            (1, Value::Uint(self.expires_at.as_millis())),
            (2, Value::Bool(self.reusable)),
        ])
    }

    fn from_value(value: &Value) -> Result<Invite, RecordError> {
        let f = Fields::named("invite", value)?;
        Ok(Invite {
            token: f
                .bytes(0)?
                .try_into()
                .map_err(|_| RecordError::Invalid("an invite token is 16 bytes".into()))?,
            expires_at: Timestamp::from_millis(f.uint(1)?),
            reusable: f.bool(2)?,
        })
    }
}

impl Record for ContactCard {
    const KIND: &'static str = "card";

    fn to_value(&self) -> Value {
        let mut entries = vec![
            (Value::Uint(0), Value::Uint(1)),
            (Value::Uint(1), Value::Text(self.name.clone())),
            (Value::Uint(2), Value::Bytes(self.party.key().as_bytes().to_vec())),
            (
                Value::Uint(3),
                Value::Array(self.devices.iter().map(|d| Value::Bytes(d.bytes().to_vec())).collect()),
            ),
            (
                Value::Uint(4),
                Value::Array(self.addresses.iter().map(|a| Value::Text(a.clone())).collect()),
            ),
            (Value::Uint(5), Value::Uint(self.issued_at.as_millis())),
        ];
        if let Some(invite) = &self.invite {
            entries.push((Value::Uint(6), invite.to_value()));
        }
        Value::map_of(entries)
    }

    fn from_value(value: &Value) -> Result<Self, RecordError> {
        let f = Fields::named("contact card", value)?;
        f.version(&[1])?;
        let invalid = |message: String| RecordError::Invalid(message);
        let name = f.text(1)?.trim().to_owned();
        if name.is_empty() || name.chars().count() > MAX_NAME {
            return Err(invalid(format!("a display name has 1 to {MAX_NAME} characters")));
        }
        let party = PartyId::new(f.key(2)?);
        let device_values = f.array(3)?;
        if device_values.len() > MAX_DEVICES {
            return Err(invalid(format!("a card lists at most {MAX_DEVICES} devices")));
        }
        let mut devices = Vec::with_capacity(device_values.len());
        for value in device_values {
            let Value::Bytes(bytes) = value else {
                return Err(invalid("a device certificate must be signed bytes".into()));
            };
            let device = Signed::<DeviceCertificate>::from_bytes(bytes)?;
            if device.record().party != party || device.signer() != party.key() {
                return Err(invalid("a device on the card belongs to another party".into()));
            }
            devices.push(device);
        }
        let address_values = f.array(4)?;
        if address_values.len() > MAX_ADDRESSES {
            return Err(invalid(format!("a card lists at most {MAX_ADDRESSES} addresses")));
        }
        let addresses = address_values
            .iter()
            .map(|v| match v {
                Value::Text(t) if !t.is_empty() && t.len() <= MAX_ADDRESS_BYTES => Ok(t.clone()),
                _ => Err(invalid("an address is text of 1 to 256 bytes".into())),
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(ContactCard {
            name,
            party,
            devices,
            addresses,
            issued_at: Timestamp::from_millis(f.uint(5)?),
            invite: f.optional(6).map(Invite::from_value).transpose()?,
        })
    }
}

impl ContactCard {
    /// Reads and verifies a card from a `tallymesh:` link: the signature,
    /// that the party signed it itself, and every device certificate.
    pub fn from_link(link: &str) -> Result<Signed<ContactCard>, CardError> {
        let data = link.trim().strip_prefix(LINK_PREFIX).ok_or(CardError::NotALink)?;
        let bytes = URL_SAFE_NO_PAD.decode(data).map_err(|_| CardError::BadEncoding)?;
        ContactCard::from_signed_bytes(&bytes)
    }

    /// Reads and verifies a card from its signed bytes (from a QR code).
    pub fn from_signed_bytes(bytes: &[u8]) -> Result<Signed<ContactCard>, CardError> {
        let signed = Signed::<ContactCard>::from_bytes(bytes)?;
        if signed.signer() != signed.record().party.key() {
            return Err(RecordError::Invalid("the card is not signed by the party it names".into()).into());
        }
        Ok(signed)
    }

    /// The `tallymesh:` link of a signed card.
    pub fn to_link(signed: &Signed<ContactCard>) -> String {
        format!("{LINK_PREFIX}{}", URL_SAFE_NO_PAD.encode(signed.bytes()))
    }

    /// The enrollment link (`tallymesh:cadre?…`) of a signed card whose
    /// invite carries an enrollment token.
    pub fn to_cadre_link(signed: &Signed<ContactCard>) -> String {
        format!("{CADRE_LINK_PREFIX}{}", URL_SAFE_NO_PAD.encode(signed.bytes()))
    }

    /// Reads and verifies the card of an enrollment link, as
    /// [`ContactCard::from_link`] does for a contact link. A contact link
    /// is refused as [`CardError::NotACadreLink`].
    pub fn from_cadre_link(link: &str) -> Result<Signed<ContactCard>, CardError> {
        let data = link
            .trim()
            .strip_prefix(CADRE_LINK_PREFIX)
            .ok_or(CardError::NotACadreLink)?;
        let bytes = URL_SAFE_NO_PAD.decode(data).map_err(|_| CardError::BadEncoding)?;
        ContactCard::from_signed_bytes(&bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SecretKey;
    use proptest::prelude::*;

    fn card(party: &SecretKey, invite: Option<Invite>) -> Signed<ContactCard> {
        let party_id = PartyId::new(party.public());
        let device = Signed::sign(
            DeviceCertificate {
                party: party_id,
                peer_id: vec![0, 36, 8, 1, 18, 32, 7],
                name: "Laptop".into(),
                issued_at: Timestamp::from_millis(10),
                chat_identity_key: None,
                expires_at: None,
            },
            party,
        );
        Signed::sign(
            ContactCard {
                name: "Alice".into(),
                party: party_id,
                devices: vec![device],
                addresses: vec!["/ip4/127.0.0.1/tcp/4001".into()],
                issued_at: Timestamp::from_millis(20),
                invite,
            },
            party,
        )
    }

    fn invite(reusable: bool) -> Invite {
        Invite {
            token: [5; 16],
            expires_at: Timestamp::from_millis(1_000),
            reusable,
        }
    }

    #[test]
    fn a_card_survives_its_link() {
        let alice = SecretKey::from_seed(&[1; 32]);
        let signed = card(&alice, Some(invite(false)));
        let link = ContactCard::to_link(&signed);
        assert!(link.starts_with("tallymesh:card?v=1&d="));
        let received = ContactCard::from_link(&link).unwrap();
        assert_eq!(received, signed);
        assert_eq!(received.record().party, PartyId::new(alice.public()));
    }

    #[test]
    fn an_enrollment_link_and_a_contact_link_are_never_taken_for_each_other() {
        let alice = SecretKey::from_seed(&[1; 32]);
        let signed = card(&alice, Some(invite(false)));
        let cadre = ContactCard::to_cadre_link(&signed);
        assert!(cadre.starts_with("tallymesh:cadre?v=1&d="), "{cadre}");
        assert_eq!(ContactCard::from_cadre_link(&cadre), Ok(signed.clone()));
        assert_eq!(ContactCard::from_link(&cadre), Err(CardError::NotALink));
        let contact = ContactCard::to_link(&signed);
        assert_eq!(ContactCard::from_cadre_link(&contact), Err(CardError::NotACadreLink));
        assert_eq!(
            ContactCard::from_cadre_link("tallymesh:cadre?v=1&d=!!"),
            Err(CardError::BadEncoding)
        );
        let cut = &cadre[..cadre.len() - 10];
        assert!(ContactCard::from_cadre_link(cut).is_err());
    }

    #[test]
    fn a_tampered_link_is_refused_in_plain_words() {
        let alice = SecretKey::from_seed(&[1; 32]);
        let link = ContactCard::to_link(&card(&alice, None));
        // Change one character in the middle of the data.
        let mut chars: Vec<char> = link.chars().collect();
        let i = chars.len() / 2;
        chars[i] = if chars[i] == 'A' { 'B' } else { 'A' };
        let tampered: String = chars.into_iter().collect();
        let err = ContactCard::from_link(&tampered).unwrap_err();
        assert!(err.to_string().starts_with("the contact"), "{err}");

        assert_eq!(ContactCard::from_link("https://example.org"), Err(CardError::NotALink));
        assert_eq!(
            ContactCard::from_link("tallymesh:card?v=1&d=!!!"),
            Err(CardError::BadEncoding)
        );
        let cut = &link[..link.len() - 10];
        assert!(ContactCard::from_link(cut).is_err());
    }

    #[test]
    fn a_card_signed_by_another_key_is_refused() {
        let alice = SecretKey::from_seed(&[1; 32]);
        let mallory = SecretKey::from_seed(&[2; 32]);
        let honest = card(&alice, None);
        let forged = Signed::sign(honest.record().clone(), &mallory);
        let err = ContactCard::from_signed_bytes(forged.bytes()).unwrap_err();
        assert!(err.to_string().contains("not signed by the party"), "{err}");
    }

    #[test]
    fn a_card_carrying_someone_elses_device_is_refused() {
        let alice = SecretKey::from_seed(&[1; 32]);
        let bob = SecretKey::from_seed(&[2; 32]);
        let bobs_device = card(&bob, None).record().devices[0].clone();
        let mut record = card(&alice, None).record().clone();
        record.devices = vec![bobs_device];
        let signed = Signed::sign(record, &alice);
        let err = ContactCard::from_signed_bytes(signed.bytes()).unwrap_err();
        assert!(err.to_string().contains("belongs to another party"), "{err}");
    }

    #[test]
    fn one_time_invites_work_once_reusable_ones_until_expiry() {
        let now = Timestamp::from_millis(500);
        assert_eq!(invite(false).check(now, 0), Ok(()));
        assert_eq!(invite(false).check(now, 1), Err(InviteError::Used));
        assert_eq!(invite(true).check(now, 41), Ok(()));
        assert_eq!(
            invite(true).check(Timestamp::from_millis(1_000), 0),
            Err(InviteError::Expired)
        );
    }

    proptest! {
        #[test]
        fn cards_round_trip_and_any_flipped_byte_is_refused(
            seed in any::<[u8; 32]>(),
            name in "[A-Za-z ]{1,30}",
            at in any::<prop::sample::Index>(),
            bit in 0u8..8,
        ) {
            let key = SecretKey::from_seed(&seed);
            let mut record = card(&key, Some(invite(true))).record().clone();
            record.name = name.trim().to_owned();
            prop_assume!(!record.name.is_empty());
            let signed = Signed::sign(record, &key);
            prop_assert_eq!(ContactCard::from_signed_bytes(signed.bytes()), Ok(signed.clone()));
            let mut bytes = signed.bytes().to_vec();
            let i = at.index(bytes.len());
            bytes[i] ^= 1 << bit;
            prop_assert!(ContactCard::from_signed_bytes(&bytes).is_err());
        }
    }
}
