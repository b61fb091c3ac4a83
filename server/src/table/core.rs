//! `Table`: one work table as a synchronous state machine. It takes events
//! (a peer joins, leaves or sends a frame, storage reports a sequence number
//! durable, the clock ticks, a reload finished) with the time they happen,
//! and returns commands (persist this, send that, close that peer, reload).
//! It owns the document, presence and the parts of `table/`; it has no tokio,
//! no threads, no sockets and no clock of its own. The adapter around it
//! ([`super::room::Room`]) carries the commands out and alone knows
//! outboxes, the persistence worker and close codes.
//!
//! The data path of a client's update, in [`super::apply`]:
//! decode (the adapter) → policy → screen → apply → persist → deliver, and
//! every delivery that carries document content waits in [`Durability`]
//! until its sequence number is reported durable.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use werktafel_shared::control::{Control, read_control};
use yrs::sync::awareness::Awareness;
use yrs::{Doc, StateVector};

use super::cache::Cache;
use super::durability::Durability;
use super::policy::ReloadLimit;
use super::presence::{PeerId, Presence};
use super::reason::Reason;
use super::reload::{Backlogged, Guard, Rebuilt};
use crate::access::Role;
use crate::protocol::Incoming;
use crate::screen::{Clocks, Depths};
use crate::store::{RoomKey, StoreError};

/// What happens to a table. Each is handled at the `now` passed with it.
#[derive(Debug)]
pub enum Event<'a> {
    /// A connection joins with `role`: it is sent our sync step 1 and
    /// everyone's presence.
    Join { peer: PeerId, role: Role },
    /// A connection left; its presence goes with it.
    Leave { peer: PeerId },
    /// The messages of one frame from `peer`, decoded by the adapter;
    /// `frame` is the raw frame, forwarded as is when it is one update.
    Frame {
        peer: PeerId,
        frame: &'a Bytes,
        messages: Vec<Incoming>,
    },
    /// A lagging peer missed more than it may keep: send it what the
    /// document has beyond what it last declared.
    Resync { peer: PeerId },
    /// Every update up to `seq` is committed.
    Durable { seq: u64 },
    /// A commit with updates of this table failed: they are not durable.
    Failed,
    /// A commit with updates of this table failed because the store could
    /// not be reached (the database restarting, a cut network): they are
    /// not durable, and the clients are told to come back later.
    Unreachable,
    /// Another node took the table over (its lease moved): commits of it
    /// fail here from now on, and its clients belong on the new owner.
    Moved,
    /// The presence tick: gathered presence changes go out, states not
    /// renewed within [`presence::AWARENESS_TIMEOUT`] are removed.
    Tick,
    /// The rebuild from storage asked for by [`Command::Reload`].
    Reloaded(Result<Rebuilt, StoreError>),
}

/// What the adapter does for the table, in the order given.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Hand `update`, numbered `seq`, to the persistence worker.
    Persist { seq: u64, update: Bytes },
    /// Queue `bytes` for the peers in `to`: one shared `Bytes` for the whole
    /// fan-out, never a copy per peer.
    Send { to: To, bytes: Bytes },
    /// Close `peer`'s connection.
    Close { peer: PeerId, reason: Reason },
    /// Close every connection: the table is gone from memory.
    CloseAll(Reason),
    /// Rebuild the document from storage (after every update queued for
    /// it) and hand it back as [`Event::Reloaded`].
    Reload,
    /// The table's content or peers changed: move its version and wake
    /// whoever watches (the plenary), before any later `Send`.
    Changed,
}

/// Who a [`Command::Send`] is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum To {
    One(PeerId),
    All { except: Option<PeerId> },
}

/// A delivery held until its sequence number is durable.
pub(super) type Delivery = (To, Bytes);

/// The out-buffer of [`Table::handle`]; the adapter keeps one and reuses it,
/// so the hot path allocates nothing for it.
pub type Commands = Vec<Command>;

/// What a table is built from: the document as stored (with the meta
/// written if it was new) and its bookkeeping.
pub struct Loaded {
    pub doc: Doc,
    pub depths: Depths,
    /// Bytes of every update stored: what the size limit counts.
    pub stored_bytes: u64,
    /// The meta just written to a new table, to be stored.
    pub written: Option<Vec<u8>>,
}

