//! A party's cadre with real nodes on 127.0.0.1: a headless-style node
//! enrolled by alice's main device acts for her party as a member, her
//! card lists both devices and her contacts see them; tokens work once and
//! expire; enrollment links and contact invites never stand in for each
//! other; revocation takes a device off the card, and a contact that gets
//! the newer card refuses the revoked device; a member keeps its
//! membership across restarts and refuses what needs the party secret.
//! Then the same with the real `tallymesh` binary.

use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use tallymesh_core::card::ContactCard;
use tallymesh_net::ProtocolName;
use tallymesh_node::cadre::{CadreError, DeviceKind};
use tallymesh_node::contacts::{ContactError, InviteSpec, RedeemError, RefusalKind};
use tallymesh_node::{IdentityError, IdentityState, NodeError};
use tallymesh_protocol::cadre::{CadreRefusal, CadreRequest, CadreResponse, limits};
use tallymesh_protocol::contact::{ContactRequest, ContactResponse, Refusal, limits as contact_limits};
use tallymesh_scenarios::{
    TestNode, node_of, party_of, spawn_headless_node, spawn_headless_node_with, stop_with_sigterm, succeeded,
    until_blocking, until_holds, wait_for_control,
};

const HOUR: Duration = Duration::from_secs(3_600);

fn peer_of(node: &TestNode) -> String {
    node.node.net().local_peer_id().to_string()
}

/// Alice and a fresh node that joined her cadre as "Home box".
async fn alice_and_her_box() -> (TestNode, TestNode) {
    let alice = node_of("Alice").await;
    let home_box = TestNode::start().await.unwrap();
    let link = alice.node.cadre().invite(HOUR).await.unwrap();
    home_box.node.cadre().join(&link, Some("Home box")).await.unwrap();
    (alice, home_box)
}

#[tokio::test]
async fn each_device_says_its_kind_when_it_joins_and_the_main_device_lists_it() {
    let dir = tallymesh_scenarios::temp_data_dir().unwrap();
    let config = tallymesh_scenarios::test_config(dir.path()).with_device_kind(DeviceKind::Desktop);
    let laptop = TestNode::start_in(dir, config).await.unwrap();
    laptop.node.identity().create("Alice").await.unwrap();
    let home_box = TestNode::start().await.unwrap();
    let dir = tallymesh_scenarios::temp_data_dir().unwrap();
    let config = tallymesh_scenarios::test_config(dir.path()).with_device_kind(DeviceKind::Desktop);
    let second_laptop = TestNode::start_in(dir, config).await.unwrap();
    for (node, name) in [(&home_box, "Home box"), (&second_laptop, "Second laptop")] {
        let link = laptop.node.cadre().invite(HOUR).await.unwrap();
        node.node.cadre().join(&link, Some(name)).await.unwrap();
    }

    let listed = laptop.node.cadre().list().await.unwrap();
    let kinds: Vec<(&str, Option<DeviceKind>, bool)> = listed
        .iter()
        .map(|device| (device.name.as_str(), device.kind, device.this_device))
        .collect();
    assert_eq!(
        kinds,
        [
            ("Scenario node", Some(DeviceKind::Desktop), true),
            ("Home box", Some(DeviceKind::Headless), false),
            ("Second laptop", Some(DeviceKind::Desktop), false),
        ]
    );

    // A member knows its own kind; the card it keeps says nothing of the
    // others'.
    let by_box = home_box.node.cadre().list().await.unwrap();
    assert!(by_box[0].this_device);
    assert_eq!(by_box[0].kind, Some(DeviceKind::Headless));
    assert!(by_box[1..].iter().all(|device| device.kind.is_none()), "{by_box:?}");
}

