//! A FileCheck with LLVM's semantics, for the check directives in `.trace` tests.
//!
//! Directives (with the default prefix `CHECK`, or any `--check-prefix`):
//! - `CHECK: pat` — matches at or after the current position (within one line);
//! - `CHECK-NEXT: pat` — on the line right after the previous match;
//! - `CHECK-SAME: pat` — on the same line as the previous match, after it;
//! - `CHECK-EMPTY:` — the next line is empty;
//! - `CHECK-NOT: pat` — does not occur between the previous match and the next match;
//! - `CHECK-DAG: pat` — consecutive DAG directives match in any order, without overlapping;
//! - `CHECK-LABEL: pat` — splits the input into blocks first: each label matches once, in
//!   order, and the other directives between two labels match inside that block only.
//!
//! Patterns are literal text, except `{{regex}}`, `[[NAME:regex]]` (capture) and `[[NAME]]`
//! (the text captured before). Horizontal white space in a pattern matches any non-empty run of
//! it. A failure says which directive failed, where matching stopped and shows that input line.

use regex::Regex;
use std::collections::HashMap;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Plain,
    Next,
    Same,
    Not,
    Label,
    Dag,
    Empty,
}

#[derive(Clone, Debug)]
struct Directive {
    kind: Kind,
    pattern: String,
    /// Line in the check file, for messages.
    line: usize,
}

/// Reads the directives for `prefix` from the check file's text (any line containing
/// `PREFIX:`, `PREFIX-NEXT:` etc., typically after `;`).
fn directives(check_text: &str, prefix: &str) -> Result<Vec<Directive>, String> {
    let suffixes = [
        ("-NEXT:", Kind::Next),
        ("-SAME:", Kind::Same),
        ("-NOT:", Kind::Not),
        ("-LABEL:", Kind::Label),
        ("-DAG:", Kind::Dag),
        ("-EMPTY:", Kind::Empty),
        (":", Kind::Plain),
    ];
    let mut out = Vec::new();
    for (i, line) in check_text.lines().enumerate() {
        let Some(pos) = find_prefix(line, prefix) else { continue };
        let rest = &line[pos + prefix.len()..];
        let Some((suffix, kind)) = suffixes.iter().find(|(s, _)| rest.starts_with(s)) else { continue };
        let pattern = rest[suffix.len()..].trim().to_string();
        if pattern.is_empty() && !matches!(kind, Kind::Empty) {
            return Err(format!("line {}: {prefix}{suffix} has an empty pattern", i + 1));
        }
        out.push(Directive { kind: *kind, pattern, line: i + 1 });
    }
    if out.is_empty() {
        return Err(format!("no {prefix}: directives found"));
    }
    if matches!(out[0].kind, Kind::Next | Kind::Same | Kind::Empty) {
        return Err(format!("line {}: the first directive cannot be -NEXT, -SAME or -EMPTY", out[0].line));
    }
    Ok(out)
}

/// The prefix as a whole word (not the tail of a longer identifier).
fn find_prefix(line: &str, prefix: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(p) = line[from..].find(prefix) {
        let at = from + p;
        let before_ok = at == 0 || !line.as_bytes()[at - 1].is_ascii_alphanumeric() && line.as_bytes()[at - 1] != b'-';
        if before_ok {
            return Some(at);
        }
        from = at + prefix.len();
    }
    None
}

