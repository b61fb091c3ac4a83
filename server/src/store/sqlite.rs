//! The embedded store: [`SqliteStore`], the [`Store`] on one SQLite
//! database file in the data directory (WAL mode, a write lock polled
//! briefly rather than SQLite's coarse busy sleeps), and the files'
//! permissions.
//!
//! Long: every SQL statement of the store is here (schema, appends, loads,
//! compaction's read, write and chunked deletes, quarantine, events and
//! secrets), so what touches the database file reads in one place.

use std::path::{Path, PathBuf};
use std::sync::LazyLock;
use std::time::{Duration, Instant};

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use super::{
    AppendRecord, Compaction, LogRead, RoomKey, Store, StoreError, StoredDoc, private_dir,
};

mod snapshot;

/// The embedded store: one SQLite database file in the data directory.
pub struct SqliteStore {
    conn: Connection,
    path: PathBuf,
    /// The largest part a snapshot is written in ([`super::parts::PART_BYTES`];
    /// smaller in tests, so that a small document spans several).
    part_bytes: usize,
}

/// Rows per `INSERT` statement of an append, largest first, ending in 1
/// (see `append`): four cached statements cover any batch.
const INSERT_CHUNKS: [usize; 4] = [64, 16, 4, 1];

/// The `INSERT` of each of [`INSERT_CHUNKS`]' sizes, built once.
static INSERT_SQL: LazyLock<[(usize, String); 4]> =
    LazyLock::new(|| INSERT_CHUNKS.map(|rows| (rows, insert_sql(rows))));

/// `INSERT` of `rows` log rows, numbered parameters three per row.
fn insert_sql(rows: usize) -> String {
    let values: Vec<String> = (0..rows)
        .map(|i| format!("(?{}, ?{}, ?{})", 3 * i + 1, 3 * i + 2, 3 * i + 3))
        .collect();
    format!(
        "INSERT INTO updates (event, table_id, data) VALUES {}",
        values.join(", ")
    )
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

/// The database's schema version (`PRAGMA user_version`): 1 since
/// snapshots are stored in parts (`snapshot`). A database of a later
/// version is refused at open.
const SCHEMA_VERSION: i64 = 1;

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
             CREATE TABLE IF NOT EXISTS snapshot_parts (
                 event TEXT NOT NULL,
                 table_id TEXT NOT NULL,
                 generation INTEGER NOT NULL,
                 part INTEGER NOT NULL,
                 data BLOB NOT NULL,
                 PRIMARY KEY (event, table_id, generation, part)
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
        // Added with snapshots in parts (see `snapshot`): the generation a
        // room's snapshot is stored under, NULL for one held in `data`.
        let has_parts: bool = store.conn.query_row(
            "SELECT COUNT(*) > 0 FROM pragma_table_info('snapshots') WHERE name = 'parts'",
            [],
            |row| row.get(0),
        )?;
        if !has_parts {
            store
                .conn
                .execute("ALTER TABLE snapshots ADD COLUMN parts INTEGER", [])?;
        }
        // Checked from schema 1 on, so that a later werktafel's database is
        // refused here rather than misread (this one reads a snapshot in
        // parts; the ones before it, which set no version, do not).
        let found: i64 = store
            .conn
            .query_row("PRAGMA user_version", [], |row| row.get(0))?;
        if found > SCHEMA_VERSION {
            return Err(StoreError::SqliteSchemaTooNew {
                path: store.path.display().to_string(),
                found,
                known: SCHEMA_VERSION,
            });
        }
        if found < SCHEMA_VERSION {
            store
                .conn
                .pragma_update(None, "user_version", SCHEMA_VERSION)?;
        }
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
        Ok(Self {
            conn,
            path,
            part_bytes: super::parts::PART_BYTES,
        })
    }
}

