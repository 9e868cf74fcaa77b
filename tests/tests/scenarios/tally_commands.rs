//! Every tally command checks what it is given and refuses, in words, what
//! it cannot do — zero, negative or malformed amounts, a tally that is not
//! there, the wrong party's move — changing nothing; and the commands of an
//! open tally do what they say: decline, trading variables, closing at zero,
//! history by pages, CSV.

use tallymesh_node::tallies::{ChitKind, SettingInput, TallyError, TallyStage, TallyTerms, Who};

use crate::tally_support::{Party, befriend, detail, offer, open_tally, open_tally_with, until, until_balance};

/// Runs `$call` and returns its error as text, failing if it succeeded.
macro_rules! refused {
    ($call:expr) => {
        match $call.await {
            Ok(done) => panic!("{} was accepted: {done:?}", stringify!($call)),
            Err(error) => error,
        }
    };
}

#[tokio::test]
async fn every_command_refuses_bad_amounts_unknown_tallies_and_the_wrong_partys_move_and_changes_nothing() {
    let alice = Party::new("Alice", 0).await;
    let bob = Party::new("Bob", 0).await;
    befriend(&alice, &bob).await;
    let tallies = alice.main.node.tallies();

    // Offers: amounts, expiry, partner, nodes.
    for (we, they, expected) in [
        ("-1", "50", "cannot be negative"),
        ("0", "fifty", "What we may owe them"),
        ("0", "1.0001", "What we may owe them"),
        ("", "50", "What they may owe us"),
    ] {
        let mut bad = offer(&bob.id);
        bad.we_grant = we.into();
        bad.they_grant = they.into();
        let error = refused!(tallies.propose(bad));
        assert!(error.to_string().contains(expected), "{we}/{they}: {error}");
    }
    let mut bad = offer(&bob.id);
    bad.expires_in_hours = 0;
    assert!(refused!(tallies.propose(bad)).to_string().contains("from 1 to"));
    let mut bad = offer("did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK");
    let error = refused!(tallies.propose(bad.clone()));
    assert!(matches!(error, TallyError::NotAContact(_)), "{error}");
    bad = offer(&bob.id);
    bad.our_nodes = Some(vec![bob.main.node.net().local_peer_id().to_string()]);
    let error = refused!(tallies.propose(bad));
    assert!(error.to_string().contains("not a device of your cadre"), "{error}");
    assert!(tallies.list().await.unwrap().is_empty(), "no refused offer was kept");

    // Tallies that are not there, and ids that are not ids.
    let missing = "01900000-0000-7000-8000-000000000000";
    for error in [
        refused!(tallies.get(missing)),
        refused!(tallies.accept(missing)),
        refused!(tallies.refuse(missing, "no")),
        refused!(tallies.pay(missing, "1", "")),
        refused!(tallies.invoice(missing, "1", "")),
        refused!(tallies.close(missing)),
        refused!(tallies.chits(missing, None, 10)),
    ] {
        assert!(matches!(error, TallyError::NotFound(_)), "{error}");
        assert_eq!(error.to_string(), format!("There is no tally {missing}."));
    }
    let error = refused!(tallies.pay("not-a-tally", "1", ""));
    assert!(matches!(error, TallyError::BadId(_)), "{error}");

    // The wrong party's move while the offer waits for bob.
    let id = tallies.propose(offer(&bob.id)).await.unwrap().id;
    let own = refused!(tallies.accept(&id));
    assert_eq!(own.to_string(), "A party cannot accept its own offer.");
    let terms = TallyTerms {
        we_grant: "0".into(),
        they_grant: "60".into(),
        our_call: 30,
        their_call: 30,
        memo: String::new(),
        our_nodes: None,
    };
    let out_of_turn = refused!(tallies.counter(&id, terms.clone()));
    assert_eq!(out_of_turn.to_string(), "The offer waits for the partner's answer.");
    let not_open = refused!(tallies.pay(&id, "1", ""));
    assert_eq!(not_open.to_string(), "The tally is not open.");
    let at_bob = until("bob to receive the offer", || async {
        detail(&bob.main, &id)
            .await
            .filter(|d| d.summary.waiting_for == Some(Who::Us))
    })
    .await;
    let mut bad_terms = terms.clone();
    bad_terms.we_grant = "-5".into();
    assert!(
        refused!(bob.main.node.tallies().counter(&id, bad_terms))
            .to_string()
            .contains("cannot be negative")
    );
    assert_eq!(detail(&bob.main, &id).await.unwrap().revisions, at_bob.revisions);
    assert_eq!(detail(&alice.main, &id).await.unwrap().summary.revision, 1);

    // Open: amounts to pay and invoice, and invoices that are not the
    // partner's to approve.
    bob.main.node.tallies().accept(&id).await.unwrap();
    until("alice to see the tally open", || async {
        detail(&alice.main, &id)
            .await
            .filter(|d| d.summary.stage == TallyStage::Open)
    })
    .await;
    for amount in ["0", "-3", "3.5.1", "", "1.0001", "abc"] {
        let error = refused!(tallies.pay(&id, amount, ""));
        assert!(matches!(error, TallyError::Amount { .. }), "{amount:?}: {error}");
        let error = refused!(tallies.invoice(&id, amount, ""));
        assert!(matches!(error, TallyError::Amount { .. }), "{amount:?}: {error}");
    }
    assert_eq!(
        refused!(tallies.refuse(&id, "changed my mind")).to_string(),
        "There is no offer to refuse."
    );
    assert!(refused!(tallies.accept(&id)).to_string().contains("no offer to accept"));
    bob.main.node.tallies().invoice(&id, "2", "delivery").await.unwrap();
    let invoice = until("bob's invoice to be final", || async {
        detail(&bob.main, &id)
            .await
            .and_then(|d| d.open_invoices.first().cloned())
    })
    .await;
    let own_invoice = refused!(bob.main.node.tallies().approve(&id, &invoice.id));
    assert_eq!(own_invoice.to_string(), "That invoice is ours, not the partner's.");
    assert_eq!(
        refused!(tallies.approve(&id, "beef")).to_string(),
        "That is not an invoice id."
    );
    assert!(
        refused!(tallies.set(&id, &SettingInput::default()))
            .to_string()
            .contains("at least one setting")
    );
    let fee = SettingInput {
        reward: Some("150".into()),
        ..SettingInput::default()
    };
    assert!(
        refused!(tallies.set(&id, &fee))
            .to_string()
            .contains("between -100 and 100")
    );
    assert!(
        refused!(tallies.chits(&id, Some("not a cursor"), 10))
            .to_string()
            .contains("page cursor")
    );
    // Only bob's invoice was signed on the tally.
    assert_eq!(tallies.chits(&id, None, 10).await.unwrap().chits.len(), 1);
}

