//! What a bridge may assume on entry: facts that held at the guard it leaves from (PyPy's
//! `bridgeopt`, which hands the optimizer's knowledge at a guard to the bridge's optimizer).
//!
//! [`facts_at_guard`] reads them off the trace holding the guard, about the values the guard
//! hands over (its fail args, which are the bridge's inputs in that order):
//! - the class of a fail arg that an op before the guard established: `guard_class`,
//!   `guard_nonnull_class`, an earlier `record_known_class`, or `new_with_vtable` whose size
//!   descr names its class; or, for a parameter of the loop header the guard follows, the class
//!   its value has on entry and on the back edge alike (PyPy's optimized loops check classes in
//!   the preamble and carry the knowledge into the body);
//! - the result of a loop-invariant call (`call_loopinvariant_*`, or a call whose descr says
//!   EF=1, the form PyPy's optimized traces keep) with constant arguments, when the result is a
//!   fail arg;
//! - the value of a field of a fail arg, when that value is a fail arg or a constant (also one a
//!   passed `guard_value`, `guard_isnull` or equality guard showed) and was loaded or stored
//!   before the guard with nothing since that may have overwritten it.
//! Every op before the guard ran before it failed, and traces are straight-line, so what those
//! ops established holds there (an object's class never changes; a loop-invariant call gives one
//! result for the loop and the bridges that leave it). A store the trace delays past the guard
//! (PyPy's optimized traces do; it shows later in the trace, or as a pending write in the
//! guard's resume data) is done when the guard fails: fields of such descrs are left out.
//!
//! [`state_at_entry`] writes facts at the start of a bridge as ops the passes read:
//! `record_known_class(input, class)` (`guards` treats it as a passed class guard),
//! `record_known_result(input, f, args...)` (`cse` replaces the same call by the input) and
//! `record_known_field(input, value, descr=d)` (`heap` treats it as a load it has seen); also a
//! constant object's class, which a frontend may know otherwise (the PyPy importer does, from the
//! recorded guards). They generate no code; the interpreter makes them true of what it invents,
//! and ends a run where they are false.
//!
//! Not carried (PyPy carries them too): array items, integer bounds.

use tracelab_ir::effects::{self, Access};
use tracelab_ir::descr::DescrData;
use tracelab_ir::cursor::Cursor;
use tracelab_ir::{Const, Module, Op, OpId, Opcode, Trace, Type, Value};

/// A fact a trace may assume from its start: about its inputs (by position among the guard's
/// fail args, for a bridge) or about a constant object.
#[derive(Clone, PartialEq, Debug)]
pub enum EntryFact {
    /// Input `input` is a non-null object of class `class`.
    Class { input: usize, class: Const },
    /// Input `input` is what the loop-invariant call of `target` with `args` returns.
    CallResult { input: usize, target: Const, args: Vec<Const>, descr: Option<DescrData> },
    /// The constant object `object` (a `ConstPtr`) is of class `class`.
    ConstantClass { object: Const, class: Const },
    /// Field `descr` of input `input` holds `value`.
    Field { input: usize, descr: DescrData, value: FactValue },
}

/// A value a fact names: an input (by position) or a constant.
#[derive(Clone, PartialEq, Debug)]
pub enum FactValue {
    Input(usize),
    Const(Const),
}

/// The facts that hold at guard `guard` of `t` (a trace of `m`) about its fail args.
pub fn facts_at_guard(m: &Module, t: &Trace, guard: OpId) -> Vec<EntryFact> {
    let Some(fail_args) = t.ops[guard].guard().map(|g| &g.fail_args) else { return Vec::new() };
    let input_of = |v: Value| fail_args.iter().position(|&a| a == Some(v));
    let mut facts = Vec::new();
    let mut add = |fact: EntryFact| {
        if !facts.contains(&fact) {
            facts.push(fact);
        }
    };
    for (_, op) in t.ops.iter().take_while(|(id, _)| *id != guard) {
        if let Some((input, class)) = class_established(m, t, op).and_then(|(v, c)| Some((input_of(v)?, c))) {
            add(EntryFact::Class { input, class });
        }
        if let Some((r, target, args, descr)) = loop_invariant_call(m, t, op) {
            if let Some(input) = input_of(r) {
                add(EntryFact::CallResult { input, target, args, descr });
            }
        }
    }
    for (v, class) in label_param_classes(m, t, guard) {
        if let Some(input) = input_of(v) {
            add(EntryFact::Class { input, class });
        }
    }
    facts.extend(known_fields(m, t, guard));
    facts
}

