//! The JIT's tunable parameters, with PyPy's defaults (`pypy --jit help`).

/// Thresholds and limits of the trace lifecycle.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JitParams {
    /// Times a loop header is reached before it is traced (PyPy: 1039).
    pub threshold: u32,
    /// Ops a trace may record before it is aborted as too long (PyPy: 6000).
    pub trace_limit: usize,
    /// Failures of one guard before a bridge is traced from it (PyPy: 200).
    pub trace_eagerness: u32,
    /// Aborted traces from one position before it is never traced again.
    pub max_aborts: u32,
}

impl Default for JitParams {
    fn default() -> Self {
        JitParams { threshold: 1039, trace_limit: 6000, trace_eagerness: 200, max_aborts: 3 }
    }
}

impl JitParams {
    /// Parameters with a hot threshold of `threshold` (at least 1), guards as eager to get a
    /// bridge when that is lower than the default (so a low threshold compiles bridges at once
    /// too), and the other defaults.
    pub fn with_threshold(threshold: u32) -> Self {
        let threshold = threshold.max(1);
        let defaults = JitParams::default();
        JitParams { threshold, trace_eagerness: defaults.trace_eagerness.min(threshold), ..defaults }
    }
}
