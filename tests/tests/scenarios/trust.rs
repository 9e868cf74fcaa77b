//! Trust between real nodes on 127.0.0.1: an equivocating node's evidence
//! reaches every node and drops its party's score everywhere; an
//! attestation from a trusted party raises a third party's score by the
//! formula; a flood of invalid messages gets a peer evicted.

use std::time::Duration;

use tallymesh_core::record::Signed;
use tallymesh_core::vote::{Step, Vote};
use tallymesh_core::{Digest, SecretKey};
use tallymesh_net::{Multiaddr, PeerId, ProtocolName};
use tallymesh_node::NodeEvent;
use tallymesh_node::contacts::InviteSpec;
use tallymesh_node::keystore::{KEY_FILE_NAME, KdfParams, Keystore, Passphrase, Purpose};
use tallymesh_node::ledger_api::TestGenesis;
use tallymesh_node::trust::Attest;
use tallymesh_protocol::ledger::Message;
use tallymesh_scenarios::{TEST_PASSPHRASE, TestNode};

use crate::tally_support::{PATIENCE, until};

async fn node_of(name: &str) -> TestNode {
    let node = TestNode::start().await.unwrap();
    node.node.identity().create(name).await.unwrap();
    node
}

/// Makes `a` and `b` contacts of each other; returns their party ids.
async fn befriend(a: &TestNode, b: &TestNode) -> (String, String) {
    let link = a
        .node
        .contacts()
        .my_card_link(Some(InviteSpec {
            reusable: false,
            expires_in: Duration::from_secs(3_600),
        }))
        .await
        .unwrap();
    let a_party = b.node.contacts().redeem_link(&link).await.unwrap().party_id;
    let b_party = b.node.identity().state().await.unwrap().party_id().unwrap().to_string();
    (a_party, b_party)
}

async fn party_of(node: &TestNode) -> String {
    let state = node.node.identity().state().await.unwrap();
    state.party_id().unwrap().to_string()
}

async fn address_of(node: &TestNode) -> Multiaddr {
    let status = node.node.status().await.unwrap();
    let peer = status.peer_id.clone();
    let address = status
        .listen_addrs
        .iter()
        .find(|a| a.contains("/tcp/"))
        .unwrap()
        .clone();
    format!("{address}/p2p/{peer}").parse().unwrap()
}

fn peer_of(node: &TestNode) -> PeerId {
    node.node.net().local_peer_id()
}

/// Dials `to` from `from` and waits until both see the connection.
async fn connect(from: &TestNode, to: &TestNode) {
    from.node.net().dial(address_of(to).await).await.unwrap();
    let (a, b) = (peer_of(from), peer_of(to));
    until("a connection", || async {
        let seen_here = from.node.net().connected_peers().await.unwrap().contains(&b);
        let seen_there = to.node.net().connected_peers().await.unwrap().contains(&a);
        (seen_here && seen_there).then_some(())
    })
    .await;
}

/// The device key of a test node, read from its key file.
pub(crate) fn device_key(node: &TestNode) -> SecretKey {
    let keystore = Keystore::open_key_file(
        &node.path().join(KEY_FILE_NAME),
        &Passphrase::new(TEST_PASSPHRASE),
        KdfParams::INSECURE_FOR_TESTS,
    )
    .unwrap();
    let seed = keystore.get(Purpose::DeviceKey).unwrap().unwrap();
    SecretKey::from_seed(seed.expose())
}

