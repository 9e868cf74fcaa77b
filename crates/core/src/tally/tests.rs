use proptest::prelude::*;

use super::*;
use crate::record::{Record, RecordError, Signed};
use crate::rules::{EntryContext, EntryRefused, EntryRules, NetworkChange};
use crate::tally_network::{Side, TallyId, TallyNetwork};
use crate::{Digest, SecretKey, Timestamp, Unit, Units};

const T0: u64 = 1_700_000_000_000;

struct World {
    stock: SecretKey,
    foil: SecretKey,
    id: TallyId,
    open: OpenTally,
    network: TallyNetwork,
    /// The next action index of each side.
    next: [u64; 2],
}

fn key(n: u8) -> SecretKey {
    SecretKey::from_seed(&[n; 32])
}

fn party(secret: &SecretKey, node: u8, limit: i64) -> Party {
    Party {
        party: secret.public(),
        terms: Terms {
            limit: Units::new(limit),
            call: 30,
        },
        nodes: vec![key(node).public()],
    }
}

fn tally(stock_limit: i64, foil_limit: i64) -> Tally {
    let id = TallyId([7; 16]);
    Tally {
        revision: 1,
        id,
        date: Timestamp::from_millis(T0),
        expires: Timestamp::from_millis(T0 + 86_400_000),
        memo: "groceries".into(),
        unit: Unit::chip(),
        contract: Some(Contract {
            title: "Shop credit".into(),
            hash: Digest::of(b"the contract text"),
        }),
        stock: party(&key(1), 11, stock_limit),
        foil: party(&key(2), 12, foil_limit),
    }
}

impl World {
    /// Bob is stock and grants `stock_limit`; alice is foil and grants `foil_limit`.
    fn new(stock_limit: i64, foil_limit: i64) -> World {
        let tally = tally(stock_limit, foil_limit);
        let open = OpenTally::join(
            Signed::sign(tally.clone(), &key(1)),
            Signed::sign(tally.clone(), &key(2)),
        )
        .unwrap();
        World {
            stock: key(1),
            foil: key(2),
            id: tally.id,
            network: open.genesis().unwrap().network,
            open,
            next: [0, 0],
        }
    }

    fn state(&self) -> TallyState {
        TallyState::opened(&self.open)
    }

    fn chit(&mut self, by: Side, body: ChitBody) -> Signed<Chit> {
        let slot = usize::from(by == Side::Foil);
        let index = self.next[slot];
        self.next[slot] += 1;
        let secret = if by == Side::Stock { &self.stock } else { &self.foil };
        sign_chit(
            secret,
            self.id,
            index,
            ChitDraft {
                by,
                date: Timestamp::from_millis(T0 + 1_000),
                memo: String::new(),
                body,
            },
        )
    }

    /// Signs the next chit of `by` and applies it; a refused chit does not
    /// use up its index.
    fn act(&mut self, state: &mut TallyState, by: Side, body: ChitBody) -> Result<Signed<Chit>, EntryRefused> {
        let chit = self.chit(by, body);
        match self.apply(state, chit.bytes()) {
            Ok(()) => Ok(chit),
            Err(refused) => {
                self.next[usize::from(by == Side::Foil)] -= 1;
                Err(refused)
            }
        }
    }

    fn apply(&self, state: &mut TallyState, entry: &[u8]) -> Result<(), EntryRefused> {
        let context = EntryContext {
            tally: self.id,
            height: 1,
            time: Timestamp::from_millis(T0 + 2_000),
            network: &self.network,
        };
        TallyRules.apply(state, entry, &context).map(|_| ())
    }
}

fn pay(units: i64) -> ChitBody {
    ChitBody::Transaction {
        units: Units::new(units),
        invoice: None,
    }
}

#[test]
fn a_tally_round_trips_and_opens_with_both_signatures_over_one_revision() {
    let world = World::new(50_000, 0);
    let read = OpenTally::from_bytes(world.open.bytes()).unwrap();
    assert_eq!(read, world.open);
    assert_eq!(read.genesis().unwrap().hash, Digest::of(world.open.bytes()));
    assert_eq!(read.genesis().unwrap().network.side(Side::Stock), &[key(11).public()]);
}

#[test]
fn opening_refuses_different_revisions_and_swapped_signers() {
    let one = tally(50_000, 0);
    let mut two = one.clone();
    two.revision = 2;
    two.stock.terms.limit = Units::new(60_000);
    let refused = OpenTally::join(Signed::sign(one.clone(), &key(1)), Signed::sign(two, &key(2)));
    assert!(matches!(refused, Err(RecordError::Invalid(m)) if m.contains("different revisions")));
    let swapped = OpenTally::join(Signed::sign(one.clone(), &key(2)), Signed::sign(one, &key(1)));
    assert!(matches!(swapped, Err(RecordError::Invalid(m)) if m.contains("stock party")));
}

