//! The node's tally ledgers as the command line, benchmarks and soak tests
//! drive them: `node.ledger()`.
//!
//! Until the tally rules arrive, a tally served through this API is a
//! **test network** ([`crate::ledger::NodeRules`]): opaque entries, for
//! benchmarks and soak tests only, never shown in the UI. Its block 0 is a
//! [`TestGenesis`], a small JSON file `tallymesh ledger genesis` writes:
//!
//! ```json
//! {"tallyId": "<32 hex digits>", "hash": "<64 hex digits>", "timeMs": 1763000000000,
//!  "stock": ["<64 hex digits: node key>", …], "foil": ["…"]}
//! ```
//!
//! Nodes find each other through the addresses given when serving
//! (`/ip4/…/tcp/…/p2p/<peer id>`), which the node keeps and adds to the
//! swarm again at every start, and through whatever else the swarm knows
//! (connections, identify, the DHT routing table).
//!
//! ```no_run
//! # async fn example(alice: tallymesh_node::Node, bob: tallymesh_node::Node)
//! # -> Result<(), tallymesh_node::ledger_api::LedgerError> {
//! use tallymesh_node::ledger_api::TestGenesis;
//!
//! let genesis = TestGenesis::new(&[alice.ledger().node_key()], &[bob.ledger().node_key()])?;
//! alice.ledger().serve(&genesis, &[]).await?;
//! bob.ledger().serve(&genesis, &[]).await?;
//! let id = alice.ledger().submit(&genesis.tally_id, b"opaque test entry".to_vec()).await?;
//! let view = bob.ledger().show(&genesis.tally_id).await?;
//! println!("entry {id}; bob is at height {}", view.height);
//! # Ok(()) }
//! ```

use serde::{Deserialize, Serialize};
use tallymesh_core::block::Genesis;
use tallymesh_core::hash::hex;
use tallymesh_core::tally_network::{TallyId, TallyNetwork};
use tallymesh_core::{Digest, PublicKey, Timestamp};
use tallymesh_net::multiaddr::Protocol;
use tallymesh_net::{Multiaddr, PeerId};
use tallymesh_store::Store;
use thiserror::Error;

use crate::ledger::wire::{node_key_of, peer_of};
use crate::ledger::{LedgerHostError, RulesState, SubmitError};
use crate::{Node, NodeError};

/// Where the addresses of other ledger nodes are kept (node meta).
const PEERS_META_KEY: &str = "ledger_peer_addresses";

/// How many addresses are kept for one peer: the newest.
pub const ADDRESSES_PER_PEER: usize = 4;

/// How many addresses of other ledger nodes are kept in all.
const MAX_KEPT_ADDRESSES: usize = 1024;

/// How many test entries [`NodeLedger::submit_test_entries`] keeps open.
pub const SUBMIT_WINDOW: u64 = 256;

/// The size of a test entry: a 16-byte nonce and a 16-byte counter.
pub const TEST_ENTRY_BYTES: usize = 32;

/// Test entry `n` of a run with this nonce.
pub fn test_entry(nonce: &[u8; 16], n: u64) -> Vec<u8> {
    let mut entry = Vec::with_capacity(TEST_ENTRY_BYTES);
    entry.extend_from_slice(nonce);
    entry.extend_from_slice(&u128::from(n).to_be_bytes());
    entry
}

/// An entry's id as events and answers name it: SHA-256 of its bytes, hex.
pub fn entry_id(entry: &[u8]) -> String {
    Digest::of(entry).to_string()
}

/// How many recent block hashes [`LedgerView`] lists.
pub const RECENT_BLOCKS: usize = 8;

