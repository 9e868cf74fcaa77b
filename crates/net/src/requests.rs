//! Request-response on any number of named protocols, each with its own
//! limits.
//!
//! ```no_run
//! # async fn example(client: tallymesh_net::Client, peer: tallymesh_net::PeerId) {
//! use tallymesh_net::ProtocolName;
//!
//! let ledger = ProtocolName::new("ledger").unwrap();
//! match client.request(peer, &ledger, b"a CBOR message".to_vec()).await {
//!     Ok(answer) => println!("{} bytes back", answer.len()),
//!     Err(e) => println!("no answer: {e}"),
//! }
//! # }
//! ```
//!
//! libp2p's request-response behaviour offers every protocol it was built
//! with on each request and the remote picks the first it knows, so one
//! behaviour cannot choose the protocol per request. [`RequestProtocols`]
//! therefore runs one behaviour per protocol, each with its own
//! [`FrameCodec`] limits, and multiplexes their connection handlers with
//! libp2p's `MultiHandler` keyed by the protocol's index.

use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use libp2p::core::Endpoint;
use libp2p::core::transport::PortUse;
use libp2p::request_response::{self, OutboundRequestId, ProtocolSupport, ResponseChannel};
use libp2p::swarm::handler::multi::MultiHandler;
use libp2p::swarm::{
    ConnectionDenied, ConnectionId, FromSwarm, NetworkBehaviour, THandler, THandlerInEvent, THandlerOutEvent, ToSwarm,
};
use libp2p::{Multiaddr, PeerId};
use tokio::sync::oneshot;

use crate::error::RespondError;
use crate::frame::{Frame, FrameCodec, FrameError};
use crate::protocol::{ProtocolName, RequestProtocol};

type Inner = request_response::Behaviour<FrameCodec>;

/// The request-response behaviours of all configured protocols.
pub(crate) struct RequestProtocols {
    protocols: Vec<RequestProtocol>,
    inner: Vec<Inner>,
}

impl RequestProtocols {
    pub(crate) fn new(protocols: &[RequestProtocol], timeout: Duration) -> Self {
        let inner = protocols
            .iter()
            .map(|p| {
                request_response::Behaviour::with_codec(
                    FrameCodec::new(p.max_request_bytes, p.max_response_bytes),
                    [(p.name.stream_protocol(), ProtocolSupport::Full)],
                    request_response::Config::default().with_request_timeout(timeout),
                )
            })
            .collect();
        RequestProtocols {
            protocols: protocols.to_vec(),
            inner,
        }
    }

    /// The index and settings of the protocol called `name`.
    pub(crate) fn find(&self, name: &ProtocolName) -> Option<(usize, &RequestProtocol)> {
        self.protocols.iter().enumerate().find(|(_, p)| &p.name == name)
    }

    /// The settings of the protocol at `index`.
    pub(crate) fn protocol(&self, index: usize) -> Option<&RequestProtocol> {
        self.protocols.get(index)
    }

    pub(crate) fn send_request(&mut self, index: usize, peer: &PeerId, payload: Vec<u8>) -> Option<OutboundRequestId> {
        self.inner
            .get_mut(index)
            .map(|behaviour| behaviour.send_request(peer, Ok(payload)))
    }

    /// Resets the stream of a refused request.
    ///
    /// Handing the refusal to the codec as the answer makes its write fail,
    /// and the failed stream is dropped without being closed, which resets
    /// it. Dropping the channel instead would close the stream gracefully,
    /// and a sender out of flow-control credit (a request larger than the
    /// window, which the reader never drained) would stay blocked until its
    /// timeout; a reset makes its write fail at once.
    pub(crate) fn refuse(&mut self, index: usize, channel: ResponseChannel<Frame>, why: FrameError) {
        if let Some(behaviour) = self.inner.get_mut(index) {
            // An error means the stream is gone already.
            let _ = behaviour.send_response(channel, Err(why));
        }
    }

