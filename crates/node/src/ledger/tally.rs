//! One tally's ledger on this node: a task that owns the machine, takes
//! its inputs one at a time and carries out each step's output in order.

use std::sync::Arc;
use std::time::Duration;

use tallymesh_core::block::Genesis;
use tallymesh_core::hash::hex;
use tallymesh_core::tally_network::TallyId;
use tallymesh_core::{Digest, PublicKey, SecretKey, Timestamp};
use tallymesh_protocol::ledger::{Event, Input, Ledger, MAX_BLOCKS_PER_MESSAGE, Output, blocks_message};
use tallymesh_store::{LedgerRecord, Store};
use tokio::sync::{broadcast, mpsc, oneshot};
use tokio::time::Instant;

use super::error::{LedgerHostError, SubmitError};
use super::genesis::LedgerRules;
use super::journal;
use super::{LedgerEvent, LedgerTransport, TallyLedgerStatus, TallyLedgersConfig};
use crate::NodeEvent;

/// Bytes of blocks served from the store in one reply: what the machine
/// itself puts in one (well under the 1 MiB envelope).
const SERVED_BLOCK_BYTES: usize = 768 * 1024;

/// The first wait before rebuilding a machine again after the store failed
/// to give its records back; doubled after each failure.
const REBUILD_FIRST_WAIT: Duration = Duration::from_secs(1);

/// The longest wait between rebuild attempts.
const REBUILD_LONGEST_WAIT: Duration = Duration::from_secs(60);

/// Most commands carried out together, their records in one transaction.
const MAX_BATCH: usize = 256;

/// What every tally's task shares: the node's key, store, rules, transport
/// and event streams. Holds no task's inbox, so dropping the host's map of
/// inboxes ends every task.
pub(super) struct Context<R: LedgerRules> {
    pub(super) store: Store,
    pub(super) key: SecretKey,
    pub(super) rules: R,
    pub(super) config: TallyLedgersConfig,
    pub(super) transport: Arc<dyn LedgerTransport>,
    pub(super) node_events: broadcast::Sender<NodeEvent>,
    pub(super) ledger_events: broadcast::Sender<LedgerEvent>,
}

impl<R> Context<R>
where
    R: LedgerRules + Clone,
{
    /// The tally's machine rebuilt from its journal (a new machine when
    /// the journal is empty).
    pub(super) async fn restore(&self, genesis: &Genesis, state: R::State) -> Result<Ledger<R>, LedgerHostError> {
        let tally = genesis.tally;
        let records = self.store.ledger_records(tally.as_bytes()).await?;
        let durable = records
            .into_iter()
            .map(journal::from_record)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|source| LedgerHostError::Journal { tally, source })?;
        Ledger::restore(
            self.config.ledger.clone(),
            SecretKey::from_seed(&self.key.seed()),
            genesis.clone(),
            self.rules.clone(),
            state,
            durable,
        )
        .map_err(|source| LedgerHostError::Restore { tally, source })
    }
}

/// What a tally's task is asked to do.
pub(super) enum Command {
    /// Bytes a node of the tally network sent.
    Received {
        /// The node the transport authenticated.
        from: PublicKey,
        /// The envelope.
        bytes: Vec<u8>,
    },
    /// An entry made on this node.
    Submit {
        /// The entry as its author signed it.
        entry: Vec<u8>,
        /// The entry's id once it is durable and offered, or why not.
        reply: oneshot::Sender<Result<Digest, SubmitError>>,
    },
    /// Where the ledger stands.
    Status {
        /// The answer.
        reply: oneshot::Sender<TallyLedgerStatus>,
    },
}

/// A step whose records could not be stored: nothing of it was sent.
struct NotStored(String);

/// One tally's task.
pub(super) struct TallyTask<R: LedgerRules> {
    tally: TallyId,
    context: Arc<Context<R>>,
    genesis: Genesis,
    /// The rules' state at the genesis, to rebuild the machine from.
    state: R::State,
    /// `None` while stopped after a storage failure, until rebuilt.
    machine: Option<Ledger<R>>,
    /// Why the machine is stopped, while it is.
    failure: Option<String>,
    /// The wait before the next rebuild attempt.
    rebuild_wait: Duration,
    /// When to tick the machine (or retry the rebuild) next.
    wake: Option<Instant>,
    /// The last time handed to the machine: its clock never runs back.
    last_now: Timestamp,
    /// The certified height the journal was last pruned at.
    pruned_at: u64,
    /// The last status, kept while the machine is stopped.
    status: TallyLedgerStatus,
}

