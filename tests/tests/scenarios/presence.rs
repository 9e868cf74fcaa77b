//! Presence between real nodes on 127.0.0.1: contacts online while
//! connected with a round trip, offline with a last-seen time when their
//! node stops, reconnected after a restart, found again when both moved to
//! new ports, and reached again through the card in the DHT when nothing
//! else tells where they went.

use std::future::Future;
use std::time::Duration;

use tallymesh_node::contacts::InviteSpec;
use tallymesh_node::presence::ContactPresence;
use tallymesh_node::{Node, NodeEvent};
use tallymesh_scenarios::{TestNode, node_of, temp_data_dir, test_config};

/// A hang guard, not a measurement: keeping in touch retries after 1, 2,
/// 4… seconds, and a loaded machine is slow.
const PATIENCE: Duration = Duration::from_secs(90);

async fn party_of(node: &Node) -> String {
    node.identity().state().await.unwrap().party_id().unwrap().to_string()
}

/// `redeemer` redeems an invite of `inviter`'s: the two become contacts.
async fn befriend(inviter: &TestNode, redeemer: &TestNode) {
    let invite = InviteSpec {
        reusable: true,
        expires_in: Duration::from_secs(3_600),
    };
    let link = inviter.node.contacts().my_card_link(Some(invite)).await.unwrap();
    redeemer.node.contacts().redeem_link(&link).await.unwrap();
}

async fn presence_of(node: &Node, party: &str) -> ContactPresence {
    node.presence()
        .await
        .unwrap()
        .into_iter()
        .find(|p| p.party_id == party)
        .expect("a contact has a presence")
}

