//! `werktafel-load`: a load generator for the sync endpoint. It holds many
//! WebSocket clients on the tables of the built-in event, lets some of them
//! type into notes at a fixed rate, and reports connections held, edits and
//! deliveries per second, propagation latency from a writer's send to each
//! receiver's apply, and the server's CPU and memory. It speaks y-websocket or
//! Hocuspocus framing, so `bench/run.sh` drives the reference servers with the
//! same load. See `docs/benchmarks.md` for how it is run.

mod header;
mod hostile;
mod join;
mod peer;
mod report;
mod wire;
mod workload;

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::{Parser, ValueEnum};
use tokio::sync::{Semaphore, watch};
use werktafel_tests::Server;

use crate::peer::{AWARENESS_RENEW, Peer, PeerStats, Phase, Presence, Role, TableWriters};
use crate::report::{CpuClock, Memory, Readings, Report, Sample, Watched, status_kib};
use crate::wire::{Protocol, Wire};
use crate::workload::Workload;

/// The tables of the built-in event: the only rooms Werktafel opens with it.
const TABLES: [&str; 4] = ["a", "b", "c", "d"];
/// The built-in event, in the sync URL of every scenario but `many-rooms`.
const BUILTIN_EVENT: &str = "atelierdag-2022";
/// `bench/events/twenty-tables.toml`: tables t1 … t20, for `many-rooms`.
const TWENTY_TABLES_EVENT: &str = "bench-twenty-tables";
const TWENTY_TABLES_TOML: &str = "bench/events/twenty-tables.toml";
/// How often the server's memory and open files are sampled during the window.
pub const SAMPLE_EVERY: Duration = Duration::from_secs(10);
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
    /// A running server (`HOST:PORT`), or the nodes of a cluster
    /// (`HOST:PORT,HOST:PORT,…`): connections are spread over them round-robin
    /// in the order they are opened (connection i goes to node i mod n), as a
    /// load balancer would. Without it the bench starts
    /// `target/<profile>/werktafel` (or `$WERKTAFEL_BIN`) on a temporary data dir.
    #[arg(long, value_delimiter = ',')]
    addr: Vec<String>,
    /// The participant key of the server given with `--addr` (the `key=` of
    /// the participant link it prints).
    #[arg(long)]
    key: Option<String>,
    /// Named preset; the options below override its values.
    #[arg(long, value_enum, default_value_t = Scenario::Workshop)]
    scenario: Scenario,
    /// The framing the server speaks: y-websocket (Werktafel,
    /// `@y/websocket-server`) or Hocuspocus's (document name before every message).
    #[arg(long, value_enum, default_value_t = Protocol::Yws)]
    protocol: Protocol,
    /// The name of the server in the `result` line (`bench/run.sh` sets it).
    #[arg(long, default_value = "werktafel")]
    label: String,
    /// The event in the sync URL `/sync/{event}/{table}`. Up to four tables
    /// are named a–d (the built-in event); more are named t1, t2, …, which
    /// Werktafel opens only with an `--event` file that defines them.
    /// Default: `bench-twenty-tables` (`bench/events/twenty-tables.toml`) in
    /// `many-rooms`, else `atelierdag-2022`.
    #[arg(long)]
    event: Option<String>,
    /// Tables to use.
    #[arg(long)]
    tables: Option<usize>,
    /// Clients per table.
    #[arg(long)]
    clients: Option<usize>,
    /// How many of each table's clients type.
    #[arg(long)]
    writers_per_table: Option<usize>,
    /// Edits (typed characters, or notes with `--workload note-insert`) per
    /// second per writer.
    #[arg(long)]
    rate: Option<f64>,
    /// What one edit is: a typed character (default) or a whole new note
    /// (default of the `note-insert` preset).
    #[arg(long, value_enum)]
    workload: Option<Workload>,
    /// How many of each table's clients apply what they receive to their
    /// document; the others only decode updates to count and time them.
    /// Default: all, except in `saturation` (1).
    #[arg(long)]
    appliers: Option<usize>,
    /// Seconds between awareness renewals with `--presence renew`.
    #[arg(long)]
    presence_interval: Option<f64>,
    /// `join-storm` / `fresh-sync`: notes in the table before the joins.
    #[arg(long)]
    notes: Option<usize>,
    /// `join-storm` / `fresh-sync`: how many times the clients join.
    #[arg(long)]
    rounds: Option<usize>,
    /// `join-storm` / `fresh-sync`: do not edit the table between rounds, so
    /// every round after the first may be answered from a cached full state.
    #[arg(long)]
    unchanged: bool,
    /// Seconds measured, after the warm-up (default 30; 10 in `saturation`,
    /// 600 in `soak`). The server's RSS and open files are sampled every 10 s.
    #[arg(long)]
    duration: Option<u64>,
    /// Seconds of typing before the measurement starts (default 5; 3 in `saturation`).
    #[arg(long)]
    warmup: Option<u64>,
    /// What each client does with awareness: nothing, publish once after
    /// sync (like a browser joining), or also renew it every
    /// `--presence-interval` (15 s, like y-protocols' awareness does).
    #[arg(long, value_enum)]
    presence: Option<Presence>,
    /// The pid of the server given with `--addr`, to report its CPU use; for
    /// a cluster every node's, comma-separated: their CPU is summed (memory
    /// and open files are the first one's).
    #[arg(long, value_delimiter = ',')]
    server_pid: Vec<u32>,
    /// The pid of the database's postmaster (PostgreSQL), to report the CPU
    /// of it and its backends apart from the server's.
    #[arg(long)]
    store_pid: Option<u32>,
    /// The plenary key of the server given with `--addr` (`hostile`: the
    /// export loops use it).
    #[arg(long)]
    view_key: Option<String>,
    /// `hostile`: run the same load and `/healthz` probe without the
    /// attackers, as the baseline.
    #[arg(long)]
    no_attack: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Scenario {
    /// A workshop afternoon: 4 tables × 50 clients, 5 writers per table at 2 edits/s.
    Workshop,
    /// The workshop with every client renewing its presence at 1 Hz.
    WorkshopPresence,
    /// Many idle connections: 2,000 clients across 4 tables, 1 writer per table at 2 edits/s.
    Connections,
    /// One hot room: 1 table × 10 clients, all writing at `--rate` (default
    /// 100/s each); one client applies, the others count. `bench/run.sh` steps the rate.
    Saturation,
    /// Saturation with whole notes: 1 table × 10 clients, each edit of every
    /// writer adds a new note (~330 B, `--workload note-insert`); one client
    /// applies, the others count. `bench/run.sh` steps the rate.
    NoteInsert,
    /// 10,000 idle connections across 4 tables: nobody writes, no presence.
    Idle,
    /// Presence only: 4 tables × 250 clients renewing their awareness at 1 Hz.
    Presence,
    /// 150 clients ask for a 10,000-note table's full state at the same moment.
    JoinStorm,
    /// One fresh client asks for a 10,000-note table's full state, 100 times.
    FreshSync,
    /// Many rooms: 20 tables × 50 clients, 5 writers per table at 2 edits/s,
    /// presence at 1 Hz (needs a server started with `bench/events/twenty-tables.toml`).
    ManyRooms,
    /// Big rooms: 4 tables × 500 clients, 5 writers per table at 2 edits/s.
    BigRooms,
    /// The workshop with presence at 1 Hz for 10 minutes, watching the
    /// server's memory and open files for drift.
    Soak,
    /// The workshop while key-holders attack (issue 10: a theme bomb,
    /// summary and export loops, slow headers, 300 live-summary streams, a
    /// presence flood), with `/healthz` timed throughout; `--no-attack` is
    /// the same run without the attackers.
    Hostile,
}

