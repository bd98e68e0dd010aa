//! Building a rewritten copy of a trace.
//!
//! Passes do not edit a trace in place: they walk the old trace and append to a new one through
//! a [`Rewriter`], which maps old values to new ones. Copying an op maps its operands, fail args
//! and resume data, and defines its result (or label parameters) in the new trace; a pass that
//! replaces a value by another (forwarding, folding) says so with [`Rewriter::replace`] and
//! every later use follows.

use crate::entity::EntityRef;
use crate::trace::{Op, OpExtra, OpId, Trace, Value, ValueData, ValueDef, Virtualizable};

pub struct Rewriter<'a> {
    pub old: &'a Trace,
    pub new: Trace,
    map: Vec<Option<Value>>,
}

impl<'a> Rewriter<'a> {
    /// A new trace with the old one's name, kind, inputs and virtualizable, and no ops.
    pub fn new(old: &'a Trace) -> Rewriter<'a> {
        // Room for a copy of the same size: growing by doubling would move the arenas.
        let mut new = Trace::with_capacity(old.name.clone(), old.kind.clone(), old.ops.len(), old.values.len());
        new.span = old.span;
        let mut map = vec![None; old.values.len()];
        for &v in &old.inputs {
            let d = &old.values[v];
            map[v.index()] = Some(new.add_input(d.ty, d.name.as_deref()));
        }
        new.vable = old.vable.as_ref().map(|vb| Virtualizable {
            frame: map[vb.frame.index()].expect("the virtualizable is an input"),
            fields: vb.fields.clone(),
            arrays: vb.arrays.clone(),
        });
        Rewriter { old, new, map }
    }

    /// The new value standing for an old one (constants are re-interned).
    pub fn map(&mut self, v: Value) -> Value {
        if let Some(n) = self.map[v.index()] {
            return n;
        }
        match &self.old.values[v].def {
            ValueDef::Const(c) => {
                let n = self.new.constant(c.clone());
                self.map[v.index()] = Some(n);
                n
            }
            _ => panic!("rewriter: {v:?} is used before the op defining it was copied or replaced"),
        }
    }

    /// True if `v` already has a new value (copied, replaced, or a constant).
    pub fn is_mapped(&self, v: Value) -> bool {
        self.map[v.index()].is_some() || matches!(self.old.values[v].def, ValueDef::Const(_))
    }

    /// The new values of `op`'s operands (no allocation for the usual few).
    pub fn map_args(&mut self, op: &Op) -> crate::trace::Operands {
        op.args.iter().map(|&a| self.map(a)).collect()
    }

    /// True if `v` has been given a new value (a constant not used yet has not).
    pub fn is_mapped_exactly(&self, v: Value) -> bool {
        self.map[v.index()].is_some()
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
        if let OpExtra::Guard(g) = &mut op.extra {
            g.map_values(|v| self.map(v));
        }
        let params = match &mut op.extra {
            OpExtra::Label(l) => std::mem::take(&mut l.params),
            _ => Vec::new(),
        };
        let name = old_op.result.and_then(|r| self.old.values[r].name.clone());
        let new_id = self.new.push_op_named(op, name);
        if let (Some(old_r), Some(new_r)) = (old_op.result, self.new.ops[new_id].result) {
            self.map[old_r.index()] = Some(new_r);
        }
        for p in params {
            let ValueData { ty, name, .. } = &self.old.values[p];
            let np = self.new.add_label_param_named(new_id, *ty, name.clone());
            self.map[p.index()] = Some(np);
        }
        new_id
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
        if let OpExtra::Guard(g) = &mut op.extra {
            let mut g2 = (**g).clone();
            g2.map_values(|v| lookup(&mut self.new, v));
            **g = g2;
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
