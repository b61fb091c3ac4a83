//! The hot path of the PostgreSQL store: appending a batch (numbers handed
//! out under each room's row lock, the whole batch in one transaction,
//! fenced by the cluster's leases) and reading a room's snapshot and log from
//! one state of the database, with the statements both use prepared once
//! per connection.

use std::collections::BTreeMap;

use postgres::{Client, IsolationLevel, Statement, Transaction};

use super::PostgresStore;
use crate::store::fence::{Fence as ClusterFence, is_fenced, lease_key};
use crate::store::parts::{Assembler, Head};
use crate::store::{AppendRecord, RoomKey, StoreError};

/// A room as [`PostgresStore::read`] found it.
pub(super) struct RoomRead {
    pub(super) snapshot: Option<Vec<u8>>,
    /// The generation the snapshot is stored under; `None` if whole.
    pub(super) generation: Option<i64>,
    /// The log, numbered.
    pub(super) log: Vec<(i64, Vec<u8>)>,
}

/// The statements of the hot paths, prepared once per connection.
pub(super) struct Statements {
    /// Hands out `$3` sequence numbers of room (`$1`, `$2`), creating its
    /// row on first use; returns the first number. The upsert locks the
    /// room's row until the transaction ends, like `SELECT … FOR UPDATE`,
    /// in one round trip.
    claim: Statement,
    /// Inserts the updates `$4`, numbered from `$3` on.
    insert: Statement,
    /// The room's head: `parts` and `data` of its `snapshots` row.
    snapshot: Statement,
    /// A generation's parts, in order.
    parts: Statement,
    log: Statement,
}

impl Statements {
    pub(super) fn prepare(client: &mut Client) -> Result<Self, postgres::Error> {
        Ok(Self {
            claim: client.prepare(
                "INSERT INTO tables AS t (event, table_id, next_seq)
                 VALUES ($1, $2, 1 + $3::BIGINT)
                 ON CONFLICT (event, table_id) DO UPDATE SET next_seq = t.next_seq + $3::BIGINT
                 RETURNING t.next_seq - $3::BIGINT",
            )?,
            insert: client.prepare(
                "INSERT INTO updates (event, table_id, seq, data)
                 SELECT $1, $2, $3::BIGINT + u.ord - 1, u.data
                 FROM unnest($4::BYTEA[]) WITH ORDINALITY AS u (data, ord)",
            )?,
            snapshot: client
                .prepare("SELECT parts, data FROM snapshots WHERE event = $1 AND table_id = $2")?,
            parts: client.prepare(
                "SELECT part, data FROM snapshot_parts
                 WHERE event = $1 AND table_id = $2 AND generation = $3 ORDER BY part",
            )?,
            log: client.prepare(
                "SELECT seq, data FROM updates WHERE event = $1 AND table_id = $2 ORDER BY seq",
            )?,
        })
    }
}

impl PostgresStore {
    /// [`Store::append`](crate::store::Store::append): every room's updates
    /// of `batch` in one transaction.
    pub(super) fn append_batch(&mut self, batch: &[AppendRecord]) -> Result<(), StoreError> {
        // Each room's updates in batch order, the rooms in key order: two
        // writers then lock the rows they share in the same order and
        // cannot deadlock.
        let mut by_room: BTreeMap<&RoomKey, Vec<&[u8]>> = BTreeMap::new();
        for record in batch {
            by_room
                .entry(&record.room)
                .or_default()
                .push(record.update.as_ref());
        }
        // One transaction for the whole batch: group commit, one fsync. A
        // table this node lost fails all of it: nothing commits in part.
        let mut tx = self.client.transaction()?;
        if let Some((node, fence)) = &self.cluster_fence {
            check_leases(&mut tx, node, fence, by_room.keys().copied())?;
        }
        for (room, updates) in &by_room {
            let count = updates.len() as i64;
            let row = tx.query_one(
                &self.statements.claim,
                &[&&*room.event, &&*room.table, &count],
            )?;
            let first: i64 = row.get(0);
            tx.execute(
                &self.statements.insert,
                &[&&*room.event, &&*room.table, &first, updates],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// `room`'s snapshot (and the generation of its parts) and numbered
    /// log, from one state of the database: read committed would let a
    /// compaction commit between the reads, and the log would then miss what
    /// the old snapshot did not hold.
    pub(super) fn read(&mut self, room: &RoomKey) -> Result<RoomRead, StoreError> {
        self.connected()?;
        let mut tx = self
            .client
            .build_transaction()
            .isolation_level(IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()?;
        let args: [&(dyn postgres::types::ToSql + Sync); 2] = [&&*room.event, &&*room.table];
        let head = tx
            .query_opt(&self.statements.snapshot, &args)?
            .map(|row| Head::from_row(row.get(0), row.get(1)));
        let (snapshot, generation) = match head {
            None => (None, None),
            Some(Head::Whole(data)) => (Some(data), None),
            Some(Head::Parts(generation)) => {
                let mut snapshot = Assembler::new(room, generation);
                for row in tx.query(
                    &self.statements.parts,
                    &[&&*room.event, &&*room.table, &generation],
                )? {
                    let part: i32 = row.get(0);
                    snapshot.push(i64::from(part), row.get(1))?;
                }
                (Some(snapshot.finish()?), Some(generation))
            }
        };
        let log = tx
            .query(&self.statements.log, &args)?
            .iter()
            .map(|row| (row.get(0), row.get(1)))
            .collect();
        tx.commit()?;
        Ok(RoomRead {
            snapshot,
            generation,
            log,
        })
    }
}

/// Checks, inside the append's transaction `tx`, that `node` still holds
/// the lease of every table `rooms` belong to at the epoch `fence` records.
/// The lease rows stay locked until the commit, so a takeover waits for it:
/// either this commit comes first, or it sees the new owner and fails.
fn check_leases<'a>(
    tx: &mut Transaction<'_>,
    node: &str,
    fence: &ClusterFence,
    rooms: impl Iterator<Item = &'a RoomKey>,
) -> Result<(), StoreError> {
    let mut tables: Vec<RoomKey> = rooms.filter(|r| is_fenced(r)).map(lease_key).collect();
    // Locked in key order, as the rooms are, so two writers cannot deadlock.
    tables.sort();
    tables.dedup();
    for table in tables {
        let held = fence.epoch(&table);
        let stored = tx.query_opt(
            "SELECT owner, epoch FROM tables WHERE event = $1 AND table_id = $2 FOR UPDATE",
            &[&&*table.event, &&*table.table],
        )?;
        let owned = match (held, stored) {
            (Some(epoch), Some(row)) => {
                row.get::<_, Option<&str>>(0) == Some(node) && row.get::<_, i64>(1) == epoch
            }
            _ => false,
        };
        if !owned {
            return Err(StoreError::NotOwner { room: table });
        }
    }
    Ok(())
}
