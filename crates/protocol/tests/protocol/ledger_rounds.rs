//! Tendermint's rules, one at a time (Buchman, Kwon, Milosevic, "The latest
//! gossip on BFT consensus", 2018, Algorithm 1; "line n" below).
//!
//! Each test drives real ledger machines with chosen messages and cuts the
//! rest. Most script the other nodes of the tally network: their keys sign
//! exactly the proposals and votes the test says (consistent with honest
//! nodes that missed something, unless a test says a node is byzantine), so
//! the rule under test is the only thing that can explain what the real
//! machine does.
//!
//! Unless a test says otherwise the network is 3+3 with majorities: nodes
//! 0, 1, 2 are the stock party's, 3, 4, 5 the foil party's; a quorum is two
//! of each side, and each side may lose one node (so a skip set is two
//! nodes of one side). At height 1 the proposer of round `r` is node
//! `(1 + r) mod 6`. Default timeouts: propose 1 s, prevote and precommit
//! 0.5 s, each growing by 0.25 s per round.

// Test helpers outside `#[test]` functions may unwrap too.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;

use super::support::Tally;
use tallymesh_core::Digest;
use tallymesh_core::block::EncodedBlock;
use tallymesh_core::certificate::Certificate;
use tallymesh_core::record::Signed;
use tallymesh_core::vote::{Proposal, Step, Vote};
use tallymesh_protocol::ledger::{Durable, Input, Message};

use Step::{Precommit, Prevote};

/// Scripted nodes `peers` all vote `value` in one step of one round, to
/// node `to`.
fn votes(t: &mut Tally, to: usize, peers: &[usize], round: u64, step: Step, value: Option<Digest>) {
    for &peer in peers {
        let message = t.vote_message(peer, round, step, value);
        t.deliver(to, peer, message);
    }
}

/// Node 0, in `round` and free to take `block`, gets the round's proposal
/// of it and the prevotes of nodes 1, 3 and 4: with its own prevote, a
/// quorum (stock 0 and 1, foil 3 and 4). It must lock on the block.
fn lock_node_0(t: &mut Tally, round: u64, block: &EncodedBlock) {
    let proposer = (1 + round as usize) % 6;
    let proposal = t.proposal(proposer, round, block, None, vec![]);
    t.deliver(0, proposer, proposal);
    assert_eq!(t.prevote(0, round), Some(Some(block.hash())), "{}", t.node(0).summary());
    votes(t, 0, &[1, 3, 4], round, Prevote, Some(block.hash()));
    assert_eq!(
        t.locks(0).last(),
        Some(&(round, block.hash())),
        "{}",
        t.node(0).summary()
    );
}

/// The round of node `i` fails: scripted `peers` precommit nil, which with
/// the node's own precommit is a quorum of precommits (line 47); the
/// precommit timeout then starts the next round (line 65).
fn fail_round(t: &mut Tally, i: usize, peers: &[usize]) {
    let round = t.node(i).round();
    votes(t, i, peers, round, Precommit, None);
    t.pass(i, 500 + 250 * round);
    assert_eq!(t.node(i).round(), round + 1, "{}", t.node(i).summary());
}

// ------------------------------------------------------------------ 1. lock

#[test]
fn a_quorum_of_prevotes_for_the_proposed_block_locks_the_node_on_it_and_it_precommits_it() {
    let mut t = Tally::new(3, 3);
    t.script(&[1, 2, 3, 4, 5]);
    let chit = t.chit(0);
    let b = t.block(1, vec![chit]);
    let proposal = t.proposal(1, 0, &b, None, vec![]);
    t.deliver(0, 1, proposal);
    assert_eq!(
        t.prevote(0, 0),
        Some(Some(b.hash())),
        "line 22: a free node prevotes a valid proposal"
    );
    // Three prevotes for B, but only one of them foil: no quorum, no lock.
    votes(&mut t, 0, &[1, 3], 0, Prevote, Some(b.hash()));
    assert!(t.locks(0).is_empty());
    assert_eq!(t.precommit(0, 0), None);
    // The fourth makes a quorum of both sides (line 36).
    let message = t.vote_message(4, 0, Prevote, Some(b.hash()));
    let out = t.deliver_out(0, 4, message);
    assert_eq!(t.locks(0), vec![(0, b.hash())]);
    assert_eq!(t.precommit(0, 0), Some(Some(b.hash())));
    // The lock is durable in the step that signs the precommit, with the
    // quorum of prevotes that justifies it.
    let proof = out
        .persist
        .iter()
        .find_map(|d| match d {
            Durable::Lock { proof, .. } => Some(proof.clone()),
            _ => None,
        })
        .expect("the lock is persisted with the precommit");
    assert!(out.persist.iter().any(|d| matches!(
        d,
        Durable::Vote { round: 0, step: Precommit, vote, .. }
            if Signed::<Vote>::from_bytes(vote).unwrap().record().block == Some(b.hash())
    )));
    let signers: Vec<_> = proof
        .iter()
        .map(|v| *Signed::<Vote>::from_bytes(v).unwrap().signer())
        .collect();
    assert!(t.node(0).network().is_quorum(&signers), "the lock's proof is a quorum");
}

