//! Running a loop's compiled code on minipy's heap and resuming the interpreter when one of its
//! guards fails.
//!
//! A loop is compiled by `tracelab-backend`'s `gc_heap`; [`MinipyEnv`] is what the code asks
//! of minipy while it runs: the heap, calls of the runtime helpers (`effects::HELPERS`, by
//! number), allocations, and the current place of each constant. Entering it passes the frame
//! (the trace's one input). Constants are named by where they come from (`c3_5`: constant 5 of
//! code 3; `none`, `true`, `false`), never by a reference, because objects move.
//!
//! Resuming from guard `g` follows `g`'s resume data: the virtual objects it names are
//! allocated (the fail args that are references are rooted first: allocating may move them),
//! delayed writes done, the frame's fields written back (`vable` entries: slots and the stack
//! depth), and the frame's bytecode index set to the frame's `pc`. The interpreter then goes on
//! from there, exactly where it would have been; after a failing `guard_no_exception` the
//! helper's exception is pending and the interpreter unwinds from that bytecode.

use crate::bytecode::CodeId;
use crate::layout as L;
use crate::vm::{Exc, Raised, Res, Root, Vm};
use tracelab_backend::gc_heap::{self, HeapCode, HeapEnv, HeapExit, HeapTarget};
use tracelab_runtime::gc::Heap;
use tracelab_ir::descr::{DescrData, MemKind};
use tracelab_ir::entity::EntityRef;
use tracelab_ir::resume::{FieldKey, Resume, ResumeFrame, ResumeValue, VableSlot};
use tracelab_ir::trace::ValueDef;
use tracelab_ir::{Const, DescrId, Module, Trace, TraceId, Type, Value};
use tracelab_runtime::gc::{LayoutId, Ref};

/// Where a constant of a compiled loop is found on each entry.
#[derive(Clone, Copy, Debug)]
enum ConstSource {
    Object(fn(&Vm) -> Ref),
    Code(CodeId, u32),
}

/// A loop compiled for minipy's heap, with the trace its guards' resume data is in.
pub struct NativeLoop {
    code: HeapCode,
    module: Module,
    tid: TraceId,
    consts: Vec<ConstSource>,
    /// Guards numbered below this one are in the preamble: a run that fails one of them did
    /// not complete a single iteration.
    first_body_guard: usize,
    /// Where a trace that ends in `finish` leaves its frame: the loop header and stack depth.
    finish_at: Option<(usize, usize)>,
}

/// How a run of compiled code ended, with the interpreter's state as it should be there.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NativeExit {
    /// Guard number `index` failed; the interpreter resumes where it says.
    Guard(usize),
    /// The trace reached its `finish` at loop header `header` of the frame.
    Finished { header: usize },
}

/// The class names traces use for minipy's layouts (`minipy.int`), with their ids, and the
/// helpers' names with their numbers.
pub fn heap_target(vm: &Vm) -> HeapTarget {
    let n = vm.heap.layouts().len();
    let classes = (0..n as u16).map(|id| (super::record::class_name(LayoutId(id)), id)).collect();
    let functions = crate::effects::HELPERS.iter().enumerate().map(|(k, h)| (format!("minipy.{}", h.name), k as u32)).collect();
    HeapTarget { classes, functions, random_guard_failures: false }
}

/// What compiled code asks of minipy while it runs.
struct MinipyEnv<'a> {
    vm: &'a mut Vm,
    consts: &'a [ConstSource],
    /// The guard check that fails regardless (`--jit-fail-guards`; 0: none).
    countdown: u64,
}

impl HeapEnv for MinipyEnv<'_> {
    fn heap(&mut self) -> &mut Heap {
        &mut self.vm.heap
    }

    fn call(&mut self, f: u32, args: &[u64]) -> Result<u64, ()> {
        let Some(h) = crate::effects::HELPERS.get(f as usize) else { return Err(()) };
        (h.run)(self.vm, args).map_err(|Raised| ())
    }

    fn alloc(&mut self, layout: u16) -> Result<u64, ()> {
        self.vm.heap.alloc(LayoutId(layout), 0).map(|r| r.0 as u64).map_err(|_| ())
    }

    fn constants(&mut self, out: &mut [u64]) {
        for (w, &c) in out.iter_mut().zip(self.consts) {
            *w = const_ref(self.vm, c).0 as u64;
        }
    }

    fn guard_countdown(&mut self) -> u64 {
        self.countdown
    }
}

