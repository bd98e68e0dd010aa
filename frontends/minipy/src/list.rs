//! Lists: a length and a storage array that grows by doubling (the storage's length is the
//! capacity). These are the runtime helpers a trace calls for list operations.

use crate::layout as L;
use crate::vm::{Exc, Res, Vm};
use tracelab_runtime::gc::Ref;

pub fn len(vm: &Vm, l: Ref) -> usize {
    vm.heap.word(l, L::LIST_LEN) as usize
}

/// Item `i` (in range: checked by the caller).
pub fn get(vm: &Vm, l: Ref, i: usize) -> Ref {
    let s = vm.heap.field(l, L::LIST_STORAGE);
    vm.heap.field(s, L::ITEMS + i)
}

pub fn set(vm: &mut Vm, l: Ref, i: usize, v: Ref) {
    let s = vm.heap.field(l, L::LIST_STORAGE);
    vm.heap.set_field(s, L::ITEMS + i, v);
}

/// Makes room for `extra` more items; may allocate.
pub fn reserve(vm: &mut Vm, l: Ref, extra: usize) -> Res<Ref> {
    let n = len(vm, l);
    let cap = vm.heap.len(vm.heap.field(l, L::LIST_STORAGE));
    if n + extra <= cap {
        return Ok(l);
    }
    let new_cap = (cap * 2).max(n + extra).max(4);
    let lr = vm.root(l);
    let fresh = vm.alloc(L::REFARRAY, new_cap)?;
    let l = vm.get(lr);
    let old = vm.heap.field(l, L::LIST_STORAGE);
    vm.heap.copy_refs(old, L::ITEMS, fresh, L::ITEMS, n);
    vm.heap.set_field(l, L::LIST_STORAGE, fresh);
    Ok(l)
}

pub fn append(vm: &mut Vm, l: Ref, v: Ref) -> Res<()> {
    let vr = vm.root(v);
    let l = reserve(vm, l, 1)?;
    let n = len(vm, l);
    let v = vm.get(vr);
    set(vm, l, n, v);
    vm.heap.set_word(l, L::LIST_LEN, (n + 1) as u64);
    Ok(())
}

/// A new list of the items of a tuple or list `src` from `from` to `to`.
pub fn from_items(vm: &mut Vm, src: Ref, from: usize, to: usize) -> Res<Ref> {
    let sr = vm.root(src);
    let n = to.saturating_sub(from);
    let l = vm.new_list(n)?;
    let src = vm.get(sr);
    let (arr, base) = items_of(vm, src);
    let storage = vm.heap.field(l, L::LIST_STORAGE);
    vm.heap.copy_refs(arr, base + from, storage, L::ITEMS, n);
    vm.heap.set_word(l, L::LIST_LEN, n as u64);
    Ok(l)
}

/// The array holding the items of a list or tuple and the word its first item is at.
pub fn items_of(vm: &Vm, seq: Ref) -> (Ref, usize) {
    if vm.layout(seq) == L::LIST {
        (vm.heap.field(seq, L::LIST_STORAGE), L::ITEMS)
    } else {
        (seq, L::ITEMS)
    }
}

/// The length of a list or tuple.
pub fn seq_len(vm: &Vm, seq: Ref) -> usize {
    if vm.layout(seq) == L::LIST {
        len(vm, seq)
    } else {
        vm.heap.len(seq)
    }
}

pub fn seq_get(vm: &Vm, seq: Ref, i: usize) -> Ref {
    let (arr, base) = items_of(vm, seq);
    vm.heap.field(arr, base + i)
}

pub fn insert(vm: &mut Vm, l: Ref, at: usize, v: Ref) -> Res<()> {
    let vr = vm.root(v);
    let l = reserve(vm, l, 1)?;
    let n = len(vm, l);
    let at = at.min(n);
    let s = vm.heap.field(l, L::LIST_STORAGE);
    vm.heap.copy_refs(s, L::ITEMS + at, s, L::ITEMS + at + 1, n - at);
    let v = vm.get(vr);
    set(vm, l, at, v);
    vm.heap.set_word(l, L::LIST_LEN, (n + 1) as u64);
    Ok(())
}

pub fn remove_at(vm: &mut Vm, l: Ref, at: usize) -> Ref {
    let n = len(vm, l);
    let v = get(vm, l, at);
    let s = vm.heap.field(l, L::LIST_STORAGE);
    vm.heap.copy_refs(s, L::ITEMS + at + 1, s, L::ITEMS + at, n - at - 1);
    let none = vm.none;
    set(vm, l, n - 1, none);
    vm.heap.set_word(l, L::LIST_LEN, (n - 1) as u64);
    v
}

pub fn truncate(vm: &mut Vm, l: Ref, n: usize) {
    let none = vm.none;
    for i in n..len(vm, l) {
        set(vm, l, i, none);
    }
    vm.heap.set_word(l, L::LIST_LEN, n as u64);
}

/// Normalizes a Python index against `n`, raising `IndexError` naming `what` when out of range.
pub fn index(vm: &mut Vm, i: i64, n: usize, what: &str) -> Res<usize> {
    let j = if i < 0 { i + n as i64 } else { i };
    if j < 0 || j >= n as i64 {
        return vm.raise(Exc::IndexError, format!("{what} index out of range"));
    }
    Ok(j as usize)
}
