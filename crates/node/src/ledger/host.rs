//! The handle to the node's tally ledgers: serve tallies, feed them what
//! arrives, submit entries, shut down.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tallymesh_core::block::Genesis;
use tallymesh_core::tally_network::TallyId;
use tallymesh_core::{Digest, PublicKey, SecretKey};
use tallymesh_protocol::Limits;
use tallymesh_protocol::ledger::message_tally;
use tallymesh_store::Store;
use tokio::sync::mpsc::error::TrySendError;
use tokio::sync::{broadcast, mpsc, oneshot};
use tokio::task::JoinHandle;
use tracing::Instrument;

use super::error::{LedgerHostError, ReceiveError, SubmitError};
use super::genesis::{GenesisRecord, LedgerRules};
use super::tally::{Command, Context, TallyTask};
use super::{LedgerEvent, LedgerTransport, TallyLedgerStatus, TallyLedgersConfig};
use crate::NodeEvent;

/// How many ledger events a slow subscriber may fall behind before it
/// misses some (what matters is in the store).
const EVENT_BUFFER: usize = 1024;

/// The ledgers of the tallies this node serves, one machine each.
///
/// Cloning gives another handle to the same ledgers. The machines stop
/// when [`TallyLedgers::shutdown`] is called or the last handle is dropped.
pub struct TallyLedgers<R: LedgerRules> {
    shared: Arc<Shared<R>>,
}

impl<R: LedgerRules> Clone for TallyLedgers<R> {
    fn clone(&self) -> Self {
        TallyLedgers {
            shared: self.shared.clone(),
        }
    }
}