#[tokio::test]
async fn a_headless_node_joins_alices_cadre_and_her_contacts_see_both_devices() {
    let alice = node_of("Alice").await;
    let bob = node_of("Bob").await;
    let alice_party = party_of(&alice).await;
    let contact_link = alice
        .node
        .contacts()
        .my_card_link(Some(InviteSpec {
            reusable: false,
            expires_in: HOUR,
        }))
        .await
        .unwrap();
    bob.node.contacts().redeem_link(&contact_link).await.unwrap();
    assert_eq!(bob.node.contacts().get(&alice_party).await.unwrap().devices, 1);

    let home_box = TestNode::start().await.unwrap();
    let link = alice.node.cadre().invite(HOUR).await.unwrap();
    assert!(link.starts_with("tallymesh:cadre?v=1&d="), "{link}");
    let state = home_box.node.cadre().join(&link, Some("Home box")).await.unwrap();
    let IdentityState::Member {
        party_id,
        display_name,
        device_peer_id,
        ..
    } = &state
    else {
        panic!("not a member: {state:?}");
    };
    assert_eq!(party_id, &alice_party);
    assert_eq!(display_name, "Alice");
    assert_eq!(device_peer_id, &peer_of(&home_box));
    assert_eq!(home_box.node.identity().state().await.unwrap(), state);

    // The certificate is alice's signature over the box's own peer id.
    let certificate = home_box.node.identity().device_certificate().await.unwrap();
    assert_eq!(
        certificate.record().peer_id,
        home_box.node.net().local_peer_id().to_bytes()
    );
    assert_eq!(certificate.record().party.to_string(), alice_party);
    assert_eq!(certificate.signer(), certificate.record().party.key());
    assert_eq!(certificate.record().name, "Home box");

    // Alice's card lists her own device first, then the box.
    let card = alice.node.contacts().my_card(None).await.unwrap();
    let devices: Vec<Vec<u8>> = card
        .record()
        .devices
        .iter()
        .map(|d| d.record().peer_id.clone())
        .collect();
    assert_eq!(
        devices,
        [
            alice.node.net().local_peer_id().to_bytes(),
            home_box.node.net().local_peer_id().to_bytes()
        ]
    );
    let listed = alice.node.cadre().list().await.unwrap();
    assert_eq!(listed.len(), 2);
    assert!(listed[0].this_device && listed[0].peer_id == peer_of(&alice));
    assert_eq!(listed[1].peer_id, peer_of(&home_box));
    assert_eq!(listed[1].name, "Home box");
    assert!(!listed[1].revoked && !listed[1].this_device);
    assert_eq!(
        listed[1].kind,
        Some(DeviceKind::Headless),
        "the box said it is headless"
    );

    // The member's own card is the party's, as alice signed it.
    let members_card = home_box.node.contacts().my_card(None).await.unwrap();
    assert_eq!(members_card.record().party.to_string(), alice_party);
    assert_eq!(members_card.record().devices.len(), 2);
    let listed_by_member = home_box.node.cadre().list().await.unwrap();
    assert_eq!(listed_by_member.len(), 2);
    assert!(listed_by_member[0].this_device && listed_by_member[0].peer_id == peer_of(&home_box));

    // Bob, a contact, gets alice's newer card and sees both devices.
    until_holds("bob to see both of alice's devices", || async {
        bob.node.contacts().get(&alice_party).await.unwrap().devices == 2
    })
    .await;
}

