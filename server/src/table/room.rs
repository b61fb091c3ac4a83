//! `Room`: the adapter around one [`Table`]. It holds the table under a std
//! mutex (only in-memory work happens under it, never an `.await`) and
//! carries out the commands the table returns: deliveries into the peers'
//! bounded outboxes (and their catch-up), appends into the persistence
//! queue, closes through each peer's [`PeerLink`], reloads on the tracker.
//! It alone reads the clock and knows tokio; the table's rules live in
//! [`super::core`].
//!
//! The persistence queue is bounded: a room reserves a place for every
//! update a frame may store before it takes the lock ([`Room::handle`]
//! waits for them), so a stalled fsync pushes back on the writers' sockets
//! instead of growing memory.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};

use bytes::Bytes;
use smallvec::SmallVec;
use tokio::sync::{mpsc, watch};
use tokio_util::task::TaskTracker;
use werktafel_shared::control::Control;
use yrs::{Doc, ReadTxn, Transact};

use super::core::{Commands, Event, Loaded, Table};
use super::outbox::Next;
use super::peer::{CatchUp, Outlet, PeerLink, lock};
use super::presence::PeerId;
use super::reason::{Reason, Refusal};
use crate::access::Role;
use crate::metrics::METRICS;
use crate::protocol::Incoming;
use crate::screen::Depths;
use crate::store::persist::{Persister, Slot};
use crate::store::{RoomKey, StoreError, build_doc};

mod writes;
pub use writes::NotStored;

/// Presence changes are gathered for this long and then sent to the table as
/// one message, encoded once: with 250 people at a table renewing presence,
/// forwarding each change to everyone would cost 250 × 250 deliveries per
/// round instead of 250 per tick.
pub const AWARENESS_TICK: Duration = Duration::from_millis(100);

/// Places reserved in the persistence queue for one frame's updates; a
/// frame holds one update as a rule, so this does not allocate.
pub type Slots = SmallVec<[Slot; 1]>;

/// How many updates `messages` may store: each needs a place in the queue.
fn writes(messages: &[Incoming]) -> usize {
    messages
        .iter()
        .filter(|m| matches!(m, Incoming::Update(_) | Incoming::SyncStep2(_)))
        .count()
}

/// Returned by [`Room::join`] when the room left the registry in the
/// meantime; the caller looks the table up again.
#[derive(Debug)]
pub struct Evicted;

/// What a room works with beyond its own state: the persistence worker,
/// the registry's change counter and the tracker its spawned work joins.
pub struct RoomServices {
    pub persister: Persister,
    /// Bumped whenever a room's durable content or its peers change;
    /// shared by every room of the registry (see [`super::rooms::Rooms::changes`]).
    pub changes: watch::Sender<u64>,
    /// Reloads from storage run here, so shutdown waits for them.
    pub tasks: TaskTracker,
}

pub struct Room {
    pub(super) key: RoomKey,
    pub(super) persister: Persister,
    pub(super) changes: watch::Sender<u64>,
    pub(super) tasks: TaskTracker,
    /// This room's own change count, so readers can skip rooms that did not change.
    pub(super) version: AtomicU64,
    /// What storage has committed of this room: the last durable sequence
    /// number, or `None` once a commit failed (nothing more will be). Server
    /// writes wait on it before they answer.
    pub(super) stored: watch::Sender<Option<u64>>,
    pub(super) me: Weak<Room>,
    pub(super) inner: Mutex<State>,
}

pub(super) struct State {
    pub(super) table: Table,
    pub(super) outlets: HashMap<PeerId, Outlet>,
    /// The table's out-buffer, kept to be reused.
    pub(super) out: Commands,
    /// Places in the persistence queue reserved and not used yet: as many
    /// as updates wait for a reload to end (see [`Room::handle`]).
    pub(super) slots: Vec<Slot>,
}

