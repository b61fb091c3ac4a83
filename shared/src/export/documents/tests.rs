//! The archive of version 2: the day's documents written and read back, byte for byte and
//! by content; anonymous archives; refusals; version 1 still reads.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use yrs::{Any, Doc, Map, MapPrelim, Transact, WriteTxn};

use super::*;
use crate::closing::{StepInput, StepSource, add_step, read_steps};
use crate::event::Event;
use crate::export::ExportOptions;
use crate::export::json::{read_archive, write_archive};
use crate::lecture::{InsightDraft, InsightKind, insert_insight, read_lecture, write_pins};
use crate::market::{TipDraft, TipKind, ensure_stand_meta, insert_tip, read_stand};
use crate::room::stand_room;
use crate::snapshot::TableState;

fn options() -> ExportOptions {
    ExportOptions::new(1_654_788_600_000)
}

/// A day with a stand (OT 2) that has texts and a tip, a pinned lecture insight, a next
/// step from that insight, and the lecture's ballots.
fn day(event: &Event) -> Vec<DocumentState> {
    let team = event.team(2).expect("team 2");
    let stand = Doc::new();
    ensure_stand_meta(&stand, team, "Markt");
    crate::market::write_stand_texts(&stand, "Halverwege", "Elke wijk een plein");
    insert_tip(
        &mut stand.transact_mut(),
        &TipDraft {
            id: "tip1".into(),
            kind: TipKind::Tip,
            text: "Begin bij de bewoners".into(),
            author: "Bo".into(),
            author_id: "bo-id".into(),
            now_ms: 5,
        },
    );
    let lecture = Doc::new();
    {
        let mut txn = lecture.transact_mut();
        insert_insight(
            &mut txn,
            &InsightDraft {
                id: "ins1".into(),
                text: "Ruimte is schaars".into(),
                kind: InsightKind::Inzicht,
                author: "Anna".into(),
                author_id: "anna-id".into(),
                now_ms: 6,
            },
        );
        write_pins(&mut txn, &["ins1".to_string()]);
    }
    let ballots = Doc::new();
    {
        let mut txn = ballots.transact_mut();
        let all = txn.get_or_insert_map(BALLOTS);
        let mine = all.insert(&mut txn, "voter-zed", MapPrelim::default());
        mine.insert(&mut txn, "ins1", Any::Bool(true));
    }
    let closing = Doc::new();
    add_step(
        &mut closing.transact_mut(),
        event,
        "step1",
        StepInput {
            text: "Werksessie plannen".into(),
            source: Some(StepSource::Lecture {
                insight: "ins1".into(),
            }),
            ..StepInput::default()
        },
        7,
    )
    .expect("a valid step");
    // Given out of order: the archive puts them in `archived_rooms` order.
    vec![
        DocumentState::encode(stand_room(2), &stand),
        DocumentState::encode("zaal/ballots", &ballots),
        DocumentState::encode("zaal", &lecture),
        DocumentState::encode(CLOSING_DOCUMENT, &closing),
    ]
}

fn tables(event: &Event) -> Vec<TableState> {
    event
        .tables
        .iter()
        .map(|t| TableState::encode(t.id.clone(), &Doc::new()))
        .collect()
}

#[test]
fn the_builtin_event_archives_its_whole_day() {
    let event = Event::builtin();
    assert!(event.has_lecture() && event.has_market(), "the seed's day");
    let rooms = archived_rooms(&event);
    assert_eq!(rooms[..3], ["closing/next-steps", "zaal", "zaal/ballots"]);
    assert!(rooms.contains(&"markt-ot6".to_string()));
    assert!(rooms.contains(&"markt-ot6/useful".to_string()));
    assert!(rooms.contains(&"a/ballots".to_string()));
}

