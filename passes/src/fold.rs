//! `fold`: constant folding and algebraic simplification (PyPy's `rewrite` and `pure` constant
//! folding, LuaJIT's FOLD).
//!
//! - A pure op whose operands are all constants becomes its value, computed by
//!   `tracelab_ir::eval::pure` (the interpreter's own definition, so folding cannot change what
//!   an op means).
//! - Identities: `x+0`, `x-0`, `x*1`, `x|0`, `x^0`, `x&-1`, shifts by 0 → `x`; `x*0`, `x&0`,
//!   `x-x`, `x^x` → 0; `-(-x)`, `~~x`, `same_as(x)`, `cast_ptr_to_int(cast_int_to_ptr(x))`,
//!   `convert_float_bytes_to_longlong(convert_longlong_bytes_to_float(x))` and the reverse → `x`; an int or
//!   pointer comparison of a value with itself → its constant (not for floats: NaN);
//!   `int_is_true(c)` of a comparison `c` → `c`.
//! - Guards: a guard whose condition is a constant that holds is removed; one that must fail is
//!   kept and reported (a remark). After `guard_value(x, c)`, `guard_true(x)` or
//!   `guard_false(x)`, later uses of `x` use the constant it was checked to be.
//!
//! - `strlen` / `unicodelen` of a string slice (`_ll_stringslice(s, a, b)`, oopspec 23 / 43) with
//!   constant bounds `0 <= a <= b` → `b - a` (RPython's contract: callers clamp the bounds to
//!   the string first; PyPy's `vstring` knows the same length).
//!
//! Overflow-checked ops are left to `intbounds` (dropping one would change which op the next
//! `guard_no_overflow` checks). Assumes a verified trace; one forward walk, linear.

use crate::{edit_traces, Pass, PassContext};
use tracelab_ir::cursor::Cursor;
use tracelab_ir::trace::Operands;
use tracelab_ir::trace::ValueDef;
use tracelab_ir::{Const, Module, Op, Opcode, Type, Value};

pub struct Fold;

impl Pass for Fold {
    fn run(&self, m: &mut Module, cx: &mut PassContext) {
        edit_traces(m, |m, t| {
            let mut f = Folder { m, cur: Cursor::new(t), folded: 0, guards: 0, remarks: Vec::new() };
            while f.cur.next_op().is_some() {
                f.op();
            }
            cx.stats.add("ops folded", f.folded);
            cx.stats.add("guards removed", f.guards);
            cx.remarks.append(&mut f.remarks);
        });
    }
}

struct Folder<'a> {
    m: &'a Module,
    cur: Cursor<'a>,
    folded: i64,
    guards: i64,
    remarks: Vec<String>,
}

/// A constant's bits, as `eval` sees them (addresses of named objects are not known here).
fn bits(c: &Const) -> Option<u64> {
    match c {
        Const::Int(i) => Some(*i as u64),
        Const::Float(b) => Some(*b),
        Const::Null => Some(0),
        _ => None,
    }
}

fn constant_of(ty: Type, bits: u64) -> Const {
    match ty {
        Type::Float => Const::Float(bits),
        Type::Ref if bits == 0 => Const::Null,
        _ => Const::Int(bits as i64),
    }
}

