//! Chat between real nodes on 127.0.0.1: messages both ways with
//! receipts, a group of three parties, refusals of forged certificates
//! (kept and passed on as evidence), foreign seals and altered ciphertext,
//! sessions that survive a restart, a headless mailbox
//! that holds mail while its device is away (and drops it when it
//! expires), events that wait for a device encrypted at rest, and message
//! text that never reaches a mailbox's files or any log.

use std::time::Duration;

use tallymesh_core::device::DeviceCertificate;
use tallymesh_core::record::Signed;
use tallymesh_core::{PartyId, SecretKey, Timestamp};
use tallymesh_net::ProtocolName;
use tallymesh_node::chat::{ChatConfig, MessageBody, MessageStatus, MessageView};
use tallymesh_protocol::chat::{ChatRefusal, ChatRequest, ChatResponse, Sealed, SealedItem};
use tallymesh_scenarios::{
    TEST_PASSPHRASE, TestNode, befriend, cli_binary, node_of, party_of, strikes_of, temp_data_dir, test_config, until,
    wait_for_control,
};

/// The messages of `node`'s conversation `conversation`.
async fn thread(node: &TestNode, conversation: &str) -> Vec<MessageView> {
    node.node
        .chat()
        .messages(conversation, None, 200)
        .await
        .unwrap_or_default()
}

fn text_of(message: &MessageView) -> &str {
    match &message.body {
        MessageBody::Text { text } => text,
        _ => "",
    }
}

/// Waits until `node` holds a message saying `text` in the one-to-one
/// conversation with `with`, and returns it.
async fn received(node: &TestNode, with: &str, text: &str) -> MessageView {
    let conversation = node.node.chat().conversation_with(with).await.unwrap().id;
    until(&format!("{text:?} to arrive"), || async {
        thread(node, &conversation)
            .await
            .into_iter()
            .find(|m| text_of(m) == text)
    })
    .await
}

async fn status_of(node: &TestNode, conversation: &str, id: &str) -> Option<MessageStatus> {
    thread(node, conversation)
        .await
        .into_iter()
        .find(|m| m.id == id)
        .map(|m| m.status)
}

#[tokio::test]
async fn two_parties_exchange_messages_both_ways_with_delivery_and_read_receipts() {
    let alice = node_of("Alice").await;
    let bob = node_of("Bob").await;
    let (alice_party, bob_party) = befriend(&alice, &bob).await;

    let sent = alice.node.chat().send_text(&bob_party, "Lunch at one?").await.unwrap();
    assert!(sent.outgoing);
    let got = received(&bob, &alice_party, "Lunch at one?").await;
    assert_eq!(got.status, MessageStatus::Received);
    assert_eq!(got.sender_party_id.as_deref(), Some(alice_party.as_str()));
    assert_eq!(got.id, sent.id);
    let bobs = bob.node.chat().conversation_with(&alice_party).await.unwrap();
    assert_eq!(bobs.unread, 1);
    assert_eq!(bobs.id, sent.conversation, "both sides name the conversation alike");

    until("Alice to see it delivered", || async {
        (status_of(&alice, &sent.conversation, &sent.id).await == Some(MessageStatus::Delivered)).then_some(())
    })
    .await;
    assert_eq!(bob.node.chat().mark_read(&bobs.id).await.unwrap(), 1);
    assert_eq!(bob.node.chat().conversation(&bobs.id).await.unwrap().unread, 0);
    until("Alice to see it read", || async {
        (status_of(&alice, &sent.conversation, &sent.id).await == Some(MessageStatus::Read)).then_some(())
    })
    .await;

    let reply = bob
        .node
        .chat()
        .send_text(&alice_party, "Yes, see you there")
        .await
        .unwrap();
    received(&alice, &bob_party, "Yes, see you there").await;
    until("Bob to see his reply delivered", || async {
        (status_of(&bob, &reply.conversation, &reply.id).await == Some(MessageStatus::Delivered)).then_some(())
    })
    .await;
    let order: Vec<String> = thread(&alice, &sent.conversation)
        .await
        .iter()
        .map(|m| text_of(m).to_owned())
        .collect();
    assert_eq!(order, ["Lunch at one?", "Yes, see you there"]);
    alice.node.shutdown().await;
    bob.node.shutdown().await;
}

