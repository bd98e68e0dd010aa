use super::*;
use tracelab_runtime::gc::{GcConfig, Layout, LayoutId, Layouts, Ref};

const COUNT: &str = "
descr box.value = <FieldS t.box.value 8>
loop l [p0, i1] {
    label(p0, i1, descr=TargetToken(1))
    guard_class(p0, ConstClass(box), descr=<Guard0x1>) [p0, i1]
    i2 = getfield_gc_i(p0, descr=box.value)
    i3 = int_add(i2, i1)
    setfield_gc(p0, i3, descr=box.value)
    i4 = int_lt(i3, 100)
    guard_true(i4, descr=<Guard0x2>) [p0, i3]
    jump(p0, i1, descr=TargetToken(1))
}
";

/// Each round allocates a box, stores it into the holder, calls `double` (which collects
/// under stress) and reads the box back through the holder.
const ALLOCATING: &str = "
descr box.value = <FieldS t.box.value 8>
descr holder.item = <FieldP t.holder.item 8>
descr size.box = <SizeDescr 16 class=box>
descr call.double = <Calli 8 i EF=5>
loop l [p0, i1] {
    label(p0, i1, descr=TargetToken(1))
    p2 = new_with_vtable(descr=size.box)
    setfield_gc(p2, i1, descr=box.value)
    setfield_gc(p0, p2, descr=holder.item)
    i3 = call_i(ConstClass(double), i1, descr=call.double)
    guard_no_exception(descr=<Guard0x1>) [p0, p2, i1]
    p4 = getfield_gc_r(p0, descr=holder.item)
    i5 = getfield_gc_i(p4, descr=box.value)
    i6 = int_add(i5, 1)
    i7 = int_lt(i6, 50)
    guard_true(i7, descr=<Guard0x2>) [p0, p2, i6, i3]
    jump(p0, i6, descr=TargetToken(1))
}
";

struct TestEnv {
    heap: Heap,
    /// What `guard_countdown` gives.
    countdown: u64,
    /// `double` raises when its argument is this.
    raise_at: i64,
}

impl HeapEnv for TestEnv {
    fn heap(&mut self) -> &mut Heap {
        &mut self.heap
    }

    fn call(&mut self, _f: u32, args: &[u64]) -> Result<u64, ()> {
        // Allocating here collects under stress: what compiled code holds must survive it.
        self.heap.alloc(LayoutId(1), 0).map_err(|_| ())?;
        if args[0] as i64 == self.raise_at {
            return Err(());
        }
        Ok(args[0] * 2)
    }

    fn alloc(&mut self, layout: u16) -> Result<u64, ()> {
        self.heap.alloc(LayoutId(layout), 0).map(|r| r.0 as u64).map_err(|_| ())
    }

    fn constants(&mut self, _out: &mut [u64]) {}

    fn guard_countdown(&mut self) -> u64 {
        self.countdown
    }
}

fn env(stress: bool) -> (TestEnv, HeapTarget) {
    let mut layouts = Layouts::default();
    let nothing = layouts.declare(Layout::fixed("nothing", 1, 0));
    let boxed = layouts.declare(Layout::fixed("box", 2, 0));
    let holder = layouts.declare(Layout::fixed("holder", 2, 1 << 1));
    let classes = [("box", boxed), ("nothing", nothing), ("holder", holder)].map(|(n, l)| (n.to_string(), l.0)).into();
    let target = HeapTarget { classes, functions: [("double".to_string(), 0)].into(), random_guard_failures: false };
    let config = GcConfig { stress, verify: true, ..GcConfig::default() };
    (TestEnv { heap: Heap::new(layouts, config), countdown: 0, raise_at: -1 }, target)
}

fn compiled(text: &str, target: &HeapTarget) -> Result<HeapCode, BackendError> {
    let m = tracelab_ir::parse(text).expect("test trace parses");
    let tid = m.traces.keys().next().expect("one trace");
    compile(&m, tid, target, Settings::default())
}

#[test]
fn a_loop_runs_on_the_heap_until_a_guard_fails() {
    let (mut env, target) = env(false);
    let code = compiled(COUNT, &target).expect("compiles");
    let b = env.heap.alloc(LayoutId(target.classes["box"]), 0).expect("room");
    env.heap.set_word(b, 1, 7);
    let exit = code.run(&mut env, &[b.0 as u64, 10]);
    // 7 + 10k reaches 107 after ten rounds: the second guard fails with the box and 107.
    assert_eq!(exit, HeapExit::Guard { index: 1, values: vec![b.0 as u64, 107] });
    assert_eq!(env.heap.word(b, 1), 107);
}

