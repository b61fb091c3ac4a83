//! The registry of loaded rooms: get-or-create that loads each table once
//! however many clients join at the same moment, and eviction of rooms that
//! have been empty for a while.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use dashmap::DashMap;
use tokio::sync::{OnceCell, watch};
use tokio_util::task::TaskTracker;
use yrs::Doc;

use super::room::{Room, RoomServices};
use crate::store::persist::Persister;
use crate::store::{RoomKey, StoreError};

/// What names a drafts document within its room key's table part.
pub const DRAFTS_PART: &str = "/drafts/";

/// Why a drafts document was not admitted.
#[derive(Debug, thiserror::Error)]
pub enum AdmitDrafts {
    #[error(transparent)]
    Full(#[from] DraftsFull),
    #[error(transparent)]
    Store(#[from] StoreError),
}

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
    /// Where rooms spawn their work (reloads from storage), so shutdown
    /// waits for it before the persistence worker stops.
    tasks: TaskTracker,
    /// Every participant's drafts document known to exist (stored, or
    /// opened since the start): read from storage once, then kept up to date.
    drafts: Arc<OnceCell<Mutex<HashSet<RoomKey>>>>,
}

/// A drafts document refused because the event has its maximum of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the event has its maximum of {0} private drafts documents")]
pub struct DraftsFull(pub usize);

impl Rooms {
    pub fn new(persister: Persister, max_document_bytes: u64, tasks: TaskTracker) -> Self {
        Self {
            map: Arc::new(DashMap::new()),
            persister,
            changes: watch::Sender::new(0),
            max_document_bytes,
            tasks,
            drafts: Arc::default(),
        }
    }

    /// Admits the drafts document `key` (whose table part is
    /// `{table}/drafts/{id}`): one that exists always; a new one only while
    /// the event has fewer than `max`. Counts it from then on.
    pub async fn admit_drafts(&self, key: &RoomKey, max: usize) -> Result<(), AdmitDrafts> {
        let known = self
            .drafts
            .get_or_try_init(|| async {
                let stored = self.persister.rooms().await?;
                let known: HashSet<RoomKey> = stored
                    .into_iter()
                    .chain(self.loaded().iter().map(|room| room.key().clone()))
                    .filter(|k| k.table.contains(DRAFTS_PART))
                    .collect();
                Ok::<_, StoreError>(Mutex::new(known))
            })
            .await?;
        let mut known = known
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if known.contains(key) {
            return Ok(());
        }
        let of_event = known.iter().filter(|k| k.event == key.event).count();
        if of_event >= max {
            return Err(AdmitDrafts::Full(DraftsFull(max)));
        }
        known.insert(key.clone());
        Ok(())
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
        self.get_or_load_bounded(key, self.max_document_bytes, init)
            .await
    }

    /// [`Rooms::get_or_load`] for a document bounded to `max_bytes` (drafts
    /// are far smaller than a table); the bound is set when it loads.
    pub async fn get_or_load_bounded<F>(
        &self,
        key: &RoomKey,
        max_bytes: u64,
        init: F,
    ) -> Result<Arc<Room>, StoreError>
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
                        RoomServices {
                            persister: self.persister.clone(),
                            changes: self.changes.clone(),
                            tasks: self.tasks.clone(),
                        },
                        max_bytes,
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

    /// Takes `room` out of the registry if it is still the one loaded for
    /// its key (a copy another node's writes made stale: the next read
    /// loads it again). Whoever holds it keeps a consistent, older copy.
    pub fn forget(&self, room: &Arc<Room>) -> bool {
        self.map
            .remove_if(room.key(), |_, slot| {
                slot.get().is_some_and(|r| Arc::ptr_eq(r, room))
            })
            .is_some()
    }

    /// Tells the listeners of [`Rooms::changes`] that content changed
    /// elsewhere (on another node of a cluster).
    pub fn touch(&self) {
        self.changes.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// Every loaded room.
    pub fn loaded(&self) -> Vec<Arc<Room>> {
        self.map
            .iter()
            .filter_map(|entry| entry.value().get().cloned())
            .collect()
    }

    /// Removes rooms that have been empty for `grace` at `now` and have nothing
    /// waiting to be committed; asks for their logs to be compacted.
    pub fn evict_idle(&self, grace: Duration, now: Instant) -> usize {
        let mut evicted = Vec::new();
        self.map.retain(|key, slot| {
            // A slot still loading has no room yet; it must stay, or its
            // loader would hand out a room that is not in the registry.
            let Some(room) = slot.get() else {
                return true;
            };
            if room.try_evict(grace, now) {
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
