//! The `tracelab` command line as a library: [`run_cli`] takes the arguments and returns the
//! exit code with what would go to stdout and stderr, so tests run commands in-process.
//! Exit codes: 0 ok, 1 bad input, 2 usage error.

#[macro_export]
macro_rules! io_out { ($io:expr, $($t:tt)*) => {{ use std::fmt::Write as _; let _ = write!($io.out, $($t)*); }} }
#[macro_export]
macro_rules! io_outln { ($io:expr, $($t:tt)*) => {{ use std::fmt::Write as _; let _ = writeln!($io.out, $($t)*); }} }
#[macro_export]
macro_rules! io_err { ($io:expr, $($t:tt)*) => {{ use std::fmt::Write as _; let _ = write!($io.err, $($t)*); }} }
#[macro_export]
macro_rules! io_errln { ($io:expr, $($t:tt)*) => {{ use std::fmt::Write as _; let _ = writeln!($io.err, $($t)*); }} }

pub mod compare;
pub mod dot;
pub mod exec;
pub mod harness;
pub mod import;
pub mod input;
pub mod native;
pub mod opt;
pub mod py;
pub mod stats;

use clap::{Parser, Subcommand};
use input::{Input, InputError};

/// A workbench for tracing-JIT compiler research: read, check and transform traces.
#[derive(Parser)]
#[command(name = "tracelab", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print the canonical text of trace files.
    ///
    /// Wherever a FILE is expected, a PyPy log works too: `LOG` means all its traces, `LOG#3`
    /// the trace with that index and `LOG#loop1.opt` the one with that name (see import-pypy).
    Fmt {
        /// Trace files (or PyPy logs) to format.
        #[arg(required = true)]
        files: Vec<String>,
        /// Print nothing; exit 1 if some file is not in canonical form.
        #[arg(long)]
        check: bool,
    },
    /// Check that trace files parse and verify; diagnostics go to stderr.
    Verify {
        #[arg(required = true)]
        files: Vec<String>,
    },
    /// Print the dataflow graph of a trace file in Graphviz format.
    Dot { file: String },
    /// Print op counts by opcode and by kind (guards, heap ops, allocations, calls...).
    Stats { file: String },
    /// Run a pipeline of optimizer passes over a trace file and print the result.
    Opt {
        file: String,
        /// Passes to run, comma-separated (see `tracelab passes`).
        #[arg(short = 'p', long = "passes")]
        passes: Option<String>,
        /// Run the default pipeline (before any -p passes).
        #[arg(short = 'O')]
        default_pipeline: bool,
        /// Do not verify after each pass.
        #[arg(long)]
        no_verify: bool,
        /// Print the IR after every pass (to stderr).
        #[arg(long)]
        print_after_all: bool,
        /// Print the IR after the named pass (repeatable).
        #[arg(long, value_name = "PASS")]
        print_after: Vec<String>,
        /// Print a unified diff after each pass that changed something.
        #[arg(long)]
        print_changed: bool,
        /// Print the time each pass took, and the total.
        #[arg(long)]
        time_passes: bool,
        /// Print ops and guards in and out of each pass, and each pass's counters.
        #[arg(long)]
        stats: bool,
        /// Print what each pass did, or why it did not.
        #[arg(long)]
        remarks: bool,
        /// Write the result here instead of stdout.
        #[arg(short = 'o', long = "output")]
        output: Option<String>,
        /// Check that the result behaves like the input (see `tracelab equiv`).
        #[arg(long)]
        check: bool,
        /// Seeds for --check.
        #[arg(long, default_value_t = 100)]
        seeds: u64,
        /// A check whose runs mostly trapped, or never went round the loop, warns instead of
        /// failing.
        #[arg(long)]
        allow_shallow: bool,
        #[command(flatten)]
        run: exec::RunOptions,
    },
    /// List the passes and the default pipeline.
    Passes,
    /// Run a Python program with minipy (`tracelab py FILE [ARGS...]`, `tracelab py -c CODE`).
    Py(py::PyArgs),
    /// Execute a trace with the reference interpreter and print how it ended, the calls it
    /// made and the heap it left.
    Run {
        file: String,
        /// Values of the first inputs, comma-separated (ints, floats, null); the rest are
        /// invented from the seed.
        #[arg(long)]
        args: Option<String>,
        /// Do not learn inputs that get past guards.
        #[arg(long)]
        no_learn: bool,
        /// Run compiled code (the Cranelift backend) instead of the interpreter; the output
        /// has the same format, so the two can be compared with `diff`.
        #[arg(long)]
        native: bool,
        #[command(flatten)]
        cl: native::ClOptions,
        #[command(flatten)]
        opts: exec::RunOptions,
    },
    /// Compile traces to machine code with Cranelift and say what came out.
    Compile {
        file: String,
        /// Only this trace.
        #[arg(long)]
        trace: Option<String>,
        /// Print the Cranelift IR.
        #[arg(long)]
        clif: bool,
        /// Print the machine code.
        #[arg(long)]
        asm: bool,
        /// Time lowering and Cranelift (to stderr).
        #[arg(long)]
        time_passes: bool,
        #[command(flatten)]
        cl: native::ClOptions,
    },
    /// Run `.trace` tests (RUN lines, CHECK directives, EXPECT blocks, round trip, equivalence),
    /// like LLVM's lit. Ends with a line `N passed, N failed`.
    Test {
        /// Files or directories (default: testsuite/traces).
        paths: Vec<String>,
        /// Print every test, not only failures.
        #[arg(short, long)]
        verbose: bool,
    },
    /// For each loop and bridge of a PyPy log: tracelab's -O on the recorded trace against
    /// PyPy's optimized trace (ops in preamble and loop body, guards, ratio of body ops), with an
    /// equivalence check of tracelab's result.
    ComparePypy {
        log: String,
        /// One JSON object per loop or bridge instead of the table.
        #[arg(long)]
        json: bool,
        /// Seeds for the equivalence checks.
        #[arg(long, default_value_t = 20)]
        seeds: u64,
        /// A check whose runs mostly trapped, or never went round the loop, warns instead of
        /// failing.
        #[arg(long)]
        allow_shallow: bool,
        /// The pipeline to measure instead of -O (`name,name<key=value>`).
        #[arg(short = 'p', long = "passes")]
        passes: Option<String>,
    },
    /// Check that two trace files behave the same on seeded inputs.
    Equiv {
        a: String,
        b: String,
        /// How many seeds to try.
        #[arg(long, default_value_t = 100)]
        seeds: u64,
        /// A check whose runs mostly trapped, or never went round the loop, warns instead of
        /// failing.
        #[arg(long)]
        allow_shallow: bool,
        #[command(flatten)]
        opts: exec::RunOptions,
    },
    /// Import a PyPy JIT log: one .trace file per loop and bridge, recorded (noopt) and
    /// optimized (opt), named so that pairs are obvious, plus index.tsv.
    ImportPypy {
        /// A log written with PYPYLOG=jit-log-noopt,jit-log-opt,jit-summary:FILE.
        log: String,
        /// Directory to write the traces and index.tsv into.
        #[arg(short = 'o', long = "output")]
        out_dir: Option<String>,
        /// Print a table of loops and bridges (the default when no -o is given).
        #[arg(long)]
        summary: bool,
    },
}

