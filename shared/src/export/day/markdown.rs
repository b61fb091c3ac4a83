//! The werkboek's day sections in Markdown (see [`super`]).

use std::fmt::Write;

use super::{lecture_parts, lecture_title, marks, origins, ranked_tips};
use crate::closing::group_by_follow_up;
use crate::day::BoardItem;
use crate::export::Authors;
use crate::export::markdown::{escape, item_text};
use crate::snapshot::EventSnapshot;
use crate::summary::{Summary, TableSummary};

/// `## Markt`: every stand with what its team wrote and the visitors' tips.
pub fn market(out: &mut String, snapshot: &EventSnapshot, authors: Authors) {
    let stands = &snapshot.day.market.stands;
    if stands.is_empty() && !snapshot.event.has_market() {
        return;
    }
    let _ = writeln!(out, "## {}\n", escape(&snapshot.event.market_title()));
    if stands.is_empty() {
        let _ = writeln!(out, "_Nog niets van de markt._\n");
    }
    for stand in stands {
        let _ = writeln!(out, "### OT {}: {}\n", stand.team, escape(&stand.name));
        if !stand.status.trim().is_empty() {
            let _ = writeln!(out, "**Waar staan we:** {}\n", item_text(&stand.status));
        }
        if !stand.materials.is_empty() {
            let _ = writeln!(out, "**Materiaal**\n");
            for material in &stand.materials {
                // As text, not a link: a link's target is whatever a team typed.
                let _ = writeln!(
                    out,
                    "- {}: {}",
                    escape(&material.title),
                    escape(&material.url)
                );
            }
            out.push('\n');
        }
        if !stand.ambitions.trim().is_empty() {
            let _ = writeln!(out, "**Ambities:** {}\n", item_text(&stand.ambitions));
        }
        let _ = writeln!(out, "**Tips en vragen** ({})\n", stand.tips.len());
        if stand.tips.is_empty() {
            let _ = writeln!(out, "_Geen tips._\n");
            continue;
        }
        for tip in ranked_tips(&stand.tips) {
            item(out, &tip, "nuttig", authors);
        }
        out.push('\n');
    }
}

/// `### Groepen` of a table's chapter: each group's title and its notes.
pub fn groups(out: &mut String, snapshot: &EventSnapshot, table: &TableSummary) {
    let groups = super::table_groups(snapshot, table);
    if groups.is_empty() {
        return;
    }
    let _ = writeln!(out, "### Groepen\n");
    for (title, notes) in groups {
        let texts: Vec<String> = notes.iter().map(|n| item_text(&n.text)).collect();
        let _ = writeln!(
            out,
            "- **{}** ({}): {}",
            escape(&title),
            notes.len(),
            texts.join(" · ")
        );
    }
    out.push('\n');
}

/// `## Lezing: …`: pinned insights first, then every other by +1s.
pub fn lecture(out: &mut String, snapshot: &EventSnapshot, authors: Authors) {
    let day = &snapshot.day;
    if day.lecture.items.is_empty() && !snapshot.event.has_lecture() {
        return;
    }
    let _ = writeln!(out, "## {}\n", escape(&lecture_title(snapshot.event)));
    let (pinned, rest) = lecture_parts(day);
    if pinned.is_empty() && rest.is_empty() {
        let _ = writeln!(out, "_Geen inzichten of vragen._\n");
        return;
    }
    if !pinned.is_empty() {
        let _ = writeln!(out, "### Vastgepind voor de terugkoppeling\n");
        for insight in &pinned {
            item(out, insight, "+1", authors);
        }
        out.push('\n');
    }
    if !rest.is_empty() {
        let _ = writeln!(out, "### Inzichten en vragen\n");
        for insight in &rest {
            item(out, insight, "+1", authors);
        }
        out.push('\n');
    }
}

/// `## Rode lijnen`: the themes of the whole day, with where each came from.
pub fn rode_lijnen(out: &mut String, summary: &Summary) {
    let _ = writeln!(out, "## Rode lijnen\n");
    if summary.themes.is_empty() {
        let _ = writeln!(
            out,
            "_Geen woorden of zinsdelen die op twee of meer plekken van de dag terugkomen._\n"
        );
        return;
    }
    for theme in &summary.themes {
        let _ = writeln!(
            out,
            "- **{}**: {} ({} notities)",
            escape(&theme.term),
            escape(&origins(theme)),
            theme.count
        );
    }
    out.push('\n');
}

/// `## Vervolgstappen`: the closing feedback's steps, grouped by follow-up.
pub fn closing(out: &mut String, summary: &Summary) {
    let _ = writeln!(out, "## Vervolgstappen van de terugkoppeling\n");
    let steps: Vec<_> = summary
        .closing_steps
        .iter()
        .map(|v| v.step.clone())
        .collect();
    if steps.is_empty() {
        let _ = writeln!(out, "_Nog geen vervolgstappen benoemd._\n");
        return;
    }
    for (follow_up, group) in group_by_follow_up(&steps) {
        let _ = writeln!(out, "### {}\n", follow_up.title());
        for step in group {
            let label = summary
                .closing_steps
                .iter()
                .find(|v| v.step.id == step.id)
                .map(|v| v.source_label.as_str())
                .unwrap_or_default();
            let mut parts = Vec::new();
            if !step.owner.is_empty() {
                parts.push(format!("wie: {}", escape(&step.owner)));
            }
            if !step.due.is_empty() {
                parts.push(format!("wanneer: {}", escape(&step.due)));
            }
            if !label.is_empty() {
                parts.push(format!("bron: {}", escape(label)));
            }
            let details = if parts.is_empty() {
                String::new()
            } else {
                format!(" ({})", parts.join(" · "))
            };
            let _ = writeln!(out, "- {}{details}", item_text(&step.text));
        }
        out.push('\n');
    }
}

fn item(out: &mut String, item: &BoardItem, mark: &str, authors: Authors) {
    let mut parts = Vec::new();
    if item.kind == "vraag" {
        parts.push("vraag".to_string());
    }
    let marked = marks(item.plus_ones, mark);
    if !marked.is_empty() {
        parts.push(marked);
    }
    let details = if parts.is_empty() {
        String::new()
    } else {
        format!(" ({})", parts.join(" · "))
    };
    let by = match authors {
        Authors::Named if !item.author.trim().is_empty() => {
            format!(" — _{}_", escape(item.author.trim()))
        }
        _ => String::new(),
    };
    let _ = writeln!(out, "- {}{details}{by}", item_text(&item.text));
}