/// Why a ledger operation was refused. Each message can be shown as it is.
#[derive(Debug, Error)]
pub enum LedgerError {
    /// Not a tally id.
    #[error("{0:?} is not a tally id (a tally id is 32 hex digits)")]
    BadTallyId(String),
    /// This node serves no such tally.
    #[error("This node serves no ledger for tally {0}; serve it first with `tallymesh ledger serve`.")]
    NotServed(String),
    /// The genesis cannot be read or is not a valid tally network.
    #[error("This genesis can't be used: {0}")]
    BadGenesis(String),
    /// Not a node key.
    #[error("{0:?} is not a node key (64 hex digits) or the peer id of one (12D3Koo…)")]
    BadNodeKey(String),
    /// A peer address without its peer id.
    #[error("The address {0} does not end in /p2p/<peer id>, so it does not say whose it is.")]
    BadAddress(String),
    /// The ledger host refused or failed.
    #[error("{0}")]
    Host(#[from] LedgerHostError),
    /// The entry was not taken.
    #[error("{0}")]
    Submit(#[from] SubmitError),
    /// The node failed or has stopped.
    #[error(transparent)]
    Node(#[from] NodeError),
}

impl From<tallymesh_store::StoreError> for LedgerError {
    fn from(error: tallymesh_store::StoreError) -> Self {
        LedgerError::Node(error.into())
    }
}

/// Block 0 of a test-network tally, as `tallymesh ledger genesis` writes
/// it and `tallymesh ledger serve` reads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TestGenesis {
    /// The tally id, 32 hex digits.
    pub tally_id: String,
    /// The hash block 1 chains to, 64 hex digits.
    pub hash: String,
    /// When the tally opened, ms since the Unix epoch.
    pub time_ms: u64,
    /// The stock party's node keys (64 hex digits each).
    pub stock: Vec<String>,
    /// The foil party's node keys.
    pub foil: Vec<String>,
}

impl TestGenesis {
    /// A new test-network tally with a random id, opened now, for these
    /// node keys (hex or peer ids). Refuses an empty side, a node named
    /// twice and more than 32 nodes a side.
    pub fn new(stock: &[String], foil: &[String]) -> Result<TestGenesis, LedgerError> {
        let mut tally = [0u8; 16];
        getrandom::fill(&mut tally).map_err(|e| LedgerError::BadGenesis(format!("no randomness: {e}")))?;
        let mut seed = b"tallymesh/v1/test-network\0".to_vec();
        seed.extend_from_slice(&tally);
        let keys = |list: &[String]| {
            list.iter()
                .map(|k| parse_node_key(k).map(|k| hex(k.as_bytes())))
                .collect::<Result<Vec<_>, _>>()
        };
        let genesis = TestGenesis {
            tally_id: hex(&tally),
            hash: Digest::of(&seed).to_string(),
            time_ms: crate::node::unix_millis(),
            stock: keys(stock)?,
            foil: keys(foil)?,
        };
        genesis.to_genesis()?;
        Ok(genesis)
    }

    /// Block 0 as the ledger machine takes it.
    pub fn to_genesis(&self) -> Result<Genesis, LedgerError> {
        let bad = |what: &str| LedgerError::BadGenesis(what.to_owned());
        let tally = parse_tally_id(&self.tally_id)?;
        let hash: [u8; 32] = unhex(&self.hash)
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| bad("the hash is not 64 hex digits"))?;
        let keys = |list: &[String]| list.iter().map(|k| parse_node_key(k)).collect::<Result<Vec<_>, _>>();
        let network = TallyNetwork::new(keys(&self.stock)?, keys(&self.foil)?)
            .map_err(|e| LedgerError::BadGenesis(format!("{e}.")))?;
        Ok(Genesis {
            tally,
            hash: Digest(hash),
            time: Timestamp::from_millis(self.time_ms),
            network,
        })
    }
}

/// A node key from 64 hex digits, or from the peer id of the node (which
/// embeds its key).
pub fn parse_node_key(text: &str) -> Result<PublicKey, LedgerError> {
    let text = text.trim();
    let bad = || LedgerError::BadNodeKey(text.chars().take(80).collect());
    if let Some(bytes) = unhex(text) {
        return PublicKey::from_bytes(&bytes).map_err(|_| bad());
    }
    let peer: PeerId = text.parse().map_err(|_| bad())?;
    node_key_of(&peer).ok_or_else(bad)
}

/// A tally id from 32 hex digits.
pub fn parse_tally_id(text: &str) -> Result<TallyId, LedgerError> {
    unhex(text.trim())
        .and_then(|b| TallyId::from_bytes(&b))
        .ok_or_else(|| LedgerError::BadTallyId(text.chars().take(80).collect()))
}

/// Bytes from lowercase or uppercase hex digits; `None` if not hex.
pub fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| text.get(i..i + 2).and_then(|pair| u8::from_str_radix(pair, 16).ok()))
        .collect()
}

