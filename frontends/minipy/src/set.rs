//! Sets, laid out and probed as CPython 3.11's `setobject.c` does, so a set iterates (and
//! prints) in CPython's order: one table of (key, hash) slots, a power of two long; linear
//! probing of 9 slots before each perturbed jump; deleted keys leave a dummy (null key, hash
//! -1); the table grows to 4x the live count (2x past 50,000) when 60% of it is filled; and
//! the set algebra iterates the operand CPython iterates. Keys hash and compare with Python
//! semantics, which may run Python code: every step re-reads the table from the rooted set.
//!
//! Fields (the `SET` layout): live count, filled count (live + dummies), keys (`REFARRAY`),
//! the pop finger (word), hashes (`WORDARRAY`).

use crate::layout as L;
use crate::vm::{Exc, Res, Root, Vm};
use tracelab_runtime::gc::Ref;

const MIN_SIZE: usize = 8;
const LINEAR_PROBES: usize = 9;
const PERTURB_SHIFT: u32 = 5;
/// The hash word of a deleted slot (its key is null); an empty slot has key null, hash 0.
const DUMMY: u64 = u64::MAX;

pub fn new(vm: &mut Vm) -> Res<Ref> {
    let s = vm.alloc(L::SET, 0)?;
    let sr = vm.root(s);
    install_table(vm, sr, MIN_SIZE)?;
    Ok(vm.get(sr))
}

/// Gives the set an empty table of `size` slots.
fn install_table(vm: &mut Vm, sr: Root, size: usize) -> Res<()> {
    let keys = vm.alloc(L::REFARRAY, size)?;
    let kr = vm.root(keys);
    let hashes = vm.alloc(L::WORDARRAY, size)?;
    let s = vm.get(sr);
    vm.heap.set_field(s, L::SET_KEYS, vm.get(kr));
    vm.heap.set_field(s, L::SET_HASHES, hashes);
    vm.heap.set_word(s, L::SET_LIVE, 0);
    vm.heap.set_word(s, L::SET_FILL, 0);
    Ok(())
}

pub fn len(vm: &Vm, s: Ref) -> usize {
    vm.heap.word(s, L::SET_LIVE) as usize
}

fn fill(vm: &Vm, s: Ref) -> usize {
    vm.heap.word(s, L::SET_FILL) as usize
}

/// Slots in the table: iterate `0..table_size(s)` with [`key_at`].
pub fn table_size(vm: &Vm, s: Ref) -> usize {
    vm.heap.len(vm.heap.field(s, L::SET_KEYS))
}

/// The key in slot `i`, null if the slot is empty or deleted.
pub fn key_at(vm: &Vm, s: Ref, i: usize) -> Ref {
    vm.heap.field(vm.heap.field(s, L::SET_KEYS), L::ITEMS + i)
}

fn hash_at(vm: &Vm, s: Ref, i: usize) -> u64 {
    vm.heap.word(vm.heap.field(s, L::SET_HASHES), L::ITEMS + i)
}

fn put(vm: &mut Vm, s: Ref, i: usize, key: Ref, hash: u64) {
    let keys = vm.heap.field(s, L::SET_KEYS);
    vm.heap.set_field(keys, L::ITEMS + i, key);
    let hashes = vm.heap.field(s, L::SET_HASHES);
    vm.heap.set_word(hashes, L::ITEMS + i, hash);
}

/// The slots probed for `hash` in a table of `mask + 1`, in CPython's order, forever.
struct Probe {
    i: usize,
    mask: usize,
    perturb: u64,
    linear: usize,
}

impl Probe {
    fn new(hash: u64, mask: usize) -> Probe {
        let i = hash as usize & mask;
        Probe { i, mask, perturb: hash, linear: linear_run(i, mask) }
    }

    /// The slot to look at, then the next one.
    fn next_slot(&mut self, step: &mut usize) -> usize {
        let slot = self.i + *step;
        if *step < self.linear {
            *step += 1;
        } else {
            self.perturb >>= PERTURB_SHIFT;
            self.i = (self.i.wrapping_mul(5).wrapping_add(1).wrapping_add(self.perturb as usize)) & self.mask;
            self.linear = linear_run(self.i, self.mask);
            *step = 0;
        }
        slot
    }
}

