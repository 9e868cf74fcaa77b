//! `tallymesh bench ledger` and `tallymesh bench chat`. The ledger: throughput and commit latency of a tally
//! ledger with real nodes in this process — real SQLite files in a
//! temporary directory (ledger records committed with `synchronous=FULL`),
//! real libp2p over TCP on 127.0.0.1.
//!
//! One test-network tally is served by every node; the first stock node
//! submits entries. Commit latency is the time from handing an entry to the
//! node until that node reports it certified (`EntryCertified`).
//! Figures, not pass/fail: see `docs/benchmarks.md`.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use clap::{Args, Subcommand};
use tallymesh_node::keystore::{KdfParams, KeystoreConfig, Passphrase};
use tallymesh_node::ledger_api::{TestGenesis, entry_id, test_entry};
use tallymesh_node::{Multiaddr, Node, NodeConfig, NodeEvent};
use tokio::sync::broadcast::error::RecvError;

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Entries per second and commit latency of a tally ledger on this machine
    Ledger(LedgerArgs),
    /// Chat messages per second and latency between two nodes on this machine
    Chat(ChatArgs),
}

#[derive(Debug, Args)]
pub struct ChatArgs {
    /// Messages of the full-load run
    #[arg(long, default_value_t = 5_000)]
    messages: u64,
    /// Messages sent and not yet received at once, in the full-load run
    #[arg(long, default_value_t = 256)]
    in_flight: usize,
    /// Send that run's messages at this many per second instead of as fast
    /// as they are taken (still at most `--in-flight` at once)
    #[arg(long, value_name = "R", value_parser = clap::value_parser!(u64).range(1..))]
    rate: Option<u64>,
}

#[derive(Debug, Args)]
pub struct LedgerArgs {
    /// Nodes of each party: 1+1 or 2+2 (up to 4+4)
    #[arg(long, default_value = "1+1", value_parser = parse_split)]
    nodes: (usize, usize),
    /// Entries of the full-load run
    #[arg(long, default_value_t = 20_000)]
    entries: u64,
    /// Submit at this many entries per second instead of as fast as the
    /// ledger takes them (then there is no separate low-load run)
    #[arg(long, value_name = "R")]
    rate: Option<u64>,
}

/// What one run measured.
struct Run {
    entries: u64,
    elapsed: Duration,
    latencies: Vec<Duration>,
}

impl Run {
    fn rate(&self) -> f64 {
        self.entries as f64 / self.elapsed.as_secs_f64().max(f64::EPSILON)
    }

    fn percentile(&self, p: f64) -> String {
        if self.latencies.is_empty() {
            return "-".to_owned();
        }
        let mut sorted = self.latencies.clone();
        sorted.sort();
        let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
        let at = sorted[index.min(sorted.len() - 1)];
        format!("{:.1} ms", at.as_secs_f64() * 1_000.0)
    }
}

/// Runs one `bench` command.
pub async fn run(command: BenchCommand) -> Result<(), String> {
    // Quiet unless asked: `RUST_LOG=debug` shows what the nodes do.
    let _logs = std::env::var_os("RUST_LOG").map(|_| tallymesh_node::logging::init(None));
    let root = std::env::temp_dir().join(format!("tallymesh-bench-{}", std::process::id()));
    let result = match command {
        BenchCommand::Ledger(args) => bench_ledger(&root, &args).await,
        BenchCommand::Chat(args) => bench_chat(&root, &args).await,
    };
    let _ = std::fs::remove_dir_all(&root);
    result
}

