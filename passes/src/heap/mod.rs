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
//!   write nothing, nor does forcing a virtualizable (oopspec 121, whose effect info in PyPy
//!   is empty: it writes back what the trace knows, and reads nothing, so stores held back stay
//!   held across it); any other call may write anything, so the cache is emptied, except fields
//!   and arrays marked `pure` (immutable), which no one writes after allocation.
//! - Labels: at a label other traces jump into, the cache is emptied. At a closed label (entered
//!   only from its own trace, see [`tracelab_ir::facts::ModuleFacts`]; `unroll` makes these) the back edge
//!   brings memory from the end of the loop, so an entry survives only if nothing between the
//!   label and the next label writes its descr (a loop-invariant load: the body reuses the
//!   preamble's value). An entry whose descr the loop does write but whose value is known again
//!   at the jump (the loop stores it, like an iterator's index) is *carried*: the label gets a
//!   parameter for it, entered with the preamble's value, and the jump passes the value the
//!   iteration left, so the next iteration's load is that parameter (PyPy's heap state exported
//!   across the label). Array lengths never change, so they are kept.
//! - `virtual_ref_finish` writes only fields of the vref (PyPy's `JitVirtualRef` token and
//!   forced object). Any other op that writes memory in a way this pass does not track empties
//!   the cache.
//! - `record_known_field(p, v, d)` (a bridge's entry fact: field `d` of `p` holds `v`) enters `v`
//!   as if loaded; it stays (no code).
//! - `quasiimmut_field(p, d)` records that the whole trace depends on a quasi-immutable field
//!   (a runtime invalidates the compiled trace when it changes; it generates no code), so only
//!   the first one for each `(p, d)` in a trace is kept. A `guard_not_invalidated` is dropped if
//!   no call since the last one could have invalidated anything.
//!
//! Not done here (documented for the next steps): delaying writes so that a write overwritten
//! before anyone can observe it is dropped, and the pending writes a guard needs in its resume
//! data. Linear: one scan of each loop region for the descrs it writes, one walk that carries
//! every slot a closed label drops (a second one, carrying only what the first knew at the jump,
//! when the loop does not know them all there; a third, carrying nothing, if even that misses
//! one); each op does a
//! constant number of hash operations, except writes, which drop the cache entries of their
//! descr.


use crate::{edit_traces, Pass, PassContext};
use tracelab_ir::facts::ModuleFacts;
use crate::lazy_stores::{holdable_index, LazyStores, Store};
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use tracelab_ir::descr::DescrId;
use tracelab_ir::effects::{self, Access};
use tracelab_ir::cursor::{Cursor, Journal};
use tracelab_ir::resume::GuardInfo;
use tracelab_ir::{Module, Op, OpExtra, OpId, Opcode, Target, Trace, Value};

pub struct Heap;

impl Pass for Heap {
    fn run(&self, m: &mut Module, cx: &mut PassContext) {
        let facts = cx.facts.clone();
        edit_traces(m, |m, t| {
            let regions = scan_regions(m, t, &facts);
            // Most loops know at their jump every slot their label dropped: one walk that
            // carries them all is the answer. Otherwise walk again (on the trace as it was)
            // carrying those the first walk knew at the jump, and if even that misses one,
            // carry nothing. Only a trace with a closed label can miss; its walks keep a journal
            // of what they change, to take it back.
            let journal = !regions.is_empty();
            let mut done = Walk::run(m, t, &facts, &regions, Carry::All, journal);
            let mut taken_back = 0;
            if done.missing {
                roll_back(t, &mut done);
                taken_back += 1;
                done = Walk::run(m, t, &facts, &regions, Carry::Given(std::mem::take(&mut done.found)), true);
                if done.missing {
                    roll_back(t, &mut done);
                    taken_back += 1;
                    done = Walk::run(m, t, &facts, &regions, Carry::Given(HashMap::default()), false);
                }
            }
            cx.stats.add("walks taken back", taken_back);
            cx.stats.add("loads forwarded", done.forwarded);
            cx.stats.add("quasi-immutable checks dropped", done.dropped);
            cx.stats.add("values carried across labels", done.carried);
            cx.stats.add("stores dropped", done.stores_dropped);
        });
    }
}

/// Puts `t` back as it was before the walk that gave `done` (which kept a journal: it missed).
fn roll_back(t: &mut Trace, done: &mut Outcome) {
    if let Some(j) = done.journal.take() {
        j.roll_back(t);
    }
}

