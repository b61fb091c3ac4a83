//! The droomproces poster a table in poster view is drawn on: `GET /api/events/{event}/poster`
//! serves the organiser's upload, else the image the event file names, else the built-in
//! drawing ([`werktafel_shared::export::svg::droomproces`]); `PUT` (facilitator) replaces it.
//!
//! An upload is at most [`MAX_POSTER_IMAGE_BYTES`] (413 past it) and must start like a PNG,
//! JPEG or WebP (415 otherwise, whatever its `Content-Type` says). It is stored as the blob
//! [`POSTER`] (`store/blobs.rs`): on SQLite in the data directory (`poster.img`, mode 0600,
//! written to a temporary file and renamed, so a crash leaves the old poster or the new one,
//! never half of one); on PostgreSQL in the database, where every node of a cluster reads it
//! after its next heartbeat. Every table's `control` then
//! gets the new image's tag (`posterImage`), so open boards load it without a reload.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use werktafel_shared::export::svg;
use werktafel_shared::poster::MAX_POSTER_IMAGE_BYTES;

use crate::access::Role;
use crate::http::error::AppError;
use crate::http::state::AppState;

use crate::poster::{PosterImage, PosterRefusal};
use crate::store::blobs::{Blob, POSTER};

/// `GET /api/events/{event}/poster`: the poster image, with its type and `nosniff`.
pub async fn get(
    State(state): State<AppState>,
    Path(slug): Path<String>,
) -> Result<Response, AppError> {
    let event = state.event_by_slug(&slug)?;
    let (content_type, body) = match state.poster_image() {
        Some(image) => (image.kind.mime(), Body::from(image.bytes.clone())),
        None => ("image/svg+xml", Body::from(svg::droomproces(event))),
    };
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
            // The built-in drawing is SVG: it must never run as a document of this origin.
            (
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'; sandbox"),
            ),
        ],
        body,
    )
        .into_response())
}

/// `PUT /api/events/{event}/poster` (facilitator): replaces the poster with the request body.
pub async fn put(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    Extension(role): Extension<Role>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, AppError> {
    state.event_by_slug(&slug)?;
    if role != Role::Facilitator {
        return Err(AppError::Forbidden(
            "only the facilitator link can change the poster",
        ));
    }
    // A declared length past the limit is refused before a byte of the body is read (and
    // a client that sent `Expect: 100-continue` never sends it).
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > MAX_POSTER_IMAGE_BYTES) {
        return Err(AppError::PayloadTooLarge(
            PosterRefusal::TooLarge.to_string(),
        ));
    }
    // Read at most one byte past the limit: a larger body is refused without being held.
    let bytes = axum::body::to_bytes(body, MAX_POSTER_IMAGE_BYTES + 1)
        .await
        .map_err(|_| AppError::PayloadTooLarge(PosterRefusal::TooLarge.to_string()))?;
    let image = PosterImage::check(bytes).map_err(|refusal| match refusal {
        PosterRefusal::TooLarge => AppError::PayloadTooLarge(refusal.to_string()),
        PosterRefusal::NotAnImage => AppError::UnsupportedMediaType(refusal.to_string()),
    })?;
    let blobs = state.blobs().clone();
    let blob = Blob {
        data: image.bytes.to_vec(),
        kind: image.kind.mime().to_owned(),
        file_name: POSTER.to_owned(),
    };
    // In a cluster the other nodes read it back after their next heartbeat.
    tokio::task::spawn_blocking(move || blobs.put(POSTER, &blob, "facilitator"))
        .await
        .map_err(|e| AppError::Unavailable(e.to_string()))?
        .map_err(|e| {
            tracing::error!(error = %e, "storing the poster failed");
            AppError::Unavailable("the poster could not be stored".into())
        })?;
    let kind = image.kind;
    let size = image.bytes.len();
    let tag = image.tag();
    state.set_poster_image(Arc::new(image));
    state.announce_poster(&tag).await?;
    Ok((
        StatusCode::OK,
        Json(serde_json::json!({ "type": kind.mime(), "bytes": size })),
    )
        .into_response())
}
