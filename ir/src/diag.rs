//! Diagnostics: errors located in the source text and rendered with the offending line and a
//! caret (codespan-reporting), as `file:line:col`.

use crate::trace::Span;
use codespan_reporting::diagnostic as cs;
use codespan_reporting::files::SimpleFile;
use codespan_reporting::term;
use std::collections::HashMap;
use std::fmt;

/// One error: what is wrong, where, and (in `label`) what was expected there.
#[derive(Clone, Debug, PartialEq)]
pub struct Diagnostic {
    pub message: String,
    pub span: Span,
    /// Short text shown under the caret.
    pub label: String,
    pub notes: Vec<String>,
}

impl Diagnostic {
    pub fn new(span: Span, message: impl Into<String>) -> Diagnostic {
        Diagnostic { message: message.into(), span, label: String::new(), notes: Vec::new() }
    }
    pub fn label(mut self, label: impl Into<String>) -> Diagnostic {
        self.label = label.into();
        self
    }
    pub fn note(mut self, note: impl Into<String>) -> Diagnostic {
        self.notes.push(note.into());
        self
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// A named source text, for locating and rendering diagnostics.
pub struct SourceFile<'a> {
    pub name: &'a str,
    pub text: &'a str,
}

impl SourceFile<'_> {
    /// 1-based line and column of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let before = &self.text[..offset];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        (line, before[line_start..].chars().count() + 1)
    }

    /// Renders diagnostics as text: `error: msg`, `--> file:line:col`, the line, a caret.
    ///
    /// Output stays proportional to the input: at most [`MAX_PER_LINE`] errors are shown per
    /// source line and [`MAX_PER_FILE`] in all (then a count of the rest), and a line longer
    /// than [`MAX_LINE_CHARS`] is shown as a window around the error.
    pub fn render(&self, diags: &[Diagnostic]) -> String {
        let starts = line_starts(self.text);
        let file = SimpleFile::new(self.name, self.text);
        let mut out = String::new();
        let mut shown = 0;
        let mut per_line: HashMap<usize, usize> = HashMap::new();
        let mut hidden_on_shown_lines = 0;
        for d in diags {
            if d.span.is_none() {
                if shown < MAX_PER_FILE {
                    self.render_unlocated(d, &mut out);
                    shown += 1;
                }
                continue;
            }
            let offset = (d.span.start as usize).min(self.text.len());
            let line = starts.partition_point(|&s| s <= offset);
            let count = per_line.entry(line).or_insert(0);
            *count += 1;
            if *count > MAX_PER_LINE {
                hidden_on_shown_lines += 1;
                continue;
            }
            if shown < MAX_PER_FILE {
                let line_text = &self.text[starts[line - 1]..];
                let line_text = line_text.split('\n').next().unwrap_or("");
                self.render_located(&file, d, line_text, &mut out);
                shown += 1;
            }
        }
        let hidden = diags.len() - shown;
        if hidden > 0 {
            out.push_str(&format!("error: {}: {hidden} more errors not shown", self.name));
            if hidden_on_shown_lines > 0 {
                out.push_str(&format!(
                    " ({hidden_on_shown_lines} beyond the first {MAX_PER_LINE} of a line)"
                ));
            }
            out.push('\n');
        }
        out
    }

    fn render_unlocated(&self, d: &Diagnostic, out: &mut String) {
        out.push_str(&format!("error: {}: {}\n", self.name, d.message));
        for n in &d.notes {
            out.push_str(&format!("  = {n}\n"));
        }
    }

    fn render_located(&self, file: &SimpleFile<&str, &str>, d: &Diagnostic, line_text: &str, out: &mut String) {
        let range = clamp(d.span, self.text.len());
        if line_text.chars().count() > MAX_LINE_CHARS {
            let (line, col) = self.line_col(range.start);
            self.render_windowed(d, line, col, line_text, out);
            return;
        }
        let mut config = term::Config::default();
        config.chars = term::Chars::ascii();
        let cd = cs::Diagnostic::error()
            .with_message(&d.message)
            .with_notes(d.notes.clone())
            .with_labels(vec![cs::Label::primary((), range).with_message(&d.label)]);
        match term::emit_into_string(&config, file, &cd) {
            Ok(s) => out.push_str(&s),
            Err(_) => self.render_unlocated(d, out),
        }
    }

    /// The codespan layout by hand, showing [`WINDOW_CHARS`] characters of a long line around
    /// the error (`...` marks what is cut), so that each error costs the same whatever the line.
    fn render_windowed(&self, d: &Diagnostic, line: usize, col: usize, text: &str, out: &mut String) {
        let chars: Vec<char> = text.chars().collect();
        let span_chars = self.text[clamp(d.span, self.text.len())].chars().count().max(1);
        let start = (col - 1).saturating_sub(WINDOW_CHARS / 3);
        let end = (col - 1 + span_chars.max(WINDOW_CHARS / 2)).min(chars.len());
        let mut shown: String = chars[start..end].iter().collect();
        let mut caret_at = col - 1 - start;
        if start > 0 {
            shown.insert_str(0, "...");
            caret_at += 3;
        }
        if end < chars.len() {
            shown.push_str("...");
        }
        let carets = "^".repeat(span_chars.min(end.saturating_sub(col - 1)).max(1));
        let pad = " ".repeat(line.to_string().len() + 1);
        out.push_str(&format!("error: {}\n{pad}--> {}:{line}:{col}\n{pad}|\n", d.message, self.name));
        out.push_str(&format!("{line} | {shown}\n{pad}| {}{carets} {}\n", " ".repeat(caret_at), d.label));
        if !d.notes.is_empty() {
            out.push_str(&format!("{pad}|\n"));
        }
        for n in &d.notes {
            out.push_str(&format!("{pad}= {n}\n"));
        }
        out.push('\n');
    }
}

