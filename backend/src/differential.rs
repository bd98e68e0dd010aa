//! Differential testing: a trace run by compiled code must end exactly as the reference
//! interpreter ends it (exit, resumed state, calls, heap, op and iteration counts).

use crate::{compile, Compiled, Keep, Settings};
use tracelab_ir::{Module, TraceId};
use tracelab_runtime::interp::Config;
use tracelab_runtime::learn::run_learning;
use tracelab_runtime::render::report;

/// Runs `tid` from each of `seeds` seeds (from `cfg.seed` on) in the interpreter (learning
/// inputs as `tracelab run` does) and natively with the same inputs; the first difference,
/// with both reports, as the error. Returns how many runs were compared.
pub fn check_trace(m: &Module, tid: TraceId, seeds: u64, cfg: &Config, settings: Settings) -> Result<u64, String> {
    let code = compile(m, settings, Keep::default()).map_err(|e| format!("trace `{}`: {e}", m.traces[tid].name))?;
    check_compiled(m, &code, tid, seeds, cfg)
}

/// [`check_trace`] with code compiled already.
pub fn check_compiled(m: &Module, code: &Compiled, tid: TraceId, seeds: u64, cfg: &Config) -> Result<u64, String> {
    let name = &m.traces[tid].name;
    for seed in cfg.seed..cfg.seed + seeds {
        let mut c = cfg.clone();
        c.seed = seed;
        let (expected, constraints) = run_learning(m, tid, &c);
        c.constraints = constraints;
        let got = code.run(tid, c);
        let (want, have) = (report(&expected), report(&got));
        if want != have {
            return Err(format!("trace `{name}`, seed {seed}: compiled code and interpreter differ\n--- interpreter\n{want}--- native\n{have}"));
        }
    }
    Ok(seeds)
}

/// [`check_trace`] with every trace of `m` as the entry.
pub fn check_module(m: &Module, seeds: u64, cfg: &Config, settings: Settings) -> Result<u64, String> {
    let code = compile(m, settings, Keep::default()).map_err(|e| e.to_string())?;
    let mut n = 0;
    for (tid, _) in m.traces.iter() {
        n += check_compiled(m, &code, tid, seeds, cfg)?;
    }
    Ok(n)
}
