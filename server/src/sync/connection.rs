//! One client's WebSocket: a reader loop that decodes and hands messages to
//! the room, and a writer task that drains the client's bounded outbox.
//!
//! The writer also keeps idle connections alive at the protocol level and
//! turns an overflowed outbox into a resync instead of unbounded memory.

use std::sync::Arc;
use std::time::Duration;

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
use crate::protocol::{self, ProtocolError};
use crate::room::{CatchUp, PeerId, PeerLink, Room};
use crate::sync::upgrade::{Socket, send_fragmented};
use crate::table::reason::{Reason, Refusal};

/// Normal closure.
pub const CLOSE_NORMAL: u16 = 1000;
/// The server is shutting down.
pub const CLOSE_GOING_AWAY: u16 = 1001;
/// The frame is not valid y-protocol.
pub const CLOSE_PROTOCOL: u16 = 1002;
/// A text frame: the sync protocol is binary.
pub const CLOSE_UNSUPPORTED: u16 = 1003;
/// The message decoded but its update or awareness content was refused.
pub const CLOSE_INVALID: u16 = 1007;
/// The update is not allowed: a read-only connection, a locked or closed
/// table, or a client touching a server-only map.
pub const CLOSE_POLICY: u16 = 1008;
/// The message exceeds the size limit.
pub const CLOSE_TOO_BIG: u16 = 1009;
/// The table failed on the server side (storage, reload).
pub const CLOSE_INTERNAL: u16 = 1011;
/// The table is served by another node now (or the relay to it broke):
/// the client reconnects and lands where it is served (`docs/scale-out.md`).
pub const CLOSE_SERVICE_RESTART: u16 = 1012;
/// The table's document reached [`Limits::max_document_bytes`].
pub const CLOSE_TABLE_FULL: u16 = 4413;
/// The client sent faster than [`Limits::messages_per_second`] or
/// [`Limits::bytes_per_second`] allow.
pub const CLOSE_RATE: u16 = 4429;
/// The participant key the connection was opened with was renewed.
pub const CLOSE_REVOKED: u16 = 4403;
/// Nothing was received from the client for [`Limits::idle_timeout`].
pub const CLOSE_IDLE: u16 = 4408;
/// The client did not read for [`Limits::write_timeout`].
pub const CLOSE_STALLED: u16 = 4409;

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
    // Not tracked on its own: this function awaits it before returning, and
    // the function itself runs as a tracked task.
    let writer = tokio::spawn(write_loop(
        sink,
        outbox,
        link.clone(),
        room.clone(),
        peer,
        limits.clone(),
    ));
    read_loop(stream, &room, peer, &link, &limits, &shutdown).await;
    room.leave(peer);
    // Wakes the writer if nobody asked for a close yet; the first reason wins.
    link.close(Reason::Normal);
    let _ = writer.await;
    METRICS.connections.dec();
}

