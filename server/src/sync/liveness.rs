//! A connection's clock rules, without I/O: when to send a keepalive or a
//! ping, when a silent client or one that stopped reading is closed, how
//! fast a client may send, and when a deferred catch-up is due.
//!
//! [`Liveness`] has no clock of its own and no timers: the connection tells
//! it what happened and when (a frame received, a write started or
//! finished), asks [`Liveness::poll`] what is due, carries that out, and
//! otherwise sleeps until the one instant the answer names. So every rule
//! here is tested with plain `Instant` arithmetic.
//!
//! The rules:
//! - Idle: a client that sends nothing (not even a pong) for
//!   [`Limits::idle_timeout`] is closed with [`Reason::Idle`].
//! - Stall: a write the client does not take within [`Limits::write_timeout`]
//!   closes it with [`Reason::Stalled`], whatever else it sends meanwhile.
//! - Keepalive message: a client sent no message for
//!   [`Limits::keepalive_interval`] gets the keepalive message, because the
//!   stock y-websocket client reconnects after 30 s without one.
//! - Ping: a client that sent no data for the interval, and was not pinged
//!   within it, gets a ping, whose pong keeps it from going idle; so a
//!   client that only reads a busy table is pinged too, once an interval.
//! - Rate: two token buckets, messages and bytes, refilled continuously; a
//!   client may burst to twice its rate, and always one maximum-size message.
//! - Nothing is written while a write is in progress: keepalives and a
//!   catch-up wait for it, only the closes run on.

use std::time::{Duration, Instant};

use crate::config::Limits;
use crate::table::reason::Reason;

/// How long the close frame may take to go out before the socket is dropped
/// anyway; the client may be the reason the connection closes.
pub const CLOSE_GRACE: Duration = Duration::from_secs(2);

/// One connection's timing state.
#[derive(Debug)]
pub struct Liveness {
    idle_timeout: Duration,
    write_timeout: Duration,
    keepalive_interval: Duration,
    rate: RateLimit,
    /// When the client last sent anything, control frames included.
    last_received: Instant,
    /// When the client last sent a data frame: a pong answers a ping, so
    /// it does not put off the next one.
    last_data: Instant,
    /// When the client was last written a message (an update, a keepalive).
    last_message: Instant,
    /// When the client was last written a ping.
    last_ping: Instant,
    /// When the write in progress began.
    writing_since: Option<Instant>,
    /// When the room asked to be asked again for a catch-up.
    catch_up_at: Option<Instant>,
}

/// What the connection should do now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Nothing is due before this instant: sleep until it (or until
    /// something happens), then poll again.
    Wait(Instant),
    /// Write this keepalive, reporting it with [`Written::Keepalive`].
    Keepalive(Keepalive),
    /// The deferred catch-up ([`Liveness::catch_up_at`]) is due.
    CatchUp,
    /// Close the connection.
    Close(Reason),
}

/// What a keepalive write carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Keepalive {
    /// The keepalive message, for a client that was sent nothing lately.
    pub message: bool,
    /// A ping, for a client that sent nothing lately.
    pub ping: bool,
}

/// What a finished write carried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Written {
    /// Updates, sync or awareness messages.
    Messages,
    Keepalive(Keepalive),
}

impl Liveness {
    /// A connection opened at `now`: every period starts here.
    pub fn new(limits: &Limits, now: Instant) -> Self {
        Self {
            idle_timeout: limits.idle_timeout,
            write_timeout: limits.write_timeout,
            keepalive_interval: limits.keepalive_interval,
            rate: RateLimit::new(limits, now),
            last_received: now,
            last_data: now,
            last_message: now,
            last_ping: now,
            writing_since: None,
            catch_up_at: None,
        }
    }

    /// A data frame of `size` bytes arrived; refused with
    /// [`Reason::TooFast`] if the client is over its rate.
    pub fn frame_received(&mut self, now: Instant, size: usize) -> Result<(), Reason> {
        self.last_received = now;
        self.last_data = now;
        if self.rate.take(now, size) {
            Ok(())
        } else {
            Err(Reason::TooFast)
        }
    }

