//! Process-wide counters, served at `GET /metrics` in the Prometheus text
//! format. Each is one atomic; the hot paths add per frame or per fan-out,
//! never per byte.

use std::sync::LazyLock;

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

pub struct Metrics {
    pub connections: Gauge,
    pub connections_opened: Counter,
    pub rooms_loaded: Gauge,
    pub updates_received: Counter,
    pub update_bytes_received: Counter,
    pub awareness_received: Counter,
    /// Messages queued to clients (one per client per fan-out).
    pub deliveries: Counter,
    pub delivery_bytes: Counter,
    pub outbox_overflows: Counter,
    /// Participant writes to a locked or closed table, not applied.
    pub writes_held_back: Counter,
    /// Client writes not applied because the table's updates waited for
    /// storage beyond `MAX_UNFLUSHED_BYTES`; asked for again once it caught up.
    pub writes_pushed_back: Counter,
    /// Tables rebuilt from storage to undo an update applied in memory.
    pub room_reloads: Counter,
    /// Client updates refused unapplied for writing a server-only map.
    pub server_only_refused: Counter,
    /// Awareness entries dropped, by reason (`viewer`, `foreign`, `size`, `count`).
    pub awareness_dropped: Family<Vec<(String, String)>, Counter>,
    pub resyncs: Counter,
    /// Lagging clients caught up from the deliveries they missed.
    pub catch_ups: Counter,
    /// Encodes of document state the server made for clients, by kind.
    pub document_encodes: Family<Vec<(String, String)>, Counter>,
    pub commit_seconds: Histogram,
    pub commit_batch_updates: Histogram,
    pub commit_failures: Counter,
    /// Compactions run, by outcome (`written`, `empty`, `waiting`,
    /// `superseded`, `failed`).
    pub compactions: Family<Vec<(String, String)>, Counter>,
    pub compaction_seconds: Histogram,
    pub closes: Family<Vec<(String, String)>, Counter>,
    /// Open TCP sockets (HTTP and upgraded WebSockets alike).
    pub sockets_open: Gauge,
    /// Sockets refused because their address had its maximum open.
    pub sockets_refused: Counter,
    /// HTTP connections closed after the idle timeout.
    pub http_idle_closed: Counter,
    /// HTTP exports rendered (not served from the cache).
    pub exports_rendered: Counter,
    /// HTTP exports served from the cache, the tables unchanged.
    pub export_cache_hits: Counter,
    /// HTTP exports refused with 429 because every slot was busy.
    pub exports_refused: Counter,
    /// Market uploads whose bodies are being received now.
    pub uploads_receiving: Gauge,
    /// Tables whose lease this node holds (cluster mode).
    pub cluster_tables_owned: Gauge,
    /// Client connections this node relays to a table's owner now.
    pub cluster_forwarded: Gauge,
    /// Client connections relayed to another node, ever.
    pub cluster_forwards: Counter,
    /// Relays that could not reach the owner (the client got 1012).
    pub cluster_forward_failures: Counter,
    /// HTTP writes forwarded to the node that owns their room, ever.
    pub http_forwards: Counter,
    /// Forwarded HTTP writes the owner did not answer (the client got 503).
    pub http_forward_failures: Counter,
    /// Copies of other nodes' rooms dropped because their log moved.
    pub cluster_follow_reloads: Counter,
    /// Changes of this node's leases, by change (`claimed`, `taken_over`,
    /// `lost`, `released`).
    pub cluster_lease_changes: Family<Vec<(String, String)>, Counter>,
    /// 1 while this node's last heartbeat reached the store within the TTL.
    pub cluster_store_up: Gauge,
    registry: Registry,
}

/// The one set of metrics of this process.
pub static METRICS: LazyLock<Metrics> = LazyLock::new(Metrics::new);

