//! Tallies: the credit agreement two parties sign, the chits that run on
//! it, and the rules every node of its tally network applies.
//!
//! A tally is negotiated revision by revision ([`Tally`]); once both
//! parties signed the same revision it is an [`OpenTally`], block 0 of its
//! ledger. From then on each party signs chits ([`Chit`]) with its forward
//! key chain, and every node checks them with [`TallyRules`] before voting.
//!
//! The balance is what the foil owes the stock. A transaction by the foil
//! raises it, one by the stock lowers it, and neither may take it past the
//! limit the creditor granted: the stock's limit caps what the foil may
//! owe, the foil's limit what the stock may owe.
//!
//! ```
//! use tallymesh_core::record::Signed;
//! use tallymesh_core::rules::{EntryContext, EntryRules};
//! use tallymesh_core::tally::{sign_chit, ChitBody, ChitDraft, OpenTally, Party, Tally, TallyRules, TallyState, Terms};
//! use tallymesh_core::tally_network::{Side, TallyId};
//! use tallymesh_core::{SecretKey, Timestamp, Unit, Units};
//!
//! let (alice, bob) = (SecretKey::from_seed(&[1; 32]), SecretKey::from_seed(&[2; 32]));
//! let id = TallyId([9; 16]);
//! let side = |party: &SecretKey, node: u8, limit: i64| Party {
//!     party: party.public(),
//!     terms: Terms { limit: Units::new(limit), call: 30 },
//!     nodes: vec![SecretKey::from_seed(&[node; 32]).public()],
//! };
//! let tally = Tally {
//!     revision: 1, id, date: Timestamp::from_millis(1_700_000_000_000),
//!     expires: Timestamp::from_millis(1_700_086_400_000), memo: String::new(),
//!     unit: Unit::chip(), contract: None,
//!     stock: side(&bob, 11, 50_000), foil: side(&alice, 12, 0),
//! };
//! let open = OpenTally::join(Signed::sign(tally.clone(), &bob), Signed::sign(tally, &alice)).unwrap();
//!
//! // Alice (foil) pays Bob 12.500 CHIP.
//! let chit = sign_chit(&alice, id, 0, ChitDraft {
//!     by: Side::Foil, date: Timestamp::from_millis(1_700_000_001_000), memo: "lunch".into(),
//!     body: ChitBody::Transaction { units: Units::new(12_500), invoice: None },
//! });
//! let mut state = TallyState::opened(&open);
//! let network = open.genesis().unwrap().network;
//! let context = EntryContext { tally: id, height: 1, time: Timestamp::from_millis(1_700_000_002_000), network: &network };
//! TallyRules.apply(&mut state, chit.bytes(), &context).unwrap();
//! assert_eq!(state.balance(), Units::new(12_500));
//! ```

mod agreement;
mod chit;
mod refusal;
mod rules;
mod terms;
#[cfg(test)]
mod tests;
mod variables;

pub use agreement::{MAX_MEMO_BYTES, OpenTally, TALLY_VERSION, Tally};
pub use chit::{CHIT_VERSION, Chit, ChitBody, Setting};
pub use refusal::{MAX_REASON_BYTES, REFUSAL_VERSION, Refusal};
pub use rules::{MAX_ENTRY_BYTES, OpenInvoice, Status, TallyEntry, TallyRules, TallyState, other};
pub use terms::{Contract, MAX_CALL_DAYS, MAX_NODES, MAX_TITLE_BYTES, Party, Terms};
pub use variables::{Rate, TradingVariables};

use crate::action_key::action_key;
use crate::record::Signed;
use crate::tally_network::{Side, TallyId};
use crate::{SecretKey, Timestamp};

/// What a party writes in a chit; the tally, index and keys are added when
/// it is signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChitDraft {
    /// The author's side.
    pub by: Side,
    /// When it is made.
    pub date: Timestamp,
    /// A note both parties see.
    pub memo: String,
    /// What it does.
    pub body: ChitBody,
}

/// The key that signs action `index` of a party on `tally`: the party key
/// itself for action 0 (so the tally needs to name no other key), then the
/// forward key chain's action keys ([`crate::action_key`]).
pub fn chit_key(party: &SecretKey, tally: TallyId, index: u64) -> SecretKey {
    match index {
        0 => SecretKey::from_seed(&party.seed()),
        n => action_key(party, &tally.0, n),
    }
}

/// Signs action `index` of the party whose secret is `party` on `tally`:
/// with [`chit_key`] for `index`, naming the key for `index + 1`.
pub fn sign_chit(party: &SecretKey, tally: TallyId, index: u64, draft: ChitDraft) -> Signed<Chit> {
    let chit = Chit {
        tally,
        by: draft.by,
        index,
        next: chit_key(party, tally, index.saturating_add(1)).public(),
        date: draft.date,
        memo: draft.memo,
        body: draft.body,
    };
    Signed::sign(chit, &chit_key(party, tally, index))
}
