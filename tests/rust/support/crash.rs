//! The crash drill: writers under load, the server SIGKILLed at a random
//! moment and restarted on the same data directory, round after round.
//! After every restart, each note that any client had received must be
//! there. Used by the integration test (a few rounds) and by the
//! `werktafel-crash` bench binary (a hundred).

use std::collections::BTreeSet;
use std::path::Path;

use anyhow::Context;
use werktafel_shared::schema::{self, Lane, NoteColor, NoteDraft};

use crate::{Client, Server};

/// Limits lifted so the writers are not throttled: the drill is about
/// durability, not rate limits.
pub const SERVER_ARGS: &[&str] = &[
    "--messages-per-second",
    "1000000",
    "--bytes-per-second",
    "1000000000",
];

/// What a drill found.
#[derive(Debug, Default)]
pub struct Outcome {
    pub rounds: usize,
    /// Notes some client had received before a kill.
    pub observed: usize,
    /// Of those, notes missing after the restart (the goal is none).
    pub lost: Vec<String>,
}

/// Runs `rounds` kill-and-restart rounds with `writers` writing clients.
/// `seed` makes the kill moments reproducible.
pub async fn drill(
    data_dir: &Path,
    rounds: usize,
    writers: usize,
    seed: u64,
) -> anyhow::Result<Outcome> {
    drill_with(data_dir, &[], rounds, writers, seed).await
}

/// [`drill`] with extra `serve` arguments (`--store postgres://…`).
pub async fn drill_with(
    data_dir: &Path,
    extra: &[&str],
    rounds: usize,
    writers: usize,
    seed: u64,
) -> anyhow::Result<Outcome> {
    let args: Vec<&str> = SERVER_ARGS.iter().chain(extra).copied().collect();
    let mut rng = Lcg(seed | 1);
    let mut outcome = Outcome::default();
    let mut all_observed = BTreeSet::new();
    for round in 0..rounds {
        let mut server = Server::start_in(data_dir, &args).await?;
        let observer = Client::connect(&server, "a").await?;
        observer.synced().await?;
        let before = schema::note_count(&observer.doc);
        let mut clients = Vec::with_capacity(writers);
        for _ in 0..writers {
            let c = Client::connect(&server, "a").await?;
            c.synced().await?;
            clients.push(c);
        }
        // Each writer sends a stream of notes; the server is killed once
        // the observer has seen a random number of them.
        let kill_after = 1 + (rng.next() % 120) as usize;
        let mut sent = 0usize;
        while schema::note_count(&observer.doc) < before + kill_after {
            for (w, client) in clients.iter().enumerate() {
                let id = format!("r{round}w{w}n{sent}");
                client.edit(|txn| schema::insert_note(txn, &draft(&id)));
            }
            sent += 1;
            // Let the observer take in what arrived before sending more.
            observer.wait_until("anything", |_| true).await?;
            tokio::task::yield_now().await;
        }
        server.kill().await;
        let seen: BTreeSet<String> = observer.notes().into_iter().map(|n| n.id).collect();
        all_observed.extend(seen);
        drop(clients);

        let mut server = Server::start_in(data_dir, &args).await?;
        let check = Client::connect(&server, "a").await?;
        check.synced().await.context("syncing after the restart")?;
        let kept: BTreeSet<String> = check.notes().into_iter().map(|n| n.id).collect();
        for id in all_observed.difference(&kept) {
            outcome.lost.push(id.clone());
        }
        outcome.rounds = round + 1;
        outcome.observed = all_observed.len();
        drop(check);
        // Gone before the next round starts on the same data directory
        // (which a running node keeps locked).
        server.kill().await;
        if !outcome.lost.is_empty() {
            break;
        }
    }
    Ok(outcome)
}

/// The note every drill writer inserts (one per id).
pub(crate) fn draft(id: &str) -> NoteDraft {
    NoteDraft {
        id: id.to_string(),
        text: "Crashtest".into(),
        lane: Lane::Goed,
        color: NoteColor::Geel,
        x: 0.0,
        y: 0.0,
        author: "Drill".into(),
        author_id: "drill".into(),
        now_ms: 1_700_000_000_000,
    }
}

/// A tiny deterministic generator: enough to pick kill moments.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }
}
