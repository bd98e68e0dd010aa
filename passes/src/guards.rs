//! `guards`: removes guards that earlier guards imply (PyPy's `rewrite` guard handling).
//!
//! A forward walk records what each passing guard established about an SSA value, which stays
//! true for the rest of the trace (values do not change, and an object's class never does):
//! - `guard_nonnull(p)` is implied by an earlier `guard_nonnull(p)`, `guard_class(p, _)` or
//!   `guard_nonnull_class(p, _)` (class ids are not 0, so a null never passes a class check);
//! - `guard_isnull(p)` by an earlier `guard_isnull(p)`;
//! - `guard_class(p, c)` and `guard_nonnull_class(p, c)` by an earlier class guard with the same
//!   class (and nonnull-ness).
//! Guards on integers are `fold`'s (it turns a checked value into a constant).
//!
//! Not done: strengthening `guard_nonnull` + a later `guard_class` into one
//! `guard_nonnull_class` at the earlier point. It fails earlier, so it is only right when the
//! resume data of the earlier guard describes the same interpreter state; that needs the
//! resume-state reasoning the unroll work brings. One linear walk.

use crate::{map_traces, Pass, PassContext};
use std::collections::{HashMap, HashSet};
use tracelab_ir::rewrite::Rewriter;
use tracelab_ir::{Module, Opcode, Value};

pub struct Guards;

impl Pass for Guards {
    fn run(&self, m: &mut Module, cx: &mut PassContext) {
        map_traces(m, |_, t| {
            let mut rw = Rewriter::new(t);
            let mut nonnull: HashSet<Value> = HashSet::new();
            let mut null: HashSet<Value> = HashSet::new();
            let mut class: HashMap<Value, Value> = HashMap::new();
            let mut removed = 0;
            for (id, op) in t.ops.iter() {
                if !op.opcode.is_guard() {
                    rw.copy(id);
                    continue;
                }
                let args: Vec<Value> = op.args.iter().map(|&a| rw.map(a)).collect();
                let implied = match op.opcode {
                    Opcode::GuardNonnull => nonnull.contains(&args[0]),
                    Opcode::GuardIsnull => null.contains(&args[0]),
                    Opcode::GuardClass => class.get(&args[0]) == Some(&args[1]),
                    Opcode::GuardNonnullClass => class.get(&args[0]) == Some(&args[1]) && nonnull.contains(&args[0]),
                    _ => false,
                };
                if implied {
                    removed += 1;
                    continue;
                }
                rw.copy(id);
                match op.opcode {
                    Opcode::GuardNonnull => {
                        nonnull.insert(args[0]);
                    }
                    Opcode::GuardIsnull => {
                        null.insert(args[0]);
                    }
                    Opcode::GuardClass | Opcode::GuardNonnullClass => {
                        nonnull.insert(args[0]);
                        class.insert(args[0], args[1]);
                    }
                    _ => {}
                }
            }
            cx.stats.add("guards removed", removed);
            rw.finish()
        });
    }
}
