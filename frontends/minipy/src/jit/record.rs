//! The recording context: minipy's [`Exec`] that executes each operation concretely and
//! appends the IR op standing for it, through `tracelab-jit`'s [`Recorder`].
//!
//! A loop trace starts at a loop header with one input, the frame (the virtualizable). Frame
//! slots are read with `getfield_gc_r` and written with `setfield_gc` on it (the `virtualize`
//! pass turns them into SSA values); the recorder keeps the IR value of each slot it has seen,
//! so a slot read after a write in the trace is that value. The stack depth, the code and the
//! bytecode index are green: they are never traced.
//!
//! Every branch on a traced value becomes a guard. Its resume data resumes the interpreter at
//! the start of the current bytecode: one frame (`frame 'code' pc=N`) and `vable` entries that
//! restore the slots and the stack depth the bytecode had changed before the guard. A guard
//! after a call that may have had effects would redo them, so the trace gives up instead; the
//! exception check after a call (`guard_no_exception`) resumes after the bytecode, where the
//! interpreter unwinds from it.
//!
//! What is not traced yet gives up the trace with a reason (counted in `--jit-stats`): any
//! bytecode whose semantics work on the [`Vm`] directly (through [`Exec::concrete`] or
//! [`Exec::opaque`]), an exception, leaving the loop's frame, reaching another loop's header.

use crate::bytecode::{CodeId, Op};
use crate::effects::{Field, Helper};
use crate::exec::{float_op, Exec, FloatOp};
use crate::interp::Exit;
use crate::layout as L;
use crate::vm::{Res, Root, Vm};
use rustc_hash::FxHashMap;
use tracelab_ir::descr::{CallKind, DescrData, FieldDescr, MemKind};
use tracelab_ir::entity::EntityRef;
use tracelab_ir::resume::{Resume, ResumeFrame, ResumeValue, VableEntry, VableSlot};
use tracelab_ir::trace::Virtualizable;
use tracelab_ir::{Const, DescrId, Diagnostic, Module, Opcode, Type, Value};
use tracelab_jit::{AbortReason, Recorder};
use tracelab_runtime::gc::{LayoutId, Ref};

/// A value as the recording sees it: its concrete bits and the IR value standing for it.
#[derive(Clone, Copy, Debug)]
pub struct Traced {
    pub c: u64,
    pub ir: Value,
}

/// Where a failing guard resumes the interpreter in the bytecode it is in.
#[derive(Clone, Copy, Debug)]
enum ResumeAt {
    /// At its start, with the slots it changed restored: the bytecode runs again.
    Start,
    /// After it (an exception check: the interpreter unwinds from there).
    After,
    /// After it, with this value pushed (an iterator gave a value the trace took for none:
    /// asking again would lose it).
    AfterPushing(Value),
}

/// What a recording records, and where it ends.
#[derive(Clone, Debug)]
pub enum Shape {
    /// The loop at `header` (its label named by `token`): it closes there, or ends at another
    /// loop header of its frame in `enters`, where a compiled loop takes over.
    Loop { token: u64, header: usize, enters: Vec<usize> },
    /// A bridge from the guard with id `guard`, starting where the guard resumes (in `frames`
    /// interpreter frames: the loop's and the calls inlined there): it ends at the first loop
    /// header the loop's frame reaches.
    Bridge { guard: u64, frames: usize },
}

/// How a recording ended.
pub enum Outcome {
    /// The loop closed: the module holds the trace, verified.
    Closed(Module),
    /// The trace ended with `finish` at loop header `header` of its frame, with the stack
    /// `sp` deep there (a bridge, or a loop that reached a compiled one).
    Finished { module: Module, header: usize, sp: usize },
    Aborted(AbortReason),
    /// The recorded trace failed to verify (a bug in the recording context).
    Invalid(Vec<Diagnostic>),
}

/// Frames a trace inlines beyond the loop's own (a call deeper than this is one helper call).
const MAX_INLINED_FRAMES: usize = 6;

/// A frame the trace is in: the loop's own (the virtualizable, in the heap) or an inlined
/// callee's, which exists only in the trace: its slots are SSA values, and resume data
/// describes it so that a failing guard can build it.
struct TracedFrame {
    code: CodeId,
    /// The function an inlined frame runs (`None` for the loop's frame) and its globals, once read.
    func: Option<Value>,
    globals: Option<Value>,
    /// The IR value of each slot the trace has read or written (all of an inlined frame's
    /// live slots: the others are null, as in a new frame).
    slots: Vec<Option<Value>>,
}

pub struct Recording<'v> {
    vm: &'v mut Vm,
    rec: Option<Recorder>,
    /// The loop's frame, rooted (it moves), and the label parameter standing for it.
    frame: Root,
    frame_ir: Value,
    shape: Shape,
    /// The loop's frame first, then the inlined callees' (the current frame last); the
    /// interpreter's frames are these, linked by `back` from the current one.
    frames: Vec<TracedFrame>,
    /// The interpreter's call depth in the loop's frame.
    base_depth: u32,
    /// An inlined callee's frame made by the call under way, entered next.
    entering: Option<TracedFrame>,
    /// The current frame's slots at the start of the current bytecode, with its index and
    /// stack depth.
    slots_at_op: Vec<Option<Value>>,
    op_pc: usize,
    op_sp: usize,
    op: Option<Op>,
    /// A helper with effects called in the current bytecode: a guard after it would redo it.
    effect_in_op: Option<&'static str>,
    /// Values whose layout a guard already fixed.
    known_layout: FxHashMap<Value, LayoutId>,
    /// Frame fields the trace touched (the virtualizable's declared fields).
    vable_fields: Vec<DescrId>,
    outcome: Option<Outcome>,
    /// Ops recorded when the recorder was given up or closed.
    ops_recorded: usize,
}

