//! The hostile-input harness: raw WebSocket frames from several peers run
//! through exactly the production path (`protocol::decode_frame`, then
//! `Room::handle`) of a real [`Room`] over the real [`Persister`], on a
//! [`MemoryStore`], and every invariant that makes the server trustworthy is
//! checked afterwards. The fuzz target (`fuzz/`), the corpus replay and the
//! mutation tests (`server/tests/fuzz.rs`) all drive this one harness.
//!
//! An input is a sequence of steps, each `[header, len_lo, len_hi, frame…]`
//! (the last step may be cut short). The header picks the peer
//! (`header & 0x0f`, modulo [`PEERS`]) and asks for extra events
//! ([`SETTLE`], [`RECONNECT`], [`RESYNC`]) so that the fuzzer reaches the
//! reload backlog, leaving and rejoining, and resyncs as well as plain
//! message handling.
//!
//! Invariants (a broken one is a [`Violation`]; a panic is a bug too):
//! - the document rebuilt from everything the store holds equals the room's
//!   document (state vector, delete set, pending updates, every root's
//!   content): what the room acts on is exactly what is durable;
//! - every message a peer receives decodes as y-protocol, and every update
//!   in it is already in the store when the peer can read it;
//! - the room's document survives its own encoding (encode, decode, equal);
//! - the room never closes itself (storage could not be rebuilt) and any
//!   reload it starts finishes.
//!
//! A refused frame is not a violation: the connection would close, so the
//! harness drops that peer and joins a fresh one in its place.

mod seeds;

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;

use bytes::Bytes;
use tokio::runtime::Runtime;
use tokio::sync::{mpsc, watch};
use tokio_util::task::TaskTracker;
use werktafel_shared::control::SERVER_ONLY;
use werktafel_shared::event::{Event, TableDef};
use werktafel_shared::schema;
use yrs::updates::decoder::Decode;
use yrs::{ClientID, Doc, IdSet, ReadTxn, Snapshot, StateVector, Transact, Update};

pub use seeds::{seed_inputs, seed_messages};

use crate::access::Role;
use crate::memory_store::MemoryStore;
use crate::persist::{PersistWorker, Persister};
use crate::protocol::{self, Incoming};
use crate::store::{RoomKey, Store, StoreError, build_doc};
use crate::table::peer::{CatchUp, PeerLink};
use crate::table::presence::PeerId;
use crate::table::room::{Room, RoomServices};

/// How many peers are joined to the room.
pub const PEERS: usize = 3;
/// Header flag: after this frame, let the persistence worker and any reload
/// finish before the next frame (without it, frames race the reload).
pub const SETTLE: u8 = 0x80;
/// Header flag: before this frame, the peer leaves and a new connection
/// joins in its place.
pub const RECONNECT: u8 = 0x40;
/// Header flag: after this frame, the peer is resynced as a lagging one.
pub const RESYNC: u8 = 0x20;

/// Small, so that multi-message frames overflow it and reach the
/// lagging-peer path.
const OUTBOX_CAPACITY: usize = 16;
/// Small too, so that a lagging peer sometimes misses more than it may keep
/// and is resynced from the document instead of caught up.
const CATCH_UP_BYTES: usize = 4096;
/// Far below production's, so that inputs of a few kilobytes can fill a table.
const MAX_DOCUMENT_BYTES: u64 = 32 * 1024;
/// How many rounds a settle waits for spawned work before calling it stuck.
const SETTLE_ROUNDS: usize = 10_000;

/// One frame of an input, with the peer that sends it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub peer: u8,
    /// [`SETTLE`], [`RECONNECT`], [`RESYNC`], or'ed together.
    pub flags: u8,
    pub frame: Vec<u8>,
}

impl Step {
    pub fn new(peer: u8, frame: impl Into<Vec<u8>>) -> Step {
        Step {
            peer,
            flags: 0,
            frame: frame.into(),
        }
    }

    pub fn with(mut self, flags: u8) -> Step {
        self.flags |= flags;
        self
    }
}

