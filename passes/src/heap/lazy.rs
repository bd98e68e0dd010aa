//! Delayed stores for `heap` (PyPy's lazy setfields): a store to a field, or to an array item at
//! a constant index, is held back instead of emitted. A later store to the same slot of the same
//! object drops it (nobody could have seen it); anything that might read the slot (a load of the
//! descr through another object, a call, the end of the trace or of a loop iteration) has the
//! held stores emitted first, in their original order; a guard lists them in its resume data
//! as pending writes, so that failing there leaves memory as the original would have.

use tracelab_ir::descr::DescrId;
use tracelab_ir::resume::{GuardInfo, PendingWrite, ResumeValue};
use tracelab_ir::cursor::Cursor;
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
    pub fn emit(&mut self, cur: &mut Cursor, which: impl Fn(&Store) -> bool) {
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
                    let idx = cur.t.int(i64::from(i));
                    Op::new(Opcode::SetarrayitemGc, &[s.obj, idx, s.value])
                }
            };
            cur.emit(op.with_descr(s.descr));
            false
        });
    }

    /// `g` with the held stores added to its resume data (and their values to its fail args).
    /// Built anew with room for everything (the guard's data is shared with the trace being
    /// copied: growing a copy of it would move it again).
    pub fn described(&self, t: &Trace, g: &GuardInfo) -> GuardInfo {
        // Made before the fail args grow, so that a frame made from them holds only the
        // original ones.
        let mut resume = g.resume_or_default();
        let mut fail_args = Vec::with_capacity(g.fail_args.len() + 2 * self.stores.len());
        fail_args.extend_from_slice(&g.fail_args);
        // Writes already pending there (stores of virtuals `escape` delayed) came after every
        // store of the same field still in the trace (escape does those first), so the stores
        // held here go before them.
        let mut pending = Vec::with_capacity(self.stores.len() + resume.pending.len());
        for s in &self.stores {
            for v in [s.obj, s.value] {
                if !t.is_const(v) && !fail_args.contains(&Some(v)) {
                    fail_args.push(Some(v));
                }
            }
            pending.push(PendingWrite { object: ResumeValue::Value(s.obj), descr: s.descr, index: s.index, value: ResumeValue::Value(s.value) });
        }
        pending.append(&mut resume.pending);
        resume.pending = pending;
        GuardInfo { id: g.id, fail_args, resume: Some(resume) }
    }
}

/// The item index a store may be held back with: a small non-negative constant.
pub fn holdable_index(t: &Trace, index: Value) -> Option<u32> {
    match t.as_const(index) {
        Some(Const::Int(n)) => u32::try_from(*n).ok(),
        _ => None,
    }
}
