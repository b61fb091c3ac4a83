//! The shape of a table's Yjs document (`docs/schema.md`): writing `meta` and notes, reading them back.
//!
//! Readers are lenient because browsers write this document too: an entry that is not what
//! the schema says is skipped or read with defaults, never a panic. Writers are strict and
//! write exactly the keys and value types in `docs/schema.md`, so the TypeScript side in
//! `web/src/schema.ts` reads what we write.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use yrs::{
    Any, Doc, GetString, Map, MapPrelim, MapRef, Number, Out, ReadTxn, TextPrelim, Transact,
    TransactionMut, WriteTxn,
};

use crate::event::{Case, Cluster, Event, TableDef, TableId, Team};

/// Name of the top-level `Y.Map` describing the table, written once by the server.
pub const META: &str = "meta";
/// Name of the top-level `Y.Map` from note id to note.
pub const NOTES: &str = "notes";
/// The schema version written to `meta.schemaVersion`.
/// Version 2 added the poster (`posterX`/`posterY` on notes, `posterArrows`, `posterMarkers`,
/// `control.view`); see `docs/schema.md` for how a version 1 client sees them.
pub const SCHEMA_VERSION: u32 = 2;

/// The three lanes of the board, in display order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lane {
    /// "Wat gaat al goed"
    Goed,
    /// "Waar moeten we op doorpakken"
    Doorpakken,
    /// "Vervolgstappen"
    Vervolgstap,
}

/// The colours a note can have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NoteColor {
    Geel,
    Roze,
    Blauw,
    Groen,
    Oranje,
    Paars,
}

/// A note as read from the document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Note {
    pub id: String,
    pub text: String,
    pub lane: Lane,
    pub color: NoteColor,
    pub x: f64,
    pub y: f64,
    pub author: String,
    pub author_id: String,
    /// Milliseconds since the Unix epoch.
    pub created_at: i64,
    /// Milliseconds since the Unix epoch.
    pub updated_at: i64,
    /// Who takes a next step on (wie); empty when unset.
    #[serde(default)]
    pub owner: String,
    /// When a next step happens (wanneer), as people write it; empty when unset.
    #[serde(default)]
    pub due: String,
    /// The group this note is clustered into, if any.
    #[serde(default)]
    pub group: Option<String>,
    /// Dot votes on this note, as published in `votes` (0 while counts are hidden).
    #[serde(default)]
    pub votes: u32,
    /// Where the note sits on the poster (`posterX`, `posterY`); `None` while it waits in the tray.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub poster: Option<crate::poster::PosterPoint>,
    /// Where the note came from, when it was brought in from a market stand's tip.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provenance: Option<Provenance>,
}

/// A note's link to the market tip it was brought in from (`provenance`: `{ stand, tip }`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Provenance {
    /// The stand's room name (`markt-ot2`).
    pub stand: String,
    /// The tip's id in that stand's `tips`.
    pub tip: String,
}

impl Provenance {
    /// `markt OT 2`, from the room name alone (where the event is not at hand).
    pub fn short_label(&self) -> String {
        match self.stand.strip_prefix(crate::room::STAND_PREFIX) {
            Some(number) => format!("markt OT {number}"),
            None => format!("markt {}", self.stand),
        }
    }

    /// How the exports name it: `markt OT 2 (Stedelijk programmeren en samenwerken)`; the
    /// room name alone for a stand the event does not have.
    pub fn label(&self, event: &Event) -> String {
        match event.room(&self.stand) {
            Some(crate::room::RoomRef::Stand(team)) => {
                format!("markt OT {} ({})", team.number, team.name)
            }
            _ => format!("markt {}", self.stand),
        }
    }
}

/// A new note, to be written by [`insert_note`]; `now_ms` becomes both timestamps.
#[derive(Debug, Clone, PartialEq)]
pub struct NoteDraft {
    pub id: String,
    pub text: String,
    pub lane: Lane,
    pub color: NoteColor,
    pub x: f64,
    pub y: f64,
    pub author: String,
    pub author_id: String,
    pub now_ms: i64,
}

