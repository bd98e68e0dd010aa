//! `guards`: removes guards that earlier guards imply (PyPy's `rewrite` guard handling).
//!
//! A forward walk records what each passing guard established about an SSA value, which stays
//! true for the rest of the trace (values do not change, and an object's class never does):
//! - `guard_nonnull(p)` is implied by an earlier `guard_nonnull(p)`, `guard_class(p, _)`,
//!   `guard_nonnull_class(p, _)` (class ids are not 0, so a null never passes a class check) or
//!   `guard_value(p, c)` with a constant object `c`;
//! - `guard_isnull(p)` by an earlier `guard_isnull(p)`;
//! - `guard_class(p, c)` and `guard_nonnull_class(p, c)` by an earlier class guard with the same
//!   class (and nonnull-ness);
//! - `guard_true(x)`, `guard_false(x)` and `guard_value(x, c)` by the same guard earlier (after
//!   `cse` has made two equal conditions one value, `fold` has already run).
//! `assert_not_none(p)` (a frontend's promise, no code) is dropped and its fact kept;
//! `guard_future_condition` (a placeholder that always passes) is dropped.
//! At a label that another trace jumps into, everything is forgotten (see
//! [`crate::open_labels`]).
//!
//! Not done: strengthening `guard_nonnull` + a later `guard_class` into one
//! `guard_nonnull_class` at the earlier point. The strengthened guard fails earlier, at a
//! different point of the interpreter, so the state the interpreter resumes with differs from
//! the original's; the equivalence check (which compares the resumed state exactly) would
//! rightly reject it, and it saves one guard where it applies. One linear walk.

use crate::{is_open_label, map_traces, open_labels, Pass, PassContext};
use std::collections::{HashMap, HashSet};
use tracelab_ir::rewrite::Rewriter;
use tracelab_ir::{Const, Module, Op, OpId, Opcode, Value};

pub struct Guards;

impl Pass for Guards {
    fn run(&self, m: &mut Module, cx: &mut PassContext) {
        let open = open_labels(m);
        map_traces(m, |_, t| {
            let mut w = Walk { rw: Rewriter::new(t), facts: Facts::default(), removed: 0 };
            for (id, op) in t.ops.iter() {
                if is_open_label(op, &open) {
                    w.facts = Facts::default();
                }
                w.op(id, op);
            }
            cx.stats.add("guards removed", w.removed);
            w.rw.finish()
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

struct Walk<'a> {
    rw: Rewriter<'a>,
    facts: Facts,
    removed: i64,
}

impl Walk<'_> {
    fn op(&mut self, id: OpId, op: &Op) {
        if op.opcode == Opcode::AssertNotNone {
            // A promise of the frontend, not a check: it generates no code; remember it.
            let p = self.rw.map(op.args[0]);
            self.facts.nonnull.insert(p);
            self.removed += 1;
            return;
        }
        if op.opcode == Opcode::GuardFutureCondition {
            // A placeholder PyPy's unroll fills in; as a check it always passes.
            self.removed += 1;
            return;
        }
        if !op.opcode.is_guard() {
            self.rw.copy(id);
            return;
        }
        let args: Vec<Value> = op.args.iter().map(|&a| self.rw.map(a)).collect();
        let f = &mut self.facts;
        let implied = match op.opcode {
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
            self.removed += 1;
            return;
        }
        self.rw.copy(id);
        match op.opcode {
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
                f.truth.insert(args[0], op.opcode == Opcode::GuardTrue);
            }
            Opcode::GuardValue => {
                f.value.insert(args[0], args[1]);
                let object = self.rw.new.as_const(args[1]).is_some_and(|c| matches!(c, Const::Ptr(_) | Const::Class(_) | Const::Func(_)));
                if object {
                    f.nonnull.insert(args[0]);
                }
            }
            _ => {}
        }
    }
}
