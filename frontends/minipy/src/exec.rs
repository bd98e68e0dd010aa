//! The execution context every bytecode's semantics is written against.
//!
//! The interpreter loop ([`crate::interp`]) is generic over [`Exec`]. A context has its own
//! value types: [`Exec::V`] for object references and [`Exec::W`] for raw words (an int's
//! value, a float's bits). The plain interpreter ([`Concrete`]) uses `Ref` and `u64`, and each
//! method is the direct heap operation that inlines away; the JIT's recording context
//! (`crate::jit::record`) pairs each concrete value with the IR value standing for it, so it
//! can execute and append the op at once, turning each branch into a guard.
//!
//! What the trace must see goes through the context: the frame's slots (the virtualizable),
//! field reads, int and float arithmetic with its overflow branch, boxing, class and identity
//! checks, and calls of runtime helpers ([`Exec::call`], with the helper's effect info from
//! [`crate::effects`]). Work done directly on the [`Vm`] is invisible to a trace: a value
//! crosses from it only through [`Exec::concrete`] and [`Exec::opaque`], which a recording
//! context refuses (the trace aborts, naming the bytecode), so no hidden branch can make a
//! trace wrong.

use crate::bytecode::{CodeId, Op};
use crate::effects::{Field, Helper};
use crate::interp::Exit;
use crate::layout as L;
use crate::vm::{Res, Vm};
use tracelab_runtime::gc::{LayoutId, Ref};

/// A float operation the trace records as one op.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FloatOp {
    Add,
    Sub,
    Mul,
    Div,
}

pub trait Exec {
    /// An object reference.
    type V: Copy;
    /// A raw word: an int's value, a float's bits.
    type W: Copy;

    fn vm(&mut self) -> &mut Vm;

    /// Before each bytecode, with its position: `false` when this context is done (a
    /// recording that closed its loop or gave up), so the loop returns [`crate::interp::Exit::Left`].
    fn before_op(&mut self, code: CodeId, pc: usize, op: Op) -> bool;
    /// After a backward jump to `target` (a loop header): the JIT's merge point. `Some` ends the
    /// loop with that exit.
    fn loop_header(&mut self, code: CodeId, target: usize) -> Res<Option<Exit>>;
    /// An exception is being raised in the current frame (a recording gives up).
    fn raised(&mut self);
    /// Whether Python-to-Python calls push the callee's frame in this loop (the plain
    /// interpreter) or are made as one helper call that runs the callee to completion (a
    /// recording, until it inlines).
    fn pushes_callee_frames(&self) -> bool;
    /// A call of a Python function the context traces through (a recording inlining a
    /// function without loops): the callee's frame, made and holding `args`, which the loop
    /// then enters. `None`: the call is made as one helper call.
    fn inline_call(&mut self, _callee: Self::V, _args: &[Self::V]) -> Res<Option<Ref>> {
        Ok(None)
    }
    /// A frame was entered (it is now the current one) and one returned to its caller (now
    /// current again), so that a context following frames knows.
    fn entered_frame(&mut self) {}
    fn returned_frame(&mut self) {}

    /// The current frame, for reading what is green (its code and bytecode index); re-read
    /// after anything that may allocate (it moves).
    fn frame(&mut self) -> Ref;

