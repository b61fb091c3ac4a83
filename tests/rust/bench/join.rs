//! `join-storm` and `fresh-sync`: how long a client waits for a big table's
//! full state. A seeder fills one table with `--notes` notes (and stays
//! connected, so no server unloads the document); then, `--rounds` times,
//! `--clients` fresh clients connect, wait until all are in, and send their
//! sync step 1 at the same moment. Each one's time runs from that send to the
//! arrival of the whole sync step 2 frame (not its apply). Between rounds the
//! seeder types one character, so that every round's first answer needs a new
//! encode of the full state (`--unchanged` skips that: a caching server then
//! answers every round from its cache).

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use futures_util::{SinkExt, StreamExt};
use tokio::sync::{Barrier, Semaphore};
use tokio_tungstenite::tungstenite::Message;
use werktafel_shared::schema::{self, Lane, NoteColor, NoteDraft};
use yrs::encoding::read::Cursor;
use yrs::sync::{Message as YMessage, MessageReader, SyncMessage};
use yrs::updates::decoder::{Decode, DecoderV1};
use yrs::updates::encoder::Encode;
use yrs::{Doc, GetString, Map, Out, ReadTxn, StateVector, Text, Transact, Update, WriteTxn};

use crate::report::{CpuClock, Watched, cpu_seconds};
use crate::wire::{self, Wire, Ws};
use crate::{CONNECT_CONCURRENCY, Cli, Plan, Target, table_name};

/// Notes per seeding update: about 40 KB, under every server's message limit.
const SEED_CHUNK: usize = 200;
/// How long to wait for any one frame before giving up on a client.
const FRAME_TIMEOUT: Duration = Duration::from_secs(60);
/// After the seeder's edit between rounds, time for a durable server to commit
/// it, so that the round measures the encode and not a pending fsync.
const SETTLE: Duration = Duration::from_millis(300);
/// A note's text. With the schema's other fields a note takes about 300
/// bytes of the encoded document: 10,000 notes are about 3 MB.
const NOTE_TEXT: &str = "Wie beheert de openbare ruimte?";

pub async fn run(cli: Cli, plan: Plan) -> anyhow::Result<()> {
    let target = Target::from_cli(&cli, &plan).await?;
    let (url, wire) = target.endpoint(&plan, &table_name(&plan, 0));
    eprintln!(
        "werktafel-load: {} against {}; seeding {} notes",
        plan.describe(),
        target.addr,
        plan.notes
    );
    let seeder_doc = Doc::new();
    let mut seeder = open(&url, &wire).await.context("connecting the seeder")?;
    sync(&mut seeder, &wire, &seeder_doc).await?;
    let seed_started = Instant::now();
    seed(&mut seeder, &wire, &seeder_doc, plan.notes).await?;
    let (notes, state_bytes) = wait_for_notes(&url, &wire, plan.notes).await?;
    eprintln!(
        "werktafel-load: {notes} notes, full state {} KiB, seeded in {:.1} s",
        state_bytes / 1024,
        seed_started.elapsed().as_secs_f64()
    );

    let mut latencies_us: Vec<u32> = Vec::new();
    let mut server_ms_per_round = Vec::new();
    let mut failures = 0usize;
    let gen_start = cpu_seconds("self");
    let wall_start = Instant::now();
    for round in 0..plan.rounds {
        if plan.edit_between_rounds && round > 0 {
            type_one(&mut seeder, &wire, &seeder_doc).await?;
            tokio::time::sleep(SETTLE).await;
        }
        let (times, cpu) = storm(&url, &wire, plan.clients, &target.watched).await;
        failures += times.iter().filter(|t| t.is_none()).count();
        latencies_us.extend(times.into_iter().flatten());
        if let Some(s) = cpu {
            server_ms_per_round.push(s * 1000.0);
        }
    }
    let gen_cpu = gen_start
        .zip(cpu_seconds("self"))
        .map(|(a, b)| (b - a) / wall_start.elapsed().as_secs_f64());
    let _ = seeder.close(None).await;

    latencies_us.sort_unstable();
    server_ms_per_round.sort_by(f64::total_cmp);
    let pct = |p: f64| -> Option<f64> {
        let n = latencies_us.len();
        (n > 0).then(|| {
            let rank = ((p / 100.0) * n as f64).ceil() as usize;
            f64::from(latencies_us[rank.clamp(1, n) - 1]) / 1000.0
        })
    };
    let ms = |v: Option<f64>| v.map_or("-".into(), |v| format!("{v:.2} ms"));
    let median_server_ms = server_ms_per_round
        .get(server_ms_per_round.len() / 2)
        .copied();
    println!("werktafel-load  {}", plan.describe());
    println!(
        "table           {notes} notes, full state {state_bytes} bytes; {} round(s) of {} client(s){}",
        plan.rounds,
        plan.clients,
        if plan.edit_between_rounds {
            ", one edit between rounds"
        } else {
            ", unchanged between rounds"
        }
    );
    println!(
        "sync request → full state   p50 {}   p99 {}   max {}   ({} samples, {failures} failed)",
        ms(pct(50.0)),
        ms(pct(99.0)),
        ms(latencies_us.last().map(|&v| f64::from(v) / 1000.0)),
        latencies_us.len()
    );
    println!(
        "server cpu      {} per round (median); generator {} of one core",
        ms(median_server_ms),
        gen_cpu.map_or("?".into(), |g| format!("{:.0} %", g * 100.0))
    );
    println!(
        "result {}",
        serde_json::json!({
            "server": cli.label,
            "scenario": plan.scenario,
            "clients": plan.clients,
            "rounds": plan.rounds,
            "notes": notes,
            "state_bytes": state_bytes,
            "edit_between_rounds": plan.edit_between_rounds,
            "samples": latencies_us.len(),
            "errors": failures,
            "p50_ms": pct(50.0),
            "p99_ms": pct(99.0),
            "max_ms": latencies_us.last().map(|&v| f64::from(v) / 1000.0),
            "server_ms_per_round": median_server_ms,
            "cpu_generator": gen_cpu,
            "rss_peak_kib": target.rss_kib("VmHWM"),
        })
    );
    if failures > 0 {
        bail!("{failures} join(s) never received the full state");
    }
    Ok(())
}

