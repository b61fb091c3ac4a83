//! One test suite for every [`Store`]: SQLite, memory and PostgreSQL must
//! keep documents the same way, so each runs these same tests.
//! `store_suite!(fresh)` writes them out as `#[test]`s in the module that
//! calls it, where `fresh()` returns a guard (what holds the storage: a
//! temporary directory, a test database) and a handle to empty storage.

use std::collections::BTreeSet;

use yrs::{Doc, GetString, ReadTxn, Text, Transact};

use super::testing::{append, key, text_of, typing};
use super::{Compaction, Store};

/// Writes the suite's tests into the calling module.
macro_rules! store_suite {
    ($fresh:path) => {
        $crate::store::suite::store_suite!(@one $fresh, appends_load_back_in_order);
        $crate::store::suite::store_suite!(@one $fresh, a_room_never_written_loads_empty);
        $crate::store::suite::store_suite!(@one $fresh, compaction_keeps_the_document_and_shortens_the_log);
        $crate::store::suite::store_suite!(@one $fresh, compaction_folds_a_long_log);
        $crate::store::suite::store_suite!(@one $fresh, an_update_waiting_for_its_dependency_is_not_compacted_away);
        $crate::store::suite::store_suite!(@one $fresh, rooms_lists_what_is_stored);
        $crate::store::suite::store_suite!(@one $fresh, quarantine_moves_everything_aside);
        $crate::store::suite::store_suite!(@one $fresh, events_and_secrets_are_kept);
        $crate::store::suite::store_suite!(@two $fresh, compaction_keeps_an_append_that_lands_between_its_read_and_its_write);
        $crate::store::suite::store_suite!(@two $fresh, compaction_gives_up_when_the_snapshot_changed_since_its_read);
        $crate::store::suite::store_suite!(@two $fresh, compaction_keeps_what_another_handle_appends_meanwhile);
        $crate::store::suite::store_suite!(@two $fresh, appends_from_two_handles_at_once_all_land);
    };
    (@one $fresh:path, $name:ident) => {
        #[test]
        fn $name() {
            let (_guard, mut store) = $fresh();
            $crate::store::suite::$name(&mut store);
        }
    };
    (@two $fresh:path, $name:ident) => {
        #[test]
        fn $name() {
            let (_guard, store) = $fresh();
            let other = $crate::store::Store::reopen(&store).expect("a second handle");
            $crate::store::suite::$name(store, other);
        }
    };
}
pub(crate) use store_suite;

pub fn appends_load_back_in_order(store: &mut dyn Store) {
    let room = key("a");
    let updates = typing(&Doc::new(), 5);
    append(store, &room, &updates[..2]);
    append(store, &room, &updates[2..]);
    let loaded = store.load(&room).unwrap();
    assert_eq!(loaded.updates, updates, "every update, in order");
    assert_eq!(text_of(&room, &loaded), "xxxxx");
    assert_eq!(store.log_len(&room).unwrap(), 5);
    assert_eq!(store.log_len(&key("other")).unwrap(), 0);
}

pub fn a_room_never_written_loads_empty(store: &mut dyn Store) {
    let room = key("nothing");
    assert!(store.load(&room).unwrap().updates.is_empty());
    assert!(store.read_log(&room).unwrap().is_none());
    assert_eq!(store.compact(&room).unwrap(), Compaction::Empty);
    assert_eq!(store.quarantine(&room, "test").unwrap(), 0);
    assert!(store.rooms().unwrap().is_empty());
}

pub fn compaction_keeps_the_document_and_shortens_the_log(store: &mut dyn Store) {
    let room = key("a");
    let updates = typing(&Doc::new(), 301);
    append(store, &room, &updates[..300]);
    assert_eq!(store.log_len(&room).unwrap(), 300);

    assert_eq!(store.compact(&room).unwrap(), Compaction::Written);
    assert_eq!(store.log_len(&room).unwrap(), 0);
    let loaded = store.load(&room).unwrap();
    assert_eq!(loaded.updates.len(), 1, "one snapshot");
    assert_eq!(text_of(&room, &loaded), "x".repeat(300));

    // Appends after a compaction land on top of the snapshot.
    append(store, &room, &updates[300..]);
    assert_eq!(text_of(&room, &store.load(&room).unwrap()), "x".repeat(301));
    assert_eq!(store.compact(&room).unwrap(), Compaction::Written);
    assert_eq!(store.compact(&room).unwrap(), Compaction::Empty);
}

/// Longer than the chunks SQLite deletes in, next to another room's log.
pub fn compaction_folds_a_long_log(store: &mut dyn Store) {
    let room = key("a");
    let other = key("b");
    let n = 4_017;
    append(store, &room, &typing(&Doc::new(), n));
    append(store, &other, &typing(&Doc::new(), 5));

    assert_eq!(store.compact(&room).unwrap(), Compaction::Written);
    assert_eq!(store.log_len(&room).unwrap(), 0);
    assert_eq!(text_of(&room, &store.load(&room).unwrap()), "x".repeat(n));
    assert_eq!(
        store.log_len(&other).unwrap(),
        5,
        "another room's log stays"
    );
}

pub fn an_update_waiting_for_its_dependency_is_not_compacted_away(store: &mut dyn Store) {
    let room = key("c");
    let updates = typing(&Doc::new(), 3);
    // The second keystroke arrives without the first.
    append(store, &room, &updates[1..2]);
    assert_eq!(store.compact(&room).unwrap(), Compaction::Waiting);
    assert_eq!(store.log_len(&room).unwrap(), 1, "kept as a log entry");
    append(store, &room, &updates[0..1]);
    append(store, &room, &updates[2..3]);
    assert_eq!(store.compact(&room).unwrap(), Compaction::Written);
    assert_eq!(store.log_len(&room).unwrap(), 0);
    assert_eq!(text_of(&room, &store.load(&room).unwrap()), "xxx");
}

