//! Trust between real nodes on 127.0.0.1. The acceptance's three cases,
//! each with four nodes: an equivocating node's evidence reaches every node
//! that deals with it and drops its score everywhere; an attestation from a
//! trusted party raises a third party's score by the formula (and not where
//! the attester's trust was never earned); a flood of invalid messages gets
//! a peer evicted while honest peers stay. Then the effects: gossip from a
//! peer trusted too little is kept but not relayed; a full node closes the
//! least trusted incoming connection first; forged and stale attestations
//! cost the peer that gossips them a strike; a ledger message a peer lets
//! time out costs it 0.05.

use std::time::Duration;

use tallymesh_core::record::Signed;
use tallymesh_core::trust::{Attestation, AttestationKind, TrustConfig};
use tallymesh_core::vote::{Step, Vote};
use tallymesh_core::{Digest, PartyId, ProtocolVersion, SecretKey, Timestamp};
use tallymesh_net::{
    ConnectionLimits, KademliaMode, Multiaddr, NetConfig, NetEvent, PeerId, ProtocolName, RequestProtocol,
};
use tallymesh_node::NodeEvent;
use tallymesh_node::keystore::{KEY_FILE_NAME, KdfParams, Keystore, Passphrase, Purpose};
use tallymesh_node::ledger_api::TestGenesis;
use tallymesh_node::trust::{Attest, TRUST_TOPIC};
use tallymesh_protocol::Envelope;
use tallymesh_protocol::ledger::Message;
use tallymesh_scenarios::{TEST_PASSPHRASE, TestNode, befriend, node_of, party_of, temp_data_dir, test_config};

use crate::tally_support::{PATIENCE, until};

