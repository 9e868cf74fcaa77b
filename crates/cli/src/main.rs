//! `tallymesh`: the Tallymesh node without a window, and the command line
//! that drives a running node (headless or the desktop app) through its
//! local control endpoint.

mod bench;
mod cadre;
mod chat;
mod contact;
mod format;
mod id;
mod ledger;
mod secrets;
mod tally;
mod trust;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use tallymesh_node::control::ControlClient;
use tallymesh_node::keystore::{KEY_FILE_NAME, KeystoreKind};
use tallymesh_node::{DataDir, KeystoreConfig, KeystoreError, Multiaddr, Node, NodeConfig, NodeError};

/// Tallymesh: mutual credit between people who trust each other, with no bank and no server.
#[derive(Debug, Parser)]
#[command(name = "tallymesh", version, propagate_version = true)]
struct Cli {
    /// The node's data directory [default: the per-user data directory]
    #[arg(long, global = true, env = "TALLYMESH_DATA_DIR", value_name = "DIR")]
    data_dir: Option<PathBuf>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run or manage the node itself
    #[command(subcommand)]
    Node(NodeCommand),
    /// Show the status of the node running with this data directory
    Status(StatusArgs),
    /// List the peers the running node is connected to, and whose they are
    Peers(StatusArgs),
    /// Create, show, back up and restore the party this node acts for
    ///
    /// Each command talks to the node running with the data directory, if
    /// one runs (the desktop app or `tallymesh node run`). Otherwise it
    /// opens the data directory itself for the length of the command; pass
    /// --key-file if that directory keeps its keys in a key file.
    #[command(subcommand)]
    Id(id::IdCommand),
    /// Share this party's card, add and list contacts
    ///
    /// Like `id`, each command talks to the running node when there is one,
    /// and otherwise opens the data directory itself (a card made that way
    /// lists no addresses, since no node listens).
    #[command(subcommand)]
    Contact(contact::ContactCommand),
    /// Enroll, list and revoke the devices that act for this party
    ///
    /// `invite` runs on the party's main device (the one holding the party
    /// secret) and prints a one-time link; `join LINK` on a node with no
    /// identity enrolls it. Like `id`, each command talks to the running
    /// node when there is one.
    #[command(subcommand)]
    Cadre(cadre::CadreCommand),
    /// Serve, feed and inspect test-network tally ledgers on the running node
    ///
    /// A test-network tally carries opaque entries, for benchmarks and soak
    /// tests of the ledger consensus; it is never shown in the app.
    #[command(subcommand)]
    Ledger(ledger::LedgerCommand),
    /// Offer, counter, accept and refuse tallies; pay, invoice and settle on them
    ///
    /// Tally commands go through the running node (`tallymesh node run` or
    /// the app), which carries messages to the partner's devices.
    #[command(subcommand)]
    Tally(tally::TallyCommand),
    /// Send and read end-to-end encrypted messages with contacts
    ///
    /// Chat commands go through the running node (`tallymesh node run` or
    /// the app), which carries messages to the other party's devices.
    #[command(subcommand)]
    Chat(chat::ChatCommand),
    /// The mailbox this node keeps for its party's other devices
    #[command(subcommand)]
    Mailbox(chat::MailboxCommand),
    /// Trust in other parties: scores and their history, attestations, evidence
    ///
    /// Trust commands go through the running node (`tallymesh node run` or
    /// the app), which feeds the scores from what it sees.
    #[command(subcommand)]
    Trust(trust::TrustCommand),
    /// Measure this machine: throughput and latency figures, not pass/fail
    #[command(subcommand)]
    Bench(bench::BenchCommand),
}

#[derive(Debug, Subcommand)]
enum NodeCommand {
    /// Run the node in the foreground until Ctrl-C or SIGTERM
    Run(RunArgs),
}

