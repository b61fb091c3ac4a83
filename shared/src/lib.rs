//! Werktafel's domain, shared by the server and the tests: pure values in, values out, no I/O.
//!
//! - [`event`]: the event definition (programme, development teams, work tables), read from
//!   TOML; [`Event::builtin`] is the Atelierdag 2022.
//! - [`closing`]: the closing feedback's next steps (server-only event document).
//! - [`day`]: what the day view and the werkboek take beside the tables: the market and the
//!   lecture.
//! - [`lecture`]: the lecture board's document (`zaal`): insights, +1 totals, pins.
//! - [`control`]: how a table is run (phase, lock, timer, voting rules) and vote totals.
//! - [`room`]: what a sync room name stands for: a table, a market stand (`markt-ot<N>`) or the
//!   lecture board (`zaal`).
//! - [`schema`]: the shape of a table's Yjs document (`docs/schema.md`): `meta` and notes.
//! - [`poster`]: the poster layer of a table document: note positions, arrows, markers.
//! - [`snapshot`]: read-only copies of tables (notes as values, full state as bytes) that
//!   the summary and the exports work from.
//! - [`export`]: Markdown, CSV, JSON archive, HTML report, XLSX, SVG boards and the ZIP
//!   package of them all, from an [`EventSnapshot`].
//! - [`summary`]: [`summarize`] merges every table into one [`Summary`] for the plenary.
//! - [`json_patch`]: RFC 6902 patches between two versions of a value (the live summary's deltas).

pub mod closing;
pub mod control;
pub mod day;
pub mod event;
pub mod export;
pub mod groups;
pub mod json_patch;
pub mod lecture;
pub mod market;
pub mod poster;
pub mod room;
pub mod schema;
pub mod snapshot;
pub mod summary;
pub mod upload;

pub use event::{
    BUILTIN_EVENT_TOML, Case, Cluster, Event, EventError, ProgrammeItem, ProgrammeKind, TableDef,
    TableId, Team,
};
pub use export::{Authors, CsvDelimiter, ExportError, ExportOptions};
pub use room::{Lecture, Market, RoomRef};
pub use schema::{Lane, Note, NoteColor, NoteDraft, Provenance, TableMeta};
pub use snapshot::{EventSnapshot, StateError, TableSnapshot, TableState};
pub use summary::{Summary, summarize, summarize_day};
