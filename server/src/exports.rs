//! Exports of an event, over HTTP and from the command line. Both gather the
//! same inputs — a snapshot of every table's notes plus its full document
//! state — and hand them to `werktafel_shared::export`. Over HTTP they are
//! bounded and cached by [`ExportService`].

mod archive;
mod pool;
mod service;

use std::str::FromStr;
use std::sync::Arc;

pub use archive::{Imported, import_archive};
pub use pool::{RenderPool, RenderStopped};
pub use service::{ExportKey, ExportPermit, ExportService, RETRY_AFTER_SECS, body_holding};

use werktafel_shared::day::DaySnapshot;
use werktafel_shared::event::Event;
use werktafel_shared::export::documents::DocumentState;
use werktafel_shared::export::{
    ExportError, ExportOptions, html, json, markdown, package, svg, xlsx,
};
use werktafel_shared::snapshot::{EventSnapshot, TableSnapshot, TableState};

use crate::store::{RoomKey, Store, StoreError, build_doc};
use crate::table::room::Room;

/// One export format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Markdown,
    Csv,
    Xlsx,
    Json,
    Html,
    Svg,
    Zip,
}

impl FromStr for Format {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "md" | "markdown" => Format::Markdown,
            "csv" => Format::Csv,
            "xlsx" => Format::Xlsx,
            "json" => Format::Json,
            "html" => Format::Html,
            "svg" => Format::Svg,
            "zip" => Format::Zip,
            other => {
                return Err(format!(
                    "unknown export format '{other}' (md, csv, xlsx, json, html, svg, zip)"
                ));
            }
        })
    }
}

impl Format {
    pub fn extension(self) -> &'static str {
        match self {
            Format::Markdown => "md",
            Format::Csv => "csv",
            Format::Xlsx => "xlsx",
            Format::Json => "json",
            Format::Html => "html",
            Format::Svg => "svg",
            Format::Zip => "zip",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::Markdown => "text/markdown; charset=utf-8",
            Format::Csv => "text/csv; charset=utf-8",
            Format::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            Format::Json => "application/json",
            Format::Html => "text/html; charset=utf-8",
            Format::Svg => "image/svg+xml",
            Format::Zip => "application/zip",
        }
    }
}

/// What one table contributes to an export.
#[derive(Debug, Clone)]
pub struct TableData {
    pub snapshot: TableSnapshot,
    pub state: TableState,
}

/// Why an export could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ExportFailure {
    #[error(transparent)]
    Export(#[from] ExportError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the svg format is one table's board: name the table")]
    SvgNeedsTable,
    #[error("table '{0}' is not part of the event")]
    UnknownTable(String),
}

/// Renders `format` of the tables and the rest of the `day`; `table` picks the board for
/// [`Format::Svg`]. `documents` (the day's full document states) go into the archive, so
/// only [`Format::Json`] and [`Format::Zip`] need them.
#[allow(clippy::too_many_arguments)]
pub fn render(
    event: &Event,
    tables: &[TableData],
    day: &DaySnapshot,
    documents: &[DocumentState],
    format: Format,
    table: Option<&str>,
    options: &ExportOptions,
    poster: Option<&crate::poster::PosterImage>,
) -> Result<Vec<u8>, ExportFailure> {
    let snapshot = EventSnapshot {
        event,
        tables: tables.iter().map(|t| t.snapshot.clone()).collect(),
        poster_image: poster.map(|p| (p.kind, &p.bytes[..])),
        day: day.clone(),
    };
    let states: Vec<TableState> = tables.iter().map(|t| t.state.clone()).collect();
    Ok(match format {
        Format::Markdown => markdown::workbook(&snapshot, options).into_bytes(),
        Format::Csv => werktafel_shared::export::csv::notes_csv(&snapshot, options)?,
        Format::Xlsx => xlsx::workbook(&snapshot, options)?,
        Format::Json => json::write_archive(event, &states, documents, options)?,
        Format::Html => html::report(&snapshot, options).into_bytes(),
        Format::Zip => package::package(&snapshot, &states, documents, options)?,
        Format::Svg => {
            let id = table.ok_or(ExportFailure::SvgNeedsTable)?;
            let def = event
                .table(id)
                .ok_or_else(|| ExportFailure::UnknownTable(id.to_string()))?;
            let mut notes = tables
                .iter()
                .find(|t| t.snapshot.table_id == def.id)
                .map(|t| t.snapshot.clone())
                .ok_or_else(|| ExportFailure::UnknownTable(id.to_string()))?;
            if options.authors == werktafel_shared::export::Authors::Anonymous {
                notes.anonymize();
            }
            svg::board(&def.title, &notes.notes).into_bytes()
        }
    })
}

/// The file name an export is offered under.
pub fn file_name(event: &Event, format: Format, table: Option<&str>) -> String {
    match (format, table) {
        (Format::Svg, Some(table)) => format!("werktafel-{}-{table}.svg", event.slug),
        _ => format!("werktafel-{}.{}", event.slug, format.extension()),
    }
}

