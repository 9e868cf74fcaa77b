//! Enrolling a device in a party's cadre, protocol `cadre` v1
//! (`/tallymesh/cadre/1`).
//!
//! The party's main device (the one holding the party secret) makes an
//! enrollment link: its signed card, carrying a one-time token. A fresh
//! node with no identity reads the link, connects to one of the devices
//! the card certifies and sends a [`CadreRequest::Join`]: the token, the
//! name it wants to be known by, what kind of device it is and its chat
//! identity key. The main device checks the token (known, not expired, not
//! used), signs a device certificate naming the peer id of the connection
//! the request came on (and the chat key), keeps it, and answers
//! [`CadreResponse::Joined`] with the certificate and the party's card that
//! now lists the new device. The joining node then acts for the party as
//! one of its devices; the party secret never leaves the main device.
//!
//! This module only encodes and decodes; deciding is the node's business.
//! Certificates and cards stay the bytes their party signed.
//!
//! ```
//! use tallymesh_protocol::cadre::{CadreRequest, DeviceKind, limits};
//!
//! let request = CadreRequest::Join {
//!     token: [7; 16],
//!     name: "Home server".into(),
//!     kind: Some(DeviceKind::Headless),
//!     chat_key: None,
//! };
//! assert_eq!(CadreRequest::decode(&request.encode(), &limits()).unwrap(), request);
//! ```

use tallymesh_core::ProtocolVersion;
use tallymesh_core::cbor::{self, Value};
use tallymesh_core::device::MAX_DEVICE_NAME;
use tallymesh_core::record::{Fields, RecordError};
use thiserror::Error;

use crate::{Envelope, EnvelopeError, Limits};

/// The cadre protocol version this code speaks.
pub const CADRE_VERSION: ProtocolVersion = ProtocolVersion(1);

/// The protocol's name on the network.
pub const CADRE_PROTOCOL: &str = "/tallymesh/cadre/1";

/// The largest request or response: a certificate and a card with every
/// device and address the card rules allow fit with room to spare.
pub const MAX_MESSAGE_BYTES: usize = 32 * 1024;

/// The longest refusal message kept, in characters.
pub const MAX_REFUSAL_CHARS: usize = 256;

const JOIN: &str = "cadre/join";
const JOINED: &str = "cadre/joined";
const REFUSED: &str = "cadre/refused";
const CARD: &str = "cadre/card";
const CARD_TAKEN: &str = "cadre/card-taken";

/// What a joining device asks of the party's main device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CadreRequest {
    /// `cadre/join`: "this enrollment token lets me in; call me this".
    Join {
        /// The enrollment token, from the enrollment link's card.
        token: [u8; 16],
        /// The name the device wants on its certificate (1 to 64
        /// characters).
        name: String,
        /// What kind of device asks: the desktop app or a headless node.
        /// `None` when the request does not say (a node of an older v1)
        /// or names a kind this version does not know.
        kind: Option<DeviceKind>,
        /// The device's chat identity key (Curve25519), for its certificate
        /// to carry; none on a device that keeps mail only.
        chat_key: Option<[u8; 32]>,
    },
    /// `cadre/card`: "here is the party's current card" — sent by the main
    /// device to its enrolled devices after an enrollment or a revocation,
    /// and when one of them connects. The card is the bytes the party
    /// signed; the receiver checks it and keeps it only when it is newer.
    Card {
        /// The party's signed card, as signed.
        card: Vec<u8>,
    },
}

/// What kind of device joins a cadre, as it says itself. It decides
/// nothing; the main device keeps it so its window can tell the party's
/// devices apart (an always-on headless node from a second laptop).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceKind {
    /// The desktop app, with a window.
    Desktop,
    /// A headless node (`tallymesh node run`), usually always on.
    Headless,
}

impl DeviceKind {
    fn code(self) -> u64 {
        match self {
            DeviceKind::Desktop => 0,
            DeviceKind::Headless => 1,
        }
    }

    fn from_code(code: u64) -> Option<DeviceKind> {
        match code {
            0 => Some(DeviceKind::Desktop),
            1 => Some(DeviceKind::Headless),
            _ => None,
        }
    }
}

