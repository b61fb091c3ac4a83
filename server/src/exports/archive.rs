//! The JSON archive on the server side: `werktafel import` ([`import_archive`], every
//! table and document screened before anything is written), and the day's documents beside
//! the tables (version 2) read from a store for `werktafel export`. Which
//! documents they are is `werktafel_shared::export::documents::archived_rooms`.

use werktafel_shared::event::Event;
use werktafel_shared::export::documents::{DocumentState, archived_rooms};

use super::DataDirError;
use crate::store::{RoomKey, Store, build_doc};
use werktafel_shared::export::{ExportError, json};

/// Every document of the day that a data directory holds, as the archive carries it.
///
/// As for tables, a document stored as exactly one entry (as after an import) is archived
/// byte for byte, and one that fails the screen is refused rather than left out: an archive
/// quietly missing the lecture would lose it on the next import.
pub fn stored_documents(
    store: &mut dyn Store,
    event: &Event,
) -> Result<Vec<DocumentState>, DataDirError> {
    let mut out = Vec::new();
    for room in archived_rooms(event) {
        let key = RoomKey::new(&event.slug, &room);
        let stored = store.load(&key)?;
        if stored.updates.is_empty() {
            continue;
        }
        if let Err(refusal) =
            crate::store::quarantine::check(stored.updates.iter().map(Vec::as_slice))
        {
            return Err(DataDirError::Unsafe {
                kind: "document",
                table: room,
                rule: refusal.to_string(),
            });
        }
        let state = match stored.updates.as_slice() {
            [only] => DocumentState {
                room,
                update: only.clone(),
            },
            _ => {
                let doc = build_doc(&key, stored.updates.iter().map(Vec::as_slice))?;
                DocumentState::encode(room, &doc)
            }
        };
        if !state.is_empty() {
            out.push(state);
        }
    }
    Ok(out)
}

/// Refuses a state that needs updates the archive does not hold: it would never load as
/// the document it claims to be.
pub fn complete(kind: &'static str, room: &str, doc: &yrs::Doc) -> Result<(), DataDirError> {
    if yrs::ReadTxn::has_missing_updates(&yrs::Transact::transact(doc)) {
        return Err(DataDirError::Refused {
            kind,
            table: room.to_owned(),
            rule: "its state depends on updates the archive does not hold".into(),
        });
    }
    Ok(())
}

/// What an import restored.
#[derive(Debug)]
pub struct Imported {
    pub event: String,
    pub tables: usize,
    /// The day's other documents (next steps, lecture, stands, ballots).
    pub documents: usize,
}

/// Restores a JSON archive (version 2 or 1) into an empty store: the event, its tables and
/// (version 2) the day's other documents.
///
/// Every table's and document's state passes the checks a live update passes
/// ([`crate::store::quarantine::check`]) before yrs decodes it and before anything
/// is written: a refused archive leaves the data directory as it was.
pub fn import_archive(
    store: &crate::store::StoreConfig,
    archive: &[u8],
) -> Result<Imported, DataDirError> {
    screen_archive(archive)?;
    let archive = json::read_archive(archive)?;
    for table in &archive.tables {
        // Complete on its own: an update waiting for another would never
        // load as the table it claims to be.
        let doc = table.to_doc().map_err(ExportError::from)?;
        complete("table", table.table_id.as_str(), &doc)?;
    }
    for document in &archive.documents {
        complete("document", &document.room, &document.to_doc()?)?;
    }
    let mut store = store.open()?;
    let rooms = store.rooms()?;
    if !rooms.is_empty() {
        let rooms = rooms
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ");
        return Err(DataDirError::NotEmpty { rooms });
    }
    let definition =
        serde_json::to_string(&archive.event).map_err(|e| DataDirError::BadDefinition {
            slug: archive.event.slug.clone(),
            reason: e.to_string(),
        })?;
    let tables = archive
        .tables
        .iter()
        .map(|t| (t.table_id.as_str(), &t.update));
    let documents = archive
        .documents
        .iter()
        .map(|d| (d.room.as_str(), &d.update));
    let records: Vec<crate::store::AppendRecord> = tables
        .chain(documents)
        .map(|(room, update)| crate::store::AppendRecord {
            room: RoomKey::new(&archive.event.slug, room),
            update: bytes::Bytes::from(update.clone()),
        })
        .collect();
    // The definition first: an import cut short leaves no tables, so it can
    // simply be run again.
    store.save_event(&archive.event.slug, &definition)?;
    store.append(&records)?;
    Ok(Imported {
        event: archive.event.slug.clone(),
        tables: archive.tables.len(),
        documents: archive.documents.len(),
    })
}

/// Runs each table state of an archive through the screen, reading only
/// what it needs of the file. `read_archive` decodes every state with yrs,
/// which recurses into nested values: one nested a million deep aborted the
/// import, so this comes first. An archive it cannot read at all is left
/// to `read_archive`, which says why.
fn screen_archive(archive: &[u8]) -> Result<(), DataDirError> {
    use base64::Engine;
    #[derive(serde::Deserialize)]
    struct States {
        tables: Vec<State>,
        #[serde(default)]
        documents: Vec<Document>,
    }
    #[derive(serde::Deserialize)]
    struct State {
        id: String,
        state: String,
    }
    #[derive(serde::Deserialize)]
    struct Document {
        room: String,
        state: String,
    }
    let Ok(states) = serde_json::from_slice::<States>(archive) else {
        return Ok(());
    };
    let tables = states.tables.into_iter().map(|t| ("table", t.id, t.state));
    let documents = states
        .documents
        .into_iter()
        .map(|d| ("document", d.room, d.state));
    for (kind, room, state) in tables.chain(documents) {
        let Ok(update) = base64::engine::general_purpose::STANDARD.decode(&state) else {
            continue;
        };
        crate::store::quarantine::check(std::iter::once(update.as_slice())).map_err(|refusal| {
            DataDirError::Refused {
                kind,
                table: room,
                rule: refusal.rule,
            }
        })?;
    }
    Ok(())
}