#[tokio::test]
async fn a_group_of_three_parties_reaches_every_member() {
    let alice = node_of("Alice").await;
    let bob = node_of("Bob").await;
    let carol = node_of("Carol").await;
    befriend(&alice, &bob).await;
    befriend(&alice, &carol).await;
    befriend(&bob, &carol).await;
    let (bob_party, carol_party) = (party_of(&bob).await, party_of(&carol).await);

    let group = alice
        .node
        .chat()
        .create_group("Market stall", &[bob_party.clone(), carol_party.clone()])
        .await
        .unwrap();
    assert_eq!(group.members.len(), 3);
    alice.node.chat().send_text(&group.id, "Market at nine").await.unwrap();
    for member in [&bob, &carol] {
        until("the group's first message to reach every member", || async {
            thread(member, &group.id)
                .await
                .iter()
                .any(|m| text_of(m) == "Market at nine")
                .then_some(())
        })
        .await;
        let seen = member.node.chat().conversation(&group.id).await.unwrap();
        assert_eq!(seen.title, "Market stall");
        assert_eq!(seen.members.len(), 3);
    }

    carol
        .node
        .chat()
        .send_text(&group.id, "I'll bring apples")
        .await
        .unwrap();
    for member in [&alice, &bob] {
        until("Carol's answer to reach the others", || async {
            thread(member, &group.id)
                .await
                .iter()
                .any(|m| {
                    text_of(m) == "I'll bring apples" && m.sender_party_id.as_deref() == Some(carol_party.as_str())
                })
                .then_some(())
        })
        .await;
    }
    for node in [alice, bob, carol] {
        node.node.shutdown().await;
    }
}

/// A device the test plays itself, for a party whose key the test holds:
/// its Olm account, its certificate and the node that carries its bytes
/// (whose device key seals its items).
struct Dora {
    party_key: SecretKey,
    account: vodozemac::olm::Account,
    carrier: TestNode,
    device_key: SecretKey,
}

impl Dora {
    async fn new() -> Dora {
        let carrier = TestNode::start().await.unwrap();
        Dora {
            party_key: SecretKey::from_seed(&[0x0d; 32]),
            account: vodozemac::olm::Account::new(),
            device_key: crate::trust::device_key(&carrier),
            carrier,
        }
    }

    fn party(&self) -> PartyId {
        PartyId::new(self.party_key.public())
    }

    /// A certificate of Dora's device, signed by `signer`.
    fn certificate(&self, signer: &SecretKey) -> Signed<DeviceCertificate> {
        self.certificate_of(&self.carrier, signer)
    }

    /// A certificate naming Dora's party and the device `node`, signed by
    /// `signer`.
    fn certificate_of(&self, node: &TestNode, signer: &SecretKey) -> Signed<DeviceCertificate> {
        Signed::sign(
            DeviceCertificate {
                party: self.party(),
                peer_id: node.node.net().local_peer_id().to_bytes(),
                name: "Dora's phone".into(),
                issued_at: Timestamp::from_millis(now_ms()),
                chat_identity_key: Some(self.account.curve25519_key().to_bytes()),
                expires_at: None,
            },
            signer,
        )
    }

    /// Makes Dora a contact of `node`, and lets her carrier reach it.
    async fn introduce(&self, node: &TestNode) {
        let card = Signed::sign(
            tallymesh_core::card::ContactCard {
                name: "Dora".into(),
                party: self.party(),
                devices: vec![self.certificate(&self.party_key)],
                addresses: Vec::new(),
                issued_at: Timestamp::from_millis(now_ms()),
                invite: None,
            },
            &self.party_key,
        );
        node.node.contacts().add(card).await.unwrap();
        reach(&self.carrier, node).await;
    }

    async fn ask(&self, to: &TestNode, request: &ChatRequest) -> ChatResponse {
        ask_from(&self.carrier, to, request).await
    }

    /// An Olm session with `to`'s device, from a one-time key it hands out.
    async fn session_with(&self, to: &TestNode) -> vodozemac::olm::Session {
        let claim = ChatRequest::Claim {
            device: to.node.net().local_peer_id().to_bytes(),
        };
        let ChatResponse::Key { key } = self.ask(to, &claim).await else {
            panic!("no one-time key was handed out");
        };
        let key = Signed::<tallymesh_protocol::chat::ChatKey>::from_bytes(&key).unwrap();
        self.account
            .create_outbound_session(
                vodozemac::olm::SessionConfig::version_1(),
                vodozemac::Curve25519PublicKey::from_bytes(key.record().identity_key),
                vodozemac::Curve25519PublicKey::from_bytes(key.record().key),
            )
            .unwrap()
    }

    /// The first message of a new Olm session with `to`'s device (a pre-key
    /// message): `text` in the one-to-one conversation with `to`'s party.
    async fn opening_message(&self, to: &TestNode, text: &str) -> Vec<u8> {
        let to_key = *party_of(to).await.parse::<PartyId>().unwrap().key().as_bytes();
        let mut session = self.session_with(to).await;
        let event = tallymesh_protocol::chat::ChatEvent::Message {
            conversation: tallymesh_protocol::chat::direct_conversation(self.party().key().as_bytes(), &to_key),
            id: tallymesh_protocol::chat::Ulid::from_parts(now_ms(), [1; 10]).to_bytes(),
            peer: None,
            body: tallymesh_protocol::chat::Body::Text(text.into()),
        };
        let vodozemac::olm::OlmMessage::PreKey(message) = session.encrypt(event.encode()).unwrap() else {
            panic!("the first message of a session is a pre-key message");
        };
        message.to_bytes()
    }

    /// An item sealed by Dora's device.
    fn item(&self, certificate: &Signed<DeviceCertificate>, sealed: Sealed, id: u8) -> SealedItem {
        item_sealed_by(&self.device_key, certificate, sealed, id)
    }
}

