//! The entry rules the simulator's tallies run: signed test chits, and
//! network changes both parties sign.

use std::collections::BTreeSet;

use tallymesh_core::cbor::{self, Value};
use tallymesh_core::record::{Fields, Record, RecordError, Signed};
use tallymesh_core::rules::{Applied, EntryContext, EntryRefused, EntryRules, NetworkChange};
use tallymesh_core::tally_network::TallyId;
use tallymesh_core::{Digest, PublicKey};

/// A test chit: a party's signed, numbered note on a tally.
///
/// CBOR (map): 0 version (1), 1 tally id bytes(16), 2 serial.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimChit {
    /// The tally.
    pub tally: TallyId,
    /// A number making each chit distinct.
    pub serial: u64,
}

impl Record for SimChit {
    const KIND: &'static str = "sim-chit";

    fn to_value(&self) -> Value {
        Value::map([
            (0, Value::Uint(1)),
            (1, Value::Bytes(self.tally.0.to_vec())),
            (2, Value::Uint(self.serial)),
        ])
    }

    fn from_value(value: &Value) -> Result<Self, RecordError> {
        let f = Fields::named("sim chit", value)?;
        f.version(&[1])?;
        Ok(SimChit {
            tally: TallyId::from_bytes(f.bytes(1)?).ok_or_else(|| RecordError::Invalid("tally id".into()))?,
            serial: f.uint(2)?,
        })
    }
}

/// What the simulated tally rules remember: every certified chit (so none
/// is certified twice) and how many network changes were applied.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SimState {
    /// Ids of certified chits.
    pub chits: BTreeSet<Digest>,
    /// Network changes applied so far.
    pub epoch: u64,
}

/// Rules: a chit must be signed by one of the two parties and appear once;
/// a network change must be signed by both and carry the next epoch.
#[derive(Debug, Clone)]
pub struct SimRules {
    /// The tally.
    pub tally: TallyId,
    /// The stock party's key.
    pub stock: PublicKey,
    /// The foil party's key.
    pub foil: PublicKey,
}

enum Kind {
    Chit,
    NetworkChange,
}

fn kind(entry: &[u8]) -> Option<Kind> {
    match cbor::decode(entry).ok()? {
        Value::Array(parts) if parts.len() == 4 => Some(Kind::Chit),
        Value::Array(parts) if parts.len() == 2 => Some(Kind::NetworkChange),
        _ => None,
    }
}

impl EntryRules for SimRules {
    type State = SimState;

    fn admit(&self, entry: &[u8]) -> Result<(), EntryRefused> {
        match kind(entry) {
            Some(Kind::Chit) => {
                let chit = Signed::<SimChit>::from_bytes(entry).map_err(|e| EntryRefused::never(e.to_string()))?;
                if chit.signer() != &self.stock && chit.signer() != &self.foil {
                    return Err(EntryRefused::never("a chit must be signed by a party of the tally"));
                }
                if chit.record().tally != self.tally {
                    return Err(EntryRefused::never("a chit of another tally"));
                }
                Ok(())
            }
            Some(Kind::NetworkChange) => {
                let change = NetworkChange::from_cosigned_entry(entry, &self.stock, &self.foil)
                    .map_err(|e| EntryRefused::never(e.to_string()))?;
                if change.tally != self.tally {
                    return Err(EntryRefused::never("a network change of another tally"));
                }
                Ok(())
            }
            None => Err(EntryRefused::never("not an entry")),
        }
    }

    fn apply(&self, state: &mut SimState, entry: &[u8], context: &EntryContext<'_>) -> Result<Applied, EntryRefused> {
        self.check(state, entry, context)?;
        match kind(entry) {
            Some(Kind::Chit) => {
                state.chits.insert(Digest::of(entry));
                Ok(Applied::default())
            }
            Some(Kind::NetworkChange) => {
                let change = NetworkChange::from_cosigned_entry(entry, &self.stock, &self.foil)
                    .map_err(|e| EntryRefused::never(e.to_string()))?;
                state.epoch = change.epoch;
                Ok(Applied {
                    network: Some(change.network),
                })
            }
            None => Err(EntryRefused::never("not an entry")),
        }
    }

    fn check(&self, state: &SimState, entry: &[u8], _: &EntryContext<'_>) -> Result<(), EntryRefused> {
        match kind(entry) {
            Some(Kind::Chit) if state.chits.contains(&Digest::of(entry)) => {
                Err(EntryRefused::never("this chit is already certified"))
            }
            Some(Kind::Chit) => Ok(()),
            Some(Kind::NetworkChange) => {
                let change = NetworkChange::from_cosigned_entry(entry, &self.stock, &self.foil)
                    .map_err(|e| EntryRefused::never(e.to_string()))?;
                if change.epoch <= state.epoch {
                    Err(EntryRefused::never("this network change was already applied"))
                } else if change.epoch > state.epoch + 1 {
                    Err(EntryRefused::not_yet("an earlier network change is missing"))
                } else {
                    Ok(())
                }
            }
            None => Err(EntryRefused::never("not an entry")),
        }
    }
}

/// The network change in `entry`, if it is one (signatures checked).
pub fn network_change(rules: &SimRules, entry: &[u8]) -> Option<NetworkChange> {
    match kind(entry)? {
        Kind::NetworkChange => NetworkChange::from_cosigned_entry(entry, &rules.stock, &rules.foil).ok(),
        Kind::Chit => None,
    }
}
