//! `virtualize`: virtualizable elimination (PyPy's virtualizables: Bolz et al., "Tracing the
//! Meta-Level: PyPy's Tracing JIT Compiler", ICOOOLPS 2009, section 5).
//!
//! The trace header names the interpreter frame and the fields and arrays the JIT owns
//! (`virtualizable p0 (Frame.pc, Frame.locals[locals.items])`). This pass turns reads and writes
//! of them into SSA values:
//!
//! - at trace entry, each slot the trace uses (a declared field, or an item of a declared array
//!   at a constant index) is read once; afterwards `getfield`/`getarrayitem` of a slot is its
//!   current value and `setfield`/`setarrayitem` changes the current value, with no heap op;
//! - at a `label`, every slot becomes a label parameter and every jump to it passes the slot's
//!   current value: across the back edge the frame travels in registers, not memory;
//! - every guard's resume data records each slot's current value (`vable f = v`), so a failing
//!   guard writes the frame back exactly (a guard without resume data gets resume data with one
//!   frame holding its fail args, so what it hands back does not change);
//! - `finish`, a jump to the trace start, and anything outside the JIT that may see the frame
//!   get the frame written back first: a call that may force (effect class 6 or 7), any op that is
//!   passed the frame or one of its arrays, and an access through a reference that might be the
//!   frame (same field descr on another object); after a call or write that may have changed
//!   the frame, its slots are read again. (PyPy instead stores a force token and checks
//!   `guard_not_forced` after the call; re-reading is simpler and equally correct, at the cost of
//!   the reads after such calls.)
//! - an array item at an index that is not a known constant is not a slot: the array's items are
//!   written back before the access and, after a write, read again.
//!
//! Assumes: the frame is the declared input and reaches labels as a label parameter; traces
//! that jump into another trace's label are left alone (the other loop's label would need the
//! same parameters). Stats: frame reads and writes before and after, and those left in the
//! loop body.

use crate::{edit_traces, Pass, PassContext};
use std::collections::BTreeMap;
use tracelab_ir::descr::{DescrData, DescrId};
use tracelab_ir::entity::EntityRef;
use tracelab_ir::resume::{GuardInfo, ResumeValue, VableEntry, VableSlot};
use tracelab_ir::cursor::Cursor;
use tracelab_ir::{Const, Module, Op, OpExtra, OpId, Opcode, Target, Trace, Type, Value};

pub struct Virtualize;

/// A piece of the frame the JIT owns: a field, or an item of a frame array.
#[derive(Copy, Clone, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Slot {
    Field(DescrId),
    Item(DescrId, u32),
}

impl Pass for Virtualize {
    fn run(&self, m: &mut Module, cx: &mut PassContext) {
        edit_traces(m, |m, t| {
            if t.vable.is_none() {
                return;
            }
            if let Some(why) = unsuitable(t) {
                cx.remarks.push(format!("trace {}: not virtualized: {why}", t.name));
                return;
            }
            let before = frame_ops(t);
            Vable::new(m, t).run();
            let after = frame_ops(t);
            cx.stats.add("frame reads and writes before", before.0 as i64);
            cx.stats.add("frame reads and writes after", after.0 as i64);
            cx.stats.add("frame reads and writes in loop bodies after", after.1 as i64);
        });
    }
}

fn unsuitable(t: &Trace) -> Option<&'static str> {
    let own: Vec<Target> = t.labels().map(|(_, l)| l.token).collect();
    let foreign = t.ops.values().filter_map(|o| o.jump_target()).any(|j| matches!(j, Target::Token(_)) && !own.contains(&j));
    foreign.then_some("it jumps into another trace's label")
}

/// Heap ops that touch a declared frame field or a frame array (in all, and after the last label).
fn frame_ops(t: &Trace) -> (usize, usize) {
    let Some(v) = &t.vable else { return (0, 0) };
    let owned = |d: Option<DescrId>| d.is_some_and(|d| v.fields.contains(&d) || v.arrays.iter().any(|(f, a)| *f == d || *a == d));
    let mut all = 0;
    let mut body = 0;
    let mut after_label = 0;
    for op in t.ops.values() {
        if op.label().is_some() {
            after_label = 0;
        }
        if (op.opcode.reads_heap() || op.opcode.writes_heap()) && !op.opcode.is_call() && owned(op.descr) {
            all += 1;
            after_label += 1;
        }
    }
    if t.labels().next().is_some() {
        body = after_label;
    }
    (all, body)
}

