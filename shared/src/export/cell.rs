//! What a participant's text becomes in a spreadsheet: defused when it would start a formula, and (in XLSX) fitted to what one Excel cell holds.
//!
//! Every text the CSV and the XLSX workbook write passes through here, so no text a
//! participant typed can make a spreadsheet run a formula, or make the workbook fail.

use std::borrow::Cow;

/// The most a cell of Excel holds: 32,767 characters, counted as Excel (and
/// `rust_xlsxwriter`) count them, in UTF-16 code units; an emoji counts twice.
pub const MAX_CELL_UNITS: usize = 32_767;

/// What ends a text that was cut to fit a cell ("afgekapt": cut off).
pub const CUT_MARK: &str = "…[afgekapt]";

/// Whether a text that starts like a formula is defused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Formulas {
    /// A text starting with `=`, `+`, `-`, `@`, a tab or a carriage return gets a leading
    /// `'` (OWASP's advice against CSV injection), so a spreadsheet shows it as text
    /// instead of evaluating it (`=HYPERLINK(…)`, `=cmd|…`).
    #[default]
    Neutralise,
    /// Texts are written as typed: for tools that read the data, not a spreadsheet.
    Keep,
}

/// A field of the CSV: defused as `formulas` asks, never cut (the CSV is the lossless
/// export; Excel itself cuts a longer field when it opens the file).
pub fn csv_field(text: &str, formulas: Formulas) -> Cow<'_, str> {
    match formulas {
        Formulas::Neutralise if starts_like_formula(text) => Cow::Owned(format!("'{text}")),
        _ => Cow::Borrowed(text),
    }
}

/// A string cell of the XLSX workbook: defused as `formulas` asks, then cut to
/// [`MAX_CELL_UNITS`] and ending in [`CUT_MARK`] when longer. Every string the workbook
/// writes goes through this function.
pub fn xlsx_cell(text: &str, formulas: Formulas) -> Cow<'_, str> {
    let defused = csv_field(text, formulas);
    if utf16_len(&defused) <= MAX_CELL_UNITS {
        return defused;
    }
    let budget = MAX_CELL_UNITS - utf16_len(CUT_MARK);
    let mut cut = String::with_capacity(budget + CUT_MARK.len());
    let mut units = 0;
    for c in defused.chars() {
        units += c.len_utf16();
        if units > budget {
            break;
        }
        cut.push(c);
    }
    cut.push_str(CUT_MARK);
    Cow::Owned(cut)
}

/// Whether a spreadsheet would read `text` as a formula (or the start of one).
pub fn starts_like_formula(text: &str) -> bool {
    text.starts_with(['=', '+', '-', '@', '\t', '\r'])
}

fn utf16_len(text: &str) -> usize {
    text.chars().map(char::len_utf16).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_starts_get_a_quote_unless_kept() {
        for text in [
            "=1+1",
            "+31 6 1234",
            "-2",
            "@SUM(A1)",
            "\t=x",
            "\r=x",
            "=HYPERLINK(\"http://x\")",
        ] {
            assert_eq!(csv_field(text, Formulas::Neutralise), format!("'{text}"));
            assert_eq!(xlsx_cell(text, Formulas::Neutralise), format!("'{text}"));
            assert_eq!(csv_field(text, Formulas::Keep), text);
            assert_eq!(xlsx_cell(text, Formulas::Keep), text);
        }
        for text in ["", "Gewoon een notitie", " =1", "1=1", "'=1", "a-b"] {
            assert_eq!(csv_field(text, Formulas::Neutralise), text);
            assert!(matches!(
                xlsx_cell(text, Formulas::Neutralise),
                Cow::Borrowed(_)
            ));
        }
    }

    #[test]
    fn a_long_text_is_cut_to_excels_limit_and_marked() {
        let exact = "a".repeat(MAX_CELL_UNITS);
        assert_eq!(xlsx_cell(&exact, Formulas::Neutralise), exact);

        let long = "a".repeat(40_000);
        let cell = xlsx_cell(&long, Formulas::Neutralise);
        assert!(cell.ends_with(CUT_MARK));
        assert_eq!(utf16_len(&cell), MAX_CELL_UNITS);
        assert_eq!(
            csv_field(&long, Formulas::Neutralise),
            long,
            "CSV keeps all"
        );

        // Emoji count twice; a cut never splits one.
        let emoji = "🌳".repeat(20_000);
        let cell = xlsx_cell(&emoji, Formulas::Neutralise);
        assert!(utf16_len(&cell) <= MAX_CELL_UNITS);
        assert!(cell.ends_with(CUT_MARK));
        assert!(cell.trim_end_matches(CUT_MARK).chars().all(|c| c == '🌳'));

        // Defused first, then cut: the quote stays.
        let formula = format!("={}", "1".repeat(40_000));
        let cell = xlsx_cell(&formula, Formulas::Neutralise);
        assert!(cell.starts_with("'="));
        assert_eq!(utf16_len(&cell), MAX_CELL_UNITS);
    }
}
