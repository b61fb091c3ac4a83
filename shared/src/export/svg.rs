//! A picture of one table's board as SVG: the three lanes side by side, each note a rounded rectangle in its colour where it was placed, its text wrapped.
//!
//! Geometry follows `docs/schema.md`: a lane is [`LANE_WIDTH`] units wide and a note's `x`,
//! `y` is its top-left corner inside its lane. Notes are drawn [`NOTE_WIDTH`] by
//! [`NOTE_HEIGHT`] units; text that does not fit ends in "…", and the full text is kept in
//! the note's `<title>` (a tooltip, and what screen readers and search find).

use std::fmt::Write;

mod poster;

pub use poster::{
    DROOMPROCES_STEPS, POSTER_NOTE_HEIGHT, POSTER_NOTE_WIDTH, Underlay, droomproces, poster,
};

use crate::schema::{Lane, Note, NoteColor};

pub const LANE_WIDTH: f64 = 360.0;
pub const NOTE_WIDTH: f64 = 160.0;
pub const NOTE_HEIGHT: f64 = 120.0;
/// Height of the lane headings above the notes.
const HEADER: f64 = 40.0;
const FONT_SIZE: f64 = 13.0;
const LINE_HEIGHT: f64 = 16.0;
const PADDING: f64 = 8.0;
/// Characters per line at [`FONT_SIZE`] in a note: an average glyph is about 0.55 em wide.
const CHARS_PER_LINE: usize = 22;

/// The board of one table as a standalone SVG document (also valid inline in HTML).
pub fn board(title: &str, notes: &[Note]) -> String {
    let lanes = Lane::ALL.len() as f64;
    let width = LANE_WIDTH * lanes;
    let bottom = notes
        .iter()
        .map(|note| clamp(note.y, 0.0, 100_000.0) + NOTE_HEIGHT)
        .fold(NOTE_HEIGHT * 2.0, f64::max);
    let height = HEADER + bottom + PADDING * 2.0;

    let mut out = String::new();
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" aria-label="{}" font-family="Helvetica, Arial, sans-serif">"#,
        escape(title)
    );
    let _ = writeln!(out, "<title>{}</title>", escape(title));
    for (index, lane) in Lane::ALL.into_iter().enumerate() {
        let left = LANE_WIDTH * index as f64;
        let fill = if index % 2 == 0 { "#f8f9fa" } else { "#f1f3f5" };
        let _ = writeln!(
            out,
            r##"<rect x="{left}" y="0" width="{LANE_WIDTH}" height="{height}" fill="{fill}" stroke="#dee2e6"/>"##
        );
        let _ = writeln!(
            out,
            r##"<text x="{}" y="26" font-size="16" font-weight="bold" fill="#343a40">{}</text>"##,
            left + PADDING * 2.0,
            escape(lane.title())
        );
    }
    for note in notes {
        note_group(&mut out, note);
    }
    out.push_str("</svg>\n");
    out
}

/// The fill colour of a note on the board.
pub fn fill(color: NoteColor) -> &'static str {
    match color {
        NoteColor::Geel => "#fff3a3",
        NoteColor::Roze => "#ffc9de",
        NoteColor::Blauw => "#bfe3ff",
        NoteColor::Groen => "#c3f0c8",
        NoteColor::Oranje => "#ffd8a8",
        NoteColor::Paars => "#e5dbff",
    }
}

/// Escapes text for XML content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Control characters other than tab and line breaks are not allowed in XML 1.0.
            c if c.is_control() && !matches!(c, '\t' | '\n' | '\r') => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

