//! The HTTP surface: routes, shared state, and the handlers that are thin
//! enough to live beside the router (health, event API, sync upgrade).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::Json;
use axum::Router;
use axum::extract::ws::{WebSocketUpgrade, rejection::WebSocketUpgradeRejection};
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use werktafel_shared::event::{Event, TableDef};
use werktafel_shared::schema;

use crate::config::Config;
use crate::connection;
use crate::error::AppError;
use crate::room::{PeerLink, Room};
use crate::rooms::Rooms;
use crate::store::RoomKey;
use crate::summary_feed::SummaryFeed;

/// State shared by every handler; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<StateInner>,
}

struct StateInner {
    config: Config,
    rooms: Rooms,
    /// Set once at start-up, right after the state exists (the feed reads it).
    summary: std::sync::OnceLock<SummaryFeed>,
    tracker: TaskTracker,
    shutdown: CancellationToken,
    next_peer: AtomicU64,
}

impl AppState {
    pub fn new(
        config: Config,
        rooms: Rooms,
        tracker: TaskTracker,
        shutdown: CancellationToken,
    ) -> Self {
        Self {
            inner: Arc::new(StateInner {
                config,
                rooms,
                summary: std::sync::OnceLock::new(),
                tracker,
                shutdown,
                next_peer: AtomicU64::new(1),
            }),
        }
    }

    pub fn event(&self) -> &Event {
        &self.inner.config.event
    }

    pub fn event_arc(&self) -> Arc<Event> {
        self.inner.config.event.clone()
    }

    /// Starts the plenary summary feed; call once.
    pub async fn start_summary(&self, token: CancellationToken) {
        let feed = SummaryFeed::start(self.clone(), token).await;
        let _ = self.inner.summary.set(feed);
    }

    /// The room of `table` if it is in memory now.
    pub fn loaded_room(&self, table: &TableDef) -> Option<Arc<Room>> {
        self.inner
            .rooms
            .get(&RoomKey::new(&self.event().slug, table.id.as_str()))
    }

    pub fn limits(&self) -> &crate::config::Limits {
        &self.inner.config.limits
    }

    pub fn rooms(&self) -> &Rooms {
        &self.inner.rooms
    }

    /// The loaded room of `table`, loading it (and writing its meta) if needed.
    pub async fn room(&self, table: &TableDef) -> Result<Arc<Room>, AppError> {
        let event = self.inner.config.event.clone();
        let table_def = table.clone();
        let key = RoomKey::new(&event.slug, table.id.as_str());
        let room = self
            .inner
            .rooms
            .get_or_load(&key, move |doc| {
                schema::ensure_meta(doc, &event, &table_def)
            })
            .await?;
        Ok(room)
    }

    /// The table `id` of event `slug`, or 404.
    fn table(&self, slug: &str, id: &str) -> Result<&TableDef, AppError> {
        let event = self.event_by_slug(slug)?;
        event
            .table(id)
            .ok_or_else(|| AppError::NotFound(format!("table '{id}' of event '{slug}'")))
    }

    fn event_by_slug(&self, slug: &str) -> Result<&Event, AppError> {
        let event = self.event();
        if event.slug == slug {
            Ok(event)
        } else {
            Err(AppError::NotFound(format!("event '{slug}'")))
        }
    }
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/", get(root))
        .route("/healthz", get(|| async { "ok" }))
        .route("/metrics", get(metrics))
        .route("/api/events/{event}", get(event_api))
        .route("/api/events/{event}/summary", get(summary))
        .route("/api/events/{event}/summary/live", get(summary_live))
        .route(
            "/api/events/{event}/tables/{table}/board.svg",
            get(board_svg),
        )
        .route("/api/events/{event}/{file}", get(export))
        .route("/sync/{event}/{table}", get(sync))
        .fallback(crate::assets::serve)
        .with_state(state)
}

async fn metrics() -> impl IntoResponse {
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        crate::metrics::METRICS.render(),
    )
}

async fn root(State(state): State<AppState>) -> Redirect {
    Redirect::temporary(&format!("/e/{}", state.event().slug))
}

