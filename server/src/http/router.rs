//! The routes, and the key check in front of the API and sync routes. Read
//! handlers live in [`crate::http::api`], the facilitator's and participants'
//! actions in [`crate::http::facilitation`], the sync upgrade in [`crate::http::ws`],
//! the shared state in [`crate::http::state`].

use crate::http::state::AppState;
use crate::http::ws;

use axum::Router;
use axum::extract::{Query, Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, patch, post, put};

use crate::http::error::AppError;
use crate::http::identity::{self};
use crate::http::{api, facilitation};

pub fn router(state: AppState) -> Router {
    let clustered = !matches!(state.directory(), crate::cluster::Directory::Solo);
    let mut guarded = api().route("/sync/{event}/{room}", get(ws::sync));
    if clustered {
        // A cluster node reads what every node stored and writes where the
        // room is served (`http/owner.rs`); one node alone does neither.
        guarded = guarded
            .route_layer(middleware::from_fn_with_state(
                state.clone(),
                crate::http::owner::to_owner,
            ))
            .route_layer(middleware::from_fn_with_state(
                state.clone(),
                crate::http::owner::catch_up,
            ));
    }
    let guarded = guarded.route_layer(middleware::from_fn_with_state(state.clone(), require_key));
    // The API again for requests other nodes forward (`cluster/forward.rs`):
    // behind the cluster secret instead of a key; 404 on a node without one.
    let mut forwarded = api();
    if clustered {
        forwarded = forwarded.route_layer(middleware::from_fn_with_state(
            state.clone(),
            crate::http::owner::to_owner,
        ));
    }
    let internal = Router::new()
        .route("/internal/sync/{event}/{table}", get(ws::sync))
        .nest(crate::cluster::forward::INTERNAL_HTTP, forwarded)
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            crate::http::internal::require_node,
        ));
    Router::new()
        .route("/", get(root))
        .route("/healthz", get(healthz))
        .merge(internal)
        .route("/metrics", get(metrics))
        .merge(guarded)
        .fallback(crate::http::assets::serve)
        .with_state(state)
}

/// The API's routes (not the sync route), without the check in front.
fn api() -> Router<AppState> {
    Router::new()
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
        .route(
            "/api/events/{event}/poster",
            get(crate::http::poster::get).put(crate::http::poster::put),
        )
        .route(
            "/api/events/{event}/next-steps",
            get(crate::http::closing::list).post(crate::http::closing::add),
        )
        .route(
            "/api/events/{event}/next-steps/order",
            put(crate::http::closing::reorder),
        )
        .route(
            "/api/events/{event}/next-steps/{id}",
            patch(crate::http::closing::update).delete(crate::http::closing::remove),
        )
        .route(
            "/api/events/{event}/zaal/plus-ones",
            get(crate::http::lecture::my_plus_ones).post(crate::http::lecture::plus_one),
        )
        .route(
            "/api/events/{event}/zaal/pins",
            post(crate::http::lecture::pin),
        )
        .route(
            "/api/events/{event}/market",
            get(crate::http::market::overview),
        )
        .route(
            "/api/events/{event}/start-view",
            post(crate::http::market::set_start_view),
        )
        .route(
            "/api/events/{event}/stands/{stand}/files",
            post(crate::http::market::files::upload),
        )
        .route(
            "/api/events/{event}/stands/{stand}/useful",
            get(crate::http::market::my_marks).post(crate::http::market::mark),
        )
        .route(
            "/api/events/{event}/files/{id}",
            get(crate::http::market::files::serve),
        )
        .route("/api/events/{event}/{file}", get(api::export))
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

/// `ok`, or 503 while a cluster node's heartbeat does not reach the shared
/// store (it can neither take nor keep a table then).
async fn healthz(State(state): State<AppState>) -> Response {
    if state.directory().is_ready() {
        "ok".into_response()
    } else {
        AppError::Unavailable("no connection to the store".into()).into_response()
    }
}

async fn root(State(state): State<AppState>) -> Redirect {
    Redirect::temporary(&format!("/e/{}", state.event().slug))
}
