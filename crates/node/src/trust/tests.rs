//! The trust book on a running node (no peers): scores, the standing boost
//! of attestations, who may recommend, which evidence is kept, the history
//! kept small, and the order peers are taken in.

use std::time::Duration;

use tallymesh_core::record::Signed;
use tallymesh_core::tally_network::TallyId;
use tallymesh_core::trust::{Attestation, AttestationKind, Evidence, EvidenceKind, ScoreChange};
use tallymesh_core::vote::{Step, Vote};
use tallymesh_core::{Digest, PartyId, SecretKey, Timestamp};
use tallymesh_net::PeerId;

use super::book::now;
use super::records::{MAX_EVIDENCE_PER_SENDER, Taken};
use super::{Attest, Trust};
use crate::keystore::{KdfParams, KeystoreConfig};
use crate::ledger_api::TestGenesis;
use crate::{Node, NodeConfig};

const DAY_MS: u64 = 24 * 60 * 60 * 1000;

/// A node acting for "Alice", on loopback, with nobody connected.
async fn alice() -> (Node, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let config = NodeConfig::new(dir.path().to_owned())
        .with_listen(vec!["/ip4/127.0.0.1/tcp/0".parse().unwrap()])
        .with_lan_discovery(false)
        .with_keystore(KeystoreConfig::key_file("trust book tests".to_owned().into()))
        .with_file_kdf(KdfParams::INSECURE_FOR_TESTS);
    let node = Node::start(config).await.unwrap();
    node.identity().create("Alice").await.unwrap();
    (node, dir)
}

/// A throwaway party: a key nobody knows.
fn party(seed: u8) -> (SecretKey, PartyId) {
    let key = SecretKey::from_seed(&[seed; 32]);
    let id = PartyId::new(key.public());
    (key, id)
}

/// `attester` vouches for `subject` at `score`, valid for a day from now.
fn attestation(attester: &SecretKey, subject: PartyId, score: f64) -> Vec<u8> {
    let issued_at = now();
    let record = Attestation {
        attester: PartyId::new(attester.public()),
        subject,
        kind: AttestationKind::Trade,
        score_milli: Attestation::milli_of(score),
        issued_at,
        expires_at: issued_at.plus_millis(DAY_MS),
    };
    Signed::sign(record, attester).bytes().to_vec()
}

/// Evidence that the node with key `culprit` signed two prevotes at
/// `height` of `tally`, bound to no party.
fn double_vote(culprit: &SecretKey, tally: TallyId, height: u64) -> Vec<u8> {
    let vote = |block| Vote {
        tally,
        height,
        round: 0,
        step: Step::Prevote,
        block,
    };
    let first = Signed::sign(vote(Some(Digest([1; 32]))), culprit);
    let second = Signed::sign(vote(None), culprit);
    Evidence::new(
        EvidenceKind::DoubleSigned,
        first.bytes().to_vec(),
        second.bytes().to_vec(),
        None,
    )
    .bytes()
    .to_vec()
}

async fn score(trust: &Trust, subject: &str) -> f64 {
    trust.score_now(subject).await.unwrap()
}

async fn attest(node: &Node, subject: &PartyId, score: f64, valid_days: u32) {
    node.trust()
        .attest(Attest {
            party_id: subject.to_string(),
            kind: "trade".into(),
            score,
            valid_days,
        })
        .await
        .unwrap();
}

#[tokio::test]
async fn a_chain_of_throwaway_attestations_does_not_raise_a_target() {
    let (node, _dir) = alice().await;
    let trust = node.trust();
    let (first, first_id) = party(11);
    let (second, second_id) = party(12);
    let (_, target) = party(13);
    let via = Some(PeerId::random());

    // Alice herself vouches for the first throwaway party: that one counts.
    attest(&node, &first_id, 1.0, 30).await;
    let raised = score(&trust, &first_id.to_string()).await;
    assert!((raised - 0.6).abs() < 1e-9, "{raised}");

    // It vouches for the target and for a second throwaway party, which
    // vouches for the target too: none of it is earned trust.
    for bytes in [
        attestation(&first, target, 1.0),
        attestation(&first, second_id, 1.0),
        attestation(&second, target, 1.0),
    ] {
        assert_eq!(trust.take_attestation(&bytes, via).await.unwrap(), Taken::Ignored);
    }
    assert_eq!(score(&trust, &target.to_string()).await, 0.5);
    assert_eq!(score(&trust, &second_id.to_string()).await, 0.5);
    let store = node.running_store().await.unwrap();
    assert!(store.attestations(Some(&target.to_string())).await.unwrap().is_empty());
    // Being attested gave the first party no score row: no direct experience.
    assert!(store.trust_score(&first_id.to_string()).await.unwrap().is_none());
    node.shutdown().await;
}

