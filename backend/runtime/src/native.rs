//! Running compiled code on the machine the interpreter uses: the context compiled code sees,
//! the runtime services it calls, and how a run goes on after compiled code returns.
//!
//! Compiled code and the interpreter share one [`Interp`] (heap, objects, events, op count) and
//! one frame of value slots per trace (`vals`, indexed by the trace's value numbers). Compiled
//! code keeps values in registers; it writes a value to its slot only when the runtime will
//! read it: operands of an op it hands to the runtime ([`tl_step`]), and everything a side exit
//! needs. An exit returns to [`NativeRun::finish`], which goes on in the interpreter from the
//! exit's op with exactly the state the interpreter would have had there. So a failed guard is
//! decoded by the interpreter's own guard code (resume data, virtuals, virtualizable write-back,
//! bridges), which also re-checks the guard: if it passes there, compiled code and interpreter
//! disagree, and the run ends with a trap saying so rather than going on wrongly.
//!
//! Ops counting and fuel follow the interpreter exactly: compiled code keeps `ops` as the count
//! at the start of its current straight-line segment plus the op's position in it, and leaves to
//! the interpreter at a segment start when the segment might run past the fuel.

use crate::heap::HEADER;
use crate::interp::{Config, Exit, Flow, Frame, Interp, RtValue, Run};
use std::ffi::c_void;
use tracelab_ir::entity::EntityRef;
use tracelab_ir::trace::ValueDef;
use tracelab_ir::{Const, Module, OpId, TraceId, Type};

/// What compiled code reads and writes. `repr(C)`: the backend addresses fields by
/// [`ctx_offset`].
#[repr(C)]
pub struct NativeCtx {
    /// Ops executed so far (as the interpreter counts them).
    pub ops: u64,
    pub fuel: u64,
    /// Back edges taken.
    pub iterations: u64,
    /// The overflow flag `int_*_ovf` sets and `guard_no_overflow` reads (0 or 1).
    pub ovf: u64,
    /// The current frame's value slots, one word per value of the trace.
    pub vals: *mut u64,
    /// A service's result beside its status.
    pub scratch: u64,
    /// The heap region (accesses starting at `heap_base + k`, `k < *heap_limit`, the bytes
    /// allocated so far) and its shadow (`heap::SHADOW_*`): compiled code loads and stores
    /// directly where the shadow allows, and asks the runtime elsewhere.
    pub heap_base: u64,
    pub heap_limit: u64,
    pub shadow: u64,
    /// The heap's colour map (`Heap::color_base`): one object's bytes share a colour.
    pub color: u64,
    session: *mut c_void,
}

/// Byte offsets of [`NativeCtx`]'s fields.
pub mod ctx_offset {
    pub const OPS: i32 = 0;
    pub const FUEL: i32 = 8;
    pub const ITERATIONS: i32 = 16;
    pub const OVF: i32 = 24;
    pub const VALS: i32 = 32;
    pub const SCRATCH: i32 = 40;
    pub const HEAP_BASE: i32 = 48;
    pub const HEAP_LIMIT: i32 = 56;
    pub const SHADOW: i32 = 64;
    pub const COLOR: i32 = 72;
}

/// A service's status: go on, or the run has ended (the runtime holds how).
pub const STATUS_OK: u64 = 0;
pub const STATUS_ENDED: u64 = 1;

/// How compiled code left.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Leave {
    /// A service ended the run (a trap, a guard failing inside a called trace function, fuel
    /// running out inside one).
    Ended,
    /// Go on in the interpreter from this op to the end (a segment that could run past the
    /// fuel).
    Interpret { pc: usize },
    /// The guard at this op failed.
    GuardFailed { pc: usize },
    /// The interpreter executes this op (a `finish`, a jump into another trace); compiled
    /// code may take over where it leads.
    Step { pc: usize },
}

/// Where a run goes after compiled code left.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Next {
    /// The run has ended ([`NativeRun::into_run`] gives it).
    Done,
    /// Execution continues at op `pc` of trace `tid` (a bridge of the guard that failed, a
    /// loop a jump enters), whose frame is installed: compiled code for it may take over, or
    /// [`NativeRun::interpret_from`].
    Continue { tid: TraceId, pc: usize },
}

/// One run of compiled code, from binding the inputs to the exit.
pub struct NativeRun<'m> {
    interp: Interp<'m>,
    frame: Option<Frame<'m>>,
    inputs: Vec<RtValue>,
    ended: Option<Exit>,
    ctx: Box<NativeCtx>,
}

