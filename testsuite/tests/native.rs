//! Compiled code against the interpreter on random traces ([`random_loop`]): for each trace,
//! the interpreter and compiled code must end alike (exit, resumed state, calls, heap, counts),
//! `-O` must keep the meaning, and compiled code must run the optimized trace as the
//! interpreter does. 300 traces by default from a fixed seed; `TRACELAB_FUZZ_NATIVE=N` runs N,
//! `TRACELAB_FUZZ_SEED=S` starts elsewhere.

use tracelab_ir::entity::EntityRef;
use tracelab_passes::manager::{run, Options, Step};
use tracelab_runtime::interp::Config;
use tracelab_testsuite::random_trace::random_loop;

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|s| s.parse().ok()).unwrap_or(default)
}

fn load(text: &str) -> tracelab_ir::Module {
    let m = tracelab_ir::parse(text).unwrap_or_else(|d| panic!("the generator made a trace that does not parse: {d:?}\n{text}"));
    tracelab_ir::verify(&m).unwrap_or_else(|d| panic!("the generator made a trace that does not verify: {d:?}\n{text}"));
    m
}

#[test]
fn compiled_code_matches_the_interpreter_on_random_traces() {
    let n = env("TRACELAB_FUZZ_NATIVE", 300);
    let first = env("TRACELAB_FUZZ_SEED", 0);
    let cfg = Config { fuel: 20_000, heap_bytes: 4 << 20, ..Config::default() };
    let steps: Vec<Step> = tracelab_passes::DEFAULT_PIPELINE.iter().map(|p| Step::new(p)).collect();
    let settings = [tracelab_backend::Settings::default(), tracelab_backend::Settings { opt: tracelab_backend::OptLevel::None, regalloc: tracelab_backend::Regalloc::SinglePass }];
    let mut iterations = 0;
    for seed in first..first + n {
        let text = random_loop(seed, 8 + (seed % 40) as usize);
        if std::env::var_os("TRACELAB_FUZZ_VERBOSE").is_some() {
            eprintln!("trace {seed}");
        }
        let m = load(&text);
        let s = settings[(seed % 2) as usize];
        if let Err(e) = tracelab_backend::differential::check_module(&m, 2, &cfg, s) {
            panic!("trace {seed} ({s:?}):\n{e}\n--- trace\n{text}");
        }
        let mut o = m.clone();
        run(&mut o, &steps, &Options::default()).expect("-O runs");
        if let Err(e) = tracelab::exec::equivalent(&m, &o, 2) {
            panic!("-O changed the meaning of trace {seed}:\n{e}\n--- trace\n{text}");
        }
        if let Err(e) = tracelab_backend::differential::check_module(&o, 2, &cfg, s) {
            panic!("-O of trace {seed} ({s:?}):\n{e}\n--- trace\n{text}\n--- after -O\n{}", tracelab_ir::print_module(&o));
        }
        iterations += tracelab_runtime::learn::run_learning(&m, tracelab_ir::TraceId::new(0), &cfg).0.iterations;
    }
    eprintln!("{n} random traces, compiled and optimized: equal to the interpreter; the originals iterated {iterations} times in all");
    // The generated loops must actually loop, or the test checks little.
    assert!(iterations > n, "{n} traces iterated only {iterations} times in all");
}
