//! Connections over bad networks: keepalives for idle clients, resync for a
//! client that stopped reading, disconnection of one that went silent.

use werktafel_shared::schema::{self, Lane};
use werktafel_tests::{Client, Server};

use crate::notes;

#[tokio::test]
async fn an_idle_client_gets_keepalives() -> anyhow::Result<()> {
    let tmp = tempfile::tempdir()?;
    let server = Server::start_in(tmp.path(), &["--keepalive-ms", "50"]).await?;
    let client = Client::connect(&server, "a").await?;
    client.synced().await?;
    let before = client.frames_received();
    // Nobody edits: only keepalives can arrive. The stock y-websocket client
    // reconnects after 30 s without a message, so they must.
    client
        .wait_until("three keepalives", |c| c.frames_received() >= before + 3)
        .await?;
    assert!(!client.is_closed());
    Ok(())
}

#[tokio::test]
async fn a_client_that_stops_reading_is_caught_up_from_what_it_missed() -> anyhow::Result<()> {
    // 64 MB of missed deliveries may be kept: everything the paused client
    // misses is merged into one update when it reads again.
    slow_reader_converges("67108864", "werktafel_catch_ups_total").await
}

#[tokio::test]
async fn a_client_that_falls_too_far_behind_is_resynced_from_the_document() -> anyhow::Result<()> {
    // 1 MB may be kept: the paused client misses more, so the room lets go
    // of it and resyncs the client from the document.
    slow_reader_converges("1048576", "werktafel_resyncs_total").await
}

/// One client stops reading while another writes ~12 MB of notes; when it
/// reads again it must end up with exactly what a fresh client sees, by the
/// path whose counter (`path`, in `/metrics`) moved.
async fn slow_reader_converges(catch_up_bytes: &str, path: &str) -> anyhow::Result<()> {
    let tmp = tempfile::tempdir()?;
    let server = Server::start_in(
        tmp.path(),
        &[
            "--outbox-capacity",
            "4",
            "--catch-up-bytes",
            catch_up_bytes,
            "--bytes-per-second",
            "100000000",
            "--messages-per-second",
            "100000",
        ],
    )
    .await?;
    let slow = Client::connect(&server, "b").await?;
    slow.synced().await?;
    slow.pause();

    let writer = Client::connect(&server, "b").await?;
    writer.synced().await?;
    // ~12 MB of notes: more than the socket buffers between server and the
    // paused client hold, so its four-message outbox must overflow.
    let text = "x".repeat(32 * 1024);
    for i in 0..400 {
        notes::add(&writer, &format!("n{i}"), &text, Lane::Goed);
    }
    let witness = Client::connect(&server, "b").await?;
    witness
        .wait_for("all 400 notes at the witness", |d| {
            schema::note_count(d) == 400
        })
        .await?;

    slow.resume();
    slow.wait_for("all 400 notes at the slow client", |d| {
        schema::note_count(d) == 400
    })
    .await?;
    assert_eq!(slow.notes(), witness.notes());
    assert!(
        server.metric(path).await? > 0,
        "the slow client was not brought up to date by {path:?}; log: {}",
        server.log.display()
    );
    Ok(())
}

#[tokio::test]
async fn a_client_that_sends_nothing_is_disconnected() -> anyhow::Result<()> {
    let tmp = tempfile::tempdir()?;
    let server = Server::start_in(
        tmp.path(),
        &["--idle-timeout-secs", "1", "--keepalive-ms", "100"],
    )
    .await?;
    let bystander = Client::connect(&server, "c").await?;
    bystander.synced().await?;
    let silent = Client::connect(&server, "c").await?;
    silent.synced().await?;
    silent.set_awareness(r#"{"user":{"name":"Stil"}}"#);
    let silent_id = silent.doc.client_id().get();
    bystander
        .wait_until("the silent client's presence", |c| {
            c.awareness().contains_key(&silent_id)
        })
        .await?;

    // A paused client answers no pings: to the server it is a dead peer.
    // The bystander keeps answering, so it stays.
    silent.pause();
    bystander
        .wait_until("the silent client's presence removed", |c| {
            !c.awareness().contains_key(&silent_id)
        })
        .await?;
    silent.resume();
    // The server sent close 4408 and hung up; the resumed client may trip
    // over the dead socket (answering a queued ping) before it reads the
    // frame, so the server's count of its closes is the witness of the reason.
    silent.closed().await?;
    assert_eq!(
        server
            .metric_reaches(r#"werktafel_closes_total{code="4408"}"#, 1)
            .await?,
        1,
        "one connection closed for sending nothing; log: {}",
        server.log.display()
    );
    assert!(!bystander.is_closed());
    Ok(())
}

#[tokio::test]
async fn a_client_that_stops_reading_is_dropped_once_a_write_stalls() -> anyhow::Result<()> {
    let tmp = tempfile::tempdir()?;
    let server = Server::start_in(
        tmp.path(),
        &[
            "--write-timeout-secs",
            "1",
            "--bytes-per-second",
            "100000000",
            "--messages-per-second",
            "100000",
        ],
    )
    .await?;
    let stuck = Client::connect(&server, "d").await?;
    stuck.synced().await?;
    stuck.pause();

    let writer = Client::connect(&server, "d").await?;
    writer.synced().await?;
    // ~12 MB of notes: more than the socket buffers between the server and
    // the paused client hold, so a write to it cannot finish.
    let text = "x".repeat(32 * 1024);
    for i in 0..400 {
        notes::add(&writer, &format!("n{i}"), &text, Lane::Goed);
    }
    assert_eq!(
        server
            .metric_reaches(r#"werktafel_closes_total{code="4409"}"#, 1)
            .await?,
        1,
        "one connection dropped for not reading; log: {}",
        server.log.display()
    );
    stuck.resume();
    stuck.closed().await?;
    // The writer, reading all along, stays and has everything it wrote.
    writer.roundtrip().await?;
    assert!(!writer.is_closed());
    assert_eq!(schema::note_count(&writer.doc), 400);
    Ok(())
}