#[tokio::test]
async fn an_enrollment_token_works_once_and_never_after_it_expires() {
    let alice = node_of("Alice").await;
    let first = TestNode::start().await.unwrap();
    let second = TestNode::start().await.unwrap();
    let link = alice.node.cadre().invite(HOUR).await.unwrap();
    first.node.cadre().join(&link, Some("First")).await.unwrap();

    let refused = second.node.cadre().join(&link, Some("Second")).await.unwrap_err();
    assert!(
        matches!(
            &refused,
            CadreError::Refused {
                reason: CadreRefusal::TokenUsed,
                ..
            }
        ),
        "{refused}"
    );
    assert!(refused.to_string().contains("already used"), "{refused}");
    assert_eq!(second.node.identity().state().await.unwrap(), IdentityState::None);

    let short = alice.node.cadre().invite(Duration::from_secs(1)).await.unwrap();
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    let refused = second.node.cadre().join(&short, None).await.unwrap_err();
    assert!(matches!(refused, CadreError::Expired), "{refused}");

    // Alice's device refuses the expired token too, when asked directly.
    let card = ContactCard::from_cadre_link(&short).unwrap();
    let token = card.record().invite.as_ref().unwrap().token;
    let peer = alice.node.net().local_peer_id();
    for address in alice.node.net().listen_addrs().await.unwrap() {
        second.node.net().add_address(peer, address).await.unwrap();
    }
    let protocol = ProtocolName::new("cadre").unwrap();
    let request = CadreRequest::Join {
        token,
        name: "Second".into(),
        kind: None,
        chat_key: None,
    }
    .encode();
    let answer = second.node.net().request(peer, &protocol, request).await.unwrap();
    assert!(
        matches!(
            CadreResponse::decode(&answer, &limits()).unwrap(),
            CadreResponse::Refused {
                reason: CadreRefusal::TokenExpired,
                ..
            }
        ),
        "expired at alice's device"
    );
    assert_eq!(
        alice.node.cadre().list().await.unwrap().len(),
        2,
        "alice and the first only"
    );
}

#[tokio::test]
async fn contact_invites_never_enroll_and_enrollment_links_never_make_contacts() {
    let alice = node_of("Alice").await;
    let bob = node_of("Bob").await;
    let home_box = TestNode::start().await.unwrap();

    let contact_link = alice
        .node
        .contacts()
        .my_card_link(Some(InviteSpec {
            reusable: true,
            expires_in: HOUR,
        }))
        .await
        .unwrap();
    let refused = home_box.node.cadre().join(&contact_link, None).await.unwrap_err();
    assert!(matches!(refused, CadreError::NotALink), "{refused}");
    // The same card passed off as an enrollment link: its token is no
    // enrollment token.
    let disguised = contact_link.replacen("tallymesh:card?", "tallymesh:cadre?", 1);
    let refused = home_box.node.cadre().join(&disguised, None).await.unwrap_err();
    assert!(
        matches!(
            &refused,
            CadreError::Refused {
                reason: CadreRefusal::UnknownToken,
                ..
            }
        ),
        "{refused}"
    );

    let enrollment = alice.node.cadre().invite(HOUR).await.unwrap();
    let refused = bob.node.contacts().redeem_link(&enrollment).await.unwrap_err();
    assert!(
        matches!(refused, RedeemError::Card(ContactError::NotALink)),
        "{refused}"
    );
    let disguised = enrollment.replacen("tallymesh:cadre?", "tallymesh:card?", 1);
    let refused = bob.node.contacts().redeem_link(&disguised).await.unwrap_err();
    assert!(
        matches!(&refused, RedeemError::Refused { reason: RefusalKind::Invite, message, .. }
            if message == "This invite is not known here."),
        "{refused}"
    );
    assert!(alice.node.contacts().list().await.unwrap().is_empty());
    assert_eq!(home_box.node.identity().state().await.unwrap(), IdentityState::None);

    // Neither attempt spent the enrollment token.
    home_box.node.cadre().join(&enrollment, None).await.unwrap();
}

#[tokio::test]
async fn a_revoked_device_drops_off_alices_card_and_list() {
    let (alice, home_box) = alice_and_her_box().await;
    let box_peer = peer_of(&home_box);
    alice.node.cadre().revoke(&box_peer).await.unwrap();

    let card = alice.node.contacts().my_card(None).await.unwrap();
    assert_eq!(card.record().devices.len(), 1);
    assert_eq!(
        card.record().devices[0].record().peer_id,
        alice.node.net().local_peer_id().to_bytes()
    );
    let listed = alice.node.cadre().list().await.unwrap();
    assert_eq!(listed.len(), 2);
    assert!(listed[1].revoked && listed[1].peer_id == box_peer);

    let again = alice.node.cadre().revoke(&box_peer).await.unwrap_err();
    assert!(matches!(again, CadreError::UnknownDevice(_)), "{again}");
    let itself = alice.node.cadre().revoke(&peer_of(&alice)).await.unwrap_err();
    assert!(matches!(itself, CadreError::ThisDevice), "{itself}");
    let by_member = home_box.node.cadre().revoke(&peer_of(&alice)).await.unwrap_err();
    assert!(
        matches!(
            by_member,
            CadreError::Node(NodeError::Identity(IdentityError::NotTheMainDevice { .. }))
        ),
        "{by_member}"
    );
}

