//! The werkboek's parts beside the tables, in the programme's order: the market per team
//! (before the tables), then the lecture's insights, the "rode lijnen" (themes across the
//! whole day, with where each came from) and the closing feedback's next steps grouped by
//! follow-up (after them). One writer per format: [`markdown`], [`html`], [`xlsx`].

pub mod html;
pub mod markdown;
pub mod xlsx;

use crate::day::{BoardItem, DaySnapshot, rank_items};
use crate::event::{Event, ProgrammeKind};
use crate::summary::Theme;

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
