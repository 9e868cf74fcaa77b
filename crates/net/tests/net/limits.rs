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
