//! Which node owns a room: the cluster's nodes and their heartbeats
//! (`nodes`), and leases on rooms (`tables.owner`, `tables.epoch`) fenced by
//! their epoch ([`Fence`]).
//!
//! Taking a room over increments its epoch; every append checks, in its own
//! transaction, that the epoch is still the one this node's lease got
//! ([`PostgresStore`]'s `append`). So a node that was paused or cut off past
//! its lease, and came back, commits nothing more to the room: its commit
//! fails with [`StoreError::StaleEpoch`]. Whether a node is alive is judged
//! by PostgreSQL's clock alone (`now()` against the node's last heartbeat),
//! so the nodes' own clocks may disagree.
//!
//! The server does not take leases yet (docs/scale-out.md); this is the
//! store's half, tested here.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use super::PostgresStore;
use crate::store::{RoomKey, StoreError};

/// How long a node counts as alive after its last heartbeat, unless told
/// otherwise: a few heartbeats' worth, so one slow round trip does not cost
/// a node its rooms.
pub const NODE_TTL: Duration = Duration::from_secs(5);

/// The epochs of the leases a node holds, by room; shared by all the
/// node's store handles, so the persistence worker's appends are fenced by
/// a lease taken on another handle.
#[derive(Clone, Default)]
pub struct Fence(Arc<Mutex<HashMap<RoomKey, i64>>>);

impl Fence {
    /// The epoch an append to `room` must find; `None` for a room this node
    /// holds no lease on (then nothing is checked: one node on its own).
    pub fn epoch(&self, room: &RoomKey) -> Option<i64> {
        self.lock().get(room).copied()
    }

    fn hold(&self, room: &RoomKey, epoch: i64) {
        self.lock().insert(room.clone(), epoch);
    }

