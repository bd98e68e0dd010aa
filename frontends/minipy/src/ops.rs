//! The semantics of Python's operators on minipy's objects: truth, equality, ordering, hashing,
//! arithmetic (ints with a 64-bit fast path and big integers on overflow, floats, sequences),
//! and the fallback to the operand classes' dunder methods. These are the runtime helpers a
//! trace calls when its fast paths (in [`crate::interp`]) do not apply.

use crate::bytecode::{BinOp, CmpOp};
use crate::layout as L;
use crate::vm::{Exc, Res, Vm};
use num_bigint::BigInt;
use num_integer::Integer;
use num_traits::{Signed, ToPrimitive, Zero};
use tracelab_runtime::gc::Ref;

/// An int operand: the 64-bit form or a big integer.
#[derive(Clone, Debug)]
pub enum Num {
    Small(i64),
    Big(BigInt),
}

impl Num {
    pub fn big(&self) -> BigInt {
        match self {
            Num::Small(i) => BigInt::from(*i),
            Num::Big(b) => b.clone(),
        }
    }
}

/// The integer value of an `INT`, `BOOL` or `LONG`.
pub fn int_of(vm: &Vm, r: Ref) -> Option<Num> {
    match vm.layout(r) {
        L::INT | L::BOOL => Some(Num::Small(vm.heap.word(r, L::VALUE) as i64)),
        L::LONG => {
            let n = vm.heap.len(r);
            let digits = vm.heap.words(r, L::LONG_DIGITS, n).to_vec();
            let mag = num_bigint::BigUint::from_slice(&digits_u32(&digits));
            let sign = if vm.heap.word(r, L::LONG_SIGN) == 1 { num_bigint::Sign::Minus } else { num_bigint::Sign::Plus };
            Some(Num::Big(BigInt::from_biguint(sign, mag)))
        }
        _ => None,
    }
}

fn digits_u32(d: &[u64]) -> Vec<u32> {
    d.iter().flat_map(|w| [*w as u32, (*w >> 32) as u32]).collect()
}

pub fn is_int(vm: &Vm, r: Ref) -> bool {
    matches!(vm.layout(r), L::INT | L::BOOL | L::LONG)
}

pub fn float_of(vm: &Vm, r: Ref) -> f64 {
    f64::from_bits(vm.heap.word(r, L::VALUE))
}

/// The value of an int or float as a float (`None` for other types; ints too large raise).
pub fn as_f64(vm: &mut Vm, r: Ref) -> Res<Option<f64>> {
    Ok(match vm.layout(r) {
        L::FLOAT => Some(float_of(vm, r)),
        L::INT | L::BOOL => Some(vm.heap.word(r, L::VALUE) as i64 as f64),
        L::LONG => match int_of(vm, r).map(|n| n.big().to_f64()) {
            Some(Some(f)) if f.is_finite() => Some(f),
            _ => return vm.raise(Exc::OverflowError, "int too large to convert to float"),
        },
        _ => None,
    })
}

pub fn new_num(vm: &mut Vm, n: Num) -> Res<Ref> {
    match n {
        Num::Small(i) => vm.new_int(i),
        Num::Big(b) => vm.new_bigint(&b),
    }
}

// ---- truth ----

pub fn truthy(vm: &mut Vm, r: Ref) -> Res<bool> {
    match vm.layout(r) {
        L::BOOL | L::INT => Ok(vm.heap.word(r, L::VALUE) != 0),
        L::NONE => Ok(false),
        L::LONG => Ok(true),
        L::FLOAT => Ok(float_of(vm, r) != 0.0),
        L::STR => Ok(vm.heap.len(r) != 0),
        L::TUPLE => Ok(vm.heap.len(r) != 0),
        L::LIST => Ok(crate::list::len(vm, r) != 0),
        L::DICT => Ok(crate::dict::len(vm, r) != 0),
        L::SET => Ok(crate::set::len(vm, r) != 0),
        L::RANGE => Ok(crate::iter::range_len(vm, r) != 0),
        L::INSTANCE => {
            if let Some(v) = call_dunder(vm, r, "__bool__", &[])? {
                return Ok(v == vm.true_);
            }
            if let Some(v) = call_dunder(vm, r, "__len__", &[])? {
                return Ok(int_of(vm, v).is_some_and(|n| !matches!(n, Num::Small(0))));
            }
            Ok(true)
        }
        _ => Ok(true),
    }
}