fn item_sealed_by(device: &SecretKey, certificate: &Signed<DeviceCertificate>, sealed: Sealed, id: u8) -> SealedItem {
    SealedItem {
        id: [id; 16],
        certificate: certificate.bytes().to_vec(),
        sealed,
        expires_at_ms: now_ms() + 60_000,
        ephemeral: false,
        seal: Vec::new(),
    }
    .sealed_by(device)
}

/// Lets `from` reach `to` at its listen addresses, and waits until they
/// are connected.
async fn reach(from: &TestNode, to: &TestNode) {
    let peer = to.node.net().local_peer_id();
    for address in to.node.net().listen_addrs().await.unwrap() {
        from.node.net().add_address(peer, address).await.unwrap();
    }
    until("the two nodes to be connected", || async {
        if from.node.net().connected_peers().await.ok()?.contains(&peer) {
            return Some(());
        }
        for address in to.node.net().listen_addrs().await.ok()? {
            let _ = from.node.net().dial(address).await;
        }
        None
    })
    .await;
}

/// Sends raw chat bytes from `from`'s node to `to`, and reads the answer.
async fn ask_from(from: &TestNode, to: &TestNode, request: &ChatRequest) -> ChatResponse {
    let protocol = ProtocolName::new("chat").unwrap();
    let answer = from
        .node
        .net()
        .request(to.node.net().local_peer_id(), &protocol, request.encode())
        .await
        .unwrap();
    ChatResponse::decode(&answer).unwrap()
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis()
        .try_into()
        .unwrap()
}

#[tokio::test]
async fn altered_ciphertext_a_foreign_seal_and_a_forged_device_certificate_are_refused_and_the_forgery_is_evidence() {
    let bob = node_of("Bob").await;
    let carol = node_of("Carol").await;
    befriend(&bob, &carol).await;
    let dora = Dora::new().await;
    dora.introduce(&bob).await;
    let to = bob.node.net().local_peer_id().to_bytes();
    let carrier = dora.carrier.node.net().local_peer_id().to_string();
    let genuine = dora.opening_message(&bob, "Genuine words").await;
    let certificate = dora.certificate(&dora.party_key);

    // One byte of the ciphertext changed: it does not decrypt.
    let mut altered = genuine.clone();
    let last = altered.len() - 1;
    altered[last] ^= 0x01;
    let item = dora.item(&certificate, Sealed::OlmPreKey(altered), 1);
    let answer = dora.ask(&bob, &ChatRequest::Deliver { to: to.clone(), item }).await;
    assert!(
        matches!(
            answer,
            ChatResponse::Refused {
                reason: ChatRefusal::Undecryptable,
                ..
            }
        ),
        "{answer:?}"
    );
    assert_eq!(strikes_of(&bob, &carrier).await, 1);

    // Dora's genuine certificate, but the item sealed by another device.
    let stranger = SecretKey::from_seed(&[0x55; 32]);
    let item = item_sealed_by(&stranger, &certificate, Sealed::OlmPreKey(genuine.clone()), 2);
    let answer = dora.ask(&bob, &ChatRequest::Deliver { to: to.clone(), item }).await;
    assert!(
        matches!(
            answer,
            ChatResponse::Refused {
                reason: ChatRefusal::BadCertificate,
                ..
            }
        ),
        "{answer:?}"
    );
    assert_eq!(strikes_of(&bob, &carrier).await, 2);

    // Mallory's device claims to be Dora's: a certificate naming Dora's
    // party and Mallory's device, signed by Mallory, on an item Mallory's
    // device sealed.
    let mallory = TestNode::start().await.unwrap();
    let mallory_peer = mallory.node.net().local_peer_id().to_string();
    // Carol has dealt with Mallory's device before (evidence about a node
    // one never dealt with is not kept): it sent her an item sealed under
    // Dora's genuine certificate, which she refused with a strike.
    let item = item_sealed_by(
        &crate::trust::device_key(&mallory),
        &certificate,
        Sealed::OlmPreKey(genuine.clone()),
        5,
    );
    reach(&mallory, &carol).await;
    let carol_peer = carol.node.net().local_peer_id().to_bytes();
    let answer = ask_from(&mallory, &carol, &ChatRequest::Deliver { to: carol_peer, item }).await;
    assert!(
        matches!(
            answer,
            ChatResponse::Refused {
                reason: ChatRefusal::BadCertificate,
                ..
            }
        ),
        "{answer:?}"
    );
    until("Mallory's device scored at Carol", || async {
        let list = carol.node.trust().list().await.unwrap();
        list.into_iter().find(|score| score.subject == mallory_peer)
    })
    .await;
    assert!(carol.node.trust().evidence().await.unwrap().is_empty());
    let forged = dora.certificate_of(&mallory, &SecretKey::from_seed(&[0x66; 32]));
    let item = item_sealed_by(
        &crate::trust::device_key(&mallory),
        &forged,
        Sealed::OlmPreKey(genuine.clone()),
        3,
    );
    reach(&mallory, &bob).await;
    let answer = ask_from(&mallory, &bob, &ChatRequest::Deliver { to: to.clone(), item }).await;
    assert!(
        matches!(
            answer,
            ChatResponse::Refused {
                reason: ChatRefusal::BadCertificate,
                ..
            }
        ),
        "{answer:?}"
    );
    assert_eq!(strikes_of(&bob, &mallory_peer).await, 1);

    // Bob keeps verified evidence against Mallory's device (not Dora: the
    // party named is the victim), and it drops that device's score.
    let dora_party = dora.party().to_string();
    let evidence = until("the forgery kept as evidence", || async {
        bob.node
            .trust()
            .evidence()
            .await
            .unwrap()
            .into_iter()
            .find(|e| e.kind == "forged-certificate")
    })
    .await;
    assert_eq!(evidence.node, mallory_peer);
    assert_eq!(evidence.party_id, None);
    assert_eq!(evidence.reported_by, None);
    assert!(
        evidence
            .summary
            .contains(&format!("device certificate {dora_party} never signed")),
        "{}",
        evidence.summary
    );
    // The evidence is kept first and the score follows it.
    let mallory_trust = until("the evidence to convict Mallory's device", || async {
        let trust = bob.node.trust().show(&mallory_peer).await.ok()?;
        trust.score.convicted.then_some(trust)
    })
    .await;
    assert!(mallory_trust.events.iter().any(|e| e.kind == "evidence"));
    assert!(!bob.node.trust().show(&dora_party).await.unwrap().score.convicted);
    // Passed on: Carol, Bob's contact, who has dealt with Mallory's
    // device, checks it alone and keeps it too.
    let passed = until("the evidence at Carol", || async {
        carol
            .node
            .trust()
            .evidence()
            .await
            .unwrap()
            .into_iter()
            .find(|e| e.offence == evidence.offence)
    })
    .await;
    assert_eq!(passed.node, mallory_peer);
    assert!(passed.reported_by.is_some());

    // Nothing of any of them was kept; the genuine item is.
    let conversation = bob.node.chat().conversation_with(&dora_party).await.unwrap().id;
    assert!(thread(&bob, &conversation).await.is_empty());
    let item = dora.item(&certificate, Sealed::OlmPreKey(genuine), 4);
    let answer = dora.ask(&bob, &ChatRequest::Deliver { to, item }).await;
    assert_eq!(answer, ChatResponse::Taken { held: false });
    let kept = thread(&bob, &conversation).await;
    assert_eq!(kept.len(), 1);
    assert_eq!(text_of(&kept[0]), "Genuine words");
    assert_eq!(kept[0].sender_party_id.as_deref(), Some(dora_party.as_str()));
    for node in [bob, carol, mallory, dora.carrier] {
        node.node.shutdown().await;
    }
}

