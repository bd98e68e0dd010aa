//! The context compiled code runs with, the statuses services return, how compiled code
//! leaves, and the type of a compiled trace's entry.

/// What compiled code reads and writes. `repr(C)`: the backend addresses fields by
/// [`ctx_offset`].
#[repr(C)]
pub struct NativeCtx {
    /// Ops executed so far (as the interpreter counts them).
    pub ops: u64,
    pub fuel: u64,
    /// Back edges taken.
    pub iterations: u64,
    /// The overflow flag `int_*_ovf` sets and `guard_no_overflow` reads (0 or 1).
    pub ovf: u64,
    /// The current frame's value slots, one word per value of the trace.
    pub vals: *mut u64,
    /// A service's result beside its status.
    pub scratch: u64,
    /// The heap region (accesses starting at `heap_base + k`, `k < *heap_limit`, the bytes
    /// allocated so far) and its shadow (`heap::SHADOW_*`): compiled code loads and stores
    /// directly where the shadow allows, and asks the runtime elsewhere.
    pub heap_base: u64,
    pub heap_limit: u64,
    pub shadow: u64,
    /// The heap's colour map (`Heap::color_base`): one object's bytes share a colour.
    pub color: u64,
}

/// Byte offsets of [`NativeCtx`]'s fields.
pub mod ctx_offset {
    pub const OPS: i32 = 0;
    pub const FUEL: i32 = 8;
    pub const ITERATIONS: i32 = 16;
    pub const OVF: i32 = 24;
    pub const VALS: i32 = 32;
    pub const SCRATCH: i32 = 40;
    pub const HEAP_BASE: i32 = 48;
    pub const HEAP_LIMIT: i32 = 56;
    pub const SHADOW: i32 = 64;
    pub const COLOR: i32 = 72;
}

/// A service's status: go on, or the run has ended (the runtime holds how).
pub const STATUS_OK: u64 = 0;
pub const STATUS_ENDED: u64 = 1;

/// How compiled code left.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Leave {
    /// A service ended the run (a trap, a guard failing inside a called trace function, fuel
    /// running out inside one).
    Ended,
    /// Go on in the interpreter from this op to the end (a segment that could run past the
    /// fuel).
    Interpret { pc: usize },
    /// The guard at this op failed.
    GuardFailed { pc: usize },
    /// The interpreter executes this op (a `finish`, a jump into another trace); compiled
    /// code may take over where it leads.
    Step { pc: usize },
}

/// The entry of a compiled trace: `fn(ctx, entry op) -> exit number` (0: a service ended the
/// run; `n`: the trace's exit `n - 1`).
pub type EntryFn = unsafe extern "C" fn(*mut NativeCtx, u64) -> u32;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn context_offsets_match_the_layout() {
        use std::mem::offset_of;
        assert_eq!(offset_of!(NativeCtx, ops), ctx_offset::OPS as usize);
        assert_eq!(offset_of!(NativeCtx, fuel), ctx_offset::FUEL as usize);
        assert_eq!(offset_of!(NativeCtx, iterations), ctx_offset::ITERATIONS as usize);
        assert_eq!(offset_of!(NativeCtx, ovf), ctx_offset::OVF as usize);
        assert_eq!(offset_of!(NativeCtx, vals), ctx_offset::VALS as usize);
        assert_eq!(offset_of!(NativeCtx, scratch), ctx_offset::SCRATCH as usize);
        assert_eq!(offset_of!(NativeCtx, heap_base), ctx_offset::HEAP_BASE as usize);
        assert_eq!(offset_of!(NativeCtx, heap_limit), ctx_offset::HEAP_LIMIT as usize);
        assert_eq!(offset_of!(NativeCtx, shadow), ctx_offset::SHADOW as usize);
        assert_eq!(offset_of!(NativeCtx, color), ctx_offset::COLOR as usize);
    }
}
