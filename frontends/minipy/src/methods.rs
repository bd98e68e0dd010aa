//! The table of builtin functions (layout `NONE`) and builtin types' methods, and the
//! constructors of builtin types.

use crate::builtins::{int_arg, no_kw, str_arg, Args, Builtin, BuiltinFn};
use crate::call;
use crate::dict::View;
use crate::layout as L;
use crate::ops::{self, Num};
use crate::vm::{Exc, Res, Root, Vm};
use std::sync::LazyLock;
use tracelab_runtime::gc::{LayoutId, Ref};

macro_rules! entries {
    ($($layout:expr, $name:literal => $f:expr;)*) => {
        vec![$(($layout, Builtin { name: $name, f: $f as BuiltinFn }),)*]
    };
}

pub static TABLE: LazyLock<Vec<(LayoutId, Builtin)>> = LazyLock::new(|| {
    let g = L::NONE;
    let mut t = entries! {
        g, "print" => print;
        g, "len" => len;
        g, "repr" => |vm: &mut Vm, a: &Args| { one(vm, a, "repr")?; let s = crate::repr::repr(vm, a.get(vm, 0))?; vm.new_str(&s) };
        g, "isinstance" => isinstance;
        g, "issubclass" => issubclass;
        g, "iter" => |vm: &mut Vm, a: &Args| { one(vm, a, "iter")?; crate::iter::get_iter(vm, a.get(vm, 0)) };
        g, "next" => next;
        g, "abs" => abs;
        g, "min" => |vm: &mut Vm, a: &Args| min_max(vm, a, true);
        g, "max" => |vm: &mut Vm, a: &Args| min_max(vm, a, false);
        g, "sum" => sum;
        g, "any" => |vm: &mut Vm, a: &Args| any_all(vm, a, true);
        g, "all" => |vm: &mut Vm, a: &Args| any_all(vm, a, false);
        g, "sorted" => sorted;
        g, "enumerate" => enumerate;
        g, "zip" => zip;
        g, "map" => map;
        g, "filter" => filter;
        g, "reversed" => reversed;
        g, "divmod" => divmod;
        g, "pow" => pow;
        g, "round" => round;
        g, "hash" => |vm: &mut Vm, a: &Args| { one(vm, a, "hash")?; let h = ops::hash(vm, a.get(vm, 0))?; vm.new_int(h as i64) };
        g, "id" => |vm: &mut Vm, a: &Args| { one(vm, a, "id")?; let r = a.get(vm, 0); let id = if vm.layout(r) == L::INSTANCE { ops::identity_number(vm, r) } else { r.0 as u64 }; vm.new_int(id as i64) };
        g, "ord" => ord;
        g, "chr" => chr;
        g, "callable" => |vm: &mut Vm, a: &Args| { one(vm, a, "callable")?; let r = a.get(vm, 0); let c = matches!(vm.layout(r), L::FUNCTION | L::BUILTIN | L::METHOD | L::TYPE) || (vm.layout(r) == L::INSTANCE && { let t = vm.type_of(r); crate::types::lookup(vm, t, "__call__").is_some() }); Ok(vm.bool(c)) };
        g, "getattr" => getattr;
        g, "setattr" => |vm: &mut Vm, a: &Args| { call::arity(vm, "setattr", a.len(), 3, 3)?; let n = str_arg(vm, a.get(vm, 1), "attribute name")?; let s = vm.sym(&n); crate::attr::set(vm, a.get(vm, 0), s, a.get(vm, 2))?; Ok(vm.none) };
        g, "hasattr" => |vm: &mut Vm, a: &Args| { call::arity(vm, "hasattr", a.len(), 2, 2)?; let n = str_arg(vm, a.get(vm, 1), "attribute name")?; let s = vm.sym(&n); match crate::attr::lookup(vm, a.get(vm, 0), s) { Ok(v) => Ok(vm.bool(v.is_some())), Err(e) => if vm.exception_is(Exc::AttributeError) { vm.set_exception(Ref::NULL); Ok(vm.false_) } else { Err(e) } } };
        g, "delattr" => |vm: &mut Vm, a: &Args| { call::arity(vm, "delattr", a.len(), 2, 2)?; let n = str_arg(vm, a.get(vm, 1), "attribute name")?; let s = vm.sym(&n); crate::attr::delete(vm, a.get(vm, 0), s)?; Ok(vm.none) };
        g, "open" => crate::modules::open;
        g, "super" => super_;
        g, "property" => |vm: &mut Vm, a: &Args| descriptor(vm, a, crate::attr::PROPERTY);
        g, "staticmethod" => |vm: &mut Vm, a: &Args| descriptor(vm, a, crate::attr::STATICMETHOD);
        g, "classmethod" => |vm: &mut Vm, a: &Args| descriptor(vm, a, crate::attr::CLASSMETHOD);
        g, "format" => |vm: &mut Vm, a: &Args| { call::arity(vm, "format", a.len(), 1, 2)?; let spec = if a.len() == 2 { Some(a.get(vm, 1)) } else { None }; crate::format::format_value(vm, a.get(vm, 0), 0, spec) };
        g, "bin" => |vm: &mut Vm, a: &Args| radix(vm, a, 2, "0b");
        g, "oct" => |vm: &mut Vm, a: &Args| radix(vm, a, 8, "0o");
        g, "hex" => |vm: &mut Vm, a: &Args| radix(vm, a, 16, "0x");
        g, "input" => |vm: &mut Vm, _a: &Args| vm.raise(Exc::EOFError_, "EOF when reading a line");
        g, "__build_class__" => crate::builtins::build_class;
        g, "vars" => |vm: &mut Vm, a: &Args| { one(vm, a, "vars")?; let s = vm.sym("__dict__"); crate::attr::get(vm, a.get(vm, 0), s) };
        g, "globals" => |vm: &mut Vm, a: &Args| { call::arity(vm, "globals", a.len(), 0, 0)?; let f = vm.get(vm.frame); Ok(vm.heap.field(f, L::FRAME_GLOBALS)) };
        g, "exit" => crate::modules::sys_exit;
        g, "quit" => crate::modules::sys_exit;
    };
    t.extend(crate::strmethods::entries());
    t.extend(container_methods());
    t.extend(crate::modules::entries());
    t.extend(crate::array::entries());
    t
});

fn one(vm: &mut Vm, a: &Args, name: &str) -> Res<()> {
    no_kw(vm, a, name)?;
    call::arity(vm, name, a.len(), 1, 1)
}

fn print(vm: &mut Vm, a: &Args) -> Res<Ref> {
    let sep = match a.kw(vm, "sep") {
        Some(s) if s != vm.none => str_arg(vm, s, "sep")?,
        _ => " ".into(),
    };
    let end = match a.kw(vm, "end") {
        Some(s) if s != vm.none => str_arg(vm, s, "end")?,
        _ => "\n".into(),
    };
    let mut text = String::new();
    for i in 0..a.len() {
        if i > 0 {
            text.push_str(&sep);
        }
        let s = crate::repr::str(vm, a.get(vm, i))?;
        text.push_str(&s);
    }
    text.push_str(&end);
    match a.kw(vm, "file") {
        Some(f) if f != vm.none => {
            let fr = vm.root(f);
            crate::modules::write_to(vm, vm.get(fr), &text)?;
        }
        _ => vm.out.write(&text),
    }
    if a.kw(vm, "flush").is_some_and(|f| f == vm.true_) {
        vm.out.flush();
    }
    Ok(vm.none)
}

