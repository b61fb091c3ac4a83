//! `werktafel-export-load`: `/healthz` latency while the worst note a
//! participant may write is summarised and exported in a loop (issue 10,
//! items 1 and 6). Starts the server at `$WERKTAFEL_BIN` (a release build;
//! pin it with a wrapper that runs `taskset -c 0 …`), writes one note of
//! unique words as large as one message may be at tables `a` and `b`, then
//! runs `--loops` tasks that each fetch the summary and every export over and
//! over while one task times `GET /healthz` every 10 ms. With `--churn`, a
//! writer adds a small note before every round, so no export can come from a
//! cache: the worst case. Prints p50, p99 and max of `/healthz`, and how the
//! export requests ended.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use clap::Parser;
use tokio::sync::Mutex;
use werktafel_shared::schema::{self, Lane, NoteColor, NoteDraft};
use werktafel_tests::{Client, Server};

#[derive(Parser, Debug)]
#[command(name = "werktafel-export-load")]
struct Cli {
    /// Seconds to measure.
    #[arg(long, default_value_t = 20)]
    secs: u64,
    /// Parallel summary/export loops.
    #[arg(long, default_value_t = 2)]
    loops: usize,
    /// Bytes of the worst note (default: the default --max-message-bytes, less room for framing).
    #[arg(long, default_value_t = 8 * 1024 * 1024 - 64 * 1024)]
    note_bytes: usize,
    /// Change a table before every round, so every export is rendered anew.
    #[arg(long)]
    churn: bool,
}

const PATHS: [&str; 5] = [
    "/api/events/atelierdag-2022/summary",
    "/api/events/atelierdag-2022/export.zip",
    "/api/events/atelierdag-2022/export.xlsx",
    "/api/events/atelierdag-2022/export.md",
    "/api/events/atelierdag-2022/export.csv",
];

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let server = Server::start().await?;
    let text = unique_words(cli.note_bytes);
    let mut keep = Vec::new();
    for table in ["a", "b"] {
        let writer = Client::connect(&server, table).await?;
        writer.synced().await?;
        writer.edit(|txn| {
            schema::insert_note(
                txn,
                &NoteDraft {
                    id: "worst".into(),
                    text: text.clone(),
                    lane: Lane::Vervolgstap,
                    color: NoteColor::Geel,
                    x: 0.0,
                    y: 0.0,
                    author: "x".into(),
                    author_id: "x".into(),
                    now_ms: 0,
                },
            );
        });
        let witness = Client::connect(&server, table).await?;
        witness
            .wait_for("the worst note", |_| {
                witness.notes().iter().any(|n| n.id == "worst")
            })
            .await?;
        keep.push((writer, witness));
    }
    eprintln!(
        "note of {} bytes at tables a and b; {} loops{} for {} s",
        text.len(),
        cli.loops,
        if cli.churn { " with churn" } else { "" },
        cli.secs
    );
    let churn = Arc::new(Mutex::new(Client::connect(&server, "c").await?));
    let stop = Arc::new(AtomicBool::new(false));
    let key = server.keys.facilitate.clone();
    let mut loops = Vec::new();
    for l in 0..cli.loops {
        let (addr, key, stop, churn) = (
            server.addr.clone(),
            key.clone(),
            stop.clone(),
            churn.clone(),
        );
        let churning = cli.churn;
        loops.push(tokio::spawn(async move {
            let mut statuses: std::collections::BTreeMap<u16, usize> = Default::default();
            let mut round = 0u64;
            while !stop.load(Ordering::Relaxed) {
                round += 1;
                if churning {
                    let client = churn.lock().await;
                    client.edit(|txn| {
                        schema::insert_note(
                            txn,
                            &NoteDraft {
                                id: format!("churn-{l}-{round}"),
                                text: "klein".into(),
                                lane: Lane::Goed,
                                color: NoteColor::Geel,
                                x: 0.0,
                                y: 0.0,
                                author: "x".into(),
                                author_id: "x".into(),
                                now_ms: 0,
                            },
                        );
                    });
                }
                for path in PATHS {
                    let path = format!("{path}?key={key}");
                    let status = fetch(&addr, &path).await.unwrap_or(0);
                    *statuses.entry(status).or_default() += 1;
                }
            }
            statuses
        }));
    }
    // The probe runs on its own thread with blocking sockets, so the loops'
    // work in this process never delays it: it times the server only.
    let probe_addr = server.addr.clone();
    let secs = cli.secs;
    let probe = std::thread::spawn(move || probe_healthz(&probe_addr, Duration::from_secs(secs)));
    let mut latencies = tokio::task::spawn_blocking(move || probe.join())
        .await?
        .map_err(|_| anyhow::anyhow!("the probe panicked"))?;
    stop.store(true, Ordering::Relaxed);
    let mut statuses: std::collections::BTreeMap<u16, usize> = Default::default();
    for l in loops {
        for (status, n) in l.await? {
            *statuses.entry(status).or_default() += n;
        }
    }
    latencies.sort();
    let at = |q: f64| latencies[((latencies.len() as f64 - 1.0) * q).round() as usize];
    println!(
        "healthz n={} p50={:.1?} p99={:.1?} max={:.1?}; summary/export requests by status: {statuses:?}",
        latencies.len(),
        at(0.5),
        at(0.99),
        latencies.last().copied().unwrap_or_default()
    );
    let (_, metrics) = server.get("/metrics").await?;
    for line in metrics
        .lines()
        .filter(|l| l.contains("export") && !l.starts_with('#'))
    {
        println!("{line}");
    }
    drop(keep);
    Ok(())
}

