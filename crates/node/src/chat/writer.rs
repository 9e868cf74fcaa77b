//! The chat's group commit: every batch of writes handed over while a
//! transaction is being committed goes into the next one, so many messages
//! arriving at once cost one fsync, not one each. Batches are applied in
//! the order they were handed over, which is what keeps a ratchet's newer
//! pickle from being overwritten by an older one.

use tallymesh_store::{ChatWrite, Store};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

/// The most writes committed in one transaction.
const MAX_WRITES_PER_COMMIT: usize = 4_096;

type Reply = oneshot::Sender<Result<Vec<bool>, String>>;

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

impl ChatWriter {
    /// Starts the committing task on `store`.
    pub(crate) fn start(store: Store) -> (ChatWriter, JoinHandle<()>) {
        let (queue, mut batches) = mpsc::unbounded_channel::<(Vec<ChatWrite>, Reply)>();
        let task = tokio::spawn(async move {
            while let Some(first) = batches.recv().await {
                let mut gathered = vec![first];
                let mut count = gathered[0].0.len();
                while count < MAX_WRITES_PER_COMMIT {
                    match batches.try_recv() {
                        Ok(next) => {
                            count += next.0.len();
                            gathered.push(next);
                        }
                        Err(_) => break,
                    }
                }
                let all: Vec<ChatWrite> = gathered.iter().flat_map(|(writes, _)| writes.iter().cloned()).collect();
                match store.chat_write(&all).await {
                    Ok(changed) => {
                        let mut changed = changed.into_iter();
                        for (writes, reply) in gathered {
                            let mine: Vec<bool> = changed.by_ref().take(writes.len()).collect();
                            // A caller that stopped waiting is not an error.
                            let _ = reply.send(Ok(mine));
                        }
                    }
                    Err(error) => {
                        tracing::warn!("chat writes failed: {error}");
                        for (_, reply) in gathered {
                            let _ = reply.send(Err(error.to_string()));
                        }
                    }
                }
            }
        });
        (ChatWriter { queue }, task)
    }

    /// Hands `writes` over. Call while holding the lock that made them, so
    /// batches reach the disk in the order their state changed.
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