#[tokio::test]
async fn a_party_whose_trust_was_earned_here_recommends_at_its_earned_score() {
    let (node, _dir) = alice().await;
    let trust = node.trust();
    let (earned, earned_id) = party(21);
    let (_, target) = party(22);
    // 150 valid messages: 0.65, earned here.
    trust
        .change(
            &earned_id.to_string(),
            ScoreChange::Valid { count: 150 },
            "150 valid messages",
            false,
        )
        .await
        .unwrap();
    let recommender = score(&trust, &earned_id.to_string()).await;
    assert!((recommender - 0.65).abs() < 1e-6, "{recommender}");

    let bytes = attestation(&earned, target, 0.8);
    assert_eq!(
        trust.take_attestation(&bytes, Some(PeerId::random())).await.unwrap(),
        Taken::New
    );
    let detail = trust.show(&target.to_string()).await.unwrap();
    let view = &detail.attestations[0];
    let weight = view.recommender.unwrap();
    assert!((weight - recommender).abs() < 1e-6, "{weight} vs {recommender}");
    assert!((view.boost - 0.8 * weight * 0.1).abs() < 1e-12, "{}", view.boost);
    assert!((detail.score.score - (0.5 + view.boost)).abs() < 1e-12);
    assert_eq!(detail.score.earned, 0.5);
    let event = detail.events.iter().find(|e| e.kind == "attested").unwrap();
    assert!((event.delta - view.boost).abs() < 1e-6, "{}", event.delta);
    node.shutdown().await;
}

#[tokio::test]
async fn an_attestations_boost_stands_until_it_expires_and_is_then_withdrawn() {
    let (node, _dir) = alice().await;
    let trust = node.trust();
    let (_, bob) = party(31);
    attest(&node, &bob, 0.9, 2).await;
    let store = node.running_store().await.unwrap();
    let subject = bob.to_string();
    let at = |days: u64| Timestamp::from_millis(now().as_millis() + days * DAY_MS);
    // Undecayed however long it lives: a day in, the same boost.
    for moment in [now(), at(1)] {
        let raised = trust.score_at(&store, &subject, moment).await.unwrap();
        assert!((raised - 0.59).abs() < 1e-9, "{raised}");
    }
    // Past its expiry, gone, with no event needed.
    assert_eq!(trust.score_at(&store, &subject, at(3)).await.unwrap(), 0.5);
    let detail = trust.show(&subject).await.unwrap();
    assert!(detail.attestations[0].by_me);
    assert_eq!(detail.attestations[0].recommender, Some(1.0));
    node.shutdown().await;
}

#[tokio::test]
async fn a_newer_attestation_replaces_the_older_and_repeating_it_adds_nothing() {
    let (node, _dir) = alice().await;
    let trust = node.trust();
    let (_, bob) = party(41);
    attest(&node, &bob, 1.0, 30).await;
    // A later attestation must be issued at a later millisecond.
    tokio::time::sleep(Duration::from_millis(5)).await;
    attest(&node, &bob, 0.4, 30).await;
    let lowered = score(&trust, &bob.to_string()).await;
    assert!((lowered - 0.54).abs() < 1e-9, "{lowered}");
    let detail = trust.show(&bob.to_string()).await.unwrap();
    assert_eq!(detail.attestations.len(), 1);
    let deltas: Vec<f64> = detail
        .events
        .iter()
        .filter(|e| e.kind == "attested")
        .map(|e| (e.delta * 1000.0).round() / 1000.0)
        .collect();
    assert_eq!(deltas, [-0.06, 0.1], "newest first");
    node.shutdown().await;
}

