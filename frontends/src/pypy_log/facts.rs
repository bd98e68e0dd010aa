//! Facts PyPy knew that its logs do not print, recovered from what the recorded trace itself
//! shows, so that an imported trace runs in tracelab's interpreter as it ran in PyPy.
//!
//! - Classes of allocations: `new_with_vtable(descr=<SizeDescr 16>)` does not say which vtable
//!   it stores (one size descr serves many classes). An allocation the trace checks with
//!   `guard_class(p, ConstClass(C))` (or a vtable address), directly, after storing it into and
//!   loading it back from an object the trace allocated, or, for a loop, through the input its
//!   jump passes it to or through memory the next iteration reads it back from (an interpreter
//!   frame's locals: a slot of an object every iteration reaches the same way, which the
//!   iteration stored it into and the next one loads before storing there), has class `C` (the
//!   check passed while recording; a closed loop's next iteration checks the object passed
//!   around). It gets a size descr with `class=C`.
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

/// For a loop jumping to its own start: loads that read what the previous iteration left in
/// memory (load result → the value the iteration stored there last). The memory is a field or
/// constant-index item of a *stable* object, one every iteration reaches the same way: an input
/// the jump passes back as it is, or what such an object holds in a slot the trace never stores
/// to (objects the trace reaches differently are taken to be different). A load counts if the
/// iteration has not stored to its slot before it; the slot's last store counts unless a store
/// at an index not known, or a call passed the object, came after it.
fn read_from_the_last_iteration(t: &Trace) -> HashMap<Value, Value> {
    use Opcode::*;
    let next = carried(t);
    let mut stable: std::collections::HashSet<Value> = next.iter().filter(|(i, a)| i == a).map(|(&i, _)| i).collect();
    if stable.is_empty() {
        return HashMap::new();
    }
    type Slot = (Value, tracelab_ir::descr::DescrId, Option<Value>);
    // Slots stored to anywhere in the trace (an index not known: every item).
    let stored: std::collections::HashSet<Slot> = t
        .ops
        .values()
        .filter(|op| matches!(op.opcode, SetfieldGc | SetarrayitemGc))
        .filter_map(|op| {
            let index = (op.opcode == SetarrayitemGc).then(|| op.args[1]).filter(|&i| t.is_const(i));
            Some((t.through_same_as(op.args[0]), op.descr?, index))
        })
        .collect();
    let unknown_index_stores: std::collections::HashSet<_> =
        t.ops.values().filter(|op| op.opcode == SetarrayitemGc && !t.is_const(op.args[1])).filter_map(|op| Some((t.through_same_as(op.args[0]), op.descr?))).collect();
    // Loads before any store to their slot, and the slots' last stores.
    let mut exposed: Vec<(Value, Slot)> = Vec::new();
    let mut written: HashMap<Slot, Option<Value>> = HashMap::new();
    for op in t.ops.values() {
        let (Some(d), Some(&obj)) = (op.descr, op.args.first()) else { continue };
        let obj = t.through_same_as(obj);
        let index = match op.opcode {
            GetarrayitemGcR | GetarrayitemGcI | GetarrayitemGcF | SetarrayitemGc => Some(op.args[1]).filter(|&i| t.is_const(i)).map(Some),
            GetfieldGcR | GetfieldGcI | GetfieldGcF | SetfieldGc => Some(None),
            o if o.is_call() => {
                written.retain(|(o, _, _), _| !op.args.iter().any(|a| t.through_same_as(*a) == *o));
                continue;
            }
            _ => continue,
        };
        if !stable.contains(&obj) {
            continue;
        }
        let Some(index) = index else {
            // A store at an index not known may be any item of the array.
            if op.opcode == SetarrayitemGc {
                written.iter_mut().filter(|((o, dd, _), _)| *o == obj && *dd == d).for_each(|(_, v)| *v = None);
            }
            continue;
        };
        let slot = (obj, d, index);
        match (op.opcode, op.result) {
            (SetfieldGc | SetarrayitemGc, _) => {
                written.insert(slot, op.args.last().map(|&v| t.through_same_as(v)));
            }
            (_, Some(r)) => {
                if !written.contains_key(&slot) {
                    exposed.push((r, slot));
                }
                if !stored.contains(&slot) && !unknown_index_stores.contains(&(obj, d)) {
                    stable.insert(r);
                }
            }
            _ => {}
        }
    }
    exposed.into_iter().filter_map(|(r, slot)| Some((r, written.get(&slot).copied().flatten()?))).collect()
}