/// Output of a command: what goes to stdout and to stderr.
#[derive(Default)]
pub struct Io {
    pub out: String,
    pub err: String,
}

/// Runs the command line `args` (without the program name); returns the exit code.
pub fn run_cli<I, S>(args: I, io: &mut Io) -> u8
where
    I: IntoIterator<Item = S>,
    S: Into<std::ffi::OsString> + Clone,
{
    let argv = std::iter::once(std::ffi::OsString::from("tracelab")).chain(args.into_iter().map(Into::into));
    let cli = match Cli::try_parse_from(argv) {
        Ok(c) => c,
        Err(e) => {
            let text = e.render().to_string();
            if e.use_stderr() {
                io.err.push_str(&text);
            } else {
                io.out.push_str(&text);
            }
            return if e.use_stderr() { 2 } else { 0 };
        }
    };
    match run(io, cli.command) {
        Ok(code) => code,
        Err(e) => {
            io_errln!(io, "{e}");
            1
        }
    }
}

fn run(io: &mut Io, cmd: Command) -> Result<u8, InputError> {
    match cmd {
        Command::Fmt { files, check } => fmt(io, &files, check),
        Command::Verify { files } => verify(io, &files),
        Command::Dot { file } => {
            io_out!(io, "{}", dot::render(&input::load(&file)?));
            Ok(0)
        }
        Command::Stats { file } => {
            io_out!(io, "{}", stats::report(&input::load(&file)?));
            Ok(0)
        }
        Command::Opt { file, passes, default_pipeline, no_verify, print_after_all, print_after, print_changed, time_passes, stats, remarks, output, check, seeds, allow_shallow, run } => {
            let check = check.then_some((seeds, run, allow_shallow));
            opt::run(io, opt::OptArgs { file, passes, default_pipeline, no_verify, print_after_all, print_after, print_changed, time_passes, stats, remarks, output, check })
        }
        Command::ComparePypy { log, json, seeds, allow_shallow, passes } => compare::run(io, &log, json, seeds, allow_shallow, passes.as_deref()),
        Command::Test { paths, verbose } => Ok(test(io, &paths, verbose)),
        Command::Run { file, args, no_learn, native, cl, opts } => exec::run(io, &file, args.as_deref(), !no_learn, native.then_some(&cl), &opts),
        Command::Compile { file, trace, clif, asm, time_passes, cl } => {
            native::run(io, native::CompileArgs { file: &file, trace: trace.as_deref(), clif, asm, time_passes, cl: &cl })
        }
        Command::Equiv { a, b, seeds, allow_shallow, opts } => exec::equiv(io, &a, &b, seeds, &opts, allow_shallow),
        Command::Passes => {
            io_out!(io, "{}", opt::list());
            Ok(0)
        }
        Command::Py(args) => Ok(py::run(io, args)),
        Command::ImportPypy { log, out_dir, summary } => {
            let clean = import::run(io, &log, import::Options { out_dir: out_dir.as_deref(), summary })?;
            Ok(if clean { 0 } else { 1 })
        }
    }
}

