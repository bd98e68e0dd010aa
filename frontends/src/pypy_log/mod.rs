//! Importing PyPy JIT logs (`PYPYLOG=jit-log-noopt,jit-log-opt,jit-summary:FILE`).
//!
//! Each `jit-log-noopt` section (the trace as recorded) and each `jit-log-opt-loop` /
//! `jit-log-opt-bridge` section (what PyPy's optimizer made of it) becomes a tracelab trace.
//! The body of a section is parsed by the ordinary trace parser, since the text format is a
//! superset of PyPy's; this module adds what only the log knows:
//!
//! - names: `loopN` from `# Loop N (...)`, `bridge_<guard>` from `# bridge out of Guard 0x...`,
//!   with `.noopt` and `.opt` for the two stages of the same loop or bridge;
//! - pairing: each optimized section is paired with the recorded section just before it;
//! - kinds: bridges become `bridge ... from Guard0x...` traces;
//! - jumps into other traces' labels (a bridge entering its loop) get `extern` declarations with
//!   the label's parameter types taken from the log (or from the jump when the loop is absent);
//! - entry facts: a recorded bridge starts with what held at its guard in the optimized trace
//!   it leaves from (known classes, loop-invariant call results and field values of the fail
//!   args, see `crate::bridge_facts`), as PyPy's optimizer hands them to the bridge's;
//!   and any recorded trace with the classes of the constant objects its guards checked
//!   (`facts.rs`).
//!
//! A section that does not parse or verify is reported with a location in the log and
//! skipped; the other sections still import.

mod facts;
mod sections;

pub mod summary;
pub use sections::{body_text, split, Section};

use std::collections::HashMap;
use tracelab_ir::link::copy_trace;
use tracelab_ir::trace::{ExternLabel, Span, TraceKind};
use tracelab_ir::{parse, verify, Diagnostic, Module, OpId, Opcode, Target, Trace, Type};

/// Which stage of PyPy's pipeline a trace comes from.
#[derive(Copy, Clone, PartialEq, Eq, Debug)]
pub enum Stage {
    /// `jit-log-noopt`: as recorded by the tracer.
    Recorded,
    /// `jit-log-opt-loop` / `jit-log-opt-bridge`: after PyPy's optimizer.
    Optimized,
}

impl Stage {
    pub fn suffix(self) -> &'static str {
        match self {
            Stage::Recorded => "noopt",
            Stage::Optimized => "opt",
        }
    }
}

/// What the section's header comment says the trace is.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Origin {
    /// `# Loop N (greenkey) : loop with M ops` or `... : entry bridge with M ops`.
    Loop { number: u32, greenkey: String, entry_bridge: bool },
    /// `# bridge out of Guard 0x... with N ops`.
    Bridge { guard: u64 },
    /// A recorded trace whose optimized form is not in the log (or any header we do not know).
    Unknown,
}

/// One trace section of the log.
#[derive(Debug)]
pub struct LogTrace {
    pub name: String,
    pub stage: Stage,
    pub origin: Origin,
    /// 1-based line of the section opener.
    pub line: usize,
    /// The op count PyPy printed in the header (`with N ops`), when it did.
    pub header_ops: Option<usize>,
    /// Where the section's body starts in the log (spans of the module are relative to it).
    pub body_start: usize,
    /// Index of the other stage of the same loop or bridge.
    pub pair: Option<usize>,
    /// The trace as a standalone, verified module; `None` if it failed to import.
    pub module: Option<Module>,
    /// Why it failed: diagnostics with spans into the log text.
    pub errors: Vec<Diagnostic>,
    /// Ops the importer put at the start of a recorded trace: its entry facts (PyPy's header
    /// count does not include them).
    pub entry_facts: usize,
}

impl LogTrace {
    pub fn ok(&self) -> bool {
        self.module.is_some()
    }

    /// Ops and guards of the trace as the log has it (without the entry facts the importer
    /// stated), if it imported.
    pub fn logged_counts(&self) -> Option<(usize, usize)> {
        self.module.as_ref().map(|m| {
            let (ops, guards) = counts(m);
            (ops - self.entry_facts, guards)
        })
    }
}

/// An imported log.
#[derive(Debug, Default)]
pub struct PypyLog {
    pub traces: Vec<LogTrace>,
    /// Problems with the log's structure (unclosed or stray sections).
    pub problems: Vec<Diagnostic>,
}

