//! The HTTP surface: shared state, routes, the access check in front of the
//! API and sync routes, and the sync upgrade. Read handlers live in
//! [`crate::api`], the facilitator's and participants' actions in
//! [`crate::facilitation`].

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::Router;
use axum::extract::{ConnectInfo, Path, Query, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Extension, Json};
use std::net::SocketAddr;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use werktafel_shared::event::{Event, TableDef};
use werktafel_shared::schema;

use crate::access::{EventKeys, Identity, IdentityError, MintLimiter, Role, Signer, Terms};
use crate::config::Config;
use crate::connection;
use crate::error::AppError;
use crate::gate::Gate;
use crate::identity::{self, Attendance};
use crate::room::{PeerLink, Room};
use crate::rooms::{AdmitDrafts, DRAFTS_PART, Rooms};
use crate::store::RoomKey;
use crate::summary_feed::SummaryFeed;
use crate::upgrade::{NotAnUpgrade, Upgrade};
use crate::{api, facilitation};

/// Bytes read from a socket at a time (tungstenite allocates this per connection).
pub const READ_BUFFER_BYTES: usize = 4 * 1024;
/// Bytes gathered before a write goes to the socket; the writer flushes
/// after each batch anyway.
pub const WRITE_BUFFER_BYTES: usize = 16 * 1024;

/// Suffix of the room name under which a participant syncs their private
/// drafts of a table (`a.drafts`); the server maps it to their own document.
pub const DRAFTS_SUFFIX: &str = ".drafts";

/// State shared by every handler; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<StateInner>,
}

/// The event's keys and the identity signer, loaded from the data directory.
#[derive(Debug, Clone)]
pub struct Access {
    pub keys: EventKeys,
    pub signer: Signer,
}

/// The event's keys now, and what revokes the participant connections
/// admitted with this participant key.
struct CurrentKeys {
    keys: EventKeys,
    revoked: CancellationToken,
}

/// How a request was let in: its role and, for the participant key, what
/// is cancelled when that key is renewed (closing what it opened). Every
/// guarded request also carries its [`Role`] alone.
#[derive(Clone)]
pub struct Admitted {
    pub role: Role,
    pub revoked: Option<CancellationToken>,
}

/// Close code of a participant connection whose link was renewed by the
/// facilitator (its key now gets 403).
pub use crate::connection::CLOSE_REVOKED;

struct StateInner {
    config: Config,
    rooms: Rooms,
    signer: Signer,
    /// Its `revoked` token is not a child of `shutdown`: a shutdown closes
    /// connections with 1001, not as revoked.
    keys: std::sync::RwLock<CurrentKeys>,
    /// One renewal of the participant key at a time.
    renewing: tokio::sync::Mutex<()>,
    /// Set once at start-up, right after the state exists (the feed reads it).
    summary: std::sync::OnceLock<SummaryFeed>,
    tracker: TaskTracker,
    shutdown: CancellationToken,
    next_peer: AtomicU64,
    gate: Gate,
    mint: MintLimiter,
    attendance: Attendance,
    exports: crate::exports::ExportService,
    heavy_reads: crate::reads::HeavyReads,
}

impl AppState {
    pub fn new(
        config: Config,
        rooms: Rooms,
        access: Access,
        tracker: TaskTracker,
        shutdown: CancellationToken,
    ) -> Self {
        let exports = crate::exports::ExportService::new(config.limits.max_concurrent_exports);
        let heavy_reads = crate::reads::HeavyReads::new(config.limits.heavy_reads_per_minute);
        Self {
            inner: Arc::new(StateInner {
                exports,
                heavy_reads,
                config,
                rooms,
                signer: access.signer,
                keys: std::sync::RwLock::new(CurrentKeys {
                    keys: access.keys,
                    revoked: CancellationToken::new(),
                }),
                renewing: tokio::sync::Mutex::new(()),
                summary: std::sync::OnceLock::new(),
                tracker,
                shutdown,
                next_peer: AtomicU64::new(1),
                gate: Gate::default(),
                mint: MintLimiter::default(),
                attendance: Attendance::default(),
            }),
        }
    }

    pub fn event(&self) -> &Event {
        &self.inner.config.event
    }

    pub fn event_arc(&self) -> Arc<Event> {
        self.inner.config.event.clone()
    }

    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// Signs and checks identity tokens.
    pub fn signer(&self) -> &Signer {
        &self.inner.signer
    }

    /// The event's keys now (the participant key changes when renewed).
    pub fn keys(&self) -> EventKeys {
        self.current_keys().keys.clone()
    }

