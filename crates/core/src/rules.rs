//! The rules every node applies to every entry before it votes for a block.
//!
//! The ledger does not know what a chit is. It asks an [`EntryRules`]
//! implementation, entry by entry and in block order, "given the state so
//! far, may this entry be appended?"; if so the rules update the state in
//! place, and the next entry is asked about the updated state. The tally rules (signatures, key chains, limits, lift
//! holds) plug in here; so does the one entry the ledger itself cares
//! about, the [`NetworkChange`] both parties sign, which the rules report
//! through [`Applied::network`] and which takes effect at the next height.
//!
//! Every node of the tally network must reach the same answer for the same
//! state and entry, so `apply` must be a pure function of its arguments:
//! no clock (the block's time is in the [`EntryContext`]), no randomness,
//! no local settings.
//!
//! ```
//! use tallymesh_core::rules::{Applied, EntryContext, EntryRefused, EntryRules};
//!
//! /// Accepts any entry up to 100 bytes, counting them.
//! struct Count;
//!
//! impl EntryRules for Count {
//!     type State = u64;
//!     fn admit(&self, entry: &[u8]) -> Result<(), EntryRefused> {
//!         if entry.len() <= 100 { Ok(()) } else { Err(EntryRefused::never("too long")) }
//!     }
//!     fn apply(&self, count: &mut u64, _: &[u8], _: &EntryContext<'_>) -> Result<Applied, EntryRefused> {
//!         *count += 1;
//!         Ok(Applied::default())
//!     }
//! }
//! assert!(Count.admit(&[0; 101]).is_err());
//! ```

use crate::block::{exact_keys, tally_id};
use crate::cbor::{self, Value};
use crate::record::{Fields, Record, RecordError, Signed};
use crate::tally_network::{TallyId, TallyNetwork};
use crate::{PublicKey, Timestamp};

/// Where an entry is being appended.
#[derive(Debug, Clone, Copy)]
pub struct EntryContext<'a> {
    /// The tally.
    pub tally: TallyId,
    /// The height of the block the entry is in.
    pub height: u64,
    /// The block's time.
    pub time: Timestamp,
    /// The tally network in force at this height.
    pub network: &'a TallyNetwork,
}

/// What appending an entry did besides changing the rules' state.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Applied {
    /// The tally network from the next height on, if the entry changed it.
    pub network: Option<TallyNetwork>,
}

/// Why an entry may not be appended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryRefused {
    /// What is wrong, in words a user can act on.
    pub reason: String,
    /// Whether the entry may become acceptable after other entries (the
    /// chit before it in its author's key chain, say). Such entries stay
    /// pending; the others are dropped.
    pub later: bool,
}

impl EntryRefused {
    /// An entry that will never be acceptable.
    pub fn never(reason: impl Into<String>) -> EntryRefused {
        EntryRefused {
            reason: reason.into(),
            later: false,
        }
    }

    /// An entry that may become acceptable after other entries.
    pub fn not_yet(reason: impl Into<String>) -> EntryRefused {
        EntryRefused {
            reason: reason.into(),
            later: true,
        }
    }
}

impl std::fmt::Display for EntryRefused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.reason)
    }
}

impl std::error::Error for EntryRefused {}

/// The rules of a tally's entries.
pub trait EntryRules {
    /// What the rules know after a sequence of entries: balances, key
    /// chains, the network epoch. Cloned once per block checked.
    type State: Clone;

    /// Checks that need no state (size, shape, the author's signature),
    /// before an entry is held as pending or offered to a proposer. Only
    /// entries that passed it are given to [`EntryRules::apply`].
    fn admit(&self, entry: &[u8]) -> Result<(), EntryRefused>;

    /// May `entry` be appended after `state`? If so, updates `state` to
    /// the state after it and says whether it changed the tally network
    /// (from the next height on). If not, **leaves `state` as it was**: a
    /// proposer skips a refused entry and carries on with the next.
    /// Must be deterministic: every node must reach the same answer.
    fn apply(&self, state: &mut Self::State, entry: &[u8], context: &EntryContext<'_>)
    -> Result<Applied, EntryRefused>;

    /// Whether `entry` could be appended right after `state`, changing
    /// nothing. The default applies it to a copy; rules whose state is
    /// large should answer without copying it.
    fn check(&self, state: &Self::State, entry: &[u8], context: &EntryContext<'_>) -> Result<(), EntryRefused> {
        let mut scratch = state.clone();
        self.apply(&mut scratch, entry, context).map(|_| ())
    }
}

/// The version of the network-change encoding.
pub const NETWORK_CHANGE_VERSION: u64 = 1;

/// A change of a tally's network, which both parties must sign.
///
/// CBOR (map, exactly these keys): 0 version (1), 1 tally id bytes(16),
/// 2 epoch (the number of changes before this one plus one: a change can be
/// applied once, never replayed), 3 the new [`TallyNetwork`].
///
/// As an entry it travels as the CBOR array `[stock's signed record bytes,
/// foil's signed record bytes]`: two `network-change` records over the same
/// body, one by each party.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkChange {
    /// The tally.
    pub tally: TallyId,
    /// Which change this is: 1 for the first change after the tally opened.
    pub epoch: u64,
    /// The network from the height after the one that certifies this entry.
    pub network: TallyNetwork,
}

