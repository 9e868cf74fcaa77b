//! Gossipsub across a line of three nodes.

use std::time::Duration;

use tallymesh_net::{GossipError, KademliaMode, NetConfig, NetEvent};

use crate::support::{Transport, config, eventually, node, within};

const TOPIC: &str = "tallymesh/test/1";

/// A DHT client never enters others' routing tables, so no DHT query can
/// connect the two ends of the line directly.
fn line_config() -> NetConfig {
    NetConfig {
        kademlia_mode: KademliaMode::Client,
        ..config(1024, 1024)
    }
}

#[tokio::test]
async fn a_gossip_message_from_a_reaches_c_through_b() {
    let mut a = node(40, line_config(), Transport::Tcp).await;
    let mut b = node(41, line_config(), Transport::Tcp).await;
    let mut c = node(42, line_config(), Transport::Tcp).await;
    a.connect(&mut b).await;
    c.connect(&mut b).await;
    for node in [&a, &b, &c] {
        node.client.subscribe(TOPIC).await.unwrap();
    }
    let (a_id, b_id) = (a.peer_id(), b.peer_id());

    // B checks what it forwards: it accepts everything here.
    let mut b_events = b.events;
    let b_validates = tokio::spawn(async move {
        while let Some(event) = b_events.recv().await {
            if let NetEvent::Gossip { validation, .. } = event {
                validation.accept();
            }
        }
    });
    // Subscriptions and meshes settle in the background; A publishes a new
    // message now and then until C has one.
    let a_client = a.client.clone();
    let publisher = tokio::spawn(async move {
        for n in 0u32.. {
            match a_client.publish(TOPIC, format!("hello {n}").into_bytes()).await {
                Ok(()) | Err(GossipError::NoPeers) => {}
                Err(e) => panic!("publish failed: {e}"),
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    });

    let (topic, author, propagated_by, bytes) = c
        .next(|e| match e {
            NetEvent::Gossip {
                topic,
                author,
                propagated_by,
                bytes,
                validation,
            } => {
                validation.accept();
                Some((topic, author, propagated_by, bytes))
            }
            _ => None,
        })
        .await;
    publisher.abort();
    b_validates.abort();

    assert_eq!(topic, TOPIC);
    assert_eq!(author, a_id);
    assert_eq!(propagated_by, b_id);
    assert!(bytes.starts_with(b"hello "), "{bytes:?}");
    assert!(!within(c.client.connected_peers()).await.unwrap().contains(&a_id));
}

#[tokio::test]
async fn gossip_over_the_limit_or_without_a_topic_is_not_published() {
    let a = node(43, line_config(), Transport::Tcp).await;
    assert_eq!(
        a.client.publish(TOPIC, vec![0; 64 * 1024 + 1]).await,
        Err(GossipError::TooLarge {
            size: 64 * 1024 + 1,
            limit: 64 * 1024
        })
    );
    assert_eq!(a.client.subscribe("").await, Err(GossipError::EmptyTopic));
    assert_eq!(a.client.publish(TOPIC, b"x".to_vec()).await, Err(GossipError::NoPeers));
}

#[tokio::test]
async fn a_peer_of_too_low_a_priority_gets_nothing_this_node_publishes_and_scores_below_zero() {
    let mut a = node(44, line_config(), Transport::Tcp).await;
    let mut low = node(45, line_config(), Transport::Tcp).await;
    a.connect(&mut low).await;
    for node in [&a, &low] {
        node.client.subscribe(TOPIC).await.unwrap();
    }
    let low_id = low.peer_id();
    // Once A knows the peer's subscription, it publishes to it.
    eventually(|| async { a.client.publish(TOPIC, b"reaches the peer".to_vec()).await.ok() }).await;
    let scoring = line_config().gossip_scoring;
    let score = within(a.client.gossip_score(low_id)).await.unwrap().unwrap();
    assert_eq!(score, scoring.application_score(tallymesh_net::DEFAULT_PRIORITY));

    // Below the publish level: the peer is no recipient at all.
    a.client
        .set_peer_priority(low_id, scoring.publish_below - 1)
        .await
        .unwrap();
    assert_eq!(
        a.client.publish(TOPIC, b"withheld".to_vec()).await,
        Err(GossipError::NoPeers)
    );
    let score = within(a.client.gossip_score(low_id)).await.unwrap().unwrap();
    assert!(score < 0.0, "{score}");

    // Trusted again: it gets what A publishes.
    a.client.set_peer_priority(low_id, 200).await.unwrap();
    assert_eq!(a.client.publish(TOPIC, b"reaches it again".to_vec()).await, Ok(()));
}
