//! Builtin functions, builtin types' constructors, and the methods of builtin types, as one
//! table of Rust functions (a `BUILTIN` object holds an index into it and, for a bound
//! method, its receiver). Arguments come rooted ([`Args`]): a builtin may allocate freely
//! and read them again.

use crate::bytecode::{BinOp, CodeId};
use crate::call::{self, Kw};
use crate::layout as L;
use crate::ops::{self, Num};
use crate::vm::{Exc, Res, Root, Sym, Vm};
use tracelab_runtime::gc::{LayoutId, Ref};

/// Arguments of a builtin call: positional (the receiver first for methods) and keywords.
pub struct Args<'a> {
    pub pos: &'a [Root],
    pub kw: Option<Kw<'a>>,
}

impl Args<'_> {
    pub fn len(&self) -> usize {
        self.pos.len()
    }

    pub fn is_empty(&self) -> bool {
        self.pos.is_empty()
    }

    pub fn get(&self, vm: &Vm, i: usize) -> Ref {
        vm.get(self.pos[i])
    }

    /// Keyword argument `name`, if given.
    pub fn kw(&self, vm: &Vm, name: &str) -> Option<Ref> {
        let kw = self.kw.as_ref()?;
        let names = vm.get(kw.names);
        (0..kw.values.len()).find(|&j| vm.str_of(vm.heap.field(names, L::ITEMS + j)) == name).map(|j| vm.get(kw.values[j]))
    }

    fn kw_count(&self) -> usize {
        self.kw.as_ref().map_or(0, |k| k.values.len())
    }

    fn no_kw(&self, vm: &mut Vm, name: &str) -> Res<()> {
        if self.kw_count() > 0 {
            return vm.type_error(format!("{name}() takes no keyword arguments"));
        }
        Ok(())
    }
}

pub type BuiltinFn = fn(&mut Vm, &Args) -> Res<Ref>;

pub struct Builtin {
    pub name: &'static str,
    pub f: BuiltinFn,
}

/// Every builtin function and method; an id is an index here.
pub fn table() -> &'static [(LayoutId, Builtin)] {
    &crate::methods::TABLE
}

pub fn builtin_name(vm: &Vm, b: Ref) -> &'static str {
    let id = vm.heap.word(b, L::BUILTIN_ID) as usize;
    table().get(id).map_or("?", |(_, b)| b.name)
}

/// The id of method `name` of builtin layout `layout`.
pub fn method_id(vm: &Vm, layout: LayoutId, name: Sym) -> Option<u32> {
    let layout = if layout == L::LONG { L::INT } else { layout };
    vm.method_table.get(&(layout.0, name)).copied()
}

pub fn bound_builtin(vm: &mut Vm, id: u32, obj: Ref) -> Res<Ref> {
    let or = vm.root(obj);
    let b = vm.alloc(L::BUILTIN, 0)?;
    vm.heap.set_word(b, L::BUILTIN_ID, id as u64);
    vm.heap.set_field(b, L::BUILTIN_SELF, vm.get(or));
    Ok(b)
}

/// Fills the builtins dict and the method table (at start-up).
pub fn install(vm: &mut Vm) -> Res<()> {
    for (id, (layout, b)) in table().iter().enumerate() {
        if *layout == L::NONE {
            let f = bound_builtin(vm, id as u32, Ref::NULL)?;
            let d = vm.builtins;
            crate::dict::set_str(vm, d, b.name, f)?;
        } else {
            let s = vm.sym(b.name);
            vm.method_table.insert((layout.0, s), id as u32);
        }
    }
    let types: Vec<(String, Ref)> = vm
        .layout_types
        .iter()
        .filter(|t| !t.is_null())
        .map(|&t| (vm.type_name(t).to_string(), t))
        .chain(vm.exc_types.iter().map(|&t| (vm.type_name(t).to_string(), t)))
        .collect();
    for (name, t) in types {
        let d = vm.builtins;
        crate::dict::set_str(vm, d, &name, t)?;
    }
    let (d, o) = (vm.builtins, vm.object_type);
    crate::dict::set_str(vm, d, "object", o)?;
    let t = vm.type_type;
    crate::dict::set_str(vm, d, "type", t)?;
    let none = vm.none;
    crate::dict::set_str(vm, d, "None", none)?;
    let e = vm.ellipsis;
    crate::dict::set_str(vm, d, "Ellipsis", e)?;
    let n = vm.not_implemented;
    crate::dict::set_str(vm, d, "NotImplemented", n)?;
    // BaseException.__init__ and object.__init__, reachable through super().
    let exc_init = table().iter().position(|(l, b)| *l == L::INSTANCE && b.name == "__init__").map(|i| i as u32);
    if let Some(id) = exc_init {
        let f = bound_builtin(vm, id, Ref::NULL)?;
        let base = vm.exc_type(Exc::BaseException);
        let bd = vm.heap.field(base, L::TYPE_DICT);
        crate::dict::set_str(vm, bd, "__init__", f)?;
    }
    let obj_init = table().iter().position(|(l, b)| *l == L::TYPE && b.name == "__init__").map(|i| i as u32);
    if let Some(id) = obj_init {
        let f = bound_builtin(vm, id, Ref::NULL)?;
        let od = vm.heap.field(vm.object_type, L::TYPE_DICT);
        crate::dict::set_str(vm, od, "__init__", f)?;
    }
    Ok(())
}

