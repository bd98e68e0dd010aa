//! Equivalence checking: run an original and a transformed module on the same seeded inputs
//! and compare what can be observed (the calls that are not elidable with their arguments, the
//! exit with its values or resumed state, and the heap reachable from the inputs and the exit).
//!
//! Inputs are learned on the original (see [`crate::learn`]) and the transformed module runs
//! with exactly the same constraints, so both start from the same state. A run out of fuel is
//! compared up to where it stopped; a run of the original that traps (undefined behaviour)
//! only requires the transformed one to make the same calls first.

use crate::interp::{Config, Exit, Interp};
use crate::learn::run_learning;
use crate::render::observable;
use tracelab_ir::{Module, TraceId, TraceKind};

#[derive(Debug, Default, Clone)]
pub struct Report {
    pub runs: u64,
    /// Loop iterations the original executed over all runs (0 means the loop was never entered).
    pub iterations: u64,
    /// Runs in which the original went round a loop at least once.
    pub looped: u64,
    /// Runs of the original that trapped before going round a loop: they compared only the
    /// way to the trap.
    pub early_traps: u64,
    /// The entry trace jumps back into itself: a run that never goes round compared only its
    /// way in.
    pub entry_loops: bool,
    pub finished: u64,
    pub guard_exits: u64,
    pub out_of_fuel: u64,
    pub traps: u64,
}

#[derive(Debug)]
pub struct Mismatch {
    pub seed: u64,
    pub inputs: String,
    pub original: String,
    pub transformed: String,
}

impl std::fmt::Display for Mismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "behaviour differs with seed {} ({})", self.seed, self.inputs)?;
        let (a, b): (Vec<&str>, Vec<&str>) = (self.original.lines().collect(), self.transformed.lines().collect());
        let first = a.iter().zip(&b).position(|(x, y)| x != y).unwrap_or(a.len().min(b.len()));
        writeln!(f, "first difference, line {}:", first + 1)?;
        writeln!(f, "  original:    {}", a.get(first).unwrap_or(&"(nothing)"))?;
        writeln!(f, "  transformed: {}", b.get(first).unwrap_or(&"(nothing)"))?;
        writeln!(f, "--- original\n{}--- transformed\n{}", self.original, self.transformed)
    }
}

impl Report {
    /// Why these runs compared too little to call two modules equivalent, if they did: most
    /// runs trapped before reaching anything comparable, or the entry is a loop and most runs
    /// never went round it.
    pub fn too_little(&self) -> Option<String> {
        if self.runs == 0 {
            return None;
        }
        if self.early_traps * 2 > self.runs {
            return Some(format!("{} of {} runs trapped before going round a loop", self.early_traps, self.runs));
        }
        if self.entry_loops && self.looped * 2 < self.runs {
            return Some(format!("the loop went round in only {} of {} runs", self.looped, self.runs));
        }
        None
    }

    /// One line: how the runs of the original ended and how many went round the loop.
    pub fn summary(&self) -> String {
        format!(
            "{} runs: {} went round the loop ({} iterations in all); {} finished, {} left by a guard, {} out of fuel, {} trapped",
            self.runs, self.looped, self.iterations, self.finished, self.guard_exits, self.out_of_fuel, self.traps
        )
    }
}

/// Whether trace `tid` jumps back into itself (to its start or one of its labels).
fn jumps_into_itself(m: &Module, tid: TraceId) -> bool {
    let t = &m.traces[tid];
    let own: Vec<tracelab_ir::Target> = t.labels().map(|(_, l)| l.token).collect();
    t.ops.values().filter_map(|op| op.jump_target()).any(|j| j == tracelab_ir::Target::SELF_START || own.contains(&j))
}

/// The trace a module runs from: `name` if given, else its first loop.
pub fn entry(m: &Module, name: Option<&str>) -> Option<TraceId> {
    match name {
        Some(n) => m.trace_by_name(n),
        None => m.traces.iter().find(|(_, t)| t.kind == TraceKind::Loop).map(|(id, _)| id).or_else(|| m.traces.keys().next()),
    }
}

/// Compares `a` and `b` on `seeds` seeds starting at `first_seed`.
pub fn check(a: &Module, b: &Module, name: Option<&str>, first_seed: u64, seeds: u64, cfg: &Config) -> Result<Report, Mismatch> {
    let (ta, tb) = match (entry(a, name), entry(b, name)) {
        (Some(ta), Some(tb)) => (ta, tb),
        // Two modules with nothing to run behave alike (zero runs).
        (None, None) if name.is_none() => return Ok(Report::default()),
        (ea, eb) => {
            let say = |e: Option<TraceId>| if e.is_some() { "an entry trace\n" } else { "no entry trace\n" };
            return Err(Mismatch { seed: 0, inputs: String::new(), original: say(ea).into(), transformed: say(eb).into() });
        }
    };
    let mut report = Report { entry_loops: jumps_into_itself(a, ta), ..Report::default() };
    for seed in first_seed..first_seed + seeds {
        let cfg = Config { seed, ..cfg.clone() };
        let (ra, constraints) = run_learning(a, ta, &cfg);
        let rb = Interp::new(b, Config { constraints, ..cfg.clone() }).run(tb);
        let (oa, ob) = (observable(&ra), observable(&rb));
        report.runs += 1;
        report.iterations += ra.iterations;
        report.looped += u64::from(ra.iterations > 0);
        match ra.exit {
            Exit::Finish(_) => report.finished += 1,
            Exit::GuardFailed { .. } => report.guard_exits += 1,
            Exit::OutOfFuel => report.out_of_fuel += 1,
            Exit::Trap(_) => {
                report.traps += 1;
                report.early_traps += u64::from(ra.iterations == 0);
            }
        }
        // A run that ran out of fuel stopped at an arbitrary point: only what happened before
        // (its calls) must agree, as a prefix.
        let comparable = if matches!(ra.exit, Exit::OutOfFuel) || matches!(rb.exit, Exit::OutOfFuel) {
            let ea = oa.split("exit:").next().unwrap_or("");
            let eb = ob.split("exit:").next().unwrap_or("");
            ea.starts_with(eb) || eb.starts_with(ea)
        } else if matches!(ra.exit, Exit::Trap(_)) {
            // A trap (an access out of bounds, through null, a division by zero) is undefined
            // behaviour, as in LLVM: the original's calls up to it must happen, but after it the
            // transformed trace may do anything (trap elsewhere, or not at all once an unused
            // access is gone) and leave memory as it likes (a delayed write not done yet).
            let ea = oa.split("exit:").next().unwrap_or("");
            ob.split("exit:").next().unwrap_or("").starts_with(ea)
        } else {
            oa == ob
        };
        if !comparable {
            let inputs = oa.lines().next().unwrap_or("").to_string();
            return Err(Mismatch { seed, inputs, original: oa, transformed: ob });
        }
    }
    Ok(report)
}
