//! Durable storage of table documents behind the [`Store`] trait, and its
//! embedded implementation on SQLite ([`SqliteStore`]). The shared one on
//! PostgreSQL is [`postgres::PostgresStore`]; [`StoreConfig`] says which one
//! a server uses.
//!
//! A room's document is an append-only log of Yjs updates plus, from time to
//! time, a snapshot that replaces the log entries it covers. Nothing here
//! assumes that this process is the only writer of a room: appends are plain
//! inserts, and compaction deletes exactly the log entries it merged, so a
//! second server node appending at the same time loses nothing. The same
//! holds between the two handles of one process: the persistence worker
//! appends on one while the compactor folds the log on the other.

pub mod compactor;
pub mod config;
pub mod fence;
#[cfg(any(test, feature = "test-support"))]
pub mod memory_store;
pub mod persist;
pub mod postgres;
pub mod quarantine;
#[cfg(test)]
pub(crate) mod suite;

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use yrs::updates::decoder::Decode;
use yrs::{Doc, ReadTxn, StateVector, Transact, Update};

pub use config::{AnyStore, StoreConfig, StoreConfigError};

/// Names one table document: the event slug and the table id. Cloned for
/// every update queued for commit, so both parts are shared, not copied.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RoomKey {
    pub event: std::sync::Arc<str>,
    pub table: std::sync::Arc<str>,
}

impl RoomKey {
    pub fn new(event: &str, table: &str) -> Self {
        Self {
            event: event.into(),
            table: table.into(),
        }
    }
}

impl std::fmt::Display for RoomKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.event, self.table)
    }
}

/// One update to append to a room's log.
#[derive(Debug, Clone)]
pub struct AppendRecord {
    pub room: RoomKey,
    pub update: bytes::Bytes,
}

/// What is stored for one room: its snapshot (if any) followed by the log,
/// in the order they were written. Applying all of them rebuilds the doc.
#[derive(Debug, Default)]
pub struct StoredDoc {
    pub updates: Vec<Vec<u8>>,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("PostgreSQL: {0}")]
    Postgres(#[from] ::postgres::Error),
    #[error("cannot connect to PostgreSQL at {target}: {source}")]
    Connect {
        target: String,
        source: ::postgres::Error,
    },
    #[error("{room} is owned by another node now (this node's lease, epoch {epoch}, is stale)")]
    StaleEpoch { room: RoomKey, epoch: i64 },
    #[error(
        "the PostgreSQL schema is at version {found}, newer than this werktafel knows ({known}): run a newer werktafel"
    )]
    SchemaTooNew { found: usize, known: usize },
    #[error("cannot create data directory {path}: {source}")]
    DataDir {
        path: String,
        source: std::io::Error,
    },
    #[error("the persistence worker has stopped")]
    Stopped,
    /// This node no longer holds `room`'s lease: another node took it over
    /// (a cluster on a shared store); nothing of the batch was committed.
    #[error("{room} is served by another node now")]
    NotOwner { room: RoomKey },
    #[error("stored update for {room} is corrupt: {reason}")]
    Corrupt { room: RoomKey, reason: String },
}

/// What a compaction read of a room: its snapshot and its log up to the entry
/// numbered `upto`. Taken without holding the write lock, merged outside any
/// transaction, then written only if the snapshot is still the one read.
#[derive(Debug, Clone)]
pub struct LogRead {
    pub snapshot: Option<Vec<u8>>,
    pub log: Vec<Vec<u8>>,
    /// Id of the last log entry read; entries appended later have larger ids.
    pub upto: u64,
}

impl LogRead {
    /// The snapshot and the log merged into one update, or `None` while some
    /// update still waits for one it depends on: a snapshot would drop it.
    pub fn merge(&self, room: &RoomKey) -> Result<Option<Vec<u8>>, StoreError> {
        merge(
            room,
            self.snapshot.iter().chain(&self.log).map(Vec::as_slice),
        )
    }
}

/// What became of one compaction of a room.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compaction {
    /// The log read is folded into a new snapshot and deleted.
    Written,
    /// There was no log to fold.
    Empty,
    /// Some update waits for one it depends on; the log is kept as it is
    /// until the gap is filled.
    Waiting,
    /// The snapshot changed between the read and the write (another
    /// compaction replaced it); this round gave up and changed nothing.
    Superseded,
}

impl Compaction {
    /// A short name, for metrics and logs.
    pub fn label(self) -> &'static str {
        match self {
            Compaction::Written => "written",
            Compaction::Empty => "empty",
            Compaction::Waiting => "waiting",
            Compaction::Superseded => "superseded",
        }
    }
}

