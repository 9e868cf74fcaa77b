//! The node's verdict on a gossip message, which decides whether the swarm
//! forwards it.
//!
//! ```no_run
//! # async fn example(mut events: tokio::sync::mpsc::Receiver<tallymesh_net::NetEvent>) {
//! use tallymesh_net::NetEvent;
//!
//! while let Some(event) = events.recv().await {
//!     if let NetEvent::Gossip { bytes, validation, .. } = event {
//!         // Check the signed record inside before passing it on.
//!         if bytes.starts_with(b"valid") {
//!             validation.accept();
//!         } else {
//!             validation.reject();
//!         }
//!     }
//! }
//! # }
//! ```
//!
//! Gossipsub runs in strict mode with validation by the application: a
//! message with a missing or bad signature never reaches the node, and a
//! well-signed one is forwarded to other peers only once the node has
//! checked its content and accepted it.

use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::oneshot;

/// What the node decided about a gossip message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum GossipVerdict {
    /// Valid: forward it.
    Accept,
    /// Invalid: drop it and count it against the peer that forwarded it.
    Reject,
    /// Not ours to judge (stale, duplicate content): drop it quietly.
    Ignore,
}

/// Decides whether a received gossip message travels on
/// ([`crate::NetEvent::Gossip`]).
///
/// Only the first verdict counts; clones share it. Dropping every clone
/// without a verdict ignores the message: it is not forwarded and nobody is
/// penalised.
#[derive(Clone)]
pub struct GossipValidation {
    id: u64,
    verdict: Arc<Mutex<Option<oneshot::Sender<GossipVerdict>>>>,
}

impl GossipValidation {
    pub(crate) fn new(id: u64) -> (Self, oneshot::Receiver<GossipVerdict>) {
        let (verdict, receiver) = oneshot::channel();
        (
            GossipValidation {
                id,
                verdict: Arc::new(Mutex::new(Some(verdict))),
            },
            receiver,
        )
    }

    /// A number that tells this message from every other one the event loop
    /// received.
    pub fn message_number(&self) -> u64 {
        self.id
    }

    /// The message is valid: forward it to the other peers of the topic.
    /// Returns false if a verdict was already given or the swarm has
    /// forgotten the message.
    pub fn accept(&self) -> bool {
        self.give(GossipVerdict::Accept)
    }

    /// The message is invalid: drop it, and let gossipsub count it against
    /// the peer that forwarded it. Returns false as [`Self::accept`] does.
    pub fn reject(&self) -> bool {
        self.give(GossipVerdict::Reject)
    }

    /// Drop the message without penalising anyone. Returns false as
    /// [`Self::accept`] does.
    pub fn ignore(&self) -> bool {
        self.give(GossipVerdict::Ignore)
    }

    fn give(&self, verdict: GossipVerdict) -> bool {
        let sender = self.verdict.lock().unwrap_or_else(PoisonError::into_inner).take();
        sender.is_some_and(|sender| sender.send(verdict).is_ok())
    }
}

impl std::fmt::Debug for GossipValidation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GossipValidation")
            .field("message_number", &self.id)
            .finish_non_exhaustive()
    }
}

/// Two handles are equal when they judge the same message.
impl PartialEq for GossipValidation {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
    }
}

impl Eq for GossipValidation {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_first_verdict_counts() {
        let (validation, mut verdict) = GossipValidation::new(1);
        let clone = validation.clone();
        assert!(clone.reject());
        assert!(!validation.accept());
        assert_eq!(verdict.try_recv().unwrap(), GossipVerdict::Reject);
    }

    #[test]
    fn dropping_every_clone_gives_no_verdict() {
        let (validation, mut verdict) = GossipValidation::new(1);
        drop(validation);
        assert_eq!(verdict.try_recv(), Err(oneshot::error::TryRecvError::Closed));
    }
}
