//! The party's cadre: the devices that act for it — a laptop, an always-on
//! home box, a rented node — enrolled by the party's **main device**, the
//! one that holds the party secret. The secret never leaves it.
//!
//! On the main device, [`Cadre::invite`] makes an **enrollment link**
//! (`tallymesh:cadre?v=1&d=…`): the party's signed card, so the joining
//! node learns who and where, carrying a one-time enrollment token with an
//! expiry. Tokens are kept apart from contact invites: a contact invite
//! never enrolls a device, and an enrollment token is never accepted as a
//! contact invite.
//!
//! On the new device, which has no identity yet, [`Cadre::join`] verifies
//! the card, reaches the party's devices and asks to join (`cadre/join`,
//! [`tallymesh_protocol::cadre`]). The main device uses the token (once),
//! signs a device certificate naming the peer id of the connection the
//! request came on, keeps it, and answers with the certificate and the
//! party's card, which now lists the new device. The new device checks
//! both and becomes an [`IdentityState::Member`] of the party.
//!
//! The party's card lists this device's certificate first, then every
//! enrolled device that is not revoked, so contacts see every device of the
//! party. [`Cadre::revoke`] takes a device off the card; contacts drop it
//! when they get the newer card (it is sent to connected contacts at once,
//! and exchanged with the others when they reconnect). The main device also
//! sends its newer card to its enrolled devices (`cadre/card`), at once and
//! whenever one connects; a member keeps it only when it is newer, and one
//! the card leaves off knows it was revoked. See
//! `docs/protocol/cadre.md` for the checks in order and the limits.
//!
//! ```no_run
//! # async fn example(laptop: tallymesh_node::Node, home_box: tallymesh_node::Node)
//! # -> Result<(), tallymesh_node::cadre::CadreError> {
//! use std::time::Duration;
//!
//! let link = laptop.cadre().invite(Duration::from_secs(3_600)).await?;
//! let state = home_box.cadre().join(&link, Some("Home box")).await?;
//! for device in laptop.cadre().list().await? {
//!     println!("{} {}", device.name, device.peer_id);
//! }
//! # let _ = state;
//! # Ok(()) }
//! ```

use std::time::Duration;

use serde::{Deserialize, Serialize};
use tallymesh_core::card::{CardError, ContactCard, Invite, MAX_DEVICES};
use tallymesh_core::device::DeviceCertificate;
use tallymesh_core::record::Signed;
use tallymesh_core::{PartyId, Timestamp};
use tallymesh_net::{PeerId, ProtocolName, RequestError, RequestProtocol};
use tallymesh_protocol::cadre::{
    CADRE_PROTOCOL, CadreRefusal, CadreRequest, CadreResponse, DeviceKind as WireDeviceKind, MAX_MESSAGE_BYTES, limits,
};
use tallymesh_store::CadreDeviceRow;
use thiserror::Error;

use crate::contacts::{ContactError, now};
use crate::identity::IdentityState;
use crate::{IdentityError, Node, NodeError, NodeEvent};

/// How long an enrollment link is accepted unless told otherwise.
pub const DEFAULT_INVITE_EXPIRY: Duration = Duration::from_secs(3_600);

/// The cadre protocol as the swarm is configured with it:
/// [`CADRE_PROTOCOL`], with its message limit both ways.
pub(crate) fn request_protocol(name: ProtocolName) -> RequestProtocol {
    debug_assert_eq!(name.as_str(), CADRE_PROTOCOL);
    RequestProtocol::new(name).with_limits(MAX_MESSAGE_BYTES, MAX_MESSAGE_BYTES)
}

/// A device of this party, as `tallymesh cadre list` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct CadreDevice {
    /// The device's libp2p peer id.
    pub peer_id: String,
    /// The name its certificate gives it.
    pub name: String,
    /// When the party certified it (ms since the Unix epoch).
    pub enrolled_at_ms: u64,
    /// Whether the party revoked it: it is off the party's card.
    pub revoked: bool,
    /// Whether it is the device this list comes from.
    pub this_device: bool,
    /// What kind of device it is, as it said when it joined; `None` when
    /// not known (a device enrolled by an older version, or another device
    /// listed on a member device, which only has the party's card).
    pub kind: Option<DeviceKind>,
}

