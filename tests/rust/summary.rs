//! The plenary summary: served now, and pushed live when any table changes.

use werktafel_shared::json_patch;
use werktafel_shared::schema::Lane;
use werktafel_tests::{Client, Server, WAIT};

use crate::notes;

/// One event of a live summary stream.
type Frame = werktafel_tests::server::SseEvent;

/// The plenary's side of `/summary/live`: reads the stream's events and
/// keeps the summary they add up to, as the web plenary does.
pub(crate) struct Plenary {
    frames: tokio::sync::mpsc::UnboundedReceiver<Frame>,
    pub(crate) summary: serde_json::Value,
    version: u64,
    /// Bytes of event data received, by event type.
    full_frames: usize,
    deltas: usize,
}

impl Plenary {
    pub(crate) async fn open(addr: &str, path: &str) -> anyhow::Result<Plenary> {
        let frames = werktafel_tests::server::sse(addr, path).await?;
        let mut plenary = Plenary {
            frames,
            summary: serde_json::Value::Null,
            version: 0,
            full_frames: 0,
            deltas: 0,
        };
        let first = plenary.next().await?;
        anyhow::ensure!(
            first.event == "summary",
            "the stream starts whole: {first:?}"
        );
        Ok(plenary)
    }

    /// Takes the next event in and returns it.
    async fn next(&mut self) -> anyhow::Result<Frame> {
        let frame = tokio::time::timeout(WAIT, self.frames.recv())
            .await?
            .ok_or_else(|| anyhow::anyhow!("the stream ended"))?;
        match frame.event.as_str() {
            "summary" => {
                self.summary = serde_json::from_str(&frame.data)?;
                self.full_frames += 1;
            }
            "delta" => {
                anyhow::ensure!(
                    frame.id == self.version + 1,
                    "a delta for version {} on version {}",
                    frame.id,
                    self.version
                );
                let ops: Vec<json_patch::Op> = serde_json::from_str(&frame.data)?;
                json_patch::apply(&mut self.summary, &ops)?;
                self.deltas += 1;
            }
            other => anyhow::bail!("unknown event {other}: {frame:?}"),
        }
        self.version = frame.id;
        Ok(frame)
    }

    /// Reads events until the summary they add up to satisfies `done`.
    pub(crate) async fn until(
        &mut self,
        what: &str,
        done: impl Fn(&serde_json::Value) -> bool,
    ) -> anyhow::Result<()> {
        while !done(&self.summary) {
            self.next()
                .await
                .map_err(|e| e.context(format!("waiting for {what}")))?;
        }
        Ok(())
    }
}

#[tokio::test]
async fn a_note_at_any_table_is_pushed_to_the_plenary() -> anyhow::Result<()> {
    let server = Server::start().await?;
    let path = format!(
        "/api/events/atelierdag-2022/summary/live?key={}",
        server.keys.view
    );
    let mut live = Plenary::open(&server.addr, &path).await?;
    assert_eq!(live.summary["tables"].as_array().map(Vec::len), Some(4));
    assert_eq!(live.summary["totals"]["notes"], 0);

    let client = Client::connect(&server, "c").await?;
    client.synced().await?;
    // First the summary that counts the newcomer, so the note below can only
    // arrive through a change of content, not ride along with the join.
    live.until("the newcomer", |s| s["totals"]["participants"] == 1)
        .await?;
    notes::add(
        &client,
        "step",
        "Gebiedsregisseur opleiden",
        Lane::Vervolgstap,
    );
    // Summaries arrive as the server sees changes; wait for the one with the note.
    live.until("the note", |s| s["totals"]["notes"] == 1)
        .await?;
    let summary = &live.summary;
    assert_eq!(summary["nextSteps"][0]["text"], "Gebiedsregisseur opleiden");
    assert_eq!(summary["nextSteps"][0]["table"], "c");
    let table_c = &summary["tables"][2];
    assert_eq!(table_c["participants"], 1);
    assert_eq!(
        table_c["lanes"]["vervolgstap"][0]["text"],
        "Gebiedsregisseur opleiden"
    );

    let (status, body) = server.get("/api/events/atelierdag-2022/summary").await?;
    assert_eq!(status, 200);
    assert!(body.contains("Gebiedsregisseur opleiden"));
    Ok(())
}

#[tokio::test]
async fn after_the_whole_summary_the_plenary_gets_deltas_that_add_up_to_it() -> anyhow::Result<()> {
    let server = Server::start().await?;
    let writer = Client::connect(&server, "a").await?;
    writer.synced().await?;
    for i in 0..30 {
        notes::add(
            &writer,
            &format!("n{i}"),
            &format!("Notitie {i}"),
            Lane::Goed,
        );
    }
    let path = format!(
        "/api/events/atelierdag-2022/summary/live?key={}",
        server.keys.view
    );
    let mut live = Plenary::open(&server.addr, &path).await?;
    live.until("the 30 notes", |s| s["totals"]["notes"] == 30)
        .await?;
    let whole = live.summary.to_string().len();
    let full_frames = live.full_frames;

    notes::type_into(&writer, "n7", 0, "Bewerkt: ");
    let edited = |s: &serde_json::Value| {
        s["tables"][0]["lanes"]["goed"]
            .as_array()
            .is_some_and(|notes| notes.iter().any(|n| n["text"] == "Bewerkt: Notitie 7"))
    };
    let mut delta_bytes = Vec::new();
    while !edited(&live.summary) {
        let frame = live.next().await?;
        assert_eq!(frame.event, "delta", "{frame:?}");
        delta_bytes.push(frame.data.len());
    }
    assert!(
        delta_bytes.iter().all(|&bytes| bytes < whole / 4),
        "deltas of {delta_bytes:?} bytes for a summary of {whole}"
    );
    // What the deltas add up to is the summary the server serves now (the
    // stream is read until it is, in case a change was still on its way).
    loop {
        let (status, body) = server.get("/api/events/atelierdag-2022/summary").await?;
        assert_eq!(status, 200);
        let served: serde_json::Value = serde_json::from_str(&body)?;
        if served == live.summary {
            break;
        }
        live.next().await?;
    }
    assert_eq!(
        live.full_frames, full_frames,
        "an edit comes as deltas only"
    );
    assert!(live.deltas >= 1);
    Ok(())
}