/// The load a run applies, the scenario with the CLI's overrides.
#[derive(Debug, Clone)]
pub struct Plan {
    pub scenario: String,
    pub protocol: Protocol,
    pub event: String,
    pub tables: usize,
    pub clients: usize,
    pub writers: usize,
    pub workload: Workload,
    pub appliers: usize,
    pub rate: f64,
    pub warmup: Duration,
    pub duration: Duration,
    pub presence: Presence,
    pub presence_interval: Duration,
    pub notes: usize,
    pub rounds: usize,
    pub edit_between_rounds: bool,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let plan = Plan::from_cli(&cli)?;
    raise_fd_limit(plan.tables * plan.clients);
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(async move {
            if matches!(cli.scenario, Scenario::JoinStorm | Scenario::FreshSync) {
                join::run(cli, plan).await
            } else {
                run(cli, plan).await
            }
        })
}

/// Where the load goes: a server given with `--addr`, or one this bench started.
pub struct Target {
    /// The first (or only) node: where the single-address scenarios go.
    pub addr: String,
    /// Every node; the load spreads its connections over them.
    pub addrs: Vec<String>,
    pub key: String,
    pub view_key: Option<String>,
    /// The first node's pid: whose memory and open files are sampled.
    pub server_pid: Option<u32>,
    /// Whose CPU is read: every node, and the database if given.
    pub watched: Watched,
    /// Keeps a server the bench started alive until the end of the run.
    _server: Option<Server>,
    /// The data directory of a server the bench started.
    _data: Option<tempfile::TempDir>,
}

