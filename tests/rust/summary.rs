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
