//! The ledger simulator over 2,000 seeds, split in eight tests so the
//! harness runs them on every core. More seeds:
//! `cargo run --release -p tallymesh-protocol --example sim -- --seeds 100000`.

use tallymesh_protocol::sim;

const SEEDS_PER_TEST: u64 = 250;

fn run_block(block: u64) {
    let from = block * SEEDS_PER_TEST;
    let failures: Vec<String> = (from..from + SEEDS_PER_TEST)
        .filter_map(|seed| sim::run(seed).err())
        .map(|v| v.to_string())
        .collect();
    assert!(
        failures.is_empty(),
        "{} of seeds {from}..{} broke an invariant:\n{}",
        failures.len(),
        from + SEEDS_PER_TEST,
        failures.join("\n")
    );
}

#[test]
fn seeds_0000_to_0249_keep_every_invariant() {
    run_block(0);
}

#[test]
fn seeds_0250_to_0499_keep_every_invariant() {
    run_block(1);
}

#[test]
fn seeds_0500_to_0749_keep_every_invariant() {
    run_block(2);
}

#[test]
fn seeds_0750_to_0999_keep_every_invariant() {
    run_block(3);
}

#[test]
fn seeds_1000_to_1249_keep_every_invariant() {
    run_block(4);
}

#[test]
fn seeds_1250_to_1499_keep_every_invariant() {
    run_block(5);
}

#[test]
fn seeds_1500_to_1749_keep_every_invariant() {
    run_block(6);
}

#[test]
fn seeds_1750_to_1999_keep_every_invariant() {
    run_block(7);
}
