//! Claiming a table's lease: [`resolve`] reads the table's lease row with
//! its owner's liveness (judged by PostgreSQL's `now()`), decides
//! ([`super::decide`]) and, if nobody live holds it, claims it with one
//! statement that is a compare-and-set on the epoch. The only place a lease
//! is taken; [`super::lease::Leases`] records what it got.

use std::time::Duration;

use tokio_postgres::Client;

use super::decide::{Decision, LeaseRow, decide};
use super::{DirectoryError, Remote};
use crate::store::RoomKey;

/// Claims tried for one table before giving up: each lost race means
/// another node just took it, so the next read finds a live owner.
const CLAIM_ATTEMPTS: usize = 3;

const READ: &str = "SELECT t.owner, t.epoch, n.address,
        COALESCE(n.heartbeat_at > now() - make_interval(secs => $3), false)
    FROM tables t LEFT JOIN nodes n ON n.id = t.owner
    WHERE t.event = $1 AND t.table_id = $2";

const CLAIM_NEW: &str = "INSERT INTO tables (event, table_id, next_seq, owner, epoch)
    VALUES ($1, $2, 1, $3, 1)
    ON CONFLICT (event, table_id) DO NOTHING
    RETURNING epoch";

/// Takes a table over from an owner that expired or left, if its epoch is
/// still `$4`: of several nodes trying at once, PostgreSQL lets the first
/// update the row and re-checks the others' `WHERE` against it, which no
/// longer matches.
const TAKE_OVER: &str = "UPDATE tables t SET owner = $3, epoch = t.epoch + 1
    WHERE t.event = $1 AND t.table_id = $2 AND t.epoch = $4
      AND NOT EXISTS (SELECT 1 FROM nodes n WHERE n.id = t.owner AND n.id <> $3
                      AND n.heartbeat_at > now() - make_interval(secs => $5))
    RETURNING t.epoch";

/// Who serves a table, as [`resolve`] found it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Resolved {
    /// This node, under `epoch`; `how` it got the lease (for the metrics:
    /// `claimed`, `taken_over`).
    Mine { epoch: i64, how: &'static str },
    /// Another live node.
    Theirs(Remote),
}

/// Finds who serves `table`, claiming its lease for `me` if nobody live
/// (heartbeat younger than `ttl`) holds it: the one place a lease is taken.
/// Of several nodes asking at once exactly one gets it (the claim is a
/// compare-and-set on the epoch); the others read the winner.
pub(crate) async fn resolve(
    client: &Client,
    me: &str,
    table: &RoomKey,
    ttl: Duration,
) -> Result<Resolved, DirectoryError> {
    let ttl = ttl.as_secs_f64();
    for _ in 0..CLAIM_ATTEMPTS {
        let row = client
            .query_opt(READ, &[&&*table.event, &&*table.table, &ttl])
            .await?
            .map(|row| LeaseRow {
                owner: row.get(0),
                epoch: row.get(1),
                addr: row.get(2),
                alive: row.get(3),
            });
        let claimed = match decide(me, row.as_ref()) {
            Decision::Here { epoch } => {
                return Ok(Resolved::Mine {
                    epoch,
                    how: "claimed",
                });
            }
            Decision::There { node, addr, epoch } => {
                return Ok(Resolved::Theirs(Remote { node, addr, epoch }));
            }
            Decision::Claim { over: None } => client
                .query_opt(CLAIM_NEW, &[&&*table.event, &&*table.table, &me])
                .await?
                .map(|r| (r.get::<_, i64>(0), "claimed")),
            Decision::Claim { over: Some(epoch) } => client
                .query_opt(
                    TAKE_OVER,
                    &[&&*table.event, &&*table.table, &me, &epoch, &ttl],
                )
                .await?
                .map(|r| (r.get::<_, i64>(0), "taken_over")),
        };
        if let Some((epoch, how)) = claimed {
            tracing::info!(table = %table, epoch, how, "took the table's lease");
            return Ok(Resolved::Mine { epoch, how });
        }
        // Another node won the race; read who.
    }
    Err(DirectoryError::Contended(table.to_string()))
}