/// What serving a tally did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Served {
    /// The tally id.
    pub tally_id: String,
    /// False if this node already served it.
    pub new: bool,
}

/// A certified block, by height and hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BlockRef {
    /// Its height.
    pub height: u64,
    /// SHA-256 of its bytes, hex.
    pub hash: String,
}

/// Where a tally's ledger stands on this node, as `tallymesh ledger show`
/// prints it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LedgerView {
    /// The tally id.
    pub tally_id: String,
    /// The height being decided (one above the last certified block).
    pub height: u64,
    /// The round of that height.
    pub round: u64,
    /// Entries held as pending here.
    pub pending: usize,
    /// The hash of the last certified block (the genesis hash before any).
    pub tip: String,
    /// The last few certified blocks, newest last.
    pub recent_blocks: Vec<BlockRef>,
    /// SHA-256 over the hashes of every certified block in height order:
    /// two nodes with the same height and chain digest hold the same chain.
    pub chain_digest: String,
    /// Entries in all certified blocks.
    pub entries: u64,
    /// Why the ledger is stopped, while it is (a storage failure).
    pub failed: Option<String>,
}

/// The node's tally ledgers: `node.ledger()`.
#[derive(Debug, Clone)]
pub struct NodeLedger {
    node: Node,
}

impl Node {
    /// The tally ledgers this node serves (see [`crate::ledger_api`]).
    pub fn ledger(&self) -> NodeLedger {
        NodeLedger { node: self.clone() }
    }
}

impl NodeLedger {
    /// This node's key in tally networks (its device key), 64 hex digits.
    pub fn node_key(&self) -> String {
        hex(self.node.inner.ledgers.node().as_bytes())
    }

    /// Serves a test-network tally, and remembers `peers`
    /// (`…/p2p/<peer id>` addresses of other nodes) across restarts.
    pub async fn serve(&self, genesis: &TestGenesis, peers: &[Multiaddr]) -> Result<Served, LedgerError> {
        let block0 = genesis.to_genesis()?;
        self.add_peers(peers).await?;
        let new = self.node.inner.ledgers.serve(block0, RulesState::TestNetwork).await?;
        Ok(Served {
            tally_id: genesis.tally_id.clone(),
            new,
        })
    }

    /// Remembers where other ledger nodes listen, here and across restarts.
    pub async fn add_peers(&self, peers: &[Multiaddr]) -> Result<(), LedgerError> {
        remember_addresses(&self.node, peers).await.map(|_| ())
    }

    /// Submits an opaque entry to a served tally; returns its id (hex) once
    /// it is stored as pending and offered to the tally network.
    pub async fn submit(&self, tally_id: &str, entry: Vec<u8>) -> Result<String, LedgerError> {
        let tally = parse_tally_id(tally_id)?;
        match self.node.inner.ledgers.submit(tally, entry).await {
            Ok(id) => Ok(id.to_string()),
            Err(SubmitError::NotServed { .. }) => Err(LedgerError::NotServed(tally.to_string())),
            Err(e) => Err(e.into()),
        }
    }