impl<'v> Recording<'v> {
    /// Starts recording a trace of `shape` from the current frame, where it is now, with
    /// `module`'s descrs (minipy's declarations); its guards get ids from `first_guard` on.
    pub fn start(vm: &'v mut Vm, module: Module, name: &str, shape: Shape, first_guard: u64, limit: usize) -> Recording<'v> {
        let (mut rec, frame_ir) = match &shape {
            Shape::Loop { token, .. } => {
                let (rec, params) = Recorder::start_loop(module, name, *token, &[Type::Ref], limit);
                (rec, params[0])
            }
            Shape::Bridge { guard, frames } => {
                let (rec, inputs) = Recorder::start_bridge(module, *guard, &vec![Type::Ref; (*frames).max(1)], limit);
                (rec, inputs[0])
            }
        };
        rec.first_guard_id(first_guard);
        let calls = match shape {
            Shape::Bridge { frames, .. } => frames.max(1) - 1,
            Shape::Loop { .. } => 0,
        };
        let f = frame_below(vm, calls);
        let code = CodeId(vm.heap.word(f, L::FRAME_CODE) as u32);
        let pc = vm.heap.word(vm.get(vm.frame), L::FRAME_PC) as usize;
        let frame = vm.root(f);
        let nslots = vm.heap.len(f);
        let base_depth = vm.depth - calls as u32;
        let mut recording = Recording {
            vm,
            rec: Some(rec),
            frame,
            frame_ir,
            shape,
            frames: vec![TracedFrame { code, func: None, globals: None, slots: vec![None; nslots] }],
            base_depth,
            entering: None,
            slots_at_op: vec![None; nslots],
            op_pc: pc,
            op_sp: 0,
            op: None,
            effect_in_op: None,
            known_layout: FxHashMap::default(),
            vable_fields: Vec::new(),
            outcome: None,
            ops_recorded: 0,
        };
        for k in 1..=calls {
            recording.load_call_frame(k);
        }
        let top = recording.frames.len() - 1;
        recording.slots_at_op.clone_from(&recording.frames[top].slots);
        recording
    }

    /// A bridge from a guard in an inlined call starts in the frames the guard's resume data
    /// made: frame `k` is the bridge's input `k`, and its function and live slots are read
    /// once at the start, after which it is traced as an inlined frame (all its slots known).
    fn load_call_frame(&mut self, k: usize) {
        let Some(input) = self.rec.as_ref().and_then(|r| r.inputs().get(k).copied()) else { return };
        let f = self.call_frame_ref(k);
        let code = CodeId(self.vm.heap.word(f, L::FRAME_CODE) as u32);
        let sp = self.vm.heap.word(f, L::FRAME_SP) as usize;
        let func_descr = self.frame_heap_descr("func", L::FRAME_FUNC);
        let func = self.emit(Opcode::GetfieldGcR, &[input], Some(func_descr));
        let mut slots = vec![None; self.vm.heap.len(f)];
        for (i, slot) in slots.iter_mut().enumerate().take(sp) {
            let d = self.frame_heap_descr(&format!("slot{i}"), L::FRAME_SLOTS + i);
            *slot = Some(self.emit(Opcode::GetfieldGcR, &[input], Some(d)));
        }
        self.frames.push(TracedFrame { code, func: Some(func), globals: None, slots });
    }

    /// Frame `k` of the `calls + 1` a bridge starts in, found from the current one.
    fn call_frame_ref(&self, k: usize) -> Ref {
        let frames = match self.shape {
            Shape::Bridge { frames, .. } => frames,
            Shape::Loop { .. } => 1,
        };
        frame_below(self.vm, frames.saturating_sub(k + 1))
    }

    /// A field of a call's frame that is not the virtualizable (a bridge's input frames),
    /// under its own owner (`minipy.callframe`), so that `virtualize` does not take it for the
    /// loop's frame: a call's frame is never the loop's, and the trace only reads it.
    fn frame_heap_descr(&mut self, name: &str, word: usize) -> DescrId {
        let data = DescrData::Field(FieldDescr { owner: "minipy.callframe".into(), name: name.into(), offset: (word * 8) as u32, size: None, kind: MemKind::Ref, pure: false });
        let Some(rec) = self.rec.as_mut() else { return DescrId::new(0) };
        rec.module_mut().intern_descr_named(&format!("minipy.callframe.{name}"), data)
    }

    /// How the recording ended (`Aborted` if it is still under way: the frame was left), and
    /// the ops it recorded.
    pub fn finish(mut self) -> (Outcome, usize) {
        let ops = self.rec.as_ref().map_or(self.ops_recorded, |r| r.len());
        let outcome = self.outcome.take().unwrap_or(Outcome::Aborted(AbortReason::LeftEntryFrame));
        (outcome, ops)
    }

    fn give_up(&mut self, reason: AbortReason) {
        self.ops_recorded = self.rec.as_ref().map_or(self.ops_recorded, |r| r.len());
        if self.outcome.is_none() {
            self.outcome = Some(Outcome::Aborted(reason));
        }
        self.rec = None;
    }

    fn unsupported(&mut self, what: String) {
        self.give_up(AbortReason::Unsupported(what));
    }

    fn op_name(&self) -> String {
        self.op.map_or_else(|| "?".to_string(), |op| op_text(&op))
    }

    /// Appends a non-guard op; its result (or a stand-in once the trace is given up).
    fn emit(&mut self, opcode: Opcode, args: &[Value], descr: Option<DescrId>) -> Value {
        let stand_in = self.frame_ir;
        let Some(rec) = self.rec.as_mut() else { return stand_in };
        match rec.op(opcode, args, descr) {
            Ok(v) => v.unwrap_or(stand_in),
            Err(reason) => {
                self.give_up(reason);
                stand_in
            }
        }
    }

    fn guard(&mut self, opcode: Opcode, args: &[Value]) {
        let at = if opcode == Opcode::GuardNoException { ResumeAt::After } else { ResumeAt::Start };
        self.guard_at(opcode, args, at);
    }

    fn guard_at(&mut self, opcode: Opcode, args: &[Value], at: ResumeAt) {
        if self.rec.is_none() {
            return;
        }
        if let (Some(h), ResumeAt::Start) = (self.effect_in_op, at) {
            let what = format!("a branch on the result of `{h}` in {} (it may have had effects)", self.op_name());
            self.unsupported(what);
            return;
        }
        let resume = self.resume_here(at);
        let Some(rec) = self.rec.as_mut() else { return };
        if let Err(reason) = rec.guard(opcode, args, resume) {
            self.give_up(reason);
        }
    }

    /// Resume data for a guard in the current bytecode, where `at` says. The loop's frame
    /// is written back through `vable` entries; each inlined frame is described in full (its
    /// function, its stack depth, then its slots).
    fn resume_here(&mut self, at: ResumeAt) -> Resume {
        let mut r = Resume::default();
        let top = self.frames.len() - 1;
        for k in 0..=top {
            let here = self.frame_at(k);
            let sp_now = self.vm.heap.word(here, L::FRAME_SP) as usize;
            let (pc, sp, pushed) = match at {
                _ if k < top => (self.vm.heap.word(here, L::FRAME_PC) as usize, sp_now, None),
                ResumeAt::Start => (self.op_pc, self.op_sp, None),
                ResumeAt::After => (self.op_pc + 1, sp_now, None),
                ResumeAt::AfterPushing(v) => (self.op_pc + 1, sp_now + 1, Some((sp_now, v))),
            };
            let restore = k == top && matches!(at, ResumeAt::Start);
            let code = self.frames[k].code;
            let name = format!("{}#{}", self.vm.codes[code.0 as usize].name, code.0);
            let slots = if k == 0 {
                self.vable_resume(&mut r, sp, restore);
                if let Some((i, v)) = pushed {
                    let d = self.slot_descr(i);
                    r.vable.push(VableEntry { slot: VableSlot::Field(d), value: ResumeValue::Value(v) });
                }
                vec![]
            } else {
                let mut slots = self.inlined_frame_slots(k, sp, restore);
                if let Some((i, v)) = pushed {
                    if slots.len() <= 2 + i {
                        slots.resize(3 + i, ResumeValue::Dead);
                    }
                    slots[2 + i] = ResumeValue::Value(v);
                }
                slots
            };
            r.frames.push(ResumeFrame { code: name, pc: pc as u32, slots });
        }
        r
    }

    /// The loop frame's `vable` entries: its stack depth and (`restore`) the old values of
    /// the slots the current bytecode changed.
    fn vable_resume(&mut self, r: &mut Resume, sp: usize, restore: bool) {
        let sp_descr = self.frame_word_descr("sp", L::FRAME_SP);
        let sp_value = self.constant_value(Const::Int(sp as i64));
        r.vable.push(VableEntry { slot: VableSlot::Field(sp_descr), value: ResumeValue::Value(sp_value) });
        if !restore {
            return;
        }
        for i in 0..self.frames[0].slots.len() {
            if self.frames[0].slots[i] != self.slots_at_op[i] {
                if let Some(old) = self.slots_at_op[i] {
                    let d = self.slot_descr(i);
                    r.vable.push(VableEntry { slot: VableSlot::Field(d), value: ResumeValue::Value(old) });
                }
            }
        }
    }

    /// An inlined frame in resume data: its function, its stack depth, then its slots (as at
    /// the start of the current bytecode with `restore`); trailing dead slots left out.
    fn inlined_frame_slots(&mut self, k: usize, sp: usize, restore: bool) -> Vec<ResumeValue> {
        let func = self.frames[k].func.unwrap_or(self.frame_ir);
        let sp = self.constant_value(Const::Int(sp as i64));
        let values = if restore { &self.slots_at_op } else { &self.frames[k].slots };
        let mut slots = vec![ResumeValue::Value(func), ResumeValue::Value(sp)];
        slots.extend(values.iter().map(|v| v.map_or(ResumeValue::Dead, ResumeValue::Value)));
        while slots.len() > 2 && slots.last() == Some(&ResumeValue::Dead) {
            slots.pop();
        }
        slots
    }

    fn constant_value(&mut self, c: Const) -> Value {
        match self.rec.as_mut() {
            Some(rec) => rec.constant(c),
            None => self.frame_ir,
        }
    }

    fn is_const(&self, v: Value) -> bool {
        self.rec.as_ref().is_some_and(|r| r.is_const(v))
    }

    fn descr(&mut self, name: &str) -> Option<DescrId> {
        self.rec.as_mut()?.module_mut().descr_by_name(name)
    }

    /// The call descr of helper `h` taking `n` arguments: the declared one, or for a helper
    /// taking any number (a call's arguments), a variant with `n` reference arguments.
    fn call_descr(&mut self, h: &Helper, n: usize) -> Option<DescrId> {
        let base = self.descr(&format!("minipy.call.{}", h.name))?;
        let m = self.rec.as_mut()?.module_mut();
        let DescrData::Call(c) = &m.descrs[base].data else { return Some(base) };
        if c.args.len() == n {
            return Some(base);
        }
        let mut c = c.clone();
        c.args = vec![CallKind::Ref; n];
        Some(m.intern_descr_named(&format!("minipy.call.{}.{n}", h.name), DescrData::Call(c)))
    }

    fn field_descr(&mut self, f: &Field) -> Option<DescrId> {
        self.descr(&format!("minipy.{}", f.name))
    }

    /// A word field of the frame (`frame.sp`), declared on first use.
    fn frame_word_descr(&mut self, name: &str, word: usize) -> DescrId {
        self.frame_descr(&format!("minipy.frame.{name}"), name, word, MemKind::Signed)
    }

    fn slot_descr(&mut self, i: usize) -> DescrId {
        let name = format!("slot{i}");
        self.frame_descr(&format!("minipy.frame.{name}"), &name, L::FRAME_SLOTS + i, MemKind::Ref)
    }

    fn frame_descr(&mut self, full: &str, name: &str, word: usize, kind: MemKind) -> DescrId {
        let data = DescrData::Field(FieldDescr { owner: "minipy.frame".into(), name: name.into(), offset: (word * 8) as u32, size: None, kind, pure: false });
        // A given-up trace records nothing more: the stand-in names no op.
        let Some(rec) = self.rec.as_mut() else { return DescrId::new(0) };
        let d = rec.module_mut().intern_descr_named(full, data);
        if !self.vable_fields.contains(&d) {
            self.vable_fields.push(d);
        }
        d
    }

    /// The interpreter's frame for traced frame `k` (0: the loop's), found from the current
    /// one by its `back` links (frames move, and only the loop's is rooted).
    fn frame_at(&self, k: usize) -> Ref {
        frame_below(self.vm, self.frames.len() - 1 - k)
    }

    /// Whether the interpreter runs the frames the trace follows: the call depth matches
    /// and the `back` links lead to the loop's frame.
    fn in_traced_frames(&self) -> bool {
        self.vm.depth as usize == self.base_depth as usize + self.frames.len() - 1 && self.frame_at(0) == self.vm.get(self.frame)
    }

    fn top(&self) -> &TracedFrame {
        &self.frames[self.frames.len() - 1]
    }

    fn top_mut(&mut self) -> &mut TracedFrame {
        let k = self.frames.len() - 1;
        &mut self.frames[k]
    }

    /// The frame the interpreter runs now: the trace's current one, or (after a return took
    /// the recording out of the loop's frame) its caller, which the trace does not follow.
    fn current_frame(&mut self) -> Ref {
        if self.rec.is_some() && !self.in_traced_frames() {
            self.give_up(AbortReason::LeftEntryFrame);
        }
        self.vm.get(self.vm.frame)
    }

    fn concrete_sp(&mut self) -> usize {
        let f = self.current_frame();
        self.vm.heap.word(f, L::FRAME_SP) as usize
    }

    fn read_slot(&mut self, i: usize) -> Traced {
        let f = self.current_frame();
        let c = self.vm.heap.field(f, L::FRAME_SLOTS + i).0 as u64;
        if let Some(Some(v)) = self.top().slots.get(i) {
            return Traced { c, ir: *v };
        }
        let ir = if self.frames.len() == 1 {
            let d = self.slot_descr(i);
            self.emit(Opcode::GetfieldGcR, &[self.frame_ir], Some(d))
        } else {
            // An inlined frame's slot the trace never wrote is null, as in a new frame.
            if c != 0 && self.rec.is_some() {
                self.unsupported(format!("an inlined frame's slot the trace does not know, in {}", self.op_name()));
            }
            self.constant_value(Const::Null)
        };
        if i < self.top().slots.len() {
            self.top_mut().slots[i] = Some(ir);
            self.slots_at_op[i] = Some(ir);
        }
        Traced { c, ir }
    }

    fn write_slot(&mut self, i: usize, v: Traced) {
        let f = self.current_frame();
        let traced = self.rec.is_some() && i < self.top().slots.len();
        if traced && self.top().slots[i].is_none() {
            // Read first: a guard later in this bytecode restores the old value.
            self.read_slot(i);
        }
        self.vm.heap.set_field(f, L::FRAME_SLOTS + i, Ref(v.c as u32));
        if !traced {
            if self.rec.is_some() {
                self.unsupported(format!("a frame slot past the frame's size in {}", self.op_name()));
            }
            return;
        }
        if self.frames.len() == 1 {
            let d = self.slot_descr(i);
            self.emit(Opcode::SetfieldGc, &[self.frame_ir, v.ir], Some(d));
        }
        self.top_mut().slots[i] = Some(v.ir);
    }

    /// A field of an inlined frame: its globals are its function's (read once); nothing else
    /// is traced.
    fn inlined_frame_field(&mut self, f: &'static Field, c: u64) -> Traced {
        if f.word != L::FRAME_GLOBALS {
            let what = format!("field `{}` of an inlined frame in {}", f.name, self.op_name());
            self.unsupported(what);
            return Traced { c, ir: self.frame_ir };
        }
        if let Some(ir) = self.top().globals {
            return Traced { c, ir };
        }
        let func = self.top().func.unwrap_or(self.frame_ir);
        let d = self.field_descr(&crate::effects::FUNC_GLOBALS);
        let ir = self.emit(Opcode::GetfieldGcR, &[func], d);
        self.top_mut().globals = Some(ir);
        Traced { c, ir }
    }

    /// The code a call of `callee` with `n` arguments runs if the trace may go into it: a
    /// plain Python function without loops, cells or a generator, called with exactly its
    /// positional parameters, not already on the traced frames (recursion), within the depth.
    fn inlinable(&self, callee: Ref, n: usize) -> Option<CodeId> {
        if self.vm.heap.layout_of(callee) != L::FUNCTION || self.frames.len() > MAX_INLINED_FRAMES {
            return None;
        }
        let id = CodeId(self.vm.heap.word(callee, L::FUNC_CODE) as u32);
        let c = &self.vm.codes[id.0 as usize];
        let plain = c.argcount as usize == n && c.kwonlyargcount == 0 && !c.flags.varargs && !c.flags.varkw && !c.flags.generator;
        let ok = plain && c.ncells() == 0 && !c.has_loops() && self.frames.iter().all(|f| f.code != id);
        ok.then_some(id)
    }

    fn null(&mut self) -> Traced {
        Traced { c: 0, ir: self.constant_value(Const::Null) }
    }

    /// Guards that `v`'s layout is what it is now; returns it.
    fn layout_of(&mut self, v: Traced) -> LayoutId {
        let l = self.vm.heap.layout_of(Ref(v.c as u32));
        if self.is_const(v.ir) || self.known_layout.get(&v.ir) == Some(&l) {
            return l;
        }
        let class = self.constant_value(Const::Class(class_name(l)));
        self.guard(Opcode::GuardClass, &[v.ir, class]);
        self.known_layout.insert(v.ir, l);
        l
    }

    fn branch(&mut self, cond: Value, taken: bool) {
        let opcode = if taken { Opcode::GuardTrue } else { Opcode::GuardFalse };
        self.guard(opcode, &[cond]);
    }

    fn int_op_ovf(&mut self, opcode: Opcode, a: Traced, b: Traced, result: Option<i64>) -> Option<Traced> {
        if self.is_const(a.ir) && self.is_const(b.ir) {
            return result.map(|r| Traced { c: r as u64, ir: self.constant_value(Const::Int(r)) });
        }
        let ir = self.emit(opcode, &[a.ir, b.ir], None);
        match result {
            Some(r) => {
                self.guard(Opcode::GuardNoOverflow, &[]);
                Some(Traced { c: r as u64, ir })
            }
            None => {
                self.guard(Opcode::GuardOverflow, &[]);
                None
            }
        }
    }

    fn compare(&mut self, opcode: Opcode, a: Traced, b: Traced, outcome: bool) -> bool {
        if self.is_const(a.ir) && self.is_const(b.ir) {
            return outcome;
        }
        let cond = self.emit(opcode, &[a.ir, b.ir], None);
        self.branch(cond, outcome);
        outcome
    }

    fn box_value(&mut self, size: &str, field: &str, v: Traced, made: Res<Ref>) -> Res<Traced> {
        let r = made?;
        let (Some(size), Some(field)) = (self.descr(size), self.descr(field)) else {
            return Ok(Traced { c: r.0 as u64, ir: self.frame_ir });
        };
        let p = self.emit(Opcode::NewWithVtable, &[], Some(size));
        self.emit(Opcode::SetfieldGc, &[p, v.ir], Some(field));
        self.known_layout.insert(p, self.vm.heap.layout_of(r));
        Ok(Traced { c: r.0 as u64, ir: p })
    }
}

/// The interpreter's frame `n` calls below the current one (by `back` links).
fn frame_below(vm: &Vm, n: usize) -> Ref {
    let mut f = vm.get(vm.frame);
    for _ in 0..n {
        f = vm.heap.field(f, L::FRAME_BACK);
    }
    f
}

/// The class constant a guard compares a layout with (`ConstClass(minipy.int)`).
pub(crate) fn class_name(l: LayoutId) -> String {
    format!("minipy.{}", L::name_of(l).to_lowercase())
}

/// A bytecode as a `debug_merge_point` and an abort reason name it.
pub fn op_text(op: &Op) -> String {
    format!("{op:?}").replace(['{', '}'], "").replace("  ", " ")
}

impl Exec for Recording<'_> {
    type V = Traced;
    type W = Traced;

