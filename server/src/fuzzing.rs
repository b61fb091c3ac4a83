//! The hostile-input harness: raw WebSocket frames from several peers run
//! through the production path (`protocol::decode_frame`, then
//! [`Table::handle`]) of a table's core, driven directly: no runtime, no
//! threads, a fake clock. The harness plays every adapter: it stores what
//! the table asks to persist and reports it durable at fixed points, checks
//! every delivery the moment the table hands it out, and rebuilds the
//! document from what it stored when the table asks for a reload. The fuzz
//! target (`fuzz/`), the corpus replay and the mutation tests
//! (`server/tests/fuzz.rs`) all drive this one harness.
//!
//! An input is a sequence of steps, each `[header, len_lo, len_hi, frame…]`
//! (the last step may be cut short). The header picks the peer
//! (`header & 0x0f`, modulo [`PEERS`]) and asks for extra events
//! ([`SETTLE`], [`RECONNECT`], [`RESYNC`], [`LATER`]) so that the fuzzer
//! reaches the reload backlog, leaving and rejoining, resyncs and the
//! clock's rules (presence expiry, the reload limit) as well as plain
//! message handling.
//!
//! Invariants (a broken one is a [`Violation`]; a panic is a bug too):
//! - the document rebuilt from everything stored equals the table's
//!   document (state vector, delete set, pending updates, every root's
//!   content): what the table acts on is exactly what is durable;
//! - nothing is delivered before it is durable: every message the table
//!   sends decodes as y-protocol, and every update in it is already stored
//!   and reported durable when the table sends it; updates are persisted
//!   in sequence order;
//! - presence: no more live states than the connected peers may own
//!   ([`MAX_AWARENESS_CLIENTS`] each), and none left once every peer left;
//! - the table's document survives its own encoding (encode, decode, equal);
//! - the table never closes itself (storage could not be rebuilt) and any
//!   reload it asks for ends.
//!
//! A refused frame is not a violation: the connection would close, so the
//! harness drops that peer and joins a fresh one in its place.
//!
//! Its parts in `fuzzing/`: the input format (`steps`), the checks of
//! every delivery and of the invariants (`checks`), the document
//! comparisons (`describe`), the report and the seeds; here the harness
//! itself, which plays every adapter of the table.

mod checks;
mod describe;
mod report;
mod seeds;
mod steps;

use std::time::{Duration, Instant};

use bytes::Bytes;
use werktafel_shared::event::Event as EventDef;
use werktafel_shared::schema;
use yrs::updates::decoder::Decode;
use yrs::{Doc, ReadTxn, Transact, Update};

pub use report::{Outcome, Violation};
pub use seeds::{seed_inputs, seed_messages};
pub use steps::{Step, decode_steps, encode_steps};

use describe::ensure_server_maps;

use crate::access::Role;
use crate::protocol;
use crate::screen::Depths;
use crate::store::RoomKey;
use crate::table::presence::{AWARENESS_TIMEOUT, MAX_AWARENESS_CLIENTS, PeerId};
use crate::table::reason::Reason;
use crate::table::reload::Rebuilt;
use crate::table::{Command, Commands, Event, Loaded, Table, To};

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
/// Header flag: before this frame, the clock moves past the presence
/// timeout (and the reload limit) and the table ticks.
pub const LATER: u8 = 0x10;

/// Far below production's, so that inputs of a few kilobytes can fill a table.
const MAX_DOCUMENT_BYTES: u64 = 32 * 1024;
/// How many reloads in a row a settle runs before calling the table stuck.
const SETTLE_ROUNDS: usize = 100;
/// How far the clock moves with each step.
const STEP_TIME: Duration = Duration::from_millis(10);

/// A table's core with [`PEERS`] participants, and the harness's stand-ins
/// for its adapters: storage, the durable reports, the clock.
pub struct Harness {
    event: EventDef,
    key: RoomKey,
    tables_made: usize,
    table: Table,
    /// The fake clock: moves by [`STEP_TIME`] per step, more with [`LATER`].
    now: Instant,
    next_peer: PeerId,
    peers: [PeerId; PEERS],
    /// Everything stored for the table, in order: what a reload rebuilds from.
    stored: Vec<Vec<u8>>,
    /// The document of `stored`, kept up to date: what deliveries are
    /// checked against.
    durable: Doc,
    /// Asked to persist, not stored yet.
    queued: Vec<(u64, Bytes)>,
    last_seq: u64,
    reload_asked: bool,
    /// Peers the table closed, to be replaced.
    closed: Vec<PeerId>,
    /// Set when the table closed itself.
    room_closed: bool,
    /// The first violation seen while carrying out commands.
    violation: Option<Violation>,
}

