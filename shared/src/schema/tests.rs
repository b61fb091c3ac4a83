//! Tests for the table document schema: what we write reads back, also through a second replica.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use yrs::updates::decoder::Decode;
use yrs::{
    Any, Doc, GetString, Map, Number, Out, ReadTxn, Text, TextRef, Transact, Update, WriteTxn,
};

use super::*;
use crate::event::Event;

fn draft(id: &str, text: &str, lane: Lane, x: f64, y: f64) -> NoteDraft {
    NoteDraft {
        id: id.to_owned(),
        text: text.to_owned(),
        lane,
        color: NoteColor::Roze,
        x,
        y,
        author: "Anna".to_owned(),
        author_id: "dev-anna-1".to_owned(),
        now_ms: 1_650_000_000_123,
    }
}

fn insert(doc: &Doc, draft: &NoteDraft) {
    insert_note(&mut doc.transact_mut(), draft);
}

/// Brings `to` up to date with everything `from` has, as the sync protocol would.
fn sync(from: &Doc, to: &Doc) {
    let state = to.transact().state_vector();
    let update = from.transact().encode_state_as_update_v1(&state);
    let update = Update::decode_v1(&update).expect("a replica's update decodes");
    to.transact_mut()
        .apply_update(update)
        .expect("a replica's update applies");
}

fn note_text(doc: &Doc, id: &str) -> TextRef {
    let txn = doc.transact();
    let notes = txn.get_map(NOTES).expect("notes map exists");
    let Some(Out::YMap(note)) = notes.get(&txn, id) else {
        panic!("note {id:?} is not a map");
    };
    match note.get(&txn, "text") {
        Some(Out::YText(text)) => text,
        other => panic!("text of note {id:?} is not a Y.Text: {other:?}"),
    }
}

/// Counts the updates a document emits from now on.
fn count_updates(doc: &Doc) -> Arc<AtomicUsize> {
    let count = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&count);
    doc.observe_update_v1("count", move |_, _| {
        seen.fetch_add(1, Ordering::SeqCst);
    })
    .expect("no transaction is open");
    count
}

#[test]
fn ensure_meta_writes_once() {
    let event = Event::builtin();
    let table = event.table("a").expect("table a");
    let doc = Doc::with_client_id(1);
    let updates = count_updates(&doc);

    assert!(ensure_meta(&doc, &event, table), "first call writes meta");
    assert_eq!(
        updates.load(Ordering::SeqCst),
        1,
        "one update for the write"
    );
    let state = doc.transact().state_vector();

    assert!(!ensure_meta(&doc, &event, table), "second call finds meta");
    assert_eq!(
        updates.load(Ordering::SeqCst),
        1,
        "no update the second time"
    );
    assert_eq!(doc.transact().state_vector(), state);
}

#[test]
fn ensure_meta_keeps_meta_synced_from_elsewhere() {
    let event = Event::builtin();
    let server = Doc::with_client_id(1);
    ensure_meta(&server, &event, event.table("b").expect("table b"));
    let restarted = Doc::with_client_id(2);
    sync(&server, &restarted);
    assert!(!ensure_meta(
        &restarted,
        &event,
        event.table("b").expect("table b")
    ));
    assert_eq!(read_meta(&restarted), read_meta(&server));
}

#[test]
fn read_meta_round_trips() {
    let event = Event::builtin();
    let table = event.table("a").expect("table a");
    let doc = Doc::new();
    assert_eq!(read_meta(&doc), None, "no meta before ensure_meta");

    ensure_meta(&doc, &event, table);
    let meta = read_meta(&doc).expect("meta was written");
    assert_eq!(meta, TableMeta::from_event(&event, table));
    assert_eq!(meta.schema_version, SCHEMA_VERSION);
    assert_eq!(meta.table_id.as_str(), "a");
    assert_eq!(meta.cases.len(), 4);
    let teams: Vec<(u32, &str)> = meta
        .teams
        .iter()
        .map(|t| (t.number, t.name.as_str()))
        .collect();
    assert_eq!(
        teams,
        [
            (2, "Stedelijk programmeren en samenwerken"),
            (6, "Harmonisatie regelgeving")
        ]
    );
    assert_eq!(meta.teams[1].focus.len(), 4);
}

#[test]
fn meta_holds_plain_values_with_schema_key_names() {
    let event = Event::builtin();
    let doc = Doc::new();
    ensure_meta(&doc, &event, event.table("c").expect("table c"));
    let txn = doc.transact();
    let meta = txn.get_map(META).expect("meta exists");
    let mut keys: Vec<String> = meta.keys(&txn).map(str::to_owned).collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "cases",
            "cluster",
            "question",
            "schemaVersion",
            "tableId",
            "teams",
            "title"
        ]
    );
    for (name, value) in meta.iter(&txn) {
        assert!(
            matches!(value, Out::Any(_)),
            "meta.{name} should be a plain value, got {value:?}"
        );
    }
    let Some(Out::Any(Any::Map(cluster))) = meta.get(&txn, "cluster") else {
        panic!("meta.cluster is not a plain map");
    };
    assert_eq!(cluster.get("id"), Some(&Any::from("C")));
}

