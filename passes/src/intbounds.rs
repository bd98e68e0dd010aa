//! `intbounds`: integer range analysis (PyPy's `intbounds` optimization, LuaJIT's narrowing).
//!
//! One forward walk gives every integer value the range `[lo, hi]` it is known to lie in:
//! - from constants, from ops whose result range follows from their operands' (`int_add`,
//!   `int_sub`, `int_mul` when no bound overflows, `int_and` with a non-negative side,
//!   `uint_rshift`, `int_signext`, `int_force_ge_zero`, comparisons: 0 or 1), from lengths
//!   (`arraylen_gc`, `strlen`, `unicodelen`: non-negative);
//! - from guards on comparisons: after `guard_true(int_lt(x, y))` x's upper bound is below
//!   y's, and so on for `int_le`/`int_gt`/`int_ge`/`int_eq`/`int_ne`, their negations
//!   (`guard_false`), and `uint_lt`/`uint_ge` against a non-negative bound (the unsigned check
//!   of an index against a length: `0 <= x < len`); after `guard_value(x, c)` x is `c`.
//!
//! - backwards through `int_add`/`int_sub` with a constant: when `y = x - c` is narrowed and
//!   `x`'s range minus `c` cannot wrap, `x` is narrowed too (`x >= 2` and `x - 1 < 2` make `x`
//!   exactly 2); at most four steps back, which keeps the walk linear on long chains.
//!
//! With the ranges it:
//! - replaces a value whose range is one number by that constant in every later use (operands,
//!   fail args, resume data), so what was computed from it folds here too;
//! - replaces a comparison (and `int_is_true`/`int_is_zero`) the ranges decide by its constant;
//! - removes a `guard_true`/`guard_false` whose condition is then known to hold (one that must
//!   fail is kept and reported);
//! - turns `int_add_ovf`/`int_sub_ovf`/`int_mul_ovf` whose result cannot overflow into the
//!   plain op and drops the `guard_no_overflow` after it.
//!
//! Ranges belong to SSA values, so they hold for the rest of the trace; at a label another trace
//! enters (see [`tracelab_ir::facts::ModuleFacts`]) they are forgotten. A label parameter starts unknown, so in
//! a peeled loop the body learns its ranges from its own guards (the usual `i < n` before
//! `i + 1` is what makes the increment overflow-free). Assumes a verified trace; linear.

use crate::{edit_traces, Pass, PassContext};
use rustc_hash::FxHashMap as HashMap;
use tracelab_ir::cursor::Cursor;
use tracelab_ir::trace::Operands;
use tracelab_ir::trace::ValueDef;
use tracelab_ir::{Const, Module, Op, OpId, Opcode, Type, Value};

pub struct IntBounds;

impl Pass for IntBounds {
    fn run(&self, m: &mut Module, cx: &mut PassContext) {
        let facts = cx.facts.clone();
        edit_traces(m, |_, t| {
            let mut w = Walk { cur: Cursor::new(t), ranges: HashMap::default(), order: HashMap::default(), ovf_dropped: false, decided: 0, guards: 0, ovf: 0, pinned: 0, remarks: Vec::new() };
            while let Some(id) = w.cur.next_op() {
                if facts.is_open_label(&w.cur.t.ops[id]) {
                    w.ranges.clear();
                    w.order.clear();
                }
                w.op(id);
            }
            cx.stats.add("comparisons decided", w.decided);
            cx.stats.add("guards removed", w.guards);
            cx.stats.add("overflow checks removed", w.ovf);
            cx.stats.add("values found constant", w.pinned);
            cx.remarks.append(&mut w.remarks);
        });
    }
}

/// An inclusive range of i64.
#[derive(Copy, Clone, PartialEq, Debug)]
struct Range {
    lo: i64,
    hi: i64,
}

/// How far a narrowed value's bounds go back through the additions that made it.
const MAX_BACKWARD_STEPS: u32 = 4;

const FULL: Range = Range { lo: i64::MIN, hi: i64::MAX };
const BOOL: Range = Range { lo: 0, hi: 1 };
const NON_NEGATIVE: Range = Range { lo: 0, hi: i64::MAX };

impl Range {
    fn exact(c: i64) -> Range {
        Range { lo: c, hi: c }
    }
    /// The range of `f` applied to corners, or `FULL` if any corner overflows.
    fn corners(a: Range, b: Range, f: fn(i64, i64) -> Option<i64>) -> Option<Range> {
        let vals = [f(a.lo, b.lo)?, f(a.lo, b.hi)?, f(a.hi, b.lo)?, f(a.hi, b.hi)?];
        Some(Range { lo: *vals.iter().min()?, hi: *vals.iter().max()? })
    }
    fn meet(self, o: Range) -> Range {
        Range { lo: self.lo.max(o.lo), hi: self.hi.min(o.hi) }
    }
}

