//! Tallies and chits as the window and scripts see them: always from this
//! party's point of view ("we" and "the partner"), amounts as integers of
//! the tally's smallest unit.

use serde::{Deserialize, Serialize};

/// A side of a tally: the stock is the expected creditor (vendor), the
/// foil the expected debtor (client).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub enum TallySide {
    /// The expected creditor.
    Stock,
    /// The expected debtor.
    Foil,
}

/// Where a tally stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub enum TallyStage {
    /// A revision waits for an answer.
    Offered,
    /// Both parties signed: chits run on it.
    Open,
    /// The last revision was refused or withdrawn.
    Refused,
    /// A party asked to close: it closes when the balance is zero.
    Closing,
    /// Closed at a zero balance.
    Closed,
}

/// This party or its partner.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub enum Who {
    /// This party.
    Us,
    /// The other party of the tally.
    Partner,
}

/// A tally's unit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct UnitView {
    /// Its code, e.g. `CHIP`.
    pub code: String,
    /// Its decimal places: amounts are integers of 10^-scale units.
    pub scale: u8,
}

/// What a person may choose among when naming the nodes that keep a new
/// tally for our side.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct NodeChoice {
    /// The devices that may keep a tally (peer ids), this one first: it is
    /// always named, since it signs our chits.
    pub nodes: Vec<String>,
    /// `quorums[n - 1]`: how many of `n` named nodes must be up for a
    /// chit to be certified, for every `n` up to the most a side may name.
    pub quorums: Vec<u32>,
}

/// A tally as a list shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct TallySummary {
    /// The tally id (a UUID).
    pub id: String,
    /// The partner's party id.
    pub party_id: String,
    /// The partner's name, from its card (or a short form of its id).
    pub partner_name: String,
    /// Our side.
    pub side: TallySide,
    /// Where it stands.
    pub stage: TallyStage,
    /// While offered: whose answer the offer waits for.
    pub waiting_for: Option<Who>,
    /// Offered, and past its expiry: it can no longer be accepted.
    pub expired: bool,
    /// The newest revision's number.
    pub revision: u64,
    /// What amounts count.
    pub unit: UnitView,
    /// Our balance: above zero the partner owes us, below zero we owe.
    pub balance: i64,
    /// The most the partner may come to owe us.
    pub we_grant: i64,
    /// The most we may come to owe the partner.
    pub they_grant: i64,
    /// The tally's note.
    pub memo: String,
    /// When it last changed (ms since the Unix epoch).
    pub updated_at_ms: u64,
    /// Open, with chits waiting to be certified, while one side has fewer
    /// of its nodes reachable than a certificate needs: whose nodes the
    /// tally waits for.
    pub waiting_for_nodes: Option<NodesWait>,
}

/// An open tally that cannot certify its pending chits now: a side has
/// fewer of its nominated nodes up (this device, or connected to it) than
/// a quorum needs. It goes on by itself when they come back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct NodesWait {
    /// Whose nodes: the partner's, or our own.
    pub who: Who,
    /// That party's name.
    pub name: String,
    /// How many of its nodes are up.
    pub up: u32,
    /// How many of its nodes a certificate needs.
    pub needed: u32,
}

/// The terms of a revision, from our side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct TermsView {
    /// The most the partner may come to owe us.
    pub we_grant: i64,
    /// The most we may come to owe the partner.
    pub they_grant: i64,
    /// Days of notice we give before paying on demand.
    pub our_call: u32,
    /// Days of notice the partner gives.
    pub their_call: u32,
}

/// A contract a tally refers to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ContractView {
    /// Its title.
    pub title: String,
    /// The SHA-256 of its text, in hex.
    pub hash: String,
    /// Its text, once known: kept with our offer, or received with the
    /// partner's and checked against the hash.
    pub text: Option<String>,
}

/// One revision of a tally's negotiation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct RevisionView {
    /// Its number, from 1.
    pub revision: u64,
    /// Who offered it.
    pub by: Who,
    /// When it was made (ms).
    pub date_ms: u64,
    /// Until when it could be accepted (ms).
    pub expires_ms: u64,
    /// Its note.
    pub memo: String,
    /// Its terms.
    pub terms: TermsView,
    /// The contract it refers to.
    pub contract: Option<ContractView>,
    /// What changed from the revision before: `memo`, `unit`, `contract`,
    /// `weGrant`, `theyGrant`, `ourCall`, `theirCall`, `ourNodes`, `theirNodes`.
    pub changes: Vec<String>,
}

/// One side's trading variables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct TradingVariablesView {
    /// The balance this side wants to reach through lifts.
    pub target: i64,
    /// The most this side accepts through lifts.
    pub bound: i64,
    /// The fee for lifting beyond the target, in millionths.
    pub reward_ppm: i32,
    /// The fee for reverse lifts, in millionths.
    pub clutch_ppm: i32,
    /// Days of notice before paying on demand.
    pub call: u32,
}

/// Both sides' trading variables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct VariablesView {
    /// Ours.
    pub ours: TradingVariablesView,
    /// The partner's.
    pub theirs: TradingVariablesView,
}

/// An invoice neither paid nor declined.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct InvoiceView {
    /// The invoice chit's id, in hex.
    pub id: String,
    /// Who asks to be paid.
    pub payee: Who,
    /// How much.
    pub units: i64,
    /// The payee's note.
    pub memo: String,
    /// When it was made (ms).
    pub date_ms: u64,
}

/// A refusal of a tally's last revision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct RefusalView {
    /// Who refused (or withdrew).
    pub by: Who,
    /// Their reason.
    pub reason: String,
}