async fn bench_ledger(root: &std::path::Path, args: &LedgerArgs) -> Result<(), String> {
    let (stock, foil) = args.nodes;
    println!("machine: {}", machine());
    println!("nodes: {stock}+{foil} in one process, TCP on 127.0.0.1, SQLite synchronous=FULL");
    let nodes = start_nodes(root, stock + foil).await?;
    let outcome = async {
        let keys: Vec<String> = nodes.iter().map(|n| n.ledger().node_key()).collect();
        let genesis = TestGenesis::new(&keys[..stock], &keys[stock..]).map_err(|e| e.to_string())?;
        let mut addresses = Vec::new();
        for node in &nodes {
            let status = node.status().await.map_err(|e| e.to_string())?;
            for address in status.listen_addrs {
                let full: Multiaddr = format!("{address}/p2p/{}", status.peer_id)
                    .parse()
                    .map_err(|e| format!("{e}"))?;
                addresses.push((status.peer_id.clone(), full));
            }
        }
        for node in &nodes {
            let own = node.net().local_peer_id().to_string();
            let others: Vec<Multiaddr> = addresses
                .iter()
                .filter(|(peer, _)| *peer != own)
                .map(|(_, a)| a.clone())
                .collect();
            node.ledger()
                .serve(&genesis, &others)
                .await
                .map_err(|e| e.to_string())?;
        }
        let submitter = &nodes[0];
        let tally = genesis.tally_id.clone();
        // The first entry also connects the nodes.
        measure(submitter, &tally, 1, Some(10), 0).await?;
        match args.rate {
            Some(rate) => {
                let run = measure(submitter, &tally, args.entries, Some(rate), 1).await?;
                report(&format!("at {rate} entries/s"), &run);
            }
            None => {
                let low = measure(submitter, &tally, 200, Some(100), 1).await?;
                report("low load (100 entries/s)", &low);
                let full = measure(submitter, &tally, args.entries, None, 2).await?;
                report("full load", &full);
            }
        }
        let view = submitter.ledger().show(&tally).await.map_err(|e| e.to_string())?;
        println!("blocks certified: {}", view.height.saturating_sub(1));
        Ok::<(), String>(())
    }
    .await;
    for node in &nodes {
        node.shutdown().await;
    }
    outcome
}

fn report(what: &str, run: &Run) {
    let sampled = if run.latencies.len() as u64 == run.entries {
        String::new()
    } else {
        format!(" (of {} entries whose event was not missed)", run.latencies.len())
    };
    println!(
        "{what}: {} entries in {:.2} s = {:.0} entries/s; commit latency p50 {}, p99 {}{sampled}",
        run.entries,
        run.elapsed.as_secs_f64(),
        run.rate(),
        run.percentile(0.5),
        run.percentile(0.99),
    );
}

/// Most entries submitted and not yet certified: below the pending pool
/// (4,096) of every node, so that none is refused.
const IN_FLIGHT: usize = 2_048;

/// Submits `count` entries (paced at `rate` per second if given) and waits
/// until all are certified on the submitting node.
async fn measure(node: &Node, tally: &str, count: u64, rate: Option<u64>, run: u8) -> Result<Run, String> {
    let mut events = node.events();
    let mut nonce = [0u8; 16];
    nonce[0] = run;
    nonce[1..9].copy_from_slice(&u64::from(std::process::id()).to_be_bytes());
    let submitted_at = std::sync::Arc::new(std::sync::Mutex::new(HashMap::<String, Instant>::new()));
    let start = Instant::now();
    let mut latencies = Vec::with_capacity(usize::try_from(count).unwrap_or(0));
    let mut certified = 0u64;
    let mut sent = 0u64;
    let mut lagged = false;
    let mut tasks = tokio::task::JoinSet::new();
    let hang_guard = Duration::from_secs(600);
    while certified < count {
        if start.elapsed() > hang_guard {
            return Err(format!(
                "only {certified} of {count} entries were certified in {hang_guard:?}"
            ));
        }
        // Submit what is due.
        let due = match rate {
            Some(rate) => (start.elapsed().as_secs_f64() * rate as f64) as u64 + 1,
            None => count,
        }
        .min(count);
        while sent < due && (sent - certified) < IN_FLIGHT as u64 {
            let entry = test_entry(&nonce, sent);
            submitted_at
                .lock()
                .map_err(|_| "a lock was poisoned".to_owned())?
                .insert(entry_id(&entry), Instant::now());
            let ledger = node.ledger();
            let tally = tally.to_owned();
            tasks.spawn(async move { ledger.submit(&tally, entry).await });
            sent += 1;
        }
        while let Some(done) = tasks.try_join_next() {
            match done {
                Ok(Ok(_)) => {}
                Ok(Err(e)) => return Err(e.to_string()),
                Err(e) => return Err(e.to_string()),
            }
        }
        // Take certifications until nothing more is due.
        let wait = match rate {
            Some(_) if sent < count => Duration::from_millis(2),
            _ => Duration::from_millis(100),
        };
        let received = tokio::time::timeout(wait, events.recv()).await;
        if lagged && matches!(received, Err(_) | Ok(Err(RecvError::Lagged(_)))) && sent == count && tasks.is_empty() {
            // Events were missed: once the ledger holds nothing pending,
            // every entry still open was certified (its latency unknown).
            let view = node.ledger().show(tally).await.map_err(|e| e.to_string())?;
            if view.pending == 0 {
                let mut open = submitted_at.lock().map_err(|_| "a lock was poisoned".to_owned())?;
                certified += open.len() as u64;
                open.clear();
            }
        }
        match received {
            Ok(Ok(NodeEvent::EntryCertified { tally_id, entry_id, .. })) if tally_id == tally => {
                let at = submitted_at
                    .lock()
                    .map_err(|_| "a lock was poisoned".to_owned())?
                    .remove(&entry_id);
                if let Some(at) = at {
                    latencies.push(at.elapsed());
                    certified += 1;
                }
            }
            Ok(Ok(_)) | Err(_) => {}
            Ok(Err(RecvError::Lagged(_))) => lagged = true,
            Ok(Err(RecvError::Closed)) => return Err("the node stopped".to_owned()),
        }
    }
    Ok(Run {
        entries: count,
        elapsed: start.elapsed(),
        latencies,
    })
}

