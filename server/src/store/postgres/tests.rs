//! The PostgreSQL store: the `Store` suite, and what only it has
//! (per-room numbering, migrations, connection errors).

use super::testing::TestDb;
use super::*;

crate::store::suite::store_suite!(TestDb::store);

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
