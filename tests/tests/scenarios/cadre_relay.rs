//! The cadre's own relay with real nodes on 127.0.0.1: alice's headless
//! home box runs as a relay; her laptop (the main device) reserves on it
//! and puts the circuit address on her card; a contact reaches the laptop
//! through the circuit; a stranger is refused a reservation.

use std::time::Duration;

use tallymesh_net::multiaddr::Protocol;
use tallymesh_net::{KademliaMode, NetConfig, NetEvent};
use tallymesh_node::contacts::InviteSpec;
use tallymesh_scenarios::{PATIENCE, TestNode, temp_data_dir, test_config, until};

const HOUR: Duration = Duration::from_secs(3_600);

#[tokio::test]
async fn alices_laptop_is_reached_through_her_home_boxs_relay_which_refuses_a_stranger() {
    let alice = TestNode::start().await.unwrap();
    alice.node.identity().create("Alice").await.unwrap();
    let dir = temp_data_dir().unwrap();
    let config = test_config(dir.path()).with_relay_server(true);
    let home_box = TestNode::start_in(dir, config).await.unwrap();
    let link = alice.node.cadre().invite(HOUR).await.unwrap();
    home_box.node.cadre().join(&link, Some("Home box")).await.unwrap();
    let (alice_peer, box_peer) = (alice.node.net().local_peer_id(), home_box.node.net().local_peer_id());

    // The laptop reserves on its box and its card lists the circuit.
    let through_box = format!("/p2p/{box_peer}/p2p-circuit");
    let relayed = until("alice's card lists a circuit through her box", || async {
        let card = alice.node.contacts().my_card(None).await.unwrap();
        card.record()
            .addresses
            .iter()
            .find(|address| address.ends_with(&through_box))
            .cloned()
    })
    .await;

    // Bob dials that circuit and is connected to the laptop through the box.
    let bob = TestNode::start().await.unwrap();
    bob.node.identity().create("Bob").await.unwrap();
    bob.node
        .net()
        .dial(format!("{relayed}/p2p/{alice_peer}").parse().unwrap())
        .await
        .unwrap();
    let address = until("bob is connected to alice's laptop through the circuit", || async {
        let peers = bob.node.peers().await.unwrap();
        let laptop = peers.into_iter().find(|p| p.peer_id == alice_peer.to_string())?;
        laptop.addresses.into_iter().find(|a| a.contains("/p2p-circuit"))
    })
    .await;
    assert!(address.contains(&box_peer.to_string()), "{address}");
    // Requests go through: bob redeems alice's invite.
    let invite = alice
        .node
        .contacts()
        .my_card_link(Some(InviteSpec {
            reusable: false,
            expires_in: HOUR,
        }))
        .await
        .unwrap();
    let contact = bob.node.contacts().redeem_link(&invite).await.unwrap();
    assert_eq!(contact.display_name, "Alice");

    // A stranger's node connects to the box and asks for a reservation.
    let key = tallymesh_net::keypair_from_seed(&[77; 32]).unwrap();
    let config = NetConfig {
        mdns: false,
        kademlia_mode: KademliaMode::Client,
        ..NetConfig::default()
    };
    let (stranger, mut events, event_loop) = tallymesh_net::new(key, config).unwrap();
    tokio::spawn(event_loop.run());
    let box_address: tallymesh_net::Multiaddr = home_box.node.status().await.unwrap().listen_addrs[0].parse().unwrap();
    stranger
        .listen(box_address.with(Protocol::P2p(box_peer)).with(Protocol::P2pCircuit))
        .await
        .unwrap();
    let refused = tokio::time::timeout(PATIENCE, async {
        loop {
            match events.recv().await.expect("the stranger's network stopped") {
                NetEvent::RelayReservation { .. } => panic!("the box relays for a stranger"),
                NetEvent::RelayReservationLost { relay, reason } if relay == box_peer => return reason,
                _ => {}
            }
        }
    })
    .await
    .expect("the box never answered the stranger");
    assert!(refused.contains("limit"), "{refused}");
    stranger.shutdown().await;
}
