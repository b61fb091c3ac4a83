//! `RenderPool`: the few threads that render exports and compute summaries,
//! at a lower scheduling priority than the threads that serve requests.
//!
//! `spawn_blocking` keeps heavy work off the async workers, but on a one- or
//! two-core machine its threads still take CPU from them at equal priority:
//! a loop of exports of a hostile note then shows as tens of milliseconds on
//! every `/healthz`. At nice 10 these threads run on what the live work
//! leaves, and they are few, so the memory of renders in flight is bounded.

use std::panic::AssertUnwindSafe;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use tokio::sync::oneshot;

/// The niceness of a render thread: below request serving (0), above the
/// compactor (19), which only tidies storage.
pub const NICE: i32 = 10;

type Job = Box<dyn FnOnce() + Send>;

/// A fixed set of low-priority threads fed through one queue.
pub struct RenderPool {
    jobs: mpsc::Sender<Job>,
}

/// The pool's threads are gone (the server is stopping) or the job panicked.
#[derive(Debug, thiserror::Error)]
#[error("the render thread stopped before finishing")]
pub struct RenderStopped;

impl RenderPool {
    /// Starts `threads` render threads (at least one).
    pub fn new(threads: usize) -> RenderPool {
        let (jobs, queue) = mpsc::channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        for n in 0..threads.max(1) {
            let queue = queue.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("render-{n}"))
                .spawn(move || work(&queue));
            if let Err(error) = spawned {
                tracing::error!(%error, "could not start a render thread");
            }
        }
        RenderPool { jobs }
    }

    /// Runs `job` on a render thread and waits for its result without
    /// holding an async worker.
    pub async fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, RenderStopped> {
        let (tx, rx) = oneshot::channel();
        let job: Job = Box::new(move || {
            // A panic (yrs on a document it cannot read) ends this job only.
            if let Ok(value) = std::panic::catch_unwind(AssertUnwindSafe(job)) {
                let _ = tx.send(value);
            }
        });
        self.jobs.send(job).map_err(|_| RenderStopped)?;
        rx.await.map_err(|_| RenderStopped)
    }
}

fn work(queue: &Mutex<mpsc::Receiver<Job>>) {
    lower_priority();
    loop {
        // The lock is held only while taking the next job off the queue.
        let job = match queue.lock() {
            Ok(queue) => queue.recv(),
            Err(poisoned) => poisoned.into_inner().recv(),
        };
        match job {
            Ok(job) => job(),
            // Every sender is gone: the server stopped.
            Err(_) => return,
        }
    }
}

fn lower_priority() {
    #[cfg(target_os = "linux")]
    {
        // On Linux the priority belongs to the thread named by its id.
        let tid = rustix::thread::gettid();
        if let Err(error) = rustix::process::setpriority_process(Some(tid), NICE) {
            tracing::warn!(%error, "could not lower a render thread's priority");
        }
    }
}
