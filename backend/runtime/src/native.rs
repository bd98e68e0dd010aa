//! Running compiled code on the machine the interpreter uses: the context compiled code sees,
//! the runtime services it calls, and the loop that goes between compiled code and the
//! interpreter.
//!
//! Compiled code and the interpreter share one [`Interp`] (heap, objects, events, op count) and
//! one frame of value slots per trace activation (`vals`, indexed by the trace's value
//! numbers). Compiled code keeps values in registers; it writes a value to its slot only when
//! the runtime will read it: operands of an op it hands to the runtime ([`tl_step`]), and
//! everything a side exit needs. An exit returns to [`drive`], which has the interpreter
//! execute the op it left at, with exactly the state the interpreter would have had there. So
//! a failed guard is decoded by the interpreter's own guard code (resume data, virtuals,
//! virtualizable write-back, bridges), which also re-checks the guard: if it passes there,
//! compiled code and interpreter disagree, and the run ends with a trap saying so rather than
//! going on wrongly. Where execution goes next (a bridge, a loop another trace jumps into) runs
//! compiled again if it was compiled.
//!
//! A call of a trace function (`call_i(@f, ...)`) from compiled code goes to the runtime's
//! call op, which runs the callee's compiled code in a nested [`drive`] on a fresh frame (one
//! service call, one frame allocation and one `finish` exit per call), and resumes the caller's
//! frames at the call site if a guard fails inside the callee, as the interpreter does.
//!
//! Ops counting and fuel follow the interpreter exactly: compiled code keeps `ops` as the count
//! at the start of its current straight-line segment plus the op's position in it, and leaves to
//! the interpreter at a segment start when the segment might run past the fuel.

use crate::heap::HEADER;
use crate::interp::{Config, Exit, Flow, Frame, Interp, Run};
use tracelab_ir::entity::EntityRef;
use tracelab_ir::trace::ValueDef;
use tracelab_ir::{Const, Module, TraceId, Type, Value};

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

/// The entry of a compiled trace: `fn(ctx, entry op) -> exit number` (0: a service ended the
/// run; `n`: the trace's exit `n - 1`).
pub type EntryFn = unsafe extern "C" fn(*mut NativeCtx, u64) -> u32;

/// One compiled trace, as the runtime enters it.
pub struct NativeCode {
    entry: EntryFn,
    entries: Vec<usize>,
    exits: Vec<Leave>,
    /// The trace's `ConstPtr` values: their slots get the objects' addresses on entry.
    const_ptrs: Vec<(Value, Const)>,
}

impl NativeCode {
    /// # Safety
    /// `entry` must be code compiled from `t` that can be entered at each op of `entries`
    /// with a context whose frame is `t`'s, and that returns 0 or an exit number of `exits`.
    pub unsafe fn new(t: &tracelab_ir::Trace, entry: EntryFn, entries: Vec<usize>, exits: Vec<Leave>) -> NativeCode {
        // Those the ops use: a pass may leave constants in the table that nothing uses.
        let mut seen = std::collections::HashSet::new();
        let used = t.ops.values().flat_map(|op| op.uses()).filter(|&v| seen.insert(v));
        let const_ptrs = used.filter_map(|v| match &t.values[v].def {
            ValueDef::Const(c @ Const::Ptr(_)) => Some((v, c.clone())),
            _ => None,
        });
        NativeCode { entry, entries, exits, const_ptrs: const_ptrs.collect() }
    }
}

impl NativeCode {
    /// Where the compiled function starts.
    pub fn entry_address(&self) -> usize {
        self.entry as usize
    }
}

/// Compiled code of a module's traces, by trace index (`None`: interpreted).
#[derive(Default)]
pub struct CodeTable {
    pub traces: Vec<Option<NativeCode>>,
}

impl CodeTable {
    /// The code to enter trace `tid` at op `pc` with, if there is some.
    fn at(&self, tid: TraceId, pc: usize) -> Option<&NativeCode> {
        self.traces.get(tid.index())?.as_ref().filter(|c| c.entries.contains(&pc))
    }
}

