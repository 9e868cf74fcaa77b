//! `tallymesh tally …`: negotiating tallies and running chits on them,
//! through the running node (messages reach the partner from there).
//!
//! Amounts are typed in the tally's unit (`12.5` is 12.500 CHIP); every
//! command can print JSON for scripts.

use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};
use serde::Serialize;
use tallymesh_core::{Unit, Units};
use tallymesh_node::control::{Call, ControlClient};
use tallymesh_node::tallies::{
    ChitPage, ChitStatus, ChitView, ContractText, SettingInput, TallyDetail, TallyOffer, TallySide, TallySummary,
    TallyTerms, Who,
};

#[derive(Debug, Subcommand)]
pub enum TallyCommand {
    /// Offer a contact a new tally
    Offer(OfferArgs),
    /// Counter the partner's offer with new terms
    Counter(CounterArgs),
    /// Accept the partner's offer: the tally opens
    Accept(IdArgs),
    /// Refuse the partner's offer, or withdraw yours
    Refuse(RefuseArgs),
    /// Pay the partner on an open tally
    Pay(AmountArgs),
    /// Ask the partner to pay
    Invoice(AmountArgs),
    /// Pay the partner's invoice
    Approve(InvoiceArgs),
    /// Decline the partner's invoice
    Decline(InvoiceArgs),
    /// Change your trading variables or call on a tally
    Set(SetArgs),
    /// Ask to close a tally: it closes when its balance is zero
    Close(IdArgs),
    /// Show one tally with its latest chits
    Show(ShowArgs),
    /// List your tallies
    List(JsonArgs),
}

/// Which side of the tally we take.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum SideArg {
    /// The expected creditor: you will mostly sell to the partner
    Stock,
    /// The expected debtor: you will mostly buy from the partner
    Foil,
}

