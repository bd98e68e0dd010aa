//! `dce`: dead-code elimination.
//!
//! Removes ops whose result nobody uses and whose removal no one can observe: pure ops
//! (arithmetic, comparisons, casts) and reads of memory that cannot fail or write (field, array
//! and length reads). A use is an operand of a kept op, a fail arg, or a value in resume data,
//! so a value a guard hands back to the interpreter stays.
//!
//! Unused calls that are elidable or loop-invariant and cannot raise (EF 0 and 1) go too.
//! Kept whatever their use: guards, writes, other calls, allocations (the escape pass removes those),
//! ops that set the overflow flag or may raise (a following guard reads the flag), labels,
//! jumps, finishes and markers.
//!
//! Algorithm: one backward walk marks what is live, one forward walk removes the rest in place
//! (skipped when nothing is dead); linear in the trace length. Loops need nothing special: a label keeps all its parameters and a jump's
//! arguments are uses.

use crate::{edit_traces, Pass, PassContext};
use tracelab_ir::cursor::Cursor;
use tracelab_ir::entity::EntityRef;
use tracelab_ir::{Module, Op, Trace};

pub struct Dce;

/// True if removing the op (when its result is unused) cannot change behaviour.
pub fn removable(m: &Module, op: &Op) -> bool {
    let o = op.opcode;
    if o.is_call() {
        // Elidable or loop-invariant, and unable to raise.
        return m.call_is_effect_free(op) && m.call_effect(op).is_some_and(|e| !e.can_raise());
    }
    if o.is_guard() || o.writes_heap() || o.allocates() || o.is_ovf() || o.can_raise() {
        return false;
    }
    o.is_pure() || (o.reads_heap() && !o.has_side_effects())
}

impl Pass for Dce {
    fn run(&self, m: &mut Module, cx: &mut PassContext) {
        edit_traces(m, |m, t| {
            let keep = live_ops(m, t);
            let removed = t.ops.len() - keep.iter().filter(|k| **k).count();
            cx.stats.add("ops removed", removed as i64);
            if removed > 0 {
                remove_dead(t, &keep);
            }
        });
    }
}

/// Per op: whether it stays (one backward walk).
fn live_ops(m: &Module, t: &Trace) -> Vec<bool> {
    let mut live_value = vec![false; t.values.len()];
    let mut keep = vec![false; t.ops.id_bound()];
    for (id, op) in t.ops.iter().rev() {
        let used = op.result.is_some_and(|r| live_value[r.index()]);
        if used || !removable(m, op) {
            keep[id.index()] = true;
            op.for_each_use(|v| live_value[v.index()] = true);
        }
    }
    keep
}

/// Removes the ops `keep` says go (nothing uses their results).
fn remove_dead(t: &mut Trace, keep: &[bool]) {
    let mut cur = Cursor::new(t);
    while let Some(id) = cur.next_op() {
        if !keep[id.index()] {
            cur.remove();
        }
    }
}
