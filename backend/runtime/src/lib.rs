//! tracelab's runtime: the heap that interpreted and compiled traces share ([`heap`]), the
//! reference interpreter ([`interp`]) with its deterministic models of what a trace leaves
//! unknown ([`model`]), input learning ([`learn`]), printing runs ([`render`]) and equivalence
//! checking ([`equiv`]).
//!
//! **Architecture invariant:** the runtime depends only on the IR. It knows nothing of passes
//! or Cranelift; the backend will lower to its heap layout, and the pass manager's checks call
//! into it from the tools.

pub mod equiv;
pub mod externals;
pub mod heap;
pub mod interp;
pub mod learn;
pub mod model;
pub mod native;
pub mod render;
