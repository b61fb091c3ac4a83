//! When a room's log is due for compaction: it must have grown by as much as
//! was stored before, so each stored byte is folded a bounded number of
//! times. The persistence worker counts; the compactor folds.

/// A room's log is folded into a snapshot once it has at least this many
/// updates *and* at least as many bytes as everything stored before (and
/// [`COMPACT_MIN_BYTES`]). Compaction replays and re-encodes the whole
/// document, so its cost must grow with the log, not with every thousand
/// keystrokes of a large table: this way each stored byte is compacted a
/// bounded number of times, and a load replays at most about the document's
/// own size of log. It runs on the compactor's thread, but still costs CPU
/// the commits share.
pub const COMPACT_EVERY: u64 = 1000;
/// See [`COMPACT_EVERY`]. A log below this is cheap to replay on load, so
/// folding it would cost more than it saves; once a table has been folded,
/// the geometric rule (log bytes at least what was stored before) decides.
pub const COMPACT_MIN_BYTES: u64 = 1024 * 1024;

/// What a room's log has gathered since its last compaction was asked for
/// (or since it was loaded).
#[derive(Default)]
pub(crate) struct Growth {
    pub(crate) updates: u64,
    pub(crate) bytes: u64,
    /// Bytes stored before: snapshot plus log at the last compaction request
    /// or load.
    pub(crate) before: u64,
}

impl Growth {
    /// Whether the log has grown enough to be worth folding: see
    /// [`COMPACT_EVERY`] and [`COMPACT_MIN_BYTES`].
    pub(crate) fn due(&self) -> bool {
        self.updates >= COMPACT_EVERY && self.bytes >= self.before.max(COMPACT_MIN_BYTES)
    }
}
