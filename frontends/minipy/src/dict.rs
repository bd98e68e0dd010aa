//! Dicts and sets: entries in insertion order (key, value pairs, a deleted key null) and an
//! open-addressing index of entry numbers, probed as CPython probes (perturbation by the upper
//! hash bits). Keys hash and compare with Python semantics ([`crate::ops::hash`],
//! [`crate::ops::eq`]), which may run Python code: every step re-reads the table from the
//! rooted dict.

use crate::layout as L;
use crate::vm::{Exc, Res, Vm};
use tracelab_runtime::gc::{LayoutId, Ref};

const MIN_INDEX: usize = 8;

pub fn new(vm: &mut Vm, layout: LayoutId) -> Res<Ref> {
    let d = vm.alloc(layout, 0)?;
    let dr = vm.root(d);
    let entries = vm.alloc(L::REFARRAY, 2 * 5)?;
    let d = vm.get(dr);
    vm.heap.set_field(d, L::DICT_ENTRIES, entries);
    let index = vm.alloc(L::WORDARRAY, MIN_INDEX)?;
    let d = vm.get(dr);
    vm.heap.set_field(d, L::DICT_INDEX, index);
    let hashes = vm.alloc(L::WORDARRAY, 5)?;
    let d = vm.get(dr);
    vm.heap.set_field(d, L::DICT_HASHES, hashes);
    Ok(d)
}

/// A dict allocated old at start-up (the VM's permanent tables).
pub fn new_old(vm: &mut Vm, layout: LayoutId) -> Ref {
    let heap = &mut vm.heap;
    let d = heap.alloc_old(layout, 0).expect("room for prebuilt objects");
    let entries = heap.alloc_old(L::REFARRAY, 2 * 5).expect("room");
    let index = heap.alloc_old(L::WORDARRAY, MIN_INDEX).expect("room");
    let hashes = heap.alloc_old(L::WORDARRAY, 5).expect("room");
    heap.set_field(d, L::DICT_ENTRIES, entries);
    heap.set_field(d, L::DICT_INDEX, index);
    heap.set_field(d, L::DICT_HASHES, hashes);
    d
}

pub fn len(vm: &Vm, d: Ref) -> usize {
    vm.heap.word(d, L::DICT_LIVE) as usize
}

fn used(vm: &Vm, d: Ref) -> usize {
    vm.heap.word(d, L::DICT_USED) as usize
}

/// The key and value of entry `i` (the key null if deleted).
pub fn entry(vm: &Vm, d: Ref, i: usize) -> (Ref, Ref) {
    let e = vm.heap.field(d, L::DICT_ENTRIES);
    (vm.heap.field(e, L::ITEMS + 2 * i), vm.heap.field(e, L::ITEMS + 2 * i + 1))
}

/// Entries used (live and deleted): iterate `0..slots(d)` and skip null keys.
pub fn slots(vm: &Vm, d: Ref) -> usize {
    used(vm, d)
}

/// Finds `key`: `Ok(Ok(entry))` when present, `Ok(Err(slot))` with the free index slot.
fn find(vm: &mut Vm, d: Ref, key: Ref, hash: u64) -> Res<Result<usize, usize>> {
    let dr = vm.root(d);
    let kr = vm.root(key);
    let mask = vm.heap.len(vm.heap.field(d, L::DICT_INDEX)) - 1;
    let mut slot = hash as usize & mask;
    let mut perturb = hash;
    loop {
        let d = vm.get(dr);
        let index = vm.heap.field(d, L::DICT_INDEX);
        let word = vm.heap.word(index, L::ITEMS + slot);
        if word == 0 {
            return Ok(Err(slot));
        }
        let e = word as usize - 1;
        let hashes = vm.heap.field(d, L::DICT_HASHES);
        if vm.heap.word(hashes, L::ITEMS + e) == hash {
            let (k, _) = entry(vm, d, e);
            if !k.is_null() {
                let key = vm.get(kr);
                if k == key || crate::ops::eq(vm, k, key)? {
                    return Ok(Ok(e));
                }
            }
        }
        perturb >>= 5;
        slot = (slot * 5 + 1 + perturb as usize) & mask;
    }
}

pub fn get(vm: &mut Vm, d: Ref, key: Ref) -> Res<Option<Ref>> {
    let dr = vm.root(d);
    let hash = crate::ops::hash(vm, key)?;
    let d = vm.get(dr);
    match find(vm, d, key, hash)? {
        Ok(e) => {
            let d = vm.get(dr);
            Ok(Some(entry(vm, d, e).1))
        }
        Err(_) => Ok(None),
    }
}

/// Lookup by a `str` key without running Python code (globals, attributes, keywords).
pub fn get_str(vm: &Vm, d: Ref, key: &str) -> Option<Ref> {
    get_str_hashed(vm, d, key, crate::ops::str_hash_of(key))
}