/// What `rooms` (the event's tables, in order) hold now, for `format`: the
/// full document states only where the format carries them (the archive and
/// the package). Reads every document: call it off the async runtime.
pub fn read_rooms(rooms: &[Arc<Room>], event: &Event, format: Format) -> Vec<TableData> {
    let with_states = matches!(format, Format::Json | Format::Zip);
    event
        .tables
        .iter()
        .zip(rooms)
        .map(|(def, room)| {
            let participants = room.peer_count();
            let id = def.id.clone();
            room.read(|doc| TableData {
                snapshot: TableSnapshot::read(id.clone(), participants, doc),
                state: if with_states {
                    TableState::encode(id, doc)
                } else {
                    TableState {
                        table_id: id,
                        update: Vec::new(),
                    }
                },
            })
        })
        .collect()
}

/// Every table of `event` as stored, for exports without a running server.
///
/// A table stored as exactly one entry (as after an import) exports that
/// entry byte for byte, so export → import → export gives identical files.
/// A stored table that fails the checks every live update passes (written
/// past them, e.g. by an older version) is refused before yrs decodes it:
/// a server started on the directory quarantines it, and the export reads
/// only what the command line does not change.
pub fn stored_tables(store: &mut dyn Store, event: &Event) -> Result<Vec<TableData>, DataDirError> {
    let mut out = Vec::with_capacity(event.tables.len());
    for def in &event.tables {
        let key = RoomKey::new(&event.slug, def.id.as_str());
        let stored = store.load(&key)?;
        if let Err(refusal) =
            crate::store::quarantine::check(stored.updates.iter().map(Vec::as_slice))
        {
            return Err(DataDirError::Unsafe {
                kind: "table",
                table: def.id.to_string(),
                rule: refusal.to_string(),
            });
        }
        let doc = build_doc(&key, stored.updates.iter().map(Vec::as_slice))?;
        let state = match stored.updates.as_slice() {
            [only] => TableState {
                table_id: def.id.clone(),
                update: only.clone(),
            },
            _ => TableState::encode(def.id.clone(), &doc),
        };
        out.push(TableData {
            snapshot: TableSnapshot::read(def.id.clone(), 0, &doc),
            state,
        });
    }
    Ok(out)
}

/// Why a command-line export or import failed.
#[derive(Debug, thiserror::Error)]
pub enum DataDirError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Export(#[from] ExportFailure),
    #[error("no event '{slug}' in this data directory (it has: {known})")]
    UnknownEvent { slug: String, known: String },
    #[error("the saved definition of event '{slug}' is unreadable: {reason}")]
    BadDefinition { slug: String, reason: String },
    #[error("the data directory already holds tables ({rooms}); import needs an empty one")]
    NotEmpty { rooms: String },
    #[error("not a Werktafel archive: {0}")]
    Archive(#[from] ExportError),
    #[error(
        "the archive's {kind} '{table}' fails the checks every live update passes: {rule}; \
         nothing was imported"
    )]
    Refused {
        /// `table`, or `document` for the rest of the day.
        kind: &'static str,
        table: String,
        rule: String,
    },
    #[error(
        "{kind} '{table}' of this data directory fails the checks every live update passes: \
         {rule}; start `werktafel serve` on the directory once to quarantine it, then export"
    )]
    Unsafe {
        kind: &'static str,
        table: String,
        rule: String,
    },
}

/// Exports event `slug` from a store, without (or beside) a running server.
pub fn export_data_dir(
    store: &crate::store::StoreConfig,
    data_dir: &std::path::Path,
    slug: &str,
    format: Format,
    table: Option<&str>,
    options: &ExportOptions,
) -> Result<Vec<u8>, DataDirError> {
    // The uploaded poster where the server kept it: the data directory on
    // SQLite, the database on PostgreSQL (`store/blobs.rs`).
    let poster = crate::store::blobs::Blobs::of(store, data_dir)
        .get(crate::store::blobs::POSTER)
        .ok()
        .flatten()
        .and_then(|blob| crate::poster::PosterImage::check(blob.data.into()).ok());
    let mut store = store.open()?;
    let event = saved_event(&mut store, slug)?;
    let tables = stored_tables(&mut store, &event)?;
    let day = crate::day::stored_day(&mut store, &event)?;
    let documents = match format {
        Format::Json | Format::Zip => archive::stored_documents(&mut store, &event)?,
        _ => Vec::new(),
    };
    Ok(render(
        &event,
        &tables,
        &day,
        &documents,
        format,
        table,
        options,
        poster.as_ref(),
    )?)
}

fn saved_event(store: &mut dyn Store, slug: &str) -> Result<Event, DataDirError> {
    let Some(definition) = store.load_event(slug)? else {
        let known = store.events()?.join(", ");
        return Err(DataDirError::UnknownEvent {
            slug: slug.to_string(),
            known: if known.is_empty() {
                "none".into()
            } else {
                known
            },
        });
    };
    let bad = |reason: String| DataDirError::BadDefinition {
        slug: slug.to_string(),
        reason,
    };
    let event: Event = serde_json::from_str(&definition).map_err(|e| bad(e.to_string()))?;
    event.validate().map_err(|e| bad(e.to_string()))?;
    Ok(event)
}
