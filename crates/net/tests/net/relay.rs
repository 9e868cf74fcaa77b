//! Reaching a peer through a relay.

use libp2p::multiaddr::Protocol;
use tallymesh_net::{NetConfig, NetEvent};

use crate::support::{Transport, config, echo, node, within};

#[tokio::test]
async fn a_peer_behind_a_relay_is_reached_through_its_reservation() {
    let relay_config = NetConfig {
        relay_server: true,
        ..config(1024, 1024)
    };
    // A relay serves from its listen address at once: it counts as external.
    let mut relay = node(70, relay_config, Transport::Tcp).await;
    let mut hidden = node(71, config(1024, 1024), Transport::Tcp).await;
    let mut caller = node(72, config(1024, 1024), Transport::Tcp).await;
    let relay_id = relay.peer_id();
    let hidden_id = hidden.peer_id();
    relay.client.allow_relay_reservations([hidden_id]).await.unwrap();

    hidden.connect(&mut relay).await;
    let offered = hidden
        .next(|e| match e {
            NetEvent::RelayOffered { relay, addresses } if relay == relay_id => Some(addresses),
            _ => None,
        })
        .await;
    assert!(offered.contains(&relay.address), "{offered:?}");
    let circuit = relay
        .address
        .clone()
        .with(Protocol::P2p(relay_id))
        .with(Protocol::P2pCircuit);
    hidden.client.listen(circuit.clone()).await.unwrap();
    hidden
        .next(|e| matches!(e, NetEvent::RelayReservation { relay } if relay == relay_id).then_some(()))
        .await;

    caller
        .client
        .dial(circuit.with(Protocol::P2p(hidden_id)))
        .await
        .unwrap();
    caller
        .next(|e| matches!(e, NetEvent::PeerConnected(p) if p == hidden_id).then_some(()))
        .await;
    let protocol = echo();
    let (answer, ()) = within(async {
        tokio::join!(
            caller
                .client
                .request(hidden_id, &protocol, b"through the relay".to_vec()),
            async {
                let responder = hidden
                    .next(|e| match e {
                        NetEvent::Request { responder, .. } => Some(responder),
                        _ => None,
                    })
                    .await;
                responder.respond(b"heard you".to_vec()).unwrap();
            }
        )
    })
    .await;
    assert_eq!(answer.unwrap(), b"heard you");
}

#[tokio::test]
async fn a_relay_refuses_a_reservation_to_a_peer_it_does_not_serve() {
    let relay_config = NetConfig {
        relay_server: true,
        ..config(1024, 1024)
    };
    let mut relay = node(73, relay_config, Transport::Tcp).await;
    let mut friend = node(74, config(1024, 1024), Transport::Tcp).await;
    let mut stranger = node(75, config(1024, 1024), Transport::Tcp).await;
    let relay_id = relay.peer_id();
    relay.client.allow_relay_reservations([friend.peer_id()]).await.unwrap();
    let circuit = relay
        .address
        .clone()
        .with(Protocol::P2p(relay_id))
        .with(Protocol::P2pCircuit);

    stranger.connect(&mut relay).await;
    stranger.client.listen(circuit.clone()).await.unwrap();
    let reason = stranger
        .next(|e| match e {
            NetEvent::RelayReservation { .. } => panic!("the stranger got a reservation"),
            NetEvent::RelayReservationLost { relay, reason } if relay == relay_id => Some(reason),
            _ => None,
        })
        .await;
    assert!(reason.contains("limit"), "{reason}");

    // The one it serves gets one, and gives it up when asked to.
    friend.connect(&mut relay).await;
    friend.client.listen(circuit.clone()).await.unwrap();
    friend
        .next(|e| matches!(e, NetEvent::RelayReservation { relay } if relay == relay_id).then_some(()))
        .await;
    assert!(friend.client.stop_listening(circuit.clone()).await.unwrap());
    friend
        .next(|e| matches!(e, NetEvent::RelayReservationLost { relay, .. } if relay == relay_id).then_some(()))
        .await;
    assert!(!friend.client.stop_listening(circuit).await.unwrap());
}
