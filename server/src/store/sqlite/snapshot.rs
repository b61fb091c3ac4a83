//! A room's snapshot in SQLite, written in parts so that no single write
//! holds the database's one write lock for long.
//!
//! A compaction's snapshot is the whole table: tens of MB for a busy one.
//! Written as one row it held the write lock, and with it every commit and so
//! every client's next delivery, for as long as SQLite took to write and
//! sync it (280 ms for 55 MB, 900 ms for 67 MB, measured under the
//! note-insert bench). Now:
//!
//! 1. the snapshot is cut into parts of at most [`PART_BYTES`], each
//!    inserted into `snapshot_parts` under a new *generation* in a short
//!    transaction of its own, with a pause as long as the write after each
//!    ([`pace`]), so a waiting commit gets the lock within one part's write;
//! 2. one short transaction checks that the room's snapshot is still the one
//!    the compaction read and points the room's `snapshots` row at the new
//!    generation (`parts` column; `data` empty);
//! 3. the parts of older generations are deleted, a few per transaction.
//!
//! Invariants: a `snapshots` row with `parts` = g is the concatenation, in
//! `part` order, of generation g's parts, numbered 0, 1, … without a gap; a
//! row with `parts` NULL holds its snapshot in `data` (how every snapshot
//! was written before, still read). Generations only grow (each is one
//! above the largest of the room's), so a compaction's cleanup (older than
//! its own) never touches the parts another one is still writing. Stopped
//! anywhere, the room's snapshot is the old or the new one, whole; parts
//! left behind by a stopped write are newer than the current generation and
//! go with the next compaction's cleanup.

use std::time::{Duration, Instant};

use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};

use crate::store::{RoomKey, StoreError};

/// The largest part a snapshot is written in: one part's write and sync is
/// what a commit may wait for behind a compaction.
pub(super) const PART_BYTES: usize = 512 * 1024;

/// Parts deleted per transaction when older generations are cleaned up.
const DELETE_PARTS: usize = 8;

/// The longest pause after a compaction's write; see [`pace`].
const MAX_PAUSE: Duration = Duration::from_millis(50);

/// What a room's `snapshots` row says: `parts` (the generation, or `None`
/// for a snapshot held in `data`) and `data`.
pub(super) type Head = (Option<i64>, Vec<u8>);

/// A room's snapshot and the generation it is stored under (`None`: held
/// in the `snapshots` row itself).
pub(super) type Stored = (Vec<u8>, Option<i64>);

