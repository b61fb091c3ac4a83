//! The server's configuration: one typed field per option, built by the CLI.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use werktafel_shared::event::Event;

/// Everything `run` needs besides the listener.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where the tables, event definitions, keys and secrets are stored:
    /// the SQLite database in the data directory, or PostgreSQL.
    pub store: crate::store::StoreConfig,
    /// Where files live whatever the store: the market's uploads and the
    /// uploaded poster (and, with the default store, the SQLite database).
    pub data_dir: PathBuf,
    /// The event served.
    pub event: Arc<Event>,
    /// Where people reach the server (`http://werktafel.local:8080`), for
    /// links and QR codes; without it, the Host of each request.
    pub public_url: Option<String>,
    pub limits: Limits,
    /// The poster image the event file names, read and checked at start; an upload
    /// (`PUT /api/events/{event}/poster`) takes its place.
    pub poster_image: Option<crate::poster::PosterImage>,
    /// Several nodes serving one event from a shared PostgreSQL store; `None`
    /// (the default) is one node on its own store, where nothing of the
    /// cluster runs.
    pub cluster: Option<Cluster>,
}

/// This node's part in a cluster of nodes that share one store
/// (`docs/scale-out.md`): who it is, where the others reach it, and the
/// secret they prove themselves with.
#[derive(Clone)]
pub struct Cluster {
    /// This node's name in the `nodes` registry and in each table's lease;
    /// unique per running process.
    pub node_id: String,
    /// `host:port` at which the other nodes reach this node's internal
    /// endpoint (`/internal/sync/...`); plain TCP on the private network.
    pub advertise: String,
    /// What a node presents to another's internal endpoint; without it this
    /// node neither relays nor accepts relays (one node alone needs none).
    pub secret: Option<ClusterSecret>,
    /// The shared PostgreSQL database, where the leases are kept.
    pub database: tokio_postgres::Config,
    /// How long a node counts as alive after its last heartbeat, judged by
    /// PostgreSQL's clock; its tables may be taken over after that.
    pub lease_ttl: Duration,
    /// How often a node renews its heartbeat and checks its leases.
    pub heartbeat_interval: Duration,
    /// The data directory's `node-id` file, locked while the node runs
    /// (when the id came from there: [`crate::cluster::node_id_in`]).
    pub node_id_lock: Option<Arc<std::fs::File>>,
}

impl std::fmt::Debug for Cluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cluster")
            .field("node_id", &self.node_id)
            .field("advertise", &self.advertise)
            .field("lease_ttl", &self.lease_ttl)
            .field("heartbeat_interval", &self.heartbeat_interval)
            .finish_non_exhaustive()
    }
}

/// The cluster secret; never printed.
#[derive(Clone)]
pub struct ClusterSecret(String);

/// Fewest bytes a cluster secret may have: it is all that stands between the
/// network and every table.
pub const MIN_CLUSTER_SECRET_BYTES: usize = 16;