impl Target {
    async fn from_cli(cli: &Cli, plan: &Plan) -> anyhow::Result<Target> {
        Ok(match cli.addr.first() {
            Some(addr) => Target {
                addr: addr.clone(),
                addrs: cli.addr.clone(),
                key: cli.key.clone().unwrap_or_default(),
                view_key: cli.view_key.clone(),
                server_pid: cli.server_pid.first().copied(),
                watched: Watched {
                    servers: cli.server_pid.clone(),
                    store: cli.store_pid,
                },
                _server: None,
                _data: None,
            },
            None => {
                let data = tempfile::tempdir()?;
                // The twenty tables exist only in their event file.
                let event =
                    concat!(env!("CARGO_MANIFEST_DIR"), "/../").to_string() + TWENTY_TABLES_TOML;
                let extra: &[&str] = if plan.event == TWENTY_TABLES_EVENT {
                    &["--event", &event]
                } else {
                    &[]
                };
                let server = Server::start_in(data.path(), extra)
                    .await
                    .context("starting the server")?;
                Target {
                    addr: server.addr.clone(),
                    addrs: vec![server.addr.clone()],
                    key: server.keys.join.clone(),
                    view_key: Some(server.keys.view.clone()),
                    server_pid: server.pid(),
                    watched: Watched {
                        servers: server.pid().into_iter().collect(),
                        store: None,
                    },
                    _server: Some(server),
                    _data: Some(data),
                }
            }
        })
    }

    /// The sync URL of a table on the first node and the framing for it
    /// (Hocuspocus names the document `{event}/{table}` in every message).
    pub fn endpoint(&self, plan: &Plan, table: &str) -> (String, Wire) {
        self.endpoint_on(plan, table, 0)
    }

    /// [`Target::endpoint`] for the `n`th connection opened: on node `n mod
    /// nodes`, round-robin.
    pub fn endpoint_on(&self, plan: &Plan, table: &str, n: usize) -> (String, Wire) {
        let addr = &self.addrs[n % self.addrs.len()];
        let url = format!("ws://{addr}/sync/{}/{table}?key={}", plan.event, self.key);
        let document = format!("{}/{table}", plan.event);
        (url, Wire::new(plan.protocol, &document, &self.key))
    }

    pub fn rss_kib(&self, field: &str) -> Option<u64> {
        status_kib(self.server_pid?, field)
    }
}

/// The name of table `index`: a–d for the built-in event, else t1, t2, ….
pub fn table_name(plan: &Plan, index: usize) -> String {
    if plan.tables <= TABLES.len() {
        TABLES[index].to_string()
    } else {
        format!("t{}", index + 1)
    }
}

