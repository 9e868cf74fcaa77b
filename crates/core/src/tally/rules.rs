//! The rules every node of a tally network applies to the tally's entries,
//! and the state they keep: balance, key chains, trading variables, open
//! invoices, whether the tally is closing.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use crate::cbor::{self, Value};
use crate::record::{RecordError, Signed};
use crate::rules::{Applied, EntryContext, EntryRefused, EntryRules, NetworkChange};
use crate::tally_network::Side;
use crate::{Digest, PublicKey, Units};

use super::agreement::{OpenTally, Tally};
use super::chit::{Chit, ChitBody, Setting};
use super::variables::TradingVariables;

/// The largest entry a tally accepts, in bytes: a chit is far smaller; a
/// co-signed network change with many nodes fits.
pub const MAX_ENTRY_BYTES: usize = 16 * 1024;

/// Where a tally stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Open for every kind of chit.
    Open,
    /// A party asked to close: only payments toward a zero balance, and
    /// settings, until the balance is zero.
    Closing,
    /// Closed at a zero balance: nothing more is appended.
    Closed,
}

/// An invoice waiting for its payer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenInvoice {
    /// The side that asks to be paid.
    pub payee: Side,
    /// How much.
    pub units: Units,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Chain {
    index: u64,
    key: PublicKey,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct SideState {
    chain: Chain,
    variables: TradingVariables,
    call: u32,
}

/// A tally's state after the entries certified so far.
///
/// The balance is what the foil owes the stock: positive when the foil is
/// in debt, negative when the stock is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TallyState {
    tally: Arc<Tally>,
    balance: Units,
    stock: SideState,
    foil: SideState,
    status: Status,
    invoices: BTreeMap<Digest, OpenInvoice>,
    settled: BTreeSet<Digest>,
    network_changes: u64,
}

impl TallyState {
    /// The state of a tally just opened: balance zero, each party's key
    /// chain at its party key (which signs its action 0).
    pub fn opened(open: &OpenTally) -> TallyState {
        let tally = open.tally();
        let side = |side: Side| {
            let party = tally.side(side);
            SideState {
                chain: Chain {
                    index: 0,
                    key: party.party,
                },
                variables: TradingVariables::default(),
                call: party.terms.call,
            }
        };
        TallyState {
            tally: Arc::new(tally.clone()),
            balance: Units::ZERO,
            stock: side(Side::Stock),
            foil: side(Side::Foil),
            status: Status::Open,
            invoices: BTreeMap::new(),
            settled: BTreeSet::new(),
            network_changes: 0,
        }
    }

    /// The tally as both parties signed it.
    pub fn tally(&self) -> &Tally {
        &self.tally
    }

    /// What the foil owes the stock.
    pub fn balance(&self) -> Units {
        self.balance
    }

    /// Open, closing or closed.
    pub fn status(&self) -> Status {
        self.status
    }

    /// A side's trading variables.
    pub fn variables(&self, side: Side) -> TradingVariables {
        self.side(side).variables
    }

    /// A side's call, in days, as last set.
    pub fn call(&self, side: Side) -> u32 {
        self.side(side).call
    }

    /// The index of a side's next action on the tally.
    pub fn next_index(&self, side: Side) -> u64 {
        self.side(side).chain.index
    }

    /// The key that must sign a side's next action.
    pub fn next_key(&self, side: Side) -> PublicKey {
        self.side(side).chain.key
    }

    /// The invoices neither paid nor declined, by id.
    pub fn open_invoices(&self) -> &BTreeMap<Digest, OpenInvoice> {
        &self.invoices
    }

    /// How many more units a payment by `payer` may move before the balance
    /// reaches the limit its partner granted.
    pub fn room(&self, payer: Side) -> Units {
        let limit = self.tally.side(other(payer)).terms.limit.parts();
        let owed = match payer {
            Side::Foil => self.balance.parts(),
            Side::Stock => -self.balance.parts(),
        };
        Units::new(limit.saturating_sub(owed).max(0))
    }

    fn side(&self, side: Side) -> &SideState {
        match side {
            Side::Stock => &self.stock,
            Side::Foil => &self.foil,
        }
    }

    fn side_mut(&mut self, side: Side) -> &mut SideState {
        match side {
            Side::Stock => &mut self.stock,
            Side::Foil => &mut self.foil,
        }
    }
}

/// The other side.
pub fn other(side: Side) -> Side {
    match side {
        Side::Stock => Side::Foil,
        Side::Foil => Side::Stock,
    }
}