pub fn rooms_lists_what_is_stored(store: &mut dyn Store) {
    append(store, &key("b"), &typing(&Doc::new(), 1));
    append(store, &key("a"), &typing(&Doc::new(), 1));
    append(
        store,
        &super::RoomKey::new("f", "a"),
        &typing(&Doc::new(), 1),
    );
    store.compact(&key("a")).unwrap();
    assert_eq!(
        store.rooms().unwrap(),
        vec![key("a"), key("b"), super::RoomKey::new("f", "a")],
        "snapshots and logs, each room once, in order"
    );
}

pub fn quarantine_moves_everything_aside(store: &mut dyn Store) {
    let room = key("q");
    let updates = typing(&Doc::new(), 4);
    append(store, &room, &updates[..2]);
    store.compact(&room).unwrap();
    append(store, &room, &updates[2..]);
    assert_eq!(store.quarantine(&room, "fails the screen").unwrap(), 3);
    assert!(store.load(&room).unwrap().updates.is_empty());
    assert!(store.rooms().unwrap().is_empty());

    // The room starts afresh; a compaction read before cannot reach it.
    append(store, &room, &updates[..1]);
    assert_eq!(text_of(&room, &store.load(&room).unwrap()), "x");
}

pub fn events_and_secrets_are_kept(store: &mut dyn Store) {
    assert_eq!(store.load_event("x").unwrap(), None);
    store.save_event("b", "{\"v\":1}").unwrap();
    store.save_event("a", "{}").unwrap();
    store.save_event("b", "{\"v\":2}").unwrap();
    assert_eq!(store.load_event("b").unwrap().as_deref(), Some("{\"v\":2}"));
    assert_eq!(store.events().unwrap(), vec!["a", "b"]);

    assert_eq!(store.secret("s", "first").unwrap(), "first");
    assert_eq!(store.secret("s", "second").unwrap(), "first", "kept");
    store
        .set_secrets(&[
            ("s".to_string(), "renewed".to_string()),
            ("t".to_string(), "new".to_string()),
        ])
        .unwrap();
    assert_eq!(store.secret("s", "ignored").unwrap(), "renewed");
    assert_eq!(store.secret("t", "ignored").unwrap(), "new");
}

pub fn compaction_keeps_an_append_that_lands_between_its_read_and_its_write<S: Store>(
    mut mine: S,
    mut other: S,
) {
    super::testing::append_between_read_and_write_is_kept(&mut mine, &mut other);
}

pub fn compaction_gives_up_when_the_snapshot_changed_since_its_read<S: Store>(
    mut mine: S,
    mut other: S,
) {
    super::testing::changed_snapshot_makes_compaction_give_up(&mut mine, &mut other);
}

pub fn compaction_keeps_what_another_handle_appends_meanwhile<S: Store>(mut mine: S, mut other: S) {
    let room = key("b");
    let updates = typing(&Doc::new(), 20);
    append(&mut mine, &room, &updates[..10]);
    mine.compact(&room).unwrap();
    append(&mut other, &room, &updates[10..]);
    mine.compact(&room).unwrap();
    assert_eq!(text_of(&room, &mine.load(&room).unwrap()), "x".repeat(20));
    assert_eq!(text_of(&room, &other.load(&room).unwrap()), "x".repeat(20));
}

/// Two writers (two threads here, two nodes in a cluster) appending to the
/// same rooms at once, while a third handle compacts: every update lands.
pub fn appends_from_two_handles_at_once_all_land<S: Store>(mine: S, other: S) {
    let rooms = [key("shared-a"), key("shared-b")];
    let mut compactor = mine.reopen().unwrap();
    // Each writer types into its own text of each room, so the merged
    // document shows whose updates are there.
    let write = |mut store: S, name: &'static str| {
        let doc = Doc::with_client_id(if name == "one" { 1 } else { 2 });
        let text = doc.get_or_insert_text(name);
        let rooms = rooms.clone();
        move || {
            for i in 0..200u32 {
                let update = {
                    let mut txn = doc.transact_mut();
                    text.insert(&mut txn, i, "x");
                    txn.encode_update_v1()
                };
                // Each update to both rooms in one batch, the rooms in
                // opposite orders by the two writers.
                let mut batch = vec![
                    (rooms[0].clone(), update.clone()),
                    (rooms[1].clone(), update),
                ];
                if name == "two" {
                    batch.reverse();
                }
                let records: Vec<_> = batch
                    .into_iter()
                    .map(|(room, update)| super::AppendRecord {
                        room,
                        update: bytes::Bytes::from(update),
                    })
                    .collect();
                store.append(&records).unwrap();
            }
        }
    };
    std::thread::scope(|scope| {
        let one = scope.spawn(write(mine, "one"));
        let two = scope.spawn(write(other, "two"));
        while !one.is_finished() || !two.is_finished() {
            for room in &rooms {
                compactor.compact(room).unwrap();
            }
        }
        one.join().unwrap();
        two.join().unwrap();
    });
    for room in &rooms {
        let stored = compactor.load(room).unwrap();
        let doc = super::build_doc(room, stored.updates.iter().map(Vec::as_slice)).unwrap();
        let txn = doc.transact();
        for name in ["one", "two"] {
            let text = txn.get_text(name).expect("the writer's text");
            assert_eq!(text.get_string(&txn), "x".repeat(200), "{room} {name}");
        }
        let distinct: BTreeSet<_> = stored.updates.iter().collect();
        assert_eq!(
            distinct.len(),
            stored.updates.len(),
            "no entry stored twice"
        );
    }
}
