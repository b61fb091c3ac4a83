//! What one node changes that every node must honour (docs/scale-out.md,
//! "State shared between nodes"): the participant key renewed on one node,
//! uploaded files and poster images read from any node.

use serde_json::{Value, json};
use werktafel_tests::postgres::TestDb;
use werktafel_tests::{Client, Server};

use crate::cluster::node;

const EVENT: &str = "/api/events/atelierdag-2022";

/// Close code of a connection whose participant key was renewed.
const REVOKED: u16 = 4403;

/// Three nodes on one fresh database.
async fn three_nodes(db: &TestDb, dir: &std::path::Path) -> anyhow::Result<[Server; 3]> {
    Ok([
        node(db, dir, "127.0.0.1", "n1").await?,
        node(db, dir, "127.0.0.2", "n2").await?,
        node(db, dir, "127.0.0.3", "n3").await?,
    ])
}

#[tokio::test]
async fn a_participant_key_renewed_on_one_node_is_refused_on_every_node() -> anyhow::Result<()> {
    let db = TestDb::create()?;
    let dir = tempfile::tempdir()?;
    let nodes = three_nodes(&db, dir.path()).await?;
    let old_key = nodes[0].keys.join.clone();
    // A participant on each node (n1 owns the table, the others relay),
    // and an identity minted on n3 under the old key.
    let mut participants = Vec::new();
    for server in &nodes {
        let client = Client::connect(server, "a").await?;
        client.synced().await?;
        participants.push(client);
    }
    let path = format!("{EVENT}/identity?key={old_key}");
    let (status, reply) = nodes[2].post(&path, &json!({ "name": "Anna" })).await?;
    assert_eq!(status, 200, "{reply}");
    let old_token = serde_json::from_str::<Value>(&reply)?["token"]
        .as_str()
        .unwrap_or_default()
        .to_owned();

    let (status, body) = nodes[0]
        .post(&format!("{EVENT}/keys/rotate"), &json!({}))
        .await?;
    assert_eq!(status, 200, "{body}");
    let reply: Value = serde_json::from_str(&body)?;
    let new_key = reply["participantLink"]
        .as_str()
        .and_then(|link| link.rsplit_once("key="))
        .map(|(_, k)| k.to_owned())
        .unwrap_or_default();
    assert!(!new_key.is_empty() && new_key != old_key, "{reply}");

    // Every node closes what the old key opened, soon (its next heartbeat).
    for (server, client) in nodes.iter().zip(&participants) {
        let closed = client.closed().await?;
        assert_eq!(closed.code, Some(REVOKED), "{}: {closed:?}", server.addr);
    }
    // Then every node refuses the old key and the old identity, and takes
    // the new key.
    for server in &nodes {
        let (status, _) = server.get_raw(&format!("{EVENT}?key={old_key}")).await?;
        assert_eq!(status, 403, "the old key on {}", server.addr);
        let (status, _) = server
            .get_raw(&format!(
                "{EVENT}/tables/a/votes?key={new_key}&token={old_token}"
            ))
            .await?;
        assert_eq!(status, 403, "an identity from before, on {}", server.addr);
        let (status, body) = server.get_raw(&format!("{EVENT}?key={new_key}")).await?;
        assert_eq!(status, 200, "the new key on {}: {body}", server.addr);
        let url = format!("ws://{}/sync/atelierdag-2022/a?key={new_key}", server.addr);
        Client::connect_url(&url).await?.synced().await?;
    }
    Ok(())
}

/// An image file of `len` bytes that passes the servers' checks (they read
/// the signature only), filled with `fill` so two differ.
fn png(len: usize, fill: u8) -> Vec<u8> {
    let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
    bytes.resize(len, fill);
    bytes
}

/// Mints an identity on `server` and returns its token.
async fn token(server: &Server, name: &str) -> anyhow::Result<String> {
    let path = format!("{EVENT}/identity?key={}", server.keys.join);
    let (status, reply) = server.post(&path, &json!({ "name": name })).await?;
    anyhow::ensure!(status == 200, "identity answered {status}: {reply}");
    Ok(serde_json::from_str::<Value>(&reply)?["token"]
        .as_str()
        .unwrap_or_default()
        .to_owned())
}

/// Uploads `bytes` to market stand 1 on `server`; the status and the body.
async fn upload(server: &Server, token: &str, bytes: &[u8]) -> anyhow::Result<(u16, String)> {
    let path = format!(
        "{EVENT}/stands/markt-ot1/files?key={}&token={token}&name=foto.png",
        server.keys.join
    );
    let (status, _, body) =
        werktafel_tests::server::http_post_bytes(&server.addr, &path, "image/png", bytes).await?;
    Ok((status, String::from_utf8_lossy(&body).into_owned()))
}

