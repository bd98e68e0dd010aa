//! Type objects: the builtin types (one per layout that has a Python type, plus `object` and
//! `type`), the builtin exception hierarchy, and classes made by `class` statements (single
//! inheritance: the MRO is the chain of bases).

use crate::layout as L;
use crate::vm::{Res, Vm, EXCEPTIONS};
use tracelab_runtime::gc::{LayoutId, Ref};

/// `TYPE_FLAGS` bits.
pub const FLAG_HAS_SLOTS: u64 = 1;
pub const FLAG_EXCEPTION: u64 = 2;

const BUILTIN_TYPES: &[(LayoutId, &str)] = &[
    (L::NONE, "NoneType"),
    // `int` before `bool`, its subclass.
    (L::INT, "int"),
    (L::BOOL, "bool"),
    (L::FLOAT, "float"),
    (L::STR, "str"),
    (L::TUPLE, "tuple"),
    (L::LIST, "list"),
    (L::DICT, "dict"),
    (L::SET, "set"),
    (L::FUNCTION, "function"),
    (L::BUILTIN, "builtin_function_or_method"),
    (L::METHOD, "method"),
    (L::CELL, "cell"),
    (L::MODULE, "module"),
    (L::GENERATOR, "generator"),
    (L::SLICE, "slice"),
    (L::RANGE, "range"),
    (L::ITER, "iterator"),
    (L::DESCRIPTOR, "descriptor"),
    (L::STRINGIO, "StringIO"),
    (L::FILE, "TextIOWrapper"),
    (L::ARRAY, "array"),
    (L::ELLIPSIS, "ellipsis"),
    (L::NOTIMPL, "NotImplementedType"),
];

/// Makes a type object in the old generation at start-up.
fn prebuilt_type(vm: &mut Vm, name: &str, base: Ref, instance_layout: LayoutId) -> Ref {
    let heap = &mut vm.heap;
    let t = heap.alloc_old(L::TYPE, 0).expect("room for prebuilt types");
    let bytes = name.len();
    let s = heap.alloc_old(L::STR, bytes).expect("room");
    heap.set_word(s, L::STR_CHARS, name.chars().count() as u64);
    heap.bytes_mut(s, L::STR_BYTES).copy_from_slice(name.as_bytes());
    heap.set_field(t, L::TYPE_NAME, s);
    heap.set_field(t, L::TYPE_BASE, base);
    heap.set_word(t, L::TYPE_INSTANCE_LAYOUT, instance_layout.0 as u64);
    heap.push_root(t);
    let dict = crate::dict::new_old(vm, L::DICT);
    vm.heap.set_field(t, L::TYPE_DICT, dict);
    set_mro(vm, t, base);
    t
}

/// The MRO tuple of a type with base `base`: itself, then its base's MRO.
fn mro_len(vm: &Vm, base: Ref) -> usize {
    if base.is_null() {
        0
    } else {
        vm.heap.len(vm.heap.field(base, L::TYPE_MRO))
    }
}

fn set_mro(vm: &mut Vm, t: Ref, base: Ref) {
    let n = mro_len(vm, base) + 1;
    let mro = vm.heap.alloc_old(L::TUPLE, n).expect("room");
    vm.heap.set_field(mro, L::ITEMS, t);
    for i in 1..n {
        let b = vm.heap.field(vm.heap.field(base, L::TYPE_MRO), L::ITEMS + i - 1);
        vm.heap.set_field(mro, L::ITEMS + i, b);
    }
    vm.heap.set_field(t, L::TYPE_MRO, mro);
}

pub fn create_builtin_types(vm: &mut Vm) {
    let object = prebuilt_type(vm, "object", Ref::NULL, L::INSTANCE);
    vm.object_type = object;
    let type_type = prebuilt_type(vm, "type", object, L::TYPE);
    vm.type_type = type_type;
    vm.layout_types = vec![Ref::NULL; 64];
    vm.layout_types[L::TYPE.0 as usize] = type_type;
    vm.layout_types[L::INSTANCE.0 as usize] = object;
    let mut int_type = Ref::NULL;
    for &(layout, name) in BUILTIN_TYPES {
        let base = if layout == L::BOOL { int_type } else { object };
        let t = prebuilt_type(vm, name, base, layout);
        if layout == L::INT {
            int_type = t;
            vm.layout_types[L::LONG.0 as usize] = t;
        }
        vm.layout_types[layout.0 as usize] = t;
    }
    for &(name, base) in EXCEPTIONS {
        let base = if base.is_empty() { object } else { exc_by_name(vm, base) };
        let t = prebuilt_type(vm, name, base, L::INSTANCE);
        vm.heap.set_word(t, L::TYPE_FLAGS, FLAG_EXCEPTION);
        vm.exc_types.push(t);
    }
    vm.builtins = crate::dict::new_old(vm, L::DICT);
    vm.heap.push_root(vm.builtins);
}