/// Durable storage for table documents.
///
/// The trait is synchronous on purpose: each handle is driven by one dedicated
/// thread (the persistence worker, [`crate::store::persist`], and the compactor,
/// [`crate::store::compactor`], each with its own from [`Store::reopen`]), which is
/// the natural shape for SQLite and keeps blocking I/O off the async runtime.
pub trait Store: Send + 'static {
    /// A second handle to the same storage, for another thread.
    fn reopen(&self) -> Result<Self, StoreError>
    where
        Self: Sized;
    /// Everything stored for `room`; empty for a room never written.
    fn load(&mut self, room: &RoomKey) -> Result<StoredDoc, StoreError>;
    /// Appends all records in one atomic, durable commit.
    fn append(&mut self, batch: &[AppendRecord]) -> Result<(), StoreError>;
    /// Number of log entries not yet folded into the snapshot.
    fn log_len(&mut self, room: &RoomKey) -> Result<u64, StoreError>;
    /// Reads `room`'s snapshot and log for a compaction, keeping no lock
    /// afterwards; `None` when the log is empty.
    fn read_log(&mut self, room: &RoomKey) -> Result<Option<LogRead>, StoreError>;
    /// Replaces the snapshot `read` saw with `merged` in one short write,
    /// then deletes the log entries `read` covered (in short writes of
    /// their own; entries left over are ones the snapshot holds); gives up
    /// ([`Compaction::Superseded`]) if the snapshot is no longer the one read.
    fn write_compaction(
        &mut self,
        room: &RoomKey,
        read: &LogRead,
        merged: &[u8],
    ) -> Result<Compaction, StoreError>;
    /// Folds `room`'s log into its snapshot: reads, merges outside any lock
    /// (the expensive part: it replays the whole log), then writes briefly.
    fn compact(&mut self, room: &RoomKey) -> Result<Compaction, StoreError> {
        let Some(read) = self.read_log(room)? else {
            return Ok(Compaction::Empty);
        };
        let Some(merged) = read.merge(room)? else {
            return Ok(Compaction::Waiting);
        };
        self.write_compaction(room, &read, &merged)
    }
    /// Moves everything stored for `room` (snapshot and log) aside, in one
    /// transaction, with `reason`: kept, no longer loaded
    /// ([`crate::store::quarantine`]). Returns how many entries moved.
    fn quarantine(&mut self, room: &RoomKey, reason: &str) -> Result<usize, StoreError>;
    /// Every room that has anything stored, for exports and listings.
    fn rooms(&mut self) -> Result<Vec<RoomKey>, StoreError>;
    /// Keeps an event's definition (JSON), so exports can run without it.
    fn save_event(&mut self, slug: &str, definition: &str) -> Result<(), StoreError>;
    /// The definition saved for `slug`, if any.
    fn load_event(&mut self, slug: &str) -> Result<Option<String>, StoreError>;
    /// Slugs of every saved event.
    fn events(&mut self) -> Result<Vec<String>, StoreError>;
    /// The secret stored as `name`, storing `fresh` first if there is none.
    fn secret(&mut self, name: &str, fresh: &str) -> Result<String, StoreError>;
    /// Replaces the secrets named in `secrets` (name, value) in one
    /// transaction: renewing the participant key writes the key and its
    /// generation together or not at all.
    fn set_secrets(&mut self, secrets: &[(String, String)]) -> Result<(), StoreError>;
}

/// The embedded store: one SQLite database file in the data directory.
pub struct SqliteStore {
    conn: Connection,
    path: PathBuf,
}

/// Log rows a compaction deletes per transaction (see `write_compaction`).
const DELETE_CHUNK: usize = 2000;

/// How often, and how long in all, a connection polls for another's write
/// lock: 250 µs, up to 10 s. SQLite's own busy timeout backs off to sleeps
/// of 100 ms, which a commit waiting behind a 5 ms write would oversleep.
const LOCK_POLL: Duration = Duration::from_micros(250);
const LOCK_POLLS: i32 = 40_000;

fn wait_for_lock(attempt: i32) -> bool {
    if attempt >= LOCK_POLLS {
        return false;
    }
    std::thread::sleep(LOCK_POLL);
    true
}

/// File name of the database inside the data directory.
pub const DB_FILE: &str = "werktafel.db";

