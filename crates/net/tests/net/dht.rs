//! Kademlia records between nodes that only meet through a third.

use tallymesh_net::DhtError;

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
