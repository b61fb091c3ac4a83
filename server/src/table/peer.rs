//! The adapter's side of a peer: its bounded outbox, what it missed while
//! that was full, and the link its connection's tasks share with the room.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use bytes::Bytes;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::outbox::Outbox;
use super::reason::Reason;
use crate::metrics::METRICS;

/// The shared half of a peer: what the room and the connection's tasks both see.
#[derive(Debug)]
pub struct PeerLink {
    /// Set when a delivery found the outbox full. From then on the room keeps
    /// what the peer misses, in order, and the writer, once it has sent what
    /// is queued, asks the room to catch the peer up
    /// ([`super::room::Room::catch_up`]).
    lagging: AtomicBool,
    /// The most bytes of missed deliveries the room keeps for this peer
    /// while it lags; beyond that it is resynced from the document instead.
    pub(super) catch_up_bytes: usize,
    /// Cancelled to close the connection; `close` says why.
    closed: CancellationToken,
    close: Mutex<Option<Reason>>,
}

impl PeerLink {
    /// A link whose peer may fall behind by `catch_up_bytes` of deliveries
    /// before it needs a resync from the document.
    pub fn new(catch_up_bytes: usize) -> Arc<Self> {
        Arc::new(Self {
            lagging: AtomicBool::new(false),
            catch_up_bytes,
            closed: CancellationToken::new(),
            close: Mutex::new(None),
        })
    }

    /// Asks the connection to close for `reason`; the first reason wins.
    pub fn close(&self, reason: impl Into<Reason>) {
        let mut slot = lock(&self.close);
        if slot.is_none() {
            *slot = Some(reason.into());
        }
        drop(slot);
        self.closed.cancel();
    }

    pub fn closed(&self) -> &CancellationToken {
        &self.closed
    }

    /// Why the connection closes, once [`PeerLink::close`] was called.
    pub fn reason(&self) -> Option<Reason> {
        lock(&self.close).clone()
    }

    /// Whether deliveries are being kept back for a catch-up.
    pub fn is_lagging(&self) -> bool {
        self.lagging.load(Ordering::Acquire)
    }

    pub(super) fn set_lagging(&self, lagging: bool) {
        self.lagging.store(lagging, Ordering::Release);
    }
}

/// What [`super::room::Room::catch_up`] asks of the writer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CatchUp {
    /// Send these, in order, then ask again.
    Send(Vec<Bytes>),
    /// The peer is up to date as far as its queue goes (or gone).
    Done,
    /// The peer needs a resync from the document, but had one less than
    /// [`super::outbox::RESYNC_INTERVAL`] ago; ask again at this instant.
    RetryAt(Instant),
}

/// Where a peer's deliveries go.
pub(super) struct Outlet {
    pub(super) outbox: mpsc::Sender<Bytes>,
    pub(super) link: Arc<PeerLink>,
    /// What it missed while its outbox was full.
    pub(super) missed: Outbox,
}

impl Outlet {
    pub(super) fn new(outbox: mpsc::Sender<Bytes>, link: Arc<PeerLink>) -> Self {
        let missed = Outbox::new(link.catch_up_bytes);
        Self {
            outbox,
            link,
            missed,
        }
    }

    /// Queues `bytes`, or, while the peer lags, keeps them for its catch-up.
    pub(super) fn send(&mut self, bytes: Bytes) {
        if self.missed.is_lagging() {
            self.missed.keep(bytes);
            return;
        }
        match self.outbox.try_send(bytes) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(bytes)) => {
                METRICS.outbox_overflows.inc();
                self.missed.keep(bytes);
                self.link.set_lagging(true);
            }
            // The connection is going away and will leave the room.
            Err(mpsc::error::TrySendError::Closed(_)) => {}
        }
    }
}

pub(super) fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic while holding a room lock leaves in-memory state that storage
    // can rebuild; refusing all further work on the room would be worse.
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
