//! The ledger machine, step by step: what it accepts, what it refuses, what
//! it persists before it sends, and how it restarts and catches up.

// Test helpers outside `#[test]` functions may unwrap too.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::VecDeque;

use proptest::prelude::*;
use tallymesh_core::block::EncodedBlock;
use tallymesh_core::certificate::Certificate;
use tallymesh_core::record::Signed;
use tallymesh_core::rules::NetworkChange;
use tallymesh_core::tally_network::{TallyId, TallyNetwork};
use tallymesh_core::vote::{Step, Vote};
use tallymesh_core::{Digest, ProtocolVersion, PublicKey, SecretKey};
use tallymesh_protocol::Envelope;
use tallymesh_protocol::ledger::{Durable, Event, Input, Ledger, LedgerConfig, Message};
use tallymesh_protocol::sim::SimState;

use super::support::{TALLY, Tally};

fn vote_message(key: &SecretKey, tally: TallyId, height: u64, round: u64, step: Step) -> Vec<u8> {
    let vote = Vote {
        tally,
        height,
        round,
        step,
        block: None,
    };
    Message::Vote {
        tally,
        vote: Signed::sign(vote, key).bytes().to_vec(),
    }
    .encode()
}

#[test]
fn an_entry_is_certified_on_every_node_of_a_three_plus_four_network() {
    let mut t = Tally::new(3, 4);
    let entry = t.chit(0);
    t.step(0, Input::Submit { entry: entry.clone() });
    t.run(0);
    for i in 0..7 {
        assert_eq!(t.certified(i), vec![Digest::of(&entry)], "node {i}");
        assert_eq!(t.node(i).height(), 2);
        assert_eq!(t.node(i).tip(), t.node(0).tip());
    }
}

#[test]
fn neither_party_certifies_alone() {
    // The foil party's nodes are cut off: the stock nodes alone never
    // certify, however long they wait.
    let mut t = Tally::new(2, 2);
    t.cut[2] = true;
    t.cut[3] = true;
    let entry = t.chit(0);
    t.step(0, Input::Submit { entry });
    t.run(20_000);
    assert!(t.certified(0).is_empty() && t.certified(1).is_empty());
    assert!(t.node(0).pending().len() == 1, "still pending: {}", t.node(0).summary());
    // Reconnected, the entry is certified.
    t.cut = vec![false; 4];
    t.run(30_000);
    assert!((0..4).all(|i| t.certified(i).len() == 1), "{}", t.node(0).summary());
}

#[test]
fn every_vote_sent_was_persisted_in_the_same_step() {
    let mut t = Tally::new(1, 1);
    let entry = t.chit(1);
    let mut votes_sent = 0;
    let mut inputs = VecDeque::from([(1, Input::Submit { entry })]);
    while let Some((to, input)) = inputs.pop_front() {
        let out = t.step_out(to, input);
        inputs.extend(
            t.queue
                .drain(..)
                .map(|(to, from, bytes)| (to, Input::Received { from, bytes })),
        );
        let persisted: Vec<&Vec<u8>> = out
            .persist
            .iter()
            .filter_map(|d| match d {
                Durable::Vote { vote, .. } => Some(vote),
                _ => None,
            })
            .collect();
        for message in &out.send {
            if let Ok(Message::Vote { vote, .. }) = Message::decode(&message.bytes, &Default::default()) {
                let own = Signed::<Vote>::from_bytes(&vote).unwrap();
                if own.signer() == &t.keys[to].public() && own.record().height == 1 {
                    votes_sent += 1;
                    assert!(persisted.contains(&&vote), "a vote left before it was persisted");
                }
            }
        }
        let locked = out.persist.iter().any(|d| matches!(d, Durable::Lock { .. }));
        let precommitted = out
            .persist
            .iter()
            .any(|d| matches!(d, Durable::Vote { step: Step::Precommit, vote, .. } if Signed::<Vote>::from_bytes(vote).unwrap().record().block.is_some()));
        assert_eq!(locked, precommitted, "a lock is persisted with its precommit");
    }
    assert!(votes_sent >= 4, "two prevotes and two precommits");
    assert!(
        t.durable[0]
            .iter()
            .any(|d| matches!(d, Durable::Block { height: 1, .. }))
    );
}

