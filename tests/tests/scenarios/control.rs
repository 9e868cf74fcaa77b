//! The control endpoint facing bad input: it answers with a refusal, never
//! panics, and keeps serving.

#![cfg(unix)]

use tallymesh_scenarios::TestNode;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::UnixStream;

async fn exchange(node: &TestNode, line: &[u8]) -> serde_json::Value {
    let stream = UnixStream::connect(node.dir.path().join("control.sock")).await.unwrap();
    let (reader, mut writer) = stream.into_split();
    writer.write_all(line).await.unwrap();
    let mut answer = String::new();
    BufReader::new(reader).read_line(&mut answer).await.unwrap();
    serde_json::from_str(&answer).unwrap()
}

#[tokio::test]
async fn malformed_wrong_version_unknown_and_oversized_requests_are_refused_and_the_node_keeps_serving() {
    let alice = TestNode::start().await.unwrap();

    let garbage = exchange(&alice, b"\x00\xffnot json at all\n").await;
    assert_eq!(garbage["err"]["code"], "bad_request");
    assert_eq!(garbage["id"], 0);

    let future = exchange(&alice, b"{\"v\": 99, \"id\": 5, \"method\": \"status\"}\n").await;
    assert_eq!(future["err"]["code"], "unsupported_version");
    assert_eq!(future["id"], 5);
    assert!(
        future["err"]["message"]
            .as_str()
            .unwrap()
            .contains("this node speaks v1")
    );

    let unknown = exchange(&alice, b"{\"v\": 1, \"id\": 6, \"method\": \"launch_rockets\"}\n").await;
    assert_eq!(unknown["err"]["code"], "bad_request");
    assert_eq!(unknown["id"], 6);

    let mut huge = vec![b'x'; tallymesh_node::control::MAX_LINE_BYTES + 10];
    huge.push(b'\n');
    let oversized = exchange(&alice, &huge).await;
    assert_eq!(oversized["err"]["code"], "too_large");

    let fine = exchange(&alice, b"{\"v\": 1, \"id\": 8, \"method\": \"status\"}\n").await;
    assert_eq!(fine["id"], 8);
    assert_eq!(fine["ok"]["dataDir"], alice.dir.path().display().to_string());

    alice.node.shutdown().await;
}

#[tokio::test]
async fn several_requests_on_one_connection_are_answered_in_order() {
    let alice = TestNode::start().await.unwrap();
    let stream = UnixStream::connect(alice.dir.path().join("control.sock"))
        .await
        .unwrap();
    let (reader, mut writer) = stream.into_split();
    writer
        .write_all(b"{\"v\":1,\"id\":1,\"method\":\"status\"}\n{\"v\":1,\"id\":2,\"method\":\"status\"}\n")
        .await
        .unwrap();
    let mut lines = BufReader::new(reader).lines();
    let first: serde_json::Value = serde_json::from_str(&lines.next_line().await.unwrap().unwrap()).unwrap();
    let second: serde_json::Value = serde_json::from_str(&lines.next_line().await.unwrap().unwrap()).unwrap();
    assert_eq!((first["id"].as_u64(), second["id"].as_u64()), (Some(1), Some(2)));
    alice.node.shutdown().await;
}

#[tokio::test]
async fn the_control_socket_is_private_to_its_user() {
    use std::os::unix::fs::PermissionsExt;
    let alice = TestNode::start().await.unwrap();
    let mode = std::fs::metadata(alice.dir.path().join("control.sock"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    alice.node.shutdown().await;
}
