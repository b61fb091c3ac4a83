//! Faults in a cluster of `werktafel` nodes on one PostgreSQL
//! (docs/scale-out.md): the owner killed (once, and round after round under
//! twenty writers), paused past its lease, cut off from its store, and a
//! relaying node killed. Nothing any client saw may be lost.

use std::collections::BTreeSet;

use werktafel_shared::schema::Lane;
use werktafel_tests::postgres::TestDb;
use werktafel_tests::{Client, NodePeer, Server};

use crate::cluster::{OWNED, has_all, insert, node, set, ws_base};
use crate::notes;

#[tokio::test]
async fn the_owner_killed_its_table_moves_and_nothing_any_client_saw_is_lost() -> anyhow::Result<()>
{
    let db = TestDb::create()?;
    let dir = tempfile::tempdir()?;
    let mut a = node(&db, dir.path(), "127.0.0.1", "n1").await?;
    let b = node(&db, dir.path(), "127.0.0.2", "n2").await?;
    let c = node(&db, dir.path(), "127.0.0.3", "n3").await?;

    let rust = Client::connect(&a, "a").await?;
    rust.synced().await?;
    let mut on_b = NodePeer::start(&ws_base(&b), "a", &b.keys.join).await?;
    let mut on_c = NodePeer::start(&ws_base(&c), "a", &c.keys.join).await?;
    for i in 0..5 {
        notes::add(&rust, &format!("r{i}"), "Vanuit Rust", Lane::Goed);
        insert(&mut on_b, &format!("b{i}")).await?;
        insert(&mut on_c, &format!("c{i}")).await?;
    }
    // What the clients have seen: delivered by the owner, so durable.
    let before: BTreeSet<String> = (0..5)
        .flat_map(|i| [format!("r{i}"), format!("b{i}"), format!("c{i}")])
        .collect();
    on_b.wait_for_notes("every note before the kill", |n| has_all(n, &before))
        .await?;
    on_c.wait_for_notes("every note before the kill", |n| has_all(n, &before))
        .await?;
    assert_eq!(a.metric(OWNED).await?, 1);

    a.kill().await;
    // The relays close their clients with 1012; they reconnect to their own
    // node, which takes the table once n1's lease has run out.
    insert(&mut on_b, "after-b").await?;
    insert(&mut on_c, "after-c").await?;
    let mut after = before.clone();
    after.extend(set(&["after-b", "after-c"]));
    on_b.wait_for_notes("every note, on the new owner", |n| has_all(n, &after))
        .await?;
    on_c.wait_for_notes("every note, on the new owner", |n| has_all(n, &after))
        .await?;
    let owners = b.metric(OWNED).await? + c.metric(OWNED).await?;
    assert_eq!(owners, 1, "exactly one node took the table over");
    let taken = b
        .metric("werktafel_cluster_lease_changes_total{change=\"taken_over\"}")
        .await
        .unwrap_or(0)
        + c.metric("werktafel_cluster_lease_changes_total{change=\"taken_over\"}")
            .await
            .unwrap_or(0);
    assert_eq!(taken, 1, "the table was taken over once");

    // A new client anywhere reads everything from the new owner.
    let late = Client::connect(&b, "a").await?;
    late.wait_for("every note", |_| {
        after.iter().all(|id| notes::has_note(&late, id))
    })
    .await?;
    Ok(())
}

/// Sends `signal` (`STOP`, `CONT`) to `server`'s process.
fn signal(server: &Server, signal: &str) -> anyhow::Result<()> {
    let pid = server.pid().ok_or_else(|| anyhow::anyhow!("not running"))?;
    let status = std::process::Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(pid.to_string())
        .status()?;
    anyhow::ensure!(status.success(), "kill -{signal} {pid} failed");
    Ok(())
}

/// Waits until PostgreSQL judges `node`'s heartbeat older than the tests'
/// lease: from then on another node may take its tables.
async fn lease_runs_out(db: &TestDb, node: &'static str) -> anyhow::Result<()> {
    let url = db.url.clone();
    tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
        let mut client = url.parse::<postgres::Config>()?.connect(postgres::NoTls)?;
        let deadline = std::time::Instant::now() + werktafel_tests::WAIT;
        loop {
            let expired: bool = client
                .query_one(
                    "SELECT heartbeat_at < now() - interval '1500 milliseconds' FROM nodes WHERE id = $1",
                    &[&node],
                )?
                .get(0);
            if expired {
                return Ok(());
            }
            anyhow::ensure!(
                std::time::Instant::now() < deadline,
                "{node}'s lease did not run out"
            );
            // PostgreSQL's clock decides; ask again shortly.
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    })
    .await?
}

