//! The node itself: start, status, events, shutdown.

use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use tallymesh_store::Store;
use tokio::sync::{Mutex, broadcast};
use tokio::task::JoinHandle;

use crate::control::ControlServer;
use crate::identity::{self, DeviceFacts, Identity, IdentityCache};
use crate::keystore::{self, Keystore, KeystoreError, Purpose, SecretSeed};
use crate::ledger::wire::LedgerWire;
use crate::ledger::{NodeRules, TallyLedgers};
use crate::protocols::Protocols;
use crate::{DataDir, NodeConfig, NodeError, NodeEvent, NodeStatus, VERSION};

/// The device name used when neither the configuration nor the computer
/// gives one.
const FALLBACK_DEVICE_NAME: &str = "Tallymesh node";

/// How many events a slow subscriber may fall behind before it misses some.
const EVENT_BUFFER: usize = 1024;

/// A handle to a running node. Clones share the same node.
#[derive(Debug, Clone)]
pub struct Node {
    pub(crate) inner: Arc<Inner>,
}

#[derive(Debug)]
pub(crate) struct Inner {
    pub(crate) keystore: Arc<Keystore>,
    keystore_id: String,
    pub(crate) device: DeviceFacts,
    /// The identity, and the lock that serialises identity operations.
    pub(crate) identity: Mutex<IdentityCache>,
    data_dir_path: std::path::PathBuf,
    database_path: std::path::PathBuf,
    log_dir: std::path::PathBuf,
    schema_version: i64,
    started: Instant,
    started_at_ms: u64,
    pub(crate) net: tallymesh_net::Client,
    /// The wire names of the node's request-response protocols.
    pub(crate) protocols: Protocols,
    /// Which contacts' devices are connected.
    pub(crate) presence: std::sync::Mutex<crate::presence::PresenceBook>,
    /// How often each peer broke a protocol's rules since the node started.
    pub(crate) strikes: std::sync::Mutex<std::collections::HashMap<tallymesh_net::PeerId, u32>>,
    /// What AutoNAT last found about dialling this node from outside.
    pub(crate) reachability: std::sync::Mutex<crate::Reachability>,
    /// Whether this node relays for its party's other devices.
    pub(crate) relay_server: bool,
    /// The party's relays this node uses, or the devices it relays for.
    pub(crate) relays: std::sync::Mutex<crate::cadre_relay::RelayBook>,
    pub(crate) events: broadcast::Sender<NodeEvent>,
    /// Trust in other parties: what feeds the scores, kept in memory.
    pub(crate) trust: crate::trust::TrustBook,
    /// The ledgers of the tallies this node serves.
    pub(crate) ledgers: TallyLedgers<NodeRules>,
    /// The ledger machines' pending pool size, for pacing submissions.
    pub(crate) ledger_max_pending: usize,
    /// The states of the open tallies, as followed from their ledgers.
    pub(crate) tally_book: Mutex<crate::tallies::TallyBook>,
    /// Wakes the tally outbox when a message of ours is ready.
    pub(crate) tally_outbox: Arc<tokio::sync::Notify>,
    /// Chat: the Olm and Megolm state, its committing task's handle, the
    /// outbox's wake-up.
    pub(crate) chat: crate::chat::ChatState,
    /// What the nodes of our open tallies took from us about each other.
    pub(crate) node_notices: std::sync::Mutex<crate::tallies::NodeNotices>,
    /// Contacts' cards, this party's devices and checked certificates,
    /// kept in memory until the node changes them.
    pub(crate) directory: crate::directory::Directory,
    running: Mutex<Option<Running>>,
}

/// What shutting down has to stop and release, in order.
#[derive(Debug)]
struct Running {
    control: Option<ControlServer>,
    forwarder: JoinHandle<()>,
    keep_in_touch: JoinHandle<()>,
    /// Keeps the cadre's relay in step with the party.
    cadre_relay: JoinHandle<()>,
    /// The tally outbox and the follower of the tallies' ledgers.
    tally_tasks: [JoinHandle<()>; 2],
    /// The chat outbox, the mailbox upkeep, the tally notes, and the
    /// chat's committing task (last: it stops after the others).
    chat_tasks: [JoinHandle<()>; 4],
    /// The task that feeds the trust scores.
    trust_task: JoinHandle<()>,
    net_loop: JoinHandle<()>,
    store: Store,
    data_dir: DataDir,
}

