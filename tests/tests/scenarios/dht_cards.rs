//! Cards in the DHT with real nodes on 127.0.0.1: a node keeps under a
//! party's card key only that party's valid card, the newest it was given,
//! and counts garbage against whoever put it.

use std::time::Duration;

use tallymesh_core::card::ContactCard;
use tallymesh_net::{KademliaMode, Multiaddr, NetConfig, NetEvent, PeerId};
use tallymesh_node::contacts::InviteSpec;
use tallymesh_node::presence::card_key;
use tallymesh_scenarios::{TestNode, node_of, strikes_of};

/// A hang guard for a loaded machine, not a measurement.
const PATIENCE: Duration = Duration::from_secs(90);

async fn until_strikes(node: &TestNode, peer: PeerId, count: u32) {
    tokio::time::timeout(PATIENCE, async {
        while strikes_of(node, peer).await < count {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await
    .unwrap_or_else(|_| panic!("the node never counted {count} strike(s)"));
}

#[tokio::test]
async fn a_dht_node_keeps_only_the_newest_valid_card_of_a_party_and_counts_garbage_against_its_sender() {
    // Carol serves the DHT; alice publishes her card there.
    let carol = node_of("Carol").await;
    let alice = node_of("Alice").await;
    let bob = node_of("Bob").await;
    let invite = InviteSpec {
        reusable: true,
        expires_in: Duration::from_secs(3_600),
    };
    let link = carol.node.contacts().my_card_link(Some(invite)).await.unwrap();
    alice.node.contacts().redeem_link(&link).await.unwrap();
    let alice_party = alice
        .node
        .identity()
        .state()
        .await
        .unwrap()
        .party_id()
        .unwrap()
        .to_string();
    let key = card_key(&alice_party);
    let published = tokio::time::timeout(PATIENCE, async {
        loop {
            if let Ok(values) = carol.node.net().get_record(key.clone()).await
                && let Some(card) = values.iter().find_map(|v| ContactCard::from_signed_bytes(v).ok())
            {
                return card;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    })
    .await
    .expect("alice's card never reached the DHT");

    // Mallory's node asks carol to store things under alice's key.
    let seed = [66; 32];
    let (mallory, mut events, event_loop) = tallymesh_net::new(
        tallymesh_net::keypair_from_seed(&seed).unwrap(),
        NetConfig {
            mdns: false,
            kademlia_mode: KademliaMode::Client,
            ..NetConfig::default()
        },
    )
    .unwrap();
    tokio::spawn(event_loop.run());
    let mallory_peer = mallory.local_peer_id();
    let carol_peer = carol.node.net().local_peer_id();
    let carol_address: Multiaddr = carol.node.status().await.unwrap().listen_addrs[0].parse().unwrap();
    mallory.add_address(carol_peer, carol_address.clone()).await.unwrap();
    mallory
        .dial(carol_address.with(tallymesh_net::multiaddr::Protocol::P2p(carol_peer)))
        .await
        .unwrap();
    tokio::time::timeout(PATIENCE, async {
        while !matches!(events.recv().await, Some(NetEvent::PeerConnected(p)) if p == carol_peer) {}
    })
    .await
    .unwrap();
    let put = |value: Vec<u8>| {
        let mallory = mallory.clone();
        let key = key.clone();
        async move {
            tokio::time::timeout(PATIENCE, async {
                // Until the routing table knows carol, a put reaches nobody.
                while mallory.put_record(key.clone(), value.clone()).await.is_err() {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            })
            .await
            .expect("carol never took a put");
        }
    };

    // Garbage, and another party's card under alice's key: refused, struck.
    put(b"not a card".to_vec()).await;
    until_strikes(&carol, mallory_peer, 1).await;
    let bobs = bob.node.contacts().my_card(None).await.unwrap();
    put(bobs.bytes().to_vec()).await;
    until_strikes(&carol, mallory_peer, 2).await;

    // Alice's newer card, whoever carries it, replaces the one kept; her
    // older card then changes nothing, and neither costs mallory a strike.
    tokio::time::sleep(Duration::from_millis(5)).await;
    let newer = alice.node.contacts().my_card(None).await.unwrap();
    assert!(newer.record().issued_at > published.record().issued_at);
    put(newer.bytes().to_vec()).await;
    put(published.bytes().to_vec()).await;
    assert_eq!(strikes_of(&carol, mallory_peer).await, 2);

    // With alice and mallory gone, what carol holds is what a lookup finds.
    mallory.shutdown().await;
    alice.node.shutdown().await;
    // (Alice may have published a card newer still meanwhile.)
    let found = carol.node.net().get_record(key).await.unwrap();
    assert!(!found.is_empty());
    for value in &found {
        let card = ContactCard::from_signed_bytes(value).expect("only cards are kept");
        assert_eq!(card.record().party.to_string(), alice_party);
        assert!(
            card.record().issued_at >= newer.record().issued_at,
            "an older card was kept"
        );
    }
}
