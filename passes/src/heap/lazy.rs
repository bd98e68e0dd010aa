//! Delayed stores for `heap` (PyPy's lazy setfields): a store to a field, or to an array item at
//! a constant index, is held back instead of emitted. A later store to the same slot of the same
//! object drops it (nobody could have seen it); anything that might read the slot (a load of the
//! descr through another object, a call, the end of the trace or of a loop iteration) has the
//! held stores emitted first, in their original order; a guard lists them in its resume data
//! as pending writes, so that failing there leaves memory as the original would have.

use tracelab_ir::descr::DescrId;
use tracelab_ir::resume::{GuardInfo, PendingWrite, ResumeValue};
use tracelab_ir::rewrite::Rewriter;
use tracelab_ir::{Const, Op, Opcode, Trace, Value};

/// A held-back store (values of the new trace). `index` is a constant item index, or `None`
/// for a field.
#[derive(Clone, Copy, PartialEq, Debug)]
pub struct Store {
    pub obj: Value,
    pub descr: DescrId,
    pub index: Option<u32>,
    pub value: Value,
}

#[derive(Default)]
pub struct Lazy {
    stores: Vec<Store>,
}

impl Lazy {
    pub fn is_empty(&self) -> bool {
        self.stores.is_empty()
    }

    /// Holds `s` back; returns how many held stores it overwrote (and so dropped).
    pub fn push(&mut self, s: Store) -> i64 {
        let before = self.stores.len();
        self.stores.retain(|o| !(o.obj == s.obj && o.descr == s.descr && o.index == s.index));
        let dropped = (before - self.stores.len()) as i64;
        self.stores.push(s);
        dropped
    }

    /// Emits the held stores `which` selects, in order.
    pub fn emit(&mut self, rw: &mut Rewriter, which: impl Fn(&Store) -> bool) {
        // Most loads find nothing to emit: no lists built for them.
        if !self.stores.iter().any(&which) {
            return;
        }
        self.stores.retain(|s| {
            if !which(s) {
                return true;
            }
            let op = match s.index {
                None => Op::new(Opcode::SetfieldGc, &[s.obj, s.value]),
                Some(i) => {
                    let idx = rw.new.int(i64::from(i));
                    Op::new(Opcode::SetarrayitemGc, &[s.obj, idx, s.value])
                }
            };
            rw.push(op.with_descr(s.descr));
            false
        });
    }

    /// Adds the held stores to a guard's resume data (and their values to its fail args).
    pub fn describe(&self, t: &Trace, g: &mut GuardInfo) {
        if self.stores.is_empty() {
            return;
        }
        // First, so that a frame made from the fail args holds only the original ones.
        g.ensure_resume();
        // Writes already pending there (stores of virtuals `escape` delayed) came after every
        // store of the same field still in the trace (escape does those first), so the stores
        // held here go before them.
        let mut held = Vec::with_capacity(self.stores.len());
        // Room for every value at once (growing one push at a time cost most of this pass).
        g.fail_args.reserve(2 * self.stores.len());
        for s in &self.stores {
            for v in [s.obj, s.value] {
                if !t.is_const(v) && !g.fail_args.contains(&Some(v)) {
                    g.fail_args.push(Some(v));
                }
            }
            held.push(PendingWrite { object: ResumeValue::Value(s.obj), descr: s.descr, index: s.index, value: ResumeValue::Value(s.value) });
        }
        let pending = &mut g.ensure_resume().pending;
        if pending.is_empty() {
            *pending = held;
        } else {
            pending.splice(0..0, held);
        }
    }
}

/// The item index a store may be held back with: a small non-negative constant.
pub fn holdable_index(t: &Trace, index: Value) -> Option<u32> {
    match t.as_const(index) {
        Some(Const::Int(n)) => u32::try_from(*n).ok(),
        _ => None,
    }
}
