//! Side exits: what each one is, and which values it must hand to the runtime.
//!
//! Compiled code returns an exit number; [`ExitInfo`] says what the runtime does with it. Two
//! shapes:
//! - a *guard exit* hands over the guard's operands (the interpreter checks the guard again),
//!   its fail args, its resume data's values and the virtualizable frame: all the interpreter's
//!   guard code reads (input learning, which also reads the operands of the comparison behind
//!   a condition, watches interpreted runs only);
//! - an *interpret exit* at op `pc` (`finish`, a jump into another trace, fuel that could run
//!   out) hands over every value the interpreter may still read from `pc` on: the values defined
//!   before `pc` that ops of the current segment or later use, or after the first label when
//!   `pc` is past it (a jump may go back to any label).

use tracelab_ir::entity::EntityRef;
use tracelab_ir::trace::ValueDef;
use tracelab_ir::{Op, Trace, Value};
use tracelab_runtime::native::Leave;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExitInfo {
    pub pc: usize,
    pub kind: ExitKind,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum ExitKind {
    Guard,
    Finish,
    /// A jump to a label of another trace.
    Leave,
    /// The next segment might run past the fuel.
    Fuel,
    /// The trace ran off its end (the interpreter reports it).
    OffTheEnd,
}

impl ExitInfo {
    pub fn leave(&self) -> Leave {
        match self.kind {
            ExitKind::Guard => Leave::GuardFailed { pc: self.pc },
            ExitKind::Finish | ExitKind::Leave => Leave::Step { pc: self.pc },
            ExitKind::Fuel | ExitKind::OffTheEnd => Leave::Interpret { pc: self.pc },
        }
    }
}

/// Where each value is defined, as an op index (inputs before op 0).
pub(crate) fn def_index(t: &Trace, v: Value) -> Option<isize> {
    match t.values[v].def {
        ValueDef::Input(_) => Some(-1),
        ValueDef::Op(o) | ValueDef::LabelParam(o, _) => Some(o.index() as isize),
        ValueDef::Const(_) => None,
    }
}

/// Values a guard exit at `op` stores (constants excluded: the interpreter has them).
pub(crate) fn guard_exit_values(t: &Trace, op: &Op) -> Vec<Value> {
    let mut out: Vec<Value> = op.uses().collect();
    out.extend(t.vable.as_ref().map(|v| v.frame));
    finish_set(t, out)
}

/// Which values exits and segment entries read. Past the first label a jump may go back to any
/// label, so what an exit there stores is what the ops after the first label read (and were
/// defined before it); before the first label, what any op reads.
pub(crate) struct Liveness {
    /// Values read by ops (and so by their exits) anywhere in the trace.
    used_anywhere: Vec<Value>,
    /// Values read by ops (and so by their exits) after the first label.
    used_after_first_label: Vec<Value>,
}

impl Liveness {
    pub fn new(t: &Trace, segment_starts: &[usize]) -> Liveness {
        let first_label = segment_starts.get(1).copied().unwrap_or(usize::MAX);
        let mut seen = vec![false; t.values.len()];
        let mut used = Vec::new();
        let mut after = None;
        // Backwards, so that what is read after the first label is complete when it is reached.
        let ops: Vec<&Op> = t.ops.values().collect();
        for (pc, op) in ops.iter().enumerate().rev() {
            if pc < first_label && after.is_none() {
                after = Some(used.clone());
            }
            op.for_each_use(|v| {
                if !seen[v.index()] {
                    seen[v.index()] = true;
                    used.push(v);
                }
            });
        }
        let after = after.unwrap_or_else(|| used.clone());
        Liveness { used_anywhere: used, used_after_first_label: after }
    }

    /// Values an interpret exit at `pc` (in the segment starting at `start`) stores: those the
    /// ops it may still reach read, defined before `pc`. The same set is what the segment
    /// starting at `pc` takes on entry.
    pub fn interpret_exit_values(&self, t: &Trace, start: usize, pc: usize) -> Vec<Value> {
        let used = if start == 0 { &self.used_anywhere } else { &self.used_after_first_label };
        let mut out: Vec<Value> = used.iter().copied().filter(|&v| def_index(t, v).is_some_and(|d| d < pc as isize)).collect();
        out.extend(t.vable.as_ref().map(|v| v.frame));
        finish_set(t, out)
    }
}

/// Sorted, without duplicates and constants.
fn finish_set(t: &Trace, mut vs: Vec<Value>) -> Vec<Value> {
    vs.retain(|&v| def_index(t, v).is_some());
    vs.sort_by_key(|v| v.index());
    vs.dedup();
    vs
}
