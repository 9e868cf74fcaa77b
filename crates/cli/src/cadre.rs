//! `tallymesh cadre …`: the devices that act for this party.
//!
//! Like `id` and `contact`, each command uses the node running with the
//! data directory when there is one, and otherwise opens the data
//! directory itself. `invite` and `join` reach another device, so they
//! need a node that listens: a node opened here listens nowhere, which is
//! enough to dial out (`join`) but not to be reached (`invite`).

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Subcommand};
use tallymesh_node::IdentityState;
use tallymesh_node::cadre::{CadreDevice, CadreError, DeviceKind};

use crate::id::Target;
use crate::{KeystoreArgs, format, keystore_hint};

#[derive(Debug, Subcommand)]
pub enum CadreCommand {
    /// Print a one-time link that enrolls another device of yours (run on the main device)
    Invite(InviteArgs),
    /// Join the party of an enrollment link as one of its devices (on a node with no identity)
    Join(JoinArgs),
    /// List this party's devices
    List(ListArgs),
    /// Revoke an enrolled device: it drops off this party's card
    Revoke(RevokeArgs),
}

#[derive(Debug, Args)]
pub struct InviteArgs {
    /// How long the link is accepted: a number with s, m, h or d
    #[arg(long, value_name = "DURATION", default_value = "1h", value_parser = crate::contact::parse_duration)]
    expires: Duration,
    #[command(flatten)]
    keystore: KeystoreArgs,
}

#[derive(Debug, Args)]
pub struct JoinArgs {
    /// The `tallymesh:cadre?…` link from the main device
    link: String,
    /// The name this device gets on its certificate [default: the device's name]
    #[arg(long, value_name = "NAME")]
    name: Option<String>,
    #[command(flatten)]
    keystore: KeystoreArgs,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Print JSON instead of text
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    keystore: KeystoreArgs,
}

#[derive(Debug, Args)]
pub struct RevokeArgs {
    /// The device's peer id (from `tallymesh cadre list`)
    peer_id: String,
    #[command(flatten)]
    keystore: KeystoreArgs,
}

/// Runs one `cadre` command.
pub async fn run(data_dir: PathBuf, command: CadreCommand) -> Result<(), String> {
    match command {
        CadreCommand::Invite(args) => {
            let mut target = Target::open(&data_dir, &args.keystore).await?;
            let local = matches!(target, Target::Local(_));
            let result = match &mut target {
                Target::Running(client) => client
                    .cadre_invite(Some(args.expires.as_secs()))
                    .await
                    .map_err(|e| e.to_string()),
                Target::Local(node) => node.cadre().invite(args.expires).await.map_err(|e| cadre_error(&e)),
            };
            target.close().await;
            let link = result?;
            eprintln!(
                "Open this link on the device to enroll with `tallymesh cadre join LINK`; it works once, within {}.",
                format::duration(args.expires.as_secs())
            );
            if local {
                eprintln!(
                    "No node is running with this data directory: start one (`tallymesh node run`) so the joining device can reach it."
                );
            }
            println!("{link}");
            Ok(())
        }
        CadreCommand::Join(args) => {
            let mut target = Target::open(&data_dir, &args.keystore).await?;
            let result = match &mut target {
                Target::Running(client) => client
                    .cadre_join(&args.link, args.name.as_deref())
                    .await
                    .map_err(|e| e.to_string()),
                Target::Local(node) => node
                    .cadre()
                    .join(&args.link, args.name.as_deref())
                    .await
                    .map_err(|e| cadre_error(&e)),
            };
            target.close().await;
            let state = result?;
            if let IdentityState::Member { display_name, .. } = &state {
                eprintln!("This device now acts for {display_name} as one of its devices.");
            }
            println!("{}", format::identity(&state));
            Ok(())
        }
        CadreCommand::List(args) => {
            let mut target = Target::open(&data_dir, &args.keystore).await?;
            let result = match &mut target {
                Target::Running(client) => client.cadre_list().await.map_err(|e| e.to_string()),
                Target::Local(node) => node.cadre().list().await.map_err(|e| cadre_error(&e)),
            };
            target.close().await;
            let devices = result?;
            if args.json {
                println!("{}", serde_json::to_string_pretty(&devices).map_err(|e| e.to_string())?);
            } else {
                for device in &devices {
                    println!("{}", describe(device));
                }
            }
            Ok(())
        }
        CadreCommand::Revoke(args) => {
            let mut target = Target::open(&data_dir, &args.keystore).await?;
            let result = match &mut target {
                Target::Running(client) => client.cadre_revoke(&args.peer_id).await.map_err(|e| e.to_string()),
                Target::Local(node) => node.cadre().revoke(&args.peer_id).await.map_err(|e| cadre_error(&e)),
            };
            target.close().await;
            result?;
            eprintln!(
                "Revoked {}: it is off this party's card, and contacts drop it when they get the newer card.",
                args.peer_id.trim()
            );
            Ok(())
        }
    }
}

/// A cadre error in words, with the keystore hints of node errors.
fn cadre_error(error: &CadreError) -> String {
    match error {
        CadreError::Node(e) => keystore_hint(e),
        other => other.to_string(),
    }
}

/// One device on one line.
fn describe(device: &CadreDevice) -> String {
    let mut line = format!(
        "{}  {}  (enrolled {})",
        device.name,
        device.peer_id,
        format::date_time(device.enrolled_at_ms)
    );
    match device.kind {
        Some(DeviceKind::Desktop) => line.push_str("  desktop app"),
        Some(DeviceKind::Headless) => line.push_str("  headless"),
        None => {}
    }
    if device.this_device {
        line.push_str("  this device");
    }
    if device.revoked {
        line.push_str("  REVOKED");
    }
    line
}
