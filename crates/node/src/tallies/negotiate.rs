//! Offering, countering, accepting and refusing tallies, and taking what the
//! partner sent (`docs/protocol/tally.md`, "Negotiation").

use std::collections::HashMap;

use tallymesh_core::card::ContactCard;
use tallymesh_core::record::Signed;
use tallymesh_core::tally::{Contract, OpenTally, Party, Refusal, Tally, Terms, other};
use tallymesh_core::tally_network::Side;
use tallymesh_core::{Digest, PartyId, PublicKey, Timestamp, Unit};
use tallymesh_protocol::negotiation::{
    Change, ContractText, MAX_CONTRACT_TEXT_BYTES, Negotiation, Stage, TallyMessage, limits,
};
use tallymesh_store::{TallyMessageRow, TallyRow};

use super::{
    ContractView, RefusalView, RevisionView, RoomView, Tallies, TallyChange, TallyDetail, TallyError, TallyOffer,
    TallyStage, TallySummary, TallyTerms, TermsView, UnitView, VariablesView, Who, amount, now, ours, record_of,
    side_of_view, side_text, side_view, tally_id_text,
};
use crate::ledger::RulesState;
use crate::{Node, NodeError};

/// The longest an offer may stay open, in hours (a month).
pub const MAX_OFFER_HOURS: u32 = 24 * 31;

/// A tally as kept, with its negotiation rebuilt from its messages.
#[derive(Debug, Clone)]
pub(crate) struct Held {
    pub(crate) row: TallyRow,
    pub(crate) me: Side,
    pub(crate) partner: PublicKey,
    pub(crate) negotiation: Negotiation,
    /// The texts of the contracts its revisions name, by their hash.
    pub(crate) contracts: HashMap<Digest, String>,
}

impl Held {
    /// Rebuilds a kept tally's negotiation by replaying its messages.
    pub(crate) async fn load(node: &Node, row: &TallyRow) -> Result<Held, TallyError> {
        let store = node.running_store().await?;
        let me = if row.side == side_text(Side::Stock) {
            Side::Stock
        } else {
            Side::Foil
        };
        let partner = PublicKey::from_bytes(&row.partner)
            .map_err(|e| TallyError::Invalid(format!("A kept tally names a partner key that does not read: {e}.")))?;
        let (latest, _) = record_of(&row.current)?;
        let my_party = latest.side(me).party;
        let messages = store.tally_messages(&row.tally).await?;
        let (negotiation, contracts) = replay(me, &my_party, &messages)?;
        Ok(Held {
            row: row.clone(),
            me,
            partner,
            negotiation,
            contracts,
        })
    }

    /// The open tally, once both signed.
    pub(crate) fn open(&self) -> Option<OpenTally> {
        match self.negotiation.stage() {
            Stage::Open(open) => Some(open.clone()),
            _ => None,
        }
    }

    fn stage(&self) -> TallyStage {
        match (self.negotiation.stage(), self.row.stage.as_str()) {
            (Stage::Open(_), "closing") => TallyStage::Closing,
            (Stage::Open(_), "closed") => TallyStage::Closed,
            (Stage::Open(_), _) => TallyStage::Open,
            (Stage::Refused { .. }, _) => TallyStage::Refused,
            (Stage::Draft(_) | Stage::Offered(_), _) => TallyStage::Offered,
        }
    }

    fn who(&self, side: Side) -> Who {
        if side == self.me { Who::Us } else { Who::Partner }
    }

    /// What a list shows.
    pub(crate) fn summary(&self, names: &HashMap<[u8; 32], String>, now: Timestamp) -> TallySummary {
        let tally = self.negotiation.tally();
        let partner_name = names
            .get(self.partner.as_bytes())
            .cloned()
            .unwrap_or_else(|| PartyId::new(self.partner).fingerprint());
        TallySummary {
            id: tally_id_text(&tally.id),
            party_id: PartyId::new(self.partner).to_string(),
            partner_name,
            side: side_view(self.me),
            stage: self.stage(),
            waiting_for: self.negotiation.waiting_for().map(|side| self.who(side)),
            expired: self.negotiation.expired(now),
            revision: tally.revision,
            unit: UnitView {
                code: tally.unit.code().to_owned(),
                scale: tally.unit.scale(),
            },
            balance: ours(tallymesh_core::Units::new(self.row.balance), self.me),
            we_grant: tally.side(self.me).terms.limit.parts(),
            they_grant: tally.side(other(self.me)).terms.limit.parts(),
            memo: tally.memo.clone(),
            updated_at_ms: u64::try_from(self.row.updated_at_ms).unwrap_or(0),
            waiting_for_nodes: None,
        }
    }

