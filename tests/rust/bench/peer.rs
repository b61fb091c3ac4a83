//! One simulated browser tab: a lean WebSocket client with its own yrs
//! document. It syncs like y-websocket (or Hocuspocus, see `wire.rs`), applies
//! every update it receives — or, as a counter, only reads which edits an
//! update carries — and, when it is a writer, types characters into its own
//! note at a fixed rate.
//!
//! Latency is measured without touching the wire format: every edit a writer
//! sends advances its Yjs clock, and the writer logs (clock after the edit,
//! send instant). A receiver, after applying an update, reads the writers'
//! clocks from its state vector; every logged edit at or below that clock has
//! now arrived. One process, one monotonic clock, no clock skew.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::wire::Wire;
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
    Update, WriteTxn,
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
    /// (writer's clock after the edit, send instant, inside the window), in send order.
    sent: Mutex<Vec<(u32, Instant, bool)>>,
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
            tokio_tungstenite::connect_async(self.url.as_str()).await
        };
        let ws = match connected {
            Ok((ws, _)) => ws,
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
        let mut cursors = vec![0usize; self.writers.writers.len()];
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
        // What a counter has seen of the writers' clocks (an applier reads its doc).
        let mut counted = StateVector::default();

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
                            self.handle(&doc, &messages, &mut stats, &mut cursors, &mut counted, &mut outgoing);
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
                    if note.is_none() {
                        let (map, text, update) = create_note(&doc, me);
                        note = Some((map, text));
                        outgoing.push(self.wire.wrap(YMessage::Sync(SyncMessage::Update(update)).encode_v1()));
                    }
                    let Some((map, text)) = &note else { continue };
                    let since = *typing_since.get_or_insert_with(Instant::now);
                    let due = (since.elapsed().as_secs_f64() * self.rate) as usize + 1;
                    let measured = now == Phase::Measure;
                    for n in typed..due {
                        outgoing.push(self.type_one(&doc, map, text, me, n, measured));
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

    /// Types the `n`th character into the writer's note, logs the edit for
    /// the latency match, and returns the framed update.
    fn type_one(
        &self,
        doc: &Doc,
        map: &MapRef,
        text: &TextRef,
        me: usize,
        n: usize,
        measured: bool,
    ) -> Bytes {
        let ch = TYPED[n % TYPED.len()] as char;
        let update = {
            let mut txn = doc.transact_mut();
            let end = text.len(&txn);
            text.insert(&mut txn, end, &ch.to_string());
            map.insert(&mut txn, "updatedAt", Any::Number(Number::Float(now_ms())));
            txn.encode_update_v1()
        };
        let clock = doc.transact().state_vector().get(&doc.client_id());
        self.writers.writers[me]
            .sent
            .lock()
            .unwrap()
            .push((clock, Instant::now(), measured));
        self.wire
            .wrap(YMessage::Sync(SyncMessage::Update(update)).encode_v1())
    }

    fn handle(
        &self,
        doc: &Doc,
        frame: &[u8],
        stats: &mut PeerStats,
        cursors: &mut [usize],
        counted: &mut StateVector,
        outgoing: &mut Vec<Bytes>,
    ) {
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
            let applied = Update::decode_v1(&update).map_err(|_| ()).and_then(|u| {
                if apply {
                    doc.transact_mut().apply_update(u).map_err(|_| ())
                } else {
                    // `Update::state_vector` only counts updates that start at
                    // clock 0; an edit's insertions tell where it ends.
                    for (client, ranges) in u.insertions(true).iter() {
                        if let Some(end) = ranges.iter().map(|r| r.end).max() {
                            counted.set_max(*client, end);
                        }
                    }
                    Ok(())
                }
            });
            if applied.is_err() {
                stats.apply_errors += 1;
            }
        }
        let sv = if self.applies {
            doc.transact().state_vector()
        } else {
            counted.clone()
        };
        self.record_arrivals(doc, &sv, stats, cursors);
    }

    /// Takes a latency sample for every logged window edit that `sv` (the
    /// document's, or what a counter has seen) now covers and did not before.
    fn record_arrivals(
        &self,
        doc: &Doc,
        sv: &StateVector,
        stats: &mut PeerStats,
        cursors: &mut [usize],
    ) {
        let now = Instant::now();
        for (writer, cursor) in self.writers.writers.iter().zip(cursors.iter_mut()) {
            let id = ClientID::new(writer.client_id);
            if id == doc.client_id() {
                continue;
            }
            let clock = sv.get(&id);
            let sent = writer.sent.lock().unwrap();
            while let Some(&(edit_clock, at, measured)) = sent.get(*cursor) {
                if edit_clock > clock {
                    break;
                }
                if measured {
                    let micros = now.duration_since(at).as_micros();
                    stats
                        .latencies_us
                        .push(u32::try_from(micros).unwrap_or(u32::MAX));
                }
                *cursor += 1;
            }
        }
    }
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
