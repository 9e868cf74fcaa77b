//! Request-response on our protocols: round trips, limits, malformed input.

use std::io;

use futures::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, StreamExt};
use libp2p::request_response::{self, ProtocolSupport};
use libp2p::swarm::SwarmEvent;
use libp2p::{StreamProtocol, noise, tcp, yamux};
use tallymesh_net::{FrameError, Misbehaviour, NetEvent, ProtocolName, RequestError, RespondError};

use crate::support::{Node, Transport, config, echo, node, within};

const KIB: usize = 1024;

/// Answers the next request on `server` with its bytes reversed.
async fn answer_reversed(server: &mut Node) -> Vec<u8> {
    let (bytes, responder) = server
        .next(|e| match e {
            NetEvent::Request { bytes, responder, .. } => Some((bytes, responder)),
            _ => None,
        })
        .await;
    let mut answer = bytes.clone();
    answer.reverse();
    responder.respond(answer).unwrap();
    bytes
}

async fn round_trip_over(transport: Transport, seeds: (u8, u8)) {
    let protocol = echo();
    let alice = node(seeds.0, config(64 * KIB, 64 * KIB), transport).await;
    let mut bob = node(seeds.1, config(64 * KIB, 64 * KIB), transport).await;
    // No dial: the request dials through the address it was given.
    alice
        .client
        .add_address(bob.peer_id(), bob.address.clone())
        .await
        .unwrap();

    let (answer, asked) = within(async {
        tokio::join!(
            alice.client.request(bob.peer_id(), &protocol, b"hello bob".to_vec()),
            answer_reversed(&mut bob)
        )
    })
    .await;

    assert_eq!(asked, b"hello bob");
    assert_eq!(answer.unwrap(), b"bob olleh");
    let peers = alice.client.peers().await.unwrap();
    assert_eq!(peers.len(), 1);
    assert_eq!(peers[0].peer, bob.peer_id());
    assert_eq!(peers[0].addresses, vec![bob.address.clone()]);
}

#[tokio::test]
async fn a_request_round_trips_over_tcp() {
    round_trip_over(Transport::Tcp, (10, 11)).await;
}

#[tokio::test]
async fn a_request_round_trips_over_quic() {
    round_trip_over(Transport::Quic, (12, 13)).await;
}

/// Alice may send up to 1 MiB; Bob accepts 1 KiB. Alice sends 900 KiB,
/// more than a stream's flow-control window, so she is still writing when
/// Bob refuses: the refusal must reach her at once, not at her timeout.
async fn oversized_request_over(transport: Transport, seeds: (u8, u8)) {
    let protocol = echo();
    let mut alice = node(seeds.0, config(1024 * KIB, 64 * KIB), transport).await;
    let mut bob = node(seeds.1, config(KIB, 64 * KIB), transport).await;
    alice.connect(&mut bob).await;
    let alice_id = alice.peer_id();

    let (result, first_seen) = within(async {
        tokio::join!(
            alice.client.request(bob.peer_id(), &protocol, vec![0xab; 900 * KIB]),
            // The first request-related event Bob sees must be the report,
            // never the request itself.
            bob.next(|e| match e {
                NetEvent::Request { .. } => Some(Err("the oversized request was delivered")),
                NetEvent::Misbehaved { peer, reason } => Some(Ok((peer, reason))),
                _ => None,
            })
        )
    })
    .await;

    assert_eq!(result, Err(RequestError::NoResponse), "{transport:?}");
    let (peer, reason) = first_seen.unwrap();
    assert_eq!(peer, alice_id);
    assert_eq!(
        reason,
        Misbehaviour::BadRequest {
            protocol: echo(),
            error: FrameError::TooLarge {
                declared: 900 * 1024,
                limit: 1024
            }
        }
    );

    // Bob's node carries on.
    let (answer, _) = within(async {
        tokio::join!(
            alice.client.request(bob.peer_id(), &protocol, b"small".to_vec()),
            answer_reversed(&mut bob)
        )
    })
    .await;
    assert_eq!(answer.unwrap(), b"llams");
}

#[tokio::test]
async fn an_oversized_request_over_tcp_is_refused_and_its_sender_reported() {
    oversized_request_over(Transport::Tcp, (14, 15)).await;
}

#[tokio::test]
async fn an_oversized_request_over_quic_is_refused_and_its_sender_reported() {
    oversized_request_over(Transport::Quic, (24, 25)).await;
}

#[tokio::test]
async fn an_oversized_response_is_refused_and_the_responder_reported() {
    let protocol = echo();
    // Bob may answer up to 1 MiB; Alice accepts 1 KiB answers.
    let mut alice = node(16, config(KIB, KIB), Transport::Tcp).await;
    let mut bob = node(17, config(KIB, 1024 * KIB), Transport::Tcp).await;
    alice.connect(&mut bob).await;
    let bob_id = bob.peer_id();

    let (result, ()) = within(async {
        tokio::join!(
            alice
                .client
                .request(bob.peer_id(), &protocol, b"big answer please".to_vec()),
            async {
                let responder = bob
                    .next(|e| match e {
                        NetEvent::Request { responder, .. } => Some(responder),
                        _ => None,
                    })
                    .await;
                responder.respond(vec![7; 8 * KIB]).unwrap();
            }
        )
    })
    .await;

    let refused = FrameError::TooLarge {
        declared: 8192,
        limit: 1024,
    };
    assert_eq!(result, Err(RequestError::BadResponse(refused.clone())));
    let (peer, reason) = alice
        .next(|e| match e {
            NetEvent::Misbehaved { peer, reason } => Some((peer, reason)),
            _ => None,
        })
        .await;
    assert_eq!(peer, bob_id);
    assert_eq!(
        reason,
        Misbehaviour::BadResponse {
            protocol: echo(),
            error: refused
        }
    );
}

