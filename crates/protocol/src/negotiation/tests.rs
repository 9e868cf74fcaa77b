use proptest::prelude::*;
use tallymesh_core::record::Signed;
use tallymesh_core::tally::{Party, Refusal, Tally, Terms};
use tallymesh_core::tally_network::{Side, TallyId};
use tallymesh_core::{SecretKey, Timestamp, Unit, Units};

use super::*;

const NOW: Timestamp = Timestamp::from_millis(1_700_000_000_000);
const DAY: u64 = 86_400_000;

fn key(n: u8) -> SecretKey {
    SecretKey::from_seed(&[n; 32])
}

/// Bob (key 1) is stock, Alice (key 2) is foil.
fn secret(side: Side) -> SecretKey {
    match side {
        Side::Stock => key(1),
        Side::Foil => key(2),
    }
}

fn first_offer() -> Tally {
    let id = TallyId([9; 16]);
    let side = |s: Side, node: u8| Party {
        party: secret(s).public(),
        terms: Terms {
            limit: Units::new(50_000),
            call: 30,
        },
        nodes: vec![key(node).public()],
    };
    Tally {
        revision: 1,
        id,
        date: NOW,
        expires: NOW.plus_millis(DAY),
        memo: String::new(),
        unit: Unit::chip(),
        contract: None,
        stock: side(Side::Stock, 11),
        foil: side(Side::Foil, 12),
    }
}

fn countered(tally: &Tally, limit: i64) -> Tally {
    let mut next = tally.clone();
    next.revision += 1;
    next.stock.terms.limit = Units::new(limit);
    next
}

/// `by`'s refusal of the offer on the table.
fn refusal(n: &Negotiation, by: Side) -> Signed<Refusal> {
    let offer = match n.stage() {
        Stage::Offered(offer) => offer.id(),
        _ => tallymesh_core::Digest([0; 32]),
    };
    Signed::sign(
        Refusal {
            tally: n.tally().id,
            revision: n.tally().revision,
            reason: "not now".into(),
            offer,
        },
        &secret(by),
    )
}

/// Alice offers; Bob has received it.
fn offered() -> (Negotiation, Negotiation, TallyMessage) {
    let tally = first_offer();
    let mut alice = Negotiation::draft(Side::Foil, tally.clone());
    let offer = alice.offer(Signed::sign(tally, &secret(Side::Foil)), NOW).unwrap();
    let bob = Negotiation::received(&secret(Side::Stock).public(), &offer, NOW).unwrap();
    (alice, bob, offer)
}

#[test]
fn offer_counter_accept_opens_the_same_tally_on_both_sides() {
    let (mut alice, mut bob, _) = offered();
    assert_eq!(bob.waiting_for(), Some(Side::Stock));
    let counter_tally = countered(bob.tally(), 30_000);
    let counter = bob
        .offer(Signed::sign(counter_tally.clone(), &secret(Side::Stock)), NOW)
        .unwrap();
    assert_eq!(alice.receive(&counter, NOW).unwrap(), Change::Offered);
    assert_eq!(
        alice.tally().changes_from(&alice.revisions()[0].record().clone()),
        vec!["stock limit"]
    );
    let accept = alice
        .accept(Signed::sign(counter_tally, &secret(Side::Foil)), NOW)
        .unwrap();
    assert_eq!(bob.receive(&accept, NOW).unwrap(), Change::Opened);
    assert!(matches!(bob.stage(), Stage::Open(open) if open.tally().revision == 2));
    assert_eq!(alice.stage(), bob.stage());
    assert_eq!(alice.revisions().len(), 2);
}

#[test]
fn every_message_received_twice_changes_nothing_the_second_time() {
    let (mut alice, mut bob, offer) = offered();
    assert_eq!(bob.receive(&offer, NOW).unwrap(), Change::Unchanged);
    let accept = bob
        .accept(Signed::sign(bob.tally().clone(), &secret(Side::Stock)), NOW)
        .unwrap();
    assert_eq!(alice.receive(&accept, NOW).unwrap(), Change::Opened);
    let before = alice.clone();
    assert_eq!(alice.receive(&accept, NOW).unwrap(), Change::Unchanged);
    assert_eq!(alice.receive(&offer, NOW).unwrap(), Change::Unchanged);
    assert_eq!(alice, before);
}

