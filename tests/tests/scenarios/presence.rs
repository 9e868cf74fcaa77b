//! Presence between real nodes on 127.0.0.1: contacts online while
//! connected with a round trip, offline with a last-seen time when their
//! node stops, reconnected after a restart, found again when both moved to
//! new ports, and reached again through the card in the DHT when nothing
//! else tells where they went.

use tallymesh_node::NodeEvent;
use tallymesh_node::presence::ContactPresence;
use tallymesh_scenarios::{
    PATIENCE, TestNode, befriend, node_of, party_of, temp_data_dir, test_config, until, until_holds,
};

async fn presence_of(node: &TestNode, party: &str) -> ContactPresence {
    node.node
        .presence()
        .await
        .unwrap()
        .into_iter()
        .find(|p| p.party_id == party)
        .expect("a contact has a presence")
}

/// Waits until `check` holds of `node`'s view of `party` (keeping in touch
/// retries after 1, 2, 4… seconds; the wait is a hang guard), and gives
/// that view.
async fn presence_when(
    node: &TestNode,
    party: &str,
    what: &str,
    check: impl Fn(&ContactPresence) -> bool,
) -> ContactPresence {
    until(what, || async {
        let presence = presence_of(node, party).await;
        check(&presence).then_some(presence)
    })
    .await
}

fn online(presence: &ContactPresence) -> bool {
    presence.online
}

fn offline(presence: &ContactPresence) -> bool {
    !presence.online
}

#[tokio::test]
async fn a_contact_is_online_while_connected_and_offline_with_a_last_seen_time_after() {
    let alice = node_of("Alice").await;
    let bob = node_of("Bob").await;
    let mut events = alice.node.events();
    befriend(&alice, &bob).await;
    let bob_party = party_of(&bob).await;

    let seen = presence_when(&alice, &bob_party, "bob online", online).await;
    assert!(seen.last_seen_ms.is_some());
    // Pings measure the round trip while bob is connected (waiting for it
    // is the check: it never comes if pings are not measured).
    presence_when(&alice, &bob_party, "a round trip to bob", |presence| {
        presence.online && presence.rtt_ms.is_some()
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
                    let now = presence_of(&alice, &bob_party).await;
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
    let gone = presence_when(&alice, &bob_party, "bob offline", offline).await;
    assert!(gone.last_seen_ms.is_some_and(|ms| ms >= seen.last_seen_ms.unwrap()));
    assert_eq!(gone.rtt_ms, None);
}

#[tokio::test]
async fn a_contact_that_restarts_on_a_new_port_is_back_online() {
    let alice = node_of("Alice").await;
    let bob = node_of("Bob").await;
    befriend(&alice, &bob).await;
    let bob_party = party_of(&bob).await;
    presence_when(&alice, &bob_party, "bob online", online).await;

    // Port 0: bob comes back somewhere else, and knows where alice is.
    let bob = bob.restart().await.unwrap();
    presence_when(&alice, &bob_party, "bob offline", offline).await;
    let alice_party = party_of(&alice).await;
    presence_when(&alice, &bob_party, "bob back online", online).await;
    presence_when(&bob, &alice_party, "alice online for bob", online).await;
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
    let (alice_party, bob_party) = (party_of(&alice).await, party_of(&bob).await);
    presence_when(&alice, &bob_party, "bob online", online).await;

    // Both stop and come back on new ports: the addresses each kept for the
    // other are dead; only carol's still work.
    alice.node.shutdown().await;
    let bob = bob.restart().await.unwrap();
    let alice = TestNode::start_in(alice.dir, alice.config).await.unwrap();

    presence_when(&alice, &bob_party, "bob found again", online).await;
    presence_when(&bob, &alice_party, "alice found again", online).await;
    // The cards travel with the reconnection (or come from the DHT): alice
    // ends up keeping bob's newer card, with where he listens now.
    let bob_now = bob.node.status().await.unwrap().listen_addrs;
    until_holds("alice to keep where bob listens now", || async {
        let kept = alice.node.contacts().get(&bob_party).await.unwrap().addresses;
        bob_now.iter().any(|address| kept.contains(address))
    })
    .await;
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
    let bob_party = party_of(&bob).await;
    presence_when(&alice, &bob_party, "bob online", online).await;
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
    presence_when(&alice, &bob_party, "bob offline", offline).await;
    presence_when(&alice, &bob_party, "bob reached again", online).await;

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