/// The class an op establishes for a value: a class guard or statement, or an allocation whose
/// size descr names its class.
fn class_established(m: &Module, t: &Trace, op: &Op) -> Option<(Value, Const)> {
    match op.opcode {
        Opcode::GuardClass | Opcode::GuardNonnullClass | Opcode::RecordKnownClass => Some((op.args[0], t.as_const(op.args[1])?.clone())),
        Opcode::NewWithVtable => Some((op.result?, allocated_class(m, op)?)),
        _ => None,
    }
}

/// Classes of the parameters of the loop header the guard sits after (the last label before
/// it, when the trace's own jump goes back to it): a parameter whose value has class `C` on
/// entry (established before the label) and on the back edge (established in the body, which
/// all runs before the jump, or the parameter itself passed around) has class `C` at the guard.
fn label_param_classes(m: &Module, t: &Trace, guard: OpId) -> Vec<(Value, Const)> {
    use rustc_hash::FxHashMap;
    let Some((at, header)) = t.ops.iter().take_while(|(id, _)| *id != guard).filter_map(|(id, op)| op.label().map(|l| (id, l))).last() else {
        return Vec::new();
    };
    let Some(jump) = t.ops.values().skip_while(|op| op.label().is_none_or(|l| l.token != header.token)).find(|op| op.jump_target() == Some(header.token)) else {
        return Vec::new();
    };
    let (mut before, mut body): (FxHashMap<Value, Const>, FxHashMap<Value, Const>) = Default::default();
    for (id, op) in t.ops.iter() {
        if let Some((v, c)) = class_established(m, t, op) {
            if id < at { before.insert(v, c) } else { body.insert(v, c) };
        }
    }
    let label = &t.ops[at];
    header
        .params
        .iter()
        .enumerate()
        .filter_map(|(k, &param)| {
            let class = before.get(label.args.get(k)?)?;
            let back = *jump.args.get(k)?;
            let same = back == param || body.get(&back).or_else(|| before.get(&back)) == Some(class);
            same.then(|| (param, class.clone()))
        })
        .collect()
}

