//! Reading what the command line names: a `.trace` file, a PyPy log (all its traces), or one
//! trace of a PyPy log (`LOG#3` by index, `LOG#loop1.opt` by name). Diagnostics are rendered
//! against the file they point into.

use std::fmt;
use tracelab_frontends::pypy_log::{looks_like_log, PypyLog};
use tracelab_ir::{parse, verify, Diagnostic, Module, SourceFile};

/// Why an input could not be used; always exit code 1 ("bad input").
pub struct InputError(pub String);

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.trim_end())
    }
}

pub struct Input {
    pub path: String,
    pub text: String,
    /// `#selector` after a log's path.
    pub selector: Option<String>,
}

impl Input {
    /// Reads `arg`, which is `PATH` or `PATH#selector` (the latter only for PyPy logs).
    pub fn read(arg: &str) -> Result<Input, InputError> {
        let (path, selector) = match arg.rsplit_once('#') {
            Some((p, s)) if !s.is_empty() && std::path::Path::new(p).is_file() => (p, Some(s.to_string())),
            _ => (arg, None),
        };
        let bytes = std::fs::read(path).map_err(|e| InputError(format!("error: {path}: {e}")))?;
        let text = String::from_utf8(bytes)
            .map_err(|e| InputError(format!("error: {path}: not UTF-8 text (byte {})", e.utf8_error().valid_up_to())))?;
        Ok(Input { path: path.to_string(), text, selector })
    }

    pub fn render(&self, diags: &[Diagnostic]) -> String {
        SourceFile { name: &self.path, text: &self.text }.render(diags)
    }

    pub fn is_log(&self) -> bool {
        self.selector.is_some() || looks_like_log(&self.text)
    }

    /// Parses without verifying (for `fmt`, which prints what it can read).
    pub fn parse(&self) -> Result<Module, InputError> {
        if self.is_log() {
            return self.from_log();
        }
        parse(&self.text).map_err(|d| InputError(self.render(&d)))
    }

    /// Parses and verifies.
    pub fn load(&self) -> Result<Module, InputError> {
        let m = self.parse()?;
        verify(&m).map_err(|d| InputError(self.render(&d)))?;
        Ok(m)
    }

    /// The selected trace of a log, or all of them; any trace that failed is an error.
    fn from_log(&self) -> Result<Module, InputError> {
        let log = PypyLog::import(&self.text);
        if let Some(sel) = &self.selector {
            let i = log.find(sel).ok_or_else(|| {
                InputError(format!("error: {}: no trace `{sel}` (there are {}; `tracelab import-pypy {} --summary` lists them)", self.path, log.traces.len(), self.path))
            })?;
            let t = &log.traces[i];
            return t.module.clone().ok_or_else(|| InputError(self.render(&t.errors)));
        }
        let mut errors: Vec<Diagnostic> = log.problems.clone();
        errors.extend(log.traces.iter().flat_map(|t| t.errors.iter().cloned()));
        if !errors.is_empty() {
            return Err(InputError(self.render(&errors)));
        }
        Ok(log.combined())
    }
}

/// Reads, parses and verifies one input.
pub fn load(arg: &str) -> Result<Module, InputError> {
    Input::read(arg)?.load()
}
