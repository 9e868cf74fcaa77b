//! `tallymesh chat …` and `tallymesh mailbox status`: end-to-end encrypted
//! conversations with contacts, through the running node, for scripts and
//! for checking a headless mailbox's health.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use serde::Serialize;
use tallymesh_node::chat::{ConversationView, MailboxStatus, MessageBody, MessageStatus, MessageView};
use tallymesh_node::control::{Call, ControlClient};

#[derive(Debug, Subcommand)]
pub enum ChatCommand {
    /// Send a text message to a contact (party id) or a conversation (id)
    Send(SendArgs),
    /// List your conversations with their unread counts
    List(JsonArgs),
    /// Show the latest messages of a conversation (or of the one with a contact)
    Show(ShowArgs),
    /// Mark a conversation read (its senders get read receipts)
    Read(ConversationArgs),
    /// Ask a contact to pay on a tally you share
    Request(RequestArgs),
    /// Pay a payment request of a conversation from its tally
    Pay(PayArgs),
    /// Make a group conversation with contacts
    Group(GroupArgs),
}

#[derive(Debug, Subcommand)]
pub enum MailboxCommand {
    /// What this node holds for its party's other devices, and who holds mail for it
    Status(JsonArgs),
}

#[derive(Debug, Args)]
pub struct JsonArgs {
    /// Print JSON instead of text
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub struct SendArgs {
    /// A contact's party id, or a conversation id
    to: String,
    /// The text
    text: String,
    #[command(flatten)]
    out: JsonArgs,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// A conversation id, or a contact's party id
    conversation: String,
    /// How many of the latest messages
    #[arg(long, default_value_t = 50)]
    limit: u32,
    #[command(flatten)]
    out: JsonArgs,
}

#[derive(Debug, Args)]
pub struct ConversationArgs {
    /// A conversation id
    conversation: String,
    #[command(flatten)]
    out: JsonArgs,
}

#[derive(Debug, Args)]
pub struct RequestArgs {
    /// A contact's party id, or a one-to-one conversation id
    to: String,
    /// The tally id
    tally_id: String,
    /// The amount, in the tally's unit
    amount: String,
    /// What for
    #[arg(long, default_value = "")]
    memo: String,
    #[command(flatten)]
    out: JsonArgs,
}

#[derive(Debug, Args)]
pub struct PayArgs {
    /// The conversation id
    conversation: String,
    /// The payment request's message id
    message_id: String,
    #[command(flatten)]
    out: JsonArgs,
}

#[derive(Debug, Args)]
pub struct GroupArgs {
    /// The group's name
    name: String,
    /// The contacts' party ids
    #[arg(required = true)]
    members: Vec<String>,
    #[command(flatten)]
    out: JsonArgs,
}

async fn client(data_dir: &std::path::Path) -> Result<ControlClient, String> {
    ControlClient::connect(data_dir).await.map_err(|e| {
        format!("{e}\nChat commands need the running node: start it with `tallymesh node run` or the app.")
    })
}

async fn ask<T: serde::de::DeserializeOwned>(client: &mut ControlClient, call: Call) -> Result<T, String> {
    let value = client.call(call).await.map_err(|e| e.to_string())?;
    serde_json::from_value(value).map_err(|e| format!("the node's answer does not read: {e}"))
}

fn print_json<T: Serialize>(value: &T) -> Result<(), String> {
    println!("{}", serde_json::to_string_pretty(value).map_err(|e| e.to_string())?);
    Ok(())
}

/// Runs a `chat` command.
pub async fn run(data_dir: PathBuf, command: ChatCommand) -> Result<(), String> {
    let mut client = client(&data_dir).await?;
    match command {
        ChatCommand::Send(args) => {
            let message: MessageView = ask(
                &mut client,
                Call::ChatSend {
                    to: args.to,
                    text: args.text,
                },
            )
            .await?;
            show_message(&message, args.out.json)
        }
        ChatCommand::List(out) => {
            let conversations: Vec<ConversationView> = ask(&mut client, Call::ChatList).await?;
            if out.json {
                return print_json(&conversations);
            }
            if conversations.is_empty() {
                println!("No conversations yet — send a contact a message with `tallymesh chat send PARTY_ID TEXT`.");
            }
            for c in &conversations {
                let presence = if c.online { "online" } else { "offline" };
                println!("{}  {}  {} unread  {presence}", c.id, c.title, c.unread);
            }
            Ok(())
        }
        ChatCommand::Show(args) => {
            let messages: Vec<MessageView> = ask(
                &mut client,
                Call::ChatShow {
                    conversation: args.conversation,
                    limit: Some(args.limit),
                },
            )
            .await?;
            if args.out.json {
                return print_json(&messages);
            }
            for message in &messages {
                println!("{}", line(message));
            }
            Ok(())
        }
        ChatCommand::Read(args) => {
            let read: serde_json::Value = ask(
                &mut client,
                Call::ChatRead {
                    conversation: args.conversation,
                },
            )
            .await?;
            if args.out.json {
                return print_json(&read);
            }
            println!("{} marked read", read["count"]);
            Ok(())
        }
        ChatCommand::Request(args) => {
            let message: MessageView = ask(
                &mut client,
                Call::ChatRequestPayment {
                    to: args.to,
                    tally_id: args.tally_id,
                    amount: args.amount,
                    memo: args.memo,
                },
            )
            .await?;
            show_message(&message, args.out.json)
        }
        ChatCommand::Pay(args) => {
            let message: MessageView = ask(
                &mut client,
                Call::ChatPay {
                    conversation: args.conversation,
                    message_id: args.message_id,
                },
            )
            .await?;
            show_message(&message, args.out.json)
        }
        ChatCommand::Group(args) => {
            let conversation: ConversationView = ask(
                &mut client,
                Call::ChatGroupCreate {
                    name: args.name,
                    members: args.members,
                },
            )
            .await?;
            if args.out.json {
                return print_json(&conversation);
            }
            println!(
                "{}  {}  {} members",
                conversation.id,
                conversation.title,
                conversation.members.len()
            );
            Ok(())
        }
    }
}

/// Runs a `mailbox` command.
pub async fn run_mailbox(data_dir: PathBuf, command: MailboxCommand) -> Result<(), String> {
    let mut client = client(&data_dir).await?;
    match command {
        MailboxCommand::Status(out) => {
            let status: MailboxStatus = ask(&mut client, Call::MailboxStatus).await?;
            if out.json {
                return print_json(&status);
            }
            println!(
                "this device {}",
                if status.chats {
                    "chats and holds mail for the party's other devices"
                } else {
                    "holds mail only"
                }
            );
            if status.held.is_empty() {
                println!("holding nothing");
            }
            for held in &status.held {
                println!(
                    "for {} ({}): {} items, {} bytes, {} one-time keys",
                    held.device_name.as_deref().unwrap_or("a device"),
                    held.peer_id,
                    held.items,
                    held.bytes,
                    held.keys
                );
            }
            for mailbox in &status.mailboxes {
                println!("mail for this device is held by {mailbox}");
            }
            Ok(())
        }
    }
}

fn show_message(message: &MessageView, json: bool) -> Result<(), String> {
    if json {
        return print_json(message);
    }
    println!("{}", line(message));
    Ok(())
}

/// One message as a line: id, who, status, what. Never logged.
fn line(message: &MessageView) -> String {
    let who = if message.outgoing {
        "you".to_owned()
    } else {
        message.sender_name.clone().unwrap_or_else(|| "note".to_owned())
    };
    let status = match message.status {
        MessageStatus::Pending => "pending",
        MessageStatus::Held => "held by a mailbox",
        MessageStatus::Delivered => "delivered",
        MessageStatus::Read => "read",
        MessageStatus::Received => "new",
    };
    let what = match &message.body {
        MessageBody::Text { text } => text.clone(),
        MessageBody::PaymentRequest {
            amount,
            memo,
            paid_chit,
            ..
        } => format!(
            "asks to be paid {amount}{}{}",
            if memo.is_empty() {
                String::new()
            } else {
                format!(" for {memo}")
            },
            if paid_chit.is_some() { " (paid)" } else { "" }
        ),
        MessageBody::Payment { amount, .. } => format!("paid {amount}"),
        MessageBody::TallyEvent { what, .. } => format!("tally: {what}"),
        MessageBody::TokenOffer => "a token offer (not supported yet)".to_owned(),
    };
    format!("{}  {who}  [{status}]  {what}", message.id)
}