/// Calls `obj.name(*args)` if the type of `obj` defines `name`.
pub fn call_dunder(vm: &mut Vm, obj: Ref, name: &str, args: &[Ref]) -> Res<Option<Ref>> {
    if vm.layout(obj) != L::INSTANCE {
        return Ok(None);
    }
    let t = vm.type_of(obj);
    let Some(f) = crate::types::lookup(vm, t, name) else { return Ok(None) };
    let mark = vm.roots_mark();
    let mut roots = vec![vm.root(obj)];
    roots.extend(args.iter().map(|a| vm.root(*a)));
    let f = match vm.layout(f) {
        L::FUNCTION => f,
        _ => {
            let obj = vm.get(roots[0]);
            let bound = crate::attr::bind(vm, f, obj, t)?;
            roots.remove(0);
            let r = crate::call::call_function(vm, bound, &roots)?;
            vm.roots_reset(mark);
            return Ok(Some(r));
        }
    };
    let r = crate::call::call_function(vm, f, &roots)?;
    vm.roots_reset(mark);
    Ok(Some(r))
}

// ---- equality and ordering ----

pub fn eq(vm: &mut Vm, a: Ref, b: Ref) -> Res<bool> {
    if a == b && vm.layout(a) != L::FLOAT {
        return Ok(true);
    }
    let (la, lb) = (vm.layout(a), vm.layout(b));
    match (la, lb) {
        (L::INT | L::BOOL, L::INT | L::BOOL) => return Ok(vm.heap.word(a, L::VALUE) == vm.heap.word(b, L::VALUE)),
        (L::STR, L::STR) => return Ok(vm.heap.bytes(a, L::STR_BYTES) == vm.heap.bytes(b, L::STR_BYTES)),
        _ => {}
    }
    let r = compare(vm, a, b, CmpOp::Eq)?;
    truthy(vm, r)
}

/// A comparison with Python's result (a bool, or whatever a dunder returned).
pub fn compare(vm: &mut Vm, a: Ref, b: Ref, op: CmpOp) -> Res<Ref> {
    if let Some(ord) = builtin_order(vm, a, b, op)? {
        return Ok(vm.bool(ord));
    }
    let (name, reflected) = match op {
        CmpOp::Lt => ("__lt__", "__gt__"),
        CmpOp::Le => ("__le__", "__ge__"),
        CmpOp::Gt => ("__gt__", "__lt__"),
        CmpOp::Ge => ("__ge__", "__le__"),
        CmpOp::Eq => ("__eq__", "__eq__"),
        CmpOp::Ne => ("__ne__", "__ne__"),
    };
    let ar = vm.root(a);
    let br = vm.root(b);
    if let Some(r) = call_dunder(vm, a, name, &[b])? {
        if r != vm.not_implemented {
            return Ok(r);
        }
    }
    let (a, b) = (vm.get(ar), vm.get(br));
    if let Some(r) = call_dunder(vm, b, reflected, &[a])? {
        if r != vm.not_implemented {
            return Ok(r);
        }
    }
    let (a, b) = (vm.get(ar), vm.get(br));
    match op {
        CmpOp::Eq => Ok(vm.bool(a == b)),
        CmpOp::Ne => {
            if let Some(r) = call_dunder(vm, a, "__eq__", &[b])? {
                if r != vm.not_implemented {
                    let t = truthy(vm, r)?;
                    return Ok(vm.bool(!t));
                }
            }
            let (a, b) = (vm.get(ar), vm.get(br));
            Ok(vm.bool(a != b))
        }
        _ => {
            let sym = match op {
                CmpOp::Lt => "<",
                CmpOp::Le => "<=",
                CmpOp::Gt => ">",
                _ => ">=",
            };
            let (ta, tb) = (vm.type_name_of(a), vm.type_name_of(b));
            vm.type_error(format!("'{sym}' not supported between instances of '{ta}' and '{tb}'"))
        }
    }
}

fn apply(op: CmpOp, o: std::cmp::Ordering) -> bool {
    use std::cmp::Ordering::*;
    match op {
        CmpOp::Lt => o == Less,
        CmpOp::Le => o != Greater,
        CmpOp::Gt => o == Greater,
        CmpOp::Ge => o != Less,
        CmpOp::Eq => o == Equal,
        CmpOp::Ne => o != Equal,
    }
}