/// The room's snapshot head, if it has a snapshot.
pub(super) fn head(conn: &Connection, room: &RoomKey) -> Result<Option<Head>, StoreError> {
    Ok(conn
        .query_row(
            "SELECT parts, data FROM snapshots WHERE event = ?1 AND table_id = ?2",
            params![&*room.event, &*room.table],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .optional()?)
}

/// The room's snapshot and the generation it is stored under (`None`: held
/// in the row itself), read inside the caller's transaction so that head
/// and parts are of one state of the database.
pub(super) fn read(
    tx: &Transaction<'_>,
    room: &RoomKey,
) -> Result<Option<Stored>, StoreError> {
    let Some((generation, data)) = head(tx, room)? else {
        return Ok(None);
    };
    let Some(generation) = generation else {
        return Ok(Some((data, None)));
    };
    let mut stmt = tx.prepare_cached(
        "SELECT part, data FROM snapshot_parts
         WHERE event = ?1 AND table_id = ?2 AND generation = ?3 ORDER BY part",
    )?;
    let mut rows = stmt.query(params![&*room.event, &*room.table, generation])?;
    let mut snapshot = Vec::new();
    let mut expected = 0i64;
    while let Some(row) = rows.next()? {
        let part: i64 = row.get(0)?;
        if part != expected {
            return Err(missing_part(room, generation, expected));
        }
        let data = row.get_ref(1)?;
        snapshot.extend_from_slice(data.as_blob().map_err(|e| StoreError::Corrupt {
            room: room.clone(),
            reason: format!("snapshot generation {generation} part {part}: {e}"),
        })?);
        expected += 1;
    }
    if expected == 0 {
        return Err(missing_part(room, generation, 0));
    }
    Ok(Some((snapshot, Some(generation))))
}

fn missing_part(room: &RoomKey, generation: i64, part: i64) -> StoreError {
    StoreError::Corrupt {
        room: room.clone(),
        reason: format!("snapshot generation {generation} lacks part {part}"),
    }
}

/// Writes `snapshot` as a new generation of parts, each in a short
/// transaction of its own, paced; returns the generation. The room's head
/// does not point at it yet ([`flip`] does).
pub(super) fn write_parts(
    conn: &mut Connection,
    room: &RoomKey,
    snapshot: &[u8],
    part_bytes: usize,
) -> Result<i64, StoreError> {
    // An empty snapshot (never an encoded update) is one empty part.
    let parts: Vec<&[u8]> = if snapshot.is_empty() {
        vec![snapshot]
    } else {
        snapshot.chunks(part_bytes.max(1)).collect()
    };
    let mut generation = 0;
    for (part, data) in parts.into_iter().enumerate() {
        let started = Instant::now();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        // Chosen inside the first part's write: one above every generation
        // of the room's, current or left behind, so no other handle's
        // compaction has it.
        if part == 0 {
            generation = tx.query_row(
                "SELECT COALESCE(MAX(generation), 0) + 1 FROM snapshot_parts
                 WHERE event = ?1 AND table_id = ?2",
                params![&*room.event, &*room.table],
                |row| row.get(0),
            )?;
        }
        tx.execute(
            "INSERT INTO snapshot_parts (event, table_id, generation, part, data)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![&*room.event, &*room.table, generation, part as i64, data],
        )?;
        tx.commit()?;
        pace(started);
    }
    Ok(generation)
}

/// Whether the head read now is the one the compaction read: the same
/// generation, or the same bytes in the row.
pub(super) fn unchanged(now: Option<Head>, read: Option<(&[u8], Option<i64>)>) -> bool {
    match (now, read) {
        (None, None) => true,
        (Some((Some(now), _)), Some((_, Some(read)))) => now == read,
        (Some((None, now)), Some((read, None))) => now == read,
        _ => false,
    }
}

/// Points the room's head at `generation`, inside the caller's write
/// transaction.
pub(super) fn flip(
    tx: &Transaction<'_>,
    room: &RoomKey,
    generation: i64,
) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO snapshots (event, table_id, data, parts) VALUES (?1, ?2, x'', ?3)
         ON CONFLICT (event, table_id) DO UPDATE SET data = x'', parts = excluded.parts",
        params![&*room.event, &*room.table, generation],
    )?;
    Ok(())
}

/// Deletes the room's parts of generations below `below` (all older ones,
/// after a flip to `below`) or, with `only`, of that generation alone (a
/// compaction that gave up), a few per transaction, paced.
pub(super) fn delete_parts(
    conn: &mut Connection,
    room: &RoomKey,
    below: i64,
    only: bool,
) -> Result<(), StoreError> {
    let sql = if only {
        "DELETE FROM snapshot_parts WHERE rowid IN (
             SELECT rowid FROM snapshot_parts
             WHERE event = ?1 AND table_id = ?2 AND generation = ?3 LIMIT ?4)"
    } else {
        "DELETE FROM snapshot_parts WHERE rowid IN (
             SELECT rowid FROM snapshot_parts
             WHERE event = ?1 AND table_id = ?2 AND generation < ?3 LIMIT ?4)"
    };
    loop {
        let started = Instant::now();
        let deleted = conn.execute(
            sql,
            params![&*room.event, &*room.table, below, DELETE_PARTS],
        )?;
        if deleted < DELETE_PARTS {
            return Ok(());
        }
        pace(started);
    }
}