const TRACE_SECTIONS: &[(&str, Stage)] = &[
    ("jit-log-noopt", Stage::Recorded),
    ("jit-log-noopt-loop", Stage::Recorded),
    ("jit-log-noopt-bridge", Stage::Recorded),
    ("jit-log-opt-loop", Stage::Optimized),
    ("jit-log-opt-bridge", Stage::Optimized),
];

/// True if `text` looks like a PyPy log (its first non-blank line opens a section).
pub fn looks_like_log(text: &str) -> bool {
    let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    first.starts_with('[') && first.contains("] {")
}

impl PypyLog {
    pub fn import(log: &str) -> PypyLog {
        let (sections, problems) = split(log);
        let mut out = PypyLog { traces: Vec::new(), problems };
        for s in &sections {
            let Some(&(_, stage)) = TRACE_SECTIONS.iter().find(|(n, _)| *n == s.name) else { continue };
            out.traces.push(parse_section(log, s, stage));
        }
        out.pair_and_name();
        out.link_and_verify();
        out.state_entry_facts();
        out
    }

    /// Starts each recorded trace with the facts it may assume: for a bridge, what held at its
    /// guard in the optimized trace holding it (when the log has it); for every trace, the
    /// classes of constant objects its recorded guards checked. The statements are well typed
    /// by construction (`state_at_entry` checks each against the trace's inputs and descrs).
    fn state_entry_facts(&mut self) {
        let guards = self.optimized_guards();
        for i in 0..self.traces.len() {
            let t = &self.traces[i];
            let Some(m) = t.module.as_ref().filter(|_| t.stage == Stage::Recorded) else { continue };
            let mut facts = match t.origin {
                Origin::Bridge { guard } => guards.get(&guard).map(|&(j, op)| self.facts_at(j, op)).unwrap_or_default(),
                _ => Vec::new(),
            };
            facts.extend(facts::classes_of_constants(&m.traces[first_trace()]));
            if facts.is_empty() {
                continue;
            }
            let t = &mut self.traces[i];
            let Some(m) = t.module.as_mut() else { continue };
            let tid = first_trace();
            let mut trace = std::mem::replace(&mut m.traces[tid], Trace::new("", TraceKind::Loop));
            let before = trace.ops.len();
            crate::bridge_facts::state_at_entry(m, &mut trace, &facts);
            t.entry_facts = trace.ops.len() - before;
            m.traces[tid] = trace;
            // The facts name constants as the optimized parent did; a guard of the bridge may
            // name the same object otherwise.
            facts::one_name_per_object(m);
            debug_assert!(verify(m).is_ok(), "entry facts keep {} valid", t.name);
        }
    }

    /// Where each guard of an optimized trace is: guard id -> (trace index, op).
    fn optimized_guards(&self) -> HashMap<u64, (usize, OpId)> {
        let mut out = HashMap::new();
        for (j, t) in self.traces.iter().enumerate().filter(|(_, t)| t.stage == Stage::Optimized) {
            let Some(tr) = t.module.as_ref().and_then(|m| m.traces.values().next()) else { continue };
            for (id, op) in tr.ops.iter() {
                if let Some(g) = op.guard().and_then(|g| g.id) {
                    out.entry(g).or_insert((j, id));
                }
            }
        }
        out
    }

    /// The entry facts of a bridge from guard `op` of optimized trace `j`.
    fn facts_at(&self, j: usize, op: OpId) -> Vec<crate::bridge_facts::EntryFact> {
        let m = self.traces[j].module.as_ref().expect("indexed traces imported");
        crate::bridge_facts::facts_at_guard(m, &m.traces[first_trace()], op)
    }

    /// Pairs each optimized trace with the recorded one before it, then names both.
    fn pair_and_name(&mut self) {
        let mut pending: Option<usize> = None;
        for i in 0..self.traces.len() {
            match self.traces[i].stage {
                Stage::Recorded => pending = Some(i),
                Stage::Optimized => {
                    if let Some(p) = pending.take() {
                        self.traces[p].pair = Some(i);
                        self.traces[i].pair = Some(p);
                        self.traces[p].origin = self.traces[i].origin.clone();
                    }
                }
            }
        }
        let mut unknown = 0;
        for t in &mut self.traces {
            let base = match &t.origin {
                Origin::Loop { number, .. } => format!("loop{number}"),
                Origin::Bridge { guard } => format!("bridge_{guard:x}"),
                Origin::Unknown => {
                    unknown += 1;
                    format!("trace{unknown}")
                }
            };
            t.name = format!("{base}.{}", t.stage.suffix());
        }
        self.dedup_names();
    }