pub fn length(vm: &mut Vm, r: Ref) -> Res<usize> {
    Ok(match vm.layout(r) {
        L::STR => vm.str_chars(r),
        L::LIST => crate::list::len(vm, r),
        L::TUPLE => vm.heap.len(r),
        L::DICT => crate::dict::len(vm, r),
        L::SET => crate::set::len(vm, r),
        L::RANGE => crate::iter::range_len(vm, r),
        L::ARRAY => vm.heap.word(r, L::ARRAY_LEN) as usize,
        L::INSTANCE => match ops::call_dunder(vm, r, "__len__", &[])? {
            Some(v) => match ops::int_of(vm, v) {
                Some(Num::Small(n)) if n >= 0 => n as usize,
                Some(_) => return vm.value_error("__len__() should return >= 0"),
                None => {
                    let t = vm.type_name_of(v);
                    return vm.type_error(format!("'{t}' object cannot be interpreted as an integer"));
                }
            },
            None => {
                let t = vm.type_name_of(r);
                return vm.type_error(format!("object of type '{t}' has no len()"));
            }
        },
        _ => {
            let t = vm.type_name_of(r);
            return vm.type_error(format!("object of type '{t}' has no len()"));
        }
    })
}

fn len(vm: &mut Vm, a: &Args) -> Res<Ref> {
    one(vm, a, "len")?;
    let n = length(vm, a.get(vm, 0))?;
    vm.new_int(n as i64)
}

fn isinstance(vm: &mut Vm, a: &Args) -> Res<Ref> {
    call::arity(vm, "isinstance", a.len(), 2, 2)?;
    let (o, t) = (a.get(vm, 0), a.get(vm, 1));
    let r = class_matches(vm, vm.type_of(o), t, "isinstance() arg 2 must be a type, a tuple of types, or a union")?;
    Ok(vm.bool(r))
}

fn class_matches(vm: &mut Vm, cls: Ref, t: Ref, msg: &str) -> Res<bool> {
    match vm.layout(t) {
        L::TYPE => {
            // bool is a subclass of int; ints and longs share `int`.
            Ok(vm.is_subtype(cls, t))
        }
        L::TUPLE => {
            for i in 0..vm.heap.len(t) {
                let k = vm.heap.field(t, L::ITEMS + i);
                if class_matches(vm, cls, k, msg)? {
                    return Ok(true);
                }
            }
            Ok(false)
        }
        _ => vm.type_error(msg),
    }
}

fn issubclass(vm: &mut Vm, a: &Args) -> Res<Ref> {
    call::arity(vm, "issubclass", a.len(), 2, 2)?;
    let c = a.get(vm, 0);
    if vm.layout(c) != L::TYPE {
        return vm.type_error("issubclass() arg 1 must be a class");
    }
    let r = class_matches(vm, c, a.get(vm, 1), "issubclass() arg 2 must be a class, a tuple of classes, or a union")?;
    Ok(vm.bool(r))
}

fn next(vm: &mut Vm, a: &Args) -> Res<Ref> {
    call::arity(vm, "next", a.len(), 1, 2)?;
    let it = a.get(vm, 0);
    if !matches!(vm.layout(it), L::ITER | L::GENERATOR | L::INSTANCE) {
        let t = vm.type_name_of(it);
        return vm.type_error(format!("'{t}' object is not an iterator"));
    }
    match crate::iter::next(vm, it)? {
        Some(v) => Ok(v),
        None if a.len() == 2 => Ok(a.get(vm, 1)),
        None => {
            // A generator's return value travels in the StopIteration.
            let it = a.get(vm, 0);
            let value = if vm.layout(it) == L::GENERATOR { crate::interp::take_return_value(vm, it) } else { vm.none };
            if value != vm.none {
                return crate::exceptions::raise_stop_iteration(vm, value);
            }
            let t = vm.exc_type(Exc::StopIteration);
            let e = crate::exceptions::new_exception(vm, t, vm.empty_tuple)?;
            vm.set_exception(e);
            Err(crate::vm::Raised)
        }
    }
}

fn abs(vm: &mut Vm, a: &Args) -> Res<Ref> {
    one(vm, a, "abs")?;
    let r = a.get(vm, 0);
    match ops::int_of(vm, r) {
        Some(Num::Small(i)) if i != i64::MIN => return vm.new_int(i.abs()),
        Some(n) => return vm.new_bigint(&num_traits::Signed::abs(&n.big())),
        None => {}
    }
    if vm.layout(r) == L::FLOAT {
        let f = ops::float_of(vm, r);
        return vm.new_float(f.abs());
    }
    match ops::call_dunder(vm, r, "__abs__", &[])? {
        Some(v) => Ok(v),
        None => {
            let t = vm.type_name_of(r);
            vm.type_error(format!("bad operand type for abs(): '{t}'"))
        }
    }
}

/// The items of `min`/`max`/`sorted`'s single iterable argument, or the arguments.
fn items_of_args(vm: &mut Vm, a: &Args, name: &str) -> Res<Ref> {
    if a.len() == 1 {
        return crate::iter::to_list(vm, a.get(vm, 0));
    }
    if a.is_empty() {
        return vm.type_error(format!("{name} expected at least 1 argument, got 0"));
    }
    let l = vm.new_list(a.len())?;
    let lr = vm.root(l);
    for i in 0..a.len() {
        crate::list::append(vm, vm.get(lr), a.get(vm, i))?;
    }
    Ok(vm.get(lr))
}

fn min_max(vm: &mut Vm, a: &Args, is_min: bool) -> Res<Ref> {
    let name = if is_min { "min" } else { "max" };
    let items = items_of_args(vm, a, name)?;
    let ir = vm.root(items);
    let key = a.kw(vm, "key").filter(|k| *k != vm.none).map(|k| vm.root(k));
    let n = crate::list::len(vm, items);
    if n == 0 {
        if let Some(d) = a.kw(vm, "default") {
            return Ok(d);
        }
        return vm.value_error(format!("{name}() arg is an empty sequence"));
    }
    let keyed = |vm: &mut Vm, i: usize| -> Res<Ref> {
        let x = crate::list::get(vm, vm.get(ir), i);
        match key {
            Some(k) => {
                let xr = vm.root(x);
                call::call_function(vm, vm.get(k), &[xr])
            }
            None => Ok(x),
        }
    };
    let mut best = 0;
    let bk = keyed(vm, 0)?;
    let mut best_key = vm.root(bk);
    for i in 1..n {
        let k = keyed(vm, i)?;
        let kr = vm.root(k);
        let op = if is_min { crate::bytecode::CmpOp::Lt } else { crate::bytecode::CmpOp::Gt };
        let better = ops::compare(vm, vm.get(kr), vm.get(best_key), op)?;
        if ops::truthy(vm, better)? {
            best = i;
            best_key = kr;
        }
    }
    Ok(crate::list::get(vm, vm.get(ir), best))
}

