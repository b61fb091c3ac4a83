//! What a participant's text becomes in a spreadsheet: defused when it would start a formula.
//!
//! Every text the CSV and the XLSX workbook write passes through here, so no text a
//! participant typed can make a spreadsheet run a formula.

use std::borrow::Cow;

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

/// A string cell of the XLSX workbook, defused as `formulas` asks. Every string the
/// workbook writes goes through this function.
pub fn xlsx_cell(text: &str, formulas: Formulas) -> Cow<'_, str> {
    csv_field(text, formulas)
}

/// Whether a spreadsheet would read `text` as a formula (or the start of one).
pub fn starts_like_formula(text: &str) -> bool {
    text.starts_with(['=', '+', '-', '@', '\t', '\r'])
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
}
