//! Attributes: instances keep theirs in a storage array indexed by their map; classes and
//! modules in dicts; builtin types' methods come from the builtin method table. Lookup follows
//! Python's order: data descriptors (properties) on the type, the instance's own attributes,
//! then the type's attributes (functions bind to the instance).

use crate::layout as L;
use crate::maps::{MapId, Maps};
use crate::vm::{Exc, Res, Sym, Vm};
use tracelab_runtime::gc::Ref;

/// Descriptor kinds (`DESC_KIND`).
pub const PROPERTY: u64 = 1;
pub const STATICMETHOD: u64 = 2;
pub const CLASSMETHOD: u64 = 3;

pub fn new_instance(vm: &mut Vm, class: Ref) -> Res<Ref> {
    let cr = vm.root(class);
    let storage = vm.alloc(L::REFARRAY, 4)?;
    let sr = vm.root(storage);
    let o = vm.alloc(L::INSTANCE, 0)?;
    let (class, storage) = (vm.get(cr), vm.get(sr));
    vm.heap.set_field(o, L::INST_CLASS, class);
    vm.heap.set_field(o, L::INST_STORAGE, storage);
    vm.heap.set_word(o, L::INST_MAP, Maps::EMPTY.0 as u64);
    Ok(o)
}

fn map_of(vm: &Vm, o: Ref) -> MapId {
    MapId(vm.heap.word(o, L::INST_MAP) as u32)
}

pub fn instance_attr(vm: &Vm, o: Ref, name: Sym) -> Option<Ref> {
    let i = vm.maps.lookup(map_of(vm, o), name)?;
    let storage = vm.heap.field(o, L::INST_STORAGE);
    Some(vm.heap.field(storage, L::ITEMS + i))
}

pub fn set_instance_attr(vm: &mut Vm, o: Ref, name: Sym, v: Ref) -> Res<()> {
    let map = map_of(vm, o);
    if let Some(i) = vm.maps.lookup(map, name) {
        let storage = vm.heap.field(o, L::INST_STORAGE);
        vm.heap.set_field(storage, L::ITEMS + i, v);
        return Ok(());
    }
    let next = vm.maps.with(map, name);
    let i = vm.maps.attrs(next).len() - 1;
    let cap = vm.heap.len(vm.heap.field(o, L::INST_STORAGE));
    let (o, v) = if i >= cap {
        let or = vm.root(o);
        let vr = vm.root(v);
        let fresh = vm.alloc(L::REFARRAY, cap * 2)?;
        let o = vm.get(or);
        let old = vm.heap.field(o, L::INST_STORAGE);
        vm.heap.copy_refs(old, L::ITEMS, fresh, L::ITEMS, cap);
        vm.heap.set_field(o, L::INST_STORAGE, fresh);
        (o, vm.get(vr))
    } else {
        (o, v)
    };
    let storage = vm.heap.field(o, L::INST_STORAGE);
    vm.heap.set_field(storage, L::ITEMS + i, v);
    vm.heap.set_word(o, L::INST_MAP, next.0 as u64);
    Ok(())
}

fn del_instance_attr(vm: &mut Vm, o: Ref, name: Sym) -> bool {
    let (map, Some(pos)) = vm.maps.without(map_of(vm, o), name) else { return false };
    let storage = vm.heap.field(o, L::INST_STORAGE);
    let n = vm.maps.attrs(map).len();
    vm.heap.copy_refs(storage, L::ITEMS + pos + 1, storage, L::ITEMS + pos, n - pos);
    vm.heap.set_field(storage, L::ITEMS + n, Ref::NULL);
    vm.heap.set_word(o, L::INST_MAP, map.0 as u64);
    true
}

/// `getattr(obj, name)`, raising `AttributeError` when missing.
pub fn get(vm: &mut Vm, obj: Ref, name: Sym) -> Res<Ref> {
    match lookup(vm, obj, name)? {
        Some(v) => Ok(v),
        None => raise_missing(vm, obj, name),
    }
}

pub fn raise_missing<T>(vm: &mut Vm, obj: Ref, name: Sym) -> Res<T> {
    let n = vm.sym_name(name).to_string();
    if vm.layout(obj) == L::TYPE {
        let t = vm.type_name(obj).to_string();
        return vm.raise(Exc::AttributeError, format!("type object '{t}' has no attribute '{n}'"));
    }
    if vm.layout(obj) == L::MODULE {
        let m = vm.str_of(vm.heap.field(obj, L::MODULE_NAME)).to_string();
        return vm.raise(Exc::AttributeError, format!("module '{m}' has no attribute '{n}'"));
    }
    let t = vm.type_name_of(obj);
    vm.raise(Exc::AttributeError, format!("'{t}' object has no attribute '{n}'"))
}