fn sum(vm: &mut Vm, a: &Args) -> Res<Ref> {
    call::arity(vm, "sum", a.len(), 1, 2)?;
    let start = if a.len() == 2 { a.get(vm, 1) } else { a.kw(vm, "start").unwrap_or(vm.new_int(0)?) };
    let acc = vm.root(start);
    let it = crate::iter::get_iter(vm, a.get(vm, 0))?;
    let itr = vm.root(it);
    while let Some(x) = crate::iter::next(vm, vm.get(itr))? {
        let r = ops::binary(vm, vm.get(acc), x, crate::bytecode::BinOp::Add, false)?;
        vm.set(acc, r);
    }
    Ok(vm.get(acc))
}

fn any_all(vm: &mut Vm, a: &Args, any: bool) -> Res<Ref> {
    one(vm, a, if any { "any" } else { "all" })?;
    let it = crate::iter::get_iter(vm, a.get(vm, 0))?;
    let itr = vm.root(it);
    while let Some(x) = crate::iter::next(vm, vm.get(itr))? {
        if ops::truthy(vm, x)? == any {
            return Ok(vm.bool(any));
        }
    }
    Ok(vm.bool(!any))
}

fn sorted(vm: &mut Vm, a: &Args) -> Res<Ref> {
    one(vm, a, "sorted").or_else(|_| {
        vm.set_exception(Ref::NULL);
        call::arity(vm, "sorted", a.len(), 1, 1)
    })?;
    let l = crate::iter::to_list(vm, a.get(vm, 0))?;
    let lr = vm.root(l);
    let key = a.kw(vm, "key");
    let reverse = a.kw(vm, "reverse");
    sort_list(vm, vm.get(lr), key, reverse)?;
    Ok(vm.get(lr))
}

/// Sorts a list in place, stably, with Python's `<` (native fast paths for ints and strs).
pub fn sort_list(vm: &mut Vm, l: Ref, key: Option<Ref>, reverse: Option<Ref>) -> Res<()> {
    let lr = vm.root(l);
    let reverse = match reverse {
        Some(r) => ops::truthy(vm, r)?,
        None => false,
    };
    let key = key.filter(|k| *k != vm.none).map(|k| vm.root(k));
    let n = crate::list::len(vm, l);
    let mut items: Vec<(Root, Root)> = Vec::with_capacity(n);
    for i in 0..n {
        let x = crate::list::get(vm, vm.get(lr), i);
        let xr = vm.root(x);
        let k = match key {
            Some(k) => call::call_function(vm, vm.get(k), &[xr])?,
            None => x,
        };
        items.push((vm.root(k), xr));
    }
    let all_small_ints = items.iter().all(|(k, _)| matches!(vm.layout(vm.get(*k)), L::INT | L::BOOL));
    let all_strs = items.iter().all(|(k, _)| vm.layout(vm.get(*k)) == L::STR);
    let all_floats = items.iter().all(|(k, _)| matches!(vm.layout(vm.get(*k)), L::FLOAT | L::INT));
    if all_small_ints {
        let word = |vm: &Vm, r: &Root| vm.heap.word(vm.get(*r), L::VALUE) as i64;
        items.sort_by(|a, b| { let o = word(vm, &a.0).cmp(&word(vm, &b.0)); if reverse { o.reverse() } else { o } });
    } else if all_strs {
        items.sort_by(|a, b| { let o = vm.str_of(vm.get(a.0)).cmp(vm.str_of(vm.get(b.0))); if reverse { o.reverse() } else { o } });
    } else if all_floats {
        let val = |vm: &Vm, r: &Root| { let x = vm.get(*r); if vm.layout(x) == L::FLOAT { ops::float_of(vm, x) } else { vm.heap.word(x, L::VALUE) as i64 as f64 } };
        items.sort_by(|a, b| { let o = val(vm, &a.0).partial_cmp(&val(vm, &b.0)).unwrap_or(std::cmp::Ordering::Equal); if reverse { o.reverse() } else { o } });
    } else {
        let mut err = None;
        items.sort_by(|a, b| {
            if err.is_some() {
                return std::cmp::Ordering::Equal;
            }
            let (x, y) = if reverse { (b.0, a.0) } else { (a.0, b.0) };
            let lt = |vm: &mut Vm, p: Root, q: Root| -> Res<bool> {
                let r = ops::compare(vm, vm.get(p), vm.get(q), crate::bytecode::CmpOp::Lt)?;
                ops::truthy(vm, r)
            };
            match lt(vm, x, y) {
                Ok(true) => std::cmp::Ordering::Less,
                Ok(false) => match lt(vm, y, x) {
                    Ok(true) => std::cmp::Ordering::Greater,
                    Ok(false) => std::cmp::Ordering::Equal,
                    Err(e) => {
                        err = Some(e);
                        std::cmp::Ordering::Equal
                    }
                },
                Err(e) => {
                    err = Some(e);
                    std::cmp::Ordering::Equal
                }
            }
        });
        if let Some(e) = err {
            return Err(e);
        }
    }
    for (i, (_, x)) in items.iter().enumerate() {
        let v = vm.get(*x);
        crate::list::set(vm, vm.get(lr), i, v);
    }
    Ok(())
}

fn enumerate(vm: &mut Vm, a: &Args) -> Res<Ref> {
    call::arity(vm, "enumerate", a.len(), 1, 2)?;
    let start = if a.len() == 2 { Some(a.get(vm, 1)) } else { a.kw(vm, "start") };
    let start = match start {
        Some(s) => int_arg(vm, s, "")?,
        None => 0,
    };
    let it = crate::iter::get_iter(vm, a.get(vm, 0))?;
    crate::iter::new_iter(vm, crate::iter::ENUMERATE, it, start, 0, Ref::NULL)
}

fn iters_tuple(vm: &mut Vm, a: &Args, from: usize) -> Res<Ref> {
    let mut roots = vec![];
    for i in from..a.len() {
        let it = crate::iter::get_iter(vm, a.get(vm, i))?;
        roots.push(vm.root(it));
    }
    vm.new_tuple_from(&roots)
}

fn zip(vm: &mut Vm, a: &Args) -> Res<Ref> {
    let t = iters_tuple(vm, a, 0)?;
    let none = vm.none;
    crate::iter::new_iter(vm, crate::iter::ZIP, none, 0, 0, t)
}

fn map(vm: &mut Vm, a: &Args) -> Res<Ref> {
    if a.len() < 2 {
        return vm.type_error("map() must have at least two arguments.");
    }
    let t = iters_tuple(vm, a, 1)?;
    crate::iter::new_iter(vm, crate::iter::MAP, a.get(vm, 0), 0, 0, t)
}