#[test]
fn an_archive_of_version_2_keeps_the_day_and_reads_back_byte_identical() {
    let event = Event::builtin();
    let first = write_archive(&event, &tables(&event), &day(&event), &options()).expect("writes");
    let json: serde_json::Value = serde_json::from_slice(&first).expect("JSON");
    assert_eq!(json["version"], 2);
    let rooms: Vec<&str> = json["documents"]
        .as_array()
        .expect("documents")
        .iter()
        .map(|d| d["room"].as_str().expect("room"))
        .collect();
    assert_eq!(
        rooms,
        ["closing/next-steps", "zaal", "zaal/ballots", "markt-ot2"]
    );

    let archive = read_archive(&first).expect("reads back");
    assert_eq!(archive.documents.len(), 4);
    let doc = |room: &str| {
        archive
            .documents
            .iter()
            .find(|d| d.room == room)
            .expect("archived")
            .to_doc()
            .expect("applies")
    };
    let steps = read_steps(&doc(CLOSING_DOCUMENT));
    assert_eq!(steps[0].text, "Werksessie plannen");
    let lecture = read_lecture(&doc("zaal"));
    assert_eq!(
        (lecture.items[0].text.as_str(), lecture.items[0].pinned),
        ("Ruimte is schaars", Some(0))
    );
    let stand = read_stand(&doc("markt-ot2"), event.team(2).expect("team"));
    assert_eq!(stand.status, "Halverwege");
    assert_eq!(stand.tips[0].text, "Begin bij de bewoners");

    let second = write_archive(
        &archive.event,
        &archive.tables,
        &archive.documents,
        &options(),
    )
    .expect("writes again");
    assert!(
        first == second,
        "export → read → export changed the archive"
    );
}

#[test]
fn an_anonymous_archive_clears_authors_and_renames_voters() {
    let event = Event::builtin();
    let mut options = options();
    options.authors = crate::export::Authors::Anonymous;
    let bytes = write_archive(&event, &tables(&event), &day(&event), &options).expect("writes");
    let archive = read_archive(&bytes).expect("reads back");
    for document in &archive.documents {
        let raw = String::from_utf8_lossy(&document.update).into_owned();
        for name in ["Anna", "anna-id", "Bo", "bo-id", "voter-zed"] {
            assert!(!raw.contains(name), "{name} left in {}", document.room);
        }
    }
    let ballots = archive
        .documents
        .iter()
        .find(|d| d.room == "zaal/ballots")
        .expect("ballots kept")
        .to_doc()
        .expect("applies");
    let txn = ballots.transact();
    let all = txn.get_map(BALLOTS).expect("ballots");
    let Some(yrs::Out::YMap(voter)) = all.get(&txn, "anoniem-1") else {
        panic!("the voter is renamed");
    };
    assert!(voter.get(&txn, "ins1").is_some(), "the vote is kept");
}

#[test]
fn documents_outside_the_day_twice_or_broken_are_refused() {
    let event = Event::builtin();
    let good = write_archive(&event, &tables(&event), &day(&event), &options()).expect("writes");
    let with = |edit: &dyn Fn(&mut serde_json::Value)| {
        let mut v: serde_json::Value = serde_json::from_slice(&good).expect("JSON");
        edit(&mut v);
        serde_json::to_vec(&v).expect("serializes")
    };
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "a table's room",
            with(&|v| v["documents"][0]["room"] = "a".into()),
            "not a document of this event's day",
        ),
        (
            "a stand the market lacks",
            with(&|v| v["documents"][0]["room"] = "markt-ot9".into()),
            "not a document of this event's day",
        ),
        (
            "twice",
            with(&|v| v["documents"][1]["room"] = "closing/next-steps".into()),
            "more than once",
        ),
        (
            "bad base64",
            with(&|v| v["documents"][1]["state"] = "@@@".into()),
            "base64",
        ),
        (
            "not an update",
            with(&|v| v["documents"][1]["state"] = BASE64.encode([0xff, 0xff, 0xff]).into()),
            "Yjs",
        ),
        (
            "a version 1 archive with documents",
            with(&|v| v["version"] = 1.into()),
            "version 1 archive holds no documents",
        ),
    ];
    for (what, bytes, needle) in cases {
        match read_archive(&bytes) {
            Ok(_) => panic!("{what}: accepted"),
            Err(err) => assert!(
                err.to_string().contains(needle),
                "{what}: expected {needle:?} in {err}"
            ),
        }
    }
    let unknown = DocumentState {
        room: "elders".into(),
        update: Vec::new(),
    };
    assert!(write_archive(&event, &tables(&event), &[unknown], &options()).is_err());
}

#[test]
fn an_archive_of_version_1_still_reads_as_the_tables_only() {
    let event = Event::builtin();
    let v2 = write_archive(&event, &tables(&event), &[], &options()).expect("writes");
    let mut v1: serde_json::Value = serde_json::from_slice(&v2).expect("JSON");
    v1["version"] = 1.into();
    v1.as_object_mut().expect("object").remove("documents");
    let archive = read_archive(&serde_json::to_vec(&v1).expect("JSON")).expect("version 1 reads");
    assert_eq!(archive.tables.len(), event.tables.len());
    assert!(archive.documents.is_empty());
}

#[test]
fn an_empty_document_is_empty() {
    assert!(DocumentState::encode("zaal", &Doc::new()).is_empty());
    assert!(!day(&Event::builtin())[0].is_empty());
}
