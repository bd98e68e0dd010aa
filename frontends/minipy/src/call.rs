//! Calls: binding arguments to a new frame (positional, keywords, defaults, `*args`,
//! `**kwargs`, cells), calling builtins and classes, and [`call_function`], the entry used by
//! Rust code (dunder methods, sort keys, `map`) that runs a Python function to completion in a
//! nested interpreter run.

use crate::bytecode::CodeId;
use crate::layout as L;
use crate::vm::{Exc, Res, Root, Vm};
use tracelab_runtime::gc::Ref;

/// What a call produced: a value at once, or a frame the interpreter must run.
pub enum Callee {
    Done(Ref),
    Frame(Ref),
}

/// Keyword arguments of a call: a tuple of names and their values.
pub struct Kw<'a> {
    pub names: Root,
    pub values: &'a [Root],
}

/// Calls `f` with positional arguments from Rust and runs it to completion.
pub fn call_function(vm: &mut Vm, f: Ref, args: &[Root]) -> Res<Ref> {
    call_with(vm, f, args, None)
}

pub fn call_with(vm: &mut Vm, f: Ref, args: &[Root], kw: Option<Kw>) -> Res<Ref> {
    match prepare(vm, f, args, kw)? {
        Callee::Done(r) => Ok(r),
        Callee::Frame(frame) => crate::interp::run_nested(vm, frame),
    }
}

/// Calls `f(*args)` where args are plain refs (rooted here).
pub fn call_refs(vm: &mut Vm, f: Ref, args: &[Ref]) -> Res<Ref> {
    let fr = vm.root(f);
    let roots: Vec<Root> = args.iter().map(|a| vm.root(*a)).collect();
    call_function(vm, vm.get(fr), &roots)
}

/// Sets up a call of any callable.
pub fn prepare(vm: &mut Vm, f: Ref, args: &[Root], kw: Option<Kw>) -> Res<Callee> {
    match vm.layout(f) {
        L::FUNCTION => {
            let fr = vm.root(f);
            let frame = function_frame(vm, fr, None, args, kw)?;
            start(vm, fr, frame)
        }
        L::METHOD => {
            let s = vm.heap.field(f, L::METHOD_SELF);
            let func = vm.heap.field(f, L::METHOD_FUNC);
            let sr = vm.root(s);
            if vm.layout(func) == L::FUNCTION {
                let fr = vm.root(func);
                let frame = function_frame(vm, fr, Some(sr), args, kw)?;
                return start(vm, fr, frame);
            }
            let mut all = vec![sr];
            all.extend_from_slice(args);
            prepare(vm, func, &all, kw)
        }
        L::BUILTIN => crate::builtins::call_builtin(vm, f, args, kw).map(Callee::Done),
        L::TYPE => crate::builtins::call_type(vm, f, args, kw).map(Callee::Done),
        L::INSTANCE => {
            let t = vm.type_of(f);
            match crate::types::lookup(vm, t, "__call__") {
                Some(call) => {
                    let bound = crate::attr::bind(vm, call, f, t)?;
                    prepare(vm, bound, args, kw)
                }
                None => not_callable(vm, f),
            }
        }
        _ => not_callable(vm, f),
    }
}

fn not_callable<T>(vm: &mut Vm, f: Ref) -> Res<T> {
    let t = vm.type_name_of(f);
    vm.type_error(format!("'{t}' object is not callable"))
}

/// A generator function returns its generator; others hand back the frame.
fn start(vm: &mut Vm, func: Root, frame: Ref) -> Res<Callee> {
    let id = CodeId(vm.heap.word(vm.get(func), L::FUNC_CODE) as u32);
    if !vm.codes[id.0 as usize].flags.generator {
        return Ok(Callee::Frame(frame));
    }
    let fr = vm.root(frame);
    let g = vm.alloc(L::GENERATOR, 0)?;
    let name = vm.heap.field(vm.get(func), L::FUNC_NAME);
    vm.heap.set_field(g, L::GEN_FRAME, vm.get(fr));
    vm.heap.set_field(g, L::GEN_NAME, name);
    Ok(Callee::Done(g))
}

