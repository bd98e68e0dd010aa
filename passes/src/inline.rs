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
use tracelab_ir::rewrite::Rewriter;
use tracelab_ir::{Const, Module, OpExtra, OpId, Opcode, Trace, TraceId, TraceKind, Value};

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
                let mut job = Job { m, cfg: self, recursive: &recursive, scc_of: &scc_of, cx, added: 0 };
                let new = job.trace(tid);
                m.traces[tid] = new;
            }
        }
    }
}

struct Job<'a> {
    m: &'a Module,
    cfg: &'a Inline,
    recursive: &'a [bool],
    scc_of: &'a [usize],
    cx: &'a mut PassContext,
    added: usize,
}

impl<'a> Job<'a> {
    fn trace(&mut self, tid: TraceId) -> Trace {
        let t = &self.m.traces[tid];
        let mut rw = Rewriter::new(t);
        for id in t.ops.keys() {
            let Some(f) = callee(self.m, t, id) else {
                rw.copy(id);
                continue;
            };
            // Inside a cycle of the call graph, calls stay: the cycle is unrolled (to max-depth)
            // where it is entered from outside, not compounded in its own members.
            let why = if self.scc_of[f.index()] == self.scc_of[tid.index()] && self.recursive[f.index()] {
                Some("a recursive call inside its own cycle".to_string())
            } else {
                self.why_not(f, 0)
            };
            match why {
                Some(why) => {
                    self.cx.remarks.push(format!("trace {}: op {}: @{} not inlined: {why}", t.name, id.index(), self.m.traces[f].name));
                    rw.copy(id);
                }
                None => {
                    let args: Vec<Value> = call_args(t, id).iter().map(|&a| rw.map(a)).collect();
                    let frames = self.frames_at(&mut rw, t, id);
                    let before = rw.new.ops.len();
                    let result = self.inline_body(&mut rw, f, &args, &frames, 1);
                    let n = rw.new.ops.len() - before;
                    self.cx.stats.add("calls inlined", 1);
                    self.cx.stats.add("ops inlined", n as i64);
                    self.cx.remarks.push(format!("trace {}: op {}: @{} inlined ({n} ops)", t.name, id.index(), self.m.traces[f].name));
                    if let (Some(r), Some(v)) = (t.ops[id].result, result) {
                        rw.replace(r, v);
                    }
                }
            }
        }
        rw.finish()
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

    /// The caller's frames at a call site, as new-trace resume values.
    fn frames_at(&mut self, rw: &mut Rewriter<'_>, t: &Trace, id: OpId) -> Vec<tracelab_ir::resume::ResumeFrame> {
        let mut frames = call_site_frames(t, id);
        for f in &mut frames {
            for s in &mut f.slots {
                if let ResumeValue::Value(v) = s {
                    *v = rw.map(*v);
                }
            }
        }
        frames
    }

    /// Copies `f`'s body with `args` for its parameters; returns the value `finish` gives.
    fn inline_body(&mut self, rw: &mut Rewriter<'_>, f: TraceId, args: &[Value], caller: &[tracelab_ir::resume::ResumeFrame], depth: usize) -> Option<Value> {
        let callee = &self.m.traces[f];
        self.added += callee.ops.len();
        let mut map: Vec<Option<Value>> = vec![None; callee.values.len()];
        for (&p, &a) in callee.inputs.iter().zip(args) {
            map[p.index()] = Some(a);
        }
        for (id, op) in callee.ops.iter() {
            if op.opcode == Opcode::Finish {
                return op.args.first().map(|&v| match (map[v.index()], callee.as_const(v)) {
                    (Some(n), _) => n,
                    (None, Some(c)) => rw.new.constant(c.clone()),
                    (None, None) => unreachable!("finish's value is defined"),
                });
            }
            if let Some(g) = callee_of(self.m, callee, id) {
                let why = self.why_not(g, depth);
                if let Some(why) = &why {
                    let (cn, gn) = (&callee.name, &self.m.traces[g].name);
                    self.cx.remarks.push(format!("inlined {cn}: op {}: @{gn} not inlined: {why}", id.index()));
                }
                if why.is_none() {
                    let inner_args: Vec<Value> = call_args(callee, id).iter().map(|&a| lookup(rw, callee, &map, a)).collect();
                    // The callee's own call site frames go on top of the caller's.
                    let mut frames = caller.to_vec();
                    for mut fr in call_site_frames(callee, id) {
                        for s in &mut fr.slots {
                            if let ResumeValue::Value(v) = s {
                                *v = lookup(rw, callee, &map, *v);
                            }
                        }
                        frames.push(fr);
                    }
                    let r = self.inline_body(rw, g, &inner_args, &frames, depth + 1);
                    self.cx.stats.add("calls inlined", 1);
                    if let (Some(res), Some(v)) = (op.result, r) {
                        map[res.index()] = Some(v);
                    }
                    continue;
                }
            }
            let new_id = rw.copy_from(callee, id, &mut map);
            stack_frames(&mut rw.new, new_id, caller);
        }
        None
    }
}

fn callee_of(m: &Module, t: &Trace, id: OpId) -> Option<TraceId> {
    callee(m, t, id)
}

fn lookup(rw: &mut Rewriter<'_>, t: &Trace, map: &[Option<Value>], v: Value) -> Value {
    match (map[v.index()], t.as_const(v)) {
        (Some(n), _) => n,
        (None, Some(c)) => rw.new.constant(c.clone()),
        (None, None) => unreachable!("values are defined before use"),
    }
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