async fn start_nodes(root: &std::path::Path, count: usize) -> Result<Vec<Node>, String> {
    let mut nodes = Vec::with_capacity(count);
    for i in 0..count {
        let dir: PathBuf = root.join(format!("node-{i}"));
        let config = NodeConfig {
            control_endpoint: false,
            ..NodeConfig::new(dir)
                .with_listen(vec!["/ip4/127.0.0.1/tcp/0".parse().map_err(|e| format!("{e}"))?])
                // Bench nodes are thrown away: a key file with cheap key
                // derivation, never the OS keychain.
                .with_keystore(KeystoreConfig::key_file(Passphrase::new("tallymesh bench node")))
                .with_file_kdf(KdfParams::INSECURE_FOR_TESTS)
                .with_device_name(format!("Bench node {i}"))
                .with_lan_discovery(false)
                .with_dht_server(true)
        };
        match Node::start(config).await {
            Ok(node) => nodes.push(node),
            Err(e) => {
                for node in &nodes {
                    node.shutdown().await;
                }
                return Err(format!("bench node {i} did not start: {e}"));
            }
        }
    }
    Ok(nodes)
}

/// The CPU model and core count from /proc/cpuinfo, where there is one.
fn machine() -> String {
    let info = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = info
        .lines()
        .find_map(|l| {
            l.strip_prefix("model name")
                .map(|r| r.trim_start_matches([' ', '\t', ':']).to_owned())
        })
        .unwrap_or_else(|| std::env::consts::ARCH.to_owned());
    let cores = info.lines().filter(|l| l.starts_with("processor")).count().max(
        std::thread::available_parallelism()
            .map(std::num::NonZeroUsize::get)
            .unwrap_or(1),
    );
    format!("{model}, {cores} cores ({})", std::env::consts::OS)
}

fn parse_split(text: &str) -> Result<(usize, usize), String> {
    let bad = || format!("{text:?} is not a split of nodes like 1+1 or 2+2");
    let (a, b) = text.split_once('+').ok_or_else(bad)?;
    let a: usize = a.trim().parse().map_err(|_| bad())?;
    let b: usize = b.trim().parse().map_err(|_| bad())?;
    if !(1..=4).contains(&a) || !(1..=4).contains(&b) {
        return Err(format!("each party has 1 to 4 nodes in a benchmark, not {text}"));
    }
    Ok((a, b))
}

