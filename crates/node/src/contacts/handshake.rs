//! The contact handshake over the network: redeeming an invite, and
//! answering those who redeem ours (`/tallymesh/contact/1`, messages in
//! [`tallymesh_protocol::contact`], rules in `docs/protocol/contact.md`).
//!
//! Bob calls [`Contacts::redeem_link`] with Alice's card link. His node
//! verifies the card, dials the devices it certifies at the addresses it
//! lists, and sends his own card with the invite's token. Alice's node
//! answers in [`Contacts::answer`]: it checks that Bob's card verifies and
//! certifies the very device that asked (so nobody can redeem with someone
//! else's card), counts the invite (a one-time invite counts once, however
//! many ask at the same moment), keeps Bob's card and sends back her own.
//! Bob keeps it. Each side then holds the other's card, signed by its
//! party, and each side's window hears `contactsChanged`.

use tallymesh_core::PartyId;
use tallymesh_core::card::ContactCard;
use tallymesh_core::record::Signed;
use tallymesh_net::{PeerId, ProtocolName, RequestError, RequestProtocol};
use tallymesh_protocol::contact::{
    CONTACT_PROTOCOL, ContactRequest, ContactResponse, MAX_MESSAGE_BYTES, Refusal, limits,
};
use thiserror::Error;

use super::{Contact, ContactError, Contacts, InviteError, card_from_link, check_addable, now};
use crate::NodeError;

/// The contact protocol as the swarm is configured with it:
/// [`CONTACT_PROTOCOL`], with its message limit both ways.
pub(crate) fn request_protocol(name: ProtocolName) -> RequestProtocol {
    debug_assert_eq!(name.as_str(), CONTACT_PROTOCOL);
    RequestProtocol::new(name).with_limits(MAX_MESSAGE_BYTES, MAX_MESSAGE_BYTES)
}

/// Why redeeming an invite did not make two contacts. Each message can be
/// shown as it is.
#[derive(Debug, Error)]
pub enum RedeemError {
    /// The link or its card was refused before anything was sent.
    #[error(transparent)]
    Card(#[from] ContactError),
    /// The card carries no invite to redeem.
    #[error(
        "This card carries no invite, so {0} would not accept yours. Add it as a contact, or ask for a card with an invite."
    )]
    NoInvite(String),
    /// None of the party's devices answered.
    #[error(
        "Could not reach {name}'s devices ({reason}). Check that {name}'s Tallymesh is running and online, then try again."
    )]
    Unreachable {
        /// The party's name.
        name: String,
        /// What went wrong with the last device tried.
        reason: String,
    },
    /// The inviter refused; the message is theirs.
    #[error("{name} refused: {message}")]
    Refused {
        /// The party's name.
        name: String,
        /// What kind of refusal.
        reason: RefusalKind,
        /// The inviter's words.
        message: String,
    },
    /// The answer was not a card of the party invited to.
    #[error("{name}'s device gave an answer that can't be trusted ({reason}); nothing was kept")]
    BadAnswer {
        /// The party's name.
        name: String,
        /// What was wrong.
        reason: String,
    },
}

/// The inviter's reason, for programs that tell them apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefusalKind {
    /// The invite is unknown, expired, used up or withdrawn.
    Invite,
    /// Our card or device was not accepted.
    Card,
    /// The inviter's node could not answer now.
    Unavailable,
    /// A reason this version does not know.
    Other,
}

impl From<NodeError> for RedeemError {
    fn from(error: NodeError) -> Self {
        RedeemError::Card(ContactError::Node(error))
    }
}

impl Contacts {
    /// Redeems the invite on the card of a `tallymesh:` link: see the
    /// module docs. Returns the inviter as a contact.
    pub async fn redeem_link(&self, link: &str) -> Result<Contact, RedeemError> {
        self.redeem(card_from_link(link)?).await
    }

    /// Redeems the invite on a verified card.
    pub async fn redeem(&self, card: Signed<ContactCard>) -> Result<Contact, RedeemError> {
        let own = self.node.identity().state().await?.party_id();
        check_addable(&card, own.as_ref(), now())?;
        let record = card.record();
        let name = record.name.clone();
        let Some(invite) = &record.invite else {
            return Err(RedeemError::NoInvite(name));
        };
        let request = ContactRequest::Redeem {
            token: invite.token,
            card: self.my_card(None).await?.bytes().to_vec(),
        }
        .encode();

        match self
            .node
            .ask_devices(record, &self.node.inner.protocols.contact, &request)
            .await
        {
            Ok(answer) => self.take_answer(&record.party, &name, &answer).await,
            Err(failure) => Err(RedeemError::Unreachable {
                name,
                reason: failure.map_or_else(|| "it lists no device".to_owned(), |error| describe(&error)),
            }),
        }
    }

