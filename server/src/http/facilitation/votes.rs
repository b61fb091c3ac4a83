//! Dot voting with a budget: a participant's votes against a server-only
//! ballots document per table (`ballots`: voter id → note id → votes), and
//! the totals published into the table document when votes are public.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use werktafel_shared::control::{Control, Phase, write_vote_totals};
use werktafel_shared::event::TableDef;
use werktafel_shared::schema;
use yrs::{Any, Map, MapPrelim, Out, ReadTxn, TransactionMut, WriteTxn};

use crate::access::{Identity, Role};
use crate::http::error::AppError;
use crate::http::identity;
use crate::http::state::AppState;
use crate::store::RoomKey;
use crate::table::room::Room;

/// Most votes a facilitator can give each participant.
pub const MAX_VOTE_BUDGET: u32 = 50;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VoteBody {
    /// The voter's identity token; without it, the identity cookie.
    #[serde(default)]
    token: Option<String>,
    note_id: String,
    /// `1` adds a vote, `-1` takes one back.
    delta: i32,
}

#[derive(Deserialize)]
pub struct TokenQuery {
    token: Option<String>,
}

/// A participant's votes at one table.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MyVotes {
    budget: u32,
    used: u32,
    mine: HashMap<String, u32>,
}

/// `GET /api/events/{event}/tables/{table}/votes?token=…`: my votes.
pub async fn my_votes(
    State(state): State<AppState>,
    Path((slug, table)): Path<(String, String)>,
    Query(query): Query<TokenQuery>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let def = state.table(&slug, &table)?.clone();
    let identity = state.identity(identity::presented(query.token.as_deref(), &headers))?;
    let room = state.room(&def).await?;
    let ballots = ballots_room(&state, &def).await?;
    let mine = ballots.read(|doc| read_ballot(&yrs::Transact::transact(doc), &identity.id));
    Ok(Json(my(&room.control(), mine)).into_response())
}

/// `POST /api/events/{event}/tables/{table}/votes` `{ token, noteId, delta }`.
pub async fn vote(
    State(state): State<AppState>,
    Path((slug, table)): Path<(String, String)>,
    Extension(role): Extension<Role>,
    headers: HeaderMap,
    Json(body): Json<VoteBody>,
) -> Result<Response, AppError> {
    let def = state.table(&slug, &table)?.clone();
    if !role.may_write() {
        return Err(AppError::Forbidden("the plenary link cannot vote"));
    }
    let identity: Identity =
        state.identity(identity::presented(body.token.as_deref(), &headers))?;
    if body.delta != 1 && body.delta != -1 {
        return Err(AppError::BadRequest("delta is 1 or -1".into()));
    }
    let room = state.room(&def).await?;
    let control = room.control();
    if control.phase != Phase::Stemmen {
        return Err(refused(
            "phase",
            format!(
                "voting is closed: the table is in phase {}",
                control.phase.as_str()
            ),
        ));
    }
    if control.locked {
        return Err(refused("locked", "the table is locked".into()));
    }
    if !room.read(|doc| schema::read_notes(doc).iter().any(|n| n.id == body.note_id)) {
        return Err(AppError::NotFound(format!("note '{}'", body.note_id)));
    }
    let ballots = ballots_room(&state, &def).await?;
    let mine = ballots
        .write_durably(|txn| -> Result<HashMap<String, u32>, AppError> {
            let mut mine = read_ballot(txn, &identity.id);
            let used: u32 = mine.values().sum();
            let current = mine.get(&body.note_id).copied().unwrap_or(0);
            let next = if body.delta > 0 {
                if used >= control.vote_budget {
                    return Err(refused(
                        "budget",
                        format!("all {} votes are used", control.vote_budget),
                    ));
                }
                current + 1
            } else {
                if current == 0 {
                    return Err(refused(
                        "nothing-to-take-back",
                        "there is no vote on this note to take back".into(),
                    ));
                }
                current - 1
            };
            write_ballot(txn, &identity.id, &body.note_id, next);
            mine.insert(body.note_id.clone(), next);
            mine.retain(|_, n| *n > 0);
            Ok(mine)
        })
        .await??;
    if control.votes_public() {
        publish_votes(&state, &def, &room).await?;
    }
    Ok(Json(my(&control, mine)).into_response())
}

