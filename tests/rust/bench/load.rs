//! `werktafel-load`: a load generator for the sync endpoint. It holds many
//! WebSocket clients on the tables of the built-in event, lets some of them
//! type into notes at a fixed rate, and reports connections held, edits and
//! deliveries per second, and propagation latency from a writer's send to
//! each receiver's apply. See `docs/benchmarks.md` for how it is run.

mod peer;
mod report;

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::{Parser, ValueEnum};
use tokio::sync::{Semaphore, watch};
use werktafel_tests::Server;

use crate::peer::{Peer, PeerStats, Phase, Presence, Role, TableWriters};
use crate::report::{CpuClock, Report};

/// The tables of the built-in event: the only rooms the server will open.
const TABLES: [&str; 4] = ["a", "b", "c", "d"];
/// How many WebSocket handshakes run at once; more only overflows the
/// server's accept backlog and turns into connect failures of the generator's making.
const CONNECT_CONCURRENCY: usize = 64;
/// How long every client gets to connect and sync before the run starts anyway.
const CONNECT_DEADLINE: Duration = Duration::from_secs(120);
/// After the window closes, how long receivers get to apply what is in flight.
const DRAIN: Duration = Duration::from_secs(3);

#[derive(Parser, Debug)]
#[command(
    name = "werktafel-load",
    about = "Load generator for Werktafel's sync endpoint"
)]
struct Cli {
    /// A running server (`HOST:PORT`); without it the bench starts
    /// `target/<profile>/werktafel` (or `$WERKTAFEL_BIN`) on a temporary data dir.
    #[arg(long)]
    addr: Option<String>,
    /// The participant key of the server given with `--addr` (the `key=` of
    /// the participant link it prints).
    #[arg(long)]
    key: Option<String>,
    /// Named preset; the options below override its values.
    #[arg(long, value_enum, default_value_t = Scenario::Workshop)]
    scenario: Scenario,
    /// Tables to use (1–4: the built-in event has tables a–d only).
    #[arg(long)]
    tables: Option<usize>,
    /// Clients per table.
    #[arg(long)]
    clients: Option<usize>,
    /// How many of each table's clients type.
    #[arg(long)]
    writers_per_table: Option<usize>,
    /// Edits (typed characters) per second per writer.
    #[arg(long)]
    rate: Option<f64>,
    /// Seconds measured, after the warm-up.
    #[arg(long, default_value_t = 30)]
    duration: u64,
    /// Seconds of typing before the measurement starts.
    #[arg(long, default_value_t = 5)]
    warmup: u64,
    /// What each client does with awareness: nothing, publish once after
    /// sync (like a browser joining), or also renew it every 15 s (like
    /// y-protocols' awareness does).
    #[arg(long, value_enum, default_value_t = Presence::Join)]
    presence: Presence,
    /// The pid of the server given with `--addr`, to report its CPU use.
    #[arg(long)]
    server_pid: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Scenario {
    /// A workshop afternoon: 4 tables × 50 clients, 5 writers per table at 2 edits/s.
    Workshop,
    /// Many idle connections: 2,000 clients across 4 tables, 1 writer per table at 2 edits/s.
    Connections,
}

/// The load a run applies, the scenario with the CLI's overrides.
#[derive(Debug, Clone)]
pub struct Plan {
    pub scenario: String,
    pub tables: usize,
    pub clients: usize,
    pub writers: usize,
    pub rate: f64,
    pub warmup: Duration,
    pub duration: Duration,
    pub presence: Presence,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let plan = Plan::from_cli(&cli)?;
    raise_fd_limit(plan.tables * plan.clients);
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(run(cli, plan))
}

async fn run(cli: Cli, plan: Plan) -> anyhow::Result<()> {
    // Keeps a server the bench started alive until the end of the run.
    let (addr, key, server_pid, _server) = match &cli.addr {
        Some(addr) => (
            addr.clone(),
            cli.key.clone().unwrap_or_default(),
            cli.server_pid,
            None,
        ),
        None => {
            let server = Server::start().await.context("starting the server")?;
            (
                server.addr.clone(),
                server.keys.join.clone(),
                server.pid(),
                Some(server),
            )
        }
    };
    eprintln!(
        "werktafel-load: {} against {addr}; connecting {} clients",
        plan.describe(),
        plan.tables * plan.clients
    );

    let (phase_tx, phase) = watch::channel(Phase::Connecting);
    let (synced_tx, mut synced) = watch::channel(0usize);
    let synced_tx = Arc::new(synced_tx);
    let connect_gate = Arc::new(Semaphore::new(CONNECT_CONCURRENCY));
    let mut tasks = Vec::new();
    for table in &TABLES[..plan.tables] {
        let writers = Arc::new(TableWriters::new(plan.writers));
        for index in 0..plan.clients {
            let role = if index < plan.writers {
                Role::Writer(index)
            } else {
                Role::Reader
            };
            let peer = Peer {
                url: format!("ws://{addr}/sync/atelierdag-2022/{table}?key={key}"),
                role,
                writers: writers.clone(),
                rate: plan.rate,
                presence: plan.presence,
            };
            tasks.push(tokio::spawn(peer.run(
                phase.clone(),
                connect_gate.clone(),
                synced_tx.clone(),
            )));
        }
    }
    drop(synced_tx);

    let started = Instant::now();
    let total = tasks.len();
    let all_in = tokio::time::timeout(CONNECT_DEADLINE, synced.wait_for(|n| *n >= total))
        .await
        .is_ok();
    let connect_time = started.elapsed();
    if !all_in {
        eprintln!(
            "werktafel-load: only {} of {total} clients synced after {CONNECT_DEADLINE:?}; running with those",
            *synced.borrow()
        );
    }

    phase_tx.send_replace(Phase::Warmup);
    tokio::time::sleep(plan.warmup).await;
    let cpu_start = CpuClock::now(server_pid);
    phase_tx.send_replace(Phase::Measure);
    tokio::time::sleep(plan.duration).await;
    phase_tx.send_replace(Phase::Drain);
    let cpu = CpuClock::now(server_pid).since(&cpu_start);
    tokio::time::sleep(DRAIN).await;
    phase_tx.send_replace(Phase::Stop);

    let mut stats: Vec<(usize, PeerStats)> = Vec::with_capacity(total);
    for (i, task) in tasks.into_iter().enumerate() {
        let table = i / plan.clients;
        stats.push((table, task.await.context("a client task panicked")?));
    }
    let report = Report::new(&plan, &addr, connect_time, cpu, stats);
    println!("{report}");
    Ok(())
}

impl Plan {
    fn from_cli(cli: &Cli) -> anyhow::Result<Plan> {
        let (tables, clients, writers, rate) = match cli.scenario {
            Scenario::Workshop => (4, 50, 5, 2.0),
            Scenario::Connections => (4, 500, 1, 2.0),
        };
        let plan = Plan {
            scenario: format!("{:?}", cli.scenario).to_lowercase(),
            tables: cli.tables.unwrap_or(tables),
            clients: cli.clients.unwrap_or(clients),
            writers: cli.writers_per_table.unwrap_or(writers),
            rate: cli.rate.unwrap_or(rate),
            warmup: Duration::from_secs(cli.warmup),
            duration: Duration::from_secs(cli.duration),
            presence: cli.presence,
        };
        if !(1..=TABLES.len()).contains(&plan.tables) {
            bail!(
                "--tables {}: the built-in event has four tables (a–d); more rooms need a server \
                 started with --event of a larger event, which this bench does not generate",
                plan.tables
            );
        }
        if plan.clients == 0 || plan.writers > plan.clients {
            bail!(
                "--clients {} must be at least 1 and at least --writers-per-table {}",
                plan.clients,
                plan.writers
            );
        }
        if plan.writers > 0 && !(plan.rate > 0.0 && plan.rate.is_finite()) {
            bail!("--rate {} must be a positive number", plan.rate);
        }
        if plan.duration.is_zero() {
            bail!("--duration must be at least 1 second");
        }
        Ok(plan)
    }

    fn describe(&self) -> String {
        format!(
            "scenario {}: {} table(s) × {} clients, {} writer(s)/table at {} edits/s, presence {:?}",
            self.scenario, self.tables, self.clients, self.writers, self.rate, self.presence
        )
    }
}

/// Lifts the soft limit on open files to the hard limit: every client is a
/// socket, and the default soft limit (often 1024) is below the connections preset.
fn raise_fd_limit(connections: usize) {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) if limit < connections as u64 + 64 => eprintln!(
            "werktafel-load: open-file limit is {limit}, below {connections} connections; raise the hard limit (ulimit -Hn)"
        ),
        Ok(_) => {}
        Err(e) => eprintln!("werktafel-load: could not raise the open-file limit: {e}"),
    }
}
