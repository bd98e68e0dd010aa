//! A long campaign of the random differential test's optimizer half, outside CI: for each seed,
//! the random loop of `tests/native.rs` (same generator, same size for the seed) must keep its
//! meaning under `-O` (the reference interpreter on both, two runs each, inputs learned), and
//! with `--each-pass` every pass alone must too (15 checks per seed instead of one).
//!
//! `cargo run --release -p tracelab-testsuite --example fuzz_optimizer -- FIRST COUNT [THREADS] [--each-pass]`
//!
//! Prints one line per 10,000 seeds and every failing seed with what differed; exits 1 if any
//! failed. The compiled half (Cranelift against the interpreter) is `tests/native.rs` with
//! `TRACELAB_FUZZ_NATIVE=N TRACELAB_FUZZ_SEED=S`, ten times slower per seed.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Mutex;
use tracelab_passes::manager::{run, Options, Step};
use tracelab_testsuite::random_trace::random_loop;

/// What went wrong with one seed, if anything.
fn check(seed: u64, each_pass: bool) -> Result<(), String> {
    let text = random_loop(seed, 8 + (seed % 40) as usize);
    let m = tracelab_ir::parse(&text).map_err(|d| format!("does not parse: {d:?}"))?;
    tracelab_ir::verify(&m).map_err(|d| format!("does not verify: {d:?}"))?;
    let mut pipelines: Vec<(String, Vec<Step>)> = vec![("-O".into(), tracelab_passes::DEFAULT_PIPELINE.iter().map(|p| Step::new(p)).collect())];
    if each_pass {
        pipelines.extend(tracelab_passes::DEFAULT_PIPELINE.iter().map(|p| (format!("-p {p}"), vec![Step::new(p)])));
    }
    for (name, steps) in pipelines {
        let mut o = m.clone();
        run(&mut o, &steps, &Options::default()).map_err(|e| format!("{name} fails: {e:?}"))?;
        tracelab::exec::equivalent(&m, &o, 2).map_err(|e| format!("{name} changed the meaning:\n{e}"))?;
    }
    Ok(())
}

fn main() {
    let args: Vec<u64> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let (first, count) = (args.first().copied().unwrap_or(0), args.get(1).copied().unwrap_or(10_000));
    let threads = args.get(2).copied().unwrap_or(1).max(1);
    let each_pass = std::env::args().any(|a| a == "--each-pass");
    let next = AtomicU64::new(first);
    let done = AtomicU64::new(0);
    let failed = Mutex::new(Vec::new());
    let start = std::time::Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| loop {
                let seed = next.fetch_add(1, Relaxed);
                if seed >= first + count {
                    break;
                }
                if let Err(e) = check(seed, each_pass) {
                    println!("seed {seed}: {e}");
                    failed.lock().unwrap_or_else(|p| p.into_inner()).push(seed);
                }
                let n = done.fetch_add(1, Relaxed) + 1;
                if n % 10_000 == 0 {
                    println!("{n} seeds done ({:.0} s)", start.elapsed().as_secs_f64());
                }
            });
        }
    });
    let failed = failed.into_inner().unwrap_or_else(|p| p.into_inner());
    println!("seeds {first}..{}: {} checked, {} failed, {:.0} s", first + count, count, failed.len(), start.elapsed().as_secs_f64());
    std::process::exit(i32::from(!failed.is_empty()));
}
