//! One work table in memory: its yrs document with awareness, the connected
//! peers, and the rule that nothing reaches a peer before it is durable.
//!
//! Every update is applied once, persisted once and encoded once; the same
//! `Bytes` go to every other peer. Deliveries that carry document content wait
//! in `held` until the persistence worker reports their sequence number
//! durable, so no client ever sees an edit that a crash could take back.
//! The room lock is a std mutex: it guards only in-memory work and is never
//! held across an `.await`.

use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};

use bytes::Bytes;
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use werktafel_shared::control::{Control, SERVER_ONLY, read_control};
use yrs::sync::awareness::{Awareness, AwarenessUpdate};
use yrs::updates::decoder::Decode;
use yrs::{DeepObservable, Doc, Origin, ReadTxn, StateVector, Transact, TransactionMut, Update};

use crate::access::Role;
use crate::metrics::METRICS;
use crate::protocol::{self, Incoming};
use crate::screen::{self, Clocks, Depths, Refusal as ScreenRefusal};
use crate::store::persist::{DurableSink, Persister};
use crate::store::{RoomKey, StoreError, build_doc};
use crate::table::cache::Cache;
use crate::table::durability::{Durability, MAX_UNFLUSHED_BYTES};
use crate::table::outbox::{Next, Outbox};
use crate::table::policy::{self, ReloadLimit, Write};
use crate::table::presence::{self, Presence};
use crate::table::reason::{Reason, Refusal};

pub use crate::table::outbox::RESYNC_INTERVAL;
pub use crate::table::policy::RELOAD_INTERVAL;
pub use crate::table::presence::{
    AWARENESS_TIMEOUT, MAX_AWARENESS_CLIENTS, MAX_AWARENESS_STATE_BYTES, PeerId,
};

/// The update that inserts and deletes nothing: no clients, no deletes.
const EMPTY_UPDATE: [u8; 2] = [0, 0];

/// Presence changes are gathered for this long and then sent to the table as
/// one message, encoded once: with 250 people at a table renewing presence,
/// forwarding each change to everyone would cost 250 × 250 deliveries per
/// round instead of 250 per tick.
pub const AWARENESS_TICK: Duration = Duration::from_millis(100);

/// The shared half of a peer: what the room and the connection's tasks both see.
#[derive(Debug)]
pub struct PeerLink {
    /// Set when a delivery found the outbox full. From then on the room keeps
    /// what the peer misses, in order, and the writer, once it has sent what
    /// is queued, asks the room to catch the peer up ([`Room::catch_up`]).
    lagging: AtomicBool,
    /// The most bytes of missed deliveries the room keeps for this peer
    /// while it lags; beyond that it is resynced from the document instead.
    catch_up_bytes: usize,
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
}

/// What [`Room::catch_up`] asks of the writer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CatchUp {
    /// Send these, in order, then ask again.
    Send(Vec<Bytes>),
    /// The peer is up to date as far as its queue goes (or gone).
    Done,
    /// The peer needs a resync from the document, but had one less than
    /// [`RESYNC_INTERVAL`] ago; ask again at this instant.
    RetryAt(Instant),
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
    /// shared by every room of the registry (see [`crate::rooms::Rooms::changes`]).
    pub changes: watch::Sender<u64>,
    /// Reloads from storage run here, so shutdown waits for them.
    pub tasks: TaskTracker,
}

pub struct Room {
    key: RoomKey,
    persister: Persister,
    /// Bumped whenever this room's durable content or its peers change;
    /// shared by every room of the registry (see [`crate::rooms::Rooms::changes`]).
    changes: watch::Sender<u64>,
    tasks: TaskTracker,
    /// This room's own change count, so readers can skip rooms that did not change.
    version: AtomicU64,
    /// Set when presence changed since the last tick, so the tick skips the lock otherwise.
    awareness_dirty: AtomicBool,
    /// The most bytes of updates this table may store.
    max_bytes: u64,
    me: Weak<Room>,
    inner: Mutex<RoomInner>,
}

