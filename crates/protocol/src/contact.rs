//! The contact handshake, protocol `contact` v1 (`/tallymesh/contact/1`).
//!
//! Bob holds Alice's card, which carries an invite. He connects to one of
//! the devices the card certifies and sends a [`ContactRequest::Redeem`]:
//! the invite's token and his own signed card. Alice's node checks the
//! invite (known, not expired, not used up, not withdrawn), verifies Bob's
//! card and that it certifies the device that sent it, keeps it, counts the
//! invite as used and answers [`ContactResponse::Accepted`] with her current
//! card. Both sides now hold each other's verified cards.
//!
//! Two parties who are contacts already refresh their cards with
//! [`ContactRequest::Exchange`] (new addresses, a new device); a stranger's
//! exchange is refused, so nobody lands in a contact list without an
//! invite.
//!
//! This module only encodes and decodes; deciding is the node's business.
//! Cards stay the bytes their parties signed.
//!
//! ```
//! use tallymesh_protocol::contact::{ContactRequest, MAX_MESSAGE_BYTES};
//! use tallymesh_protocol::Limits;
//!
//! let request = ContactRequest::Redeem { token: [7; 16], card: vec![0xa0] };
//! let bytes = request.encode();
//! let limits = Limits { max_frame_bytes: MAX_MESSAGE_BYTES };
//! assert_eq!(ContactRequest::decode(&bytes, &limits).unwrap(), request);
//! ```

use tallymesh_core::ProtocolVersion;
use tallymesh_core::cbor::{self, Value};
use tallymesh_core::record::{Fields, RecordError};
use thiserror::Error;

use crate::{Envelope, EnvelopeError, Limits};

/// The contact protocol version this code speaks.
pub const CONTACT_VERSION: ProtocolVersion = ProtocolVersion(1);

/// The protocol's name on the network.
pub const CONTACT_PROTOCOL: &str = "/tallymesh/contact/1";

/// The largest request or response: a card with every device and address
/// the card rules allow fits with room to spare.
pub const MAX_MESSAGE_BYTES: usize = 32 * 1024;

/// The longest refusal message kept, in characters.
pub const MAX_REFUSAL_CHARS: usize = 256;

const REDEEM: &str = "contact/redeem";
const EXCHANGE: &str = "contact/exchange";
const ACCEPTED: &str = "contact/accepted";
const REFUSED: &str = "contact/refused";

/// What a node asks of another party's device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContactRequest {
    /// `contact/redeem`: "here is my card; this invite of yours lets me in".
    Redeem {
        /// The invite's token, from the inviter's card.
        token: [u8; 16],
        /// The sender's signed card.
        card: Vec<u8>,
    },
    /// `contact/exchange`: a newer card, between parties who are contacts.
    Exchange {
        /// The sender's signed card.
        card: Vec<u8>,
    },
}

/// The answer to a [`ContactRequest`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContactResponse {
    /// `contact/accepted`: the sender's card was kept; here is mine.
    Accepted {
        /// The answering party's signed card.
        card: Vec<u8>,
    },
    /// `contact/refused`: nothing was kept.
    Refused {
        /// Why, for the program.
        reason: Refusal,
        /// Why, for people (at most [`MAX_REFUSAL_CHARS`]).
        message: String,
    },
}

/// Why a request was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The invite is not one this party made.
    UnknownInvite,
    /// The invite's time has passed.
    InviteExpired,
    /// A one-time invite that was redeemed already.
    InviteUsed,
    /// The party withdrew the invite.
    InviteRevoked,
    /// The card does not verify, or breaks a card rule.
    BadCard,
    /// The card does not certify the device that sent it.
    WrongDevice,
    /// An exchange from a party that is not a contact.
    NotAContact,
    /// The node cannot answer now (no identity, shutting down).
    Unavailable,
    /// The request speaks a version of the protocol this node does not.
    UnsupportedVersion,
    /// A reason of a newer version of the protocol.
    Other(u64),
}

impl Refusal {
    fn code(self) -> u64 {
        match self {
            Refusal::UnknownInvite => 0,
            Refusal::InviteExpired => 1,
            Refusal::InviteUsed => 2,
            Refusal::InviteRevoked => 3,
            Refusal::BadCard => 4,
            Refusal::WrongDevice => 5,
            Refusal::NotAContact => 6,
            Refusal::Unavailable => 7,
            Refusal::UnsupportedVersion => 8,
            Refusal::Other(code) => code,
        }
    }

