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

/// State shared by every handler; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<StateInner>,
}

struct StateInner {
    config: Config,
    rooms: Rooms,
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
                tracker,
                shutdown,
                next_peer: AtomicU64::new(1),
            }),
        }
    }

    pub fn event(&self) -> &Event {
        &self.inner.config.event
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
