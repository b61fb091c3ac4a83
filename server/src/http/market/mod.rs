//! The morning market on the server: the overview of every stand
//! (`GET /api/events/{event}/market`), useful marks on tips (one per identity
//! and tip, kept in a server-only ballots document and published as totals in
//! the stand's `votes`), and the stand files (`files`).

pub mod files;
pub mod slots;

pub use slots::{MAX_CONCURRENT_UPLOADS, MarketState};

use std::collections::{BTreeSet, HashMap};

use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use werktafel_shared::control::write_vote_totals;
use werktafel_shared::event::Team;
use werktafel_shared::market::{StandSnapshot, TipKind, read_stand};
use werktafel_shared::room::RoomRef;
use yrs::{Any, Map, MapPrelim, Out, ReadTxn, Transact, TransactionMut, WriteTxn};

use crate::access::Role;
use crate::http::error::AppError;
use crate::http::identity;
use crate::http::state::AppState;
use crate::store::RoomKey;
use crate::table::room::Room;

/// How many of the freshest tips the overview lists.
pub const FRESH_TIPS: usize = 10;

/// The team of stand room `name`, or 404.
pub(crate) fn stand_of<'a>(
    state: &'a AppState,
    slug: &str,
    name: &str,
) -> Result<&'a Team, AppError> {
    match state.room_ref(slug, name)? {
        RoomRef::Stand(team) => Ok(team),
        _ => Err(AppError::NotFound(format!("stand '{name}'"))),
    }
}

/// One stand in the overview: its snapshot and its counts.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StandOverview {
    #[serde(flatten)]
    stand: StandSnapshot,
    counts: Counts,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Counts {
    tips: usize,
    questions: usize,
    useful: u32,
    materials: usize,
}

/// A tip in the freshest list, with the stand it is on.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct FreshTip {
    room: String,
    team: u32,
    team_name: String,
    #[serde(flatten)]
    tip: werktafel_shared::market::Tip,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Overview {
    title: String,
    stands: Vec<StandOverview>,
    fresh: Vec<FreshTip>,
}

/// `GET /api/events/{event}/market`: every stand with its counts, and the
/// freshest tips across them. 404 when the event has no market.
pub async fn overview(
    State(state): State<AppState>,
    Path(slug): Path<String>,
) -> Result<Response, AppError> {
    let event = state.event_by_slug(&slug)?;
    if !event.has_market() {
        return Err(AppError::NotFound(format!("market of event '{slug}'")));
    }
    let mut stands = Vec::new();
    for team in event.stands() {
        let room = state.open_room(RoomRef::Stand(team)).await?;
        let stand = room.read(|doc| read_stand(doc, team));
        let counts = Counts {
            tips: stand.count(TipKind::Tip),
            questions: stand.count(TipKind::Vraag),
            useful: stand.useful_marks(),
            materials: stand.materials.len(),
        };
        stands.push(StandOverview { stand, counts });
    }
    let mut fresh: Vec<FreshTip> = stands
        .iter()
        .flat_map(|s| {
            s.stand.tips.iter().map(|tip| FreshTip {
                room: s.stand.room.clone(),
                team: s.stand.team.number,
                team_name: s.stand.team.name.clone(),
                tip: tip.clone(),
            })
        })
        .collect();
    fresh.sort_by_key(|f| std::cmp::Reverse(f.tip.created_at));
    fresh.truncate(FRESH_TIPS);
    let overview = Overview {
        title: event.market_title(),
        stands,
        fresh,
    };
    Ok(axum::Json(overview).into_response())
}