    /// Sends this party's current card to a contact's device and keeps the
    /// newer card it answers with. Failures only get logged: the next
    /// reconnection tries again.
    pub(crate) async fn exchange_cards(&self, peer: PeerId) {
        let mine = match self.my_card(None).await {
            Ok(card) => card,
            Err(error) => {
                tracing::debug!(%peer, "no card to exchange: {error}");
                return;
            }
        };
        let request = ContactRequest::Exchange {
            card: mine.bytes().to_vec(),
        }
        .encode();
        let answer = match self
            .node
            .net()
            .request(peer, &self.node.inner.protocols.contact, request)
            .await
        {
            Ok(answer) => answer,
            Err(error) => {
                tracing::debug!(%peer, "a contact's device did not take our card: {error}");
                return;
            }
        };
        match ContactResponse::decode(&answer, &limits()) {
            Ok(ContactResponse::Accepted { card }) => match ContactCard::from_signed_bytes(&card) {
                Ok(card) => {
                    if !certifies(&card, peer) {
                        tracing::info!(%peer, "a contact's device answered with a card that is not its own");
                    } else if let Err(error) = self.add(card).await {
                        tracing::info!(%peer, "a contact's newer card was refused: {error}");
                    }
                }
                Err(error) => tracing::info!(%peer, "a contact's device sent a bad card: {error}"),
            },
            Ok(ContactResponse::Refused {
                reason: Refusal::NotAContact,
                ..
            }) => self.redeem_kept_invite(peer).await,
            Ok(ContactResponse::Refused { message, .. }) => {
                tracing::info!(%peer, "a contact's device refused our card: {message}");
            }
            Err(error) => tracing::info!(%peer, "a contact's device answered badly: {error}"),
        }
    }

    /// We keep a party's card, but it does not keep ours: we added its card
    /// without redeeming the invite on it (its devices were out of reach
    /// then). Redeem that invite now, if the card carries one.
    async fn redeem_kept_invite(&self, peer: PeerId) {
        let party = match self.node.device_parties().await {
            Ok(parties) => parties.get(&peer).map(|(party, _)| party.clone()),
            Err(_) => None,
        };
        let Some(party) = party else {
            return;
        };
        let Ok(card) = self.card(&party).await else {
            return;
        };
        if card.record().invite.is_none() {
            tracing::debug!(%peer, "a contact does not keep our card, and its card carries no invite");
            return;
        }
        match self.redeem(card).await {
            Ok(_) => tracing::info!(%peer, party = %party, "redeemed a kept invite once the party was reachable"),
            Err(error) => tracing::info!(%peer, party = %party, "a kept invite was not redeemed: {error}"),
        }
    }

    /// Keeps the inviter's card from an answer to a redeem.
    async fn take_answer(&self, party: &PartyId, name: &str, answer: &[u8]) -> Result<Contact, RedeemError> {
        let bad = |reason: String| RedeemError::BadAnswer {
            name: name.to_owned(),
            reason,
        };
        match ContactResponse::decode(answer, &limits()).map_err(|e| bad(e.to_string()))? {
            ContactResponse::Accepted { card } => {
                let card = ContactCard::from_signed_bytes(&card).map_err(|e| bad(e.to_string()))?;
                if &card.record().party != party {
                    return Err(bad("the card is another party's".to_owned()));
                }
                let contact = self.add(card).await.map_err(|e| match e {
                    ContactError::Node(error) => RedeemError::from(error),
                    other => bad(other.to_string()),
                })?;
                tracing::info!(party = %contact.party_id, "redeemed an invite");
                Ok(contact)
            }
            ContactResponse::Refused { reason, message } => Err(RedeemError::Refused {
                name: name.to_owned(),
                reason: match reason {
                    Refusal::UnknownInvite | Refusal::InviteExpired | Refusal::InviteUsed | Refusal::InviteRevoked => {
                        RefusalKind::Invite
                    }
                    Refusal::BadCard | Refusal::WrongDevice | Refusal::NotAContact => RefusalKind::Card,
                    Refusal::Unavailable => RefusalKind::Unavailable,
                    Refusal::UnsupportedVersion | Refusal::Other(_) => RefusalKind::Other,
                },
                message,
            }),
        }
    }

