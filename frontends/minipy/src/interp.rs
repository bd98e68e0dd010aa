//! The interpreter loop: each bytecode's semantics, written once against [`Exec`].
//!
//! Python-to-Python calls push a frame and continue in the same loop (no Rust recursion);
//! Rust code that calls Python (dunders, sort keys, generators' `next`) runs a nested loop
//! ([`run_nested`]) whose entry frame has no caller. Recursion depth counts both, so deep
//! recursion raises `RecursionError` long before the Rust stack could overflow (the CLI also
//! runs programs on a large stack). An exception unwinds through the code's per-instruction
//! handler table; each frame it leaves adds a traceback entry.

use crate::bytecode::{BinOp, CmpOp, CodeId, Op};
use crate::call::{self, Callee, Kw};
use crate::effects as E;
use crate::exec::{Concrete, Exec, FloatOp};
use crate::layout as L;
use crate::ops;
use crate::vm::{Exc, Raised, Res, Vm};
use tracelab_runtime::gc::Ref;

/// How a run of the loop ended.
pub enum Exit {
    Returned(Ref),
    Yielded(Ref),
    /// The context is done (a recording closed its loop or gave up): the caller's loop goes on
    /// from the current frame.
    Left,
}

enum Flow<V> {
    Next,
    /// Enter a new frame (already allocated, arguments bound).
    Enter(Ref),
    Return(V),
    Yield(V),
}

/// Runs `frame` to completion from Rust (a nested run).
pub fn run_nested(vm: &mut Vm, frame: Ref) -> Res<Ref> {
    match run_frame(vm, frame)? {
        Exit::Returned(v) => Ok(v),
        Exit::Yielded(_) => vm.raise(Exc::RuntimeError, "yield outside a generator frame"),
        Exit::Left => vm.raise(Exc::RuntimeError, "internal error: a nested run left its loop"),
    }
}

/// Runs `frame` (fresh or suspended) until it returns or yields.
pub fn run_frame(vm: &mut Vm, frame: Ref) -> Res<Exit> {
    if vm.depth >= vm.recursion_limit {
        return call::recursion_error(vm);
    }
    let outer = vm.get(vm.frame);
    let outer_root = vm.root(outer);
    vm.heap.set_field(frame, L::FRAME_BACK, Ref::NULL);
    let handled = crate::list::len(vm, vm.get(vm.handled));
    vm.heap.set_word(frame, L::FRAME_HANDLED, handled as u64);
    vm.set(vm.frame, frame);
    vm.depth += 1;
    let result = run(&mut Concrete { vm });
    vm.depth -= 1;
    let outer = vm.get(outer_root);
    vm.set(vm.frame, outer);
    result
}

/// Resumes a generator: its next value, `None` when it is exhausted.
pub fn resume_generator(vm: &mut Vm, g: Ref) -> Res<Option<Ref>> {
    let none = vm.none;
    send_generator(vm, g, none)
}

/// `g.send(value)`: resumes the generator with `value` as the result of the `yield` it is
/// suspended at (None for `next`).
pub fn send_generator(vm: &mut Vm, g: Ref, value: Ref) -> Res<Option<Ref>> {
    const FRESH: u64 = 0;
    const RUNNING: u64 = 2;
    const DONE: u64 = 3;
    let state = vm.heap.word(g, L::GEN_STATE);
    if state == DONE {
        return Ok(None);
    }
    if state == RUNNING {
        return vm.value_error("generator already executing");
    }
    if state == FRESH && value != vm.none {
        return vm.type_error("can't send non-None value to a just-started generator");
    }
    if state != FRESH {
        // The suspended `yield` left its result slot on top of the frame's stack.
        let frame = vm.heap.field(g, L::GEN_FRAME);
        let sp = vm.heap.word(frame, L::FRAME_SP) as usize;
        vm.heap.set_field(frame, L::FRAME_SLOTS + sp - 1, value);
    }
    let gr = vm.root(g);
    vm.heap.set_word(g, L::GEN_STATE, RUNNING);
    let frame = vm.heap.field(g, L::GEN_FRAME);
    let result = run_frame(vm, frame);
    let g = vm.get(gr);
    match result {
        Ok(Exit::Yielded(v)) => {
            vm.heap.set_word(g, L::GEN_STATE, 1);
            Ok(Some(v))
        }
        Ok(Exit::Returned(v)) => {
            vm.heap.set_word(g, L::GEN_STATE, DONE);
            vm.heap.set_field(g, L::GEN_RETURN, v);
            Ok(None)
        }
        Ok(Exit::Left) => vm.raise(Exc::RuntimeError, "internal error: a generator's run left its loop"),
        Err(e) => {
            vm.heap.set_word(g, L::GEN_STATE, DONE);
            Err(e)
        }
    }
}

/// The value a finished generator returned (None once taken, or if it has not returned).
pub fn take_return_value(vm: &mut Vm, g: Ref) -> Ref {
    let v = vm.heap.field(g, L::GEN_RETURN);
    vm.heap.set_field(g, L::GEN_RETURN, Ref::NULL);
    if v.is_null() { vm.none } else { v }
}

/// The loop. Returns when the entry frame (the one without a caller) returns or yields, or
/// the context is done ([`Exit::Left`]).
pub fn run<X: Exec>(x: &mut X) -> Res<Exit> {
    loop {
        let mark = x.vm().roots_mark();
        let f = x.frame();
        // The code and the bytecode index are green: read directly, never traced.
        let code = CodeId(x.vm().heap.word(f, L::FRAME_CODE) as u32);
        let pc = x.vm().heap.word(f, L::FRAME_PC) as usize;
        let op = x.vm().codes[code.0 as usize].ops[pc];
        if !x.before_op(code, pc, op) {
            x.vm().roots_reset(mark);
            return Ok(Exit::Left);
        }
        x.vm().heap.set_word(f, L::FRAME_PC, pc as u64 + 1);
        let flow = step(x, op, code);
        x.vm().roots_reset(mark);
        match flow {
            Ok(Flow::Next) => {
                if let Op::Jump(target) = op {
                    if target as usize <= pc {
                        // Compiled code that ran from here may leave an exception pending
                        // (a helper raised): it unwinds like one raised by a bytecode.
                        match x.loop_header(code, target as usize) {
                            Ok(Some(exit)) => return Ok(exit),
                            Ok(None) => {}
                            Err(Raised) => {
                                x.raised();
                                unwind(x, false)?;
                            }
                        }
                    }
                }
            }
            Ok(Flow::Enter(frame)) => enter(x, frame)?,
            Ok(Flow::Return(v)) => {
                if let Some(exit) = leave(x, v) {
                    return Ok(exit);
                }
            }
            Ok(Flow::Yield(v)) => {
                let v = x.concrete(v);
                return Ok(Exit::Yielded(v));
            }
            Err(Raised) => {
                let reraise = matches!(op, Op::Reraise);
                x.raised();
                unwind(x, reraise)?;
            }
        }
    }
}

