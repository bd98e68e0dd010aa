//! Diagnostics: errors located in the source text and rendered with the offending line and a
//! caret (codespan-reporting), as `file:line:col`.

use crate::trace::Span;
use codespan_reporting::diagnostic as cs;
use codespan_reporting::files::SimpleFile;
use codespan_reporting::term;
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
    pub fn render(&self, diags: &[Diagnostic]) -> String {
        let file = SimpleFile::new(self.name, self.text);
        let mut config = term::Config::default();
        config.chars = term::Chars::ascii();
        let mut out = String::new();
        for d in diags {
            let mut cd = cs::Diagnostic::error().with_message(&d.message).with_notes(d.notes.clone());
            if d.span.is_none() {
                out.push_str(&format!("error: {}: {}\n", self.name, d.message));
                for n in &d.notes {
                    out.push_str(&format!("  = {n}\n"));
                }
                continue;
            }
            let range = clamp(d.span, self.text.len());
            cd = cd.with_labels(vec![cs::Label::primary((), range).with_message(&d.label)]);
            match term::emit_into_string(&config, &file, &cd) {
                Ok(s) => out.push_str(&s),
                Err(_) => out.push_str(&format!("error: {}: {}\n", self.name, d.message)),
            }
        }
        out
    }
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
}