    /// PyPy may log the same loop number twice (a retrace); keep names unique.
    fn dedup_names(&mut self) {
        let mut seen: HashMap<String, usize> = HashMap::new();
        for t in &mut self.traces {
            let n = seen.entry(t.name.clone()).or_insert(0);
            *n += 1;
            if *n > 1 {
                t.name = format!("{}.{}", t.name, n);
            }
        }
    }

    /// Gives each trace its final name and kind, declares the labels it jumps to, verifies.
    fn link_and_verify(&mut self) {
        let labels = self.label_types();
        // Before verifying: the verifier rejects overlapping fields, and a byte flag's width
        // is known only from the next field of its struct anywhere in the log.
        facts::field_sizes_from_offsets(self.traces.iter_mut().filter_map(|t| t.module.as_mut()).collect());
        for t in &mut self.traces {
            let Some(m) = &mut t.module else { continue };
            let trace = &mut m.traces[first_trace()];
            trace.name = t.name.clone();
            if let Origin::Bridge { guard } = t.origin {
                trace.kind = TraceKind::Bridge { guard };
            }
            declare_externs(m, &labels);
            if let Err(errors) = verify(m) {
                t.errors = shift(errors, t.body_start);
                t.module = None;
                continue;
            }
            // Only on verified traces: the facts read ops as well formed.
            facts::known_vtables(m);
            facts::one_name_per_object(m);
        }
    }

    /// Parameter types of every label in the log, by token.
    fn label_types(&self) -> HashMap<Target, Vec<Type>> {
        let mut out = HashMap::new();
        for m in self.traces.iter().filter_map(|t| t.module.as_ref()) {
            for t in m.traces.values() {
                for (_, l) in t.labels() {
                    out.insert(l.token, l.params.iter().map(|&p| t.ty(p)).collect());
                }
            }
        }
        out
    }

    /// Looks a trace up by index (`3`) or name (`loop1.opt`).
    pub fn find(&self, selector: &str) -> Option<usize> {
        if let Ok(i) = selector.parse::<usize>() {
            return (i < self.traces.len()).then_some(i);
        }
        self.traces.iter().position(|t| t.name == selector)
    }

    /// Every trace that imported, in one module (descrs shared, names kept).
    pub fn combined(&self) -> Module {
        let mut m = Module::new();
        for t in self.traces.iter().filter_map(|t| t.module.as_ref()) {
            copy_trace(&mut m, t, first_trace());
        }
        // Labels defined in the combined module need no extern declaration.
        let defined: Vec<Target> = m.traces.values().flat_map(|t| t.labels().map(|(_, l)| l.token)).collect();
        m.externs.retain(|e| !defined.contains(&e.token));
        m
    }

    pub fn all_ok(&self) -> bool {
        self.problems.is_empty() && self.traces.iter().all(LogTrace::ok)
    }
}

fn first_trace() -> tracelab_ir::TraceId {
    <tracelab_ir::TraceId as tracelab_ir::entity::EntityRef>::new(0)
}

/// Parses one section's body into a one-trace module (not yet verified or named).
fn parse_section(log: &str, s: &Section, stage: Stage) -> LogTrace {
    let body = body_text(log, s);
    let (origin, header_ops) = header(&body);
    let mut t = LogTrace {
        name: String::new(),
        stage,
        origin,
        line: s.line,
        header_ops,
        body_start: s.body.start,
        pair: None,
        module: None,
        errors: Vec::new(),
        entry_facts: 0,
    };
    match parse(&body) {
        Ok(m) if m.traces.len() == 1 => t.module = Some(m),
        Ok(_) => t.errors.push(Diagnostic::new(s.opener, "the section holds no trace").label("empty section")),
        Err(errors) => t.errors = shift(errors, s.body.start),
    }
    if !s.closed && t.errors.is_empty() {
        t.errors.push(Diagnostic::new(s.opener, "the section is cut short").label("never closed"));
        t.module = None;
    }
    t
}

/// Diagnostics about a section body, moved to their place in the whole log.
fn shift(errors: Vec<Diagnostic>, by: usize) -> Vec<Diagnostic> {
    errors
        .into_iter()
        .map(|mut d| {
            if !d.span.is_none() {
                d.span = Span::new(d.span.start as usize + by, d.span.end as usize + by);
            }
            d
        })
        .collect()
}

