//! Contacts on real nodes: cards shared by link and by QR image, refusals
//! that store nothing, newer cards replacing older ones, and invites on
//! the inviter's side.

use std::time::Duration;

use tallymesh_node::contacts::{self, ContactError, InviteError, InviteSpec};
use tallymesh_node::control::ControlClient;
use tallymesh_node::{IdentityError, NodeError, NodeEvent};
use tallymesh_scenarios::{TestNode, node_of, party_of};

fn hour(reusable: bool) -> InviteSpec {
    InviteSpec {
        reusable,
        expires_in: Duration::from_secs(3_600),
    }
}

#[tokio::test]
async fn alices_link_added_by_bob_gives_her_party_name_device_and_addresses() {
    let alice = node_of("Alice").await;
    let bob = node_of("Bob").await;
    let mut events = bob.node.events();

    let link = alice.node.contacts().my_card_link(None).await.unwrap();
    assert!(link.starts_with("tallymesh:card?v=1&d="), "{link}");
    let added = bob.node.contacts().add_from_link(&link).await.unwrap();

    assert_eq!(added.party_id, party_of(&alice).await);
    assert_eq!(added.display_name, "Alice");
    assert_eq!(added.devices, 1);
    assert!(!added.addresses.is_empty(), "the card lists where alice listens");
    assert!(
        added.addresses.iter().all(|a| a.starts_with("/ip4/127.0.0.1/")),
        "{:?}",
        added.addresses
    );
    assert_eq!(bob.node.contacts().list().await.unwrap(), vec![added.clone()]);
    assert_eq!(bob.node.contacts().get(&added.party_id).await.unwrap(), added);
    let event = tokio::time::timeout(Duration::from_secs(5), events.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        event,
        NodeEvent::ContactsChanged {
            party_id: added.party_id.clone()
        }
    );

    // The card is kept as received: it still verifies after a restart.
    let bob = bob.restart().await.unwrap();
    assert_eq!(bob.node.contacts().list().await.unwrap(), vec![added.clone()]);
    assert_eq!(
        contacts::card_link(&bob.node.contacts().card(&added.party_id).await.unwrap()),
        link
    );

    bob.node.contacts().remove(&added.party_id).await.unwrap();
    assert!(bob.node.contacts().list().await.unwrap().is_empty());
    assert!(matches!(
        bob.node.contacts().remove(&added.party_id).await,
        Err(ContactError::UnknownContact(_))
    ));
    alice.node.shutdown().await;
    bob.node.shutdown().await;
}

#[tokio::test]
async fn a_tampered_link_is_refused_in_plain_words_and_nothing_is_stored() {
    let alice = node_of("Alice").await;
    let bob = node_of("Bob").await;
    let link = alice.node.contacts().my_card_link(None).await.unwrap();

    let mut chars: Vec<char> = link.chars().collect();
    let middle = chars.len() / 2;
    chars[middle] = if chars[middle] == 'A' { 'B' } else { 'A' };
    let tampered: String = chars.into_iter().collect();
    let refused = bob.node.contacts().add_from_link(&tampered).await.unwrap_err();
    assert_eq!(
        refused.to_string(),
        "This link was changed after it was made, so it can't be trusted."
    );

    let refused = bob
        .node
        .contacts()
        .add_from_link("https://example.org/alice")
        .await
        .unwrap_err();
    assert_eq!(refused.to_string(), "This is not a Tallymesh contact link.");
    let cut = &link[..link.len() / 2];
    assert!(bob.node.contacts().add_from_link(cut).await.is_err());
    assert!(bob.node.contacts().list().await.unwrap().is_empty());
    alice.node.shutdown().await;
    bob.node.shutdown().await;
}

#[tokio::test]
async fn a_qr_image_of_alices_card_adds_her_and_a_blank_image_is_refused() {
    let alice = node_of("Alice").await;
    let bob = node_of("Bob").await;
    let card = alice.node.contacts().my_card(Some(hour(false))).await.unwrap();
    let png = contacts::card_qr_png(&card).unwrap();
    assert!(png.starts_with(b"\x89PNG"));
    let svg = contacts::card_qr_svg(&card).unwrap();
    assert!(svg.trim_end().ends_with("</svg>"));

    let added = bob.node.contacts().add_from_qr_image(&png).await.unwrap();
    assert_eq!(added.party_id, party_of(&alice).await);
    assert_eq!(added.display_name, "Alice");

    let refused = bob
        .node
        .contacts()
        .add_from_qr_image(b"not an image")
        .await
        .unwrap_err();
    assert!(matches!(refused, ContactError::BadImage(_)), "{refused}");
    alice.node.shutdown().await;
    bob.node.shutdown().await;
}

