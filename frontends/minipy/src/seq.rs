//! Subscripting and slicing (lists, tuples, strings, dicts, ranges, arrays and instances with
//! `__getitem__`), and the sequence operators (`+`, `*`, `%` on strings).

use crate::bytecode::BinOp;
use crate::layout as L;
use crate::ops::{self, Num};
use crate::vm::{Exc, Res, Vm};
use tracelab_runtime::gc::Ref;

/// A slice resolved against a length: start, stop, step and the number of items.
#[derive(Clone, Copy, Debug)]
pub struct Span {
    pub start: i64,
    pub step: i64,
    pub len: usize,
}

impl Span {
    pub fn index(&self, k: usize) -> usize {
        (self.start + k as i64 * self.step) as usize
    }
}

fn slice_part(vm: &mut Vm, r: Ref) -> Res<Option<i64>> {
    if r == vm.none {
        return Ok(None);
    }
    match ops::int_of(vm, r) {
        Some(Num::Small(i)) => Ok(Some(i)),
        Some(Num::Big(b)) => Ok(Some(if num_traits::Signed::is_negative(&b) { i64::MIN / 2 } else { i64::MAX / 2 })),
        None => {
            if let Some(v) = ops::call_dunder(vm, r, "__index__", &[])? {
                return slice_part(vm, v);
            }
            vm.type_error("slice indices must be integers or None or have an __index__ method")
        }
    }
}

/// Resolves a `SLICE` against a sequence of `n` items, as `slice.indices` does.
pub fn span(vm: &mut Vm, slice: Ref, n: usize) -> Res<Span> {
    let n = n as i64;
    let step = slice_part(vm, vm.heap.field(slice, L::SLICE_STEP))?.unwrap_or(1);
    if step == 0 {
        return vm.value_error("slice step cannot be zero");
    }
    let start = slice_part(vm, vm.heap.field(slice, L::SLICE_START))?;
    let stop = slice_part(vm, vm.heap.field(slice, L::SLICE_STOP))?;
    let clamp = |v: Option<i64>, default: i64, lo: i64, hi: i64| match v {
        None => default,
        Some(v) if v < 0 => (v + n).max(lo),
        Some(v) => v.min(hi),
    };
    let (start, stop) = if step > 0 {
        (clamp(start, 0, 0, n), clamp(stop, n, 0, n))
    } else {
        (clamp(start, n - 1, -1, n - 1), clamp(stop, -1, -1, n - 1))
    };
    let len = if step > 0 {
        if stop > start { (stop - start + step - 1) / step } else { 0 }
    } else if start > stop {
        (start - stop + (-step) - 1) / (-step)
    } else {
        0
    };
    Ok(Span { start, step, len: len as usize })
}

fn index_of(vm: &mut Vm, key: Ref, what: &str) -> Res<i64> {
    match ops::int_of(vm, key) {
        Some(Num::Small(i)) => Ok(i),
        Some(Num::Big(_)) => vm.raise(Exc::IndexError, format!("cannot fit 'int' into an index-sized integer")),
        None => {
            if let Some(v) = ops::call_dunder(vm, key, "__index__", &[])? {
                return index_of(vm, v, what);
            }
            let t = vm.type_name_of(key);
            vm.type_error(format!("{what} indices must be integers or slices, not {t}"))
        }
    }
}