struct Vable<'a> {
    m: &'a Module,
    cur: Cursor<'a>,
    /// Old values that are the frame (the input and label parameters carrying it).
    frame_values: Vec<bool>,
    /// Old values that are a frame array: the field that holds it.
    array_of: BTreeMap<Value, DescrId>,
    /// Old values known to be constants (from guard_value).
    known_int: BTreeMap<Value, i64>,
    slots: Vec<Slot>,
    current: BTreeMap<Slot, Value>,
    /// The old value that is the frame at this point (the input, then a label's parameter).
    current_frame: Value,
}

impl<'a> Vable<'a> {
    fn new(m: &'a Module, t: &'a mut Trace) -> Vable<'a> {
        let vable = t.vable.as_ref().expect("checked by unsuitable()");
        let frame = vable.frame;
        let values = t.values.len();
        let mut v = Vable {
            m,
            cur: Cursor::new(t),
            frame_values: vec![false; values],
            array_of: BTreeMap::new(),
            known_int: BTreeMap::new(),
            slots: Vec::new(),
            current: BTreeMap::new(),
            current_frame: frame,
        };
        v.frame_values[frame.index()] = true;
        v.scan();
        v
    }

    fn is_frame(&self, v: Value) -> bool {
        self.frame_values[v.index()]
    }

    fn vable_field(&self, d: Option<DescrId>) -> Option<DescrId> {
        let vb = self.cur.t.vable.as_ref()?;
        d.filter(|d| vb.fields.contains(d) || vb.arrays.iter().any(|(f, _)| f == d))
    }

    fn items_of(&self, field: DescrId) -> Option<DescrId> {
        self.cur.t.vable.as_ref()?.arrays.iter().find(|(f, _)| *f == field).map(|(_, a)| *a)
    }

    fn const_index(&self, v: Value) -> Option<u32> {
        let i = match self.cur.t.as_const(v) {
            Some(Const::Int(i)) => *i,
            _ => *self.known_int.get(&v)?,
        };
        u32::try_from(i).ok()
    }

    /// Finds the frame's aliases (label parameters), its arrays, and every slot the trace uses.
    fn scan(&mut self) {
        let mut slots = std::collections::BTreeSet::new();
        for id in self.cur.t.ops.ids() {
            let op = self.cur.t.ops[id].clone();
            if let Some(l) = op.label() {
                for (&a, &p) in op.args.iter().zip(&l.params) {
                    if self.is_frame(a) {
                        self.frame_values[p.index()] = true;
                    }
                    if let Some(&d) = self.array_of.get(&a) {
                        self.array_of.insert(p, d);
                    }
                }
            }
            if op.opcode == Opcode::GuardValue {
                if let Some(Const::Int(c)) = self.cur.t.as_const(op.args[1]) {
                    self.known_int.insert(op.args[0], *c);
                }
            }
            let field = self.vable_field(op.descr);
            match op.opcode {
                Opcode::GetfieldGcI | Opcode::GetfieldGcR | Opcode::GetfieldGcF | Opcode::SetfieldGc if self.is_frame(op.args[0]) => {
                    if let Some(d) = field {
                        slots.insert(Slot::Field(d));
                        if let (Some(r), Some(_)) = (op.result, self.items_of(d)) {
                            self.array_of.insert(r, d);
                        }
                    }
                }
                Opcode::GetarrayitemGcI | Opcode::GetarrayitemGcR | Opcode::GetarrayitemGcF | Opcode::SetarrayitemGc => {
                    if let (Some(&d), Some(i)) = (self.array_of.get(&op.args[0]), self.const_index(op.args[1])) {
                        if self.items_of(d) == op.descr {
                            slots.insert(Slot::Field(d));
                            slots.insert(Slot::Item(d, i));
                        }
                    }
                }
                _ => {}
            }
        }
        self.slots = slots.into_iter().collect();
    }

    fn descr_type(&self, d: DescrId) -> Type {
        match &self.m.descrs[d].data {
            DescrData::Field(f) => f.kind.value_type(),
            DescrData::Array(a) => a.kind.value_type(),
            _ => Type::Int,
        }
    }


    /// The new-trace value of the frame right now.
    fn frame_now(&mut self) -> Value {
        self.cur.resolve(self.current_frame)
    }

    /// Reads `slots` from the frame (fields before the items of the arrays they hold).
    fn read(&mut self, slots: &[Slot]) {
        for &s in slots {
            let frame = self.frame_now();
            let value = match s {
                Slot::Field(d) => {
                    let op = Op::new(Opcode::load(self.descr_type(d), true), &[frame]).with_descr(d);
                    self.cur.emit(op)
                }
                Slot::Item(d, i) => {
                    let items = self.items_of(d).expect("items of a declared array");
                    let arr = self.current[&Slot::Field(d)];
                    let idx = self.cur.t.int(i as i64);
                    let op = Op::new(Opcode::load(self.descr_type(items), false), &[arr, idx]).with_descr(items);
                    self.cur.emit(op)
                }
            };
            let v = self.cur.t.ops[value].result.expect("loads produce a value");
            self.current.insert(s, v);
        }
    }

    /// Writes `slots` back to the frame.
    fn write(&mut self, slots: &[Slot]) {
        for &s in slots {
            let Some(&v) = self.current.get(&s) else { continue };
            let frame = self.frame_now();
            let op = match s {
                Slot::Field(d) => Op::new(Opcode::SetfieldGc, &[frame, v]).with_descr(d),
                Slot::Item(d, i) => {
                    let items = self.items_of(d).expect("items of a declared array");
                    let arr = self.current[&Slot::Field(d)];
                    let idx = self.cur.t.int(i as i64);
                    Op::new(Opcode::SetarrayitemGc, &[arr, idx, v]).with_descr(items)
                }
            };
            self.cur.emit(op);
        }
    }

    fn items_slots(&self, d: DescrId) -> Vec<Slot> {
        self.slots.iter().copied().filter(|s| matches!(s, Slot::Item(f, _) if *f == d)).collect()
    }

    fn run(mut self) {
        let slots = self.slots.clone();
        self.read(&slots);
        while let Some(id) = self.cur.next_op_pending() {
            let op = self.cur.t.ops[id].clone();
            self.op(id, &op);
        }
    }
}


