//! One client's WebSocket: a reader loop that decodes and hands messages to
//! the room, and a writer task that drains the client's bounded outbox.
//!
//! The writer also keeps idle connections alive at the protocol level,
//! turns an overflowed outbox into a resync instead of unbounded memory,
//! and keeps the connection's time: every timing rule (keepalive, ping,
//! idle, stall, rate) is decided by [`Liveness`], which this module feeds
//! with what happened and obeys.

use std::pin::pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use bytes::Bytes;
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::error::CapacityError;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_util::sync::CancellationToken;

use crate::config::Limits;
use crate::metrics::METRICS;
use crate::protocol::{self, Incoming, ProtocolError};
use crate::sync::liveness::{Decision, Liveness, Written};
use crate::sync::upgrade::{Socket, send_fragmented};
use crate::table::peer::{CatchUp, PeerLink};
use crate::table::presence::PeerId;
use crate::table::reason::Reason;
use crate::table::room::{Room, Slots};

pub use super::close::*;

/// How many queued messages the writer sends before it flushes the socket.
const WRITE_BATCH: usize = 64;

/// Serves one upgraded socket that has already joined `room` as `peer`.
pub async fn serve(
    socket: Socket,
    room: Arc<Room>,
    peer: PeerId,
    link: Arc<PeerLink>,
    outbox: mpsc::Receiver<Bytes>,
    limits: Limits,
    shutdown: CancellationToken,
) {
    METRICS.connections.inc();
    METRICS.connections_opened.inc();
    let (sink, stream) = socket.split();
    let liveness = Arc::new(Mutex::new(Liveness::new(&limits, now())));
    // Not tracked on its own: this function awaits it before returning, and
    // the function itself runs as a tracked task.
    let writer = tokio::spawn(write_loop(
        sink,
        outbox,
        link.clone(),
        room.clone(),
        peer,
        liveness.clone(),
    ));
    read_loop(stream, &room, peer, &link, &limits, &liveness, &shutdown).await;
    room.leave(peer);
    // Wakes the writer if nobody asked for a close yet; the first reason wins.
    link.close(Reason::Normal);
    let _ = writer.await;
    METRICS.connections.dec();
}

/// Reads and handles the client's frames, reporting each to `liveness`.
/// The writer keeps the time: it closes a client that went silent.
async fn read_loop(
    mut stream: SplitStream<Socket>,
    room: &Room,
    peer: PeerId,
    link: &PeerLink,
    limits: &Limits,
    liveness: &Mutex<Liveness>,
    shutdown: &CancellationToken,
) {
    let table = room.key();
    loop {
        let next = tokio::select! {
            _ = link.closed().cancelled() => return,
            _ = shutdown.cancelled() => {
                link.close(Reason::ShuttingDown);
                return;
            }
            next = stream.next() => next,
        };
        let message = match next {
            None => return,
            Some(Err(WsError::Capacity(error))) => {
                if let CapacityError::MessageTooLong { .. } = error {
                    tracing::warn!(%table, peer, %error, "message over the size limit");
                    link.close(Reason::TooBig("message too big".into()));
                } else {
                    tracing::warn!(%table, peer, %error, "malformed frame");
                    link.close(Reason::Malformed("malformed frame".into()));
                }
                return;
            }
            Some(Err(error)) => {
                tracing::debug!(%table, peer, %error, "socket error");
                return;
            }
            Some(Ok(message)) => message,
        };
        match message {
            Message::Binary(frame) => {
                if let Err(reason) = lock(liveness).frame_received(now(), frame.len()) {
                    tracing::warn!(%table, peer, "closing a connection that sends too fast");
                    link.close(reason);
                    return;
                }
                let handled = match decode(&frame, limits) {
                    Ok(messages) => {
                        let Some(slots) = reserve(room, &messages, link, shutdown).await else {
                            return;
                        };
                        room.handle_reserved(peer, &frame, messages, slots)
                            .map_err(Reason::Refused)
                    }
                    Err(reason) => Err(reason),
                };
                if let Err(reason) = handled {
                    let (code, text) = close_frame(&reason);
                    tracing::warn!(%table, peer, code, reason = %text, bytes = frame.len(), "closing a connection over bad input");
                    link.close(reason);
                    return;
                }
            }
            Message::Text(_) => {
                tracing::warn!(%table, peer, "text frame refused");
                link.close(Reason::TextFrame);
                return;
            }
            Message::Close(_) => return,
            Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => {
                lock(liveness).control_received(now());
            }
        }
    }
}

