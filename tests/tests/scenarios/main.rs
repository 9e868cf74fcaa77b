//! Scenario tests: several real nodes in one process, and the real
//! `tallymesh` binary as a child process.

// A failed step of a scenario should stop it with the step's error.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod cadre;
mod cadre_relay;
mod camera;
mod chat;
mod cli;
mod cli_contacts;
mod cli_identity;
mod cli_tallies;
mod cli_trust;
mod contacts;
mod control;
mod dht_cards;
mod handshake;
mod identity;
mod ledger;
mod links;
mod misbehaviour;
mod node_pair;
mod presence;
mod tallies;
mod tally_commands;
mod tally_negotiation;
mod tally_nodes;
mod tally_support;
mod tally_wire;
mod trust;
