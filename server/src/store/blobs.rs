//! [`Blobs`]: where uploaded files (market materials) and the uploaded
//! poster image are kept. On SQLite they are files in `--data-dir` (as
//! ever: `files/{id}` and `poster.img`, 0600); on PostgreSQL they are rows
//! of `blobs`, so that every node of a cluster serves what any node took in
//! (`docs/scale-out.md`). On PostgreSQL the per-person quota and the
//! event's total are checked in the insert's own transaction, under a lock
//! every node takes, so two nodes cannot both squeeze under a limit.
//!
//! Every call blocks (disk or database): call it from `spawn_blocking`.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use super::StoreError;
use super::config::StoreConfig;

/// The blob name of the uploaded poster image.
pub const POSTER: &str = "poster.img";

/// Serialises uploads' quota checks across the nodes of a cluster
/// (`pg_advisory_xact_lock`); any constant no other lock uses.
const UPLOAD_LOCK: i64 = 0x7765_726b_6669_6c65;

/// Where blobs are kept; see the module docs.
pub enum Blobs {
    DataDir(PathBuf),
    Postgres {
        config: Box<postgres::Config>,
        /// One connection, made on first use and replaced when it closed.
        client: Box<Mutex<Option<postgres::Client>>>,
    },
}

/// One stored file and what was recorded with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blob {
    pub data: Vec<u8>,
    /// Its checked type (`FileKind`/`ImageKind` as named by the caller).
    pub kind: String,
    /// The name it is downloaded under.
    pub file_name: String,
}

/// Who uploads a blob and the limits it must stay under.
#[derive(Debug, Clone)]
pub struct Quota<'a> {
    pub by: &'a str,
    pub per_person: u64,
    pub total: u64,
    /// Blob names counted towards the total (`files/` for stand files).
    pub prefix: &'a str,
}

/// What [`Blobs::put_within`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Put {
    Stored,
    /// A blob of that name (the same content) was stored before.
    Existed,
    OverPerson,
    OverTotal,
}

impl Blobs {
    /// The blobs of the store `config` names (`data_dir` for SQLite).
    pub fn of(config: &StoreConfig, data_dir: &Path) -> Blobs {
        match config {
            StoreConfig::Sqlite { .. } => Blobs::DataDir(data_dir.to_path_buf()),
            StoreConfig::Postgres(config) => Blobs::Postgres {
                config: config.clone(),
                client: Box::new(Mutex::new(None)),
            },
        }
    }

    /// Whether blobs are shared by every node (PostgreSQL): then the
    /// database, not this node's files, decides quotas and what exists.
    pub fn is_shared(&self) -> bool {
        matches!(self, Blobs::Postgres { .. })
    }

    /// Stores `blob` under `name`, replacing what was there.
    pub fn put(&self, name: &str, blob: &Blob, by: &str) -> Result<(), StoreError> {
        match self {
            Blobs::DataDir(dir) => write_file(&dir.join(name), &blob.data).map_err(|source| {
                StoreError::DataDir {
                    path: dir.join(name).display().to_string(),
                    source,
                }
            }),
            Blobs::Postgres { .. } => self.with_client(|client| {
                client.execute(
                    "INSERT INTO blobs (name, data, kind, file_name, by_id) VALUES ($1, $2, $3, $4, $5)
                     ON CONFLICT (name) DO UPDATE SET data = excluded.data, kind = excluded.kind,
                         file_name = excluded.file_name, by_id = excluded.by_id,
                         stored_at = clock_timestamp()",
                    &[&name, &blob.data, &blob.kind, &blob.file_name, &by],
                )?;
                Ok(())
            }),
        }
    }

