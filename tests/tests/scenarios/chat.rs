//! Chat between real nodes on 127.0.0.1: messages both ways with
//! receipts, a group of three parties, refusals of forged certificates and
//! altered ciphertext, sessions that survive a restart, a headless mailbox
//! that holds mail while its device is away (and drops it when it
//! expires), and message text that never reaches a mailbox's files or any
//! log.

use std::future::Future;
use std::time::Duration;

use tallymesh_core::device::DeviceCertificate;
use tallymesh_core::record::Signed;
use tallymesh_core::{PartyId, SecretKey, Timestamp};
use tallymesh_net::ProtocolName;
use tallymesh_node::chat::{ChatConfig, MessageBody, MessageStatus, MessageView};
use tallymesh_node::contacts::InviteSpec;
use tallymesh_node::{NodeConfig, NodeEvent};
use tallymesh_protocol::chat::{ChatRefusal, ChatRequest, ChatResponse, Sealed, SealedItem};
use tallymesh_scenarios::{TestNode, temp_data_dir, test_config};

/// Generous: a hang guard, not a speed requirement.
const PATIENCE: Duration = Duration::from_secs(90);

async fn node_of(name: &str) -> TestNode {
    let node = TestNode::start().await.unwrap();
    node.node.identity().create(name).await.unwrap();
    node
}

async fn party_of(node: &TestNode) -> String {
    node.node.identity().state().await.unwrap().party_id().unwrap().to_string()
}

/// Makes `b` a contact of `a` and `a` of `b`.
async fn befriend(a: &TestNode, b: &TestNode) {
    let link = a
        .node
        .contacts()
        .my_card_link(Some(InviteSpec {
            reusable: false,
            expires_in: Duration::from_secs(3_600),
        }))
        .await
        .unwrap();
    b.node.contacts().redeem_link(&link).await.unwrap();
}

/// Polls `check` until it gives a value, or fails the test after [`PATIENCE`].
async fn until<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let waited = tokio::time::timeout(PATIENCE, async {
        loop {
            if let Some(value) = check().await {
                return value;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await;
    match waited {
        Ok(value) => value,
        Err(_) => panic!("gave up waiting for {what}"),
    }
}

/// The messages of `node`'s conversation `conversation`.
async fn thread(node: &TestNode, conversation: &str) -> Vec<MessageView> {
    node.node.chat().messages(conversation, None, 200).await.unwrap_or_default()
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
    thread(node, conversation).await.into_iter().find(|m| m.id == id).map(|m| m.status)
}

#[tokio::test]
async fn two_parties_exchange_messages_both_ways_with_delivery_and_read_receipts() {
    let alice = node_of("Alice").await;
    let bob = node_of("Bob").await;
    befriend(&alice, &bob).await;
    let (alice_party, bob_party) = (party_of(&alice).await, party_of(&bob).await);

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

    let reply = bob.node.chat().send_text(&alice_party, "Yes, see you there").await.unwrap();
    received(&alice, &bob_party, "Yes, see you there").await;
    until("Bob to see his reply delivered", || async {
        (status_of(&bob, &reply.conversation, &reply.id).await == Some(MessageStatus::Delivered)).then_some(())
    })
    .await;
    let order: Vec<String> = thread(&alice, &sent.conversation).await.iter().map(|m| text_of(m).to_owned()).collect();
    assert_eq!(order, ["Lunch at one?", "Yes, see you there"]);
    alice.node.shutdown().await;
    bob.node.shutdown().await;
}
