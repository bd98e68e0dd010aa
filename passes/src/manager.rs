//! The pass manager: runs a pipeline of registered passes over a module, verifying after each
//! pass (an invalid result names the pass that made it), and records what each pass did: op
//! and guard counts before and after, time, the pass's own counters and remarks, and the module
//! text after it when asked to print.

use crate::{find, PassContext, PassOptions, Stats, REGISTRY};
use std::time::{Duration, Instant};
use tracelab_ir::{print_module, verify, Diagnostic, Module};

#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Verify after every pass (on by default in the CLI).
    pub verify_each: bool,
    pub print_after_all: bool,
    /// Print after the passes with these names.
    pub print_after: Vec<String>,
    /// Print a unified diff after each pass that changed the module.
    pub print_changed: bool,
    /// Collect every remark (`--remarks`); without it, passes may leave out the per-op ones.
    pub remarks: bool,
    /// Count ops and guards before and after each pass (`--stats`): a walk over the module
    /// per pass, so only when asked.
    pub count: bool,
}

/// What one pass did.
#[derive(Debug)]
pub struct PassReport {
    pub pass: &'static str,
    /// Ops and guards before and after the pass, if [`Options::count`] asked for them.
    pub counts: Option<Counts>,
    pub time: Duration,
    pub stats: Stats,
    pub remarks: Vec<String>,
    /// Text printed after the pass (`--print-after*`, `--print-changed`), if asked for.
    pub dump: Option<String>,
}

/// Ops and guards in a module before and after a pass.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Counts {
    pub ops_before: usize,
    pub ops_after: usize,
    pub guards_before: usize,
    pub guards_after: usize,
}

/// One step of a pipeline: a pass and its options.
#[derive(Clone, Debug)]
pub struct Step {
    pub pass: &'static str,
    pub options: PassOptions,
}

impl Step {
    pub fn new(pass: &'static str) -> Step {
        Step { pass, options: PassOptions::new() }
    }
}

#[derive(Debug)]
pub enum Error {
    /// A pipeline names a pass that does not exist.
    UnknownPass(String),
    /// A pass's options are not right.
    BadOptions(String),
    /// A pass produced IR that does not verify.
    Invalid { pass: &'static str, diagnostics: Vec<Diagnostic>, text: String },
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::UnknownPass(p) => {
                let names: Vec<&str> = REGISTRY.iter().map(|p| p.name).collect();
                write!(f, "unknown pass `{p}` (passes: {})", names.join(", "))
            }
            Error::BadOptions(why) => f.write_str(why),
            Error::Invalid { pass, diagnostics, .. } => {
                writeln!(f, "pass `{pass}` produced invalid IR:")?;
                for d in diagnostics {
                    writeln!(f, "  error: {}", d.message)?;
                    for n in &d.notes {
                        writeln!(f, "    = {n}")?;
                    }
                }
                Ok(())
            }
        }
    }
}

/// Splits `a,b<k=v;k=v>,c` into steps, checking each pass exists and takes its options.
pub fn parse_pipeline(text: &str) -> Result<Vec<Step>, Error> {
    let mut out = Vec::new();
    for item in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let (name, opts) = match item.split_once('<') {
            Some((n, rest)) => {
                let body = rest.strip_suffix('>').ok_or_else(|| Error::BadOptions(format!("`{item}`: options end with `>`")))?;
                let mut opts = PassOptions::new();
                for kv in body.split(';').map(str::trim).filter(|s| !s.is_empty()) {
                    let (k, v) = kv.split_once('=').ok_or_else(|| Error::BadOptions(format!("`{kv}`: options are key=value")))?;
                    opts.insert(k.trim().to_string(), v.trim().to_string());
                }
                (n, opts)
            }
            None => (item, PassOptions::new()),
        };
        let info = find(name).ok_or_else(|| Error::UnknownPass(name.to_string()))?;
        (info.make)(&opts).map_err(Error::BadOptions)?;
        out.push(Step { pass: info.name, options: opts });
    }
    Ok(out)
}