#[test]
fn a_locked_node_prevotes_nil_for_another_block_without_a_newer_proof_of_lock() {
    let mut t = Tally::new(3, 3);
    t.script(&[1, 2, 3, 4, 5]);
    let (one, two) = (t.chit(0), t.chit(1));
    let b = t.block(1, vec![one]);
    let other = t.block(2, vec![two]);
    // Round 0: node 0 locks on B; the round fails.
    lock_node_0(&mut t, 0, &b);
    fail_round(&mut t, 0, &[1, 3, 4]);
    // Round 1: the proposer offers another valid block, fresh. Node 0 is
    // locked on B: nil, at once (line 22).
    let proposal = t.proposal(2, 1, &other, None, vec![]);
    t.deliver(0, 2, proposal);
    assert_eq!(t.prevote(0, 1), Some(None));
    // The round fails: 1, 4 and 5 prevote nil (with node 0 a nil quorum:
    // it precommits nil at once, line 44), then precommit nil.
    votes(&mut t, 0, &[1, 4, 5], 1, Prevote, None);
    assert_eq!(t.precommit(0, 1), Some(None));
    fail_round(&mut t, 0, &[1, 4, 5]);
    // Round 2: the other block again, claiming valid round 1, but its proof
    // holds only nodes 2 and 3 (one stock node): no quorum of round 1
    // prevoted it. Node 0 waits for a proof (line 28 needs one) ...
    let proof = vec![
        t.vote(2, 1, Prevote, Some(other.hash())),
        t.vote(3, 1, Prevote, Some(other.hash())),
    ];
    let proposal = t.proposal(3, 2, &other, Some(1), proof);
    t.deliver(0, 3, proposal);
    assert_eq!(t.prevote(0, 2), None);
    t.pass(0, 1_400);
    assert_eq!(
        t.prevote(0, 2),
        None,
        "not before the propose timeout of round 2 (1.5 s)"
    );
    // ... and at the propose timeout prevotes nil (line 57).
    t.pass(0, 100);
    assert_eq!(t.prevote(0, 2), Some(None));
    assert_eq!(t.locks(0), vec![(0, b.hash())], "still locked on B, and only on B");
}

#[test]
fn a_proof_of_lock_older_than_the_lock_does_not_unlock_the_node() {
    let mut t = Tally::new(3, 3);
    t.script(&[1, 2, 3, 4, 5]);
    let (one, two) = (t.chit(0), t.chit(1));
    let other = t.block(1, vec![one]);
    let b = t.block(2, vec![two]);
    // Round 0: nodes 1 to 4 (a quorum) prevoted the other block, but none
    // saw that quorum in time and all precommitted nil. Node 0 heard only
    // the precommits.
    let old_proof: Vec<Vec<u8>> = [1, 2, 3, 4]
        .iter()
        .map(|&p| t.vote(p, 0, Prevote, Some(other.hash())))
        .collect();
    votes(&mut t, 0, &[1, 2, 3, 4], 0, Precommit, None);
    t.pass(0, 500);
    assert_eq!(t.node(0).round(), 1, "{}", t.node(0).summary());
    // Round 1: node 0 locks on B; the round fails.
    lock_node_0(&mut t, 1, &b);
    fail_round(&mut t, 0, &[1, 3, 4]);
    // Round 2: the other block, with a complete proof from round 0. Round 0
    // is older than node 0's lock (round 1): nil (line 28,
    // `lockedRound <= vr` fails).
    let proposal = t.proposal(3, 2, &other, Some(0), old_proof);
    t.deliver(0, 3, proposal);
    assert_eq!(t.prevote(0, 2), Some(None));
    assert_eq!(t.locks(0), vec![(1, b.hash())]);
}

