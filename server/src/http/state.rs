//! `AppState`: what every handler shares (the configuration, the loaded
//! tables, the keys and signer, the admission gate, the export pool and the
//! live summary), and how a key becomes a role.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::http::unix_now;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use werktafel_shared::event::{Event, TableDef};

use crate::access::{EventKeys, Identity, IdentityError, MintLimiter, Role, Signer, Terms};
use crate::config::Config;
use crate::http::attendance::Attendance;
use crate::http::error::AppError;
use crate::http::gate::Gate;
use crate::http::summary_feed::SummaryFeed;
use crate::http::tables::Tables;
use crate::store::RoomKey;
use crate::table::room::Room;
use crate::table::rooms::{DRAFTS_PART, Rooms};

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
    /// Relayed by another node of the cluster, which checked the key and
    /// admitted the client ([`crate::http::internal`]): never relayed again.
    pub relayed: bool,
}

/// Close code of a participant connection whose link was renewed by the
/// facilitator (its key now gets 403).
pub use crate::sync::connection::CLOSE_REVOKED;

mod follow;

struct StateInner {
    config: Config,
    rooms: Rooms,
    tables: Tables,
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
    exports: Arc<crate::exports::ExportService>,
    heavy_reads: crate::http::reads::HeavyReads,
    market: crate::http::market::slots::MarketState,
    /// The poster image now (uploaded, else the event file's), and how often it changed,
    /// so a cached export drawn on an older poster is not served.
    poster: std::sync::RwLock<(Option<Arc<crate::poster::PosterImage>>, u64)>,
    /// Where each table is served: here, or on the node to relay to.
    directory: crate::cluster::Directory,
    /// Uploaded files and the poster: the data directory, or PostgreSQL.
    blobs: Arc<crate::store::blobs::Blobs>,
}

impl AppState {
    pub fn new(
        config: Config,
        rooms: Rooms,
        access: Access,
        tracker: TaskTracker,
        shutdown: CancellationToken,
        directory: crate::cluster::Directory,
    ) -> Self {
        let exports = Arc::new(crate::exports::ExportService::new(
            config.limits.max_concurrent_exports,
        ));
        let tables = Tables::on(config.event.clone(), rooms.clone(), &directory);
        let heavy_reads = crate::http::reads::HeavyReads::new(config.limits.heavy_reads_per_minute);
        let blobs = Arc::new(crate::store::blobs::Blobs::of(
            &config.store,
            &config.data_dir,
        ));
        // On PostgreSQL the first heartbeat reads it (`follow_shared`).
        let uploaded = if blobs.is_shared() {
            None
        } else {
            crate::poster::PosterImage::load_uploaded(&config.data_dir)
        };
        let poster = uploaded
            .or_else(|| config.poster_image.clone())
            .map(Arc::new);
        Self {
            inner: Arc::new(StateInner {
                blobs,
                exports,
                heavy_reads,
                config,
                rooms,
                tables,
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
                market: crate::http::market::slots::MarketState::default(),
                poster: std::sync::RwLock::new((poster, 0)),
                directory,
            }),
        }
    }

    pub fn event(&self) -> &Event {
        &self.inner.config.event
    }

    pub fn event_arc(&self) -> Arc<Event> {
        self.inner.config.event.clone()
    }

    /// The poster image now; `None` means the built-in drawing.
    pub fn poster_image(&self) -> Option<Arc<crate::poster::PosterImage>> {
        self.poster_read().0.clone()
    }

    /// How many times the poster was replaced since start (part of an export's cache key).
    pub fn poster_version(&self) -> u64 {
        self.poster_read().1
    }

    pub fn set_poster_image(&self, image: Arc<crate::poster::PosterImage>) {
        let mut poster = self.inner.poster.write().unwrap_or_else(|e| e.into_inner());
        poster.0 = Some(image);
        poster.1 += 1;
    }

    fn poster_read(
        &self,
    ) -> std::sync::RwLockReadGuard<'_, (Option<Arc<crate::poster::PosterImage>>, u64)> {
        // Only whole values are stored; a panic elsewhere leaves it usable.
        self.inner.poster.read().unwrap_or_else(|e| e.into_inner())
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
        Some(Admitted {
            role,
            revoked,
            relayed: false,
        })
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
        self.install_participant_key(&renewed.join, renewed.generation);
        tracing::info!(
            generation = renewed.generation,
            "the participant link was renewed"
        );
        Ok(renewed)
    }

    /// Where uploaded files and the poster are kept.
    pub fn blobs(&self) -> &Arc<crate::store::blobs::Blobs> {
        &self.inner.blobs
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
    pub fn heavy_reads(&self) -> &crate::http::reads::HeavyReads {
        &self.inner.heavy_reads
    }

    /// The market's server state (uploads).
    pub fn market(&self) -> &crate::http::market::slots::MarketState {
        &self.inner.market
    }

    /// The event's rooms as loaded rooms.
    pub fn tables(&self) -> &Tables {
        &self.inner.tables
    }

    /// The export slots and cache.
    pub fn exports(&self) -> &crate::exports::ExportService {
        &self.inner.exports
    }

    /// Where each table is served (always here for one node alone).
    pub fn directory(&self) -> &crate::cluster::Directory {
        &self.inner.directory
    }

    pub fn shutdown(&self) -> &CancellationToken {
        &self.inner.shutdown
    }

    /// The tracker of the server's long-lived tasks: shutdown waits for them.
    /// A fresh peer id for a new connection, unique for this process's lifetime.
    pub fn next_peer(&self) -> u64 {
        self.inner.next_peer.fetch_add(1, Ordering::Relaxed)
    }

    pub fn tasks(&self) -> &TaskTracker {
        &self.inner.tracker
    }

    /// Starts the plenary summary feed; call once.
    pub async fn start_summary(&self, token: CancellationToken) {
        let token_for_follow = token.clone();
        let feed = SummaryFeed::start(
            self.inner.tables.clone(),
            self.inner.exports.clone(),
            self.tasks().clone(),
            token,
        )
        .await;
        let _ = self.inner.summary.set(feed);
        self.inner
            .tables
            .follow_other_nodes(self.tasks(), token_for_follow);
    }

    pub fn summary_feed(&self) -> Result<&SummaryFeed, AppError> {
        self.inner
            .summary
            .get()
            .ok_or_else(|| AppError::Unavailable("the summary is starting".into()))
    }

    /// The room of `table` if it is in memory now.
    pub fn loaded_room(&self, table: &TableDef) -> Option<Arc<Room>> {
        self.inner.tables.loaded(table)
    }

    pub fn limits(&self) -> &crate::config::Limits {
        &self.inner.config.limits
    }

    pub fn rooms(&self) -> &Rooms {
        &self.inner.rooms
    }

    /// The loaded room of `table`, loading it (and writing its meta) if needed.
    pub async fn room(&self, table: &TableDef) -> Result<Arc<Room>, AppError> {
        self.inner.tables.load(table).await
    }

    /// A room the server keeps beside a table (drafts, ballots): no meta.
    pub async fn side_room(&self, key: RoomKey) -> Result<Arc<Room>, AppError> {
        self.inner.tables.side(&key, None).await
    }

    /// A participant's drafts document (see [`AppState::drafts_key`]),
    /// bounded to [`crate::Limits::max_drafts_bytes`].
    pub async fn drafts_room(&self, key: RoomKey) -> Result<Arc<Room>, AppError> {
        let max = self.limits().max_drafts_bytes;
        self.inner.tables.side(&key, Some(max)).await
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
