//! Tallies kept by more than one node a party: every device a party names
//! learns the tally and keeps its ledger, votes with its node key and
//! follows the blocks; a tally keeps working while each side still has a
//! majority of its nodes, waits (saying whose nodes) while a side has not,
//! and goes on by itself when they return.

use tallymesh_node::tallies::{ChitStatus, NodesWait, TallyStage, TallyTerms, Who};
use tallymesh_node::{IdentityError, NodeError};
use tallymesh_scenarios::TestNode;

use crate::tally_support::{
    Party, befriend, detail, offer, open_tally, open_tally_with, peer, start_again, stop, until, until_balance,
};

#[tokio::test]
async fn a_member_device_alice_named_keeps_the_tally_votes_on_it_and_follows_its_blocks() {
    // Alice: her laptop (main device) and an always-on box; Bob: one device.
    let alice = Party::new("Alice", 1).await;
    let bob = Party::new("Bob", 0).await;
    befriend(&alice, &bob).await;
    let id = open_tally(&alice, &bob).await;

    // The offer named both of alice's devices, and bob's only one.
    let at_bob = detail(&bob.main, &id).await.unwrap();
    assert_eq!(at_bob.their_nodes, vec![peer(&alice.main), peer(&alice.members[0])]);
    assert_eq!(at_bob.our_nodes, vec![peer(&bob.main)]);
    let at_box = detail(&alice.members[0], &id).await.unwrap();
    assert_eq!(at_box.our_nodes, at_bob.their_nodes);
    assert!(
        alice.members[0]
            .node
            .ledger()
            .tallies()
            .iter()
            .any(|t| t.replace('-', "") == id.replace('-', "")),
        "the box serves the tally's ledger"
    );

    // A majority of alice's two nodes is both: a payment certified proves
    // the box voted. The box follows the blocks to the same balance.
    alice.main.node.tallies().pay(&id, "5", "seeds").await.unwrap();
    until_balance(&bob.main, &id, 5_000, "bob to see the payment final").await;
    until_balance(&alice.main, &id, -5_000, "alice's laptop to see it final").await;
    until_balance(&alice.members[0], &id, -5_000, "alice's box to follow the block").await;

    // The box has no party key: it keeps the ledger but signs no chit.
    let refused = alice.members[0].node.tallies().pay(&id, "1", "").await.unwrap_err();
    assert!(
        matches!(
            &refused,
            tallymesh_node::tallies::TallyError::Node(NodeError::Identity(IdentityError::NotTheMainDevice { .. }))
        ),
        "{refused}"
    );

    // Without the box, alice's side has one node of the two it needs: her
    // next payment waits, and her laptop says for whose nodes.
    let Party { main, mut members, .. } = alice;
    let the_box = members.remove(0);
    let (box_dir, box_config) = (the_box.dir, the_box.config);
    the_box.node.shutdown().await;
    main.node.tallies().pay(&id, "2", "while the box sleeps").await.unwrap();
    let waiting = until("alice's laptop to say it waits for her own nodes", || async {
        detail(&main, &id).await.and_then(|d| d.summary.waiting_for_nodes)
    })
    .await;
    assert_eq!(
        waiting,
        NodesWait {
            who: Who::Us,
            name: "Alice".into(),
            up: 1,
            needed: 2
        }
    );
    let chits = main.node.tallies().chits(&id, None, 10).await.unwrap().chits;
    assert_eq!(chits[0].status, ChitStatus::Pending);

    // The box comes back (on another port): the payment becomes final
    // everywhere, without anyone doing anything.
    let the_box = TestNode::start_in(box_dir, box_config).await.unwrap();
    until_balance(&the_box, &id, -7_000, "the box to certify and follow the payment").await;
    until_balance(&main, &id, -7_000, "alice's laptop to see it final").await;
    until_balance(&bob.main, &id, 7_000, "bob to see it final").await;
}

