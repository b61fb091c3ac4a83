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

pub mod lease;

use std::collections::BTreeMap;
use std::time::Duration;

use postgres::{Client, IsolationLevel, NoTls, Statement, Transaction};

use self::lease::Fence;
use super::fence::{Fence as ClusterFence, lease_key};
use super::{AppendRecord, Compaction, LogRead, RoomKey, Store, StoreError, StoredDoc};

/// How long connecting to PostgreSQL may take before start-up (or a
/// [`Store::reopen`]) fails, unless the URL sets `connect_timeout` itself.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Key of the advisory lock held while the schema is migrated, so that
/// nodes starting at once migrate one after the other ("WerkTafl").
const MIGRATION_LOCK: i64 = 0x5765_726b_5461_666c;

/// The schema, one step per version: a database at version `n` has had the
/// first `n` applied (`werktafel_schema.version`). Steps are only ever
/// appended; a released step is never edited.
const MIGRATIONS: &[&str] = &[
    // 1: rooms with their sequence counter and lease, the log, snapshots,
    //    event definitions, secrets and quarantined entries.
    "CREATE TABLE tables (
         event TEXT NOT NULL,
         table_id TEXT NOT NULL,
         next_seq BIGINT NOT NULL,
         owner TEXT,
         epoch BIGINT NOT NULL DEFAULT 0,
         PRIMARY KEY (event, table_id)
     );
     CREATE TABLE updates (
         event TEXT NOT NULL,
         table_id TEXT NOT NULL,
         seq BIGINT NOT NULL,
         data BYTEA NOT NULL,
         PRIMARY KEY (event, table_id, seq),
         FOREIGN KEY (event, table_id) REFERENCES tables (event, table_id)
     );
     CREATE TABLE snapshots (
         event TEXT NOT NULL,
         table_id TEXT NOT NULL,
         data BYTEA NOT NULL,
         PRIMARY KEY (event, table_id)
     );
     CREATE TABLE events (
         slug TEXT PRIMARY KEY,
         definition TEXT NOT NULL
     );
     CREATE TABLE secrets (
         name TEXT PRIMARY KEY,
         value TEXT NOT NULL
     );
     CREATE TABLE quarantine (
         id BIGSERIAL PRIMARY KEY,
         event TEXT NOT NULL,
         table_id TEXT NOT NULL,
         kind TEXT NOT NULL,
         data BYTEA NOT NULL,
         reason TEXT NOT NULL,
         at TIMESTAMPTZ NOT NULL DEFAULT now()
     );",
    // 2: the nodes of a cluster and when each last said it is alive.
    "CREATE TABLE nodes (
         id TEXT PRIMARY KEY,
         address TEXT NOT NULL,
         heartbeat_at TIMESTAMPTZ NOT NULL DEFAULT now()
     );",
];

/// A connection to the shared PostgreSQL database.
pub struct PostgresStore {
    client: Client,
    config: postgres::Config,
    statements: Statements,
    /// The epochs of the leases this node holds, shared by every handle
    /// [`Store::reopen`] makes.
    fence: Fence,
    /// In a cluster: this node's id and the table leases it holds. Every
    /// append checks, in its own transaction, that each table it writes is
    /// still this node's at the epoch held ([`PostgresStore::fenced`]).
    cluster_fence: Option<(String, ClusterFence)>,
}

/// The statements of the hot paths, prepared once per connection.
struct Statements {
    /// Hands out `$3` sequence numbers of room (`$1`, `$2`), creating its
    /// row on first use; returns the first number. The upsert locks the
    /// room's row until the transaction ends, like `SELECT … FOR UPDATE`,
    /// in one round trip. With an epoch `$4`, returns no row unless the
    /// room's epoch is still that one.
    claim: Statement,
    /// Inserts the updates `$4`, numbered from `$3` on.
    insert: Statement,
    snapshot: Statement,
    log: Statement,
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
        migrate(&mut client)?;
        let statements = Statements::prepare(&mut client)?;
        Ok(Self {
            cluster_fence: None,
            client,
            config,
            statements,
            fence: Fence::default(),
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
        MIGRATIONS.len()
    }
}

impl Statements {
    fn prepare(client: &mut Client) -> Result<Self, postgres::Error> {
        Ok(Self {
            claim: client.prepare(
                "INSERT INTO tables AS t (event, table_id, next_seq)
                 VALUES ($1, $2, 1 + $3::BIGINT)
                 ON CONFLICT (event, table_id) DO UPDATE SET next_seq = t.next_seq + $3::BIGINT
                     WHERE $4::BIGINT IS NULL OR t.epoch = $4::BIGINT
                 RETURNING t.next_seq - $3::BIGINT",
            )?,
            insert: client.prepare(
                "INSERT INTO updates (event, table_id, seq, data)
                 SELECT $1, $2, $3::BIGINT + u.ord - 1, u.data
                 FROM unnest($4::BYTEA[]) WITH ORDINALITY AS u (data, ord)",
            )?,
            snapshot: client
                .prepare("SELECT data FROM snapshots WHERE event = $1 AND table_id = $2")?,
            log: client.prepare(
                "SELECT seq, data FROM updates WHERE event = $1 AND table_id = $2 ORDER BY seq",
            )?,
        })
    }
}

impl Store for PostgresStore {
    fn reopen(&self) -> Result<Self, StoreError> {
        let mut store = Self::open(&self.config)?;
        store.fence = self.fence.clone();
        store.cluster_fence = self.cluster_fence.clone();
        Ok(store)
    }

