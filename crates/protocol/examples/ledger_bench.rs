//! Certified blocks per second of the ledger machines, with no faults.
//!
//! ```text
//! cargo run --release -p tallymesh-protocol --example ledger_bench
//! ```
//!
//! Every node of a 1+1 and a 3+4 tally network runs the real machine in one
//! thread; messages go through a FIFO queue with no delay, loss or
//! persistence cost. The figure is therefore the CPU cost of consensus
//! itself (signing, verifying, encoding, the rules) for the whole network,
//! the ceiling a real deployment cannot beat; the network and the store
//! (fsync per step) come on top. Besides wall-clock rates it prints rates
//! per CPU-second of the benchmark thread (read from `/proc` on Linux),
//! which other load on the machine does not distort.

use std::collections::VecDeque;
use std::time::Instant;

use tallymesh_core::block::Genesis;
use tallymesh_core::record::Signed;
use tallymesh_core::tally_network::{TallyId, TallyNetwork};
use tallymesh_core::{Digest, PublicKey, SecretKey, Timestamp};
use tallymesh_protocol::ledger::{Input, Ledger, LedgerConfig, Message};
use tallymesh_protocol::sim::{SimChit, SimRules, SimState};

const TALLY: TallyId = TallyId([1; 16]);

struct Run {
    blocks: u64,
    entries: u64,
    messages: u64,
    seconds: f64,
    cpu_seconds: Option<f64>,
}

/// CPU time of this thread so far, in seconds (Linux: utime + stime of
/// `/proc/thread-self/stat`, in clock ticks of 1/100 s).
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").ok()?;
    // Fields after the command name (which is in parentheses).
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let user: f64 = fields.get(11)?.parse().ok()?;
    let system: f64 = fields.get(12)?.parse().ok()?;
    Some((user + system) / 100.0)
}

fn bench(stock: usize, foil: usize, blocks: u64, per_block: usize) -> Result<Run, String> {
    let keys: Vec<SecretKey> = (0..stock + foil)
        .map(|i| SecretKey::from_seed(&[20 + i as u8; 32]))
        .collect();
    let public: Vec<PublicKey> = keys.iter().map(SecretKey::public).collect();
    let network = TallyNetwork::new(public[..stock].to_vec(), public[stock..].to_vec()).map_err(|e| e.to_string())?;
    let parties = [SecretKey::from_seed(&[1; 32]), SecretKey::from_seed(&[2; 32])];
    let genesis = Genesis {
        tally: TALLY,
        hash: Digest::of(b"bench"),
        time: Timestamp::from_millis(1_000),
        network,
    };
    let rules = SimRules {
        tally: TALLY,
        stock: parties[0].public(),
        foil: parties[1].public(),
    };
    let mut nodes: Vec<Ledger<SimRules>> = keys
        .iter()
        .map(|k| {
            Ledger::new(
                LedgerConfig::default(),
                SecretKey::from_seed(&k.seed()),
                genesis.clone(),
                rules.clone(),
                SimState::default(),
            )
        })
        .collect();
    // Chits are made before the clock starts: signing them is the
    // parties' cost, not the network's.
    let total = blocks as usize * per_block;
    let chits: Vec<Vec<u8>> = (0..total)
        .map(|serial| {
            let chit = SimChit {
                tally: TALLY,
                serial: serial as u64,
            };
            Signed::sign(chit, &parties[serial % 2]).bytes().to_vec()
        })
        .collect();
    let mut queue: VecDeque<(usize, Input)> = VecDeque::new();
    let mut messages = 0u64;
    let mut now = 10_000u64;
    let started = Instant::now();
    let cpu_started = cpu_seconds();
    for (b, batch) in chits.chunks(per_block).enumerate() {
        now += 1;
        let submitter = b % nodes.len();
        if let [entry] = batch {
            queue.push_back((submitter, Input::Submit { entry: entry.clone() }));
        } else {
            // A batch arrives as one offer, as a node's backlog would.
            let offer = Message::Entries {
                tally: TALLY,
                entries: batch.to_vec(),
            }
            .encode();
            for i in 0..nodes.len() {
                queue.push_back((
                    i,
                    Input::Received {
                        from: public[submitter],
                        bytes: offer.clone(),
                    },
                ));
            }
        }
        while let Some((i, input)) = queue.pop_front() {
            let out = nodes[i].step(Timestamp::from_millis(now), input);
            for message in out.send {
                for to in message.to {
                    if let Some(j) = public.iter().position(|k| *k == to) {
                        messages += 1;
                        queue.push_back((
                            j,
                            Input::Received {
                                from: public[i],
                                bytes: message.bytes.clone(),
                            },
                        ));
                    }
                }
            }
        }
        let expected = b as u64 + 2;
        if let Some(late) = nodes.iter().find(|n| n.height() != expected) {
            return Err(format!("block {b} was not certified everywhere: {}", late.summary()));
        }
    }
    Ok(Run {
        blocks,
        entries: total as u64,
        messages,
        seconds: started.elapsed().as_secs_f64(),
        cpu_seconds: cpu_seconds().zip(cpu_started).map(|(end, start)| end - start),
    })
}

fn main() -> std::process::ExitCode {
    println!(
        "| network | entries per block | blocks | certified blocks/s | entries/s | blocks per CPU-s | entries per CPU-s | messages per block |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    let cases = [(1, 1, 2_000, 1), (1, 1, 200, 64), (3, 4, 300, 1), (3, 4, 50, 64)];
    for (stock, foil, blocks, per_block) in cases {
        match bench(stock, foil, blocks, per_block) {
            Ok(run) => {
                let per_cpu = |n: u64| {
                    run.cpu_seconds
                        .filter(|c| *c > 0.0)
                        .map_or("–".to_owned(), |c| format!("{:.0}", n as f64 / c))
                };
                println!(
                    "| {stock}+{foil} | {per_block} | {} | {:.0} | {:.0} | {} | {} | {:.1} |",
                    run.blocks,
                    run.blocks as f64 / run.seconds,
                    run.entries as f64 / run.seconds,
                    per_cpu(run.blocks),
                    per_cpu(run.entries),
                    run.messages as f64 / run.blocks as f64
                );
            }
            Err(e) => {
                eprintln!("{stock}+{foil}: {e}");
                return std::process::ExitCode::FAILURE;
            }
        }
    }
    std::process::ExitCode::SUCCESS
}
