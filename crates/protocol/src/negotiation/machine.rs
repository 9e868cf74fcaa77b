//! The negotiation of one tally as one party's node sees it.

use tallymesh_core::record::{RecordError, Signed};
use tallymesh_core::tally::{OpenTally, Refusal, Tally, other};
use tallymesh_core::tally_network::Side;
use tallymesh_core::{PublicKey, Timestamp};
use thiserror::Error;

use super::message::TallyMessage;

/// Which revision numbers a new revision may have.
#[derive(Debug, Clone, Copy)]
enum Revisions {
    /// The one after the current: what this side makes.
    Next,
    /// Any later one: what arrives, perhaps ahead of the ones between.
    AnyLater,
}

/// How many refusals of offers not yet known a negotiation keeps.
const MAX_EARLY_REFUSALS: usize = 8;

/// Where a negotiation stands.
// Few of these live at a time; boxing would only add indirection.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Stage {
    /// Our tally, not yet offered.
    Draft(Tally),
    /// A revision signed by one party, waiting for the other.
    Offered(Signed<Tally>),
    /// Both parties signed one revision: the tally is open.
    Open(OpenTally),
    /// A revision was refused by the party it was offered to, or withdrawn
    /// by the party that offered it.
    Refused {
        /// The signed refusal.
        refusal: Signed<Refusal>,
        /// The side that refused.
        by: Side,
    },
}

/// What a received message changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// Nothing: the message was known already, or lost to one that wins.
    Unchanged,
    /// Nothing: the message is about an older revision.
    Stale,
    /// The partner offered a new revision (a first offer or a counter).
    Offered,
    /// The tally is open.
    Opened,
    /// The current revision was refused or withdrawn.
    Refused,
}