/// Comparisons between builtin values; `None` when a dunder must decide.
fn builtin_order(vm: &mut Vm, a: Ref, b: Ref, op: CmpOp) -> Res<Option<bool>> {
    let (la, lb) = (vm.layout(a), vm.layout(b));
    let numeric = |l| matches!(l, L::INT | L::BOOL | L::LONG | L::FLOAT);
    if numeric(la) && numeric(lb) {
        if la == L::FLOAT || lb == L::FLOAT {
            let (x, y) = (num_as_f64_lossy(vm, a), num_as_f64_lossy(vm, b));
            let o = match x.partial_cmp(&y) {
                Some(o) => o,
                None => return Ok(Some(op == CmpOp::Ne)),
            };
            // Big ints against floats compare exactly where the float conversion is inexact.
            if la == L::LONG || lb == L::LONG {
                if let (Some(ia), Some(ib)) = (exact_big(vm, a), exact_big(vm, b)) {
                    return Ok(Some(apply(op, ia.cmp(&ib))));
                }
            }
            return Ok(Some(apply(op, o)));
        }
        let (x, y) = (int_of(vm, a), int_of(vm, b));
        let o = match (x, y) {
            (Some(Num::Small(x)), Some(Num::Small(y))) => x.cmp(&y),
            (Some(x), Some(y)) => x.big().cmp(&y.big()),
            _ => return Ok(None),
        };
        return Ok(Some(apply(op, o)));
    }
    match (la, lb) {
        (L::STR, L::STR) => {
            let o = vm.str_of(a).cmp(vm.str_of(b));
            Ok(Some(apply(op, o)))
        }
        (L::TUPLE, L::TUPLE) | (L::LIST, L::LIST) => seq_compare(vm, a, b, op).map(Some),
        (L::NONE, L::NONE) if matches!(op, CmpOp::Eq | CmpOp::Ne) => Ok(Some(op == CmpOp::Eq)),
        (L::DICT, L::DICT) if matches!(op, CmpOp::Eq | CmpOp::Ne) => dict_eq(vm, a, b).map(|e| Some(e == (op == CmpOp::Eq))),
        (L::SET, L::SET) => set_compare(vm, a, b, op).map(Some),
        (L::ARRAY, L::ARRAY) if matches!(op, CmpOp::Eq | CmpOp::Ne) => crate::array::equal(vm, a, b).map(|e| Some(e == (op == CmpOp::Eq))),
        (L::RANGE, L::RANGE) if matches!(op, CmpOp::Eq | CmpOp::Ne) => {
            let same = (1..4).all(|i| vm.heap.word(a, i) == vm.heap.word(b, i));
            Ok(Some(same == (op == CmpOp::Eq)))
        }
        _ if la != L::INSTANCE && lb != L::INSTANCE && matches!(op, CmpOp::Eq | CmpOp::Ne) => {
            Ok(Some((a == b) == (op == CmpOp::Eq)))
        }
        _ => Ok(None),
    }
}

fn num_as_f64_lossy(vm: &Vm, r: Ref) -> f64 {
    match vm.layout(r) {
        L::FLOAT => float_of(vm, r),
        _ => int_of(vm, r).map(|n| n.big().to_f64().unwrap_or(f64::INFINITY)).unwrap_or(0.0),
    }
}

/// An int, or an integral finite float, as a big integer (for exact mixed comparisons).
fn exact_big(vm: &Vm, r: Ref) -> Option<BigInt> {
    match vm.layout(r) {
        L::FLOAT => {
            let f = float_of(vm, r);
            (f.is_finite() && f.fract() == 0.0).then(|| num_bigint::BigInt::from(f as i128)).filter(|_| f.abs() < 1e38)
        }
        _ => int_of(vm, r).map(|n| n.big()),
    }
}

fn seq_compare(vm: &mut Vm, a: Ref, b: Ref, op: CmpOp) -> Res<bool> {
    let ar = vm.root(a);
    let br = vm.root(b);
    let mut i = 0;
    loop {
        let (a, b) = (vm.get(ar), vm.get(br));
        let (na, nb) = (crate::list::seq_len(vm, a), crate::list::seq_len(vm, b));
        if i >= na || i >= nb {
            return Ok(apply(op, na.cmp(&nb)));
        }
        let (x, y) = (crate::list::seq_get(vm, a, i), crate::list::seq_get(vm, b, i));
        let xr = vm.root(x);
        let yr = vm.root(y);
        if !eq(vm, x, y)? {
            if op == CmpOp::Eq {
                return Ok(false);
            }
            if op == CmpOp::Ne {
                return Ok(true);
            }
            let r = compare(vm, vm.get(xr), vm.get(yr), op)?;
            return truthy(vm, r);
        }
        i += 1;
    }
}

fn dict_eq(vm: &mut Vm, a: Ref, b: Ref) -> Res<bool> {
    if crate::dict::len(vm, a) != crate::dict::len(vm, b) {
        return Ok(false);
    }
    let ar = vm.root(a);
    let br = vm.root(b);
    let mut i = 0;
    while i < crate::dict::slots(vm, vm.get(ar)) {
        let (k, v) = crate::dict::entry(vm, vm.get(ar), i);
        i += 1;
        if k.is_null() {
            continue;
        }
        let vr = vm.root(v);
        match crate::dict::get(vm, vm.get(br), k)? {
            Some(w) => {
                if !eq(vm, vm.get(vr), w)? {
                    return Ok(false);
                }
            }
            None => return Ok(false),
        }
    }
    Ok(true)
}

