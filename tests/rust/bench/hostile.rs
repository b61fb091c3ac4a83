//! The attackers of the `hostile` scenario (issue 10): while the workshop's
//! normal clients write, key-holders try to hurt everyone else at once —
//! a note built to make theme finding expensive, summary and export loops,
//! slow HTTP headers, hundreds of live-summary streams and a presence flood —
//! and a probe times `GET /healthz` throughout. The same run without
//! attackers (`--no-attack`) is the baseline the report is compared with.
//!
//! Every loop is bounded by the run's phases: attackers start with the
//! warm-up and stop at the drain; a refused request (429, a closed socket) is
//! counted and retried after [`RETRY_PAUSE`], never in a tight loop.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio_tungstenite::tungstenite::Message;
use werktafel_shared::schema::{self, Lane, NoteColor, NoteDraft};
use yrs::sync::awareness::{AwarenessUpdate, AwarenessUpdateEntry};
use yrs::sync::{Message as YMessage, SyncMessage};
use yrs::updates::encoder::Encode;
use yrs::{ClientID, Doc, ReadTxn, StateVector, Transact};

use crate::peer::Phase;

/// How long an attacker waits after a refusal before it tries again.
const RETRY_PAUSE: Duration = Duration::from_millis(250);
/// How often the probe asks for `/healthz`.
const PROBE_EVERY: Duration = Duration::from_millis(20);
/// A probe answer slower than this counts as this (and as a timeout).
const PROBE_TIMEOUT: Duration = Duration::from_secs(5);

/// How hard the attackers push; the defaults are issue 10's figures.
#[derive(Debug, Clone)]
pub struct Attack {
    /// Bytes of unique words in the theme bomb note, at tables a and b.
    pub bomb_bytes: usize,
    /// Parallel `export.zip` loops (item 6).
    pub export_loops: usize,
    /// Connections that send half a request head and wait (item 7).
    pub slow_headers: usize,
    /// `/summary/live` streams held open with the participant key (item 7).
    pub sse_streams: usize,
    /// Fake presences one socket announces per flood message (item 8).
    pub fake_presences: usize,
    /// Bytes of one oversized presence state (item 8).
    pub presence_bytes: usize,
}

impl Default for Attack {
    fn default() -> Self {
        Attack {
            bomb_bytes: 1024 * 1024,
            export_loops: 4,
            slow_headers: 100,
            sse_streams: 300,
            fake_presences: 1_000,
            presence_bytes: 4 * 1024 * 1024,
        }
    }
}

/// Where the attackers aim: the server and the keys they hold.
#[derive(Debug, Clone)]
pub struct Aim {
    pub addr: String,
    pub event: String,
    pub join_key: String,
    /// The plenary link's key, for exports; without it the export loops
    /// use the participant key (and are refused, which is also an attack).
    pub view_key: Option<String>,
}

/// What the attackers and the probe saw.
#[derive(Debug, Default)]
pub struct Counters {
    pub requests_ok: AtomicU64,
    pub requests_refused: AtomicU64,
    pub requests_failed: AtomicU64,
    pub sse_bytes: AtomicU64,
    pub slow_reconnects: AtomicU64,
    pub presence_closes: AtomicU64,
}

/// The running attack: its tasks, the probe and their counters.
pub struct Running {
    tasks: Vec<tokio::task::JoinHandle<()>>,
    probe: tokio::task::JoinHandle<Vec<u32>>,
    counters: Arc<Counters>,
}

/// The outcome: `/healthz` latencies and what the attackers got.
pub struct Outcome {
    pub healthz_us: Vec<u32>,
    pub healthz_timeouts: usize,
    pub counters: Arc<Counters>,
}

