//! `tallymesh trust …`: scores, attestations and evidence, through the
//! running node.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Subcommand, ValueEnum};
use serde::Serialize;
use tallymesh_core::trust::{TrustConfig, TrustLevel};
use tallymesh_node::control::ControlClient;
use tallymesh_node::trust::{Attest, AttestationView, EvidenceView, TrustDetail, TrustScore};

use crate::format;

#[derive(Debug, Subcommand)]
pub enum TrustCommand {
    /// Every score this node keeps, or everything behind one: its events, attestations and evidence
    Show(ShowArgs),
    /// Sign an attestation about a party and hand it to contacts and the network
    Attest(AttestArgs),
    /// The verified evidence of misbehaviour this node keeps
    Evidence(JsonArgs),
    /// The parameters the running node scores trust with
    Config(JsonArgs),
}

/// How `node run` scores trust: a file of parameters, and flags that win
/// over it.
#[derive(Debug, Args)]
pub struct TrustArgs {
    /// Trust parameters from a JSON file, by the names docs/protocol/trust.md
    /// gives them (`{"decayRate": 0.1, "decayIntervalMs": 1800000}`); those
    /// left out keep their defaults
    #[arg(long, value_name = "FILE")]
    trust_config: Option<PathBuf>,
    /// The share of a trust score's distance to the start that decay removes
    /// per interval, from 0 to 1 [default: 0.05]
    #[arg(long, value_name = "RATE")]
    trust_decay_rate: Option<f64>,
    /// The interval of the decay rate, such as 30m, 1h or 7d [default: 1h]
    #[arg(long, value_name = "DURATION", value_parser = parse_interval)]
    trust_decay_interval: Option<Duration>,
}

impl TrustArgs {
    /// The trust parameters: the defaults, then the file, then the flags;
    /// checked, so a node never starts with a contradiction.
    pub fn config(&self) -> Result<TrustConfig, String> {
        let mut config = match &self.trust_config {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| format!("cannot read the trust parameters in {}: {e}", path.display()))?;
                serde_json::from_str::<TrustConfig>(&text)
                    .map_err(|e| format!("the trust parameters in {} do not read: {e}", path.display()))?
            }
            None => TrustConfig::default(),
        };
        if let Some(rate) = self.trust_decay_rate {
            config.decay_rate = rate;
        }
        if let Some(interval) = self.trust_decay_interval {
            config.decay_interval_ms = u64::try_from(interval.as_millis()).unwrap_or(u64::MAX);
        }
        config.validate()?;
        Ok(config)
    }
}

/// A decay interval: a duration that is not zero.
fn parse_interval(text: &str) -> Result<Duration, String> {
    let duration = crate::contact::parse_duration(text)
        .map_err(|_| format!("\"{}\" is not an interval like 30m, 1h or 7d", text.trim()))?;
    Ok(duration)
}

