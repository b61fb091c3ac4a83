//! The shared store for several server nodes: [`PostgresStore`], the
//! [`Store`] on a PostgreSQL database (`werktafel serve --store postgres://…`).
//!
//! It keeps what [`SqliteStore`](super::SqliteStore) keeps, rule for rule,
//! with one difference that makes it safe for several writers: a room's log
//! entries are numbered per room (`updates.seq`), and the numbers are handed
//! out under the room's row lock in `tables` (its `next_seq`), which is held
//! until the appending transaction commits. So numbers become visible in
//! the order they were handed out: whatever a reader sees of a room's log is
//! a prefix 1..=n with no gap a later commit could fill, and a compaction
//! that folded entries up to `upto` deletes exactly those. A PostgreSQL
//! sequence would not do: it hands out numbers at insert, not at commit, so
//! a slow transaction could commit a number below one a compaction already
//! folded, and the compaction would delete it unmerged.
//!
//! The `tables` row also holds the room's `owner` and `epoch`: one node at
//! a time owns a room ([`lease`]), and an append to a room this handle holds
//! a lease on commits only while the row's epoch is still that lease's, so a
//! node that lost the room cannot write to it any more.
//!
//! The client is the synchronous `postgres` crate: each handle is used by one
//! thread (the persistence worker, the compactor), as the trait expects.
//! It must not be called on the async runtime: it runs a small runtime of
//! its own and would block a worker thread.
//!
//! Its parts: `schema` (the migrations), `log` (the hot path: appends and
//! the consistent read of a room), `compaction` (folding the log, and
//! quarantine) and [`lease`] (nodes and who owns a room).

mod compaction;
mod log;
mod schema;

use std::time::Duration;

use postgres::{Client, NoTls};

use self::log::Statements;
use super::fence::Fence as ClusterFence;
use super::{AppendRecord, Compaction, LogRead, RoomKey, Store, StoreError, StoredDoc};

/// How long connecting to PostgreSQL may take before start-up (or a
/// [`Store::reopen`]) fails, unless the URL sets `connect_timeout` itself.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// A connection to the shared PostgreSQL database.
pub struct PostgresStore {
    client: Client,
    config: postgres::Config,
    statements: Statements,
    /// In a cluster: this node's id and the table leases it holds. Every
    /// append checks, in its own transaction, that each table it writes is
    /// still this node's at the epoch held ([`PostgresStore::fenced`]).
    cluster_fence: Option<(String, ClusterFence)>,
    /// The largest part a snapshot is written in ([`super::parts::PART_BYTES`];
    /// smaller in tests, so that a small document spans several).
    part_bytes: usize,
}

impl PostgresStore {
    /// This store for node `node` of a cluster holding the leases in
    /// `fence`: an append to a table it does not hold at that epoch commits
    /// nothing and fails with [`StoreError::NotOwner`].
    pub fn fenced(mut self, node: String, fence: ClusterFence) -> Self {
        self.cluster_fence = Some((node, fence));
        self
    }

    /// Connects to the database `config` names and brings its schema up to
    /// date. Fails with [`StoreError::Connect`] naming the server when it
    /// cannot be reached within [`CONNECT_TIMEOUT`].
    pub fn open(config: &postgres::Config) -> Result<Self, StoreError> {
        let mut config = config.clone();
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        let mut client = config
            .connect(NoTls)
            .map_err(|source| StoreError::Connect {
                target: describe(&config),
                source,
            })?;
        // Cheap once the schema is current (a lock and one read), so every
        // handle checks it rather than trusting whoever connected first.
        schema::migrate(&mut client)?;
        let statements = Statements::prepare(&mut client)?;
        Ok(Self {
            cluster_fence: None,
            client,
            config,
            statements,
            part_bytes: super::parts::PART_BYTES,
        })
    }

    /// Replaces a connection that PostgreSQL closed (a restart, a
    /// fail-over, a killed backend) before the next statement, so the server
    /// recovers without a restart; the call that found it closing failed,
    /// and its caller was told.
    fn connected(&mut self) -> Result<(), StoreError> {
        if self.client.is_closed() {
            let fresh = Self::open(&self.config)?;
            self.client = fresh.client;
            self.statements = fresh.statements;
            tracing::warn!(database = %describe(&self.config), "reconnected to PostgreSQL");
        }
        Ok(())
    }

    /// The schema version this build creates and expects.
    pub fn schema_version() -> usize {
        schema::MIGRATIONS.len()
    }
}

impl Store for PostgresStore {
    fn reopen(&self) -> Result<Self, StoreError> {
        let mut store = Self::open(&self.config)?;
        store.cluster_fence = self.cluster_fence.clone();
        store.part_bytes = self.part_bytes;
        Ok(store)
    }

