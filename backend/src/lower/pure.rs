//! Ops computed the same way whatever memory a trace runs on: int and float arithmetic,
//! comparisons, `int_*_ovf` (Cranelift's overflow-checked arithmetic, its flag in a variable
//! `guard_no_overflow` reads), casts. Shared by the lowering onto the runtime's heap
//! ([`super::lower`]) and the one onto a moving GC heap ([`crate::gc_heap`]).

use super::clif_type;
use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::{self, types, InstBuilder, MemFlagsData};
use cranelift_frontend::{FunctionBuilder, Variable};
use tracelab_ir::{Op, Opcode, Type, Value};

/// What pure ops need from the lowering they are part of.
pub(crate) trait PureLowering<'f> {
    fn b(&mut self) -> &mut FunctionBuilder<'f>;
    /// A value as Cranelift sees it.
    fn get(&mut self, v: Value) -> ir::Value;
    fn ty(&self, v: Value) -> Type;
    /// The variable holding the last `int_*_ovf`'s overflow flag.
    fn ovf(&self) -> Variable;
}

/// A value's bits as an `I64` (floats reinterpreted).
pub(crate) fn get_int<'f, L: PureLowering<'f>>(l: &mut L, v: Value) -> ir::Value {
    let x = l.get(v);
    bitcast_to(l, x, types::I64)
}

pub(crate) fn bitcast_to<'f, L: PureLowering<'f>>(l: &mut L, x: ir::Value, want: ir::Type) -> ir::Value {
    if l.b().func.dfg.value_type(x) == want {
        x
    } else {
        l.b().ins().bitcast(want, MemFlagsData::new(), x)
    }
}

/// The op computed natively, if it is one of those lowered here.
pub(crate) fn lower<'f, L: PureLowering<'f>>(l: &mut L, op: &Op) -> Option<ir::Value> {
    use Opcode::*;
    let o = op.opcode;
    let int2 = |l: &mut L| (get_int(l, op.args[0]), get_int(l, op.args[1]));
    let flt2 = |l: &mut L| (l.get(op.args[0]), l.get(op.args[1]));
    let bool_of = |l: &mut L, c: ir::Value| l.b().ins().uextend(types::I64, c);
    Some(match o {
        IntAdd | NurseryPtrIncrement | IntSub | IntMul | IntAnd | IntOr | IntXor | IntLshift | IntRshift | UintRshift | UintMulHigh => {
            let (x, y) = int2(l);
            let ins = l.b().ins();
            match o {
                IntSub => ins.isub(x, y),
                IntMul => ins.imul(x, y),
                IntAnd => ins.band(x, y),
                IntOr => ins.bor(x, y),
                IntXor => ins.bxor(x, y),
                // Shift amounts are taken modulo 64, as `wrapping_shl` does.
                IntLshift => ins.ishl(x, y),
                IntRshift => ins.sshr(x, y),
                UintRshift => ins.ushr(x, y),
                UintMulHigh => ins.umulhi(x, y),
                _ => ins.iadd(x, y),
            }
        }
        IntAddOvf | IntSubOvf | IntMulOvf => {
            let (x, y) = int2(l);
            let (r, of) = match o {
                IntAddOvf => l.b().ins().sadd_overflow(x, y),
                IntSubOvf => l.b().ins().ssub_overflow(x, y),
                _ => l.b().ins().smul_overflow(x, y),
            };
            let ovf = l.ovf();
            l.b().def_var(ovf, of);
            r
        }
        IntLt | IntLe | IntEq | IntNe | IntGt | IntGe | UintLt | UintLe | UintGt | UintGe | PtrEq | PtrNe | InstancePtrEq | InstancePtrNe => {
            let cc = match o {
                IntLt => IntCC::SignedLessThan,
                IntLe => IntCC::SignedLessThanOrEqual,
                IntGt => IntCC::SignedGreaterThan,
                IntGe => IntCC::SignedGreaterThanOrEqual,
                UintLt => IntCC::UnsignedLessThan,
                UintLe => IntCC::UnsignedLessThanOrEqual,
                UintGt => IntCC::UnsignedGreaterThan,
                UintGe => IntCC::UnsignedGreaterThanOrEqual,
                IntEq | PtrEq | InstancePtrEq => IntCC::Equal,
                _ => IntCC::NotEqual,
            };
            let (x, y) = int2(l);
            let c = l.b().ins().icmp(cc, x, y);
            bool_of(l, c)
        }
        IntIsZero | IntIsTrue => {
            let x = get_int(l, op.args[0]);
            let c = l.b().ins().icmp_imm_s(if o == IntIsZero { IntCC::Equal } else { IntCC::NotEqual }, x, 0);
            bool_of(l, c)
        }
        IntNeg => {
            let x = get_int(l, op.args[0]);
            l.b().ins().ineg(x)
        }
        IntInvert => {
            let x = get_int(l, op.args[0]);
            l.b().ins().bnot(x)
        }
        IntForceGeZero => {
            let x = get_int(l, op.args[0]);
            let zero = l.b().ins().iconst(types::I64, 0);
            l.b().ins().smax(x, zero)
        }
        FloatAdd | FloatSub | FloatMul | FloatTruediv => {
            let (x, y) = flt2(l);
            match o {
                FloatAdd => l.b().ins().fadd(x, y),
                FloatSub => l.b().ins().fsub(x, y),
                FloatMul => l.b().ins().fmul(x, y),
                _ => l.b().ins().fdiv(x, y),
            }
        }
        FloatNeg => {
            let x = l.get(op.args[0]);
            l.b().ins().fneg(x)
        }
        FloatAbs => {
            let x = l.get(op.args[0]);
            l.b().ins().fabs(x)
        }
        FloatLt | FloatLe | FloatEq | FloatNe | FloatGt | FloatGe => {
            // Cranelift's `NotEqual` is true when unordered, like Rust's `!=` on NaN.
            let cc = match o {
                FloatLt => FloatCC::LessThan,
                FloatLe => FloatCC::LessThanOrEqual,
                FloatEq => FloatCC::Equal,
                FloatNe => FloatCC::NotEqual,
                FloatGt => FloatCC::GreaterThan,
                _ => FloatCC::GreaterThanOrEqual,
            };
            let (x, y) = flt2(l);
            let c = l.b().ins().fcmp(cc, x, y);
            bool_of(l, c)
        }
        // Saturating, NaN to 0: what Rust's `as` does.
        CastFloatToInt => {
            let x = l.get(op.args[0]);
            l.b().ins().fcvt_to_sint_sat(types::I64, x)
        }
        CastIntToFloat => {
            let x = get_int(l, op.args[0]);
            l.b().ins().fcvt_from_sint(types::F64, x)
        }
        ConvertFloatBytesToLonglong | ConvertLonglongBytesToFloat | SameAsI | SameAsR | SameAsF | CastPtrToInt | CastIntToPtr => {
            let x = l.get(op.args[0]);
            let want = clif_type(l.ty(op.result?))?;
            bitcast_to(l, x, want)
        }
        _ => return None,
    })
}

