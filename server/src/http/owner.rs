//! HTTP on a cluster node (`docs/scale-out.md`, HTTP on any node): reads
//! see what every node stored, writes run on the node that owns their room.
//! Neither layer is installed on one node alone ([`Directory::Solo`]).
//!
//! - [`catch_up`], in front of every read: drops this node's copies of
//!   rooms other nodes stored to since they were loaded (one query of the
//!   event's log positions), so what the handler reads next is at least as
//!   new as everything durable when the request arrived.
//! - [`to_owner`], in front of every write to one room ([`write_target`]):
//!   asks the directory who owns the room (claiming it if nobody live
//!   does), runs the handler here if this node does, and else forwards the
//!   request once to the owner ([`crate::cluster::forward`]), whose handler
//!   answers after the change is durable. A forwarded request that reaches
//!   a node no longer owning the room gets 503 (never forwarded twice); an
//!   owner that cannot be reached gets the client 503 with `Retry-After`,
//!   and once its lease ran out the next try lands on a new owner.
//!
//! The facilitator's controls may name tables of several owners: their
//! handler asks per table ([`owner_for`], [`forward_json`]).

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;

use crate::access::Role;
use crate::cluster::forward::{self, Forwarded, INTERNAL_HTTP, MAX_FORWARDED_BODY};
use crate::cluster::{Directory, Owner, Remote};
use crate::http::error::AppError;
use crate::http::state::{Admitted, AppState};
use crate::store::RoomKey;

/// What a write request changes, as far as where it must run goes.
#[derive(Debug, PartialEq, Eq)]
pub enum Target {
    /// The room of this name (its lease decides where the write runs).
    Room(String),
    /// The facilitator's controls: per table, in their handler.
    Control,
}

/// The room a write to `path` (`/api/events/{event}/...`, or the same
/// under [`INTERNAL_HTTP`]) changes; `None` for reads and for writes that
/// are not forwarded (identities, the participant key, uploads).
pub fn write_target(method: &Method, path: &str) -> Option<Target> {
    if *method == Method::GET || *method == Method::HEAD {
        return None;
    }
    let path = path.strip_prefix(INTERNAL_HTTP).unwrap_or(path);
    let rest = path.strip_prefix("/api/events/")?;
    let (_event, rest) = rest.split_once('/')?;
    let parts: Vec<&str> = rest.split('/').collect();
    let post = *method == Method::POST;
    let room = match parts.as_slice() {
        ["control"] if post => return Some(Target::Control),
        ["tables", table, "votes"] if post => (*table).to_owned(),
        ["next-steps"] if post => werktafel_shared::closing::CLOSING_DOCUMENT.to_owned(),
        ["next-steps", "order"] if *method == Method::PUT => {
            werktafel_shared::closing::CLOSING_DOCUMENT.to_owned()
        }
        ["next-steps", _] if *method == Method::PATCH || *method == Method::DELETE => {
            werktafel_shared::closing::CLOSING_DOCUMENT.to_owned()
        }
        ["zaal", "plus-ones" | "pins"] if post => werktafel_shared::room::LECTURE_ROOM.to_owned(),
        ["start-view"] if post => crate::http::market::SETTINGS_ROOM.to_owned(),
        ["stands", stand, "useful" | "files"] if post => (*stand).to_owned(),
        _ => return None,
    };
    Some(Target::Room(room))
}

/// Middleware in front of the reads of a cluster node; see the module docs.
pub async fn catch_up(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let read = request.method() == Method::GET && !request.uri().path().starts_with("/sync/");
    if read && let Err(error) = state.tables().catch_up().await {
        return error.into_response();
    }
    next.run(request).await
}

/// Middleware in front of the writes of a cluster node; see the module docs.
pub async fn to_owner(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let relayed = request
        .extensions()
        .get::<Admitted>()
        .is_some_and(|admitted| admitted.relayed);
    let room = match write_target(request.method(), request.uri().path()) {
        Some(Target::Room(room)) => room,
        // Controls are split by table in their handler.
        Some(Target::Control) => return next.run(request).await,
        // Other nodes forward writes to rooms only.
        None if relayed => {
            return AppError::NotFound("this endpoint".into()).into_response();
        }
        None => return next.run(request).await,
    };
    let event = state.event().slug.clone();
    // A name the event does not have is the handler's 404: never a lease
    // (that would let anyone fill the lease table with junk names).
    if state.room_ref(&event, &room).is_err()
        && room != werktafel_shared::closing::CLOSING_DOCUMENT
        && room != crate::http::market::SETTINGS_ROOM
    {
        return next.run(request).await;
    }
    let key = RoomKey::new(&event, &room);
    let remote = match owner_for(&state, relayed, &key).await {
        Ok(None) => return next.run(request).await,
        Ok(Some(remote)) => remote,
        Err(error) => return error.into_response(),
    };
    let role = request.extensions().get::<Role>().copied();
    let (parts, body) = request.into_parts();
    let Some(role) = role else {
        return AppError::Forbidden("a valid key is required").into_response();
    };
    // An upload is held here while it arrives, as on the owner: only so
    // many at once, each at most the upload limit (the owner checks it
    // again, with the quotas).
    let upload = parts.uri.path().ends_with("/files");
    let _slot = match upload {
        true => match state.market().upload_slot() {
            Ok(slot) => Some(slot),
            Err(busy) => return busy.into_response(),
        },
        false => None,
    };
    let limit = match upload {
        true => usize::try_from(state.limits().max_upload_bytes).unwrap_or(usize::MAX),
        false => MAX_FORWARDED_BODY,
    };
    let Ok(body) = axum::body::to_bytes(body, limit).await else {
        return AppError::PayloadTooLarge(format!("a request body has at most {limit} bytes"))
            .into_response();
    };
    let forwarded = Forwarded {
        method: parts.method.clone(),
        path: parts.uri.path(),
        query: parts.uri.query(),
        headers: &parts.headers,
        role,
        body,
    };
    match send(&state, &remote, forwarded).await {
        Ok(answer) => answer,
        Err(error) => error.into_response(),
    }
}