    /// The answer to a contact request from `peer`: the encoded response.
    /// Never fails: every refusal is an answer that says why.
    pub(crate) async fn answer(&self, peer: PeerId, bytes: &[u8]) -> Vec<u8> {
        let response = match ContactRequest::decode(bytes, &limits()) {
            Ok(request) => self.decide(peer, request).await,
            Err(error) => {
                self.node
                    .strike(peer, &format!("an unreadable contact request: {error}"));
                if error.is_other_version() {
                    ContactResponse::refused(
                        Refusal::UnsupportedVersion,
                        &format!("This node cannot read the request: {error}."),
                    )
                } else {
                    ContactResponse::refused(Refusal::BadCard, &format!("The request could not be read: {error}"))
                }
            }
        };
        response.encode()
    }

    async fn decide(&self, peer: PeerId, request: ContactRequest) -> ContactResponse {
        let (token, card) = match request {
            ContactRequest::Redeem { token, card } => (Some(token), card),
            ContactRequest::Exchange { card } => (None, card),
        };
        let card = match ContactCard::from_signed_bytes(&card) {
            Ok(card) => card,
            Err(error) => return ContactResponse::refused(Refusal::BadCard, &ContactError::from(error).to_string()),
        };
        if !certifies(&card, peer) {
            return ContactResponse::refused(
                Refusal::WrongDevice,
                "The card does not certify the device it came from.",
            );
        }
        // A device that the party's newest card (the one kept here) leaves
        // off was revoked: it no longer speaks for the party, whatever
        // older card it still carries. Refused before an invite is counted.
        if let Ok(kept) = self.card(&card.record().party.to_string()).await
            && kept.record().issued_at >= card.record().issued_at
            && !certifies(&kept, peer)
        {
            tracing::info!(%peer, party = %kept.record().party, "a revoked device spoke for its party");
            return ContactResponse::refused(
                Refusal::WrongDevice,
                &format!("This device is no longer on {}'s card.", kept.record().name),
            );
        }
        let own = match self.node.identity().state().await {
            Ok(state) => state.party_id(),
            Err(error) => return ContactResponse::refused(Refusal::Unavailable, &error.to_string()),
        };
        if let Err(error) = check_addable(&card, own.as_ref(), now()) {
            return ContactResponse::refused(Refusal::BadCard, &error.to_string());
        }
        match token {
            Some(token) => {
                if let Err(error) = self.record_invite_use(&token).await {
                    return refusal_of(&error);
                }
            }
            None => {
                let known = self.get(&card.record().party.to_string()).await.is_ok();
                if !known {
                    return ContactResponse::refused(
                        Refusal::NotAContact,
                        "Only contacts may send a new card; redeem an invite first.",
                    );
                }
            }
        }
        let party = card.record().party.to_string();
        if let Err(error) = self.add(card).await {
            return refusal_of(&error);
        }
        match self.my_card(None).await {
            Ok(mine) => {
                tracing::info!(%peer, party = %party, "a contact request was accepted");
                ContactResponse::Accepted {
                    card: mine.bytes().to_vec(),
                }
            }
            Err(error) => refusal_of(&error),
        }
    }
}

/// Whether `card` certifies the device `peer`.
fn certifies(card: &Signed<ContactCard>, peer: PeerId) -> bool {
    card.record()
        .devices
        .iter()
        .any(|device| PeerId::from_bytes(&device.record().peer_id).is_ok_and(|p| p == peer))
}

fn refusal_of(error: &ContactError) -> ContactResponse {
    let reason = match error {
        ContactError::Invite(InviteError::Unknown) => Refusal::UnknownInvite,
        ContactError::Invite(InviteError::Expired) => Refusal::InviteExpired,
        ContactError::Invite(InviteError::Used) => Refusal::InviteUsed,
        ContactError::Invite(InviteError::Revoked) => Refusal::InviteRevoked,
        ContactError::Node(_) => Refusal::Unavailable,
        _ => Refusal::BadCard,
    };
    ContactResponse::refused(reason, &error.to_string())
}

/// A request failure in words for the person who redeems.
fn describe(error: &RequestError) -> String {
    match error {
        RequestError::Unreachable => "no connection could be made".to_owned(),
        RequestError::Timeout => "no answer in time".to_owned(),
        RequestError::UnsupportedProtocol => "it runs a version of Tallymesh that does not know invites".to_owned(),
        other => other.to_string(),
    }
}