#[tokio::test]
async fn ones_own_card_is_refused_and_no_identity_means_no_card() {
    let alice = node_of("Alice").await;
    let link = alice.node.contacts().my_card_link(None).await.unwrap();
    let refused = alice.node.contacts().add_from_link(&link).await.unwrap_err();
    assert_eq!(refused.to_string(), "This is your own card.");
    assert!(alice.node.contacts().list().await.unwrap().is_empty());

    let fresh = TestNode::start().await.unwrap();
    let refused = fresh.node.contacts().my_card(None).await.unwrap_err();
    assert!(
        matches!(
            refused,
            ContactError::Node(NodeError::Identity(IdentityError::NoIdentity))
        ),
        "{refused}"
    );
    assert!(refused.to_string().contains("no identity yet"), "{refused}");
    alice.node.shutdown().await;
    fresh.node.shutdown().await;
}

#[tokio::test]
async fn a_newer_card_updates_the_contact_and_an_older_one_is_ignored() {
    let alice = node_of("Alice").await;
    let bob = node_of("Bob").await;
    let old = alice.node.contacts().my_card_link(None).await.unwrap();
    // The same party under a new name; cards carry millisecond times.
    tokio::time::sleep(Duration::from_millis(5)).await;
    let phrase = alice.node.identity().recovery_phrase().await.unwrap();
    alice
        .node
        .identity()
        .restore_from_phrase(&phrase, "Alice Smith")
        .await
        .unwrap();
    let new = alice.node.contacts().my_card_link(None).await.unwrap();

    let first = bob.node.contacts().add_from_link(&old).await.unwrap();
    assert_eq!(first.display_name, "Alice");
    let updated = bob.node.contacts().add_from_link(&new).await.unwrap();
    assert_eq!(updated.display_name, "Alice Smith");
    assert_eq!(updated.added_at_ms, first.added_at_ms);
    assert!(updated.card_issued_at_ms > first.card_issued_at_ms);
    let again = bob.node.contacts().add_from_link(&old).await.unwrap();
    assert_eq!(again, updated, "the older card changes nothing");
    assert_eq!(
        contacts::card_link(&bob.node.contacts().card(&updated.party_id).await.unwrap()),
        new
    );
    assert_eq!(bob.node.contacts().list().await.unwrap().len(), 1);
    alice.node.shutdown().await;
    bob.node.shutdown().await;
}

