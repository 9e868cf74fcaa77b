//! Trust: how far this node trusts each party it deals with, the signed
//! attestations and the evidence that move it, and where it changes what
//! the node does (`node.trust()`).
//!
//! The model is `tallymesh_core::trust`; this module feeds it with what the
//! node sees and keeps the result (see `docs/protocol/trust.md`):
//!
//! - every peer's messages count for the party whose device certificate
//!   names it (a contact's card), or for the device itself when no known
//!   party answers for it: valid requests raise the score a little, each
//!   strike (a malformed, oversized or wrong-version message, a ledger
//!   message the consensus refuses, bad gossip) lowers it by 0.1, and a
//!   request the peer lets time out by 0.05;
//! - attestations are signed by the party key, kept, sent to contacts and
//!   gossiped on [`TRUST_TOPIC`]; one from a contact, or from a party whose
//!   trust was earned here (direct experience, at least the recommender
//!   threshold), raises its subject by recommended × recommender × 0.1 for
//!   as long as it lives;
//! - when the tally ledgers see a node sign two votes for one step, or
//!   chat refuses an item sealed under a device certificate its party
//!   never signed, the node makes evidence of it, keeps it, gossips it;
//!   every node checks evidence alone and drops the culprit's score by the
//!   evidence penalty;
//! - scores below the disconnect threshold close the peer's connections,
//!   gossip from peers below the relay threshold is not forwarded, scores
//!   set each peer's priority for incoming slots and its gossip score, and
//!   the node takes candidates in order of trust where it picks among
//!   peers ([`Trust::rank_peers`]).
//!
//! ```no_run
//! # async fn example(node: tallymesh_node::Node) -> Result<(), Box<dyn std::error::Error>> {
//! use tallymesh_node::trust::Attest;
//!
//! let bob = "did:key:z6Mk…";
//! node.trust().attest(Attest { party_id: bob.into(), kind: "trade".into(), score: 0.8, valid_days: 30 }).await?;
//! let detail = node.trust().show(bob).await?;
//! println!("{} at {:.3}, {} events", detail.score.subject, detail.score.score, detail.events.len());
//! # Ok(()) }
//! ```

mod book;
mod evidence;
mod records;
#[cfg(test)]
mod tests;
mod wire;

use serde::{Deserialize, Serialize};
use tallymesh_core::trust::{TrustConfig, TrustLevel};
use thiserror::Error;

pub(crate) use book::{Subject, TrustBook, TrustObserver, priority_of};
pub use wire::{TRUST_PROTOCOL, TRUST_TOPIC};
pub(crate) use wire::{request_protocol, run};

use crate::{Node, NodeError};

/// How many events of a subject [`Trust::show`] returns.
pub const HISTORY_LENGTH: u32 = 200;

/// A subject's standing on this node.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct TrustScore {
    /// A party id, or the peer id of a device no known party answers for.
    pub subject: String,
    /// The party, when the subject is one.
    pub party_id: Option<String>,
    /// The contact's name, when the party is a contact.
    pub display_name: Option<String>,
    /// Whether the party is a contact.
    pub is_contact: bool,
    /// The score now, in `[0, 1]`: earned plus attested.
    pub score: f64,
    /// The part this node earned by itself: what it saw of the subject
    /// (messages, timeouts, evidence), decayed toward the start.
    pub earned: f64,
    /// The standing boost of the live attestations about the subject
    /// (what `score` holds above `earned`).
    pub attested: f64,
    /// The trend over the trend window, in `[0, 1]` (0.5: unchanged).
    pub trend: f64,
    /// The real statistics of the party's tallies with us, in `[0, 1]`.
    pub statistics: f64,
    /// Payments of the partner certified on our tallies.
    pub kept: u64,
    /// Invoices of ours the partner declined.
    pub broken: u64,
    /// 0.6 × score + 0.2 × trend + 0.2 × statistics.
    pub reputation: f64,
    /// Whether verified evidence names the subject.
    pub convicted: bool,
    /// How the score reads in words, by what the node does at it.
    pub level: TrustLevel,
    /// When the score last changed (ms); 0 if it never did.
    pub updated_at_ms: u64,
}

