//! `/tallymesh/ledger/1`: ledger messages between the nodes of a tally
//! network over libp2p request-response (`docs/protocol/ledger.md`,
//! "Wire").
//!
//! A node key of a tally network is the node's libp2p identity key, so the
//! peer id to send to follows from the key, and the key of a sender from
//! the peer id its connection authenticated. Each request carries one
//! ledger envelope; the answer is one byte ([`Ack`]). Sending is fire and
//! forget: [`LedgerWire::send`] queues the bytes for each peer and returns;
//! a task per peer takes what is queued, merges `ledger/entries` messages
//! of one tally into as few as the protocol allows, and sends them with at
//! most [`IN_FLIGHT_PER_PEER`] requests open at once. A full queue drops
//! the message: the ledger resends what matters and asks for what it
//! missed.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use tallymesh_core::PublicKey;
use tallymesh_core::tally_network::TallyId;
use tallymesh_net::{PeerId, ProtocolName, RequestProtocol};
use tallymesh_protocol::Limits;
use tallymesh_protocol::ledger::{MAX_ENTRIES_PER_MESSAGE, Message};
use tokio::sync::{Semaphore, mpsc};

use super::LedgerTransport;
use super::error::ReceiveError;

/// How many messages may wait for one peer before more are dropped.
pub const QUEUE_PER_PEER: usize = 4096;

/// How many requests to one peer may be open at once.
pub const IN_FLIGHT_PER_PEER: usize = 16;

/// The largest answer: one byte, with room to grow.
pub const MAX_ACK_BYTES: usize = 64;

/// Bytes of entries merged into one `ledger/entries` message, well under
/// the envelope limit.
const MERGED_ENTRY_BYTES: usize = 256 * 1024;

/// The ledger protocol as the swarm is configured with it: requests up to
/// the ledger envelope limit ([`Limits::default`], 1 MiB), checked on the
/// length header before anything is read; answers of at most
/// [`MAX_ACK_BYTES`].
pub(crate) fn request_protocol(name: ProtocolName) -> RequestProtocol {
    RequestProtocol::new(name).with_limits(Limits::default().max_frame_bytes, MAX_ACK_BYTES)
}

/// The one-byte answer to a ledger request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Ack {
    /// Handed to the tally's ledger.
    Taken = 0,
    /// This node serves no ledger for the tally the message names.
    NotServed = 1,
    /// The tally's queue was full or the node is stopping: dropped.
    Dropped = 2,
    /// The envelope speaks a ledger protocol version this node does not.
    UnsupportedVersion = 3,
}

impl Ack {
    /// The answer's bytes.
    pub fn bytes(self) -> Vec<u8> {
        vec![self as u8]
    }

    /// How the node answers what [`crate::TallyLedgers::receive`] made of a
    /// request: an ack, or `None` for bytes that are no ledger message
    /// (the request is refused). The sender of a malformed message or one
    /// of another version is struck either way.
    pub fn of(received: &Result<(), ReceiveError>) -> Option<Ack> {
        match received {
            Ok(()) => Some(Ack::Taken),
            Err(ReceiveError::NotServed { .. }) => Some(Ack::NotServed),
            Err(ReceiveError::Busy { .. } | ReceiveError::Stopped) => Some(Ack::Dropped),
            Err(ReceiveError::Malformed(tallymesh_protocol::ledger::MessageError::Envelope(
                tallymesh_protocol::EnvelopeError::Version(_),
            ))) => Some(Ack::UnsupportedVersion),
            Err(ReceiveError::Malformed(_)) => None,
        }
    }
}

/// The node key of a peer: its Ed25519 identity key, or `None` for a peer
/// id of another kind (no Tallymesh node has one).
pub fn node_key_of(peer: &PeerId) -> Option<PublicKey> {
    tallymesh_net::ed25519_public_key(peer).and_then(|bytes| PublicKey::from_bytes(&bytes).ok())
}

/// The peer id of the node whose node key is `key`.
pub fn peer_of(key: &PublicKey) -> Option<PeerId> {
    tallymesh_net::peer_id_of_ed25519(key.as_bytes())
}

/// The [`LedgerTransport`] of a running node: sends over the swarm.
pub struct LedgerWire {
    net: tallymesh_net::Client,
    protocol: ProtocolName,
    /// Told of every request a peer let time out.
    timeouts: Option<crate::trust::TrustObserver>,
    runtime: tokio::runtime::Handle,
    peers: Mutex<HashMap<PublicKey, mpsc::Sender<Vec<u8>>>>,
}