fn test(io: &mut Io, paths: &[String], verbose: bool) -> u8 {
    let default = ["testsuite/traces".to_string()];
    let paths = if paths.is_empty() { &default[..] } else { paths };
    let (mut passed, mut failed) = (0, 0);
    for root in paths {
        let files = harness::trace_files(std::path::Path::new(root));
        if files.is_empty() {
            io_errln!(io, "error: {root}: no .trace files");
            failed += 1;
        }
        for f in files {
            let name = f.to_string_lossy().replace('\\', "/");
            let case = harness::case_for(&f, name.clone());
            match harness::run_case(&case) {
                Ok(()) => {
                    passed += 1;
                    if verbose {
                        io_outln!(io, "PASS {name}");
                    }
                }
                Err(e) => {
                    failed += 1;
                    io_outln!(io, "FAIL {name}\n{}", e.trim_end());
                }
            }
        }
    }
    io_outln!(io, "{passed} passed, {failed} failed");
    u8::from(failed > 0)
}

fn fmt(io: &mut Io, files: &[String], check: bool) -> Result<u8, InputError> {
    let mut failed = false;
    for path in files {
        let result = Input::read(path).and_then(|i| Ok((i.parse()?, i)));
        let (module, input) = match result {
            Ok(x) => x,
            Err(e) => {
                io_errln!(io, "{e}");
                failed = true;
                continue;
            }
        };
        let text = tracelab_ir::print_module(&module);
        if check {
            if text != input.text {
                io_errln!(io, "{path}: not in canonical form");
                failed = true;
            }
        } else {
            io_out!(io, "{text}");
        }
    }
    Ok(if failed { 1 } else { 0 })
}

fn verify(io: &mut Io, files: &[String]) -> Result<u8, InputError> {
    let mut failed = false;
    for path in files {
        if let Err(e) = input::load(path) {
            io_errln!(io, "{e}");
            failed = true;
        }
    }
    Ok(if failed { 1 } else { 0 })
}
