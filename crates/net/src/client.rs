//! The handle the rest of the node uses to talk to the swarm.

use libp2p::{Multiaddr, PeerId};
use thiserror::Error;
use tokio::sync::{mpsc, oneshot};

/// Why a network command failed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum NetError {
    /// The transports could not be set up.
    #[error("cannot set up the network transports: {0}")]
    Transport(String),
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

pub(crate) enum Command {
    Listen {
        address: Multiaddr,
        reply: oneshot::Sender<Result<(), NetError>>,
    },
    Dial {
        address: Multiaddr,
        reply: oneshot::Sender<Result<(), NetError>>,
    },
    ListenAddrs {
        reply: oneshot::Sender<Vec<Multiaddr>>,
    },
    ConnectedPeers {
        reply: oneshot::Sender<Vec<PeerId>>,
    },
    Shutdown,
}

/// A cloneable handle to the swarm's event loop.
#[derive(Debug, Clone)]
pub struct Client {
    commands: mpsc::Sender<Command>,
    local_peer_id: PeerId,
}

impl Client {
    pub(crate) fn new(commands: mpsc::Sender<Command>, local_peer_id: PeerId) -> Self {
        Client {
            commands,
            local_peer_id,
        }
    }

    /// This node's peer id.
    pub fn local_peer_id(&self) -> PeerId {
        self.local_peer_id
    }

    /// Starts listening on `address` (port 0 picks a free port; the chosen
    /// address arrives as [`crate::NetEvent::Listening`]).
    pub async fn listen(&self, address: Multiaddr) -> Result<(), NetError> {
        self.ask(|reply| Command::Listen { address, reply }).await?
    }

    /// Dials `address`; success means the dial started, and
    /// [`crate::NetEvent::PeerConnected`] tells when it succeeded.
    pub async fn dial(&self, address: Multiaddr) -> Result<(), NetError> {
        self.ask(|reply| Command::Dial { address, reply }).await?
    }

    /// The addresses the node listens on now.
    pub async fn listen_addrs(&self) -> Result<Vec<Multiaddr>, NetError> {
        self.ask(|reply| Command::ListenAddrs { reply }).await
    }

    /// The peers with at least one open connection.
    pub async fn connected_peers(&self) -> Result<Vec<PeerId>, NetError> {
        self.ask(|reply| Command::ConnectedPeers { reply }).await
    }

    /// Asks the event loop to close every connection and stop.
    pub async fn shutdown(&self) {
        // If the loop has already stopped there is nothing left to do.
        let _ = self.commands.send(Command::Shutdown).await;
    }

    async fn ask<T>(&self, command: impl FnOnce(oneshot::Sender<T>) -> Command) -> Result<T, NetError> {
        let (reply, answer) = oneshot::channel();
        self.commands
            .send(command(reply))
            .await
            .map_err(|_| NetError::Stopped)?;
        answer.await.map_err(|_| NetError::Stopped)
    }
}
