//! Several `werktafel` nodes on one PostgreSQL (docs/scale-out.md): each on
//! its own loopback address, stock y-websocket clients spread over them.
//! One node owns a table, the others relay their clients to it; exactly one
//! node wins a new table. Faults (kills, pauses, a lost store) are in
//! `cluster_faults.rs`.

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::json;
use werktafel_shared::schema::Lane;
use werktafel_tests::postgres::TestDb;
use werktafel_tests::{Client, NodePeer, Server};

use crate::notes;

pub(crate) const SECRET: &str = "een-geheim-van-het-cluster-1234";
pub(crate) const OWNED: &str = "werktafel_cluster_tables_owned";
pub(crate) const FORWARDS: &str = "werktafel_cluster_forwards_total";

/// A node named `name` on `ip`, with a short lease so a killed owner's
/// tables move within the tests' patience.
pub(crate) async fn node(db: &TestDb, dir: &Path, ip: &str, name: &str) -> anyhow::Result<Server> {
    node_on(&db.url, dir, ip, name, &[]).await
}

/// [`node`] on the database `url`, with `extra` arguments (an
/// `--advertise` address, say).
pub(crate) async fn node_on(
    url: &str,
    dir: &Path,
    ip: &str,
    name: &str,
    extra: &[&str],
) -> anyhow::Result<Server> {
    let mut args = vec![
        "--store",
        url,
        "--node-id",
        name,
        "--cluster-secret",
        SECRET,
        "--lease-ttl-ms",
        "1500",
        "--heartbeat-ms",
        "300",
    ];
    args.extend_from_slice(extra);
    Server::start_at(&format!("{ip}:0"), dir, &args).await
}

pub(crate) fn ws_base(server: &Server) -> String {
    format!("ws://{}/sync/atelierdag-2022", server.addr)
}

pub(crate) async fn insert(peer: &mut NodePeer, id: &str) -> anyhow::Result<()> {
    peer.request(json!({
        "cmd": "insertNote",
        "note": {
            "id": id, "text": format!("Notitie {id}"), "lane": "goed",
            "color": "geel", "x": 1, "y": 2, "author": "Test",
            "authorId": "test", "nowMs": 1_700_000_000_000_i64
        }
    }))
    .await?;
    Ok(())
}

pub(crate) fn has_all(notes: &[werktafel_shared::schema::Note], ids: &BTreeSet<String>) -> bool {
    ids.iter().all(|id| notes.iter().any(|n| &n.id == id))
}

pub(crate) fn set(ids: &[&str]) -> BTreeSet<String> {
    ids.iter().map(ToString::to_string).collect()
}

#[tokio::test]
async fn stock_clients_on_three_nodes_converge_through_the_tables_owner() -> anyhow::Result<()> {
    let db = TestDb::create()?;
    let dir = tempfile::tempdir()?;
    let a = node(&db, dir.path(), "127.0.0.1", "n1").await?;
    let b = node(&db, dir.path(), "127.0.0.2", "n2").await?;
    let c = node(&db, dir.path(), "127.0.0.3", "n3").await?;
    assert_eq!(a.keys.join, c.keys.join, "the nodes share the event's keys");

    // The first client reaches n1, which takes the table.
    let rust = Client::connect(&a, "a").await?;
    rust.synced().await?;
    let mut on_b = NodePeer::start(&ws_base(&b), "a", &b.keys.join).await?;
    let mut on_c = NodePeer::start(&ws_base(&c), "a", &c.keys.join).await?;

    notes::add(&rust, "r1", "Vanuit Rust", Lane::Goed);
    insert(&mut on_b, "b1").await?;
    insert(&mut on_c, "c1").await?;
    let all = set(&["r1", "b1", "c1"]);
    rust.wait_for("every node's note", |_| {
        all.iter().all(|id| notes::has_note(&rust, id))
    })
    .await?;
    on_b.wait_for_notes("every node's note", |n| has_all(n, &all))
        .await?;
    on_c.wait_for_notes("every node's note", |n| has_all(n, &all))
        .await?;

    assert_eq!(a.metric(OWNED).await?, 1, "n1 owns the table");
    assert_eq!(b.metric(OWNED).await?, 0);
    assert_eq!(c.metric(OWNED).await?, 0);
    assert_eq!(b.metric(FORWARDS).await?, 1, "n2 relays its client");
    assert_eq!(c.metric(FORWARDS).await?, 1, "n3 relays its client");
    Ok(())
}