impl Vable<'_> {
    fn op(&mut self, id: OpId, op: &Op) {
        use Opcode::*;
        let field = self.vable_field(op.descr);
        let on_frame = op.args.first().is_some_and(|&a| self.is_frame(a));
        match op.opcode {
            GetfieldGcI | GetfieldGcR | GetfieldGcF if on_frame && field.is_some() => {
                let v = self.current[&Slot::Field(field.expect("checked"))];
                self.cur.replace_uses(op.result.expect("loads produce a value"), v);
                return;
            }
            SetfieldGc if on_frame && field.is_some() => {
                let v = self.cur.resolve(op.args[1]);
                self.current.insert(Slot::Field(field.expect("checked")), v);
                return;
            }
            GetarrayitemGcI | GetarrayitemGcR | GetarrayitemGcF | SetarrayitemGc => {
                if let Some(&d) = self.array_of.get(&op.args[0]) {
                    if self.items_of(d) == op.descr {
                        return self.frame_array_access(op, d);
                    }
                }
            }
            Label => return self.label(id, op),
            Jump => return self.jump(id, op),
            Finish => {
                let all = self.slots.clone();
                self.write(&all);
                self.cur.keep();
                return;
            }
            o if o.is_guard() => return self.guard(id),
            _ => {}
        }
        self.maybe_seen_from_outside(op, field);
    }

    /// An op the frame might be visible to: write the frame back before it, and read it again
    /// after it if it may have changed it.
    fn maybe_seen_from_outside(&mut self, op: &Op, field: Option<DescrId>) {
        let passes_frame = op.args.iter().any(|&a| self.is_frame(a) || self.array_of.contains_key(&a));
        let forces = op.opcode.is_call()
            && op.descr.is_some_and(|d| matches!(&self.m.descrs[d].data, DescrData::Call(c) if c.effect.forces()));
        let items = op.descr.and_then(|d| self.cur.t.vable.as_ref()?.arrays.iter().find(|(_, a)| *a == d).map(|(f, _)| *f));
        let aliasing = field.is_some() || items.is_some();
        if !(passes_frame || forces || aliasing) {
            self.cur.keep();
            return;
        }
        let all = self.slots.clone();
        self.write(&all);
        self.cur.keep();
        if op.opcode.writes_heap() || op.opcode.is_call() || passes_frame {
            self.read(&all);
        }
    }

    fn frame_array_access(&mut self, op: &Op, d: DescrId) {
        let index = self.const_index(op.args[1]);
        let Some(i) = index else {
            // Not a slot: the array's items go to memory around the access.
            let items = self.items_slots(d);
            self.write(&items);
            self.cur.keep();
            if op.opcode == Opcode::SetarrayitemGc {
                self.read(&items);
            }
            return;
        };
        let slot = Slot::Item(d, i);
        if op.opcode == Opcode::SetarrayitemGc {
            let v = self.cur.resolve(op.args[2]);
            self.current.insert(slot, v);
        } else {
            let v = self.current[&slot];
            self.cur.replace_uses(op.result.expect("loads produce a value"), v);
        }
    }

    /// A label: every slot becomes a parameter, entered with its current value.
    fn label(&mut self, id: OpId, op: &Op) {
        self.cur.keep();
        let new_id = id;
        if let Some(l) = op.label() {
            if let Some(k) = op.args.iter().position(|&a| a == self.current_frame || self.is_frame(a)) {
                self.current_frame = l.params[k];
            }
        }
        for s in self.slots.clone() {
            let entry = self.current[&s];
            let ty = self.cur.t.ty(entry);
            self.cur.t.ops[new_id].args.push(entry);
            let p = self.cur.t.add_label_param(new_id, ty, None);
            self.current.insert(s, p);
        }
    }

    fn jump(&mut self, id: OpId, op: &Op) {
        let own_label = matches!(op.jump_target(), Some(t @ Target::Token(_)) if self.cur.t.labels().any(|(_, l)| l.token == t));
        if !own_label {
            // Back to the trace start (or out): the frame goes through memory.
            let all = self.slots.clone();
            self.write(&all);
            self.cur.keep();
            return;
        }
        self.cur.keep();
        let new_id = id;
        for s in self.slots.clone() {
            let v = self.current[&s];
            self.cur.t.ops[new_id].args.push(v);
        }
    }

    /// Records the slots' current values in the guard's resume data.
    fn guard(&mut self, id: OpId) {
        self.cur.keep();
        let new_id = id;
        if self.slots.is_empty() {
            return;
        }
        let entries: Vec<VableEntry> = self
            .slots
            .iter()
            .map(|s| VableEntry {
                slot: match *s {
                    Slot::Field(d) => VableSlot::Field(d),
                    Slot::Item(d, i) => VableSlot::Item(d, i),
                },
                value: ResumeValue::Value(self.current[s]),
            })
            .collect();
        let consts: Vec<bool> = entries.iter().map(|e| matches!(e.value, ResumeValue::Value(v) if self.cur.t.is_const(v))).collect();
        let extra = &mut self.cur.t.ops[new_id].extra;
        if !matches!(extra, OpExtra::Guard(_)) {
            *extra = OpExtra::Guard(Default::default());
        }
        if let OpExtra::Guard(g) = extra {
            add_entries(std::sync::Arc::make_mut(g), entries, &consts);
        }
    }
}

/// Adds virtualizable entries to a guard, keeping what it hands back: a guard without resume
/// data gets one whose only frame holds its fail args.
fn add_entries(g: &mut GuardInfo, entries: Vec<VableEntry>, consts: &[bool]) {
    g.ensure_resume();
    for (e, &is_const) in entries.iter().zip(consts) {
        if let ResumeValue::Value(v) = e.value {
            if !is_const && !g.fail_args.contains(&Some(v)) {
                g.fail_args.push(Some(v));
            }
        }
    }
    // Entries the guard already has say what the interpreter's frame holds there: they stay.
    let r = g.resume.as_mut().expect("set above");
    let fresh: Vec<VableEntry> = entries.into_iter().filter(|e| !r.vable.iter().any(|old| old.slot == e.slot)).collect();
    r.vable.extend(fresh);
}
