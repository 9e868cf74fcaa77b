//! The task that owns the swarm.
//!
//! ```no_run
//! # fn example() -> Result<(), tallymesh_net::NetError> {
//! let key = tallymesh_net::keypair_from_seed(&[1; 32]).unwrap();
//! let (client, events, event_loop) = tallymesh_net::new(key, tallymesh_net::NetConfig::default())?;
//! let running = tokio::spawn(event_loop.run());
//! # Ok(()) }
//! ```
//!
//! The loop waits on four things at once: swarm events, client commands,
//! the node's answers to inbound requests ([`crate::Responder`]) and its
//! verdicts on gossip ([`crate::GossipValidation`]). Outcomes of commands
//! that take a while (requests, DHT queries) are kept by their libp2p id
//! until the swarm reports them.

use std::collections::HashMap;
use std::io;
use std::time::Duration;

use futures::future::BoxFuture;
use futures::stream::FuturesUnordered;
use futures::{FutureExt, StreamExt};
use libp2p::core::transport::ListenerId;
use libp2p::gossipsub::{self, IdentTopic, MessageAcceptance, MessageId, PublishError};
use libp2p::kad::store::RecordStore;
use libp2p::kad::{self, GetRecordOk, QueryId, QueryResult, Quorum, Record, RecordKey};
use libp2p::multiaddr::Protocol;
use libp2p::request_response::{self, OutboundFailure, OutboundRequestId, ResponseChannel};
use libp2p::swarm::{ConnectionId, SwarmEvent};
use libp2p::{Multiaddr, PeerId, StreamProtocol, Swarm, autonat, identify, mdns, ping, relay};
use tokio::sync::mpsc;

use crate::behaviour::{Behaviour, BehaviourEvent, RelayClients};
use crate::client::{Command, Reply};
use crate::error::{DhtError, GossipError, NetError, RequestError};
use crate::event::{ConnectedPeer, Misbehaviour, NetEvent, Reachability};
use crate::frame::Frame;
use crate::gossip::{GossipValidation, GossipVerdict};
use crate::records::{RecordPolicy, RecordVerdict};
use crate::requests::Responder;
use crate::{KADEMLIA_PROTOCOL, NetConfig};

/// The node's answer to an inbound request, or `None` if it refused or
/// took too long.
struct Answer {
    protocol: usize,
    channel: ResponseChannel<Frame>,
    payload: Option<Vec<u8>>,
}

/// The node's verdict on a gossip message, or `None` if it gave none.
struct Verdict {
    message_id: MessageId,
    propagated_by: PeerId,
    verdict: Option<GossipVerdict>,
}

/// Where the answer to one of our requests goes.
type RequestReply = Reply<Result<Vec<u8>, RequestError>>;

/// A DHT query a client waits for.
enum Query {
    Put(Reply<Result<(), DhtError>>),
    Get {
        reply: Reply<Result<Vec<Vec<u8>>, DhtError>>,
        found: Vec<Vec<u8>>,
    },
    Bootstrap(Reply<Result<(), DhtError>>),
}

/// Owns the swarm; drives it and answers the clients' commands.
pub struct EventLoop {
    swarm: Swarm<Behaviour>,
    commands: mpsc::Receiver<Command>,
    events: mpsc::Sender<NetEvent>,
    request_timeout: Duration,
    max_record_bytes: usize,
    max_gossip_bytes: usize,
    record_policy: Option<RecordPolicy>,
    /// Whether this node is a relay server: its listen addresses count as
    /// external.
    relay_server: bool,
    relay_clients: RelayClients,
    /// The address each listener was started with.
    listeners: HashMap<ListenerId, Multiaddr>,
    /// Numbers inbound requests and gossip messages for their handles.
    next_number: u64,
    connections: HashMap<PeerId, Vec<(ConnectionId, Multiaddr)>>,
    /// Incoming connections in the order they were established, and the
    /// ones being closed to free a slot.
    incoming: Vec<(ConnectionId, PeerId)>,
    evicting: std::collections::HashSet<ConnectionId>,
    incoming_slots: usize,
    /// What the node set with `Client::set_peer_priority`.
    priorities: HashMap<PeerId, u8>,
    /// How priorities become gossipsub application scores.
    gossip_scoring: crate::GossipScoring,
    rtts: HashMap<PeerId, Duration>,
    requests: HashMap<(usize, OutboundRequestId), RequestReply>,
    answers: FuturesUnordered<BoxFuture<'static, Answer>>,
    verdicts: FuturesUnordered<BoxFuture<'static, Verdict>>,
    queries: HashMap<QueryId, Query>,
}