    fn from_code(code: u64) -> Refusal {
        match code {
            0 => Refusal::UnknownInvite,
            1 => Refusal::InviteExpired,
            2 => Refusal::InviteUsed,
            3 => Refusal::InviteRevoked,
            4 => Refusal::BadCard,
            5 => Refusal::WrongDevice,
            6 => Refusal::NotAContact,
            7 => Refusal::Unavailable,
            8 => Refusal::UnsupportedVersion,
            other => Refusal::Other(other),
        }
    }
}

/// Why received bytes were refused. Nothing is changed by a refusal.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ContactMessageError {
    /// The envelope was too large, malformed or of another version.
    #[error(transparent)]
    Envelope(#[from] EnvelopeError),
    /// A kind this protocol does not have (or a response kind where a
    /// request belongs, and the reverse).
    #[error("unknown contact message kind {0:?}")]
    UnknownKind(String),
    /// The body is not what its kind says.
    #[error("malformed contact message: {0}")]
    Body(#[from] RecordError),
}

impl ContactMessageError {
    /// Whether the message was refused for speaking another version of
    /// the protocol (the answer is then [`Refusal::UnsupportedVersion`]).
    pub fn is_other_version(&self) -> bool {
        matches!(self, ContactMessageError::Envelope(EnvelopeError::Version(_)))
    }
}

/// The limits a node applies to received contact messages.
pub fn limits() -> Limits {
    Limits {
        max_frame_bytes: MAX_MESSAGE_BYTES,
    }
}

fn body_of(bytes: &[u8], limits: &Limits) -> Result<(String, Value), ContactMessageError> {
    let envelope = Envelope::decode(bytes, limits, &[CONTACT_VERSION])?;
    let value = cbor::decode(&envelope.body).map_err(RecordError::from)?;
    Ok((envelope.kind, value))
}

fn seal(kind: &str, body: &Value) -> Vec<u8> {
    Envelope::new(CONTACT_VERSION, kind, cbor::encode(body)).encode()
}

impl ContactRequest {
    /// The envelope bytes of the request.
    pub fn encode(&self) -> Vec<u8> {
        match self {
            ContactRequest::Redeem { token, card } => seal(
                REDEEM,
                &Value::map([(0, Value::Bytes(token.to_vec())), (1, Value::Bytes(card.clone()))]),
            ),
            ContactRequest::Exchange { card } => seal(EXCHANGE, &Value::map([(1, Value::Bytes(card.clone()))])),
        }
    }

    /// Reads a request from untrusted bytes. The card inside is not
    /// verified here.
    pub fn decode(bytes: &[u8], limits: &Limits) -> Result<ContactRequest, ContactMessageError> {
        let (kind, value) = body_of(bytes, limits)?;
        let f = Fields::named("contact request", &value)?;
        match kind.as_str() {
            REDEEM => {
                let token = f
                    .bytes(0)?
                    .try_into()
                    .map_err(|_| RecordError::Invalid("an invite token is 16 bytes".into()))?;
                Ok(ContactRequest::Redeem {
                    token,
                    card: f.bytes(1)?.to_vec(),
                })
            }
            EXCHANGE => Ok(ContactRequest::Exchange {
                card: f.bytes(1)?.to_vec(),
            }),
            _ => Err(ContactMessageError::UnknownKind(kind)),
        }
    }
}

impl ContactResponse {
    /// A refusal, its message cut to [`MAX_REFUSAL_CHARS`].
    pub fn refused(reason: Refusal, message: &str) -> ContactResponse {
        ContactResponse::Refused {
            reason,
            message: message.chars().take(MAX_REFUSAL_CHARS).collect(),
        }
    }

    /// The envelope bytes of the response.
    pub fn encode(&self) -> Vec<u8> {
        match self {
            ContactResponse::Accepted { card } => seal(ACCEPTED, &Value::map([(1, Value::Bytes(card.clone()))])),
            ContactResponse::Refused { reason, message } => seal(
                REFUSED,
                &Value::map([(0, Value::Uint(reason.code())), (1, Value::Text(message.clone()))]),
            ),
        }
    }

    /// Reads a response from untrusted bytes.
    pub fn decode(bytes: &[u8], limits: &Limits) -> Result<ContactResponse, ContactMessageError> {
        let (kind, value) = body_of(bytes, limits)?;
        let f = Fields::named("contact response", &value)?;
        match kind.as_str() {
            ACCEPTED => Ok(ContactResponse::Accepted {
                card: f.bytes(1)?.to_vec(),
            }),
            REFUSED => Ok(ContactResponse::refused(Refusal::from_code(f.uint(0)?), f.text(1)?)),
            _ => Err(ContactMessageError::UnknownKind(kind)),
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn all_reasons() -> [Refusal; 10] {
        [
            Refusal::UnknownInvite,
            Refusal::InviteExpired,
            Refusal::InviteUsed,
            Refusal::InviteRevoked,
            Refusal::BadCard,
            Refusal::WrongDevice,
            Refusal::NotAContact,
            Refusal::Unavailable,
            Refusal::UnsupportedVersion,
            Refusal::Other(99),
        ]
    }

    #[test]
    fn every_refusal_reason_survives_the_wire() {
        for reason in all_reasons() {
            let response = ContactResponse::refused(reason, "no");
            assert_eq!(
                ContactResponse::decode(&response.encode(), &limits()).unwrap(),
                response
            );
        }
    }

    #[test]
    fn a_refusal_message_is_cut_to_its_limit() {
        let long = "é".repeat(MAX_REFUSAL_CHARS * 2);
        let ContactResponse::Refused { message, .. } = ContactResponse::refused(Refusal::BadCard, &long) else {
            unreachable!()
        };
        assert_eq!(message.chars().count(), MAX_REFUSAL_CHARS);
    }

    #[test]
    fn a_request_is_not_read_as_a_response_nor_the_reverse() {
        let request = ContactRequest::Exchange { card: vec![1] }.encode();
        assert!(matches!(
            ContactResponse::decode(&request, &limits()),
            Err(ContactMessageError::UnknownKind(kind)) if kind == EXCHANGE
        ));
        let response = ContactResponse::Accepted { card: vec![1] }.encode();
        assert!(matches!(
            ContactRequest::decode(&response, &limits()),
            Err(ContactMessageError::UnknownKind(_))
        ));
    }

    #[test]
    fn oversized_and_other_version_messages_are_refused_before_decoding() {
        let big = ContactRequest::Exchange {
            card: vec![0; MAX_MESSAGE_BYTES],
        }
        .encode();
        assert!(matches!(
            ContactRequest::decode(&big, &limits()),
            Err(ContactMessageError::Envelope(EnvelopeError::TooLarge { .. }))
        ));
        let future = Envelope::new(ProtocolVersion(2), REDEEM, vec![0xa0]).encode();
        let refused = ContactRequest::decode(&future, &limits()).unwrap_err();
        assert!(refused.is_other_version(), "{refused}");
        assert!(
            !ContactRequest::decode(b"junk", &limits())
                .unwrap_err()
                .is_other_version()
        );
    }

    #[test]
    fn a_token_of_the_wrong_length_is_refused() {
        let body = Value::map([(0, Value::Bytes(vec![1; 15])), (1, Value::Bytes(vec![2]))]);
        let bytes = seal(REDEEM, &body);
        assert!(matches!(
            ContactRequest::decode(&bytes, &limits()),
            Err(ContactMessageError::Body(_))
        ));
    }

    proptest! {
        #[test]
        fn requests_round_trip(token in any::<[u8; 16]>(), card in proptest::collection::vec(any::<u8>(), 0..2048), redeem in any::<bool>()) {
            let request = if redeem { ContactRequest::Redeem { token, card } } else { ContactRequest::Exchange { card } };
            prop_assert_eq!(ContactRequest::decode(&request.encode(), &limits()).unwrap(), request);
        }

        #[test]
        fn responses_round_trip(card in proptest::collection::vec(any::<u8>(), 0..2048)) {
            let response = ContactResponse::Accepted { card };
            prop_assert_eq!(ContactResponse::decode(&response.encode(), &limits()).unwrap(), response);
        }

        #[test]
        fn any_bytes_are_refused_or_read_without_panicking(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = ContactRequest::decode(&bytes, &limits());
            let _ = ContactResponse::decode(&bytes, &limits());
        }

        #[test]
        fn a_cut_or_flipped_request_never_panics(cut in 0usize..64, flip in 0usize..64, bit in 0u8..8) {
            let mut bytes = ContactRequest::Redeem { token: [3; 16], card: vec![9; 40] }.encode();
            let flip = flip % bytes.len();
            bytes[flip] ^= 1 << bit;
            bytes.truncate(bytes.len().saturating_sub(cut));
            let _ = ContactRequest::decode(&bytes, &limits());
        }
    }
}