/// How much each side can still pay before reaching a limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct RoomView {
    /// What we can still pay.
    pub we_can_pay: i64,
    /// What the partner can still pay.
    pub they_can_pay: i64,
}

/// Everything about one tally.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct TallyDetail {
    /// What a list shows.
    pub summary: TallySummary,
    /// Every revision, oldest first.
    pub revisions: Vec<RevisionView>,
    /// The refusal of the last revision, if refused.
    pub refusal: Option<RefusalView>,
    /// The peer ids of the nodes we named.
    pub our_nodes: Vec<String>,
    /// The peer ids of the nodes the partner named.
    pub their_nodes: Vec<String>,
    /// Both sides' trading variables, once open.
    pub variables: Option<VariablesView>,
    /// Invoices neither paid nor declined.
    pub open_invoices: Vec<InvoiceView>,
    /// What each side can still pay, once open.
    pub room: Option<RoomView>,
}

/// What a chit does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub enum ChitKind {
    /// A payment.
    Transaction,
    /// A request to be paid.
    Invoice,
    /// An invoice declined.
    Decline,
    /// Trading variables, call or close.
    Setting,
}

/// Whether a chit is final.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub enum ChitStatus {
    /// Signed, waiting for the tally network.
    Pending,
    /// Certified by the tally network.
    Final,
    /// Refused by the tally network.
    Refused,
}

/// A chit of a tally.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ChitView {
    /// Its id, in hex.
    pub id: String,
    /// Who signed it.
    pub by: Who,
    /// What it does.
    pub kind: ChitKind,
    /// A payment: its change to our balance (we pay 12.5 CHIP: −12 500);
    /// an invoice: the amount asked.
    pub units: Option<i64>,
    /// Its author's note.
    pub memo: String,
    /// When its author made it (ms).
    pub date_ms: u64,
    /// Pending, final or refused.
    pub status: ChitStatus,
    /// Why the tally network refused it.
    pub refused_reason: Option<String>,
    /// Our balance after it, once final.
    pub balance_after: Option<i64>,
    /// The invoice a payment pays or a decline declines, in hex.
    pub invoice: Option<String>,
}

/// A page of a tally's chits, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ChitPage {
    /// The chits.
    pub chits: Vec<ChitView>,
    /// Pass this to get the next page; `None` when there is none.
    pub before: Option<String>,
}

/// A new tally as offered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct TallyOffer {
    /// The partner's party id: one of our contacts.
    pub party_id: String,
    /// Our side.
    pub side: TallySide,
    /// The most the partner may come to owe us, as typed (e.g. `50.000`).
    pub we_grant: String,
    /// The most we may come to owe the partner, as typed.
    pub they_grant: String,
    /// Days of notice we give.
    pub our_call: u32,
    /// Days of notice the partner gives.
    pub their_call: u32,
    /// A note both see.
    pub memo: String,
    /// A contract, with its full text (its hash goes in the tally; the
    /// text is kept and sent along with the offer).
    pub contract: Option<ContractText>,
    /// Hours the partner has to accept.
    pub expires_in_hours: u32,
    /// The devices of our cadre that keep the tally (peer ids); `None`
    /// names every device of the party (this one and every enrolled device
    /// not revoked). This device is always one of them: it signs our chits.
    pub our_nodes: Option<Vec<String>>,
}

/// A contract's title and text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ContractText {
    /// Its title.
    pub title: String,
    /// Its text.
    pub text: String,
}

/// The terms of a counter-offer, from our side.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct TallyTerms {
    /// The most the partner may come to owe us, as typed.
    pub we_grant: String,
    /// The most we may come to owe the partner, as typed.
    pub they_grant: String,
    /// Days of notice we give.
    pub our_call: u32,
    /// Days of notice the partner gives.
    pub their_call: u32,
    /// A note both see.
    pub memo: String,
    /// The devices of our cadre that keep the tally (peer ids); `None`
    /// names every device of the party, as for an offer.
    pub our_nodes: Option<Vec<String>>,
}

/// Changes to our trading variables; what is `None` stays.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct SettingInput {
    /// The balance we want to reach through lifts, as typed.
    pub target: Option<String>,
    /// The most we accept through lifts, as typed.
    pub bound: Option<String>,
    /// Our fee for lifting beyond the target, in percent (e.g. `0.5`).
    pub reward: Option<String>,
    /// Our fee for reverse lifts, in percent.
    pub clutch: Option<String>,
    /// Days of notice we give.
    pub call: Option<u32>,
}

/// Our net position in one unit at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct PositionPoint {
    /// When (ms).
    pub at_ms: u64,
    /// The sum of our balances: above zero we are owed on the whole.
    pub net: i64,
}

/// Our net position in one unit, now and over time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct NetPosition {
    /// The unit.
    pub unit: UnitView,
    /// The sum of our balances on tallies of this unit now.
    pub net: i64,
    /// How it moved, oldest first.
    pub points: Vec<PositionPoint>,
}

/// What changed on a tally, for notifications.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub enum TallyChange {
    /// A partner offered a new tally.
    OfferReceived,
    /// A partner countered our offer.
    CounterReceived,
    /// The tally is open.
    Accepted,
    /// The last revision was refused or withdrawn.
    Refused,
    /// A partner's chit arrived.
    ChitReceived,
    /// A partner's invoice arrived.
    InvoiceReceived,
    /// A chit became final.
    ChitCertified,
    /// A chit was refused by the tally network.
    ChitRefused,
    /// Something else changed (our own action).
    Updated,
}