fn enter<X: Exec>(x: &mut X, frame: Ref) -> Res<()> {
    let vm = x.vm();
    if vm.depth >= vm.recursion_limit {
        return call::recursion_error(vm).or_else(|_| unwind(x, false));
    }
    let caller = vm.get(vm.frame);
    vm.heap.set_field(frame, L::FRAME_BACK, caller);
    let handled = crate::list::len(vm, vm.get(vm.handled));
    vm.heap.set_word(frame, L::FRAME_HANDLED, handled as u64);
    vm.set(vm.frame, frame);
    vm.depth += 1;
    x.entered_frame();
    Ok(())
}

/// Returns from the current frame; `Some` when it was the entry frame of this run.
fn leave<X: Exec>(x: &mut X, v: X::V) -> Option<Exit> {
    let vm = x.vm();
    let f = vm.get(vm.frame);
    let back = vm.heap.field(f, L::FRAME_BACK);
    if back.is_null() {
        return Some(Exit::Returned(x.concrete(v)));
    }
    vm.depth -= 1;
    vm.set(vm.frame, back);
    x.returned_frame();
    x.push(v);
    None
}

/// Finds the handler for the pending exception, leaving frames as needed; `Err` when it
/// leaves the entry frame of this run.
fn unwind<X: Exec>(x: &mut X, reraise: bool) -> Res<()> {
    let mut first = true;
    loop {
        let vm = x.vm();
        let f = vm.get(vm.frame);
        let code = CodeId(vm.heap.word(f, L::FRAME_CODE) as u32);
        let pc = vm.heap.word(f, L::FRAME_PC).saturating_sub(1) as usize;
        if !(first && reraise) {
            let c = &vm.codes[code.0 as usize];
            let (file, line, name) = (c.filename.clone(), c.lines[pc], c.name.clone());
            crate::exceptions::add_traceback(vm, &file, line, &name)?;
        }
        first = false;
        let handled_base = vm.heap.word(vm.get(vm.frame), L::FRAME_HANDLED) as usize;
        let handler = vm.codes[code.0 as usize].handler_for(pc as u32);
        if let Some(h) = handler {
            let c = &vm.codes[code.0 as usize];
            let base = c.varnames.len() + c.ncells();
            let handled = vm.get(vm.handled);
            crate::list::truncate(vm, handled, handled_base + h.level as usize);
            let e = vm.exception();
            vm.set_exception(Ref::NULL);
            let f = vm.get(vm.frame);
            vm.heap.set_word(f, L::FRAME_PC, h.handler as u64);
            // Clear the abandoned stack slots so they keep nothing alive.
            let sp = vm.heap.word(f, L::FRAME_SP) as usize;
            for s in base + h.depth as usize..sp {
                vm.heap.set_field(f, L::FRAME_SLOTS + s, Ref::NULL);
            }
            x.set_sp(base + h.depth as usize);
            let e = x.opaque(e);
            x.push(e);
            return Ok(());
        }
        let handled = vm.get(vm.handled);
        crate::list::truncate(vm, handled, handled_base);
        let f = vm.get(vm.frame);
        let back = vm.heap.field(f, L::FRAME_BACK);
        if back.is_null() {
            return Err(Raised);
        }
        vm.depth -= 1;
        vm.set(vm.frame, back);
    }
}

/// Constant `i` of the current code (a constant in a trace: the code is green).
fn konst<X: Exec>(x: &mut X, code: CodeId, i: u32) -> X::V {
    let f = x.frame();
    let vm = x.vm();
    let t = vm.heap.field(f, L::FRAME_CONSTS);
    let r = vm.heap.field(t, L::ITEMS + i as usize);
    x.code_constant(code, i, r)
}

/// The name `i` of the current code, as a `str` object.
fn name_obj<X: Exec>(x: &mut X, code: CodeId, i: u32) -> X::V {
    let n = x.vm().codes[code.0 as usize].consts.len() as u32;
    konst(x, code, n + i)
}

fn name_text(vm: &Vm, code: CodeId, i: u32) -> &str {
    &vm.codes[code.0 as usize].names[i as usize]
}

fn jump<X: Exec>(x: &mut X, target: u32) {
    let f = x.frame();
    x.vm().heap.set_word(f, L::FRAME_PC, target as u64);
}

