//! The optimizer measured against PyPy's on PyPy's own traces: for every loop and bridge of the
//! committed fixture logs (and the shared samples when they sit beside the repository), `-O`
//! must keep meaning (every equivalence check passes, and each compares enough: most runs go
//! round the loop, as `compare-pypy` requires) and the total loop-body op count must not
//! grow past the figure committed here. Improving the optimizer lowers the count: lower the
//! figure with it, so that what was won stays won.
//!
//! The figures are the totals `tracelab compare-pypy` prints, summed over the logs.

use tracelab::compare::{default_steps, rows, Row};
use tracelab_frontends::pypy_log::PypyLog;
use tracelab_testsuite::repo_root;

/// (tracelab's loop-body ops at most, PyPy's loop-body ops) over the committed fixtures.
const FIXTURES: (usize, usize) = (907, 990);
/// The same over the fixtures and the five shared samples.
const WITH_SHARED_SAMPLES: (usize, usize) = (1283, 1445);

/// Seeds per equivalence check (the per-trace tests in `pypy_logs` use more).
const SEEDS: u64 = 8;

fn measure(dir: &std::path::Path) -> Option<(usize, usize, Vec<String>)> {
    let rd = std::fs::read_dir(dir).ok()?;
    let mut logs: Vec<_> = rd.flatten().map(|e| e.path()).filter(|p| p.extension().is_some_and(|x| x == "log")).collect();
    logs.sort();
    let (mut ours, mut pypy, mut broken) = (0, 0, Vec::new());
    for path in logs {
        let log = PypyLog::import(&std::fs::read_to_string(&path).expect("readable log"));
        for r in rows(&log, &default_steps(), SEEDS) {
            if let Some(why) = r.too_little() {
                broken.push(format!("{}#{}: compared too little: {why}", path.display(), r.name));
            }
            let Row { name, ours: o, pypy: p, equivalent, .. } = r;
            ours += o.body;
            pypy += p.map_or(0, |p| p.body);
            if let Err(e) = equivalent {
                broken.push(format!("{}#{name}: {}", path.display(), e.lines().next().unwrap_or("")));
            }
        }
    }
    Some((ours, pypy, broken))
}

fn check(what: &str, (ours, pypy, broken): (usize, usize, Vec<String>), (max, committed_pypy): (usize, usize)) {
    assert!(broken.is_empty(), "{what}: -O changed the meaning of, or the check compared too little on:\n{}", broken.join("\n"));
    assert_eq!(pypy, committed_pypy, "{what}: PyPy's loop bodies total {pypy} ops, the committed figure says {committed_pypy}: were logs added or regenerated? Update the figures.");
    assert!(ours <= max, "{what}: -O leaves {ours} loop-body ops, more than the committed {max} (PyPy: {pypy}): a regression");
    if ours < max {
        eprintln!("{what}: -O leaves {ours} loop-body ops, fewer than the committed {max}: lower the figure");
    }
}

#[test]
fn loop_bodies_no_longer_than_committed() {
    let root = repo_root();
    let fixtures = measure(&root.join("testsuite/fixtures/pypy")).expect("fixtures are present");
    let shared = measure(&root.join("../shared/pypy-samples"));
    if let Some((o, p, b)) = &shared {
        let all = (fixtures.0 + o, fixtures.1 + p, fixtures.2.iter().chain(b).cloned().collect());
        check("fixtures and shared samples", all, WITH_SHARED_SAMPLES);
    }
    check("fixtures", fixtures, FIXTURES);
}
