//! `GET /sync/{event}/{room}`: the WebSocket entry. Checks the room before
//! the upgrade (404), admits the socket through the gate, maps `{table}.drafts`
//! to the caller's own drafts document, and hands the socket to
//! [`crate::sync::connection`]. In a cluster, a table another node owns is
//! relayed there instead ([`crate::cluster::relay`]), after the same checks.

use werktafel_shared::room::RoomRef;

use crate::http::state::{Admitted, AppState};

use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use std::net::SocketAddr;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

use crate::cluster::relay::{self, Forward};
use crate::cluster::{Owner, Remote};
use crate::http::error::AppError;
use crate::http::identity::{self};
use crate::store::RoomKey;
use crate::sync::connection;
use crate::sync::upgrade::{NotAnUpgrade, Upgrade};
use crate::table::peer::PeerLink;
use crate::table::rooms::AdmitDrafts;

/// Bytes read from a socket at a time (tungstenite allocates this per connection).
pub const READ_BUFFER_BYTES: usize = 4 * 1024;
/// Bytes gathered before a write goes to the socket; the writer flushes
/// after each batch anyway.
pub const WRITE_BUFFER_BYTES: usize = 16 * 1024;

/// Suffix of the room name under which a participant syncs their private
/// drafts of a table (`a.drafts`); the server maps it to their own document.
pub const DRAFTS_SUFFIX: &str = ".drafts";

#[derive(serde::Deserialize)]
pub struct SyncQuery {
    token: Option<String>,
}

