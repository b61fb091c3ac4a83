//! The documents of the day beside the tables that the JSON archive (version 2) carries, each
//! as its full Yjs state like a table's: the closing feedback's next steps
//! (`closing/next-steps`), the lecture board (`zaal`), every market stand (`markt-ot<N>`), and
//! the server-only ballots beside the lecture, the stands and the tables (`zaal/ballots`,
//! `markt-ot<N>/useful`, `<table>/ballots`), and the ledger of uploaded files (`market/files`,
//! without which a file is not served even when its bytes are copied across). The ballots travel too because a room's
//! published totals are recounted from them on the next vote: without them the first +1
//! after an import would wipe every earlier one.
//!
//! [`archived_rooms`] is the one list of what an archive of an event may hold beside its
//! tables, in the order the archive writes them; `read_archive` refuses any other name.

use yrs::updates::decoder::Decode;
use yrs::{Any, Doc, Map, MapPrelim, Out, ReadTxn, StateVector, Transact, Update, WriteTxn};

use super::ExportError;
use crate::closing::CLOSING_DOCUMENT;
use crate::event::Event;
use crate::market::{FILES_LEDGER, FILES_LEDGER_ROOT};
use crate::room::{BALLOTS, RoomRef, ballots_document};

/// One archived document beside the tables: its store name and full state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentState {
    /// The room's name in the store (the table part of its key), e.g. `zaal`.
    pub room: String,
    /// `encode_state_as_update_v1` of the whole document.
    pub update: Vec<u8>,
}

/// Roots whose entries carry an `author` and `authorId` that an anonymous archive clears:
/// the lecture's insights, a stand's tips and materials.
const AUTHORED_ROOTS: [&str; 3] = [
    crate::lecture::INSIGHTS,
    crate::market::TIPS,
    crate::market::MATERIALS,
];
const AUTHOR_KEYS: [&str; 2] = ["author", "authorId"];

/// Every room an archive of `event` may hold beside its tables, in archive order: the
/// closing document, the lecture board and its ballots (when the event has a lecture), each
/// stand and its useful marks (in the market's order), the files ledger (with a market), then
/// each table's ballots.
pub fn archived_rooms(event: &Event) -> Vec<String> {
    let mut rooms = vec![CLOSING_DOCUMENT.to_owned()];
    if event.has_lecture() {
        rooms.push(RoomRef::Lecture.name());
        rooms.push(ballots_document(&RoomRef::Lecture));
    }
    for team in event.stands() {
        let stand = RoomRef::Stand(team);
        rooms.push(stand.name());
        rooms.push(ballots_document(&stand));
    }
    if event.has_market() {
        rooms.push(FILES_LEDGER.to_owned());
    }
    for table in &event.tables {
        rooms.push(ballots_document(&RoomRef::Table(table)));
    }
    rooms
}

impl DocumentState {
    /// Encodes the complete state of `doc`.
    pub fn encode(room: impl Into<String>, doc: &Doc) -> DocumentState {
        let update = doc
            .transact()
            .encode_state_as_update_v1(&StateVector::default());
        DocumentState {
            room: room.into(),
            update,
        }
    }

    /// Whether the state holds nothing (a document never written): not worth archiving.
    pub fn is_empty(&self) -> bool {
        Update::decode_v1(&self.update).is_ok_and(|u| u.is_empty())
    }

    /// A new document holding this state; fails when the bytes are not a Yjs update.
    pub fn to_doc(&self) -> Result<Doc, ExportError> {
        let refuse = |reason: String| ExportError::ArchiveDocument {
            room: self.room.clone(),
            reason,
        };
        let update = Update::decode_v1(&self.update)
            .map_err(|err| refuse(format!("not a Yjs v1 update: {err}")))?;
        let doc = Doc::new();
        doc.transact_mut()
            .apply_update(update)
            .map_err(|err| refuse(format!("does not apply to an empty document: {err}")))?;
        Ok(doc)
    }

    /// This state without names: every `author` and `authorId` of an insight, tip or
    /// material overwritten with the empty string (yrs drops the old values from the bytes,
    /// see `TableState::anonymized`), and a ballots document rebuilt with its voters
    /// renamed `anoniem-1`, `anoniem-2`, … (in the order of their ids), so the totals still
    /// recount right after an import but no identity id leaves the server.
    pub fn anonymized(&self) -> Result<DocumentState, ExportError> {
        let doc = self.to_doc()?;
        if doc.transact().get_map(BALLOTS).is_some() {
            return Ok(DocumentState::encode(&self.room, &renamed_voters(&doc)));
        }
        {
            let mut txn = doc.transact_mut();
            if let Some(ledger) = txn.get_map(FILES_LEDGER_ROOT) {
                // Entries are plain maps: written anew without the uploader's id.
                let entries: Vec<(String, std::collections::HashMap<String, Any>)> = ledger
                    .iter(&txn)
                    .filter_map(|(id, value)| match value {
                        Out::Any(Any::Map(map)) => Some((id.to_owned(), (*map).clone())),
                        _ => None,
                    })
                    .collect();
                for (id, mut entry) in entries {
                    entry.insert("by".to_owned(), Any::from(""));
                    ledger.insert(&mut txn, id, Any::from(entry));
                }
            }
            for root in AUTHORED_ROOTS {
                let Some(map) = txn.get_map(root) else {
                    continue;
                };
                let entries: Vec<_> = map
                    .iter(&txn)
                    .filter_map(|(_, value)| match value {
                        Out::YMap(entry) => Some(entry),
                        _ => None,
                    })
                    .collect();
                for entry in entries {
                    for key in AUTHOR_KEYS {
                        if entry.get(&txn, key).is_some() {
                            entry.insert(&mut txn, key, "");
                        }
                    }
                }
            }
        }
        Ok(DocumentState::encode(&self.room, &doc))
    }
}

/// A fresh ballots document with the same votes under anonymous voter names.
fn renamed_voters(doc: &Doc) -> Doc {
    let txn = doc.transact();
    let mut voters: Vec<(String, Vec<(String, Any)>)> = Vec::new();
    if let Some(ballots) = txn.get_map(BALLOTS) {
        for (voter, ballot) in ballots.iter(&txn) {
            let Out::YMap(ballot) = ballot else { continue };
            let mut votes: Vec<(String, Any)> = ballot
                .iter(&txn)
                .filter_map(|(id, value)| match value {
                    Out::Any(any) => Some((id.to_owned(), any)),
                    _ => None,
                })
                .collect();
            votes.sort_by(|a, b| a.0.cmp(&b.0));
            voters.push((voter.to_owned(), votes));
        }
    }
    voters.sort_by(|a, b| a.0.cmp(&b.0));
    // A fixed client id: the same ballots give the same bytes.
    let fresh = Doc::with_client_id(1);
    {
        let mut txn = fresh.transact_mut();
        let ballots = txn.get_or_insert_map(BALLOTS);
        for (n, (_, votes)) in voters.into_iter().enumerate() {
            let ballot =
                ballots.insert(&mut txn, format!("anoniem-{}", n + 1), MapPrelim::default());
            for (id, value) in votes {
                ballot.insert(&mut txn, id, value);
            }
        }
    }
    fresh
}

#[cfg(test)]
mod tests;
