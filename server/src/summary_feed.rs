//! The live summary behind the plenary screen: recomputed once per burst of
//! changes (debounced) for all viewers together, never per viewer, and
//! re-reading only the tables that changed.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use std::sync::atomic::{AtomicBool, Ordering};

use tokio::sync::{Notify, watch};
use tokio_util::sync::CancellationToken;
use werktafel_shared::snapshot::TableSnapshot;
use werktafel_shared::summary::summarize;

use crate::app::AppState;
use crate::room::Room;

/// Changes arriving within this window after the first one are folded into
/// one recomputation. Well under the plenary's one-second promise.
pub const DEBOUNCE: Duration = Duration::from_millis(150);

/// The latest summary as JSON, shared by every viewer.
///
/// Nobody watching, nothing computed: changes only mark the summary stale,
/// and the next viewer (or request) has it computed once, on demand.
#[derive(Clone)]
pub struct SummaryFeed {
    latest: watch::Receiver<Arc<str>>,
    stale: Arc<AtomicBool>,
    wanted: Arc<Notify>,
}

impl SummaryFeed {
    /// Computes the first summary and starts the task that keeps it current.
    pub async fn start(state: AppState, token: CancellationToken) -> SummaryFeed {
        let mut worker = Worker {
            state,
            cache: HashMap::new(),
        };
        let first = worker.compute().await;
        let (tx, latest) = watch::channel(first);
        let stale = Arc::new(AtomicBool::new(false));
        let wanted = Arc::new(Notify::new());
        tokio::spawn(worker.run(tx, token, stale.clone(), wanted.clone()));
        SummaryFeed {
            latest,
            stale,
            wanted,
        }
    }

    /// The current summary (JSON), brought up to date first if it is stale.
    pub async fn current(&self) -> Arc<str> {
        let mut rx = self.latest.clone();
        if self.stale.load(Ordering::Acquire) {
            rx.mark_unchanged();
            self.wanted.notify_one();
            // The worker answers within one recomputation; the bound keeps a
            // request from hanging on a stopped worker.
            let _ = tokio::time::timeout(std::time::Duration::from_secs(5), rx.changed()).await;
        }
        rx.borrow().clone()
    }

    /// A receiver that wakes on every new summary; a stale summary is
    /// recomputed for the new viewer.
    pub fn subscribe(&self) -> watch::Receiver<Arc<str>> {
        if self.stale.load(Ordering::Acquire) {
            self.wanted.notify_one();
        }
        self.latest.clone()
    }
}

struct Worker {
    state: AppState,
    /// Per table: the room it was read from, that room's version, and what was read.
    cache: HashMap<String, (usize, u64, TableSnapshot)>,
}

impl Worker {
    async fn run(
        mut self,
        tx: watch::Sender<Arc<str>>,
        token: CancellationToken,
        stale: Arc<AtomicBool>,
        wanted: Arc<Notify>,
    ) {
        let mut changes = self.state.rooms().changes();
        loop {
            tokio::select! {
                _ = token.cancelled() => return,
                () = wanted.notified() => {
                    if !stale.load(Ordering::Acquire) {
                        // Already current: wake whoever asked, without work.
                        tx.send_modify(|_| {});
                        continue;
                    }
                }
                changed = changes.changed() => {
                    if changed.is_err() {
                        return;
                    }
                    // The feed holds one receiver itself; more are viewers.
                    tracing::debug!(viewers = tx.receiver_count() - 1, "a table changed");
                    if tx.receiver_count() <= 1 {
                        stale.store(true, Ordering::Release);
                        changes.mark_unchanged();
                        continue;
                    }
                    // Let the rest of a burst arrive, then compute once.
                    tokio::select! {
                        _ = token.cancelled() => return,
                        () = tokio::time::sleep(DEBOUNCE) => {}
                    }
                }
            }
            changes.mark_unchanged();
            stale.store(false, Ordering::Release);
            let json = self.compute().await;
            tracing::debug!(bytes = json.len(), "summary recomputed");
            // Published even when unchanged, so a request waiting on it wakes.
            tx.send_replace(json);
        }
    }

    async fn compute(&mut self) -> Arc<str> {
        let event = self.state.event_arc();
        let mut tables = Vec::with_capacity(event.tables.len());
        for def in &event.tables {
            let id = def.id.as_str().to_string();
            let room = match self.state.loaded_room(def) {
                Some(room) => Some(room),
                // Not in memory and never read: load it once. Not in memory
                // but read before: nobody is there and nothing changed.
                None if !self.cache.contains_key(&id) => self.state.room(def).await.ok(),
                None => None,
            };
            if let Some(room) = room {
                let identity = Arc::as_ptr(&room) as usize;
                let version = room.version();
                let fresh = self
                    .cache
                    .get(&id)
                    .is_some_and(|(ptr, v, _)| *ptr == identity && *v == version);
                if !fresh {
                    let snapshot = read(&room, def.id.clone());
                    self.cache.insert(id.clone(), (identity, version, snapshot));
                }
            } else if let Some((_, _, snapshot)) = self.cache.get_mut(&id) {
                snapshot.participants = 0;
            }
            if let Some((_, _, snapshot)) = self.cache.get(&id) {
                tables.push(snapshot.clone());
            }
        }
        // Off the async runtime, at low priority: a summary of hostile notes
        // may take a while, and no request should wait behind it.
        let pool = self.state.exports().pool();
        match pool.run(move || to_json(&event, &tables)).await {
            Ok(json) => json,
            Err(error) => {
                tracing::error!(%error, "the summary task failed");
                "{}".into()
            }
        }
    }
}

/// The summary of `tables` as JSON.
pub fn to_json(event: &werktafel_shared::Event, tables: &[TableSnapshot]) -> Arc<str> {
    let summary = summarize(event, tables);
    match serde_json::to_string(&summary) {
        Ok(json) => json.into(),
        Err(error) => {
            tracing::error!(%error, "the summary could not be serialised");
            "{}".into()
        }
    }
}

fn read(room: &Room, id: werktafel_shared::event::TableId) -> TableSnapshot {
    let participants = room.peer_count();
    room.read(|doc| TableSnapshot::read(id, participants, doc))
}
