//! minipy: a small Python interpreter, tracelab's first live frontend.
//!
//! Source is parsed by ruff's parser and compiled ([`compile`], names resolved by [`scope`])
//! to minipy's bytecode ([`bytecode`]).

pub mod bytecode;
pub mod compile;
pub mod scope;
