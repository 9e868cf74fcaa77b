//! The messages of protocol `tally` v1, each in an envelope: the three
//! steps of the negotiation (each one signed record, or two), the text of a
//! contract an offer names by its hash, and the notice that tells the nodes
//! of an open tally about each other ([`NodesNotice`]).

use tallymesh_core::cbor::{self, Value};
use tallymesh_core::record::{Fields, RecordError, Signed};
use tallymesh_core::tally::{OpenTally, Refusal, Tally};
use tallymesh_core::tally_network::TallyId;
use tallymesh_core::{Digest, ProtocolVersion, PublicKey};
use thiserror::Error;

use crate::{Envelope, EnvelopeError, Limits};

/// The tally protocol version this code speaks.
pub const TALLY_PROTOCOL_VERSION: ProtocolVersion = ProtocolVersion(1);

/// The protocol's name on the network.
pub const TALLY_PROTOCOL: &str = "/tallymesh/tally/1";

/// The largest message: an open tally is two signed tallies, each with up
/// to 32 nodes a side and a memo; this leaves room to spare.
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024;

/// The longest contract text an offer may carry, in bytes (UTF-8).
pub const MAX_CONTRACT_TEXT_BYTES: usize = 32 * 1024;

/// The most nodes a [`NodesNotice`] gives addresses for (32 a side).
pub const MAX_NOTICE_NODES: usize = 64;

/// The most addresses a [`NodesNotice`] gives for one node.
pub const MAX_NODE_ADDRESSES: usize = 8;

/// The longest address in a [`NodesNotice`], in bytes.
pub const MAX_NODE_ADDRESS_BYTES: usize = 256;

const OFFER: &str = "tally/offer";
const ACCEPT: &str = "tally/accept";
const REFUSE: &str = "tally/refuse";
const CONTRACT: &str = "tally/contract";
const NODES: &str = "tally/nodes";
const NODES_TAKEN: &str = "tally/nodes-taken";

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
    /// `tally/contract`: the text of a contract a revision names by its
    /// hash. Not signed: its SHA-256 must equal the hash the signed
    /// revision holds. It changes no negotiation.
    Contract(ContractText),
}

/// The text of a contract, for the tally whose revisions name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContractText {
    /// The tally.
    pub tally: TallyId,
    /// The text, at most [`MAX_CONTRACT_TEXT_BYTES`] bytes.
    pub text: String,
}

impl ContractText {
    /// The SHA-256 of the text: what a revision's contract must name.
    pub fn hash(&self) -> Digest {
        Digest::of(self.text.as_bytes())
    }

    fn to_bytes(&self) -> Vec<u8> {
        cbor::encode(&Value::map([
            (0, Value::Bytes(self.tally.0.to_vec())),
            (1, Value::Text(self.text.clone())),
        ]))
    }

    fn from_bytes(bytes: &[u8]) -> Result<ContractText, RecordError> {
        let value = cbor::decode(bytes)?;
        let f = Fields::named("tally-contract", &value)?;
        let tally = TallyId::from_bytes(f.bytes(0)?).ok_or(RecordError::Field {
            kind: "tally-contract",
            field: 0,
            problem: "not a tally id",
        })?;
        let text = f.text(1)?;
        if text.len() > MAX_CONTRACT_TEXT_BYTES {
            return Err(RecordError::Invalid(format!(
                "a contract text has at most {MAX_CONTRACT_TEXT_BYTES} bytes"
            )));
        }
        Ok(ContractText {
            tally,
            text: text.to_owned(),
        })
    }
}

/// Where the nodes of a tally network listen, as one of them knows it: for
/// each node key, its addresses (multiaddr text, each ending in the node's
/// `/p2p/` peer id).
pub type NodeAddresses = Vec<(PublicKey, Vec<String>)>;

/// `tally/nodes`: an open tally and where its nodes listen, sent by a node
/// of the tally network to another. It is how a device of a party that did
/// not negotiate the tally (a member device the party named) learns that it
/// keeps the tally's ledger, and how nodes that never met find each other.
/// The open tally proves itself (both parties signed it); the addresses are
/// only hints, checked by dialling them.
#[derive(Debug, Clone, PartialEq)]
pub struct NodesNotice {
    /// The open tally, as both parties signed it.
    pub open: OpenTally,
    /// Where its nodes listen, as the sender knows it.
    pub addresses: NodeAddresses,
}

/// A request on `/tallymesh/tally/1`: a negotiation message, or a notice to
/// the nodes of an open tally.
// Few of these live at a time; boxing would only add indirection.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum TallyRequest {
    /// A negotiation message (or a contract text) for the party.
    Message(TallyMessage),
    /// An open tally's nodes, for a node of its network.
    Nodes(NodesNotice),
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
            TallyMessage::Contract(contract) => contract.tally,
        }
    }

    /// The envelope bytes.
    pub fn encode(&self) -> Vec<u8> {
        let (kind, body) = match self {
            TallyMessage::Offer(offer) => (OFFER, offer.bytes().to_vec()),
            TallyMessage::Accept(open) => (ACCEPT, open.bytes().to_vec()),
            TallyMessage::Refuse(refusal) => (REFUSE, refusal.bytes().to_vec()),
            TallyMessage::Contract(contract) => (CONTRACT, contract.to_bytes()),
        };
        Envelope::new(TALLY_PROTOCOL_VERSION, kind, body).encode()
    }

    /// Reads a message from untrusted bytes, verifying every signature in it.
    pub fn decode(bytes: &[u8], limits: &Limits) -> Result<TallyMessage, TallyMessageError> {
        match TallyRequest::decode(bytes, limits)? {
            TallyRequest::Message(message) => Ok(message),
            TallyRequest::Nodes(_) => Err(TallyMessageError::UnknownKind(NODES.to_owned())),
        }
    }
}

