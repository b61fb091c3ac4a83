//! The poster layer of a table document (`docs/schema.md`, schema version 2): where notes sit on
//! the droomproces poster, the arrows drawn on it, and the "tussenstap" and "actor" markers.
//!
//! Lanes and poster are two views of the same notes: a note keeps its `lane` and may also have
//! a poster position (`posterX`, `posterY`). Arrows and markers live in their own top-level
//! maps, so a client that knows only schema version 1 never meets them (it ignores top-level
//! names it does not know). Readers cap what they return ([`MAX_POSTER_ARROWS`],
//! [`MAX_POSTER_MARKERS`], [`MAX_MARKER_LABEL_CHARS`]): a key-holder who writes ten thousand
//! arrows makes nobody else's board, summary or export draw them.

mod image;

pub use image::{ImageKind, MAX_POSTER_IMAGE_BYTES};

use serde::{Deserialize, Serialize};
use yrs::{
    Any, Doc, Map, MapPrelim, MapRef, Number, Out, ReadTxn, Transact, TransactionMut, WriteTxn,
};

use crate::schema::{NOTES, as_i64, get_string};

/// Name of the top-level `Y.Map` of poster arrows: id → `Y.Map { from, to | toX+toY, … }`.
pub const POSTER_ARROWS: &str = "posterArrows";
/// Name of the top-level `Y.Map` of poster markers: id → `Y.Map { kind, label, x, y, … }`.
pub const POSTER_MARKERS: &str = "posterMarkers";

/// The poster's width in poster units; positions are in these units, whatever the image's size.
pub const POSTER_WIDTH: f64 = 1600.0;
/// The poster's height in poster units.
pub const POSTER_HEIGHT: f64 = 1000.0;

/// Most arrows a table's poster shows; readers take the oldest this many.
pub const MAX_POSTER_ARROWS: usize = 200;
/// Most markers a table's poster shows; readers take the oldest this many.
pub const MAX_POSTER_MARKERS: usize = 200;
/// Longest marker label, in characters; longer labels are cut by every reader.
pub const MAX_MARKER_LABEL_CHARS: usize = 60;

/// How a table is shown: three lanes, or notes on the poster.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum BoardView {
    #[default]
    Lanes,
    Poster,
}

impl BoardView {
    pub fn as_str(self) -> &'static str {
        match self {
            BoardView::Lanes => "lanes",
            BoardView::Poster => "poster",
        }
    }

    pub fn parse(s: &str) -> Option<BoardView> {
        match s {
            "lanes" => Some(BoardView::Lanes),
            "poster" => Some(BoardView::Poster),
            _ => None,
        }
    }
}

/// A point on the poster, in poster units (0..[`POSTER_WIDTH`], 0..[`POSTER_HEIGHT`]).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PosterPoint {
    pub x: f64,
    pub y: f64,
}

impl PosterPoint {
    /// The point moved onto the poster: a client may write any finite number.
    pub fn clamped(self) -> PosterPoint {
        PosterPoint {
            x: self.x.clamp(0.0, POSTER_WIDTH),
            y: self.y.clamp(0.0, POSTER_HEIGHT),
        }
    }
}

/// Where an arrow ends: at another note, or at a point on the poster.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "kind")]
pub enum ArrowEnd {
    Note { id: String },
    Point { x: f64, y: f64 },
}

/// An arrow drawn on the poster, from a note.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PosterArrow {
    pub id: String,
    /// The note it starts at.
    pub from: String,
    pub to: ArrowEnd,
    pub author: String,
    pub created_at: i64,
}

/// The two kinds of small labelled shapes on the poster.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MarkerKind {
    /// A step the process is missing.
    Tussenstap,
    /// A party the process needs.
    Actor,
}

impl MarkerKind {
    pub const ALL: [MarkerKind; 2] = [MarkerKind::Tussenstap, MarkerKind::Actor];

    pub fn as_str(self) -> &'static str {
        match self {
            MarkerKind::Tussenstap => "tussenstap",
            MarkerKind::Actor => "actor",
        }
    }

    pub fn parse(s: &str) -> Option<MarkerKind> {
        MarkerKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// A "tussenstap" or "actor" marker on the poster.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PosterMarker {
    pub id: String,
    pub kind: MarkerKind,
    /// At most [`MAX_MARKER_LABEL_CHARS`] characters.
    pub label: String,
    pub x: f64,
    pub y: f64,
    pub author: String,
    pub created_at: i64,
}

