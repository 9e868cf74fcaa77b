//! Plain-text renderings of node answers for people at a terminal.

use tallymesh_node::identity::RecoveryPhrase;
use tallymesh_node::{IdentityState, NodeStatus, Reachability};

/// The lines printed when `node run` has started.
pub fn started(status: &NodeStatus) -> String {
    let mut out = format!(
        "Tallymesh node {} running\n  data directory  {}\n  peer id         {}\n",
        status.version, status.data_dir, status.peer_id
    );
    push_addresses(&mut out, &status.listen_addrs);
    out.push_str("Press Ctrl-C to stop.");
    out
}

/// The answer of `tallymesh status`.
pub fn status(status: &NodeStatus) -> String {
    let mut out = format!(
        "Tallymesh node {} — running for {}\n  data directory  {}\n  database        {} (schema {})\n  logs            {}\n  peer id         {}\n",
        status.version,
        duration(status.uptime_secs),
        status.data_dir,
        status.database_path,
        status.schema_version,
        status.log_dir,
        status.peer_id,
    );
    push_addresses(&mut out, &status.listen_addrs);
    out.push_str(&format!("  reachability    {}\n", reachability(&status.reachability)));
    out.push_str(&format!("  connected peers {}", status.connected_peers));
    out
}

/// Whether the internet can dial the node, in words.
fn reachability(reachability: &Reachability) -> String {
    match reachability {
        Reachability::Public { address } => format!("reachable from the internet at {address}"),
        Reachability::Private => "behind NAT (reachable through relays and hole punching)".to_owned(),
        Reachability::Unknown => "not known yet".to_owned(),
    }
}

fn push_addresses(out: &mut String, addresses: &[String]) {
    if addresses.is_empty() {
        out.push_str("  listening on    (nothing yet)\n");
    }
    for (i, address) in addresses.iter().enumerate() {
        let label = if i == 0 { "listening on" } else { "" };
        out.push_str(&format!("  {label:<15} {address}\n"));
    }
}

/// The answer of `tallymesh id show` (and of create, import, restore).
pub fn identity(state: &IdentityState) -> String {
    match state {
        IdentityState::None => "No identity yet. Create one with `tallymesh id create NAME`, or restore one with \
             `tallymesh id import FILE` or `tallymesh id restore --phrase --name NAME`."
            .to_owned(),
        IdentityState::Ready {
            party_id,
            fingerprint,
            display_name,
            created_at_ms,
            device_peer_id,
        } => format!(
            "{display_name}\n  party id        {party_id}\n  fingerprint     {fingerprint}\n  created         {}\n  this device     {device_peer_id}",
            date_time(*created_at_ms)
        ),
        IdentityState::Member {
            party_id,
            fingerprint,
            display_name,
            device_peer_id,
        } => format!(
            "{display_name}\n  party id        {party_id}\n  fingerprint     {fingerprint}\n  this device     {device_peer_id}\n  a member device: it acts for the party; the party secret stays on the main device"
        ),
        IdentityState::KeyMissing {
            party_id,
            display_name,
            keystore,
            ..
        } => format!(
            "{display_name}\n  party id        {party_id}\n  WARNING: the party secret is missing from {keystore}.\n  Restore it with `tallymesh id restore --phrase --name NAME` or `tallymesh id import FILE`."
        ),
    }
}

/// One line about the identity, for `node run`.
pub fn identity_line(state: &IdentityState) -> String {
    match state {
        IdentityState::None => "No identity yet: create one with `tallymesh id create NAME`.".to_owned(),
        IdentityState::Ready {
            party_id, display_name, ..
        } => format!("  acting for      {display_name} ({party_id})"),
        IdentityState::Member {
            party_id, display_name, ..
        } => format!("  acting for      {display_name} ({party_id}) as a member device"),
        IdentityState::KeyMissing { party_id, keystore, .. } => {
            format!(
                "WARNING: the party secret of {party_id} is missing from {keystore}; restore it with `tallymesh id`."
            )
        }
    }
}