    fn load(&mut self, room: &RoomKey) -> Result<StoredDoc, StoreError> {
        let (snapshot, log) = self.read(room)?;
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
        // Each room's updates in batch order, the rooms in key order: two
        // writers then lock the rows they share in the same order and
        // cannot deadlock.
        let mut by_room: BTreeMap<&RoomKey, Vec<&[u8]>> = BTreeMap::new();
        for record in batch {
            by_room
                .entry(&record.room)
                .or_default()
                .push(record.update.as_ref());
        }
        // One transaction for the whole batch: group commit, one fsync. A
        // stale epoch fails all of it: nothing of a batch commits in part.
        let mut tx = self.client.transaction()?;
        if let Some((node, fence)) = &self.cluster_fence {
            check_leases(&mut tx, node, fence, by_room.keys().copied())?;
        }
        for (room, updates) in &by_room {
            let count = updates.len() as i64;
            let epoch = self.fence.epoch(room);
            let Some(row) = tx.query_opt(
                &self.statements.claim,
                &[&&*room.event, &&*room.table, &count, &epoch],
            )?
            else {
                return Err(StoreError::StaleEpoch {
                    room: (*room).clone(),
                    epoch: epoch.unwrap_or_default(),
                });
            };
            let first: i64 = row.get(0);
            tx.execute(
                &self.statements.insert,
                &[&&*room.event, &&*room.table, &first, updates],
            )?;
        }
        tx.commit()?;
        Ok(())
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
        let (snapshot, log) = self.read(room)?;
        let Some(&(upto, _)) = log.last() else {
            return Ok(None);
        };
        Ok(Some(LogRead {
            snapshot,
            log: log.into_iter().map(|(_, data)| data).collect(),
            upto: u64::try_from(upto).unwrap_or(0),
        }))
    }

    fn write_compaction(
        &mut self,
        room: &RoomKey,
        read: &LogRead,
        merged: &[u8],
    ) -> Result<Compaction, StoreError> {
        self.connected()?;
        let upto = i64::try_from(read.upto).unwrap_or(i64::MAX);
        let mut tx = self.client.transaction()?;
        // The room's row lock orders this write with every other compaction
        // of the room (and, briefly, with its appends).
        if !lock_room(&mut tx, room)? {
            return Ok(Compaction::Superseded);
        }
        let unchanged: bool = tx
            .query_one(
                "SELECT (SELECT data FROM snapshots WHERE event = $1 AND table_id = $2)
                     IS NOT DISTINCT FROM $3::BYTEA",
                &[&&*room.event, &&*room.table, &read.snapshot],
            )?
            .get(0);
        if !unchanged {
            // Another compaction (of this node or another) replaced it after
            // the read and deleted the entries it folded; ours was merged
            // from the old snapshot and would drop them again.
            return Ok(Compaction::Superseded);
        }
        tx.execute(
            "INSERT INTO snapshots (event, table_id, data) VALUES ($1, $2, $3)
             ON CONFLICT (event, table_id) DO UPDATE SET data = excluded.data",
            &[&&*room.event, &&*room.table, &merged],
        )?;
        tx.commit()?;
        // Exactly the entries read are deleted: every entry numbered up to
        // `upto` was visible to the read (numbers are handed out under the
        // row lock, see the module doc), and later ones are numbered above.
        // Outside the lock: a delete does not block appends under MVCC, and
        // until it commits a load sees the snapshot and entries it holds,
        // which apply twice to the same document.
        self.client.execute(
            "DELETE FROM updates WHERE event = $1 AND table_id = $2 AND seq <= $3",
            &[&&*room.event, &&*room.table, &upto],
        )?;
        Ok(Compaction::Written)
    }