fn counts(m: &Module) -> (usize, usize) {
    let ops = m.traces.values().map(|t| t.ops.len()).sum();
    let guards = m.traces.values().map(|t| t.ops.unordered().filter(|(_, o)| o.opcode.is_guard()).count()).sum();
    (ops, guards)
}

/// Runs `pipeline` over `m` in order.
pub fn run(m: &mut Module, pipeline: &[Step], opts: &Options) -> Result<Vec<PassReport>, Error> {
    let mut reports = Vec::new();
    // Counted once per pass: what one pass leaves is what the next one gets.
    let mut counted = opts.count.then(|| counts(m));
    for step in pipeline {
        let info = find(step.pass).ok_or_else(|| Error::UnknownPass(step.pass.to_string()))?;
        let pass = (info.make)(&step.options).map_err(Error::BadOptions)?;
        let before_text = (opts.print_changed).then(|| print_module(m));
        let mut cx = PassContext::new(m, opts.remarks);
        let start = Instant::now();
        pass.run(m, &mut cx);
        let time = start.elapsed();
        if opts.verify_each {
            if let Err(diagnostics) = verify(m) {
                return Err(Error::Invalid { pass: info.name, diagnostics, text: print_module(m) });
            }
        }
        let before = counted;
        counted = opts.count.then(|| counts(m));
        let counts = before.zip(counted).map(|((ops_before, guards_before), (ops_after, guards_after))| Counts { ops_before, ops_after, guards_before, guards_after });
        let dump = dump_after(info.name, m, opts, before_text.as_deref());
        reports.push(PassReport {
            pass: info.name,
            counts,
            time,
            stats: cx.stats,
            remarks: cx.remarks,
            dump,
        });
    }
    // Passes leave removed ops' ids and values behind and number what they add after the rest:
    // once, at the end, ops and values are renumbered in order.
    m.compact();
    Ok(reports)
}

fn dump_after(pass: &str, m: &Module, opts: &Options, before: Option<&str>) -> Option<String> {
    if opts.print_after_all || opts.print_after.iter().any(|p| p == pass) {
        return Some(format!("; *** IR after {pass} ***\n{}", print_module(m)));
    }
    let before = before?;
    let after = print_module(m);
    if after == before {
        return None;
    }
    let diff = similar::TextDiff::from_lines(before, &after);
    Some(format!("; *** IR changed by {pass} ***\n{}", diff.unified_diff().context_radius(3).header("before", "after")))
}

/// `--time-passes`: time per pass and the total.
pub fn time_report(reports: &[PassReport]) -> String {
    let total: Duration = reports.iter().map(|r| r.time).sum();
    let mut s = String::from("pass                     time (ms)      %\n");
    for r in reports {
        let pct = if total.is_zero() { 0.0 } else { 100.0 * r.time.as_secs_f64() / total.as_secs_f64() };
        s.push_str(&format!("{:<24} {:>9.3} {:>6.1}\n", r.pass, r.time.as_secs_f64() * 1e3, pct));
    }
    s.push_str(&format!("{:<24} {:>9.3} {:>6.1}\n", "total", total.as_secs_f64() * 1e3, 100.0));
    s
}

/// `--stats`: ops and guards in and out of each pass (when counted), and each pass's own
/// counters.
pub fn stats_report(reports: &[PassReport]) -> String {
    let mut s = String::new();
    for r in reports {
        match r.counts {
            Some(c) => s.push_str(&format!("{}: ops {} -> {}, guards {} -> {}\n", r.pass, c.ops_before, c.ops_after, c.guards_before, c.guards_after)),
            None => s.push_str(&format!("{}:\n", r.pass)),
        }
        for (k, v) in &r.stats.0 {
            s.push_str(&format!("    {k}: {v}\n"));
        }
    }
    s
}