/// Whether every key of `a` is in `b`.
fn set_compare(vm: &mut Vm, a: Ref, b: Ref, op: CmpOp) -> Res<bool> {
    let (na, nb) = (crate::set::len(vm, a), crate::set::len(vm, b));
    Ok(match op {
        CmpOp::Eq => na == nb && crate::set::is_subset(vm, a, b)?,
        CmpOp::Ne => !(na == nb && crate::set::is_subset(vm, a, b)?),
        CmpOp::Le => crate::set::is_subset(vm, a, b)?,
        CmpOp::Lt => na < nb && crate::set::is_subset(vm, a, b)?,
        CmpOp::Ge => crate::set::is_subset(vm, b, a)?,
        CmpOp::Gt => na > nb && crate::set::is_subset(vm, b, a)?,
    })
}

// ---- hashing ----

const MODULUS: u64 = (1 << 61) - 1;

/// Python's hash of an int: its value modulo 2**61 - 1, with the sign; -1 becomes -2.
fn hash_int(n: &Num) -> i64 {
    let h = match n {
        Num::Small(i) => {
            let m = (i.unsigned_abs() % MODULUS) as i64;
            if *i < 0 { -m } else { m }
        }
        Num::Big(b) => {
            let m = (b.abs() % BigInt::from(MODULUS)).to_i64().unwrap_or(0);
            if b.is_negative() { -m } else { m }
        }
    };
    if h == -1 { -2 } else { h }
}

/// Python's hash of a float (equal to the int hash for integral values).
fn hash_float(f: f64) -> i64 {
    if f.is_nan() {
        return 0;
    }
    if f.is_infinite() {
        return if f > 0.0 { 314159 } else { -314159 };
    }
    if f.fract() == 0.0 && f.abs() < 9.2e18 {
        return hash_int(&Num::Small(f as i64));
    }
    let (m, e) = frexp(f.abs());
    let mut m = m;
    let mut e = e;
    let mut x: u64 = 0;
    while m != 0.0 {
        x = ((x << 28) & MODULUS) | (x >> (61 - 28));
        m *= 268435456.0;
        e -= 28;
        let y = m as u64;
        m -= y as f64;
        x += y;
        if x >= MODULUS {
            x -= MODULUS;
        }
    }
    let e = if e >= 0 { e % 61 } else { 61 - 1 - ((-1 - e) % 61) };
    x = ((x << e) & MODULUS) | (x >> (61 - e));
    let h = if f < 0.0 { -(x as i64) } else { x as i64 };
    if h == -1 { -2 } else { h }
}

fn frexp(f: f64) -> (f64, i32) {
    if f == 0.0 {
        return (0.0, 0);
    }
    let bits = f.to_bits();
    let exp = ((bits >> 52) & 0x7ff) as i32;
    if exp == 0 {
        let (m, e) = frexp(f * 2f64.powi(64));
        return (m, e - 64);
    }
    let m = f64::from_bits((bits & !(0x7ff << 52)) | (1022 << 52));
    (m, exp - 1022)
}

/// FNV-1a over the UTF-8 bytes (CPython randomizes str hashes; no program may rely on
/// them). Never 0, so that 0 can mean "not computed yet" in a str's hash word.
pub fn str_hash_of(s: &str) -> u64 {
    let mut h: u64 = 0xcbf29ce484222325;
    for b in s.bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x100000001b3);
    }
    (h >> 2) | 1
}

/// Python's `hash(r)` as the bits of a signed word; never -1 (CPython's error value, which
/// a set also uses to mark deleted slots).
pub fn hash(vm: &mut Vm, r: Ref) -> Res<u64> {
    let h = hash_value(vm, r)?;
    Ok(if h == u64::MAX { u64::MAX - 1 } else { h })
}

