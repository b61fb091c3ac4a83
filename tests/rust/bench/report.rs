//! What a load run measured, summed over its peers, the CPU time the
//! generator and the server used during the window, and the server's memory
//! and open files, sampled through the window (the soak reads their drift).

use std::fmt;
use std::time::Duration;

use crate::Plan;
use crate::peer::PeerStats;

/// The generator counts as CPU-bound above this share of the cores it may use:
/// its latencies then include its own queueing, not only the server's.
const CPU_BOUND_SHARE: f64 = 0.9;
/// `/proc/*/stat` counts CPU time in USER_HZ ticks, fixed at 100 on Linux.
const USER_HZ: f64 = 100.0;

pub struct Report {
    plan: Plan,
    addr: String,
    connect_time: Duration,
    cpu: CpuUse,
    memory: Option<Memory>,
    samples: Vec<Sample>,
    clients: usize,
    connect_failures: usize,
    first_connect_error: Option<String>,
    not_synced: usize,
    closed_early: usize,
    first_close: Option<String>,
    apply_errors: u64,
    frames: u64,
    /// Updates the receivers decoded in full rather than by their head.
    decoded_in_full: u64,
    edits: u64,
    expected_deliveries: u64,
    latencies_us: Vec<u32>,
}

/// What was read from `/proc` about the server (and the generator's CPU) over a run.
pub struct Readings {
    pub cpu: CpuUse,
    pub memory: Option<Memory>,
    /// The server's memory and open files, from the start of the window on.
    pub samples: Vec<Sample>,
}

/// The server's RSS and number of open file descriptors at one moment of the window.
#[derive(Debug, Clone, Copy)]
pub struct Sample {
    /// Time since the window opened.
    pub at: Duration,
    pub rss_kib: Option<u64>,
    pub fds: Option<usize>,
}

/// The processes whose CPU a run reads: the server's (one, or every node of
/// a cluster, summed) and the database's (PostgreSQL: its postmaster and
/// every backend under it), reported apart.
#[derive(Debug, Clone, Default)]
pub struct Watched {
    pub servers: Vec<u32>,
    pub store: Option<u32>,
}

impl Watched {
    /// The first server: the one whose memory and open files are sampled.
    pub fn first(&self) -> Option<u32> {
        self.servers.first().copied()
    }
}

/// CPU seconds used by this process and (if known) the server at one instant.
pub struct CpuClock {
    at: std::time::Instant,
    generator: Option<f64>,
    server: Option<f64>,
    /// The database's CPU seconds (postmaster and backends), if watched.
    store: Option<f64>,
    /// CPU seconds every process on the machine has used (`/proc/stat`).
    machine: Option<f64>,
}

/// The server's resident memory: before the clients connected, once they
/// all had synced, and its peak (`VmHWM`) at the end of the run.
#[derive(Debug, Clone, Copy)]
pub struct Memory {
    pub before_kib: u64,
    pub connected_kib: u64,
    pub peak_kib: u64,
}

/// CPU use over an interval, as a fraction of one core.
pub struct CpuUse {
    generator: Option<f64>,
    server: Option<f64>,
    /// Cores the generator may run on (its affinity mask).
    generator_cores: usize,
    /// Server CPU seconds over the interval (every node's, summed).
    server_seconds: Option<f64>,
    /// The database's CPU seconds over the interval, if watched.
    store_seconds: Option<f64>,
    /// CPU used by every other process (the other engineers' builds and
    /// tests on this machine), in cores: what disturbed this run.
    pub others: Option<f64>,
}