/// One round: `n` clients connect, then all send step 1 at once. Returns each
/// one's µs from send to full state (`None` if it failed) and the server's
/// CPU seconds from the release until the last answer.
async fn storm(
    url: &str,
    wire: &Wire,
    n: usize,
    watched: &Watched,
) -> (Vec<Option<u32>>, Option<f64>) {
    let gate = Arc::new(Semaphore::new(CONNECT_CONCURRENCY));
    let ready = Arc::new(Barrier::new(n + 1));
    let mut tasks = Vec::with_capacity(n);
    for _ in 0..n {
        let (url, wire, gate, ready) = (url.to_string(), wire.clone(), gate.clone(), ready.clone());
        tasks.push(tokio::spawn(async move {
            let ws = {
                let _permit = gate.acquire().await;
                open(&url, &wire).await
            };
            // Wait at the barrier even after a failure, or the round would hang.
            ready.wait().await;
            let mut ws = ws.ok()?;
            let took = request_full_state(&mut ws, &wire).await.ok();
            let _ = ws.close(None).await;
            took
        }));
    }
    ready.wait().await;
    let before = CpuClock::now(watched);
    let mut times = Vec::with_capacity(n);
    for task in tasks {
        times.push(task.await.ok().flatten());
    }
    let cpu = CpuClock::now(watched).since(&before).server_seconds();
    (times, cpu)
}

/// Connects, sends the Hocuspocus auth if needed, and waits for the server's
/// first frame (its sync step 1, or Hocuspocus's auth answer): the client is in.
async fn open(url: &str, wire: &Wire) -> anyhow::Result<Ws> {
    let mut ws = wire::connect(url).await?;
    if let Some(auth) = wire.opening() {
        ws.send(Message::Binary(auth)).await?;
    }
    next_binary(&mut ws).await?;
    Ok(ws)
}

/// Sends an empty sync step 1 and returns the µs until the sync step 2 frame
/// arrived whole.
async fn request_full_state(ws: &mut Ws, wire: &Wire) -> anyhow::Result<u32> {
    let step1 = YMessage::Sync(SyncMessage::SyncStep1(StateVector::default())).encode_v1();
    let sent = Instant::now();
    ws.send(Message::Binary(wire.wrap(step1))).await?;
    loop {
        let frame = next_binary(ws).await?;
        let arrived = Instant::now();
        if step2_of(wire, &frame).is_some() {
            return Ok(u32::try_from(arrived.duration_since(sent).as_micros()).unwrap_or(u32::MAX));
        }
    }
}