#[tokio::test]
async fn a_three_and_three_tally_certifies_with_alices_laptop_and_one_of_bobs_boxes_down() {
    // A majority of three is two: each side may lose one node.
    let alice = Party::new("Alice", 2).await;
    let bob = Party::new("Bob", 2).await;
    befriend(&alice, &bob).await;
    let mut both_ways = offer(&bob.id);
    both_ways.we_grant = "50".into();
    let id = open_tally_with(&alice, &bob, both_ways).await;
    let at_bob = detail(&bob.main, &id).await.unwrap();
    assert_eq!((at_bob.our_nodes.len(), at_bob.their_nodes.len()), (3, 3));

    // Alice's laptop sleeps and one of Bob's boxes is off.
    let Party {
        main: alice_laptop,
        members: alice_boxes,
        ..
    } = alice;
    let Party {
        main: bob_laptop,
        members: mut bob_boxes,
        ..
    } = bob;
    let laptop = stop(alice_laptop).await;
    let bob_box = stop(bob_boxes.remove(0)).await;

    // Bob pays Alice 3: her two boxes and his laptop and remaining box
    // certify it.
    bob_laptop.node.tallies().pay(&id, "3", "refund").await.unwrap();
    until_balance(&bob_laptop, &id, -3_000, "bob's laptop to see his payment final").await;
    until_balance(&bob_boxes[0], &id, -3_000, "bob's other box to follow it").await;
    for the_box in &alice_boxes {
        until_balance(the_box, &id, 3_000, "alice's boxes to certify it").await;
    }

    // Alice's laptop wakes up and catches up; then she pays, with Bob's
    // box still off.
    let alice_laptop = start_again(laptop).await;
    until_balance(&alice_laptop, &id, 3_000, "alice's laptop to catch up").await;
    alice_laptop.node.tallies().pay(&id, "1", "").await.unwrap();
    until_balance(&bob_laptop, &id, -2_000, "bob to see alice's payment final").await;
    until_balance(&alice_laptop, &id, 2_000, "alice to see it final").await;
    let bob_box = start_again(bob_box).await;
    until_balance(&bob_box, &id, -2_000, "bob's box to catch up when it is back").await;
}

#[tokio::test]
async fn a_two_and_two_tally_waits_for_bobs_nodes_while_he_has_one_of_two_and_goes_on_when_it_returns() {
    let alice = Party::new("Alice", 1).await;
    let bob = Party::new("Bob", 1).await;
    befriend(&alice, &bob).await;
    let id = open_tally(&alice, &bob).await;
    let Party {
        main: bob_laptop,
        members: mut bob_boxes,
        ..
    } = bob;
    let bob_box = stop(bob_boxes.remove(0)).await;

    alice.main.node.tallies().pay(&id, "4", "").await.unwrap();
    let waiting = until("alice's laptop to say it waits for bob's nodes", || async {
        detail(&alice.main, &id).await.and_then(|d| d.summary.waiting_for_nodes)
    })
    .await;
    assert_eq!(
        waiting,
        NodesWait {
            who: Who::Partner,
            name: "Bob".into(),
            up: 1,
            needed: 2
        }
    );
    let listed = alice.main.node.tallies().list().await.unwrap();
    assert_eq!(listed[0].waiting_for_nodes, Some(waiting), "the list says so too");
    let at_bob = until("bob's laptop to say it waits for his own nodes", || async {
        detail(&bob_laptop, &id).await.and_then(|d| d.summary.waiting_for_nodes)
    })
    .await;
    assert_eq!((at_bob.who, at_bob.up, at_bob.needed), (Who::Us, 1, 2));
    let chits = alice.main.node.tallies().chits(&id, None, 10).await.unwrap().chits;
    assert_eq!(
        chits[0].status,
        ChitStatus::Pending,
        "no certificate without a majority of bob's nodes"
    );

    // Bob's box comes back: nobody does anything, and the payment is final.
    let bob_box = start_again(bob_box).await;
    until_balance(&alice.main, &id, -4_000, "alice to see her payment final").await;
    until_balance(&bob_laptop, &id, 4_000, "bob's laptop to see it final").await;
    until_balance(&bob_box, &id, 4_000, "bob's box to see it final").await;
    assert_eq!(detail(&alice.main, &id).await.unwrap().summary.waiting_for_nodes, None);
}

