//! The lecture board's Yjs document (room `zaal`, `docs/schema.md` "The lecture board"):
//! one-line insights and questions that participants post, the +1 totals the server
//! publishes (one +1 per signed identity, counted in a server-only ballots document), and
//! the facilitator's pins for the closing feedback.
//!
//! Clients write `insights`; only the server writes `votes` (+1 totals) and `control.pins`,
//! both under the server-only roots the screen guards for every room.

use std::collections::HashMap;

use yrs::{Any, Doc, Map, MapRef, Out, ReadTxn, Transact, TransactionMut, WriteTxn};

use crate::control::{CONTROL, VOTES, read_vote_totals_in};
use crate::day::{BoardItem, LectureSnapshot};
use crate::schema::{as_i64, get_string};

/// Name of the top-level `Y.Map` of insights: id → `Y.Map` of plain values.
pub const INSIGHTS: &str = "insights";
/// The document's top-level names: [`INSIGHTS`], then the server-only `votes` and `control`.
pub const LECTURE_ROOTS: [&str; 3] = [INSIGHTS, VOTES, CONTROL];
/// Key in `control` of the pinned insight ids, in pin order (an array of strings).
pub const PINS: &str = "pins";

/// Longest insight the board shows, in characters: one line on a phone, twice. The client
/// stops typing there; a longer text written past it is cut when read.
pub const MAX_INSIGHT_CHARS: usize = 280;
/// Most insights pinned at once: "a few" for the closing feedback.
pub const MAX_PINS: usize = 12;

/// Key names of an insight.
pub mod insight_key {
    pub const TEXT: &str = "text";
    pub const KIND: &str = "kind";
    pub const AUTHOR: &str = "author";
    pub const AUTHOR_ID: &str = "authorId";
    pub const CREATED_AT: &str = "createdAt";
}

/// What an item of the board is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum InsightKind {
    #[default]
    Inzicht,
    Vraag,
}

/// Why a pin is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PinError {
    #[error("at most {max} insights can be pinned; unpin one first")]
    TooMany { max: usize },
}

impl InsightKind {
    pub fn as_str(self) -> &'static str {
        match self {
            InsightKind::Inzicht => "inzicht",
            InsightKind::Vraag => "vraag",
        }
    }

    /// An unknown kind reads as an insight.
    pub fn parse(value: &str) -> InsightKind {
        if value == "vraag" {
            InsightKind::Vraag
        } else {
            InsightKind::Inzicht
        }
    }
}

/// A new insight, as a client writes it (the server's tests and imports use this).
#[derive(Debug, Clone, PartialEq)]
pub struct InsightDraft {
    pub id: String,
    pub text: String,
    pub kind: InsightKind,
    pub author: String,
    pub author_id: String,
    pub now_ms: i64,
}

/// Writes an insight as the web client does.
pub fn insert_insight(txn: &mut TransactionMut, draft: &InsightDraft) {
    let insights = txn.get_or_insert_map(INSIGHTS);
    let item = insights.insert(txn, draft.id.as_str(), yrs::MapPrelim::default());
    item.insert(txn, insight_key::TEXT, draft.text.as_str());
    item.insert(txn, insight_key::KIND, draft.kind.as_str());
    item.insert(txn, insight_key::AUTHOR, draft.author.as_str());
    item.insert(txn, insight_key::AUTHOR_ID, draft.author_id.as_str());
    let now = Any::Number(yrs::Number::Float(draft.now_ms as f64));
    item.insert(txn, insight_key::CREATED_AT, now);
}

/// Every insight with its +1s and pin, in no particular order (the summary ranks them).
pub fn read_lecture(doc: &Doc) -> LectureSnapshot {
    let txn = doc.transact();
    let totals = read_vote_totals_in(&txn);
    let pins = read_pins_in(&txn);
    let Some(insights) = txn.get_map(INSIGHTS) else {
        return LectureSnapshot::default();
    };
    let items = insights
        .iter(&txn)
        .filter_map(|(id, value)| match value {
            Out::YMap(map) => Some(read_insight(&txn, id, &map, &totals, &pins)),
            _ => None,
        })
        .collect();
    LectureSnapshot { items }
}

/// Whether the board has an insight `id`.
pub fn has_insight(doc: &Doc, id: &str) -> bool {
    let txn = doc.transact();
    txn.get_map(INSIGHTS)
        .is_some_and(|insights| matches!(insights.get(&txn, id), Some(Out::YMap(_))))
}

