//! Tallies between real nodes on 127.0.0.1: an offer countered and
//! accepted, payments and an invoice certified by both parties' nodes, a
//! payment past the limit refused at once, and a refusal.

use std::time::Duration;

use tallymesh_node::contacts::InviteSpec;
use tallymesh_node::tallies::{ChitKind, ChitStatus, TallySide, TallyStage, TallyTerms, Who};
use tallymesh_scenarios::{TestNode, node_of};

use super::tally_support::{detail, offer, until};

/// Alice and Bob, contacts of each other.
async fn contacts() -> (TestNode, TestNode, String, String) {
    let alice = node_of("Alice").await;
    let bob = node_of("Bob").await;
    let link = alice
        .node
        .contacts()
        .my_card_link(Some(InviteSpec {
            reusable: false,
            expires_in: Duration::from_secs(3_600),
        }))
        .await
        .unwrap();
    let alice_party = bob.node.contacts().redeem_link(&link).await.unwrap().party_id;
    let bob_party = alice.node.contacts().list().await.unwrap()[0].party_id.clone();
    (alice, bob, alice_party, bob_party)
}

#[tokio::test]
async fn an_offer_countered_accepted_paid_and_invoiced_shows_the_same_history_on_both_sides() {
    let (alice, bob, _, bob_party) = contacts().await;
    // Alice (foil, the buyer) offers; Bob (stock) may be owed up to 50.
    let offered = alice.node.tallies().propose(offer(&bob_party)).await.unwrap();
    assert_eq!(offered.waiting_for, Some(Who::Partner));
    let id = offered.id.clone();

    let at_bob = until("bob to receive the offer", || async {
        detail(&bob, &id)
            .await
            .filter(|d| d.summary.waiting_for == Some(Who::Us))
    })
    .await;
    assert_eq!(at_bob.summary.side, TallySide::Stock);
    assert_eq!(at_bob.summary.we_grant, 50_000, "from bob's side, alice may owe him 50");

    // Bob counters the limit down to 30.
    let terms = TallyTerms {
        we_grant: "30".into(),
        they_grant: "0".into(),
        our_call: 30,
        their_call: 30,
        memo: "groceries".into(),
        our_nodes: None,
    };
    bob.node.tallies().counter(&id, terms).await.unwrap();
    let countered = until("alice to receive the counter", || async {
        detail(&alice, &id).await.filter(|d| d.summary.revision == 2)
    })
    .await;
    assert_eq!(countered.revisions.len(), 2);
    assert_eq!(countered.revisions[1].changes, vec!["theyGrant"]);
    assert_eq!(countered.summary.they_grant, 30_000);

    alice.node.tallies().accept(&id).await.unwrap();
    until("bob to see the tally open", || async {
        detail(&bob, &id).await.filter(|d| d.summary.stage == TallyStage::Open)
    })
    .await;

    // Alice pays 12.500; both see it final with the same balance.
    let paid = alice.node.tallies().pay(&id, "12.5", "lunch").await.unwrap();
    assert_eq!(paid.status, ChitStatus::Pending);
    assert_eq!(paid.units, Some(-12_500), "alice pays: her balance goes down");
    until("bob to see the payment final", || async {
        detail(&bob, &id).await.filter(|d| d.summary.balance == 12_500)
    })
    .await;
    until("alice to see the payment final", || async {
        detail(&alice, &id).await.filter(|d| d.summary.balance == -12_500)
    })
    .await;

    // Bob invoices 2.000; Alice approves it.
    bob.node.tallies().invoice(&id, "2", "delivery").await.unwrap();
    let invoice = until("alice to see bob's invoice", || async {
        detail(&alice, &id).await.and_then(|d| d.open_invoices.first().cloned())
    })
    .await;
    assert_eq!(
        (invoice.payee, invoice.units, invoice.memo.as_str()),
        (Who::Partner, 2_000, "delivery")
    );
    alice.node.tallies().approve(&id, &invoice.id).await.unwrap();
    until("bob to see the invoice paid", || async {
        detail(&bob, &id)
            .await
            .filter(|d| d.summary.balance == 14_500 && d.open_invoices.is_empty())
    })
    .await;
    until("alice to see the invoice paid", || async {
        detail(&alice, &id).await.filter(|d| d.summary.balance == -14_500)
    })
    .await;

    // Both histories hold the same three chits, final, newest first.
    let history = |node: &TestNode| {
        let tallies = node.node.tallies();
        let id = id.clone();
        async move { tallies.chits(&id, None, 50).await.unwrap().chits }
    };
    let (at_alice, at_bob) = (history(&alice).await, history(&bob).await);
    let ids = |chits: &[tallymesh_node::tallies::ChitView]| chits.iter().map(|c| c.id.clone()).collect::<Vec<_>>();
    assert_eq!(ids(&at_alice), ids(&at_bob));
    assert_eq!(at_alice.len(), 3);
    assert!(at_alice.iter().all(|c| c.status == ChitStatus::Final));
    let kinds: Vec<ChitKind> = at_bob.iter().map(|c| c.kind).collect();
    assert_eq!(kinds, [ChitKind::Transaction, ChitKind::Invoice, ChitKind::Transaction]);
    assert_eq!(at_bob[0].balance_after, Some(14_500));

    // The net position follows the certified balances.
    let position = alice.node.tallies().position().await.unwrap();
    assert_eq!(position.len(), 1);
    assert_eq!(position[0].net, -14_500);
}