/// `getattr` without raising for a missing attribute (it may raise for other reasons).
pub fn lookup(vm: &mut Vm, obj: Ref, name: Sym) -> Res<Option<Ref>> {
    let layout = vm.layout(obj);
    if layout == L::MODULE {
        let d = vm.heap.field(obj, L::MODULE_DICT);
        return Ok(vm.dict_get_sym(d, name));
    }
    if layout == L::TYPE {
        return class_attr(vm, obj, name);
    }
    if layout == L::DESCRIPTOR && vm.heap.word(obj, L::DESC_KIND) == crate::methods::SUPER {
        let n = vm.sym_name(name).to_string();
        return crate::methods::super_attr(vm, obj, &n);
    }
    let t = vm.type_of(obj);
    if layout == L::FUNCTION && !vm.heap.field(obj, L::FUNC_DICT).is_null() {
        let d = vm.heap.field(obj, L::FUNC_DICT);
        if let Some(v) = vm.dict_get_sym(d, name) {
            return Ok(Some(v));
        }
    }
    let on_type = crate::types::lookup_sym(vm, t, name);
    if let Some(d) = on_type {
        if vm.layout(d) == L::DESCRIPTOR && vm.heap.word(d, L::DESC_KIND) == PROPERTY {
            let getter = vm.heap.field(d, L::DESC_A);
            let or = vm.root(obj);
            return crate::call::call_function(vm, getter, &[or]).map(Some);
        }
    }
    if layout == L::INSTANCE {
        if let Some(v) = instance_attr(vm, obj, name) {
            return Ok(Some(v));
        }
    }
    // Past the fast paths: the special names, by their text.
    let n = vm.sym_name(name).to_string();
    if layout == L::INSTANCE {
        if n == "__class__" {
            return Ok(Some(t));
        }
        if n == "__dict__" {
            return instance_dict(vm, obj).map(Some);
        }
        if matches!(n.as_str(), "__cause__" | "__context__" | "__traceback__") && crate::exceptions::is_exception(vm, obj) {
            return Ok(Some(vm.none));
        }
        if n == "value" && vm.isinstance(obj, vm.exc_type(crate::vm::Exc::StopIteration)) {
            let args = crate::exceptions::args_of(vm, obj);
            let first = if vm.layout(args) == L::TUPLE && vm.heap.len(args) > 0 { vm.heap.field(args, L::ITEMS) } else { vm.none };
            return Ok(Some(first));
        }
    }
    if let Some(v) = on_type {
        return bind(vm, v, obj, t).map(Some);
    }
    if let Some(id) = crate::builtins::method_id(vm, layout, name) {
        return crate::builtins::bound_builtin(vm, id, obj).map(Some);
    }
    special_attr(vm, obj, &n)
}

/// Attributes every object of some builtin kind has.
fn special_attr(vm: &mut Vm, obj: Ref, n: &str) -> Res<Option<Ref>> {
    let layout = vm.layout(obj);
    Ok(match (layout, n) {
        (_, "__class__") => Some(vm.type_of(obj)),
        (L::FUNCTION, "__name__") => Some(vm.heap.field(obj, L::FUNC_NAME)),
        (L::FUNCTION, "__qualname__") => Some(vm.heap.field(obj, L::FUNC_QUALNAME)),
        (L::BUILTIN, "__name__") => {
            let name = crate::builtins::builtin_name(vm, obj);
            Some(vm.new_str(name)?)
        }
        (L::METHOD, "__self__") => Some(vm.heap.field(obj, L::METHOD_SELF)),
        (L::METHOD, "__func__") => Some(vm.heap.field(obj, L::METHOD_FUNC)),
        (L::INT | L::LONG | L::BOOL, "real" | "numerator") => Some(obj),
        (L::INT | L::LONG | L::BOOL, "imag") => Some(vm.new_int(0)?),
        (L::INT | L::LONG | L::BOOL, "denominator") => Some(vm.new_int(1)?),
        (L::FLOAT, "real") => Some(obj),
        (L::FLOAT, "imag") => Some(vm.new_float(0.0)?),
        (L::SLICE, "start") => Some(vm.heap.field(obj, L::SLICE_START)),
        (L::SLICE, "stop") => Some(vm.heap.field(obj, L::SLICE_STOP)),
        (L::SLICE, "step") => Some(vm.heap.field(obj, L::SLICE_STEP)),
        (L::RANGE, "start" | "stop" | "step") => {
            let i = match n { "start" => L::SLICE_START, "stop" => L::SLICE_STOP, _ => L::SLICE_STEP };
            Some(vm.new_int(vm.heap.word(obj, i) as i64)?)
        }
        (L::FILE, "closed") => {
            let id = vm.heap.word(obj, L::FILE_ID) as usize;
            let open = id >= crate::modules::STDERR as usize || vm.files.get(id).is_some();
            Some(vm.bool(!open))
        }
        (L::ARRAY, "typecode") => {
            let code = vm.heap.word(obj, L::ARRAY_TYPECODE) as u8 as char;
            Some(vm.new_str(&code.to_string())?)
        }
        (L::FUNCTION, "__dict__") => {
            let d = vm.heap.field(obj, L::FUNC_DICT);
            Some(if d.is_null() { crate::dict::new(vm, L::DICT)? } else { d })
        }
        (L::GENERATOR, "__name__") => Some(vm.heap.field(obj, L::GEN_NAME)),
        _ => None,
    })
}

