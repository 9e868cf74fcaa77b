//! The contact handshake between real nodes on 127.0.0.1: invites redeemed
//! over libp2p, each side left with the other's verified card; one-time,
//! reusable and expired invites; cards that are not the sender's refused.

use std::time::Duration;

use tallymesh_core::ProtocolVersion;
use tallymesh_net::ProtocolName;
use tallymesh_node::contacts::{ContactError, InviteSpec, RedeemError, RefusalKind};
use tallymesh_protocol::Envelope;
use tallymesh_protocol::contact::{ContactRequest, ContactResponse, Refusal, limits};
use tallymesh_scenarios::{TestNode, node_of, party_of};

fn invite(reusable: bool, expires_in: Duration) -> Option<InviteSpec> {
    Some(InviteSpec { reusable, expires_in })
}

async fn contact_names(node: &TestNode) -> Vec<String> {
    node.node
        .contacts()
        .list()
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.display_name)
        .collect()
}

#[tokio::test]
async fn a_one_time_invite_makes_two_contacts_once_and_is_refused_the_second_time() {
    let alice = node_of("Alice").await;
    let bob = node_of("Bob").await;
    let carol = node_of("Carol").await;
    let link = alice
        .node
        .contacts()
        .my_card_link(invite(false, Duration::from_secs(3_600)))
        .await
        .unwrap();

    let alice_for_bob = bob.node.contacts().redeem_link(&link).await.unwrap();
    assert_eq!(alice_for_bob.party_id, party_of(&alice).await);
    assert_eq!(contact_names(&alice).await, ["Bob"], "alice kept bob's card");
    let bob_for_alice = alice.node.contacts().get(&party_of(&bob).await).await.unwrap();
    assert_eq!(bob_for_alice.devices, 1);
    let invites = alice.node.contacts().list_invites().await.unwrap();
    assert_eq!(invites[0].times_used, 1);

    let refused = carol.node.contacts().redeem_link(&link).await.unwrap_err();
    assert!(
        matches!(&refused, RedeemError::Refused { reason: RefusalKind::Invite, message, .. }
            if message == "This invite was already used."),
        "{refused}"
    );
    assert_eq!(refused.to_string(), "Alice refused: This invite was already used.");
    assert!(contact_names(&carol).await.is_empty());
    assert_eq!(contact_names(&alice).await, ["Bob"]);
}

#[tokio::test]
async fn a_reusable_invite_serves_many_and_a_withdrawn_one_none() {
    let shop = node_of("Corner shop").await;
    let bob = node_of("Bob").await;
    let carol = node_of("Carol").await;
    let dave = node_of("Dave").await;
    let link = shop
        .node
        .contacts()
        .my_card_link(invite(true, Duration::from_secs(3_600)))
        .await
        .unwrap();

    bob.node.contacts().redeem_link(&link).await.unwrap();
    carol.node.contacts().redeem_link(&link).await.unwrap();
    assert_eq!(contact_names(&shop).await, ["Bob", "Carol"]);

    let token = shop.node.contacts().list_invites().await.unwrap()[0].token.clone();
    shop.node.contacts().revoke_invite(&token).await.unwrap();
    let refused = dave.node.contacts().redeem_link(&link).await.unwrap_err();
    assert!(
        matches!(&refused, RedeemError::Refused { message, .. } if message == "This invite was withdrawn."),
        "{refused}"
    );
}

#[tokio::test]
async fn an_expired_invite_is_never_redeemed_and_a_card_without_one_cannot_be() {
    let alice = node_of("Alice").await;
    let bob = node_of("Bob").await;
    let short = alice
        .node
        .contacts()
        .my_card_link(invite(false, Duration::from_secs(1)))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    let refused = bob.node.contacts().redeem_link(&short).await.unwrap_err();
    assert!(
        matches!(refused, RedeemError::Card(ContactError::InviteExpired)),
        "{refused}"
    );

    let plain = alice.node.contacts().my_card_link(None).await.unwrap();
    let refused = bob.node.contacts().redeem_link(&plain).await.unwrap_err();
    assert!(
        matches!(refused, RedeemError::NoInvite(ref name) if name == "Alice"),
        "{refused}"
    );
    assert!(contact_names(&alice).await.is_empty());
}

/// Sends `request` to `to`'s device straight through `from`'s swarm.
async fn ask(from: &TestNode, to: &TestNode, request: Vec<u8>) -> ContactResponse {
    let peer = to.node.net().local_peer_id();
    for address in to.node.net().listen_addrs().await.unwrap() {
        from.node.net().add_address(peer, address).await.unwrap();
    }
    let protocol = ProtocolName::new("contact").unwrap();
    let answer = from.node.net().request(peer, &protocol, request).await.unwrap();
    ContactResponse::decode(&answer, &limits()).unwrap()
}