/// Encodes steps as one harness input (what the fuzzer's corpus holds).
pub fn encode_steps(steps: &[Step]) -> Vec<u8> {
    let mut out = Vec::new();
    for step in steps {
        let len = u16::try_from(step.frame.len()).unwrap_or(u16::MAX);
        out.push((step.peer & 0x0f) | (step.flags & 0xf0));
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&step.frame[..usize::from(len)]);
    }
    out
}

/// Splits a harness input into steps; never fails, whatever the bytes.
pub fn decode_steps(input: &[u8]) -> Vec<Step> {
    let mut steps = Vec::new();
    let mut rest = input;
    while let Some((&header, tail)) = rest.split_first() {
        let (len, tail) = match tail {
            [lo, hi, tail @ ..] => (usize::from(u16::from_le_bytes([*lo, *hi])), tail),
            _ => (tail.len(), &[][..]),
        };
        let (frame, tail) = tail.split_at(len.min(tail.len()));
        steps.push(Step {
            peer: header & 0x0f,
            flags: header & 0xf0,
            frame: frame.to_vec(),
        });
        rest = tail;
    }
    steps
}

/// What one input did, so tests can tell that they reached the room at all.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Outcome {
    pub frames: usize,
    /// Frames that decoded and the room accepted.
    pub accepted: usize,
    /// Frames refused by the decoder.
    pub undecodable: usize,
    /// Frames that decoded but the room refused.
    pub refused: usize,
}

/// A broken invariant. Each says what differed, for the bug report.
#[derive(Debug, thiserror::Error)]
pub enum Violation {
    #[error("the room's document differs from what is durable: {0}")]
    NotDurable(String),
    #[error("peer {peer} received a message that is not valid y-protocol ({error}): {bytes:?}")]
    BadOutgoing {
        peer: PeerId,
        error: String,
        bytes: Vec<u8>,
    },
    #[error("peer {peer} received an update that is not durable yet ({what}): {update:?}")]
    Leaked {
        peer: PeerId,
        what: String,
        update: Vec<u8>,
    },
    #[error("the room's document does not survive its own encoding: {0}")]
    RoundTrip(String),
    #[error("storage cannot be read back: {0}")]
    Storage(#[from] StoreError),
    #[error("the room closed itself (its storage could not be rebuilt)")]
    RoomClosed,
    #[error("spawned room work did not finish")]
    Stuck,
}

/// A real room with [`PEERS`] participants, its persistence worker and store.
pub struct Harness {
    runtime: Runtime,
    store: MemoryStore,
    persister: Persister,
    worker: Option<PersistWorker>,
    changes: watch::Sender<u64>,
    event: Arc<Event>,
    table: TableDef,
    rooms_made: u64,
    next_peer: PeerId,
    room: Arc<Room>,
    peers: Vec<Peer>,
}

struct Peer {
    id: PeerId,
    link: Arc<PeerLink>,
    outbox: mpsc::Receiver<Bytes>,
}

impl Harness {
    /// A harness with a fresh room for the built-in event's first table.
    ///
    /// # Panics
    /// If the runtime cannot start or the fresh room cannot load: the
    /// harness is test tooling and there is nothing to test without them.
    pub fn new() -> Harness {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("starting a tokio runtime");
        let store = MemoryStore::new();
        let (persister, worker) =
            Persister::start(store.clone()).expect("a memory store always reopens");
        let event = Event::builtin();
        let table = event.tables[0].clone();
        let changes = watch::Sender::new(0);
        let room = load_room(
            &runtime,
            RoomKey::new("fuzz", "t0"),
            &persister,
            &changes,
            &event,
            &table,
        );
        let mut harness = Harness {
            runtime,
            store,
            persister,
            worker: Some(worker),
            changes,
            event: Arc::new(event),
            table,
            rooms_made: 1,
            next_peer: 1,
            room,
            peers: Vec::new(),
        };
        for _ in 0..PEERS {
            let peer = harness.join();
            harness.peers.push(peer);
        }
        harness
    }

