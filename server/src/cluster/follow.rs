//! [`Follow`]: how a cluster node reads rooms another node owns (or nobody
//! does): from PostgreSQL, loaded as read-only copies, and loaded again
//! once their log position moved (`docs/scale-out.md`, Reads on any node).
//!
//! A room's position is its `tables.next_seq`, which every durable append
//! raises and nothing lowers, so "the position moved" is exactly "something
//! was stored since". One query reads every position of an event
//! ([`Leases::positions`]); a reader calls [`Follow::catch_up`] before it
//! reads (an HTTP read: once per request; the live summary: every
//! [`FOLLOW_INTERVAL`]), which takes the copies that went stale out of the
//! registry. A copy records the position read before it was loaded, so it
//! holds at least everything durable then; a copy loaded for a reader that
//! began earlier is noticed ([`Follow::is_current`]) and loaded again.
//!
//! Rooms this node owns are not followed: it serves them, every write goes
//! through them, and they are current by construction.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::store::RoomKey;
use crate::table::room::Room;
use crate::table::rooms::Rooms;

use super::{DirectoryError, Leases};

/// How often the live summary of a cluster node looks for rooms stored by
/// other nodes (one indexed query of the event's positions per interval).
/// With the summary's 150 ms debounce a note on another node reaches this
/// node's plenary within about half a second.
pub const FOLLOW_INTERVAL: Duration = Duration::from_millis(300);

/// The copies of other nodes' rooms and what they reflect; see the module docs.
pub struct Follow {
    leases: Arc<Leases>,
    rooms: Rooms,
    state: Arc<Mutex<Positions>>,
    /// Bumped after each catch-up that found rooms stored to elsewhere.
    generation: AtomicU64,
}

#[derive(Default)]
struct Positions {
    /// The latest position read of each stored room (by event, room name).
    known: HashMap<RoomKey, i64>,
    /// Per loaded copy: a position its content is at least as new as.
    loaded_at: HashMap<RoomKey, i64>,
}

impl Follow {
    pub fn new(leases: Arc<Leases>, rooms: Rooms) -> Self {
        Self {
            leases,
            rooms,
            state: Arc::default(),
            generation: AtomicU64::new(0),
        }
    }

    /// Whether `room` is read from a copy here (its lease is not this node's).
    pub fn follows(&self, room: &RoomKey) -> bool {
        !self.leases.holds(room)
    }

    /// Reads the positions of `event`'s rooms and drops every copy whose
    /// room was stored to since it was loaded; tells the summary when any
    /// followed room moved, loaded here or not. Returns how many moved.
    pub async fn catch_up(&self, event: &str) -> Result<usize, DirectoryError> {
        let positions = self.leases.positions(event).await?;
        let mut moved = Vec::new();
        {
            let mut state = self.lock();
            for (name, position) in positions {
                let key = RoomKey::new(event, &name);
                let before = state.known.insert(key.clone(), position);
                if before.is_none_or(|b| b < position) && self.follows(&key) {
                    moved.push(key);
                }
            }
        }
        if moved.is_empty() {
            return Ok(0);
        }
        tracing::debug!(?moved, "rooms stored to by other nodes");
        for key in &moved {
            if let Some(room) = self.rooms.get(key)
                && !self.is_current(&room)
                && room.peer_count() == 0
            {
                self.forget(&room);
            }
        }
        self.generation.fetch_add(1, Ordering::AcqRel);
        self.rooms.touch();
        Ok(moved.len())
    }

    /// How many catch-ups found rooms stored to elsewhere: what a reader
    /// computed before the last of them may be behind.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// The latest position read of `room` (`None`: not stored when last read).
    pub fn position(&self, room: &RoomKey) -> Option<i64> {
        self.lock().known.get(room).copied()
    }

    /// What loads a copy of `room` (the `init` of [`Rooms::get_or_load`]):
    /// it writes nothing, and records that the copy holds at least what was
    /// stored at the latest position read before the load began. It runs
    /// only in the reader that actually loads, after the store was read.
    pub fn loader(&self, room: &RoomKey) -> impl Fn(&yrs::Doc) -> bool + Clone + Send + 'static {
        let at = self.position(room).unwrap_or(0);
        let state = self.state.clone();
        let room = room.clone();
        move |_: &yrs::Doc| {
            tracing::debug!(room = %room, at, "a copy of another node's room loaded");
            lock(&state).loaded_at.insert(room.clone(), at);
            false
        }
    }

    /// Whether the copy `room` holds everything stored at the latest
    /// position read.
    pub fn is_current(&self, room: &Arc<Room>) -> bool {
        let state = self.lock();
        let key = room.key();
        let known = state.known.get(key).copied().unwrap_or(0);
        state.loaded_at.get(key).is_some_and(|at| *at >= known)
    }

    /// The store position the loaded copy of `room` holds at least.
    pub fn loaded_at(&self, room: &RoomKey) -> Option<i64> {
        self.lock().loaded_at.get(room).copied()
    }

    /// Drops the copy `room` (stale) so that the next read loads it again.
    pub fn forget(&self, room: &Arc<Room>) {
        if self.rooms.forget(room) {
            crate::metrics::METRICS.cluster_follow_reloads.inc();
            self.lock().loaded_at.remove(room.key());
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Positions> {
        lock(&self.state)
    }
}

fn lock(state: &Mutex<Positions>) -> std::sync::MutexGuard<'_, Positions> {
    // Each change is one map operation: a panic cannot leave it half-done.
    state.lock().unwrap_or_else(|e| e.into_inner())
}