pub struct Table {
    pub(super) key: RoomKey,
    pub(super) awareness: Awareness,
    /// Milliseconds since `origin` as of the last event: the only clock
    /// yrs' awareness reads (it stamps states with it).
    clock: Arc<AtomicU64>,
    origin: Instant,
    pub(super) peers: HashMap<PeerId, Peer>,
    /// Sequence numbers, and deliveries held until theirs is durable.
    pub(super) durability: Durability<Delivery>,
    /// Removed from memory; joins must look the table up again.
    pub(super) evicted: bool,
    /// When the last peer left.
    pub(super) empty_since: Option<Instant>,
    /// While a reload from storage is under way, what arrived meanwhile.
    pub(super) reload_backlog: Option<Vec<Backlogged>>,
    /// How the table is run, as last written to `control` by the server.
    pub(super) control: Control,
    /// Bytes of every update stored for this table (as loaded, plus every
    /// update since), and the most it may store.
    pub(super) stored_bytes: u64,
    pub(super) max_bytes: u64,
    pub(super) presence: Presence,
    /// Presence changed since the last tick.
    pub(super) presence_dirty: bool,
    pub(super) cache: Cache,
    pub(super) guard: Guard,
    pub(super) clocks: Clocks,
    pub(super) depths: Depths,
    pub(super) reloads: ReloadLimit,
}

/// The core's side of a peer.
pub(super) struct Peer {
    pub(super) role: Role,
    /// What the peer said it had in its last sync step 1. Resyncs are
    /// computed from here: never advanced on our own say-so, because a
    /// delivery we count as sent may be one that was dropped.
    pub(super) known_sv: StateVector,
    /// One of its writes was pushed back while storage lagged. Its later
    /// updates build on it, so they wait too (the server would see a hole
    /// in its clock) until its next sync step 2 brings them all.
    pub(super) pushed_back: bool,
}

impl Table {
    /// A table over `loaded`, at `now`, storing at most `max_bytes`. A meta
    /// written to a new table comes back as a [`Command::Persist`].
    pub fn new(
        key: RoomKey,
        loaded: Loaded,
        max_bytes: u64,
        now: Instant,
        out: &mut Commands,
    ) -> Self {
        let clock = Arc::new(AtomicU64::new(0));
        let ms = clock.clone();
        let doc = loaded.doc;
        let mut table = Table {
            key,
            control: read_control(&doc),
            guard: Guard::watch(&doc),
            clocks: Clocks::of(&doc),
            awareness: Awareness::with_clock(doc, move || ms.load(Ordering::Acquire)),
            clock,
            origin: now,
            peers: HashMap::new(),
            durability: Durability::default(),
            evicted: false,
            empty_since: Some(now),
            reload_backlog: None,
            stored_bytes: loaded.stored_bytes,
            max_bytes,
            presence: Presence::default(),
            presence_dirty: false,
            cache: Cache::default(),
            depths: loaded.depths,
            reloads: ReloadLimit::default(),
        };
        if let Some(update) = loaded.written {
            table.persist(Bytes::from(update), out);
        }
        table
    }

    /// Acts on `event` at `now`, appending what is to be done to `out`.
    pub fn handle(&mut self, event: Event<'_>, now: Instant, out: &mut Commands) {
        let ms = now.saturating_duration_since(self.origin).as_millis() as u64;
        self.clock.fetch_max(ms, Ordering::AcqRel);
        match event {
            Event::Join { peer, role } => self.join(peer, role, out),
            Event::Leave { peer } => self.leave(peer, now, out),
            Event::Frame {
                peer,
                frame,
                messages,
            } => self.frame(peer, frame, messages, now, out),
            Event::Resync { peer } => self.resync(peer, out),
            Event::Durable { seq } => self.durable(seq, out),
            Event::Failed => {
                // The in-memory document is now ahead of storage: clients
                // reconnect to a fresh load and send again what is missing.
                tracing::error!(room = %self.key, "updates could not be stored; closing the table");
                self.close_all(Reason::Internal("storage failure"), out);
            }
            Event::Unreachable => {
                // Nothing held is delivered (it is not durable); the clients
                // reconnect once the store is back and send it again.
                tracing::warn!(room = %self.key, "the store cannot be reached; closing the table");
                self.close_all(Reason::Unavailable, out);
            }
            Event::Moved => {
                // Not broken: the clients reconnect and land on the new owner.
                // Without clients this is a copy read before this node
                // claimed the table (or after it lost it): dropped quietly.
                if self.peers.is_empty() {
                    tracing::debug!(room = %self.key, "dropping a copy of a table whose lease changed");
                } else {
                    tracing::warn!(room = %self.key, "another node took the table over; closing it here");
                }
                self.close_all(Reason::Moved, out);
            }
            Event::Tick => self.tick(ms, out),
            Event::Reloaded(rebuilt) => self.reloaded(rebuilt, now, out),
        }
    }