/// [`get_str`] with the key's hash known (a [`crate::vm::Sym`]'s, computed once).
pub fn get_str_hashed(vm: &Vm, d: Ref, key: &str, hash: u64) -> Option<Ref> {
    let mask = vm.heap.len(vm.heap.field(d, L::DICT_INDEX)) - 1;
    let mut slot = hash as usize & mask;
    let mut perturb = hash;
    let index = vm.heap.field(d, L::DICT_INDEX);
    let hashes = vm.heap.field(d, L::DICT_HASHES);
    loop {
        let word = vm.heap.word(index, L::ITEMS + slot);
        if word == 0 {
            return None;
        }
        let e = word as usize - 1;
        if vm.heap.word(hashes, L::ITEMS + e) == hash {
            let (k, v) = entry(vm, d, e);
            if !k.is_null() && vm.layout(k) == L::STR && vm.heap.bytes(k, L::STR_BYTES) == key.as_bytes() {
                return Some(v);
            }
        }
        perturb >>= 5;
        slot = (slot * 5 + 1 + perturb as usize) & mask;
    }
}

pub fn set(vm: &mut Vm, d: Ref, key: Ref, value: Ref) -> Res<()> {
    let dr = vm.root(d);
    let kr = vm.root(key);
    let vr = vm.root(value);
    let hash = crate::ops::hash(vm, key)?;
    let d = vm.get(dr);
    let key = vm.get(kr);
    match find(vm, d, key, hash)? {
        Ok(e) => {
            let d = vm.get(dr);
            let entries = vm.heap.field(d, L::DICT_ENTRIES);
            let v = vm.get(vr);
            vm.heap.set_field(entries, L::ITEMS + 2 * e + 1, v);
            Ok(())
        }
        Err(_) => {
            grow_if_full(vm, dr)?;
            let d = vm.get(dr);
            let key = vm.get(kr);
            // The table may have been rebuilt: find the free slot again (no Python code runs:
            // the key is absent, so only hashes and identities are compared... but equal
            // hashes may still compare; find handles that).
            let slot = match find(vm, d, key, hash)? {
                Err(s) => s,
                Ok(e) => {
                    let d = vm.get(dr);
                    let entries = vm.heap.field(d, L::DICT_ENTRIES);
                    let v = vm.get(vr);
                    vm.heap.set_field(entries, L::ITEMS + 2 * e + 1, v);
                    return Ok(());
                }
            };
            let d = vm.get(dr);
            let e = used(vm, d);
            let entries = vm.heap.field(d, L::DICT_ENTRIES);
            let (k, v) = (vm.get(kr), vm.get(vr));
            vm.heap.set_field(entries, L::ITEMS + 2 * e, k);
            vm.heap.set_field(entries, L::ITEMS + 2 * e + 1, v);
            let hashes = vm.heap.field(d, L::DICT_HASHES);
            vm.heap.set_word(hashes, L::ITEMS + e, hash);
            let index = vm.heap.field(d, L::DICT_INDEX);
            vm.heap.set_word(index, L::ITEMS + slot, e as u64 + 1);
            vm.heap.set_word(d, L::DICT_USED, e as u64 + 1);
            let live = len(vm, d) + 1;
            vm.heap.set_word(d, L::DICT_LIVE, live as u64);
            Ok(())
        }
    }
}

/// Makes room for one more entry: compacts and rebuilds the index when the entries or the
/// index (two thirds full) run out.
fn grow_if_full(vm: &mut Vm, dr: crate::vm::Root) -> Res<()> {
    let d = vm.get(dr);
    let cap = vm.heap.len(vm.heap.field(d, L::DICT_ENTRIES)) / 2;
    let index_len = vm.heap.len(vm.heap.field(d, L::DICT_INDEX));
    let u = used(vm, d);
    if u < cap && (u + 1) * 3 <= index_len * 2 {
        return Ok(());
    }
    let live = len(vm, d);
    let new_cap = (live * 2).max(5);
    let mut new_index = MIN_INDEX;
    while new_index * 2 < new_cap * 3 {
        new_index *= 2;
    }
    let entries = vm.alloc(L::REFARRAY, 2 * new_cap)?;
    let er = vm.root(entries);
    let hashes = vm.alloc(L::WORDARRAY, new_cap)?;
    let hr = vm.root(hashes);
    let index = vm.alloc(L::WORDARRAY, new_index)?;
    let (d, entries, hashes) = (vm.get(dr), vm.get(er), vm.get(hr));
    let old_entries = vm.heap.field(d, L::DICT_ENTRIES);
    let old_hashes = vm.heap.field(d, L::DICT_HASHES);
    let mut n = 0;
    for i in 0..u {
        let k = vm.heap.field(old_entries, L::ITEMS + 2 * i);
        if k.is_null() {
            continue;
        }
        let v = vm.heap.field(old_entries, L::ITEMS + 2 * i + 1);
        let h = vm.heap.word(old_hashes, L::ITEMS + i);
        vm.heap.set_field(entries, L::ITEMS + 2 * n, k);
        vm.heap.set_field(entries, L::ITEMS + 2 * n + 1, v);
        vm.heap.set_word(hashes, L::ITEMS + n, h);
        let mask = new_index - 1;
        let mut slot = h as usize & mask;
        let mut perturb = h;
        while vm.heap.word(index, L::ITEMS + slot) != 0 {
            perturb >>= 5;
            slot = (slot * 5 + 1 + perturb as usize) & mask;
        }
        vm.heap.set_word(index, L::ITEMS + slot, n as u64 + 1);
        n += 1;
    }
    vm.heap.set_field(d, L::DICT_ENTRIES, entries);
    vm.heap.set_field(d, L::DICT_HASHES, hashes);
    vm.heap.set_field(d, L::DICT_INDEX, index);
    vm.heap.set_word(d, L::DICT_USED, n as u64);
    vm.heap.set_word(d, L::DICT_LIVE, n as u64);
    Ok(())
}