/// Compiles a pattern given the variables captured so far. Returns the regex and the names of
/// the variables it captures, in group order.
fn compile(pattern: &str, vars: &HashMap<String, String>) -> Result<(Regex, Vec<String>), String> {
    let mut re = String::new();
    let mut names = Vec::new();
    let mut rest = pattern;
    while !rest.is_empty() {
        if let Some(body) = rest.strip_prefix("{{") {
            let end = body.find("}}").ok_or("unterminated {{")?;
            re.push_str(&format!("(?:{})", &body[..end]));
            rest = &body[end + 2..];
        } else if let Some(body) = rest.strip_prefix("[[") {
            let end = body.find("]]").ok_or("unterminated [[")?;
            let inner = &body[..end];
            match inner.split_once(':') {
                Some((name, sub)) => {
                    re.push_str(&format!("({sub})"));
                    names.push(name.to_string());
                }
                None => {
                    let v = vars.get(inner).ok_or_else(|| format!("variable [[{inner}]] used before it is defined"))?;
                    re.push_str(&regex::escape(v));
                }
            }
            rest = &body[end + 2..];
        } else {
            let next = [rest.find("{{"), rest.find("[[")].into_iter().flatten().min().unwrap_or(rest.len());
            let lit = &rest[..next];
            let mut first = true;
            for word in lit.split([' ', '\t']) {
                if !first {
                    re.push_str("[ \\t]+");
                }
                first = false;
                re.push_str(&regex::escape(word));
            }
            // Collapse the separators that split() made of runs of blanks.
            while re.contains("[ \\t]+[ \\t]+") {
                re = re.replace("[ \\t]+[ \\t]+", "[ \\t]+");
            }
            rest = &rest[next..];
        }
    }
    let compiled = Regex::new(&re).map_err(|e| format!("bad pattern {pattern:?}: {e}"))?;
    Ok((compiled, names))
}

/// A position in the input: line index and byte column.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Pos {
    line: usize,
    col: usize,
}

struct Matcher<'a> {
    lines: Vec<&'a str>,
    vars: HashMap<String, String>,
}

impl Matcher<'_> {
    /// First match of `d` in [from, to): (start, end) positions, and captures recorded.
    fn find(&mut self, d: &Directive, from: Pos, to: Pos, exclude: &[(Pos, Pos)]) -> Result<Option<(Pos, Pos)>, String> {
        let (re, names) = compile(&d.pattern, &self.vars)?;
        for li in from.line..=to.line.min(self.lines.len().saturating_sub(1)) {
            let line = self.lines[li];
            let start = if li == from.line { from.col.min(line.len()) } else { 0 };
            let end = if li == to.line { to.col.min(line.len()) } else { line.len() };
            let mut at = start;
            while at <= end {
                let Some(c) = re.captures_at(&line[..end], at) else { break };
                let m = c.get(0).expect("group 0");
                let (s, e) = (Pos { line: li, col: m.start() }, Pos { line: li, col: m.end() });
                if exclude.iter().any(|&(a, b)| s < b && a < e) {
                    at = m.start() + 1;
                    continue;
                }
                for (k, n) in names.iter().enumerate() {
                    let v = c.get(k + 1).map_or("", |g| g.as_str());
                    self.vars.insert(n.clone(), v.to_string());
                }
                return Ok(Some((s, e)));
            }
        }
        Ok(None)
    }

    fn end(&self) -> Pos {
        let last = self.lines.len().saturating_sub(1);
        Pos { line: last, col: self.lines.get(last).map_or(0, |l| l.len()) }
    }
}

/// Checks `input` against the directives for `prefix` in `check_text`.
pub fn check(check_text: &str, input: &str, prefix: &str) -> Result<(), String> {
    let ds = directives(check_text, prefix)?;
    let mut m = Matcher { lines: input.lines().collect(), vars: HashMap::new() };
    if m.lines.is_empty() {
        m.lines.push("");
    }
    // Labels first: each matches once, in order, and they cut the input into blocks.
    let mut labels: Vec<(usize, Pos, Pos)> = Vec::new(); // (directive index, match start, match end)
    let mut pos = Pos { line: 0, col: 0 };
    for (i, d) in ds.iter().enumerate().filter(|(_, d)| d.kind == Kind::Label) {
        let end = m.end();
        match m.find(d, pos, end, &[])? {
            Some((s, e)) => {
                labels.push((i, s, e));
                pos = e;
            }
            None => return Err(failure(&m, d, pos, "label not found")),
        }
    }
    // The directives between two labels match between the end of the first label's match and
    // the start of the second's.
    let mut first_dir = 0;
    let mut from = Pos { line: 0, col: 0 };
    for &(li, start, end) in &labels {
        run_stretch(&mut m, &ds[first_dir..li], from, start)?;
        first_dir = li + 1;
        from = end;
    }
    let end = m.end();
    run_stretch(&mut m, &ds[first_dir..], from, end)
}