async fn score(node: &TestNode, subject: &str) -> f64 {
    node.node.trust().show(subject).await.unwrap().score.score
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_equivocating_nodes_evidence_reaches_every_node_and_drops_its_score_everywhere() {
    let alice = node_of("Alice").await;
    let bob = node_of("Bob").await;
    let carol = node_of("Carol").await;
    let mallory = node_of("Mallory").await;
    // Alice and Mallory share a tally (and know each other); Bob is
    // Alice's contact; Carol knows nobody and hears only through Bob.
    let (_, mallory_party) = befriend(&alice, &mallory).await;
    befriend(&alice, &bob).await;
    connect(&bob, &alice).await;
    connect(&carol, &bob).await;
    connect(&mallory, &alice).await;
    for node in [&alice, &bob, &carol] {
        assert_eq!(score(node, &mallory_party).await, 0.5);
    }

    // A test-network tally whose network is Alice's node and Mallory's.
    let genesis = TestGenesis::new(&[alice.node.ledger().node_key()], &[mallory.node.ledger().node_key()]).unwrap();
    alice.node.ledger().serve(&genesis, &[]).await.unwrap();

    // Mallory's node signs two different prevotes for one step.
    let mallory_key = device_key(&mallory);
    let tally = genesis.to_genesis().unwrap().tally;
    let vote = Vote {
        tally,
        height: 1,
        round: 0,
        step: Step::Prevote,
        block: Some(Digest([7; 32])),
    };
    let ledger = ProtocolName::new("ledger").unwrap();
    for block in [Some(Digest([7; 32])), None] {
        let signed = Signed::sign(Vote { block, ..vote.clone() }, &mallory_key);
        let message = Message::Vote {
            tally,
            vote: signed.bytes().to_vec(),
        }
        .encode();
        mallory
            .node
            .net()
            .request(peer_of(&alice), &ledger, message)
            .await
            .unwrap();
    }

    // Alice's ledger saw it; every node checks the evidence alone, keeps
    // it, and drops Mallory's party to nothing.
    for node in [&alice, &bob, &carol] {
        let kept = until("the evidence everywhere", || async {
            let evidence = node.node.trust().evidence().await.unwrap();
            evidence
                .into_iter()
                .find(|e| e.party_id.as_deref() == Some(mallory_party.as_str()))
        })
        .await;
        assert_eq!(kept.kind, "double-signed");
        assert!(kept.summary.contains("two different prevotes"), "{}", kept.summary);
        // The score drops right after the evidence is kept.
        let detail = until("the score dropped", || async {
            let detail = node.node.trust().show(&mallory_party).await.unwrap();
            detail.score.convicted.then_some(detail)
        })
        .await;
        assert!(detail.score.score < 0.05, "{}", detail.score.score);
        assert!(detail.events.iter().any(|e| e.kind == "evidence" && e.delta == -0.5));
    }
    // Found by Alice; passed on to Carol by someone else.
    assert_eq!(alice.node.trust().evidence().await.unwrap()[0].reported_by, None);
    assert!(carol.node.trust().evidence().await.unwrap()[0].reported_by.is_some());

    for node in [alice, bob, carol, mallory] {
        node.node.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_attestation_from_a_trusted_party_raises_a_third_partys_score_by_the_formula() {
    let alice = node_of("Alice").await;
    let bob = node_of("Bob").await;
    let carol = node_of("Carol").await;
    let (_, bob_party) = befriend(&alice, &bob).await;
    let (_, carol_party) = befriend(&bob, &carol).await;
    connect(&bob, &alice).await;
    let before = score(&alice, &carol_party).await;
    assert_eq!(before, 0.5);
    let bob_before = score(&alice, &bob_party).await;

    bob.node
        .trust()
        .attest(Attest {
            party_id: carol_party.clone(),
            kind: "trade".into(),
            score: 0.9,
            valid_days: 30,
        })
        .await
        .unwrap();

    let event = until("the attestation at Alice", || async {
        let detail = alice.node.trust().show(&carol_party).await.unwrap();
        detail.events.into_iter().find(|e| e.kind == "attested")
    })
    .await;
    let bob_after = score(&alice, &bob_party).await;
    // recommended × recommender × 0.1, with Bob's score at Alice when it
    // arrived (it only rises meanwhile, with Bob's valid messages).
    let recommender = event.delta / (0.9 * 0.1);
    assert!(
        recommender >= bob_before - 1e-6 && recommender <= bob_after + 1e-6,
        "boost {} means a recommender at {recommender}, but Bob was at {bob_before}..{bob_after}",
        event.delta
    );
    assert!(event.reason.contains("Bob"), "{}", event.reason);
    let after = score(&alice, &carol_party).await;
    assert!(
        (after - (before + event.delta)).abs() < 1e-4,
        "{after} vs {before} + {}",
        event.delta
    );

    let detail = alice.node.trust().show(&carol_party).await.unwrap();
    // It arrived twice (gossip, and Bob's share as a contact): it counted once.
    assert_eq!(detail.events.iter().filter(|e| e.kind == "attested").count(), 1);
    assert_eq!(detail.attestations.len(), 1);
    assert_eq!(detail.attestations[0].attester, bob_party);
    assert_eq!(detail.attestations[0].score, 0.9);

    for node in [alice, bob, carol] {
        node.node.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_flood_of_invalid_messages_gets_a_peer_evicted() {
    let alice = node_of("Alice").await;
    let flooder = TestNode::start().await.unwrap();
    connect(&flooder, &alice).await;
    let flooder_peer = peer_of(&flooder);
    let ledger = ProtocolName::new("ledger").unwrap();

    // Ten malformed ledger messages: each a strike, each −0.1.
    for n in 0..10u8 {
        let _ = flooder
            .node
            .net()
            .request(peer_of(&alice), &ledger, vec![0xff, n])
            .await;
    }
    until("the flooder disconnected", || async {
        let connected = alice.node.net().connected_peers().await.unwrap();
        (!connected.contains(&flooder_peer)).then_some(())
    })
    .await;
    let detail = alice.node.trust().show(&flooder_peer.to_string()).await.unwrap();
    assert!(detail.score.score < 0.1, "{}", detail.score.score);
    assert!(detail.events.iter().filter(|e| e.kind == "invalid").count() >= 5);

    // Coming back does not help: the new connection is closed at once.
    let mut events = alice.node.events();
    flooder.node.net().dial(address_of(&alice).await).await.unwrap();
    let flooder_text = flooder_peer.to_string();
    let mut connected = false;
    tokio::time::timeout(PATIENCE, async {
        loop {
            match events.recv().await {
                Ok(NodeEvent::PeerConnected { peer_id }) if peer_id == flooder_text => connected = true,
                Ok(NodeEvent::PeerDisconnected { peer_id }) if peer_id == flooder_text && connected => return,
                Ok(_) => {}
                Err(error) => panic!("{error}"),
            }
        }
    })
    .await
    .expect("the flooder's new connection was never closed");

    for node in [alice, flooder] {
        node.node.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_attestation_made_before_two_parties_met_reaches_the_new_contact() {
    let alice = node_of("Alice").await;
    let bob = node_of("Bob").await;
    let carol = node_of("Carol").await;
    let carol_party = party_of(&carol).await;
    // Bob attests Carol while he knows nobody and nobody is connected.
    bob.node
        .trust()
        .attest(Attest {
            party_id: carol_party.clone(),
            kind: "identity".into(),
            score: 0.7,
            valid_days: 7,
        })
        .await
        .unwrap();
    assert!(
        alice
            .node
            .trust()
            .show(&carol_party)
            .await
            .unwrap()
            .attestations
            .is_empty()
    );

    befriend(&alice, &bob).await;
    let detail = until("the attestation at Alice", || async {
        let detail = alice.node.trust().show(&carol_party).await.unwrap();
        (!detail.attestations.is_empty()).then_some(detail)
    })
    .await;
    assert_eq!(detail.attestations[0].kind, "identity");
    assert_eq!(detail.attestations[0].attester_name.as_deref(), Some("Bob"));
    assert!(!detail.attestations[0].by_me);

    for node in [alice, bob, carol] {
        node.node.shutdown().await;
    }
}