/// Errors shown for one source line; the rest are counted.
pub const MAX_PER_LINE: usize = 10;
/// Errors shown for one file; the rest are counted.
pub const MAX_PER_FILE: usize = 50;
/// Lines longer than this are shown as a window around the error.
pub const MAX_LINE_CHARS: usize = 160;
const WINDOW_CHARS: usize = 120;

/// Byte offsets at which each line starts.
fn line_starts(text: &str) -> Vec<usize> {
    std::iter::once(0).chain(text.match_indices('\n').map(|(i, _)| i + 1)).collect()
}

fn clamp(span: Span, len: usize) -> std::ops::Range<usize> {
    let start = (span.start as usize).min(len);
    let end = (span.end as usize).clamp(start, len);
    start..end
}

/// The closest of `candidates` to `word` by edit distance, if it is close enough to suggest.
pub fn suggest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (word.len() / 3).max(1);
    candidates
        .into_iter()
        .map(|c| (edit_distance(word, c), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for j in 0..b.len() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != b[j])).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_from_one() {
        let f = SourceFile { name: "x", text: "ab\ncd" };
        assert_eq!(f.line_col(0), (1, 1));
        assert_eq!(f.line_col(4), (2, 2));
        assert_eq!(f.line_col(99), (2, 3));
    }

    #[test]
    fn suggests_near_names() {
        assert_eq!(suggest("int_ad", ["int_add", "int_sub"]), Some("int_add"));
        assert_eq!(suggest("zzzzzz", ["int_add"]), None);
    }

    #[test]
    fn render_shows_location_and_line() {
        let f = SourceFile { name: "t.trace", text: "i0 = int_add(i1, 2)\n" };
        let s = f.render(&[Diagnostic::new(Span::new(13, 15), "unknown value `i1`").label("not defined")]);
        assert!(s.contains("t.trace:1:14"), "{s}");
        assert!(s.contains("int_add(i1, 2)"), "{s}");
    }

    #[test]
    fn long_lines_are_shown_as_a_window_with_the_caret_on_the_error() {
        let line = format!("i0 = f({})", "x, ".repeat(500));
        let f = SourceFile { name: "t.trace", text: &line };
        let s = f.render(&[Diagnostic::new(Span::new(700, 701), "bad").label("here")]);
        assert!(s.contains("t.trace:1:701"), "{s}");
        let shown = s.lines().find(|l| l.starts_with("1 | ")).unwrap();
        let caret = s.lines().find(|l| l.contains("^ here")).unwrap();
        assert!(shown.len() < 140 && shown.contains("..."), "{s}");
        assert_eq!(&shown[caret.find('^').unwrap()..][..1], "x", "{s}");
    }
}