async fn read_loop(
    mut stream: SplitStream<Socket>,
    room: &Room,
    peer: PeerId,
    link: &PeerLink,
    limits: &Limits,
    shutdown: &CancellationToken,
) {
    let table = room.key();
    let mut bucket = RateLimit::new(limits);
    loop {
        let next = tokio::select! {
            _ = link.closed().cancelled() => return,
            _ = shutdown.cancelled() => {
                link.close(Reason::ShuttingDown);
                return;
            }
            next = tokio::time::timeout(limits.idle_timeout, stream.next()) => next,
        };
        let message = match next {
            Err(_) => {
                tracing::info!(%table, peer, "closing a connection that sent nothing");
                link.close(Reason::Idle);
                return;
            }
            Ok(None) => return,
            Ok(Some(Err(WsError::Capacity(error)))) => {
                if let CapacityError::MessageTooLong { .. } = error {
                    tracing::warn!(%table, peer, %error, "message over the size limit");
                    link.close(Reason::TooBig("message too big".into()));
                } else {
                    tracing::warn!(%table, peer, %error, "malformed frame");
                    link.close(Reason::Malformed("malformed frame".into()));
                }
                return;
            }
            Ok(Some(Err(error))) => {
                tracing::debug!(%table, peer, %error, "socket error");
                return;
            }
            Ok(Some(Ok(message))) => message,
        };
        match message {
            Message::Binary(frame) => {
                if !bucket.take(frame.len()) {
                    tracing::warn!(%table, peer, "closing a connection that sends too fast");
                    link.close(Reason::TooFast);
                    return;
                }
                if let Err(reason) = handle_frame(room, peer, &frame, limits) {
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
            Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => {}
        }
    }
}

fn handle_frame(room: &Room, peer: PeerId, frame: &Bytes, limits: &Limits) -> Result<(), Reason> {
    let messages =
        protocol::decode_frame(frame, limits.max_message_bytes).map_err(|e| match e {
            ProtocolError::TooLarge { .. } => Reason::TooBig(e.to_string()),
            _ => Reason::Malformed(e.to_string()),
        })?;
    room.handle(peer, frame, messages).map_err(Reason::Refused)
}

/// The close code and text a connection closes with for `reason`: the one
/// place where the core's reasons become WebSocket close frames.
pub fn close_frame(reason: &Reason) -> (u16, String) {
    let fixed = |code: u16, text: &str| (code, text.to_owned());
    match reason {
        Reason::Normal => fixed(CLOSE_NORMAL, ""),
        Reason::ShuttingDown => fixed(CLOSE_GOING_AWAY, "server shutting down"),
        Reason::Malformed(why) => (CLOSE_PROTOCOL, why.clone()),
        Reason::TooBig(why) => (CLOSE_TOO_BIG, why.clone()),
        Reason::TextFrame => fixed(CLOSE_UNSUPPORTED, "binary y-protocol messages only"),
        Reason::Refused(refusal) => (refusal_code(refusal), refusal.to_string()),
        Reason::Internal(what) => fixed(CLOSE_INTERNAL, what),
        Reason::TooFast => fixed(CLOSE_RATE, "sending too fast"),
        Reason::Idle => fixed(CLOSE_IDLE, "idle timeout"),
        Reason::Stalled => fixed(CLOSE_STALLED, "not reading"),
        Reason::Revoked => fixed(CLOSE_REVOKED, "the participant link was renewed"),
        Reason::Moved => fixed(CLOSE_SERVICE_RESTART, "the table moved; reconnect"),
    }
}

/// The close code for a message the core refused.
fn refusal_code(refusal: &Refusal) -> u16 {
    match refusal {
        Refusal::InvalidUpdate(_) | Refusal::InvalidAwareness(_) => CLOSE_INVALID,
        Refusal::Forbidden(_) => CLOSE_POLICY,
        Refusal::TooLarge { .. } => CLOSE_TABLE_FULL,
        Refusal::AwarenessTooLarge { .. } => CLOSE_TOO_BIG,
    }
}

async fn write_loop(
    mut sink: SplitSink<Socket, Message>,
    mut outbox: mpsc::Receiver<Bytes>,
    link: Arc<PeerLink>,
    room: Arc<Room>,
    peer: PeerId,
    limits: Limits,
) {
    let mut keepalive = tokio::time::interval(limits.keepalive_interval);
    keepalive.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    keepalive.reset();
    // When a lagging peer's resync from the document is due (it had one
    // less than `RESYNC_INTERVAL` ago).
    let mut resync_due: Option<tokio::time::Instant> = None;
    loop {
        let sent = tokio::select! {
            biased;
            _ = link.closed().cancelled() => break,
            () = sleep_until(resync_due), if resync_due.is_some() => {
                resync_due = None;
                Ok(())
            }
            first = outbox.recv() => {
                let Some(first) = first else { break };
                keepalive.reset();
                write_batch(&mut sink, first, &mut outbox, limits.write_timeout).await
            }
            _ = keepalive.tick() => {
                // Browsers answer pings invisibly, so the stock client needs a
                // real message to know the server is alive; the ping's pong
                // tells us the client is.
                within(limits.write_timeout, async {
                    sink.feed(Message::Binary(Bytes::from_static(protocol::KEEPALIVE))).await?;
                    sink.feed(Message::Ping(Bytes::new())).await?;
                    sink.flush().await
                })
                .await
            }
        };
        if let Err(failure) = sent {
            failure.close(&link, &room, peer);
            return;
        }
        // The room keeps what a lagging peer misses; once everything queued
        // before is written, it is its turn.
        while resync_due.is_none() && link.is_lagging() && outbox.is_empty() {
            let missed = match room.catch_up(peer) {
                CatchUp::Send(missed) => missed,
                CatchUp::Done => break,
                CatchUp::RetryAt(at) => {
                    resync_due = Some(at.into());
                    break;
                }
            };
            let sent = within(limits.write_timeout, async {
                for frame in missed {
                    send_fragmented(&mut sink, frame).await?;
                }
                sink.flush().await
            })
            .await;
            if let Err(failure) = sent {
                failure.close(&link, &room, peer);
                return;
            }
        }
    }
    let (code, reason) = close_frame(&link.reason().unwrap_or(Reason::Normal));
    METRICS.closed(code);
    let frame = CloseFrame {
        code: code.into(),
        reason: reason.into(),
    };
    let _ = tokio::time::timeout(
        Duration::from_secs(2),
        sink.send(Message::Close(Some(frame))),
    )
    .await;
}

async fn sleep_until(at: Option<tokio::time::Instant>) {
    if let Some(at) = at {
        tokio::time::sleep_until(at).await;
    }
}

/// Two token buckets, messages and bytes, refilled continuously. A client
/// may burst to twice its rate (and always one maximum-size message).
struct RateLimit {
    messages: f64,
    bytes: f64,
    max_messages: f64,
    max_bytes: f64,
    messages_per_second: f64,
    bytes_per_second: f64,
    last: tokio::time::Instant,
}

impl RateLimit {
    fn new(limits: &Limits) -> Self {
        let max_messages = f64::from(limits.messages_per_second) * 2.0;
        let max_bytes = (limits.bytes_per_second as f64 * 2.0).max(limits.max_message_bytes as f64);
        Self {
            messages: max_messages,
            bytes: max_bytes,
            max_messages,
            max_bytes,
            messages_per_second: f64::from(limits.messages_per_second),
            bytes_per_second: limits.bytes_per_second as f64,
            last: tokio::time::Instant::now(),
        }
    }

    /// Takes one message of `size` bytes, or says the client is over its rate.
    fn take(&mut self, size: usize) -> bool {
        let now = tokio::time::Instant::now();
        let elapsed = now.duration_since(self.last).as_secs_f64();
        self.last = now;
        self.messages = (self.messages + elapsed * self.messages_per_second).min(self.max_messages);
        self.bytes = (self.bytes + elapsed * self.bytes_per_second).min(self.max_bytes);
        if self.messages < 1.0 || self.bytes < size as f64 {
            return false;
        }
        self.messages -= 1.0;
        self.bytes -= size as f64;
        true
    }
}

enum WriteFailure {
    Socket,
    Stalled,
}

impl WriteFailure {
    /// Asks the connection to close for this failure.
    fn close(self, link: &PeerLink, room: &Room, peer: PeerId) {
        match self {
            WriteFailure::Socket => link.close(Reason::Normal),
            WriteFailure::Stalled => {
                tracing::info!(table = %room.key(), peer, "closing a connection that stopped reading");
                link.close(Reason::Stalled);
            }
        }
    }
}

/// Runs a write, which fails as `Stalled` if the client takes longer than
/// `timeout` to take it.
async fn within(
    timeout: Duration,
    write: impl Future<Output = Result<(), WsError>>,
) -> Result<(), WriteFailure> {
    match tokio::time::timeout(timeout, write).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(_)) => Err(WriteFailure::Socket),
        Err(_) => Err(WriteFailure::Stalled),
    }
}

/// Sends `first` and whatever else is already queued, then flushes once.
async fn write_batch(
    sink: &mut SplitSink<Socket, Message>,
    first: Bytes,
    outbox: &mut mpsc::Receiver<Bytes>,
    timeout: Duration,
) -> Result<(), WriteFailure> {
    within(timeout, async {
        send_fragmented(sink, first).await?;
        for _ in 1..WRITE_BATCH {
            match outbox.try_recv() {
                Ok(next) => send_fragmented(sink, next).await?,
                Err(_) => break,
            }
        }
        sink.flush().await
    })
    .await
}
