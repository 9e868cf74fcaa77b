//! The host with real SQLite files, several nodes in one process, and an
//! in-memory transport that records everything each node sends.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tallymesh_core::block::{EncodedBlock, Genesis};
use tallymesh_core::cbor::{self, Value};
use tallymesh_core::record::Signed;
use tallymesh_core::rules::{Applied, EntryContext, EntryRefused, EntryRules};
use tallymesh_core::tally_network::{TallyId, TallyNetwork};
use tallymesh_core::vote::{Proposal, Vote};
use tallymesh_core::{Digest, PublicKey, SecretKey, Timestamp};
use tallymesh_protocol::Limits;
use tallymesh_protocol::ledger::{Event, LedgerConfig, Message};
use tallymesh_store::{LedgerRecord, Store};
use tokio::sync::broadcast;

use super::*;
use crate::NodeEvent;

const TALLY: TallyId = TallyId([7; 16]);

/// Takes any entry once; refuses entries starting with "bad" outright.
#[derive(Debug, Clone)]
struct Once;

impl EntryRules for Once {
    type State = BTreeSet<Digest>;

    fn admit(&self, entry: &[u8]) -> Result<(), EntryRefused> {
        if entry.starts_with(b"bad") {
            Err(EntryRefused::never("a bad entry"))
        } else {
            Ok(())
        }
    }

    fn apply(&self, seen: &mut Self::State, entry: &[u8], _: &EntryContext<'_>) -> Result<Applied, EntryRefused> {
        if seen.insert(Digest::of(entry)) {
            Ok(Applied::default())
        } else {
            Err(EntryRefused::never("already certified"))
        }
    }
}

impl LedgerRules for Once {
    fn encode_state(&self, state: &Self::State) -> Vec<u8> {
        cbor::encode(&Value::Array(
            state.iter().map(|d| Value::Bytes(d.0.to_vec())).collect(),
        ))
    }

    fn decode_state(&self, bytes: &[u8]) -> Result<Self::State, String> {
        match cbor::decode(bytes).map_err(|e| e.to_string())? {
            Value::Array(items) => items
                .iter()
                .map(|item| match item {
                    Value::Bytes(b) => b
                        .as_slice()
                        .try_into()
                        .map(Digest)
                        .map_err(|_| "a 32-byte id".to_owned()),
                    _ => Err("a byte string".to_owned()),
                })
                .collect(),
            _ => Err("an array".to_owned()),
        }
    }
}

/// A message a node handed to its transport.
#[derive(Debug, Clone)]
struct Sent {
    from: PublicKey,
    to: Vec<PublicKey>,
    bytes: Vec<u8>,
}

/// Delivers every message at once to the hosts registered, except to and
/// from nodes that are cut off, and keeps a copy of everything sent.
#[derive(Default)]
struct Mesh {
    hosts: Mutex<HashMap<PublicKey, TallyLedgers<Once>>>,
    sent: Mutex<Vec<Sent>>,
    /// Nodes whose outgoing messages are lost.
    mute: Mutex<HashSet<PublicKey>>,
    /// Nodes whose incoming messages are lost.
    deaf: Mutex<HashSet<PublicKey>>,
}

impl Mesh {
    fn sent_by(&self, node: PublicKey) -> Vec<Vec<u8>> {
        let sent = self.sent.lock().unwrap();
        sent.iter()
            .filter(|s| s.from == node)
            .map(|s| s.bytes.clone())
            .collect()
    }

    fn set(&self, node: PublicKey, mute: bool, deaf: bool) {
        for (set, on) in [(&self.mute, mute), (&self.deaf, deaf)] {
            let mut set = set.lock().unwrap();
            if on {
                set.insert(node);
            } else {
                set.remove(&node);
            }
        }
    }
}

struct Link {
    me: PublicKey,
    mesh: Arc<Mesh>,
}

impl LedgerTransport for Link {
    fn send(&self, to: &[PublicKey], bytes: Vec<u8>) {
        self.mesh.sent.lock().unwrap().push(Sent {
            from: self.me,
            to: to.to_vec(),
            bytes: bytes.clone(),
        });
        if self.mesh.mute.lock().unwrap().contains(&self.me) {
            return;
        }
        for peer in to {
            if self.mesh.deaf.lock().unwrap().contains(peer) {
                continue;
            }
            let host = self.mesh.hosts.lock().unwrap().get(peer).cloned();
            if let Some(host) = host {
                // Best effort, as on the wire.
                let _ = host.receive(self.me, bytes.clone());
            }
        }
    }
}