fn exc_by_name(vm: &Vm, name: &str) -> Ref {
    let i = EXCEPTIONS.iter().position(|(n, _)| *n == name).expect("bases come first");
    vm.exc_types[i]
}

/// A new class: `name`, one base (or `object`), the namespace dict of its body.
pub fn new_class(vm: &mut Vm, name: Ref, base: Ref, namespace: Ref) -> Res<Ref> {
    let nr = vm.root(name);
    let br = vm.root(base);
    let dr = vm.root(namespace);
    let base = vm.get(br);
    let n = mro_len(vm, base) + 1;
    let mro = vm.new_tuple(n)?;
    let mr = vm.root(mro);
    let t = vm.alloc(L::TYPE, 0)?;
    let (name, base, ns, mro) = (vm.get(nr), vm.get(br), vm.get(dr), vm.get(mr));
    vm.heap.set_field(t, L::TYPE_NAME, name);
    vm.heap.set_field(t, L::TYPE_BASE, base);
    vm.heap.set_field(t, L::TYPE_DICT, ns);
    vm.heap.set_field(mro, L::ITEMS, t);
    let base_mro = vm.heap.field(base, L::TYPE_MRO);
    for i in 1..n {
        let b = vm.heap.field(base_mro, L::ITEMS + i - 1);
        vm.heap.set_field(mro, L::ITEMS + i, b);
    }
    vm.heap.set_field(t, L::TYPE_MRO, mro);
    let base_layout = vm.heap.word(base, L::TYPE_INSTANCE_LAYOUT);
    vm.heap.set_word(t, L::TYPE_INSTANCE_LAYOUT, base_layout);
    let base_flags = vm.heap.word(base, L::TYPE_FLAGS) & FLAG_EXCEPTION;
    vm.heap.set_word(t, L::TYPE_FLAGS, base_flags);
    Ok(t)
}

/// Looks `name` up along the MRO of type `t`.
pub fn lookup(vm: &Vm, t: Ref, name: &str) -> Option<Ref> {
    let mro = vm.heap.field(t, L::TYPE_MRO);
    for i in 0..vm.heap.len(mro) {
        let k = vm.heap.field(mro, L::ITEMS + i);
        let d = vm.heap.field(k, L::TYPE_DICT);
        if let Some(v) = crate::dict::get_str(vm, d, name) {
            return Some(v);
        }
    }
    None
}

/// [`lookup`] by symbol (no rehashing of the name).
pub fn lookup_sym(vm: &Vm, t: Ref, name: crate::vm::Sym) -> Option<Ref> {
    let mro = vm.heap.field(t, L::TYPE_MRO);
    (0..vm.heap.len(mro)).find_map(|i| vm.dict_get_sym(vm.heap.field(vm.heap.field(mro, L::ITEMS + i), L::TYPE_DICT), name))
}

/// The first type of the MRO of `t` after `after` (for `super()`), and the MRO position.
pub fn lookup_after(vm: &mut Vm, t: Ref, after: Ref, name: &str) -> Option<Ref> {
    let mro = vm.heap.field(t, L::TYPE_MRO);
    let n = vm.heap.len(mro);
    let start = (0..n).position(|i| vm.heap.field(mro, L::ITEMS + i) == after)? + 1;
    for i in start..n {
        let k = vm.heap.field(mro, L::ITEMS + i);
        let d = vm.heap.field(k, L::TYPE_DICT);
        if let Some(v) = crate::dict::get_str(vm, d, name) {
            return Some(v);
        }
    }
    None
}

/// Whether `t` is a builtin type (its instances are not `INSTANCE` objects with a class word).
pub fn is_builtin_layout(vm: &Vm, t: Ref) -> bool {
    vm.heap.word(t, L::TYPE_INSTANCE_LAYOUT) != L::INSTANCE.0 as u64
}
