//! The Werktafel server: one Yjs document per work table, synced to browsers
//! over WebSockets and committed to the store (embedded SQLite, or a shared
//! PostgreSQL) before anyone sees it.
//!
//! - [`run`] serves on a bound listener until a shutdown future resolves.
//!
//! The folders are the layers; a module imports only from its own layer or
//! the ones below it (top to bottom: `http` → `cluster` → `sync`, `exports` → `table` →
//! `store` → `screen`, `protocol`, `access`, `config`, `metrics`):
//! - [`http`]: the accept loop, routes, key check, handlers, shared state,
//!   the WebSocket entry, the embedded web client, the one `AppError`
//! - [`cluster`]: one owner per table on a shared PostgreSQL, and relays to it
//! - [`sync`]: one client's socket (reader loop + writer task) and the handshake
//! - [`table`]: a table's core without I/O (`Table`: events in, commands out),
//!   its parts, and its adapters (`table::room`, the registry `table::rooms`)
//! - [`store`]: the `Store` trait, SQLite and PostgreSQL, the group-committing worker
//!   (`store::persist`), log compaction off it (`store::compactor`), stored
//!   documents that fail the screen (`store::quarantine`)
//! - [`screen`]: what a client's update must pass before it is applied
//! - [`protocol`]: y-protocols decoding · [`access`]: keys, roles, signed identities
//! - [`exports`]: exports over HTTP and CLI, on a small low-priority pool
//! - [`config`]: options and limits · [`metrics`]: counters for `GET /metrics`
//! - `store::memory_store`: the `Store` in memory · `fuzzing`: the hostile-input harness
//!   (test-only: compiled with the `test-support` feature, never in the product)

pub mod access;
pub mod cluster;
pub mod config;
pub mod day;
pub mod exports;
#[cfg(any(test, feature = "test-support"))]
pub mod fuzzing;
pub mod http;
pub mod metrics;
pub mod poster;
pub mod protocol;
pub mod screen;
pub mod store;
pub mod sync;
pub mod table;

use std::future::Future;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

pub use config::{Config, Limits};

use crate::access::{EventKeys, Signer};
use crate::cluster::{Directory, Leases};
use crate::http::state::{Access, AppState};
use crate::store::fence::Fence;
use crate::store::persist::Persister;
use crate::store::{Store, StoreConfig, StoreError};
use crate::table::room;
use crate::table::rooms::Rooms;

/// How often the janitor expires stale presence and evicts idle rooms.
const JANITOR_INTERVAL: Duration = Duration::from_secs(5);

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("loading table {table}: {source}")]
    Table {
        table: String,
        source: crate::http::error::AppError,
    },
    #[error("serving HTTP: {0}")]
    Io(#[from] std::io::Error),
}