#[tokio::test]
async fn an_owner_paused_past_its_lease_commits_nothing_after_and_its_clients_move()
-> anyhow::Result<()> {
    let db = TestDb::create()?;
    let dir = tempfile::tempdir()?;
    let a = node(&db, dir.path(), "127.0.0.1", "n1").await?;
    let b = node(&db, dir.path(), "127.0.0.2", "n2").await?;

    let on_a = Client::connect(&a, "a").await?;
    on_a.synced().await?;
    let mut on_b = NodePeer::start(&ws_base(&b), "a", &b.keys.join).await?;
    notes::add(&on_a, "voor", "Voor de pauze", Lane::Goed);
    on_b.wait_for_notes("the note before the pause", |n| has_all(n, &set(&["voor"])))
        .await?;

    signal(&a, "STOP")?;
    // Reaches n1's socket, but n1 only reads it once it runs again, after
    // n2 took the table over: it must never be committed.
    notes::add(&on_a, "tijdens", "Tijdens de pauze", Lane::Goed);
    lease_runs_out(&db, "n1").await?;
    let fresh = Client::connect(&b, "a").await?;
    fresh.synced().await?;
    assert_eq!(b.metric(OWNED).await?, 1, "n2 took the table over");
    signal(&a, "CONT")?;

    // n1 finds out (its heartbeat, or its append failing the epoch check)
    // and closes its clients with 1012; the relayed stock client lands on n2.
    let closed = on_a.closed().await?;
    assert_eq!(closed.code, Some(1012), "{closed:?}");
    a.metric_reaches("werktafel_cluster_lease_changes_total{change=\"lost\"}", 1)
        .await?;
    insert(&mut on_b, "na").await?;
    fresh
        .wait_for("the stock client's note, through n2", |_| {
            notes::has_note(&fresh, "na") && notes::has_note(&fresh, "voor")
        })
        .await?;
    assert!(
        !notes::has_note(&fresh, "tijdens"),
        "n1 committed after it lost the table"
    );
    let reader = Client::connect(&a, "a").await?;
    reader
        .wait_for("everything, relayed by n1 to n2", |_| {
            notes::has_note(&reader, "na") && notes::has_note(&reader, "voor")
        })
        .await?;
    assert!(!notes::has_note(&reader, "tijdens"));
    Ok(())
}

/// Polls `/healthz` until it answers `status`.
pub(crate) async fn health_becomes(server: &Server, status: u16) -> anyhow::Result<()> {
    let deadline = tokio::time::Instant::now() + werktafel_tests::WAIT;
    loop {
        let (now, body) = server.get("/healthz").await?;
        if now == status {
            return Ok(());
        }
        anyhow::ensure!(
            tokio::time::Instant::now() < deadline,
            "/healthz stayed {now} ({body}), not {status}; log: {}",
            server.log.display()
        );
        // The heartbeat decides, every 300 ms here; ask again shortly.
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_node_without_its_store_says_not_ready_and_recovers_without_a_restart()
-> anyhow::Result<()> {
    let db = TestDb::create()?;
    let dir = tempfile::tempdir()?;
    // The node reaches PostgreSQL through a proxy the test can cut.
    let (head, rest) = db.url.split_once('@').expect("a user in the URL");
    let (target, database) = rest.split_once('/').expect("a database in the URL");
    let proxy = werktafel_tests::proxy::Proxy::start(target.parse()?).await?;
    let url = format!("{head}@{}/{database}", proxy.addr);
    let args = [
        "--store",
        &url,
        "--node-id",
        "n1",
        "--lease-ttl-ms",
        "1500",
        "--heartbeat-ms",
        "300",
    ];
    let server = Server::start_in(dir.path(), &args).await?;
    health_becomes(&server, 200).await?;
    assert_eq!(server.metric("werktafel_cluster_store_up").await?, 1);

    proxy.cut();
    health_becomes(&server, 503).await?;
    assert_eq!(server.metric("werktafel_cluster_store_up").await?, 0);

    proxy.restore();
    health_becomes(&server, 200).await?;
    Ok(())
}

#[tokio::test]
async fn killing_the_tables_owner_under_twenty_writers_loses_nothing_any_client_saw()
-> anyhow::Result<()> {
    let db = TestDb::create()?;
    let dir = tempfile::tempdir()?;
    let (outcome, fail_over) =
        werktafel_tests::cluster_drill::drill(&db.url, dir.path(), DRILL_ROUNDS, 20, 7).await?;
    assert_eq!(outcome.rounds, DRILL_ROUNDS);
    assert!(outcome.observed > 0);
    assert!(
        outcome.lost.is_empty(),
        "lost after a kill: {:?}",
        outcome.lost
    );
    eprintln!("fail-over times: {:?}", fail_over.times);
    Ok(())
}

/// Kills of the owner in the integration test (the issue asks for 20 in CI).
const DRILL_ROUNDS: usize = 20;

#[tokio::test]
async fn a_relaying_node_killed_loses_nothing_its_clients_saw() -> anyhow::Result<()> {
    let db = TestDb::create()?;
    let dir = tempfile::tempdir()?;
    let a = node(&db, dir.path(), "127.0.0.1", "n1").await?;
    let mut b = node(&db, dir.path(), "127.0.0.2", "n2").await?;
    let c = node(&db, dir.path(), "127.0.0.3", "n3").await?;
    let owner = Client::connect(&a, "a").await?;
    owner.synced().await?;
    let mut on_b = NodePeer::start(&ws_base(&b), "a", &b.keys.join).await?;
    for i in 0..5 {
        insert(&mut on_b, &format!("b{i}")).await?;
    }
    let written: BTreeSet<String> = (0..5).map(|i| format!("b{i}")).collect();
    owner
        .wait_for("the relayed client's notes", |_| {
            written.iter().all(|id| notes::has_note(&owner, id))
        })
        .await?;

    b.kill().await;
    // Its client reconnects elsewhere (here: n3) and finds it all; the
    // owner kept serving throughout.
    let elsewhere = Client::connect(&c, "a").await?;
    elsewhere
        .wait_for("every note the killed node relayed", |_| {
            written.iter().all(|id| notes::has_note(&elsewhere, id))
        })
        .await?;
    notes::add(&owner, "daarna", "Daarna", Lane::Goed);
    elsewhere
        .wait_for("the owner's next note", |_| {
            notes::has_note(&elsewhere, "daarna")
        })
        .await?;
    assert_eq!(a.metric(OWNED).await?, 1, "the table did not move");
    Ok(())
}
