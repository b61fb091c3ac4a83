//! The lecture board's (`zaal`) and the closing document's names against the `lecture`
//! and `closing` parts of `shared/schema/schema.json`, and the Rust half of the lecture
//! document's round trip with the web client (`tests/e2e/schema.test.mjs` holds the other):
//!
//! - Rust → web: what `shared/src/lecture.rs` writes is checked in, byte for byte, as
//!   `shared/schema/lecture-from-rust.bin`; the web client's `LectureDoc` reads it.
//! - web → Rust: what the web client's `LectureDoc` writes is checked in as
//!   `shared/schema/lecture-from-web.bin`; [`read_lecture`] reads it here.
//!
//! A writer that changes makes its own side's check fail until the file is written
//! anew (`WERKTAFEL_BLESS_SCHEMA=1` on either test), and then the other side reads the
//! new file — so a change one reader does not follow fails a test.

use std::collections::BTreeSet;
use std::path::PathBuf;

use serde::Deserialize;
use yrs::updates::decoder::Decode;
use yrs::{Doc, Map, Out, ReadTxn, StateVector, Transact, Update};

use crate::closing::{self, FollowUp, StepInput, StepSource};
use crate::control::{CONTROL, SERVER_ONLY, VOTES};
use crate::event::Event;
use crate::lecture::{self, InsightDraft, InsightKind, insight_key};
use crate::room::LECTURE_ROOM;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct LectureFixture {
    room: String,
    roots: Vec<String>,
    server_only: Vec<String>,
    insight_keys: Vec<String>,
    insight_kinds: Vec<String>,
    control_pins_key: String,
    limits: LectureLimits,
    round_trip: RoundTrip,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct LectureLimits {
    insight_chars: usize,
    pins: usize,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RoundTrip {
    from_rust: String,
    from_web: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ClosingFixture {
    document: String,
    roots: Vec<String>,
    step_keys: Vec<String>,
    source_kinds: Vec<String>,
    follow_ups: Vec<String>,
    limits: ClosingLimits,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ClosingLimits {
    steps: usize,
    text_chars: usize,
    owner_chars: usize,
    due_chars: usize,
    insight_id_chars: usize,
}

fn part<T: serde::de::DeserializeOwned>(name: &str) -> T {
    let all: serde_json::Value =
        serde_json::from_str(include_str!("../../schema/schema.json")).expect("parses");
    serde_json::from_value(all[name].clone()).unwrap_or_else(|e| panic!("the {name} part: {e}"))
}

/// A path of the fixture (relative to the repository root) on disk.
fn repo_file(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(path)
}

fn set<S: AsRef<str>>(names: impl IntoIterator<Item = S>) -> BTreeSet<String> {
    names.into_iter().map(|s| s.as_ref().to_owned()).collect()
}

/// The keys of every entry of the top-level map `root`, and the values of `key` in them.
fn entries(doc: &Doc, root: &str, key: &str) -> (BTreeSet<String>, BTreeSet<String>) {
    let txn = doc.transact();
    let map = txn.get_map(root).expect("the root was written");
    let (mut keys, mut values) = (BTreeSet::new(), BTreeSet::new());
    for (_, entry) in map.iter(&txn) {
        let Out::YMap(entry) = entry else {
            panic!("{root} holds maps");
        };
        keys.extend(entry.keys(&txn).map(str::to_owned));
        values.insert(
            entry
                .get(&txn, key)
                .map(|v| v.to_string(&txn))
                .unwrap_or_default(),
        );
    }
    (keys, values)
}

fn draft(id: &str, text: &str, kind: InsightKind, now_ms: i64) -> InsightDraft {
    InsightDraft {
        id: id.into(),
        text: text.into(),
        kind,
        author: "Rust".into(),
        author_id: "rust-dev".into(),
        now_ms,
    }
}

/// The lecture document as the Rust side writes it for the web client to read: an insight
/// and a question, a +1 total and a pin. One total only, so the bytes do not depend on a
/// hash map's order.
fn written_by_rust() -> Doc {
    let doc = Doc::with_client_id(1);
    let mut txn = doc.transact_mut();
    let long = format!("Van Rust: {}", "x".repeat(300));
    lecture::insert_insight(
        &mut txn,
        &draft("rustInsight01", &long, InsightKind::Inzicht, 1_000),
    );
    lecture::insert_insight(
        &mut txn,
        &draft(
            "rustQuestion01",
            "Wie betaalt het?",
            InsightKind::Vraag,
            2_000,
        ),
    );
    lecture::write_plus_ones(&mut txn, &[("rustQuestion01".to_owned(), 4)].into());
    lecture::write_pins(&mut txn, &["rustInsight01".to_owned()]);
    drop(txn);
    doc
}

#[test]
fn the_lecture_names_match_the_fixture() {
    let f: LectureFixture = part("lecture");
    assert_eq!(LECTURE_ROOM, f.room);
    assert_eq!(set(lecture::LECTURE_ROOTS), set(&f.roots), "roots");
    assert_eq!(
        set(lecture::LECTURE_ROOTS
            .into_iter()
            .filter(|r| SERVER_ONLY.contains(r))),
        set(&f.server_only),
        "server-only roots the screen refuses"
    );
    assert_eq!(
        [InsightKind::Inzicht, InsightKind::Vraag]
            .map(|k| k.as_str().to_owned())
            .to_vec(),
        f.insight_kinds
    );
    assert_eq!(lecture::PINS, f.control_pins_key);
    assert_eq!(
        (lecture::MAX_INSIGHT_CHARS, lecture::MAX_PINS),
        (f.limits.insight_chars, f.limits.pins),
        "limits"
    );
    // What the writers write, not only the constants.
    let doc = written_by_rust();
    assert_eq!(
        set(doc.transact().root_refs().map(|(name, _)| name)),
        set(&f.roots)
    );
    let (keys, kinds) = entries(&doc, lecture::INSIGHTS, insight_key::KIND);
    assert_eq!(keys, set(&f.insight_keys), "keys of an insight");
    assert_eq!(kinds, set(&f.insight_kinds), "kinds written");
    let txn = doc.transact();
    let control = txn.get_map(CONTROL).expect("control");
    assert_eq!(set(control.keys(&txn)), set([&f.control_pins_key]));
    assert!(txn.get_map(VOTES).is_some());
}

#[test]
fn the_lecture_document_from_rust_is_the_checked_in_one() {
    let f: LectureFixture = part("lecture");
    let update = written_by_rust()
        .transact()
        .encode_state_as_update_v1(&StateVector::default());
    let path = repo_file(&f.round_trip.from_rust);
    if std::env::var_os("WERKTAFEL_BLESS_SCHEMA").is_some() {
        std::fs::write(&path, &update).expect("write the fixture");
    }
    let checked_in = std::fs::read(&path).expect("the Rust side's lecture document is checked in");
    assert!(
        checked_in == update,
        "{} is not what shared/src/lecture.rs writes now: run this test with \
         WERKTAFEL_BLESS_SCHEMA=1, then tests/e2e/schema.test.mjs",
        f.round_trip.from_rust
    );
}

#[test]
fn the_rust_side_reads_the_lecture_document_the_web_client_wrote() {
    let f: LectureFixture = part("lecture");
    let bytes = std::fs::read(repo_file(&f.round_trip.from_web))
        .expect("the web side's lecture document is checked in (tests/e2e/schema.test.mjs)");
    let doc = Doc::new();
    doc.transact_mut()
        .apply_update(Update::decode_v1(&bytes).expect("a Yjs update"))
        .expect("applies");
    let (keys, _) = entries(&doc, lecture::INSIGHTS, insight_key::KIND);
    assert_eq!(keys, set(&f.insight_keys), "keys the web client writes");
    let mut items = lecture::read_lecture(&doc).items;
    items.sort_by_key(|i| i.text.clone());
    let read: Vec<(&str, &str, &str)> = items
        .iter()
        .map(|i| (i.text.as_str(), i.kind.as_str(), i.author.as_str()))
        .collect();
    // The texts and authors tests/e2e/schema.test.mjs writes.
    assert_eq!(
        read,
        [
            (
                "Van het web: de straat is een verblijfsplek",
                "inzicht",
                "Web"
            ),
            ("Wie onderhoudt het groen?", "vraag", "Web"),
        ]
    );
    assert!(
        items
            .iter()
            .all(|i| i.created_at > 0 && i.plus_ones == 0 && i.pinned.is_none())
    );
}

#[test]
fn the_closing_names_match_the_fixture() {
    let f: ClosingFixture = part("closing");
    assert_eq!(closing::CLOSING_DOCUMENT, f.document);
    assert_eq!(vec![closing::STEPS.to_owned()], f.roots);
    assert_eq!(
        FollowUp::ALL.map(|x| x.as_str().to_owned()).to_vec(),
        f.follow_ups
    );
    assert_eq!(
        [
            closing::MAX_STEPS,
            closing::MAX_STEP_TEXT_CHARS,
            closing::MAX_STEP_OWNER_CHARS,
            closing::MAX_STEP_DUE_CHARS,
            closing::MAX_INSIGHT_ID_CHARS
        ],
        [
            f.limits.steps,
            f.limits.text_chars,
            f.limits.owner_chars,
            f.limits.due_chars,
            f.limits.insight_id_chars
        ],
        "limits"
    );
    // What the writer writes: one step per source kind.
    let event = Event::builtin();
    let doc = Doc::new();
    let sources = [
        StepSource::Table {
            id: event.tables[0].id.clone(),
        },
        StepSource::Stand {
            team: event.teams[0].number,
        },
        StepSource::Lecture {
            insight: "rustInsight01".into(),
        },
    ];
    for (i, source) in sources.into_iter().enumerate() {
        let input = StepInput {
            text: "t".into(),
            source: Some(source),
            ..StepInput::default()
        };
        closing::add_step(&mut doc.transact_mut(), &event, &format!("s{i}"), input, 1)
            .expect("added");
    }
    assert_eq!(
        set(doc.transact().root_refs().map(|(name, _)| name)),
        set(&f.roots)
    );
    let (keys, kinds) = entries(&doc, closing::STEPS, "sourceKind");
    assert_eq!(keys, set(&f.step_keys), "keys of a step");
    assert_eq!(kinds, set(&f.source_kinds), "source kinds written");
}
