//! The party's tallies: negotiating them with contacts, paying and
//! invoicing on them, and following their ledgers (`node.tallies()`).
//!
//! - **Negotiation** ([`negotiate`]): offers, counters, acceptances and
//!   refusals are signed with the party key on the main device and go to
//!   the partner's devices over `/tallymesh/tally/1`. Every message sent or
//!   received is kept; replaying them rebuilds the
//!   [`Negotiation`](tallymesh_protocol::negotiation::Negotiation). Sent
//!   messages wait in an outbox until a device of the partner took them.
//! - **Ledger**: once a tally is open, this device serves its ledger (it is
//!   one of the nodes we name) with the tally rules.
//! - **Chits** ([`chits`]): each is checked against the tally's state and
//!   our pending chits before it is signed and submitted, so a payment past
//!   the limit is refused at once with the amount that can still be paid.
//!   Certified blocks are followed: each chit in them is kept with the
//!   balance after it.
//!
//! Everything is shown from our side: a positive balance means the partner
//! owes us.

pub mod chits;
pub mod negotiate;
mod nodes;
pub(crate) use nodes::{NodeNotices, notices_of};
mod view;
pub(crate) mod wire;

use std::collections::HashMap;

use tallymesh_core::record::Signed;
use tallymesh_core::tally::{OpenTally, Tally, TallyState};
use tallymesh_core::tally_network::{Side, TallyId};
use tallymesh_core::{AmountError, PartyId, Timestamp, Unit, Units};
use tallymesh_protocol::negotiation::NegotiationError;
use thiserror::Error;

use crate::{Node, NodeError, NodeEvent};

pub use view::{
    ChitKind, ChitPage, ChitStatus, ChitView, ContractText, ContractView, InvoiceView, NetPosition, NodesWait,
    PositionPoint, RefusalView, RevisionView, RoomView, SettingInput, TallyChange, TallyDetail, TallyOffer, TallySide,
    TallyStage, TallySummary, TallyTerms, TermsView, TradingVariablesView, UnitView, VariablesView, Who,
};

