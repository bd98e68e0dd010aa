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
//! A pass that decides per op what stands in its place (a virtual's allocation goes, stores are
//! held back and emitted later, a call becomes the callee's body) walks with
//! [`Cursor::next_op_pending`]: the op is seen as it stands, [`Cursor::emit`] puts ops before it,
//! [`Cursor::keep`] keeps it (renamed then, by the replacements made while deciding) and later
//! emits go after it; an op not kept goes when the walk moves on.
//!
//! Op ids are stable ([`crate::layout`]): a removed op keeps its data, so looking up the op that
//! defined a value works at any time (a removed op's result must have been replaced, or be
//! unused, for the trace to verify).
//!
//! A pass that may have to walk again from the trace as it was (`heap`, when a loop does not
//! know at its jump a value it chose to carry) walks with a [`Journal`]
//! ([`Cursor::with_journal`]): what the walk changes is recorded as it goes, the old value of
//! each operand it renames and each op it changes otherwise ([`Cursor::op_mut`]), and
//! [`Journal::roll_back`] puts the trace back. Cheaper than a copy of the trace: only what
//! changes is kept, and guard data is renamed in place rather than copied away from a shared
//! original.

use crate::entity::EntityRef;
use crate::layout::Place;
use crate::trace::{Op, OpId, Trace, Value, ValueName};

/// What the walk has done with the op it is at.
#[derive(Copy, Clone, PartialEq, Eq, Debug)]
enum State {
    /// Not started, or past the end.
    Outside,
    /// Reached by [`Cursor::next_op_pending`]: not renamed yet; kept only if the pass says so.
    Pending,
    /// In the trace, renamed.
    Kept,
    /// Taken out.
    Removed,
}

pub struct Cursor<'t> {
    pub t: &'t mut Trace,
    current: Option<OpId>,
    state: State,
    /// The op after which the walk goes on (the current op, or the last op inserted after it;
    /// the op before a removed one); `None`: from the front.
    after: Option<OpId>,
    ended: bool,
    /// Ops the walk has reached (inserted ones are not reached).
    reached: usize,
    /// Value → what its uses become (itself unless replaced); grows as values are added.
    renames: Vec<Value>,
    any_renamed: bool,
    journal: Option<Journal>,
}

/// What a walk changed, to take it back (see the module doc).
pub struct Journal {
    /// The order, the op arena's size and the value count when the walk began.
    order: Vec<OpId>,
    id_bound: usize,
    values: usize,
    /// Renamed operands: the op, the operand's place among the op's uses
    /// ([`Op::for_each_use`]), and the value there before.
    renamed: Vec<(OpId, u32, Value)>,
    /// Ops as they were before a change other than renaming, in the order saved.
    saved: Vec<(OpId, Op)>,
}

impl Journal {
    fn of(t: &Trace) -> Journal {
        Journal { order: t.ops.ids(), id_bound: t.ops.id_bound(), values: t.values.len(), renamed: Vec::new(), saved: Vec::new() }
    }

    /// Puts `t` back as it was when the cursor that kept this journal was made: ops and values
    /// added since go, changed ops get their old data, the order is the old one.
    pub fn roll_back(self, t: &mut Trace) {
        // The earliest save of an op is what it was before the walk changed it otherwise; its
        // operands may have been renamed before that save, which the renames below undo.
        for (id, op) in self.saved.into_iter().rev() {
            t.ops[id] = op;
        }
        let mut entries = self.renamed.as_slice();
        while let Some(&(id, _, _)) = entries.first() {
            let n = entries.iter().take_while(|e| e.0 == id).count();
            undo_renames(&mut t.ops[id], &entries[..n]);
            entries = &entries[n..];
        }
        t.ops.restore(&self.order, self.id_bound);
        t.truncate_values(self.values);
    }
}