    /// Everything about the tally; `state` once it is open.
    pub(crate) fn detail(
        &self,
        names: &HashMap<[u8; 32], String>,
        state: Option<&tallymesh_core::tally::TallyState>,
        now: Timestamp,
    ) -> TallyDetail {
        let mut summary = self.summary(names, now);
        if let Some(state) = state {
            summary.balance = ours(state.balance(), self.me);
        }
        let revisions = self.negotiation.revisions();
        let revisions = revisions
            .iter()
            .enumerate()
            .map(|(i, signed)| {
                let before = i.checked_sub(1).and_then(|j| revisions.get(j)).map(|r| r.record());
                self.revision_view(signed, before)
            })
            .collect();
        let refusal = match self.negotiation.stage() {
            Stage::Refused { refusal, by } => Some(RefusalView {
                by: self.who(*by),
                reason: refusal.record().reason.clone(),
            }),
            _ => None,
        };
        let tally = self.negotiation.tally();
        let peers = |side: Side| {
            tally
                .side(side)
                .nodes
                .iter()
                .filter_map(|key| tallymesh_net::peer_id_of_ed25519(key.as_bytes()).map(|p| p.to_string()))
                .collect()
        };
        let variables = state.map(|state| {
            let view = |side: Side| {
                let v = state.variables(side);
                super::TradingVariablesView {
                    target: v.target.parts(),
                    bound: v.bound.parts(),
                    reward_ppm: v.reward.millionths(),
                    clutch_ppm: v.clutch.millionths(),
                    call: state.call(side),
                }
            };
            VariablesView {
                ours: view(self.me),
                theirs: view(other(self.me)),
            }
        });
        let open_invoices = state
            .map(|state| {
                state
                    .open_invoices()
                    .iter()
                    .map(|(id, invoice)| super::InvoiceView {
                        id: tallymesh_core::hash::hex(&id.0),
                        payee: self.who(invoice.payee),
                        units: invoice.units.parts(),
                        memo: String::new(),
                        date_ms: 0,
                    })
                    .collect()
            })
            .unwrap_or_default();
        let room = state.map(|state| RoomView {
            we_can_pay: state.room(self.me).parts(),
            they_can_pay: state.room(other(self.me)).parts(),
        });
        TallyDetail {
            summary,
            revisions,
            refusal,
            our_nodes: peers(self.me),
            their_nodes: peers(other(self.me)),
            variables,
            open_invoices,
            room,
        }
    }

    fn revision_view(&self, signed: &Signed<Tally>, before: Option<&Tally>) -> RevisionView {
        let tally = signed.record();
        let by = tally
            .side_of(signed.signer())
            .map_or(Who::Partner, |side| self.who(side));
        let changes = before
            .map(|before| {
                tally
                    .changes_from(before)
                    .into_iter()
                    .map(|name| self.change_name(name).to_owned())
                    .collect()
            })
            .unwrap_or_default();
        RevisionView {
            revision: tally.revision,
            by,
            date_ms: tally.date.as_millis(),
            expires_ms: tally.expires.as_millis(),
            memo: tally.memo.clone(),
            terms: terms_view(tally, self.me),
            contract: tally.contract.as_ref().map(|c| ContractView {
                title: c.title.clone(),
                hash: tallymesh_core::hash::hex(&c.hash.0),
                text: self.contracts.get(&c.hash).cloned(),
            }),
            changes,
        }
    }

