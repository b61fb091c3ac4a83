//! The JSON archive: the event definition plus every table's full Yjs state, enough to restore the event into an empty data directory.
//!
//! ```json
//! { "format": "werktafel-archive", "version": 1, "exportedAt": "2022-06-09T15:30:00.000Z",
//!   "event": { …the Event… }, "tables": [ { "id": "a", "state": "<base64 of a Yjs v1 update>" } ] }
//! ```
//!
//! Writing is deterministic: states are written as given, tables in the event's order (others
//! after, by id), and the time is an input. So export → [`read_archive`] → export gives the
//! same bytes. A document *rebuilt* from a state restores every note and the meta exactly,
//! but re-encoding it need not give the same bytes: yrs stores a plain map value (`meta.cluster`,
//! `meta.cases`, `meta.teams`) in a `HashMap` with a random seed and encodes its keys in that
//! order.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::{Deserialize, Serialize};

use super::{Authors, ExportError, ExportOptions, iso8601, parse_iso8601};
use crate::event::{Event, TableId};
use crate::snapshot::TableState;

/// The value of `format`.
pub const FORMAT: &str = "werktafel-archive";
/// The archive version this build writes and reads.
pub const VERSION: u64 = 1;

/// An archive as read back: validated, each state known to decode and apply.
#[derive(Debug, Clone, PartialEq)]
pub struct Archive {
    pub exported_at_ms: i64,
    pub event: Event,
    pub tables: Vec<TableState>,
}

/// Writes the archive (`archief.json`) of `event` with `states`; with
/// [`Authors::Anonymous`] the states are rewritten without author names first.
pub fn write_archive(
    event: &Event,
    states: &[TableState],
    options: &ExportOptions,
) -> Result<Vec<u8>, ExportError> {
    let mut ordered: Vec<&TableState> = states.iter().collect();
    let position = |id: &TableId| event.tables.iter().position(|t| t.id == *id);
    ordered.sort_by(|a, b| {
        let key = |s: &TableState| {
            (
                position(&s.table_id).unwrap_or(usize::MAX),
                s.table_id.clone(),
            )
        };
        key(a).cmp(&key(b))
    });
    let mut tables = Vec::with_capacity(ordered.len());
    for state in ordered {
        let state = match options.authors {
            Authors::Named => state.clone(),
            Authors::Anonymous => state.anonymized()?,
        };
        tables.push(ArchivedTable {
            id: state.table_id.to_string(),
            state: BASE64.encode(&state.update),
        });
    }
    let file = ArchiveFile {
        format: FORMAT.to_owned(),
        version: VERSION,
        exported_at: iso8601(options.exported_at_ms),
        event: event.clone(),
        tables,
    };
    let mut bytes = serde_json::to_vec_pretty(&file).map_err(ExportError::Serialize)?;
    bytes.push(b'\n');
    Ok(bytes)
}

/// Reads and validates an archive: the format and version first (so a wrong file says so
/// rather than naming a missing field), then the event as [`Event::from_toml`] would
/// validate it, unique table ids, base64, and that each state decodes and applies to an
/// empty document.
pub fn read_archive(bytes: &[u8]) -> Result<Archive, ExportError> {
    let header: ArchiveHeader = serde_json::from_slice(bytes).map_err(ExportError::ArchiveJson)?;
    let format = header.format.unwrap_or_default();
    if format != FORMAT {
        return Err(ExportError::ArchiveFormat { found: format });
    }
    if header.version != Some(VERSION) {
        return Err(ExportError::ArchiveVersion {
            found: header.version.unwrap_or(0),
        });
    }
    let file: ArchiveFile = serde_json::from_slice(bytes).map_err(ExportError::ArchiveJson)?;
    let exported_at_ms =
        parse_iso8601(&file.exported_at).ok_or_else(|| ExportError::ArchiveTime {
            value: file.exported_at.clone(),
        })?;
    file.event.validate()?;

    let mut tables: Vec<TableState> = Vec::with_capacity(file.tables.len());
    for table in file.tables {
        let table_id: TableId = table.id.parse()?;
        if tables.iter().any(|t| t.table_id == table_id) {
            return Err(ExportError::ArchiveDuplicateTable { table: table_id });
        }
        let update =
            BASE64
                .decode(table.state.as_bytes())
                .map_err(|err| ExportError::ArchiveBase64 {
                    table: table_id.clone(),
                    reason: err.to_string(),
                })?;
        let state = TableState { table_id, update };
        state.to_doc()?;
        tables.push(state);
    }
    Ok(Archive {
        exported_at_ms,
        event: file.event,
        tables,
    })
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ArchiveFile {
    format: String,
    version: u64,
    exported_at: String,
    event: Event,
    tables: Vec<ArchivedTable>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ArchivedTable {
    id: String,
    state: String,
}

/// The two fields read first; anything else is ignored at this stage.
#[derive(Deserialize)]
struct ArchiveHeader {
    format: Option<String>,
    version: Option<u64>,
}
