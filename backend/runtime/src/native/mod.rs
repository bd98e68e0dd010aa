//! The native runtime: running compiled code on the machine the reference interpreter uses.
//! [`ctx`]: the context compiled code sees and how it leaves; [`code`]: compiled traces as the
//! runtime enters them; [`trampoline`]: the one loop that owns every transfer (into compiled
//! code, back to the interpreter, into bridges and loops, calls); [`services`]: what compiled
//! code calls.
//!
//! Compiled code and the interpreter share one [`Interp`] (heap, objects, events, op count) and
//! one frame of value slots per trace activation (`vals`, indexed by the trace's value
//! numbers). Compiled code keeps values in registers; it writes a value to its slot only when
//! the runtime will read it: operands of an op it hands to the runtime ([`services::tl_step`]), and
//! everything a side exit needs. An exit returns to the trampoline ([`trampoline`]), which has the interpreter
//! execute the op it left at, with exactly the state the interpreter would have had there. So
//! a failed guard is decoded by the interpreter's own guard code (resume data, virtuals,
//! virtualizable write-back, bridges), which also re-checks the guard: if it passes there,
//! compiled code and interpreter disagree, and the run ends with a trap saying so rather than
//! going on wrongly. Where execution goes next (a bridge, a loop another trace jumps into) runs
//! compiled again if it was compiled.
//!
//! A call of a trace function (`call_i(@f, ...)`) from compiled code goes to the runtime's
//! call op, which runs the callee's compiled code in a nested trampoline on a fresh frame (one
//! service call, one frame allocation and one `finish` exit per call), and resumes the caller's
//! frames at the call site if a guard fails inside the callee, as the interpreter does.
//!
//! Ops counting and fuel follow the interpreter exactly: compiled code keeps `ops` as the count
//! at the start of its current straight-line segment plus the op's position in it, and leaves to
//! the interpreter at a segment start when the segment might run past the fuel.

pub mod code;
pub mod ctx;
pub mod services;
pub mod trampoline;

pub use code::{CodeTable, NativeCode};
pub use ctx::{ctx_offset, EntryFn, Leave, NativeCtx, STATUS_ENDED, STATUS_OK};
pub use services::services;
pub use trampoline::{run, NativeCounts};
