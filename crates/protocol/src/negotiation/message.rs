//! The three messages of the negotiation, each one signed record (or two)
//! in an envelope.

use tallymesh_core::ProtocolVersion;
use tallymesh_core::record::{RecordError, Signed};
use tallymesh_core::tally::{OpenTally, Refusal, Tally};
use tallymesh_core::tally_network::TallyId;
use thiserror::Error;

use crate::{Envelope, EnvelopeError, Limits};

/// The tally protocol version this code speaks.
pub const TALLY_PROTOCOL_VERSION: ProtocolVersion = ProtocolVersion(1);

/// The protocol's name on the network.
pub const TALLY_PROTOCOL: &str = "/tallymesh/tally/1";

/// The largest message: an open tally is two signed tallies, each with up
/// to 32 nodes a side and a memo; this leaves room to spare.
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024;

const OFFER: &str = "tally/offer";
const ACCEPT: &str = "tally/accept";
const REFUSE: &str = "tally/refuse";

/// A negotiation message. The body of each is the signed bytes as made.
// Few of these live at a time; boxing would only add indirection.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum TallyMessage {
    /// `tally/offer`: a revision signed by the party offering it (a first
    /// offer or a counter).
    Offer(Signed<Tally>),
    /// `tally/accept`: both parties' signatures over one revision.
    Accept(OpenTally),
    /// `tally/refuse`: a party refuses (or withdraws) a revision.
    Refuse(Signed<Refusal>),
}

/// Why bytes are not a negotiation message.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TallyMessageError {
    /// The envelope was too large, malformed or of another version.
    #[error(transparent)]
    Envelope(#[from] EnvelopeError),
    /// A kind this protocol does not have.
    #[error("unknown tally message kind {0:?}")]
    UnknownKind(String),
    /// The signed record inside does not verify or decode.
    #[error("malformed tally message: {0}")]
    Record(#[from] RecordError),
}

/// The limits a node applies to received negotiation messages.
pub fn limits() -> Limits {
    Limits {
        max_frame_bytes: MAX_MESSAGE_BYTES,
    }
}

impl TallyMessage {
    /// The tally the message is about.
    pub fn tally(&self) -> TallyId {
        match self {
            TallyMessage::Offer(offer) => offer.record().id,
            TallyMessage::Accept(open) => open.tally().id,
            TallyMessage::Refuse(refusal) => refusal.record().tally,
        }
    }

    /// The envelope bytes.
    pub fn encode(&self) -> Vec<u8> {
        let (kind, body) = match self {
            TallyMessage::Offer(offer) => (OFFER, offer.bytes()),
            TallyMessage::Accept(open) => (ACCEPT, open.bytes()),
            TallyMessage::Refuse(refusal) => (REFUSE, refusal.bytes()),
        };
        Envelope::new(TALLY_PROTOCOL_VERSION, kind, body.to_vec()).encode()
    }

    /// Reads a message from untrusted bytes, verifying every signature in it.
    pub fn decode(bytes: &[u8], limits: &Limits) -> Result<TallyMessage, TallyMessageError> {
        let envelope = Envelope::decode(bytes, limits, &[TALLY_PROTOCOL_VERSION])?;
        match envelope.kind.as_str() {
            OFFER => Ok(TallyMessage::Offer(Signed::from_bytes(&envelope.body)?)),
            ACCEPT => Ok(TallyMessage::Accept(OpenTally::from_bytes(&envelope.body)?)),
            REFUSE => Ok(TallyMessage::Refuse(Signed::from_bytes(&envelope.body)?)),
            _ => Err(TallyMessageError::UnknownKind(envelope.kind.chars().take(40).collect())),
        }
    }
}
