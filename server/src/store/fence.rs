//! [`Fence`]: the table leases this node holds, at their epochs. The
//! cluster's directory fills it as it claims and loses leases; a shared
//! store checks every append against it in the append's own transaction, so
//! a node that lost a table (paused past its lease, cut off) commits nothing
//! for it after another node took over (`docs/scale-out.md`).

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use super::RoomKey;

/// The leases held here; cheap to clone, clones share the contents.
#[derive(Debug, Clone, Default)]
pub struct Fence(Arc<RwLock<HashMap<RoomKey, i64>>>);

/// The table whose lease covers `room`: the room itself, or for a room the
/// server keeps beside a table (`{table}/drafts/{id}`, `{table}/ballots`)
/// that table.
pub fn lease_key(room: &RoomKey) -> RoomKey {
    match room.table.split_once('/') {
        Some((table, _)) => RoomKey {
            event: room.event.clone(),
            table: table.into(),
        },
        None => room.clone(),
    }
}

/// Whether appends to `room` are fenced by a table's lease. The files
/// ledger (`market/files`) is not: no client syncs it, every node writes
/// its own uploads' entries into it (as Yjs updates they merge in the
/// stored log), and what a node needs of another node's uploads it reads
/// from the database (`store/blobs.rs`), not from its copy of the ledger.
pub fn is_fenced(room: &RoomKey) -> bool {
    &*room.table != werktafel_shared::market::FILES_LEDGER
}

impl Fence {
    /// The epoch at which this node holds the lease covering `room`.
    pub fn epoch(&self, room: &RoomKey) -> Option<i64> {
        self.read().get(&lease_key(room)).copied()
    }

    /// Records the lease of `table` at `epoch`; returns the epoch it held
    /// before, if any.
    pub fn hold(&self, table: RoomKey, epoch: i64) -> Option<i64> {
        self.write().insert(table, epoch)
    }

    /// Forgets the lease of `table` if it is still held at `epoch` (a newer
    /// claim is kept); returns whether it was.
    pub fn release(&self, table: &RoomKey, epoch: i64) -> bool {
        let mut held = self.write();
        if held.get(table) == Some(&epoch) {
            held.remove(table);
            return true;
        }
        false
    }

    /// Every lease held, as it is now.
    pub fn held(&self) -> Vec<(RoomKey, i64)> {
        self.read().iter().map(|(k, e)| (k.clone(), *e)).collect()
    }

    pub fn len(&self) -> usize {
        self.read().len()
    }

    pub fn is_empty(&self) -> bool {
        self.read().is_empty()
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, HashMap<RoomKey, i64>> {
        // A panic elsewhere never leaves the map half-written: each change
        // is one call on it.
        self.0.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, HashMap<RoomKey, i64>> {
        self.0.write().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_side_room_is_covered_by_its_tables_lease() {
        let fence = Fence::default();
        fence.hold(RoomKey::new("e", "a"), 3);
        assert_eq!(fence.epoch(&RoomKey::new("e", "a")), Some(3));
        assert_eq!(fence.epoch(&RoomKey::new("e", "a/drafts/xyz")), Some(3));
        assert_eq!(fence.epoch(&RoomKey::new("e", "a/ballots")), Some(3));
        assert_eq!(fence.epoch(&RoomKey::new("e", "b")), None);
        assert_eq!(fence.epoch(&RoomKey::new("other", "a")), None);
    }

    #[test]
    fn a_release_keeps_a_newer_claim() {
        let fence = Fence::default();
        let table = RoomKey::new("e", "a");
        fence.hold(table.clone(), 3);
        assert_eq!(fence.hold(table.clone(), 4), Some(3));
        assert!(!fence.release(&table, 3), "epoch 3 is gone already");
        assert_eq!(fence.epoch(&table), Some(4));
        assert!(fence.release(&table, 4));
        assert!(fence.is_empty());
    }
}
