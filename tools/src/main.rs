//! The `tracelab` command line. Exit codes: 0 ok, 1 bad input, 2 usage error.

mod dot;
mod import;
mod input;
mod stats;

use clap::{Parser, Subcommand};
use input::{Input, InputError};
use std::process::ExitCode;

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

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli.command) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("{e}");
            ExitCode::from(1)
        }
    }
}

fn run(cmd: Command) -> Result<ExitCode, InputError> {
    match cmd {
        Command::Fmt { files, check } => fmt(&files, check),
        Command::Verify { files } => verify(&files),
        Command::Dot { file } => {
            print!("{}", dot::render(&input::load(&file)?));
            Ok(ExitCode::SUCCESS)
        }
        Command::Stats { file } => {
            print!("{}", stats::report(&input::load(&file)?));
            Ok(ExitCode::SUCCESS)
        }
        Command::ImportPypy { log, out_dir, summary } => {
            let clean = import::run(&log, import::Options { out_dir: out_dir.as_deref(), summary })?;
            Ok(if clean { ExitCode::SUCCESS } else { ExitCode::from(1) })
        }
    }
}

fn fmt(files: &[String], check: bool) -> Result<ExitCode, InputError> {
    let mut failed = false;
    for path in files {
        let result = Input::read(path).and_then(|i| Ok((i.parse()?, i)));
        let (module, input) = match result {
            Ok(x) => x,
            Err(e) => {
                eprintln!("{e}");
                failed = true;
                continue;
            }
        };
        let text = tracelab_ir::print_module(&module);
        if check {
            if text != input.text {
                eprintln!("{path}: not in canonical form");
                failed = true;
            }
        } else {
            print!("{text}");
        }
    }
    Ok(if failed { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

fn verify(files: &[String]) -> Result<ExitCode, InputError> {
    let mut failed = false;
    for path in files {
        if let Err(e) = input::load(path) {
            eprintln!("{e}");
            failed = true;
        }
    }
    Ok(if failed { ExitCode::from(1) } else { ExitCode::SUCCESS })
}