impl Report {
    /// `stats` holds every peer with the index of its table.
    pub fn new(
        plan: &Plan,
        addr: &str,
        connect_time: Duration,
        readings: Readings,
        stats: Vec<(usize, PeerStats)>,
    ) -> Report {
        let mut edits_per_table = vec![0u64; plan.tables];
        let mut alive_per_table = vec![0u64; plan.tables];
        let mut report = Report {
            plan: plan.clone(),
            addr: addr.to_string(),
            connect_time,
            cpu: readings.cpu,
            memory: readings.memory,
            samples: readings.samples,
            clients: stats.len(),
            connect_failures: 0,
            first_connect_error: None,
            not_synced: 0,
            closed_early: 0,
            first_close: None,
            apply_errors: 0,
            frames: 0,
            decoded_in_full: 0,
            edits: 0,
            expected_deliveries: 0,
            latencies_us: Vec::new(),
        };
        for (table, peer) in stats {
            if let Some(e) = peer.connect_error {
                report.connect_failures += 1;
                report.first_connect_error.get_or_insert(e);
                continue;
            }
            if !peer.synced {
                report.not_synced += 1;
            }
            if let Some(why) = peer.closed_early {
                report.closed_early += 1;
                report.first_close.get_or_insert(why);
            } else {
                alive_per_table[table] += 1;
            }
            report.apply_errors += peer.apply_errors;
            report.frames += peer.frames_received;
            report.decoded_in_full += peer.decoded_in_full;
            edits_per_table[table] += peer.edits_in_window;
            report.latencies_us.extend(peer.latencies_us);
        }
        report.edits = edits_per_table.iter().sum();
        // Every edit should reach every other peer of its table that stayed connected.
        report.expected_deliveries = edits_per_table
            .iter()
            .zip(&alive_per_table)
            .map(|(edits, alive)| edits * alive.saturating_sub(1))
            .sum();
        report.latencies_us.sort_unstable();
        report
    }

    fn held(&self) -> usize {
        self.clients - self.connect_failures - self.closed_early
    }

    fn percentile(&self, p: f64) -> Option<f64> {
        let n = self.latencies_us.len();
        if n == 0 {
            return None;
        }
        let rank = ((p / 100.0) * n as f64).ceil() as usize;
        Some(f64::from(self.latencies_us[rank.clamp(1, n) - 1]) / 1000.0)
    }

    fn errors(&self) -> u64 {
        (self.connect_failures + self.not_synced + self.closed_early) as u64 + self.apply_errors
    }

    /// Server CPU time per delivery in the window, in µs.
    fn server_us_per_delivery(&self) -> Option<f64> {
        let delivered = self.latencies_us.len();
        (delivered > 0).then_some(())?;
        Some(self.cpu.server_seconds? * 1e6 / delivered as f64)
    }

    /// The database's CPU time per delivery in the window, in µs (PostgreSQL's
    /// processes; SQLite runs inside the server and is counted there).
    fn store_us_per_delivery(&self) -> Option<f64> {
        let delivered = self.latencies_us.len();
        (delivered > 0).then_some(())?;
        Some(self.cpu.store_seconds? * 1e6 / delivered as f64)
    }

    /// The server's RSS over the window: first (when the window opened,
    /// after the warm-up), last, highest, and the drift from first to last in %.
    fn rss_drift(&self) -> Option<RssDrift> {
        let rss: Vec<u64> = self.samples.iter().filter_map(|s| s.rss_kib).collect();
        let (&first, &last) = (rss.first()?, rss.last()?);
        Some(RssDrift {
            first_kib: first,
            last_kib: last,
            max_kib: rss.iter().copied().max().unwrap_or(last),
            drift_pct: (first > 0).then(|| 100.0 * (last as f64 - first as f64) / first as f64),
        })
    }

    /// Open file descriptors of the server when the window opened and at its end.
    fn fds(&self) -> (Option<usize>, Option<usize>) {
        let mut fds = self.samples.iter().filter_map(|s| s.fds);
        let first = fds.next();
        (first, fds.next_back().or(first))
    }

    /// One JSON object with every number, for `bench/run.sh` and its table.
    pub fn json(&self, label: &str) -> serde_json::Value {
        let secs = self.plan.duration.as_secs_f64();
        let delivered = self.latencies_us.len() as f64;
        serde_json::json!({
            "server": label,
            "scenario": self.plan.scenario,
            "tables": self.plan.tables,
            "clients": self.plan.clients,
            "writers": self.plan.writers,
            "workload": self.plan.workload.name(),
            "rate": self.plan.rate,
            "held": self.held(),
            "connections": self.clients,
            "connect_s": self.connect_time.as_secs_f64(),
            "edits_per_s": self.edits as f64 / secs,
            "deliveries_per_s": delivered / secs,
            "delivered_share": if self.expected_deliveries == 0 { 1.0 } else { delivered / self.expected_deliveries as f64 },
            "frames_per_s": self.frames as f64 / secs,
            "decoded_in_full": self.decoded_in_full,
            "p50_ms": self.percentile(50.0),
            "p99_ms": self.percentile(99.0),
            "max_ms": self.latencies_us.last().map(|&v| f64::from(v) / 1000.0),
            "errors": self.errors(),
            "cpu_generator": self.cpu.generator,
            "cpu_server": self.cpu.server,
            "cpu_others": self.cpu.others,
            "server_us_per_delivery": self.server_us_per_delivery(),
            "store_us_per_delivery": self.store_us_per_delivery(),
            "cpu_store": self.cpu.store_seconds.map(|s| s / secs),
            "rss_before_kib": self.memory.map(|m| m.before_kib),
            "rss_connected_kib": self.memory.map(|m| m.connected_kib),
            "rss_peak_kib": self.memory.map(|m| m.peak_kib),
            "rss_first_kib": self.rss_drift().map(|d| d.first_kib),
            "rss_last_kib": self.rss_drift().map(|d| d.last_kib),
            "rss_max_kib": self.rss_drift().map(|d| d.max_kib),
            "rss_drift_pct": self.rss_drift().and_then(|d| d.drift_pct),
            "fds_first": self.fds().0,
            "fds_last": self.fds().1,
            "samples": self.samples.iter().map(|s| serde_json::json!({
                "at_s": s.at.as_secs_f64(),
                "rss_kib": s.rss_kib,
                "fds": s.fds,
            })).collect::<Vec<_>>(),
        })
    }
}

