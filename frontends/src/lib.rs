//! Frontends: where traces come from. Today: PyPy's JIT logs ([`pypy_log`]). Interpreters
//! that record traces through tracelab's frontend API come here too.

pub mod bridge_facts;
pub mod pypy_log;
