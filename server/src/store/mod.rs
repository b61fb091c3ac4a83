//! Durable storage of table documents behind the [`Store`] trait. The
//! embedded implementation on SQLite is [`SqliteStore`] (in [`sqlite`]),
//! the shared one on PostgreSQL [`postgres::PostgresStore`];
//! [`StoreConfig`] says which one a server uses.
//!
//! A room's document is an append-only log of Yjs updates plus, from time to
//! time, a snapshot that replaces the log entries it covers. Nothing here
//! assumes that this process is the only writer of a room: appends are plain
//! inserts, and compaction deletes exactly the log entries it merged, so a
//! second server node appending at the same time loses nothing. The same
//! holds between the two handles of one process: the persistence worker
//! appends on one while the compactor folds the log on the other.

pub mod blobs;
pub mod compactor;
pub mod config;
pub mod fence;
pub mod growth;
#[cfg(any(test, feature = "test-support"))]
pub mod memory_store;
pub(crate) mod parts;
pub mod persist;
pub mod postgres;
pub mod quarantine;
pub mod sqlite;
#[cfg(test)]
pub(crate) mod suite;

use std::path::Path;

use yrs::updates::decoder::Decode;
use yrs::{Doc, ReadTxn, StateVector, Transact, Update};

pub use config::{AnyStore, StoreConfig, StoreConfigError};
pub use sqlite::{DB_FILE, SqliteStore, loose_permissions};

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
    #[error(
        "the PostgreSQL schema is at version {found}, newer than this werktafel knows ({known}): run a newer werktafel"
    )]
    SchemaTooNew { found: usize, known: usize },
    #[error(
        "the database {path} is at schema version {found}, newer than this werktafel knows \
         ({known}): run a newer werktafel"
    )]
    SqliteSchemaTooNew {
        path: String,
        found: i64,
        known: i64,
    },
    #[error(
        "the PostgreSQL schema is at version {found} and this werktafel needs {known}, but node \
         {node} of the cluster was alive {seconds} s ago: stop every node before a newer version \
         migrates the schema (an older node would misread what the newer one writes), or wait \
         until that node's last heartbeat is {quiet} s old"
    )]
    MigrationWhileNodesAlive {
        found: usize,
        known: usize,
        node: String,
        seconds: i64,
        quiet: i64,
    },
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

impl StoreError {
    /// Whether the store could not be reached, rather than refused what it
    /// was given: the connection failed or closed (a database restarting,
    /// a cut network), or the server is shutting down or starting up. Worth
    /// trying again later; nothing of the failed statement was committed.
    pub fn is_unreachable(&self) -> bool {
        match self {
            StoreError::Connect { .. } => true,
            StoreError::Postgres(error) => match error.code() {
                // No SQLSTATE: the connection itself failed or closed.
                None => true,
                Some(state) => [
                    ::postgres::error::SqlState::ADMIN_SHUTDOWN,
                    ::postgres::error::SqlState::CRASH_SHUTDOWN,
                    ::postgres::error::SqlState::CANNOT_CONNECT_NOW,
                ]
                .contains(state),
            },
            _ => false,
        }
    }
}

/// What a compaction read of a room: its snapshot and its log up to the entry
/// numbered `upto`. Taken without holding the write lock, merged outside any
/// transaction, then written only if the snapshot is still the one read.
#[derive(Debug, Clone)]
pub struct LogRead {
    pub snapshot: Option<Vec<u8>>,
    /// The generation the snapshot read is stored under ([`parts`]); `None`
    /// for one stored whole (and in the memory store).
    pub generation: Option<i64>,
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

/// Creates `dir` (and missing parents) readable by this user only.
pub(crate) fn private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
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