#[derive(Debug, Args)]
pub struct JsonArgs {
    /// Print JSON instead of text
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub struct OfferArgs {
    /// The contact's party id (`tallymesh contact list` shows them)
    #[arg(long, value_name = "PARTY_ID")]
    to: String,
    /// Your side
    #[arg(long, value_enum)]
    side: SideArg,
    /// The most the partner may come to owe you
    #[arg(long, value_name = "AMOUNT", allow_negative_numbers = true)]
    we_grant: String,
    /// The most you may come to owe the partner
    #[arg(long, value_name = "AMOUNT", default_value = "0", allow_negative_numbers = true)]
    they_grant: String,
    /// Days of notice you give before paying on demand
    #[arg(long, value_name = "DAYS", default_value_t = 30)]
    our_call: u32,
    /// Days of notice the partner gives
    #[arg(long, value_name = "DAYS", default_value_t = 30)]
    their_call: u32,
    /// A note both of you see
    #[arg(long, default_value = "")]
    memo: String,
    /// Hours the partner has to accept
    #[arg(long, value_name = "HOURS", default_value_t = 72)]
    expires_hours: u32,
    /// A device of your cadre that keeps the tally (repeat for each); by
    /// default every device of your party (`tallymesh cadre list`)
    #[arg(long = "node", value_name = "PEER_ID")]
    nodes: Vec<String>,
    /// The title of a contract the tally refers to (with --contract-file)
    #[arg(long, value_name = "TITLE", requires = "contract_file")]
    contract_title: Option<String>,
    /// A file holding the contract's text: its hash goes in the tally, the
    /// text along with the offer
    #[arg(long, value_name = "FILE", requires = "contract_title")]
    contract_file: Option<PathBuf>,
    #[command(flatten)]
    out: JsonArgs,
}

#[derive(Debug, Args)]
pub struct CounterArgs {
    /// The tally id
    tally_id: String,
    /// The most the partner may come to owe you
    #[arg(long, value_name = "AMOUNT", allow_negative_numbers = true)]
    we_grant: String,
    /// The most you may come to owe the partner
    #[arg(long, value_name = "AMOUNT", allow_negative_numbers = true)]
    they_grant: String,
    /// Days of notice you give
    #[arg(long, value_name = "DAYS", default_value_t = 30)]
    our_call: u32,
    /// Days of notice the partner gives
    #[arg(long, value_name = "DAYS", default_value_t = 30)]
    their_call: u32,
    /// A note both of you see
    #[arg(long, default_value = "")]
    memo: String,
    /// A device of your cadre that keeps the tally (repeat for each); by
    /// default every device of your party
    #[arg(long = "node", value_name = "PEER_ID")]
    nodes: Vec<String>,
    #[command(flatten)]
    out: JsonArgs,
}

#[derive(Debug, Args)]
pub struct IdArgs {
    /// The tally id
    tally_id: String,
    #[command(flatten)]
    out: JsonArgs,
}

#[derive(Debug, Args)]
pub struct RefuseArgs {
    /// The tally id
    tally_id: String,
    /// Why, for the partner
    #[arg(long, default_value = "")]
    reason: String,
    #[command(flatten)]
    out: JsonArgs,
}

#[derive(Debug, Args)]
pub struct AmountArgs {
    /// The tally id
    tally_id: String,
    /// The amount, in the tally's unit (e.g. 12.5)
    #[arg(allow_negative_numbers = true)]
    amount: String,
    /// A note the partner sees
    #[arg(long, default_value = "")]
    memo: String,
    #[command(flatten)]
    out: JsonArgs,
}

#[derive(Debug, Args)]
pub struct InvoiceArgs {
    /// The tally id
    tally_id: String,
    /// The invoice's id (`tallymesh tally show` lists open invoices)
    invoice: String,
    #[command(flatten)]
    out: JsonArgs,
}

#[derive(Debug, Args)]
pub struct SetArgs {
    /// The tally id
    tally_id: String,
    /// The balance you want to reach through lifts
    #[arg(long, value_name = "AMOUNT", allow_negative_numbers = true)]
    target: Option<String>,
    /// The most you accept through lifts
    #[arg(long, value_name = "AMOUNT", allow_negative_numbers = true)]
    bound: Option<String>,
    /// Your fee for lifting beyond the target, in percent
    #[arg(long, value_name = "PERCENT", allow_hyphen_values = true)]
    reward: Option<String>,
    /// Your fee for reverse lifts, in percent
    #[arg(long, value_name = "PERCENT", allow_hyphen_values = true)]
    clutch: Option<String>,
    /// Days of notice you give before paying on demand
    #[arg(long, value_name = "DAYS")]
    call: Option<u32>,
    #[command(flatten)]
    out: JsonArgs,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The tally id
    tally_id: String,
    /// How many of the latest chits to show
    #[arg(long, value_name = "N", default_value_t = 20)]
    chits: u32,
    #[command(flatten)]
    out: JsonArgs,
}

/// Runs one `tally` command.
pub async fn run(data_dir: PathBuf, command: TallyCommand) -> Result<(), String> {
    let mut client = ControlClient::connect(&data_dir).await.map_err(|e| {
        format!("{e}\nTally commands need the running node: start it with `tallymesh node run` or the app.")
    })?;
    match command {
        TallyCommand::Offer(args) => {
            let contract = match (args.contract_title, args.contract_file) {
                (Some(title), Some(file)) => Some(ContractText {
                    title,
                    text: std::fs::read_to_string(&file)
                        .map_err(|e| format!("cannot read the contract file {}: {e}", file.display()))?,
                }),
                _ => None,
            };
            let offer = TallyOffer {
                party_id: args.to,
                side: match args.side {
                    SideArg::Stock => TallySide::Stock,
                    SideArg::Foil => TallySide::Foil,
                },
                we_grant: args.we_grant,
                they_grant: args.they_grant,
                our_call: args.our_call,
                their_call: args.their_call,
                memo: args.memo,
                contract,
                expires_in_hours: args.expires_hours,
                our_nodes: (!args.nodes.is_empty()).then_some(args.nodes),
            };
            summary(ask(&mut client, Call::TallyOffer { offer }).await?, args.out.json)
        }
        TallyCommand::Counter(args) => {
            let terms = TallyTerms {
                we_grant: args.we_grant,
                they_grant: args.they_grant,
                our_call: args.our_call,
                their_call: args.their_call,
                memo: args.memo,
                our_nodes: (!args.nodes.is_empty()).then_some(args.nodes),
            };
            let tally_id = args.tally_id;
            summary(
                ask(&mut client, Call::TallyCounter { tally_id, terms }).await?,
                args.out.json,
            )
        }
        TallyCommand::Accept(args) => {
            let tally_id = args.tally_id;
            summary(ask(&mut client, Call::TallyAccept { tally_id }).await?, args.out.json)
        }
        TallyCommand::Refuse(args) => {
            let (tally_id, reason) = (args.tally_id, args.reason);
            summary(
                ask(&mut client, Call::TallyRefuse { tally_id, reason }).await?,
                args.out.json,
            )
        }
        TallyCommand::Pay(args) => {
            let (tally_id, amount, memo) = (args.tally_id, args.amount, args.memo);
            chit(
                ask(&mut client, Call::TallyPay { tally_id, amount, memo }).await?,
                args.out.json,
            )
        }
        TallyCommand::Invoice(args) => {
            let (tally_id, amount, memo) = (args.tally_id, args.amount, args.memo);
            chit(
                ask(&mut client, Call::TallyInvoice { tally_id, amount, memo }).await?,
                args.out.json,
            )
        }
        TallyCommand::Approve(args) => {
            let (tally_id, invoice) = (args.tally_id, args.invoice);
            chit(
                ask(&mut client, Call::TallyApprove { tally_id, invoice }).await?,
                args.out.json,
            )
        }
        TallyCommand::Decline(args) => {
            let (tally_id, invoice) = (args.tally_id, args.invoice);
            chit(
                ask(&mut client, Call::TallyDecline { tally_id, invoice }).await?,
                args.out.json,
            )
        }
        TallyCommand::Set(args) => {
            let setting = SettingInput {
                target: args.target,
                bound: args.bound,
                reward: args.reward,
                clutch: args.clutch,
                call: args.call,
            };
            let tally_id = args.tally_id;
            chit(
                ask(&mut client, Call::TallySet { tally_id, setting }).await?,
                args.out.json,
            )
        }
        TallyCommand::Close(args) => {
            let tally_id = args.tally_id;
            chit(ask(&mut client, Call::TallyClose { tally_id }).await?, args.out.json)
        }
        TallyCommand::Show(args) => {
            let tally_id = args.tally_id;
            let detail: TallyDetail = read(
                ask(
                    &mut client,
                    Call::TallyShow {
                        tally_id: tally_id.clone(),
                    },
                )
                .await?,
            )?;
            let page: ChitPage = read(
                ask(
                    &mut client,
                    Call::TallyChits {
                        tally_id,
                        before: None,
                        limit: args.chits,
                    },
                )
                .await?,
            )?;
            if args.out.json {
                #[derive(Serialize)]
                struct Shown<'a> {
                    tally: &'a TallyDetail,
                    chits: &'a [ChitView],
                }
                return print_json(&Shown {
                    tally: &detail,
                    chits: &page.chits,
                });
            }
            println!("{}", describe_detail(&detail, &page.chits));
            Ok(())
        }
        TallyCommand::List(args) => {
            let list: Vec<TallySummary> = read(ask(&mut client, Call::TallyList).await?)?;
            if args.json {
                return print_json(&list);
            }
            if list.is_empty() {
                println!("No tallies yet. Offer one with `tallymesh tally offer --to PARTY_ID ...`.");
            }
            for tally in &list {
                println!("{}", describe_summary(tally));
            }
            Ok(())
        }
    }
}

