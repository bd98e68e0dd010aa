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
use crate::exec::{Concrete, Exec};
use crate::layout as L;
use crate::ops;
use crate::vm::{Exc, Raised, Res, Vm};
use tracelab_runtime::gc::Ref;

/// How a run of the loop ended.
pub enum Exit {
    Returned(Ref),
    Yielded(Ref),
}

enum Flow {
    Next,
    /// Enter a new frame (already allocated, arguments bound).
    Enter(Ref),
    Return(Ref),
    Yield(Ref),
}

/// Runs `frame` to completion from Rust (a nested run).
pub fn run_nested(vm: &mut Vm, frame: Ref) -> Res<Ref> {
    match run_frame(vm, frame)? {
        Exit::Returned(v) => Ok(v),
        Exit::Yielded(_) => vm.raise(Exc::RuntimeError, "yield outside a generator frame"),
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

/// The loop. Returns when the entry frame (the one without a caller) returns or yields.
pub fn run<X: Exec>(x: &mut X) -> Res<Exit> {
    loop {
        let mark = x.vm().roots_mark();
        let f = x.frame();
        let code = CodeId(x.word(f, L::FRAME_CODE) as u32);
        let pc = x.word(f, L::FRAME_PC) as usize;
        let op = x.vm().codes[code.0 as usize].ops[pc];
        x.vm().heap.set_word(f, L::FRAME_PC, pc as u64 + 1);
        let flow = step(x, op, code);
        x.vm().roots_reset(mark);
        match flow {
            Ok(Flow::Next) => {}
            Ok(Flow::Enter(frame)) => enter(x, frame)?,
            Ok(Flow::Return(v)) => {
                if let Some(exit) = leave(x, v) {
                    return Ok(exit);
                }
            }
            Ok(Flow::Yield(v)) => return Ok(Exit::Yielded(v)),
            Err(Raised) => {
                let reraise = matches!(op, Op::Reraise);
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
    Ok(())
}

/// Returns from the current frame; `Some` when it was the entry frame of this run.
fn leave<X: Exec>(x: &mut X, v: Ref) -> Option<Exit> {
    let vm = x.vm();
    let f = vm.get(vm.frame);
    let back = vm.heap.field(f, L::FRAME_BACK);
    if back.is_null() {
        return Some(Exit::Returned(v));
    }
    vm.depth -= 1;
    vm.set(vm.frame, back);
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

fn konst<X: Exec>(x: &mut X, i: u32) -> Ref {
    let f = x.frame();
    let vm = x.vm();
    let t = vm.heap.field(f, L::FRAME_CONSTS);
    vm.heap.field(t, L::ITEMS + i as usize)
}

/// The name `i` of the current code, as a `str` object.
fn name_obj<X: Exec>(x: &mut X, code: CodeId, i: u32) -> Ref {
    let n = x.vm().codes[code.0 as usize].consts.len() as u32;
    konst(x, n + i)
}

fn name_text(vm: &Vm, code: CodeId, i: u32) -> &str {
    &vm.codes[code.0 as usize].names[i as usize]
}

fn jump<X: Exec>(x: &mut X, target: u32) {
    let f = x.frame();
    x.vm().heap.set_word(f, L::FRAME_PC, target as u64);
}

fn step<X: Exec>(x: &mut X, op: Op, code: CodeId) -> Res<Flow> {
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
            let v = konst(x, i);
            x.push(v);
        }
        Op::LoadFast(i) => {
            let v = x.slot(i as usize);
            if v.is_null() {
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
            if x.slot(i as usize).is_null() {
                let name = x.vm().codes[code.0 as usize].varnames[i as usize].clone();
                return x.vm().raise(
                    Exc::UnboundLocalError,
                    format!("cannot access local variable '{name}' where it is not associated with a value"),
                );
            }
            x.set_slot(i as usize, Ref::NULL);
        }
        Op::LoadDeref(i) => {
            let cell = x.slot(i as usize);
            let v = x.vm().heap.field(cell, L::CELL_VALUE);
            if v.is_null() {
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
            x.vm().heap.set_field(cell, L::CELL_VALUE, v);
        }
        Op::DeleteDeref(i) => {
            let cell = x.slot(i as usize);
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
            let f = x.frame();
            let globals = x.vm().heap.field(f, L::FRAME_GLOBALS);
            crate::dict::set(x.vm(), globals, key, v)?;
            x.pop();
        }
        Op::DeleteGlobal(i) => {
            let key = name_obj(x, code, i);
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
                Some(v) => x.push(v),
                None => {
                    let v = load_global(x, code, i)?;
                    x.push(v);
                }
            }
        }
        Op::StoreName(i) => {
            let key = name_obj(x, code, i);
            let v = x.peek(0);
            let f = x.frame();
            let ns = x.vm().heap.field(f, L::FRAME_NAMESPACE);
            crate::dict::set(x.vm(), ns, key, v)?;
            x.pop();
        }
        Op::DeleteName(i) => {
            let key = name_obj(x, code, i);
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
            crate::attr::set(x.vm(), obj, sym, v)?;
            x.pop();
            x.pop();
        }
        Op::DeleteAttr(i) => {
            let obj = x.peek(0);
            let sym = x.vm().code_syms[code.0 as usize][i as usize];
            crate::attr::delete(x.vm(), obj, sym)?;
            x.pop();
        }
        Op::LoadMethod(i) => {
            let obj = x.peek(0);
            let sym = x.vm().code_syms[code.0 as usize][i as usize];
            // A plain function found on an instance's class is pushed unbound, with self.
            if let Some(f) = method_on_class(x, obj, sym) {
                // The lookup allocates nothing, so `obj` is still valid.
                x.set_peek(0, f);
                x.push(obj);
            } else {
                let v = load_attr_fast(x, obj, sym)?;
                x.set_peek(0, v);
                x.push(Ref::NULL);
            }
        }
        Op::CallMethod(n) => {
            let n = n as usize;
            let self_ = x.peek(n);
            if self_.is_null() {
                // [callable, NULL, args...] → shift args down over the NULL.
                let sp = x.sp();
                for k in 0..n {
                    let v = x.slot(sp - n + k);
                    x.set_slot(sp - n - 1 + k, v);
                }
                x.set_slot(sp - 1, Ref::NULL);
                x.set_sp(sp - 1);
                return call_from_stack(x, n, None);
            }
            return call_from_stack(x, n + 1, None);
        }
        Op::Binary(b) => return binary(x, b, false),
        Op::InPlace(b) => return binary(x, b, true),
        Op::Unary(u) => {
            let a = x.peek(0);
            let r = ops::unary(x.vm(), a, u)?;
            x.set_peek(0, r);
        }
        Op::Compare(c) => return compare(x, c),
        Op::Is(want) => {
            let (a, b) = (x.peek(1), x.peek(0));
            let same = x.same(a, b);
            x.pop();
            let r = x.vm().bool(same == want);
            x.set_peek(0, r);
        }
        Op::Contains(want) => {
            let (item, container) = (x.peek(1), x.peek(0));
            let found = ops::contains(x.vm(), container, item)?;
            x.pop();
            let r = x.vm().bool(found == want);
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
            crate::seq::setitem(x.vm(), obj, key, v)?;
            for _ in 0..3 {
                x.pop();
            }
        }
        Op::DeleteSubscr => {
            let (obj, key) = (x.peek(1), x.peek(0));
            crate::seq::delitem(x.vm(), obj, key)?;
            x.pop();
            x.pop();
        }
        Op::BuildTuple(n) => {
            let t = build_from_stack(x, n as usize, L::TUPLE)?;
            x.push(t);
        }
        Op::BuildList(n) => {
            let n = n as usize;
            let l = x.vm().new_list(n)?;
            let sp = x.sp();
            for k in 0..n {
                let v = x.slot(sp - n + k);
                crate::list::set(x.vm(), l, k, v);
            }
            x.vm().heap.set_word(l, L::LIST_LEN, n as u64);
            drop_n(x, n);
            x.push(l);
        }
        Op::BuildSet(n) => {
            let n = n as usize;
            let s = crate::set::new(x.vm())?;
            let sr = x.vm().root(s);
            let sp = x.sp();
            for k in 0..n {
                let v = x.slot(sp - n + k);
                let s = x.vm().get(sr);
                crate::set::add(x.vm(), s, v)?;
            }
            drop_n(x, n);
            let s = x.vm().get(sr);
            x.push(s);
        }
        Op::BuildMap(n) => {
            let n = n as usize;
            let d = crate::dict::new(x.vm(), L::DICT)?;
            let dr = x.vm().root(d);
            let sp = x.sp();
            for k in 0..n {
                let key = x.slot(sp - 2 * n + 2 * k);
                let v = x.slot(sp - 2 * n + 2 * k + 1);
                let d = x.vm().get(dr);
                crate::dict::set(x.vm(), d, key, v)?;
            }
            drop_n(x, 2 * n);
            let d = x.vm().get(dr);
            x.push(d);
        }
        Op::BuildSlice(n) => {
            let s = x.vm().alloc(L::SLICE, 0)?;
            let step = if n == 3 { x.peek(0) } else { x.vm().none };
            let k = n as usize;
            let (a, b) = (x.peek(k - 1), x.peek(k - 2));
            let vm = x.vm();
            vm.heap.set_field(s, L::SLICE_START, a);
            vm.heap.set_field(s, L::SLICE_STOP, b);
            vm.heap.set_field(s, L::SLICE_STEP, step);
            drop_n(x, k);
            x.push(s);
        }
        Op::BuildString(n) => {
            let n = n as usize;
            let sp = x.sp();
            let mut text = String::new();
            for k in 0..n {
                let v = x.slot(sp - n + k);
                text.push_str(x.vm().str_of(v));
            }
            let s = x.vm().new_str(&text)?;
            drop_n(x, n);
            x.push(s);
        }
        Op::FormatValue { conversion, has_spec } => {
            let spec = if has_spec { Some(x.peek(0)) } else { None };
            let v = x.peek(has_spec as usize);
            let s = crate::format::format_value(x.vm(), v, conversion, spec)?;
            if has_spec {
                x.pop();
            }
            x.set_peek(0, s);
        }
        Op::ListAppend(depth) => {
            let v = x.peek(0);
            let l = x.peek(depth as usize);
            crate::list::append(x.vm(), l, v)?;
            x.pop();
        }
        Op::SetAdd(depth) => {
            let v = x.peek(0);
            let s = x.peek(depth as usize);
            crate::set::add(x.vm(), s, v)?;
            x.pop();
        }
        Op::MapAdd(depth) => {
            let (k, v) = (x.peek(1), x.peek(0));
            let d = x.peek(depth as usize + 1);
            crate::dict::set(x.vm(), d, k, v)?;
            x.pop();
            x.pop();
        }
        Op::ListExtend(depth) => {
            let v = x.peek(0);
            let l = x.peek(depth as usize);
            crate::seq::extend(x.vm(), l, v)?;
            x.pop();
        }
        Op::SetUpdate(depth) => {
            let v = x.peek(0);
            let s = x.peek(depth as usize);
            crate::set::update(x.vm(), s, v)?;
            x.pop();
        }
        Op::DictUpdate(depth) => {
            let v = x.peek(0);
            let d = x.peek(depth as usize);
            if x.vm().layout(v) != L::DICT {
                let t = x.vm().type_name_of(v);
                return x.vm().type_error(format!("'{t}' object is not a mapping"));
            }
            crate::dict::update(x.vm(), d, v)?;
            x.pop();
        }
        Op::ListToTuple => {
            let l = x.peek(0);
            let t = crate::iter::list_to_tuple(x.vm(), l)?;
            x.set_peek(0, t);
        }
        Op::UnpackSequence(n) => unpack(x, n as usize, None)?,
        Op::UnpackEx { before, after } => unpack(x, before as usize, Some(after as usize))?,
        Op::Jump(t) => jump(x, t),
        Op::PopJumpIfFalse(t) => {
            let v = x.peek(0);
            let b = x.truth(v)?;
            x.pop();
            if !b {
                jump(x, t);
            }
        }
        Op::PopJumpIfTrue(t) => {
            let v = x.peek(0);
            let b = x.truth(v)?;
            x.pop();
            if b {
                jump(x, t);
            }
        }
        Op::JumpIfFalseOrPop(t) => {
            let v = x.peek(0);
            if x.truth(v)? {
                x.pop();
            } else {
                jump(x, t);
            }
        }
        Op::JumpIfTrueOrPop(t) => {
            let v = x.peek(0);
            if x.truth(v)? {
                jump(x, t);
            } else {
                x.pop();
            }
        }
        Op::PopJumpIfNotNone(t) => {
            let v = x.pop();
            if v != x.vm().none {
                jump(x, t);
            }
        }
        Op::GetIter => {
            let v = x.peek(0);
            let it = crate::iter::get_iter(x.vm(), v)?;
            x.set_peek(0, it);
        }
        Op::ForIter(t) => return for_iter(x, t),
        Op::YieldFromNext(t) => {
            let it = x.peek(0);
            match crate::iter::next(x.vm(), it)? {
                Some(v) => x.push(v),
                None => {
                    let it = x.peek(0);
                    let vm = x.vm();
                    let value = if vm.layout(it) == L::GENERATOR { crate::interp::take_return_value(vm, it) } else { vm.none };
                    x.set_peek(0, value);
                    jump(x, t);
                }
            }
        }
        Op::Call(n) => return call_from_stack(x, n as usize, None),
        Op::CallKw { nargs, names } => {
            let names = konst(x, names);
            return call_from_stack(x, nargs as usize, Some(names));
        }
        Op::CallEx { has_kwargs } => return call_ex(x, has_kwargs),
        Op::MakeFunction { defaults, kwdefaults, closure } => {
            let f = crate::builtins::make_function(x, code, defaults, kwdefaults, closure)?;
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
            x.set_peek(0, none);
            return Ok(Flow::Yield(v));
        }
        Op::Raise(n) => return raise(x, n),
        Op::Reraise => {
            let e = x.pop();
            x.vm().set_exception(e);
            return Err(Raised);
        }
        Op::PushExcInfo => {
            let e = x.peek(0);
            let vm = x.vm();
            let handled = vm.get(vm.handled);
            crate::list::append(vm, handled, e)?;
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
            let m = exception_matches(x.vm(), e, t)?;
            let r = x.vm().bool(m);
            x.set_peek(0, r);
        }
        Op::BeforeWith => {
            let ctx = x.peek(0);
            let vm = x.vm();
            let exit_sym = vm.sym("__exit__");
            let exit = crate::attr::get(vm, ctx, exit_sym)?;
            let ctx = x.peek(0);
            x.set_peek(0, exit);
            let vm = x.vm();
            let enter_sym = vm.sym("__enter__");
            let enter = crate::attr::get(vm, ctx, enter_sym)?;
            let r = call::call_function(x.vm(), enter, &[])?;
            x.push(r);
        }
        Op::WithExceptStart => {
            let (exit, e) = (x.peek(1), x.peek(0));
            let vm = x.vm();
            let t = vm.type_of(e);
            let none = vm.none;
            let r = call::call_refs(vm, exit, &[t, e, none])?;
            let b = ops::truthy(x.vm(), r)?;
            let r = x.vm().bool(b);
            x.push(r);
        }
        Op::LoadBuildClass => {
            let b = crate::builtins::build_class_builtin(x.vm())?;
            x.push(b);
        }
        Op::ImportName(i) => {
            let n = name_text(x.vm(), code, i).to_string();
            let m = crate::modules::import(x.vm(), &n)?;
            x.set_peek(0, m);
        }
        Op::ImportFrom(i) => {
            let m = x.peek(0);
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
            x.push(v);
        }
        Op::ImportStar => {
            let m = x.peek(0);
            let f = x.frame();
            let ns = x.vm().heap.field(f, L::FRAME_NAMESPACE);
            let d = x.vm().heap.field(m, L::MODULE_DICT);
            crate::dict::update(x.vm(), ns, d)?;
            x.pop();
        }
        Op::LoadAssertionError => {
            let t = x.vm().exc_type(Exc::AssertionError);
            x.push(t);
        }
        Op::SetClassCell(_) => {}
    }
    Ok(Flow::Next)
}

/// For `obj.name(...)`: the plain function `name` of an instance's class when the instance
/// does not shadow it (no bound method is made). Allocates nothing.
fn method_on_class<X: Exec>(x: &mut X, obj: Ref, sym: crate::vm::Sym) -> Option<Ref> {
    let vm = x.vm();
    if vm.layout(obj) != L::INSTANCE || crate::attr::instance_attr(vm, obj, sym).is_some() {
        return None;
    }
    let t = vm.type_of(obj);
    let f = crate::types::lookup_sym(vm, t, sym)?;
    (vm.layout(f) == L::FUNCTION).then_some(f)
}

fn load_global<X: Exec>(x: &mut X, code: CodeId, i: u32) -> Res<Ref> {
    let f = x.frame();
    let vm = x.vm();
    let globals = vm.heap.field(f, L::FRAME_GLOBALS);
    let sym = vm.code_syms[code.0 as usize][i as usize];
    if let Some(v) = vm.dict_get_sym(globals, sym) {
        return Ok(v);
    }
    if let Some(v) = vm.dict_get_sym(vm.builtins, sym) {
        return Ok(v);
    }
    let n = vm.sym_name(sym).to_string();
    vm.raise(Exc::NameError, format!("name '{n}' is not defined"))
}

/// Attribute read with the instance fast path: the map says where the attribute is.
fn load_attr_fast<X: Exec>(x: &mut X, obj: Ref, sym: crate::vm::Sym) -> Res<Ref> {
    if x.has_layout(obj, L::INSTANCE) {
        let vm = x.vm();
        let t = vm.type_of(obj);
        // Properties on the class take precedence over the instance's attributes.
        let has_class_attr = crate::types::lookup_sym(vm, t, sym).is_some_and(|d| vm.layout(d) == L::DESCRIPTOR);
        if !has_class_attr {
            if let Some(v) = crate::attr::instance_attr(vm, obj, sym) {
                return Ok(v);
            }
        }
    }
    crate::attr::get(x.vm(), obj, sym)
}

fn drop_n<X: Exec>(x: &mut X, n: usize) {
    for _ in 0..n {
        x.pop();
    }
}

fn build_from_stack<X: Exec>(x: &mut X, n: usize, layout: tracelab_runtime::gc::LayoutId) -> Res<Ref> {
    if n == 0 {
        return Ok(x.vm().empty_tuple);
    }
    let t = x.vm().alloc(layout, n)?;
    let sp = x.sp();
    for k in 0..n {
        let v = x.slot(sp - n + k);
        x.vm().heap.set_field(t, L::ITEMS + k, v);
    }
    drop_n(x, n);
    Ok(t)
}

/// Binary operators: the int and float fast paths through the context, else the helper.
fn binary<X: Exec>(x: &mut X, op: BinOp, inplace: bool) -> Res<Flow> {
    let (a, b) = (x.peek(1), x.peek(0));
    if x.has_layout(a, L::INT) && x.has_layout(b, L::INT) {
        let (i, j) = (x.word(a, L::VALUE) as i64, x.word(b, L::VALUE) as i64);
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
        let (p, q) = (f64::from_bits(x.word(a, L::VALUE)), f64::from_bits(x.word(b, L::VALUE)));
        let r = match op {
            BinOp::Add => Some(p + q),
            BinOp::Sub => Some(p - q),
            BinOp::Mul => Some(p * q),
            BinOp::TrueDiv if q != 0.0 => Some(p / q),
            _ => None,
        };
        if let Some(r) = r {
            let boxed = x.box_float(r)?;
            x.pop();
            x.set_peek(0, boxed);
            return Ok(Flow::Next);
        }
    }
    let r = ops::binary(x.vm(), a, b, op, inplace)?;
    x.pop();
    x.set_peek(0, r);
    Ok(Flow::Next)
}

fn compare<X: Exec>(x: &mut X, op: CmpOp) -> Res<Flow> {
    let (a, b) = (x.peek(1), x.peek(0));
    if x.has_layout(a, L::INT) && x.has_layout(b, L::INT) {
        let (i, j) = (x.word(a, L::VALUE) as i64, x.word(b, L::VALUE) as i64);
        let r = match op {
            CmpOp::Lt => x.int_lt(i, j),
            CmpOp::Gt => x.int_lt(j, i),
            CmpOp::Le => !x.int_lt(j, i),
            CmpOp::Ge => !x.int_lt(i, j),
            CmpOp::Eq => i == j,
            CmpOp::Ne => i != j,
        };
        let v = x.vm().bool(r);
        x.pop();
        x.set_peek(0, v);
        return Ok(Flow::Next);
    }
    let r = ops::compare(x.vm(), a, b, op)?;
    x.pop();
    x.set_peek(0, r);
    Ok(Flow::Next)
}

fn subscr_fast<X: Exec>(x: &mut X, obj: Ref, key: Ref) -> Res<Ref> {
    if x.has_layout(obj, L::LIST) && x.has_layout(key, L::INT) {
        let i = x.word(key, L::VALUE) as i64;
        let n = x.word(obj, L::LIST_LEN) as i64;
        let j = if i < 0 { i + n } else { i };
        if (0..n).contains(&j) {
            return Ok(crate::list::get(x.vm(), obj, j as usize));
        }
    }
    crate::seq::getitem(x.vm(), obj, key)
}

fn for_iter<X: Exec>(x: &mut X, target: u32) -> Res<Flow> {
    let it = x.peek(0);
    // Fast paths: ranges and lists.
    if x.has_layout(it, L::ITER) {
        let kind = x.word(it, L::ITER_KIND);
        if kind == crate::iter::RANGE {
            let pos = x.word(it, L::ITER_POS) as i64;
            let end = x.word(it, L::ITER_END) as i64;
            if !x.int_lt(pos, end) {
                x.pop();
                jump(x, target);
                return Ok(Flow::Next);
            }
            x.vm().heap.set_word(it, L::ITER_POS, (pos + 1) as u64);
            let src = x.vm().heap.field(it, L::ITER_SOURCE);
            let v = x.word(src, 1) as i64 + pos * x.word(src, 3) as i64;
            let boxed = x.box_int(v)?;
            x.push(boxed);
            return Ok(Flow::Next);
        }
    }
    match crate::iter::next(x.vm(), it)? {
        Some(v) => x.push(v),
        None => {
            x.pop();
            jump(x, target);
        }
    }
    Ok(Flow::Next)
}

/// Calls the callable below `n` arguments (the last `len(names)` of them keywords).
fn call_from_stack<X: Exec>(x: &mut X, n: usize, names: Option<Ref>) -> Res<Flow> {
    let sp = x.sp();
    let callee = x.slot(sp - n - 1);
    // Fast path: a plain Python function called with exactly its positional parameters.
    if names.is_none() && x.has_layout(callee, L::FUNCTION) {
        let vm = x.vm();
        let id = CodeId(vm.heap.word(callee, L::FUNC_CODE) as u32);
        let c = &vm.codes[id.0 as usize];
        if c.argcount as usize == n && c.kwonlyargcount == 0 && !c.flags.varargs && !c.flags.varkw && !c.flags.generator {
            let globals = vm.heap.field(callee, L::FUNC_GLOBALS);
            let frame = call::new_frame(vm, id, globals, callee)?;
            let fr = vm.root(frame);
            for k in 0..n {
                let v = x.slot(sp - n + k);
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
            x.push(v);
            Ok(Flow::Next)
        }
        Callee::Frame(frame) => Ok(Flow::Enter(frame)),
    }
}

fn call_ex<X: Exec>(x: &mut X, has_kwargs: bool) -> Res<Flow> {
    let kwargs = if has_kwargs { Some(x.peek(0)) } else { None };
    let k = has_kwargs as usize;
    let (f, args) = (x.peek(k + 1), x.peek(k));
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
            x.push(v);
            Ok(Flow::Next)
        }
        Callee::Frame(frame) => Ok(Flow::Enter(frame)),
    }
}

fn unpack<X: Exec>(x: &mut X, before: usize, after: Option<usize>) -> Res<()> {
    let v = x.peek(0);
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
                x.push(v);
            }
            let items = x.vm().get(ir);
            let middle = crate::list::from_items(x.vm(), items, before, n - after)?;
            x.push(middle);
            for k in (0..before).rev() {
                let items = x.vm().get(ir);
                let v = crate::list::seq_get(x.vm(), items, k);
                x.push(v);
            }
        }
    }
    Ok(())
}

fn raise<X: Exec>(x: &mut X, n: u32) -> Res<Flow> {
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
