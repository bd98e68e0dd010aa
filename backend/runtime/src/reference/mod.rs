//! The reference semantics: what every op means ([`interp`]), on a heap of words
//! ([`heap`]) whose objects and words a [`machine::Machine`] keeps track of, with
//! deterministic models of what a trace leaves unknown ([`model`]) and external functions
//! with a real implementation ([`externals`]). Passes are checked against it and compiled code
//! is compared with it; it knows nothing of compiled code.

pub mod externals;
pub mod heap;
pub mod interp;
pub mod machine;
pub mod model;