/// What `meta` says about the table: a copy of its definition with the teams resolved.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TableMeta {
    pub schema_version: u32,
    pub table_id: TableId,
    pub title: String,
    pub question: String,
    pub cluster: Cluster,
    pub cases: Vec<Case>,
    pub teams: Vec<Team>,
}

/// Writes `meta` from the event definition unless it already has a `schemaVersion`; an older
/// `schemaVersion` is moved up to [`SCHEMA_VERSION`].
///
/// Returns whether it wrote. When `meta` is already there nothing is written, so no update is
/// produced and reopening a table costs its clients nothing. The check and the write share one
/// transaction, so two callers racing on a cold table cannot both write.
pub fn ensure_meta(doc: &Doc, event: &Event, table: &TableDef) -> bool {
    let mut txn = doc.transact_mut();
    let meta = txn.get_or_insert_map(META);
    if let Some(version) = meta.get(&txn, key::SCHEMA_VERSION) {
        // A table made by an older server says which version its items follow; version 2
        // only added items, so moving the number up is all an upgrade takes.
        if as_i64(&version).is_some_and(|v| v < i64::from(SCHEMA_VERSION)) {
            meta.insert(&mut txn, key::SCHEMA_VERSION, Any::from(SCHEMA_VERSION));
            return true;
        }
        return false;
    }
    TableMeta::from_event(event, table).write(&mut txn, &meta);
    true
}

/// Reads `meta` back; `None` until [`ensure_meta`] has written it.
pub fn read_meta(doc: &Doc) -> Option<TableMeta> {
    let txn = doc.transact();
    let meta = txn.get_map(META)?;
    let schema_version = meta
        .get(&txn, key::SCHEMA_VERSION)
        .and_then(|out| as_i64(&out))
        .and_then(|v| u32::try_from(v).ok())?;
    // Only the server writes `meta`; a table id that does not validate was not written by us.
    let table_id = get_string(&txn, &meta, key::TABLE_ID)?.parse().ok()?;
    let any_of = |name: &str| match meta.get(&txn, name) {
        Some(Out::Any(any)) => any,
        _ => Any::Undefined,
    };
    Some(TableMeta {
        schema_version,
        table_id,
        title: get_string(&txn, &meta, key::TITLE).unwrap_or_default(),
        question: get_string(&txn, &meta, key::QUESTION).unwrap_or_default(),
        cluster: cluster_from_any(&any_of(key::CLUSTER)),
        cases: array_items(&any_of(key::CASES))
            .filter_map(case_from_any)
            .collect(),
        teams: array_items(&any_of(key::TEAMS))
            .filter_map(team_from_any)
            .collect(),
    })
}

/// Reads all notes, sorted by lane, then top to bottom, left to right, then id, so that every
/// reader (exports, summaries, tests) sees the same order whatever order the map iterates in.
pub fn read_notes(doc: &Doc) -> Vec<Note> {
    let txn = doc.transact();
    let Some(notes) = txn.get_map(NOTES) else {
        return Vec::new();
    };
    let votes = crate::control::read_vote_totals_in(&txn);
    let mut result: Vec<Note> = notes
        .iter(&txn)
        .filter_map(|(id, value)| match value {
            Out::YMap(map) => Some(read_note(&txn, id, &map)),
            _ => None,
        })
        .map(|mut note| {
            note.votes = votes.get(&note.id).copied().unwrap_or(0);
            note
        })
        .collect();
    result.sort_by(compare_notes);
    result
}

/// The number of notes, counted as [`read_notes`] counts them (entries that are maps).
pub fn note_count(doc: &Doc) -> usize {
    let txn = doc.transact();
    txn.get_map(NOTES).map_or(0, |notes| {
        notes
            .iter(&txn)
            .filter(|(_, value)| matches!(value, Out::YMap(_)))
            .count()
    })
}