async fn ask(client: &mut ControlClient, call: Call) -> Result<serde_json::Value, String> {
    client.call(call).await.map_err(|e| e.to_string())
}

fn read<T: serde::de::DeserializeOwned>(value: serde_json::Value) -> Result<T, String> {
    serde_json::from_value(value).map_err(|e| format!("the node's answer does not read: {e}"))
}

fn print_json<T: Serialize>(value: &T) -> Result<(), String> {
    println!("{}", serde_json::to_string_pretty(value).map_err(|e| e.to_string())?);
    Ok(())
}

fn summary(value: serde_json::Value, json: bool) -> Result<(), String> {
    let tally: TallySummary = read(value)?;
    if json {
        return print_json(&tally);
    }
    println!("{}", describe_summary(&tally));
    Ok(())
}

fn chit(value: serde_json::Value, json: bool) -> Result<(), String> {
    let chit: ChitView = read(value)?;
    if json {
        return print_json(&chit);
    }
    println!("{}", chit.id);
    eprintln!("Signed and submitted; it is pending until the tally network certifies it.");
    Ok(())
}

fn unit_of(tally: &TallySummary) -> Unit {
    Unit::new(&tally.unit.code, tally.unit.scale).unwrap_or_else(|_| Unit::chip())
}

/// One line per tally: id, partner, stage, balance and limits.
pub fn describe_summary(tally: &TallySummary) -> String {
    let unit = unit_of(tally);
    let stage = match (tally.stage, tally.waiting_for, tally.expired) {
        (_, Some(_), true) => "offer expired".to_owned(),
        (_, Some(Who::Us), false) => "offered, waiting for you".to_owned(),
        (_, Some(Who::Partner), false) => "offered, waiting for the partner".to_owned(),
        (stage, None, _) => format!("{stage:?}").to_lowercase(),
    };
    let mut line = format!(
        "{}  {}  {}  balance {} (they may owe up to {}, you up to {})",
        tally.id,
        tally.partner_name,
        stage,
        unit.format(Units::new(tally.balance)),
        unit.format(Units::new(tally.we_grant)),
        unit.format(Units::new(tally.they_grant)),
    );
    if let Some(wait) = &tally.waiting_for_nodes {
        let whose = match wait.who {
            Who::Us => "your".to_owned(),
            Who::Partner => format!("{}'s", wait.name),
        };
        line.push_str(&format!(
            "\n  waiting for {whose} nodes ({} of {} up)",
            wait.up, wait.needed
        ));
    }
    line
}

