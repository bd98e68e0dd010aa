//! Value types.
//!
//! PyPy's JIT has four kinds of boxes and so do we: a machine-word integer, a double, a GC
//! reference, and (for vectorized traces only) a vector. `Void` is the result type of ops that
//! produce nothing. The type of a value is also the first letter of its name in the text format
//! (`i0`, `f1`, `p2`/`r2`, `v3`), which is how PyPy's logs print it.

use std::fmt;

#[derive(Copy, Clone, PartialEq, Eq, Hash, Debug)]
pub enum Type {
    /// A 64-bit machine word; also addresses of classes, functions and raw memory.
    Int,
    /// An IEEE-754 double.
    Float,
    /// A GC reference (may be null).
    Ref,
    /// A SIMD vector (PyPy's vectorizer); values are opaque to everything but vector ops.
    Vector,
    /// No value.
    Void,
}

impl Type {
    /// The type a value name's first letter says: PyPy's convention.
    pub fn from_name_prefix(name: &str) -> Option<Type> {
        match name.as_bytes().first()? {
            b'i' => Some(Type::Int),
            b'f' => Some(Type::Float),
            b'p' | b'r' => Some(Type::Ref),
            b'v' => Some(Type::Vector),
            _ => None,
        }
    }

    /// The letter used to name values of this type (`p` for references, as PyPy prints).
    pub fn prefix(self) -> char {
        match self {
            Type::Int => 'i',
            Type::Float => 'f',
            Type::Ref => 'p',
            Type::Vector => 'v',
            Type::Void => 'n',
        }
    }

    /// The keyword used for this type in declarations (`func f [i0] -> int`).
    pub fn keyword(self) -> &'static str {
        match self {
            Type::Int => "int",
            Type::Float => "float",
            Type::Ref => "ref",
            Type::Vector => "vector",
            Type::Void => "void",
        }
    }

    /// "an int", "a float": for messages.
    pub fn with_article(self) -> String {
        match self {
            Type::Int => "an int".into(),
            other => format!("a {other}"),
        }
    }

    pub fn from_keyword(s: &str) -> Option<Type> {
        [Type::Int, Type::Float, Type::Ref, Type::Vector, Type::Void]
            .into_iter()
            .find(|t| t.keyword() == s)
    }
}

impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.keyword())
    }
}