/// Writes `notes[draft.id]` as a `Y.Map` with a `Y.Text` for the text; replaces a note with
/// the same id.
pub fn insert_note(txn: &mut TransactionMut, draft: &NoteDraft) {
    let notes = txn.get_or_insert_map(NOTES);
    let note = notes.insert(txn, draft.id.as_str(), MapPrelim::default());
    note.insert(txn, key::TEXT, TextPrelim::new(draft.text.as_str()));
    note.insert(txn, key::LANE, draft.lane.as_str());
    note.insert(txn, key::COLOR, draft.color.as_str());
    // Positions and timestamps are written as floats: that is what a JS number is, and the
    // TypeScript side then reads plain numbers whatever their size.
    note.insert(txn, key::X, Any::Number(Number::Float(draft.x)));
    note.insert(txn, key::Y, Any::Number(Number::Float(draft.y)));
    note.insert(txn, key::AUTHOR, draft.author.as_str());
    note.insert(txn, key::AUTHOR_ID, draft.author_id.as_str());
    let now = Any::Number(Number::Float(draft.now_ms as f64));
    note.insert(txn, key::CREATED_AT, now.clone());
    note.insert(txn, key::UPDATED_AT, now);
}

/// Sets note `id`'s `provenance` (a plain map `{ stand, tip }`); returns whether the note exists.
pub fn set_provenance(txn: &mut TransactionMut, id: &str, provenance: &Provenance) -> bool {
    let Some(Out::YMap(note)) = txn.get_map(NOTES).and_then(|notes| notes.get(txn, id)) else {
        return false;
    };
    let value = any_map([
        (key::PROVENANCE_STAND, Any::from(provenance.stand.as_str())),
        (key::PROVENANCE_TIP, Any::from(provenance.tip.as_str())),
    ]);
    note.insert(txn, key::PROVENANCE, value);
    true
}

fn read_provenance<T: ReadTxn>(txn: &T, map: &MapRef) -> Option<Provenance> {
    let Some(Out::Any(Any::Map(value))) = map.get(txn, key::PROVENANCE) else {
        return None;
    };
    let stand = any_str(value.get(key::PROVENANCE_STAND));
    let tip = any_str(value.get(key::PROVENANCE_TIP));
    (!stand.is_empty() && !tip.is_empty()).then_some(Provenance { stand, tip })
}

/// Deletes `notes[id]`; returns whether there was such a note.
pub fn delete_note(txn: &mut TransactionMut, id: &str) -> bool {
    let Some(notes) = txn.get_map(NOTES) else {
        return false;
    };
    notes.remove(txn, id).is_some()
}

impl Lane {
    pub const ALL: [Lane; 3] = [Lane::Goed, Lane::Doorpakken, Lane::Vervolgstap];

    /// The value stored in a note's `lane`.
    pub fn as_str(self) -> &'static str {
        match self {
            Lane::Goed => "goed",
            Lane::Doorpakken => "doorpakken",
            Lane::Vervolgstap => "vervolgstap",
        }
    }

    /// Parses a stored value; `None` for anything unknown (readers then use [`Lane::Goed`]).
    pub fn parse(value: &str) -> Option<Lane> {
        Lane::ALL.into_iter().find(|lane| lane.as_str() == value)
    }

    /// The lane's heading on the board, in Dutch.
    pub fn title(self) -> &'static str {
        match self {
            Lane::Goed => "Wat gaat al goed",
            Lane::Doorpakken => "Waar moeten we op doorpakken",
            Lane::Vervolgstap => "Vervolgstappen",
        }
    }
}

impl NoteColor {
    pub const ALL: [NoteColor; 6] = [
        NoteColor::Geel,
        NoteColor::Roze,
        NoteColor::Blauw,
        NoteColor::Groen,
        NoteColor::Oranje,
        NoteColor::Paars,
    ];

    /// The value stored in a note's `color`.
    pub fn as_str(self) -> &'static str {
        match self {
            NoteColor::Geel => "geel",
            NoteColor::Roze => "roze",
            NoteColor::Blauw => "blauw",
            NoteColor::Groen => "groen",
            NoteColor::Oranje => "oranje",
            NoteColor::Paars => "paars",
        }
    }

    /// Parses a stored value; `None` for anything unknown (readers then use [`NoteColor::Geel`]).
    pub fn parse(value: &str) -> Option<NoteColor> {
        NoteColor::ALL
            .into_iter()
            .find(|color| color.as_str() == value)
    }
}