impl std::fmt::Debug for LedgerWire {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LedgerWire")
            .field("protocol", &self.protocol)
            .finish_non_exhaustive()
    }
}

impl LedgerWire {
    /// A transport over `net` on `protocol`, telling `timeouts` (the
    /// node's trust book) of every request a peer let time out. Must be
    /// made inside a Tokio runtime: the per-peer senders run there.
    pub(crate) fn new(
        net: tallymesh_net::Client,
        protocol: ProtocolName,
        timeouts: Option<crate::trust::TrustObserver>,
    ) -> Arc<LedgerWire> {
        Arc::new(LedgerWire {
            net,
            protocol,
            timeouts,
            runtime: tokio::runtime::Handle::current(),
            peers: Mutex::default(),
        })
    }

    /// The queue of `to`, with its sender task started on first use.
    fn queue(&self, to: &PublicKey) -> Option<mpsc::Sender<Vec<u8>>> {
        let mut peers = self.peers.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(queue) = peers.get(to)
            && !queue.is_closed()
        {
            return Some(queue.clone());
        }
        let Some(peer) = peer_of(to) else {
            tracing::debug!("a tally network lists a node key that is no Ed25519 key; nothing sent to it");
            return None;
        };
        let (queue, messages) = mpsc::channel(QUEUE_PER_PEER);
        self.runtime.spawn(send_to_peer(
            self.net.clone(),
            self.protocol.clone(),
            peer,
            messages,
            self.timeouts.clone(),
        ));
        peers.insert(*to, queue.clone());
        Some(queue)
    }
}

impl LedgerTransport for LedgerWire {
    fn send(&self, to: &[PublicKey], bytes: Vec<u8>) {
        for key in to {
            let Some(queue) = self.queue(key) else {
                continue;
            };
            // Full: dropped, as a lossy link would; the ledger resends.
            if queue.try_send(bytes.clone()).is_err() {
                tracing::debug!(peer = ?peer_of(key), "ledger queue full; a message was dropped");
            }
        }
    }
}

/// Sends what is queued for `peer` until the transport is dropped; a
/// request the peer lets time out counts against it in `timeouts`.
async fn send_to_peer(
    net: tallymesh_net::Client,
    protocol: ProtocolName,
    peer: PeerId,
    mut messages: mpsc::Receiver<Vec<u8>>,
    timeouts: Option<crate::trust::TrustObserver>,
) {
    let in_flight = Arc::new(Semaphore::new(IN_FLIGHT_PER_PEER));
    let limits = Limits::default();
    while let Some(first) = messages.recv().await {
        let mut batch = vec![first];
        while batch.len() < QUEUE_PER_PEER {
            match messages.try_recv() {
                Ok(more) => batch.push(more),
                Err(_) => break,
            }
        }
        for bytes in merge_entries(batch, &limits) {
            let Ok(permit) = in_flight.clone().acquire_owned().await else {
                return;
            };
            let net = net.clone();
            let protocol = protocol.clone();
            let timeouts = timeouts.clone();
            tokio::spawn(async move {
                match net.request(peer, &protocol, bytes).await {
                    Ok(answer) if answer.first() == Some(&(Ack::Taken as u8)) => {}
                    Ok(answer) if answer.first() == Some(&(Ack::UnsupportedVersion as u8)) => {
                        tracing::info!(%peer, "a tally network node speaks another ledger protocol version");
                    }
                    Ok(answer) => tracing::trace!(%peer, ?answer, "a ledger message was not taken"),
                    Err(tallymesh_net::RequestError::Timeout) => {
                        tracing::debug!(%peer, "a ledger message timed out");
                        if let Some(timeouts) = &timeouts {
                            timeouts.timeout(peer, "a ledger message timed out");
                        }
                    }
                    Err(error) => tracing::debug!(%peer, "a ledger message was not delivered: {error}"),
                }
                drop(permit);
            });
        }
    }
}

