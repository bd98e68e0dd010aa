//! The trampoline: every transfer of a native run goes through it. Compiled code runs wherever
//! the code table has it; the reference interpreter runs the rest up to the next transfer and
//! decodes every exit of compiled code; a call of a trace function runs in a nested trampoline.

use super::code::{CodeTable, NativeCode};
use super::ctx::{Leave, NativeCtx};
use crate::interp::{Config, Exit, Flow, Frame, Interp, Run};
use tracelab_ir::entity::EntityRef;
use tracelab_ir::{Module, TraceId};

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
pub(crate) struct Runner<'m> {
    pub(crate) interp: Interp<'m>,
    code: &'m CodeTable,
    counts: NativeCounts,
}

/// One activation of the trampoline: its context first (compiled code gets a pointer to the
/// context, services cast it back to the activation), the runner, the running frame.
#[repr(C)]
pub(crate) struct Activation<'m> {
    pub(crate) ctx: NativeCtx,
    pub(crate) runner: *mut Runner<'m>,
    pub(crate) frame: Option<Frame<'m>>,
    /// How a service ended the run.
    pub(crate) ended: Option<Exit>,
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
pub(crate) unsafe fn call<'m>(runner: *mut Runner<'m>, caller: &mut Frame<'m>, pc: usize, callee: Frame<'m>) -> Result<Flow<'m>, Exit> {
    // SAFETY: forwarded from the caller.
    let exit = unsafe { drive(runner, callee, 0) };
    // SAFETY: `drive`'s contract; the nested run has ended, so this is the only reference.
    let interp = unsafe { &mut (*runner).interp };
    interp.call_returned(caller, pc, Ok(exit))
}

impl<'m> Activation<'m> {
    fn runner(&mut self) -> &mut Runner<'m> {
        // SAFETY: `drive`'s contract; the activation is the only user while it runs.
        unsafe { &mut *self.runner }
    }

    pub(crate) fn interp(&mut self) -> &mut Interp<'m> {
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

