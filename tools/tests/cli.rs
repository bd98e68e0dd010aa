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