/// GETs `path` and reads the answer to its end without keeping it; the status.
async fn fetch(addr: &str, path: &str) -> anyhow::Result<u16> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await?;
    stream
        .write_all(
            format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").as_bytes(),
        )
        .await?;
    let mut buf = vec![0u8; 64 * 1024];
    let mut head = Vec::new();
    loop {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        if head.len() < 12 {
            head.extend_from_slice(&buf[..n.min(12)]);
        }
    }
    let status = String::from_utf8_lossy(&head)
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    Ok(status)
}

/// `GET /healthz` every 10 ms for `window`, with a blocking socket; each answer's time.
fn probe_healthz(addr: &str, window: Duration) -> Vec<Duration> {
    use std::io::{Read, Write};
    let mut latencies = Vec::new();
    let end = Instant::now() + window;
    while Instant::now() < end {
        let start = Instant::now();
        let answered = (|| -> std::io::Result<bool> {
            let mut stream = std::net::TcpStream::connect(addr)?;
            stream.set_read_timeout(Some(Duration::from_secs(30)))?;
            stream.write_all(
                format!("GET /healthz HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n")
                    .as_bytes(),
            )?;
            let mut answer = Vec::new();
            stream.read_to_end(&mut answer)?;
            Ok(answer.starts_with(b"HTTP/1.1 200"))
        })();
        let took = start.elapsed();
        if !matches!(answered, Ok(true)) {
            eprintln!("/healthz failed after {took:?}: {answered:?}");
        }
        latencies.push(took);
        std::thread::sleep(Duration::from_millis(10));
    }
    latencies
}

/// Distinct words of letters only, space-separated, `bytes` long at most.
fn unique_words(bytes: usize) -> String {
    let mut text = String::with_capacity(bytes);
    for i in 0.. {
        let mut word = String::from("w");
        let mut k: usize = i;
        loop {
            word.push(char::from(b'a' + (k % 26) as u8));
            k /= 26;
            if k == 0 {
                break;
            }
        }
        if text.len() + word.len() + 1 > bytes {
            break;
        }
        text.push_str(&word);
        text.push(' ');
    }
    text
}