/// A relayed client's first sync answer is the whole table, which may be
/// larger than any message a client may send: the relay must pass it on
/// (the 100-round drill found relayed joins refused with 1012 once the table
/// had outgrown `--max-message-bytes`).
#[tokio::test]
async fn a_relayed_client_joins_a_table_larger_than_a_clients_message() -> anyhow::Result<()> {
    let db = TestDb::create()?;
    let dir = tempfile::tempdir()?;
    // Small messages; no rate limit in the way of writing the table fast.
    let small = [
        "--max-message-bytes",
        "16384",
        "--bytes-per-second",
        "1000000000",
        "--messages-per-second",
        "100000",
    ];
    let a = node_on(&db.url, dir.path(), "127.0.0.1", "n1", &small).await?;
    let b = node_on(&db.url, dir.path(), "127.0.0.2", "n2", &small).await?;
    let writer = Client::connect(&a, "a").await?;
    writer.synced().await?;
    // 400 notes: each message is small, the table is not.
    let text = "lang verhaal over de gebiedsregisseur ".repeat(26);
    let ids: Vec<String> = (0..400).map(|i| format!("n{i}")).collect();
    for id in &ids {
        notes::add(&writer, id, &text, Lane::Goed);
    }
    // A second client of the owner sees them all: the owner has them.
    let direct = Client::connect(&a, "a").await?;
    direct
        .wait_for("every note on the owner", |_| {
            ids.iter().all(|id| notes::has_note(&direct, id))
        })
        .await?;
    let relayed = Client::connect(&b, "a").await?;
    relayed.synced().await?;
    relayed
        .wait_for("the whole table through the relay", |_| {
            ids.iter().all(|id| notes::has_note(&relayed, id))
        })
        .await?;
    assert_eq!(b.metric(FORWARDS).await?, 1, "n2 relayed its client");
    Ok(())
}

#[tokio::test]
async fn two_nodes_racing_for_a_new_tables_lease_one_wins() -> anyhow::Result<()> {
    let db = TestDb::create()?;
    let dir = tempfile::tempdir()?;
    let b = node(&db, dir.path(), "127.0.0.2", "n2").await?;
    let c = node(&db, dir.path(), "127.0.0.3", "n3").await?;

    let (on_b, on_c) = tokio::join!(Client::connect(&b, "b"), Client::connect(&c, "b"));
    let (on_b, on_c) = (on_b?, on_c?);
    on_b.synced().await?;
    on_c.synced().await?;
    assert_eq!(
        b.metric(OWNED).await? + c.metric(OWNED).await?,
        1,
        "one owner"
    );
    assert_eq!(
        b.metric(FORWARDS).await? + c.metric(FORWARDS).await?,
        1,
        "the other node relays"
    );
    notes::add(&on_b, "van-b", "Van n2", Lane::Goed);
    notes::add(&on_c, "van-c", "Van n3", Lane::Goed);
    for client in [&on_b, &on_c] {
        client
            .wait_for("both notes", |_| {
                notes::has_note(client, "van-b") && notes::has_note(client, "van-c")
            })
            .await?;
    }
    Ok(())
}

#[tokio::test]
async fn the_internal_endpoint_wants_the_cluster_secret() -> anyhow::Result<()> {
    let db = TestDb::create()?;
    let dir = tempfile::tempdir()?;
    let b = node(&db, dir.path(), "127.0.0.2", "n2").await?;
    let request = |secret: &str| {
        format!(
            "GET /internal/sync/atelierdag-2022/a HTTP/1.1\r\nHost: x\r\n\
             x-werktafel-role: facilitator\r\n{secret}Connection: close\r\n\r\n"
        )
    };
    let (status, _, _) = werktafel_tests::server::exchange(&b.addr, &request("")).await?;
    assert_eq!(status, 403, "no secret");
    let wrong = "x-werktafel-cluster-secret: een-ander-geheim-1234567\r\n";
    let (status, _, _) = werktafel_tests::server::exchange(&b.addr, &request(wrong)).await?;
    assert_eq!(status, 403, "the wrong secret");

    // One node alone on SQLite has no internal endpoint at all.
    let solo = Server::start().await?;
    let right = format!("x-werktafel-cluster-secret: {SECRET}\r\n");
    let (status, _, _) = werktafel_tests::server::exchange(&solo.addr, &request(&right)).await?;
    assert_eq!(status, 404);
    Ok(())
}