impl SqliteStore {
    /// Opens (creating if needed) the database in `data_dir`.
    ///
    /// The database holds every event's keys and the identity-signing secret,
    /// so what this creates is for the server's user alone: the directory
    /// 0700, the database file 0600 (SQLite gives its `-wal` and `-shm`
    /// files the database's mode). Modes of existing files are left as the
    /// operator set them; [`loose_permissions`] says which are looser.
    pub fn open(data_dir: &Path) -> Result<Self, StoreError> {
        let data_dir_error = |source| StoreError::DataDir {
            path: data_dir.display().to_string(),
            source,
        };
        private_dir(data_dir).map_err(data_dir_error)?;
        let db = data_dir.join(DB_FILE);
        private_file(&db).map_err(data_dir_error)?;
        let store = Self::connect(db)?;
        store.conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS updates (
                 id INTEGER PRIMARY KEY AUTOINCREMENT,
                 event TEXT NOT NULL,
                 table_id TEXT NOT NULL,
                 data BLOB NOT NULL
             );
             CREATE INDEX IF NOT EXISTS updates_by_room ON updates (event, table_id, id);
             CREATE TABLE IF NOT EXISTS snapshots (
                 event TEXT NOT NULL,
                 table_id TEXT NOT NULL,
                 data BLOB NOT NULL,
                 PRIMARY KEY (event, table_id)
             );
             CREATE TABLE IF NOT EXISTS events (
                 slug TEXT PRIMARY KEY,
                 definition TEXT NOT NULL
             );
             CREATE TABLE IF NOT EXISTS quarantine (
                 id INTEGER PRIMARY KEY AUTOINCREMENT,
                 event TEXT NOT NULL,
                 table_id TEXT NOT NULL,
                 kind TEXT NOT NULL,
                 data BLOB NOT NULL,
                 reason TEXT NOT NULL,
                 at_ms INTEGER NOT NULL
             );
             CREATE TABLE IF NOT EXISTS secrets (
                 name TEXT PRIMARY KEY,
                 value TEXT NOT NULL
             );",
        )?;
        Ok(store)
    }

    /// One connection to the database file at `path`, with the pragmas every
    /// connection of this process uses.
    fn connect(path: PathBuf) -> Result<Self, StoreError> {
        let conn = Connection::open(&path)?;
        // WAL lets exports and the compactor read while the server writes;
        // synchronous=FULL makes every commit durable against power loss, not
        // only against a killed process. Group commit in the persistence
        // worker pays for the fsync. One connection waits out another's short
        // write (a commit, a step of a compaction) in short polls.
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.busy_handler(Some(wait_for_lock))?;
        Ok(Self { conn, path })
    }
}

impl Store for SqliteStore {
    fn reopen(&self) -> Result<Self, StoreError> {
        Self::connect(self.path.clone())
    }

    fn load(&mut self, room: &RoomKey) -> Result<StoredDoc, StoreError> {
        let tx = self.conn.transaction()?;
        let mut updates = Vec::new();
        let snapshot: Option<Vec<u8>> = tx
            .query_row(
                "SELECT data FROM snapshots WHERE event = ?1 AND table_id = ?2",
                params![&*room.event, &*room.table],
                |row| row.get(0),
            )
            .optional()?;
        updates.extend(snapshot);
        {
            let mut stmt = tx.prepare_cached(
                "SELECT data FROM updates WHERE event = ?1 AND table_id = ?2 ORDER BY id",
            )?;
            let rows = stmt.query_map(params![&*room.event, &*room.table], |row| row.get(0))?;
            for row in rows {
                updates.push(row?);
            }
        }
        tx.commit()?;
        Ok(StoredDoc { updates })
    }

