//! The closing feedback's next steps over HTTP: the facilitator adds, edits, removes and
//! reorders them; everyone with a key reads them (the plenary gets them live through the
//! summary feed).
//!
//! They live in the event's closing document ([`CLOSING_DOCUMENT`]), a side document no
//! sync connection can open, so only these handlers write it, and only with the
//! facilitator's key. Validation and the document's shape are in
//! `werktafel_shared::closing`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Deserialize;
use werktafel_shared::closing::{
    MAX_STEPS, StepError, StepInput, StepPatch, add_step, read_steps, remove_step, reorder_steps,
    update_step,
};

use crate::access::Role;
use crate::http::error::AppError;
use crate::http::state::AppState;

/// Characters of a next step's id, made by the server.
const STEP_ID_CHARS: usize = 12;

/// `GET /api/events/{event}/next-steps`: the list, in order (any key).
pub async fn list(
    State(state): State<AppState>,
    Path(slug): Path<String>,
) -> Result<Response, AppError> {
    state.event_by_slug(&slug)?;
    let room = state.tables().closing().await?;
    Ok(Json(serde_json::json!({ "steps": room.read(read_steps) })).into_response())
}

/// `POST /api/events/{event}/next-steps` (facilitator): adds a step at the end.
pub async fn add(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    Extension(role): Extension<Role>,
    Json(input): Json<StepInput>,
) -> Result<Response, AppError> {
    let event = state.event_by_slug(&slug)?.clone();
    require_organiser(role)?;
    let room = state.tables().closing().await?;
    let id = step_id();
    let step = room
        .write_durably(|txn| add_step(txn, &event, &id, input, now_ms()))
        .await??;
    Ok((StatusCode::CREATED, Json(step)).into_response())
}

/// `PATCH /api/events/{event}/next-steps/{id}` (facilitator): changes the fields sent.
pub async fn update(
    State(state): State<AppState>,
    Path((slug, id)): Path<(String, String)>,
    Extension(role): Extension<Role>,
    Json(patch): Json<StepPatch>,
) -> Result<Response, AppError> {
    let event = state.event_by_slug(&slug)?.clone();
    require_organiser(role)?;
    let room = state.tables().closing().await?;
    let step = room
        .write_durably(|txn| update_step(txn, &event, &id, patch, now_ms()))
        .await??;
    Ok(Json(step).into_response())
}

/// `DELETE /api/events/{event}/next-steps/{id}` (facilitator).
pub async fn remove(
    State(state): State<AppState>,
    Path((slug, id)): Path<(String, String)>,
    Extension(role): Extension<Role>,
) -> Result<Response, AppError> {
    state.event_by_slug(&slug)?;
    require_organiser(role)?;
    let room = state.tables().closing().await?;
    room.write_durably(|txn| remove_step(txn, &id)).await??;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Order {
    ids: Vec<String>,
}

/// `PUT /api/events/{event}/next-steps/order` `{ ids }` (facilitator): the new order,
/// naming every step once.
pub async fn reorder(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    Extension(role): Extension<Role>,
    Json(order): Json<Order>,
) -> Result<Response, AppError> {
    state.event_by_slug(&slug)?;
    require_organiser(role)?;
    if order.ids.len() > MAX_STEPS {
        return Err(StepError::OrderMismatch.into());
    }
    let room = state.tables().closing().await?;
    room.write_durably(|txn| reorder_steps(txn, &order.ids))
        .await??;
    Ok(Json(serde_json::json!({ "steps": room.read(read_steps) })).into_response())
}

impl From<StepError> for AppError {
    fn from(error: StepError) -> AppError {
        match error {
            StepError::UnknownStep(id) => AppError::NotFound(format!("next step '{id}'")),
            StepError::TooMany { .. } => AppError::Conflict {
                code: "too-many-steps",
                message: error.to_string(),
            },
            StepError::OrderMismatch => AppError::Conflict {
                code: "order-mismatch",
                message: error.to_string(),
            },
            other => AppError::BadRequest(other.to_string()),
        }
    }
}

/// The closing feedback is the organiser's: the facilitator key (the plenary's viewer key
/// reads, a participant's key neither writes nor reorders).
fn require_organiser(role: Role) -> Result<(), AppError> {
    if role == Role::Facilitator {
        Ok(())
    } else {
        Err(AppError::Forbidden(
            "only the facilitator link can change the next steps",
        ))
    }
}

fn step_id() -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    (0..STEP_ID_CHARS)
        .map(|_| ALPHABET[rand::random_range(0..ALPHABET.len())] as char)
        .collect()
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
