//! The `array` module: typed arrays whose items are machine words in a `WORDARRAY` (no
//! references, so the GC never scans them). Integer type codes check their C range as
//! CPython does; `f` rounds through `f32`; `L`/`Q` hold unsigned 64-bit values.

use crate::builtins::{int_arg, str_arg, Args, Builtin, BuiltinFn};
use crate::call;
use crate::layout as L;
use crate::ops::{self, Num};
use crate::vm::{Exc, Res, Vm};
use num_bigint::BigInt;
use tracelab_runtime::gc::{LayoutId, Ref};

const TYPECODES: &str = "bBhHiIlLqQfd";

fn code_of(vm: &Vm, arr: Ref) -> u8 {
    vm.heap.word(arr, L::ARRAY_TYPECODE) as u8
}

fn is_float(code: u8) -> bool {
    matches!(code, b'd' | b'f')
}

pub fn len(vm: &Vm, arr: Ref) -> usize {
    vm.heap.word(arr, L::ARRAY_LEN) as usize
}

/// The words of `arr`, copied out.
fn words(vm: &Vm, arr: Ref) -> Vec<u64> {
    vm.heap.words(vm.heap.field(arr, L::ARRAY_STORAGE), L::ITEMS, len(vm, arr)).to_vec()
}

/// A new array of type `code` holding `items`.
fn from_words(vm: &mut Vm, code: u8, items: &[u64]) -> Res<Ref> {
    let storage = vm.alloc(L::WORDARRAY, items.len().max(4))?;
    vm.heap.words_mut(storage, L::ITEMS, items.len()).copy_from_slice(items);
    let sr = vm.root(storage);
    let arr = vm.alloc(L::ARRAY, 0)?;
    vm.heap.set_word(arr, L::ARRAY_TYPECODE, code as u64);
    vm.heap.set_word(arr, L::ARRAY_LEN, items.len() as u64);
    vm.heap.set_field(arr, L::ARRAY_STORAGE, vm.get(sr));
    Ok(arr)
}

/// Replaces the items of `arr` (reallocating its storage when it grows).
fn store_words(vm: &mut Vm, arr: Ref, items: &[u64]) -> Res<()> {
    let ar = vm.root(arr);
    let cap = vm.heap.len(vm.heap.field(arr, L::ARRAY_STORAGE));
    if items.len() > cap {
        let fresh = vm.alloc(L::WORDARRAY, items.len().max(cap * 2))?;
        vm.heap.set_field(vm.get(ar), L::ARRAY_STORAGE, fresh);
    }
    let arr = vm.get(ar);
    let storage = vm.heap.field(arr, L::ARRAY_STORAGE);
    vm.heap.words_mut(storage, L::ITEMS, items.len()).copy_from_slice(items);
    vm.heap.set_word(arr, L::ARRAY_LEN, items.len() as u64);
    Ok(())
}

/// `array(typecode[, initializer])`.
pub fn new(vm: &mut Vm, a: &Args) -> Res<Ref> {
    call::arity(vm, "array", a.len(), 1, 2)?;
    let code = str_arg(vm, a.get(vm, 0), "array() argument 1")?;
    if code.len() != 1 || !TYPECODES.contains(&code) {
        return vm.value_error("bad typecode (must be b, B, u, h, H, i, I, l, L, q, Q, f or d)");
    }
    let code = code.as_bytes()[0];
    let mut items = vec![];
    if a.len() == 2 {
        let list = crate::iter::to_list(vm, a.get(vm, 1))?;
        let lr = vm.root(list);
        for i in 0..crate::list::len(vm, list) {
            let x = crate::list::get(vm, vm.get(lr), i);
            items.push(to_word(vm, code, x)?);
        }
    }
    from_words(vm, code, &items)
}