/// The answer to a [`CadreRequest`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CadreResponse {
    /// `cadre/joined`: the device is enrolled.
    Joined {
        /// The device certificate the party signed, as signed.
        certificate: Vec<u8>,
        /// The party's current signed card, as signed.
        card: Vec<u8>,
    },
    /// `cadre/card-taken`: the card checked out.
    CardTaken {
        /// Whether it was newer than the card kept, and replaced it.
        newer: bool,
        /// Whether the card lists the device that answers (`false`: it was
        /// revoked).
        listed: bool,
    },
    /// `cadre/refused`: nothing was kept.
    Refused {
        /// Why, for the program.
        reason: CadreRefusal,
        /// Why, for people (at most [`MAX_REFUSAL_CHARS`]).
        message: String,
    },
}

/// Why a join was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CadreRefusal {
    /// The token is not one this device made.
    UnknownToken,
    /// The token's time has passed.
    TokenExpired,
    /// The token enrolled a device already.
    TokenUsed,
    /// The request does not read, or the name breaks a rule.
    BadRequest,
    /// The device asked is not the party's main device (it holds no party
    /// secret to sign with).
    NotTheMainDevice,
    /// The party's card already lists as many devices as a card may.
    CadreFull,
    /// The device cannot answer now.
    Unavailable,
    /// A `cadre/card` reached a device that is not a member of that party.
    NotAMember,
    /// The request speaks a version of the protocol this device does not.
    UnsupportedVersion,
    /// A reason of a newer version of the protocol.
    Other(u64),
}

impl CadreRefusal {
    fn code(self) -> u64 {
        match self {
            CadreRefusal::UnknownToken => 0,
            CadreRefusal::TokenExpired => 1,
            CadreRefusal::TokenUsed => 2,
            CadreRefusal::BadRequest => 3,
            CadreRefusal::NotTheMainDevice => 4,
            CadreRefusal::CadreFull => 5,
            CadreRefusal::Unavailable => 6,
            CadreRefusal::NotAMember => 7,
            CadreRefusal::UnsupportedVersion => 8,
            CadreRefusal::Other(code) => code,
        }
    }

    fn from_code(code: u64) -> CadreRefusal {
        match code {
            0 => CadreRefusal::UnknownToken,
            1 => CadreRefusal::TokenExpired,
            2 => CadreRefusal::TokenUsed,
            3 => CadreRefusal::BadRequest,
            4 => CadreRefusal::NotTheMainDevice,
            5 => CadreRefusal::CadreFull,
            6 => CadreRefusal::Unavailable,
            7 => CadreRefusal::NotAMember,
            8 => CadreRefusal::UnsupportedVersion,
            other => CadreRefusal::Other(other),
        }
    }
}

