//! The plenary summary: served now, and pushed live when any table changes.

use werktafel_shared::schema::Lane;
use werktafel_tests::server::sse;
use werktafel_tests::{Client, Server, WAIT};

use crate::notes;

#[tokio::test]
async fn a_note_at_any_table_is_pushed_to_the_plenary() -> anyhow::Result<()> {
    let server = Server::start().await?;
    let path = format!(
        "/api/events/atelierdag-2022/summary/live?key={}",
        server.keys.view
    );
    let mut live = sse(&server.addr, &path).await?;
    let first = tokio::time::timeout(WAIT, live.recv())
        .await?
        .expect("first summary");
    let first: serde_json::Value = serde_json::from_str(&first)?;
    assert_eq!(first["tables"].as_array().map(Vec::len), Some(4));
    assert_eq!(first["totals"]["notes"], 0);

    let client = Client::connect(&server, "c").await?;
    client.synced().await?;
    // First the summary that counts the newcomer, so the note below can only
    // arrive through a change of content, not ride along with the join.
    loop {
        let next = tokio::time::timeout(WAIT, live.recv())
            .await?
            .expect("stream open");
        let json: serde_json::Value = serde_json::from_str(&next)?;
        if json["totals"]["participants"] == 1 {
            break;
        }
    }
    notes::add(
        &client,
        "step",
        "Gebiedsregisseur opleiden",
        Lane::Vervolgstap,
    );
    // Summaries arrive as the server sees changes; wait for the one with the note.
    let summary = loop {
        let next = tokio::time::timeout(WAIT, live.recv())
            .await?
            .expect("stream open");
        let json: serde_json::Value = serde_json::from_str(&next)?;
        if json["totals"]["notes"] == 1 {
            break json;
        }
    };
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
