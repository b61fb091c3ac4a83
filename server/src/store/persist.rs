//! The persistence worker: one dedicated thread that owns a [`Store`] handle
//! and commits updates in groups, then tells each room which of its updates
//! are durable so the room may deliver them.
//!
//! Every append, load and listing goes through this one ordered queue, so a
//! load that is queued after an append always sees it. A burst of edits costs
//! one wake-up and one commit (one fsync), not one per edit. Compaction is
//! not done here: the worker hands it to the [`Compactor`], which runs on its
//! own thread and handle, so no commit ever waits for one. The queue is
//! bounded ([`PERSIST_QUEUE_CAPACITY`]): a room reserves a [`Slot`] before
//! it applies an update, which is where a stalled disk pushes back.
//!
//! (Over 400 lines: the last 180 are the worker's tests with a gated store.)

use std::collections::HashMap;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use bytes::Bytes;
use tokio::sync::{mpsc, oneshot};

use crate::metrics::METRICS;
use crate::store::compactor::{Compactor, CompactorThread};
use crate::store::fence::lease_key;
use crate::store::{AppendRecord, RoomKey, Store, StoreError, StoredDoc};

use super::growth::Growth;
pub use super::growth::{COMPACT_EVERY, COMPACT_MIN_BYTES};

/// Most updates committed in one transaction; bounds commit latency under a
/// flood while still amortising the fsync across everything queued.
pub const MAX_BATCH: usize = 2048;

/// After a commit of several updates (busy tables) the next one starts this
/// long after it at the earliest, gathering meanwhile: an fsync costs
/// hundreds of µs of CPU whatever it holds. A lone update's commit (a quiet
/// table) lets the next one start at once.
pub const MIN_COMMIT_INTERVAL: Duration = Duration::from_millis(2);

/// The most jobs (appends, loads, compaction requests) that may wait in the
/// persistence queue. A room reserves a place ([`Persister::reserve`]) before
/// it applies an update, so when a stalled fsync has filled the queue the
/// next writer waits for a place instead of growing memory; what one table
/// may have waiting is bounded again by its byte cap
/// ([`crate::table::durability::MAX_UNFLUSHED_BYTES`]). Far above what a busy
/// server queues between two commits ([`MAX_BATCH`] go in one).
pub const PERSIST_QUEUE_CAPACITY: usize = 8 * MAX_BATCH;

/// Told by the worker what became of a room's updates.
pub trait DurableSink: Send + Sync {
    /// Every update of this room with a sequence number up to `seq` is durable.
    fn durable(&self, seq: u64);
    /// A commit containing updates of this room failed; they are not durable.
    fn failed(&self, error: &StoreError);
}

/// Handle to the persistence worker; cheap to clone.
#[derive(Clone)]
pub struct Persister {
    tx: mpsc::Sender<Job>,
}

/// A place reserved in the persistence queue for one append: taking it
/// may wait (that is the push-back), using it never does, so a room can
/// hold its lock while it appends.
pub struct Slot(mpsc::OwnedPermit<Job>);

impl Slot {
    /// Queues `update` of `room`, numbered `seq`; `sink` hears when it is
    /// durable. Never blocks, and keeps each room's updates in sequence
    /// order in the queue (it is called under the room's lock).
    pub fn append(self, room: RoomKey, seq: u64, update: Bytes, sink: Arc<dyn DurableSink>) {
        let job = Job::Append {
            record: AppendRecord { room, update },
            seq,
            sink,
        };
        // A worker that stopped drops the job; shutdown stops it last.
        self.0.send(job);
    }
}

/// The worker thread and its compactor; join it after every [`Persister`] is
/// dropped to make sure everything queued is committed.
pub struct PersistWorker {
    thread: JoinHandle<()>,
    compactor: CompactorThread,
}

enum Job {
    Append {
        record: AppendRecord,
        seq: u64,
        sink: Arc<dyn DurableSink>,
    },
    Load {
        room: RoomKey,
        reply: oneshot::Sender<Result<StoredDoc, StoreError>>,
    },
    Compact {
        room: RoomKey,
    },
    Rooms {
        reply: oneshot::Sender<Result<Vec<RoomKey>, StoreError>>,
    },
    Flush {
        reply: oneshot::Sender<()>,
    },
    Stop,
}

