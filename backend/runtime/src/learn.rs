//! Learning inputs that get past guards.
//!
//! Invented inputs rarely satisfy a trace's guards (`guard_value(i5, 3)`, `guard_class(p7,
//! W_IntObject)`, `guard_true(int_lt(i0, 100))`), so a run would stop at the first guard and
//! never reach the loop. When a run stops at a guard whose operand came from an invented value
//! (an input, or a word of an object of unknown layout), the learner records what that origin
//! must be for the guard to pass and runs again with the same seed: up to [`MAX_ROUNDS`] times,
//! or until a guard fails that no invented value decides (a real exit). Likewise when an index
//! runs past an array's end: an invented length is made long enough, or an invented index 0.
//! Those two are guesses: a guard that needs another value of the same origin (a stack depth
//! used as an index, then checked by `guard_value`) replaces a guess, never what a guard
//! needed.

use crate::externals::Externals;
use crate::interp::{Config, Constraints, Exit, FailedGuard, Interp, Observer, OutOfBounds, Run};
use crate::model::{class_id, Forced, Origin};
use tracelab_ir::trace::ValueDef;
use tracelab_ir::{Const, Module, Opcode, TraceId};

pub const MAX_ROUNDS: usize = 64;

/// How far past a known value an invented bound is put: loops it bounds go round this often.
const ROOM: u64 = 64;

/// What the learner watches a run for: the guard it stopped at, an index past an invented
/// length.
#[derive(Default)]
struct Stops {
    guard: Option<FailedGuard>,
    bounds: Option<OutOfBounds>,
}

impl Observer for Stops {
    fn guard_failed(&mut self, guard: FailedGuard, bridged: bool) {
        // A guard whose bridge goes on is not where the run stopped.
        self.guard = (!bridged).then_some(guard);
    }

    fn index_out_of_bounds(&mut self, at: OutOfBounds) {
        self.bounds = Some(at);
    }
}

/// Runs `tid` with input learning; returns the last run and the constraints it used.
pub fn run_learning(m: &Module, tid: TraceId, cfg: &Config) -> (Run, Constraints) {
    let mut cfg = cfg.clone();
    let mut guessed: std::collections::HashSet<Origin> = std::collections::HashSet::new();
    for _ in 0..MAX_ROUNDS {
        let mut stops = Stops::default();
        let run = Interp::observed(m, cfg.clone(), &mut stops).run(tid);
        let (lessons, guesses): (Vec<(Origin, Forced)>, bool) = match (&run.exit, &stops.guard, &stops.bounds) {
            (Exit::GuardFailed { .. }, Some(fg), _) => (learn(m, &run, fg, &cfg.externals), false),
            (Exit::Trap(_), _, Some(at)) => (out_of_bounds(at), true),
            _ => (Vec::new(), false),
        };
        // An origin a guard constrained is not flipped: two guards that want different values
        // of one input cannot both pass, and the run that reached further is kept. When either
        // operand of a comparison would do, the one still free is learned.
        let open = |(origin, forced): &(Origin, Forced)| match cfg.constraints.get(origin) {
            None => true,
            Some(old) => guessed.contains(origin) && old != forced,
        };
        match lessons.into_iter().find(open) {
            Some((origin, forced)) => {
                if guesses {
                    guessed.insert(origin.clone());
                } else {
                    guessed.remove(&origin);
                }
                cfg.constraints.insert(origin, forced);
            }
            None => return (run, cfg.constraints),
        }
    }
    let run = Interp::new(m, cfg.clone()).run(tid);
    (run, cfg.constraints)
}

/// An index out of bounds: make an invented length long enough, if the item fits in an object
/// of unknown layout; else (or when the length is not invented) make an invented index 0 (a
/// dict lookup's slot, a position a call returned).
fn out_of_bounds(at: &OutOfBounds) -> Vec<(Origin, Forced)> {
    use crate::heap::{ITEMS_OFFSET, LAZY_SIZE};
    let fits = at.index < LAZY_SIZE / 16 && at.index.checked_add(1).and_then(|n| n.checked_mul(at.item_size)).is_some_and(|end| ITEMS_OFFSET + end <= LAZY_SIZE);
    let longer = at.length_origin.clone().filter(|_| fits).map(|o| (o, Forced::Int(at.index + 1)));
    let first_item = at.index_origin.clone().map(|o| (o, Forced::Int(0)));
    longer.into_iter().chain(first_item).collect()
}

fn const_bits(c: &Const) -> Option<u64> {
    match c {
        Const::Int(i) => Some(*i as u64),
        Const::Float(b) => Some(*b),
        Const::Null => Some(0),
        Const::Class(n) | Const::Func(n) => Some(class_id(n)),
        Const::Ptr(_) => None,
    }
}