/// `tallymesh bench chat`: two nodes in this process (real SQLite files,
/// libp2p over TCP on 127.0.0.1), contacts of each other. Latency is the
/// time from `send_text` on the sender until the receiver tells of the
/// message (`chatMessage`): encrypting, the sender's durable write, the
/// request, decrypting and the receiver's durable write. Messages/s is
/// messages received over the run's time.
async fn bench_chat(root: &std::path::Path, args: &ChatArgs) -> Result<(), String> {
    println!("machine: {}", machine());
    println!("nodes: 2 in one process, TCP on 127.0.0.1, SQLite synchronous=FULL, Olm sessions");
    let nodes = start_nodes(root, 2).await?;
    let outcome = async {
        let (alice, bob) = (&nodes[0], &nodes[1]);
        alice
            .identity()
            .create("Bench Alice")
            .await
            .map_err(|e| e.to_string())?;
        bob.identity().create("Bench Bob").await.map_err(|e| e.to_string())?;
        let link = alice
            .contacts()
            .my_card_link(Some(tallymesh_node::contacts::InviteSpec {
                reusable: false,
                expires_in: Duration::from_secs(600),
            }))
            .await
            .map_err(|e| e.to_string())?;
        let alice_party = bob
            .contacts()
            .redeem_link(&link)
            .await
            .map_err(|e| e.to_string())?
            .party_id;
        let bob_party = alice
            .contacts()
            .list()
            .await
            .map_err(|e| e.to_string())?
            .first()
            .map(|c| c.party_id.clone())
            .ok_or("the contacts did not meet")?;
        // Sessions both ways before measuring.
        chat_run(alice, bob, &bob_party, 1, Some(10), 1).await?;
        chat_run(bob, alice, &alice_party, 1, Some(10), 1).await?;
        let low = chat_run(alice, bob, &bob_party, 200, Some(100), 1).await?;
        report_chat("low load (100 messages/s)", &low);
        let full = chat_run(alice, bob, &bob_party, args.messages, args.rate, args.in_flight).await?;
        let what = match args.rate {
            Some(rate) => format!("at {rate} messages/s (at most {} in flight)", args.in_flight),
            None => format!("full load ({} in flight)", args.in_flight),
        };
        report_chat(&what, &full);
        Ok::<(), String>(())
    }
    .await;
    for node in &nodes {
        node.shutdown().await;
    }
    outcome
}

fn report_chat(what: &str, run: &Run) {
    println!(
        "{what}: {} messages in {:.2} s = {:.0} messages/s; latency p50 {}, p99 {}",
        run.entries,
        run.elapsed.as_secs_f64(),
        run.rate(),
        run.percentile(0.5),
        run.percentile(0.99),
    );
}

/// Sends `count` messages from `from` to `to` (paced at `rate` per second
/// if given, with at most `in_flight` not yet received) and waits until
/// `to` has them all.
async fn chat_run(
    from: &Node,
    to: &Node,
    to_party: &str,
    count: u64,
    rate: Option<u64>,
    in_flight: usize,
) -> Result<Run, String> {
    let mut events = to.events();
    let sent_at = std::sync::Arc::new(std::sync::Mutex::new(HashMap::<String, Instant>::new()));
    let start = Instant::now();
    let mut arrived = HashMap::<String, Instant>::new();
    let mut sent = 0u64;
    let mut received = 0u64;
    let mut sending = tokio::task::JoinSet::new();
    let deadline = Instant::now() + Duration::from_secs(600);
    while received < count {
        if Instant::now() > deadline {
            return Err(format!("only {received} of {count} messages arrived in ten minutes"));
        }
        while sent < count && (sent - received) < in_flight as u64 {
            if let Some(rate) = rate {
                let due = start + Duration::from_secs_f64(sent as f64 / rate as f64);
                if due > Instant::now() {
                    break;
                }
            }
            let chat = from.chat();
            let party = to_party.to_owned();
            let sent_at = sent_at.clone();
            let text = format!("bench message {sent}");
            sending.spawn(async move {
                let began = Instant::now();
                let message = chat.send_text(&party, &text).await.map_err(|e| e.to_string())?;
                sent_at
                    .lock()
                    .map_err(|_| "a poisoned lock".to_owned())?
                    .entry(message.id)
                    .or_insert(began);
                Ok::<(), String>(())
            });
            sent += 1;
        }
        while let Some(done) = sending.try_join_next() {
            done.map_err(|e| e.to_string())??;
        }
        let wait = match rate {
            Some(_) => Duration::from_millis(2),
            None => Duration::from_millis(50),
        };
        match tokio::time::timeout(wait, events.recv()).await {
            Ok(Ok(NodeEvent::ChatMessage { message })) if !message.outgoing => {
                if arrived.insert(message.id, Instant::now()).is_none() {
                    received += 1;
                }
            }
            Ok(Ok(_)) | Err(_) => {}
            Ok(Err(RecvError::Lagged(missed))) => return Err(format!("the benchmark fell behind by {missed} events")),
            Ok(Err(RecvError::Closed)) => return Err("the receiving node stopped".into()),
        }
    }
    let elapsed = start.elapsed();
    while let Some(done) = sending.join_next().await {
        done.map_err(|e| e.to_string())??;
    }
    let began = sent_at.lock().map_err(|_| "a poisoned lock".to_owned())?;
    let latencies = arrived
        .iter()
        .filter_map(|(id, at)| began.get(id).map(|b| at.saturating_duration_since(*b)))
        .collect();
    Ok(Run {
        entries: count,
        elapsed,
        latencies,
    })
}
