//! Running the tables: the facilitator's controls
//! (phase, timer, lock, private writing and revealing drafts, voting rules),
//! the console's overview, dot voting with a budget, and the QR codes that
//! bring people to a table.
//!
//! Everything here is enforced by the server: the controls require the
//! facilitator's key, votes a signed identity, and the table documents carry
//! the outcome in their server-only maps (`control`, `votes`).

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use werktafel_shared::control::{
    Control, Phase, VoteVisibility, read_control_in, write_control, write_vote_totals,
};
use werktafel_shared::event::TableDef;
use werktafel_shared::poster::BoardView;
use werktafel_shared::schema::{self, NoteDraft};
use yrs::{Any, Map, MapPrelim, Out, ReadTxn, TransactionMut, WriteTxn};

use crate::access::{Identity, Role};
use crate::http::error::AppError;
use crate::http::identity;
use crate::http::state::AppState;
use crate::store::RoomKey;
use crate::table::room::Room;

/// Vertical room a revealed note takes in its lane, in board units (a note
/// is about 120 units high).
const REVEAL_SPACING: f64 = 140.0;

/// Longest countdown a facilitator can set.
pub const MAX_TIMER_MINUTES: u32 = 240;
/// Most votes a facilitator can give each participant.
pub const MAX_VOTE_BUDGET: u32 = 50;

#[derive(Deserialize)]
pub struct QrQuery {
    table: Option<String>,
}

/// `GET /api/events/{event}/qr.svg[?table=a]`: the participant link (to
/// the start page, straight to a table, or with `?table=markt-ot2` to a
/// market stand's page) as an SVG QR code. Only a role
/// that holds the participant key may hand it out: the plenary's read-only
/// key must not turn into a participant's (403).
pub async fn qr(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    Query(query): Query<QrQuery>,
    Extension(role): Extension<Role>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let event = state.event_by_slug(&slug)?;
    if !role.may_write() {
        return Err(AppError::Forbidden(
            "the plenary link cannot hand out the participant link",
        ));
    }
    let base = public_base(&state, &headers);
    let key = state.keys().join;
    // A table's board, a market stand's page, or the start page.
    let url = match query.table.as_deref() {
        Some(name) => match state.room_ref(&slug, name)? {
            werktafel_shared::RoomRef::Table(table) => {
                participant_link(&base, &event.slug, Some(table.id.as_str()), &key)
            }
            werktafel_shared::RoomRef::Stand(team) => {
                format!("{base}/e/{}/markt/{}?key={key}", event.slug, team.number)
            }
            werktafel_shared::RoomRef::Lecture => {
                format!("{base}/e/{}/zaal?key={key}", event.slug)
            }
        },
        None => participant_link(&base, &event.slug, None, &key),
    };
    let code =
        qrcode::QrCode::new(url.as_bytes()).map_err(|e| AppError::BadRequest(e.to_string()))?;
    let svg = code
        .render::<qrcode::render::svg::Color>()
        .min_dimensions(240, 240)
        .quiet_zone(true)
        .build();
    Ok((
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        svg,
    )
        .into_response())
}

/// `POST /api/events/{event}/keys/rotate` (facilitator): renews the
/// participant key. The old participant link gets 403 from now on, every
/// identity issued under it is refused, and the connections it opened close
/// with [`crate::http::state::CLOSE_REVOKED`]. Answers the new participant link.
pub async fn renew_participant_key(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    Extension(role): Extension<Role>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let event = state.event_by_slug(&slug)?;
    require_facilitator(role)?;
    let keys = state.renew_participant_key().await?;
    let link = participant_link(
        &public_base(&state, &headers),
        &event.slug,
        None,
        &keys.join,
    );
    Ok(Json(serde_json::json!({
        "participantLink": link,
        "generation": keys.generation,
    }))
    .into_response())
}

/// The URL a participant opens: the start page, or one table.
pub fn participant_link(base: &str, slug: &str, table: Option<&str>, key: &str) -> String {
    match table {
        Some(table) => format!("{base}/e/{slug}/t/{table}?key={key}"),
        None => format!("{base}/e/{slug}?key={key}"),
    }
}

/// Where people reach this server: `--public-url`, else the Host the
/// request came in on.
fn public_base(state: &AppState, headers: &HeaderMap) -> String {
    if let Some(url) = &state.config().public_url {
        return url.trim_end_matches('/').to_string();
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    format!("http://{host}")
}

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
        let ballots = ballots_room(&state, def).await?.read(|doc| {
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
        });
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

/// Moves every participant's drafts of `def` onto the table, then clears them.
async fn reveal(state: &AppState, def: &TableDef, table: &Room) -> Result<(), AppError> {
    for drafts in drafts_rooms(state, def).await? {
        let notes = drafts.read(schema::read_notes);
        if notes.is_empty() {
            continue;
        }
        // Drafts were placed on each writer's own board; on the table they
        // go below what the lane already holds, one under the other.
        let mut next_y: HashMap<schema::Lane, f64> = HashMap::new();
        for note in table.read(schema::read_notes) {
            let y = next_y.entry(note.lane).or_insert(0.0);
            *y = y.max(note.y + REVEAL_SPACING);
        }
        table
            .write_as_server(|txn| {
                for note in &notes {
                    let y = next_y.entry(note.lane).or_insert(0.0);
                    let at = *y;
                    *y += REVEAL_SPACING;
                    schema::insert_note(
                        txn,
                        &NoteDraft {
                            id: note.id.clone(),
                            text: note.text.clone(),
                            lane: note.lane,
                            color: note.color,
                            x: note.x,
                            y: at,
                            author: note.author.clone(),
                            author_id: note.author_id.clone(),
                            now_ms: note.created_at,
                        },
                    );
                }
            })
            .await;
        drafts
            .write_as_server(|txn| {
                for note in &notes {
                    schema::delete_note(txn, &note.id);
                }
            })
            .await;
    }
    Ok(())
}

/// Every participant's drafts room of `def`, stored or in memory.
async fn drafts_rooms(
    state: &AppState,
    def: &TableDef,
) -> Result<Vec<std::sync::Arc<Room>>, AppError> {
    let prefix = format!("{}{}", def.id, crate::table::rooms::DRAFTS_PART);
    let slug = state.event().slug.clone();
    let mut keys: Vec<RoomKey> = state
        .rooms()
        .persister()
        .rooms()
        .await?
        .into_iter()
        .filter(|k| *k.event == *slug && k.table.starts_with(&prefix))
        .collect();
    for room in state.rooms().loaded() {
        let key = room.key();
        if *key.event == *slug && key.table.starts_with(&prefix) && !keys.contains(key) {
            keys.push(key.clone());
        }
    }
    let mut rooms = Vec::with_capacity(keys.len());
    for key in keys {
        rooms.push(state.drafts_room(key).await?);
    }
    Ok(rooms)
}

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
        .write_as_server(|txn| -> Result<HashMap<String, u32>, AppError> {
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
        .await?;
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
async fn publish_votes(state: &AppState, def: &TableDef, room: &Room) -> Result<(), AppError> {
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
    room.write_as_server(|txn| write_vote_totals(txn, &totals))
        .await;
    Ok(())
}

/// A vote refused with a stable `code`: `phase`, `locked`, `budget` or
/// `nothing-to-take-back`.
fn refused(code: &'static str, message: String) -> AppError {
    AppError::Conflict { code, message }
}

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
