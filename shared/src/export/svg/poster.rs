//! The droomproces poster as SVG: the built-in drawing of the process steps and the event's
//! development teams ([`droomproces`], the underlay when no image was given), and a table's
//! poster with its notes, arrows and markers on it ([`poster`], for the exports and the werkboek).
//!
//! Coordinates are poster units (`docs/schema.md`): the poster is [`POSTER_WIDTH`] by
//! [`POSTER_HEIGHT`]; a note's `posterX`/`posterY` is its top-left corner and it is drawn
//! [`POSTER_NOTE_WIDTH`] by [`POSTER_NOTE_HEIGHT`]; a marker's `x`/`y` is its centre.

use std::collections::HashMap;
use std::fmt::Write;

use base64::Engine;

use super::{escape, fill, wrap};
use crate::event::Event;
use crate::poster::{ArrowEnd, ImageKind, MarkerKind, POSTER_HEIGHT, POSTER_WIDTH, PosterPoint};
use crate::snapshot::TableSnapshot;

/// A note's width on the poster, in poster units (the web client draws it the same size).
pub const POSTER_NOTE_WIDTH: f64 = 150.0;
/// A note's height on the poster, in poster units.
pub const POSTER_NOTE_HEIGHT: f64 = 90.0;

/// The droomproces's steps, left to right, each with what it yields (after the poster of
/// the City Deal Openbare Ruimte, "versie maart 2022").
pub const DROOMPROCES_STEPS: [(&str, &str); 6] = [
    ("Visievorming", "Toekomstvisie voor de stad"),
    (
        "Planningscontext",
        "Vervangingsopgaven, strategische projecten, knelpunten",
    ),
    ("Afstemmen", "Kansen- en knelpuntenkaart"),
    ("Afweging", "Afwegingskader en bestuurlijke prioritering"),
    ("Voorbereiding", "Stadsprogramma, convenant, routeboek"),
    ("Integraal uitvoeren", "Uitvoeringsovereenkomst"),
];

/// What the poster is drawn on.
#[derive(Debug, Clone, Copy)]
pub enum Underlay<'a> {
    /// The built-in drawing ([`droomproces`]).
    Builtin,
    /// An image the organiser gave (already checked by [`ImageKind::sniff`]).
    Image { kind: ImageKind, bytes: &'a [u8] },
}

/// The built-in poster as a standalone SVG document: what a table in poster view shows
/// when the event file names no image and none was uploaded.
pub fn droomproces(event: &Event) -> String {
    let mut out = open_svg(&format!("Droomproces — {}", event.title));
    drawing(&mut out, event);
    out.push_str("</svg>\n");
    out
}

/// One table's poster: the underlay with the table's placed notes, its arrows and markers
/// on it, as a standalone SVG document (also valid inline in HTML).
pub fn poster(title: &str, event: &Event, table: &TableSnapshot, underlay: Underlay) -> String {
    let mut out = open_svg(title);
    out.push_str(
        r##"<defs><marker id="wt-arrowhead" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse"><path d="M0 0L10 5L0 10z" fill="#c92a2a"/></marker></defs>"##,
    );
    out.push('\n');
    match underlay {
        Underlay::Builtin => drawing(&mut out, event),
        Underlay::Image { kind, bytes } => {
            let data = base64::engine::general_purpose::STANDARD.encode(bytes);
            let _ = writeln!(
                out,
                r#"<image href="data:{};base64,{data}" x="0" y="0" width="{POSTER_WIDTH}" height="{POSTER_HEIGHT}" preserveAspectRatio="xMidYMid meet"/>"#,
                kind.mime()
            );
        }
    }
    let placed: HashMap<&str, PosterPoint> = table
        .notes
        .iter()
        .filter_map(|n| n.poster.map(|p| (n.id.as_str(), p)))
        .collect();
    let centre = |p: PosterPoint| PosterPoint {
        x: p.x + POSTER_NOTE_WIDTH / 2.0,
        y: p.y + POSTER_NOTE_HEIGHT / 2.0,
    };
    for arrow in &table.poster.arrows {
        let Some(&from) = placed.get(arrow.from.as_str()) else {
            continue;
        };
        let to = match &arrow.to {
            ArrowEnd::Note { id } => match placed.get(id.as_str()) {
                Some(&p) => centre(p),
                None => continue,
            },
            ArrowEnd::Point { x, y } => PosterPoint { x: *x, y: *y },
        };
        let from = centre(from);
        let _ = writeln!(
            out,
            r##"<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#c92a2a" stroke-width="4" marker-end="url(#wt-arrowhead)"/>"##,
            from.x, from.y, to.x, to.y
        );
    }
    for note in &table.notes {
        let Some(at) = note.poster else { continue };
        let _ = writeln!(out, "<g><title>{}</title>", escape(&note.text));
        let _ = writeln!(
            out,
            r##"<rect x="{}" y="{}" width="{POSTER_NOTE_WIDTH}" height="{POSTER_NOTE_HEIGHT}" rx="6" fill="{}" stroke="#495057"/>"##,
            at.x,
            at.y,
            fill(note.color)
        );
        text_lines(
            &mut out,
            at.x + 8.0,
            at.y + 20.0,
            &wrap(&note.text, 20, 4),
            13.0,
            "#212529",
        );
        out.push_str("</g>\n");
    }
    for marker in &table.poster.markers {
        let label = escape(&marker.label);
        let (x, y) = (marker.x, marker.y);
        let kind = match marker.kind {
            MarkerKind::Tussenstap => "Tussenstap",
            MarkerKind::Actor => "Actor",
        };
        let _ = writeln!(out, "<g><title>{kind}: {label}</title>");
        match marker.kind {
            MarkerKind::Tussenstap => {
                let _ = writeln!(
                    out,
                    r##"<rect x="{}" y="{}" width="24" height="24" transform="rotate(45 {x} {y})" fill="#364fc7" stroke="#fff" stroke-width="2"/>"##,
                    x - 12.0,
                    y - 12.0
                );
            }
            MarkerKind::Actor => {
                let _ = writeln!(
                    out,
                    r##"<circle cx="{x}" cy="{}" r="7" fill="#087f5b"/><path d="M{} {}q{} -18 24 0z" fill="#087f5b"/>"##,
                    y - 8.0,
                    x - 12.0,
                    y + 14.0,
                    12.0
                );
            }
        }
        let _ = writeln!(
            out,
            r##"<text x="{x}" y="{}" font-size="15" font-weight="bold" text-anchor="middle" fill="#212529" stroke="#fff" stroke-width="4" paint-order="stroke">{label}</text></g>"##,
            y + 34.0
        );
    }
    out.push_str("</svg>\n");
    out
}

