//! `tracelab compare-pypy LOG`: for every loop and bridge of a PyPy log, what tracelab's `-O`
//! makes of the recorded trace against what PyPy's optimizer made of it, with an equivalence
//! check of tracelab's result against the recorded trace.
//!
//! Ops are counted without the markers that generate no code (`debug_merge_point`,
//! `enter_portal_frame`, `leave_portal_frame`, `jit_debug`, `keepalive`). A trace with labels is
//! split at its last label into preamble and loop body; a trace without one is all body.

use crate::input::{Input, InputError};
use crate::Io;
use std::fmt::Write;
use tracelab_frontends::pypy_log::{LogTrace, PypyLog, Stage};
use tracelab_ir::{Module, Opcode};
use tracelab_passes::manager::{self, Options, Step};
use tracelab_passes::DEFAULT_PIPELINE;

fn uncounted(op: Opcode) -> bool {
    matches!(op, Opcode::DebugMergePoint | Opcode::EnterPortalFrame | Opcode::LeavePortalFrame | Opcode::JitDebug | Opcode::Keepalive)
}

/// (preamble ops, body ops, guards) of a one-trace module.
fn split(m: &Module) -> (usize, usize, usize) {
    let t = m.traces.values().next().expect("one trace");
    let last_label = t.ops.iter().filter(|(_, o)| o.opcode == Opcode::Label).map(|(id, _)| id).last();
    let (mut pre, mut body, mut guards) = (0, 0, 0);
    for (id, op) in t.ops.iter() {
        if uncounted(op.opcode) || op.opcode == Opcode::Label {
            continue;
        }
        guards += usize::from(op.opcode.is_guard());
        if last_label.is_some_and(|l| id < l) {
            pre += 1;
        } else {
            body += 1;
        }
    }
    (pre, body, guards)
}

struct Row {
    name: String,
    noopt: usize,
    ours: (usize, usize, usize),
    pypy: Option<(usize, usize, usize)>,
    equivalent: Result<(), String>,
}

pub fn run(io: &mut Io, path: &str, json: bool, seeds: u64) -> Result<u8, InputError> {
    let input = Input::read(path)?;
    let log = PypyLog::import(&input.text);
    let rows: Vec<Row> = log.traces.iter().filter(|t| t.stage == Stage::Recorded).filter_map(|t| row(&log, t, seeds)).collect();
    if json {
        io.out.push_str(&to_json(&rows));
        io.out.push('\n');
    } else {
        io.out.push_str(&table(&rows));
    }
    Ok(u8::from(rows.iter().any(|r| r.equivalent.is_err())))
}

fn row(log: &PypyLog, t: &LogTrace, seeds: u64) -> Option<Row> {
    let recorded = t.module.as_ref()?;
    let (_, noopt, _) = split(recorded);
    let mut ours = recorded.clone();
    let steps: Vec<Step> = DEFAULT_PIPELINE.iter().map(|p| Step::new(p)).collect();
    let opts = Options { verify_each: true, ..Options::default() };
    let equivalent = match manager::run(&mut ours, &steps, &opts) {
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
    let mut s = String::from("ops exclude debug_merge_point, enter/leave_portal_frame, jit_debug, keepalive\n");
    let _ = writeln!(s, "{:<24} {:>6} {:>9} {:>9} {:>9} {:>9} {:>7} {:>7} {:>6}  equivalent", "name", "noopt", "ours.pre", "ours.body", "pypy.pre", "pypy.body", "g.ours", "g.pypy", "ratio");
    let (mut t_noopt, mut t_ob, mut t_pb, mut bad) = (0, 0, 0, 0);
    for r in rows {
        let (pp, pb, pg) = r.pypy.unwrap_or((0, 0, 0));
        let eq = match &r.equivalent {
            Ok(()) => "yes".to_string(),
            Err(e) => {
                bad += 1;
                format!("NO: {}", e.lines().next().unwrap_or(""))
            }
        };
        let _ = writeln!(s, "{:<24} {:>6} {:>9} {:>9} {:>9} {:>9} {:>7} {:>7} {:>6}  {eq}", r.name, r.noopt, r.ours.0, r.ours.1, pp, pb, r.ours.2, pg, ratio(r.ours.1, pb));
        t_noopt += r.noopt;
        t_ob += r.ours.1;
        t_pb += pb;
    }
    let _ = writeln!(s, "total: {} loops and bridges, {t_noopt} ops recorded, loop-body ops {t_ob} (tracelab) vs {t_pb} (PyPy), ratio {}; {bad} not equivalent", rows.len(), ratio(t_ob, t_pb));
    s
}

fn to_json(rows: &[Row]) -> String {
    let esc = |s: &str| s.replace('\\', "\\\\").replace('"', "\\\"");
    let items: Vec<String> = rows
        .iter()
        .map(|r| {
            let (pp, pb, pg) = r.pypy.unwrap_or((0, 0, 0));
            format!(
                "{{\"name\": \"{}\", \"noopt_ops\": {}, \"tracelab_preamble_ops\": {}, \"tracelab_body_ops\": {}, \"pypy_preamble_ops\": {pp}, \"pypy_body_ops\": {pb}, \"tracelab_guards\": {}, \"pypy_guards\": {pg}, \"equivalent\": {}}}",
                esc(&r.name), r.noopt, r.ours.0, r.ours.1, r.ours.2, r.equivalent.is_ok()
            )
        })
        .collect();
    format!("[{}]", items.join(",\n "))
}
