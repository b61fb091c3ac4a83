//! Admission of new connections: at most so many open per event and per
//! remote address, and so many attempts per address per minute. Refused
//! upgrades get HTTP 429 before any WebSocket exists.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::config::Limits;

/// The window over which connection attempts are counted.
pub const ATTEMPT_WINDOW: Duration = Duration::from_secs(60);

/// Counts open connections and recent attempts; cheap to clone.
#[derive(Clone, Default)]
pub struct Gate {
    inner: Arc<GateInner>,
}

#[derive(Default)]
struct GateInner {
    open: AtomicUsize,
    /// Per address: open connections, and attempts in the current window.
    by_address: Mutex<HashMap<IpAddr, AddressCount>>,
}

struct AddressCount {
    open: usize,
    window_start: Instant,
    attempts: u32,
}

/// Why a connection was not admitted.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Refusal {
    #[error("the event has its maximum of {0} connections")]
    EventFull(usize),
    #[error("this address has its maximum of {0} connections")]
    AddressFull(usize),
    #[error("too many connection attempts from this address (at most {0} a minute)")]
    TooManyAttempts(u32),
}

/// An admitted connection; dropping it frees its place.
pub struct Ticket {
    gate: Gate,
    address: IpAddr,
}

impl Gate {
    /// Admits one connection from `address`, or says why not.
    pub fn admit(&self, address: IpAddr, limits: &Limits) -> Result<Ticket, Refusal> {
        let mut map = self
            .inner
            .by_address
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let now = Instant::now();
        let count = map.entry(address).or_insert(AddressCount {
            open: 0,
            window_start: now,
            attempts: 0,
        });
        if now.duration_since(count.window_start) >= ATTEMPT_WINDOW {
            count.window_start = now;
            count.attempts = 0;
        }
        count.attempts = count.attempts.saturating_add(1);
        if count.attempts > limits.connects_per_address_per_minute {
            return Err(Refusal::TooManyAttempts(
                limits.connects_per_address_per_minute,
            ));
        }
        if count.open >= limits.max_connections_per_address {
            return Err(Refusal::AddressFull(limits.max_connections_per_address));
        }
        if self.inner.open.load(Ordering::Acquire) >= limits.max_connections {
            return Err(Refusal::EventFull(limits.max_connections));
        }
        count.open += 1;
        self.inner.open.fetch_add(1, Ordering::AcqRel);
        Ok(Ticket {
            gate: self.clone(),
            address,
        })
    }

    /// Forgets addresses with nothing open and no recent attempts.
    pub fn sweep(&self) {
        let mut map = self
            .inner
            .by_address
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        map.retain(|_, c| c.open > 0 || c.window_start.elapsed() < ATTEMPT_WINDOW);
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        self.gate.inner.open.fetch_sub(1, Ordering::AcqRel);
        let mut map = self
            .gate
            .inner
            .by_address
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(count) = map.get_mut(&self.address) {
            count.open = count.open.saturating_sub(1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(max: usize, per_address: usize, attempts: u32) -> Limits {
        Limits {
            max_connections: max,
            max_connections_per_address: per_address,
            connects_per_address_per_minute: attempts,
            ..Limits::default()
        }
    }

    #[test]
    fn limits_are_per_address_per_event_and_per_minute() {
        let gate = Gate::default();
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        let l = limits(3, 2, 100);
        let t1 = gate.admit(a, &l).unwrap();
        let _t2 = gate.admit(a, &l).unwrap();
        assert_eq!(gate.admit(a, &l).err(), Some(Refusal::AddressFull(2)));
        let _t3 = gate.admit(b, &l).unwrap();
        assert_eq!(gate.admit(b, &l).err(), Some(Refusal::EventFull(3)));
        drop(t1);
        assert!(
            gate.admit(a, &l).is_ok(),
            "a closed connection frees its place"
        );

        let gate = Gate::default();
        let l = limits(100, 100, 2);
        let _x = gate.admit(a, &l).unwrap();
        let _y = gate.admit(a, &l).unwrap();
        assert_eq!(gate.admit(a, &l).err(), Some(Refusal::TooManyAttempts(2)));
        assert!(
            gate.admit(b, &l).is_ok(),
            "other addresses are not affected"
        );
    }
}
