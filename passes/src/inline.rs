//! `inline`: inlining of loop-less callees (what a tracing JIT does by tracing through calls:
//! Gal et al., "Trace-based Just-in-Time Type Specialization for Dynamic Languages", PLDI 2009;
//! PyPy traces into functions without loops and keeps `call_assembler` for those with one).
//!
//! A call whose target is a trace function of the module (`call_*(@f, ...)`) and whose body has
//! no loop (no `label`, no `jump`) is replaced by the body: parameters become the call's
//! arguments, `finish(v)` becomes the call's result, and each guard of the body that has resume
//! data gets the caller's frames stacked under the callee's (the frames of the call site: those
//! of the caller's first guard after the call, with what the call site cannot know yet dead;
//! see `tracelab_ir::resume::call_site_frames`, the rule the interpreter follows too), so a
//! guard failing inside the inlined body resumes both frames.
//!
//! Callees that contain a loop stay calls (PyPy's `call_assembler` case). Recursion is found with
//! petgraph (strongly connected components of the call graph); a recursive callee is inlined at
//! most `max-depth` levels deep. A size budget bounds the ops inlined into one trace. Functions
//! are processed bottom-up (callees before callers, in the order of the call graph's SCCs), so
//! a nested callee is inlined once into its caller and that result is what gets inlined further.
//!
//! Options: `inline<max-depth=N;budget=N>` (defaults 2 and 2000). Stats: calls inlined, ops
//! inlined; remarks: every call inlined, and for every call not inlined, why.

use crate::{Pass, PassContext};
use petgraph::algo::tarjan_scc;
use petgraph::graph::DiGraph;
use tracelab_ir::entity::EntityRef;
use tracelab_ir::resume::{call_site_frames, GuardInfo, Resume, ResumeValue};
use tracelab_ir::cursor::Cursor;
use tracelab_ir::{Const, Module, Op, OpExtra, OpId, Opcode, Trace, TraceId, TraceKind, Value};

pub struct Inline {
    pub max_depth: usize,
    pub budget: usize,
}

impl Default for Inline {
    fn default() -> Inline {
        Inline { max_depth: 2, budget: 2000 }
    }
}

impl Inline {
    pub fn from_options(opts: &crate::PassOptions) -> Result<Inline, String> {
        let mut p = Inline::default();
        for (k, v) in opts {
            let n: usize = v.parse().map_err(|_| format!("inline: `{k}` takes a number, not `{v}`"))?;
            match k.as_str() {
                "max-depth" => p.max_depth = n,
                "budget" => p.budget = n,
                other => return Err(format!("inline: unknown option `{other}` (max-depth, budget)")),
            }
        }
        Ok(p)
    }
}

/// The function a call op calls, if it is a trace of the module.
fn callee(m: &Module, t: &Trace, id: OpId) -> Option<TraceId> {
    let op = &t.ops[id];
    let i = op.opcode.call_target_index()?;
    match t.as_const(*op.args.get(i)?) {
        Some(Const::Func(name)) => m.trace_by_name(name).filter(|&f| matches!(m.traces[f].kind, TraceKind::Function { .. })),
        _ => None,
    }
}

fn has_loop(t: &Trace) -> bool {
    t.ops.values().any(|o| matches!(o.opcode, Opcode::Label | Opcode::Jump))
}

impl Pass for Inline {
    fn run(&self, m: &mut Module, cx: &mut PassContext) {
        // The call graph, and its SCCs callees first.
        let mut g: DiGraph<TraceId, ()> = DiGraph::new();
        let nodes: Vec<_> = m.traces.keys().map(|t| g.add_node(t)).collect();
        for (tid, t) in m.traces.iter() {
            for id in t.ops.keys() {
                if let Some(f) = callee(m, t, id) {
                    g.add_edge(nodes[tid.index()], nodes[f.index()], ());
                }
            }
        }
        let sccs = tarjan_scc(&g);
        let mut recursive = vec![false; m.traces.len()];
        let mut scc_of = vec![0; m.traces.len()];
        for (k, scc) in sccs.iter().enumerate() {
            for &n in scc {
                scc_of[g[n].index()] = k;
            }
        }
        for scc in &sccs {
            let self_loop = |n| g.contains_edge(n, n);
            if scc.len() > 1 || scc.iter().any(|&n| self_loop(n)) {
                for &n in scc {
                    recursive[g[n].index()] = true;
                }
            }
        }
        for scc in sccs {
            for n in scc {
                let tid = g[n];
                if g.neighbors(n).next().is_none() {
                    // Calls no trace function: nothing to inline, nothing to copy.
                    continue;
                }
                let stand_in = Trace::new(String::new(), m.traces[tid].kind.clone());
                let mut t = std::mem::replace(&mut m.traces[tid], stand_in);
                let mut job = Job { m, tid, cfg: self, recursive: &recursive, scc_of: &scc_of, cx, added: 0 };
                job.trace(&mut t);
                m.traces[tid] = t;
            }
        }
    }
}

