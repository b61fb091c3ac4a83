//! The lecture board's server side: +1s, one per signed identity and insight, counted in a
//! server-only ballots document and published as totals into the board's `votes`; and the
//! facilitator's pins (`control.pins`) for the closing feedback.
//!
//! Participants write insights into the `zaal` document themselves; what they may not
//! forge (totals, pins) lives under the server-only roots, which the screen guards for
//! every room.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use werktafel_shared::lecture::{has_insight, pinned, read_pins_in, write_pins, write_plus_ones};
use werktafel_shared::room::RoomRef;
use yrs::{Any, Map, MapPrelim, Out, ReadTxn, Transact, WriteTxn};

use crate::access::Role;
use crate::http::error::AppError;
use crate::http::identity;
use crate::http::state::AppState;
use crate::store::RoomKey;
use crate::table::room::Room;

/// The store key (room part) of the board's ballots: a `/`, so no client can open it.
fn ballots_document() -> String {
    werktafel_shared::room::ballots_document(&RoomRef::Lecture)
}

/// Root of the ballots document: voter id → map of insight id → 1.
const BALLOTS: &str = "ballots";

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PlusOneBody {
    /// The voter's identity token; without it, the identity cookie.
    #[serde(default)]
    token: Option<String>,
    insight_id: String,
    /// `1` gives the +1, `-1` takes it back.
    delta: i32,
}

#[derive(Deserialize)]
pub struct TokenQuery {
    token: Option<String>,
}

/// The insights this identity gave a +1.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Mine {
    mine: Vec<String>,
}

/// `GET /api/events/{event}/zaal/plus-ones?token=…`: my +1s.
pub async fn my_plus_ones(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    Query(query): Query<TokenQuery>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    lecture_room(&state, &slug).await?;
    let who = state.identity(identity::presented(query.token.as_deref(), &headers))?;
    let ballots = ballots_room(&state).await?;
    let mine = ballots.read(|doc| read_ballot(&doc.transact(), &who.id));
    Ok(Json(sorted(mine)).into_response())
}

/// `POST /api/events/{event}/zaal/plus-ones` `{ token, insightId, delta }`: one +1 per
/// identity and insight; a second is refused (409 `already`), taking back one never given
/// too (409 `nothing-to-take-back`).
pub async fn plus_one(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    Extension(role): Extension<Role>,
    headers: HeaderMap,
    Json(body): Json<PlusOneBody>,
) -> Result<Response, AppError> {
    let board = lecture_room(&state, &slug).await?;
    if !role.may_write() {
        return Err(AppError::Forbidden("the plenary link cannot give a +1"));
    }
    let who = state.identity(identity::presented(body.token.as_deref(), &headers))?;
    if body.delta != 1 && body.delta != -1 {
        return Err(AppError::BadRequest("delta is 1 or -1".into()));
    }
    if !board.read(|doc| has_insight(doc, &body.insight_id)) {
        return Err(AppError::NotFound(format!("insight '{}'", body.insight_id)));
    }
    let ballots = ballots_room(&state).await?;
    let (mine, totals) = ballots
        .write_durably(|txn| {
            let mut mine = read_ballot(txn, &who.id);
            let had = mine.contains(&body.insight_id);
            match (body.delta, had) {
                (1, true) => {
                    return Err(AppError::Conflict {
                        code: "already",
                        message: "you gave this insight a +1 already".into(),
                    });
                }
                (-1, false) => {
                    return Err(AppError::Conflict {
                        code: "nothing-to-take-back",
                        message: "there is no +1 of yours on this insight".into(),
                    });
                }
                _ => {}
            }
            let all = txn.get_or_insert_map(BALLOTS);
            let ballot = match all.get(txn, &who.id) {
                Some(Out::YMap(ballot)) => ballot,
                _ => all.insert(txn, who.id.as_str(), MapPrelim::default()),
            };
            if body.delta > 0 {
                ballot.insert(txn, body.insight_id.as_str(), Any::Bool(true));
                mine.insert(body.insight_id.clone());
            } else {
                ballot.remove(txn, &body.insight_id);
                mine.remove(&body.insight_id);
            }
            Ok((mine, totals(txn)))
        })
        .await??;
    board
        .write_durably(|txn| write_plus_ones(txn, &totals))
        .await?;
    Ok(Json(sorted(mine)).into_response())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PinBody {
    insight_id: String,
    pinned: bool,
}

/// `POST /api/events/{event}/zaal/pins` `{ insightId, pinned }` (facilitator): pins an
/// insight for the closing feedback (at the end of the pins) or unpins it. Answers the pins.
pub async fn pin(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    Extension(role): Extension<Role>,
    Json(body): Json<PinBody>,
) -> Result<Response, AppError> {
    let board = lecture_room(&state, &slug).await?;
    if role != Role::Facilitator {
        return Err(AppError::Forbidden("only the facilitator link can pin"));
    }
    if body.pinned && !board.read(|doc| has_insight(doc, &body.insight_id)) {
        return Err(AppError::NotFound(format!("insight '{}'", body.insight_id)));
    }
    let pins = board
        .write_durably(|txn| {
            let next = pinned(&read_pins_in(txn), &body.insight_id, body.pinned).map_err(|e| {
                AppError::Conflict {
                    code: "too-many-pins",
                    message: e.to_string(),
                }
            })?;
            write_pins(txn, &next);
            Ok::<_, AppError>(next)
        })
        .await??;
    Ok(Json(serde_json::json!({ "pins": pins })).into_response())
}

/// The lecture board of event `slug`, or 404 when the event has none.
pub async fn lecture_room(state: &AppState, slug: &str) -> Result<Arc<Room>, AppError> {
    let room = state.room_ref(slug, werktafel_shared::room::LECTURE_ROOM)?;
    debug_assert_eq!(room, RoomRef::Lecture);
    state.open_room(room).await
}

async fn ballots_room(state: &AppState) -> Result<Arc<Room>, AppError> {
    state
        .side_room(RoomKey::new(&state.event().slug, &ballots_document()))
        .await
}

fn read_ballot<T: ReadTxn>(txn: &T, voter: &str) -> HashSet<String> {
    let Some(all) = txn.get_map(BALLOTS) else {
        return HashSet::new();
    };
    let Some(Out::YMap(ballot)) = all.get(txn, voter) else {
        return HashSet::new();
    };
    ballot.keys(txn).map(str::to_string).collect()
}

/// Insight id → +1s, over every voter.
fn totals<T: ReadTxn>(txn: &T) -> HashMap<String, u32> {
    let mut totals: HashMap<String, u32> = HashMap::new();
    if let Some(all) = txn.get_map(BALLOTS) {
        for (voter, _) in all.iter(txn) {
            for id in read_ballot(txn, voter) {
                *totals.entry(id).or_default() += 1;
            }
        }
    }
    totals
}

fn sorted(mine: HashSet<String>) -> Mine {
    let mut mine: Vec<String> = mine.into_iter().collect();
    mine.sort();
    Mine { mine }
}
