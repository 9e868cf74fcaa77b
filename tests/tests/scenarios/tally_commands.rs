//! Every tally command checks what it is given and refuses, in words, what
//! it cannot do — zero, negative or malformed amounts, a tally that is not
//! there, the wrong party's move — changing nothing; and the commands of an
//! open tally do what they say: decline, trading variables, closing at zero,
//! history by pages, CSV.

use tallymesh_node::tallies::{SettingInput, TallyError, TallyStage, TallyTerms, Who};

use crate::tally_support::{Party, befriend, detail, offer, until};

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
