//! The swarm's behaviour between real nodes on loopback.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod dht;
mod gossip;
mod limits;
mod presence;
mod relay;
mod requests;
mod support;