#[tokio::test]
async fn a_declined_invoice_new_trading_variables_and_a_close_at_zero_show_the_same_on_both_sides() {
    let alice = Party::new("Alice", 0).await;
    let bob = Party::new("Bob", 0).await;
    befriend(&alice, &bob).await;
    let mut both_ways = offer(&bob.id);
    both_ways.we_grant = "50".into();
    let id = open_tally_with(&alice, &bob, both_ways).await;
    let (at_alice, at_bob) = (alice.main.node.tallies(), bob.main.node.tallies());

    // Bob asks for 3; alice declines: nothing is owed, on both sides.
    at_bob.invoice(&id, "3", "extra delivery").await.unwrap();
    let invoice = until("alice to see bob's invoice", || async {
        detail(&alice.main, &id)
            .await
            .and_then(|d| d.open_invoices.first().cloned())
    })
    .await;
    let declined = at_alice.decline(&id, &invoice.id).await.unwrap();
    assert_eq!(declined.kind, ChitKind::Decline);
    assert_eq!(declined.invoice.as_deref(), Some(invoice.id.as_str()));
    for node in [&alice.main, &bob.main] {
        let shown = until("the decline to be final", || async {
            detail(node, &id).await.filter(|d| d.open_invoices.is_empty())
        })
        .await;
        assert_eq!(shown.summary.balance, 0);
    }
    assert!(
        at_alice.approve(&id, &invoice.id).await.is_err(),
        "a declined invoice cannot be paid"
    );

    // Alice's trading variables, as bob's node sees them once final.
    let setting = SettingInput {
        target: Some("10".into()),
        bound: Some("20".into()),
        reward: Some("0.5".into()),
        clutch: Some("0".into()),
        call: Some(7),
    };
    assert_eq!(at_alice.set(&id, &setting).await.unwrap().kind, ChitKind::Setting);
    let theirs = until("bob to see alice's new trading variables", || async {
        detail(&bob.main, &id)
            .await
            .and_then(|d| d.variables)
            .filter(|v| v.theirs.bound == 20_000)
    })
    .await
    .theirs;
    assert_eq!(
        (
            theirs.target,
            theirs.bound,
            theirs.reward_ppm,
            theirs.clutch_ppm,
            theirs.call
        ),
        (10_000, 20_000, 5_000, 0, 7)
    );
    let bad = SettingInput {
        target: Some("30".into()),
        ..SettingInput::default()
    };
    let refused = refused!(at_alice.set(&id, &bad));
    assert!(refused.to_string().contains("target"), "{refused}");

    // Alice pays 5, then asks to close: the tally is closing until the
    // balance is back to zero, and takes nothing that moves it away.
    at_alice.pay(&id, "5", "").await.unwrap();
    until_balance(&bob.main, &id, 5_000, "bob to see alice's payment final").await;
    at_alice.close(&id).await.unwrap();
    for node in [&alice.main, &bob.main] {
        until("both to see the tally closing", || async {
            detail(node, &id)
                .await
                .filter(|d| d.summary.stage == TallyStage::Closing)
        })
        .await;
    }
    let refused = refused!(at_alice.invoice(&id, "1", ""));
    assert!(matches!(refused, TallyError::Refused(_)), "{refused}");
    let refused = refused!(at_alice.pay(&id, "1", ""));
    assert!(
        matches!(refused, TallyError::Refused(_)),
        "a payment away from zero: {refused}"
    );
    at_bob.pay(&id, "5", "settled").await.unwrap();
    for node in [&alice.main, &bob.main] {
        let closed = until("both to see the tally closed at zero", || async {
            detail(node, &id)
                .await
                .filter(|d| d.summary.stage == TallyStage::Closed)
        })
        .await;
        assert_eq!(closed.summary.balance, 0);
    }
    assert!(matches!(refused!(at_bob.pay(&id, "1", "")), TallyError::NotOpen));
}

