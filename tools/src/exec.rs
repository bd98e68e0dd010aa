//! `tracelab run` and `tracelab equiv`: executing traces with the reference interpreter.

use crate::input::{self, InputError};
use crate::Io;
use tracelab_ir::Module;
use tracelab_runtime::equiv::{self, entry};
use tracelab_runtime::interp::{Config, Interp};
use tracelab_runtime::learn::run_learning;
use tracelab_runtime::render::report;

/// Options shared by `run`, `equiv` and `opt --check`.
#[derive(clap::Args, Clone, Debug)]
pub struct RunOptions {
    /// The trace to start in (default: the first loop).
    #[arg(long)]
    pub trace: Option<String>,
    /// Seed of the generator that invents inputs and unknown memory.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Ops to execute before stopping.
    #[arg(long, default_value_t = 1_000_000)]
    pub fuel: u64,
}

impl RunOptions {
    fn config(&self, args: Vec<u64>) -> Config {
        Config { seed: self.seed, fuel: self.fuel, args, ..Config::default() }
    }
}

/// `--args 1,2.5,null`: ints, floats (as their bits), null.
fn parse_args(text: &str) -> Result<Vec<u64>, String> {
    text.split(',').map(str::trim).filter(|s| !s.is_empty()).map(|s| {
        if s == "null" {
            Ok(0)
        } else if let Ok(i) = s.parse::<i64>() {
            Ok(i as u64)
        } else if let Ok(f) = s.parse::<f64>() {
            Ok(f.to_bits())
        } else {
            Err(format!("--args: `{s}` is not an int, a float or null"))
        }
    }).collect()
}

fn entry_or_err(m: &Module, name: Option<&str>) -> Result<tracelab_ir::TraceId, InputError> {
    entry(m, name).ok_or_else(|| InputError(format!("error: no trace `{}` to run", name.unwrap_or("(loop)"))))
}

/// `tracelab run`; with `native`, compiled code runs instead of the interpreter.
pub fn run(io: &mut Io, file: &str, args: Option<&str>, learn: bool, native: Option<&crate::native::ClOptions>, opts: &RunOptions) -> Result<u8, InputError> {
    let m = input::load(file)?;
    let tid = entry_or_err(&m, opts.trace.as_deref())?;
    let args = match args.map(parse_args).transpose() {
        Ok(a) => a.unwrap_or_default(),
        Err(e) => {
            io_errln!(io, "error: {e}");
            return Ok(2);
        }
    };
    let cfg = opts.config(args);
    let run = match native {
        Some(cl) => crate::native::run_native(&m, tid, &cfg, learn, cl.settings())?,
        None if learn => run_learning(&m, tid, &cfg).0,
        None => Interp::new(&m, cfg).run(tid),
    };
    io_out!(io, "{}", report(&run));
    Ok(0)
}

/// Compares two modules; prints the report (or the first difference).
/// A check whose runs compared too little (see [`equiv::Report::too_little`]) fails, unless
/// `allow_shallow`, when it only warns.
pub fn equiv_modules(io: &mut Io, a: &Module, b: &Module, seeds: u64, opts: &RunOptions, allow_shallow: bool) -> u8 {
    match equiv::check(a, b, opts.trace.as_deref(), opts.seed, seeds, &opts.config(Vec::new())) {
        Ok(r) => match r.too_little() {
            None => {
                io_outln!(io, "equivalent on {}", r.summary());
                0
            }
            Some(why) if allow_shallow => {
                io_outln!(io, "equivalent on {}", r.summary());
                io_errln!(io, "warning: compared too little: {why}");
                0
            }
            Some(why) => {
                io_errln!(io, "error: compared too little to call them equivalent: {why}\n  ({}; --allow-shallow accepts it with a warning)", r.summary());
                1
            }
        },
        Err(mismatch) => {
            io_errln!(io, "error: {mismatch}");
            1
        }
    }
}

pub fn equiv(io: &mut Io, a: &str, b: &str, seeds: u64, opts: &RunOptions, allow_shallow: bool) -> Result<u8, InputError> {
    let (ma, mb) = (input::load(a)?, input::load(b)?);
    Ok(equiv_modules(io, &ma, &mb, seeds, opts, allow_shallow))
}

/// How the runs went if `b` behaves like `a` on `seeds` seeds (the default run options); else
/// why not.
pub fn equivalent(a: &Module, b: &Module, seeds: u64) -> Result<equiv::Report, String> {
    let cfg = Config { fuel: 100_000, heap_bytes: 8 << 20, ..Config::default() };
    equiv::check(a, b, None, 0, seeds, &cfg).map_err(|e| e.to_string())
}