fn step<X: Exec>(x: &mut X, op: Op, code: CodeId) -> Res<Flow<X::V>> {
    match op {
        Op::Nop => {}
        Op::Pop => {
            x.pop();
        }
        Op::Dup => {
            let v = x.peek(0);
            x.push(v);
        }
        Op::DupTwo => {
            let (a, b) = (x.peek(1), x.peek(0));
            x.push(a);
            x.push(b);
        }
        Op::Rot2 => {
            let (a, b) = (x.peek(1), x.peek(0));
            x.set_peek(1, b);
            x.set_peek(0, a);
        }
        Op::Rot3 => {
            let (a, b, c) = (x.peek(2), x.peek(1), x.peek(0));
            x.set_peek(2, c);
            x.set_peek(1, a);
            x.set_peek(0, b);
        }
        Op::Rot4 => {
            let (a, b, c, d) = (x.peek(3), x.peek(2), x.peek(1), x.peek(0));
            x.set_peek(3, d);
            x.set_peek(2, a);
            x.set_peek(1, b);
            x.set_peek(0, c);
        }
        Op::LoadConst(i) => {
            let v = konst(x, code, i);
            x.push(v);
        }
        Op::LoadFast(i) => {
            let v = x.slot(i as usize);
            if x.is_null(v) {
                let name = x.vm().codes[code.0 as usize].varnames[i as usize].clone();
                return x.vm().raise(
                    Exc::UnboundLocalError,
                    format!("cannot access local variable '{name}' where it is not associated with a value"),
                );
            }
            x.push(v);
        }
        Op::StoreFast(i) => {
            let v = x.pop();
            x.set_slot(i as usize, v);
        }
        Op::DeleteFast(i) => {
            let v = x.slot(i as usize);
            if x.is_null(v) {
                let name = x.vm().codes[code.0 as usize].varnames[i as usize].clone();
                return x.vm().raise(
                    Exc::UnboundLocalError,
                    format!("cannot access local variable '{name}' where it is not associated with a value"),
                );
            }
            let null = x.constant(Ref::NULL);
            x.set_slot(i as usize, null);
        }
        Op::LoadDeref(i) => {
            let cell = x.slot(i as usize);
            let v = x.field(cell, &E::CELL_VALUE);
            if x.is_null(v) {
                let c = &x.vm().codes[code.0 as usize];
                let k = i as usize - c.varnames.len();
                let name = c.cellvars.iter().chain(&c.freevars).nth(k).cloned().unwrap_or_default();
                return x.vm().raise(
                    Exc::NameError,
                    format!("cannot access free variable '{name}' where it is not associated with a value in enclosing scope"),
                );
            }
            x.push(v);
        }
        Op::StoreDeref(i) => {
            let v = x.pop();
            let cell = x.slot(i as usize);
            x.set_field(cell, &E::CELL_VALUE, v);
        }
        Op::DeleteDeref(i) => {
            let cell = x.slot(i as usize);
            let cell = x.concrete(cell);
            x.vm().heap.set_field(cell, L::CELL_VALUE, Ref::NULL);
        }
        Op::LoadClosure(i) => {
            let cell = x.slot(i as usize);
            x.push(cell);
        }
        Op::LoadGlobal(i) => {
            let v = load_global(x, code, i)?;
            x.push(v);
        }
        Op::StoreGlobal(i) => {
            let key = name_obj(x, code, i);
            let v = x.peek(0);
            let globals = globals(x);
            let args = [x.ref_word(globals), x.ref_word(key), x.ref_word(v)];
            x.call(&E::STORE_GLOBAL, &args)?;
            x.pop();
        }
        Op::DeleteGlobal(i) => {
            let key = name_obj(x, code, i);
            let key = x.concrete(key);
            let f = x.frame();
            let globals = x.vm().heap.field(f, L::FRAME_GLOBALS);
            if crate::dict::remove(x.vm(), globals, key, false)?.is_none() {
                let n = name_text(x.vm(), code, i).to_string();
                return x.vm().raise(Exc::NameError, format!("name '{n}' is not defined"));
            }
        }
        Op::LoadName(i) => {
            let f = x.frame();
            let ns = x.vm().heap.field(f, L::FRAME_NAMESPACE);
            let n = name_text(x.vm(), code, i).to_string();
            match crate::dict::get_str(x.vm(), ns, &n) {
                Some(v) => {
                    let v = x.opaque(v);
                    x.push(v)
                }
                None => {
                    let v = load_global(x, code, i)?;
                    x.push(v);
                }
            }
        }
        Op::StoreName(i) => {
            let key = name_obj(x, code, i);
            let key = x.concrete(key);
            let v = x.peek(0);
            let v = x.concrete(v);
            let f = x.frame();
            let ns = x.vm().heap.field(f, L::FRAME_NAMESPACE);
            crate::dict::set(x.vm(), ns, key, v)?;
            x.pop();
        }
        Op::DeleteName(i) => {
            let key = name_obj(x, code, i);
            let key = x.concrete(key);
            let f = x.frame();
            let ns = x.vm().heap.field(f, L::FRAME_NAMESPACE);
            if crate::dict::remove(x.vm(), ns, key, false)?.is_none() {
                let n = name_text(x.vm(), code, i).to_string();
                return x.vm().raise(Exc::NameError, format!("name '{n}' is not defined"));
            }
        }
        Op::LoadAttr(i) => {
            let obj = x.peek(0);
            let sym = x.vm().code_syms[code.0 as usize][i as usize];
            let v = load_attr_fast(x, obj, sym)?;
            x.set_peek(0, v);
        }
        Op::StoreAttr(i) => {
            let obj = x.peek(0);
            let v = x.peek(1);
            let sym = x.vm().code_syms[code.0 as usize][i as usize];
            store_attr_fast(x, obj, sym, v)?;
            x.pop();
            x.pop();
        }
        Op::DeleteAttr(i) => {
            let obj = x.peek(0);
            let obj = x.concrete(obj);
            let sym = x.vm().code_syms[code.0 as usize][i as usize];
            crate::attr::delete(x.vm(), obj, sym)?;
            x.pop();
        }
        Op::LoadMethod(i) => {
            let obj = x.peek(0);
            let sym = x.vm().code_syms[code.0 as usize][i as usize];
            // A plain function found on an instance's class is pushed unbound, with self.
            let args = [x.ref_word(obj), x.const_word(sym.0 as u64)];
            let f = x.call(&E::METHOD_ON_CLASS, &args)?;
            let f = x.word_ref(f);
            if !x.is_null(f) {
                // The lookup allocates nothing, so `obj` is still valid.
                x.set_peek(0, f);
                x.push(obj);
            } else {
                let v = load_attr_fast(x, obj, sym)?;
                x.set_peek(0, v);
                let null = x.constant(Ref::NULL);
                x.push(null);
            }
        }
        Op::CallMethod(n) => {
            let n = n as usize;
            let self_ = x.peek(n);
            if x.is_null(self_) {
                // [callable, NULL, args...] → shift args down over the NULL.
                let sp = x.sp();
                for k in 0..n {
                    let v = x.slot(sp - n + k);
                    x.set_slot(sp - n - 1 + k, v);
                }
                let null = x.constant(Ref::NULL);
                x.set_slot(sp - 1, null);
                x.set_sp(sp - 1);
                return call_from_stack(x, n, None);
            }
            return call_from_stack(x, n + 1, None);
        }
        Op::Binary(b) => return binary(x, b, false),
        Op::InPlace(b) => return binary(x, b, true),
        Op::Unary(u) => {
            let a = x.peek(0);
            let args = [x.ref_word(a), x.const_word(u as u64)];
            let r = x.call(&E::UNARY, &args)?;
            let r = x.word_ref(r);
            x.set_peek(0, r);
        }
        Op::Compare(c) => return compare(x, c),
        Op::Is(want) => {
            let (a, b) = (x.peek(1), x.peek(0));
            let same = x.same(a, b);
            x.pop();
            let r = bool_obj(x, same == want);
            x.set_peek(0, r);
        }
        Op::Contains(want) => {
            let (item, container) = (x.peek(1), x.peek(0));
            let args = [x.ref_word(item), x.ref_word(container)];
            let found = x.call(&E::CONTAINS, &args)?;
            let zero = x.const_word(0);
            let found = !x.int_eq(found, zero);
            x.pop();
            let r = bool_obj(x, found == want);
            x.set_peek(0, r);
        }
        Op::Subscr => {
            let (obj, key) = (x.peek(1), x.peek(0));
            let v = subscr_fast(x, obj, key)?;
            x.pop();
            x.set_peek(0, v);
        }
        Op::StoreSubscr => {
            let (v, obj, key) = (x.peek(2), x.peek(1), x.peek(0));
            store_subscr(x, obj, key, v)?;
            for _ in 0..3 {
                x.pop();
            }
        }
        Op::DeleteSubscr => {
            let (obj, key) = (x.peek(1), x.peek(0));
            let (obj, key) = (x.concrete(obj), x.concrete(key));
            crate::seq::delitem(x.vm(), obj, key)?;
            x.pop();
            x.pop();
        }
        Op::BuildTuple(n) => {
            let t = build_from_stack(x, n as usize, &E::BUILD_TUPLE)?;
            x.push(t);
        }
        Op::BuildList(n) => {
            let l = build_from_stack(x, n as usize, &E::BUILD_LIST)?;
            x.push(l);
        }
        Op::BuildSet(n) => {
            let n = n as usize;
            let s = crate::set::new(x.vm())?;
            let sr = x.vm().root(s);
            let sp = x.sp();
            for k in 0..n {
                let v = x.slot(sp - n + k);
                let v = x.concrete(v);
                let s = x.vm().get(sr);
                crate::set::add(x.vm(), s, v)?;
            }
            drop_n(x, n);
            let s = x.vm().get(sr);
            let s = x.opaque(s);
            x.push(s);
        }
        Op::BuildMap(n) => {
            let n = n as usize;
            let d = crate::dict::new(x.vm(), L::DICT)?;
            let dr = x.vm().root(d);
            let sp = x.sp();
            for k in 0..n {
                let key = x.slot(sp - 2 * n + 2 * k);
                let key = x.concrete(key);
                let v = x.slot(sp - 2 * n + 2 * k + 1);
                let v = x.concrete(v);
                let d = x.vm().get(dr);
                crate::dict::set(x.vm(), d, key, v)?;
            }
            drop_n(x, 2 * n);
            let d = x.vm().get(dr);
            let d = x.opaque(d);
            x.push(d);
        }
        Op::BuildSlice(n) => {
            let k = n as usize;
            let step = if n == 3 { x.peek(0) } else { let none = x.vm().none; x.constant(none) };
            let (a, b) = (x.peek(k - 1), x.peek(k - 2));
            let args = [x.ref_word(a), x.ref_word(b), x.ref_word(step)];
            let s = x.call(&E::BUILD_SLICE, &args)?;
            let s = x.word_ref(s);
            drop_n(x, k);
            x.push(s);
        }
        Op::BuildString(n) => {
            let n = n as usize;
            let sp = x.sp();
            let mut text = String::new();
            for k in 0..n {
                let v = x.slot(sp - n + k);
                let v = x.concrete(v);
                text.push_str(x.vm().str_of(v));
            }
            let s = x.vm().new_str(&text)?;
            drop_n(x, n);
            let s = x.opaque(s);
            x.push(s);
        }
        Op::FormatValue { conversion, has_spec } => {
            let spec = if has_spec { let s = x.peek(0); Some(x.concrete(s)) } else { None };
            let v = x.peek(has_spec as usize);
            let v = x.concrete(v);
            let s = crate::format::format_value(x.vm(), v, conversion, spec)?;
            if has_spec {
                x.pop();
            }
            let s = x.opaque(s);
            x.set_peek(0, s);
        }
        Op::ListAppend(depth) => {
            let v = x.peek(0);
            let l = x.peek(depth as usize);
            let args = [x.ref_word(l), x.ref_word(v)];
            x.call(&E::LIST_APPEND, &args)?;
            x.pop();
        }
        Op::SetAdd(depth) => {
            let v = x.peek(0);
            let s = x.peek(depth as usize);
            let (v, s) = (x.concrete(v), x.concrete(s));
            crate::set::add(x.vm(), s, v)?;
            x.pop();
        }
        Op::MapAdd(depth) => {
            let (k, v) = (x.peek(1), x.peek(0));
            let d = x.peek(depth as usize + 1);
            let (k, v, d) = (x.concrete(k), x.concrete(v), x.concrete(d));
            crate::dict::set(x.vm(), d, k, v)?;
            x.pop();
            x.pop();
        }
        Op::ListExtend(depth) => {
            let v = x.peek(0);
            let l = x.peek(depth as usize);
            let (v, l) = (x.concrete(v), x.concrete(l));
            crate::seq::extend(x.vm(), l, v)?;
            x.pop();
        }
        Op::SetUpdate(depth) => {
            let v = x.peek(0);
            let s = x.peek(depth as usize);
            let (v, s) = (x.concrete(v), x.concrete(s));
            crate::set::update(x.vm(), s, v)?;
            x.pop();
        }
        Op::DictUpdate(depth) => {
            let v = x.peek(0);
            let d = x.peek(depth as usize);
            let (v, d) = (x.concrete(v), x.concrete(d));
            if x.vm().layout(v) != L::DICT {
                let t = x.vm().type_name_of(v);
                return x.vm().type_error(format!("'{t}' object is not a mapping"));
            }
            crate::dict::update(x.vm(), d, v)?;
            x.pop();
        }
        Op::ListToTuple => {
            let l = x.peek(0);
            let l = x.concrete(l);
            let t = crate::iter::list_to_tuple(x.vm(), l)?;
            let t = x.opaque(t);
            x.set_peek(0, t);
        }
        Op::UnpackSequence(n) => unpack(x, n as usize, None)?,
        Op::UnpackEx { before, after } => unpack(x, before as usize, Some(after as usize))?,
        Op::Jump(t) => jump(x, t),
        Op::PopJumpIfFalse(t) => {
            let v = x.peek(0);
            let b = truth(x, v)?;
            x.pop();
            if !b {
                jump(x, t);
            }
        }
        Op::PopJumpIfTrue(t) => {
            let v = x.peek(0);
            let b = truth(x, v)?;
            x.pop();
            if b {
                jump(x, t);
            }
        }
        Op::JumpIfFalseOrPop(t) => {
            let v = x.peek(0);
            if truth(x, v)? {
                x.pop();
            } else {
                jump(x, t);
            }
        }
        Op::JumpIfTrueOrPop(t) => {
            let v = x.peek(0);
            if truth(x, v)? {
                jump(x, t);
            } else {
                x.pop();
            }
        }
        Op::PopJumpIfNotNone(t) => {
            let v = x.pop();
            let none = x.vm().none;
            let none = x.constant(none);
            if !x.same(v, none) {
                jump(x, t);
            }
        }
        Op::GetIter => {
            let v = x.peek(0);
            let args = [x.ref_word(v)];
            let it = x.call(&E::GET_ITER, &args)?;
            let it = x.word_ref(it);
            x.set_peek(0, it);
        }
        Op::ForIter(t) => return for_iter(x, t),
        Op::YieldFromNext(t) => {
            let it = x.peek(0);
            let it = x.concrete(it);
            match crate::iter::next(x.vm(), it)? {
                Some(v) => {
                    let v = x.opaque(v);
                    x.push(v)
                }
                None => {
                    let it = x.peek(0);
                    let it = x.concrete(it);
                    let vm = x.vm();
                    let value = if vm.layout(it) == L::GENERATOR { crate::interp::take_return_value(vm, it) } else { vm.none };
                    let value = x.opaque(value);
                    x.set_peek(0, value);
                    jump(x, t);
                }
            }
        }
        Op::Call(n) => return call_from_stack(x, n as usize, None),
        Op::CallKw { nargs, names } => {
            let names = konst(x, code, names);
            if !x.pushes_callee_frames() {
                return call_kw_helper(x, nargs as usize, names);
            }
            let names = x.concrete(names);
            return call_from_stack(x, nargs as usize, Some(names));
        }
        Op::CallEx { has_kwargs } => return call_ex(x, has_kwargs),
        Op::MakeFunction { defaults, kwdefaults, closure } => {
            // The stack: [defaults] [kwdefaults] [closure] code number (top).
            let code_ref = x.pop();
            let optional = |x: &mut X, present: bool| if present { x.pop() } else { x.constant(Ref::NULL) };
            let clo = optional(x, closure);
            let kwd = optional(x, kwdefaults);
            let defs = optional(x, defaults);
            let globals = globals(x);
            let args = [code_ref, clo, kwd, defs, globals].map(|v| x.ref_word(v));
            let f = x.call(&E::MAKE_FUNCTION, &args)?;
            let f = x.word_ref(f);
            x.push(f);
        }
        Op::Return => {
            let v = x.pop();
            return Ok(Flow::Return(v));
        }
        Op::Yield => {
            let v = x.peek(0);
            // The value sent back in (None unless `send` replaces it before resuming).
            let none = x.vm().none;
            let none = x.constant(none);
            x.set_peek(0, none);
            return Ok(Flow::Yield(v));
        }
        Op::Raise(n) => return raise(x, n),
        Op::Reraise => {
            let e = x.pop();
            let e = x.concrete(e);
            x.vm().set_exception(e);
            return Err(Raised);
        }
        Op::PushExcInfo => {
            let e = x.peek(0);
            let e = x.concrete(e);
            let vm = x.vm();
            let handled = vm.get(vm.handled);
            crate::list::append(vm, handled, e)?;
            let e = x.opaque(e);
            x.push(e);
        }
        Op::PopExcept => {
            x.pop();
            let vm = x.vm();
            let handled = vm.get(vm.handled);
            let n = crate::list::len(vm, handled);
            if n > 0 {
                crate::list::truncate(vm, handled, n - 1);
            }
        }
        Op::CheckExcMatch => {
            let (e, t) = (x.peek(1), x.peek(0));
            let (e, t) = (x.concrete(e), x.concrete(t));
            let m = exception_matches(x.vm(), e, t)?;
            let r = x.vm().bool(m);
            let r = x.opaque(r);
            x.set_peek(0, r);
        }
        Op::BeforeWith => {
            let ctx = x.peek(0);
            let ctx = x.concrete(ctx);
            let vm = x.vm();
            let exit_sym = vm.sym("__exit__");
            let exit = crate::attr::get(vm, ctx, exit_sym)?;
            let ctx = x.peek(0);
            let ctx = x.concrete(ctx);
            let exit = x.opaque(exit);
            x.set_peek(0, exit);
            let vm = x.vm();
            let enter_sym = vm.sym("__enter__");
            let enter = crate::attr::get(vm, ctx, enter_sym)?;
            let r = call::call_function(x.vm(), enter, &[])?;
            let r = x.opaque(r);
            x.push(r);
        }
        Op::WithExceptStart => {
            let (exit, e) = (x.peek(1), x.peek(0));
            let (exit, e) = (x.concrete(exit), x.concrete(e));
            let vm = x.vm();
            let t = vm.type_of(e);
            let none = vm.none;
            let r = call::call_refs(vm, exit, &[t, e, none])?;
            let b = ops::truthy(x.vm(), r)?;
            let r = x.vm().bool(b);
            let r = x.opaque(r);
            x.push(r);
        }
        Op::LoadBuildClass => {
            let b = crate::builtins::build_class_builtin(x.vm())?;
            let b = x.opaque(b);
            x.push(b);
        }
        Op::ImportName(i) => {
            let n = name_text(x.vm(), code, i).to_string();
            let m = crate::modules::import(x.vm(), &n)?;
            let m = x.opaque(m);
            x.set_peek(0, m);
        }
        Op::ImportFrom(i) => {
            let m = x.peek(0);
            let m = x.concrete(m);
            let sym = x.vm().code_syms[code.0 as usize][i as usize];
            let v = match crate::attr::lookup(x.vm(), m, sym)? {
                Some(v) => v,
                None => {
                    let n = name_text(x.vm(), code, i).to_string();
                    let vm = x.vm();
                    let mn = vm.str_of(vm.heap.field(m, L::MODULE_NAME)).to_string();
                    return x.vm().raise(Exc::ImportError, format!("cannot import name '{n}' from '{mn}'"));
                }
            };
            let v = x.opaque(v);
            x.push(v);
        }
        Op::ImportStar => {
            let m = x.peek(0);
            let m = x.concrete(m);
            let f = x.frame();
            let ns = x.vm().heap.field(f, L::FRAME_NAMESPACE);
            let d = x.vm().heap.field(m, L::MODULE_DICT);
            crate::dict::update(x.vm(), ns, d)?;
            x.pop();
        }
        Op::LoadAssertionError => {
            let t = x.vm().exc_type(Exc::AssertionError);
            let t = x.constant(t);
            x.push(t);
        }
        Op::SetClassCell(_) => {}
    }
    Ok(Flow::Next)
}

