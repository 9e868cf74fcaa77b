//! `tallymesh`: the Tallymesh node without a window, and the command line
//! that drives a running node (headless or the desktop app) through its
//! local control endpoint.

mod format;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use tallymesh_node::control::ControlClient;
use tallymesh_node::{DataDir, Multiaddr, Node, NodeConfig};

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
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn run_node(data_dir: PathBuf, args: RunArgs) -> Result<(), String> {
    let _logs = tallymesh_node::logging::init(Some(&data_dir));
    let mut config = NodeConfig::new(data_dir);
    if !args.listen.is_empty() {
        config = config.with_listen(args.listen);
    }
    let node = Node::start(config).await.map_err(|e| e.to_string())?;
    let status = node.status().await.map_err(|e| e.to_string())?;
    eprintln!("{}", format::started(&status));

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
    fn a_malformed_listen_address_is_refused() {
        let err = Cli::try_parse_from(["tallymesh", "node", "run", "--listen", "127.0.0.1:80"]).unwrap_err();
        assert_eq!(err.kind(), clap::error::ErrorKind::ValueValidation);
    }
}