fn instance_dict(vm: &mut Vm, obj: Ref) -> Res<Ref> {
    let or = vm.root(obj);
    let d = crate::dict::new(vm, L::DICT)?;
    let dr = vm.root(d);
    let attrs: Vec<Sym> = vm.maps.attrs(map_of(vm, vm.get(or))).to_vec();
    for s in attrs {
        let v = instance_attr(vm, vm.get(or), s).unwrap_or(vm.none);
        let name = vm.sym_name(s).to_string();
        crate::dict::set_str(vm, vm.get(dr), &name, v)?;
    }
    Ok(vm.get(dr))
}

/// An attribute found on type `t` as seen through `obj`: functions bind, descriptors apply.
pub fn bind(vm: &mut Vm, v: Ref, obj: Ref, t: Ref) -> Res<Ref> {
    match vm.layout(v) {
        L::FUNCTION => new_method(vm, v, obj),
        L::BUILTIN if vm.heap.field(v, L::BUILTIN_SELF).is_null() => {
            let id = vm.heap.word(v, L::BUILTIN_ID) as u32;
            crate::builtins::bound_builtin(vm, id, obj)
        }
        L::DESCRIPTOR => match vm.heap.word(v, L::DESC_KIND) {
            STATICMETHOD => Ok(vm.heap.field(v, L::DESC_A)),
            CLASSMETHOD => {
                let f = vm.heap.field(v, L::DESC_A);
                new_method(vm, f, t)
            }
            _ => Ok(v),
        },
        _ => Ok(v),
    }
}

pub fn new_method(vm: &mut Vm, f: Ref, obj: Ref) -> Res<Ref> {
    let fr = vm.root(f);
    let or = vm.root(obj);
    let m = vm.alloc(L::METHOD, 0)?;
    let (f, obj) = (vm.get(fr), vm.get(or));
    vm.heap.set_field(m, L::METHOD_FUNC, f);
    vm.heap.set_field(m, L::METHOD_SELF, obj);
    Ok(m)
}

/// An attribute of a class: along its MRO; functions stay unbound, classmethods bind to it.
pub fn class_attr(vm: &mut Vm, t: Ref, name: Sym) -> Res<Option<Ref>> {
    let n = vm.sym_name(name).to_string();
    if let Some(v) = crate::types::lookup(vm, t, &n) {
        if vm.layout(v) == L::DESCRIPTOR {
            return match vm.heap.word(v, L::DESC_KIND) {
                STATICMETHOD => Ok(Some(vm.heap.field(v, L::DESC_A))),
                CLASSMETHOD => {
                    let f = vm.heap.field(v, L::DESC_A);
                    new_method(vm, f, t).map(Some)
                }
                _ => Ok(Some(v)),
            };
        }
        return Ok(Some(v));
    }
    match n.as_str() {
        "__name__" | "__qualname__" => Ok(Some(vm.heap.field(t, L::TYPE_NAME))),
        "__base__" => Ok(Some(vm.heap.field(t, L::TYPE_BASE)).filter(|b| !b.is_null()).or(Some(vm.none))),
        "__mro__" => Ok(Some(vm.heap.field(t, L::TYPE_MRO))),
        "__bases__" => {
            let base = vm.heap.field(t, L::TYPE_BASE);
            if base.is_null() {
                return Ok(Some(vm.empty_tuple));
            }
            let br = vm.root(base);
            vm.new_tuple_from(&[br]).map(Some)
        }
        "__class__" => Ok(Some(vm.type_type)),
        _ => {
            // Methods of builtin types, unbound (`str.join`, `list.append`).
            let layout = tracelab_runtime::gc::LayoutId(vm.heap.word(t, L::TYPE_INSTANCE_LAYOUT) as u16);
            match crate::builtins::method_id(vm, layout, name) {
                Some(id) => crate::builtins::bound_builtin(vm, id, Ref::NULL).map(Some),
                None => Ok(None),
            }
        }
    }
}