    /// Replaces the room with a fresh one (its storage forgotten) and fresh
    /// peers, so the next input starts from a clean table.
    pub fn reset(&mut self) {
        for peer in std::mem::take(&mut self.peers) {
            self.room.leave(peer.id);
        }
        // Nothing of the old room may still be on its way to the store.
        let _ = self.settle();
        self.store.forget(self.room.key());
        let key = RoomKey::new("fuzz", &format!("t{}", self.rooms_made));
        self.rooms_made += 1;
        self.room = load_room(
            &self.runtime,
            key,
            &self.persister,
            &self.changes,
            &self.event,
            &self.table,
        );
        for _ in 0..PEERS {
            let peer = self.join();
            self.peers.push(peer);
        }
    }

    /// Runs every step of `input` through the room, then checks the invariants.
    pub fn feed(&mut self, input: &[u8]) -> Result<Outcome, Violation> {
        let mut outcome = Outcome::default();
        for step in decode_steps(input) {
            self.step(&step, &mut outcome)?;
        }
        self.settle()?;
        self.drain()?;
        self.check()?;
        // Every peer leaves (and a fresh one joins in its place), so what
        // leaving does with what this input announced (awareness states
        // removed) is part of this input, not of the next one's reset.
        for slot in 0..PEERS {
            self.reconnect(slot);
        }
        self.drain()?;
        Ok(outcome)
    }

    /// The room under test, e.g. to read its document.
    pub fn room(&self) -> &Arc<Room> {
        &self.room
    }

    fn step(&mut self, step: &Step, outcome: &mut Outcome) -> Result<(), Violation> {
        let slot = usize::from(step.peer) % PEERS;
        if step.flags & RECONNECT != 0 {
            self.reconnect(slot);
        }
        outcome.frames += 1;
        let frame = Bytes::copy_from_slice(&step.frame);
        let id = self.peers[slot].id;
        let refused = {
            // `Room::handle` spawns its reload on the ambient runtime, as it
            // would inside a connection's task.
            let _runtime = self.runtime.enter();
            match protocol::decode_frame(&frame, crate::Limits::default().max_message_bytes) {
                Err(_) => {
                    outcome.undecodable += 1;
                    true
                }
                Ok(messages) => match self
                    .runtime
                    .block_on(self.room.handle(id, &frame, messages))
                {
                    Ok(()) => {
                        outcome.accepted += 1;
                        false
                    }
                    Err(_) => {
                        outcome.refused += 1;
                        true
                    }
                },
            }
        };
        if refused {
            // The connection closes and the client comes back.
            self.reconnect(slot);
        } else if step.flags & RESYNC != 0 {
            self.room.resync(id);
        }
        if step.flags & SETTLE != 0 {
            self.settle()?;
        } else {
            self.commit();
        }
        self.drain()
    }

    fn join(&mut self) -> Peer {
        let id = self.next_peer;
        self.next_peer += 1;
        let (tx, outbox) = mpsc::channel(OUTBOX_CAPACITY);
        let link = PeerLink::new(CATCH_UP_BYTES);
        // A fresh room is never evicted: nothing here evicts.
        let _ = self.room.join(id, tx, link.clone(), Role::Participant);
        Peer { id, link, outbox }
    }

    fn reconnect(&mut self, slot: usize) {
        self.room.leave(self.peers[slot].id);
        self.peers[slot] = self.join();
    }

    /// Lets the persistence worker commit everything queued and any reload
    /// the room spawned run to its end, then commits what that queued.
    fn settle(&self) -> Result<(), Violation> {
        let persister = self.persister.clone();
        let handle = self.runtime.handle().clone();
        self.runtime.block_on(async move {
            for _ in 0..SETTLE_ROUNDS {
                tokio::task::yield_now().await;
                let idle = handle.metrics().num_alive_tasks() == 0;
                persister.flush().await;
                if idle {
                    return Ok(());
                }
            }
            Err(Violation::Stuck)
        })
    }

