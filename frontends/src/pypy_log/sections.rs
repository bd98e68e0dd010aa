//! Splitting a `PYPYLOG` file into its sections.
//!
//! A section opens with a line `[hex-timestamp] {name` and closes with `[hex-timestamp] name}`;
//! sections nest. Everything outside a section, and sections nobody asked for, are skipped.
//! Malformed structure (a closer that does not match, a section never closed) is reported as a
//! located problem, and the rest of the log is still split.

use tracelab_ir::trace::Span;
use tracelab_ir::Diagnostic;

#[derive(Clone, Debug)]
pub struct Section {
    pub name: String,
    /// 1-based line of the opener.
    pub line: usize,
    /// Byte range of the opener line (for diagnostics about the section).
    pub opener: Span,
    /// Byte range of the body: from the line after the opener to the closer (or end of log).
    pub body: std::ops::Range<usize>,
    /// Byte ranges of sections nested in this one, to be blanked out of the body.
    pub nested: Vec<std::ops::Range<usize>>,
    pub closed: bool,
}

enum Marker<'a> {
    Open(&'a str),
    Close(&'a str),
}

/// `[13c0a73584f] {jit-log-noopt` / `[13c0a82f946] jit-log-noopt}`.
fn marker(line: &str) -> Option<Marker<'_>> {
    let rest = line.strip_prefix('[')?;
    let close = rest.find(']')?;
    if close == 0 || !rest[..close].bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let tail = rest[close + 1..].strip_prefix(' ')?.trim_end_matches('\r');
    let valid = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if let Some(name) = tail.strip_prefix('{') {
        return valid(name).then_some(Marker::Open(name));
    }
    let name = tail.strip_suffix('}')?;
    valid(name).then_some(Marker::Close(name))
}

/// Every section of the log, in the order they open, and structural problems.
pub fn split(log: &str) -> (Vec<Section>, Vec<Diagnostic>) {
    let mut done: Vec<Section> = Vec::new();
    let mut stack: Vec<Section> = Vec::new();
    let mut problems = Vec::new();
    let mut offset = 0;
    for (i, raw) in log.split_inclusive('\n').enumerate() {
        let start = offset;
        offset += raw.len();
        let line = raw.trim_end_matches('\n');
        match marker(line) {
            Some(Marker::Open(name)) => stack.push(Section {
                name: name.to_string(),
                line: i + 1,
                opener: Span::new(start, start + line.len()),
                body: offset..offset,
                nested: Vec::new(),
                closed: false,
            }),
            Some(Marker::Close(name)) => match stack.iter().rposition(|s| s.name == name) {
                Some(pos) => {
                    let lost = stack.len() - pos - 1;
                    if lost > 0 {
                        let d = Diagnostic::new(Span::new(start, start + line.len()), format!("`{name}}}` closes a section while {lost} section(s) inside it are still open"));
                        problems.push(d.label("the inner sections are closed here"));
                    }
                    while stack.len() > pos {
                        let mut s = stack.pop().expect("non-empty");
                        s.body.end = start;
                        s.closed = stack.len() == pos;
                        if let Some(parent) = stack.last_mut() {
                            parent.nested.push(s.opener.start as usize..offset);
                        }
                        done.push(s);
                    }
                }
                None => problems.push(
                    Diagnostic::new(Span::new(start, start + line.len()), format!("`{name}}}` closes a section that is not open"))
                        .label("no matching `{` line before this"),
                ),
            },
            None => {}
        }
    }
    while let Some(mut s) = stack.pop() {
        s.body.end = log.len();
        problems.push(Diagnostic::new(s.opener, format!("section `{}` is never closed (truncated log?)", s.name))
            .label("opened here"));
        if let Some(parent) = stack.last_mut() {
            parent.nested.push(s.opener.start as usize..log.len());
        }
        done.push(s);
    }
    done.sort_by_key(|s| s.line);
    (done, problems)
}

/// The body of a section with nested sections blanked out (byte offsets unchanged, so spans
/// into the body are spans into the log shifted by `body.start`).
pub fn body_text(log: &str, s: &Section) -> String {
    let mut body = log[s.body.clone()].to_string();
    for r in &s.nested {
        let (a, b) = (r.start.max(s.body.start) - s.body.start, r.end.min(s.body.end).saturating_sub(s.body.start));
        if a >= b {
            continue;
        }
        // One space per byte (not per char), so that every offset after the blank stays put.
        let blank: String = body[a..b].chars().flat_map(|c| {
            let keep = if c == '\n' { "\n" } else { " " };
            std::iter::repeat_n(keep, if c == '\n' { 1 } else { c.len_utf8() })
        }).collect();
        body.replace_range(a..b, &blank);
    }
    body
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_and_unknown_sections() {
        let log = "[1] {outer\n[2] {jit-log-noopt\n[p0]\njump(p0)\n[3] jit-log-noopt}\n[4] outer}\n";
        let (s, p) = split(log);
        assert!(p.is_empty());
        assert_eq!(s.len(), 2);
        assert_eq!(s[1].name, "jit-log-noopt");
        assert_eq!(&log[s[1].body.clone()], "[p0]\njump(p0)\n");
        assert_eq!(s[0].nested.len(), 1);
        assert!(!body_text(log, &s[0]).contains("jump"));
    }

    #[test]
    fn blanking_keeps_offsets_with_multibyte_text() {
        let log = "[1] {jit-log-noopt\n[2] {x\n\u{e9}\u{e9}\n[3] x}\n[p0]\n[4] jit-log-noopt}\n";
        let (s, _) = split(log);
        let body = body_text(log, &s[0]);
        assert_eq!(body.len(), s[0].body.len());
        assert!(body.ends_with("[p0]\n"));
    }

    #[test]
    fn truncated_and_stray_closers_are_located() {
        let log = "[1] x}\n[2] {jit-log-opt-loop\n[p0]\n";
        let (s, p) = split(log);
        assert_eq!(p.len(), 2);
        assert!(p[0].message.contains("not open"));
        assert!(p[1].message.contains("never closed"));
        assert!(!s[0].closed);
    }

    #[test]
    fn markers_need_hex_stamps() {
        assert!(marker("[zz] {x").is_none());
        assert!(marker("[1a] {jit-summary").is_some());
        assert!(marker("[1a] {").is_none());
    }
}
