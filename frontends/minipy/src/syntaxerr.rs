//! CPython's wording and location for the syntax errors ruff's parser reports in its own
//! words. Where ruff says less than CPython (an unexpected end of file), the source is
//! scanned for what CPython names (the bracket never closed).

use crate::compile::{CompileError, ErrorKind, LineIndex};
use ruff_text_size::TextRange;

/// The error CPython 3.11 would report for ruff's `message` at `range` in `source`.
pub fn from_ruff(source: &str, message: &str, range: TextRange) -> CompileError {
    let at: u32 = range.start().into();
    let end: u32 = range.end().into();
    let text = source.get(at as usize..end as usize).unwrap_or("");
    let lines = LineIndex::new(source);
    let syntax = |message: String, offset: u32| CompileError { kind: ErrorKind::Syntax, message, offset };
    let indentation = |message: String, offset: u32| CompileError { kind: ErrorKind::Indentation, message, offset };
    let lower = message.to_ascii_lowercase();
    if let Some(what) = message.strip_prefix("Expected an indented block after ") {
        let header = header_line(source, &lines, at);
        return indentation(format!("expected an indented block after {what} on line {header}"), at);
    }
    if lower.contains("unexpected indentation") {
        return indentation("unexpected indent".into(), at);
    }
    if lower.contains("unindent does not match") {
        return indentation("unindent does not match any outer indentation level".into(), at);
    }
    if lower.starts_with("expected `:`") || lower.starts_with("expected ':'") {
        return syntax("expected ':'".into(), at);
    }
    if lower.contains("missing closing quote") {
        let triple = text.trim_start_matches(|c: char| c.is_ascii_alphabetic()).starts_with("\"\"\"")
            || text.trim_start_matches(|c: char| c.is_ascii_alphabetic()).starts_with("'''");
        return if triple {
            let last = lines.line(source.trim_end_matches('\n').len() as u32);
            syntax(format!("unterminated triple-quoted string literal (detected at line {last})"), at)
        } else {
            syntax(format!("unterminated string literal (detected at line {})", lines.line(at)), at)
        };
    }
    if lower.contains("unexpected eof") {
        if let Some((bracket, offset)) = unclosed_bracket(source) {
            return syntax(format!("'{bracket}' was never closed"), offset);
        }
        return syntax("unexpected EOF while parsing".into(), at);
    }
    if lower.starts_with("expected a statement") {
        if let Some(c) = text.chars().next().filter(|c| matches!(c, ')' | ']' | '}')) {
            return syntax(format!("unmatched '{c}'"), at);
        }
    }
    if lower.starts_with("simple statements must be separated") {
        let line_start = lines.line_start(lines.line(at)) as usize;
        let statement = source[line_start..].trim_start();
        for word in ["print", "exec"] {
            if statement.starts_with(word) && statement[word.len()..].starts_with(' ') {
                return syntax(format!("Missing parentheses in call to '{word}'. Did you mean {word}(...)?"), at);
            }
        }
    }
    if lower.starts_with("invalid assignment target") {
        let what = target_kind(text);
        if matches!(what, "None" | "True" | "False") {
            return syntax(format!("cannot assign to {what}"), at);
        }
        return syntax(format!("cannot assign to {what} here. Maybe you meant '==' instead of '='?"), at);
    }
    if lower.starts_with("invalid delete target") {
        return syntax(format!("cannot delete {}", target_kind(text)), at);
    }
    if lower.starts_with("unparenthesized generator expression") {
        return syntax("Generator expression must be parenthesized".into(), at);
    }
    if lower.starts_with("iterable argument unpacking cannot follow keyword argument unpacking") {
        return syntax("iterable argument unpacking follows keyword argument unpacking".into(), at);
    }
    if lower.starts_with("parameter without a default cannot follow") {
        return syntax("non-default argument follows default argument".into(), at);
    }
    if lower.starts_with("positional argument cannot follow keyword argument unpacking") {
        return syntax("positional argument follows keyword argument unpacking".into(), at);
    }
    if lower.starts_with("positional argument cannot follow keyword argument") {
        return syntax("positional argument follows keyword argument".into(), at);
    }
    syntax("invalid syntax".into(), at)
}

/// The line of the block header before `offset`: the last non-blank line above it.
fn header_line(source: &str, lines: &LineIndex, offset: u32) -> u32 {
    let mut line = lines.line(offset);
    while line > 1 {
        line -= 1;
        let start = lines.line_start(line) as usize;
        let text = source[start..].lines().next().unwrap_or("").trim();
        if !text.is_empty() && !text.starts_with('#') {
            return line;
        }
    }
    1
}

/// What CPython calls an expression that cannot be assigned to or deleted.
fn target_kind(text: &str) -> &'static str {
    let t = text.trim();
    let first = t.chars().next().unwrap_or(' ');
    match t {
        "None" => "None",
        "True" => "True",
        "False" => "False",
        "..." => "ellipsis",
        _ if first.is_ascii_digit() || first == '"' || first == '\'' => "literal",
        _ if t.ends_with(')') && !t.starts_with('(') => "function call",
        _ => "expression",
    }
}

/// The innermost bracket still open at the end of `source`, skipping strings and comments.
fn unclosed_bracket(source: &str) -> Option<(char, u32)> {
    let mut open: Vec<(char, u32)> = vec![];
    let bytes = source.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i] as char;
        match c {
            '#' => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            '"' | '\'' => {
                i = skip_string(bytes, i);
                continue;
            }
            '(' | '[' | '{' => open.push((c, i as u32)),
            ')' | ']' | '}' => {
                open.pop();
            }
            _ => {}
        }
        i += 1;
    }
    open.last().copied()
}

/// The index just past the string literal starting at `i` (a quote).
fn skip_string(bytes: &[u8], i: usize) -> usize {
    let q = bytes[i];
    let triple = bytes.get(i + 1) == Some(&q) && bytes.get(i + 2) == Some(&q);
    let mut j = if triple { i + 3 } else { i + 1 };
    while j < bytes.len() {
        match bytes[j] {
            b'\\' => j += 2,
            b'\n' if !triple => return j,
            b if b == q && (!triple || (bytes.get(j + 1) == Some(&q) && bytes.get(j + 2) == Some(&q))) => {
                return j + if triple { 3 } else { 1 };
            }
            _ => j += 1,
        }
    }
    j
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_innermost_unclosed_bracket_past_strings_and_comments() {
        assert_eq!(unclosed_bracket("x = [1, (2)\n# )\ny = ')'"), Some(('[', 4)));
        assert_eq!(unclosed_bracket("f(a, {1: 2}, '''(''')"), None);
    }

    #[test]
    fn names_what_cannot_be_assigned() {
        assert_eq!(target_kind("1"), "literal");
        assert_eq!(target_kind("f()"), "function call");
        assert_eq!(target_kind("None"), "None");
    }
}