/// The peer ids a member's copy of the party's card lists.
async fn devices_on_members_card(member: &TestNode) -> Vec<Vec<u8>> {
    let card = member.node.contacts().my_card(None).await.unwrap();
    card.record()
        .devices
        .iter()
        .map(|d| d.record().peer_id.clone())
        .collect()
}

#[tokio::test]
async fn members_get_alices_newer_card_after_an_enrollment_and_a_revocation() {
    let (alice, first_box) = alice_and_her_box().await;
    let second_box = TestNode::start().await.unwrap();
    let link = alice.node.cadre().invite(HOUR).await.unwrap();
    second_box.node.cadre().join(&link, Some("Cloud node")).await.unwrap();
    let (alice_peer, first_peer, second_peer) = (
        alice.node.net().local_peer_id().to_bytes(),
        first_box.node.net().local_peer_id().to_bytes(),
        second_box.node.net().local_peer_id().to_bytes(),
    );

    // The first box joined before the second: the main device sends it the
    // card that lists the second.
    until_holds("the first box's card lists the second box", || async {
        devices_on_members_card(&first_box).await == [alice_peer.clone(), first_peer.clone(), second_peer.clone()]
    })
    .await;
    assert_eq!(first_box.node.cadre().list().await.unwrap().len(), 3);

    alice.node.cadre().revoke(&peer_of(&second_box)).await.unwrap();
    until_holds("the first box's card no longer lists the revoked box", || async {
        devices_on_members_card(&first_box).await == [alice_peer.clone(), first_peer.clone()]
    })
    .await;
    let listed = first_box.node.cadre().list().await.unwrap();
    assert_eq!(listed.len(), 2);
    assert!(listed.iter().all(|device| device.peer_id != peer_of(&second_box)));
    assert!(!listed[0].revoked && listed[0].this_device);

    // The revoked box, reachable, learns it: its own entry is marked.
    until_holds("the revoked box sees itself revoked", || async {
        let listed = second_box.node.cadre().list().await.unwrap();
        listed[0].this_device && listed[0].revoked
    })
    .await;
    assert!(!devices_on_members_card(&second_box).await.contains(&second_peer));
}

#[tokio::test]
async fn a_member_offline_at_a_revocation_gets_the_newer_card_when_it_comes_back() {
    let (alice, home_box) = alice_and_her_box().await;
    let phone = TestNode::start().await.unwrap();
    let link = alice.node.cadre().invite(HOUR).await.unwrap();
    phone.node.cadre().join(&link, Some("Phone")).await.unwrap();
    let phone_peer = phone.node.net().local_peer_id().to_bytes();
    until_holds("the home box's card lists the phone", || async {
        devices_on_members_card(&home_box).await.contains(&phone_peer)
    })
    .await;

    // The box is off while alice revokes the phone.
    let (dir, config) = home_box.stop().await;
    alice.node.cadre().revoke(&peer_of(&phone)).await.unwrap();
    let home_box = TestNode::start_in(dir, config).await.unwrap();

    // Back on, the box dials alice's devices; alice sends it her card.
    until_holds("the home box's card no longer lists the revoked phone", || async {
        !devices_on_members_card(&home_box).await.contains(&phone_peer)
    })
    .await;
    assert_eq!(devices_on_members_card(&home_box).await.len(), 2);
}