#[test]
fn a_refusal_ends_the_offer_and_a_new_revision_reopens_the_talk() {
    let (mut alice, mut bob, _) = offered();
    let refused = bob.refuse(refusal(&bob, Side::Stock)).unwrap();
    assert_eq!(alice.receive(&refused, NOW).unwrap(), Change::Refused);
    assert!(matches!(alice.stage(), Stage::Refused { by: Side::Stock, .. }));
    assert_eq!(alice.receive(&refused, NOW).unwrap(), Change::Unchanged);
    let again = countered(alice.tally(), 10_000);
    let offer = alice.offer(Signed::sign(again, &secret(Side::Foil)), NOW).unwrap();
    assert_eq!(bob.receive(&offer, NOW).unwrap(), Change::Offered);
    assert_eq!(bob.waiting_for(), Some(Side::Stock));
}

#[test]
fn an_acceptance_wins_over_a_withdrawal_it_crossed() {
    let (mut alice, mut bob, _) = offered();
    let withdrawal = alice.refuse(refusal(&alice, Side::Foil)).unwrap();
    let accept = bob
        .accept(Signed::sign(bob.tally().clone(), &secret(Side::Stock)), NOW)
        .unwrap();
    assert_eq!(bob.receive(&withdrawal, NOW).unwrap(), Change::Stale);
    assert_eq!(alice.receive(&accept, NOW).unwrap(), Change::Opened);
    assert_eq!(alice.stage(), bob.stage());
}

#[test]
fn an_expired_offer_cannot_be_accepted_and_an_offer_cannot_start_expired() {
    let (_, mut bob, _) = offered();
    let late = NOW.plus_millis(DAY + 1);
    assert!(bob.expired(late));
    let refused = bob.accept(Signed::sign(bob.tally().clone(), &secret(Side::Stock)), late);
    assert_eq!(refused.unwrap_err(), NegotiationError::Expired);
    assert!(matches!(bob.stage(), Stage::Offered(_)), "nothing changed");
    let mut stale = Negotiation::draft(Side::Foil, first_offer());
    assert_eq!(
        stale
            .offer(Signed::sign(first_offer(), &secret(Side::Foil)), late)
            .unwrap_err(),
        NegotiationError::Expired
    );
}

#[test]
fn a_counter_may_not_touch_the_other_partys_nodes_keys_or_who_the_parties_are() {
    let (_, mut bob, _) = offered();
    let mut nodes = countered(bob.tally(), 1);
    nodes.foil.nodes = vec![key(40).public()];
    assert!(matches!(
        bob.offer(Signed::sign(nodes, &secret(Side::Stock)), NOW),
        Err(NegotiationError::ChangedWhatItMayNot(_))
    ));
    let mut parties = countered(bob.tally(), 1);
    parties.foil.party = key(41).public();
    assert!(bob.offer(Signed::sign(parties, &secret(Side::Stock)), NOW).is_err());
    let mut skipped = countered(bob.tally(), 1);
    skipped.revision += 1;
    assert_eq!(
        bob.offer(Signed::sign(skipped, &secret(Side::Stock)), NOW).unwrap_err(),
        NegotiationError::Revision { expected: 2 }
    );
}

#[test]
fn messages_signed_by_the_wrong_party_are_refused() {
    let (mut alice, mut bob, _) = offered();
    // Bob cannot accept with Alice's key, nor Alice "counter" her own offer.
    assert!(
        bob.accept(Signed::sign(bob.tally().clone(), &secret(Side::Foil)), NOW)
            .is_err()
    );
    let own = countered(alice.tally(), 1);
    assert!(
        alice
            .offer(Signed::sign(own.clone(), &secret(Side::Foil)), NOW)
            .is_err()
    );
    // An offer that claims to come from Bob but is signed by a stranger.
    let forged = TallyMessage::Offer(Signed::sign(own, &key(77)));
    assert_eq!(
        alice.receive(&forged, NOW).unwrap_err(),
        NegotiationError::WrongSigner("offer")
    );
}

#[test]
fn a_first_offer_to_someone_else_is_not_ours() {
    let offer = TallyMessage::Offer(Signed::sign(first_offer(), &secret(Side::Foil)));
    assert_eq!(
        Negotiation::received(&key(55).public(), &offer, NOW).unwrap_err(),
        NegotiationError::NotOurs
    );
}

#[test]
fn messages_round_trip_and_garbage_is_refused() {
    let (mut alice, bob, offer) = offered();
    let refused = alice.refuse(refusal(&alice, Side::Foil)).unwrap();
    let open = {
        let mut bob = bob.clone();
        bob.accept(Signed::sign(bob.tally().clone(), &secret(Side::Stock)), NOW)
            .unwrap()
    };
    for message in [offer, refused, open] {
        assert_eq!(TallyMessage::decode(&message.encode(), &limits()).unwrap(), message);
    }
    assert!(TallyMessage::decode(b"\x00garbage", &limits()).is_err());
    let oversized = vec![0u8; MAX_MESSAGE_BYTES + 1];
    assert!(TallyMessage::decode(&oversized, &limits()).is_err());
}