impl Room {
    /// Builds a room from what is stored, writing the table's meta if it is new.
    pub async fn load(
        key: RoomKey,
        services: RoomServices,
        max_bytes: u64,
        init: impl FnOnce(&Doc) -> bool + Send + 'static,
    ) -> Result<Arc<Room>, StoreError> {
        let RoomServices {
            persister,
            changes,
            tasks,
        } = services;
        let stored = persister.load(key.clone()).await?;
        let build_key = key.clone();
        // Replaying a large log is CPU work; keep it off the async workers.
        let loaded = tokio::task::spawn_blocking(move || {
            let doc = build_doc(&build_key, stored.updates.iter().map(Vec::as_slice))?;
            let before = doc.transact().state_vector();
            let wrote = init(&doc);
            let written = wrote.then(|| doc.transact().encode_state_as_update_v1(&before));
            // What is stored and the meta just written, in that order.
            let updates = stored.updates.iter().map(Vec::as_slice);
            let depths = Depths::rebuild(updates.chain(written.as_deref()));
            let stored_bytes = stored.updates.iter().map(|u| u.len() as u64).sum();
            Ok::<_, StoreError>(Loaded {
                doc,
                depths,
                stored_bytes,
                written,
            })
        })
        .await
        .map_err(|_| StoreError::Stopped)??;
        let slots = match loaded.written {
            Some(_) => persister.reserve().await.into_iter().collect(),
            None => Vec::new(),
        };
        let mut out = Commands::new();
        let table = Table::new(key.clone(), loaded, max_bytes, Instant::now(), &mut out);
        let room = Arc::new_cyclic(|me| Room {
            key,
            persister,
            changes,
            tasks,
            version: AtomicU64::new(0),
            stored: watch::Sender::new(Some(0)),
            me: me.clone(),
            inner: Mutex::new(State {
                table,
                outlets: HashMap::new(),
                out,
                slots,
            }),
        });
        room.execute(&mut room.lock(), None)
            .map_err(|_| StoreError::Stopped)?;
        Ok(room)
    }

    pub fn key(&self) -> &RoomKey {
        &self.key
    }

    /// Adds a peer and queues the opening messages: our sync step 1 and
    /// everyone's presence.
    pub fn join(
        &self,
        peer: PeerId,
        outbox: mpsc::Sender<Bytes>,
        link: Arc<PeerLink>,
        role: Role,
    ) -> Result<(), Evicted> {
        let mut state = self.lock();
        if state.table.is_evicted() {
            return Err(Evicted);
        }
        state.outlets.insert(peer, Outlet::new(outbox, link));
        self.run(&mut state, Event::Join { peer, role }, None).ok();
        Ok(())
    }

    /// Removes a peer and its presence, telling the others.
    pub fn leave(&self, peer: PeerId) {
        let mut state = self.lock();
        state.outlets.remove(&peer);
        self.run(&mut state, Event::Leave { peer }, None).ok();
    }

    /// Acts on the messages of one frame from `peer`; a refusal closes its
    /// connection. Waits first for a place in the persistence queue for
    /// each update the frame may store: the push-back of a stalled disk.
    pub async fn handle(
        &self,
        peer: PeerId,
        frame: &Bytes,
        messages: Vec<Incoming>,
    ) -> Result<(), Refusal> {
        let slots = match self.try_reserve(&messages) {
            Some(slots) => slots,
            None => self.reserve(&messages).await,
        };
        self.handle_reserved(peer, frame, messages, slots)
    }

    /// The places in the persistence queue `messages` may need, if the queue
    /// has them now: the common case, which costs no `.await` (a connection
    /// waits with [`Room::reserve`] only when this says no).
    pub fn try_reserve(&self, messages: &[Incoming]) -> Option<Slots> {
        let mut slots = Slots::new();
        for _ in 0..writes(messages) {
            slots.push(self.persister.try_reserve()?);
        }
        Some(slots)
    }

    /// The places in the persistence queue `messages` may need, waiting
    /// while it is full; fewer once the worker has stopped (the table then
    /// fails the update it cannot store).
    pub async fn reserve(&self, messages: &[Incoming]) -> Slots {
        let mut slots = Slots::new();
        for _ in 0..writes(messages) {
            match self.persister.reserve().await {
                Some(slot) => slots.push(slot),
                None => break,
            }
        }
        slots
    }

