//! The registry of loaded rooms: get-or-create that loads each table once
//! however many clients join at the same moment, and eviction of rooms that
//! have been empty for a while.

use std::sync::Arc;
use std::time::Duration;

use dashmap::DashMap;
use tokio::sync::{OnceCell, watch};
use yrs::Doc;

use crate::persist::Persister;
use crate::room::Room;
use crate::store::{RoomKey, StoreError};

/// A room's place in the registry. The once-cell makes concurrent joiners of
/// a cold table wait for one load instead of each starting their own.
type Slot = Arc<OnceCell<Arc<Room>>>;

/// Cheap handle to the registry; clones share it.
#[derive(Clone)]
pub struct Rooms {
    map: Arc<DashMap<RoomKey, Slot>>,
    persister: Persister,
    changes: watch::Sender<u64>,
    max_document_bytes: u64,
}

impl Rooms {
    pub fn new(persister: Persister, max_document_bytes: u64) -> Self {
        Self {
            map: Arc::new(DashMap::new()),
            persister,
            changes: watch::Sender::new(0),
            max_document_bytes,
        }
    }

    pub fn persister(&self) -> &Persister {
        &self.persister
    }

    /// A counter bumped whenever any room's durable content or peers change:
    /// what the plenary and the start page's counts listen to.
    pub fn changes(&self) -> watch::Receiver<u64> {
        self.changes.subscribe()
    }

    /// The loaded room for `key`, loading it (and running `init` on a fresh
    /// document) if needed.
    pub async fn get_or_load<F>(&self, key: &RoomKey, init: F) -> Result<Arc<Room>, StoreError>
    where
        F: Fn(&Doc) -> bool + Clone + Send + 'static,
    {
        loop {
            // The shard guard is dropped at the end of this statement, before
            // any await.
            let slot: Slot = self.map.entry(key.clone()).or_default().clone();
            let room = slot
                .get_or_try_init(|| {
                    Room::load(
                        key.clone(),
                        self.persister.clone(),
                        self.changes.clone(),
                        self.max_document_bytes,
                        init.clone(),
                    )
                })
                .await?
                .clone();
            if !room.is_evicted() {
                return Ok(room);
            }
            // Evicted between lookup and use: drop the stale slot (only if it
            // is still the one we saw) and look again.
            self.map.remove_if(key, |_, s| Arc::ptr_eq(s, &slot));
        }
    }

    /// The room for `key` if it is loaded.
    pub fn get(&self, key: &RoomKey) -> Option<Arc<Room>> {
        let slot = self.map.get(key)?.clone();
        slot.get().filter(|r| !r.is_evicted()).cloned()
    }

    /// Every loaded room.
    pub fn loaded(&self) -> Vec<Arc<Room>> {
        self.map
            .iter()
            .filter_map(|entry| entry.value().get().cloned())
            .collect()
    }

    /// Removes rooms that have been empty for `grace` and have nothing
    /// waiting to be committed; asks for their logs to be compacted.
    pub fn evict_idle(&self, grace: Duration) -> usize {
        let mut evicted = Vec::new();
        self.map.retain(|key, slot| {
            // A slot still loading has no room yet; it must stay, or its
            // loader would hand out a room that is not in the registry.
            let Some(room) = slot.get() else {
                return true;
            };
            if room.try_evict(grace) {
                evicted.push(key.clone());
                false
            } else {
                true
            }
        });
        for key in &evicted {
            tracing::debug!(room = %key, "evicted idle table from memory");
            self.persister.compact(key.clone());
        }
        evicted.len()
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}