/// The recovery phrase as a numbered grid of four columns, for a terminal.
pub fn phrase_grid(phrase: &RecoveryPhrase) -> String {
    let words: Vec<&str> = phrase.words().collect();
    let mut out = String::new();
    for (row, chunk) in words.chunks(4).enumerate() {
        let line: Vec<String> = chunk
            .iter()
            .enumerate()
            .map(|(col, word)| format!("{:>2}. {word:<10}", row * 4 + col + 1))
            .collect();
        out.push_str(line.join(" ").trim_end());
        out.push('\n');
    }
    out.trim_end().to_owned()
}

/// Milliseconds since the Unix epoch as `YYYY-MM-DD hh:mm UTC`.
pub fn date_time(ms: u64) -> String {
    let secs = ms / 1000;
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let (year, month, day) = civil_from_days(days);
    let of_day = secs % 86_400;
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02} UTC",
        of_day / 3600,
        of_day / 60 % 60
    )
}

/// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's
/// `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, u32::try_from(month).unwrap_or(1), u32::try_from(day).unwrap_or(1))
}

/// `3725` → `1h 2m 5s`.
pub fn duration(secs: u64) -> String {
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    match (h, m) {
        (0, 0) => format!("{s}s"),
        (0, _) => format!("{m}m {s}s"),
        _ => format!("{h}h {m}m {s}s"),
    }
}

/// One connected peer on one line: whose device, round trip, addresses.
pub fn peer(peer: &tallymesh_node::peers::PeerInfo) -> String {
    let who = match (&peer.display_name, &peer.party_id) {
        (Some(name), Some(party)) => format!("{name} ({party})"),
        _ => "not a contact".to_owned(),
    };
    let rtt = peer
        .rtt_ms
        .map_or_else(|| "rtt unknown".to_owned(), |ms| format!("rtt {ms} ms"));
    format!("{}  {who}  {rtt}  {}", peer.peer_id, peer.addresses.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_shown_in_utc() {
        assert_eq!(date_time(0), "1970-01-01 00:00 UTC");
        assert_eq!(date_time(951_782_400_000), "2000-02-29 00:00 UTC");
        assert_eq!(date_time(1_795_000_000_000), "2026-11-18 11:06 UTC");
    }

    #[test]
    fn the_phrase_grid_numbers_every_word() {
        let phrase = RecoveryPhrase::new(format!("{}art", "abandon ".repeat(23)));
        let grid = phrase_grid(&phrase);
        assert_eq!(grid.lines().count(), 6);
        assert!(grid.starts_with(" 1. abandon"), "{grid}");
        assert!(grid.ends_with("24. art"), "{grid}");
    }

    #[test]
    fn identities_show_name_party_and_device() {
        let text = identity(&IdentityState::Ready {
            party_id: "did:key:z6MkX".into(),
            fingerprint: "z6MkX".into(),
            display_name: "Alice".into(),
            created_at_ms: 0,
            device_peer_id: "12D3KooW".into(),
        });
        assert!(text.starts_with("Alice\n  party id        did:key:z6MkX"), "{text}");
        assert!(text.contains("this device     12D3KooW"), "{text}");
        assert!(identity(&IdentityState::None).contains("tallymesh id create"));
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(duration(5), "5s");
        assert_eq!(duration(65), "1m 5s");
        assert_eq!(duration(3725), "1h 2m 5s");
    }

    #[test]
    fn status_lists_every_address_aligned() {
        let text = status(&NodeStatus {
            version: "0.1.0".into(),
            data_dir: "/d".into(),
            database_path: "/d/tallymesh.sqlite".into(),
            schema_version: 20261121080000,
            log_dir: "/d/logs".into(),
            started_at_ms: 0,
            uptime_secs: 61,
            peer_id: "12D3KooW".into(),
            listen_addrs: vec!["/ip4/127.0.0.1/tcp/1".into(), "/ip4/127.0.0.1/udp/2/quic-v1".into()],
            connected_peers: 2,
            reachability: Reachability::Private,
        });
        assert!(text.contains("running for 1m 1s"), "{text}");
        assert!(
            text.contains("  listening on    /ip4/127.0.0.1/tcp/1\n                  /ip4/127.0.0.1/udp/2/quic-v1\n"),
            "{text}"
        );
        assert!(
            text.contains("  reachability    behind NAT (reachable through relays and hole punching)\n"),
            "{text}"
        );
        assert!(text.ends_with("connected peers 2"), "{text}");
    }
}