    fn vm(&mut self) -> &mut Vm {
        self.vm
    }

    fn before_op(&mut self, code: CodeId, pc: usize, op: Op) -> bool {
        if self.rec.is_none() {
            return false;
        }
        if !self.in_traced_frames() || code != self.top().code {
            self.give_up(AbortReason::LeftEntryFrame);
            return false;
        }
        self.op_pc = pc;
        self.op_sp = self.concrete_sp();
        self.op = Some(op);
        self.effect_in_op = None;
        let k = self.frames.len() - 1;
        self.slots_at_op.clone_from(&self.frames[k].slots);
        let c = &self.vm.codes[code.0 as usize];
        let text = format!("{} {}:{} #{pc} {}", c.name, c.filename, c.lines.get(pc).copied().unwrap_or(0), op_text(&op));
        if let Some(rec) = self.rec.as_mut() {
            rec.debug_merge_point(&text);
        }
        true
    }

    fn loop_header(&mut self, code: CodeId, target: usize) -> Res<Option<Exit>> {
        let in_own_frame = self.frames.len() == 1 && code == self.frames[0].code;
        let closes = match &self.shape {
            _ if !in_own_frame => None,
            Shape::Loop { header, .. } if *header == target => Some(true),
            Shape::Loop { enters, .. } if enters.contains(&target) => Some(false),
            Shape::Loop { .. } => None,
            Shape::Bridge { .. } => Some(false),
        };
        let Some(closes) = closes else {
            self.unsupported("reached the header of another loop, not compiled".to_string());
            return Ok(None);
        };
        let Some(mut rec) = self.rec.take() else { return Ok(None) };
        self.ops_recorded = rec.len();
        let frame = rec.inputs()[0];
        let mut fields = std::mem::take(&mut self.vable_fields);
        fields.sort();
        rec.set_virtualizable(Virtualizable { frame, fields, arrays: vec![] });
        let ended = if closes { rec.close_loop(&[self.frame_ir]).map(Outcome::Closed) } else {
            let sp = self.concrete_sp();
            rec.close_finish(&[self.frame_ir]).map(|module| Outcome::Finished { module, header: target, sp })
        };
        self.outcome = Some(ended.unwrap_or_else(Outcome::Invalid));
        Ok(None)
    }

