//! Kademlia records between nodes that only meet through a third.

use tallymesh_net::{DhtError, Misbehaviour, NetConfig, NetEvent, RecordPolicy, RecordVerdict};

use crate::support::{Transport, config, eventually, node};

#[tokio::test]
async fn a_record_put_on_a_is_found_from_c_through_b() {
    let mut a = node(30, config(1024, 1024), Transport::Tcp).await;
    let mut b = node(31, config(1024, 1024), Transport::Tcp).await;
    let mut c = node(32, config(1024, 1024), Transport::Tcp).await;
    a.connect(&mut b).await;
    c.connect(&mut b).await;
    let key = b"did:key:z6Mk-card".to_vec();
    let card = b"a signed contact card".to_vec();

    // Routing tables fill in the background once the peers have told each
    // other they serve the DHT; until then a put reaches nobody.
    eventually(|| async {
        match a.client.put_record(key.clone(), card.clone()).await {
            Ok(()) => Some(()),
            Err(DhtError::NotReplicated | DhtError::NoKnownPeers) => None,
            Err(e) => panic!("put failed: {e}"),
        }
    })
    .await;
    let found = eventually(|| async {
        match c.client.get_record(key.clone()).await {
            Ok(values) => Some(values),
            Err(DhtError::NotFound) => None,
            Err(e) => panic!("get failed: {e}"),
        }
    })
    .await;

    assert_eq!(found, vec![card]);
    assert_eq!(
        c.client.get_record(b"nobody's key".to_vec()).await,
        Err(DhtError::NotFound)
    );
}

#[tokio::test]
async fn records_over_the_limit_are_not_published() {
    let a = node(33, config(1024, 1024), Transport::Tcp).await;
    let result = a.client.put_record(b"k".to_vec(), vec![0; 16 * 1024 + 1]).await;
    assert_eq!(
        result,
        Err(DhtError::RecordTooLarge {
            size: 16 * 1024 + 1,
            limit: 16 * 1024
        })
    );
    assert_eq!(a.client.bootstrap().await, Err(DhtError::NoKnownPeers));
}

#[tokio::test]
async fn a_node_with_a_record_policy_stores_only_what_it_allows_and_reports_the_rest() {
    let policy = RecordPolicy::new(|_, offered, _| {
        if offered.starts_with(b"ok") {
            RecordVerdict::Store
        } else {
            RecordVerdict::Reject("not ok".into())
        }
    });
    let keeper_config = NetConfig {
        record_policy: Some(policy),
        ..config(1024, 1024)
    };
    let mut keeper = node(34, keeper_config, Transport::Tcp).await;
    let mut sender = node(35, config(1024, 1024), Transport::Tcp).await;
    sender.connect(&mut keeper).await;
    let sender_id = sender.peer_id();

    // The keeper answers every put as taken: the sender cannot tell.
    eventually(|| async {
        match sender.client.put_record(b"bad".to_vec(), b"garbage".to_vec()).await {
            Ok(()) => Some(()),
            Err(DhtError::NotReplicated | DhtError::NoKnownPeers) => None,
            Err(e) => panic!("put failed: {e}"),
        }
    })
    .await;
    let reason = keeper
        .next(|e| match e {
            NetEvent::Misbehaved { peer, reason } if peer == sender_id => Some(reason),
            _ => None,
        })
        .await;
    assert_eq!(
        reason,
        Misbehaviour::BadRecord {
            key: "bad".into(),
            reason: "not ok".into()
        }
    );
    sender
        .client
        .put_record(b"good".to_vec(), b"ok, a card".to_vec())
        .await
        .unwrap();

    // With the sender gone, only what the keeper stored is left to find.
    sender.client.shutdown().await;
    assert_eq!(
        keeper.client.get_record(b"good".to_vec()).await,
        Ok(vec![b"ok, a card".to_vec()])
    );
    assert_eq!(keeper.client.get_record(b"bad".to_vec()).await, Err(DhtError::NotFound));
}
