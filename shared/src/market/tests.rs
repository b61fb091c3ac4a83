//! Tests of the stand document: what is written reads back, and its names match the fixture.

use super::*;
use crate::event::Event;
use std::collections::BTreeSet;

fn tip(id: &str, kind: TipKind, text: &str, at: i64) -> TipDraft {
    TipDraft {
        id: id.into(),
        kind,
        text: text.into(),
        author: "Anna".into(),
        author_id: "anna".into(),
        now_ms: at,
    }
}

/// The keys of each map under `root` as written.
fn keys_under(doc: &Doc, root: &str) -> BTreeSet<String> {
    let txn = doc.transact();
    let map = txn.get_map(root).expect("root written");
    map.iter(&txn)
        .flat_map(|(_, v)| match v {
            yrs::Out::YMap(m) => m.keys(&txn).map(str::to_owned).collect::<Vec<_>>(),
            _ => Vec::new(),
        })
        .collect()
}

#[test]
fn a_stand_reads_back_what_was_written_with_useful_marks_newest_tips_first() {
    let event = Event::builtin();
    let team = event.team(2).expect("team 2");
    let doc = Doc::new();
    ensure_stand_meta(&doc, team, "Markt");
    write_stand_texts(&doc, "Routekaart in concept", "Catalogus voor de zomer");
    {
        let mut txn = doc.transact_mut();
        insert_tip(&mut txn, &tip("t1", TipKind::Tip, "Kijk bij Utrecht", 10));
        insert_tip(&mut txn, &tip("q1", TipKind::Vraag, "Wie beheert dit?", 20));
        insert_tip(&mut txn, &tip("empty", TipKind::Tip, "  ", 30));
        let totals = [("t1".to_owned(), 2)].into_iter().collect();
        crate::control::write_vote_totals(&mut txn, &totals);
        let material = Material {
            id: "m1".into(),
            kind: "link".into(),
            title: "Site".into(),
            url: "https://example.org".into(),
            file: String::new(),
            mime: String::new(),
            size: 0,
            author: "Bram".into(),
            created_at: 5,
        };
        let draft = MaterialDraft {
            id: "m1".into(),
            material,
            author_id: "bram".into(),
        };
        insert_material(&mut txn, &draft);
    }
    let stand = read_stand(&doc, team);
    assert_eq!(stand.room, "markt-ot2");
    assert_eq!(stand.status, "Routekaart in concept");
    assert_eq!(stand.ambitions, "Catalogus voor de zomer");
    let tips: Vec<(&str, TipKind, u32)> = stand
        .tips
        .iter()
        .map(|t| (t.id.as_str(), t.kind, t.useful))
        .collect();
    assert_eq!(tips, [("q1", TipKind::Vraag, 0), ("t1", TipKind::Tip, 2)]);
    assert_eq!((stand.count(TipKind::Tip), stand.useful_marks()), (1, 2));
    assert_eq!(stand.materials[0].url, "https://example.org");
    assert_eq!(stand.materials[0].author, "Bram");
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct StandFixture {
    schema_version: u32,
    roots: Vec<String>,
    server_only: Vec<String>,
    meta_keys: Vec<String>,
    stand_keys: Vec<String>,
    material_keys: Vec<String>,
    tip_keys: Vec<String>,
    tip_kinds: Vec<String>,
}

#[test]
fn the_stand_names_match_the_fixture() {
    let all: serde_json::Value =
        serde_json::from_str(include_str!("../../schema/schema.json")).expect("parses");
    let f: StandFixture = serde_json::from_value(all["stand"].clone()).expect("stand part");
    let set = |names: &[String]| names.iter().cloned().collect::<BTreeSet<_>>();
    assert_eq!(STAND_SCHEMA_VERSION, f.schema_version);
    assert_eq!(STAND_ROOTS.map(str::to_owned).to_vec(), f.roots);
    let server_only: Vec<String> = STAND_ROOTS
        .into_iter()
        .filter(|r| crate::control::SERVER_ONLY.contains(r))
        .map(str::to_owned)
        .collect();
    assert_eq!(
        server_only, f.server_only,
        "server-only roots the screen refuses"
    );
    assert_eq!(MATERIAL_KEYS.map(str::to_owned).to_vec(), f.material_keys);
    assert_eq!(TIP_KEYS.map(str::to_owned).to_vec(), f.tip_keys);
    assert_eq!(
        [TipKind::Tip, TipKind::Vraag]
            .map(|k| k.as_str().to_owned())
            .to_vec(),
        f.tip_kinds
    );
    // And what the writers write.
    let doc = Doc::new();
    let event = Event::builtin();
    ensure_stand_meta(&doc, event.team(1).expect("team"), "Markt");
    write_stand_texts(&doc, "a", "b");
    insert_tip(&mut doc.transact_mut(), &tip("t", TipKind::Tip, "x", 1));
    let material = Material {
        id: "m".into(),
        kind: "file".into(),
        title: "t".into(),
        url: "/u".into(),
        file: "f".into(),
        mime: "image/png".into(),
        size: 3,
        author: "a".into(),
        created_at: 1,
    };
    let draft = MaterialDraft {
        id: "m".into(),
        material,
        author_id: "a".into(),
    };
    insert_material(&mut doc.transact_mut(), &draft);
    let txn = doc.transact();
    let written = |root: &str| {
        let map = txn.get_map(root).expect("root");
        map.keys(&txn).map(str::to_owned).collect::<BTreeSet<_>>()
    };
    assert_eq!(written(META), set(&f.meta_keys));
    assert_eq!(written(STAND), set(&f.stand_keys));
    drop(txn);
    assert_eq!(keys_under(&doc, TIPS), set(&f.tip_keys));
    assert_eq!(keys_under(&doc, MATERIALS), set(&f.material_keys));
}

#[test]
fn stand_meta_is_written_once_and_reads_back() {
    let event = Event::builtin();
    let team = event.team(6).expect("team 6");
    let doc = Doc::new();
    assert!(ensure_stand_meta(&doc, team, "Markt"));
    assert!(!ensure_stand_meta(&doc, team, "Anders"));
    let meta = read_stand_meta(&doc).expect("meta");
    assert_eq!(&meta.team, team);
    assert_eq!(meta.market_title, "Markt");
    // A table's meta is no stand's.
    let table = Doc::new();
    crate::schema::ensure_meta(&table, &event, &event.tables[0]);
    assert_eq!(read_stand_meta(&table), None);
}
