//! The facilitator's controls (`POST /api/events/{event}/control`): phase,
//! timer, lock, private writing and reveal, voting rules and the board's
//! view, on one table, several or all, written to each table's server-only
//! `control` map.

use std::collections::HashMap;

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use werktafel_shared::control::{Phase, VoteVisibility, read_control_in, write_control};
use werktafel_shared::event::TableDef;
use werktafel_shared::poster::BoardView;

use crate::cluster::Remote;

use crate::access::Role;
use crate::http::error::AppError;
use crate::http::facilitation::drafts::reveal;
use crate::http::facilitation::votes::{MAX_VOTE_BUDGET, publish_votes};
use crate::http::facilitation::{now_ms, require_facilitator};
use crate::http::owner::{forward_json, owner_for};
use crate::http::state::{Admitted, AppState};
use crate::store::RoomKey;

/// Longest countdown a facilitator can set.
pub const MAX_TIMER_MINUTES: u32 = 240;

/// Which tables a control applies to.
#[derive(Deserialize, Serialize, Clone)]
#[serde(untagged)]
pub enum Tables {
    /// `"all"`.
    All(String),
    /// `["a", "c"]`.
    Some(Vec<String>),
}

/// `POST /api/events/{event}/control`: what the facilitator changes. Every
/// field is optional; several can change at once.
#[derive(Deserialize, Serialize, Clone, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ControlRequest {
    #[serde(skip_serializing_if = "Option::is_none")]
    tables: Option<Tables>,
    #[serde(skip_serializing_if = "Option::is_none")]
    phase: Option<Phase>,
    #[serde(skip_serializing_if = "Option::is_none")]
    locked: Option<bool>,
    /// Minutes from now; `0` stops the timer.
    #[serde(skip_serializing_if = "Option::is_none")]
    timer_minutes: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    private_writing: Option<bool>,
    /// Moves every participant's drafts onto the table.
    #[serde(skip_serializing_if = "Option::is_none")]
    reveal: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    vote_budget: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    vote_visibility: Option<VoteVisibility>,
    /// Lanes or poster.
    #[serde(skip_serializing_if = "Option::is_none")]
    view: Option<BoardView>,
}

pub async fn control(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    Extension(role): Extension<Role>,
    Extension(admitted): Extension<Admitted>,
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
    // On a cluster each table's control is written by its owner: the
    // tables of other nodes go to them, one request per node.
    let mut results: HashMap<String, serde_json::Value> = HashMap::new();
    let mut elsewhere: Vec<(Remote, Vec<String>)> = Vec::new();
    for def in &tables {
        let key = RoomKey::new(&slug, def.id.as_str());
        match owner_for(&state, admitted.relayed, &key).await? {
            None => {
                let after = apply(&state, def, &request).await?;
                results.insert(def.id.as_str().to_owned(), after);
            }
            Some(remote) => match elsewhere.iter_mut().find(|(r, _)| r.node == remote.node) {
                Some((_, ids)) => ids.push(def.id.as_str().to_owned()),
                None => elsewhere.push((remote, vec![def.id.as_str().to_owned()])),
            },
        }
    }
    for (remote, ids) in elsewhere {
        let part = ControlRequest {
            tables: Some(Tables::Some(ids)),
            ..request.clone()
        };
        let body = serde_json::to_value(&part).unwrap_or_default();
        let path = format!("/api/events/{slug}/control");
        let (status, answer) = forward_json(&state, &remote, &path, role, &body).await?;
        if !status.is_success() {
            return Ok((status, Json(answer)).into_response());
        }
        let done = answer["tables"].as_array().cloned().unwrap_or_default();
        for table in done {
            if let Some(id) = table["id"].as_str() {
                results.insert(id.to_owned(), table["control"].clone());
            }
        }
    }
    let result: Vec<serde_json::Value> = tables
        .iter()
        .filter_map(|def| {
            let control = results.remove(def.id.as_str())?;
            Some(serde_json::json!({ "id": def.id.as_str(), "control": control }))
        })
        .collect();
    Ok(Json(serde_json::json!({ "tables": result })).into_response())
}

/// Writes `request` into the control of `def`, served here; returns it after.
async fn apply(
    state: &AppState,
    def: &TableDef,
    request: &ControlRequest,
) -> Result<serde_json::Value, AppError> {
    let room = state.room(def).await?;
    if request.reveal == Some(true) {
        reveal(state, def, &room).await?;
    }
    let now = now_ms();
    let (before, after) = room
        .write_durably(|txn| {
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
        .await?;
    if after.votes_public() && !before.votes_public() {
        publish_votes(state, def, &room).await?;
    }
    Ok(serde_json::to_value(after).unwrap_or_default())
}