    fn raised(&mut self) {
        let what = format!("an exception raised in {}", self.op_name());
        self.unsupported(what);
    }

    fn pushes_callee_frames(&self) -> bool {
        false
    }

    fn inline_call(&mut self, callee: Traced, args: &[Traced]) -> Res<Option<Ref>> {
        let Some(id) = self.rec.as_ref().and_then(|_| self.inlinable(Ref(callee.c as u32), args.len())) else { return Ok(None) };
        // The trace goes on only for this function's code: its class and code are guarded.
        self.layout_of(callee);
        let code = self.word(callee, &crate::effects::FUNC_CODE);
        self.promote(code);
        let func = Ref(callee.c as u32);
        let globals = self.vm.heap.field(func, L::FUNC_GLOBALS);
        // Making the frame may move the arguments: they are held where the GC updates them.
        let held: Vec<Root> = args.iter().map(|a| self.vm.root(Ref(a.c as u32))).collect();
        let frame = crate::call::new_frame(self.vm, id, globals, func)?;
        let mut slots = vec![None; self.vm.heap.len(frame)];
        for (k, (a, &r)) in args.iter().zip(&held).enumerate() {
            let now = self.vm.get(r);
            self.vm.heap.set_field(frame, L::FRAME_SLOTS + k, now);
            slots[k] = Some(a.ir);
        }
        self.entering = Some(TracedFrame { code: id, func: Some(callee.ir), globals: None, slots });
        Ok(Some(frame))
    }