struct RoomInner {
    awareness: Awareness,
    peers: HashMap<PeerId, Peer>,
    /// Sequence numbers, and deliveries held until theirs is durable.
    durability: Durability<Delivery>,
    /// Removed from the registry; joins must look the table up again.
    evicted: bool,
    /// When the last peer left.
    empty_since: Option<Instant>,
    /// While a reload from storage is under way, what arrived meanwhile and
    /// waits for the rebuilt document: updates (not yet checked, stored or
    /// delivered) and requests to be answered from the document.
    reload_backlog: Option<Vec<Backlogged>>,
    /// How the table is run, as last written to `control` by the server.
    control: Control,
    /// Bytes of every update stored for this room (snapshot plus log, as
    /// loaded, plus every update since): what the size limit counts.
    stored_bytes: u64,
    /// Who speaks for which awareness client, and what changed since the tick.
    presence: Presence,
    /// What a client that has nothing (a fresh join) is sent.
    cache: Cache,
    /// Raised by the document's observers when a transaction that is not the
    /// server's touches a server-only map (`meta`, `control`, `votes`).
    guard: Guard,
    /// The document's clock per client, for [`Clocks::check`]; rebuilt
    /// whenever the document is replaced.
    clocks: Clocks,
    /// How deep each clock range of the document hangs and under which
    /// root, for [`Depths::place`]; rebuilt from storage with the document.
    depths: Depths,
    /// When the last reload from storage started ([`RELOAD_INTERVAL`]).
    reloads: ReloadLimit,
}

/// Watches the server-only maps of a document. The observers belong to the
/// document and go with it.
struct Guard {
    tripped: Arc<AtomicBool>,
}

impl Guard {
    fn watch(doc: &Doc) -> Guard {
        let tripped = Arc::new(AtomicBool::new(false));
        let server = server_origin();
        for name in SERVER_ONLY {
            let tripped = tripped.clone();
            let server = server.clone();
            doc.get_or_insert_map(name)
                .observe_deep("werktafel-guard", move |txn, _| {
                    if txn.origin() != Some(&server) {
                        tripped.store(true, Ordering::Release);
                    }
                });
        }
        Guard { tripped }
    }

    fn take(&self) -> bool {
        self.tripped.swap(false, Ordering::AcqRel)
    }
}

/// The origin of the server's own transactions.
fn server_origin() -> Origin {
    Origin::from("werktafel-server")
}

struct Peer {
    outbox: mpsc::Sender<Bytes>,
    role: Role,
    link: Arc<PeerLink>,
    /// What the peer said it had in its last sync step 1. Resyncs are
    /// computed from here: never advanced on our own say-so, because a
    /// delivery we count as sent may be one that was dropped.
    known_sv: StateVector,
    /// What it missed while its outbox was full.
    missed: Outbox,
    /// One of its writes was pushed back while storage lagged. Its later
    /// updates build on it, so they wait too (the server would see a hole
    /// in its clock) until its next sync step 2 brings them all.
    pushed_back: bool,
}

/// Work that waits while the room reloads: the in-memory document may hold
/// what was refused, so nothing is read from it or applied to it until then.
enum Backlogged {
    Update {
        peer: PeerId,
        update: Bytes,
        as_is: Option<Bytes>,
    },
    Answer {
        peer: PeerId,
        sv: StateVector,
        reply: Reply,
    },
}

#[derive(Clone, Copy)]
enum Reply {
    /// Sync step 2, the answer to a client's step 1.
    Step2,
    /// A resync of a lagging peer, sent as an update.
    Resync,
}

enum Delivery {
    All {
        bytes: Bytes,
        except: Option<PeerId>,
    },
    One {
        peer: PeerId,
        bytes: Bytes,
    },
}

impl Delivery {
    fn bytes(&self) -> &Bytes {
        match self {
            Delivery::All { bytes, .. } | Delivery::One { bytes, .. } => bytes,
        }
    }
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
        let stored_bytes: u64 = stored.updates.iter().map(|u| u.len() as u64).sum();
        let build_key = key.clone();
        // Replaying a large log is CPU work; keep it off the async workers.
        let (doc, meta_update, depths) = tokio::task::spawn_blocking(move || {
            let doc = build_doc(&build_key, stored.updates.iter().map(Vec::as_slice))?;
            let before = doc.transact().state_vector();
            let wrote = init(&doc);
            let update = wrote.then(|| doc.transact().encode_state_as_update_v1(&before));
            // What is stored and the meta just written, in that order.
            let written = stored.updates.iter().map(Vec::as_slice);
            let depths = Depths::rebuild(written.chain(update.as_deref()));
            Ok::<_, StoreError>((doc, update, depths))
        })
        .await
        .map_err(|_| StoreError::Stopped)??;