/// After a compaction's write that began at `started`, waits as long as it
/// took (at most [`MAX_PAUSE`]): the compactor then holds the write lock at
/// most half the time, and a commit polling for it (every 250 µs) gets it
/// before the next write rather than after a run of them.
pub(super) fn pace(started: Instant) {
    std::thread::sleep(started.elapsed().min(MAX_PAUSE));
}

#[cfg(test)]
mod tests {
    use rusqlite::params;
    use yrs::Doc;

    use crate::store::sqlite::SqliteStore;
    use crate::store::testing::*;
    use crate::store::{Compaction, Store, StoreError};

    /// A store whose snapshots are written in parts of 64 bytes.
    fn in_parts() -> (tempfile::TempDir, SqliteStore) {
        let dir = tempfile::tempdir().unwrap();
        let mut store = SqliteStore::open(dir.path()).unwrap();
        store.part_bytes = 64;
        (dir, store)
    }

    /// (generation, parts) of every generation stored for `table`.
    fn generations(store: &SqliteStore, table: &str) -> Vec<(i64, i64)> {
        let mut stmt = store
            .conn
            .prepare(
                "SELECT generation, COUNT(*) FROM snapshot_parts
                 WHERE event = 'e' AND table_id = ?1 GROUP BY generation ORDER BY generation",
            )
            .unwrap();
        stmt.query_map(params![table], |row| Ok((row.get(0)?, row.get(1)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    }

    #[test]
    fn a_snapshot_is_written_in_parts_and_loads_whole_and_older_parts_go() {
        let (_dir, mut store) = in_parts();
        let room = key("a");
        let typed = typing(&Doc::new(), 300);
        append(&mut store, &room, &typed[..100]);
        assert_eq!(store.compact(&room).unwrap(), Compaction::Written);
        let first = generations(&store, "a");
        assert_eq!(first.len(), 1);
        assert!(
            first[0].1 > 1,
            "a snapshot of 100 updates spans parts: {first:?}"
        );
        let loaded = store.load(&room).unwrap();
        assert_eq!(loaded.updates.len(), 1, "the snapshot, whole");
        assert_eq!(text_of(&room, &loaded), "x".repeat(100));

        append(&mut store, &room, &typed[100..]);
        assert_eq!(store.compact(&room).unwrap(), Compaction::Written);
        let second = generations(&store, "a");
        assert_eq!(
            second.len(),
            1,
            "the older generation is deleted: {second:?}"
        );
        assert!(second[0].0 > first[0].0);
        assert_eq!(text_of(&room, &store.load(&room).unwrap()), "x".repeat(300));
        assert_eq!(store.log_len(&room).unwrap(), 0);
    }

    #[test]
    fn a_compaction_stopped_between_its_parts_and_its_flip_changes_nothing() {
        let (_dir, mut store) = in_parts();
        let room = key("a");
        let typed = typing(&Doc::new(), 60);
        append(&mut store, &room, &typed[..30]);
        store.compact(&room).unwrap();
        append(&mut store, &room, &typed[30..]);
        // The next compaction wrote its parts, then the process died.
        let read = store.read_log(&room).unwrap().unwrap();
        let merged = read.merge(&room).unwrap().unwrap();
        let orphan = super::write_parts(&mut store.conn, &room, &merged, 64).unwrap();
        assert_eq!(generations(&store, "a").len(), 2);

        let loaded = store.load(&room).unwrap();
        assert_eq!(loaded.updates.len(), 31, "the old snapshot and the log");
        assert_eq!(text_of(&room, &loaded), "x".repeat(60));

        // The next compaction writes a generation above the orphan and
        // cleans up both older ones.
        assert_eq!(store.compact(&room).unwrap(), Compaction::Written);
        let left = generations(&store, "a");
        assert_eq!(left.len(), 1, "{left:?}");
        assert!(left[0].0 > orphan);
        assert_eq!(text_of(&room, &store.load(&room).unwrap()), "x".repeat(60));
    }

    #[test]
    fn a_compaction_that_gives_up_deletes_its_parts() {
        let (_dir, mut mine) = in_parts();
        let mut other = mine.reopen().unwrap();
        changed_snapshot_makes_compaction_give_up(&mut mine, &mut other);
        assert_eq!(
            generations(&mine, "superseded").len(),
            1,
            "only the other's"
        );
    }

    #[test]
    fn a_missing_part_is_a_clear_error_naming_the_room() {
        let (_dir, mut store) = in_parts();
        let room = key("a");
        append(&mut store, &room, &typing(&Doc::new(), 200));
        store.compact(&room).unwrap();
        assert!(generations(&store, "a")[0].1 > 2);
        store
            .conn
            .execute("DELETE FROM snapshot_parts WHERE part = 1", [])
            .unwrap();
        match store.load(&room) {
            Err(StoreError::Corrupt {
                room: named,
                reason,
            }) => {
                assert_eq!(named, room);
                assert!(reason.contains("lacks part 1"), "{reason}");
            }
            other => panic!("expected a corrupt snapshot, got {other:?}"),
        }
    }

    #[test]
    fn a_database_written_before_parts_opens_loads_and_compacts() {
        let dir = tempfile::tempdir().unwrap();
        let room = key("a");
        let typed = typing(&Doc::new(), 40);
        let snapshot = crate::store::merge(&room, typed[..20].iter().map(Vec::as_slice))
            .unwrap()
            .unwrap();
        {
            // The schema as it was: no `parts`, no `snapshot_parts`.
            let conn =
                rusqlite::Connection::open(dir.path().join(crate::store::sqlite::DB_FILE)).unwrap();
            conn.execute_batch(
                "CREATE TABLE updates (id INTEGER PRIMARY KEY AUTOINCREMENT, event TEXT NOT NULL,
                     table_id TEXT NOT NULL, data BLOB NOT NULL);
                 CREATE TABLE snapshots (event TEXT NOT NULL, table_id TEXT NOT NULL,
                     data BLOB NOT NULL, PRIMARY KEY (event, table_id));",
            )
            .unwrap();
            conn.execute(
                "INSERT INTO snapshots (event, table_id, data) VALUES ('e', 'a', ?1)",
                params![snapshot],
            )
            .unwrap();
            for update in &typed[20..] {
                conn.execute(
                    "INSERT INTO updates (event, table_id, data) VALUES ('e', 'a', ?1)",
                    params![update],
                )
                .unwrap();
            }
        }
        let mut store = SqliteStore::open(dir.path()).unwrap();
        store.part_bytes = 64;
        assert_eq!(text_of(&room, &store.load(&room).unwrap()), "x".repeat(40));
        assert_eq!(store.compact(&room).unwrap(), Compaction::Written);
        assert_eq!(generations(&store, "a").len(), 1);
        assert_eq!(text_of(&room, &store.load(&room).unwrap()), "x".repeat(40));
        drop(store);
        // Opening again finds the column there.
        let mut store = SqliteStore::open(dir.path()).unwrap();
        assert_eq!(text_of(&room, &store.load(&room).unwrap()), "x".repeat(40));
    }

    #[test]
    fn quarantine_moves_a_snapshot_in_parts_and_its_parts_go() {
        let (_dir, mut store) = in_parts();
        let room = key("a");
        append(&mut store, &room, &typing(&Doc::new(), 200));
        store.compact(&room).unwrap();
        let parts = generations(&store, "a")[0].1;
        assert!(parts > 1);
        assert_eq!(store.quarantine(&room, "test").unwrap(), 1, "one snapshot");
        assert!(generations(&store, "a").is_empty());
        let kept: i64 = store
            .conn
            .query_row(
                "SELECT COUNT(*) FROM quarantine WHERE kind = 'snapshot-part'",
                [],
                |row| row.get(0),
            )
            .unwrap();
        assert_eq!(kept, parts, "every part kept aside");
        assert!(store.load(&room).unwrap().updates.is_empty());
    }
}