#[tokio::test]
async fn the_history_comes_in_pages_newest_first_and_the_csv_lists_every_chit_once_oldest_first() {
    let alice = Party::new("Alice", 0).await;
    let bob = Party::new("Bob", 0).await;
    befriend(&alice, &bob).await;
    let id = open_tally(&alice, &bob).await;
    let tallies = alice.main.node.tallies();
    for n in 1..=23 {
        tallies.pay(&id, "1", &format!("item {n}")).await.unwrap();
    }
    until_balance(&alice.main, &id, -23_000, "alice's payments to be final").await;
    until_balance(&bob.main, &id, 23_000, "bob to see them final").await;

    for node in [&alice.main, &bob.main] {
        let mut pages = Vec::new();
        let mut before = None;
        loop {
            let page = node.node.tallies().chits(&id, before.as_deref(), 10).await.unwrap();
            pages.push(page.chits.len());
            before = page.before;
            let memos: Vec<String> = page.chits.iter().map(|c| c.memo.clone()).collect();
            let first = 23 - (pages.len() - 1) * 10;
            let expected: Vec<String> = (0..page.chits.len()).map(|i| format!("item {}", first - i)).collect();
            assert_eq!(memos, expected, "newest first, no repeats, no gaps");
            if before.is_none() {
                break;
            }
        }
        assert_eq!(pages, [10, 10, 3]);
    }

    let csv = tallies.csv(&id).await.unwrap();
    let lines: Vec<&str> = csv.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(lines[0], "date,by,kind,amount,memo,status,balance after");
    assert_eq!(lines.len(), 24, "a header and one line a chit");
    assert!(
        lines[1].ends_with(",us,transaction,-1.000,item 1,final,-1.000"),
        "{}",
        lines[1]
    );
    assert!(
        lines[23].ends_with(",us,transaction,-1.000,item 23,final,-23.000"),
        "{}",
        lines[23]
    );
    let at_bob = bob.main.node.tallies().csv(&id).await.unwrap();
    assert!(
        at_bob.contains(",partner,transaction,1.000,item 23,final,23.000"),
        "{at_bob}"
    );
}