/// Why a tally operation was refused; nothing was changed. Each message can
/// be shown as it is.
#[derive(Debug, Error)]
pub enum TallyError {
    /// No tally has this id.
    #[error("There is no tally {0}.")]
    NotFound(String),
    /// Not a tally id.
    #[error("{0:?} is not a tally id.")]
    BadId(String),
    /// The partner must be a contact.
    #[error("{0} is not one of your contacts; add them first.")]
    NotAContact(String),
    /// An amount that does not read.
    #[error("{what}: {error}")]
    Amount {
        /// Which amount.
        what: &'static str,
        /// What is wrong with it.
        error: AmountError,
    },
    /// Input that breaks a rule of tallies.
    #[error("{0}")]
    Invalid(String),
    /// The negotiation refused the step.
    #[error("{}", sentence(&.0.to_string()))]
    Negotiation(#[from] NegotiationError),
    /// The tally's rules refuse the chit.
    #[error("{0}")]
    Refused(String),
    /// The tally is not open.
    #[error("The tally is not open.")]
    NotOpen,
    /// The node failed, has no identity, or is not the main device.
    #[error(transparent)]
    Node(#[from] NodeError),
}

impl From<tallymesh_store::StoreError> for TallyError {
    fn from(error: tallymesh_store::StoreError) -> Self {
        TallyError::Node(error.into())
    }
}

impl From<crate::identity::IdentityError> for TallyError {
    fn from(error: crate::identity::IdentityError) -> Self {
        TallyError::Node(error.into())
    }
}

/// The party's tallies: `node.tallies()`.
#[derive(Debug, Clone)]
pub struct Tallies {
    node: Node,
}

impl Node {
    /// The party's tallies (see [`crate::tallies`]).
    pub fn tallies(&self) -> Tallies {
        Tallies { node: self.clone() }
    }
}

/// What this node keeps in memory about its open tallies: each one's state
/// after the blocks applied so far.
#[derive(Debug, Default)]
pub(crate) struct TallyBook {
    replicas: HashMap<TallyId, chits::Replica>,
}

impl Tallies {
    /// Every tally, the most recently changed first.
    pub async fn list(&self) -> Result<Vec<TallySummary>, TallyError> {
        let store = self.node.running_store().await?;
        let names = self.partner_names().await?;
        let now = now();
        let mut list = Vec::new();
        for row in store.tallies().await? {
            let held = negotiate::Held::load(&self.node, &row).await?;
            let mut summary = held.summary(&names, now);
            if let Some(open) = held.open() {
                summary.waiting_for_nodes = self.nodes_wait(&open, held.me, &summary.partner_name).await?;
            }
            list.push(summary);
        }
        Ok(list)
    }

    /// Everything about one tally.
    pub async fn get(&self, id: &str) -> Result<TallyDetail, TallyError> {
        let held = self.held(id).await?;
        let names = self.partner_names().await?;
        let state = match held.open() {
            Some(open) => Some(self.state(&open).await?),
            None => None,
        };
        let mut detail = held.detail(&names, state.as_ref(), now());
        if let Some(open) = held.open() {
            detail.summary.waiting_for_nodes = self.nodes_wait(&open, held.me, &detail.summary.partner_name).await?;
        }
        let store = self.node.running_store().await?;
        for invoice in &mut detail.open_invoices {
            let id = crate::ledger_api::unhex(&invoice.id).and_then(|b| <[u8; 32]>::try_from(b).ok());
            if let Some(row) = match id {
                Some(id) => store.chit(&held.row.tally, &id).await?,
                None => None,
            } {
                invoice.memo = row.memo;
                invoice.date_ms = u64::try_from(row.date_ms).unwrap_or(0);
            }
        }
        Ok(detail)
    }

    /// A tally as kept, with its negotiation rebuilt.
    pub(crate) async fn held(&self, id: &str) -> Result<negotiate::Held, TallyError> {
        let tally = parse_id(id)?;
        let store = self.node.running_store().await?;
        let row = store
            .tally(&tally.0)
            .await?
            .ok_or_else(|| TallyError::NotFound(id.trim().chars().take(40).collect()))?;
        negotiate::Held::load(&self.node, &row).await
    }

    /// The partners' names, by party key.
    async fn partner_names(&self) -> Result<HashMap<[u8; 32], String>, TallyError> {
        let store = self.node.running_store().await?;
        let mut names = HashMap::new();
        for row in store.contacts().await? {
            if let Ok(party) = row.party_id.parse::<PartyId>() {
                names.insert(*party.key().as_bytes(), row.display_name);
            }
        }
        Ok(names)
    }

    pub(crate) fn changed(&self, tally: TallyId, change: TallyChange) {
        // No subscriber is not an error.
        let _ = self.node.inner.events.send(NodeEvent::TallyChanged {
            tally: tally_id_text(&tally),
            change,
        });
    }
}

/// A message from the rules as a sentence: a capital first letter and a
/// full stop.
pub(crate) fn sentence(text: &str) -> String {
    let text = text.trim();
    let mut chars = text.chars();
    let mut out: String = chars.next().map(|c| c.to_uppercase().collect()).unwrap_or_default();
    out.push_str(chars.as_str());
    if !out.ends_with(['.', '!', '?']) {
        out.push('.');
    }
    out
}

/// The current time.
pub(crate) fn now() -> Timestamp {
    crate::contacts::now()
}

/// A tally id as text: the UUID form.
pub fn tally_id_text(id: &TallyId) -> String {
    let h = tallymesh_core::hash::hex(&id.0);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// Reads a tally id from its UUID form (dashes optional).
pub fn parse_id(text: &str) -> Result<TallyId, TallyError> {
    let hex: String = text.trim().chars().filter(|c| *c != '-').collect();
    let bytes = crate::ledger_api::unhex(&hex).filter(|b| b.len() == 16);
    bytes
        .and_then(|b| TallyId::from_bytes(&b))
        .ok_or_else(|| TallyError::BadId(text.trim().chars().take(40).collect()))
}

/// A fresh UUIDv7 tally id for `now`.
pub(crate) fn new_id(now: Timestamp) -> Result<TallyId, TallyError> {
    let mut id = [0u8; 16];
    getrandom::fill(&mut id).map_err(|e| NodeError::Keystore(crate::KeystoreError::Random(e.to_string())))?;
    let millis = now.as_millis().to_be_bytes();
    id[..6].copy_from_slice(&millis[2..8]);
    id[6] = 0x70 | (id[6] & 0x0f);
    id[8] = 0x80 | (id[8] & 0x3f);
    Ok(TallyId(id))
}

/// Our side as the view names it.
pub(crate) fn side_view(side: Side) -> TallySide {
    match side {
        Side::Stock => TallySide::Stock,
        Side::Foil => TallySide::Foil,
    }
}

/// The side a view names.
pub(crate) fn side_of_view(side: TallySide) -> Side {
    match side {
        TallySide::Stock => Side::Stock,
        TallySide::Foil => Side::Foil,
    }
}

/// A side as stored.
pub(crate) fn side_text(side: Side) -> &'static str {
    match side {
        Side::Stock => "stock",
        Side::Foil => "foil",
    }
}

/// A balance (what the foil owes the stock) from our side.
pub(crate) fn ours(balance: Units, side: Side) -> i64 {
    match side {
        Side::Stock => balance.parts(),
        Side::Foil => balance.parts().saturating_neg(),
    }
}

/// Reads an amount typed for `what` in `unit`: zero or more.
pub(crate) fn amount(unit: &Unit, what: &'static str, text: &str) -> Result<Units, TallyError> {
    let units = unit.parse(text).map_err(|error| TallyError::Amount { what, error })?;
    if units.parts() < 0 {
        return Err(TallyError::Invalid(format!("{what} cannot be negative.")));
    }
    Ok(units)
}

/// Reads an amount to pay or ask for: more than zero.
pub(crate) fn positive_amount(unit: &Unit, text: &str) -> Result<Units, TallyError> {
    unit.parse_positive(text).map_err(|error| TallyError::Amount {
        what: "The amount",
        error,
    })
}

/// The tally a signed revision or an open tally holds.
pub(crate) fn record_of(current: &[u8]) -> Result<(Tally, Option<OpenTally>), TallyError> {
    if let Ok(open) = OpenTally::from_bytes(current) {
        return Ok((open.tally().clone(), Some(open)));
    }
    let signed = Signed::<Tally>::from_bytes(current)
        .map_err(|e| TallyError::Invalid(format!("A kept tally does not read: {e}.")))?;
    Ok((signed.record().clone(), None))
}

impl Tallies {
    /// The state of an open tally after the blocks certified so far.
    pub(crate) async fn state(&self, open: &OpenTally) -> Result<TallyState, TallyError> {
        self.follow(open).await
    }
}
