//! Durability: every update the table applies gets the next sequence number,
//! and what would show it to a peer waits here until the persistence worker
//! reports that number durable, so no client ever sees an edit that a crash
//! could take back.
//!
//! Deliveries are released in sequence order, never before their number is
//! durable. The bytes held are counted so the table can push back when
//! storage falls behind ([`Durability::over`]).

use std::collections::VecDeque;

/// Sequence numbers and the deliveries waiting for theirs to be durable.
/// `D` is what the table delivers; the core does not look inside it.
#[derive(Debug)]
pub struct Durability<D> {
    /// Sequence number of the last update applied.
    applied: u64,
    /// Every update up to this sequence number is committed.
    durable: u64,
    held: VecDeque<Held<D>>,
    held_bytes: usize,
}

#[derive(Debug)]
struct Held<D> {
    seq: u64,
    bytes: usize,
    delivery: D,
}

impl<D> Default for Durability<D> {
    fn default() -> Self {
        Self {
            applied: 0,
            durable: 0,
            held: VecDeque::new(),
            held_bytes: 0,
        }
    }
}

impl<D> Durability<D> {
    /// Numbers the next applied update.
    pub fn next_seq(&mut self) -> u64 {
        self.applied += 1;
        self.applied
    }

    /// The sequence number of the last applied update.
    pub fn applied(&self) -> u64 {
        self.applied
    }

    /// Whether everything applied is durable.
    pub fn settled(&self) -> bool {
        self.durable >= self.applied
    }

    /// Hands `delivery` back if `seq` is already durable, else keeps it
    /// (counting `bytes`) until it is.
    pub fn hold(&mut self, seq: u64, bytes: usize, delivery: D) -> Option<D> {
        if seq <= self.durable {
            return Some(delivery);
        }
        self.held_bytes += bytes;
        self.held.push_back(Held {
            seq,
            bytes,
            delivery,
        });
        None
    }

    /// Every update up to `seq` is durable. Releases nothing by itself:
    /// take what became deliverable with [`Durability::release`].
    pub fn durable(&mut self, seq: u64) {
        self.durable = self.durable.max(seq);
    }

    /// The next held delivery whose sequence number is durable, in order.
    pub fn release(&mut self) -> Option<D> {
        if self.held.front()?.seq > self.durable {
            return None;
        }
        let held = self.held.pop_front()?;
        self.held_bytes -= held.bytes;
        Some(held.delivery)
    }

    /// Storage failed: nothing held will ever be durable.
    pub fn clear(&mut self) {
        self.held.clear();
        self.held_bytes = 0;
    }

    /// Bytes of deliveries waiting for storage.
    pub fn held_bytes(&self) -> usize {
        self.held_bytes
    }

    /// Whether more than `cap` bytes wait for storage: the table should stop
    /// taking writes until the worker catches up.
    pub fn over(&self, cap: usize) -> bool {
        self.held_bytes > cap
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drain(d: &mut Durability<&'static str>) -> Vec<&'static str> {
        std::iter::from_fn(|| d.release()).collect()
    }

    #[test]
    fn deliveries_wait_for_their_sequence_and_leave_in_order() {
        let mut d = Durability::default();
        let a = d.next_seq();
        let b = d.next_seq();
        assert_eq!(d.hold(a, 10, "a"), None);
        assert_eq!(d.hold(b, 20, "b1"), None);
        assert_eq!(d.hold(b, 5, "b2"), None);
        assert_eq!(d.held_bytes(), 35);
        assert!(!d.settled());
        assert!(drain(&mut d).is_empty(), "nothing is durable yet");
        d.durable(a);
        assert_eq!(drain(&mut d), ["a"]);
        d.durable(b);
        assert_eq!(drain(&mut d), ["b1", "b2"]);
        assert_eq!(d.held_bytes(), 0);
        assert!(d.settled());
    }

    #[test]
    fn a_delivery_of_a_durable_sequence_goes_at_once() {
        let mut d = Durability::default();
        let a = d.next_seq();
        d.durable(a);
        assert_eq!(d.hold(a, 10, "answer"), Some("answer"));
        assert_eq!(d.held_bytes(), 0);
    }

    #[test]
    fn durable_never_goes_back_and_a_failure_drops_what_is_held() {
        let mut d = Durability::default();
        let a = d.next_seq();
        let b = d.next_seq();
        d.durable(b);
        d.durable(a);
        assert_eq!(d.hold(b, 1, "b"), Some("b"));
        let c = d.next_seq();
        assert_eq!(d.hold(c, 100, "c"), None);
        assert!(d.over(99) && !d.over(100));
        d.clear();
        assert_eq!(d.held_bytes(), 0);
        d.durable(c);
        assert!(drain(&mut d).is_empty());
    }
}