/// Why received bytes were refused. Nothing is changed by a refusal.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CadreMessageError {
    /// The envelope was too large, malformed or of another version.
    #[error(transparent)]
    Envelope(#[from] EnvelopeError),
    /// A kind this protocol does not have (or a response kind where a
    /// request belongs, and the reverse).
    #[error("unknown cadre message kind {0:?}")]
    UnknownKind(String),
    /// The body is not what its kind says.
    #[error("malformed cadre message: {0}")]
    Body(#[from] RecordError),
}

impl CadreMessageError {
    /// Whether the message was refused for speaking another version of
    /// the protocol (the answer is then [`CadreRefusal::UnsupportedVersion`]).
    pub fn is_other_version(&self) -> bool {
        matches!(self, CadreMessageError::Envelope(EnvelopeError::Version(_)))
    }
}

/// The limits a node applies to received cadre messages.
pub fn limits() -> Limits {
    Limits {
        max_frame_bytes: MAX_MESSAGE_BYTES,
    }
}

fn body_of(bytes: &[u8], limits: &Limits) -> Result<(String, Value), CadreMessageError> {
    let envelope = Envelope::decode(bytes, limits, &[CADRE_VERSION])?;
    let value = cbor::decode(&envelope.body).map_err(RecordError::from)?;
    Ok((envelope.kind, value))
}

fn seal(kind: &str, body: &Value) -> Vec<u8> {
    Envelope::new(CADRE_VERSION, kind, cbor::encode(body)).encode()
}

impl CadreRequest {
    /// The envelope bytes of the request.
    pub fn encode(&self) -> Vec<u8> {
        match self {
            CadreRequest::Join {
                token,
                name,
                kind,
                chat_key,
            } => {
                let mut fields = vec![
                    (Value::Uint(0), Value::Bytes(token.to_vec())),
                    (Value::Uint(1), Value::Text(name.clone())),
                ];
                if let Some(kind) = kind {
                    fields.push((Value::Uint(2), Value::Uint(kind.code())));
                }
                if let Some(key) = chat_key {
                    fields.push((Value::Uint(3), Value::Bytes(key.to_vec())));
                }
                seal(JOIN, &Value::map_of(fields))
            }
            CadreRequest::Card { card } => seal(CARD, &Value::map([(0, Value::Bytes(card.clone()))])),
        }
    }

    /// Reads a request from untrusted bytes: the token is 16 bytes, the
    /// name 1 to 64 characters with no control characters; a device kind
    /// this version does not know reads as `None`; a chat identity key,
    /// when present, is 32 bytes.
    pub fn decode(bytes: &[u8], limits: &Limits) -> Result<CadreRequest, CadreMessageError> {
        let (kind, value) = body_of(bytes, limits)?;
        let f = Fields::named("cadre request", &value)?;
        match kind.as_str() {
            JOIN => {
                let token = f
                    .bytes(0)?
                    .try_into()
                    .map_err(|_| RecordError::Invalid("an enrollment token is 16 bytes".into()))?;
                let name = f.text(1)?;
                let chars = name.chars().count();
                if name.trim().is_empty() || chars > MAX_DEVICE_NAME || name.chars().any(char::is_control) {
                    return Err(RecordError::Invalid(format!(
                        "a device name has 1 to {MAX_DEVICE_NAME} characters and no control characters"
                    ))
                    .into());
                }
                let kind = f.opt_uint(2)?.and_then(DeviceKind::from_code);
                let chat_key = match f.opt_bytes(3)? {
                    Some(key) => Some(
                        key.try_into()
                            .map_err(|_| RecordError::Invalid("a chat identity key is 32 bytes".into()))?,
                    ),
                    None => None,
                };
                Ok(CadreRequest::Join {
                    token,
                    name: name.to_owned(),
                    kind,
                    chat_key,
                })
            }
            CARD => Ok(CadreRequest::Card {
                card: f.bytes(0)?.to_vec(),
            }),
            _ => Err(CadreMessageError::UnknownKind(kind)),
        }
    }
}

impl CadreResponse {
    /// A refusal, its message cut to [`MAX_REFUSAL_CHARS`].
    pub fn refused(reason: CadreRefusal, message: &str) -> CadreResponse {
        CadreResponse::Refused {
            reason,
            message: message.chars().take(MAX_REFUSAL_CHARS).collect(),
        }
    }

    /// The envelope bytes of the response.
    pub fn encode(&self) -> Vec<u8> {
        match self {
            CadreResponse::Joined { certificate, card } => seal(
                JOINED,
                &Value::map([(1, Value::Bytes(certificate.clone())), (2, Value::Bytes(card.clone()))]),
            ),
            CadreResponse::CardTaken { newer, listed } => seal(
                CARD_TAKEN,
                &Value::map([(0, Value::Bool(*newer)), (1, Value::Bool(*listed))]),
            ),
            CadreResponse::Refused { reason, message } => seal(
                REFUSED,
                &Value::map([(0, Value::Uint(reason.code())), (1, Value::Text(message.clone()))]),
            ),
        }
    }

    /// Reads a response from untrusted bytes. The certificate and card
    /// inside are not verified here.
    pub fn decode(bytes: &[u8], limits: &Limits) -> Result<CadreResponse, CadreMessageError> {
        let (kind, value) = body_of(bytes, limits)?;
        let f = Fields::named("cadre response", &value)?;
        match kind.as_str() {
            JOINED => Ok(CadreResponse::Joined {
                certificate: f.bytes(1)?.to_vec(),
                card: f.bytes(2)?.to_vec(),
            }),
            CARD_TAKEN => Ok(CadreResponse::CardTaken {
                newer: f.bool(0)?,
                listed: f.bool(1)?,
            }),
            REFUSED => Ok(CadreResponse::refused(CadreRefusal::from_code(f.uint(0)?), f.text(1)?)),
            _ => Err(CadreMessageError::UnknownKind(kind)),
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn all_reasons() -> [CadreRefusal; 10] {
        [
            CadreRefusal::UnknownToken,
            CadreRefusal::TokenExpired,
            CadreRefusal::TokenUsed,
            CadreRefusal::BadRequest,
            CadreRefusal::NotTheMainDevice,
            CadreRefusal::CadreFull,
            CadreRefusal::Unavailable,
            CadreRefusal::NotAMember,
            CadreRefusal::UnsupportedVersion,
            CadreRefusal::Other(99),
        ]
    }

    #[test]
    fn every_refusal_reason_survives_the_wire() {
        for reason in all_reasons() {
            let response = CadreResponse::refused(reason, "no");
            assert_eq!(CadreResponse::decode(&response.encode(), &limits()).unwrap(), response);
        }
    }

    #[test]
    fn a_card_push_and_its_answer_survive_the_wire() {
        let push = CadreRequest::Card { card: vec![0xa0, 1, 2] };
        assert_eq!(CadreRequest::decode(&push.encode(), &limits()).unwrap(), push);
        for (newer, listed) in [(true, true), (false, true), (true, false)] {
            let answer = CadreResponse::CardTaken { newer, listed };
            assert_eq!(CadreResponse::decode(&answer.encode(), &limits()).unwrap(), answer);
        }
        let big = CadreRequest::Card {
            card: vec![0; MAX_MESSAGE_BYTES],
        }
        .encode();
        assert!(matches!(
            CadreRequest::decode(&big, &limits()),
            Err(CadreMessageError::Envelope(EnvelopeError::TooLarge { .. }))
        ));
    }

    #[test]
    fn a_refusal_message_is_cut_to_its_limit() {
        let long = "é".repeat(MAX_REFUSAL_CHARS * 2);
        let CadreResponse::Refused { message, .. } = CadreResponse::refused(CadreRefusal::BadRequest, &long) else {
            unreachable!()
        };
        assert_eq!(message.chars().count(), MAX_REFUSAL_CHARS);
    }

    #[test]
    fn a_request_is_not_read_as_a_response_nor_the_reverse() {
        let request = CadreRequest::Join {
            token: [1; 16],
            name: "Box".into(),
            kind: None,
            chat_key: None,
        }
        .encode();
        assert!(matches!(
            CadreResponse::decode(&request, &limits()),
            Err(CadreMessageError::UnknownKind(kind)) if kind == JOIN
        ));
        let response = CadreResponse::Joined {
            certificate: vec![1],
            card: vec![2],
        }
        .encode();
        assert!(matches!(
            CadreRequest::decode(&response, &limits()),
            Err(CadreMessageError::UnknownKind(_))
        ));
    }

    #[test]
    fn a_contact_request_is_not_a_cadre_request() {
        let contact = crate::contact::ContactRequest::Redeem {
            token: [1; 16],
            card: vec![0xa0],
        }
        .encode();
        assert!(matches!(
            CadreRequest::decode(&contact, &limits()),
            Err(CadreMessageError::UnknownKind(_))
        ));
    }

    #[test]
    fn oversized_and_other_version_messages_are_refused_before_decoding() {
        let big = CadreResponse::Joined {
            certificate: vec![0; MAX_MESSAGE_BYTES],
            card: vec![],
        }
        .encode();
        assert!(matches!(
            CadreResponse::decode(&big, &limits()),
            Err(CadreMessageError::Envelope(EnvelopeError::TooLarge { .. }))
        ));
        let future = Envelope::new(ProtocolVersion(2), JOIN, vec![0xa0]).encode();
        let refused = CadreRequest::decode(&future, &limits()).unwrap_err();
        assert!(refused.is_other_version(), "{refused}");
        assert!(!CadreRequest::decode(b"junk", &limits()).unwrap_err().is_other_version());
    }

    #[test]
    fn a_join_that_names_no_kind_or_an_unknown_one_reads_as_not_known() {
        let bare = seal(
            JOIN,
            &Value::map([(0, Value::Bytes(vec![1; 16])), (1, Value::Text("Box".into()))]),
        );
        let newer = seal(
            JOIN,
            &Value::map([
                (0, Value::Bytes(vec![1; 16])),
                (1, Value::Text("Box".into())),
                (2, Value::Uint(7)),
            ]),
        );
        for bytes in [bare, newer] {
            assert_eq!(
                CadreRequest::decode(&bytes, &limits()).unwrap(),
                CadreRequest::Join {
                    token: [1; 16],
                    name: "Box".into(),
                    kind: None,
                    chat_key: None,
                }
            );
        }
        let headless = CadreRequest::Join {
            token: [1; 16],
            name: "Box".into(),
            kind: Some(DeviceKind::Headless),
            chat_key: None,
        };
        assert_eq!(CadreRequest::decode(&headless.encode(), &limits()).unwrap(), headless);
    }

    #[test]
    fn a_join_whose_kind_is_not_a_number_is_refused() {
        let bytes = seal(
            JOIN,
            &Value::map([
                (0, Value::Bytes(vec![1; 16])),
                (1, Value::Text("Box".into())),
                (2, Value::Text("headless".into())),
            ]),
        );
        assert!(matches!(
            CadreRequest::decode(&bytes, &limits()),
            Err(CadreMessageError::Body(_))
        ));
    }

    #[test]
    fn a_join_carries_its_kind_at_key_2_and_its_chat_key_at_key_3() {
        let request = CadreRequest::Join {
            token: [1; 16],
            name: "Laptop".into(),
            kind: Some(DeviceKind::Desktop),
            chat_key: Some([5; 32]),
        };
        let (_, body) = body_of(&request.encode(), &limits()).unwrap();
        let f = Fields::named("cadre request", &body).unwrap();
        assert_eq!(f.opt_uint(2).unwrap(), Some(0));
        assert_eq!(f.opt_bytes(3).unwrap(), Some(&[5u8; 32][..]));
        assert_eq!(CadreRequest::decode(&request.encode(), &limits()).unwrap(), request);
    }

    #[test]
    fn a_join_whose_chat_key_is_not_32_bytes_is_refused() {
        for key in [Value::Bytes(vec![5; 31]), Value::Bytes(vec![5; 33]), Value::Uint(5)] {
            let bytes = seal(
                JOIN,
                &Value::map([
                    (0, Value::Bytes(vec![1; 16])),
                    (1, Value::Text("Box".into())),
                    (3, key.clone()),
                ]),
            );
            assert!(
                matches!(CadreRequest::decode(&bytes, &limits()), Err(CadreMessageError::Body(_))),
                "{key:?}"
            );
        }
    }

    #[test]
    fn a_bad_token_or_name_is_refused() {
        let short = seal(
            JOIN,
            &Value::map([(0, Value::Bytes(vec![1; 15])), (1, Value::Text("Box".into()))]),
        );
        assert!(matches!(
            CadreRequest::decode(&short, &limits()),
            Err(CadreMessageError::Body(_))
        ));
        for name in ["", "   ", "a\nb", &"n".repeat(MAX_DEVICE_NAME + 1)] {
            let bytes = seal(
                JOIN,
                &Value::map([(0, Value::Bytes(vec![1; 16])), (1, Value::Text(name.into()))]),
            );
            assert!(
                matches!(CadreRequest::decode(&bytes, &limits()), Err(CadreMessageError::Body(_))),
                "{name:?}"
            );
        }
    }

    proptest! {
        #[test]
        fn requests_round_trip(
            token in any::<[u8; 16]>(),
            name in "[A-Za-z0-9][A-Za-z0-9 ]{0,63}",
            kind in proptest::option::of(prop_oneof![Just(DeviceKind::Desktop), Just(DeviceKind::Headless)]),
            chat_key in proptest::option::of(any::<[u8; 32]>()),
        ) {
            let request = CadreRequest::Join { token, name, kind, chat_key };
            prop_assert_eq!(CadreRequest::decode(&request.encode(), &limits()).unwrap(), request);
        }

        #[test]
        fn responses_round_trip(
            certificate in proptest::collection::vec(any::<u8>(), 0..1024),
            card in proptest::collection::vec(any::<u8>(), 0..2048),
        ) {
            let response = CadreResponse::Joined { certificate, card };
            prop_assert_eq!(CadreResponse::decode(&response.encode(), &limits()).unwrap(), response);
        }

        #[test]
        fn any_bytes_are_refused_or_read_without_panicking(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = CadreRequest::decode(&bytes, &limits());
            let _ = CadreResponse::decode(&bytes, &limits());
        }

        #[test]
        fn a_cut_or_flipped_message_never_panics(cut in 0usize..64, flip in 0usize..64, bit in 0u8..8) {
            let mut bytes = CadreResponse::Joined { certificate: vec![3; 40], card: vec![9; 40] }.encode();
            let flip = flip % bytes.len();
            bytes[flip] ^= 1 << bit;
            bytes.truncate(bytes.len().saturating_sub(cut));
            let _ = CadreRequest::decode(&bytes, &limits());
            let _ = CadreResponse::decode(&bytes, &limits());
        }
    }
}