#[tokio::test]
async fn one_time_reusable_expired_and_withdrawn_invites_are_told_apart() {
    let alice = node_of("Alice").await;
    let bob = node_of("Bob").await;
    let contacts = alice.node.contacts();
    let token_of = |card: &tallymesh_node::contacts::SharedCard| {
        contacts::token_from_hex(&card.invite.as_ref().unwrap().token).unwrap()
    };
    let card_of = |signed| tallymesh_node::contacts::SharedCard::of(&signed);

    // One-time: counts once, then is used.
    let once = card_of(contacts.my_card(Some(hour(false))).await.unwrap());
    let token = token_of(&once);
    contacts.check_invite(&token).await.unwrap();
    contacts.record_invite_use(&token).await.unwrap();
    let used = contacts.check_invite(&token).await.unwrap_err();
    assert!(matches!(used, ContactError::Invite(InviteError::Used)), "{used}");
    let again = contacts.record_invite_use(&token).await.unwrap_err();
    assert!(matches!(again, ContactError::Invite(InviteError::Used)), "{again}");

    // Reusable: counts every time.
    let shop = card_of(contacts.my_card(Some(hour(true))).await.unwrap());
    let shop_token = token_of(&shop);
    for _ in 0..3 {
        contacts.record_invite_use(&shop_token).await.unwrap();
    }
    contacts.check_invite(&shop_token).await.unwrap();

    // Withdrawn.
    contacts
        .revoke_invite(&shop.invite.as_ref().unwrap().token)
        .await
        .unwrap();
    let revoked = contacts.check_invite(&shop_token).await.unwrap_err();
    assert!(
        matches!(revoked, ContactError::Invite(InviteError::Revoked)),
        "{revoked}"
    );

    // Never made (a tampered token is one of these).
    let mut tampered = token;
    tampered[0] ^= 1;
    let unknown = contacts.check_invite(&tampered).await.unwrap_err();
    assert!(
        matches!(unknown, ContactError::Invite(InviteError::Unknown)),
        "{unknown}"
    );

    // Expired: refused by the inviter, and the card by whoever receives it.
    let brief = contacts
        .my_card(Some(InviteSpec {
            reusable: true,
            expires_in: Duration::from_secs(1),
        }))
        .await
        .unwrap();
    let brief_token = brief.record().invite.as_ref().unwrap().token;
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    let expired = contacts.check_invite(&brief_token).await.unwrap_err();
    assert!(
        matches!(expired, ContactError::Invite(InviteError::Expired)),
        "{expired}"
    );
    let refused = bob
        .node
        .contacts()
        .add_from_link(&contacts::card_link(&brief))
        .await
        .unwrap_err();
    assert!(matches!(refused, ContactError::InviteExpired), "{refused}");
    assert!(bob.node.contacts().list().await.unwrap().is_empty());

    // A card with a live invite is added, keeping the token.
    let added = bob.node.contacts().add_from_link(&once.link).await.unwrap();
    assert_eq!(added.display_name, "Alice");

    let listed = contacts.list_invites().await.unwrap();
    assert_eq!(listed.len(), 3);
    let shop_listed = listed
        .iter()
        .find(|i| i.token == shop.invite.as_ref().unwrap().token)
        .unwrap();
    assert!(shop_listed.revoked && shop_listed.reusable);
    assert_eq!(shop_listed.times_used, 3);
    alice.node.shutdown().await;
    bob.node.shutdown().await;
}

#[cfg(unix)]
#[tokio::test]
async fn the_control_endpoint_shares_and_adds_cards() {
    let alice = node_of("Alice").await;
    let bob = node_of("Bob").await;
    let mut alice_control = ControlClient::connect(alice.path()).await.unwrap();
    let mut bob_control = ControlClient::connect(bob.path()).await.unwrap();

    let card = alice_control
        .contact_card(Some(tallymesh_node::control::InviteRequest {
            reusable: false,
            expires_in_secs: 600,
        }))
        .await
        .unwrap();
    assert_eq!(card.party_id, party_of(&alice).await);
    let invite = card.invite.clone().unwrap();
    assert_eq!(alice_control.invites().await.unwrap()[0].token, invite.token);

    let added = bob_control.add_contact(&card.link).await.unwrap();
    assert_eq!(added.party_id, card.party_id);
    assert_eq!(bob_control.contacts().await.unwrap(), vec![added.clone()]);
    assert_eq!(bob_control.contact(&added.party_id).await.unwrap(), added);
    let own = alice_control.add_contact(&card.link).await.unwrap_err();
    assert_eq!(own.to_string(), "This is your own card.");
    bob_control.remove_contact(&added.party_id).await.unwrap();
    assert!(bob_control.contacts().await.unwrap().is_empty());
    alice_control.revoke_invite(&invite.token).await.unwrap();
    assert!(alice_control.invites().await.unwrap()[0].revoked);
    alice.node.shutdown().await;
    bob.node.shutdown().await;
}

#[tokio::test]
async fn reading_a_link_verifies_the_card_without_adding_it_and_knows_a_contact_again() {
    let alice = node_of("Alice").await;
    let bob = node_of("Bob").await;
    let link = alice.node.contacts().my_card_link(Some(hour(false))).await.unwrap();

    let preview = bob.node.contacts().read_link(&link).await.unwrap();
    assert_eq!(preview.party_id, party_of(&alice).await);
    assert_eq!(preview.display_name, "Alice");
    assert_eq!(preview.devices, 1);
    assert!(!preview.known);
    assert!(preview.invite.as_ref().is_some_and(|invite| !invite.reusable));
    assert!(
        bob.node.contacts().list().await.unwrap().is_empty(),
        "reading adds nothing"
    );

    bob.node.contacts().add_from_link(&preview.link).await.unwrap();
    assert!(bob.node.contacts().read_link(&link).await.unwrap().known);

    assert!(matches!(
        alice.node.contacts().read_link(&link).await,
        Err(ContactError::OwnCard)
    ));
}
