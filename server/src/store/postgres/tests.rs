//! The PostgreSQL store: the `Store` suite, and what only it has
//! (per-room numbering, migrations, connection errors).

use super::testing::TestDb;
use super::*;

crate::store::suite::store_suite!(TestDb::store);

/// The same suite with snapshots written in parts of 64 bytes, so that
/// every snapshot spans several.
mod in_parts {
    use super::*;

    pub(crate) fn store_in_parts() -> (TestDb, PostgresStore) {
        let (db, mut store) = TestDb::store();
        store.part_bytes = 64;
        (db, store)
    }

    crate::store::suite::store_suite!(store_in_parts);

    /// (generation, parts) of every generation stored for `table`.
    fn generations(store: &mut PostgresStore, table: &str) -> Vec<(i64, i64)> {
        store
            .client
            .query(
                "SELECT generation, COUNT(*) FROM snapshot_parts
                 WHERE event = 'e' AND table_id = $1 GROUP BY generation ORDER BY generation",
                &[&table],
            )
            .unwrap()
            .iter()
            .map(|row| (row.get(0), row.get(1)))
            .collect()
    }

    #[test]
    fn a_snapshot_in_parts_loads_whole_older_parts_go_and_a_superseded_one_leaves_none() {
        use crate::store::testing::{
            append, changed_snapshot_makes_compaction_give_up, key, text_of, typing,
        };
        let (_db, mut store) = store_in_parts();
        let room = key("a");
        let typed = typing(&yrs::Doc::new(), 300);
        append(&mut store, &room, &typed[..100]);
        assert_eq!(store.compact(&room).unwrap(), Compaction::Written);
        let first = generations(&mut store, "a");
        assert!(first.len() == 1 && first[0].1 > 1, "{first:?}");
        append(&mut store, &room, &typed[100..]);
        assert_eq!(store.compact(&room).unwrap(), Compaction::Written);
        let second = generations(&mut store, "a");
        assert!(second.len() == 1 && second[0].0 > first[0].0, "{second:?}");
        let loaded = store.load(&room).unwrap();
        assert_eq!(loaded.updates.len(), 1);
        assert_eq!(text_of(&room, &loaded), "x".repeat(300));

        let mut other = store.reopen().unwrap();
        changed_snapshot_makes_compaction_give_up(&mut store, &mut other);
        assert_eq!(
            generations(&mut store, "superseded").len(),
            1,
            "only the other's"
        );

        // A missing part is named, not served as a shorter document.
        store
            .client
            .execute(
                "DELETE FROM snapshot_parts WHERE table_id = 'a' AND part = 1",
                &[],
            )
            .unwrap();
        let error = store.load(&room).unwrap_err().to_string();
        assert!(error.contains("lacks part 1"), "{error}");
    }

    #[test]
    fn a_snapshot_stored_whole_before_parts_loads_and_is_replaced() {
        use crate::store::testing::{append, key, text_of, typing};
        let (_db, mut store) = store_in_parts();
        let room = key("a");
        let typed = typing(&yrs::Doc::new(), 40);
        append(&mut store, &room, &typed[..20]);
        let whole = crate::store::merge(&room, typed[..20].iter().map(Vec::as_slice))
            .unwrap()
            .unwrap();
        // As a compaction before schema 4 left it.
        store
            .client
            .execute(
                "INSERT INTO snapshots (event, table_id, data) VALUES ('e', 'a', $1)",
                &[&whole],
            )
            .unwrap();
        store
            .client
            .execute("DELETE FROM updates WHERE table_id = 'a'", &[])
            .unwrap();
        append(&mut store, &room, &typed[20..]);
        assert_eq!(text_of(&room, &store.load(&room).unwrap()), "x".repeat(40));
        assert_eq!(store.compact(&room).unwrap(), Compaction::Written);
        assert_eq!(generations(&mut store, "a").len(), 1);
        let loaded = store.load(&room).unwrap();
        assert_eq!(loaded.updates.len(), 1);
        assert_eq!(text_of(&room, &loaded), "x".repeat(40));
    }
}

