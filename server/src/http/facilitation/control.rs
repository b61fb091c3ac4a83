//! The facilitator's controls (`POST /api/events/{event}/control`): phase,
//! timer, lock, private writing and reveal, voting rules and the board's
//! view, on one table, several or all, written to each table's server-only
//! `control` map.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Deserialize;
use werktafel_shared::control::{Phase, VoteVisibility, read_control_in, write_control};
use werktafel_shared::event::TableDef;
use werktafel_shared::poster::BoardView;

use crate::access::Role;
use crate::http::error::AppError;
use crate::http::facilitation::drafts::reveal;
use crate::http::facilitation::votes::{MAX_VOTE_BUDGET, publish_votes};
use crate::http::facilitation::{now_ms, require_facilitator};
use crate::http::state::AppState;

/// Longest countdown a facilitator can set.
pub const MAX_TIMER_MINUTES: u32 = 240;

/// Which tables a control applies to.
#[derive(Deserialize)]
#[serde(untagged)]
pub enum Tables {
    /// `"all"`.
    All(String),
    /// `["a", "c"]`.
    Some(Vec<String>),
}

/// `POST /api/events/{event}/control`: what the facilitator changes. Every
/// field is optional; several can change at once.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ControlRequest {
    tables: Option<Tables>,
    phase: Option<Phase>,
    locked: Option<bool>,
    /// Minutes from now; `0` stops the timer.
    timer_minutes: Option<u32>,
    private_writing: Option<bool>,
    /// Moves every participant's drafts onto the table.
    reveal: Option<bool>,
    vote_budget: Option<u32>,
    vote_visibility: Option<VoteVisibility>,
    /// Lanes or poster.
    view: Option<BoardView>,
}

pub async fn control(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    Extension(role): Extension<Role>,
    Json(request): Json<ControlRequest>,
) -> Result<Response, AppError> {
    state.event_by_slug(&slug)?;
    require_facilitator(role)?;
    if request.timer_minutes.is_some_and(|m| m > MAX_TIMER_MINUTES) {
        return Err(AppError::BadRequest(format!(
            "a timer runs at most {MAX_TIMER_MINUTES} minutes"
        )));
    }
    if request
        .vote_budget
        .is_some_and(|b| b == 0 || b > MAX_VOTE_BUDGET)
    {
        return Err(AppError::BadRequest(format!(
            "a vote budget is 1 to {MAX_VOTE_BUDGET}"
        )));
    }
    let tables: Vec<TableDef> = match &request.tables {
        None => {
            return Err(AppError::BadRequest(
                "name the tables: [\"a\"] or \"all\"".into(),
            ));
        }
        Some(Tables::All(all)) if all == "all" => state.event().tables.clone(),
        Some(Tables::All(other)) => {
            return Err(AppError::BadRequest(format!(
                "tables is \"all\" or a list, not {other:?}"
            )));
        }
        Some(Tables::Some(ids)) => ids
            .iter()
            .map(|id| state.table(&slug, id).cloned())
            .collect::<Result<_, _>>()?,
    };
    let mut result = Vec::new();
    for def in &tables {
        let room = state.room(def).await?;
        if request.reveal == Some(true) {
            reveal(&state, def, &room).await?;
        }
        let now = now_ms();
        let (before, after) = room
            .write_as_server(|txn| {
                let current = read_control_in(txn);
                let mut next = current.clone();
                if let Some(phase) = request.phase {
                    next.phase = phase;
                }
                if let Some(locked) = request.locked {
                    next.locked = locked;
                }
                if let Some(minutes) = request.timer_minutes {
                    next.timer_ends_at = (minutes > 0).then(|| now + i64::from(minutes) * 60_000);
                }
                if let Some(private) = request.private_writing {
                    next.private_writing = private;
                }
                if request.reveal == Some(true) {
                    next.revealed_at = Some(now);
                    next.private_writing = false;
                }
                if let Some(budget) = request.vote_budget {
                    next.vote_budget = budget;
                }
                if let Some(visibility) = request.vote_visibility {
                    next.vote_visibility = visibility;
                }
                if let Some(view) = request.view {
                    next.view = Some(view);
                }
                write_control(txn, &current, &next);
                (current, next)
            })
            .await;
        if after.votes_public() && !before.votes_public() {
            publish_votes(&state, def, &room).await?;
        }
        result.push(serde_json::json!({ "id": def.id.as_str(), "control": after }));
    }
    Ok(Json(serde_json::json!({ "tables": result })).into_response())
}