/// A tally and its latest chits, as text.
pub fn describe_detail(detail: &TallyDetail, chits: &[ChitView]) -> String {
    let unit = unit_of(&detail.summary);
    let mut out = describe_summary(&detail.summary);
    if let Some(refusal) = &detail.refusal {
        let by = if refusal.by == Who::Us { "you" } else { "the partner" };
        out.push_str(&format!("\nRefused by {by}: {}", refusal.reason));
    }
    for invoice in &detail.open_invoices {
        let payee = if invoice.payee == Who::Us {
            "you ask"
        } else {
            "the partner asks"
        };
        out.push_str(&format!(
            "\nOpen invoice {}: {payee} {}",
            invoice.id,
            unit.format(Units::new(invoice.units))
        ));
    }
    for chit in chits {
        let status = match chit.status {
            ChitStatus::Pending => "pending",
            ChitStatus::Final => "final",
            ChitStatus::Refused => "refused",
        };
        let amount = chit.units.map(|u| unit.format(Units::new(u))).unwrap_or_default();
        out.push_str(&format!(
            "\n  {:?} {} {} {status} {}",
            chit.kind,
            if chit.by == Who::Us { "by you" } else { "by the partner" },
            amount,
            chit.memo
        ));
        if let Some(reason) = &chit.refused_reason {
            out.push_str(&format!(" ({reason})"));
        }
    }
    out
}