/// For `obj.name(...)`: the plain function `name` of an instance's class when the instance
/// does not shadow it (no bound method is made). Allocates nothing.
pub fn method_on_class(vm: &mut Vm, obj: Ref, sym: crate::vm::Sym) -> Option<Ref> {
    if vm.layout(obj) != L::INSTANCE || crate::attr::instance_attr(vm, obj, sym).is_some() {
        return None;
    }
    let t = vm.type_of(obj);
    let f = crate::types::lookup_sym(vm, t, sym)?;
    (vm.layout(f) == L::FUNCTION).then_some(f)
}

/// The current frame's globals (a frame field, read through the context).
fn globals<X: Exec>(x: &mut X) -> X::V {
    x.frame_field(&E::FRAME_GLOBALS)
}

fn load_global<X: Exec>(x: &mut X, code: CodeId, i: u32) -> Res<X::V> {
    let sym = x.vm().code_syms[code.0 as usize][i as usize];
    let globals = globals(x);
    let args = [x.ref_word(globals), x.const_word(sym.0 as u64)];
    let v = x.call(&E::LOAD_GLOBAL, &args)?;
    Ok(x.word_ref(v))
}

/// The bool object for a branch's outcome (a constant: the branch is a guard in a trace).
fn bool_obj<X: Exec>(x: &mut X, b: bool) -> X::V {
    let r = x.vm().bool(b);
    x.constant(r)
}

