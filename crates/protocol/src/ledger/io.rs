//! What goes into the ledger machine and what comes out of one step.

use tallymesh_core::tally_network::TallyNetwork;
use tallymesh_core::vote::Step;
use tallymesh_core::{Digest, PublicKey, Timestamp};

/// One input to [`Ledger::step`](super::Ledger::step).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// Time passed: fire due timeouts, resend what may have been lost.
    Tick,
    /// Bytes arrived from a node. `from` is the node key the transport
    /// authenticated (the sender, not necessarily the signer of what the
    /// bytes carry: votes may be relayed).
    Received {
        /// The authenticated sender.
        from: PublicKey,
        /// The envelope bytes, untrusted.
        bytes: Vec<u8>,
    },
    /// An entry made on this node (a chit the party signed, a network
    /// change both parties signed), to be held as pending until certified.
    Submit {
        /// The entry as its author signed it.
        entry: Vec<u8>,
    },
}

/// Everything one step produced.
///
/// **Order of execution matters.** The caller must first commit every
/// record of `persist` durably, in one transaction, in order; only then send
/// `send`; then hand `events` to the application. A vote, a lock or a
/// certified block that is sent, or acted upon, and then lost in a crash
/// could make this node vote twice or forget a final block.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[must_use = "records must be persisted and messages sent"]
pub struct Output {
    /// Records to commit durably before anything in `send` leaves.
    pub persist: Vec<Durable>,
    /// Messages to send once `persist` is durable.
    pub send: Vec<Outgoing>,
    /// What happened, for the application.
    pub events: Vec<Event>,
    /// When to call `step` with [`Input::Tick`] next, if the machine has a
    /// timer running. Earlier ticks are harmless.
    pub wake_at: Option<Timestamp>,
}

impl Output {
    /// Whether the step produced nothing to do.
    pub fn is_empty(&self) -> bool {
        self.persist.is_empty() && self.send.is_empty() && self.events.is_empty()
    }
}

/// Envelope bytes for some nodes of the tally network.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    /// The node keys to send to (never this node).
    pub to: Vec<PublicKey>,
    /// The envelope bytes.
    pub bytes: Vec<u8>,
}

/// A record the machine needs back after a restart, to be stored before the
/// messages of the same step are sent. [`Ledger::restore`](super::Ledger::restore)
/// takes them back, in the order they were produced.
///
/// Records of heights at or below a durable [`Durable::Block`] other than
/// blocks themselves may be deleted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Durable {
    /// A vote this node signed. Stored before it is sent, so that after a
    /// crash the node sends the same vote again rather than a different one.
    Vote {
        /// Height voted on.
        height: u64,
        /// Round.
        round: u64,
        /// Step.
        step: Step,
        /// The signed vote bytes.
        vote: Vec<u8>,
    },
    /// A proposal this node made (as the proposer of the round), stored
    /// before it is sent so that a restarted proposer never proposes a
    /// second block in the same round.
    Proposal {
        /// Height.
        height: u64,
        /// Round.
        round: u64,
        /// The `ledger/proposal` message bytes, as sent.
        message: Vec<u8>,
    },
    /// This node locked on a block (it is about to precommit it). The lock
    /// must survive a crash: forgetting it could let the node prevote a
    /// conflicting block in a later round. It carries the quorum of
    /// prevotes that justified it, so that after a restart the node can
    /// still show why it re-proposes the block; without them a restarted,
    /// locked node could stall the height.
    Lock {
        /// Height.
        height: u64,
        /// Round in which the node locked.
        round: u64,
        /// The encoded block locked on.
        block: Vec<u8>,
        /// The signed prevotes for the block in that round.
        proof: Vec<Vec<u8>>,
    },
    /// A certified block: final. Stored before this node votes at the next
    /// height or tells anyone about it.
    Block {
        /// Its height.
        height: u64,
        /// The encoded block.
        block: Vec<u8>,
        /// Its certificate's bytes.
        certificate: Vec<u8>,
    },
    /// An entry submitted on this node, pending until certified.
    Pending {
        /// The entry's id (SHA-256 of its bytes).
        id: Digest,
        /// The entry.
        entry: Vec<u8>,
    },
    /// Entries that are no longer pending: certified, or refused for good.
    Settled {
        /// Their ids.
        ids: Vec<Digest>,
    },
}

/// Something the application may want to know or show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A block became final here.
    BlockCertified {
        /// Its height.
        height: u64,
        /// Its hash.
        hash: Digest,
        /// The round whose precommits certified it.
        round: u64,
        /// The encoded block.
        block: Vec<u8>,
        /// The certificate's bytes.
        certificate: Vec<u8>,
    },
    /// An entry became final, in the block at `height`.
    EntryCertified {
        /// The entry's id.
        id: Digest,
        /// The block's height.
        height: u64,
    },
    /// An entry submitted here is held as pending.
    EntryPending {
        /// The entry's id.
        id: Digest,
    },
    /// An entry submitted here was refused and will not be offered again.
    EntryRefused {
        /// The entry's id.
        id: Digest,
        /// Why.
        reason: String,
    },
    /// The tally network changes from `height` on.
    NetworkChanged {
        /// The first height decided by the new network.
        height: u64,
        /// The new network.
        network: TallyNetwork,
    },
    /// A node signed two different votes for one step, or two proposals for
    /// one round: proof anyone can check, to be gossiped.
    DoubleSigned {
        /// The node.
        node: PublicKey,
        /// The first signed record's bytes.
        first: Vec<u8>,
        /// The second.
        second: Vec<u8>,
    },
    /// A message was refused: malformed, wrongly signed, from a non-member,
    /// of another tally or version. Nothing changed.
    Refused {
        /// The node it came from.
        from: PublicKey,
        /// Why.
        reason: String,
    },
    /// A node asked for blocks older than this machine keeps in memory; the
    /// application should send them from its store with
    /// [`blocks_message`](super::blocks_message).
    BlocksWanted {
        /// The node that asked.
        peer: PublicKey,
        /// The first height it wants.
        from_height: u64,
    },
}