impl Store for SqliteStore {
    fn reopen(&self) -> Result<Self, StoreError> {
        let mut store = Self::connect(self.path.clone())?;
        store.part_bytes = self.part_bytes;
        Ok(store)
    }

    fn load(&mut self, room: &RoomKey) -> Result<StoredDoc, StoreError> {
        let tx = self.conn.transaction()?;
        let mut updates = Vec::new();
        updates.extend(snapshot::read(&tx, room)?.map(|(data, _)| data));
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
        let mut rest = batch;
        // As few statements as the chunk sizes allow: each row of one
        // multi-row INSERT skips a statement's step, reset and AUTOINCREMENT
        // bookkeeping. Rows keep their order, so ids stay in sequence.
        for (rows, sql) in INSERT_SQL.iter() {
            let rows = *rows;
            while rest.len() >= rows {
                let (chunk, tail) = rest.split_at(rows);
                let mut stmt = tx.prepare_cached(sql)?;
                for (i, record) in chunk.iter().enumerate() {
                    stmt.raw_bind_parameter(3 * i + 1, &*record.room.event)?;
                    stmt.raw_bind_parameter(3 * i + 2, &*record.room.table)?;
                    stmt.raw_bind_parameter(3 * i + 3, record.update.as_ref())?;
                }
                stmt.raw_execute()?;
                rest = tail;
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
        let (snapshot, generation) = snapshot::read(&tx, room)?.unzip();
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
            generation: generation.flatten(),
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
        // The parts first, outside the head's transaction: the long write,
        // in short paced ones (`snapshot`).
        let generation = snapshot::write_parts(&mut self.conn, room, merged, self.part_bytes)?;
        // IMMEDIATE takes the write lock up front, so nothing changes between
        // the check and the flip; an append waiting meanwhile is held only
        // for this short write (`wait_for_lock`), never for the merge.
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let now = snapshot::head(&tx, room)?;
        if !super::parts::unchanged(now.as_ref(), read.snapshot.as_deref(), read.generation) {
            // Another compaction (of this process or another) replaced it
            // after the read and deleted the rows it folded; ours was merged
            // from the old snapshot and would drop them again.
            drop(tx);
            snapshot::delete_parts(&mut self.conn, room, snapshot::Stale::Only(generation))?;
            return Ok(Compaction::Superseded);
        }
        snapshot::flip(&tx, room, generation)?;
        tx.commit()?;
        snapshot::delete_parts(&mut self.conn, room, snapshot::Stale::Below(generation))?;
        // Exactly the rows that were read are deleted. A row the read did not
        // see was committed after it (by this process or another); SQLite
        // has one writer at a time and AUTOINCREMENT gives each new row an id
        // above every id ever used, so that row's id is above `upto` and it
        // stays in the log.
        //
        // The rows go in short transactions of their own, paced, because
        // deleting a busy table's log (100,000 rows and more) in one held the
        // write lock, and with it every commit and every client's edit, for
        // up to 100 ms. Until the last one, a load sees the new snapshot and
        // some rows it already holds; applying a Yjs update twice changes
        // nothing, so that is the same document.
        loop {
            let started = Instant::now();
            let deleted = self.conn.execute(
                "DELETE FROM updates WHERE id IN (
                     SELECT id FROM updates WHERE event = ?1 AND table_id = ?2 AND id <= ?3
                     ORDER BY id LIMIT ?4)",
                params![&*room.event, &*room.table, read.upto, DELETE_CHUNK],
            )?;
            if deleted < DELETE_CHUNK {
                break;
            }
            super::parts::pace(started);
        }
        Ok(Compaction::Written)
    }

    fn quarantine(&mut self, room: &RoomKey, reason: &str) -> Result<usize, StoreError> {
        let at_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64);
        let tx = self.conn.transaction()?;
        let room_args = params![&*room.event, &*room.table];
        // Snapshot first, then the log in order: the order they load in. A
        // snapshot in parts moves as its parts, in order (`snapshot-part`
        // rows, whose concatenation is the snapshot), whole or not.
        let mut moved = tx.execute(
            "INSERT INTO quarantine (event, table_id, kind, data, reason, at_ms)
             SELECT event, table_id, 'snapshot', data, ?3, ?4 FROM snapshots
             WHERE event = ?1 AND table_id = ?2 AND parts IS NULL",
            params![&*room.event, &*room.table, reason, at_ms],
        )?;
        // Counted as one entry, as a snapshot is in every store.
        moved += tx
            .execute(
                "INSERT INTO quarantine (event, table_id, kind, data, reason, at_ms)
             SELECT p.event, p.table_id, 'snapshot-part', p.data, ?3, ?4
             FROM snapshot_parts p JOIN snapshots s
               ON s.event = p.event AND s.table_id = p.table_id AND s.parts = p.generation
             WHERE p.event = ?1 AND p.table_id = ?2 ORDER BY p.part",
                params![&*room.event, &*room.table, reason, at_ms],
            )?
            .min(1);
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
            "DELETE FROM snapshot_parts WHERE event = ?1 AND table_id = ?2",
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

#[cfg(test)]
mod tests {
    use yrs::Doc;

    use super::*;
    use crate::store::testing::*;

    /// A store on a fresh database file, and the directory holding it.
    fn fresh() -> (tempfile::TempDir, SqliteStore) {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path()).unwrap();
        (dir, store)
    }

    crate::store::suite::store_suite!(fresh);

    /// The same suite with snapshots written in parts of 64 bytes, so that
    /// every snapshot spans several.
    mod in_parts {
        use super::*;

        pub(crate) fn fresh_in_parts() -> (tempfile::TempDir, SqliteStore) {
            let (dir, mut store) = fresh();
            store.part_bytes = 64;
            (dir, store)
        }

        crate::store::suite::store_suite!(fresh_in_parts);
    }

    #[test]
    fn a_database_of_a_later_schema_is_refused_and_left_alone() {
        let (dir, store) = fresh();
        let version: i64 = store
            .conn
            .query_row("PRAGMA user_version", [], |row| row.get(0))
            .unwrap();
        assert_eq!(version, SCHEMA_VERSION);
        store
            .conn
            .pragma_update(None, "user_version", SCHEMA_VERSION + 1)
            .unwrap();
        drop(store);
        let refused = SqliteStore::open(dir.path()).err().expect("refused");
        assert!(
            matches!(refused, StoreError::SqliteSchemaTooNew { found, .. } if found == SCHEMA_VERSION + 1),
            "{refused}"
        );
        assert!(
            refused.to_string().contains("run a newer werktafel"),
            "{refused}"
        );
    }

    #[test]
    fn the_suite_deletes_more_than_one_chunk() {
        // `compaction_folds_a_long_log` must span several delete chunks.
        const { assert!(4_017 > 2 * DELETE_CHUNK) };
    }

    #[test]
    fn one_batch_of_every_chunk_size_keeps_each_rooms_order() {
        let (_dir, mut store) = fresh();
        let (a, b) = (key("a"), key("b"));
        // 64 + 16 + 4 + 1 + 1 + 1 rows: every statement size, two rooms interleaved.
        let (typed_a, typed_b) = (typing(&Doc::new(), 44), typing(&Doc::new(), 43));
        let mut batch = Vec::new();
        for i in 0..44 {
            for (room, typed) in [(&a, &typed_a), (&b, &typed_b)] {
                if let Some(update) = typed.get(i) {
                    batch.push(AppendRecord {
                        room: room.clone(),
                        update: bytes::Bytes::from(update.clone()),
                    });
                }
            }
        }
        assert_eq!(batch.len(), 87);
        store.append(&batch).unwrap();
        assert_eq!(store.load(&a).unwrap().updates, typed_a);
        assert_eq!(store.load(&b).unwrap().updates, typed_b);
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