/// The truth of `v` as a branch: the bools and ints directly, anything else by its dunders.
fn truth<X: Exec>(x: &mut X, v: X::V) -> Res<bool> {
    let (t, f) = (x.vm().true_, x.vm().false_);
    let (t, f) = (x.constant(t), x.constant(f));
    if x.same(v, t) {
        return Ok(true);
    }
    if x.same(v, f) {
        return Ok(false);
    }
    if x.has_layout(v, L::INT) {
        let i = x.word(v, &E::INT_VALUE);
        let zero = x.const_word(0);
        return Ok(!x.int_eq(i, zero));
    }
    let args = [x.ref_word(v)];
    let r = x.call(&E::TRUTHY, &args)?;
    let zero = x.const_word(0);
    Ok(!x.int_eq(r, zero))
}

/// `obj.name` with the instance fast path: the map says where the attribute is.
pub fn load_attr(vm: &mut Vm, obj: Ref, sym: crate::vm::Sym) -> Res<Ref> {
    if vm.layout(obj) == L::INSTANCE {
        let t = vm.type_of(obj);
        // Properties on the class take precedence over the instance's attributes.
        let has_class_attr = crate::types::lookup_sym(vm, t, sym).is_some_and(|d| vm.layout(d) == L::DESCRIPTOR);
        if !has_class_attr {
            if let Some(v) = crate::attr::instance_attr(vm, obj, sym) {
                return Ok(v);
            }
        }
    }
    crate::attr::get(vm, obj, sym)
}