/// What would make the failed guard pass, if an invented value decides it: the choices, best
/// first (either operand of a comparison may do).
fn learn(m: &Module, run: &Run, fg: &FailedGuard, externals: &Externals) -> Vec<(Origin, Forced)> {
    let t = &m.traces[fg.trace];
    let op = &t.ops[fg.op];
    if matches!(op.opcode, Opcode::GuardTrue | Opcode::GuardFalse) && fg.operands.first().is_some_and(|o| o.1.is_none()) {
        if let Some(&ValueDef::Op(def)) = op.args.first().map(|&v| &t.values[v].def) {
            let cmp = t.ops[def].opcode;
            if !matches!(cmp, Opcode::PtrEq | Opcode::PtrNe | Opcode::InstancePtrEq | Opcode::InstancePtrNe) {
                let want = op.opcode == Opcode::GuardTrue;
                let direct = solve_comparison(cmp, &fg.condition, want);
                if !direct.is_empty() {
                    return direct;
                }
                return solve_through_call(m, t, &t.ops[def], fg, externals, want).into_iter().collect();
            }
        }
    }
    learn_one(m, run, fg).into_iter().collect()
}

/// For `cmp(call(f, .., x, ..), k)` where `f` is an elidable external of ints and `x` the one
/// invented argument: a value for `x` that makes the comparison give `want`, found by trying
/// values and calling `f` (`n % 2 == 0`: large powers of two first, so that a loop that halves
/// `n` goes round many times).
fn solve_through_call(m: &Module, t: &tracelab_ir::Trace, cmp: &tracelab_ir::Op, fg: &FailedGuard, externals: &Externals, want: bool) -> Option<(Origin, Forced)> {
    let (k, called) = match (fg.condition_calls.first(), fg.condition_calls.get(1)) {
        (Some(Some(args)), _) => (0, args),
        (_, Some(Some(args))) => (1, args),
        _ => return None,
    };
    let call = match t.values[cmp.args[k]].def {
        ValueDef::Op(def) => &t.ops[def],
        _ => return None,
    };
    let Some(Const::Class(name)) = call.args.first().and_then(|&a| t.as_const(a)) else { return None };
    let f = externals.get(name).filter(|f| f.result == tracelab_ir::Type::Int && f.params.iter().all(|&p| p == tracelab_ir::Type::Int))?;
    if !m.call_is_effect_free(call) || f.params.len() != called.len() {
        return None;
    }
    let mut invented = called.iter().enumerate().filter_map(|(i, (_, o))| o.clone().map(|o| (i, o)));
    let (at, origin) = invented.next()?;
    if invented.next().is_some() {
        return None;
    }
    let other = fg.condition.get(1 - k).map_or(0, |c| c.0);
    let now = called[at].0;
    let candidates = [1u64 << 40, 1 << 20, 1 << 10, ROOM, now, now.wrapping_add(1), now.wrapping_sub(1), 0, 1, u64::MAX];
    let mut args: Vec<u64> = called.iter().map(|c| c.0).collect();
    let holds = |x: u64, args: &mut Vec<u64>| {
        args[at] = x;
        let r = f.call(args);
        let (a, b) = if k == 0 { (r, other) } else { (other, r) };
        compare(cmp.opcode, a, b) == Some(want)
    };
    let x = candidates.into_iter().find(|&x| holds(x, &mut args))?;
    Some((origin, Forced::Int(x)))
}

/// [`learn`] for guards other than a comparison of two ints: one choice at most.
fn learn_one(m: &Module, run: &Run, fg: &FailedGuard) -> Option<(Origin, Forced)> {
    let t = &m.traces[fg.trace];
    let op = &t.ops[fg.op];
    let operand = |i: usize| fg.operands.get(i).cloned();
    let constant = |i: usize| op.args.get(i).and_then(|&v| t.as_const(v)).and_then(const_bits);
    match op.opcode {
        Opcode::GuardValue => {
            let (_, origin) = operand(0)?;
            if let Some(Const::Ptr(name)) = op.args.get(1).and_then(|&v| t.as_const(v)) {
                return Some((origin?, Forced::Alias(Origin::Const(name.clone()))));
            }
            let c = constant(1)?;
            let forced = if t.ty(op.args[0]) == tracelab_ir::Type::Ref && c == 0 { Forced::Null } else { Forced::Int(c) };
            match origin {
                Some(origin) => Some((origin, forced)),
                None => solve_offset(t, op.args[0], &fg.condition, c),
            }
        }
        Opcode::GuardNonnull | Opcode::GuardIsObject => Some((operand(0)?.1?, Forced::Object)),
        Opcode::GuardIsnull => Some((operand(0)?.1?, Forced::Null)),
        Opcode::GuardClass | Opcode::GuardNonnullClass | Opcode::GuardGcType | Opcode::GuardSubclass => {
            let (p, origin) = operand(0)?;
            if p == 0 {
                return Some((origin?, Forced::Object));
            }
            let (start, info) = run.machine.object_at(p)?;
            let header_origin = info.known.get(&(p - start))?.clone()?;
            Some((header_origin, Forced::Int(constant(1)?)))
        }
        Opcode::GuardTrue | Opcode::GuardFalse => {
            let want = op.opcode == Opcode::GuardTrue;
            if let Some(origin) = operand(0)?.1 {
                return Some((origin, Forced::Int(want as u64)));
            }
            let ValueDef::Op(def) = t.values[op.args[0]].def else { return None };
            let cmp = t.ops[def].opcode;
            if matches!(cmp, Opcode::PtrEq | Opcode::PtrNe | Opcode::InstancePtrEq | Opcode::InstancePtrNe) {
                let equal = want == matches!(cmp, Opcode::PtrEq | Opcode::InstancePtrEq);
                return solve_identity(&fg.condition, equal);
            }
            None
        }
        _ => None,
    }
}