struct Walk<'a> {
    cur: Cursor<'a>,
    /// Ranges of values (constants are computed on demand).
    ranges: HashMap<Value, Range>,
    /// Orderings guards established that ranges cannot express: `(a, b)` → `a < b` (true)
    /// or `a <= b` (false).
    order: HashMap<(Value, Value), bool>,
    /// The last overflow-checked op became a plain op: its guard_no_overflow goes too.
    ovf_dropped: bool,
    decided: i64,
    guards: i64,
    ovf: i64,
    pinned: i64,
    remarks: Vec<String>,
}

impl Walk<'_> {
    fn range(&self, v: Value) -> Range {
        match self.cur.t.as_const(v) {
            Some(Const::Int(c)) => Range::exact(*c),
            _ => self.ranges.get(&v).copied().unwrap_or(FULL),
        }
    }

    fn narrow(&mut self, v: Value, r: Range) {
        self.narrow_within(v, r, MAX_BACKWARD_STEPS);
    }

    /// [`Walk::narrow`], going back through at most `steps` more `int_add`/`int_sub` with a
    /// constant. Unbounded, a guard at the end of a chain of n increments would narrow all n
    /// values before it, and n such guards would take n² steps.
    fn narrow_within(&mut self, v: Value, r: Range, steps: u32) {
        if self.cur.t.ty(v) != Type::Int || self.cur.t.is_const(v) {
            return;
        }
        let was = self.range(v);
        let now = was.meet(r);
        if now == was || now.lo > now.hi {
            // Nothing new, or a contradiction (a guard that must fail: it stays).
            return;
        }
        self.ranges.insert(v, now);
        if now.lo == now.hi {
            self.pin(v, now.lo);
        }
        if steps > 0 {
            self.narrow_operand(v, now, steps - 1);
        }
    }

    /// From now on `v` (not a constant) is the constant `c`.
    fn pin(&mut self, v: Value, c: i64) {
        let k = self.cur.t.int(c);
        self.cur.replace_uses(v, k);
        self.pinned += 1;
    }

    /// `v`, now in `r`, is `x + c` or `x - c` (or `c - x`, `c + x`): narrows `x` when its range
    /// shifted by `c` cannot wrap (then the shift is exact both ways).
    fn narrow_operand(&mut self, v: Value, r: Range, steps: u32) {
        use Opcode::*;
        let Some(def) = self.def(v) else { return };
        let (o, args) = (def.opcode, [def.args[0], *def.args.get(1).unwrap_or(&def.args[0])]);
        let konst = |w: &Self, a: Value| match w.cur.t.as_const(a) {
            Some(Const::Int(c)) => Some(*c),
            _ => None,
        };
        // The op must not wrap on its operands' ranges (in its own operand order).
        let f: fn(i64, i64) -> Option<i64> = match o {
            IntAdd => i64::checked_add,
            IntSub => i64::checked_sub,
            _ => return,
        };
        if Range::corners(self.range(args[0]), self.range(args[1]), f).is_none() {
            return;
        }
        // x's bounds from v's: v = x + c or c + x → v - c; v = x - c → v + c; v = c - x → c - v.
        let (x, back, c): (Value, fn(i64, i64) -> Option<i64>, i64) = match (o, konst(self, args[0]), konst(self, args[1])) {
            (IntAdd, None, Some(c)) => (args[0], |b, c| b.checked_sub(c), c),
            (IntAdd, Some(c), None) => (args[1], |b, c| b.checked_sub(c), c),
            (IntSub, None, Some(c)) => (args[0], |b, c| b.checked_add(c), c),
            (IntSub, Some(c), None) => (args[1], |b, c| c.checked_sub(b), c),
            _ => return,
        };
        let (Some(a), Some(b)) = (back(r.lo, c), back(r.hi, c)) else { return };
        self.narrow_within(x, Range { lo: a.min(b), hi: a.max(b) }, steps);
    }

    /// The op that defines `v`.
    fn def(&self, v: Value) -> Option<&Op> {
        match self.cur.t.values[v].def {
            ValueDef::Op(o) => Some(&self.cur.t.ops[o]),
            _ => None,
        }
    }

    fn op(&mut self, id: OpId) {
        use Opcode::*;
        let op = &self.cur.t.ops[id];
        let (opcode, result, args) = (op.opcode, op.result, Operands::from_slice(&op.args));
        match opcode {
            GuardTrue | GuardFalse => return self.condition_guard(opcode, args[0]),
            GuardValue => {
                if let Some(Const::Int(c)) = self.cur.t.as_const(args[1]) {
                    let c = *c;
                    return self.narrow(args[0], Range::exact(c));
                }
            }
            GuardNoOverflow if self.ovf_dropped => {
                self.ovf_dropped = false;
                self.guards += 1;
                return self.cur.remove();
            }
            IntAddOvf | IntSubOvf | IntMulOvf => return self.overflow_checked(id, opcode, &args),
            _ => {}
        }
        if opcode.is_comparison() || matches!(opcode, IntIsTrue | IntIsZero) {
            if let Some(c) = self.decide(opcode, &args) {
                self.decided += 1;
                let k = self.cur.t.int(i64::from(c));
                self.cur.replace_uses(result.expect("comparisons have a result"), k);
                return self.cur.remove();
            }
        }
        if let Some(r) = result.filter(|&r| self.cur.t.ty(r) == Type::Int) {
            let range = self.result_range(opcode, &args);
            self.narrow(r, range);
        }
    }

    /// What an op's result is known to lie in, from its operands.
    fn result_range(&self, o: Opcode, args: &[Value]) -> Range {
        use Opcode::*;
        let a = |i: usize| self.range(args[i]);
        match o {
            _ if o.is_comparison() => BOOL,
            IntIsTrue | IntIsZero => BOOL,
            IntAdd => Range::corners(a(0), a(1), i64::checked_add).unwrap_or(FULL),
            IntSub => Range::corners(a(0), a(1), i64::checked_sub).unwrap_or(FULL),
            IntMul => Range::corners(a(0), a(1), i64::checked_mul).unwrap_or(FULL),
            IntAnd => match (a(0), a(1)) {
                (x, y) if x.lo >= 0 && y.lo >= 0 => Range { lo: 0, hi: x.hi.min(y.hi) },
                (x, _) if x.lo >= 0 => Range { lo: 0, hi: x.hi },
                (_, y) if y.lo >= 0 => Range { lo: 0, hi: y.hi },
                _ => FULL,
            },
            UintRshift => match a(1) {
                s if s.lo >= 1 && s.hi < 64 => Range { lo: 0, hi: i64::MAX >> (s.lo - 1) },
                _ => FULL,
            },
            IntSignext => match self.cur.t.as_const(args[1]) {
                Some(Const::Int(b @ 1..=7)) => {
                    let bits = 8 * *b as u32;
                    Range { lo: -(1i64 << (bits - 1)), hi: (1i64 << (bits - 1)) - 1 }
                }
                _ => FULL,
            },
            IntForceGeZero => Range { lo: 0, hi: a(0).hi.max(0) },
            ArraylenGc | Strlen | Unicodelen => NON_NEGATIVE,
            _ => FULL,
        }
    }

    /// The value of a comparison the ranges decide.
    fn decide(&self, o: Opcode, args: &[Value]) -> Option<bool> {
        use Opcode::*;
        let x = self.range(args[0]);
        if matches!(o, IntIsTrue | IntIsZero) {
            let nonzero = x.lo > 0 || x.hi < 0;
            let zero = x.lo == 0 && x.hi == 0;
            return match (nonzero, zero) {
                (true, _) => Some(o == IntIsTrue),
                (_, true) => Some(o == IntIsZero),
                _ => None,
            };
        }
        let (a, b) = (args[0], *args.get(1)?);
        if let Some(known) = self.ordered(o, a, b) {
            return Some(known);
        }
        let y = self.range(b);
        let lt = |x: Range, y: Range| if x.hi < y.lo { Some(true) } else if x.lo >= y.hi { Some(false) } else { None };
        let unsigned = x.lo >= 0 && y.lo >= 0;
        match o {
            IntLt => lt(x, y),
            IntGe => lt(x, y).map(|b| !b),
            IntGt => lt(y, x),
            IntLe => lt(y, x).map(|b| !b),
            IntEq if x.hi < y.lo || y.hi < x.lo => Some(false),
            IntNe if x.hi < y.lo || y.hi < x.lo => Some(true),
            IntEq | IntNe if x.lo == x.hi && y.lo == y.hi => Some((x.lo == y.lo) == (o == IntEq)),
            UintLt if unsigned => lt(x, y),
            UintGe if unsigned => lt(x, y).map(|b| !b),
            UintGt if unsigned => lt(y, x),
            UintLe if unsigned => lt(y, x).map(|b| !b),
            _ => None,
        }
    }

    fn condition_guard(&mut self, opcode: Opcode, cond: Value) {
        let want = opcode == Opcode::GuardTrue;
        let known = match self.cur.t.as_const(cond) {
            Some(Const::Int(c)) => Some(*c != 0),
            _ => None,
        };
        match known {
            Some(k) if k == want => {
                self.guards += 1;
                return self.cur.remove();
            }
            Some(_) => {
                let at = self.cur.position();
                self.remarks.push(format!("trace {}: op {at} (`{opcode}`) always fails", self.cur.t.name))
            },
            None => {}
        }
        self.learn(cond, want);
    }

    /// What passing a guard that `cond` is `holds` teaches about the compared values.
    fn learn(&mut self, cond: Value, holds: bool) {
        use Opcode::*;
        let Some(def) = self.def(cond) else { return };
        let (o, args) = (def.opcode, def.args.clone());
        if matches!(o, IntIsTrue | IntIsZero) {
            if (o == IntIsZero) == holds {
                self.narrow(args[0], Range::exact(0));
            }
            return;
        }
        if args.len() != 2 {
            return;
        }
        let (x, y) = (args[0], args[1]);
        let (rx, ry) = (self.range(x), self.range(y));
        // Normalize to one of x < y, x <= y, x == y, x != y (or the unsigned x < y).
        let rel = match (o, holds) {
            (IntLt, true) | (IntGe, false) => Rel::Lt(x, y),
            (IntLe, true) | (IntGt, false) => Rel::Le(x, y),
            (IntGt, true) | (IntLe, false) => Rel::Lt(y, x),
            (IntGe, true) | (IntLt, false) => Rel::Le(y, x),
            (IntEq, true) | (IntNe, false) => Rel::Eq,
            (UintLt, true) | (UintGe, false) if ry.lo >= 0 => Rel::Below(x, y),
            (UintGt, true) | (UintLe, false) if rx.lo >= 0 => Rel::Below(y, x),
            _ => return,
        };
        match rel {
            Rel::Lt(a, b) => self.less(a, b, 1),
            Rel::Le(a, b) => self.less(a, b, 0),
            Rel::Eq => {
                let both = rx.meet(ry);
                self.narrow(x, both);
                self.narrow(y, both);
            }
            Rel::Below(a, b) => {
                self.narrow(a, NON_NEGATIVE);
                self.less(a, b, 1);
            }
        }
    }

    /// A signed comparison an established ordering decides.
    fn ordered(&self, o: Opcode, a: Value, b: Value) -> Option<bool> {
        use Opcode::*;
        let strict = |x: Value, y: Value| self.order.get(&(x, y)).copied();
        match o {
            IntLt => strict(a, b).filter(|&s| s).map(|_| true).or_else(|| strict(b, a).map(|_| false)),
            IntGe => strict(a, b).filter(|&s| s).map(|_| false).or_else(|| strict(b, a).map(|_| true)),
            IntGt => strict(b, a).filter(|&s| s).map(|_| true).or_else(|| strict(a, b).map(|_| false)),
            IntLe => strict(b, a).filter(|&s| s).map(|_| false).or_else(|| strict(a, b).map(|_| true)),
            _ => None,
        }
    }

    /// `a <= b - gap`.
    fn less(&mut self, a: Value, b: Value, gap: i64) {
        let strict = gap > 0 || self.order.get(&(a, b)) == Some(&true);
        self.order.insert((a, b), strict);
        let (ra, rb) = (self.range(a), self.range(b));
        if let Some(hi) = rb.hi.checked_sub(gap) {
            self.narrow(a, Range { lo: i64::MIN, hi });
        }
        if let Some(lo) = ra.lo.checked_add(gap) {
            self.narrow(b, Range { lo, hi: i64::MAX });
        }
    }

    fn overflow_checked(&mut self, id: OpId, opcode: Opcode, args: &[Value]) {
        use Opcode::*;
        let (a, b) = (self.range(args[0]), self.range(args[1]));
        let (plain, f): (Opcode, fn(i64, i64) -> Option<i64>) = match opcode {
            IntAddOvf => (IntAdd, i64::checked_add),
            IntSubOvf => (IntSub, i64::checked_sub),
            _ => (IntMul, i64::checked_mul),
        };
        let r = self.cur.t.ops[id].result.expect("overflow-checked ops have a result");
        // Only with its guard_no_overflow right after (markers aside): nothing else reads the flag.
        let next = self.cur.t.ops.iter_after(id).map(|(_, o)| o.opcode).find(|o| !o.is_marker());
        match Range::corners(a, b, f).filter(|_| next == Some(GuardNoOverflow)) {
            Some(range) => {
                self.cur.t.ops[id].opcode = plain;
                self.ovf_dropped = true;
                self.ovf += 1;
                self.narrow(r, range);
            }
            None => self.ovf_dropped = false,
        }
    }
}

enum Rel {
    Lt(Value, Value),
    Le(Value, Value),
    Eq,
    /// Unsigned `a < b` with `b` non-negative: `0 <= a < b`.
    Below(Value, Value),
}