/// Where an instance keeps attribute `sym`, if its class does not decide the access (a
/// property) and its map has the attribute: the map promoted, so a trace guards on it and the
/// slot is a constant.
fn instance_slot<X: Exec>(x: &mut X, obj: X::V, sym: crate::vm::Sym) -> Res<Option<X::W>> {
    if !x.has_layout(obj, L::INSTANCE) {
        return Ok(None);
    }
    let args = [x.ref_word(obj), x.const_word(sym.0 as u64)];
    let shadowed = x.call(&E::CLASS_SHADOWS_ATTR, &args)?;
    let zero = x.const_word(0);
    if !x.int_eq(shadowed, zero) {
        return Ok(None);
    }
    let map = x.word(obj, &E::INST_MAP);
    let map = crate::maps::MapId(x.promote(map) as u32);
    Ok(x.vm().maps.lookup(map, sym).map(|k| x.const_word(k as u64)))
}

/// `obj.name`: an instance's own attribute straight from its storage, else the helper.
fn load_attr_fast<X: Exec>(x: &mut X, obj: X::V, sym: crate::vm::Sym) -> Res<X::V> {
    if let Some(k) = instance_slot(x, obj, sym)? {
        let storage = x.field(obj, &E::INST_STORAGE);
        return Ok(x.item(storage, k));
    }
    let args = [x.ref_word(obj), x.const_word(sym.0 as u64)];
    let v = x.call(&E::GETATTR, &args)?;
    Ok(x.word_ref(v))
}

/// `obj.name = v`: into an instance's storage where its map has the attribute, else the helper.
fn store_attr_fast<X: Exec>(x: &mut X, obj: X::V, sym: crate::vm::Sym, v: X::V) -> Res<()> {
    if let Some(k) = instance_slot(x, obj, sym)? {
        let storage = x.field(obj, &E::INST_STORAGE);
        x.set_item(storage, k, v);
        return Ok(());
    }
    let args = [x.ref_word(obj), x.const_word(sym.0 as u64), x.ref_word(v)];
    x.call(&E::SETATTR, &args)?;
    Ok(())
}

fn drop_n<X: Exec>(x: &mut X, n: usize) {
    for _ in 0..n {
        x.pop();
    }
}

/// A tuple or list of the top `n` stack values, made by `helper`.
fn build_from_stack<X: Exec>(x: &mut X, n: usize, helper: &'static crate::effects::Helper) -> Res<X::V> {
    let sp = x.sp();
    let mut args = Vec::with_capacity(n);
    for k in 0..n {
        let v = x.slot(sp - n + k);
        args.push(x.ref_word(v));
    }
    let t = x.call(helper, &args)?;
    drop_n(x, n);
    Ok(x.word_ref(t))
}

/// Binary operators: the int and float fast paths through the context, else the helper.
fn binary<X: Exec>(x: &mut X, op: BinOp, inplace: bool) -> Res<Flow<X::V>> {
    let (a, b) = (x.peek(1), x.peek(0));
    if x.has_layout(a, L::INT) && x.has_layout(b, L::INT) {
        let (i, j) = (x.word(a, &E::INT_VALUE), x.word(b, &E::INT_VALUE));
        let r = match op {
            BinOp::Add => x.int_add(i, j),
            BinOp::Sub => x.int_sub(i, j),
            BinOp::Mul => x.int_mul(i, j),
            _ => None,
        };
        if let Some(r) = r {
            let boxed = x.box_int(r)?;
            x.pop();
            x.set_peek(0, boxed);
            return Ok(Flow::Next);
        }
    } else if x.has_layout(a, L::FLOAT) && x.has_layout(b, L::FLOAT) {
        let (p, q) = (x.word(a, &E::FLOAT_VALUE), x.word(b, &E::FLOAT_VALUE));
        let fop = match op {
            BinOp::Add => Some(FloatOp::Add),
            BinOp::Sub => Some(FloatOp::Sub),
            BinOp::Mul => Some(FloatOp::Mul),
            BinOp::TrueDiv if !x.float_is_zero(q) => Some(FloatOp::Div),
            _ => None,
        };
        if let Some(fop) = fop {
            let r = x.float_op(fop, p, q);
            let boxed = x.box_float(r)?;
            x.pop();
            x.set_peek(0, boxed);
            return Ok(Flow::Next);
        }
    }
    let args = [x.ref_word(a), x.ref_word(b), x.const_word(op as u64 * 2 + inplace as u64)];
    let r = x.call(&E::BINARY, &args)?;
    let r = x.word_ref(r);
    x.pop();
    x.set_peek(0, r);
    Ok(Flow::Next)
}

fn compare<X: Exec>(x: &mut X, op: CmpOp) -> Res<Flow<X::V>> {
    let (a, b) = (x.peek(1), x.peek(0));
    if x.has_layout(a, L::INT) && x.has_layout(b, L::INT) {
        let (i, j) = (x.word(a, &E::INT_VALUE), x.word(b, &E::INT_VALUE));
        let r = match op {
            CmpOp::Lt => x.int_lt(i, j),
            CmpOp::Gt => x.int_lt(j, i),
            CmpOp::Le => !x.int_lt(j, i),
            CmpOp::Ge => !x.int_lt(i, j),
            CmpOp::Eq => x.int_eq(i, j),
            CmpOp::Ne => !x.int_eq(i, j),
        };
        let v = bool_obj(x, r);
        x.pop();
        x.set_peek(0, v);
        return Ok(Flow::Next);
    }
    let args = [x.ref_word(a), x.ref_word(b), x.const_word(op as u64)];
    let r = x.call(&E::COMPARE, &args)?;
    let r = x.word_ref(r);
    x.pop();
    x.set_peek(0, r);
    Ok(Flow::Next)
}