impl EventLoop {
    pub(crate) fn new(
        swarm: Swarm<Behaviour>,
        config: &NetConfig,
        relay_clients: RelayClients,
        commands: mpsc::Receiver<Command>,
        events: mpsc::Sender<NetEvent>,
    ) -> Self {
        EventLoop {
            swarm,
            commands,
            events,
            request_timeout: config.request_timeout,
            max_record_bytes: config.max_record_bytes,
            max_gossip_bytes: config.max_gossip_bytes,
            record_policy: config.record_policy.clone(),
            relay_server: config.relay_server,
            relay_clients,
            listeners: HashMap::new(),
            next_number: 1,
            connections: HashMap::new(),
            incoming: Vec::new(),
            evicting: std::collections::HashSet::new(),
            incoming_slots: usize::try_from(config.connection_limits.incoming_slots).unwrap_or(usize::MAX),
            priorities: HashMap::new(),
            gossip_scoring: config.gossip_scoring,
            rtts: HashMap::new(),
            requests: HashMap::new(),
            answers: FuturesUnordered::new(),
            verdicts: FuturesUnordered::new(),
            queries: HashMap::new(),
        }
    }

    /// With more incoming connections than slots, closes the one of the
    /// peer with the lowest priority (the newest among equals, so a
    /// newcomer does not push out an equal that was there first).
    fn free_an_incoming_slot(&mut self) {
        let open: Vec<&(ConnectionId, PeerId)> = self
            .incoming
            .iter()
            .filter(|(id, _)| !self.evicting.contains(id))
            .collect();
        if open.len() <= self.incoming_slots {
            return;
        }
        let priority = |peer: &PeerId| self.priorities.get(peer).copied().unwrap_or(crate::DEFAULT_PRIORITY);
        let victim = open
            .iter()
            .enumerate()
            .min_by_key(|(arrival, (_, peer))| (priority(peer), std::cmp::Reverse(*arrival)))
            .map(|(_, (id, peer))| (*id, *peer));
        if let Some((id, peer)) = victim {
            tracing::info!(%peer, priority = priority(&peer), "incoming slots full: closing the least wanted connection");
            self.evicting.insert(id);
            self.swarm.close_connection(id);
        }
    }

