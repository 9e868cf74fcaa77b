//! The entry rules the running node judges tally entries with.
//!
//! A served tally's kind of rules is chosen by the rules' state at its
//! genesis: the first byte of the state bytes kept in the genesis record
//! names the kind ([`RulesKind`]), so tallies of different kinds run side by
//! side and a stored tally always comes back with the rules it was served
//! with. There are two kinds:
//!
//! - **test network** (state bytes `[0x00]`): entries are opaque byte
//!   strings of 1 to [`TEST_ENTRY_MAX_BYTES`] bytes, every one accepted, no
//!   state kept. It exists for benchmarks and soak tests of the consensus,
//!   storage and wire paths (`tallymesh ledger …`, `tallymesh bench ledger`);
//!   such tallies are never shown in the UI. Since no state is kept, an
//!   entry submitted again after it was certified is certified again: test
//!   entries should carry their own nonce.
//!
//! - **tally** (state bytes `[0x01]` followed by the open tally's bytes):
//!   the tally rules of `tallymesh_core::tally` (chits, limits, key chains,
//!   invoices, settings, closing, network changes); the state at the
//!   genesis follows from the open tally alone.
//!
//! ```
//! use tallymesh_node::ledger::{LedgerRules, NodeRules, RulesState};
//! use tallymesh_core::rules::EntryRules;
//!
//! let rules = NodeRules;
//! let state = RulesState::TestNetwork;
//! let bytes = rules.encode_state(&state);
//! assert_eq!(bytes, vec![0x00]);
//! assert_eq!(rules.decode_state(&bytes), Ok(state));
//! assert!(rules.admit(b"any bytes").is_ok());
//! ```

use tallymesh_core::rules::{Applied, EntryContext, EntryRefused, EntryRules};
use tallymesh_core::tally::{OpenTally, TallyRules, TallyState};

use super::genesis::LedgerRules;

/// The largest entry of a test-network tally, in bytes.
pub const TEST_ENTRY_MAX_BYTES: usize = 4 * 1024;

/// The kinds of rules a served tally may have, by the first byte of their
/// state bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum RulesKind {
    /// Opaque entries for benchmarks and soak tests (see the module docs).
    TestNetwork = 0,
    /// A tally between two parties.
    Tally = 1,
}

/// The rules' state after a sequence of entries, one variant per
/// [`RulesKind`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RulesState {
    /// A test-network tally keeps no state.
    TestNetwork,
    /// A tally's state, and the open tally it started from.
    Tally(Box<TallyRulesState>),
}

/// A tally's rules state, with the open tally its genesis was (which is
/// what the state is written as).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TallyRulesState {
    /// The open tally's bytes, as both parties signed them.
    pub open: Vec<u8>,
    /// The state after the entries applied so far.
    pub state: TallyState,
}

impl RulesState {
    /// The state of a tally just opened.
    pub fn tally(open: &OpenTally) -> RulesState {
        RulesState::Tally(Box::new(TallyRulesState {
            open: open.bytes().to_vec(),
            state: TallyState::opened(open),
        }))
    }
}

impl RulesState {
    /// The kind of rules this state belongs to.
    pub fn kind(&self) -> RulesKind {
        match self {
            RulesState::TestNetwork => RulesKind::TestNetwork,
            RulesState::Tally(_) => RulesKind::Tally,
        }
    }
}

/// The node's entry rules: dispatches each entry to the rules of the
/// tally's kind, which its state names.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NodeRules;

impl EntryRules for NodeRules {
    type State = RulesState;

    fn admit(&self, entry: &[u8]) -> Result<(), EntryRefused> {
        // `admit` sees no state, so it can only hold what every kind
        // holds; each kind checks the rest in `apply`.
        if entry.is_empty() {
            return Err(EntryRefused::never("an entry has at least one byte"));
        }
        Ok(())
    }

    fn apply(&self, state: &mut RulesState, entry: &[u8], context: &EntryContext<'_>) -> Result<Applied, EntryRefused> {
        match state {
            RulesState::Tally(tally) => TallyRules.apply(&mut tally.state, entry, context),
            RulesState::TestNetwork => {
                if entry.len() > TEST_ENTRY_MAX_BYTES {
                    return Err(EntryRefused::never(format!(
                        "an entry of a test network has at most {TEST_ENTRY_MAX_BYTES} bytes, not {}",
                        entry.len()
                    )));
                }
                Ok(Applied::default())
            }
        }
    }

    fn check(&self, state: &RulesState, entry: &[u8], context: &EntryContext<'_>) -> Result<(), EntryRefused> {
        match state {
            RulesState::Tally(tally) => TallyRules.check(&tally.state, entry, context),
            // The state is tiny: a copy costs nothing.
            RulesState::TestNetwork => self.apply(&mut state.clone(), entry, context).map(|_| ()),
        }
    }
}

impl LedgerRules for NodeRules {
    fn encode_state(&self, state: &RulesState) -> Vec<u8> {
        match state {
            RulesState::TestNetwork => vec![RulesKind::TestNetwork as u8],
            RulesState::Tally(tally) => {
                let mut bytes = Vec::with_capacity(1 + tally.open.len());
                bytes.push(RulesKind::Tally as u8);
                bytes.extend_from_slice(&tally.open);
                bytes
            }
        }
    }

    fn decode_state(&self, bytes: &[u8]) -> Result<RulesState, String> {
        match bytes {
            [0x00] => Ok(RulesState::TestNetwork),
            [0x00, ..] => Err("the state of a test network is the single byte 0x00".to_owned()),
            [0x01, open @ ..] => OpenTally::from_bytes(open)
                .map(|open| RulesState::tally(&open))
                .map_err(|e| format!("the open tally of a tally's state does not read: {e}")),
            [] => Err("the rules' state is empty".to_owned()),
            [kind, ..] => Err(format!(
                "rules of kind {kind} are not known to this version of Tallymesh"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use tallymesh_core::tally_network::{TallyId, TallyNetwork};
    use tallymesh_core::{SecretKey, Timestamp};

    use super::*;

    #[test]
    fn a_test_network_takes_any_entry_up_to_its_limit() {
        let network = TallyNetwork::new(
            vec![SecretKey::from_seed(&[1; 32]).public()],
            vec![SecretKey::from_seed(&[2; 32]).public()],
        )
        .unwrap();
        let context = EntryContext {
            tally: TallyId([1; 16]),
            height: 1,
            time: Timestamp::EPOCH,
            network: &network,
        };
        let mut state = RulesState::TestNetwork;
        assert!(NodeRules.admit(b"").is_err());
        assert!(
            NodeRules
                .apply(&mut state, &[7; TEST_ENTRY_MAX_BYTES], &context)
                .is_ok()
        );
        let refused = NodeRules
            .apply(&mut state, &[7; TEST_ENTRY_MAX_BYTES + 1], &context)
            .unwrap_err();
        assert!(!refused.later);
        assert_eq!(state, RulesState::TestNetwork);
    }

    #[test]
    fn unknown_kinds_and_damaged_states_are_refused() {
        assert_eq!(NodeRules.decode_state(&[0]), Ok(RulesState::TestNetwork));
        for bytes in [&[][..], &[0, 0][..], &[9][..]] {
            assert!(NodeRules.decode_state(bytes).is_err(), "{bytes:?}");
        }
    }
}