#[tokio::test]
async fn evidence_about_strangers_is_not_kept_and_leaves_no_score() {
    let (node, _dir) = alice().await;
    let trust = node.trust();
    let stranger = SecretKey::from_seed(&[51; 32]);
    let bytes = double_vote(&stranger, TallyId([5; 16]), 1);
    assert_eq!(
        trust.take_evidence(&bytes, Some(PeerId::random())).await.unwrap(),
        Taken::Ignored
    );
    let store = node.running_store().await.unwrap();
    assert!(store.evidence().await.unwrap().is_empty());
    assert!(store.trust_scores().await.unwrap().is_empty());
    node.shutdown().await;
}

#[tokio::test]
async fn evidence_about_a_node_of_a_served_tally_is_kept_up_to_a_cap_per_sender() {
    let (node, _dir) = alice().await;
    let trust = node.trust();
    let culprit = SecretKey::from_seed(&[61; 32]);
    let genesis = TestGenesis::new(
        &[node.ledger().node_key()],
        &[tallymesh_core::hash::hex(culprit.public().as_bytes())],
    )
    .unwrap();
    node.ledger().serve(&genesis, &[]).await.unwrap();
    let tally = genesis.to_genesis().unwrap().tally;
    let carrier = PeerId::random();

    for height in 1..=MAX_EVIDENCE_PER_SENDER {
        let bytes = double_vote(&culprit, tally, height);
        assert_eq!(trust.take_evidence(&bytes, Some(carrier)).await.unwrap(), Taken::New);
    }
    // The same offence again is known; one more from that sender is not kept.
    let again = double_vote(&culprit, tally, 1);
    assert_eq!(trust.take_evidence(&again, Some(carrier)).await.unwrap(), Taken::Known);
    let more = double_vote(&culprit, tally, MAX_EVIDENCE_PER_SENDER + 1);
    assert_eq!(trust.take_evidence(&more, Some(carrier)).await.unwrap(), Taken::Ignored);
    // Another sender's is kept.
    assert_eq!(
        trust.take_evidence(&more, Some(PeerId::random())).await.unwrap(),
        Taken::New
    );
    let culprit_peer = tallymesh_net::peer_id_of_ed25519(culprit.public().as_bytes()).unwrap();
    let detail = trust.show(&culprit_peer.to_string()).await.unwrap();
    assert!(detail.score.convicted);
    assert_eq!(detail.score.score, 0.0);
    node.shutdown().await;
}

#[tokio::test]
async fn evidence_found_here_is_kept_about_a_node_never_dealt_with_up_to_a_cap_per_culprit() {
    let (node, _dir) = alice().await;
    let trust = node.trust();
    // No relation: not a contact, no tally, no score. It showed this node
    // its offences itself (as an impostor's chat item does), so it counts.
    let culprit = SecretKey::from_seed(&[71; 32]);
    let tally = TallyId([7; 16]);
    for height in 1..=MAX_EVIDENCE_PER_SENDER {
        let bytes = double_vote(&culprit, tally, height);
        assert_eq!(trust.take_evidence(&bytes, None).await.unwrap(), Taken::New);
    }
    let culprit_peer = tallymesh_net::peer_id_of_ed25519(culprit.public().as_bytes()).unwrap();
    assert!(trust.show(&culprit_peer.to_string()).await.unwrap().score.convicted);
    let more = double_vote(&culprit, tally, MAX_EVIDENCE_PER_SENDER + 1);
    assert_eq!(trust.take_evidence(&more, None).await.unwrap(), Taken::Ignored);
    // Another culprit's is kept.
    let other = double_vote(&SecretKey::from_seed(&[72; 32]), tally, 1);
    assert_eq!(trust.take_evidence(&other, None).await.unwrap(), Taken::New);
    let store = node.running_store().await.unwrap();
    assert_eq!(
        store.evidence().await.unwrap().len() as u64,
        MAX_EVIDENCE_PER_SENDER + 1
    );
    node.shutdown().await;
}