/// `obj[key]`.
pub fn getitem(vm: &mut Vm, obj: Ref, key: Ref) -> Res<Ref> {
    match vm.layout(obj) {
        L::LIST | L::TUPLE => {
            let what = if vm.layout(obj) == L::LIST { "list" } else { "tuple" };
            let n = crate::list::seq_len(vm, obj);
            if vm.layout(key) == L::SLICE {
                return slice_seq(vm, obj, key, n);
            }
            let i = index_of(vm, key, what)?;
            let i = crate::list::index(vm, i, n, what)?;
            Ok(crate::list::seq_get(vm, obj, i))
        }
        L::STR => {
            if vm.layout(key) == L::SLICE {
                let n = vm.str_chars(obj);
                let or = vm.root(obj);
                let sp = span(vm, key, n)?;
                let obj = vm.get(or);
                let s = vm.str_of(obj);
                let out: String = if n == s.len() {
                    (0..sp.len).map(|k| s.as_bytes()[sp.index(k)] as char).collect()
                } else {
                    let chars: Vec<char> = s.chars().collect();
                    (0..sp.len).map(|k| chars[sp.index(k)]).collect()
                };
                return vm.new_str(&out);
            }
            let i = index_of(vm, key, "string")?;
            let n = vm.str_chars(obj);
            let i = match crate::list::index(vm, i, n, "string") {
                Ok(i) => i,
                Err(e) => return Err(e),
            };
            let s = vm.str_of(obj);
            let c = if n == s.len() { s.as_bytes()[i] as char } else { s.chars().nth(i).unwrap_or(' ') };
            let mut buf = [0u8; 4];
            let text = c.encode_utf8(&mut buf).to_string();
            vm.new_str(&text)
        }
        L::DICT => match crate::dict::get(vm, obj, key)? {
            Some(v) => Ok(v),
            None => {
                let kr = vm.root(key);
                if vm.layout(obj) == L::DICT {
                    // dict subclasses are not supported, so no __missing__ to consult.
                }
                crate::exceptions::raise_key_error(vm, vm.get(kr))
            }
        },
        L::RANGE => {
            let n = crate::iter::range_len(vm, obj);
            if vm.layout(key) == L::SLICE {
                let (start, step) = (vm.heap.word(obj, 1) as i64, vm.heap.word(obj, 3) as i64);
                let or = vm.root(obj);
                let sp = span(vm, key, n)?;
                let _ = vm.get(or);
                let first = start + sp.start * step;
                let st = step * sp.step;
                return crate::iter::new_range(vm, first, first + sp.len as i64 * st, st);
            }
            let i = index_of(vm, key, "range object")?;
            let i = crate::list::index(vm, i, n, "range object")?;
            let v = vm.heap.word(obj, 1) as i64 + i as i64 * vm.heap.word(obj, 3) as i64;
            vm.new_int(v)
        }
        L::ARRAY => crate::array::getitem(vm, obj, key),
        L::INSTANCE => match ops::call_dunder(vm, obj, "__getitem__", &[key])? {
            Some(v) => Ok(v),
            None => not_subscriptable(vm, obj),
        },
        L::TYPE => Ok(obj), // `list[int]` in annotations evaluated at run time: the class itself.
        _ => not_subscriptable(vm, obj),
    }
}

fn not_subscriptable<T>(vm: &mut Vm, obj: Ref) -> Res<T> {
    let t = vm.type_name_of(obj);
    vm.type_error(format!("'{t}' object is not subscriptable"))
}

fn slice_seq(vm: &mut Vm, obj: Ref, key: Ref, n: usize) -> Res<Ref> {
    let or = vm.root(obj);
    let sp = span(vm, key, n)?;
    if sp.step == 1 && vm.layout(vm.get(or)) == L::LIST {
        let start = sp.start as usize;
        return crate::list::from_items(vm, vm.get(or), start, start + sp.len);
    }
    let out = vm.alloc(if vm.layout(vm.get(or)) == L::LIST { L::REFARRAY } else { L::TUPLE }, sp.len)?;
    let obj = vm.get(or);
    for k in 0..sp.len {
        let v = crate::list::seq_get(vm, obj, sp.index(k));
        vm.heap.set_field(out, L::ITEMS + k, v);
    }
    if vm.layout(obj) == L::LIST {
        let outr = vm.root(out);
        let l = vm.alloc(L::LIST, 0)?;
        let out = vm.get(outr);
        vm.heap.set_field(l, L::LIST_STORAGE, out);
        vm.heap.set_word(l, L::LIST_LEN, sp.len as u64);
        return Ok(l);
    }
    if sp.len == 0 {
        return Ok(vm.empty_tuple);
    }
    Ok(out)
}