/// Starts the probe and, unless `attack` is `None`, the attackers. They run
/// until `phase` reaches [`Phase::Drain`].
pub fn start(aim: Aim, attack: Option<Attack>, phase: watch::Receiver<Phase>) -> Running {
    let counters = Arc::new(Counters::default());
    let probe = tokio::spawn(probe(aim.addr.clone(), phase.clone()));
    let mut tasks = Vec::new();
    if let Some(attack) = attack {
        let aim = Arc::new(aim);
        for table in ["a", "b"] {
            tasks.push(tokio::spawn(theme_bomb(
                aim.clone(),
                table,
                attack.bomb_bytes,
                counters.clone(),
            )));
        }
        let summary = format!("/api/events/{}/summary?key={}", aim.event, aim.join_key);
        tasks.push(tokio::spawn(get_loop(
            aim.clone(),
            summary,
            counters.clone(),
            phase.clone(),
        )));
        let export_key = aim.view_key.clone().unwrap_or_else(|| aim.join_key.clone());
        for format in std::iter::repeat_n("zip", attack.export_loops).chain(["md", "xlsx"]) {
            let path = format!("/api/events/{}/export.{format}?key={export_key}", aim.event);
            tasks.push(tokio::spawn(get_loop(
                aim.clone(),
                path,
                counters.clone(),
                phase.clone(),
            )));
        }
        for _ in 0..attack.slow_headers {
            tasks.push(tokio::spawn(slow_headers(
                aim.clone(),
                counters.clone(),
                phase.clone(),
            )));
        }
        for _ in 0..attack.sse_streams {
            tasks.push(tokio::spawn(live_summary(
                aim.clone(),
                counters.clone(),
                phase.clone(),
            )));
        }
        tasks.push(tokio::spawn(presence_flood(
            aim.clone(),
            attack,
            counters.clone(),
            phase,
        )));
    }
    Running {
        tasks,
        probe,
        counters,
    }
}

impl Running {
    /// Waits for the probe to end (at the drain) and stops the attackers.
    pub async fn finish(self) -> Outcome {
        let mut healthz_us = self.probe.await.unwrap_or_default();
        for task in &self.tasks {
            task.abort();
        }
        let timeout_us = PROBE_TIMEOUT.as_micros() as u32;
        let healthz_timeouts = healthz_us.iter().filter(|&&v| v >= timeout_us).count();
        healthz_us.sort_unstable();
        Outcome {
            healthz_us,
            healthz_timeouts,
            counters: self.counters,
        }
    }
}

impl Outcome {
    pub fn percentile_ms(&self, p: f64) -> Option<f64> {
        let n = self.healthz_us.len();
        if n == 0 {
            return None;
        }
        let rank = ((p / 100.0) * n as f64).ceil() as usize;
        Some(f64::from(self.healthz_us[rank.clamp(1, n) - 1]) / 1000.0)
    }

    pub fn json(&self, attacked: bool) -> serde_json::Value {
        let c = &self.counters;
        serde_json::json!({
            "attackers": attacked,
            "healthz_probes": self.healthz_us.len(),
            "healthz_p50_ms": self.percentile_ms(50.0),
            "healthz_p99_ms": self.percentile_ms(99.0),
            "healthz_max_ms": self.healthz_us.last().map(|&v| f64::from(v) / 1000.0),
            "healthz_timeouts": self.healthz_timeouts,
            "attack_requests_ok": c.requests_ok.load(Ordering::Relaxed),
            "attack_requests_refused": c.requests_refused.load(Ordering::Relaxed),
            "attack_requests_failed": c.requests_failed.load(Ordering::Relaxed),
            "sse_bytes_received": c.sse_bytes.load(Ordering::Relaxed),
            "slow_header_reconnects": c.slow_reconnects.load(Ordering::Relaxed),
            "presence_flood_closes": c.presence_closes.load(Ordering::Relaxed),
        })
    }
}