impl Node {
    /// Claims the data directory, opens the database and the keystore,
    /// loads the device key (making one on first start) and the identity,
    /// starts the network and (if configured) the control endpoint.
    ///
    /// Nothing is left running when this fails: trust parameters out of
    /// range, a refused database, a
    /// keystore that cannot be opened (no keychain, wrong passphrase) or an
    /// address in use releases the data directory again.
    pub async fn start(config: NodeConfig) -> Result<Node, NodeError> {
        config.trust.validate().map_err(NodeError::InvalidConfig)?;
        let data_dir = DataDir::claim_when_free(&config.data_dir).await?;
        let store = Store::open(&data_dir.database_path()).await?;
        let now_ms = unix_millis();
        let prepared = match prepare(&config, &data_dir, &store, now_ms).await {
            Ok(prepared) => prepared,
            Err(e) => {
                store.close().await;
                return Err(e);
            }
        };
        let Prepared {
            keystore,
            keystore_id,
            key,
            node_key,
            device,
            identity,
            chat,
            chat_writer,
        } = prepared;

        let protocols = match Protocols::new() {
            Ok(protocols) => protocols,
            Err(e) => {
                store.close().await;
                return Err(e.into());
            }
        };
        let net_config = config.net_config(protocols.request_protocols());
        let (net, net_events, net_loop) = match tallymesh_net::new(key, net_config) {
            Ok(parts) => parts,
            Err(e) => {
                store.close().await;
                return Err(e.into());
            }
        };
        let net_loop = tokio::spawn(net_loop.run());
        for address in &config.listen {
            if let Err(e) = net.listen(address.clone()).await {
                net.shutdown().await;
                let _ = net_loop.await;
                store.close().await;
                return Err(e.into());
            }
        }

        let (events, _) = broadcast::channel(EVENT_BUFFER);

        // The ledgers start after the store and the network they use, and
        // stop before either (see `shutdown`).
        // The trust book exists before the ledgers, whose transport counts
        // the requests their peers let time out.
        let trust = crate::trust::TrustBook::new(config.trust);
        let wire = LedgerWire::new(net.clone(), protocols.ledger.clone(), Some(trust.observer()));
        let ledgers = match TallyLedgers::start(
            store.clone(),
            node_key,
            NodeRules,
            wire,
            events.clone(),
            config.ledger.clone(),
        )
        .await
        {
            Ok(ledgers) => ledgers,
            Err(e) => {
                net.shutdown().await;
                let _ = net_loop.await;
                store.close().await;
                return Err(NodeError::Ledger(e.to_string()));
            }
        };
        crate::ledger_api::remember_peers(&net, &store).await;

        let node = Node {
            inner: Arc::new(Inner {
                keystore,
                keystore_id,
                device,
                identity: Mutex::new(identity),
                data_dir_path: data_dir.path().to_owned(),
                database_path: data_dir.database_path(),
                log_dir: data_dir.log_dir(),
                schema_version: store.schema_version(),
                started: Instant::now(),
                started_at_ms: now_ms,
                net,
                protocols,
                presence: std::sync::Mutex::default(),
                strikes: std::sync::Mutex::default(),
                reachability: std::sync::Mutex::default(),
                relay_server: config.relay_server,
                relays: std::sync::Mutex::default(),
                trust,
                events,
                ledgers,
                ledger_max_pending: config.ledger.ledger.max_pending,
                tally_book: Mutex::default(),
                tally_outbox: Arc::default(),
                chat,
                node_notices: std::sync::Mutex::default(),
                directory: crate::directory::Directory::default(),
                running: Mutex::new(None),
            }),
        };
        let forwarder = tokio::spawn(crate::network::serve(Arc::downgrade(&node.inner), net_events));
        let keep_in_touch = tokio::spawn(crate::presence::keep_in_touch(Arc::downgrade(&node.inner)));
        let cadre_relay = tokio::spawn(crate::cadre_relay::keep_cadre_relay(Arc::downgrade(&node.inner)));
        let tally_tasks = [
            tokio::spawn(crate::tallies::wire::deliver(Arc::downgrade(&node.inner))),
            tokio::spawn(crate::tallies::wire::follow_ledgers(Arc::downgrade(&node.inner))),
        ];
        let chat_tasks = [
            tokio::spawn(crate::chat::deliver(Arc::downgrade(&node.inner))),
            tokio::spawn(crate::chat::keep_mailboxes(Arc::downgrade(&node.inner))),
            tokio::spawn(crate::chat::note_tallies(Arc::downgrade(&node.inner))),
            chat_writer,
        ];
        let trust_task = tokio::spawn(crate::trust::run(Arc::downgrade(&node.inner)));
        let control = if config.control_endpoint {
            match ControlServer::serve(data_dir.path(), node.clone()) {
                Ok(server) => Some(server),
                Err(e) => {
                    node.inner.ledgers.shutdown().await;
                    node.inner.net.shutdown().await;
                    let _ = net_loop.await;
                    forwarder.abort();
                    keep_in_touch.abort();
                    cadre_relay.abort();
                    tally_tasks.iter().for_each(JoinHandle::abort);
                    chat_tasks.iter().for_each(JoinHandle::abort);
                    trust_task.abort();
                    store.close().await;
                    return Err(e);
                }
            }
        } else {
            None
        };
        *node.inner.running.lock().await = Some(Running {
            control,
            forwarder,
            keep_in_touch,
            cadre_relay,
            tally_tasks,
            chat_tasks,
            trust_task,
            net_loop,
            store,
            data_dir,
        });
        tracing::info!(
            data_dir = %node.inner.data_dir_path.display(),
            peer = %node.inner.net.local_peer_id(),
            "node started"
        );
        Ok(node)
    }