/// Where `list[int]` is, when in range, as the context's reads: the storage and the index.
fn list_slot<X: Exec>(x: &mut X, obj: X::V, key: X::V) -> Option<(X::V, X::W)> {
    if !(x.has_layout(obj, L::LIST) && x.has_layout(key, L::INT)) {
        return None;
    }
    let i = x.word(key, &E::INT_VALUE);
    let n = x.word(obj, &E::LIST_LEN);
    let zero = x.const_word(0);
    let j = if x.int_lt(i, zero) { x.int_add(i, n)? } else { i };
    if x.int_lt(j, zero) || !x.int_lt(j, n) {
        return None;
    }
    Some((x.field(obj, &E::LIST_STORAGE), j))
}

/// `list[int]` in range, as the context's reads: the length, the storage, the item.
fn list_index<X: Exec>(x: &mut X, obj: X::V, key: X::V) -> Option<X::V> {
    let (storage, j) = list_slot(x, obj, key)?;
    Some(x.item(storage, j))
}

fn subscr_fast<X: Exec>(x: &mut X, obj: X::V, key: X::V) -> Res<X::V> {
    if let Some(v) = list_index(x, obj, key) {
        return Ok(v);
    }
    let args = [x.ref_word(obj), x.ref_word(key)];
    let v = x.call(&E::GETITEM, &args)?;
    Ok(x.word_ref(v))
}

fn store_subscr<X: Exec>(x: &mut X, obj: X::V, key: X::V, v: X::V) -> Res<()> {
    if let Some((storage, j)) = list_slot(x, obj, key) {
        x.set_item(storage, j, v);
        return Ok(());
    }
    let args = [x.ref_word(obj), x.ref_word(key), x.ref_word(v)];
    x.call(&E::SETITEM, &args)?;
    Ok(())
}

fn for_iter<X: Exec>(x: &mut X, target: u32) -> Res<Flow<X::V>> {
    let it = x.peek(0);
    // Fast path: ranges.
    if x.has_layout(it, L::ITER) {
        let kind = x.word(it, &E::ITER_KIND);
        let range = x.const_word(crate::iter::RANGE);
        if x.int_eq(kind, range) {
            let pos = x.word(it, &E::ITER_POS);
            let end = x.word(it, &E::ITER_END);
            if !x.int_lt(pos, end) {
                x.pop();
                jump(x, target);
                return Ok(Flow::Next);
            }
            // pos < end, so neither the next position nor the item (inside the range) overflows.
            let one = x.const_word(1);
            if let Some(next) = x.int_add(pos, one) {
                let src = x.field(it, &E::ITER_SOURCE);
                let (start, step) = (x.word(src, &E::RANGE_START), x.word(src, &E::RANGE_STEP));
                if let Some(v) = x.int_mul(pos, step).and_then(|m| x.int_add(start, m)) {
                    x.set_word(it, &E::ITER_POS, next);
                    let boxed = x.box_int(v)?;
                    x.push(boxed);
                    return Ok(Flow::Next);
                }
            }
        }
    }
    let args = [x.ref_word(it)];
    let v = x.call(&E::ITER_NEXT, &args)?;
    let v = x.word_ref(v);
    if x.iter_exhausted(v) {
        x.pop();
        jump(x, target);
    } else {
        x.push(v);
    }
    Ok(Flow::Next)
}

/// A call with keywords made as one helper call (the callee runs to completion).
fn call_kw_helper<X: Exec>(x: &mut X, n: usize, names: X::V) -> Res<Flow<X::V>> {
    let sp = x.sp();
    let callee = x.slot(sp - n - 1);
    let mut args = vec![x.ref_word(callee), x.ref_word(names)];
    for k in 0..n {
        let v = x.slot(sp - n + k);
        args.push(x.ref_word(v));
    }
    let r = x.call(&E::CALL_KW, &args)?;
    let r = x.word_ref(r);
    drop_n(x, n + 1);
    x.push(r);
    Ok(Flow::Next)
}

/// Calls the callable below `n` arguments (the last `len(names)` of them keywords).
fn call_from_stack<X: Exec>(x: &mut X, n: usize, names: Option<Ref>) -> Res<Flow<X::V>> {
    let sp = x.sp();
    let callee = x.slot(sp - n - 1);
    if names.is_none() && !x.pushes_callee_frames() {
        let values: Vec<X::V> = (0..n).map(|k| x.slot(sp - n + k)).collect();
        if let Some(frame) = x.inline_call(callee, &values)? {
            drop_n(x, n + 1);
            return Ok(Flow::Enter(frame));
        }
        // A call the context makes as one op: the callee runs to completion (a Python
        // function in a nested run of the interpreter).
        let mut args = vec![x.ref_word(callee)];
        args.extend(values.iter().map(|&v| x.ref_word(v)));
        let r = x.call(&E::CALL, &args)?;
        let r = x.word_ref(r);
        drop_n(x, n + 1);
        x.push(r);
        return Ok(Flow::Next);
    }
    let callee = x.concrete(callee);
    // Fast path: a plain Python function called with exactly its positional parameters.
    if names.is_none() && x.vm().layout(callee) == L::FUNCTION {
        let vm = x.vm();
        let id = CodeId(vm.heap.word(callee, L::FUNC_CODE) as u32);
        let c = &vm.codes[id.0 as usize];
        if c.argcount as usize == n && c.kwonlyargcount == 0 && !c.flags.varargs && !c.flags.varkw && !c.flags.generator {
            let globals = vm.heap.field(callee, L::FUNC_GLOBALS);
            let frame = call::new_frame(vm, id, globals, callee)?;
            let fr = vm.root(frame);
            for k in 0..n {
                let v = x.slot(sp - n + k);
                let v = x.concrete(v);
                let f = x.vm().get(fr);
                x.vm().heap.set_field(f, L::FRAME_SLOTS + k, v);
            }
            let vm = x.vm();
            let callee = vm.heap.field(vm.get(vm.frame), L::FRAME_SLOTS + sp - n - 1);
            let funcr = vm.root(callee);
            call::make_cells(vm, funcr, fr, id)?;
            let frame = x.vm().get(fr);
            drop_n(x, n + 1);
            return Ok(Flow::Enter(frame));
        }
    }
    let vm = x.vm();
    let frame_now = vm.get(vm.frame);
    let nkw = names.map_or(0, |t| vm.heap.len(t));
    let mut args = Vec::with_capacity(n);
    for k in 0..n {
        let v = vm.heap.field(frame_now, L::FRAME_SLOTS + sp - n + k);
        args.push(vm.root(v));
    }
    let callee = vm.root(callee);
    let (pos, kwv) = args.split_at(n - nkw);
    let kw = match names {
        Some(t) => Some(Kw { names: vm.root(t), values: kwv }),
        None => None,
    };
    let f = vm.get(callee);
    let result = call::prepare(vm, f, pos, kw)?;
    drop_n(x, n + 1);
    match result {
        Callee::Done(v) => {
            let v = x.opaque(v);
            x.push(v);
            Ok(Flow::Next)
        }
        Callee::Frame(frame) => Ok(Flow::Enter(frame)),
    }
}

