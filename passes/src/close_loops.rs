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
use tracelab_ir::edit::Editor;
use tracelab_ir::trace::ValueDef;
use tracelab_ir::{Module, OpId, Target, Trace, Value};

pub struct CloseLoops;

impl Pass for CloseLoops {
    fn run(&self, m: &mut Module, cx: &mut PassContext) {
        let facts = cx.facts.clone();
        edit_traces(m, |_, t| {
            if !t.labels().any(|(id, _)| !facts.is_open_label(&t.ops[id])) {
                return;
            }
            let mut ed = Editor::new(t);
            // Label token → the values added to it, in order.
            let mut extras: HashMap<Target, Vec<Value>> = HashMap::default();
            for id in ed.t.ops.keys() {
                ed.update(id);
                let op = &ed.t.ops[id];
                if let Some(l) = op.label().filter(|_| !facts.is_open_label(op)) {
                    let token = l.token;
                    // The ops after the label are still as they were: none is renamed yet.
                    let outside = used_from_before(ed.t, id);
                    for &v in &outside {
                        ed.t.ops[id].args.push(v);
                        let (ty, name) = (ed.t.ty(v), ed.t.values[v].name.clone());
                        let p = ed.t.add_label_param_named(id, ty, name);
                        ed.replace(v, p);
                    }
                    cx.stats.add("label parameters added", outside.len() as i64);
                    extras.insert(token, outside);
                }
                if let Some(vs) = ed.t.ops[id].jump_target().and_then(|target| extras.get(&target)) {
                    for &v in vs {
                        let arg = ed.map(v);
                        ed.t.ops[id].args.push(arg);
                    }
                }
            }
            ed.finish();
        });
    }
}

/// Values defined before label `at` (inputs, earlier ops' results, earlier labels' parameters)
/// that ops between `at` and the next label use, in order of first use. Constants are not.
fn used_from_before(t: &Trace, at: OpId) -> Vec<Value> {
    let before = |v: Value| match t.values[v].def {
        ValueDef::Input(_) => true,
        ValueDef::Op(o) | ValueDef::LabelParam(o, _) => o.index() < at.index(),
        ValueDef::Const(_) => false,
    };
    let mut seen = HashSet::default();
    let mut out = Vec::new();
    for op in t.ops.values().skip(at.index() + 1) {
        if op.label().is_some() {
            break;
        }
        op.for_each_use(|v| {
            if before(v) && seen.insert(v) {
                out.push(v);
            }
        });
    }
    out
}
