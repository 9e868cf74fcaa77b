//! Paying, invoicing and settings on open tallies, and following their
//! ledgers: every certified chit is kept with the balance after it.

use std::collections::BTreeMap;

use tallymesh_core::block::{EncodedBlock, Genesis};
use tallymesh_core::record::Signed;
use tallymesh_core::rules::{EntryContext, EntryRules};
use tallymesh_core::tally::{
    Chit, ChitBody, ChitDraft, OpenTally, Rate, Setting, TallyEntry, TallyRules, TallyState, other, sign_chit,
};
use tallymesh_core::tally_network::{Side, TallyId};
use tallymesh_core::{Digest, Unit, Units};
use tallymesh_store::{Certified, ChitRow};

use super::negotiate::{Held, to_i64};
use super::{
    ChitKind, ChitPage, ChitStatus, ChitView, NetPosition, PositionPoint, SettingInput, Tallies, TallyChange,
    TallyError, UnitView, Who, amount, now, ours, positive_amount, record_of, side_text, tally_id_text,
};
use crate::ledger::LedgerEvent;

/// How many blocks are read from the store at a time while catching up.
const BLOCKS_PER_READ: u32 = 64;

/// The most chits one page holds.
pub const MAX_PAGE: u32 = 200;

/// An open tally's state as this node followed its ledger.
#[derive(Debug, Clone)]
pub(crate) struct Replica {
    genesis: Genesis,
    state: TallyState,
    /// The height of the last block applied.
    height: u64,
}

impl Tallies {
    /// Pays `amount` (as typed, in the tally's unit) to the partner.
    pub async fn pay(&self, id: &str, amount: &str, memo: &str) -> Result<ChitView, TallyError> {
        let held = self.open_held(id).await?;
        let units = positive_amount(&held.negotiation.tally().unit, amount)?;
        self.sign_and_submit(&held, ChitBody::Transaction { units, invoice: None }, memo)
            .await
    }

    /// Asks the partner to pay `amount`.
    pub async fn invoice(&self, id: &str, amount: &str, memo: &str) -> Result<ChitView, TallyError> {
        let held = self.open_held(id).await?;
        let units = positive_amount(&held.negotiation.tally().unit, amount)?;
        self.sign_and_submit(&held, ChitBody::Invoice { units }, memo).await
    }

    /// Pays the partner's open invoice `invoice` (its id in hex).
    pub async fn approve(&self, id: &str, invoice: &str) -> Result<ChitView, TallyError> {
        let held = self.open_held(id).await?;
        let (invoice, units) = self.partners_invoice(&held, invoice).await?;
        let body = ChitBody::Transaction {
            units,
            invoice: Some(invoice),
        };
        self.sign_and_submit(&held, body, "").await
    }

    /// Declines the partner's open invoice.
    pub async fn decline(&self, id: &str, invoice: &str) -> Result<ChitView, TallyError> {
        let held = self.open_held(id).await?;
        let (invoice, _) = self.partners_invoice(&held, invoice).await?;
        self.sign_and_submit(&held, ChitBody::Decline { invoice }, "").await
    }

    /// Changes our trading variables or call.
    pub async fn set(&self, id: &str, input: &SettingInput) -> Result<ChitView, TallyError> {
        let held = self.open_held(id).await?;
        let unit = held.negotiation.tally().unit.clone();
        let units = |what, text: &Option<String>| {
            text.as_deref()
                .filter(|t| !t.trim().is_empty())
                .map(|t| amount(&unit, what, t))
                .transpose()
        };
        let setting = Setting {
            target: units("The target", &input.target)?,
            bound: units("The bound", &input.bound)?,
            reward: percent("The reward", &input.reward)?,
            clutch: percent("The clutch", &input.clutch)?,
            call: input.call,
            close: false,
        };
        if setting == Setting::default() {
            return Err(TallyError::Invalid("Change at least one setting.".to_owned()));
        }
        self.sign_and_submit(&held, ChitBody::Setting(setting), "").await
    }

    /// Asks to close the tally: it closes when its balance is zero.
    pub async fn close(&self, id: &str) -> Result<ChitView, TallyError> {
        let held = self.open_held(id).await?;
        let setting = Setting {
            close: true,
            ..Setting::default()
        };
        self.sign_and_submit(&held, ChitBody::Setting(setting), "").await
    }

