//! Timeouts and limits of the ledger machine.

/// How long the ledger machine waits, and how much it holds.
///
/// All durations are milliseconds. Timeouts grow by `timeout_delta` per
/// round, for at most `timeout_growth_rounds` rounds: growing timeouts let
/// nodes whose clocks and links are slower than guessed still meet in a
/// round long enough to decide (Tendermint's liveness argument); the cap
/// bounds how long a healed network waits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerConfig {
    /// Wait for a proposal in round 0.
    pub timeout_propose: u64,
    /// Wait after a quorum of prevotes (for anything) before precommitting nil.
    pub timeout_prevote: u64,
    /// Wait after a quorum of precommits (for anything) before the next round.
    pub timeout_precommit: u64,
    /// Added to each timeout per round.
    pub timeout_delta: u64,
    /// Rounds after which timeouts stop growing.
    pub timeout_growth_rounds: u64,
    /// While a height is being decided, resend this node's current votes
    /// and offer its pending entries this often, in case messages were lost.
    pub rebroadcast_interval: u64,
    /// At most one block request to peers, and one unrequested push of
    /// blocks to each lagging peer, per this interval.
    pub sync_interval: u64,
    /// With nothing to decide, ask one peer for newer blocks this often (a
    /// node that missed the last block while offline learns of it).
    pub idle_sync_interval: u64,
    /// A fresh proposal whose block time is further than this ahead of the
    /// local clock gets a nil prevote.
    pub max_clock_skew: u64,
    /// Most entries a proposer puts in one block.
    pub max_block_entries: usize,
    /// Most bytes of entries a proposer puts in one block.
    pub max_block_bytes: usize,
    /// Most entries held as pending (submitted here or offered by peers).
    pub max_pending: usize,
    /// An entry that is not acceptable yet is dropped after this long.
    pub pending_ttl: u64,
    /// Certified blocks kept in memory to serve peers that fell behind.
    pub retained_blocks: usize,
    /// Most blocks sent in one reply.
    pub max_sync_blocks: usize,
    /// Votes for rounds more than this far ahead of the current round are
    /// not stored (they still count towards skipping rounds).
    pub future_rounds: u64,
}

impl Default for LedgerConfig {
    fn default() -> Self {
        LedgerConfig {
            timeout_propose: 1_000,
            timeout_prevote: 500,
            timeout_precommit: 500,
            timeout_delta: 250,
            timeout_growth_rounds: 20,
            rebroadcast_interval: 1_000,
            sync_interval: 500,
            idle_sync_interval: 30_000,
            max_clock_skew: 60_000,
            max_block_entries: 256,
            max_block_bytes: 256 * 1024,
            max_pending: 4_096,
            pending_ttl: 600_000,
            retained_blocks: 1_024,
            max_sync_blocks: 16,
            future_rounds: 64,
        }
    }
}

impl LedgerConfig {
    /// `base` grown for `round`.
    pub(crate) fn grown(&self, base: u64, round: u64) -> u64 {
        base.saturating_add(self.timeout_delta.saturating_mul(round.min(self.timeout_growth_rounds)))
    }
}
