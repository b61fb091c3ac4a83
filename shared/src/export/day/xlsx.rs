//! The werkboek's day sheets in the Excel workbook (see [`super`]): "Markt" before the
//! tables' sheets; "Lezing", "Rode lijnen" and "Terugkoppeling" after them. Every text goes
//! through the workbook's one string writer ([`crate::export::xlsx::text`]).

use rust_xlsxwriter::{Format, Workbook};

use super::{lecture_parts, origins, ranked_tips};
use crate::closing::group_by_follow_up;
use crate::export::xlsx::{header, text};
use crate::export::{ExportError, ExportOptions, iso8601};
use crate::snapshot::EventSnapshot;
use crate::summary::Summary;

/// The names of the day's sheets, reserved before the tables' sheets are named.
pub const SHEETS: [&str; 4] = [MARKET_SHEET, LECTURE_SHEET, THEMES_SHEET, CLOSING_SHEET];
pub const MARKET_SHEET: &str = "Markt";
pub const LECTURE_SHEET: &str = "Lezing";
pub const THEMES_SHEET: &str = "Rode lijnen";
pub const CLOSING_SHEET: &str = "Terugkoppeling";

const MARKET_COLUMNS: [(&str, f64); 6] = [
    ("OT", 6.0),
    ("Team", 30.0),
    ("Onderdeel", 16.0),
    ("Tekst", 60.0),
    ("Nuttig", 8.0),
    ("Auteur", 18.0),
];
const LECTURE_COLUMNS: [(&str, f64); 6] = [
    ("Vastgepind", 11.0),
    ("Soort", 10.0),
    ("Tekst", 70.0),
    ("+1", 6.0),
    ("Auteur", 18.0),
    ("Gemaakt", 25.0),
];
const THEME_COLUMNS: [(&str, f64); 3] = [
    ("Rode lijn", 30.0),
    ("Waar vandaan", 50.0),
    ("Notities", 9.0),
];
const CLOSING_COLUMNS: [(&str, f64); 5] = [
    ("Vervolg", 14.0),
    ("Vervolgstap", 60.0),
    ("Wie", 22.0),
    ("Wanneer", 16.0),
    ("Bron", 40.0),
];

/// The "Markt" sheet: per stand, what its team wrote, then each tip ranked.
pub fn market(
    book: &mut Workbook,
    snapshot: &EventSnapshot,
    options: &ExportOptions,
) -> Result<(), ExportError> {
    let (bold, wrap, plain) = (
        Format::new().set_bold(),
        Format::new().set_text_wrap(),
        Format::new(),
    );
    let f = options.formulas;
    if snapshot.day.market.stands.is_empty() && !snapshot.event.has_market() {
        return Ok(());
    }
    let sheet = book.add_worksheet();
    sheet.set_name(MARKET_SHEET)?;
    header(sheet, &MARKET_COLUMNS, &bold)?;
    let mut row = 0;
    for stand in &snapshot.day.market.stands {
        let mut lines: Vec<(&str, String, Option<u32>, String)> = vec![
            ("waar staan we", stand.status.clone(), None, String::new()),
            ("ambities", stand.ambitions.clone(), None, String::new()),
        ];
        lines.extend(stand.materials.iter().map(|m| {
            (
                "materiaal",
                format!("{}: {}", m.title, m.url),
                None,
                String::new(),
            )
        }));
        lines.extend(ranked_tips(&stand.tips).into_iter().map(|t| {
            (
                if t.kind == "vraag" { "vraag" } else { "tip" },
                t.text,
                Some(t.plus_ones),
                t.author,
            )
        }));
        for (part, body, useful, author) in lines {
            if body.trim().is_empty() {
                continue;
            }
            row += 1;
            sheet.write_number(row, 0, f64::from(stand.team))?;
            text(sheet, row, 1, &stand.name, &plain, f)?;
            text(sheet, row, 2, part, &plain, f)?;
            text(sheet, row, 3, &body, &wrap, f)?;
            if let Some(n) = useful {
                sheet.write_number(row, 4, f64::from(n))?;
            }
            text(sheet, row, 5, &author, &plain, f)?;
        }
    }
    sheet.autofilter(0, 0, row, MARKET_COLUMNS.len() as u16 - 1)?;
    Ok(())
}

/// "Lezing", "Rode lijnen" and "Terugkoppeling".
pub fn after_tables(
    book: &mut Workbook,
    snapshot: &EventSnapshot,
    summary: &Summary,
    options: &ExportOptions,
) -> Result<(), ExportError> {
    let (bold, wrap, plain) = (
        Format::new().set_bold(),
        Format::new().set_text_wrap(),
        Format::new(),
    );
    let f = options.formulas;

    let sheet = book.add_worksheet();
    sheet.set_name(LECTURE_SHEET)?;
    header(sheet, &LECTURE_COLUMNS, &bold)?;
    let (pinned, rest) = lecture_parts(&snapshot.day);
    let mut row = 0;
    for item in pinned.iter().chain(&rest) {
        row += 1;
        if let Some(pin) = item.pinned {
            sheet.write_number(row, 0, f64::from(pin + 1))?;
        }
        text(sheet, row, 1, &item.kind, &plain, f)?;
        text(sheet, row, 2, &item.text, &wrap, f)?;
        sheet.write_number(row, 3, f64::from(item.plus_ones))?;
        text(sheet, row, 4, &item.author, &plain, f)?;
        text(sheet, row, 5, &iso8601(item.created_at), &plain, f)?;
    }
    sheet.autofilter(0, 0, row, LECTURE_COLUMNS.len() as u16 - 1)?;

    let sheet = book.add_worksheet();
    sheet.set_name(THEMES_SHEET)?;
    header(sheet, &THEME_COLUMNS, &bold)?;
    let mut row = 0;
    for theme in &summary.themes {
        row += 1;
        text(sheet, row, 0, &theme.term, &plain, f)?;
        text(sheet, row, 1, &origins(theme), &plain, f)?;
        sheet.write_number(row, 2, theme.count as f64)?;
    }
    sheet.autofilter(0, 0, row, THEME_COLUMNS.len() as u16 - 1)?;

    let sheet = book.add_worksheet();
    sheet.set_name(CLOSING_SHEET)?;
    header(sheet, &CLOSING_COLUMNS, &bold)?;
    let steps: Vec<_> = summary
        .closing_steps
        .iter()
        .map(|v| v.step.clone())
        .collect();
    let mut row = 0;
    for (follow_up, group) in group_by_follow_up(&steps) {
        for step in group {
            row += 1;
            let label = summary
                .closing_steps
                .iter()
                .find(|v| v.step.id == step.id)
                .map(|v| v.source_label.as_str())
                .unwrap_or_default();
            text(sheet, row, 0, follow_up.as_str(), &plain, f)?;
            text(sheet, row, 1, &step.text, &wrap, f)?;
            text(sheet, row, 2, &step.owner, &plain, f)?;
            text(sheet, row, 3, &step.due, &plain, f)?;
            text(sheet, row, 4, label, &plain, f)?;
        }
    }
    sheet.autofilter(0, 0, row, CLOSING_COLUMNS.len() as u16 - 1)?;
    Ok(())
}