/// A table's arrows and markers, as values, in creation order and capped.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PosterLayer {
    /// The facilitator's choice in `control.view`; `None` means the event file's default.
    #[serde(default)]
    pub view: Option<BoardView>,
    pub arrows: Vec<PosterArrow>,
    pub markers: Vec<PosterMarker>,
}

/// Key in the table's `control` map (server only) naming the poster image now: a short hash
/// of the uploaded image, written into every table of the event when the facilitator uploads
/// one, so open boards load the new picture (`poster?v={tag}`) without a page reload. Absent:
/// the poster never changed since the table was made (the event file's image or the drawing).
pub const POSTER_IMAGE_TAG: &str = "posterImage";

/// Writes the poster image's tag into `control` (see [`POSTER_IMAGE_TAG`]).
pub fn write_image_tag(txn: &mut TransactionMut, tag: &str) {
    txn.get_or_insert_map(crate::control::CONTROL)
        .insert(txn, POSTER_IMAGE_TAG, tag);
}

/// The poster image's tag in `control`, if the server wrote one.
pub fn read_image_tag(doc: &Doc) -> Option<String> {
    let txn = doc.transact();
    let map = txn.get_map(crate::control::CONTROL)?;
    get_string(&txn, &map, POSTER_IMAGE_TAG)
}

/// Key names inside a poster arrow, a poster marker and a note, exactly as in `docs/schema.md`.
pub mod key {
    pub const POSTER_X: &str = "posterX";
    pub const POSTER_Y: &str = "posterY";

    pub const FROM: &str = "from";
    pub const TO: &str = "to";
    pub const TO_X: &str = "toX";
    pub const TO_Y: &str = "toY";
    pub const KIND: &str = "kind";
    pub const LABEL: &str = "label";
    pub const X: &str = "x";
    pub const Y: &str = "y";
    pub const AUTHOR: &str = "author";
    pub const CREATED_AT: &str = "createdAt";
}

/// Reads the arrows and markers of `doc` (and the view chosen in `control`).
pub fn read_poster(doc: &Doc) -> PosterLayer {
    let txn = doc.transact();
    PosterLayer {
        view: crate::control::read_control_in(&txn).view,
        arrows: read_capped(&txn, POSTER_ARROWS, MAX_POSTER_ARROWS, read_arrow),
        markers: read_capped(&txn, POSTER_MARKERS, MAX_POSTER_MARKERS, read_marker),
    }
}

/// A note's poster position, if it has one; read leniently like every note key.
pub(crate) fn read_position<T: ReadTxn>(txn: &T, note: &MapRef) -> Option<PosterPoint> {
    let x = number(txn, note, key::POSTER_X)?;
    let y = number(txn, note, key::POSTER_Y)?;
    Some(PosterPoint { x, y }.clamped())
}

/// Places note `id` on the poster, or takes it off with `None`; returns whether the note exists.
pub fn set_position(txn: &mut TransactionMut, id: &str, at: Option<PosterPoint>) -> bool {
    let Some(notes) = txn.get_map(NOTES) else {
        return false;
    };
    let Some(Out::YMap(note)) = notes.get(txn, id) else {
        return false;
    };
    match at {
        Some(point) => {
            let point = point.clamped();
            note.insert(txn, key::POSTER_X, float(point.x));
            note.insert(txn, key::POSTER_Y, float(point.y));
        }
        None => {
            note.remove(txn, key::POSTER_X);
            note.remove(txn, key::POSTER_Y);
        }
    }
    true
}

/// Writes `posterArrows[arrow.id]`.
pub fn insert_arrow(txn: &mut TransactionMut, arrow: &PosterArrow) {
    let arrows = txn.get_or_insert_map(POSTER_ARROWS);
    let map = arrows.insert(txn, arrow.id.as_str(), MapPrelim::default());
    map.insert(txn, key::FROM, arrow.from.as_str());
    match &arrow.to {
        ArrowEnd::Note { id } => {
            map.insert(txn, key::TO, id.as_str());
        }
        ArrowEnd::Point { x, y } => {
            map.insert(txn, key::TO_X, float(*x));
            map.insert(txn, key::TO_Y, float(*y));
        }
    }
    map.insert(txn, key::AUTHOR, arrow.author.as_str());
    map.insert(txn, key::CREATED_AT, float(arrow.created_at as f64));
}