/// How a run went between compiled code and the interpreter.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NativeCounts {
    /// Calls of compiled functions (the first, then one per bridge, loop or trace function
    /// entered).
    pub entries: u64,
    /// Times the interpreter took over to the end of a trace (fuel, code not compiled).
    pub interpreted: u64,
}

/// Runs trace `tid` of `m` with `cfg` as [`Interp::run`] does, in compiled code wherever
/// `code` has some.
pub fn run(m: &Module, cfg: Config, tid: TraceId, code: &CodeTable) -> (Run, NativeCounts) {
    let mut runner = Runner { interp: Interp::new(m, cfg), code, counts: NativeCounts::default() };
    let mut frame = runner.interp.frame(tid);
    let (exit, inputs) = match runner.interp.bind_inputs(&mut frame) {
        // SAFETY: `runner` outlives the call and is not used during it.
        Ok(inputs) => (unsafe { drive(&mut runner, frame, 0) }, inputs),
        Err(e) => (e, Vec::new()),
    };
    (runner.interp.into_run(exit, inputs), runner.counts)
}

/// What a native run goes between: the interpreter (the reference semantics, which executes
/// what compiled code hands back) and the compiled code.
struct Runner<'m> {
    interp: Interp<'m>,
    code: &'m CodeTable,
    counts: NativeCounts,
}

/// One activation of the trampoline: its context first (compiled code gets a pointer to the
/// context, services cast it back to the activation), the runner, the running frame.
#[repr(C)]
struct Activation<'m> {
    ctx: NativeCtx,
    runner: *mut Runner<'m>,
    frame: Option<Frame<'m>>,
    /// How a service ended the run.
    ended: Option<Exit>,
}

/// The trampoline: runs `frame` from op `pc` to the end of its run, and owns every transfer on
/// the way. Compiled code runs wherever `code` has it (a loop entered at a label, a bridge, a
/// trace function called); the interpreter runs the rest up to the next transfer, and decodes
/// every exit of compiled code. A call of a trace function, from either, runs the callee in a
/// nested trampoline. How the run (or, for a callee, its run) ended.
///
/// # Safety
/// `runner` must be valid for the call and not used by the caller during it.
unsafe fn drive<'m>(runner: *mut Runner<'m>, frame: Frame<'m>, pc: usize) -> Exit {
    // SAFETY: valid per the caller; every use below is short and none spans a call of
    // compiled code, which reaches the runner through the activation.
    let heap = unsafe { &(*runner).interp.machine.heap };
    let ctx = NativeCtx {
        ops: 0,
        // SAFETY: as above: a short read through the caller's valid pointer.
        fuel: unsafe { (*runner).interp.cfg.fuel },
        iterations: 0,
        ovf: 0,
        vals: std::ptr::null_mut(),
        scratch: 0,
        heap_base: heap.base(),
        heap_limit: heap.limit_address(),
        shadow: heap.shadow_base(),
        color: heap.color_base(),
    };
    let mut pc = pc;
    let mut act = Activation { ctx, runner, frame: Some(frame), ended: None };
    let a: *mut Activation<'m> = &mut act;
    loop {
        // SAFETY: `a` is the live activation above; no reference to it is held across the
        // call of compiled code (services make their own from the context).
        let act = unsafe { &mut *a };
        let tid = act.frame.as_ref().expect("a running frame").tid;
        // SAFETY: `drive`'s contract; the reference ends before compiled code is called.
        let code = unsafe { (*act.runner).code };
        let Some(nc) = code.at(tid, pc) else {
            match act.interpret(pc) {
                Ok(next) => pc = next,
                Err(e) => return e,
            }
            continue;
        };
        act.runner().counts.entries += 1;
        if let Err(e) = act.install(nc) {
            return e;
        }
        // SAFETY: the context is live, its frame is `tid`'s, compiled into `nc`, and `pc` is one
        // of its entries (`NativeCode::new`'s contract).
        let n = unsafe { (nc.entry)(a.cast::<NativeCtx>(), pc as u64) };
        // SAFETY: compiled code has returned; the activation is ours again.
        let act = unsafe { &mut *a };
        let leave = match n {
            0 => Leave::Ended,
            n => nc.exits[n as usize - 1],
        };
        match act.leave(leave) {
            Ok(next) => pc = next,
            Err(e) => return e,
        }
    }
}

