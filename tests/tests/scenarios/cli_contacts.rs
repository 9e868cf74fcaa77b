//! `tallymesh contact …` with the real binary: alice's card from her data
//! directory, added into bob's, listed as JSON; the same by QR image.

use std::path::Path;
use std::process::{Command, Output};

use tallymesh_scenarios::{cli_binary, spawn_headless_node, stop_with_sigterm, succeeded, wait_for_control};

const KEY_PASSPHRASE: &str = "key file passphrase for contacts";

fn tallymesh(args: &[&str], data_dir: &Path) -> Output {
    Command::new(cli_binary())
        .args(args)
        .arg("--key-file")
        .arg("--data-dir")
        .arg(data_dir)
        .env_remove("TALLYMESH_DATA_DIR")
        .env("TALLYMESH_PASSPHRASE", KEY_PASSPHRASE)
        .output()
        .unwrap()
}

fn contacts_json(data_dir: &Path) -> Vec<serde_json::Value> {
    serde_json::from_str(&succeeded(&tallymesh(&["contact", "list", "--json"], data_dir))).unwrap()
}

#[test]
fn alices_card_from_her_data_directory_is_added_into_bobs_and_listed() {
    let alice = tempfile::tempdir().unwrap();
    let bob = tempfile::tempdir().unwrap();
    succeeded(&tallymesh(&["id", "create", "Alice"], alice.path()));
    succeeded(&tallymesh(&["id", "create", "Bob"], bob.path()));
    let shown: serde_json::Value =
        serde_json::from_str(&succeeded(&tallymesh(&["id", "show", "--json"], alice.path()))).unwrap();
    let party = shown["partyId"].as_str().unwrap().to_owned();

    let qr = alice.path().join("alice-card.png");
    let card = tallymesh(
        &[
            "contact",
            "card",
            "--qr",
            qr.to_str().unwrap(),
            "--invite",
            "--expires",
            "2h",
        ],
        alice.path(),
    );
    let link = succeeded(&card).trim().to_owned();
    assert!(link.starts_with("tallymesh:card?v=1&d="), "{link}");
    let stderr = String::from_utf8_lossy(&card.stderr);
    assert!(stderr.contains("one-time invite"), "{stderr}");
    assert!(std::fs::read(&qr).unwrap().starts_with(b"\x89PNG"));

    assert!(contacts_json(bob.path()).is_empty());
    let added = succeeded(&tallymesh(&["contact", "add", &link], bob.path()));
    assert!(added.contains("Alice") && added.contains(&party), "{added}");
    let listed = contacts_json(bob.path());
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["partyId"], party.as_str());
    assert_eq!(listed[0]["displayName"], "Alice");
    assert_eq!(listed[0]["devices"], 1);

    // A tampered link is refused in words, and nothing changes.
    let mut chars: Vec<char> = link.chars().collect();
    let middle = chars.len() / 2;
    chars[middle] = if chars[middle] == 'A' { 'B' } else { 'A' };
    let tampered: String = chars.into_iter().collect();
    let refused = tallymesh(&["contact", "add", &tampered], bob.path());
    assert_eq!(refused.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("was changed after it was made"), "{stderr}");

    // Removed, then added again from the QR image file.
    succeeded(&tallymesh(&["contact", "remove", &party], bob.path()));
    assert!(contacts_json(bob.path()).is_empty());
    succeeded(&tallymesh(
        &["contact", "add", "--image", qr.to_str().unwrap()],
        bob.path(),
    ));
    assert_eq!(contacts_json(bob.path())[0]["partyId"], party.as_str());

    // Alice's own card is refused on her node.
    let own = tallymesh(&["contact", "add", &link], alice.path());
    assert!(String::from_utf8_lossy(&own.stderr).contains("This is your own card."));
}

#[test]
fn one_time_and_reusable_invites_of_a_headless_node_are_redeemed_by_others_and_peers_name_them() {
    let dirs: Vec<_> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    let [alice, bob, carol] = [dirs[0].path(), dirs[1].path(), dirs[2].path()];
    for (dir, name) in [(alice, "Alice"), (bob, "Bob"), (carol, "Carol")] {
        succeeded(&tallymesh(&["id", "create", name], dir));
    }
    let nodes: Vec<_> = [alice, bob, carol]
        .iter()
        .map(|dir| spawn_headless_node(dir, KEY_PASSPHRASE).unwrap())
        .collect();
    for dir in [alice, bob, carol] {
        assert!(wait_for_control(dir), "the node in {} never answered", dir.display());
    }

    let link = succeeded(&tallymesh(&["contact", "invite", "--expires", "1h"], alice))
        .trim()
        .to_owned();
    let redeemed = succeeded(&tallymesh(&["contact", "redeem", &link], bob));
    assert!(redeemed.contains("Alice"), "{redeemed}");
    let alices: Vec<String> = contacts_json(alice)
        .iter()
        .map(|c| c["displayName"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(alices, ["Bob"]);

    let again = tallymesh(&["contact", "redeem", &link], carol);
    assert_eq!(again.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(
        stderr.contains("Alice refused: This invite was already used."),
        "{stderr}"
    );

    // A reusable invite (a shop counter) lets carol in, and bob again.
    let reusable = tallymesh(&["contact", "invite", "--reusable", "--expires", "1h"], alice);
    let reusable_link = succeeded(&reusable).trim().to_owned();
    let told = String::from_utf8_lossy(&reusable.stderr);
    assert!(told.contains("reusable invite"), "{told}");
    for (dir, who) in [(carol, "carol"), (bob, "bob")] {
        let redeemed = succeeded(&tallymesh(&["contact", "redeem", &reusable_link], dir));
        assert!(redeemed.contains("Alice"), "{who}: {redeemed}");
    }
    let mut alices: Vec<String> = contacts_json(alice)
        .iter()
        .map(|c| c["displayName"].as_str().unwrap().to_owned())
        .collect();
    alices.sort();
    assert_eq!(alices, ["Bob", "Carol"]);

    let peers = Command::new(cli_binary())
        .args(["peers", "--json", "--data-dir"])
        .arg(bob)
        .env_remove("TALLYMESH_DATA_DIR")
        .output()
        .unwrap();
    let peers: Vec<serde_json::Value> = serde_json::from_str(&succeeded(&peers)).unwrap();
    assert!(
        peers.iter().any(|p| p["displayName"] == "Alice"),
        "bob's node names alice's device: {peers:?}"
    );

    for node in nodes {
        assert!(stop_with_sigterm(node).unwrap().status.success());
    }
}