/// Compiles trace `tid` of `m` (optimized; a loop, or with `finish_at` a trace that ends at
/// that loop header and stack depth); an error says why it stays interpreted.
pub fn compile(m: Module, tid: TraceId, target: &HeapTarget, finish_at: Option<(usize, usize)>) -> Result<NativeLoop, String> {
    let code = gc_heap::compile(&m, tid, target, tracelab_backend::Settings::default()).map_err(|e| e.to_string())?;
    let consts = code.consts.iter().map(|name| const_source(name).ok_or(format!("a constant of unknown origin (`{name}`)"))).collect::<Result<_, _>>()?;
    let t = &m.traces[tid];
    let order = t.ops.ids();
    let label = order.iter().position(|&id| t.ops[id].opcode == tracelab_ir::Opcode::Label).unwrap_or(0);
    let first_body_guard = code.guards.iter().position(|(op, _)| order.iter().position(|id| id == op).unwrap_or(0) > label).unwrap_or(code.guards.len());
    Ok(NativeLoop { code, module: m, tid, consts, first_body_guard, finish_at })
}

fn const_source(name: &str) -> Option<ConstSource> {
    match name {
        "none" => Some(ConstSource::Object(|vm| vm.none)),
        "true" => Some(ConstSource::Object(|vm| vm.true_)),
        "false" => Some(ConstSource::Object(|vm| vm.false_)),
        _ => {
            let (code, i) = name.strip_prefix('c')?.split_once('_')?;
            Some(ConstSource::Code(CodeId(code.parse().ok()?), i.parse().ok()?))
        }
    }
}

fn const_ref(vm: &Vm, c: ConstSource) -> Ref {
    match c {
        ConstSource::Object(f) => f(vm),
        ConstSource::Code(code, i) => vm.heap.field(vm.consts_of(code), L::ITEMS + i as usize),
    }
}

impl NativeLoop {
    pub fn code_size(&self) -> usize {
        self.code.code_size
    }

    /// Whether guard `index` is in the preamble (its failure means no iteration completed).
    pub fn in_preamble(&self, index: usize) -> bool {
        index < self.first_body_guard
    }

    /// The interpreter frames guard `index` resumes (more than one when it is in an inlined
    /// call), and its id.
    pub fn guard_frames(&self, index: usize) -> usize {
        self.guard_info(index).and_then(|g| g.resume.as_ref()).map_or(0, |r| r.frames.len())
    }

    pub fn guard_id(&self, index: usize) -> Option<u64> {
        self.guard_info(index).and_then(|g| g.id)
    }

    fn guard_info(&self, index: usize) -> Option<&tracelab_ir::resume::GuardInfo> {
        let (op, _) = *self.code.guards.get(index)?;
        self.trace().ops[op].guard()
    }

    /// Runs the trace from the current frame (where it starts) until a guard fails or it
    /// finishes, then leaves the frame as the interpreter would have it there. With a
    /// nonzero `countdown` (code compiled for random guard failures), that guard check fails.
    pub fn run(&self, vm: &mut Vm, countdown: u64) -> Res<NativeExit> {
        // The trace's inputs: the loop's frame, then (a bridge from a guard in an inlined
        // call) the frames of the calls the guard rebuilt, the current one last.
        let mut inputs = vec![0u64; self.code.inputs()];
        let mut f = vm.get(vm.frame);
        for slot in inputs.iter_mut().rev() {
            *slot = f.0 as u64;
            f = vm.heap.field(f, L::FRAME_BACK);
        }
        let exit = self.code.run(&mut MinipyEnv { vm, consts: &self.consts, countdown }, &inputs);
        // The calls' frames the trace started in are its own now (they returned in it, or its
        // exit describes them): the interpreter goes on from the loop's frame.
        for _ in 1..inputs.len() {
            let f = vm.get(vm.frame);
            let back = vm.heap.field(f, L::FRAME_BACK);
            vm.set(vm.frame, back);
            vm.depth -= 1;
        }
        match exit {
            HeapExit::Guard { index, values } => {
                self.resume(vm, index, &values)?;
                Ok(NativeExit::Guard(index))
            }
            HeapExit::Finished => {
                let Some((header, sp)) = self.finish_at else { return vm.raise(Exc::RuntimeError, "internal error: a compiled loop finished") };
                // `finish` wrote the frame's slots back; its position and depth are green.
                let frame = vm.get(vm.frame);
                vm.heap.set_word(frame, L::FRAME_PC, header as u64);
                vm.heap.set_word(frame, L::FRAME_SP, sp as u64);
                Ok(NativeExit::Finished { header })
            }
            HeapExit::Trap => vm.raise(Exc::MemoryError, "a compiled loop found no room to allocate (or read outside the heap)"),
        }
    }