impl Metrics {
    fn new() -> Self {
        let m = Metrics {
            connections: Gauge::default(),
            connections_opened: Counter::default(),
            rooms_loaded: Gauge::default(),
            updates_received: Counter::default(),
            update_bytes_received: Counter::default(),
            awareness_received: Counter::default(),
            deliveries: Counter::default(),
            delivery_bytes: Counter::default(),
            outbox_overflows: Counter::default(),
            writes_held_back: Counter::default(),
            writes_pushed_back: Counter::default(),
            room_reloads: Counter::default(),
            server_only_refused: Counter::default(),
            awareness_dropped: Family::default(),
            resyncs: Counter::default(),
            catch_ups: Counter::default(),
            document_encodes: Family::default(),
            // 50 µs … ~1.6 s: an fsync on a laptop SSD sits in the middle.
            commit_seconds: Histogram::new(exponential_buckets(0.000_05, 2.0, 16)),
            commit_batch_updates: Histogram::new(exponential_buckets(1.0, 2.0, 13)),
            commit_failures: Counter::default(),
            compactions: Family::default(),
            // 1 ms … ~33 s: a compaction replays a whole document's log.
            compaction_seconds: Histogram::new(exponential_buckets(0.001, 2.0, 16)),
            closes: Family::default(),
            sockets_open: Gauge::default(),
            sockets_refused: Counter::default(),
            http_idle_closed: Counter::default(),
            exports_rendered: Counter::default(),
            export_cache_hits: Counter::default(),
            exports_refused: Counter::default(),
            uploads_receiving: Gauge::default(),
            cluster_tables_owned: Gauge::default(),
            cluster_forwarded: Gauge::default(),
            cluster_forwards: Counter::default(),
            cluster_forward_failures: Counter::default(),
            http_forwards: Counter::default(),
            http_forward_failures: Counter::default(),
            cluster_follow_reloads: Counter::default(),
            cluster_lease_changes: Family::default(),
            cluster_store_up: Gauge::default(),
            registry: Registry::with_prefix("werktafel"),
        };
        let mut r = Registry::with_prefix("werktafel");
        r.register(
            "connections",
            "Open WebSocket connections",
            m.connections.clone(),
        );
        r.register(
            "uploads_receiving",
            "Market uploads whose bodies are being received",
            m.uploads_receiving.clone(),
        );
        r.register(
            "connections_opened",
            "WebSocket connections accepted",
            m.connections_opened.clone(),
        );
        r.register(
            "rooms_loaded",
            "Table documents in memory",
            m.rooms_loaded.clone(),
        );
        r.register(
            "updates_received",
            "Document updates received from clients",
            m.updates_received.clone(),
        );
        r.register(
            "update_bytes_received",
            "Bytes of document updates received",
            m.update_bytes_received.clone(),
        );
        r.register(
            "awareness_received",
            "Awareness messages received",
            m.awareness_received.clone(),
        );
        r.register(
            "deliveries",
            "Messages queued to clients",
            m.deliveries.clone(),
        );
        r.register(
            "delivery_bytes",
            "Bytes of messages queued to clients",
            m.delivery_bytes.clone(),
        );
        r.register(
            "outbox_overflows",
            "Deliveries dropped because a client's outbox was full",
            m.outbox_overflows.clone(),
        );
        r.register(
            "writes_held_back",
            "Participant writes to a locked or closed table, not applied",
            m.writes_held_back.clone(),
        );
        r.register(
            "writes_pushed_back",
            "Client writes not applied because storage fell behind; asked for again once it caught up",
            m.writes_pushed_back.clone(),
        );
        r.register(
            "room_reloads",
            "Tables reloaded from storage to undo an update applied in memory",
            m.room_reloads.clone(),
        );
        r.register(
            "server_only_refused",
            "Client updates refused unapplied for writing meta, control or votes",
            m.server_only_refused.clone(),
        );
        r.register(
            "awareness_dropped",
            "Awareness entries dropped: from a viewer, for another connection's \
             client id, over the size cap, or over the count cap",
            m.awareness_dropped.clone(),
        );
        r.register(
            "resyncs",
            "Lagging clients brought up to date from the document",
            m.resyncs.clone(),
        );
        r.register(
            "catch_ups",
            "Lagging clients caught up from the deliveries they missed",
            m.catch_ups.clone(),
        );
        r.register(
            "document_encodes",
            "Document state encoded for clients: full (a fresh client's sync step 2, \
             cached per version), diff (a step 2 against a state vector) or resync \
             (a lagging client from the document)",
            m.document_encodes.clone(),
        );
        r.register(
            "commit_seconds",
            "Time to commit one batch of updates",
            m.commit_seconds.clone(),
        );
        r.register(
            "commit_batch_updates",
            "Updates per commit",
            m.commit_batch_updates.clone(),
        );
        r.register(
            "commit_failures",
            "Commits that failed",
            m.commit_failures.clone(),
        );
        r.register(
            "compactions",
            "Compactions of a table's log into its snapshot, by outcome",
            m.compactions.clone(),
        );
        r.register(
            "compaction_seconds",
            "Time to compact one table's log (on the compaction thread)",
            m.compaction_seconds.clone(),
        );
        r.register(
            "closes",
            "Connections closed by the server, by close code",
            m.closes.clone(),
        );
        r.register(
            "sockets_open",
            "Open TCP sockets (HTTP and upgraded WebSockets)",
            m.sockets_open.clone(),
        );
        r.register(
            "sockets_refused",
            "Sockets refused because their address had its maximum open",
            m.sockets_refused.clone(),
        );
        r.register(
            "http_idle_closed",
            "HTTP connections closed after the idle timeout",
            m.http_idle_closed.clone(),
        );
        r.register(
            "exports_rendered",
            "HTTP exports rendered",
            m.exports_rendered.clone(),
        );
        r.register(
            "export_cache_hits",
            "HTTP exports served from the cache (tables unchanged)",
            m.export_cache_hits.clone(),
        );
        r.register(
            "exports_refused",
            "HTTP exports refused with 429 (every slot busy)",
            m.exports_refused.clone(),
        );
        r.register(
            "cluster_tables_owned",
            "Tables whose lease this node holds",
            m.cluster_tables_owned.clone(),
        );
        r.register(
            "cluster_forwarded",
            "Client connections relayed to the node that owns their table now",
            m.cluster_forwarded.clone(),
        );
        r.register(
            "cluster_forwards",
            "Client connections relayed to the node that owns their table",
            m.cluster_forwards.clone(),
        );
        r.register(
            "cluster_forward_failures",
            "Relays that could not reach the table's owner (closed with 1012)",
            m.cluster_forward_failures.clone(),
        );
        r.register(
            "cluster_http_forwards",
            "HTTP writes forwarded to the node that owns their room",
            m.http_forwards.clone(),
        );
        r.register(
            "cluster_http_forward_failures",
            "Forwarded HTTP writes the owner did not answer (503)",
            m.http_forward_failures.clone(),
        );
        r.register(
            "cluster_follow_reloads",
            "Copies of rooms other nodes own dropped to be read again from the store",
            m.cluster_follow_reloads.clone(),
        );
        r.register(
            "cluster_lease_changes",
            "Changes of this node's table leases: claimed, taken_over, lost, released",
            m.cluster_lease_changes.clone(),
        );
        r.register(
            "cluster_store_up",
            "1 while this node's heartbeat reaches the shared store",
            m.cluster_store_up.clone(),
        );
        Metrics { registry: r, ..m }
    }

    /// Counts a connection closed by the server with `code`.
    pub fn closed(&self, code: u16) {
        self.closes
            .get_or_create(&vec![("code".to_string(), code.to_string())])
            .inc();
    }

    /// Counts a presence entry dropped for `reason` (viewer, foreign, …).
    pub fn awareness_dropped(&self, reason: &str) {
        self.awareness_dropped
            .get_or_create(&vec![("reason".to_string(), reason.to_string())])
            .inc();
    }

    /// Counts one encode of document state of `kind` (see `document_encodes`).
    pub fn encodes(&self, kind: &str) {
        self.document_encodes
            .get_or_create(&vec![("kind".to_string(), kind.to_string())])
            .inc();
    }

    /// Counts a change of one of this node's leases.
    pub fn lease_changed(&self, change: &str) {
        self.cluster_lease_changes
            .get_or_create(&vec![("change".to_string(), change.to_string())])
            .inc();
    }

    /// Counts a compaction that ended as `outcome`.
    pub fn compacted(&self, outcome: &str) {
        self.compactions
            .get_or_create(&vec![("outcome".to_string(), outcome.to_string())])
            .inc();
    }

    /// The Prometheus text exposition of every metric.
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = encode(&mut out, &self.registry);
        out
    }
}
