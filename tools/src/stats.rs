//! `tracelab stats`: op counts by opcode and by kind.

use std::collections::BTreeMap;
use std::fmt::Write;
use tracelab_ir::{Module, Trace};

#[derive(Default)]
struct Counts {
    by_opcode: BTreeMap<&'static str, usize>,
    by_kind: BTreeMap<&'static str, usize>,
    ops: usize,
    guards_with_resume: usize,
}

impl Counts {
    fn add(&mut self, t: &Trace) {
        for op in t.ops.values() {
            self.ops += 1;
            *self.by_opcode.entry(op.opcode.name()).or_default() += 1;
            *self.by_kind.entry(op.opcode.kind_name()).or_default() += 1;
            if op.guard().is_some_and(|g| g.resume.is_some()) {
                self.guards_with_resume += 1;
            }
        }
    }

    fn write(&self, out: &mut String, title: &str) {
        let _ = writeln!(out, "{title}: {} ops", self.ops);
        let _ = writeln!(out, "  by kind:");
        for (k, n) in &self.by_kind {
            let _ = writeln!(out, "    {k:<12} {n:>8}");
        }
        if self.guards_with_resume > 0 {
            let _ = writeln!(out, "    {:<12} {:>8}", "(resume)", self.guards_with_resume);
        }
        let _ = writeln!(out, "  by opcode:");
        let mut ops: Vec<_> = self.by_opcode.iter().collect();
        ops.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        for (op, n) in ops {
            let _ = writeln!(out, "    {op:<32} {n:>8}");
        }
    }
}

/// The report: one section per trace, then totals when there are several.
pub fn report(m: &Module) -> String {
    let mut out = String::new();
    let mut total = Counts::default();
    for t in m.traces.values() {
        let mut c = Counts::default();
        c.add(t);
        total.add(t);
        c.write(&mut out, &format!("trace {}", t.name));
    }
    if m.traces.len() > 1 {
        total.write(&mut out, &format!("total ({} traces)", m.traces.len()));
    }
    out
}
