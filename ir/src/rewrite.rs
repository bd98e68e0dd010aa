//! Building a rewritten copy of a trace.
//!
//! Passes do not edit a trace in place: they walk the old trace and append to a new one through
//! a [`Rewriter`], which maps old values to new ones. Copying an op maps its operands, fail args
//! and resume data, and defines its result (or label parameters) in the new trace; a pass that
//! replaces a value by another (forwarding, folding) says so with [`Rewriter::replace`] and
//! every later use follows.
//!
//! Why it is cheap: the new trace starts with the old one's value table, so a value keeps its
//! number when the op defining it is copied for the first time, and an op whose values all
//! stay is copied without touching its guard data (shared, copied on the first write). A
//! second copy of an op (peeling) defines fresh values. A value whose op is dropped stays in
//! the table, defined by nothing and used by nothing; the verifier and the printer look only
//! at what ops define and use.

use crate::entity::EntityRef;
use crate::trace::{Op, OpExtra, OpId, Trace, Value, ValueData, ValueDef};

pub struct Rewriter<'a> {
    pub old: &'a Trace,
    pub new: Trace,
    /// Old value → new value; inputs and the old trace's constants start as themselves.
    map: Vec<Option<Value>>,
    /// Old value numbers already defined by an op or label of the new trace (a copy of an op
    /// whose result number is taken gets a fresh one).
    taken: Vec<bool>,
}

impl<'a> Rewriter<'a> {
    /// A new trace with the old one's name, kind, inputs, virtualizable and values, and no ops.
    pub fn new(old: &'a Trace) -> Rewriter<'a> {
        // Room for a copy of the same size: growing by doubling would move the arena.
        let new = old.sharing_values(old.ops.len());
        let mut map = vec![None; old.values.len()];
        for (v, d) in old.values.iter() {
            if matches!(d.def, ValueDef::Input(_) | ValueDef::Const(_)) {
                map[v.index()] = Some(v);
            }
        }
        let taken = vec![false; old.values.len()];
        Rewriter { old, new, map, taken }
    }

    /// The new value standing for an old one.
    pub fn map(&mut self, v: Value) -> Value {
        match self.map[v.index()] {
            Some(n) => n,
            None => panic!("rewriter: {v:?} is used before the op defining it was copied or replaced"),
        }
    }

    /// The new values of `op`'s operands (no allocation for the usual few).
    pub fn map_args(&mut self, op: &Op) -> crate::trace::Operands {
        let mut args = crate::trace::Operands::from_slice(&op.args);
        for a in args.iter_mut() {
            *a = self.map(*a);
        }
        args
    }

    /// From now on, uses of old `v` become `by` (a value of the new trace).
    pub fn replace(&mut self, v: Value, by: Value) {
        self.map[v.index()] = Some(by);
    }

    /// Copies old op `id` with its operands mapped; returns the new op's id.
    pub fn copy(&mut self, id: OpId) -> OpId {
        let old_op = &self.old.ops[id];
        let mut op = Op { result: None, ..old_op.clone() };
        for a in op.args.iter_mut() {
            *a = self.map(*a);
        }
        if let Some(g) = old_op.guard() {
            // Shared as it is unless some value in it changes.
            if g.any_value(|v| self.map[v.index()] != Some(v)) {
                let map = &self.map;
                op.guard_mut().expect("a guard").map_values(|v| map[v.index()].unwrap_or_else(|| panic!("rewriter: {v:?} is used before it is defined")));
            }
        }
        let params = match &mut op.extra {
            OpExtra::Label(l) => std::mem::take(&mut l.params),
            _ => Vec::new(),
        };
        let new_id = OpId::new_index(self.new.ops.len());
        if let Some(r) = old_op.result {
            op.result = Some(self.define(r, ValueDef::Op(new_id)));
        }
        self.new.ops.push(op);
        for (k, p) in params.into_iter().enumerate() {
            let np = self.define(p, ValueDef::LabelParam(new_id, k as u32));
            if let OpExtra::Label(l) = &mut self.new.ops[new_id].extra {
                l.params.push(np);
            }
        }
        new_id
    }

    /// Defines old value `v` anew as `def`: under its own number the first time, else a fresh one.
    fn define(&mut self, v: Value, def: ValueDef) -> Value {
        let n = if self.taken[v.index()] {
            let ValueData { ty, name, .. } = &self.old.values[v];
            self.new.values.push(ValueData { ty: *ty, def, name: name.clone() })
        } else {
            self.taken[v.index()] = true;
            self.new.values[v].def = def;
            v
        };
        self.map[v.index()] = Some(n);
        n
    }

    /// Copies op `id` of *another* trace (an inlined callee) into the new trace: its values are
    /// mapped through `map` (indexed by the other trace's values; constants are re-interned),
    /// and its result is recorded there. Returns the new op's id.
    pub fn copy_from(&mut self, other: &Trace, id: OpId, map: &mut [Option<Value>]) -> OpId {
        let old_op = &other.ops[id];
        let lookup = |new: &mut Trace, v: Value| -> Value {
            match (&other.values[v].def, map[v.index()]) {
                (_, Some(n)) => n,
                (ValueDef::Const(c), None) => new.constant(c.clone()),
                _ => panic!("copy_from: {v:?} is used before it is defined"),
            }
        };
        let mut op = Op { result: None, ..old_op.clone() };
        for a in op.args.iter_mut() {
            *a = lookup(&mut self.new, *a);
        }
        if let Some(g) = op.guard_mut() {
            g.map_values(|v| lookup(&mut self.new, v));
        }
        let name = old_op.result.and_then(|r| other.values[r].name.clone());
        let new_id = self.new.push_op_named(op, name);
        if let (Some(old_r), Some(new_r)) = (old_op.result, self.new.ops[new_id].result) {
            map[old_r.index()] = Some(new_r);
        }
        new_id
    }

    /// Appends a new op (operands already new values); returns its id.
    pub fn push(&mut self, op: Op) -> OpId {
        self.new.push_op(op, None)
    }

    pub fn finish(self) -> Trace {
        self.new
    }
}