/// Why an action or a received message was refused; the negotiation is
/// left as it was.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum NegotiationError {
    /// The message is about another tally.
    #[error("the message is about another tally")]
    OtherTally,
    /// We are not a party of the offered tally.
    #[error("this tally is offered to another party")]
    NotOurs,
    /// Signed by a key other than the party's the step needs.
    #[error("the {0} is not signed by the right party")]
    WrongSigner(&'static str),
    /// A counter changed who the parties are, or what only the other party
    /// may name (its nodes).
    #[error("a counter-offer may not change {0}")]
    ChangedWhatItMayNot(&'static str),
    /// A counter must be exactly one revision after the offer it answers.
    #[error("a counter-offer must be revision {expected}")]
    Revision {
        /// The revision it must have.
        expected: u64,
    },
    /// The offer expired before it was accepted, or a new offer expires
    /// before it is made.
    #[error("the offer has expired")]
    Expired,
    /// What was signed is not the revision on the table.
    #[error("the signature is over another revision than the one offered")]
    NotTheOffer,
    /// The step is not possible where the negotiation stands.
    #[error("{0}")]
    NotNow(&'static str),
    /// The signatures do not make an open tally.
    #[error(transparent)]
    Record(#[from] RecordError),
}

/// One tally's negotiation, on the node of one of its two parties.
///
/// Actions ([`offer`](Negotiation::offer), [`accept`](Negotiation::accept),
/// [`refuse`](Negotiation::refuse)) take what the party signed and return
/// the message to send; [`receive`](Negotiation::receive) takes what the
/// partner sent. Replaying the same messages gives the same negotiation, so
/// a node can keep the messages and rebuild it.
#[derive(Debug, Clone, PartialEq)]
pub struct Negotiation {
    me: Side,
    stage: Stage,
    revisions: Vec<Signed<Tally>>,
    /// The draft, or the newest revision.
    latest: Tally,
    /// Refusals of offers not known yet: they overtook the offer they
    /// refuse, and apply when it arrives.
    early_refusals: Vec<Signed<Refusal>>,
}

impl Negotiation {
    /// A tally we drafted, on side `me`.
    pub fn draft(me: Side, tally: Tally) -> Negotiation {
        Negotiation {
            me,
            stage: Stage::Draft(tally.clone()),
            revisions: Vec::new(),
            latest: tally,
            early_refusals: Vec::new(),
        }
    }

    /// A negotiation started by the partner's first offer to `my_party`.
    pub fn received(
        my_party: &PublicKey,
        message: &TallyMessage,
        now: Timestamp,
    ) -> Result<Negotiation, NegotiationError> {
        let TallyMessage::Offer(offer) = message else {
            return Err(NegotiationError::NotNow("a negotiation starts with an offer"));
        };
        let me = offer.record().side_of(my_party).ok_or(NegotiationError::NotOurs)?;
        let mut negotiation = Negotiation::draft(me, offer.record().clone());
        negotiation.receive(message, now)?;
        Ok(negotiation)
    }

    /// A negotiation known only by its outcome: the open tally, as a device
    /// of `my_party` that did not negotiate it (a member device the party
    /// named as one of its nodes) learns it. Its only revision is the one
    /// both signed.
    pub fn opened(my_party: &PublicKey, open: &OpenTally) -> Result<Negotiation, NegotiationError> {
        let tally = open.tally();
        let me = tally.side_of(my_party).ok_or(NegotiationError::NotOurs)?;
        let signed = match me {
            Side::Stock => open.foil().clone(),
            Side::Foil => open.stock().clone(),
        };
        Ok(Negotiation {
            me,
            stage: Stage::Open(open.clone()),
            revisions: vec![signed],
            latest: tally.clone(),
            early_refusals: Vec::new(),
        })
    }

    /// Our side.
    pub fn me(&self) -> Side {
        self.me
    }

    /// Where it stands.
    pub fn stage(&self) -> &Stage {
        &self.stage
    }

    /// Every revision offered so far, oldest first.
    pub fn revisions(&self) -> &[Signed<Tally>] {
        &self.revisions
    }

    /// The tally as it stands: the newest revision, or the draft.
    pub fn tally(&self) -> &Tally {
        &self.latest
    }

    /// The side whose answer the current offer waits for, if one does.
    pub fn waiting_for(&self) -> Option<Side> {
        match &self.stage {
            Stage::Offered(offer) => offer.record().side_of(offer.signer()).map(other),
            _ => None,
        }
    }

    /// Whether the current offer can no longer be accepted at `now`.
    pub fn expired(&self, now: Timestamp) -> bool {
        matches!(&self.stage, Stage::Offered(offer) if now > offer.record().expires)
    }

    /// Offers our draft, or counters the partner's offer, or offers again
    /// after a refusal: `signed` is the revision our party signed. Returns
    /// the message for the partner.
    pub fn offer(&mut self, signed: Signed<Tally>, now: Timestamp) -> Result<TallyMessage, NegotiationError> {
        let tally = signed.record();
        if signed.signer() != &tally.side(self.me).party {
            return Err(NegotiationError::WrongSigner("offer"));
        }
        if tally.expires <= now {
            return Err(NegotiationError::Expired);
        }
        match &self.stage {
            Stage::Draft(draft) if draft == tally => {}
            Stage::Draft(_) => return Err(NegotiationError::NotTheOffer),
            Stage::Offered(current) if self.waiting_for() == Some(self.me) => {
                self.check_counter(current.record(), tally, other(self.me), Revisions::Next)?;
            }
            Stage::Refused { .. } => {
                let latest = self.tally().clone();
                self.check_counter(&latest, tally, other(self.me), Revisions::Next)?;
            }
            Stage::Offered(_) => return Err(NegotiationError::NotNow("the offer waits for the partner's answer")),
            Stage::Open(_) => return Err(NegotiationError::NotNow("the tally is already open")),
        }
        self.offered(signed.clone());
        Ok(TallyMessage::Offer(signed))
    }

    /// Accepts the partner's offer: `signed` is our party's signature over
    /// the same revision. The tally is open; returns the message for the
    /// partner.
    pub fn accept(&mut self, signed: Signed<Tally>, now: Timestamp) -> Result<TallyMessage, NegotiationError> {
        let Stage::Offered(offer) = &self.stage else {
            return Err(NegotiationError::NotNow("there is no offer to accept"));
        };
        if self.waiting_for() != Some(self.me) {
            return Err(NegotiationError::NotNow("a party cannot accept its own offer"));
        }
        if signed.record() != offer.record() {
            return Err(NegotiationError::NotTheOffer);
        }
        if signed.signer() != &signed.record().side(self.me).party {
            return Err(NegotiationError::WrongSigner("acceptance"));
        }
        if now > offer.record().expires {
            return Err(NegotiationError::Expired);
        }
        let open = match self.me {
            Side::Stock => OpenTally::join(signed, offer.clone())?,
            Side::Foil => OpenTally::join(offer.clone(), signed)?,
        };
        self.stage = Stage::Open(open.clone());
        Ok(TallyMessage::Accept(open))
    }

    /// Refuses the partner's offer, or withdraws ours: `refusal` is our
    /// party's signed refusal of the current revision.
    pub fn refuse(&mut self, refusal: Signed<Refusal>) -> Result<TallyMessage, NegotiationError> {
        let Stage::Offered(offer) = &self.stage else {
            return Err(NegotiationError::NotNow("there is no offer to refuse"));
        };
        let tally = offer.record();
        if refusal.record().tally != tally.id || refusal.record().offer != offer.id() {
            return Err(NegotiationError::NotTheOffer);
        }
        if refusal.signer() != &tally.side(self.me).party {
            return Err(NegotiationError::WrongSigner("refusal"));
        }
        self.stage = Stage::Refused {
            refusal: refusal.clone(),
            by: self.me,
        };
        Ok(TallyMessage::Refuse(refusal))
    }

    /// Takes a message from the partner. Known and older messages change
    /// nothing; see the module documentation for what wins when messages
    /// crossed.
    pub fn receive(&mut self, message: &TallyMessage, _now: Timestamp) -> Result<Change, NegotiationError> {
        if message.tally() != self.tally().id {
            return Err(NegotiationError::OtherTally);
        }
        match message {
            TallyMessage::Offer(offer) => self.receive_offer(offer),
            TallyMessage::Accept(open) => self.receive_accept(open),
            TallyMessage::Refuse(refusal) => Ok(self.receive_refusal(refusal)),
            // A contract's text is not a step of the negotiation.
            TallyMessage::Contract(_) => Ok(Change::Unchanged),
        }
    }

    fn receive_offer(&mut self, offer: &Signed<Tally>) -> Result<Change, NegotiationError> {
        let partner = other(self.me);
        let tally = offer.record();
        if self.revisions.contains(offer) {
            return Ok(Change::Unchanged);
        }
        if offer.signer() != &tally.side(partner).party {
            return Err(NegotiationError::WrongSigner("offer"));
        }
        if matches!(self.stage, Stage::Open(_)) {
            return Ok(Change::Unchanged);
        }
        let Some(latest) = self.revisions.last() else {
            // The first offer we hear of: it sets who the parties are.
            let known = self.tally();
            if known.side(self.me).party != tally.side(self.me).party {
                return Err(NegotiationError::NotOurs);
            }
            self.offered(offer.clone());
            return Ok(Change::Offered);
        };
        let latest_tally = latest.record().clone();
        if tally.revision < latest_tally.revision {
            return Ok(Change::Stale);
        }
        self.check_same_parties(&latest_tally, tally)?;
        if tally.revision == latest_tally.revision {
            // Two offers of one revision: keep the smaller id, on both sides.
            if offer.id() >= latest.id() {
                return Ok(Change::Unchanged);
            }
            self.revisions.pop();
        } else {
            // Revisions between may still be on the way: the newest wins.
            self.check_counter(&latest_tally, tally, self.me, Revisions::AnyLater)?;
        }
        self.offered(offer.clone());
        Ok(Change::Offered)
    }

    /// An acceptance is both parties' signatures over one revision, so it
    /// holds our own party's signature over that revision: we offered it
    /// (or accepted it). It is taken whatever revision is on the table and
    /// whenever it arrives, for two reasons:
    ///
    /// - **Not only the current offer.** An honest acceptance can cross a
    ///   withdrawal *and* a new revision we made after it: we withdraw
    ///   revision 1 and offer revision 2 while the partner accepts
    ///   revision 1. The partner's node opened the tally at revision 1 and
    ///   serves its ledger; refusing its acceptance here would leave the two
    ///   parties disagreeing for good. Our signature on revision 1 is the
    ///   commitment that counts.
    /// - **No expiry check here.** The acceptance carries no signed time: the
    ///   accepting party checks the expiry by its own clock when it signs.
    ///   An acceptance signed in time may reach us late (we were offline,
    ///   the outbox retried for days); refusing it by our clock would split
    ///   the parties in the same way. What we can check — that the tally is
    ///   ours and both signatures hold — is checked (`OpenTally` verified
    ///   both signatures when it was read).
    fn receive_accept(&mut self, open: &OpenTally) -> Result<Change, NegotiationError> {
        let tally = open.tally();
        if tally.side(self.me).party != self.tally().side(self.me).party {
            return Err(NegotiationError::NotOurs);
        }
        if let Stage::Open(current) = &self.stage {
            // Only a party signing two revisions makes two open tallies:
            // the lower revision, then the smaller hash, wins everywhere.
            let key = |o: &OpenTally| (o.tally().revision, o.hash().0);
            if key(open) >= key(current) {
                return Ok(Change::Unchanged);
            }
        }
        if !self.revisions.iter().any(|r| r.record() == tally) {
            self.revisions.push(open.foil().clone());
        }
        self.latest = tally.clone();
        self.stage = Stage::Open(open.clone());
        Ok(Change::Opened)
    }

    fn receive_refusal(&mut self, refusal: &Signed<Refusal>) -> Change {
        let Some(by) = self.latest.side_of(refusal.signer()) else {
            return Change::Stale;
        };
        let refused = refusal.record().offer;
        match &self.stage {
            Stage::Offered(offer) if offer.id() == refused => {
                self.stage = Stage::Refused {
                    refusal: refusal.clone(),
                    by,
                };
                Change::Refused
            }
            Stage::Refused { refusal: known, .. } if known.record().offer == refused => Change::Unchanged,
            _ if self.revisions.iter().any(|r| r.id() == refused) => Change::Stale,
            Stage::Open(_) => Change::Unchanged,
            _ => {
                if self.early_refusals.len() >= MAX_EARLY_REFUSALS {
                    self.early_refusals.remove(0);
                }
                if !self.early_refusals.contains(refusal) {
                    self.early_refusals.push(refusal.clone());
                }
                Change::Unchanged
            }
        }
    }

    fn offered(&mut self, offer: Signed<Tally>) {
        self.latest = offer.record().clone();
        self.revisions.push(offer.clone());
        let id = offer.id();
        self.stage = Stage::Offered(offer);
        if let Some(at) = self.early_refusals.iter().position(|r| r.record().offer == id) {
            let refusal = self.early_refusals.remove(at);
            self.receive_refusal(&refusal);
        }
    }

    /// A new revision `next` after `current`, made by the party on side
    /// `other(keeper)`: later by one revision (or any number, for one
    /// received), same parties, and `keeper`'s own nodes
    /// untouched.
    fn check_counter(
        &self,
        current: &Tally,
        next: &Tally,
        keeper: Side,
        revisions: Revisions,
    ) -> Result<(), NegotiationError> {
        if next.id != current.id {
            return Err(NegotiationError::OtherTally);
        }
        let later = match revisions {
            Revisions::Next => next.revision == current.revision + 1,
            Revisions::AnyLater => next.revision > current.revision,
        };
        if !later {
            return Err(NegotiationError::Revision {
                expected: current.revision + 1,
            });
        }
        self.check_same_parties(current, next)?;
        let (was, now) = (current.side(keeper), next.side(keeper));
        if was.nodes != now.nodes {
            return Err(NegotiationError::ChangedWhatItMayNot("the nodes the other party named"));
        }
        Ok(())
    }

    fn check_same_parties(&self, current: &Tally, next: &Tally) -> Result<(), NegotiationError> {
        if current.stock.party != next.stock.party || current.foil.party != next.foil.party {
            return Err(NegotiationError::ChangedWhatItMayNot("who the parties are"));
        }
        Ok(())
    }
}
