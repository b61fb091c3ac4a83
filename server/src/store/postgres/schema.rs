//! The schema of the PostgreSQL store and its migrations: one step per
//! version, applied under an advisory lock so that nodes starting at once
//! migrate one after the other.

use postgres::Client;

use crate::store::StoreError;

/// Key of the advisory lock held while the schema is migrated, so that
/// nodes starting at once migrate one after the other ("WerkTafl").
const MIGRATION_LOCK: i64 = 0x5765_726b_5461_666c;

/// The schema, one step per version: a database at version `n` has had the
/// first `n` applied (`werktafel_schema.version`). Steps are only ever
/// appended; a released step is never edited.
pub(super) const MIGRATIONS: &[&str] = &[
    // 1: rooms with their sequence counter and lease, the log, snapshots,
    //    event definitions, secrets and quarantined entries.
    "CREATE TABLE tables (
         event TEXT NOT NULL,
         table_id TEXT NOT NULL,
         next_seq BIGINT NOT NULL,
         owner TEXT,
         epoch BIGINT NOT NULL DEFAULT 0,
         PRIMARY KEY (event, table_id)
     );
     CREATE TABLE updates (
         event TEXT NOT NULL,
         table_id TEXT NOT NULL,
         seq BIGINT NOT NULL,
         data BYTEA NOT NULL,
         PRIMARY KEY (event, table_id, seq),
         FOREIGN KEY (event, table_id) REFERENCES tables (event, table_id)
     );
     CREATE TABLE snapshots (
         event TEXT NOT NULL,
         table_id TEXT NOT NULL,
         data BYTEA NOT NULL,
         PRIMARY KEY (event, table_id)
     );
     CREATE TABLE events (
         slug TEXT PRIMARY KEY,
         definition TEXT NOT NULL
     );
     CREATE TABLE secrets (
         name TEXT PRIMARY KEY,
         value TEXT NOT NULL
     );
     CREATE TABLE quarantine (
         id BIGSERIAL PRIMARY KEY,
         event TEXT NOT NULL,
         table_id TEXT NOT NULL,
         kind TEXT NOT NULL,
         data BYTEA NOT NULL,
         reason TEXT NOT NULL,
         at TIMESTAMPTZ NOT NULL DEFAULT now()
     );",
    // 2: the nodes of a cluster and when each last said it is alive.
    "CREATE TABLE nodes (
         id TEXT PRIMARY KEY,
         address TEXT NOT NULL,
         heartbeat_at TIMESTAMPTZ NOT NULL DEFAULT now()
     );",
    // 3: uploaded files and the poster image, so every node serves them
    //    (`store/blobs.rs`); `stored_at` tells nodes the poster changed.
    "CREATE TABLE blobs (
         name TEXT PRIMARY KEY,
         data BYTEA NOT NULL,
         kind TEXT NOT NULL,
         file_name TEXT NOT NULL,
         by_id TEXT NOT NULL,
         stored_at TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp()
     );",
    // 4: snapshots in parts (`store/parts.rs`): a room's `snapshots` row
    //    names the generation of its parts, from a sequence so that one
    //    chosen later is larger.
    "ALTER TABLE snapshots ADD COLUMN parts BIGINT;
     CREATE TABLE snapshot_parts (
         event TEXT NOT NULL,
         table_id TEXT NOT NULL,
         generation BIGINT NOT NULL,
         part INTEGER NOT NULL,
         data BYTEA NOT NULL,
         PRIMARY KEY (event, table_id, generation, part)
     );
     CREATE SEQUENCE snapshot_generations;",
];

/// How long ago a node's last heartbeat must be before a newer version
/// migrates the schema under it: a node that stopped cleanly has left the
/// `nodes` table; one that beat within this long may still be running, on
/// code that reads the old schema (a snapshot stored in parts, schema 4,
/// reads as an empty one there).
const QUIET_BEFORE_MIGRATION_SECS: i64 = 60;

/// Brings the schema to [`MIGRATIONS`]' last version, in one transaction.
pub(super) fn migrate(client: &mut Client) -> Result<(), StoreError> {
    let mut tx = client.transaction()?;
    // Nodes starting at once wait here for one another, then find the work
    // done: `CREATE TABLE` run twice at once fails instead of waiting.
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])?;
    tx.batch_execute("CREATE TABLE IF NOT EXISTS werktafel_schema (version INTEGER NOT NULL)")?;
    let found: i32 = tx
        .query_opt("SELECT version FROM werktafel_schema", &[])?
        .map_or(0, |row| row.get(0));
    let found = usize::try_from(found).unwrap_or(0);
    if found > MIGRATIONS.len() {
        return Err(StoreError::SchemaTooNew {
            found,
            known: MIGRATIONS.len(),
        });
    }
    if found == MIGRATIONS.len() {
        return Ok(());
    }
    // Schema 2 on has a `nodes` table: refuse to change the schema under a
    // node that may still be running older code.
    if found >= 2
        && let Some(row) = tx.query_opt(
            "SELECT id, EXTRACT(EPOCH FROM now() - heartbeat_at)::BIGINT FROM nodes
             WHERE heartbeat_at > now() - make_interval(secs => $1)
             ORDER BY heartbeat_at DESC LIMIT 1",
            &[&(QUIET_BEFORE_MIGRATION_SECS as f64)],
        )?
    {
        return Err(StoreError::MigrationWhileNodesAlive {
            found,
            known: MIGRATIONS.len(),
            node: row.get(0),
            seconds: row.get(1),
            quiet: QUIET_BEFORE_MIGRATION_SECS,
        });
    }
    for step in &MIGRATIONS[found..] {
        tx.batch_execute(step)?;
    }
    let version = MIGRATIONS.len() as i32;
    tx.execute("DELETE FROM werktafel_schema", &[])?;
    tx.execute(
        "INSERT INTO werktafel_schema (version) VALUES ($1)",
        &[&version],
    )?;
    tx.commit()?;
    tracing::info!(from = found, to = version, "migrated the PostgreSQL schema");
    Ok(())
}