fn filter(vm: &mut Vm, a: &Args) -> Res<Ref> {
    call::arity(vm, "filter", a.len(), 2, 2)?;
    let it = crate::iter::get_iter(vm, a.get(vm, 1))?;
    crate::iter::new_iter(vm, crate::iter::FILTER, a.get(vm, 0), 0, 0, it)
}

fn reversed(vm: &mut Vm, a: &Args) -> Res<Ref> {
    one(vm, a, "reversed")?;
    let s = a.get(vm, 0);
    match vm.layout(s) {
        L::LIST | L::TUPLE => {
            let n = crate::list::seq_len(vm, s) as i64;
            crate::iter::new_iter(vm, crate::iter::REVERSED, s, n - 1, 0, Ref::NULL)
        }
        L::RANGE => {
            let n = crate::iter::range_len(vm, s) as i64;
            crate::iter::new_iter(vm, crate::iter::REVERSED, s, n - 1, 0, Ref::NULL)
        }
        L::STR | L::DICT | L::ARRAY => {
            let l = crate::iter::to_list(vm, s)?;
            let n = crate::list::len(vm, l) as i64;
            crate::iter::new_iter(vm, crate::iter::REVERSED, l, n - 1, 0, Ref::NULL)
        }
        L::INSTANCE => match ops::call_dunder(vm, s, "__reversed__", &[])? {
            Some(r) => Ok(r),
            None => {
                let l = crate::iter::to_list(vm, s)?;
                let n = crate::list::len(vm, l) as i64;
                crate::iter::new_iter(vm, crate::iter::REVERSED, l, n - 1, 0, Ref::NULL)
            }
        },
        _ => {
            let t = vm.type_name_of(s);
            vm.type_error(format!("'{t}' object is not reversible"))
        }
    }
}

fn divmod(vm: &mut Vm, a: &Args) -> Res<Ref> {
    call::arity(vm, "divmod", a.len(), 2, 2)?;
    let q = ops::binary(vm, a.get(vm, 0), a.get(vm, 1), crate::bytecode::BinOp::FloorDiv, false)?;
    let qr = vm.root(q);
    let r = ops::binary(vm, a.get(vm, 0), a.get(vm, 1), crate::bytecode::BinOp::Mod, false)?;
    let rr = vm.root(r);
    vm.new_tuple_from(&[qr, rr])
}

fn pow(vm: &mut Vm, a: &Args) -> Res<Ref> {
    call::arity(vm, "pow", a.len(), 2, 3)?;
    if a.len() == 3 {
        let (b, e, m) = (ops::int_of(vm, a.get(vm, 0)), ops::int_of(vm, a.get(vm, 1)), ops::int_of(vm, a.get(vm, 2)));
        let (Some(b), Some(e), Some(m)) = (b, e, m) else {
            return vm.type_error("pow() 3rd argument not allowed unless all arguments are integers");
        };
        let (b, e, m) = (b.big(), e.big(), m.big());
        if num_traits::Zero::is_zero(&m) {
            return vm.value_error("pow() 3rd argument cannot be 0");
        }
        if num_traits::Signed::is_negative(&e) {
            return vm.value_error("minipy does not support pow() with a negative exponent and a modulus");
        }
        let r = b.modpow(&e, &m);
        let r = if num_traits::Signed::is_negative(&r) != num_traits::Signed::is_negative(&m) && !num_traits::Zero::is_zero(&r) { r + m } else { r };
        return vm.new_bigint(&r);
    }
    ops::binary(vm, a.get(vm, 0), a.get(vm, 1), crate::bytecode::BinOp::Pow, false)
}

fn round(vm: &mut Vm, a: &Args) -> Res<Ref> {
    call::arity(vm, "round", a.len(), 1, 2)?;
    let x = a.get(vm, 0);
    let nd = if a.len() == 2 && a.get(vm, 1) != vm.none { Some(int_arg(vm, a.get(vm, 1), "")?) } else { None };
    if ops::is_int(vm, x) {
        let n = ops::int_of(vm, x).unwrap_or(Num::Small(0));
        return match nd {
            Some(d) if d < 0 => {
                let p = num_bigint::BigInt::from(10).pow((-d) as u32);
                let v = n.big();
                let (q, r) = num_integer::Integer::div_mod_floor(&v, &p);
                let twice = &r * 2;
                let q = if twice > p || (twice == p && num_integer::Integer::is_odd(&q)) { q + 1 } else { q };
                vm.new_bigint(&(q * p))
            }
            _ => ops::new_num(vm, n),
        };
    }
    if vm.layout(x) == L::FLOAT {
        let f = ops::float_of(vm, x);
        return match nd {
            None => {
                if !f.is_finite() {
                    return vm.raise(Exc::OverflowError, "cannot convert float infinity to integer");
                }
                let r = f.round_ties_even();
                if r.abs() < 9e18 { vm.new_int(r as i64) } else { vm.new_bigint(&num_bigint::BigInt::from(r as i128)) }
            }
            Some(d) => vm.new_float(round_float(f, d)),
        };
    }
    match ops::call_dunder(vm, x, "__round__", &[])? {
        Some(v) => Ok(v),
        None => {
            let t = vm.type_name_of(x);
            vm.type_error(format!("type {t} doesn't define __round__ method"))
        }
    }
}

/// Rounds to `d` decimal places, correctly (through the decimal string, as CPython does).
fn round_float(f: f64, d: i64) -> f64 {
    if !f.is_finite() || d > 300 {
        return f;
    }
    if d < -300 {
        return 0.0 * f;
    }
    if d >= 0 {
        let s = format!("{:.*}", d as usize + 25, f);
        // Round half to even on the exact decimal expansion.
        let (int_part, frac) = s.split_once('.').unwrap_or((&s, ""));
        let keep = &frac[..d as usize];
        let rest = &frac[d as usize..];
        let digits = format!("{int_part}{keep}");
        let neg = digits.starts_with('-');
        let digits = digits.trim_start_matches('-');
        let mut n: num_bigint::BigInt = digits.parse().unwrap_or_default();
        let half = rest.as_bytes().first().map_or(false, |c| *c > b'5')
            || (rest.starts_with('5') && (rest[1..].bytes().any(|c| c != b'0') || num_integer::Integer::is_odd(&n)));
        if half {
            n += 1;
        }
        let v: f64 = format!("{}{}e-{}", if neg { "-" } else { "" }, n, d).parse().unwrap_or(f);
        return v;
    }
    let p = 10f64.powi((-d) as i32);
    (f / p).round_ties_even() * p
}

fn ord(vm: &mut Vm, a: &Args) -> Res<Ref> {
    one(vm, a, "ord")?;
    let s = a.get(vm, 0);
    if vm.layout(s) != L::STR {
        let t = vm.type_name_of(s);
        return vm.type_error(format!("ord() expected string of length 1, but {t} found"));
    }
    let text = vm.str_of(s);
    let mut chars = text.chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) => vm.new_int(c as i64),
        _ => {
            let n = vm.str_chars(s);
            vm.type_error(format!("ord() expected a character, but string of length {n} found"))
        }
    }
}

