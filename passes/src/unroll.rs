//! `unroll`: loop peeling (PyPy's `unroll`, LuaJIT's `LOOP`).
//!
//! A loop trace that ends by jumping back to its own start becomes
//!
//! ```text
//! loop l [inputs] {  preamble: the body once, on the inputs
//!     label(a1, ...)      the values the first iteration passes on
//!     body again, on the label's parameters
//!     jump(b1, ...)       to the new label
//! }
//! ```
//!
//! Unroll removes nothing itself: it gives the passes after it a first iteration to learn
//! from. The trace stays SSA and the preamble dominates the peeled body, so what a later pass
//! knows about a preamble value holds in the body too: `cse` reuses the pure ops the preamble
//! computed, `guards` and `fold` drop the checks the preamble passed on the same values, `heap`
//! keeps loads of fields the loop never writes. The loop-invariant work is what stays behind in
//! the preamble.
//!
//! Invariant inputs: a jump argument that is the input of its own position (passed through
//! unchanged, possibly via `same_as`) or a constant does not become a label parameter: the body
//! uses the input, or the constant, directly. That is what makes it *the same* value for the
//! passes (a label parameter would be a new, unknown value each iteration).
//!
//! Virtuals carried around the back edge (an object allocated in one iteration and read in the
//! next) travel as their fields once `escape` has run after this pass; `close-loops` at the end of
//! the pipeline turns the preamble values the body uses into extra label parameters, so that
//! every loop-carried value is explicit at the label and the jump.
//!
//! Entering the loop: the new label's token is fresh and only the trace's own jump targets it.
//! The body relies on what the preamble established (guards passed, loads done, classes known),
//! so another trace (a bridge) must enter at the trace start, whose preamble re-establishes all of
//! it; tracelab builds no "short preamble" for jumping straight to the peeled label. If a trace
//! of the module does jump there, the label is open (see [`tracelab_ir::facts::ModuleFacts`]) and the passes
//! assume nothing across it. The pass says so with a remark for each loop it peels.
//!
//! A loop with one label that its own jump closes (a recorded loop after `virtualize`, which
//! loads the frame's fields before the label and carries them as its parameters) is peeled the
//! same way around that label: the ops before it stay, the body runs once on the label's entry
//! values, and the new label and a second copy of the body follow.
//!
//! Not peeled (a remark says why): bridges and functions, loops with more than one label
//! (PyPy's optimized traces are peeled already), a label another trace jumps to, loops whose
//! jump goes elsewhere. Cost: the output is twice the input; the preamble is the trace as it was
//! (edited in place), the body one linear copy appended to it.

use crate::{edit_traces, Pass, PassContext};
use tracelab_ir::entity::EntityRef;
use tracelab_ir::trace::LabelInfo;
use tracelab_ir::{Module, Op, OpExtra, OpId, Opcode, Target, Trace, TraceKind, Value};

pub struct Unroll;

impl Pass for Unroll {
    fn run(&self, m: &mut Module, cx: &mut PassContext) {
        let mut next = m.fresh_token();
        edit_traces(m, |m, t| {
            if let Err(why) = peelable(m, t) {
                if t.kind == TraceKind::Loop {
                    cx.remarks.push(format!("{} not peeled: {why}", t.name));
                }
                return;
            }
            let token = next;
            next = match next {
                Target::Token(n) => Target::Token(n + 1),
                other => other,
            };
            let labelled = t.labels().next().is_some();
            let carried = if labelled { peel_labelled(t, token) } else { peel(t, token) };
            cx.stats.add("loops peeled", 1);
            cx.remarks.push(format!(
                "{} peeled at label {}: {carried} of {} inputs carried; the body assumes what the preamble checked, so other traces enter at the trace start",
                t.name,
                tracelab_ir::printer::target_text(token),
                t.inputs.len()
            ));
        });
    }
}

fn peelable(m: &Module, t: &Trace) -> Result<(), &'static str> {
    if t.kind != TraceKind::Loop {
        return Err("not a loop");
    }
    let labels: Vec<Option<Target>> = t.labels().map(|(_, l)| Some(l.token)).collect();
    let last = t.last_op().filter(|op| op.opcode == Opcode::Jump).map(|op| op.jump_target().unwrap_or(Target::SELF_START));
    match labels.as_slice() {
        [] if last == Some(Target::SELF_START) => Ok(()),
        [] => Err("it does not end by jumping to its own start"),
        [Some(token)] if last == Some(*token) => {
            if jumped_to_by_others(m, *token) {
                Err("another trace jumps to its label")
            } else {
                Ok(())
            }
        }
        [_] => Err("its jump does not go to its label"),
        _ => Err("it has more than one label (peeled already)"),
    }
}

/// Whether a trace of `m` other than the one being edited (a stand-in there) jumps to `token`.
fn jumped_to_by_others(m: &Module, token: Target) -> bool {
    m.traces.values().any(|t| t.ops.values().any(|op| op.jump_target() == Some(token)))
}

