//! A test-network tally ledger on four real `tallymesh node run` processes
//! (2+2) on 127.0.0.1: entries are committed while one node after another
//! is killed with SIGKILL and restarted; at the end all four hold the same
//! chain with every entry, and no node's journal holds two different votes
//! of its own for one step.
//!
//! `TALLYMESH_LEDGER_SOAK_ENTRIES` sets how many entries (default 2,000).
//! With 10,000 entries (`TALLYMESH_LEDGER_SOAK_ENTRIES=10000 cargo test
//! --workspace four_nodes_agree`) it took 17 s on a loaded 2-core machine
//! in a debug build: 41 blocks, 4 kills.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use tallymesh_node::ledger::journal;
use tallymesh_protocol::ledger::Durable;
use tallymesh_scenarios::{TEST_PASSPHRASE, cli_binary, succeeded, temp_data_dir, wait_for_control};

/// Rounds of "submit a share of the entries, kill and restart a node".
const KILLS: usize = 4;

/// Generous: nothing in the assertions depends on time.
const HANG_GUARD: Duration = Duration::from_secs(180);

fn entries_wanted() -> u64 {
    std::env::var("TALLYMESH_LEDGER_SOAK_ENTRIES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(2_000)
}

/// A free TCP port on 127.0.0.1 (a node restarted there is found again).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn spawn_node(dir: &Path, port: u16) -> Child {
    Command::new(cli_binary())
        .args(["node", "run", "--key-file", "--listen"])
        .arg(format!("/ip4/127.0.0.1/tcp/{port}"))
        .args([
            "--no-lan-discovery",
            "--dht-server",
            "--ledger-prune-every",
            "0",
            "--data-dir",
        ])
        .arg(dir)
        .env_remove("TALLYMESH_DATA_DIR")
        .env("TALLYMESH_PASSPHRASE", TEST_PASSPHRASE)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

fn cli(dir: &Path, args: &[&str]) -> Output {
    Command::new(cli_binary())
        .args(args)
        .arg("--data-dir")
        .arg(dir)
        .env_remove("TALLYMESH_DATA_DIR")
        .output()
        .unwrap()
}

fn json(dir: &Path, args: &[&str]) -> serde_json::Value {
    serde_json::from_str(&succeeded(&cli(dir, args))).unwrap()
}

struct SoakNode {
    dir: PathBuf,
    port: u16,
    child: Child,
}

impl SoakNode {
    fn kill(&mut self) {
        // SIGKILL: no shutdown, no flush beyond what was committed.
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    fn start(&mut self) {
        self.child = spawn_node(&self.dir, self.port);
        assert!(
            wait_for_control(&self.dir),
            "the node in {} did not start",
            self.dir.display()
        );
    }
}

#[cfg(unix)]
#[test]
fn four_nodes_agree_on_one_chain_while_each_in_turn_is_killed_and_restarted() {
    let wanted = entries_wanted();
    let dirs: Vec<_> = (0..4).map(|_| temp_data_dir().unwrap()).collect();
    let mut nodes: Vec<SoakNode> = dirs
        .iter()
        .map(|d| {
            let port = free_port();
            SoakNode {
                dir: d.path().to_owned(),
                port,
                child: spawn_node(d.path(), port),
            }
        })
        .collect();
    for node in &nodes {
        assert!(wait_for_control(&node.dir));
    }
    let peers: Vec<String> = nodes
        .iter()
        .map(|n| {
            json(&n.dir, &["status", "--json"])["peerId"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    let addresses: Vec<String> = nodes
        .iter()
        .zip(&peers)
        .map(|(n, p)| format!("/ip4/127.0.0.1/tcp/{}/p2p/{p}", n.port))
        .collect();

    let genesis = dirs[0].path().join("genesis.json");
    let stock = format!("{},{}", peers[0], peers[1]);
    let foil = format!("{},{}", peers[2], peers[3]);
    let out = genesis.to_str().unwrap();
    succeeded(&cli(
        &nodes[0].dir,
        &["ledger", "genesis", "--stock", &stock, "--foil", &foil, "--out", out],
    ));
    let mut tally = String::new();
    for (i, node) in nodes.iter().enumerate() {
        let mut args = vec!["ledger", "serve", out];
        for (j, address) in addresses.iter().enumerate() {
            if i != j {
                args.extend(["--peer", address.as_str()]);
            }
        }
        tally = succeeded(&cli(&node.dir, &args)).trim().to_owned();
    }
    assert_eq!(tally.len(), 32, "{tally}");

    // Entries go in through the first stock node while the other nodes in
    // turn (a foil node, the other stock node, the other foil node, ...) are
    // killed and restarted; with 2+2 every node is needed for a quorum, so
    // each kill stalls the ledger until the node is back.
    let started = Instant::now();
    let share = wanted / KILLS as u64;
    for round in 0..KILLS {
        let count = if round + 1 == KILLS {
            wanted - share * (KILLS as u64 - 1)
        } else {
            share
        };
        let submitter = Command::new(cli_binary())
            .args(["ledger", "submit", &tally, "--count", &count.to_string(), "--data-dir"])
            .arg(&nodes[0].dir)
            .env_remove("TALLYMESH_DATA_DIR")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(300 + 150 * round as u64));
        let victim = [3, 1, 2][round % 3];
        nodes[victim].kill();
        nodes[victim].start();
        let submitted = succeeded(&submitter.wait_with_output().unwrap());
        assert_eq!(submitted.trim(), count.to_string());
    }

    // Poll until every node holds every entry in the same chain.
    let views = loop {
        let views: Vec<serde_json::Value> = nodes
            .iter()
            .map(|n| json(&n.dir, &["ledger", "show", &tally, "--json"]))
            .collect();
        let digests: BTreeSet<&str> = views.iter().map(|v| v["chainDigest"].as_str().unwrap()).collect();
        let settled = digests.len() == 1
            && views
                .iter()
                .all(|v| v["pending"] == 0 && v["entries"].as_u64().unwrap() >= wanted);
        if settled {
            break views;
        }
        assert!(
            started.elapsed() < HANG_GUARD,
            "the nodes did not agree on every entry: {views:#?}"
        );
        std::thread::sleep(Duration::from_millis(250));
    };
    let heights: BTreeSet<u64> = views.iter().map(|v| v["height"].as_u64().unwrap()).collect();
    assert_eq!(heights.len(), 1, "{views:#?}");
    eprintln!(
        "{wanted} entries, {} blocks, {KILLS} kills, {:.1} s",
        views[0]["height"].as_u64().unwrap() - 1,
        started.elapsed().as_secs_f64()
    );

    for node in &mut nodes {
        node.kill();
    }
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let tally_bytes: [u8; 16] = tallymesh_node::ledger_api::parse_tally_id(&tally).unwrap().0;
    for node in &nodes {
        let votes = runtime.block_on(async {
            let store = tallymesh_store::Store::open(&node.dir.join("tallymesh.sqlite"))
                .await
                .unwrap();
            let records = store.ledger_records(&tally_bytes).await.unwrap();
            store.close().await;
            records
        });
        let mut signed: BTreeMap<(u64, u64, u8), BTreeSet<Vec<u8>>> = BTreeMap::new();
        for record in votes {
            if let Durable::Vote {
                height,
                round,
                step,
                vote,
            } = journal::from_record(record).unwrap()
            {
                signed
                    .entry((height, round, journal::step_number(step)))
                    .or_default()
                    .insert(vote);
            }
        }
        assert!(
            !signed.is_empty(),
            "the journal of {} holds no vote",
            node.dir.display()
        );
        for (step, votes) in &signed {
            assert_eq!(votes.len(), 1, "{} signed twice for {step:?}", node.dir.display());
        }
    }
}
