//! Loopback figures for the network layer: connection setup over TCP and
//! QUIC, and request-response round trips with small and larger payloads.
//!
//! ```text
//! cargo run --release -p tallymesh-net --example net_bench
//! ```
//!
//! Two real nodes in one process on 127.0.0.1. Connection setup is timed
//! from the dial command to the dialler's `PeerConnected` event (transport
//! handshake, Noise or TLS, Yamux); the connection is then closed and
//! dialled again. A round trip is one `Client::request` to an echo
//! responder: framing, the stream, the event loops and the channels on both
//! sides. Figures, not thresholds.

use std::error::Error;
use std::time::{Duration, Instant};

use tallymesh_net::{Client, Multiaddr, NetConfig, NetEvent, PeerId, ProtocolName, RequestProtocol};
use tokio::sync::mpsc::Receiver;

const CONNECTIONS: usize = 200;
const SMALL: usize = 100;
const LARGE: usize = 64 * 1024;
const SMALL_ROUND_TRIPS: usize = 2000;
const LARGE_ROUND_TRIPS: usize = 500;
const WARM_UP: usize = 50;
const PATIENCE: Duration = Duration::from_secs(30);

type BenchResult<T> = Result<T, Box<dyn Error>>;

#[derive(Debug, Clone, Copy)]
enum Transport {
    Tcp,
    Quic,
}

impl Transport {
    fn listen_address(self) -> &'static str {
        match self {
            Transport::Tcp => "/ip4/127.0.0.1/tcp/0",
            Transport::Quic => "/ip4/127.0.0.1/udp/0/quic-v1",
        }
    }

    fn name(self) -> &'static str {
        match self {
            Transport::Tcp => "TCP + Noise + Yamux",
            Transport::Quic => "QUIC",
        }
    }
}

fn echo() -> BenchResult<ProtocolName> {
    Ok(ProtocolName::new("echo")?)
}

fn config() -> BenchResult<NetConfig> {
    Ok(NetConfig {
        mdns: false,
        request_protocols: vec![RequestProtocol::new(echo()?).with_limits(128 * 1024, 128 * 1024)],
        ..NetConfig::default()
    })
}

/// Starts a node listening on `transport`; returns its client, events and address.
async fn start(seed: u8, transport: Transport) -> BenchResult<(Client, Receiver<NetEvent>, Multiaddr)> {
    let key = tallymesh_net::keypair_from_seed(&[seed; 32])?;
    let (client, mut events, event_loop) = tallymesh_net::new(key, config()?)?;
    tokio::spawn(event_loop.run());
    client.listen(transport.listen_address().parse()?).await?;
    let address = next(&mut events, |e| match e {
        NetEvent::Listening(address) => Some(address),
        _ => None,
    })
    .await?;
    Ok((client, events, address))
}

/// Waits (at most `PATIENCE`) for the first event `pick` accepts.
async fn next<T>(events: &mut Receiver<NetEvent>, mut pick: impl FnMut(NetEvent) -> Option<T>) -> BenchResult<T> {
    let wait = async {
        while let Some(event) = events.recv().await {
            if let Some(found) = pick(event) {
                return Ok(found);
            }
        }
        Err("the event loop stopped")
    };
    Ok(tokio::time::timeout(PATIENCE, wait).await??)
}

/// Answers every request with its own bytes, drops every other event.
fn serve_echo(mut events: Receiver<NetEvent>) {
    tokio::spawn(async move {
        while let Some(event) = events.recv().await {
            if let NetEvent::Request { bytes, responder, .. } = event {
                let _ = responder.respond(bytes);
            }
        }
    });
}

struct Summary {
    p50: Duration,
    p99: Duration,
    mean: Duration,
}

fn summarise(mut samples: Vec<Duration>) -> Summary {
    samples.sort();
    let at = |q: f64| {
        let rank = ((q * samples.len() as f64).ceil() as usize).clamp(1, samples.len());
        samples[rank - 1]
    };
    let total: Duration = samples.iter().sum();
    Summary {
        p50: at(0.50),
        p99: at(0.99),
        mean: total / samples.len().max(1) as u32,
    }
}

