//! Shared pieces of the scenario tests: starting nodes on loopback in
//! temporary data directories, waiting for conditions with a generous
//! guard, and finding the `tallymesh` binary.
//!
//! Test nodes keep their keys in a key file with cheap key-derivation
//! settings ([`KdfParams::INSECURE_FOR_TESTS`]): that works on any machine
//! (no D-Bus session or keychain needed), costs milliseconds instead of a
//! third of a second per start, and never writes into the OS keychain of
//! the developer running the tests. The keychain backend has its own
//! scenarios ([`TestNode::start_with_keychain`]), run against the real
//! Secret Service inside `scripts/with-keyring.sh`.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::time::Duration;

use tallymesh_node::keystore::{KdfParams, Keystore, KeystoreConfig, Passphrase, Purpose};
use tallymesh_node::{Multiaddr, Node, NodeConfig, NodeError};
use tempfile::TempDir;

/// The key file passphrase of every test node.
pub const TEST_PASSPHRASE: &str = "scenario test passphrase";

/// How long a scenario waits for a condition before it fails. Generous: a
/// hang guard for a loaded machine, not a speed requirement.
pub const PATIENCE: Duration = Duration::from_secs(120);

/// Polls `check` until it gives a value, or fails the test after
/// [`PATIENCE`], naming `what` it waited for.
pub async fn until<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let waited = tokio::time::timeout(PATIENCE, async {
        loop {
            if let Some(value) = check().await {
                return value;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await;
    match waited {
        Ok(value) => value,
        Err(_) => panic!("gave up waiting for {what}"),
    }
}

/// Polls `check` until it holds, or fails the test after [`PATIENCE`],
/// naming `what` it waited for.
pub async fn until_holds<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    until(what, || {
        let holds = check();
        async move { holds.await.then_some(()) }
    })
    .await;
}

/// A test node with a new party called `name`; fails the test when either
/// cannot be made.
pub async fn node_of(name: &str) -> TestNode {
    let node = TestNode::start()
        .await
        .unwrap_or_else(|e| panic!("a test node did not start: {e}"));
    if let Err(e) = node.node.identity().create(name).await {
        panic!("the party {name:?} was not created: {e}");
    }
    node
}

/// The party id of `node`'s identity; fails the test without one.
pub async fn party_of(node: &TestNode) -> String {
    match node.node.identity().state().await {
        Ok(state) => match state.party_id() {
            Some(party) => party.to_string(),
            None => panic!("the node has no party"),
        },
        Err(e) => panic!("the node's identity does not read: {e}"),
    }
}

/// Makes `a` and `b` contacts of each other: `b` redeems a one-time card
/// link of `a`'s, and this waits until `a` has heard of it. Gives the two
/// party ids, `a`'s first.
pub async fn befriend(a: &TestNode, b: &TestNode) -> (String, String) {
    let invite = tallymesh_node::contacts::InviteSpec {
        reusable: false,
        expires_in: Duration::from_secs(3_600),
    };
    let link = match a.node.contacts().my_card_link(Some(invite)).await {
        Ok(link) => link,
        Err(e) => panic!("no card link was made: {e}"),
    };
    let a_party = match b.node.contacts().redeem_link(&link).await {
        Ok(contact) => contact.party_id,
        Err(e) => panic!("the card link was not redeemed: {e}"),
    };
    let b_party = party_of(b).await;
    until("the invite's redemption to reach the inviter", || async {
        a.node.contacts().get(&b_party).await.ok()
    })
    .await;
    (a_party, b_party)
}

/// How many times `node` counted `peer` (a peer id) breaking a protocol's
/// rules; 0 for a peer it does not list.
pub async fn strikes_of(node: &TestNode, peer: impl std::fmt::Display) -> u32 {
    let peer = peer.to_string();
    match node.node.peers().await {
        Ok(peers) => peers.iter().find(|p| p.peer_id == peer).map_or(0, |p| p.strikes),
        Err(e) => panic!("the node's peers do not read: {e}"),
    }
}

/// A node listening on 127.0.0.1 only, in a data directory that disappears
/// with it.
#[derive(Debug)]
pub struct TestNode {
    /// The running node.
    pub node: Node,
    /// Its data directory; dropped after the node.
    pub dir: TempDir,
    /// The configuration it was started with (for restarts).
    pub config: NodeConfig,
}

/// Addresses on loopback with system-chosen ports: TCP and QUIC.
pub fn loopback() -> Vec<Multiaddr> {
    ["/ip4/127.0.0.1/tcp/0", "/ip4/127.0.0.1/udp/0/quic-v1"]
        .iter()
        .filter_map(|a| a.parse().ok())
        .collect()
}

/// The configuration of a test node in `data_dir`: loopback, a key file
/// unlocked by [`TEST_PASSPHRASE`], cheap key derivation.
pub fn test_config(data_dir: &Path) -> NodeConfig {
    NodeConfig::new(data_dir.to_owned())
        .with_listen(loopback())
        .with_keystore(KeystoreConfig::key_file(Passphrase::new(TEST_PASSPHRASE)))
        .with_file_kdf(KdfParams::INSECURE_FOR_TESTS)
        .with_device_name("Scenario node")
        // No multicast on the real interfaces; a DHT on loopback has no
        // external address to confirm, so serve from the start.
        .with_lan_discovery(false)
        .with_dht_server(true)
}

/// A fresh temporary data directory.
pub fn temp_data_dir() -> Result<TempDir, NodeError> {
    tempfile::Builder::new()
        .prefix("tm-")
        .tempdir()
        .map_err(|e| NodeError::DataDir {
            path: std::env::temp_dir(),
            reason: e.to_string(),
        })
}

/// Whether this machine is expected to have a usable OS keychain: on Linux
/// a D-Bus session (as `scripts/with-keyring.sh` and every desktop give),
/// elsewhere always. Keychain scenarios skip themselves, saying so, when
/// it is not.
pub fn keychain_expected() -> bool {
    let expected = if cfg!(target_os = "linux") {
        std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some_and(|a| !a.is_empty())
    } else {
        true
    };
    // `scripts/with-keyring.sh` (and so `make test`) requires them to run.
    let required = std::env::var("TALLYMESH_KEYCHAIN_TESTS").is_ok_and(|v| v == "required");
    assert!(
        expected || !required,
        "the keychain tests must run here, but there is no D-Bus session"
    );
    expected
}

/// Removes a node's entries from the OS keychain, so keychain scenarios
/// leave nothing behind on a developer's machine.
pub fn forget_keychain_entries(keystore_id: &str) {
    if let Ok(keystore) = Keystore::open_os_keychain(keystore_id) {
        for purpose in [Purpose::DeviceKey, Purpose::PartySecret, Purpose::ChatPickleKey] {
            let _ = keystore.delete(purpose);
        }
    }
}

impl TestNode {
    /// Starts a node on loopback in a fresh temporary directory, with its
    /// keys in a key file.
    pub async fn start() -> Result<TestNode, NodeError> {
        let dir = temp_data_dir()?;
        let config = test_config(dir.path());
        TestNode::start_in(dir, config).await
    }

    /// Starts a node on loopback in a fresh temporary directory, with its
    /// keys in the OS keychain.
    pub async fn start_with_keychain() -> Result<TestNode, NodeError> {
        let dir = temp_data_dir()?;
        let config = test_config(dir.path()).with_keystore(KeystoreConfig::OsKeychain);
        TestNode::start_in(dir, config).await
    }

    /// Starts a node with `config` in `dir` (which `config` names).
    pub async fn start_in(dir: TempDir, config: NodeConfig) -> Result<TestNode, NodeError> {
        let node = Node::start(config.clone()).await?;
        Ok(TestNode { node, dir, config })
    }

    /// Stops the node, keeping its data directory and configuration for a
    /// later [`TestNode::start_in`].
    pub async fn stop(self) -> (TempDir, NodeConfig) {
        self.node.shutdown().await;
        (self.dir, self.config)
    }

    /// Stops the node and starts it again on the same data directory.
    pub async fn restart(self) -> Result<TestNode, NodeError> {
        let (dir, config) = self.stop().await;
        TestNode::start_in(dir, config).await
    }

    /// The data directory's path.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }
}

/// The `tallymesh` binary built alongside these tests (`target/<profile>/tallymesh`).
pub fn cli_binary() -> PathBuf {
    let mut dir = std::env::current_exe().unwrap_or_default();
    // target/<profile>/deps/<test> → target/<profile>
    dir.pop();
    if dir.ends_with("deps") {
        dir.pop();
    }
    dir.join(format!("tallymesh{}", std::env::consts::EXE_SUFFIX))
}

/// Starts `tallymesh node run` on loopback as a headless server would run
/// it: keys in a key file under `passphrase`, stderr captured.
pub fn spawn_headless_node(data_dir: &std::path::Path, passphrase: &str) -> std::io::Result<std::process::Child> {
    spawn_headless_node_with(data_dir, passphrase, &[])
}

/// [`spawn_headless_node`] with more arguments to `node run` (`--relay`).
pub fn spawn_headless_node_with(
    data_dir: &std::path::Path,
    passphrase: &str,
    more: &[&str],
) -> std::io::Result<std::process::Child> {
    std::process::Command::new(cli_binary())
        .args([
            "node",
            "run",
            "--key-file",
            "--listen",
            "/ip4/127.0.0.1/tcp/0",
            "--no-lan-discovery",
            "--dht-server",
        ])
        .args(more)
        .arg("--data-dir")
        .arg(data_dir)
        .env_remove("TALLYMESH_DATA_DIR")
        .env("TALLYMESH_PASSPHRASE", passphrase)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
}

/// Waits until the node running with `data_dir` answers on its control
/// endpoint (a spawned node needs a moment to start, more on a loaded
/// machine); false if it never does within [`PATIENCE`].
pub fn wait_for_control(data_dir: &std::path::Path) -> bool {
    let deadline = std::time::Instant::now() + PATIENCE;
    while std::time::Instant::now() < deadline {
        let answered = std::process::Command::new(cli_binary())
            .args(["status", "--data-dir"])
            .arg(data_dir)
            .env_remove("TALLYMESH_DATA_DIR")
            .output()
            .is_ok_and(|out| out.status.success());
        if answered {
            return true;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    false
}

/// Polls `check` from a test that runs no async runtime (it drives other
/// processes) until it gives a value, or fails the test after [`PATIENCE`],
/// naming `what` it waited for.
pub fn until_blocking<T>(what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = std::time::Instant::now() + PATIENCE;
    loop {
        if let Some(value) = check() {
            return value;
        }
        assert!(std::time::Instant::now() < deadline, "gave up waiting for {what}");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

/// The standard output of a command that must have succeeded; on failure
/// the assertion shows its exit status, stdout and stderr.
pub fn succeeded(output: &std::process::Output) -> String {
    assert!(
        output.status.success(),
        "exit {:?}\nstdout: {}\nstderr: {}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Sends SIGTERM to a node started with [`spawn_headless_node`] and waits
/// for it to exit, returning what it printed.
#[cfg(unix)]
pub fn stop_with_sigterm(node: std::process::Child) -> std::io::Result<std::process::Output> {
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &node.id().to_string()])
        .status()?;
    if !killed.success() {
        return Err(std::io::Error::other(format!("kill -TERM {} failed", node.id())));
    }
    node.wait_with_output()
}