/// A node acting for `name` that scores trust with `trust`.
async fn node_with(name: &str, trust: TrustConfig, limits: Option<ConnectionLimits>) -> TestNode {
    let dir = temp_data_dir().unwrap();
    let mut config = test_config(dir.path()).with_trust_config(trust);
    if let Some(limits) = limits {
        config = config.with_connection_limits(limits);
    }
    let node = TestNode::start_in(dir, config).await.unwrap();
    node.node.identity().create(name).await.unwrap();
    node
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

async fn connected(from: &TestNode, to: PeerId) -> bool {
    from.node.net().connected_peers().await.unwrap().contains(&to)
}

/// Dials `to` from `from` and waits until both see the connection.
async fn connect(from: &TestNode, to: &TestNode) {
    from.node.net().dial(address_of(to).await).await.unwrap();
    let (a, b) = (peer_of(from), peer_of(to));
    until("a connection", || async {
        (connected(from, b).await && connected(to, a).await).then_some(())
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

/// `count` malformed ledger messages from `from` to `to`: a strike each.
async fn strike(from: &TestNode, to: &TestNode, count: u8) {
    let ledger = ProtocolName::new("ledger").unwrap();
    for n in 0..count {
        let _ = from.node.net().request(peer_of(to), &ledger, vec![0xff, n]).await;
    }
}

async fn attest(node: &TestNode, subject: &str, score: f64) {
    node.node
        .trust()
        .attest(Attest {
            party_id: subject.to_owned(),
            kind: "trade".into(),
            score,
            valid_days: 30,
        })
        .await
        .unwrap();
}

/// Whether `node` keeps an attestation by `attester` about `subject`.
async fn keeps_attestation(node: &TestNode, attester: &str, subject: &str) -> bool {
    node.node
        .trust()
        .show(subject)
        .await
        .unwrap()
        .attestations
        .iter()
        .any(|a| a.attester == attester)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_equivocating_nodes_evidence_reaches_every_node_and_drops_its_score_everywhere() {
    let alice = node_of("Alice").await;
    let bob = node_of("Bob").await;
    let carol = node_of("Carol").await;
    let mallory = node_of("Mallory").await;
    // Alice and Mallory share a tally; Bob and Carol know Mallory too (a
    // node keeps and passes on evidence only about those it deals with).
    // Bob is Alice's contact; Carol hears through Bob.
    let (_, mallory_party) = befriend(&alice, &mallory).await;
    befriend(&bob, &mallory).await;
    befriend(&carol, &mallory).await;
    befriend(&alice, &bob).await;
    connect(&bob, &alice).await;
    connect(&carol, &bob).await;
    connect(&mallory, &alice).await;
    for node in [&alice, &bob, &carol] {
        let before = score(node, &mallory_party).await;
        assert!((before - 0.5).abs() < 0.05, "{before}");
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
    let dave = node_of("Dave").await;
    // Alice trusts Bob (a contact); Dave knows Carol but not Bob.
    let (_, bob_party) = befriend(&alice, &bob).await;
    let (_, carol_party) = befriend(&bob, &carol).await;
    befriend(&dave, &carol).await;
    connect(&bob, &alice).await;
    connect(&dave, &alice).await;
    assert_eq!(score(&alice, &carol_party).await, 0.5);

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

    until("the attestation at Alice", || async {
        keeps_attestation(&alice, &bob_party, &carol_party).await.then_some(())
    })
    .await;
    // Bob's score at Alice, read around Carol's: it only rises meanwhile
    // (Bob's valid messages), a little less the decay of seconds.
    let bob_before = score(&alice, &bob_party).await;
    let detail = alice.node.trust().show(&carol_party).await.unwrap();
    let bob_after = score(&alice, &bob_party).await;
    let view = detail.attestations.iter().find(|a| a.attester == bob_party).unwrap();
    let recommender = view.recommender.expect("a contact's attestation counts");
    assert!(
        recommender >= bob_before - 1e-6 && recommender <= bob_after + 1e-6,
        "the recommender weighed {recommender}, but Bob was at {bob_before}..{bob_after}"
    );
    // recommended × recommender × 0.1, standing on Carol's earned score.
    assert!((view.boost - 0.9 * recommender * 0.1).abs() < 1e-12, "{}", view.boost);
    assert_eq!(detail.score.earned, 0.5);
    assert!(
        (detail.score.score - (0.5 + view.boost)).abs() < 1e-12,
        "{} vs 0.5 + {}",
        detail.score.score,
        view.boost
    );
    let event = detail.events.iter().find(|e| e.kind == "attested").unwrap();
    assert!(event.reason.contains("Bob"), "{}", event.reason);
    // It arrived twice (gossip, and Bob's share as a contact): it counted once.
    assert_eq!(detail.events.iter().filter(|e| e.kind == "attested").count(), 1);
    assert_eq!(detail.attestations.len(), 1);
    assert_eq!(view.score, 0.9);

    // Dave keeps it (it is about his contact) but Bob's trust was never
    // earned there: Carol's score at Dave does not move.
    let at_dave = until("the attestation at Dave", || async {
        let detail = dave.node.trust().show(&carol_party).await.unwrap();
        (!detail.attestations.is_empty()).then_some(detail)
    })
    .await;
    assert_eq!(at_dave.attestations[0].recommender, None);
    assert_eq!(at_dave.attestations[0].boost, 0.0);
    assert!((at_dave.score.score - at_dave.score.earned).abs() < 1e-12);

    for node in [alice, bob, carol, dave] {
        node.node.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_flood_of_invalid_messages_gets_a_peer_evicted() {
    let alice = node_of("Alice").await;
    let bob = node_of("Bob").await;
    let carol = TestNode::start().await.unwrap();
    let flooder = TestNode::start().await.unwrap();
    // Bob is Alice's contact; Carol is a stranger who behaves.
    let (_, bob_party) = befriend(&alice, &bob).await;
    connect(&carol, &alice).await;
    connect(&flooder, &alice).await;
    let flooder_peer = peer_of(&flooder);

    // Ten malformed ledger messages: each a strike, each −0.1.
    strike(&flooder, &alice, 10).await;
    until("the flooder disconnected", || async {
        (!connected(&alice, flooder_peer).await).then_some(())
    })
    .await;
    let detail = alice.node.trust().show(&flooder_peer.to_string()).await.unwrap();
    assert!(detail.score.score < 0.1, "{}", detail.score.score);
    assert!(detail.events.iter().filter(|e| e.kind == "invalid").count() >= 5);

    // The honest peers stay, and nothing was held against them.
    assert!(connected(&alice, peer_of(&bob)).await);
    assert!(connected(&alice, peer_of(&carol)).await);
    assert!(score(&alice, &bob_party).await >= 0.5);
    assert!(score(&alice, &peer_of(&carol).to_string()).await >= 0.5);

    // Coming back does not help: the new connection is closed at once.
    let mut events = alice.node.events();
    flooder.node.net().dial(address_of(&alice).await).await.unwrap();
    let flooder_text = flooder_peer.to_string();
    let mut reconnected = false;
    tokio::time::timeout(PATIENCE, async {
        loop {
            match events.recv().await {
                Ok(NodeEvent::PeerConnected { peer_id }) if peer_id == flooder_text => reconnected = true,
                Ok(NodeEvent::PeerDisconnected { peer_id }) if peer_id == flooder_text && reconnected => return,
                Ok(_) => {}
                Err(error) => panic!("{error}"),
            }
        }
    })
    .await
    .expect("the flooder's new connection was never closed");

    for node in [alice, bob, carol, flooder] {
        node.node.shutdown().await;
    }
}

/// Trust that gates relaying above three strikes: a peer struck three times
/// (0.2) stays connected but its gossip is not passed on.
fn strict_relay() -> TrustConfig {
    TrustConfig {
        relay_threshold: 0.35,
        ..TrustConfig::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn gossip_from_a_peer_trusted_too_little_is_kept_but_not_relayed() {
    let alice = node_with("Alice", strict_relay(), None).await;
    let lowly = node_of("Lowly").await;
    let bob = node_of("Bob").await;
    let carol = node_of("Carol").await;
    // Carol and Bob are Alice's contacts, not each other's; Lowly knows
    // nobody. Everything Carol hears comes through Alice.
    let (_, carol_party) = befriend(&alice, &carol).await;
    befriend(&alice, &bob).await;
    connect(&lowly, &alice).await;
    let lowly_party = party_of(&lowly).await;
    let bob_party = party_of(&bob).await;

    strike(&lowly, &alice, 3).await;
    let lowly_subject = peer_of(&lowly).to_string();
    until("Lowly below the relay threshold", || async {
        (score(&alice, &lowly_subject).await < 0.35).then_some(())
    })
    .await;
    assert!(connected(&alice, peer_of(&lowly)).await);

    // Lowly vouches for Carol: Alice keeps it (it is about her contact)…
    attest(&lowly, &carol_party, 1.0).await;
    until("Lowly's attestation at Alice", || async {
        keeps_attestation(&alice, &lowly_party, &carol_party)
            .await
            .then_some(())
    })
    .await;
    // …then Bob does, and his reaches Carol through Alice: Lowly's never did.
    attest(&bob, &carol_party, 0.8).await;
    until("Bob's attestation at Carol", || async {
        keeps_attestation(&carol, &bob_party, &carol_party).await.then_some(())
    })
    .await;
    assert!(!keeps_attestation(&carol, &lowly_party, &carol_party).await);

    for node in [alice, lowly, bob, carol] {
        node.node.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_full_node_closes_the_least_trusted_incoming_connection_first() {
    let two_slots = ConnectionLimits {
        incoming_slots: 2,
        ..ConnectionLimits::default()
    };
    let alice = node_with("Alice", strict_relay(), Some(two_slots)).await;
    let bob = node_of("Bob").await;
    let lowly = TestNode::start().await.unwrap();
    let newcomer = TestNode::start().await.unwrap();
    connect(&bob, &alice).await;
    connect(&lowly, &alice).await;
    let lowly_peer = peer_of(&lowly);

    // Three strikes: 0.2, its priority 51 of 255, and below Alice's relay
    // level its gossip score turns negative once the priority is set.
    strike(&lowly, &alice, 3).await;
    until("Lowly's priority lowered", || async {
        let gossip = alice.node.net().gossip_score(lowly_peer).await.unwrap();
        gossip.filter(|score| *score < 0.0)
    })
    .await;
    assert!(connected(&alice, lowly_peer).await);

    // A third incoming connection: the least trusted one goes, not the
    // newcomer's (without trust all three would be equal, and the newest
    // would go).
    newcomer.node.net().dial(address_of(&alice).await).await.unwrap();
    until("Lowly's connection closed", || async {
        (!connected(&alice, lowly_peer).await).then_some(())
    })
    .await;
    assert!(connected(&alice, peer_of(&newcomer)).await);
    assert!(connected(&alice, peer_of(&bob)).await);

    for node in [alice, bob, lowly, newcomer] {
        node.node.shutdown().await;
    }
}

/// A signed attestation envelope as the trust topic carries it.
fn gossiped(attestation: Attestation, signer: &SecretKey) -> Vec<u8> {
    let signed = Signed::sign(attestation, signer);
    Envelope::new(ProtocolVersion(1), "trust/attestation", signed.bytes().to_vec()).encode()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn forged_and_long_expired_attestations_on_the_trust_topic_each_cost_the_gossiper_a_strike() {
    let keep_connected = TrustConfig {
        disconnect_below: 0.0,
        ..TrustConfig::default()
    };
    let alice = node_with("Alice", keep_connected, None).await;
    let gossiper = TestNode::start().await.unwrap();
    connect(&gossiper, &alice).await;
    let gossiper_peer = peer_of(&gossiper).to_string();
    gossiper.node.net().subscribe(TRUST_TOPIC).await.unwrap();

    let mallory = SecretKey::from_seed(&[81; 32]);
    let victim = PartyId::new(SecretKey::from_seed(&[82; 32]).public());
    let subject = PartyId::new(SecretKey::from_seed(&[83; 32]).public());
    let now = Timestamp::from_millis(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis()
            .try_into()
            .unwrap(),
    );
    let day = 24 * 60 * 60 * 1000;
    // Signed by Mallory, naming someone else as the attester.
    let forged = gossiped(
        Attestation {
            attester: victim,
            subject,
            kind: AttestationKind::Trade,
            score_milli: 1000,
            issued_at: now,
            expires_at: now.plus_millis(day),
        },
        &mallory,
    );
    // Expired two days ago.
    let stale = gossiped(
        Attestation {
            attester: PartyId::new(mallory.public()),
            subject,
            kind: AttestationKind::Trade,
            score_milli: 1000,
            issued_at: Timestamp::from_millis(now.as_millis() - 10 * day),
            expires_at: Timestamp::from_millis(now.as_millis() - 2 * day),
        },
        &mallory,
    );
    for (message, why) in [(forged, "not signed by the party it names"), (stale, "expired")] {
        until("the gossip published", || async {
            gossiper.node.net().publish(TRUST_TOPIC, message.clone()).await.ok()
        })
        .await;
        let event = until("a strike for it", || async {
            let events = alice.node.trust().show(&gossiper_peer).await.unwrap().events;
            events
                .into_iter()
                .find(|e| e.kind == "invalid" && e.reason.contains(why))
        })
        .await;
        assert_eq!(event.delta, -0.1);
        assert!(event.reason.starts_with("bad trust gossip"), "{}", event.reason);
    }
    assert!(alice.node.trust().attestations().await.unwrap().is_empty());

    for node in [alice, gossiper] {
        node.node.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_ledger_message_a_peer_lets_time_out_costs_it_five_hundredths() {
    let dir = temp_data_dir().unwrap();
    let config = test_config(dir.path()).with_request_timeout(Duration::from_secs(2));
    let alice = TestNode::start_in(dir, config).await.unwrap();
    alice.node.identity().create("Alice").await.unwrap();
    let alice_peer = peer_of(&alice);

    // A node of the tally's network that takes ledger requests and never
    // answers (it waits far longer than Alice does).
    let config = NetConfig {
        mdns: false,
        kademlia_mode: KademliaMode::Client,
        request_timeout: Duration::from_secs(3_600),
        request_protocols: vec![RequestProtocol::new(ProtocolName::new("ledger").unwrap())],
        ..NetConfig::default()
    };
    let (silent, mut events, event_loop) =
        tallymesh_net::new(tallymesh_net::keypair_from_seed(&[91; 32]).unwrap(), config).unwrap();
    tokio::spawn(event_loop.run());
    let silent_peer = silent.local_peer_id();
    silent.dial(address_of(&alice).await).await.unwrap();
    let held = tokio::spawn(async move {
        let mut unanswered = Vec::new();
        while let Some(event) = events.recv().await {
            if let NetEvent::Request { responder, .. } = event {
                unanswered.push(responder);
            }
        }
        unanswered.len()
    });
    until("the silent node connected", || async {
        connected(&alice, silent_peer).await.then_some(())
    })
    .await;

    let genesis = TestGenesis::new(&[alice.node.ledger().node_key()], &[silent_peer.to_string()]).unwrap();
    alice.node.ledger().serve(&genesis, &[]).await.unwrap();
    let event = until("a timeout counted", || async {
        let events = alice.node.trust().show(&silent_peer.to_string()).await.unwrap().events;
        events.into_iter().find(|e| e.kind == "timeout")
    })
    .await;
    assert_eq!(event.delta, -0.05);
    assert!(
        event.reason.starts_with("a ledger message timed out"),
        "{}",
        event.reason
    );
    assert!(
        connected(&alice, silent_peer).await,
        "{alice_peer} keeps the slow peer for now"
    );

    silent.shutdown().await;
    held.abort();
    alice.node.shutdown().await;
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
