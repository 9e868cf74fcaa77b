//! Scenario tests: several real nodes in one process, and the real
//! `tallymesh` binary as a child process.

// A failed step of a scenario should stop it with the step's error.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod cadre;
mod camera;
mod chat;
mod cli;
mod cli_contacts;
mod cli_identity;
mod contacts;
mod control;
mod handshake;
mod identity;
mod ledger;
mod links;
mod node_pair;
mod presence;
mod tallies;