/// What kind of device a node is: the desktop app or a headless node. A
/// device says it when it joins a cadre (`cadre/join`); it decides nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub enum DeviceKind {
    /// The desktop app, with a window.
    Desktop,
    /// A headless node (`tallymesh node run`), usually always on.
    Headless,
}

impl DeviceKind {
    /// How the database keeps it.
    fn as_str(self) -> &'static str {
        match self {
            DeviceKind::Desktop => "desktop",
            DeviceKind::Headless => "headless",
        }
    }

    /// As the database keeps it; `None` for anything else.
    fn parse(text: &str) -> Option<DeviceKind> {
        match text {
            "desktop" => Some(DeviceKind::Desktop),
            "headless" => Some(DeviceKind::Headless),
            _ => None,
        }
    }
}

impl From<DeviceKind> for WireDeviceKind {
    fn from(kind: DeviceKind) -> Self {
        match kind {
            DeviceKind::Desktop => WireDeviceKind::Desktop,
            DeviceKind::Headless => WireDeviceKind::Headless,
        }
    }
}

impl From<WireDeviceKind> for DeviceKind {
    fn from(kind: WireDeviceKind) -> Self {
        match kind {
            WireDeviceKind::Desktop => DeviceKind::Desktop,
            WireDeviceKind::Headless => DeviceKind::Headless,
        }
    }
}

/// An enrollment link as the main device's window shows it: the link, when
/// it stops being accepted, and the link as a QR code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct EnrollmentLink {
    /// The `tallymesh:cadre?…` link, for `tallymesh cadre join LINK`.
    pub link: String,
    /// When the link stops being accepted (ms since the Unix epoch).
    pub expires_at_ms: u64,
    /// The link's text as an SVG QR code; `None` when a card that lists
    /// many devices makes it too long for one.
    pub qr_svg: Option<String>,
}

/// Why a cadre operation was refused. Each message can be shown as it is.
#[derive(Debug, Error)]
pub enum CadreError {
    /// Not an enrollment link (a contact link, or no Tallymesh link).
    #[error("This is not a Tallymesh enrollment link (they start with tallymesh:cadre?).")]
    NotALink,
    /// The link's card does not read or does not verify.
    #[error("This enrollment link can't be used: {0}")]
    BadCard(String),
    /// The card carries no enrollment token.
    #[error("This enrollment link carries no enrollment token; make a new one with `tallymesh cadre invite`.")]
    NoToken,
    /// The token's time has passed (seen before anything was sent).
    #[error("This enrollment link has expired; make a new one on the main device.")]
    Expired,
    /// An enrollment link that would expire at once.
    #[error("An enrollment link must stay valid for at least a second.")]
    BadExpiry,
    /// No enrolled device has this peer id.
    #[error("No device with the peer id {0} is enrolled in this party's cadre (or it was revoked already).")]
    UnknownDevice(String),
    /// The main device cannot revoke itself.
    #[error("This is the party's main device itself; it cannot be revoked from here.")]
    ThisDevice,
    /// None of the party's devices answered.
    #[error(
        "Could not reach {name}'s devices ({reason}). Check that {name}'s main device is running and online, then try again."
    )]
    Unreachable {
        /// The party's name.
        name: String,
        /// What went wrong with the last device tried.
        reason: String,
    },
    /// The main device refused; the message is its own.
    #[error("{name}'s device refused: {message}")]
    Refused {
        /// The party's name.
        name: String,
        /// Why, for programs.
        reason: CadreRefusal,
        /// The main device's words.
        message: String,
    },
    /// The answer was not a certificate for this device and a card of the
    /// party.
    #[error("{name}'s device gave an answer that can't be trusted ({reason}); nothing was kept")]
    BadAnswer {
        /// The party's name.
        name: String,
        /// What was wrong.
        reason: String,
    },
    /// The node failed, has no identity, or is not the main device.
    #[error(transparent)]
    Node(#[from] NodeError),
}

