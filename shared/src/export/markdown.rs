//! The Markdown workbook, the whole day in the programme's order: the market per team, a
//! chapter per table (question, cluster, cases, teams, notes per lane), the lecture's
//! insights, the "rode lijnen", the closing feedback's next steps grouped by follow-up, and
//! every table's next steps.

use std::fmt::Write;

use super::{Authors, ExportOptions, iso8601, prepare, table_def, table_label};
use crate::schema::Lane;
use crate::snapshot::EventSnapshot;
use crate::summary::{NoteView, TableSummary};

/// Writes the workbook (`werkboek.md`), headings in Dutch.
pub fn workbook(snapshot: &EventSnapshot, options: &ExportOptions) -> String {
    let (snapshot, summary) = prepare(snapshot, options);
    let event = snapshot.event;
    let mut out = String::new();
    // `write!` into a String cannot fail; the results are ignored for that reason only.
    let _ = writeln!(out, "# {}\n", escape(&event.title));
    let _ = writeln!(out, "{}  ", escape(&event.venue));
    let _ = writeln!(
        out,
        "Werkboek, geëxporteerd op {}.\n",
        iso8601(options.exported_at_ms)
    );
    let totals = &summary.totals;
    let _ = writeln!(
        out,
        "{} tafels · {} deelnemers · {} notities · {} vervolgstappen\n",
        totals.tables, totals.participants, totals.notes, totals.next_steps
    );

    super::day::markdown::market(&mut out, &snapshot, options.authors);
    for table in &summary.tables {
        chapter(&mut out, &snapshot, table, options.authors);
    }
    super::day::markdown::lecture(&mut out, &snapshot, options.authors);
    super::day::markdown::rode_lijnen(&mut out, &summary);
    super::day::markdown::closing(&mut out, &summary);

    let _ = writeln!(out, "## Vervolgstappen van de tafels\n");
    if summary.next_steps.is_empty() {
        let _ = writeln!(out, "_Nog geen vervolgstappen._\n");
    }
    for step in &summary.next_steps {
        let by = by_author(&step.author, options.authors);
        let _ = writeln!(
            out,
            "- **{}** ({}): {}{}{by}",
            table_label(&step.table),
            escape(&step.table_title),
            item_text(&step.text),
            step_details(&step.owner, &step.due, step.votes),
        );
    }
    out
}

fn chapter(out: &mut String, snapshot: &EventSnapshot, table: &TableSummary, authors: Authors) {
    let _ = writeln!(
        out,
        "## {}: {}\n",
        table_label(&table.id),
        escape(&table.title)
    );
    if !table.question.is_empty() {
        let _ = writeln!(out, "**Centrale vraag:** {}\n", escape(&table.question));
    }
    if let Some(def) = table_def(snapshot, &table.id) {
        let cluster = &def.cluster;
        let _ = writeln!(
            out,
            "**Cluster {}:** {}  \n_{}_\n",
            escape(&cluster.id),
            escape(&cluster.title),
            escape(&cluster.question)
        );
        if !def.cases.is_empty() {
            let _ = writeln!(out, "**Cases**\n");
            for case in &def.cases {
                let _ = writeln!(out, "- {} ({})", escape(&case.name), escape(&case.city));
            }
            out.push('\n');
        }
        let teams: Vec<_> = def
            .teams
            .iter()
            .filter_map(|&n| snapshot.event.team(n))
            .collect();
        if !teams.is_empty() {
            let _ = writeln!(out, "**Verbonden ontwikkelteams**\n");
            for team in teams {
                let _ = writeln!(out, "- OT {}: {}", team.number, escape(&team.name));
            }
            out.push('\n');
        }
    }
    let _ = writeln!(
        out,
        "{} deelnemers · {} notities\n",
        table.participants, table.note_count
    );
    for lane in Lane::ALL {
        let _ = writeln!(out, "### {}\n", lane.title());
        let notes = table.lanes.lane(lane);
        if notes.is_empty() {
            let _ = writeln!(out, "_Geen notities._\n");
            continue;
        }
        for note in notes {
            note_item(out, note, authors);
        }
        out.push('\n');
    }
    super::day::markdown::groups(out, snapshot, table);
}