// ------------------------------------------------ 2. unlock by a newer proof

#[test]
fn a_locked_node_prevotes_a_block_proposed_with_a_proof_of_lock_newer_than_its_lock() {
    let mut t = Tally::new(3, 3);
    t.script(&[1, 2, 3, 4, 5]);
    let (one, two) = (t.chit(0), t.chit(1));
    let b = t.block(1, vec![one]);
    let other = t.block(2, vec![two]);
    // Round 0: node 0 locks on B; the round fails.
    lock_node_0(&mut t, 0, &b);
    fail_round(&mut t, 0, &[1, 3, 4]);
    // Round 1: nodes 1 to 4 prevote the other block (a quorum), node 5 nil;
    // nodes 1 and 3 lock on it, 2 and 4 time out. Node 0 never gets the
    // proposal: it prevotes nil at the propose timeout (1.25 s) ...
    t.pass(0, 1_250);
    assert_eq!(t.prevote(0, 1), Some(None));
    // ... and hears the prevotes of 1, 4 (for the other block) and 5 (nil):
    // a quorum of prevotes, but not for one block. Prevote timeout, nil.
    votes(&mut t, 0, &[1, 4], 1, Prevote, Some(other.hash()));
    votes(&mut t, 0, &[5], 1, Prevote, None);
    t.pass(0, 750);
    assert_eq!(t.precommit(0, 1), Some(None));
    votes(&mut t, 0, &[1], 1, Precommit, Some(other.hash()));
    fail_round(&mut t, 0, &[4, 5]);
    assert_eq!(t.locks(0), vec![(0, b.hash())], "still locked on B from round 0");
    // Round 2: node 3 re-proposes the other block with valid round 1 and the
    // four prevotes. 0 <= 1: node 0 prevotes it (line 28).
    let proof: Vec<Vec<u8>> = [1, 2, 3, 4]
        .iter()
        .map(|&p| t.vote(p, 1, Prevote, Some(other.hash())))
        .collect();
    let proposal = t.proposal(3, 2, &other, Some(1), proof);
    t.deliver(0, 3, proposal);
    assert_eq!(t.prevote(0, 2), Some(Some(other.hash())));
    assert_eq!(
        t.locks(0),
        vec![(0, b.hash())],
        "unlocked by the proof, not by a new lock"
    );
    // The others prevote and precommit it too: node 0 locks on it and
    // certifies it in round 2.
    votes(&mut t, 0, &[1, 3, 4], 2, Prevote, Some(other.hash()));
    assert_eq!(t.locks(0), vec![(0, b.hash()), (2, other.hash())]);
    assert_eq!(t.precommit(0, 2), Some(Some(other.hash())));
    votes(&mut t, 0, &[1, 3, 4], 2, Precommit, Some(other.hash()));
    assert_eq!(t.certified_blocks(0), vec![(other.hash(), 2)]);
    assert_eq!(t.node(0).height(), 2);
}

#[test]
fn a_proof_of_lock_from_the_round_of_the_lock_itself_unlocks_the_node() {
    // Line 28 takes a proof from the lock's own round (`lockedRound <= vr`).
    // Two quorums for different blocks in one round need nodes that
    // prevoted both: here node 1 (stock) and node 3 (foil), one per side,
    // which each side tolerates. The machine counts them for each block
    // they signed, as Algorithm 1 counts messages.
    let mut t = Tally::new(3, 3);
    t.script(&[1, 2, 3, 4, 5]);
    let (one, two) = (t.chit(0), t.chit(1));
    let b = t.block(1, vec![one]);
    let other = t.block(1, vec![two]);
    // Round 0: node 0 locks on B (prevotes of 1, 3, 4); the round fails.
    lock_node_0(&mut t, 0, &b);
    fail_round(&mut t, 0, &[2, 4, 5]);
    // Round 1: node 2 proposes the other block with valid round 0 and the
    // prevotes of 1, 2, 3 and 5 for it, a quorum of round 0 too.
    let proof: Vec<Vec<u8>> = [1, 2, 3, 5]
        .iter()
        .map(|&p| t.vote(p, 0, Prevote, Some(other.hash())))
        .collect();
    let proposal = t.proposal(2, 1, &other, Some(0), proof);
    t.deliver(0, 2, proposal);
    assert_eq!(t.prevote(0, 1), Some(Some(other.hash())), "{}", t.node(0).summary());
    // The nodes that prevoted both are reported.
    assert_eq!(t.double_signed(0, 1).len(), 1);
    assert_eq!(t.double_signed(0, 3).len(), 1);
}