    /// Submits `count` opaque test entries of [`TEST_ENTRY_BYTES`] bytes
    /// (a random nonce and a counter), keeping at most
    /// [`SUBMIT_WINDOW`] submissions open at once and waiting while more
    /// than half the pending pool is taken, so that none is refused for a
    /// full pool. Returns how many were stored and offered.
    pub async fn submit_test_entries(&self, tally_id: &str, count: u64) -> Result<u64, LedgerError> {
        let tally = parse_tally_id(tally_id)?;
        let ledgers = self.node.inner.ledgers.clone();
        let mut nonce = [0u8; 16];
        getrandom::fill(&mut nonce).map_err(|e| LedgerError::BadGenesis(format!("no randomness: {e}")))?;
        let high_water = self.node.inner.ledger_max_pending / 2;
        let mut submitted = 0u64;
        while submitted < count {
            loop {
                match ledgers.status(tally).await {
                    None => return Err(LedgerError::NotServed(tally.to_string())),
                    Some(status) if status.pending > high_water => {
                        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
                    }
                    Some(_) => break,
                }
            }
            let window = (count - submitted).min(SUBMIT_WINDOW);
            let mut tasks = tokio::task::JoinSet::new();
            for n in submitted..submitted + window {
                let ledgers = ledgers.clone();
                let entry = test_entry(&nonce, n);
                tasks.spawn(async move { ledgers.submit(tally, entry).await });
            }
            while let Some(done) = tasks.join_next().await {
                match done {
                    Ok(Ok(_)) => submitted += 1,
                    Ok(Err(SubmitError::NotServed { .. })) => return Err(LedgerError::NotServed(tally.to_string())),
                    Ok(Err(e)) => return Err(e.into()),
                    Err(e) => return Err(LedgerError::Node(NodeError::Ledger(e.to_string()))),
                }
            }
        }
        Ok(submitted)
    }

    /// The tallies served here, by id.
    pub fn tallies(&self) -> Vec<String> {
        self.node
            .inner
            .ledgers
            .tallies()
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    /// Where a served tally's ledger stands, with its chain read from the
    /// store.
    pub async fn show(&self, tally_id: &str) -> Result<LedgerView, LedgerError> {
        let tally = parse_tally_id(tally_id)?;
        let Some(status) = self.node.inner.ledgers.status(tally).await else {
            return Err(LedgerError::NotServed(tally.to_string()));
        };
        let store = self.node.running_store().await?;
        let mut chain = Vec::new();
        let mut recent = std::collections::VecDeque::with_capacity(RECENT_BLOCKS);
        let mut from = 1;
        let mut entries = 0u64;
        loop {
            let page = store.ledger_blocks(tally.as_bytes(), from, 512).await?;
            let Some(last) = page.last() else { break };
            from = last.height.saturating_add(1);
            for block in &page {
                let hash = Digest::of(&block.block);
                if let Ok(decoded) = tallymesh_core::block::EncodedBlock::from_bytes(&block.block) {
                    entries += decoded.block().entries.len() as u64;
                }
                chain.extend_from_slice(&hash.0);
                if recent.len() == RECENT_BLOCKS {
                    recent.pop_front();
                }
                recent.push_back(BlockRef {
                    height: block.height,
                    hash: hash.to_string(),
                });
            }
        }
        Ok(LedgerView {
            tally_id: tally.to_string(),
            height: status.height,
            round: status.round,
            pending: status.pending,
            tip: status.tip.to_string(),
            recent_blocks: recent.into_iter().collect(),
            chain_digest: Digest::of(&chain).to_string(),
            entries,
            failed: status.failed,
        })
    }

    /// Every event of every served tally's ledger from now on.
    pub fn subscribe(&self) -> tokio::sync::broadcast::Receiver<crate::ledger::LedgerEvent> {
        self.node.inner.ledgers.subscribe()
    }
}

/// Remembers where other ledger nodes listen (`…/p2p/<peer id>`
/// addresses), here and across restarts: each is added to the swarm and
/// kept, the newest first, at most [`ADDRESSES_PER_PEER`] a peer. Returns
/// whether any was new.
pub(crate) async fn remember_addresses(node: &Node, peers: &[Multiaddr]) -> Result<bool, LedgerError> {
    if peers.is_empty() {
        return Ok(false);
    }
    let store = node.running_store().await?;
    let mut known = known_peers(&store).await;
    let mut new = false;
    for address in peers {
        let Some(peer) = address_peer(address) else {
            return Err(LedgerError::BadAddress(address.to_string()));
        };
        match known.iter().position(|a| a == address) {
            Some(0) => {}
            Some(at) => {
                let address = known.remove(at);
                known.insert(0, address);
            }
            None => {
                known.insert(0, address.clone());
                new = true;
            }
        }
        node.net()
            .add_address(peer, address.clone())
            .await
            .map_err(NodeError::from)?;
    }
    // The oldest addresses of a peer go first: a node that restarted on
    // another port leaves its old ones behind.
    let mut per_peer: std::collections::HashMap<Option<PeerId>, usize> = std::collections::HashMap::new();
    known.retain(|address| {
        let count = per_peer.entry(address_peer(address)).or_insert(0);
        *count += 1;
        *count <= ADDRESSES_PER_PEER
    });
    known.truncate(MAX_KEPT_ADDRESSES);
    let text: Vec<String> = known.iter().map(ToString::to_string).collect();
    let json = serde_json::to_string(&text).unwrap_or_else(|_| "[]".to_owned());
    let now = i64::try_from(crate::node::unix_millis()).unwrap_or(i64::MAX);
    store.set_meta(PEERS_META_KEY, &json, now).await?;
    if new {
        // The tallies' nodes may want to hear of them.
        crate::tallies::notices_of(node).unsettle();
    }
    Ok(new)
}

/// The peer an address names in its `/p2p/` part.
fn address_peer(address: &Multiaddr) -> Option<PeerId> {
    address.iter().find_map(|p| match p {
        Protocol::P2p(peer) => Some(peer),
        _ => None,
    })
}

/// The addresses of other ledger nodes kept here, the newest first.
pub(crate) async fn known_peers(store: &Store) -> Vec<Multiaddr> {
    let Ok(Some(json)) = store.meta(PEERS_META_KEY).await else {
        return Vec::new();
    };
    serde_json::from_str::<Vec<String>>(&json)
        .unwrap_or_default()
        .iter()
        .filter_map(|a| a.parse().ok())
        .collect()
}

/// Adds the addresses of ledger peers kept by earlier runs to the swarm.
pub(crate) async fn remember_peers(net: &tallymesh_net::Client, store: &Store) {
    for address in known_peers(store).await {
        if let Some(peer) = address_peer(&address) {
            let _ = net.add_address(peer, address).await;
        }
    }
}

/// The peer id of a node key, for messages.
pub fn peer_id_of(key: &PublicKey) -> Option<String> {
    peer_of(key).map(|p| p.to_string())
}

#[cfg(test)]
mod tests {
    use tallymesh_core::SecretKey;