/// Serves Werktafel on `listener` until `shutdown` resolves, then closes
/// every socket with 1001, commits what is pending and returns.
pub async fn run(
    listener: TcpListener,
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServerError> {
    // Saved so `werktafel export` can work on the data directory alone.
    let definition =
        serde_json::to_string(&*config.event).map_err(|e| std::io::Error::other(e.to_string()))?;
    let store_config = config.store.clone();
    let slug = config.event.slug.clone();
    // The leases this node holds: the directory claims them, the store's
    // appends check them.
    let fence = Fence::default();
    let node = config.cluster.as_ref().map(|c| c.node_id.clone());
    let fenced = fence.clone();
    // Opening a store blocks (and PostgreSQL's client must not run on the
    // async runtime at all), so it and what reads it happen on a thread.
    let (access, persister, worker) = tokio::task::spawn_blocking(move || {
        let mut store = store_config.open()?;
        store.save_event(&slug, &definition)?;
        let access = Access {
            keys: EventKeys::load_or_create(&mut store, &slug)?,
            signer: Signer::load_or_create(&mut store)?,
        };
        let store = match node {
            Some(node) => store.fenced(node, fenced),
            None => store,
        };
        let (persister, worker) = Persister::start(store)?;
        Ok::<_, StoreError>((access, persister, worker))
    })
    .await
    .map_err(|e| std::io::Error::other(e.to_string()))??;
    let tracker = TaskTracker::new();
    let rooms = Rooms::new(
        persister.clone(),
        config.limits.max_document_bytes,
        tracker.clone(),
    );
    let token = CancellationToken::new();
    let state_slug = config.event.slug.clone();
    let directory = match &config.cluster {
        None => Directory::Solo,
        Some(cluster) => {
            tracing::info!(node = %cluster.node_id, advertise = %cluster.advertise, "joining the cluster");
            Directory::Leased(
                Leases::start(
                    cluster.clone(),
                    fence,
                    rooms.clone(),
                    &state_slug,
                    &tracker,
                    token.clone(),
                )
                .await,
            )
        }
    };
    let state = AppState::new(
        config,
        rooms.clone(),
        access,
        tracker.clone(),
        token.clone(),
        directory.clone(),
    );

    // Every room (tables, market stands, lecture board) gets its meta written
    // on first start, so clients need nothing but the document. In a cluster
    // a room is loaded by the node that takes its lease, when its first
    // client comes.
    let event = state.event_arc();
    let preload = match &directory {
        Directory::Solo => event.rooms(),
        Directory::Leased(_) => Vec::new(),
    };
    for room in preload {
        state
            .open_room(room)
            .await
            .map_err(|source| ServerError::Table {
                table: room.name(),
                source,
            })?;
    }

    if let Directory::Leased(leases) = &directory {
        tracker.spawn(state.clone().follow_shared(leases.shared(), token.clone()));
    }
    tracker.spawn(janitor(rooms.clone(), state.clone(), token.clone()));
    tracker.spawn(awareness_ticker(rooms.clone(), token.clone()));
    state.start_summary(token.clone()).await;

    let limits = state.limits().clone();
    let app = http::router::router(state);
    let stop = token.clone();
    tracker.spawn(async move {
        tokio::select! {
            () = shutdown => {}
            () = stop.cancelled() => {}
        }
        tracing::info!("shutting down");
        stop.cancel();
    });
    http::serve::serve(listener, app, &limits, token.clone()).await?;
    token.cancel();
    tracker.close();
    tracker.wait().await;
    persister.stop().await;
    drop(rooms);
    tokio::task::spawn_blocking(move || worker.join())
        .await
        .map_err(|e| std::io::Error::other(e.to_string()))?;
    // After the last append: the tables are free for other nodes at once.
    directory.close().await;
    tracing::info!("stopped");
    Ok(())
}

/// The event's links (participant, facilitator, plenary) for `base`, making
/// the keys on first use. `werktafel serve` prints them at start-up.
///
/// Blocking: call it off the async runtime.
pub fn links(store: &StoreConfig, slug: &str, base: &str) -> Result<Links, StoreError> {
    let mut store = store.open()?;
    let keys = EventKeys::load_or_create(&mut store, slug)?;
    Ok(Links {
        participant: http::facilitation::participant_link(base, slug, None, &keys.join),
        facilitator: format!("{base}/e/{slug}/facilitator?key={}", keys.facilitate),
        plenary: format!("{base}/e/{slug}/plenair?key={}", keys.view),
    })
}

/// The links that bring each role to the event.
#[derive(Debug)]
pub struct Links {
    pub participant: String,
    pub facilitator: String,
    pub plenary: String,
}

/// Ticks every room every [`room::AWARENESS_TICK`]: gathered presence
/// changes go out, expired presence is removed.
async fn awareness_ticker(rooms: Rooms, token: CancellationToken) {
    let mut tick = tokio::time::interval(room::AWARENESS_TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = token.cancelled() => return,
            _ = tick.tick() => {}
        }
        for room in rooms.loaded() {
            room.tick();
        }
    }
}

async fn janitor(rooms: Rooms, state: AppState, token: CancellationToken) {
    let grace = state.limits().room_idle_grace;
    let mut tick = tokio::time::interval(JANITOR_INTERVAL);
    loop {
        tokio::select! {
            _ = token.cancelled() => return,
            _ = tick.tick() => {}
        }
        rooms.evict_idle(grace, std::time::Instant::now());
        state.gate().sweep();
        state.heavy_reads().sweep();
        crate::metrics::METRICS.rooms_loaded.set(rooms.len() as i64);
    }
}
