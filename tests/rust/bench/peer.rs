//! One simulated browser tab: a lean WebSocket client with its own yrs
//! document. It syncs like y-websocket (or Hocuspocus, see `wire.rs`), applies
//! every update it receives — or, as a counter, only reads which edits an
//! update carries — and, when it is a writer, types characters into its own
//! note (or adds whole notes, `workload.rs`) at a fixed rate.
//!
//! Latency is measured without touching the wire format: every edit a writer
//! sends advances its Yjs clock, and the writer logs (clock before the edit,
//! clock after it, send instant). An applier, after applying an update, reads
//! the writers' clocks from its state vector; every logged edit ending at or
//! below that clock has now arrived. A counter reads only the head of an
//! update (`header.rs`): the writer and the clock the edit starts at. Each
//! writer's edits reach a receiver in order over one socket, so every logged
//! edit starting at or below that clock has arrived. One process, one
//! monotonic clock, no clock skew.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::header;
use crate::wire::{self, Wire};
use crate::workload::{self, Workload};
use bytes::Bytes;
use clap::ValueEnum;
use futures_util::{SinkExt, StreamExt};
use tokio::sync::{Semaphore, watch};
use tokio::time::MissedTickBehavior;
use tokio_tungstenite::tungstenite::Message;
use werktafel_shared::schema::{self, Lane, NoteColor, NoteDraft};
use yrs::encoding::read::Cursor;
use yrs::sync::awareness::{AwarenessUpdate, AwarenessUpdateEntry};
use yrs::sync::{Message as YMessage, MessageReader, SyncMessage};
use yrs::updates::decoder::{Decode, DecoderV1};
use yrs::updates::encoder::Encode;
use yrs::{
    Any, ClientID, Doc, Map, MapRef, Number, Out, ReadTxn, StateVector, Text, TextRef, Transact,
    TransactionMut, Update, WriteTxn,
};

/// How often a client renews its awareness state with `--presence renew`
/// unless told otherwise: y-protocols renews at half its 30 s timeout.
pub const AWARENESS_RENEW: Duration = Duration::from_secs(15);
/// The shortest pause between a writer's wake-ups: tokio's timer has a
/// resolution of 1 ms, so faster rates send the edits that are due in a burst
/// of separate updates on each wake-up, keeping the offered rate exact.
const MIN_TICK: Duration = Duration::from_millis(1);
/// What writers type, a character per edit.
const TYPED: &[u8] = b"werktafel vitale systemen ";

/// Where the run is; every peer watches it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Phase {
    Connecting,
    /// Writers type, nothing is counted.
    Warmup,
    /// Writers type; their edits are counted and timed.
    Measure,
    /// Writers stop; receivers apply what is still in flight.
    Drain,
    Stop,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Presence {
    None,
    Join,
    Renew,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Reader,
    /// A writer, with its index in its table's [`TableWriters`].
    Writer(usize),
}

/// The writers of one table and the edits they sent, shared by the table's peers.
pub struct TableWriters {
    writers: Vec<WriterLog>,
}

struct WriterLog {
    client_id: u64,
    /// The edits in send order.
    sent: Mutex<Vec<SentEdit>>,
}

#[derive(Debug, Clone, Copy)]
struct SentEdit {
    /// The writer's clock before the edit: the clock of its first struct.
    start: u32,
    /// The writer's clock after the edit.
    end: u32,
    at: Instant,
    /// Sent inside the measured window.
    measured: bool,
}

/// What one receiver has seen of one writer's edits.
#[derive(Debug, Clone, Copy, Default)]
struct Seen {
    /// The next logged edit not yet seen.
    cursor: usize,
    /// The highest start clock of a single edit a counter read (`header.rs`).
    start: Option<u32>,
    /// The writer's clock in the receiver's state: an applier's document, or
    /// the end of what a counter decoded in full.
    end: u32,
}

/// A simulated tab.
pub struct Peer {
    pub url: String,
    pub wire: Wire,
    pub role: Role,
    /// Whether received updates are applied to the document (a browser) or
    /// only decoded to see which edits they carry (a cheaper counter, so that
    /// one generator core can drive a server to saturation).
    pub applies: bool,
    pub writers: Arc<TableWriters>,
    /// What one edit is: a typed character or a whole note.
    pub workload: Workload,
    /// [`Workload::structs`], computed once per run.
    pub edit_structs: u32,
    pub rate: f64,
    pub presence: Presence,
    /// How often `Presence::Renew` republishes the awareness state.
    pub presence_interval: Duration,
}