pub fn call_builtin(vm: &mut Vm, b: Ref, args: &[Root], kw: Option<Kw>) -> Res<Ref> {
    let id = vm.heap.word(b, L::BUILTIN_ID) as usize;
    let self_ = vm.heap.field(b, L::BUILTIN_SELF);
    let f = table()[id].1.f;
    if self_.is_null() {
        return f(vm, &Args { pos: args, kw });
    }
    let mut all = Vec::with_capacity(args.len() + 1);
    all.push(vm.root(self_));
    all.extend_from_slice(args);
    f(vm, &Args { pos: &all, kw })
}

/// Calling a class: builtin constructors, or a new instance and its `__init__`.
pub fn call_type(vm: &mut Vm, t: Ref, args: &[Root], kw: Option<Kw>) -> Res<Ref> {
    if crate::types::is_builtin_layout(vm, t) {
        let layout = LayoutId(vm.heap.word(t, L::TYPE_INSTANCE_LAYOUT) as u16);
        return crate::methods::construct(vm, t, layout, &Args { pos: args, kw });
    }
    let tr = vm.root(t);
    let o = crate::attr::new_instance(vm, t)?;
    let or = vm.root(o);
    let is_exc = vm.heap.word(vm.get(tr), L::TYPE_FLAGS) & crate::types::FLAG_EXCEPTION != 0;
    if is_exc {
        let a = vm.new_tuple_from(args)?;
        let s = vm.sym("args");
        crate::attr::set_instance_attr(vm, vm.get(or), s, a)?;
    }
    match crate::types::lookup(vm, vm.get(tr), "__init__") {
        Some(init) if vm.layout(init) == L::FUNCTION => {
            let m = crate::attr::new_method(vm, init, vm.get(or))?;
            let r = call::call_with(vm, m, args, kw)?;
            if r != vm.none {
                let tn = vm.type_name_of(r);
                return vm.type_error(format!("__init__() should return None, not '{tn}'"));
            }
        }
        _ => {
            if !is_exc && (!args.is_empty() || kw.is_some()) {
                let name = vm.type_name(vm.get(tr)).to_string();
                return vm.type_error(format!("{name}() takes no arguments"));
            }
        }
    }
    Ok(vm.get(or))
}

/// `MakeFunction`: the code constant on top; below it closure, kw-defaults, defaults.
/// A function object for code number `code_ref` (an int constant) with its closure cells,
/// keyword-only and positional defaults (null when absent) and globals.
pub fn make_function(vm: &mut Vm, code_ref: Ref, clo: Ref, kwd: Ref, defs: Ref, globals: Ref) -> Res<Ref> {
    let id = CodeId(ops::int_of(vm, code_ref).map_or(0, |n| match n {
        Num::Small(i) => i as u32,
        Num::Big(_) => 0,
    }));
    let roots = [vm.root(clo), vm.root(kwd), vm.root(defs), vm.root(globals)];
    let name = vm.codes[id.0 as usize].name.clone();
    let qual = vm.codes[id.0 as usize].qualname.clone();
    let n = vm.new_str(&name)?;
    let nr = vm.root(n);
    let q = vm.new_str(&qual)?;
    let qr = vm.root(q);
    let f = vm.alloc(L::FUNCTION, 0)?;
    vm.heap.set_word(f, L::FUNC_CODE, id.0 as u64);
    vm.heap.set_field(f, L::FUNC_CLOSURE, vm.get(roots[0]));
    vm.heap.set_field(f, L::FUNC_KWDEFAULTS, vm.get(roots[1]));
    vm.heap.set_field(f, L::FUNC_DEFAULTS, vm.get(roots[2]));
    vm.heap.set_field(f, L::FUNC_GLOBALS, vm.get(roots[3]));
    vm.heap.set_field(f, L::FUNC_NAME, vm.get(nr));
    vm.heap.set_field(f, L::FUNC_QUALNAME, vm.get(qr));
    Ok(f)
}