#[tokio::test]
async fn without_viewers_the_summary_is_computed_on_demand() -> anyhow::Result<()> {
    // Nobody watches: changes only mark the summary stale. A request then
    // gets it brought up to date.
    let server = Server::start().await?;
    let client = Client::connect(&server, "b").await?;
    client.synced().await?;
    notes::add(&client, "n", "Afwegen op wijkniveau", Lane::Goed);
    let witness = Client::connect(&server, "b").await?;
    witness
        .wait_for("the note", |_| notes::has_note(&witness, "n"))
        .await?;
    let (status, body) = server.get("/api/events/atelierdag-2022/summary").await?;
    assert_eq!(status, 200);
    let summary: serde_json::Value = serde_json::from_str(&body)?;
    assert_eq!(summary["totals"]["notes"], 1, "{body}");
    assert_eq!(
        summary["tables"][1]["lanes"]["goed"][0]["text"],
        "Afwegen op wijkniveau"
    );
    Ok(())
}

/// Opens `path` as an event stream and reads only the response head:
/// its status, and the socket (closing it ends the stream).
async fn open_stream(addr: &str, path: &str) -> anyhow::Result<(u16, tokio::net::TcpStream)> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut socket = tokio::net::TcpStream::connect(addr).await?;
    socket
        .write_all(
            format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nAccept: text/event-stream\r\n\r\n")
                .as_bytes(),
        )
        .await?;
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let mut byte = [0u8];
        let n = tokio::time::timeout(WAIT, socket.read(&mut byte)).await??;
        anyhow::ensure!(n == 1, "closed after {:?}", String::from_utf8_lossy(&head));
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head).to_string();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    Ok((status, socket))
}

#[tokio::test]
async fn summary_streams_take_a_place_in_the_gate_and_participants_get_none() -> anyhow::Result<()>
{
    let tmp = tempfile::tempdir()?;
    let server = Server::start_in(tmp.path(), &["--max-connections-per-address", "2"]).await?;
    let live = |key: &str| format!("/api/events/atelierdag-2022/summary/live?key={key}");

    // The plenary is the viewer's and the console the facilitator's; a
    // participant's key opens no stream.
    let (status, body) = server.get_raw(&live(&server.keys.join)).await?;
    assert_eq!(status, 403, "{body}");

    let (first, first_socket) = open_stream(&server.addr, &live(&server.keys.view)).await?;
    let (second, _second_socket) =
        open_stream(&server.addr, &live(&server.keys.facilitate)).await?;
    assert_eq!((first, second), (200, 200));
    let (status, body) = server.get_raw(&live(&server.keys.view)).await?;
    assert_eq!(status, 429, "{body}");
    assert!(body.contains("maximum of 2"), "{body}");

    // A closed stream frees its place once the server notices (each try
    // is a round trip; refused tries do not hold one).
    drop(first_socket);
    let mut statuses = Vec::new();
    for _ in 0..200 {
        let (status, socket) = open_stream(&server.addr, &live(&server.keys.view)).await?;
        statuses.push(status);
        if status == 200 {
            drop(socket);
            return Ok(());
        }
    }
    anyhow::bail!("no place came free: {statuses:?}");
}

/// `n` distinct words of letters only, space-separated.
fn unique_words(n: usize) -> String {
    (0..n)
        .map(|i| {
            let mut word = String::from("wq");
            let mut k = i;
            loop {
                word.push(char::from(b'a' + (k % 26) as u8));
                k /= 26;
                if k == 0 {
                    break;
                }
            }
            word
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[tokio::test]
async fn a_note_of_24000_unique_words_at_two_tables_is_summarised() -> anyhow::Result<()> {
    // Finding shared themes was quadratic in the words: this note kept a
    // release build busy for 5.6 s per summary (and the request that waits
    // for the summary gives up after 5 s, answering the stale one).
    let server = Server::start().await?;
    let text = unique_words(24_000);
    let mut clients = Vec::new();
    for table in ["a", "b"] {
        let client = Client::connect(&server, table).await?;
        client.synced().await?;
        notes::add(&client, "lang", &text, Lane::Goed);
        let witness = Client::connect(&server, table).await?;
        witness
            .wait_for("the long note", |_| notes::has_note(&witness, "lang"))
            .await?;
        clients.push((client, witness));
    }
    let (status, body) = server.get("/api/events/atelierdag-2022/summary").await?;
    assert_eq!(status, 200);
    let summary: serde_json::Value = serde_json::from_str(&body)?;
    assert_eq!(summary["totals"]["notes"], 2, "a stale summary");
    let themes = summary["themes"].as_array().cloned().unwrap_or_default();
    assert_eq!(themes.len(), 20, "at most 20 themes");
    assert!(
        themes
            .iter()
            .all(|t| t["tables"].as_array().map(Vec::len) == Some(2))
    );
    let (status, _) = server.get("/healthz").await?;
    assert_eq!(status, 200);
    Ok(())
}