/// What one peer saw; the report sums these.
#[derive(Debug, Default)]
pub struct PeerStats {
    pub connect_error: Option<String>,
    pub synced: bool,
    /// Why the connection ended before the run did, if it did.
    pub closed_early: Option<String>,
    pub apply_errors: u64,
    pub frames_received: u64,
    /// Updates decoded in full (every update of an applier; a counter's
    /// sync steps and updates that are not a single edit).
    pub decoded_in_full: u64,
    /// Edits this writer sent inside the window.
    pub edits_in_window: u64,
    /// Window edits of other writers this peer applied, each with its latency in µs.
    pub latencies_us: Vec<u32>,
}

impl TableWriters {
    /// `n` writers with fresh random client ids, so that runs against the same
    /// server never reuse a client id whose clock the stored document already knows.
    pub fn new(n: usize) -> TableWriters {
        TableWriters {
            writers: (0..n)
                .map(|_| WriterLog {
                    client_id: u64::from(rand::random::<u32>()),
                    sent: Mutex::new(Vec::new()),
                })
                .collect(),
        }
    }

    /// The index of the writer with this Yjs client id.
    fn position(&self, client: u64) -> Option<usize> {
        self.writers.iter().position(|w| w.client_id == client)
    }
}

impl Seen {
    fn covers(&self, edit: &SentEdit) -> bool {
        edit.end <= self.end || self.start.is_some_and(|start| edit.start <= start)
    }
}

impl Peer {
    /// Connects (at most `gate`'s permits at once), syncs, bumps `synced`,
    /// then reads, applies and (as a writer) types until [`Phase::Stop`].
    pub async fn run(
        self,
        mut phase: watch::Receiver<Phase>,
        gate: Arc<Semaphore>,
        synced: Arc<watch::Sender<usize>>,
    ) -> PeerStats {
        let mut stats = PeerStats::default();
        let connected = {
            let _permit = gate.acquire().await;
            wire::connect(&self.url).await
        };
        let ws = match connected {
            Ok(ws) => ws,
            Err(e) => {
                stats.connect_error = Some(e.to_string());
                // Counted as "in", so the run does not wait for it.
                synced.send_modify(|n| *n += 1);
                return stats;
            }
        };
        let (mut sink, mut stream) = ws.split();
        let doc = match self.role {
            Role::Writer(i) => Doc::with_client_id(self.writers.writers[i].client_id),
            Role::Reader => Doc::new(),
        };
        let mut seen = vec![Seen::default(); self.writers.writers.len()];
        let mut note: Option<(MapRef, TextRef)> = None;
        let mut typed = 0usize;
        let mut typing_since: Option<Instant> = None;
        let mut awareness_clock = 0u32;
        let mut tick = tokio::time::interval(match self.role {
            Role::Writer(_) => Duration::from_secs_f64(1.0 / self.rate).max(MIN_TICK),
            Role::Reader => AWARENESS_RENEW,
        });
        tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut renew = tokio::time::interval(self.presence_interval);
        renew.reset();

        let step1 = YMessage::Sync(SyncMessage::SyncStep1(StateVector::default()));
        let mut outgoing: Vec<Bytes> = self.wire.opening().into_iter().collect();
        outgoing.push(self.wire.wrap(step1.encode_v1()));
        loop {
            if !outgoing.is_empty() {
                let mut sent = Ok(());
                for frame in outgoing.drain(..) {
                    sent = sink.feed(Message::Binary(frame)).await;
                    if sent.is_err() {
                        break;
                    }
                }
                if let Err(e) = sent.and(sink.flush().await) {
                    stats.closed_early = Some(format!("send failed: {e}"));
                }
            }
            if stats.closed_early.is_some() {
                break;
            }
            let now = *phase.borrow();
            let typing = matches!(self.role, Role::Writer(_))
                && matches!(now, Phase::Warmup | Phase::Measure);
            tokio::select! {
                message = stream.next() => match message {
                    Some(Ok(Message::Binary(frame))) => {
                        stats.frames_received += 1;
                        let was_synced = stats.synced;
                        if let Some(messages) = self.wire.unwrap(&frame) {
                            self.handle(&doc, &messages, &mut stats, &mut seen, &mut outgoing);
                        }
                        if stats.synced && !was_synced {
                            synced.send_modify(|n| *n += 1);
                            if self.presence != Presence::None {
                                outgoing.push(self.wire.wrap(awareness(&doc, &mut awareness_clock)));
                            }
                        }
                    }
                    Some(Ok(Message::Close(frame))) => {
                        stats.closed_early = Some(match frame {
                            Some(f) => format!("closed by the server: {} {}", u16::from(f.code), f.reason),
                            None => "closed by the server".into(),
                        });
                    }
                    Some(Ok(_)) => {}
                    Some(Err(e)) => stats.closed_early = Some(e.to_string()),
                    None => stats.closed_early = Some("stream ended".into()),
                },
                _ = tick.tick(), if typing => {
                    let Role::Writer(me) = self.role else { continue };
                    if note.is_none() && self.workload == Workload::Keystroke {
                        let (map, text, update) = create_note(&doc, me);
                        note = Some((map, text));
                        outgoing.push(self.wire.wrap(YMessage::Sync(SyncMessage::Update(update)).encode_v1()));
                    }
                    let since = *typing_since.get_or_insert_with(Instant::now);
                    let due = (since.elapsed().as_secs_f64() * self.rate) as usize + 1;
                    let measured = now == Phase::Measure;
                    for n in typed..due {
                        let frame = match &note {
                            Some((map, text)) => self.edit(&doc, me, measured, |txn| {
                                type_one(txn, map, text, n);
                            }),
                            None => self.edit(&doc, me, measured, |txn| {
                                workload::add_note(txn, me, n);
                            }),
                        };
                        outgoing.push(frame);
                        stats.edits_in_window += u64::from(measured);
                    }
                    typed = typed.max(due);
                },
                _ = renew.tick(), if self.presence == Presence::Renew && stats.synced => {
                    outgoing.push(self.wire.wrap(awareness(&doc, &mut awareness_clock)));
                },
                changed = phase.changed() => {
                    if changed.is_err() || *phase.borrow() == Phase::Stop {
                        let _ = sink.send(Message::Close(None)).await;
                        return stats;
                    }
                },
            }
        }
        // Closed early: wait for the end of the run so the report counts it once.
        while *phase.borrow() != Phase::Stop {
            if phase.changed().await.is_err() {
                break;
            }
        }
        stats
    }