/// Times `GET /healthz` every [`PROBE_EVERY`] on a fresh connection, from the
/// warm-up to the drain; a probe that fails or times out counts as [`PROBE_TIMEOUT`].
async fn probe(addr: String, mut phase: watch::Receiver<Phase>) -> Vec<u32> {
    let _ = phase.wait_for(|p| *p >= Phase::Measure).await;
    let mut latencies = Vec::new();
    let mut tick = tokio::time::interval(PROBE_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    while *phase.borrow() == Phase::Measure {
        tick.tick().await;
        let started = Instant::now();
        let answered = tokio::time::timeout(PROBE_TIMEOUT, get(&addr, "/healthz")).await;
        let elapsed = match answered {
            Ok(Ok(200)) => started.elapsed(),
            _ => PROBE_TIMEOUT,
        };
        latencies.push(elapsed.as_micros().min(u128::from(u32::MAX)) as u32);
    }
    latencies
}

/// Writes one note of unique words at `table` (item 1): the shared themes
/// of the summary and of every export have to read it.
async fn theme_bomb(aim: Arc<Aim>, table: &'static str, bytes: usize, counters: Arc<Counters>) {
    let url = format!(
        "ws://{}/sync/{}/{table}?key={}",
        aim.addr, aim.event, aim.join_key
    );
    let Ok((mut ws, _)) = tokio_tungstenite::connect_async(&url).await else {
        counters.requests_failed.fetch_add(1, Ordering::Relaxed);
        return;
    };
    let mut text = String::with_capacity(bytes + 16);
    let mut i = 0u64;
    while text.len() < bytes {
        // The same words at both tables: every one is a theme shared by two.
        text.push_str(&format!("woord{i:x} "));
        i += 1;
    }
    let doc = Doc::new();
    let update = {
        let mut txn = doc.transact_mut();
        schema::insert_note(
            &mut txn,
            &NoteDraft {
                id: format!("bomb-{table}-{}", rand::random::<u32>()),
                text,
                lane: Lane::Goed,
                color: NoteColor::Geel,
                x: 0.0,
                y: 0.0,
                author: "aanvaller".into(),
                author_id: String::new(),
                now_ms: 0,
            },
        );
        drop(txn);
        doc.transact()
            .encode_state_as_update_v1(&StateVector::default())
    };
    let frame = YMessage::Sync(SyncMessage::Update(update)).encode_v1();
    match ws.send(Message::binary(frame)).await {
        Ok(()) => counters.requests_ok.fetch_add(1, Ordering::Relaxed),
        Err(_) => counters.requests_failed.fetch_add(1, Ordering::Relaxed),
    };
    // Keep reading so the server can deliver; the socket stays open for the run.
    while let Some(Ok(_)) = ws.next().await {}
}

/// `GET path` again and again until the drain (items 1 and 6).
async fn get_loop(
    aim: Arc<Aim>,
    path: String,
    counters: Arc<Counters>,
    mut phase: watch::Receiver<Phase>,
) {
    let _ = phase.wait_for(|p| *p >= Phase::Warmup).await;
    while *phase.borrow() < Phase::Drain {
        match get(&aim.addr, &path).await {
            Ok(200) => {
                counters.requests_ok.fetch_add(1, Ordering::Relaxed);
            }
            Ok(_) => {
                counters.requests_refused.fetch_add(1, Ordering::Relaxed);
                tokio::time::sleep(RETRY_PAUSE).await;
            }
            Err(_) => {
                counters.requests_failed.fetch_add(1, Ordering::Relaxed);
                tokio::time::sleep(RETRY_PAUSE).await;
            }
        }
    }
}

/// Opens a connection, sends half a request head and waits for the server
/// to give up on it; then does it again (item 7, slow headers).
async fn slow_headers(aim: Arc<Aim>, counters: Arc<Counters>, mut phase: watch::Receiver<Phase>) {
    let _ = phase.wait_for(|p| *p >= Phase::Warmup).await;
    while *phase.borrow() < Phase::Drain {
        let Ok(mut stream) = TcpStream::connect(&aim.addr).await else {
            counters.requests_failed.fetch_add(1, Ordering::Relaxed);
            tokio::time::sleep(RETRY_PAUSE).await;
            continue;
        };
        let _ = stream
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: slow\r\nX-Slow: ")
            .await;
        let mut buf = [0u8; 512];
        // Whatever the server does (a 408, a close), it ends the wait.
        let _ = stream.read(&mut buf).await;
        counters.slow_reconnects.fetch_add(1, Ordering::Relaxed);
        tokio::time::sleep(RETRY_PAUSE).await;
    }
}

/// Holds a live-summary stream open with the participant key, reading (and
/// counting) what it sends (item 7).
async fn live_summary(aim: Arc<Aim>, counters: Arc<Counters>, mut phase: watch::Receiver<Phase>) {
    let _ = phase.wait_for(|p| *p >= Phase::Warmup).await;
    let request = format!(
        "GET /api/events/{}/summary/live?key={} HTTP/1.1\r\nHost: {}\r\nAccept: text/event-stream\r\n\r\n",
        aim.event, aim.join_key, aim.addr
    );
    while *phase.borrow() < Phase::Drain {
        let Ok(mut stream) = TcpStream::connect(&aim.addr).await else {
            counters.requests_failed.fetch_add(1, Ordering::Relaxed);
            tokio::time::sleep(RETRY_PAUSE).await;
            continue;
        };
        if stream.write_all(request.as_bytes()).await.is_err() {
            counters.requests_failed.fetch_add(1, Ordering::Relaxed);
            tokio::time::sleep(RETRY_PAUSE).await;
            continue;
        }
        let mut buf = vec![0u8; 64 * 1024];
        let mut first = true;
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if first {
                        first = false;
                        let refused = !buf[..n].starts_with(b"HTTP/1.1 200");
                        let counter = if refused {
                            &counters.requests_refused
                        } else {
                            &counters.requests_ok
                        };
                        counter.fetch_add(1, Ordering::Relaxed);
                    }
                    counters.sse_bytes.fetch_add(n as u64, Ordering::Relaxed);
                }
            }
        }
        tokio::time::sleep(RETRY_PAUSE).await;
    }
}