#[test]
fn sequence_numbers_are_per_room_and_never_reused() {
    let (_db, mut store) = TestDb::store();
    let room = crate::store::testing::key("seq");
    let updates = crate::store::testing::typing(&yrs::Doc::new(), 6);
    crate::store::testing::append(&mut store, &room, &updates[..3]);
    crate::store::testing::append(&mut store, &crate::store::testing::key("x"), &updates[..1]);
    assert_eq!(store.read_log(&room).unwrap().unwrap().upto, 3);
    store.compact(&room).unwrap();
    store.quarantine(&room, "test").unwrap();
    crate::store::testing::append(&mut store, &room, &updates[3..]);
    let read = store.read_log(&room).unwrap().unwrap();
    assert_eq!(
        read.upto, 6,
        "numbering goes on after compaction and quarantine"
    );
    assert_eq!(read.log.len(), 3);
}

#[test]
fn opening_twice_migrates_once_and_a_newer_schema_is_refused() {
    let db = TestDb::create();
    let mut first = PostgresStore::open(&db.config).unwrap();
    let _second = PostgresStore::open(&db.config).unwrap();
    let version: i32 = first
        .client
        .query_one("SELECT version FROM werktafel_schema", &[])
        .unwrap()
        .get(0);
    assert_eq!(version as usize, PostgresStore::schema_version());
    first
        .client
        .execute("UPDATE werktafel_schema SET version = version + 1", &[])
        .unwrap();
    let refused = PostgresStore::open(&db.config).err().expect("refused");
    assert!(
        matches!(refused, StoreError::SchemaTooNew { .. }),
        "{refused}"
    );
}

#[test]
fn a_newer_schema_is_not_migrated_under_a_node_that_may_still_run_older_code() {
    let db = TestDb::create();
    let mut store = PostgresStore::open(&db.config).unwrap();
    // The database as schema 3 left it, with a node that beat 5 s ago.
    store
        .client
        .batch_execute(
            "DROP TABLE snapshot_parts; ALTER TABLE snapshots DROP COLUMN parts;
             DROP SEQUENCE snapshot_generations; UPDATE werktafel_schema SET version = 3;
             INSERT INTO nodes (id, address, heartbeat_at)
             VALUES ('oud-1', '127.0.0.1:1', now() - interval '5 seconds');",
        )
        .unwrap();
    let refused = PostgresStore::open(&db.config).err().expect("refused");
    let message = refused.to_string();
    assert!(
        matches!(&refused, StoreError::MigrationWhileNodesAlive { found: 3, node, .. } if node == "oud-1"),
        "{message}"
    );
    assert!(message.contains("stop every node"), "{message}");
    let version: i32 = store
        .client
        .query_one("SELECT version FROM werktafel_schema", &[])
        .unwrap()
        .get(0);
    assert_eq!(version, 3, "nothing migrated");

    // A node gone quiet for longer (crashed, never back) does not hold it up.
    store
        .client
        .execute(
            "UPDATE nodes SET heartbeat_at = now() - interval '2 minutes'",
            &[],
        )
        .unwrap();
    drop(PostgresStore::open(&db.config).expect("migrated"));
    let version: i32 = store
        .client
        .query_one("SELECT version FROM werktafel_schema", &[])
        .unwrap()
        .get(0);
    assert_eq!(version as usize, PostgresStore::schema_version());
}

#[test]
fn an_unreachable_server_is_named_in_the_error() {
    // A port nothing listens on: bound, then closed again.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let config: postgres::Config = format!("postgres://wt:geheim@127.0.0.1:{port}/werktafel")
        .parse()
        .unwrap();
    let error = PostgresStore::open(&config).err().expect("no server there");
    let message = error.to_string();
    assert!(matches!(error, StoreError::Connect { .. }), "{message}");
    assert!(
        message.contains(&format!("127.0.0.1:{port}/werktafel")),
        "{message}"
    );
    assert!(!message.contains("geheim"), "{message}");
}