    /// Waits until the persistence worker has committed everything queued,
    /// without running the runtime's tasks: a reload the room spawned stays
    /// unstarted until the next settle. Committing at fixed points makes an
    /// input's outcome the same on every run, which the worker thread's own
    /// timing would not.
    fn commit(&self) {
        struct Unpark(std::thread::Thread);
        impl std::task::Wake for Unpark {
            fn wake(self: Arc<Self>) {
                self.0.unpark();
            }
        }
        let waker = std::task::Waker::from(Arc::new(Unpark(std::thread::current())));
        let mut cx = std::task::Context::from_waker(&waker);
        let mut flush = std::pin::pin!(self.persister.flush());
        while flush.as_mut().poll(&mut cx).is_pending() {
            std::thread::park();
        }
    }

    /// Empties every outbox as the connections' writers would, checking
    /// each message; resyncs peers that overflowed and rejoins peers the
    /// room closed.
    fn drain(&mut self) -> Result<(), Violation> {
        if self.room.is_evicted() {
            return Err(Violation::RoomClosed);
        }
        let mut delivered: Vec<(PeerId, Bytes)> = Vec::new();
        for slot in 0..PEERS {
            let peer = &mut self.peers[slot];
            let id = peer.id;
            let mut frames = Vec::new();
            while let Ok(bytes) = peer.outbox.try_recv() {
                frames.push(bytes);
            }
            if peer.link.closed().is_cancelled() {
                self.reconnect(slot);
            } else {
                // What a lagging peer missed, as its writer would send it; a
                // resync refused for now (one too recent) comes at a later drain.
                while peer.link.is_lagging() {
                    match self.room.catch_up(id) {
                        CatchUp::Send(missed) => frames.extend(missed),
                        CatchUp::Done | CatchUp::RetryAt(_) => break,
                    }
                }
                while let Ok(bytes) = peer.outbox.try_recv() {
                    frames.push(bytes);
                }
            }
            for bytes in frames {
                let messages = protocol::decode_frame(&bytes, usize::MAX).map_err(|e| {
                    Violation::BadOutgoing {
                        peer: id,
                        error: e.to_string(),
                        bytes: bytes.to_vec(),
                    }
                })?;
                for message in messages {
                    if let Incoming::Update(update) | Incoming::SyncStep2(update) = message {
                        delivered.push((id, update));
                    }
                }
            }
        }
        if delivered.is_empty() {
            return Ok(());
        }
        // Whatever a peer can read must already be in the store: applying it
        // to the durable document changes nothing.
        let durable = self.durable_doc()?;
        let before = fingerprint(&durable);
        for (peer, update) in delivered {
            let decoded = Update::decode_v1(&update).map_err(|e| Violation::BadOutgoing {
                peer,
                error: e.to_string(),
                bytes: update.to_vec(),
            })?;
            let applied = durable.transact_mut().apply_update(decoded);
            let after = fingerprint(&durable);
            if applied.is_err() || after != before {
                return Err(Violation::Leaked {
                    peer,
                    what: match applied {
                        Err(e) => format!("the durable document refuses it: {e}"),
                        Ok(()) => differences(&before, "with it", &after),
                    },
                    update: update.to_vec(),
                });
            }
        }
        Ok(())
    }

    fn check(&self) -> Result<(), Violation> {
        let durable = describe(&self.durable_doc()?);
        let live = self.room.read(describe);
        if live != durable {
            return Err(Violation::NotDurable(differences(&live, "store", &durable)));
        }
        let encoded = self.room.read(|doc| {
            doc.transact()
                .encode_state_as_update_v1(&StateVector::default())
        });
        let copy = Update::decode_v1(&encoded)
            .map_err(|e| Violation::RoundTrip(e.to_string()))
            .and_then(|update| {
                let doc = Doc::new();
                doc.transact_mut()
                    .apply_update(update)
                    .map_err(|e| Violation::RoundTrip(e.to_string()))?;
                Ok(doc)
            })?;
        ensure_server_maps(&copy);
        let copy = describe(&copy);
        if copy != live {
            return Err(Violation::RoundTrip(differences(&live, "copy", &copy)));
        }
        Ok(())
    }

