//! The repository's test data and how `cargo test` finds it: every `.trace` file under
//! `testsuite/traces/` is one test, and so is every ```` ```trace ```` block in `docs/*.md` and
//! the README (so the documentation cannot drift from the parser). What a test checks is the
//! harness's job ([`tracelab::harness`], also behind `tracelab test`).

use std::path::{Path, PathBuf};

pub use tracelab::harness::{
    check_equivalent, check_native_matches, check_passes_keep_meaning, check_round_trip, invalid_diagnostics, load, run_valid, trace_blocks,
    trace_files, Case,
};

pub mod random_trace;
pub mod synthetic;

/// The PyPy logs tests and benchmarks read: the committed fixtures, then the shared samples
/// beside the repository when they are there; each directory sorted.
pub fn sample_logs() -> Vec<PathBuf> {
    let root = repo_root();
    let mut out = Vec::new();
    for dir in [root.join("testsuite/fixtures/pypy"), root.join("../shared/pypy-samples")] {
        let Ok(rd) = std::fs::read_dir(&dir) else { continue };
        let mut v: Vec<PathBuf> = rd.flatten().map(|e| e.path()).filter(|p| p.extension().is_some_and(|x| x == "log")).collect();
        v.sort();
        out.extend(v);
    }
    out
}

/// The repository root (the workspace above this crate).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("testsuite sits in the workspace").to_path_buf()
}

/// Every case: the trace files, then the trace blocks of the docs.
pub fn cases() -> Vec<Case> {
    let root = repo_root();
    let mut out = Vec::new();
    for p in trace_files(&root.join("testsuite").join("traces")) {
        let name = p.strip_prefix(&root).unwrap_or(&p).to_string_lossy().replace('\\', "/");
        out.push(tracelab::harness::case_for(&p, name));
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