fn micros(d: Duration) -> String {
    format!("{:.0} µs", d.as_secs_f64() * 1e6)
}

async fn connection_setup(transport: Transport, seeds: (u8, u8)) -> BenchResult<Summary> {
    let (server, server_events, address) = start(seeds.1, transport).await?;
    serve_echo(server_events);
    let (client, mut events, _) = start(seeds.0, transport).await?;
    let server_id = server.local_peer_id();
    let mut samples = Vec::with_capacity(CONNECTIONS);
    for round in 0..WARM_UP + CONNECTIONS {
        let started = Instant::now();
        client.dial(address.clone()).await?;
        next(&mut events, |e| {
            matches!(e, NetEvent::PeerConnected(p) if p == server_id).then_some(())
        })
        .await?;
        if round >= WARM_UP {
            samples.push(started.elapsed());
        }
        client.disconnect(server_id).await?;
        next(&mut events, |e| {
            matches!(e, NetEvent::PeerDisconnected(p) if p == server_id).then_some(())
        })
        .await?;
    }
    client.shutdown().await;
    server.shutdown().await;
    Ok(summarise(samples))
}

async fn round_trips(transport: Transport, seeds: (u8, u8), size: usize, count: usize) -> BenchResult<Summary> {
    let (server, server_events, address) = start(seeds.1, transport).await?;
    serve_echo(server_events);
    let (client, mut events, _) = start(seeds.0, transport).await?;
    let server_id: PeerId = server.local_peer_id();
    client.dial(address).await?;
    next(&mut events, |e| {
        matches!(e, NetEvent::PeerConnected(p) if p == server_id).then_some(())
    })
    .await?;
    // The client's own events (pings) must not back up its loop.
    tokio::spawn(async move { while events.recv().await.is_some() {} });

    let protocol = echo()?;
    let payload = vec![0x5a; size];
    let mut samples = Vec::with_capacity(count);
    for round in 0..WARM_UP + count {
        let started = Instant::now();
        let answer = client.request(server_id, &protocol, payload.clone()).await?;
        let elapsed = started.elapsed();
        if answer.len() != size {
            return Err(format!("the echo has {} bytes, not {size}", answer.len()).into());
        }
        if round >= WARM_UP {
            samples.push(elapsed);
        }
    }
    client.shutdown().await;
    server.shutdown().await;
    Ok(summarise(samples))
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|line| line.starts_with("model name"))
                .and_then(|line| line.split(':').nth(1))
                .map(|model| model.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".into());
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    let load = std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into());
    format!("CPU: {cpu}; cores: {cores}; load average: {load}")
}

#[tokio::main]
async fn main() -> BenchResult<()> {
    println!("{}", machine());
    println!();
    println!("connection setup ({CONNECTIONS} dials after {WARM_UP} to warm up)");
    println!("| transport | p50 | p99 | mean |");
    println!("|---|---:|---:|---:|");
    for (transport, seeds) in [(Transport::Tcp, (1, 2)), (Transport::Quic, (3, 4))] {
        let s = connection_setup(transport, seeds).await?;
        println!(
            "| {} | {} | {} | {} |",
            transport.name(),
            micros(s.p50),
            micros(s.p99),
            micros(s.mean)
        );
    }
    println!();
    println!("request-response round trips (sequential, after {WARM_UP} to warm up)");
    println!("| transport | payload | round trips | p50 | p99 | mean |");
    println!("|---|---:|---:|---:|---:|---:|");
    let cases = [
        (Transport::Tcp, SMALL, SMALL_ROUND_TRIPS, (5, 6)),
        (Transport::Tcp, LARGE, LARGE_ROUND_TRIPS, (7, 8)),
        (Transport::Quic, SMALL, SMALL_ROUND_TRIPS, (9, 10)),
        (Transport::Quic, LARGE, LARGE_ROUND_TRIPS, (11, 12)),
    ];
    for (transport, size, count, seeds) in cases {
        let s = round_trips(transport, seeds, size, count).await?;
        println!(
            "| {} | {} B | {count} | {} | {} | {} |",
            transport.name(),
            size,
            micros(s.p50),
            micros(s.p99),
            micros(s.mean)
        );
    }
    println!();
    println!("{}", machine());
    Ok(())
}
