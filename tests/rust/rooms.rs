//! Sync rooms beyond the tables: a market stand (`markt-ot<N>`) and the
//! lecture board (`zaal`) sync, persist and get their meta like a table;
//! names the event does not have are 404 before any upgrade.

use werktafel_shared::market::read_stand_meta;
use werktafel_tests::{Client, Server};
use yrs::{Any, Map, Out, ReadTxn, Transact, WriteTxn};

fn status_text(client: &Client) -> Option<String> {
    let txn = client.doc.transact();
    let stand = txn.get_map("stand")?;
    match stand.get(&txn, "probe")? {
        Out::Any(Any::String(s)) => Some(s.to_string()),
        _ => None,
    }
}

#[tokio::test]
async fn a_stand_and_the_lecture_board_sync_and_survive_a_restart() -> anyhow::Result<()> {
    let mut server = Server::start().await?;
    for room in ["markt-ot2", "zaal"] {
        let writer = Client::connect(&server, room).await?;
        let reader = Client::connect(&server, room).await?;
        writer.synced().await?;
        writer.edit(|txn| {
            let stand = txn.get_or_insert_map("stand");
            stand.insert(txn, "probe", format!("in {room}"));
        });
        reader
            .wait_for("the write", |_| status_text(&reader).is_some())
            .await?;
    }
    let stand = Client::connect(&server, "markt-ot2").await?;
    stand.synced().await?;
    let meta = read_stand_meta(&stand.doc).expect("the stand's meta");
    assert_eq!(meta.team.number, 2);
    assert_eq!(meta.team.name, "Stedelijk programmeren en samenwerken");

    assert_eq!(server.terminate().await?, Some(0));
    server.restart().await?;
    for room in ["markt-ot2", "zaal"] {
        let after = Client::connect(&server, room).await?;
        after.synced().await?;
        assert_eq!(status_text(&after), Some(format!("in {room}")), "{room}");
    }
    // A table's document holds none of it: rooms are separate documents.
    let table = Client::connect(&server, "a").await?;
    table.synced().await?;
    assert_eq!(status_text(&table), None);
    Ok(())
}

#[tokio::test]
async fn room_names_the_event_does_not_have_are_404() -> anyhow::Result<()> {
    let server = Server::start().await?;
    for room in [
        "markt-ot7",
        "markt-ot0",
        "markt-ot02",
        "markt-ot",
        "zaal2",
        "markt-ot2.drafts",
        "zaal.drafts",
    ] {
        let path = format!("/sync/atelierdag-2022/{room}");
        let (status, body) = server.get(&path).await?;
        assert_eq!(status, 404, "{path}: {body}");
        assert!(body.contains("not found"), "{path}: {body}");
    }
    Ok(())
}
