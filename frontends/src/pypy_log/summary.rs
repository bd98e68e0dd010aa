//! PyPy's `jit-summary` section: what PyPy itself counted and timed while it ran, the yardstick
//! for tracelab's own backend times.

/// The figures of a log's (last) `jit-summary` section.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct JitSummary {
    /// Traces PyPy tracing took, and the seconds it spent.
    pub tracing: Option<(u64, f64)>,
    /// Loops and bridges PyPy's backend compiled, and the seconds it spent.
    pub backend: Option<(u64, f64)>,
    /// Ops PyPy's optimizer produced (what the backend compiled).
    pub opt_ops: Option<u64>,
    pub recorded_ops: Option<u64>,
}

/// The last `jit-summary` section of a log, if it has one.
pub fn jit_summary(log: &str) -> Option<JitSummary> {
    let start = log.rfind("{jit-summary")?;
    let body = &log[start..];
    let body = &body[..body.find("jit-summary}").unwrap_or(body.len())];
    let mut s = JitSummary::default();
    for line in body.lines() {
        let Some((key, rest)) = line.split_once(':') else { continue };
        let nums: Vec<&str> = rest.split_whitespace().collect();
        let pair = || Some((nums.first()?.parse().ok()?, nums.get(1)?.parse().ok()?));
        let one = || nums.first()?.parse().ok();
        match key.trim() {
            "Tracing" => s.tracing = pair(),
            "Backend" => s.backend = pair(),
            "opt ops" => s.opt_ops = one(),
            "recorded ops" => s.recorded_ops = one(),
            _ => {}
        }
    }
    Some(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_backend_time_and_ops() {
        let log = "[1] {jit-summary\nTracing:      \t8\t0.006995\nBackend:      \t8\t0.001196\nTOTAL:      \t\t0.010895\nops:             \t3225\nrecorded ops:    \t889\nopt ops:         \t581\n[2] jit-summary}\n";
        let s = jit_summary(log).unwrap();
        assert_eq!(s.backend, Some((8, 0.001196)));
        assert_eq!(s.tracing, Some((8, 0.006995)));
        assert_eq!(s.opt_ops, Some(581));
        assert_eq!(s.recorded_ops, Some(889));
        assert_eq!(jit_summary("no summary"), None);
    }
}