/// Ops whose reads and writes this pass follows itself (loads and stores of fields and array
/// items, array lengths, allocations, `record_known_field`); for any other op it asks
/// [`effects`] which held stores the op may read and which cached memory it may write.
fn modelled(op: &Op) -> bool {
    use Opcode::*;
    matches!(
        op.opcode,
        GetfieldGcI | GetfieldGcR | GetfieldGcF | GetfieldGcPureI | GetfieldGcPureR | GetfieldGcPureF | SetfieldGc
            | GetarrayitemGcI | GetarrayitemGcR | GetarrayitemGcF | GetarrayitemGcPureI | GetarrayitemGcPureR | GetarrayitemGcPureF | SetarrayitemGc
            | RecordKnownField
    )
}

/// What the ops between a closed label and the next label (or the end) may write.
#[derive(Default)]
struct Region {
    writes: HashSet<DescrId>,
    arrays: bool,
    clobbers: bool,
    invalidates: bool,
}

impl Region {
    fn add(&mut self, m: &Module, t: &Trace, op: &Op) {
        match effects::writes(m, op) {
            Access::Nothing => {}
            Access::Descrs(ds) => self.writes.extend(ds),
            Access::AnyArray => self.arrays = true,
            Access::Everything => self.clobbers = true,
        }
        self.invalidates |= effects::can_invalidate(m, t, op);
    }

    /// True if the loop may write memory of `d` (other than immutable memory).
    fn may_write(&self, m: &Module, d: DescrId) -> bool {
        !effects::immutable(m, d)
            && (self.clobbers || self.writes.contains(&d) || (self.arrays && Access::AnyArray.touches(m, d)))
    }
}

fn scan_regions(m: &Module, t: &Trace, facts: &ModuleFacts) -> HashMap<OpId, Region> {
    let mut regions = HashMap::default();
    let mut current: Option<(OpId, Region)> = None;
    for (id, op) in t.ops.iter() {
        if op.label().is_some() {
            if let Some((at, r)) = current.take() {
                regions.insert(at, r);
            }
            if !facts.is_open_label(op) {
                current = Some((id, Region::default()));
            }
            continue;
        }
        if let Some((_, r)) = current.as_mut() {
            r.add(m, t, op);
        }
    }
    if let Some((at, r)) = current {
        regions.insert(at, r);
    }
    regions
}

/// Known contents of the memory of one descr.
#[derive(Default, Clone)]
struct Slots {
    /// Index (`None` for a field, else a constant index) → object → value.
    fixed: HashMap<Option<Value>, HashMap<Value, Value>>,
    /// (array, index that is not a constant) → value.
    variable: HashMap<(Value, Value), Value>,
}

/// A fixed memory slot: descr, object, constant index (`None` for a field).
type Slot = (DescrId, Value, Option<Value>);

/// Which slots a walk carries across each closed label.
enum Carry {
    /// Every slot the label drops (a jump that does not know one makes the walk `missing`).
    All,
    /// These, per label.
    Given(HashMap<Target, Vec<Slot>>),
}

/// What a walk found out and did.
struct Outcome {
    /// Per label: the carried slots its jump knew (what a walk that misses one may carry).
    found: HashMap<Target, Vec<Slot>>,
    /// A carried slot was not known at the jump (the walk's result must not be used).
    missing: bool,
    /// What the walk changed, if it kept a journal.
    journal: Option<Journal>,
    forwarded: i64,
    dropped: i64,
    carried: i64,
    stores_dropped: i64,
}

struct Walk<'a> {
    m: &'a Module,
    cur: Cursor<'a>,
    mem: HashMap<DescrId, Slots>,
    lens: HashMap<Value, Value>,
    /// quasiimmut_field dependencies the trace has recorded.
    quasi: HashSet<(Value, Option<DescrId>)>,
    /// A guard_not_invalidated already holds and nothing since could invalidate.
    invalidation_guarded: bool,
    carry: Carry,
    /// Per closed label: the slots it carries (label parameters the jump must fill).
    carried_at: HashMap<Target, Vec<Slot>>,
    /// Per label: the carried slots its jump knew (what a walk that misses one may carry).
    found: HashMap<Target, Vec<Slot>>,
    /// A carried slot was not known at the jump (the walk's result must not be used).
    missing: bool,
    /// Stores held back (see [`lazy`]).
    lazy: LazyStores,
    forwarded: i64,
    dropped: i64,
    carried: i64,
    stores_dropped: i64,
}

