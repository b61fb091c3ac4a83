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