    /// A change named by side (`stock limit`) as named from our side (`weGrant`).
    fn change_name(&self, name: &'static str) -> &'static str {
        let mine = |side: &str| (side == "stock") == (self.me == Side::Stock);
        match name.split_once(' ') {
            Some((side, "limit")) if mine(side) => "weGrant",
            Some((_, "limit")) => "theyGrant",
            Some((side, "call")) if mine(side) => "ourCall",
            Some((_, "call")) => "theirCall",
            Some((side, "nodes")) if mine(side) => "ourNodes",
            Some((_, "nodes")) => "theirNodes",
            Some((_, "party")) => "parties",
            _ => name,
        }
    }
}

fn terms_view(tally: &Tally, me: Side) -> TermsView {
    TermsView {
        we_grant: tally.side(me).terms.limit.parts(),
        they_grant: tally.side(other(me)).terms.limit.parts(),
        our_call: tally.side(me).terms.call,
        their_call: tally.side(other(me)).terms.call,
    }
}

/// Rebuilds a negotiation from its kept messages, in order, with the
/// contract texts they carried.
fn replay(
    me: Side,
    my_party: &PublicKey,
    messages: &[TallyMessageRow],
) -> Result<(Negotiation, HashMap<Digest, String>), TallyError> {
    let mut negotiation: Option<Negotiation> = None;
    let mut contracts = HashMap::new();
    for row in messages {
        let message = TallyMessage::decode(&row.message, &limits())
            .map_err(|e| TallyError::Invalid(format!("A kept negotiation message does not read: {e}.")))?;
        let at = Timestamp::from_millis(u64::try_from(row.at_ms).unwrap_or(0));
        match (negotiation.as_mut(), row.outgoing, message) {
            (_, _, TallyMessage::Contract(contract)) => {
                contracts.insert(contract.hash(), contract.text);
            }
            // A device that never saw the negotiation starts from the
            // open tally (see `nodes`).
            (None, false, TallyMessage::Accept(open)) => negotiation = Some(Negotiation::opened(my_party, &open)?),
            (None, true, TallyMessage::Offer(offer)) => {
                let mut started = Negotiation::draft(me, offer.record().clone());
                started.offer(offer, at)?;
                negotiation = Some(started);
            }
            (None, _, message) => negotiation = Some(Negotiation::received(my_party, &message, at)?),
            (Some(n), true, TallyMessage::Offer(offer)) => {
                n.offer(offer, at)?;
            }
            (Some(n), true, TallyMessage::Accept(open)) => {
                let mine = match me {
                    Side::Stock => open.stock().clone(),
                    Side::Foil => open.foil().clone(),
                };
                n.accept(mine, at)?;
            }
            (Some(n), true, TallyMessage::Refuse(refusal)) => {
                n.refuse(refusal)?;
            }
            (Some(n), false, message) => {
                n.receive(&message, at)?;
            }
        }
    }
    let negotiation =
        negotiation.ok_or_else(|| TallyError::Invalid("A kept tally has no negotiation messages.".to_owned()))?;
    Ok((negotiation, contracts))
}

impl Tallies {
    /// Offers a new tally to a contact, signed by our party. Returns it as
    /// the list shows it; the offer goes to the partner's devices as soon
    /// as one is reachable.
    pub async fn propose(&self, offer: TallyOffer) -> Result<TallySummary, TallyError> {
        let party_key = self.node.identity().party_key().await?;
        let partner: PartyId = offer
            .party_id
            .trim()
            .parse()
            .map_err(|_| TallyError::NotAContact(offer.party_id.chars().take(80).collect()))?;
        let card = self.contact_card(&partner).await?;
        if offer.expires_in_hours == 0 || offer.expires_in_hours > MAX_OFFER_HOURS {
            return Err(TallyError::Invalid(format!(
                "An offer stays open from 1 to {MAX_OFFER_HOURS} hours."
            )));
        }
        let me = side_of_view(offer.side);
        let unit = Unit::chip();
        let now = now();
        let our = Party {
            party: party_key.public(),
            terms: Terms {
                limit: amount(&unit, "What they may owe us", &offer.we_grant)?,
                call: offer.our_call,
            },
            nodes: self.our_nodes(offer.our_nodes.as_deref()).await?,
        };
        let theirs = Party {
            party: *partner.key(),
            terms: Terms {
                limit: amount(&unit, "What we may owe them", &offer.they_grant)?,
                call: offer.their_call,
            },
            nodes: super::nodes::partner_nodes(&card)?,
        };
        if let Some(c) = &offer.contract
            && c.text.len() > MAX_CONTRACT_TEXT_BYTES
        {
            return Err(TallyError::Invalid(format!(
                "A contract's text is at most {} KiB.",
                MAX_CONTRACT_TEXT_BYTES / 1024
            )));
        }
        let contract_text = offer.contract.as_ref().map(|c| c.text.clone());
        let contract = offer.contract.map(|c| Contract {
            title: c.title.trim().to_owned(),
            hash: Digest::of(c.text.as_bytes()),
        });
        let (stock, foil) = match me {
            Side::Stock => (our, theirs),
            Side::Foil => (theirs, our),
        };
        let tally = Tally {
            revision: 1,
            id: super::new_id(now)?,
            date: now,
            expires: now.plus_millis(u64::from(offer.expires_in_hours) * 3_600_000),
            memo: offer.memo.trim().to_owned(),
            unit,
            contract,
            stock,
            foil,
        };
        let signed = sign_checked(tally.clone(), &party_key)?;
        let mut negotiation = Negotiation::draft(me, tally);
        let message = negotiation.offer(signed.clone(), now)?;
        let row = TallyRow {
            tally: signed.record().id.0,
            partner: *partner.key().as_bytes(),
            side: side_text(me).to_owned(),
            stage: "offered".to_owned(),
            current: signed.bytes().to_vec(),
            balance: 0,
            created_at_ms: to_i64(now),
            updated_at_ms: to_i64(now),
        };
        self.keep(&row, &message, true, now).await?;
        if let Some(text) = contract_text {
            // After the offer, so that it finds the offer there.
            let contract = TallyMessage::Contract(ContractText {
                tally: signed.record().id,
                text,
            });
            self.keep(&row, &contract, true, now).await?;
        }
        tracing::info!(tally = %tally_id_text(&signed.record().id), "offered a tally");
        self.sent(signed.record().id, TallyChange::Updated);
        self.summary_of(&row).await
    }