impl Persister {
    /// Starts the worker thread around `store`, and the compactor thread
    /// around a second handle to it.
    pub fn start(store: impl Store) -> Result<(Persister, PersistWorker), StoreError> {
        Self::start_bounded(store, PERSIST_QUEUE_CAPACITY)
    }

    /// [`Persister::start`] with a queue of `capacity` jobs (tests use a
    /// small one to fill it).
    pub fn start_bounded(
        store: impl Store,
        capacity: usize,
    ) -> Result<(Persister, PersistWorker), StoreError> {
        let (compactor, compactor_thread) = Compactor::start(store.reopen()?);
        let (tx, rx) = mpsc::channel(capacity);
        let thread = std::thread::Builder::new()
            .name("werktafel-persist".into())
            .spawn(move || Worker::new(store, compactor).run(rx))
            .expect("spawning the persistence thread");
        let worker = PersistWorker {
            thread,
            compactor: compactor_thread,
        };
        Ok((Persister { tx }, worker))
    }

    /// Reserves a place in the queue, waiting while it is full; `None` once
    /// the worker has stopped.
    pub async fn reserve(&self) -> Option<Slot> {
        self.tx.clone().reserve_owned().await.ok().map(Slot)
    }

    /// A place in the queue if there is one now.
    pub fn try_reserve(&self) -> Option<Slot> {
        self.tx.clone().try_reserve_owned().ok().map(Slot)
    }

    /// Jobs waiting in the queue now.
    pub fn queued(&self) -> usize {
        self.tx.max_capacity() - self.tx.capacity()
    }

    /// Reserves a place and queues `update` of `room` in it.
    pub async fn append(&self, room: RoomKey, seq: u64, update: Bytes, sink: Arc<dyn DurableSink>) {
        match self.reserve().await {
            Some(slot) => slot.append(room, seq, update, sink),
            None => sink.failed(&StoreError::Stopped),
        }
    }

    /// Loads everything stored for `room`, after every append queued before.
    pub async fn load(&self, room: RoomKey) -> Result<StoredDoc, StoreError> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(Job::Load { room, reply })
            .await
            .map_err(|_| StoreError::Stopped)?;
        rx.await.map_err(|_| StoreError::Stopped)?
    }

    /// Every room with anything stored, after every append queued before.
    pub async fn rooms(&self) -> Result<Vec<RoomKey>, StoreError> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(Job::Rooms { reply })
            .await
            .map_err(|_| StoreError::Stopped)?;
        rx.await.map_err(|_| StoreError::Stopped)?
    }

    /// Asks for `room`'s log to be folded into its snapshot, after every
    /// append queued before; does not wait for the compaction.
    pub fn compact(&self, room: RoomKey) {
        // A stopped worker has nothing left to compact, and a full queue
        // means a busy disk: the log is compacted after its next load or
        // growth instead. Ignoring is right.
        let _ = self.tx.try_send(Job::Compact { room });
    }

    /// Waits until everything queued before this call is committed.
    pub async fn flush(&self) {
        let (reply, rx) = oneshot::channel();
        if self.tx.send(Job::Flush { reply }).await.is_ok() {
            let _ = rx.await;
        }
    }
}

impl Persister {
    /// Commits everything queued before this call, then stops the worker.
    pub async fn stop(&self) {
        let _ = self.tx.send(Job::Stop).await;
    }
}

impl PersistWorker {
    /// Waits for the worker to commit everything and stop (after
    /// [`Persister::stop`], or once every handle has been dropped), then
    /// stops the compactor: a compaction in progress finishes, queued ones
    /// are dropped (the logs stay; they are compacted after the next load).
    pub fn join(self) {
        if self.thread.join().is_err() {
            tracing::error!("the persistence thread panicked");
        }
        self.compactor.join();
    }
}

struct Worker<S> {
    store: S,
    compactor: Compactor,
    /// Appends per room since its last compaction, counted by this process.
    since_compaction: HashMap<RoomKey, Growth>,
}

impl<S: Store> Worker<S> {
    fn new(store: S, compactor: Compactor) -> Self {
        Self {
            store,
            compactor,
            since_compaction: HashMap::new(),
        }
    }

