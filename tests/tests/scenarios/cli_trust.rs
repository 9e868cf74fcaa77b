//! `tallymesh trust …` against live headless nodes: `node run` takes trust
//! parameters from flags and a file and `trust config` shows them;
//! `trust attest` signs an attestation the partner's node keeps, refusing
//! bad input in words; `trust evidence --json` lists the evidence the node
//! made of a ledger peer that signed two votes for one step.

use std::path::Path;
use std::process::{Command, Output};

use tallymesh_core::record::Signed;
use tallymesh_core::vote::{Step, Vote};
use tallymesh_core::{Digest, SecretKey};
use tallymesh_net::{KademliaMode, Multiaddr, NetConfig, ProtocolName, RequestProtocol};
use tallymesh_node::ledger_api::TestGenesis;
use tallymesh_protocol::ledger::Message;
use tallymesh_scenarios::{
    cli_binary, spawn_headless_node_with, stop_with_sigterm, succeeded, until_blocking, wait_for_control,
};

const KEY_PASSPHRASE: &str = "key file passphrase for trust";

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

fn json(args: &[&str], data_dir: &Path) -> serde_json::Value {
    let mut with_json = args.to_vec();
    with_json.push("--json");
    serde_json::from_str(&succeeded(&tallymesh(&with_json, data_dir))).unwrap()
}

/// Runs a command that must be refused, and returns what it said.
fn refused(args: &[&str], data_dir: &Path) -> String {
    let out = tallymesh(args, data_dir);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(1), "{args:?} was not refused: {stderr}");
    assert!(stderr.starts_with("error: "), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    stderr
}