#[tokio::test]
async fn a_member_keeps_only_newer_cards_of_its_own_party() {
    let (alice, home_box) = alice_and_her_box().await;
    let mallory = node_of("Mallory").await;
    let cadre = ProtocolName::new("cadre").unwrap();
    let box_addresses = home_box.node.net().listen_addrs().await.unwrap();
    let ask = |node: &TestNode, card: Vec<u8>| {
        let net = node.node.net().clone();
        let cadre = cadre.clone();
        let to = home_box.node.net().local_peer_id();
        let addresses = box_addresses.clone();
        async move {
            for address in addresses {
                net.add_address(to, address).await.unwrap();
            }
            let answer = net
                .request(to, &cadre, CadreRequest::Card { card }.encode())
                .await
                .unwrap();
            CadreResponse::decode(&answer, &limits()).unwrap()
        }
    };

    // Another party's card, however new, is refused.
    let mallorys = mallory.node.contacts().my_card(None).await.unwrap();
    assert!(matches!(
        ask(&mallory, mallorys.bytes().to_vec()).await,
        CadreResponse::Refused {
            reason: CadreRefusal::BadRequest,
            ..
        }
    ));
    // A card no newer than the one kept is not kept; a newer one is.
    let kept = home_box.node.contacts().my_card(None).await.unwrap();
    assert_eq!(
        ask(&mallory, kept.bytes().to_vec()).await,
        CadreResponse::CardTaken {
            newer: false,
            listed: true
        }
    );
    tokio::time::sleep(Duration::from_millis(5)).await;
    let newer = alice.node.contacts().my_card(None).await.unwrap();
    assert!(newer.record().issued_at > kept.record().issued_at);
    assert!(matches!(
        ask(&mallory, newer.bytes().to_vec()).await,
        CadreResponse::CardTaken { listed: true, .. }
    ));
    // Ours, or one alice pushed after it.
    assert!(home_box.node.contacts().my_card(None).await.unwrap().record().issued_at >= newer.record().issued_at);
    // The main device itself is not a member: it refuses a card.
    let to_alice = {
        let net = mallory.node.net().clone();
        let to = alice.node.net().local_peer_id();
        for address in alice.node.net().listen_addrs().await.unwrap() {
            net.add_address(to, address).await.unwrap();
        }
        let answer = net
            .request(
                to,
                &cadre,
                CadreRequest::Card {
                    card: newer.bytes().to_vec(),
                }
                .encode(),
            )
            .await
            .unwrap();
        CadreResponse::decode(&answer, &limits()).unwrap()
    };
    assert!(matches!(
        to_alice,
        CadreResponse::Refused {
            reason: CadreRefusal::NotAMember,
            ..
        }
    ));
}

#[tokio::test]
async fn a_member_stays_a_member_after_a_restart_and_refuses_what_needs_the_party_secret() {
    let (alice, home_box) = alice_and_her_box().await;
    let before = home_box.node.identity().state().await.unwrap();
    let home_box = home_box.restart().await.unwrap();
    let after = home_box.node.identity().state().await.unwrap();
    assert!(matches!(after, IdentityState::Member { .. }), "{after:?}");
    assert_eq!(after, before);
    assert_eq!(after.party_id().unwrap().to_string(), party_of(&alice).await);

    let refused = home_box.node.identity().recovery_phrase().await.unwrap_err();
    assert!(
        matches!(refused, NodeError::Identity(IdentityError::NotTheMainDevice { .. })),
        "{refused}"
    );
    assert_eq!(
        refused.to_string(),
        "this device acts for Alice as one of its devices and does not hold the party secret; do this on Alice's main device"
    );
    let export = home_box
        .node
        .identity()
        .export_backup(&tallymesh_node::Passphrase::new("a long passphrase"))
        .await
        .unwrap_err();
    assert!(export.to_string().contains("main device"), "{export}");
    let create = home_box.node.identity().create("Mallory").await.unwrap_err();
    assert!(create.to_string().contains("main device"), "{create}");
    let invite = home_box.node.cadre().invite(HOUR).await.unwrap_err();
    assert!(invite.to_string().contains("main device"), "{invite}");
    let contact_invite = home_box
        .node
        .contacts()
        .my_card(Some(InviteSpec {
            reusable: false,
            expires_in: HOUR,
        }))
        .await
        .unwrap_err();
    assert!(contact_invite.to_string().contains("main device"), "{contact_invite}");

    // What it holds after the restart is still the party's card.
    let card = home_box.node.contacts().my_card(None).await.unwrap();
    assert_eq!(card.record().devices.len(), 2);
}

