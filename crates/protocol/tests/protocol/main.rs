//! The protocol crate's integration tests, one target so it links once:
//! the ledger machine step by step, each Tendermint rule by itself, and the
//! seeded simulator.

// Test helpers outside `#[test]` functions may unwrap too.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod ledger;
mod ledger_rounds;
mod simulation;
mod support;