    /// Gives gossipsub `peer`'s priority as its application score.
    fn score_gossip(&mut self, peer: PeerId) {
        let priority = self.priorities.get(&peer).copied().unwrap_or(crate::DEFAULT_PRIORITY);
        let score = self.gossip_scoring.application_score(priority);
        self.swarm.behaviour_mut().gossipsub.set_application_score(&peer, score);
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
                Some(answer) = self.answers.next(), if !self.answers.is_empty() => self.on_answer(answer),
                Some(verdict) = self.verdicts.next(), if !self.verdicts.is_empty() => self.on_verdict(verdict),
            }
        }
        let peers: Vec<_> = self.swarm.connected_peers().copied().collect();
        for peer in peers {
            let _ = self.swarm.disconnect_peer_id(peer);
        }
        tracing::debug!("network event loop stopped");
    }

    fn number(&mut self) -> u64 {
        let number = self.next_number;
        self.next_number += 1;
        number
    }

    async fn emit(&mut self, event: NetEvent) {
        // A closed receiver means nobody listens for events any more; the
        // loop still serves commands until shut down.
        let _ = self.events.send(event).await;
    }

    fn on_command(&mut self, command: Command) {
        match command {
            Command::Listen { address, reply } => {
                let result = match self.swarm.listen_on(address.clone()) {
                    Ok(id) => {
                        self.listeners.insert(id, address);
                        Ok(())
                    }
                    Err(e) => Err(NetError::Listen {
                        address,
                        reason: e.to_string(),
                    }),
                };
                let _ = reply.send(result);
            }
            Command::StopListening { address, reply } => {
                let ids: Vec<ListenerId> = self
                    .listeners
                    .iter()
                    .filter(|(_, listened)| **listened == address)
                    .map(|(id, _)| *id)
                    .collect();
                let mut stopped = false;
                for id in ids {
                    stopped |= self.swarm.remove_listener(id);
                }
                let _ = reply.send(stopped);
            }
            Command::Dial { address, reply } => {
                let result = self.swarm.dial(address.clone()).map_err(|e| NetError::Dial {
                    address,
                    reason: e.to_string(),
                });
                let _ = reply.send(result);
            }
            Command::AddAddress { peer, address, reply } => {
                self.swarm.behaviour_mut().kademlia.add_address(&peer, address.clone());
                self.swarm.add_peer_address(peer, address);
                let _ = reply.send(());
            }
            Command::AddExternalAddress { address, reply } => {
                self.swarm.add_external_address(address);
                let _ = reply.send(());
            }
            Command::AllowRelayReservations { peers, reply } => {
                self.relay_clients.replace(peers);
                let _ = reply.send(());
            }
            Command::Disconnect { peer, reply } => {
                let _ = reply.send(self.swarm.disconnect_peer_id(peer).is_ok());
            }
            Command::SetPriority { peer, priority, reply } => {
                if priority == crate::DEFAULT_PRIORITY {
                    self.priorities.remove(&peer);
                } else {
                    self.priorities.insert(peer, priority);
                }
                self.score_gossip(peer);
                let _ = reply.send(());
            }
            Command::GossipScore { peer, reply } => {
                let _ = reply.send(self.swarm.behaviour().gossipsub.peer_score(&peer));
            }
            Command::ListenAddrs { reply } => {
                let _ = reply.send(self.swarm.listeners().cloned().collect());
            }
            Command::ConnectedPeers { reply } => {
                let _ = reply.send(self.swarm.connected_peers().copied().collect());
            }
            Command::Peers { reply } => {
                let peers = self
                    .connections
                    .iter()
                    .map(|(peer, connections)| ConnectedPeer {
                        peer: *peer,
                        addresses: connections.iter().map(|(_, address)| address.clone()).collect(),
                        rtt: self.rtts.get(peer).copied(),
                    })
                    .collect();
                let _ = reply.send(peers);
            }
            Command::Request {
                peer,
                protocol,
                payload,
                reply,
            } => self.send_request(peer, protocol, payload, reply),
            Command::PutRecord { key, value, reply } => self.put_record(key, value, reply),
            Command::GetRecord { key, reply } => {
                let id = self.swarm.behaviour_mut().kademlia.get_record(RecordKey::new(&key));
                self.queries.insert(
                    id,
                    Query::Get {
                        reply,
                        found: Vec::new(),
                    },
                );
            }
            Command::Bootstrap { reply } => match self.swarm.behaviour_mut().kademlia.bootstrap() {
                Ok(id) => {
                    self.queries.insert(id, Query::Bootstrap(reply));
                }
                Err(_) => {
                    let _ = reply.send(Err(DhtError::NoKnownPeers));
                }
            },
            Command::Subscribe { topic, reply } => {
                let result = if topic.is_empty() {
                    Err(GossipError::EmptyTopic)
                } else {
                    self.swarm
                        .behaviour_mut()
                        .gossipsub
                        .subscribe(&IdentTopic::new(topic))
                        .map(|_| ())
                        .map_err(|e| match e {
                            gossipsub::SubscriptionError::PublishError(e) => publish_error(e),
                            gossipsub::SubscriptionError::NotAllowed => {
                                GossipError::Publish("the topic is not allowed".into())
                            }
                        })
                };
                let _ = reply.send(result);
            }
            Command::Unsubscribe { topic, reply } => {
                let _ = reply.send(
                    self.swarm
                        .behaviour_mut()
                        .gossipsub
                        .unsubscribe(&IdentTopic::new(topic)),
                );
            }
            Command::Publish { topic, payload, reply } => {
                let result = if topic.is_empty() {
                    Err(GossipError::EmptyTopic)
                } else if payload.len() > self.max_gossip_bytes {
                    Err(GossipError::TooLarge {
                        size: payload.len(),
                        limit: self.max_gossip_bytes,
                    })
                } else {
                    self.swarm
                        .behaviour_mut()
                        .gossipsub
                        .publish(IdentTopic::new(topic), payload)
                        .map(|_| ())
                        .map_err(publish_error)
                };
                let _ = reply.send(result);
            }
            Command::Shutdown => {}
        }
    }

    fn send_request(&mut self, peer: PeerId, protocol: crate::ProtocolName, payload: Vec<u8>, reply: RequestReply) {
        let requests = &mut self.swarm.behaviour_mut().requests;
        let Some((index, settings)) = requests.find(&protocol) else {
            let _ = reply.send(Err(RequestError::UnknownProtocol(protocol)));
            return;
        };
        if payload.len() > settings.max_request_bytes {
            let _ = reply.send(Err(RequestError::TooLarge {
                size: payload.len(),
                limit: settings.max_request_bytes,
            }));
            return;
        }
        if let Some(id) = requests.send_request(index, &peer, payload) {
            self.requests.insert((index, id), reply);
        }
    }

    fn put_record(&mut self, key: Vec<u8>, value: Vec<u8>, reply: Reply<Result<(), DhtError>>) {
        if value.len() > self.max_record_bytes {
            let _ = reply.send(Err(DhtError::RecordTooLarge {
                size: value.len(),
                limit: self.max_record_bytes,
            }));
            return;
        }
        let size = value.len();
        let record = Record::new(RecordKey::new(&key), value);
        match self.swarm.behaviour_mut().kademlia.put_record(record, Quorum::One) {
            Ok(id) => {
                self.queries.insert(id, Query::Put(reply));
            }
            Err(kad::store::Error::ValueTooLarge) => {
                let _ = reply.send(Err(DhtError::RecordTooLarge {
                    size,
                    limit: self.max_record_bytes,
                }));
            }
            Err(kad::store::Error::MaxRecords | kad::store::Error::MaxProvidedKeys) => {
                let _ = reply.send(Err(DhtError::StoreFull));
            }
        }
    }

    fn on_answer(&mut self, answer: Answer) {
        let Answer {
            protocol,
            channel,
            payload,
        } = answer;
        match payload {
            Some(payload) => {
                if !self
                    .swarm
                    .behaviour_mut()
                    .requests
                    .send_response(protocol, channel, payload)
                {
                    tracing::debug!("the requester left before the answer");
                }
            }
            // Dropping the channel closes the stream: the requester learns
            // there is no answer.
            None => drop(channel),
        }
    }

    fn on_verdict(&mut self, verdict: Verdict) {
        let acceptance = match verdict.verdict {
            Some(GossipVerdict::Accept) => MessageAcceptance::Accept,
            Some(GossipVerdict::Reject) => MessageAcceptance::Reject,
            Some(GossipVerdict::Ignore) | None => MessageAcceptance::Ignore,
        };
        self.swarm.behaviour_mut().gossipsub.report_message_validation_result(
            &verdict.message_id,
            &verdict.propagated_by,
            acceptance,
        );
    }

    async fn on_swarm_event(&mut self, event: SwarmEvent<BehaviourEvent>) {
        match event {
            SwarmEvent::NewListenAddr { address, .. } => {
                tracing::info!(%address, "listening");
                if self.relay_server && !is_relayed(&address) {
                    // A relay serves only from an address others can dial;
                    // a headless node serving its cadre on a LAN (or in a
                    // test on loopback) has no one to confirm it.
                    self.swarm.add_external_address(address.clone());
                }
                self.emit(NetEvent::Listening(address)).await;
            }
            SwarmEvent::ExpiredListenAddr { address, .. } => {
                if self.relay_server {
                    self.swarm.remove_external_address(&address);
                }
                self.emit(NetEvent::ListenerClosed(address)).await;
            }
            SwarmEvent::ListenerClosed {
                listener_id,
                addresses,
                reason,
            } => {
                for address in addresses {
                    if self.relay_server {
                        self.swarm.remove_external_address(&address);
                    }
                    self.emit(NetEvent::ListenerClosed(address)).await;
                }
                let started_with = self.listeners.remove(&listener_id);
                if let Some(relay) = started_with.as_ref().and_then(relay_of) {
                    let reason = match reason {
                        Ok(()) => "the reservation was given up".to_owned(),
                        Err(error) => with_causes(&error),
                    };
                    tracing::info!(%relay, %reason, "relay reservation lost");
                    self.emit(NetEvent::RelayReservationLost { relay, reason }).await;
                }
            }
            SwarmEvent::ConnectionEstablished {
                peer_id,
                connection_id,
                endpoint,
                num_established,
                ..
            } => {
                // The peer's own id at the end of the address says nothing
                // the entry doesn't; keep addresses in the form peers listen on.
                let mut address = endpoint.get_remote_address().clone();
                if matches!(address.iter().last(), Some(Protocol::P2p(_))) {
                    address.pop();
                }
                self.connections
                    .entry(peer_id)
                    .or_default()
                    .push((connection_id, address));
                if endpoint.is_listener() {
                    self.incoming.push((connection_id, peer_id));
                    self.free_an_incoming_slot();
                }
                if num_established.get() == 1 {
                    self.score_gossip(peer_id);
                    tracing::debug!(peer = %peer_id, "peer connected");
                    self.emit(NetEvent::PeerConnected(peer_id)).await;
                }
            }
            SwarmEvent::ConnectionClosed {
                peer_id,
                connection_id,
                num_established,
                ..
            } => {
                if let Some(connections) = self.connections.get_mut(&peer_id) {
                    connections.retain(|(id, _)| *id != connection_id);
                }
                self.incoming.retain(|(id, _)| *id != connection_id);
                self.evicting.remove(&connection_id);
                if num_established == 0 {
                    self.connections.remove(&peer_id);
                    self.rtts.remove(&peer_id);
                    tracing::debug!(peer = %peer_id, "peer disconnected");
                    self.emit(NetEvent::PeerDisconnected(peer_id)).await;
                }
            }
            SwarmEvent::OutgoingConnectionError { peer_id, error, .. } => {
                tracing::debug!(peer = ?peer_id, %error, "dial failed");
                self.emit(NetEvent::DialFailed {
                    peer: peer_id,
                    reason: error.to_string(),
                })
                .await;
            }
            SwarmEvent::IncomingConnectionError {
                send_back_addr, error, ..
            } => {
                tracing::debug!(from = %send_back_addr, %error, "incoming connection refused or failed");
            }
            SwarmEvent::Behaviour(event) => self.on_behaviour_event(event).await,
            _ => {}
        }
    }

    async fn on_behaviour_event(&mut self, event: BehaviourEvent) {
        match event {
            BehaviourEvent::Limits(never) => match never {},
            BehaviourEvent::Identify(identify::Event::Received { peer_id, info, .. }) => {
                tracing::debug!(peer = %peer_id, agent = %info.agent_version, "identified");
                // Peers that serve the DHT are routable at the addresses
                // they listen on; without this, peers that dialled us
                // would never enter the routing table.
                if info.protocols.contains(&StreamProtocol::new(KADEMLIA_PROTOCOL)) {
                    for address in &info.listen_addrs {
                        self.swarm
                            .behaviour_mut()
                            .kademlia
                            .add_address(&peer_id, address.clone());
                    }
                }
                if info.protocols.contains(&relay::HOP_PROTOCOL_NAME) {
                    let addresses = info.listen_addrs.into_iter().filter(|a| !is_relayed(a)).collect();
                    self.emit(NetEvent::RelayOffered {
                        relay: peer_id,
                        addresses,
                    })
                    .await;
                }
            }
            BehaviourEvent::Identify(_) => {}
            BehaviourEvent::Ping(ping::Event { peer, result, .. }) => match result {
                Ok(rtt) => {
                    self.rtts.insert(peer, rtt);
                    self.emit(NetEvent::PingRtt { peer, rtt }).await;
                }
                Err(error) => tracing::debug!(peer = %peer, %error, "ping failed"),
            },
            BehaviourEvent::Kademlia(kad::Event::OutboundQueryProgressed { id, result, step, .. }) => {
                self.on_query_progress(id, result, step.last);
            }
            BehaviourEvent::Kademlia(kad::Event::ModeChanged { new_mode }) => {
                tracing::info!(mode = %new_mode, "DHT mode changed");
            }
            BehaviourEvent::Kademlia(kad::Event::InboundRequest {
                request:
                    kad::InboundRequest::PutRecord {
                        source,
                        record: Some(record),
                        ..
                    },
            }) => self.on_record_offered(source, record).await,
            BehaviourEvent::Kademlia(_) => {}
            BehaviourEvent::Gossipsub(gossipsub::Event::Message {
                propagation_source,
                message_id,
                message,
            }) => self.on_gossip(propagation_source, message_id, message).await,
            BehaviourEvent::Gossipsub(gossipsub::Event::SlowPeer { peer_id, .. }) => {
                tracing::debug!(peer = %peer_id, "gossip peer too slow");
            }
            BehaviourEvent::Gossipsub(_) => {}
            BehaviourEvent::Mdns(mdns::Event::Discovered(found)) => {
                // Any libp2p node on the LAN answers mDNS, so a discovered
                // peer is only dialable, not routable: it joins the DHT
                // routing table once identify shows it serves our DHT.
                for (peer, address) in found {
                    self.swarm.add_peer_address(peer, address.clone());
                    self.emit(NetEvent::PeerDiscovered { peer, address }).await;
                }
            }
            BehaviourEvent::Mdns(mdns::Event::Expired(_)) => {}
            BehaviourEvent::RelayClient(relay::client::Event::ReservationReqAccepted {
                relay_peer_id,
                renewal,
                ..
            }) => {
                if !renewal {
                    tracing::info!(relay = %relay_peer_id, "relay reservation accepted");
                    self.emit(NetEvent::RelayReservation { relay: relay_peer_id }).await;
                }
            }
            BehaviourEvent::RelayClient(event) => tracing::debug!(?event, "relay client"),
            BehaviourEvent::RelayServer(event) => tracing::debug!(?event, "relay server"),
            BehaviourEvent::Dcutr(event) => match event.result {
                Ok(_) => tracing::info!(peer = %event.remote_peer_id, "direct connection through hole punching"),
                Err(error) => tracing::debug!(peer = %event.remote_peer_id, %error, "hole punching failed"),
            },
            BehaviourEvent::Autonat(autonat::Event::StatusChanged { new, .. }) => {
                let reachability = match new {
                    autonat::NatStatus::Public(address) => Reachability::Public(address),
                    autonat::NatStatus::Private => Reachability::Private,
                    autonat::NatStatus::Unknown => Reachability::Unknown,
                };
                tracing::info!(?reachability, "reachability changed");
                self.emit(NetEvent::Reachability(reachability)).await;
            }
            BehaviourEvent::Autonat(_) => {}
            BehaviourEvent::Requests((index, event)) => self.on_request_event(index, event).await,
        }
    }

    /// A peer asked this node to store a record, and a record policy is
    /// set: store it only if the policy says so.
    async fn on_record_offered(&mut self, peer: PeerId, record: Record) {
        let Some(policy) = &self.record_policy else {
            return;
        };
        let store = self.swarm.behaviour_mut().kademlia.store_mut();
        let kept = store.get(&record.key).map(|kept| kept.value.clone());
        let key = record.key.to_vec();
        match policy.judge(&key, &record.value, kept.as_deref()) {
            RecordVerdict::Store => {
                if let Err(error) = store.put(record) {
                    tracing::info!(%peer, ?error, "a DHT record was not stored");
                }
            }
            RecordVerdict::Ignore => tracing::debug!(%peer, "a DHT record was not stored: the policy ignores it"),
            RecordVerdict::Reject(reason) => {
                let key = String::from_utf8_lossy(&key).chars().take(120).collect();
                tracing::debug!(%peer, %key, %reason, "a DHT record was refused");
                self.emit(NetEvent::Misbehaved {
                    peer,
                    reason: Misbehaviour::BadRecord { key, reason },
                })
                .await;
            }
        }
    }

    async fn on_gossip(&mut self, propagated_by: PeerId, message_id: MessageId, message: gossipsub::Message) {
        let topic = message.topic.into_string();
        // Strict validation guarantees a signed author; a message without
        // one cannot pass it.
        let Some(author) = message.source else {
            self.verdicts.push(
                futures::future::ready(Verdict {
                    message_id,
                    propagated_by,
                    verdict: Some(GossipVerdict::Reject),
                })
                .boxed(),
            );
            return;
        };
        if message.data.len() > self.max_gossip_bytes {
            let size = message.data.len();
            self.verdicts.push(
                futures::future::ready(Verdict {
                    message_id,
                    propagated_by,
                    verdict: Some(GossipVerdict::Reject),
                })
                .boxed(),
            );
            self.emit(NetEvent::Misbehaved {
                peer: propagated_by,
                reason: Misbehaviour::OversizedGossip {
                    topic,
                    size,
                    limit: self.max_gossip_bytes,
                },
            })
            .await;
            return;
        }
        let number = self.number();
        let (validation, verdict) = GossipValidation::new(number);
        let timeout = self.request_timeout;
        self.verdicts.push(
            async move {
                let verdict = tokio::time::timeout(timeout, verdict).await.ok().and_then(Result::ok);
                Verdict {
                    message_id,
                    propagated_by,
                    verdict,
                }
            }
            .boxed(),
        );
        self.emit(NetEvent::Gossip {
            topic,
            author,
            propagated_by,
            bytes: message.data,
            validation,
        })
        .await;
    }

    async fn on_request_event(&mut self, index: usize, event: request_response::Event<Frame, Frame>) {
        let Some(protocol) = self.swarm.behaviour().requests.protocol(index).cloned() else {
            return;
        };
        match event {
            request_response::Event::Message { peer, message, .. } => match message {
                request_response::Message::Request { request, channel, .. } => match request {
                    Ok(bytes) => {
                        let number = self.number();
                        let (responder, answer) =
                            Responder::new(number, protocol.name.clone(), protocol.max_response_bytes);
                        let timeout = self.request_timeout;
                        self.answers.push(
                            async move {
                                let payload = tokio::time::timeout(timeout, answer).await.ok().and_then(Result::ok);
                                Answer {
                                    protocol: index,
                                    channel,
                                    payload,
                                }
                            }
                            .boxed(),
                        );
                        self.emit(NetEvent::Request {
                            peer,
                            protocol: protocol.name,
                            bytes,
                            responder,
                        })
                        .await;
                    }
                    Err(error) => {
                        tracing::debug!(%peer, protocol = %protocol.name, %error, "bad request dropped");
                        self.swarm
                            .behaviour_mut()
                            .requests
                            .refuse(index, channel, error.clone());
                        self.emit(NetEvent::Misbehaved {
                            peer,
                            reason: Misbehaviour::BadRequest {
                                protocol: protocol.name,
                                error,
                            },
                        })
                        .await;
                    }
                },
                request_response::Message::Response { request_id, response } => {
                    let reply = self.requests.remove(&(index, request_id));
                    match response {
                        Ok(bytes) => {
                            if let Some(reply) = reply {
                                let _ = reply.send(Ok(bytes));
                            }
                        }
                        Err(error) => {
                            tracing::debug!(%peer, protocol = %protocol.name, %error, "bad response dropped");
                            if let Some(reply) = reply {
                                let _ = reply.send(Err(RequestError::BadResponse(error.clone())));
                            }
                            self.emit(NetEvent::Misbehaved {
                                peer,
                                reason: Misbehaviour::BadResponse {
                                    protocol: protocol.name,
                                    error,
                                },
                            })
                            .await;
                        }
                    }
                }
            },
            request_response::Event::OutboundFailure {
                peer,
                request_id,
                error,
                ..
            } => {
                tracing::debug!(%peer, protocol = %protocol.name, %error, "request failed");
                if let Some(reply) = self.requests.remove(&(index, request_id)) {
                    let _ = reply.send(Err(outbound_error(error)));
                }
            }
            request_response::Event::InboundFailure { peer, error, .. } => {
                tracing::debug!(%peer, protocol = %protocol.name, %error, "inbound request failed");
            }
            request_response::Event::ResponseSent { .. } => {}
        }
    }

    fn on_query_progress(&mut self, id: QueryId, result: QueryResult, last: bool) {
        let Some(query) = self.queries.remove(&id) else {
            // Queries the DHT runs by itself (periodic bootstrap, republishing).
            return;
        };
        match (query, result) {
            (Query::Put(reply), QueryResult::PutRecord(result)) => {
                let _ = reply.send(result.map(|_| ()).map_err(|e| match e {
                    kad::PutRecordError::QuorumFailed { .. } => DhtError::NotReplicated,
                    kad::PutRecordError::Timeout { .. } => DhtError::Timeout,
                }));
            }
            (Query::Get { reply, mut found }, QueryResult::GetRecord(result)) => {
                let timed_out = match result {
                    Ok(GetRecordOk::FoundRecord(peer_record)) => {
                        if !found.contains(&peer_record.record.value) {
                            found.push(peer_record.record.value);
                        }
                        false
                    }
                    Ok(GetRecordOk::FinishedWithNoAdditionalRecord { .. }) => false,
                    Err(kad::GetRecordError::NotFound { .. }) => false,
                    Err(kad::GetRecordError::Timeout { .. }) => true,
                };
                if !last {
                    self.queries.insert(id, Query::Get { reply, found });
                } else if !found.is_empty() {
                    let _ = reply.send(Ok(found));
                } else if timed_out {
                    let _ = reply.send(Err(DhtError::Timeout));
                } else {
                    let _ = reply.send(Err(DhtError::NotFound));
                }
            }
            (Query::Bootstrap(reply), QueryResult::Bootstrap(result)) => {
                if !last {
                    self.queries.insert(id, Query::Bootstrap(reply));
                } else {
                    let _ = reply.send(result.map(|_| ()).map_err(|_| DhtError::Timeout));
                }
            }
            (query, _) => {
                // A result of another kind for this id cannot come; keep
                // waiting for the right one rather than drop the reply.
                self.queries.insert(id, query);
            }
        }
    }
}