#[derive(Deserialize)]
pub struct TokenQuery {
    token: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UsefulBody {
    token: Option<String>,
    tip_id: String,
    /// Mark (true) or take the mark back (false).
    useful: bool,
}

/// The tips I marked useful on a stand.
#[derive(Serialize)]
pub struct MyMarks {
    mine: BTreeSet<String>,
}

/// `GET /api/events/{event}/stands/{stand}/useful?token=…`: my marks.
pub async fn my_marks(
    State(state): State<AppState>,
    Path((slug, stand)): Path<(String, String)>,
    Query(query): Query<TokenQuery>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let team = stand_of(&state, &slug, &stand)?.clone();
    let who = state.identity(identity::presented(query.token.as_deref(), &headers))?;
    let ballots = ballots_room(&state, &team).await?;
    let mine = ballots.read(|doc| read_marks(&doc.transact(), &who.id));
    Ok(axum::Json(MyMarks { mine }).into_response())
}

/// `POST /api/events/{event}/stands/{stand}/useful` `{ token, tipId, useful }`:
/// one mark per identity and tip, whatever the client sends; the stand's
/// `votes` then holds the new total. 404 for a tip the stand does not have.
pub async fn mark(
    State(state): State<AppState>,
    Path((slug, stand)): Path<(String, String)>,
    Extension(role): Extension<Role>,
    headers: HeaderMap,
    axum::Json(body): axum::Json<UsefulBody>,
) -> Result<Response, AppError> {
    let team = stand_of(&state, &slug, &stand)?.clone();
    if !role.may_write() {
        return Err(AppError::Forbidden("the plenary link cannot mark tips"));
    }
    let who = state.identity(identity::presented(body.token.as_deref(), &headers))?;
    let room = state.open_room(RoomRef::Stand(&team)).await?;
    let exists = room.read(|doc| {
        read_stand(doc, &team)
            .tips
            .iter()
            .any(|t| t.id == body.tip_id)
    });
    if !exists {
        return Err(AppError::NotFound(format!("tip '{}'", body.tip_id)));
    }
    let ballots = ballots_room(&state, &team).await?;
    let (mine, totals) = ballots
        .write_durably(|txn| {
            write_mark(txn, &who.id, &body.tip_id, body.useful);
            (read_marks(txn, &who.id), totals(txn))
        })
        .await?;
    room.write_durably(|txn| write_vote_totals(txn, &totals))
        .await?;
    Ok(axum::Json(MyMarks { mine }).into_response())
}

/// The server-only document of a stand's useful marks: `ballots` maps an
/// identity to a map of tip id → 1. No client can connect to it.
async fn ballots_room(state: &AppState, team: &Team) -> Result<std::sync::Arc<Room>, AppError> {
    let name =
        werktafel_shared::room::ballots_document(&werktafel_shared::room::RoomRef::Stand(team));
    state
        .side_room(RoomKey::new(&state.event().slug, &name))
        .await
}

const BALLOTS: &str = "ballots";

fn read_marks<T: ReadTxn>(txn: &T, who: &str) -> BTreeSet<String> {
    let Some(ballots) = txn.get_map(BALLOTS) else {
        return BTreeSet::new();
    };
    let Some(Out::YMap(mine)) = ballots.get(txn, who) else {
        return BTreeSet::new();
    };
    mine.keys(txn).map(str::to_owned).collect()
}

fn write_mark(txn: &mut TransactionMut, who: &str, tip: &str, useful: bool) {
    let ballots = txn.get_or_insert_map(BALLOTS);
    let mine = match ballots.get(txn, who) {
        Some(Out::YMap(mine)) => mine,
        _ => ballots.insert(txn, who, MapPrelim::default()),
    };
    if useful {
        mine.insert(txn, tip, Any::Bool(true));
    } else {
        mine.remove(txn, tip);
    }
}

/// Marks per tip over every identity.
fn totals<T: ReadTxn>(txn: &T) -> HashMap<String, u32> {
    let mut totals: HashMap<String, u32> = HashMap::new();
    if let Some(all) = txn.get_map(BALLOTS) {
        for (who, _) in all.iter(txn) {
            for tip in read_marks(txn, who) {
                *totals.entry(tip).or_default() += 1;
            }
        }
    }
    totals
}

/// Which part of the day the start page shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum StartView {
    /// By the programme clock: the market while it runs (and before), the tables after.
    #[default]
    Auto,
    Markt,
    Werktafels,
}

impl StartView {
    fn as_str(self) -> &'static str {
        match self {
            StartView::Auto => "auto",
            StartView::Markt => "markt",
            StartView::Werktafels => "werktafels",
        }
    }
}

/// The server-only document of event-wide settings (a `/` keeps clients out).
/// The server-only document of the event's settings (the start view).
pub const SETTINGS_ROOM: &str = "event/settings";
const SETTINGS: &str = "settings";
const START_VIEW: &str = "startView";

/// The start page's view as the facilitator last set it.
pub async fn start_view(state: &AppState) -> Result<StartView, AppError> {
    let room = settings_room(state).await?;
    Ok(room.read(|doc| {
        let txn = doc.transact();
        let value = txn.get_map(SETTINGS).and_then(|m| m.get(&txn, START_VIEW));
        match value {
            Some(Out::Any(Any::String(s))) => match &*s {
                "markt" => StartView::Markt,
                "werktafels" => StartView::Werktafels,
                _ => StartView::Auto,
            },
            _ => StartView::Auto,
        }
    }))
}

#[derive(Deserialize)]
pub struct StartViewBody {
    view: StartView,
}

/// `POST /api/events/{event}/start-view` `{ view: "auto" | "markt" | "werktafels" }`
/// (facilitator): what the start page shows; kept across restarts.
pub async fn set_start_view(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    Extension(role): Extension<Role>,
    axum::Json(body): axum::Json<StartViewBody>,
) -> Result<Response, AppError> {
    state.event_by_slug(&slug)?;
    if role != Role::Facilitator {
        return Err(AppError::Forbidden("only the facilitator link can do this"));
    }
    let room = settings_room(&state).await?;
    room.write_durably(|txn| {
        let settings = txn.get_or_insert_map(SETTINGS);
        settings.insert(txn, START_VIEW, body.view.as_str());
    })
    .await?;
    Ok(axum::Json(serde_json::json!({ "startView": body.view })).into_response())
}

async fn settings_room(state: &AppState) -> Result<std::sync::Arc<Room>, AppError> {
    state
        .side_room(RoomKey::new(&state.event().slug, SETTINGS_ROOM))
        .await
}

pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
