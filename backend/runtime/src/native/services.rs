//! The services compiled code calls: the runtime executes an op for it (`tl_step`), reads an
//! object's class (`tl_class_of`). Each gets the context compiled code was given and reaches the
//! trampoline's activation through it.

use super::ctx::{NativeCtx, STATUS_ENDED, STATUS_OK};
use super::trampoline::{call, Activation};
use crate::heap::HEADER;
use crate::interp::{Exit, Flow};
use tracelab_ir::Type;

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