struct Job<'a> {
    m: &'a Module,
    /// The trace being edited (out of `m` meanwhile).
    tid: TraceId,
    cfg: &'a Inline,
    recursive: &'a [bool],
    scc_of: &'a [usize],
    cx: &'a mut PassContext,
    added: usize,
}

impl<'a> Job<'a> {
    /// Inlines the calls of `t` (taken out of the module: its own body is never inlined into
    /// it, a call inside its own cycle stays).
    fn trace(&mut self, t: &mut Trace) {
        let name = t.name.clone();
        let mut cur = Cursor::new(t);
        while let Some(id) = cur.next_op_pending() {
            let at = cur.position();
            let Some(f) = callee(self.m, cur.t, id) else {
                cur.keep();
                continue;
            };
            // Inside a cycle of the call graph, calls stay: the cycle is unrolled (to max-depth)
            // where it is entered from outside, not compounded in its own members.
            let why = if self.scc_of[f.index()] == self.scc_of[self.tid.index()] && self.recursive[f.index()] {
                Some("a recursive call inside its own cycle".to_string())
            } else {
                self.why_not(f, 0)
            };
            if let Some(why) = why {
                self.cx.remarks.push(format!("trace {name}: op {at}: @{} not inlined: {why}", self.m.traces[f].name));
                cur.keep();
                continue;
            }
            let args: Vec<Value> = call_args(cur.t, id).iter().map(|&a| cur.resolve(a)).collect();
            let frames = frames_at(&cur, id);
            let before = cur.t.ops.len();
            let result = self.inline_body(&mut cur, f, &args, &frames, 1);
            let n = cur.t.ops.len() - before;
            self.cx.stats.add("calls inlined", 1);
            self.cx.stats.add("ops inlined", n as i64);
            self.cx.remarks.push(format!("trace {name}: op {at}: @{} inlined ({n} ops)", self.m.traces[f].name));
            if let (Some(r), Some(v)) = (cur.t.ops[id].result, result) {
                cur.replace_uses(r, v);
            }
            // Not kept: the call goes when the walk moves on.
        }
    }

    /// Why the call to `f` at `id` must stay a call, if it must.
    fn why_not(&self, f: TraceId, depth: usize) -> Option<String> {
        let callee = &self.m.traces[f];
        if has_loop(callee) {
            return Some("it contains a loop".into());
        }
        if self.recursive[f.index()] && depth >= self.cfg.max_depth {
            return Some(format!("it is recursive and max-depth {} is reached", self.cfg.max_depth));
        }
        if self.added + callee.ops.len() > self.cfg.budget {
            return Some(format!("the budget of {} inlined ops is spent", self.cfg.budget));
        }
        None
    }

