//! The notes as CSV: one row per note, UTF-8 with a byte order mark so that Excel reads the encoding, `,` or `;` between fields.

use super::cell::csv_field;
use super::{ExportError, ExportOptions, iso8601, prepare};
use crate::snapshot::EventSnapshot;

/// The header row, in column order.
pub const COLUMNS: [&str; 13] = [
    "event",
    "table",
    "tableTitle",
    "lane",
    "text",
    "author",
    "colour",
    "createdAt",
    "updatedAt",
    "votes",
    "owner",
    "due",
    "source",
];

/// The byte order mark that starts the file: without it Excel reads UTF-8 as Windows-1252.
pub const BOM: &[u8] = "\u{feff}".as_bytes();

/// Writes `notities.csv`: the header, then every note in summary order. Fields with the
/// delimiter, a quote or a line break are quoted (quotes doubled), so every text survives.
/// Times are ISO 8601 in UTC (see [`iso8601`]). Every field passes [`csv_field`], which
/// defuses a text that starts like a formula unless `options.formulas` keeps it.
pub fn notes_csv(
    snapshot: &EventSnapshot,
    options: &ExportOptions,
) -> Result<Vec<u8>, ExportError> {
    let (snapshot, summary) = prepare(snapshot, options);
    let mut writer = ::csv::WriterBuilder::new()
        .delimiter(options.csv_delimiter.byte())
        .from_writer(BOM.to_vec());
    writer.write_record(COLUMNS)?;
    for table in &summary.tables {
        for note in table.lanes.all() {
            let fields = [
                snapshot.event.slug.as_str(),
                table.id.as_str(),
                table.title.as_str(),
                note.lane.as_str(),
                note.text.as_str(),
                note.author.as_str(),
                note.color.as_str(),
                &iso8601(note.created_at),
                &iso8601(note.updated_at),
                &note.votes.to_string(),
                note.owner.as_str(),
                note.due.as_str(),
                &note
                    .provenance
                    .as_ref()
                    .map(|p| p.label(snapshot.event))
                    .unwrap_or_default(),
            ];
            writer.write_record(
                fields
                    .map(|field| csv_field(field, options.formulas))
                    .iter()
                    .map(|f| f.as_bytes()),
            )?;
        }
    }
    writer
        .into_inner()
        .map_err(|err| ExportError::Csv(err.into_error().into()))
}