// ----------------------------------------------- 3. valid value re-proposed

/// A quorum prevotes B in round 0 but the round fails; node 2, the proposer
/// of round 1, saw that quorum (before precommitting, so it locked; or only
/// after it precommitted nil, so B is just its valid value). It holds an
/// entry of its own that would make a new block. Node 0 is real too but
/// heard nothing of round 0; nodes 1, 3, 4 and 5 are scripted.
fn a_proposer_that_knows_a_valid_block_proposes_it_again(locked: bool) {
    let mut t = Tally::new(3, 3);
    t.script(&[1, 3, 4, 5]);
    t.cut[0] = true;
    let (one, own) = (t.chit(0), t.chit(1));
    t.step(2, Input::Submit { entry: own.clone() });
    let b = t.block(1, vec![one]);
    let proposal = t.proposal(1, 0, &b, None, vec![]);
    t.deliver(2, 1, proposal);
    assert_eq!(t.prevote(2, 0), Some(Some(b.hash())));
    if locked {
        votes(&mut t, 2, &[1, 3, 4], 0, Prevote, Some(b.hash()));
        assert_eq!(t.locks(2), vec![(0, b.hash())]);
    } else {
        // 1 and 3 prevote B, 5 nil: a quorum of prevotes, but not for B. At
        // the prevote timeout node 2 precommits nil; only then does 4's
        // prevote for B arrive (line 36 in step precommit: B becomes the
        // valid value, with no lock).
        votes(&mut t, 2, &[1, 3], 0, Prevote, Some(b.hash()));
        votes(&mut t, 2, &[5], 0, Prevote, None);
        t.pass(2, 500);
        assert_eq!(t.precommit(2, 0), Some(None));
        votes(&mut t, 2, &[4], 0, Prevote, Some(b.hash()));
        assert!(t.locks(2).is_empty(), "precommitted nil: no lock");
    }
    // The others precommit nil: the round fails, node 2 moves to round 1
    // and proposes.
    votes(&mut t, 2, &[1, 3, 4], 0, Precommit, None);
    t.run(0);
    t.cut[0] = false;
    t.pass(2, 500);
    assert_eq!(t.node(2).round(), 1);
    // Its proposal is B again, with valid round 0 and the prevotes that
    // prove it: not a new block of its pending entry.
    let proposals = t.proposals(2);
    assert_eq!(proposals.len(), 1, "node 2 proposed once, in round 1");
    let (proposal, block, proof): &(Proposal, EncodedBlock, _) = &proposals[0];
    assert_eq!(
        (proposal.round, proposal.valid_round, proposal.block),
        (1, Some(0), b.hash())
    );
    assert_eq!(block.bytes(), b.bytes());
    assert!(proof.iter().all(|v| {
        let v = v.record();
        (v.round, v.step, v.block) == (0, Prevote, Some(b.hash()))
    }));
    assert!(t.node(2).network().is_quorum(proof.iter().map(|v| *v.signer())));
    assert_eq!(
        t.prevote(2, 1),
        Some(Some(b.hash())),
        "the proposer prevotes its re-proposal"
    );
    // Node 0 gets it, and moves to round 1 once node 1's prevote makes two
    // stock nodes in round 1. It never saw round 0: the proof is what lets
    // it take B (line 28).
    t.run(0);
    assert_eq!(t.node(0).round(), 0);
    for to in [0, 2] {
        let message = t.vote_message(1, 1, Prevote, Some(b.hash()));
        t.deliver(to, 1, message);
    }
    assert_eq!(t.node(0).round(), 1);
    assert_eq!(t.prevote(0, 1), Some(Some(b.hash())));
    assert_eq!(t.prevote(0, 0), None, "node 0 skipped round 0");
    // With nodes 3 and 4 that is a quorum: both lock on B and precommit
    // it; with the precommits of 3 and 4 it is certified in round 1.
    for to in [0, 2] {
        votes(&mut t, to, &[3, 4], 1, Prevote, Some(b.hash()));
    }
    t.run(0);
    assert_eq!(t.precommit(0, 1), Some(Some(b.hash())));
    assert_eq!(t.precommit(2, 1), Some(Some(b.hash())));
    for to in [0, 2] {
        votes(&mut t, to, &[3, 4], 1, Precommit, Some(b.hash()));
    }
    t.run(0);
    for i in [0, 2] {
        assert_eq!(
            t.certified_blocks(i),
            vec![(b.hash(), 1)],
            "node {i}: {}",
            t.node(i).summary()
        );
        let (_, certificate) = t.node(i).certified(1).unwrap();
        let round = Certificate::from_bytes(certificate)
            .unwrap()
            .verify(&t.genesis.network, t.genesis.tally, 1, b.hash())
            .unwrap();
        assert_eq!(round, 1);
    }
    // The proposer's own entry waits for the next block.
    assert_eq!(t.node(2).pending(), vec![Digest::of(&own)]);
}