impl TableMeta {
    /// What `meta` should hold for `table`; team numbers the event does not define are left out.
    pub fn from_event(event: &Event, table: &TableDef) -> TableMeta {
        TableMeta {
            schema_version: SCHEMA_VERSION,
            table_id: table.id.clone(),
            title: table.title.clone(),
            question: table.question.clone(),
            cluster: table.cluster.clone(),
            cases: table.cases.clone(),
            teams: table
                .teams
                .iter()
                .filter_map(|&number| event.team(number).cloned())
                .collect(),
        }
    }

    /// Writes every key as a plain value: `meta` never holds nested shared types.
    fn write(&self, txn: &mut TransactionMut, meta: &MapRef) {
        meta.insert(txn, key::TABLE_ID, self.table_id.as_str());
        meta.insert(txn, key::TITLE, self.title.as_str());
        meta.insert(txn, key::QUESTION, self.question.as_str());
        meta.insert(
            txn,
            key::CLUSTER,
            any_map([
                ("id", Any::from(self.cluster.id.as_str())),
                ("title", Any::from(self.cluster.title.as_str())),
                ("question", Any::from(self.cluster.question.as_str())),
            ]),
        );
        let cases = self.cases.iter().map(|case| {
            any_map([
                ("name", Any::from(case.name.as_str())),
                ("city", Any::from(case.city.as_str())),
            ])
        });
        meta.insert(txn, key::CASES, any_array(cases));
        let teams = self.teams.iter().map(|team| {
            any_map([
                ("number", Any::from(team.number)),
                ("name", Any::from(team.name.as_str())),
                (
                    "focus",
                    any_array(team.focus.iter().map(|f| Any::from(f.as_str()))),
                ),
            ])
        });
        meta.insert(txn, key::TEAMS, any_array(teams));
        // Written last: its presence is what marks `meta` as complete.
        meta.insert(txn, key::SCHEMA_VERSION, Any::from(self.schema_version));
    }
}

/// Key names inside `meta` and inside a note, exactly as in `docs/schema.md`.
pub mod key {
    pub const SCHEMA_VERSION: &str = "schemaVersion";
    pub const TABLE_ID: &str = "tableId";
    pub const TITLE: &str = "title";
    pub const QUESTION: &str = "question";
    pub const CLUSTER: &str = "cluster";
    pub const CASES: &str = "cases";
    pub const TEAMS: &str = "teams";

    pub const TEXT: &str = "text";
    pub const LANE: &str = "lane";
    pub const COLOR: &str = "color";
    pub const X: &str = "x";
    pub const Y: &str = "y";
    pub const AUTHOR: &str = "author";
    pub const AUTHOR_ID: &str = "authorId";
    pub const CREATED_AT: &str = "createdAt";
    pub const UPDATED_AT: &str = "updatedAt";
    pub const OWNER: &str = "owner";
    pub const DUE: &str = "due";
    pub const GROUP: &str = "group";
    /// A note's link to a market tip: `{ stand, tip }`.
    pub const PROVENANCE: &str = "provenance";
    pub const PROVENANCE_STAND: &str = "stand";
    pub const PROVENANCE_TIP: &str = "tip";
}

fn read_note<T: ReadTxn>(txn: &T, id: &str, map: &MapRef) -> Note {
    let string = |name: &str| get_string(txn, map, name).unwrap_or_default();
    let float = |name: &str| map.get(txn, name).and_then(|out| as_f64(&out));
    let int = |name: &str| map.get(txn, name).and_then(|out| as_i64(&out));
    Note {
        id: id.to_owned(),
        text: string(key::TEXT),
        lane: Lane::parse(&string(key::LANE)).unwrap_or(Lane::Goed),
        color: NoteColor::parse(&string(key::COLOR)).unwrap_or(NoteColor::Geel),
        x: float(key::X).unwrap_or(0.0),
        y: float(key::Y).unwrap_or(0.0),
        author: string(key::AUTHOR),
        author_id: string(key::AUTHOR_ID),
        created_at: int(key::CREATED_AT).unwrap_or(0),
        updated_at: int(key::UPDATED_AT).unwrap_or(0),
        owner: string(key::OWNER),
        due: string(key::DUE),
        group: get_string(txn, map, key::GROUP).filter(|g| !g.is_empty()),
        votes: 0,
        poster: crate::poster::read_position(txn, map),
        provenance: read_provenance(txn, map),
    }
}

