//! The read side of the HTTP API: the event, the plenary summary (now and
//! live), and the exports (bounded and cached by `exports::ExportService`).

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Json;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use werktafel_shared::event::Event;
use werktafel_shared::export::ExportOptions;
use werktafel_shared::schema;

use crate::exports::{ExportKey, ExportPermit, Format, RETRY_AFTER_SECS};
use crate::http::error::AppError;
use crate::http::state::AppState;
use crate::metrics::METRICS;
use crate::table::room::Room;

/// `GET /api/events/{event}`: the event definition plus, per table, its note
/// count and how many people are connected now.
pub async fn event_api(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    axum::Extension(role): axum::Extension<crate::access::Role>,
) -> Result<Json<serde_json::Value>, AppError> {
    let event = state.event_by_slug(&slug)?;
    let mut body = serde_json::to_value(event).map_err(|e| AppError::NotFound(e.to_string()))?;
    let mut live = Vec::with_capacity(event.tables.len());
    for table in &event.tables {
        let room = state.room(table).await?;
        let notes = room.read(schema::note_count);
        live.push((notes, room.peer_count()));
    }
    if let Some(obj) = body.as_object_mut() {
        // The server's clock, so boards count down the facilitator's timer
        // right even where the device's clock is off.
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0);
        obj.insert("now".into(), now.into());
        // What this key may do, so a page shows only the controls that work
        // for it (the server checks every request anyway).
        let role = match role {
            crate::access::Role::Participant => "participant",
            crate::access::Role::Viewer => "viewer",
            crate::access::Role::Facilitator => "facilitator",
        };
        obj.insert("role".into(), role.into());
        // The rooms beyond the tables, and what the start page shows.
        let stands: Vec<u32> = event.stands().iter().map(|t| t.number).collect();
        let market = serde_json::json!({ "title": event.market_title(), "stands": stands });
        obj.insert("hasMarket".into(), event.has_market().into());
        obj.insert("hasLecture".into(), event.has_lecture().into());
        obj.insert("marketInfo".into(), market);
        let view = crate::http::market::start_view(&state).await?;
        obj.insert(
            "startView".into(),
            serde_json::to_value(view).unwrap_or_default(),
        );
    }
    if let Some(tables) = body.get_mut("tables").and_then(|t| t.as_array_mut()) {
        for (table, (notes, people)) in tables.iter_mut().zip(live) {
            if let Some(obj) = table.as_object_mut() {
                obj.insert("noteCount".into(), notes.into());
                obj.insert("people".into(), people.into());
            }
        }
    }
    Ok(Json(body))
}

/// `GET /api/events/{event}/summary`: the merged summary of all tables, now.
pub async fn summary(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    ConnectInfo(remote): ConnectInfo<SocketAddr>,
) -> Result<Response, AppError> {
    state.event_by_slug(&slug)?;
    if let Err(refused) = state.heavy_reads().check(remote.ip()) {
        return Err(refused.into());
    }
    let json = state.summary_feed()?.current().await;
    // The shared JSON itself, not a copy: with the largest notes it is tens
    // of megabytes, and a copy per request would cost the CPU every request
    // shares.
    Ok((
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        Bytes::from_owner(SharedJson(json)),
    )
        .into_response())
}

/// The summary's JSON as the bytes of a response body.
struct SharedJson(Arc<str>);

