//! The `.trace` test harness, shared by `cargo test` (the testsuite crate) and `tracelab test`.
//!
//! A case is a `.trace` file (or a ```` ```trace ```` block of the docs):
//! - under `invalid/` it must be rejected (the testsuite also snapshots its diagnostics);
//! - otherwise it must parse and verify (unless a RUN line says `not tracelab verify`), and
//!   round-trip: printing it, parsing the print and printing again gives the same text, and the
//!   two parses are the same IR; it must run in the interpreter, and every registered pass, run
//!   alone, must keep its meaning on it;
//! - its `; RUN:` lines run ([`run`]), their output checked with FileCheck directives
//!   ([`filecheck`]) or compared with an `; EXPECT:` trace up to renaming; a RUN line that runs
//!   `opt` is also checked for equivalence between input and output, unless the file says
//!   `; NO-EQUIV: <reason>`;
//! - every trace of it, run by compiled code (the Cranelift backend), must end exactly as the
//!   interpreter ends it, unless the file says `; NO-NATIVE: <reason>`.

pub mod filecheck;
pub mod run;

use std::path::{Path, PathBuf};
use tracelab_ir::{parse, print_module, verify, Module, SourceFile};

/// One test case: a name, the file holding it (for `%s`) and its text.
pub struct Case {
    pub name: String,
    pub path: PathBuf,
    pub text: String,
    pub expect_invalid: bool,
}

/// All `.trace` files below `dir` (or `dir` itself), sorted.
pub fn trace_files(dir: &Path) -> Vec<PathBuf> {
    if dir.is_file() {
        return vec![dir.to_path_buf()];
    }
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else { continue };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "trace") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// The case for a file; `name` is how reports call it.
pub fn case_for(path: &Path, name: String) -> Case {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let expect_invalid = name.contains("/invalid/") || name.starts_with("invalid/");
    Case { name, path: path.to_path_buf(), text, expect_invalid }
}

/// The contents of the ```` ```trace ```` fenced blocks of a Markdown text.
pub fn trace_blocks(md: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur: Option<String> = None;
    for line in md.lines() {
        match &mut cur {
            None if line.trim_start() == "```trace" => cur = Some(String::new()),
            Some(_) if line.trim_start().starts_with("```") => out.extend(cur.take()),
            Some(b) => {
                b.push_str(line);
                b.push('\n');
            }
            None => {}
        }
    }
    out
}

/// Parses and verifies; the rendered diagnostics on failure.
pub fn load(name: &str, text: &str) -> Result<Module, String> {
    let file = SourceFile { name, text };
    let m = parse(text).map_err(|d| file.render(&d))?;
    verify(&m).map_err(|d| file.render(&d))?;
    Ok(m)
}

/// The round-trip property: print∘parse is a fixed point and parse∘print is the identity.
pub fn check_round_trip(name: &str, m: &Module) -> Result<(), String> {
    let printed = print_module(m);
    let again = load(&format!("{name} (printed)"), &printed).map_err(|e| format!("the printed form does not load:\n{e}\n{printed}"))?;
    let reprinted = print_module(&again);
    if printed != reprinted {
        return Err(format!("printing is not a fixed point:\n--- first\n{printed}\n--- second\n{reprinted}"));
    }
    // Names are checked by the text comparison above; here the structure must be identical.
    let (mut a, mut b) = (m.clone(), again);
    a.strip_cosmetics();
    b.strip_cosmetics();
    if a != b {
        return Err(format!("parse(print(ir)) differs from ir:\n{printed}"));
    }
    Ok(())
}

/// Seeds per trace and pass for the built-in equivalence checks of the harness.
pub const EQUIV_SEEDS: u64 = 20;

fn equiv_config() -> tracelab_runtime::interp::Config {
    tracelab_runtime::interp::Config { fuel: 100_000, heap_bytes: 8 << 20, ..Default::default() }
}

/// `a` and `b` behave alike on the harness's seeds.
pub fn check_equivalent(a: &Module, b: &Module) -> Result<(), String> {
    tracelab_runtime::equiv::check(a, b, None, 0, EQUIV_SEEDS, &equiv_config()).map(|_| ()).map_err(|e| e.to_string())
}

/// Every registered pass, run alone on `m`, must give a module that verifies and behaves the
/// same (this also runs the original in the interpreter, so a trace that crashes it fails).
pub fn check_passes_keep_meaning(m: &Module) -> Result<(), String> {
    for p in tracelab_passes::REGISTRY {
        let mut out = m.clone();
        let mut cx = tracelab_passes::PassContext::new(&out, false);
        (p.make)(&Default::default())?.run(&mut out, &mut cx);
        verify(&out).map_err(|d| format!("pass {} made invalid IR: {d:?}", p.name))?;
        check_equivalent(m, &out).map_err(|e| format!("pass {} changed behaviour: {e}", p.name))?;
    }
    Ok(())
}

/// Seeds per trace for the differential test of compiled code against the interpreter.
pub const NATIVE_SEEDS: u64 = 3;

/// Every trace of `m`, compiled, must run as the interpreter runs it.
pub fn check_native_matches(m: &Module) -> Result<(), String> {
    tracelab_backend::differential::check_module(m, NATIVE_SEEDS, &equiv_config(), Default::default()).map(|_| ())
}

/// The reason after `; NO-NATIVE:`, if the file opts out of the differential test of compiled code.
pub fn no_native_reason(text: &str) -> Option<&str> {
    text.lines().find_map(|l| l.trim_start().strip_prefix(';')?.trim().strip_prefix("NO-NATIVE:")).map(str::trim)
}

/// Runs a valid case. Returns the IR after each pass of the pipelines its RUN lines run (the
/// testsuite snapshots it), empty if it runs none.
pub fn run_valid(case: &Case) -> Result<String, String> {
    let runs = run::run_lines(&case.text)?;
    let rejected_on_purpose = runs.iter().any(|r| r.expect_failure && r.args.first().is_some_and(|a| a == "verify"));
    match load(&case.name, &case.text) {
        Ok(m) => {
            check_round_trip(&case.name, &m)?;
            check_passes_keep_meaning(&m)?;
            match no_native_reason(&case.text) {
                Some("") => return Err("`; NO-NATIVE:` needs a reason".into()),
                Some(_) => {}
                None => check_native_matches(&m)?,
            }
        }
        Err(e) if !rejected_on_purpose => return Err(e),
        Err(_) => {}
    }
    let path = case.path.to_string_lossy();
    let mut after_each_pass = String::new();
    for r in &runs {
        run::execute(r, &path, &case.text)?;
        after_each_pass.push_str(&run::pipeline_snapshot(r, &path, &case.text)?);
    }
    Ok(after_each_pass)
}

/// Runs an invalid case: the diagnostics it must produce (an error if it loads).
pub fn invalid_diagnostics(case: &Case) -> Result<String, String> {
    match load(&case.name, &case.text) {
        Ok(_) => Err(format!("{} was expected to be rejected, but it parsed and verified", case.name)),
        Err(d) => Ok(d),
    }
}

/// Runs any case; Ok(()) if it passes (invalid cases: if they are rejected).
pub fn run_case(case: &Case) -> Result<(), String> {
    if case.expect_invalid {
        invalid_diagnostics(case).map(|_| ())
    } else {
        run_valid(case).map(|_| ())
    }
}
