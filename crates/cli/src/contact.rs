//! `tallymesh contact …`: this party's card, and the parties it knows.
//!
//! Like `id`, each command uses the node running with the data directory
//! when there is one, and otherwise opens the data directory itself.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{Args, Subcommand};
use tallymesh_node::contacts::{self, Contact, InviteSpec, SharedCard};
use tallymesh_node::control::InviteRequest;

use crate::id::Target;
use crate::{KeystoreArgs, format, keystore_hint};

/// The largest image file `contact add --image` reads.
const MAX_IMAGE_BYTES: u64 = 16 * 1024 * 1024;

#[derive(Debug, Subcommand)]
pub enum ContactCommand {
    /// Print this party's card as a `tallymesh:` link (and write it as a QR code)
    Card(CardArgs),
    /// Print this party's card with a new invite (same as `card --invite`)
    Invite(InviteArgs),
    /// Add the party of a card link, or of a QR code in an image file
    Add(AddArgs),
    /// Redeem the invite on someone's card link: reach their devices and
    /// exchange cards, so each of you has the other as a contact
    Redeem(RedeemArgs),
    /// List the contacts
    List(ListArgs),
    /// Forget a contact
    Remove(RemoveArgs),
}

#[derive(Debug, Args)]
pub struct CardArgs {
    /// Also write the card as a QR code to this PNG file
    #[arg(long, value_name = "FILE.png")]
    qr: Option<PathBuf>,
    /// Put a new invite on the card (one-time unless --reusable)
    #[arg(long)]
    invite: bool,
    /// Let the invite be used again and again until it expires (a shop counter)
    #[arg(long, requires = "invite")]
    reusable: bool,
    /// How long the invite is accepted: a number with s, m, h or d
    #[arg(long, requires = "invite", value_name = "DURATION", default_value = "24h", value_parser = parse_duration)]
    expires: Duration,
    #[command(flatten)]
    keystore: KeystoreArgs,
}

#[derive(Debug, Args)]
pub struct InviteArgs {
    /// Also write the card as a QR code to this PNG file
    #[arg(long, value_name = "FILE.png")]
    qr: Option<PathBuf>,
    /// Let the invite be used again and again until it expires (a shop counter)
    #[arg(long)]
    reusable: bool,
    /// How long the invite is accepted: a number with s, m, h or d
    #[arg(long, value_name = "DURATION", default_value = "24h", value_parser = parse_duration)]
    expires: Duration,
    #[command(flatten)]
    keystore: KeystoreArgs,
}

impl From<InviteArgs> for CardArgs {
    fn from(args: InviteArgs) -> Self {
        CardArgs {
            qr: args.qr,
            invite: true,
            reusable: args.reusable,
            expires: args.expires,
            keystore: args.keystore,
        }
    }
}

#[derive(Debug, Args)]
pub struct RedeemArgs {
    /// The `tallymesh:card?…` link, with an invite
    link: String,
    /// Print JSON instead of text
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    keystore: KeystoreArgs,
}

#[derive(Debug, Args)]
pub struct AddArgs {
    /// The `tallymesh:card?…` link
    #[arg(required_unless_present = "image", conflicts_with = "image")]
    link: Option<String>,
    /// An image file (PNG or JPEG) showing the card's QR code
    #[arg(long, value_name = "FILE")]
    image: Option<PathBuf>,
    /// Print JSON instead of text
    #[arg(long)]
    json: bool,
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
pub struct RemoveArgs {
    /// The contact's party id (did:key:z6Mk…)
    party_id: String,
    #[command(flatten)]
    keystore: KeystoreArgs,
}

/// Runs one `contact` command.
pub async fn run(data_dir: PathBuf, command: ContactCommand) -> Result<(), String> {
    match command {
        ContactCommand::Invite(args) => card_command(data_dir, args.into()).await,
        ContactCommand::Card(args) => card_command(data_dir, args).await,
        ContactCommand::Redeem(args) => {
            let mut target = Target::open(&data_dir, &args.keystore).await?;
            let result = redeem(&mut target, &args.link).await;
            target.close().await;
            let contact = result?;
            if args.json {
                println!("{}", serde_json::to_string_pretty(&contact).map_err(|e| e.to_string())?);
            } else {
                println!("Redeemed the invite: {} and you are now contacts", describe(&contact));
            }
            Ok(())
        }
        ContactCommand::Add(args) => {
            let link = match (&args.link, &args.image) {
                (Some(link), _) => link.clone(),
                // Read the image here: the running node's control line is
                // too short for image files, and the card is what it needs.
                (None, Some(path)) => {
                    let image = read_image(path)?;
                    let signed = contacts::card_from_qr_image(&image).map_err(|e| e.to_string())?;
                    contacts::card_link(&signed)
                }
                (None, None) => return Err("give a card link, or --image FILE".to_owned()),
            };
            let mut target = Target::open(&data_dir, &args.keystore).await?;
            let result = add(&mut target, &link).await;
            target.close().await;
            let contact = result?;
            if args.json {
                println!("{}", serde_json::to_string_pretty(&contact).map_err(|e| e.to_string())?);
            } else {
                println!("Added {}", describe(&contact));
            }
            Ok(())
        }
        ContactCommand::List(args) => {
            let mut target = Target::open(&data_dir, &args.keystore).await?;
            let result = list(&mut target).await;
            target.close().await;
            let contacts = result?;
            if args.json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&contacts).map_err(|e| e.to_string())?
                );
            } else if contacts.is_empty() {
                println!("No contacts yet. Add one with `tallymesh contact add LINK`.");
            } else {
                for contact in &contacts {
                    println!("{}", describe(contact));
                }
            }
            Ok(())
        }
        ContactCommand::Remove(args) => {
            let mut target = Target::open(&data_dir, &args.keystore).await?;
            let result = remove(&mut target, &args.party_id).await;
            target.close().await;
            result?;
            eprintln!("Removed the contact {}.", args.party_id.trim());
            Ok(())
        }
    }
}

