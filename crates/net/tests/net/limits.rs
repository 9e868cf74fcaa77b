//! Connection limits.

use tallymesh_net::{ConnectionLimits, NetConfig, NetEvent};

use crate::support::{Transport, config, node};

#[tokio::test]
async fn a_connection_over_the_incoming_limit_is_refused() {
    let one_incoming = NetConfig {
        connection_limits: ConnectionLimits {
            max_established_incoming: 1,
            ..ConnectionLimits::default()
        },
        ..config(1024, 1024)
    };
    let mut a = node(50, one_incoming, Transport::Tcp).await;
    let mut b = node(51, config(1024, 1024), Transport::Tcp).await;
    let mut c = node(52, config(1024, 1024), Transport::Tcp).await;
    b.connect(&mut a).await;
    let a_id = a.peer_id();

    c.client.dial(a.address.clone()).await.unwrap();
    // C either fails to set the connection up or sees it closed at once.
    c.next(|e| match e {
        NetEvent::DialFailed { .. } => Some(()),
        NetEvent::PeerDisconnected(peer) if peer == a_id => Some(()),
        _ => None,
    })
    .await;

    assert_eq!(a.client.connected_peers().await.unwrap(), vec![b.peer_id()]);
    assert!(!c.client.connected_peers().await.unwrap().contains(&a_id));
}

#[tokio::test]
async fn when_the_incoming_slots_are_full_the_lowest_priority_peer_is_closed_first() {
    let two_slots = NetConfig {
        connection_limits: ConnectionLimits {
            incoming_slots: 2,
            ..ConnectionLimits::default()
        },
        ..config(1024, 1024)
    };
    let mut a = node(60, two_slots, Transport::Tcp).await;
    let mut trusted = node(61, config(1024, 1024), Transport::Tcp).await;
    let mut distrusted = node(62, config(1024, 1024), Transport::Tcp).await;
    let newcomer = node(63, config(1024, 1024), Transport::Tcp).await;
    trusted.connect(&mut a).await;
    distrusted.connect(&mut a).await;
    a.client.set_peer_priority(trusted.peer_id(), 230).await.unwrap();
    a.client.set_peer_priority(distrusted.peer_id(), 20).await.unwrap();

    // A third peer (the default priority) takes the distrusted one's slot.
    newcomer.client.dial(a.address.clone()).await.unwrap();
    let gone = distrusted.peer_id();
    a.next(|e| matches!(e, NetEvent::PeerDisconnected(p) if p == gone).then_some(()))
        .await;
    let mut connected = a.client.connected_peers().await.unwrap();
    connected.sort();
    let mut expected = vec![trusted.peer_id(), newcomer.peer_id()];
    expected.sort();
    assert_eq!(connected, expected);

    // One more at the default priority ties with the newcomer: the newest
    // of equals goes, so nobody already there is pushed out by an equal.
    let mut late = node(64, config(1024, 1024), Transport::Tcp).await;
    late.client.dial(a.address.clone()).await.unwrap();
    let late_id = late.peer_id();
    let a_id = a.peer_id();
    late.next(|e| match e {
        NetEvent::PeerDisconnected(p) if p == a_id => Some(()),
        NetEvent::DialFailed { .. } => Some(()),
        _ => None,
    })
    .await;
    let connected = a.client.connected_peers().await.unwrap();
    assert!(!connected.contains(&late_id), "{connected:?}");
    assert!(connected.contains(&trusted.peer_id()) && connected.contains(&newcomer.peer_id()));
}
