//! Real nodes on 127.0.0.1 for the tests: seeded keys, port 0, no mDNS.

use std::future::Future;
use std::time::Duration;

use tallymesh_net::{Client, KademliaMode, Multiaddr, NetConfig, NetEvent, PeerId, ProtocolName, RequestProtocol};
use tokio::sync::mpsc::Receiver;

/// How long a test waits for something that should happen at once. Only a
/// guard against hanging: nothing asserts on how long things take.
pub const PATIENCE: Duration = Duration::from_secs(30);

/// The request-response protocol the tests talk on.
pub fn echo() -> ProtocolName {
    ProtocolName::new("echo").unwrap()
}

/// Settings for a test node: no multicast, DHT server (loopback has no
/// confirmed external address), the echo protocol with the given limits.
pub fn config(max_request_bytes: usize, max_response_bytes: usize) -> NetConfig {
    NetConfig {
        mdns: false,
        kademlia_mode: KademliaMode::Server,
        request_protocols: vec![RequestProtocol::new(echo()).with_limits(max_request_bytes, max_response_bytes)],
        ..NetConfig::default()
    }
}

/// Which transport a node listens on.
#[derive(Debug, Clone, Copy)]
pub enum Transport {
    Tcp,
    Quic,
}

pub struct Node {
    pub client: Client,
    pub events: Receiver<NetEvent>,
    pub address: Multiaddr,
}

impl Node {
    pub fn peer_id(&self) -> PeerId {
        self.client.local_peer_id()
    }

    /// Waits for the first event `pick` accepts, dropping the others.
    pub async fn next<T>(&mut self, pick: impl FnMut(NetEvent) -> Option<T>) -> T {
        next_event(&mut self.events, pick).await
    }

    /// Dials `other` and waits until both sides see the connection.
    pub async fn connect(&mut self, other: &mut Node) {
        let other_id = other.peer_id();
        let my_id = self.peer_id();
        self.client.dial(other.address.clone()).await.unwrap();
        self.next(|e| matches!(e, NetEvent::PeerConnected(p) if p == other_id).then_some(()))
            .await;
        other
            .next(|e| matches!(e, NetEvent::PeerConnected(p) if p == my_id).then_some(()))
            .await;
    }
}

/// A node with the key from `seed`, listening on 127.0.0.1.
pub async fn node(seed: u8, config: NetConfig, transport: Transport) -> Node {
    let key = tallymesh_net::keypair_from_seed(&[seed; 32]).unwrap();
    let (client, mut events, event_loop) = tallymesh_net::new(key, config).unwrap();
    tokio::spawn(event_loop.run());
    let listen = match transport {
        Transport::Tcp => "/ip4/127.0.0.1/tcp/0",
        Transport::Quic => "/ip4/127.0.0.1/udp/0/quic-v1",
    };
    client.listen(listen.parse().unwrap()).await.unwrap();
    let address = next_event(&mut events, |e| match e {
        NetEvent::Listening(address) => Some(address),
        _ => None,
    })
    .await;
    Node {
        client,
        events,
        address,
    }
}

/// Waits for the first event `pick` accepts, dropping the others.
pub async fn next_event<T>(events: &mut Receiver<NetEvent>, mut pick: impl FnMut(NetEvent) -> Option<T>) -> T {
    within(async {
        loop {
            let event = events.recv().await.expect("the event loop stopped");
            if let Some(found) = pick(event) {
                return found;
            }
        }
    })
    .await
}

/// Runs `future` with the hang guard.
pub async fn within<T>(future: impl Future<Output = T>) -> T {
    tokio::time::timeout(PATIENCE, future)
        .await
        .expect("waited too long for the network")
}

/// Retries `attempt` until it returns `Some`, for state that settles in the
/// background (DHT routing tables).
pub async fn eventually<T, F, Fut>(mut attempt: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    within(async {
        loop {
            if let Some(found) = attempt().await {
                return found;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await
}
