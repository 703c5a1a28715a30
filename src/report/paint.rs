//! Terminal colours: one helper every text report paints with, so that `--color never` and
//! `NO_COLOR` leave the same plain text everywhere.

use owo_colors::{OwoColorize, Style};

/// `s` in `style` when `color` is on, else `s` unchanged.
pub fn paint(s: &str, style: Style, color: bool) -> String {
    if color {
        s.style(style).to_string()
    } else {
        s.to_string()
    }
}

/// Paints, in a table already rendered with `│` column separators, the word in column `col`
/// (0-based) of every row with the style `style_of` gives it (none: left as is). Colouring
/// after the layout keeps the columns aligned: the table measures the plain text.
pub fn paint_column(
    table: &str,
    col: usize,
    style_of: impl Fn(&str) -> Option<Style>,
    color: bool,
) -> String {
    if !color {
        return table.to_string();
    }
    let mut out = String::with_capacity(table.len() + table.len() / 8);
    for (i, line) in table.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        out.push_str(&paint_cell(line, col, &style_of));
    }
    out
}

/// One line of [`paint_column`].
fn paint_cell(line: &str, col: usize, style_of: &impl Fn(&str) -> Option<Style>) -> String {
    let mut parts = line.splitn(col + 3, '│');
    let mut out = String::with_capacity(line.len() + 16);
    // The text before the first separator (the border), then `col` cells before ours.
    for _ in 0..=col {
        match parts.next() {
            Some(p) => {
                out.push_str(p);
                out.push('│');
            }
            None => return line.to_string(),
        }
    }
    let Some(cell) = parts.next() else {
        return line.to_string();
    };
    let word = cell.trim();
    match style_of(word) {
        Some(style) if !word.is_empty() => {
            let start = cell.len() - cell.trim_start().len();
            let end = start + word.len();
            out.push_str(cell.get(..start).unwrap_or_default());
            out.push_str(&paint(word, style, true));
            out.push_str(cell.get(end..).unwrap_or_default());
        }
        _ => out.push_str(cell),
    }
    for p in parts {
        out.push('│');
        out.push_str(p);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paints_only_when_asked() {
        let s = Style::new().red();
        assert_eq!(paint("x", s, false), "x");
        assert_eq!(paint("x", s, true), "\u{1b}[31mx\u{1b}[0m");
    }

    #[test]
    fn a_column_is_painted_after_layout() {
        let t = "┌──┬──────┐\n│ a │ FAIL │ d │ e\n│ b │ pass │ │x│";
        let style = |w: &str| (w == "FAIL").then(|| Style::new().red());
        let out = paint_column(t, 1, style, true);
        assert_eq!(
            out,
            "┌──┬──────┐\n│ a │ \u{1b}[31mFAIL\u{1b}[0m │ d │ e\n│ b │ pass │ │x│"
        );
        assert_eq!(paint_column(t, 1, style, false), t);
    }
}
