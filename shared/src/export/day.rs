//! The werkboek's parts beside the tables, in the programme's order: the market per team
//! (before the tables), then the lecture's insights, the "rode lijnen" (themes across the
//! whole day, with where each came from) and the closing feedback's next steps grouped by
//! follow-up (after them). One writer per format: [`markdown`], [`html`], [`xlsx`].

pub mod html;
pub mod markdown;
pub mod xlsx;

use crate::day::{BoardItem, DaySnapshot, rank_items};
use crate::event::{Event, ProgrammeKind};
use std::collections::HashMap;

use crate::snapshot::EventSnapshot;
use crate::summary::{NoteView, TableSummary, Theme};

/// The lecture's heading: "Lezing: " and the programme's title for it, if it has one.
pub fn lecture_title(event: &Event) -> String {
    let item = event
        .programme
        .iter()
        .find(|item| item.kind == ProgrammeKind::Lezing);
    match (event.lecture.as_ref().map(|l| l.title.trim()), item) {
        (Some(title), _) if !title.is_empty() => format!("Lezing: {title}"),
        (_, Some(item)) => format!("Lezing: {}", item.title),
        _ => "Lezing".to_string(),
    }
}

/// Where a theme came from, in words: "Tafel A, Markt OT 2, Lezing".
pub fn origins(theme: &Theme) -> String {
    theme
        .origins
        .iter()
        .map(crate::summary::Origin::label)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The lecture's items: pinned ones in pin order, then the rest ranked by +1s.
pub fn lecture_parts(day: &DaySnapshot) -> (Vec<BoardItem>, Vec<BoardItem>) {
    let pinned = day.lecture.pinned();
    let rest = day
        .lecture
        .ranked()
        .into_iter()
        .filter(|item| item.pinned.is_none())
        .collect();
    (pinned, rest)
}

/// A table's groups that hold notes, each with its notes in the summary's order
/// (lane by lane, ranked); a group without a title is called "(zonder titel)".
pub fn table_groups<'a>(
    snapshot: &'a EventSnapshot<'_>,
    table: &'a TableSummary,
) -> Vec<(String, Vec<&'a NoteView>)> {
    let Some(tab) = snapshot.tables.iter().find(|t| t.table_id == table.id) else {
        return Vec::new();
    };
    let group_of: HashMap<&str, &str> = tab
        .notes
        .iter()
        .filter_map(|n| Some((n.id.as_str(), n.group.as_deref()?)))
        .collect();
    tab.groups
        .iter()
        .map(|group| {
            let notes: Vec<&NoteView> = table
                .lanes
                .all()
                .filter(|n| group_of.get(n.id.as_str()) == Some(&group.id.as_str()))
                .collect();
            let title = if group.title.is_empty() {
                "(zonder titel)".to_string()
            } else {
                group.title.clone()
            };
            (title, notes)
        })
        .filter(|(_, notes)| !notes.is_empty())
        .collect()
}

/// A stand's tips, ranked.
pub fn ranked_tips(tips: &[BoardItem]) -> Vec<BoardItem> {
    let mut tips = tips.to_vec();
    rank_items(&mut tips);
    tips
}

/// "3 × +1", "1 × nuttig": an item's marks, or nothing.
pub fn marks(count: u32, word: &str) -> String {
    match count {
        0 => String::new(),
        n => format!("{n} × {word}"),
    }
}