#[derive(Debug, Args)]
struct RunArgs {
    /// An address to listen on, as a multiaddr; repeat for several
    /// [default: /ip4/0.0.0.0/tcp/0 and /ip4/0.0.0.0/udp/0/quic-v1]
    #[arg(long, value_name = "MULTIADDR")]
    listen: Vec<Multiaddr>,
    /// Don't look for other nodes on the local network (multicast DNS)
    #[arg(long)]
    no_lan_discovery: bool,
    /// Answer DHT queries from the start, without waiting for others to
    /// confirm that this node can be dialled (for a LAN or a test network)
    #[arg(long)]
    dht_server: bool,
    /// Relay connections for this party's other devices (and nobody
    /// else's), so they stay reachable behind NAT: for an always-on machine
    /// they can dial
    #[arg(long)]
    relay: bool,
    /// Prune each tally ledger's journal every N certified blocks; 0 keeps
    /// every record (for soak tests that audit the votes afterwards)
    #[arg(long, value_name = "N", default_value_t = 64)]
    ledger_prune_every: u64,
    /// Don't chat on this device: only hold mail (ciphertext) for the
    /// party's other devices while they are away — an always-on mailbox
    #[arg(long)]
    mailbox_only: bool,
    #[command(flatten)]
    trust: trust::TrustArgs,
    #[command(flatten)]
    keystore: KeystoreArgs,
}

/// Where the node's keys are: the OS keychain unless `--key-file`.
#[derive(Debug, Args)]
struct KeystoreArgs {
    /// Keep the keys in keys.tmkey in the data directory, encrypted with a
    /// passphrase (from TALLYMESH_PASSPHRASE, or asked for), instead of the
    /// OS keychain: for machines without one. `id` commands need it only
    /// when no node runs
    #[arg(long)]
    key_file: bool,
}

impl KeystoreArgs {
    /// The keystore configuration, asking for the passphrase if needed.
    fn config(&self, data_dir: &Path) -> Result<KeystoreConfig, String> {
        if !self.key_file {
            return Ok(KeystoreConfig::OsKeychain);
        }
        let new = !data_dir.join(KEY_FILE_NAME).exists();
        Ok(KeystoreConfig::key_file(secrets::passphrase(
            secrets::Purpose::KeyFile,
            new,
        )?))
    }
}

/// A node error in words, with what to do about keystore problems.
fn keystore_hint(error: &NodeError) -> String {
    let hint = match error {
        NodeError::Keystore(KeystoreError::KeychainUnavailable { .. }) => {
            Some("run with --key-file (the passphrase comes from TALLYMESH_PASSPHRASE or a prompt)")
        }
        NodeError::Keystore(KeystoreError::WrongBackend { kept, .. }) => Some(match kept {
            KeystoreKind::KeyFile => "add --key-file",
            KeystoreKind::OsKeychain => "leave out --key-file",
        }),
        NodeError::Keystore(KeystoreError::WrongPassphrase { .. }) => {
            Some("the passphrase comes from TALLYMESH_PASSPHRASE when it is set; nothing was changed")
        }
        _ => None,
    };
    match hint {
        Some(hint) => format!("{error}\nhint: {hint}"),
        None => error.to_string(),
    }
}

#[derive(Debug, Args)]
struct StatusArgs {
    /// Print JSON instead of text
    #[arg(long)]
    json: bool,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let Some(data_dir) = cli.data_dir.clone().or_else(DataDir::default_path) else {
        eprintln!("error: this system has no per-user data directory; pass --data-dir DIR");
        return ExitCode::FAILURE;
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Node(NodeCommand::Run(args)) => run_node(data_dir, args).await,
            Command::Status(args) => status(data_dir, args).await,
            Command::Peers(args) => peers(data_dir, args).await,
            Command::Id(command) => id::run(data_dir, command).await,
            Command::Contact(command) => contact::run(data_dir, command).await,
            Command::Cadre(command) => cadre::run(data_dir, command).await,
            Command::Ledger(command) => ledger::run(data_dir, command).await,
            Command::Tally(command) => tally::run(data_dir, command).await,
            Command::Chat(command) => chat::run(data_dir, command).await,
            Command::Mailbox(command) => chat::run_mailbox(data_dir, command).await,
            Command::Trust(command) => trust::run(data_dir, command).await,
            Command::Bench(command) => bench::run(command).await,
        }
    });
    // Tasks still running (a stopped node's stragglers) get a moment to
    // finish; the command never hangs on them.
    runtime.shutdown_timeout(std::time::Duration::from_secs(5));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn run_node(data_dir: PathBuf, args: RunArgs) -> Result<(), String> {
    let keystore = args.keystore.config(&data_dir)?;
    let _logs = tallymesh_node::logging::init(Some(&data_dir));
    let mut config = NodeConfig::new(data_dir)
        .with_keystore(keystore)
        .with_lan_discovery(!args.no_lan_discovery)
        .with_relay_server(args.relay);
    if args.dht_server {
        config = config.with_dht_server(true);
    }
    if !args.listen.is_empty() {
        config = config.with_listen(args.listen);
    }
    let mut ledger = config.ledger.clone();
    ledger.prune_every = args.ledger_prune_every;
    config = config.with_ledger_config(ledger);
    config = config.with_trust_config(args.trust.config()?);
    if args.mailbox_only {
        config = config.with_chat(tallymesh_node::chat::ChatConfig {
            participate: false,
            ..tallymesh_node::chat::ChatConfig::default()
        });
    }
    let node = Node::start(config).await.map_err(|e| keystore_hint(&e))?;
    let status = node.status().await.map_err(|e| e.to_string())?;
    eprintln!("{}", format::started(&status));
    match node.identity().state().await {
        Ok(identity) => eprintln!("{}", format::identity_line(&identity)),
        Err(e) => eprintln!("identity: {e}"),
    }

    wait_for_stop_signal().await;
    eprintln!("stopping…");
    node.shutdown().await;
    eprintln!("stopped");
    Ok(())
}