impl ClusterSecret {
    /// The secret `text` (trimmed: a file usually ends in a newline), or why
    /// it is too weak to use.
    pub fn new(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if text.len() < MIN_CLUSTER_SECRET_BYTES {
            return Err(format!(
                "the cluster secret must have at least {MIN_CLUSTER_SECRET_BYTES} characters"
            ));
        }
        Ok(Self(text.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether `presented` is this secret, in time independent of where
    /// they differ.
    pub fn matches(&self, presented: &[u8]) -> bool {
        use subtle::ConstantTimeEq;
        self.0.as_bytes().ct_eq(presented).into()
    }
}

/// Per-connection and per-room bounds. The defaults fit a 200-person workshop
/// on venue Wi-Fi.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Largest WebSocket message accepted. A client that was offline for a
    /// whole session sends all its edits in one sync step 2, so this is
    /// generous; anything larger closes the connection with 1009.
    pub max_message_bytes: usize,
    /// Messages queued for one client before it counts as lagging. The
    /// messages are shared with every other client of the table, so a queue
    /// costs a pointer per message, not a copy.
    pub outbox_capacity: usize,
    /// Bytes of deliveries the room keeps for a lagging client, to catch it
    /// up from them, in order, once its queue has drained.
    /// One that falls further behind is resynced from the document instead
    /// (at most once a second): this bounds the memory a slow reader holds.
    pub catch_up_bytes: usize,
    /// A client that sends nothing (not even a pong) for this long is
    /// disconnected. Longer than a minute, so a client that stalls briefly
    /// is resynced rather than dropped.
    pub idle_timeout: Duration,
    /// A client that does not take a write for this long is disconnected.
    pub write_timeout: Duration,
    /// An idle connection gets a keepalive (and a ping) this often. The stock
    /// y-websocket client reconnects after 30 s without a message.
    pub keepalive_interval: Duration,
    /// A room with no clients stays in memory this long before it is dropped.
    pub room_idle_grace: Duration,
    /// Sustained messages per second one connection may send; bursts up to
    /// twice this pass. Typing sends ~10/s, presence 1 per 15 s.
    pub messages_per_second: u32,
    /// Sustained bytes per second one connection may send; a burst of one
    /// maximum-size message always passes.
    pub bytes_per_second: u64,
    /// Largest table document, counted as the bytes of its stored updates;
    /// a workshop table stays far below (10,000 notes are ~2 MB).
    pub max_document_bytes: u64,
    /// Open connections for the whole event.
    pub max_connections: usize,
    /// Open connections from one remote address. A venue's Wi-Fi may put
    /// everyone behind one address, so this is generous.
    pub max_connections_per_address: usize,
    /// Connection attempts from one remote address per minute.
    pub connects_per_address_per_minute: u32,
    /// Heavy reads (the summary, exports, board pictures) one remote address
    /// may make per minute, after a burst of [`crate::http::reads::HEAVY_READ_BURST`].
    pub heavy_reads_per_minute: u32,
    /// A socket must send a whole request head within this long (and a
    /// keep-alive connection its next one), or it is closed.
    pub header_read_timeout: Duration,
    /// An HTTP connection that reads and writes nothing for this long is
    /// closed, whatever its request is doing.
    pub http_idle_timeout: Duration,
    /// Open sockets (HTTP and WebSocket) from one remote address; more get
    /// a 429 and are closed. Above `max_connections_per_address`, leaving
    /// room for each browser's few HTTP connections.
    pub max_sockets_per_address: usize,
    /// New identities one remote address may mint per [`Limits::identity_window`];
    /// more get 429. A device renaming the identity it holds mints none.
    /// Venue Wi-Fi may put everyone behind one address, so this is generous.
    pub identities_per_address: u32,
    /// The window over which minted identities are counted.
    pub identity_window: Duration,
    /// How long a signed identity (its token and cookie) is accepted after
    /// it is issued; renaming issues it anew. A workshop is one day, and the
    /// event has no date to end it at, so: a day.
    pub identity_lifetime: Duration,
    /// Participants' private drafts documents per event (one per identity
    /// and table it drafts at). A new one beyond this is refused with HTTP
    /// 507; 200 people at all four tables need 800.
    pub max_drafts_documents: usize,
    /// Largest drafts document, counted like a table's
    /// ([`Limits::max_document_bytes`]); writes beyond it close with 4413.
    pub max_drafts_bytes: u64,
    /// Exports rendered or being sent at once (HTTP); one more gets 429 with
    /// `Retry-After`. An unchanged export is served from the cache without a
    /// slot. Two keep a two-core laptop answering while plenary screens export.
    pub max_concurrent_exports: usize,
    /// Largest file uploaded to a market stand; a larger one gets HTTP 413.
    pub max_upload_bytes: u64,
    /// Bytes of stand files one identity may upload over the event (a file
    /// someone else uploaded first costs nothing); beyond it HTTP 507.
    pub upload_quota_per_identity: u64,
    /// Bytes of stand files the event holds in all; beyond it HTTP 507, so
    /// key-holders cannot fill the disk.
    pub max_upload_bytes_total: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_message_bytes: 8 * 1024 * 1024,
            outbox_capacity: 1024,
            catch_up_bytes: 4 * 1024 * 1024,
            idle_timeout: Duration::from_secs(120),
            write_timeout: Duration::from_secs(120),
            keepalive_interval: Duration::from_secs(10),
            room_idle_grace: Duration::from_secs(60),
            messages_per_second: 100,
            bytes_per_second: 1024 * 1024,
            max_document_bytes: 64 * 1024 * 1024,
            max_connections: 2000,
            max_connections_per_address: 400,
            connects_per_address_per_minute: 1200,
            heavy_reads_per_minute: 60,
            header_read_timeout: Duration::from_secs(10),
            http_idle_timeout: Duration::from_secs(60),
            max_sockets_per_address: 1000,
            identities_per_address: 30,
            identity_window: Duration::from_secs(600),
            identity_lifetime: Duration::from_secs(24 * 60 * 60),
            max_drafts_documents: 1000,
            max_drafts_bytes: 1024 * 1024,
            max_concurrent_exports: 2,
            max_upload_bytes: 10 * 1024 * 1024,
            upload_quota_per_identity: 50 * 1024 * 1024,
            max_upload_bytes_total: 1024 * 1024 * 1024,
        }
    }
}
