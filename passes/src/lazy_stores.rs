//! Delayed stores (PyPy's lazy setfields), the one component `heap` and `escape` hold stores
//! back with: a store to a field, or to an array item at a constant index, is held instead of
//! emitted. A later store to the same slot of the same object drops it (nobody could have seen
//! it); anything that might read the slot (a load of the descr through another object, a call
//! whose effects say so, the end of the trace or of a loop iteration; see `ir::effects`) has
//! the held stores done first, in their original order; a guard lists them in its resume data
//! as pending writes, so that failing there leaves memory as the original would have. `heap`
//! holds stores of real values; `escape` holds stores of virtuals into real objects (a store
//! it does materializes the virtual first, so it takes the stores and emits them itself).

use tracelab_ir::descr::DescrId;
use tracelab_ir::resume::{GuardInfo, PendingWrite, ResumeValue};
use tracelab_ir::cursor::Cursor;
use tracelab_ir::{Const, Op, Opcode, Trace, Value};

/// A held-back store. `index` is a constant item index, or `None` for a field.
#[derive(Clone, Copy, PartialEq, Debug)]
pub struct Store {
    pub object: Value,
    pub descr: DescrId,
    pub index: Option<u32>,
    pub value: Value,
}

#[derive(Default)]
pub struct LazyStores {
    stores: Vec<Store>,
}

impl LazyStores {
    pub fn is_empty(&self) -> bool {
        self.stores.is_empty()
    }

    /// Holds `s` back; returns how many held stores it overwrote (and so dropped).
    pub fn push(&mut self, s: Store) -> i64 {
        let before = self.stores.len();
        self.stores.retain(|o| !(o.object == s.object && o.descr == s.descr && o.index == s.index));
        let dropped = (before - self.stores.len()) as i64;
        self.stores.push(s);
        dropped
    }

    /// Drops a held store to this slot, if there is one (a store the pass does itself
    /// overwrites it).
    pub fn forget(&mut self, object: Value, descr: DescrId, index: Option<u32>) {
        self.stores.retain(|o| !(o.object == object && o.descr == descr && o.index == index));
    }

    /// The held stores, in order.
    pub fn iter(&self) -> std::slice::Iter<'_, Store> {
        self.stores.iter()
    }

    /// Takes the held stores `which` selects, in order (the caller does them).
    pub fn take(&mut self, which: impl Fn(&Store) -> bool) -> Vec<Store> {
        // Most ops find nothing to take: no lists built for them.
        if !self.stores.iter().any(&which) {
            return Vec::new();
        }
        let mut now = Vec::new();
        self.stores.retain(|s| !which(s) || {
            now.push(*s);
            false
        });
        now
    }

    /// Emits the held stores `which` selects, in order (where they are: no list is built).
    pub fn emit(&mut self, cur: &mut Cursor, which: impl Fn(&Store) -> bool) {
        if !self.stores.iter().any(&which) {
            return;
        }
        self.stores.retain(|s| !which(s) || {
            let op = store_op(cur.t, s);
            cur.emit(op);
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
            for v in [s.object, s.value] {
                if !t.is_const(v) && !fail_args.contains(&Some(v)) {
                    fail_args.push(Some(v));
                }
            }
            pending.push(PendingWrite { object: ResumeValue::Value(s.object), descr: s.descr, index: s.index, value: ResumeValue::Value(s.value) });
        }
        pending.append(&mut resume.pending);
        resume.pending = pending;
        GuardInfo { id: g.id, fail_args, resume: Some(resume) }
    }
}

/// The op that does store `s` (with `t`'s values).
pub fn store_op(t: &mut Trace, s: &Store) -> Op {
    let op = match s.index {
        None => Op::new(Opcode::SetfieldGc, &[s.object, s.value]),
        Some(i) => {
            let idx = t.int(i64::from(i));
            Op::new(Opcode::SetarrayitemGc, &[s.object, idx, s.value])
        }
    };
    op.with_descr(s.descr)
}

/// The item index a store may be held back with: a small non-negative constant.
pub fn holdable_index(t: &Trace, index: Value) -> Option<u32> {
    match t.as_const(index) {
        Some(Const::Int(n)) => u32::try_from(*n).ok(),
        _ => None,
    }
}
