//! The one place where the table core's reasons become WebSocket close
//! frames: every close code the server sends ([`close_frame`]), named.

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
/// The store cannot be reached (a cluster's PostgreSQL restarting or cut
/// off): the updates since the last delivery were not stored; the client
/// reconnects later and sends them again (`docs/scale-out.md`).
pub const CLOSE_TRY_AGAIN: u16 = 1013;
/// The table is served by another node now (or the relay to it broke):
/// the client reconnects and lands where it is served (`docs/scale-out.md`).
pub const CLOSE_SERVICE_RESTART: u16 = 1012;
/// The table's document reached [`crate::config::Limits::max_document_bytes`].
pub const CLOSE_TABLE_FULL: u16 = 4413;
/// The client sent faster than [`crate::config::Limits::messages_per_second`] or
/// [`crate::config::Limits::bytes_per_second`] allow.
pub const CLOSE_RATE: u16 = 4429;
/// The participant key the connection was opened with was renewed.
pub const CLOSE_REVOKED: u16 = 4403;
/// Nothing was received from the client for [`crate::config::Limits::idle_timeout`].
pub const CLOSE_IDLE: u16 = 4408;
/// The client did not read for [`crate::config::Limits::write_timeout`].
pub const CLOSE_STALLED: u16 = 4409;

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
        Reason::Unavailable => fixed(CLOSE_TRY_AGAIN, "storage unavailable; try again later"),
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
