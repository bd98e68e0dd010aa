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

/// The `__cause__` of `raise e from cause`: an exception (a class is instantiated) or None.
pub fn as_cause(vm: &mut Vm, cause: Ref) -> Res<Ref> {
    if cause == vm.none || is_exception(vm, cause) {
        return Ok(cause);
    }
    if vm.layout(cause) == L::TYPE && vm.heap.word(cause, L::TYPE_FLAGS) & crate::types::FLAG_EXCEPTION != 0 {
        return crate::call::call_function(vm, cause, &[]);
    }
    vm.type_error("exception causes must derive from BaseException")
}

pub fn is_exception(vm: &Vm, e: Ref) -> bool {
    vm.layout(e) == L::INSTANCE && vm.heap.word(vm.type_of(e), L::TYPE_FLAGS) & crate::types::FLAG_EXCEPTION != 0
}

/// Records the exception being handled, if any, as `e.__context__` (implicit chaining).
pub fn set_context(vm: &mut Vm, e: Ref) -> Res<()> {
    let handled = vm.get(vm.handled);
    let n = crate::list::len(vm, handled);
    if n == 0 {
        return Ok(());
    }
    let context = crate::list::get(vm, handled, n - 1);
    if context == e {
        return Ok(());
    }
    let s = vm.sym("__context__");
    crate::attr::set_instance_attr(vm, e, s, context)
}

pub fn raise_key_error<T>(vm: &mut Vm, key: Ref) -> Res<T> {
    let kr = vm.root(key);
    let args = vm.new_tuple_from(&[kr])?;
    let t = vm.exc_type(Exc::KeyError);
    let e = new_exception(vm, t, args)?;
    vm.set_exception(e);
    Err(crate::vm::Raised)
}

/// Raises `StopIteration(value)` (with no arguments when `value` is None, as CPython does).
pub fn raise_stop_iteration<T>(vm: &mut Vm, value: Ref) -> Res<T> {
    let vr = vm.root(value);
    let args = if value == vm.none { vm.empty_tuple } else { vm.new_tuple_from(&[vr])? };
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
            let lr = vm.root(l);
            // Storing may grow the attribute storage (an allocation): read the list back.
            crate::attr::set_instance_attr(vm, vm.get(er), s, l)?;
            vm.get(lr)
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
        2 if vm.isinstance(e, vm.exc_type(Exc::OSError)) => {
            // `OSError(errno, strerror)` reads "[Errno N] text", with the file name if set.
            let (errno, text) = (vm.heap.field(args, L::ITEMS), vm.heap.field(args, L::ITEMS + 1));
            let mut m = format!("[Errno {}] {}", crate::repr::str(vm, errno)?, crate::repr::str(vm, text)?);
            let s = vm.sym("filename");
            if let Some(f) = crate::attr::instance_attr(vm, e, s).filter(|f| *f != vm.none) {
                m.push_str(&format!(": {}", crate::repr::repr(vm, f)?));
            }
            Ok(m)
        }
        _ => crate::repr::repr(vm, args),
    }
}

/// Raises `OSError` subclass `kind` as CPython does for a failed system call on `path`:
/// args `(errno, strerror)` and the attributes `errno`, `strerror`, `filename`.
pub fn raise_os_error<T>(vm: &mut Vm, kind: Exc, errno: i64, text: &str, path: &str) -> Res<T> {
    let n = vm.new_int(errno)?;
    let nr = vm.root(n);
    let t = vm.new_str(text)?;
    let tr = vm.root(t);
    let p = vm.new_str(path)?;
    let pr = vm.root(p);
    let args = vm.new_tuple_from(&[nr, tr])?;
    let ty = vm.exc_type(kind);
    let e = new_exception(vm, ty, args)?;
    let er = vm.root(e);
    for (name, v) in [("errno", nr), ("strerror", tr), ("filename", pr)] {
        let s = vm.sym(name);
        crate::attr::set_instance_attr(vm, vm.get(er), s, vm.get(v))?;
    }
    vm.set_exception(vm.get(er));
    Err(crate::vm::Raised)
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
