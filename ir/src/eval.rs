//! What pure ops compute: one definition, used by the interpreter to run them and by the
//! optimizer to fold them, so the two can never disagree.
//!
//! Values are 64 bits: ints as two's complement (wrapping), floats as IEEE-754 bits, refs as
//! addresses; comparisons give 0 or 1.

use crate::opcode::Opcode;

/// The result of pure op `op` on `args`, or `None` if `op` is not a pure op defined here or
/// the result is undefined (division by zero).
pub fn pure(op: Opcode, args: &[u64]) -> Option<u64> {
    use Opcode::*;
    let x = *args.first().unwrap_or(&0);
    let y = *args.get(1).unwrap_or(&0);
    let (xi, yi) = (x as i64, y as i64);
    let (xf, yf) = (f64::from_bits(x), f64::from_bits(y));
    let b = |c: bool| c as u64;
    Some(match op {
        IntAdd => xi.wrapping_add(yi) as u64,
        IntSub => xi.wrapping_sub(yi) as u64,
        IntMul => xi.wrapping_mul(yi) as u64,
        IntAnd => x & y,
        IntOr => x | y,
        IntXor => x ^ y,
        IntLshift => x.wrapping_shl(y as u32),
        IntRshift => xi.wrapping_shr(y as u32) as u64,
        UintRshift => x.wrapping_shr(y as u32),
        UintMulHigh => ((x as u128 * y as u128) >> 64) as u64,
        IntSignext => sign_extend(x, y.clamp(1, 8)),
        IntFloordiv if y != 0 => xi.wrapping_div(yi) as u64,
        UintFloordiv if y != 0 => x / y,
        IntMod if y != 0 => xi.wrapping_rem(yi) as u64,
        IntLt => b(xi < yi),
        IntLe => b(xi <= yi),
        IntEq => b(x == y),
        IntNe => b(x != y),
        IntGt => b(xi > yi),
        IntGe => b(xi >= yi),
        UintLt => b(x < y),
        UintLe => b(x <= y),
        UintGt => b(x > y),
        UintGe => b(x >= y),
        IntIsZero => b(x == 0),
        IntIsTrue => b(x != 0),
        IntNeg => xi.wrapping_neg() as u64,
        IntInvert => !x,
        IntForceGeZero => xi.max(0) as u64,
        FloatAdd => (xf + yf).to_bits(),
        FloatSub => (xf - yf).to_bits(),
        FloatMul => (xf * yf).to_bits(),
        FloatTruediv => (xf / yf).to_bits(),
        FloatNeg => (-xf).to_bits(),
        FloatAbs => xf.abs().to_bits(),
        FloatLt => b(xf < yf),
        FloatLe => b(xf <= yf),
        FloatEq => b(xf == yf),
        FloatNe => b(xf != yf),
        FloatGt => b(xf > yf),
        FloatGe => b(xf >= yf),
        CastFloatToInt => (xf as i64) as u64,
        CastIntToFloat => (xi as f64).to_bits(),
        CastFloatToSinglefloat => (xf as f32).to_bits() as u64,
        CastSinglefloatToFloat => (f32::from_bits(x as u32) as f64).to_bits(),
        ConvertFloatBytesToLonglong | ConvertLonglongBytesToFloat => x,
        SameAsI | SameAsR | SameAsF | CastPtrToInt | CastIntToPtr => x,
        PtrEq | InstancePtrEq => b(x == y),
        PtrNe | InstancePtrNe => b(x != y),
        NurseryPtrIncrement => x.wrapping_add(y),
        LoadEffectiveAddress => {
            let (s, o) = (*args.get(2).unwrap_or(&0), *args.get(3).unwrap_or(&0));
            x.wrapping_add(y << (s & 63)).wrapping_add(o)
        }
        _ => return None,
    })
}

/// Sign-extends the low `bytes` bytes of `v`.
pub fn sign_extend(v: u64, bytes: u64) -> u64 {
    if bytes >= 8 {
        return v;
    }
    let shift = 64 - 8 * bytes;
    (((v << shift) as i64) >> shift) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_and_compares() {
        assert_eq!(pure(Opcode::IntAdd, &[i64::MAX as u64, 1]), Some(i64::MIN as u64));
        assert_eq!(pure(Opcode::UintLt, &[u64::MAX, 1]), Some(0));
        assert_eq!(pure(Opcode::IntLt, &[u64::MAX, 1]), Some(1));
        assert_eq!(pure(Opcode::IntFloordiv, &[7, 0]), None);
        assert_eq!(pure(Opcode::FloatEq, &[f64::NAN.to_bits(), f64::NAN.to_bits()]), Some(0));
        assert_eq!(pure(Opcode::IntSignext, &[0xff, 1]), Some(u64::MAX));
        assert_eq!(pure(Opcode::GetfieldGcI, &[0]), None);
    }
}
