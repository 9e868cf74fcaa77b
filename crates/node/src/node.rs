//! The node itself: start, status, events, shutdown.

use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use tallymesh_net::NetConfig;
use tallymesh_store::Store;
use tokio::sync::{Mutex, broadcast};
use tokio::task::JoinHandle;

use crate::control::ControlServer;
use crate::{DataDir, NodeConfig, NodeError, NodeEvent, NodeStatus, VERSION};

/// How many events a slow subscriber may fall behind before it misses some.
const EVENT_BUFFER: usize = 1024;

/// A handle to a running node. Clones share the same node.
#[derive(Debug, Clone)]
pub struct Node {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    data_dir_path: std::path::PathBuf,
    database_path: std::path::PathBuf,
    log_dir: std::path::PathBuf,
    schema_version: i64,
    started: Instant,
    started_at_ms: u64,
    net: tallymesh_net::Client,
    events: broadcast::Sender<NodeEvent>,
    running: Mutex<Option<Running>>,
}

/// What shutting down has to stop and release, in order.
#[derive(Debug)]
struct Running {
    control: Option<ControlServer>,
    forwarder: JoinHandle<()>,
    net_loop: JoinHandle<()>,
    store: Store,
    data_dir: DataDir,
}

impl Node {
    /// Claims the data directory, opens the database, starts the network
    /// and (if configured) the control endpoint.
    ///
    /// Nothing is left running when this fails: a refused database or an
    /// address in use releases the data directory again.
    pub async fn start(config: NodeConfig) -> Result<Node, NodeError> {
        let data_dir = DataDir::claim(&config.data_dir)?;
        let store = Store::open(&data_dir.database_path()).await?;
        let now_ms = unix_millis();
        record_start(&store, now_ms).await?;

        // The device key becomes the keystore's once identities exist; until
        // then each start is a fresh libp2p identity.
        let key = tallymesh_net::Keypair::generate_ed25519();
        let (net, mut net_events, net_loop) = tallymesh_net::new(key, NetConfig::default())?;
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
        let forwarder = {
            let events = events.clone();
            tokio::spawn(async move {
                while let Some(event) = net_events.recv().await {
                    // No subscriber is not an error: events are also logged.
                    let _ = events.send(NodeEvent::from(event));
                }
            })
        };

        let node = Node {
            inner: Arc::new(Inner {
                data_dir_path: data_dir.path().to_owned(),
                database_path: data_dir.database_path(),
                log_dir: data_dir.log_dir(),
                schema_version: store.schema_version(),
                started: Instant::now(),
                started_at_ms: now_ms,
                net,
                events,
                running: Mutex::new(None),
            }),
        };
        let control = if config.control_endpoint {
            match ControlServer::serve(data_dir.path(), node.clone()) {
                Ok(server) => Some(server),
                Err(e) => {
                    node.inner.net.shutdown().await;
                    let _ = net_loop.await;
                    forwarder.abort();
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

    /// Stops the node: the control endpoint, the network, then the database,
    /// and finally releases the data directory. Calling it again does nothing.
    pub async fn shutdown(&self) {
        let Some(running) = self.inner.running.lock().await.take() else {
            return;
        };
        let _ = self.inner.events.send(NodeEvent::ShuttingDown);
        if let Some(control) = running.control {
            control.stop().await;
        }
        self.inner.net.shutdown().await;
        let _ = running.net_loop.await;
        running.forwarder.abort();
        running.store.close().await;
        tracing::info!(data_dir = %running.data_dir.path().display(), "node stopped");
        drop(running.data_dir);
    }
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