/// Allocates a frame for code `id` (slots null, stack empty).
pub fn new_frame(vm: &mut Vm, id: CodeId, globals: Ref, func: Ref) -> Res<Ref> {
    let gr = vm.root(globals);
    let fr = vm.root(func);
    let slots = vm.codes[id.0 as usize].frame_slots();
    let base = vm.codes[id.0 as usize].varnames.len() + vm.codes[id.0 as usize].ncells();
    let frame = vm.alloc(L::FRAME, slots)?;
    let consts = vm.consts_of(id);
    vm.heap.set_word(frame, L::FRAME_CODE, id.0 as u64);
    vm.heap.set_word(frame, L::FRAME_SP, base as u64);
    vm.heap.set_field(frame, L::FRAME_GLOBALS, vm.get(gr));
    vm.heap.set_field(frame, L::FRAME_NAMESPACE, vm.get(gr));
    vm.heap.set_field(frame, L::FRAME_FUNC, vm.get(fr));
    vm.heap.set_field(frame, L::FRAME_CONSTS, consts);
    Ok(frame)
}

/// Builds the frame of a call of Python function `func` with `self_` (for methods) first.
fn function_frame(vm: &mut Vm, func: Root, self_: Option<Root>, args: &[Root], kw: Option<Kw>) -> Res<Ref> {
    let f = vm.get(func);
    let id = CodeId(vm.heap.word(f, L::FUNC_CODE) as u32);
    let globals = vm.heap.field(f, L::FUNC_GLOBALS);
    let frame = new_frame(vm, id, globals, f)?;
    let frame_root = vm.root(frame);
    let mut positional: Vec<Root> = Vec::with_capacity(args.len() + 1);
    positional.extend(self_);
    positional.extend_from_slice(args);
    bind(vm, func, frame_root, id, &positional, kw)?;
    make_cells(vm, func, frame_root, id)?;
    Ok(vm.get(frame_root))
}

fn set_local(vm: &mut Vm, frame: Root, i: usize, v: Ref) {
    let f = vm.get(frame);
    vm.heap.set_field(f, L::FRAME_SLOTS + i, v);
}

fn local(vm: &Vm, frame: Root, i: usize) -> Ref {
    vm.heap.field(vm.get(frame), L::FRAME_SLOTS + i)
}

fn bind(vm: &mut Vm, func: Root, frame: Root, id: CodeId, pos: &[Root], kw: Option<Kw>) -> Res<()> {
    let code = &vm.codes[id.0 as usize];
    let argcount = code.argcount as usize;
    let kwonly = code.kwonlyargcount as usize;
    let flags = code.flags;
    let name = code.name.clone();
    let varnames: Vec<String> = code.varnames[..argcount + kwonly].to_vec();
    let nparams = argcount + kwonly;
    // Positional arguments.
    for (i, a) in pos.iter().take(argcount).enumerate() {
        let v = vm.get(*a);
        set_local(vm, frame, i, v);
    }
    let mut slot_after = nparams;
    if flags.varargs {
        let extra: Vec<Root> = pos.iter().skip(argcount).copied().collect();
        let t = vm.new_tuple_from(&extra)?;
        set_local(vm, frame, slot_after, t);
        slot_after += 1;
    } else if pos.len() > argcount {
        let given = pos.len();
        return vm.type_error(format!(
            "{name}() takes {argcount} positional argument{} but {given} {} given",
            if argcount == 1 { "" } else { "s" },
            if given == 1 { "was" } else { "were" }
        ));
    }
    let kwargs_slot = flags.varkw.then_some(slot_after);
    if let Some(k) = kwargs_slot {
        let d = crate::dict::new(vm, L::DICT)?;
        set_local(vm, frame, k, d);
    }
    if let Some(kw) = kw {
        let names = vm.get(kw.names);
        for (j, v) in kw.values.iter().enumerate() {
            let names = vm.get(kw.names);
            let _ = names;
            let key = vm.heap.field(vm.get(kw.names), L::ITEMS + j);
            let key_text = vm.str_of(key).to_string();
            match varnames.iter().position(|n| *n == key_text) {
                Some(i) => {
                    if !local(vm, frame, i).is_null() {
                        return vm.type_error(format!("{name}() got multiple values for argument '{key_text}'"));
                    }
                    let v = vm.get(*v);
                    set_local(vm, frame, i, v);
                }
                None => match kwargs_slot {
                    Some(k) => {
                        let d = local(vm, frame, k);
                        let v = vm.get(*v);
                        crate::dict::set(vm, d, key, v)?;
                    }
                    None => return vm.type_error(format!("{name}() got an unexpected keyword argument '{key_text}'")),
                },
            }
        }
        let _ = names;
    }
    // Defaults for what is still missing.
    let f = vm.get(func);
    let defaults = vm.heap.field(f, L::FUNC_DEFAULTS);
    let ndefaults = if defaults.is_null() { 0 } else { vm.heap.len(defaults) };
    let mut missing = vec![];
    for i in 0..argcount {
        if !local(vm, frame, i).is_null() {
            continue;
        }
        if i + ndefaults >= argcount {
            let d = vm.heap.field(vm.heap.field(vm.get(func), L::FUNC_DEFAULTS), L::ITEMS + i + ndefaults - argcount);
            set_local(vm, frame, i, d);
        } else {
            missing.push(varnames[i].clone());
        }
    }
    if !missing.is_empty() {
        let list = quote_names(&missing);
        return vm.type_error(format!(
            "{name}() missing {} required positional argument{}: {list}",
            missing.len(),
            if missing.len() == 1 { "" } else { "s" }
        ));
    }
    let mut missing_kw = vec![];
    for i in argcount..nparams {
        if !local(vm, frame, i).is_null() {
            continue;
        }
        let kwd = vm.heap.field(vm.get(func), L::FUNC_KWDEFAULTS);
        let found = if kwd.is_null() || kwd == vm.none { None } else { crate::dict::get_str(vm, kwd, &varnames[i]) };
        match found {
            Some(v) => set_local(vm, frame, i, v),
            None => missing_kw.push(varnames[i].clone()),
        }
    }
    if !missing_kw.is_empty() {
        let list = quote_names(&missing_kw);
        return vm.type_error(format!(
            "{name}() missing {} required keyword-only argument{}: {list}",
            missing_kw.len(),
            if missing_kw.len() == 1 { "" } else { "s" }
        ));
    }
    Ok(())
}

