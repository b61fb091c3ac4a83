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
async fn a_client_that_stops_reading_is_resynced_and_converges() -> anyhow::Result<()> {
    let tmp = tempfile::tempdir()?;
    let server = Server::start_in(
        tmp.path(),
        &[
            "--outbox-capacity",
            "4",
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
        server.log_text().contains("resyncing a lagging peer"),
        "the outbox never overflowed, so this test proved nothing; log: {}",
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
    // frame, so the server's log is the witness of the reason.
    silent.closed().await?;
    assert!(
        server
            .log_text()
            .contains("closing a connection that sent nothing"),
        "log: {}",
        server.log.display()
    );
    assert!(!bystander.is_closed());
    Ok(())
}