    /// Counters the partner's offer with our terms: a new revision.
    pub async fn counter(&self, id: &str, terms: TallyTerms) -> Result<TallySummary, TallyError> {
        let party_key = self.node.identity().party_key().await?;
        let mut held = self.held(id).await?;
        let current = held.negotiation.tally().clone();
        let now = now();
        let window = current.expires.millis_since(current.date).max(3_600_000);
        let mut next = current.clone();
        next.revision = current.revision + 1;
        next.date = now;
        next.expires = now.plus_millis(window);
        next.memo = terms.memo.trim().to_owned();
        let me = held.me;
        let ours = match me {
            Side::Stock => &mut next.stock,
            Side::Foil => &mut next.foil,
        };
        ours.terms = Terms {
            limit: amount(&current.unit, "What they may owe us", &terms.we_grant)?,
            call: terms.our_call,
        };
        ours.nodes = self.our_nodes(terms.our_nodes.as_deref()).await?;
        let theirs = match me {
            Side::Stock => &mut next.foil,
            Side::Foil => &mut next.stock,
        };
        theirs.terms = Terms {
            limit: amount(&current.unit, "What we may owe them", &terms.they_grant)?,
            call: terms.their_call,
        };
        let signed = sign_checked(next, &party_key)?;
        let message = held.negotiation.offer(signed.clone(), now)?;
        held.row.stage = "offered".to_owned();
        held.row.current = signed.bytes().to_vec();
        held.row.updated_at_ms = to_i64(now);
        self.keep(&held.row, &message, true, now).await?;
        self.sent(current.id, TallyChange::Updated);
        self.summary_of(&held.row).await
    }