/// `GET /api/events/{event}`: the event definition plus, per table, its note
/// count and how many people are connected now.
async fn event_api(
    State(state): State<AppState>,
    Path(slug): Path<String>,
) -> Result<Json<serde_json::Value>, AppError> {
    let event = state.event_by_slug(&slug)?;
    let mut body = serde_json::to_value(event).map_err(|e| AppError::NotFound(e.to_string()))?;
    let mut live = Vec::with_capacity(event.tables.len());
    for table in &event.tables {
        let room = state.room(table).await?;
        let notes = room.read(schema::note_count);
        live.push((notes, room.peer_count()));
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

/// `GET /sync/{event}/{table}`: 404 for an unknown table before anything
/// else, then the WebSocket upgrade into the Yjs sync protocol.
async fn sync(
    State(state): State<AppState>,
    Path((slug, table_id)): Path<(String, String)>,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Result<Response, AppError> {
    let table = state.table(&slug, &table_id)?.clone();
    let upgrade = match upgrade {
        Ok(upgrade) => upgrade,
        Err(rejection) => return Ok(rejection.into_response()),
    };
    // Load before upgrading, so a storage failure is an HTTP 500 rather than
    // a socket that opens and dies.
    state.room(&table).await?;
    let limits = state.inner.config.limits.clone();
    let response = upgrade
        .max_message_size(limits.max_message_bytes)
        .max_frame_size(limits.max_message_bytes)
        .on_upgrade(move |socket| {
            let tracker = state.inner.tracker.clone();
            tracker.track_future(async move {
                let peer = state.inner.next_peer.fetch_add(1, Ordering::Relaxed);
                let (tx, rx) = mpsc::channel(limits.outbox_capacity);
                let link = PeerLink::new();
                // The room may be evicted between lookup and join; look again.
                let room = loop {
                    let Ok(room) = state.room(&table).await else {
                        return;
                    };
                    if room.join(peer, tx.clone(), link.clone()).is_ok() {
                        break room;
                    }
                };
                drop(tx);
                tracing::debug!(room = %room.key(), peer, "client joined");
                let shutdown = state.inner.shutdown.clone();
                connection::serve(socket, room, peer, link, rx, limits, shutdown).await;
            })
        });
    Ok(response)
}

fn feed(state: &AppState) -> Result<&SummaryFeed, AppError> {
    state
        .inner
        .summary
        .get()
        .ok_or_else(|| AppError::Unavailable("the summary is starting".into()))
}

/// `GET /api/events/{event}/summary`: the merged summary of all tables, now.
async fn summary(
    State(state): State<AppState>,
    Path(slug): Path<String>,
) -> Result<Response, AppError> {
    state.event_by_slug(&slug)?;
    let json = feed(&state)?.current();
    Ok((
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        json.to_string(),
    )
        .into_response())
}

/// `GET /api/events/{event}/summary/live`: server-sent events, one `summary`
/// event now and one after every change (debounced), for the plenary screen.
async fn summary_live(
    State(state): State<AppState>,
    Path(slug): Path<String>,
) -> Result<Response, AppError> {
    use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
    state.event_by_slug(&slug)?;
    let rx = feed(&state)?.subscribe();
    let shutdown = state.inner.shutdown.clone();
    // The first event carries the current summary; each later one a change.
    let stream = futures_util::stream::unfold(
        (rx, shutdown, true),
        |(mut rx, shutdown, first)| async move {
            if !first {
                tokio::select! {
                    _ = shutdown.cancelled() => return None,
                    changed = rx.changed() => changed.ok()?,
                }
            }
            let json = rx.borrow_and_update().clone();
            let event = SseEvent::default().event("summary").data(json.as_ref());
            Some((
                Ok::<_, std::convert::Infallible>(event),
                (rx, shutdown, false),
            ))
        },
    );
    Ok(Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response())
}

#[derive(serde::Deserialize, Default)]
struct ExportQuery {
    /// `1`/`true`: leave author names out.
    #[serde(default)]
    anonymous: Option<String>,
    /// `semicolon` (Excel with Dutch settings) or `comma` (default), for CSV.
    #[serde(default)]
    delimiter: Option<String>,
}

impl ExportQuery {
    fn options(&self) -> Result<werktafel_shared::export::ExportOptions, AppError> {
        use werktafel_shared::export::{CsvDelimiter, ExportOptions};
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
        Ok(options)
    }
}

/// `GET /api/events/{event}/export.{md,csv,xlsx,json,html,zip}`.
async fn export(
    State(state): State<AppState>,
    Path((slug, file)): Path<(String, String)>,
    axum::extract::Query(query): axum::extract::Query<ExportQuery>,
) -> Result<Response, AppError> {
    let event = state.event_by_slug(&slug)?;
    let format = file
        .strip_prefix("export.")
        .and_then(|ext| ext.parse::<crate::exports::Format>().ok())
        .filter(|f| *f != crate::exports::Format::Svg)
        .ok_or_else(|| AppError::NotFound(format!("'{file}'")))?;
    let options = query.options()?;
    let tables = crate::exports::live_tables(&state).await?;
    let bytes = crate::exports::render(event, &tables, format, None, &options)?;
    Ok(download(
        format,
        &crate::exports::file_name(event, format, None),
        bytes,
    ))
}

/// `GET /api/events/{event}/tables/{table}/board.svg`: one table's board as a picture.
async fn board_svg(
    State(state): State<AppState>,
    Path((slug, table)): Path<(String, String)>,
    axum::extract::Query(query): axum::extract::Query<ExportQuery>,
) -> Result<Response, AppError> {
    let def = state.table(&slug, &table)?;
    let options = query.options()?;
    let room = state.room(def).await?;
    let id = def.id.clone();
    let data = room.read(|doc| crate::exports::TableData {
        snapshot: werktafel_shared::snapshot::TableSnapshot::read(id.clone(), 0, doc),
        state: werktafel_shared::snapshot::TableState {
            table_id: id,
            update: Vec::new(),
        },
    });
    let format = crate::exports::Format::Svg;
    let bytes = crate::exports::render(state.event(), &[data], format, Some(&table), &options)?;
    Ok((
        [(axum::http::header::CONTENT_TYPE, format.content_type())],
        bytes,
    )
        .into_response())
}

fn download(format: crate::exports::Format, name: &str, bytes: Vec<u8>) -> Response {
    use axum::http::header;
    (
        [
            (header::CONTENT_TYPE, format.content_type().to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        bytes,
    )
        .into_response()
}
