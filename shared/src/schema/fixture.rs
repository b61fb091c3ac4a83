//! The Rust side against `shared/schema/schema.json`, the one list of the
//! document's names that the TypeScript client and the Node test helper are
//! tested against too (`tests/e2e/schema.test.mjs`). A name changed on one
//! side only fails one of these tests.
//!
//! Where the Rust side writes a map (meta, a new note, control) the keys are
//! taken from what it writes, not from the constants, so a key spelled out
//! somewhere else drifts visibly as well.

use std::collections::BTreeSet;

use serde::Deserialize;
use yrs::{Doc, Map, ReadTxn, Transact};

use super::*;
use crate::control::{
    CONNECTORS, CONTROL, Control, GROUPS, Phase, SERVER_ONLY, VOTES, VoteVisibility, write_control,
};
use crate::event::Event;
use crate::poster::{self, ArrowEnd, BoardView, MarkerKind, PosterArrow, PosterMarker};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Fixture {
    schema_version: u32,
    roots: Vec<String>,
    server_only: Vec<String>,
    meta_keys: Vec<String>,
    note_keys: Vec<String>,
    note_keys_on_create: Vec<String>,
    lanes: Vec<String>,
    colors: Vec<String>,
    control_keys: Vec<String>,
    /// Written into `control` by the poster upload, not by `write_control`.
    control_poster_image_key: String,
    phases: Vec<String>,
    vote_visibility: Vec<String>,
    views: Vec<String>,
    poster_arrow_keys: Vec<String>,
    poster_marker_keys: Vec<String>,
    marker_kinds: Vec<String>,
    poster_size: [f64; 2],
    poster_limits: PosterLimits,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PosterLimits {
    arrows: usize,
    markers: usize,
    label_chars: usize,
}

fn fixture() -> Fixture {
    serde_json::from_str(include_str!("../../schema/schema.json"))
        .expect("shared/schema/schema.json parses")
}

fn strings<'a>(names: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    names.into_iter().map(str::to_owned).collect()
}

fn set(names: &[String]) -> BTreeSet<&str> {
    names.iter().map(String::as_str).collect()
}

/// The keys of the top-level map `root` as the document holds them.
fn keys_of(doc: &Doc, root: &str) -> BTreeSet<String> {
    let txn = doc.transact();
    let map = txn.get_map(root).expect("the root was written");
    map.keys(&txn).map(str::to_owned).collect()
}

#[test]
fn the_names_match_the_fixture() {
    let f = fixture();
    assert_eq!(SCHEMA_VERSION, f.schema_version, "schema version");
    assert_eq!(
        strings([
            META,
            NOTES,
            CONTROL,
            VOTES,
            GROUPS,
            CONNECTORS,
            poster::POSTER_ARROWS,
            poster::POSTER_MARKERS,
        ]),
        f.roots,
        "top-level names"
    );
    assert_eq!(strings(SERVER_ONLY), f.server_only, "server-only roots");
    assert_eq!(
        strings(Lane::ALL.map(Lane::as_str)),
        f.lanes,
        "lanes, in display order"
    );
    assert_eq!(
        strings(NoteColor::ALL.map(NoteColor::as_str)),
        f.colors,
        "colours, in order"
    );
    assert_eq!(
        strings(Phase::ALL.map(Phase::as_str)),
        f.phases,
        "phases, in order"
    );
    assert_eq!(
        strings([VoteVisibility::Always, VoteVisibility::After].map(VoteVisibility::as_str)),
        f.vote_visibility,
        "vote visibility"
    );
    assert_eq!(
        strings([
            key::TEXT,
            key::LANE,
            key::COLOR,
            key::X,
            key::Y,
            key::AUTHOR,
            key::AUTHOR_ID,
            key::CREATED_AT,
            key::UPDATED_AT,
            key::OWNER,
            key::DUE,
            key::GROUP,
            poster::key::POSTER_X,
            poster::key::POSTER_Y,
        ]),
        f.note_keys,
        "note keys"
    );
    assert_eq!(
        strings([BoardView::Lanes, BoardView::Poster].map(BoardView::as_str)),
        f.views,
        "views"
    );
    assert_eq!(
        strings(MarkerKind::ALL.map(MarkerKind::as_str)),
        f.marker_kinds,
        "marker kinds"
    );
    assert_eq!(
        [poster::POSTER_WIDTH, poster::POSTER_HEIGHT],
        f.poster_size,
        "poster size"
    );
    assert_eq!(
        (
            poster::MAX_POSTER_ARROWS,
            poster::MAX_POSTER_MARKERS,
            poster::MAX_MARKER_LABEL_CHARS
        ),
        (
            f.poster_limits.arrows,
            f.poster_limits.markers,
            f.poster_limits.label_chars
        ),
        "poster limits"
    );
}