#[test]
fn a_tally_with_one_party_on_both_sides_is_refused() {
    let mut same = tally(1, 1);
    same.foil.party = same.stock.party;
    let signed = Signed::sign(same, &key(1));
    assert!(Signed::<Tally>::from_bytes(signed.bytes()).is_err());
}

#[test]
fn changes_from_names_exactly_the_terms_a_counter_changed() {
    let offer = tally(50_000, 0);
    let mut counter = offer.clone();
    counter.revision = 2;
    counter.stock.terms.limit = Units::new(30_000);
    counter.memo = "groceries and fuel".into();
    assert_eq!(counter.changes_from(&offer), vec!["memo", "stock limit"]);
}

#[test]
fn every_chit_kind_round_trips() {
    let mut world = World::new(50_000, 0);
    let bodies = [
        pay(1),
        ChitBody::Transaction {
            units: Units::new(2_000),
            invoice: Some(Digest([3; 32])),
        },
        ChitBody::Invoice {
            units: Units::new(2_000),
        },
        ChitBody::Decline {
            invoice: Digest([4; 32]),
        },
        ChitBody::Setting(Setting {
            target: Some(Units::new(10)),
            bound: Some(Units::new(20)),
            reward: Some(Rate::new(-5_000)),
            clutch: Some(Rate::new(10_000)),
            call: Some(7),
            close: true,
        }),
    ];
    for body in bodies {
        let chit = world.chit(Side::Foil, body);
        assert_eq!(&Signed::<Chit>::from_bytes(chit.bytes()).unwrap(), &chit);
    }
}

#[test]
fn zero_negative_lift_and_empty_setting_chits_are_refused_when_read() {
    let world = World::new(1, 1);
    use crate::cbor::Value as V;
    let with_body = |body: V| {
        let V::Map(mut entries) = world_chit_value(&world) else {
            return Err(RecordError::Shape("a chit is a map".into()));
        };
        entries.retain(|(k, _)| k != &V::Uint(7));
        entries.push((V::Uint(7), body));
        Chit::from_value(&V::map_of(entries))
    };
    let kind = |k: &str| (V::Uint(0), V::Text(k.into()));
    assert!(with_body(V::map_of(vec![kind("transaction"), (V::Uint(1), V::Uint(0))])).is_err());
    assert!(with_body(V::map_of(vec![kind("transaction"), (V::Uint(1), V::Nint(4))])).is_err());
    let lift = with_body(V::map_of(vec![kind("lift"), (V::Uint(1), V::Uint(5))]));
    assert!(matches!(lift, Err(RecordError::Invalid(m)) if m.contains("not supported")));
    assert!(with_body(V::map_of(vec![kind("setting")])).is_err());
    assert!(with_body(V::map_of(vec![kind("setting"), (V::Uint(3), V::Uint(1_000_001))])).is_err());
}

fn world_chit_value(world: &World) -> crate::cbor::Value {
    Chit {
        tally: world.id,
        by: Side::Foil,
        index: 0,
        next: key(3).public(),
        date: Timestamp::from_millis(T0),
        memo: String::new(),
        body: pay(1),
    }
    .to_value()
}

#[test]
fn payments_move_the_balance_against_their_author() {
    let mut world = World::new(50_000, 20_000);
    let mut state = world.state();
    let by_foil = world.chit(Side::Foil, pay(12_500));
    world.apply(&mut state, by_foil.bytes()).unwrap();
    assert_eq!(
        state.balance(),
        Units::new(12_500),
        "the foil's pledge raises what it owes"
    );
    let by_stock = world.chit(Side::Stock, pay(30_000));
    world.apply(&mut state, by_stock.bytes()).unwrap();
    assert_eq!(state.balance(), Units::new(-17_500), "the stock's pledge lowers it");
}

#[test]
fn a_payment_past_the_creditors_limit_is_refused_and_changes_nothing() {
    let mut world = World::new(50_000, 0);
    let mut state = world.state();
    world.act(&mut state, Side::Foil, pay(40_000)).unwrap();
    let before = state.clone();
    let over = world.chit(Side::Foil, pay(10_001));
    let refused = world.apply(&mut state, over.bytes()).unwrap_err();
    assert!(!refused.later);
    assert_eq!(
        refused.reason,
        "a payment of 10.001 CHIP is over the credit limit: at most 10.000 CHIP can be paid now"
    );
    assert_eq!(state, before);
    // The foil granted nothing: the stock cannot pay into debt.
    let mut world = World::new(50_000, 0);
    let mut state = world.state();
    assert!(world.act(&mut state, Side::Stock, pay(1)).is_err());
}