    fn entered_frame(&mut self) {
        match self.entering.take() {
            Some(f) if self.rec.is_some() => {
                self.slots_at_op.clone_from(&f.slots);
                self.frames.push(f);
            }
            _ => self.give_up(AbortReason::Unsupported("entered a frame the trace did not inline".into())),
        }
    }

    fn returned_frame(&mut self) {
        if self.frames.len() == 1 {
            self.give_up(AbortReason::LeftEntryFrame);
            return;
        }
        self.frames.pop();
        let k = self.frames.len() - 1;
        self.slots_at_op.clone_from(&self.frames[k].slots);
    }

    fn frame(&mut self) -> Ref {
        self.vm.get(self.vm.frame)
    }

    fn slot(&mut self, i: usize) -> Traced {
        self.read_slot(i)
    }

    fn set_slot(&mut self, i: usize, v: Traced) {
        self.write_slot(i, v);
    }

    fn sp(&mut self) -> usize {
        self.concrete_sp()
    }

    fn set_sp(&mut self, sp: usize) {
        let f = self.current_frame();
        self.vm.heap.set_word(f, L::FRAME_SP, sp as u64);
    }

    fn frame_field(&mut self, f: &'static Field) -> Traced {
        let frame = self.current_frame();
        let c = self.vm.heap.field(frame, f.word).0 as u64;
        if self.frames.len() > 1 {
            return self.inlined_frame_field(f, c);
        }
        let d = self.frame_descr(&format!("minipy.{}", f.name), f.name.trim_start_matches("frame."), f.word, MemKind::Ref);
        let ir = self.emit(Opcode::GetfieldGcR, &[self.frame_ir], Some(d));
        Traced { c, ir }
    }