impl<'m> NativeRun<'m> {
    /// Binds `tid`'s inputs as the interpreter does (given, or invented from the seed and the
    /// learned constraints) and resolves the trace's `ConstPtr`s into their slots. A run that
    /// ends already (a constraint that cannot be met) comes back as `Err`.
    pub fn start(m: &'m Module, cfg: Config, tid: TraceId) -> Result<Box<NativeRun<'m>>, Run> {
        let fuel = cfg.fuel;
        let mut interp = Interp::new(m, cfg);
        let mut frame = interp.frame(tid);
        let inputs = match interp.bind_inputs(&mut frame) {
            Ok(i) => i,
            Err(e) => return Err(interp.into_run(e, Vec::new())),
        };
        for (v, data) in frame.t.values.iter() {
            if let ValueDef::Const(c @ Const::Ptr(_)) = &data.def {
                match interp.constant(c) {
                    Ok(bits) => frame.vals[v.index()] = bits,
                    Err(e) => return Err(interp.into_run(e, inputs)),
                }
            }
        }
        let vals = frame.vals.as_mut_ptr();
        let ctx = Box::new(NativeCtx { ops: 0, fuel, iterations: 0, ovf: 0, vals, scratch: 0, heap_base: 0, heap_limit: 0, shadow: 0, color: 0, session: std::ptr::null_mut() });
        let mut run = Box::new(NativeRun { interp, frame: Some(frame), inputs, ended: None, ctx });
        run.ctx.session = (&mut *run as *mut NativeRun<'m>).cast();
        // Addresses into the heap once it sits in the box: its limit is a field of it.
        let heap = &run.interp.machine.heap;
        (run.ctx.heap_base, run.ctx.heap_limit, run.ctx.shadow, run.ctx.color) = (heap.base(), heap.limit_address(), heap.shadow_base(), heap.color_base());
        Ok(run)
    }

    /// The context to pass to compiled code. Valid while `self` lives.
    pub fn ctx(&mut self) -> *mut NativeCtx {
        &mut *self.ctx
    }

    /// Handles compiled code leaving as `how`: the interpreter executes the op it left at (a
    /// failed guard is checked again and decoded by the interpreter's guard code, which may
    /// enter the guard's bridge) and says where execution goes.
    pub fn leave(&mut self, how: Leave) -> Next {
        self.sync_in();
        let frame = self.frame.take().expect("compiled code left a running frame");
        let flow = match how {
            Leave::Ended => {
                self.frame = Some(frame);
                if self.ended.is_none() {
                    self.ended = Some(Exit::Trap("compiled code ended the run without an exit".into()));
                }
                return Next::Done;
            }
            Leave::Interpret { pc } => {
                self.ended = Some(self.interp.exec(frame, pc).unwrap_or_else(|e| e));
                return Next::Done;
            }
            Leave::GuardFailed { pc } => self.one_op(frame, pc, true),
            Leave::Step { pc } => self.one_op(frame, pc, false),
        };
        match flow {
            Ok((next, pc)) => {
                let tid = next.tid;
                self.install(next);
                Next::Continue { tid, pc }
            }
            Err(e) => {
                self.ended = Some(e);
                Next::Done
            }
        }
    }

    /// Interprets the installed frame from `pc` to the end of the run.
    pub fn interpret_from(&mut self, pc: usize) {
        self.sync_in();
        let frame = self.frame.take().expect("a frame to interpret");
        self.ended = Some(self.interp.exec(frame, pc).unwrap_or_else(|e| e));
    }

    /// The run, once it is done.
    pub fn into_run(self: Box<Self>) -> Run {
        let mut run = *self;
        let exit = run.ended.take().unwrap_or_else(|| Exit::Trap("the run did not end".into()));
        run.interp.into_run(exit, run.inputs)
    }

    /// Op counts and flags from compiled code to the interpreter.
    fn sync_in(&mut self) {
        self.interp.ops = self.ctx.ops;
        self.interp.iterations = self.ctx.iterations;
        self.interp.ovf = self.ctx.ovf != 0;
    }

    /// A new frame for compiled code: its slots, and the counts from the interpreter.
    fn install(&mut self, frame: Frame<'m>) {
        self.frame = Some(frame);
        self.ctx.vals = self.frame.as_mut().expect("just set").vals.as_mut_ptr();
        self.ctx.ops = self.interp.ops;
        self.ctx.iterations = self.interp.iterations;
        self.ctx.ovf = u64::from(self.interp.ovf);
    }

    /// The interpreter executes op `pc` (counted as `exec` counts it). A guard must fail
    /// there too: if it passes, compiled code and interpreter disagree. Where execution goes
    /// next, or how the run ended.
    fn one_op(&mut self, mut frame: Frame<'m>, pc: usize, guard: bool) -> Result<(Frame<'m>, usize), Exit> {
        self.interp.ops += 1;
        if self.interp.ops > self.interp.cfg.fuel {
            return Err(Exit::OutOfFuel);
        }
        let op = &frame.t.ops[OpId::new(pc)];
        match self.interp.step(&mut frame, pc, op)? {
            Flow::Next if guard => Err(Exit::Trap(format!("compiled code and interpreter disagree: the guard at op {pc} of `{}` passes in the interpreter", frame.t.name))),
            Flow::Next => Ok((frame, pc + 1)),
            Flow::Exit(e) => Err(e),
            Flow::Enter(next, at) => Ok((next, at)),
        }
    }
}

/// The session behind a context.
///
/// # Safety
/// `ctx` must come from [`NativeRun::ctx`] of a run that is alive and not otherwise borrowed.
unsafe fn session<'a>(ctx: *mut NativeCtx) -> (&'a mut NativeCtx, &'a mut NativeRun<'static>) {
    // SAFETY: the caller promises a live context; the run and its context are two separate
    // allocations, so the two references do not overlap. The lifetime is erased: compiled code
    // only runs while the run (and the module it borrows) lives.
    unsafe {
        let c = &mut *ctx;
        let run = &mut *c.session.cast::<NativeRun<'static>>();
        (c, run)
    }
}

/// Executes op `pc` of the current trace in the runtime, as the interpreter would: its operands
/// are in their slots, its result goes to its slot. Returns a status.
///
/// # Safety
/// `ctx` must be a live context (compiled code passes the one it was given).
pub unsafe extern "C" fn tl_step(ctx: *mut NativeCtx, pc: u64) -> u64 {
    // SAFETY: forwarded from the caller.
    let (c, run) = unsafe { session(ctx) };
    // A called trace function counts ops and iterations in the interpreter.
    run.interp.ops = c.ops;
    run.interp.iterations = c.iterations;
    let frame = run.frame.as_mut().expect("running");
    let op = &frame.t.ops[OpId::new(pc as usize)];
    let r = run.interp.step(frame, pc as usize, op);
    c.ops = run.interp.ops;
    c.iterations = run.interp.iterations;
    match r {
        Ok(Flow::Next) => STATUS_OK,
        Ok(Flow::Exit(e)) | Err(e) => {
            run.ended = Some(e);
            STATUS_ENDED
        }
        Ok(Flow::Enter(..)) => {
            run.ended = Some(Exit::Trap(format!("op {pc} changes traces; compiled code must leave for it")));
            STATUS_ENDED
        }
    }
}

/// The class word of object `p` (0 for null) into `scratch`, as `guard_class` reads it.
///
/// # Safety
/// As [`tl_step`].
pub unsafe extern "C" fn tl_class_of(ctx: *mut NativeCtx, p: u64) -> u64 {
    // SAFETY: forwarded from the caller.
    let (c, run) = unsafe { session(ctx) };
    if p == 0 {
        c.scratch = 0;
        return STATUS_OK;
    }
    match run.interp.machine.load(p + HEADER, 8, false, Type::Int) {
        Ok((v, _)) => {
            c.scratch = v;
            STATUS_OK
        }
        Err(e) => {
            run.ended = Some(e);
            STATUS_ENDED
        }
    }
}

/// The services compiled code calls, by the symbol names the backend declares.
pub fn services() -> [(&'static str, *const u8); 2] {
    [("tl_step", tl_step as *const u8), ("tl_class_of", tl_class_of as *const u8)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn context_offsets_match_the_layout() {
        use std::mem::offset_of;
        assert_eq!(offset_of!(NativeCtx, ops), ctx_offset::OPS as usize);
        assert_eq!(offset_of!(NativeCtx, fuel), ctx_offset::FUEL as usize);
        assert_eq!(offset_of!(NativeCtx, iterations), ctx_offset::ITERATIONS as usize);
        assert_eq!(offset_of!(NativeCtx, ovf), ctx_offset::OVF as usize);
        assert_eq!(offset_of!(NativeCtx, vals), ctx_offset::VALS as usize);
        assert_eq!(offset_of!(NativeCtx, scratch), ctx_offset::SCRATCH as usize);
        assert_eq!(offset_of!(NativeCtx, heap_base), ctx_offset::HEAP_BASE as usize);
        assert_eq!(offset_of!(NativeCtx, heap_limit), ctx_offset::HEAP_LIMIT as usize);
        assert_eq!(offset_of!(NativeCtx, shadow), ctx_offset::SHADOW as usize);
        assert_eq!(offset_of!(NativeCtx, color), ctx_offset::COLOR as usize);
    }
}
