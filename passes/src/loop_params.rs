//! `loop-params`: a label parameter that every edge into the label gives the same value becomes
//! that value.
//!
//! After `unroll` and `heap` a loop often carries values that do not change: a field the loop
//! reads and writes back unchanged travels as a parameter whose entry value and jump value are
//! the same constant (a generator's `running` flag: 0 in, 0 back), or a parameter is passed back
//! as itself or as another parameter that is itself invariant. For a closed label (entered only
//! by fall-through and by jumps of its own trace, see [`tracelab_ir::facts::ModuleFacts`]), a parameter whose
//! value on every edge is one value `v` (a constant, or a value from before the label; a jump
//! passing the parameter itself, or another such parameter, does not count against it) is
//! replaced by `v`, and the label and its jumps lose that position. Found as a greatest fixpoint
//! (all assumed invariant, then those a jump contradicts dropped until none is), so parameters
//! passed around in a cycle resolve too. `fold`, `intbounds` and `guards` then see the constant or the preamble's
//! value; `close-loops` makes the values from before the label explicit again at the end.
//!
//! Open labels are left alone. Linear in the trace length plus, per label, its parameters times
//! the rounds of the fixpoint (each round drops at least one parameter).

use crate::{edit_traces, Pass, PassContext};
use rustc_hash::FxHashMap as HashMap;
use tracelab_ir::cursor::Cursor;
use tracelab_ir::trace::{LabelInfo, ValueDef};
use tracelab_ir::{Module, Op, OpExtra, OpId, Target, Trace, Value};

pub struct LoopParams;

impl Pass for LoopParams {
    fn run(&self, m: &mut Module, cx: &mut PassContext) {
        let facts = cx.facts.clone();
        edit_traces(m, |_, t| {
            let plan = invariant_params(t, |op| facts.is_open_label(op));
            let removed: usize = plan.values().map(HashMap::len).sum();
            cx.stats.add("label parameters replaced", removed as i64);
            if removed > 0 {
                rewrite(t, &plan);
            }
        });
    }
}

/// Per label token: parameter index → the (old-trace) value it always has.
type Plan = HashMap<Target, HashMap<usize, Value>>;

fn invariant_params(t: &Trace, open: impl Fn(&Op) -> bool) -> Plan {
    let mut plan = Plan::default();
    // Labels in any order; a jump is a trace's last op (the verifier says so).
    for (_, op) in t.ops.unordered() {
        let Some(l) = op.label().filter(|_| !open(op)) else { continue };
        let jumps: Vec<&Op> = t.last_op().filter(|o| o.jump_target() == Some(l.token)).into_iter().collect();
        let fixed = solve(op, l, &jumps);
        if !fixed.is_empty() {
            plan.insert(l.token, fixed);
        }
    }
    plan
}

/// The greatest fixpoint for one label: assume every parameter keeps its entry value, then drop
/// those a jump gives anything else (under the assumptions still standing) until none changes.
/// What is left holds by induction over the edges taken.
fn solve(label: &Op, l: &LabelInfo, jumps: &[&Op]) -> HashMap<usize, Value> {
    let index: HashMap<Value, usize> = l.params.iter().enumerate().map(|(k, &p)| (p, k)).collect();
    let mut fixed: HashMap<usize, Value> = (0..l.params.len()).map(|k| (k, label.args[k])).filter(|(_, v)| !index.contains_key(v)).collect();
    loop {
        let resolve = |v: Value| index.get(&v).and_then(|k| fixed.get(k)).copied().unwrap_or(v);
        let varying: Vec<usize> = fixed
            .iter()
            .filter(|&(&k, &entry)| jumps.iter().any(|j| j.args.get(k).is_none_or(|&a| resolve(a) != entry)))
            .map(|(&k, _)| k)
            .collect();
        if varying.is_empty() {
            return fixed;
        }
        for k in varying {
            fixed.remove(&k);
        }
    }
}

fn rewrite(t: &mut Trace, plan: &Plan) {
    let mut cur = Cursor::new(t);
    while let Some(id) = cur.next_op() {
        let op = cur.op();
        let token = op.label().map(|l| l.token).or_else(|| op.jump_target());
        if let Some(fixed) = token.and_then(|tok| plan.get(&tok)) {
            edge(&mut cur, id, fixed);
        }
    }
}

/// A label or jump loses the fixed positions; a label's fixed parameters become their value
/// (the parameters it keeps keep their numbers).
fn edge(cur: &mut Cursor, id: OpId, fixed: &HashMap<usize, Value>) {
    let op = &mut cur.t.ops[id];
    let mut k = 0;
    op.args.retain(|_| {
        k += 1;
        !fixed.contains_key(&(k - 1))
    });
    let OpExtra::Label(l) = &mut op.extra else { return };
    let mut gone = Vec::new();
    for (k, p) in std::mem::take(&mut l.params).into_iter().enumerate() {
        match fixed.get(&k) {
            Some(&v) => gone.push((p, v)),
            None => {
                cur.t.values[p].def = ValueDef::LabelParam(id, l.params.len() as u32);
                l.params.push(p);
            }
        }
    }
    for (p, v) in gone {
        cur.replace_uses(p, v);
    }
}
