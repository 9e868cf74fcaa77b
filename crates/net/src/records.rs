//! Which DHT records peers may store on this node.
//!
//! ```
//! use tallymesh_net::{RecordPolicy, RecordVerdict};
//!
//! // Keep only values that start with "card:", and only one per key.
//! let policy = RecordPolicy::new(|_key, offered, kept| {
//!     if !offered.starts_with(b"card:") {
//!         RecordVerdict::Reject("not a card".into())
//!     } else if kept.is_some() {
//!         RecordVerdict::Ignore
//!     } else {
//!         RecordVerdict::Store
//!     }
//! });
//! assert_eq!(policy.judge(b"k", b"junk", None), RecordVerdict::Reject("not a card".into()));
//! assert_eq!(policy.judge(b"k", b"card:1", None), RecordVerdict::Store);
//! ```
//!
//! Without a policy ([`crate::NetConfig::record_policy`] `None`) the DHT
//! stores whatever a peer puts, as libp2p does by default. With one, every
//! record a peer asks this node to store is judged first, in the event
//! loop, against the value kept under the same key: there is no moment at
//! which two offers are judged against the same kept value.

use std::fmt;
use std::sync::Arc;

/// What this node does with a record a peer asked it to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordVerdict {
    /// Store it, replacing the value kept under its key.
    Store,
    /// Don't store it; the peer did nothing wrong (an older copy of a
    /// record that peers replicate, a key this node does not keep).
    Ignore,
    /// Don't store it, and count it against the peer
    /// ([`crate::Misbehaviour::BadRecord`]): the value breaks the rules of
    /// its key.
    Reject(String),
}

type Judge = dyn Fn(&[u8], &[u8], Option<&[u8]>) -> RecordVerdict + Send + Sync;

/// Judges records offered by peers: given the key, the offered value and
/// the value kept under that key now (if any), says what to do.
#[derive(Clone)]
pub struct RecordPolicy(Arc<Judge>);

impl RecordPolicy {
    /// A policy that asks `judge(key, offered, kept)`.
    pub fn new(judge: impl Fn(&[u8], &[u8], Option<&[u8]>) -> RecordVerdict + Send + Sync + 'static) -> Self {
        RecordPolicy(Arc::new(judge))
    }

    /// The verdict on `offered` under `key`, with `kept` the value stored
    /// under it now.
    pub fn judge(&self, key: &[u8], offered: &[u8], kept: Option<&[u8]>) -> RecordVerdict {
        (self.0)(key, offered, kept)
    }
}

impl fmt::Debug for RecordPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RecordPolicy")
    }
}

/// Two policies are equal when they are the same policy (clones of one).
impl PartialEq for RecordPolicy {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for RecordPolicy {}
