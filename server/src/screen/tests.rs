//! The scan's rules, one update shape each: what passes, what is refused and why.

use super::*;
use yrs::updates::decoder::Decode;
use yrs::{Doc, GetString, ReadTxn, StateVector, Text, Transact, Update};

fn typed(doc: &Doc, at: u32, text: &str) -> Vec<u8> {
    let field = doc.get_or_insert_text("t");
    let mut txn = doc.transact_mut();
    field.insert(&mut txn, at, text);
    txn.encode_update_v1()
}

fn refused(update: &[u8], because: &str) {
    let error = scan(update).expect_err("refused");
    assert!(error.contains(because), "{error}");
}

#[test]
fn a_keystroke_is_one_item() {
    let doc = Doc::with_client_id(7);
    typed(&doc, 0, "hallo");
    let update = typed(&doc, 2, "😀é");
    let items = scan(&update).expect("well formed").items;
    // The emoji counts two UTF-16 units, as Yjs counts it.
    assert_eq!(
        items
            .iter()
            .map(|i| (i.client, i.clock, i.len))
            .collect::<Vec<_>>(),
        [(ClientID::new(7), 5, 3)]
    );
}

#[test]
fn legacy_json_content_is_refused() {
    // One block of client 0 at clock 0: info 2 (JSON, no origins),
    // parent named "t", a JSON content that says 0 strings and has one.
    // yrs reads the one string anyway and writes the count as 1, which
    // it then reads as two: the document could never be encoded again.
    let update: &[u8] = &[1, 1, 0, 0, 2, 1, 1, b't', 0, 2, b'{', b'}', 0];
    assert!(Update::decode_v1(update).is_ok(), "yrs reads it");
    refused(update, "legacy JSON");
}

#[test]
fn a_content_ref_yjs_does_not_know_is_refused() {
    // Info 0x14: a string content with bit 4 set, which yrs reads as 4
    // and Yjs refuses.
    let update: &[u8] = &[1, 1, 0, 0, 0x14, 1, 1, b't', 1, b'x', 0];
    assert!(Update::decode_v1(update).is_ok(), "yrs reads it");
    refused(update, "unknown content ref 20");
}

#[test]
fn a_block_whose_clock_overflows_is_refused() {
    // A collected block of client 96 at clock 2 whose length (an
    // eight-byte varint) reads as u32::MAX in yrs: release builds used
    // to wrap it into an inverted range that broke every later encode.
    let update: &[u8] = &[1, 1, 96, 2, 0, 255, 255, 255, 255, 255, 255, 255, 4, 0];
    refused(update, "exceeds 2^32");
    let update: &[u8] = &[1, 1, 96, 2, 0, 255, 255, 255, 255, 15, 0];
    refused(update, "runs past 2^32");
    // The same in a delete set.
    let update: &[u8] = &[0, 1, 96, 1, 2, 255, 255, 255, 255, 15];
    refused(update, "deleted range of client 96 at clock 2 runs past");
}

#[test]
fn deep_nesting_is_refused_before_yrs_recurses() {
    // An array value nested 100,000 deep: yrs' decoder overflowed the
    // stack on it (the process aborted).
    let mut update = vec![1, 1, 5, 0, ANY, 1, 1, b't', 1];
    for _ in 0..100_000 {
        update.extend([117, 1]);
    }
    update.extend([126, 0]);
    refused(&update, "nested deeper than 64");
    // Up to the limit it is fine.
    let mut update = vec![1, 1, 5, 0, ANY, 1, 1, b't', 1];
    for _ in 0..MAX_ANY_DEPTH - 1 {
        update.extend([117, 1]);
    }
    update.extend([126, 0]);
    assert!(scan(&update).is_ok());
}

#[test]
fn shapes_yjs_and_yrs_read_differently_are_refused() {
    // A GC ref with an origin flag: Yjs reads a GC, yrs an item.
    refused(&[1, 1, 5, 0, 0x80, 1, 0, 0], "unknown content ref 0");
    // An XML hook: Yjs reads its name, yrs does not.
    refused(&[1, 1, 5, 0, TYPE, 1, 1, b't', 5, 1, b'h', 0], "XML hooks");
    // A subdocument.
    refused(
        &[1, 1, 5, 0, DOC, 1, 1, b't', 1, b'g', 126, 0],
        "subdocuments",
    );
    // The same client twice.
    refused(
        &[2, 1, 5, 0, 0, 1, 1, 5, 1, 0, 1, 0],
        "client 5 is listed twice",
    );
    // Bytes after the delete set.
    refused(&[0, 0, 0], "1 bytes follow");
    // Cut short.
    refused(&[1, 1, 5, 0, STRING, 1, 1, b't', 4, b'a'], "ends inside");
}

#[test]
fn a_block_beyond_the_clients_clock_is_a_hole() {
    let writer = Doc::with_client_id(9);
    let first = scan(&typed(&writer, 0, "a")).unwrap().items;
    let second_update = typed(&writer, 1, "b");
    let second = scan(&second_update).unwrap().items;
    let room = Doc::new();
    let mut clocks = Clocks::of(&room);
    let error = clocks.check(&second).expect_err("clock 1 without clock 0");
    assert!(error.contains("client 9 at clock 1"), "{error}");

    clocks.check(&first).expect("starts at 0");
    let whole = writer
        .transact()
        .encode_state_as_update_v1(&StateVector::default());
    room.transact_mut()
        .apply_update(Update::decode_v1(&whole).unwrap())
        .unwrap();
    clocks.advance(&first);
    clocks.advance(&second);
    assert_eq!(clocks.get(&ClientID::new(9)), 2);
    let text = room.get_or_insert_text("t");
    assert_eq!(text.get_string(&room.transact()), "ab");
}

#[test]
fn an_update_that_skips_what_the_room_has_passes() {
    // Client 9 at 0..1, a skip of 1, then 2..3: fine when the room has
    // clock 1 already, a hole when it does not.
    let update: &[u8] = &[
        1, 3, 9, 0, STRING, 1, 1, b't', 1, b'a', SKIP, 1, STRING, 1, 1, b't', 1, b'c', 0,
    ];
    let items = scan(update).unwrap().items;
    assert_eq!(items.len(), 2);
    let mut clocks = Clocks::default();
    assert!(clocks.check(&items).is_err());
    let mut skipped = items[0];
    skipped.len = 2;
    clocks.advance(&[skipped]);
    assert!(clocks.check(&items).is_ok());
}