/// An item its sender hands over again (its answer was lost) is taken
/// once: the copy is answered as taken, kept nowhere twice and costs the
/// sender nothing — also after a restart, when the item's message key is
/// long used up and a second decryption would fail.
#[tokio::test]
async fn an_item_handed_over_again_is_taken_once_also_after_a_restart() {
    let bob = node_of("Bob").await;
    let dora = Dora::new().await;
    dora.introduce(&bob).await;
    let to = bob.node.net().local_peer_id().to_bytes();
    let carrier = dora.carrier.node.net().local_peer_id();
    let opening = dora.opening_message(&bob, "Only once").await;
    let item = dora.item(&dora.certificate(&dora.party_key), Sealed::OlmPreKey(opening), 9);
    let deliver = ChatRequest::Deliver { to, item };
    let conversation = bob
        .node
        .chat()
        .conversation_with(&dora.party().to_string())
        .await
        .unwrap()
        .id;
    for _ in 0..2 {
        assert_eq!(dora.ask(&bob, &deliver).await, ChatResponse::Taken { held: false });
    }
    assert_eq!(thread(&bob, &conversation).await.len(), 1);

    let bob = bob.restart().await.unwrap();
    reach(&dora.carrier, &bob).await;
    assert_eq!(
        dora.ask(&bob, &deliver).await,
        ChatResponse::Taken { held: false },
        "a copy after a restart is known as taken, not decrypted again"
    );
    let kept = thread(&bob, &conversation).await;
    assert_eq!(kept.len(), 1);
    assert_eq!(text_of(&kept[0]), "Only once");
    assert_eq!(strikes_of(&bob, carrier).await, 0);
    bob.node.shutdown().await;
    dora.carrier.node.shutdown().await;
}