    /// A page of the tally's chits, newest first: at most `limit` (up to
    /// [`MAX_PAGE`]), before the cursor `before` a previous page returned.
    pub async fn chits(&self, id: &str, before: Option<&str>, limit: u32) -> Result<ChitPage, TallyError> {
        let held = self.held(id).await?;
        if let Some(open) = held.open() {
            self.follow(&open).await?;
        }
        let cursor = before.map(parse_cursor).transpose()?;
        let limit = limit.clamp(1, MAX_PAGE);
        let store = self.node.running_store().await?;
        let rows = store.chits(&held.row.tally, cursor, limit).await?;
        let before = (rows.len() == usize::try_from(limit).unwrap_or(usize::MAX))
            .then(|| {
                rows.last()
                    .map(|row| format!("{}:{}:{}", row.date_ms, row.action, tallymesh_core::hash::hex(&row.id)))
            })
            .flatten();
        Ok(ChitPage {
            chits: rows.iter().map(|row| chit_view(row, held.me)).collect(),
            before,
        })
    }

    /// The tally's chits as CSV, oldest first, amounts in its unit.
    pub async fn csv(&self, id: &str) -> Result<String, TallyError> {
        let held = self.held(id).await?;
        let unit = held.negotiation.tally().unit.clone();
        let mut rows = Vec::new();
        let mut before = None;
        loop {
            let page = self.chits(id, before.as_deref(), MAX_PAGE).await?;
            rows.extend(page.chits);
            match page.before {
                Some(next) => before = Some(next),
                None => break,
            }
        }
        rows.reverse();
        let mut out = String::from("date,by,kind,amount,memo,status,balance after\r\n");
        for chit in rows {
            let amount = chit
                .units
                .map(|u| unit.format_number(Units::new(u)))
                .unwrap_or_default();
            let balance = chit
                .balance_after
                .map(|b| unit.format_number(Units::new(b)))
                .unwrap_or_default();
            let fields = [
                iso_date(chit.date_ms),
                format!("{:?}", chit.by).to_lowercase(),
                format!("{:?}", chit.kind).to_lowercase(),
                amount,
                chit.memo,
                format!("{:?}", chit.status).to_lowercase(),
                balance,
            ];
            let line: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
            out.push_str(&line.join(","));
            out.push_str("\r\n");
        }
        Ok(out)
    }

    /// Our net position per unit: now, and after each certified chit.
    pub async fn position(&self) -> Result<Vec<NetPosition>, TallyError> {
        let store = self.node.running_store().await?;
        let mut sides: BTreeMap<[u8; 16], (Side, Unit)> = BTreeMap::new();
        for row in store.tallies().await? {
            if let Some(open) = record_of(&row.current)?.1 {
                self.follow(&open).await?;
                let side = if row.side == side_text(Side::Stock) {
                    Side::Stock
                } else {
                    Side::Foil
                };
                sides.insert(row.tally, (side, open.tally().unit.clone()));
            }
        }
        let mut positions: BTreeMap<String, NetPosition> = BTreeMap::new();
        let mut balances: BTreeMap<[u8; 16], i64> = BTreeMap::new();
        for (tally, at_ms, balance) in store.certified_balances().await? {
            let Some((side, unit)) = sides.get(&tally) else {
                continue;
            };
            balances.insert(tally, ours(Units::new(balance), *side));
            let net = balances
                .iter()
                .filter(|(t, _)| sides.get(*t).is_some_and(|(_, u)| u == unit))
                .map(|(_, b)| *b)
                .sum();
            let position = positions.entry(unit.code().to_owned()).or_insert_with(|| NetPosition {
                unit: UnitView {
                    code: unit.code().to_owned(),
                    scale: unit.scale(),
                },
                net: 0,
                points: Vec::new(),
            });
            position.net = net;
            position.points.push(PositionPoint {
                at_ms: u64::try_from(at_ms).unwrap_or(0),
                net,
            });
        }
        Ok(positions.into_values().collect())
    }

    /// An open tally, as kept.
    async fn open_held(&self, id: &str) -> Result<Held, TallyError> {
        let held = self.held(id).await?;
        if held.open().is_none() || held.row.stage == "closed" {
            return Err(TallyError::NotOpen);
        }
        Ok(held)
    }

    /// The partner's open invoice with this id, and its amount.
    async fn partners_invoice(&self, held: &Held, invoice: &str) -> Result<(Digest, Units), TallyError> {
        let open = held.open().ok_or(TallyError::NotOpen)?;
        let state = self.follow(&open).await?;
        let id = crate::ledger_api::unhex(invoice.trim())
            .and_then(|b| <[u8; 32]>::try_from(b).ok())
            .map(Digest)
            .ok_or_else(|| TallyError::Invalid("That is not an invoice id.".to_owned()))?;
        match state.open_invoices().get(&id) {
            Some(open) if open.payee == other(held.me) => Ok((id, open.units)),
            Some(_) => Err(TallyError::Invalid(
                "That invoice is ours, not the partner's.".to_owned(),
            )),
            None => Err(TallyError::Invalid(
                "That invoice is not open: it was paid or declined, or is not final yet.".to_owned(),
            )),
        }
    }