fn hash_value(vm: &mut Vm, r: Ref) -> Res<u64> {
    Ok(match vm.layout(r) {
        L::INT | L::BOOL => {
            let v = vm.heap.word(r, L::VALUE) as i64;
            if (0..MODULUS as i64).contains(&v) { v as u64 } else { hash_int(&Num::Small(v)) as u64 }
        }
        L::LONG => hash_int(&int_of(vm, r).unwrap_or(Num::Small(0))) as u64,
        L::FLOAT => hash_float(float_of(vm, r)) as u64,
        L::STR => {
            let cached = vm.heap.word(r, L::STR_HASH);
            if cached != 0 {
                return Ok(cached);
            }
            let h = str_hash_of(vm.str_of(r));
            vm.heap.set_word(r, L::STR_HASH, h);
            h
        }
        L::TUPLE => {
            // CPython's tuple hash (xxHash's round over the items' hashes), so that sets of
            // tuples iterate in CPython's order.
            const XXPRIME_1: u64 = 11400714785074694791;
            const XXPRIME_2: u64 = 14029467366897019727;
            const XXPRIME_5: u64 = 2870177450012600261;
            let rr = vm.root(r);
            let n = vm.heap.len(r);
            let mut acc = XXPRIME_5;
            for i in 0..n {
                let item = vm.heap.field(vm.get(rr), L::ITEMS + i);
                let lane = hash(vm, item)?;
                acc = acc.wrapping_add(lane.wrapping_mul(XXPRIME_2)).rotate_left(31).wrapping_mul(XXPRIME_1);
            }
            acc = acc.wrapping_add(n as u64 ^ (XXPRIME_5 ^ 3527539));
            if acc == u64::MAX { 1546275796 } else { acc }
        }
        L::LIST | L::DICT | L::SET => {
            let t = vm.type_name_of(r);
            return vm.type_error(format!("unhashable type: '{t}'"));
        }
        L::INSTANCE => {
            let t = vm.type_of(r);
            let has_eq = crate::types::lookup(vm, t, "__eq__").is_some();
            match crate::types::lookup(vm, t, "__hash__") {
                Some(h) if h == vm.none => {
                    let t = vm.type_name_of(r);
                    return vm.type_error(format!("unhashable type: '{t}'"));
                }
                Some(_) => {
                    let v = call_dunder(vm, r, "__hash__", &[])?.unwrap_or(vm.none);
                    match int_of(vm, v) {
                        Some(n) => hash_int(&n) as u64,
                        None => return vm.type_error("__hash__ method should return an integer"),
                    }
                }
                None if has_eq => {
                    let t = vm.type_name_of(r);
                    return vm.type_error(format!("unhashable type: '{t}'"));
                }
                None => identity_number(vm, r),
            }
        }
        // Identity hash of an object that never moves is not available for young objects;
        // functions, types and other immutable-identity objects hash by their address while
        // they live, which is only sound for prebuilt ones.
        _ => identity_hash(vm, r)?,
    })
}

/// The identity number of an instance (assigned when first asked: addresses move).
pub fn identity_number(vm: &mut Vm, r: Ref) -> u64 {
    let id = vm.heap.word(r, L::INST_ID);
    if id != 0 {
        return id;
    }
    vm.next_identity += 1;
    let id = vm.next_identity;
    vm.heap.set_word(r, L::INST_ID, id);
    id
}

/// Hashing by identity needs a stable address: minipy refuses it for objects that can move.
fn identity_hash(vm: &mut Vm, r: Ref) -> Res<u64> {
    match vm.layout(r) {
        L::NONE | L::ELLIPSIS | L::NOTIMPL => Ok(r.0 as u64),
        L::TYPE | L::FUNCTION | L::BUILTIN | L::MODULE => {
            // Named objects hash by name and kind: stable across moves, and equality is identity.
            let name = match vm.layout(r) {
                L::TYPE => vm.type_name(r).to_string(),
                L::FUNCTION => vm.str_of(vm.heap.field(r, L::FUNC_QUALNAME)).to_string(),
                L::MODULE => vm.str_of(vm.heap.field(r, L::MODULE_NAME)).to_string(),
                _ => crate::builtins::builtin_name(vm, r).to_string(),
            };
            Ok(str_hash_of(&name) ^ vm.layout(r).0 as u64)
        }
        _ => {
            let t = vm.type_name_of(r);
            vm.type_error(format!("minipy does not support hashing '{t}' objects"))
        }
    }
}

// ---- arithmetic ----

fn op_symbol(op: BinOp) -> &'static str {
    match op {
        BinOp::Add => "+",
        BinOp::Sub => "-",
        BinOp::Mul => "*",
        BinOp::TrueDiv => "/",
        BinOp::FloorDiv => "//",
        BinOp::Mod => "%",
        BinOp::Pow => "** or pow()",
        BinOp::LShift => "<<",
        BinOp::RShift => ">>",
        BinOp::And => "&",
        BinOp::Or => "|",
        BinOp::Xor => "^",
        BinOp::MatMul => "@",
    }
}

fn dunder_names(op: BinOp) -> (&'static str, &'static str, &'static str) {
    match op {
        BinOp::Add => ("__add__", "__radd__", "__iadd__"),
        BinOp::Sub => ("__sub__", "__rsub__", "__isub__"),
        BinOp::Mul => ("__mul__", "__rmul__", "__imul__"),
        BinOp::TrueDiv => ("__truediv__", "__rtruediv__", "__itruediv__"),
        BinOp::FloorDiv => ("__floordiv__", "__rfloordiv__", "__ifloordiv__"),
        BinOp::Mod => ("__mod__", "__rmod__", "__imod__"),
        BinOp::Pow => ("__pow__", "__rpow__", "__ipow__"),
        BinOp::LShift => ("__lshift__", "__rlshift__", "__ilshift__"),
        BinOp::RShift => ("__rshift__", "__rrshift__", "__irshift__"),
        BinOp::And => ("__and__", "__rand__", "__iand__"),
        BinOp::Or => ("__or__", "__ror__", "__ior__"),
        BinOp::Xor => ("__xor__", "__rxor__", "__ixor__"),
        BinOp::MatMul => ("__matmul__", "__rmatmul__", "__imatmul__"),
    }
}

