//! A live node and a peer that breaks the rules of each of its protocols:
//! malformed bytes, an oversized frame and an envelope of another protocol
//! version, on the contact, cadre, tally and ledger protocols. Each costs
//! the sender a strike, as `tallymesh peers --json` shows; another version
//! gets a refusal that says so; nothing panics.

use std::process::Command;
use std::time::Duration;

use tallymesh_core::ProtocolVersion;
use tallymesh_core::cbor::{self, Value};
use tallymesh_core::trust::TrustConfig;
use tallymesh_net::{
    KademliaMode, Multiaddr, NetConfig, NetEvent, PeerId, ProtocolName, RequestError, RequestProtocol,
};
use tallymesh_protocol::cadre::{CadreRefusal, CadreResponse};
use tallymesh_protocol::contact::{ContactResponse, Refusal};
use tallymesh_protocol::{Envelope, Limits};
use tallymesh_scenarios::{TestNode, cli_binary, strikes_of, succeeded, temp_data_dir, test_config};

/// A hang guard for a loaded machine, not a measurement.
const PATIENCE: Duration = Duration::from_secs(90);

/// Larger than any of the node's limits, so the rule breaker's own side
/// lets everything out.
const BREAKER_LIMIT: usize = 4 * 1024 * 1024;

async fn until_strikes(node: &TestNode, peer: PeerId, count: u32, what: &str) {
    tokio::time::timeout(PATIENCE, async {
        while strikes_of(node, peer).await < count {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await
    .unwrap_or_else(|_| panic!("{what} was not counted"));
    assert_eq!(strikes_of(node, peer).await, count, "{what} counted once");
}

/// What the node answered an envelope of another version with, checked per
/// protocol: a refusal that names the version.
fn assert_version_refusal(protocol: &str, answer: Result<Vec<u8>, RequestError>) {
    let answer = answer.unwrap_or_else(|e| panic!("{protocol}: no answer to another version: {e}"));
    match protocol {
        "contact" => {
            let response = ContactResponse::decode(&answer, &tallymesh_protocol::contact::limits()).unwrap();
            assert!(
                matches!(&response, ContactResponse::Refused { reason: Refusal::UnsupportedVersion, message }
                    if message.contains("unsupported protocol version v2")),
                "{response:?}"
            );
        }
        "cadre" => {
            let response = CadreResponse::decode(&answer, &tallymesh_protocol::cadre::limits()).unwrap();
            assert!(
                matches!(&response, CadreResponse::Refused { reason: CadreRefusal::UnsupportedVersion, message }
                    if message.contains("unsupported protocol version v2")),
                "{response:?}"
            );
        }
        "tally" => {
            let envelope = Envelope::decode(&answer, &Limits::default(), &[ProtocolVersion(1)]).unwrap();
            assert_eq!(envelope.kind, "tally/refused");
            let body = cbor::decode(&envelope.body).unwrap();
            let text = format!("{body:?}");
            assert!(text.contains("unsupported protocol version v2"), "{text}");
        }
        "ledger" => assert_eq!(answer, [3], "the ledger's 'another version' ack"),
        other => unreachable!("{other}"),
    }
}

/// What the node answered malformed bytes with: a refusal, or (ledger) no
/// answer at all.
fn assert_malformed_refusal(protocol: &str, answer: Result<Vec<u8>, RequestError>) {
    match protocol {
        "contact" => {
            let response = ContactResponse::decode(&answer.unwrap(), &tallymesh_protocol::contact::limits()).unwrap();
            assert!(
                matches!(
                    response,
                    ContactResponse::Refused {
                        reason: Refusal::BadCard,
                        ..
                    }
                ),
                "{response:?}"
            );
        }
        "cadre" => {
            let response = CadreResponse::decode(&answer.unwrap(), &tallymesh_protocol::cadre::limits()).unwrap();
            assert!(
                matches!(
                    response,
                    CadreResponse::Refused {
                        reason: CadreRefusal::BadRequest,
                        ..
                    }
                ),
                "{response:?}"
            );
        }
        "tally" => {
            let envelope = Envelope::decode(&answer.unwrap(), &Limits::default(), &[ProtocolVersion(1)]).unwrap();
            assert_eq!(envelope.kind, "tally/refused");
        }
        "ledger" => assert_eq!(answer, Err(RequestError::NoResponse)),
        other => unreachable!("{other}"),
    }
}

#[tokio::test]
async fn malformed_oversized_and_other_version_messages_on_every_protocol_each_cost_the_sender_a_strike() {
    // Twelve broken rules would get the breaker disconnected (trust.md); here
    // the node keeps it connected so that every strike can be counted.
    let dir = temp_data_dir().unwrap();
    let keep_connected = TrustConfig {
        disconnect_below: 0.0,
        ..TrustConfig::default()
    };
    let config = test_config(dir.path()).with_trust_config(keep_connected);
    let alice = TestNode::start_in(dir, config).await.unwrap();
    alice.node.identity().create("Alice").await.unwrap();
    let alice_peer = alice.node.net().local_peer_id();

    // The rule breaker speaks the node's protocols with limits of its own.
    let protocols: Vec<(&str, usize, &str)> = vec![
        (
            "contact",
            tallymesh_protocol::contact::MAX_MESSAGE_BYTES,
            "contact/exchange",
        ),
        ("cadre", tallymesh_protocol::cadre::MAX_MESSAGE_BYTES, "cadre/join"),
        (
            "tally",
            tallymesh_protocol::negotiation::MAX_MESSAGE_BYTES,
            "tally/offer",
        ),
        ("ledger", Limits::default().max_frame_bytes, "ledger/vote"),
    ];
    let config = NetConfig {
        mdns: false,
        kademlia_mode: KademliaMode::Client,
        request_protocols: protocols
            .iter()
            .map(|(name, _, _)| {
                RequestProtocol::new(ProtocolName::new(name).unwrap()).with_limits(BREAKER_LIMIT, BREAKER_LIMIT)
            })
            .collect(),
        ..NetConfig::default()
    };
    let (breaker, mut events, event_loop) =
        tallymesh_net::new(tallymesh_net::keypair_from_seed(&[99; 32]).unwrap(), config).unwrap();
    tokio::spawn(event_loop.run());
    let breaker_peer = breaker.local_peer_id();
    let address: Multiaddr = alice.node.status().await.unwrap().listen_addrs[0].parse().unwrap();
    breaker.add_address(alice_peer, address.clone()).await.unwrap();
    breaker
        .dial(address.with(tallymesh_net::multiaddr::Protocol::P2p(alice_peer)))
        .await
        .unwrap();
    tokio::time::timeout(PATIENCE, async {
        while !matches!(events.recv().await, Some(NetEvent::PeerConnected(p)) if p == alice_peer) {}
    })
    .await
    .expect("never connected to alice");

    let mut strikes = 0;
    for (name, limit, kind) in &protocols {
        let protocol = ProtocolName::new(name).unwrap();

        let answer = breaker
            .request(alice_peer, &protocol, b"\x00\x01 not an envelope".to_vec())
            .await;
        assert_malformed_refusal(name, answer);
        strikes += 1;
        until_strikes(&alice, breaker_peer, strikes, &format!("malformed bytes on {name}")).await;

        let answer = breaker.request(alice_peer, &protocol, vec![0xa0; limit + 1]).await;
        assert_eq!(answer, Err(RequestError::NoResponse), "{name}: an oversized frame");
        strikes += 1;
        until_strikes(&alice, breaker_peer, strikes, &format!("an oversized frame on {name}")).await;

        let future = Envelope::new(
            ProtocolVersion(2),
            kind,
            cbor::encode(&Value::map([(0, Value::Uint(1))])),
        );
        let answer = breaker.request(alice_peer, &protocol, future.encode()).await;
        assert_version_refusal(name, answer);
        strikes += 1;
        until_strikes(&alice, breaker_peer, strikes, &format!("another version on {name}")).await;
    }

    // `tallymesh peers --json` against the running node shows the count
    // (run off the test's one thread, which the node needs to answer).
    let data_dir = alice.path().to_owned();
    let output = tokio::task::spawn_blocking(move || {
        Command::new(cli_binary())
            .args(["peers", "--json", "--data-dir"])
            .arg(data_dir)
            .env_remove("TALLYMESH_DATA_DIR")
            .output()
    })
    .await
    .unwrap()
    .unwrap();
    let peers: Vec<serde_json::Value> = serde_json::from_str(&succeeded(&output)).unwrap();
    let listed = peers
        .iter()
        .find(|p| p["peerId"] == breaker_peer.to_string())
        .expect("the rule breaker is listed");
    assert_eq!(listed["strikes"], 12);
    // Still serving.
    assert!(alice.node.status().await.is_ok());
    breaker.shutdown().await;
}