/// Calls trace function `callee` for the call at op `pc` of `caller`: runs it in a nested
/// trampoline, then the caller takes its result (or its run ends too).
///
/// # Safety
/// As [`drive`].
unsafe fn call<'m>(runner: *mut Runner<'m>, caller: &mut Frame<'m>, pc: usize, callee: Frame<'m>) -> Result<Flow<'m>, Exit> {
    // SAFETY: `drive`'s contract; each reference is short and none spans the nested run.
    unsafe { (*runner).interp.depth += 1 };
    // SAFETY: forwarded from the caller.
    let exit = unsafe { drive(runner, callee, 0) };
    // SAFETY: as above.
    let interp = unsafe { &mut (*runner).interp };
    interp.depth -= 1;
    interp.call_returned(caller, pc, Ok(exit))
}

impl<'m> Activation<'m> {
    fn runner(&mut self) -> &mut Runner<'m> {
        // SAFETY: `drive`'s contract; the activation is the only user while it runs.
        unsafe { &mut *self.runner }
    }

    fn interp(&mut self) -> &mut Interp<'m> {
        &mut self.runner().interp
    }

    /// Hands the frame to compiled code: its slots, its `ConstPtr`s resolved, the counts.
    fn install(&mut self, nc: &NativeCode) -> Result<(), Exit> {
        // SAFETY: `drive`'s contract; compiled code is not running while it installs.
        let interp = unsafe { &mut (*self.runner).interp };
        let frame = self.frame.as_mut().expect("a frame to install");
        for (v, c) in &nc.const_ptrs {
            frame.vals[v.index()] = interp.constant(c)?;
        }
        self.ctx.vals = frame.vals.as_mut_ptr();
        self.ctx.ops = interp.ops;
        self.ctx.iterations = interp.iterations;
        self.ctx.ovf = u64::from(interp.ovf);
        Ok(())
    }

    /// Counts and flags from compiled code to the interpreter.
    fn sync_in(&mut self) {
        let (ops, iterations, ovf) = (self.ctx.ops, self.ctx.iterations, self.ctx.ovf != 0);
        let interp = self.interp();
        interp.ops = ops;
        interp.iterations = iterations;
        interp.ovf = ovf;
    }

    /// Handles compiled code leaving as `how`: the interpreter executes the op it left at (a
    /// failed guard is checked again and decoded by the interpreter's guard code, which may
    /// enter the guard's bridge), or runs on from it. Where execution goes, or how the run
    /// ended.
    fn leave(&mut self, how: Leave) -> Result<usize, Exit> {
        self.sync_in();
        match how {
            Leave::Ended => Err(self.ended.take().unwrap_or_else(|| Exit::Trap("compiled code ended the run without an exit".into()))),
            Leave::Interpret { pc } => self.interpret(pc),
            Leave::GuardFailed { pc } => self.one_op(pc, true),
            Leave::Step { pc } => self.one_op(pc, false),
        }
    }

    /// The interpreter runs the frame from op `pc` up to the next transfer, which the
    /// trampoline takes: where execution goes next.
    fn interpret(&mut self, pc: usize) -> Result<usize, Exit> {
        self.runner().counts.interpreted += 1;
        // SAFETY: `drive`'s contract; the frame is this activation's own field.
        let interp = unsafe { &mut (*self.runner).interp };
        let frame = self.frame.as_mut().expect("a running frame");
        let (flow, at) = interp.run_ops(frame, pc)?;
        self.transfer(flow, at)
    }

    /// The interpreter executes op `pc` (counted as `run_ops` counts it). A guard must fail
    /// there too: if it passes, compiled code and interpreter disagree. Where execution goes
    /// next, or how the run ended.
    fn one_op(&mut self, pc: usize, guard: bool) -> Result<usize, Exit> {
        // SAFETY: as in `interpret`.
        let interp = unsafe { &mut (*self.runner).interp };
        let frame = self.frame.as_mut().expect("a running frame");
        interp.ops += 1;
        if interp.ops > interp.cfg.fuel {
            return Err(Exit::OutOfFuel);
        }
        let Some(id) = interp.index.op_at(frame.tid, pc) else {
            return Err(Exit::Trap(format!("compiled code left `{}` at op {pc}, past its end", frame.t.name)));
        };
        let op = &frame.t.ops[id];
        match interp.step(frame, pc, op)? {
            Flow::Next if guard => Err(Exit::Trap(format!("compiled code and interpreter disagree: the guard at op {pc} of `{}` passes in the interpreter", frame.t.name))),
            flow => self.transfer(flow, pc),
        }
    }

    /// Takes the flow op `pc` made: where execution goes next, or how the run ended.
    fn transfer(&mut self, flow: Flow<'m>, pc: usize) -> Result<usize, Exit> {
        match flow {
            Flow::Next => Ok(pc + 1),
            Flow::Enter(next, at) => {
                self.frame = Some(next);
                Ok(at)
            }
            Flow::Call(callee) => {
                let frame = self.frame.as_mut().expect("a running frame");
                // SAFETY: `drive`'s contract; the nested run uses the runner, not this frame.
                match unsafe { call(self.runner, frame, pc, callee) }? {
                    Flow::Next => Ok(pc + 1),
                    Flow::Exit(e) => Err(e),
                    _ => Err(Exit::Trap("a returning call neither went on nor ended".into())),
                }
            }
            Flow::Exit(e) => Err(e),
        }
    }
}

