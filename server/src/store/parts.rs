//! Snapshots stored in parts, the rules both databases share (SQLite:
//! `sqlite/snapshot.rs`; PostgreSQL: `postgres/compaction.rs`).
//!
//! A compaction's snapshot is the whole table, tens of MB for a busy one.
//! Written in one statement it held the lock every commit needs (SQLite's
//! write lock; PostgreSQL's room row lock, with the whole old snapshot sent
//! back for the comparison) for as long as the database took to write and
//! sync it: 280 ms for 55 MB, 900 ms for 67 MB under the note-insert bench,
//! and every client's next delivery waited. Now a compaction:
//!
//! 1. writes the snapshot as parts of at most [`PART_BYTES`] under a new
//!    *generation*, each part in a short transaction of its own, pausing
//!    after each as long as it took ([`pace`]);
//! 2. in one short transaction checks that the room's snapshot is still the
//!    one it read ([`unchanged`]: the same generation, or for a snapshot
//!    stored whole, the same bytes) and points the room's `snapshots` row at
//!    the new generation (`parts`; `data` empty);
//! 3. deletes the room's parts of older generations, and then the log
//!    entries it folded.
//!
//! Invariants: a `snapshots` row with `parts` = g is the concatenation, in
//! `part` order, of generation g's parts, numbered 0, 1, … without a gap
//! ([`Assembler`] refuses anything else); a row with `parts` NULL holds its
//! snapshot in `data` (how snapshots were stored before, still read). A new
//! generation is above every one the room had when it was chosen, and it is
//! chosen after the compaction's read, so a cleanup of generations below the
//! current one never touches parts a later compaction is still writing.
//! Stopped anywhere, the room's snapshot is the old one or the new one,
//! whole; parts of a write that never flipped are above the current
//! generation and go with the next compaction's cleanup.

use std::time::{Duration, Instant};

use crate::store::{RoomKey, StoreError};

/// The largest part a snapshot is written in: a part's write and sync is
/// what a commit may wait for behind a compaction.
pub(crate) const PART_BYTES: usize = 512 * 1024;

/// The longest pause after one of a compaction's writes; see [`pace`].
const MAX_PAUSE: Duration = Duration::from_millis(50);

/// After a compaction's write that began at `started`, waits as long as it
/// took (at most [`MAX_PAUSE`]): the compactor then holds the database at
/// most half the time, and a commit waiting for it (SQLite polls every
/// 250 µs) gets in before the next write rather than after a run of them.
pub(crate) fn pace(started: Instant) {
    std::thread::sleep(started.elapsed().min(MAX_PAUSE));
}

/// The parts of `snapshot` to write, in order: at most `part_bytes` each,
/// and one empty part for an empty snapshot (never an encoded update).
pub(crate) fn split(snapshot: &[u8], part_bytes: usize) -> Vec<&[u8]> {
    if snapshot.is_empty() {
        vec![snapshot]
    } else {
        snapshot.chunks(part_bytes.max(1)).collect()
    }
}

/// What a room's `snapshots` row holds: the generation of its parts, or
/// `None` and the snapshot itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Head {
    Whole(Vec<u8>),
    Parts(i64),
}

impl Head {
    /// From the row's `parts` and `data` columns.
    pub(crate) fn from_row(parts: Option<i64>, data: Vec<u8>) -> Head {
        match parts {
            Some(generation) => Head::Parts(generation),
            None => Head::Whole(data),
        }
    }
}

/// Whether the room's head as it is now is the one a compaction read:
/// `read` is the snapshot it read and the generation that was stored under.
pub(crate) fn unchanged(now: Option<&Head>, read: Option<&[u8]>, generation: Option<i64>) -> bool {
    match (now, read) {
        (None, None) => true,
        (Some(Head::Parts(now)), Some(_)) => generation == Some(*now),
        (Some(Head::Whole(now)), Some(read)) => generation.is_none() && now == read,
        _ => false,
    }
}

/// Puts a generation's parts back together, in `part` order, refusing a
/// gap or a generation without parts.
pub(crate) struct Assembler<'a> {
    room: &'a RoomKey,
    generation: i64,
    next: i64,
    snapshot: Vec<u8>,
}

impl<'a> Assembler<'a> {
    pub(crate) fn new(room: &'a RoomKey, generation: i64) -> Self {
        Self {
            room,
            generation,
            next: 0,
            snapshot: Vec::new(),
        }
    }

    /// Adds part number `part`, which must be the next one.
    pub(crate) fn push(&mut self, part: i64, data: &[u8]) -> Result<(), StoreError> {
        if part != self.next {
            return Err(self.missing());
        }
        self.snapshot.extend_from_slice(data);
        self.next += 1;
        Ok(())
    }

    /// The snapshot, once every part was pushed.
    pub(crate) fn finish(self) -> Result<Vec<u8>, StoreError> {
        if self.next == 0 {
            return Err(self.missing());
        }
        Ok(self.snapshot)
    }

    fn missing(&self) -> StoreError {
        StoreError::Corrupt {
            room: self.room.clone(),
            reason: format!(
                "snapshot generation {} lacks part {}",
                self.generation, self.next
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_snapshot_splits_into_parts_of_at_most_the_size_and_an_empty_one_into_one() {
        let snapshot: Vec<u8> = (0..=9).collect();
        let parts = split(&snapshot, 4);
        assert_eq!(parts, vec![&[0, 1, 2, 3][..], &[4, 5, 6, 7], &[8, 9]]);
        let empty: &[u8] = &[];
        assert_eq!(split(empty, 4), vec![empty]);
    }

    #[test]
    fn parts_assemble_in_order_and_a_gap_or_none_is_refused() {
        let room = RoomKey::new("e", "a");
        let mut whole = Assembler::new(&room, 3);
        whole.push(0, b"ab").unwrap();
        whole.push(1, b"c").unwrap();
        assert_eq!(whole.finish().unwrap(), b"abc");

        let mut gap = Assembler::new(&room, 3);
        gap.push(0, b"ab").unwrap();
        let error = gap.push(2, b"c").unwrap_err().to_string();
        assert!(error.contains("generation 3 lacks part 1"), "{error}");
        let error = Assembler::new(&room, 4).finish().unwrap_err().to_string();
        assert!(error.contains("generation 4 lacks part 0"), "{error}");
    }

    #[test]
    fn a_head_is_unchanged_only_as_it_was_read() {
        let parts = Head::Parts(7);
        let whole = Head::Whole(b"abc".to_vec());
        assert!(unchanged(None, None, None));
        assert!(unchanged(Some(&parts), Some(b"x"), Some(7)));
        assert!(
            !unchanged(Some(&parts), Some(b"x"), Some(6)),
            "another generation"
        );
        assert!(!unchanged(Some(&parts), Some(b"x"), None), "was whole");
        assert!(unchanged(Some(&whole), Some(b"abc"), None));
        assert!(!unchanged(Some(&whole), Some(b"abd"), None), "other bytes");
        assert!(
            !unchanged(Some(&whole), Some(b"abc"), Some(7)),
            "was in parts"
        );
        assert!(!unchanged(None, Some(b"abc"), None), "gone (quarantined)");
        assert!(!unchanged(Some(&parts), None, None), "written since");
    }
}