impl<'a> Walk<'a> {
    fn run(m: &'a Module, t: &'a mut Trace, facts: &ModuleFacts, regions: &HashMap<OpId, Region>, carry: Carry, journal: bool) -> Outcome {
        let mut w = Walk {
            m,
            cur: if journal { Cursor::with_journal(t) } else { Cursor::new(t) },
            mem: HashMap::default(),
            lens: HashMap::default(),
            quasi: HashSet::default(),
            invalidation_guarded: false,
            carry,
            carried_at: HashMap::default(),
            found: HashMap::default(),
            missing: false,
            lazy: LazyStores::default(),
            forwarded: 0,
            dropped: 0,
            carried: 0,
            stores_dropped: 0,
        };
        while let Some(id) = w.cur.next_op_pending() {
            let op = &w.cur.t.ops[id].clone();
            // A bridge goes on from memory as it is: no store may be held across its guard.
            if !w.lazy.is_empty() && facts.is_bridged(op) {
                w.lazy.emit(&mut w.cur, |_| true);
            } else if !w.lazy.is_empty() && !modelled(op) {
                let reads = effects::reads(m, w.cur.t, op);
                w.lazy.emit(&mut w.cur, |s| reads.touches(m, s.descr));
            }
            match (op.label(), regions.get(&id)) {
                (Some(_), None) if facts.is_open_label(op) => w.forget_all(),
                (Some(l), Some(r)) => {
                    w.closed_label(id, l.token, r);
                    continue;
                }
                _ => {}
            }
            if let Some(target) = op.jump_target() {
                w.jump(id, target);
                continue;
            }
            w.op(id, op);
        }
        let journal = w.cur.finish();
        Outcome { found: w.found, missing: w.missing, journal, forwarded: w.forwarded, dropped: w.dropped, carried: w.carried, stores_dropped: w.stores_dropped }
    }

    fn forget_all(&mut self) {
        self.mem.clear();
        self.lens.clear();
        self.invalidation_guarded = false;
    }

    fn lookup(&self, (d, obj, index): Slot) -> Option<Value> {
        self.mem.get(&d)?.fixed.get(&index)?.get(&obj).copied()
    }

