//! Reading the files named on the command line into verified modules, with diagnostics
//! rendered against the source.

use std::fmt;
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
}

impl Input {
    pub fn read(path: &str) -> Result<Input, InputError> {
        let bytes = std::fs::read(path).map_err(|e| InputError(format!("error: {path}: {e}")))?;
        let text = String::from_utf8(bytes)
            .map_err(|e| InputError(format!("error: {path}: not UTF-8 text (byte {})", e.utf8_error().valid_up_to())))?;
        Ok(Input { path: path.to_string(), text })
    }

    fn render(&self, diags: &[Diagnostic]) -> InputError {
        InputError(SourceFile { name: &self.path, text: &self.text }.render(diags))
    }

    /// Parses without verifying (for `fmt`, which must print what it can read).
    pub fn parse(&self) -> Result<Module, InputError> {
        parse(&self.text).map_err(|d| self.render(&d))
    }

    /// Parses and verifies.
    pub fn load(&self) -> Result<Module, InputError> {
        let m = self.parse()?;
        verify(&m).map_err(|d| self.render(&d))?;
        Ok(m)
    }
}

/// Reads, parses and verifies one file.
pub fn load(path: &str) -> Result<Module, InputError> {
    Input::read(path)?.load()
}
