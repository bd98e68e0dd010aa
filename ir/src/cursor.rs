//! Editing a trace in place: one walk in order with a [`Cursor`] (Cranelift's `FuncCursor`).
//!
//! Every pass edits through it. The walk reaches ops one by one with [`Cursor::next_op`]; at
//! the current op a pass may insert ops before or after it, remove it, or say that from now on
//! uses of a value are another value ([`Cursor::replace_uses`]). Replacements are applied
//! lazily, as the walk reaches each op (its operands, fail args and resume values are renamed
//! before the pass sees it), and to the ops the walk did not reach when the cursor is dropped:
//! in SSA every use comes after its definition, so no op is visited twice. Ops a pass inserts
//! are not visited: their operands are already what the pass wants.
//!
//! Op ids are stable ([`crate::layout`]): a removed op keeps its data, so looking up the op that
//! defined a value works at any time (a removed op's result must have been replaced, or be
//! unused, for the trace to verify).

use crate::entity::EntityRef;
use crate::layout::Place;
use crate::trace::{Op, OpId, Trace, Value, ValueName};

#[derive(Copy, Clone, PartialEq, Eq, Debug)]
enum Position {
    /// Before the first op: the walk has not started.
    Start,
    /// At an op the walk has reached.
    At(OpId),
    /// Past the last op.
    End,
}

pub struct Cursor<'t> {
    pub t: &'t mut Trace,
    pos: Position,
    /// Value → what its uses become (itself unless replaced); grows as values are added.
    renames: Vec<Value>,
    any_renamed: bool,
}