/// The C range of an integer type code and the messages CPython gives past each end.
fn int_range(code: u8) -> (i128, i128, &'static str, &'static str) {
    match code {
        b'b' => (-128, 127, "signed char is less than minimum", "signed char is greater than maximum"),
        b'B' => (0, 255, "unsigned byte integer is less than minimum", "unsigned byte integer is greater than maximum"),
        b'h' => (-32768, 32767, "signed short integer is less than minimum", "signed short integer is greater than maximum"),
        b'H' => (0, 65535, "unsigned short is less than minimum", "unsigned short is greater than maximum"),
        b'i' => (i32::MIN as i128, i32::MAX as i128, "signed integer is less than minimum", "signed integer is greater than maximum"),
        b'I' => (0, u32::MAX as i128, "can't convert negative value to unsigned int", "unsigned int is greater than maximum"),
        b'l' => (i64::MIN as i128, i64::MAX as i128, "Python int too large to convert to C long", "Python int too large to convert to C long"),
        b'L' => (0, u64::MAX as i128, "can't convert negative value to unsigned int", "Python int too large to convert to C unsigned long"),
        b'q' => (i64::MIN as i128, i64::MAX as i128, "int too big to convert", "int too big to convert"),
        _ => (0, u64::MAX as i128, "can't convert negative int to unsigned", "int too big to convert"),
    }
}

/// The word stored for `x` in an array of type `code`.
fn to_word(vm: &mut Vm, code: u8, x: Ref) -> Res<u64> {
    if is_float(code) {
        return match ops::as_f64(vm, x)? {
            Some(f) if code == b'f' => Ok((f as f32 as f64).to_bits()),
            Some(f) => Ok(f.to_bits()),
            None => {
                let t = vm.type_name_of(x);
                vm.type_error(format!("must be real number, not {t}"))
            }
        };
    }
    let v: i128 = match ops::int_of(vm, x) {
        Some(Num::Small(i)) => i as i128,
        Some(Num::Big(b)) => i128::try_from(&b).unwrap_or(if b < BigInt::from(0) { i128::MIN } else { i128::MAX }),
        None => {
            let t = vm.type_name_of(x);
            return vm.type_error(format!("'{t}' object cannot be interpreted as an integer"));
        }
    };
    let (lo, hi, below, above) = int_range(code);
    if v < lo {
        return vm.raise(Exc::OverflowError, below);
    }
    if v > hi {
        return vm.raise(Exc::OverflowError, above);
    }
    Ok(v as u64)
}

fn word_to_value(vm: &mut Vm, code: u8, w: u64) -> Res<Ref> {
    match code {
        b'd' | b'f' => vm.new_float(f64::from_bits(w)),
        b'L' | b'Q' if w > i64::MAX as u64 => vm.new_bigint(&BigInt::from(w)),
        _ => vm.new_int(w as i64),
    }
}

pub fn item(vm: &mut Vm, arr: Ref, i: usize) -> Res<Ref> {
    let w = vm.heap.word(vm.heap.field(arr, L::ARRAY_STORAGE), L::ITEMS + i);
    word_to_value(vm, code_of(vm, arr), w)
}

/// `arr[key]`: an item, or a new array for a slice.
pub fn getitem(vm: &mut Vm, arr: Ref, key: Ref) -> Res<Ref> {
    let n = len(vm, arr);
    if vm.layout(key) == L::SLICE {
        let ar = vm.root(arr);
        let sp = crate::seq::span(vm, key, n)?;
        let all = words(vm, vm.get(ar));
        let picked: Vec<u64> = (0..sp.len).map(|k| all[sp.index(k)]).collect();
        return from_words(vm, code_of(vm, vm.get(ar)), &picked);
    }
    let i = int_arg(vm, key, "")?;
    let i = crate::list::index(vm, i, n, "array")?;
    item(vm, arr, i)
}