/// Peels a loop closed by its one label: the ops after the label run once on its entry values
/// (replacing the label and the body), then a fresh label and the body again; returns how many
/// label positions are carried.
fn peel_labelled(t: &mut Trace, token: Target) -> usize {
    let jump_id = t.ops.last().expect("peelable traces end with a jump");
    let jump = t.ops[jump_id].clone();
    let label_id = t.labels().next().map(|(id, _)| id).expect("peelable labelled loops have a label");
    let params = t.ops[label_id].label().map(|l| l.params.clone()).unwrap_or_default();
    let entry = t.ops[label_id].args.clone();
    let all = t.ops.ids();
    let body: Vec<OpId> = all.iter().copied().skip_while(|&id| id != label_id).skip(1).filter(|&id| id != jump_id).collect();
    for &id in body.iter().chain([&label_id, &jump_id]) {
        t.ops.unlink(id);
    }
    t.ops.reserve(2 * body.len() + 2);
    t.values.reserve(t.values.len());
    // The first iteration: the body on the label's entry values.
    let mut first: Vec<Option<Value>> = vec![None; t.values.len()];
    for (&p, &e) in params.iter().zip(&entry) {
        first[p.index()] = Some(e);
    }
    for &id in &body {
        copy_into_body(t, id, &mut first);
    }
    let after_first = |v: Value| first.get(v.index()).copied().flatten().unwrap_or(v);
    let passed: Vec<Value> = jump.args.iter().map(|&a| after_first(a)).collect();
    // The second: on the new label's parameters where a value changes around the loop.
    let mut second: Vec<Option<Value>> = vec![None; t.values.len()];
    let mut label_args = Vec::new();
    let mut carried = Vec::new();
    for (j, &p) in params.iter().enumerate() {
        // Invariant when the loop passes the parameter back unchanged or passes a constant,
        // judged on the body as written (the first copy sees the entry values instead).
        let r = t.through_same_as(jump.args[j]);
        if r == p {
            second[p.index()] = Some(entry[j]);
        } else if t.is_const(r) {
            second[p.index()] = Some(r);
        } else {
            label_args.push(passed[j]);
            carried.push(j);
        }
    }
    let label = Op::new(Opcode::Label, &label_args).with_extra(OpExtra::Label(Box::new(LabelInfo { token, params: Vec::new() })));
    let lid = t.push_op(label, None);
    for &j in &carried {
        let p = params[j];
        let name = t.values[p].name.clone();
        second[p.index()] = Some(t.add_label_param_named(lid, t.ty(p), name));
    }
    for &id in &body {
        copy_into_body(t, id, &mut second);
    }
    let after_second = |v: Value| second.get(v.index()).copied().flatten().unwrap_or(v);
    let jump_args: Vec<Value> = carried.iter().map(|&j| after_second(jump.args[j])).collect();
    t.push_op(Op::new(Opcode::Jump, &jump_args).with_extra(OpExtra::Jump(token)), None);
    carried.len()
}


/// Peels `t` in place (its ops but the jump stay as the preamble; the label and a copy of them
/// are appended); returns how many inputs became label parameters.
fn peel(t: &mut Trace, token: Target) -> usize {
    let jump_id = t.ops.last().expect("peelable traces end with a jump");
    let jump = t.ops[jump_id].clone();
    t.ops.unlink(jump_id);
    let preamble = t.ops.ids();
    // The body doubles the trace: room for it at once (growing by doubling would move it).
    t.ops.reserve(preamble.len() + 2);
    t.values.reserve(t.values.len());
    // Which inputs the body may take from the preamble as they are.
    let mut body_map: Vec<Option<Value>> = vec![None; t.values.len()];
    let mut label_args = Vec::new();
    let mut carried = Vec::new();
    for (j, (&input, &arg)) in t.inputs.iter().zip(&jump.args).enumerate() {
        let r = t.through_same_as(arg);
        if r == input || t.is_const(r) {
            body_map[input.index()] = Some(r);
        } else {
            label_args.push(arg);
            carried.push(j);
        }
    }
    let label = Op::new(Opcode::Label, &label_args).with_extra(OpExtra::Label(Box::new(LabelInfo { token, params: Vec::new() })));
    let lid = t.push_op(label, None);
    for &j in &carried {
        let input = t.inputs[j];
        let name = t.values[input].name.clone();
        body_map[input.index()] = Some(t.add_label_param_named(lid, t.ty(input), name));
    }
    for id in preamble {
        copy_into_body(t, id, &mut body_map);
    }
    // Constants and preamble values not in the map stand for themselves.
    let lookup = |v: Value| body_map.get(v.index()).copied().flatten().unwrap_or(v);
    let jump_args: Vec<Value> = carried.iter().map(|&j| lookup(jump.args[j])).collect();
    t.push_op(Op::new(Opcode::Jump, &jump_args).with_extra(OpExtra::Jump(token)), None);
    carried.len()
}

/// Appends a copy of preamble op `id` with its values renamed by `map` (indexed by value;
/// what it lacks stands for itself: constants), recording its result there.
fn copy_into_body(t: &mut Trace, id: OpId, map: &mut Vec<Option<Value>>) {
    let rename = |v: Value| map.get(v.index()).copied().flatten().unwrap_or(v);
    let old = &t.ops[id];
    let mut op = Op { result: None, ..old.clone() };
    op.map_values(rename);
    let old_result = old.result;
    let name = old_result.and_then(|r| t.values[r].name.clone());
    let new_id = t.push_op_named(op, name);
    if let (Some(r), Some(nr)) = (old_result, t.ops[new_id].result) {
        if map.len() <= r.index() {
            map.resize(r.index() + 1, None);
        }
        map[r.index()] = Some(nr);
    }
}