/// What each side can do next in the random runs below.
#[derive(Debug, Clone, Copy)]
enum Step {
    /// The side deliver the message at this position of its inbox.
    Deliver(Side, usize),
    /// The side delivers the message at this position again (a duplicate).
    Duplicate(Side, usize),
    /// The side acts on the current offer: accept, counter or refuse.
    Act(Side, u8),
}

fn step() -> impl Strategy<Value = Step> {
    let side = prop_oneof![Just(Side::Stock), Just(Side::Foil)];
    prop_oneof![
        (side.clone(), any::<usize>()).prop_map(|(s, i)| Step::Deliver(s, i)),
        (side.clone(), any::<usize>()).prop_map(|(s, i)| Step::Duplicate(s, i)),
        (side, 0u8..4).prop_map(|(s, a)| Step::Act(s, a)),
    ]
}

fn act(n: &mut Negotiation, side: Side, action: u8) -> Option<TallyMessage> {
    let tally = n.tally().clone();
    match action {
        0 => n.accept(Signed::sign(tally, &secret(side)), NOW).ok(),
        1 => n
            .offer(
                Signed::sign(
                    countered(&tally, i64::from(action) + tally.revision as i64),
                    &secret(side),
                ),
                NOW,
            )
            .ok(),
        2 => n.refuse(refusal(n, side)).ok(),
        _ => None,
    }
}

/// What must agree between the two sides once every message arrived.
fn outcome(n: &Negotiation) -> (u8, u64, Vec<u8>) {
    match n.stage() {
        Stage::Draft(_) => (0, 0, Vec::new()),
        Stage::Offered(offer) => (1, offer.record().revision, offer.bytes().to_vec()),
        Stage::Open(open) => (2, open.tally().revision, open.bytes().to_vec()),
        Stage::Refused { refusal, .. } => (3, refusal.record().revision, refusal.record().offer.0.to_vec()),
    }
}

proptest! {
    /// Whatever the two parties do and however their messages are
    /// reordered and duplicated, once every message arrived both sides see
    /// the same outcome, and an open tally is never lost.
    #[test]
    fn both_sides_converge(steps in prop::collection::vec(step(), 0..60)) {
        let (mut alice, mut bob, _) = offered();
        // Messages in flight to each side, and every message ever sent to it.
        let (mut to_alice, mut to_bob): (Vec<TallyMessage>, Vec<TallyMessage>) = (Vec::new(), Vec::new());
        let (mut sent_alice, mut sent_bob) = (Vec::new(), Vec::new());
        let mut ever_open = false;
        for step in steps {
            match step {
                Step::Deliver(Side::Foil, i) if !to_alice.is_empty() => {
                    let m = to_alice.remove(i % to_alice.len());
                    let _ = alice.receive(&m, NOW);
                }
                Step::Deliver(Side::Stock, i) if !to_bob.is_empty() => {
                    let m = to_bob.remove(i % to_bob.len());
                    let _ = bob.receive(&m, NOW);
                }
                Step::Duplicate(Side::Foil, i) if !sent_alice.is_empty() => {
                    let m: &TallyMessage = &sent_alice[i % sent_alice.len()];
                    let _ = alice.receive(m, NOW);
                }
                Step::Duplicate(Side::Stock, i) if !sent_bob.is_empty() => {
                    let m: &TallyMessage = &sent_bob[i % sent_bob.len()];
                    let _ = bob.receive(m, NOW);
                }
                Step::Act(Side::Foil, a) => {
                    if let Some(m) = act(&mut alice, Side::Foil, a) {
                        to_bob.push(m.clone());
                        sent_bob.push(m);
                    }
                }
                Step::Act(Side::Stock, a) => {
                    if let Some(m) = act(&mut bob, Side::Stock, a) {
                        to_alice.push(m.clone());
                        sent_alice.push(m);
                    }
                }
                _ => {}
            }
            ever_open |= matches!(alice.stage(), Stage::Open(_)) || matches!(bob.stage(), Stage::Open(_));
        }
        for m in to_alice.drain(..) {
            let _ = alice.receive(&m, NOW);
        }
        for m in to_bob.drain(..) {
            let _ = bob.receive(&m, NOW);
        }
        prop_assert_eq!(outcome(&alice), outcome(&bob));
        if ever_open {
            prop_assert!(matches!(alice.stage(), Stage::Open(_)));
        }
    }
}

