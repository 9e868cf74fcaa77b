//! Runs the ledger simulator over many seeds, or replays one.
//!
//! ```text
//! cargo run --release -p tallymesh-protocol --example sim -- --seeds 100000
//! cargo run -p tallymesh-protocol --example sim -- --seed 1234 --trace
//! ```
//!
//! Options: `--seeds N` (how many, default 10000), `--from S` (first seed,
//! default 0), `--seed S` (just this one), `--trace` (print what happens),
//! `--threads T` (default: every core). Exits with status 1 if any seed
//! breaks an invariant, printing the command that replays each.

use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use tallymesh_protocol::sim::{self, Options, Outcome, Scenario, Violation};

struct Args {
    from: u64,
    seeds: u64,
    trace: bool,
    threads: usize,
}

fn parse() -> Result<Args, String> {
    let mut args = Args {
        from: 0,
        seeds: 10_000,
        trace: false,
        threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut number = |name: &str| -> Result<u64, String> {
            it.next()
                .and_then(|v| v.replace('_', "").parse().ok())
                .ok_or_else(|| format!("{name} needs a number"))
        };
        match arg.as_str() {
            "--seeds" => args.seeds = number("--seeds")?,
            "--from" => args.from = number("--from")?,
            "--seed" => {
                args.from = number("--seed")?;
                args.seeds = 1;
            }
            "--threads" => args.threads = usize::try_from(number("--threads")?.max(1)).unwrap_or(1),
            "--trace" => args.trace = true,
            "--help" | "-h" => {
                return Err("usage: sim [--seeds N] [--from S] [--seed S] [--trace] [--threads T]".into());
            }
            other => return Err(format!("unknown option {other}; try --help")),
        }
    }
    Ok(args)
}

#[derive(Default)]
struct Totals {
    runs: u64,
    blocks: u64,
    entries: u64,
    steps: u64,
    deliveries: u64,
    double_signed: u64,
    refused: u64,
    sim_millis: u64,
    violations: Vec<Violation>,
}

impl Totals {
    fn add(&mut self, result: Result<Outcome, Violation>) {
        self.runs += 1;
        match result {
            Ok(o) => {
                self.blocks += o.blocks;
                self.entries += o.entries as u64;
                self.steps += o.steps;
                self.deliveries += o.deliveries;
                self.double_signed += o.double_signed;
                self.refused += o.refused;
                self.sim_millis += o.millis;
            }
            Err(v) => self.violations.push(v),
        }
    }
}

fn main() -> ExitCode {
    let args = match parse() {
        Ok(args) => args,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    if args.seeds == 1 {
        let scenario = Scenario::generate(args.from);
        println!("seed {}: {}", args.from, scenario.describe());
        return match sim::run_scenario(&scenario, Options { trace: args.trace }) {
            Ok(o) => {
                println!(
                    "ok: {} blocks, {} entries certified everywhere after {} simulated ms; {} steps, {} messages delivered, {} double-signing proofs, {} messages refused",
                    o.blocks, o.entries, o.millis, o.steps, o.deliveries, o.double_signed, o.refused
                );
                ExitCode::SUCCESS
            }
            Err(v) => {
                println!("{v}");
                ExitCode::FAILURE
            }
        };
    }
    let started = Instant::now();
    let next = Arc::new(AtomicU64::new(args.from));
    let end = args.from.saturating_add(args.seeds);
    let totals = Arc::new(Mutex::new(Totals::default()));
    let workers: Vec<_> = (0..args.threads)
        .map(|_| {
            let (next, totals) = (Arc::clone(&next), Arc::clone(&totals));
            std::thread::spawn(move || {
                let mut local = Totals::default();
                loop {
                    let seed = next.fetch_add(1, Ordering::Relaxed);
                    if seed >= end {
                        break;
                    }
                    local.add(sim::run(seed));
                }
                if let Ok(mut t) = totals.lock() {
                    t.runs += local.runs;
                    t.blocks += local.blocks;
                    t.entries += local.entries;
                    t.steps += local.steps;
                    t.deliveries += local.deliveries;
                    t.double_signed += local.double_signed;
                    t.refused += local.refused;
                    t.sim_millis += local.sim_millis;
                    t.violations.extend(local.violations);
                }
            })
        })
        .collect();
    for worker in workers {
        let _ = worker.join();
    }
    let elapsed = started.elapsed();
    let Ok(mut t) = totals.lock() else {
        eprintln!("a worker panicked");
        return ExitCode::FAILURE;
    };
    t.violations.sort_by_key(|v| v.seed);
    println!(
        "{} seeds ({}..{}) in {:.1} s on {} threads: {} violations",
        t.runs,
        args.from,
        end,
        elapsed.as_secs_f64(),
        args.threads,
        t.violations.len()
    );
    println!(
        "  {} blocks and {} entries certified, {} steps, {} messages delivered, {} double-signing proofs, {} messages refused, {:.0} simulated s",
        t.blocks,
        t.entries,
        t.steps,
        t.deliveries,
        t.double_signed,
        t.refused,
        t.sim_millis as f64 / 1000.0
    );
    for v in t.violations.iter().take(20) {
        println!("{v}");
    }
    if t.violations.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