#[test]
fn insert_read_delete_notes() {
    let doc = Doc::new();
    assert!(read_notes(&doc).is_empty());
    assert_eq!(note_count(&doc), 0);

    insert(
        &doc,
        &draft("note-0001", "Goed overleg", Lane::Goed, 10.0, 20.5),
    );
    insert(
        &doc,
        &draft("note-0002", "Data delen", Lane::Vervolgstap, 0.0, 0.0),
    );
    assert_eq!(note_count(&doc), 2);

    let notes = read_notes(&doc);
    assert_eq!(
        notes[0],
        Note {
            id: "note-0001".into(),
            text: "Goed overleg".into(),
            lane: Lane::Goed,
            color: NoteColor::Roze,
            x: 10.0,
            y: 20.5,
            author: "Anna".into(),
            author_id: "dev-anna-1".into(),
            created_at: 1_650_000_000_123,
            updated_at: 1_650_000_000_123,
            owner: String::new(),
            due: String::new(),
            group: None,
            votes: 0,
            provenance: None,
        }
    );
    assert_eq!(notes[1].id, "note-0002");

    assert!(delete_note(&mut doc.transact_mut(), "note-0001"));
    assert!(!delete_note(&mut doc.transact_mut(), "note-0001"));
    let ids: Vec<String> = read_notes(&doc).into_iter().map(|n| n.id).collect();
    assert_eq!(ids, ["note-0002"]);
}

#[test]
fn delete_without_notes_map_is_false() {
    let doc = Doc::new();
    assert!(!delete_note(&mut doc.transact_mut(), "nothing-here"));
}

#[test]
fn note_keys_and_types_follow_the_schema() {
    let doc = Doc::new();
    insert(&doc, &draft("note-0001", "x", Lane::Doorpakken, 1.0, 2.0));
    let txn = doc.transact();
    let notes = txn.get_map(NOTES).expect("notes exists");
    let Some(Out::YMap(note)) = notes.get(&txn, "note-0001") else {
        panic!("note is not a Y.Map");
    };
    let mut keys: Vec<String> = note.keys(&txn).map(str::to_owned).collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "author",
            "authorId",
            "color",
            "createdAt",
            "lane",
            "text",
            "updatedAt",
            "x",
            "y"
        ]
    );
    assert!(matches!(note.get(&txn, "text"), Some(Out::YText(_))));
    assert_eq!(
        note.get(&txn, "lane"),
        Some(Out::Any(Any::from("doorpakken")))
    );
    for name in ["x", "y", "createdAt", "updatedAt"] {
        assert!(
            matches!(
                note.get(&txn, name),
                Some(Out::Any(Any::Number(Number::Float(_))))
            ),
            "{name} should be written as a float (a JS number)"
        );
    }
}

#[test]
fn note_written_in_one_replica_reads_the_same_in_another() {
    let alice = Doc::with_client_id(1);
    let bob = Doc::with_client_id(2);
    insert(
        &alice,
        &draft("note-0001", "Samen de puzzel leggen", Lane::Goed, 5.0, 7.0),
    );
    insert(
        &alice,
        &draft("note-0002", "Routekaart", Lane::Doorpakken, 0.0, 0.0),
    );
    sync(&alice, &bob);
    assert_eq!(read_notes(&bob), read_notes(&alice));
    assert_eq!(note_count(&bob), 2);

    delete_note(&mut bob.transact_mut(), "note-0002");
    sync(&bob, &alice);
    assert_eq!(note_count(&alice), 1);
}

#[test]
fn concurrent_text_edits_merge() {
    let alice = Doc::with_client_id(1);
    let bob = Doc::with_client_id(2);
    insert(&alice, &draft("note-0001", "fiets", Lane::Goed, 0.0, 0.0));
    sync(&alice, &bob);

    let text = note_text(&alice, "note-0001");
    text.insert(&mut alice.transact_mut(), 0, "De ");
    let text = note_text(&bob, "note-0001");
    text.push(&mut bob.transact_mut(), "professor");
    sync(&alice, &bob);
    sync(&bob, &alice);

    let merged = read_notes(&alice)[0].text.clone();
    assert_eq!(merged, "De fietsprofessor");
    assert_eq!(read_notes(&bob)[0].text, merged);
    assert_eq!(
        note_text(&bob, "note-0001").get_string(&bob.transact()),
        merged
    );
}