    /// A snapshot of the node's state.
    pub async fn status(&self) -> Result<NodeStatus, NodeError> {
        let inner = &self.inner;
        if inner.running.lock().await.is_none() {
            return Err(NodeError::Stopped);
        }
        let listen_addrs = inner.net.listen_addrs().await?;
        let connected = inner.net.connected_peers().await?;
        Ok(NodeStatus {
            version: VERSION.to_owned(),
            data_dir: inner.data_dir_path.display().to_string(),
            database_path: inner.database_path.display().to_string(),
            schema_version: inner.schema_version,
            log_dir: inner.log_dir.display().to_string(),
            started_at_ms: inner.started_at_ms,
            uptime_secs: inner.started.elapsed().as_secs(),
            peer_id: inner.net.local_peer_id().to_string(),
            listen_addrs: listen_addrs.iter().map(ToString::to_string).collect(),
            connected_peers: u32::try_from(connected.len()).unwrap_or(u32::MAX),
            reachability: self.reachability(),
        })
    }

    /// Subscribes to the node's events from now on.
    pub fn events(&self) -> broadcast::Receiver<NodeEvent> {
        self.inner.events.subscribe()
    }

    /// The network client, for crates that add protocols (and tests that dial).
    pub fn net(&self) -> &tallymesh_net::Client {
        &self.inner.net
    }

    /// The party this node acts for: create, back up, restore (see
    /// [`crate::identity`]).
    pub fn identity(&self) -> Identity {
        Identity::new(self.clone())
    }

    /// The random id that names this node's entries in the OS keychain
    /// (`<purpose>.<keystore id>`). Not secret; kept in the database.
    pub fn keystore_id(&self) -> &str {
        &self.inner.keystore_id
    }

    /// Where this node keeps its secrets, in words ("the OS keychain",
    /// "the key file …"), for settings screens and messages.
    pub fn keystore_description(&self) -> String {
        self.inner.keystore.describe()
    }

    /// The database, while the node runs.
    pub(crate) async fn running_store(&self) -> Result<Store, NodeError> {
        match self.inner.running.lock().await.as_ref() {
            Some(running) => Ok(running.store.clone()),
            None => Err(NodeError::Stopped),
        }
    }

    /// Stops the node: the control endpoint, the tally ledgers, the network,
    /// then the database,
    /// and finally releases the data directory. Calling it again does nothing.
    pub async fn shutdown(&self) {
        let Some(running) = self.inner.running.lock().await.take() else {
            return;
        };
        let _ = self.inner.events.send(NodeEvent::ShuttingDown);
        if let Some(control) = running.control {
            control.stop().await;
        }
        running.tally_tasks.iter().for_each(JoinHandle::abort);
        running.chat_tasks.iter().for_each(JoinHandle::abort);
        running.trust_task.abort();
        // The ledgers carry out what is queued (records stored, messages
        // handed to the network) while store and network still run.
        self.inner.ledgers.shutdown().await;
        self.inner.net.shutdown().await;
        let _ = running.net_loop.await;
        running.forwarder.abort();
        running.keep_in_touch.abort();
        running.cadre_relay.abort();
        // An identity operation in flight finishes its writes first.
        let _identity = self.inner.identity.lock().await;
        running.store.close().await;
        tracing::info!(data_dir = %running.data_dir.path().display(), "node stopped");
        drop(running.data_dir);
    }
}

