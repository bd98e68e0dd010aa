//! Editing a trace in place.
//!
//! A pass that only drops ops, replaces values and changes ops where they stand (never adds an
//! op) walks the trace once through an [`Editor`] instead of copying it through a
//! [`crate::rewrite::Rewriter`]: no op is cloned, no new trace is built and no old one freed.
//! The walk calls [`Editor::update`] on each op before looking at it, which renames the op's
//! operands and guard values by the replacements made so far (guard data shared with another
//! trace is copied only if a value in it changes); [`Editor::remove`] marks an op to go, and
//! [`Editor::finish`] closes the gaps. Until then op ids stay as they were, so a value's
//! definition can be looked up as usual (a removed op's result must have been replaced first:
//! nothing looks it up after that).

use crate::entity::EntityRef;
use crate::trace::{OpId, Trace, Value, ValueDef};

pub struct Editor<'a> {
    pub t: &'a mut Trace,
    /// Value → the value its uses become (itself unless replaced).
    map: Vec<Value>,
    /// Per op: marked to go.
    removed: Vec<bool>,
    any_removed: bool,
}

impl<'a> Editor<'a> {
    pub fn new(t: &'a mut Trace) -> Editor<'a> {
        let map = t.values.keys().collect();
        let removed = vec![false; t.ops.len()];
        Editor { t, map, removed, any_removed: false }
    }

    /// What uses of `v` become.
    pub fn map(&self, v: Value) -> Value {
        self.map.get(v.index()).copied().unwrap_or(v)
    }

    /// From now on, uses of `v` become `by`.
    pub fn replace(&mut self, v: Value, by: Value) {
        if self.map.len() <= v.index() {
            // A value the pass added (a constant): its uses are its own until now.
            self.map.extend((self.map.len()..=v.index()).map(Value::new));
        }
        self.map[v.index()] = by;
    }

    /// Renames op `id`'s operands, fail args and resume data by the replacements so far.
    pub fn update(&mut self, id: OpId) {
        let map = &self.map;
        let m = |v: Value| map.get(v.index()).copied().unwrap_or(v);
        let op = &mut self.t.ops[id];
        for a in op.args.iter_mut() {
            *a = m(*a);
        }
        if op.guard().is_some_and(|g| g.any_value(|v| m(v) != v)) {
            op.guard_mut().expect("a guard").map_values(m);
        }
    }

    /// Marks op `id` to go (its result, if used later, must have been replaced).
    pub fn remove(&mut self, id: OpId) {
        self.removed[id.index()] = true;
        self.any_removed = true;
    }

    /// Closes the gaps removed ops left (their results stay in the value table, defined by
    /// nothing).
    pub fn finish(self) {
        if self.any_removed {
            let removed = self.removed;
            self.t.ops.retain(|id| !removed[id.index()]);
            for (id, op) in self.t.ops.iter() {
                if let Some(r) = op.result {
                    self.t.values[r].def = ValueDef::Op(id);
                }
                if let Some(l) = op.label() {
                    for (k, &p) in l.params.iter().enumerate() {
                        self.t.values[p].def = ValueDef::LabelParam(id, k as u32);
                    }
                }
            }
        }
    }
}
