//! Exports of an event: Markdown workbook, CSV, JSON archive, HTML report, XLSX, SVG boards, and the ZIP package of all of them.
//!
//! Every export is a pure function from an [`EventSnapshot`] (and, for the archive, the
//! tables' [`TableState`]s) plus [`ExportOptions`] to bytes or a string. All of them list
//! tables and notes in the order of [`summarize`](crate::summarize): the event's tables in
//! order, lanes in board order, notes ranked within their lane. The export time is an input,
//! so the same snapshot exports to the same bytes.
//!
//! [`TableState`]: crate::snapshot::TableState

pub mod cell;
pub mod csv;
pub mod day;
pub mod documents;
pub mod html;
pub mod json;
pub mod markdown;
pub mod package;
pub mod svg;
pub mod xlsx;

pub use cell::Formulas;

use crate::event::{EventError, TableDef, TableId};
use crate::snapshot::{EventSnapshot, StateError};
use crate::summary::{Summary, summarize_day};

/// How to export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExportOptions {
    pub authors: Authors,
    pub csv_delimiter: CsvDelimiter,
    /// Whether CSV and XLSX cells that start like a formula are defused (the default).
    pub formulas: Formulas,
    /// The export time in milliseconds since the Unix epoch, written into the archive, the
    /// reports and the ZIP entries.
    pub exported_at_ms: i64,
}

/// Whether author names appear in an export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Authors {
    #[default]
    Named,
    /// For sharing outside the group: every note's `author` and `authorId` become the empty
    /// string, in the archive's document states too. Columns stay, so an anonymous CSV has
    /// the same shape; Markdown and HTML then show no name after a note.
    Anonymous,
}

/// The CSV field delimiter. Excel with Dutch regional settings expects `;`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CsvDelimiter {
    #[default]
    Comma,
    Semicolon,
}

/// Why an export could not be written or an archive could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("could not write the CSV export: {0}")]
    Csv(#[from] ::csv::Error),
    #[error("could not write the XLSX workbook: {0}")]
    Xlsx(#[from] rust_xlsxwriter::XlsxError),
    #[error("could not write the ZIP package: {0}")]
    Zip(#[from] ::zip::result::ZipError),
    #[error("could not write the JSON archive: {0}")]
    Serialize(serde_json::Error),
    #[error(transparent)]
    State(#[from] StateError),
    #[error("archive is not valid JSON or misses a field: {0}")]
    ArchiveJson(serde_json::Error),
    #[error("not a Werktafel archive: format is {found:?}, expected \"werktafel-archive\"")]
    ArchiveFormat { found: String },
    #[error("archive version {found} is not supported: this build reads versions 1 and 2")]
    ArchiveVersion { found: u64 },
    #[error("archive exportedAt {value:?} is not a time like 2022-06-09T13:45:00.000Z")]
    ArchiveTime { value: String },
    #[error("the event in the archive is invalid: {0}")]
    ArchiveEvent(#[from] EventError),
    #[error("archive lists table {table} more than once")]
    ArchiveDuplicateTable { table: TableId },
    #[error("state of table {table} in the archive is not valid base64: {reason}")]
    ArchiveBase64 { table: TableId, reason: String },
    #[error("document '{room}' in the archive: {reason}")]
    ArchiveDocument { room: String, reason: String },
}

impl ExportOptions {
    /// Named authors, comma-separated CSV, formulas defused, exported at `exported_at_ms`.
    pub fn new(exported_at_ms: i64) -> ExportOptions {
        ExportOptions {
            authors: Authors::Named,
            csv_delimiter: CsvDelimiter::Comma,
            formulas: Formulas::Neutralise,
            exported_at_ms,
        }
    }

    pub fn anonymous(self) -> ExportOptions {
        ExportOptions {
            authors: Authors::Anonymous,
            ..self
        }
    }

    pub fn with_csv_delimiter(self, csv_delimiter: CsvDelimiter) -> ExportOptions {
        ExportOptions {
            csv_delimiter,
            ..self
        }
    }
}

impl ExportOptions {
    pub fn with_formulas(self, formulas: Formulas) -> ExportOptions {
        ExportOptions { formulas, ..self }
    }
}

impl CsvDelimiter {
    pub fn byte(self) -> u8 {
        match self {
            CsvDelimiter::Comma => b',',
            CsvDelimiter::Semicolon => b';',
        }
    }
}

/// Formats milliseconds since the Unix epoch as ISO 8601 in UTC with milliseconds, the way
/// JavaScript's `toISOString` does: `2022-06-09T13:45:00.123Z`.
pub fn iso8601(ms: i64) -> String {
    let (days, ms_of_day) = (ms.div_euclid(86_400_000), ms.rem_euclid(86_400_000));
    let (year, month, day) = civil_from_days(days);
    let secs = ms_of_day / 1000;
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        secs / 3600,
        secs / 60 % 60,
        secs % 60,
        ms_of_day % 1000
    )
}

/// Parses what [`iso8601`] writes (exactly that shape) back into milliseconds.
pub fn parse_iso8601(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    let shape_ok = b.len() == 24
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
        && b[13] == b':'
        && b[16] == b':'
        && b[19] == b'.'
        && b[23] == b'Z';
    if !shape_ok {
        return None;
    }
    let num = |range: std::ops::Range<usize>| -> Option<i64> {
        let part = text.get(range)?;
        part.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| part.parse().ok())?
    };
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, minute, second, milli) = (num(11..13)?, num(14..16)?, num(17..19)?, num(20..23)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 {
        return None;
    }
    if second > 59 {
        return None;
    }
    let days = days_from_civil(year, month, day);
    let ms = days * 86_400_000 + ((hour * 60 + minute) * 60 + second) * 1000 + milli;
    // Rejects 31 February and the like: the date must survive the round trip.
    (iso8601(ms) == text).then_some(ms)
}

/// The snapshot as the options ask for it (anonymized or not) and its summary.
fn prepare<'a>(
    snapshot: &EventSnapshot<'a>,
    options: &ExportOptions,
) -> (EventSnapshot<'a>, Summary) {
    let snapshot = match options.authors {
        Authors::Named => snapshot.clone(),
        Authors::Anonymous => snapshot.anonymized(),
    };
    let summary = summarize_day(snapshot.event, &snapshot.tables, &snapshot.day);
    (snapshot, summary)
}

/// "Tafel A" for table `a`: how the workbook and the reports name a table.
fn table_label(id: &TableId) -> String {
    format!("Tafel {}", id.as_str().to_uppercase())
}

/// The definition of a summarized table, if the event has one.
fn table_def<'a>(snapshot: &'a EventSnapshot<'_>, id: &TableId) -> Option<&'a TableDef> {
    snapshot.event.table(id.as_str())
}

/// Days since 1970-01-01 to (year, month, day) in the proleptic Gregorian calendar
/// (Howard Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// The inverse of [`civil_from_days`].
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let yoe = year.rem_euclid(400);
    let mp = if month > 2 { month - 3 } else { month + 9 };
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}
