//! Iteration: `iter()` and `next()` over builtin sequences, dict views, ranges, the builtin
//! iterator objects (`enumerate`, `zip`, `map`, `filter`, `reversed`), generators (resumed
//! in a nested run) and instances with `__iter__`/`__next__`.

use crate::layout as L;
use crate::ops::{self, Num};
use crate::vm::{Exc, Res, Vm};
use tracelab_runtime::gc::Ref;

pub const SEQ: u64 = 1;
pub const STR: u64 = 2;
pub const RANGE: u64 = 3;
pub const DICT_KEYS: u64 = 4;
pub const DICT_VALUES: u64 = 5;
pub const DICT_ITEMS: u64 = 6;
pub const ENUMERATE: u64 = 7;
pub const ZIP: u64 = 8;
pub const MAP: u64 = 9;
pub const FILTER: u64 = 10;
pub const REVERSED: u64 = 11;
pub const ARRAY: u64 = 12;
/// An instance with `__getitem__` and no `__iter__`: items 0, 1, ... until `IndexError`.
pub const GETITEM: u64 = 13;
/// A set's keys, in table order.
pub const SET_KEYS: u64 = 14;

pub fn new_range(vm: &mut Vm, start: i64, stop: i64, step: i64) -> Res<Ref> {
    let r = vm.alloc(L::RANGE, 0)?;
    vm.heap.set_word(r, 1, start as u64);
    vm.heap.set_word(r, 2, stop as u64);
    vm.heap.set_word(r, 3, step as u64);
    Ok(r)
}

pub fn range_len(vm: &Vm, r: Ref) -> usize {
    let (start, stop, step) = (vm.heap.word(r, 1) as i64, vm.heap.word(r, 2) as i64, vm.heap.word(r, 3) as i64);
    let n = if step > 0 {
        if stop > start { (stop as i128 - start as i128 + step as i128 - 1) / step as i128 } else { 0 }
    } else if start > stop {
        (start as i128 - stop as i128 - step as i128 - 1) / (-step as i128)
    } else {
        0
    };
    n as usize
}

pub fn range_contains(vm: &mut Vm, r: Ref, item: Ref) -> Res<bool> {
    let Some(Num::Small(v)) = ops::int_of(vm, item) else {
        return Ok(false);
    };
    let (start, step) = (vm.heap.word(r, 1) as i64, vm.heap.word(r, 3) as i64);
    let n = range_len(vm, r) as i64;
    let k = v - start;
    Ok(k % step == 0 && (0..n).contains(&(k / step)))
}

/// A builtin iterator object of `kind` over `source`.
pub fn new_iter(vm: &mut Vm, kind: u64, source: Ref, pos: i64, end: i64, extra: Ref) -> Res<Ref> {
    let sr = vm.root(source);
    let er = vm.root(extra);
    let it = vm.alloc(L::ITER, 0)?;
    vm.heap.set_word(it, L::ITER_KIND, kind);
    vm.heap.set_field(it, L::ITER_SOURCE, vm.get(sr));
    vm.heap.set_word(it, L::ITER_POS, pos as u64);
    vm.heap.set_word(it, L::ITER_END, end as u64);
    vm.heap.set_field(it, L::ITER_EXTRA, vm.get(er));
    Ok(it)
}

pub fn get_iter(vm: &mut Vm, obj: Ref) -> Res<Ref> {
    let null = Ref::NULL;
    match vm.layout(obj) {
        L::LIST | L::TUPLE => new_iter(vm, SEQ, obj, 0, 0, null),
        L::STR => new_iter(vm, STR, obj, 0, 0, null),
        L::RANGE => {
            let n = range_len(vm, obj) as i64;
            new_iter(vm, RANGE, obj, 0, n, null)
        }
        L::DICT => new_iter(vm, DICT_KEYS, obj, 0, 0, null),
        L::SET => new_iter(vm, SET_KEYS, obj, 0, 0, null),
        L::ITER | L::GENERATOR => Ok(obj),
        L::ARRAY => new_iter(vm, ARRAY, obj, 0, 0, null),
        L::STRINGIO | L::FILE => crate::modules::lines_iter(vm, obj),
        L::INSTANCE => match ops::call_dunder(vm, obj, "__iter__", &[])? {
            Some(it) => Ok(it),
            None => {
                let t = vm.type_of(obj);
                if crate::types::lookup(vm, t, "__getitem__").is_some() {
                    return new_iter(vm, GETITEM, obj, 0, 0, null);
                }
                not_iterable(vm, obj)
            }
        },
        _ => not_iterable(vm, obj),
    }
}