    fn append(&mut self, batch: &[AppendRecord]) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        {
            let mut stmt = tx.prepare_cached(
                "INSERT INTO updates (event, table_id, data) VALUES (?1, ?2, ?3)",
            )?;
            for record in batch {
                stmt.execute(params![
                    &*record.room.event,
                    &*record.room.table,
                    record.update.as_ref()
                ])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    fn log_len(&mut self, room: &RoomKey) -> Result<u64, StoreError> {
        let n: i64 = self.conn.query_row(
            "SELECT COUNT(*) FROM updates WHERE event = ?1 AND table_id = ?2",
            params![&*room.event, &*room.table],
            |row| row.get(0),
        )?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    fn read_log(&mut self, room: &RoomKey) -> Result<Option<LogRead>, StoreError> {
        // A read transaction: the snapshot and the log come from one state of
        // the database (WAL), and no writer waits for it.
        let tx = self.conn.transaction()?;
        let snapshot: Option<Vec<u8>> = tx
            .query_row(
                "SELECT data FROM snapshots WHERE event = ?1 AND table_id = ?2",
                params![&*room.event, &*room.table],
                |row| row.get(0),
            )
            .optional()?;
        let mut log = Vec::new();
        let mut upto = None;
        {
            let mut stmt = tx.prepare_cached(
                "SELECT id, data FROM updates WHERE event = ?1 AND table_id = ?2 ORDER BY id",
            )?;
            let mut rows = stmt.query(params![&*room.event, &*room.table])?;
            while let Some(row) = rows.next()? {
                upto = Some(row.get(0)?);
                log.push(row.get(1)?);
            }
        }
        tx.commit()?;
        Ok(upto.map(|upto| LogRead {
            snapshot,
            log,
            upto,
        }))
    }

    fn write_compaction(
        &mut self,
        room: &RoomKey,
        read: &LogRead,
        merged: &[u8],
    ) -> Result<Compaction, StoreError> {
        // IMMEDIATE takes the write lock up front, so nothing changes between
        // the check and the write; an append waiting meanwhile is held only
        // for this short write (`wait_for_lock`), never for the merge.
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let snapshot: Option<Vec<u8>> = tx
            .query_row(
                "SELECT data FROM snapshots WHERE event = ?1 AND table_id = ?2",
                params![&*room.event, &*room.table],
                |row| row.get(0),
            )
            .optional()?;
        if snapshot != read.snapshot {
            // Another compaction (of this process or another) replaced it
            // after the read and deleted the rows it folded; ours was merged
            // from the old snapshot and would drop them again.
            return Ok(Compaction::Superseded);
        }
        tx.execute(
            "INSERT INTO snapshots (event, table_id, data) VALUES (?1, ?2, ?3)
             ON CONFLICT (event, table_id) DO UPDATE SET data = excluded.data",
            params![&*room.event, &*room.table, merged],
        )?;
        tx.commit()?;
        // Exactly the rows that were read are deleted. A row the read did not
        // see was committed after it (by this process or another); SQLite
        // has one writer at a time and AUTOINCREMENT gives each new row an id
        // above every id ever used, so that row's id is above `upto` and it
        // stays in the log.
        //
        // The rows go in short transactions of their own, because deleting
        // a busy table's log (100,000 rows and more) in one held the write
        // lock, and with it every commit and every client's edit, for up to
        // 100 ms. Until the last one, a load sees the new snapshot and some
        // rows it already holds; applying a Yjs update twice changes nothing,
        // so that is the same document.
        loop {
            let deleted = self.conn.execute(
                "DELETE FROM updates WHERE id IN (
                     SELECT id FROM updates WHERE event = ?1 AND table_id = ?2 AND id <= ?3
                     ORDER BY id LIMIT ?4)",
                params![&*room.event, &*room.table, read.upto, DELETE_CHUNK],
            )?;
            if deleted < DELETE_CHUNK {
                break;
            }
        }
        Ok(Compaction::Written)
    }

    fn quarantine(&mut self, room: &RoomKey, reason: &str) -> Result<usize, StoreError> {
        let at_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64);
        let tx = self.conn.transaction()?;
        let room_args = params![&*room.event, &*room.table];
        // Snapshot first, then the log in order: the order they load in.
        let mut moved = tx.execute(
            "INSERT INTO quarantine (event, table_id, kind, data, reason, at_ms)
             SELECT event, table_id, 'snapshot', data, ?3, ?4 FROM snapshots
             WHERE event = ?1 AND table_id = ?2",
            params![&*room.event, &*room.table, reason, at_ms],
        )?;
        moved += tx.execute(
            "INSERT INTO quarantine (event, table_id, kind, data, reason, at_ms)
             SELECT event, table_id, 'update', data, ?3, ?4 FROM updates
             WHERE event = ?1 AND table_id = ?2 ORDER BY id",
            params![&*room.event, &*room.table, reason, at_ms],
        )?;
        tx.execute(
            "DELETE FROM snapshots WHERE event = ?1 AND table_id = ?2",
            room_args,
        )?;
        tx.execute(
            "DELETE FROM updates WHERE event = ?1 AND table_id = ?2",
            room_args,
        )?;
        tx.commit()?;
        Ok(moved)
    }

    fn rooms(&mut self) -> Result<Vec<RoomKey>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT event, table_id FROM snapshots UNION SELECT DISTINCT event, table_id FROM updates ORDER BY 1, 2",
        )?;
        let rows = stmt.query_map([], |row| {
            let event: String = row.get(0)?;
            let table: String = row.get(1)?;
            Ok(RoomKey::new(&event, &table))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn save_event(&mut self, slug: &str, definition: &str) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO events (slug, definition) VALUES (?1, ?2)
             ON CONFLICT (slug) DO UPDATE SET definition = excluded.definition",
            params![slug, definition],
        )?;
        Ok(())
    }

