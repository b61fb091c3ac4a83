//! `werktafel-summary-bytes`: what one plenary viewer receives per edit at a
//! large table. Fills table `a` with `--notes` notes, opens one
//! `/summary/live` stream, types one keystroke every 100 ms for `--secs`
//! seconds into one note, and reports the stream's bytes per keystroke.
//!
//! `WERKTAFEL_BIN=target/release/werktafel cargo run --release -p werktafel-tests --bin werktafel-summary-bytes`

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use clap::Parser;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use werktafel_shared::schema::{self, Lane, NoteColor, NoteDraft};
use werktafel_tests::{Client, Server};
use yrs::{Map, Text, WriteTxn};

#[derive(Parser)]
struct Args {
    #[arg(long, default_value_t = 20_000)]
    notes: usize,
    #[arg(long, default_value_t = 4)]
    secs: u64,
    /// Seconds to keep counting after the last keystroke.
    #[arg(long, default_value_t = 10)]
    tail: u64,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let tmp = tempfile::tempdir()?;
    let server = Server::start_in(
        tmp.path(),
        &[
            "--messages-per-second",
            "100000",
            "--bytes-per-second",
            "1000000000",
        ],
    )
    .await?;
    let writer = Client::connect(&server, "a").await?;
    writer.synced().await?;
    for batch in 0..args.notes.div_ceil(500) {
        writer.edit(|txn| {
            for i in batch * 500..((batch + 1) * 500).min(args.notes) {
                schema::insert_note(
                    txn,
                    &NoteDraft {
                        id: format!("n{i}"),
                        text: format!("Notitie nummer {i} over de stadsboulevard"),
                        lane: Lane::Goed,
                        color: NoteColor::Geel,
                        x: 10.0,
                        y: 20.0,
                        author: "Bench".into(),
                        author_id: "bench".into(),
                        now_ms: 1_700_000_000_000,
                    },
                );
            }
        });
    }
    writer
        .wait_until("every note stored", |_| writer.notes().len() == args.notes)
        .await
        .ok();
    writer.roundtrip().await?;

    let mut stream = tokio::net::TcpStream::connect(&server.addr).await?;
    let path = format!(
        "/api/events/atelierdag-2022/summary/live?key={}",
        server.keys.view
    );
    stream
        .write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes())
        .await?;
    let received = Arc::new(AtomicU64::new(0));
    let counter = received.clone();
    tokio::spawn(async move {
        let mut buf = vec![0u8; 1 << 16];
        while let Ok(n) = stream.read(&mut buf).await {
            if n == 0 {
                break;
            }
            counter.fetch_add(n as u64, Ordering::Relaxed);
        }
    });
    // The first (whole) frame, then count from zero.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let first = received.swap(0, Ordering::Relaxed);
    let keystrokes = args.secs * 10;
    for i in 0..keystrokes {
        writer.edit(|txn| {
            let notes = txn.get_or_insert_map("notes");
            if let Some(yrs::Out::YMap(note)) = notes.get(txn, "n100")
                && let Some(yrs::Out::YText(text)) = note.get(txn, "text")
            {
                text.insert(txn, i as u32, "x");
            }
        });
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Let the last recomputations arrive.
    tokio::time::sleep(Duration::from_secs(args.tail)).await;
    let bytes = received.load(Ordering::Relaxed);
    println!(
        "notes {} · first frame {first} B · {keystrokes} keystrokes in {} s · {bytes} B to one viewer · {} B per keystroke",
        args.notes,
        args.secs,
        bytes / keystrokes
    );
    Ok(())
}
