//! The command line as a user meets it: exit codes (0 ok, 1 bad input, 2 usage), output on
//! stdout, diagnostics on stderr.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

fn tracelab(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tracelab")).args(args).current_dir(root()).output().expect("runs")
}

fn code(o: &Output) -> i32 {
    o.status.code().expect("exited")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

const LOOP: &str = "testsuite/traces/ir/counting_loop.trace";

#[test]
fn verify_accepts_valid_files() {
    let o = tracelab(&["verify", LOOP, "testsuite/traces/ir/functions.trace"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stdout(&o).is_empty());
}

#[test]
fn verify_rejects_with_located_diagnostics() {
    let o = tracelab(&["verify", LOOP, "testsuite/traces/invalid/unknown_value.trace"]);
    assert_eq!(code(&o), 1);
    let e = stderr(&o);
    assert!(e.contains("testsuite/traces/invalid/unknown_value.trace:2:22"), "{e}");
    assert!(e.contains("i1 = int_add(i0, i7)"), "{e}");
    assert!(e.contains("unknown value `i7`"), "{e}");
}

#[test]
fn missing_or_binary_file_is_bad_input() {
    let o = tracelab(&["verify", "no/such/file.trace"]);
    assert_eq!(code(&o), 1);
    assert!(stderr(&o).contains("no/such/file.trace"));
    let bin = std::env::temp_dir().join("tracelab-cli-binary.trace");
    std::fs::write(&bin, [0xff, 0xfe, 0x00, 0x41]).unwrap();
    let o = tracelab(&["verify", bin.to_str().unwrap()]);
    assert_eq!(code(&o), 1);
    assert!(stderr(&o).contains("not UTF-8"));
}

#[test]
fn usage_errors_exit_2() {
    assert_eq!(code(&tracelab(&[])), 2);
    assert_eq!(code(&tracelab(&["frobnicate"])), 2);
    assert_eq!(code(&tracelab(&["verify"])), 2);
    assert_eq!(code(&tracelab(&["fmt", "--bogus", LOOP])), 2);
}

#[test]
fn help_documents_every_command() {
    let o = tracelab(&["--help"]);
    assert_eq!(code(&o), 0);
    let h = stdout(&o);
    for cmd in ["fmt", "verify", "dot", "stats"] {
        assert!(h.contains(cmd), "--help does not mention {cmd}:\n{h}");
    }
}

#[test]
fn fmt_prints_canonical_text_and_check_detects_drift() {
    let o = tracelab(&["fmt", LOOP]);
    assert_eq!(code(&o), 0);
    let canonical = stdout(&o);
    assert!(canonical.starts_with("loop count [i0, i1] {\n"), "{canonical}");
    assert!(!canonical.contains(';'), "comments are not part of the canonical form");

    let dir = std::env::temp_dir();
    let good = dir.join("tracelab-cli-canonical.trace");
    std::fs::write(&good, &canonical).unwrap();
    assert_eq!(code(&tracelab(&["fmt", "--check", good.to_str().unwrap()])), 0);
    // The file as written (with comments) is not canonical.
    let o = tracelab(&["fmt", "--check", LOOP]);
    assert_eq!(code(&o), 1);
    assert!(stderr(&o).contains("not in canonical form"));
}

#[test]
fn fmt_of_bad_input_exits_1() {
    let o = tracelab(&["fmt", "testsuite/traces/invalid/syntax_missing_paren.trace"]);
    assert_eq!(code(&o), 1);
    assert!(stderr(&o).contains("syntax_missing_paren.trace:3:5"));
}

#[test]
fn stats_counts_ops_by_kind_and_opcode() {
    let o = tracelab(&["stats", LOOP]);
    assert_eq!(code(&o), 0);
    insta::assert_snapshot!(stdout(&o));
}

#[test]
fn dot_prints_a_graphviz_dataflow_graph() {
    let o = tracelab(&["dot", LOOP]);
    assert_eq!(code(&o), 0);
    insta::assert_snapshot!(stdout(&o));
}

const FIXTURES: &str = "testsuite/fixtures/pypy";

#[test]
fn import_summary_of_every_fixture_log() {
    let mut logs: Vec<_> = std::fs::read_dir(root().join(FIXTURES)).unwrap().flatten()
        .map(|e| e.path()).filter(|p| p.extension().is_some_and(|x| x == "log")).collect();
    logs.sort();
    assert!(logs.len() >= 6);
    for p in logs {
        let rel = p.strip_prefix(root()).unwrap().to_string_lossy().into_owned();
        let o = tracelab(&["import-pypy", &rel, "--summary"]);
        assert_eq!(code(&o), 0, "{rel}: {}", stderr(&o));
        let name = p.file_stem().unwrap().to_string_lossy().into_owned();
        insta::assert_snapshot!(format!("summary_{name}"), stdout(&o));
    }
}

#[test]
fn import_writes_paired_trace_files_and_an_index() {
    let dir = std::env::temp_dir().join("tracelab-cli-import");
    let _ = std::fs::remove_dir_all(&dir);
    let o = tracelab(&["import-pypy", &format!("{FIXTURES}/objects.log"), "-o", dir.to_str().unwrap()]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let mut files: Vec<String> = std::fs::read_dir(&dir).unwrap().flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect();
    files.sort();
    assert_eq!(files, ["bridge_7f1f766f2380.noopt.trace", "bridge_7f1f766f2380.opt.trace", "index.tsv", "loop1.noopt.trace", "loop1.opt.trace"]);
    let index = std::fs::read_to_string(dir.join("index.tsv")).unwrap();
    assert!(index.lines().nth(1).unwrap().starts_with("0\tloop1.noopt\tnoopt\tloop\t1\t213\t"), "{index}");
    // Every written file is a valid, canonical trace file on its own.
    for f in files.iter().filter(|f| f.ends_with(".trace")) {
        let p = dir.join(f);
        let o = tracelab(&["fmt", "--check", p.to_str().unwrap()]);
        assert_eq!(code(&o), 0, "{f}: {}", stderr(&o));
        assert_eq!(code(&tracelab(&["verify", p.to_str().unwrap()])), 0);
    }
}

#[test]
fn commands_take_a_log_or_one_trace_of_it() {
    let log = format!("{FIXTURES}/objects.log");
    assert_eq!(code(&tracelab(&["verify", &log])), 0);
    let o = tracelab(&["stats", &format!("{log}#loop1.opt")]);
    assert_eq!(code(&o), 0);
    assert!(stdout(&o).starts_with("trace loop1.opt: 173 ops"), "{}", stdout(&o));
    let o = tracelab(&["fmt", &format!("{log}#2")]);
    assert!(stdout(&o).contains("bridge bridge_7f1f766f2380.noopt from Guard0x7f1f766f2380"), "{}", stdout(&o));
    assert_eq!(code(&tracelab(&["dot", &format!("{log}#3")])), 0);
    let o = tracelab(&["stats", &format!("{log}#loop9")]);
    assert_eq!(code(&o), 1);
    assert!(stderr(&o).contains("no trace `loop9`"));
}

#[test]
fn broken_logs_are_located_and_the_rest_imports() {
    let o = tracelab(&["import-pypy", &format!("{FIXTURES}/broken/corrupted.log"), "--summary"]);
    assert_eq!(code(&o), 1);
    insta::assert_snapshot!("corrupted_stdout", stdout(&o));
    insta::assert_snapshot!("corrupted_stderr", stderr(&o));
    let o = tracelab(&["import-pypy", &format!("{FIXTURES}/broken/truncated.log")]);
    assert_eq!(code(&o), 1);
    insta::assert_snapshot!("truncated_stderr", stderr(&o));
    // A single good trace of a broken log is still usable.
    assert_eq!(code(&tracelab(&["verify", &format!("{FIXTURES}/broken/corrupted.log#3")])), 0);
    assert_eq!(code(&tracelab(&["verify", &format!("{FIXTURES}/broken/corrupted.log#0")])), 1);
}

#[test]
fn run_prints_how_a_trace_ended() {
    let o = tracelab(&["run", "testsuite/traces/run/bridge_continues.trace", "--args", "0,0"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("stopped at guard <Guard0xa1>"), "{out}");
    assert!(out.contains("fail args: [11, 17]"), "{out}");
    assert_eq!(code(&tracelab(&["run", LOOP, "--args", "x"])), 2);
}

#[test]
fn equiv_accepts_a_pass_result_and_rejects_a_different_trace() {
    let dir = std::env::temp_dir();
    let out = dir.join("tracelab-cli-dce.trace");
    let src = "testsuite/traces/passes/dce/removes_unused_pure_ops.trace";
    let o = tracelab(&["opt", src, "-p", "dce", "--check", "-o", out.to_str().unwrap()]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stderr(&o).contains("equivalent on 100 runs: ") && stderr(&o).contains(" went round the loop"), "{}", stderr(&o));
    let o = tracelab(&["equiv", src, out.to_str().unwrap(), "--seeds", "10"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stdout(&o).contains("equivalent on 10 runs: "), "{}", stdout(&o));
    // A trace that stops one step later is not equivalent.
    let text = std::fs::read_to_string(root().join(src)).unwrap().replace("int_lt(i2, 100)", "int_lt(i2, 101)");
    let other = dir.join("tracelab-cli-other.trace");
    std::fs::write(&other, text).unwrap();
    let o = tracelab(&["equiv", src, other.to_str().unwrap(), "--seeds", "10"]);
    assert_eq!(code(&o), 1);
    assert!(stderr(&o).contains("behaviour differs with seed"), "{}", stderr(&o));
}

/// Fuzz findings: two empty files are equivalent (nothing to run in either); a check whose runs
/// mostly trapped before going round the loop fails, or warns with --allow-shallow.
#[test]
fn equiv_of_nothing_passes_and_a_check_that_compared_too_little_fails() {
    let dir = std::env::temp_dir();
    let empty = dir.join("tracelab-cli-empty.trace");
    std::fs::write(&empty, "").unwrap();
    let o = tracelab(&["equiv", empty.to_str().unwrap(), empty.to_str().unwrap()]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stdout(&o).contains("0 runs"), "{}", stdout(&o));
    let o = tracelab(&["equiv", empty.to_str().unwrap(), LOOP]);
    assert_eq!(code(&o), 1, "{}", stdout(&o));
    // Every run divides by zero before the loop: equal, but nothing was compared.
    let trapping = dir.join("tracelab-cli-trapping.trace");
    std::fs::write(&trapping, "loop l [i0, i1] {\n    i2 = int_floordiv(i0, 0)\n    label(i2, i1, descr=TargetToken(1))\n    i3 = int_add(i2, 1)\n    jump(i3, i1, descr=TargetToken(1))\n}\n").unwrap();
    let o = tracelab(&["opt", trapping.to_str().unwrap(), "-p", "dce", "--check", "-o", "/dev/null"]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert!(stderr(&o).contains("compared too little") && stderr(&o).contains("100 of 100 runs trapped before going round a loop"), "{}", stderr(&o));
    let o = tracelab(&["opt", trapping.to_str().unwrap(), "-p", "dce", "--check", "--allow-shallow", "-o", "/dev/null"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stderr(&o).contains("warning: compared too little"), "{}", stderr(&o));
}

#[test]
fn test_command_runs_trace_tests_like_lit() {
    let o = tracelab(&["test", "testsuite/traces/run", "testsuite/traces/passes/dce"]);
    assert_eq!(code(&o), 0, "{}", stdout(&o));
    assert!(stdout(&o).trim_end().ends_with(" passed, 0 failed"), "{}", stdout(&o));
    let bad = std::env::temp_dir().join("tracelab-cli-failing.trace");
    std::fs::write(&bad, "; RUN: tracelab fmt %s | filecheck\nloop l [i0] {\n    jump(i0)\n}\n; CHECK: int_add\n").unwrap();
    let o = tracelab(&["test", bad.to_str().unwrap()]);
    assert_eq!(code(&o), 1);
    let out = stdout(&o);
    assert!(out.contains("FAIL ") && out.contains("CHECK: int_add") && out.trim_end().ends_with("0 passed, 1 failed"), "{out}");
}

#[test]
fn compare_pypy_measures_and_checks_every_loop() {
    let o = tracelab(&["compare-pypy", &format!("{FIXTURES}/objects.log")]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    insta::assert_snapshot!("compare_pypy_objects", stdout(&o));
    let o = tracelab(&["compare-pypy", &format!("{FIXTURES}/objects.log"), "--json"]);
    assert_eq!(code(&o), 0);
    let out = stdout(&o);
    for key in ["\"name\"", "\"noopt_ops\"", "\"tracelab_preamble_ops\"", "\"tracelab_body_ops\"", "\"pypy_preamble_ops\"", "\"pypy_body_ops\"", "\"equivalent\": true", "\"looped\"", "\"compared_too_little\": false"] {
        assert!(out.contains(key), "{key} missing:\n{out}");
    }
}

/// Fuzz finding: one op with thousands of undefined operands wrote each error with the whole
/// line (40 MB for 2,000 operands). Errors are capped per line and per file, long lines cut.
#[test]
fn error_output_stays_small_for_many_errors() {
    let operands: Vec<String> = (0..4000).map(|k| format!("i{}", k + 10)).collect();
    let many_on_a_line = format!(
        "loop l [i0] {{\n    label(i0, descr=TargetToken(1))\n    i1 = int_add({})\n    jump(i0, descr=TargetToken(1))\n}}\n",
        operands.join(", ")
    );
    let lines: String = (0..5000).map(|k| format!("    i{} = int_add(i0, x{k})\n", k + 2)).collect();
    let many_lines = format!("loop l [i0] {{\n    label(i0, descr=TargetToken(1))\n{lines}    jump(i0, descr=TargetToken(1))\n}}\n");
    for (name, text, hidden) in [("many-on-a-line", many_on_a_line, 3990), ("many-lines", many_lines, 4950)] {
        let path = std::env::temp_dir().join(format!("tracelab-cli-{name}.trace"));
        std::fs::write(&path, text).unwrap();
        let o = tracelab(&["verify", path.to_str().unwrap()]);
        assert_eq!(code(&o), 1);
        let e = stderr(&o);
        assert!(e.len() < 16_000, "{name}: {} bytes of errors", e.len());
        assert!(e.contains(&format!("{hidden} more errors not shown")), "{name}: {e}");
        assert!(e.contains("unknown value `i10`") || e.contains("unknown value `x0`"), "{name}: {e}");
    }
}

/// Fuzz finding: a loop carrying about 65,536 values panicked inside Cranelift. Beyond what the
/// backend handles is a clear error, exit 1.
#[test]
fn compiling_a_trace_beyond_the_backends_limit_is_a_clear_error() {
    let n = 10_001;
    let params: Vec<String> = (0..n).map(|k| format!("i{k}")).collect();
    let text = format!("loop l [{0}] {{\n    label({0}, descr=TargetToken(1))\n    jump({0}, descr=TargetToken(1))\n}}\n", params.join(", "));
    let path = std::env::temp_dir().join("tracelab-cli-many-carried.trace");
    std::fs::write(&path, text).unwrap();
    let o = tracelab(&["compile", path.to_str().unwrap()]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert!(stderr(&o).contains("carries 10001 values") && !stderr(&o).contains("panicked"), "{}", stderr(&o));
}

#[test]
fn py_runs_code_and_rejects_unknown_options() {
    let ok = tracelab(&["py", "-c", "print(6 * 7)"]);
    assert_eq!(code(&ok), 0);
    assert_eq!(stdout(&ok), "42\n");
    // An option before the program is the interpreter's: an unknown one is a usage error, not
    // a file name.
    let bad = tracelab(&["py", "--no-such-option", "prog.py"]);
    assert_eq!(code(&bad), 2);
    assert!(String::from_utf8_lossy(&bad.stderr).contains("unknown option '--no-such-option'"));
    // After the file, options belong to the program (`sys.argv`).
    let dir = std::env::temp_dir().join(format!("tracelab-py-argv-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let prog = dir.join("argv.py");
    std::fs::write(&prog, "import sys\nprint(sys.argv[1:])\n").unwrap();
    let args = tracelab(&["py", prog.to_str().unwrap(), "--flag", "-x"]);
    assert_eq!(code(&args), 0);
    assert_eq!(stdout(&args), "['--flag', '-x']\n");
}

/// A loop hot enough at threshold 1: the JIT records, optimizes and compiles it, and the log it
/// writes is a module the other commands read.
const HOT_LOOP: &str = "def f(n):\n    t = 0\n    i = 0\n    while i < n:\n        t = t + i * 2\n        i = i + 1\n    return t\nprint(f(3000))\n";

/// A hot loop whose branch goes the other way on every third iteration: that guard gets a
/// bridge.
const BRANCHY_LOOP: &str = "def f(n):\n    t = 0\n    for i in range(n):\n        if i % 3 == 0:\n            t = t + 1\n        else:\n            t = t + 2\n    return t\nprint(f(3000))\n";

#[test]
fn py_jit_bridges_are_logged_with_the_guard_they_attach_to() {
    let dir = std::env::temp_dir().join(format!("tracelab-py-bridge-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let log = dir.join("bridges.trace");
    let run = tracelab(&["py", "--jit-threshold", "5", "--jit-stats", "--jit-log", log.to_str().unwrap(), "-c", BRANCHY_LOOP]);
    assert_eq!(code(&run), 0, "{}", String::from_utf8_lossy(&run.stderr));
    assert_eq!(stdout(&run), "5000\n");
    let stats = String::from_utf8_lossy(&run.stderr).to_string();
    assert!(!stats.contains("bridges recorded: 0"), "{stats}");
    let text = std::fs::read_to_string(&log).unwrap();
    let bridge = text.lines().find(|l| l.starts_with("bridge bridge_loop_f_")).unwrap_or_else(|| panic!("{text}"));
    // It names a guard of the loop it leaves from, which the log holds.
    let guard = bridge.split(" from ").nth(1).and_then(|r| r.split_whitespace().next()).unwrap_or_else(|| panic!("{bridge}"));
    assert!(text.contains(&format!("descr=<{guard}>")), "{guard} is not in the log:\n{text}");
    assert_eq!(code(&tracelab(&["verify", log.to_str().unwrap()])), 0);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn py_jit_flags_log_and_stats() {
    let dir = std::env::temp_dir().join(format!("tracelab-py-jit-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let log = dir.join("loops.trace");
    let run = tracelab(&["py", "--jit-threshold", "1", "--jit-stats", "--jit-check", "4", "--jit-log", log.to_str().unwrap(), "-c", HOT_LOOP]);
    assert_eq!(code(&run), 0, "{}", String::from_utf8_lossy(&run.stderr));
    assert_eq!(stdout(&run), "8997000\n");
    let stats = String::from_utf8_lossy(&run.stderr).to_string();
    assert!(stats.contains("loops recorded: 1"), "{stats}");
    assert!(stats.contains("traces compiled: 1"), "{stats}");
    assert!(stats.contains("checked against the recorded ones: 1, different: 0"), "{stats}");
    // The log: the loop as recorded and as optimized, which verify and opt read.
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.contains("loop loop_f_") && text.contains("_opt ["), "{text}");
    assert!(text.contains("debug_merge_point('f <string>:4 #"), "{text}");
    assert_eq!(code(&tracelab(&["verify", log.to_str().unwrap()])), 0);
    assert_eq!(code(&tracelab(&["opt", log.to_str().unwrap(), "-O"])), 0);
    // Without the JIT nothing is recorded; the output is the same.
    let plain = tracelab(&["py", "--no-jit", "-c", HOT_LOOP]);
    assert_eq!(stdout(&plain), "8997000\n");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn py_with_guards_failing_at_random_prints_the_same() {
    let run = tracelab(&["py", "--jit-threshold", "1", "--jit-fail-guards", "5", "--jit-stats", "-c", BRANCHY_LOOP]);
    assert_eq!(code(&run), 0, "{}", String::from_utf8_lossy(&run.stderr));
    assert_eq!(stdout(&run), "5000\n");
    let stats = String::from_utf8_lossy(&run.stderr).to_string();
    // Compiled guards failed (the program's own branch and the random failures) and resumed.
    assert!(!stats.contains("guard failures: 0"), "{stats}");
}

#[test]
fn py_jit_flags_that_cannot_work_are_usage_errors() {
    for args in [
        &["py", "--jit-opt", "no-such-pass", "-c", "pass"][..],
        &["py", "--jit-threshold", "0", "-c", "pass"],
        &["py", "--no-jit", "--jit-log", "x.trace", "-c", "pass"],
        &["py", "--no-jit", "--jit-fail-guards", "3", "-c", "pass"],
    ] {
        let out = tracelab(args);
        assert_eq!(code(&out), 2, "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        assert!(!String::from_utf8_lossy(&out.stderr).is_empty(), "{args:?} says why");
    }
}