#[tokio::test]
async fn a_payment_past_the_limit_is_refused_at_once_and_nothing_is_sent() {
    let (alice, bob, _, bob_party) = contacts().await;
    let id = alice.node.tallies().propose(offer(&bob_party)).await.unwrap().id;
    until("bob to receive the offer", || async {
        detail(&bob, &id)
            .await
            .filter(|d| d.summary.waiting_for == Some(Who::Us))
    })
    .await;
    bob.node.tallies().accept(&id).await.unwrap();
    until("alice to see the tally open", || async {
        detail(&alice, &id)
            .await
            .filter(|d| d.summary.stage == TallyStage::Open)
    })
    .await;

    alice.node.tallies().pay(&id, "40", "").await.unwrap();
    let refused = alice.node.tallies().pay(&id, "10.001", "").await.unwrap_err();
    assert_eq!(
        refused.to_string(),
        "A payment of 10.001 CHIP is over the credit limit: at most 10.000 CHIP can be paid now."
    );
    let bad = alice.node.tallies().pay(&id, "-3", "").await.unwrap_err();
    assert!(bad.to_string().contains("more than zero"), "{bad}");
    let chits = alice.node.tallies().chits(&id, None, 10).await.unwrap().chits;
    assert_eq!(chits.len(), 1, "only the 40 was signed");
}

#[tokio::test]
async fn a_refused_offer_is_refused_on_both_sides() {
    let (alice, bob, _, bob_party) = contacts().await;
    let id = alice.node.tallies().propose(offer(&bob_party)).await.unwrap().id;
    until("bob to receive the offer", || async {
        detail(&bob, &id)
            .await
            .filter(|d| d.summary.waiting_for == Some(Who::Us))
    })
    .await;
    bob.node.tallies().refuse(&id, "not now").await.unwrap();
    let at_alice = until("alice to see the refusal", || async {
        detail(&alice, &id)
            .await
            .filter(|d| d.summary.stage == TallyStage::Refused)
    })
    .await;
    let refusal = at_alice.refusal.unwrap();
    assert_eq!((refusal.by, refusal.reason.as_str()), (Who::Partner, "not now"));
    assert!(
        alice.node.tallies().pay(&id, "1", "").await.is_err(),
        "no chits on a refused tally"
    );
}

#[tokio::test]
async fn a_payment_made_while_the_partner_is_down_stays_pending_and_is_final_after_its_restart() {
    let (alice, bob, _, bob_party) = contacts().await;
    let id = alice.node.tallies().propose(offer(&bob_party)).await.unwrap().id;
    until("bob to receive the offer", || async {
        detail(&bob, &id)
            .await
            .filter(|d| d.summary.waiting_for == Some(Who::Us))
    })
    .await;
    bob.node.tallies().accept(&id).await.unwrap();
    until("alice to see the tally open", || async {
        detail(&alice, &id)
            .await
            .filter(|d| d.summary.stage == TallyStage::Open)
    })
    .await;

    // Bob's node stops; alice's payment cannot be certified without it.
    let bob_dir = bob.dir;
    let bob_config = bob.config;
    bob.node.shutdown().await;
    let paid = alice.node.tallies().pay(&id, "5", "while away").await.unwrap();
    assert_eq!(paid.status, ChitStatus::Pending);
    tokio::time::sleep(Duration::from_secs(1)).await;
    let chits = alice.node.tallies().chits(&id, None, 10).await.unwrap().chits;
    assert_eq!(chits[0].status, ChitStatus::Pending, "no quorum without bob's node");

    // Bob's node comes back on the same data directory (and a new port).
    let bob = TestNode::start_in(bob_dir, bob_config).await.unwrap();
    until("bob to see alice's payment final after his restart", || async {
        detail(&bob, &id).await.filter(|d| d.summary.balance == 5_000)
    })
    .await;
    until("alice to see her payment final", || async {
        let chits = alice.node.tallies().chits(&id, None, 10).await.ok()?.chits;
        chits.first().filter(|c| c.status == ChitStatus::Final).cloned()
    })
    .await;
}