/// Integers a recorded `guard_value` proved (it passed while PyPy traced): the guarded value,
/// and `x` where the guarded value is `x + c` or `x - c`.
fn guarded_ints(t: &Trace) -> HashMap<Value, i64> {
    let mut known = HashMap::new();
    for op in t.ops.values().filter(|op| op.opcode == Opcode::GuardValue) {
        let Some(&Const::Int(k)) = t.as_const(op.args[1]) else { continue };
        let v = t.through_same_as(op.args[0]);
        known.insert(v, k);
        let ValueDef::Op(o) = t.values[v].def else { continue };
        let def = &t.ops[o];
        let c = |i: usize| match def.args.get(i).and_then(|&a| t.as_const(a)) {
            Some(&Const::Int(c)) => Some(c),
            _ => None,
        };
        let x = match def.opcode {
            Opcode::IntAdd => c(1).map(|c| (def.args[0], k.wrapping_sub(c))).or_else(|| c(0).map(|c| (def.args[1], k.wrapping_sub(c)))),
            Opcode::IntSub => c(1).map(|c| (def.args[0], k.wrapping_add(c))),
            _ => None,
        };
        if let Some((x, kx)) = x {
            known.insert(t.through_same_as(x), kx);
        }
    }
    known
}

/// Loads that read what a slot of any object is known to hold in the same iteration: load
/// result → the value stored there before, or an earlier load's result. Item indices are
/// constants or integers a `guard_value` proved (a frame's stack depth). A store forgets what
/// other objects hold under its descr (they may be the same object), a store at an index not
/// known every item of its descr, and a call that may write what the objects it is passed hold
/// (as PyPy's heap cache, which knows each call's write set, would mostly keep the rest).
fn read_back_anywhere(t: &Trace, m: &Module) -> HashMap<Value, Value> {
    use Opcode::*;
    let ints = guarded_ints(t);
    let int = |v: Value| match t.as_const(v) {
        Some(&Const::Int(k)) => Some(k),
        _ => ints.get(&t.through_same_as(v)).copied(),
    };
    let mut memory: HashMap<(Value, tracelab_ir::descr::DescrId, Option<i64>), Value> = HashMap::new();
    let mut out = HashMap::new();
    for op in t.ops.values() {
        if op.opcode.is_call() {
            if !m.call_is_effect_free(op) {
                memory.retain(|&(o, _, _), _| !op.args.iter().any(|&a| t.through_same_as(a) == o));
            }
            continue;
        }
        let (item, load) = match op.opcode {
            // A statement of what a field holds (a bridge's entry facts) reads as a store.
            SetfieldGc | RecordKnownField => (false, false),
            SetarrayitemGc => (true, false),
            GetfieldGcR => (false, true),
            GetarrayitemGcR => (true, true),
            _ => continue,
        };
        let Some(d) = op.descr else { continue };
        let obj = t.through_same_as(op.args[0]);
        let index = if item { int(op.args[1]) } else { None };
        if item && index.is_none() {
            if !load {
                memory.retain(|&(_, dd, _), _| dd != d);
            }
            continue;
        }
        match (load, op.result) {
            (false, _) => {
                memory.retain(|&(o, dd, _), _| o == obj || dd != d);
                memory.insert((obj, d, index), t.through_same_as(op.args[if item { 2 } else { 1 }]));
            }
            (true, Some(r)) => match memory.get(&(obj, d, index)) {
                Some(&v) => {
                    out.insert(r, v);
                }
                None => {
                    memory.insert((obj, d, index), r);
                }
            },
            _ => {}
        }
    }
    out
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
        let previous = read_from_the_last_iteration(t);
        let anywhere = read_back_anywhere(t, m);
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
            while let Some(&v) = loaded.get(&checked).or_else(|| anywhere.get(&checked)) {
                checked = t.through_same_as(v);
            }
            let alloc = site.get(&checked).or_else(|| next.get(&checked).and_then(|r| site.get(r))).or_else(|| previous.get(&checked).and_then(|r| site.get(r)));
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
        let same = read_back_anywhere(t, m);
        // Per value a slot held (see `read_back_anywhere`): the constant a guard compared it to.
        let mut compared: HashMap<Value, String> = HashMap::new();
        let mut rename: HashMap<String, String> = HashMap::new();
        for op in t.ops.values() {
            if op.opcode != Opcode::GuardValue {
                continue;
            }
            let Some(Const::Ptr(b)) = t.as_const(op.args[1]) else { continue };
            // Two guards on what one slot holds, with nothing written there in between.
            let mut held = t.through_same_as(op.args[0]);
            while let Some(&v) = same.get(&held) {
                held = t.through_same_as(v);
            }
            if let Some(Const::Ptr(a)) = t.as_const(held) {
                if a != b {
                    rename.insert(a.clone(), b.clone());
                }
                continue;
            }
            match compared.get(&held) {
                Some(a) if a != b => {
                    rename.insert(a.clone(), b.clone());
                }
                _ => {
                    compared.insert(held, b.clone());
                }
            }
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

    const FRAME: &str = "descr F.stack = <FieldP demo.F.stack 8>\ndescr F.depth = <FieldS demo.F.depth 16>\ndescr F.code = <FieldP demo.F.code 24>\n\
                         descr items = <ArrayP 8>\ndescr size16 = <SizeDescr 16>\ndescr C.box = <FieldP demo.C.box 8>\n";

    /// The class `known_vtables` gave the trace's one allocation, if any.
    fn allocation_class(body: &str) -> Option<String> {
        let mut m = tracelab_ir::parse(&format!("{FRAME}loop l [p0] {{\n{body}}}\n")).unwrap_or_else(|d| panic!("{d:?}"));
        known_vtables(&mut m);
        assert!(tracelab_ir::verify(&m).is_ok());
        let t = m.traces.values().next().expect("a trace");
        let op = t.ops.values().find(|o| o.opcode == Opcode::NewWithVtable).expect("an allocation");
        match &m.descrs[op.descr.expect("a descr")].data {
            DescrData::Size(sd) => sd.class.clone(),
            _ => None,
        }
    }

    #[test]
    fn an_allocation_pushed_on_a_frame_stack_and_checked_gets_its_class() {
        // Stored at the stack depth, which a later guard_value proves is 2, and read back at 2.
        let body = "    p1 = getfield_gc_r(p0, descr=F.stack)\n    p2 = new_with_vtable(descr=size16)\n    i3 = getfield_gc_i(p0, descr=F.depth)\n\
                    setarrayitem_gc(p1, i3, p2, descr=items)\n    i4 = int_add(i3, 1)\n    guard_value(i4, 3)\n\
                    p5 = getarrayitem_gc_r(p1, 2, descr=items)\n    guard_class(p5, ConstClass(W_IntObject))\n    jump(p0)\n";
        assert_eq!(allocation_class(body).as_deref(), Some("W_IntObject"));
        // Not proved: another slot may be read.
        let unproved = body.replace("    guard_value(i4, 3)\n", "");
        assert_ne!(unproved, body);
        assert_eq!(allocation_class(&unproved), None);
    }

    #[test]
    fn an_allocation_the_next_iteration_reads_back_gets_its_class() {
        // The iteration leaves it in the frame's local 1; the next one loads local 1 first.
        let body = "    p1 = getfield_gc_r(p0, descr=F.stack)\n    p2 = getarrayitem_gc_r(p1, 1, descr=items)\n\
                    guard_class(p2, ConstClass(W_IntObject))\n    p3 = new_with_vtable(descr=size16)\n\
                    setarrayitem_gc(p1, 1, p3, descr=items)\n    jump(p0)\n";
        assert_eq!(allocation_class(body).as_deref(), Some("W_IntObject"));
        // A frame whose stack field the trace writes is not reached the same way next time.
        let moved = body.replace("    jump(p0)", "    setfield_gc(p0, p1, descr=F.stack)\n    jump(p0)");
        assert_ne!(moved, body);
        assert_eq!(allocation_class(&moved), None);
    }

    fn constants_after_naming(body: &str) -> Vec<String> {
        let mut m = tracelab_ir::parse(&format!("{FRAME}loop l [p0] {{\n{body}}}\n")).unwrap_or_else(|d| panic!("{d:?}"));
        one_name_per_object(&mut m);
        let t = m.traces.values().next().expect("a trace");
        let mut names: Vec<String> = t.ops.values().flat_map(|o| o.args.iter().filter_map(|&a| match t.as_const(a) {
            Some(Const::Ptr(n)) => Some(n.clone()),
            _ => None,
        })).collect();
        names.dedup();
        names
    }

    #[test]
    fn two_guards_on_what_one_slot_holds_name_one_object() {
        let body = "    p1 = getfield_gc_r(p0, descr=F.code)\n    guard_value(p1, ConstPtr(a))\n\
                    p2 = getfield_gc_r(p0, descr=F.code)\n    guard_value(p2, ConstPtr(b))\n    jump(p0)\n";
        assert_eq!(constants_after_naming(body), ["b"]);
        // A store of another object in between changes what the slot holds.
        let stored = body.replace("p2 = getfield", "setfield_gc(p0, p0, descr=F.code)\n    p2 = getfield");
        assert_ne!(stored, body);
        assert_eq!(constants_after_naming(&stored), ["a", "b"]);
    }

    #[test]
    fn a_stated_field_and_a_guard_on_it_name_one_object() {
        // A bridge's entry facts name constants as the optimized parent did.
        let body = "    record_known_field(p0, ConstPtr(a), descr=F.code)\n    p1 = getfield_gc_r(p0, descr=F.code)\n\
                    guard_value(p1, ConstPtr(b))\n    jump(p0)\n";
        assert_eq!(constants_after_naming(body), ["b"]);
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
