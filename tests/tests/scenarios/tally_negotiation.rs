//! The negotiation between real nodes survives what networks and machines
//! do to it: a message sent while the partner is down reaches it when it
//! returns (the outbox tries again), a message delivered twice or late
//! changes nothing, and a node restarted between the offer and the
//! acceptance rebuilds the negotiation from its kept messages, so the tally
//! opens on both sides.

use std::path::Path;

use tallymesh_net::ProtocolName;
use tallymesh_node::tallies::{ContractText, TallyStage, TallyTerms, Who};
use tallymesh_protocol::negotiation::{TallyMessage, limits};
use tallymesh_scenarios::TestNode;
use tallymesh_store::Store;

use crate::tally_support::{Party, befriend, detail, offer, start_again, stop, until, until_balance};

/// The negotiation messages `node` keeps for the tally, in order, as sent
/// or received: read from its database beside the running node.
async fn kept_messages(node: &TestNode, id: &str) -> Vec<Vec<u8>> {
    let status = node.node.status().await.unwrap();
    let store = Store::open(Path::new(&status.database_path)).await.unwrap();
    let hex: String = id.chars().filter(|c| *c != '-').collect();
    let mut tally = [0u8; 16];
    for (i, byte) in tally.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap();
    }
    let messages = store.tally_messages(&tally).await.unwrap();
    store.close().await;
    messages.into_iter().map(|row| row.message).collect()
}

/// Sends `bytes` to `to` on `/tallymesh/tally/1` from `from`, as a network
/// that duplicates or delays messages would deliver them again.
async fn deliver_again(from: &TestNode, to: &TestNode, bytes: &[u8]) -> Vec<u8> {
    let tally = ProtocolName::new("tally").unwrap();
    from.node
        .net()
        .request(to.node.net().local_peer_id(), &tally, bytes.to_vec())
        .await
        .unwrap()
}

#[tokio::test]
async fn an_offer_sent_while_the_partner_is_down_reaches_it_when_it_returns_and_repeats_change_nothing() {
    let alice = Party::new("Alice", 0).await;
    let bob = Party::new("Bob", 0).await;
    befriend(&alice, &bob).await;

    // Bob's node is down: the offer waits in alice's outbox.
    let bob_stopped = stop(bob.main).await;
    let id = alice.main.node.tallies().propose(offer(&bob.id)).await.unwrap().id;
    let bob = start_again(bob_stopped).await;
    let at_bob = until("bob to receive the offer once he is back", || async {
        detail(&bob, &id)
            .await
            .filter(|d| d.summary.waiting_for == Some(Who::Us))
    })
    .await;
    assert_eq!(at_bob.revisions.len(), 1);

    // The same offer delivered twice more: taken, and nothing changes.
    let sent = kept_messages(&alice.main, &id).await;
    let the_offer = sent[0].clone();
    assert!(matches!(
        TallyMessage::decode(&the_offer, &limits()),
        Ok(TallyMessage::Offer(_))
    ));
    for _ in 0..2 {
        let answer = deliver_again(&alice.main, &bob, &the_offer).await;
        assert!(String::from_utf8_lossy(&answer).contains("tally/taken"), "{answer:?}");
    }
    let again = detail(&bob, &id).await.unwrap();
    assert_eq!(again.revisions, at_bob.revisions);
    assert_eq!(
        kept_messages(&bob, &id).await.len(),
        1,
        "a repeat is answered, not kept"
    );

    // Bob counters; the first offer arriving late after it changes nothing.
    let terms = TallyTerms {
        we_grant: "30".into(),
        they_grant: "0".into(),
        our_call: 30,
        their_call: 30,
        memo: "groceries".into(),
        our_nodes: None,
    };
    bob.node.tallies().counter(&id, terms).await.unwrap();
    deliver_again(&alice.main, &bob, &the_offer).await;
    let countered = detail(&bob, &id).await.unwrap();
    assert_eq!(countered.summary.revision, 2);
    assert_eq!(countered.summary.waiting_for, Some(Who::Partner));
    until("alice to receive the counter", || async {
        detail(&alice.main, &id).await.filter(|d| d.summary.revision == 2)
    })
    .await;
}

