//! `werktafel-crash`: the crash drill at full length. Writers under load, the
//! server SIGKILLed at a random moment and restarted on the same data
//! directory (or PostgreSQL database, `--store`), `--rounds` times; reports
//! rounds, notes observed and lost.

use clap::Parser;
use werktafel_tests::crash;

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
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let dir = tempfile::tempdir()?;
    let started = std::time::Instant::now();
    let store = ["--store", cli.store.as_str()];
    let outcome = crash::drill_with(dir.path(), &store, cli.rounds, cli.writers, cli.seed).await?;
    println!(
        "crash drill ({}): {} rounds, {} writers, {} notes observed before kills, {} lost, {:.1} s",
        if cli.store == "sqlite" {
            "sqlite"
        } else {
            "postgres"
        },
        outcome.rounds,
        cli.writers,
        outcome.observed,
        outcome.lost.len(),
        started.elapsed().as_secs_f64()
    );
    if !outcome.lost.is_empty() {
        anyhow::bail!("lost notes: {:?}", outcome.lost);
    }
    Ok(())
}