#[test]
fn a_proposer_locked_on_a_block_proposes_it_again_with_its_valid_round_and_it_is_certified() {
    a_proposer_that_knows_a_valid_block_proposes_it_again(true);
}

#[test]
fn a_proposer_that_saw_the_quorum_only_after_precommitting_nil_still_proposes_that_block_again() {
    a_proposer_that_knows_a_valid_block_proposes_it_again(false);
}

// ------------------------------------------------------- 4. round skipping

#[test]
fn messages_of_a_later_round_from_a_skip_set_move_a_node_there_without_waiting() {
    let mut t = Tally::new(3, 3);
    t.script(&[1, 2, 3, 4, 5]);
    let entry = t.chit(0);
    t.step(0, Input::Submit { entry });
    assert_eq!(t.node(0).round(), 0);
    // Round 4 messages from one stock and one foil node: each side may lose
    // one node, so they could both be faulty. No skip.
    votes(&mut t, 0, &[1, 3], 4, Prevote, None);
    assert_eq!(t.node(0).round(), 0);
    // A second foil node, in round 2: nodes 3 and 4 are more foil nodes than
    // the foil side may lose, so one of them is correct and at least in
    // round 2. Node 0 jumps there at once, the same instant; not to 4,
    // which only a set that may be faulty claims.
    votes(&mut t, 0, &[4], 2, Prevote, None);
    assert_eq!(t.node(0).round(), 2, "{}", t.node(0).summary());
    assert_eq!(t.now, 0, "no time passed");
    // It signed nothing in the rounds it skipped, and their stale timeouts
    // do not make it: the propose timeout of round 0 (1 s) passes.
    t.pass(0, 1_000);
    for round in [0, 1] {
        assert_eq!(t.prevote(0, round), None);
        assert_eq!(t.precommit(0, round), None);
    }
    assert_eq!(t.node(0).round(), 2);
}

#[test]
fn a_skip_set_counts_each_side_against_the_nodes_that_side_may_lose() {
    // 1+3: the stock side (one node) may lose none, the foil side (three,
    // quorum two) may lose one. Node 1, a foil node, is in round 0 with an
    // entry to certify.
    let setup = || {
        let mut t = Tally::new(1, 3);
        t.script(&[0, 2, 3]);
        let entry = t.chit(1);
        t.step(1, Input::Submit { entry });
        t
    };
    // One foil node in round 3 is not enough; a second one is.
    let mut t = setup();
    let message = t.vote_message(2, 3, Prevote, None);
    t.deliver(1, 2, message);
    assert_eq!(t.node(1).round(), 0);
    let message = t.vote_message(3, 3, Prevote, None);
    t.deliver(1, 3, message);
    assert_eq!(t.node(1).round(), 3);
    // The stock node alone is enough: the stock side cannot decide without
    // it, so if it is faulty nothing is lost by following it.
    let mut t = setup();
    let message = t.vote_message(0, 3, Prevote, None);
    t.deliver(1, 0, message);
    assert_eq!(t.node(1).round(), 3);
}

// ------------------------------------------------- 5. timeouts move rounds