const KEY_PASSPHRASE: &str = "key file passphrase for the cadre";

fn tallymesh(args: &[&str], data_dir: &Path) -> Output {
    Command::new(tallymesh_scenarios::cli_binary())
        .args(args)
        .arg("--key-file")
        .arg("--data-dir")
        .arg(data_dir)
        .env_remove("TALLYMESH_DATA_DIR")
        .env("TALLYMESH_PASSPHRASE", KEY_PASSPHRASE)
        .output()
        .unwrap()
}

#[test]
fn a_headless_node_enrolls_a_relaying_box_and_revokes_it_with_the_command_line() {
    let alice = tempfile::tempdir().unwrap();
    let home_box = tempfile::tempdir().unwrap();
    succeeded(&tallymesh(&["id", "create", "Alice"], alice.path()));
    let nodes = vec![
        spawn_headless_node(alice.path(), KEY_PASSPHRASE).unwrap(),
        spawn_headless_node_with(home_box.path(), KEY_PASSPHRASE, &["--relay"]).unwrap(),
    ];
    for dir in [alice.path(), home_box.path()] {
        assert!(wait_for_control(dir), "the node in {} never answered", dir.display());
    }

    let link = succeeded(&tallymesh(&["cadre", "invite", "--expires", "1h"], alice.path()))
        .trim()
        .to_owned();
    assert!(link.starts_with("tallymesh:cadre?v=1&d="), "{link}");
    let joined = succeeded(&tallymesh(
        &["cadre", "join", &link, "--name", "Home box"],
        home_box.path(),
    ));
    assert!(joined.contains("Alice"), "{joined}");

    let shown: serde_json::Value =
        serde_json::from_str(&succeeded(&tallymesh(&["id", "show", "--json"], home_box.path()))).unwrap();
    assert_eq!(shown["state"], "member");
    let list = |dir: &Path| -> Vec<serde_json::Value> {
        serde_json::from_str(&succeeded(&tallymesh(&["cadre", "list", "--json"], dir))).unwrap()
    };
    let on_alice = list(alice.path());
    assert_eq!(on_alice.len(), 2, "{on_alice:?}");
    assert_eq!(on_alice[0]["thisDevice"], true);
    assert_eq!(on_alice[1]["name"], "Home box");
    assert_eq!(on_alice[1]["peerId"], shown["devicePeerId"]);
    assert_eq!(list(home_box.path()).len(), 2);

    let phrase = tallymesh(&["id", "phrase"], home_box.path());
    assert_eq!(phrase.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&phrase.stderr).contains("main device"));

    // The box relays for alice's node, which listens through it.
    let box_peer = shown["devicePeerId"].as_str().unwrap().to_owned();
    let through_box = format!("/p2p/{box_peer}/p2p-circuit");
    until_blocking("alice's node listens through the box's relay", || {
        let status = Command::new(tallymesh_scenarios::cli_binary())
            .args(["status", "--json", "--data-dir"])
            .arg(alice.path())
            .env_remove("TALLYMESH_DATA_DIR")
            .output()
            .unwrap();
        let status: serde_json::Value = serde_json::from_str(&succeeded(&status)).unwrap();
        status["listenAddrs"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a.as_str().unwrap().contains(&through_box))
            .then_some(())
    });

    // Revoked on the live main device: marked there, and the box learns it.
    let revoked = tallymesh(&["cadre", "revoke", &box_peer], alice.path());
    succeeded(&revoked);
    let told = String::from_utf8_lossy(&revoked.stderr);
    assert!(told.contains(&format!("Revoked {box_peer}")), "{told}");
    let on_alice = list(alice.path());
    assert_eq!(on_alice[1]["peerId"], box_peer.as_str());
    assert_eq!(on_alice[1]["revoked"], true);
    until_blocking("the box sees itself revoked", || {
        let on_box = list(home_box.path());
        (on_box[0]["thisDevice"] == true && on_box[0]["revoked"] == true).then_some(())
    });
    let again = tallymesh(&["cadre", "revoke", &box_peer], alice.path());
    assert_eq!(again.status.code(), Some(1));

    for node in nodes {
        assert!(stop_with_sigterm(node).unwrap().status.success());
    }
}