    /// Accepts the partner's offer: the tally opens, and this device
    /// starts serving its ledger.
    pub async fn accept(&self, id: &str) -> Result<TallySummary, TallyError> {
        let party_key = self.node.identity().party_key().await?;
        let mut held = self.held(id).await?;
        let now = now();
        if held.negotiation.waiting_for() == Some(held.me) {
            // Only an offer we may accept names nodes for us to check.
            self.check_named_for_us(&held.negotiation.tally().side(held.me).nodes)
                .await?;
        }
        let signed = Signed::sign(held.negotiation.tally().clone(), &party_key);
        let message = held.negotiation.accept(signed, now)?;
        let TallyMessage::Accept(open) = &message else {
            return Err(TallyError::Invalid("Accepting made no open tally.".to_owned()));
        };
        held.row.stage = "open".to_owned();
        held.row.current = open.bytes().to_vec();
        held.row.updated_at_ms = to_i64(now);
        self.keep(&held.row, &message, true, now).await?;
        self.serve(open).await?;
        tracing::info!(tally = %id.trim(), "accepted a tally");
        self.sent(open.tally().id, TallyChange::Accepted);
        self.summary_of(&held.row).await
    }

    /// Refuses the partner's offer, or withdraws ours, with a reason.
    pub async fn refuse(&self, id: &str, reason: &str) -> Result<TallySummary, TallyError> {
        let party_key = self.node.identity().party_key().await?;
        let mut held = self.held(id).await?;
        let Stage::Offered(offer) = held.negotiation.stage() else {
            return Err(TallyError::Invalid("There is no offer to refuse.".to_owned()));
        };
        let reason: String = reason.trim().chars().take(200).collect();
        let refusal = Refusal {
            tally: offer.record().id,
            revision: offer.record().revision,
            reason,
            offer: offer.id(),
        };
        let now = now();
        let message = held.negotiation.refuse(Signed::sign(refusal, &party_key))?;
        held.row.stage = "refused".to_owned();
        held.row.updated_at_ms = to_i64(now);
        self.keep(&held.row, &message, true, now).await?;
        self.sent(held.negotiation.tally().id, TallyChange::Refused);
        self.summary_of(&held.row).await
    }

    /// Takes a negotiation message from the partner's device. Returns what
    /// it changed, or why it was refused.
    pub(crate) async fn take(&self, message: TallyMessage) -> Result<Change, TallyError> {
        let now = now();
        let store = self.node.running_store().await?;
        let certificate = self.node.identity().device_certificate().await?;
        let my_party = *certificate.record().party.key();
        let tally = message.tally();
        let Some(row) = store.tally(&tally.0).await? else {
            let negotiation = Negotiation::received(&my_party, &message, now)?;
            let TallyMessage::Offer(offer) = &message else {
                return Err(TallyError::Invalid("A negotiation starts with an offer.".to_owned()));
            };
            let me = negotiation.me();
            let partner = offer.record().side(other(me)).party;
            self.contact_card(&PartyId::new(partner)).await?;
            let row = TallyRow {
                tally: tally.0,
                partner: *partner.as_bytes(),
                side: side_text(me).to_owned(),
                stage: "offered".to_owned(),
                current: offer.bytes().to_vec(),
                balance: 0,
                created_at_ms: to_i64(now),
                updated_at_ms: to_i64(now),
            };
            self.keep(&row, &message, false, now).await?;
            tracing::info!(tally = %tally_id_text(&tally), "a tally was offered to us");
            self.changed(tally, TallyChange::OfferReceived);
            return Ok(Change::Offered);
        };
        let mut held = Held::load(&self.node, &row).await?;
        if let TallyMessage::Contract(contract) = &message {
            return self.take_contract(&held, contract, &message, now).await;
        }
        let change = held.negotiation.receive(&message, now)?;
        let (stage, notice) = match change {
            Change::Unchanged | Change::Stale => return Ok(change),
            Change::Offered => ("offered", TallyChange::CounterReceived),
            Change::Opened => ("open", TallyChange::Accepted),
            Change::Refused => ("refused", TallyChange::Refused),
        };
        held.row.stage = stage.to_owned();
        match held.negotiation.stage() {
            Stage::Offered(offer) => held.row.current = offer.bytes().to_vec(),
            Stage::Open(open) => held.row.current = open.bytes().to_vec(),
            Stage::Draft(_) | Stage::Refused { .. } => {}
        }
        held.row.updated_at_ms = to_i64(now);
        self.keep(&held.row, &message, false, now).await?;
        if let Some(open) = held.open() {
            self.serve(&open).await?;
        }
        self.changed(tally, notice);
        Ok(change)
    }