#[tokio::test]
async fn a_restart_keeps_the_sessions_and_the_chat_key() {
    let alice = node_of("Alice").await;
    let bob = node_of("Bob").await;
    let (alice_party, bob_party) = befriend(&alice, &bob).await;
    alice
        .node
        .chat()
        .send_text(&bob_party, "Before the restart")
        .await
        .unwrap();
    received(&bob, &alice_party, "Before the restart").await;
    bob.node.chat().send_text(&alice_party, "Got it").await.unwrap();
    received(&alice, &bob_party, "Got it").await;
    let key_before = bob
        .node
        .identity()
        .device_certificate()
        .await
        .unwrap()
        .record()
        .chat_identity_key;
    assert!(key_before.is_some());

    let bob = bob.restart().await.unwrap();
    let key_after = bob
        .node
        .identity()
        .device_certificate()
        .await
        .unwrap()
        .record()
        .chat_identity_key;
    assert_eq!(key_before, key_after, "the chat identity key survives a restart");
    // Bob listens on new ports: Alice learns them from his newer card.
    alice
        .node
        .contacts()
        .add(bob.node.contacts().my_card(None).await.unwrap())
        .await
        .unwrap();
    alice
        .node
        .chat()
        .send_text(&bob_party, "After the restart")
        .await
        .unwrap();
    received(&bob, &alice_party, "After the restart").await;
    bob.node.chat().send_text(&alice_party, "Still here").await.unwrap();
    received(&alice, &bob_party, "Still here").await;
    let earlier = received(&bob, &alice_party, "Before the restart").await;
    assert_eq!(earlier.status, MessageStatus::Received);
    alice.node.shutdown().await;
    bob.node.shutdown().await;
}

/// Bob's main device, and his always-on box that only holds mail.
async fn bob_with_a_mailbox(chat: ChatConfig) -> (TestNode, TestNode) {
    let bob = node_of("Bob").await;
    let dir = temp_data_dir().unwrap();
    let config = test_config(dir.path()).with_chat(ChatConfig {
        participate: false,
        ..chat
    });
    let bob_box = TestNode::start_in(dir, config).await.unwrap();
    let link = bob.node.cadre().invite(Duration::from_secs(3_600)).await.unwrap();
    bob_box.node.cadre().join(&link, Some("Home box")).await.unwrap();
    let box_peer = bob_box.node.net().local_peer_id().to_string();
    let bob_peer = bob.node.net().local_peer_id().to_string();
    until(
        "Bob's device to hear of its mailbox, and the box to hold Bob's keys",
        || async {
            let knows = bob
                .node
                .chat()
                .mailbox_status()
                .await
                .ok()?
                .mailboxes
                .contains(&box_peer);
            let keys = bob_box
                .node
                .chat()
                .mailbox_status()
                .await
                .ok()?
                .held
                .iter()
                .any(|h| h.peer_id == bob_peer && h.keys > 0);
            (knows && keys).then_some(())
        },
    )
    .await;
    (bob, bob_box)
}

async fn held_for(bob_box: &TestNode, device: &str) -> u64 {
    bob_box
        .node
        .chat()
        .mailbox_status()
        .await
        .unwrap()
        .held
        .iter()
        .find(|h| h.peer_id == device)
        .map_or(0, |h| h.items)
}

#[tokio::test]
async fn a_message_to_an_offline_device_is_held_by_its_mailbox_and_delivered_when_it_returns() {
    let alice = node_of("Alice").await;
    let (bob, bob_box) = bob_with_a_mailbox(ChatConfig::default()).await;
    let (alice_party, bob_party) = befriend(&alice, &bob).await;
    let bob_peer = bob.node.net().local_peer_id().to_string();
    assert!(
        bob_box.node.chat().send_text(&alice_party, "x").await.is_err(),
        "a mailbox does not chat"
    );

    // Bob goes away before Alice ever wrote to him: the session starts from
    // a one-time key his mailbox hands out.
    let (dir, config) = bob.stop().await;
    let sent = alice
        .node
        .chat()
        .send_text(&bob_party, "Sent while you were away")
        .await
        .unwrap();
    until("the mailbox to hold it", || async {
        (status_of(&alice, &sent.conversation, &sent.id).await == Some(MessageStatus::Held)).then_some(())
    })
    .await;
    assert_eq!(held_for(&bob_box, &bob_peer).await, 1);

    let bob = TestNode::start_in(dir, config).await.unwrap();
    let got = received(&bob, &alice_party, "Sent while you were away").await;
    assert_eq!(got.id, sent.id);
    until("the mailbox to drop what it handed over", || async {
        (held_for(&bob_box, &bob_peer).await == 0).then_some(())
    })
    .await;
    until("Alice to see it delivered", || async {
        (status_of(&alice, &sent.conversation, &sent.id).await == Some(MessageStatus::Delivered)).then_some(())
    })
    .await;
    for node in [alice, bob, bob_box] {
        node.node.shutdown().await;
    }
}

