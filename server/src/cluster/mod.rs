//! Several nodes serving one event (`docs/scale-out.md`): one owner per
//! table, and relays to it from every other node.
//!
//! - [`Directory`]: where a table is served. [`Directory::Solo`] is one
//!   node on its own store (the default): always here, at no cost.
//!   [`Directory::Leased`] keeps the leases in PostgreSQL ([`lease`]), with
//!   the decisions themselves pure ([`decide`]).
//! - [`relay`]: a client connection to a node that does not own its table,
//!   relayed frame by frame to the owner's `/internal/sync/...`.
//! - [`follow`]: reads of rooms another node owns, from copies loaded from
//!   PostgreSQL again when their log position moved.
//! - [`forward`]: an HTTP write for a room another node owns, forwarded to
//!   the owner's `/internal/http/...` once.

pub mod args;
pub mod claim;
pub mod decide;
pub mod follow;
pub mod forward;
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

    /// Whether this node serves `room` now without asking anyone: always
    /// alone; in a cluster while it holds the room's lease. Never claims.
    pub fn holds(&self, room: &RoomKey) -> bool {
        match self {
            Directory::Solo => true,
            Directory::Leased(leases) => leases.holds(room),
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

/// A node id for a node not given one: the one kept in `node-id` in its
/// data directory, made on first start (the host's name and a random
/// suffix). So a node restarted on its data directory (after a crash, too)
/// is the same node and serves its tables again at once, instead of after
/// its old lease ran out. The file stays locked while the node runs: a
/// second process on the same data directory would be the same node twice,
/// and is refused.
pub fn node_id_in(data_dir: &std::path::Path) -> Result<(String, std::fs::File), NodeIdError> {
    use std::io::{Read, Seek, Write};
    let path = data_dir.join("node-id");
    let io = |source| NodeIdError::Io {
        path: path.display().to_string(),
        source,
    };
    let mut dir = std::fs::DirBuilder::new();
    dir.recursive(true);
    // As the SQLite store makes it: private to this user.
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut dir, 0o700);
    dir.create(data_dir).map_err(io)?;
    let mut options = std::fs::OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(&path).map_err(io)?;
    file.try_lock().map_err(|_| NodeIdError::InUse {
        path: path.display().to_string(),
    })?;
    let mut id = String::new();
    file.read_to_string(&mut id).map_err(io)?;
    let id = id.trim().to_owned();
    if !id.is_empty() {
        return Ok((id, file));
    }
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| {
            h.trim()
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
                .take(40)
                .collect::<String>()
        })
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "node".to_owned());
    let id = format!("{host}-{:08x}", rand::random::<u32>());
    file.rewind().map_err(io)?;
    file.write_all(format!("{id}\n").as_bytes()).map_err(io)?;
    file.sync_all().map_err(io)?;
    Ok((id, file))
}

/// Why this node's id could not be read or made.
#[derive(Debug, thiserror::Error)]
pub enum NodeIdError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error(
        "another werktafel runs on this data directory ({path} is locked): give each node its own --data-dir, or its own --node-id"
    )]
    InUse { path: String },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_node_keeps_its_id_across_restarts_and_runs_once_per_data_directory() {
        let dir = tempfile::tempdir().unwrap();
        let (id, running) = node_id_in(dir.path()).unwrap();
        assert!(!id.is_empty());
        assert!(matches!(
            node_id_in(dir.path()),
            Err(NodeIdError::InUse { .. })
        ));
        drop(running);
        let (again, _running) = node_id_in(dir.path()).unwrap();
        assert_eq!(again, id, "a restarted node is the same node");
        let other = tempfile::tempdir().unwrap();
        let (elsewhere, _) = node_id_in(other.path()).unwrap();
        assert_ne!(elsewhere, id);
    }
}
