//! A room's snapshot in SQLite, stored in parts (the rules:
//! [`crate::store::parts`]): reading the head and its parts, writing a
//! generation's parts, flipping the head, deleting older parts. In SQLite
//! every write takes the database's one write lock, which every commit
//! needs too; each of these holds it for one part at most.

use std::time::Instant;

use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};

use crate::store::parts::{self, Assembler, Head};
use crate::store::{RoomKey, StoreError};

/// Parts deleted per transaction when older generations are cleaned up.
const DELETE_PARTS: usize = 8;

/// A snapshot read, and the generation it is stored under (`None`: whole).
pub(super) type Read = (Vec<u8>, Option<i64>);

/// The room's snapshot head, if it has a snapshot.
pub(super) fn head(conn: &Connection, room: &RoomKey) -> Result<Option<Head>, StoreError> {
    Ok(conn
        .query_row(
            "SELECT parts, data FROM snapshots WHERE event = ?1 AND table_id = ?2",
            params![&*room.event, &*room.table],
            |row| Ok(Head::from_row(row.get(0)?, row.get(1)?)),
        )
        .optional()?)
}

/// The room's snapshot and the generation it is stored under (`None`: held
/// in the row itself), read inside the caller's transaction so that head
/// and parts are of one state of the database.
pub(super) fn read(tx: &Transaction<'_>, room: &RoomKey) -> Result<Option<Read>, StoreError> {
    let generation = match head(tx, room)? {
        None => return Ok(None),
        Some(Head::Whole(data)) => return Ok(Some((data, None))),
        Some(Head::Parts(generation)) => generation,
    };
    let mut stmt = tx.prepare_cached(
        "SELECT part, data FROM snapshot_parts
         WHERE event = ?1 AND table_id = ?2 AND generation = ?3 ORDER BY part",
    )?;
    let mut rows = stmt.query(params![&*room.event, &*room.table, generation])?;
    let mut snapshot = Assembler::new(room, generation);
    while let Some(row) = rows.next()? {
        let data: Vec<u8> = row.get(1)?;
        snapshot.push(row.get(0)?, &data)?;
    }
    Ok(Some((snapshot.finish()?, Some(generation))))
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
    let mut generation = 0;
    for (part, data) in parts::split(snapshot, part_bytes).into_iter().enumerate() {
        let started = Instant::now();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        if part == 0 {
            // Chosen under the write lock: one above every generation of the
            // room's, current or left behind, so no other handle has it.
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
        parts::pace(started);
    }
    Ok(generation)
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

/// Which of a room's parts [`delete_parts`] deletes.
pub(super) enum Stale {
    /// Every generation below this one: after a flip to it.
    Below(i64),
    /// This generation alone: the parts of a compaction that gave up.
    Only(i64),
}

/// Deletes the room's `stale` parts, a few per transaction, paced.
pub(super) fn delete_parts(
    conn: &mut Connection,
    room: &RoomKey,
    stale: Stale,
) -> Result<(), StoreError> {
    let (sql, generation) = match stale {
        Stale::Below(generation) => (
            "DELETE FROM snapshot_parts WHERE rowid IN (
                 SELECT rowid FROM snapshot_parts
                 WHERE event = ?1 AND table_id = ?2 AND generation < ?3 LIMIT ?4)",
            generation,
        ),
        Stale::Only(generation) => (
            "DELETE FROM snapshot_parts WHERE rowid IN (
                 SELECT rowid FROM snapshot_parts
                 WHERE event = ?1 AND table_id = ?2 AND generation = ?3 LIMIT ?4)",
            generation,
        ),
    };
    loop {
        let started = Instant::now();
        let deleted = conn.execute(
            sql,
            params![&*room.event, &*room.table, generation, DELETE_PARTS],
        )?;
        if deleted < DELETE_PARTS {
            return Ok(());
        }
        parts::pace(started);
    }
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
