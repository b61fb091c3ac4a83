//! Several nodes serving one event (`docs/scale-out.md`): one owner per
//! table, and relays to it from every other node.
//!
//! - [`Directory`]: where a table is served. [`Directory::Solo`] is one
//!   node on its own store (the default): always here, at no cost.
//!   [`Directory::Leased`] keeps the leases in PostgreSQL ([`lease`]), with
//!   the decisions themselves pure ([`decide`]).
//! - [`relay`]: a client connection to a node that does not own its table,
//!   relayed frame by frame to the owner's `/internal/sync/...`.

pub mod args;
pub mod decide;
pub mod lease;
pub mod relay;

use std::sync::Arc;

use crate::store::RoomKey;

pub use lease::Leases;

/// Header carrying the cluster secret on an internal connection.
pub const SECRET_HEADER: &str = "x-werktafel-cluster-secret";
/// Header carrying the role the relaying node admitted the client with.
pub const ROLE_HEADER: &str = "x-werktafel-role";

/// Where tables are served.
#[derive(Clone)]
pub enum Directory {
    /// One node: every table is served here.
    Solo,
    /// A cluster: leases in the shared PostgreSQL database.
    Leased(Arc<Leases>),
}

/// Where one table is served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Owner {
    /// By this node: serve it from the local room.
    Here,
    /// By another node: relay to it.
    There(Remote),
}

/// The node that owns a table, as the lease names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Remote {
    pub node: String,
    /// `host:port` of its internal endpoint.
    pub addr: String,
    pub epoch: i64,
}

/// Why the directory cannot say where a table is served.
#[derive(Debug, thiserror::Error)]
pub enum DirectoryError {
    #[error("the cluster's store cannot be reached: {0}")]
    Store(#[from] tokio_postgres::Error),
    #[error("the lease of {0} changed hands while it was claimed; try again")]
    Contended(String),
}

impl Directory {
    /// Where `room` is served; a cluster node claims the lease of a table
    /// that nobody live holds.
    pub async fn owner(&self, room: &RoomKey) -> Result<Owner, DirectoryError> {
        match self {
            Directory::Solo => Ok(Owner::Here),
            Directory::Leased(leases) => leases.owner(room).await,
        }
    }

    /// Whether the node can serve: one on its own store always can; a
    /// cluster node while its heartbeat reaches the store.
    pub fn is_ready(&self) -> bool {
        match self {
            Directory::Solo => true,
            Directory::Leased(leases) => leases.is_up(),
        }
    }

    /// Releases every lease (after the last append) and closes the
    /// connection; nothing for one node alone.
    pub async fn close(&self) {
        if let Directory::Leased(leases) = self {
            leases.close().await;
        }
    }
}

/// A node id for a node not given one: the host's name and a random
/// suffix, so two processes on one host never share an id (a restarted
/// node is a new node; the tables of the old one move after its lease).
pub fn default_node_id() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "node".to_owned());
    format!("{host}-{:08x}", rand::random::<u32>())
}