    /// What a token issued now is issued under.
    pub fn terms(&self) -> Terms {
        Terms {
            expires_at: unix_now() + self.limits().identity_lifetime.as_secs(),
            generation: self.current_keys().keys.generation,
        }
    }

    /// The role `key` grants, and for the participant key what revokes it.
    pub fn admit(&self, key: &str) -> Option<Admitted> {
        let current = self.current_keys();
        let role = current.keys.role_of(key)?;
        let revoked = (role == Role::Participant).then(|| current.revoked.clone());
        Some(Admitted { role, revoked })
    }

    /// Replaces the participant key with a fresh one (stored first), which
    /// makes the old key and every identity issued before it invalid, and
    /// closes the connections opened with the old key ([`CLOSE_REVOKED`]).
    pub async fn renew_participant_key(&self) -> Result<EventKeys, AppError> {
        let _one_at_a_time = self.inner.renewing.lock().await;
        let renewed = self.keys().renewed();
        let secrets = renewed.join_secrets(&self.event().slug);
        let store = self.config().store.clone();
        tokio::task::spawn_blocking(move || {
            use crate::store::Store;
            store.open()?.set_secrets(&secrets)
        })
        .await
        .map_err(|e| AppError::Unavailable(format!("renewing the key: {e}")))??;
        let revoked = {
            let mut current = self
                .inner
                .keys
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            current.keys = renewed.clone();
            std::mem::replace(&mut current.revoked, CancellationToken::new())
        };
        revoked.cancel();
        tracing::info!(
            generation = renewed.generation,
            "the participant link was renewed"
        );
        Ok(renewed)
    }

    fn current_keys(&self) -> std::sync::RwLockReadGuard<'_, CurrentKeys> {
        self.inner
            .keys
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub fn gate(&self) -> &Gate {
        &self.inner.gate
    }

    /// Counts new identities per address.
    pub fn mint_limiter(&self) -> &MintLimiter {
        &self.inner.mint
    }

    /// Which identities are connected at each table.
    pub fn attendance(&self) -> &Attendance {
        &self.inner.attendance
    }

    /// Each address's budget of summaries and exports.
    pub fn heavy_reads(&self) -> &crate::reads::HeavyReads {
        &self.inner.heavy_reads
    }

    /// The export slots and cache.
    pub fn exports(&self) -> &crate::exports::ExportService {
        &self.inner.exports
    }

    pub fn shutdown(&self) -> &CancellationToken {
        &self.inner.shutdown
    }

    /// The tracker of the server's long-lived tasks: shutdown waits for them.
    pub fn tasks(&self) -> &TaskTracker {
        &self.inner.tracker
    }

    /// Starts the plenary summary feed; call once.
    pub async fn start_summary(&self, token: CancellationToken) {
        let feed = SummaryFeed::start(self.clone(), token).await;
        let _ = self.inner.summary.set(feed);
    }