fn note_item(out: &mut String, note: &NoteView, authors: Authors) {
    let source = note
        .provenance
        .as_ref()
        .map(|p| format!(" [uit de {}]", p.short_label()))
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "- {}{}{}{}",
        item_text(&note.text),
        step_details(&note.owner, &note.due, note.votes),
        source,
        by_author(&note.author, authors)
    );
}

/// ` (wie: X · wanneer: Y · 3 stemmen)`, with only the parts that are set.
fn step_details(owner: &str, due: &str, votes: u32) -> String {
    let mut parts = Vec::new();
    if !owner.trim().is_empty() {
        parts.push(format!("wie: {}", escape(owner.trim())));
    }
    if !due.trim().is_empty() {
        parts.push(format!("wanneer: {}", escape(due.trim())));
    }
    match votes {
        0 => {}
        1 => parts.push("1 stem".to_string()),
        n => parts.push(format!("{n} stemmen")),
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!(" ({})", parts.join(" · "))
    }
}

fn by_author(author: &str, authors: Authors) -> String {
    match authors {
        Authors::Named if !author.trim().is_empty() => format!(" — _{}_", escape(author.trim())),
        _ => String::new(),
    }
}

/// A note's text as the body of a list item: escaped, each line break kept as a hard break
/// (two spaces) with the next line indented under the item, blank lines dropped so that the
/// item does not end early.
pub(crate) fn item_text(text: &str) -> String {
    let lines: Vec<String> = text
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .map(escape_line_start)
        .collect();
    if lines.is_empty() {
        return "_(leeg)_".to_owned();
    }
    lines.join("  \n  ")
}

/// Escapes a line, including a start that would make it a list item or a numbered one.
fn escape_line_start(line: &str) -> String {
    let escaped = escape(line);
    if line.starts_with(['-', '+']) {
        return format!("\\{escaped}");
    }
    let digits = line.chars().take_while(char::is_ascii_digit).count();
    if digits > 0 && line[digits..].starts_with(['.', ')']) {
        return format!("{}\\{}", &escaped[..digits], &escaped[digits..]);
    }
    escaped
}

/// Escapes the characters that would start Markdown or HTML markup inside running text.
///
/// `<`, `>` and `&` become HTML entities rather than backslash escapes: an auto-linking
/// renderer (marked by default, markdown-it with `linkify`) takes a backslash after a URL
/// into the link, and the `<` behind it would then open a real tag. An entity is text to
/// every CommonMark renderer, whatever precedes it.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\\' | '`' | '*' | '_' | '[' | ']' | '#' | '|' | '~' => {
                out.push('\\');
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{escape, item_text};

    #[test]
    fn markup_becomes_entities_so_no_link_can_swallow_an_escape() {
        // marked and markdown-it's linkify take `\` after a URL into the link; the `<`
        // behind a backslash escape then opens a real tag. An entity stays text.
        assert_eq!(
            item_text("http://h/x<img src=x onerror=alert(1)//>"),
            "http://h/x&lt;img src=x onerror=alert(1)//&gt;"
        );
        assert_eq!(escape("a & b"), "a &amp; b");
        assert_eq!(
            escape("&lt;"),
            "&amp;lt;",
            "an entity in a note stays as typed"
        );
        assert_eq!(escape("*x* [y](z)"), "\\*x\\* \\[y\\](z)");
    }

    #[test]
    fn a_line_starting_like_a_quote_or_a_list_stays_text() {
        assert_eq!(
            item_text("> quote\n- item\n1. one"),
            "&gt; quote  \n  \\- item  \n  1\\. one"
        );
    }
}