#[test]
fn the_key_chain_refuses_replays_waits_for_gaps_and_refuses_wrong_keys() {
    let mut world = World::new(50_000, 0);
    let mut state = world.state();
    let first = world.chit(Side::Foil, pay(1));
    let second = world.chit(Side::Foil, pay(1));
    let early = world.apply(&mut state, second.bytes()).unwrap_err();
    assert!(early.later, "action 1 waits for action 0");
    world.apply(&mut state, first.bytes()).unwrap();
    let replay = world.apply(&mut state, first.bytes()).unwrap_err();
    assert!(!replay.later && replay.reason.contains("already recorded"));
    world.apply(&mut state, second.bytes()).unwrap();
    // Action 2 signed with the party key instead of the named action key.
    let forged = Signed::sign(
        Chit {
            tally: world.id,
            by: Side::Foil,
            index: 2,
            next: key(9).public(),
            date: Timestamp::from_millis(T0),
            memo: String::new(),
            body: pay(1),
        },
        &world.foil,
    );
    let refused = world.apply(&mut state, forged.bytes()).unwrap_err();
    assert!(refused.reason.contains("previous action named"));
    assert_eq!(state.balance(), Units::new(2));
}

#[test]
fn a_chit_for_another_tally_is_refused() {
    let mut world = World::new(50_000, 0);
    let mut state = world.state();
    let chit = world.chit(Side::Foil, pay(1));
    let other = TallyId([8; 16]);
    let context = EntryContext {
        tally: other,
        height: 1,
        time: Timestamp::from_millis(T0),
        network: &world.network,
    };
    assert!(TallyRules.apply(&mut state, chit.bytes(), &context).is_err());
}

#[test]
fn an_invoice_is_paid_once_for_its_exact_amount_or_declined() {
    let mut world = World::new(50_000, 50_000);
    let mut state = world.state();
    let asks = |units| ChitBody::Invoice {
        units: Units::new(units),
    };
    let pays = |units, invoice: &Signed<Chit>| ChitBody::Transaction {
        units: Units::new(units),
        invoice: Some(invoice.id()),
    };
    let invoice = world.act(&mut state, Side::Stock, asks(2_000)).unwrap();
    assert_eq!(state.open_invoices().len(), 1);

    let wrong_amount = world.act(&mut state, Side::Foil, pays(1_999, &invoice)).unwrap_err();
    assert!(
        wrong_amount.reason.contains("asks for 2.000 CHIP"),
        "{}",
        wrong_amount.reason
    );
    let own = world.act(&mut state, Side::Stock, pays(2_000, &invoice)).unwrap_err();
    assert!(own.reason.contains("its own invoice"));

    world.act(&mut state, Side::Foil, pays(2_000, &invoice)).unwrap();
    assert_eq!(state.balance(), Units::new(2_000));
    assert!(state.open_invoices().is_empty());

    let again = world
        .act(&mut state, Side::Foil, ChitBody::Decline { invoice: invoice.id() })
        .unwrap_err();
    assert!(again.reason.contains("already paid or declined"));

    let second = world.act(&mut state, Side::Foil, asks(500)).unwrap();
    world
        .act(&mut state, Side::Stock, ChitBody::Decline { invoice: second.id() })
        .unwrap();
    assert!(state.open_invoices().is_empty());
    assert_eq!(state.balance(), Units::new(2_000), "declining moves nothing");
}

#[test]
fn paying_an_invoice_not_yet_on_the_tally_waits() {
    let mut world = World::new(50_000, 0);
    let mut state = world.state();
    let chit = world.chit(
        Side::Foil,
        ChitBody::Transaction {
            units: Units::new(1),
            invoice: Some(Digest([5; 32])),
        },
    );
    assert!(world.apply(&mut state, chit.bytes()).unwrap_err().later);
}

#[test]
fn settings_apply_to_their_authors_side_within_bounds() {
    let mut world = World::new(50_000, 0);
    let mut state = world.state();
    let set = |target, bound| {
        ChitBody::Setting(Setting {
            target: Some(Units::new(target)),
            bound: Some(Units::new(bound)),
            call: Some(14),
            ..Setting::default()
        })
    };
    world.act(&mut state, Side::Stock, set(100, 500)).unwrap();
    assert_eq!(state.variables(Side::Stock).bound, Units::new(500));
    assert_eq!(state.call(Side::Stock), 14);
    assert_eq!(state.variables(Side::Foil), TradingVariables::default());
    let before = state.clone();
    let refused = world.act(&mut state, Side::Stock, set(600, 500)).unwrap_err();
    assert!(refused.reason.contains("above the bound"));
    assert_eq!(state, before);
}