    /// Stores `blob` under `name` unless it exists, if `quota` allows
    /// (PostgreSQL only: on SQLite the files ledger keeps the quota).
    pub fn put_within(&self, name: &str, blob: &Blob, quota: &Quota) -> Result<Put, StoreError> {
        if let Blobs::DataDir(_) = self {
            self.put(name, blob, quota.by)?;
            return Ok(Put::Stored);
        }
        self.with_client(|client| {
            let mut tx = client.transaction()?;
            tx.execute("SELECT pg_advisory_xact_lock($1)", &[&UPLOAD_LOCK])?;
            if tx
                .query_opt("SELECT 1 FROM blobs WHERE name = $1", &[&name])?
                .is_some()
            {
                return Ok(Put::Existed);
            }
            let sums = tx.query_one(
                "SELECT COALESCE(SUM(octet_length(data)) FILTER (WHERE by_id = $2), 0)::BIGINT,
                        COALESCE(SUM(octet_length(data)), 0)::BIGINT
                 FROM blobs WHERE starts_with(name, $1)",
                &[&quota.prefix, &quota.by],
            )?;
            let (mine, all): (i64, i64) = (sums.get(0), sums.get(1));
            let size = blob.data.len() as u64;
            if mine as u64 + size > quota.per_person {
                return Ok(Put::OverPerson);
            }
            if all as u64 + size > quota.total {
                return Ok(Put::OverTotal);
            }
            tx.execute(
                "INSERT INTO blobs (name, data, kind, file_name, by_id) VALUES ($1, $2, $3, $4, $5)",
                &[&name, &blob.data, &blob.kind, &blob.file_name, &quota.by],
            )?;
            tx.commit()?;
            Ok(Put::Stored)
        })
    }

    /// The blob `name`, if stored. On SQLite only the bytes are kept (the
    /// files ledger has the rest): `kind` and `file_name` are empty.
    pub fn get(&self, name: &str) -> Result<Option<Blob>, StoreError> {
        match self {
            Blobs::DataDir(dir) => match std::fs::read(dir.join(name)) {
                Ok(data) => Ok(Some(Blob {
                    data,
                    kind: String::new(),
                    file_name: String::new(),
                })),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(source) => Err(StoreError::DataDir {
                    path: dir.join(name).display().to_string(),
                    source,
                }),
            },
            Blobs::Postgres { .. } => self.with_client(|client| {
                Ok(client
                    .query_opt(
                        "SELECT data, kind, file_name FROM blobs WHERE name = $1",
                        &[&name],
                    )?
                    .map(|row| Blob {
                        data: row.get(0),
                        kind: row.get(1),
                        file_name: row.get(2),
                    }))
            }),
        }
    }

    /// Runs `f` on the connection, connecting first if there is none or it
    /// closed (a database restart costs the one call that met it).
    fn with_client<T>(
        &self,
        f: impl FnOnce(&mut postgres::Client) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let Blobs::Postgres { config, client } = self else {
            unreachable!("only called on PostgreSQL");
        };
        // Held across the statement: blob reads and writes of one node take
        // turns on one connection, which is plenty for uploads and posters.
        let mut guard = client.lock().unwrap_or_else(|e| e.into_inner());
        if guard.as_ref().is_none_or(postgres::Client::is_closed) {
            // Opening the store migrates the schema (`blobs` included).
            drop(super::postgres::PostgresStore::open(config)?);
            let fresh = config
                .connect(postgres::NoTls)
                .map_err(|source| StoreError::Connect {
                    target: super::postgres::describe(config),
                    source,
                })?;
            *guard = Some(fresh);
        }
        let connection = guard.as_mut().expect("connected above");
        f(connection)
    }
}

/// Writes `bytes` to `path` (0600, in a 0700 directory) through a temporary
/// name, so a crash never leaves half a file under the name.
fn write_file(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let dir = path.parent().unwrap_or(Path::new("."));
    super::private_dir(dir)?;
    let tmp = dir.join(format!(".upload-{}", crate::access::random_token(9)));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let written = options.open(&tmp).and_then(|mut file| {
        file.write_all(bytes)?;
        file.sync_all()
    });
    match written.and_then(|()| std::fs::rename(&tmp, path)) {
        Ok(()) => Ok(()),
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(e)
        }
    }
}