    /// Signs our next chit, checks it against the tally's state and our
    /// pending chits, submits it to the ledger and keeps it as pending.
    async fn sign_and_submit(&self, held: &Held, body: ChitBody, memo: &str) -> Result<ChitView, TallyError> {
        let party_key = self.node.identity().party_key().await?;
        let open = held.open().ok_or(TallyError::NotOpen)?;
        let tally = open.tally().id;
        let (mut state, height, genesis) = {
            self.follow(&open).await?;
            let book = self.node.inner.tally_book.lock().await;
            let replica = book
                .replicas
                .get(&tally)
                .ok_or_else(|| TallyError::Invalid("The tally's ledger is not followed.".to_owned()))?;
            (replica.state.clone(), replica.height, replica.genesis.clone())
        };
        let now = now();
        let context = EntryContext {
            tally,
            height: height + 1,
            time: now,
            network: &genesis.network,
        };
        // Our chits not final yet come first, in their order.
        let store = self.node.running_store().await?;
        let mut pending: Vec<ChitRow> = Vec::new();
        let mut before = None;
        loop {
            let page = store.chits(&tally.0, before, MAX_PAGE).await?;
            let Some(last) = page.last() else { break };
            before = Some((last.date_ms, last.action, last.id));
            pending.extend(page.into_iter().filter(|row| {
                row.certified.is_none()
                    && row.refused.is_none()
                    && row.by_side == side_text(held.me)
                    && u64::try_from(row.action).is_ok_and(|a| a >= state.next_index(held.me))
            }));
        }
        pending.sort_by_key(|row| row.action);
        for row in &pending {
            // A pending chit the state no longer takes will be refused by
            // the network too; the new one is checked without it.
            let _ = TallyRules.apply(&mut state, &row.chit, &context);
        }
        let index = state.next_index(held.me);
        let memo: String = memo.trim().to_owned();
        let chit = sign_chit(
            &party_key,
            tally,
            index,
            ChitDraft {
                by: held.me,
                date: now,
                memo,
                body,
            },
        );
        TallyRules
            .check(&state, chit.bytes(), &context)
            .map_err(|refused| TallyError::Refused(super::sentence(&refused.reason)))?;
        let row = chit_row(&chit, tally);
        store.add_chit(&row).await?;
        self.node
            .inner
            .ledgers
            .submit(tally, chit.bytes().to_vec())
            .await
            .map_err(|e| TallyError::Refused(super::sentence(&e.to_string())))?;
        self.changed(tally, TallyChange::Updated);
        Ok(chit_view(&row, held.me))
    }

    /// Brings the replica of an open tally up to the blocks the store
    /// holds, keeping every chit they certify, and returns its state.
    pub(crate) async fn follow(&self, open: &OpenTally) -> Result<TallyState, TallyError> {
        let tally = open.tally().id;
        let store = self.node.running_store().await?;
        let mut book = self.node.inner.tally_book.lock().await;
        let replica = match book.replicas.entry(tally) {
            std::collections::hash_map::Entry::Occupied(entry) => entry.into_mut(),
            std::collections::hash_map::Entry::Vacant(entry) => {
                let genesis = open.genesis().map_err(|e| TallyError::Invalid(format!("{e}.")))?;
                entry.insert(Replica {
                    genesis,
                    state: TallyState::opened(open),
                    height: 0,
                })
            }
        };
        if !store.ledger_tallies().await?.iter().any(|t| t.tally == tally.0) {
            // Not served here: nothing to follow.
            return Ok(replica.state.clone());
        }
        let me = open
            .tally()
            .side_of(
                &self
                    .node
                    .identity()
                    .device_certificate()
                    .await?
                    .record()
                    .party
                    .key()
                    .to_owned(),
            )
            .unwrap_or(Side::Stock);
        loop {
            let blocks = store
                .ledger_blocks(&tally.0, replica.height + 1, BLOCKS_PER_READ)
                .await?;
            if blocks.is_empty() {
                break;
            }
            for stored in blocks {
                let block = EncodedBlock::from_bytes(&stored.block)
                    .map_err(|e| TallyError::Invalid(format!("A certified block does not read: {e}.")))?;
                let block = block.block();
                let context = EntryContext {
                    tally,
                    height: block.height,
                    time: block.time,
                    network: &replica.genesis.network,
                };
                for entry in &block.entries {
                    if let Err(refused) = TallyRules.apply(&mut replica.state, entry, &context) {
                        tracing::warn!(tally = %tally_id_text(&tally), "a certified entry does not apply here: {refused}");
                        continue;
                    }
                    let Ok(TallyEntry::Chit(chit)) = TallyEntry::from_bytes(entry) else {
                        continue;
                    };
                    let row = chit_row(&chit, tally);
                    let new = store.add_chit(&row).await?;
                    let certified = Certified {
                        height: i64::try_from(block.height).unwrap_or(i64::MAX),
                        at_ms: to_i64(block.time),
                        balance: replica.state.balance().parts(),
                    };
                    if store.certify_chit(&tally.0, &row.id, certified).await? {
                        let theirs = chit.record().by != me;
                        let change = match (&chit.record().body, theirs) {
                            (ChitBody::Invoice { .. }, true) => TallyChange::InvoiceReceived,
                            (_, true) if new => TallyChange::ChitReceived,
                            _ => TallyChange::ChitCertified,
                        };
                        self.changed(tally, change);
                    }
                }
                replica.height = block.height;
                let stage = match replica.state.status() {
                    tallymesh_core::tally::Status::Open => "open",
                    tallymesh_core::tally::Status::Closing => "closing",
                    tallymesh_core::tally::Status::Closed => "closed",
                };
                if let Some(mut row) = store.tally(&tally.0).await?
                    && row.stage != stage
                {
                    row.stage = stage.to_owned();
                    row.updated_at_ms = to_i64(now());
                    store.save_tally(&row).await?;
                    self.changed(tally, TallyChange::Updated);
                }
            }
        }
        Ok(replica.state.clone())
    }