    fn push(&mut self, v: Traced) {
        let sp = self.concrete_sp();
        self.write_slot(sp, v);
        self.set_sp(sp + 1);
    }

    fn pop(&mut self) -> Traced {
        let sp = self.concrete_sp() - 1;
        let v = self.read_slot(sp);
        let null = self.null();
        self.write_slot(sp, null);
        self.set_sp(sp);
        v
    }

    fn peek(&mut self, n: usize) -> Traced {
        let sp = self.concrete_sp();
        self.read_slot(sp - 1 - n)
    }

    fn set_peek(&mut self, n: usize, v: Traced) {
        let sp = self.concrete_sp();
        self.write_slot(sp - 1 - n, v);
    }

    fn constant(&mut self, r: Ref) -> Traced {
        let c = if r.is_null() {
            Const::Null
        } else if r == self.vm.none {
            Const::Ptr("none".into())
        } else if r == self.vm.true_ {
            Const::Ptr("true".into())
        } else if r == self.vm.false_ {
            Const::Ptr("false".into())
        } else {
            Const::Ptr(format!("ptr{}", r.0))
        };
        Traced { c: r.0 as u64, ir: self.constant_value(c) }
    }

    fn code_constant(&mut self, code: CodeId, i: u32, r: Ref) -> Traced {
        Traced { c: r.0 as u64, ir: self.constant_value(Const::Ptr(format!("c{}_{i}", code.0))) }
    }

