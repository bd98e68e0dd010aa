//! Side exits: what each one is, and which values it must hand to the runtime.
//!
//! Compiled code returns an exit number; [`ExitInfo`] says what the runtime does with it. Two
//! shapes:
//! - a *guard exit* hands over the guard's operands (and those of the comparison that computed
//!   its condition: the interpreter re-checks the guard and learns from it), its fail args, its
//!   resume data's values and the virtualizable frame: all the interpreter's guard code reads;
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
    if let Some(&c) = op.args.first() {
        if let ValueDef::Op(def) = t.values[c].def {
            out.extend(t.ops[def].args.iter().copied());
        }
    }
    out.extend(t.vable.as_ref().map(|v| v.frame));
    finish_set(t, out)
}

/// For each segment start, the values used by ops from there to the end of the trace.
pub(crate) struct Liveness {
    /// (segment start, values used at or after it), in trace order.
    used_from: Vec<(usize, Vec<Value>)>,
}

impl Liveness {
    pub fn new(t: &Trace, segment_starts: &[usize]) -> Liveness {
        let mut used_from = Vec::with_capacity(segment_starts.len());
        let mut seen = vec![false; t.values.len()];
        let mut acc = Vec::new();
        let ops: Vec<&Op> = t.ops.values().collect();
        let mut next = ops.len();
        for &start in segment_starts.iter().rev() {
            for op in &ops[start..next] {
                for v in op.uses() {
                    if !seen[v.index()] {
                        seen[v.index()] = true;
                        acc.push(v);
                    }
                }
            }
            next = start;
            used_from.push((start, acc.clone()));
        }
        used_from.reverse();
        Liveness { used_from }
    }

    /// Values an interpret exit at `pc` (in the segment starting at `start`) stores.
    pub fn interpret_exit_values(&self, t: &Trace, start: usize, pc: usize) -> Vec<Value> {
        // Past the first label, a jump may go back to any label: what the ops after the first
        // label use may be read again.
        let from = if start == 0 { 0 } else { self.used_from.get(1).map_or(start, |(s, _)| *s) };
        let used = self.used_from.iter().find(|(s, _)| *s == from).map_or(&[][..], |(_, u)| &u[..]);
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