#[tokio::test]
async fn messages_written_while_a_device_is_away_travel_together_and_all_arrive_in_order_and_delivered() {
    let alice = node_of("Alice").await;
    let (bob, bob_box) = bob_with_a_mailbox(ChatConfig::default()).await;
    let (alice_party, bob_party) = befriend(&alice, &bob).await;
    let bob_peer = bob.node.net().local_peer_id().to_string();

    let (dir, config) = bob.stop().await;
    const COUNT: usize = 40;
    let mut sent = Vec::with_capacity(COUNT);
    for n in 0..COUNT {
        let message = alice
            .node
            .chat()
            .send_text(&bob_party, &format!("away {n}"))
            .await
            .unwrap();
        sent.push(message);
    }
    let conversation = sent[0].conversation.clone();
    until("the mailbox to hold all of them", || async {
        let thread = thread(&alice, &conversation).await;
        (thread.len() == COUNT && thread.iter().all(|m| m.status == MessageStatus::Held)).then_some(())
    })
    .await;
    let items = held_for(&bob_box, &bob_peer).await;
    assert!(
        items < COUNT as u64,
        "events waiting for the same device are sealed together: {items} items for {COUNT} messages"
    );
    assert!(
        items >= COUNT.div_ceil(tallymesh_protocol::chat::MAX_EVENTS_PER_ITEM) as u64,
        "no item carries more than its limit of events: {items} items"
    );

    let bob = TestNode::start_in(dir, config).await.unwrap();
    received(&bob, &alice_party, &format!("away {}", COUNT - 1)).await;
    let bobs_conversation = bob.node.chat().conversation_with(&alice_party).await.unwrap().id;
    let got: Vec<String> = thread(&bob, &bobs_conversation)
        .await
        .iter()
        .map(|m| m.id.clone())
        .collect();
    let ids: Vec<String> = sent.iter().map(|m| m.id.clone()).collect();
    assert_eq!(got, ids, "every message arrived once, in the order it was written");
    until("Alice to see every one delivered", || async {
        let thread = thread(&alice, &conversation).await;
        (thread.len() == COUNT && thread.iter().all(|m| m.status == MessageStatus::Delivered)).then_some(())
    })
    .await;
    for node in [alice, bob, bob_box] {
        node.node.shutdown().await;
    }
}

#[tokio::test]
async fn a_revoked_device_is_refused_right_after_its_revocation_though_its_party_was_just_read() {
    let (bob, bob_box) = bob_with_a_mailbox(ChatConfig::default()).await;
    let box_peer = bob_box.node.net().local_peer_id();
    let announce = ChatRequest::Mailbox { addresses: Vec::new() };
    let fetch = ChatRequest::Fetch { keys: Vec::new() };
    let ack = ChatRequest::Ack { ids: vec![[7; 16]] };
    let claim = ChatRequest::Claim {
        device: box_peer.to_bytes(),
    };
    // Bob answers his box as one of his devices: what he knows of his
    // devices was read just now, and is kept in memory.
    for request in [&announce, &fetch, &ack] {
        let answer = ask_from(&bob_box, &bob, request).await;
        assert!(
            matches!(answer, ChatResponse::Done { .. } | ChatResponse::Items { .. }),
            "{answer:?}"
        );
    }
    let answer = ask_from(&bob_box, &bob, &claim).await;
    assert!(
        matches!(
            answer,
            ChatResponse::Refused {
                reason: ChatRefusal::NoKeys,
                ..
            }
        ),
        "a box that does not chat has no keys to hand out, but is one of Bob's devices: {answer:?}"
    );

    bob.node.cadre().revoke(&box_peer.to_string()).await.unwrap();
    // At once, with nothing waited for: the revoked box is no longer one of
    // Bob's devices, neither to fetch or acknowledge mail, nor to hold it,
    // nor to have its keys handed out.
    for request in [&announce, &fetch, &ack, &claim] {
        let answer = ask_from(&bob_box, &bob, request).await;
        assert!(
            matches!(
                answer,
                ChatResponse::Refused {
                    reason: ChatRefusal::NotHere,
                    ..
                }
            ),
            "{request:?} from a revoked device: {answer:?}"
        );
    }
    for node in [bob, bob_box] {
        node.node.shutdown().await;
    }
}

#[tokio::test]
async fn a_mailbox_drops_what_expires_before_its_device_returns() {
    let alice = node_of("Alice").await;
    let (bob, bob_box) = bob_with_a_mailbox(ChatConfig {
        mailbox_hold: Duration::from_secs(2),
        ..ChatConfig::default()
    })
    .await;
    let (alice_party, bob_party) = befriend(&alice, &bob).await;
    let bob_peer = bob.node.net().local_peer_id().to_string();

    let (dir, config) = bob.stop().await;
    let sent = alice
        .node
        .chat()
        .send_text(&bob_party, "This will expire")
        .await
        .unwrap();
    until("the mailbox to hold it", || async {
        (status_of(&alice, &sent.conversation, &sent.id).await == Some(MessageStatus::Held)).then_some(())
    })
    .await;
    // Bob is still away, so the item can only leave the mailbox by expiring.
    until("the mailbox to drop the expired item", || async {
        (held_for(&bob_box, &bob_peer).await == 0).then_some(())
    })
    .await;

    let bob = TestNode::start_in(dir, config).await.unwrap();
    // The mailbox holds items for two seconds only, so the message that shows
    // Bob caught up must go to him directly, not through the mailbox.
    reach(&alice, &bob).await;
    alice
        .node
        .chat()
        .send_text(&bob_party, "After the expiry")
        .await
        .unwrap();
    received(&bob, &alice_party, "After the expiry").await;
    let conversation = bob.node.chat().conversation_with(&alice_party).await.unwrap().id;
    assert!(
        !thread(&bob, &conversation)
            .await
            .iter()
            .any(|m| text_of(m) == "This will expire"),
        "an expired item is never handed over"
    );
    for node in [alice, bob, bob_box] {
        node.node.shutdown().await;
    }
}

