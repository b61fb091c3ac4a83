//! The live summary behind the plenary screen: recomputed once per burst of
//! changes (debounced) for all viewers together, never per viewer, and
//! re-reading only the tables that changed.
//!
//! Each new version is published as a [`Frame`]: the whole summary, and
//! the JSON Patch from the version before ([`werktafel_shared::json_patch`]).
//! A viewer gets the whole summary when it connects and whenever it missed a
//! version, and otherwise only the patch: at 20,000 notes a keystroke is a
//! few hundred bytes instead of megabytes. Every [`FULL_EVERY_DELTAS`]
//! versions, or [`FULL_EVERY`], a version goes out whole anyway, so a
//! client that applied something wrong is set right.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use tokio::sync::{Notify, watch};
use tokio_util::sync::CancellationToken;
use werktafel_shared::day::DaySnapshot;
use werktafel_shared::json_patch;
use werktafel_shared::snapshot::TableSnapshot;
use werktafel_shared::summary::{Summary, summarize, summarize_day};

use crate::exports::ExportService;
use crate::http::day::DayRooms;
use crate::http::tables::Tables;
use crate::table::room::Room;
use tokio_util::task::TaskTracker;

/// Changes arriving within this window after the first one are folded into
/// one recomputation. Well under the plenary's one-second promise.
pub const DEBOUNCE: Duration = Duration::from_millis(150);

/// A version goes out whole after this many patches in a row…
pub const FULL_EVERY_DELTAS: u64 = 50;
/// …or this long after the last whole one.
pub const FULL_EVERY: Duration = Duration::from_secs(30);

/// One version of the summary, as every viewer receives it.
#[derive(Debug)]
pub struct Frame {
    /// Counts up by one with every change of the summary.
    pub version: u64,
    /// The whole summary (JSON).
    pub full: Arc<str>,
    /// The JSON Patch (an array of operations) from `version - 1`; `None`
    /// when a whole frame is due or the patch would be no shorter.
    pub delta: Option<Arc<str>>,
}

/// The latest summary, shared by every viewer.
///
/// Nobody watching, nothing computed: changes only mark the summary stale,
/// and the next viewer (or request) has it computed once, on demand.
#[derive(Clone)]
pub struct SummaryFeed {
    latest: watch::Receiver<Arc<Frame>>,
    stale: Arc<AtomicBool>,
    wanted: Arc<Notify>,
    tables: Tables,
    /// [`Tables::generation`] when the last computation began.
    computed_at: Arc<AtomicU64>,
}

impl SummaryFeed {
    /// Computes the first summary and starts the task that keeps it current.
    pub async fn start(
        tables: Tables,
        exports: Arc<ExportService>,
        tasks: TaskTracker,
        token: CancellationToken,
    ) -> SummaryFeed {
        let computed_at = Arc::new(AtomicU64::new(0));
        let mut worker = Worker {
            tables: tables.clone(),
            computed_at: computed_at.clone(),
            exports,
            cache: HashMap::new(),
            day: None,
            published: None,
        };
        let first = worker.compute().await;
        let first = worker.frame(first).await;
        let (tx, latest) = watch::channel(first);
        let stale = Arc::new(AtomicBool::new(false));
        let wanted = Arc::new(Notify::new());
        tasks.spawn(worker.run(tx, token, stale.clone(), wanted.clone()));
        SummaryFeed {
            latest,
            stale,
            wanted,
            tables,
            computed_at,
        }
    }

    /// The current summary (JSON), brought up to date first if it is stale.
    pub async fn current(&self) -> Arc<str> {
        let mut rx = self.latest.clone();
        if self.is_stale() {
            rx.mark_unchanged();
            self.wanted.notify_one();
            // The worker answers within one recomputation; the bound keeps a
            // request from hanging on a stopped worker.
            let _ = tokio::time::timeout(std::time::Duration::from_secs(5), rx.changed()).await;
        }
        rx.borrow().full.clone()
    }

    /// Whether the summary may be behind: a change here not yet recomputed,
    /// or rooms other nodes stored to since it was computed.
    fn is_stale(&self) -> bool {
        if self.tables.generation() > self.computed_at.load(Ordering::Acquire) {
            self.stale.store(true, Ordering::Release);
        }
        self.stale.load(Ordering::Acquire)
    }

