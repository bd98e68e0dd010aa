//! `; RUN:` lines: what a `.trace` test runs, in the manner of LLVM's lit.
//!
//! ```text
//! ; RUN: tracelab opt %s -p dce | filecheck
//! ; RUN: tracelab opt %s -p dce | filecheck --check-prefix=DCE
//! ; RUN: not tracelab verify %s 2>&1 | filecheck --check-prefix=ERR
//! ; RUN: tracelab opt %s -p strip-debug | expect
//! ; RUN: tracelab run %s
//! ```
//!
//! `%s` is the test file, `%S` its directory. The command runs in-process (the `tracelab` library); it must exit 0,
//! or non-zero after `not`. `2>&1` appends stderr to the checked output. `| filecheck` checks
//! the output against the file's `CHECK` directives (or `--check-prefix`'s); `| expect` parses
//! the output and compares it, up to renaming of values, with the trace written after
//! `; EXPECT:` (or `--prefix=NAME`, i.e. after `; NAME:`), each of its lines behind `; `.

use super::filecheck;
use tracelab_ir::alpha::alpha_equivalent;

#[derive(Debug, PartialEq)]
pub struct RunLine {
    pub expect_failure: bool,
    pub args: Vec<String>,
    pub merge_stderr: bool,
    pub check: Option<Check>,
}

#[derive(Debug, PartialEq)]
pub enum Check {
    FileCheck { prefix: String },
    Expect { prefix: String },
}

/// The RUN lines of a test file.
pub fn run_lines(text: &str) -> Result<Vec<RunLine>, String> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let Some(rest) = line.trim_start().strip_prefix(';').map(str::trim_start) else { continue };
        let Some(cmd) = rest.strip_prefix("RUN:") else { continue };
        out.push(parse_run(cmd.trim()).map_err(|e| format!("line {}: {e}", i + 1))?);
    }
    Ok(out)
}

fn parse_run(cmd: &str) -> Result<RunLine, String> {
    let (command, check) = match cmd.split_once('|') {
        Some((c, k)) => (c.trim(), Some(k.trim())),
        None => (cmd, None),
    };
    let mut words: Vec<&str> = command.split_whitespace().collect();
    let expect_failure = words.first() == Some(&"not");
    if expect_failure {
        words.remove(0);
    }
    let merge_stderr = words.last() == Some(&"2>&1");
    if merge_stderr {
        words.pop();
    }
    if words.first() != Some(&"tracelab") {
        return Err(format!("a RUN line runs `tracelab ...`, not `{command}`"));
    }
    let args = words[1..].iter().map(|s| s.to_string()).collect();
    let check = check.map(parse_check).transpose()?;
    Ok(RunLine { expect_failure, args, merge_stderr, check })
}

fn parse_check(text: &str) -> Result<Check, String> {
    let mut words = text.split_whitespace();
    let tool = words.next().unwrap_or("");
    let opt = |words: &mut std::str::SplitWhitespace<'_>, flag: &str, default: &str| -> Result<String, String> {
        match words.next() {
            None => Ok(default.to_string()),
            Some(w) => match w.strip_prefix(flag) {
                Some(v) if !v.is_empty() => Ok(v.to_string()),
                Some(_) => words.next().map(str::to_string).ok_or(format!("{flag} needs a value")),
                None => Err(format!("unknown option `{w}`")),
            },
        }
    };
    match tool {
        "filecheck" | "FileCheck" => Ok(Check::FileCheck { prefix: opt(&mut words, "--check-prefix=", "CHECK")? }),
        "expect" => Ok(Check::Expect { prefix: opt(&mut words, "--prefix=", "EXPECT")? }),
        other => Err(format!("unknown check tool `{other}` (filecheck or expect)")),
    }
}

/// The trace text after `; PREFIX:`: the following comment lines, without their `; `.
pub fn expect_block(text: &str, prefix: &str) -> Option<String> {
    let marker = format!("{prefix}:");
    let mut lines = text.lines();
    lines.by_ref().find(|l| l.trim_start().strip_prefix(';').is_some_and(|r| r.trim() == marker))?;
    let mut out = String::new();
    for l in lines {
        let Some(rest) = l.trim_start().strip_prefix(';') else { break };
        let rest = rest.strip_prefix(' ').unwrap_or(rest);
        let head = rest.trim_start();
        if head.starts_with("RUN:") || head.starts_with("CHECK") || head.ends_with(':') && !head.contains(' ') {
            break;
        }
        out.push_str(rest);
        out.push('\n');
    }
    Some(out)
}

