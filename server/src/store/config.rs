//! Which store a server keeps its tables in ([`StoreConfig`], from
//! `--store`), and a handle to whichever it is ([`AnyStore`]).

use std::path::{Path, PathBuf};

use super::postgres::{PostgresStore, describe};
use super::{
    AppendRecord, Compaction, LogRead, RoomKey, SqliteStore, Store, StoreError, StoredDoc,
};

/// Where the tables, events, keys and secrets are stored.
#[derive(Clone)]
pub enum StoreConfig {
    /// The embedded SQLite database in `data_dir`: one process, nothing to
    /// install. The default.
    Sqlite { data_dir: PathBuf },
    /// A PostgreSQL database, which several nodes can share.
    Postgres(Box<postgres::Config>),
}

/// A `--store` value that names no store.
#[derive(Debug, thiserror::Error)]
pub enum StoreConfigError {
    #[error(
        "unknown store {0:?}: use `sqlite` (the database in --data-dir) or a URL postgres://user:password@host:port/database"
    )]
    Unknown(String),
    #[error("invalid PostgreSQL URL: {0}")]
    BadUrl(postgres::Error),
}

impl StoreConfig {
    /// Reads `spec` as `--store` takes it: `sqlite` (the database file in
    /// `data_dir`), or a `postgres://` or `postgresql://` URL with the
    /// parameters libpq takes (`connect_timeout`, `application_name`, …).
    pub fn parse(spec: &str, data_dir: &Path) -> Result<Self, StoreConfigError> {
        let spec = spec.trim();
        if spec.eq_ignore_ascii_case("sqlite") {
            return Ok(StoreConfig::Sqlite {
                data_dir: data_dir.to_path_buf(),
            });
        }
        if spec.starts_with("postgres://") || spec.starts_with("postgresql://") {
            let config = spec
                .parse::<postgres::Config>()
                .map_err(StoreConfigError::BadUrl)?;
            return Ok(StoreConfig::Postgres(Box::new(config)));
        }
        Err(StoreConfigError::Unknown(redact(spec)))
    }

    /// Opens the store (creating or migrating its schema). Blocking: call it
    /// off the async runtime.
    pub fn open(&self) -> Result<AnyStore, StoreError> {
        Ok(match self {
            StoreConfig::Sqlite { data_dir } => AnyStore::Sqlite(SqliteStore::open(data_dir)?),
            StoreConfig::Postgres(config) => {
                AnyStore::Postgres(Box::new(PostgresStore::open(config)?))
            }
        })
    }

    /// The data directory, for the SQLite store.
    pub fn data_dir(&self) -> Option<&Path> {
        match self {
            StoreConfig::Sqlite { data_dir } => Some(data_dir),
            StoreConfig::Postgres(_) => None,
        }
    }
}

/// Says where the store is, never a password: fit for logs.
impl std::fmt::Display for StoreConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StoreConfig::Sqlite { data_dir } => write!(f, "sqlite in {}", data_dir.display()),
            StoreConfig::Postgres(config) => write!(f, "postgres {}", describe(config)),
        }
    }
}

impl std::fmt::Debug for StoreConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self, f)
    }
}

/// What was typed, with anything that looks like a password (`:…@`) hidden.
fn redact(spec: &str) -> String {
    match (spec.find("://"), spec.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &spec[scheme + 3..at];
            match userinfo.find(':') {
                Some(colon) => format!(
                    "{}{}:***{}",
                    &spec[..scheme + 3],
                    &userinfo[..colon],
                    &spec[at..]
                ),
                None => spec.to_string(),
            }
        }
        _ => spec.to_string(),
    }
}

/// A handle to the store a [`StoreConfig`] names: what the server runs on.
pub enum AnyStore {
    Sqlite(SqliteStore),
    /// Boxed: a PostgreSQL client is several times a SQLite connection.
    Postgres(Box<PostgresStore>),
}

/// Forwards each call to the store inside.
macro_rules! forward {
    ($self:ident, $store:ident => $call:expr) => {
        match $self {
            AnyStore::Sqlite($store) => $call,
            AnyStore::Postgres($store) => $call,
        }
    };
}

