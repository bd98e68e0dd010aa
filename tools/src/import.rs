//! `tracelab import-pypy`: a PyPy log to one `.trace` file per loop and bridge (both stages),
//! an index, and a summary table.

use crate::input::{Input, InputError};
use crate::Io;
use std::fmt::Write;
use std::path::Path;
use tracelab_frontends::pypy_log::{counts, LogTrace, Origin, PypyLog, Stage};
use tracelab_ir::print_module;

pub struct Options<'a> {
    pub out_dir: Option<&'a str>,
    pub summary: bool,
}

/// Imports; returns true if everything imported cleanly.
pub fn run(io: &mut Io, path: &str, opts: Options<'_>) -> Result<bool, InputError> {
    let input = Input::read(path)?;
    let log = PypyLog::import(&input.text);
    report_failures(io, &input, &log);
    if let Some(dir) = opts.out_dir {
        write_dir(&log, Path::new(dir)).map_err(|e| InputError(format!("error: {dir}: {e}")))?;
        let ok = log.traces.iter().filter(|t| t.ok()).count();
        io_errln!(io, "wrote {ok} of {} traces to {dir} (index: {dir}/index.tsv)", log.traces.len());
    }
    if opts.summary || opts.out_dir.is_none() {
        io_out!(io, "{}", summary(&log));
    }
    Ok(log.all_ok())
}

fn report_failures(io: &mut Io, input: &Input, log: &PypyLog) {
    if !log.problems.is_empty() {
        io_err!(io, "{}", input.render(&log.problems));
    }
    for t in log.traces.iter().filter(|t| !t.ok()) {
        io_errln!(io, "skipped {} (section at line {}):", t.name, t.line);
        io_err!(io, "{}", input.render(&t.errors));
    }
}

fn write_dir(log: &PypyLog, dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let mut index = String::from("index\tname\tstage\tkind\tlog_line\tops\tguards\tpair\tstatus\tfile\n");
    for (i, t) in log.traces.iter().enumerate() {
        let file = format!("{}.trace", t.name);
        let (ops, guards) = t.module.as_ref().map_or((String::new(), String::new()), |m| {
            let (o, g) = counts(m);
            (o.to_string(), g.to_string())
        });
        let status = match t.errors.first() {
            None => "ok".to_string(),
            Some(e) => format!("error: {}", e.message.replace(['\t', '\n'], " ")),
        };
        if let Some(m) = &t.module {
            std::fs::write(dir.join(&file), print_module(m))?;
        }
        let pair = t.pair.map_or(String::new(), |p| log.traces[p].name.clone());
        let file = if t.ok() { file } else { String::new() };
        let _ = writeln!(index, "{i}\t{}\t{}\t{}\t{}\t{ops}\t{guards}\t{pair}\t{status}\t{file}", t.name, t.stage.suffix(), kind(t), t.line);
    }
    std::fs::write(dir.join("index.tsv"), index)
}

fn kind(t: &LogTrace) -> &'static str {
    match &t.origin {
        Origin::Loop { entry_bridge: true, .. } => "entry bridge",
        Origin::Loop { .. } => "loop",
        Origin::Bridge { .. } => "bridge",
        Origin::Unknown => "unknown",
    }
}

/// One row per loop or bridge: its recorded and optimized traces side by side.
pub fn summary(log: &PypyLog) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{:>5} {:>5}  {:<24} {:<12} {:>6} {:>9} {:>9} {:>6}  status", "noopt", "opt", "name", "kind", "line", "recorded", "optimized", "guards");
    let (mut rows, mut rec_total, mut opt_total, mut guard_total, mut clean) = (0, 0, 0, 0, 0);
    for (i, t) in log.traces.iter().enumerate() {
        // A row is anchored at the optimized trace, or at a recorded trace with no optimized pair.
        if t.stage == Stage::Recorded && t.pair.is_some() {
            continue;
        }
        let (rec, opt) = match t.stage {
            Stage::Optimized => (t.pair, Some(i)),
            Stage::Recorded => (Some(i), None),
        };
        let count = |j: Option<usize>| j.and_then(|j| log.traces[j].logged_counts());
        let (rc, oc) = (count(rec), count(opt));
        let idx = |j: Option<usize>| j.map_or("-".to_string(), |j| j.to_string());
        let num = |c: Option<(usize, usize)>, f: fn((usize, usize)) -> usize| c.map_or("-".to_string(), |c| f(c).to_string());
        let ok = [rec, opt].iter().flatten().all(|&j| log.traces[j].ok());
        let status = if ok { "ok".to_string() } else { failed_lines(log, [rec, opt]) };
        let name = t.name.rsplit_once('.').map_or(t.name.as_str(), |(base, _)| base);
        let _ = writeln!(out, "{:>5} {:>5}  {:<24} {:<12} {:>6} {:>9} {:>9} {:>6}  {status}",
            idx(rec), idx(opt), name, kind(t), t.line, num(rc, |c| c.0), num(oc, |c| c.0), num(oc, |c| c.1));
        rows += 1;
        clean += usize::from(ok);
        rec_total += rc.map_or(0, |c| c.0);
        opt_total += oc.map_or(0, |c| c.0);
        guard_total += oc.map_or(0, |c| c.1);
    }
    let _ = writeln!(out, "total: {rows} loops and bridges ({} traces), {rec_total} ops recorded, {opt_total} after PyPy's optimizer, {guard_total} guards; {clean} imported cleanly, {} with errors",
        log.traces.len(), rows - clean);
    if !log.problems.is_empty() {
        let _ = writeln!(out, "log structure: {} problem(s) (see stderr)", log.problems.len());
    }
    out
}

fn failed_lines(log: &PypyLog, which: [Option<usize>; 2]) -> String {
    let bad: Vec<String> = which.iter().flatten().filter(|&&j| !log.traces[j].ok()).map(|&j| format!("{} failed", log.traces[j].stage.suffix())).collect();
    format!("error: {}", bad.join(", "))
}
