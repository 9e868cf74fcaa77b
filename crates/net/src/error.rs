//! Why network operations fail: one enum per family of operations.
//!
//! ```
//! use tallymesh_net::{NetError, RequestError};
//!
//! assert_eq!(NetError::Stopped.to_string(), "the network has stopped");
//! let refused = RequestError::TooLarge { size: 70_000, limit: 65_536 };
//! assert_eq!(refused.to_string(), "the request has 70000 bytes; the protocol allows 65536");
//! ```

use libp2p::Multiaddr;
use thiserror::Error;

use crate::frame::FrameError;
use crate::protocol::ProtocolName;

/// Why setting up the network, listening or dialling failed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum NetError {
    /// The transports could not be set up.
    #[error("cannot set up the network transports: {0}")]
    Transport(String),
    /// The settings contradict themselves (a protocol named twice, a limit
    /// gossipsub refuses).
    #[error("invalid network settings: {0}")]
    InvalidConfig(String),
    /// The address cannot be listened on (in use, not local, unsupported).
    #[error("cannot listen on {address}: {reason}")]
    Listen {
        /// The address asked for.
        address: Multiaddr,
        /// Why not.
        reason: String,
    },
    /// The address cannot be dialled.
    #[error("cannot dial {address}: {reason}")]
    Dial {
        /// The address asked for.
        address: Multiaddr,
        /// Why not.
        reason: String,
    },
    /// The event loop has stopped; the node is shutting down.
    #[error("the network has stopped")]
    Stopped,
}

/// Why a request got no answer.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RequestError {
    /// The protocol is not among the configured request protocols.
    #[error("{0} is not a configured request protocol")]
    UnknownProtocol(ProtocolName),
    /// The request is larger than the protocol allows; it was not sent.
    #[error("the request has {size} bytes; the protocol allows {limit}")]
    TooLarge {
        /// The request's size.
        size: usize,
        /// The protocol's request limit.
        limit: usize,
    },
    /// No connection to the peer could be opened (no known address, or
    /// none reachable).
    #[error("cannot reach the peer")]
    Unreachable,
    /// The peer does not speak the protocol.
    #[error("the peer does not support the protocol")]
    UnsupportedProtocol,
    /// No answer within the request timeout.
    #[error("the peer did not answer in time")]
    Timeout,
    /// The connection closed before the answer arrived.
    #[error("the connection closed before the answer")]
    ConnectionClosed,
    /// The peer closed or reset the stream without answering: it refused
    /// the request, found it too large or malformed, or had no answer.
    #[error("the peer closed the stream without an answer")]
    NoResponse,
    /// The answer broke the framing rules or the response limit; it was
    /// dropped and the peer reported as misbehaving.
    #[error("the answer was refused: {0}")]
    BadResponse(FrameError),
    /// The stream failed.
    #[error("the stream failed: {0}")]
    Stream(String),
    /// The event loop has stopped; the node is shutting down.
    #[error("the network has stopped")]
    Stopped,
}

/// Why an answer to an inbound request could not be sent.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RespondError {
    /// The answer is larger than the protocol allows; nothing was sent and
    /// the request is still open.
    #[error("the answer has {size} bytes; the protocol allows {limit}")]
    TooLarge {
        /// The answer's size.
        size: usize,
        /// The protocol's response limit.
        limit: usize,
    },
    /// This request has been answered already.
    #[error("the request has been answered already")]
    AlreadyAnswered,
    /// The request is no longer waiting: it timed out, or the network
    /// stopped.
    #[error("the request is no longer waiting for an answer")]
    Gone,
}

/// Why a Kademlia (DHT) operation failed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DhtError {
    /// The routing table is empty: no peer to ask. Connect to a peer or add
    /// an address first.
    #[error("no known DHT peers")]
    NoKnownPeers,
    /// The value is larger than the configured record limit.
    #[error("the record has {size} bytes; the limit is {limit}")]
    RecordTooLarge {
        /// The value's size.
        size: usize,
        /// The configured limit.
        limit: usize,
    },
    /// The local record store is full.
    #[error("the local record store is full")]
    StoreFull,
    /// The record was stored locally but no peer took a copy.
    #[error("no peer stored the record")]
    NotReplicated,
    /// No peer had a record under the key.
    #[error("no record under this key")]
    NotFound,
    /// The query ran out of time without a result.
    #[error("the DHT query timed out")]
    Timeout,
    /// The event loop has stopped; the node is shutting down.
    #[error("the network has stopped")]
    Stopped,
}

/// Why a gossipsub operation failed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum GossipError {
    /// Topic names are not empty.
    #[error("a topic needs a name")]
    EmptyTopic,
    /// The message is larger than the configured gossip limit.
    #[error("the message has {size} bytes; the limit is {limit}")]
    TooLarge {
        /// The message's size.
        size: usize,
        /// The configured limit.
        limit: usize,
    },
    /// No connected peer is subscribed to the topic.
    #[error("no peer is subscribed to the topic")]
    NoPeers,
    /// The same message was published before.
    #[error("the message was published already")]
    Duplicate,
    /// Every peer's send queue is full.
    #[error("the peers' send queues are full")]
    QueuesFull,
    /// The message could not be published for another reason (signing).
    #[error("cannot publish: {0}")]
    Publish(String),
    /// The event loop has stopped; the node is shutting down.
    #[error("the network has stopped")]
    Stopped,
}
