//! `tracelab run --native` and `tracelab compile`: the Cranelift backend from the command line.

use crate::input::{self, InputError};
use crate::Io;
use tracelab_backend::{compile_traces, Keep, OptLevel, Regalloc, Settings};
use tracelab_ir::{Module, TraceId};
use tracelab_runtime::interp::{Config, Run};
use tracelab_runtime::learn::run_learning;

/// Cranelift's settings: compile time against code quality.
#[derive(clap::Args, Clone, Debug)]
pub struct ClOptions {
    /// Cranelift's optimization level.
    #[arg(long = "cl-opt", value_enum, default_value_t = ClOpt::Speed)]
    pub opt: ClOpt,
    /// Cranelift's register allocator.
    #[arg(long = "cl-regalloc", value_enum, default_value_t = ClRegalloc::Backtracking)]
    pub regalloc: ClRegalloc,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum ClOpt {
    None,
    Speed,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum ClRegalloc {
    Backtracking,
    SinglePass,
}

impl ClOptions {
    pub fn settings(&self) -> Settings {
        Settings {
            opt: match self.opt {
                ClOpt::None => OptLevel::None,
                ClOpt::Speed => OptLevel::Speed,
            },
            regalloc: match self.regalloc {
                ClRegalloc::Backtracking => Regalloc::Backtracking,
                ClRegalloc::SinglePass => Regalloc::SinglePass,
            },
        }
    }
}

impl Default for ClOptions {
    fn default() -> ClOptions {
        ClOptions { opt: ClOpt::Speed, regalloc: ClRegalloc::Backtracking }
    }
}

/// Runs `tid` natively with the inputs the interpreter would use: with `learn`, the
/// interpreter learns them first (the same rounds `tracelab run` does), then compiled code runs
/// with what it learned.
pub fn run_native(m: &Module, tid: TraceId, cfg: &Config, learn: bool, settings: Settings) -> Result<Run, InputError> {
    let mut cfg = cfg.clone();
    if learn {
        cfg.constraints = run_learning(m, tid, &cfg).1;
    }
    tracelab_backend::run_native(m, tid, cfg, settings).map_err(|e| InputError(format!("error: {e}")))
}

pub struct CompileArgs<'a> {
    pub file: &'a str,
    pub trace: Option<&'a str>,
    pub clif: bool,
    pub asm: bool,
    pub time_passes: bool,
    pub cl: &'a ClOptions,
}

/// `tracelab compile FILE`: compiles every trace (or `--trace`), prints what was asked for and
/// a summary line per trace.
pub fn run(io: &mut Io, a: CompileArgs) -> Result<u8, InputError> {
    let m = input::load(a.file)?;
    let tids: Vec<TraceId> = match a.trace {
        Some(name) => vec![m.trace_by_name(name).ok_or_else(|| InputError(format!("error: no trace `{name}` in {}", a.file)))?],
        None => m.traces.iter().map(|(t, _)| t).collect(),
    };
    let settings = a.cl.settings();
    let code = compile_traces(&m, &tids, settings, Keep { clif: a.clif, asm: a.asm }).map_err(|e| InputError(format!("error: {e}")))?;
    let (mut lower, mut cranelift) = (std::time::Duration::ZERO, std::time::Duration::ZERO);
    for tid in tids {
        let t = &m.traces[tid];
        let c = code.trace(tid).expect("compiled above");
        if let Some(clif) = &c.clif {
            io_outln!(io, "; Cranelift IR of `{}`\n{clif}", t.name);
        }
        if let Some(asm) = &c.asm {
            io_outln!(io, "; machine code of `{}`\n{asm}", t.name);
        }
        let s = &c.stats;
        io_outln!(
            io,
            "compiled `{}`: {} ops ({} native, {} through the runtime), {} guards, {} exits, {} entries, {} bytes of code",
            t.name,
            t.ops.len(),
            s.native_ops + s.guards,
            s.runtime_ops,
            s.guards,
            c.exits.len(),
            c.entries.len(),
            c.code_size
        );
        lower += c.lower_time;
        cranelift += c.codegen_time;
    }
    if a.time_passes {
        let ms = |d: std::time::Duration| d.as_secs_f64() * 1e3;
        io_errln!(io, "{:<24} {:>10}", "phase", "time (ms)");
        io_errln!(io, "{:<24} {:>10.3}", "lower to Cranelift IR", ms(lower));
        io_errln!(io, "{:<24} {:>10.3}", "Cranelift", ms(cranelift));
        io_errln!(io, "{:<24} {:>10.3}", "link", ms(code.link_time));
        io_errln!(io, "{:<24} {:>10.3}", "total", ms(lower + cranelift + code.link_time));
    }
    Ok(0)
}