/// Reads the `# ...` header comment of a section.
fn header(body: &str) -> (Origin, Option<usize>) {
    let Some(line) = body.lines().map(str::trim).find(|l| l.starts_with('#')) else {
        return (Origin::Unknown, None);
    };
    let ops = line.rsplit_once(" with ").and_then(|(_, r)| r.strip_suffix(" ops")).and_then(|n| n.trim().parse().ok());
    if let Some(rest) = line.strip_prefix("# Loop ") {
        let number = rest.split_whitespace().next().and_then(|n| n.parse().ok());
        let greenkey = rest.find('(').zip(rest.rfind(')')).map(|(a, b)| rest[a + 1..b].to_string()).unwrap_or_default();
        let entry_bridge = rest.contains(": entry bridge");
        if let Some(number) = number {
            return (Origin::Loop { number, greenkey, entry_bridge }, ops);
        }
    }
    if let Some(rest) = line.strip_prefix("# bridge out of Guard ") {
        let hex = rest.split_whitespace().next().unwrap_or("");
        if let Ok(guard) = u64::from_str_radix(hex.trim_start_matches("0x"), 16) {
            return (Origin::Bridge { guard }, ops);
        }
    }
    (Origin::Unknown, ops)
}

/// Declares `extern` every label a jump of `m` enters that `m` does not define.
fn declare_externs(m: &mut Module, labels: &HashMap<Target, Vec<Type>>) {
    let defined: Vec<Target> = m.traces.values().flat_map(|t| t.labels().map(|(_, l)| l.token)).collect();
    let mut wanted = Vec::new();
    for t in m.traces.values() {
        for op in t.ops.values().filter(|o| o.opcode == Opcode::Jump) {
            let Some(target @ Target::Token(_)) = op.jump_target() else { continue };
            if defined.contains(&target) || wanted.iter().any(|e: &ExternLabel| e.token == target) {
                continue;
            }
            // The label's types from the log, or (if its loop is not in the log) the jump's own.
            let params = labels.get(&target).cloned().unwrap_or_else(|| op.args.iter().map(|&a| t.ty(a)).collect());
            wanted.push(ExternLabel { token: target, params });
        }
    }
    for e in wanted {
        if !m.externs.iter().any(|x| x.token == e.token) {
            m.externs.push(e);
        }
    }
}

/// Op counts for a trace: all ops (what PyPy's header counts) and guards.
pub fn counts(m: &Module) -> (usize, usize) {
    let t = &m.traces[first_trace()];
    let guards = t.ops.values().filter(|o| o.opcode.is_guard()).count();
    (t.ops.len(), guards)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOG: &str = "\
[1] {jit-log-noopt
# Traced loop or bridge with 3 ops
[i0]
i1 = int_add(i0, 1)
guard_true(i1)
jump(i1, descr=<Loop-1>)
[2] jit-log-noopt}
[3] {jit-log-opt-loop
# Loop 4 (f;x.py:1~#0 LOAD_FAST) : loop with 3 ops
[i0]
+10: label(i0, descr=TargetToken(77))
+12: i1 = int_add(i0, 1)
+20: jump(i1, descr=TargetToken(77))
+30: --end of the loop--
[4] jit-log-opt-loop}
[5] {jit-log-opt-bridge
# bridge out of Guard 0x7f01 with 2 ops
[i0]
+1: i1 = int_sub(i0, 1)
+2: jump(i1, descr=TargetToken(77))
[6] jit-log-opt-bridge}
";

    #[test]
    fn imports_pairs_and_names() {
        let log = PypyLog::import(LOG);
        assert!(log.all_ok(), "{:?}", log.traces.iter().map(|t| &t.errors).collect::<Vec<_>>());
        let names: Vec<&str> = log.traces.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["loop4.noopt", "loop4.opt", "bridge_7f01.opt"]);
        assert_eq!(log.traces[0].pair, Some(1));
        assert_eq!(log.traces[0].header_ops, Some(3));
        let bridge = log.traces[2].module.as_ref().unwrap();
        assert_eq!(bridge.externs[0].params, vec![Type::Int]);
        let all = log.combined();
        assert_eq!(all.traces.len(), 3);
        assert!(all.externs.is_empty());
        verify(&all).unwrap();
    }

    #[test]
    fn a_bad_section_is_located_and_skipped() {
        let bad = LOG.replace("+12: i1 = int_add(i0, 1)", "+12: i1 = int_frob(i0, 1)");
        let log = PypyLog::import(&bad);
        assert!(!log.traces[1].ok());
        let d = &log.traces[1].errors[0];
        assert_eq!(&bad[d.span.range()], "int_frob");
        assert!(log.traces[0].ok() && log.traces[2].ok());
    }
}