#[test]
fn a_restarted_node_resends_its_vote_and_never_signs_another() {
    let mut t = Tally::new(1, 1);
    // Node 1 (the proposer of round 0) never hears of the entry: node 0
    // times out, prevotes nil, waits for a quorum, and crashes.
    t.cut[1] = true;
    let entry = t.chit(0);
    t.step(0, Input::Submit { entry });
    t.run(3_000);
    let prevote = t.durable[0]
        .iter()
        .find_map(|d| match d {
            Durable::Vote {
                step: Step::Prevote,
                vote,
                ..
            } => Some(vote.clone()),
            _ => None,
        })
        .expect("node 0 prevoted nil");
    let restored = Ledger::restore(
        LedgerConfig::default(),
        SecretKey::from_seed(&t.keys[0].seed()),
        t.genesis.clone(),
        t.rules.clone(),
        SimState::default(),
        t.durable[0].clone(),
    )
    .unwrap();
    t.nodes[0] = Some(restored);
    let out = t.step_out(0, Input::Tick);
    let resent = out.send.iter().any(
        |m| matches!(Message::decode(&m.bytes, &Default::default()), Ok(Message::Vote { vote, .. }) if vote == prevote),
    );
    assert!(resent, "the restarted node resends the vote it signed");
    // Time passes: the propose timeout of round 0 must not make it sign a
    // nil prevote for round 0.
    t.run(5_000);
    let round_zero_prevotes = t.durable[0]
        .iter()
        .filter(|d| {
            matches!(
                d,
                Durable::Vote {
                    round: 0,
                    step: Step::Prevote,
                    ..
                }
            )
        })
        .count();
    assert_eq!(round_zero_prevotes, 1);
}

#[test]
fn a_restart_keeps_certified_blocks_and_pending_entries() {
    let mut t = Tally::new(1, 1);
    let first = t.chit(0);
    t.step(0, Input::Submit { entry: first });
    t.run(0);
    t.cut[1] = true;
    let second = t.chit(0);
    t.step(0, Input::Submit { entry: second.clone() });
    t.run(1_000);
    let restored = Ledger::restore(
        LedgerConfig::default(),
        SecretKey::from_seed(&t.keys[0].seed()),
        t.genesis.clone(),
        t.rules.clone(),
        SimState::default(),
        t.durable[0].clone(),
    )
    .unwrap();
    assert_eq!(restored.height(), 2);
    assert_eq!(restored.pending(), vec![Digest::of(&second)]);
    t.nodes[0] = Some(restored);
    t.cut[1] = false;
    t.run(10_000);
    assert!(t.certified(1).contains(&Digest::of(&second)));
}

#[test]
fn forged_foreign_and_future_version_votes_are_refused_without_effect() {
    let mut t = Tally::new(1, 1);
    let member = SecretKey::from_seed(&t.keys[1].seed());
    let stranger = SecretKey::from_seed(&[99; 32]);
    let from = member.public();
    let mut tampered = vote_message(&member, TALLY, 1, 0, Step::Prevote);
    let last = tampered.len() - 1;
    tampered[last] ^= 1;
    let cases = [
        (tampered, "signature"),
        (
            vote_message(&stranger, TALLY, 1, 0, Step::Prevote),
            "outside the tally network",
        ),
        (
            vote_message(&member, TallyId([4; 16]), 1, 0, Step::Prevote),
            "another tally",
        ),
        (
            Envelope::new(ProtocolVersion(2), "ledger/vote", vec![]).encode(),
            "unsupported protocol version v2",
        ),
        (vec![0xff, 0x00, 0x13], "malformed"),
    ];
    for (bytes, why) in cases {
        let before = t.node(0).summary();
        let out = t.step_out(0, Input::Received { from, bytes });
        assert!(out.persist.is_empty() && out.send.iter().all(|m| !m.bytes.is_empty()));
        assert!(
            t.refusals(0).last().is_some_and(|r| r.contains(why)),
            "{why}: {:?}",
            t.refusals(0)
        );
        assert_eq!(t.node(0).summary(), before, "{why}");
    }
}