/// The activation behind a context.
///
/// # Safety
/// `ctx` must be the context of a live activation (compiled code passes the one it was given).
unsafe fn activation<'a>(ctx: *mut NativeCtx) -> &'a mut Activation<'static> {
    // SAFETY: the context is the first field of a `repr(C)` activation. The lifetime is
    // erased: compiled code only runs while the activation (and what it borrows) lives.
    unsafe { &mut *ctx.cast::<Activation<'static>>() }
}

/// Executes op `pc` of the current trace in the runtime, as the interpreter would: its operands
/// are in their slots, its result goes to its slot. Returns a status.
///
/// # Safety
/// `ctx` must be a live context (compiled code passes the one it was given).
pub unsafe extern "C" fn tl_step(ctx: *mut NativeCtx, pc: u64) -> u64 {
    // SAFETY: forwarded from the caller.
    let act = unsafe { activation(ctx) };
    // A called trace function counts ops and iterations in the interpreter (the overflow
    // flag stays compiled code's own until an exit stores it).
    // SAFETY: the activation's runner is valid while compiled code runs (`drive`'s
    // contract) and compiled code, which called us, holds no reference to it.
    let interp = unsafe { &mut (*act.runner).interp };
    interp.ops = act.ctx.ops;
    interp.iterations = act.ctx.iterations;
    let frame = act.frame.as_mut().expect("running");
    let Some(id) = interp.index.op_at(frame.tid, pc as usize) else {
        act.ended = Some(Exit::Trap(format!("compiled code stepped `{}` at op {pc}, past its end", frame.t.name)));
        return STATUS_ENDED;
    };
    let op = &frame.t.ops[id];
    let r = match interp.step(frame, pc as usize, op) {
        // SAFETY: `drive`'s contract holds for the nested run; this frame waits for it.
        Ok(Flow::Call(callee)) => unsafe { call(act.runner, frame, pc as usize, callee) },
        r => r,
    };
    // SAFETY: as above; the nested run, if any, has ended.
    let interp = unsafe { &mut (*act.runner).interp };
    act.ctx.ops = interp.ops;
    act.ctx.iterations = interp.iterations;
    match r {
        Ok(Flow::Next) => STATUS_OK,
        Ok(Flow::Exit(e)) | Err(e) => {
            act.ended = Some(e);
            STATUS_ENDED
        }
        Ok(Flow::Enter(..) | Flow::Call(_)) => {
            act.ended = Some(Exit::Trap(format!("op {pc} changes traces; compiled code must leave for it")));
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
    let act = unsafe { activation(ctx) };
    if p == 0 {
        act.ctx.scratch = 0;
        return STATUS_OK;
    }
    match act.interp().machine.load(p + HEADER, 8, false, Type::Int) {
        Ok((v, _)) => {
            act.ctx.scratch = v;
            STATUS_OK
        }
        Err(e) => {
            act.ended = Some(e);
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
