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
    let mut relay = node(70, relay_config, Transport::Tcp).await;
    // A relay serves only once it has an address others can reach: a
    // headless node declares the one it is configured with.
    relay.client.add_external_address(relay.address.clone()).await.unwrap();
    let mut hidden = node(71, config(1024, 1024), Transport::Tcp).await;
    let mut caller = node(72, config(1024, 1024), Transport::Tcp).await;
    let relay_id = relay.peer_id();
    let hidden_id = hidden.peer_id();

    hidden.connect(&mut relay).await;
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