async fn run(cli: Cli, plan: Plan) -> anyhow::Result<()> {
    let target = Target::from_cli(&cli, &plan).await?;
    let (addr, server_pid) = (target.addrs.join(","), target.server_pid);
    let rss_before = target.rss_kib("VmRSS");
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
    let edit_structs = plan.workload.structs();
    for t in 0..plan.tables {
        let table = table_name(&plan, t);
        let writers = Arc::new(TableWriters::new(plan.writers));
        for index in 0..plan.clients {
            let (url, wire) = target.endpoint_on(&plan, &table, t * plan.clients + index);
            let role = if index < plan.writers {
                Role::Writer(index)
            } else {
                Role::Reader
            };
            let peer = Peer {
                url,
                wire,
                role,
                applies: index < plan.appliers,
                writers: writers.clone(),
                workload: plan.workload,
                edit_structs,
                rate: plan.rate,
                presence: plan.presence,
                presence_interval: plan.presence_interval,
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

    let attack = (cli.scenario == Scenario::Hostile).then(|| {
        let aim = hostile::Aim {
            addr: target.addr.clone(),
            event: plan.event.clone(),
            join_key: target.key.clone(),
            view_key: target.view_key.clone(),
        };
        let attackers = (!cli.no_attack).then(hostile::Attack::default);
        hostile::start(aim, attackers, phase.clone())
    });
    phase_tx.send_replace(Phase::Warmup);
    tokio::time::sleep(plan.warmup).await;
    let rss_connected = target.rss_kib("VmRSS");
    let cpu_start = CpuClock::now(&target.watched);
    phase_tx.send_replace(Phase::Measure);
    let window_start = Instant::now();
    let mut samples = Vec::new();
    loop {
        samples.push(Sample::take(server_pid, window_start.elapsed()));
        let left = plan.duration.saturating_sub(window_start.elapsed());
        if left.is_zero() {
            break;
        }
        tokio::time::sleep(left.min(SAMPLE_EVERY)).await;
    }
    phase_tx.send_replace(Phase::Drain);
    let cpu = CpuClock::now(&target.watched).since(&cpu_start);
    let attacked = match attack {
        Some(running) => Some(running.finish().await),
        None => None,
    };
    tokio::time::sleep(DRAIN).await;
    phase_tx.send_replace(Phase::Stop);

    let mut stats: Vec<(usize, PeerStats)> = Vec::with_capacity(total);
    for (i, task) in tasks.into_iter().enumerate() {
        let table = i / plan.clients;
        stats.push((table, task.await.context("a client task panicked")?));
    }
    let memory = match (rss_before, rss_connected, target.rss_kib("VmHWM")) {
        (Some(before_kib), Some(connected_kib), Some(peak_kib)) => Some(Memory {
            before_kib,
            connected_kib,
            peak_kib,
        }),
        _ => None,
    };
    let readings = Readings {
        cpu,
        memory,
        samples,
    };
    let report = Report::new(&plan, &addr, connect_time, readings, stats);
    println!("{report}");
    println!("result {}", report.json(&cli.label));
    if let Some(outcome) = attacked {
        let json = outcome.json(!cli.no_attack);
        let ms = |v: Option<f64>| v.map_or_else(|| "-".to_string(), |v| format!("{v:.1} ms"));
        println!(
            "hostile         attackers {}   /healthz p50 {}   p99 {}   max {}   timeouts {}",
            !cli.no_attack,
            ms(outcome.percentile_ms(50.0)),
            ms(outcome.percentile_ms(99.0)),
            ms(outcome.healthz_us.last().map(|&v| f64::from(v) / 1000.0)),
            outcome.healthz_timeouts
        );
        println!("hostile {json}");
    }
    Ok(())
}

impl Plan {
    fn from_cli(cli: &Cli) -> anyhow::Result<Plan> {
        use Scenario as S;
        let (tables, clients, writers, rate) = match cli.scenario {
            S::Workshop | S::WorkshopPresence | S::Soak | S::Hostile => (4, 50, 5, 2.0),
            S::ManyRooms => (20, 50, 5, 2.0),
            S::BigRooms => (4, 500, 5, 2.0),
            S::Connections => (4, 500, 1, 2.0),
            S::Saturation | S::NoteInsert => (1, 10, 10, 100.0),
            S::Idle => (4, 2500, 0, 1.0),
            S::Presence => (4, 250, 0, 1.0),
            S::JoinStorm => (1, 150, 0, 1.0),
            S::FreshSync => (1, 1, 0, 1.0),
        };
        let (presence, presence_interval) = match cli.scenario {
            S::WorkshopPresence | S::Presence | S::ManyRooms | S::Soak => (Presence::Renew, 1.0),
            S::Idle | S::Saturation | S::NoteInsert | S::JoinStorm | S::FreshSync => {
                (Presence::None, AWARENESS_RENEW.as_secs_f64())
            }
            S::Workshop | S::Connections | S::BigRooms | S::Hostile => {
                (Presence::Join, AWARENESS_RENEW.as_secs_f64())
            }
        };
        let saturation = matches!(cli.scenario, S::Saturation | S::NoteInsert);
        let clients = cli.clients.unwrap_or(clients);
        let (notes, rounds) = match cli.scenario {
            S::JoinStorm => (10_000, 5),
            S::FreshSync => (10_000, 100),
            _ => (0, 1),
        };
        let plan = Plan {
            scenario: cli
                .scenario
                .to_possible_value()
                .map_or_else(String::new, |v| v.get_name().to_string()),
            protocol: cli.protocol,
            event: cli.event.clone().unwrap_or_else(|| {
                if cli.scenario == S::ManyRooms {
                    TWENTY_TABLES_EVENT.into()
                } else {
                    BUILTIN_EVENT.into()
                }
            }),
            tables: cli.tables.unwrap_or(tables),
            clients,
            writers: cli.writers_per_table.unwrap_or(writers),
            workload: cli.workload.unwrap_or(if cli.scenario == S::NoteInsert {
                Workload::NoteInsert
            } else {
                Workload::Keystroke
            }),
            appliers: cli.appliers.unwrap_or(if saturation { 1 } else { clients }),
            rate: cli.rate.unwrap_or(rate),
            warmup: Duration::from_secs(cli.warmup.unwrap_or(if saturation { 3 } else { 5 })),
            duration: Duration::from_secs(cli.duration.unwrap_or(match cli.scenario {
                S::Saturation | S::NoteInsert => 10,
                S::Soak => 600,
                _ => 30,
            })),
            presence: cli.presence.unwrap_or(presence),
            presence_interval: Duration::from_secs_f64(
                cli.presence_interval.unwrap_or(presence_interval),
            ),
            notes: cli.notes.unwrap_or(notes),
            rounds: cli.rounds.unwrap_or(rounds),
            edit_between_rounds: !cli.unchanged,
        };
        if plan.tables == 0 {
            bail!("--tables must be at least 1");
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
            "scenario {} ({:?}): {} table(s) × {} clients, {} writer(s)/table at {} edits/s ({}), {} applying, presence {:?} every {:?}",
            self.scenario,
            self.protocol,
            self.tables,
            self.clients,
            self.writers,
            self.rate,
            self.workload.name(),
            self.appliers,
            self.presence,
            self.presence_interval
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

#[cfg(test)]
mod tests {
    use super::*;
    use werktafel_shared::event::Event;

    #[test]
    fn the_twenty_tables_event_has_the_tables_many_rooms_uses() {
        let toml = include_str!("../../../bench/events/twenty-tables.toml");
        let event = Event::from_toml(toml).expect("twenty-tables.toml is a valid event");
        let plan = Plan::from_cli(&Cli::parse_from([
            "werktafel-load",
            "--scenario",
            "many-rooms",
        ]))
        .expect("the many-rooms preset is valid");
        assert_eq!(event.slug, plan.event);
        let ids: Vec<&str> = event.tables.iter().map(|t| t.id.as_str()).collect();
        let names: Vec<String> = (0..plan.tables).map(|i| table_name(&plan, i)).collect();
        assert_eq!(ids, names);
    }

    #[test]
    fn connections_are_spread_over_the_nodes_round_robin() {
        let plan = Plan::from_cli(&Cli::parse_from(["werktafel-load"])).expect("workshop preset");
        let nodes = ["127.0.0.1:1", "127.0.0.2:2", "127.0.0.3:3"];
        let target = Target {
            addr: nodes[0].into(),
            addrs: nodes.iter().map(ToString::to_string).collect(),
            key: "k".into(),
            view_key: None,
            server_pid: None,
            watched: Watched::default(),
            _server: None,
            _data: None,
        };
        let hosts: Vec<String> = (0..7)
            .map(|n| {
                let (url, _) = target.endpoint_on(&plan, "a", n);
                url.trim_start_matches("ws://")
                    .split('/')
                    .next()
                    .unwrap_or_default()
                    .to_string()
            })
            .collect();
        let expected: Vec<&str> = (0..7).map(|n| nodes[n % 3]).collect();
        assert_eq!(hosts, expected);
        assert_eq!(
            target.endpoint(&plan, "a").0,
            target.endpoint_on(&plan, "a", 3).0
        );
    }

    #[test]
    fn several_server_pids_and_a_store_pid_are_parsed() {
        let cli = Cli::parse_from([
            "werktafel-load",
            "--addr",
            "127.0.0.1:1,127.0.0.2:2",
            "--server-pid",
            "10,11",
            "--store-pid",
            "12",
        ]);
        assert_eq!(cli.addr, ["127.0.0.1:1", "127.0.0.2:2"]);
        assert_eq!(cli.server_pid, [10, 11]);
        assert_eq!(cli.store_pid, Some(12));
    }
}
