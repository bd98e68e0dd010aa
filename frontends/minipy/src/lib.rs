//! minipy: a small Python interpreter, tracelab's first live frontend.
//!
//! Source is parsed by ruff's parser and compiled ([`compile`], names resolved by [`scope`])
//! to minipy's bytecode ([`bytecode`]), which [`interp`] runs against an execution context
//! ([`exec`]) on tracelab's moving GC (`tracelab_runtime::gc`), with objects laid out as
//! [`layout`] declares them. [`run_main`] runs a program as `python3 FILE` would.

pub mod array;
pub mod attr;
pub mod builtins;
pub mod bytecode;
pub mod call;
pub mod compile;
pub mod dict;
pub mod effects;
pub mod exceptions;
pub mod exec;
pub mod format;
pub mod helpers;
pub mod interp;
pub mod io;
pub mod iter;
pub mod jit;
pub mod layout;
pub mod list;
pub mod maps;
pub mod methods;
pub mod modules;
pub mod ops;
pub mod repr;
pub mod scope;
pub mod seq;
pub mod set;
pub mod syntaxerr;
pub mod strmethods;
pub mod types;
pub mod vm;

use crate::bytecode::CodeId;
use crate::vm::{Exc, Res, Vm};
use tracelab_runtime::gc::{GcConfig, Ref};

/// Compiles and runs `source` as a module whose namespace is `globals`.
pub fn run_source(vm: &mut Vm, source: &str, filename: &str, globals: Ref) -> Res<()> {
    let gr = vm.root(globals);
    let id = match compile_source(vm, source, filename) {
        Ok(id) => id,
        Err(e) => {
            let msg = format!("{} ({}, line {})", e.message, filename, e.line);
            return vm.raise(Exc::SyntaxError_, msg);
        }
    };
    let frame = call::namespace_frame(vm, id, vm.get(gr), vm.get(gr), Ref::NULL)?;
    interp::run_nested(vm, frame).map(|_| ())
}

/// A located compile error (syntax error or unsupported construct).
pub struct SourceError {
    pub kind: compile::ErrorKind,
    pub message: String,
    pub line: u32,
    pub column: u32,
    pub text: String,
}

pub fn compile_source(vm: &mut Vm, source: &str, filename: &str) -> Result<CodeId, SourceError> {
    let mut codes = Vec::new();
    match compile::compile_module(source, filename, "<module>", &mut codes) {
        Ok(id) => {
            let first = vm.codes.len() as u32;
            if vm.add_codes(codes).is_err() {
                return Err(SourceError { kind: compile::ErrorKind::Syntax, message: "out of memory".into(), line: 0, column: 0, text: String::new() });
            }
            Ok(CodeId(first + id.0))
        }
        Err(e) => {
            let lines = compile::LineIndex::new(source);
            let line = lines.line(e.offset);
            let start = lines.line_start(line) as usize;
            let text = source[start..].lines().next().unwrap_or("").to_string();
            let column = source[start..(e.offset as usize).min(source.len())].chars().count() as u32 + 1;
            Err(SourceError { kind: e.kind, message: e.message, line, column, text })
        }
    }
}

/// How a program ended (with its output when it was captured).
pub struct Outcome {
    pub exit_code: i32,
    pub stdout: String,
    pub stderr: String,
    /// What the JIT did, when it ran.
    pub jit: Option<jit::JitReport>,
}

/// Options of a run.
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    pub gc: GcConfig,
    pub gc_stats: bool,
    /// Keep stdout and stderr in the [`Outcome`] instead of writing them.
    pub capture: bool,
    /// Run with the tracing JIT (`None`: interpret only).
    pub jit: Option<jit::JitOptions>,
    /// Print the JIT's summary to stderr when the program ends.
    pub jit_stats: bool,
    /// Write the JIT's log (every trace, aborts, the summary) here when the program ends.
    pub jit_log: Option<std::path::PathBuf>,
}