/// The places in the persistence queue `messages` need: at once as a rule
/// (no select, no waiter registered); while the queue is full it waits, so
/// a stalled disk pushes back on the writers. `None`: the connection closed
/// meanwhile.
async fn reserve(
    room: &Room,
    messages: &[Incoming],
    link: &PeerLink,
    shutdown: &CancellationToken,
) -> Option<Slots> {
    if let Some(slots) = room.try_reserve(messages) {
        return Some(slots);
    }
    tokio::select! {
        _ = link.closed().cancelled() => None,
        _ = shutdown.cancelled() => {
            link.close(Reason::ShuttingDown);
            None
        }
        slots = room.reserve(messages) => Some(slots),
    }
}

/// The frame's messages, or why the connection closes over it.
fn decode(frame: &Bytes, limits: &Limits) -> Result<Vec<Incoming>, Reason> {
    protocol::decode_frame(frame, limits.max_message_bytes).map_err(|e| match e {
        ProtocolError::TooLarge { .. } => Reason::TooBig(e.to_string()),
        _ => Reason::Malformed(e.to_string()),
    })
}

/// Drains the outbox, sends keepalives and catch-ups, and keeps the
/// connection's time: it sleeps until the one instant [`Liveness::poll`]
/// names, and closes the connection when that says so.
async fn write_loop(
    mut sink: SplitSink<Socket, Message>,
    mut outbox: mpsc::Receiver<Bytes>,
    link: Arc<PeerLink>,
    room: Arc<Room>,
    peer: PeerId,
    liveness: Arc<Mutex<Liveness>>,
) {
    let table = room.key();
    // One timer for the loop's waits. Under load the next deadline moves with
    // every message (the keepalive is due an interval after the last one),
    // and re-arming a timer takes a lock on tokio's timer wheel: so it is
    // only ever moved earlier, and waking too early merely polls again.
    let mut timer = pin!(tokio::time::sleep_until(now().into()));
    let mut timer_at: Option<Instant> = None;
    let closing = loop {
        if link.closed().is_cancelled() {
            break None;
        }
        let decision = lock(&liveness).poll(now());
        let sent = match decision {
            Decision::Close(reason) => break Some(reason),
            Decision::CatchUp => Ok(()),
            Decision::Keepalive(keepalive) => {
                guarded(&liveness, Written::Keepalive(keepalive), async {
                    // Browsers answer pings invisibly, so the stock client
                    // needs a real message to know the server is alive; the
                    // ping's pong tells us the client is.
                    if keepalive.message {
                        sink.feed(Message::Binary(Bytes::from_static(protocol::KEEPALIVE)))
                            .await?;
                    }
                    if keepalive.ping {
                        sink.feed(Message::Ping(Bytes::new())).await?;
                    }
                    sink.flush().await
                })
                .await
            }
            Decision::Wait(at) => {
                if timer_at.is_none_or(|armed| at < armed) {
                    timer.as_mut().reset(at.into());
                    timer_at = Some(at);
                }
                tokio::select! {
                    biased;
                    _ = link.closed().cancelled() => break None,
                    first = outbox.recv() => {
                        let Some(first) = first else { break None };
                        guarded(&liveness, Written::Messages, write_batch(&mut sink, first, &mut outbox)).await
                    }
                    () = &mut timer => {
                        timer_at = None;
                        continue;
                    }
                }
            }
        };
        // The room keeps what a lagging peer misses; once everything queued
        // before is written, it is its turn.
        let sent = match sent {
            Ok(()) => catch_up(&mut sink, &outbox, &link, &room, peer, &liveness).await,
            failed => failed,
        };
        match sent {
            Ok(()) => {}
            Err(WriteFailure::Close(reason)) => break Some(reason),
            Err(WriteFailure::Socket) => {
                // The client is gone: nothing to say goodbye on.
                link.close(Reason::Normal);
                return;
            }
        }
    };
    if let Some(reason) = closing {
        match reason {
            Reason::Idle => tracing::info!(%table, peer, "closing a connection that sent nothing"),
            Reason::Stalled => {
                tracing::info!(%table, peer, "closing a connection that stopped reading");
            }
            _ => {}
        }
        link.close(reason);
    }
    let reason = link.reason().unwrap_or(Reason::Normal);
    let (code, text) = close_frame(&reason);
    METRICS.closed(code);
    if reason == Reason::Stalled {
        // A client that does not read will not read the close frame either.
        return;
    }
    let frame = CloseFrame {
        code: code.into(),
        reason: text.into(),
    };
    let _ = tokio::time::timeout_at(
        Liveness::close_deadline(now()).into(),
        sink.send(Message::Close(Some(frame))),
    )
    .await;
}

