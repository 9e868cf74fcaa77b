//! `tallymesh id …`: the party this node acts for.
//!
//! Every command talks to the node running with the data directory when
//! there is one (the desktop app or `tallymesh node run`), over its control
//! endpoint. When none runs, the command opens the data directory itself —
//! a node with no network and no control endpoint, for the length of the
//! command — so a headless machine can be set up before its first run.

use std::io::{IsTerminal, Read};
use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use tallymesh_node::control::{ControlClient, ControlError};
use tallymesh_node::identity::RecoveryPhrase;
use tallymesh_node::{IdentityState, Node, NodeConfig, Passphrase};

use crate::secrets::{self, Purpose};
use crate::{KeystoreArgs, format, keystore_hint};

/// The largest backup file `import` reads.
const MAX_BACKUP_BYTES: u64 = 64 * 1024;

#[derive(Debug, Subcommand)]
pub enum IdCommand {
    /// Create this node's party, with a fresh secret
    Create(CreateArgs),
    /// Show whom this node acts for
    Show(ShowArgs),
    /// Print the 24-word recovery phrase of the party secret
    Phrase(CommonArgs),
    /// Write an encrypted backup file of the party (passphrase from
    /// TALLYMESH_BACKUP_PASSPHRASE or a prompt)
    Export(ExportArgs),
    /// Restore the party from a backup file made by `id export`
    Import(ImportArgs),
    /// Restore the party from its recovery phrase (read from stdin, or asked
    /// for without echo)
    Restore(RestoreArgs),
}

#[derive(Debug, Args)]
pub struct CommonArgs {
    #[command(flatten)]
    keystore: KeystoreArgs,
}

#[derive(Debug, Args)]
pub struct CreateArgs {
    /// The party's display name, as contacts will see it
    name: String,
    #[command(flatten)]
    keystore: KeystoreArgs,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// Print JSON instead of text
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    keystore: KeystoreArgs,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The backup file to write (must not exist yet)
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
    #[command(flatten)]
    keystore: KeystoreArgs,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The backup file
    file: PathBuf,
    #[command(flatten)]
    keystore: KeystoreArgs,
}

#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// Restore from the recovery phrase
    #[arg(long, required = true)]
    phrase: bool,
    /// The display name to use (a phrase holds none)
    #[arg(long, value_name = "NAME")]
    name: String,
    #[command(flatten)]
    keystore: KeystoreArgs,
}

/// Runs one `id` command.
pub async fn run(data_dir: PathBuf, command: IdCommand) -> Result<(), String> {
    match command {
        IdCommand::Create(args) => {
            let mut target = Target::open(&data_dir, &args.keystore).await?;
            let result = target.create(&args.name).await;
            target.close().await;
            let state = result?;
            println!("{}", format::identity(&state));
            eprintln!(
                "Next: write down the recovery phrase (`tallymesh id phrase`) or export a backup (`tallymesh id export --out FILE`)."
            );
            Ok(())
        }
        IdCommand::Show(args) => {
            let mut target = Target::open(&data_dir, &args.keystore).await?;
            let result = target.state().await;
            target.close().await;
            let state = result?;
            if args.json {
                println!("{}", serde_json::to_string_pretty(&state).map_err(|e| e.to_string())?);
            } else {
                println!("{}", format::identity(&state));
            }
            Ok(())
        }
        IdCommand::Phrase(args) => {
            let mut target = Target::open(&data_dir, &args.keystore).await?;
            let result = target.phrase().await;
            target.close().await;
            let phrase = result?;
            let stdout = std::io::stdout();
            if stdout.is_terminal() {
                eprintln!(
                    "Your recovery phrase. Write it on paper and keep it safe: anyone with these words can act as you.\n"
                );
                println!("{}", format::phrase_grid(&phrase));
            } else {
                println!("{}", phrase.expose());
            }
            Ok(())
        }
        IdCommand::Export(args) => {
            if args.out.exists() {
                return Err(format!(
                    "{} already exists; choose another file name or move it away first",
                    args.out.display()
                ));
            }
            let mut target = Target::open(&data_dir, &args.keystore).await?;
            let passphrase = match secrets::passphrase(Purpose::Backup, true) {
                Ok(passphrase) => passphrase,
                Err(e) => {
                    target.close().await;
                    return Err(e);
                }
            };
            let result = target.export(&passphrase).await;
            target.close().await;
            let backup = result?;
            tallymesh_node::identity::write_backup_file(&args.out, &backup, false)
                .map_err(|e| format!("cannot write the backup to {}: {e}", args.out.display()))?;
            eprintln!(
                "Wrote an encrypted backup to {}. Keep it somewhere other than this computer; you need its passphrase to restore it.",
                args.out.display()
            );
            Ok(())
        }
        IdCommand::Import(args) => {
            let backup = read_backup(&args.file)?;
            let passphrase = secrets::passphrase(Purpose::Backup, false)?;
            let mut target = Target::open(&data_dir, &args.keystore).await?;
            let result = target.restore_backup(&backup, &passphrase).await;
            target.close().await;
            println!("{}", format::identity(&result?));
            Ok(())
        }
        IdCommand::Restore(args) => {
            // Clap makes `--phrase` required; it names the source so that
            // later sources can sit beside it.
            if !args.phrase {
                return Err("say what to restore from: --phrase".to_owned());
            }
            let phrase = secrets::recovery_phrase()?;
            let mut target = Target::open(&data_dir, &args.keystore).await?;
            let result = target.restore_phrase(&phrase, &args.name).await;
            target.close().await;
            println!("{}", format::identity(&result?));
            Ok(())
        }
    }
}