/// One node: its own database file and host.
struct TestNode {
    seed: [u8; 32],
    path: PathBuf,
    store: Store,
    host: TallyLedgers<Once>,
    node_events: broadcast::Sender<NodeEvent>,
}

impl TestNode {
    async fn start(dir: &Path, seed: u8, mesh: &Arc<Mesh>, config: &TallyLedgersConfig) -> TestNode {
        let seed = [seed; 32];
        let path = dir.join(format!("node-{}.sqlite", seed[0]));
        let store = Store::open(&path).await.unwrap();
        let key = SecretKey::from_seed(&seed);
        let me = key.public();
        let (node_events, _) = broadcast::channel(4096);
        let link = Arc::new(Link { me, mesh: mesh.clone() });
        let host = TallyLedgers::start(store.clone(), key, Once, link, node_events.clone(), config.clone())
            .await
            .unwrap();
        mesh.hosts.lock().unwrap().insert(me, host.clone());
        TestNode {
            seed,
            path,
            store,
            host,
            node_events,
        }
    }

    fn key(&self) -> PublicKey {
        SecretKey::from_seed(&self.seed).public()
    }

    /// Stops the host and closes the database, as a node that shuts down.
    async fn stop(self, mesh: &Mesh) -> ([u8; 32], PathBuf) {
        mesh.hosts.lock().unwrap().remove(&self.key());
        self.host.shutdown().await;
        self.store.close().await;
        (self.seed, self.path)
    }

    async fn restart(self, dir: &Path, mesh: &Arc<Mesh>, config: &TallyLedgersConfig) -> TestNode {
        let (seed, _) = self.stop(mesh).await;
        TestNode::start(dir, seed[0], mesh, config).await
    }
}

fn key(seed: u8) -> PublicKey {
    SecretKey::from_seed(&[seed; 32]).public()
}

/// A tally network of `stock` nodes (seeds 1, 2, …) and `foil` nodes (the
/// seeds after them).
fn genesis(stock: u8, foil: u8) -> Genesis {
    let network = TallyNetwork::new(
        (1..=stock).map(key).collect(),
        (stock + 1..=stock + foil).map(key).collect(),
    )
    .unwrap();
    Genesis {
        tally: TALLY,
        hash: Digest([0; 32]),
        time: Timestamp::EPOCH,
        network,
    }
}

/// Short timeouts, so that rounds lost on purpose pass quickly; no pruning
/// unless a test asks for it.
fn config() -> TallyLedgersConfig {
    TallyLedgersConfig {
        ledger: LedgerConfig {
            timeout_propose: 300,
            timeout_prevote: 150,
            timeout_precommit: 150,
            timeout_delta: 100,
            rebroadcast_interval: 200,
            sync_interval: 100,
            idle_sync_interval: 2_000,
            ..LedgerConfig::default()
        },
        prune_every: 0,
        inbox: 1024,
    }
}

async fn start_network(
    dir: &Path,
    stock: u8,
    foil: u8,
    mesh: &Arc<Mesh>,
    config: &TallyLedgersConfig,
) -> Vec<TestNode> {
    let genesis = genesis(stock, foil);
    let mut nodes = Vec::new();
    for seed in 1..=stock + foil {
        let node = TestNode::start(dir, seed, mesh, config).await;
        assert!(node.host.serve(genesis.clone(), BTreeSet::new()).await.unwrap());
        nodes.push(node);
    }
    nodes
}

