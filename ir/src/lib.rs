//! tracelab's trace IR: the data model, its text format, and the verifier.
//!
//! **API boundary.** Everything else in tracelab depends on this crate; it depends on nothing
//! of tracelab. **Architecture invariant:** it knows nothing of passes, interpreters or
//! Cranelift: it only says what a trace is and whether one is well formed.
//!
//! - [`parse`] turns text into a [`Module`] (or located [`Diagnostic`]s);
//! - [`print_module`] turns a module back into canonical text;
//! - [`verify`] checks a module's invariants and reports every violation.

pub mod alpha;
pub mod cursor;
pub mod descr;
pub mod diag;
pub mod effects;
pub mod entity;
pub mod facts;
pub mod layout;
pub mod eval;
pub mod link;
pub mod opcode;
pub mod parse;
pub mod printer;
pub mod resume;
pub mod trace;
pub mod types;
pub mod verify;

pub use descr::{Descr, DescrData, DescrId};
pub use diag::{Diagnostic, SourceFile};
pub use opcode::Opcode;
pub use parse::parse;
pub use printer::{print_module, print_trace};
pub use trace::{Const, Module, Op, OpExtra, OpId, Target, Trace, TraceId, TraceKind, Value};
pub use types::Type;
pub use verify::verify;

/// Parses and verifies `text`; on failure, the diagnostics rendered against the source.
pub fn load(name: &str, text: &str) -> Result<Module, String> {
    let file = SourceFile { name, text };
    let module = parse(text).map_err(|d| file.render(&d))?;
    verify(&module).map_err(|d| file.render(&d))?;
    Ok(module)
}
