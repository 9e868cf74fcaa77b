//! The chat's group commit: every batch of writes handed over while a
//! transaction is being committed goes into the next one, so many messages
//! arriving at once cost one fsync, not one each. Batches are applied in
//! the order they were handed over.
//!
//! Each commit also writes the pickles of the Olm account and sessions that
//! moved ([`ChatCrypto::take_moved`]), taken under the lock every change to
//! them is made under, right after taking the batches handed over so far:
//! a ratchet is written once per commit, not once per item, and never older
//! than the items its batches carry (no item leaves with a message key that
//! a restart from the disk would use again).

use std::sync::{Arc, Mutex, PoisonError};

use tallymesh_store::{ChatWrite, Store};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use super::crypto::ChatCrypto;

/// The most writes committed in one transaction.
const MAX_WRITES_PER_COMMIT: usize = 4_096;

type Reply = oneshot::Sender<Result<Vec<bool>, String>>;

type Batches = mpsc::UnboundedReceiver<(Vec<ChatWrite>, Reply)>;

/// Hands batches of chat writes to the committing task.
#[derive(Debug, Clone)]
pub(crate) struct ChatWriter {
    queue: mpsc::UnboundedSender<(Vec<ChatWrite>, Reply)>,
}

/// A batch handed over, not yet known to be on disk.
pub(crate) struct Pending(oneshot::Receiver<Result<Vec<bool>, String>>);

impl Pending {
    /// Waits until the batch is on disk: for each write, whether it changed
    /// anything.
    pub(crate) async fn done(self) -> Result<Vec<bool>, crate::NodeError> {
        match self.0.await {
            Ok(Ok(changed)) => Ok(changed),
            Ok(Err(reason)) => Err(crate::NodeError::Chat(reason)),
            Err(_) => Err(crate::NodeError::Stopped),
        }
    }
}

/// Takes the batches waiting behind `gathered`'s, up to the most one commit
/// holds.
fn gather(batches: &mut Batches, gathered: &mut Vec<(Vec<ChatWrite>, Reply)>) {
    let mut count: usize = gathered.iter().map(|(writes, _)| writes.len()).sum();
    while count < MAX_WRITES_PER_COMMIT {
        match batches.try_recv() {
            Ok(next) => {
                count += next.0.len();
                gathered.push(next);
            }
            Err(_) => break,
        }
    }
}

impl ChatWriter {
    /// Starts the committing task on `store`; with `crypto`, each commit
    /// carries what moved in it.
    pub(crate) fn start(store: Store, crypto: Option<Arc<Mutex<ChatCrypto>>>) -> (ChatWriter, JoinHandle<()>) {
        let (queue, mut batches) = mpsc::unbounded_channel::<(Vec<ChatWrite>, Reply)>();
        let task = tokio::spawn(async move {
            while let Some(first) = batches.recv().await {
                let mut gathered = vec![first];
                let moved = match &crypto {
                    Some(crypto) => {
                        let mut crypto = crypto.lock().unwrap_or_else(PoisonError::into_inner);
                        gather(&mut batches, &mut gathered);
                        crypto.take_moved()
                    }
                    None => {
                        gather(&mut batches, &mut gathered);
                        Vec::new()
                    }
                };
                let mut all: Vec<ChatWrite> = Vec::new();
                let mut replies = Vec::with_capacity(gathered.len());
                for (writes, reply) in gathered {
                    replies.push((writes.len(), reply));
                    all.extend(writes);
                }
                let handed = all.len();
                all.extend(moved);
                match store.chat_write(&all).await {
                    Ok(changed) => {
                        let mut changed = changed.into_iter().take(handed);
                        for (count, reply) in replies {
                            let mine: Vec<bool> = changed.by_ref().take(count).collect();
                            // A caller that stopped waiting is not an error.
                            let _ = reply.send(Ok(mine));
                        }
                    }
                    Err(error) => {
                        tracing::warn!("chat writes failed: {error}");
                        // What moved is written with the next commit.
                        if let Some(crypto) = &crypto {
                            crypto
                                .lock()
                                .unwrap_or_else(PoisonError::into_inner)
                                .moved_again(&all[handed..]);
                        }
                        for (_, reply) in replies {
                            let _ = reply.send(Err(error.to_string()));
                        }
                    }
                }
            }
        });
        (ChatWriter { queue }, task)
    }

    /// Hands `writes` over. Call while holding the lock that made them, so
    /// batches reach the disk in the order their state changed; an empty
    /// batch waits for the ratchets and account as they are.
    pub(crate) fn submit(&self, writes: Vec<ChatWrite>) -> Pending {
        let (reply, done) = oneshot::channel();
        if self.queue.send((writes, reply)).is_err() {
            // The task stopped: `done` reports the node stopped.
        }
        Pending(done)
    }

    /// Writes `writes` and waits until they are on disk.
    pub(crate) async fn write(&self, writes: Vec<ChatWrite>) -> Result<Vec<bool>, crate::NodeError> {
        self.submit(writes).done().await
    }
}