#[tokio::test]
async fn valid_messages_of_an_hour_are_one_event_and_other_events_start_a_new_one() {
    let (node, _dir) = alice().await;
    let trust = node.trust();
    let subject = PeerId::random().to_string();
    for _ in 0..3 {
        trust
            .change(&subject, ScoreChange::Valid { count: 2 }, "2 valid messages", false)
            .await
            .unwrap();
    }
    trust
        .change(&subject, ScoreChange::Invalid { count: 1 }, "a malformed frame", false)
        .await
        .unwrap();
    trust
        .change(&subject, ScoreChange::Valid { count: 1 }, "a valid message", false)
        .await
        .unwrap();
    let events = trust.show(&subject).await.unwrap().events;
    let summary: Vec<(&str, u32, &str)> = events
        .iter()
        .map(|e| (e.kind.as_str(), e.count, e.reason.as_str()))
        .collect();
    // Unless the hour turned between the changes, which splits the first.
    if summary.len() == 3 {
        assert_eq!(
            summary,
            [
                ("valid", 1, "a valid message"),
                ("invalid", 1, "a malformed frame"),
                ("valid", 6, "6 valid messages"),
            ]
        );
        assert!((events[2].delta - 0.006).abs() < 1e-12);
    } else {
        assert_eq!(summary.len(), 4, "{summary:?}");
    }
    node.shutdown().await;
}

#[tokio::test]
async fn a_timeout_costs_its_peer_five_hundredths() {
    let (node, _dir) = alice().await;
    let peer = PeerId::random();
    node.inner
        .trust
        .timeout(peer, "a request on /tallymesh/tally/1 timed out");
    let trust = node.trust();
    let event = tokio::time::timeout(Duration::from_secs(60), async {
        loop {
            let events = trust.show(&peer.to_string()).await.unwrap().events;
            if let Some(event) = events.into_iter().find(|e| e.kind == "timeout") {
                return event;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await
    .unwrap();
    assert_eq!(event.delta, -0.05);
    assert!((event.score - 0.45).abs() < 1e-9, "{}", event.score);
    assert!(event.reason.starts_with("a request on /tallymesh/tally/1 timed out"));
    node.shutdown().await;
}

#[tokio::test]
async fn peers_are_ranked_by_their_score_then_by_how_little_they_failed() {
    let (node, _dir) = alice().await;
    let trust = node.trust();
    let (struck, slow, fine, better) = (PeerId::random(), PeerId::random(), PeerId::random(), PeerId::random());
    trust
        .change(
            &struck.to_string(),
            ScoreChange::Invalid { count: 2 },
            "bad frames",
            false,
        )
        .await
        .unwrap();
    trust
        .change(
            &better.to_string(),
            ScoreChange::Valid { count: 50 },
            "50 valid messages",
            false,
        )
        .await
        .unwrap();
    // A timeout: more failures than `fine`, and (once the trust task
    // applied it) a lower score; `slow` ranks after `fine` either way.
    node.inner.trust.timeout(slow, "a request timed out");
    let ranked = trust.rank_peers(vec![struck, slow, fine, better]).await;
    assert_eq!(ranked, [better, fine, slow, struck]);
    // This node's own peer id ranks first of all.
    let own = node.inner.net.local_peer_id();
    assert_eq!(trust.rank_peers(vec![better, own]).await, [own, better]);
    node.shutdown().await;
}

#[tokio::test]
async fn the_list_shows_attested_subjects_with_their_earned_and_attested_parts() {
    let (node, _dir) = alice().await;
    let (_, bob) = party(71);
    attest(&node, &bob, 0.5, 30).await;
    let list = node.trust().list().await.unwrap();
    let entry = list.iter().find(|s| s.subject == bob.to_string()).unwrap();
    assert_eq!(entry.earned, 0.5);
    assert!((entry.attested - 0.05).abs() < 1e-9, "{}", entry.attested);
    assert!((entry.score - 0.55).abs() < 1e-9);
    let own = node.trust().own_party().await.unwrap().to_string();
    assert!(list.iter().all(|s| s.subject != own), "this party is never scored");
    node.shutdown().await;
}