/// An error and the errors that caused it, in words: "failed to get a
/// reservation: … resource limit exceeded".
fn with_causes(error: &dyn std::error::Error) -> String {
    let mut words = error.to_string();
    let mut cause = error.source();
    while let Some(next) = cause {
        let next_words = next.to_string();
        if !words.ends_with(&next_words) {
            words = format!("{words}: {next_words}");
        }
        cause = next.source();
    }
    words
}

/// Whether `address` goes through a relay.
fn is_relayed(address: &Multiaddr) -> bool {
    address.iter().any(|p| matches!(p, Protocol::P2pCircuit))
}

/// The relay of a `/…/p2p/<relay>/p2p-circuit` address.
fn relay_of(address: &Multiaddr) -> Option<PeerId> {
    let mut relay = None;
    for protocol in address.iter() {
        match protocol {
            Protocol::P2p(peer) => relay = Some(peer),
            Protocol::P2pCircuit => return relay,
            _ => {}
        }
    }
    None
}

fn publish_error(error: PublishError) -> GossipError {
    match error {
        PublishError::NoPeersSubscribedToTopic => GossipError::NoPeers,
        PublishError::Duplicate => GossipError::Duplicate,
        PublishError::MessageTooLarge => GossipError::Publish("the message is too large for gossipsub".into()),
        PublishError::AllQueuesFull(_) => GossipError::QueuesFull,
        other => GossipError::Publish(other.to_string()),
    }
}