#[test]
fn what_the_rust_side_writes_on_the_poster_has_the_fixtures_keys() {
    let f = fixture();
    let doc = Doc::with_client_id(1);
    let entry_keys = |root: &str, id: &str| -> BTreeSet<String> {
        let txn = doc.transact();
        let map = txn.get_map(root).expect("root");
        let Some(yrs::Out::YMap(entry)) = map.get(&txn, id) else {
            panic!("{root}[{id}] is a map");
        };
        entry.keys(&txn).map(str::to_owned).collect()
    };
    let arrow = |id: &str, to| PosterArrow {
        id: id.to_owned(),
        from: "n1".to_owned(),
        to,
        author: "A".to_owned(),
        created_at: 1,
    };
    {
        let mut txn = doc.transact_mut();
        poster::insert_arrow(
            &mut txn,
            &arrow("toNote", ArrowEnd::Note { id: "n2".into() }),
        );
        poster::insert_arrow(
            &mut txn,
            &arrow("toPoint", ArrowEnd::Point { x: 1.0, y: 2.0 }),
        );
        poster::insert_marker(
            &mut txn,
            &PosterMarker {
                id: "m1".to_owned(),
                kind: MarkerKind::Actor,
                label: "l".to_owned(),
                x: 1.0,
                y: 2.0,
                author: "A".to_owned(),
                created_at: 1,
            },
        );
    }
    let mut arrow_keys = entry_keys(poster::POSTER_ARROWS, "toNote");
    arrow_keys.extend(entry_keys(poster::POSTER_ARROWS, "toPoint"));
    assert_eq!(
        arrow_keys
            .iter()
            .map(String::as_str)
            .collect::<BTreeSet<_>>(),
        set(&f.poster_arrow_keys),
        "keys of poster arrows"
    );
    assert_eq!(
        entry_keys(poster::POSTER_MARKERS, "m1")
            .iter()
            .map(String::as_str)
            .collect::<BTreeSet<_>>(),
        set(&f.poster_marker_keys),
        "keys of a poster marker"
    );
}

#[test]
fn what_the_rust_side_writes_has_the_fixtures_keys() {
    let f = fixture();
    let event = Event::builtin();
    let table = &event.tables[0];
    let doc = Doc::with_client_id(1);

    assert!(ensure_meta(&doc, &event, table));
    let meta: BTreeSet<String> = keys_of(&doc, META);
    assert_eq!(
        meta.iter().map(String::as_str).collect::<BTreeSet<_>>(),
        set(&f.meta_keys),
        "keys of meta"
    );

    insert_note(
        &mut doc.transact_mut(),
        &NoteDraft {
            id: "fixtureNote01".to_owned(),
            text: "t".to_owned(),
            lane: Lane::Goed,
            color: NoteColor::Geel,
            x: 0.0,
            y: 0.0,
            author: "A".to_owned(),
            author_id: "a".to_owned(),
            now_ms: 1,
        },
    );
    let note: BTreeSet<String> = {
        let txn = doc.transact();
        let notes = txn.get_map(NOTES).expect("notes");
        let Some(yrs::Out::YMap(note)) = notes.get(&txn, "fixtureNote01") else {
            panic!("the note is a map");
        };
        note.keys(&txn).map(str::to_owned).collect()
    };
    assert_eq!(
        note.iter().map(String::as_str).collect::<BTreeSet<_>>(),
        set(&f.note_keys_on_create),
        "keys of a new note"
    );
    assert!(
        set(&f.note_keys_on_create).is_subset(&set(&f.note_keys)),
        "the fixture's keys on create are note keys"
    );

    // The first write of `control` writes every key.
    write_control(
        &mut doc.transact_mut(),
        &Control::default(),
        &Control::default(),
    );
    let control = keys_of(&doc, CONTROL);
    assert_eq!(
        control.iter().map(String::as_str).collect::<BTreeSet<_>>(),
        set(&f.control_keys),
        "keys of control"
    );
    assert_eq!(
        crate::poster::POSTER_IMAGE_TAG,
        f.control_poster_image_key,
        "the poster image's key in control"
    );
}