/// For `guard_value(y, c)` where `y = x + k`, `k + x` or `x - k` and `x` is invented: the `x`
/// that makes `y` be `c` (a stack depth read from a frame, plus one).
fn solve_offset(t: &tracelab_ir::Trace, y: tracelab_ir::Value, operands: &[(u64, Option<Origin>)], c: u64) -> Option<(Origin, Forced)> {
    let ValueDef::Op(def) = t.values[y].def else { return None };
    let (o, [(a, oa), (b, ob)]) = (t.ops[def].opcode, operands) else { return None };
    let x = match (o, oa, ob) {
        (Opcode::IntAdd, Some(origin), _) => (origin.clone(), c.wrapping_sub(*b)),
        (Opcode::IntAdd, None, Some(origin)) => (origin.clone(), c.wrapping_sub(*a)),
        (Opcode::IntSub, Some(origin), _) => (origin.clone(), c.wrapping_add(*b)),
        (Opcode::IntSub, None, Some(origin)) => (origin.clone(), a.wrapping_sub(c)),
        _ => return None,
    };
    Some((x.0, Forced::Int(x.1)))
}

/// For `ptr_eq(a, b)`-like guards: make an invented reference the same object as (or a
/// different object from) the other operand. Addresses are never learned: they differ
/// between runs.
fn solve_identity(operands: &[(u64, Option<Origin>)], equal: bool) -> Option<(Origin, Forced)> {
    let (a, oa) = operands.first()?.clone();
    let (b, ob) = operands.get(1)?.clone();
    // Learn an invented value, not a named constant's object (which others may use as is).
    let is_const = |o: &Origin| matches!(o, Origin::Const(_));
    let (mine, (other_bits, other_origin)) = match (oa, ob) {
        (Some(x), Some(y)) if is_const(&x) && !is_const(&y) => (y, (a, Some(x))),
        (Some(x), other) => (x, (b, other)),
        (None, Some(y)) => (y, (a, None)),
        (None, None) => return None,
    };
    let forced = match (equal, other_bits, other_origin) {
        (true, 0, _) => Forced::Null,
        (true, _, Some(o)) => Forced::Alias(o),
        (false, 0, _) => Forced::Object,
        (false, _, _) => Forced::Null,
        (true, _, None) => return None,
    };
    Some((mine, forced))
}

/// `cmp(a, b)` for the comparisons the learner solves (`None` for another op).
fn compare(cmp: Opcode, a: u64, b: u64) -> Option<bool> {
    let (x, y) = (a as i64, b as i64);
    Some(match cmp {
        Opcode::IntLt => x < y,
        Opcode::IntLe => x <= y,
        Opcode::IntGt => x > y,
        Opcode::IntGe => x >= y,
        Opcode::IntEq | Opcode::PtrEq | Opcode::InstancePtrEq => a == b,
        Opcode::IntNe | Opcode::PtrNe | Opcode::InstancePtrNe => a != b,
        Opcode::UintLt => a < b,
        Opcode::UintLe => a <= b,
        Opcode::UintGt => a > b,
        Opcode::UintGe => a >= b,
        Opcode::IntIsTrue => a != 0,
        Opcode::IntIsZero => a == 0,
        _ => return None,
    })
}

/// For `cmp(a, b)` where one operand is invented and the other known: a value for the invented
/// one that makes the comparison give `want`.
fn solve_comparison(cmp: Opcode, operands: &[(u64, Option<crate::model::Origin>)], want: bool) -> Vec<(Origin, Forced)> {
    let eval = |a: u64, b: u64| compare(cmp, a, b);
    let Some((a, oa)) = operands.first().cloned() else { return Vec::new() };
    let (b, ob) = operands.get(1).cloned().unwrap_or((0, None));
    // Far from the boundary first, so that a loop bounded by the invented value goes round
    // many times (a bound just past the counter ends the loop after one iteration); and not
    // negative when the known side is not (indices and lengths are compared unsigned later).
    let pick = |k: u64, holds: &dyn Fn(u64) -> bool| {
        let ok: Vec<u64> = [k.wrapping_add(ROOM), k.wrapping_sub(ROOM), k.wrapping_sub(1), k, k.wrapping_add(1), 0, 1]
            .into_iter()
            .filter(|&c| holds(c))
            .collect();
        ok.iter().copied().find(|&c| (c as i64) >= 0 || (k as i64) < 0).or(ok.first().copied())
    };
    let mut out = Vec::new();
    if let Some(origin) = oa {
        if let Some(v) = pick(b, &|c| eval(c, b) == Some(want)) {
            out.push((origin, Forced::Int(v)));
        }
    }
    if let Some(origin) = ob {
        if let Some(v) = pick(a, &|c| eval(a, c) == Some(want)) {
            out.push((origin, Forced::Int(v)));
        }
    }
    out
}