/// Syncs `doc` over `ws` (step 1 out, step 2 in and applied).
async fn sync(ws: &mut Ws, wire: &Wire, doc: &Doc) -> anyhow::Result<usize> {
    let sv = doc.transact().state_vector();
    ws.send(Message::Binary(
        wire.wrap(YMessage::Sync(SyncMessage::SyncStep1(sv)).encode_v1()),
    ))
    .await?;
    loop {
        let frame = next_binary(ws).await?;
        if let Some(update) = step2_of(wire, &frame) {
            let len = update.len();
            let update = Update::decode_v1(&update).context("decoding the full state")?;
            doc.transact_mut()
                .apply_update(update)
                .context("applying the full state")?;
            return Ok(len);
        }
    }
}

/// The sync step 2 payload in a frame, if it holds one.
fn step2_of(wire: &Wire, frame: &[u8]) -> Option<Vec<u8>> {
    let messages = wire.unwrap(frame)?;
    let mut decoder = DecoderV1::new(Cursor::new(&messages));
    MessageReader::new(&mut decoder).find_map(|m| match m {
        Ok(YMessage::Sync(SyncMessage::SyncStep2(update))) => Some(update),
        _ => None,
    })
}

async fn next_binary(ws: &mut Ws) -> anyhow::Result<bytes::Bytes> {
    loop {
        match tokio::time::timeout(FRAME_TIMEOUT, ws.next()).await {
            Err(_) => bail!("no frame for {FRAME_TIMEOUT:?}"),
            Ok(None) => bail!("the server closed the connection"),
            Ok(Some(Err(e))) => return Err(e.into()),
            Ok(Some(Ok(Message::Binary(frame)))) => return Ok(frame),
            Ok(Some(Ok(Message::Close(frame)))) => bail!("closed by the server: {frame:?}"),
            Ok(Some(Ok(_))) => {}
        }
    }
}

/// Writes `count` notes in updates of [`SEED_CHUNK`] notes.
async fn seed(ws: &mut Ws, wire: &Wire, doc: &Doc, count: usize) -> anyhow::Result<()> {
    let now_ms = 1_700_000_000_000;
    for start in (0..count).step_by(SEED_CHUNK) {
        let update = {
            let mut txn = doc.transact_mut();
            for i in start..(start + SEED_CHUNK).min(count) {
                schema::insert_note(
                    &mut txn,
                    &NoteDraft {
                        id: format!("seed-{i:05}"),
                        text: format!("{NOTE_TEXT} ({i})"),
                        lane: Lane::ALL[i % Lane::ALL.len()],
                        color: NoteColor::ALL[i % NoteColor::ALL.len()],
                        x: (i % 100) as f64 * 12.0,
                        y: (i / 100) as f64 * 12.0,
                        author: format!("Deelnemer {}", i % 150),
                        author_id: format!("seed-author-{}", i % 150),
                        now_ms,
                    },
                );
            }
            txn.encode_update_v1()
        };
        ws.send(Message::Binary(
            wire.wrap(YMessage::Sync(SyncMessage::Update(update)).encode_v1()),
        ))
        .await?;
    }
    Ok(())
}

/// Types one character into the first seeded note: a new document version.
async fn type_one(ws: &mut Ws, wire: &Wire, doc: &Doc) -> anyhow::Result<()> {
    let update = {
        let mut txn = doc.transact_mut();
        let notes = txn.get_or_insert_map(schema::NOTES);
        let Some(Out::YMap(note)) = notes.get(&txn, "seed-00000") else {
            bail!("the seeder's document has no note seed-00000");
        };
        let Some(Out::YText(text)) = note.get(&txn, "text") else {
            bail!("note seed-00000 has no text");
        };
        let end = text.get_string(&txn).len() as u32;
        text.insert(&mut txn, end, ".");
        txn.encode_update_v1()
    };
    ws.send(Message::Binary(
        wire.wrap(YMessage::Sync(SyncMessage::Update(update)).encode_v1()),
    ))
    .await?;
    Ok(())
}

/// Joins with fresh clients until one sees at least `want` notes (the server
/// may still be applying or committing the seed); returns the note count and
/// the size of the full state in bytes.
async fn wait_for_notes(url: &str, wire: &Wire, want: usize) -> anyhow::Result<(usize, usize)> {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let doc = Doc::new();
        let mut ws = open(url, wire).await?;
        let bytes = sync(&mut ws, wire, &doc).await?;
        let _ = ws.close(None).await;
        let notes = {
            let txn = doc.transact();
            txn.get_map(schema::NOTES)
                .map_or(0, |m| m.len(&txn) as usize)
        };
        if notes >= want {
            return Ok((notes, bytes));
        }
        if Instant::now() > deadline {
            bail!("the table holds {notes} of {want} seeded notes after 120 s");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
