//! The lexer (logos). Skips white space, `#` comments (PyPy's), `;` comments (ours, where test
//! directives live), PyPy's machine-code offsets `+123:` and the `--end of the loop--` marker,
//! so that optimized-loop lines from a PyPy log lex unchanged.

use logos::Logos;
use std::fmt;

#[derive(Logos, Clone, Copy, Debug, PartialEq)]
#[logos(skip r"[ \t\r\n\f]+")]
#[logos(skip(r"#[^\n]*", allow_greedy = true))]
#[logos(skip(r";[^\n]*", allow_greedy = true))]
#[logos(skip r"\+[0-9]+:")]
#[logos(skip r"--end of the loop--")]
pub enum Tok<'s> {
    #[token("(")]
    LParen,
    #[token(")")]
    RParen,
    #[token("[")]
    LBracket,
    #[token("]")]
    RBracket,
    #[token("{")]
    LBrace,
    #[token("}")]
    RBrace,
    #[token("<")]
    Lt,
    #[token(">")]
    Gt,
    #[token(",")]
    Comma,
    #[token("=")]
    Eq,
    #[token(":")]
    Colon,
    #[token("->")]
    Arrow,

    #[token("descr")]
    KwDescr,
    #[token("loop")]
    KwLoop,
    #[token("bridge")]
    KwBridge,
    #[token("func")]
    KwFunc,
    #[token("from")]
    KwFrom,
    #[token("virtualizable")]
    KwVirtualizable,
    #[token("frame")]
    KwFrame,
    #[token("vable")]
    KwVable,
    #[token("None")]
    KwNone,
    #[token("TargetToken")]
    KwTargetToken,
    #[token("ConstPtr")]
    KwConstPtr,
    #[token("ConstClass")]
    KwConstClass,
    #[token("extern")]
    KwExtern,

    /// A decimal or hexadecimal integer, possibly negative (value parsed later, so that an
    /// overflow is a located error rather than a lexer failure).
    #[regex(r"-?[0-9]+", |lex| lex.slice())]
    #[regex(r"-?0[xX][0-9a-fA-F]+", |lex| lex.slice())]
    Int(&'s str),
    #[regex(r"-?[0-9]+\.[0-9]*([eE][-+]?[0-9]+)?", |lex| lex.slice())]
    #[regex(r"-?[0-9]+[eE][-+]?[0-9]+", |lex| lex.slice())]
    #[token("-inf", |lex| lex.slice())]
    Float(&'s str),
    /// A quoted string, PyPy style: single quotes, no escapes, one line.
    #[regex(r"'[^'\n]*'", |lex| { let s = lex.slice(); &s[1..s.len() - 1] })]
    Str(&'s str),
    /// `$name`: a virtual object in resume data.
    #[regex(r"\$[A-Za-z0-9_]+", |lex| &lex.slice()[1..])]
    Virt(&'s str),
    /// `@name`: a trace function of the module, as a call target.
    #[regex(r"@[A-Za-z_][A-Za-z0-9_.]*", |lex| &lex.slice()[1..])]
    Func(&'s str),
    /// Value names, opcode names, descr names, dotted struct names.
    #[regex(r"[A-Za-z_][A-Za-z0-9_.$]*", |lex| lex.slice())]
    Ident(&'s str),
}

impl fmt::Display for Tok<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Tok::Int(s) | Tok::Float(s) | Tok::Ident(s) => write!(f, "`{s}`"),
            Tok::Str(s) => write!(f, "'{s}'"),
            Tok::Virt(s) => write!(f, "`${s}`"),
            Tok::Func(s) => write!(f, "`@{s}`"),
            other => write!(f, "`{}`", other.keyword_text()),
        }
    }
}

impl Tok<'_> {
    fn keyword_text(&self) -> &'static str {
        match self {
            Tok::LParen => "(",
            Tok::RParen => ")",
            Tok::LBracket => "[",
            Tok::RBracket => "]",
            Tok::LBrace => "{",
            Tok::RBrace => "}",
            Tok::Lt => "<",
            Tok::Gt => ">",
            Tok::Comma => ",",
            Tok::Eq => "=",
            Tok::Colon => ":",
            Tok::Arrow => "->",
            Tok::KwDescr => "descr",
            Tok::KwLoop => "loop",
            Tok::KwBridge => "bridge",
            Tok::KwFunc => "func",
            Tok::KwFrom => "from",
            Tok::KwVirtualizable => "virtualizable",
            Tok::KwFrame => "frame",
            Tok::KwVable => "vable",
            Tok::KwNone => "None",
            Tok::KwTargetToken => "TargetToken",
            Tok::KwConstPtr => "ConstPtr",
            Tok::KwConstClass => "ConstClass",
            Tok::KwExtern => "extern",
            _ => "",
        }
    }
}

/// A lexer failure: the byte range of the text no token matches.
#[derive(Clone, Debug, PartialEq)]
pub struct LexError {
    pub start: usize,
    pub end: usize,
}

pub type Spanned<'s> = Result<(usize, Tok<'s>, usize), LexError>;

/// The token stream lalrpop reads.
pub fn tokens(src: &str) -> impl Iterator<Item = Spanned<'_>> {
    Tok::lexer(src).spanned().map(|(tok, span)| match tok {
        Ok(t) => Ok((span.start, t, span.end)),
        Err(()) => Err(LexError { start: span.start, end: span.end }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(src: &str) -> Vec<Tok<'_>> {
        tokens(src).map(|t| t.unwrap().1).collect()
    }

    #[test]
    fn pypy_line_lexes() {
        let toks = kinds("+411: i24 = getfield_gc_i(p11, descr=<FieldS W.inst_intval 8 pure>)");
        assert_eq!(toks[0], Tok::Ident("i24"));
        assert!(toks.contains(&Tok::Ident("W.inst_intval")));
        assert!(toks.contains(&Tok::Int("8")));
    }

    #[test]
    fn skips_markers_and_comments() {
        assert!(kinds("+736: --end of the loop--\n# Loop 1\n; CHECK: x").is_empty());
    }

    #[test]
    fn numbers() {
        assert_eq!(kinds("-1 0x7f 1.5 1e-05 -inf"), vec![
            Tok::Int("-1"),
            Tok::Int("0x7f"),
            Tok::Float("1.5"),
            Tok::Float("1e-05"),
            Tok::Float("-inf")
        ]);
        assert_eq!(kinds("<Loop-1>"), vec![Tok::Lt, Tok::Ident("Loop"), Tok::Int("-1"), Tok::Gt]);
    }

    #[test]
    fn bad_char_is_an_error() {
        assert!(tokens("i0 = int_add(i1, ?)").any(|t| t.is_err()));
    }
}