/// The pinned ids, in pin order.
pub fn read_pins_in<T: ReadTxn>(txn: &T) -> Vec<String> {
    let Some(control) = txn.get_map(CONTROL) else {
        return Vec::new();
    };
    match control.get(txn, PINS) {
        Some(Out::Any(Any::Array(ids))) => ids
            .iter()
            .filter_map(|id| match id {
                Any::String(s) => Some(s.to_string()),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// `pins` with `id` pinned (at the end) or unpinned; pinning twice or unpinning what is
/// not pinned changes nothing.
pub fn pinned(pins: &[String], id: &str, pin: bool) -> Result<Vec<String>, PinError> {
    let mut next: Vec<String> = pins.iter().filter(|p| *p != id).cloned().collect();
    if pin {
        if pins.iter().any(|p| p == id) {
            return Ok(pins.to_vec());
        }
        if next.len() >= MAX_PINS {
            return Err(PinError::TooMany { max: MAX_PINS });
        }
        next.push(id.to_string());
    }
    Ok(next)
}

/// Writes the pinned ids (server only).
pub fn write_pins(txn: &mut TransactionMut, pins: &[String]) {
    let control = txn.get_or_insert_map(CONTROL);
    let ids: Vec<Any> = pins.iter().map(|p| Any::from(p.as_str())).collect();
    control.insert(txn, PINS, Any::Array(ids.into()));
}

/// Writes the +1 totals (server only): insight id → +1s; zero totals are left out.
pub fn write_plus_ones(txn: &mut TransactionMut, totals: &HashMap<String, u32>) {
    crate::control::write_vote_totals(txn, totals);
    debug_assert!(txn.get_map(VOTES).is_some());
}

fn read_insight<T: ReadTxn>(
    txn: &T,
    id: &str,
    map: &MapRef,
    totals: &HashMap<String, u32>,
    pins: &[String],
) -> BoardItem {
    let string = |name: &str| get_string(txn, map, name).unwrap_or_default();
    let mut text = string(insight_key::TEXT).trim().to_string();
    if let Some((cut, _)) = text.char_indices().nth(MAX_INSIGHT_CHARS) {
        text.truncate(cut);
        text.push('…');
    }
    BoardItem {
        id: id.to_string(),
        text,
        kind: InsightKind::parse(&string(insight_key::KIND))
            .as_str()
            .to_string(),
        author: string(insight_key::AUTHOR),
        created_at: map
            .get(txn, insight_key::CREATED_AT)
            .and_then(|v| as_i64(&v))
            .unwrap_or(0),
        plus_ones: totals.get(id).copied().unwrap_or(0),
        pinned: pins
            .iter()
            .position(|p| p == id)
            .and_then(|i| u32::try_from(i).ok()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft(id: &str, text: &str, kind: InsightKind) -> InsightDraft {
        InsightDraft {
            id: id.into(),
            text: text.into(),
            kind,
            author: "Anna".into(),
            author_id: "dev".into(),
            now_ms: 5,
        }
    }

    #[test]
    fn insights_read_back_with_plus_ones_and_pins() {
        let doc = Doc::new();
        {
            let mut txn = doc.transact_mut();
            insert_insight(
                &mut txn,
                &draft("i1", "  Fietsen is ruimte  ", InsightKind::Inzicht),
            );
            insert_insight(&mut txn, &draft("i2", "Wie betaalt?", InsightKind::Vraag));
            insert_insight(
                &mut txn,
                &draft(
                    "i3",
                    &"x".repeat(MAX_INSIGHT_CHARS + 5),
                    InsightKind::Inzicht,
                ),
            );
            write_plus_ones(&mut txn, &[("i2".to_string(), 3)].into());
            write_pins(&mut txn, &["i2".to_string(), "i1".to_string()]);
        }
        let mut items = read_lecture(&doc).items;
        items.sort_by(|a, b| a.id.cmp(&b.id));
        assert_eq!(items[0].text, "Fietsen is ruimte");
        assert_eq!(
            (items[0].kind.as_str(), items[0].pinned),
            ("inzicht", Some(1))
        );
        assert_eq!(
            (items[1].kind.as_str(), items[1].plus_ones, items[1].pinned),
            ("vraag", 3, Some(0))
        );
        assert_eq!(
            items[2].text.chars().count(),
            MAX_INSIGHT_CHARS + 1,
            "cut, with an ellipsis"
        );
        assert_eq!(items[2].pinned, None);
        assert!(has_insight(&doc, "i1"));
        assert!(!has_insight(&doc, "nope"));
    }

    #[test]
    fn pins_are_a_few_in_order_and_idempotent() {
        let ids = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(pinned(&ids(&["a"]), "b", true), Ok(ids(&["a", "b"])));
        assert_eq!(pinned(&ids(&["a", "b"]), "a", true), Ok(ids(&["a", "b"])));
        assert_eq!(pinned(&ids(&["a", "b"]), "a", false), Ok(ids(&["b"])));
        assert_eq!(pinned(&ids(&["a"]), "z", false), Ok(ids(&["a"])));
        let full: Vec<String> = (0..MAX_PINS).map(|i| i.to_string()).collect();
        assert_eq!(
            pinned(&full, "new", true),
            Err(PinError::TooMany { max: MAX_PINS })
        );
        assert_eq!(
            pinned(&full, "0", true),
            Ok(full.clone()),
            "already pinned is fine when full"
        );
    }
}