#[test]
fn a_replayed_vote_changes_nothing() {
    let mut t = Tally::new(1, 2);
    let entry = t.chit(0);
    t.step(0, Input::Submit { entry });
    let mut log = Vec::new();
    while let Some((to, from, bytes)) = t.queue.pop_front() {
        log.push((to, from, bytes.clone()));
        t.step(to, Input::Received { from, bytes });
    }
    let before: Vec<String> = (0..3).map(|i| t.node(i).summary()).collect();
    for (to, from, bytes) in log {
        let out = t.step_out(to, Input::Received { from, bytes });
        assert!(out.persist.is_empty(), "a replay persisted something");
        assert!(
            out.events.iter().all(|e| !matches!(e, Event::BlockCertified { .. })),
            "a replay certified something"
        );
    }
    let after: Vec<String> = (0..3).map(|i| t.node(i).summary()).collect();
    assert_eq!(before, after);
}

#[test]
fn a_node_that_was_away_catches_up_and_checks_certificates() {
    let mut t = Tally::new(2, 2);
    t.cut[3] = true;
    for _ in 0..3 {
        let entry = t.chit(0);
        t.step(0, Input::Submit { entry });
        t.run(0);
    }
    // 2+2 with majorities needs all four nodes: nothing was certified
    // without node 3, so use 2 of 3 on a wider network instead.
    assert_eq!(t.node(0).height(), 1);
    let mut t = Tally::new(3, 3);
    t.cut[5] = true;
    for _ in 0..3 {
        let entry = t.chit(1);
        t.step(3, Input::Submit { entry });
        t.run(0);
    }
    assert_eq!(t.node(0).height(), 4);
    assert_eq!(t.node(5).height(), 1);
    // A block with a certificate short of a quorum is refused.
    let (block, certificate) = t.node(0).certified(1).map(|(b, c)| (b.clone(), c.to_vec())).unwrap();
    let mut votes = Certificate::from_bytes(&certificate).unwrap().votes().to_vec();
    votes.truncate(1);
    let forged = Message::Blocks {
        tally: TALLY,
        blocks: vec![(block.bytes().to_vec(), Certificate::new(votes).to_bytes())],
    }
    .encode();
    t.cut[5] = false;
    let from = t.keys[0].public();
    t.step(5, Input::Received { from, bytes: forged });
    assert_eq!(t.node(5).height(), 1);
    assert!(t.refusals(5).last().unwrap().contains("quorum"), "{:?}", t.refusals(5));
    // Asked properly, it takes every block.
    t.now += 60_000;
    t.run(1_000);
    assert_eq!(t.node(5).height(), 4, "{}", t.node(5).summary());
    assert_eq!(t.node(5).tip(), t.node(0).tip());
    assert_eq!(t.certified(5).len(), 3);
}

#[test]
fn a_network_change_both_parties_signed_takes_effect_at_the_next_height() {
    let mut t = Tally::with_spares(1, 1, 1);
    let spare = t.keys[2].public();
    let network = TallyNetwork::new(vec![t.keys[0].public()], vec![t.keys[1].public(), spare]).unwrap();
    let change = NetworkChange {
        tally: TALLY,
        epoch: 1,
        network: network.clone(),
    };
    let entry = NetworkChange::cosigned_entry(
        &Signed::sign(change.clone(), &t.parties[0]),
        &Signed::sign(change, &t.parties[1]),
    );
    t.step(0, Input::Submit { entry });
    t.run(0);
    assert_eq!(t.node(0).height(), 2);
    assert_eq!(t.node(0).network(), &network);
    assert!(
        t.events[0]
            .iter()
            .any(|e| matches!(e, Event::NetworkChanged { height: 2, .. }))
    );
    // The new node learns the chain from the members and takes part: with
    // 1+2, the quorum needs it (2 of 2 foil nodes).
    t.now += 40_000;
    t.run(1_000);
    assert_eq!(t.node(2).height(), 2, "{}", t.node(2).summary());
    let entry = t.chit(1);
    t.step(1, Input::Submit { entry: entry.clone() });
    t.run(5_000);
    for i in 0..3 {
        assert!(t.certified(i).contains(&Digest::of(&entry)), "node {i}");
    }
    let (_, certificate) = t.node(0).certified(2).unwrap();
    let signers: Vec<PublicKey> = Certificate::from_bytes(certificate)
        .unwrap()
        .votes()
        .iter()
        .map(|v| *v.signer())
        .collect();
    assert!(signers.contains(&spare), "height 2 was decided by the new network");
}

