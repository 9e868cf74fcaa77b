//! Evidence: records of misbehaviour that anyone can check on their own.
//!
//! Evidence needs no signature of its own and no trust in whoever passes
//! it on: it carries the culprit's own signatures, and what ties the
//! culprit's node to a party (its device certificate, or the tally both
//! parties signed naming it). [`Evidence::verify`] checks all of it with
//! nothing but the bytes.
//!
//! ```
//! use tallymesh_core::record::Signed;
//! use tallymesh_core::tally_network::TallyId;
//! use tallymesh_core::trust::{Evidence, EvidenceKind};
//! use tallymesh_core::vote::{Step, Vote};
//! use tallymesh_core::{Digest, SecretKey};
//!
//! let node = SecretKey::from_seed(&[7; 32]);
//! let vote = Vote { tally: TallyId([1; 16]), height: 3, round: 0, step: Step::Prevote, block: Some(Digest([5; 32])) };
//! let first = Signed::sign(vote.clone(), &node);
//! let second = Signed::sign(Vote { block: None, ..vote }, &node);
//! let evidence = Evidence::new(EvidenceKind::DoubleSigned, first.bytes().to_vec(), second.bytes().to_vec(), None);
//! let finding = Evidence::from_bytes(evidence.bytes()).unwrap().verify().unwrap();
//! assert_eq!(finding.node, node.public());
//! assert_eq!(finding.party, None);
//! ```

use thiserror::Error;

use crate::cbor::{self, Value};
use crate::device::DeviceCertificate;
use crate::record::{Fields, Record, RecordError, Signed};
use crate::tally::OpenTally;
use crate::tally_network::TallyId;
use crate::vote::{Proposal, Step, Vote, is_double_vote};
use crate::{Digest, PartyId, PublicKey, Signature};

/// The version of the evidence encoding.
pub const EVIDENCE_VERSION: u64 = 1;

/// The largest evidence accepted, in bytes: it must fit one gossip message.
pub const MAX_EVIDENCE_BYTES: usize = 60 * 1024;

/// The record kind of a chat item's seal: the sending device's signature,
/// by its node key, over one item it sends (`tallymesh_protocol::chat`).
/// The only chat record that forged-certificate evidence accepts.
pub const CHAT_ITEM_SEAL_KIND: &str = "chat-item";

/// The field of a chat item seal's body that holds the id (SHA-256) of the
/// device certificate the item was sent under, which the seal's signature
/// thereby covers.
pub const CHAT_CERTIFICATE_FIELD: u64 = 1;

/// What kind of misbehaviour a piece of evidence proves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EvidenceKind {
    /// A node signed two different votes for one step of one round, or two
    /// different proposals for one round, of one tally's ledger.
    DoubleSigned,
    /// A device sent a chat item under a device certificate its party
    /// never signed.
    ForgedCertificate,
    /// A token was spent twice. Reserved: defined with the token exchange.
    DoubleSpentToken,
}

impl EvidenceKind {
    /// The kind's code on the wire.
    pub fn code(self) -> u64 {
        match self {
            EvidenceKind::DoubleSigned => 0,
            EvidenceKind::ForgedCertificate => 1,
            EvidenceKind::DoubleSpentToken => 2,
        }
    }

    /// The kind with `code`, if it is one.
    pub fn from_code(code: u64) -> Option<EvidenceKind> {
        match code {
            0 => Some(EvidenceKind::DoubleSigned),
            1 => Some(EvidenceKind::ForgedCertificate),
            2 => Some(EvidenceKind::DoubleSpentToken),
            _ => None,
        }
    }

    /// The kind's name, as the CLI and the UI write it.
    pub fn name(self) -> &'static str {
        match self {
            EvidenceKind::DoubleSigned => "double-signed",
            EvidenceKind::ForgedCertificate => "forged-certificate",
            EvidenceKind::DoubleSpentToken => "double-spent-token",
        }
    }
}

/// What ties the culprit's node to a party.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Binding {
    /// The node's device certificate, signed by its party.
    Device(Vec<u8>),
    /// The tally both parties signed (an open tally's bytes), whose id is
    /// the one the votes name and which lists the node among one party's
    /// nodes.
    Tally(Vec<u8>),
}