    /// Copies `f`'s body with `args` for its parameters; returns the value `finish` gives.
    fn inline_body(&mut self, cur: &mut Cursor<'_>, f: TraceId, args: &[Value], caller: &[tracelab_ir::resume::ResumeFrame], depth: usize) -> Option<Value> {
        let callee = &self.m.traces[f];
        self.added += callee.ops.len();
        let mut map: Vec<Option<Value>> = vec![None; callee.values.len()];
        for (&p, &a) in callee.inputs.iter().zip(args) {
            map[p.index()] = Some(a);
        }
        for (position, (id, op)) in callee.ops.iter().enumerate() {
            if op.opcode == Opcode::Finish {
                return op.args.first().map(|&v| lookup(cur.t, callee, &map, v));
            }
            if let Some(g) = callee_of(self.m, callee, id) {
                let why = self.why_not(g, depth);
                if let Some(why) = &why {
                    let (cn, gn) = (&callee.name, &self.m.traces[g].name);
                    self.cx.remarks.push(format!("inlined {cn}: op {position}: @{gn} not inlined: {why}"));
                }
                if why.is_none() {
                    let inner_args: Vec<Value> = call_args(callee, id).iter().map(|&a| lookup(cur.t, callee, &map, a)).collect();
                    // The callee's own call site frames go on top of the caller's.
                    let mut frames = caller.to_vec();
                    for mut fr in call_site_frames(callee, id) {
                        for s in &mut fr.slots {
                            if let ResumeValue::Value(v) = s {
                                *v = lookup(cur.t, callee, &map, *v);
                            }
                        }
                        frames.push(fr);
                    }
                    let r = self.inline_body(cur, g, &inner_args, &frames, depth + 1);
                    self.cx.stats.add("calls inlined", 1);
                    if let (Some(res), Some(v)) = (op.result, r) {
                        map[res.index()] = Some(v);
                    }
                    continue;
                }
            }
            let new_id = copy_from(cur, callee, id, &mut map);
            stack_frames(cur.t, new_id, caller);
        }
        None
    }
}

fn callee_of(m: &Module, t: &Trace, id: OpId) -> Option<TraceId> {
    callee(m, t, id)
}

/// The caller's value for callee value `v`: what `map` says, or the constant re-interned.
fn lookup(into: &mut Trace, callee: &Trace, map: &[Option<Value>], v: Value) -> Value {
    match (map[v.index()], callee.as_const(v)) {
        (Some(n), _) => n,
        (None, Some(c)) => into.constant(c.clone()),
        (None, None) => unreachable!("values are defined before use"),
    }
}

/// Emits a copy of callee op `id` with its values mapped through `map`, where it records the
/// copy's result. Returns the copy's id.
fn copy_from(cur: &mut Cursor<'_>, callee: &Trace, id: OpId, map: &mut [Option<Value>]) -> OpId {
    let old = &callee.ops[id];
    let mut op = Op { result: None, ..old.clone() };
    op.map_values(|v| lookup(cur.t, callee, map, v));
    let name = old.result.and_then(|r| callee.values[r].name.clone());
    let new_id = cur.emit_named(op, name);
    if let (Some(r), Some(nr)) = (old.result, cur.t.ops[new_id].result) {
        map[r.index()] = Some(nr);
    }
    new_id
}

/// The caller's frames at the call site `id` (the op the cursor is at), as the trace's values
/// there.
fn frames_at(cur: &Cursor<'_>, id: OpId) -> Vec<tracelab_ir::resume::ResumeFrame> {
    let mut frames = call_site_frames(cur.t, id);
    for f in &mut frames {
        for s in &mut f.slots {
            if let ResumeValue::Value(v) = s {
                *v = cur.resolve(*v);
            }
        }
    }
    frames
}

/// The call's arguments after its target.
fn call_args(t: &Trace, id: OpId) -> Vec<Value> {
    let op = &t.ops[id];
    let i = op.opcode.call_target_index().expect("a call");
    op.args[i + 1..].to_vec()
}

/// Puts the caller's frames under the frames of an inlined guard with resume data, and adds
/// the values they need to its fail args.
fn stack_frames(t: &mut Trace, id: OpId, caller: &[tracelab_ir::resume::ResumeFrame]) {
    if caller.is_empty() {
        return;
    }
    let needed: Vec<Value> = caller.iter().flat_map(|f| f.slots.iter()).filter_map(|s| match s {
        ResumeValue::Value(v) if !t.is_const(*v) => Some(*v),
        _ => None,
    }).collect();
    let OpExtra::Guard(g) = &mut t.ops[id].extra else { return };
    let GuardInfo { fail_args, resume, .. } = std::sync::Arc::make_mut(g);
    let Some(Resume { frames, .. }) = resume else { return };
    let mut stacked = caller.to_vec();
    stacked.append(frames);
    *frames = stacked;
    for v in needed {
        if !fail_args.contains(&Some(v)) {
            fail_args.push(Some(v));
        }
    }
}