#[test]
fn a_network_change_signed_by_one_party_is_refused() {
    let mut t = Tally::new(1, 1);
    let change = NetworkChange {
        tally: TALLY,
        epoch: 1,
        network: TallyNetwork::new(vec![t.keys[0].public()], vec![t.keys[1].public()]).unwrap(),
    };
    let entry = NetworkChange::cosigned_entry(
        &Signed::sign(change.clone(), &t.parties[0]),
        &Signed::sign(change, &t.parties[0]),
    );
    t.step(0, Input::Submit { entry });
    assert!(matches!(t.events[0].last(), Some(Event::EntryRefused { .. })));
    assert!(t.node(0).pending().is_empty());
}

#[test]
fn entries_made_offline_stay_pending_and_are_certified_later() {
    let mut t = Tally::new(1, 1);
    t.cut[0] = true;
    t.cut[1] = true;
    let entries: Vec<Vec<u8>> = (0..3).map(|_| t.chit(1)).collect();
    for entry in &entries {
        t.step(1, Input::Submit { entry: entry.clone() });
    }
    t.run(10_000);
    assert_eq!(t.node(1).pending().len(), 3);
    assert!(
        t.events[1]
            .iter()
            .filter(|e| matches!(e, Event::EntryPending { .. }))
            .count()
            == 3
    );
    t.cut = vec![false, false];
    t.run(20_000);
    for i in 0..2 {
        let mut certified = t.certified(i);
        certified.sort();
        let mut expected: Vec<Digest> = entries.iter().map(|e| Digest::of(e)).collect();
        expected.sort();
        assert_eq!(certified, expected, "node {i}");
    }
    assert!(t.node(1).pending().is_empty());
}

#[test]
fn an_idle_network_sends_nothing_but_rare_sync_requests() {
    let mut t = Tally::new(2, 2);
    // Starting, each node asks its peers once for blocks it may lack.
    t.run(100);
    assert!(t.queue.is_empty());
    let mut sent = Vec::new();
    for _ in 0..100 {
        t.now += 100;
        for i in 0..4 {
            sent.extend(
                t.step_out(i, Input::Tick)
                    .send
                    .iter()
                    .map(|m| format!("{i}: {:?}", Message::decode(&m.bytes, &Default::default()))),
            );
        }
    }
    t.queue.clear();
    // 10 seconds, default idle sync every 30 s: nothing at all.
    assert!(sent.is_empty(), "{sent:?}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn arbitrary_input_never_panics_or_persists(
        kind in prop::sample::select(vec!["ledger/proposal", "ledger/vote", "ledger/entries", "ledger/sync-request", "ledger/blocks", "other"]),
        body in proptest::collection::vec(any::<u8>(), 0..200),
        raw in proptest::collection::vec(any::<u8>(), 0..200),
    ) {
        let mut t = Tally::new(1, 1);
        let from = t.keys[1].public();
        let framed = Envelope::new(ProtocolVersion(1), kind, body).encode();
        for bytes in [framed, raw] {
            let out = t.step_out(0, Input::Received { from, bytes });
            prop_assert!(out.persist.is_empty());
        }
    }

    #[test]
    fn arbitrary_blocks_with_certificates_never_panic(block in proptest::collection::vec(any::<u8>(), 0..200), cert in proptest::collection::vec(any::<u8>(), 0..200)) {
        let mut t = Tally::new(1, 1);
        let from = t.keys[1].public();
        let bytes = Message::Blocks { tally: TALLY, blocks: vec![(block, cert)] }.encode();
        let out = t.step_out(0, Input::Received { from, bytes });
        prop_assert!(out.persist.is_empty());
        prop_assert_eq!(t.node(0).height(), 1);
    }
}

#[test]
fn blocks_are_chained_and_carry_their_entries_as_signed() {
    let mut t = Tally::new(1, 1);
    let entry = t.chit(0);
    t.step(0, Input::Submit { entry: entry.clone() });
    t.run(0);
    let entry2 = t.chit(1);
    t.step(1, Input::Submit { entry: entry2.clone() });
    t.run(0);
    let (one, _) = t.node(0).certified(1).unwrap();
    let (two, _) = t.node(0).certified(2).unwrap();
    assert_eq!(one.block().previous, t.genesis.hash);
    assert_eq!(two.block().previous, one.hash());
    assert_eq!(one.block().entries, vec![entry]);
    assert_eq!(two.block().entries, vec![entry2]);
    assert_eq!(EncodedBlock::from_bytes(two.bytes()).unwrap().hash(), t.node(0).tip());
}