fn compare_notes(a: &Note, b: &Note) -> Ordering {
    a.lane
        .cmp(&b.lane)
        .then(a.y.total_cmp(&b.y))
        .then(a.x.total_cmp(&b.x))
        .then_with(|| a.id.cmp(&b.id))
}

/// A string value; a `Y.Text` is read as its content, so a client that stores text as a
/// shared type where a plain string is expected (or the reverse) still reads back.
pub(crate) fn get_string<T: ReadTxn>(txn: &T, map: &MapRef, name: &str) -> Option<String> {
    match map.get(txn, name)? {
        Out::Any(Any::String(s)) => Some(s.to_string()),
        Out::YText(text) => Some(text.get_string(txn)),
        _ => None,
    }
}

/// A finite number, whichever way it was encoded (JS writes integers as varints, others as
/// floats, and large integers may arrive as BigInt).
fn as_f64(out: &Out) -> Option<f64> {
    match out {
        Out::Any(any) => any_f64(any),
        _ => None,
    }
}

pub(crate) fn as_i64(out: &Out) -> Option<i64> {
    match out {
        Out::Any(any) => any_i64(any),
        _ => None,
    }
}

fn any_f64(any: &Any) -> Option<f64> {
    let value = match any {
        Any::Number(Number::Float(f)) => *f,
        Any::Number(Number::Int(i)) => *i as f64,
        _ => return None,
    };
    value.is_finite().then_some(value)
}

pub(crate) fn any_i64(any: &Any) -> Option<i64> {
    match any {
        Any::Number(Number::Int(i)) => Some(*i),
        // `as` saturates, and a finite float is what JS clients send for every number.
        Any::Number(Number::Float(f)) if f.is_finite() => Some(f.round() as i64),
        _ => None,
    }
}

pub(crate) fn any_str(any: Option<&Any>) -> String {
    match any {
        Some(Any::String(s)) => s.to_string(),
        _ => String::new(),
    }
}

fn array_items(any: &Any) -> impl Iterator<Item = &Any> {
    let items: &[Any] = match any {
        Any::Array(items) => items,
        _ => &[],
    };
    items.iter()
}

fn cluster_from_any(any: &Any) -> Cluster {
    let field = |name: &str| match any {
        Any::Map(map) => any_str(map.get(name)),
        _ => String::new(),
    };
    Cluster {
        id: field("id"),
        title: field("title"),
        question: field("question"),
    }
}

fn case_from_any(any: &Any) -> Option<Case> {
    let Any::Map(map) = any else {
        return None;
    };
    Some(Case {
        name: any_str(map.get("name")),
        city: any_str(map.get("city")),
    })
}

fn team_from_any(any: &Any) -> Option<Team> {
    let Any::Map(map) = any else {
        return None;
    };
    let number = map
        .get("number")
        .and_then(any_i64)
        .and_then(|n| u32::try_from(n).ok())?;
    Some(Team {
        number,
        name: any_str(map.get("name")),
        focus: map
            .get("focus")
            .map(|focus| array_items(focus).map(|f| any_str(Some(f))).collect())
            .unwrap_or_default(),
    })
}

pub(crate) fn any_map<const N: usize>(entries: [(&str, Any); N]) -> Any {
    let map: HashMap<String, Any> = entries
        .into_iter()
        .map(|(name, value)| (name.to_owned(), value))
        .collect();
    Any::Map(Arc::new(map))
}

pub(crate) fn any_array(items: impl Iterator<Item = Any>) -> Any {
    Any::Array(items.collect::<Vec<_>>().into())
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod fixture;
#[cfg(test)]
mod lecture_fixture;