impl Harness {
    /// A harness with a fresh table for the built-in event's first table.
    pub fn new() -> Harness {
        let start = Instant::now();
        let mut harness = Harness {
            event: EventDef::builtin(),
            key: RoomKey::new("fuzz", "t0"),
            tables_made: 0,
            table: fresh_table(RoomKey::new("fuzz", "t0"), &EventDef::builtin(), start).0,
            now: start,
            next_peer: 1,
            peers: [0; PEERS],
            stored: Vec::new(),
            durable: Doc::new(),
            queued: Vec::new(),
            last_seq: 0,
            reload_asked: false,
            closed: Vec::new(),
            room_closed: false,
            violation: None,
        };
        harness.reset();
        harness
    }

    /// Replaces the table with a fresh one (nothing stored) and fresh
    /// peers, so the next input starts from a clean table.
    pub fn reset(&mut self) {
        self.tables_made += 1;
        self.key = RoomKey::new("fuzz", &format!("t{}", self.tables_made));
        let (table, out) = fresh_table(self.key.clone(), &self.event, self.now);
        self.table = table;
        self.stored.clear();
        self.durable = Doc::new();
        ensure_server_maps(&self.durable);
        self.queued.clear();
        self.last_seq = 0;
        self.reload_asked = false;
        self.closed.clear();
        self.room_closed = false;
        self.violation = None;
        self.carry_out(out, None);
        self.commit();
        for slot in 0..PEERS {
            self.peers[slot] = self.join();
        }
    }

    /// Runs every step of `input` through the table, then checks the invariants.
    pub fn feed(&mut self, input: &[u8]) -> Result<Outcome, Violation> {
        let mut outcome = Outcome::default();
        for step in decode_steps(input) {
            self.step(&step, &mut outcome)?;
        }
        self.settle()?;
        self.check()?;
        // Every peer leaves (and a fresh one joins in its place), so what
        // leaving does with what this input announced (presence removed) is
        // part of this input, not of the next one's reset.
        for slot in 0..PEERS {
            self.reconnect(slot);
        }
        self.tick();
        self.verdict()?;
        let live = self.live_presences();
        if live > 0 {
            return Err(Violation::Presence(format!(
                "{live} states left after every peer left"
            )));
        }
        Ok(outcome)
    }

    /// The table under test, e.g. to read its document.
    pub fn table(&self) -> &Table {
        &self.table
    }

    fn step(&mut self, step: &Step, outcome: &mut Outcome) -> Result<(), Violation> {
        let slot = usize::from(step.peer) % PEERS;
        if step.flags & RECONNECT != 0 {
            self.reconnect(slot);
        }
        self.now += STEP_TIME;
        if step.flags & LATER != 0 {
            self.now += AWARENESS_TIMEOUT + Duration::from_secs(1);
            self.tick();
        }
        outcome.frames += 1;
        let frame = Bytes::copy_from_slice(&step.frame);
        let peer = self.peers[slot];
        match protocol::decode_frame(&frame, crate::Limits::default().max_message_bytes) {
            Err(_) => {
                outcome.undecodable += 1;
                // The connection closes and the client comes back.
                self.reconnect(slot);
            }
            Ok(messages) => {
                let event = Event::Frame {
                    peer,
                    frame: &frame,
                    messages,
                };
                let mut out = Commands::new();
                self.table.handle(event, self.now, &mut out);
                if self.carry_out(out, Some(peer)) {
                    outcome.refused += 1;
                } else {
                    outcome.accepted += 1;
                    if step.flags & RESYNC != 0 {
                        self.run(Event::Resync { peer });
                    }
                }
            }
        }
        if step.flags & SETTLE != 0 {
            self.settle()?;
        } else {
            self.commit();
        }
        self.tick();
        self.replace_closed();
        self.verdict()?;
        let live = self.live_presences();
        if live > PEERS * MAX_AWARENESS_CLIENTS {
            return Err(Violation::Presence(format!(
                "{live} live states for {PEERS} peers"
            )));
        }
        Ok(())
    }