/// Log output, kept in memory.
#[derive(Clone, Default)]
struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// `tallymesh node run --mailbox-only` in `dir` on `listen`, logging
/// everything; its stderr goes to the file `stderr` (a pipe nobody reads
/// would fill up). An always-on mailbox keeps its address across restarts.
fn spawn_mailbox(dir: &std::path::Path, listen: &str, stderr: &std::path::Path) -> std::process::Child {
    std::process::Command::new(cli_binary())
        .args([
            "node",
            "run",
            "--key-file",
            "--mailbox-only",
            "--listen",
            listen,
            "--no-lan-discovery",
            "--dht-server",
            "--data-dir",
        ])
        .arg(dir)
        .env_remove("TALLYMESH_DATA_DIR")
        .env("TALLYMESH_PASSPHRASE", TEST_PASSPHRASE)
        .env("RUST_LOG", "trace")
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(stderr).unwrap())
        .spawn()
        .unwrap()
}

/// Stops a node with SIGTERM and waits for it.
async fn stop(mut node: std::process::Child) {
    let pid = node.id().to_string();
    tokio::task::spawn_blocking(move || {
        std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap();
        node.wait().unwrap();
    })
    .await
    .unwrap();
}

/// Runs the `tallymesh` binary with `args` on the data directory `dir`.
async fn cli(dir: &std::path::Path, args: &[&str]) -> String {
    let mut command = std::process::Command::new(cli_binary());
    command
        .args(args)
        .arg("--data-dir")
        .arg(dir)
        .env_remove("TALLYMESH_DATA_DIR");
    let output = tokio::task::spawn_blocking(move || command.output())
        .await
        .unwrap()
        .unwrap();
    tallymesh_scenarios::succeeded(&output)
}

async fn ready(dir: &std::path::Path) {
    let dir = dir.to_owned();
    assert!(
        tokio::task::spawn_blocking(move || wait_for_control(&dir))
            .await
            .unwrap()
    );
}

/// Every file under `dir`, with its bytes.
fn files_under(dir: &std::path::Path) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(files_under(&path));
        } else if let Ok(bytes) = std::fs::read(&path) {
            found.push((path, bytes));
        }
    }
    found
}