    fn fixed_slots(&self) -> impl Iterator<Item = (Slot, Value)> + '_ {
        self.mem.iter().flat_map(|(&d, s)| s.fixed.iter().flat_map(move |(&i, objs)| objs.iter().map(move |(&o, &v)| ((d, o, i), v))))
    }

    /// A closed label: keep what the loop cannot change, carry what it changes but knows again
    /// at the jump.
    fn closed_label(&mut self, id: OpId, token: Target, region: &Region) {
        self.cur.keep();
        let nid = id;
        let m = self.m;
        let survives = |d: DescrId| !region.may_write(m, d);
        let mut dropped: Vec<(Slot, Value)> = self.fixed_slots().filter(|((d, _, _), _)| !survives(*d)).collect();
        dropped.sort();
        self.mem.retain(|&d, _| survives(d));
        if region.invalidates {
            self.invalidation_guarded = false;
        }
        let carry = match &self.carry {
            Carry::All => dropped.iter().map(|&(s, _)| s).collect(),
            Carry::Given(c) => c.get(&token).cloned().unwrap_or_default(),
        };
        self.carried_at.insert(token, carry.clone());
        for slot in carry {
            let Some(&(_, v)) = dropped.iter().find(|(s, _)| *s == slot) else {
                self.missing = true;
                continue;
            };
            self.cur.op_mut(nid).args.push(v);
            let ty = self.cur.t.ty(v);
            let p = self.cur.t.add_label_param(nid, ty, None);
            self.remember(slot, p);
            self.carried += 1;
        }
    }

    /// A jump: to a label this walk saw, pass the carried values (or note which could be).
    fn jump(&mut self, id: OpId, target: Target) {
        self.cur.keep();
        let nid = id;
        let Some(carry) = self.carried_at.get(&target).cloned() else { return };
        let mut known = Vec::with_capacity(carry.len());
        for slot in carry {
            match self.lookup(slot) {
                Some(v) => {
                    self.cur.op_mut(nid).args.push(v);
                    known.push(slot);
                }
                None => self.missing = true,
            }
        }
        self.found.insert(target, known);
    }

    fn remember(&mut self, (d, obj, index): Slot, v: Value) {
        self.mem.entry(d).or_default().fixed.entry(index).or_default().insert(obj, v);
    }

    /// What an op this pass does not follow may write: held stores of that memory go first
    /// (the op may overwrite them), and the cache forgets it, immutable memory aside.
    fn forget_written(&mut self, op: &Op) {
        let m = self.m;
        let writes = effects::writes(m, op);
        if writes != Access::Nothing {
            self.lazy.emit(&mut self.cur, |s| writes.touches(m, s.descr));
            self.mem.retain(|&d, _| effects::immutable(m, d) || !writes.touches(m, d));
        }
        if effects::can_invalidate(m, self.cur.t, op) {
            self.invalidation_guarded = false;
        }
    }

    fn forward(&mut self, op: &Op, v: Value) {
        self.forwarded += 1;
        self.cur.replace_uses(op.result.expect("loads produce a value"), v);
    }

    /// A load of `slot` (index `None` for a field; `variable` for an index that is not constant).
    fn load(&mut self, id: OpId, op: &Op, d: DescrId, obj: Value, index: Option<Value>) {
        let variable = index.filter(|&i| !self.cur.t.is_const(i));
        let known = match variable {
            Some(i) => self.mem.get(&d).and_then(|s| s.variable.get(&(obj, i)).copied()),
            None => self.lookup((d, obj, index)),
        };
        if let Some(v) = known {
            return self.forward(op, v);
        }
        // The load might read a held store through an alias.
        self.lazy.emit(&mut self.cur, |s| s.descr == d);
        self.cur.keep();
        let nid = id;
        let r = self.cur.t.ops[nid].result.expect("loads produce a value");
        match variable {
            Some(i) => {
                self.mem.entry(d).or_default().variable.insert((obj, i), r);
            }
            None => self.remember((d, obj, index), r),
        }
    }

    /// A store: forget what it may overwrite, remember what it wrote.
    fn store(&mut self, d: DescrId, obj: Value, index: Option<Value>, v: Value) {
        let constant = index.is_none_or(|i| self.cur.t.is_const(i));
        if constant && self.lookup((d, obj, index)) == Some(v) {
            // Writes the value the slot already holds.
            self.forwarded += 1;
            return;
        }
        let held = match index {
            None => Some(None),
            Some(i) => holdable_index(&*self.cur.t, i).map(Some),
        };
        if held.is_none() {
            // A store the lazy list cannot describe: held stores of this descr go first.
            self.lazy.emit(&mut self.cur, |s| s.descr == d);
        }
        let slots = self.mem.entry(d).or_default();
        // Another object, or another index that is not a different constant, might be this slot.
        slots.variable.clear();
        if constant {
            // Emptied, not dropped: the next store of this slot would allocate it again.
            let objs = slots.fixed.entry(index).or_default();
            objs.clear();
            objs.insert(obj, v);
        } else {
            slots.fixed.clear();
            slots.variable.insert((obj, index.expect("items have an index")), v);
        }
        match held {
            Some(index) => self.stores_dropped += self.lazy.push(Store { object: obj, descr: d, index, value: v }),
            None => {
                self.cur.keep();
            }
        }
    }

    fn op(&mut self, id: OpId, op: &Op) {
        use Opcode::*;
        let args: tracelab_ir::trace::Operands = op.args.iter().map(|&a| self.cur.resolve(a)).collect();
        match (op.opcode, op.descr) {
            (GetfieldGcI | GetfieldGcR | GetfieldGcF | GetfieldGcPureI | GetfieldGcPureR | GetfieldGcPureF, Some(d)) => {
                return self.load(id, op, d, args[0], None)
            }
            (SetfieldGc, Some(d)) => return self.store(d, args[0], None, args[1]),
            (RecordKnownField, Some(d)) => {
                // A statement of what the field holds (checked by the interpreter against memory
                // as it is: held stores of the descr go first).
                self.lazy.emit(&mut self.cur, |s| s.descr == d);
                self.remember((d, args[0], None), args[1]);
            }
            (GetarrayitemGcI | GetarrayitemGcR | GetarrayitemGcF | GetarrayitemGcPureI | GetarrayitemGcPureR | GetarrayitemGcPureF, Some(d)) => {
                return self.load(id, op, d, args[0], Some(args[1]))
            }
            (SetarrayitemGc, Some(d)) => return self.store(d, args[0], Some(args[1]), args[2]),
            (ArraylenGc, _) => {
                if let Some(&v) = self.lens.get(&args[0]) {
                    return self.forward(op, v);
                }
                self.cur.keep();
        let nid = id;
                let r = self.cur.t.ops[nid].result.expect("arraylen_gc has a result");
                self.lens.insert(args[0], r);
                return;
            }
            (NewArray | NewArrayClear, _) => {
                self.cur.keep();
        let nid = id;
                let r = self.cur.t.ops[nid].result.expect("allocations produce a ref");
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
            (o, _) if o.is_guard() => {
                self.cur.keep();
        let nid = id;
                if !self.lazy.is_empty() {
                    let g = self.lazy.described(&*self.cur.t, self.cur.t.ops[nid].guard().unwrap_or(&GuardInfo::default()));
                    self.cur.op_mut(nid).extra = OpExtra::Guard(g.into());
                }
                return;
            }
            _ => self.forget_written(op),
        }
        self.cur.keep();
    }
}
