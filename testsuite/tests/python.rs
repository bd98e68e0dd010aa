//! The minipy conformance corpus: every `testsuite/python/NAME.py` runs with minipy in each
//! [`Mode`] (interpreter only; the JIT at its default threshold; the JIT at threshold 1, so
//! every loop is traced on its first iteration; that again in GC stress mode, a minor
//! collection at every allocation and the heap verified after each), and must print exactly
//! what CPython 3.11 printed (`NAME.out`, made by `testsuite/python/regen.sh`). With the JIT,
//! every recorded trace must verify and the optimizer must accept it. A program CPython ended with an error also has
//! `NAME.exit` (the exit code) and `NAME.err` (the last line of its stderr: the exception or
//! `SyntaxError` message); those two are compared, not the rest of the traceback.
//!
//! A program named `unsupported_*` uses a construct minipy refuses; its first line says the
//! message expected (`# minipy: ...`), exit code 1 and no output.
//!
//! Each program gets `sys.argv[1]`: a scratch folder of its own for files it writes.

use libtest_mimic::{Arguments, Failed, Trial};
use std::path::{Path, PathBuf};
use tracelab_runtime::gc::GcConfig;

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("python")
}

fn read_optional(path: &Path) -> Option<String> {
    std::fs::read_to_string(path).ok()
}

#[derive(Clone, Copy, Debug)]
enum Mode {
    NoJit,
    Jit,
    JitEveryLoop,
    JitEveryLoopGcStress,
    JitEveryLoopFailingGuards,
}

impl Mode {
    const ALL: [Mode; 5] = [Mode::NoJit, Mode::Jit, Mode::JitEveryLoop, Mode::JitEveryLoopGcStress, Mode::JitEveryLoopFailingGuards];

    fn name(self) -> &'static str {
        match self {
            Mode::NoJit => "no_jit",
            Mode::Jit => "jit",
            Mode::JitEveryLoop => "jit_threshold_1",
            Mode::JitEveryLoopGcStress => "jit_threshold_1_gc_stress",
            Mode::JitEveryLoopFailingGuards => "jit_threshold_1_failing_guards",
        }
    }

    fn jit(self) -> Option<tracelab_minipy::jit::JitOptions> {
        let params = match self {
            Mode::NoJit => return None,
            Mode::Jit => tracelab_jit::JitParams::default(),
            Mode::JitEveryLoop | Mode::JitEveryLoopGcStress | Mode::JitEveryLoopFailingGuards => tracelab_jit::JitParams::with_threshold(1),
        };
        // Every loop traced: each optimized trace is also checked against its recording.
        let check_seeds = if matches!(self, Mode::JitEveryLoop) { 3 } else { 0 };
        // Guards fail at random too: the output must not change.
        let fail_guards = matches!(self, Mode::JitEveryLoopFailingGuards).then_some(7);
        Some(tracelab_minipy::jit::JitOptions { params, check_seeds, fail_guards, ..Default::default() })
    }
}

fn run_case(py: &Path, mode: Mode) -> Result<(), Failed> {
    let stress = matches!(mode, Mode::JitEveryLoopGcStress);
    let source = std::fs::read_to_string(py).map_err(|e| format!("{}: {e}", py.display()))?;
    let (expected_out, expected_exit, expected_err) = match source.lines().next().and_then(|l| l.strip_prefix("# minipy: ")) {
        // A construct minipy refuses: a located error naming it, before anything runs.
        Some(message) => (String::new(), 1, Some(message.to_string())),
        None => (
            read_optional(&py.with_extension("out")).ok_or("no .out file: run testsuite/python/regen.sh")?,
            read_optional(&py.with_extension("exit")).map_or(0, |s| s.trim().parse().unwrap_or(-1)),
            read_optional(&py.with_extension("err")).map(|s| s.trim_end().to_string()),
        ),
    };
    let stem = py.file_stem().and_then(|s| s.to_str()).unwrap_or("case");
    let scratch = std::env::temp_dir().join(format!("minipy-{}-{stem}-{}", std::process::id(), mode.name()));
    std::fs::create_dir_all(&scratch).map_err(|e| e.to_string())?;
    let gc = GcConfig { stress, verify: true, ..GcConfig::default() };
    let options = tracelab_minipy::RunOptions { gc, gc_stats: false, capture: true, jit: mode.jit(), jit_stats: false, jit_log: None };
    let file = py.display().to_string();
    let argv = vec![file.clone(), scratch.display().to_string()];
    let dir = corpus_dir();
    let worker = std::thread::Builder::new()
        .stack_size(1 << 30)
        .spawn(move || tracelab_minipy::run_main(&source, &file, argv, dir, &options))
        .map_err(|e| e.to_string())?;
    let outcome = worker.join().map_err(|_| "minipy panicked")?;
    let _ = std::fs::remove_dir_all(&scratch);
    let mut problems = vec![];
    if outcome.stdout != expected_out {
        problems.push(format!("stdout differs from CPython's:\n{}", diff(&expected_out, &outcome.stdout)));
    }
    if outcome.exit_code != expected_exit {
        problems.push(format!("exit code {} (CPython: {expected_exit})\nstderr:\n{}", outcome.exit_code, outcome.stderr));
    }
    if let Some(want) = expected_err {
        let got = outcome.stderr.trim_end().lines().last().unwrap_or("").to_string();
        if got != want {
            problems.push(format!("last line of stderr:\n  minipy:  {got}\n  CPython: {want}"));
        }
    } else if expected_exit == 0 && !outcome.stderr.is_empty() {
        problems.push(format!("unexpected stderr:\n{}", outcome.stderr));
    }
    if let Some(r) = &outcome.jit {
        if r.invalid_traces > 0 || r.optimizer_failures > 0 || r.equiv_failures > 0 {
            problems.push(format!(
                "JIT: {} recorded traces did not verify, the optimizer failed on {}, {} optimized traces behaved differently",
                r.invalid_traces, r.optimizer_failures, r.equiv_failures
            ));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("\n").into())
    }
}

fn diff(want: &str, got: &str) -> String {
    similar::TextDiff::from_lines(want, got).unified_diff().header("CPython", "minipy").to_string()
}

fn main() {
    let args = Arguments::from_args();
    let mut files: Vec<PathBuf> = std::fs::read_dir(corpus_dir())
        .map(|d| d.filter_map(|e| e.ok()).map(|e| e.path()).filter(|p| p.extension().is_some_and(|x| x == "py")).collect())
        .unwrap_or_default();
    files.sort();
    let mut trials = vec![];
    for py in files {
        let name = py.file_stem().and_then(|s| s.to_str()).unwrap_or("?").to_string();
        // Modules imported by other programs are not programs of their own.
        if name.starts_with("mod_") {
            continue;
        }
        for mode in Mode::ALL {
            let p = py.clone();
            trials.push(Trial::test(format!("python::{name}::{}", mode.name()), move || run_case(&p, mode)));
        }
    }
    libtest_mimic::run(&args, trials).exit();
}