impl<R> TallyTask<R>
where
    R: LedgerRules + Clone + Send + Sync + 'static,
    R::State: Send,
{
    /// A task for a machine already restored from the store.
    pub(super) fn new(context: Arc<Context<R>>, genesis: Genesis, state: R::State, machine: Ledger<R>) -> Self {
        let status = TallyLedgerStatus {
            height: machine.height(),
            round: machine.round(),
            pending: machine.pending().len(),
            failed: None,
            tip: machine.tip(),
        };
        TallyTask {
            tally: genesis.tally,
            context,
            genesis,
            state,
            machine: Some(machine),
            failure: None,
            rebuild_wait: Duration::ZERO,
            wake: None,
            last_now: Timestamp::EPOCH,
            pruned_at: 0,
            status,
        }
    }

    /// Runs until the inbox closes (the host shut down or was dropped).
    pub(super) async fn run(mut self, mut inbox: mpsc::Receiver<Command>) {
        tracing::debug!(height = self.status.height, round = self.status.round, "ledger running");
        // Records left by an earlier run that the machine no longer needs.
        self.prune().await;
        // The first step starts the machine: it asks every peer for what it
        // missed and resends what it had sent before a restart.
        let _ = self.step(Input::Tick).await;
        loop {
            let wake = self.wake;
            tokio::select! {
                command = inbox.recv() => match command {
                    Some(command) => {
                        // Whatever else waits is carried out with it: one
                        // transaction (one fsync) for the whole batch.
                        let mut batch = vec![command];
                        while batch.len() < MAX_BATCH {
                            match inbox.try_recv() {
                                Ok(more) => batch.push(more),
                                Err(_) => break,
                            }
                        }
                        self.handle(batch).await;
                    }
                    None => break,
                },
                () = until(wake) => {
                    self.wake = None;
                    if self.machine.is_some() {
                        let _ = self.step(Input::Tick).await;
                    } else {
                        self.rebuild().await;
                    }
                }
            }
        }
        tracing::debug!("ledger stopped");
    }

    /// Carries out a batch of commands in order. The inputs they carry
    /// are stepped one after the other and their records stored in one
    /// transaction before anything of any of them is sent.
    async fn handle(&mut self, batch: Vec<Command>) {
        let mut inputs = Vec::with_capacity(batch.len());
        let mut submits = Vec::new();
        let mut status_replies = Vec::new();
        for command in batch {
            match command {
                Command::Received { from, bytes } => {
                    if self.machine.is_some() {
                        inputs.push(Input::Received { from, bytes });
                    } else {
                        tracing::trace!("message dropped: the ledger is stopped after a storage failure");
                    }
                }
                Command::Submit { entry, reply } => {
                    if let Some(reason) = &self.failure {
                        // The caller may have given up waiting.
                        let _ = reply.send(Err(SubmitError::Unavailable {
                            tally: self.tally,
                            reason: reason.clone(),
                        }));
                    } else {
                        submits.push((inputs.len(), Digest::of(&entry), reply));
                        inputs.push(Input::Submit { entry });
                    }
                }
                Command::Status { reply } => status_replies.push(reply),
            }
        }
        if !inputs.is_empty() {
            match self.steps(inputs).await {
                Err(NotStored(reason)) => {
                    for (_, _, reply) in submits {
                        let _ = reply.send(Err(SubmitError::NotStored {
                            tally: self.tally,
                            reason: reason.clone(),
                        }));
                    }
                }
                Ok(events) => {
                    for (index, id, reply) in submits {
                        let refused = events.get(index).into_iter().flatten().find_map(|e| match e {
                            Event::EntryRefused { id: refused, reason } if *refused == id => Some(reason.clone()),
                            _ => None,
                        });
                        let _ = reply.send(match refused {
                            Some(reason) => Err(SubmitError::Refused { id, reason }),
                            None => Ok(id),
                        });
                    }
                }
            }
        }
        for reply in status_replies {
            let _ = reply.send(self.status.clone());
        }
    }

    /// The wall clock, never earlier than the last time handed out.
    fn now(&mut self) -> Timestamp {
        let now = Timestamp::from_millis(crate::node::unix_millis()).max(self.last_now);
        self.last_now = now;
        now
    }

    /// Feeds one input to the machine and carries out its output (see
    /// [`TallyTask::steps`]).
    async fn step(&mut self, input: Input) -> Result<Vec<Event>, NotStored> {
        self.steps(vec![input])
            .await
            .map(|mut events| events.pop().unwrap_or_default())
    }

    /// Feeds inputs to the machine one after the other and carries out
    /// their outputs together, in the order the protocol demands: persist
    /// (the records of every step, in order, in one transaction), send,
    /// events, timer. Returns each step's events, or why the steps could
    /// not be stored (then nothing of them was sent and the machine is
    /// stopped).
    async fn steps(&mut self, inputs: Vec<Input>) -> Result<Vec<Vec<Event>>, NotStored> {
        let now = self.now();
        let Some(machine) = self.machine.as_mut() else {
            return Err(NotStored(self.failure.clone().unwrap_or_default()));
        };
        let mut persist = Vec::new();
        let mut send = Vec::new();
        let mut step_events = Vec::with_capacity(inputs.len());
        let mut wake_at = None;
        for input in inputs {
            let output: Output = machine.step(now, input);
            persist.extend(output.persist);
            send.extend(output.send);
            step_events.push(output.events);
            // The last step's timer is the machine's view after all of them.
            wake_at = output.wake_at;
        }
        let status = TallyLedgerStatus {
            height: machine.height(),
            round: machine.round(),
            pending: machine.pending().len(),
            failed: None,
            tip: machine.tip(),
        };

        // 1. Persist: every record of the step in one transaction.
        let (records_count, stored_at) = (persist.len(), std::time::Instant::now());
        if !persist.is_empty() {
            let records: Vec<LedgerRecord> = persist.into_iter().map(journal::to_record).collect();
            if let Err(e) = self.context.store.ledger_append(self.tally.as_bytes(), &records).await {
                let reason = e.to_string();
                tracing::error!(
                    error = %reason,
                    records = records.len(),
                    "a ledger step could not be stored: nothing of it was sent; rebuilding the ledger from the store"
                );
                self.stop(reason.clone());
                return Err(NotStored(reason));
            }
            // The store works: a later failure is rebuilt from at once again.
            self.rebuild_wait = Duration::ZERO;
        }
        self.status = status;
        tracing::trace!(
            inputs = step_events.len(),
            records = records_count,
            messages = send.len(),
            store_us = u64::try_from(stored_at.elapsed().as_micros()).unwrap_or(u64::MAX),
            height = self.status.height,
            round = self.status.round,
            "ledger steps"
        );

        // 2. Send, now that everything the messages rely on is on disk.
        for message in send {
            if !message.to.is_empty() {
                self.context.transport.send(&message.to, message.bytes);
            }
        }

        // 3. Events, and what the node does about them.
        let mut certified = None;
        for event in step_events.iter().flatten() {
            self.publish(event);
            match event {
                Event::BlocksWanted { peer, from_height } => self.serve_blocks(*peer, *from_height).await,
                Event::BlockCertified { height, .. } => certified = Some(*height),
                _ => {}
            }
        }
        if let Some(height) = certified
            && self.context.config.prune_every > 0
            && height >= self.pruned_at.saturating_add(self.context.config.prune_every)
        {
            self.prune().await;
        }

        // 4. The timer.
        self.wake = wake_at.map(|at| Instant::now() + Duration::from_millis(at.millis_since(now)));
        Ok(step_events)
    }

    /// Drops the machine after a storage failure: from now on nothing is
    /// sent for this tally until it has been rebuilt from the store.
    fn stop(&mut self, reason: String) {
        self.machine = None;
        self.status.failed = Some(reason.clone());
        self.failure = Some(reason);
        // The first rebuild comes at once: a failure that passed costs
        // nothing more. A store that reads but cannot write fails again at
        // the next step, so each further failure waits longer before the
        // next rebuild, until an append succeeds.
        self.wake = Some(Instant::now() + self.rebuild_wait);
        self.rebuild_wait = self.next_wait();
    }

    /// The wait after the current one: doubled, within bounds.
    fn next_wait(&self) -> Duration {
        (self.rebuild_wait * 2).clamp(REBUILD_FIRST_WAIT, REBUILD_LONGEST_WAIT)
    }

    /// Rebuilds the stopped machine from the store, or tries again later.
    async fn rebuild(&mut self) {
        match self.context.restore(&self.genesis, self.state.clone()).await {
            Ok(machine) => {
                tracing::info!(
                    height = machine.height(),
                    round = machine.round(),
                    "ledger rebuilt from the store"
                );
                self.machine = Some(machine);
                self.failure = None;
                self.status.failed = None;
                let _ = self.step(Input::Tick).await;
            }
            Err(e) => {
                tracing::warn!(
                    error = %e,
                    retry_in_ms = u64::try_from(self.rebuild_wait.as_millis()).unwrap_or(u64::MAX),
                    "the ledger cannot be rebuilt from the store yet"
                );
                self.wake = Some(Instant::now() + self.rebuild_wait);
                self.rebuild_wait = self.next_wait();
            }
        }
    }

    /// Tells the node and the application what the machine reported.
    fn publish(&self, event: &Event) {
        let tally = self.tally;
        let node_event = match event {
            Event::BlockCertified {
                height, hash, round, ..
            } => {
                tracing::info!(height, round, hash = %hash, "block certified");
                Some(NodeEvent::BlockCertified {
                    tally_id: tally.to_string(),
                    height: *height,
                    hash: hash.to_string(),
                })
            }
            Event::EntryCertified { id, height } => {
                tracing::debug!(entry = %id, height, "entry certified");
                Some(NodeEvent::EntryCertified {
                    tally_id: tally.to_string(),
                    entry_id: id.to_string(),
                    height: *height,
                })
            }
            Event::EntryRefused { id, reason } => {
                tracing::info!(entry = %id, reason = %reason, "entry refused");
                Some(NodeEvent::EntryRefused {
                    tally_id: tally.to_string(),
                    entry_id: id.to_string(),
                    reason: reason.clone(),
                })
            }
            Event::EntryPending { id } => {
                tracing::debug!(entry = %id, "entry pending");
                None
            }
            Event::NetworkChanged { height, network } => {
                tracing::info!(height, nodes = network.len(), "tally network changes");
                None
            }
            Event::DoubleSigned { node, .. } => {
                tracing::warn!(node = %hex(node.as_bytes()), "a node signed twice for one step");
                None
            }
            Event::Refused { from, reason } => {
                tracing::debug!(from = %hex(from.as_bytes()), reason = %reason, "ledger message refused");
                None
            }
            Event::BlocksWanted { peer, from_height } => {
                tracing::debug!(peer = %hex(peer.as_bytes()), from_height, "serving blocks from the store");
                None
            }
        };
        // Nobody listening is not an error: the store holds what matters.
        if let Some(node_event) = node_event {
            let _ = self.context.node_events.send(node_event);
        }
        let _ = self.context.ledger_events.send(LedgerEvent {
            tally,
            event: event.clone(),
        });
    }

    /// Answers a request for blocks older than the machine holds in memory
    /// with certified blocks from the store.
    async fn serve_blocks(&mut self, peer: PublicKey, from_height: u64) {
        let limit = self
            .context
            .config
            .ledger
            .max_sync_blocks
            .clamp(1, MAX_BLOCKS_PER_MESSAGE);
        let limit = u32::try_from(limit).unwrap_or(u32::MAX);
        let stored = match self
            .context
            .store
            .ledger_blocks(self.tally.as_bytes(), from_height, limit)
            .await
        {
            Ok(stored) => stored,
            Err(e) => {
                tracing::warn!(error = %e, from_height, "cannot read blocks to serve");
                return;
            }
        };
        let mut bytes = 0usize;
        let mut blocks = Vec::with_capacity(stored.len());
        for block in stored {
            bytes = bytes.saturating_add(block.block.len() + block.certificate.len());
            if !blocks.is_empty() && bytes > SERVED_BLOCK_BYTES {
                break;
            }
            blocks.push((block.block, block.certificate));
        }
        if !blocks.is_empty() {
            self.context.transport.send(&[peer], blocks_message(self.tally, blocks));
        }
    }

    /// Deletes journal records below the height being decided.
    async fn prune(&mut self) {
        if self.context.config.prune_every == 0 {
            return;
        }
        let height = self.status.height;
        match self.context.store.ledger_prune(self.tally.as_bytes(), height).await {
            Ok(removed) => {
                tracing::debug!(below = height, removed, "ledger journal pruned");
                self.pruned_at = height.saturating_sub(1);
            }
            Err(e) => tracing::warn!(error = %e, "ledger journal not pruned"),
        }
    }
}

/// Sleeps until `at`, or forever without a time.
async fn until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}
