//! The race for a table's lease on a real PostgreSQL (`WERKTAFEL_TEST_PG`):
//! of two nodes asking at once exactly one wins, for a new table and for
//! one its owner let go. (The store's half, appends fenced by the lease,
//! is tested in `store/postgres/tests.rs`; whole nodes racing in
//! `tests/rust/cluster.rs`.)

use super::*;
use crate::cluster::claim::{Resolved, resolve};
use crate::store::postgres::PostgresStore;
use crate::store::postgres::testing::{TEST_PG, TestDb};

/// Long enough that no registered node expires during the test.
const ALIVE: Duration = Duration::from_secs(3600);

/// A connection for node `id`, registered as alive.
async fn node(config: &tokio_postgres::Config, id: &str) -> Client {
    let (client, connection) = config.connect(NoTls).await.unwrap();
    tokio::spawn(connection);
    client
        .execute(HEARTBEAT, &[&id, &format!("{id}.internal:8080")])
        .await
        .unwrap();
    client
}

#[test]
fn two_nodes_racing_for_a_tables_lease_exactly_one_wins() {
    let db = TestDb::create();
    // The schema, as the store makes it at start-up.
    drop(PostgresStore::open(&db.config).unwrap());
    let mut config: tokio_postgres::Config = std::env::var(TEST_PG).unwrap().parse().unwrap();
    config.dbname(db.config.get_dbname().unwrap());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let (a, b) = (node(&config, "a").await, node(&config, "b").await);
        let tables: Vec<RoomKey> = (0..20)
            .map(|i| RoomKey::new("e", &format!("race-{i}")))
            .collect();
        // New tables first (the row is made in the race), then the same
        // tables once their owner let go (the row exists, unowned).
        for epoch in [1, 2] {
            for table in &tables {
                let (got_a, got_b) = tokio::join!(
                    resolve(&a, "a", table, ALIVE),
                    resolve(&b, "b", table, ALIVE)
                );
                let (got_a, got_b) = (got_a.unwrap(), got_b.unwrap());
                let (winner, client, loser_saw) = match (&got_a, &got_b) {
                    (Resolved::Mine { epoch: e, .. }, Resolved::Theirs(r)) if *e == epoch => {
                        ("a", &a, r)
                    }
                    (Resolved::Theirs(r), Resolved::Mine { epoch: e, .. }) if *e == epoch => {
                        ("b", &b, r)
                    }
                    _ => panic!("{table}, epoch {epoch}: a got {got_a:?}, b got {got_b:?}"),
                };
                assert_eq!(
                    loser_saw.node, winner,
                    "{table}: the loser relays to the winner"
                );
                assert_eq!(loser_saw.epoch, epoch);
                assert_eq!(
                    resolve(client, winner, table, ALIVE).await.unwrap(),
                    Resolved::Mine {
                        epoch,
                        how: "claimed"
                    },
                    "asking again keeps the epoch"
                );
                // As a node shutting down releases its tables.
                client
                    .execute(
                        "UPDATE tables SET owner = NULL WHERE event = $1 AND table_id = $2",
                        &[&&*table.event, &&*table.table],
                    )
                    .await
                    .unwrap();
            }
        }
    });
}
