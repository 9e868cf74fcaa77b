//! Contacts: this party's own card, and the parties it knows.
//!
//! **My card** is a [`ContactCard`] signed with the party key: the display
//! name, the party, this device's certificate and the addresses the node
//! listens on. It travels as a `tallymesh:` link or as a QR code of its
//! signed bytes, and may carry an invite ([`InviteSpec`], see
//! [`Contacts::list_invites`] for the inviter's side).
//!
//! **Adding a contact** verifies the card — its signature over the bytes as
//! received, that the party it names signed it, every device certificate —
//! refuses this party's own card and an expired invite, and keeps the card
//! exactly as received. A newer card of a known party replaces the kept
//! one; an older one changes nothing.
//!
//! ```no_run
//! # async fn example(alice: tallymesh_node::Node, bob: tallymesh_node::Node)
//! # -> Result<(), tallymesh_node::contacts::ContactError> {
//! use std::time::Duration;
//! use tallymesh_node::contacts::InviteSpec;
//!
//! let invite = InviteSpec { reusable: false, expires_in: Duration::from_secs(24 * 3600) };
//! let link = alice.contacts().my_card_link(Some(invite)).await?;
//! let added = bob.contacts().add_from_link(&link).await?;
//! println!("added {} ({})", added.display_name, added.party_id);
//! # Ok(()) }
//! ```

pub(crate) mod handshake;
mod invites;
mod scan;

use std::time::Duration;

use serde::{Deserialize, Serialize};
use tallymesh_core::card::{CardError, ContactCard, Invite, MAX_ADDRESS_BYTES};
use tallymesh_core::device::DeviceCertificate;
use tallymesh_core::record::{RecordError, Signed};
use tallymesh_core::{PartyId, Timestamp};
use tallymesh_store::{ContactRow, ContactSaved};
use thiserror::Error;

use crate::identity::IdentityState;
use crate::{Node, NodeError, NodeEvent};

pub use handshake::{RedeemError, RefusalKind};
pub use invites::{InviteError, OwnInvite, token_from_hex, token_to_hex};
pub use scan::{CardScan, ScanFailure, ScanUpdate};

/// The most addresses this node puts on its card: enough for every
/// interface of an ordinary machine, few enough for a QR code a phone
/// camera reads from a screen.
pub const CARD_ADDRESSES: usize = 8;

/// Of those, the most that go through the party's relays.
pub const CARD_RELAYED_ADDRESSES: usize = 4;

/// Pixels per QR module in the PNG images of cards.
const PNG_MODULE_PX: u32 = 6;

/// An invite to put on my card.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InviteSpec {
    /// Whether it may be redeemed more than once (a shop counter) or only
    /// once (a person).
    pub reusable: bool,
    /// How long from now it is accepted.
    pub expires_in: Duration,
}

/// A party this node knows, from its card.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Contact {
    /// The party id (`did:key:z6Mk…`), verified: the card is signed by it.
    pub party_id: String,
    /// The name the party shows.
    pub display_name: String,
    /// The last eight characters of the party id, shown beside the name.
    pub fingerprint: String,
    /// When this node added the party (ms since the Unix epoch).
    pub added_at_ms: u64,
    /// When the party signed the card kept (ms).
    pub card_issued_at_ms: u64,
    /// How many devices the card certifies.
    pub devices: u32,
    /// Where the party's devices said they could be reached.
    pub addresses: Vec<String>,
}

/// This party's card as shared: its link, and the invite it carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct SharedCard {
    /// The party id the card names.
    pub party_id: String,
    /// The `tallymesh:` link.
    pub link: String,
    /// The invite on the card, if any.
    pub invite: Option<CardInvite>,
}

/// The invite a shared card carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct CardInvite {
    /// The token, as 32 lowercase hex digits.
    pub token: String,
    /// Whether it may be redeemed more than once.
    pub reusable: bool,
    /// When it stops being accepted (ms since the Unix epoch).
    pub expires_at_ms: u64,
}