    fn const_word(&mut self, w: u64) -> Traced {
        Traced { c: w, ir: self.constant_value(Const::Int(w as i64)) }
    }

    fn concrete(&mut self, v: Traced) -> Ref {
        let what = format!("{} is not traced", self.op_name());
        self.unsupported(what);
        Ref(v.c as u32)
    }

    fn opaque(&mut self, r: Ref) -> Traced {
        let what = format!("{} is not traced", self.op_name());
        self.unsupported(what);
        Traced { c: r.0 as u64, ir: self.frame_ir }
    }

    fn ref_word(&mut self, v: Traced) -> Traced {
        v
    }

    fn word_ref(&mut self, w: Traced) -> Traced {
        w
    }

    fn has_layout(&mut self, v: Traced, l: LayoutId) -> bool {
        if v.c == 0 {
            return false;
        }
        self.layout_of(v) == l
    }

    fn is_null(&mut self, v: Traced) -> bool {
        let null = v.c == 0;
        if !self.is_const(v.ir) {
            let opcode = if null { Opcode::GuardIsnull } else { Opcode::GuardNonnull };
            self.guard(opcode, &[v.ir]);
        }
        null
    }

    fn same(&mut self, a: Traced, b: Traced) -> bool {
        let same = a.c == b.c;
        if self.is_const(a.ir) && self.is_const(b.ir) {
            return same;
        }
        match (same, self.is_const(a.ir), self.is_const(b.ir)) {
            (true, false, true) => self.guard(Opcode::GuardValue, &[a.ir, b.ir]),
            (true, true, false) => self.guard(Opcode::GuardValue, &[b.ir, a.ir]),
            _ => {
                let cond = self.emit(Opcode::PtrEq, &[a.ir, b.ir], None);
                self.branch(cond, same);
            }
        }
        same
    }

    fn word(&mut self, v: Traced, f: &'static Field) -> Traced {
        let c = self.vm.heap.word(Ref(v.c as u32), f.word);
        let opcode = if f.kind == 'F' { Opcode::GetfieldGcF } else { Opcode::GetfieldGcI };
        let d = self.field_descr(f);
        let ir = self.emit(opcode, &[v.ir], d);
        Traced { c, ir }
    }

    fn field(&mut self, v: Traced, f: &'static Field) -> Traced {
        let c = self.vm.heap.field(Ref(v.c as u32), f.word).0 as u64;
        let d = self.field_descr(f);
        let ir = self.emit(Opcode::GetfieldGcR, &[v.ir], d);
        Traced { c, ir }
    }

    fn set_word(&mut self, v: Traced, f: &'static Field, w: Traced) {
        self.vm.heap.set_word(Ref(v.c as u32), f.word, w.c);
        let d = self.field_descr(f);
        self.emit(Opcode::SetfieldGc, &[v.ir, w.ir], d);
    }

    fn array_len(&mut self, v: Traced) -> Traced {
        let c = self.vm.heap.len(Ref(v.c as u32)) as u64;
        let d = self.descr("minipy.refarray.items");
        let ir = self.emit(Opcode::ArraylenGc, &[v.ir], d);
        Traced { c, ir }
    }