/// One socket at table c announcing a thousand fake presences, an oversized
/// state and a hostile colour, once a second; reconnects when closed (item 8).
async fn presence_flood(
    aim: Arc<Aim>,
    attack: Attack,
    counters: Arc<Counters>,
    mut phase: watch::Receiver<Phase>,
) {
    let _ = phase.wait_for(|p| *p >= Phase::Warmup).await;
    let url = format!(
        "ws://{}/sync/{}/c?key={}",
        aim.addr, aim.event, aim.join_key
    );
    let big = format!(
        r#"{{"user":{{"name":"{}","color":"url(http://127.0.0.1:1/x)"}}}}"#,
        "x".repeat(attack.presence_bytes)
    );
    let mut clock = 1u32;
    while *phase.borrow() < Phase::Drain {
        let Ok((mut ws, _)) = tokio_tungstenite::connect_async(&url).await else {
            counters.requests_failed.fetch_add(1, Ordering::Relaxed);
            tokio::time::sleep(RETRY_PAUSE).await;
            continue;
        };
        let mut alive = true;
        while alive && *phase.borrow() < Phase::Drain {
            clock += 1;
            let mut clients = std::collections::HashMap::new();
            for n in 0..attack.fake_presences as u64 {
                clients.insert(
                    ClientID::new(1_000_000 + n),
                    AwarenessUpdateEntry {
                        clock,
                        json: format!(
                            r#"{{"user":{{"name":"nep {n}","color":"url(http://127.0.0.1:1/{n})"}}}}"#
                        )
                        .into(),
                    },
                );
            }
            clients.insert(
                ClientID::new(999_999),
                AwarenessUpdateEntry {
                    clock,
                    json: big.clone().into(),
                },
            );
            let frame = YMessage::Awareness(AwarenessUpdate { clients }).encode_v1();
            alive = ws.send(Message::binary(frame)).await.is_ok();
            // Read what the server says for a second (a close ends it).
            let deadline = tokio::time::sleep(Duration::from_secs(1));
            tokio::pin!(deadline);
            while alive {
                tokio::select! {
                    () = &mut deadline => break,
                    message = ws.next() => match message {
                        Some(Ok(Message::Close(_))) | None | Some(Err(_)) => alive = false,
                        Some(Ok(_)) => {}
                    },
                }
            }
        }
        counters.presence_closes.fetch_add(1, Ordering::Relaxed);
        tokio::time::sleep(RETRY_PAUSE).await;
    }
}

/// `GET path` on a fresh connection, reading the whole answer; the status.
async fn get(addr: &str, path: &str) -> std::io::Result<u16> {
    let mut stream = TcpStream::connect(addr).await?;
    stream
        .write_all(
            format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").as_bytes(),
        )
        .await?;
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).await?;
    let status = std::str::from_utf8(&head[9..12])
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let mut sink = vec![0u8; 64 * 1024];
    while stream.read(&mut sink).await? > 0 {}
    Ok(status)
}
