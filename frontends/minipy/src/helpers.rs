//! The runtime helpers traces call, in the one calling convention [`crate::effects::HelperFn`]
//! gives them: words in, a word out (a reference as its index, an int as its bits, a bool as
//! 0 or 1, 0 for nothing). The interpreter calls them through [`crate::exec::Exec::call`] too,
//! so what a trace calls is exactly what the interpreter ran. Each is a thin adapter over the
//! runtime function that does the work; their effects are declared in [`crate::effects`].

use crate::bytecode::{BinOp, CmpOp, UnOp};
use crate::vm::{Exc, Res, Sym, Vm};
use tracelab_runtime::gc::Ref;

fn r(w: u64) -> Ref {
    Ref(w as u32)
}

fn w(r: Ref) -> u64 {
    r.0 as u64
}

fn sym(w: u64) -> Sym {
    Sym(w as u32)
}

/// A green operand out of range means the trace was built wrong; raising beats a panic.
fn bad_operand(vm: &mut Vm, what: &str) -> Res<u64> {
    vm.raise(Exc::RuntimeError, format!("internal error: bad {what} operand in a helper call"))
}

pub fn list_append(vm: &mut Vm, a: &[u64]) -> Res<u64> {
    crate::list::append(vm, r(a[0]), r(a[1]))?;
    Ok(0)
}

pub fn dict_lookup_str(vm: &mut Vm, a: &[u64]) -> Res<u64> {
    let (d, key) = (r(a[0]), r(a[1]));
    let text = vm.str_of(key).to_string();
    Ok(crate::dict::get_str(vm, d, &text).map_or(0, w))
}

pub fn store_global(vm: &mut Vm, a: &[u64]) -> Res<u64> {
    crate::dict::set(vm, r(a[0]), r(a[1]), r(a[2]))?;
    Ok(0)
}

pub fn load_global(vm: &mut Vm, a: &[u64]) -> Res<u64> {
    let (globals, name) = (r(a[0]), sym(a[1]));
    if let Some(v) = vm.dict_get_sym(globals, name) {
        return Ok(w(v));
    }
    if let Some(v) = vm.dict_get_sym(vm.builtins, name) {
        return Ok(w(v));
    }
    let n = vm.sym_name(name).to_string();
    vm.raise(Exc::NameError, format!("name '{n}' is not defined"))
}

pub fn binary(vm: &mut Vm, a: &[u64]) -> Res<u64> {
    let Some(&op) = BinOp::ALL.get(a[2] as usize / 2) else { return bad_operand(vm, "operator") };
    crate::ops::binary(vm, r(a[0]), r(a[1]), op, a[2] % 2 == 1).map(w)
}

pub fn compare(vm: &mut Vm, a: &[u64]) -> Res<u64> {
    let Some(&op) = CmpOp::ALL.get(a[2] as usize) else { return bad_operand(vm, "comparison") };
    crate::ops::compare(vm, r(a[0]), r(a[1]), op).map(w)
}

pub fn unary(vm: &mut Vm, a: &[u64]) -> Res<u64> {
    let Some(&op) = UnOp::ALL.get(a[1] as usize) else { return bad_operand(vm, "operator") };
    crate::ops::unary(vm, r(a[0]), op).map(w)
}

pub fn contains(vm: &mut Vm, a: &[u64]) -> Res<u64> {
    crate::ops::contains(vm, r(a[1]), r(a[0])).map(u64::from)
}

pub fn truthy(vm: &mut Vm, a: &[u64]) -> Res<u64> {
    crate::ops::truthy(vm, r(a[0])).map(u64::from)
}

pub fn class_shadows_attr(vm: &mut Vm, a: &[u64]) -> Res<u64> {
    let t = vm.type_of(r(a[0]));
    Ok(crate::types::lookup_sym(vm, t, sym(a[1])).is_some_and(|d| vm.layout(d) == crate::layout::DESCRIPTOR) as u64)
}

pub fn getattr(vm: &mut Vm, a: &[u64]) -> Res<u64> {
    crate::interp::load_attr(vm, r(a[0]), sym(a[1])).map(w)
}

pub fn setattr(vm: &mut Vm, a: &[u64]) -> Res<u64> {
    crate::attr::set(vm, r(a[0]), sym(a[1]), r(a[2]))?;
    Ok(0)
}

pub fn method_on_class(vm: &mut Vm, a: &[u64]) -> Res<u64> {
    Ok(crate::interp::method_on_class(vm, r(a[0]), sym(a[1])).map_or(0, w))
}

pub fn getitem(vm: &mut Vm, a: &[u64]) -> Res<u64> {
    crate::seq::getitem(vm, r(a[0]), r(a[1])).map(w)
}

pub fn setitem(vm: &mut Vm, a: &[u64]) -> Res<u64> {
    crate::seq::setitem(vm, r(a[0]), r(a[1]), r(a[2]))?;
    Ok(0)
}

pub fn get_iter(vm: &mut Vm, a: &[u64]) -> Res<u64> {
    crate::iter::get_iter(vm, r(a[0])).map(w)
}

pub fn iter_next(vm: &mut Vm, a: &[u64]) -> Res<u64> {
    Ok(crate::iter::next(vm, r(a[0]))?.map_or(0, w))
}

pub fn call(vm: &mut Vm, a: &[u64]) -> Res<u64> {
    let args: Vec<Ref> = a[1..].iter().map(|&x| r(x)).collect();
    crate::call::call_refs(vm, r(a[0]), &args).map(w)
}

/// `callee(args...)` where the last `len(names)` arguments are keywords: callee, names (a
/// tuple of strs), then the arguments.
pub fn call_kw(vm: &mut Vm, a: &[u64]) -> Res<u64> {
    let (f, names) = (vm.root(r(a[0])), vm.root(r(a[1])));
    let args: Vec<_> = a[2..].iter().map(|&x| vm.root(r(x))).collect();
    let nkw = vm.heap.len(vm.get(names)).min(args.len());
    let (pos, values) = args.split_at(args.len() - nkw);
    let kw = crate::call::Kw { names, values };
    crate::call::call_with(vm, vm.get(f), pos, Some(kw)).map(w)
}

pub fn build_tuple(vm: &mut Vm, a: &[u64]) -> Res<u64> {
    let roots: Vec<_> = a.iter().map(|&x| vm.root(r(x))).collect();
    vm.new_tuple_from(&roots).map(w)
}

pub fn build_list(vm: &mut Vm, a: &[u64]) -> Res<u64> {
    let roots: Vec<_> = a.iter().map(|&x| vm.root(r(x))).collect();
    let l = vm.new_list(a.len())?;
    for (k, root) in roots.iter().enumerate() {
        let v = vm.get(*root);
        crate::list::set(vm, l, k, v);
    }
    vm.heap.set_word(l, crate::layout::LIST_LEN, a.len() as u64);
    Ok(w(l))
}

pub fn make_function(vm: &mut Vm, a: &[u64]) -> Res<u64> {
    crate::builtins::make_function(vm, r(a[0]), r(a[1]), r(a[2]), r(a[3]), r(a[4])).map(w)
}

pub fn build_slice(vm: &mut Vm, a: &[u64]) -> Res<u64> {
    let roots: Vec<_> = a.iter().map(|&x| vm.root(r(x))).collect();
    let s = vm.alloc(crate::layout::SLICE, 0)?;
    for (k, field) in [crate::layout::SLICE_START, crate::layout::SLICE_STOP, crate::layout::SLICE_STEP].into_iter().enumerate() {
        let v = vm.get(roots[k]);
        vm.heap.set_field(s, field, v);
    }
    Ok(w(s))
}