/// How many slots after `i` are probed linearly before jumping.
fn linear_run(i: usize, mask: usize) -> usize {
    if i + LINEAR_PROBES <= mask { LINEAR_PROBES } else { 0 }
}

/// Whether live slot `i` of the set holds a key equal to `key` (which has `hash`). May run
/// Python code (`__eq__`).
fn slot_matches(vm: &mut Vm, sr: Root, i: usize, key: Ref, hash: u64) -> Res<bool> {
    let s = vm.get(sr);
    if hash_at(vm, s, i) != hash {
        return Ok(false);
    }
    let k = key_at(vm, s, i);
    if k.is_null() {
        return Ok(false);
    }
    Ok(k == key || crate::ops::eq(vm, k, key)?)
}

/// The slot holding `key`, or `None`.
fn lookup(vm: &mut Vm, sr: Root, kr: Root, hash: u64) -> Res<Option<usize>> {
    let mask = table_size(vm, vm.get(sr)) - 1;
    let mut probe = Probe::new(hash, mask);
    let mut step = 0;
    loop {
        let i = probe.next_slot(&mut step);
        let s = vm.get(sr);
        if key_at(vm, s, i).is_null() && hash_at(vm, s, i) != DUMMY {
            return Ok(None);
        }
        if slot_matches(vm, sr, i, vm.get(kr), hash)? {
            return Ok(Some(i));
        }
        if table_size(vm, vm.get(sr)) - 1 != mask {
            // `__eq__` resized the set: start over.
            return lookup(vm, sr, kr, hash);
        }
    }
}

/// `set_add_entry`: adds `key` (with `hash`) unless an equal key is present.
fn add_entry(vm: &mut Vm, sr: Root, kr: Root, hash: u64) -> Res<()> {
    let mask = table_size(vm, vm.get(sr)) - 1;
    let mut probe = Probe::new(hash, mask);
    let mut step = 0;
    let mut free_slot = None;
    let unused = loop {
        let i = probe.next_slot(&mut step);
        let s = vm.get(sr);
        let h = hash_at(vm, s, i);
        if key_at(vm, s, i).is_null() {
            if h != DUMMY {
                break i;
            }
            free_slot = Some(i);
            continue;
        }
        if slot_matches(vm, sr, i, vm.get(kr), hash)? {
            return Ok(());
        }
        if table_size(vm, vm.get(sr)) - 1 != mask {
            return add_entry(vm, sr, kr, hash);
        }
    };
    let s = vm.get(sr);
    let live = len(vm, s) + 1;
    vm.heap.set_word(s, L::SET_LIVE, live as u64);
    if let Some(slot) = free_slot {
        put(vm, s, slot, vm.get(kr), hash);
        return Ok(());
    }
    put(vm, s, unused, vm.get(kr), hash);
    let filled = fill(vm, s) + 1;
    vm.heap.set_word(s, L::SET_FILL, filled as u64);
    if filled * 5 < mask * 3 {
        return Ok(());
    }
    resize(vm, sr, if live > 50_000 { live * 2 } else { live * 4 })
}

/// `set_insert_clean`: puts a key known to be absent into a table without dummies.
fn insert_clean(vm: &mut Vm, s: Ref, key: Ref, hash: u64) {
    let mask = table_size(vm, s) - 1;
    let mut probe = Probe::new(hash, mask);
    let mut step = 0;
    loop {
        let i = probe.next_slot(&mut step);
        if key_at(vm, s, i).is_null() {
            put(vm, s, i, key, hash);
            return;
        }
    }
}

/// Rebuilds the table with the smallest power of two above `min_used` slots, dropping
/// dummies; keys go in in the old table's order.
fn resize(vm: &mut Vm, sr: Root, min_used: usize) -> Res<()> {
    let mut size = MIN_SIZE;
    while size <= min_used {
        size <<= 1;
    }
    let s = vm.get(sr);
    if size == MIN_SIZE && table_size(vm, s) == MIN_SIZE && fill(vm, s) == len(vm, s) {
        // A small table without deleted slots stays as it is (CPython keeps its inline table).
        return Ok(());
    }
    let old_keys = vm.root(vm.heap.field(s, L::SET_KEYS));
    let old_hashes = vm.root(vm.heap.field(s, L::SET_HASHES));
    let live = len(vm, s);
    install_table(vm, sr, size)?;
    let s = vm.get(sr);
    let (keys, hashes) = (vm.get(old_keys), vm.get(old_hashes));
    for i in 0..vm.heap.len(keys) {
        let k = vm.heap.field(keys, L::ITEMS + i);
        if !k.is_null() {
            let h = vm.heap.word(hashes, L::ITEMS + i);
            insert_clean(vm, s, k, h);
        }
    }
    vm.heap.set_word(s, L::SET_LIVE, live as u64);
    vm.heap.set_word(s, L::SET_FILL, live as u64);
    Ok(())
}