async fn status(data_dir: PathBuf, args: StatusArgs) -> Result<(), String> {
    let mut client = ControlClient::connect(&data_dir).await.map_err(|e| e.to_string())?;
    let status = client.status().await.map_err(|e| e.to_string())?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&status).map_err(|e| e.to_string())?);
    } else {
        println!("{}", format::status(&status));
    }
    Ok(())
}

async fn peers(data_dir: PathBuf, args: StatusArgs) -> Result<(), String> {
    let mut client = ControlClient::connect(&data_dir).await.map_err(|e| e.to_string())?;
    let peers = client.peers().await.map_err(|e| e.to_string())?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&peers).map_err(|e| e.to_string())?);
    } else if peers.is_empty() {
        println!("Not connected to any peer.");
    } else {
        for peer in &peers {
            println!("{}", format::peer(peer));
        }
    }
    Ok(())
}

/// Resolves on Ctrl-C, or on SIGTERM where there is such a thing.
async fn wait_for_stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {},
                    _ = terminate.recv() => {},
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot watch for SIGTERM; stop with Ctrl-C");
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn every_command_has_help_and_the_definition_is_consistent() {
        Cli::command().debug_assert();
        for sub in Cli::command().get_subcommands() {
            assert!(sub.get_about().is_some(), "{} has no help", sub.get_name());
        }
    }

    #[test]
    fn an_unknown_flag_is_refused() {
        let err = Cli::try_parse_from(["tallymesh", "status", "--jsn"]).unwrap_err();
        assert_eq!(err.kind(), clap::error::ErrorKind::UnknownArgument);
    }

    #[test]
    fn id_commands_parse_and_restore_needs_the_phrase_flag_and_a_name() {
        assert!(Cli::try_parse_from(["tallymesh", "id", "create", "Alice"]).is_ok());
        assert!(Cli::try_parse_from(["tallymesh", "id", "show", "--json", "--key-file"]).is_ok());
        assert!(Cli::try_parse_from(["tallymesh", "id", "export", "--out", "b.tmbak"]).is_ok());
        assert!(Cli::try_parse_from(["tallymesh", "id", "import", "b.tmbak"]).is_ok());
        assert!(Cli::try_parse_from(["tallymesh", "id", "restore", "--phrase", "--name", "Alice"]).is_ok());
        assert!(Cli::try_parse_from(["tallymesh", "id", "restore", "--name", "Alice"]).is_err());
        assert!(Cli::try_parse_from(["tallymesh", "id", "export"]).is_err());
        assert!(Cli::try_parse_from(["tallymesh", "node", "run", "--key-file"]).is_ok());
    }

    #[test]
    fn contact_commands_parse() {
        assert!(Cli::try_parse_from(["tallymesh", "contact", "card"]).is_ok());
        assert!(
            Cli::try_parse_from([
                "tallymesh",
                "contact",
                "card",
                "--qr",
                "me.png",
                "--invite",
                "--reusable",
                "--expires",
                "2d"
            ])
            .is_ok()
        );
        assert!(Cli::try_parse_from(["tallymesh", "contact", "card", "--reusable"]).is_err());
        assert!(Cli::try_parse_from(["tallymesh", "contact", "add", "tallymesh:card?v=1&d=x"]).is_ok());
        assert!(Cli::try_parse_from(["tallymesh", "contact", "add", "--image", "card.png"]).is_ok());
        assert!(Cli::try_parse_from(["tallymesh", "contact", "add"]).is_err());
        assert!(Cli::try_parse_from(["tallymesh", "contact", "list", "--json"]).is_ok());
        assert!(Cli::try_parse_from(["tallymesh", "contact", "remove", "did:key:z6Mk"]).is_ok());
    }

    #[test]
    fn cadre_commands_parse() {
        assert!(Cli::try_parse_from(["tallymesh", "cadre", "invite"]).is_ok());
        assert!(Cli::try_parse_from(["tallymesh", "cadre", "invite", "--expires", "30m"]).is_ok());
        assert!(
            Cli::try_parse_from(["tallymesh", "cadre", "join", "tallymesh:cadre?v=1&d=x", "--name", "Box"]).is_ok()
        );
        assert!(Cli::try_parse_from(["tallymesh", "cadre", "join"]).is_err());
        assert!(Cli::try_parse_from(["tallymesh", "cadre", "list", "--json"]).is_ok());
        assert!(Cli::try_parse_from(["tallymesh", "cadre", "revoke", "12D3KooW"]).is_ok());
        assert!(Cli::try_parse_from(["tallymesh", "cadre", "revoke"]).is_err());
    }

    #[test]
    fn ledger_and_bench_commands_parse() {
        let parse = |args: &[&str]| Cli::try_parse_from([&["tallymesh"], args].concat());
        assert!(parse(&["ledger", "genesis", "--stock", "a,b", "--foil", "c", "--out", "g.json"]).is_ok());
        assert!(parse(&["ledger", "genesis", "--stock", "a"]).is_err());
        assert!(parse(&["ledger", "serve", "g.json", "--peer", "/ip4/127.0.0.1/tcp/1/p2p/x"]).is_ok());
        assert!(parse(&["ledger", "submit", "00", "--count", "10"]).is_ok());
        assert!(parse(&["ledger", "submit", "00", "--hex", "abcd"]).is_ok());
        assert!(parse(&["ledger", "submit", "00"]).is_err());
        assert!(parse(&["ledger", "submit", "00", "--hex", "ab", "--count", "1"]).is_err());
        assert!(parse(&["ledger", "show", "00", "--json"]).is_ok());
        assert!(parse(&["bench", "ledger", "--nodes", "2+2", "--entries", "10", "--rate", "5"]).is_ok());
        assert!(parse(&["bench", "ledger", "--nodes", "9+1"]).is_err());
    }

    #[test]
    fn a_missing_keychain_points_at_the_key_file() {
        let error = NodeError::Keystore(KeystoreError::KeychainUnavailable {
            reason: "no D-Bus session".into(),
        });
        let text = keystore_hint(&error);
        assert!(text.contains("the OS keychain is not available"), "{text}");
        assert!(text.contains("--key-file"), "{text}");
    }

    #[test]
    fn trust_flags_parse_and_a_bad_interval_is_refused() {
        let parse = |args: &[&str]| Cli::try_parse_from([&["tallymesh", "node", "run"], args].concat());
        assert!(parse(&["--trust-decay-rate", "0.2", "--trust-decay-interval", "30m"]).is_ok());
        assert!(parse(&["--trust-config", "trust.json"]).is_ok());
        assert!(parse(&["--trust-decay-interval", "0m"]).is_err());
        assert!(parse(&["--trust-decay-rate", "lots"]).is_err());
        assert!(Cli::try_parse_from(["tallymesh", "trust", "config", "--json"]).is_ok());
    }

    #[test]
    fn a_malformed_listen_address_is_refused() {
        let err = Cli::try_parse_from(["tallymesh", "node", "run", "--listen", "127.0.0.1:80"]).unwrap_err();
        assert_eq!(err.kind(), clap::error::ErrorKind::ValueValidation);
    }
}
