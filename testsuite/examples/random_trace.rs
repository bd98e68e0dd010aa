//! Prints the random trace the differential test makes for a seed:
//! `cargo run -p tracelab-testsuite --example random_trace -- SEED [OPS]` (OPS defaults to what
//! the test uses for that seed).

fn main() {
    let args: Vec<u64> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let seed = args.first().copied().unwrap_or(0);
    let ops = args.get(1).map_or(8 + (seed % 40) as usize, |&n| n as usize);
    print!("{}", tracelab_testsuite::random_trace::random_loop(seed, ops));
}