/// `a op b` (or `a op= b` when `inplace`), for every operand kind.
pub fn binary(vm: &mut Vm, a: Ref, b: Ref, op: BinOp, inplace: bool) -> Res<Ref> {
    let (la, lb) = (vm.layout(a), vm.layout(b));
    let int_like = |l| matches!(l, L::INT | L::BOOL | L::LONG);
    if int_like(la) && int_like(lb) {
        let (x, y) = (int_of(vm, a).unwrap_or(Num::Small(0)), int_of(vm, b).unwrap_or(Num::Small(0)));
        if matches!(op, BinOp::And | BinOp::Or | BinOp::Xor) && la == L::BOOL && lb == L::BOOL {
            let (x, y) = (a == vm.true_, b == vm.true_);
            let r = match op { BinOp::And => x & y, BinOp::Or => x | y, _ => x ^ y };
            return Ok(vm.bool(r));
        }
        return int_binary(vm, x, y, op);
    }
    let numeric = |l| int_like(l) || l == L::FLOAT;
    if numeric(la) && numeric(lb) {
        let x = as_f64(vm, a)?.unwrap_or(0.0);
        let y = as_f64(vm, b)?.unwrap_or(0.0);
        return float_binary(vm, x, y, op);
    }
    if inplace && la == L::LIST && op == BinOp::Add {
        crate::seq::extend(vm, a, b)?;
        return Ok(a);
    }
    if inplace && la == L::SET && lb == L::SET && matches!(op, BinOp::Or | BinOp::And | BinOp::Sub | BinOp::Xor) {
        // `s |= t` and friends update `s` itself (other names for it see the change).
        let ar = vm.root(a);
        match op {
            BinOp::Or => crate::set::update(vm, a, b)?,
            BinOp::And => crate::set::intersection_update(vm, a, b)?,
            BinOp::Sub => crate::set::difference_update(vm, a, b)?,
            _ => crate::set::symmetric_difference_update(vm, a, b)?,
        }
        return Ok(vm.get(ar));
    }
    if let Some(r) = crate::seq::binary(vm, a, b, op)? {
        return Ok(r);
    }
    let (name, rname, iname) = dunder_names(op);
    let ar = vm.root(a);
    let br = vm.root(b);
    if inplace {
        if let Some(r) = call_dunder(vm, a, iname, &[b])? {
            if r != vm.not_implemented {
                return Ok(r);
            }
        }
    }
    let (a, b) = (vm.get(ar), vm.get(br));
    if let Some(r) = call_dunder(vm, a, name, &[b])? {
        if r != vm.not_implemented {
            return Ok(r);
        }
    }
    let (a, b) = (vm.get(ar), vm.get(br));
    if let Some(r) = call_dunder(vm, b, rname, &[a])? {
        if r != vm.not_implemented {
            return Ok(r);
        }
    }
    let (a, b) = (vm.get(ar), vm.get(br));
    let (ta, tb) = (vm.type_name_of(a), vm.type_name_of(b));
    if op == BinOp::Add && matches!(vm.layout(a), L::STR | L::LIST | L::TUPLE) {
        return vm.type_error(format!("can only concatenate {ta} (not \"{tb}\") to {ta}"));
    }
    let sym = op_symbol(op);
    let sym = if inplace && op != BinOp::Pow { format!("{sym}=") } else { sym.to_string() };
    vm.type_error(format!("unsupported operand type(s) for {sym}: '{ta}' and '{tb}'"))
}