fn not_iterable<T>(vm: &mut Vm, obj: Ref) -> Res<T> {
    let t = vm.type_name_of(obj);
    vm.type_error(format!("'{t}' object is not iterable"))
}

/// The next item, or `None` when exhausted.
pub fn next(vm: &mut Vm, it: Ref) -> Res<Option<Ref>> {
    match vm.layout(it) {
        L::ITER => next_builtin(vm, it),
        L::GENERATOR => crate::interp::resume_generator(vm, it),
        L::INSTANCE => {
            match ops::call_dunder(vm, it, "__next__", &[]) {
                Ok(Some(v)) => Ok(Some(v)),
                Ok(None) => {
                    let t = vm.type_name_of(it);
                    vm.type_error(format!("'{t}' object is not an iterator"))
                }
                Err(e) => {
                    if vm.exception_is(Exc::StopIteration) {
                        vm.set_exception(Ref::NULL);
                        return Ok(None);
                    }
                    Err(e)
                }
            }
        }
        _ => {
            let t = vm.type_name_of(it);
            vm.type_error(format!("'{t}' object is not an iterator"))
        }
    }
}

fn next_builtin(vm: &mut Vm, it: Ref) -> Res<Option<Ref>> {
    let kind = vm.heap.word(it, L::ITER_KIND);
    let src = vm.heap.field(it, L::ITER_SOURCE);
    let pos = vm.heap.word(it, L::ITER_POS) as i64;
    let advance = |vm: &mut Vm, it: Ref| vm.heap.set_word(it, L::ITER_POS, (pos + 1) as u64);
    match kind {
        SEQ => {
            if pos as usize >= crate::list::seq_len(vm, src) {
                return Ok(None);
            }
            advance(vm, it);
            Ok(Some(crate::list::seq_get(vm, src, pos as usize)))
        }
        STR => {
            let s = vm.str_of(src);
            let Some(c) = s[pos as usize..].chars().next() else { return Ok(None) };
            vm.heap.set_word(it, L::ITER_POS, (pos as usize + c.len_utf8()) as u64);
            let mut buf = [0u8; 4];
            let text = c.encode_utf8(&mut buf).to_string();
            vm.new_str(&text).map(Some)
        }
        RANGE => {
            let end = vm.heap.word(it, L::ITER_END) as i64;
            if pos >= end {
                return Ok(None);
            }
            advance(vm, it);
            let v = vm.heap.word(src, 1) as i64 + pos * vm.heap.word(src, 3) as i64;
            vm.new_int(v).map(Some)
        }
        DICT_KEYS | DICT_VALUES | DICT_ITEMS => {
            let mut i = pos as usize;
            loop {
                if i >= crate::dict::slots(vm, src) {
                    vm.heap.set_word(it, L::ITER_POS, i as u64);
                    return Ok(None);
                }
                let (k, v) = crate::dict::entry(vm, src, i);
                i += 1;
                if k.is_null() {
                    continue;
                }
                vm.heap.set_word(it, L::ITER_POS, i as u64);
                return match kind {
                    DICT_KEYS => Ok(Some(k)),
                    DICT_VALUES => Ok(Some(v)),
                    _ => {
                        let kr = vm.root(k);
                        let vr = vm.root(v);
                        vm.new_tuple_from(&[kr, vr]).map(Some)
                    }
                };
            }
        }
        ENUMERATE => {
            let ir = vm.root(it);
            let Some(x) = next(vm, src)? else { return Ok(None) };
            let xr = vm.root(x);
            let it = vm.get(ir);
            let count = vm.heap.word(it, L::ITER_POS) as i64;
            vm.heap.set_word(it, L::ITER_POS, (count + 1) as u64);
            let c = vm.new_int(count)?;
            let cr = vm.root(c);
            vm.new_tuple_from(&[cr, xr]).map(Some)
        }
        ZIP | MAP => {
            let ir = vm.root(it);
            let iters = vm.heap.field(it, L::ITER_EXTRA);
            let n = vm.heap.len(iters);
            if n == 0 {
                return Ok(None);
            }
            let mut items = Vec::with_capacity(n);
            for k in 0..n {
                let iters = vm.heap.field(vm.get(ir), L::ITER_EXTRA);
                let sub = vm.heap.field(iters, L::ITEMS + k);
                match next(vm, sub)? {
                    Some(x) => items.push(vm.root(x)),
                    None => return Ok(None),
                }
            }
            if kind == ZIP {
                return vm.new_tuple_from(&items).map(Some);
            }
            let f = vm.heap.field(vm.get(ir), L::ITER_SOURCE);
            crate::call::call_function(vm, f, &items).map(Some)
        }
        FILTER => {
            let ir = vm.root(it);
            loop {
                let inner = vm.heap.field(vm.get(ir), L::ITER_EXTRA);
                let Some(x) = next(vm, inner)? else { return Ok(None) };
                let xr = vm.root(x);
                let f = vm.heap.field(vm.get(ir), L::ITER_SOURCE);
                let keep = if f == vm.none {
                    ops::truthy(vm, x)?
                } else {
                    let r = crate::call::call_function(vm, f, &[xr])?;
                    ops::truthy(vm, r)?
                };
                if keep {
                    return Ok(Some(vm.get(xr)));
                }
            }
        }
        REVERSED => {
            if pos < 0 {
                return Ok(None);
            }
            vm.heap.set_word(it, L::ITER_POS, (pos - 1) as u64);
            if vm.layout(src) == L::RANGE {
                let v = vm.heap.word(src, 1) as i64 + pos * vm.heap.word(src, 3) as i64;
                return vm.new_int(v).map(Some);
            }
            if pos as usize >= crate::list::seq_len(vm, src) {
                return Ok(None);
            }
            Ok(Some(crate::list::seq_get(vm, src, pos as usize)))
        }
        SET_KEYS => {
            let mut i = pos as usize;
            while i < crate::set::table_size(vm, src) {
                let k = crate::set::key_at(vm, src, i);
                i += 1;
                if !k.is_null() {
                    vm.heap.set_word(it, L::ITER_POS, i as u64);
                    return Ok(Some(k));
                }
            }
            vm.heap.set_word(it, L::ITER_POS, i as u64);
            Ok(None)
        }
        GETITEM => {
            let ir = vm.root(it);
            let sr = vm.root(src);
            let index = vm.new_int(pos)?;
            match ops::call_dunder(vm, vm.get(sr), "__getitem__", &[index]) {
                Ok(v) => {
                    vm.heap.set_word(vm.get(ir), L::ITER_POS, (pos + 1) as u64);
                    Ok(v)
                }
                Err(e) if vm.exception_is(Exc::IndexError) || vm.exception_is(Exc::StopIteration) => {
                    let _ = e;
                    vm.set_exception(Ref::NULL);
                    Ok(None)
                }
                Err(e) => Err(e),
            }
        }
        ARRAY => {
            let n = vm.heap.word(src, L::ARRAY_LEN) as i64;
            if pos >= n {
                return Ok(None);
            }
            advance(vm, it);
            crate::array::item(vm, src, pos as usize).map(Some)
        }
        _ => Ok(None),
    }
}

