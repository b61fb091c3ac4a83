//! The fixture event shared by the export tests, and helpers that read exports back.

use std::io::{Cursor, Read};
use std::path::PathBuf;

use calamine::{Data, Reader, Xlsx};
use werktafel_shared::export::csv;
use werktafel_shared::schema::{self, NoteDraft};
use werktafel_shared::{
    Event, EventSnapshot, ExportOptions, Lane, NoteColor, TableSnapshot, TableState,
};
use yrs::WriteTxn;
use yrs::{Doc, Transact};

/// 2022-06-09 15:30:00 UTC, the afternoon of the Atelierdag.
pub const EXPORTED_AT: i64 = 1_654_788_600_000;
pub const AUTHORS: [&str; 3] = ["Anna Jansen", "Bram de Vries", "Çiğdem Öztürk"];
pub const SCRIPT: &str = "<script>alert('x')</script> & \"meer\"";
pub const TRICKY: &str =
    "Zei: \"ja; maar\", toch?\nTweede regel; met ; puntkomma's\r\nen 🚲🌳 emoji";

pub struct Fixture {
    pub event: Event,
    pub docs: Vec<(String, Doc)>,
}

#[allow(clippy::too_many_arguments)]
pub fn draft(
    id: &str,
    lane: Lane,
    color: NoteColor,
    text: &str,
    author: usize,
    x: f64,
    y: f64,
    minute: i64,
) -> NoteDraft {
    NoteDraft {
        id: id.to_owned(),
        text: text.to_owned(),
        lane,
        color,
        x,
        y,
        author: AUTHORS[author].to_owned(),
        author_id: format!("device-{author}"),
        now_ms: EXPORTED_AT - 3_600_000 + minute * 60_000,
    }
}

pub fn fixture() -> Fixture {
    let event = Event::builtin();
    let mut docs = Vec::new();
    let tables: [(&str, Vec<NoteDraft>); 4] = [
        (
            "a",
            vec![
                draft(
                    "a-goed-1",
                    Lane::Goed,
                    NoteColor::Groen,
                    "Samenwerking met de netbeheerders in de openbare ruimte",
                    0,
                    10.0,
                    20.0,
                    1,
                ),
                draft(
                    "a-door-1",
                    Lane::Doorpakken,
                    NoteColor::Roze,
                    TRICKY,
                    1,
                    180.0,
                    20.0,
                    2,
                ),
                draft(
                    "a-stap-1",
                    Lane::Vervolgstap,
                    NoteColor::Blauw,
                    "Ondergrond in kaart brengen met alle gemeenten",
                    2,
                    0.0,
                    0.0,
                    3,
                ),
                draft(
                    "a-goed-2",
                    Lane::Goed,
                    NoteColor::Geel,
                    SCRIPT,
                    0,
                    180.0,
                    160.0,
                    4,
                ),
            ],
        ),
        (
            "b",
            vec![
                draft(
                    "b-goed-1",
                    Lane::Goed,
                    NoteColor::Oranje,
                    "Afwegingskader voor de openbare ruimte",
                    1,
                    0.0,
                    0.0,
                    5,
                ),
                draft(
                    "b-stap-1",
                    Lane::Vervolgstap,
                    NoteColor::Paars,
                    "Gemeente Amersfoort organiseert een vervolgsessie",
                    2,
                    0.0,
                    0.0,
                    6,
                ),
                draft(
                    "b-door-1",
                    Lane::Doorpakken,
                    NoteColor::Geel,
                    &"Heel lange notitie over de ondergrond. ".repeat(40),
                    0,
                    0.0,
                    0.0,
                    7,
                ),
            ],
        ),
        (
            "c",
            vec![draft(
                "c-goed-1",
                Lane::Goed,
                NoteColor::Geel,
                "- begint als lijst *met* _opmaak_ [link](x) # kop",
                1,
                0.0,
                0.0,
                8,
            )],
        ),
        ("d", vec![]),
    ];
    for (id, drafts) in tables {
        let doc = Doc::new();
        let def = event
            .table(id)
            .expect("fixture table is in the built-in event");
        schema::ensure_meta(&doc, &event, def);
        for draft in &drafts {
            schema::insert_note(&mut doc.transact_mut(), draft);
        }
        if let Some(first) = drafts.first().filter(|_| id == "a") {
            // Brought in from a market tip of OT 2.
            let from = schema::Provenance {
                stand: "markt-ot2".into(),
                tip: "tip-intervisie".into(),
            };
            schema::set_provenance(&mut doc.transact_mut(), &first.id, &from);
        }
        if id == "b" {
            // A next step agreed on: who, when, and the votes it got.
            let mut txn = doc.transact_mut();
            let notes = txn.get_or_insert_map(schema::NOTES);
            if let Some(yrs::Out::YMap(step)) = yrs::Map::get(&notes, &txn, "b-stap-1") {
                yrs::Map::insert(&step, &mut txn, "owner", "Gemeente Amersfoort; OT 2");
                yrs::Map::insert(&step, &mut txn, "due", "voor 1 juli");
            }
            let totals = [("b-stap-1".to_string(), 3u32)].into();
            werktafel_shared::control::write_vote_totals(&mut txn, &totals);
        }
        docs.push((id.to_owned(), doc));
    }
    Fixture { event, docs }
}