    /// Follows what the ledgers report: certified blocks of our tallies,
    /// and our chits the network refused.
    pub(crate) async fn on_ledger(&self, event: LedgerEvent) -> Result<(), TallyError> {
        use tallymesh_protocol::ledger::Event;
        let store = self.node.running_store().await?;
        let Some(row) = store.tally(&event.tally.0).await? else {
            return Ok(());
        };
        match event.event {
            Event::BlockCertified { .. } => {
                if let Some(open) = record_of(&row.current)?.1 {
                    self.follow(&open).await?;
                }
            }
            Event::EntryRefused { id, reason } => {
                store
                    .refuse_chit(&event.tally.0, &id.0, &super::sentence(&reason))
                    .await?;
                self.changed(event.tally, TallyChange::ChitRefused);
            }
            _ => {}
        }
        Ok(())
    }
}

/// A chit as kept.
fn chit_row(chit: &Signed<Chit>, tally: TallyId) -> ChitRow {
    let record = chit.record();
    let (kind, units) = match &record.body {
        ChitBody::Transaction { units, .. } => (
            "transaction",
            Some(match record.by {
                Side::Foil => units.parts(),
                Side::Stock => units.parts().saturating_neg(),
            }),
        ),
        ChitBody::Invoice { units } => ("invoice", Some(units.parts())),
        ChitBody::Decline { .. } => ("decline", None),
        ChitBody::Setting(_) => ("setting", None),
    };
    ChitRow {
        tally: tally.0,
        id: chit.id().0,
        by_side: side_text(record.by).to_owned(),
        action: i64::try_from(record.index).unwrap_or(i64::MAX),
        kind: kind.to_owned(),
        units,
        memo: record.memo.clone(),
        date_ms: to_i64(record.date),
        chit: chit.bytes().to_vec(),
        certified: None,
        refused: None,
    }
}

/// A kept chit from our side.
fn chit_view(row: &ChitRow, me: Side) -> ChitView {
    let by = if row.by_side == side_text(me) {
        Who::Us
    } else {
        Who::Partner
    };
    let kind = match row.kind.as_str() {
        "transaction" => ChitKind::Transaction,
        "invoice" => ChitKind::Invoice,
        "decline" => ChitKind::Decline,
        _ => ChitKind::Setting,
    };
    let flip = |units: i64| ours(Units::new(units), me);
    let invoice = Signed::<Chit>::from_bytes(&row.chit)
        .ok()
        .and_then(|chit| match chit.record().body {
            ChitBody::Transaction { invoice, .. } => invoice,
            ChitBody::Decline { invoice } => Some(invoice),
            _ => None,
        });
    ChitView {
        id: tallymesh_core::hash::hex(&row.id),
        by,
        kind,
        units: match kind {
            // Kept as the change to what the foil owes; shown from our side.
            ChitKind::Transaction => row.units.map(flip),
            _ => row.units,
        },
        memo: row.memo.clone(),
        date_ms: u64::try_from(row.date_ms).unwrap_or(0),
        status: match (&row.certified, &row.refused) {
            (Some(_), _) => ChitStatus::Final,
            (None, Some(_)) => ChitStatus::Refused,
            (None, None) => ChitStatus::Pending,
        },
        refused_reason: row.refused.clone(),
        balance_after: row.certified.map(|c| flip(c.balance)),
        invoice: invoice.map(|d| tallymesh_core::hash::hex(&d.0)),
    }
}