/// `GET /sync/{event}/{room}`: 404 for an unknown room before anything
/// else, then the WebSocket upgrade into the Yjs sync protocol. A room is a
/// table, a market stand or the lecture board ([`RoomRef`]); the room
/// `{table}.drafts` is the caller's own private drafts of that table.
pub async fn sync(
    State(state): State<AppState>,
    Path((slug, room_name)): Path<(String, String)>,
    Query(query): Query<SyncQuery>,
    Extension(Admitted {
        role,
        revoked,
        relayed,
    }): Extension<Admitted>,
    ConnectInfo(client_addr): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    upgrade: Result<Upgrade, NotAnUpgrade>,
) -> Result<Response, AppError> {
    // As asked (`a.drafts` included): what a relay asks the owner for.
    let requested = room_name.clone();
    let (name, drafts) = match room_name.strip_suffix(DRAFTS_SUFFIX) {
        Some(table) => (table, true),
        None => (room_name.as_str(), false),
    };
    let room_ref = state.room_ref(&slug, name)?;
    let table = match room_ref {
        RoomRef::Table(table) => Some(table.clone()),
        RoomRef::Stand(_) | RoomRef::Lecture => None,
    };
    let room_name = room_ref.name();
    // Drafts belong to a signed identity; nobody can name another's.
    let (drafts_key, present) = if drafts {
        let Some(table) = &table else {
            return Err(AppError::NotFound(format!(
                "drafts of '{name}': only a table has drafts"
            )));
        };
        if !role.may_write() {
            return Err(AppError::Forbidden("drafts belong to participants"));
        }
        let token = identity::presented(query.token.as_deref(), &headers);
        let owner = state.identity(token)?;
        (Some(state.drafts_key(table, &owner)), Some(owner))
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
    let owner = state
        .directory()
        .owner(&RoomKey::new(&slug, &room_name))
        .await
        .map_err(|error| {
            tracing::warn!(%error, "no owner for the table");
            AppError::Unavailable(error.to_string())
        })?;
    match (owner, relayed) {
        (Owner::Here, _) => {}
        // A relay reached a node that no longer owns the table: the relaying
        // node answers its client 503, which reconnects and asks again.
        (Owner::There(remote), true) => {
            return Err(AppError::Unavailable(format!(
                "room {room_name} is served by node {}",
                remote.node
            )));
        }
        (Owner::There(remote), false) => {
            let forward = Forward {
                path_and_query: &internal_path(&slug, &requested, query.token.as_deref()),
                role,
                cookie: headers.get(axum::http::header::COOKIE),
            };
            return forward_to(&state, remote, forward, client_addr, upgrade, revoked).await;
        }
    }
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
    // A relayed client was admitted by the node it reached.
    let ticket = if relayed {
        None
    } else {
        Some(admit(&state, client_addr)?)
    };
    // Load before upgrading, so a storage failure is an HTTP 500 rather than
    // a socket that opens and dies.
    let load = {
        let state = state.clone();
        let room_name = room_name.clone();
        move || {
            let state = state.clone();
            let drafts_key = drafts_key.clone();
            let room_name = room_name.clone();
            async move {
                match drafts_key {
                    Some(key) => state.drafts_room(key).await,
                    None => {
                        let event = state.event_arc();
                        let room = event
                            .room(&room_name)
                            .ok_or_else(|| AppError::NotFound(format!("room '{room_name}'")))?;
                        state.open_room(room).await
                    }
                }
            }
        }
    };
    load().await?;
    let limits = state.limits().clone();
    let config = socket_config(&limits);
    let tasks = state.tasks().clone();
    let response = upgrade.on_upgrade(config, &tasks, move |socket| {
        async move {
            let _ticket = ticket;
            // Counted for the console while this connection lasts. The web
            // board keeps its drafts open beside the table, with its identity,
            // so a board that connected before it had the cookie counts too.
            let _present = present.map(|who| state.attendance().arrive(&room_name, &who));
            let peer = state.next_peer();
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
            let shutdown = state.shutdown().clone();
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

/// Admits a client's socket through the gate (per event and per address).
fn admit(state: &AppState, remote: SocketAddr) -> Result<crate::http::gate::Ticket, AppError> {
    state
        .gate()
        .admit(remote.ip(), state.limits())
        .map_err(|refusal| {
            tracing::warn!(remote = %remote.ip(), %refusal, "connection refused");
            AppError::TooMany(refusal.to_string())
        })
}

/// The owner's internal path for a client of `room`, with what of its query
/// the owner needs (the identity token; the key stays here, the role goes
/// in a header).
fn internal_path(slug: &str, room: &str, token: Option<&str>) -> String {
    let mut path = format!("/internal/sync/{slug}/{room}");
    // A token is URL-safe base64 and dots; anything else is not a token
    // the owner would accept, so it is not passed on.
    if let Some(token) = token.filter(|t| {
        t.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
    }) {
        path.push_str("?token=");
        path.push_str(token);
    }
    path
}

/// Relays the client to the table's owner: connects to it first, so a
/// client whose owner cannot be reached gets 503 (and retries) rather than
/// a socket that opens and dies.
async fn forward_to(
    state: &AppState,
    remote: Remote,
    forward: Forward<'_>,
    client: SocketAddr,
    upgrade: Upgrade,
    revoked: Option<tokio_util::sync::CancellationToken>,
) -> Result<Response, AppError> {
    let Some(secret) = state
        .config()
        .cluster
        .as_ref()
        .and_then(|c| c.secret.clone())
    else {
        tracing::error!(node = %remote.node, "a table is held by another node, and this node has no --cluster-secret to relay with");
        return Err(AppError::Unavailable(format!(
            "this table is served by another server ({}), which this one cannot relay to",
            remote.node
        )));
    };
    let ticket = admit(state, client)?;
    let config = socket_config(state.limits());
    let upstream =
        match relay::connect(&remote, forward, &secret, upstream_config(state.limits())).await {
            Ok(upstream) => upstream,
            Err(error) => {
                crate::metrics::METRICS.cluster_forward_failures.inc();
                tracing::warn!(%error, node = %remote.node, "cannot relay to the table's owner");
                return Err(AppError::Unavailable(
                    "the server that holds this table cannot be reached; try again".into(),
                ));
            }
        };
    tracing::debug!(node = %remote.node, epoch = remote.epoch, "relaying a client to the table's owner");
    let idle = state.limits().idle_timeout;
    let shutdown = state.shutdown().clone();
    let tasks = state.tasks().clone();
    Ok(
        upgrade.on_upgrade(config, &tasks, move |socket| async move {
            let _ticket = ticket;
            relay::relay(socket, upstream, idle, &shutdown, revoked).await;
        }),
    )
}

/// The WebSocket settings of a relay's internal connection to the owner.
/// What the owner sends is not a client's message: a joining client's first
/// sync answer is the whole table, which may be far larger than any one
/// message a client may send (`--max-message-bytes`). The owner is
/// another node of the cluster, authenticated by the secret, and bounds a
/// table to `--max-document-bytes`: its messages are bounded by that, with
/// room for the encoding's overhead.
fn upstream_config(limits: &crate::config::Limits) -> WebSocketConfig {
    let document = usize::try_from(limits.max_document_bytes).unwrap_or(usize::MAX);
    let most = limits
        .max_message_bytes
        .max(document.saturating_mul(2).saturating_add(1024 * 1024));
    socket_config(limits)
        .max_message_size(Some(most))
        .max_frame_size(Some(most))
}

/// The WebSocket settings of a client's socket.
fn socket_config(limits: &crate::config::Limits) -> WebSocketConfig {
    WebSocketConfig::default()
        .max_message_size(Some(limits.max_message_bytes))
        .max_frame_size(Some(limits.max_message_bytes))
        // tungstenite's default 128 KiB read buffer per connection is what
        // made an idle connection cost ~140 KiB (docs/benchmarks.md); y-protocol
        // messages are small, and a large one still arrives, in more reads.
        .read_buffer_size(READ_BUFFER_BYTES)
        .write_buffer_size(WRITE_BUFFER_BYTES)
}