#[test]
fn cluster_options_need_a_shared_store_and_a_strong_secret() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let data_dir = dir.path().to_string_lossy().to_string();
    let serve = |extra: &[&str]| {
        let mut args = vec!["serve", "--addr", "127.0.0.1:0", "--data-dir", &data_dir];
        args.extend_from_slice(extra);
        Server::cli(&args, &[])
    };
    let sqlite = serve(&["--node-id", "n1"])?;
    assert!(!sqlite.status.success());
    assert!(
        String::from_utf8_lossy(&sqlite.stderr).contains("--store postgres://"),
        "{}",
        String::from_utf8_lossy(&sqlite.stderr)
    );
    // Checked before the database is dialled: no server is needed here.
    let url = "postgres://wt@127.0.0.1:1/wt";
    let weak = serve(&["--store", url, "--cluster-secret", "kort"])?;
    assert!(!weak.status.success());
    assert!(
        String::from_utf8_lossy(&weak.stderr).contains("at least 16"),
        "{}",
        String::from_utf8_lossy(&weak.stderr)
    );
    Ok(())
}

#[tokio::test]
async fn a_relayed_client_keeps_its_role_and_its_own_drafts() -> anyhow::Result<()> {
    let db = TestDb::create()?;
    let dir = tempfile::tempdir()?;
    let a = node(&db, dir.path(), "127.0.0.1", "n1").await?;
    let b = node(&db, dir.path(), "127.0.0.2", "n2").await?;
    let owner = Client::connect(&a, "a").await?;
    owner.synced().await?;
    let url = |server: &Server, room: &str, query: &str| {
        format!("ws://{}/sync/atelierdag-2022/{room}?{query}", server.addr)
    };

    // An identity minted on one node is good on every node (one signer).
    let path = format!("/api/events/atelierdag-2022/identity?key={}", b.keys.join);
    let (status, reply) = b.post(&path, &json!({ "name": "Anna" })).await?;
    assert_eq!(status, 200, "{reply}");
    let reply: serde_json::Value = serde_json::from_str(&reply)?;
    let token = reply["token"].as_str().unwrap_or_default().to_owned();
    let drafts = format!("key={}&token={token}", b.keys.join);
    let relayed = Client::connect_url(&url(&b, "a.drafts", &drafts)).await?;
    relayed.synced().await?;
    notes::add(&relayed, "geheim", "Nog geheim", Lane::Goed);
    // The draft is in Anna's drafts on the owner, and nowhere on the table.
    let direct = Client::connect_url(&url(&a, "a.drafts", &drafts)).await?;
    direct
        .wait_for("the draft written through n2", |_| {
            notes::has_note(&direct, "geheim")
        })
        .await?;
    assert!(!notes::has_note(&owner, "geheim"));

    // A viewer relayed by n2 is a viewer on n1: its write closes it (1008).
    let viewer = Client::connect_url(&url(&b, "a", &format!("key={}", b.keys.view))).await?;
    viewer.synced().await?;
    notes::add(&viewer, "van-kijker", "Mag niet", Lane::Goed);
    let closed = viewer.closed().await?;
    assert_eq!(closed.code, Some(1008), "{closed:?}");
    notes::add(&owner, "daarna", "Daarna", Lane::Goed);
    let check = Client::connect(&b, "a").await?;
    check
        .wait_for("the owner's later note", |_| {
            notes::has_note(&check, "daarna")
        })
        .await?;
    assert!(!notes::has_note(&check, "van-kijker"));
    Ok(())
}