#[tokio::test]
async fn uploads_and_the_poster_are_served_by_every_node_under_one_quota() -> anyhow::Result<()> {
    let db = TestDb::create()?;
    let dir = tempfile::tempdir()?;
    // A quota of 1.5 files per person: the second upload must fail
    // wherever it lands.
    let quota = ["--upload-quota-per-identity", "6000"];
    let nodes = [
        crate::cluster::node_on(&db.url, dir.path(), "127.0.0.1", "n1", &quota).await?,
        crate::cluster::node_on(&db.url, dir.path(), "127.0.0.2", "n2", &quota).await?,
        crate::cluster::node_on(&db.url, dir.path(), "127.0.0.3", "n3", &quota).await?,
    ];
    let anna = token(&nodes[0], "Anna").await?;
    let first = png(4000, 1);
    let (status, body) = upload(&nodes[0], &anna, &first).await?;
    assert_eq!(status, 201, "{body}");
    let url = serde_json::from_str::<Value>(&body)?["url"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    for server in &nodes {
        let (status, head, served) = server.get_bytes(&url).await?;
        assert_eq!(status, 200, "{} serves {url}: {head}", server.addr);
        assert!(
            head.to_ascii_lowercase()
                .contains("content-type: image/png"),
            "{head}"
        );
        assert!(served == first, "{} served other bytes", server.addr);
    }
    // The quota counts what every node stored.
    let (status, body) = upload(&nodes[2], &anna, &png(4000, 2)).await?;
    assert_eq!(status, 507, "past the quota on another node: {body}");
    let (status, body) = upload(&nodes[1], &anna, &first).await?;
    assert_eq!(status, 201, "the same file again costs nothing: {body}");
    // Both accepted uploads are materials of the stand, wherever they were
    // sent (n1 owns the stand; n2's upload went to it) and read.
    for server in &nodes {
        materials_become(server, 2).await?;
    }

    // A poster put on n2 is served by every node after its heartbeat.
    let poster = png(3000, 7);
    let path = format!("{EVENT}/poster?key={}", nodes[1].keys.facilitate);
    let (status, _, body) =
        werktafel_tests::server::http_put_bytes(&nodes[1].addr, &path, "image/png", &poster)
            .await?;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    for server in &nodes {
        poster_becomes(server, &poster).await?;
    }
    // Kept in the database: a node restarted on an empty data directory
    // serves it and the file too.
    let [_, _, mut n3] = nodes;
    n3.kill().await;
    let fresh = tempfile::tempdir()?;
    n3.data_dir = fresh.path().to_path_buf();
    n3.restart().await?;
    poster_becomes(&n3, &poster).await?;
    let (status, _, served) = n3.get_bytes(&url).await?;
    assert!(
        status == 200 && served == first,
        "the file after a restart: {status}"
    );
    Ok(())
}

/// Polls `server`'s market overview until stand `markt-ot1` lists
/// `count` materials.
async fn materials_become(server: &Server, count: u64) -> anyhow::Result<()> {
    let deadline = tokio::time::Instant::now() + werktafel_tests::WAIT;
    let path = format!("{EVENT}/market?key={}", server.keys.join);
    loop {
        let (status, _, body) = server.get_bytes(&path).await?;
        let overview: Value = serde_json::from_slice(&body).unwrap_or_default();
        let materials = overview["stands"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|stand| stand["room"] == "markt-ot1")
            .and_then(|stand| stand["counts"]["materials"].as_u64());
        if status == 200 && materials == Some(count) {
            return Ok(());
        }
        anyhow::ensure!(
            tokio::time::Instant::now() < deadline,
            "{} lists {materials:?} materials, not {count}; log: {}",
            server.addr,
            server.log.display()
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// Polls `server`'s poster until it is `image` (the node reads a poster
/// another node stored at its next heartbeat, every 300 ms here).
async fn poster_becomes(server: &Server, image: &[u8]) -> anyhow::Result<()> {
    let deadline = tokio::time::Instant::now() + werktafel_tests::WAIT;
    let path = format!("{EVENT}/poster?key={}", server.keys.join);
    loop {
        let (status, _, served) = server.get_bytes(&path).await?;
        if status == 200 && served == image {
            return Ok(());
        }
        anyhow::ensure!(
            tokio::time::Instant::now() < deadline,
            "{} never served the new poster; log: {}",
            server.addr,
            server.log.display()
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}