impl<'t> Cursor<'t> {
    /// A cursor before the first op of `t`.
    pub fn new(t: &'t mut Trace) -> Cursor<'t> {
        Cursor { t, pos: Position::Start, renames: Vec::new(), any_renamed: false }
    }

    /// Moves to the next op, renames the values it reads by the replacements made so far, and
    /// returns its id (`None` at the end).
    pub fn next_op(&mut self) -> Option<OpId> {
        let next = match self.pos {
            Position::Start => self.t.ops.first(),
            Position::At(id) => self.t.ops.next(id),
            Position::End => None,
        };
        let Some(id) = next else {
            self.pos = Position::End;
            return None;
        };
        self.pos = Position::At(id);
        self.rename_op(id);
        Some(id)
    }

    /// The op the walk is at.
    pub fn current(&self) -> Option<OpId> {
        match self.pos {
            Position::At(id) => Some(id),
            _ => None,
        }
    }

    /// The op the walk is at. Panics outside an op (a pass bug).
    pub fn op(&self) -> &Op {
        &self.t.ops[self.current().expect("the cursor is at an op")]
    }

    /// Inserts `op` before the current op (at the front before the walk starts, at the end after
    /// it) with a fresh result value; the walk does not visit it. Returns its id.
    pub fn insert_before(&mut self, op: Op) -> OpId {
        self.insert_before_named(op, None)
    }

    /// [`insert_before`](Cursor::insert_before), naming the result.
    pub fn insert_before_named(&mut self, op: Op, name: Option<ValueName>) -> OpId {
        let place = match self.pos {
            Position::Start => Place::Front,
            Position::At(id) => Place::Before(id),
            Position::End => Place::End,
        };
        self.t.insert_op(place, op, name)
    }

    /// Inserts `op` after the current op and moves the cursor to it, so that a second insert
    /// goes after the first and the walk goes on after both (they are not visited).
    pub fn insert_after(&mut self, op: Op) -> OpId {
        let place = match self.pos {
            Position::Start => Place::Front,
            Position::At(id) => Place::After(id),
            Position::End => Place::End,
        };
        let id = self.t.insert_op(place, op, None);
        if self.pos != Position::End {
            self.pos = Position::At(id);
        }
        id
    }

    /// Takes the current op out of the trace and steps back to the op before it, so that
    /// [`next_op`](Cursor::next_op) goes on with the one after. Its result, if anything reads
    /// it later, must be replaced.
    pub fn remove(&mut self) {
        let id = self.current().expect("the cursor is at an op");
        self.pos = self.t.ops.prev(id).map_or(Position::Start, Position::At);
        self.t.ops.unlink(id);
    }

    /// From now on (the ops the walk has yet to reach), uses of `v` are uses of `by`.
    pub fn replace_uses(&mut self, v: Value, by: Value) {
        let by = self.resolve(by);
        if by == v {
            return;
        }
        if self.renames.len() <= v.index() {
            let from = self.renames.len();
            self.renames.extend((from..self.t.values.len().max(v.index() + 1)).map(Value::new));
        }
        self.renames[v.index()] = by;
        self.any_renamed = true;
    }

    /// What uses of `v` are now (`v` itself unless replaced).
    pub fn resolve(&self, mut v: Value) -> Value {
        while let Some(&by) = self.renames.get(v.index()) {
            if by == v {
                break;
            }
            v = by;
        }
        v
    }

    fn rename_op(&mut self, id: OpId) {
        if self.any_renamed {
            let renames = &self.renames;
            let resolve = |mut v: Value| {
                while let Some(&by) = renames.get(v.index()) {
                    if by == v {
                        break;
                    }
                    v = by;
                }
                v
            };
            self.t.ops[id].map_values(resolve);
        }
    }
}

impl Drop for Cursor<'_> {
    /// Applies the replacements to the ops the walk did not reach.
    fn drop(&mut self) {
        if !self.any_renamed {
            return;
        }
        while self.next_op().is_some() {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{parse, print_trace, Opcode};

    fn trace(text: &str) -> Trace {
        let m = parse(text).unwrap_or_else(|d| panic!("{d:?}"));
        m.traces.values().next().cloned().expect("a trace")
    }

    #[test]
    fn inserts_removes_and_renames_in_one_walk() {
        let mut t = trace("loop l [i0] {\n  i1 = int_add(i0, 1)\n  i2 = int_mul(i1, 2)\n  i3 = int_sub(i1, i2)\n  finish(i3)\n}\n");
        {
            let mut cur = Cursor::new(&mut t);
            while let Some(id) = cur.next_op() {
                match cur.op().opcode {
                    Opcode::IntAdd => {
                        // i1 becomes i0 + 1 computed by a new op placed before it.
                        let args = cur.op().args.clone();
                        let new = cur.insert_before(Op::new(Opcode::IntSub, &args));
                        let r = cur.t.ops[new].result.expect("a result");
                        let old = cur.t.ops[id].result.expect("a result");
                        cur.replace_uses(old, r);
                        cur.remove();
                    }
                    Opcode::IntMul => {
                        cur.insert_after(Op::new(Opcode::IntNeg, &[cur.op().args[0]]));
                    }
                    _ => {}
                }
            }
        }
        let text = print_trace(&crate::Module::new(), &t);
        assert!(text.contains("int_sub(i0, 1)"), "{text}");
        assert!(!text.contains("int_add"), "{text}");
        let mul = text.find("int_mul").expect("kept");
        let neg = text.find("int_neg").expect("inserted");
        assert!(mul < neg, "{text}");
        assert_eq!(t.ops.len(), 5);
    }

    #[test]
    fn dropping_the_cursor_renames_what_the_walk_did_not_reach() {
        let mut t = trace("loop l [i0, i9] {\n  i1 = int_add(i0, 1)\n  i2 = int_mul(i0, 2)\n  finish(i2)\n}\n");
        let (i0, i9) = (t.inputs[0], t.inputs[1]);
        {
            let mut cur = Cursor::new(&mut t);
            cur.next_op();
            cur.replace_uses(i0, i9);
        }
        let text = print_trace(&crate::Module::new(), &t);
        assert!(text.contains("int_add(i0, 1)") && text.contains("int_mul(i9, 2)"), "{text}");
    }

    #[test]
    fn replacements_chain() {
        let mut t = trace("loop l [i0, i1, i2] {\n  i3 = int_add(i0, i0)\n  finish(i3)\n}\n");
        let (a, b, c) = (t.inputs[0], t.inputs[1], t.inputs[2]);
        let mut cur = Cursor::new(&mut t);
        cur.replace_uses(a, b);
        cur.replace_uses(b, c);
        assert_eq!(cur.resolve(a), c);
        cur.next_op();
        assert_eq!(cur.op().args.as_slice(), &[c, c]);
    }
}
