//! The data-driven test harness: every `.trace` file under `testsuite/traces/` is one test, and
//! so is every ```` ```trace ```` block in `docs/*.md` (so the documentation cannot drift from
//! the parser).
//!
//! - A file under `invalid/` must be rejected; its rendered diagnostics are a snapshot.
//! - Any other trace must parse and verify, and must round-trip: printing it, parsing the
//!   print and printing again gives the same text, and the two parses are the same IR.
//!   (A file may instead be rejected on purpose when one of its RUN lines says
//!   `not tracelab verify`.)
//! - Its `; RUN:` lines run, and their output is checked with FileCheck directives or compared
//!   with an `; EXPECT:` trace up to renaming ([`run`]).

use std::path::{Path, PathBuf};
use tracelab_ir::{parse, print_module, verify, Module, SourceFile};

/// The repository root (the workspace above this crate).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("testsuite sits in the workspace").to_path_buf()
}

/// One test case: a name (path relative to the root, plus a block number for docs) and text.
pub struct Case {
    pub name: String,
    /// The file holding the case (for `%s` in RUN lines).
    pub path: PathBuf,
    pub text: String,
    pub expect_invalid: bool,
}

/// All `.trace` files below `dir`, sorted.
pub fn trace_files(dir: &Path) -> Vec<PathBuf> {
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

/// Every case: the trace files, then the trace blocks of the docs.
pub fn cases() -> Vec<Case> {
    let root = repo_root();
    let mut out = Vec::new();
    for p in trace_files(&root.join("testsuite").join("traces")) {
        let name = p.strip_prefix(&root).unwrap_or(&p).to_string_lossy().replace('\\', "/");
        let text = std::fs::read_to_string(&p).unwrap_or_default();
        let expect_invalid = name.contains("/invalid/");
        out.push(Case { name, path: p.clone(), text, expect_invalid });
    }
    let docs = root.join("docs");
    let mut doc_files: Vec<PathBuf> = std::fs::read_dir(&docs)
        .map(|rd| rd.flatten().map(|e| e.path()).filter(|p| p.extension().is_some_and(|x| x == "md")).collect())
        .unwrap_or_default();
    doc_files.push(root.join("README.md"));
    doc_files.sort();
    for p in doc_files {
        let text = std::fs::read_to_string(&p).unwrap_or_default();
        let rel = p.strip_prefix(&root).unwrap_or(&p).to_string_lossy().replace('\\', "/");
        for (i, block) in trace_blocks(&text).into_iter().enumerate() {
            out.push(Case { name: format!("{rel}#{}", i + 1), path: p.clone(), text: block, expect_invalid: false });
        }
    }
    out
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

/// Runs a valid case: loads and round-trips it, runs it in the interpreter, checks that every
/// registered pass keeps its meaning, then runs its RUN lines.
pub fn run_valid(case: &Case) -> Result<(), String> {
    let runs = run::run_lines(&case.text)?;
    let rejected_on_purpose = runs.iter().any(|r| r.expect_failure && r.args.first().is_some_and(|a| a == "verify"));
    match load(&case.name, &case.text) {
        Ok(m) => {
            check_round_trip(&case.name, &m)?;
            check_passes_keep_meaning(&m)?;
        }
        Err(e) if !rejected_on_purpose => return Err(e),
        Err(_) => {}
    }
    let path = case.path.to_string_lossy();
    for r in &runs {
        run::execute(r, &path, &case.text)?;
    }
    Ok(())
}

/// Seeds per trace and pass for the built-in equivalence check of every test trace.
pub const EQUIV_SEEDS: u64 = 20;

/// Every registered pass, run alone on `m`, must give a module that verifies and behaves the
/// same (this also runs the original in the interpreter, so a trace that crashes it fails).
pub fn check_passes_keep_meaning(m: &Module) -> Result<(), String> {
    use tracelab_runtime::{equiv, interp::Config};
    let cfg = Config { fuel: 100_000, heap_bytes: 8 << 20, ..Config::default() };
    for p in tracelab_passes::REGISTRY {
        let mut out = m.clone();
        let mut cx = tracelab_passes::PassContext::default();
        (p.make)().run(&mut out, &mut cx);
        verify(&out).map_err(|d| format!("pass {} made invalid IR: {d:?}", p.name))?;
        equiv::check(m, &out, None, 0, EQUIV_SEEDS, &cfg).map_err(|e| format!("pass {} changed behaviour: {e}", p.name))?;
    }
    Ok(())
}

/// Runs an invalid case: the diagnostics it must produce (an error if it loads).
pub fn invalid_diagnostics(case: &Case) -> Result<String, String> {
    match load(&case.name, &case.text) {
        Ok(_) => Err(format!("{} was expected to be rejected, but it parsed and verified", case.name)),
        Err(d) => Ok(d),
    }
}

pub mod filecheck;
pub mod run;
pub mod synthetic;
