//! tracelab's runtime: the heap that interpreted and compiled traces share ([`heap`]), the
//! reference interpreter ([`interp`]) with its deterministic models of what a trace leaves
//! unknown ([`model`]), external functions with a real implementation ([`externals`]), input
//! learning ([`learn`]), printing runs ([`render`]), equivalence checking ([`equiv`]), and what
//! compiled code shares with the interpreter ([`native`]).
//!
//! **Architecture invariant:** the runtime depends only on the IR. It knows nothing of passes
//! or Cranelift; the backend lowers to its heap layout, and the pass manager's checks call
//! into it from the tools.

pub mod equiv;
pub mod externals;
pub mod heap;
pub mod interp;
pub mod learn;
pub mod model;
pub mod native;
pub mod render;
