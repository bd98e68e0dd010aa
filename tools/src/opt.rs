//! `tracelab opt` and `tracelab passes`: run a pipeline of passes, like LLVM's `opt`.

use crate::input::{self, InputError};
use crate::Io;
use tracelab_passes::manager::{self, Options};
use tracelab_passes::{DEFAULT_PIPELINE, REGISTRY};

pub struct OptArgs {
    pub file: String,
    pub passes: Option<String>,
    pub default_pipeline: bool,
    pub no_verify: bool,
    pub print_after_all: bool,
    pub print_after: Vec<String>,
    pub print_changed: bool,
    pub time_passes: bool,
    pub stats: bool,
    pub remarks: bool,
    pub output: Option<String>,
    /// `--check`: seeds and run options for the equivalence check.
    pub check: Option<(u64, crate::exec::RunOptions, bool)>,
}

pub fn run(io: &mut Io, a: OptArgs) -> Result<u8, InputError> {
    let mut pipeline: Vec<manager::Step> = Vec::new();
    if a.default_pipeline {
        pipeline.extend(DEFAULT_PIPELINE.iter().map(|p| manager::Step::new(p)));
    }
    if let Some(p) = &a.passes {
        match manager::parse_pipeline(p) {
            Ok(ps) => pipeline.extend(ps),
            Err(e) => {
                io_errln!(io, "error: {e}");
                return Ok(2);
            }
        }
    }
    for p in &a.print_after {
        if tracelab_passes::find(p).is_none() {
            io_errln!(io, "error: --print-after: {}", manager::Error::UnknownPass(p.clone()));
            return Ok(2);
        }
    }
    let mut m = input::load(&a.file)?;
    let original = a.check.as_ref().map(|_| m.clone());
    let opts = Options {
        verify_each: !a.no_verify,
        print_after_all: a.print_after_all,
        print_after: a.print_after.clone(),
        print_changed: a.print_changed,
        remarks: a.remarks,
        count: a.stats,
    };
    let reports = match manager::run(&mut m, &pipeline, &opts) {
        Ok(r) => r,
        Err(e) => {
            io_err!(io, "error: {e}");
            if let manager::Error::Invalid { text, .. } = &e {
                io_errln!(io, "; the invalid IR:\n{text}");
            }
            return Ok(1);
        }
    };
    for r in &reports {
        if let Some(d) = &r.dump {
            io_err!(io, "{d}");
        }
        if a.remarks {
            for rem in &r.remarks {
                io_errln!(io, "remark: {}: {rem}", r.pass);
            }
        }
    }
    if a.stats {
        io_err!(io, "{}", manager::stats_report(&reports));
    }
    if a.time_passes {
        io_err!(io, "{}", manager::time_report(&reports));
    }
    if let (Some(orig), Some((seeds, run, allow_shallow))) = (&original, &a.check) {
        let mut check_io = Io::default();
        let code = crate::exec::equiv_modules(&mut check_io, orig, &m, *seeds, run, *allow_shallow);
        io.err.push_str(&check_io.out);
        io.err.push_str(&check_io.err);
        if code != 0 {
            return Ok(1);
        }
    }
    let text = tracelab_ir::print_module(&m);
    match &a.output {
        Some(path) => std::fs::write(path, text).map_err(|e| InputError(format!("error: {path}: {e}")))?,
        None => io_out!(io, "{text}"),
    }
    Ok(0)
}

/// `tracelab passes`: every pass with its description, and the default pipeline.
pub fn list() -> String {
    let mut s = String::from("passes:\n");
    for p in REGISTRY {
        s.push_str(&format!("  {:<16} {}\n", p.name, p.description));
    }
    s.push_str(&format!("default pipeline (-O): {}\n", DEFAULT_PIPELINE.join(",")));
    s
}