    /// [`Room::handle`] with the places already reserved.
    pub fn handle_reserved(
        &self,
        peer: PeerId,
        frame: &Bytes,
        messages: Vec<Incoming>,
        slots: Slots,
    ) -> Result<(), Refusal> {
        let mut state = self.lock();
        state.slots.extend(slots);
        let result = self.run(
            &mut state,
            Event::Frame {
                peer,
                frame,
                messages,
            },
            Some(peer),
        );
        // What was not used goes back to the queue, but for the updates now
        // waiting for a reload: those are stored when it ends.
        let keep = state.table.backlogged_updates();
        state.slots.truncate(keep);
        result
    }

    /// How the table is run now.
    pub fn control(&self) -> Control {
        self.lock().table.control().clone()
    }

    /// Brings a lagging peer up to date once its writer has sent everything
    /// queued. Hands the writer what the peer missed, in order, to send
    /// itself ([`CatchUp::Send`]); the writer asks again after sending, and
    /// only when nothing more was missed meanwhile does the peer stop lagging
    /// ([`CatchUp::Done`]), so nothing overtakes anything. A peer that
    /// missed more than its budget is resynced from the document instead, at
    /// most once per [`super::outbox::RESYNC_INTERVAL`].
    pub fn catch_up(&self, peer: PeerId) -> CatchUp {
        self.catch_up_at(peer, Instant::now())
    }

    /// [`Room::catch_up`] at `now`.
    pub fn catch_up_at(&self, peer: PeerId, now: Instant) -> CatchUp {
        let mut state = self.lock();
        let Some(outlet) = state.outlets.get_mut(&peer) else {
            return CatchUp::Done;
        };
        match outlet.missed.catch_up(now) {
            Next::Send(missed) => {
                METRICS.catch_ups.inc();
                CatchUp::Send(missed)
            }
            Next::Done => {
                outlet.link.set_lagging(false);
                CatchUp::Done
            }
            Next::Resync => {
                outlet.link.set_lagging(false);
                self.run(&mut state, Event::Resync { peer }, None).ok();
                CatchUp::Done
            }
            Next::RetryAt(at) => CatchUp::RetryAt(at),
        }
    }

    /// Resyncs `peer` from the document, as if it had missed too much.
    pub fn resync(&self, peer: PeerId) {
        self.run(&mut self.lock(), Event::Resync { peer }, None)
            .ok();
    }

    /// The presence tick ([`AWARENESS_TICK`]): gathered presence changes go
    /// out, expired states are removed.
    pub fn tick(&self) {
        self.run(&mut self.lock(), Event::Tick, None).ok();
    }

    /// Marks the room evicted if it has had no peers for `grace` and has
    /// nothing waiting to be committed. Called under the registry's shard lock.
    pub fn try_evict(&self, grace: Duration, now: Instant) -> bool {
        self.lock().table.try_evict(grace, now)
    }

    pub fn is_evicted(&self) -> bool {
        self.lock().table.is_evicted()
    }

    /// Closes every peer's connection, e.g. on shutdown.
    pub fn close_all(&self, reason: &Reason) {
        for outlet in self.lock().outlets.values() {
            outlet.link.close(reason.clone());
        }
    }

    pub fn peer_count(&self) -> usize {
        self.lock().table.peer_count()
    }

    /// Runs `f` on the document under the room lock.
    pub fn read<R>(&self, f: impl FnOnce(&Doc) -> R) -> R {
        f(self.lock().table.doc())
    }

    /// Runs `f` on the table under the room lock (tests and metrics).
    pub fn inspect<R>(&self, f: impl FnOnce(&Table) -> R) -> R {
        f(&self.lock().table)
    }

    /// Grows with every change of content or peers.
    pub fn version(&self) -> u64 {
        self.version.load(Ordering::Acquire)
    }

    pub(super) fn lock(&self) -> MutexGuard<'_, State> {
        lock(&self.inner)
    }

    /// Hands `event` to the table now and carries out what it returns.
    pub(super) fn run(
        &self,
        state: &mut State,
        event: Event<'_>,
        sender: Option<PeerId>,
    ) -> Result<(), Refusal> {
        state.table.handle(event, Instant::now(), &mut state.out);
        self.execute(state, sender)
    }
}
