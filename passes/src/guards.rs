//! `guards`: removes guards that earlier guards imply (PyPy's `rewrite` guard handling).
//!
//! A forward walk records what each passing guard established about an SSA value, which stays
//! true for the rest of the trace (values do not change, and an object's class never does):
//! - `guard_nonnull(p)` is implied by an earlier `guard_nonnull(p)`, `guard_class(p, _)`,
//!   `guard_nonnull_class(p, _)` (class ids are not 0, so a null never passes a class check),
//!   `guard_value(p, c)` with a constant object `c`, or an op that went through `p` (a field,
//!   item, length or string access: a null reference stops the trace there, PyPy's
//!   `make_nonnull` after such ops);
//! - `guard_isnull(p)` by an earlier `guard_isnull(p)`;
//! - `guard_class(p, c)` and `guard_nonnull_class(p, c)` by an earlier class guard with the same
//!   class (and nonnull-ness);
//! - `guard_true(x)`, `guard_false(x)` and `guard_value(x, c)` by the same guard earlier (after
//!   `cse` has made two equal conditions one value, `fold` has already run);
//! - a guard on constants that holds (`guard_value(c, c)`, `guard_true(1)`, ...): passes after
//!   `fold` may still find values constant (`heap` forwarding, `intbounds` pinning).
//! `assert_not_none(p)` (a frontend's promise, no code) is dropped and its fact kept;
//! `guard_future_condition` (a placeholder that always passes) is dropped.
//! `record_known_class(p, c)` (a statement, e.g. a bridge's entry fact, that `p` is a non-null
//! object of class `c`) counts as a passed `guard_nonnull_class(p, c)`; it stays (no code).
//! - `guard_no_exception` when no op since the last passed `guard_no_exception` or
//!   `guard_exception` (or since the start of a loop or function, which the interpreter enters
//!   with no exception pending) can raise: a call whose effect class says it cannot raise (EF 0-2)
//!   or no call at all; likewise `guard_not_forced` when no op since can force (a call of EF 6 or
//!   7, `call_may_force_*`, `call_assembler_*`, `call_release_gil_*`). This is what removes the
//!   guard after a call that another pass removed (PyPy drops it with the call). A bridge starts,
//!   and every label restarts, with both unknown.
//! At a label that another trace jumps into, everything is forgotten (see
//! [`tracelab_ir::facts::ModuleFacts`]).
//!
//! Strengthening: `guard_nonnull(p)` followed closely by `guard_class(p, c)` becomes one
//! `guard_nonnull_class(p, c)` at the first guard's place (PyPy does the same), when the two
//! hand the interpreter back the same state (equal fail args and resume data, and no bridge on
//! either: a bridge goes on from its own guard) and only ops
//! without effects lie between (markers, pure ops, loads not through `p`, guards that resume
//! the same way), at most 16: failing earlier then resumes exactly as failing later would.
//! One linear walk (the look-ahead is bounded).

use crate::{edit_traces, Pass, PassContext};
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use tracelab_ir::cursor::Cursor;
use tracelab_ir::trace::Operands;
use tracelab_ir::{Const, Module, Op, OpId, Opcode, Value};

pub struct Guards;

impl Pass for Guards {
    fn run(&self, m: &mut Module, cx: &mut PassContext) {
        let facts = cx.facts.clone();
        edit_traces(m, |m, t| {
            let bridge = matches!(t.kind, tracelab_ir::TraceKind::Bridge { .. });
            let state = Pending { exception: bridge, forced: bridge };
            let mut w = Walk { m, cur: Cursor::new(t), facts: Facts::default(), removed: 0, merged: HashSet::default(), state };
            while let Some(next) = w.cur.peek_next() {
                // Looked for among the ops as the trace has them (none after this one is renamed yet).
                let ahead = if w.cur.t.ops[next].opcode == Opcode::GuardNonnull { w.class_guard_ahead(next, &facts) } else { None };
                let id = w.cur.next_op().expect("the op peeked at");
                if facts.is_open_label(&w.cur.t.ops[id]) {
                    w.facts = Facts::default();
                }
                w.op(id, ahead);
            }
            cx.stats.add("guards removed", w.removed);
        });
    }
}

