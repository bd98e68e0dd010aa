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
//! Overflow-checked ops are left to `intbounds` (dropping one would change which op the next
//! `guard_no_overflow` checks). Assumes a verified trace; one forward walk, linear.

use crate::{map_traces, Pass, PassContext};
use tracelab_ir::entity::EntityRef;
use tracelab_ir::rewrite::Rewriter;
use tracelab_ir::trace::ValueDef;
use tracelab_ir::{Const, Module, Op, OpId, Opcode, Trace, Type, Value};

pub struct Fold;

impl Pass for Fold {
    fn run(&self, m: &mut Module, cx: &mut PassContext) {
        map_traces(m, |_, t| {
            let mut f = Folder { rw: Rewriter::new(t), t, folded: 0, guards: 0, remarks: Vec::new() };
            for (id, op) in t.ops.iter() {
                f.op(id, op);
            }
            cx.stats.add("ops folded", f.folded);
            cx.stats.add("guards removed", f.guards);
            cx.remarks.append(&mut f.remarks);
            f.rw.finish()
        });
    }
}

struct Folder<'a> {
    rw: Rewriter<'a>,
    t: &'a Trace,
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
    /// The new-trace operand values of `op`.
    fn args(&mut self, op: &Op) -> tracelab_ir::trace::Operands {
        self.rw.map_args(op)
    }

    fn konst(&self, v: Value) -> Option<u64> {
        self.rw.new.as_const(v).and_then(bits)
    }

    /// The op (in the new trace) that defines `v`, if any.
    fn def(&self, v: Value) -> Option<&Op> {
        match self.rw.new.values[v].def {
            ValueDef::Op(o) => Some(&self.rw.new.ops[o]),
            _ => None,
        }
    }

    fn op(&mut self, id: OpId, op: &Op) {
        if op.opcode.is_guard() {
            return self.guard(id, op);
        }
        let Some(r) = op.result else {
            self.rw.copy(id);
            return;
        };
        if op.opcode.is_pure() {
            let args = self.args(op);
            if let Some(v) = self.simplify(op.opcode, &args, self.t.ty(r)) {
                self.folded += 1;
                self.rw.replace(r, v);
                return;
            }
        }
        self.rw.copy(id);
    }

    /// A value equal to `opcode(args)`, if one exists without computing anything.
    fn simplify(&mut self, opcode: Opcode, args: &[Value], ty: Type) -> Option<Value> {
        use Opcode::*;
        let consts: Option<Vec<u64>> = args.iter().map(|&a| self.konst(a)).collect();
        if let Some(cs) = consts {
            let v = tracelab_ir::eval::pure(opcode, &cs)?;
            return Some(self.rw.new.constant(constant_of(ty, v)));
        }
        let (x, y) = (args[0], args.get(1).copied());
        let ky = y.and_then(|y| self.konst(y));
        let kx = self.konst(x);
        let same = y == Some(x);
        let zero = |s: &mut Self| s.rw.new.int(0);
        let one = |s: &mut Self| s.rw.new.int(1);
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

    fn guard(&mut self, id: OpId, op: &Op) {
        use Opcode::*;
        let args = self.args(op);
        let k = |s: &Self, i: usize| args.get(i).and_then(|&v| s.konst(v));
        let named = |s: &Self, i: usize| args.get(i).and_then(|&v| s.rw.new.as_const(v)).is_some_and(|c| matches!(c, Const::Ptr(_) | Const::Class(_) | Const::Func(_)));
        let holds = match op.opcode {
            GuardTrue => k(self, 0).map(|c| c != 0),
            GuardFalse => k(self, 0).map(|c| c == 0),
            GuardValue => match (self.rw.new.as_const(args[0]), self.rw.new.as_const(args[1])) {
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
                return;
            }
            Some(false) => self.remarks.push(format!("trace {}: op {} (`{}`) always fails", self.t.name, id.index(), op.opcode)),
            None => {}
        }
        self.rw.copy(id);
        // What the guard checked is known from here on.
        let x = op.args.first().copied();
        let known = match op.opcode {
            GuardValue => Some(args[1]).filter(|&c| self.rw.new.is_const(c)),
            GuardTrue if x.is_some_and(|x| self.t.ty(x) == Type::Int && self.is_bool(args[0])) => Some(self.rw.new.int(1)),
            GuardFalse if x.is_some_and(|x| self.t.ty(x) == Type::Int) => Some(self.rw.new.int(0)),
            _ => None,
        };
        if let (Some(x), Some(c)) = (x, known) {
            if !self.t.is_const(x) {
                self.rw.replace(x, c);
            }
        }
    }

    /// True if `v` is 0 or 1 by construction (a comparison's result).
    fn is_bool(&self, v: Value) -> bool {
        self.def(v).is_some_and(|d| d.opcode.is_comparison())
    }
}
