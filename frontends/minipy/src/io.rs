//! Program output (buffered stdout, flushed at exit and before anything goes to stderr), open
//! files, and source lines for tracebacks.

use std::io::Write;

#[derive(Default)]
pub struct Output {
    buf: Vec<u8>,
    /// Captured output instead of stdout (tests).
    pub capture: Option<Vec<u8>>,
    /// Captured standard error (tests); `None` writes to the process's stderr.
    pub err_capture: Option<String>,
}

impl Output {
    /// Writes to standard error, after what stdout holds so far.
    pub fn write_err(&mut self, s: &str) {
        match &mut self.err_capture {
            Some(c) => c.push_str(s),
            None => {
                self.flush();
                eprint!("{s}");
            }
        }
    }

    pub fn write(&mut self, s: &str) {
        match &mut self.capture {
            Some(c) => c.extend_from_slice(s.as_bytes()),
            None => {
                self.buf.extend_from_slice(s.as_bytes());
                if self.buf.len() > 1 << 16 {
                    self.flush();
                }
            }
        }
    }

    pub fn flush(&mut self) {
        if !self.buf.is_empty() {
            let mut out = std::io::stdout().lock();
            // A closed pipe is not the program's error: the rest of the output is dropped.
            let _ = out.write_all(&self.buf);
            let _ = out.flush();
            self.buf.clear();
        }
    }
}

/// Open files: text read at open (for reading) or collected and written at close.
#[derive(Default)]
pub struct Files {
    pub open: Vec<Option<OpenFile>>,
}

pub struct OpenFile {
    pub path: std::path::PathBuf,
    pub writing: bool,
    pub text: String,
    pub pos: usize,
}

impl Files {
    pub fn add(&mut self, f: OpenFile) -> usize {
        self.open.push(Some(f));
        self.open.len() - 1
    }

    pub fn get(&mut self, id: usize) -> Option<&mut OpenFile> {
        self.open.get_mut(id).and_then(|f| f.as_mut())
    }

    /// Closes a file, writing what was written to it.
    pub fn close(&mut self, id: usize) -> std::io::Result<()> {
        if let Some(f) = self.open.get_mut(id).and_then(|f| f.take()) {
            if f.writing {
                std::fs::write(&f.path, f.text.as_bytes())?;
            }
        }
        Ok(())
    }

    pub fn close_all(&mut self) {
        for id in 0..self.open.len() {
            let _ = self.close(id);
        }
    }
}

/// Line `line` (1-based) of a source file, for tracebacks.
pub fn source_line(file: &str, line: u32) -> Option<String> {
    if file.starts_with('<') {
        return None;
    }
    let text = std::fs::read_to_string(file).ok()?;
    text.lines().nth(line.checked_sub(1)? as usize).map(str::to_string)
}
