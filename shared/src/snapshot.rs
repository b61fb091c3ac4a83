//! Read-only copies of tables that the summary and the exports work from: notes as values, and the full document state as bytes.
//!
//! The server builds these from its in-memory documents (one short read transaction each),
//! then hands them over; nothing here holds a `Doc` or a lock afterwards.

use yrs::updates::decoder::Decode;
use yrs::{Doc, Map, Out, ReadTxn, StateVector, Transact, Update};

use crate::day::DaySnapshot;
use crate::event::{Event, TableId};
use crate::export::svg::Underlay;
use crate::poster::{ImageKind, PosterLayer};
use crate::schema::{self, Note};

/// One table's notes, read with [`schema::read_notes`], and how many people are at it now.
#[derive(Debug, Clone, PartialEq)]
pub struct TableSnapshot {
    pub table_id: TableId,
    /// People connected to the table (the server counts its awareness states).
    pub participants: usize,
    pub notes: Vec<Note>,
    /// The poster's arrows and markers (the notes carry their own positions).
    pub poster: PosterLayer,
    /// The table's groups (title per id); a note names its group in `Note::group`.
    pub groups: Vec<crate::groups::Group>,
}

/// The event definition plus a snapshot of each table: the input of every export.
///
/// Tables are reported in the event's order; a snapshot of a table the event does not
/// define is reported after those, with its id as its title.
#[derive(Debug, Clone)]
pub struct EventSnapshot<'a> {
    pub event: &'a Event,
    pub tables: Vec<TableSnapshot>,
    /// The poster image the organiser gave (uploaded, or named in the event file), checked
    /// by [`ImageKind::sniff`]; `None` draws the built-in droomproces.
    pub poster_image: Option<(ImageKind, &'a [u8])>,
    /// The market, the lecture and the closing feedback (empty for a tables-only export).
    pub day: DaySnapshot,
}

/// One table's complete document state: a Yjs v1 update made with
/// `encode_state_as_update_v1` against the empty state vector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableState {
    pub table_id: TableId,
    pub update: Vec<u8>,
}

/// Why bytes that should hold a table's document state do not.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("state of table {table} is not a Yjs v1 update: {reason}")]
    Decode { table: TableId, reason: String },
    #[error("state of table {table} does not apply to an empty document: {reason}")]
    Apply { table: TableId, reason: String },
}

impl TableSnapshot {
    /// Reads the notes of `doc`.
    pub fn read(table_id: TableId, participants: usize, doc: &Doc) -> TableSnapshot {
        TableSnapshot {
            table_id,
            participants,
            notes: schema::read_notes(doc),
            poster: crate::poster::read_poster(doc),
            groups: crate::groups::read_groups(doc),
        }
    }

    /// Leaves every note's `author` and `authorId` empty.
    pub fn anonymize(&mut self) {
        for note in &mut self.notes {
            note.author.clear();
            note.author_id.clear();
        }
        for arrow in &mut self.poster.arrows {
            arrow.author.clear();
        }
        for marker in &mut self.poster.markers {
            marker.author.clear();
        }
    }
}

impl EventSnapshot<'_> {
    /// What a poster is drawn on in the exports.
    pub fn underlay(&self) -> Underlay<'_> {
        match self.poster_image {
            Some((kind, bytes)) => Underlay::Image { kind, bytes },
            None => Underlay::Builtin,
        }
    }

    /// The same snapshot with author names and ids left out of every note.
    pub fn anonymized(&self) -> Self {
        let mut copy = self.clone();
        copy.tables.iter_mut().for_each(TableSnapshot::anonymize);
        copy.day.anonymize();
        copy
    }
}

impl TableState {
    /// Encodes the complete state of `doc`.
    pub fn encode(table_id: TableId, doc: &Doc) -> TableState {
        let update = doc
            .transact()
            .encode_state_as_update_v1(&StateVector::default());
        TableState { table_id, update }
    }

    /// A new document holding this state; fails when the bytes are not a Yjs update.
    pub fn to_doc(&self) -> Result<Doc, StateError> {
        let update = Update::decode_v1(&self.update).map_err(|err| StateError::Decode {
            table: self.table_id.clone(),
            reason: err.to_string(),
        })?;
        let doc = Doc::new();
        doc.transact_mut()
            .apply_update(update)
            .map_err(|err| StateError::Apply {
                table: self.table_id.clone(),
                reason: err.to_string(),
            })?;
        Ok(doc)
    }

    /// This state with every note's `author` and `authorId` overwritten with the empty string.
    ///
    /// The overwritten values are deleted in the document and, because yrs garbage-collects
    /// deleted content when a transaction commits (a `Doc` collects unless `skip_gc` is
    /// set), the names are gone from the encoded bytes, not merely hidden.
    pub fn anonymized(&self) -> Result<TableState, StateError> {
        let doc = self.to_doc()?;
        {
            let mut txn = doc.transact_mut();
            let Some(notes) = txn.get_map(schema::NOTES) else {
                return Ok(self.clone());
            };
            let maps: Vec<_> = notes
                .iter(&txn)
                .filter_map(|(_, value)| match value {
                    Out::YMap(map) => Some(map),
                    _ => None,
                })
                .collect();
            for note in maps {
                for key in [schema::key::AUTHOR, schema::key::AUTHOR_ID] {
                    if note.get(&txn, key).is_some() {
                        note.insert(&mut txn, key, "");
                    }
                }
            }
        }
        Ok(TableState::encode(self.table_id.clone(), &doc))
    }
}