/// Sets back the operands of `op` that `entries` (its own, by place among its uses) say were
/// renamed.
fn undo_renames(op: &mut Op, entries: &[(OpId, u32, Value)]) {
    let mut next = entries.iter().peekable();
    let mut place = 0u32;
    let mut back = |v: &mut Value| {
        if let Some(&(_, _, old)) = next.next_if(|e| e.1 == place) {
            *v = old;
        }
        place += 1;
    };
    op.args.iter_mut().for_each(&mut back);
    if let Some(g) = op.guard_mut() {
        g.map_values(|mut v| {
            back(&mut v);
            v
        });
    }
}

impl<'t> Cursor<'t> {
    /// A cursor before the first op of `t`.
    pub fn new(t: &'t mut Trace) -> Cursor<'t> {
        Cursor { t, current: None, state: State::Outside, after: None, ended: false, reached: 0, renames: Vec::new(), any_renamed: false, journal: None }
    }

    /// A cursor that keeps a [`Journal`] of what the walk changes, handed back by
    /// [`finish`](Cursor::finish). Change ops only through the cursor then: renames and
    /// [`op_mut`](Cursor::op_mut) are recorded, a write through `t.ops[id]` is not.
    pub fn with_journal(t: &'t mut Trace) -> Cursor<'t> {
        let journal = Some(Journal::of(t));
        let mut cur = Cursor::new(t);
        cur.journal = journal;
        cur
    }

    /// An op to change other than by renaming its operands (a label gaining parameters, a
    /// guard's data replaced): with a journal, what it was is kept first.
    pub fn op_mut(&mut self, id: OpId) -> &mut Op {
        if let Some(j) = self.journal.as_mut() {
            j.saved.push((id, self.t.ops[id].clone()));
        }
        &mut self.t.ops[id]
    }

    /// Ends the walk as dropping the cursor does (the pending op settled, the rest renamed)
    /// and hands back its journal, if it kept one.
    pub fn finish(mut self) -> Option<Journal> {
        self.settle();
        if self.any_renamed {
            while self.next_op().is_some() {}
        }
        self.journal.take()
    }

    /// Moves to the next op, renames the values it reads by the replacements made so far, and
    /// returns its id (`None` at the end). The op stays unless the pass removes it.
    pub fn next_op(&mut self) -> Option<OpId> {
        let id = self.advance()?;
        self.rename_op(id);
        self.state = State::Kept;
        Some(id)
    }

    /// Moves to the next op as it stands, not renamed: the form for a pass that decides per op
    /// what replaces it (the op, other ops, or nothing). The op goes when the walk moves on
    /// unless [`keep`](Cursor::keep) is called; until then [`emit`](Cursor::emit) puts ops
    /// before it, afterwards after it.
    pub fn next_op_pending(&mut self) -> Option<OpId> {
        let id = self.advance()?;
        self.state = State::Pending;
        Some(id)
    }

    /// Keeps the pending op, renamed by the replacements made so far.
    pub fn keep(&mut self) {
        let id = self.current.expect("the cursor is at an op");
        if self.state == State::Pending {
            self.rename_op(id);
            self.state = State::Kept;
        }
    }

    fn advance(&mut self) -> Option<OpId> {
        self.settle();
        let next = self.peek_next();
        self.current = next;
        match next {
            Some(id) => {
                self.after = Some(id);
                self.reached += 1;
            }
            None => {
                self.ended = true;
                self.state = State::Outside;
            }
        }
        next
    }

    /// A pending op the pass did not keep goes.
    fn settle(&mut self) {
        if self.state == State::Pending {
            self.remove();
        }
    }

    /// The op [`next_op`](Cursor::next_op) would move to, as it stands (not renamed yet).
    pub fn peek_next(&self) -> Option<OpId> {
        if self.ended {
            return None;
        }
        match self.after {
            Some(id) => self.t.ops.next(id),
            None => self.t.ops.first(),
        }
    }

    /// Where the op the walk reached last stood in the trace as the walk received it (for
    /// messages: "op 5" means what the input's printout shows as op 5).
    pub fn position(&self) -> usize {
        self.reached.saturating_sub(1)
    }

    /// The op the walk is at (`None` before the start, past the end, or once it is removed).
    pub fn current(&self) -> Option<OpId> {
        self.current.filter(|_| matches!(self.state, State::Pending | State::Kept))
    }

    /// The op the walk is at. Panics outside an op (a pass bug).
    pub fn op(&self) -> &Op {
        &self.t.ops[self.current().expect("the cursor is at an op")]
    }

    /// Inserts `op` before the current op with a fresh result value; where there is no current
    /// op (before the start, once it is removed, past the end) at the point the walk is at.
    /// The walk does not visit inserted ops: their operands are what the pass gave. Returns
    /// its id.
    pub fn insert_before(&mut self, op: Op) -> OpId {
        self.insert_before_named(op, None)
    }

    /// [`insert_before`](Cursor::insert_before), naming the result.
    pub fn insert_before_named(&mut self, op: Op, name: Option<ValueName>) -> OpId {
        match self.current() {
            Some(id) => self.t.insert_op(Place::Before(id), op, name),
            None => self.insert_at_walk_point(op, name),
        }
    }

    /// Inserts `op` after the current op and after what was inserted after it before, so that
    /// inserts come out in the order made; the walk goes on after them.
    pub fn insert_after(&mut self, op: Op) -> OpId {
        self.insert_at_walk_point(op, None)
    }

    /// Inserts `op` where the pass's output is at: before a pending op, after a kept one (see
    /// [`next_op_pending`](Cursor::next_op_pending)).
    pub fn emit(&mut self, op: Op) -> OpId {
        self.emit_named(op, None)
    }

    /// [`emit`](Cursor::emit), naming the result.
    pub fn emit_named(&mut self, op: Op, name: Option<ValueName>) -> OpId {
        match self.state {
            State::Pending => self.insert_before_named(op, name),
            _ => self.insert_at_walk_point(op, name),
        }
    }

    fn insert_at_walk_point(&mut self, op: Op, name: Option<ValueName>) -> OpId {
        let place = match (self.ended, self.after) {
            (true, _) => Place::End,
            (false, Some(a)) => Place::After(a),
            (false, None) => Place::Front,
        };
        let id = self.t.insert_op(place, op, name);
        if !self.ended {
            self.after = Some(id);
        }
        id
    }

    /// Takes the current op out of the trace; the walk goes on with the op after it. Its
    /// result, if anything reads it later, must be replaced.
    pub fn remove(&mut self) {
        let id = self.current().expect("the cursor is at an op");
        if self.after == Some(id) {
            self.after = self.t.ops.prev(id);
        }
        self.t.ops.unlink(id);
        self.state = State::Removed;
    }

    /// From now on (the ops the walk has yet to reach or keep), uses of `v` are uses of `by`.
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
    pub fn resolve(&self, v: Value) -> Value {
        resolve(&self.renames, v)
    }

    fn rename_op(&mut self, id: OpId) {
        if !self.any_renamed {
            return;
        }
        let renames = &self.renames;
        let op = &mut self.t.ops[id];
        let Some(j) = self.journal.as_mut() else {
            op.map_values(|v| resolve(renames, v));
            return;
        };
        // One look at each operand records what changes; only then is anything renamed.
        let before = j.renamed.len();
        let mut place = 0u32;
        op.for_each_use(|v| {
            if resolve(renames, v) != v {
                j.renamed.push((id, place, v));
            }
            place += 1;
        });
        if j.renamed.len() > before {
            op.args.iter_mut().for_each(|a| *a = resolve(renames, *a));
            // Guard data is copied only if one of its own values changes.
            let in_guard = j.renamed.last().is_some_and(|e| e.1 >= op.args.len() as u32);
            if in_guard {
                if let Some(g) = op.guard_mut() {
                    g.map_values(|v| resolve(renames, v));
                }
            }
        }
    }
}

fn resolve(renames: &[Value], mut v: Value) -> Value {
    while let Some(&by) = renames.get(v.index()) {
        if by == v {
            break;
        }
        v = by;
    }
    v
}

impl Drop for Cursor<'_> {
    /// Settles the current op and applies the replacements to the ops the walk did not reach.
    fn drop(&mut self) {
        self.settle();
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
    fn a_pending_op_goes_unless_kept_and_emits_land_around_it() {
        let mut t = trace("loop l [i0] {\n  i1 = int_add(i0, 1)\n  i2 = int_mul(i1, 2)\n  finish(i2)\n}\n");
        {
            let mut cur = Cursor::new(&mut t);
            while let Some(id) = cur.next_op_pending() {
                match cur.op().opcode {
                    // Replaced by what is emitted: i0 - 1, then negated.
                    Opcode::IntAdd => {
                        let a = cur.op().args.clone();
                        let sub = cur.emit(Op::new(Opcode::IntSub, &a));
                        let s = cur.t.ops[sub].result.expect("a result");
                        let neg = cur.emit(Op::new(Opcode::IntNeg, &[s]));
                        let n = cur.t.ops[neg].result.expect("a result");
                        let r = cur.t.ops[id].result.expect("a result");
                        cur.replace_uses(r, n);
                    }
                    Opcode::IntMul => {
                        cur.keep();
                        let r = cur.t.ops[id].result.expect("a result");
                        cur.emit(Op::new(Opcode::IntNeg, &[r]));
                    }
                    _ => cur.keep(),
                }
            }
        }
        let text = print_trace(&crate::Module::new(), &t);
        let order: Vec<&str> = text.lines().filter_map(|l| l.split('=').nth(1).or(Some(l)).and_then(|r| r.trim().split('(').next())).collect();
        assert_eq!(order[1..order.len() - 1], ["int_sub", "int_neg", "int_mul", "int_neg", "finish"], "{text}");
    }

    #[test]
    fn a_journal_takes_the_walk_back() {
        let text = "loop l [i0, i1] {\n  label(i0, i1, descr=TargetToken(1))\n  i2 = int_add(i0, 1)\n  i3 = int_mul(i2, 2)\n  guard_true(i3) [i2, i3]\n  i4 = int_sub(i3, i2)\n  jump(i4, i2, descr=TargetToken(1))\n}\n";
        let original = trace(text);
        let mut t = original.clone();
        let mut cur = Cursor::with_journal(&mut t);
        while let Some(id) = cur.next_op() {
            match cur.op().opcode {
                Opcode::Label => {
                    // A parameter added, as `heap` carries a value.
                    let a = cur.op().args[0];
                    cur.op_mut(id).args.push(a);
                    cur.t.add_label_param(id, crate::Type::Int, None);
                }
                Opcode::IntAdd => {
                    let args = cur.op().args.clone();
                    let new = cur.insert_before(Op::new(Opcode::IntSub, &args));
                    let (r, old) = (cur.t.ops[new].result.expect("a result"), cur.t.ops[id].result.expect("a result"));
                    cur.replace_uses(old, r);
                    cur.remove();
                    let seven = cur.t.int(7);
                    cur.insert_after(Op::new(Opcode::IntNeg, &[seven]));
                }
                _ => {}
            }
        }
        let journal = cur.finish().expect("a journal");
        let edited = print_trace(&crate::Module::new(), &t);
        for line in ["i4=i0", "i6 = int_sub(i0, 1)", "int_neg(7)", "i3 = int_mul(i6, 2)", "guard_true(i3) [i6, i3]", "jump(i11, i6"] {
            assert!(edited.contains(line), "{line} in\n{edited}");
        }
        assert_ne!(t, original, "the walk changed something");
        journal.roll_back(&mut t);
        assert_eq!(print_trace(&crate::Module::new(), &t), print_trace(&crate::Module::new(), &original));
        assert_eq!(t, original);
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
