//! The day's documents beside the tables in the JSON archive (version 2): read from a store
//! for `werktafel export`, and checked before `werktafel import` writes them. Which
//! documents they are is `werktafel_shared::export::documents::archived_rooms`.

use werktafel_shared::event::Event;
use werktafel_shared::export::documents::{DocumentState, archived_rooms};

use super::DataDirError;
use crate::store::{RoomKey, Store, build_doc};

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