/// Polls `args --json` until `check` finds something.
fn until_json<T>(args: &[&str], data_dir: &Path, what: &str, check: impl Fn(&serde_json::Value) -> Option<T>) -> T {
    until_blocking(what, || {
        let mut with_json = args.to_vec();
        with_json.push("--json");
        let out = tallymesh(&with_json, data_dir);
        let value: serde_json::Value = serde_json::from_slice(&out.stdout).ok()?;
        out.status.success().then(|| check(&value)).flatten()
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trust_commands_attest_show_evidence_and_the_parameters_of_live_headless_nodes() {
    let dirs: Vec<_> = (0..2).map(|_| tempfile::tempdir().unwrap()).collect();
    let [alice, bob] = [dirs[0].path(), dirs[1].path()];
    for (dir, name) in [(alice, "Alice"), (bob, "Bob")] {
        succeeded(&tallymesh(&["id", "create", name, "--key-file"], dir));
    }
    // Alice's trust parameters: a file, and a flag that wins over it.
    let parameters = alice.join("trust.json");
    std::fs::write(&parameters, r#"{"decayRate": 0.5, "timeout": 0.07}"#).unwrap();
    let alice_node = spawn_headless_node_with(
        alice,
        KEY_PASSPHRASE,
        &[
            "--trust-config",
            parameters.to_str().unwrap(),
            "--trust-decay-rate",
            "0.2",
            "--trust-decay-interval",
            "30m",
        ],
    )
    .unwrap();
    let bob_node = spawn_headless_node_with(bob, KEY_PASSPHRASE, &[]).unwrap();
    for dir in [alice, bob] {
        assert!(wait_for_control(dir), "the node in {} never answered", dir.display());
    }
    let config = json(&["trust", "config"], alice);
    assert_eq!(config["decayRate"], 0.2);
    assert_eq!(config["decayIntervalMs"], 1_800_000);
    assert_eq!(config["timeout"], 0.07);
    assert_eq!(config["start"], 0.5);
    assert_eq!(json(&["trust", "config"], bob)["decayRate"], 0.05);
    let text = succeeded(&tallymesh(&["trust", "config"], alice));
    assert!(text.contains("decay                 0.2 per 0.5 h"), "{text}");

    let link = succeeded(&tallymesh(&["contact", "invite", "--expires", "1h"], alice))
        .trim()
        .to_owned();
    succeeded(&tallymesh(&["contact", "redeem", &link], bob));
    let alice_party = json(&["id", "show"], alice)["partyId"].as_str().unwrap().to_owned();
    let bob_party = json(&["id", "show"], bob)["partyId"].as_str().unwrap().to_owned();

    // Bad input is refused in words, and nothing is kept.
    let words = refused(&["trust", "attest", &bob_party, "--score", "1.5"], alice);
    assert!(words.contains("The score is a number from 0 to 1."), "{words}");
    let words = refused(&["trust", "attest", &alice_party, "--score", "0.5"], alice);
    assert!(words.contains("You cannot attest yourself."), "{words}");
    let words = refused(&["trust", "attest", "did:key:nobody", "--score", "0.5"], alice);
    assert!(words.contains("neither a party id nor a peer id"), "{words}");
    assert_eq!(
        json(&["trust", "show", &bob_party], alice)["attestations"],
        serde_json::json!([])
    );

    // Alice vouches for Bob: her own word weighs 1.
    let made = json(
        &[
            "trust", "attest", &bob_party, "--score", "0.8", "--kind", "service", "--days", "30",
        ],
        alice,
    );
    assert_eq!(made["attester"], alice_party.as_str());
    assert_eq!(made["subject"], bob_party.as_str());
    assert_eq!(made["kind"], "service");
    assert_eq!(made["byMe"], true);
    assert_eq!(made["recommender"], 1.0);
    let boost = made["boost"].as_f64().unwrap();
    assert!((boost - 0.08).abs() < 1e-12, "{boost}");
    let shown = json(&["trust", "show", &bob_party], alice);
    let score = &shown["score"];
    let sum = score["earned"].as_f64().unwrap() + score["attested"].as_f64().unwrap();
    assert!((score["score"].as_f64().unwrap() - sum).abs() < 1e-12, "{score}");
    assert!((score["attested"].as_f64().unwrap() - 0.08).abs() < 1e-9, "{score}");
    // Vouched for above the start: good, or high once its own word counts.
    let expected = if score["score"].as_f64().unwrap() >= 0.6 {
        "high"
    } else {
        "good"
    };
    assert_eq!(score["level"], expected, "{score}");
    // Bob's node keeps the attestation about him.
    let kept = until_json(&["trust", "show", &bob_party], bob, "the attestation at Bob", |shown| {
        shown["attestations"]
            .as_array()
            .and_then(|list| list.iter().find(|a| a["attester"] == alice_party.as_str()).cloned())
    });
    assert_eq!(kept["attesterName"], "Alice");
    let text = succeeded(&tallymesh(&["trust", "show", &bob_party], bob));
    assert!(text.contains("Alice vouches for Bob: service at 0.80"), "{text}");

    // No evidence yet.
    assert_eq!(json(&["trust", "evidence"], alice), serde_json::json!([]));
    let text = succeeded(&tallymesh(&["trust", "evidence"], alice));
    assert_eq!(text.trim(), "No evidence of misbehaviour.");

    // A ledger peer of Alice's that signs two prevotes for one step.
    let culprit_seed = [77; 32];
    let config = NetConfig {
        mdns: false,
        kademlia_mode: KademliaMode::Client,
        request_protocols: vec![RequestProtocol::new(ProtocolName::new("ledger").unwrap())],
        ..NetConfig::default()
    };
    let (culprit, mut events, event_loop) =
        tallymesh_net::new(tallymesh_net::keypair_from_seed(&culprit_seed).unwrap(), config).unwrap();
    tokio::spawn(event_loop.run());
    tokio::spawn(async move { while events.recv().await.is_some() {} });
    let status = json(&["status"], alice);
    let alice_peer = status["peerId"].as_str().unwrap().to_owned();
    let genesis_file = alice.join("genesis.json");
    succeeded(&tallymesh(
        &[
            "ledger",
            "genesis",
            "--stock",
            &alice_peer,
            "--foil",
            &culprit.local_peer_id().to_string(),
            "--out",
            genesis_file.to_str().unwrap(),
        ],
        alice,
    ));
    succeeded(&tallymesh(&["ledger", "serve", genesis_file.to_str().unwrap()], alice));
    let genesis: TestGenesis = serde_json::from_str(&std::fs::read_to_string(&genesis_file).unwrap()).unwrap();
    let tally = genesis.to_genesis().unwrap().tally;
    let address: Multiaddr = format!("{}/p2p/{alice_peer}", status["listenAddrs"][0].as_str().unwrap())
        .parse()
        .unwrap();
    culprit.dial(address).await.unwrap();
    let key = SecretKey::from_seed(&culprit_seed);
    let ledger = ProtocolName::new("ledger").unwrap();
    let alice_id = alice_peer.parse().unwrap();
    for block in [Some(Digest([9; 32])), None] {
        let vote = Vote {
            tally,
            height: 1,
            round: 0,
            step: Step::Prevote,
            block,
        };
        let message = Message::Vote {
            tally,
            vote: Signed::sign(vote, &key).bytes().to_vec(),
        }
        .encode();
        // The dial may still be on its way: the request waits for it.
        culprit.request(alice_id, &ledger, message).await.unwrap();
    }
    let evidence = until_json(&["trust", "evidence"], alice, "the evidence", |list| {
        list.as_array().and_then(|list| list.first().cloned())
    });
    assert_eq!(evidence["kind"], "double-signed");
    assert_eq!(evidence["node"], culprit.local_peer_id().to_string().as_str());
    assert_eq!(evidence["reportedBy"], serde_json::Value::Null);
    assert!(
        evidence["summary"].as_str().unwrap().contains("two different prevotes"),
        "{evidence}"
    );
    let text = succeeded(&tallymesh(&["trust", "evidence"], alice));
    assert!(text.contains("[double-signed]"), "{text}");
    culprit.shutdown().await;

    for node in [alice_node, bob_node] {
        let out = stop_with_sigterm(node).unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
}