    fn join(&mut self) -> PeerId {
        let peer = self.next_peer;
        self.next_peer += 1;
        let role = Role::Participant;
        self.run(Event::Join { peer, role });
        peer
    }

    fn reconnect(&mut self, slot: usize) {
        let peer = self.peers[slot];
        self.run(Event::Leave { peer });
        self.peers[slot] = self.join();
    }

    fn replace_closed(&mut self) {
        for peer in std::mem::take(&mut self.closed) {
            if let Some(slot) = self.peers.iter().position(|p| *p == peer) {
                self.reconnect(slot);
            }
        }
    }

    fn tick(&mut self) {
        self.run(Event::Tick);
    }

    fn run(&mut self, event: Event<'_>) {
        let mut out = Commands::new();
        self.table.handle(event, self.now, &mut out);
        self.carry_out(out, None);
    }

    /// Does what the table asks, as the adapters would; whether `sender`'s
    /// frame was refused.
    fn carry_out(&mut self, out: Commands, sender: Option<PeerId>) -> bool {
        let mut refused = false;
        for command in out {
            match command {
                Command::Persist { seq, update } => {
                    if seq != self.last_seq + 1 {
                        self.note(Violation::OutOfOrder {
                            last: self.last_seq,
                            got: seq,
                        });
                    }
                    self.last_seq = seq;
                    self.queued.push((seq, update));
                }
                Command::Send { to, bytes } => {
                    let peer = match to {
                        To::One(peer) => peer,
                        To::All { except } => except.unwrap_or(0),
                    };
                    if let Err(violation) = self.delivered(peer, &bytes) {
                        self.note(violation);
                    }
                }
                Command::Close { peer, reason } => {
                    refused |= Some(peer) == sender && matches!(reason, Reason::Refused(_));
                    self.closed.push(peer);
                }
                Command::CloseAll(_) => self.room_closed = true,
                Command::Reload => self.reload_asked = true,
                Command::Changed => {}
            }
        }
        refused
    }

    fn note(&mut self, violation: Violation) {
        self.violation.get_or_insert(violation);
    }

    fn verdict(&mut self) -> Result<(), Violation> {
        if let Some(violation) = self.violation.take() {
            return Err(violation);
        }
        if self.room_closed {
            return Err(Violation::RoomClosed);
        }
        Ok(())
    }

    /// Stores everything queued, in order, and reports it durable.
    fn commit(&mut self) {
        let Some(&(last, _)) = self.queued.last() else {
            return;
        };
        for (_, update) in std::mem::take(&mut self.queued) {
            if let Ok(decoded) = Update::decode_v1(&update) {
                // What does not apply shows in `check` (a fresh build).
                let _ = self.durable.transact_mut().apply_update(decoded);
            }
            self.stored.push(update.to_vec());
        }
        self.run(Event::Durable { seq: last });
    }

    /// Commits, then runs every reload the table asked for (each rebuilt
    /// from what is stored, after everything queued before it).
    fn settle(&mut self) -> Result<(), Violation> {
        self.commit();
        for _ in 0..SETTLE_ROUNDS {
            if !std::mem::take(&mut self.reload_asked) {
                return Ok(());
            }
            let rebuilt = Rebuilt::from_stored(&self.key, &self.stored);
            self.run(Event::Reloaded(rebuilt));
            self.commit();
        }
        Err(Violation::Stuck)
    }
}

impl Default for Harness {
    fn default() -> Self {
        Self::new()
    }
}

/// A table for the event's first table, as a fresh load builds it (its meta
/// written), and the commands that came with it (the meta to persist).
fn fresh_table(key: RoomKey, event: &EventDef, now: Instant) -> (Table, Commands) {
    let def = &event.tables[0];
    let doc = Doc::new();
    let before = doc.transact().state_vector();
    let written = schema::ensure_meta(&doc, event, def)
        .then(|| doc.transact().encode_state_as_update_v1(&before));
    let depths = Depths::rebuild(written.as_deref());
    let loaded = Loaded {
        doc,
        depths,
        stored_bytes: 0,
        written,
    };
    let mut out = Commands::new();
    let table = Table::new(key, loaded, MAX_DOCUMENT_BYTES, now, &mut out);
    (table, out)
}