fn call_ex<X: Exec>(x: &mut X, has_kwargs: bool) -> Res<Flow<X::V>> {
    let kwargs = if has_kwargs { let d = x.peek(0); Some(x.concrete(d)) } else { None };
    let k = has_kwargs as usize;
    let (f, args) = (x.peek(k + 1), x.peek(k));
    let (f, args) = (x.concrete(f), x.concrete(args));
    let vm = x.vm();
    let fr = vm.root(f);
    let args = crate::iter::to_tuple(vm, args)?;
    let mut pos = vec![];
    for i in 0..vm.heap.len(args) {
        let a = vm.heap.field(args, L::ITEMS + i);
        pos.push(vm.root(a));
    }
    let mut names = vec![];
    let mut values = vec![];
    if let Some(d) = kwargs {
        let dr = vm.root(d);
        let mut i = 0;
        while i < crate::dict::slots(vm, vm.get(dr)) {
            let (key, v) = crate::dict::entry(vm, vm.get(dr), i);
            i += 1;
            if key.is_null() {
                continue;
            }
            if vm.layout(key) != L::STR {
                return vm.type_error("keywords must be strings");
            }
            names.push(vm.root(key));
            values.push(vm.root(v));
        }
    }
    let kw = if names.is_empty() {
        None
    } else {
        let t = vm.new_tuple_from(&names)?;
        Some(Kw { names: vm.root(t), values: &values })
    };
    let result = call::prepare(vm, vm.get(fr), &pos, kw)?;
    drop_n(x, k + 2);
    match result {
        Callee::Done(v) => {
            let v = x.opaque(v);
            x.push(v);
            Ok(Flow::Next)
        }
        Callee::Frame(frame) => Ok(Flow::Enter(frame)),
    }
}

/// Unpacks a tuple or list of exactly `n` items through the context (`a, b = b, a`,
/// `[x, y, z] = point`): its items, read from the tuple or the list's storage. `false` for
/// anything else (nothing done).
fn unpack_exact<X: Exec>(x: &mut X, v: X::V, n: usize) -> bool {
    let is_list = if x.has_layout(v, L::TUPLE) {
        false
    } else if x.has_layout(v, L::LIST) {
        true
    } else {
        return false;
    };
    let len = if is_list { x.word(v, &E::LIST_LEN) } else { x.array_len(v) };
    let want = x.const_word(n as u64);
    if !x.int_eq(len, want) {
        return false;
    }
    let array = if is_list { x.field(v, &E::LIST_STORAGE) } else { v };
    x.pop();
    for k in (0..n).rev() {
        let k = x.const_word(k as u64);
        let item = x.item(array, k);
        x.push(item);
    }
    true
}

fn unpack<X: Exec>(x: &mut X, before: usize, after: Option<usize>) -> Res<()> {
    let v = x.peek(0);
    if after.is_none() && unpack_exact(x, v, before) {
        return Ok(());
    }
    let v = x.concrete(v);
    let vm = x.vm();
    let items = if matches!(vm.layout(v), L::TUPLE | L::LIST) { v } else { crate::iter::to_list(vm, v)? };
    let ir = vm.root(items);
    let n = crate::list::seq_len(vm, items);
    x.pop();
    match after {
        None => {
            if n != before {
                let vm = x.vm();
                return if n > before {
                    vm.value_error(format!("too many values to unpack (expected {before})"))
                } else {
                    vm.value_error(format!("not enough values to unpack (expected {before}, got {n})"))
                };
            }
            for k in (0..n).rev() {
                let items = x.vm().get(ir);
                let v = crate::list::seq_get(x.vm(), items, k);
                let v = x.opaque(v);
                x.push(v);
            }
        }
        Some(after) => {
            if n < before + after {
                let vm = x.vm();
                return vm.value_error(format!("not enough values to unpack (expected at least {}, got {n})", before + after));
            }
            for k in (n - after..n).rev() {
                let items = x.vm().get(ir);
                let v = crate::list::seq_get(x.vm(), items, k);
                let v = x.opaque(v);
                x.push(v);
            }
            let items = x.vm().get(ir);
            let middle = crate::list::from_items(x.vm(), items, before, n - after)?;
            let middle = x.opaque(middle);
            x.push(middle);
            for k in (0..before).rev() {
                let items = x.vm().get(ir);
                let v = crate::list::seq_get(x.vm(), items, k);
                let v = x.opaque(v);
                x.push(v);
            }
        }
    }
    Ok(())
}

fn raise<X: Exec>(x: &mut X, n: u32) -> Res<Flow<X::V>> {
    let vm = x.vm();
    if n == 0 {
        let handled = vm.get(vm.handled);
        let k = crate::list::len(vm, handled);
        if k == 0 {
            return vm.raise(Exc::RuntimeError, "No active exception to reraise");
        }
        let e = crate::list::get(vm, handled, k - 1);
        vm.set_exception(e);
        return Err(Raised);
    }
    let e = x.peek(if n == 2 { 1 } else { 0 });
    let e = x.concrete(e);
    let vm = x.vm();
    let is_exc_class = vm.layout(e) == L::TYPE && vm.heap.word(e, L::TYPE_FLAGS) & crate::types::FLAG_EXCEPTION != 0;
    let is_exc = vm.layout(e) == L::INSTANCE && {
        let t = vm.type_of(e);
        vm.heap.word(t, L::TYPE_FLAGS) & crate::types::FLAG_EXCEPTION != 0
    };
    if !is_exc_class && !is_exc {
        return vm.type_error("exceptions must derive from BaseException");
    }
    let e = if is_exc_class { call::call_function(vm, e, &[])? } else { e };
    let er = vm.root(e);
    if n == 2 {
        let cause = x.peek(0);
        let cause = x.concrete(cause);
        let vm = x.vm();
        let cause = crate::exceptions::as_cause(vm, cause)?;
        let s = vm.sym("__cause__");
        crate::attr::set_instance_attr(vm, vm.get(er), s, cause)?;
    }
    let vm = x.vm();
    crate::exceptions::set_context(vm, vm.get(er))?;
    crate::exceptions::clear_traceback(vm, vm.get(er))?;
    vm.set_exception(vm.get(er));
    Err(Raised)
}

/// `except T:` matching: `T` a class or a tuple of classes.
fn exception_matches(vm: &mut Vm, e: Ref, t: Ref) -> Res<bool> {
    if vm.layout(t) == L::TUPLE {
        for i in 0..vm.heap.len(t) {
            let k = vm.heap.field(t, L::ITEMS + i);
            if exception_matches(vm, e, k)? {
                return Ok(true);
            }
        }
        return Ok(false);
    }
    if vm.layout(t) != L::TYPE {
        return vm.type_error("catching classes that do not inherit from BaseException is not allowed");
    }
    Ok(vm.isinstance(e, t))
}
