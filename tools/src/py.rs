//! `tracelab py`: runs a Python program with minipy, as `python3` would run it. The program's
//! output goes straight to stdout and stderr (not through [`crate::Io`]): programs print a
//! lot, and interleaving with a traceback must be as the program made it.

use crate::Io;
use tracelab_runtime::gc::GcConfig;

/// Options of `tracelab py`.
#[derive(clap::Args, Clone, Debug)]
pub struct PyArgs {
    /// Program text to run instead of a file (as `python3 -c`).
    #[arg(short = 'c', value_name = "CODE")]
    pub code: Option<String>,
    /// Print what the garbage collector did (to stderr) when the program ends.
    #[arg(long)]
    pub gc_stats: bool,
    /// Collect the nursery at every allocation and verify the heap after every collection
    /// (also `TRACELAB_GC_STRESS=1`).
    #[arg(long)]
    pub gc_stress: bool,
    /// Nursery size in KiB.
    #[arg(long, value_name = "KIB")]
    pub gc_nursery: Option<usize>,
    /// Interpret only: no tracing JIT.
    #[arg(long)]
    pub no_jit: bool,
    /// Loop iterations before a loop is traced (PyPy's default: 1039).
    #[arg(long, value_name = "N")]
    pub jit_threshold: Option<u32>,
    /// Write every trace (as recorded and as optimized), the aborts and a summary to FILE, in
    /// tracelab's text format (also `TRACELAB_LOG=FILE`).
    #[arg(long, value_name = "FILE")]
    pub jit_log: Option<std::path::PathBuf>,
    /// Print what the JIT did (to stderr) when the program ends.
    #[arg(long)]
    pub jit_stats: bool,
    /// The pass pipeline that optimizes each trace instead of -O (as `tracelab opt -p`).
    #[arg(long, value_name = "PASSES")]
    pub jit_opt: Option<String>,
    /// Check each optimized trace against the trace as recorded, in the reference interpreter on
    /// SEEDS seeded runs (as `tracelab equiv`); differences are counted in --jit-stats and
    /// described in the log.
    #[arg(long, value_name = "SEEDS")]
    pub jit_check: Option<u64>,
    /// A test mode: compiled guards also fail at random (seeded by SEED) though their
    /// conditions hold, so the program resumes from them everywhere; output must not change.
    #[arg(long, value_name = "SEED")]
    pub jit_fail_guards: Option<u64>,
    /// The program file (unless -c) and its arguments (`sys.argv[1:]`).
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, value_name = "FILE [ARGS]")]
    pub args: Vec<String>,
}

/// The JIT's options from the flags (`Some(None)` with `--no-jit`); `None` after reporting a
/// usage error.
fn jit_options(io: &mut Io, a: &PyArgs) -> Option<Option<tracelab_minipy::jit::JitOptions>> {
    if a.no_jit {
        if a.jit_threshold.is_some() || a.jit_log.is_some() || a.jit_opt.is_some() || a.jit_check.is_some() || a.jit_fail_guards.is_some() {
            crate::io_errln!(io, "tracelab py: --no-jit does not go with --jit-threshold, --jit-log, --jit-opt, --jit-check or --jit-fail-guards");
            return None;
        }
        return Some(None);
    }
    let mut params = tracelab_jit::JitParams::default();
    if let Some(n) = a.jit_threshold {
        if n == 0 {
            crate::io_errln!(io, "tracelab py: --jit-threshold must be at least 1");
            return None;
        }
        params = tracelab_jit::JitParams::with_threshold(n);
    }
    let options = tracelab_minipy::jit::JitOptions { params, pipeline: a.jit_opt.clone(), log: false, check_seeds: a.jit_check.unwrap_or(0), fail_guards: a.jit_fail_guards };
    // A bad pipeline is a usage error, found before the program runs.
    if let Err(e) = tracelab_minipy::jit::Jit::new(&options) {
        crate::io_errln!(io, "tracelab py: {e}");
        return None;
    }
    Some(Some(options))
}

/// Runs the program; returns its exit code.
pub fn run(io: &mut Io, a: PyArgs) -> u8 {
    let mut gc = GcConfig::from_env();
    if a.gc_stress {
        gc.stress = true;
        gc.verify = true;
    }
    if let Some(kib) = a.gc_nursery {
        gc.nursery_words = (kib * 1024 / 8).max(64);
    }
    let Some(jit) = jit_options(io, &a) else { return 2 };
    let jit_log = a.jit_log.clone().or_else(|| std::env::var_os("TRACELAB_LOG").map(Into::into));
    let options = tracelab_minipy::RunOptions { gc, gc_stats: a.gc_stats, capture: false, jit, jit_stats: a.jit_stats, jit_log };
    let (source, filename, argv, dir) = match &a.code {
        Some(code) => {
            let mut argv = vec!["-c".to_string()];
            argv.extend(a.args.iter().cloned());
            (code.clone(), "<string>".to_string(), argv, std::path::PathBuf::from("."))
        }
        None => {
            let Some(file) = a.args.first() else {
                crate::io_errln!(io, "tracelab py: give a program file or -c CODE");
                return 2;
            };
            // Arguments after the file are the program's; an option before it is ours and unknown.
            if file.starts_with('-') {
                crate::io_errln!(io, "tracelab py: unknown option '{file}' (see tracelab py --help)");
                return 2;
            }
            let source = match std::fs::read_to_string(file) {
                Ok(s) => s,
                Err(e) => {
                    crate::io_errln!(io, "tracelab py: can't open file '{file}': {e}");
                    return 2;
                }
            };
            let dir = std::path::Path::new(file).parent().map(|p| p.to_path_buf()).unwrap_or_default();
            let dir = if dir.as_os_str().is_empty() { std::path::PathBuf::from(".") } else { dir };
            (source, file.clone(), a.args.clone(), dir)
        }
    };
    // A large stack: nested runs (dunder methods, generators) recurse in Rust, bounded by the
    // recursion limit long before this runs out.
    let worker = std::thread::Builder::new()
        .stack_size(1 << 30)
        .spawn(move || tracelab_minipy::run_main(&source, &filename, argv, dir, &options).exit_code);
    match worker.map(|w| w.join()) {
        Ok(Ok(code)) => code.clamp(0, 255) as u8,
        _ => {
            crate::io_errln!(io, "tracelab py: internal error (minipy panicked); please report this program");
            70
        }
    }
}
