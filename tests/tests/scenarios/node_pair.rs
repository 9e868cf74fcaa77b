use std::time::Duration;

use tallymesh_node::NodeEvent;
use tallymesh_scenarios::TestNode;

#[tokio::test]
async fn two_headless_nodes_in_one_process_each_report_their_own_status() {
    let alice = TestNode::start().await.unwrap();
    let bob = TestNode::start().await.unwrap();

    let a = alice.node.status().await.unwrap();
    let b = bob.node.status().await.unwrap();

    assert_eq!(a.data_dir, alice.dir.path().display().to_string());
    assert_eq!(b.data_dir, bob.dir.path().display().to_string());
    assert_ne!(a.peer_id, b.peer_id);
    assert!(a.database_path.ends_with("tallymesh.sqlite"));
    assert_eq!(a.schema_version, b.schema_version);
    for status in [&a, &b] {
        assert!(
            status.listen_addrs.iter().any(|x| x.starts_with("/ip4/127.0.0.1/tcp/")),
            "{status:?}"
        );
        assert!(
            status.listen_addrs.iter().any(|x| x.ends_with("/quic-v1")),
            "{status:?}"
        );
    }

    alice.node.shutdown().await;
    bob.node.shutdown().await;
}

#[tokio::test]
async fn nodes_that_dial_each_other_publish_peer_events_and_count_the_peer() {
    let alice = TestNode::start().await.unwrap();
    let bob = TestNode::start().await.unwrap();
    let mut alice_events = alice.node.events();

    let alice_tcp = alice
        .node
        .status()
        .await
        .unwrap()
        .listen_addrs
        .into_iter()
        .find(|a| a.contains("/tcp/"))
        .unwrap();
    bob.node.net().dial(alice_tcp.parse().unwrap()).await.unwrap();

    let bob_peer = bob.node.status().await.unwrap().peer_id;
    let connected = tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            if let Ok(NodeEvent::PeerConnected { peer_id }) = alice_events.recv().await {
                return peer_id;
            }
        }
    })
    .await
    .unwrap();
    assert_eq!(connected, bob_peer);
    assert_eq!(alice.node.status().await.unwrap().connected_peers, 1);

    bob.node.shutdown().await;
    let gone = tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            if let Ok(NodeEvent::PeerDisconnected { peer_id }) = alice_events.recv().await {
                return peer_id;
            }
        }
    })
    .await
    .unwrap();
    assert_eq!(gone, bob_peer);
    alice.node.shutdown().await;
}

#[tokio::test]
async fn a_second_node_on_the_same_data_directory_is_refused() {
    let alice = TestNode::start().await.unwrap();
    let config = tallymesh_node::NodeConfig::new(alice.dir.path().to_owned())
        .with_listen(tallymesh_scenarios::loopback())
        .with_lan_discovery(false);
    let err = tallymesh_node::Node::start(config).await.unwrap_err();
    assert!(err.to_string().contains("already running"), "{err}");
    assert!(alice.node.status().await.is_ok(), "the first node keeps running");
    alice.node.shutdown().await;
}

#[tokio::test]
async fn status_after_shutdown_says_the_node_stopped_and_the_directory_is_free_again() {
    let alice = TestNode::start().await.unwrap();
    alice.node.shutdown().await;
    alice.node.shutdown().await; // a second call does nothing
    assert!(matches!(
        alice.node.status().await,
        Err(tallymesh_node::NodeError::Stopped)
    ));

    let again = tallymesh_node::Node::start(alice.config.clone()).await.unwrap();
    again.shutdown().await;
}

#[tokio::test]
async fn the_control_endpoint_answers_status_for_its_node() {
    let alice = TestNode::start().await.unwrap();
    let mut client = tallymesh_node::control::ControlClient::connect(alice.dir.path())
        .await
        .unwrap();
    let over_control = client.status().await.unwrap();
    let direct = alice.node.status().await.unwrap();
    assert_eq!(over_control.peer_id, direct.peer_id);
    assert_eq!(over_control.data_dir, direct.data_dir);

    alice.node.shutdown().await;
    let err = tallymesh_node::control::ControlClient::connect(alice.dir.path())
        .await
        .unwrap_err();
    assert!(err.to_string().starts_with("no Tallymesh node is running"), "{err}");
}
