//! [`Leases`]: the directory of a cluster on PostgreSQL. Each node
//! registers in `nodes` and renews its heartbeat every
//! [`Cluster::heartbeat_interval`]; each table's row in `tables` (the
//! store's, `store/postgres.rs`) holds its `owner` and `epoch`. A node that
//! is asked for a table nobody live holds claims it with one statement that
//! is a compare-and-set on the epoch, so of two nodes racing exactly one
//! wins. Liveness is judged by PostgreSQL's `now()`, never a node's clock.
//!
//! Each heartbeat also reads back the leases PostgreSQL says this node holds:
//! one it believed it held and no longer does was taken over (this node was
//! paused or cut off past the TTL), so its table's clients are closed with
//! 1012 and its room dropped. A node whose heartbeat has not reached the
//! store for a whole TTL gives up every lease the same way: others may take
//! them by now. The store's append checks the epoch too ([`Fence`]), so
//! even a write already on its way cannot commit after a takeover.
//!
//! Each heartbeat also reads the event's participant key as stored
//! ([`ParticipantKey`]): a key renewed on one node reaches every other node
//! within a heartbeat, which then refuses the old key and closes what it
//! opened, as the renewing node does.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio_postgres::{Client, NoTls};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use tokio::sync::watch;

use crate::access::EventKeys;
use crate::config::Cluster;
use crate::metrics::METRICS;
use crate::store::fence::{Fence, lease_key};
use crate::store::persist::DurableSink;
use crate::store::{RoomKey, StoreError};
use crate::table::rooms::Rooms;

use super::claim::{Resolved, resolve};
use super::decide::lost;
use super::{DirectoryError, Owner};

/// How long connecting to PostgreSQL may take before a heartbeat counts as
/// failed.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

const HEARTBEAT: &str = "INSERT INTO nodes (id, address, heartbeat_at) VALUES ($1, $2, now())
    ON CONFLICT (id) DO UPDATE SET address = excluded.address, heartbeat_at = now()";

const POSITIONS: &str = "SELECT table_id, next_seq FROM tables WHERE event = $1";

const HELD: &str = "SELECT event, table_id, epoch FROM tables WHERE owner = $1";

const SECRETS: &str = "SELECT name, value FROM secrets WHERE name = ANY($1)";

const POSTER_STORED: &str = "SELECT stored_at::TEXT FROM blobs WHERE name = $1";

/// What one node may change and every node must follow, as the last
/// heartbeat read it from PostgreSQL.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Shared {
    pub participant_key: Option<ParticipantKey>,
    /// When the uploaded poster image was stored (`store/blobs.rs`).
    pub poster_stored_at: Option<String>,
}

/// The event's participant key and its generation, as PostgreSQL holds
/// them (`EventKeys::join_secrets`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParticipantKey {
    pub join: String,
    pub generation: u64,
}

/// The cluster's directory on PostgreSQL; see the module docs.
pub struct Leases {
    cluster: Cluster,
    fence: Fence,
    rooms: Rooms,
    /// The current connection; replaced after it fails.
    client: Mutex<Option<Arc<Client>>>,
    /// The tasks that drive connections: waited for in [`Leases::close`],
    /// after the last statement.
    drivers: TaskTracker,
    /// Whether the last heartbeat reached PostgreSQL within the TTL.
    up: AtomicBool,
    /// The positions query, prepared once per connection (it runs before
    /// every HTTP read: one round trip instead of two).
    positions: Mutex<Option<(std::sync::Weak<Client>, tokio_postgres::Statement)>>,
    /// The names of the participant key's secrets, and the key as the last
    /// heartbeat read it.
    key_names: Vec<String>,
    shared: watch::Sender<Shared>,
}