/// Waits until `check` holds of `node`'s view of `party`.
async fn until<F, Fut>(node: &Node, party: &str, what: &str, check: F) -> ContactPresence
where
    F: Fn(ContactPresence) -> Fut,
    Fut: Future<Output = Option<ContactPresence>>,
{
    tokio::time::timeout(PATIENCE, async {
        loop {
            if let Some(presence) = check(presence_of(node, party).await).await {
                return presence;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await
    .unwrap_or_else(|_| panic!("{what} never happened"))
}

async fn online(presence: ContactPresence) -> Option<ContactPresence> {
    presence.online.then_some(presence)
}

async fn offline(presence: ContactPresence) -> Option<ContactPresence> {
    (!presence.online).then_some(presence)
}

#[tokio::test]
async fn a_contact_is_online_while_connected_and_offline_with_a_last_seen_time_after() {
    let alice = node_of("Alice").await;
    let bob = node_of("Bob").await;
    let mut events = alice.node.events();
    befriend(&alice, &bob).await;
    let bob_party = party_of(&bob.node).await;

    let seen = until(&alice.node, &bob_party, "bob online", online).await;
    assert!(seen.last_seen_ms.is_some());
    // Pings measure the round trip while bob is connected (waiting for it
    // is the check: it never comes if pings are not measured).
    until(&alice.node, &bob_party, "a round trip to bob", |presence| async move {
        (presence.online && presence.rtt_ms.is_some()).then_some(presence)
    })
    .await;
    let announced = tokio::time::timeout(PATIENCE, async {
        loop {
            match events.recv().await {
                Ok(NodeEvent::PresenceChanged { presence }) if presence.party_id == bob_party => return presence,
                Ok(_) => {}
                // Fell behind (a loaded machine): the announcement may be
                // among the missed events, so the state it announced counts.
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                    let now = presence_of(&alice.node, &bob_party).await;
                    if now.online {
                        return now;
                    }
                }
                Err(closed) => panic!("alice's events ended: {closed}"),
            }
        }
    })
    .await
    .unwrap();
    assert!(announced.online);

    bob.node.shutdown().await;
    let gone = until(&alice.node, &bob_party, "bob offline", offline).await;
    assert!(gone.last_seen_ms.is_some_and(|ms| ms >= seen.last_seen_ms.unwrap()));
    assert_eq!(gone.rtt_ms, None);
}

#[tokio::test]
async fn a_contact_that_restarts_on_a_new_port_is_back_online() {
    let alice = node_of("Alice").await;
    let bob = node_of("Bob").await;
    befriend(&alice, &bob).await;
    let bob_party = party_of(&bob.node).await;
    until(&alice.node, &bob_party, "bob online", online).await;

    // Port 0: bob comes back somewhere else, and knows where alice is.
    let bob = bob.restart().await.unwrap();
    until(&alice.node, &bob_party, "bob offline", offline).await;
    let alice_party = party_of(&alice.node).await;
    until(&alice.node, &bob_party, "bob back online", online).await;
    until(&bob.node, &alice_party, "alice online for bob", online).await;
}

#[tokio::test]
async fn two_contacts_who_both_moved_find_each_other_again() {
    // Carol is always on; alice and bob know her, and each other.
    let carol = node_of("Carol").await;
    let alice = node_of("Alice").await;
    let bob = node_of("Bob").await;
    befriend(&carol, &alice).await;
    befriend(&carol, &bob).await;
    befriend(&alice, &bob).await;
    let (alice_party, bob_party) = (party_of(&alice.node).await, party_of(&bob.node).await);
    until(&alice.node, &bob_party, "bob online", online).await;

    // Both stop and come back on new ports: the addresses each kept for the
    // other are dead; only carol's still work.
    alice.node.shutdown().await;
    let bob = bob.restart().await.unwrap();
    let alice = TestNode::start_in(alice.dir, alice.config).await.unwrap();

    until(&alice.node, &bob_party, "bob found again", online).await;
    until(&bob.node, &alice_party, "alice found again", online).await;
    // The cards travel with the reconnection (or come from the DHT): alice
    // ends up keeping bob's newer card, with where he listens now.
    let bob_now = bob.node.status().await.unwrap().listen_addrs;
    let mut kept = Vec::new();
    let fresh = tokio::time::timeout(PATIENCE, async {
        loop {
            kept = alice.node.contacts().get(&bob_party).await.unwrap().addresses;
            if bob_now.iter().any(|address| kept.contains(address)) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await;
    assert!(fresh.is_ok(), "alice kept {kept:?}; bob listens on {bob_now:?}");
    drop(carol);
}

/// A node that sits behind NAT: it listens nowhere (it dials out, nobody
/// can dial it) and only asks the DHT (`client` mode), like a laptop.
async fn laptop_behind_nat(name: &str) -> TestNode {
    let dir = temp_data_dir().unwrap();
    let config = test_config(dir.path()).with_listen(Vec::new()).with_dht_server(false);
    let node = TestNode::start_in(dir, config).await.unwrap();
    node.node.identity().create(name).await.unwrap();
    node
}

/// A node that listens but only asks the DHT, so no routing table leads
/// to it.
async fn dht_client(name: &str) -> TestNode {
    let dir = temp_data_dir().unwrap();
    let config = test_config(dir.path()).with_dht_server(false);
    let node = TestNode::start_in(dir, config).await.unwrap();
    node.node.identity().create(name).await.unwrap();
    node
}

#[tokio::test]
async fn a_contact_that_moved_is_reached_again_only_through_its_card_in_the_dht() {
    // Carol serves the DHT. Alice cannot be dialled; bob is a DHT client, so
    // no routing table holds where he listens. Alice redeems bob's invite:
    // bob keeps a card of hers with no address at all.
    let carol = node_of("Carol").await;
    let alice = laptop_behind_nat("Alice").await;
    let bob = dht_client("Bob").await;
    befriend(&carol, &alice).await;
    befriend(&carol, &bob).await;
    befriend(&bob, &alice).await;
    let bob_party = party_of(&bob.node).await;
    until(&alice.node, &bob_party, "bob online", online).await;
    let before = alice.node.contacts().get(&bob_party).await.unwrap();

    // Bob comes back on new ports. The address alice keeps for him is dead,
    // he cannot dial her, and only the card he published (held by carol)
    // says where he is now.
    let bob = bob.restart().await.unwrap();
    let bob_now = bob.node.status().await.unwrap().listen_addrs;
    assert!(
        bob_now.iter().all(|address| !before.addresses.contains(address)),
        "bob is back on {bob_now:?}, alice kept {:?}",
        before.addresses
    );
    until(&alice.node, &bob_party, "bob offline", offline).await;
    until(&alice.node, &bob_party, "bob reached again", online).await;

    let kept = alice.node.contacts().get(&bob_party).await.unwrap();
    assert!(
        kept.card_issued_at_ms > before.card_issued_at_ms,
        "alice keeps a newer card of bob's"
    );
    assert!(
        bob_now.iter().any(|address| kept.addresses.contains(address)),
        "alice kept {:?}; bob listens on {bob_now:?}",
        kept.addresses
    );
    drop(carol);
}
