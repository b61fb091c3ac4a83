//! The Excel workbook: the market ("Markt"), a sheet per table, one sheet of all notes ("Alle notities") and one of the
//! tables' next steps ("Vervolgstappen"), then the lecture, the "rode lijnen" and the closing feedback's next steps
//! (`export::day::xlsx`).
//!
//! Every sheet has a bold, frozen header row with an autofilter and set column widths.
//! Texts are written as strings, never as formulas, and every string passes
//! [`xlsx_cell`]: a text that starts like a formula gets a leading `'` (unless
//! `ExportOptions::formulas` keeps it), so a reader that evaluates strings does not run it,
//! and a text longer than a cell holds is cut and marked, so no text makes the workbook fail.

use std::collections::HashSet;

use rust_xlsxwriter::{DocProperties, ExcelDateTime, Format, Workbook, Worksheet};

use super::cell::{Formulas, xlsx_cell};
use super::{ExportError, ExportOptions, iso8601, prepare, table_label};
use crate::snapshot::EventSnapshot;
use crate::summary::{NoteView, TableSummary};

/// The name of the sheet with every note.
pub const ALL_NOTES_SHEET: &str = "Alle notities";
/// The name of the sheet with every next step.
pub const NEXT_STEPS_SHEET: &str = "Vervolgstappen";
/// Excel's limit on the rows of a sheet, the header included. A sheet with more notes
/// ends in a row that says how many were left out; the CSV holds them all.
pub const MAX_ROWS: u32 = 1_048_576;
/// The data rows a sheet shows at most: all but the header and the row that says how many
/// were left out.
const DATA_ROWS: usize = MAX_ROWS as usize - 2;

const TABLE_COLUMNS: [(&str, f64); 7] = [
    ("Baan", 14.0),
    ("Tekst", 60.0),
    ("Auteur", 18.0),
    ("Kleur", 9.0),
    ("Gemaakt", 25.0),
    ("Bijgewerkt", 25.0),
    ("Herkomst", 16.0),
];
const ALL_COLUMNS: [(&str, f64); 9] = [
    ("Tafel", 8.0),
    ("Tafelnaam", 28.0),
    ("Baan", 14.0),
    ("Tekst", 60.0),
    ("Auteur", 18.0),
    ("Kleur", 9.0),
    ("Gemaakt", 25.0),
    ("Bijgewerkt", 25.0),
    ("Herkomst", 16.0),
];
const STEP_COLUMNS: [(&str, f64); 7] = [
    ("Tafel", 8.0),
    ("Tafelnaam", 28.0),
    ("Vervolgstap", 70.0),
    ("Wie", 22.0),
    ("Wanneer", 16.0),
    ("Stemmen", 9.0),
    ("Auteur", 18.0),
];

/// Writes `werkboek.xlsx`. The creation time in its properties is the export time, so the
/// same snapshot gives the same workbook.
pub fn workbook(snapshot: &EventSnapshot, options: &ExportOptions) -> Result<Vec<u8>, ExportError> {
    let (snapshot, summary) = prepare(snapshot, options);
    let mut book = Workbook::new();
    let created = ExcelDateTime::from_timestamp(options.exported_at_ms.div_euclid(1000))?;
    book.set_properties(
        &DocProperties::new()
            .set_title(snapshot.event.title.as_str())
            .set_creation_datetime(&created),
    );
    let bold = Format::new().set_bold();
    let wrap = Format::new().set_text_wrap();
    let plain = Format::new();
    let formulas = options.formulas;
    let mut used_names = HashSet::from([
        ALL_NOTES_SHEET.to_lowercase(),
        NEXT_STEPS_SHEET.to_lowercase(),
    ]);
    used_names.extend(super::day::xlsx::SHEETS.map(str::to_lowercase));
    super::day::xlsx::market(&mut book, &snapshot, options)?;

    for table in &summary.tables {
        let sheet = book.add_worksheet();
        sheet.set_name(sheet_name(table, &mut used_names))?;
        header(sheet, &TABLE_COLUMNS, &bold)?;
        let mut row = 0;
        let notes: Vec<&NoteView> = table.lanes.all().collect();
        for note in notes.iter().take(DATA_ROWS) {
            row += 1;
            note_row(sheet, row, 0, note, &wrap, formulas)?;
        }
        sheet.autofilter(0, 0, row, TABLE_COLUMNS.len() as u16 - 1)?;
        left_out(sheet, row, notes.len())?;
    }

    let sheet = book.add_worksheet();
    sheet.set_name(ALL_NOTES_SHEET)?;
    header(sheet, &ALL_COLUMNS, &bold)?;
    let mut row = 0;
    let notes: Vec<(&TableSummary, &NoteView)> = summary
        .tables
        .iter()
        .flat_map(|table| table.lanes.all().map(move |note| (table, note)))
        .collect();
    for (table, note) in notes.iter().take(DATA_ROWS) {
        row += 1;
        text(sheet, row, 0, &table_label(&table.id), &plain, formulas)?;
        text(sheet, row, 1, &table.title, &plain, formulas)?;
        note_row(sheet, row, 2, note, &wrap, formulas)?;
    }
    sheet.autofilter(0, 0, row, ALL_COLUMNS.len() as u16 - 1)?;
    left_out(sheet, row, notes.len())?;

    let sheet = book.add_worksheet();
    sheet.set_name(NEXT_STEPS_SHEET)?;
    header(sheet, &STEP_COLUMNS, &bold)?;
    let mut row = 0;
    for step in summary.next_steps.iter().take(DATA_ROWS) {
        row += 1;
        text(sheet, row, 0, &table_label(&step.table), &plain, formulas)?;
        text(sheet, row, 1, &step.table_title, &plain, formulas)?;
        text(sheet, row, 2, &step.text, &wrap, formulas)?;
        text(sheet, row, 3, &step.owner, &plain, formulas)?;
        text(sheet, row, 4, &step.due, &plain, formulas)?;
        sheet.write_number(row, 5, f64::from(step.votes))?;
        text(sheet, row, 6, &step.author, &plain, formulas)?;
    }
    sheet.autofilter(0, 0, row, STEP_COLUMNS.len() as u16 - 1)?;
    left_out(sheet, row, summary.next_steps.len())?;

    super::day::xlsx::after_tables(&mut book, &snapshot, &summary, options)?;
    Ok(book.save_to_buffer()?)
}

