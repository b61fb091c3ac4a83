//! The catch-up of one slow reader: what it missed while its outbox was
//! full, and when it needs a resync from the whole document instead.
//!
//! The missed deliveries are the same shared `Bytes` the other peers got,
//! so keeping them costs little until the others have sent theirs; the
//! budget bounds what one slow reader can hold. Past it, only a resync can
//! bring the peer up to date, and that walks the whole document, so it
//! happens at most once per [`RESYNC_INTERVAL`].

use std::time::{Duration, Instant};

use bytes::Bytes;

/// A lagging peer gets a resync from the whole document (a diff against
/// the state vector it declared, which walks every block) at most this
/// often; in between, what it misses is not kept.
pub const RESYNC_INTERVAL: Duration = Duration::from_secs(1);

/// One peer's side of delivery while its outbox is full.
#[derive(Debug)]
pub struct Outbox {
    /// The most bytes of missed deliveries kept while the peer lags.
    budget: usize,
    /// While the outbox is full: what the peer missed.
    lag: Option<Lag>,
    /// When the peer last got a resync from the whole document.
    last_resync: Option<Instant>,
}

/// What the writer of a lagging peer does next ([`Outbox::catch_up`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    /// Send these, in order, then ask again.
    Send(Vec<Bytes>),
    /// Up to date as far as its queue goes: the peer no longer lags.
    Done,
    /// Resync it from the document now; it no longer lags.
    Resync,
    /// It needs a resync but had one less than [`RESYNC_INTERVAL`] ago:
    /// ask again at this instant.
    RetryAt(Instant),
}

/// The deliveries a lagging peer missed, in order.
#[derive(Debug, Default)]
struct Lag {
    missed: Vec<Bytes>,
    bytes: usize,
    /// Over budget: `missed` was let go and only a resync from the document
    /// can bring the peer up to date.
    overflowed: bool,
}

impl Outbox {
    /// A peer that may fall behind by `budget` bytes of deliveries before
    /// it needs a resync from the document.
    pub fn new(budget: usize) -> Self {
        Self {
            budget,
            lag: None,
            last_resync: None,
        }
    }

    /// Whether deliveries are being kept back for a catch-up.
    pub fn is_lagging(&self) -> bool {
        self.lag.is_some()
    }

    /// Keeps `bytes` for the catch-up, starting to lag if the peer did not
    /// yet (its outbox was found full).
    pub fn keep(&mut self, bytes: Bytes) {
        let lag = self.lag.get_or_insert_with(Lag::default);
        if lag.overflowed {
            return;
        }
        if lag.bytes + bytes.len() > self.budget {
            lag.overflowed = true;
            lag.missed = Vec::new();
            lag.bytes = 0;
            return;
        }
        lag.bytes += bytes.len();
        lag.missed.push(bytes);
    }

    /// What to do for the peer at `now`, once its writer has sent
    /// everything queued. Only when nothing more was missed since the last
    /// [`Next::Send`] does it stop lagging, so nothing overtakes anything.
    pub fn catch_up(&mut self, now: Instant) -> Next {
        let Some(lag) = self.lag.as_mut() else {
            return Next::Done;
        };
        if lag.overflowed {
            if let Some(last) = self.last_resync
                && now < last + RESYNC_INTERVAL
            {
                return Next::RetryAt(last + RESYNC_INTERVAL);
            }
            self.last_resync = Some(now);
            self.lag = None;
            return Next::Resync;
        }
        if lag.missed.is_empty() {
            self.lag = None;
            return Next::Done;
        }
        lag.bytes = 0;
        Next::Send(std::mem::take(&mut lag.missed))
    }

    /// Bytes kept for the catch-up now.
    pub fn kept_bytes(&self) -> usize {
        self.lag.as_ref().map_or(0, |lag| lag.bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(len: usize) -> Bytes {
        Bytes::from(vec![0; len])
    }

    #[test]
    fn a_lagging_peer_gets_what_it_missed_in_order_then_stops_lagging() {
        let mut outbox = Outbox::new(100);
        let now = Instant::now();
        assert_eq!(outbox.catch_up(now), Next::Done);
        outbox.keep(Bytes::from_static(b"a"));
        outbox.keep(Bytes::from_static(b"b"));
        assert!(outbox.is_lagging());
        assert_eq!(
            outbox.catch_up(now),
            Next::Send(vec![Bytes::from_static(b"a"), Bytes::from_static(b"b")])
        );
        assert!(outbox.is_lagging(), "it lags until an empty round");
        outbox.keep(Bytes::from_static(b"c"));
        assert_eq!(
            outbox.catch_up(now),
            Next::Send(vec![Bytes::from_static(b"c")])
        );
        assert_eq!(outbox.catch_up(now), Next::Done);
        assert!(!outbox.is_lagging());
    }

    #[test]
    fn a_lag_over_budget_lets_go_of_what_it_kept() {
        let mut outbox = Outbox::new(100);
        outbox.keep(frame(60));
        assert_eq!(outbox.kept_bytes(), 60);
        outbox.keep(frame(60));
        assert_eq!(outbox.kept_bytes(), 0);
        outbox.keep(frame(1));
        assert_eq!(outbox.kept_bytes(), 0, "nothing is kept once over budget");
        assert_eq!(outbox.catch_up(Instant::now()), Next::Resync);
        assert!(!outbox.is_lagging());
    }

    #[test]
    fn resyncs_are_spaced_by_the_interval() {
        let t0 = Instant::now();
        let mut outbox = Outbox::new(10);
        outbox.keep(frame(11));
        assert_eq!(outbox.catch_up(t0), Next::Resync);
        outbox.keep(frame(11));
        let soon = t0 + RESYNC_INTERVAL / 2;
        assert_eq!(outbox.catch_up(soon), Next::RetryAt(t0 + RESYNC_INTERVAL));
        assert!(outbox.is_lagging(), "still waiting for its resync");
        assert_eq!(outbox.catch_up(t0 + RESYNC_INTERVAL), Next::Resync);
    }
}