/// What passing guards established.
#[derive(Default)]
struct Facts {
    nonnull: HashSet<Value>,
    null: HashSet<Value>,
    class: HashMap<Value, Value>,
    truth: HashMap<Value, bool>,
    value: HashMap<Value, Value>,
}

/// What may have happened since the last guard that checked it.
#[derive(Clone, Copy)]
struct Pending {
    /// An op may have raised.
    exception: bool,
    /// A call may have forced the frame (`guard_not_forced`'s question).
    forced: bool,
}

impl Pending {
    fn after(&mut self, m: &Module, t: &tracelab_ir::Trace, op: &Op) {
        if op.opcode == Opcode::Label {
            *self = Pending { exception: true, forced: true };
            return;
        }
        match tracelab_ir::effects::call(m, t, op) {
            Some(c) => {
                self.exception |= c.can_raise;
                self.forced |= c.forces;
            }
            None => self.exception |= op.opcode.can_raise() || op.opcode == Opcode::RestoreException,
        }
    }
}

struct Walk<'a> {
    m: &'a Module,
    state: Pending,
    cur: Cursor<'a>,
    facts: Facts,
    removed: i64,
    /// Class guards merged into an earlier `guard_nonnull`.
    merged: HashSet<OpId>,
}

/// How far `guard_nonnull` looks for the class guard to merge.
const STRENGTHEN_WINDOW: usize = 16;

