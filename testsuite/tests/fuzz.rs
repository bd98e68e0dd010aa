//! Fuzzing the parser, verifier, printer and passes: nothing may panic on any input, any input
//! that parses and verifies must round-trip through the printer, and every pass (and `-O`)
//! must turn a valid trace into a valid trace.
//!
//! Generators: random bytes, random token soup from the trace vocabulary, random edits of
//! every valid trace in the testsuite, and random edits of the PyPy-log fixtures (the importer
//! must never panic either, and everything it imports must verify). `TRACELAB_FUZZ_CASES` sets the number of cases
//! per generator (default 2000 here; the note on the issue gives the count of a longer run).

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use tracelab_testsuite::{cases, check_round_trip};

fn cases_per_generator() -> u32 {
    std::env::var("TRACELAB_FUZZ_CASES").ok().and_then(|s| s.parse().ok()).unwrap_or(2000)
}

/// Parses, verifies and (when valid) round-trips; panics only on a real bug.
fn exercise(text: &str) {
    let Ok(m) = tracelab_ir::parse(text) else { return };
    let _ = tracelab_ir::printer::print_module(&m);
    if tracelab_ir::verify(&m).is_ok() {
        if let Err(e) = check_round_trip("fuzz", &m) {
            panic!("valid input does not round-trip:\n{text}\n{e}");
        }
    }
}

fn run(strategy: impl Strategy<Value = String>) {
    let mut runner = TestRunner::new(Config { cases: cases_per_generator(), failure_persistence: None, ..Config::default() });
    runner.run(&strategy, |s| {
        exercise(&s);
        Ok(())
    }).unwrap();
}

const VOCAB: &[&str] = &[
    "loop", "bridge", "func", "from", "descr", "extern", "virtualizable", "frame", "vable", "None",
    "TargetToken", "ConstPtr", "ConstClass", "(", ")", "[", "]", "{", "}", "<", ">", ",", "=", ":", "->",
    "i0", "i1", "p0", "p2", "f3", "r4", "v5", "x", "0", "-1", "0x10", "1.5", "1e-05", "inf", "nan", "'loc'",
    "$v", "@f", "int_add", "label", "jump", "finish", "guard_true", "guard_value", "getfield_gc_i",
    "setfield_gc", "call_i", "new_with_vtable", "new_array", "<FieldS", "W.x", "8", "pure", "<ArrayP",
    "<Calli", "EF=2", "OS=1", "<SizeDescr", "<Guard0x1>", "<Loop-1>", "+12:", "--end of the loop--",
    "# c\n", "; c\n", "\n", "pc", "size=4", "class=C", "int", "ref", "Guard0x2",
];

#[test]
fn random_bytes_never_panic() {
    run(proptest::collection::vec(any::<u8>(), 0..400).prop_map(|b| String::from_utf8_lossy(&b).into_owned()));
}

#[test]
fn token_soup_never_panics() {
    let tok = proptest::sample::select(VOCAB);
    run(proptest::collection::vec(tok, 0..80).prop_map(|v| v.join(" ")));
}

/// One random edit of a text.
#[derive(Debug, Clone)]
enum Edit {
    Delete(usize, usize),
    Duplicate(usize, usize),
    Insert(usize, &'static str),
    SwapLines(usize, usize),
    ReplaceByte(usize, u8),
}

fn apply(text: &str, edits: &[Edit]) -> String {
    let mut s = text.as_bytes().to_vec();
    for e in edits {
        let n = s.len().max(1);
        match *e {
            Edit::Delete(a, len) => {
                let a = a % n;
                let b = (a + len % 40).min(s.len());
                if a <= b && b <= s.len() {
                    s.drain(a..b);
                }
            }
            Edit::Duplicate(a, len) => {
                let a = a % n;
                let b = (a + len % 80).min(s.len());
                if a <= b {
                    let piece = s[a.min(s.len())..b].to_vec();
                    s.splice(b..b, piece);
                }
            }
            Edit::Insert(a, tok) => {
                let a = (a % n).min(s.len());
                s.splice(a..a, format!(" {tok} ").into_bytes());
            }
            Edit::SwapLines(a, b) => {
                let text = String::from_utf8_lossy(&s).into_owned();
                let mut lines: Vec<&str> = text.lines().collect();
                if !lines.is_empty() {
                    let (a, b) = (a % lines.len(), b % lines.len());
                    lines.swap(a, b);
                }
                s = lines.join("\n").into_bytes();
            }
            Edit::ReplaceByte(a, byte) => {
                if !s.is_empty() {
                    let a = a % s.len();
                    s[a] = byte;
                }
            }
        }
    }
    String::from_utf8_lossy(&s).into_owned()
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<usize>(), any::<usize>()).prop_map(|(a, l)| Edit::Delete(a, l)),
        (any::<usize>(), any::<usize>()).prop_map(|(a, l)| Edit::Duplicate(a, l)),
        (any::<usize>(), proptest::sample::select(VOCAB)).prop_map(|(a, t)| Edit::Insert(a, t)),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Edit::SwapLines(a, b)),
        (any::<usize>(), any::<u8>()).prop_map(|(a, b)| Edit::ReplaceByte(a, b)),
    ]
}