impl Folder<'_> {
    fn konst(&self, v: Value) -> Option<u64> {
        self.cur.t.as_const(v).and_then(bits)
    }

    /// The op that defines `v`, if any.
    fn def(&self, v: Value) -> Option<&Op> {
        match self.cur.t.values[v].def {
            ValueDef::Op(o) => Some(&self.cur.t.ops[o]),
            _ => None,
        }
    }

    fn op(&mut self) {
        let op = self.cur.op();
        let (opcode, result, args) = (op.opcode, op.result, Operands::from_slice(&op.args));
        if opcode.is_guard() {
            return self.guard(opcode, &args);
        }
        let Some(r) = result else { return };
        let v = match opcode {
            o if o.is_pure() => self.simplify(opcode, &args, self.cur.t.ty(r)),
            Opcode::Strlen | Opcode::Unicodelen => self.slice_length(opcode, args[0]),
            _ => None,
        };
        if let Some(v) = v {
            self.folded += 1;
            self.cur.replace_uses(r, v);
            self.cur.remove();
        }
    }

    /// The length of `s` if it is `_ll_stringslice(x, a, b)` with constants `0 <= a <= b`:
    /// `b - a` (RPython's contract for the helper, see `OS_STR_SLICE`).
    fn slice_length(&mut self, len_op: Opcode, s: Value) -> Option<Value> {
        use tracelab_ir::descr::{OS_STR_SLICE, OS_UNI_SLICE};
        let def = self.def(s)?;
        let want = if len_op == Opcode::Strlen { OS_STR_SLICE } else { OS_UNI_SLICE };
        if self.m.call_oopspec(def).filter(|&os| os == want).is_none() || def.opcode.call_target_index() != Some(0) {
            return None;
        }
        let (a, b) = match def.args[1..] {
            [_, a, b] => (self.konst(a)? as i64, self.konst(b)? as i64),
            _ => return None,
        };
        (0 <= a && a <= b).then(|| self.cur.t.int(b - a))
    }

    /// A value equal to `opcode(args)`, if one exists without computing anything.
    fn simplify(&mut self, opcode: Opcode, args: &[Value], ty: Type) -> Option<Value> {
        use Opcode::*;
        let consts: Option<Vec<u64>> = args.iter().map(|&a| self.konst(a)).collect();
        if let Some(cs) = consts {
            let v = tracelab_ir::eval::pure(opcode, &cs)?;
            return Some(self.cur.t.constant(constant_of(ty, v)));
        }
        let (x, y) = (args[0], args.get(1).copied());
        let ky = y.and_then(|y| self.konst(y));
        let kx = self.konst(x);
        let same = y == Some(x);
        let zero = |s: &mut Self| s.cur.t.int(0);
        let one = |s: &mut Self| s.cur.t.int(1);
        Some(match opcode {
            IntAdd | IntOr | IntXor | IntSub | IntLshift | IntRshift | UintRshift if ky == Some(0) => x,
            IntAdd | IntOr | IntXor if kx == Some(0) => y?,
            IntMul if ky == Some(1) => x,
            IntMul if kx == Some(1) => y?,
            IntAnd if ky == Some(u64::MAX) => x,
            IntAnd if kx == Some(u64::MAX) => y?,
            IntMul | IntAnd if ky == Some(0) || kx == Some(0) => zero(self),
            IntSub | IntXor if same => zero(self),
            IntEq | IntLe | IntGe | UintLe | UintGe | PtrEq | InstancePtrEq if same => one(self),
            IntNe | IntLt | IntGt | UintLt | UintGt | PtrNe | InstancePtrNe if same => zero(self),
            SameAsI | SameAsR | SameAsF => x,
            IntNeg | IntInvert => self.inner(x, opcode)?,
            CastPtrToInt => self.inner(x, CastIntToPtr)?,
            ConvertFloatBytesToLonglong => self.inner(x, ConvertLonglongBytesToFloat)?,
            ConvertLonglongBytesToFloat => self.inner(x, ConvertFloatBytesToLonglong)?,
            IntIsTrue if self.def(x).is_some_and(|d| d.opcode.is_comparison()) => x,
            _ => return None,
        })
    }

    /// For `x = wrap(inner)`, the inner value if `x` is defined by `wrap`.
    fn inner(&self, x: Value, wrap: Opcode) -> Option<Value> {
        self.def(x).filter(|d| d.opcode == wrap).map(|d| d.args[0])
    }

    fn guard(&mut self, opcode: Opcode, args: &[Value]) {
        use Opcode::*;
        let k = |s: &Self, i: usize| args.get(i).and_then(|&v| s.konst(v));
        let named = |s: &Self, i: usize| args.get(i).and_then(|&v| s.cur.t.as_const(v)).is_some_and(|c| matches!(c, Const::Ptr(_) | Const::Class(_) | Const::Func(_)));
        let holds = match opcode {
            GuardTrue => k(self, 0).map(|c| c != 0),
            GuardFalse => k(self, 0).map(|c| c == 0),
            GuardValue => match (self.cur.t.as_const(args[0]), self.cur.t.as_const(args[1])) {
                (Some(a), Some(b)) if a == b => Some(true),
                (Some(a), Some(b)) if bits(a).is_some() && bits(b).is_some() => Some(false),
                _ => None,
            },
            GuardNonnull => if named(self, 0) { Some(true) } else { k(self, 0).map(|c| c != 0) },
            GuardIsnull => if named(self, 0) { Some(false) } else { k(self, 0).map(|c| c == 0) },
            _ => None,
        };
        match holds {
            Some(true) => {
                self.guards += 1;
                self.cur.remove();
                return;
            }
            Some(false) => {
                let at = self.cur.position();
                self.remarks.push(format!("trace {}: op {at} (`{opcode}`) always fails", self.cur.t.name))
            },
            None => {}
        }
        // What the guard checked is known from here on (uses of it, and of what it stands for).
        let x = args.first().copied();
        let known = match opcode {
            GuardValue => Some(args[1]).filter(|&c| self.cur.t.is_const(c)),
            GuardTrue if x.is_some_and(|x| self.cur.t.ty(x) == Type::Int && self.is_bool(args[0])) => Some(self.cur.t.int(1)),
            GuardFalse if x.is_some_and(|x| self.cur.t.ty(x) == Type::Int) => Some(self.cur.t.int(0)),
            _ => None,
        };
        if let (Some(x), Some(c)) = (x, known) {
            if !self.cur.t.is_const(x) {
                self.cur.replace_uses(x, c);
            }
        }
    }

    /// True if `v` is 0 or 1 by construction (a comparison's result).
    fn is_bool(&self, v: Value) -> bool {
        self.def(v).is_some_and(|d| d.opcode.is_comparison())
    }
}