    /// Keeps the text of a contract a revision of the tally names, once its
    /// hash is checked.
    async fn take_contract(
        &self,
        held: &Held,
        contract: &ContractText,
        message: &TallyMessage,
        now: Timestamp,
    ) -> Result<Change, TallyError> {
        let hash = contract.hash();
        if held.contracts.contains_key(&hash) {
            return Ok(Change::Unchanged);
        }
        let named = held
            .negotiation
            .revisions()
            .iter()
            .any(|r| r.record().contract.as_ref().is_some_and(|c| c.hash == hash));
        if !named {
            return Err(TallyError::Invalid(
                "That contract text is not the one the tally names: its SHA-256 differs.".to_owned(),
            ));
        }
        let store = self.node.running_store().await?;
        store
            .add_tally_message(&held.row.tally, false, &message.encode(), to_i64(now))
            .await?;
        self.changed(contract.tally, TallyChange::Updated);
        Ok(Change::Unchanged)
    }

    /// Keeps a tally's row and one of its messages.
    pub(super) async fn keep(
        &self,
        row: &TallyRow,
        message: &TallyMessage,
        outgoing: bool,
        now: Timestamp,
    ) -> Result<(), TallyError> {
        let store = self.node.running_store().await?;
        store.save_tally(row).await?;
        store
            .add_tally_message(&row.tally, outgoing, &message.encode(), to_i64(now))
            .await?;
        Ok(())
    }

    /// Starts serving an open tally's ledger on this device, when we named
    /// it, and tells the other nodes of the tally.
    pub(crate) async fn serve(&self, open: &OpenTally) -> Result<(), TallyError> {
        let tally = open.tally();
        let node_key = self.node.inner.ledgers.node();
        if !tally.stock.nodes.contains(&node_key) && !tally.foil.nodes.contains(&node_key) {
            return Ok(());
        }
        let genesis = open.genesis().map_err(|e| TallyError::Invalid(format!("{e}.")))?;
        // Let the ledger reach the partner's nodes where their card says.
        self.node
            .inner
            .ledgers
            .serve(genesis, RulesState::tally(open))
            .await
            .map_err(|e| NodeError::Ledger(e.to_string()))?;
        self.node.inner.tally_outbox.notify_one();
        Ok(())
    }

    /// A message of ours is ready: wake the outbox.
    fn sent(&self, tally: tallymesh_core::tally_network::TallyId, change: TallyChange) {
        self.node.inner.tally_outbox.notify_one();
        self.changed(tally, change);
    }

    async fn summary_of(&self, row: &TallyRow) -> Result<TallySummary, TallyError> {
        let held = Held::load(&self.node, row).await?;
        Ok(held.summary(&self.partner_names().await?, now()))
    }

    /// The contact's card, as kept.
    pub(crate) async fn contact_card(&self, party: &PartyId) -> Result<ContactCard, TallyError> {
        let store = self.node.running_store().await?;
        let row = store
            .contact(&party.to_string())
            .await?
            .ok_or_else(|| TallyError::NotAContact(party.fingerprint()))?;
        let card = ContactCard::from_signed_bytes(&row.card)
            .map_err(|e| TallyError::Invalid(format!("The contact's kept card does not read: {e}.")))?;
        Ok(card.record().clone())
    }
}

/// Signs a revision after checking it reads back: a revision that breaks a
/// rule (a memo too long, say) is refused here, not by the partner.
fn sign_checked(tally: Tally, key: &tallymesh_core::SecretKey) -> Result<Signed<Tally>, TallyError> {
    let signed = Signed::sign(tally, key);
    Signed::<Tally>::from_bytes(signed.bytes()).map_err(|e| TallyError::Invalid(super::sentence(&e.to_string())))?;
    Ok(signed)
}

pub(crate) fn to_i64(at: Timestamp) -> i64 {
    i64::try_from(at.as_millis()).unwrap_or(i64::MAX)
}