#[test]
fn emoji_and_long_text_survive() {
    let alice = Doc::with_client_id(1);
    let bob = Doc::with_client_id(2);
    let emoji = "Fietsen 🚲 + groen 🌳🌳 = blij 👩🏽‍🔬 — één café";
    let long = "Meer ruimte voor de fiets. ".repeat(400);
    insert(&alice, &draft("note-emoji", emoji, Lane::Goed, 0.0, 0.0));
    insert(&alice, &draft("note-long", &long, Lane::Goed, 0.0, 1.0));
    sync(&alice, &bob);
    let notes = read_notes(&bob);
    assert_eq!(notes[0].text, emoji);
    assert_eq!(notes[1].text, long);
}

#[test]
fn entries_that_are_not_maps_are_skipped() {
    let doc = Doc::new();
    insert(&doc, &draft("note-0001", "echt", Lane::Goed, 0.0, 0.0));
    {
        let mut txn = doc.transact_mut();
        let notes = txn.get_or_insert_map(NOTES);
        notes.insert(&mut txn, "not-a-note", "just a string");
        notes.insert(&mut txn, "a-number", 42);
        notes.insert(&mut txn, "a-text", TextPrelim::new("text, not a map"));
    }
    assert_eq!(note_count(&doc), 1);
    let ids: Vec<String> = read_notes(&doc).into_iter().map(|n| n.id).collect();
    assert_eq!(ids, ["note-0001"]);
}

#[test]
fn missing_and_unknown_fields_get_defaults() {
    let doc = Doc::new();
    {
        let mut txn = doc.transact_mut();
        let notes = txn.get_or_insert_map(NOTES);
        let note = notes.insert(&mut txn, "bare-note", MapPrelim::default());
        note.insert(&mut txn, "lane", "onbekend");
        note.insert(&mut txn, "color", "magenta");
        note.insert(&mut txn, "x", "not a number");
        note.insert(&mut txn, "text", "a plain string");
        note.insert(&mut txn, "futureKey", true);
    }
    let note = &read_notes(&doc)[0];
    assert_eq!(note.lane, Lane::Goed);
    assert_eq!(note.color, NoteColor::Geel);
    assert_eq!((note.x, note.y), (0.0, 0.0));
    assert_eq!(note.text, "a plain string");
    assert_eq!(note.author, "");
    assert_eq!(note.created_at, 0);
}

#[test]
fn js_style_numbers_and_bigints_read() {
    // Yjs in a browser writes small integers as varints and other numbers as float64; a BigInt
    // (or an i64 beyond 2^53) arrives as a 64-bit integer. Every numeric field takes each form.
    let beyond_f64 = (1_i64 << 53) + 1;
    let writer = Doc::with_client_id(1);
    {
        let mut txn = writer.transact_mut();
        let notes = txn.get_or_insert_map(NOTES);
        let ints = notes.insert(&mut txn, "ints", MapPrelim::default());
        ints.insert(&mut txn, "x", Any::Number(Number::Int(120)));
        ints.insert(&mut txn, "y", Any::Number(Number::Int(-4)));
        ints.insert(&mut txn, "createdAt", Any::Number(Number::Int(beyond_f64)));
        ints.insert(
            &mut txn,
            "updatedAt",
            Any::Number(Number::Int(1_650_000_000_000)),
        );
        let floats = notes.insert(&mut txn, "floats", MapPrelim::default());
        floats.insert(&mut txn, "lane", "vervolgstap");
        floats.insert(&mut txn, "x", 12.75);
        floats.insert(&mut txn, "y", 0.5);
        floats.insert(&mut txn, "createdAt", 1_650_000_000_000.0);
        floats.insert(&mut txn, "updatedAt", 1_650_000_000_001.4);
    }
    // Read through an encoded update, so the values take their wire encodings.
    let reader = Doc::with_client_id(2);
    sync(&writer, &reader);
    let notes = read_notes(&reader);

    let ints = notes.iter().find(|n| n.id == "ints").expect("ints note");
    assert_eq!((ints.x, ints.y), (120.0, -4.0));
    assert_eq!(ints.created_at, beyond_f64);
    assert_eq!(ints.updated_at, 1_650_000_000_000);

    let floats = notes
        .iter()
        .find(|n| n.id == "floats")
        .expect("floats note");
    assert_eq!((floats.x, floats.y), (12.75, 0.5));
    assert_eq!(floats.created_at, 1_650_000_000_000);
    assert_eq!(floats.updated_at, 1_650_000_000_001);
}

