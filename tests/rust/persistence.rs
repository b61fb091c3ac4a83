//! Durability: restarts keep every note, `kill -9` loses nothing that any
//! client has received, and a graceful shutdown closes sockets with 1001.

use std::collections::BTreeSet;

use werktafel_shared::schema::{self, Lane};
use werktafel_tests::{Client, Server};

use crate::notes;

fn ids(client: &Client) -> BTreeSet<String> {
    client.notes().into_iter().map(|n| n.id).collect()
}

#[tokio::test]
async fn a_restart_keeps_every_note() -> anyhow::Result<()> {
    let mut server = Server::start().await?;
    let writer = Client::connect(&server, "a").await?;
    writer.synced().await?;
    for i in 0..25 {
        notes::add(
            &writer,
            &format!("n{i}"),
            &format!("Notitie {i}"),
            Lane::Goed,
        );
    }
    notes::type_into(&writer, "n3", 0, "Bewerkt: ");
    let witness = Client::connect(&server, "a").await?;
    witness
        .wait_for("all notes", |_| {
            notes::text_of(&witness, "n3").is_some_and(|t| t.starts_with("Bewerkt"))
                && ids(&witness).len() == 25
        })
        .await?;
    let before = witness.notes();

    let code = server.terminate().await?;
    assert_eq!(
        code,
        Some(0),
        "graceful shutdown exits 0; log: {}",
        server.log.display()
    );
    server.restart().await?;

    let after = Client::connect(&server, "a").await?;
    after.synced().await?;
    assert_eq!(after.notes(), before);
    assert_eq!(
        schema::read_meta(&after.doc).map(|m| m.title).as_deref(),
        Some("Vitale systemen")
    );
    Ok(())
}

#[tokio::test]
async fn kill_9_after_a_burst_loses_nothing_that_was_broadcast() -> anyhow::Result<()> {
    let mut server = Server::start().await?;
    let writer = Client::connect(&server, "b").await?;
    let observer = Client::connect(&server, "b").await?;
    writer.synced().await?;
    observer.synced().await?;

    // A burst of edits, and the server killed while it is still arriving.
    for i in 0..300 {
        notes::add(&writer, &format!("burst-{i}"), "x", Lane::Doorpakken);
    }
    observer
        .wait_for("the first part of the burst", |d| {
            schema::note_count(d) >= 50
        })
        .await?;
    server.kill().await;
    let seen = ids(&observer);
    assert!(seen.len() >= 50);

    server.restart().await?;
    let after = Client::connect(&server, "b").await?;
    after.synced().await?;
    let kept = ids(&after);
    let lost: Vec<_> = seen.difference(&kept).collect();
    assert!(
        lost.is_empty(),
        "{} notes seen by a client were lost: {lost:?}",
        lost.len()
    );
    Ok(())
}

#[tokio::test]
async fn shutdown_closes_sockets_with_going_away() -> anyhow::Result<()> {
    let mut server = Server::start().await?;
    let client = Client::connect(&server, "c").await?;
    client.synced().await?;
    notes::add(&client, "last", "Net voor het einde", Lane::Goed);
    let witness = Client::connect(&server, "c").await?;
    witness
        .wait_for("the note", |_| notes::has_note(&witness, "last"))
        .await?;

    let code = server.terminate().await?;
    assert_eq!(code, Some(0));
    let closed = client.closed().await?;
    assert_eq!(closed.code, Some(1001), "close: {closed:?}");

    server.restart().await?;
    let after = Client::connect(&server, "c").await?;
    after.synced().await?;
    assert!(notes::has_note(&after, "last"));
    Ok(())
}

#[tokio::test]
async fn repeated_kill_9_under_load_loses_nothing_any_client_saw() -> anyhow::Result<()> {
    // The short version of `werktafel-crash` (100 rounds; docs/benchmarks.md).
    let dir = tempfile::tempdir()?;
    let outcome = werktafel_tests::crash::drill(dir.path(), 4, 20, 7).await?;
    assert_eq!(outcome.rounds, 4);
    assert!(outcome.observed > 0);
    assert!(
        outcome.lost.is_empty(),
        "lost after a kill: {:?}",
        outcome.lost
    );
    Ok(())
}
