//! `tallymesh tally …` against two live headless nodes: every refusal is an
//! error in words with exit status 1 — amounts that are zero, negative or
//! malformed, a tally that is not there, the wrong party's move — and
//! nothing changes; `--json` prints what the node answers.

use std::path::Path;
use std::process::{Command, Output};

use tallymesh_scenarios::{
    cli_binary, spawn_headless_node, stop_with_sigterm, succeeded, until_blocking, wait_for_control,
};

const KEY_PASSPHRASE: &str = "key file passphrase for tallies";

fn tallymesh(args: &[&str], data_dir: &Path) -> Output {
    Command::new(cli_binary())
        .args(args)
        .arg("--data-dir")
        .arg(data_dir)
        .env_remove("TALLYMESH_DATA_DIR")
        .env("TALLYMESH_PASSPHRASE", KEY_PASSPHRASE)
        .output()
        .unwrap()
}

fn as_strs(args: &[String]) -> Vec<&str> {
    args.iter().map(String::as_str).collect()
}

fn json(args: &[&str], data_dir: &Path) -> serde_json::Value {
    let mut with_json = args.to_vec();
    with_json.push("--json");
    serde_json::from_str(&succeeded(&tallymesh(&with_json, data_dir))).unwrap()
}

/// Runs a command that must be refused, and returns what it said.
fn refused(args: &[&str], data_dir: &Path) -> String {
    let mut with_json = args.to_vec();
    with_json.push("--json");
    let out = tallymesh(&with_json, data_dir);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(1), "{args:?} was not refused: {stderr}");
    assert!(
        out.stdout.is_empty(),
        "{args:?} printed {:?}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(stderr.starts_with("error: "), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    stderr
}

/// Polls `tally show --json` until `check` holds.
fn until_shown(id: &str, data_dir: &Path, what: &str, check: impl Fn(&serde_json::Value) -> bool) -> serde_json::Value {
    until_blocking(what, || {
        let out = tallymesh(&["tally", "show", id, "--json"], data_dir);
        let shown: serde_json::Value = serde_json::from_slice(&out.stdout).ok()?;
        (out.status.success() && check(&shown)).then_some(shown)
    })
}

#[test]
fn tally_commands_refuse_bad_input_on_live_headless_nodes_and_change_nothing() {
    let dirs: Vec<_> = (0..2).map(|_| tempfile::tempdir().unwrap()).collect();
    let [alice, bob] = [dirs[0].path(), dirs[1].path()];
    for (dir, name) in [(alice, "Alice"), (bob, "Bob")] {
        succeeded(&tallymesh(&["id", "create", name, "--key-file"], dir));
    }
    let nodes: Vec<_> = [alice, bob]
        .iter()
        .map(|dir| spawn_headless_node(dir, KEY_PASSPHRASE).unwrap())
        .collect();
    for dir in [alice, bob] {
        assert!(wait_for_control(dir), "the node in {} never answered", dir.display());
    }
    let link = succeeded(&tallymesh(&["contact", "invite", "--expires", "1h"], alice))
        .trim()
        .to_owned();
    succeeded(&tallymesh(&["contact", "redeem", &link], bob));
    let bob_party = json(&["id", "show"], bob)["partyId"].as_str().unwrap().to_owned();

    // Offers with bad terms are refused, and none is kept.
    let offer = |extra: &[&str]| {
        let mut args = vec!["tally", "offer", "--to", &bob_party, "--side", "foil"];
        args.extend_from_slice(extra);
        args.into_iter().map(str::to_owned).collect::<Vec<String>>()
    };
    for (extra, expected) in [
        (&["--we-grant", "-5"][..], "cannot be negative"),
        (&["--we-grant", "abc"][..], "What they may owe us"),
        (
            &["--we-grant", "0", "--they-grant", "1.0001"][..],
            "What we may owe them",
        ),
        (
            &["--we-grant", "0", "--expires-hours", "0"][..],
            "An offer stays open from 1 to",
        ),
        (
            &["--we-grant", "0", "--node", "12D3KooWnotapeer"][..],
            "is not a device's peer id",
        ),
    ] {
        let stderr = refused(&as_strs(&offer(extra)), alice);
        assert!(stderr.contains(expected), "{extra:?}: {stderr}");
    }
    assert_eq!(json(&["tally", "list"], alice), serde_json::json!([]));

    // An unknown tally, and something that is no tally id.
    let missing = "01900000-0000-7000-8000-000000000000";
    for args in [
        vec!["tally", "show", missing],
        vec!["tally", "pay", missing, "1"],
        vec!["tally", "accept", missing],
        vec!["tally", "close", missing],
    ] {
        let stderr = refused(&args, alice);
        assert!(
            stderr.contains(&format!("There is no tally {missing}.")),
            "{args:?}: {stderr}"
        );
    }
    assert!(refused(&["tally", "show", "1234"], alice).contains("is not a tally id"));

    // The wrong party's moves while the offer waits for bob.
    let offered = json(&as_strs(&offer(&["--we-grant", "0", "--they-grant", "50"])), alice);
    let id = offered["id"].as_str().unwrap().to_owned();
    assert!(refused(&["tally", "accept", &id], alice).contains("A party cannot accept its own offer."));
    let counter = ["tally", "counter", &id, "--we-grant", "0", "--they-grant", "60"];
    assert!(refused(&counter, alice).contains("The offer waits for the partner's answer."));
    assert!(refused(&["tally", "pay", &id, "1"], alice).contains("The tally is not open."));
    until_shown(&id, bob, "bob to receive the offer", |shown| {
        shown["tally"]["summary"]["waitingFor"] == "us"
    });
    assert!(
        refused(&["tally", "counter", &id, "--we-grant", "-1", "--they-grant", "0"], bob)
            .contains("cannot be negative")
    );
    let accepted = json(&["tally", "accept", &id], bob);
    assert_eq!(accepted["stage"], "open");
    until_shown(&id, alice, "alice to see the tally open", |shown| {
        shown["tally"]["summary"]["stage"] == "open"
    });

    // Amounts on the open tally, and an invoice its payee tries to approve.
    for amount in ["0", "-3", "1.0001", "abc", "1,5"] {
        let stderr = refused(&["tally", "pay", &id, amount], alice);
        assert!(stderr.contains("The amount"), "{amount}: {stderr}");
        let stderr = refused(&["tally", "invoice", &id, amount], bob);
        assert!(stderr.contains("The amount"), "{amount}: {stderr}");
    }
    let invoice = json(&["tally", "invoice", &id, "2", "--memo", "delivery"], bob);
    let shown = until_shown(&id, bob, "bob's invoice to be final", |shown| {
        shown["tally"]["openInvoices"].as_array().is_some_and(|i| !i.is_empty())
    });
    let invoice_id = shown["tally"]["openInvoices"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(invoice["kind"], "invoice");
    assert!(refused(&["tally", "approve", &id, &invoice_id], bob).contains("That invoice is ours, not the partner's."));
    assert!(refused(&["tally", "approve", &id, "beef"], alice).contains("That is not an invoice id."));
    assert!(refused(&["tally", "set", &id], alice).contains("Change at least one setting."));
    assert!(refused(&["tally", "set", &id, "--reward", "150"], alice).contains("between -100 and 100"));

    // Nothing but bob's invoice was signed, and the balance is untouched.
    let shown = json(&["tally", "show", &id], alice);
    assert_eq!(shown["chits"].as_array().unwrap().len(), 1, "{shown}");
    assert_eq!(shown["tally"]["summary"]["balance"], 0);

    for node in nodes {
        assert!(stop_with_sigterm(node).unwrap().status.success());
    }
}