fn holds(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[cfg(unix)]
#[tokio::test]
async fn message_text_never_reaches_a_headless_mailboxs_files_nor_any_log() {
    const SECRET: &str = "Meet me by the old mill at dawn, 7431";
    let captured = Captured::default();
    let memory = captured.clone();
    let subscriber = {
        use tracing_subscriber::layer::SubscriberExt;
        tracing_subscriber::registry()
            .with(tracing_subscriber::EnvFilter::new("trace"))
            .with(
                tracing_subscriber::fmt::layer()
                    .with_writer(move || memory.clone())
                    .with_ansi(false),
            )
    };
    // The test's runtime runs every task of the two nodes on this thread.
    let _recording = tracing::subscriber::set_default(subscriber);

    let alice = node_of("Alice").await;
    let bob = node_of("Bob").await;
    let box_dir = temp_data_dir().unwrap();
    let stderr_dir = temp_data_dir().unwrap();
    let stderr_file = stderr_dir.path().join("mailbox.stderr");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let listen = format!("/ip4/127.0.0.1/tcp/{port}");
    let mailbox = spawn_mailbox(box_dir.path(), &listen, &stderr_file);
    ready(box_dir.path()).await;
    let link = bob.node.cadre().invite(Duration::from_secs(3_600)).await.unwrap();
    cli(box_dir.path(), &["cadre", "join", &link, "--name", "Home box"]).await;
    let bob_peer = bob.node.net().local_peer_id().to_string();
    until("the headless mailbox to hold Bob's keys", || async {
        let status = cli(box_dir.path(), &["mailbox", "status", "--json"]).await;
        let status: serde_json::Value = serde_json::from_str(&status).unwrap();
        let keys = status["held"]
            .as_array()?
            .iter()
            .any(|h| h["peerId"] == bob_peer.as_str() && h["keys"].as_u64() > Some(0));
        let known = !bob.node.chat().mailbox_status().await.ok()?.mailboxes.is_empty();
        (keys && known).then_some(())
    })
    .await;
    let (alice_party, bob_party) = befriend(&alice, &bob).await;

    let (dir, config) = bob.stop().await;
    let sent = alice.node.chat().send_text(&bob_party, SECRET).await.unwrap();
    until("the headless mailbox to hold it", || async {
        (status_of(&alice, &sent.conversation, &sent.id).await == Some(MessageStatus::Held)).then_some(())
    })
    .await;
    let status = cli(box_dir.path(), &["mailbox", "status"]).await;
    assert!(status.contains("1 items"), "{status}");

    // Stopped, the mailbox's database and logs are all on disk.
    stop(mailbox).await;
    let stderr = std::fs::read(&stderr_file).unwrap();
    assert!(
        holds(&stderr, b"holding an item for a device of the party"),
        "the mailbox logged at trace level while it held the item"
    );
    let files = files_under(box_dir.path());
    assert!(
        files
            .iter()
            .any(|(path, _)| path.to_string_lossy().ends_with(".sqlite"))
    );
    assert!(files.iter().any(|(path, _)| path.to_string_lossy().contains("logs")));
    for (path, bytes) in &files {
        assert!(
            !holds(bytes, SECRET.as_bytes()),
            "the message text is in {}",
            path.display()
        );
    }
    assert!(
        !holds(&stderr, SECRET.as_bytes()),
        "the message text is in the mailbox's stderr"
    );

    // The mailbox comes back, then Bob: he gets what it held.
    let mailbox = spawn_mailbox(box_dir.path(), &listen, &stderr_file);
    ready(box_dir.path()).await;
    let bob = TestNode::start_in(dir, config).await.unwrap();
    let got = received(&bob, &alice_party, SECRET).await;
    assert_eq!(got.id, sent.id);
    // Bob's mailbox dropped what it handed over (Bob acknowledged it).
    until("the mailbox to drop what it handed over", || async {
        let status = cli(box_dir.path(), &["mailbox", "status", "--json"]).await;
        let status: serde_json::Value = serde_json::from_str(&status).unwrap();
        let held = status["held"]
            .as_array()?
            .iter()
            .find(|h| h["peerId"] == bob_peer.as_str())
            .and_then(|h| h["items"].as_u64())
            .unwrap_or(0);
        (held == 0).then_some(())
    })
    .await;
    stop(mailbox).await;
    let stderr = std::fs::read(&stderr_file).unwrap();
    assert!(
        !holds(&stderr, SECRET.as_bytes()),
        "the message text is in the mailbox's stderr"
    );
    for (path, bytes) in files_under(box_dir.path()) {
        assert!(
            !holds(&bytes, SECRET.as_bytes()),
            "the message text is in {}",
            path.display()
        );
    }
    alice.node.shutdown().await;
    bob.node.shutdown().await;
    let logs = captured.0.lock().unwrap().clone();
    assert!(
        holds(&logs, b"tallymesh_node::chat"),
        "the nodes' chat logs were recorded"
    );
    assert!(
        !holds(&logs, SECRET.as_bytes()),
        "the message text is in the nodes' logs"
    );
}

#[tokio::test]
async fn events_waiting_for_a_device_without_a_session_are_encrypted_on_disk_and_go_out_after_a_restart() {
    let alice = node_of("Alice").await;
    let bob = node_of("Bob").await;
    let (alice_party, bob_party) = befriend(&alice, &bob).await;
    let bob_peer = bob.node.net().local_peer_id().to_string();
    // Bob is away before any session with his device was made, and no
    // mailbox holds his one-time keys: what Alice writes him waits unsealed.
    let (bob_dir, bob_config) = bob.stop().await;
    alice
        .node
        .chat()
        .send_text(&bob_party, "the safe code is 4711")
        .await
        .unwrap();
    let group = alice
        .node
        .chat()
        .create_group("Secret garden club", std::slice::from_ref(&bob_party))
        .await
        .unwrap();
    alice
        .node
        .chat()
        .send_text(&group.id, "meet at the gate")
        .await
        .unwrap();

    let (alice_dir, alice_config) = alice.stop().await;
    let store = tallymesh_store::Store::open(&alice_dir.path().join("tallymesh.sqlite"))
        .await
        .unwrap();
    let waiting = store.chat_outbox_of(&bob_peer, 0, 100).await.unwrap();
    store.close().await;
    let unsealed: Vec<_> = waiting.iter().filter(|row| !row.sealed).collect();
    assert_eq!(
        unsealed.len(),
        2,
        "the message and the group's room key wait unsealed: {waiting:?}"
    );
    for row in &waiting {
        for clear in [&b"4711"[..], b"Secret garden", b"meet at the gate"] {
            assert!(
                !row.item.windows(clear.len()).any(|w| w == clear),
                "an outbox item holds {:?} in clear",
                String::from_utf8_lossy(clear)
            );
        }
    }
    assert!(
        unsealed.iter().all(|row| row.item.first() == Some(&1)),
        "unsealed events are kept encrypted at rest"
    );

    let alice = TestNode::start_in(alice_dir, alice_config).await.unwrap();
    let bob = TestNode::start_in(bob_dir, bob_config).await.unwrap();
    // Bob listens on new ports: Alice learns them from his newer card.
    alice
        .node
        .contacts()
        .add(bob.node.contacts().my_card(None).await.unwrap())
        .await
        .unwrap();
    received(&bob, &alice_party, "the safe code is 4711").await;
    until("the group message to arrive", || async {
        thread(&bob, &group.id)
            .await
            .into_iter()
            .find(|m| text_of(m) == "meet at the gate")
    })
    .await;
    for node in [alice, bob] {
        node.node.shutdown().await;
    }
}
