//! The printable report: one self-contained HTML page (CSS inline, boards as inline SVG) with an A4 print stylesheet,
//! the whole day in the programme's order: the market, each table, the lecture, the "rode
//! lijnen", the closing feedback's next steps by follow-up, and every table's next steps.

use std::fmt::Write;

use super::svg::{self, escape};
use super::{Authors, ExportOptions, iso8601, prepare, table_def, table_label};
use crate::schema::Lane;
use crate::snapshot::EventSnapshot;
use crate::summary::{NoteView, Summary, TableSummary};

/// The stylesheet: readable on screen, one table per printed A4 page section.
const STYLE: &str = r#"
@page { size: A4; margin: 18mm 15mm 20mm 15mm; }
* { box-sizing: border-box; }
body { font-family: Helvetica, Arial, sans-serif; color: #212529; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; line-height: 1.45; }
h1 { font-size: 1.8rem; margin-bottom: 0.2rem; }
h2 { font-size: 1.4rem; border-bottom: 2px solid #343a40; padding-bottom: 0.2rem; margin-top: 2.5rem; }
h3 { font-size: 1.1rem; margin: 1.2rem 0 0.4rem; }
.meta, .counts { color: #495057; }
.board svg { width: 100%; height: auto; border: 1px solid #dee2e6; }
ul.notes { list-style: none; padding: 0; display: grid; grid-template-columns: repeat(auto-fill, minmax(14rem, 1fr)); gap: 0.5rem; }
ul.notes li { border-radius: 4px; padding: 0.5rem 0.6rem; border: 1px solid #ced4da; white-space: pre-wrap; overflow-wrap: anywhere; }
.source { display: block; font-size: 0.8rem; color: #495057; margin-top: 0.3rem; }
.author { display: block; font-size: 0.8rem; color: #495057; margin-top: 0.3rem; white-space: normal; }
.empty { color: #868e96; font-style: italic; }
table.steps { border-collapse: collapse; width: 100%; table-layout: fixed; }
table.steps th, table.steps td { border: 1px solid #ced4da; padding: 0.3rem 0.5rem; text-align: left; vertical-align: top; white-space: pre-wrap; overflow-wrap: anywhere; }
table.steps th:first-child { width: 30%; }
table.steps th:nth-child(1) { width: 22%; }
table.steps th:nth-child(3), table.steps th:nth-child(4), table.steps th:nth-child(5) { width: 13%; }
@media print {
  body { max-width: none; margin: 0; padding: 0; font-size: 10pt; }
  section.table { break-before: page; }
  h2, h3 { break-after: avoid; }
  ul.notes li, table.steps tr, .board { break-inside: avoid; }
  ul.notes li { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  .board svg { max-height: 120mm; }
}
"#;

/// Writes `rapport.html`.
pub fn report(snapshot: &EventSnapshot, options: &ExportOptions) -> String {
    let (snapshot, summary) = prepare(snapshot, options);
    let event = snapshot.event;
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"nl\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n<style>{STYLE}{}</style>\n</head>\n<body>\n",
        escape(&event.title),
        super::day::html::STYLE
    );
    let _ = writeln!(out, "<h1>{}</h1>", escape(&event.title));
    let totals = &summary.totals;
    let _ = writeln!(
        out,
        "<p class=\"meta\">{} · rapport van {}</p>\n<p class=\"counts\">{} tafels · {} deelnemers · {} notities · {} vervolgstappen</p>",
        escape(&event.venue),
        iso8601(options.exported_at_ms),
        totals.tables,
        totals.participants,
        totals.notes,
        totals.next_steps
    );

    super::day::html::market(&mut out, &snapshot, options.authors);
    for table in &summary.tables {
        let tab = snapshot.tables.iter().find(|t| t.table_id == table.id);
        let notes = tab.map_or(&[][..], |t| t.notes.as_slice());
        let mut board = svg::board(&table.title, notes);
        // A poster table shows both views of its notes: lanes, then the poster.
        if let (Some(tab), Some(_)) = (tab, &table.poster) {
            board.push_str("</div>\n<h3>Poster</h3>\n<div class=\"board\">\n");
            board.push_str(&svg::poster(
                &format!("Poster — {}", table.title),
                snapshot.event,
                tab,
                snapshot.underlay(),
            ));
        }
        section(&mut out, &snapshot, table, &board, options.authors);
    }
    super::day::html::lecture(&mut out, &snapshot, options.authors);
    super::day::html::closing(&mut out, &summary);
    table_steps(&mut out, &summary, options.authors);
    out.push_str("</body>\n</html>\n");
    out
}

/// Every table's next steps (its `vervolgstap` notes), table by table.
fn table_steps(out: &mut String, summary: &Summary, authors: Authors) {
    let _ = writeln!(
        out,
        "<section class=\"merged\">\n<h2>Vervolgstappen van de tafels</h2>"
    );
    if summary.next_steps.is_empty() {
        let _ = writeln!(out, "<p class=\"empty\">Nog geen vervolgstappen.</p>");
    } else {
        let _ = writeln!(
            out,
            "<table class=\"steps\">\n<thead><tr><th>Tafel</th><th>Vervolgstap</th><th>Wie</th><th>Wanneer</th>{}</tr></thead>\n<tbody>",
            if authors == Authors::Named {
                "<th>Door</th>"
            } else {
                ""
            }
        );
        for step in &summary.next_steps {
            let _ = write!(
                out,
                "<tr><td>{}: {}</td><td>{}</td><td>{}</td><td>{}</td>",
                table_label(&step.table),
                escape(&step.table_title),
                escape(&step.text),
                escape(&step.owner),
                escape(&step.due)
            );
            if authors == Authors::Named {
                let _ = write!(out, "<td>{}</td>", escape(&step.author));
            }
            out.push_str("</tr>\n");
        }
        out.push_str("</tbody>\n</table>\n");
    }
    out.push_str("</section>\n");
}

fn section(
    out: &mut String,
    snapshot: &EventSnapshot,
    table: &TableSummary,
    board: &str,
    authors: Authors,
) {
    let _ = writeln!(
        out,
        "<section class=\"table\" id=\"tafel-{}\">\n<h2>{}: {}</h2>",
        table.id,
        table_label(&table.id),
        escape(&table.title)
    );
    if !table.question.is_empty() {
        let _ = writeln!(
            out,
            "<p><strong>Centrale vraag:</strong> {}</p>",
            escape(&table.question)
        );
    }
    if let Some(def) = table_def(snapshot, &table.id) {
        let _ = writeln!(
            out,
            "<p><strong>Cluster {}:</strong> {}<br><em>{}</em></p>",
            escape(&def.cluster.id),
            escape(&def.cluster.title),
            escape(&def.cluster.question)
        );
        if !def.cases.is_empty() {
            out.push_str("<p><strong>Cases</strong></p>\n<ul>\n");
            for case in &def.cases {
                let _ = writeln!(
                    out,
                    "<li>{} ({})</li>",
                    escape(&case.name),
                    escape(&case.city)
                );
            }
            out.push_str("</ul>\n");
        }
        let teams: Vec<_> = def
            .teams
            .iter()
            .filter_map(|&n| snapshot.event.team(n))
            .collect();
        if !teams.is_empty() {
            out.push_str("<p><strong>Verbonden ontwikkelteams</strong></p>\n<ul>\n");
            for team in teams {
                let _ = writeln!(out, "<li>OT {}: {}</li>", team.number, escape(&team.name));
            }
            out.push_str("</ul>\n");
        }
    }
    let _ = writeln!(
        out,
        "<p class=\"counts\">{} deelnemers · {} notities</p>\n<div class=\"board\">\n{board}</div>",
        table.participants, table.note_count
    );
    for lane in Lane::ALL {
        let _ = writeln!(out, "<h3>{}</h3>", escape(lane.title()));
        let notes = table.lanes.lane(lane);
        if notes.is_empty() {
            let _ = writeln!(out, "<p class=\"empty\">Geen notities.</p>");
            continue;
        }
        out.push_str("<ul class=\"notes\">\n");
        for note in notes {
            note_item(out, note, authors);
        }
        out.push_str("</ul>\n");
    }
    super::day::html::groups(out, snapshot, table);
    out.push_str("</section>\n");
}

fn note_item(out: &mut String, note: &NoteView, authors: Authors) {
    let _ = write!(
        out,
        "<li style=\"background:{}\">{}",
        svg::fill(note.color),
        escape(&note.text)
    );
    if let Some(provenance) = &note.provenance {
        let _ = write!(
            out,
            "<span class=\"source\">uit de {}</span>",
            escape(&provenance.short_label())
        );
    }
    if authors == Authors::Named && !note.author.trim().is_empty() {
        let _ = write!(
            out,
            "<span class=\"author\">{}</span>",
            escape(note.author.trim())
        );
    }
    out.push_str("</li>\n");
}
