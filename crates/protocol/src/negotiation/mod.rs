//! Tally negotiation, protocol `tally` v1 (`/tallymesh/tally/1`): offer,
//! counter, accept, refuse, until both parties signed the same revision.
//!
//! A party drafts a tally and signs it: that is the **offer**. Its partner
//! may **accept** (sign the same revision: the tally is open), **refuse**
//! (a signed refusal of the revision), or **counter** (sign a new revision
//! with the revision number one higher; any change drops the other
//! signature). The offerer may withdraw its offer with a refusal of its own.
//!
//! Every transition is idempotent and the two sides converge whatever the
//! order messages arrive in, how often, or how late:
//!
//! - a revision older than the newest one known changes nothing;
//! - both signatures over one revision make the tally open, and an open
//!   tally stays open: an acceptance wins over a withdrawal or a counter it
//!   crossed on the way;
//! - two different offers of the same revision (which honest parties never
//!   make) are settled by keeping the one with the smaller id on both sides.
//!
//! An offer's expiry is checked by the party that accepts, by its own
//! clock; the offerer honours any acceptance of a revision it signed, even
//! one that crossed its withdrawal and a newer revision (see
//! [`Negotiation::receive`]: an acceptance carries no signed time, and
//! refusing an honest one would split the parties).
//!
//! ```
//! # use tallymesh_core::{SecretKey, Timestamp, Unit, Units};
//! # use tallymesh_core::record::Signed;
//! # use tallymesh_core::tally::{Party, Tally, Terms};
//! # use tallymesh_core::tally_network::{Side, TallyId};
//! use tallymesh_protocol::negotiation::{Negotiation, Stage};
//!
//! # let (alice, bob) = (SecretKey::from_seed(&[1; 32]), SecretKey::from_seed(&[2; 32]));
//! # let id = TallyId([9; 16]);
//! # let side = |p: &SecretKey, node: u8| Party { party: p.public(),
//! #     terms: Terms { limit: Units::new(50_000), call: 30 },
//! #     nodes: vec![SecretKey::from_seed(&[node; 32]).public()] };
//! # let now = Timestamp::from_millis(1_700_000_000_000);
//! # let tally = Tally { revision: 1, id, date: now, expires: now.plus_millis(86_400_000),
//! #     memo: String::new(), unit: Unit::chip(), contract: None,
//! #     stock: side(&bob, 11), foil: side(&alice, 12) };
//! // Alice (foil) offers; Bob (stock) accepts.
//! let mut at_alice = Negotiation::draft(Side::Foil, tally.clone());
//! let offer = at_alice.offer(Signed::sign(tally.clone(), &alice), now).unwrap();
//! let mut at_bob = Negotiation::received(&bob.public(), &offer, now).unwrap();
//! let accept = at_bob.accept(Signed::sign(tally, &bob), now).unwrap();
//! at_alice.receive(&accept, now).unwrap();
//! assert!(matches!(at_alice.stage(), Stage::Open(_)));
//! assert_eq!(at_alice.stage(), at_bob.stage());
//! ```

mod machine;
mod message;
#[cfg(test)]
mod tests;

pub use machine::{Change, Negotiation, NegotiationError, Stage};
pub use message::{
    ContractText, MAX_CONTRACT_TEXT_BYTES, MAX_MESSAGE_BYTES, MAX_NODE_ADDRESS_BYTES, MAX_NODE_ADDRESSES,
    MAX_NOTICE_NODES, NodeAddresses, NodesNotice, TALLY_PROTOCOL, TALLY_PROTOCOL_VERSION, TallyMessage,
    TallyMessageError, TallyRequest, decode_nodes_taken, encode_nodes_taken, limits,
};
