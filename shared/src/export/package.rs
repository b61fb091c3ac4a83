//! The event package: one ZIP with every export — workbook, CSV, archive, report, Excel
//! workbook, a board picture per table and, for a table on the droomproces poster, its
//! poster picture too (the report has it inline; the Markdown workbook and the CSV cannot).

use std::io::{Cursor, Write};

use ::zip::write::SimpleFileOptions;
use ::zip::{CompressionMethod, DateTime, ZipWriter};

use super::{ExportError, ExportOptions, csv, html, json, markdown, svg, xlsx};
use crate::poster::BoardView;
use crate::snapshot::{EventSnapshot, TableSnapshot, TableState};
use crate::summary::effective_view;

/// The files in the package, in the order they are written; boards follow as
/// `borden/{table}.svg`, each followed by `borden/{table}-poster.svg` for a table on the poster.
pub const FILES: [&str; 5] = [
    "werkboek.md",
    "notities.csv",
    "archief.json",
    "rapport.html",
    "werkboek.xlsx",
];

/// Writes the package. Entries are dated at the export time (ZIP stores local time without
/// a zone; we store UTC), so the same inputs give the same bytes.
pub fn package(
    snapshot: &EventSnapshot,
    states: &[TableState],
    documents: &[super::documents::DocumentState],
    options: &ExportOptions,
) -> Result<Vec<u8>, ExportError> {
    let entry = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .last_modified_time(zip_time(options.exported_at_ms))
        .unix_permissions(0o644);
    let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
    let files: [(&str, Vec<u8>); 5] = [
        (FILES[0], markdown::workbook(snapshot, options).into_bytes()),
        (FILES[1], csv::notes_csv(snapshot, options)?),
        (
            FILES[2],
            json::write_archive(snapshot.event, states, documents, options)?,
        ),
        (FILES[3], html::report(snapshot, options).into_bytes()),
        (FILES[4], xlsx::workbook(snapshot, options)?),
    ];
    for (name, bytes) in files {
        zip.start_file(name, entry)?;
        zip.write_all(&bytes)
            .map_err(::zip::result::ZipError::from)?;
    }
    let boards = match options.authors {
        super::Authors::Named => snapshot.clone(),
        super::Authors::Anonymous => snapshot.anonymized(),
    };
    for table in &boards.tables {
        let title = snapshot
            .event
            .table(table.table_id.as_str())
            .map_or_else(|| table.table_id.to_string(), |t| t.title.clone());
        zip.start_file(format!("borden/{}.svg", table.table_id), entry)?;
        zip.write_all(svg::board(&title, &table.notes).as_bytes())
            .map_err(::zip::result::ZipError::from)?;
        if on_poster(snapshot, table) {
            zip.start_file(format!("borden/{}-poster.svg", table.table_id), entry)?;
            let poster = svg::poster(
                &format!("Poster — {title}"),
                snapshot.event,
                table,
                snapshot.underlay(),
            );
            zip.write_all(poster.as_bytes())
                .map_err(::zip::result::ZipError::from)?;
        }
    }
    Ok(zip.finish()?.into_inner())
}

/// Whether a table has a poster to draw: the same rule as the summary's `poster` (shown as
/// a poster, or anything placed or drawn on it).
fn on_poster(snapshot: &EventSnapshot, table: &TableSnapshot) -> bool {
    let def = snapshot.event.table(table.table_id.as_str());
    effective_view(def, Some(table)) == BoardView::Poster
        || !table.poster.arrows.is_empty()
        || !table.poster.markers.is_empty()
        || table.notes.iter().any(|n| n.poster.is_some())
}

/// The export time as a ZIP timestamp; times ZIP cannot hold (before 1980) become
/// 1980-01-01.
fn zip_time(ms: i64) -> DateTime {
    let iso = super::iso8601(ms);
    let part = |range: std::ops::Range<usize>| iso.get(range).and_then(|p| p.parse::<u16>().ok());
    let fields = (|| {
        Some((
            part(0..4)?,
            u8::try_from(part(5..7)?).ok()?,
            u8::try_from(part(8..10)?).ok()?,
            u8::try_from(part(11..13)?).ok()?,
            u8::try_from(part(14..16)?).ok()?,
            u8::try_from(part(17..19)?).ok()?,
        ))
    })();
    fields
        .and_then(|(y, mo, d, h, mi, s)| DateTime::from_date_and_time(y, mo, d, h, mi, s).ok())
        .unwrap_or_default()
}