#[derive(Debug, Args)]
pub struct JsonArgs {
    /// Print JSON instead of text
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// A party id (`did:key:…`) or a peer id; every subject when absent
    subject: Option<String>,
    #[command(flatten)]
    out: JsonArgs,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum KindArg {
    /// I know who this is
    Identity,
    /// This party keeps its tallies
    Trade,
    /// This party's nodes serve well
    Service,
}

#[derive(Debug, Args)]
pub struct AttestArgs {
    /// The party attested (`did:key:…`)
    party_id: String,
    /// How much, from 0 to 1
    #[arg(long)]
    score: f64,
    /// What the attestation vouches for
    #[arg(long, value_enum, default_value = "trade")]
    kind: KindArg,
    /// For how many days it counts (1 to 366)
    #[arg(long, default_value_t = 365)]
    days: u32,
    #[command(flatten)]
    out: JsonArgs,
}

/// Runs one `trust` command.
pub async fn run(data_dir: PathBuf, command: TrustCommand) -> Result<(), String> {
    let mut client = ControlClient::connect(&data_dir).await.map_err(|e| {
        format!("{e}\nTrust commands need the running node: start it with `tallymesh node run` or the app.")
    })?;
    match command {
        TrustCommand::Show(args) => match args.subject {
            Some(subject) => {
                let detail = client.trust_show(&subject).await.map_err(|e| e.to_string())?;
                if args.out.json {
                    return print_json(&detail);
                }
                print!("{}", detail_text(&detail));
                Ok(())
            }
            None => {
                let list = client.trust_list().await.map_err(|e| e.to_string())?;
                if args.out.json {
                    return print_json(&list);
                }
                if list.is_empty() {
                    println!("No scores yet: this node has not dealt with anyone.");
                }
                for score in &list {
                    println!("{}", score_line(score));
                }
                Ok(())
            }
        },
        TrustCommand::Attest(args) => {
            let attest = Attest {
                party_id: args.party_id,
                kind: match args.kind {
                    KindArg::Identity => "identity",
                    KindArg::Trade => "trade",
                    KindArg::Service => "service",
                }
                .to_owned(),
                score: args.score,
                valid_days: args.days,
            };
            let view = client.trust_attest(&attest).await.map_err(|e| e.to_string())?;
            if args.out.json {
                return print_json(&view);
            }
            println!("{}", attestation_line(&view));
            Ok(())
        }
        TrustCommand::Config(args) => {
            let config = client.trust_config().await.map_err(|e| e.to_string())?;
            if args.json {
                return print_json(&config);
            }
            print!("{}", config_text(&config));
            Ok(())
        }
        TrustCommand::Evidence(args) => {
            let evidence = client.trust_evidence().await.map_err(|e| e.to_string())?;
            if args.json {
                return print_json(&evidence);
            }
            if evidence.is_empty() {
                println!("No evidence of misbehaviour.");
            }
            for piece in &evidence {
                println!("{}", evidence_line(piece));
            }
            Ok(())
        }
    }
}

fn print_json<T: Serialize>(value: &T) -> Result<(), String> {
    println!("{}", serde_json::to_string_pretty(value).map_err(|e| e.to_string())?);
    Ok(())
}

fn config_text(c: &TrustConfig) -> String {
    let hours = |ms: u64| {
        // Shown to people: precision far beyond what they read.
        #[allow(clippy::cast_precision_loss)]
        let hours = ms as f64 / 3_600_000.0;
        hours
    };
    format!(
        "start                 {}\nvalid message         {:+}\ninvalid message       {:+}\ntimeout               {:+}\n\
         evidence              {:+}\ndecay                 {} per {} h\nattestation weight    {}\n\
         recommender threshold {}\ntrend window          {} h\nreputation weights    {} / {} / {}\n\
         relay threshold       {}\ndisconnect below      {}\noffline floor         {}\n",
        c.start,
        c.valid_message,
        -c.invalid_message,
        -c.timeout,
        -c.evidence_penalty,
        c.decay_rate,
        hours(c.decay_interval_ms),
        c.attestation_weight,
        c.recommender_threshold,
        hours(c.trend_window_ms),
        c.reputation_score_weight,
        c.reputation_trend_weight,
        c.reputation_statistics_weight,
        c.relay_threshold,
        c.disconnect_below,
        c.offline_floor,
    )
}

fn name_of(score: &TrustScore) -> String {
    match &score.display_name {
        Some(name) => format!("{name} ({})", score.subject),
        None => score.subject.clone(),
    }
}

/// The level in a word, as the app names it.
fn level_word(level: TrustLevel) -> &'static str {
    match level {
        TrustLevel::None => "untrusted",
        TrustLevel::Low => "low",
        TrustLevel::Neutral => "neutral",
        TrustLevel::Good => "good",
        TrustLevel::High => "high",
    }
}

fn score_line(score: &TrustScore) -> String {
    let flag = if score.convicted { "  evidence against it" } else { "" };
    format!(
        "{:.3} {:<9}  reputation {:.3}  {}{flag}",
        score.score,
        level_word(score.level),
        score.reputation,
        name_of(score)
    )
}

fn attestation_line(view: &AttestationView) -> String {
    let attester = view.attester_name.clone().unwrap_or_else(|| view.attester.clone());
    let subject = view.subject_name.clone().unwrap_or_else(|| view.subject.clone());
    let expired = if view.expired { ", expired" } else { "" };
    format!(
        "{attester} vouches for {subject}: {} at {:.2}, until {}{expired}",
        view.kind,
        view.score,
        format::date_time(view.expires_at_ms)
    )
}

fn evidence_line(piece: &EvidenceView) -> String {
    let who = match (&piece.party_name, &piece.party_id) {
        (Some(name), Some(id)) => format!("{name} ({id})"),
        (None, Some(id)) => id.clone(),
        _ => format!("device {}", piece.node),
    };
    format!(
        "{}  {who} {} [{}]",
        format::date_time(piece.received_at_ms),
        piece.summary,
        piece.kind
    )
}

fn detail_text(detail: &TrustDetail) -> String {
    let s = &detail.score;
    let mut out = format!(
        "{}\nscore       {:.3} ({})\nreputation  {:.3} (trend {:.3}, statistics {:.3}: {} kept, {} broken)\n",
        name_of(s),
        s.score,
        level_word(s.level),
        s.reputation,
        s.trend,
        s.statistics,
        s.kept,
        s.broken
    );
    if !detail.evidence.is_empty() {
        out.push_str("\nevidence\n");
        for piece in &detail.evidence {
            out.push_str(&format!("  {}\n", evidence_line(piece)));
        }
    }
    if !detail.attestations.is_empty() {
        out.push_str("\nattestations\n");
        for view in &detail.attestations {
            out.push_str(&format!("  {}\n", attestation_line(view)));
        }
    }
    out.push_str("\nhistory (newest first)\n");
    if detail.events.is_empty() {
        out.push_str("  nothing yet\n");
    }
    for event in &detail.events {
        out.push_str(&format!(
            "  {}  {:+.3} → {:.3}  {}\n",
            format::date_time(event.at_ms),
            event.delta,
            event.score,
            event.reason
        ));
    }
    out
}
