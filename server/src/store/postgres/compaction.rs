//! Folding a room's log into its snapshot, and moving a room's stored
//! entries aside into `quarantine`: both under the room's row lock in
//! `tables`, so they are ordered with each other and with appends.

use postgres::Transaction;

use super::PostgresStore;
use crate::store::{Compaction, LogRead, RoomKey, StoreError};

impl PostgresStore {
    /// [`Store::write_compaction`](crate::store::Store::write_compaction):
    /// `merged` replaces the snapshot and the entries `read` folded, unless
    /// another compaction got there first.
    pub(super) fn replace_log(
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