    /// Makes one edit with `write` in one transaction, logs it for the
    /// latency match (the writer's clock before and after, the send instant)
    /// and returns the framed update.
    fn edit(
        &self,
        doc: &Doc,
        me: usize,
        measured: bool,
        write: impl FnOnce(&mut TransactionMut),
    ) -> Bytes {
        let id = doc.client_id();
        let (update, start, end) = {
            let mut txn = doc.transact_mut();
            let start = txn.before_state().get(&id);
            write(&mut txn);
            let end = txn.state_vector().get(&id);
            (txn.encode_update_v1(), start, end)
        };
        let edit = SentEdit {
            start,
            end,
            at: Instant::now(),
            measured,
        };
        self.writers.writers[me].sent.lock().unwrap().push(edit);
        self.wire
            .wrap(YMessage::Sync(SyncMessage::Update(update)).encode_v1())
    }

    fn handle(
        &self,
        doc: &Doc,
        frame: &[u8],
        stats: &mut PeerStats,
        seen: &mut [Seen],
        outgoing: &mut Vec<Bytes>,
    ) {
        if !self.applies && self.count_edit(frame, stats, seen) {
            return;
        }
        let mut decoder = DecoderV1::new(Cursor::new(frame));
        for message in MessageReader::new(&mut decoder) {
            let (update, apply) = match message {
                Ok(YMessage::Sync(SyncMessage::SyncStep1(sv))) => {
                    let diff = doc.transact().encode_state_as_update_v1(&sv);
                    let reply = YMessage::Sync(SyncMessage::SyncStep2(diff));
                    outgoing.push(self.wire.wrap(reply.encode_v1()));
                    continue;
                }
                Ok(YMessage::Sync(SyncMessage::SyncStep2(update))) => {
                    stats.synced = true;
                    (update, true)
                }
                Ok(YMessage::Sync(SyncMessage::Update(update))) => (update, self.applies),
                Ok(_) => continue,
                Err(_) => {
                    stats.apply_errors += 1;
                    return;
                }
            };
            stats.decoded_in_full += 1;
            let applied = Update::decode_v1(&update).map_err(|_| ()).and_then(|u| {
                if !self.applies {
                    // A counter learns from the update itself how far each
                    // writer got, also from a sync step 2 (a server's resync)
                    // that it applies: `Update::state_vector` only counts
                    // updates that start at clock 0, the insertions tell
                    // where each writer's edits end.
                    for (client, ranges) in u.insertions(true).iter() {
                        let writer = self.writers.position(client.get());
                        if let (Some(w), Some(end)) = (writer, ranges.iter().map(|r| r.end).max()) {
                            seen[w].end = seen[w].end.max(end);
                        }
                    }
                }
                if apply {
                    doc.transact_mut().apply_update(u).map_err(|_| ())
                } else {
                    Ok(())
                }
            });
            if applied.is_err() {
                stats.apply_errors += 1;
            }
        }
        let sv = self.applies.then(|| doc.transact().state_vector());
        let now = Instant::now();
        for (w, writer) in self.writers.writers.iter().enumerate() {
            let id = ClientID::new(writer.client_id);
            if id == doc.client_id() {
                continue;
            }
            if let Some(sv) = &sv {
                seen[w].end = sv.get(&id);
            }
            self.record_arrivals(w, &mut seen[w], now, stats);
        }
    }