fn open_svg(title: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {POSTER_WIDTH} {POSTER_HEIGHT}" width="{POSTER_WIDTH}" height="{POSTER_HEIGHT}" role="img" aria-label="{}" font-family="Helvetica, Arial, sans-serif">"#,
        escape(title)
    );
    let _ = writeln!(out, "<title>{}</title>", escape(title));
    out
}

/// The built-in drawing: a title, the six steps as a row of arrows, and the teams below.
fn drawing(out: &mut String, event: &Event) {
    out.push_str(r##"<rect width="1600" height="1000" fill="#f4f1ea"/>"##);
    out.push_str(
        r##"<text x="60" y="80" font-size="40" font-weight="bold" fill="#1b3a4b">Droomproces</text><text x="60" y="118" font-size="20" fill="#343a40">Hoe willen we samenwerken om te komen van visie tot integrale uitvoering?</text>"##,
    );
    out.push('\n');
    let step_width = 1480.0 / DROOMPROCES_STEPS.len() as f64;
    let palette = [
        "#1864ab", "#0b7285", "#2b8a3e", "#5f3dc4", "#a61e4d", "#c2410c",
    ];
    for (i, (step, yields)) in DROOMPROCES_STEPS.iter().enumerate() {
        let left = 60.0 + step_width * i as f64;
        let right = left + step_width - 10.0;
        let tip = right + 30.0;
        let _ = writeln!(
            out,
            r##"<path d="M{left} 300H{right}L{tip} 380L{right} 460H{left}L{} 380Z" fill="{}"/>"##,
            left + 30.0,
            palette[i % palette.len()]
        );
        let _ = writeln!(
            out,
            r##"<text x="{}" y="372" font-size="20" font-weight="bold" fill="#fff">{}. {}</text>"##,
            left + 40.0,
            i + 1,
            escape(step)
        );
        text_lines(
            out,
            left + 10.0,
            500.0,
            &wrap(yields, 22, 3),
            16.0,
            "#212529",
        );
    }
    let _ = writeln!(
        out,
        r##"<text x="60" y="700" font-size="22" font-weight="bold" fill="#1b3a4b">Ontwikkelteams</text>"##
    );
    let team_width = 1480.0 / event.teams.len().max(1) as f64;
    for (i, team) in event.teams.iter().enumerate() {
        let left = 60.0 + team_width * i as f64;
        let _ = writeln!(
            out,
            r##"<circle cx="{}" cy="760" r="26" fill="#1b3a4b"/><text x="{}" y="768" font-size="22" font-weight="bold" text-anchor="middle" fill="#fff">{}</text>"##,
            left + 30.0,
            left + 30.0,
            team.number
        );
        text_lines(out, left, 820.0, &wrap(&team.name, 22, 3), 16.0, "#212529");
    }
}

fn text_lines(out: &mut String, x: f64, y: f64, lines: &[String], size: f64, color: &str) {
    let _ = write!(
        out,
        r#"<text x="{x}" y="{y}" font-size="{size}" fill="{color}">"#
    );
    for (i, line) in lines.iter().enumerate() {
        let dy = if i == 0 { 0.0 } else { size * 1.25 };
        let _ = write!(out, r#"<tspan x="{x}" dy="{dy}">{}</tspan>"#, escape(line));
    }
    out.push_str("</text>\n");
}

#[cfg(test)]
mod tests {
    use yrs::{Doc, Transact};

    use super::*;
    use crate::poster::{
        MarkerKind, PosterArrow, PosterMarker, insert_arrow, insert_marker, set_position,
    };
    use crate::schema::{Lane, NoteColor, NoteDraft, insert_note};

    fn table_with_poster() -> TableSnapshot {
        let doc = Doc::with_client_id(1);
        {
            let mut txn = doc.transact_mut();
            for (id, text, x) in [
                ("noteAAAA01", "Data <delen>", 100.0),
                ("noteBBBB02", "Kansenkaart", 700.0),
                ("noteCCCC03", "Nog in de bak", 0.0),
            ] {
                insert_note(
                    &mut txn,
                    &NoteDraft {
                        id: id.into(),
                        text: text.into(),
                        lane: Lane::Goed,
                        color: NoteColor::Roze,
                        x: 0.0,
                        y: 0.0,
                        author: "A".into(),
                        author_id: "a".into(),
                        now_ms: 1,
                    },
                );
                if id != "noteCCCC03" {
                    set_position(&mut txn, id, Some(PosterPoint { x, y: 200.0 }));
                }
            }
            insert_arrow(
                &mut txn,
                &PosterArrow {
                    id: "arrow1".into(),
                    from: "noteAAAA01".into(),
                    to: ArrowEnd::Note {
                        id: "noteBBBB02".into(),
                    },
                    author: "A".into(),
                    created_at: 1,
                },
            );
            insert_arrow(
                &mut txn,
                &PosterArrow {
                    id: "arrow2".into(),
                    from: "noteCCCC03".into(),
                    to: ArrowEnd::Point { x: 5.0, y: 5.0 },
                    author: "A".into(),
                    created_at: 2,
                },
            );
            insert_marker(
                &mut txn,
                &PosterMarker {
                    id: "marker1".into(),
                    kind: MarkerKind::Actor,
                    label: "Wethouder & co".into(),
                    x: 400.0,
                    y: 600.0,
                    author: "A".into(),
                    created_at: 1,
                },
            );
        }
        TableSnapshot::read("a".parse().unwrap(), 0, &doc)
    }

    #[test]
    fn the_poster_draws_placed_notes_arrows_and_markers_on_the_builtin_drawing() {
        let event = Event::builtin();
        let svg = poster(
            "Poster — Tafel A",
            &event,
            &table_with_poster(),
            Underlay::Builtin,
        );
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
        for step in DROOMPROCES_STEPS.map(|(step, _)| step) {
            assert!(svg.contains(step), "the step {step} is drawn");
        }
        for team in &event.teams {
            // Names are wrapped over lines: look for the first word.
            let first = team.name.split_whitespace().next().unwrap_or_default();
            assert!(
                svg.contains(&format!(">{}", escape(first))),
                "team {} is drawn",
                team.number
            );
        }
        assert!(svg.contains("Data &lt;delen&gt;"), "note text, escaped");
        assert!(svg.contains("Kansenkaart</tspan>"));
        assert!(
            !svg.contains("Nog in de bak"),
            "a note without a position stays off the poster"
        );
        // One arrow between the two placed notes' centres; the one from the unplaced note is not drawn.
        assert_eq!(svg.matches("<line ").count(), 1);
        assert!(
            svg.contains(r#"x1="175" y1="245" x2="775" y2="245""#),
            "{svg}"
        );
        assert!(svg.contains("Actor: Wethouder &amp; co"));
    }

    #[test]
    fn an_uploaded_image_is_embedded_as_the_underlay() {
        let event = Event::builtin();
        let png = b"\x89PNG\r\n\x1a\nfake";
        let svg = poster(
            "P",
            &event,
            &table_with_poster(),
            Underlay::Image {
                kind: ImageKind::Png,
                bytes: png,
            },
        );
        assert!(svg.contains("data:image/png;base64,iVBORw0KGgpmYWtl"));
        assert!(
            !svg.contains("Ontwikkelteams"),
            "no built-in drawing under an image"
        );
        assert!(droomproces(&event).contains("Ontwikkelteams"));
    }
}
