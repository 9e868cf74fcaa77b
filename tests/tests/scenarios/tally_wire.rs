//! A modified client against the tally network: alice's laptop skips its
//! own checks and hands chits straight to the other nodes over
//! `/tallymesh/ledger/1` — one past the credit limit, one signed with a key
//! that is not the next in her chain. Every honest node (bob's, and alice's
//! own box) refuses both: neither is ever certified, and the balance moves
//! only by the honest payment that follows.

use tallymesh_core::tally::{ChitBody, ChitDraft, sign_chit};
use tallymesh_core::tally_network::{Side, TallyId};
use tallymesh_core::{SecretKey, Timestamp, Units};
use tallymesh_net::ProtocolName;
use tallymesh_protocol::ledger::Message;
use tallymesh_scenarios::TestNode;

use crate::tally_support::{Party, befriend, open_tally, until_balance};

/// Alice's party secret, read back from her recovery phrase: what a
/// modified client of hers holds.
async fn party_secret(node: &TestNode) -> SecretKey {
    let phrase = node.node.identity().recovery_phrase().await.unwrap();
    let mnemonic = bip39::Mnemonic::parse_in(bip39::Language::English, phrase.expose()).unwrap();
    let entropy: [u8; 32] = mnemonic.to_entropy().try_into().unwrap();
    SecretKey::from_seed(&entropy)
}

fn tally_id(id: &str) -> TallyId {
    let hex: String = id.chars().filter(|c| *c != '-').collect();
    let bytes: Vec<u8> = (0..32)
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect();
    TallyId::from_bytes(&bytes).unwrap()
}

fn payment(units: i64, memo: &str) -> ChitDraft {
    ChitDraft {
        by: Side::Foil,
        date: Timestamp::from_millis(
            u64::try_from(
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_millis(),
            )
            .unwrap(),
        ),
        memo: memo.to_owned(),
        body: ChitBody::Transaction {
            units: Units::new(units),
            invoice: None,
        },
    }
}

#[tokio::test]
async fn an_over_limit_chit_and_a_wrongly_signed_one_sent_straight_to_the_ledger_are_refused_by_every_honest_node() {
    let alice = Party::new("Alice", 1).await;
    let bob = Party::new("Bob", 0).await;
    befriend(&alice, &bob).await;
    // Alice (foil) may come to owe Bob 50.
    let id = open_tally(&alice, &bob).await;
    let tally = tally_id(&id);
    let secret = party_secret(&alice.main).await;

    // Alice's first chit, properly signed but past the limit; and a chit
    // signed by a key her chain never named.
    let over_limit = sign_chit(&secret, tally, 0, payment(60_000, "more than granted"));
    let stranger = SecretKey::from_seed(&[77; 32]);
    let wrongly_signed = sign_chit(&stranger, tally, 0, payment(1_000, "not alice's key"));
    let entries = Message::Entries {
        tally,
        entries: vec![over_limit.bytes().to_vec(), wrongly_signed.bytes().to_vec()],
    }
    .encode();
    let ledger = ProtocolName::new("ledger").unwrap();
    for honest in [&bob.main, &alice.members[0]] {
        let answer = alice
            .main
            .node
            .net()
            .request(honest.node.net().local_peer_id(), &ledger, entries.clone())
            .await
            .unwrap();
        assert_eq!(answer, vec![0], "taken for the tally's ledger to judge");
        // The ledger takes its inputs in order: by the time it answers where
        // it stands, it has judged both entries, and held neither.
        let shown = honest.node.ledger().show(&tally.to_string()).await.unwrap();
        assert_eq!(shown.pending, 0, "both entries were refused, not held for a block");
    }

    // The honest payment that follows uses the same place in alice's key
    // chain: had either been certified, this one could not be.
    alice.main.node.tallies().pay(&id, "5", "honest").await.unwrap();
    until_balance(&bob.main, &id, 5_000, "bob to see the honest payment final").await;
    until_balance(&alice.members[0], &id, -5_000, "alice's box to see it final").await;
    until_balance(&alice.main, &id, -5_000, "alice's laptop to see it final").await;

    for honest in [&bob.main, &alice.members[0], &alice.main] {
        let chits = honest.node.tallies().chits(&id, None, 50).await.unwrap().chits;
        assert_eq!(chits.len(), 1, "only the honest chit is kept");
        assert_eq!(chits[0].memo, "honest");
        let shown = honest.node.ledger().show(&tally.to_string()).await.unwrap();
        assert_eq!(shown.entries, 1, "one entry certified in all");
        assert!(
            shown.pending == 0,
            "nothing else waits to be certified: {} pending",
            shown.pending
        );
    }
}