    use super::*;

    #[test]
    fn a_test_genesis_round_trips_and_takes_keys_or_peer_ids() {
        let a = SecretKey::from_seed(&[1; 32]).public();
        let b = SecretKey::from_seed(&[2; 32]).public();
        let b_peer = peer_id_of(&b).unwrap();
        let genesis = TestGenesis::new(&[hex(a.as_bytes())], &[b_peer]).unwrap();
        assert_eq!(genesis.foil, vec![hex(b.as_bytes())]);
        let json = serde_json::to_string(&genesis).unwrap();
        assert!(json.contains("\"tallyId\""), "{json}");
        let back: TestGenesis = serde_json::from_str(&json).unwrap();
        let block0 = back.to_genesis().unwrap();
        assert!(block0.network.contains(&a) && block0.network.contains(&b));
        assert_eq!(block0.tally.to_string(), genesis.tally_id);
    }

    #[test]
    fn bad_keys_ids_and_networks_are_refused_with_a_sentence() {
        let a = hex(SecretKey::from_seed(&[1; 32]).public().as_bytes());
        assert!(matches!(parse_node_key("zz"), Err(LedgerError::BadNodeKey(_))));
        assert!(matches!(parse_tally_id("1234"), Err(LedgerError::BadTallyId(_))));
        let twice = TestGenesis::new(std::slice::from_ref(&a), std::slice::from_ref(&a)).unwrap_err();
        assert!(twice.to_string().starts_with("This genesis can't be used"), "{twice}");
        assert!(TestGenesis::new(&[], std::slice::from_ref(&a)).is_err());
        assert_eq!(unhex("0aFF"), Some(vec![10, 255]));
        assert_eq!(unhex("0"), None);
    }
}
