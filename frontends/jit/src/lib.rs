//! The frontend API: what an interpreter declares to get a tracing JIT, and the parts of the
//! JIT that do not depend on the interpreter.
//!
//! An interpreter calls [`Driver::merge_point`] at each loop header (a backward jump) with its
//! green key: the values that identify a position in the user's program (for minipy, the code
//! object and the bytecode index). The driver counts, decides when tracing starts, keeps
//! positions whose traces keep aborting from being traced again (blacklisting), and remembers
//! which positions have compiled loops to enter. It is RPython's `JitDriver` with
//! `can_enter_jit`, and LuaJIT's hot counters and blacklisting; the [`Recorder`] enforces the
//! trace limit. The defaults are PyPy's ([`JitParams::default`]).
//!
//! [`Recorder`] is the IR half of a recording context: it builds the loop trace (label, ops,
//! guards with resume data, the closing jump) that the interpreter's context feeds while it
//! executes. Optimizing and compiling the result are the passes' and the backend's.

pub mod driver;
pub mod params;
pub mod recorder;

pub use driver::{AbortReason, Action, Driver, GuardAction, LoopToken, Position, Stats};
pub use params::JitParams;
pub use recorder::Recorder;