fn chr(vm: &mut Vm, a: &Args) -> Res<Ref> {
    one(vm, a, "chr")?;
    let i = int_arg(vm, a.get(vm, 0), "")?;
    match u32::try_from(i).ok().and_then(char::from_u32) {
        Some(c) => vm.new_str(&c.to_string()),
        None => vm.value_error("chr() arg not in range(0x110000)"),
    }
}

fn getattr(vm: &mut Vm, a: &Args) -> Res<Ref> {
    call::arity(vm, "getattr", a.len(), 2, 3)?;
    let n = str_arg(vm, a.get(vm, 1), "attribute name")?;
    let s = vm.sym(&n);
    match crate::attr::lookup(vm, a.get(vm, 0), s)? {
        Some(v) => Ok(v),
        None if a.len() == 3 => Ok(a.get(vm, 2)),
        None => crate::attr::raise_missing(vm, a.get(vm, 0), s),
    }
}

/// `super()` (zero arguments: the `__class__` cell and first argument of the calling frame)
/// or `super(C, obj)`: a bound view whose attribute lookups start after `C`.
fn super_(vm: &mut Vm, a: &Args) -> Res<Ref> {
    let (cls, obj) = if a.len() == 2 {
        (a.get(vm, 0), a.get(vm, 1))
    } else {
        let f = vm.get(vm.frame);
        let id = crate::bytecode::CodeId(vm.heap.word(f, L::FRAME_CODE) as u32);
        let c = &vm.codes[id.0 as usize];
        let Some(k) = c.freevars.iter().position(|v| v == "__class__") else {
            return vm.raise(Exc::RuntimeError, "super(): __class__ cell not found");
        };
        let slot = c.varnames.len() + c.cellvars.len() + k;
        if c.argcount == 0 {
            return vm.raise(Exc::RuntimeError, "super(): no arguments");
        }
        let cell = vm.heap.field(f, L::FRAME_SLOTS + slot);
        let first = vm.heap.field(f, L::FRAME_SLOTS);
        // A captured `self` lives in its cell.
        let first = if c.cell_params.first().copied().flatten() == Some(0) {
            vm.heap.field(vm.heap.field(f, L::FRAME_SLOTS + c.varnames.len()), L::CELL_VALUE)
        } else {
            first
        };
        (vm.heap.field(cell, L::CELL_VALUE), first)
    };
    let cr = vm.root(cls);
    let or = vm.root(obj);
    // A super object is a descriptor of kind SUPER: A = class, B = object.
    let s = vm.alloc(L::DESCRIPTOR, 0)?;
    vm.heap.set_word(s, L::DESC_KIND, SUPER);
    vm.heap.set_field(s, L::DESC_A, vm.get(cr));
    vm.heap.set_field(s, L::DESC_B, vm.get(or));
    Ok(s)
}

pub const SUPER: u64 = 4;

/// Attribute lookup through a super object.
pub fn super_attr(vm: &mut Vm, s: Ref, name: &str) -> Res<Option<Ref>> {
    let cls = vm.heap.field(s, L::DESC_A);
    let obj = vm.heap.field(s, L::DESC_B);
    let t = if vm.layout(obj) == L::TYPE { obj } else { vm.type_of(obj) };
    match crate::types::lookup_after(vm, t, cls, name) {
        Some(v) => crate::attr::bind(vm, v, obj, t).map(Some),
        None => Ok(None),
    }
}

fn descriptor(vm: &mut Vm, a: &Args, kind: u64) -> Res<Ref> {
    call::arity(vm, "descriptor", a.len(), 1, 3)?;
    let roots: Vec<Ref> = (0..3).map(|i| if i < a.len() { a.get(vm, i) } else { Ref::NULL }).collect();
    let rs: Vec<Root> = roots.iter().map(|r| vm.root(*r)).collect();
    let d = vm.alloc(L::DESCRIPTOR, 0)?;
    vm.heap.set_word(d, L::DESC_KIND, kind);
    vm.heap.set_field(d, L::DESC_A, vm.get(rs[0]));
    vm.heap.set_field(d, L::DESC_B, vm.get(rs[1]));
    vm.heap.set_field(d, L::DESC_C, vm.get(rs[2]));
    Ok(d)
}

fn radix(vm: &mut Vm, a: &Args, base: u32, prefix: &str) -> Res<Ref> {
    one(vm, a, "bin")?;
    let Some(n) = ops::int_of(vm, a.get(vm, 0)) else {
        let t = vm.type_name_of(a.get(vm, 0));
        return vm.type_error(format!("'{t}' object cannot be interpreted as an integer"));
    };
    let b = n.big();
    let neg = num_traits::Signed::is_negative(&b);
    let digits = num_traits::Signed::abs(&b).to_str_radix(base);
    vm.new_str(&format!("{}{prefix}{digits}", if neg { "-" } else { "" }))
}

// ---- constructors ----

