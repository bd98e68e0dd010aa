//! Text → IR: lexer (logos), grammar (lalrpop) to a syntax tree, then [`lower`] resolves names,
//! builds typed values and interns descrs. Every failure is a located [`Diagnostic`]; nothing
//! here panics on any input (fuzzed by `tests/fuzz.rs`).

pub mod ast;
pub mod lexer;
mod lower;

use crate::diag::Diagnostic;
use crate::trace::{Module, Span};
use lalrpop_util::ParseError;

lalrpop_util::lalrpop_mod!(
    #[allow(clippy::all, unused_parens)]
    grammar,
    "/parse/grammar.rs"
);

/// Parses a whole file. On failure returns every error found (a syntax error stops parsing;
/// name and type errors are collected across the file).
pub fn parse(src: &str) -> Result<Module, Vec<Diagnostic>> {
    if src.len() >= u32::MAX as usize {
        return Err(vec![Diagnostic::new(Span::NONE, "input larger than 4 GiB")]);
    }
    let file = grammar::FileParser::new().parse(lexer::tokens(src)).map_err(|e| vec![syntax_error(src, e)])?;
    let mut errors = Vec::new();
    let module = lower::lower(src, file, &mut errors);
    if errors.is_empty() {
        Ok(module)
    } else {
        Err(errors)
    }
}

type LalrError<'s> = ParseError<usize, lexer::Tok<'s>, lexer::LexError>;

fn syntax_error(src: &str, e: LalrError<'_>) -> Diagnostic {
    match e {
        ParseError::InvalidToken { location } => {
            Diagnostic::new(Span::new(location, location + 1), "invalid token").label("not part of the trace syntax")
        }
        ParseError::UnrecognizedEof { location, expected } => {
            let at = src.len().min(location);
            Diagnostic::new(Span::new(at, at), "unexpected end of input").label(expected_text(&expected))
        }
        ParseError::UnrecognizedToken { token: (l, tok, r), expected } => {
            Diagnostic::new(Span::new(l, r), format!("unexpected {tok}")).label(expected_text(&expected))
        }
        ParseError::ExtraToken { token: (l, tok, r) } => {
            Diagnostic::new(Span::new(l, r), format!("unexpected {tok}")).label("expected end of input")
        }
        ParseError::User { error } => {
            let text = src.get(error.start..error.end).unwrap_or("");
            Diagnostic::new(Span::new(error.start, error.end), format!("unexpected character {text:?}"))
                .label("not part of the trace syntax")
        }
    }
}

/// Turns lalrpop's list of expected terminals into words a person reads.
fn expected_text(expected: &[String]) -> String {
    // Where a name may stand, keywords may too (a struct can be called `frame`): say "a name"
    // once rather than listing every keyword.
    let name_ok = expected.iter().any(|t| t == "IDENT");
    let is_keyword = |t: &str| t.len() > 2 && t.trim_matches('"').chars().all(|c| c.is_ascii_alphabetic());
    let mut words: Vec<String> =
        expected.iter().filter(|t| !(name_ok && is_keyword(t))).map(|t| describe_terminal(t)).collect();
    words.sort();
    words.dedup();
    match words.len() {
        0 => "unexpected here".into(),
        1 => format!("expected {}", words[0]),
        n if n > 8 => format!("expected one of {} (or {} more)", words[..8].join(", "), n - 8),
        _ => format!("expected one of {}", words.join(", ")),
    }
}

fn describe_terminal(t: &str) -> String {
    match t {
        "INT" => "an integer".into(),
        "FLOAT" => "a float".into(),
        "STR" => "a 'string'".into(),
        "VIRT" => "a $virtual".into(),
        "FUNC" => "an @function".into(),
        "IDENT" => "a name".into(),
        other => format!("`{}`", other.trim_matches('"')),
    }
}