impl From<tallymesh_store::StoreError> for CadreError {
    fn from(error: tallymesh_store::StoreError) -> Self {
        CadreError::Node(error.into())
    }
}

impl From<ContactError> for CadreError {
    fn from(error: ContactError) -> Self {
        match error {
            ContactError::Node(error) => CadreError::Node(error),
            other => CadreError::BadCard(other.to_string()),
        }
    }
}

impl From<IdentityError> for CadreError {
    fn from(error: IdentityError) -> Self {
        CadreError::Node(error.into())
    }
}

/// The party's devices: `node.cadre()`.
#[derive(Debug, Clone)]
pub struct Cadre {
    node: Node,
}

impl Node {
    /// The devices of this node's party: enrolling, listing, revoking (see
    /// [`crate::cadre`]).
    pub fn cadre(&self) -> Cadre {
        Cadre { node: self.clone() }
    }
}

impl Cadre {
    /// A one-time enrollment link, accepted for `expires_in` (at least a
    /// second). Only the main device makes them: refused on a member device
    /// and on a node with no identity.
    pub async fn invite(&self, expires_in: Duration) -> Result<String, CadreError> {
        Ok(self.make_invite(expires_in).await?.0)
    }

    /// A one-time enrollment link as [`Cadre::invite`] makes it, with its
    /// expiry and a QR code of it, for a window to show.
    pub async fn enrollment_link(&self, expires_in: Duration) -> Result<EnrollmentLink, CadreError> {
        let (link, expires_at) = self.make_invite(expires_in).await?;
        Ok(EnrollmentLink {
            qr_svg: enrollment_qr_svg(&link),
            expires_at_ms: expires_at.as_millis(),
            link,
        })
    }

    /// Keeps a new one-time token and signs the party's card with it: the
    /// link and when the token expires.
    async fn make_invite(&self, expires_in: Duration) -> Result<(String, Timestamp), CadreError> {
        let party_key = self.node.identity().party_key().await?;
        let expires_in = u64::try_from(expires_in.as_millis()).unwrap_or(u64::MAX);
        if expires_in < 1_000 {
            return Err(CadreError::BadExpiry);
        }
        let mut token = [0u8; 16];
        getrandom::fill(&mut token).map_err(|e| NodeError::Keystore(crate::KeystoreError::Random(e.to_string())))?;
        let now = now();
        let expires_at = now.plus_millis(expires_in);
        let store = self.node.running_store().await?;
        store
            .save_cadre_token(&token, to_i64(expires_at.as_millis()), to_i64(now.as_millis()))
            .await?;
        let invite = Invite {
            token,
            expires_at,
            reusable: false,
        };
        let card = self.node.contacts().sign_card(&party_key, Some(invite), now).await?;
        tracing::info!(expires_at_ms = expires_at.as_millis(), "made an enrollment link");
        Ok((ContactCard::to_cadre_link(&card), expires_at))
    }

    /// The party's devices, this one first. On the main device: every
    /// device it enrolled, revoked ones marked. On a member device: the
    /// devices the party's card (as last received) lists.
    pub async fn list(&self) -> Result<Vec<CadreDevice>, CadreError> {
        let identity = self.node.identity();
        let state = identity.state().await?;
        let this = identity.device_certificate().await?;
        let own_peer = self.node.net().local_peer_id();
        let mut devices = vec![device_of(&this, own_peer)];
        devices[0].kind = Some(self.node.inner.device.kind);
        match state {
            IdentityState::Member { .. } => {
                let card = self.node.contacts().my_card(None).await?;
                // A newer card that leaves this device off: the main device
                // revoked it.
                devices[0].revoked = !lists(&card, own_peer);
                for certificate in &card.record().devices {
                    let Ok(peer) = PeerId::from_bytes(&certificate.record().peer_id) else {
                        continue;
                    };
                    if peer != own_peer {
                        devices.push(device_of(certificate, own_peer));
                    }
                }
            }
            _ => {
                let store = self.node.running_store().await?;
                for row in store.cadre_devices().await? {
                    devices.push(CadreDevice {
                        peer_id: row.peer_id,
                        name: row.name,
                        enrolled_at_ms: u64::try_from(row.enrolled_at_ms).unwrap_or(0),
                        revoked: row.revoked_at_ms.is_some(),
                        this_device: false,
                        kind: row.kind.as_deref().and_then(DeviceKind::parse),
                    });
                }
            }
        }
        Ok(devices)
    }

