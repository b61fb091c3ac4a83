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
    let server = Server::start().await?;
    a_restart_keeps_every_note_of(server).await
}

/// 25 notes and an edit, a graceful shutdown, a restart on the same
/// arguments: every note is back as it was, and the table's meta. The same
/// whatever the store (SQLite here, PostgreSQL in `postgres.rs`).
pub(crate) async fn a_restart_keeps_every_note_of(mut server: Server) -> anyhow::Result<()> {
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
    assert_eq!(after.notes(), before, "log: {}", server.log.display());
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

/// Bombs that got past no screen: a chain of `depth` maps under `notes`
/// (built one level per insert, never by recursion), and one value made
/// of arrays nested `depth` deep.
mod bombs {
    use yrs::{Doc, Map, MapPrelim, ReadTxn, StateVector, Transact, WriteTxn};

    pub fn map_chain(depth: usize) -> Vec<u8> {
        let doc = Doc::new();
        let mut txn = doc.transact_mut();
        let mut map = txn.get_or_insert_map("notes");
        for _ in 0..depth {
            map = map.insert(&mut txn, "next", MapPrelim::default());
        }
        txn.encode_state_as_update_v1(&StateVector::default())
    }

    /// One client (1), one block at clock 0: an Any in `notes`/`bomb`.
    pub fn deep_value(depth: usize) -> Vec<u8> {
        let mut update = vec![1, 1, 1, 0, 8 | 0x20, 1, 5];
        update.extend_from_slice(b"notes");
        update.push(4);
        update.extend_from_slice(b"bomb");
        update.push(1);
        for _ in 0..depth {
            // An array of one element.
            update.extend_from_slice(&[117, 1]);
        }
        // null, then an empty delete set.
        update.extend_from_slice(&[126, 0]);
        update
    }
}

#[tokio::test]
async fn an_archive_holding_a_bomb_is_refused_and_nothing_is_written() -> anyhow::Result<()> {
    use base64::Engine;
    let server = Server::start().await?;
    let (status, _, archive) = server
        .get_bytes("/api/events/atelierdag-2022/export.json")
        .await?;
    assert_eq!(status, 200);
    let archive: serde_json::Value = serde_json::from_slice(&archive)?;
    let tmp = tempfile::tempdir()?;
    for (name, bomb, rule) in [
        ("maps", bombs::map_chain(10_000), "shared type nested"),
        ("value", bombs::deep_value(1_000_000), "nest"),
    ] {
        let mut archive = archive.clone();
        archive["tables"][1]["state"] = base64::engine::general_purpose::STANDARD
            .encode(&bomb)
            .into();
        let file = tmp.path().join(format!("{name}.json"));
        std::fs::write(&file, serde_json::to_vec(&archive)?)?;
        let data = tmp.path().join(format!("data-{name}"));
        let out = Server::cli(
            &[
                "import",
                file.to_str().unwrap_or_default(),
                "--data-dir",
                data.to_str().unwrap_or_default(),
            ],
            &[],
        )?;
        let stderr = String::from_utf8_lossy(&out.stderr);
        // Refused with an error (exit 1), not aborted (134, or a signal).
        assert_eq!(out.status.code(), Some(1), "{name}: {stderr}");
        assert!(
            stderr.contains("table 'b'") && stderr.contains(rule),
            "{name}: {stderr}"
        );
        assert!(
            !data.exists(),
            "{name}: a refused import wrote {}",
            data.display()
        );
    }
    Ok(())
}

#[tokio::test]
async fn a_stored_bomb_is_quarantined_at_start_and_every_table_is_served() -> anyhow::Result<()> {
    let mut server = Server::start().await?;
    let writer = Client::connect(&server, "a").await?;
    writer.synced().await?;
    notes::add(&writer, "keep", "Blijft staan", Lane::Goed);
    let witness = Client::connect(&server, "a").await?;
    witness
        .wait_for("the note", |_| notes::has_note(&witness, "keep"))
        .await?;
    server.terminate().await?;

    // Written straight into the database, as an older version or a hand
    // could have: past every screen.
    let db = rusqlite::Connection::open(server.data_dir.join("werktafel.db"))?;
    let stored = [
        ("b", bombs::map_chain(10_000)),
        ("c", bombs::deep_value(1_000_000)),
    ];
    for (table, bomb) in &stored {
        db.execute(
            "INSERT INTO updates (event, table_id, data) VALUES ('atelierdag-2022', ?1, ?2)",
            rusqlite::params![table, bomb],
        )?;
    }

    // The command line's export refuses the stored bomb before decoding it
    // (it used to abort with a stack overflow) and says what to do.
    let data_dir = server.data_dir.to_string_lossy().to_string();
    let export = ["export", "--data-dir", data_dir.as_str(), "--format", "md"];
    let refused = Server::cli(&export, &[])?;
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("table 'b'") && stderr.contains("quarantine"),
        "{stderr}"
    );

    server.restart().await?;
    // Served once every table is loaded, so the log has the loads.
    let (status, body) = server.get("/api/events/atelierdag-2022").await?;
    assert_eq!(status, 200, "{body}");
    let log = server.log_text();
    for room in ["atelierdag-2022/b", "atelierdag-2022/c"] {
        assert!(
            log.lines()
                .any(|l| l.contains("quarantined") && l.contains(room)),
            "no quarantine of {room} in the log: {}",
            server.log.display()
        );
    }
    // Quarantined, the directory exports again (beside the running server).
    let exported = Server::cli(&export, &[])?;
    assert!(
        exported.status.success(),
        "{}",
        String::from_utf8_lossy(&exported.stderr)
    );
    assert!(String::from_utf8_lossy(&exported.stdout).contains("Blijft staan"));
    let a = Client::connect(&server, "a").await?;
    a.wait_for("the kept note", |_| notes::has_note(&a, "keep"))
        .await?;
    // The bombed tables start empty and take notes, and those survive a
    // restart (the bombs are no longer where a load looks).
    let b = Client::connect(&server, "b").await?;
    b.synced().await?;
    b.wait_for("no trace of the bomb", |doc| {
        use yrs::{Map, ReadTxn, Transact};
        let txn = doc.transact();
        txn.get_map("notes")
            .is_none_or(|notes| notes.get(&txn, "next").is_none() && notes.len(&txn) == 0)
    })
    .await?;
    notes::add(&b, "fresh", "Na de quarantaine", Lane::Goed);
    let witness = Client::connect(&server, "b").await?;
    witness
        .wait_for("the fresh note", |_| notes::has_note(&witness, "fresh"))
        .await?;
    server.terminate().await?;
    server.restart().await?;
    let b = Client::connect(&server, "b").await?;
    b.wait_for("the fresh note after a restart", |_| {
        notes::has_note(&b, "fresh")
    })
    .await?;
    assert_eq!(b.notes().len(), 1);

    // Nothing was lost: the bombs' bytes are kept aside.
    let db = rusqlite::Connection::open(server.data_dir.join("werktafel.db"))?;
    for (table, bomb) in &stored {
        let kept: i64 = db.query_row(
            "SELECT COUNT(*) FROM quarantine WHERE table_id = ?1 AND data = ?2",
            rusqlite::params![table, bomb],
            |row| row.get(0),
        )?;
        assert_eq!(kept, 1, "table {table}'s bomb is kept in the quarantine");
    }
    Ok(())
}
