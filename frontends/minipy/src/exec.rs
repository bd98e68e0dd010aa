//! The execution context every bytecode's semantics is written against.
//!
//! The interpreter loop ([`crate::interp`]) is generic over [`Exec`]: what a handler does to
//! the frame (the virtualizable: its value stack and locals), the fast paths on boxed ints and
//! floats (a class guard, a field read, arithmetic with an overflow branch, a box), and every
//! branch on a runtime value go through it. Everything else is a call of a runtime helper on
//! the [`Vm`] (dict lookup, attribute access, calls), which a trace records as a residual call
//! with the helper's effect info. [`Concrete`] is the plain interpreter: each method is the
//! direct heap operation and inlines away. The JIT's recording context (next issue) implements
//! the same trait, executing and appending IR at once, turning each branch into a guard.

use crate::layout as L;
use crate::vm::{Res, Vm};
use tracelab_runtime::gc::{LayoutId, Ref};

pub trait Exec {
    fn vm(&mut self) -> &mut Vm;

    /// The current frame (re-read after anything that may allocate: it moves).
    fn frame(&mut self) -> Ref;

    /// Frame slot `i` (locals, cells, then the value stack).
    fn slot(&mut self, i: usize) -> Ref;
    fn set_slot(&mut self, i: usize, v: Ref);
    fn sp(&mut self) -> usize;
    fn set_sp(&mut self, sp: usize);

    /// Pushes onto / pops from / reads and writes `n` below the top of the value stack. Each
    /// context implements them itself (the plain interpreter reads the frame once per op).
    fn push(&mut self, v: Ref);
    fn pop(&mut self) -> Ref;
    /// The value `n` below the top (0 is the top).
    fn peek(&mut self, n: usize) -> Ref;
    fn set_peek(&mut self, n: usize, v: Ref);

    /// Whether `v` has layout `l` (a class guard in a trace).
    fn has_layout(&mut self, v: Ref, l: LayoutId) -> bool;

    /// The raw word `i` of `v` (a field read through a descr in a trace).
    fn word(&mut self, v: Ref, i: usize) -> u64;

    /// `a + b`, `a - b`, `a * b` on 64-bit ints, `None` on overflow (a guard in a trace).
    fn int_add(&mut self, a: i64, b: i64) -> Option<i64>;
    fn int_sub(&mut self, a: i64, b: i64) -> Option<i64>;
    fn int_mul(&mut self, a: i64, b: i64) -> Option<i64>;
    /// A comparison of 64-bit ints.
    fn int_lt(&mut self, a: i64, b: i64) -> bool;

    /// Boxes an int (an allocation the optimizer can remove in a trace).
    fn box_int(&mut self, v: i64) -> Res<Ref>;
    fn box_float(&mut self, v: f64) -> Res<Ref>;

    /// The truth of `v` as a branch (a guard in a trace).
    fn truth(&mut self, v: Ref) -> Res<bool>;

    /// Whether `a` and `b` are the same object (a pointer comparison branch).
    fn same(&mut self, a: Ref, b: Ref) -> bool;
}

/// The plain interpreter's context.
pub struct Concrete<'v> {
    pub vm: &'v mut Vm,
}

impl Exec for Concrete<'_> {
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
    fn vm(&mut self) -> &mut Vm {
        self.vm
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
    fn has_layout(&mut self, v: Ref, l: LayoutId) -> bool {
        self.vm.heap.layout_of(v) == l
    }

    #[inline(always)]
    fn word(&mut self, v: Ref, i: usize) -> u64 {
        self.vm.heap.word(v, i)
    }

    #[inline(always)]
    fn int_add(&mut self, a: i64, b: i64) -> Option<i64> {
        a.checked_add(b)
    }

    #[inline(always)]
    fn int_sub(&mut self, a: i64, b: i64) -> Option<i64> {
        a.checked_sub(b)
    }

    #[inline(always)]
    fn int_mul(&mut self, a: i64, b: i64) -> Option<i64> {
        a.checked_mul(b)
    }

    #[inline(always)]
    fn int_lt(&mut self, a: i64, b: i64) -> bool {
        a < b
    }

    #[inline(always)]
    fn box_int(&mut self, v: i64) -> Res<Ref> {
        self.vm.new_int(v)
    }

    #[inline(always)]
    fn box_float(&mut self, v: f64) -> Res<Ref> {
        self.vm.new_float(v)
    }

    #[inline(always)]
    fn truth(&mut self, v: Ref) -> Res<bool> {
        if v == self.vm.true_ {
            return Ok(true);
        }
        if v == self.vm.false_ {
            return Ok(false);
        }
        crate::ops::truthy(self.vm, v)
    }

    #[inline(always)]
    fn same(&mut self, a: Ref, b: Ref) -> bool {
        a == b
    }
}