#[tokio::test]
async fn requests_over_the_senders_own_limits_or_on_unknown_protocols_are_not_sent() {
    let alice = node(18, config(KIB, KIB), Transport::Tcp).await;
    let somebody = tallymesh_net::keypair_from_seed(&[19; 32])
        .unwrap()
        .public()
        .to_peer_id();

    let too_large = alice.client.request(somebody, &echo(), vec![0; KIB + 1]).await;
    assert_eq!(
        too_large,
        Err(RequestError::TooLarge {
            size: KIB + 1,
            limit: KIB
        })
    );
    let unknown = ProtocolName::new("ledger").unwrap();
    let result = alice.client.request(somebody, &unknown, vec![1]).await;
    assert_eq!(result, Err(RequestError::UnknownProtocol(unknown)));
    // A peer nobody knows an address of cannot be reached.
    let result = alice.client.request(somebody, &echo(), vec![1]).await;
    assert_eq!(result, Err(RequestError::Unreachable));
}

#[tokio::test]
async fn a_dropped_responder_tells_the_requester_there_is_no_answer() {
    let protocol = echo();
    let mut alice = node(20, config(KIB, KIB), Transport::Tcp).await;
    let mut bob = node(21, config(KIB, KIB), Transport::Tcp).await;
    alice.connect(&mut bob).await;

    let (result, ()) = within(async {
        tokio::join!(alice.client.request(bob.peer_id(), &protocol, b"?".to_vec()), async {
            let responder = bob
                .next(|e| match e {
                    NetEvent::Request { responder, .. } => Some(responder),
                    _ => None,
                })
                .await;
            assert_eq!(
                responder.respond(vec![0; KIB + 1]),
                Err(RespondError::TooLarge {
                    size: KIB + 1,
                    limit: KIB
                })
            );
            drop(responder);
        })
    })
    .await;
    assert_eq!(result, Err(RequestError::NoResponse));
}

/// A codec that writes whatever bytes it is given, with no framing: a peer
/// that does not follow our rules.
#[derive(Debug, Clone, Copy, Default)]
struct RawCodec;

impl request_response::Codec for RawCodec {
    type Protocol = StreamProtocol;
    type Request = Vec<u8>;
    type Response = Vec<u8>;

    async fn read_request<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<Vec<u8>>
    where
        T: AsyncRead + Unpin + Send,
    {
        let mut bytes = Vec::new();
        io.take(1 << 20).read_to_end(&mut bytes).await?;
        Ok(bytes)
    }

    async fn read_response<T>(&mut self, protocol: &StreamProtocol, io: &mut T) -> io::Result<Vec<u8>>
    where
        T: AsyncRead + Unpin + Send,
    {
        let bytes = self.read_request(protocol, io).await?;
        if bytes.is_empty() {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        Ok(bytes)
    }

    async fn write_request<T>(&mut self, _: &StreamProtocol, io: &mut T, bytes: Vec<u8>) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        io.write_all(&bytes).await
    }

    async fn write_response<T>(&mut self, _: &StreamProtocol, io: &mut T, bytes: Vec<u8>) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        io.write_all(&bytes).await
    }
}

#[tokio::test]
async fn malformed_bytes_on_our_protocol_are_dropped_and_reported() {
    let mut bob = node(22, config(KIB, KIB), Transport::Tcp).await;
    let raw_key = tallymesh_net::keypair_from_seed(&[23; 32]).unwrap();
    let raw_id = raw_key.public().to_peer_id();
    let mut raw = libp2p::SwarmBuilder::with_existing_identity(raw_key)
        .with_tokio()
        .with_tcp(tcp::Config::default(), noise::Config::new, yamux::Config::default)
        .unwrap()
        .with_behaviour(|_| {
            request_response::Behaviour::with_codec(
                RawCodec,
                [(StreamProtocol::new("/tallymesh/echo/1"), ProtocolSupport::Outbound)],
                request_response::Config::default(),
            )
        })
        .unwrap()
        .build();
    raw.add_peer_address(bob.peer_id(), bob.address.clone());

    let cases: [(&[u8], FrameError); 5] = [
        (b"\x01\x02", FrameError::NotAByteString { initial_byte: 0x01 }),
        (b"\x5f\x41a\xff", FrameError::IndefiniteLength),
        (b"\x58\x02hi", FrameError::NonMinimalLength),
        (
            b"\x45hi",
            FrameError::Truncated {
                declared: 5,
                received: 2,
            },
        ),
        (b"\x42hi!", FrameError::TrailingBytes),
    ];
    for (bytes, expected) in cases {
        let request = raw.behaviour_mut().send_request(&bob.peer_id(), bytes.to_vec());
        let (raw_outcome, (peer, reason)) = within(async {
            tokio::join!(
                async {
                    loop {
                        if let SwarmEvent::Behaviour(event) = raw.select_next_some().await {
                            match event {
                                request_response::Event::OutboundFailure { request_id, .. }
                                    if request_id == request =>
                                {
                                    return Ok(());
                                }
                                request_response::Event::Message { .. } => return Err("bob answered garbage"),
                                _ => {}
                            }
                        }
                    }
                },
                bob.next(|e| match e {
                    NetEvent::Request { .. } => panic!("garbage was delivered as a request"),
                    NetEvent::Misbehaved { peer, reason } => Some((peer, reason)),
                    _ => None,
                })
            )
        })
        .await;
        assert_eq!(raw_outcome, Ok(()), "{bytes:?}");
        assert_eq!(peer, raw_id);
        assert_eq!(
            reason,
            Misbehaviour::BadRequest {
                protocol: echo(),
                error: expected
            },
            "{bytes:?}"
        );
    }
}