    /// Frame slot `i` (locals, cells, then the value stack).
    fn slot(&mut self, i: usize) -> Self::V;
    fn set_slot(&mut self, i: usize, v: Self::V);
    /// The stack depth (green: fixed by the bytecode index).
    fn sp(&mut self) -> usize;
    fn set_sp(&mut self, sp: usize);
    /// A reference field of the current frame (its globals).
    fn frame_field(&mut self, f: &'static Field) -> Self::V;

    /// Pushes onto / pops from / reads and writes `n` below the top of the value stack. Each
    /// context implements them itself (the plain interpreter reads the frame once per op).
    fn push(&mut self, v: Self::V);
    fn pop(&mut self) -> Self::V;
    /// The value `n` below the top (0 is the top).
    fn peek(&mut self, n: usize) -> Self::V;
    fn set_peek(&mut self, n: usize, v: Self::V);

    /// An object that is the same each time this bytecode runs (a constant of the code, None,
    /// a bool): a constant in a trace.
    fn constant(&mut self, r: Ref) -> Self::V;
    /// Constant `i` of code `code`, which is `r` now (found again by that name when objects
    /// have moved).
    fn code_constant(&mut self, code: CodeId, i: u32, r: Ref) -> Self::V;
    fn const_word(&mut self, w: u64) -> Self::W;
    /// The object behind `v`, for work the trace cannot see (a recording aborts).
    fn concrete(&mut self, v: Self::V) -> Ref;
    /// A value made by work the trace cannot see (a recording aborts).
    fn opaque(&mut self, r: Ref) -> Self::V;

    /// A reference as a word (a call argument) and back (a helper's result).
    fn ref_word(&mut self, v: Self::V) -> Self::W;
    fn word_ref(&mut self, w: Self::W) -> Self::V;

    /// Whether `v` has layout `l` (a class guard in a trace).
    fn has_layout(&mut self, v: Self::V, l: LayoutId) -> bool;
    /// Whether `v` is null (a guard in a trace).
    fn is_null(&mut self, v: Self::V) -> bool;
    /// Whether an iterator's next value (null when it is exhausted) ends the loop: a guard in
    /// a trace, whose failure must not ask the iterator again when it gave a value.
    fn iter_exhausted(&mut self, next: Self::V) -> bool {
        self.is_null(next)
    }
    /// Whether `a` and `b` are the same object (a pointer comparison branch).
    fn same(&mut self, a: Self::V, b: Self::V) -> bool;

    /// A word field of `v`, a reference field, and a word field store.
    fn word(&mut self, v: Self::V, f: &'static Field) -> Self::W;
    fn field(&mut self, v: Self::V, f: &'static Field) -> Self::V;
    fn set_word(&mut self, v: Self::V, f: &'static Field, w: Self::W);
    /// The item count of an array-like object (a tuple, a `REFARRAY`).
    fn array_len(&mut self, v: Self::V) -> Self::W;
    /// A reference field store (with the write barrier).
    fn set_field(&mut self, v: Self::V, f: &'static Field, value: Self::V);
    /// Item `i` of a reference array (`REFARRAY`), in bounds, and a store into one.
    fn item(&mut self, array: Self::V, i: Self::W) -> Self::V;
    fn set_item(&mut self, array: Self::V, i: Self::W, v: Self::V);
    /// The word's value, which the code after it may treat as a constant (`guard_value` in a
    /// trace: PyPy's `promote`).
    fn promote(&mut self, w: Self::W) -> u64;

    /// `a + b`, `a - b`, `a * b` on 64-bit ints, `None` on overflow (a guard in a trace).
    fn int_add(&mut self, a: Self::W, b: Self::W) -> Option<Self::W>;
    fn int_sub(&mut self, a: Self::W, b: Self::W) -> Option<Self::W>;
    fn int_mul(&mut self, a: Self::W, b: Self::W) -> Option<Self::W>;
    /// Comparisons of 64-bit ints as branches.
    fn int_lt(&mut self, a: Self::W, b: Self::W) -> bool;
    fn int_eq(&mut self, a: Self::W, b: Self::W) -> bool;
    /// A float operation on the bits of two floats, giving the bits of the result.
    fn float_op(&mut self, op: FloatOp, a: Self::W, b: Self::W) -> Self::W;
    /// Whether a float is zero (a branch).
    fn float_is_zero(&mut self, a: Self::W) -> bool;

    /// Boxes an int (an allocation the optimizer can remove in a trace).
    fn box_int(&mut self, v: Self::W) -> Res<Self::V>;
    fn box_float(&mut self, v: Self::W) -> Res<Self::V>;

    /// Calls a runtime helper (a residual call with the helper's effect info in a trace).
    fn call(&mut self, h: &'static Helper, args: &[Self::W]) -> Res<Self::W>;
}

/// The plain interpreter's context.
pub struct Concrete<'v> {
    pub vm: &'v mut Vm,
}

impl Exec for Concrete<'_> {
    type V = Ref;
    type W = u64;

    #[inline(always)]
    fn vm(&mut self) -> &mut Vm {
        self.vm
    }

    #[inline(always)]
    fn before_op(&mut self, _code: CodeId, _pc: usize, _op: Op) -> bool {
        true
    }

    #[inline]
    fn loop_header(&mut self, code: CodeId, target: usize) -> Res<Option<Exit>> {
        if self.vm.jit.is_none() {
            return Ok(None);
        }
        crate::jit::merge_point(self.vm, code, target)
    }

    #[inline(always)]
    fn raised(&mut self) {}

    #[inline(always)]
    fn pushes_callee_frames(&self) -> bool {
        true
    }

    #[inline(always)]
    fn frame(&mut self) -> Ref {
        self.vm.get(self.vm.frame)
    }

    #[inline(always)]
    fn slot(&mut self, i: usize) -> Ref {
        let f = self.frame();
        self.vm.heap.field(f, L::FRAME_SLOTS + i)
    }

    #[inline(always)]
    fn set_slot(&mut self, i: usize, v: Ref) {
        let f = self.frame();
        self.vm.heap.set_field(f, L::FRAME_SLOTS + i, v);
    }

    #[inline(always)]
    fn sp(&mut self) -> usize {
        let f = self.frame();
        self.vm.heap.word(f, L::FRAME_SP) as usize
    }

    #[inline(always)]
    fn set_sp(&mut self, sp: usize) {
        let f = self.frame();
        self.vm.heap.set_word(f, L::FRAME_SP, sp as u64);
    }

    #[inline(always)]
    fn frame_field(&mut self, f: &'static Field) -> Ref {
        let frame = self.frame();
        self.vm.heap.field(frame, f.word)
    }

    // The stack operations read the frame once, not through `slot`/`sp`: the plain interpreter
    // spent a fifth of its time here, and `step` is too large for the optimizer to merge them.
    #[inline(always)]
    fn push(&mut self, v: Ref) {
        let f = self.frame();
        let sp = self.vm.heap.word(f, L::FRAME_SP) as usize;
        self.vm.heap.set_field(f, L::FRAME_SLOTS + sp, v);
        self.vm.heap.set_word(f, L::FRAME_SP, sp as u64 + 1);
    }

    #[inline(always)]
    fn pop(&mut self) -> Ref {
        let f = self.frame();
        let sp = self.vm.heap.word(f, L::FRAME_SP) as usize - 1;
        let v = self.vm.heap.field(f, L::FRAME_SLOTS + sp);
        // Clearing a slot stores no reference, so it needs no write barrier.
        self.vm.heap.set_word(f, L::FRAME_SLOTS + sp, 0);
        self.vm.heap.set_word(f, L::FRAME_SP, sp as u64);
        v
    }

    #[inline(always)]
    fn peek(&mut self, n: usize) -> Ref {
        let f = self.frame();
        let sp = self.vm.heap.word(f, L::FRAME_SP) as usize;
        self.vm.heap.field(f, L::FRAME_SLOTS + sp - 1 - n)
    }

    #[inline(always)]
    fn set_peek(&mut self, n: usize, v: Ref) {
        let f = self.frame();
        let sp = self.vm.heap.word(f, L::FRAME_SP) as usize;
        self.vm.heap.set_field(f, L::FRAME_SLOTS + sp - 1 - n, v);
    }

    #[inline(always)]
    fn constant(&mut self, r: Ref) -> Ref {
        r
    }

    #[inline(always)]
    fn code_constant(&mut self, _code: CodeId, _i: u32, r: Ref) -> Ref {
        r
    }

    #[inline(always)]
    fn const_word(&mut self, w: u64) -> u64 {
        w
    }

    #[inline(always)]
    fn concrete(&mut self, v: Ref) -> Ref {
        v
    }

    #[inline(always)]
    fn opaque(&mut self, r: Ref) -> Ref {
        r
    }

    #[inline(always)]
    fn ref_word(&mut self, v: Ref) -> u64 {
        v.0 as u64
    }

    #[inline(always)]
    fn word_ref(&mut self, w: u64) -> Ref {
        Ref(w as u32)
    }

    #[inline(always)]
    fn has_layout(&mut self, v: Ref, l: LayoutId) -> bool {
        self.vm.heap.layout_of(v) == l
    }

    #[inline(always)]
    fn is_null(&mut self, v: Ref) -> bool {
        v.is_null()
    }

    #[inline(always)]
    fn same(&mut self, a: Ref, b: Ref) -> bool {
        a == b
    }

    #[inline(always)]
    fn word(&mut self, v: Ref, f: &'static Field) -> u64 {
        self.vm.heap.word(v, f.word)
    }

    #[inline(always)]
    fn field(&mut self, v: Ref, f: &'static Field) -> Ref {
        self.vm.heap.field(v, f.word)
    }

    #[inline(always)]
    fn set_word(&mut self, v: Ref, f: &'static Field, w: u64) {
        self.vm.heap.set_word(v, f.word, w);
    }

    #[inline(always)]
    fn array_len(&mut self, v: Ref) -> u64 {
        self.vm.heap.len(v) as u64
    }

    #[inline(always)]
    fn set_field(&mut self, v: Ref, f: &'static Field, value: Ref) {
        self.vm.heap.set_field(v, f.word, value);
    }

    #[inline(always)]
    fn item(&mut self, array: Ref, i: u64) -> Ref {
        self.vm.heap.field(array, L::ITEMS + i as usize)
    }

    #[inline(always)]
    fn set_item(&mut self, array: Ref, i: u64, v: Ref) {
        self.vm.heap.set_field(array, L::ITEMS + i as usize, v);
    }

    #[inline(always)]
    fn promote(&mut self, w: u64) -> u64 {
        w
    }

    #[inline(always)]
    fn int_add(&mut self, a: u64, b: u64) -> Option<u64> {
        (a as i64).checked_add(b as i64).map(|r| r as u64)
    }

    #[inline(always)]
    fn int_sub(&mut self, a: u64, b: u64) -> Option<u64> {
        (a as i64).checked_sub(b as i64).map(|r| r as u64)
    }

    #[inline(always)]
    fn int_mul(&mut self, a: u64, b: u64) -> Option<u64> {
        (a as i64).checked_mul(b as i64).map(|r| r as u64)
    }

    #[inline(always)]
    fn int_lt(&mut self, a: u64, b: u64) -> bool {
        (a as i64) < (b as i64)
    }

    #[inline(always)]
    fn int_eq(&mut self, a: u64, b: u64) -> bool {
        a == b
    }

    #[inline(always)]
    fn float_op(&mut self, op: FloatOp, a: u64, b: u64) -> u64 {
        float_op(op, a, b)
    }

    #[inline(always)]
    fn float_is_zero(&mut self, a: u64) -> bool {
        f64::from_bits(a) == 0.0
    }

    #[inline(always)]
    fn box_int(&mut self, v: u64) -> Res<Ref> {
        self.vm.new_int(v as i64)
    }

    #[inline(always)]
    fn box_float(&mut self, v: u64) -> Res<Ref> {
        self.vm.new_float(f64::from_bits(v))
    }

    #[inline(always)]
    fn call(&mut self, h: &'static Helper, args: &[u64]) -> Res<u64> {
        (h.run)(self.vm, args)
    }
}

/// A float operation on bits, as both contexts compute it.
#[inline(always)]
pub fn float_op(op: FloatOp, a: u64, b: u64) -> u64 {
    let (p, q) = (f64::from_bits(a), f64::from_bits(b));
    let r = match op {
        FloatOp::Add => p + q,
        FloatOp::Sub => p - q,
        FloatOp::Mul => p * q,
        FloatOp::Div => p / q,
    };
    r.to_bits()
}