impl Binding {
    fn code(&self) -> u64 {
        match self {
            Binding::Device(_) => 0,
            Binding::Tally(_) => 1,
        }
    }

    fn bytes(&self) -> &[u8] {
        match self {
            Binding::Device(bytes) | Binding::Tally(bytes) => bytes,
        }
    }
}

/// A piece of evidence, as made or received.
///
/// CBOR (map, exactly these keys, 4 optional): 0 version (1), 1 kind
/// (0 double-signed, 1 forged certificate, 2 double-spent token), 2 first
/// record bytes, 3 second record bytes, 4 binding `[0 device certificate |
/// 1 open tally, bytes]`. For a double signature the two records are the
/// two signed votes (or proposals); for a forged certificate, the chat
/// item's seal ([`CHAT_ITEM_SEAL_KIND`]) and the certificate it names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evidence {
    kind: EvidenceKind,
    first: Vec<u8>,
    second: Vec<u8>,
    binding: Option<Binding>,
    bytes: Vec<u8>,
}

/// What verified evidence proves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// What kind of misbehaviour.
    pub kind: EvidenceKind,
    /// The node (device key) that misbehaved.
    pub node: PublicKey,
    /// The party answerable for that node, when the evidence binds it.
    pub party: Option<PartyId>,
    /// The tally it happened on, for a double signature.
    pub tally: Option<TallyId>,
    /// Names the offence: two pieces of evidence of one offence (the same
    /// double vote, shown with other bytes) have the same offence id.
    pub offence: Digest,
    /// What happened, in words.
    pub summary: String,
}

/// Why evidence was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum EvidenceError {
    /// Larger than [`MAX_EVIDENCE_BYTES`].
    #[error("evidence of {0} bytes is over the limit of {MAX_EVIDENCE_BYTES}")]
    TooLarge(usize),
    /// Not an evidence record.
    #[error("the evidence does not read: {0}")]
    Malformed(String),
    /// The records prove nothing: not two different records by one signer
    /// for one step, or a genuine certificate.
    #[error("the evidence proves nothing: {0}")]
    ProvesNothing(String),
    /// The binding does not tie the node to a party.
    #[error("the evidence names a party it cannot tie to the node: {0}")]
    BadBinding(String),
    /// A kind this version cannot check yet.
    #[error("{0} evidence cannot be checked by this version of Tallymesh")]
    Unsupported(&'static str),
}

impl From<RecordError> for EvidenceError {
    fn from(error: RecordError) -> Self {
        EvidenceError::Malformed(error.to_string())
    }
}

impl Evidence {
    /// Evidence of `kind` from two records and, optionally, what binds the
    /// culprit's node to its party.
    pub fn new(kind: EvidenceKind, first: Vec<u8>, second: Vec<u8>, binding: Option<Binding>) -> Evidence {
        let mut entries = vec![
            (Value::Uint(0), Value::Uint(EVIDENCE_VERSION)),
            (Value::Uint(1), Value::Uint(kind.code())),
            (Value::Uint(2), Value::Bytes(first.clone())),
            (Value::Uint(3), Value::Bytes(second.clone())),
        ];
        if let Some(binding) = &binding {
            entries.push((
                Value::Uint(4),
                Value::Array(vec![
                    Value::Uint(binding.code()),
                    Value::Bytes(binding.bytes().to_vec()),
                ]),
            ));
        }
        let bytes = cbor::encode(&Value::map_of(entries));
        Evidence {
            kind,
            first,
            second,
            binding,
            bytes,
        }
    }