/// Sends a lagging peer what it missed, while nothing newer is queued and
/// the room does not ask to wait.
async fn catch_up(
    sink: &mut SplitSink<Socket, Message>,
    outbox: &mpsc::Receiver<Bytes>,
    link: &PeerLink,
    room: &Room,
    peer: PeerId,
    liveness: &Mutex<Liveness>,
) -> Result<(), WriteFailure> {
    while !lock(liveness).catch_up_waiting() && link.is_lagging() && outbox.is_empty() {
        let missed = match room.catch_up(peer) {
            CatchUp::Send(missed) => missed,
            CatchUp::Done => break,
            CatchUp::RetryAt(at) => {
                lock(liveness).catch_up_at(at);
                break;
            }
        };
        guarded(liveness, Written::Messages, async {
            for frame in missed {
                send_fragmented(sink, frame).await?;
            }
            sink.flush().await
        })
        .await?;
    }
    Ok(())
}

/// Why a guarded write did not finish.
enum WriteFailure {
    /// The socket failed: the client is gone.
    Socket,
    /// A close fell due during the write (it stalled, or the client went
    /// silent meanwhile).
    Close(Reason),
}

/// Runs `write`, reporting it to `liveness`, and gives up on it as soon as
/// a close falls due: the write is raced against [`Liveness::expiry`].
async fn guarded(
    liveness: &Mutex<Liveness>,
    written: Written,
    write: impl Future<Output = Result<(), WsError>>,
) -> Result<(), WriteFailure> {
    lock(liveness).write_started(now());
    let mut write = pin!(write);
    loop {
        let expiry = lock(liveness).expiry(now());
        let at = expiry.map_err(WriteFailure::Close)?;
        // The write first: one that finishes at once never arms the timer.
        tokio::select! {
            biased;
            result = &mut write => {
                result.map_err(|_| WriteFailure::Socket)?;
                lock(liveness).write_finished(now(), written);
                return Ok(());
            }
            // Frames received meanwhile may have moved the deadline: ask again.
            () = tokio::time::sleep_until(at.into()) => {}
        }
    }
}

/// Sends `first` and whatever else is already queued, then flushes once.
async fn write_batch(
    sink: &mut SplitSink<Socket, Message>,
    first: Bytes,
    outbox: &mut mpsc::Receiver<Bytes>,
) -> Result<(), WsError> {
    send_fragmented(sink, first).await?;
    for _ in 1..WRITE_BATCH {
        match outbox.try_recv() {
            Ok(next) => send_fragmented(sink, next).await?,
            Err(_) => break,
        }
    }
    sink.flush().await
}

/// The time the connection's rules run on: tokio's clock, so that a test
/// with paused time moves it too.
fn now() -> Instant {
    tokio::time::Instant::now().into_std()
}

/// The rules are shared by the reader and the writer, each holding the lock
/// for a few field updates and never across an await.
fn lock(liveness: &Mutex<Liveness>) -> MutexGuard<'_, Liveness> {
    liveness.lock().unwrap_or_else(PoisonError::into_inner)
}