#[test]
fn closing_waits_for_a_zero_balance_and_then_refuses_everything() {
    let mut world = World::new(50_000, 0);
    let mut state = world.state();
    world.act(&mut state, Side::Foil, pay(3_000)).unwrap();
    let close = ChitBody::Setting(Setting {
        close: true,
        ..Setting::default()
    });
    world.act(&mut state, Side::Stock, close).unwrap();
    assert_eq!(state.status(), Status::Closing);
    let more_debt = world.act(&mut state, Side::Foil, pay(1)).unwrap_err();
    assert!(more_debt.reason.contains("closing"));
    assert!(
        world
            .act(&mut state, Side::Stock, ChitBody::Invoice { units: Units::new(1) })
            .is_err()
    );
    world.act(&mut state, Side::Stock, pay(3_000)).unwrap();
    assert_eq!(state.status(), Status::Closed);
    assert_eq!(
        world.act(&mut state, Side::Foil, pay(1)).unwrap_err().reason,
        "the tally is closed"
    );
}

#[test]
fn a_network_change_both_parties_signed_applies_once_in_order() {
    let world = World::new(1, 1);
    let mut state = world.state();
    let change = |epoch| {
        let change = NetworkChange {
            tally: world.id,
            epoch,
            network: TallyNetwork::new(vec![key(11).public(), key(13).public()], vec![key(12).public()]).unwrap(),
        };
        NetworkChange::cosigned_entry(
            &Signed::sign(change.clone(), &world.stock),
            &Signed::sign(change, &world.foil),
        )
    };
    assert!(world.apply(&mut state, &change(2)).unwrap_err().later);
    let context = EntryContext {
        tally: world.id,
        height: 1,
        time: Timestamp::from_millis(T0),
        network: &world.network,
    };
    let applied = TallyRules.apply(&mut state, &change(1), &context).unwrap();
    assert_eq!(applied.network.unwrap().side(Side::Stock).len(), 2);
    assert!(!world.apply(&mut state, &change(1)).unwrap_err().later);
    // Signed by one party twice: refused.
    let forged = NetworkChange::cosigned_entry(
        &Signed::sign(
            NetworkChange {
                tally: world.id,
                epoch: 2,
                network: world.network.clone(),
            },
            &world.stock,
        ),
        &Signed::sign(
            NetworkChange {
                tally: world.id,
                epoch: 2,
                network: world.network.clone(),
            },
            &world.stock,
        ),
    );
    assert!(world.apply(&mut state, &forged).is_err());
}

#[test]
fn admit_refuses_garbage_oversized_and_tampered_entries() {
    let mut world = World::new(50_000, 0);
    assert!(TallyRules.admit(b"not cbor").is_err());
    assert!(TallyRules.admit(&vec![0u8; MAX_ENTRY_BYTES + 1]).is_err());
    let chit = world.chit(Side::Foil, pay(1));
    assert!(TallyRules.admit(chit.bytes()).is_ok());
    let mut tampered = chit.bytes().to_vec();
    let last = tampered.len() - 1;
    tampered[last] ^= 1;
    assert!(TallyRules.admit(&tampered).is_err());
}

proptest! {
    /// Any flipped byte of a signed chit is refused when read.
    #[test]
    fn a_flipped_byte_of_a_chit_is_refused(position in any::<prop::sample::Index>(), bit in 0u8..8) {
        let mut world = World::new(50_000, 0);
        let chit = world.chit(Side::Foil, pay(12_500));
        let mut bytes = chit.bytes().to_vec();
        let i = position.index(bytes.len());
        bytes[i] ^= 1 << bit;
        prop_assert!(Signed::<Chit>::from_bytes(&bytes).is_err());
    }

    /// Whatever payments are tried, the balance stays within the limits
    /// both creditors granted, equals the sum of the payments accepted,
    /// and a refused payment changes nothing.
    #[test]
    fn the_balance_never_passes_a_limit(
        stock_limit in 0i64..100_000,
        foil_limit in 0i64..100_000,
        payments in prop::collection::vec((any::<bool>(), 1i64..60_000), 1..40),
    ) {
        let mut world = World::new(stock_limit, foil_limit);
        let mut state = world.state();
        let mut expected = 0i64;
        for (by_foil, units) in payments {
            let by = if by_foil { Side::Foil } else { Side::Stock };
            let before = state.clone();
            match world.act(&mut state, by, pay(units)) {
                Ok(_) => expected += if by_foil { units } else { -units },
                Err(_) => prop_assert_eq!(&state, &before),
            }
            prop_assert!(state.balance().parts() <= stock_limit);
            prop_assert!(-state.balance().parts() <= foil_limit);
            prop_assert_eq!(state.balance().parts(), expected);
        }
    }
}