#[test]
fn a_connection_postgres_closed_is_replaced_on_the_next_call() {
    let (db, mut store) = TestDb::store();
    let room = crate::store::testing::key("reconnect");
    let updates = crate::store::testing::typing(&yrs::Doc::new(), 3);
    crate::store::testing::append(&mut store, &room, &updates[..1]);
    let pid: i32 = store
        .client
        .query_one("SELECT pg_backend_pid()", &[])
        .unwrap()
        .get(0);
    // As a restart of PostgreSQL, or an operator, would.
    let mut admin = db.config.connect(postgres::NoTls).unwrap();
    admin
        .execute("SELECT pg_terminate_backend($1)", &[&pid])
        .unwrap();

    let batch = [crate::store::AppendRecord {
        room: room.clone(),
        update: updates[1].clone().into(),
    }];
    // The call that meets the closed connection fails (its caller reports
    // the updates as not durable) or, if the close was not yet noticed,
    // the next one: within two calls the store works again.
    let first = store.append(&batch);
    if first.is_err() {
        store.append(&batch).expect("reconnected");
    }
    crate::store::testing::append(&mut store, &room, &updates[2..]);
    let stored = store.load(&room).unwrap();
    assert_eq!(crate::store::testing::text_of(&room, &stored), "xxx");
}

/// `node`'s store for a cluster, holding the leases `fence` records, and
/// the table `name` claimed for `node` at epoch 1 as the cluster's
/// directory claims it (`cluster/lease.rs`).
fn fenced_with(db: &TestDb, node: &str, fence: &ClusterFence, name: &str) -> PostgresStore {
    let mut store = PostgresStore::open(&db.config)
        .unwrap()
        .fenced(node.into(), fence.clone());
    let table = crate::store::testing::key(name);
    store
        .client
        .execute(
            "INSERT INTO tables (event, table_id, next_seq, owner, epoch) VALUES ($1, $2, 1, $3, 1)",
            &[&&*table.event, &&*table.table, &node],
        )
        .unwrap();
    fence.hold(table, 1);
    store
}

/// Another node takes `table` over, as the directory's takeover does.
fn take_over(store: &mut PostgresStore, table: &RoomKey, by: &str) {
    let taken = store
        .client
        .execute(
            "UPDATE tables SET owner = $3, epoch = epoch + 1 WHERE event = $1 AND table_id = $2",
            &[&&*table.event, &&*table.table, &by],
        )
        .unwrap();
    assert_eq!(taken, 1);
}

fn batch(rooms: &[&RoomKey]) -> Vec<AppendRecord> {
    let update = crate::store::testing::typing(&yrs::Doc::new(), 1).remove(0);
    rooms
        .iter()
        .map(|room| AppendRecord {
            room: (*room).clone(),
            update: update.clone().into(),
        })
        .collect()
}

#[test]
fn an_append_after_a_takeover_fails_and_stores_nothing() {
    let db = TestDb::create();
    let fence = ClusterFence::default();
    let mut a = fenced_with(&db, "a", &fence, "fenced");
    let table = crate::store::testing::key("fenced");
    let drafts = RoomKey::new(&table.event, &format!("{}/drafts/anna", table.table));
    a.append(&batch(&[&table, &drafts])).unwrap();

    // a was paused past its lease; b took the table over at epoch 2. a's
    // fence still says epoch 1: its next append must not commit.
    take_over(&mut a, &table, "b");
    let refused = a.append(&batch(&[&drafts])).expect_err("the lease moved");
    assert!(
        matches!(&refused, StoreError::NotOwner { room } if *room == table),
        "a side room goes under its table's lease: {refused}"
    );
    assert_eq!(a.log_len(&table).unwrap(), 1);
    assert_eq!(a.log_len(&drafts).unwrap(), 1, "nothing after the takeover");
}

#[test]
fn a_batch_with_one_lost_table_commits_nothing() {
    let db = TestDb::create();
    let fence = ClusterFence::default();
    let mut a = fenced_with(&db, "a", &fence, "kept");
    drop(fenced_with(&db, "a", &fence, "lost"));
    let (kept, lost) = (
        crate::store::testing::key("kept"),
        crate::store::testing::key("lost"),
    );
    let never = crate::store::testing::key("never-claimed");
    take_over(&mut a, &lost, "b");
    assert!(matches!(
        a.append(&batch(&[&kept, &lost])),
        Err(StoreError::NotOwner { room }) if room == lost
    ));
    assert_eq!(
        a.log_len(&kept).unwrap(),
        0,
        "group commit is all or nothing"
    );
    assert!(
        matches!(
            a.append(&batch(&[&never])),
            Err(StoreError::NotOwner { .. })
        ),
        "a table never claimed is not this node's"
    );
    a.append(&batch(&[&kept])).unwrap();
    assert_eq!(a.log_len(&kept).unwrap(), 1);
}