pub fn setitem(vm: &mut Vm, arr: Ref, key: Ref, v: Ref) -> Res<()> {
    let n = len(vm, arr);
    let i = int_arg(vm, key, "")?;
    let i = crate::list::index(vm, i, n, "array assignment")?;
    let w = to_word(vm, code_of(vm, arr), v)?;
    let s = vm.heap.field(arr, L::ARRAY_STORAGE);
    vm.heap.set_word(s, L::ITEMS + i, w);
    Ok(())
}

pub fn repr(vm: &mut Vm, arr: Ref) -> Res<String> {
    let code = code_of(vm, arr);
    if len(vm, arr) == 0 {
        return Ok(format!("array('{}')", code as char));
    }
    let mut parts = vec![];
    for w in words(vm, arr) {
        let x = word_to_value(vm, code, w)?;
        parts.push(crate::repr::repr(vm, x)?);
    }
    Ok(format!("array('{}', [{}])", code as char, parts.join(", ")))
}

/// `+` of two arrays of one type code and `*` by an int.
pub fn binary(vm: &mut Vm, a: Ref, b: Ref, op: crate::bytecode::BinOp) -> Res<Option<Ref>> {
    use crate::bytecode::BinOp;
    let (la, lb) = (vm.layout(a), vm.layout(b));
    match op {
        BinOp::Add if la == L::ARRAY && lb == L::ARRAY => {
            if code_of(vm, a) != code_of(vm, b) {
                return vm.type_error("bad argument type for built-in operation");
            }
            let mut items = words(vm, a);
            items.extend(words(vm, b));
            from_words(vm, code_of(vm, a), &items).map(Some)
        }
        BinOp::Mul if la == L::ARRAY || lb == L::ARRAY => {
            let (arr, n) = if la == L::ARRAY { (a, b) } else { (b, a) };
            if !ops::is_int(vm, n) {
                return Ok(None);
            }
            let times = int_arg(vm, n, "")?.max(0) as usize;
            let items = words(vm, arr).repeat(times);
            from_words(vm, code_of(vm, arr), &items).map(Some)
        }
        _ => Ok(None),
    }
}

/// `==` between arrays: same length and equal items (type codes may differ).
pub fn equal(vm: &mut Vm, a: Ref, b: Ref) -> Res<bool> {
    if len(vm, a) != len(vm, b) {
        return Ok(false);
    }
    let (ar, br) = (vm.root(a), vm.root(b));
    for i in 0..len(vm, a) {
        let x = item(vm, vm.get(ar), i)?;
        let xr = vm.root(x);
        let y = item(vm, vm.get(br), i)?;
        if !ops::eq(vm, vm.get(xr), y)? {
            return Ok(false);
        }
    }
    Ok(true)
}

fn this(vm: &Vm, a: &Args) -> Ref {
    a.get(vm, 0)
}

fn append(vm: &mut Vm, a: &Args) -> Res<Ref> {
    call::arity(vm, "append", a.len(), 2, 2)?;
    let arr = this(vm, a);
    let w = to_word(vm, code_of(vm, arr), a.get(vm, 1))?;
    let mut items = words(vm, this(vm, a));
    items.push(w);
    store_words(vm, this(vm, a), &items)?;
    Ok(vm.none)
}

fn extend(vm: &mut Vm, a: &Args) -> Res<Ref> {
    call::arity(vm, "extend", a.len(), 2, 2)?;
    let arr = this(vm, a);
    let code = code_of(vm, arr);
    let src = a.get(vm, 1);
    if vm.layout(src) == L::ARRAY && code_of(vm, src) != code {
        return vm.type_error("can only extend with array of same kind");
    }
    let list = crate::iter::to_list(vm, src)?;
    let lr = vm.root(list);
    let mut added = vec![];
    for i in 0..crate::list::len(vm, list) {
        let x = crate::list::get(vm, vm.get(lr), i);
        added.push(to_word(vm, code, x)?);
    }
    let mut items = words(vm, this(vm, a));
    items.extend(added);
    store_words(vm, this(vm, a), &items)?;
    Ok(vm.none)
}