    /// Hands a response to the stream; false if the stream is gone.
    pub(crate) fn send_response(&mut self, index: usize, channel: ResponseChannel<Frame>, payload: Vec<u8>) -> bool {
        match self.inner.get_mut(index) {
            Some(behaviour) => behaviour.send_response(channel, Ok(payload)).is_ok(),
            None => false,
        }
    }
}

impl NetworkBehaviour for RequestProtocols {
    type ConnectionHandler = MultiHandler<usize, THandler<Inner>>;
    type ToSwarm = (usize, request_response::Event<Frame, Frame>);

    fn handle_pending_inbound_connection(
        &mut self,
        connection_id: ConnectionId,
        local_addr: &Multiaddr,
        remote_addr: &Multiaddr,
    ) -> Result<(), ConnectionDenied> {
        for behaviour in &mut self.inner {
            behaviour.handle_pending_inbound_connection(connection_id, local_addr, remote_addr)?;
        }
        Ok(())
    }

    fn handle_established_inbound_connection(
        &mut self,
        connection_id: ConnectionId,
        peer: PeerId,
        local_addr: &Multiaddr,
        remote_addr: &Multiaddr,
    ) -> Result<THandler<Self>, ConnectionDenied> {
        let mut handlers = Vec::with_capacity(self.inner.len());
        for (index, behaviour) in self.inner.iter_mut().enumerate() {
            let handler =
                behaviour.handle_established_inbound_connection(connection_id, peer, local_addr, remote_addr)?;
            handlers.push((index, handler));
        }
        MultiHandler::try_from_iter(handlers).map_err(ConnectionDenied::new)
    }

    fn handle_pending_outbound_connection(
        &mut self,
        connection_id: ConnectionId,
        maybe_peer: Option<PeerId>,
        addresses: &[Multiaddr],
        effective_role: Endpoint,
    ) -> Result<Vec<Multiaddr>, ConnectionDenied> {
        let mut extra = Vec::new();
        for behaviour in &mut self.inner {
            extra.extend(behaviour.handle_pending_outbound_connection(
                connection_id,
                maybe_peer,
                addresses,
                effective_role,
            )?);
        }
        Ok(extra)
    }

    fn handle_established_outbound_connection(
        &mut self,
        connection_id: ConnectionId,
        peer: PeerId,
        addr: &Multiaddr,
        role_override: Endpoint,
        port_use: PortUse,
    ) -> Result<THandler<Self>, ConnectionDenied> {
        let mut handlers = Vec::with_capacity(self.inner.len());
        for (index, behaviour) in self.inner.iter_mut().enumerate() {
            let handler =
                behaviour.handle_established_outbound_connection(connection_id, peer, addr, role_override, port_use)?;
            handlers.push((index, handler));
        }
        MultiHandler::try_from_iter(handlers).map_err(ConnectionDenied::new)
    }

    fn on_swarm_event(&mut self, event: FromSwarm) {
        for behaviour in &mut self.inner {
            behaviour.on_swarm_event(event);
        }
    }

    fn on_connection_handler_event(
        &mut self,
        peer_id: PeerId,
        connection_id: ConnectionId,
        (index, event): THandlerOutEvent<Self>,
    ) {
        if let Some(behaviour) = self.inner.get_mut(index) {
            behaviour.on_connection_handler_event(peer_id, connection_id, event);
        }
    }

    fn poll(&mut self, cx: &mut Context<'_>) -> Poll<ToSwarm<Self::ToSwarm, THandlerInEvent<Self>>> {
        for (index, behaviour) in self.inner.iter_mut().enumerate() {
            if let Poll::Ready(action) = behaviour.poll(cx) {
                return Poll::Ready(action.map_in(|event| (index, event)).map_out(|event| (index, event)));
            }
        }
        Poll::Pending
    }
}

