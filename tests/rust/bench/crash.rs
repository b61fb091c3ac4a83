//! `werktafel-crash`: the crash drill at full length. Writers under load, the
//! server SIGKILLed at a random moment and restarted on the same data
//! directory (or PostgreSQL database, `--store`), `--rounds` times; reports
//! rounds, notes observed and lost. With `--cluster`, the drill runs on three
//! nodes sharing the PostgreSQL database (`cluster_drill.rs`: writers spread
//! over the nodes, the table's owner killed each round) and also reports the
//! fail-over times it saw.

use std::time::Duration;

use clap::Parser;
use werktafel_tests::{cluster_drill, crash};

#[derive(Parser)]
#[command(about = "Kill the server under load and check that nothing any client saw is lost")]
struct Cli {
    #[arg(long, default_value_t = 100)]
    rounds: usize,
    #[arg(long, default_value_t = 20)]
    writers: usize,
    #[arg(long, default_value_t = 2026)]
    seed: u64,
    /// The server's `--store`: `sqlite`, or a PostgreSQL URL (an empty
    /// database of its own: the drill's notes stay in it).
    #[arg(long, default_value = "sqlite")]
    store: String,
    /// Three nodes on the `--store` PostgreSQL database, killing the table's
    /// owner each round.
    #[arg(long)]
    cluster: bool,
    /// `--cluster`: the nodes' lease TTL (default: the CI test's, short so a
    /// round takes seconds).
    #[arg(long, default_value = cluster_drill::LEASE_TTL_MS)]
    lease_ttl_ms: String,
    /// `--cluster`: the nodes' heartbeat interval.
    #[arg(long, default_value = cluster_drill::HEARTBEAT_MS)]
    heartbeat_ms: String,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let dir = tempfile::tempdir()?;
    let started = std::time::Instant::now();
    let (outcome, kind, fail_over) = if cli.cluster {
        anyhow::ensure!(
            cli.store.starts_with("postgres"),
            "--cluster needs --store postgres://… (an empty database the three nodes share)"
        );
        let lease = cluster_drill::Lease {
            ttl_ms: &cli.lease_ttl_ms,
            heartbeat_ms: &cli.heartbeat_ms,
        };
        let drilled = cluster_drill::drill_with_lease(
            &cli.store,
            dir.path(),
            cli.rounds,
            cli.writers,
            cli.seed,
            lease,
        )
        .await;
        let (outcome, fail_over) = match drilled {
            Ok(done) => done,
            Err(error) => {
                // The nodes' logs say what happened: keep them.
                let kept = dir.keep();
                eprintln!("the nodes' logs are kept in {}", kept.display());
                return Err(error);
            }
        };
        (outcome, "cluster of 3 on postgres", fail_over.times)
    } else {
        let store = ["--store", cli.store.as_str()];
        let outcome =
            crash::drill_with(dir.path(), &store, cli.rounds, cli.writers, cli.seed).await?;
        let kind = if cli.store == "sqlite" {
            "sqlite"
        } else {
            "postgres"
        };
        (outcome, kind, Vec::new())
    };
    println!(
        "crash drill ({kind}): {} rounds, {} writers, {} notes observed before kills, {} lost, {:.1} s",
        outcome.rounds,
        cli.writers,
        outcome.observed,
        outcome.lost.len(),
        started.elapsed().as_secs_f64()
    );
    if !fail_over.is_empty() {
        let mut times = fail_over;
        times.sort_unstable();
        let at = |q: f64| {
            let rank = ((q / 100.0) * times.len() as f64).ceil() as usize;
            times[rank.clamp(1, times.len()) - 1].as_secs_f64() * 1000.0
        };
        println!(
            "fail-over (kill → a client of a surviving node synced on the new owner, retrying every 100 ms; lease TTL {} ms, heartbeat {} ms): p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms",
            cli.lease_ttl_ms,
            cli.heartbeat_ms,
            at(50.0),
            at(99.0),
            times
                .last()
                .copied()
                .unwrap_or(Duration::ZERO)
                .as_secs_f64()
                * 1000.0
        );
    }
    if !outcome.lost.is_empty() {
        anyhow::bail!("lost notes: {:?}", outcome.lost);
    }
    Ok(())
}
