//! The JSON archive: the event definition plus the full Yjs state of every table and of the
//! rest of the day (next steps, lecture board, stands, ballots: [`super::documents`]), enough to
//! restore the whole day into an empty data directory.
//!
//! ```json
//! { "format": "werktafel-archive", "version": 2, "exportedAt": "2022-06-09T15:30:00.000Z",
//!   "event": { …the Event… }, "tables": [ { "id": "a", "state": "<base64 of a Yjs v1 update>" } ],
//!   "documents": [ { "room": "zaal", "state": "<base64 of a Yjs v1 update>" } ] }
//! ```
//!
//! Version 1 (before the market, the lecture and the closing feedback) has no `documents`;
//! it still reads, as an archive of the tables only.
//!
//! Writing is deterministic: states are written as given, tables in the event's order (others
//! after, by id), documents in [`archived_rooms`] order, and the time is an input. So export → [`read_archive`] → export gives the
//! same bytes. A document *rebuilt* from a state restores every note and the meta exactly,
//! but re-encoding it need not give the same bytes: yrs stores a plain map value (`meta.cluster`,
//! `meta.cases`, `meta.teams`) in a `HashMap` with a random seed and encodes its keys in that
//! order.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::{Deserialize, Serialize};

use super::documents::{DocumentState, archived_rooms};
use super::{Authors, ExportError, ExportOptions, iso8601, parse_iso8601};
use crate::event::{Event, TableId};
use crate::snapshot::TableState;

/// The value of `format`.
pub const FORMAT: &str = "werktafel-archive";
/// The archive version this build writes.
pub const VERSION: u64 = 2;
/// The first version, tables only; this build still reads it.
pub const VERSION_TABLES_ONLY: u64 = 1;

/// An archive as read back: validated, each state known to decode and apply.
#[derive(Debug, Clone, PartialEq)]
pub struct Archive {
    pub exported_at_ms: i64,
    pub event: Event,
    pub tables: Vec<TableState>,
    /// The day's other documents, in [`archived_rooms`] order; empty in a version 1 archive.
    pub documents: Vec<DocumentState>,
}

/// Writes the archive (`archief.json`) of `event` with the tables' `states` and the day's
/// other `documents` (a room [`archived_rooms`] does not list is an error: it could not be
/// read back); with [`Authors::Anonymous`] every state is rewritten without names first.
pub fn write_archive(
    event: &Event,
    states: &[TableState],
    documents: &[DocumentState],
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
    let order = archived_rooms(event);
    let mut ordered: Vec<(usize, &DocumentState)> = Vec::with_capacity(documents.len());
    for document in documents {
        let Some(at) = order.iter().position(|r| *r == document.room) else {
            return Err(unknown_room(&document.room));
        };
        ordered.push((at, document));
    }
    ordered.sort_by_key(|(at, _)| *at);
    let mut archived = Vec::with_capacity(ordered.len());
    for (_, document) in ordered {
        let document = match options.authors {
            Authors::Named => document.clone(),
            Authors::Anonymous => document.anonymized()?,
        };
        archived.push(ArchivedDocument {
            room: document.room,
            state: BASE64.encode(&document.update),
        });
    }
    let file = ArchiveFile {
        format: FORMAT.to_owned(),
        version: VERSION,
        exported_at: iso8601(options.exported_at_ms),
        event: event.clone(),
        tables,
        documents: Some(archived),
    };
    let mut bytes = serde_json::to_vec_pretty(&file).map_err(ExportError::Serialize)?;
    bytes.push(b'\n');
    Ok(bytes)
}

/// Reads and validates an archive of version 2 or 1: the format and version first (so a wrong
/// file says so rather than naming a missing field), then the event as [`Event::from_toml`]
/// would validate it, unique table ids, base64, that each state decodes and applies to an
/// empty document, and that each document is one of the event's [`archived_rooms`], once.
pub fn read_archive(bytes: &[u8]) -> Result<Archive, ExportError> {
    let header: ArchiveHeader = serde_json::from_slice(bytes).map_err(ExportError::ArchiveJson)?;
    let format = header.format.unwrap_or_default();
    if format != FORMAT {
        return Err(ExportError::ArchiveFormat { found: format });
    }
    if !matches!(header.version, Some(VERSION | VERSION_TABLES_ONLY)) {
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
    let documents = match (file.version, file.documents) {
        (VERSION_TABLES_ONLY, Some(_)) => {
            return Err(ExportError::ArchiveDocument {
                room: String::new(),
                reason: "a version 1 archive holds no documents".into(),
            });
        }
        (_, None) => Vec::new(),
        (_, Some(archived)) => read_documents(&file.event, archived)?,
    };
    Ok(Archive {
        exported_at_ms,
        event: file.event,
        tables,
        documents,
    })
}

fn read_documents(
    event: &Event,
    archived: Vec<ArchivedDocument>,
) -> Result<Vec<DocumentState>, ExportError> {
    let allowed = archived_rooms(event);
    let mut documents: Vec<DocumentState> = Vec::with_capacity(archived.len());
    for document in archived {
        if !allowed.contains(&document.room) {
            return Err(unknown_room(&document.room));
        }
        if documents.iter().any(|d| d.room == document.room) {
            return Err(ExportError::ArchiveDocument {
                room: document.room,
                reason: "listed more than once".into(),
            });
        }
        let update = BASE64.decode(document.state.as_bytes()).map_err(|err| {
            ExportError::ArchiveDocument {
                room: document.room.clone(),
                reason: format!("state is not valid base64: {err}"),
            }
        })?;
        let state = DocumentState {
            room: document.room,
            update,
        };
        state.to_doc()?;
        documents.push(state);
    }
    documents.sort_by_key(|d| allowed.iter().position(|r| *r == d.room));
    Ok(documents)
}

fn unknown_room(room: &str) -> ExportError {
    ExportError::ArchiveDocument {
        room: room.to_owned(),
        reason: "not a document of this event's day (the closing next steps, the lecture \
                 board, a stand of its market, or their ballots)"
            .into(),
    }
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ArchiveFile {
    format: String,
    version: u64,
    exported_at: String,
    event: Event,
    tables: Vec<ArchivedTable>,
    /// Version 2 on; absent in version 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    documents: Option<Vec<ArchivedDocument>>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ArchivedDocument {
    room: String,
    state: String,
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