/// The position of the first item equal to `a[1]`, if any.
fn find(vm: &mut Vm, a: &Args) -> Res<Option<usize>> {
    for i in 0..len(vm, this(vm, a)) {
        let x = item(vm, this(vm, a), i)?;
        if ops::eq(vm, x, a.get(vm, 1))? {
            return Ok(Some(i));
        }
    }
    Ok(None)
}

fn index(vm: &mut Vm, a: &Args) -> Res<Ref> {
    call::arity(vm, "index", a.len(), 2, 2)?;
    match find(vm, a)? {
        Some(i) => vm.new_int(i as i64),
        None => vm.value_error("array.index(x): x not in array"),
    }
}

fn remove(vm: &mut Vm, a: &Args) -> Res<Ref> {
    call::arity(vm, "remove", a.len(), 2, 2)?;
    match find(vm, a)? {
        Some(i) => {
            let mut items = words(vm, this(vm, a));
            items.remove(i);
            store_words(vm, this(vm, a), &items)?;
            Ok(vm.none)
        }
        None => vm.value_error("array.remove(x): x not in array"),
    }
}

fn count(vm: &mut Vm, a: &Args) -> Res<Ref> {
    call::arity(vm, "count", a.len(), 2, 2)?;
    let mut n = 0;
    for i in 0..len(vm, this(vm, a)) {
        let x = item(vm, this(vm, a), i)?;
        if ops::eq(vm, x, a.get(vm, 1))? {
            n += 1;
        }
    }
    vm.new_int(n)
}

fn pop(vm: &mut Vm, a: &Args) -> Res<Ref> {
    call::arity(vm, "pop", a.len(), 1, 2)?;
    let n = len(vm, this(vm, a));
    if n == 0 {
        return vm.raise(Exc::IndexError, "pop from empty array");
    }
    let i = if a.len() == 2 { int_arg(vm, a.get(vm, 1), "")? } else { -1 };
    let i = crate::list::index(vm, i, n, "pop")?;
    let v = item(vm, this(vm, a), i)?;
    let vr = vm.root(v);
    let mut items = words(vm, this(vm, a));
    items.remove(i);
    store_words(vm, this(vm, a), &items)?;
    Ok(vm.get(vr))
}

fn insert(vm: &mut Vm, a: &Args) -> Res<Ref> {
    call::arity(vm, "insert", a.len(), 3, 3)?;
    let n = len(vm, this(vm, a)) as i64;
    let i = int_arg(vm, a.get(vm, 1), "")?;
    let at = if i < 0 { (i + n).max(0) } else { i.min(n) } as usize;
    let w = to_word(vm, code_of(vm, this(vm, a)), a.get(vm, 2))?;
    let mut items = words(vm, this(vm, a));
    items.insert(at, w);
    store_words(vm, this(vm, a), &items)?;
    Ok(vm.none)
}

fn reverse(vm: &mut Vm, a: &Args) -> Res<Ref> {
    call::arity(vm, "reverse", a.len(), 1, 1)?;
    let mut items = words(vm, this(vm, a));
    items.reverse();
    store_words(vm, this(vm, a), &items)?;
    Ok(vm.none)
}

fn tolist(vm: &mut Vm, a: &Args) -> Res<Ref> {
    call::arity(vm, "tolist", a.len(), 1, 1)?;
    let it = crate::iter::get_iter(vm, this(vm, a))?;
    crate::iter::to_list(vm, it)
}

pub fn entries() -> Vec<(LayoutId, Builtin)> {
    let methods: [(&'static str, BuiltinFn); 9] = [
        ("append", append),
        ("extend", extend),
        ("index", index),
        ("remove", remove),
        ("count", count),
        ("pop", pop),
        ("insert", insert),
        ("reverse", reverse),
        ("tolist", tolist),
    ];
    methods.into_iter().map(|(name, f)| (L::ARRAY, Builtin { name, f })).collect()
}