/// The server's RSS over the window, see [`Report::rss_drift`].
#[derive(Debug, Clone, Copy)]
struct RssDrift {
    first_kib: u64,
    last_kib: u64,
    max_kib: u64,
    drift_pct: Option<f64>,
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.plan.duration.as_secs_f64();
        let delivered = self.latencies_us.len() as u64;
        let ms = |v: Option<f64>| v.map_or("-".into(), |v| format!("{v:.1} ms"));
        writeln!(f, "werktafel-load  {}", self.plan.describe())?;
        writeln!(
            f,
            "server          {}   window {secs:.0} s after {} s warm-up",
            self.addr,
            self.plan.warmup.as_secs()
        )?;
        writeln!(
            f,
            "connections     held {} of {}   connect failures {}   all synced in {:.2} s",
            self.held(),
            self.clients,
            self.connect_failures,
            self.connect_time.as_secs_f64()
        )?;
        writeln!(
            f,
            "edits sent      {:.1}/s   ({} in the window)",
            self.edits as f64 / secs,
            self.edits
        )?;
        let share = if self.expected_deliveries == 0 {
            100.0
        } else {
            100.0 * delivered as f64 / self.expected_deliveries as f64
        };
        writeln!(
            f,
            "deliveries      {:.1}/s   ({delivered} of {} expected, {share:.2} %; {} frames received in all, {} updates decoded in full)",
            delivered as f64 / secs,
            self.expected_deliveries,
            self.frames,
            self.decoded_in_full
        )?;
        writeln!(
            f,
            "latency         p50 {}   p99 {}   max {}   (writer send → receiver apply)",
            ms(self.percentile(50.0)),
            ms(self.percentile(99.0)),
            ms(self.latencies_us.last().map(|&v| f64::from(v) / 1000.0))
        )?;
        writeln!(
            f,
            "errors          {}   (connect {}, never synced {}, closed early {}, refused updates {})",
            self.errors(),
            self.connect_failures,
            self.not_synced,
            self.closed_early,
            self.apply_errors
        )?;
        if let Some(e) = &self.first_connect_error {
            writeln!(f, "  first connect failure: {e}")?;
        }
        if let Some(e) = &self.first_close {
            writeln!(f, "  first early close: {e}")?;
        }
        let pct = |v: Option<f64>| v.map_or("?".into(), |v| format!("{:.0} %", v * 100.0));
        writeln!(
            f,
            "cpu             generator {} of one core ({} core(s) allowed)   server {}",
            pct(self.cpu.generator),
            self.cpu.generator_cores,
            pct(self.cpu.server)
        )?;
        writeln!(
            f,
            "                other processes {} of one core (what else ran on the machine)",
            pct(self.cpu.others)
        )?;
        if let Some(us) = self.server_us_per_delivery() {
            writeln!(f, "server cpu      {us:.2} µs per delivery")?;
        }
        if let Some(us) = self.store_us_per_delivery() {
            writeln!(
                f,
                "database cpu    {us:.2} µs per delivery (PostgreSQL's processes)"
            )?;
        }
        if let Some(m) = self.memory {
            writeln!(
                f,
                "server memory   RSS {} MiB before connecting, {} MiB connected ({:.1} KiB per connection), peak {} MiB",
                m.before_kib / 1024,
                m.connected_kib / 1024,
                m.connected_kib.saturating_sub(m.before_kib) as f64 / self.clients.max(1) as f64,
                m.peak_kib / 1024
            )?;
        }
        if let Some(d) = self.rss_drift() {
            let (fds_first, fds_last) = self.fds();
            writeln!(
                f,
                "server over the window   RSS first {} MiB, last {} MiB, max {} MiB, drift {}   open files {} → {}   ({} samples, every {} s)",
                d.first_kib / 1024,
                d.last_kib / 1024,
                d.max_kib / 1024,
                d.drift_pct.map_or("?".into(), |p| format!("{p:+.1} %")),
                fds_first.map_or("?".into(), |n| n.to_string()),
                fds_last.map_or("?".into(), |n| n.to_string()),
                self.samples.len(),
                crate::SAMPLE_EVERY.as_secs()
            )?;
        }
        if self.cpu.generator_bound() {
            writeln!(
                f,
                "WARNING         the generator was CPU-bound: latencies include its own queueing"
            )?;
        }
        write!(
            f,
            "summary | {} | {}×{} | {} w/t @ {}/s | held {}/{} | edits/s {:.1} | deliveries/s {:.1} | p50 {} | p99 {} | max {} | errors {} | cpu gen {} srv {}",
            self.plan.scenario,
            self.plan.tables,
            self.plan.clients,
            self.plan.writers,
            self.plan.rate,
            self.held(),
            self.clients,
            self.edits as f64 / secs,
            delivered as f64 / secs,
            ms(self.percentile(50.0)),
            ms(self.percentile(99.0)),
            ms(self.latencies_us.last().map(|&v| f64::from(v) / 1000.0)),
            self.errors(),
            pct(self.cpu.generator),
            pct(self.cpu.server)
        )?;
        if self.plan.scenario == "soak" {
            let (fds_first, fds_last) = self.fds();
            let opt = |v: Option<usize>| v.map_or("?".into(), |n| n.to_string());
            match self.rss_drift() {
                Some(d) => write!(
                    f,
                    " | rss first/last/max {}/{}/{} MiB drift {} | fds {} → {}",
                    d.first_kib / 1024,
                    d.last_kib / 1024,
                    d.max_kib / 1024,
                    d.drift_pct.map_or("?".into(), |p| format!("{p:+.1} %")),
                    opt(fds_first),
                    opt(fds_last)
                )?,
                None => write!(f, " | rss ? | fds {} → {}", opt(fds_first), opt(fds_last))?,
            }
        }
        Ok(())
    }
}

