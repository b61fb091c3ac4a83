//! Tests for the poster layer: what we write reads back through a second replica, readers cap
//! and clamp what a client wrote, and a version 1 client's edits keep the poster's data.

use yrs::updates::decoder::Decode;
use yrs::{Doc, Map, MapPrelim, Out, ReadTxn, Transact, Update, WriteTxn};

use super::*;
use crate::schema::{Lane, NoteColor, NoteDraft, insert_note, read_notes};

fn note(doc: &Doc, id: &str, lane: Lane) {
    insert_note(
        &mut doc.transact_mut(),
        &NoteDraft {
            id: id.to_owned(),
            text: format!("tekst {id}"),
            lane,
            color: NoteColor::Geel,
            x: 10.0,
            y: 20.0,
            author: "Anna".to_owned(),
            author_id: "dev-anna".to_owned(),
            now_ms: 1_650_000_000_000,
        },
    );
}

fn sync(from: &Doc, to: &Doc) {
    let state = to.transact().state_vector();
    let update = from.transact().encode_state_as_update_v1(&state);
    to.transact_mut()
        .apply_update(Update::decode_v1(&update).expect("decodes"))
        .expect("applies");
}

fn marker(id: &str, kind: MarkerKind, label: &str, created_at: i64) -> PosterMarker {
    PosterMarker {
        id: id.to_owned(),
        kind,
        label: label.to_owned(),
        x: 400.0,
        y: 300.0,
        author: "Bas".to_owned(),
        created_at,
    }
}

fn arrow(id: &str, from: &str, to: ArrowEnd, created_at: i64) -> PosterArrow {
    PosterArrow {
        id: id.to_owned(),
        from: from.to_owned(),
        to,
        author: "Bas".to_owned(),
        created_at,
    }
}

#[test]
fn positions_arrows_and_markers_read_back_on_another_replica() {
    let doc = Doc::with_client_id(1);
    note(&doc, "noteAAAA01", Lane::Goed);
    note(&doc, "noteBBBB02", Lane::Doorpakken);
    note(&doc, "noteCCCC03", Lane::Vervolgstap);
    {
        let mut txn = doc.transact_mut();
        assert!(set_position(
            &mut txn,
            "noteAAAA01",
            Some(PosterPoint { x: 120.0, y: 80.5 })
        ));
        assert!(set_position(
            &mut txn,
            "noteBBBB02",
            Some(PosterPoint { x: 900.0, y: 640.0 })
        ));
        assert!(!set_position(
            &mut txn,
            "missing123",
            Some(PosterPoint { x: 1.0, y: 1.0 })
        ));
        insert_arrow(
            &mut txn,
            &arrow(
                "arrow00001",
                "noteAAAA01",
                ArrowEnd::Note {
                    id: "noteBBBB02".into(),
                },
                2,
            ),
        );
        insert_arrow(
            &mut txn,
            &arrow(
                "arrow00002",
                "noteBBBB02",
                ArrowEnd::Point { x: 1500.0, y: 90.0 },
                3,
            ),
        );
        insert_marker(
            &mut txn,
            &marker("marker0001", MarkerKind::Actor, "Gebiedsregisseur", 4),
        );
        insert_marker(
            &mut txn,
            &marker("marker0002", MarkerKind::Tussenstap, "Kansenkaart", 5),
        );
    }
    let other = Doc::with_client_id(2);
    sync(&doc, &other);

    let notes = read_notes(&other);
    let at = |id: &str| notes.iter().find(|n| n.id == id).expect("note").poster;
    assert_eq!(at("noteAAAA01"), Some(PosterPoint { x: 120.0, y: 80.5 }));
    assert_eq!(at("noteBBBB02"), Some(PosterPoint { x: 900.0, y: 640.0 }));
    assert_eq!(at("noteCCCC03"), None, "an unplaced note waits in the tray");
    // The lane view of the same notes is untouched.
    assert!(notes.iter().all(|n| n.x == 10.0 && n.y == 20.0));

    let layer = read_poster(&other);
    assert_eq!(
        layer.arrows,
        vec![
            arrow(
                "arrow00001",
                "noteAAAA01",
                ArrowEnd::Note {
                    id: "noteBBBB02".into()
                },
                2
            ),
            arrow(
                "arrow00002",
                "noteBBBB02",
                ArrowEnd::Point { x: 1500.0, y: 90.0 },
                3
            ),
        ]
    );
    assert_eq!(
        layer.markers,
        vec![
            marker("marker0001", MarkerKind::Actor, "Gebiedsregisseur", 4),
            marker("marker0002", MarkerKind::Tussenstap, "Kansenkaart", 5),
        ]
    );

    // Taking a note off the poster puts it back in the tray.
    assert!(set_position(&mut other.transact_mut(), "noteAAAA01", None));
    sync(&other, &doc);
    let back = read_notes(&doc);
    assert_eq!(
        back.iter().find(|n| n.id == "noteAAAA01").unwrap().poster,
        None
    );
}