    fn load_event(&mut self, slug: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT definition FROM events WHERE slug = ?1",
                params![slug],
                |row| row.get(0),
            )
            .optional()?)
    }

    fn events(&mut self) -> Result<Vec<String>, StoreError> {
        let mut stmt = self.conn.prepare("SELECT slug FROM events ORDER BY slug")?;
        let rows = stmt.query_map([], |row| row.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn secret(&mut self, name: &str, fresh: &str) -> Result<String, StoreError> {
        // Insert-if-absent then read, so two processes starting at once agree.
        self.conn.execute(
            "INSERT INTO secrets (name, value) VALUES (?1, ?2) ON CONFLICT (name) DO NOTHING",
            params![name, fresh],
        )?;
        Ok(self.conn.query_row(
            "SELECT value FROM secrets WHERE name = ?1",
            params![name],
            |row| row.get(0),
        )?)
    }

    fn set_secrets(&mut self, secrets: &[(String, String)]) -> Result<(), StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        for (name, value) in secrets {
            tx.execute(
                "INSERT INTO secrets (name, value) VALUES (?1, ?2)
                 ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                params![name, value],
            )?;
        }
        tx.commit()?;
        Ok(())
    }
}

/// Creates `dir` (and missing parents) readable by this user only.
pub(crate) fn private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// Creates the empty file `path` readable by this user only, unless it
/// exists: SQLite would create it with the process's umask (often 0644).
pub(crate) fn private_file(path: &Path) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

/// The data directory and database files that others than this user may
/// read or enter (group or other bits set), with their modes; the server
/// warns about each at start. Empty where the platform has no such modes.
pub fn loose_permissions(data_dir: &Path) -> Vec<(PathBuf, u32)> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let db = data_dir.join(DB_FILE);
        let mut paths = vec![data_dir.to_path_buf(), db.clone()];
        for suffix in ["-wal", "-shm"] {
            let mut name = db.clone().into_os_string();
            name.push(suffix);
            paths.push(PathBuf::from(name));
        }
        paths
            .into_iter()
            .filter_map(|path| {
                let mode = std::fs::metadata(&path).ok()?.permissions().mode() & 0o777;
                (mode & 0o077 != 0).then_some((path, mode))
            })
            .collect()
    }
    #[cfg(not(unix))]
    {
        let _ = data_dir;
        Vec::new()
    }
}

/// Applies stored updates, in order, to a fresh document.
pub fn build_doc<'a>(
    room: &RoomKey,
    updates: impl IntoIterator<Item = &'a [u8]>,
) -> Result<Doc, StoreError> {
    let doc = Doc::new();
    {
        let mut txn = doc.transact_mut();
        for data in updates {
            let update = Update::decode_v1(data).map_err(|e| StoreError::Corrupt {
                room: room.clone(),
                reason: e.to_string(),
            })?;
            txn.apply_update(update).map_err(|e| StoreError::Corrupt {
                room: room.clone(),
                reason: e.to_string(),
            })?;
        }
    }
    Ok(doc)
}

/// Merges updates into one, or `None` while some update has unmet dependencies.
pub(crate) fn merge<'a>(
    room: &RoomKey,
    updates: impl IntoIterator<Item = &'a [u8]>,
) -> Result<Option<Vec<u8>>, StoreError> {
    let doc = build_doc(room, updates)?;
    let txn = doc.transact();
    if txn.has_missing_updates() {
        return Ok(None);
    }
    Ok(Some(txn.encode_state_as_update_v1(&StateVector::default())))
}

/// Helpers for the tests of every `Store`.
#[cfg(test)]
pub(crate) mod testing {
    use super::*;
    use yrs::{GetString, Text};

    pub fn key(table: &str) -> RoomKey {
        RoomKey::new("e", table)
    }

    /// Types `n` characters into a text, one update each, as clients do.
    pub fn typing(doc: &Doc, n: usize) -> Vec<Vec<u8>> {
        let text = doc.get_or_insert_text("t");
        (0..n)
            .map(|i| {
                let mut txn = doc.transact_mut();
                text.insert(&mut txn, i as u32, "x");
                txn.encode_update_v1()
            })
            .collect()
    }