#[test]
fn notes_are_sorted_by_lane_then_position_then_id() {
    let doc = Doc::new();
    insert(&doc, &draft("n-vervolg", "", Lane::Vervolgstap, 0.0, 0.0));
    insert(&doc, &draft("n-goed-low", "", Lane::Goed, 0.0, 300.0));
    insert(&doc, &draft("n-goed-right", "", Lane::Goed, 200.0, 10.0));
    insert(&doc, &draft("n-goed-left", "", Lane::Goed, 10.0, 10.0));
    insert(&doc, &draft("n-goed-left-b", "", Lane::Goed, 10.0, 10.0));
    insert(&doc, &draft("n-door", "", Lane::Doorpakken, 0.0, 0.0));
    let ids: Vec<String> = read_notes(&doc).into_iter().map(|n| n.id).collect();
    assert_eq!(
        ids,
        [
            "n-goed-left",
            "n-goed-left-b",
            "n-goed-right",
            "n-goed-low",
            "n-door",
            "n-vervolg"
        ]
    );
}

#[test]
fn lanes_and_colors_parse_and_serialize_lowercase() {
    for lane in Lane::ALL {
        assert_eq!(Lane::parse(lane.as_str()), Some(lane));
        let json = serde_json::to_string(&lane).expect("serializes");
        assert_eq!(json, format!("\"{}\"", lane.as_str()));
    }
    for color in NoteColor::ALL {
        assert_eq!(NoteColor::parse(color.as_str()), Some(color));
        let json = serde_json::to_string(&color).expect("serializes");
        assert_eq!(json, format!("\"{}\"", color.as_str()));
    }
    assert_eq!(Lane::parse("Goed"), None);
    assert_eq!(NoteColor::parse("rood"), None);
}

#[test]
fn note_serializes_with_camel_case_keys() {
    let doc = Doc::new();
    insert(&doc, &draft("note-0001", "hoi", Lane::Goed, 0.0, 0.0));
    let json = serde_json::to_value(&read_notes(&doc)[0]).expect("serializes");
    assert_eq!(json["authorId"], "dev-anna-1");
    assert_eq!(json["createdAt"], 1_650_000_000_123_i64);
    assert_eq!(json["lane"], "goed");
}

#[test]
fn a_note_keeps_the_market_tip_it_came_from() {
    let doc = Doc::new();
    let mut note = draft("from-market-1", "Intervisie", Lane::Doorpakken, 0.0, 0.0);
    note.text = "Intervisie tussen gemeenten".into();
    insert(&doc, &note);
    let from = Provenance {
        stand: "markt-ot6".into(),
        tip: "tip-1".into(),
    };
    assert!(set_provenance(
        &mut doc.transact_mut(),
        "from-market-1",
        &from
    ));
    assert!(!set_provenance(&mut doc.transact_mut(), "ghost", &from));
    let read = read_notes(&doc);
    assert_eq!(read[0].provenance.as_ref(), Some(&from));
    assert_eq!(from.short_label(), "markt OT 6");
    assert_eq!(
        from.label(&Event::builtin()),
        "markt OT 6 (Harmonisatie regelgeving)"
    );
    // The summary's JSON carries it; a note without one has no key at all.
    let view = crate::summary::NoteView::from(&read[0]);
    let json = serde_json::to_value(&view).expect("serializes");
    assert_eq!(
        json["provenance"],
        serde_json::json!({ "stand": "markt-ot6", "tip": "tip-1" })
    );
    insert(&doc, &draft("plain-0001", "Gewoon", Lane::Goed, 0.0, 0.0));
    let plain = read_notes(&doc)
        .into_iter()
        .find(|n| n.id == "plain-0001")
        .expect("note");
    let json = serde_json::to_value(crate::summary::NoteView::from(&plain)).expect("serializes");
    assert!(json.get("provenance").is_none());

    // A malformed provenance (a client's) reads as none.
    {
        let mut txn = doc.transact_mut();
        let notes = txn.get_or_insert_map(NOTES);
        if let Some(Out::YMap(n)) = notes.get(&txn, "plain-0001") {
            n.insert(&mut txn, key::PROVENANCE, "markt-ot6");
        }
    }
    let plain = read_notes(&doc)
        .into_iter()
        .find(|n| n.id == "plain-0001")
        .expect("note");
    assert_eq!(plain.provenance, None);
}

#[test]
fn the_provenance_keys_match_the_fixture() {
    let fixture: serde_json::Value =
        serde_json::from_str(include_str!("../../schema/schema.json")).expect("parses");
    assert_eq!(
        fixture["noteProvenanceKeys"],
        serde_json::json!([key::PROVENANCE_STAND, key::PROVENANCE_TIP])
    );
    assert_eq!(
        fixture["noteProvenance"],
        serde_json::json!(key::PROVENANCE)
    );
}