    /// Revokes an enrolled device: it drops off the party's card, and the
    /// newer card goes to the contacts connected now (the others get it when
    /// they reconnect). Certificates already handed out stay valid where
    /// they are held until the newer card arrives there.
    pub async fn revoke(&self, peer_id: &str) -> Result<(), CadreError> {
        self.main_device().await?;
        let peer_id = peer_id.trim();
        if peer_id == self.node.net().local_peer_id().to_string() {
            return Err(CadreError::ThisDevice);
        }
        let store = self.node.running_store().await?;
        if !store.revoke_cadre_device(peer_id, to_i64(now().as_millis())).await? {
            return Err(CadreError::UnknownDevice(peer_id.chars().take(80).collect()));
        }
        tracing::info!(peer = %peer_id, "revoked a device of the party's cadre");
        self.changed();
        Ok(())
    }

    /// Joins the party of an enrollment link as one of its devices, named
    /// `device_name` (this node's device name when `None`). The node must
    /// have no identity yet. Returns the new [`IdentityState::Member`].
    pub async fn join(&self, link: &str, device_name: Option<&str>) -> Result<IdentityState, CadreError> {
        let card = ContactCard::from_cadre_link(link).map_err(|e| match e {
            CardError::NotALink | CardError::NotACadreLink => CadreError::NotALink,
            other => CadreError::from(ContactError::from(other)),
        })?;
        let state = self.node.identity().state().await?;
        if let IdentityState::Ready {
            party_id, display_name, ..
        }
        | IdentityState::Member {
            party_id, display_name, ..
        }
        | IdentityState::KeyMissing {
            party_id, display_name, ..
        } = state
        {
            return Err(IdentityError::AlreadyExists { party_id, display_name }.into());
        }
        let now = now();
        let record = card.record();
        let name = record.name.clone();
        for device in &record.devices {
            DeviceCertificate::verify(device, Some(&record.party), now)
                .map_err(|e| CadreError::BadCard(format!("{e}.")))?;
        }
        let Some(invite) = &record.invite else {
            return Err(CadreError::NoToken);
        };
        if now >= invite.expires_at {
            return Err(CadreError::Expired);
        }
        let device_name = crate::identity::device_name(device_name.unwrap_or_default(), &self.node.inner.device.name);
        let request = CadreRequest::Join {
            token: invite.token,
            name: device_name,
            kind: Some(self.node.inner.device.kind.into()),
            chat_key: self.node.inner.device.chat_identity_key,
        }
        .encode();

        match self
            .node
            .ask_devices(record, &self.node.inner.protocols.cadre, &request)
            .await
        {
            Ok(answer) => self.take_answer(&record.party, &name, &answer).await,
            Err(failure) => Err(CadreError::Unreachable {
                name,
                reason: failure.map_or_else(|| "the link lists no device".to_owned(), |error| describe(&error)),
            }),
        }
    }