    /// Reads evidence from untrusted bytes (size, shape and fields only;
    /// [`Evidence::verify`] checks what it proves).
    pub fn from_bytes(bytes: &[u8]) -> Result<Evidence, EvidenceError> {
        if bytes.len() > MAX_EVIDENCE_BYTES {
            return Err(EvidenceError::TooLarge(bytes.len()));
        }
        let value = cbor::decode(bytes).map_err(|e| EvidenceError::Malformed(e.to_string()))?;
        let f = Fields::named("evidence", &value)?;
        f.version(&[EVIDENCE_VERSION])?;
        crate::block::exact_keys(&value, 5, "evidence")?;
        let kind = EvidenceKind::from_code(f.uint(1)?)
            .ok_or_else(|| EvidenceError::Malformed("an unknown kind of evidence".into()))?;
        let binding = match f.optional(4) {
            None => None,
            Some(Value::Array(parts)) => match parts.as_slice() {
                [Value::Uint(0), Value::Bytes(bytes)] => Some(Binding::Device(bytes.clone())),
                [Value::Uint(1), Value::Bytes(bytes)] => Some(Binding::Tally(bytes.clone())),
                _ => return Err(EvidenceError::Malformed("an unknown binding".into())),
            },
            Some(_) => return Err(EvidenceError::Malformed("a binding is [kind, bytes]".into())),
        };
        Ok(Evidence {
            kind,
            first: f.bytes(2)?.to_vec(),
            second: f.bytes(3)?.to_vec(),
            binding,
            bytes: bytes.to_vec(),
        })
    }

    /// The evidence's bytes, as made or received.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The SHA-256 of its bytes.
    pub fn id(&self) -> Digest {
        Digest::of(&self.bytes)
    }

    /// What kind of misbehaviour it claims.
    pub fn kind(&self) -> EvidenceKind {
        self.kind
    }

    /// The binding it carries, if any.
    pub fn binding(&self) -> Option<&Binding> {
        self.binding.as_ref()
    }

    /// Checks what the evidence proves, with nothing but its bytes.
    pub fn verify(&self) -> Result<Finding, EvidenceError> {
        let mut finding = match self.kind {
            EvidenceKind::DoubleSigned => double_signed(&self.first, &self.second)?,
            EvidenceKind::ForgedCertificate => forged_certificate(&self.first, &self.second)?,
            EvidenceKind::DoubleSpentToken => return Err(EvidenceError::Unsupported("double-spent token")),
        };
        finding.party = match &self.binding {
            None => None,
            Some(Binding::Device(bytes)) => Some(bound_by_certificate(bytes, &finding.node)?),
            Some(Binding::Tally(bytes)) => Some(bound_by_tally(bytes, &finding.node, finding.tally)?),
        };
        Ok(finding)
    }
}

/// The id of an offence from its parts.
fn offence(parts: Vec<Value>) -> Digest {
    Digest::of(&cbor::encode(&Value::Array(parts)))
}

fn double_signed(first: &[u8], second: &[u8]) -> Result<Finding, EvidenceError> {
    if let (Ok(a), Ok(b)) = (Signed::<Vote>::from_bytes(first), Signed::<Vote>::from_bytes(second)) {
        if !is_double_vote(&a, &b) {
            return Err(EvidenceError::ProvesNothing(
                "the two votes are not different votes of one node for one step".into(),
            ));
        }
        let v = a.record();
        let step = match v.step {
            Step::Prevote => "prevotes",
            Step::Precommit => "precommits",
        };
        let step_code = match v.step {
            Step::Prevote => 0,
            Step::Precommit => 1,
        };
        return Ok(Finding {
            kind: EvidenceKind::DoubleSigned,
            node: *a.signer(),
            party: None,
            tally: Some(v.tally),
            offence: offence(vec![
                Value::Uint(EvidenceKind::DoubleSigned.code()),
                Value::Bytes(a.signer().as_bytes().to_vec()),
                Value::Bytes(v.tally.0.to_vec()),
                Value::Uint(v.height),
                Value::Uint(v.round),
                Value::Uint(step_code),
            ]),
            summary: format!(
                "signed two different {step} at height {}, round {} of one tally",
                v.height, v.round
            ),
        });
    }
    if let (Ok(a), Ok(b)) = (
        Signed::<Proposal>::from_bytes(first),
        Signed::<Proposal>::from_bytes(second),
    ) {
        let (x, y) = (a.record(), b.record());
        if a.signer() != b.signer() || x.tally != y.tally || x.height != y.height || x.round != y.round || x == y {
            return Err(EvidenceError::ProvesNothing(
                "the two proposals are not different proposals of one node for one round".into(),
            ));
        }
        return Ok(Finding {
            kind: EvidenceKind::DoubleSigned,
            node: *a.signer(),
            party: None,
            tally: Some(x.tally),
            offence: offence(vec![
                Value::Uint(EvidenceKind::DoubleSigned.code()),
                Value::Bytes(a.signer().as_bytes().to_vec()),
                Value::Bytes(x.tally.0.to_vec()),
                Value::Uint(x.height),
                Value::Uint(x.round),
                Value::Uint(2),
            ]),
            summary: format!(
                "proposed two different blocks at height {}, round {} of one tally",
                x.height, x.round
            ),
        });
    }
    Err(EvidenceError::ProvesNothing(
        "a double signature is two signed votes or two signed proposals".into(),
    ))
}

