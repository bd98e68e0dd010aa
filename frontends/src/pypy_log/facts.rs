//! Facts PyPy knew that its logs do not print, recovered from what the recorded trace itself
//! shows, so that an imported trace runs in tracelab's interpreter as it ran in PyPy.
//!
//! - Classes of allocations: `new_with_vtable(descr=<SizeDescr 16>)` does not say which vtable
//!   it stores (one size descr serves many classes). An allocation the trace checks with
//!   `guard_class(p, ConstClass(C))` (or a vtable address), directly, after storing it into and
//!   loading it back from an object the trace allocated, or, for a loop, through the input its
//!   jump passes it to, has class `C` (the check passed while recording; a closed loop's next
//!   iteration checks the object passed around). It gets a size descr with `class=C`.
//! - Names of constant objects: the log names each `ConstPtr` occurrence anew (`ptr23`,
//!   `ptr67`), whatever the object. A loop that passes `ConstPtr(a)` to an input it checks with
//!   `guard_value(input, ConstPtr(b))` was closed by PyPy, which requires `a` and `b` to be one
//!   object: both get one name. So do two constants a recorded `guard_value` compares (directly,
//!   or the first read back from a fresh object it was stored into): the guard passed while
//!   PyPy traced.
//! - Classes of constant objects: a recorded `guard_class(ConstPtr(x), C)` passed while PyPy
//!   traced, and classes never change: the trace is stated to start with
//!   `record_known_class(ConstPtr(x), C)` ([`classes_of_constants`]).
//! - Sizes of fields: the logs print no field sizes (`<FieldU ...PyFrame.inst_escaped 80>`), and
//!   a word is assumed; but a struct's byte-sized flags sit at consecutive offsets (80, 81), and
//!   word-sized accesses there would overlap, so that a store to one field changes another,
//!   against "different descrs never alias". A field of unknown size followed within 8 bytes by
//!   another field of its struct gets the largest power of two that fits the gap.
//! Conflicting evidence (two classes for one allocation) leaves things as they are. Runs on
//! verified traces only, and keeps them valid (a descr with a class for one without, one
//! constant name for another).

use std::collections::hash_map::Entry;
use std::collections::HashMap;
use tracelab_ir::descr::{DescrData, FieldDescr, SizeDescr};
use tracelab_ir::cursor::Cursor;
use tracelab_ir::trace::ValueDef;
use tracelab_ir::{Const, Module, OpId, Opcode, Target, Trace, TraceId, TraceKind, Value};


/// For a loop jumping to its own start: input → the value the jump passes it.
fn carried(t: &Trace) -> HashMap<Value, Value> {
    let Some(jump) = t.last_op().filter(|op| op.opcode == Opcode::Jump && matches!(op.jump_target(), None | Some(Target::SELF_START))) else {
        return HashMap::new();
    };
    if t.kind != TraceKind::Loop {
        return HashMap::new();
    }
    t.inputs.iter().zip(&jump.args).map(|(&i, &a)| (i, t.through_same_as(a))).collect()
}

/// Loads from objects the trace allocated that read back a value stored there: load result →
/// stored value. A call that is passed the object, or a store at a position not known, forgets
/// what was stored in it.
fn stored_and_loaded(t: &Trace) -> HashMap<Value, Value> {
    memory_of_fresh_objects(t).0
}

/// What a fresh object's slot holds: (descr, constant index) → value.
type Slots = HashMap<(tracelab_ir::descr::DescrId, Option<Value>), Value>;

/// (load result → the value it reads back, fresh object → its known slots at the end).
fn memory_of_fresh_objects(t: &Trace) -> (HashMap<Value, Value>, HashMap<Value, Slots>) {
    use Opcode::*;
    let mut fresh: HashMap<Value, Slots> = HashMap::new();
    let mut out = HashMap::new();
    for op in t.ops.values() {
        let slot = |i: Option<usize>| (op.descr, i.map(|i| op.args[i]));
        match op.opcode {
            New | NewWithVtable | NewArray | NewArrayClear => {
                if let Some(r) = op.result {
                    fresh.insert(r, HashMap::new());
                }
            }
            SetfieldGc | SetarrayitemGc => {
                let (idx, val) = if op.opcode == SetfieldGc { (None, 1) } else { (Some(1), 2) };
                let (Some(d), Some(slots)) = (op.descr, fresh.get_mut(&op.args[0])) else { continue };
                if idx.is_some_and(|i| !t.is_const(op.args[i])) {
                    slots.clear();
                    continue;
                }
                slots.insert((d, slot(idx).1), op.args[val]);
            }
            GetfieldGcR | GetarrayitemGcR => {
                let idx = (op.opcode == GetarrayitemGcR).then_some(1);
                let (Some(d), Some(r)) = (op.descr, op.result) else { continue };
                if let Some(&v) = fresh.get(&op.args[0]).and_then(|s| s.get(&(d, slot(idx).1))) {
                    out.insert(r, v);
                }
            }
            o if o.is_call() => {
                for a in &op.args {
                    if let Some(s) = fresh.get_mut(a) {
                        s.clear();
                    }
                }
            }
            _ => {}
        }
    }
    (out, fresh)
}