/// Sends `request` from `from` to `to` on the contact protocol; the answer.
async fn ask_contact(from: &TestNode, to: &TestNode, request: ContactRequest) -> ContactResponse {
    let peer = to.node.net().local_peer_id();
    for address in to.node.net().listen_addrs().await.unwrap() {
        from.node.net().add_address(peer, address).await.unwrap();
    }
    let protocol = ProtocolName::new("contact").unwrap();
    let answer = from
        .node
        .net()
        .request(peer, &protocol, request.encode())
        .await
        .unwrap();
    ContactResponse::decode(&answer, &contact_limits()).unwrap()
}

#[tokio::test]
async fn a_contact_drops_a_revoked_device_and_refuses_it_speaking_for_alice() {
    let (alice, home_box) = alice_and_her_box().await;
    let bob = node_of("Bob").await;
    let alice_party = party_of(&alice).await;
    let one_time = InviteSpec {
        reusable: false,
        expires_in: HOUR,
    };
    let link = alice.node.contacts().my_card_link(Some(one_time)).await.unwrap();
    bob.node.contacts().redeem_link(&link).await.unwrap();
    let box_peer = home_box.node.net().local_peer_id().to_bytes();
    let lists_box = |card: &tallymesh_core::record::Signed<ContactCard>| {
        card.record().devices.iter().any(|d| d.record().peer_id == box_peer)
    };
    assert!(lists_box(&bob.node.contacts().card(&alice_party).await.unwrap()));
    // The card the box holds now, which lists it.
    let box_card = home_box.node.contacts().my_card(None).await.unwrap();
    assert!(lists_box(&box_card));

    alice.node.cadre().revoke(&peer_of(&home_box)).await.unwrap();
    until_holds("bob keeps alice's newer card, without the box", || async {
        let card = bob.node.contacts().card(&alice_party).await.unwrap();
        !lists_box(&card) && card.record().devices.len() == 1
    })
    .await;

    // The box, with its older card, sends it as alice's: refused.
    let refused = ask_contact(
        &home_box,
        &bob,
        ContactRequest::Exchange {
            card: box_card.bytes().to_vec(),
        },
    )
    .await;
    assert!(
        matches!(&refused, ContactResponse::Refused { reason: Refusal::WrongDevice, message }
            if message == "This device is no longer on Alice's card."),
        "{refused:?}"
    );
    // Nor can it redeem an invite of bob's for alice; the invite stays unused.
    let bobs_card = bob.node.contacts().my_card(Some(one_time)).await.unwrap();
    let token = bobs_card.record().invite.as_ref().unwrap().token;
    let refused = ask_contact(
        &home_box,
        &bob,
        ContactRequest::Redeem {
            token,
            card: box_card.bytes().to_vec(),
        },
    )
    .await;
    assert!(
        matches!(
            refused,
            ContactResponse::Refused {
                reason: Refusal::WrongDevice,
                ..
            }
        ),
        "{refused:?}"
    );
    let invites = bob.node.contacts().list_invites().await.unwrap();
    let invite = invites
        .iter()
        .find(|i| i.token == tallymesh_node::contacts::token_to_hex(&token))
        .unwrap();
    assert_eq!(invite.times_used, 0);
    // Alice's own device still speaks for her.
    let mine = alice.node.contacts().my_card(None).await.unwrap();
    let accepted = ask_contact(
        &alice,
        &bob,
        ContactRequest::Exchange {
            card: mine.bytes().to_vec(),
        },
    )
    .await;
    assert!(matches!(accepted, ContactResponse::Accepted { .. }), "{accepted:?}");
}
