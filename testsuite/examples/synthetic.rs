//! Prints a generated loop of N ops (default 1,000,000) for benchmarking the CLI:
//! `cargo run --release -p tracelab-testsuite --example synthetic -- 1000000 > big.trace`;
//! with `--recorded`, a loop as PyPy records one (no label), for the optimizer.

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let recorded = args.iter().any(|a| a == "--recorded");
    let ops = args.iter().find_map(|s| s.parse().ok()).unwrap_or(1_000_000);
    let text = if recorded { tracelab_testsuite::synthetic::recorded_loop_text(ops) } else { tracelab_testsuite::synthetic::loop_text(ops) };
    print!("{text}");
}