/// One change of a score, with its reason.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct TrustEvent {
    /// Its place among all events.
    pub id: u64,
    /// When (ms).
    pub at_ms: u64,
    /// `valid`, `invalid`, `timeout`, `evidence` or `attested`.
    pub kind: String,
    /// How many messages or timeouts it stands for.
    pub count: u32,
    /// What it added (negative: took away) before clamping.
    pub delta: f64,
    /// The score after it.
    pub score: f64,
    /// Why, in words.
    pub reason: String,
}

/// An attestation as this node knows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct AttestationView {
    /// SHA-256 of the signed record, in hex.
    pub id: String,
    /// Who vouches.
    pub attester: String,
    /// The attester's name, when a contact (or this party).
    pub attester_name: Option<String>,
    /// For whom.
    pub subject: String,
    /// The subject's name, when a contact (or this party).
    pub subject_name: Option<String>,
    /// `identity`, `trade`, `service`.
    pub kind: String,
    /// How much, in `[0, 1]`.
    pub score: f64,
    /// When it was signed (ms).
    pub issued_at_ms: u64,
    /// When it stops counting (ms).
    pub expires_at_ms: u64,
    /// Whether it has expired by now.
    pub expired: bool,
    /// How much the attester's word weighs here now: its earned score (1
    /// for this party); none when its attestations do not count (trust not
    /// earned here, or an attestation about this party).
    pub recommender: Option<f64>,
    /// The boost it gives the subject here now: recommended × recommender
    /// × the attestation weight while it lives, nothing once it expired.
    pub boost: f64,
    /// Whether this party made it.
    pub by_me: bool,
}

/// Verified evidence as kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct EvidenceView {
    /// SHA-256 of the evidence bytes, in hex.
    pub id: String,
    /// Names the offence, in hex.
    pub offence: String,
    /// `double-signed`, `forged-certificate`, `double-spent-token`.
    pub kind: String,
    /// The peer id of the node that misbehaved.
    pub node: String,
    /// The party answerable for it, when the evidence binds one.
    pub party_id: Option<String>,
    /// That party's name, when a contact.
    pub party_name: Option<String>,
    /// What happened, in words.
    pub summary: String,
    /// The peer that passed it on; none when this node found it.
    pub reported_by: Option<String>,
    /// When this node got it (ms).
    pub received_at_ms: u64,
}

/// Everything behind one subject's score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct TrustDetail {
    /// The standing now.
    pub score: TrustScore,
    /// The events that moved it, newest first.
    pub events: Vec<TrustEvent>,
    /// The attestations about the subject, newest first.
    pub attestations: Vec<AttestationView>,
    /// The evidence against it.
    pub evidence: Vec<EvidenceView>,
}

/// What to attest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Attest {
    /// The party attested.
    pub party_id: String,
    /// `identity`, `trade` or `service`.
    pub kind: String,
    /// How much, in `[0, 1]`.
    pub score: f64,
    /// For how many days it counts (1 to 366).
    pub valid_days: u32,
}

/// Why a trust operation was refused; nothing was changed. Each message
/// can be shown as it is.
#[derive(Debug, Error)]
pub enum TrustError {
    /// Not a party id or peer id.
    #[error("{0:?} is neither a party id nor a peer id.")]
    BadSubject(String),
    /// Input that breaks a rule of attestations.
    #[error("{0}")]
    Invalid(String),
    /// An attestation or evidence that does not verify.
    #[error("{0}")]
    Refused(String),
    /// The node failed, has no identity, or is not the main device.
    #[error(transparent)]
    Node(#[from] NodeError),
}

impl From<tallymesh_store::StoreError> for TrustError {
    fn from(error: tallymesh_store::StoreError) -> Self {
        TrustError::Node(error.into())
    }
}

/// The node's trust in others: `node.trust()`.
#[derive(Debug, Clone)]
pub struct Trust {
    pub(crate) node: Node,
}

impl Node {
    /// Scores, attestations and evidence (see [`crate::trust`]).
    pub fn trust(&self) -> Trust {
        Trust { node: self.clone() }
    }
}

impl Trust {
    /// The parameters the node scores with.
    pub fn config(&self) -> TrustConfig {
        self.node.inner.trust.config
    }
}
