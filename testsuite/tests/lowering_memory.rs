//! Lowering's memory grows with the trace, not with its square: compiling a loop twice as long
//! (as many more guards, blocks and values) may take at most about twice the memory at its
//! peak. Lowering that made every trace value a Cranelift variable took memory growing with
//! values times blocks (25k ops: 3 GB, 50k: 11.5 GB); this fails on that.
//!
//! Peak bytes are counted by a global allocator in this test binary (one test, so nothing else
//! allocates meanwhile).

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use tracelab_backend::{compile, Keep, OptLevel, Regalloc, Settings};
use tracelab_testsuite::synthetic::recorded_loop_text;

struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call goes to the system allocator with the caller's arguments unchanged; the
// counters are only bookkeeping.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract for `alloc` is passed on as it is.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let live = LIVE.fetch_add(layout.size(), Relaxed) + layout.size();
            PEAK.fetch_max(live, Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Relaxed);
        // SAFETY: `ptr` came from `alloc` above with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Peak bytes allocated while compiling the recorded loop of `ops` ops, above what was live
/// before.
fn compile_peak(ops: usize) -> usize {
    let text = recorded_loop_text(ops);
    let m = tracelab_testsuite::load("recorded.trace", &text).expect("the synthetic loop parses");
    let settings = Settings { opt: OptLevel::None, regalloc: Regalloc::SinglePass };
    let before = LIVE.load(Relaxed);
    PEAK.store(before, Relaxed);
    let code = compile(&m, settings, Keep::default()).expect("the synthetic loop compiles");
    let peak = PEAK.load(Relaxed) - before;
    drop(code);
    peak
}

#[test]
fn lowering_memory_grows_linearly_with_the_trace() {
    let small = compile_peak(3_000);
    let large = compile_peak(6_000);
    let ratio = large as f64 / small as f64;
    assert!(ratio < 2.6, "compiling 3,000 ops took {small} bytes at the peak, 6,000 ops {large}: x{ratio:.2} for twice the ops");
}