    fn run(mut self, mut rx: mpsc::Receiver<Job>) {
        let mut appends: Vec<(AppendRecord, u64, Arc<dyn DurableSink>)> = Vec::new();
        let mut last_commit: Option<Instant> = None;
        while let Some(job) = rx.blocking_recv() {
            // Let appends gather after a busy commit (MIN_COMMIT_INTERVAL).
            if matches!(job, Job::Append { .. })
                && let Some(wait) = last_commit
                    .map(|at| MIN_COMMIT_INTERVAL.saturating_sub(at.elapsed()))
                    .filter(|wait| !wait.is_zero())
            {
                std::thread::sleep(wait);
            }
            let mut next = Some(job);
            // Gather every append already queued into one commit; any other
            // job ends the group so that it runs in queue order.
            while let Some(job) = next.take() {
                match job {
                    Job::Append { record, seq, sink } => {
                        appends.push((record, seq, sink));
                        if appends.len() < MAX_BATCH {
                            next = rx.try_recv().ok();
                        }
                    }
                    Job::Stop => {
                        self.commit(&mut appends);
                        tracing::debug!("persistence worker stopped");
                        return;
                    }
                    other => {
                        self.commit(&mut appends);
                        self.run_other(other);
                    }
                }
            }
            // Only a commit of several updates says the tables are busy: a
            // lone update (a quiet table's keystroke) never waits.
            last_commit = (appends.len() > 1).then(Instant::now);
            self.commit(&mut appends);
        }
        tracing::debug!("persistence worker stopped");
    }

    fn commit(&mut self, appends: &mut Vec<(AppendRecord, u64, Arc<dyn DurableSink>)>) {
        if appends.is_empty() {
            return;
        }
        let (records, result) = loop {
            let records: Vec<AppendRecord> = appends.iter().map(|(r, _, _)| r.clone()).collect();
            let started = std::time::Instant::now();
            let result = self.store.append(&records);
            METRICS
                .commit_seconds
                .observe(started.elapsed().as_secs_f64());
            // A table this node lost (a cluster's store refused it, and so
            // the whole batch) fails alone; the rest is committed without it.
            let Err(error @ StoreError::NotOwner { room: lost }) = &result else {
                break (records, result);
            };
            tracing::warn!(%error, "the table's updates are not stored here any more");
            let mut told: Vec<RoomKey> = Vec::new();
            appends.retain(|(record, _, sink)| {
                if lease_key(&record.room) != *lost {
                    return true;
                }
                if !told.contains(&record.room) {
                    told.push(record.room.clone());
                    sink.failed(error);
                }
                false
            });
            if appends.is_empty() {
                return;
            }
        };
        METRICS.commit_batch_updates.observe(records.len() as f64);
        // One notification per room per commit, with its highest sequence.
        let mut last: HashMap<&RoomKey, (u64, &Arc<dyn DurableSink>)> = HashMap::new();
        for (record, seq, sink) in appends.iter() {
            last.insert(&record.room, (*seq, sink));
        }
        match &result {
            Ok(()) => {
                for (_, (seq, sink)) in last.iter() {
                    sink.durable(*seq);
                }
            }
            Err(error) => {
                METRICS.commit_failures.inc();
                tracing::error!(%error, updates = records.len(), "commit failed");
                for (_, (_, sink)) in last.iter() {
                    sink.failed(error);
                }
            }
        }
        let mut to_compact = Vec::new();
        if result.is_ok() {
            for record in &records {
                let growth = self
                    .since_compaction
                    .entry(record.room.clone())
                    .or_default();
                growth.updates += 1;
                growth.bytes += record.update.len() as u64;
                if growth.due() && !to_compact.contains(&record.room) {
                    to_compact.push(record.room.clone());
                }
            }
        }
        appends.clear();
        for room in to_compact {
            self.compact(&room);
        }
    }

