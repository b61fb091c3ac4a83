//! One simulated browser tab: a lean WebSocket client with its own yrs
//! document. It syncs like y-websocket, applies every update it receives, and
//! — when it is a writer — types characters into its own note at a fixed rate.
//!
//! Latency is measured without touching the wire format: every edit a writer
//! sends advances its Yjs clock, and the writer logs (clock after the edit,
//! send instant). A receiver, after applying an update, reads the writers'
//! clocks from its state vector; every logged edit at or below that clock has
//! now arrived. One process, one monotonic clock, no clock skew.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

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

/// How often a client renews its awareness state with `--presence renew`:
/// y-protocols renews at half its 30 s timeout.
const AWARENESS_RENEW: Duration = Duration::from_secs(15);
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
    pub role: Role,
    pub writers: Arc<TableWriters>,
    pub rate: f64,
    pub presence: Presence,
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
        let mut awareness_clock = 0u32;
        let mut tick = tokio::time::interval(match self.role {
            Role::Writer(_) => Duration::from_secs_f64(1.0 / self.rate),
            Role::Reader => AWARENESS_RENEW,
        });
        tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut renew = tokio::time::interval(AWARENESS_RENEW);
        renew.reset();

        let step1 = YMessage::Sync(SyncMessage::SyncStep1(StateVector::default()));
        let mut outgoing: Vec<Bytes> = vec![Bytes::from(step1.encode_v1())];
        loop {
            for frame in outgoing.drain(..) {
                if let Err(e) = sink.send(Message::Binary(frame)).await {
                    stats.closed_early = Some(format!("send failed: {e}"));
                    break;
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
                        self.handle(&doc, &frame, &mut stats, &mut cursors, &mut outgoing);
                        if stats.synced && !was_synced {
                            synced.send_modify(|n| *n += 1);
                            if self.presence != Presence::None {
                                outgoing.push(awareness(&doc, &mut awareness_clock));
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
                        outgoing.push(Bytes::from(YMessage::Sync(SyncMessage::Update(update)).encode_v1()));
                    }
                    let Some((map, text)) = &note else { continue };
                    let ch = TYPED[typed % TYPED.len()] as char;
                    typed += 1;
                    let update = {
                        let mut txn = doc.transact_mut();
                        let end = text.len(&txn);
                        text.insert(&mut txn, end, &ch.to_string());
                        map.insert(&mut txn, "updatedAt", Any::Number(Number::Float(now_ms())));
                        txn.encode_update_v1()
                    };
                    let clock = doc.transact().state_vector().get(&doc.client_id());
                    let measured = now == Phase::Measure;
                    stats.edits_in_window += u64::from(measured);
                    self.writers.writers[me]
                        .sent
                        .lock()
                        .unwrap()
                        .push((clock, Instant::now(), measured));
                    outgoing.push(Bytes::from(YMessage::Sync(SyncMessage::Update(update)).encode_v1()));
                },
                _ = renew.tick(), if self.presence == Presence::Renew && stats.synced => {
                    outgoing.push(awareness(&doc, &mut awareness_clock));
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

    fn handle(
        &self,
        doc: &Doc,
        frame: &[u8],
        stats: &mut PeerStats,
        cursors: &mut [usize],
        outgoing: &mut Vec<Bytes>,
    ) {
        let mut decoder = DecoderV1::new(Cursor::new(frame));
        for message in MessageReader::new(&mut decoder) {
            let update = match message {
                Ok(YMessage::Sync(SyncMessage::SyncStep1(sv))) => {
                    let diff = doc.transact().encode_state_as_update_v1(&sv);
                    let reply = YMessage::Sync(SyncMessage::SyncStep2(diff));
                    outgoing.push(Bytes::from(reply.encode_v1()));
                    continue;
                }
                Ok(YMessage::Sync(SyncMessage::SyncStep2(update))) => {
                    stats.synced = true;
                    update
                }
                Ok(YMessage::Sync(SyncMessage::Update(update))) => update,
                Ok(_) => continue,
                Err(_) => {
                    stats.apply_errors += 1;
                    return;
                }
            };
            let applied = Update::decode_v1(&update)
                .map_err(|_| ())
                .and_then(|u| doc.transact_mut().apply_update(u).map_err(|_| ()));
            if applied.is_err() {
                stats.apply_errors += 1;
            }
        }
        self.record_arrivals(doc, stats, cursors);
    }

    /// Takes a latency sample for every logged window edit that the
    /// document now contains and had not before.
    fn record_arrivals(&self, doc: &Doc, stats: &mut PeerStats, cursors: &mut [usize]) {
        let now = Instant::now();
        let sv = doc.transact().state_vector();
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
fn awareness(doc: &Doc, clock: &mut u32) -> Bytes {
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
    Bytes::from(YMessage::Awareness(update).encode_v1())
}

fn now_ms() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_millis() as f64)
}