/// A new list of the items of any iterable.
pub fn to_list(vm: &mut Vm, obj: Ref) -> Res<Ref> {
    if matches!(vm.layout(obj), L::LIST | L::TUPLE) {
        let n = crate::list::seq_len(vm, obj);
        return crate::list::from_items(vm, obj, 0, n);
    }
    let or = vm.root(obj);
    let l = vm.new_list(0)?;
    let lr = vm.root(l);
    crate::seq::extend(vm, vm.get(lr), vm.get(or))?;
    Ok(vm.get(lr))
}

/// A new tuple of the items of any iterable.
pub fn to_tuple(vm: &mut Vm, obj: Ref) -> Res<Ref> {
    if vm.layout(obj) == L::TUPLE {
        return Ok(obj);
    }
    let l = to_list(vm, obj)?;
    list_to_tuple(vm, l)
}

pub fn list_to_tuple(vm: &mut Vm, l: Ref) -> Res<Ref> {
    let n = crate::list::len(vm, l);
    if n == 0 {
        return Ok(vm.empty_tuple);
    }
    let lr = vm.root(l);
    let t = vm.alloc(L::TUPLE, n)?;
    let s = vm.heap.field(vm.get(lr), L::LIST_STORAGE);
    vm.heap.copy_refs(s, L::ITEMS, t, L::ITEMS, n);
    Ok(t)
}
