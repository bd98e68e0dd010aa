//! What a bridge may assume on entry: facts that held at the guard it leaves from (PyPy's
//! `bridgeopt`, which hands the optimizer's knowledge at a guard to the bridge's optimizer).
//!
//! [`facts_at_guard`] reads them off the trace holding the guard, about the values the guard
//! hands over (its fail args, which are the bridge's inputs in that order):
//! - the class of a fail arg that an op before the guard established: `guard_class`,
//!   `guard_nonnull_class`, an earlier `record_known_class`, or `new_with_vtable` whose size
//!   descr names its class;
//! - the result of a loop-invariant call (`call_loopinvariant_*`, or a call whose descr says
//!   EF=1, the form PyPy's optimized traces keep) with constant arguments, when the result is a
//!   fail arg.
//! Every op before the guard ran before it failed, and traces are straight-line, so what those
//! ops established holds there (an object's class never changes; a loop-invariant call gives one
//! result for the loop and the bridges that leave it).
//!
//! [`state_at_entry`] writes facts at the start of a bridge as ops the passes read: a
//! `record_known_class(input, class)` (`guards` treats it as a passed class guard) and a
//! `record_known_result(input, f, args...)` (`cse` replaces the same call by the input); also a
//! constant object's class, which a frontend may know otherwise (the PyPy importer does, from the
//! recorded guards). They generate no code; the interpreter makes them true of what it invents, and ends a run where
//! they are false.
//!
//! Not carried (PyPy carries them too): known field values of fail args, which would need a
//! statement op of their own.

use tracelab_ir::descr::DescrData;
use tracelab_ir::rewrite::Rewriter;
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
}

/// The facts that hold at guard `guard` of `t` (a trace of `m`) about its fail args.
pub fn facts_at_guard(m: &Module, t: &Trace, guard: OpId) -> Vec<EntryFact> {
    let Some(fail_args) = t.ops[guard].guard().map(|g| &g.fail_args) else { return Vec::new() };
    let input_of = |v: Value| fail_args.iter().position(|&a| a == Some(v));
    let mut facts = Vec::new();
    for (_, op) in t.ops.iter().take_while(|(id, _)| *id != guard) {
        let fact = match op.opcode {
            Opcode::GuardClass | Opcode::GuardNonnullClass | Opcode::RecordKnownClass => {
                t.as_const(op.args[1]).map(|c| (op.args[0], c.clone())).map(|(v, class)| (v, Fact::Class(class)))
            }
            Opcode::NewWithVtable => allocated_class(m, op).and_then(|c| op.result.map(|r| (r, Fact::Class(c)))),
            _ if is_loop_invariant_call(m, op) => loop_invariant_call(m, t, op),
            _ => None,
        };
        let Some((v, fact)) = fact else { continue };
        let Some(input) = input_of(v) else { continue };
        let fact = match fact {
            Fact::Class(class) => EntryFact::Class { input, class },
            Fact::Call { target, args, descr } => EntryFact::CallResult { input, target, args, descr },
        };
        if !facts.contains(&fact) {
            facts.push(fact);
        }
    }
    facts
}

/// A fact about one value of the guard's trace.
enum Fact {
    Class(Const),
    Call { target: Const, args: Vec<Const>, descr: Option<DescrData> },
}

fn allocated_class(m: &Module, op: &Op) -> Option<Const> {
    match op.descr.map(|d| &m.descrs[d].data) {
        Some(DescrData::Size(s)) => s.class.clone().map(Const::Class),
        _ => None,
    }
}

fn is_loop_invariant_call(m: &Module, op: &Op) -> bool {
    op.result.is_some() && op.opcode.call_target_index() == Some(0) && m.call_effect(op).is_some_and(|e| e.0 == 1)
}

/// `r = call(f, consts...)`: the result and the call, if every operand is a constant.
fn loop_invariant_call(m: &Module, t: &Trace, op: &Op) -> Option<(Value, Fact)> {
    let consts: Option<Vec<Const>> = op.args.iter().map(|&a| t.as_const(a).cloned()).collect();
    let mut consts = consts?;
    let target = consts.remove(0);
    let descr = op.descr.map(|d| m.descrs[d].data.clone());
    Some((op.result?, Fact::Call { target, args: consts, descr }))
}

fn call_result_type(d: &DescrData) -> Option<Type> {
    match d {
        DescrData::Call(c) => Some(c.result.value_type()),
        _ => None,
    }
}

/// Puts `facts` as statements at the start of `t` (a trace of `m`, whose inputs they are
/// about): a new trace with the statements first and then `t`'s ops.
pub fn state_at_entry(m: &mut Module, t: &Trace, facts: &[EntryFact]) -> Trace {
    let mut rw = Rewriter::new(t);
    for fact in facts {
        let op = match fact {
            EntryFact::Class { input, class } => {
                let Some(&p) = t.inputs.get(*input).filter(|&&p| t.ty(p) == Type::Ref) else { continue };
                let (p, c) = (rw.map(p), rw.new.constant(class.clone()));
                Op::new(Opcode::RecordKnownClass, &[p, c])
            }
            EntryFact::ConstantClass { object, class } => {
                let (p, c) = (rw.new.constant(object.clone()), rw.new.constant(class.clone()));
                Op::new(Opcode::RecordKnownClass, &[p, c])
            }
            EntryFact::CallResult { input, target, args, descr } => {
                let result = descr.as_ref().and_then(call_result_type);
                let Some(&r) = t.inputs.get(*input).filter(|&&r| result.is_none_or(|ty| t.ty(r) == ty)) else { continue };
                let mut operands = vec![rw.map(r), rw.new.constant(target.clone())];
                operands.extend(args.iter().map(|c| rw.new.constant(c.clone())));
                let op = Op::new(Opcode::RecordKnownResult, &operands);
                match descr {
                    Some(d) => op.with_descr(m.intern_descr(d.clone())),
                    None => op,
                }
            }
        };
        rw.push(op);
    }
    for id in t.ops.keys() {
        rw.copy(id);
    }
    rw.finish()
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
}