#[test]
fn readers_cap_counts_cut_labels_and_clamp_positions() {
    let doc = Doc::with_client_id(1);
    {
        let mut txn = doc.transact_mut();
        // Written newest first, so the cap must sort before it cuts.
        for i in (0..MAX_POSTER_MARKERS + 50).rev() {
            insert_marker(
                &mut txn,
                &marker(&format!("m{i:05}"), MarkerKind::Actor, "x", i as i64),
            );
        }
        for i in 0..MAX_POSTER_ARROWS + 5 {
            insert_arrow(
                &mut txn,
                &arrow(
                    &format!("a{i:05}"),
                    "n",
                    ArrowEnd::Point { x: -50.0, y: 1e9 },
                    i as i64,
                ),
            );
        }
        // A hostile client writes a long label directly, past `insert_marker`'s cut.
        let markers = txn.get_or_insert_map(POSTER_MARKERS);
        let long = markers.insert(&mut txn, "m00000", MapPrelim::default());
        long.insert(&mut txn, key::KIND, "tussenstap");
        long.insert(&mut txn, key::LABEL, "é".repeat(10_000));
        long.insert(&mut txn, key::X, -3.0);
        long.insert(&mut txn, key::CREATED_AT, 0.0);
    }
    let layer = read_poster(&doc);
    assert_eq!(layer.markers.len(), MAX_POSTER_MARKERS);
    assert_eq!(layer.markers[0].id, "m00000", "oldest first");
    assert_eq!(
        layer.markers[0].label.chars().count(),
        MAX_MARKER_LABEL_CHARS
    );
    assert_eq!((layer.markers[0].x, layer.markers[0].y), (0.0, 0.0));
    assert_eq!(
        layer.markers.last().unwrap().id,
        format!("m{:05}", MAX_POSTER_MARKERS - 1)
    );
    assert_eq!(layer.arrows.len(), MAX_POSTER_ARROWS);
    assert_eq!(
        layer.arrows[0].to,
        ArrowEnd::Point {
            x: 0.0,
            y: POSTER_HEIGHT
        }
    );
}

#[test]
fn entries_that_are_not_what_the_schema_says_are_skipped() {
    let doc = Doc::with_client_id(1);
    {
        let mut txn = doc.transact_mut();
        let markers = txn.get_or_insert_map(POSTER_MARKERS);
        markers.insert(&mut txn, "plain", "not a map");
        let unknown = markers.insert(&mut txn, "kindless", MapPrelim::default());
        unknown.insert(&mut txn, key::KIND, "olifant");
        let arrows = txn.get_or_insert_map(POSTER_ARROWS);
        let nowhere = arrows.insert(&mut txn, "nowhere", MapPrelim::default());
        nowhere.insert(&mut txn, key::FROM, "n1");
        let fromless = arrows.insert(&mut txn, "fromless", MapPrelim::default());
        fromless.insert(&mut txn, key::TO, "n2");
    }
    note(&doc, "noteAAAA01", Lane::Goed);
    {
        let mut txn = doc.transact_mut();
        let notes = txn.get_map(crate::schema::NOTES).unwrap();
        let Some(Out::YMap(n)) = notes.get(&txn, "noteAAAA01") else {
            panic!("note")
        };
        // Only half a position, or not a number: no position.
        n.insert(&mut txn, key::POSTER_X, 5.0);
        n.insert(&mut txn, key::POSTER_Y, "zes");
    }
    let layer = read_poster(&doc);
    assert!(layer.markers.is_empty() && layer.arrows.is_empty());
    assert_eq!(read_notes(&doc)[0].poster, None);
}