    pub fn append(store: &mut dyn Store, room: &RoomKey, updates: &[Vec<u8>]) {
        let batch: Vec<_> = updates
            .iter()
            .map(|u| AppendRecord {
                room: room.clone(),
                update: bytes::Bytes::from(u.clone()),
            })
            .collect();
        store.append(&batch).unwrap();
    }

    /// The text typed by [`typing`], read back from what was stored.
    pub fn text_of(room: &RoomKey, stored: &StoredDoc) -> String {
        let doc = build_doc(room, stored.updates.iter().map(Vec::as_slice)).unwrap();
        let text = doc.get_or_insert_text("t");
        text.get_string(&doc.transact())
    }

    /// Steps a compaction on `mine` while `other`, a second handle to the
    /// same storage, appends between its read and its write: the append
    /// stays in the log, on top of the new snapshot.
    pub fn append_between_read_and_write_is_kept(mine: &mut dyn Store, other: &mut dyn Store) {
        let room = key("race");
        let updates = typing(&Doc::new(), 15);
        append(mine, &room, &updates[..10]);

        let read = mine.read_log(&room).unwrap().expect("a log to compact");
        append(other, &room, &updates[10..]);
        let merged = read.merge(&room).unwrap().expect("no update is missing");
        let outcome = mine.write_compaction(&room, &read, &merged).unwrap();

        assert_eq!(outcome, Compaction::Written);
        assert_eq!(mine.log_len(&room).unwrap(), 5, "the later appends stay");
        let stored = mine.load(&room).unwrap();
        assert_eq!(stored.updates.len(), 6, "a snapshot and the later appends");
        assert_eq!(text_of(&room, &stored), "x".repeat(15));
    }

    /// Steps a compaction on `mine` while `other` appends and compacts
    /// between its read and its write: the snapshot it read is gone, so it
    /// gives up; written, it would drop what `other` folded after the read.
    pub fn changed_snapshot_makes_compaction_give_up(mine: &mut dyn Store, other: &mut dyn Store) {
        let room = key("superseded");
        let updates = typing(&Doc::new(), 15);
        append(mine, &room, &updates[..5]);
        assert_eq!(mine.compact(&room).unwrap(), Compaction::Written);
        append(mine, &room, &updates[5..10]);

        let read = mine.read_log(&room).unwrap().expect("a log to compact");
        append(other, &room, &updates[10..]);
        assert_eq!(other.compact(&room).unwrap(), Compaction::Written);
        let merged = read.merge(&room).unwrap().expect("no update is missing");
        let outcome = mine.write_compaction(&room, &read, &merged).unwrap();

        assert_eq!(outcome, Compaction::Superseded);
        let stored = mine.load(&room).unwrap();
        assert_eq!(stored.updates.len(), 1, "the other compaction's snapshot");
        assert_eq!(text_of(&room, &stored), "x".repeat(15), "nothing lost");
        assert_eq!(mine.compact(&room).unwrap(), Compaction::Empty);
    }
}

#[cfg(test)]
mod tests {
    use super::testing::*;
    use super::*;

    /// A store on a fresh database file, and the directory holding it.
    fn fresh() -> (tempfile::TempDir, SqliteStore) {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path()).unwrap();
        (dir, store)
    }

    crate::store::suite::store_suite!(fresh);

    #[test]
    fn the_suite_deletes_more_than_one_chunk() {
        // `compaction_folds_a_long_log` must span several delete chunks.
        const { assert!(4_017 > 2 * DELETE_CHUNK) };
    }

    #[test]
    fn a_compaction_stopped_before_its_deletes_leaves_the_same_document() {
        let (_dir, mut store) = fresh();
        let room = key("a");
        append(&mut store, &room, &typing(&Doc::new(), 40));
        let read = store.read_log(&room).unwrap().unwrap();
        let merged = read.merge(&room).unwrap().unwrap();
        // The snapshot is written, the log rows it holds are not yet deleted.
        let tx = store.conn.transaction().unwrap();
        tx.execute(
            "INSERT INTO snapshots (event, table_id, data) VALUES (?1, ?2, ?3)",
            params![&*room.event, &*room.table, merged],
        )
        .unwrap();
        tx.commit().unwrap();
        let loaded = store.load(&room).unwrap();
        assert_eq!(loaded.updates.len(), 41, "the snapshot and the 40 rows");
        assert_eq!(text_of(&room, &loaded), "x".repeat(40));
    }
}