impl Leases {
    /// A directory for `cluster`, recording its leases in `fence` (which the
    /// store checks), dropping rooms of `rooms` it loses and following the
    /// participant key of event `slug`. Registers this node and starts its
    /// heartbeat as a task of `tasks`, until `shutdown`.
    pub async fn start(
        cluster: Cluster,
        fence: Fence,
        rooms: Rooms,
        slug: &str,
        tasks: &TaskTracker,
        shutdown: CancellationToken,
    ) -> Arc<Self> {
        let leases = Arc::new(Self {
            cluster,
            fence,
            rooms,
            client: Mutex::new(None),
            drivers: TaskTracker::new(),
            up: AtomicBool::new(false),
            positions: Mutex::new(None),
            key_names: EventKeys::join_secret_names(slug).to_vec(),
            shared: watch::channel(Shared::default()).0,
        });
        // The first heartbeat before any client is served, so the node is
        // known (and ready) as soon as it can be.
        let mut last_ok = leases.beat().await.ok().map(|()| Instant::now());
        let beating = leases.clone();
        tasks.spawn(async move {
            let mut tick = tokio::time::interval(beating.cluster.heartbeat_interval);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    () = shutdown.cancelled() => return,
                    _ = tick.tick() => {}
                }
                match beating.beat().await {
                    Ok(()) => last_ok = Some(Instant::now()),
                    Err(error) => {
                        tracing::warn!(%error, "cluster heartbeat failed");
                        let expired =
                            last_ok.is_none_or(|at| at.elapsed() >= beating.cluster.lease_ttl);
                        if expired && !beating.fence.is_empty() {
                            tracing::error!(
                                "no heartbeat for a whole lease; giving up every table"
                            );
                            for (table, epoch) in beating.fence.held() {
                                beating.lose(&table, epoch);
                            }
                        }
                        beating.set_up(!expired);
                    }
                }
            }
        });
        leases
    }

    /// What every node follows, as the heartbeat last read it from
    /// PostgreSQL; changes when a node renewed the participant key or
    /// stored a new poster.
    pub fn shared(&self) -> watch::Receiver<Shared> {
        self.shared.subscribe()
    }

    /// Whether this node's heartbeat reaches the store (for `/healthz`).
    pub fn is_up(&self) -> bool {
        self.up.load(Ordering::Relaxed)
    }

    /// Where `room` is served, claiming its table's lease if nobody live
    /// holds it.
    pub async fn owner(&self, room: &RoomKey) -> Result<Owner, DirectoryError> {
        let table = lease_key(room);
        let me = self.cluster.node_id.as_str();
        let client = self.client().await?;
        match resolve(&client, me, &table, self.cluster.lease_ttl).await {
            Ok(Resolved::Mine { epoch, how }) => {
                self.held(&table, epoch, how);
                Ok(Owner::Here)
            }
            Ok(Resolved::Theirs(remote)) => Ok(Owner::There(remote)),
            Err(DirectoryError::Store(error)) => Err(self.failed(error)),
            Err(error) => Err(error),
        }
    }

    /// Whether this node holds the lease covering `room` now.
    pub fn holds(&self, room: &RoomKey) -> bool {
        self.fence.epoch(room).is_some()
    }

    /// Every stored room of `event` with its log position (`next_seq`, which
    /// grows with every durable append and never goes back): one indexed
    /// read, what a follower compares to know which copies went stale.
    pub async fn positions(
        &self,
        event: &str,
    ) -> Result<std::collections::HashMap<String, i64>, DirectoryError> {
        let client = self.client().await?;
        let prepared = self
            .positions
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            .filter(|(on, _)| std::ptr::eq(on.as_ptr(), Arc::as_ptr(&client)))
            .map(|(_, statement)| statement.clone());
        let statement = match prepared {
            Some(statement) => statement,
            None => {
                let statement = client
                    .prepare(POSITIONS)
                    .await
                    .map_err(|e| self.failed(e))?;
                *self.positions.lock().unwrap_or_else(|e| e.into_inner()) =
                    Some((Arc::downgrade(&client), statement.clone()));
                statement
            }
        };
        let rows = client
            .query(&statement, &[&event])
            .await
            .map_err(|e| self.failed(e))?;
        Ok(rows
            .iter()
            .map(|row| (row.get::<_, String>(0), row.get::<_, i64>(1)))
            .collect())
    }

    /// Gives up every lease and leaves the registry: on shutdown, after the
    /// last append, so another node takes the tables at once instead of
    /// after the TTL. Then closes the connection.
    pub async fn close(&self) {
        let me = self.cluster.node_id.as_str();
        if let Ok(client) = self.client().await {
            let released = client
                .execute("UPDATE tables SET owner = NULL WHERE owner = $1", &[&me])
                .await;
            let _ = client
                .execute("DELETE FROM nodes WHERE id = $1", &[&me])
                .await;
            match released {
                Ok(n) => {
                    tracing::info!(tables = n, "released the table leases");
                    for _ in 0..n {
                        METRICS.lease_changed("released");
                    }
                }
                Err(error) => tracing::warn!(%error, "could not release the leases"),
            }
        }
        for (table, epoch) in self.fence.held() {
            self.fence.release(&table, epoch);
        }
        METRICS.cluster_tables_owned.set(0);
        self.lock_client().take();
        self.drivers.close();
        self.drivers.wait().await;
    }

    /// Records that this node holds `table` at `epoch`. A table held before
    /// at another epoch (or not at all) may have a stale room in memory,
    /// from before another node served it: that room is dropped first.
    fn held(&self, table: &RoomKey, epoch: i64, how: &'static str) {
        let before = self.fence.hold(table.clone(), epoch);
        if before == Some(epoch) {
            return;
        }
        METRICS.lease_changed(how);
        METRICS.cluster_tables_owned.set(self.fence.len() as i64);
        self.drop_rooms(table);
    }

    /// This node lost `table` (held at `epoch`): its clients are closed
    /// with 1012 and its rooms dropped, so nothing here serves it any more.
    fn lose(&self, table: &RoomKey, epoch: i64) {
        if self.fence.release(table, epoch) {
            tracing::warn!(table = %table, epoch, "lost the table's lease to another node");
            METRICS.lease_changed("lost");
            METRICS.cluster_tables_owned.set(self.fence.len() as i64);
            self.drop_rooms(table);
        }
    }

    /// Drops every loaded room under `table`'s lease (the table and the
    /// rooms beside it), closing their clients with 1012.
    fn drop_rooms(&self, table: &RoomKey) {
        let moved = StoreError::NotOwner {
            room: table.clone(),
        };
        for room in self.rooms.loaded() {
            if lease_key(room.key()) == *table {
                room.failed(&moved);
            }
        }
    }

    /// Renews this node's heartbeat, then drops the leases PostgreSQL says
    /// it no longer holds.
    async fn beat(&self) -> Result<(), DirectoryError> {
        let me = self.cluster.node_id.as_str();
        // Read before the statement: a lease claimed while it runs is
        // not in `believed`, so it cannot look lost.
        let believed = self.fence.held();
        let client = self.client().await?;
        client
            .execute(HEARTBEAT, &[&me, &self.cluster.advertise])
            .await
            .map_err(|e| self.failed(e))?;
        let stored: Vec<(RoomKey, i64)> = client
            .query(HELD, &[&me])
            .await
            .map_err(|e| self.failed(e))?
            .iter()
            .map(|row| {
                let event: &str = row.get(0);
                let table: &str = row.get(1);
                (RoomKey::new(event, table), row.get(2))
            })
            .collect();
        let secrets = client
            .query(SECRETS, &[&self.key_names])
            .await
            .map_err(|e| self.failed(e))?;
        self.set_up(true);
        let value = |i: usize| {
            secrets
                .iter()
                .find(|row| row.get::<_, &str>(0) == self.key_names[i])
                .map(|row| row.get::<_, String>(1))
        };
        let participant_key = value(0).map(|join| ParticipantKey {
            join,
            generation: value(1).and_then(|g| g.parse().ok()).unwrap_or(0),
        });
        let poster_stored_at = client
            .query_opt(POSTER_STORED, &[&crate::store::blobs::POSTER])
            .await
            .map_err(|e| self.failed(e))?
            .map(|row| row.get(0));
        let shared = Shared {
            participant_key,
            poster_stored_at,
        };
        self.shared.send_if_modified(|now| {
            let changed = *now != shared;
            *now = shared;
            changed
        });
        let gone: Vec<RoomKey> = lost(believed.iter().map(|(k, e)| (k, *e)), &stored)
            .into_iter()
            .cloned()
            .collect();
        for table in gone {
            if let Some((_, epoch)) = believed.iter().find(|(k, _)| *k == table) {
                self.lose(&table, *epoch);
            }
        }
        Ok(())
    }

    fn set_up(&self, up: bool) {
        self.up.store(up, Ordering::Relaxed);
        METRICS.cluster_store_up.set(i64::from(up));
    }

    /// The connection, connecting if there is none. The store created the
    /// schema (`nodes` and `tables`, `store/postgres.rs`) before.
    async fn client(&self) -> Result<Arc<Client>, DirectoryError> {
        if let Some(client) = self.lock_client().as_ref().filter(|c| !c.is_closed()) {
            return Ok(client.clone());
        }
        let mut config = self.cluster.database.clone();
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        let (client, connection) = config.connect(NoTls).await?;
        self.drivers.spawn(async move {
            if let Err(error) = connection.await {
                tracing::warn!(%error, "the cluster's PostgreSQL connection ended");
            }
        });
        let client = Arc::new(client);
        *self.lock_client() = Some(client.clone());
        Ok(client)
    }

    /// Forgets a connection that failed, so the next call connects anew.
    fn failed(&self, error: tokio_postgres::Error) -> DirectoryError {
        let mut current = self.lock_client();
        if current.as_ref().is_some_and(|c| c.is_closed()) {
            current.take();
        }
        error.into()
    }

    fn lock_client(&self) -> std::sync::MutexGuard<'_, Option<Arc<Client>>> {
        self.client.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests;
