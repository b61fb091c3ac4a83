//! A [`Store`] kept in memory: the real persistence worker and rooms run on it
//! without SQLite, in the fuzz harness and in tests that want to look at
//! exactly what was made durable.
//!
//! It follows [`SqliteStore`](crate::store::SqliteStore) rule for rule (a
//! snapshot plus an append-only log per room, compaction that keeps a log
//! whose updates still wait for a dependency), so whatever a test learns
//! about the rooms above it holds for the real store too.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use crate::store::{AppendRecord, RoomKey, Store, StoreError, StoredDoc, merge};

/// In-memory storage. A cheap handle: clones share the same contents, so a
/// test can keep one while the persistence worker owns another.
#[derive(Clone, Default)]
pub struct MemoryStore {
    inner: Arc<Mutex<Contents>>,
}

#[derive(Default)]
struct Contents {
    rooms: BTreeMap<RoomKey, StoredRoom>,
    events: BTreeMap<String, String>,
    secrets: BTreeMap<String, String>,
}

#[derive(Default)]
struct StoredRoom {
    snapshot: Option<Vec<u8>>,
    log: Vec<Vec<u8>>,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    /// Removes everything stored for `room`, so a long-lived store can serve
    /// many short-lived rooms (one per fuzz input) without growing.
    pub fn forget(&self, room: &RoomKey) {
        self.lock().rooms.remove(room);
    }

    fn lock(&self) -> MutexGuard<'_, Contents> {
        // Every method leaves the contents consistent before it can panic.
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Store for MemoryStore {
    fn load(&mut self, room: &RoomKey) -> Result<StoredDoc, StoreError> {
        let contents = self.lock();
        let updates = contents
            .rooms
            .get(room)
            .map(|r| r.snapshot.iter().chain(&r.log).cloned().collect())
            .unwrap_or_default();
        Ok(StoredDoc { updates })
    }

    fn append(&mut self, batch: &[AppendRecord]) -> Result<(), StoreError> {
        let mut contents = self.lock();
        for record in batch {
            contents
                .rooms
                .entry(record.room.clone())
                .or_default()
                .log
                .push(record.update.to_vec());
        }
        Ok(())
    }

    fn log_len(&mut self, room: &RoomKey) -> Result<u64, StoreError> {
        Ok(self
            .lock()
            .rooms
            .get(room)
            .map_or(0, |r| r.log.len() as u64))
    }

    fn compact(&mut self, room: &RoomKey) -> Result<(), StoreError> {
        let mut contents = self.lock();
        let Some(stored) = contents.rooms.get_mut(room) else {
            return Ok(());
        };
        if stored.log.is_empty() {
            return Ok(());
        }
        let merged = merge(
            room,
            stored.snapshot.iter().chain(&stored.log).map(Vec::as_slice),
        )?;
        // `None`: some update still waits for one it depends on; a snapshot
        // would drop it, so the log stays as it is (as in SQLite).
        if let Some(merged) = merged {
            stored.snapshot = Some(merged);
            stored.log.clear();
        }
        Ok(())
    }

    fn rooms(&mut self) -> Result<Vec<RoomKey>, StoreError> {
        Ok(self
            .lock()
            .rooms
            .iter()
            .filter(|(_, r)| r.snapshot.is_some() || !r.log.is_empty())
            .map(|(key, _)| key.clone())
            .collect())
    }

    fn save_event(&mut self, slug: &str, definition: &str) -> Result<(), StoreError> {
        self.lock()
            .events
            .insert(slug.to_string(), definition.to_string());
        Ok(())
    }

    fn load_event(&mut self, slug: &str) -> Result<Option<String>, StoreError> {
        Ok(self.lock().events.get(slug).cloned())
    }

    fn events(&mut self) -> Result<Vec<String>, StoreError> {
        Ok(self.lock().events.keys().cloned().collect())
    }

    fn secret(&mut self, name: &str, fresh: &str) -> Result<String, StoreError> {
        Ok(self
            .lock()
            .secrets
            .entry(name.to_string())
            .or_insert_with(|| fresh.to_string())
            .clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::testing::*;
    use yrs::Doc;

    #[test]
    fn appends_load_back_in_order() {
        let mut store = MemoryStore::new();
        let room = key("a");
        assert!(store.load(&room).unwrap().updates.is_empty());
        let updates = typing(&Doc::new(), 5);
        append(&mut store, &room, &updates[..2]);
        append(&mut store, &room, &updates[2..]);
        let loaded = store.load(&room).unwrap();
        assert_eq!(loaded.updates, updates);
        assert_eq!(text_of(&room, &loaded), "xxxxx");
        assert_eq!(store.log_len(&room).unwrap(), 5);
    }

    #[test]
    fn compaction_keeps_the_document_and_shortens_the_log() {
        let mut store = MemoryStore::new();
        let room = key("a");
        let updates = typing(&Doc::new(), 31);
        append(&mut store, &room, &updates[..30]);
        store.compact(&room).unwrap();
        assert_eq!(store.log_len(&room).unwrap(), 0);
        let loaded = store.load(&room).unwrap();
        assert_eq!(loaded.updates.len(), 1, "one snapshot");
        assert_eq!(text_of(&room, &loaded), "x".repeat(30));

        // Appends after a compaction land on top of the snapshot.
        append(&mut store, &room, &updates[30..]);
        assert_eq!(text_of(&room, &store.load(&room).unwrap()), "x".repeat(31));
    }

    #[test]
    fn an_update_waiting_for_its_dependency_is_not_compacted_away() {
        let mut store = MemoryStore::new();
        let room = key("c");
        let updates = typing(&Doc::new(), 3);
        append(&mut store, &room, &updates[1..2]);
        store.compact(&room).unwrap();
        assert_eq!(store.log_len(&room).unwrap(), 1, "kept as a log entry");
        append(&mut store, &room, &updates[0..1]);
        append(&mut store, &room, &updates[2..3]);
        store.compact(&room).unwrap();
        assert_eq!(store.log_len(&room).unwrap(), 0);
        assert_eq!(text_of(&room, &store.load(&room).unwrap()), "xxx");
    }

    #[test]
    fn rooms_lists_what_is_stored_and_forget_removes_it() {
        let mut store = MemoryStore::new();
        append(&mut store, &key("b"), &typing(&Doc::new(), 1));
        append(&mut store, &key("a"), &typing(&Doc::new(), 1));
        store.compact(&key("a")).unwrap();
        assert_eq!(store.rooms().unwrap(), vec![key("a"), key("b")]);
        store.forget(&key("b"));
        assert_eq!(store.rooms().unwrap(), vec![key("a")]);
    }

    #[test]
    fn clones_share_contents() {
        let mut store = MemoryStore::new();
        let view = store.clone();
        append(&mut store, &key("a"), &typing(&Doc::new(), 2));
        assert_eq!(view.clone().log_len(&key("a")).unwrap(), 2);
    }

    #[test]
    fn events_and_secrets_are_kept() {
        let mut store = MemoryStore::new();
        assert_eq!(store.load_event("x").unwrap(), None);
        store.save_event("b", "{\"v\":1}").unwrap();
        store.save_event("a", "{}").unwrap();
        store.save_event("b", "{\"v\":2}").unwrap();
        assert_eq!(store.load_event("b").unwrap().as_deref(), Some("{\"v\":2}"));
        assert_eq!(store.events().unwrap(), vec!["a", "b"]);

        assert_eq!(store.secret("s", "first").unwrap(), "first");
        assert_eq!(store.secret("s", "second").unwrap(), "first", "kept");
    }
}