    /// A counter's fast path: if `frame` is one edit of one of the table's
    /// writers, notes its start clock, takes the latency samples it completes
    /// and returns true; else (sync steps, awareness, merged updates) false.
    fn count_edit(&self, frame: &[u8], stats: &mut PeerStats, seen: &mut [Seen]) -> bool {
        let Some(edit) = header::single_group(frame) else {
            return false;
        };
        if edit.structs != self.edit_structs {
            return false;
        }
        let Some(w) = self.writers.position(edit.client) else {
            return false;
        };
        if self.role == Role::Writer(w) {
            // Its own edit, echoed (Hocuspocus does): nothing to time.
            return true;
        }
        let seen = &mut seen[w];
        seen.start = Some(seen.start.map_or(edit.start, |s| s.max(edit.start)));
        self.record_arrivals(w, seen, Instant::now(), stats);
        true
    }

    /// Takes a latency sample for every logged window edit of writer `w` that
    /// `seen` now covers and did not before.
    fn record_arrivals(&self, w: usize, seen: &mut Seen, now: Instant, stats: &mut PeerStats) {
        let sent = self.writers.writers[w].sent.lock().unwrap();
        while let Some(edit) = sent.get(seen.cursor) {
            if !seen.covers(edit) {
                break;
            }
            if edit.measured {
                let micros = now.duration_since(edit.at).as_micros();
                stats
                    .latencies_us
                    .push(u32::try_from(micros).unwrap_or(u32::MAX));
            }
            seen.cursor += 1;
        }
    }
}

/// Types the `n`th character at the front of the writer's note and stamps it.
///
/// At the front, not the end: yrs finds a text index by walking the text's
/// items from the start, and every character is an item of its own (the
/// `updatedAt` stamp between two characters keeps them from merging), so
/// typing at the end cost O(length) per edit, quadratic over a run: at 400
/// edits/s per writer it was over half of the generator's CPU. For the server
/// and the receivers either place is one item integrated next to its
/// neighbour, found by id.
fn type_one(txn: &mut TransactionMut, map: &MapRef, text: &TextRef, n: usize) {
    let ch = TYPED[n % TYPED.len()] as char;
    text.insert(txn, 0, ch.encode_utf8(&mut [0; 4]));
    map.insert(txn, "updatedAt", Any::Number(Number::Float(now_ms())));
}

/// Creates the writer's own note, the way the board does when someone adds
/// one, and returns the update to send with it.
fn create_note(doc: &Doc, writer: usize) -> (MapRef, TextRef, Vec<u8>) {
    let id = format!("load-{}", doc.client_id());
    let mut txn = doc.transact_mut();
    schema::insert_note(
        &mut txn,
        &NoteDraft {
            id: id.clone(),
            text: String::new(),
            lane: Lane::ALL[writer % Lane::ALL.len()],
            color: NoteColor::ALL[writer % NoteColor::ALL.len()],
            x: 10.0,
            y: 120.0 * writer as f64,
            author: format!("Schrijver {writer}"),
            author_id: id.clone(),
            now_ms: now_ms() as i64,
        },
    );
    let notes = txn.get_or_insert_map(schema::NOTES);
    let Some(Out::YMap(map)) = notes.get(&txn, &id) else {
        unreachable!("insert_note wrote notes[{id}] as a map");
    };
    let Some(Out::YText(text)) = map.get(&txn, "text") else {
        unreachable!("insert_note wrote a Y.Text");
    };
    let update = txn.encode_update_v1();
    (map, text, update)
}

/// This client's awareness state, as a browser publishes it on joining.
fn awareness(doc: &Doc, clock: &mut u32) -> Vec<u8> {
    *clock += 1;
    let id = doc.client_id();
    let json = format!(
        r##"{{"user":{{"id":"load-{id}","name":"Deelnemer {id}","color":"#2f9e44"}},"editing":null}}"##
    );
    let update = AwarenessUpdate {
        clients: [(
            id,
            AwarenessUpdateEntry {
                clock: *clock,
                json: json.into(),
            },
        )]
        .into_iter()
        .collect(),
    };
    YMessage::Awareness(update).encode_v1()
}

fn now_ms() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_millis() as f64)
}