fn outbound_error(error: OutboundFailure) -> RequestError {
    match error {
        OutboundFailure::DialFailure => RequestError::Unreachable,
        OutboundFailure::Timeout => RequestError::Timeout,
        OutboundFailure::ConnectionClosed => RequestError::ConnectionClosed,
        OutboundFailure::UnsupportedProtocols => RequestError::UnsupportedProtocol,
        // A stream that ends before the answer, or is reset under our
        // writes (yamux reports that as a write of zero bytes), is the
        // peer's refusal.
        OutboundFailure::Io(e)
            if matches!(
                e.kind(),
                io::ErrorKind::UnexpectedEof
                    | io::ErrorKind::WriteZero
                    | io::ErrorKind::ConnectionReset
                    | io::ErrorKind::BrokenPipe
            ) =>
        {
            RequestError::NoResponse
        }
        OutboundFailure::Io(e) => RequestError::Stream(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use libp2p::Multiaddr;

    use crate::{NetConfig, NetEvent};

    fn quiet_config() -> NetConfig {
        NetConfig {
            mdns: false,
            ..NetConfig::default()
        }
    }

    async fn listening_node(seed: u8) -> (crate::Client, tokio::sync::mpsc::Receiver<NetEvent>, Multiaddr) {
        let key = crate::keypair_from_seed(&[seed; 32]).unwrap();
        let (client, mut events, event_loop) = crate::new(key, quiet_config()).unwrap();
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
        let (alice, mut alice_events, alice_addr) = listening_node(1).await;
        let (bob, mut bob_events, _) = listening_node(2).await;

        bob.dial(alice_addr.clone()).await.unwrap();
        let seen_by_bob = tokio::time::timeout(Duration::from_secs(30), next_connected(&mut bob_events))
            .await
            .unwrap();
        let seen_by_alice = tokio::time::timeout(Duration::from_secs(30), next_connected(&mut alice_events))
            .await
            .unwrap();

        assert_eq!(seen_by_bob, alice.local_peer_id());
        assert_eq!(seen_by_alice, bob.local_peer_id());
        assert_eq!(alice.connected_peers().await.unwrap(), vec![bob.local_peer_id()]);
        let bobs_view = bob.peers().await.unwrap();
        assert_eq!(bobs_view.len(), 1);
        assert_eq!(bobs_view[0].peer, alice.local_peer_id());
        assert_eq!(bobs_view[0].addresses, vec![alice_addr]);
    }

    #[tokio::test]
    async fn listening_on_a_foreign_address_is_refused_clearly() {
        let (client, _events, _) = listening_node(3).await;
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
        let (client, _events, _) = listening_node(4).await;
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
        assert_eq!(client.get_record(b"k".to_vec()).await, Err(crate::DhtError::Stopped));
    }
}
