//! Every trace of every PyPy log fixture is one test: it imports, verifies, has the op count
//! PyPy's header states, prints canonically and re-parses to the same IR, runs in the
//! interpreter, every pass keeps its meaning on it, and compiled code (the Cranelift backend)
//! runs it and its `-O` form exactly as the interpreter does. The logs are the
//! committed fixtures (`testsuite/fixtures/pypy/`) and, when present beside the repository,
//! the shared samples (`../shared/pypy-samples/`), and any logs named in `TRACELAB_EXTRA_LOGS`
//! (paths separated by `:`), to check your own. Broken logs must fail where they are broken
//! and still import the rest.

use libtest_mimic::{Arguments, Failed, Trial};
use std::path::PathBuf;
use tracelab_frontends::pypy_log::PypyLog;
use tracelab_passes::manager::{run, Options, Step};
use tracelab_testsuite::{check_native_matches, check_passes_keep_meaning, check_round_trip, repo_root};

fn logs() -> Vec<PathBuf> {
    let mut out = tracelab_testsuite::sample_logs();
    let extra = std::env::var("TRACELAB_EXTRA_LOGS").unwrap_or_default();
    out.extend(extra.split(':').filter(|s| !s.is_empty()).map(PathBuf::from));
    out
}

fn trace_trials(path: &PathBuf) -> Vec<Trial> {
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    let text = std::fs::read_to_string(path).expect("fixture is readable");
    let log = std::sync::Arc::new(PypyLog::import(&text));
    let mut trials = vec![{
        let log = log.clone();
        Trial::test(format!("{name}: structure and combined module"), move || {
            if !log.problems.is_empty() {
                return Err(format!("{:?}", log.problems).into());
            }
            if log.traces.is_empty() {
                return Err("no traces".into());
            }
            tracelab_ir::verify(&log.combined()).map_err(|e| Failed::from(format!("{e:?}")))
        })
    }];
    for i in 0..log.traces.len() {
        let log = log.clone();
        let tname = format!("{name}#{}", log.traces[i].name);
        trials.push(Trial::test(tname.clone(), move || {
            let t = &log.traces[i];
            let m = t.module.as_ref().ok_or_else(|| format!("did not import: {:?}", t.errors))?;
            let (ops, _) = t.logged_counts().ok_or("no module")?;
            if t.header_ops.is_some_and(|h| h != ops) {
                return Err(format!("PyPy's header says {:?} ops, imported {ops}", t.header_ops).into());
            }
            check_round_trip(&tname, m).map_err(Failed::from)?;
            // It runs in the interpreter (no crash), and every pass keeps its meaning.
            check_passes_keep_meaning(m).map_err(Failed::from)?;
            check_native_matches(m).map_err(Failed::from)?;
            let mut o = m.clone();
            let steps: Vec<Step> = tracelab_passes::DEFAULT_PIPELINE.iter().map(|p| Step::new(p)).collect();
            run(&mut o, &steps, &Options::default()).map_err(|e| Failed::from(format!("-O: {e:?}")))?;
            check_native_matches(&o).map_err(|e| Failed::from(format!("after -O: {e}")))
        }));
    }
    trials
}

fn broken_trials() -> Vec<Trial> {
    let dir = repo_root().join("testsuite/fixtures/pypy/broken");
    let read = move |f: &str| std::fs::read_to_string(dir.join(f)).expect("fixture is readable");
    let truncated = read("truncated.log");
    let corrupted = read("corrupted.log");
    vec![
        Trial::test("broken/truncated.log: the cut section fails, located; the rest imports", move || {
            let log = PypyLog::import(&truncated);
            let problem = log.problems.first().ok_or("no structural problem reported")?;
            if !problem.message.contains("never closed") {
                return Err(format!("unexpected problem: {}", problem.message).into());
            }
            let (ok, bad): (Vec<_>, Vec<_>) = log.traces.iter().partition(|t| t.ok());
            if ok.is_empty() || bad.len() != 1 || bad[0].errors.is_empty() {
                return Err(format!("{} imported, {} failed", ok.len(), bad.len()).into());
            }
            Ok(())
        }),
        Trial::test("broken/corrupted.log: each corruption is located; clean sections import", move || {
            let log = PypyLog::import(&corrupted);
            let at = |t: usize| log.traces[t].errors.first().map(|d| &corrupted[d.span.range()]);
            if at(0) != Some("getfield_gc_int") || at(1) != Some("FieldQ") {
                return Err(format!("errors at {:?} and {:?}", at(0), at(1)).into());
            }
            if log.problems.len() != 1 || !log.traces[2..].iter().all(|t| t.ok()) {
                return Err("the stray closer or the clean bridge is mishandled".into());
            }
            Ok(())
        }),
    ]
}

/// A recorded bridge starts with what held at its guard in PyPy's optimized parent: in
/// recursion.log, the parent of bridge 0x7fdf1fbe02a8 (bridge 0x7fdf1fbe00b0) called the
/// loop-invariant `threadlocalref_get(64)` and passes its result as fail arg 5, and had checked
/// the class of fail arg 2.
fn entry_fact_trials() -> Vec<Trial> {
    let text = std::fs::read_to_string(repo_root().join("testsuite/fixtures/pypy/recursion.log")).expect("fixture is readable");
    vec![Trial::test("recursion.log: a bridge starts with the facts at its guard", move || {
        let log = PypyLog::import(&text);
        let i = log.find("bridge_7fdf1fbe02a8.noopt").ok_or("bridge not found")?;
        let m = log.traces[i].module.as_ref().ok_or("bridge did not import")?;
        let printed = tracelab_ir::print_module(m);
        let body: Vec<&str> = printed.lines().skip_while(|l| !l.starts_with("bridge ")).skip(1).take(log.traces[i].entry_facts).collect();
        let stated = |what: &str| body.iter().any(|l| l.trim_start().starts_with(what));
        if !stated("record_known_result(p5, ConstClass(_ll_1_threadlocalref_get") || !stated("record_known_class(p2, ConstClass(W_IntObject)") {
            return Err(format!("entry facts: {body:#?}").into());
        }
        Ok(())
    }), Trial::test("exceptions.log: classes and names of constant objects its recorded guards checked", move || {
        let text = std::fs::read_to_string(repo_root().join("testsuite/fixtures/pypy/exceptions.log")).expect("fixture is readable");
        let log = PypyLog::import(&text);
        let i = log.find("bridge_7fd4f7dd82a8.noopt").ok_or("bridge not found")?;
        let printed = tracelab_ir::print_module(log.traces[i].module.as_ref().ok_or("bridge did not import")?);
        // `guard_class(x, 140552979730016)` of a constant read back from a fresh object.
        if !printed.contains("record_known_class(ConstPtr(ptr199), 140552979730016)") {
            return Err("no statement of the constant's class".into());
        }
        // `guard_value(x, ConstPtr(ptr199))` of the constant ptr149 read back: one object.
        if printed.contains("ptr149") {
            return Err("ptr149 kept a name of its own".into());
        }
        Ok(())
    })]
}

fn main() {
    let args = Arguments::from_args();
    let mut trials: Vec<Trial> = logs().iter().flat_map(trace_trials).collect();
    trials.extend(broken_trials());
    trials.extend(entry_fact_trials());
    libtest_mimic::run(&args, trials).exit();
}
