//! The task that owns the swarm.

use futures::StreamExt;
use libp2p::swarm::SwarmEvent;
use libp2p::{Swarm, identify};
use tokio::sync::mpsc;

use crate::NetEvent;
use crate::behaviour::{Behaviour, BehaviourEvent};
use crate::client::{Command, NetError};

/// Owns the swarm; drives it and answers the clients' commands.
pub struct EventLoop {
    swarm: Swarm<Behaviour>,
    commands: mpsc::Receiver<Command>,
    events: mpsc::Sender<NetEvent>,
}

impl EventLoop {
    pub(crate) fn new(
        swarm: Swarm<Behaviour>,
        commands: mpsc::Receiver<Command>,
        events: mpsc::Sender<NetEvent>,
    ) -> Self {
        EventLoop {
            swarm,
            commands,
            events,
        }
    }

    /// Runs until every client is dropped or one asks to shut down.
    pub async fn run(mut self) {
        loop {
            tokio::select! {
                event = self.swarm.select_next_some() => self.on_swarm_event(event).await,
                command = self.commands.recv() => match command {
                    Some(Command::Shutdown) | None => break,
                    Some(command) => self.on_command(command),
                },
            }
        }
        let peers: Vec<_> = self.swarm.connected_peers().copied().collect();
        for peer in peers {
            let _ = self.swarm.disconnect_peer_id(peer);
        }
        tracing::debug!("network event loop stopped");
    }

    fn on_command(&mut self, command: Command) {
        match command {
            Command::Listen { address, reply } => {
                let result = self
                    .swarm
                    .listen_on(address.clone())
                    .map(|_| ())
                    .map_err(|e| NetError::Listen {
                        address,
                        reason: e.to_string(),
                    });
                let _ = reply.send(result);
            }
            Command::Dial { address, reply } => {
                let result = self.swarm.dial(address.clone()).map_err(|e| NetError::Dial {
                    address,
                    reason: e.to_string(),
                });
                let _ = reply.send(result);
            }
            Command::ListenAddrs { reply } => {
                let _ = reply.send(self.swarm.listeners().cloned().collect());
            }
            Command::ConnectedPeers { reply } => {
                let _ = reply.send(self.swarm.connected_peers().copied().collect());
            }
            Command::Shutdown => {}
        }
    }

    async fn on_swarm_event(&mut self, event: SwarmEvent<BehaviourEvent>) {
        let out = match event {
            SwarmEvent::NewListenAddr { address, .. } => {
                tracing::info!(%address, "listening");
                Some(NetEvent::Listening(address))
            }
            SwarmEvent::ExpiredListenAddr { address, .. } => Some(NetEvent::ListenerClosed(address)),
            SwarmEvent::ConnectionEstablished {
                peer_id,
                num_established,
                ..
            } if num_established.get() == 1 => {
                tracing::debug!(peer = %peer_id, "peer connected");
                Some(NetEvent::PeerConnected(peer_id))
            }
            SwarmEvent::ConnectionClosed {
                peer_id,
                num_established: 0,
                ..
            } => {
                tracing::debug!(peer = %peer_id, "peer disconnected");
                Some(NetEvent::PeerDisconnected(peer_id))
            }
            SwarmEvent::Behaviour(BehaviourEvent::Identify(identify::Event::Received { peer_id, info, .. })) => {
                tracing::debug!(peer = %peer_id, agent = %info.agent_version, "identified");
                None
            }
            _ => None,
        };
        if let Some(event) = out {
            // A closed receiver means nobody listens for events any more;
            // the loop still serves commands until shut down.
            let _ = self.events.send(event).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use libp2p::Multiaddr;
    use libp2p::identity::Keypair;

    use crate::{NetConfig, NetEvent};

    async fn listening_node() -> (crate::Client, tokio::sync::mpsc::Receiver<NetEvent>, Multiaddr) {
        let (client, mut events, event_loop) = crate::new(Keypair::generate_ed25519(), NetConfig::default()).unwrap();
        tokio::spawn(event_loop.run());
        client.listen("/ip4/127.0.0.1/tcp/0".parse().unwrap()).await.unwrap();
        let address = loop {
            match events.recv().await.unwrap() {
                NetEvent::Listening(address) => break address,
                _ => continue,
            }
        };
        (client, events, address)
    }

    async fn next_connected(events: &mut tokio::sync::mpsc::Receiver<NetEvent>) -> libp2p::PeerId {
        loop {
            if let NetEvent::PeerConnected(peer) = events.recv().await.unwrap() {
                return peer;
            }
        }
    }

    #[tokio::test]
    async fn two_nodes_on_loopback_connect_and_see_each_other() {
        let (alice, mut alice_events, alice_addr) = listening_node().await;
        let (bob, mut bob_events, _) = listening_node().await;

        bob.dial(alice_addr).await.unwrap();
        let seen_by_bob = tokio::time::timeout(Duration::from_secs(30), next_connected(&mut bob_events))
            .await
            .unwrap();
        let seen_by_alice = tokio::time::timeout(Duration::from_secs(30), next_connected(&mut alice_events))
            .await
            .unwrap();

        assert_eq!(seen_by_bob, alice.local_peer_id());
        assert_eq!(seen_by_alice, bob.local_peer_id());
        assert_eq!(alice.connected_peers().await.unwrap(), vec![bob.local_peer_id()]);
    }

    #[tokio::test]
    async fn listening_on_a_foreign_address_is_refused_clearly() {
        let (client, _events, _) = listening_node().await;
        let err = client
            .listen("/dns4/example.invalid/tcp/1".parse().unwrap())
            .await
            .unwrap_err();
        assert!(
            err.to_string()
                .starts_with("cannot listen on /dns4/example.invalid/tcp/1"),
            "{err}"
        );
    }

    #[tokio::test]
    async fn commands_after_shutdown_say_the_network_stopped() {
        let (client, _events, _) = listening_node().await;
        client.shutdown().await;
        // The loop may take a moment to drop its receiver.
        let mut result = client.listen_addrs().await;
        for _ in 0..50 {
            if result.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
            result = client.listen_addrs().await;
        }
        assert_eq!(result.unwrap_err(), crate::NetError::Stopped);
    }
}