/// Field values known at the guard about its fail args: from loads and stores before it that
/// nothing since may have overwritten (what the heap pass counts as a write of the descr, or
/// a label: the loop body runs again). A store the
/// guard's trace delays past it (PyPy's optimized traces do; it shows later in the trace, or in
/// the guard's resume data as a pending write) changes the field when the guard fails: fields of
/// such descrs are left out.
fn known_fields(m: &Module, t: &Trace, guard: OpId) -> Vec<EntryFact> {
    use rustc_hash::{FxHashMap, FxHashSet};
    use tracelab_ir::descr::DescrId;
    // descr -> object -> value, in the order first seen (so that facts come out in trace order).
    let mut known: FxHashMap<DescrId, Vec<(Value, Value)>> = FxHashMap::default();
    // Values that passed guards showed to be constants.
    let mut equal: FxHashMap<Value, Const> = FxHashMap::default();
    for (_, op) in t.ops.iter().take_while(|(id, _)| *id != guard) {
        let o = op.opcode;
        if let Some((v, c)) = checked_constant(t, op) {
            equal.insert(v, c);
        }
        match (o, op.descr) {
            (Opcode::GetfieldGcI | Opcode::GetfieldGcR | Opcode::GetfieldGcF | Opcode::GetfieldGcPureI | Opcode::GetfieldGcPureR | Opcode::GetfieldGcPureF, Some(d)) => {
                let objs = known.entry(d).or_default();
                if let (Some(r), false) = (op.result, objs.iter().any(|&(p, _)| p == op.args[0])) {
                    objs.push((op.args[0], r));
                }
                continue;
            }
            // Any other object might be this one: only what the statement or store says is known.
            (Opcode::RecordKnownField | Opcode::SetfieldGc, Some(d)) => {
                known.insert(d, vec![(op.args[0], op.args[1])]);
                continue;
            }
            (Opcode::Label, _) => known.clear(),
            _ => {}
        }
        // What else the op may write (the model `heap` uses too).
        let writes = effects::writes(m, op);
        if writes != Access::Nothing {
            known.retain(|&d, _| effects::immutable(m, d) || !writes.touches(m, d));
        }
    }
    let g = t.ops[guard].guard().expect("a guard");
    let mut changed_on_failure: FxHashSet<DescrId> = g.resume.iter().flat_map(|r| r.pending.iter().map(|w| w.descr)).collect();
    changed_on_failure.extend(t.ops.iter_after(guard).filter(|(_, o)| o.opcode == Opcode::SetfieldGc).filter_map(|(_, o)| o.descr));
    let input_of = |v: Value| g.fail_args.iter().position(|&a| a == Some(v));
    let value_of = |v: Value| match t.as_const(v).or_else(|| equal.get(&v)) {
        Some(c) => Some(FactValue::Const(c.clone())),
        None => input_of(v).map(FactValue::Input),
    };
    let mut descrs: Vec<DescrId> = known.keys().copied().filter(|d| !changed_on_failure.contains(d)).collect();
    descrs.sort();
    descrs
        .into_iter()
        .flat_map(|d| known[&d].iter().map(move |&(p, v)| (d, p, v)))
        .filter_map(|(d, p, v)| Some(EntryFact::Field { input: input_of(p)?, descr: m.descrs[d].data.clone(), value: value_of(v)? }))
        .collect()
}

/// `(x, c)` if guard `op` passing means `x` is the constant `c`: `guard_value(x, c)`,
/// `guard_isnull(x)`, `guard_true` of `x == c` or `guard_false` of `x != c`.
fn checked_constant(t: &Trace, op: &Op) -> Option<(Value, Const)> {
    use tracelab_ir::trace::ValueDef;
    let konst = |v: Value| t.as_const(v).cloned();
    match op.opcode {
        Opcode::GuardValue => Some((op.args[0], konst(op.args[1])?)),
        Opcode::GuardIsnull => Some((op.args[0], Const::Null)),
        Opcode::GuardTrue | Opcode::GuardFalse => {
            let ValueDef::Op(c) = t.values[op.args[0]].def else { return None };
            let cmp = &t.ops[c];
            let want = if op.opcode == Opcode::GuardTrue { [Opcode::IntEq, Opcode::PtrEq] } else { [Opcode::IntNe, Opcode::PtrNe] };
            if !want.contains(&cmp.opcode) {
                return None;
            }
            match (konst(cmp.args[0]), konst(cmp.args[1])) {
                (None, Some(k)) => Some((cmp.args[0], k)),
                (Some(k), None) => Some((cmp.args[1], k)),
                _ => None,
            }
        }
        _ => None,
    }
}

fn allocated_class(m: &Module, op: &Op) -> Option<Const> {
    match op.descr.map(|d| &m.descrs[d].data) {
        Some(DescrData::Size(s)) => s.class.clone().map(Const::Class),
        _ => None,
    }
}

/// `r = call(f, consts...)` of a loop-invariant function (`call_loopinvariant_*`, or a call
/// whose descr says EF=1): the result, target, arguments and descr, if every operand is a
/// constant.
fn loop_invariant_call(m: &Module, t: &Trace, op: &Op) -> Option<(Value, Const, Vec<Const>, Option<DescrData>)> {
    let invariant = op.opcode.call_target_index() == Some(0) && m.call_effect(op).is_some_and(|e| e.0 == 1);
    let r = op.result.filter(|_| invariant)?;
    let mut consts: Vec<Const> = op.args.iter().map(|&a| t.as_const(a).cloned()).collect::<Option<_>>()?;
    let target = consts.remove(0);
    Some((r, target, consts, op.descr.map(|d| m.descrs[d].data.clone())))
}

