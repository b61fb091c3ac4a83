//! The crash drill on a cluster: three nodes on one PostgreSQL, writers
//! spread over them, the table's owner SIGKILLed at a random moment, round
//! after round. After each kill a client of a surviving node (which takes
//! the table over once the dead owner's lease ran out) must find every note
//! any client had received. Used by the integration test and, at full
//! length, by whoever runs it with more rounds.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context;
use werktafel_shared::schema;

use crate::crash::{Outcome, SERVER_ARGS, draft};
use crate::{Client, Server};

/// A node's lease in the drill: short, so a round takes seconds.
pub const LEASE_TTL_MS: &str = "1500";
pub const HEARTBEAT_MS: &str = "300";

/// The lease the nodes of a drill run with (`--lease-ttl-ms`, `--heartbeat-ms`).
#[derive(Debug, Clone, Copy)]
pub struct Lease<'a> {
    pub ttl_ms: &'a str,
    pub heartbeat_ms: &'a str,
}

/// The drill's usual lease: [`LEASE_TTL_MS`], [`HEARTBEAT_MS`].
pub const SHORT_LEASE: Lease<'static> = Lease {
    ttl_ms: LEASE_TTL_MS,
    heartbeat_ms: HEARTBEAT_MS,
};
const SECRET: &str = "het-geheim-van-de-crash-drill";

/// What the drill measured besides losses.
#[derive(Debug, Default)]
pub struct FailOver {
    /// From each kill to the first client served by the new owner.
    pub times: Vec<Duration>,
}

/// Node `i` (0, 1, 2) of the drill on `db_url`, listening on 127.0.0.(i+1).
async fn start_node(
    db_url: &str,
    dir: &Path,
    i: usize,
    lease: Lease<'_>,
) -> anyhow::Result<Server> {
    let name = format!("n{}", i + 1);
    let mut args: Vec<&str> = SERVER_ARGS.to_vec();
    args.extend([
        "--store",
        db_url,
        "--node-id",
        &name,
        "--cluster-secret",
        SECRET,
        "--lease-ttl-ms",
        lease.ttl_ms,
        "--heartbeat-ms",
        lease.heartbeat_ms,
    ]);
    Server::start_at(&format!("127.0.0.{}:0", i + 1), dir, &args).await
}

/// Connects to table `a` on `server` and waits until it is synced, trying
/// again while the table's dead owner still holds its lease (its node
/// answers 503) or when the table moves before the sync (1012: a node whose
/// heartbeat was late gave its lease up), as a stock client's back-off does.
async fn connect_retrying(server: &Server) -> anyhow::Result<Client> {
    let deadline = Instant::now() + crate::WAIT;
    loop {
        let synced = async {
            let client = Client::connect(server, "a").await?;
            client.synced().await?;
            anyhow::Ok(client)
        };
        match synced.await {
            Ok(client) => return Ok(client),
            // A stock client waits at least 100 ms between attempts too.
            Err(_) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(error) => return Err(error.context("connecting after the kill")),
        }
    }
}

/// Runs `rounds` kills of the table's owner with `writers` writing clients
/// spread over three nodes; `seed` makes the kill moments reproducible.
pub async fn drill(
    db_url: &str,
    dir: &Path,
    rounds: usize,
    writers: usize,
    seed: u64,
) -> anyhow::Result<(Outcome, FailOver)> {
    drill_with_lease(db_url, dir, rounds, writers, seed, SHORT_LEASE).await
}

/// [`drill`] with the nodes on `lease`.
pub async fn drill_with_lease(
    db_url: &str,
    dir: &Path,
    rounds: usize,
    writers: usize,
    seed: u64,
    lease: Lease<'_>,
) -> anyhow::Result<(Outcome, FailOver)> {
    let mut nodes = Vec::new();
    for i in 0..3 {
        nodes.push(start_node(db_url, dir, i, lease).await?);
    }
    let mut rng = seed | 1;
    let mut outcome = Outcome::default();
    let mut fail_over = FailOver::default();
    let mut all_observed = BTreeSet::new();
    // Round 0's owner: the node the first client reaches.
    let mut owner = 0;
    for round in 0..rounds {
        // Writer 0 reaches the owner first (in round 0 that makes it the
        // owner); the others and the observer are spread over the nodes,
        // the observer on one that survives the kill.
        let mut clients = Vec::with_capacity(writers);
        for w in 0..writers {
            let node = (owner + w) % 3;
            clients.push(
                connect_retrying(&nodes[node])
                    .await
                    .with_context(|| format!("round {round}: writer {w} on n{}", node + 1))?,
            );
        }
        let watcher = (owner + 1) % 3;
        let observer = connect_retrying(&nodes[watcher])
            .await
            .with_context(|| format!("round {round}: the observer on n{}", watcher + 1))?;
        let before = schema::note_count(&observer.doc);
        rng = rng
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let kill_after = 1 + ((rng >> 33) % 120) as usize;
        let mut sent = 0usize;
        while schema::note_count(&observer.doc) < before + kill_after {
            for (w, client) in clients.iter().enumerate() {
                let id = format!("r{round}w{w}n{sent}");
                client.edit(|txn| schema::insert_note(txn, &draft(&id)));
            }
            sent += 1;
            observer.wait_until("anything", |_| true).await?;
            tokio::task::yield_now().await;
        }
        nodes[owner].kill().await;
        let killed = Instant::now();
        let seen: BTreeSet<String> = observer.notes().into_iter().map(|n| n.id).collect();
        all_observed.extend(seen);
        drop(clients);
        drop(observer);

        let check = connect_retrying(&nodes[watcher]).await.with_context(|| {
            format!(
                "round {round}: syncing on n{} after n{} was killed",
                watcher + 1,
                owner + 1
            )
        })?;
        fail_over.times.push(killed.elapsed());
        let kept: BTreeSet<String> = check.notes().into_iter().map(|n| n.id).collect();
        outcome.lost.extend(all_observed.difference(&kept).cloned());
        outcome.rounds = round + 1;
        outcome.observed = all_observed.len();
        drop(check);
        // The killed node comes back (as the same node, on its own
        // address); the table stays with whoever took it.
        nodes[owner] = start_node(db_url, dir, owner, lease).await?;
        owner = watcher;
        if !outcome.lost.is_empty() {
            break;
        }
    }
    Ok((outcome, fail_over))
}