pub fn construct(vm: &mut Vm, t: Ref, layout: LayoutId, a: &Args) -> Res<Ref> {
    let n = a.len();
    match layout {
        L::INT => {
            call::arity(vm, "int", n, 0, 2)?;
            if n == 0 {
                return vm.new_int(0);
            }
            let x = a.get(vm, 0);
            if n == 2 || vm.layout(x) == L::STR {
                let base = if n == 2 { int_arg(vm, a.get(vm, 1), "")? } else { 10 };
                return crate::format::parse_int(vm, x, base as u32);
            }
            to_int(vm, x)
        }
        L::BOOL => {
            call::arity(vm, "bool", n, 0, 1)?;
            if n == 0 {
                return Ok(vm.false_);
            }
            let b = ops::truthy(vm, a.get(vm, 0))?;
            Ok(vm.bool(b))
        }
        L::FLOAT => {
            call::arity(vm, "float", n, 0, 1)?;
            if n == 0 {
                return vm.new_float(0.0);
            }
            let x = a.get(vm, 0);
            if vm.layout(x) == L::STR {
                return crate::format::parse_float(vm, x);
            }
            match ops::as_f64(vm, x)? {
                Some(f) => vm.new_float(f),
                None => match ops::call_dunder(vm, x, "__float__", &[])? {
                    Some(v) => Ok(v),
                    None => {
                        let tn = vm.type_name_of(x);
                        vm.type_error(format!("float() argument must be a string or a real number, not '{tn}'"))
                    }
                },
            }
        }
        L::STR => {
            call::arity(vm, "str", n, 0, 1)?;
            if n == 0 {
                return Ok(vm.empty_str);
            }
            let s = crate::repr::str(vm, a.get(vm, 0))?;
            vm.new_str(&s)
        }
        L::TUPLE => {
            call::arity(vm, "tuple", n, 0, 1)?;
            if n == 0 {
                return Ok(vm.empty_tuple);
            }
            crate::iter::to_tuple(vm, a.get(vm, 0))
        }
        L::LIST => {
            call::arity(vm, "list", n, 0, 1)?;
            if n == 0 {
                return vm.new_list(0);
            }
            crate::iter::to_list(vm, a.get(vm, 0))
        }
        L::DICT => {
            call::arity(vm, "dict", n, 0, 1)?;
            let d = crate::dict::new(vm, L::DICT)?;
            let dr = vm.root(d);
            if n == 1 {
                dict_update(vm, vm.get(dr), a.get(vm, 0))?;
            }
            if let Some(kw) = &a.kw {
                for (j, v) in kw.values.iter().enumerate() {
                    let k = vm.heap.field(vm.get(kw.names), L::ITEMS + j);
                    crate::dict::set(vm, vm.get(dr), k, vm.get(*v))?;
                }
            }
            Ok(vm.get(dr))
        }
        L::SET => {
            call::arity(vm, "set", n, 0, 1)?;
            if n == 1 {
                return crate::set::from_iterable(vm, a.get(vm, 0));
            }
            crate::set::new(vm)
        }
        L::RANGE => {
            call::arity(vm, "range", n, 1, 3)?;
            let mut v = [0i64; 3];
            for i in 0..n {
                let x = a.get(vm, i);
                v[i] = match ops::int_of(vm, x) {
                    Some(Num::Small(k)) => k,
                    Some(Num::Big(_)) => return vm.raise(Exc::OverflowError, "minipy does not support ranges beyond 64-bit ints"),
                    None => {
                        let tn = vm.type_name_of(x);
                        return vm.type_error(format!("'{tn}' object cannot be interpreted as an integer"));
                    }
                };
            }
            let (start, stop, step) = match n {
                1 => (0, v[0], 1),
                2 => (v[0], v[1], 1),
                _ => (v[0], v[1], v[2]),
            };
            if step == 0 {
                return vm.value_error("range() arg 3 must not be zero");
            }
            crate::iter::new_range(vm, start, stop, step)
        }
        L::TYPE => {
            if n == 1 {
                return Ok(vm.type_of(a.get(vm, 0)));
            }
            vm.type_error("minipy does not support type() with three arguments")
        }
        L::INSTANCE => {
            // object()
            crate::attr::new_instance(vm, t)
        }
        L::SLICE => {
            call::arity(vm, "slice", n, 1, 3)?;
            let none = vm.none;
            let parts: Vec<Ref> = match n {
                1 => vec![none, a.get(vm, 0), none],
                2 => vec![a.get(vm, 0), a.get(vm, 1), none],
                _ => vec![a.get(vm, 0), a.get(vm, 1), a.get(vm, 2)],
            };
            let rs: Vec<Root> = parts.iter().map(|p| vm.root(*p)).collect();
            let s = vm.alloc(L::SLICE, 0)?;
            for (i, r) in rs.iter().enumerate() {
                vm.heap.set_field(s, 1 + i, vm.get(*r));
            }
            Ok(s)
        }
        L::STRINGIO => crate::modules::new_stringio(vm, a),
        L::ARRAY => crate::array::new(vm, a),
        _ => {
            let tn = vm.type_name(t).to_string();
            vm.type_error(format!("cannot create '{tn}' instances"))
        }
    }
}

pub fn to_int(vm: &mut Vm, x: Ref) -> Res<Ref> {
    match vm.layout(x) {
        L::INT | L::LONG => Ok(x),
        L::BOOL => vm.new_int(vm.heap.word(x, L::VALUE) as i64),
        L::FLOAT => {
            let f = ops::float_of(vm, x);
            if f.is_nan() {
                return vm.value_error("cannot convert float NaN to integer");
            }
            if f.is_infinite() {
                return vm.raise(Exc::OverflowError, "cannot convert float infinity to integer");
            }
            let t = f.trunc();
            if t.abs() < 9.2e18 {
                return vm.new_int(t as i64);
            }
            let big = crate::format::float_to_big(t);
            vm.new_bigint(&big)
        }
        _ => match ops::call_dunder(vm, x, "__int__", &[])? {
            Some(v) => Ok(v),
            None => match ops::call_dunder(vm, x, "__index__", &[])? {
                Some(v) => Ok(v),
                None => {
                    let tn = vm.type_name_of(x);
                    vm.type_error(format!("int() argument must be a string, a bytes-like object or a real number, not '{tn}'"))
                }
            },
        },
    }
}

fn dict_update(vm: &mut Vm, d: Ref, src: Ref) -> Res<()> {
    let dr = vm.root(d);
    if vm.layout(src) == L::DICT {
        crate::dict::update(vm, d, src)?;
        return Ok(());
    }
    let it = crate::iter::get_iter(vm, src)?;
    let itr = vm.root(it);
    while let Some(pair) = crate::iter::next(vm, vm.get(itr))? {
        let p = crate::iter::to_list(vm, pair)?;
        if crate::list::len(vm, p) != 2 {
            let k = crate::list::len(vm, p);
            return vm.value_error(format!("dictionary update sequence element has length {k}; 2 is required"));
        }
        let (k, v) = (crate::list::get(vm, p, 0), crate::list::get(vm, p, 1));
        crate::dict::set(vm, vm.get(dr), k, v)?;
    }
    Ok(())
}

// ---- methods of containers ----