    /// A receiver that wakes on every new summary; a stale summary is
    /// recomputed for the new viewer.
    pub fn subscribe(&self) -> watch::Receiver<Arc<Frame>> {
        if self.is_stale() {
            self.wanted.notify_one();
        }
        self.latest.clone()
    }
}

/// A room as a read found it: its identity and version, or `None` when it
/// was not in memory; and its [`Tables::stamp`] (a copy of another node's
/// room: a new copy may reuse a dropped one's address).
type Seen = (Option<(usize, u64)>, Option<i64>);

struct Worker {
    tables: Tables,
    /// [`Tables::generation`] when the last computation began.
    computed_at: Arc<AtomicU64>,
    exports: Arc<ExportService>,
    /// Per table: the room it was read from, that room's version, its
    /// [`Tables::stamp`], and what was read.
    cache: HashMap<String, (usize, u64, Option<i64>, TableSnapshot)>,
    /// The day's documents as last read, with each room's identity and
    /// version then (in [`DayRooms::keys`] order).
    day: Option<(Vec<Seen>, DaySnapshot)>,
    /// What was published last, to patch against.
    published: Option<Published>,
}

/// The last version published, and how long since a whole one was due.
struct Published {
    frame: Arc<Frame>,
    value: serde_json::Value,
    deltas_in_a_row: u64,
    last_full: Instant,
}

impl Worker {
    async fn run(
        mut self,
        tx: watch::Sender<Arc<Frame>>,
        token: CancellationToken,
        stale: Arc<AtomicBool>,
        wanted: Arc<Notify>,
    ) {
        let mut changes = self.tables.rooms().changes();
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
                    // From here until it is recomputed the summary is stale:
                    // a request waits for the new one instead of answering
                    // with what was true before the change it may have made.
                    stale.store(true, Ordering::Release);
                    // The feed holds one receiver itself; more are viewers.
                    tracing::debug!(viewers = tx.receiver_count() - 1, "a table changed");
                    if tx.receiver_count() <= 1 {
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
            let summary = self.compute().await;
            let frame = self.frame(summary).await;
            tracing::debug!(
                version = frame.version,
                bytes = frame.full.len(),
                delta_bytes = frame.delta.as_ref().map(|d| d.len()),
                "summary recomputed"
            );
            // Published even when unchanged, so a request waiting on it wakes.
            tx.send_replace(frame);
        }
    }

    /// The frame that publishes `summary`: the last one again if nothing
    /// changed, else the next version with its patch. Serialising and
    /// diffing a large summary is CPU work: off the async workers.
    async fn frame(&mut self, summary: Summary) -> Arc<Frame> {
        let previous = self.published.take();
        let fallback = previous.as_ref().map(|p| p.frame.clone());
        let worked = tokio::task::spawn_blocking(move || next_frame(previous, &summary)).await;
        match worked {
            Ok(published) => {
                let frame = published.frame.clone();
                self.published = Some(published);
                frame
            }
            Err(error) => {
                tracing::error!(%error, "the summary could not be published");
                fallback.unwrap_or_else(|| {
                    Arc::new(Frame {
                        version: 0,
                        full: "{}".into(),
                        delta: None,
                    })
                })
            }
        }
    }

    /// The day beside the tables (closing steps, lecture, market): read again
    /// only when one of its rooms changed, as the tables are. A room not in
    /// memory has not changed since it was read (rooms change only while
    /// loaded), so it is not loaded again for this.
    async fn day(&mut self) -> DaySnapshot {
        let keys = DayRooms::keys(&self.tables);
        let fingerprint: Vec<Seen> = keys
            .iter()
            .map(|key| match self.tables.loaded_key(key) {
                Some(room) => {
                    let seen = (Arc::as_ptr(&room) as usize, room.version());
                    (Some(seen), self.tables.stamp(&room))
                }
                None => (None, None),
            })
            .collect();
        if let Some((read, snapshot)) = &self.day {
            let unchanged =
                read.len() == fingerprint.len()
                    && read.iter().zip(&fingerprint).zip(&keys).all(
                        |((then, now), key)| match now.0 {
                            Some(_) => then == now,
                            None => self.tables.unchanged_since(key, then.1),
                        },
                    );
            if unchanged {
                return snapshot.clone();
            }
        }
        match DayRooms::load(&self.tables).await {
            Ok(rooms) => {
                let snapshot = rooms.read();
                let read = rooms
                    .rooms()
                    .iter()
                    .map(|room| {
                        let seen = (Arc::as_ptr(room) as usize, room.version());
                        (Some(seen), self.tables.stamp(room))
                    })
                    .collect();
                self.day = Some((read, snapshot.clone()));
                snapshot
            }
            Err(error) => {
                tracing::error!(%error, "the day's documents could not be read");
                DaySnapshot::default()
            }
        }
    }

