//! Durable ledger appends per second, and the latency of one append.
//!
//! ```text
//! cargo run --release -p tallymesh-store --example ledger_append_bench
//! TALLYMESH_BENCH_DIR=/mnt/disk cargo run --release -p tallymesh-store --example ledger_append_bench
//! ```
//!
//! Each [`Store::ledger_append`] is one transaction committed with WAL and
//! `synchronous=FULL`, so every call pays at least one fsync of the
//! write-ahead log: the cost this measures. Batches of 1 record are a lone
//! vote; larger batches are vote + certified block pairs (the typical step:
//! a node stores the block it just certified and its first vote at the next
//! height). Blocks are 8 KiB (about 32 entries) with a 300-byte certificate,
//! votes 150 bytes. The raw fsync cost of the same file system is measured
//! first, for comparison, and the SQLite version is printed.
//!
//! The database lives in a fresh folder under `TALLYMESH_BENCH_DIR`, or the
//! system's temporary folder; a tmpfs there would make fsync free and the
//! figures meaningless, so the file system is printed.

use std::error::Error;
use std::io::{Seek, SeekFrom, Write};
use std::path::Path;
use std::time::{Duration, Instant};

use tallymesh_store::{LedgerRecord, Store};

const TALLY: [u8; 16] = [0x42; 16];
const VOTE_BYTES: usize = 150;
const BLOCK_BYTES: usize = 8 * 1024;
const CERTIFICATE_BYTES: usize = 300;

fn main() -> Result<(), Box<dyn Error>> {
    let base = std::env::var_os("TALLYMESH_BENCH_DIR")
        .map(Into::into)
        .unwrap_or_else(std::env::temp_dir);
    let dir = tempfile::tempdir_in(&base)?;
    print_machine(dir.path());

    println!();
    for (grow, what) in [
        (true, "appended to a growing file"),
        (false, "overwriting the same 4 KiB"),
    ] {
        let fsync = fsync_latencies(dir.path(), 500, grow)?;
        println!(
            "raw fdatasync after a 4 KiB write {what} (500 times): p50 {}, p99 {}",
            ms(percentile(&fsync, 50)),
            ms(percentile(&fsync, 99))
        );
    }

    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let version: String = runtime.block_on(async {
        use sqlx::Connection;
        let mut conn = sqlx::SqliteConnection::connect("sqlite::memory:").await?;
        let version = sqlx::query_scalar("SELECT sqlite_version()").fetch_one(&mut conn).await;
        conn.close().await?;
        version
    })?;
    println!("SQLite {version}, WAL, synchronous=FULL: one fsync of the log per append");
    println!();
    println!("| records per append | appends | durable appends/s | records/s | p50 latency | p99 latency |");
    println!("|---:|---:|---:|---:|---:|---:|");
    for (size, appends) in [(1, 2000), (2, 2000), (10, 1000), (100, 200)] {
        let run = runtime.block_on(append_run(dir.path(), size, appends))?;
        let total: Duration = run.iter().sum();
        let seconds = total.as_secs_f64();
        println!(
            "| {size} | {appends} | {:.0} | {:.0} | {} | {} |",
            appends as f64 / seconds,
            (appends * size) as f64 / seconds,
            ms(percentile(&run, 50)),
            ms(percentile(&run, 99)),
        );
    }
    Ok(())
}

/// Times `appends` appends of `size` records each to a fresh database,
/// after a few untimed ones that warm the page cache and the statements.
async fn append_run(dir: &Path, size: usize, appends: usize) -> Result<Vec<Duration>, Box<dyn Error>> {
    let path = dir.join(format!("bench-{size}.sqlite"));
    let store = Store::open(&path).await?;
    store.ledger_serve(&TALLY, &[0; 512], 0).await?;
    let mut height = 0;
    let mut next_batch = || {
        if size == 1 {
            height += 1;
            return vec![vote(height)];
        }
        (0..size / 2)
            .flat_map(|_| {
                height += 1;
                [
                    LedgerRecord::Block {
                        height,
                        block: vec![height as u8; BLOCK_BYTES],
                        certificate: vec![1; CERTIFICATE_BYTES],
                    },
                    vote(height + 1),
                ]
            })
            .collect::<Vec<_>>()
    };
    for _ in 0..20 {
        store.ledger_append(&TALLY, &next_batch()).await?;
    }
    let mut latencies = Vec::with_capacity(appends);
    for _ in 0..appends {
        let batch = next_batch();
        let start = Instant::now();
        store.ledger_append(&TALLY, &batch).await?;
        latencies.push(start.elapsed());
    }
    store.close().await;
    Ok(latencies)
}

fn vote(height: u64) -> LedgerRecord {
    LedgerRecord::Vote {
        height,
        round: 0,
        step: 0,
        vote: vec![7; VOTE_BYTES],
    }
}

/// How long a 4 KiB write plus `sync_data` takes in `dir`: appended (the
/// file grows, so the file system journals its new size too) or written
/// over the same place (as SQLite reuses its write-ahead log after a
/// checkpoint).
fn fsync_latencies(dir: &Path, times: usize, grow: bool) -> std::io::Result<Vec<Duration>> {
    let mut file = std::fs::File::create(dir.join(format!("fsync-probe-{grow}")))?;
    let page = [0x5a; 4096];
    let mut latencies = Vec::with_capacity(times);
    for _ in 0..times {
        if !grow {
            file.seek(SeekFrom::Start(0))?;
        }
        let start = Instant::now();
        file.write_all(&page)?;
        file.sync_data()?;
        latencies.push(start.elapsed());
    }
    Ok(latencies)
}

fn percentile(samples: &[Duration], p: usize) -> Duration {
    let mut sorted = samples.to_vec();
    sorted.sort();
    let index = (sorted.len().saturating_sub(1) * p).div_ceil(100);
    sorted.get(index).copied().unwrap_or_default()
}

fn ms(duration: Duration) -> String {
    format!("{:.2} ms", duration.as_secs_f64() * 1000.0)
}

/// CPU, cores and the file system holding `dir`, from `/proc` on Linux.
fn print_machine(dir: &Path) {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|line| line.strip_prefix("model name"))
        .and_then(|rest| rest.split_once(':'))
        .map_or("unknown", |(_, model)| model.trim());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!("CPU: {model}; cores available: {cores}");

    let dir = dir.canonicalize().unwrap_or_else(|_| dir.to_owned());
    let mounts = std::fs::read_to_string("/proc/mounts").unwrap_or_default();
    // The mount whose point is the longest prefix of the folder holds it.
    let mount = mounts
        .lines()
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            match fields.as_slice() {
                [device, point, kind, options, ..] if dir.starts_with(point) => {
                    Some((point.len(), format!("{kind} on {device} at {point} ({options})")))
                }
                _ => None,
            }
        })
        .max_by_key(|(length, _)| *length)
        .map_or_else(|| "unknown".to_owned(), |(_, mount)| mount);
    println!("folder: {}; file system: {mount}", dir.display());
    if mount.starts_with("tmpfs") {
        println!("warning: tmpfs keeps files in memory, so fsync costs nothing here");
    }
}