    fn load(&mut self, room: &RoomKey) -> Result<StoredDoc, StoreError> {
        let read = self.read(room)?;
        let (snapshot, log) = (read.snapshot, read.log);
        let updates = snapshot
            .into_iter()
            .chain(log.into_iter().map(|(_, data)| data))
            .collect();
        Ok(StoredDoc { updates })
    }

    fn append(&mut self, batch: &[AppendRecord]) -> Result<(), StoreError> {
        self.connected()?;
        if batch.is_empty() {
            return Ok(());
        }
        self.append_batch(batch)
    }

    fn log_len(&mut self, room: &RoomKey) -> Result<u64, StoreError> {
        self.connected()?;
        let n: i64 = self
            .client
            .query_one(
                "SELECT COUNT(*) FROM updates WHERE event = $1 AND table_id = $2",
                &[&&*room.event, &&*room.table],
            )?
            .get(0);
        Ok(u64::try_from(n).unwrap_or(0))
    }

    fn read_log(&mut self, room: &RoomKey) -> Result<Option<LogRead>, StoreError> {
        let read = self.read(room)?;
        let Some(&(upto, _)) = read.log.last() else {
            return Ok(None);
        };
        Ok(Some(LogRead {
            snapshot: read.snapshot,
            generation: read.generation,
            log: read.log.into_iter().map(|(_, data)| data).collect(),
            upto: u64::try_from(upto).unwrap_or(0),
        }))
    }

    fn write_compaction(
        &mut self,
        room: &RoomKey,
        read: &LogRead,
        merged: &[u8],
    ) -> Result<Compaction, StoreError> {
        self.replace_log(room, read, merged)
    }

    fn quarantine(&mut self, room: &RoomKey, reason: &str) -> Result<usize, StoreError> {
        self.quarantine_room(room, reason)
    }

    fn rooms(&mut self) -> Result<Vec<RoomKey>, StoreError> {
        self.connected()?;
        let rows = self.client.query(
            "SELECT event, table_id FROM snapshots
             UNION SELECT event, table_id FROM updates ORDER BY 1, 2",
            &[],
        )?;
        Ok(rows
            .iter()
            .map(|row| RoomKey::new(row.get(0), row.get(1)))
            .collect())
    }

    fn save_event(&mut self, slug: &str, definition: &str) -> Result<(), StoreError> {
        self.connected()?;
        self.client.execute(
            "INSERT INTO events (slug, definition) VALUES ($1, $2)
             ON CONFLICT (slug) DO UPDATE SET definition = excluded.definition",
            &[&slug, &definition],
        )?;
        Ok(())
    }

    fn load_event(&mut self, slug: &str) -> Result<Option<String>, StoreError> {
        self.connected()?;
        Ok(self
            .client
            .query_opt("SELECT definition FROM events WHERE slug = $1", &[&slug])?
            .map(|row| row.get(0)))
    }

    fn events(&mut self) -> Result<Vec<String>, StoreError> {
        self.connected()?;
        let rows = self
            .client
            .query("SELECT slug FROM events ORDER BY slug", &[])?;
        Ok(rows.iter().map(|row| row.get(0)).collect())
    }

    fn secret(&mut self, name: &str, fresh: &str) -> Result<String, StoreError> {
        self.connected()?;
        // Insert-if-absent then read, so two nodes starting at once agree.
        self.client.execute(
            "INSERT INTO secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
            &[&name, &fresh],
        )?;
        Ok(self
            .client
            .query_one("SELECT value FROM secrets WHERE name = $1", &[&name])?
            .get(0))
    }

    fn set_secrets(&mut self, secrets: &[(String, String)]) -> Result<(), StoreError> {
        self.connected()?;
        let mut tx = self.client.transaction()?;
        for (name, value) in secrets {
            tx.execute(
                "INSERT INTO secrets (name, value) VALUES ($1, $2)
                 ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                &[name, value],
            )?;
        }
        tx.commit()?;
        Ok(())
    }
}

/// Where `config` points, for messages: user, hosts, ports and database,
/// never the password.
pub fn describe(config: &postgres::Config) -> String {
    let hosts: Vec<String> = config
        .get_hosts()
        .iter()
        .map(|host| match host {
            postgres::config::Host::Tcp(name) => name.clone(),
            #[cfg(unix)]
            postgres::config::Host::Unix(path) => path.display().to_string(),
        })
        .collect();
    let ports: Vec<String> = config.get_ports().iter().map(u16::to_string).collect();
    format!(
        "{}@{}:{}/{}",
        config.get_user().unwrap_or("(user)"),
        hosts.join(","),
        if ports.is_empty() {
            "5432".to_string()
        } else {
            ports.join(",")
        },
        config.get_dbname().unwrap_or("(database)"),
    )
}

/// A database of its own for each test, on the server `WERKTAFEL_TEST_PG`
/// names.
#[cfg(test)]
pub(crate) mod testing;

#[cfg(test)]
mod tests;