    fn trace(&self) -> &Trace {
        &self.module.traces[self.tid]
    }

    fn resume(&self, vm: &mut Vm, index: usize, values: &[u64]) -> Res<()> {
        let (op, _) = self.code.guards[index];
        let t = self.trace();
        let Some(g) = t.ops[op].guard() else { return vm.raise(Exc::RuntimeError, "internal error: a compiled exit is not a guard") };
        // Every guard of a recorded trace has resume data (the recorder gives it).
        let Some(resume) = g.resume.as_ref() else { return vm.raise(Exc::RuntimeError, "internal error: a guard without resume data") };
        let mark = vm.roots_mark();
        // Fail args by value; references rooted (allocating the virtuals may move them).
        let mut held: Vec<(Value, Held)> = Vec::with_capacity(values.len());
        for (slot, bits) in g.fail_args.iter().zip(values) {
            let Some(v) = *slot else { continue };
            let h = if t.ty(v) == Type::Ref { Held::Root(vm.root(Ref(*bits as u32))) } else { Held::Word(*bits) };
            held.push((v, h));
        }
        let r = Decoder { vm, t, m: &self.module, held, virtuals: Vec::new() }.restore(resume);
        vm.roots_reset(mark);
        r?;
        // The helper's exception is pending: the interpreter unwinds from the bytecode.
        if t.ops[op].opcode == tracelab_ir::Opcode::GuardNoException {
            return Err(Raised);
        }
        Ok(())
    }
}

/// A fail arg's value while resuming: a word, or a reference kept where the GC updates it.
#[derive(Clone, Copy)]
enum Held {
    Word(u64),
    Root(Root),
}

struct Decoder<'a> {
    vm: &'a mut Vm,
    t: &'a Trace,
    m: &'a Module,
    /// The fail args' values (a few: looked up by a scan).
    held: Vec<(Value, Held)>,
    /// The virtuals allocated so far (rooted).
    virtuals: Vec<Root>,
}

