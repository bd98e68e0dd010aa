//! The native backend's figures, as two tables (`cargo bench -p tracelab-testsuite --bench backend`):
//!
//! 1. Compiled code against the reference interpreter on the loop traces of the testsuite (those
//!    whose run with seed 0 goes round their loop at least 100 times): the same run, timed both
//!    ways (median of 5), and the speedup.
//! 2. Compile time per op on PyPy's optimized traces of every log (the fixtures and, when
//!    present, ../shared/pypy-samples), with Cranelift at `none` + single-pass register
//!    allocation and at `speed` + backtracking, against the backend time PyPy reports for the
//!    same traces in the log's `jit-summary` (its seconds over its "opt ops").

use std::path::Path;
use std::time::{Duration, Instant};
use tracelab_backend::{compile, compile_traces, Keep, OptLevel, Regalloc, Settings};
use tracelab_frontends::pypy_log::{summary::jit_summary, PypyLog, Stage};
use tracelab_runtime::equiv::entry;
use tracelab_runtime::interp::{Config, Interp};
use tracelab_runtime::learn::run_learning;
use tracelab_testsuite::{load, repo_root, trace_files};

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn time<T>(reps: usize, mut f: impl FnMut() -> T) -> Duration {
    median((0..reps).map(|_| {
        let t = Instant::now();
        std::hint::black_box(f());
        t.elapsed()
    }).collect())
}

fn speedups() {
    println!("## Compiled code vs the interpreter (seed 0, loop traces of the testsuite)\n");
    println!("| trace | ops run | iterations | interpreter | native | speedup |");
    println!("|---|---:|---:|---:|---:|---:|");
    let root = repo_root();
    let mut ratios = Vec::new();
    for path in trace_files(&root.join("testsuite/traces")) {
        let name = path.strip_prefix(&root).unwrap_or(&path).to_string_lossy().into_owned();
        if name.contains("/invalid/") {
            continue;
        }
        let Ok(m) = load(&name, &std::fs::read_to_string(&path).unwrap_or_default()) else { continue };
        let Some(tid) = entry(&m, None) else { continue };
        let cfg = Config { fuel: 5_000_000, ..Config::default() };
        let (run, constraints) = run_learning(&m, tid, &cfg);
        if run.iterations < 100 {
            continue;
        }
        let cfg = Config { constraints, ..cfg };
        let Ok(code) = compile(&m, Settings::default(), Keep::default()) else { continue };
        let interp = time(5, || Interp::new(&m, cfg.clone()).run(tid).ops);
        let native = time(5, || code.run(tid, cfg.clone()).ops);
        let r = interp.as_secs_f64() / native.as_secs_f64();
        ratios.push(r);
        println!("| {name} | {} | {} | {:.2} ms | {:.2} ms | {r:.1}x |", run.ops, run.iterations, interp.as_secs_f64() * 1e3, native.as_secs_f64() * 1e3);
    }
    if !ratios.is_empty() {
        let geo = (ratios.iter().map(|r| r.ln()).sum::<f64>() / ratios.len() as f64).exp();
        println!("\ngeometric mean speedup: {geo:.1}x over {} traces\n", ratios.len());
    }
}

/// Cranelift time (lowering + Cranelift + linking, median of 3) for every optimized trace of a
/// log, and their op count.
fn compile_log(log: &PypyLog, settings: Settings) -> (Duration, usize, usize) {
    let (mut total, mut ops, mut n) = (Duration::ZERO, 0, 0);
    for t in log.traces.iter().filter(|t| t.stage == Stage::Optimized) {
        let Some(m) = &t.module else { continue };
        let Some((tid, tr)) = m.traces.iter().next() else { continue };
        let d = median((0..3).map(|_| compile_traces(m, &[tid], settings, Keep::default()).ok().and_then(|c| c.trace(tid).map(|t| t.lower_time + t.codegen_time)).unwrap_or_default()).collect());
        total += d;
        ops += tr.ops.len();
        n += 1;
    }
    (total, ops, n)
}

fn compile_times() {
    println!("## Compile time per op: Cranelift on PyPy's optimized traces vs PyPy's backend\n");
    println!("| log | traces | ops | PyPy µs/op | none µs/op | ratio | speed µs/op | ratio |");
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    let fast = Settings { opt: OptLevel::None, regalloc: Regalloc::SinglePass };
    let good = Settings { opt: OptLevel::Speed, regalloc: Regalloc::Backtracking };
    let (mut sum_pypy, mut sum_fast, mut sum_good, mut sum_ops, mut sum_pypy_ops) = (0.0, 0.0, 0.0, 0usize, 0u64);
    for path in tracelab_testsuite::sample_logs() {
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        let Some(pypy) = jit_summary(&text) else { continue };
        let (Some((_, secs)), Some(opt_ops)) = (pypy.backend, pypy.opt_ops) else { continue };
        let log = PypyLog::import(&text);
        let (tf, ops, n) = compile_log(&log, fast);
        let (tg, _, _) = compile_log(&log, good);
        if ops == 0 {
            continue;
        }
        let p = secs * 1e6 / opt_ops as f64;
        let f = tf.as_secs_f64() * 1e6 / ops as f64;
        let g = tg.as_secs_f64() * 1e6 / ops as f64;
        let name = Path::new(&path).file_name().unwrap_or_default().to_string_lossy().into_owned();
        println!("| {name} | {n} | {ops} | {p:.2} | {f:.2} | {:.2} | {g:.2} | {:.2} |", f / p, g / p);
        sum_pypy += secs * 1e6;
        sum_pypy_ops += opt_ops;
        sum_fast += tf.as_secs_f64() * 1e6;
        sum_good += tg.as_secs_f64() * 1e6;
        sum_ops += ops;
    }
    if sum_ops > 0 {
        let p = sum_pypy / sum_pypy_ops as f64;
        let (f, g) = (sum_fast / sum_ops as f64, sum_good / sum_ops as f64);
        println!("| all | | {sum_ops} | {p:.2} | {f:.2} | {:.2} | {g:.2} | {:.2} |", f / p, g / p);
    }
}

fn main() {
    // `cargo test` runs benches with `--bench`-less arguments in test mode: do nothing then.
    if std::env::args().any(|a| a == "--test" || a == "--list") {
        return;
    }
    speedups();
    compile_times();
}