impl CpuClock {
    pub fn now(watched: &Watched) -> CpuClock {
        // Every node must be readable, or the sum would silently shrink.
        let server = (!watched.servers.is_empty())
            .then(|| {
                watched
                    .servers
                    .iter()
                    .map(|pid| cpu_seconds(&pid.to_string()))
                    .sum::<Option<f64>>()
            })
            .flatten();
        CpuClock {
            at: std::time::Instant::now(),
            generator: cpu_seconds("self"),
            server,
            store: watched.store.and_then(tree_cpu_seconds),
            machine: machine_cpu_seconds(),
        }
    }

    /// CPU use between `start` and this reading.
    pub fn since(&self, start: &CpuClock) -> CpuUse {
        let wall = self.at.duration_since(start.at).as_secs_f64();
        let share = |end: Option<f64>, begin: Option<f64>| Some((end? - begin?) / wall);
        CpuUse {
            generator: share(self.generator, start.generator),
            server: share(self.server, start.server),
            generator_cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
            server_seconds: self
                .server
                .zip(start.server)
                .map(|(end, begin)| end - begin),
            store_seconds: self.store.zip(start.store).map(|(end, begin)| end - begin),
            others: (|| {
                let all = self.machine? - start.machine?;
                let ours = (self.generator? - start.generator?)
                    + self.server.zip(start.server).map_or(0.0, |(e, b)| e - b)
                    + self.store.zip(start.store).map_or(0.0, |(e, b)| e - b);
                Some(((all - ours) / wall).max(0.0))
            })(),
        }
    }
}

impl CpuUse {
    /// The server's CPU seconds over the interval, if its pid is known.
    pub fn server_seconds(&self) -> Option<f64> {
        self.server_seconds
    }