fn call_result_type(d: &DescrData) -> Option<Type> {
    match d {
        DescrData::Call(c) => Some(c.result.value_type()),
        _ => None,
    }
}

/// Puts `facts` as statements at the start of `t` (a trace of `m`, whose inputs they are
/// about), before its first op.
pub fn state_at_entry(m: &mut Module, t: &mut Trace, facts: &[EntryFact]) {
    let mut cur = Cursor::new(t);
    for fact in facts {
        let t = &mut *cur.t;
        let op = match fact {
            EntryFact::Class { input, class } => {
                let Some(&p) = t.inputs.get(*input).filter(|&&p| t.ty(p) == Type::Ref) else { continue };
                let (p, c) = (p, t.constant(class.clone()));
                Op::new(Opcode::RecordKnownClass, &[p, c])
            }
            EntryFact::Field { input, descr, value } => {
                let Some(&p) = t.inputs.get(*input).filter(|&&p| t.ty(p) == Type::Ref) else { continue };
                let v = match value {
                    FactValue::Input(j) => match t.inputs.get(*j) {
                        Some(&v) => v,
                        None => continue,
                    },
                    FactValue::Const(c) => t.constant(c.clone()),
                };
                let DescrData::Field(fd) = descr else { continue };
                if t.ty(v) != fd.kind.value_type() {
                    continue;
                }
                let p = p;
                Op::new(Opcode::RecordKnownField, &[p, v]).with_descr(m.intern_descr(descr.clone()))
            }
            EntryFact::ConstantClass { object, class } => {
                let (p, c) = (t.constant(object.clone()), t.constant(class.clone()));
                Op::new(Opcode::RecordKnownClass, &[p, c])
            }
            EntryFact::CallResult { input, target, args, descr } => {
                let result = descr.as_ref().and_then(call_result_type);
                let Some(&r) = t.inputs.get(*input).filter(|&&r| result.is_none_or(|ty| t.ty(r) == ty)) else { continue };
                let mut operands = vec![r, t.constant(target.clone())];
                operands.extend(args.iter().map(|c| t.constant(c.clone())));
                let op = Op::new(Opcode::RecordKnownResult, &operands);
                match descr {
                    Some(d) => op.with_descr(m.intern_descr(d.clone())),
                    None => op,
                }
            }
        };
        cur.insert_before(op);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(text: &str) -> Vec<EntryFact> {
        let m = tracelab_ir::parse(text).expect("test trace parses");
        let t = m.traces.values().next().expect("one trace");
        let (g, _) = t.ops.iter().find(|(_, op)| op.guard().and_then(|g| g.id) == Some(0x10)).expect("guard 0x10");
        facts_at_guard(&m, t, g)
    }

    #[test]
    fn classes_and_loop_invariant_results_before_the_guard() {
        let f = facts(
            "descr inv = <Callr 8 i EF=1>\n\
             descr box = <SizeDescr 16 class=W_Int>\n\
             loop l [p0, i1] {\n\
                 guard_class(p0, ConstClass(A), descr=<Guard0x1>) [p0]\n\
                 p2 = call_r(ConstClass(get_ec), 64, descr=inv)\n\
                 p3 = new_with_vtable(descr=box)\n\
                 guard_true(i1, descr=<Guard0x10>) [i1, p3, p2, p0]\n\
                 finish()\n\
             }\n",
        );
        assert_eq!(f.len(), 3, "{f:?}");
        assert_eq!(f[0], EntryFact::Class { input: 3, class: Const::Class("A".into()) });
        assert!(matches!(&f[1], EntryFact::CallResult { input: 2, target: Const::Class(n), args, descr: Some(DescrData::Call(c)) }
            if n == "get_ec" && args == &[Const::Int(64)] && c.effect.0 == 1), "{:?}", f[1]);
        assert_eq!(f[2], EntryFact::Class { input: 1, class: Const::Class("W_Int".into()) });
    }

    #[test]
    fn nothing_established_after_the_guard_or_by_a_call_that_may_vary_must_not_fire() {
        let f = facts(
            "descr inv = <Callr 8 i EF=1>\n\
             descr eff = <Callr 8 i EF=5>\n\
             loop l [p0, i1] {\n\
                 p2 = call_r(ConstClass(get_ec), i1, descr=inv)\n\
                 p3 = call_r(ConstClass(get_ec), 64, descr=eff)\n\
                 guard_true(i1, descr=<Guard0x10>) [i1, p2, p3, p0]\n\
                 guard_class(p0, ConstClass(A), descr=<Guard0x1>) [p0]\n\
                 finish()\n\
             }\n",
        );
        assert_eq!(f, vec![]);
    }

    fn fields(f: &[EntryFact]) -> Vec<(usize, String, FactValue)> {
        f.iter()
            .filter_map(|x| match x {
                EntryFact::Field { input, descr: DescrData::Field(fd), value } => Some((*input, fd.name.clone(), value.clone())),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn fields_loaded_stored_or_checked_before_the_guard() {
        let f = facts(
            "descr inv = <Callr 8 i EF=1>\n\
             loop l [p0, p1, i2] {\n\
                 p3 = getfield_gc_r(p0, descr=<FieldP EC.top 8>)\n\
                 setfield_gc(p0, i2, descr=<FieldS EC.depth 16>)\n\
                 p4 = getfield_gc_r(p0, descr=<FieldP EC.trace 24>)\n\
                 guard_isnull(p4, descr=<Guard0x1>) [p0]\n\
                 guard_true(i2, descr=<Guard0x10>) [p3, p0, i2]\n\
                 finish()\n\
             }\n",
        );
        assert_eq!(
            fields(&f),
            vec![
                (1, "top".into(), FactValue::Input(0)),
                (1, "depth".into(), FactValue::Input(2)),
                (1, "trace".into(), FactValue::Const(Const::Null)),
            ]
        );
    }

    #[test]
    fn fields_a_call_or_a_later_store_may_change_must_not_fire() {
        // The call may write anything; the store after the guard may be one the optimizer
        // delayed past it (done when the guard fails).
        let f = facts(
            "descr eff = <Callv 0 r EF=5>\n\
             loop l [p0, p1, i2] {\n\
                 p3 = getfield_gc_r(p0, descr=<FieldP EC.top 8>)\n\
                 call_n(ConstClass(f), p1, descr=eff)\n\
                 p4 = getfield_gc_r(p0, descr=<FieldP EC.trace 24>)\n\
                 guard_true(i2, descr=<Guard0x10>) [p3, p0, i2, p4]\n\
                 setfield_gc(p0, p1, descr=<FieldP EC.trace 24>)\n\
                 finish()\n\
             }\n",
        );
        assert_eq!(fields(&f), vec![]);
    }

    #[test]
    fn a_loop_parameter_of_one_class_on_both_edges() {
        let f = facts(
            "loop l [p0, i1] {\n\
                 guard_class(p0, ConstClass(A), descr=<Guard0x1>) [p0]\n\
                 label(p0, i1, descr=TargetToken(7))\n\
                 guard_true(i1, descr=<Guard0x10>) [p0, i1]\n\
                 p2 = getfield_gc_r(p0, descr=<FieldP A.next 8>)\n\
                 guard_class(p2, ConstClass(A), descr=<Guard0x2>) [p0]\n\
                 jump(p2, i1, descr=TargetToken(7))\n\
             }\n",
        );
        assert_eq!(f, vec![EntryFact::Class { input: 0, class: Const::Class("A".into()) }]);
    }

    #[test]
    fn a_loop_parameter_of_unknown_class_on_the_back_edge_must_not_fire() {
        let f = facts(
            "loop l [p0, i1] {\n\
                 guard_class(p0, ConstClass(A), descr=<Guard0x1>) [p0]\n\
                 label(p0, i1, descr=TargetToken(7))\n\
                 guard_true(i1, descr=<Guard0x10>) [p0, i1]\n\
                 p2 = getfield_gc_r(p0, descr=<FieldP A.next 8>)\n\
                 jump(p2, i1, descr=TargetToken(7))\n\
             }\n",
        );
        assert_eq!(f, vec![]);
    }
}