/// The built-in event with one note at table `a`, in the `vervolgstap` lane so that every
/// export shows it as a next step too: `text`, then `fields` (key → string) written over
/// the note as any client could (`author`, `owner`, `due`, …).
pub fn one_note(text: &str, fields: &[(&str, &str)]) -> Fixture {
    let event = Event::builtin();
    let mut docs = Vec::new();
    for def in &event.tables {
        let doc = Doc::new();
        schema::ensure_meta(&doc, &event, def);
        if def.id.as_str() == "a" {
            let note = draft(
                "hostile",
                Lane::Vervolgstap,
                NoteColor::Geel,
                text,
                0,
                0.0,
                0.0,
                1,
            );
            let mut txn = doc.transact_mut();
            schema::insert_note(&mut txn, &note);
            let notes = txn.get_or_insert_map(schema::NOTES);
            if let Some(yrs::Out::YMap(map)) = yrs::Map::get(&notes, &txn, "hostile") {
                for (key, value) in fields {
                    yrs::Map::insert(&map, &mut txn, *key, *value);
                }
            }
        }
        docs.push((def.id.to_string(), doc));
    }
    Fixture { event, docs }
}

impl Fixture {
    pub fn snapshot(&self) -> EventSnapshot<'_> {
        EventSnapshot {
            event: &self.event,
            tables: self
                .docs
                .iter()
                .enumerate()
                .map(|(i, (id, doc))| {
                    TableSnapshot::read(id.parse().expect("table id"), i + 2, doc)
                })
                .collect(),
            poster_image: None,
            day: Default::default(),
        }
    }

    pub fn states(&self) -> Vec<TableState> {
        self.docs
            .iter()
            .map(|(id, doc)| TableState::encode(id.parse().expect("table id"), doc))
            .collect()
    }
}

pub fn options() -> ExportOptions {
    ExportOptions::new(EXPORTED_AT)
}

/// Compares `actual` with `tests/golden/{name}`, or rewrites the file when `UPDATE_GOLDEN=1`.
pub fn assert_golden(name: &str, actual: &[u8]) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some_and(|v| v == "1") {
        std::fs::create_dir_all(path.parent().expect("golden dir")).expect("create golden dir");
        std::fs::write(&path, actual).expect("write golden file");
        return;
    }
    let expected = std::fs::read(&path).unwrap_or_else(|err| {
        panic!(
            "cannot read {}: {err}; run with UPDATE_GOLDEN=1 to create it",
            path.display()
        )
    });
    if expected != actual {
        let actual_path = path.with_extension("actual");
        let _ = std::fs::write(&actual_path, actual);
        panic!(
            "{} differs from the golden file; the output is in {}. If the change is intended, \
             rerun with UPDATE_GOLDEN=1 and review the diff.",
            path.display(),
            actual_path.display()
        );
    }
}

pub fn read_csv(bytes: &[u8], delimiter: u8) -> Vec<Vec<String>> {
    assert!(bytes.starts_with(csv::BOM), "CSV starts with a UTF-8 BOM");
    let mut reader = ::csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .from_reader(&bytes[csv::BOM.len()..]);
    reader
        .records()
        .map(|record| {
            record
                .expect("CSV record parses")
                .iter()
                .map(str::to_owned)
                .collect()
        })
        .collect()
}

pub fn zip_entries(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut archive = ::zip::ZipArchive::new(Cursor::new(bytes)).expect("package is a ZIP");
    (0..archive.len())
        .map(|i| {
            let mut file = archive.by_index(i).expect("entry opens");
            let mut content = Vec::new();
            file.read_to_end(&mut content).expect("entry reads");
            (
                file.name().expect("entry name is UTF-8").into_owned(),
                content,
            )
        })
        .collect()
}

pub fn xlsx_sheets(bytes: &[u8]) -> Vec<(String, Vec<Vec<String>>)> {
    let mut book: Xlsx<_> = Xlsx::new(Cursor::new(bytes.to_vec())).expect("workbook opens");
    let names = book.sheet_names();
    names
        .into_iter()
        .map(|name| {
            let range = book.worksheet_range(&name).expect("sheet reads");
            let rows = range
                .rows()
                .map(|row| {
                    row.iter()
                        .map(|cell| match cell {
                            Data::String(s) => s.clone(),
                            Data::Empty => String::new(),
                            other => other.to_string(),
                        })
                        .collect()
                })
                .collect();
            (name, rows)
        })
        .collect()
}
