//! Ping round trips for presence.

use tallymesh_net::NetEvent;

use crate::support::{Transport, config, node};

#[tokio::test]
async fn ping_round_trips_are_reported_per_peer() {
    let mut a = node(60, config(1024, 1024), Transport::Quic).await;
    let mut b = node(61, config(1024, 1024), Transport::Quic).await;
    a.connect(&mut b).await;
    let b_id = b.peer_id();

    let rtt = a
        .next(|e| match e {
            NetEvent::PingRtt { peer, rtt } if peer == b_id => Some(rtt),
            _ => None,
        })
        .await;

    let peers = a.client.peers().await.unwrap();
    assert_eq!(peers.len(), 1);
    assert_eq!(peers[0].peer, b_id);
    // The table keeps the latest round trip; no later ping can have
    // replaced it before this read (the next one is 15 s away).
    assert_eq!(peers[0].rtt, Some(rtt));
}