    fn run_other(&mut self, job: Job) {
        match job {
            Job::Append { .. } | Job::Stop => unreachable!("handled by run()"),
            Job::Load { room, reply } => {
                // A stored document that fails the screen is set aside here,
                // before any yrs decodes it (`quarantine`).
                let result = self
                    .store
                    .load(&room)
                    .and_then(|doc| crate::store::quarantine::admit(&mut self.store, &room, doc));
                // A long log left by an earlier run (or by a compaction dropped
                // at shutdown) is folded right after loading.
                let long_log =
                    matches!(&result, Ok(doc) if doc.updates.len() as u64 > COMPACT_EVERY);
                if let Ok(doc) = &result {
                    let stored = doc.updates.iter().map(|u| u.len() as u64).sum();
                    self.since_compaction
                        .entry(room.clone())
                        .or_default()
                        .before = stored;
                }
                let _ = reply.send(result);
                if long_log {
                    self.compact(&room);
                }
            }
            Job::Compact { room } => self.compact(&room),
            Job::Rooms { reply } => {
                let _ = reply.send(self.store.rooms());
            }
            Job::Flush { reply } => {
                let _ = reply.send(());
            }
        }
    }

    /// Hands `room` to the compactor, without waiting for it.
    fn compact(&mut self, room: &RoomKey) {
        let growth = self.since_compaction.entry(room.clone()).or_default();
        // Everything stored so far (an upper bound of the new snapshot) is
        // counted as compacted from the request on. A compaction that gives
        // up, fails or is already running when this one is asked for is then
        // retried once the log has grown as much again, not on every commit.
        growth.before += growth.bytes;
        growth.updates = 0;
        growth.bytes = 0;
        self.compactor.request(room.clone());
    }
}

#[cfg(test)]
mod tests {
    use yrs::Doc;

    use super::*;
    use crate::store::Compaction;
    use crate::store::memory_store::testing::{GatedStore, soon};
    use crate::store::testing::{append, key, text_of, typing};

    #[test]
    fn compaction_waits_for_the_log_to_match_what_is_stored() {
        let mut growth = Growth {
            before: 4 * 1024 * 1024,
            ..Growth::default()
        };
        growth.updates = 5_000;
        growth.bytes = 200 * 1024;
        assert!(!growth.due(), "a small log on a large table waits");
        growth.bytes = 4 * 1024 * 1024;
        assert!(growth.due());

        let small = Growth {
            updates: 999,
            bytes: 10 * 1024 * 1024,
            before: 0,
        };
        assert!(!small.due(), "fewer than COMPACT_EVERY updates wait");
        let mut fresh = Growth {
            updates: 1_000,
            bytes: 512 * 1024,
            before: 0,
        };
        assert!(!fresh.due(), "under COMPACT_MIN_BYTES waits");
        fresh.bytes = COMPACT_MIN_BYTES;
        assert!(fresh.due());
    }

    #[tokio::test]
    async fn appends_become_durable_while_a_compaction_runs() {
        let (store, mut gate) = GatedStore::new();
        let (persister, worker) = Persister::start(store.clone()).unwrap();
        let (sink, mut durable) = durable_sink();
        let room = key("a");
        let updates = typing(&Doc::new(), 3);
        persister
            .append(room.clone(), 1, updates[0].clone().into(), sink.clone())
            .await;
        assert_eq!(soon("the first commit", durable.recv()).await, Ok(1));
        persister.compact(room.clone());
        assert_eq!(gate.entered().await, room);

        // The compaction now waits at the gate, in the middle of its work.
        persister
            .append(room.clone(), 2, updates[1].clone().into(), sink.clone())
            .await;
        let second = soon("a commit while a compaction runs", durable.recv()).await;
        assert_eq!(second, Ok(2));
        let loaded = soon("a load while a compaction runs", async {
            persister.load(room.clone()).await.ok()
        })
        .await;
        assert_eq!(text_of(&room, &loaded), "xx");

        assert_eq!(gate.pass().await, Compaction::Written);
        persister
            .append(room.clone(), 3, updates[2].clone().into(), sink)
            .await;
        assert_eq!(
            soon("a commit after the compaction", durable.recv()).await,
            Ok(3)
        );
        persister.stop().await;
        worker.join();
        let mut stored = store.inner.clone();
        assert_eq!(stored.log_len(&room).unwrap(), 1, "on top of the snapshot");
        assert_eq!(text_of(&room, &stored.load(&room).unwrap()), "xxx");
    }

