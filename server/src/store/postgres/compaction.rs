//! Folding a room's log into its snapshot, and moving a room's stored
//! entries aside into `quarantine`: both under the room's row lock in
//! `tables`, so they are ordered with each other and with appends.

use std::time::Instant;

use postgres::Transaction;

use super::PostgresStore;
use crate::store::parts;
use crate::store::{Compaction, LogRead, RoomKey, StoreError};

impl PostgresStore {
    /// [`Store::write_compaction`](crate::store::Store::write_compaction):
    /// `merged` replaces the snapshot and the entries `read` folded, unless
    /// another compaction got there first. The snapshot is written in parts
    /// first, outside the row lock (`store/parts.rs`); under it only the
    /// head is checked and pointed at them.
    pub(super) fn replace_log(
        &mut self,
        room: &RoomKey,
        read: &LogRead,
        merged: &[u8],
    ) -> Result<Compaction, StoreError> {
        self.connected()?;
        let upto = i64::try_from(read.upto).unwrap_or(i64::MAX);
        let generation = self.write_parts(room, merged)?;
        let mut tx = self.client.transaction()?;
        // The room's row lock orders this write with every other compaction
        // of the room (and, briefly, with its appends).
        if !lock_room(&mut tx, room)? || !head_unchanged(&mut tx, room, read)? {
            // Another compaction (of this node or another) replaced it after
            // the read and deleted the entries it folded; ours was merged
            // from the old snapshot and would drop them again.
            drop(tx);
            self.client.execute(
                "DELETE FROM snapshot_parts WHERE event = $1 AND table_id = $2 AND generation = $3",
                &[&&*room.event, &&*room.table, &generation],
            )?;
            return Ok(Compaction::Superseded);
        }
        tx.execute(
            "INSERT INTO snapshots (event, table_id, data, parts) VALUES ($1, $2, ''::BYTEA, $3)
             ON CONFLICT (event, table_id) DO UPDATE SET data = ''::BYTEA, parts = excluded.parts",
            &[&&*room.event, &&*room.table, &generation],
        )?;
        tx.commit()?;
        // Outside the lock: a delete does not block appends under MVCC, and
        // the parts are no longer anybody's snapshot. Exactly the entries
        // read are deleted: every entry numbered up to `upto` was visible to
        // the read (numbers are handed out under the row lock, see the
        // module doc), and later ones are numbered above. Until it commits a
        // load sees the snapshot and entries it holds, which apply twice to
        // the same document.
        self.client.execute(
            "DELETE FROM snapshot_parts WHERE event = $1 AND table_id = $2 AND generation < $3",
            &[&&*room.event, &&*room.table, &generation],
        )?;
        self.client.execute(
            "DELETE FROM updates WHERE event = $1 AND table_id = $2 AND seq <= $3",
            &[&&*room.event, &&*room.table, &upto],
        )?;
        Ok(Compaction::Written)
    }

    /// Writes `snapshot` as a new generation of parts, each in a statement
    /// (and transaction) of its own, paced; returns the generation, taken
    /// from a sequence after the compaction's read, so it is above the
    /// generation that read saw.
    fn write_parts(&mut self, room: &RoomKey, snapshot: &[u8]) -> Result<i64, StoreError> {
        let generation: i64 = self
            .client
            .query_one("SELECT nextval('snapshot_generations')", &[])?
            .get(0);
        for (part, data) in parts::split(snapshot, self.part_bytes)
            .into_iter()
            .enumerate()
        {
            let started = Instant::now();
            let part = i32::try_from(part).unwrap_or(i32::MAX);
            self.client.execute(
                "INSERT INTO snapshot_parts (event, table_id, generation, part, data)
                 VALUES ($1, $2, $3, $4, $5)",
                &[&&*room.event, &&*room.table, &generation, &part, &data],
            )?;
            parts::pace(started);
        }
        Ok(generation)
    }

    /// [`Store::quarantine`](crate::store::Store::quarantine): the room's
    /// snapshot and log, moved into `quarantine`; how many entries moved.
    pub(super) fn quarantine_room(
        &mut self,
        room: &RoomKey,
        reason: &str,
    ) -> Result<usize, StoreError> {
        self.connected()?;
        let mut tx = self.client.transaction()?;
        // Under the row lock, so no append lands between the copy and the
        // delete. The row itself stays: its counter must never restart, or
        // a compaction in flight could delete new entries under old numbers.
        lock_room(&mut tx, room)?;
        let args: [&(dyn postgres::types::ToSql + Sync); 3] =
            [&&*room.event, &&*room.table, &reason];
        // Snapshot first, then the log in order: the order they load in.
        // A snapshot in parts moves as its parts, in order (`snapshot-part`
        // rows, whose concatenation is the snapshot), counted as one entry.
        let mut moved = tx.execute(
            "INSERT INTO quarantine (event, table_id, kind, data, reason)
             SELECT event, table_id, 'snapshot', data, $3 FROM snapshots
             WHERE event = $1 AND table_id = $2 AND parts IS NULL",
            &args,
        )?;
        moved += tx
            .execute(
                "INSERT INTO quarantine (event, table_id, kind, data, reason)
                 SELECT p.event, p.table_id, 'snapshot-part', p.data, $3
                 FROM snapshot_parts p JOIN snapshots s
                   ON s.event = p.event AND s.table_id = p.table_id AND s.parts = p.generation
                 WHERE p.event = $1 AND p.table_id = $2 ORDER BY p.part",
                &args,
            )?
            .min(1);
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
            "DELETE FROM snapshot_parts WHERE event = $1 AND table_id = $2",
            &args[..2],
        )?;
        tx.execute(
            "DELETE FROM updates WHERE event = $1 AND table_id = $2",
            &args[..2],
        )?;
        tx.commit()?;
        Ok(usize::try_from(moved).unwrap_or(usize::MAX))
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

/// Whether the room's head, read under its row lock, is still the one
/// `read` saw (as `parts::unchanged` says for SQLite): the same generation
/// of parts, or the same bytes for a snapshot stored whole (as before
/// parts; the first compaction after replaces it). Those bytes are compared
/// in the database, and sent only when the read found such a snapshot.
fn head_unchanged(
    tx: &mut Transaction<'_>,
    room: &RoomKey,
    read: &LogRead,
) -> Result<bool, StoreError> {
    let whole: &[u8] = match (&read.snapshot, read.generation) {
        (Some(snapshot), None) => snapshot,
        _ => &[],
    };
    let row = tx.query_opt(
        "SELECT parts, parts IS NULL AND data = $3::BYTEA
         FROM snapshots WHERE event = $1 AND table_id = $2",
        &[&&*room.event, &&*room.table, &whole],
    )?;
    Ok(match (row, &read.snapshot) {
        (None, None) => true,
        (Some(row), Some(_)) => match row.get::<_, Option<i64>>(0) {
            Some(now) => read.generation == Some(now),
            None => read.generation.is_none() && row.get::<_, bool>(1),
        },
        _ => false,
    })
}