/// Answers one inbound request ([`crate::NetEvent::Request`]).
///
/// The first [`Responder::respond`] sends the answer; clones share it, so
/// later calls fail with [`RespondError::AlreadyAnswered`]. When every
/// clone is dropped without an answer, the stream is closed and the
/// requester gets [`crate::RequestError::NoResponse`]: refusing a request
/// is simply not answering it. A request left unanswered for the
/// configured request timeout is dropped the same way.
#[derive(Clone)]
pub struct Responder {
    id: u64,
    protocol: ProtocolName,
    limit: usize,
    reply: Arc<Mutex<Option<oneshot::Sender<Vec<u8>>>>>,
}

impl Responder {
    pub(crate) fn new(id: u64, protocol: ProtocolName, limit: usize) -> (Self, oneshot::Receiver<Vec<u8>>) {
        let (reply, answer) = oneshot::channel();
        (
            Responder {
                id,
                protocol,
                limit,
                reply: Arc::new(Mutex::new(Some(reply))),
            },
            answer,
        )
    }

    /// A number that tells this request from every other one the event
    /// loop received (for logs and bookkeeping).
    pub fn request_id(&self) -> u64 {
        self.id
    }

    /// The protocol the request came on.
    pub fn protocol(&self) -> &ProtocolName {
        &self.protocol
    }

    /// The largest answer the protocol allows, in bytes.
    pub fn max_response_bytes(&self) -> usize {
        self.limit
    }

    /// Sends `payload` as the answer. An answer over the protocol's limit is
    /// refused and the request stays open, so a smaller answer may follow.
    pub fn respond(&self, payload: Vec<u8>) -> Result<(), RespondError> {
        if payload.len() > self.limit {
            return Err(RespondError::TooLarge {
                size: payload.len(),
                limit: self.limit,
            });
        }
        let reply = self
            .reply
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
            .ok_or(RespondError::AlreadyAnswered)?;
        reply.send(payload).map_err(|_| RespondError::Gone)
    }
}

impl std::fmt::Debug for Responder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Responder")
            .field("request_id", &self.id)
            .field("protocol", &self.protocol)
            .field("max_response_bytes", &self.limit)
            .finish_non_exhaustive()
    }
}

/// Two responders are equal when they answer the same request.
impl PartialEq for Responder {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
    }
}

impl Eq for Responder {}

#[cfg(test)]
mod tests {
    use super::*;

    fn responder(limit: usize) -> (Responder, oneshot::Receiver<Vec<u8>>) {
        Responder::new(7, ProtocolName::new("echo").unwrap(), limit)
    }

    #[test]
    fn the_first_answer_wins_and_clones_share_it() {
        let (responder, mut answer) = responder(16);
        let clone = responder.clone();
        responder.respond(b"yes".to_vec()).unwrap();
        assert_eq!(clone.respond(b"no".to_vec()), Err(RespondError::AlreadyAnswered));
        assert_eq!(answer.try_recv().unwrap(), b"yes".to_vec());
    }

    #[test]
    fn an_answer_over_the_limit_is_refused_and_the_request_stays_open() {
        let (responder, mut answer) = responder(4);
        assert_eq!(
            responder.respond(vec![0; 5]),
            Err(RespondError::TooLarge { size: 5, limit: 4 })
        );
        responder.respond(vec![1; 4]).unwrap();
        assert_eq!(answer.try_recv().unwrap(), vec![1; 4]);
    }

    #[test]
    fn dropping_every_clone_closes_the_request() {
        let (responder, mut answer) = responder(4);
        let clone = responder.clone();
        drop(responder);
        assert!(
            answer
                .try_recv()
                .is_err_and(|e| e == oneshot::error::TryRecvError::Empty)
        );
        drop(clone);
        assert_eq!(answer.try_recv(), Err(oneshot::error::TryRecvError::Closed));
    }

    #[test]
    fn answering_a_request_nobody_waits_for_says_so() {
        let (responder, answer) = responder(4);
        drop(answer);
        assert_eq!(responder.respond(vec![1]), Err(RespondError::Gone));
    }
}