/// `contact card` and `contact invite`: prints the card's link.
async fn card_command(data_dir: PathBuf, args: CardArgs) -> Result<(), String> {
    let invite = args.invite.then_some(InviteSpec {
        reusable: args.reusable,
        expires_in: args.expires,
    });
    let mut target = Target::open(&data_dir, &args.keystore).await?;
    let result = card(&mut target, invite).await;
    let local = matches!(target, Target::Local(_));
    target.close().await;
    let shared = result?;
    if let Some(path) = &args.qr {
        let signed = contacts::card_from_link(&shared.link).map_err(|e| e.to_string())?;
        let png = contacts::card_qr_png(&signed).map_err(|e| e.to_string())?;
        std::fs::write(path, png).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        eprintln!("Wrote the card's QR code to {}.", path.display());
    }
    if let Some(invite) = &shared.invite {
        eprintln!(
            "The card carries a {} invite until {} (token {}).",
            if invite.reusable { "reusable" } else { "one-time" },
            format::date_time(invite.expires_at_ms),
            invite.token
        );
    }
    if local {
        eprintln!("No node is running with this data directory, so the card lists no addresses.");
    }
    println!("{}", shared.link);
    Ok(())
}

async fn card(target: &mut Target, invite: Option<InviteSpec>) -> Result<SharedCard, String> {
    match target {
        Target::Running(client) => {
            let request = invite.map(|spec| InviteRequest {
                reusable: spec.reusable,
                expires_in_secs: spec.expires_in.as_secs(),
            });
            client.contact_card(request).await.map_err(|e| e.to_string())
        }
        Target::Local(node) => node
            .contacts()
            .my_card(invite)
            .await
            .map(|card| SharedCard::of(&card))
            .map_err(|e| contact_error(&e)),
    }
}

async fn add(target: &mut Target, link: &str) -> Result<Contact, String> {
    match target {
        Target::Running(client) => client.add_contact(link).await.map_err(|e| e.to_string()),
        Target::Local(node) => node.contacts().add_from_link(link).await.map_err(|e| contact_error(&e)),
    }
}

async fn redeem(target: &mut Target, link: &str) -> Result<Contact, String> {
    match target {
        Target::Running(client) => client.redeem_contact(link).await.map_err(|e| e.to_string()),
        Target::Local(node) => node.contacts().redeem_link(link).await.map_err(|e| match e {
            contacts::RedeemError::Card(error) => contact_error(&error),
            other => other.to_string(),
        }),
    }
}

async fn list(target: &mut Target) -> Result<Vec<Contact>, String> {
    match target {
        Target::Running(client) => client.contacts().await.map_err(|e| e.to_string()),
        Target::Local(node) => node.contacts().list().await.map_err(|e| contact_error(&e)),
    }
}

async fn remove(target: &mut Target, party_id: &str) -> Result<(), String> {
    match target {
        Target::Running(client) => client.remove_contact(party_id).await.map_err(|e| e.to_string()),
        Target::Local(node) => node.contacts().remove(party_id).await.map_err(|e| contact_error(&e)),
    }
}

/// A contact error in words, with the keystore hints of node errors.
fn contact_error(error: &contacts::ContactError) -> String {
    match error {
        contacts::ContactError::Node(e) => keystore_hint(e),
        other => other.to_string(),
    }
}

/// One contact on one line.
fn describe(contact: &Contact) -> String {
    format!(
        "{}  {}  (added {})",
        contact.display_name,
        contact.party_id,
        format::date_time(contact.added_at_ms)
    )
}

fn read_image(path: &Path) -> Result<Vec<u8>, String> {
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|file| file.take(MAX_IMAGE_BYTES + 1).read_to_end(&mut bytes))
        .map_err(|e| format!("cannot read the image {}: {e}", path.display()))?;
    if bytes.len() as u64 > MAX_IMAGE_BYTES {
        return Err(format!("{} is too large to read as an image", path.display()));
    }
    Ok(bytes)
}

/// A duration such as `90s`, `30m`, `24h` or `7d` (a bare number is hours).
pub(crate) fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (number, unit) = match text.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => text.split_at(i),
        None => (text, "h"),
    };
    let count: u64 = number
        .parse()
        .map_err(|_| format!("\"{text}\" is not a duration like 30m, 24h or 7d"))?;
    let secs = match unit.trim() {
        "s" => 1,
        "m" => 60,
        "h" => 3_600,
        "d" => 86_400,
        _ => return Err(format!("\"{text}\" is not a duration like 30m, 24h or 7d")),
    };
    if count == 0 {
        return Err("an invite must stay valid for some time".to_owned());
    }
    Ok(Duration::from_secs(count.saturating_mul(secs)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_with_their_unit() {
        assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("30m"), Ok(Duration::from_secs(1_800)));
        assert_eq!(parse_duration("24h"), Ok(Duration::from_secs(86_400)));
        assert_eq!(parse_duration("7d"), Ok(Duration::from_secs(604_800)));
        assert_eq!(parse_duration("2"), Ok(Duration::from_secs(7_200)));
        assert!(parse_duration("0h").is_err());
        assert!(parse_duration("1w").is_err());
        assert!(parse_duration("h").is_err());
    }
}
