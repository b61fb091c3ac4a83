//! The werkboek's day sections in the printable HTML report (see [`super`]).

use std::fmt::Write;

use super::{lecture_parts, lecture_title, marks, origins, ranked_tips};
use crate::closing::group_by_follow_up;
use crate::day::BoardItem;
use crate::export::Authors;
use crate::export::svg::escape;
use crate::snapshot::EventSnapshot;
use crate::summary::{Summary, TableSummary};

/// Styles of the day sections, added to the report's stylesheet.
pub const STYLE: &str = r#"
ul.items { padding-left: 1.2rem; }
ul.items li { margin: 0.2rem 0; white-space: pre-wrap; overflow-wrap: anywhere; }
.mark { color: #495057; font-size: 0.85rem; }
.stand { break-inside: avoid-page; }
table.closing th:nth-child(1) { width: 40%; }
table.closing th:nth-child(2) { width: 16%; }
table.closing th:nth-child(3) { width: 14%; }
table.closing th:nth-child(4) { width: 30%; }
@media print {
  section.market, section.lecture, section.closing { break-before: page; }
  ul.items li { break-inside: avoid; }
}
"#;

/// The market: every stand with what its team wrote and the visitors' tips.
pub fn market(out: &mut String, snapshot: &EventSnapshot, authors: Authors) {
    let stands = &snapshot.day.market.stands;
    if stands.is_empty() && !snapshot.event.has_market() {
        return;
    }
    let _ = writeln!(
        out,
        "<section class=\"market\" id=\"markt\">\n<h2>{}</h2>",
        escape(&snapshot.event.market_title())
    );
    if stands.is_empty() {
        let _ = writeln!(out, "<p class=\"empty\">Nog niets van de markt.</p>");
    }
    for stand in stands {
        let _ = writeln!(
            out,
            "<div class=\"stand\" id=\"markt-ot{}\">\n<h3>OT {}: {}</h3>",
            stand.team,
            stand.team,
            escape(&stand.name)
        );
        if !stand.status.trim().is_empty() {
            let _ = writeln!(
                out,
                "<p><strong>Waar staan we:</strong> {}</p>",
                escape(stand.status.trim())
            );
        }
        if !stand.materials.is_empty() {
            out.push_str("<p><strong>Materiaal</strong></p>\n<ul class=\"items\">\n");
            for material in &stand.materials {
                // As text, not a link: a link's target is whatever a team typed.
                let _ = writeln!(
                    out,
                    "<li>{}: {}</li>",
                    escape(&material.title),
                    escape(&material.url)
                );
            }
            out.push_str("</ul>\n");
        }
        if !stand.ambitions.trim().is_empty() {
            let _ = writeln!(
                out,
                "<p><strong>Ambities:</strong> {}</p>",
                escape(stand.ambitions.trim())
            );
        }
        let _ = writeln!(
            out,
            "<p><strong>Tips en vragen</strong> ({})</p>",
            stand.tips.len()
        );
        items(
            out,
            &ranked_tips(&stand.tips),
            "nuttig",
            authors,
            "Geen tips.",
        );
        out.push_str("</div>\n");
    }
    out.push_str("</section>\n");
}

/// A table's groups: each group's title and its notes.
pub fn groups(out: &mut String, snapshot: &EventSnapshot, table: &TableSummary) {
    let groups = super::table_groups(snapshot, table);
    if groups.is_empty() {
        return;
    }
    out.push_str("<h3>Groepen</h3>\n<ul class=\"items\">\n");
    for (title, notes) in groups {
        let texts: Vec<String> = notes.iter().map(|n| escape(&n.text)).collect();
        let _ = writeln!(
            out,
            "<li><strong>{}</strong> <span class=\"mark\">({})</span>: {}</li>",
            escape(&title),
            notes.len(),
            texts.join(" · ")
        );
    }
    out.push_str("</ul>\n");
}

/// The lecture: pinned insights first, then every other by +1s.
pub fn lecture(out: &mut String, snapshot: &EventSnapshot, authors: Authors) {
    let day = &snapshot.day;
    if day.lecture.items.is_empty() && !snapshot.event.has_lecture() {
        return;
    }
    let _ = writeln!(
        out,
        "<section class=\"lecture\" id=\"lezing\">\n<h2>{}</h2>",
        escape(&lecture_title(snapshot.event))
    );
    let (pinned, rest) = lecture_parts(day);
    if !pinned.is_empty() {
        let _ = writeln!(out, "<h3>Vastgepind voor de terugkoppeling</h3>");
        items(out, &pinned, "+1", authors, "");
    }
    let _ = writeln!(out, "<h3>Inzichten en vragen</h3>");
    items(
        out,
        &rest,
        "+1",
        authors,
        "Geen (andere) inzichten of vragen.",
    );
    out.push_str("</section>\n");
}

/// The themes of the whole day and the closing feedback's next steps by follow-up.
pub fn closing(out: &mut String, summary: &Summary) {
    let _ = writeln!(
        out,
        "<section class=\"closing\" id=\"terugkoppeling\">\n<h2>Rode lijnen</h2>"
    );
    if summary.themes.is_empty() {
        let _ = writeln!(
            out,
            "<p class=\"empty\">Geen woorden of zinsdelen die op twee of meer plekken van de dag terugkomen.</p>"
        );
    } else {
        out.push_str("<ul class=\"items\">\n");
        for theme in &summary.themes {
            let _ = writeln!(
                out,
                "<li><strong>{}</strong>: {} <span class=\"mark\">({} notities)</span></li>",
                escape(&theme.term),
                escape(&origins(theme)),
                theme.count
            );
        }
        out.push_str("</ul>\n");
    }

    let _ = writeln!(out, "<h2>Vervolgstappen van de terugkoppeling</h2>");
    let steps: Vec<_> = summary
        .closing_steps
        .iter()
        .map(|v| v.step.clone())
        .collect();
    if steps.is_empty() {
        let _ = writeln!(
            out,
            "<p class=\"empty\">Nog geen vervolgstappen benoemd.</p>"
        );
    }
    for (follow_up, group) in group_by_follow_up(&steps) {
        let _ = writeln!(
            out,
            "<h3>{}</h3>\n<table class=\"steps closing\">\n<thead><tr><th>Vervolgstap</th><th>Wie</th><th>Wanneer</th><th>Bron</th></tr></thead>\n<tbody>",
            follow_up.title()
        );
        for step in group {
            let label = summary
                .closing_steps
                .iter()
                .find(|v| v.step.id == step.id)
                .map(|v| v.source_label.as_str())
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape(&step.text),
                escape(&step.owner),
                escape(&step.due),
                escape(label)
            );
        }
        out.push_str("</tbody>\n</table>\n");
    }
    out.push_str("</section>\n");
}

fn items(out: &mut String, items: &[BoardItem], mark: &str, authors: Authors, empty: &str) {
    if items.is_empty() {
        if !empty.is_empty() {
            let _ = writeln!(out, "<p class=\"empty\">{}</p>", escape(empty));
        }
        return;
    }
    out.push_str("<ul class=\"items\">\n");
    for item in items {
        let _ = write!(out, "<li>{}", escape(&item.text));
        let mut parts = Vec::new();
        if item.kind == "vraag" {
            parts.push("vraag".to_string());
        }
        let marked = marks(item.plus_ones, mark);
        if !marked.is_empty() {
            parts.push(marked);
        }
        if authors == Authors::Named && !item.author.trim().is_empty() {
            parts.push(item.author.trim().to_string());
        }
        if !parts.is_empty() {
            let _ = write!(
                out,
                " <span class=\"mark\">({})</span>",
                escape(&parts.join(" · "))
            );
        }
        out.push_str("</li>\n");
    }
    out.push_str("</ul>\n");
}