impl AsRef<[u8]> for SharedJson {
    fn as_ref(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

/// `GET /api/events/{event}/summary/live`: server-sent events, the whole
/// summary now (`summary`) and after every change (debounced) what changed
/// (`delta`, a JSON Patch; see [`crate::http::summary_feed`]), for the plenary
/// screen and the facilitator's console. Participants never open it (403). Each
/// stream holds a place in the connection gate, like a sync connection,
/// until it ends: past the caps, 429.
pub async fn summary_live(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    axum::Extension(role): axum::Extension<crate::access::Role>,
    axum::extract::ConnectInfo(remote): axum::extract::ConnectInfo<std::net::SocketAddr>,
) -> Result<Response, AppError> {
    use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
    state.event_by_slug(&slug)?;
    if role == crate::access::Role::Participant {
        return Err(AppError::Forbidden(
            "the live summary needs the plenary or facilitator link",
        ));
    }
    let ticket = state
        .gate()
        .admit(remote.ip(), state.limits())
        .map_err(|refusal| {
            tracing::warn!(remote = %remote.ip(), %refusal, "summary stream refused");
            AppError::TooMany(refusal.to_string())
        })?;
    let rx = state.summary_feed()?.subscribe();
    let shutdown = state.shutdown().clone();
    // The first event carries the whole summary (`summary`), each later one
    // the patch from the version before (`delta`), or the whole summary
    // again when this viewer missed a version or a whole frame is due. The
    // SSE id is the version. The ticket lives in the stream's state:
    // dropped with the stream.
    let stream = futures_util::stream::unfold(
        (rx, shutdown, None::<u64>, ticket),
        |(mut rx, shutdown, sent, ticket)| async move {
            loop {
                if sent.is_some() {
                    tokio::select! {
                        _ = shutdown.cancelled() => return None,
                        changed = rx.changed() => changed.ok()?,
                    }
                }
                let frame = rx.borrow_and_update().clone();
                if sent == Some(frame.version) {
                    // Republished unchanged (a request asked for it).
                    continue;
                }
                let id = frame.version.to_string();
                let event = match (&frame.delta, sent) {
                    (Some(delta), Some(had)) if had + 1 == frame.version => SseEvent::default()
                        .event("delta")
                        .id(id)
                        .data(delta.as_ref()),
                    _ => SseEvent::default()
                        .event("summary")
                        .id(id)
                        .data(frame.full.as_ref()),
                };
                return Some((
                    Ok::<_, std::convert::Infallible>(event),
                    (rx, shutdown, Some(frame.version), ticket),
                ));
            }
        },
    );
    Ok(Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response())
}

#[derive(serde::Deserialize, Default)]
pub struct ExportQuery {
    /// The access key (checked by the router; listed so it is not refused).
    #[serde(default)]
    #[allow(dead_code)]
    key: Option<String>,
    /// `1`/`true`: leave author names out.
    #[serde(default)]
    anonymous: Option<String>,
    /// `semicolon` (Excel with Dutch settings) or `comma` (default), for CSV.
    #[serde(default)]
    delimiter: Option<String>,
    /// `keep`: write CSV/XLSX cells that start like a formula as typed; by
    /// default (`neutralise`) they get a leading `'`.
    #[serde(default)]
    formulas: Option<String>,
}

impl ExportQuery {
    fn options(&self) -> Result<werktafel_shared::export::ExportOptions, AppError> {
        use werktafel_shared::export::{CsvDelimiter, ExportOptions, Formulas};
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0);
        let mut options = ExportOptions::new(now);
        if matches!(self.anonymous.as_deref(), Some("1" | "true" | "yes" | "")) {
            options = options.anonymous();
        }
        match self.delimiter.as_deref() {
            None | Some("comma" | ",") => {}
            Some("semicolon" | ";") => {
                options = options.with_csv_delimiter(CsvDelimiter::Semicolon);
            }
            Some(other) => {
                return Err(AppError::BadRequest(format!(
                    "unknown delimiter '{other}' (comma, semicolon)"
                )));
            }
        }
        match self.formulas.as_deref() {
            None | Some("neutralise" | "neutralize") => {}
            Some("keep") => options = options.with_formulas(Formulas::Keep),
            Some(other) => {
                return Err(AppError::BadRequest(format!(
                    "unknown formulas '{other}' (neutralise, keep)"
                )));
            }
        }
        Ok(options)
    }
}

/// `GET /api/events/{event}/export.{md,csv,xlsx,json,html,zip}`.
pub async fn export(
    State(state): State<AppState>,
    Path((slug, file)): Path<(String, String)>,
    Query(query): Query<ExportQuery>,
    axum::Extension(role): axum::Extension<crate::access::Role>,
    ConnectInfo(remote): ConnectInfo<SocketAddr>,
) -> Result<Response, AppError> {
    let event = state.event_by_slug(&slug)?;
    if role == crate::access::Role::Participant {
        return Err(AppError::Forbidden(
            "exports need the facilitator or plenary link",
        ));
    }
    let format = file
        .strip_prefix("export.")
        .and_then(|ext| ext.parse::<Format>().ok())
        .filter(|f| *f != Format::Svg)
        .ok_or_else(|| AppError::NotFound(format!("'{file}'")))?;
    let options = query.options()?;
    if let Err(refused) = state.heavy_reads().check(remote.ip()) {
        return Err(refused.into());
    }
    let mut rooms = Vec::with_capacity(event.tables.len());
    for def in &event.tables {
        rooms.push(state.room(def).await?);
    }
    let day = crate::http::day::DayRooms::load(state.tables())
        .await?
        .with_ballots(state.tables())
        .await?;
    let name = crate::exports::file_name(event, format, None);
    serve_export(&state, format, None, options, rooms, Some(day), name).await
}

/// `GET /api/events/{event}/tables/{table}/board.svg`: one table's board as a picture.
pub async fn board_svg(
    State(state): State<AppState>,
    Path((slug, table)): Path<(String, String)>,
    Query(query): Query<ExportQuery>,
    ConnectInfo(remote): ConnectInfo<SocketAddr>,
) -> Result<Response, AppError> {
    let def = state.table(&slug, &table)?;
    let options = query.options()?;
    if let Err(refused) = state.heavy_reads().check(remote.ip()) {
        return Err(refused.into());
    }
    let room = state.room(def).await?;
    // Each table's board is its own export, of that one room.
    serve_export(
        &state,
        Format::Svg,
        Some(def.id.as_str()),
        options,
        vec![room],
        None,
        String::new(),
    )
    .await
}

/// Serves an export of `rooms` (and of the rest of the `day`, for the
/// werkboek): from the cache when none of them changed since it was made; else rendered on the render pool if a slot is free,
/// else 429 with `Retry-After`. `name` is the download's file name; empty for
/// an inline picture.
async fn serve_export(
    state: &AppState,
    format: Format,
    table: Option<&str>,
    options: ExportOptions,
    rooms: Vec<Arc<Room>>,
    day: Option<crate::http::day::DayRooms>,
    name: String,
) -> Result<Response, AppError> {
    let exports = state.exports();
    let mut keyed = rooms.clone();
    keyed.extend(day.iter().flat_map(crate::http::day::DayRooms::rooms));
    let key = ExportKey::new(format, table, &options, &keyed, state.poster_version());
    if let Some(bytes) = exports.cached(&key) {
        METRICS.export_cache_hits.inc();
        return Ok(respond(format, &name, bytes, None));
    }
    let Some(permit) = exports.try_permit() else {
        METRICS.exports_refused.inc();
        return Err(AppError::RetryLater {
            message: "every export slot is busy; try again in a moment".into(),
            retry_after_secs: RETRY_AFTER_SECS,
            code: None,
        });
    };
    METRICS.exports_rendered.inc();
    let event = state.event_arc();
    let poster = state.poster_image();
    let table = table.map(str::to_owned);
    let rendered = exports
        .pool()
        .run(move || {
            let tables = if format == Format::Svg {
                crate::exports::read_rooms(&rooms, &board_event(&event, table.as_deref()), format)
            } else {
                crate::exports::read_rooms(&rooms, &event, format)
            };
            let documents = match (&day, format) {
                (Some(day), Format::Json | Format::Zip) => day.documents(),
                _ => Vec::new(),
            };
            let day = day.map(|day| day.read()).unwrap_or_default();
            crate::exports::render(
                &event,
                &tables,
                &day,
                &documents,
                format,
                table.as_deref(),
                &options,
                poster.as_deref(),
            )
        })
        .await
        .map_err(|e| AppError::Unavailable(e.to_string()))??;
    let bytes = Bytes::from(rendered);
    exports.keep(key, bytes.clone());
    Ok(respond(format, &name, bytes, Some(permit)))
}

/// `event` narrowed to the one table of a board, so its room is read as that table.
fn board_event(event: &Event, table: Option<&str>) -> Event {
    let mut one = event.clone();
    one.tables.retain(|t| Some(t.id.as_str()) == table);
    one
}

/// The export as a download (`name` set) or inline (a board). With a permit,
/// the body holds it until sent.
fn respond(format: Format, name: &str, bytes: Bytes, permit: Option<ExportPermit>) -> Response {
    use axum::http::header;
    let length = bytes.len().to_string();
    let body = match permit {
        Some(permit) => crate::exports::body_holding(bytes, permit),
        None => axum::body::Body::from(bytes),
    };
    let mut headers = vec![
        (header::CONTENT_TYPE, format.content_type().to_string()),
        (header::CONTENT_LENGTH, length),
    ];
    if !name.is_empty() {
        headers.push((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{name}\""),
        ));
        headers.push((header::CACHE_CONTROL, "no-store".to_string()));
    }
    let mut response = body.into_response();
    for (header_name, value) in headers {
        if let Ok(value) = axum::http::HeaderValue::from_str(&value) {
            response.headers_mut().insert(header_name, value);
        }
    }
    response
}