/// Waits until `check` holds; the timeout only guards against a hang.
async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let waited = tokio::time::timeout(Duration::from_secs(60), async {
        while !check().await {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    assert!(waited.is_ok(), "gave up waiting for {what}");
}

/// Every certified block in a store, in height order.
async fn blocks(store: &Store) -> Vec<Vec<u8>> {
    let stored = store.ledger_blocks(TALLY.as_bytes(), 1, 10_000).await.unwrap();
    for (i, block) in stored.iter().enumerate() {
        assert_eq!(block.height, i as u64 + 1, "no gap");
    }
    stored.into_iter().map(|b| b.block).collect()
}

/// Every certified entry in a store, in chain order.
async fn certified_entries(store: &Store) -> Vec<Vec<u8>> {
    blocks(store)
        .await
        .iter()
        .flat_map(|b| EncodedBlock::from_bytes(b).unwrap().block().entries.clone())
        .collect()
}

async fn all_certified(nodes: &[TestNode], entries: &[Vec<u8>]) -> bool {
    for node in nodes {
        let certified: BTreeSet<Vec<u8>> = certified_entries(&node.store).await.into_iter().collect();
        if !entries.iter().all(|e| certified.contains(e)) {
            return false;
        }
    }
    true
}

/// Checks that every node holds the same certified chain, with each entry
/// once, and returns it.
async fn same_chain(nodes: &[TestNode]) -> Vec<Vec<u8>> {
    let first = blocks(&nodes[0].store).await;
    for node in &nodes[1..] {
        assert_eq!(blocks(&node.store).await, first, "the same blocks on every node");
    }
    let entries = certified_entries(&nodes[0].store).await;
    let distinct: BTreeSet<&Vec<u8>> = entries.iter().collect();
    assert_eq!(distinct.len(), entries.len(), "each entry certified once");
    first
}

/// The votes a node signed, in every message it sent (votes, and the
/// proofs of its proposals).
fn signed_votes(sent: &[Vec<u8>], signer: PublicKey) -> Vec<Signed<Vote>> {
    let mut votes = Vec::new();
    for bytes in sent {
        let carried = match Message::decode(bytes, &Limits::default()).unwrap() {
            Message::Vote { vote, .. } => vec![vote],
            Message::Proposal { proof, .. } => proof,
            _ => vec![],
        };
        for vote in carried {
            let vote = Signed::<Vote>::from_bytes(&vote).unwrap();
            if *vote.signer() == signer {
                votes.push(vote);
            }
        }
    }
    votes
}

/// The proposals a node signed in the messages it sent.
fn signed_proposals(sent: &[Vec<u8>], signer: PublicKey) -> Vec<Signed<Proposal>> {
    sent.iter()
        .filter_map(|bytes| match Message::decode(bytes, &Limits::default()).unwrap() {
            Message::Proposal { proposal, .. } => Some(Signed::<Proposal>::from_bytes(&proposal).unwrap()),
            _ => None,
        })
        .filter(|p| *p.signer() == signer)
        .collect()
}

async fn journal(store: &Store) -> Vec<LedgerRecord> {
    store.ledger_records(TALLY.as_bytes()).await.unwrap()
}

fn drain(events: &mut broadcast::Receiver<NodeEvent>) -> Vec<NodeEvent> {
    let mut out = Vec::new();
    while let Ok(event) = events.try_recv() {
        out.push(event);
    }
    out
}

#[tokio::test]
async fn one_plus_one_certifies_entries_identically_prunes_and_restarts_from_a_pruned_journal() {
    let dir = tempfile::tempdir().unwrap();
    let mesh = Arc::new(Mesh::default());
    let config = TallyLedgersConfig {
        prune_every: 1,
        ..config()
    };
    let mut nodes = start_network(dir.path(), 1, 1, &mesh, &config).await;
    let mut events: Vec<_> = nodes.iter().map(|n| n.node_events.subscribe()).collect();

    let entries: Vec<Vec<u8>> = (0..4).map(|i| format!("chit {i}").into_bytes()).collect();
    for (i, entry) in entries.iter().enumerate() {
        let id = nodes[i % 2].host.submit(TALLY, entry.clone()).await.unwrap();
        assert_eq!(id, Digest::of(entry));
    }
    eventually("all entries certified on both nodes", || {
        all_certified(&nodes, &entries)
    })
    .await;
    let chain = same_chain(&nodes).await;
    assert!(!chain.is_empty());

    // Both nodes told the application about each entry, on the node's stream.
    eventually("entry events on both nodes", || {
        let seen: Vec<usize> = events
            .iter_mut()
            .map(|e| {
                drain(e)
                    .into_iter()
                    .filter(
                        |e| matches!(e, NodeEvent::EntryCertified { tally_id, .. } if *tally_id == TALLY.to_string()),
                    )
                    .count()
            })
            .collect();
        let done = seen.iter().all(|n| *n >= entries.len());
        async move { done }
    })
    .await;

    // Pruned: no vote, proposal or lock of a certified height is left.
    for node in &nodes {
        let tip = node.store.ledger_height(TALLY.as_bytes()).await.unwrap();
        eventually("the journal pruned", || async {
            journal(&node.store).await.iter().all(|r| match r {
                LedgerRecord::Vote { height, .. }
                | LedgerRecord::Proposal { height, .. }
                | LedgerRecord::Lock { height, .. } => *height > tip,
                _ => true,
            })
        })
        .await;
    }

    // A restart rebuilds the machine from the pruned journal and goes on.
    let second = nodes.pop().unwrap();
    let second = second.restart(dir.path(), &mesh, &config).await;
    assert_eq!(second.host.tallies(), vec![TALLY]);
    nodes.push(second);
    let more = b"after the restart".to_vec();
    nodes[1].host.submit(TALLY, more.clone()).await.unwrap();
    eventually("the entry after the restart", || {
        all_certified(&nodes, std::slice::from_ref(&more))
    })
    .await;
    same_chain(&nodes).await;

    for node in nodes {
        node.stop(&mesh).await;
    }
}

#[tokio::test]
async fn two_plus_two_certifies_entries_identically_and_refuses_bad_ones() {
    let dir = tempfile::tempdir().unwrap();
    let mesh = Arc::new(Mesh::default());
    let nodes = start_network(dir.path(), 2, 2, &mesh, &config()).await;
    let mut events = nodes[3].node_events.subscribe();

    let entries: Vec<Vec<u8>> = (0..8).map(|i| format!("chit {i}").into_bytes()).collect();
    for (i, entry) in entries.iter().enumerate() {
        nodes[i % 4].host.submit(TALLY, entry.clone()).await.unwrap();
    }
    let refused = nodes[3].host.submit(TALLY, b"bad chit".to_vec()).await.unwrap_err();
    assert!(
        matches!(&refused, SubmitError::Refused { reason, .. } if reason == "a bad entry"),
        "{refused:?}"
    );
    eventually("all entries certified on all four nodes", || {
        all_certified(&nodes, &entries)
    })
    .await;
    let chain = same_chain(&nodes).await;
    assert_eq!(certified_entries(&nodes[0].store).await.len(), entries.len());
    assert!(!chain.is_empty());

    let seen = drain(&mut events);
    assert!(
        seen.iter().any(|e| matches!(e, NodeEvent::EntryRefused { entry_id, .. } if *entry_id == Digest::of(b"bad chit").to_string())),
        "{seen:?}"
    );
    assert!(
        seen.iter()
            .any(|e| matches!(e, NodeEvent::BlockCertified { height: 1, .. }))
    );

    for node in nodes {
        node.stop(&mesh).await;
    }
}

#[tokio::test]
async fn a_restarted_node_resumes_its_round_and_never_signs_two_votes_for_one_step() {
    let dir = tempfile::tempdir().unwrap();
    let mesh = Arc::new(Mesh::default());
    let config = config();
    let mut nodes = start_network(dir.path(), 1, 1, &mesh, &config).await;
    let b = nodes[1].key();

    let first = b"chit 1".to_vec();
    nodes[0].host.submit(TALLY, first.clone()).await.unwrap();
    eventually("the first entry", || {
        all_certified(&nodes, std::slice::from_ref(&first))
    })
    .await;
    let decided = nodes[1].store.ledger_height(TALLY.as_bytes()).await.unwrap();

    // B's messages are lost from now on: it votes and locks at the next
    // height, but nobody hears it, so the height cannot be decided.
    mesh.set(b, true, false);
    let second = b"chit 2".to_vec();
    nodes[0].host.submit(TALLY, second.clone()).await.unwrap();
    eventually("B precommitted the next height", || async {
        journal(&nodes[1].store)
            .await
            .iter()
            .any(|r| matches!(r, LedgerRecord::Vote { height, step: 1, .. } if *height == decided + 1))
    })
    .await;
    assert!(
        journal(&nodes[1].store)
            .await
            .iter()
            .any(|r| matches!(r, LedgerRecord::Lock { .. })),
        "B locked"
    );

    // B stops in the middle of the height; A goes on with another entry.
    let node_b = nodes.pop().unwrap();
    let (_, _) = node_b.stop(&mesh).await;
    let reopened = Store::open(&dir.path().join("node-2.sqlite")).await.unwrap();
    let before_restart: Vec<Vec<u8>> = journal(&reopened)
        .await
        .into_iter()
        .filter_map(|r| match r {
            LedgerRecord::Vote { height, vote, .. } if height == decided + 1 => Some(vote),
            _ => None,
        })
        .collect();
    reopened.close().await;
    let third = b"chit 3".to_vec();
    nodes[0].host.submit(TALLY, third.clone()).await.unwrap();

    // B comes back and is heard again: it resends what it had signed, and
    // the height is decided with it.
    mesh.set(b, false, false);
    let restarted_at = mesh.sent_by(b).len();
    nodes.push(TestNode::start(dir.path(), 2, &mesh, &config).await);
    let fourth = b"chit 4".to_vec();
    nodes[1].host.submit(TALLY, fourth.clone()).await.unwrap();
    let all = [first, second, third, fourth];
    eventually("every entry certified on both nodes", || all_certified(&nodes, &all)).await;
    same_chain(&nodes).await;

    // Every vote B sent, before and after the restart: one per step, and
    // each one in B's journal before it left.
    let sent = mesh.sent_by(b);
    let votes = signed_votes(&sent, b);
    assert!(!votes.is_empty());
    let mut by_step: BTreeMap<(u64, u64, u8), BTreeSet<Vec<u8>>> = BTreeMap::new();
    for vote in &votes {
        let v = vote.record();
        by_step
            .entry((v.height, v.round, journal::step_number(v.step)))
            .or_default()
            .insert(vote.bytes().to_vec());
    }
    for (step, signed) in &by_step {
        assert_eq!(
            signed.len(),
            1,
            "B signed {} different votes for {step:?}",
            signed.len()
        );
    }
    let stored: HashSet<Vec<u8>> = journal(&nodes[1].store)
        .await
        .into_iter()
        .filter_map(|r| match r {
            LedgerRecord::Vote { vote, .. } => Some(vote),
            _ => None,
        })
        .collect();
    for vote in &votes {
        assert!(
            stored.contains(vote.bytes()),
            "a vote B sent is in its journal: {:?}",
            vote.record()
        );
    }
    // The votes B had stored for the interrupted height went out again,
    // unchanged, after the restart.
    let resent: HashSet<Vec<u8>> = signed_votes(&sent[restarted_at..], b)
        .iter()
        .map(|v| v.bytes().to_vec())
        .collect();
    assert!(!before_restart.is_empty());
    for vote in &before_restart {
        assert!(
            resent.contains(vote),
            "a vote stored before the restart was sent again after it"
        );
    }

    let mut proposals: BTreeMap<(u64, u64), BTreeSet<Vec<u8>>> = BTreeMap::new();
    for proposal in signed_proposals(&sent, b) {
        let p = proposal.record();
        proposals
            .entry((p.height, p.round))
            .or_default()
            .insert(proposal.bytes().to_vec());
    }
    for (round, signed) in &proposals {
        assert_eq!(signed.len(), 1, "B made {} proposals for {round:?}", signed.len());
    }

    for node in nodes {
        node.stop(&mesh).await;
    }
}

#[tokio::test]
async fn a_vote_that_cannot_be_stored_is_never_sent() {
    let dir = tempfile::tempdir().unwrap();
    let mesh = Arc::new(Mesh::default());
    let nodes = start_network(dir.path(), 1, 1, &mesh, &config()).await;
    let b = nodes[1].key();
    let first = b"chit 1".to_vec();
    nodes[0].host.submit(TALLY, first.clone()).await.unwrap();
    eventually("the first entry", || {
        all_certified(&nodes, std::slice::from_ref(&first))
    })
    .await;
    let decided = nodes[0].store.ledger_height(TALLY.as_bytes()).await.unwrap();

    // B's database goes away under its host (every clone shares the pool).
    nodes[1].store.clone().close().await;
    let before = mesh.sent_by(b).len();
    nodes[0].host.submit(TALLY, b"chit 2".to_vec()).await.unwrap();

    // B received A's proposal, could not store its prevote, and stopped.
    eventually("B's ledger stopped after the failed write", || async {
        nodes[1].host.status(TALLY).await.is_some_and(|s| s.failed.is_some())
    })
    .await;
    let after: Vec<Vec<u8>> = mesh.sent_by(b).split_off(before);
    let next_height = |bytes: &Vec<u8>| match Message::decode(bytes, &Limits::default()).unwrap() {
        Message::Vote { vote, .. } => Signed::<Vote>::from_bytes(&vote).unwrap().record().height > decided,
        Message::Proposal { .. } | Message::Entries { .. } => true,
        _ => false,
    };
    assert!(
        !after.iter().any(next_height),
        "B sent a vote, proposal or entry it had not stored"
    );
    let status = nodes[1].host.status(TALLY).await.unwrap();
    assert_eq!(status.height, decided + 1);

    // Stopped, it takes no entry, and sends nothing for it.
    let err = nodes[1].host.submit(TALLY, b"chit 3".to_vec()).await.unwrap_err();
    assert!(matches!(err, SubmitError::Unavailable { .. }), "{err:?}");
    assert!(!mesh.sent_by(b).split_off(before).iter().any(next_height));

    // A never decided without B.
    assert_eq!(nodes[0].store.ledger_height(TALLY.as_bytes()).await.unwrap(), decided);

    // Shutting down a host whose store failed is clean.
    for node in &nodes {
        node.host.shutdown().await;
    }
    let err = nodes[1].host.submit(TALLY, b"chit 4".to_vec()).await.unwrap_err();
    assert_eq!(err, SubmitError::Stopped);
}

#[tokio::test]
async fn an_entry_that_cannot_be_stored_is_never_offered() {
    let dir = tempfile::tempdir().unwrap();
    let mesh = Arc::new(Mesh::default());
    let nodes = start_network(dir.path(), 1, 1, &mesh, &config()).await;
    let b = nodes[1].key();
    nodes[1].store.clone().close().await;
    let before = mesh.sent_by(b).len();

    let err = nodes[1].host.submit(TALLY, b"chit".to_vec()).await.unwrap_err();
    assert!(matches!(err, SubmitError::NotStored { .. }), "{err:?}");
    let offered = mesh.sent_by(b).split_off(before).iter().any(|bytes| {
        matches!(
            Message::decode(bytes, &Limits::default()).unwrap(),
            Message::Entries { .. }
        )
    });
    assert!(!offered, "the entry was offered although it was not stored");
    assert_eq!(
        nodes[0].host.status(TALLY).await.unwrap().pending,
        0,
        "A never heard of it"
    );

    for node in &nodes {
        node.host.shutdown().await;
    }
    nodes[0].store.clone().close().await;
}

#[tokio::test]
async fn blocks_older_than_the_machine_holds_are_served_from_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let mesh = Arc::new(Mesh::default());
    let mut config = config();
    config.ledger.retained_blocks = 2;
    config.ledger.max_sync_blocks = 2;
    // One stock node, three foil nodes: two of the foil nodes make its
    // majority, so the fourth node can miss the first blocks.
    let late = key(4);
    mesh.set(late, true, true);
    let nodes = start_network(dir.path(), 1, 3, &mesh, &config).await;
    let mut wanted: Vec<_> = nodes[..3].iter().map(|n| n.host.subscribe()).collect();

    let mut entries = Vec::new();
    for i in 0..4 {
        let entry = format!("chit {i}").into_bytes();
        nodes[0].host.submit(TALLY, entry.clone()).await.unwrap();
        entries.push(entry);
        eventually("the entry certified on three nodes", || {
            all_certified(&nodes[..3], &entries[entries.len() - 1..])
        })
        .await;
    }
    assert_eq!(nodes[3].store.ledger_height(TALLY.as_bytes()).await.unwrap(), 0);

    // The late node is heard again; the next entry shows it how far behind it is.
    let reconnected = mesh.sent.lock().unwrap().len();
    mesh.set(late, false, false);
    let last = b"chit 4".to_vec();
    nodes[0].host.submit(TALLY, last.clone()).await.unwrap();
    entries.push(last);
    eventually("every block on every node", || all_certified(&nodes, &entries)).await;
    same_chain(&nodes).await;

    // Blocks 1 and 2 were no longer in any machine's memory: a node asked
    // the host, and the host sent them from its store.
    let served_from_store = mesh.sent.lock().unwrap()[reconnected..].iter().any(|s| {
        s.to == [late]
            && matches!(
                Message::decode(&s.bytes, &Limits::default()).unwrap(),
                Message::Blocks { blocks, .. }
                    if blocks.first().is_some_and(|(b, _)| EncodedBlock::from_bytes(b).unwrap().block().height == 1)
            )
    });
    assert!(served_from_store, "the late node got block 1");
    let mut asked = false;
    for events in &mut wanted {
        loop {
            match events.try_recv() {
                Ok(event) => {
                    asked |= matches!(event.event, Event::BlocksWanted { peer, from_height: 1 } if peer == late)
                }
                Err(broadcast::error::TryRecvError::Lagged(_)) => continue,
                Err(_) => break,
            }
        }
    }
    assert!(asked, "a machine asked its host for blocks it no longer holds");

    for node in nodes {
        node.stop(&mesh).await;
    }
}

#[tokio::test]
async fn serving_checks_membership_and_the_genesis_and_restarts_every_tally() {
    let dir = tempfile::tempdir().unwrap();
    let mesh = Arc::new(Mesh::default());
    let node = TestNode::start(dir.path(), 1, &mesh, &config()).await;

    // Not a member of this network.
    let foreign = Genesis {
        network: TallyNetwork::new(vec![key(8)], vec![key(9)]).unwrap(),
        ..genesis(1, 1)
    };
    assert!(matches!(
        node.host.serve(foreign, BTreeSet::new()).await,
        Err(LedgerHostError::NotInNetwork { .. })
    ));

    // Serving twice is the same tally; another genesis under its id is refused.
    assert!(node.host.serve(genesis(1, 1), BTreeSet::new()).await.unwrap());
    assert!(!node.host.serve(genesis(1, 1), BTreeSet::new()).await.unwrap());
    let other = Genesis {
        hash: Digest([1; 32]),
        ..genesis(1, 1)
    };
    assert!(matches!(
        node.host.serve(other, BTreeSet::new()).await,
        Err(LedgerHostError::Store(
            tallymesh_store::StoreError::LedgerGenesisMismatch { .. }
        ))
    ));
    let second = Genesis {
        tally: TallyId([8; 16]),
        ..genesis(1, 1)
    };
    assert!(
        node.host
            .serve(second, BTreeSet::from([Digest([5; 32])]))
            .await
            .unwrap()
    );

    // What the store keeps is the documented genesis record.
    let stored = node.store.ledger_tallies().await.unwrap();
    let record = GenesisRecord::decode(&stored[0].genesis).unwrap();
    assert_eq!(record.genesis, genesis(1, 1));
    assert_eq!(Once.decode_state(&record.state), Ok(BTreeSet::new()));

    // A node start brings back every served tally.
    let node = node.restart(dir.path(), &mesh, &config()).await;
    assert_eq!(node.host.tallies(), vec![TALLY, TallyId([8; 16])]);
    assert_eq!(node.host.status(TallyId([8; 16])).await.unwrap().height, 1);
    assert!(matches!(
        node.host.submit(TallyId([9; 16]), b"chit".to_vec()).await,
        Err(SubmitError::NotServed { .. })
    ));
    assert!(matches!(
        node.host.receive(key(2), b"not a message".to_vec()),
        Err(ReceiveError::Malformed(_))
    ));
    node.stop(&mesh).await;
}

#[test]
fn the_vote_key_is_the_libp2p_identity_of_the_same_device_seed() {
    // The node signs votes with its device key; the wire authenticates
    // peers by the libp2p key made from the same seed, so a peer id names
    // the same node key the tally network lists.
    let seed = [42; 32];
    let libp2p = tallymesh_net::keypair_from_seed(&seed).unwrap();
    let ed25519 = libp2p.public().try_into_ed25519().unwrap();
    assert_eq!(&ed25519.to_bytes(), SecretKey::from_seed(&seed).public().as_bytes());
}

#[test]
fn ledger_node_events_name_the_tally_and_entry_in_hex() {
    let event = NodeEvent::EntryCertified {
        tally_id: TALLY.to_string(),
        entry_id: Digest([1; 32]).to_string(),
        height: 3,
    };
    assert_eq!(
        serde_json::to_value(event).unwrap(),
        serde_json::json!({
            "kind": "entryCertified",
            "tallyId": "07".repeat(16),
            "entryId": "01".repeat(32),
            "height": 3,
        })
    );
    let event = NodeEvent::BlockCertified {
        tally_id: TALLY.to_string(),
        height: 1,
        hash: Digest([2; 32]).to_string(),
    };
    assert_eq!(serde_json::to_value(event).unwrap()["kind"], "blockCertified");
}
