//! Running the tables: the facilitator's controls
//! (phase, timer, lock, private writing and revealing drafts, voting rules),
//! the console's overview, dot voting with a budget, and the QR codes that
//! bring people to a table.
//!
//! Everything here is enforced by the server: the controls require the
//! facilitator's key, votes a signed identity, and the table documents carry
//! the outcome in their server-only maps (`control`, `votes`).
//!
//! Its parts: `links` (QR codes, renewing the participant key), `console`,
//! `control`, `drafts` (private writing's reveal) and `votes`. They name
//! each other through this module's path (`crate::http::facilitation::…`),
//! so the house rules' import graph (`tests/tidy.rs`) sees every edge.

mod console;
mod control;
mod drafts;
mod links;
mod votes;

pub use console::console;
pub use control::{ControlRequest, MAX_TIMER_MINUTES, Tables, control};
pub use links::{QrQuery, participant_link, qr, renew_participant_key};
pub use votes::{MAX_VOTE_BUDGET, MyVotes, TokenQuery, VoteBody, my_votes, vote};

use crate::access::Role;
use crate::http::error::AppError;

fn require_facilitator(role: Role) -> Result<(), AppError> {
    if role == Role::Facilitator {
        Ok(())
    } else {
        Err(AppError::Forbidden("only the facilitator link can do this"))
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