/// An entry of a tally, read from its bytes.
#[derive(Debug, Clone, PartialEq)]
pub enum TallyEntry {
    /// A chit signed by one party.
    Chit(Box<Signed<Chit>>),
    /// The entry bytes of a network change both parties signed; its signers
    /// are checked against the tally's parties when it is applied.
    NetworkChange(Vec<u8>),
}

impl TallyEntry {
    /// Reads an entry, checking its size, shape and signatures.
    pub fn from_bytes(entry: &[u8]) -> Result<TallyEntry, RecordError> {
        if entry.len() > MAX_ENTRY_BYTES {
            return Err(RecordError::TooLarge(entry.len()));
        }
        match cbor::decode(entry)? {
            Value::Array(parts) if parts.len() == 2 => {
                for part in &parts {
                    let Value::Bytes(bytes) = part else {
                        return Err(RecordError::Shape(
                            "a network change entry holds two signed changes".into(),
                        ));
                    };
                    Signed::<NetworkChange>::from_bytes(bytes)?;
                }
                Ok(TallyEntry::NetworkChange(entry.to_vec()))
            }
            _ => Ok(TallyEntry::Chit(Box::new(Signed::from_bytes(entry)?))),
        }
    }
}

/// The rules of tallies: author signatures and forward key chains,
/// positive amounts, credit limits, invoices, trading-variable bounds,
/// closing, and network changes both parties signed.
#[derive(Debug, Clone, Copy, Default)]
pub struct TallyRules;

impl EntryRules for TallyRules {
    type State = TallyState;

    fn admit(&self, entry: &[u8]) -> Result<(), EntryRefused> {
        TallyEntry::from_bytes(entry)
            .map(|_| ())
            .map_err(|e| EntryRefused::never(e.to_string()))
    }

    fn apply(&self, state: &mut TallyState, entry: &[u8], context: &EntryContext<'_>) -> Result<Applied, EntryRefused> {
        if state.status == Status::Closed {
            return Err(EntryRefused::never("the tally is closed"));
        }
        match TallyEntry::from_bytes(entry).map_err(|e| EntryRefused::never(e.to_string()))? {
            TallyEntry::NetworkChange(bytes) => apply_network_change(state, &bytes, context),
            TallyEntry::Chit(chit) => apply_chit(state, &chit, context),
        }
    }
}

fn apply_network_change(
    state: &mut TallyState,
    entry: &[u8],
    context: &EntryContext<'_>,
) -> Result<Applied, EntryRefused> {
    let change = NetworkChange::from_cosigned_entry(entry, &state.tally.stock.party, &state.tally.foil.party)
        .map_err(|e| EntryRefused::never(e.to_string()))?;
    if change.tally != context.tally {
        return Err(EntryRefused::never("the network change is for another tally"));
    }
    let expected = state.network_changes + 1;
    if change.epoch < expected {
        return Err(EntryRefused::never("this network change was already made"));
    }
    if change.epoch > expected {
        return Err(EntryRefused::not_yet(format!(
            "network change {} waits for change {expected}",
            change.epoch
        )));
    }
    state.network_changes = expected;
    Ok(Applied {
        network: Some(change.network),
    })
}

fn apply_chit(
    state: &mut TallyState,
    signed: &Signed<Chit>,
    context: &EntryContext<'_>,
) -> Result<Applied, EntryRefused> {
    let chit = signed.record();
    if chit.tally != context.tally {
        return Err(EntryRefused::never("the chit is for another tally"));
    }
    let chain = state.side(chit.by).chain;
    if chit.index < chain.index {
        return Err(EntryRefused::never(format!(
            "action {} of this party is already recorded",
            chit.index
        )));
    }
    if chit.index > chain.index {
        return Err(EntryRefused::not_yet(format!(
            "action {} waits for action {} of the same party",
            chit.index, chain.index
        )));
    }
    if signed.signer() != &chain.key {
        return Err(EntryRefused::never(
            "the chit is not signed with the key its party's previous action named",
        ));
    }
    // Everything is checked on a copy of what changes, then written back:
    // a refused chit leaves the state as it was.
    let mut next = Effects::of(state);
    match &chit.body {
        ChitBody::Transaction { units, invoice } => next.pay(state, chit.by, *units, invoice.as_ref())?,
        ChitBody::Invoice { units } => {
            if state.status != Status::Open {
                return Err(EntryRefused::never("a closing tally takes no new invoices"));
            }
            next.invoice = Some((
                signed.id(),
                OpenInvoice {
                    payee: chit.by,
                    units: *units,
                },
            ));
        }
        ChitBody::Decline { invoice } => {
            next.settle(state, chit.by, invoice)?;
        }
        ChitBody::Setting(setting) => next.set(state, chit.by, setting)?,
    }
    next.commit(
        state,
        chit.by,
        Chain {
            index: chain.index + 1,
            key: chit.next,
        },
    );
    Ok(Applied::default())
}