/// Removes `key`; returns its value, or raises `KeyError` when `missing_raises`.
pub fn remove(vm: &mut Vm, d: Ref, key: Ref, missing_raises: bool) -> Res<Option<Ref>> {
    let dr = vm.root(d);
    let kr = vm.root(key);
    let hash = crate::ops::hash(vm, key)?;
    let d = vm.get(dr);
    match find(vm, d, key, hash)? {
        Ok(e) => {
            let d = vm.get(dr);
            let (_, v) = entry(vm, d, e);
            let entries = vm.heap.field(d, L::DICT_ENTRIES);
            vm.heap.set_field(entries, L::ITEMS + 2 * e, Ref::NULL);
            vm.heap.set_field(entries, L::ITEMS + 2 * e + 1, Ref::NULL);
            let live = len(vm, d) - 1;
            vm.heap.set_word(d, L::DICT_LIVE, live as u64);
            Ok(Some(v))
        }
        Err(_) if missing_raises => {
            let key = vm.get(kr);
            crate::exceptions::raise_key_error(vm, key)
        }
        Err(_) => Ok(None),
    }
}

pub fn clear(vm: &mut Vm, d: Ref) -> Res<()> {
    let dr = vm.root(d);
    let fresh = new(vm, vm.layout(d))?;
    let d = vm.get(dr);
    for f in [L::DICT_ENTRIES, L::DICT_INDEX, L::DICT_HASHES] {
        let v = vm.heap.field(fresh, f);
        vm.heap.set_field(d, f, v);
    }
    vm.heap.set_word(d, L::DICT_USED, 0);
    vm.heap.set_word(d, L::DICT_LIVE, 0);
    Ok(())
}

/// The live keys (or values, or entries) in order, as a new list.
pub fn to_list(vm: &mut Vm, d: Ref, what: View) -> Res<Ref> {
    let dr = vm.root(d);
    let l = vm.new_list(len(vm, d))?;
    let lr = vm.root(l);
    let mut i = 0;
    while i < slots(vm, vm.get(dr)) {
        let (k, v) = entry(vm, vm.get(dr), i);
        i += 1;
        if k.is_null() {
            continue;
        }
        let item = match what {
            View::Keys => k,
            View::Values => v,
            View::Items => {
                let kr = vm.root(k);
                let vr = vm.root(v);
                vm.new_tuple_from(&[kr, vr])?
            }
        };
        let l = vm.get(lr);
        crate::list::append(vm, l, item)?;
    }
    Ok(vm.get(lr))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum View {
    Keys,
    Values,
    Items,
}

/// A copy of a dict or set.
pub fn copy(vm: &mut Vm, d: Ref) -> Res<Ref> {
    let dr = vm.root(d);
    let fresh = new(vm, vm.layout(d))?;
    update(vm, fresh, vm.get(dr))
}

/// Adds every entry of `src` to `dst`; returns `dst`.
pub fn update(vm: &mut Vm, dst: Ref, src: Ref) -> Res<Ref> {
    let dr = vm.root(dst);
    let sr = vm.root(src);
    let mut i = 0;
    while i < slots(vm, vm.get(sr)) {
        let (k, v) = entry(vm, vm.get(sr), i);
        i += 1;
        if !k.is_null() {
            set(vm, vm.get(dr), k, v)?;
        }
    }
    Ok(vm.get(dr))
}

pub fn contains(vm: &mut Vm, d: Ref, key: Ref) -> Res<bool> {
    Ok(get(vm, d, key)?.is_some())
}

pub fn set_str(vm: &mut Vm, d: Ref, key: &str, value: Ref) -> Res<()> {
    let dr = vm.root(d);
    let vr = vm.root(value);
    let k = vm.new_str(key)?;
    set(vm, vm.get(dr), k, vm.get(vr))
}

pub fn raise_missing(vm: &mut Vm, key: Ref) -> Res<Ref> {
    let _ = Exc::KeyError;
    crate::exceptions::raise_key_error(vm, key)
}