        let control = read_control(&doc);
        let guard = Guard::watch(&doc);
        let clocks = Clocks::of(&doc);
        let room = Arc::new_cyclic(|me| Room {
            key,
            persister,
            changes,
            tasks,
            version: AtomicU64::new(0),
            awareness_dirty: AtomicBool::new(false),
            me: me.clone(),
            inner: Mutex::new(RoomInner {
                awareness: Awareness::new(doc),
                peers: HashMap::new(),
                durability: Durability::default(),
                evicted: false,
                empty_since: Some(Instant::now()),
                reload_backlog: None,
                control,
                stored_bytes,
                presence: Presence::default(),
                cache: Cache::default(),
                guard,
                clocks,
                depths,
                reloads: ReloadLimit::default(),
            }),
            max_bytes,
        });
        if let Some(update) = meta_update {
            let mut inner = room.lock();
            room.persist(&mut inner, Bytes::from(update));
        }
        Ok(room)
    }

    pub fn key(&self) -> &RoomKey {
        &self.key
    }

    /// Adds a peer and queues the opening messages: our sync step 1 and
    /// everyone's presence.
    pub fn join(
        &self,
        id: PeerId,
        outbox: mpsc::Sender<Bytes>,
        link: Arc<PeerLink>,
        role: Role,
    ) -> Result<(), Evicted> {
        let link_budget = link.catch_up_bytes;
        let mut inner = self.lock();
        if inner.evicted {
            return Err(Evicted);
        }
        let sv = inner.awareness.doc().transact().state_vector();
        let _ = outbox.try_send(protocol::encode_sync_step1(&sv));
        if let Ok(update) = inner.awareness.update()
            && !update.clients.is_empty()
        {
            let _ = outbox.try_send(protocol::encode_awareness(&update));
        }
        inner.peers.insert(
            id,
            Peer {
                outbox,
                role,
                link,
                known_sv: StateVector::default(),
                missed: Outbox::new(link_budget),
                pushed_back: false,
            },
        );
        inner.empty_since = None;
        drop(inner);
        self.changed();
        Ok(())
    }

    /// Removes a peer and its presence, telling the others.
    pub fn leave(&self, id: PeerId) {
        let mut inner = self.lock();
        if inner.peers.remove(&id).is_none() {
            return;
        }
        if inner.peers.is_empty() {
            inner.empty_since = Some(Instant::now());
        }
        self.changed();
        let mut gone = Vec::new();
        for client in inner.presence.leave(id) {
            if inner.awareness.meta(client).is_some() {
                inner.awareness.remove_state(client);
                gone.push(client);
            }
        }
        if !gone.is_empty()
            && let Ok(update) = inner.awareness.update_with_clients(gone)
        {
            send_all(&mut inner.peers, &protocol::encode_awareness(&update), None);
        }
    }

    /// Acts on the messages of one frame from `peer`.
    pub fn handle(
        &self,
        peer: PeerId,
        frame: &Bytes,
        messages: Vec<Incoming>,
    ) -> Result<(), Refusal> {
        let forward_as_is = protocol::is_single_update(frame, &messages);
        METRICS.update_bytes_received.inc_by(frame.len() as u64);
        let mut inner = self.lock();
        for message in messages {
            match message {
                Incoming::SyncStep1(sv) => {
                    if let Some(p) = inner.peers.get_mut(&peer) {
                        p.known_sv = sv.clone();
                    }
                    self.answer(&mut inner, peer, sv, Reply::Step2);
                }
                Incoming::SyncStep2(update) => {
                    METRICS.updates_received.inc();
                    if policy::is_empty_viewer_step2(peer_role(&inner, peer), &update) {
                        continue;
                    }
                    if let Some(p) = inner.peers.get_mut(&peer) {
                        p.pushed_back = false;
                    }
                    self.apply_update(&mut inner, peer, update, None)?;
                }
                Incoming::Update(update) => {
                    METRICS.updates_received.inc();
                    if inner.peers.get(&peer).is_some_and(|p| p.pushed_back) {
                        METRICS.writes_pushed_back.inc();
                        continue;
                    }
                    let as_is = forward_as_is.then(|| frame.clone());
                    self.apply_update(&mut inner, peer, update, as_is)?;
                }
                Incoming::Awareness(update) => {
                    METRICS.awareness_received.inc();
                    if apply_awareness(&mut inner, peer, update)? {
                        self.awareness_dirty.store(true, Ordering::Release);
                    }
                }
                Incoming::QueryAwareness => {
                    if let Ok(update) = inner.awareness.update()
                        && let Some(p) = inner.peers.get_mut(&peer)
                    {
                        send(p, protocol::encode_awareness(&update));
                    }
                }
            }
        }
        Ok(())
    }

    /// Changes the document as the server (the only writer of `meta`,
    /// `control` and `votes`), then stores and delivers the change like any
    /// client's. `f` runs under the room lock, so it can check and write in
    /// one step.
    pub fn write_as_server<R>(&self, f: impl FnOnce(&mut TransactionMut) -> R) -> R {
        let mut inner = self.lock();
        let (result, update) = {
            let doc = inner.awareness.doc();
            let mut txn = doc.transact_mut_with(server_origin());
            let result = f(&mut txn);
            let update = txn.encode_update_v1();
            (result, update)
        };
        inner.guard.take();
        let was_open = inner.control.accepts_writes();
        inner.control = read_control(inner.awareness.doc());
        if !was_open && inner.control.accepts_writes() {
            // Writes held back while the table was locked or closed come
            // back now: every client answers this with what the server lacks.
            let sv = inner.awareness.doc().transact().state_vector();
            send_all(&mut inner.peers, &protocol::encode_sync_step1(&sv), None);
        }
        let written = Update::decode_v1(&update).is_ok_and(|u| !u.is_empty());
        if written {
            // The server's own update is well formed by construction.
            if let Ok(scan) = screen::scan(&update) {
                let placement = inner.depths.place_unchecked(&scan, &inner.clocks);
                inner.depths.commit(placement);
                inner.clocks.advance(&scan.items);
            }
            let update = Bytes::from(update);
            let bytes = protocol::encode_update(&update);
            let seq = self.persist(&mut inner, update);
            inner.cache.extend(&bytes);
            self.deliver(
                &mut inner,
                seq,
                Delivery::All {
                    bytes,
                    except: None,
                },
            );
        }
        result
    }

    /// How the table is run now.
    pub fn control(&self) -> Control {
        self.lock().control.clone()
    }

    /// Brings a lagging peer up to date once its writer has sent everything
    /// queued. Hands the writer what the peer missed, in order, to send
    /// itself ([`CatchUp::Send`]); the writer asks again after sending, and
    /// only when nothing more was missed meanwhile does the peer stop lagging
    /// ([`CatchUp::Done`]), so nothing overtakes anything. Only the handover
    /// happens under the room lock. A peer that missed more than its budget
    /// is resynced from the document instead, at most once per
    /// [`RESYNC_INTERVAL`].
    pub fn catch_up(&self, peer: PeerId) -> CatchUp {
        self.catch_up_at(peer, Instant::now())
    }

    /// [`Room::catch_up`] at `now`.
    pub fn catch_up_at(&self, peer: PeerId, now: Instant) -> CatchUp {
        let mut inner = self.lock();
        let Some(p) = inner.peers.get_mut(&peer) else {
            return CatchUp::Done;
        };
        let kept = p.missed.kept_bytes();
        match p.missed.catch_up(now) {
            Next::Send(missed) => {
                METRICS.catch_ups.inc();
                tracing::debug!(room = %self.key, peer, missed = missed.len(), bytes = kept, "catching up a lagging peer from what it missed");
                CatchUp::Send(missed)
            }
            Next::Done => {
                p.link.lagging.store(false, Ordering::Release);
                CatchUp::Done
            }
            Next::Resync => {
                p.link.lagging.store(false, Ordering::Release);
                drop(inner);
                self.resync(peer);
                CatchUp::Done
            }
            Next::RetryAt(at) => CatchUp::RetryAt(at),
        }
    }

    /// Sends `peer` what the document has beyond the state vector it last
    /// declared, and everyone's presence: the resync of a peer that missed
    /// more than it may keep.
    pub fn resync(&self, peer: PeerId) {
        let mut inner = self.lock();
        let Some(p) = inner.peers.get(&peer) else {
            return;
        };
        let sv = p.known_sv.clone();
        METRICS.resyncs.inc();
        tracing::debug!(room = %self.key, peer, "resyncing a lagging peer from the document");
        self.answer(&mut inner, peer, sv, Reply::Resync);
        if let Ok(update) = inner.awareness.update()
            && !update.clients.is_empty()
            && let Some(p) = inner.peers.get_mut(&peer)
        {
            send(p, protocol::encode_awareness(&update));
        }
    }

    /// Sends the presence changes gathered since the last tick to every peer,
    /// as one message encoded once.
    pub fn flush_awareness(&self) {
        if !self.awareness_dirty.swap(false, Ordering::AcqRel) {
            return;
        }
        let mut inner = self.lock();
        let changed = inner.presence.take_changed();
        if changed.is_empty() {
            return;
        }
        if let Ok(update) = inner.awareness.update_with_clients(changed) {
            send_all(&mut inner.peers, &protocol::encode_awareness(&update), None);
        }
    }

    /// Removes presence that was not renewed in time.
    pub fn expire_awareness(&self) {
        self.expire_awareness_at(now_ms());
    }

    /// [`Room::expire_awareness`] at `now_ms`, milliseconds since the epoch
    /// (the clock yrs stamps awareness states with).
    pub fn expire_awareness_at(&self, now_ms: u64) {
        let mut inner = self.lock();
        let states = inner
            .awareness
            .iter()
            .map(|(client, state)| (client, state.data.is_some(), state.last_updated));
        let stale = presence::expired(states, now_ms);
        if stale.is_empty() {
            return;
        }
        for client in &stale {
            inner.awareness.remove_state(*client);
        }
        if let Ok(update) = inner.awareness.update_with_clients(stale) {
            send_all(&mut inner.peers, &protocol::encode_awareness(&update), None);
        }
    }

    /// Marks the room evicted if it has had no peers for `grace` and has
    /// nothing waiting to be committed. Called under the registry's shard lock.
    pub fn try_evict(&self, grace: Duration, now: Instant) -> bool {
        let mut inner = self.lock();
        let idle = inner
            .empty_since
            .is_some_and(|t| now.saturating_duration_since(t) >= grace);
        if idle && inner.peers.is_empty() && inner.durability.settled() {
            inner.evicted = true;
        }
        inner.evicted
    }

    pub fn is_evicted(&self) -> bool {
        self.lock().evicted
    }

    /// Closes every peer's connection, e.g. on shutdown.
    pub fn close_all(&self, reason: &Reason) {
        let inner = self.lock();
        for peer in inner.peers.values() {
            peer.link.close(reason.clone());
        }
    }

    pub fn peer_count(&self) -> usize {
        self.lock().peers.len()
    }

    /// Runs `f` on the document under the room lock.
    pub fn read<R>(&self, f: impl FnOnce(&Doc) -> R) -> R {
        f(self.lock().awareness.doc())
    }

    fn changed(&self) {
        self.version.fetch_add(1, Ordering::Release);
        self.notify();
    }

    /// Wakes whoever watches the room's changes (the plenary's feed).
    fn notify(&self) {
        self.changes.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// Grows with every change of content or peers.
    pub fn version(&self) -> u64 {
        self.version.load(Ordering::Acquire)
    }

    fn lock(&self) -> MutexGuard<'_, RoomInner> {
        lock(&self.inner)
    }

    fn apply_update(
        &self,
        inner: &mut RoomInner,
        peer: PeerId,
        update: Bytes,
        as_is: Option<Bytes>,
    ) -> Result<(), Refusal> {
        if update.as_ref() == EMPTY_UPDATE {
            // What a client with nothing new answers to a sync step 1.
            return Ok(());
        }
        // Who may write is settled before a byte is read: refusing a viewer
        // or holding back a write to a locked table costs nothing.
        match policy::write(peer_role(inner, peer), &inner.control) {
            Write::Allow => {}
            Write::Refuse => return Err(Refusal::Forbidden("this connection is read-only")),
            Write::HoldBack => {
                // The client keeps it; when the table opens again the server
                // asks every peer for what it lacks (see `write_as_server`).
                METRICS.writes_held_back.inc();
                tracing::debug!(room = %self.key, peer, "held back a write to a locked or closed table");
                return Ok(());
            }
        }
        if inner.durability.backlogged(MAX_UNFLUSHED_BYTES) {
            // Storage has fallen behind: the queue does not grow. As with a
            // locked table, the client keeps the edit and the table asks for
            // it again once storage caught up (see `durable`).
            METRICS.writes_pushed_back.inc();
            inner.durability.push_back();
            if let Some(p) = inner.peers.get_mut(&peer) {
                p.pushed_back = true;
            }
            return Ok(());
        }
        if let Some(backlog) = inner.reload_backlog.as_mut() {
            // The document is being rebuilt from storage: the update waits,
            // unchecked, unstored and undelivered, and goes through the usual
            // path once the rebuilt document is in place.
            backlog.push(Backlogged::Update {
                peer,
                update,
                as_is,
            });
            return Ok(());
        }
        // Walked before yrs reads a byte of it: some shapes yrs accepts
        // break the document, and one overflowed yrs' stack (`screen`).
        let scan = screen::scan(&update).map_err(Refusal::InvalidUpdate)?;
        inner
            .clocks
            .check(&scan.items)
            .map_err(Refusal::InvalidUpdate)?;
        let placement = inner
            .depths
            .place(&scan, &inner.clocks)
            .map_err(|refusal| match refusal {
                ScreenRefusal::ServerOnly(_) => {
                    METRICS.server_only_refused.inc();
                    tracing::warn!(room = %self.key, peer, %refusal, "refused a write to a server-only map");
                    Refusal::Forbidden("meta, control and votes are written by the server only")
                }
                ScreenRefusal::TooDeep(why) | ScreenRefusal::Missing(why) => {
                    Refusal::InvalidUpdate(why)
                }
            })?;
        if placement.undecided() && !inner.reloads.allows(Instant::now()) {
            // Only applying it would tell whether it must be undone, and the
            // table reloaded a moment ago: a client cannot make it reload
            // in a loop.
            tracing::warn!(room = %self.key, peer, "refused an undecided update while reloads are rate-limited");
            return Err(Refusal::Forbidden(
                "the table cannot check this update now (reloads are rate-limited)",
            ));
        }
        // yrs can panic on hostile bytes even while decoding (an overflowing
        // delete set, found by the fuzzer); a panic is a refusal here.
        let decoded = match catch_unwind(|| Update::decode_v1(&update)) {
            Ok(Ok(decoded)) => decoded,
            Ok(Err(error)) => return Err(Refusal::InvalidUpdate(error.to_string())),
            Err(_) => {
                return Err(Refusal::InvalidUpdate(
                    "the update could not be decoded".into(),
                ));
            }
        };
        if decoded.is_empty() {
            return Ok(());
        }
        if inner.stored_bytes + update.len() as u64 > self.max_bytes {
            return Err(Refusal::TooLarge {
                limit: self.max_bytes,
            });
        }
        let doc = inner.awareness.doc();
        let origin = Origin::from(peer);
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            doc.transact_mut_with(origin).apply_update(decoded)
        }));
        if inner.guard.take() {
            // Applied but not stored: reloading from storage undoes it.
            // The screen's bookkeeping did not see it coming (a root it
            // does not know): the fallback.
            tracing::warn!(room = %self.key, peer, "refused an update to a server-only map after applying it");
            self.reload(inner);
            return Err(Refusal::Forbidden(
                "meta, control and votes are written by the server only",
            ));
        }
        match outcome {
            Ok(Ok(())) if inner.awareness.doc().transact().has_missing_updates() => {
                // An update that depends on something the server never had.
                // A client on one ordered socket cannot send one (it only
                // builds on what the server sent it, and its sync step 2
                // carries everything the server lacks), and yrs mishandles
                // the unmet remainder (found by the fuzzer): later encodes
                // may panic, breaking every client's sync, or hand peers
                // items the server does not hold. Not stored yet: undo it.
                tracing::warn!(room = %self.key, peer, "refused an update with missing dependencies");
                self.reload(inner);
                return Err(Refusal::InvalidUpdate(
                    "the update depends on updates the server does not have".into(),
                ));
            }
            Ok(Ok(())) => {
                inner.depths.commit(placement);
                inner.clocks.advance(&scan.items);
            }
            Ok(Err(error)) => {
                // yrs may have integrated part of the update before refusing
                // it; only storage is known to be clean now.
                self.reload(inner);
                return Err(Refusal::InvalidUpdate(error.to_string()));
            }
            Err(_) => {
                tracing::error!(room = %self.key, peer, "yrs panicked applying an update; reloading the table");
                self.reload(inner);
                return Err(Refusal::InvalidUpdate(
                    "the update could not be applied".into(),
                ));
            }
        }
        let seq = self.persist(inner, update.clone());
        let bytes = as_is.unwrap_or_else(|| protocol::encode_update(&update));
        inner.cache.extend(&bytes);
        self.deliver(
            inner,
            seq,
            Delivery::All {
                bytes,
                except: Some(peer),
            },
        );
        Ok(())
    }

    /// Sends `peer` what the document has beyond `sv`, once that is durable;
    /// during a reload, once the rebuilt document is in place.
    fn answer(&self, inner: &mut RoomInner, peer: PeerId, sv: StateVector, reply: Reply) {
        if let Some(backlog) = inner.reload_backlog.as_mut() {
            backlog.push(Backlogged::Answer { peer, sv, reply });
            return;
        }
        let seq = inner.durability.applied();
        let fresh = matches!(reply, Reply::Step2) && sv == StateVector::default();
        let cached: Option<Vec<Bytes>> = fresh
            .then(|| inner.cache.frames(seq).map(Iterator::collect))
            .flatten();
        if let Some(frames) = cached {
            for bytes in frames {
                self.deliver(inner, seq, Delivery::One { peer, bytes });
            }
            return;
        }
        let doc = inner.awareness.doc();
        let Ok(diff) = catch_unwind(AssertUnwindSafe(|| {
            doc.transact().encode_state_as_update_v1(&sv)
        })) else {
            // Only a document stored before the check in `apply_update`
            // existed could get here; this peer goes, the table stays.
            tracing::error!(room = %self.key, peer, "yrs panicked encoding the document");
            if let Some(p) = inner.peers.get(&peer) {
                p.link.close(Reason::Internal("the table cannot be read"));
            }
            return;
        };
        METRICS.encodes(match reply {
            Reply::Step2 if fresh => "full",
            Reply::Step2 => "diff",
            Reply::Resync => "resync",
        });
        let bytes = match reply {
            Reply::Step2 => protocol::encode_sync_step2(&diff),
            Reply::Resync => protocol::encode_update(&diff),
        };
        if fresh {
            inner.cache.store(seq, bytes.clone());
        }
        self.deliver(inner, seq, Delivery::One { peer, bytes });
    }

    /// Queues an update for commit and returns its sequence number.
    fn persist(&self, inner: &mut RoomInner, update: Bytes) -> u64 {
        let seq = inner.durability.next_seq(update.len());
        inner.stored_bytes += update.len() as u64;
        let sink: Arc<dyn DurableSink> = match self.me.upgrade() {
            Some(room) => room,
            None => return seq,
        };
        self.persister.append(self.key.clone(), seq, update, sink);
        seq
    }

    /// Delivers now if `seq` is durable, else holds the delivery until it is.
    fn deliver(&self, inner: &mut RoomInner, seq: u64, delivery: Delivery) {
        let bytes = delivery.bytes().len();
        if let Some(delivery) = inner.durability.hold(seq, bytes, delivery) {
            dispatch(&mut inner.peers, delivery);
        }
    }

    /// Replaces the in-memory document with what storage holds, after every
    /// update already queued for commit, then asks every peer for what the
    /// server may be missing.
    fn reload(&self, inner: &mut RoomInner) {
        if inner.reload_backlog.is_some() {
            return;
        }
        inner.reload_backlog = Some(Vec::new());
        inner.reloads.started(Instant::now());
        METRICS.room_reloads.inc();
        let Some(room) = self.me.upgrade() else {
            return;
        };
        self.tasks.spawn(async move {
            let stored = room.persister.load(room.key.clone()).await;
            let key = room.key.clone();
            // Rebuilding the document is CPU work in proportion to the
            // table: off the async workers.
            let doc = match stored {
                Ok(s) => tokio::task::spawn_blocking(move || {
                    let doc = build_doc(&key, s.updates.iter().map(Vec::as_slice))?;
                    Ok((doc, Depths::rebuild(s.updates.iter().map(Vec::as_slice))))
                })
                .await
                .unwrap_or(Err(StoreError::Stopped)),
                Err(error) => Err(error),
            };
            let mut inner = room.lock();
            let backlog = inner.reload_backlog.take().unwrap_or_default();
            match doc {
                Ok((doc, depths)) => {
                    inner.cache.clear();
                    inner.depths = depths;
                    inner.guard = Guard::watch(&doc);
                    inner.control = read_control(&doc);
                    inner.clocks = Clocks::of(&doc);
                    *inner.awareness.doc_mut() = doc;
                    tracing::info!(room = %room.key, "table reloaded from storage");
                    let step1 = protocol::encode_sync_step1(inner.clocks.state_vector());
                    send_all(&mut inner.peers, &step1, None);
                    for item in backlog {
                        match item {
                            Backlogged::Answer { peer, sv, reply } => {
                                room.answer(&mut inner, peer, sv, reply);
                            }
                            Backlogged::Update {
                                peer,
                                update,
                                as_is,
                            } => {
                                if let Err(error) =
                                    room.apply_update(&mut inner, peer, update, as_is)
                                    && let Some(p) = inner.peers.get(&peer)
                                {
                                    p.link.close(error);
                                }
                            }
                        }
                    }
                }
                Err(error) => {
                    tracing::error!(room = %room.key, %error, "reloading the table failed; closing it");
                    inner.evicted = true;
                    for peer in inner.peers.values() {
                        peer.link.close(Reason::Internal("table unavailable"));
                    }
                }
            }
        });
    }
}