pub fn known_vtables(m: &mut Module) {
    for tid in m.traces.keys().collect::<Vec<TraceId>>() {
        let t = &m.traces[tid];
        let mut site: HashMap<Value, OpId> = HashMap::new();
        for (id, op) in t.ops.iter() {
            if let (Opcode::NewWithVtable, Some(r)) = (op.opcode, op.result) {
                site.insert(r, id);
            }
        }
        let loaded = stored_and_loaded(t);
        let next = carried(t);
        let mut class: HashMap<OpId, Option<String>> = HashMap::new();
        for op in t.ops.values() {
            if !matches!(op.opcode, Opcode::GuardClass | Opcode::GuardNonnullClass) {
                continue;
            }
            // A class by name, or by its vtable address (which the interpreter takes as is).
            let c = match t.as_const(op.args[1]) {
                Some(Const::Class(c)) => c.clone(),
                Some(Const::Int(n)) if *n > 0 => n.to_string(),
                _ => continue,
            };
            let mut checked = t.through_same_as(op.args[0]);
            while let Some(&v) = loaded.get(&checked) {
                checked = t.through_same_as(v);
            }
            let alloc = site.get(&checked).or_else(|| next.get(&checked).and_then(|r| site.get(r)));
            let Some(&at) = alloc else { continue };
            match class.entry(at) {
                Entry::Vacant(e) => {
                    e.insert(Some(c));
                }
                Entry::Occupied(mut e) if e.get().as_deref() != Some(c.as_str()) => {
                    e.insert(None);
                }
                Entry::Occupied(_) => {}
            }
        }
        let mut sites: Vec<(OpId, String)> = class.into_iter().filter_map(|(at, c)| Some((at, c?))).collect();
        sites.sort();
        for (at, c) in sites {
            set_class(m, tid, at, &c);
        }
    }
}

fn set_class(m: &mut Module, tid: TraceId, at: OpId, c: &str) {
    let Some(d) = m.traces[tid].ops[at].descr else { return };
    let DescrData::Size(sd) = &m.descrs[d].data else { return };
    if sd.class.is_some() {
        return;
    }
    let data = DescrData::Size(SizeDescr { size: sd.size, class: Some(c.to_string()) });
    let name = format!("{}.{c}", m.descrs[d].name);
    let nd = m.intern_descr_named(&name, data);
    m.traces[tid].ops[at].descr = Some(nd);
}

pub fn one_name_per_object(m: &mut Module) {
    // (`guard_value(ConstPtr(a), ConstPtr(b))` in a recorded trace names one object twice.)
    for tid in m.traces.keys().collect::<Vec<TraceId>>() {
        let t = &m.traces[tid];
        let next = carried(t);
        let (stored, fresh) = memory_of_fresh_objects(t);
        let mut rename: HashMap<String, String> = HashMap::new();
        for op in t.ops.values() {
            if op.opcode != Opcode::GuardValue {
                continue;
            }
            let Some(Const::Ptr(b)) = t.as_const(op.args[1]) else { continue };
            // A recorded guard passed while PyPy traced: two constants it compares are one (also
            // when the first was stored into a fresh object and read back).
            let read_back = stored.get(&op.args[0]).copied().unwrap_or(op.args[0]);
            if let Some(Const::Ptr(a)) = t.as_const(read_back) {
                if a != b {
                    rename.insert(a.clone(), b.clone());
                }
                continue;
            }
            let passed = next.get(&op.args[0]).copied().or_else(|| carried_in_a_field(t, &next, &fresh, op.args[0]));
            if let Some(Const::Ptr(a)) = passed.and_then(|p| t.as_const(p)) {
                if a != b {
                    rename.insert(a.clone(), b.clone());
                }
            }
        }
        if !rename.is_empty() {
            rename_constants(&mut m.traces[tid], &rename);
        }
    }
}

/// For `v = getfield(input, d)` (or an item at a constant index) in a loop whose jump passes a
/// fresh object to that input: the value the iteration left in that slot.
fn carried_in_a_field(t: &Trace, next: &HashMap<Value, Value>, fresh: &HashMap<Value, Slots>, v: Value) -> Option<Value> {
    let ValueDef::Op(o) = t.values[v].def else { return None };
    let op = &t.ops[o];
    let index = match op.opcode {
        Opcode::GetfieldGcR => None,
        Opcode::GetarrayitemGcR if t.is_const(op.args[1]) => Some(op.args[1]),
        _ => return None,
    };
    let obj = next.get(&op.args[0])?;
    fresh.get(obj)?.get(&(op.descr?, index)).map(|&x| t.through_same_as(x))
}