/// A verified card that has not been added yet: what the window shows
/// before the user confirms "Add contact".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct CardPreview {
    /// The party id the card is signed by.
    pub party_id: String,
    /// The name the party shows.
    pub display_name: String,
    /// The last eight characters of the party id.
    pub fingerprint: String,
    /// How many devices the card certifies.
    pub devices: u32,
    /// When the party signed the card (ms since the Unix epoch).
    pub issued_at_ms: u64,
    /// The invite the card carries, if any.
    pub invite: Option<CardInvite>,
    /// Whether the party is a contact already (adding again keeps the
    /// newer of the two cards).
    pub known: bool,
    /// The card as a `tallymesh:` link, to hand to [`Contacts::add_from_link`].
    pub link: String,
}

impl SharedCard {
    /// The link and invite of a signed card.
    pub fn of(card: &Signed<ContactCard>) -> SharedCard {
        SharedCard {
            party_id: card.record().party.to_string(),
            link: card_link(card),
            invite: card.record().invite.as_ref().map(|invite| CardInvite {
                token: token_to_hex(&invite.token),
                reusable: invite.reusable,
                expires_at_ms: invite.expires_at.as_millis(),
            }),
        }
    }
}

/// Why a contact operation was refused. Each message can be shown to the
/// user as it is.
#[derive(Debug, Error)]
pub enum ContactError {
    /// Not a `tallymesh:` contact link at all.
    #[error("This is not a Tallymesh contact link.")]
    NotALink,
    /// The data does not decode (cut short, or not a card).
    #[error("This contact card is damaged (it may have been cut short when copied).")]
    Damaged,
    /// The signature does not match the bytes: changed after signing.
    #[error("This link was changed after it was made, so it can't be trusted.")]
    Tampered,
    /// Signed, but not by the party it names.
    #[error("This card was not signed by the party it names, so it can't be trusted.")]
    Forged,
    /// Well signed, but breaking a rule of cards.
    #[error("This contact card is not valid: {0}.")]
    Invalid(String),
    /// The card of the party this node acts for.
    #[error("This is your own card.")]
    OwnCard,
    /// The card's invite has expired.
    #[error("The invite on this card has expired; ask for a new card.")]
    InviteExpired,
    /// No QR code could be read in an image.
    #[error("No QR code could be read in this image.")]
    NoQrCode,
    /// The file is not an image.
    #[error("This file is not an image that can be read ({0}).")]
    BadImage(String),
    /// The card does not fit in a QR code.
    #[error("This card is too large for a QR code.")]
    TooLargeForQr,
    /// No contact with this party id.
    #[error("There is no contact with the party id {0}.")]
    UnknownContact(String),
    /// Text that is not a party id.
    #[error("\"{0}\" is not a party id (they look like did:key:z6Mk…).")]
    BadPartyId(String),
    /// An invite that would expire at once.
    #[error("An invite must stay valid for at least a second.")]
    BadInviteExpiry,
    /// An invite of this node refused (inviter's side).
    #[error(transparent)]
    Invite(#[from] InviteError),
    /// The node failed or has no identity.
    #[error(transparent)]
    Node(#[from] NodeError),
}

impl From<tallymesh_store::StoreError> for ContactError {
    fn from(error: tallymesh_store::StoreError) -> Self {
        ContactError::Node(error.into())
    }
}

impl From<CardError> for ContactError {
    fn from(error: CardError) -> Self {
        match error {
            CardError::NotALink | CardError::NotACadreLink => ContactError::NotALink,
            CardError::BadEncoding => ContactError::Damaged,
            CardError::Invalid(record) => match record {
                // A bad signature, or a signer key that is no key.
                RecordError::Key(_) => ContactError::Tampered,
                RecordError::TooLarge(_)
                | RecordError::Cbor(_)
                | RecordError::Shape(_)
                | RecordError::WrongKind { .. }
                | RecordError::Field { .. } => ContactError::Damaged,
                RecordError::Invalid(reason) if reason.contains("not signed by the party") => ContactError::Forged,
                RecordError::Invalid(reason) => ContactError::Invalid(reason),
            },
        }
    }
}

/// Reads a card from a `tallymesh:` link and verifies it.
pub fn card_from_link(link: &str) -> Result<Signed<ContactCard>, ContactError> {
    Ok(ContactCard::from_link(link)?)
}

/// Reads a card from the QR code in an image file's bytes (PNG or JPEG) and
/// verifies it. The code may hold the card's signed bytes or its link.
pub fn card_from_qr_image(image: &[u8]) -> Result<Signed<ContactCard>, ContactError> {
    use tallymesh_offline::qr::{QrError, decode_image_bytes};
    let payloads = decode_image_bytes(image).map_err(|e| match e {
        QrError::BadImage(reason) => ContactError::BadImage(reason),
        QrError::NotFound | QrError::TooLong(_) => ContactError::NoQrCode,
    })?;
    let mut first_error = None;
    for payload in payloads {
        match card_from_payload(&payload) {
            Ok(card) => return Ok(card),
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    Err(first_error.unwrap_or(ContactError::NoQrCode))
}

/// Reads and verifies a card from what a QR code holds: its signed bytes,
/// or its link.
pub fn card_from_payload(payload: &[u8]) -> Result<Signed<ContactCard>, ContactError> {
    match std::str::from_utf8(payload) {
        Ok(text) if text.trim_start().starts_with("tallymesh:") => card_from_link(text),
        _ => Ok(ContactCard::from_signed_bytes(payload)?),
    }
}

/// The `tallymesh:` link of a signed card.
pub fn card_link(card: &Signed<ContactCard>) -> String {
    ContactCard::to_link(card)
}

/// An SVG QR code of a card's signed bytes, for the screen.
pub fn card_qr_svg(card: &Signed<ContactCard>) -> Result<String, ContactError> {
    tallymesh_offline::qr::render_svg(card.bytes()).map_err(|_| ContactError::TooLargeForQr)
}

/// A PNG QR code of a card's signed bytes, for a file.
pub fn card_qr_png(card: &Signed<ContactCard>) -> Result<Vec<u8>, ContactError> {
    let image =
        tallymesh_offline::qr::render_luma(card.bytes(), PNG_MODULE_PX).map_err(|_| ContactError::TooLargeForQr)?;
    let mut png = Vec::new();
    image::DynamicImage::ImageLuma8(image)
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .map_err(|e| ContactError::BadImage(e.to_string()))?;
    Ok(png)
}

/// The node's contacts and cards: `node.contacts()`.
#[derive(Debug, Clone)]
pub struct Contacts {
    node: Node,
}

impl Node {
    /// This party's card, its contacts and its invites (see
    /// [`crate::contacts`]).
    pub fn contacts(&self) -> Contacts {
        Contacts { node: self.clone() }
    }
}

impl Contacts {
    /// This party's card, signed now with the party key: display name,
    /// party, the certificates of this device and of every device enrolled
    /// in the party's cadre and not revoked (this device's first), and the
    /// node's current listen addresses (concrete ones only). With `invite`,
    /// a new invite is made and kept, and the card carries it. Refused when
    /// the node has no identity yet.
    ///
    /// On a member device (see [`crate::cadre`]) this is the party's card
    /// as the main device last signed it, kept as received; an invite needs
    /// the party secret and is refused there.
    pub async fn my_card(&self, invite: Option<InviteSpec>) -> Result<Signed<ContactCard>, ContactError> {
        let identity = self.node.identity();
        if let IdentityState::Member { display_name, .. } = identity.state().await? {
            if invite.is_some() {
                return Err(NodeError::Identity(crate::IdentityError::NotTheMainDevice { display_name }).into());
            }
            return self.member_card().await;
        }
        // Refuses, saying why, when the node has no identity or no secret.
        let party_key = identity.party_key().await?;
        let now = now();
        let invite = match invite {
            Some(spec) => Some(self.make_invite(spec, now).await?),
            None => None,
        };
        self.sign_card(&party_key, invite, now).await
    }

    /// This party's card signed with `party_key` at `now`, carrying
    /// `invite` (a contact invite, or an enrollment token).
    pub(crate) async fn sign_card(
        &self,
        party_key: &tallymesh_core::SecretKey,
        invite: Option<Invite>,
        now: Timestamp,
    ) -> Result<Signed<ContactCard>, ContactError> {
        let identity = self.node.identity();
        let certificate = identity.device_certificate().await?;
        let IdentityState::Ready { display_name, .. } = identity.state().await? else {
            return Err(NodeError::Identity(crate::IdentityError::NoIdentity).into());
        };
        let party = PartyId::new(party_key.public());
        let store = self.node.running_store().await?;
        let mut devices = vec![certificate];
        for row in store.cadre_devices().await? {
            if row.revoked_at_ms.is_some() || devices.len() >= tallymesh_core::card::MAX_DEVICES {
                continue;
            }
            // Each was signed here when the device joined; one that no
            // longer reads or has expired stays off the card.
            match Signed::<DeviceCertificate>::from_bytes(&row.certificate) {
                Ok(device) if DeviceCertificate::verify(&device, Some(&party), now).is_ok() => devices.push(device),
                _ => tracing::warn!(peer = %row.peer_id, "a cadre device's certificate is left off the card"),
            }
        }
        let mut addresses = card_addresses(&self.node.net().listen_addrs().await.map_err(NodeError::from)?);
        // Where the party's mailboxes listen (docs/protocol/chat.md), so a
        // contact can leave mail there while this device is away.
        for (_, mailbox) in store.chat_mailboxes().await? {
            for address in mailbox {
                if addresses.len() < 2 * CARD_ADDRESSES
                    && is_concrete(&address)
                    && address.len() <= MAX_ADDRESS_BYTES
                    && !addresses.contains(&address)
                {
                    addresses.push(address);
                }
            }
        }
        let card = ContactCard {
            name: display_name,
            party,
            devices,
            addresses,
            issued_at: now,
            invite,
        };
        Ok(Signed::sign(card, party_key))
    }

    /// The party's card kept on a member device.
    async fn member_card(&self) -> Result<Signed<ContactCard>, ContactError> {
        let store = self.node.running_store().await?;
        let damaged = |reason: String| NodeError::Identity(crate::IdentityError::Damaged(reason));
        let bytes = store
            .member_card()
            .await?
            .ok_or_else(|| damaged("the party's card is missing on this member device".to_owned()))?;
        ContactCard::from_signed_bytes(&bytes).map_err(|e| {
            damaged(format!(
                "the party's card kept on this member device does not read: {e}"
            ))
            .into()
        })
    }

    /// The `tallymesh:` link of [`Contacts::my_card`].
    pub async fn my_card_link(&self, invite: Option<InviteSpec>) -> Result<String, ContactError> {
        Ok(card_link(&self.my_card(invite).await?))
    }

    /// An SVG QR code of [`Contacts::my_card`]'s signed bytes.
    pub async fn my_card_qr_svg(&self, invite: Option<InviteSpec>) -> Result<String, ContactError> {
        card_qr_svg(&self.my_card(invite).await?)
    }

    /// Adds the party of a `tallymesh:` card link (see the module docs).
    pub async fn add_from_link(&self, link: &str) -> Result<Contact, ContactError> {
        self.add(card_from_link(link)?).await
    }

    /// Adds the party whose card is the QR code in an image file's bytes.
    pub async fn add_from_qr_image(&self, image: &[u8]) -> Result<Contact, ContactError> {
        self.add(card_from_qr_image(image)?).await
    }

    /// Reads and verifies the card of a `tallymesh:` link without adding
    /// it, with every check [`Contacts::add`] makes.
    pub async fn read_link(&self, link: &str) -> Result<CardPreview, ContactError> {
        self.preview(&card_from_link(link)?).await
    }

    /// Reads and verifies the card in a QR image file's bytes without
    /// adding it.
    pub async fn read_qr_image(&self, image: &[u8]) -> Result<CardPreview, ContactError> {
        self.preview(&card_from_qr_image(image)?).await
    }

    /// What a verified card shows before it is added; refused for the same
    /// reasons as [`Contacts::add`].
    pub async fn preview(&self, card: &Signed<ContactCard>) -> Result<CardPreview, ContactError> {
        let own = self.node.identity().state().await?.party_id();
        check_addable(card, own.as_ref(), now())?;
        let record = card.record();
        let store = self.node.running_store().await?;
        let known = store.contact(&record.party.to_string()).await?.is_some();
        Ok(CardPreview {
            party_id: record.party.to_string(),
            display_name: record.name.clone(),
            fingerprint: record.party.fingerprint(),
            devices: u32::try_from(record.devices.len()).unwrap_or(u32::MAX),
            issued_at_ms: record.issued_at.as_millis(),
            invite: SharedCard::of(card).invite,
            known,
            link: card_link(card),
        })
    }

    /// Adds (or updates) the party of a verified card; see the module docs.
    pub async fn add(&self, card: Signed<ContactCard>) -> Result<Contact, ContactError> {
        let store = self.node.running_store().await?;
        let record = card.record();
        let now = now();
        let own = self.node.identity().state().await?.party_id();
        check_addable(&card, own.as_ref(), now)?;
        let now_ms = to_i64(now.as_millis());
        let party_id = record.party.to_string();
        let saved = store
            .save_contact(&ContactRow {
                party_id: party_id.clone(),
                display_name: record.name.clone(),
                card: card.bytes().to_vec(),
                card_issued_at_ms: to_i64(record.issued_at.as_millis()),
                invite: record
                    .invite
                    .as_ref()
                    .map(|Invite { token, expires_at, .. }| (*token, to_i64(expires_at.as_millis()))),
                added_at_ms: now_ms,
                updated_at_ms: now_ms,
            })
            .await?;
        match saved {
            ContactSaved::Added | ContactSaved::Updated => {
                tracing::info!(party = %party_id, outcome = ?saved, "contact card kept");
                // No subscriber is not an error.
                let _ = self.node.inner.events.send(NodeEvent::ContactsChanged {
                    party_id: party_id.clone(),
                });
            }
            ContactSaved::Kept => tracing::debug!(party = %party_id, "an older card of a contact was ignored"),
        }
        self.get(&party_id).await
    }

    /// Every contact, by display name.
    pub async fn list(&self) -> Result<Vec<Contact>, ContactError> {
        let store = self.node.running_store().await?;
        store.contacts().await?.iter().map(contact_of).collect()
    }

    /// The contact with this party id.
    pub async fn get(&self, party_id: &str) -> Result<Contact, ContactError> {
        let party = parse_party(party_id)?;
        let store = self.node.running_store().await?;
        match store.contact(&party.to_string()).await? {
            Some(row) => contact_of(&row),
            None => Err(ContactError::UnknownContact(party.to_string())),
        }
    }

    /// The card of a contact, exactly as received.
    pub async fn card(&self, party_id: &str) -> Result<Signed<ContactCard>, ContactError> {
        let party = parse_party(party_id)?;
        let store = self.node.running_store().await?;
        match store.contact(&party.to_string()).await? {
            Some(row) => Ok(ContactCard::from_signed_bytes(&row.card)?),
            None => Err(ContactError::UnknownContact(party.to_string())),
        }
    }

    /// Forgets a contact.
    pub async fn remove(&self, party_id: &str) -> Result<(), ContactError> {
        let party = parse_party(party_id)?.to_string();
        let store = self.node.running_store().await?;
        if !store.remove_contact(&party).await? {
            return Err(ContactError::UnknownContact(party));
        }
        tracing::info!(party = %party, "contact removed");
        let _ = self
            .node
            .inner
            .events
            .send(NodeEvent::ContactsChanged { party_id: party });
        Ok(())
    }
}

/// The checks a verified card passes before it is kept: not this party's
/// own (`own`), every device certificate valid at `now`, any invite not
/// expired.
pub(crate) fn check_addable(
    card: &Signed<ContactCard>,
    own: Option<&PartyId>,
    now: Timestamp,
) -> Result<(), ContactError> {
    let record = card.record();
    if own == Some(&record.party) {
        return Err(ContactError::OwnCard);
    }
    for device in &record.devices {
        DeviceCertificate::verify(device, Some(&record.party), now)
            .map_err(|e| ContactError::from(CardError::Invalid(e)))?;
    }
    if let Some(invite) = &record.invite {
        invite.check(now, 0).map_err(|_| ContactError::InviteExpired)?;
    }
    Ok(())
}

/// The contact a kept row describes. The card was verified when it came;
/// it is read again here (its bytes as kept) for the devices and addresses.
fn contact_of(row: &ContactRow) -> Result<Contact, ContactError> {
    let card = Signed::<ContactCard>::from_bytes(&row.card).map_err(|e| {
        NodeError::Store(tallymesh_store::StoreError::Query {
            path: std::path::PathBuf::new(),
            reason: format!("the kept card of {} does not read: {e}", row.party_id),
        })
    })?;
    let record = card.record();
    Ok(Contact {
        party_id: record.party.to_string(),
        display_name: record.name.clone(),
        fingerprint: record.party.fingerprint(),
        added_at_ms: u64::try_from(row.added_at_ms).unwrap_or(0),
        card_issued_at_ms: record.issued_at.as_millis(),
        devices: u32::try_from(record.devices.len()).unwrap_or(u32::MAX),
        addresses: record.addresses.clone(),
    })
}

fn parse_party(text: &str) -> Result<PartyId, ContactError> {
    text.trim()
        .parse()
        .map_err(|_| ContactError::BadPartyId(text.chars().take(80).collect()))
}

/// The addresses a card lists for listen addresses: concrete ones, at
/// most [`CARD_ADDRESSES`], with room kept for addresses through the
/// party's relays (up to [`CARD_RELAYED_ADDRESSES`]), which are what
/// reaches a device behind NAT. A relayed address goes on the card without
/// this device's id at its end: whoever dials adds the id of the device it
/// wants.
fn card_addresses(listening: &[tallymesh_net::Multiaddr]) -> Vec<String> {
    use tallymesh_net::multiaddr::Protocol;
    let mut relayed = Vec::new();
    let mut direct = Vec::new();
    for address in listening {
        let mut address = address.clone();
        if address.iter().any(|p| matches!(p, Protocol::P2pCircuit)) {
            if matches!(address.iter().last(), Some(Protocol::P2p(_))) {
                address.pop();
            }
            relayed.push(address.to_string());
        } else {
            direct.push(address.to_string());
        }
    }
    let usable = |a: &String| is_concrete(a) && a.len() <= MAX_ADDRESS_BYTES;
    relayed.retain(usable);
    relayed.truncate(CARD_RELAYED_ADDRESSES);
    direct.retain(usable);
    direct.truncate(CARD_ADDRESSES - relayed.len());
    direct.extend(relayed);
    direct
}

/// Whether a listen address names one interface (not 0.0.0.0 or ::).
fn is_concrete(address: &str) -> bool {
    !(address.starts_with("/ip4/0.0.0.0/") || address.starts_with("/ip6/::/"))
}

pub(crate) fn now() -> Timestamp {
    Timestamp::from_millis(crate::node::unix_millis())
}

fn to_i64(ms: u64) -> i64 {
    i64::try_from(ms).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tallymesh_core::KeyError;

    #[test]
    fn relayed_addresses_keep_their_room_on_a_card_without_this_devices_id() {
        let relay = "12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN";
        let me = "12D3KooWRBhwfeP2Y4TCx1SM6s9rUoHhR5STiGwxBhgFRcw3UERE";
        let mut listening: Vec<tallymesh_net::Multiaddr> = (0..12)
            .map(|i| format!("/ip4/10.0.0.{i}/tcp/4001").parse().unwrap())
            .collect();
        listening.push("/ip4/0.0.0.0/tcp/4001".parse().unwrap());
        listening.push(
            format!("/ip4/203.0.113.9/tcp/4001/p2p/{relay}/p2p-circuit/p2p/{me}")
                .parse()
                .unwrap(),
        );
        let on_card = card_addresses(&listening);
        assert_eq!(on_card.len(), CARD_ADDRESSES);
        assert_eq!(on_card[0], "/ip4/10.0.0.0/tcp/4001");
        assert_eq!(
            on_card.last().unwrap(),
            &format!("/ip4/203.0.113.9/tcp/4001/p2p/{relay}/p2p-circuit")
        );
        assert!(!on_card.iter().any(|a| a.starts_with("/ip4/0.0.0.0")));
    }

    #[test]
    fn wildcard_listen_addresses_stay_off_cards() {
        assert!(!is_concrete("/ip4/0.0.0.0/tcp/4001"));
        assert!(!is_concrete("/ip6/::/udp/4001/quic-v1"));
        assert!(is_concrete("/ip4/192.168.1.5/tcp/4001"));
        assert!(is_concrete("/ip6/::1/tcp/4001"));
    }

    #[test]
    fn card_failures_read_as_plain_sentences() {
        assert!(matches!(
            ContactError::from(CardError::Invalid(RecordError::Key(KeyError::BadSignature))),
            ContactError::Tampered
        ));
        assert_eq!(
            ContactError::Tampered.to_string(),
            "This link was changed after it was made, so it can't be trusted."
        );
        assert!(matches!(
            ContactError::from(CardError::Invalid(RecordError::Invalid(
                "the card is not signed by the party it names".into()
            ))),
            ContactError::Forged
        ));
        assert!(matches!(
            ContactError::from(CardError::BadEncoding),
            ContactError::Damaged
        ));
        assert_eq!(ContactError::OwnCard.to_string(), "This is your own card.");
    }
}
