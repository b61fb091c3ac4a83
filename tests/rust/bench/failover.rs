//! `werktafel-failover`: how long a table is away when its owner dies, as a
//! stock y-websocket client sees it. Three nodes on one PostgreSQL database;
//! per kill, two stock clients (`tests/interop/peer.mjs`: yjs +
//! y-websocket's `WebsocketProvider`, with its own reconnect back-off of
//! 100 ms · 2ⁿ up to 2.5 s) on the two nodes that do not own the table, both
//! relayed to the owner. The owner is SIGKILLed; right after, client A adds
//! a note. The fail-over time is from the kill to client B receiving that
//! note: both providers noticed the loss, backed off, reconnected to their
//! node, one of the nodes took the table over once the dead owner's lease ran
//! out, and A's note was committed there and broadcast. After every kill a
//! fresh client of the new owner must hold every note B had seen: nothing
//! lost. The leases are the server's defaults unless `--lease-ttl-ms` /
//! `--heartbeat-ms` say otherwise.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Parser;
use serde_json::json;
use werktafel_tests::crash::SERVER_ARGS;
use werktafel_tests::{Client, NodePeer, Server};

const SECRET: &str = "het-geheim-van-de-failover-bench";
const OWNED: &str = "werktafel_cluster_tables_owned";
const NODES: usize = 3;

#[derive(Parser)]
#[command(
    about = "Kill a table's owner in a three-node cluster, time the fail-over a stock client sees"
)]
struct Cli {
    /// The database all nodes share: a PostgreSQL URL to an empty database
    /// of its own (the notes stay in it).
    #[arg(long)]
    store: String,
    #[arg(long, default_value_t = 20)]
    kills: usize,
    /// The nodes' `--lease-ttl-ms`; default: the server's (5,000).
    #[arg(long)]
    lease_ttl_ms: Option<u64>,
    /// The nodes' `--heartbeat-ms`; default: the server's (1,000).
    #[arg(long)]
    heartbeat_ms: Option<u64>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let dir = tempfile::tempdir()?;
    let started = Instant::now();
    let mut nodes = Vec::with_capacity(NODES);
    for i in 0..NODES {
        nodes.push(start_node(&cli, dir.path(), i).await?);
    }
    // The first client's node takes the table.
    let first = Client::connect(&nodes[0], "a").await?;
    first.synced().await?;
    drop(first);
    let mut owner = 0;
    let mut times = Vec::with_capacity(cli.kills);
    let mut seen = BTreeSet::new();
    for kill in 0..cli.kills {
        let (a, b) = ((owner + 1) % NODES, (owner + 2) % NODES);
        let mut on_a = NodePeer::start(&ws_base(&nodes[a]), "a", &nodes[a].keys.join).await?;
        let mut on_b = NodePeer::start(&ws_base(&nodes[b]), "a", &nodes[b].keys.join).await?;
        let before = format!("k{kill}-before");
        insert(&mut on_a, &before).await?;
        on_b.wait_for_notes("A's note before the kill", |n| {
            n.iter().any(|n| n.id == before)
        })
        .await?;

        nodes[owner].kill().await;
        let killed = Instant::now();
        let after = format!("k{kill}-after");
        insert(&mut on_a, &after).await?;
        on_b.wait_for_notes("A's note after the kill, through the new owner", |n| {
            n.iter().any(|n| n.id == after)
        })
        .await
        .with_context(|| format!("kill {kill}: B never received A's note"))?;
        let took = killed.elapsed();
        times.push(took);
        seen.extend(on_b.notes().await?.into_iter().map(|n| n.id));

        let new_owner = owner_among(&nodes, &[a, b]).await?;
        let check = Client::connect(&nodes[new_owner], "a").await?;
        check.synced().await?;
        let kept: BTreeSet<String> = check.notes().into_iter().map(|n| n.id).collect();
        let lost: Vec<&String> = seen.difference(&kept).collect();
        if !lost.is_empty() {
            bail!("kill {kill}: lost {lost:?}");
        }
        eprintln!(
            "kill {kill}: n{} killed, n{} took over, first delivery after {:.2} s",
            owner + 1,
            new_owner + 1,
            took.as_secs_f64()
        );
        drop(check);
        on_a.quit().await?;
        on_b.quit().await?;
        nodes[owner] = start_node(&cli, dir.path(), owner).await?;
        owner = new_owner;
    }
    times.sort_unstable();
    let ms = |q: f64| percentile(&times, q).as_secs_f64() * 1000.0;
    println!(
        "fail-over ({} kills, lease TTL {}, heartbeat {}): p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms; {} notes checked, 0 lost; {:.1} s",
        times.len(),
        cli.lease_ttl_ms
            .map_or("default (5000 ms)".into(), |v| format!("{v} ms")),
        cli.heartbeat_ms
            .map_or("default (1000 ms)".into(), |v| format!("{v} ms")),
        ms(50.0),
        ms(99.0),
        times.last().map_or(0.0, |t| t.as_secs_f64() * 1000.0),
        seen.len(),
        started.elapsed().as_secs_f64()
    );
    println!(
        "result {}",
        json!({
            "kills": times.len(),
            "lease_ttl_ms": cli.lease_ttl_ms,
            "heartbeat_ms": cli.heartbeat_ms,
            "p50_ms": ms(50.0),
            "p99_ms": ms(99.0),
            "times_ms": times.iter().map(|t| t.as_millis() as u64).collect::<Vec<_>>(),
            "notes_checked": seen.len(),
            "lost": 0,
        })
    );
    Ok(())
}

/// Node `i` on 127.0.0.(i+1), named n(i+1): restarted after a kill, it is
/// the same node again.
async fn start_node(cli: &Cli, dir: &Path, i: usize) -> anyhow::Result<Server> {
    let name = format!("n{}", i + 1);
    let (ttl, beat) = (
        cli.lease_ttl_ms.map(|v| v.to_string()),
        cli.heartbeat_ms.map(|v| v.to_string()),
    );
    let mut args: Vec<&str> = SERVER_ARGS.to_vec();
    args.extend([
        "--store",
        &cli.store,
        "--node-id",
        &name,
        "--cluster-secret",
        SECRET,
    ]);
    if let Some(ttl) = &ttl {
        args.extend(["--lease-ttl-ms", ttl]);
    }
    if let Some(beat) = &beat {
        args.extend(["--heartbeat-ms", beat]);
    }
    Server::start_at(&format!("127.0.0.{}:0", i + 1), dir, &args).await
}

/// Which of `candidates` owns the table now, by its `/metrics`.
async fn owner_among(nodes: &[Server], candidates: &[usize]) -> anyhow::Result<usize> {
    for &i in candidates {
        if nodes[i].metric(OWNED).await? > 0 {
            return Ok(i);
        }
    }
    bail!("no surviving node owns the table after the fail-over")
}

fn ws_base(server: &Server) -> String {
    format!("ws://{}/sync/atelierdag-2022", server.addr)
}

async fn insert(peer: &mut NodePeer, id: &str) -> anyhow::Result<()> {
    peer.request(json!({
        "cmd": "insertNote",
        "note": {
            "id": id, "text": format!("Notitie {id}"), "lane": "goed",
            "color": "geel", "x": 1, "y": 2, "author": "Bench",
            "authorId": "bench", "nowMs": 1_700_000_000_000_i64
        }
    }))
    .await?;
    Ok(())
}

/// The nearest-rank percentile of sorted `times`.
fn percentile(times: &[Duration], q: f64) -> Duration {
    if times.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((q / 100.0) * times.len() as f64).ceil() as usize;
    times[rank.clamp(1, times.len()) - 1]
}