    /// Drops what waits for storage and closes every peer: the table is
    /// evicted and loaded afresh by whoever comes next.
    fn close_all(&mut self, reason: Reason, out: &mut Commands) {
        self.evicted = true;
        self.durability.clear();
        out.push(Command::CloseAll(reason));
    }

    /// Marks the table evicted if it has had no peers for `grace` at `now`
    /// and has nothing waiting to be committed.
    pub fn try_evict(&mut self, grace: Duration, now: Instant) -> bool {
        let idle = self
            .empty_since
            .is_some_and(|t| now.saturating_duration_since(t) >= grace);
        if idle && self.peers.is_empty() && self.durability.settled() {
            self.evicted = true;
        }
        self.evicted
    }

    pub fn is_evicted(&self) -> bool {
        self.evicted
    }

    pub fn peer_count(&self) -> usize {
        self.peers.len()
    }

    /// How the table is run now.
    pub fn control(&self) -> &Control {
        &self.control
    }

    pub fn doc(&self) -> &Doc {
        self.awareness.doc()
    }

    /// The awareness states, for tests and the fuzz harness.
    pub fn awareness(&self) -> &Awareness {
        &self.awareness
    }

    /// Bytes of updates waiting for storage.
    pub fn unflushed_bytes(&self) -> usize {
        self.durability.unflushed_bytes()
    }

    /// Bytes of deliveries held until durable.
    pub fn held_bytes(&self) -> usize {
        self.durability.held_bytes()
    }

    /// The sequence number of the last update applied to the document.
    pub fn applied(&self) -> u64 {
        self.durability.applied()
    }

    /// Updates waiting for a reload to end, each of which will be persisted.
    pub fn backlogged_updates(&self) -> usize {
        self.reload_backlog.as_ref().map_or(0, |backlog| {
            backlog
                .iter()
                .filter(|b| matches!(b, Backlogged::Update { .. }))
                .count()
        })
    }

    /// The role of a connection; one that has left counts as a viewer.
    pub(super) fn role(&self, peer: PeerId) -> Role {
        self.peers.get(&peer).map_or(Role::Viewer, |p| p.role)
    }

    /// Queues an update for commit and returns its sequence number.
    pub(super) fn persist(&mut self, update: Bytes, out: &mut Commands) -> u64 {
        let seq = self.durability.next_seq(update.len());
        self.stored_bytes += update.len() as u64;
        out.push(Command::Persist { seq, update });
        seq
    }

    /// Delivers now if `seq` is durable, else holds the delivery until it is.
    pub(super) fn deliver(&mut self, seq: u64, to: To, bytes: Bytes, out: &mut Commands) {
        let len = bytes.len();
        if let Some((to, bytes)) = self.durability.hold(seq, len, (to, bytes)) {
            out.push(Command::Send { to, bytes });
        }
    }

    pub(super) fn evict(&mut self) {
        self.evicted = true;
    }
}

pub(super) fn send_one(peer: PeerId, bytes: Bytes) -> Command {
    Command::Send {
        to: To::One(peer),
        bytes,
    }
}

pub(super) fn send_all(bytes: Bytes, except: Option<PeerId>) -> Command {
    Command::Send {
        to: To::All { except },
        bytes,
    }
}