    fn generator_bound(&self) -> bool {
        self.generator
            .is_some_and(|g| g >= CPU_BOUND_SHARE * self.generator_cores as f64)
    }
}

/// Busy CPU seconds of the whole machine: the `cpu` line of `/proc/stat`
/// without idle and iowait.
fn machine_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let fields: Vec<f64> = stat
        .lines()
        .next()?
        .split_whitespace()
        .skip(1)
        .map(|v| v.parse().unwrap_or(0.0))
        .collect();
    let busy: f64 = fields.iter().sum::<f64>() - fields.get(3)? - fields.get(4)?;
    Some(busy / USER_HZ)
}

impl Sample {
    /// The server's RSS and open files now (`None` where its pid is unknown
    /// or `/proc` cannot be read; of a cluster, the first node's).
    pub fn take(server_pid: Option<u32>, at: Duration) -> Sample {
        Sample {
            at,
            rss_kib: server_pid.and_then(|pid| status_kib(pid, "VmRSS")),
            fds: server_pid.and_then(open_files),
        }
    }
}

/// How many file descriptors a process holds: the entries of `/proc/{pid}/fd`.
fn open_files(pid: u32) -> Option<usize> {
    Some(std::fs::read_dir(format!("/proc/{pid}/fd")).ok()?.count())
}

/// A `kB` field (`VmRSS`, `VmHWM`) of `/proc/{pid}/status`.
pub fn status_kib(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

/// utime + stime of a process from `/proc/{pid}/stat`, in seconds.
pub fn cpu_seconds(pid: &str) -> Option<f64> {
    let fields = stat_fields(pid)?;
    // utime and stime are fields 14 and 15, i.e. 12 and 13 after the name.
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / USER_HZ)
}

/// The fields of `/proc/{pid}/stat` after the command name (which may
/// contain spaces; the fields after its ')' are plain): field 3 is index 0.
fn stat_fields(pid: &str) -> Option<Vec<String>> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    Some(
        stat.rsplit_once(')')?
            .1
            .split_whitespace()
            .map(str::to_string)
            .collect(),
    )
}

/// CPU seconds of a process and its children: its own utime + stime, the
/// cutime + cstime of the children it has reaped (PostgreSQL's postmaster
/// reaps its backends), and the utime + stime of the children alive now.
/// A backend that exited inside a window counts its whole life there.
fn tree_cpu_seconds(pid: u32) -> Option<f64> {
    let fields = stat_fields(&pid.to_string())?;
    // utime, stime, cutime, cstime: fields 14–17.
    let mut ticks = 0.0;
    for i in 11..15 {
        ticks += fields.get(i)?.parse::<f64>().ok()?;
    }
    let mut seconds = ticks / USER_HZ;
    let parent = pid.to_string();
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let name = entry.file_name();
        let Some(child) = name
            .to_str()
            .filter(|n| n.bytes().all(|b| b.is_ascii_digit()))
        else {
            continue;
        };
        // The parent's pid is field 4, index 1.
        if stat_fields(child).is_some_and(|f| f.get(1) == Some(&parent)) {
            seconds += cpu_seconds(child).unwrap_or(0.0);
        }
    }
    Some(seconds)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_process_tree_counts_at_least_the_process_itself() {
        let pid = std::process::id();
        // Burn a little CPU so the counters are not all zero.
        let mut x = 0u64;
        for i in 0..5_000_000u64 {
            x = x.wrapping_mul(31).wrapping_add(i);
        }
        assert_ne!(x, 1);
        let own = cpu_seconds(&pid.to_string()).expect("our own /proc/PID/stat");
        let tree = tree_cpu_seconds(pid).expect("our own process tree");
        assert!(tree >= own, "tree {tree} < own {own}");
    }

    #[test]
    fn cluster_cpu_is_summed_over_every_node_and_unknown_if_one_is_gone() {
        let me = std::process::id();
        let one = CpuClock::now(&Watched {
            servers: vec![me],
            store: None,
        });
        let two = CpuClock::now(&Watched {
            servers: vec![me, me],
            store: None,
        });
        let (one, two) = (one.server.expect("readable"), two.server.expect("readable"));
        assert!(two >= 2.0 * one - 0.05, "{two} is not about twice {one}");
        let gone = CpuClock::now(&Watched {
            servers: vec![me, u32::MAX],
            store: None,
        });
        assert_eq!(gone.server, None, "a node that is gone is not counted as 0");
    }
}