#[tokio::test]
async fn nodes_restarted_between_offer_and_accept_replay_their_messages_and_the_tally_opens_on_both_sides() {
    let alice = Party::new("Alice", 0).await;
    let bob = Party::new("Bob", 0).await;
    befriend(&alice, &bob).await;
    let id = alice.main.node.tallies().propose(offer(&bob.id)).await.unwrap().id;
    until("bob to receive the offer", || async {
        detail(&bob.main, &id)
            .await
            .filter(|d| d.summary.waiting_for == Some(Who::Us))
    })
    .await;
    let terms = TallyTerms {
        we_grant: "40".into(),
        they_grant: "0".into(),
        our_call: 14,
        their_call: 30,
        memo: "groceries".into(),
        our_nodes: None,
    };
    bob.main.node.tallies().counter(&id, terms).await.unwrap();
    until("alice to receive the counter", || async {
        detail(&alice.main, &id).await.filter(|d| d.summary.revision == 2)
    })
    .await;

    // Both nodes restart mid-negotiation, one after the other (each on a
    // new port, which the other learns from its newer card when they
    // reconnect): each rebuilds the negotiation as it was.
    let before_alice = detail(&alice.main, &id).await.unwrap();
    let before_bob = detail(&bob.main, &id).await.unwrap();
    let card_before = bob.main.node.contacts().get(&alice.id).await.unwrap().card_issued_at_ms;
    let alice_main = alice.main.restart().await.unwrap();
    let after_alice = detail(&alice_main, &id).await.unwrap();
    assert_eq!(after_alice.revisions, before_alice.revisions);
    assert_eq!(after_alice.summary.waiting_for, Some(Who::Us));
    until("bob to get alice's card with her new address", || async {
        let contact = bob.main.node.contacts().get(&alice.id).await.ok()?;
        (contact.card_issued_at_ms > card_before).then_some(())
    })
    .await;
    let bob_main = bob.main.restart().await.unwrap();
    assert_eq!(detail(&bob_main, &id).await.unwrap().revisions, before_bob.revisions);
    assert_eq!(
        detail(&bob_main, &id).await.unwrap().summary.waiting_for,
        Some(Who::Partner)
    );

    // Bob's node is down when alice accepts: her acceptance waits in the
    // outbox, and reaches him when he is back.
    let bob_stopped = stop(bob_main).await;
    alice_main.node.tallies().accept(&id).await.unwrap();
    let bob_main = start_again(bob_stopped).await;
    until("bob to see the tally open", || async {
        detail(&bob_main, &id)
            .await
            .filter(|d| d.summary.stage == TallyStage::Open)
    })
    .await;
    let open_at_bob = detail(&bob_main, &id).await.unwrap();
    assert_eq!(open_at_bob.summary.revision, 2);
    assert_eq!(open_at_bob.summary.we_grant, 40_000);

    // The tally works: alice pays, both see it final.
    alice_main.node.tallies().pay(&id, "12.5", "lunch").await.unwrap();
    until_balance(&bob_main, &id, 12_500, "bob to see the payment final").await;
    until_balance(&alice_main, &id, -12_500, "alice to see it final").await;
}

#[tokio::test]
async fn a_contracts_text_travels_with_the_offer_and_a_text_that_does_not_match_its_hash_is_refused() {
    let alice = Party::new("Alice", 0).await;
    let bob = Party::new("Bob", 0).await;
    befriend(&alice, &bob).await;
    let text = "Vegetables are delivered on Saturdays.\nPayment within 30 days.";
    let mut with_contract = offer(&bob.id);
    with_contract.contract = Some(ContractText {
        title: "Delivery terms".into(),
        text: text.into(),
    });
    let id = alice.main.node.tallies().propose(with_contract).await.unwrap().id;
    let kept = detail(&alice.main, &id).await.unwrap().revisions[0]
        .contract
        .clone()
        .unwrap();
    assert_eq!(kept.text.as_deref(), Some(text), "kept with our offer");

    let at_bob = until("bob to receive the offer with its contract's text", || async {
        detail(&bob.main, &id)
            .await
            .and_then(|d| d.revisions.first().and_then(|r| r.contract.clone()))
            .filter(|c| c.text.is_some())
    })
    .await;
    assert_eq!(at_bob.title, "Delivery terms");
    assert_eq!(at_bob.text.as_deref(), Some(text));
    assert_eq!(at_bob.hash, kept.hash);

    // Another text for the same tally does not match the signed hash.
    let tally = match TallyMessage::decode(&kept_messages(&alice.main, &id).await[1], &limits()).unwrap() {
        TallyMessage::Contract(contract) => contract.tally,
        other => panic!("the offer's second message is its contract: {other:?}"),
    };
    let forged = TallyMessage::Contract(tallymesh_protocol::negotiation::ContractText {
        tally,
        text: "Vegetables are free.".into(),
    });
    let answer = deliver_again(&alice.main, &bob.main, &forged.encode()).await;
    assert!(
        String::from_utf8_lossy(&answer).contains("its SHA-256 differs"),
        "{answer:?}"
    );
    // The text is kept across a restart.
    let bob_main = bob.main.restart().await.unwrap();
    let after = detail(&bob_main, &id).await.unwrap().revisions[0]
        .contract
        .clone()
        .unwrap();
    assert_eq!(after.text.as_deref(), Some(text));
}