    pub fn summary_feed(&self) -> Result<&SummaryFeed, AppError> {
        self.inner
            .summary
            .get()
            .ok_or_else(|| AppError::Unavailable("the summary is starting".into()))
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

    /// A room the server keeps beside a table (drafts, ballots): no meta.
    pub async fn side_room(&self, key: RoomKey) -> Result<Arc<Room>, AppError> {
        Ok(self.inner.rooms.get_or_load(&key, |_| false).await?)
    }

    /// A participant's drafts document (see [`AppState::drafts_key`]),
    /// bounded to [`crate::Limits::max_drafts_bytes`].
    pub async fn drafts_room(&self, key: RoomKey) -> Result<Arc<Room>, AppError> {
        let max = self.limits().max_drafts_bytes;
        Ok(self
            .inner
            .rooms
            .get_or_load_bounded(&key, max, |_| false)
            .await?)
    }

    /// The key of `identity`'s private drafts of `table`.
    pub fn drafts_key(&self, table: &TableDef, identity: &Identity) -> RoomKey {
        RoomKey::new(
            &self.event().slug,
            &format!("{}{DRAFTS_PART}{}", table.id, identity.id),
        )
    }

    /// The table `id` of event `slug`, or 404.
    pub fn table(&self, slug: &str, id: &str) -> Result<&TableDef, AppError> {
        let event = self.event_by_slug(slug)?;
        event
            .table(id)
            .ok_or_else(|| AppError::NotFound(format!("table '{id}' of event '{slug}'")))
    }

    pub fn event_by_slug(&self, slug: &str) -> Result<&Event, AppError> {
        let event = self.event();
        if event.slug == slug {
            Ok(event)
        } else {
            Err(AppError::NotFound(format!("event '{slug}'")))
        }
    }

    /// The participant a token vouches for (from a query or body field, or
    /// the identity cookie: see [`identity::presented`]).
    pub fn identity(&self, token: Option<&str>) -> Result<Identity, AppError> {
        let token = token.ok_or(AppError::Forbidden("an identity token is required"))?;
        self.verify_identity(token)
    }

    /// The participant `token` vouches for, or 403.
    pub fn verify_identity(&self, token: &str) -> Result<Identity, AppError> {
        let generation = self.current_keys().keys.generation;
        self.inner
            .signer
            .verify(&self.event().slug, token, generation, unix_now())
            .map_err(|e| match e {
                IdentityError::Expired => {
                    AppError::Forbidden("the identity token has expired: ask for a new one")
                }
                IdentityError::Revoked => AppError::Forbidden(
                    "the identity token belongs to a renewed participant link: ask for a new one",
                ),
                _ => AppError::Forbidden("the identity token is not valid"),
            })
    }
}

pub fn router(state: AppState) -> Router {
    let guarded = Router::new()
        .route("/api/events/{event}", get(api::event_api))
        .route("/api/events/{event}/summary", get(api::summary))
        .route("/api/events/{event}/summary/live", get(api::summary_live))
        .route(
            "/api/events/{event}/tables/{table}/board.svg",
            get(api::board_svg),
        )
        .route("/api/events/{event}/qr.svg", get(facilitation::qr))
        .route("/api/events/{event}/identity", post(identity::issue))
        .route("/api/events/{event}/console", get(facilitation::console))
        .route("/api/events/{event}/control", post(facilitation::control))
        .route(
            "/api/events/{event}/keys/rotate",
            post(facilitation::renew_participant_key),
        )
        .route(
            "/api/events/{event}/tables/{table}/votes",
            get(facilitation::my_votes).post(facilitation::vote),
        )
        .route("/api/events/{event}/{file}", get(api::export))
        .route("/sync/{event}/{table}", get(sync))
        .route_layer(middleware::from_fn_with_state(state.clone(), require_key));
    Router::new()
        .route("/", get(root))
        .route("/healthz", get(|| async { "ok" }))
        .route("/metrics", get(metrics))
        .merge(guarded)
        .fallback(crate::assets::serve)
        .with_state(state)
}

#[derive(serde::Deserialize)]
struct KeyQuery {
    key: Option<String>,
}

/// Lets a request through with the [`Role`] its `key` grants, or answers
/// 403. Requests for another event get their 404 first.
async fn require_key(
    State(state): State<AppState>,
    Query(query): Query<KeyQuery>,
    mut request: Request,
    next: Next,
) -> Response {
    let mut segments = request.uri().path().split('/').skip(1);
    let slug = match (segments.next(), segments.next()) {
        (Some("api"), Some("events")) => segments.next(),
        (Some("sync"), slug) => slug,
        _ => None,
    };
    match slug {
        Some(slug) if slug == state.event().slug => {}
        Some(slug) => return AppError::NotFound(format!("event '{slug}'")).into_response(),
        None => return next.run(request).await,
    }
    match query.key.as_deref().and_then(|k| state.admit(k)) {
        Some(admitted) => {
            request.extensions_mut().insert(admitted.role);
            request.extensions_mut().insert(admitted);
            next.run(request).await
        }
        None => AppError::Forbidden("a valid key is required").into_response(),
    }
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

#[derive(serde::Deserialize)]
struct SyncQuery {
    token: Option<String>,
}

/// `GET /sync/{event}/{table}`: 404 for an unknown table before anything
/// else, then the WebSocket upgrade into the Yjs sync protocol. The room
/// `{table}.drafts` is the caller's own private drafts of that table.
async fn sync(
    State(state): State<AppState>,
    Path((slug, room_name)): Path<(String, String)>,
    Query(query): Query<SyncQuery>,
    Extension(Admitted { role, revoked }): Extension<Admitted>,
    ConnectInfo(remote): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    upgrade: Result<Upgrade, NotAnUpgrade>,
) -> Result<Response, AppError> {
    let (table_id, drafts) = match room_name.strip_suffix(DRAFTS_SUFFIX) {
        Some(table) => (table, true),
        None => (room_name.as_str(), false),
    };
    let table = state.table(&slug, table_id)?.clone();
    // Drafts belong to a signed identity; nobody can name another's.
    let (drafts_key, present) = if drafts {
        if !role.may_write() {
            return Err(AppError::Forbidden("drafts belong to participants"));
        }
        let token = identity::presented(query.token.as_deref(), &headers);
        let owner = state.identity(token)?;
        (Some(state.drafts_key(&table, &owner)), Some(owner))
    } else {
        // A table connection may say who it is: a named token must be
        // valid; a stale cookie only means this one is not counted.
        let present = match query.token.as_deref() {
            Some(token) => Some(state.verify_identity(token)?),
            None => identity::presented(None, &headers)
                .and_then(|token| state.verify_identity(token).ok()),
        };
        (None, present.filter(|_| role.may_write()))
    };
    let upgrade = match upgrade {
        Ok(upgrade) => upgrade,
        Err(rejection) => return Ok(rejection.into_response()),
    };
    // Drafts cost storage per identity and table: a bounded number of them.
    if let Some(key) = &drafts_key {
        match state
            .rooms()
            .admit_drafts(key, state.limits().max_drafts_documents)
            .await
        {
            Ok(()) => {}
            Err(AdmitDrafts::Full(full)) => {
                tracing::warn!(%full, "drafts document refused");
                let body = serde_json::json!({ "error": full.to_string(), "code": "drafts-full" });
                return Ok((StatusCode::INSUFFICIENT_STORAGE, Json(body)).into_response());
            }
            Err(AdmitDrafts::Store(error)) => return Err(error.into()),
        }
    }
    let ticket = state
        .gate()
        .admit(remote.ip(), state.limits())
        .map_err(|refusal| {
            tracing::warn!(remote = %remote.ip(), %refusal, "connection refused");
            AppError::TooMany(refusal.to_string())
        })?;
    // Load before upgrading, so a storage failure is an HTTP 500 rather than
    // a socket that opens and dies.
    let load = {
        let state = state.clone();
        let table = table.clone();
        move || {
            let state = state.clone();
            let table = table.clone();
            let drafts_key = drafts_key.clone();
            async move {
                match drafts_key {
                    Some(key) => state.drafts_room(key).await,
                    None => state.room(&table).await,
                }
            }
        }
    };
    load().await?;
    let limits = state.inner.config.limits.clone();
    let config = WebSocketConfig::default()
        .max_message_size(Some(limits.max_message_bytes))
        .max_frame_size(Some(limits.max_message_bytes))
        // tungstenite's default 128 KiB read buffer per connection is what
        // made an idle connection cost ~140 KiB (docs/benchmarks.md); y-protocol
        // messages are small, and a large one still arrives, in more reads.
        .read_buffer_size(READ_BUFFER_BYTES)
        .write_buffer_size(WRITE_BUFFER_BYTES);
    let tasks = state.inner.tracker.clone();
    let response = upgrade.on_upgrade(config, &tasks, move |socket| {
        async move {
            let _ticket = ticket;
            // Counted for the console while this connection lasts. The web
            // board keeps its drafts open beside the table, with its identity,
            // so a board that connected before it had the cookie counts too.
            let _present = present.map(|who| state.attendance().arrive(table.id.as_str(), &who));
            let peer = state.inner.next_peer.fetch_add(1, Ordering::Relaxed);
            let (tx, rx) = mpsc::channel(limits.outbox_capacity);
            let link = PeerLink::new(limits.catch_up_bytes);
            // The room may be evicted between lookup and join; look again.
            let room = loop {
                let Ok(room) = load().await else {
                    return;
                };
                if room.join(peer, tx.clone(), link.clone(), role).is_ok() {
                    break room;
                }
            };
            drop(tx);
            tracing::debug!(room = %room.key(), peer, ?role, "client joined");
            let shutdown = state.inner.shutdown.clone();
            // A renewed participant key closes what the old one opened; the
            // watch ends with the connection either way.
            let revocation = async {
                let Some(revoked) = revoked else {
                    return;
                };
                tokio::select! {
                    () = revoked.cancelled() => {
                        link.close(crate::table::reason::Reason::Revoked);
                    }
                    () = link.closed().cancelled() => {}
                }
            };
            let served = connection::serve(socket, room, peer, link.clone(), rx, limits, shutdown);
            tokio::join!(served, revocation);
        }
    });
    Ok(response)
}

/// JSON body helper for handlers that answer with a value.
pub fn json<T: serde::Serialize>(value: T) -> Json<T> {
    Json(value)
}

/// Seconds since the epoch, now.
pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}
