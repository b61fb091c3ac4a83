//! A PostgreSQL server of one test's own, for tests that stop and start
//! the database under running nodes (`pg_ctl stop -m immediate`): the
//! shared `WERKTAFEL_TEST_PG` server is used by tests running in parallel
//! and must not go away. Mirrors `tests/postgres.sh`: `initdb` into a
//! temporary directory, a free port on 127.0.0.1, trust authentication,
//! run as the `postgres` user when the tests run as root (PostgreSQL
//! refuses to run as root); stopped when dropped.

use std::path::PathBuf;
use std::process::Command;

use anyhow::{Context, bail};

/// A private PostgreSQL server; see the module docs.
pub struct PrivatePostgres {
    bin: PathBuf,
    dir: tempfile::TempDir,
    port: u16,
    as_postgres: bool,
    /// `postgres://postgres@127.0.0.1:PORT/postgres`.
    pub url: String,
}

impl PrivatePostgres {
    /// Creates and starts the server. Fails, saying what to install, when
    /// PostgreSQL's server binaries are missing: such a test never passes
    /// unrun.
    pub fn start() -> anyhow::Result<PrivatePostgres> {
        let bin = server_binaries().context(
            "PostgreSQL's server binaries (initdb, pg_ctl) are not installed, so this test \
             cannot run its own PostgreSQL. Install them (Debian: apt-get install postgresql); \
             they are looked for in /usr/lib/postgresql/*/bin and on PATH",
        )?;
        let dir = tempfile::Builder::new().prefix("werktafel-pg.").tempdir()?;
        let as_postgres = is_root();
        if as_postgres {
            run(Command::new("chown").arg("postgres").arg(dir.path()))?;
        }
        // A port nothing listens on now; PostgreSQL binds it a moment later.
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let server = PrivatePostgres {
            url: format!("postgres://postgres@127.0.0.1:{port}/postgres"),
            bin,
            dir,
            port,
            as_postgres,
        };
        let data = server.data_dir();
        server.run_pg(
            "initdb",
            &["-D", &data, "-U", "postgres", "-A", "trust", "--no-sync"],
        )?;
        server.start_again()?;
        Ok(server)
    }

    /// Starts the server (again) on its port and data directory, and waits
    /// until it accepts connections.
    pub fn start_again(&self) -> anyhow::Result<()> {
        let options = format!(
            "-c listen_addresses=127.0.0.1 -p {} -k {} -c max_connections=100",
            self.port,
            self.dir.path().display()
        );
        let log = self.dir.path().join("server.log");
        self.run_pg(
            "pg_ctl",
            &[
                "-D",
                &self.data_dir(),
                "-l",
                &log.display().to_string(),
                "-o",
                &options,
                "-w",
                "start",
            ],
        )
        .with_context(|| format!("starting PostgreSQL; its log: {}", log.display()))
    }

    /// `pg_ctl stop -m immediate`: every backend killed at once, no
    /// checkpoint; what was committed survives (crash recovery at the next
    /// start), what was not is gone.
    pub fn stop_immediately(&self) -> anyhow::Result<()> {
        self.run_pg(
            "pg_ctl",
            &["-D", &self.data_dir(), "-m", "immediate", "-w", "stop"],
        )
    }

    fn data_dir(&self) -> String {
        self.dir.path().join("data").display().to_string()
    }

    /// Runs PostgreSQL's `program` with `args`, as `postgres` when root.
    fn run_pg(&self, program: &str, args: &[&str]) -> anyhow::Result<()> {
        let path = self.bin.join(program);
        let mut command = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&path);
            c
        } else {
            Command::new(&path)
        };
        run(command.args(args))
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        let _ = self.run_pg(
            "pg_ctl",
            &["-D", &self.data_dir(), "-m", "immediate", "-w", "stop"],
        );
    }
}

/// The newest installed server's binaries (Debian keeps them out of PATH).
fn server_binaries() -> Option<PathBuf> {
    let mut dirs: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse::<u32>().ok()?;
            Some((version, entry.path().join("bin")))
        })
        .filter(|(_, bin)| bin.join("initdb").exists())
        .collect();
    dirs.sort();
    if let Some((_, bin)) = dirs.pop() {
        return Some(bin);
    }
    std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .find(|dir| dir.join("initdb").exists() && dir.join("pg_ctl").exists())
    })
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).trim() == "0")
}

fn run(command: &mut Command) -> anyhow::Result<()> {
    let out = command
        .output()
        .with_context(|| format!("running {command:?}"))?;
    if !out.status.success() {
        bail!(
            "{command:?} failed ({}):\n{}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(())
}
