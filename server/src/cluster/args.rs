//! The cluster's command-line options ([`ClusterArgs`], flattened into
//! `werktafel serve`) and how they become a [`Cluster`]: on a PostgreSQL
//! store a node always runs as part of a cluster (alone or not); on SQLite
//! none of this exists, and asking for it is an error.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::config::{Cluster, ClusterSecret};
use crate::store::StoreConfig;

/// How long a node counts as alive after its last heartbeat, by default.
pub const LEASE_TTL: Duration = Duration::from_secs(5);
/// How often a node renews its heartbeat, by default.
pub const HEARTBEAT_INTERVAL: Duration = Duration::from_secs(1);

#[derive(Debug, Clone, clap::Args)]
pub struct ClusterArgs {
    /// This node's name in the cluster (with --store postgres://…); default:
    /// the one kept in `node-id` in --data-dir (the host name and a random
    /// suffix, made on first start), so a restarted node is the same node.
    #[arg(long, env = "WERKTAFEL_NODE_ID")]
    pub node_id: Option<String>,
    /// host:port at which the other nodes reach this one (plain TCP, on the
    /// private network); default: the address it listens on.
    #[arg(long, env = "WERKTAFEL_ADVERTISE")]
    pub advertise: Option<String>,
    /// The secret every node of the cluster shares (at least 16 characters);
    /// needed as soon as there is more than one node.
    #[arg(long, env = "WERKTAFEL_CLUSTER_SECRET", hide_env_values = true)]
    pub cluster_secret: Option<String>,
    /// A file holding the cluster secret, instead of --cluster-secret.
    #[arg(long, env = "WERKTAFEL_CLUSTER_SECRET_FILE")]
    pub cluster_secret_file: Option<PathBuf>,
    /// Milliseconds after its last heartbeat before a node's tables may be
    /// taken over.
    #[arg(long, env = "WERKTAFEL_LEASE_TTL_MS", default_value_t = LEASE_TTL.as_millis() as u64)]
    pub lease_ttl_ms: u64,
    /// Milliseconds between heartbeats (at most a third of the lease TTL).
    #[arg(long, env = "WERKTAFEL_HEARTBEAT_MS", default_value_t = HEARTBEAT_INTERVAL.as_millis() as u64)]
    pub heartbeat_ms: u64,
}

/// Cluster options that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ClusterArgsError {
    #[error(
        "--node-id, --advertise and the cluster secret need a shared store: --store postgres://…"
    )]
    NeedsPostgres,
    #[error("give the cluster secret once: --cluster-secret or --cluster-secret-file, not both")]
    TwoSecrets,
    #[error("reading the cluster secret from {path}: {source}")]
    SecretFile {
        path: String,
        source: std::io::Error,
    },
    #[error("{0}")]
    WeakSecret(String),
    #[error(
        "this node listens on {0}, which other nodes cannot dial: say with --advertise where they reach it"
    )]
    Unadvertisable(SocketAddr),
    #[error(
        "--heartbeat-ms must be at most a third of --lease-ttl-ms, so a live node never looks dead"
    )]
    Heartbeat,
    #[error("a node id is 1 to 64 letters, digits, '-', '_' or '.'")]
    NodeId,
    #[error(transparent)]
    NodeIdFile(#[from] super::NodeIdError),
}

impl ClusterArgs {
    /// This node's [`Cluster`] on `store` (`spec` as `--store` said it;
    /// listening on `local`), or `None` on SQLite.
    pub fn build(
        &self,
        store: &StoreConfig,
        spec: &str,
        data_dir: &std::path::Path,
        local: SocketAddr,
    ) -> Result<Option<Cluster>, ClusterArgsError> {
        let database = match store {
            // The store parsed it already, for its own client.
            StoreConfig::Postgres(_) => spec
                .trim()
                .parse::<tokio_postgres::Config>()
                .map_err(|_| ClusterArgsError::NeedsPostgres)?,
            StoreConfig::Sqlite { .. } => {
                let asked = self.node_id.is_some()
                    || self.advertise.is_some()
                    || self.cluster_secret.is_some()
                    || self.cluster_secret_file.is_some();
                return if asked {
                    Err(ClusterArgsError::NeedsPostgres)
                } else {
                    Ok(None)
                };
            }
        };
        let secret = match (&self.cluster_secret, &self.cluster_secret_file) {
            (Some(_), Some(_)) => return Err(ClusterArgsError::TwoSecrets),
            (Some(text), None) => Some(text.clone()),
            (None, Some(path)) => Some(std::fs::read_to_string(path).map_err(|source| {
                ClusterArgsError::SecretFile {
                    path: path.display().to_string(),
                    source,
                }
            })?),
            (None, None) => None,
        }
        .map(|text| ClusterSecret::new(&text).map_err(ClusterArgsError::WeakSecret))
        .transpose()?;
        let advertise = match &self.advertise {
            Some(addr) => addr.clone(),
            None if local.ip().is_unspecified() => {
                return Err(ClusterArgsError::Unadvertisable(local));
            }
            None => local.to_string(),
        };
        let (node_id, node_id_lock) = match &self.node_id {
            Some(id) => (id.clone(), None),
            None => {
                let (id, lock) = super::node_id_in(data_dir)?;
                (id, Some(std::sync::Arc::new(lock)))
            }
        };
        let valid_id = (1..=64).contains(&node_id.len())
            && node_id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
        if !valid_id {
            return Err(ClusterArgsError::NodeId);
        }
        let lease_ttl = Duration::from_millis(self.lease_ttl_ms);
        let heartbeat_interval = Duration::from_millis(self.heartbeat_ms.max(1));
        if heartbeat_interval * 3 > lease_ttl {
            return Err(ClusterArgsError::Heartbeat);
        }
        Ok(Some(Cluster {
            node_id,
            advertise,
            secret,
            database,
            lease_ttl,
            heartbeat_interval,
            node_id_lock,
        }))
    }
}
