//! The equivalence check catches wrong transformations: each case pairs a trace with a
//! deliberately wrong "optimization" of it (a dropped store, a load forwarded across a call
//! that may write memory, swapped operands, reordered calls, a wrong constant in resume data)
//! and with a right one. The wrong one must be reported, the right one accepted.

use tracelab_runtime::equiv::check;
use tracelab_runtime::interp::Config;

fn parse(text: &str) -> tracelab_ir::Module {
    let m = tracelab_ir::parse(text).unwrap_or_else(|d| panic!("{d:?}\n{text}"));
    tracelab_ir::verify(&m).unwrap_or_else(|d| panic!("{d:?}\n{text}"));
    m
}

fn case(original: &str, right: &str, wrong: &str) {
    let (o, r, w) = (parse(original), parse(right), parse(wrong));
    let cfg = Config::default();
    let report = check(&o, &r, None, 0, 50, &cfg).unwrap_or_else(|e| panic!("the right transformation was rejected: {e}"));
    assert_eq!(report.runs, 50);
    let err = check(&o, &w, None, 0, 50, &cfg).expect_err("the wrong transformation was not caught");
    assert!(err.to_string().contains("first difference"), "{err}");
}

const DESCRS: &str = "descr W.x = <FieldS demo.W.x 8>\ndescr W.y = <FieldS demo.W.y 16>\ndescr effect = <Calli 8 r EF=5>\ndescr elidable = <Calli 8 i EF=0>\n";

#[test]
fn dropping_an_observable_store_is_caught() {
    let body = |store: &str| format!("{DESCRS}loop l [p0, i1] {{\n    i2 = int_add(i1, 1)\n{store}    finish(i2)\n}}\n");
    let original = body("    setfield_gc(p0, i1, descr=W.x)\n    setfield_gc(p0, i2, descr=W.x)\n");
    // Right: a store overwritten before anyone can read it may go. Wrong: the last one.
    let right = body("    setfield_gc(p0, i2, descr=W.x)\n");
    let wrong = body("    setfield_gc(p0, i1, descr=W.x)\n");
    case(&original, &right, &wrong);
}

#[test]
fn forwarding_a_load_across_a_clobbering_call_is_caught() {
    let t = |second: &str| {
        format!("{DESCRS}loop l [p0] {{\n    i1 = getfield_gc_i(p0, descr=W.x)\n    i2 = call_i(ConstClass(f), p0, descr=effect)\n    {second}\n    i4 = int_add(i1, i3)\n    finish(i4)\n}}\n")
    };
    let original = t("i3 = getfield_gc_i(p0, descr=W.x)");
    let right = t("i3 = getfield_gc_i(p0, descr=W.x)");
    let wrong = t("i3 = same_as_i(i1)");
    case(&original, &right, &wrong);
}

#[test]
fn forwarding_across_an_elidable_call_is_fine_but_swapping_operands_is_not() {
    let t = |second: &str, op: &str| {
        format!("{DESCRS}loop l [p0] {{\n    i1 = getfield_gc_i(p0, descr=W.x)\n    i2 = call_i(ConstClass(g), i1, descr=elidable)\n    {second}\n    i4 = {op}\n    finish(i4)\n}}\n")
    };
    let original = t("i3 = getfield_gc_i(p0, descr=W.x)", "int_sub(i3, i2)");
    let right = t("i3 = same_as_i(i1)", "int_sub(i3, i2)");
    let wrong = t("i3 = same_as_i(i1)", "int_sub(i2, i3)");
    case(&original, &right, &wrong);
}

#[test]
fn reordering_calls_is_caught() {
    let t = |a: &str, b: &str| format!("{DESCRS}loop l [p0] {{\n    {a}\n    {b}\n    finish()\n}}\n");
    let (c1, c2) = ("i1 = call_i(ConstClass(f), p0, descr=effect)", "i2 = call_i(ConstClass(h), p0, descr=effect)");
    case(&t(c1, c2), &t(c1, c2), &t(c2, c1));
}

#[test]
fn a_wrong_resumed_state_is_caught() {
    let t = |slot: &str| {
        format!("{DESCRS}descr size.W = <SizeDescr 24>\nloop l [i0] {{\n    label(i0, descr=TargetToken(1))\n    i1 = int_add(i0, 1)\n    i2 = int_lt(i1, 50)\n    guard_true(i2, descr=<Guard0x1>) [i1] {{\n        frame 'f' pc=3 [$w]\n        $w = new(descr=size.W) {{W.x: {slot}}}\n    }}\n    jump(i1, descr=TargetToken(1))\n}}\n")
    };
    case(&t("i1"), &t("i1"), &t("50"));
}

#[test]
fn runs_reach_the_loop_and_iterate() {
    let m = parse("loop l [i0, i1] {\n    guard_value(i1, 100, descr=<Guard0x1>) [i0]\n    label(i0, i1, descr=TargetToken(1))\n    i2 = int_lt(i0, i1)\n    guard_true(i2, descr=<Guard0x2>) [i0]\n    i3 = int_add(i0, 1)\n    jump(i3, i1, descr=TargetToken(1))\n}\n");
    let r = check(&m, &m, None, 0, 10, &Config::default()).unwrap();
    assert!(r.iterations >= 10, "the loop body was not reached: {r:?}");
    assert_eq!(r.guard_exits, 10);
}

/// Fuzz finding (seed 574490): a store of the value an unread word already holds in the world
/// showed as a change only when the trace had not read the word first, so dropping a dead read
/// before it made `-O` look wrong. Whether a word was read is not observable.
#[test]
fn storing_what_the_world_holds_changes_nothing_read_or_not() {
    use std::sync::Arc;
    use tracelab_runtime::model::{Forced, Origin};
    let t = |read: &str| format!("{DESCRS}loop l [p0] {{\n{read}    setfield_gc(p0, 64, descr=W.x)\n    finish()\n}}\n");
    let (with_read, without) = (parse(&t("    i1 = getfield_gc_i(p0, descr=W.x)\n")), parse(&t("")));
    for world in [64, 65] {
        let mut cfg = Config::default();
        cfg.constraints.insert(Origin::Word(Arc::new(Origin::Input(0)), 8, 0), Forced::Int(world));
        check(&with_read, &without, None, 0, 5, &cfg).unwrap_or_else(|e| panic!("world value {world}: {e}"));
    }
}