fn my(control: &Control, mine: HashMap<String, u32>) -> MyVotes {
    MyVotes {
        budget: control.vote_budget,
        used: mine.values().sum(),
        mine,
    }
}

/// The server-only document of a table's ballots: `ballots` maps a voter id
/// to a map of note id → votes. No client can connect to it.
async fn ballots_room(state: &AppState, def: &TableDef) -> Result<std::sync::Arc<Room>, AppError> {
    state
        .side_room(RoomKey::new(
            &state.event().slug,
            &werktafel_shared::room::ballots_document(&werktafel_shared::room::RoomRef::Table(def)),
        ))
        .await
}

/// Every voter at `def` with votes on its notes, and how many each used.
pub(super) async fn voters(
    state: &AppState,
    def: &TableDef,
) -> Result<HashMap<String, u32>, AppError> {
    Ok(ballots_room(state, def).await?.read(|doc| {
        let txn = yrs::Transact::transact(doc);
        let mut voters: HashMap<String, u32> = HashMap::new();
        if let Some(all) = txn.get_map(BALLOTS) {
            for (voter, _) in all.iter(&txn) {
                let used: u32 = read_ballot(&txn, voter).values().sum();
                if used > 0 {
                    voters.insert(voter.to_string(), used);
                }
            }
        }
        voters
    }))
}

const BALLOTS: &str = "ballots";

fn read_ballot<T: ReadTxn>(txn: &T, voter: &str) -> HashMap<String, u32> {
    let Some(ballots) = txn.get_map(BALLOTS) else {
        return HashMap::new();
    };
    let Some(Out::YMap(ballot)) = ballots.get(txn, voter) else {
        return HashMap::new();
    };
    ballot
        .iter(txn)
        .filter_map(|(note, n)| match n {
            Out::Any(Any::Number(n)) => {
                let n = n.as_f64()?;
                (n >= 1.0).then(|| (note.to_string(), n as u32))
            }
            _ => None,
        })
        .collect()
}

fn write_ballot(txn: &mut TransactionMut, voter: &str, note: &str, votes: u32) {
    let ballots = txn.get_or_insert_map(BALLOTS);
    let ballot = match ballots.get(txn, voter) {
        Some(Out::YMap(ballot)) => ballot,
        _ => ballots.insert(txn, voter, MapPrelim::default()),
    };
    if votes == 0 {
        ballot.remove(txn, note);
    } else {
        ballot.insert(txn, note, Any::Number(yrs::Number::Int(i64::from(votes))));
    }
}

/// Writes the current totals of `def` into its table document.
pub(super) async fn publish_votes(
    state: &AppState,
    def: &TableDef,
    room: &Room,
) -> Result<(), AppError> {
    let ballots = ballots_room(state, def).await?;
    let totals = ballots.read(|doc| {
        let txn = yrs::Transact::transact(doc);
        let mut totals: HashMap<String, u32> = HashMap::new();
        if let Some(all) = txn.get_map(BALLOTS) {
            for (voter, _) in all.iter(&txn) {
                for (note, n) in read_ballot(&txn, voter) {
                    *totals.entry(note).or_default() += n;
                }
            }
        }
        totals
    });
    room.write_durably(|txn| write_vote_totals(txn, &totals))
        .await?;
    Ok(())
}

/// A vote refused with a stable `code`: `phase`, `locked`, `budget` or
/// `nothing-to-take-back`.
fn refused(code: &'static str, message: String) -> AppError {
    AppError::Conflict { code, message }
}
