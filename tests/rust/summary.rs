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
