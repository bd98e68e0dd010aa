//! `close-loops`: every value a loop body uses from before its label becomes a label parameter.
//!
//! After `unroll`, the passes let the peeled body use preamble values directly (a pure op the
//! preamble computed, an input the loop passes through, a load of a field the loop never
//! writes): the trace is SSA and the preamble dominates the body, so that is correct, but the
//! loop-carried state is then spread over the body. This pass makes it explicit, as PyPy's
//! "extra label arguments": for a label `L` entered only from its own trace (closed, see
//! [`tracelab_ir::facts::ModuleFacts`]), each value defined before `L` and used between `L` and the next label
//! or the end is added to `L`'s arguments with a new parameter standing for it in the body, and
//! the trace's jump to `L` passes that parameter back unchanged (the value is loop-invariant).
//! A backend can then treat a label as a block whose parameters are all it needs.
//!
//! Open labels are left as they are (a jump from another trace would have to supply the new
//! arguments). Assumes a verified trace; linear: each op is looked at twice (a scan of the region
//! after each label, then the renaming, in place).

use crate::{edit_traces, Pass, PassContext};
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use tracelab_ir::entity::EntityRef;
use tracelab_ir::cursor::Cursor;
use tracelab_ir::{Module, OpId, Target, Trace, Value};

pub struct CloseLoops;

impl Pass for CloseLoops {
    fn run(&self, m: &mut Module, cx: &mut PassContext) {
        let facts = cx.facts.clone();
        edit_traces(m, |_, t| {
            if !t.labels().any(|(id, _)| !facts.is_open_label(&t.ops[id])) {
                return;
            }
            let mut cur = Cursor::new(t);
            // Label token → the values added to it, in order.
            let mut extras: HashMap<Target, Vec<Value>> = HashMap::default();
            while let Some(id) = cur.next_op() {
                let op = cur.op();
                if let Some(l) = op.label().filter(|_| !facts.is_open_label(op)) {
                    let token = l.token;
                    // The ops after the label are still as they were: none is renamed yet.
                    let outside = used_from_before(cur.t, id);
                    for &v in &outside {
                        cur.t.ops[id].args.push(v);
                        let (ty, name) = (cur.t.ty(v), cur.t.values[v].name.clone());
                        let p = cur.t.add_label_param_named(id, ty, name);
                        cur.replace_uses(v, p);
                    }
                    cx.stats.add("label parameters added", outside.len() as i64);
                    extras.insert(token, outside);
                }
                if let Some(vs) = cur.t.ops[id].jump_target().and_then(|target| extras.get(&target)) {
                    for &v in vs {
                        let arg = cur.resolve(v);
                        cur.t.ops[id].args.push(arg);
                    }
                }
            }
        });
    }
}

/// Values defined before label `at` (inputs, earlier ops' results, earlier labels' parameters)
/// that ops between `at` and the next label use, in order of first use. Constants are not.
fn used_from_before(t: &Trace, at: OpId) -> Vec<Value> {
    // A use between `at` and the next label reads a value defined before `at` or one defined
    // between `at` and the use (the label's parameters included): the latter are `inside`.
    let mut inside = vec![false; t.values.len()];
    for &p in t.ops[at].label().map_or(&[][..], |l| &l.params[..]) {
        inside[p.index()] = true;
    }
    let mut seen = HashSet::default();
    let mut out = Vec::new();
    for (_, op) in t.ops.iter_after(at) {
        if op.label().is_some() {
            break;
        }
        op.for_each_use(|v| {
            if !inside[v.index()] && !t.is_const(v) && seen.insert(v) {
                out.push(v);
            }
        });
        if let Some(r) = op.result {
            inside[r.index()] = true;
        }
    }
    out
}