/// The four parts of a signed record, without knowing its kind.
struct RawSigned {
    kind: String,
    body: Vec<u8>,
    signer: Result<PublicKey, crate::KeyError>,
    signature: Result<Signature, crate::KeyError>,
}

fn raw_signed(bytes: &[u8], what: &str) -> Result<RawSigned, EvidenceError> {
    let malformed = || EvidenceError::Malformed(format!("the {what} is not a signed record"));
    if bytes.len() > crate::record::MAX_RECORD_BYTES {
        return Err(malformed());
    }
    let Ok(Value::Array(parts)) = cbor::decode(bytes) else {
        return Err(malformed());
    };
    let [
        Value::Text(kind),
        Value::Bytes(body),
        Value::Bytes(signer),
        Value::Bytes(signature),
    ] = parts.as_slice()
    else {
        return Err(malformed());
    };
    Ok(RawSigned {
        kind: kind.clone(),
        body: body.clone(),
        signer: PublicKey::from_bytes(signer),
        signature: Signature::from_bytes(signature),
    })
}

fn forged_certificate(seal: &[u8], certificate: &[u8]) -> Result<Finding, EvidenceError> {
    let msg = raw_signed(seal, "chat item seal")?;
    if msg.kind != CHAT_ITEM_SEAL_KIND {
        return Err(EvidenceError::ProvesNothing(
            "the first record is not a chat item's seal".into(),
        ));
    }
    let (Ok(device), Ok(signature)) = (msg.signer, msg.signature) else {
        return Err(EvidenceError::ProvesNothing(
            "the seal's signature does not read".into(),
        ));
    };
    device
        .verify(&msg.kind, &msg.body, &signature)
        .map_err(|_| EvidenceError::ProvesNothing("the seal is not signed by the device it names".into()))?;
    let body = cbor::decode(&msg.body).map_err(|e| EvidenceError::Malformed(e.to_string()))?;
    let certificate_id = Digest::of(certificate);
    if body.get(CHAT_CERTIFICATE_FIELD) != Some(&Value::Bytes(certificate_id.0.to_vec())) {
        return Err(EvidenceError::ProvesNothing(
            "the item was not sent under this certificate".into(),
        ));
    }
    let cert = raw_signed(certificate, "certificate")?;
    if cert.kind != DeviceCertificate::KIND {
        return Err(EvidenceError::ProvesNothing(
            "the certificate is not a device certificate".into(),
        ));
    }
    let claimed =
        DeviceCertificate::from_value(&cbor::decode(&cert.body).map_err(|e| EvidenceError::Malformed(e.to_string()))?)?;
    if !claimed.names_node(&device) {
        return Err(EvidenceError::ProvesNothing(
            "the certificate names another device than the seal's".into(),
        ));
    }
    let genuine = match (cert.signer, cert.signature) {
        (Ok(signer), Ok(signature)) => {
            signer == *claimed.party.key() && signer.verify(DeviceCertificate::KIND, &cert.body, &signature).is_ok()
        }
        _ => false,
    };
    if genuine {
        return Err(EvidenceError::ProvesNothing("the certificate is genuine".into()));
    }
    Ok(Finding {
        kind: EvidenceKind::ForgedCertificate,
        node: device,
        party: None,
        tally: None,
        offence: offence(vec![
            Value::Uint(EvidenceKind::ForgedCertificate.code()),
            Value::Bytes(device.as_bytes().to_vec()),
            Value::Bytes(certificate_id.0.to_vec()),
        ]),
        summary: format!(
            "sent a chat item under a device certificate {} never signed",
            claimed.party
        ),
    })
}