    async fn compute(&mut self) -> Summary {
        // Before reading: a catch-up during the computation leaves it stale.
        self.computed_at
            .store(self.tables.generation(), Ordering::Release);
        let event = self.tables.event().clone();
        let mut tables = Vec::with_capacity(event.tables.len());
        for def in &event.tables {
            let id = def.id.as_str().to_string();
            let key = crate::store::RoomKey::new(&event.slug, def.id.as_str());
            let room = match self.tables.loaded(def) {
                Some(room) => Some(room),
                // Not in memory and never read, or changed since it was
                // read (stored to by another node): load it. Not in memory
                // and unchanged: nobody is there, nothing to read again.
                None if self
                    .cache
                    .get(&id)
                    .is_none_or(|(_, _, stamp, _)| !self.tables.unchanged_since(&key, *stamp)) =>
                {
                    self.tables.load(def).await.ok()
                }
                None => None,
            };
            if let Some(room) = room {
                let identity = Arc::as_ptr(&room) as usize;
                let version = room.version();
                let stamp = self.tables.stamp(&room);
                let fresh = self
                    .cache
                    .get(&id)
                    .is_some_and(|(ptr, v, s, _)| *ptr == identity && *v == version && *s == stamp);
                if !fresh {
                    let snapshot = read(&room, def.id.clone());
                    self.cache
                        .insert(id.clone(), (identity, version, stamp, snapshot));
                }
            } else if let Some((_, _, _, snapshot)) = self.cache.get_mut(&id) {
                snapshot.participants = 0;
            }
            if let Some((_, _, _, snapshot)) = self.cache.get(&id) {
                tables.push(snapshot.clone());
            }
        }
        let day = self.day().await;
        // Off the async runtime, at low priority: a summary of hostile notes
        // may take a while, and no request should wait behind it.
        let fallback = event.clone();
        let pool = self.exports.pool();
        match pool.run(move || summarize_day(&event, &tables, &day)).await {
            Ok(summary) => summary,
            Err(error) => {
                tracing::error!(%error, "the summary task failed");
                summarize(&fallback, &[])
            }
        }
    }
}

/// Publishes `summary` after `previous` (see [`SummaryFeed::frame`]).
fn next_frame(previous: Option<Published>, summary: &Summary) -> Published {
    let value = serde_json::to_value(summary).unwrap_or_else(|error| {
        tracing::error!(%error, "the summary could not be serialised");
        serde_json::Value::Object(Default::default())
    });
    let Some(previous) = previous else {
        return Published {
            frame: Arc::new(Frame {
                version: 1,
                full: value.to_string().into(),
                delta: None,
            }),
            value,
            deltas_in_a_row: 0,
            last_full: Instant::now(),
        };
    };
    if previous.value == value {
        return previous;
    }
    let full: Arc<str> = value.to_string().into();
    let due = previous.deltas_in_a_row + 1 >= FULL_EVERY_DELTAS
        || previous.last_full.elapsed() >= FULL_EVERY;
    let delta = (!due)
        .then(|| {
            let ops = json_patch::diff(&previous.value, &value);
            serde_json::to_string(&ops).ok()
        })
        .flatten()
        .filter(|delta| delta.len() < full.len())
        .map(Arc::<str>::from);
    let (deltas_in_a_row, last_full) = match delta {
        Some(_) => (previous.deltas_in_a_row + 1, previous.last_full),
        None => (0, Instant::now()),
    };
    Published {
        frame: Arc::new(Frame {
            version: previous.frame.version + 1,
            full,
            delta,
        }),
        value,
        deltas_in_a_row,
        last_full,
    }
}

fn read(room: &Room, id: werktafel_shared::event::TableId) -> TableSnapshot {
    let participants = room.peer_count();
    room.read(|doc| TableSnapshot::read(id, participants, doc))
}