/// Writes `posterMarkers[marker.id]`, its label cut to [`MAX_MARKER_LABEL_CHARS`].
pub fn insert_marker(txn: &mut TransactionMut, marker: &PosterMarker) {
    let markers = txn.get_or_insert_map(POSTER_MARKERS);
    let map = markers.insert(txn, marker.id.as_str(), MapPrelim::default());
    map.insert(txn, key::KIND, marker.kind.as_str());
    map.insert(txn, key::LABEL, cut_label(&marker.label));
    map.insert(txn, key::X, float(marker.x));
    map.insert(txn, key::Y, float(marker.y));
    map.insert(txn, key::AUTHOR, marker.author.as_str());
    map.insert(txn, key::CREATED_AT, float(marker.created_at as f64));
}

/// A label cut to [`MAX_MARKER_LABEL_CHARS`] characters.
pub fn cut_label(label: &str) -> String {
    label.chars().take(MAX_MARKER_LABEL_CHARS).collect()
}

/// Reads the entries of root map `root` that are maps, oldest first (ties by id), at most `cap`.
/// Sorting before cutting makes every reader (Rust and TypeScript) keep the same ones.
fn read_capped<T: ReadTxn, V>(
    txn: &T,
    root: &str,
    cap: usize,
    read: fn(&T, &str, &MapRef) -> Option<(i64, V)>,
) -> Vec<V> {
    let Some(map) = txn.get_map(root) else {
        return Vec::new();
    };
    let mut items: Vec<(i64, String, V)> = map
        .iter(txn)
        .filter_map(|(id, value)| match value {
            Out::YMap(entry) => {
                read(txn, id, &entry).map(|(created, item)| (created, id.to_owned(), item))
            }
            _ => None,
        })
        .collect();
    items.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.cmp(&b.1)));
    items
        .into_iter()
        .take(cap)
        .map(|(_, _, item)| item)
        .collect()
}

fn read_arrow<T: ReadTxn>(txn: &T, id: &str, map: &MapRef) -> Option<(i64, PosterArrow)> {
    let from = get_string(txn, map, key::FROM).filter(|f| !f.is_empty())?;
    let to = match get_string(txn, map, key::TO).filter(|t| !t.is_empty()) {
        Some(id) => ArrowEnd::Note { id },
        None => {
            let point = PosterPoint {
                x: number(txn, map, key::TO_X)?,
                y: number(txn, map, key::TO_Y)?,
            }
            .clamped();
            ArrowEnd::Point {
                x: point.x,
                y: point.y,
            }
        }
    };
    let created_at = created(txn, map);
    Some((
        created_at,
        PosterArrow {
            id: id.to_owned(),
            from,
            to,
            author: get_string(txn, map, key::AUTHOR).unwrap_or_default(),
            created_at,
        },
    ))
}

fn read_marker<T: ReadTxn>(txn: &T, id: &str, map: &MapRef) -> Option<(i64, PosterMarker)> {
    let kind = MarkerKind::parse(&get_string(txn, map, key::KIND)?)?;
    let at = PosterPoint {
        x: number(txn, map, key::X).unwrap_or(0.0),
        y: number(txn, map, key::Y).unwrap_or(0.0),
    }
    .clamped();
    let created_at = created(txn, map);
    Some((
        created_at,
        PosterMarker {
            id: id.to_owned(),
            kind,
            label: cut_label(&get_string(txn, map, key::LABEL).unwrap_or_default()),
            x: at.x,
            y: at.y,
            author: get_string(txn, map, key::AUTHOR).unwrap_or_default(),
            created_at,
        },
    ))
}

fn created<T: ReadTxn>(txn: &T, map: &MapRef) -> i64 {
    map.get(txn, key::CREATED_AT)
        .and_then(|o| as_i64(&o))
        .unwrap_or(0)
}

fn number<T: ReadTxn>(txn: &T, map: &MapRef, name: &str) -> Option<f64> {
    let value = match map.get(txn, name)? {
        Out::Any(Any::Number(Number::Float(f))) => f,
        Out::Any(Any::Number(Number::Int(i))) => i as f64,
        _ => return None,
    };
    value.is_finite().then_some(value)
}

fn float(value: f64) -> Any {
    Any::Number(Number::Float(value))
}

#[cfg(test)]
mod tests;