    /// The document as a fresh load from the store would build it.
    fn durable_doc(&self) -> Result<Doc, Violation> {
        let stored = self.store.clone().load(self.room.key())?;
        let doc = build_doc(self.room.key(), stored.updates.iter().map(Vec::as_slice))?;
        ensure_server_maps(&doc);
        Ok(doc)
    }
}

impl Default for Harness {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        self.runtime.block_on(self.persister.stop());
        if let Some(worker) = self.worker.take() {
            worker.join();
        }
    }
}

fn load_room(
    runtime: &Runtime,
    key: RoomKey,
    persister: &Persister,
    changes: &watch::Sender<u64>,
    event: &Event,
    table: &TableDef,
) -> Arc<Room> {
    let (event, table) = (event.clone(), table.clone());
    runtime
        .block_on(Room::load(
            key,
            RoomServices {
                persister: persister.clone(),
                changes: changes.clone(),
                // Reloads still run on the harness's runtime, which `settle`
                // watches; nothing here waits on the tracker itself.
                tasks: TaskTracker::new(),
            },
            MAX_DOCUMENT_BYTES,
            move |doc| schema::ensure_meta(doc, &event, &table),
        ))
        .expect("loading a fresh room from memory")
}

/// The room creates the server-only maps to watch them; a document built
/// from storage gets them the same way, so that both list the same roots.
fn ensure_server_maps(doc: &Doc) {
    for name in SERVER_ONLY {
        doc.get_or_insert_map(name);
    }
}

/// What two documents must agree on to be the same document.
#[derive(Debug, PartialEq)]
struct Described {
    /// The state vector without clients at clock 0: yrs may list a client
    /// it only knows from a pending update, which means the same as not
    /// listing it.
    state: BTreeMap<ClientID, u32>,
    deleted: IdSet,
    missing_updates: bool,
    /// Every root's content as JSON.
    roots: BTreeMap<String, serde_json::Value>,
}

/// [`Described`] without the roots' content, for the check after every
/// step: an update that adds or deletes anything moves the state vector or
/// the delete set, so content cannot change while these stay equal.
fn fingerprint(doc: &Doc) -> Described {
    describe_with(doc, false)
}

fn describe(doc: &Doc) -> Described {
    describe_with(doc, true)
}

fn describe_with(doc: &Doc, content: bool) -> Described {
    let txn = doc.transact();
    // A root nobody has typed yet (only named by an update, perhaps a
    // pending one) reads as null whatever it holds; its content is compared
    // through the state vector, and whether the name is listed at all
    // depends on how the document was built, so it is left out.
    let roots = txn
        .root_refs()
        .filter(|_| content)
        .map(|(name, out)| {
            let any = yrs::types::ToJson::to_json(&out, &txn);
            let json = serde_json::to_value(&any)
                .unwrap_or_else(|e| serde_json::Value::String(format!("{any:?} ({e})")));
            (name.to_string(), json)
        })
        .filter(|(_, json)| !json.is_null())
        .collect();
    let Snapshot {
        delete_set,
        state_map,
    } = txn.snapshot();
    Described {
        state: state_map
            .iter()
            .filter(|(_, clock)| **clock > 0)
            .map(|(client, clock)| (*client, *clock))
            .collect(),
        deleted: delete_set,
        missing_updates: txn.has_missing_updates(),
        roots,
    }
}

/// The fields in which `other` differs from the room's document `live`.
fn differences(live: &Described, name: &str, other: &Described) -> String {
    let mut out = Vec::new();
    if live.state != other.state {
        out.push(format!(
            "state vector: room {:?}, {name} {:?}",
            live.state, other.state
        ));
    }
    if live.deleted != other.deleted {
        out.push(format!(
            "delete set: room {:?}, {name} {:?}",
            live.deleted, other.deleted
        ));
    }
    if live.missing_updates != other.missing_updates {
        out.push(format!(
            "pending updates: room {}, {name} {}",
            live.missing_updates, other.missing_updates
        ));
    }
    let names: std::collections::BTreeSet<&String> =
        live.roots.keys().chain(other.roots.keys()).collect();
    for root in names {
        let (a, b) = (live.roots.get(root), other.roots.get(root));
        if a != b {
            out.push(format!("root {root:?}: room {a:?}, {name} {b:?}"));
        }
    }
    out.join("; ")
}
