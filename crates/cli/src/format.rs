//! Plain-text renderings of node answers for people at a terminal.

use tallymesh_node::NodeStatus;

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
    out.push_str(&format!("  connected peers {}", status.connected_peers));
    out
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

/// `3725` → `1h 2m 5s`.
fn duration(secs: u64) -> String {
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    match (h, m) {
        (0, 0) => format!("{s}s"),
        (0, _) => format!("{m}m {s}s"),
        _ => format!("{h}h {m}m {s}s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        });
        assert!(text.contains("running for 1m 1s"), "{text}");
        assert!(
            text.contains("  listening on    /ip4/127.0.0.1/tcp/1\n                  /ip4/127.0.0.1/udp/2/quic-v1\n"),
            "{text}"
        );
        assert!(text.ends_with("connected peers 2"), "{text}");
    }
}