    fn forget(&self, room: &RoomKey) {
        self.lock().remove(room);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<RoomKey, i64>> {
        // A plain map, consistent after every statement: poison changes nothing.
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// What asking for a room's lease gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lease {
    /// This node owns the room under `epoch`; its appends are fenced by it.
    Granted { epoch: i64 },
    /// A live node owns it.
    HeldBy { owner: String },
}

impl PostgresStore {
    /// Adds (or renews) node `node`, reachable by the others at `address`.
    pub fn register_node(&mut self, node: &str, address: &str) -> Result<(), StoreError> {
        self.connected()?;
        self.client.execute(
            "INSERT INTO nodes (id, address) VALUES ($1, $2)
             ON CONFLICT (id) DO UPDATE SET address = excluded.address, heartbeat_at = now()",
            &[&node, &address],
        )?;
        Ok(())
    }

    /// Says `node` is alive now; false if it is not registered.
    pub fn heartbeat(&mut self, node: &str) -> Result<bool, StoreError> {
        self.connected()?;
        let updated = self.client.execute(
            "UPDATE nodes SET heartbeat_at = now() WHERE id = $1",
            &[&node],
        )?;
        Ok(updated == 1)
    }

    /// The nodes whose last heartbeat is less than `ttl` old, by
    /// PostgreSQL's clock.
    pub fn live_nodes(&mut self, ttl: Duration) -> Result<Vec<String>, StoreError> {
        self.connected()?;
        let rows = self.client.query(
            "SELECT id FROM nodes
             WHERE heartbeat_at > now() - $1::BIGINT * interval '1 millisecond'
             ORDER BY id",
            &[&millis(ttl)],
        )?;
        Ok(rows.iter().map(|row| row.get(0)).collect())
    }

    /// Takes `room` for `node` unless a live node (heartbeat younger than
    /// `ttl`) owns it. Taking it over increments its epoch; a room `node`
    /// owns already keeps its epoch. Under the room's row lock, so of two
    /// nodes asking at once exactly one gets it.
    pub fn acquire(
        &mut self,
        room: &RoomKey,
        node: &str,
        ttl: Duration,
    ) -> Result<Lease, StoreError> {
        self.connected()?;
        let mut tx = self.client.transaction()?;
        let room_args: [&(dyn postgres::types::ToSql + Sync); 2] = [&&*room.event, &&*room.table];
        tx.execute(
            "INSERT INTO tables (event, table_id, next_seq) VALUES ($1, $2, 1)
             ON CONFLICT (event, table_id) DO NOTHING",
            &room_args,
        )?;
        // The row alone, locked: joined with `nodes` here, a racer woken by
        // the winner's commit would re-read the row but keep the join's
        // old (empty) node, and take a live owner's room.
        let row = tx.query_one(
            "SELECT owner, epoch FROM tables WHERE event = $1 AND table_id = $2 FOR UPDATE",
            &room_args,
        )?;
        let owner: Option<String> = row.get(0);
        let epoch: i64 = row.get(1);
        let alive = match &owner {
            Some(owner) => tx
                .query_opt(
                    "SELECT 1 FROM nodes
                     WHERE id = $1 AND heartbeat_at > now() - $2::BIGINT * interval '1 millisecond'",
                    &[owner, &millis(ttl)],
                )?
                .is_some(),
            None => false,
        };
        let lease = match owner {
            Some(owner) if owner == node => Lease::Granted { epoch },
            Some(owner) if alive => Lease::HeldBy { owner },
            // Nobody's, or its owner stopped beating: ours, under a new epoch.
            _ => {
                let epoch = epoch + 1;
                tx.execute(
                    "UPDATE tables SET owner = $3, epoch = $4 WHERE event = $1 AND table_id = $2",
                    &[&&*room.event, &&*room.table, &node, &epoch],
                )?;
                Lease::Granted { epoch }
            }
        };
        tx.commit()?;
        match &lease {
            Lease::Granted { epoch } => self.fence.hold(room, *epoch),
            Lease::HeldBy { .. } => self.fence.forget(room),
        }
        Ok(lease)
    }

    /// Gives `room` up (on shutdown, or when it goes idle), if `node` holds
    /// it; another node may take it at once, under the next epoch.
    pub fn release(&mut self, room: &RoomKey, node: &str) -> Result<bool, StoreError> {
        self.connected()?;
        self.fence.forget(room);
        let released = self.client.execute(
            "UPDATE tables SET owner = NULL WHERE event = $1 AND table_id = $2 AND owner = $3",
            &[&&*room.event, &&*room.table, &node],
        )?;
        Ok(released == 1)
    }
}

fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use std::sync::Barrier;

    use yrs::Doc;

    use super::*;
    use crate::store::Store;
    use crate::store::postgres::testing::TestDb;
    use crate::store::testing::{append, key, text_of, typing};

    /// Long enough that no registered node expires during a test.
    const ALIVE: Duration = Duration::from_secs(3600);
    /// Every heartbeat is older than this: every owner counts as gone.
    const GONE: Duration = Duration::ZERO;

    fn node(db: &TestDb, id: &str) -> PostgresStore {
        let mut store = PostgresStore::open(&db.config).unwrap();
        store
            .register_node(id, &format!("{id}.internal:8080"))
            .unwrap();
        store
    }

    #[test]
    fn two_nodes_racing_for_a_tables_lease_exactly_one_wins() {
        let db = TestDb::create();
        let rooms: Vec<RoomKey> = (0..20).map(|i| key(&format!("race-{i}"))).collect();
        let (mut a, mut b) = (node(&db, "a"), node(&db, "b"));
        // New tables first (the row is created in the race), then the same
        // tables once their owner has let go (the row exists, unowned).
        for epoch in [1, 2] {
            let barrier = Barrier::new(2);
            let (got_a, got_b) = std::thread::scope(|scope| {
                let got_a = scope.spawn(|| acquire_all(&mut a, "a", &rooms, &barrier));
                let got_b = scope.spawn(|| acquire_all(&mut b, "b", &rooms, &barrier));
                (got_a.join().unwrap(), got_b.join().unwrap())
            });
            for (room, (la, lb)) in rooms.iter().zip(got_a.iter().zip(&got_b)) {
                let granted = Lease::Granted { epoch };
                let (winner, loser) = match (la == &granted, lb == &granted) {
                    (true, false) => ("a", lb),
                    (false, true) => ("b", la),
                    _ => panic!("{room}, epoch {epoch}: a got {la:?}, b got {lb:?}"),
                };
                assert_eq!(
                    loser,
                    &Lease::HeldBy {
                        owner: winner.into()
                    },
                    "{room}"
                );
                let store = if winner == "a" { &mut a } else { &mut b };
                assert!(store.release(room, winner).unwrap());
            }
        }
    }

    /// Asks for each room's lease, in step with the other racer.
    fn acquire_all(
        store: &mut PostgresStore,
        id: &str,
        rooms: &[RoomKey],
        barrier: &Barrier,
    ) -> Vec<Lease> {
        rooms
            .iter()
            .map(|room| {
                barrier.wait();
                store.acquire(room, id, ALIVE).unwrap()
            })
            .collect()
    }

    #[test]
    fn an_append_under_a_stale_epoch_fails_and_stores_nothing() {
        let db = TestDb::create();
        let room = key("fenced");
        let updates = typing(&Doc::new(), 3);
        let mut a = node(&db, "a");
        assert_eq!(
            a.acquire(&room, "a", ALIVE).unwrap(),
            Lease::Granted { epoch: 1 }
        );
        // The persistence worker appends on another handle of the node.
        let mut a_worker = a.reopen().unwrap();
        append(&mut a_worker, &room, &updates[..1]);

        // a stops beating (paused, cut off); b takes the room over.
        let mut b = node(&db, "b");
        assert_eq!(
            b.acquire(&room, "b", GONE).unwrap(),
            Lease::Granted { epoch: 2 }
        );

        let batch = [crate::store::AppendRecord {
            room: room.clone(),
            update: updates[1].clone().into(),
        }];
        let refused = a_worker.append(&batch).expect_err("a's lease is stale");
        assert!(
            matches!(&refused, StoreError::StaleEpoch { epoch: 1, room: r } if *r == room),
            "{refused}"
        );
        append(&mut b, &room, &updates[1..]);
        let stored = b.load(&room).unwrap();
        assert_eq!(stored.updates.len(), 3, "a's first update and b's two");
        assert_eq!(text_of(&room, &stored), "xxx");
    }

    #[test]
    fn a_batch_with_one_stale_room_commits_nothing() {
        let db = TestDb::create();
        let (stale, free) = (key("stale"), key("free"));
        let mut a = node(&db, "a");
        a.acquire(&stale, "a", ALIVE).unwrap();
        node(&db, "b").acquire(&stale, "b", GONE).unwrap();

        let update = typing(&Doc::new(), 1).remove(0);
        let batch: Vec<_> = [&free, &stale]
            .into_iter()
            .map(|room| crate::store::AppendRecord {
                room: room.clone(),
                update: update.clone().into(),
            })
            .collect();
        assert!(matches!(
            a.append(&batch),
            Err(StoreError::StaleEpoch { .. })
        ));
        assert_eq!(
            a.log_len(&free).unwrap(),
            0,
            "group commit is all or nothing"
        );
        assert_eq!(a.log_len(&stale).unwrap(), 0);
    }

    #[test]
    fn a_live_owner_keeps_its_room_until_it_releases_it() {
        let db = TestDb::create();
        let room = key("held");
        let (mut a, mut b) = (node(&db, "a"), node(&db, "b"));
        assert_eq!(
            a.acquire(&room, "a", ALIVE).unwrap(),
            Lease::Granted { epoch: 1 }
        );
        assert_eq!(
            b.acquire(&room, "b", ALIVE).unwrap(),
            Lease::HeldBy { owner: "a".into() }
        );
        assert_eq!(
            a.acquire(&room, "a", ALIVE).unwrap(),
            Lease::Granted { epoch: 1 },
            "asking again keeps the epoch"
        );
        assert!(a.release(&room, "a").unwrap());
        assert!(
            !b.release(&room, "b").unwrap(),
            "b holds nothing to release"
        );
        assert_eq!(
            b.acquire(&room, "b", ALIVE).unwrap(),
            Lease::Granted { epoch: 2 }
        );
        assert_eq!(
            a.acquire(&room, "a", ALIVE).unwrap(),
            Lease::HeldBy { owner: "b".into() }
        );
    }

    #[test]
    fn nodes_are_alive_while_their_heartbeat_is_younger_than_the_ttl() {
        let db = TestDb::create();
        let mut a = node(&db, "a");
        node(&db, "b");
        assert_eq!(a.live_nodes(ALIVE).unwrap(), vec!["a", "b"]);
        assert!(
            a.live_nodes(GONE).unwrap().is_empty(),
            "PostgreSQL's clock judges"
        );
        assert!(a.heartbeat("a").unwrap());
        assert!(!a.heartbeat("nobody").unwrap(), "an unregistered node");
    }
}