impl AnyStore {
    /// This store for node `node` of a cluster holding the leases in
    /// `fence` (see [`PostgresStore::fenced`]); the SQLite store has no
    /// cluster and is returned as it is.
    pub fn fenced(self, node: String, fence: super::fence::Fence) -> Self {
        match self {
            AnyStore::Postgres(store) => AnyStore::Postgres(Box::new(store.fenced(node, fence))),
            sqlite => sqlite,
        }
    }
}

impl Store for AnyStore {
    fn reopen(&self) -> Result<Self, StoreError> {
        Ok(match self {
            AnyStore::Sqlite(store) => AnyStore::Sqlite(store.reopen()?),
            AnyStore::Postgres(store) => AnyStore::Postgres(Box::new(store.reopen()?)),
        })
    }

    fn load(&mut self, room: &RoomKey) -> Result<StoredDoc, StoreError> {
        forward!(self, s => s.load(room))
    }

    fn append(&mut self, batch: &[AppendRecord]) -> Result<(), StoreError> {
        forward!(self, s => s.append(batch))
    }

    fn log_len(&mut self, room: &RoomKey) -> Result<u64, StoreError> {
        forward!(self, s => s.log_len(room))
    }

    fn read_log(&mut self, room: &RoomKey) -> Result<Option<LogRead>, StoreError> {
        forward!(self, s => s.read_log(room))
    }

    fn write_compaction(
        &mut self,
        room: &RoomKey,
        read: &LogRead,
        merged: &[u8],
    ) -> Result<Compaction, StoreError> {
        forward!(self, s => s.write_compaction(room, read, merged))
    }

    fn compact(&mut self, room: &RoomKey) -> Result<Compaction, StoreError> {
        forward!(self, s => s.compact(room))
    }

    fn quarantine(&mut self, room: &RoomKey, reason: &str) -> Result<usize, StoreError> {
        forward!(self, s => s.quarantine(room, reason))
    }

    fn rooms(&mut self) -> Result<Vec<RoomKey>, StoreError> {
        forward!(self, s => s.rooms())
    }

    fn save_event(&mut self, slug: &str, definition: &str) -> Result<(), StoreError> {
        forward!(self, s => s.save_event(slug, definition))
    }

    fn load_event(&mut self, slug: &str) -> Result<Option<String>, StoreError> {
        forward!(self, s => s.load_event(slug))
    }

    fn events(&mut self) -> Result<Vec<String>, StoreError> {
        forward!(self, s => s.events())
    }

    fn secret(&mut self, name: &str, fresh: &str) -> Result<String, StoreError> {
        forward!(self, s => s.secret(name, fresh))
    }

    fn set_secrets(&mut self, secrets: &[(String, String)]) -> Result<(), StoreError> {
        forward!(self, s => s.set_secrets(secrets))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_specs_parse_into_their_kind() {
        let dir = Path::new("/data");
        let sqlite = StoreConfig::parse("sqlite", dir).unwrap();
        assert_eq!(sqlite.data_dir(), Some(dir));
        assert_eq!(sqlite.to_string(), "sqlite in /data");

        let url = "postgres://wt:geheim@db.example:6543/werktafel";
        let pg = StoreConfig::parse(url, dir).unwrap();
        assert!(pg.data_dir().is_none());
        assert_eq!(pg.to_string(), "postgres wt@db.example:6543/werktafel");
        assert!(!format!("{pg:?}").contains("geheim"), "no password in logs");
        assert!(StoreConfig::parse("postgresql://localhost/wt", dir).is_ok());
    }

    #[test]
    fn a_bad_store_spec_is_refused_with_what_to_write() {
        let dir = Path::new("/data");
        let unknown = StoreConfig::parse("mysql://root:geheim@db/wt", dir).unwrap_err();
        let message = unknown.to_string();
        assert!(message.contains("postgres://"), "{message}");
        assert!(!message.contains("geheim"), "no password echoed: {message}");

        let bad = StoreConfig::parse("postgres://db:notaport/wt", dir).unwrap_err();
        assert!(matches!(bad, StoreConfigError::BadUrl(_)), "{bad}");
    }
}