/// Renames the `ConstPtr`s of `t` by `rename`. Constants are interned in the order the ops use
/// them, as parsing the printed trace would.
fn rename_constants(t: &mut Trace, rename: &HashMap<String, String>) {
    let mut cur = Cursor::new(t);
    while let Some(id) = cur.next_op_pending() {
        let uses: Vec<Value> = cur.t.ops[id].uses().collect();
        for v in uses {
            let Some(Const::Ptr(name)) = cur.t.as_const(v) else { continue };
            if let (Some(to), true) = (rename.get(name), cur.resolve(v) == v) {
                let nv = cur.t.constant(Const::Ptr(to.clone()));
                cur.replace_uses(v, nv);
            }
        }
        cur.keep();
    }
}

/// Sizes of fields PyPy's log does not give: a field ends where the next field of its struct
/// begins, so one less than a word before the next is a byte flag (or a 2- or 4-byte field).
/// Offsets are gathered from every module given (the sections of one log) before any is changed,
/// so one field gets one size in all of them.
pub fn field_sizes_from_offsets(mut modules: Vec<&mut Module>) {
    let mut offsets: HashMap<String, Vec<u32>> = HashMap::new();
    for m in &modules {
        for d in m.descrs.values() {
            if let DescrData::Field(f) = &d.data {
                offsets.entry(f.owner.clone()).or_default().push(f.offset);
            }
        }
    }
    offsets.values_mut().for_each(|o| o.sort_unstable());
    for m in &mut modules {
        let sized: Vec<_> = m
            .descrs
            .iter()
            .filter_map(|(id, d)| match &d.data {
                DescrData::Field(f) if f.size.is_none() => {
                    let next = offsets.get(&f.owner)?.iter().find(|&&o| o > f.offset)?;
                    let gap = next - f.offset;
                    let size = [4u8, 2, 1].into_iter().find(|&s| u32::from(s) <= gap).unwrap_or(1);
                    (gap < 8).then(|| (id, DescrData::Field(FieldDescr { size: Some(size), ..f.clone() })))
                }
                _ => None,
            })
            .collect();
        for (id, data) in sized {
            m.set_descr_data(id, data);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_flags_at_consecutive_offsets_get_byte_sizes() {
        let mut m = tracelab_ir::parse(
            "descr a = <FieldU S.a 80>\ndescr b = <FieldU S.b 81>\ndescr c = <FieldS S.c 88>\ndescr d = <FieldS T.d 4>\n\
             loop l [p0] {\n    setfield_gc(p0, 1, descr=a)\n    setfield_gc(p0, 1, descr=b)\n    setfield_gc(p0, 1, descr=c)\n    setfield_gc(p0, 1, descr=d)\n    finish()\n}\n",
        )
        .expect("parses");
        field_sizes_from_offsets(vec![&mut m]);
        let size = |n: &str| match &m.descrs[m.descr_by_name(n).expect("declared")].data {
            DescrData::Field(f) => f.size,
            _ => unreachable!(),
        };
        assert_eq!(size("a"), Some(1));
        assert_eq!(size("b"), Some(4), "7 bytes to the next field: the largest power of two that fits");
        assert_eq!(size("c"), None, "last field of its struct: a word");
        assert_eq!(size("d"), None, "another struct");
        assert!(tracelab_ir::verify(&m).is_ok());
    }
}

/// Classes of constant objects: a recorded `guard_class(ConstPtr(x), C)` (or
/// `guard_nonnull_class`) passed while PyPy traced, and an object's class never changes, so `x`
/// is of class `C` (PyPy's optimizer reads it off the object; tracelab states it). Also when
/// the guard checks the constant read back from a fresh object it was stored into.
pub fn classes_of_constants(t: &Trace) -> Vec<crate::bridge_facts::EntryFact> {
    let mut out = Vec::new();
    let stored = stored_and_loaded(t);
    for op in t.ops.values().filter(|o| matches!(o.opcode, Opcode::GuardClass | Opcode::GuardNonnullClass)) {
        let checked = stored.get(&op.args[0]).copied().unwrap_or(op.args[0]);
        let (Some(object @ Const::Ptr(_)), Some(class)) = (t.as_const(checked), t.as_const(op.args[1])) else { continue };
        let fact = crate::bridge_facts::EntryFact::ConstantClass { object: object.clone(), class: class.clone() };
        if !out.contains(&fact) {
            out.push(fact);
        }
    }
    out
}