#[test]
fn an_acceptance_that_crossed_a_withdrawal_and_a_newer_revision_opens_both_sides_at_the_accepted_one() {
    let (mut alice, mut bob, _) = offered();
    // Alice withdraws revision 1 and offers revision 2, while Bob accepts 1.
    let withdrawal = alice.refuse(refusal(&alice, Side::Foil)).unwrap();
    let again = alice
        .offer(Signed::sign(countered(alice.tally(), 20_000), &secret(Side::Foil)), NOW)
        .unwrap();
    let accept = bob
        .accept(Signed::sign(bob.tally().clone(), &secret(Side::Stock)), NOW)
        .unwrap();
    // Alice's signature is on revision 1: she honours it, late as it is.
    let late = NOW.plus_millis(2 * DAY);
    assert_eq!(alice.receive(&accept, late).unwrap(), Change::Opened);
    assert_eq!(bob.receive(&withdrawal, NOW).unwrap(), Change::Stale);
    assert_eq!(bob.receive(&again, NOW).unwrap(), Change::Unchanged);
    assert!(matches!(alice.stage(), Stage::Open(open) if open.tally().revision == 1));
    assert_eq!(alice.stage(), bob.stage());
}

#[test]
fn a_tally_learnt_open_is_open_on_our_side_and_takes_its_acceptance_again_as_nothing_new() {
    let (_, mut bob, _) = offered();
    let accept = bob
        .accept(Signed::sign(bob.tally().clone(), &secret(Side::Stock)), NOW)
        .unwrap();
    let TallyMessage::Accept(open) = &accept else {
        unreachable!()
    };
    let mut member = Negotiation::opened(&secret(Side::Foil).public(), open).unwrap();
    assert_eq!(member.me(), Side::Foil);
    assert_eq!(member.stage(), bob.stage());
    assert_eq!(member.receive(&accept, NOW).unwrap(), Change::Unchanged);
    assert_eq!(
        Negotiation::opened(&key(55).public(), open).unwrap_err(),
        NegotiationError::NotOurs
    );
}

#[test]
fn contract_texts_and_node_notices_round_trip_and_bad_ones_are_refused() {
    let (_, mut bob, _) = offered();
    let contract = TallyMessage::Contract(ContractText {
        tally: bob.tally().id,
        text: "Goods are delivered on Mondays.".into(),
    });
    assert_eq!(TallyMessage::decode(&contract.encode(), &limits()).unwrap(), contract);
    assert_eq!(
        bob.receive(&contract, NOW).unwrap(),
        Change::Unchanged,
        "no step of the negotiation"
    );
    let long = TallyMessage::Contract(ContractText {
        tally: bob.tally().id,
        text: "x".repeat(MAX_CONTRACT_TEXT_BYTES + 1),
    });
    assert!(TallyMessage::decode(&long.encode(), &limits()).is_err());

    let accept = bob
        .accept(Signed::sign(bob.tally().clone(), &secret(Side::Stock)), NOW)
        .unwrap();
    let TallyMessage::Accept(open) = accept else {
        unreachable!()
    };
    let addresses = vec![(
        key(11).public(),
        vec![
            "/ip4/127.0.0.1/tcp/4001".to_owned(),
            "/ip4/127.0.0.1/udp/4001/quic-v1".to_owned(),
        ],
    )];
    let notice = TallyRequest::Nodes(NodesNotice {
        open: open.clone(),
        addresses: addresses.clone(),
    });
    assert_eq!(TallyRequest::decode(&notice.encode(), &limits()).unwrap(), notice);
    assert!(
        TallyMessage::decode(&notice.encode(), &limits()).is_err(),
        "a notice is no negotiation message"
    );
    assert_eq!(
        decode_nodes_taken(&encode_nodes_taken(&addresses), &limits()),
        Some(addresses)
    );
    let crowded = vec![(
        key(11).public(),
        vec!["/ip4/127.0.0.1/tcp/1".to_owned(); MAX_NODE_ADDRESSES + 1],
    )];
    let crowded = TallyRequest::Nodes(NodesNotice {
        open,
        addresses: crowded,
    });
    assert!(TallyRequest::decode(&crowded.encode(), &limits()).is_err());
    assert_eq!(decode_nodes_taken(b"junk", &limits()), None);
}