    /// Checks the main device's answer to a join and, when it enrolled this
    /// device, becomes a member of the party.
    async fn take_answer(&self, party: &PartyId, name: &str, answer: &[u8]) -> Result<IdentityState, CadreError> {
        let bad = |reason: String| CadreError::BadAnswer {
            name: name.to_owned(),
            reason,
        };
        let (certificate, card) = match CadreResponse::decode(answer, &limits()).map_err(|e| bad(e.to_string()))? {
            CadreResponse::Joined { certificate, card } => (certificate, card),
            CadreResponse::Refused { reason, message } => {
                return Err(CadreError::Refused {
                    name: name.to_owned(),
                    reason,
                    message,
                });
            }
            CadreResponse::CardTaken { .. } => return Err(bad("an answer to another question".to_owned())),
        };
        let now = now();
        let own_peer = self.node.net().local_peer_id().to_bytes();
        let certificate = Signed::<DeviceCertificate>::from_bytes(&certificate).map_err(|e| bad(e.to_string()))?;
        DeviceCertificate::verify(&certificate, Some(party), now).map_err(|e| bad(e.to_string()))?;
        if certificate.record().peer_id != own_peer {
            return Err(bad("the certificate names another device".to_owned()));
        }
        let card = ContactCard::from_signed_bytes(&card).map_err(|e| bad(e.to_string()))?;
        if &card.record().party != party {
            return Err(bad("the card is another party's".to_owned()));
        }
        for device in &card.record().devices {
            DeviceCertificate::verify(device, Some(party), now).map_err(|e| bad(e.to_string()))?;
        }
        if !card.record().devices.iter().any(|d| d.record().peer_id == own_peer) {
            return Err(bad("the party's card does not list this device".to_owned()));
        }
        let display_name = card.record().name.clone();
        let state = self
            .node
            .identity()
            .become_member(party, &display_name, certificate, &card)
            .await?;
        self.changed();
        Ok(state)
    }

    /// The answer to a cadre request from `peer`: the encoded response.
    /// Never fails: every refusal is an answer that says why.
    pub(crate) async fn answer(&self, peer: PeerId, bytes: &[u8]) -> Vec<u8> {
        let response = match CadreRequest::decode(bytes, &limits()) {
            Ok(request) => self.decide(peer, request).await,
            Err(error) => {
                self.node.strike(peer, &format!("an unreadable cadre request: {error}"));
                if error.is_other_version() {
                    CadreResponse::refused(
                        CadreRefusal::UnsupportedVersion,
                        &format!("This device cannot read the request: {error}."),
                    )
                } else {
                    CadreResponse::refused(
                        CadreRefusal::BadRequest,
                        &format!("The request could not be read: {error}"),
                    )
                }
            }
        };
        response.encode()
    }

    async fn decide(&self, peer: PeerId, request: CadreRequest) -> CadreResponse {
        let (token, name, kind, chat_key) = match request {
            CadreRequest::Join {
                token,
                name,
                kind,
                chat_key,
            } => (token, name, kind.map(DeviceKind::from), chat_key),
            CadreRequest::Card { card } => return self.take_card(peer, &card).await,
        };
        let identity = self.node.identity();
        match identity.state().await {
            Ok(IdentityState::Ready { .. }) => {}
            Ok(IdentityState::Member { display_name, .. }) => {
                return CadreResponse::refused(
                    CadreRefusal::NotTheMainDevice,
                    &format!("This device is not {display_name}'s main device; ask the main device for a new link."),
                );
            }
            Ok(_) => {
                return CadreResponse::refused(CadreRefusal::Unavailable, "This device acts for no party now.");
            }
            Err(error) => return CadreResponse::refused(CadreRefusal::Unavailable, &error.to_string()),
        }
        let own_peer = self.node.net().local_peer_id();
        if peer == own_peer {
            return CadreResponse::refused(CadreRefusal::BadRequest, "A device cannot enroll itself.");
        }
        let store = match self.node.running_store().await {
            Ok(store) => store,
            Err(error) => return CadreResponse::refused(CadreRefusal::Unavailable, &error.to_string()),
        };
        let peer_text = peer.to_string();
        let enrolled = match store.cadre_devices().await {
            Ok(rows) => rows
                .iter()
                .filter(|row| row.revoked_at_ms.is_none() && row.peer_id != peer_text)
                .count(),
            Err(error) => return CadreResponse::refused(CadreRefusal::Unavailable, &error.to_string()),
        };
        // This device, the others, and the one joining must fit on a card.
        if enrolled + 2 > MAX_DEVICES {
            return CadreResponse::refused(
                CadreRefusal::CadreFull,
                &format!("The party already has the {MAX_DEVICES} devices a card can list; revoke one first."),
            );
        }
        let party_key = match identity.party_key().await {
            Ok(key) => key,
            Err(error) => return CadreResponse::refused(CadreRefusal::Unavailable, &error.to_string()),
        };
        let now = now();
        let certificate = Signed::sign(
            DeviceCertificate {
                party: PartyId::new(party_key.public()),
                peer_id: peer.to_bytes(),
                name: name.clone(),
                issued_at: now,
                chat_identity_key: chat_key,
                expires_at: None,
            },
            &party_key,
        );
        drop(party_key);
        let row = CadreDeviceRow {
            peer_id: peer_text,
            name,
            certificate: certificate.bytes().to_vec(),
            enrolled_at_ms: to_i64(now.as_millis()),
            revoked_at_ms: None,
            kind: kind.map(|kind| kind.as_str().to_owned()),
        };
        match store.enroll_cadre_device(&token, &row, to_i64(now.as_millis())).await {
            Ok(true) => {}
            Ok(false) => return token_refusal(store.cadre_token(&token).await.ok().flatten(), now),
            Err(error) => return CadreResponse::refused(CadreRefusal::Unavailable, &error.to_string()),
        }
        tracing::info!(%peer, "enrolled a device in the party's cadre");
        self.changed();
        match self.node.contacts().my_card(None).await {
            Ok(card) => CadreResponse::Joined {
                certificate: certificate.bytes().to_vec(),
                card: card.bytes().to_vec(),
            },
            Err(error) => CadreResponse::refused(CadreRefusal::Unavailable, &error.to_string()),
        }
    }

