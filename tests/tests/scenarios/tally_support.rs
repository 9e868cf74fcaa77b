//! What the tally scenarios share: parties with one or more devices,
//! contacts between them, a tally opened between them, and waiting for
//! conditions with a generous guard.

use std::time::Duration;

use tallymesh_node::tallies::{TallyDetail, TallyOffer, TallySide, TallyStage, Who};
use tallymesh_scenarios::TestNode;
pub use tallymesh_scenarios::{PATIENCE, until};

const HOUR: Duration = Duration::from_secs(3_600);

/// A party: its main device (which holds the party secret) and the
/// devices it enrolled in its cadre.
#[derive(Debug)]
pub struct Party {
    /// The main device.
    pub main: TestNode,
    /// The enrolled devices, in the order they joined.
    pub members: Vec<TestNode>,
    /// The party id.
    pub id: String,
}

impl Party {
    /// A party called `name` with a main device and `members` enrolled
    /// devices ("Box 1", "Box 2", …).
    pub async fn new(name: &str, members: usize) -> Party {
        let main = TestNode::start().await.unwrap();
        let state = main.node.identity().create(name).await.unwrap();
        let id = state.party_id().unwrap().to_string();
        let mut enrolled = Vec::new();
        for n in 1..=members {
            let device = TestNode::start().await.unwrap();
            let link = main.node.cadre().invite(HOUR).await.unwrap();
            device
                .node
                .cadre()
                .join(&link, Some(&format!("Box {n}")))
                .await
                .unwrap();
            enrolled.push(device);
        }
        Party {
            main,
            members: enrolled,
            id,
        }
    }

    /// Every device of the party, the main device first.
    pub fn devices(&self) -> impl Iterator<Item = &TestNode> {
        std::iter::once(&self.main).chain(&self.members)
    }
}

/// The peer id of a device.
pub fn peer(node: &TestNode) -> String {
    node.node.net().local_peer_id().to_string()
}

/// Makes `a` and `b` contacts of each other (`b` redeems `a`'s invite).
pub async fn befriend(a: &Party, b: &Party) {
    tallymesh_scenarios::befriend(&a.main, &b.main).await;
}

/// The tally as `node` shows it, if it holds it.
pub async fn detail(node: &TestNode, id: &str) -> Option<TallyDetail> {
    node.node.tallies().get(id).await.ok()
}

/// Stops a device; [`start_again`] brings it back on the same data
/// directory.
pub async fn stop(node: TestNode) -> (tempfile::TempDir, tallymesh_node::NodeConfig) {
    node.node.shutdown().await;
    (node.dir, node.config)
}

/// Starts a device [`stop`] stopped (on another port).
pub async fn start_again(stopped: (tempfile::TempDir, tallymesh_node::NodeConfig)) -> TestNode {
    TestNode::start_in(stopped.0, stopped.1).await.unwrap()
}

/// Waits until `node` shows the tally with our balance `balance`.
pub async fn until_balance(node: &TestNode, id: &str, balance: i64, what: &str) -> TallyDetail {
    until(what, || async {
        detail(node, id)
            .await
            .filter(|d| d.summary.balance == balance && d.summary.waiting_for_nodes.is_none())
    })
    .await
}

/// An offer to `to` as the foil (the buyer): the partner may be owed up
/// to 50 CHIP.
pub fn offer(to: &str) -> TallyOffer {
    TallyOffer {
        party_id: to.to_owned(),
        side: TallySide::Foil,
        we_grant: "0".into(),
        they_grant: "50".into(),
        our_call: 30,
        their_call: 30,
        memo: "groceries".into(),
        contract: None,
        expires_in_hours: 72,
        our_nodes: None,
    }
}

/// `buyer` offers `seller` a tally (as foil) naming every device of both,
/// `seller` accepts; waits until every device of both holds it open.
/// Returns its id.
pub async fn open_tally(buyer: &Party, seller: &Party) -> String {
    open_tally_with(buyer, seller, offer(&seller.id)).await
}

/// Like [`open_tally`], with the buyer's offer as given.
pub async fn open_tally_with(buyer: &Party, seller: &Party, offer: TallyOffer) -> String {
    let id = buyer.main.node.tallies().propose(offer).await.unwrap().id;
    until("the seller to receive the offer", || async {
        detail(&seller.main, &id)
            .await
            .filter(|d| d.summary.waiting_for == Some(Who::Us))
    })
    .await;
    seller.main.node.tallies().accept(&id).await.unwrap();
    for device in buyer.devices().chain(seller.devices()) {
        until("every device of both parties to hold the tally open", || async {
            detail(device, &id)
                .await
                .filter(|d| d.summary.stage == TallyStage::Open)
        })
        .await;
    }
    id
}
