//! What an input did, and the invariant it broke if it broke one.

use crate::store::StoreError;
use crate::table::presence::PeerId;

/// What one input did, so tests can tell that they reached the table at all.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Outcome {
    pub frames: usize,
    /// Frames that decoded and the table accepted.
    pub accepted: usize,
    /// Frames refused by the decoder.
    pub undecodable: usize,
    /// Frames that decoded but the table refused.
    pub refused: usize,
}

/// A broken invariant. Each says what differed, for the bug report.
#[derive(Debug, thiserror::Error)]
pub enum Violation {
    #[error("the room's document differs from what is durable: {0}")]
    NotDurable(String),
    #[error("peer {peer} received a message that is not valid y-protocol ({error}): {bytes:?}")]
    BadOutgoing {
        peer: PeerId,
        error: String,
        bytes: Vec<u8>,
    },
    #[error("peer {peer} received an update that is not durable yet ({what}): {update:?}")]
    Leaked {
        peer: PeerId,
        what: String,
        update: Vec<u8>,
    },
    #[error("the room's document does not survive its own encoding: {0}")]
    RoundTrip(String),
    #[error("storage cannot be read back: {0}")]
    Storage(#[from] StoreError),
    #[error("the room closed itself (its storage could not be rebuilt)")]
    RoomClosed,
    #[error("the table's reloads did not end")]
    Stuck,
    #[error("update {got} was persisted after {last}")]
    OutOfOrder { last: u64, got: u64 },
    #[error("presence: {0}")]
    Presence(String),
}
