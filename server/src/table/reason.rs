//! Why the core refuses a message and why a connection closes, as values.
//! Only the socket adapter ([`crate::sync::connection::close_frame`]) knows the
//! close code and text each one becomes.

/// Why a client's message was refused; the connection closes over it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("invalid update: {0}")]
    InvalidUpdate(String),
    #[error("invalid awareness update: {0}")]
    InvalidAwareness(String),
    #[error("{0}")]
    Forbidden(&'static str),
    #[error("the table is full: {limit} bytes stored")]
    TooLarge { limit: u64 },
    #[error("an awareness state of {size} bytes (at most {limit})")]
    AwarenessTooLarge { size: usize, limit: usize },
}

/// Why a connection closes. The first reason given wins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    /// The client went away, or its socket failed.
    Normal,
    /// The server is shutting down.
    ShuttingDown,
    /// The frame is not valid y-protocol; says why.
    Malformed(String),
    /// The message exceeds the size limit; says why.
    TooBig(String),
    /// A text frame: the sync protocol is binary.
    TextFrame,
    /// The core refused a message.
    Refused(Refusal),
    /// The table failed on the server side (storage, reload); says what.
    Internal(&'static str),
    /// The store cannot be reached: what the client sent since its last
    /// delivery is not stored; it may reconnect and send it again later.
    Unavailable,
    /// The client sent faster than its rate allows.
    TooFast,
    /// Nothing was received from the client for the idle timeout.
    Idle,
    /// The client did not read for the write timeout.
    Stalled,
    /// The key the connection was opened with was renewed.
    Revoked,
    /// Another node serves the table now (this one lost its lease, or the
    /// node relayed to went away): reconnect, and land where it is served.
    Moved,
}

impl From<Refusal> for Reason {
    fn from(refusal: Refusal) -> Self {
        Reason::Refused(refusal)
    }
}