fn note_group(out: &mut String, note: &Note) {
    let lane_index = Lane::ALL.iter().position(|&l| l == note.lane).unwrap_or(0) as f64;
    // Keep every note inside its lane, whatever a client wrote.
    let x = LANE_WIDTH * lane_index + clamp(note.x, 0.0, LANE_WIDTH - NOTE_WIDTH);
    let y = HEADER + PADDING + clamp(note.y, 0.0, 100_000.0);
    let _ = writeln!(out, "<g>");
    let _ = writeln!(out, "<title>{}</title>", escape(&note.text));
    let _ = writeln!(
        out,
        r##"<rect x="{x}" y="{y}" width="{NOTE_WIDTH}" height="{NOTE_HEIGHT}" rx="6" fill="{}" stroke="#adb5bd"/>"##,
        fill(note.color)
    );
    let max_lines = ((NOTE_HEIGHT - PADDING * 2.0) / LINE_HEIGHT).floor() as usize;
    let lines = wrap(&note.text, CHARS_PER_LINE, max_lines);
    let _ = write!(
        out,
        r##"<text x="{}" y="{}" font-size="{FONT_SIZE}" fill="#212529">"##,
        x + PADDING,
        y + PADDING + FONT_SIZE
    );
    for (i, line) in lines.iter().enumerate() {
        let dy = if i == 0 { 0.0 } else { LINE_HEIGHT };
        let _ = write!(
            out,
            r#"<tspan x="{}" dy="{dy}">{}</tspan>"#,
            x + PADDING,
            escape(line)
        );
    }
    let _ = writeln!(out, "</text>\n</g>");
}

/// Greedy word wrap by character count; a word longer than a line is cut. When the text
/// needs more than `max_lines`, the last line ends in "…". Stops reading once the lines
/// are full, so the cost is bounded by what is shown, however long the text.
pub(crate) fn wrap(text: &str, width: usize, max_lines: usize) -> Vec<String> {
    let width = width.max(1);
    let mut lines: Vec<String> = Vec::new();
    // One line more than shown, so that "…" knows the text went on.
    let full = |lines: &Vec<String>| lines.len() > max_lines;
    'text: for paragraph in text.lines() {
        let mut line = String::new();
        let mut line_chars = 0;
        for word in paragraph.split_whitespace() {
            let mut rest = word;
            let mut rest_chars = rest.chars().count();
            while rest_chars > width {
                if !line.is_empty() {
                    lines.push(std::mem::take(&mut line));
                    line_chars = 0;
                }
                let cut = rest
                    .char_indices()
                    .nth(width)
                    .map_or(rest.len(), |(i, _)| i);
                lines.push(rest[..cut].to_owned());
                rest = &rest[cut..];
                rest_chars -= width;
                if full(&lines) {
                    break 'text;
                }
            }
            let needed = line_chars + usize::from(!line.is_empty()) + rest_chars;
            if needed > width && !line.is_empty() {
                lines.push(std::mem::take(&mut line));
                line_chars = 0;
                if full(&lines) {
                    break 'text;
                }
            }
            if !line.is_empty() {
                line.push(' ');
                line_chars += 1;
            }
            line.push_str(rest);
            line_chars += rest_chars;
        }
        if !line.is_empty() {
            lines.push(line);
        }
        if full(&lines) {
            break;
        }
    }
    if lines.len() > max_lines {
        lines.truncate(max_lines);
        if let Some(last) = lines.last_mut() {
            let mut kept: String = last.chars().take(width.saturating_sub(1)).collect();
            kept.push('…');
            *last = kept;
        }
    }
    lines
}

fn clamp(value: f64, min: f64, max: f64) -> f64 {
    if value.is_finite() {
        value.clamp(min, max)
    } else {
        min
    }
}

#[cfg(test)]
mod tests {
    use super::wrap;

    #[test]
    fn words_wrap_greedily_and_a_long_word_is_cut() {
        assert_eq!(wrap("een twee drie vier", 9, 5), ["een twee", "drie vier"]);
        assert_eq!(wrap("abcdefghij", 4, 5), ["abcd", "efgh", "ij"]);
        assert_eq!(wrap("één\n\ntwee", 10, 5), ["één", "twee"]);
        assert_eq!(wrap("a b c d e f", 1, 3), ["a", "b", "…"]);
    }

    #[test]
    fn a_text_of_one_huge_word_is_cut_after_the_shown_lines() {
        // Cutting a 1,000,000-character word from the front was quadratic: the SVG board
        // and the ZIP package of one hostile note took minutes.
        let word = "x".repeat(1_000_000);
        let lines = wrap(&word, 22, 6);
        assert_eq!(lines.len(), 6);
        assert!(lines[..5].iter().all(|l| l.len() == 22));
        assert_eq!(lines[5], format!("{}…", "x".repeat(21)));
        let words = "woord ".repeat(1_000_000);
        assert_eq!(wrap(&words, 22, 6).len(), 6);
    }
}