/// `obj[key] = v`.
pub fn setitem(vm: &mut Vm, obj: Ref, key: Ref, v: Ref) -> Res<()> {
    match vm.layout(obj) {
        L::LIST => {
            if vm.layout(key) == L::SLICE {
                return set_slice(vm, obj, key, v);
            }
            let i = index_of(vm, key, "list")?;
            let n = crate::list::len(vm, obj);
            let i = crate::list::index(vm, i, n, "list assignment")?;
            crate::list::set(vm, obj, i, v);
            Ok(())
        }
        L::DICT => crate::dict::set(vm, obj, key, v),
        L::ARRAY => crate::array::setitem(vm, obj, key, v),
        L::INSTANCE => match ops::call_dunder(vm, obj, "__setitem__", &[key, v])? {
            Some(_) => Ok(()),
            None => {
                let t = vm.type_name_of(obj);
                vm.type_error(format!("'{t}' object does not support item assignment"))
            }
        },
        _ => {
            let t = vm.type_name_of(obj);
            vm.type_error(format!("'{t}' object does not support item assignment"))
        }
    }
}

fn set_slice(vm: &mut Vm, list: Ref, key: Ref, v: Ref) -> Res<()> {
    let lr = vm.root(list);
    let kr = vm.root(key);
    let items = crate::iter::to_list(vm, v)?;
    let ir = vm.root(items);
    let n = crate::list::len(vm, vm.get(lr));
    let sp = span(vm, vm.get(kr), n)?;
    let m = crate::list::len(vm, vm.get(ir));
    if sp.step != 1 {
        if m != sp.len {
            return vm.value_error(format!("attempt to assign sequence of size {m} to extended slice of size {}", sp.len));
        }
        for k in 0..m {
            let x = crate::list::get(vm, vm.get(ir), k);
            crate::list::set(vm, vm.get(lr), sp.index(k), x);
        }
        return Ok(());
    }
    let start = sp.start.max(0) as usize;
    let end = start + sp.len;
    // Rebuild: head, new items, tail.
    let out = crate::list::from_items(vm, vm.get(lr), 0, start)?;
    let or = vm.root(out);
    extend(vm, vm.get(or), vm.get(ir))?;
    let tail = crate::list::from_items(vm, vm.get(lr), end, n)?;
    extend(vm, vm.get(or), tail)?;
    let (l, out) = (vm.get(lr), vm.get(or));
    let storage = vm.heap.field(out, L::LIST_STORAGE);
    let len = crate::list::len(vm, out);
    vm.heap.set_field(l, L::LIST_STORAGE, storage);
    vm.heap.set_word(l, L::LIST_LEN, len as u64);
    Ok(())
}

/// `del obj[key]`.
pub fn delitem(vm: &mut Vm, obj: Ref, key: Ref) -> Res<()> {
    match vm.layout(obj) {
        L::LIST => {
            if vm.layout(key) == L::SLICE {
                let lr = vm.root(obj);
                let n = crate::list::len(vm, obj);
                let sp = span(vm, key, n)?;
                let mut doomed: Vec<usize> = (0..sp.len).map(|k| sp.index(k)).collect();
                doomed.sort_unstable();
                for (removed, i) in doomed.into_iter().enumerate() {
                    crate::list::remove_at(vm, vm.get(lr), i - removed);
                }
                return Ok(());
            }
            let i = index_of(vm, key, "list")?;
            let n = crate::list::len(vm, obj);
            let i = crate::list::index(vm, i, n, "list assignment")?;
            crate::list::remove_at(vm, obj, i);
            Ok(())
        }
        L::DICT => crate::dict::remove(vm, obj, key, true).map(|_| ()),
        L::INSTANCE => match ops::call_dunder(vm, obj, "__delitem__", &[key])? {
            Some(_) => Ok(()),
            None => {
                let t = vm.type_name_of(obj);
                vm.type_error(format!("'{t}' object doesn't support item deletion"))
            }
        },
        _ => {
            let t = vm.type_name_of(obj);
            vm.type_error(format!("'{t}' object doesn't support item deletion"))
        }
    }
}

