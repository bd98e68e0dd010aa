//! Prints a generated loop of N ops (default 1,000,000) for benchmarking the CLI:
//! `cargo run --release -p tracelab-testsuite --example synthetic -- 1000000 > big.trace`.

fn main() {
    let ops = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(1_000_000);
    print!("{}", tracelab_testsuite::synthetic::loop_text(ops));
}