/// `setattr(obj, name, v)`.
pub fn set(vm: &mut Vm, obj: Ref, name: Sym, v: Ref) -> Res<()> {
    match vm.layout(obj) {
        L::INSTANCE => {
            let t = vm.type_of(obj);
            let n = vm.sym_name(name).to_string();
            if let Some(d) = crate::types::lookup(vm, t, &n) {
                if vm.layout(d) == L::DESCRIPTOR && vm.heap.word(d, L::DESC_KIND) == PROPERTY {
                    let setter = vm.heap.field(d, L::DESC_B);
                    if setter.is_null() || setter == vm.none {
                        let tn = vm.type_name(t).to_string();
                        return vm.raise(Exc::AttributeError, format!("property '{n}' of '{tn}' object has no setter"));
                    }
                    let or = vm.root(obj);
                    let vr = vm.root(v);
                    crate::call::call_function(vm, setter, &[or, vr])?;
                    return Ok(());
                }
            }
            if vm.heap.word(t, L::TYPE_FLAGS) & crate::types::FLAG_HAS_SLOTS != 0 && !slot_allowed(vm, t, &n) {
                let tn = vm.type_name(t).to_string();
                return vm.raise(Exc::AttributeError, format!("'{tn}' object has no attribute '{n}'"));
            }
            set_instance_attr(vm, obj, name, v)
        }
        L::TYPE => {
            let d = vm.heap.field(obj, L::TYPE_DICT);
            let n = vm.sym_name(name).to_string();
            crate::dict::set_str(vm, d, &n, v)
        }
        L::MODULE => {
            let d = vm.heap.field(obj, L::MODULE_DICT);
            let n = vm.sym_name(name).to_string();
            crate::dict::set_str(vm, d, &n, v)
        }
        L::FUNCTION => {
            let fr = vm.root(obj);
            let vr = vm.root(v);
            if vm.heap.field(obj, L::FUNC_DICT).is_null() {
                let d = crate::dict::new(vm, L::DICT)?;
                vm.heap.set_field(vm.get(fr), L::FUNC_DICT, d);
            }
            let d = vm.heap.field(vm.get(fr), L::FUNC_DICT);
            let n = vm.sym_name(name).to_string();
            crate::dict::set_str(vm, d, &n, vm.get(vr))
        }
        _ => {
            let t = vm.type_name_of(obj);
            let n = vm.sym_name(name).to_string();
            vm.raise(Exc::AttributeError, format!("'{t}' object has no attribute '{n}'"))
        }
    }
}

/// Whether `__slots__` of `t` or a base allows attribute `n`.
fn slot_allowed(vm: &mut Vm, t: Ref, n: &str) -> bool {
    let mro = vm.heap.field(t, L::TYPE_MRO);
    for i in 0..vm.heap.len(mro) {
        let k = vm.heap.field(mro, L::ITEMS + i);
        if vm.heap.word(k, L::TYPE_FLAGS) & crate::types::FLAG_HAS_SLOTS == 0 {
            if k != vm.object_type {
                return true;
            }
            continue;
        }
        let slots = vm.heap.field(k, L::TYPE_SLOTS);
        if (0..vm.heap.len(slots)).any(|j| vm.str_of(vm.heap.field(slots, L::ITEMS + j)) == n) {
            return true;
        }
    }
    false
}

pub fn delete(vm: &mut Vm, obj: Ref, name: Sym) -> Res<()> {
    if vm.layout(obj) == L::INSTANCE && del_instance_attr(vm, obj, name) {
        return Ok(());
    }
    if vm.layout(obj) == L::TYPE {
        let or = vm.root(obj);
        let n = vm.sym_name(name).to_string();
        let k = vm.new_str(&n)?;
        let d = vm.heap.field(vm.get(or), L::TYPE_DICT);
        if crate::dict::remove(vm, d, k, false)?.is_some() {
            return Ok(());
        }
        return raise_missing(vm, vm.get(or), name);
    }
    raise_missing(vm, obj, name)
}
