//! The compactor: a thread of its own, with its own [`Store`] handle, that
//! folds rooms' logs into snapshots. Compaction replays a room's whole log
//! (O(document)); here it never delays a commit, and so never delays the
//! broadcasts that wait for commits.
//!
//! The persistence worker asks for compactions and never waits for them.
//! Each is safe to run at any time next to the worker's appends and loads,
//! and safe to abandon: it merges outside any transaction, writes the
//! snapshot in one short one and then deletes the log rows it covers (see
//! [`Store::compact`]). Stopped in between, the log keeps rows the snapshot
//! already holds, which a load applies twice to the same effect.

use std::collections::HashSet;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, mpsc};
use std::thread::JoinHandle;
use std::time::Instant;

use crate::metrics::METRICS;
use crate::store::{RoomKey, Store};

/// Where compactions are asked for; owned by the persistence worker.
pub struct Compactor {
    tx: mpsc::Sender<Request>,
    shared: Arc<Shared>,
}

/// The compactor thread; [`CompactorThread::join`] stops it.
pub struct CompactorThread {
    thread: JoinHandle<()>,
    tx: mpsc::Sender<Request>,
    shared: Arc<Shared>,
}

enum Request {
    Compact(RoomKey),
    Stop,
}

struct Shared {
    /// Rooms queued or being compacted. A room is queued at most once, so
    /// the queue is never longer than the number of rooms, however often
    /// their logs come due while the compactor is busy.
    pending: Mutex<HashSet<RoomKey>>,
    /// Set on shutdown: compactions still queued are dropped, not run.
    stopping: AtomicBool,
}

impl Compactor {
    /// Starts the compactor thread around `store`, a handle of its own.
    pub fn start(store: impl Store) -> (Compactor, CompactorThread) {
        let (tx, rx) = mpsc::channel();
        let shared = Arc::new(Shared {
            pending: Mutex::new(HashSet::new()),
            stopping: AtomicBool::new(false),
        });
        let worker = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("werktafel-compact".into())
            .spawn(move || run(store, &rx, &worker))
            .expect("spawning the compaction thread");
        let compactor = Compactor {
            tx: tx.clone(),
            shared: Arc::clone(&shared),
        };
        (compactor, CompactorThread { thread, tx, shared })
    }

    /// Queues `room` for compaction unless it is already queued or being
    /// compacted; returns whether it was queued. Never blocks on a
    /// compaction: the lock only guards the set of pending rooms.
    pub fn request(&self, room: RoomKey) -> bool {
        if !self.shared.pending().insert(room.clone()) {
            return false;
        }
        if let Err(mpsc::SendError(Request::Compact(room))) = self.tx.send(Request::Compact(room)) {
            // Only a stopped compactor drops its receiver; nothing to undo
            // but the mark, so that the set says what is really queued.
            self.shared.pending().remove(&room);
            return false;
        }
        true
    }
}

impl CompactorThread {
    /// Stops the compactor and waits for it. Compactions still queued are
    /// dropped; one in progress finishes (or fails) as usual. Either way the
    /// storage is whole (see the module comment).
    pub fn join(self) {
        self.shared.stopping.store(true, Ordering::Release);
        // The thread may have ended already (it panicked); then nobody is
        // left to wake.
        let _ = self.tx.send(Request::Stop);
        if self.thread.join().is_err() {
            tracing::error!("the compaction thread panicked");
        }
    }
}

impl Shared {
    fn pending(&self) -> MutexGuard<'_, HashSet<RoomKey>> {
        // The set is consistent after every single insert or remove.
        self.pending.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn run(mut store: impl Store, rx: &mpsc::Receiver<Request>, shared: &Shared) {
    yield_to_live_work();
    while let Ok(Request::Compact(room)) = rx.recv() {
        if shared.stopping.load(Ordering::Acquire) {
            break;
        }
        compact(&mut store, &room);
        // Only now: a request that came while this one ran is covered by the
        // next one, when the log has grown again.
        shared.pending().remove(&room);
    }
    tracing::debug!("compactor stopped");
}

/// Gives this thread the lowest scheduling priority (nice 19). A compaction
/// replays a room's whole log, up to a second of CPU for a busy table; at
/// equal priority it took half a core from the threads that apply and
/// deliver edits, and on a server pinned to one core that showed as seconds
/// of latency for every client. At nice 19 it runs on what they leave idle.
fn yield_to_live_work() {
    #[cfg(target_os = "linux")]
    {
        // On Linux the priority belongs to the thread named by its id.
        let tid = rustix::thread::gettid();
        if let Err(error) = rustix::process::setpriority_process(Some(tid), 19) {
            tracing::warn!(%error, "could not lower the compaction thread's priority");
        }
    }
}

/// Compacts one room, counting and logging the outcome. A panic inside
/// (yrs, on a stored update it cannot take) is caught like an error, so one
/// bad document does not end compaction for every room.
fn compact(store: &mut impl Store, room: &RoomKey) {
    let started = Instant::now();
    let result = std::panic::catch_unwind(AssertUnwindSafe(|| store.compact(room)));
    METRICS
        .compaction_seconds
        .observe(started.elapsed().as_secs_f64());
    let outcome = match result {
        Ok(Ok(compaction)) => {
            tracing::debug!(room = %room, outcome = compaction.label(), "compacted");
            compaction.label()
        }
        Ok(Err(error)) => {
            tracing::warn!(%error, room = %room, "compaction failed; the log is kept");
            "failed"
        }
        Err(_) => {
            tracing::error!(room = %room, "compaction panicked; the log is kept");
            "failed"
        }
    };
    METRICS.compacted(outcome);
}