    /// Refuses anything but the party's main device.
    async fn main_device(&self) -> Result<(), CadreError> {
        match self.node.identity().state().await? {
            IdentityState::Ready { .. } => Ok(()),
            IdentityState::Member { display_name, .. } => Err(IdentityError::NotTheMainDevice { display_name }.into()),
            IdentityState::None => Err(IdentityError::NoIdentity.into()),
            IdentityState::KeyMissing { party_id, keystore, .. } => {
                Err(IdentityError::SecretMissing { party_id, keystore }.into())
            }
        }
    }

    /// Tells the window the cadre changed and, on the main device, hands
    /// the newer card to every contact connected now.
    fn changed(&self) {
        // No subscriber is not an error.
        let _ = self.node.inner.events.send(NodeEvent::CadreChanged);
        let node = self.node.clone();
        tokio::spawn(async move {
            if !matches!(node.identity().state().await, Ok(IdentityState::Ready { .. })) {
                return;
            }
            let (Ok(parties), Ok(connected)) = (node.device_parties().await, node.net().connected_peers().await) else {
                return;
            };
            for peer in connected.into_iter().filter(|peer| parties.contains_key(peer)) {
                node.contacts().exchange_cards(peer).await;
            }
        });
        let cadre = self.clone();
        tokio::spawn(async move { cadre.push_card(None).await });
    }

    /// On the main device, a device of the cadre connected: it gets the
    /// party's current card, in case it missed a change.
    pub(crate) async fn device_connected(&self, peer: PeerId) {
        if !matches!(self.node.identity().state().await, Ok(IdentityState::Ready { .. })) {
            return;
        }
        let Ok(store) = self.node.running_store().await else {
            return;
        };
        let peer_text = peer.to_string();
        if let Ok(rows) = store.cadre_devices().await
            && rows.iter().any(|row| row.peer_id == peer_text)
        {
            let cadre = self.clone();
            tokio::spawn(async move { cadre.push_card(Some(peer)).await });
        }
    }

