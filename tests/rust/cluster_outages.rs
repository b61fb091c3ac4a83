//! A cluster's PostgreSQL stopped and started under writing clients, and
//! delays between a node and PostgreSQL and between nodes
//! (docs/scale-out.md). Nothing any client received may be lost.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use werktafel_shared::schema::Lane;
use werktafel_tests::private_pg::PrivatePostgres;
use werktafel_tests::proxy::{Latency, Proxy};
use werktafel_tests::{Client, NodePeer, Server};

use crate::cluster::{FORWARDS, OWNED, SECRET, has_all, insert, node_on, ws_base};
use crate::cluster_faults::health_becomes;
use crate::notes;

/// The close code a client gets when the store cannot take its updates.
const TRY_AGAIN: u16 = 1013;

/// The ids of the notes `client` has received.
fn ids(client: &Client) -> BTreeSet<String> {
    client.notes().into_iter().map(|n| n.id).collect()
}

/// Connects to table `a` on `server`, again while the node answers 503 (no
/// store, or the table's old owner's lease still running), as a stock
/// client's back-off does.
async fn connect_retrying(server: &Server) -> anyhow::Result<Client> {
    let deadline = Instant::now() + werktafel_tests::WAIT;
    loop {
        match Client::connect(server, "a").await {
            Ok(client) => match client.synced().await {
                Ok(()) => return Ok(client),
                Err(error) if Instant::now() >= deadline => return Err(error),
                Err(_) => {}
            },
            Err(error) if Instant::now() >= deadline => {
                return Err(error.context(format!("log: {}", server.log.display())));
            }
            Err(_) => {}
        }
        // A stock client waits at least 100 ms between attempts too.
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Rounds of writes delivered before PostgreSQL is stopped under the next.
const ROUNDS_BEFORE_THE_STOP: usize = 5;

#[tokio::test]
async fn postgres_stopped_under_writers_nodes_refuse_writes_and_recover_without_a_restart()
-> anyhow::Result<()> {
    // A server of this test's own: the shared one must not go away.
    let pg = PrivatePostgres::start()?;
    let dir = tempfile::tempdir()?;
    let a = node_on(&pg.url, dir.path(), "127.0.0.1", "n1", &[]).await?;
    let b = node_on(&pg.url, dir.path(), "127.0.0.2", "n2", &[]).await?;

    // n1 owns the table; writers and watchers on it and relayed by n2.
    let direct = Client::connect(&a, "a").await?;
    direct.synced().await?;
    let relayed = connect_retrying(&b).await?;
    let watch_a = connect_retrying(&a).await?;
    let watch_b = connect_retrying(&b).await?;
    let mut stock = NodePeer::start(&ws_base(&b), "a", &b.keys.join).await?;
    insert(&mut stock, "stock-voor").await?;

    // The writers type until the owner refuses: PostgreSQL is stopped
    // (immediately: backends killed, no checkpoint) while they do.
    let mut pg = Some(pg);
    let mut stopping = None;
    let mut round = 0;
    loop {
        if round == ROUNDS_BEFORE_THE_STOP
            && let Some(pg) = pg.take()
        {
            stopping = Some(tokio::task::spawn_blocking(move || {
                pg.stop_immediately().map(|()| pg)
            }));
        }
        let (d, r) = (format!("d{round}"), format!("r{round}"));
        notes::add(&direct, &d, "Direct", Lane::Goed);
        notes::add(&relayed, &r, "Doorgegeven", Lane::Goed);
        let both = |c: &Client| notes::has_note(c, &d) && notes::has_note(c, &r);
        // Either both arrive (durable, delivered) or the watcher is closed.
        if watch_b.wait_until("the round's notes", both).await.is_err() {
            break;
        }
        round += 1;
        anyhow::ensure!(
            round < 5_000,
            "writes were never refused; log: {}",
            a.log.display()
        );
    }
    let pg = stopping
        .ok_or_else(|| anyhow::anyhow!("refused before the stop; log: {}", a.log.display()))?
        .await??;
    // Everything any client received was committed before the stop.
    let mut received = ids(&watch_a);
    received.extend(ids(&watch_b));
    assert!(received.len() >= 2 * ROUNDS_BEFORE_THE_STOP, "{received:?}");

    // The clients see it: closed with "try again later", and relayed ones
    // too (n2 passes the owner's close on).
    for (who, client) in [
        ("direct", &direct),
        ("relayed", &relayed),
        ("watcher", &watch_b),
    ] {
        let closed = client.closed().await?;
        assert_eq!(closed.code, Some(TRY_AGAIN), "{who}: {closed:?}");
    }
    // Neither node is ready, and a new client is turned away.
    health_becomes(&a, 503).await?;
    health_becomes(&b, 503).await?;
    let refused = Client::connect(&a, "a")
        .await
        .err()
        .map(|e| format!("{e:#}"));
    assert!(
        refused.as_deref().is_some_and(|e| e.contains("503")),
        "a new client during the outage: {refused:?}"
    );
    // The stock client writes on, offline; it sends this once it is back.
    insert(&mut stock, "stock-tijdens").await?;

    pg.start_again()?;
    health_becomes(&a, 200).await?;
    health_becomes(&b, 200).await?;
    // The same processes serve again: a client on each node finds every
    // note any client received, and the stock client's offline note.
    let mut expected = received.clone();
    expected.extend(["stock-voor".to_owned(), "stock-tijdens".to_owned()]);
    for node in [&a, &b] {
        let after = connect_retrying(node).await?;
        after
            .wait_for("every note received before the stop", |_| {
                expected.iter().all(|id| notes::has_note(&after, id))
            })
            .await?;
        notes::add(&after, &format!("na-{}", node.addr), "Daarna", Lane::Goed);
    }
    let later = [format!("na-{}", a.addr), format!("na-{}", b.addr)];
    stock
        .wait_for_notes("the notes written after the restart", |n| {
            has_all(n, &later.iter().cloned().collect())
        })
        .await?;
    Ok(())
}

/// The latency the delay tests add to each direction of a link: a
/// database or a node in another data centre.
const DELAY: Duration = Duration::from_millis(30);

/// Notes each writer adds in the delay tests, as fast as it can.
const NOTES_PER_WRITER: usize = 20;

/// Writers on `owner` (direct) and on `relay` (a relayed Rust client and a
/// stock y-websocket client) type at once; every client, and a client
/// connecting afterwards to either node, must end up with every note.
async fn writers_converge(owner: &Server, relay: &Server) -> anyhow::Result<()> {
    let direct = Client::connect(owner, "a").await?;
    direct.synced().await?;
    let relayed = connect_retrying(relay).await?;
    let mut stock = NodePeer::start(&ws_base(relay), "a", &relay.keys.join).await?;
    let mut all = BTreeSet::new();
    for i in 0..NOTES_PER_WRITER {
        let (d, r, s) = (format!("d{i}"), format!("r{i}"), format!("s{i}"));
        notes::add(&direct, &d, "Direct", Lane::Goed);
        notes::add(&relayed, &r, "Doorgegeven", Lane::Goed);
        insert(&mut stock, &s).await?;
        all.extend([d, r, s]);
    }
    for (who, client) in [("direct", &direct), ("relayed", &relayed)] {
        client
            .wait_for(&format!("every note on the {who} client"), |_| {
                all.iter().all(|id| notes::has_note(client, id))
            })
            .await?;
    }
    stock
        .wait_for_notes("every note on the stock client", |n| has_all(n, &all))
        .await?;
    // Delivered means stored: a fresh client on either node reads them all.
    for node in [owner, relay] {
        let fresh = Client::connect(node, "a").await?;
        fresh
            .wait_for("every note, read afresh", |_| {
                all.iter().all(|id| notes::has_note(&fresh, id))
            })
            .await?;
    }
    Ok(())
}

#[tokio::test]
async fn an_owner_reaching_postgres_through_a_delay_loses_nothing() -> anyhow::Result<()> {
    let db = werktafel_tests::postgres::TestDb::create()?;
    let dir = tempfile::tempdir()?;
    // n1 reaches PostgreSQL through the delay (every statement, the
    // heartbeat and each commit, pays a round trip of 60 ms); n2 directly.
    let (head, rest) = db.url.split_once('@').expect("a user in the URL");
    let (target, database) = rest.split_once('/').expect("a database in the URL");
    let proxy = Proxy::start_at("127.0.0.1:0", target.parse()?, Latency::each_way(DELAY)).await?;
    let slow_url = format!("{head}@{}/{database}", proxy.addr);
    let a = node_on(&slow_url, dir.path(), "127.0.0.1", "n1", &[]).await?;
    let b = node_on(&db.url, dir.path(), "127.0.0.2", "n2", &[]).await?;
    writers_converge(&a, &b).await?;
    assert_eq!(a.metric(OWNED).await?, 1, "the slow node kept the table");
    Ok(())
}

#[tokio::test]
async fn a_relay_reaching_the_owner_through_a_delay_loses_nothing() -> anyhow::Result<()> {
    let db = werktafel_tests::postgres::TestDb::create()?;
    let dir = tempfile::tempdir()?;
    // n1 advertises the delayed proxy as its internal address, so every
    // relayed frame pays the delay both ways. The proxy dials n1 lazily,
    // so it can start first, on the port n1 is about to take.
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let owner_addr: std::net::SocketAddr = format!("127.0.0.1:{port}").parse()?;
    let proxy = Proxy::start_at("127.0.0.1:0", owner_addr, Latency::each_way(DELAY)).await?;
    let advertise = proxy.addr.to_string();
    let args = [
        "--store",
        &db.url,
        "--node-id",
        "n1",
        "--cluster-secret",
        SECRET,
        "--lease-ttl-ms",
        "1500",
        "--heartbeat-ms",
        "300",
        "--advertise",
        &advertise,
    ];
    let a = Server::start_at(&owner_addr.to_string(), dir.path(), &args).await?;
    let b = node_on(&db.url, dir.path(), "127.0.0.2", "n2", &[]).await?;
    writers_converge(&a, &b).await?;
    assert_eq!(a.metric(OWNED).await?, 1);
    assert!(
        b.metric(FORWARDS).await? >= 2,
        "n2 relayed through the delay"
    );
    Ok(())
}