fn substitute(run: &RunLine, path: &str) -> Vec<String> {
    let dir = std::path::Path::new(path).parent().map_or(".".to_string(), |d| d.to_string_lossy().into_owned());
    run.args.iter().map(|a| a.replace("%s", path).replace("%S", &dir)).collect()
}

/// The reason after `; NO-EQUIV:`, if the file opts out of the equivalence check of its pipelines.
pub fn no_equiv_reason(text: &str) -> Option<&str> {
    text.lines().find_map(|l| l.trim_start().strip_prefix(';')?.trim().strip_prefix("NO-EQUIV:")).map(str::trim)
}

/// For a RUN line that runs `opt`: the IR after each pass of its pipeline, as text.
pub fn pipeline_snapshot(run: &RunLine, path: &str, _text: &str) -> Result<String, String> {
    if run.expect_failure || run.args.first().map(String::as_str) != Some("opt") {
        return Ok(String::new());
    }
    let mut args = substitute(run, path);
    args.retain(|a| !a.starts_with("--print") && a != "--stats" && a != "--time-passes" && a != "--remarks");
    args.push("--print-after-all".into());
    let mut io = crate::Io::default();
    crate::run_cli(&args, &mut io);
    let shown: Vec<&str> = run.args.iter().map(String::as_str).collect();
    // Paths differ between machines: show the command as written.
    Ok(format!("; RUN: tracelab {}
{}", shown.join(" "), io.err.replace(path, "%s")))
}

/// Runs one RUN line for the test file at `path` whose text is `text`.
pub fn execute(run: &RunLine, path: &str, text: &str) -> Result<(), String> {
    let args = substitute(run, path);
    let mut io = crate::Io::default();
    let code = crate::run_cli(&args, &mut io);
    let shown = || format!("`tracelab {}` exited {code}\n--- stdout\n{}--- stderr\n{}", args.join(" "), io.out, io.err);
    if (code != 0) != run.expect_failure {
        return Err(format!("unexpected exit status: {}", shown()));
    }
    let mut output = io.out.clone();
    if run.merge_stderr {
        output.push_str(&io.err);
    }
    if args.first().map(String::as_str) == Some("opt") && code == 0 && !args.iter().any(|a| a == "-o" || a == "--output") {
        check_pipeline_equivalence(&args, &io.out, text)?;
    }
    match &run.check {
        None => Ok(()),
        Some(Check::FileCheck { prefix }) => {
            filecheck::check(text, &output, prefix).map_err(|e| format!("{e}\n{}", shown()))
        }
        Some(Check::Expect { prefix }) => {
            let want = expect_block(text, prefix).ok_or(format!("no `; {prefix}:` block"))?;
            let want = tracelab_ir::parse(&want).map_err(|d| format!("the {prefix} block does not parse: {d:?}"))?;
            let got = tracelab_ir::parse(&output).map_err(|d| format!("the output does not parse: {d:?}\n{}", shown()))?;
            alpha_equivalent(&got, &want).map_err(|e| format!("output differs from {prefix} (up to renaming): {e}\n{}", shown()))
        }
    }
}

/// A pipeline's output must behave like its input, unless the file opts out with a reason.
fn check_pipeline_equivalence(args: &[String], output: &str, text: &str) -> Result<(), String> {
    match no_equiv_reason(text) {
        Some("") => return Err("`; NO-EQUIV:` needs a reason".into()),
        Some(_) => return Ok(()),
        None => {}
    }
    let input = crate::input::load(&args[1]).map_err(|e| e.to_string())?;
    let out = tracelab_ir::parse(output).map_err(|d| format!("the output of `tracelab {}` does not parse: {d:?}", args.join(" ")))?;
    super::check_equivalent(&input, &out).map_err(|e| format!("`tracelab {}` changed behaviour: {e}", args.join(" ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_run_lines() {
        let r = run_lines("; RUN: not tracelab verify %s 2>&1 | filecheck --check-prefix=ERR\n").unwrap();
        assert_eq!(r[0], RunLine {
            expect_failure: true,
            args: vec!["verify".into(), "%s".into()],
            merge_stderr: true,
            check: Some(Check::FileCheck { prefix: "ERR".into() }),
        });
        assert!(run_lines("; RUN: ls %s").is_err());
        assert!(run_lines("; RUN: tracelab opt %s | grep x").is_err());
    }

    #[test]
    fn reads_expect_blocks() {
        let t = "; EXPECT:\n; loop l [i0] {\n;     jump(i0)\n; }\n; CHECK: x\nloop l [i0] {\n}";
        assert_eq!(expect_block(t, "EXPECT").unwrap(), "loop l [i0] {\n    jump(i0)\n}\n");
    }
}