    /// On the main device, sends the party's current card (`cadre/card`)
    /// to `only` or to every enrolled device, revoked ones too so they
    /// learn it. Each is asked at once; one that cannot be reached now gets
    /// the card when it next connects.
    async fn push_card(&self, only: Option<PeerId>) {
        if !matches!(self.node.identity().state().await, Ok(IdentityState::Ready { .. })) {
            return;
        }
        let (Ok(store), Ok(card)) = (
            self.node.running_store().await,
            self.node.contacts().my_card(None).await,
        ) else {
            return;
        };
        let Ok(rows) = store.cadre_devices().await else {
            return;
        };
        let request = CadreRequest::Card {
            card: card.bytes().to_vec(),
        }
        .encode();
        let peers = rows
            .iter()
            .filter_map(|row| row.peer_id.parse::<PeerId>().ok())
            .filter(|peer| only.is_none_or(|only| only == *peer));
        for peer in peers {
            let node = self.node.clone();
            let request = request.clone();
            tokio::spawn(async move {
                let answer = node.net().request(peer, &node.inner.protocols.cadre, request).await;
                match answer.map(|bytes| CadreResponse::decode(&bytes, &limits())) {
                    Ok(Ok(CadreResponse::CardTaken { newer, listed })) => {
                        tracing::debug!(%peer, newer, listed, "a device of the cadre took the party's card");
                    }
                    Ok(Ok(other)) => tracing::info!(%peer, "a device of the cadre did not take the card: {other:?}"),
                    Ok(Err(error)) => tracing::info!(%peer, "an unreadable answer to the party's card: {error}"),
                    Err(error) => tracing::debug!(%peer, "the party's card did not reach a device: {error}"),
                }
            });
        }
    }

    /// On a member device, the party's card as the main device sends it:
    /// kept when it is the party's, signed by the party key, every device
    /// certificate valid, and newer than the card kept. The signature and
    /// its date count, not who carries the card.
    async fn take_card(&self, peer: PeerId, bytes: &[u8]) -> CadreResponse {
        let party_id = match self.node.identity().state().await {
            Ok(IdentityState::Member { party_id, .. }) => party_id,
            Ok(_) => {
                return CadreResponse::refused(
                    CadreRefusal::NotAMember,
                    "This device is not a member device of a party's cadre.",
                );
            }
            Err(error) => return CadreResponse::refused(CadreRefusal::Unavailable, &error.to_string()),
        };
        let now = now();
        let checked = ContactCard::from_signed_bytes(bytes)
            .map_err(|e| e.to_string())
            .and_then(|card| {
                if card.record().party.to_string() != party_id {
                    return Err("the card is another party's".to_owned());
                }
                for device in &card.record().devices {
                    DeviceCertificate::verify(device, Some(&card.record().party), now).map_err(|e| e.to_string())?;
                }
                Ok(card)
            });
        let card = match checked {
            Ok(card) => card,
            Err(reason) => {
                self.node
                    .strike(peer, &format!("a party's card that does not check out: {reason}"));
                return CadreResponse::refused(CadreRefusal::BadRequest, &format!("The card was refused: {reason}"));
            }
        };
        let listed = lists(&card, self.node.net().local_peer_id());
        let store = match self.node.running_store().await {
            Ok(store) => store,
            Err(error) => return CadreResponse::refused(CadreRefusal::Unavailable, &error.to_string()),
        };
        let issued_at = to_i64(card.record().issued_at.as_millis());
        match store
            .save_member_card(card.bytes(), issued_at, to_i64(now.as_millis()))
            .await
        {
            Ok(newer) => {
                if newer {
                    if listed {
                        tracing::info!(%peer, devices = card.record().devices.len(), "kept the party's newer card");
                    } else {
                        tracing::warn!(%peer, "the party's newer card leaves this device off: it was revoked");
                    }
                    // No subscriber is not an error.
                    let _ = self.node.inner.events.send(NodeEvent::CadreChanged);
                }
                CadreResponse::CardTaken { newer, listed }
            }
            Err(error) => CadreResponse::refused(CadreRefusal::Unavailable, &error.to_string()),
        }
    }
}

/// Whether `card` certifies the device `peer`.
fn lists(card: &Signed<ContactCard>, peer: PeerId) -> bool {
    let peer = peer.to_bytes();
    card.record().devices.iter().any(|d| d.record().peer_id == peer)
}

/// The text of an enrollment link as an SVG QR code, when it fits in one.
fn enrollment_qr_svg(link: &str) -> Option<String> {
    match tallymesh_offline::qr::render_svg(link.as_bytes()) {
        Ok(svg) => Some(svg),
        Err(error) => {
            tracing::info!("an enrollment link too long for a QR code: {error}");
            None
        }
    }
}