impl Decoder<'_> {
    fn restore(mut self, r: &Resume) -> Res<()> {
        let Some(outer) = r.frames.first() else { return self.vm.raise(Exc::RuntimeError, "internal error: resume data without a frame") };
        for v in &r.virtuals {
            let layout = match &self.m.descrs[v.descr].data {
                DescrData::Size(s) => s.class.as_deref().and_then(|c| self.layout_named(c)),
                _ => None,
            };
            let Some(layout) = layout else { return self.vm.raise(Exc::RuntimeError, "internal error: a virtual of unknown class") };
            let obj = self.vm.alloc(layout, v.length.unwrap_or(0) as usize)?;
            let root = self.vm.root(obj);
            self.virtuals.push(root);
        }
        for (k, v) in r.virtuals.iter().enumerate() {
            for (key, rv) in &v.fields {
                let obj = self.vm.get(self.virtuals[k]);
                match *key {
                    FieldKey::Field(d) => self.store(obj, d, *rv),
                    FieldKey::Item(i) => self.store_item(obj, v.descr, i, *rv),
                }
            }
        }
        for w in &r.pending {
            let Some(obj) = self.value(w.object) else { continue };
            match w.index {
                None => self.store(Ref(obj as u32), w.descr, w.value),
                Some(i) => self.store_item(Ref(obj as u32), w.descr, i, w.value),
            }
        }
        for e in &r.vable {
            if let VableSlot::Field(d) = e.slot {
                let frame = self.vm.get(self.vm.frame);
                self.store(frame, d, e.value);
            }
        }
        let frame = self.vm.get(self.vm.frame);
        self.vm.heap.set_word(frame, L::FRAME_PC, outer.pc as u64);
        for f in &r.frames[1..] {
            self.push_frame(f)?;
        }
        Ok(())
    }

    /// Builds the frame of a call the trace inlined and makes it the current one, called from
    /// the current one. Its resume slots are its function, its stack depth, then its slots.
    fn push_frame(&mut self, f: &ResumeFrame) -> Res<()> {
        let code = f.code.rsplit_once('#').and_then(|(_, id)| id.parse::<u32>().ok()).map(CodeId);
        let (Some(code), Some(func), Some(sp)) = (code, f.slots.first().and_then(|&v| self.value(v)), f.slots.get(1).and_then(|&v| self.value(v))) else {
            return self.vm.raise(Exc::RuntimeError, format!("internal error: an inlined frame `{}` without its code, function or depth", f.code));
        };
        let func = Ref(func as u32);
        let globals = self.vm.heap.field(func, L::FUNC_GLOBALS);
        let frame = crate::call::new_frame(self.vm, code, globals, func)?;
        let n = self.vm.heap.len(frame);
        if sp as usize > n || f.slots.len() - 2 > n {
            return self.vm.raise(Exc::RuntimeError, format!("internal error: inlined frame `{}` does not fit its code", f.code));
        }
        for (i, &rv) in f.slots[2..].iter().enumerate() {
            if let Some(bits) = self.value(rv) {
                self.vm.heap.set_field(frame, L::FRAME_SLOTS + i, Ref(bits as u32));
            }
        }
        self.vm.heap.set_word(frame, L::FRAME_SP, sp);
        self.vm.heap.set_word(frame, L::FRAME_PC, f.pc as u64);
        let caller = self.vm.get(self.vm.frame);
        self.vm.heap.set_field(frame, L::FRAME_BACK, caller);
        let handled = crate::list::len(self.vm, self.vm.get(self.vm.handled));
        self.vm.heap.set_word(frame, L::FRAME_HANDLED, handled as u64);
        self.vm.set(self.vm.frame, frame);
        self.vm.depth += 1;
        Ok(())
    }

    fn layout_named(&self, class: &str) -> Option<LayoutId> {
        (0..self.vm.heap.layouts().len() as u16).map(LayoutId).find(|&id| super::record::class_name(id) == class)
    }

    /// Writes a resume value into `obj`'s field `d` (with the write barrier for references).
    fn store(&mut self, obj: Ref, d: DescrId, rv: ResumeValue) {
        let DescrData::Field(fd) = &self.m.descrs[d].data else { return };
        let (word, is_ref) = (fd.offset as usize / 8, fd.kind == MemKind::Ref);
        let Some(bits) = self.value(rv) else { return };
        if is_ref {
            self.vm.heap.set_field(obj, word, Ref(bits as u32));
        } else {
            self.vm.heap.set_word(obj, word, bits);
        }
    }

    /// Writes a resume value into item `i` of array `obj` (array descr `d`), if in bounds.
    fn store_item(&mut self, obj: Ref, d: DescrId, i: u32, rv: ResumeValue) {
        let DescrData::Array(a) = &self.m.descrs[d].data else { return };
        let is_ref = a.kind == MemKind::Ref;
        let Some(bits) = self.value(rv) else { return };
        if (i as usize) >= self.vm.heap.len(obj) {
            return;
        }
        if is_ref {
            self.vm.heap.set_field(obj, L::ITEMS + i as usize, Ref(bits as u32));
        } else {
            self.vm.heap.set_word(obj, L::ITEMS + i as usize, bits);
        }
    }

    /// A resume value's bits now (`None` for a dead slot).
    fn value(&self, rv: ResumeValue) -> Option<u64> {
        match rv {
            ResumeValue::Dead => None,
            ResumeValue::Virtual(id) => Some(self.vm.get(self.virtuals[id.index()]).0 as u64),
            ResumeValue::Value(v) => match &self.t.values[v].def {
                ValueDef::Const(c) => Some(self.constant(c)),
                _ => match self.held.iter().find(|(x, _)| *x == v).map(|(_, h)| *h) {
                    Some(Held::Word(w)) => Some(w),
                    Some(Held::Root(r)) => Some(self.vm.get(r).0 as u64),
                    None => None,
                },
            },
        }
    }

    fn constant(&self, c: &Const) -> u64 {
        match c {
            Const::Int(i) => *i as u64,
            Const::Float(bits) => *bits,
            Const::Ptr(name) => const_source(name).map_or(0, |s| const_ref(self.vm, s).0 as u64),
            Const::Null | Const::Class(_) | Const::Func(_) => 0,
        }
    }
}