    fn quarantine(&mut self, room: &RoomKey, reason: &str) -> Result<usize, StoreError> {
        self.connected()?;
        let mut tx = self.client.transaction()?;
        // Under the row lock, so no append lands between the copy and the
        // delete. The row itself stays: its counter must never restart, or
        // a compaction in flight could delete new entries under old numbers.
        lock_room(&mut tx, room)?;
        let args: [&(dyn postgres::types::ToSql + Sync); 3] =
            [&&*room.event, &&*room.table, &reason];
        // Snapshot first, then the log in order: the order they load in.
        let mut moved = tx.execute(
            "INSERT INTO quarantine (event, table_id, kind, data, reason)
             SELECT event, table_id, 'snapshot', data, $3 FROM snapshots
             WHERE event = $1 AND table_id = $2",
            &args,
        )?;
        moved += tx.execute(
            "INSERT INTO quarantine (event, table_id, kind, data, reason)
             SELECT event, table_id, 'update', data, $3 FROM updates
             WHERE event = $1 AND table_id = $2 ORDER BY seq",
            &args,
        )?;
        tx.execute(
            "DELETE FROM snapshots WHERE event = $1 AND table_id = $2",
            &args[..2],
        )?;
        tx.execute(
            "DELETE FROM updates WHERE event = $1 AND table_id = $2",
            &args[..2],
        )?;
        tx.commit()?;
        Ok(usize::try_from(moved).unwrap_or(usize::MAX))
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

impl PostgresStore {
    /// `room`'s snapshot and numbered log, from one state of the database:
    /// read committed would let a compaction commit between the two reads,
    /// and the log would then miss what the old snapshot did not hold.
    #[allow(clippy::type_complexity)]
    fn read(
        &mut self,
        room: &RoomKey,
    ) -> Result<(Option<Vec<u8>>, Vec<(i64, Vec<u8>)>), StoreError> {
        self.connected()?;
        let mut tx = self
            .client
            .build_transaction()
            .isolation_level(IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()?;
        let args: [&(dyn postgres::types::ToSql + Sync); 2] = [&&*room.event, &&*room.table];
        let snapshot = tx
            .query_opt(&self.statements.snapshot, &args)?
            .map(|row| row.get(0));
        let log = tx
            .query(&self.statements.log, &args)?
            .iter()
            .map(|row| (row.get(0), row.get(1)))
            .collect();
        tx.commit()?;
        Ok((snapshot, log))
    }
}

/// Locks `room`'s row until `tx` ends; false if the room has none (nothing
/// was ever appended to it).
fn lock_room(tx: &mut Transaction<'_>, room: &RoomKey) -> Result<bool, StoreError> {
    Ok(tx
        .query_opt(
            "SELECT 1 FROM tables WHERE event = $1 AND table_id = $2 FOR UPDATE",
            &[&&*room.event, &&*room.table],
        )?
        .is_some())
}

/// Brings the schema to [`MIGRATIONS`]' last version, in one transaction.
fn migrate(client: &mut Client) -> Result<(), StoreError> {
    let mut tx = client.transaction()?;
    // Nodes starting at once wait here for one another, then find the work
    // done: `CREATE TABLE` run twice at once fails instead of waiting.
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])?;
    tx.batch_execute("CREATE TABLE IF NOT EXISTS werktafel_schema (version INTEGER NOT NULL)")?;
    let found: i32 = tx
        .query_opt("SELECT version FROM werktafel_schema", &[])?
        .map_or(0, |row| row.get(0));
    let found = usize::try_from(found).unwrap_or(0);
    if found > MIGRATIONS.len() {
        return Err(StoreError::SchemaTooNew {
            found,
            known: MIGRATIONS.len(),
        });
    }
    if found == MIGRATIONS.len() {
        return Ok(());
    }
    for step in &MIGRATIONS[found..] {
        tx.batch_execute(step)?;
    }
    let version = MIGRATIONS.len() as i32;
    tx.execute("DELETE FROM werktafel_schema", &[])?;
    tx.execute(
        "INSERT INTO werktafel_schema (version) VALUES ($1)",
        &[&version],
    )?;
    tx.commit()?;
    tracing::info!(from = found, to = version, "migrated the PostgreSQL schema");
    Ok(())
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

/// Checks, inside the append's transaction `tx`, that `node` still holds
/// the lease of every table `rooms` belong to at the epoch `fence` records.
/// The lease rows stay locked until the commit, so a takeover waits for it:
/// either this commit comes first, or it sees the new owner and fails.
fn check_leases<'a>(
    tx: &mut Transaction<'_>,
    node: &str,
    fence: &ClusterFence,
    rooms: impl Iterator<Item = &'a RoomKey>,
) -> Result<(), StoreError> {
    let mut tables: Vec<RoomKey> = rooms.map(lease_key).collect();
    // Locked in key order, as the rooms are, so two writers cannot deadlock.
    tables.sort();
    tables.dedup();
    for table in tables {
        let held = fence.epoch(&table);
        let stored = tx.query_opt(
            "SELECT owner, epoch FROM tables WHERE event = $1 AND table_id = $2 FOR UPDATE",
            &[&&*table.event, &&*table.table],
        )?;
        let owned = match (held, stored) {
            (Some(epoch), Some(row)) => {
                row.get::<_, Option<&str>>(0) == Some(node) && row.get::<_, i64>(1) == epoch
            }
            _ => false,
        };
        if !owned {
            return Err(StoreError::NotOwner { room: table });
        }
    }
    Ok(())
}