/// The sheet name of a table: "A Vitale systemen", without the characters Excel forbids,
/// at most 31 characters, unique among the workbook's sheets (Excel compares names without
/// regard to case).
fn sheet_name(table: &TableSummary, used: &mut HashSet<String>) -> String {
    let raw = format!("{} {}", table.id.as_str().to_uppercase(), table.title);
    let cleaned: String = raw
        .chars()
        .map(|c| {
            if matches!(c, '[' | ']' | ':' | '*' | '?' | '/' | '\\') || c.is_control() {
                ' '
            } else {
                c
            }
        })
        .collect();
    let base: String = cleaned.trim().trim_matches('\'').chars().take(31).collect();
    let base = base.trim().to_owned();
    let mut name = base.clone();
    let mut n = 2;
    while name.is_empty()
        || used.contains(&name.to_lowercase())
        || name.eq_ignore_ascii_case("history")
    {
        let prefix: String = base.chars().take(26).collect();
        name = format!("{} ({n})", prefix.trim_end());
        n += 1;
    }
    used.insert(name.to_lowercase());
    name
}

pub(crate) fn header(
    sheet: &mut Worksheet,
    columns: &[(&str, f64)],
    bold: &Format,
) -> Result<(), ExportError> {
    for (col, (title, width)) in (0u16..).zip(columns) {
        sheet.write_string_with_format(0, col, *title, bold)?;
        sheet.set_column_width(col, *width)?;
    }
    sheet.set_freeze_panes(1, 0)?;
    Ok(())
}

/// Writes a note's cells (lane, text, author, colour, created, updated) into
/// `row` from column `first` on: the per-table sheets and the sheet of all
/// notes share this layout, the latter after two table columns.
fn note_row(
    sheet: &mut Worksheet,
    row: u32,
    first: u16,
    note: &NoteView,
    wrap: &Format,
    formulas: Formulas,
) -> Result<(), ExportError> {
    let plain = Format::new();
    for (col, cell) in (first..).zip(note_cells(note)) {
        let format = if col == first + 1 { wrap } else { &plain };
        text(sheet, row, col, &cell, format, formulas)?;
    }
    Ok(())
}

/// After the last data row `row` of a sheet that had `total` rows to show: a row saying how
/// many did not fit, if any did not.
fn left_out(sheet: &mut Worksheet, row: u32, total: usize) -> Result<(), ExportError> {
    let shown = row as usize;
    if total > shown {
        let message = format!(
            "… {} rijen niet getoond: een Excel-blad houdt {MAX_ROWS} rijen; notities.csv heeft ze allemaal",
            total - shown
        );
        sheet.write_string(row + 1, 0, message)?;
    }
    Ok(())
}

/// Writes a string cell: the one way a text reaches the workbook (see [`xlsx_cell`]).
pub(crate) fn text(
    sheet: &mut Worksheet,
    row: u32,
    col: u16,
    value: &str,
    format: &Format,
    formulas: Formulas,
) -> Result<(), ExportError> {
    sheet.write_string_with_format(row, col, xlsx_cell(value, formulas), format)?;
    Ok(())
}

fn note_cells(note: &NoteView) -> [String; 7] {
    [
        note.lane.as_str().to_owned(),
        note.text.clone(),
        note.author.clone(),
        note.color.as_str().to_owned(),
        iso8601(note.created_at),
        iso8601(note.updated_at),
        note.provenance
            .as_ref()
            .map(|p| p.short_label())
            .unwrap_or_default(),
    ]
}