/// Reads a page cursor `date_ms:action:id-hex`.
fn parse_cursor(text: &str) -> Result<(i64, i64, [u8; 32]), TallyError> {
    let bad = || TallyError::Invalid("That page cursor does not read.".to_owned());
    let mut parts = text.splitn(3, ':');
    let (Some(date), Some(action), Some(id)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(bad());
    };
    let date = date.parse().map_err(|_| bad())?;
    let action = action.parse().map_err(|_| bad())?;
    let id = crate::ledger_api::unhex(id)
        .and_then(|b| <[u8; 32]>::try_from(b).ok())
        .ok_or_else(bad)?;
    Ok((date, action, id))
}

/// Reads a fee typed in percent (`0.5` is half a percent) as a rate.
fn percent(what: &'static str, text: &Option<String>) -> Result<Option<Rate>, TallyError> {
    let Some(text) = text.as_deref().filter(|t| !t.trim().is_empty()) else {
        return Ok(None);
    };
    // Percent with four decimals is exactly millionths.
    let unit = Unit::new("PCT", 4).map_err(|e| TallyError::Invalid(e.to_string()))?;
    let ppm = unit.parse(text).map_err(|error| TallyError::Amount { what, error })?;
    let rate = i32::try_from(ppm.parts())
        .ok()
        .map(Rate::new)
        .filter(|r| r.is_fraction());
    rate.map(Some)
        .ok_or_else(|| TallyError::Invalid(format!("{what} is a percentage between -100 and 100.")))
}

/// A CSV field, quoted when it must be.
fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

/// A moment as an ISO 8601 date and time in UTC.
fn iso_date(ms: u64) -> String {
    let secs = ms / 1000;
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let rem = secs % 86_400;
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3_600,
        rem % 3_600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_print_as_iso_8601_in_utc() {
        assert_eq!(iso_date(0), "1970-01-01T00:00:00Z");
        assert_eq!(iso_date(1_700_000_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(iso_date(951_782_400_000), "2000-02-29T00:00:00Z");
    }

    #[test]
    fn csv_fields_are_quoted_only_when_needed() {
        assert_eq!(csv_field("lunch"), "lunch");
        assert_eq!(csv_field("fish, chips"), "\"fish, chips\"");
        assert_eq!(csv_field("a \"b\""), "\"a \"\"b\"\"\"");
    }

    #[test]
    fn percentages_read_as_exact_millionths() {
        assert_eq!(percent("r", &Some("0.5".into())).unwrap(), Some(Rate::new(5_000)));
        assert_eq!(percent("r", &Some("-100".into())).unwrap(), Some(Rate::new(-1_000_000)));
        assert!(percent("r", &Some("100.0001".into())).is_err());
        assert!(percent("r", &Some("0.00001".into())).is_err());
        assert_eq!(percent("r", &None).unwrap(), None);
    }

    #[test]
    fn a_cursor_reads_back() {
        let id = [7u8; 32];
        let text = format!("{}:{}:{}", 42, 3, tallymesh_core::hash::hex(&id));
        assert_eq!(parse_cursor(&text).unwrap(), (42, 3, id));
        assert!(parse_cursor("42:beef").is_err());
        assert!(parse_cursor("nonsense").is_err());
    }

    #[test]
    fn chit_views_are_from_our_side() {
        let row = ChitRow {
            tally: [1; 16],
            id: [2; 32],
            by_side: "foil".into(),
            action: 0,
            kind: "transaction".into(),
            units: Some(12_500),
            memo: String::new(),
            date_ms: 0,
            chit: Vec::new(),
            certified: Some(Certified {
                height: 1,
                at_ms: 1,
                balance: 12_500,
            }),
            refused: None,
        };
        let foil = chit_view(&row, Side::Foil);
        assert_eq!(
            (foil.by, foil.units, foil.balance_after),
            (Who::Us, Some(-12_500), Some(-12_500))
        );
        let stock = chit_view(&row, Side::Stock);
        assert_eq!(
            (stock.by, stock.units, stock.balance_after),
            (Who::Partner, Some(12_500), Some(12_500))
        );
    }
}