pub fn int_binary(vm: &mut Vm, x: Num, y: Num, op: BinOp) -> Res<Ref> {
    if let (Num::Small(a), Num::Small(b)) = (&x, &y) {
        let (a, b) = (*a, *b);
        let r = match op {
            BinOp::Add => a.checked_add(b),
            BinOp::Sub => a.checked_sub(b),
            BinOp::Mul => a.checked_mul(b),
            BinOp::FloorDiv | BinOp::Mod if b == 0 => {
                let msg = if op == BinOp::Mod { "integer modulo by zero" } else { "integer division or modulo by zero" };
                return vm.raise(Exc::ZeroDivisionError, msg);
            }
            BinOp::FloorDiv => a.checked_div_euclid(b).map(|_| Integer::div_floor(&a, &b)).filter(|_| !(a == i64::MIN && b == -1)),
            BinOp::Mod => (!(a == i64::MIN && b == -1)).then(|| a.mod_floor(&b)),
            BinOp::And => Some(a & b),
            BinOp::Or => Some(a | b),
            BinOp::Xor => Some(a ^ b),
            BinOp::LShift if b < 0 => return vm.value_error("negative shift count"),
            BinOp::LShift => (b < 63).then(|| a.checked_shl(b as u32)).flatten().filter(|r| r >> b == a),
            BinOp::RShift if b < 0 => return vm.value_error("negative shift count"),
            BinOp::RShift => Some(if b >= 64 { if a < 0 { -1 } else { 0 } } else { a >> b }),
            BinOp::TrueDiv => {
                if b == 0 {
                    return vm.raise(Exc::ZeroDivisionError, "division by zero");
                }
                return vm.new_float(true_div_int(&BigInt::from(a), &BigInt::from(b)));
            }
            BinOp::Pow => {
                if b < 0 {
                    if a == 0 {
                        return vm.raise(Exc::ZeroDivisionError, "0.0 cannot be raised to a negative power");
                    }
                    return vm.new_float((a as f64).powf(b as f64));
                }
                u32::try_from(b).ok().and_then(|e| a.checked_pow(e))
            }
            BinOp::MatMul => None,
        };
        if let Some(r) = r {
            return vm.new_int(r);
        }
        if op == BinOp::MatMul {
            return vm.type_error("unsupported operand type(s) for @: 'int' and 'int'");
        }
    }
    let (a, b) = (x.big(), y.big());
    let r = match op {
        BinOp::Add => a + b,
        BinOp::Sub => a - b,
        BinOp::Mul => a * b,
        BinOp::FloorDiv | BinOp::Mod if b.is_zero() => {
            let msg = if op == BinOp::Mod { "integer modulo by zero" } else { "integer division or modulo by zero" };
            return vm.raise(Exc::ZeroDivisionError, msg);
        }
        BinOp::FloorDiv => a.div_floor(&b),
        BinOp::Mod => a.mod_floor(&b),
        BinOp::And => a & b,
        BinOp::Or => a | b,
        BinOp::Xor => a ^ b,
        BinOp::LShift => {
            let Some(s) = b.to_usize() else { return vm.raise(Exc::OverflowError, "too many digits in integer") };
            a << s
        }
        BinOp::RShift => match b.to_usize() {
            Some(s) => a >> s,
            None => return vm.value_error("negative shift count"),
        },
        BinOp::TrueDiv => {
            if b.is_zero() {
                return vm.raise(Exc::ZeroDivisionError, "division by zero");
            }
            let f = true_div_int(&a, &b);
            if f.is_infinite() {
                return vm.raise(Exc::OverflowError, "integer division result too large for a float");
            }
            return vm.new_float(f);
        }
        BinOp::Pow => {
            if b.is_negative() {
                let (x, y) = (a.to_f64().unwrap_or(f64::INFINITY), b.to_f64().unwrap_or(f64::NEG_INFINITY));
                return vm.new_float(x.powf(y));
            }
            let Some(e) = b.to_u32() else { return vm.raise(Exc::OverflowError, "exponent too large") };
            num_traits::pow::Pow::pow(a, e)
        }
        BinOp::MatMul => return vm.type_error("unsupported operand type(s) for @: 'int' and 'int'"),
    };
    vm.new_bigint(&r)
}

/// Int / int correctly rounded, as CPython computes it.
fn true_div_int(a: &BigInt, b: &BigInt) -> f64 {
    if let (Some(x), Some(y)) = (a.to_i64(), b.to_i64()) {
        if x.unsigned_abs() < (1 << 53) && y.unsigned_abs() < (1 << 53) {
            return x as f64 / y as f64;
        }
    }
    // Scale so the quotient has 64+ significant bits, then round once.
    let shift = 70i64 - (a.bits() as i64 - b.bits() as i64);
    let (n, d) = if shift > 0 { (a << shift as usize, b.clone()) } else { (a.clone(), b << (-shift) as usize) };
    let q = n / d;
    q.to_f64().unwrap_or(f64::INFINITY) * 2f64.powi(-shift as i32)
}

pub fn float_binary(vm: &mut Vm, x: f64, y: f64, op: BinOp) -> Res<Ref> {
    let r = match op {
        BinOp::Add => x + y,
        BinOp::Sub => x - y,
        BinOp::Mul => x * y,
        BinOp::TrueDiv => {
            if y == 0.0 {
                return vm.raise(Exc::ZeroDivisionError, "float division by zero");
            }
            x / y
        }
        BinOp::FloorDiv => {
            if y == 0.0 {
                return vm.raise(Exc::ZeroDivisionError, "float floor division by zero");
            }
            float_divmod(x, y).0
        }
        BinOp::Mod => {
            if y == 0.0 {
                return vm.raise(Exc::ZeroDivisionError, "float modulo");
            }
            float_divmod(x, y).1
        }
        BinOp::Pow => {
            if x == 0.0 && y < 0.0 {
                return vm.raise(Exc::ZeroDivisionError, "0.0 cannot be raised to a negative power");
            }
            if x < 0.0 && y.fract() != 0.0 {
                return vm.value_error("minipy does not support complex numbers (negative number to a fractional power)");
            }
            let r = x.powf(y);
            if r.is_infinite() && x.is_finite() && y.is_finite() {
                return vm.raise(Exc::OverflowError, "(34, 'Numerical result out of range')");
            }
            r
        }
        _ => {
            let sym = op_symbol(op);
            return vm.type_error(format!("unsupported operand type(s) for {sym}: 'float' and 'float'"));
        }
    };
    vm.new_float(r)
}