impl<R: LedgerRules> std::fmt::Debug for TallyLedgers<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TallyLedgers")
            .field("node", &self.shared.node)
            .field("tallies", &self.shared.tallies().running.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

struct Shared<R: LedgerRules> {
    context: Arc<Context<R>>,
    node: PublicKey,
    limits: Limits,
    tallies: Mutex<Tallies>,
    /// Serialises starting machines, so that one tally never gets two.
    launching: tokio::sync::Mutex<()>,
}

#[derive(Default)]
struct Tallies {
    running: BTreeMap<TallyId, Running>,
    stopped: bool,
}

struct Running {
    inbox: mpsc::Sender<Command>,
    task: JoinHandle<()>,
}

impl<R: LedgerRules> Shared<R> {
    fn tallies(&self) -> MutexGuard<'_, Tallies> {
        // A panic elsewhere while holding the lock leaves the map usable.
        self.tallies.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl<R> TallyLedgers<R>
where
    R: LedgerRules + Clone + Send + Sync + 'static,
    R::State: Send,
{
    /// Starts the host and rebuilds the machine of every tally the store
    /// serves from its journal.
    ///
    /// `key` is the node key (the device key, whose public half is the
    /// node's libp2p identity): it signs this node's votes and proposals.
    /// Node events (certified blocks and entries, refused entries) go to
    /// `node_events`. A tally whose records cannot be read back is logged
    /// and left stopped, so that one damaged tally does not keep the others
    /// from running; serving it again retries.
    pub async fn start(
        store: Store,
        key: SecretKey,
        rules: R,
        transport: Arc<dyn LedgerTransport>,
        node_events: broadcast::Sender<NodeEvent>,
        config: TallyLedgersConfig,
    ) -> Result<TallyLedgers<R>, LedgerHostError> {
        let node = key.public();
        let (ledger_events, _) = broadcast::channel(EVENT_BUFFER);
        let host = TallyLedgers {
            shared: Arc::new(Shared {
                context: Arc::new(Context {
                    store,
                    key,
                    rules,
                    config,
                    transport,
                    node_events,
                    ledger_events,
                }),
                node,
                limits: Limits::default(),
                tallies: Mutex::new(Tallies::default()),
                launching: tokio::sync::Mutex::new(()),
            }),
        };
        let served = host.shared.context.store.ledger_tallies().await?;
        let launching = host.shared.launching.lock().await;
        for served in served {
            let tally = TallyId(served.tally);
            let launched = match GenesisRecord::decode(&served.genesis) {
                Ok(record) => match host.shared.context.rules.decode_state(&record.state) {
                    Ok(state) => host.launch(record.genesis, state).await,
                    Err(reason) => Err(LedgerHostError::State { tally, reason }),
                },
                Err(source) => Err(LedgerHostError::Genesis { tally, source }),
            };
            if let Err(e) = launched {
                tracing::error!(tally = %tally, error = %e, "the tally's ledger cannot be rebuilt; it stays stopped");
            }
        }
        drop(launching);
        Ok(host)
    }

    /// Serves the ledger of a tally whose block 0 is `genesis`, from the
    /// rules' `state` at the genesis: keeps both in the store, then starts
    /// its machine. Returns whether the tally is new here; serving a tally
    /// that is already served changes nothing, and serving one again with
    /// another genesis is refused by the store.
    pub async fn serve(&self, genesis: Genesis, state: R::State) -> Result<bool, LedgerHostError> {
        let tally = genesis.tally;
        if !genesis.network.contains(&self.shared.node) {
            return Err(LedgerHostError::NotInNetwork { tally });
        }
        let record = GenesisRecord {
            state: self.shared.context.rules.encode_state(&state),
            genesis,
        };
        let _launching = self.shared.launching.lock().await;
        if self.shared.tallies().stopped {
            return Err(LedgerHostError::Stopped);
        }
        let now_ms = i64::try_from(crate::node::unix_millis()).unwrap_or(i64::MAX);
        let new = self
            .shared
            .context
            .store
            .ledger_serve(tally.as_bytes(), &record.encode(), now_ms)
            .await?;
        if !self.shared.tallies().running.contains_key(&tally) {
            self.launch(record.genesis, state).await?;
        }
        if new {
            tracing::info!(tally = %tally, "serving the tally's ledger");
        }
        Ok(new)
    }

    /// Rebuilds the machine of a served tally from its journal and starts
    /// its task. The caller holds `launching`.
    async fn launch(&self, genesis: Genesis, state: R::State) -> Result<(), LedgerHostError> {
        let tally = genesis.tally;
        let context = self.shared.context.clone();
        let machine = context.restore(&genesis, state.clone()).await?;
        let (inbox, commands) = mpsc::channel(context.config.inbox.max(1));
        let span = tracing::info_span!("tally_ledger", tally = %tally);
        let mut tallies = self.shared.tallies();
        if tallies.stopped {
            return Err(LedgerHostError::Stopped);
        }
        let task = tokio::spawn(
            TallyTask::new(context, genesis, state, machine)
                .run(commands)
                .instrument(span),
        );
        tallies.running.insert(tally, Running { inbox, task });
        Ok(())
    }

    /// Hands bytes a node sent to the machine of the tally they name.
    /// `from` is the node key the transport authenticated. Never waits:
    /// when the tally's queue is full the bytes are dropped.
    pub fn receive(&self, from: PublicKey, bytes: Vec<u8>) -> Result<(), ReceiveError> {
        let tally = message_tally(&bytes, &self.shared.limits)?;
        let tallies = self.shared.tallies();
        if tallies.stopped {
            return Err(ReceiveError::Stopped);
        }
        let running = tallies.running.get(&tally).ok_or(ReceiveError::NotServed { tally })?;
        match running.inbox.try_send(Command::Received { from, bytes }) {
            Ok(()) => Ok(()),
            Err(TrySendError::Full(_)) => Err(ReceiveError::Busy { tally }),
            Err(TrySendError::Closed(_)) => Err(ReceiveError::Stopped),
        }
    }

    /// Submits an entry made on this node (a chit its party signed) to the
    /// tally's ledger. Returns the entry's id once it is stored as pending
    /// and offered to the tally network; it is certified later
    /// ([`NodeEvent::EntryCertified`]).
    pub async fn submit(&self, tally: TallyId, entry: Vec<u8>) -> Result<Digest, SubmitError> {
        let (reply, answer) = oneshot::channel();
        self.command(tally, Command::Submit { entry, reply })
            .await
            .map_err(|stopped| match stopped {
                Missing::NotServed => SubmitError::NotServed { tally },
                Missing::Stopped => SubmitError::Stopped,
            })?;
        answer.await.unwrap_or(Err(SubmitError::Stopped))
    }

    /// Where the tally's ledger stands, or `None` if it is not running here.
    pub async fn status(&self, tally: TallyId) -> Option<TallyLedgerStatus> {
        let (reply, answer) = oneshot::channel();
        self.command(tally, Command::Status { reply }).await.ok()?;
        answer.await.ok()
    }

    async fn command(&self, tally: TallyId, command: Command) -> Result<(), Missing> {
        let inbox = {
            let tallies = self.shared.tallies();
            if tallies.stopped {
                return Err(Missing::Stopped);
            }
            tallies.running.get(&tally).ok_or(Missing::NotServed)?.inbox.clone()
        };
        inbox.send(command).await.map_err(|_| Missing::Stopped)
    }

    /// The tallies whose machines run here.
    pub fn tallies(&self) -> Vec<TallyId> {
        self.shared.tallies().running.keys().copied().collect()
    }

    /// This node's key in the tally networks.
    pub fn node(&self) -> PublicKey {
        self.shared.node
    }

    /// Every event of every machine, with its tally, from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<LedgerEvent> {
        self.shared.context.ledger_events.subscribe()
    }

    /// Stops every machine and waits for their tasks: each takes no new
    /// input, carries out the inputs already queued (records stored, then
    /// messages handed to the transport), and ends. Calling it again does
    /// nothing.
    pub async fn shutdown(&self) {
        let running = {
            let mut tallies = self.shared.tallies();
            tallies.stopped = true;
            std::mem::take(&mut tallies.running)
        };
        let tasks: Vec<JoinHandle<()>> = running.into_values().map(|r| r.task).collect();
        for task in tasks {
            if let Err(e) = task.await {
                tracing::error!(error = %e, "a tally's ledger task failed");
            }
        }
    }
}

/// Why a command found no machine.
enum Missing {
    NotServed,
    Stopped,
}
