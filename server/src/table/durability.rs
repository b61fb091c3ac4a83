//! Durability: every update the table applies gets the next sequence number,
//! and what would show it to a peer waits here until the persistence worker
//! reports that number durable, so no client ever sees an edit that a crash
//! could take back.
//!
//! Deliveries are released in sequence order, never before their number is
//! durable. The bytes of updates not yet durable are counted, so the table
//! pushes back when storage falls behind ([`Durability::backlogged`]):
//! memory for the persistence queue and for the held deliveries (one per
//! update, plus the answers waiting on them) stays bounded by
//! [`MAX_UNFLUSHED_BYTES`] plus one message, whatever a stalled fsync does.

use std::collections::VecDeque;

/// The most bytes of a table's updates that may wait for storage before the
/// table stops taking client writes. Far above what a busy table queues
/// between two commits (a few hundred KiB at 20,000 notes a second), and
/// above the largest message, so a write is refused only when the disk has
/// fallen seconds behind.
pub const MAX_UNFLUSHED_BYTES: usize = 16 * 1024 * 1024;

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
    /// Each update not yet durable, with its size, in sequence order.
    unflushed: VecDeque<(u64, usize)>,
    unflushed_bytes: usize,
    /// A client write was pushed back since storage last caught up.
    pushed_back: bool,
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
            unflushed: VecDeque::new(),
            unflushed_bytes: 0,
            pushed_back: false,
        }
    }
}

impl<D> Durability<D> {
    /// Numbers the next applied update, of `bytes` bytes, queued for storage.
    pub fn next_seq(&mut self, bytes: usize) -> u64 {
        self.applied += 1;
        self.unflushed.push_back((self.applied, bytes));
        self.unflushed_bytes += bytes;
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
        while let Some(&(next, bytes)) = self.unflushed.front()
            && next <= self.durable
        {
            self.unflushed.pop_front();
            self.unflushed_bytes -= bytes;
        }
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
        self.unflushed.clear();
        self.unflushed_bytes = 0;
    }

    /// Bytes of deliveries waiting for storage.
    pub fn held_bytes(&self) -> usize {
        self.held_bytes
    }

    /// Bytes of updates waiting for storage.
    pub fn unflushed_bytes(&self) -> usize {
        self.unflushed_bytes
    }

    /// Whether more than `cap` bytes of updates wait for storage. If so, a
    /// client's write is pushed back ([`Durability::push_back`]) instead of
    /// growing the queue.
    pub fn backlogged(&self, cap: usize) -> bool {
        self.unflushed_bytes > cap
    }

    /// A client write was pushed back: the client keeps it, and the table
    /// asks for it again once storage has caught up ([`Durability::relieved`]).
    pub fn push_back(&mut self) {
        self.pushed_back = true;
    }

    /// Whether writes were pushed back and storage is now under `cap` again:
    /// true once per push-back, so the table asks its peers for what it
    /// lacks once.
    pub fn relieved(&mut self, cap: usize) -> bool {
        if self.pushed_back && !self.backlogged(cap) {
            self.pushed_back = false;
            return true;
        }
        false
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
        let a = d.next_seq(10);
        let b = d.next_seq(20);
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
        let a = d.next_seq(1);
        d.durable(a);
        assert_eq!(d.hold(a, 10, "answer"), Some("answer"));
        assert_eq!(d.held_bytes(), 0);
    }

    #[test]
    fn durable_never_goes_back_and_a_failure_drops_what_is_held() {
        let mut d = Durability::default();
        let a = d.next_seq(1);
        let b = d.next_seq(1);
        d.durable(b);
        d.durable(a);
        assert_eq!(d.hold(b, 1, "b"), Some("b"));
        let c = d.next_seq(100);
        assert_eq!(d.hold(c, 100, "c"), None);
        d.clear();
        assert_eq!((d.held_bytes(), d.unflushed_bytes()), (0, 0));
        d.durable(c);
        assert!(drain(&mut d).is_empty());
    }

    #[test]
    fn a_stalled_store_pushes_writes_back_until_it_catches_up() {
        let mut d: Durability<&'static str> = Durability::default();
        let cap = 100;
        let mut seqs = Vec::new();
        while !d.backlogged(cap) {
            seqs.push(d.next_seq(30));
        }
        // 4 updates of 30 bytes wait: the fifth write is pushed back.
        assert_eq!((seqs.len(), d.unflushed_bytes()), (4, 120));
        d.push_back();
        assert!(!d.relieved(cap), "storage has not caught up");
        d.durable(seqs[0]);
        assert_eq!(d.unflushed_bytes(), 90);
        assert!(d.relieved(cap), "under the cap again: ask once");
        assert!(!d.relieved(cap), "only once per push-back");
        d.durable(seqs[3]);
        assert_eq!(d.unflushed_bytes(), 0);
        assert!(d.settled());
    }
}