    #[tokio::test]
    async fn a_room_is_queued_for_compaction_once() {
        let (store, mut gate) = GatedStore::new();
        let (persister, worker) = Persister::start(store.clone()).unwrap();
        let (sink, mut durable) = durable_sink();
        let [a, b, c] = [key("a"), key("b"), key("c")];
        for room in [&a, &b, &c] {
            let update = typing(&Doc::new(), 1).remove(0);
            persister
                .append(room.clone(), 1, update.into(), sink.clone())
                .await;
            assert_eq!(soon("a commit", durable.recv()).await, Ok(1));
        }
        persister.compact(a.clone());
        assert_eq!(gate.entered().await, a);

        persister.compact(a.clone()); // being compacted
        persister.compact(b.clone());
        persister.compact(b.clone()); // queued
        persister.compact(c.clone());
        persister.flush().await;
        assert_eq!(gate.pass().await, Compaction::Written);
        assert_eq!(gate.entered().await, b, "a is not queued again");
        assert_eq!(gate.pass().await, Compaction::Written);
        assert_eq!(gate.entered().await, c, "b is queued once");
        assert_eq!(gate.pass().await, Compaction::Written);

        // Once its compaction is over, a room can be queued again.
        persister.compact(a.clone());
        assert_eq!(gate.entered().await, a);
        assert_eq!(gate.pass().await, Compaction::Empty);
        persister.stop().await;
        worker.join();
    }

    #[tokio::test]
    async fn a_long_log_left_by_an_earlier_run_is_compacted_after_loading() {
        let (store, mut gate) = GatedStore::new();
        let room = key("long");
        let updates = typing(&Doc::new(), COMPACT_EVERY as usize + 1);
        append(&mut store.inner.clone(), &room, &updates);
        let (persister, worker) = Persister::start(store.clone()).unwrap();

        let loaded = persister.load(room.clone()).await.unwrap();
        assert_eq!(loaded.updates.len(), updates.len());
        assert_eq!(gate.entered().await, room);
        assert_eq!(gate.pass().await, Compaction::Written);
        persister.stop().await;
        worker.join();
        let mut stored = store.inner.clone();
        assert_eq!(stored.log_len(&room).unwrap(), 0);
        assert_eq!(
            text_of(&room, &stored.load(&room).unwrap()),
            "x".repeat(updates.len())
        );
    }

    #[tokio::test]
    async fn join_lets_a_running_compaction_end_and_stops_the_compactor() {
        let (store, mut gate) = GatedStore::new();
        let (persister, worker) = Persister::start(store.clone()).unwrap();
        let (sink, mut durable) = durable_sink();
        let [a, b] = [key("a"), key("b")];
        for room in [&a, &b] {
            let update = typing(&Doc::new(), 1).remove(0);
            persister
                .append(room.clone(), 1, update.into(), sink.clone())
                .await;
            assert_eq!(soon("a commit", durable.recv()).await, Ok(1));
        }
        persister.compact(a.clone());
        assert_eq!(gate.entered().await, a);
        persister.compact(b.clone());
        persister.stop().await;
        let joined = tokio::task::spawn_blocking(move || worker.join());

        // Whether b still runs or is dropped depends on when join stops the
        // compactor; either way join returns and nothing is lost.
        gate.open_for_good();
        soon("join", async { joined.await.ok() }).await;
        let mut stored = store.inner.clone();
        for room in [&a, &b] {
            assert_eq!(text_of(room, &stored.load(room).unwrap()), "x");
        }
    }

    /// What a [`Durable`] sink heard: each durable sequence number, or a failure.
    type Reports = tokio::sync::mpsc::UnboundedReceiver<Result<u64, String>>;

    /// A sink that reports what became of a room's updates on a channel.
    struct Durable(tokio::sync::mpsc::UnboundedSender<Result<u64, String>>);

    fn durable_sink() -> (Arc<dyn DurableSink>, Reports) {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        (Arc::new(Durable(tx)), rx)
    }

    impl DurableSink for Durable {
        fn durable(&self, seq: u64) {
            let _ = self.0.send(Ok(seq));
        }

        fn failed(&self, error: &StoreError) {
            let _ = self.0.send(Err(error.to_string()));
        }
    }
}