/// What a chit changes, gathered before anything is written.
struct Effects {
    balance: Units,
    status: Status,
    side: Option<(TradingVariables, u32)>,
    invoice: Option<(Digest, OpenInvoice)>,
    settled: Option<Digest>,
}

impl Effects {
    fn of(state: &TallyState) -> Effects {
        Effects {
            balance: state.balance,
            status: state.status,
            side: None,
            invoice: None,
            settled: None,
        }
    }

    fn pay(
        &mut self,
        state: &TallyState,
        payer: Side,
        units: Units,
        invoice: Option<&Digest>,
    ) -> Result<(), EntryRefused> {
        let unit = &state.tally.unit;
        let moved = match payer {
            Side::Foil => state.balance.checked_add(units),
            Side::Stock => state.balance.checked_sub(units),
        }
        .ok_or_else(|| EntryRefused::never("the amount is too large"))?;
        if units > state.room(payer) {
            return Err(EntryRefused::never(format!(
                "a payment of {} is over the credit limit: at most {} can be paid now",
                unit.format(units),
                unit.format(state.room(payer))
            )));
        }
        if state.status == Status::Closing {
            let toward_zero = (state.balance.parts() >= 0 && (0..=state.balance.parts()).contains(&moved.parts()))
                || (state.balance.parts() < 0 && (state.balance.parts()..=0).contains(&moved.parts()));
            if !toward_zero {
                return Err(EntryRefused::never(
                    "the tally is closing: payments may only bring the balance to zero",
                ));
            }
        }
        if let Some(id) = invoice {
            let open = self.settle(state, payer, id)?;
            if open.units != units {
                return Err(EntryRefused::never(format!(
                    "the invoice asks for {}, not {}",
                    unit.format(open.units),
                    unit.format(units)
                )));
            }
        }
        self.balance = moved;
        if self.status == Status::Closing && moved == Units::ZERO {
            self.status = Status::Closed;
        }
        Ok(())
    }

    /// Marks the partner's invoice `id` paid or declined by `payer`.
    fn settle(&mut self, state: &TallyState, payer: Side, id: &Digest) -> Result<OpenInvoice, EntryRefused> {
        if state.settled.contains(id) {
            return Err(EntryRefused::never("the invoice was already paid or declined"));
        }
        let Some(open) = state.invoices.get(id) else {
            return Err(EntryRefused::not_yet("the invoice is not on the tally yet"));
        };
        if open.payee == payer {
            return Err(EntryRefused::never("a party cannot pay or decline its own invoice"));
        }
        self.settled = Some(*id);
        Ok(*open)
    }

    fn set(&mut self, state: &TallyState, by: Side, setting: &Setting) -> Result<(), EntryRefused> {
        let current = state.side(by);
        let variables = TradingVariables {
            target: setting.target.unwrap_or(current.variables.target),
            bound: setting.bound.unwrap_or(current.variables.bound),
            reward: setting.reward.unwrap_or(current.variables.reward),
            clutch: setting.clutch.unwrap_or(current.variables.clutch),
        };
        variables.check().map_err(EntryRefused::never)?;
        self.side = Some((variables, setting.call.unwrap_or(current.call)));
        if setting.close && self.status == Status::Open {
            self.status = if state.balance == Units::ZERO {
                Status::Closed
            } else {
                Status::Closing
            };
        }
        Ok(())
    }

    fn commit(self, state: &mut TallyState, by: Side, chain: Chain) {
        state.balance = self.balance;
        state.status = self.status;
        if let Some((variables, call)) = self.side {
            let side = state.side_mut(by);
            side.variables = variables;
            side.call = call;
        }
        if let Some((id, invoice)) = self.invoice {
            state.invoices.insert(id, invoice);
        }
        if let Some(id) = self.settled {
            state.invoices.remove(&id);
            state.settled.insert(id);
        }
        state.side_mut(by).chain = chain;
    }
}