/// Python's float divmod: the remainder has the divisor's sign.
pub fn float_divmod(x: f64, y: f64) -> (f64, f64) {
    let mut m = x % y;
    let mut div = (x - m) / y;
    if m != 0.0 {
        if (y < 0.0) != (m < 0.0) {
            m += y;
            div -= 1.0;
        }
    } else {
        m = 0.0f64.copysign(y);
    }
    let floordiv = if div != 0.0 {
        let f = div.floor();
        if div - f > 0.5 { f + 1.0 } else { f }
    } else {
        0.0f64.copysign(x / y)
    };
    (floordiv, m)
}

pub fn unary(vm: &mut Vm, a: Ref, op: crate::bytecode::UnOp) -> Res<Ref> {
    use crate::bytecode::UnOp;
    if op == UnOp::Not {
        let t = truthy(vm, a)?;
        return Ok(vm.bool(!t));
    }
    if let Some(n) = int_of(vm, a) {
        return match (op, n) {
            (UnOp::Neg, Num::Small(i)) if i != i64::MIN => vm.new_int(-i),
            (UnOp::Neg, n) => vm.new_bigint(&-n.big()),
            (UnOp::Pos, n) => new_num(vm, n),
            (UnOp::Invert, Num::Small(i)) => vm.new_int(!i),
            (UnOp::Invert, n) => vm.new_bigint(&(-n.big() - 1)),
            (UnOp::Not, _) => unreachable!(),
        };
    }
    if vm.layout(a) == L::FLOAT {
        let f = float_of(vm, a);
        return match op {
            UnOp::Neg => vm.new_float(-f),
            UnOp::Pos => vm.new_float(f),
            _ => vm.type_error("bad operand type for unary ~: 'float'"),
        };
    }
    let name = match op {
        UnOp::Neg => "__neg__",
        UnOp::Pos => "__pos__",
        UnOp::Invert => "__invert__",
        UnOp::Not => unreachable!(),
    };
    if let Some(r) = call_dunder(vm, a, name, &[])? {
        return Ok(r);
    }
    let sym = match op { UnOp::Neg => "-", UnOp::Pos => "+", _ => "~" };
    let t = vm.type_name_of(a);
    vm.type_error(format!("bad operand type for unary {sym}: '{t}'"))
}

/// `item in container`.
pub fn contains(vm: &mut Vm, container: Ref, item: Ref) -> Res<bool> {
    match vm.layout(container) {
        L::DICT => crate::dict::contains(vm, container, item),
        L::SET => crate::set::contains(vm, container, item),
        L::STR => {
            if vm.layout(item) != L::STR {
                let t = vm.type_name_of(item);
                return vm.type_error(format!("'in <string>' requires string as left operand, not {t}"));
            }
            Ok(vm.str_of(container).contains(vm.str_of(item)))
        }
        L::LIST | L::TUPLE => {
            let cr = vm.root(container);
            let ir = vm.root(item);
            let mut i = 0;
            while i < crate::list::seq_len(vm, vm.get(cr)) {
                let x = crate::list::seq_get(vm, vm.get(cr), i);
                if eq(vm, x, vm.get(ir))? {
                    return Ok(true);
                }
                i += 1;
            }
            Ok(false)
        }
        L::RANGE => crate::iter::range_contains(vm, container, item),
        L::INSTANCE => {
            let cr = vm.root(container);
            let ir = vm.root(item);
            if let Some(r) = call_dunder(vm, container, "__contains__", &[item])? {
                return truthy(vm, r);
            }
            let it = crate::iter::get_iter(vm, vm.get(cr))?;
            let itr = vm.root(it);
            while let Some(x) = crate::iter::next(vm, vm.get(itr))? {
                if eq(vm, x, vm.get(ir))? {
                    return Ok(true);
                }
            }
            Ok(false)
        }
        _ => {
            let cr = vm.root(container);
            let ir = vm.root(item);
            let it = crate::iter::get_iter(vm, vm.get(cr))?;
            let itr = vm.root(it);
            while let Some(x) = crate::iter::next(vm, vm.get(itr))? {
                if eq(vm, x, vm.get(ir))? {
                    return Ok(true);
                }
            }
            Ok(false)
        }
    }
}
