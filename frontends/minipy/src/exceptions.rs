//! Exception objects: instances of exception classes with `args` and a traceback (a list of
//! `(file, line, function)` tuples, innermost last, appended as the exception leaves each
//! frame), and the CPython-style report of an uncaught one.

use crate::layout as L;
use crate::vm::{Exc, Res, Vm};
use tracelab_runtime::gc::Ref;

pub fn new_exception(vm: &mut Vm, t: Ref, args: Ref) -> Res<Ref> {
    let ar = vm.root(args);
    let e = crate::attr::new_instance(vm, t)?;
    let er = vm.root(e);
    let s = vm.sym("args");
    crate::attr::set_instance_attr(vm, vm.get(er), s, vm.get(ar))?;
    Ok(vm.get(er))
}

pub fn raise_key_error<T>(vm: &mut Vm, key: Ref) -> Res<T> {
    let kr = vm.root(key);
    let args = vm.new_tuple_from(&[kr])?;
    let t = vm.exc_type(Exc::KeyError);
    let e = new_exception(vm, t, args)?;
    vm.set_exception(e);
    Err(crate::vm::Raised)
}

pub fn raise_stop_iteration<T>(vm: &mut Vm, value: Ref) -> Res<T> {
    let vr = vm.root(value);
    let args = vm.new_tuple_from(&[vr])?;
    let t = vm.exc_type(Exc::StopIteration);
    let e = new_exception(vm, t, args)?;
    vm.set_exception(e);
    Err(crate::vm::Raised)
}

pub fn args_of(vm: &mut Vm, e: Ref) -> Ref {
    let s = vm.sym("args");
    crate::attr::instance_attr(vm, e, s).unwrap_or(vm.empty_tuple)
}

/// Appends a traceback entry to the pending exception.
pub fn add_traceback(vm: &mut Vm, file: &str, line: u32, func: &str) -> Res<()> {
    let e = vm.exception();
    if e.is_null() || vm.layout(e) != L::INSTANCE {
        return Ok(());
    }
    let er = vm.root(e);
    let s = vm.sym("__traceback__");
    let tb = match crate::attr::instance_attr(vm, e, s) {
        Some(tb) if vm.layout(tb) == L::LIST => tb,
        _ => {
            let l = vm.new_list(4)?;
            crate::attr::set_instance_attr(vm, vm.get(er), s, l)?;
            l
        }
    };
    let tbr = vm.root(tb);
    let f = vm.new_str(file)?;
    let fr = vm.root(f);
    let l = vm.new_int(line as i64)?;
    let lr = vm.root(l);
    let n = vm.new_str(func)?;
    let nr = vm.root(n);
    let entry = vm.new_tuple_from(&[fr, lr, nr])?;
    crate::list::append(vm, vm.get(tbr), entry)
}

/// Clears the traceback of an exception (when it is raised anew with `raise e`).
pub fn clear_traceback(vm: &mut Vm, e: Ref) -> Res<()> {
    if vm.layout(e) != L::INSTANCE {
        return Ok(());
    }
    let s = vm.sym("__traceback__");
    let none = vm.none;
    if crate::attr::instance_attr(vm, e, s).is_some() {
        crate::attr::set_instance_attr(vm, e, s, none)?;
    }
    Ok(())
}

/// `str(e)` of an exception: its single argument, the tuple of several, or empty.
pub fn message(vm: &mut Vm, e: Ref) -> Res<String> {
    let args = args_of(vm, e);
    if vm.layout(args) != L::TUPLE {
        return Ok(String::new());
    }
    match vm.heap.len(args) {
        0 => Ok(String::new()),
        1 => {
            let a = vm.heap.field(args, L::ITEMS);
            if vm.isinstance(e, vm.exc_type(Exc::KeyError)) {
                return crate::repr::repr(vm, a);
            }
            crate::repr::str(vm, a)
        }
        _ => crate::repr::repr(vm, args),
    }
}

/// The report CPython prints for an uncaught exception.
pub fn format_uncaught(vm: &mut Vm, e: Ref) -> String {
    let mark = vm.roots_mark();
    let er = vm.root(e);
    let mut out = String::from("Traceback (most recent call last):\n");
    let s = vm.sym("__traceback__");
    if let Some(tb) = crate::attr::instance_attr(vm, e, s).filter(|tb| vm.layout(*tb) == L::LIST) {
        // Entries were appended innermost first; print outermost first.
        for i in (0..crate::list::len(vm, tb)).rev() {
            let entry = crate::list::get(vm, tb, i);
            let file = vm.str_of(vm.heap.field(entry, L::ITEMS)).to_string();
            let line = vm.heap.word(vm.heap.field(entry, L::ITEMS + 1), L::VALUE);
            let func = vm.str_of(vm.heap.field(entry, L::ITEMS + 2)).to_string();
            out.push_str(&format!("  File \"{file}\", line {line}, in {func}\n"));
            if let Some(text) = crate::io::source_line(&file, line as u32) {
                out.push_str(&format!("    {}\n", text.trim()));
            }
        }
    }
    let e = vm.get(er);
    let name = vm.type_name_of(e);
    let msg = message(vm, e).unwrap_or_default();
    if msg.is_empty() {
        out.push_str(&format!("{name}\n"));
    } else {
        out.push_str(&format!("{name}: {msg}\n"));
    }
    vm.roots_reset(mark);
    out
}