impl Record for NetworkChange {
    const KIND: &'static str = "network-change";

    fn to_value(&self) -> Value {
        Value::map([
            (0, Value::Uint(NETWORK_CHANGE_VERSION)),
            (1, Value::Bytes(self.tally.0.to_vec())),
            (2, Value::Uint(self.epoch)),
            (3, self.network.to_value()),
        ])
    }

    fn from_value(value: &Value) -> Result<Self, RecordError> {
        let f = Fields::named("network change", value)?;
        f.version(&[NETWORK_CHANGE_VERSION])?;
        exact_keys(value, 4, "network change")?;
        Ok(NetworkChange {
            tally: tally_id(&f, 1)?,
            epoch: f.uint(2)?,
            network: TallyNetwork::from_value(f.required(3)?)?,
        })
    }
}

impl NetworkChange {
    /// The entry bytes of a change signed by both parties.
    pub fn cosigned_entry(stock: &Signed<NetworkChange>, foil: &Signed<NetworkChange>) -> Vec<u8> {
        cbor::encode(&Value::Array(vec![
            Value::Bytes(stock.bytes().to_vec()),
            Value::Bytes(foil.bytes().to_vec()),
        ]))
    }

    /// Reads a co-signed change from entry bytes, checking that the stock
    /// record is signed by `stock_signer`, the foil record by `foil_signer`,
    /// and that both sign the same change.
    pub fn from_cosigned_entry(
        entry: &[u8],
        stock_signer: &PublicKey,
        foil_signer: &PublicKey,
    ) -> Result<NetworkChange, RecordError> {
        let Value::Array(parts) = cbor::decode(entry)? else {
            return Err(RecordError::Shape("a network change entry is an array".into()));
        };
        let [Value::Bytes(stock), Value::Bytes(foil)] = parts.as_slice() else {
            return Err(RecordError::Shape(
                "a network change entry is [stock's signed change, foil's signed change]".into(),
            ));
        };
        let stock = Signed::<NetworkChange>::from_bytes(stock)?;
        let foil = Signed::<NetworkChange>::from_bytes(foil)?;
        if stock.signer() != stock_signer || foil.signer() != foil_signer {
            return Err(RecordError::Invalid(
                "a network change must be signed by both parties".into(),
            ));
        }
        if stock.record() != foil.record() {
            return Err(RecordError::Invalid(
                "the parties signed different network changes".into(),
            ));
        }
        Ok(stock.record().clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SecretKey;

    fn change() -> NetworkChange {
        let node = |n: u8| SecretKey::from_seed(&[n; 32]).public();
        NetworkChange {
            tally: TallyId([1; 16]),
            epoch: 1,
            network: TallyNetwork::new(vec![node(10)], vec![node(11), node(12)]).unwrap(),
        }
    }

    #[test]
    fn a_change_signed_by_both_parties_is_read_back() {
        let (stock, foil) = (SecretKey::from_seed(&[1; 32]), SecretKey::from_seed(&[2; 32]));
        let entry = NetworkChange::cosigned_entry(&Signed::sign(change(), &stock), &Signed::sign(change(), &foil));
        let read = NetworkChange::from_cosigned_entry(&entry, &stock.public(), &foil.public()).unwrap();
        assert_eq!(read, change());
    }

    #[test]
    fn a_change_signed_by_one_party_twice_or_differing_is_refused() {
        let (stock, foil) = (SecretKey::from_seed(&[1; 32]), SecretKey::from_seed(&[2; 32]));
        let twice = NetworkChange::cosigned_entry(&Signed::sign(change(), &stock), &Signed::sign(change(), &stock));
        assert!(NetworkChange::from_cosigned_entry(&twice, &stock.public(), &foil.public()).is_err());
        let mut other = change();
        other.epoch = 2;
        let differing = NetworkChange::cosigned_entry(&Signed::sign(change(), &stock), &Signed::sign(other, &foil));
        let err = NetworkChange::from_cosigned_entry(&differing, &stock.public(), &foil.public()).unwrap_err();
        assert!(err.to_string().contains("different"), "{err}");
    }
}