pub fn build_class_builtin(vm: &mut Vm) -> Res<Ref> {
    let id = table().iter().position(|(l, b)| *l == L::NONE && b.name == "__build_class__").unwrap_or(0);
    bound_builtin(vm, id as u32, Ref::NULL)
}

/// `__build_class__(body, name, *bases, **kw)`: runs the body in a fresh namespace.
pub fn build_class(vm: &mut Vm, a: &Args) -> Res<Ref> {
    if a.len() < 2 {
        return vm.type_error("__build_class__: not enough arguments");
    }
    if a.len() > 3 {
        return vm.type_error("minipy does not support multiple inheritance");
    }
    let body = a.get(vm, 0);
    let base = if a.len() == 3 { a.get(vm, 2) } else { vm.object_type };
    if vm.layout(base) != L::TYPE {
        return vm.type_error("bases must be types");
    }
    if crate::types::is_builtin_layout(vm, base) && base != vm.object_type {
        let n = vm.type_name(base).to_string();
        return vm.type_error(format!("minipy does not support subclassing the builtin type '{n}'"));
    }
    if a.kw.is_some() {
        return vm.type_error("minipy does not support metaclasses or class keywords");
    }
    if vm.layout(body) != L::FUNCTION {
        return vm.type_error("__build_class__: func must be a function");
    }
    let ns = crate::dict::new(vm, L::DICT)?;
    let nsr = vm.root(ns);
    let body = a.get(vm, 0);
    let id = CodeId(vm.heap.word(body, L::FUNC_CODE) as u32);
    let globals = vm.heap.field(body, L::FUNC_GLOBALS);
    let frame = call::namespace_frame(vm, id, globals, vm.get(nsr), a.get(vm, 0))?;
    let cell = crate::interp::run_nested(vm, frame)?;
    let cellr = vm.root(cell);
    let base = if a.len() == 3 { a.get(vm, 2) } else { vm.object_type };
    let t = crate::types::new_class(vm, a.get(vm, 1), base, vm.get(nsr))?;
    let tr = vm.root(t);
    // __slots__: recorded as a tuple of names on the class (read after the allocations above).
    if let Some(s) = crate::dict::get_str(vm, vm.get(nsr), "__slots__") {
        let s = if vm.layout(s) == L::STR {
            let sr = vm.root(s);
            vm.new_tuple_from(&[sr])?
        } else {
            crate::iter::to_tuple(vm, s)?
        };
        let t = vm.get(tr);
        vm.heap.set_field(t, L::TYPE_SLOTS, s);
        let flags = vm.heap.word(t, L::TYPE_FLAGS) | crate::types::FLAG_HAS_SLOTS;
        vm.heap.set_word(t, L::TYPE_FLAGS, flags);
    }
    let cell = vm.get(cellr);
    if vm.layout(cell) == L::CELL {
        vm.heap.set_field(cell, L::CELL_VALUE, vm.get(tr));
    }
    Ok(vm.get(tr))
}

/// `a - b`, `a & b`, `a | b`, `a ^ b` on sets.
pub fn set_op(vm: &mut Vm, a: Ref, b: Ref, op: BinOp) -> Res<Ref> {
    match op {
        BinOp::Sub => crate::set::difference(vm, a, b),
        BinOp::And => crate::set::intersection(vm, a, b),
        BinOp::Or => crate::set::union(vm, a, b),
        _ => crate::set::symmetric_difference(vm, a, b),
    }
}

/// An int argument of a builtin, as i64.
pub fn int_arg(vm: &mut Vm, r: Ref, what: &str) -> Res<i64> {
    match ops::int_of(vm, r) {
        Some(Num::Small(i)) => Ok(i),
        Some(Num::Big(_)) => vm.raise(Exc::OverflowError, "Python int too large to convert to C long"),
        None => {
            if let Some(v) = ops::call_dunder(vm, r, "__index__", &[])? {
                return int_arg(vm, v, what);
            }
            let t = vm.type_name_of(r);
            vm.type_error(format!("'{t}' object cannot be interpreted as an integer{what}"))
        }
    }
}

pub fn str_arg<'v>(vm: &'v mut Vm, r: Ref, what: &str) -> Res<String> {
    if vm.layout(r) != L::STR {
        let t = vm.type_name_of(r);
        return vm.type_error(format!("{what} must be str, not {t}"));
    }
    Ok(vm.str_of(r).to_string())
}

pub fn no_kw(vm: &mut Vm, a: &Args, name: &str) -> Res<()> {
    a.no_kw(vm, name)
}