/// The node a command works on: the running one, or one opened here.
pub(crate) enum Target {
    Running(ControlClient),
    Local(Node),
}

impl Target {
    pub(crate) async fn open(data_dir: &Path, keystore: &KeystoreArgs) -> Result<Target, String> {
        match ControlClient::connect(data_dir).await {
            Ok(client) => return Ok(Target::Running(client)),
            Err(ControlError::NotRunning { .. }) => {}
            Err(e) => return Err(e.to_string()),
        }
        let mut config = NodeConfig::new(data_dir.to_owned())
            .with_listen(Vec::new())
            .with_lan_discovery(false);
        config.control_endpoint = false;
        let config = config.with_keystore(keystore.config(data_dir)?);
        Node::start(config)
            .await
            .map(Target::Local)
            .map_err(|e| keystore_hint(&e))
    }

    pub(crate) async fn close(self) {
        if let Target::Local(node) = self {
            node.shutdown().await;
        }
    }

    async fn state(&mut self) -> Result<IdentityState, String> {
        match self {
            Target::Running(client) => client.identity().await.map_err(|e| e.to_string()),
            Target::Local(node) => node.identity().state().await.map_err(|e| keystore_hint(&e)),
        }
    }

    async fn create(&mut self, name: &str) -> Result<IdentityState, String> {
        match self {
            Target::Running(client) => client.create_identity(name).await.map_err(|e| e.to_string()),
            Target::Local(node) => node.identity().create(name).await.map_err(|e| keystore_hint(&e)),
        }
    }

    async fn phrase(&mut self) -> Result<RecoveryPhrase, String> {
        match self {
            Target::Running(client) => client.recovery_phrase().await.map_err(|e| e.to_string()),
            Target::Local(node) => node.identity().recovery_phrase().await.map_err(|e| keystore_hint(&e)),
        }
    }

    async fn export(&mut self, passphrase: &Passphrase) -> Result<Vec<u8>, String> {
        match self {
            Target::Running(client) => client.export_backup(passphrase).await.map_err(|e| e.to_string()),
            Target::Local(node) => node
                .identity()
                .export_backup(passphrase)
                .await
                .map_err(|e| keystore_hint(&e)),
        }
    }

    async fn restore_backup(&mut self, backup: &[u8], passphrase: &Passphrase) -> Result<IdentityState, String> {
        match self {
            Target::Running(client) => client
                .restore_from_backup(backup, passphrase)
                .await
                .map_err(|e| e.to_string()),
            Target::Local(node) => node
                .identity()
                .restore_from_backup(backup, passphrase)
                .await
                .map_err(|e| keystore_hint(&e)),
        }
    }

    async fn restore_phrase(&mut self, phrase: &RecoveryPhrase, name: &str) -> Result<IdentityState, String> {
        match self {
            Target::Running(client) => client
                .restore_from_phrase(phrase, name)
                .await
                .map_err(|e| e.to_string()),
            Target::Local(node) => node
                .identity()
                .restore_from_phrase(phrase, name)
                .await
                .map_err(|e| keystore_hint(&e)),
        }
    }
}

fn read_backup(path: &Path) -> Result<Vec<u8>, String> {
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|file| file.take(MAX_BACKUP_BYTES + 1).read_to_end(&mut bytes))
        .map_err(|e| format!("cannot read the backup file {}: {e}", path.display()))?;
    if bytes.len() as u64 > MAX_BACKUP_BYTES {
        return Err(format!("{} is too large to be a Tallymesh backup file", path.display()));
    }
    Ok(bytes)
}
