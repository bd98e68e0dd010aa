//! The best of R runs of the default pipeline (`-O`, no verification) on the generated recorded
//! loop of N ops, the input of `benches/optimize.rs`: for comparing two revisions in one sitting
//! (copy this file into a worktree of the other), where criterion's long runs would take turns
//! with a machine that is not quiet.
//!
//! `cargo run --release -p tracelab-testsuite --example optimize_best_of -- N R`; with
//! `--passes`, every run's time per pass and the rest (the final compaction) too. Each run
//! optimizes a clone of one parsed module, as the criterion bench does (guard data shared with
//! the original is copied when renamed); with `FRESH=1` in the environment, a module parsed
//! anew for each run (outside the timing), as `tracelab opt` has it.

use tracelab_passes::manager::{self, Options, Step};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let numbers: Vec<usize> = args.iter().filter_map(|a| a.parse().ok()).collect();
    let (ops, runs) = (numbers.first().copied().unwrap_or(100_000), numbers.get(1).copied().unwrap_or(20));
    let per_pass = args.iter().any(|a| a == "--passes");
    let steps: Vec<Step> = tracelab_passes::DEFAULT_PIPELINE.iter().map(|p| Step::new(p)).collect();
    let opts = Options { verify_each: false, ..Options::default() };
    let text = tracelab_testsuite::synthetic::recorded_loop_text(ops);
    let m = tracelab_ir::parse(&text).expect("generated traces parse");
    let mut best = f64::MAX;
    for _ in 0..runs {
        let mut copy = if std::env::var("FRESH").is_ok() { tracelab_ir::parse(&text).expect("parses") } else { m.clone() };
        let start = std::time::Instant::now();
        let reports = manager::run(&mut copy, &steps, &opts).expect("-O runs");
        let all = start.elapsed().as_secs_f64();
        best = best.min(all);
        if per_pass {
            let passes: f64 = reports.iter().map(|r| r.time.as_secs_f64()).sum();
            let each: Vec<String> = reports.iter().map(|r| format!("{} {:.2}", r.pass, r.time.as_secs_f64() * 1e3)).collect();
            println!("all {:.2} ms, passes {:.2}, rest {:.2}: {}", all * 1e3, passes * 1e3, (all - passes) * 1e3, each.join(", "));
        }
    }
    println!("{ops} ops: best of {runs} {:.2} ms", best * 1e3);
}