/// Runs a program as `python3 FILE ARGS...` does: output to stdout, errors and tracebacks to
/// stderr, the exit code CPython would give (1 for an uncaught exception or a syntax error).
pub fn run_main(source: &str, filename: &str, argv: Vec<String>, script_dir: std::path::PathBuf, options: &RunOptions) -> Outcome {
    let mut vm = Vm::new(options.gc.clone());
    vm.argv = argv;
    vm.script_dir = script_dir;
    if options.capture {
        vm.out.capture = Some(Vec::new());
        vm.out.err_capture = Some(String::new());
    }
    if let Some(jo) = &options.jit {
        let jo = jit::JitOptions { log: options.jit_log.is_some(), ..jo.clone() };
        match jit::Jit::new(&jo) {
            Ok(j) => vm.jit = Some(Box::new(j)),
            Err(e) => return Outcome { exit_code: 2, stdout: String::new(), stderr: format!("tracelab py: {e}\n"), jit: None },
        }
    }
    let mut code = run_main_in(&mut vm, source, filename);
    vm.files.close_all();
    vm.out.flush();
    if options.gc_stats {
        let report = gc_report(&vm);
        vm.out.write_err(&report);
    }
    let mut jit_report = None;
    if let Some(j) = vm.jit.take() {
        jit_report = Some(j.report());
        if options.jit_stats {
            vm.out.write_err(&format!("JIT summary:\n{}", jit::summary(&j.report())));
        }
        if let (Some(path), Some(text)) = (&options.jit_log, j.log_text()) {
            if let Err(e) = std::fs::write(path, text) {
                vm.out.write_err(&format!("tracelab py: can't write the JIT log '{}': {e}\n", path.display()));
                code = code.max(1);
            }
        }
    }
    let stdout = String::from_utf8_lossy(&vm.out.capture.take().unwrap_or_default()).into_owned();
    let stderr = vm.out.err_capture.take().unwrap_or_default();
    Outcome { exit_code: code, stdout, stderr, jit: jit_report }
}

fn run_main_in(vm: &mut Vm, source: &str, filename: &str) -> i32 {
    let id = match compile_source(vm, source, filename) {
        Ok(id) => id,
        Err(e) => {
            let text = format_source_error(&e, filename);
            vm.out.write_err(&text);
            return 1;
        }
    };
    let globals = match main_globals(vm) {
        Ok(g) => g,
        Err(_) => return 1,
    };
    let result = call::namespace_frame(vm, id, globals, globals, Ref::NULL).and_then(|f| interp::run_nested(vm, f));
    match result {
        Ok(_) => 0,
        Err(_) => report_uncaught(vm),
    }
}

fn main_globals(vm: &mut Vm) -> Res<Ref> {
    let g = dict::new(vm, layout::DICT)?;
    let gr = vm.root(g);
    let name = vm.new_str("__main__")?;
    dict::set_str(vm, vm.get(gr), "__name__", name)?;
    let modules = vm.modules();
    let m = vm.alloc(layout::MODULE, 0)?;
    let name = vm.new_str("__main__")?;
    vm.heap.set_field(m, layout::MODULE_NAME, name);
    vm.heap.set_field(m, layout::MODULE_DICT, vm.get(gr));
    dict::set_str(vm, modules, "__main__", m)?;
    Ok(vm.get(gr))
}

/// Prints an uncaught exception as CPython does; `SystemExit` exits with its code.
fn report_uncaught(vm: &mut Vm) -> i32 {
    let e = vm.exception();
    if vm.exception_is(Exc::SystemExit) {
        let args = exceptions::args_of(vm, e);
        let code = if vm.heap.len(args) == 0 { vm.none } else { vm.heap.field(args, layout::ITEMS) };
        if code == vm.none {
            return 0;
        }
        if let Some(ops::Num::Small(c)) = ops::int_of(vm, code) {
            return c as i32;
        }
        let text = repr::str(vm, code).unwrap_or_default();
        vm.out.write_err(&format!("{text}\n"));
        return 1;
    }
    let text = exceptions::format_uncaught(vm, e);
    vm.out.write_err(&text);
    1
}

/// CPython's report of a syntax error in the main script.
pub fn format_source_error(e: &SourceError, filename: &str) -> String {
    let kind = match e.kind {
        compile::ErrorKind::Syntax => "SyntaxError",
        compile::ErrorKind::Indentation => "IndentationError",
        compile::ErrorKind::Unsupported => "NotImplementedError",
    };
    let trimmed = e.text.trim_start();
    let indent = e.text.len() - trimmed.len();
    let caret = (e.column as usize).saturating_sub(1 + indent);
    format!(
        "  File \"{filename}\", line {}\n    {}\n    {}^\n{kind}: {}\n",
        e.line,
        trimmed.trim_end(),
        " ".repeat(caret),
        e.message
    )
}

/// `--gc-stats`: what the collector did.
pub fn gc_report(vm: &Vm) -> String {
    let s = vm.heap.stats();
    format!(
        "gc: {} minor and {} major collections, {} bytes allocated, {} bytes copied, {:.3} ms in GC, longest pause {:.3} ms, peak heap {} bytes\n",
        s.minor_collections,
        s.major_collections,
        s.bytes_allocated,
        s.bytes_copied,
        s.time_in_gc.as_secs_f64() * 1e3,
        s.longest_pause.as_secs_f64() * 1e3,
        s.peak_heap_bytes
    )
}
