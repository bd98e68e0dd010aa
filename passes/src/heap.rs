//! `heap`: load/store forwarding and redundant load elimination (PyPy's `heap` optimization;
//! LuaJIT's store-to-load forwarding), with alias analysis by descr.
//!
//! One forward walk keeps a cache of what memory is known to hold:
//! - `getfield(p, d)` after `setfield(p, v, d)` or an earlier `getfield(p, d)` is that value;
//!   likewise `getarrayitem(p, i, d)` for the same index value (constant or not), and
//!   `arraylen_gc(p)` after an earlier one or after `new_array(n)`.
//! - Different descrs never alias. A write `setfield(p, v, d)` forgets `(q, d)` for every other
//!   `q` (it might be `p`); an array write forgets every item of that descr except those at a
//!   different constant index when its own index is constant.
//! - Calls invalidate by effect class: elidable (EF 0, 3, 4) and loop-invariant (EF 1) calls
//!   write nothing; any other call may write anything, so the cache is emptied, except fields
//!   and arrays marked `pure` (immutable), which no one writes after allocation.
//! - A `label` empties the cache (the back edge brings memory from the end of the loop), and so
//!   does any other op that writes memory in a way this pass does not track.
//! - `quasiimmut_field(p, d)` is dropped if the same one is already in force, and a
//!   `guard_not_invalidated` if no call since the last one could have invalidated anything.
//!
//! Not done here (documented for the next steps): delaying writes so that a write overwritten
//! before anyone can observe it is dropped, and the pending writes a guard needs in its resume
//! data. One walk, linear: each op does a constant number of hash operations, except writes,
//! which drop the cache entries of their descr.

use crate::{map_traces, Pass, PassContext};
use std::collections::{HashMap, HashSet};
use tracelab_ir::descr::{DescrData, DescrId};
use tracelab_ir::rewrite::Rewriter;
use tracelab_ir::{Module, Op, OpId, Opcode, Value};

pub struct Heap;

impl Pass for Heap {
    fn run(&self, m: &mut Module, cx: &mut PassContext) {
        map_traces(m, |m, t| {
            let mut h = Walk { m, rw: Rewriter::new(t), fields: HashMap::new(), items: HashMap::new(), lens: HashMap::new(), quasi: HashSet::new(), invalidation_guarded: false, forwarded: 0, dropped: 0 };
            for (id, op) in t.ops.iter() {
                h.op(id, op);
            }
            cx.stats.add("loads forwarded", h.forwarded);
            cx.stats.add("quasi-immutable checks dropped", h.dropped);
            h.rw.finish()
        });
    }
}

struct Walk<'a> {
    m: &'a Module,
    rw: Rewriter<'a>,
    /// (object, field descr) → value (new-trace values).
    fields: HashMap<(Value, DescrId), Value>,
    /// (array, index, array descr) → value.
    items: HashMap<(Value, Value, DescrId), Value>,
    lens: HashMap<Value, Value>,
    /// quasiimmut_field checks in force.
    quasi: HashSet<(Value, Option<DescrId>)>,
    /// A guard_not_invalidated already holds and nothing since could invalidate.
    invalidation_guarded: bool,
    forwarded: i64,
    dropped: i64,
}

impl Walk<'_> {
    /// A write anything may have done: forget all but immutable memory.
    fn clobber(&mut self) {
        let m = self.m;
        let keep = |d: &DescrId| match &m.descrs[*d].data {
            DescrData::Field(f) => f.pure,
            DescrData::Array(a) => a.pure,
            _ => false,
        };
        self.fields.retain(|(_, d), _| keep(d));
        self.items.retain(|(_, _, d), _| keep(d));
        self.quasi.clear();
        self.invalidation_guarded = false;
    }

    fn forward(&mut self, op: &Op, v: Value) {
        self.forwarded += 1;
        self.rw.replace(op.result.expect("loads produce a value"), v);
    }

    fn op(&mut self, id: OpId, op: &Op) {
        use Opcode::*;
        let args: Vec<Value> = op.args.iter().map(|&a| self.rw.map(a)).collect();
        match (op.opcode, op.descr) {
            (GetfieldGcI | GetfieldGcR | GetfieldGcF | GetfieldGcPureI | GetfieldGcPureR | GetfieldGcPureF, Some(d)) => {
                if let Some(&v) = self.fields.get(&(args[0], d)) {
                    return self.forward(op, v);
                }
                let nid = self.rw.copy(id);
                let r = self.rw.new.ops[nid].result.expect("loads produce a value");
                self.fields.insert((args[0], d), r);
                return;
            }
            (SetfieldGc, Some(d)) => {
                if self.fields.get(&(args[0], d)) == Some(&args[1]) {
                    // Writes the value the field already holds.
                    self.forwarded += 1;
                    return;
                }
                self.fields.retain(|(_, d2), _| *d2 != d);
                self.fields.insert((args[0], d), args[1]);
                self.rw.copy(id);
                return;
            }
            (GetarrayitemGcI | GetarrayitemGcR | GetarrayitemGcF | GetarrayitemGcPureI | GetarrayitemGcPureR | GetarrayitemGcPureF, Some(d)) => {
                if let Some(&v) = self.items.get(&(args[0], args[1], d)) {
                    return self.forward(op, v);
                }
                let nid = self.rw.copy(id);
                let r = self.rw.new.ops[nid].result.expect("loads produce a value");
                self.items.insert((args[0], args[1], d), r);
                return;
            }
            (SetarrayitemGc, Some(d)) => {
                let index_known = self.rw.new.is_const(args[1]);
                // Another index might be the same item unless both are constants that differ.
                let new = &self.rw.new;
                self.items.retain(|(_, i, d2), _| *d2 != d || (index_known && new.is_const(*i) && *i != args[1]));
                self.items.insert((args[0], args[1], d), args[2]);
                self.rw.copy(id);
                return;
            }
            (ArraylenGc, _) => {
                if let Some(&v) = self.lens.get(&args[0]) {
                    return self.forward(op, v);
                }
                let nid = self.rw.copy(id);
                let r = self.rw.new.ops[nid].result.expect("arraylen_gc has a result");
                self.lens.insert(args[0], r);
                return;
            }
            (NewArray | NewArrayClear, _) => {
                let nid = self.rw.copy(id);
                let r = self.rw.new.ops[nid].result.expect("allocations produce a ref");
                self.lens.insert(r, args[0]);
                return;
            }
            (QuasiimmutField, d) => {
                if !self.quasi.insert((args[0], d)) {
                    self.dropped += 1;
                    return;
                }
            }
            (GuardNotInvalidated, _) => {
                if self.invalidation_guarded {
                    self.dropped += 1;
                    return;
                }
                self.invalidation_guarded = true;
            }
            (Label, _) => {
                self.fields.clear();
                self.items.clear();
                self.lens.clear();
                self.quasi.clear();
                self.invalidation_guarded = false;
            }
            (o, d) if o.is_call() => {
                let effect = d.and_then(|d| match &self.m.descrs[d].data {
                    DescrData::Call(c) => Some(c.effect.0),
                    _ => None,
                });
                let writes = !matches!(o, CallPureI | CallPureR | CallPureF | CallPureN) && !matches!(effect, Some(0 | 1 | 3 | 4));
                if writes {
                    self.clobber();
                }
            }
            (o, _) if o.writes_heap() || matches!(o, EscapeI | EscapeR | EscapeF | EscapeN) => self.clobber(),
            _ => {}
        }
        self.rw.copy(id);
    }
}
