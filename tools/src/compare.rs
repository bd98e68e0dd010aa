//! `tracelab compare-pypy LOG`: for every loop and bridge of a PyPy log, what tracelab's `-O`
//! makes of the recorded trace against what PyPy's optimizer made of it, with an equivalence
//! check of tracelab's result against the recorded trace.
//!
//! Ops are counted without those that generate no code (`debug_merge_point`,
//! `enter_portal_frame`, `leave_portal_frame`, `jit_debug`, `keepalive`, `quasiimmut_field`,
//! and the statements `record_known_class`, `record_known_field` and `record_known_result`). A trace with labels is
//! split at its last label into preamble and loop body; a trace without one is all body. Loops
//! whose body is longer than PyPy's are listed with the opcodes that make the difference.

use crate::input::{Input, InputError};
use crate::Io;
use std::collections::BTreeMap;
use std::fmt::Write;
use tracelab_frontends::pypy_log::{LogTrace, PypyLog, Stage};
use tracelab_ir::{Module, Opcode};
use tracelab_passes::manager::{self, Options, Step};
use tracelab_passes::DEFAULT_PIPELINE;

/// Ops that generate no machine code: markers, and `quasiimmut_field`, which records that the
/// trace depends on a quasi-immutable field (PyPy's optimizer moves that into the loop token;
/// tracelab keeps one per field and object in the trace for a runtime to register), and
/// statements of facts (PyPy's optimizer consumes them; tracelab's passes read them and leave
/// them, as the statements the trace was optimized under).
fn uncounted(op: Opcode) -> bool {
    use Opcode::*;
    matches!(op, DebugMergePoint | EnterPortalFrame | LeavePortalFrame | JitDebug | Keepalive | QuasiimmutField | RecordKnownClass | RecordKnownField | RecordKnownResult)
}

/// Op counts of one trace.
#[derive(Default, Clone)]
pub struct Counts {
    pub preamble: usize,
    pub body: usize,
    pub guards: usize,
    /// Loop-body ops by opcode.
    pub body_ops: BTreeMap<Opcode, usize>,
}

/// Counts of a one-trace module, split at its last label.
fn split(m: &Module) -> Counts {
    let t = m.traces.values().next().expect("one trace");
    let last_label = t.ops.iter().filter(|(_, o)| o.opcode == Opcode::Label).map(|(id, _)| id).last();
    let mut c = Counts::default();
    for (id, op) in t.ops.iter() {
        if uncounted(op.opcode) || op.opcode == Opcode::Label {
            continue;
        }
        c.guards += usize::from(op.opcode.is_guard());
        if last_label.is_some_and(|l| id < l) {
            c.preamble += 1;
        } else {
            c.body += 1;
            *c.body_ops.entry(op.opcode).or_default() += 1;
        }
    }
    c
}

/// One loop or bridge of a log: recorded, after tracelab's `-O`, after PyPy.
pub struct Row {
    pub name: String,
    pub noopt: usize,
    pub ours: Counts,
    pub pypy: Option<Counts>,
    /// How the check's runs of the recorded trace went, or why the result is not equivalent.
    pub equivalent: Result<tracelab_runtime::equiv::Report, String>,
}

impl Row {
    /// Why the equivalence check compared too little, if it did.
    pub fn too_little(&self) -> Option<String> {
        self.equivalent.as_ref().ok().and_then(|r| r.too_little())
    }

    fn pypy(&self) -> Counts {
        self.pypy.clone().unwrap_or_default()
    }

    /// Opcodes of which tracelab's body has more than PyPy's, most first (at most `n`).
    fn excess(&self, n: usize) -> Vec<(Opcode, usize)> {
        let pypy = self.pypy();
        let mut out: Vec<(Opcode, usize)> = self
            .ours
            .body_ops
            .iter()
            .filter_map(|(&o, &k)| k.checked_sub(pypy.body_ops.get(&o).copied().unwrap_or(0)).filter(|&d| d > 0).map(|d| (o, d)))
            .collect();
        out.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.name().cmp(b.0.name())));
        out.truncate(n);
        out
    }
}

/// Every recorded loop and bridge of `log`, optimized with `steps` and checked on `seeds` seeds.
pub fn rows(log: &PypyLog, steps: &[Step], seeds: u64) -> Vec<Row> {
    log.traces.iter().filter(|t| t.stage == Stage::Recorded).filter_map(|t| row(log, t, steps, seeds)).collect()
}

/// The default pipeline, as steps.
pub fn default_steps() -> Vec<Step> {
    DEFAULT_PIPELINE.iter().map(|p| Step::new(p)).collect()
}

/// Exit 1 if a result is not equivalent, or (unless `allow_shallow`) if a check compared too
/// little to say.
pub fn run(io: &mut Io, path: &str, json: bool, seeds: u64, allow_shallow: bool, passes: Option<&str>) -> Result<u8, InputError> {
    let steps = match passes.map(manager::parse_pipeline) {
        None => default_steps(),
        Some(Ok(s)) => s,
        Some(Err(e)) => {
            io_errln!(io, "error: {e}");
            return Ok(2);
        }
    };
    let input = Input::read(path)?;
    let log = PypyLog::import(&input.text);
    let rows = rows(&log, &steps, seeds);
    if json {
        io.out.push_str(&to_json(&rows));
        io.out.push('\n');
    } else {
        io.out.push_str(&table(&rows));
    }
    let shallow = rows.iter().filter(|r| r.too_little().is_some()).count();
    if shallow > 0 {
        let how = if allow_shallow { "warning" } else { "error" };
        io_errln!(io, "{how}: {shallow} of {} checks compared too little to call the result equivalent (column `looped`: runs that went round the loop; `trap`: runs that trapped){}", rows.len(), if allow_shallow { "" } else { "; --allow-shallow accepts them" });
    }
    Ok(u8::from(rows.iter().any(|r| r.equivalent.is_err()) || (shallow > 0 && !allow_shallow)))
}