impl TallyRequest {
    /// The envelope bytes.
    pub fn encode(&self) -> Vec<u8> {
        match self {
            TallyRequest::Message(message) => message.encode(),
            TallyRequest::Nodes(notice) => {
                let body = cbor::encode(&Value::map([
                    (0, Value::Bytes(notice.open.bytes().to_vec())),
                    (1, addresses_value(&notice.addresses)),
                ]));
                Envelope::new(TALLY_PROTOCOL_VERSION, NODES, body).encode()
            }
        }
    }

    /// Reads a request from untrusted bytes, verifying every signature in it.
    pub fn decode(bytes: &[u8], limits: &Limits) -> Result<TallyRequest, TallyMessageError> {
        let envelope = Envelope::decode(bytes, limits, &[TALLY_PROTOCOL_VERSION])?;
        let message = match envelope.kind.as_str() {
            OFFER => TallyMessage::Offer(Signed::from_bytes(&envelope.body)?),
            ACCEPT => TallyMessage::Accept(OpenTally::from_bytes(&envelope.body)?),
            REFUSE => TallyMessage::Refuse(Signed::from_bytes(&envelope.body)?),
            CONTRACT => TallyMessage::Contract(ContractText::from_bytes(&envelope.body)?),
            NODES => {
                let value = cbor::decode(&envelope.body).map_err(RecordError::from)?;
                let f = Fields::named("tally-nodes", &value)?;
                let open = OpenTally::from_bytes(f.bytes(0)?)?;
                let addresses = addresses_of(f.required(1)?)?;
                return Ok(TallyRequest::Nodes(NodesNotice { open, addresses }));
            }
            _ => return Err(TallyMessageError::UnknownKind(envelope.kind.chars().take(40).collect())),
        };
        Ok(TallyRequest::Message(message))
    }
}

/// The answer to a [`NodesNotice`] that was taken: where the nodes of the
/// tally listen, as the node that answers knows it (`tally/nodes-taken`).
pub fn encode_nodes_taken(addresses: &NodeAddresses) -> Vec<u8> {
    let body = cbor::encode(&Value::map([(0, addresses_value(addresses))]));
    Envelope::new(TALLY_PROTOCOL_VERSION, NODES_TAKEN, body).encode()
}

/// Reads a `tally/nodes-taken` answer; `None` for anything else.
pub fn decode_nodes_taken(bytes: &[u8], limits: &Limits) -> Option<NodeAddresses> {
    let envelope = Envelope::decode(bytes, limits, &[TALLY_PROTOCOL_VERSION]).ok()?;
    if envelope.kind != NODES_TAKEN {
        return None;
    }
    let value = cbor::decode(&envelope.body).ok()?;
    addresses_of(Fields::of(&value).ok()?.required(0).ok()?).ok()
}

fn addresses_value(addresses: &NodeAddresses) -> Value {
    Value::Array(
        addresses
            .iter()
            .map(|(node, list)| {
                Value::Array(vec![
                    Value::Bytes(node.as_bytes().to_vec()),
                    Value::Array(list.iter().map(|a| Value::Text(a.clone())).collect()),
                ])
            })
            .collect(),
    )
}

fn addresses_of(value: &Value) -> Result<NodeAddresses, RecordError> {
    let bad = |problem: &'static str| RecordError::Field {
        kind: "tally-nodes",
        field: 1,
        problem,
    };
    let Value::Array(entries) = value else {
        return Err(bad("not an array"));
    };
    if entries.len() > MAX_NOTICE_NODES {
        return Err(bad("too many nodes"));
    }
    let mut out = Vec::with_capacity(entries.len());
    for entry in entries {
        let Value::Array(pair) = entry else {
            return Err(bad("an entry is not [node key, addresses]"));
        };
        let [Value::Bytes(key), Value::Array(list)] = pair.as_slice() else {
            return Err(bad("an entry is not [node key, addresses]"));
        };
        let node = PublicKey::from_bytes(key).map_err(|_| bad("not a node key"))?;
        if list.len() > MAX_NODE_ADDRESSES {
            return Err(bad("too many addresses for one node"));
        }
        let mut addresses = Vec::with_capacity(list.len());
        for address in list {
            match address {
                Value::Text(text) if text.len() <= MAX_NODE_ADDRESS_BYTES => addresses.push(text.clone()),
                _ => return Err(bad("an address is not text of at most 256 bytes")),
            }
        }
        out.push((node, addresses));
    }
    Ok(out)
}