#[tokio::test]
async fn each_party_names_its_own_nodes_and_an_offer_naming_a_revoked_device_is_countered_not_accepted() {
    let alice = Party::new("Alice", 1).await;
    let bob = Party::new("Bob", 1).await;
    befriend(&alice, &bob).await;

    // The node says what may be chosen: the laptop first, then the box,
    // and a majority of each count.
    let choice = alice.main.node.tallies().node_choice().await.unwrap();
    assert_eq!(choice.nodes, vec![peer(&alice.main), peer(&alice.members[0])]);
    assert_eq!(&choice.quorums[..3], &[1, 2, 2]);

    // Alice may name only devices of her cadre, and always her laptop,
    // which signs her chits.
    let mut only_the_box = offer(&bob.id);
    only_the_box.our_nodes = Some(vec![peer(&alice.members[0])]);
    let refused = alice.main.node.tallies().propose(only_the_box).await.unwrap_err();
    assert!(refused.to_string().contains("must be one of your nodes"), "{refused}");
    let mut laptop_only = offer(&bob.id);
    laptop_only.our_nodes = Some(vec![peer(&alice.main)]);
    let id = alice.main.node.tallies().propose(laptop_only).await.unwrap().id;
    let at_bob = until("bob to receive the offer", || async {
        detail(&bob.main, &id)
            .await
            .filter(|d| d.summary.waiting_for == Some(Who::Us))
    })
    .await;
    assert_eq!(at_bob.their_nodes, vec![peer(&alice.main)]);
    assert_eq!(
        at_bob.our_nodes,
        vec![peer(&bob.main), peer(&bob.members[0])],
        "from bob's card"
    );

    // Bob revoked his box since: he cannot accept an offer naming it, and
    // counters with the nodes he has now.
    bob.main.node.cadre().revoke(&peer(&bob.members[0])).await.unwrap();
    let choice = bob.main.node.tallies().node_choice().await.unwrap();
    assert_eq!(
        choice.nodes,
        vec![peer(&bob.main)],
        "a revoked device is no longer offered"
    );
    let refused = bob.main.node.tallies().accept(&id).await.unwrap_err();
    assert!(
        refused.to_string().contains("not devices of your cadre now"),
        "{refused}"
    );
    let terms = TallyTerms {
        we_grant: "50".into(),
        they_grant: "0".into(),
        our_call: 30,
        their_call: 30,
        memo: "groceries".into(),
        our_nodes: None,
    };
    bob.main.node.tallies().counter(&id, terms).await.unwrap();
    let countered = until("alice to receive bob's counter", || async {
        detail(&alice.main, &id).await.filter(|d| d.summary.revision == 2)
    })
    .await;
    assert_eq!(countered.revisions[1].changes, vec!["theirNodes"]);
    assert_eq!(countered.their_nodes, vec![peer(&bob.main)]);
    alice.main.node.tallies().accept(&id).await.unwrap();
    until("bob to see the tally open", || async {
        detail(&bob.main, &id)
            .await
            .filter(|d| d.summary.stage == TallyStage::Open)
    })
    .await;
    alice.main.node.tallies().pay(&id, "1", "").await.unwrap();
    until_balance(&bob.main, &id, 1_000, "bob to see the payment final on a 1+1 tally").await;
    assert!(
        detail(&bob.members[0], &id).await.is_none(),
        "the revoked box was named by no revision both signed"
    );
    assert!(
        detail(&alice.members[0], &id).await.is_none(),
        "alice named only her laptop"
    );
}
