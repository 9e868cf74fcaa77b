//! `tallymesh ledger …`: test-network tallies on a running node.
//!
//! A test-network tally carries opaque entries, for benchmarks and soak
//! tests of the ledger consensus; it is never shown in the app. `genesis`
//! makes its block 0 as a small JSON file from the nodes' keys; every node
//! of the network then `serve`s it, told where the others listen; `submit`
//! adds entries and `show` tells where the ledger stands.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use tallymesh_node::control::ControlClient;
use tallymesh_node::ledger_api::{LedgerView, TestGenesis};

#[derive(Debug, Subcommand)]
pub enum LedgerCommand {
    /// Make the block 0 of a test-network tally from its nodes' keys
    Genesis(GenesisArgs),
    /// Serve a test-network tally's ledger on the running node
    Serve(ServeArgs),
    /// Submit entries to a tally the running node serves
    Submit(SubmitArgs),
    /// Show where a tally's ledger stands on the running node
    Show(ShowArgs),
}

#[derive(Debug, Args)]
pub struct GenesisArgs {
    /// The stock party's nodes: node keys (64 hex digits) or peer ids
    /// (`tallymesh status` shows a node's), comma-separated
    #[arg(long, value_name = "KEY,...", value_delimiter = ',', required = true)]
    stock: Vec<String>,
    /// The foil party's nodes, the same way
    #[arg(long, value_name = "KEY,...", value_delimiter = ',', required = true)]
    foil: Vec<String>,
    /// Write the genesis to this file instead of printing it
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The genesis file `tallymesh ledger genesis` wrote
    genesis: PathBuf,
    /// Where another node of the network listens, ending in /p2p/<peer id>;
    /// repeat for several. The node keeps them across restarts
    #[arg(long, value_name = "MULTIADDR")]
    peer: Vec<String>,
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("what").required(true).args(["hex", "count"])))]
pub struct SubmitArgs {
    /// The tally id (32 hex digits)
    tally_id: String,
    /// One entry, as hex digits
    #[arg(long, value_name = "BYTES")]
    hex: Option<String>,
    /// Submit this many opaque test entries
    #[arg(long, value_name = "N")]
    count: Option<u64>,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The tally id (32 hex digits)
    tally_id: String,
    /// Print JSON instead of text
    #[arg(long)]
    json: bool,
}

/// Runs one `ledger` command.
pub async fn run(data_dir: PathBuf, command: LedgerCommand) -> Result<(), String> {
    match command {
        LedgerCommand::Genesis(args) => {
            let genesis = TestGenesis::new(&args.stock, &args.foil).map_err(|e| e.to_string())?;
            let json = serde_json::to_string_pretty(&genesis).map_err(|e| e.to_string())?;
            match args.out {
                Some(path) => {
                    std::fs::write(&path, format!("{json}\n"))
                        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
                    eprintln!(
                        "Wrote the genesis of test tally {} to {}.",
                        genesis.tally_id,
                        path.display()
                    );
                }
                None => println!("{json}"),
            }
            Ok(())
        }
        LedgerCommand::Serve(args) => {
            let text = std::fs::read_to_string(&args.genesis)
                .map_err(|e| format!("cannot read the genesis file {}: {e}", args.genesis.display()))?;
            let genesis: TestGenesis = serde_json::from_str(&text).map_err(|e| {
                format!(
                    "{} is not a genesis file as `tallymesh ledger genesis` writes them: {e}",
                    args.genesis.display()
                )
            })?;
            let mut client = ControlClient::connect(&data_dir).await.map_err(|e| e.to_string())?;
            let served = client
                .ledger_serve(&genesis, &args.peer)
                .await
                .map_err(|e| e.to_string())?;
            if served.new {
                eprintln!("Serving the ledger of test tally {}.", served.tally_id);
            } else {
                eprintln!("Already serving the ledger of test tally {}.", served.tally_id);
            }
            println!("{}", served.tally_id);
            Ok(())
        }
        LedgerCommand::Submit(args) => {
            let mut client = ControlClient::connect(&data_dir).await.map_err(|e| e.to_string())?;
            let answer = client
                .ledger_submit(&args.tally_id, args.hex, args.count)
                .await
                .map_err(|e| e.to_string())?;
            let submitted = answer.get("submitted").and_then(serde_json::Value::as_u64).unwrap_or(0);
            match answer.get("id").and_then(serde_json::Value::as_str) {
                Some(id) => println!("{id}"),
                None => println!("{submitted}"),
            }
            eprintln!("Submitted {submitted} entries; they are pending until certified.");
            Ok(())
        }
        LedgerCommand::Show(args) => {
            let mut client = ControlClient::connect(&data_dir).await.map_err(|e| e.to_string())?;
            let view = client.ledger_show(&args.tally_id).await.map_err(|e| e.to_string())?;
            if args.json {
                println!("{}", serde_json::to_string_pretty(&view).map_err(|e| e.to_string())?);
            } else {
                println!("{}", describe(&view));
            }
            Ok(())
        }
    }
}

/// A ledger's state in a few lines.
fn describe(view: &LedgerView) -> String {
    let mut text = format!(
        "tally {}\nheight {} (round {}), {} entries certified, {} pending\ntip {}\nchain digest {}",
        view.tally_id, view.height, view.round, view.entries, view.pending, view.tip, view.chain_digest
    );
    for block in &view.recent_blocks {
        text.push_str(&format!("\n  block {}  {}", block.height, block.hash));
    }
    if let Some(failed) = &view.failed {
        text.push_str(&format!("\nSTOPPED after a storage failure: {failed}"));
    }
    text
}