#[test]
fn a_class_guard_compares_the_layout_in_the_header() {
    let (mut env, target) = env(false);
    let code = compiled(COUNT, &target).expect("compiles");
    let other = env.heap.alloc(LayoutId(target.classes["nothing"]), 0).expect("room");
    let exit = code.run(&mut env, &[other.0 as u64, 10]);
    assert_eq!(exit, HeapExit::Guard { index: 0, values: vec![other.0 as u64, 10] });
}

#[test]
fn an_access_outside_the_heap_traps_instead_of_reading_it() {
    let (mut env, target) = env(false);
    let code = compiled(COUNT, &target).expect("compiles");
    let far = Ref(u32::MAX - 8);
    assert_eq!(code.run(&mut env, &[far.0 as u64, 10]), HeapExit::Trap);
}

#[test]
fn references_survive_collections_in_calls_and_allocations() {
    let (mut env, target) = env(true);
    let code = compiled(ALLOCATING, &target).expect("compiles");
    let holder = env.heap.alloc_old(LayoutId(target.classes["holder"]), 0).expect("room");
    let root = env.heap.push_root(holder);
    let exit = code.run(&mut env, &[holder.0 as u64, 0]);
    let HeapExit::Guard { index: 1, values } = exit else { panic!("{exit:?}") };
    // Every allocation collected and moved the box; the holder (old) stays, its item is the
    // last box (value 49), the loop counted to 50 and doubled 49.
    let holder = env.heap.root(root);
    assert_eq!(values[0], holder.0 as u64);
    let item = env.heap.field(holder, 1);
    assert_eq!(values[1], item.0 as u64);
    assert_eq!(env.heap.word(item, 1), 49);
    assert_eq!(&values[2..], &[50, 98]);
    assert!(env.heap.stats().minor_collections > 50, "{:?}", env.heap.stats());
}

#[test]
fn a_call_that_raises_fails_the_exception_guard() {
    let (mut env, target) = env(false);
    env.raise_at = 3;
    let code = compiled(ALLOCATING, &target).expect("compiles");
    let holder = env.heap.alloc(LayoutId(target.classes["holder"]), 0).expect("room");
    let exit = code.run(&mut env, &[holder.0 as u64, 0]);
    let HeapExit::Guard { index: 0, values } = exit else { panic!("{exit:?}") };
    assert_eq!(values[2], 3);
}

#[test]
fn what_is_not_compiled_is_refused_by_name() {
    let (_, target) = env(false);
    let text = "
descr call.f = <Calli 8 i EF=5>
loop l [i0] {
    label(i0, descr=TargetToken(1))
    i1 = call_i(ConstClass(unknown), i0, descr=call.f)
    jump(i1, descr=TargetToken(1))
}
";
    let e = compiled(text, &target).expect_err("a call of an unknown function is refused");
    assert!(e.0.contains("`call_i`"), "{e}");
}

/// `COUNT` as a bridge-like trace: no label, it runs once and ends in `finish`.
fn straight() -> String {
    COUNT.replace("loop l [p0, i1] {\n    label(p0, i1, descr=TargetToken(1))", "bridge b from Guard0x9 [p0, i1] {").replace("jump(p0, i1, descr=TargetToken(1))", "finish(p0)")
}

#[test]
fn a_trace_without_a_loop_runs_once_to_its_finish() {
    let (mut env, target) = env(false);
    let code = compiled(&straight(), &target).expect("compiles");
    let b = env.heap.alloc(LayoutId(target.classes["box"]), 0).expect("room");
    env.heap.set_word(b, 1, 7);
    assert_eq!(code.run(&mut env, &[b.0 as u64, 10]), HeapExit::Finished);
    assert_eq!(env.heap.word(b, 1), 17);
    // Past 100 its second guard fails instead.
    assert_eq!(code.run(&mut env, &[b.0 as u64, 90]), HeapExit::Guard { index: 1, values: vec![b.0 as u64, 107] });
}

#[test]
fn with_random_guard_failures_a_guard_fails_when_the_countdown_reaches_it() {
    let (mut env, mut target) = env(false);
    target.random_guard_failures = true;
    let code = compiled(COUNT, &target).expect("compiles");
    let b = env.heap.alloc(LayoutId(target.classes["box"]), 0).expect("room");
    env.heap.set_word(b, 1, 7);
    // Checks: class (1), bound (2), class (3), bound (4): the fourth fails, after two rounds.
    env.countdown = 4;
    assert_eq!(code.run(&mut env, &[b.0 as u64, 10]), HeapExit::Guard { index: 1, values: vec![b.0 as u64, 27] });
    env.countdown = 0;
    assert_eq!(code.run(&mut env, &[b.0 as u64, 10]), HeapExit::Guard { index: 1, values: vec![b.0 as u64, 107] }, "0: never");
}
