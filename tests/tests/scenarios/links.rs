//! `tallymesh:` links handed to a running node from outside (the desktop
//! app passes on the links the system opened it with): announced to the
//! window once, and anything else refused.

use std::time::Duration;

use tallymesh_node::NodeEvent;
use tallymesh_node::control::{ControlClient, ControlError};
use tallymesh_scenarios::TestNode;

#[tokio::test]
async fn a_link_passed_through_the_control_endpoint_is_announced_and_other_text_is_refused() {
    let node = TestNode::start().await.unwrap();
    let mut events = node.node.events();
    let mut control = ControlClient::connect(node.path()).await.unwrap();

    control.open_link("  tallymesh:card?v=1&d=AAAA\n").await.unwrap();
    let opened = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            if let NodeEvent::LinkOpened { link } = events.recv().await.unwrap() {
                return link;
            }
        }
    })
    .await
    .unwrap();
    assert_eq!(opened, "tallymesh:card?v=1&d=AAAA");

    let refused = control.open_link("https://example.org/card").await.unwrap_err();
    assert!(
        matches!(&refused, ControlError::Refused { message, .. } if message == "This is not a Tallymesh link."),
        "{refused}"
    );
    while let Ok(event) = events.try_recv() {
        assert!(
            !matches!(event, NodeEvent::LinkOpened { .. }),
            "a refused link is not announced: {event:?}"
        );
    }
}