    fn set_field(&mut self, v: Traced, f: &'static Field, value: Traced) {
        self.vm.heap.set_field(Ref(v.c as u32), f.word, Ref(value.c as u32));
        let d = self.field_descr(f);
        self.emit(Opcode::SetfieldGc, &[v.ir, value.ir], d);
    }

    fn item(&mut self, array: Traced, i: Traced) -> Traced {
        let c = self.vm.heap.field(Ref(array.c as u32), L::ITEMS + i.c as usize).0 as u64;
        let d = self.descr("minipy.refarray.items");
        let ir = self.emit(Opcode::GetarrayitemGcR, &[array.ir, i.ir], d);
        Traced { c, ir }
    }

    fn set_item(&mut self, array: Traced, i: Traced, v: Traced) {
        self.vm.heap.set_field(Ref(array.c as u32), L::ITEMS + i.c as usize, Ref(v.c as u32));
        let d = self.descr("minipy.refarray.items");
        self.emit(Opcode::SetarrayitemGc, &[array.ir, i.ir, v.ir], d);
    }

    fn iter_exhausted(&mut self, next: Traced) -> bool {
        let exhausted = next.c == 0;
        if !self.is_const(next.ir) {
            if exhausted {
                self.guard_at(Opcode::GuardIsnull, &[next.ir], ResumeAt::AfterPushing(next.ir));
            } else {
                // Fails when the iterator is exhausted, which asking again finds again.
                self.guard(Opcode::GuardNonnull, &[next.ir]);
            }
        }
        exhausted
    }

    fn promote(&mut self, w: Traced) -> u64 {
        if !self.is_const(w.ir) {
            let c = self.constant_value(Const::Int(w.c as i64));
            self.guard(Opcode::GuardValue, &[w.ir, c]);
        }
        w.c
    }

    fn int_add(&mut self, a: Traced, b: Traced) -> Option<Traced> {
        let r = (a.c as i64).checked_add(b.c as i64);
        self.int_op_ovf(Opcode::IntAddOvf, a, b, r)
    }

    fn int_sub(&mut self, a: Traced, b: Traced) -> Option<Traced> {
        let r = (a.c as i64).checked_sub(b.c as i64);
        self.int_op_ovf(Opcode::IntSubOvf, a, b, r)
    }

    fn int_mul(&mut self, a: Traced, b: Traced) -> Option<Traced> {
        let r = (a.c as i64).checked_mul(b.c as i64);
        self.int_op_ovf(Opcode::IntMulOvf, a, b, r)
    }

    fn int_lt(&mut self, a: Traced, b: Traced) -> bool {
        self.compare(Opcode::IntLt, a, b, (a.c as i64) < (b.c as i64))
    }

    fn int_eq(&mut self, a: Traced, b: Traced) -> bool {
        let eq = a.c == b.c;
        match (eq, self.is_const(a.ir), self.is_const(b.ir)) {
            (true, false, true) => {
                self.guard(Opcode::GuardValue, &[a.ir, b.ir]);
                true
            }
            _ => self.compare(Opcode::IntEq, a, b, eq),
        }
    }

    fn float_op(&mut self, op: FloatOp, a: Traced, b: Traced) -> Traced {
        let c = float_op(op, a.c, b.c);
        let opcode = match op {
            FloatOp::Add => Opcode::FloatAdd,
            FloatOp::Sub => Opcode::FloatSub,
            FloatOp::Mul => Opcode::FloatMul,
            FloatOp::Div => Opcode::FloatTruediv,
        };
        let ir = self.emit(opcode, &[a.ir, b.ir], None);
        Traced { c, ir }
    }

    fn float_is_zero(&mut self, a: Traced) -> bool {
        let zero = f64::from_bits(a.c) == 0.0;
        if !self.is_const(a.ir) {
            let z = self.constant_value(Const::Float(0f64.to_bits()));
            let cond = self.emit(Opcode::FloatEq, &[a.ir, z], None);
            self.branch(cond, zero);
        }
        zero
    }

    fn box_int(&mut self, v: Traced) -> Res<Traced> {
        let made = self.vm.new_int(v.c as i64);
        self.box_value("minipy.int.size", "minipy.int.value", v, made)
    }

    fn box_float(&mut self, v: Traced) -> Res<Traced> {
        let made = self.vm.new_float(f64::from_bits(v.c));
        self.box_value("minipy.float.size", "minipy.float.value", v, made)
    }

    fn call(&mut self, h: &'static Helper, args: &[Traced]) -> Res<Traced> {
        let words: Vec<u64> = args.iter().map(|a| a.c).collect();
        let c = (h.run)(self.vm, &words)?;
        let target = self.constant_value(Const::Class(format!("minipy.{}", h.name)));
        let mut ir_args = vec![target];
        ir_args.extend(args.iter().map(|a| a.ir));
        let opcode = match h.signature.as_bytes().get(4) {
            Some(b'r') => Opcode::CallR,
            Some(b'i') => Opcode::CallI,
            _ => Opcode::CallN,
        };
        let d = self.call_descr(h, args.len());
        let ir = self.emit(opcode, &ir_args, d);
        if h.raises {
            self.guard(Opcode::GuardNoException, &[]);
        }
        if h.has_effects() && !h.rerun_safe {
            self.effect_in_op = Some(h.name);
        }
        Ok(Traced { c, ir })
    }
}