fn bound_by_certificate(bytes: &[u8], node: &PublicKey) -> Result<PartyId, EvidenceError> {
    let signed = Signed::<DeviceCertificate>::from_bytes(bytes)
        .map_err(|e| EvidenceError::BadBinding(format!("the device certificate: {e}")))?;
    let cert = signed.record();
    if signed.signer() != cert.party.key() {
        return Err(EvidenceError::BadBinding(
            "the device certificate is not signed by the party it names".into(),
        ));
    }
    if !cert.names_node(node) {
        return Err(EvidenceError::BadBinding(
            "the device certificate names another device".into(),
        ));
    }
    Ok(cert.party)
}

fn bound_by_tally(bytes: &[u8], node: &PublicKey, tally: Option<TallyId>) -> Result<PartyId, EvidenceError> {
    let open = OpenTally::from_bytes(bytes).map_err(|e| EvidenceError::BadBinding(format!("the tally: {e}")))?;
    let agreed = open.tally();
    if Some(agreed.id) != tally {
        return Err(EvidenceError::BadBinding(
            "the tally is not the one the votes name".into(),
        ));
    }
    [&agreed.stock, &agreed.foil]
        .into_iter()
        .find(|side| side.nodes.contains(node))
        .map(|side| PartyId::new(side.party))
        .ok_or_else(|| EvidenceError::BadBinding("the tally does not name the node".into()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::device::peer_id_bytes;
    use crate::tally::{Party, Tally, Terms};
    use crate::{SecretKey, Timestamp, Unit, Units};
    use proptest::prelude::*;

    fn key(seed: u8) -> SecretKey {
        SecretKey::from_seed(&[seed; 32])
    }

    fn vote(block: Option<[u8; 32]>) -> Vote {
        Vote {
            tally: TallyId([4; 16]),
            height: 7,
            round: 1,
            step: Step::Precommit,
            block: block.map(Digest),
        }
    }

    fn double_vote(node: &SecretKey, binding: Option<Binding>) -> Evidence {
        let a = Signed::sign(vote(Some([1; 32])), node);
        let b = Signed::sign(vote(None), node);
        Evidence::new(
            EvidenceKind::DoubleSigned,
            a.bytes().to_vec(),
            b.bytes().to_vec(),
            binding,
        )
    }

    fn certificate(party: &SecretKey, node: &SecretKey, signer: &SecretKey) -> Signed<DeviceCertificate> {
        Signed::sign(
            DeviceCertificate {
                party: PartyId::new(party.public()),
                peer_id: peer_id_bytes(&node.public()),
                name: "Home box".into(),
                issued_at: Timestamp::from_millis(1),
                chat_identity_key: None,
                expires_at: None,
            },
            signer,
        )
    }

    fn open_tally(stock: &SecretKey, foil: &SecretKey, stock_node: &SecretKey, foil_node: &SecretKey) -> OpenTally {
        let side = |party: &SecretKey, node: &SecretKey| Party {
            party: party.public(),
            terms: Terms {
                limit: Units::new(1_000),
                call: 30,
            },
            nodes: vec![node.public()],
        };
        let tally = Tally {
            revision: 1,
            id: TallyId([4; 16]),
            date: Timestamp::from_millis(1_000),
            expires: Timestamp::from_millis(2_000),
            memo: String::new(),
            unit: Unit::chip(),
            contract: None,
            stock: side(stock, stock_node),
            foil: side(foil, foil_node),
        };
        OpenTally::join(Signed::sign(tally.clone(), stock), Signed::sign(tally, foil)).unwrap()
    }

    #[test]
    fn a_double_vote_names_the_node_and_a_certificate_names_its_party() {
        let (party, node) = (key(1), key(2));
        let cert = certificate(&party, &node, &party);
        let evidence = double_vote(&node, Some(Binding::Device(cert.bytes().to_vec())));
        let read = Evidence::from_bytes(evidence.bytes()).unwrap();
        assert_eq!(read, evidence);
        let finding = read.verify().unwrap();
        assert_eq!(finding.kind, EvidenceKind::DoubleSigned);
        assert_eq!(finding.node, node.public());
        assert_eq!(finding.party, Some(PartyId::new(party.public())));
        assert_eq!(finding.tally, Some(TallyId([4; 16])));
        assert!(
            finding.summary.contains("precommits at height 7, round 1"),
            "{}",
            finding.summary
        );
    }

    #[test]
    fn the_same_offence_shown_twice_has_one_offence_id() {
        let node = key(2);
        let plain = double_vote(&node, None);
        let bound = double_vote(
            &node,
            Some(Binding::Device(certificate(&key(1), &node, &key(1)).bytes().to_vec())),
        );
        assert_ne!(plain.id(), bound.id());
        assert_eq!(plain.verify().unwrap().offence, bound.verify().unwrap().offence);
    }

    #[test]
    fn the_tally_both_parties_signed_names_the_party_of_the_node() {
        let (stock, foil, stock_node, foil_node) = (key(1), key(2), key(3), key(4));
        let open = open_tally(&stock, &foil, &stock_node, &foil_node);
        let evidence = double_vote(&foil_node, Some(Binding::Tally(open.bytes().to_vec())));
        assert_eq!(evidence.verify().unwrap().party, Some(PartyId::new(foil.public())));
        // A node the tally does not name is not pinned on either party.
        let stranger = double_vote(&key(9), Some(Binding::Tally(open.bytes().to_vec())));
        assert!(matches!(stranger.verify(), Err(EvidenceError::BadBinding(_))));
    }

    #[test]
    fn a_certificate_for_another_device_or_signed_by_another_key_binds_nothing() {
        let (party, node) = (key(1), key(2));
        let other_device = certificate(&party, &key(3), &party);
        let evidence = double_vote(&node, Some(Binding::Device(other_device.bytes().to_vec())));
        assert!(matches!(evidence.verify(), Err(EvidenceError::BadBinding(_))));
        let framed = certificate(&party, &node, &key(8));
        let evidence = double_vote(&node, Some(Binding::Device(framed.bytes().to_vec())));
        assert!(matches!(evidence.verify(), Err(EvidenceError::BadBinding(_))));
    }

    #[test]
    fn two_votes_of_different_nodes_steps_or_one_vote_twice_prove_nothing() {
        let a = Signed::sign(vote(Some([1; 32])), &key(2));
        let other_node = Signed::sign(vote(None), &key(3));
        let other_step = Signed::sign(
            Vote {
                step: Step::Prevote,
                ..vote(None)
            },
            &key(2),
        );
        for second in [&other_node, &other_step, &a] {
            let evidence = Evidence::new(
                EvidenceKind::DoubleSigned,
                a.bytes().to_vec(),
                second.bytes().to_vec(),
                None,
            );
            assert!(
                matches!(evidence.verify(), Err(EvidenceError::ProvesNothing(_))),
                "{second:?}"
            );
        }
    }

    #[test]
    fn two_proposals_for_one_round_prove_a_double_signature() {
        let node = key(5);
        let proposal = |block: u8| Proposal {
            tally: TallyId([4; 16]),
            height: 2,
            round: 0,
            valid_round: None,
            block: Digest([block; 32]),
        };
        let a = Signed::sign(proposal(1), &node);
        let b = Signed::sign(proposal(2), &node);
        let evidence = Evidence::new(EvidenceKind::DoubleSigned, a.bytes().to_vec(), b.bytes().to_vec(), None);
        let finding = evidence.verify().unwrap();
        assert_eq!(finding.node, node.public());
        assert!(finding.summary.contains("proposed two different blocks"));
    }

    /// A seal in the shape of the chat protocol's (whose own tests check
    /// that its seals make evidence here).
    fn item_seal(device: &SecretKey, certificate: &[u8]) -> Vec<u8> {
        signed_as(CHAT_ITEM_SEAL_KIND, device, certificate)
    }

    fn signed_as(kind: &str, device: &SecretKey, certificate: &[u8]) -> Vec<u8> {
        let body = cbor::encode(&Value::map([
            (0, Value::Uint(1)),
            (CHAT_CERTIFICATE_FIELD, Value::Bytes(Digest::of(certificate).0.to_vec())),
            (2, Value::Bytes(vec![7; 16])),
        ]));
        let signature = device.sign(kind, &body);
        cbor::encode(&Value::Array(vec![
            Value::Text(kind.into()),
            Value::Bytes(body),
            Value::Bytes(device.public().as_bytes().to_vec()),
            Value::Bytes(signature.as_bytes().to_vec()),
        ]))
    }

    #[test]
    fn a_chat_item_sealed_under_a_certificate_its_party_never_signed_is_proof_against_the_device() {
        let (victim, device) = (key(1), key(2));
        let forged = certificate(&victim, &device, &device);
        let message = item_seal(&device, forged.bytes());
        let evidence = Evidence::new(EvidenceKind::ForgedCertificate, message, forged.bytes().to_vec(), None);
        let finding = Evidence::from_bytes(evidence.bytes()).unwrap().verify().unwrap();
        assert_eq!(finding.node, device.public());
        assert_eq!(finding.party, None);
    }

    #[test]
    fn a_genuine_certificate_or_a_message_not_under_it_proves_no_forgery() {
        let (party, device) = (key(1), key(2));
        let genuine = certificate(&party, &device, &party);
        let message = item_seal(&device, genuine.bytes());
        let evidence = Evidence::new(EvidenceKind::ForgedCertificate, message, genuine.bytes().to_vec(), None);
        assert!(matches!(evidence.verify(), Err(EvidenceError::ProvesNothing(_))));

        // Someone else's forgery cannot be pinned on a device by pairing it
        // with a message the device sent under another certificate.
        let forged = certificate(&party, &device, &key(9));
        let message = item_seal(&device, genuine.bytes());
        let evidence = Evidence::new(EvidenceKind::ForgedCertificate, message, forged.bytes().to_vec(), None);
        assert!(matches!(evidence.verify(), Err(EvidenceError::ProvesNothing(_))));
    }

    #[test]
    fn a_forged_certificate_needs_a_chat_item_seal_not_another_record_of_the_device() {
        let (victim, device) = (key(1), key(2));
        let forged = certificate(&victim, &device, &device);
        for kind in ["chat-key", "chat-message", "ledger-vote"] {
            let other = signed_as(kind, &device, forged.bytes());
            let evidence = Evidence::new(EvidenceKind::ForgedCertificate, other, forged.bytes().to_vec(), None);
            assert!(
                matches!(evidence.verify(), Err(EvidenceError::ProvesNothing(_))),
                "{kind}"
            );
        }
    }

    #[test]
    fn double_spent_tokens_are_reserved_and_refused_plainly() {
        let evidence = Evidence::new(EvidenceKind::DoubleSpentToken, vec![1], vec![2], None);
        let read = Evidence::from_bytes(evidence.bytes()).unwrap();
        assert_eq!(read.verify(), Err(EvidenceError::Unsupported("double-spent token")));
    }

    #[test]
    fn oversized_or_unknown_evidence_is_refused_before_checking() {
        let huge = vec![0u8; MAX_EVIDENCE_BYTES + 1];
        assert_eq!(
            Evidence::from_bytes(&huge),
            Err(EvidenceError::TooLarge(MAX_EVIDENCE_BYTES + 1))
        );
        let unknown = cbor::encode(&Value::map([
            (0, Value::Uint(1)),
            (1, Value::Uint(9)),
            (2, Value::Bytes(vec![])),
            (3, Value::Bytes(vec![])),
        ]));
        assert!(matches!(
            Evidence::from_bytes(&unknown),
            Err(EvidenceError::Malformed(_))
        ));
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            if let Ok(evidence) = Evidence::from_bytes(&bytes) {
                let _ = evidence.verify();
            }
        }

        #[test]
        fn any_flipped_byte_of_a_vote_breaks_the_evidence(at in any::<prop::sample::Index>(), bit in 0u8..8) {
            let node = key(2);
            let a = Signed::sign(vote(Some([1; 32])), &node);
            let mut b = Signed::sign(vote(None), &node).bytes().to_vec();
            let i = at.index(b.len());
            b[i] ^= 1 << bit;
            let evidence = Evidence::new(EvidenceKind::DoubleSigned, a.bytes().to_vec(), b, None);
            prop_assert!(evidence.verify().is_err());
        }
    }
}