impl Walk<'_> {
    fn op(&mut self, id: OpId, ahead: Option<(OpId, Value)>) {
        let op = &self.cur.t.ops[id];
        let (opcode, args) = (op.opcode, Operands::from_slice(&op.args));
        if opcode == Opcode::AssertNotNone {
            // A promise of the frontend, not a check: it generates no code; remember it.
            self.facts.nonnull.insert(args[0]);
            return self.remove();
        }
        if opcode == Opcode::GuardFutureCondition {
            // A placeholder PyPy's unroll fills in; as a check it always passes.
            return self.remove();
        }
        if opcode == Opcode::RecordKnownClass {
            self.facts.nonnull.insert(args[0]);
            self.facts.class.insert(args[0], args[1]);
        }
        if !opcode.is_guard() {
            self.state.after(self.m, self.cur.t, &self.cur.t.ops[id]);
            if opcode.dereferences_first_operand() {
                // It went through its object, which a null would have stopped (the interpreter
                // traps there, and so does the optimized trace, at the same op).
                self.facts.nonnull.insert(args[0]);
            }
            return;
        }
        if self.already_known(opcode) || self.merged.remove(&id) || self.holds_on_constants(opcode, &args) {
            return self.remove();
        }
        let f = &self.facts;
        let implied = match opcode {
            Opcode::GuardNonnull => f.nonnull.contains(&args[0]),
            Opcode::GuardIsnull => f.null.contains(&args[0]),
            Opcode::GuardClass => f.class.get(&args[0]) == Some(&args[1]),
            Opcode::GuardNonnullClass => f.class.get(&args[0]) == Some(&args[1]) && f.nonnull.contains(&args[0]),
            Opcode::GuardTrue => f.truth.get(&args[0]) == Some(&true),
            Opcode::GuardFalse => f.truth.get(&args[0]) == Some(&false),
            Opcode::GuardValue => f.value.get(&args[0]) == Some(&args[1]),
            _ => false,
        };
        if implied {
            return self.remove();
        }
        if let Some((later, class)) = ahead {
            self.merged.insert(later);
            let c = self.cur.resolve(class);
            let op = &mut self.cur.t.ops[id];
            op.opcode = Opcode::GuardNonnullClass;
            op.args.push(c);
            self.facts.class.insert(args[0], c);
        }
        let f = &mut self.facts;
        match opcode {
            Opcode::GuardNonnull => {
                f.nonnull.insert(args[0]);
            }
            Opcode::GuardIsnull => {
                f.null.insert(args[0]);
            }
            Opcode::GuardClass | Opcode::GuardNonnullClass => {
                f.nonnull.insert(args[0]);
                f.class.insert(args[0], args[1]);
            }
            Opcode::GuardTrue | Opcode::GuardFalse => {
                f.truth.insert(args[0], opcode == Opcode::GuardTrue);
            }
            Opcode::GuardValue => {
                f.value.insert(args[0], args[1]);
                let object = self.cur.t.as_const(args[1]).is_some_and(|c| matches!(c, Const::Ptr(_) | Const::Class(_) | Const::Func(_)));
                if object {
                    f.nonnull.insert(args[0]);
                }
            }
            _ => {}
        }
    }

    /// Removes the op the walk is at.
    fn remove(&mut self) {
        self.removed += 1;
        self.cur.remove();
    }

    /// True for a guard on constants that holds (a value found constant after `fold` ran, by
    /// `heap` forwarding or `intbounds` pinning): `guard_value(c, c)`, `guard_true` of a non-zero
    /// constant, `guard_false` of 0, `guard_nonnull` of a named object, `guard_isnull` of null.
    fn holds_on_constants(&self, opcode: Opcode, args: &[Value]) -> bool {
        let k = |i: usize| args.get(i).and_then(|&v| self.cur.t.as_const(v));
        match opcode {
            Opcode::GuardValue => args[0] == args[1] && k(0).is_some(),
            Opcode::GuardTrue => matches!(k(0), Some(Const::Int(i)) if *i != 0),
            Opcode::GuardFalse => matches!(k(0), Some(Const::Int(0))),
            Opcode::GuardNonnull => matches!(k(0), Some(Const::Ptr(_))),
            Opcode::GuardIsnull => matches!(k(0), Some(Const::Null)),
            _ => false,
        }
    }

    /// True for `guard_no_exception` / `guard_not_forced` with nothing since the last check that
    /// could change the answer; records that a check of either kind happened.
    fn already_known(&mut self, opcode: Opcode) -> bool {
        let st = &mut self.state;
        match opcode {
            Opcode::GuardNoException => !std::mem::replace(&mut st.exception, false),
            Opcode::GuardException => {
                st.exception = false;
                false
            }
            Opcode::GuardNotForced => !std::mem::replace(&mut st.forced, false),
            _ => false,
        }
    }

    /// For `guard_nonnull(p)` at `id`: a `guard_class(p, c)` a few ops later that resumes the
    /// same way, with nothing between that has effects or can fail (ops and `c` as the trace
    /// had them before this walk renamed anything).
    fn class_guard_ahead(&self, id: OpId, facts: &tracelab_ir::facts::ModuleFacts) -> Option<(OpId, Value)> {
        let t = &*self.cur.t;
        let op = &t.ops[id];
        let p = op.args[0];
        // A guard with a bridge goes on differently from one without: failing at another guard's
        // place would lose (or take) a bridge.
        let same_state = |a: &Op, b: &Op| match (a.guard(), b.guard()) {
            _ if facts.is_bridged(a) || facts.is_bridged(b) => false,
            (Some(x), Some(y)) => x.fail_args == y.fail_args && x.resume == y.resume,
            (None, None) => true,
            _ => false,
        };
        for (later, next) in t.ops.iter_after(id).take(STRENGTHEN_WINDOW) {
            let o = next.opcode;
            if o == Opcode::GuardClass && next.args[0] == p {
                return same_state(op, next).then_some((later, next.args[1]));
            }
            // A guard between that resumes the same way fails with the same outcome.
            let harmless = o.is_marker()
                || (o.is_pure() && !o.is_ovf())
                || (o.is_guard() && same_state(op, next))
                || (o.reads_heap() && !o.writes_heap() && !o.is_call() && !o.is_guard() && !next.args.contains(&p));
            if !harmless {
                return None;
            }
        }
        None
    }
}