/// What a node needs before its network starts.
struct Prepared {
    keystore: Arc<Keystore>,
    keystore_id: String,
    key: tallymesh_net::Keypair,
    /// The same device key, as the tally ledgers sign with it.
    node_key: tallymesh_core::SecretKey,
    device: DeviceFacts,
    identity: IdentityCache,
    chat: crate::chat::ChatState,
    chat_writer: JoinHandle<()>,
}

/// Opens the keystore, loads or makes the device key, records the start
/// and loads the identity. Touches no network.
async fn prepare(config: &NodeConfig, data_dir: &DataDir, store: &Store, now_ms: u64) -> Result<Prepared, NodeError> {
    let now = i64::try_from(now_ms).unwrap_or(i64::MAX);
    let (keystore, keystore_id) =
        keystore::open_for_node(&config.keystore, config.file_kdf, data_dir.path(), store, now).await?;
    let keystore = Arc::new(keystore);
    let (key, node_key) = device_key(&keystore).await?;
    record_start(store, now_ms).await?;
    let wanted = config
        .device_name
        .clone()
        .or_else(|| whoami::fallible::devicename().ok())
        .or_else(|| whoami::fallible::hostname().ok())
        .unwrap_or_default();
    let chat_key = tallymesh_core::SecretKey::from_seed(&node_key.seed());
    let (chat, chat_writer) = crate::chat::ChatState::load(config.chat.clone(), store, &keystore, chat_key).await?;
    let device = DeviceFacts {
        peer_id: key.public().to_peer_id(),
        name: identity::device_name(&wanted, FALLBACK_DEVICE_NAME),
        file_kdf: config.file_kdf,
        chat_identity_key: chat.identity_key,
        kind: config.device_kind,
    };
    let identity = match identity::load(store, &keystore, &device, now_ms).await {
        Ok(identity) => identity,
        Err(e) => {
            chat_writer.abort();
            return Err(e);
        }
    };
    Ok(Prepared {
        keystore,
        keystore_id,
        key,
        node_key,
        device,
        identity,
        chat,
        chat_writer,
    })
}

/// The device's libp2p key from the keystore; made and kept there on the
/// first start, so the peer id stays the same from then on. The same key
/// is the node key of tally networks: returned again for signing votes.
async fn device_key(
    keystore: &Arc<Keystore>,
) -> Result<(tallymesh_net::Keypair, tallymesh_core::SecretKey), NodeError> {
    let seed = identity::blocking(keystore, |k| match k.get(Purpose::DeviceKey)? {
        Some(seed) => Ok(seed),
        None => {
            let seed = SecretSeed::generate()?;
            k.put(Purpose::DeviceKey, &seed)?;
            tracing::info!(keystore = %k.describe(), "made a new device key");
            Ok(seed)
        }
    })
    .await?;
    let keypair = tallymesh_net::keypair_from_seed(seed.expose()).map_err(|_| {
        NodeError::Keystore(KeystoreError::BadSecret {
            purpose: Purpose::DeviceKey,
            keystore: keystore.describe(),
        })
    })?;
    Ok((keypair, tallymesh_core::SecretKey::from_seed(seed.expose())))
}

async fn record_start(store: &Store, now_ms: u64) -> Result<(), NodeError> {
    let now = i64::try_from(now_ms).unwrap_or(i64::MAX);
    if store.meta("created_at_ms").await?.is_none() {
        store.set_meta("created_at_ms", &now_ms.to_string(), now).await?;
        store.set_meta("created_by_version", VERSION, now).await?;
    }
    let starts: u64 = store
        .meta("start_count")
        .await?
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    store.set_meta("start_count", &(starts + 1).to_string(), now).await?;
    store.set_meta("last_started_at_ms", &now_ms.to_string(), now).await?;
    store.set_meta("last_started_version", VERSION, now).await?;
    Ok(())
}

/// The wall clock in milliseconds since the Unix epoch (0 if the clock is
/// set before 1970).
pub(crate) fn unix_millis() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}