fn container_methods() -> Vec<(LayoutId, Builtin)> {
    entries! {
        L::LIST, "append" => |vm: &mut Vm, a: &Args| { call::arity(vm, "append", a.len(), 2, 2)?; crate::list::append(vm, a.get(vm, 0), a.get(vm, 1))?; Ok(vm.none) };
        L::LIST, "extend" => |vm: &mut Vm, a: &Args| { call::arity(vm, "extend", a.len(), 2, 2)?; crate::seq::extend(vm, a.get(vm, 0), a.get(vm, 1))?; Ok(vm.none) };
        L::LIST, "pop" => list_pop;
        L::LIST, "insert" => |vm: &mut Vm, a: &Args| { call::arity(vm, "insert", a.len(), 3, 3)?; let i = int_arg(vm, a.get(vm, 1), "")?; let l = a.get(vm, 0); let n = crate::list::len(vm, l) as i64; let at = if i < 0 { (i + n).max(0) } else { i.min(n) }; crate::list::insert(vm, l, at as usize, a.get(vm, 2))?; Ok(vm.none) };
        L::LIST, "remove" => |vm: &mut Vm, a: &Args| { call::arity(vm, "remove", a.len(), 2, 2)?; let i = seq_index(vm, a.get(vm, 0), a.get(vm, 1))?; match i { Some(i) => { crate::list::remove_at(vm, a.get(vm, 0), i); Ok(vm.none) } None => vm.value_error("list.remove(x): x not in list") } };
        L::LIST, "index" => |vm: &mut Vm, a: &Args| { call::arity(vm, "index", a.len(), 2, 2)?; match seq_index(vm, a.get(vm, 0), a.get(vm, 1))? { Some(i) => vm.new_int(i as i64), None => { let r = crate::repr::repr(vm, a.get(vm, 1))?; vm.value_error(format!("{r} is not in list")) } } };
        L::LIST, "count" => seq_count;
        L::LIST, "sort" => |vm: &mut Vm, a: &Args| { call::arity(vm, "sort", a.len(), 1, 1)?; let (k, r) = (a.kw(vm, "key"), a.kw(vm, "reverse")); sort_list(vm, a.get(vm, 0), k, r)?; Ok(vm.none) };
        L::LIST, "reverse" => |vm: &mut Vm, a: &Args| { let l = a.get(vm, 0); let n = crate::list::len(vm, l); for i in 0..n / 2 { let (x, y) = (crate::list::get(vm, l, i), crate::list::get(vm, l, n - 1 - i)); crate::list::set(vm, l, i, y); crate::list::set(vm, l, n - 1 - i, x); } Ok(vm.none) };
        L::LIST, "clear" => |vm: &mut Vm, a: &Args| { crate::list::truncate(vm, a.get(vm, 0), 0); Ok(vm.none) };
        L::LIST, "copy" => |vm: &mut Vm, a: &Args| { let l = a.get(vm, 0); let n = crate::list::len(vm, l); crate::list::from_items(vm, l, 0, n) };
        L::TUPLE, "index" => |vm: &mut Vm, a: &Args| { call::arity(vm, "index", a.len(), 2, 2)?; match seq_index(vm, a.get(vm, 0), a.get(vm, 1))? { Some(i) => vm.new_int(i as i64), None => vm.value_error("tuple.index(x): x not in tuple") } };
        L::TUPLE, "count" => seq_count;
        L::DICT, "get" => |vm: &mut Vm, a: &Args| { call::arity(vm, "get", a.len(), 2, 3)?; match crate::dict::get(vm, a.get(vm, 0), a.get(vm, 1))? { Some(v) => Ok(v), None => Ok(if a.len() == 3 { a.get(vm, 2) } else { vm.none }) } };
        L::DICT, "keys" => |vm: &mut Vm, a: &Args| view(vm, a, crate::iter::DICT_KEYS);
        L::DICT, "values" => |vm: &mut Vm, a: &Args| view(vm, a, crate::iter::DICT_VALUES);
        L::DICT, "items" => |vm: &mut Vm, a: &Args| view(vm, a, crate::iter::DICT_ITEMS);
        L::DICT, "pop" => |vm: &mut Vm, a: &Args| { call::arity(vm, "pop", a.len(), 2, 3)?; match crate::dict::remove(vm, a.get(vm, 0), a.get(vm, 1), a.len() == 2)? { Some(v) => Ok(v), None => Ok(a.get(vm, 2)) } };
        L::DICT, "setdefault" => |vm: &mut Vm, a: &Args| { call::arity(vm, "setdefault", a.len(), 2, 3)?; if let Some(v) = crate::dict::get(vm, a.get(vm, 0), a.get(vm, 1))? { return Ok(v); } let d = if a.len() == 3 { a.get(vm, 2) } else { vm.none }; crate::dict::set(vm, a.get(vm, 0), a.get(vm, 1), d)?; Ok(if a.len() == 3 { a.get(vm, 2) } else { vm.none }) };
        L::DICT, "update" => |vm: &mut Vm, a: &Args| { call::arity(vm, "update", a.len(), 1, 2)?; if a.len() == 2 { dict_update(vm, a.get(vm, 0), a.get(vm, 1))?; } if let Some(kw) = &a.kw { for (j, v) in kw.values.iter().enumerate() { let k = vm.heap.field(vm.get(kw.names), L::ITEMS + j); crate::dict::set(vm, a.get(vm, 0), k, vm.get(*v))?; } } Ok(vm.none) };
        L::DICT, "clear" => |vm: &mut Vm, a: &Args| { crate::dict::clear(vm, a.get(vm, 0))?; Ok(vm.none) };
        L::DICT, "copy" => |vm: &mut Vm, a: &Args| crate::dict::copy(vm, a.get(vm, 0));
        L::DICT, "popitem" => |vm: &mut Vm, a: &Args| { let d = a.get(vm, 0); let mut i = crate::dict::slots(vm, d); while i > 0 { i -= 1; let (k, v) = crate::dict::entry(vm, d, i); if !k.is_null() { let kr = vm.root(k); let vr = vm.root(v); crate::dict::remove(vm, a.get(vm, 0), k, true)?; return vm.new_tuple_from(&[kr, vr]); } } vm.raise(Exc::KeyError, "popitem(): dictionary is empty") };
        L::SET, "add" => |vm: &mut Vm, a: &Args| { call::arity(vm, "add", a.len(), 2, 2)?; crate::set::add(vm, a.get(vm, 0), a.get(vm, 1))?; Ok(vm.none) };
        L::SET, "remove" => |vm: &mut Vm, a: &Args| { call::arity(vm, "remove", a.len(), 2, 2)?; crate::set::remove(vm, a.get(vm, 0), a.get(vm, 1))?; Ok(vm.none) };
        L::SET, "discard" => |vm: &mut Vm, a: &Args| { call::arity(vm, "discard", a.len(), 2, 2)?; crate::set::discard(vm, a.get(vm, 0), a.get(vm, 1))?; Ok(vm.none) };
        L::SET, "pop" => |vm: &mut Vm, a: &Args| { call::arity(vm, "pop", a.len(), 1, 1)?; crate::set::pop(vm, a.get(vm, 0)) };
        L::SET, "update" => |vm: &mut Vm, a: &Args| { for i in 1..a.len() { crate::set::update(vm, a.get(vm, 0), a.get(vm, i))?; } Ok(vm.none) };
        L::SET, "union" => |vm: &mut Vm, a: &Args| { let s = crate::set::copy(vm, a.get(vm, 0))?; let sr = vm.root(s); for i in 1..a.len() { crate::set::update(vm, vm.get(sr), a.get(vm, i))?; } Ok(vm.get(sr)) };
        L::SET, "intersection" => |vm: &mut Vm, a: &Args| set_method(vm, a, BinOpKind::And);
        L::SET, "difference" => |vm: &mut Vm, a: &Args| set_method(vm, a, BinOpKind::Sub);
        L::SET, "symmetric_difference" => |vm: &mut Vm, a: &Args| set_method(vm, a, BinOpKind::Xor);
        L::SET, "intersection_update" => |vm: &mut Vm, a: &Args| { for i in 1..a.len() { crate::set::intersection_update(vm, a.get(vm, 0), a.get(vm, i))?; } Ok(vm.none) };
        L::SET, "difference_update" => |vm: &mut Vm, a: &Args| { for i in 1..a.len() { crate::set::difference_update(vm, a.get(vm, 0), a.get(vm, i))?; } Ok(vm.none) };
        L::SET, "symmetric_difference_update" => |vm: &mut Vm, a: &Args| { call::arity(vm, "symmetric_difference_update", a.len(), 2, 2)?; crate::set::symmetric_difference_update(vm, a.get(vm, 0), a.get(vm, 1))?; Ok(vm.none) };
        L::SET, "issubset" => |vm: &mut Vm, a: &Args| { let o = to_set(vm, a.get(vm, 1))?; let r = crate::set::is_subset(vm, a.get(vm, 0), o)?; Ok(vm.bool(r)) };
        L::SET, "issuperset" => |vm: &mut Vm, a: &Args| { let o = to_set(vm, a.get(vm, 1))?; let r = crate::set::is_subset(vm, o, a.get(vm, 0))?; Ok(vm.bool(r)) };
        L::SET, "isdisjoint" => |vm: &mut Vm, a: &Args| { let o = to_set(vm, a.get(vm, 1))?; let i = crate::set::intersection(vm, a.get(vm, 0), o)?; Ok(vm.bool(crate::set::len(vm, i) == 0)) };
        L::SET, "copy" => |vm: &mut Vm, a: &Args| crate::set::copy(vm, a.get(vm, 0));
        L::SET, "clear" => |vm: &mut Vm, a: &Args| { crate::set::clear(vm, a.get(vm, 0))?; Ok(vm.none) };
        L::INT, "bit_length" => |vm: &mut Vm, a: &Args| { let n = ops::int_of(vm, a.get(vm, 0)).map(|n| n.big().bits()).unwrap_or(0); vm.new_int(n as i64) };
        L::INT, "to_bytes" => |vm: &mut Vm, _a: &Args| vm.type_error("minipy does not support bytes");
        L::FLOAT, "is_integer" => |vm: &mut Vm, a: &Args| { let f = ops::float_of(vm, a.get(vm, 0)); Ok(vm.bool(f.is_finite() && f.fract() == 0.0)) };
        L::FLOAT, "hex" => |vm: &mut Vm, _a: &Args| vm.type_error("minipy does not support float.hex");
        L::GENERATOR, "send" => |vm: &mut Vm, a: &Args| {
            call::arity(vm, "send", a.len(), 2, 2)?;
            match crate::interp::send_generator(vm, a.get(vm, 0), a.get(vm, 1))? {
                Some(v) => Ok(v),
                None => {
                    let g = a.get(vm, 0);
                    let value = crate::interp::take_return_value(vm, g);
                    crate::exceptions::raise_stop_iteration(vm, value)
                }
            }
        };
        L::GENERATOR, "throw" => |vm: &mut Vm, _a: &Args| vm.raise(Exc::NotImplementedError, "minipy does not support generator.throw");
        L::GENERATOR, "close" => |vm: &mut Vm, a: &Args| { vm.heap.set_word(a.get(vm, 0), L::GEN_STATE, 3); Ok(vm.none) };
        L::INSTANCE, "__init__" => |vm: &mut Vm, a: &Args| { let o = a.get(vm, 0); let t = vm.new_tuple_from(&a.pos[1..])?; let s = vm.sym("args"); crate::attr::set_instance_attr(vm, o, s, t)?; let _ = o; Ok(vm.none) };
        L::TYPE, "__init__" => |vm: &mut Vm, _a: &Args| Ok(vm.none);
        L::DESCRIPTOR, "setter" => |vm: &mut Vm, a: &Args| property_with(vm, a, L::DESC_B);
        L::DESCRIPTOR, "getter" => |vm: &mut Vm, a: &Args| property_with(vm, a, L::DESC_A);
        L::DESCRIPTOR, "deleter" => |vm: &mut Vm, a: &Args| property_with(vm, a, L::DESC_C);
    }
}

