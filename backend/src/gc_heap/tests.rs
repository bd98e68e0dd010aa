use super::*;
use tracelab_runtime::gc::{GcConfig, Layout, Layouts, Ref};

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

fn heap() -> (Heap, HeapTarget) {
    let mut layouts = Layouts::default();
    let nothing = layouts.declare(Layout::fixed("nothing", 1, 0));
    let boxed = layouts.declare(Layout::fixed("box", 2, 0));
    let target = HeapTarget { classes: [("box".to_string(), boxed.0), ("nothing".to_string(), nothing.0)].into() };
    (Heap::new(layouts, GcConfig::default()), target)
}

fn compiled(text: &str, target: &HeapTarget) -> Result<(Module, HeapCode), BackendError> {
    let m = tracelab_ir::parse(text).expect("test trace parses");
    let tid = m.traces.keys().next().expect("one trace");
    let code = compile(&m, tid, target, Settings::default())?;
    Ok((m, code))
}

#[test]
fn a_loop_runs_on_the_heap_until_a_guard_fails() {
    let (mut heap, target) = heap();
    let (_, code) = compiled(COUNT, &target).expect("compiles");
    let b = heap.alloc(tracelab_runtime::gc::LayoutId(target.classes["box"]), 0).expect("room");
    heap.set_word(b, 1, 7);
    let exit = code.run(&mut heap, &[], &[b.0 as u64, 10]);
    // 7 + 10k reaches 107 after ten rounds: the second guard fails with the box and 107.
    assert_eq!(exit, HeapExit::Guard { index: 1, values: vec![b.0 as u64, 107] });
    assert_eq!(heap.word(b, 1), 107);
}

#[test]
fn a_class_guard_compares_the_layout_in_the_header() {
    let (mut heap, target) = heap();
    let (_, code) = compiled(COUNT, &target).expect("compiles");
    let other = heap.alloc(tracelab_runtime::gc::LayoutId(target.classes["nothing"]), 0).expect("room");
    let exit = code.run(&mut heap, &[], &[other.0 as u64, 10]);
    assert_eq!(exit, HeapExit::Guard { index: 0, values: vec![other.0 as u64, 10] });
}

#[test]
fn an_access_outside_the_heap_traps_instead_of_reading_it() {
    let (mut heap, target) = heap();
    let (_, code) = compiled(COUNT, &target).expect("compiles");
    let far = Ref(u32::MAX - 8);
    assert_eq!(code.run(&mut heap, &[], &[far.0 as u64, 10]), HeapExit::Trap);
}

#[test]
fn what_needs_the_gc_is_refused_by_name() {
    let (_, target) = heap();
    let text = "
descr call.f = <Calli 8 i EF=5>
loop l [i0] {
    label(i0, descr=TargetToken(1))
    i1 = call_i(ConstClass(f), i0, descr=call.f)
    jump(i1, descr=TargetToken(1))
}
";
    let e = compiled(text, &target).expect_err("a call is refused");
    assert!(e.0.contains("`call_i`"), "{e}");
}
