//! tracelab's runtime, in two parts:
//! - [`reference`]: the reference semantics (the interpreter, its heap and memory model, the
//!   models of what a trace leaves unknown, external functions). It knows nothing of compiled
//!   code.
//! - [`native`]: the native runtime (the context compiled code sees, the code table, the one
//!   trampoline that owns every transfer between interpreter, compiled code, bridges and
//!   calls, the services compiled code calls). It drives the reference interpreter for
//!   everything compiled code hands back.
//!
//! Around them: input learning ([`learn`], an observer of interpreted runs), printing runs
//! ([`render`]) and equivalence checking ([`equiv`]).
//!
//! **Architecture invariant:** the runtime depends only on the IR. It knows nothing of passes
//! or Cranelift; the backend lowers to its heap layout and context, and the pass manager's
//! checks call into it from the tools. Within it, `native` depends on `reference`, never the
//! other way.

pub mod equiv;
pub mod gc;
pub mod learn;
pub mod native;
pub mod reference;
pub mod render;

pub use reference::{externals, heap, interp, machine, model};