impl DurableSink for Room {
    fn durable(&self, seq: u64) {
        let mut inner = self.lock();
        inner.durability.durable(seq);
        // The version moves before anyone is sent what became durable: a
        // client that has seen an edit and then asks for an export must not
        // get one cached under the version before it.
        self.version.fetch_add(1, Ordering::Release);
        while let Some(delivery) = inner.durability.release() {
            dispatch(&mut inner.peers, delivery);
        }
        if inner.durability.relieved(MAX_UNFLUSHED_BYTES) && inner.reload_backlog.is_none() {
            // Writes were pushed back while storage lagged: every client
            // answers this with what the server lacks. (A reload under way
            // sends the same request when it ends.)
            let step1 = protocol::encode_sync_step1(inner.clocks.state_vector());
            send_all(&mut inner.peers, &step1, None);
        }
        drop(inner);
        // Once per commit batch, not per update: the plenary recomputes from here.
        self.notify();
    }

    fn failed(&self, error: &StoreError) {
        // The in-memory document is now ahead of storage. Close the table:
        // clients reconnect to a fresh load and re-send what is missing.
        let mut inner = self.lock();
        tracing::error!(room = %self.key, %error, "updates could not be stored; closing the table");
        inner.evicted = true;
        inner.durability.clear();
        // A table another node took over is not broken: its clients
        // reconnect and land on the new owner.
        let reason = match error {
            StoreError::NotOwner { .. } => Reason::Moved,
            _ => Reason::Internal("storage failure"),
        };
        for peer in inner.peers.values() {
            peer.link.close(reason.clone());
        }
    }
}