pub fn add(vm: &mut Vm, s: Ref, key: Ref) -> Res<()> {
    let sr = vm.root(s);
    let kr = vm.root(key);
    let hash = crate::ops::hash(vm, key)?;
    add_entry(vm, sr, kr, hash)
}

pub fn contains(vm: &mut Vm, s: Ref, key: Ref) -> Res<bool> {
    let sr = vm.root(s);
    let kr = vm.root(key);
    let hash = crate::ops::hash(vm, key)?;
    Ok(lookup(vm, sr, kr, hash)?.is_some())
}

/// Removes `key`; whether it was there.
pub fn discard(vm: &mut Vm, s: Ref, key: Ref) -> Res<bool> {
    let sr = vm.root(s);
    let kr = vm.root(key);
    let hash = crate::ops::hash(vm, key)?;
    discard_entry(vm, sr, kr, hash)
}

fn discard_entry(vm: &mut Vm, sr: Root, kr: Root, hash: u64) -> Res<bool> {
    let Some(i) = lookup(vm, sr, kr, hash)? else { return Ok(false) };
    let s = vm.get(sr);
    put(vm, s, i, Ref::NULL, DUMMY);
    let live = len(vm, s) - 1;
    vm.heap.set_word(s, L::SET_LIVE, live as u64);
    Ok(true)
}

pub fn remove(vm: &mut Vm, s: Ref, key: Ref) -> Res<()> {
    let kr = vm.root(key);
    if !discard(vm, s, key)? {
        return crate::exceptions::raise_key_error(vm, vm.get(kr));
    }
    Ok(())
}

pub fn clear(vm: &mut Vm, s: Ref) -> Res<()> {
    let sr = vm.root(s);
    install_table(vm, sr, MIN_SIZE)
}

/// `set.pop()`: the first live slot from the finger on, as CPython picks it.
pub fn pop(vm: &mut Vm, s: Ref) -> Res<Ref> {
    if len(vm, s) == 0 {
        return vm.raise(Exc::KeyError, "pop from an empty set");
    }
    let size = table_size(vm, s);
    let mut i = vm.heap.word(s, L::SET_FINGER) as usize & (size - 1);
    while key_at(vm, s, i).is_null() {
        i = (i + 1) % size;
    }
    let key = key_at(vm, s, i);
    put(vm, s, i, Ref::NULL, DUMMY);
    vm.heap.set_word(s, L::SET_LIVE, len(vm, s) as u64 - 1);
    vm.heap.set_word(s, L::SET_FINGER, i as u64 + 1);
    Ok(key)
}

/// The live (key, hash) pairs of a set, in table order.
fn entries(vm: &Vm, s: Ref) -> Vec<(Ref, u64)> {
    (0..table_size(vm, s)).filter_map(|i| Some((key_at(vm, s, i), hash_at(vm, s, i))).filter(|(k, _)| !k.is_null())).collect()
}

