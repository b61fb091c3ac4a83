//! The HTTP surface: health, the event API, and 404s before any upgrade.

use werktafel_shared::schema::Lane;
use werktafel_tests::{Client, Server};

use crate::notes;

#[tokio::test]
async fn health_and_event_api() -> anyhow::Result<()> {
    let server = Server::start().await?;
    let (status, body) = server.get("/healthz").await?;
    assert_eq!((status, body.as_str()), (200, "ok"));

    let client = Client::connect(&server, "a").await?;
    client.synced().await?;
    notes::add(&client, "n1", "Eerste", Lane::Goed);
    let witness = Client::connect(&server, "a").await?;
    witness
        .wait_for("the note", |_| notes::has_note(&witness, "n1"))
        .await?;

    let (status, body) = server.get("/api/events/atelierdag-2022").await?;
    assert_eq!(status, 200, "{body}");
    let json: serde_json::Value = serde_json::from_str(&body)?;
    assert_eq!(json["slug"], "atelierdag-2022");
    let tables = json["tables"].as_array().expect("tables");
    let titles: Vec<_> = tables
        .iter()
        .map(|t| t["title"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(
        titles,
        [
            "Vitale systemen",
            "Afwegingskader",
            "Rol van de gebiedsregisseur",
            "Kosten-baten analyse"
        ]
    );
    assert_eq!(tables[0]["noteCount"], 1);
    assert_eq!(tables[0]["people"], 2);
    assert_eq!(tables[1]["noteCount"], 0);
    assert_eq!(tables[1]["cases"].as_array().map(Vec::len), Some(7));
    Ok(())
}

#[tokio::test]
async fn unknown_event_or_table_is_404_before_the_upgrade() -> anyhow::Result<()> {
    let server = Server::start().await?;
    for path in [
        "/sync/atelierdag-2022/z",
        "/sync/other-event/a",
        "/api/events/other-event",
    ] {
        let (status, body) = server.get(path).await?;
        assert_eq!(status, 404, "{path}: {body}");
        assert!(body.contains("not found"), "{path}: {body}");
    }
    let err = Client::connect_url(&server.ws("/sync/atelierdag-2022/z"))
        .await
        .err()
        .expect("upgrade refused");
    assert!(format!("{err:#}").contains("404"), "{err:#}");
    Ok(())
}

#[tokio::test]
async fn the_root_redirects_to_the_event() -> anyhow::Result<()> {
    let server = Server::start().await?;
    let (status, _) = server.get("/").await?;
    assert_eq!(status, 307);
    let (status, body) = server.get("/e/atelierdag-2022/t/a").await?;
    assert_eq!(status, 200);
    assert!(
        body.contains("<"),
        "the app shell is served for client routes"
    );
    Ok(())
}

#[tokio::test]
async fn metrics_count_connections_updates_and_commits() -> anyhow::Result<()> {
    let server = Server::start().await?;
    let client = Client::connect(&server, "b").await?;
    client.synced().await?;
    notes::add(&client, "n1", "Gemeten", Lane::Goed);
    let witness = Client::connect(&server, "b").await?;
    witness
        .wait_for("the note", |_| notes::has_note(&witness, "n1"))
        .await?;

    let (status, body) = server.get("/metrics").await?;
    assert_eq!(status, 200);
    let value = |name: &str| -> f64 {
        body.lines()
            .find(|l| l.starts_with(name) && l[name.len()..].starts_with(' '))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("{name} missing in:\n{body}"))
    };
    assert_eq!(value("werktafel_connections"), 2.0, "{body}");
    assert!(value("werktafel_updates_received_total") >= 1.0);
    assert!(value("werktafel_deliveries_total") >= 1.0);
    assert!(value("werktafel_commit_seconds_count") >= 1.0);
    Ok(())
}