#[test]
fn with_the_proposer_cut_off_the_others_prevote_nil_at_the_timeout_and_certify_in_the_next_round() {
    let mut t = Tally::new(3, 3);
    // Node 1 proposes in round 0; it hears nothing, so it has nothing to
    // propose and never takes part.
    t.cut[1] = true;
    let entry = t.chit(0);
    t.step(0, Input::Submit { entry: entry.clone() });
    let others = [0, 2, 3, 4, 5];
    t.run(900);
    for i in others {
        assert_eq!(t.prevote(i, 0), None, "node {i} waits for the proposal for 1 s");
    }
    // At the propose timeout every one prevotes nil (line 57); a quorum of
    // nil prevotes makes them precommit nil (line 44).
    t.run(100);
    for i in others {
        assert_eq!(t.prevote(i, 0), Some(None), "node {i}");
        assert_eq!(t.precommit(i, 0), Some(None), "node {i}");
        assert_eq!(t.node(i).round(), 0);
    }
    // The precommit timeout (0.5 s) starts round 1, whose proposer, node 2,
    // has the entry: certified in round 1 on every node but the cut one.
    t.run(500);
    let proposer = t.node(0).network().proposer(1, 1);
    assert_eq!(*proposer, t.key(2));
    for i in others {
        let certified = t.certified_blocks(i);
        assert_eq!(certified.len(), 1, "node {i}: {}", t.node(i).summary());
        assert_eq!(certified[0].1, 1, "node {i} certified in round 1");
        let (block, _) = t.node(i).certified(1).unwrap();
        assert_eq!(block.block().proposer, t.key(2));
        assert_eq!(block.block().entries, vec![entry.clone()]);
    }
    assert!(t.certified_blocks(1).is_empty());
    assert!(t.signed_by(1).is_empty(), "the cut proposer signed nothing");
}

// -------------------------------------------- 6. an equivocating proposer

#[test]
fn an_honest_node_prevotes_at_most_one_of_two_proposals_of_one_round() {
    let mut t = Tally::new(3, 3);
    // Node 1, the proposer of round 0, is byzantine: it signs two
    // proposals for round 0, and prevotes and precommits the second.
    t.script(&[1]);
    let (one, two) = (t.chit(0), t.chit(1));
    let first = t.block(1, vec![one]);
    let second = t.block(1, vec![two]);
    let p1 = t.proposal(1, 0, &first, None, vec![]);
    let p2 = t.proposal(1, 0, &second, None, vec![]);
    // Node 0 gets the first then the second; node 2 the other way round;
    // the foil nodes only the second.
    t.deliver(0, 1, p1.clone());
    t.deliver(0, 1, p2.clone());
    t.deliver(2, 1, p2.clone());
    t.deliver(2, 1, p1.clone());
    for i in [3, 4, 5] {
        t.deliver(i, 1, p2.clone());
    }
    assert_eq!(t.prevote(0, 0), Some(Some(first.hash())));
    assert_eq!(t.prevote(2, 0), Some(Some(second.hash())));
    // Both saw the second proposal and report the pair, first one first.
    for (i, order) in [(0, [&p1, &p2]), (2, [&p2, &p1])] {
        let proposal_of = |m: &Vec<u8>| match Message::decode(m, &Default::default()) {
            Ok(Message::Proposal { proposal, .. }) => proposal,
            other => panic!("not a proposal: {other:?}"),
        };
        assert_eq!(
            t.double_signed(i, 1),
            vec![(proposal_of(order[0]), proposal_of(order[1]))],
            "node {i}"
        );
    }
    // Node 1's prevote and precommit for the second block reach everyone;
    // the honest nodes exchange everything, and time passes.
    for i in [0, 2, 3, 4, 5] {
        let message = t.vote_message(1, 0, Prevote, Some(second.hash()));
        t.deliver(i, 1, message);
        let message = t.vote_message(1, 0, Precommit, Some(second.hash()));
        t.deliver(i, 1, message);
    }
    t.run(10_000);
    // No honest node signed two different votes for one step; node 0's only
    // prevote of round 0 is for the first block.
    for i in [0, 2, 3, 4, 5] {
        for (at, values) in t.signed_by(i) {
            assert_eq!(values.len(), 1, "node {i} signed {values:?} at {at:?}");
        }
    }
    assert_eq!(t.signed_by(0)[&(1, 0, Prevote)], BTreeSet::from([Some(first.hash())]));
    // The second block, which a quorum prevoted, is certified everywhere;
    // node 0 fetches it with its certificate.
    for i in [0, 2, 3, 4, 5] {
        assert_eq!(
            t.certified_blocks(i).first().map(|(hash, _)| *hash),
            Some(second.hash()),
            "node {i}: {}",
            t.node(i).summary()
        );
    }
}