#[test]
fn mutated_traces_never_panic() {
    let corpus: Vec<String> = cases().into_iter().map(|c| c.text).collect();
    assert!(corpus.len() >= 10, "the corpus is the testsuite's traces");
    let strategy = (proptest::sample::select(corpus), proptest::collection::vec(edit(), 1..4))
        .prop_map(|(text, edits)| apply(&text, &edits));
    run(strategy);
}

#[test]
fn mutated_pypy_logs_never_panic() {
    let dir = tracelab_testsuite::repo_root().join("testsuite/fixtures/pypy");
    let mut corpus: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "log"))
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .collect();
    corpus.sort();
    // Whole logs are large; fewer cases keep the time in line with the other generators.
    let strategy = (proptest::sample::select(corpus), proptest::collection::vec(edit(), 1..6))
        .prop_map(|(text, edits)| apply(&text, &edits));
    let cases = (cases_per_generator() / 20).max(50);
    let mut runner = TestRunner::new(Config { cases, failure_persistence: None, ..Config::default() });
    runner
        .run(&strategy, |text| {
            let log = tracelab_frontends::pypy_log::PypyLog::import(&text);
            for m in log.traces.iter().filter_map(|t| t.module.as_ref()) {
                assert!(tracelab_ir::verify(m).is_ok());
            }
            let _ = tracelab_ir::verify(&log.combined());
            Ok(())
        })
        .unwrap();
}

/// Every pass, and `-O`, on a valid input: no panic, and the result verifies (the manager checks
/// after each pass).
fn optimize(m: &tracelab_ir::Module) {
    use tracelab_passes::manager::{run, Options, Step};
    let opts = Options { verify_each: true, ..Options::default() };
    let mut pipelines: Vec<Vec<Step>> = tracelab_passes::REGISTRY.iter().map(|p| vec![Step::new(p.name)]).collect();
    pipelines.push(tracelab_passes::DEFAULT_PIPELINE.iter().map(|p| Step::new(p)).collect());
    for steps in pipelines {
        let mut copy = m.clone();
        if let Err(e) = run(&mut copy, &steps, &opts) {
            panic!("{e}\n--- input\n{}", tracelab_ir::printer::print_module(m));
        }
    }
}

#[test]
fn passes_never_panic_on_mutated_valid_traces() {
    let corpus: Vec<String> = cases().into_iter().map(|c| c.text).collect();
    let strategy = (proptest::sample::select(corpus), proptest::collection::vec(edit(), 1..4))
        .prop_map(|(text, edits)| apply(&text, &edits));
    let mut runner = TestRunner::new(Config { cases: (cases_per_generator() / 4).max(100), failure_persistence: None, ..Config::default() });
    let valid = std::sync::atomic::AtomicUsize::new(0);
    runner
        .run(&strategy, |text| {
            if let Ok(m) = tracelab_ir::parse(&text) {
                if tracelab_ir::verify(&m).is_ok() {
                    valid.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    optimize(&m);
                }
            }
            Ok(())
        })
        .unwrap();
    eprintln!("{} valid mutated traces optimized", valid.into_inner());
}

/// `-O` keeps the meaning of mutated valid traces (a few seeds each). 300 cases by default (the
/// interpreter runs are slow in debug builds); `TRACELAB_FUZZ_EQUIV=N` runs N.
#[test]
fn o_keeps_meaning_on_mutated_valid_traces() {
    let n = std::env::var("TRACELAB_FUZZ_EQUIV").ok().and_then(|s| s.parse::<u32>().ok()).unwrap_or(300);
    use tracelab_passes::manager::{run, Options, Step};
    let corpus: Vec<String> = cases().into_iter().map(|c| c.text).collect();
    let strategy = (proptest::sample::select(corpus), proptest::collection::vec(edit(), 1..4))
        .prop_map(|(text, edits)| apply(&text, &edits));
    let steps: Vec<Step> = tracelab_passes::DEFAULT_PIPELINE.iter().map(|p| Step::new(p)).collect();
    let mut runner = TestRunner::new(Config { cases: n, failure_persistence: None, ..Config::default() });
    runner
        .run(&strategy, |text| {
            let Ok(m) = tracelab_ir::parse(&text) else { return Ok(()) };
            if tracelab_ir::verify(&m).is_err() || m.traces.is_empty() {
                return Ok(());
            }
            let mut o = m.clone();
            run(&mut o, &steps, &Options::default()).expect("-O runs");
            if let Err(e) = tracelab::exec::equivalent(&m, &o, 3) {
                panic!("-O changed meaning:\n{e}\n--- input\n{text}");
            }
            Ok(())
        })
        .unwrap();
}