/// Calls `f` with each live key of the set in `sr` (rooted) and its hash, in table order,
/// until `f` says stop (returns false); whether it went through. The table is re-read after
/// every call, since `f` may run Python code.
fn each_key(vm: &mut Vm, sr: Root, mut f: impl FnMut(&mut Vm, Root, u64) -> Res<bool>) -> Res<bool> {
    let mut i = 0;
    while i < table_size(vm, vm.get(sr)) {
        let s = vm.get(sr);
        let (k, h) = (key_at(vm, s, i), hash_at(vm, s, i));
        i += 1;
        if k.is_null() {
            continue;
        }
        // The key's root, and whatever `f` roots, live only for the call: a pass over a large
        // set keeps one root, not one per key.
        let mark = vm.roots_mark();
        let kr = vm.root(k);
        let go_on = f(vm, kr, h);
        vm.roots_reset(mark);
        if !go_on? {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Adds the keys of `other` (a set) to `s`, as `set_merge`.
fn merge(vm: &mut Vm, sr: Root, other: Ref) -> Res<()> {
    let or = vm.root(other);
    let s = vm.get(sr);
    if s == other || len(vm, other) == 0 {
        return Ok(());
    }
    let mask = table_size(vm, s) - 1;
    if (fill(vm, s) + len(vm, other)) * 5 >= mask * 3 {
        let want = (len(vm, s) + len(vm, other)) * 2;
        resize(vm, sr, want)?;
    }
    let (s, other) = (vm.get(sr), vm.get(or));
    if fill(vm, s) == 0 && table_size(vm, s) == table_size(vm, other) && fill(vm, other) == len(vm, other) {
        // Same size, no deleted slots: slot for slot.
        for i in 0..table_size(vm, other) {
            let (k, h) = (key_at(vm, other, i), hash_at(vm, other, i));
            put(vm, s, i, k, h);
        }
        let n = len(vm, other) as u64;
        vm.heap.set_word(s, L::SET_LIVE, n);
        vm.heap.set_word(s, L::SET_FILL, n);
        return Ok(());
    }
    if fill(vm, s) == 0 {
        // An empty table: no key can be present, so insert without comparing.
        let n = len(vm, other);
        for (k, h) in entries(vm, other) {
            insert_clean(vm, s, k, h);
        }
        vm.heap.set_word(s, L::SET_LIVE, n as u64);
        vm.heap.set_word(s, L::SET_FILL, n as u64);
        return Ok(());
    }
    each_key(vm, or, |vm, kr, h| add_entry(vm, sr, kr, h).map(|_| true))?;
    Ok(())
}

/// `set.update(iterable)` (`set_update_internal`): sets merge, dicts presize, anything
/// else is iterated.
pub fn update(vm: &mut Vm, s: Ref, iterable: Ref) -> Res<()> {
    let sr = vm.root(s);
    match vm.layout(iterable) {
        L::SET => merge(vm, sr, iterable),
        L::DICT => {
            let dr = vm.root(iterable);
            let n = crate::dict::len(vm, iterable);
            let s = vm.get(sr);
            if (fill(vm, s) + n) * 5 >= (table_size(vm, s) - 1) * 3 {
                let want = (len(vm, s) + n) * 2;
                resize(vm, sr, want)?;
            }
            let mut i = 0;
            while i < crate::dict::slots(vm, vm.get(dr)) {
                let (k, _) = crate::dict::entry(vm, vm.get(dr), i);
                i += 1;
                if !k.is_null() {
                    add(vm, vm.get(sr), k)?;
                }
            }
            Ok(())
        }
        _ => {
            let it = crate::iter::get_iter(vm, iterable)?;
            let ir = vm.root(it);
            while let Some(k) = crate::iter::next(vm, vm.get(ir))? {
                add(vm, vm.get(sr), k)?;
            }
            Ok(())
        }
    }
}

/// A new set with the items of `iterable`.
pub fn from_iterable(vm: &mut Vm, iterable: Ref) -> Res<Ref> {
    let ir = vm.root(iterable);
    let s = new(vm)?;
    let sr = vm.root(s);
    update(vm, s, vm.get(ir))?;
    Ok(vm.get(sr))
}

pub fn copy(vm: &mut Vm, s: Ref) -> Res<Ref> {
    from_iterable(vm, s)
}

/// `a | b`.
pub fn union(vm: &mut Vm, a: Ref, b: Ref) -> Res<Ref> {
    let br = vm.root(b);
    let r = copy(vm, a)?;
    let rr = vm.root(r);
    update(vm, r, vm.get(br))?;
    Ok(vm.get(rr))
}

/// `a & b`: iterates the smaller set and keeps what the larger holds.
pub fn intersection(vm: &mut Vm, a: Ref, b: Ref) -> Res<Ref> {
    if a == b {
        return copy(vm, a);
    }
    let (big, small) = if len(vm, b) > len(vm, a) { (b, a) } else { (a, b) };
    let bigr = vm.root(big);
    let smallr = vm.root(small);
    let r = new(vm)?;
    let rr = vm.root(r);
    each_key(vm, smallr, |vm, kr, h| {
        if lookup(vm, bigr, kr, h)?.is_some() {
            add_entry(vm, rr, kr, h)?;
        }
        Ok(true)
    })?;
    Ok(vm.get(rr))
}

/// `a - b`: a copy of `a` with `b`'s keys discarded when `a` is much the larger, else the
/// keys of `a` that `b` lacks.
pub fn difference(vm: &mut Vm, a: Ref, b: Ref) -> Res<Ref> {
    let ar = vm.root(a);
    let br = vm.root(b);
    if len(vm, a) >> 2 > len(vm, b) {
        let r = copy(vm, a)?;
        let rr = vm.root(r);
        difference_update(vm, r, vm.get(br))?;
        return Ok(vm.get(rr));
    }
    let r = new(vm)?;
    let rr = vm.root(r);
    each_key(vm, ar, |vm, kr, h| {
        if lookup(vm, br, kr, h)?.is_none() {
            add_entry(vm, rr, kr, h)?;
        }
        Ok(true)
    })?;
    Ok(vm.get(rr))
}

/// `s -= other`: discards the keys of `other`, then drops dummies past a quarter.
pub fn difference_update(vm: &mut Vm, s: Ref, other: Ref) -> Res<()> {
    let sr = vm.root(s);
    let other = if vm.layout(other) == L::SET { other } else { from_iterable(vm, other)? };
    let or = vm.root(other);
    if vm.get(sr) == other {
        return clear(vm, vm.get(sr));
    }
    each_key(vm, or, |vm, kr, h| discard_entry(vm, sr, kr, h).map(|_| true))?;
    let s = vm.get(sr);
    if fill(vm, s) - len(vm, s) <= (table_size(vm, s) - 1) / 4 {
        return Ok(());
    }
    let live = len(vm, s);
    resize(vm, sr, if live > 50_000 { live * 2 } else { live * 4 })
}

/// `a ^ b`: a copy of `b`, then each key of `a` toggled in it.
pub fn symmetric_difference(vm: &mut Vm, a: Ref, b: Ref) -> Res<Ref> {
    let ar = vm.root(a);
    let r = copy(vm, b)?;
    let rr = vm.root(r);
    symmetric_difference_update(vm, r, vm.get(ar))?;
    Ok(vm.get(rr))
}

/// `s ^= other`.
pub fn symmetric_difference_update(vm: &mut Vm, s: Ref, other: Ref) -> Res<()> {
    let sr = vm.root(s);
    if vm.get(sr) == other {
        return clear(vm, other);
    }
    let other = if vm.layout(other) == L::SET { other } else { from_iterable(vm, other)? };
    let or = vm.root(other);
    each_key(vm, or, |vm, kr, h| {
        if !discard_entry(vm, sr, kr, h)? {
            add_entry(vm, sr, kr, h)?;
        }
        Ok(true)
    })?;
    Ok(())
}

/// `s &= other`: the intersection's table replaces the set's own.
pub fn intersection_update(vm: &mut Vm, s: Ref, other: Ref) -> Res<()> {
    let sr = vm.root(s);
    let other = if vm.layout(other) == L::SET { other } else { from_iterable(vm, other)? };
    let r = intersection(vm, vm.get(sr), other)?;
    let s = vm.get(sr);
    for f in [L::SET_KEYS, L::SET_HASHES] {
        let v = vm.heap.field(r, f);
        vm.heap.set_field(s, f, v);
    }
    for w in [L::SET_LIVE, L::SET_FILL] {
        let v = vm.heap.word(r, w);
        vm.heap.set_word(s, w, v);
    }
    Ok(())
}

/// Whether every key of `a` is in `b`.
pub fn is_subset(vm: &mut Vm, a: Ref, b: Ref) -> Res<bool> {
    let ar = vm.root(a);
    let br = vm.root(b);
    if len(vm, a) > len(vm, b) {
        return Ok(false);
    }
    each_key(vm, ar, |vm, kr, h| Ok(lookup(vm, br, kr, h)?.is_some()))
}

/// The keys in iteration order, as a new list.
pub fn to_list(vm: &mut Vm, s: Ref) -> Res<Ref> {
    let sr = vm.root(s);
    let l = vm.new_list(len(vm, s))?;
    let lr = vm.root(l);
    each_key(vm, sr, |vm, kr, _| crate::list::append(vm, vm.get(lr), vm.get(kr)).map(|_| true))?;
    Ok(vm.get(lr))
}
