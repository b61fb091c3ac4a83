//! The HTTP edge: the accept loop ([`serve`]), the router and the key check
//! ([`router`]), the handlers ([`api`], [`facilitation`], [`identity`],
//! [`summary_feed`]), the embedded client ([`assets`]), the one error type
//! ([`error`]), the admission limits ([`gate`], [`reads`]) and the endpoint
//! other nodes of a cluster relay clients to ([`internal`]), and how HTTP
//! reads and writes work on any node of a cluster ([`owner`]).

pub mod api;
pub mod assets;
pub mod attendance;
pub mod closing;
pub mod day;
pub mod error;
pub mod event_rooms;
pub mod facilitation;
pub mod gate;
pub mod identity;
pub mod internal;
pub mod lecture;
pub mod market;
pub mod owner;
pub mod poster;
pub mod reads;
pub mod router;
pub mod serve;
pub mod state;
pub mod summary_feed;
pub mod tables;
pub mod ws;

use axum::Json;

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