/// Runs non-label directives in order between `from` and `to`.
fn run_stretch(m: &mut Matcher<'_>, ds: &[Directive], from: Pos, to: Pos) -> Result<(), String> {
    let mut pos = from;
    let mut last_match_line: Option<usize> = if from == (Pos { line: 0, col: 0 }) { None } else { Some(from.line) };
    let mut pending_not: Vec<&Directive> = Vec::new();
    let mut i = 0;
    while i < ds.len() {
        let d = &ds[i];
        match d.kind {
            Kind::Not => {
                pending_not.push(d);
                i += 1;
                continue;
            }
            Kind::Dag => {
                let group_end = ds[i..].iter().position(|x| x.kind != Kind::Dag).map_or(ds.len(), |p| i + p);
                let mut taken: Vec<(Pos, Pos)> = Vec::new();
                for dd in &ds[i..group_end] {
                    match m.find(dd, pos, to, &taken)? {
                        Some(r) => taken.push(r),
                        None => return Err(failure(m, dd, pos, "no match for CHECK-DAG")),
                    }
                }
                let first = taken.iter().map(|r| r.0).min().unwrap_or(pos);
                check_nots(m, &pending_not, pos, first)?;
                pending_not.clear();
                pos = taken.iter().map(|r| r.1).max().unwrap_or(pos);
                last_match_line = Some(pos.line);
                i = group_end;
                continue;
            }
            Kind::Empty => {
                let want = last_match_line.map_or(0, |l| l + 1);
                if m.lines.get(want).is_none_or(|l| !l.trim().is_empty()) {
                    return Err(failure(m, d, Pos { line: want.min(m.lines.len() - 1), col: 0 }, "expected an empty line here"));
                }
                check_nots(m, &pending_not, pos, Pos { line: want, col: 0 })?;
                pending_not.clear();
                pos = Pos { line: want, col: 0 };
                last_match_line = Some(want);
            }
            Kind::Plain | Kind::Next | Kind::Same => {
                let found = m.find(d, pos, to, &[])?;
                let Some((s, e)) = found else {
                    return Err(failure(m, d, pos, "no match"));
                };
                if d.kind == Kind::Next && Some(s.line) != last_match_line.map(|l| l + 1) {
                    return Err(failure(m, d, s, "CHECK-NEXT matched, but not on the line after the previous match"));
                }
                if d.kind == Kind::Same && Some(s.line) != last_match_line {
                    return Err(failure(m, d, s, "CHECK-SAME matched, but not on the same line as the previous match"));
                }
                check_nots(m, &pending_not, pos, s)?;
                pending_not.clear();
                pos = e;
                last_match_line = Some(s.line);
            }
            Kind::Label => unreachable!("labels are handled first"),
        }
        i += 1;
    }
    check_nots(m, &pending_not, pos, to)
}

fn check_nots(m: &mut Matcher<'_>, nots: &[&Directive], from: Pos, to: Pos) -> Result<(), String> {
    for d in nots {
        if let Some((s, _)) = m.find(d, from, to, &[])? {
            return Err(failure(m, d, s, "CHECK-NOT pattern found"));
        }
    }
    Ok(())
}