/// Applies a peer's awareness update; returns whether something changed
/// that the table must hear about at the next tick. What a peer may set is
/// [`Presence::admit`]'s to say; a viewer's presence is dropped
/// ([`policy::publishes_presence`]).
fn apply_awareness(
    inner: &mut RoomInner,
    peer: PeerId,
    mut update: AwarenessUpdate,
) -> Result<bool, Refusal> {
    if !policy::publishes_presence(peer_role(inner, peer)) {
        if inner.peers.contains_key(&peer) {
            METRICS.awareness_dropped("viewer");
        }
        return Ok(false);
    }
    inner
        .presence
        .admit(peer, &mut update.clients, |entry| entry.json.len())?;
    if update.clients.is_empty() {
        return Ok(false);
    }
    let summary = inner
        .awareness
        .apply_update_summary(update)
        .map_err(|e| Refusal::InvalidAwareness(e.to_string()))?;
    let Some(summary) = summary else {
        return Ok(false);
    };
    inner.presence.changed(summary.all_changes());
    Ok(true)
}

/// The role of a connection; one that has left counts as a viewer.
fn peer_role(inner: &RoomInner, peer: PeerId) -> Role {
    inner.peers.get(&peer).map_or(Role::Viewer, |p| p.role)
}

fn dispatch(peers: &mut HashMap<PeerId, Peer>, delivery: Delivery) {
    match delivery {
        Delivery::All { bytes, except } => send_all(peers, &bytes, except),
        Delivery::One { peer, bytes } => {
            if let Some(p) = peers.get_mut(&peer) {
                METRICS.deliveries.inc();
                METRICS.delivery_bytes.inc_by(bytes.len() as u64);
                send(p, bytes);
            }
        }
    }
}

/// The room's one fan-out point: every message to more than one peer leaves here.
fn send_all(peers: &mut HashMap<PeerId, Peer>, bytes: &Bytes, except: Option<PeerId>) {
    let mut sent = 0u64;
    for (id, peer) in peers.iter_mut() {
        if Some(*id) != except {
            send(peer, bytes.clone());
            sent += 1;
        }
    }
    METRICS.deliveries.inc_by(sent);
    METRICS.delivery_bytes.inc_by(sent * bytes.len() as u64);
}

/// Queues `bytes` for `peer`, or, while it lags, keeps them for its catch-up.
fn send(peer: &mut Peer, bytes: Bytes) {
    if peer.missed.is_lagging() {
        peer.missed.keep(bytes);
        return;
    }
    match peer.outbox.try_send(bytes) {
        Ok(()) => {}
        Err(mpsc::error::TrySendError::Full(bytes)) => {
            METRICS.outbox_overflows.inc();
            peer.missed.keep(bytes);
            peer.link.lagging.store(true, Ordering::Release);
        }
        // The connection is going away and will leave the room.
        Err(mpsc::error::TrySendError::Closed(_)) => {}
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding a room lock leaves in-memory state that storage
    // can rebuild; refusing all further work on the room would be worse.
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}