fn quote_names(names: &[String]) -> String {
    let q: Vec<String> = names.iter().map(|n| format!("'{n}'")).collect();
    match q.len() {
        1 => q[0].clone(),
        2 => format!("{} and {}", q[0], q[1]),
        _ => format!("{}, and {}", q[..q.len() - 1].join(", "), q[q.len() - 1]),
    }
}

/// Creates the frame's cells (a captured parameter starts with its value) and copies the
/// closure's cells into the free-variable slots.
pub fn make_cells(vm: &mut Vm, func: Root, frame: Root, id: CodeId) -> Res<()> {
    let code = &vm.codes[id.0 as usize];
    let nlocals = code.varnames.len();
    let ncell = code.cellvars.len();
    let nfree = code.freevars.len();
    let params = code.cell_params.clone();
    for i in 0..ncell {
        let cell = vm.alloc(L::CELL, 0)?;
        if let Some(p) = params[i] {
            let v = local(vm, frame, p as usize);
            vm.heap.set_field(cell, L::CELL_VALUE, v);
        }
        set_local(vm, frame, nlocals + i, cell);
    }
    if nfree > 0 {
        let f = vm.get(func);
        let closure = vm.heap.field(f, L::FUNC_CLOSURE);
        for i in 0..nfree.min(if closure.is_null() { 0 } else { vm.heap.len(closure) }) {
            let c = vm.heap.field(vm.heap.field(vm.get(func), L::FUNC_CLOSURE), L::ITEMS + i);
            set_local(vm, frame, nlocals + ncell + i, c);
        }
    }
    Ok(())
}

/// A frame for a class body or module: cells made, namespace set.
pub fn namespace_frame(vm: &mut Vm, id: CodeId, globals: Ref, namespace: Ref, func: Ref) -> Res<Ref> {
    let nr = vm.root(namespace);
    let fr = vm.root(func);
    let frame = new_frame(vm, id, globals, func)?;
    let frame_root = vm.root(frame);
    vm.heap.set_field(vm.get(frame_root), L::FRAME_NAMESPACE, vm.get(nr));
    make_cells(vm, fr, frame_root, id)?;
    Ok(vm.get(frame_root))
}

/// Raises `TypeError` unless a builtin got between `min` and `max` positional arguments.
pub fn arity(vm: &mut Vm, name: &str, n: usize, min: usize, max: usize) -> Res<()> {
    if n >= min && n <= max {
        return Ok(());
    }
    if min == max {
        let plural = if min == 1 { "" } else { "s" };
        return vm.type_error(format!("{name}() takes exactly {min} argument{plural} ({n} given)"));
    }
    if n < min {
        let plural = if min == 1 { "" } else { "s" };
        return vm.type_error(format!("{name} expected at least {min} argument{plural}, got {n}"));
    }
    let plural = if max == 1 { "" } else { "s" };
    vm.type_error(format!("{name} expected at most {max} argument{plural}, got {n}"))
}

pub fn recursion_error<T>(vm: &mut Vm) -> Res<T> {
    vm.raise(Exc::RecursionError, "maximum recursion depth exceeded")
}