/// Where a write to `key` must run: `None` here, else the owner to forward
/// to. A request another node forwarded (`relayed`) runs here or nowhere (503).
pub async fn owner_for(
    state: &AppState,
    relayed: bool,
    key: &RoomKey,
) -> Result<Option<Remote>, AppError> {
    if matches!(state.directory(), Directory::Solo) {
        return Ok(None);
    }
    match state.directory().owner(key).await {
        Ok(Owner::Here) => Ok(None),
        Ok(Owner::There(_)) if relayed => Err(AppError::TryAgain(
            "this node no longer serves the table; try again".into(),
        )),
        Ok(Owner::There(remote)) => Ok(Some(remote)),
        Err(error) => Err(AppError::TryAgain(format!(
            "where the table is served is not known now: {error}"
        ))),
    }
}

/// Forwards a JSON body (the controls of one owner's tables) to `remote`
/// as a `POST` to `path`, and returns the owner's answer.
pub async fn forward_json(
    state: &AppState,
    remote: &Remote,
    path: &str,
    role: Role,
    body: &serde_json::Value,
) -> Result<(StatusCode, serde_json::Value), AppError> {
    let mut headers = axum::http::HeaderMap::new();
    headers.insert(
        axum::http::header::CONTENT_TYPE,
        axum::http::HeaderValue::from_static("application/json"),
    );
    let body = Bytes::from(serde_json::to_vec(body).unwrap_or_default());
    let forwarded = Forwarded {
        method: Method::POST,
        path,
        query: None,
        headers: &headers,
        role,
        body,
    };
    let answer = send(state, remote, forwarded).await?;
    let status = answer.status();
    let bytes = axum::body::to_bytes(answer.into_body(), forward::MAX_FORWARDED_ANSWER)
        .await
        .map_err(|e| AppError::TryAgain(format!("the table's server answered badly: {e}")))?;
    let value = serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null);
    Ok((status, value))
}

async fn send(
    state: &AppState,
    remote: &Remote,
    request: Forwarded<'_>,
) -> Result<Response<Body>, AppError> {
    let secret = state
        .config()
        .cluster
        .as_ref()
        .and_then(|c| c.secret.as_ref())
        .ok_or_else(|| {
            AppError::Unavailable(
                "another node serves this table, and this node has no cluster secret to reach it"
                    .into(),
            )
        })?;
    forward::forward(remote, secret, request)
        .await
        .map_err(|error| {
            tracing::warn!(%error, "a write could not be forwarded to the table's owner");
            AppError::TryAgain(format!("{error}; try again"))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_write_names_the_room_it_changes() {
        let room = |name: &str| Some(Target::Room(name.to_owned()));
        let e = "/api/events/dag";
        assert_eq!(
            write_target(&Method::POST, &format!("{e}/control")),
            Some(Target::Control)
        );
        assert_eq!(
            write_target(&Method::POST, &format!("{e}/tables/a/votes")),
            room("a")
        );
        assert_eq!(
            write_target(&Method::GET, &format!("{e}/tables/a/votes")),
            None
        );
        for (method, path) in [
            (Method::POST, "next-steps"),
            (Method::PUT, "next-steps/order"),
            (Method::PATCH, "next-steps/s1"),
            (Method::DELETE, "next-steps/s1"),
        ] {
            assert_eq!(
                write_target(&method, &format!("{e}/{path}")),
                room("closing/next-steps"),
                "{method} {path}"
            );
        }
        assert_eq!(
            write_target(&Method::POST, &format!("{e}/zaal/plus-ones")),
            room("zaal")
        );
        assert_eq!(
            write_target(&Method::POST, &format!("{e}/zaal/pins")),
            room("zaal")
        );
        assert_eq!(
            write_target(&Method::POST, &format!("{e}/start-view")),
            room("event/settings")
        );
        assert_eq!(
            write_target(
                &Method::POST,
                &format!("{INTERNAL_HTTP}{e}/stands/markt-ot2/useful")
            ),
            room("markt-ot2")
        );
        // An upload writes its material into the stand's document.
        assert_eq!(
            write_target(&Method::POST, &format!("{e}/stands/markt-ot2/files")),
            room("markt-ot2")
        );
        // Not forwarded: identities, the key, the poster (each node tells
        // the tables it holds: `AppState::announce_poster`).
        for path in ["identity", "keys/rotate"] {
            assert_eq!(write_target(&Method::POST, &format!("{e}/{path}")), None);
        }
        assert_eq!(write_target(&Method::PUT, &format!("{e}/poster")), None);
        assert_eq!(write_target(&Method::POST, "/sync/dag/a"), None);
    }
}