/// Appends every item of iterable `src` to list `dst`.
pub fn extend(vm: &mut Vm, dst: Ref, src: Ref) -> Res<()> {
    let dr = vm.root(dst);
    if matches!(vm.layout(src), L::LIST | L::TUPLE) {
        let sr = vm.root(src);
        let m = crate::list::seq_len(vm, src);
        let d = crate::list::reserve(vm, vm.get(dr), m)?;
        let n = crate::list::len(vm, d);
        let (arr, base) = crate::list::items_of(vm, vm.get(sr));
        let storage = vm.heap.field(d, L::LIST_STORAGE);
        vm.heap.copy_refs(arr, base, storage, L::ITEMS + n, m);
        vm.heap.set_word(d, L::LIST_LEN, (n + m) as u64);
        return Ok(());
    }
    let it = crate::iter::get_iter(vm, src)?;
    let itr = vm.root(it);
    while let Some(x) = crate::iter::next(vm, vm.get(itr))? {
        crate::list::append(vm, vm.get(dr), x)?;
    }
    Ok(())
}

/// Sequence operators; `None` when the operands are not sequences this handles.
pub fn binary(vm: &mut Vm, a: Ref, b: Ref, op: BinOp) -> Res<Option<Ref>> {
    let (la, lb) = (vm.layout(a), vm.layout(b));
    if la == L::ARRAY || lb == L::ARRAY {
        return crate::array::binary(vm, a, b, op);
    }
    match (op, la, lb) {
        (BinOp::Add, L::STR, L::STR) => {
            let s = format!("{}{}", vm.str_of(a), vm.str_of(b));
            vm.new_str(&s).map(Some)
        }
        (BinOp::Add, L::LIST, L::LIST) => {
            let br = vm.root(b);
            let n = crate::list::len(vm, a);
            let l = crate::list::from_items(vm, a, 0, n)?;
            let lr = vm.root(l);
            extend(vm, l, vm.get(br))?;
            Ok(Some(vm.get(lr)))
        }
        (BinOp::Add, L::TUPLE, L::TUPLE) => {
            let (na, nb) = (vm.heap.len(a), vm.heap.len(b));
            let ar = vm.root(a);
            let br = vm.root(b);
            let t = vm.alloc(L::TUPLE, na + nb)?;
            vm.heap.copy_refs(vm.get(ar), L::ITEMS, t, L::ITEMS, na);
            vm.heap.copy_refs(vm.get(br), L::ITEMS, t, L::ITEMS + na, nb);
            Ok(Some(t))
        }
        (BinOp::Mul, L::STR | L::LIST | L::TUPLE, L::INT | L::BOOL | L::LONG) => repeat(vm, a, b).map(Some),
        (BinOp::Mul, L::INT | L::BOOL | L::LONG, L::STR | L::LIST | L::TUPLE) => repeat(vm, b, a).map(Some),
        (BinOp::Mod, L::STR, _) => crate::format::percent(vm, a, b).map(Some),
        (BinOp::Sub | BinOp::And | BinOp::Or | BinOp::Xor, L::SET, L::SET) => crate::builtins::set_op(vm, a, b, op).map(Some),
        (BinOp::Or, L::DICT, L::DICT) => {
            let br = vm.root(b);
            let d = crate::dict::copy(vm, a)?;
            crate::dict::update(vm, d, vm.get(br)).map(Some)
        }
        _ => Ok(None),
    }
}

fn repeat(vm: &mut Vm, seq: Ref, count: Ref) -> Res<Ref> {
    let k = match ops::int_of(vm, count) {
        Some(Num::Small(k)) => k.max(0) as usize,
        _ => return vm.raise(Exc::OverflowError, "cannot fit 'int' into an index-sized integer"),
    };
    match vm.layout(seq) {
        L::STR => {
            let s = vm.str_of(seq).repeat(k);
            vm.new_str(&s)
        }
        L::LIST => {
            let sr = vm.root(seq);
            let n = crate::list::len(vm, seq);
            let l = vm.new_list(n * k)?;
            let lr = vm.root(l);
            for _ in 0..k {
                extend(vm, vm.get(lr), vm.get(sr))?;
            }
            Ok(vm.get(lr))
        }
        _ => {
            let n = vm.heap.len(seq);
            let sr = vm.root(seq);
            let t = vm.new_tuple(n * k)?;
            for j in 0..k {
                vm.heap.copy_refs(vm.get(sr), L::ITEMS, t, L::ITEMS + j * n, n);
            }
            Ok(t)
        }
    }
}
