//! The `tracelab` binary: the command line of [`tracelab::run_cli`].

use std::io::Write;
use std::process::ExitCode;

fn main() -> ExitCode {
    let mut io = tracelab::Io::default();
    let code = tracelab::run_cli(std::env::args_os().skip(1), &mut io);
    let _ = std::io::stdout().write_all(io.out.as_bytes());
    let _ = std::io::stderr().write_all(io.err.as_bytes());
    ExitCode::from(code)
}
