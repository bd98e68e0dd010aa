//! Compiled traces as the runtime enters them, by trace index. The table may grow between
//! runs: a trace added to compiled code (a bridge, a loop) gets its entry here.

use super::ctx::{EntryFn, Leave};
use tracelab_ir::entity::EntityRef;
use tracelab_ir::trace::ValueDef;
use tracelab_ir::{Const, TraceId, Value};

/// One compiled trace, as the runtime enters it.
pub struct NativeCode {
    pub(crate) entry: EntryFn,
    pub(crate) entries: Vec<usize>,
    pub(crate) exits: Vec<Leave>,
    /// The trace's `ConstPtr` values: their slots get the objects' addresses on entry.
    pub(crate) const_ptrs: Vec<(Value, Const)>,
}

impl NativeCode {
    /// # Safety
    /// `entry` must be code compiled from `t` that can be entered at each op of `entries`
    /// with a context whose frame is `t`'s, and that returns 0 or an exit number of `exits`.
    pub unsafe fn new(t: &tracelab_ir::Trace, entry: EntryFn, entries: Vec<usize>, exits: Vec<Leave>) -> NativeCode {
        // Those the ops use: a pass may leave constants in the table that nothing uses.
        let mut seen = std::collections::HashSet::new();
        let used = t.ops.values().flat_map(|op| op.uses()).filter(|&v| seen.insert(v));
        let const_ptrs = used.filter_map(|v| match &t.values[v].def {
            ValueDef::Const(c @ Const::Ptr(_)) => Some((v, c.clone())),
            _ => None,
        });
        NativeCode { entry, entries, exits, const_ptrs: const_ptrs.collect() }
    }
}

impl NativeCode {
    /// Where the compiled function starts.
    pub fn entry_address(&self) -> usize {
        self.entry as usize
    }
}

/// Compiled code of a module's traces, by trace index (`None`: interpreted).
#[derive(Default)]
pub struct CodeTable {
    pub traces: Vec<Option<NativeCode>>,
}

impl CodeTable {
    /// The code to enter trace `tid` at op `pc` with, if there is some.
    pub(crate) fn at(&self, tid: TraceId, pc: usize) -> Option<&NativeCode> {
        self.traces.get(tid.index())?.as_ref().filter(|c| c.entries.contains(&pc))
    }
}

