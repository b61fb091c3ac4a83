//! The console's overview: every table at a glance for the facilitator
//! (people, notes, drafts, voters against identities present, control).

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Serialize;
use werktafel_shared::control::Control;
use werktafel_shared::poster::BoardView;
use werktafel_shared::schema;

use crate::access::Role;
use crate::http::error::AppError;
use crate::http::facilitation::drafts::drafts_rooms;
use crate::http::facilitation::votes::voters;
use crate::http::facilitation::{now_ms, require_facilitator};
use crate::http::state::AppState;

/// One table in the console.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ConsoleTable {
    id: String,
    title: String,
    people: usize,
    notes: usize,
    /// Unrevealed notes in participants' drafts.
    drafts: usize,
    control: Control,
    /// Signed identities connected to the table now (the browser presents
    /// its identity cookie); `people` also counts connections without one.
    identities: usize,
    /// Signed identities that have votes on this table's notes.
    voters: usize,
    /// Of those voters, how many are connected to the table now: votes
    /// from identities nobody is sitting behind show as the difference.
    voters_present: usize,
    /// Votes cast at the table, in all.
    votes: u32,
    /// Lanes or poster as shown now: the facilitator's choice, else the event file's.
    view: BoardView,
}

/// `GET /api/events/{event}/console`: every table at a glance (facilitator).
pub async fn console(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    Extension(role): Extension<Role>,
) -> Result<Response, AppError> {
    state.event_by_slug(&slug)?;
    require_facilitator(role)?;
    let mut tables = Vec::new();
    for def in &state.event().tables {
        let room = state.room(def).await?;
        let mut drafts = 0;
        for draft in drafts_rooms(&state, def).await? {
            drafts += draft.read(schema::note_count);
        }
        let ballots = voters(&state, def).await?;
        let present = state.attendance().at(def.id.as_str());
        tables.push(ConsoleTable {
            id: def.id.to_string(),
            title: def.title.clone(),
            people: room.peer_count(),
            notes: room.read(schema::note_count),
            drafts,
            control: room.control(),
            identities: present.len(),
            voters: ballots.len(),
            voters_present: ballots.keys().filter(|id| present.contains(*id)).count(),
            votes: ballots.values().sum(),
            view: room.control().view.unwrap_or(def.view),
        });
    }
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Console {
        now: i64,
        tables: Vec<ConsoleTable>,
    }
    Ok(Json(Console {
        now: now_ms(),
        tables,
    })
    .into_response())
}