/// A client of schema version 1 (today's lane board) knows only `notes` and the keys of a
/// note it moves: it reads a version 2 document without trouble, and its edits keep every
/// poster key and map, because Yjs map writes touch only the keys they name.
#[test]
fn a_version_1_client_reads_a_version_2_document_and_drops_nothing() {
    let new = Doc::with_client_id(1);
    note(&new, "noteAAAA01", Lane::Goed);
    {
        let mut txn = new.transact_mut();
        set_position(
            &mut txn,
            "noteAAAA01",
            Some(PosterPoint { x: 300.0, y: 200.0 }),
        );
        insert_marker(
            &mut txn,
            &marker("marker0001", MarkerKind::Actor, "Wethouder", 1),
        );
        insert_arrow(
            &mut txn,
            &arrow(
                "arrow00001",
                "noteAAAA01",
                ArrowEnd::Point { x: 5.0, y: 5.0 },
                1,
            ),
        );
    }
    let old = Doc::with_client_id(2);
    sync(&new, &old);
    {
        // What the version 1 board does: move the note to another lane and spot.
        let mut txn = old.transact_mut();
        let notes = txn.get_map(crate::schema::NOTES).unwrap();
        let Some(Out::YMap(n)) = notes.get(&txn, "noteAAAA01") else {
            panic!("note")
        };
        n.insert(&mut txn, crate::schema::key::LANE, "doorpakken");
        n.insert(&mut txn, crate::schema::key::X, 40.0);
    }
    sync(&old, &new);
    let notes = read_notes(&new);
    assert_eq!(notes[0].lane, Lane::Doorpakken);
    assert_eq!(notes[0].poster, Some(PosterPoint { x: 300.0, y: 200.0 }));
    let layer = read_poster(&new);
    assert_eq!(layer.markers.len(), 1);
    assert_eq!(layer.arrows.len(), 1);
}

#[test]
fn images_are_known_by_their_first_bytes() {
    assert_eq!(
        ImageKind::sniff(b"\x89PNG\r\n\x1a\nrest"),
        Some(ImageKind::Png)
    );
    assert_eq!(
        ImageKind::sniff(&[0xff, 0xd8, 0xff, 0xe0]),
        Some(ImageKind::Jpeg)
    );
    assert_eq!(
        ImageKind::sniff(b"RIFF\x10\x00\x00\x00WEBPVP8 "),
        Some(ImageKind::Webp)
    );
    assert_eq!(ImageKind::sniff(b"<svg onload=alert(1)>"), None);
    assert_eq!(ImageKind::sniff(b"RIFF\x10\x00\x00\x00WAVE"), None);
    assert_eq!(ImageKind::sniff(b""), None);
}

#[test]
fn the_image_tag_sits_in_control_beside_the_facilitators_keys() {
    let doc = Doc::new();
    assert_eq!(
        read_image_tag(&doc),
        None,
        "a table never told of an upload"
    );
    let steered = crate::control::Control {
        phase: crate::control::Phase::Stemmen,
        ..Default::default()
    };
    crate::control::write_control(
        &mut doc.transact_mut(),
        &crate::control::Control::default(),
        &steered,
    );
    write_image_tag(&mut doc.transact_mut(), "0a1b2c");
    write_image_tag(&mut doc.transact_mut(), "3d4e5f");
    assert_eq!(read_image_tag(&doc).as_deref(), Some("3d4e5f"));
    assert_eq!(
        crate::control::read_control(&doc),
        steered,
        "the tag leaves the control keys alone"
    );
}