/// Why a token did not enroll: unknown, expired or used.
fn token_refusal(row: Option<tallymesh_store::CadreTokenRow>, now: Timestamp) -> CadreResponse {
    match row {
        None => CadreResponse::refused(
            CadreRefusal::UnknownToken,
            "This enrollment link is not known here; make a new one on the main device.",
        ),
        Some(row) if row.used.is_some() => CadreResponse::refused(
            CadreRefusal::TokenUsed,
            "This enrollment link was already used; make a new one on the main device.",
        ),
        Some(row) if to_i64(now.as_millis()) >= row.expires_at_ms => CadreResponse::refused(
            CadreRefusal::TokenExpired,
            "This enrollment link has expired; make a new one on the main device.",
        ),
        // Usable a moment ago and not now: another device used it meanwhile.
        Some(_) => CadreResponse::refused(
            CadreRefusal::TokenUsed,
            "This enrollment link was already used; make a new one on the main device.",
        ),
    }
}

fn device_of(certificate: &Signed<DeviceCertificate>, own_peer: PeerId) -> CadreDevice {
    let record = certificate.record();
    let peer = PeerId::from_bytes(&record.peer_id).ok();
    CadreDevice {
        peer_id: peer.map(|p| p.to_string()).unwrap_or_default(),
        name: record.name.clone(),
        enrolled_at_ms: record.issued_at.as_millis(),
        revoked: false,
        this_device: peer == Some(own_peer),
        kind: None,
    }
}

/// A request failure in words for the person who joins.
fn describe(error: &RequestError) -> String {
    match error {
        RequestError::Unreachable => "no connection could be made".to_owned(),
        RequestError::Timeout => "no answer in time".to_owned(),
        RequestError::UnsupportedProtocol => "it runs a version of Tallymesh that cannot enroll devices".to_owned(),
        other => other.to_string(),
    }
}

fn to_i64(ms: u64) -> i64 {
    i64::try_from(ms).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_that_did_not_enroll_is_refused_for_its_reason() {
        let at = Timestamp::from_millis(500);
        let row = |used: Option<(i64, String)>, expires_at_ms| tallymesh_store::CadreTokenRow {
            token: [1; 16],
            expires_at_ms,
            created_at_ms: 0,
            used,
        };
        let reason = |response: CadreResponse| match response {
            CadreResponse::Refused { reason, .. } => reason,
            CadreResponse::Joined { .. } | CadreResponse::CardTaken { .. } => unreachable!(),
        };
        assert_eq!(reason(token_refusal(None, at)), CadreRefusal::UnknownToken);
        assert_eq!(
            reason(token_refusal(Some(row(Some((1, "p".into())), 1_000)), at)),
            CadreRefusal::TokenUsed
        );
        assert_eq!(
            reason(token_refusal(Some(row(None, 500)), at)),
            CadreRefusal::TokenExpired
        );
    }

    #[test]
    fn an_enrollment_qr_code_holds_the_link_text() {
        let link = format!("tallymesh:cadre?v=1&d={}", "A".repeat(600));
        let svg = enrollment_qr_svg(&link).expect("a link of a card fits in a QR code");
        assert!(svg.contains("<svg"), "{svg}");
        assert_eq!(enrollment_qr_svg(&"A".repeat(10_000)), None);
    }

    #[test]
    fn cadre_devices_serialise_in_camel_case() {
        let device = CadreDevice {
            peer_id: "12D3".into(),
            name: "Home box".into(),
            enrolled_at_ms: 5,
            revoked: false,
            this_device: true,
            kind: Some(DeviceKind::Headless),
        };
        assert_eq!(
            serde_json::to_value(&device).unwrap(),
            serde_json::json!({"peerId": "12D3", "name": "Home box", "enrolledAtMs": 5, "revoked": false, "thisDevice": true, "kind": "headless"})
        );
    }

    #[test]
    fn a_device_kind_reads_back_as_the_database_keeps_it() {
        for kind in [DeviceKind::Desktop, DeviceKind::Headless] {
            assert_eq!(DeviceKind::parse(kind.as_str()), Some(kind));
            assert_eq!(DeviceKind::from(WireDeviceKind::from(kind)), kind);
        }
        assert_eq!(DeviceKind::parse("toaster"), None);
    }
}