    /// A control frame (a pong, a ping, a close) arrived: proof of life,
    /// not counted against the rate.
    pub fn control_received(&mut self, now: Instant) {
        self.last_received = now;
    }

    /// A write to the socket begins.
    pub fn write_started(&mut self, now: Instant) {
        self.writing_since = Some(now);
    }

    /// The write begun last finished: the client took `written`.
    pub fn write_finished(&mut self, now: Instant, written: Written) {
        self.writing_since = None;
        match written {
            Written::Messages => self.last_message = now,
            Written::Keepalive(keepalive) => {
                if keepalive.message {
                    self.last_message = now;
                }
                if keepalive.ping {
                    self.last_ping = now;
                }
            }
        }
    }

    /// The room asked to be asked again for a catch-up at `at`.
    pub fn catch_up_at(&mut self, at: Instant) {
        self.catch_up_at = Some(at);
    }

    /// Whether a catch-up waits for [`Decision::CatchUp`].
    pub fn catch_up_waiting(&self) -> bool {
        self.catch_up_at.is_some()
    }

    /// The close that is due at `now`, or the earliest instant one can be:
    /// what a write in progress races against.
    pub fn expiry(&self, now: Instant) -> Result<Instant, Reason> {
        // A stalled write closes even while the client keeps sending: it
        // still fills memory the server cannot hand over.
        if let Some(stall) = self.stall_deadline()
            && now >= stall
        {
            return Err(Reason::Stalled);
        }
        let idle = self.last_received + self.idle_timeout;
        if now >= idle {
            return Err(Reason::Idle);
        }
        Ok(self.stall_deadline().map_or(idle, |stall| stall.min(idle)))
    }

    /// What is due at `now`. A catch-up comes before a keepalive: it is a
    /// message too.
    pub fn poll(&mut self, now: Instant) -> Decision {
        let close_at = match self.expiry(now) {
            Ok(at) => at,
            Err(reason) => return Decision::Close(reason),
        };
        if self.writing_since.is_some() {
            return Decision::Wait(close_at);
        }
        if let Some(at) = self.catch_up_at
            && now >= at
        {
            self.catch_up_at = None;
            return Decision::CatchUp;
        }
        let message_at = self.last_message + self.keepalive_interval;
        let ping_at = self.last_ping.max(self.last_data) + self.keepalive_interval;
        let keepalive = Keepalive {
            message: now >= message_at,
            ping: now >= ping_at,
        };
        if keepalive.message || keepalive.ping {
            return Decision::Keepalive(keepalive);
        }
        let next = [
            Some(close_at),
            Some(message_at),
            Some(ping_at),
            self.catch_up_at,
        ]
        .into_iter()
        .flatten()
        .min()
        .unwrap_or(close_at);
        Decision::Wait(next)
    }

    /// When a close frame begun at `now` is given up on.
    pub fn close_deadline(now: Instant) -> Instant {
        now + CLOSE_GRACE
    }

    fn stall_deadline(&self) -> Option<Instant> {
        self.writing_since.map(|since| since + self.write_timeout)
    }
}

/// Two token buckets, messages and bytes, refilled continuously.
#[derive(Debug)]
struct RateLimit {
    messages: f64,
    bytes: f64,
    max_messages: f64,
    max_bytes: f64,
    messages_per_second: f64,
    bytes_per_second: f64,
    last: Instant,
}

impl RateLimit {
    /// Full buckets at `now`: twice the rate, and at least one
    /// maximum-size message of bytes.
    fn new(limits: &Limits, now: Instant) -> Self {
        let max_messages = f64::from(limits.messages_per_second) * 2.0;
        let max_bytes = (limits.bytes_per_second as f64 * 2.0).max(limits.max_message_bytes as f64);
        Self {
            messages: max_messages,
            bytes: max_bytes,
            max_messages,
            max_bytes,
            messages_per_second: f64::from(limits.messages_per_second),
            bytes_per_second: limits.bytes_per_second as f64,
            last: now,
        }
    }

    /// Takes one message of `size` bytes, or says the client is over its rate.
    fn take(&mut self, now: Instant, size: usize) -> bool {
        // A clock read late by another task may be behind `last`: no refill.
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.last = self.last.max(now);
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

#[cfg(test)]
mod tests;