/// `prop.setter(f)` and friends: a copy of the property with one accessor replaced.
fn property_with(vm: &mut Vm, a: &Args, field: usize) -> Res<Ref> {
    call::arity(vm, "setter", a.len(), 2, 2)?;
    let d = vm.alloc(L::DESCRIPTOR, 0)?;
    let old = a.get(vm, 0);
    vm.heap.set_word(d, L::DESC_KIND, vm.heap.word(old, L::DESC_KIND));
    for f in [L::DESC_A, L::DESC_B, L::DESC_C] {
        let v = if f == field { a.get(vm, 1) } else { vm.heap.field(old, f) };
        vm.heap.set_field(d, f, v);
    }
    Ok(d)
}

enum BinOpKind {
    And,
    Sub,
    Xor,
}

fn set_method(vm: &mut Vm, a: &Args, k: BinOpKind) -> Res<Ref> {
    let op = match k {
        BinOpKind::And => crate::bytecode::BinOp::And,
        BinOpKind::Sub => crate::bytecode::BinOp::Sub,
        BinOpKind::Xor => crate::bytecode::BinOp::Xor,
    };
    let acc = vm.root(a.get(vm, 0));
    for i in 1..a.len() {
        let o = to_set(vm, a.get(vm, i))?;
        let r = crate::builtins::set_op(vm, vm.get(acc), o, op)?;
        vm.set(acc, r);
    }
    if a.len() == 1 {
        return crate::set::copy(vm, vm.get(acc));
    }
    Ok(vm.get(acc))
}

fn to_set(vm: &mut Vm, r: Ref) -> Res<Ref> {
    if vm.layout(r) == L::SET {
        return Ok(r);
    }
    crate::set::from_iterable(vm, r)
}

fn view(vm: &mut Vm, a: &Args, kind: u64) -> Res<Ref> {
    // Views are iterators over a snapshot-free dict; `list(d.keys())` and loops work, and
    // `len`/`in` on them go through a list copy.
    let what = match kind {
        crate::iter::DICT_KEYS => View::Keys,
        crate::iter::DICT_VALUES => View::Values,
        _ => View::Items,
    };
    crate::dict::to_list(vm, a.get(vm, 0), what)
}

fn list_pop(vm: &mut Vm, a: &Args) -> Res<Ref> {
    call::arity(vm, "pop", a.len(), 1, 2)?;
    let l = a.get(vm, 0);
    let n = crate::list::len(vm, l);
    if n == 0 {
        return vm.raise(Exc::IndexError, "pop from empty list");
    }
    let i = if a.len() == 2 { int_arg(vm, a.get(vm, 1), "")? } else { -1 };
    let i = crate::list::index(vm, i, n, "pop")?;
    Ok(crate::list::remove_at(vm, a.get(vm, 0), i))
}

fn seq_index(vm: &mut Vm, seq: Ref, x: Ref) -> Res<Option<usize>> {
    let sr = vm.root(seq);
    let xr = vm.root(x);
    let mut i = 0;
    while i < crate::list::seq_len(vm, vm.get(sr)) {
        let y = crate::list::seq_get(vm, vm.get(sr), i);
        if ops::eq(vm, y, vm.get(xr))? {
            return Ok(Some(i));
        }
        i += 1;
    }
    Ok(None)
}

fn seq_count(vm: &mut Vm, a: &Args) -> Res<Ref> {
    call::arity(vm, "count", a.len(), 2, 2)?;
    let mut c = 0;
    let mut i = 0;
    while i < crate::list::seq_len(vm, a.get(vm, 0)) {
        let y = crate::list::seq_get(vm, a.get(vm, 0), i);
        if ops::eq(vm, y, a.get(vm, 1))? {
            c += 1;
        }
        i += 1;
    }
    vm.new_int(c)
}