fn row(log: &PypyLog, t: &LogTrace, steps: &[Step], seeds: u64) -> Option<Row> {
    let recorded = t.module.as_ref()?;
    let noopt = split(recorded).body;
    let mut ours = recorded.clone();
    let opts = Options { verify_each: true, ..Options::default() };
    let equivalent = match manager::run(&mut ours, steps, &opts) {
        Ok(_) => crate::exec::equivalent(recorded, &ours, seeds),
        Err(e) => Err(e.to_string()),
    };
    let pypy = t.pair.and_then(|p| log.traces[p].module.as_ref()).map(split);
    let name = t.name.trim_end_matches(".noopt").to_string();
    Some(Row { name, noopt, ours: split(&ours), pypy, equivalent })
}

fn ratio(ours: usize, pypy: usize) -> String {
    if pypy == 0 { "-".into() } else { format!("{:.2}", ours as f64 / pypy as f64) }
}

fn table(rows: &[Row]) -> String {
    let mut s = String::from("ops exclude what generates no code: debug_merge_point, enter/leave_portal_frame, jit_debug, keepalive, quasiimmut_field\n");
    let _ = writeln!(s, "{:<24} {:>6} {:>9} {:>9} {:>9} {:>9} {:>7} {:>7} {:>6} {:>7} {:>5}  equivalent", "name", "noopt", "ours.pre", "ours.body", "pypy.pre", "pypy.body", "g.ours", "g.pypy", "ratio", "looped", "trap");
    let (mut t_noopt, mut t_ob, mut t_pb, mut bad) = (0, 0, 0, 0);
    for r in rows {
        let p = r.pypy();
        let (pp, pb, pg) = (p.preamble, p.body, p.guards);
        let (eq, looped, trap) = match &r.equivalent {
            Ok(rep) if rep.too_little().is_some() => ("shallow".to_string(), format!("{}/{}", rep.looped, rep.runs), rep.traps.to_string()),
            Ok(rep) => ("yes".to_string(), format!("{}/{}", rep.looped, rep.runs), rep.traps.to_string()),
            Err(e) => {
                bad += 1;
                (format!("NO: {}", e.lines().next().unwrap_or("")), "-".into(), "-".into())
            }
        };
        let _ = writeln!(s, "{:<24} {:>6} {:>9} {:>9} {:>9} {:>9} {:>7} {:>7} {:>6} {looped:>7} {trap:>5}  {eq}", r.name, r.noopt, r.ours.preamble, r.ours.body, pp, pb, r.ours.guards, pg, ratio(r.ours.body, pb));
        t_noopt += r.noopt;
        t_ob += r.ours.body;
        t_pb += pb;
    }
    let _ = writeln!(s, "total: {} loops and bridges, {t_noopt} ops recorded, loop-body ops {t_ob} (tracelab) vs {t_pb} (PyPy), ratio {}; {bad} not equivalent", rows.len(), ratio(t_ob, t_pb));
    let worse: Vec<&Row> = rows.iter().filter(|r| r.pypy.is_some() && r.ours.body > r.pypy().body).collect();
    if !worse.is_empty() {
        let _ = writeln!(s, "longer loop bodies than PyPy's (ops tracelab keeps beyond PyPy's count):");
        for r in worse {
            let why: Vec<String> = r.excess(5).iter().map(|(o, d)| format!("{o} +{d}")).collect();
            let _ = writeln!(s, "  {} (+{}): {}", r.name, r.ours.body - r.pypy().body, why.join(", "));
        }
    }
    s
}

fn to_json(rows: &[Row]) -> String {
    let esc = |s: &str| s.replace('\\', "\\\\").replace('"', "\\\"");
    let items: Vec<String> = rows
        .iter()
        .map(|r| {
            let p = r.pypy();
            let (pp, pb, pg) = (p.preamble, p.body, p.guards);
            let reach = match &r.equivalent {
                Ok(rep) => format!(", \"runs\": {}, \"looped\": {}, \"trapped\": {}, \"compared_too_little\": {}", rep.runs, rep.looped, rep.traps, rep.too_little().is_some()),
                Err(_) => String::new(),
            };
            format!(
                "{{\"name\": \"{}\", \"noopt_ops\": {}, \"tracelab_preamble_ops\": {}, \"tracelab_body_ops\": {}, \"pypy_preamble_ops\": {pp}, \"pypy_body_ops\": {pb}, \"tracelab_guards\": {}, \"pypy_guards\": {pg}, \"equivalent\": {}{reach}}}",
                esc(&r.name), r.noopt, r.ours.preamble, r.ours.body, r.ours.guards, r.equivalent.is_ok()
            )
        })
        .collect();
    format!("[{}]", items.join(",\n "))
}
