//! `cse`: common subexpression elimination of pure ops and elidable calls (PyPy's `pure`
//! optimization; LuaJIT's CSE).
//!
//! An op is keyed by its opcode, its operands (sorted for commutative ops) and its descr; a later
//! op with the same key is replaced by the earlier result. Keys cover pure ops (arithmetic,
//! comparisons, casts) and calls whose effect class says elidable (`call_pure_*`, and `call_*`
//! with EF 0, 3 or 4: the same arguments give the same result) or loop-invariant
//! (`call_loopinvariant_*`, EF 1: no effects, one result for the loop), and
//! `cond_call_value_*` (its function is elidable; keyed with its value operand too, PyPy keys
//! it without: `cond_call_value(v, f, x)` is `v` when `v` is not 0, so two with different `v`
//! may differ where nothing says `v` caches `f(x)`). Traces are SSA and straight-line,
//! so an earlier op always dominates a later one: no window is needed, the table holds every key
//! and the pass is linear in the trace length (one hash lookup per op). The table is emptied at a
//! label another trace jumps into (its values are not defined on that path; see
//! [`tracelab_ir::facts::ModuleFacts`]).
//!
//! Calls are keyed by target and arguments alone (`call_pure_r(f, x)` and
//! `call_loopinvariant_r(f, x)` call one function), and `record_known_result(r, f, args...)`
//! (PyPy's statement that `f(args...)` is `r`; a bridge's entry facts use it) enters `r` for that
//! key, so a later call with those arguments becomes `r`. The statement itself stays: it
//! generates no code, and the interpreter makes it true of the calls it models.
//!
//! Reads of immutable memory (`strlen`, `strhash`, `arraylen_gc`, `getfield_gc_pure_*`...) are
//! keyed too: nothing can change what they read. Other heap reads are not this pass's (they can
//! be invalidated by writes: that is `heap`'s job).

use crate::{edit_traces, Pass, PassContext};
use tracelab_ir::facts::ModuleFacts;
use rustc_hash::FxHashMap as HashMap;
use tracelab_ir::descr::DescrId;
use tracelab_ir::cursor::Cursor;
use tracelab_ir::{Module, Op, Opcode, Trace, Value};

pub struct Cse;

type Key = (Opcode, tracelab_ir::trace::Operands, Option<DescrId>);

impl Pass for Cse {
    fn run(&self, m: &mut Module, cx: &mut PassContext) {
        let facts = cx.facts.clone();
        edit_traces(m, |m, t| {
            let n = cse(m, t, &facts);
            cx.stats.add("ops reused", n);
        });
    }
}

fn elidable(m: &Module, op: &Op) -> bool {
    op.opcode != Opcode::RecordKnownResult && m.call_result_elidable(op)
}

/// The key of an effect-free call: its target and arguments (whatever the call opcode and
/// descr, which only say how it is called).
fn call_key(opcode: Opcode, args: &[Value]) -> Key {
    let target = opcode.call_target_index().expect("a call with its target among its operands");
    (Opcode::RecordKnownResult, args[target..].into(), None)
}

pub fn cse(m: &Module, t: &mut Trace, facts: &ModuleFacts) -> i64 {
    let mut cur = Cursor::new(t);
    let mut seen: HashMap<Key, Value> = HashMap::default();
    let mut reused = 0;
    while cur.next_op().is_some() {
        let op = cur.op();
        if facts.is_open_label(op) {
            seen.clear();
        }
        if op.opcode == Opcode::RecordKnownResult {
            // From here on the call gives `r`, also if an earlier call gave something else (the
            // interpreter makes later calls give `r` too).
            seen.insert(call_key(op.opcode, &op.args), op.args[0]);
            continue;
        }
        let keyed = op.result.is_some() && (op.opcode.is_pure() || op.opcode.is_immutable_read() || elidable(m, op));
        if !keyed {
            continue;
        }
        let mut args = tracelab_ir::trace::Operands::from_slice(&op.args);
        if op.opcode.is_commutative() {
            args.sort();
        }
        // A plain call's result is its target's on its arguments (not so a `cond_call_value`'s).
        let key = match op.opcode.call_target_index() {
            Some(0) => call_key(op.opcode, &args),
            _ => (op.opcode, args, op.descr),
        };
        let r = op.result.expect("keyed ops have results");
        match seen.get(&key) {
            Some(&v) => {
                reused += 1;
                cur.replace_uses(r, v);
                cur.remove();
            }
            None => {
                seen.insert(key, r);
            }
        }
    }
    reused
}