fn failure(m: &Matcher<'_>, d: &Directive, at: Pos, why: &str) -> String {
    let kind = match d.kind {
        Kind::Plain => "CHECK",
        Kind::Next => "CHECK-NEXT",
        Kind::Same => "CHECK-SAME",
        Kind::Not => "CHECK-NOT",
        Kind::Label => "CHECK-LABEL",
        Kind::Dag => "CHECK-DAG",
        Kind::Empty => "CHECK-EMPTY",
    };
    let line = m.lines.get(at.line).copied().unwrap_or("");
    let mut s = format!("check line {}: {kind}: {}\n  {why}\n  input line {}:\n    {line}\n    {}^\n", d.line, d.pattern, at.line + 1, " ".repeat(at.col.min(line.len())));
    s.push_str("  input:\n");
    for (i, l) in m.lines.iter().enumerate() {
        s.push_str(&format!("  {:>4} {l}\n", i + 1));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::check;

    fn ok(checks: &str, input: &str) {
        if let Err(e) = check(checks, input, "CHECK") {
            panic!("{e}");
        }
    }
    fn bad(checks: &str, input: &str) -> String {
        check(checks, input, "CHECK").expect_err("expected a failure")
    }

    #[test]
    fn plain_and_order() {
        ok("; CHECK: a\n; CHECK: c", "a\nb\nc");
        bad("; CHECK: c\n; CHECK: a", "a\nb\nc");
    }

    #[test]
    fn next_and_same() {
        ok("; CHECK: a\n; CHECK-NEXT: b\n; CHECK-SAME: x", "a\nb x");
        assert!(bad("; CHECK: a\n; CHECK-NEXT: c", "a\nb\nc").contains("not on the line after"));
        assert!(bad("; CHECK: a\n; CHECK-SAME: b", "a\nb").contains("same line"));
    }

    #[test]
    fn not_between_matches() {
        ok("; CHECK: a\n; CHECK-NOT: z\n; CHECK: c", "a\nb\nc\nz");
        bad("; CHECK: a\n; CHECK-NOT: b\n; CHECK: c", "a\nb\nc");
        bad("; CHECK: a\n; CHECK-NOT: z", "a\nz");
    }

    #[test]
    fn dag_any_order() {
        ok("; CHECK-DAG: y\n; CHECK-DAG: x\n; CHECK: z", "x\ny\nz");
        bad("; CHECK-DAG: x\n; CHECK-DAG: x\n", "x\n");
    }

    #[test]
    fn labels_cut_blocks() {
        ok("; CHECK-LABEL: loop a\n; CHECK: add\n; CHECK-LABEL: loop b\n; CHECK: sub", "loop a\nadd\nloop b\nsub");
        // `sub` is in block a only: the check after label b must not find it there.
        bad("; CHECK-LABEL: loop a\n; CHECK: add\n; CHECK-LABEL: loop b\n; CHECK: sub", "loop a\nadd\nsub\nloop b\nmul");
    }

    #[test]
    fn empty_lines() {
        ok("; CHECK: a\n; CHECK-EMPTY:\n; CHECK-NEXT: b", "a\n\nb");
        bad("; CHECK: a\n; CHECK-EMPTY:", "a\nb");
    }

    #[test]
    fn captures_regexes_and_blanks() {
        ok("; CHECK: [[V:i[0-9]+]] = int_add\n; CHECK: guard_true([[V]])", "i7 = int_add(i1, 1)\nguard_true(i7)");
        bad("; CHECK: [[V:i[0-9]+]] = int_add\n; CHECK: guard_true([[V]])", "i7 = int_add(i1, 1)\nguard_true(i8)");
        ok("; CHECK: int_add({{.*}}, 1)", "i2 = int_add(i0, 1)");
        ok("; CHECK: a b", "a    b");
    }

    #[test]
    fn regexes_can_fail() {
        bad("; CHECK: int_add({{[0-9]+}}, 1)", "i2 = int_add(i0, 1)");
    }

    #[test]
    fn other_prefixes_and_words() {
        assert!(check("; OPT: x", "x", "OPT").is_ok());
        assert!(check("; OPT: x\n; CHECK: y", "y", "OPT").is_err(), "an OPT directive must match for --check-prefix=OPT");
        assert!(check("; XCHECK: x", "y", "CHECK").is_err(), "XCHECK is not CHECK, so there are no directives");
    }
}
