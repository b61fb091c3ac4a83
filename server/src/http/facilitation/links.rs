//! The ways in: the participant link (to the start page, a table, a
//! market stand or the lecture) as an SVG QR code, and renewing the
//! participant key, which revokes the old link and its identities.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Deserialize;

use crate::access::Role;
use crate::http::error::AppError;
use crate::http::facilitation::require_facilitator;
use crate::http::state::AppState;

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