/// The messages of `batch` with every `ledger/entries` message of one
/// tally merged into as few as the protocol allows, in the place of the
/// first; other messages keep their order.
pub(crate) fn merge_entries(batch: Vec<Vec<u8>>, limits: &Limits) -> Vec<Vec<u8>> {
    if batch.len() < 2 {
        return batch;
    }
    enum Slot {
        Bytes(Vec<u8>),
        Entries(TallyId),
    }
    let mut slots = Vec::with_capacity(batch.len());
    let mut entries: HashMap<TallyId, Vec<Vec<u8>>> = HashMap::new();
    for bytes in batch {
        match Message::decode(&bytes, limits) {
            Ok(Message::Entries { tally, entries: more }) => {
                let held = entries.entry(tally).or_default();
                if held.is_empty() {
                    slots.push(Slot::Entries(tally));
                }
                held.extend(more);
            }
            _ => slots.push(Slot::Bytes(bytes)),
        }
    }
    let mut out = Vec::with_capacity(slots.len());
    for slot in slots {
        match slot {
            Slot::Bytes(bytes) => out.push(bytes),
            Slot::Entries(tally) => {
                let mut chunk = Vec::new();
                let mut size = 0usize;
                for entry in entries.remove(&tally).unwrap_or_default() {
                    if !chunk.is_empty()
                        && (chunk.len() >= MAX_ENTRIES_PER_MESSAGE || size + entry.len() > MERGED_ENTRY_BYTES)
                    {
                        out.push(
                            Message::Entries {
                                tally,
                                entries: std::mem::take(&mut chunk),
                            }
                            .encode(),
                        );
                        size = 0;
                    }
                    size += entry.len();
                    chunk.push(entry);
                }
                if !chunk.is_empty() {
                    out.push(Message::Entries { tally, entries: chunk }.encode());
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use tallymesh_core::SecretKey;

    use super::*;

    #[test]
    fn a_node_key_and_its_peer_id_name_each_other() {
        let seed = [9; 32];
        let key = SecretKey::from_seed(&seed).public();
        let peer = tallymesh_net::keypair_from_seed(&seed).unwrap().public().to_peer_id();
        assert_eq!(peer_of(&key), Some(peer));
        assert_eq!(node_key_of(&peer), Some(key));
        assert_eq!(node_key_of(&PeerId::random()), None);
    }

    #[test]
    fn entries_of_one_tally_are_merged_and_other_messages_keep_their_order() {
        let a = TallyId([1; 16]);
        let b = TallyId([2; 16]);
        let entries = |tally, n: u8| {
            Message::Entries {
                tally,
                entries: vec![vec![n; 10]],
            }
            .encode()
        };
        let sync = Message::SyncRequest {
            tally: a,
            from_height: 3,
        }
        .encode();
        let mut batch = vec![entries(a, 1), sync.clone(), entries(b, 2)];
        for n in 3..(3 + MAX_ENTRIES_PER_MESSAGE as u16) {
            batch.push(entries(a, u8::try_from(n % 250).unwrap()));
        }
        let merged = merge_entries(batch, &Limits::default());
        assert_eq!(merged.len(), 4, "a, the rest of a, sync, b");
        let count = |bytes: &[u8]| match Message::decode(bytes, &Limits::default()).unwrap() {
            Message::Entries { entries, .. } => entries.len(),
            _ => 0,
        };
        assert_eq!(count(&merged[0]), MAX_ENTRIES_PER_MESSAGE);
        assert_eq!(count(&merged[1]), 1);
        assert_eq!(merged[2], sync);
        assert_eq!(count(&merged[3]), 1);
        assert_eq!(
            merge_entries(vec![b"junk".to_vec(), b"more".to_vec()], &Limits::default()).len(),
            2
        );
    }

    #[test]
    fn malformed_bytes_get_no_ack() {
        assert_eq!(Ack::of(&Ok(())), Some(Ack::Taken));
        let malformed = tallymesh_protocol::ledger::message_tally(b"junk", &Limits::default()).unwrap_err();
        assert_eq!(Ack::of(&Err(ReceiveError::Malformed(malformed))), None);
    }

    #[test]
    fn another_version_gets_its_own_ack() {
        let future = tallymesh_protocol::Envelope::new(tallymesh_core::ProtocolVersion(9), "ledger/vote", vec![0xa0]);
        let refused = tallymesh_protocol::ledger::message_tally(&future.encode(), &Limits::default()).unwrap_err();
        assert_eq!(
            Ack::of(&Err(ReceiveError::Malformed(refused))),
            Some(Ack::UnsupportedVersion)
        );
        assert_eq!(Ack::UnsupportedVersion.bytes(), [3]);
    }
}