#[tokio::test]
async fn someone_elses_card_garbage_and_strangers_exchanges_are_refused_and_nothing_is_kept() {
    let alice = node_of("Alice").await;
    let bob = node_of("Bob").await;
    let mallory = node_of("Mallory").await;
    let card = alice
        .node
        .contacts()
        .my_card(invite(true, Duration::from_secs(3_600)))
        .await
        .unwrap();
    let token = card.record().invite.as_ref().unwrap().token;

    // Mallory sends Bob's card: it does not certify Mallory's device.
    let bobs_card = bob.node.contacts().my_card(None).await.unwrap().bytes().to_vec();
    let answer = ask(
        &mallory,
        &alice,
        ContactRequest::Redeem { token, card: bobs_card }.encode(),
    )
    .await;
    assert!(
        matches!(
            answer,
            ContactResponse::Refused {
                reason: Refusal::WrongDevice,
                ..
            }
        ),
        "{answer:?}"
    );

    // Bytes that are no request at all, and a request of a future version:
    // refused, and each counted against mallory's device.
    let answer = ask(&mallory, &alice, b"\xa1\x00\x00 not a request".to_vec()).await;
    assert!(
        matches!(
            answer,
            ContactResponse::Refused {
                reason: Refusal::BadCard,
                ..
            }
        ),
        "{answer:?}"
    );

    let future = Envelope::new(ProtocolVersion(2), "contact/redeem", vec![0xa0]).encode();
    let answer = ask(&mallory, &alice, future).await;
    assert!(
        matches!(&answer, ContactResponse::Refused { reason: Refusal::UnsupportedVersion, message }
            if message.contains("unsupported protocol version v2")),
        "{answer:?}"
    );
    let mallory_peer = mallory.node.net().local_peer_id().to_string();
    let strikes = alice
        .node
        .peers()
        .await
        .unwrap()
        .into_iter()
        .find(|p| p.peer_id == mallory_peer)
        .map(|p| p.strikes);
    assert_eq!(strikes, Some(2));

    // A stranger may not push a card without an invite.
    let own = mallory.node.contacts().my_card(None).await.unwrap().bytes().to_vec();
    let answer = ask(
        &mallory,
        &alice,
        ContactRequest::Exchange { card: own.clone() }.encode(),
    )
    .await;
    assert!(
        matches!(
            answer,
            ContactResponse::Refused {
                reason: Refusal::NotAContact,
                ..
            }
        ),
        "{answer:?}"
    );

    // A wrong token.
    let answer = ask(
        &mallory,
        &alice,
        ContactRequest::Redeem {
            token: [0; 16],
            card: own,
        }
        .encode(),
    )
    .await;
    assert!(
        matches!(
            answer,
            ContactResponse::Refused {
                reason: Refusal::UnknownInvite,
                ..
            }
        ),
        "{answer:?}"
    );

    assert!(contact_names(&alice).await.is_empty());
    assert_eq!(alice.node.contacts().list_invites().await.unwrap()[0].times_used, 0);
}

#[tokio::test]
async fn contacts_exchange_newer_cards_and_peers_name_the_contact() {
    let alice = node_of("Alice").await;
    let bob = node_of("Bob").await;
    let link = alice
        .node
        .contacts()
        .my_card_link(invite(false, Duration::from_secs(3_600)))
        .await
        .unwrap();
    bob.node.contacts().redeem_link(&link).await.unwrap();

    let peers = bob.node.peers().await.unwrap();
    let alice_peer = alice.node.net().local_peer_id().to_string();
    let seen = peers
        .iter()
        .find(|p| p.peer_id == alice_peer)
        .expect("bob is connected to alice");
    assert_eq!(seen.display_name.as_deref(), Some("Alice"));
    assert_eq!(seen.party_id, Some(party_of(&alice).await));

    // Bob, now a contact, may send a newer card without an invite.
    let newer = bob.node.contacts().my_card(None).await.unwrap().bytes().to_vec();
    let answer = ask(&bob, &alice, ContactRequest::Exchange { card: newer }.encode()).await;
    assert!(matches!(answer, ContactResponse::Accepted { .. }), "{answer:?}");
}

#[tokio::test]
async fn a_card_added_while_its_party_was_away_is_redeemed_once_they_meet() {
    let alice = node_of("Alice").await;
    let link = alice
        .node
        .contacts()
        .my_card_link(invite(false, Duration::from_secs(3_600)))
        .await
        .unwrap();
    let listen = alice.node.status().await.unwrap().listen_addrs;
    // Alice is away: bob can only add her card, not redeem it.
    alice.node.shutdown().await;
    let bob = node_of("Bob").await;
    bob.node.contacts().add_from_link(&link).await.unwrap();

    // Alice comes back at the same addresses; bob's node reaches her, her
    // node does not know him, so bob's node redeems the invite it kept.
    let config = alice
        .config
        .clone()
        .with_listen(listen.iter().map(|a| a.parse().unwrap()).collect());
    let alice = TestNode::start_in(alice.dir, config).await.unwrap();
    let bob_party = party_of(&bob).await;
    tokio::time::timeout(Duration::from_secs(90), async {
        while alice.node.contacts().get(&bob_party).await.is_err() {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await
    .expect("alice never got bob's card");
    assert_eq!(alice.node.contacts().list_invites().await.unwrap()[0].times_used, 1);
}
