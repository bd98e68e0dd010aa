//! Generated traces of any size, for benchmarks: a loop whose body repeats a block shaped like
//! what PyPy records for `x = x + y` on boxed ints (a merge point, frame and field reads,
//! overflow-checked arithmetic with guards carrying fail args, a store), so that throughput
//! is measured on the mix of ops real traces have.

use std::fmt::Write;

/// The descrs both generated loops use.
const DESCRS: &str = "descr Frame.locals = <FieldP interp.Frame.locals_w 24>\n\
                      descr items = <ArrayP 8>\n\
                      descr W_Int.intval = <FieldS interp.W_Int.intval 8 pure>\n";

/// The text of a loop with about `ops` ops.
pub fn loop_text(ops: usize) -> String {
    const PER_BLOCK: usize = 9;
    let blocks = ops.div_ceil(PER_BLOCK).max(1);
    let mut s = String::with_capacity(blocks * PER_BLOCK * 64);
    s.push_str(DESCRS);
    s.push_str("descr Frame.last = <FieldS interp.Frame.last_instr 40>\n\n");
    s.push_str("loop synthetic [p0, i1, p2] {\n");
    s.push_str("    label(p0, i1, p2, descr=TargetToken(1))\n");
    let mut acc = String::from("i1");
    for b in 0..blocks {
        let n = b * 10 + 10;
        let _ = write!(
            s,
            "    debug_merge_point(0, 0, 'f;prog.py:{b}~#{pc} BINARY_ADD')\n\
             \x20   p{n} = getfield_gc_r(p0, descr=Frame.locals)\n\
             \x20   p{n1} = getarrayitem_gc_r(p{n}, {idx}, descr=items)\n\
             \x20   guard_nonnull_class(p{n1}, ConstClass(W_IntObject), descr=<Guard0x{g:x}>) [p0, {acc}, p2]\n\
             \x20   i{n2} = getfield_gc_i(p{n1}, descr=W_Int.intval)\n\
             \x20   i{n3} = int_add_ovf({acc}, i{n2})\n\
             \x20   guard_no_overflow(descr=<Guard0x{g1:x}>) [p0, {acc}, p2, i{n2}]\n\
             \x20   i{n4} = int_lt(i{n3}, 1000000)\n\
             \x20   guard_true(i{n4}, descr=<Guard0x{g2:x}>) [p0, i{n3}, p2]\n",
            pc = b * 2,
            n1 = n + 1,
            n2 = n + 2,
            n3 = n + 3,
            n4 = n + 4,
            idx = b % 8,
            g = 3 * b + 0x1000,
            g1 = 3 * b + 0x1001,
            g2 = 3 * b + 0x1002,
        );
        acc = format!("i{}", n + 3);
    }
    let _ = writeln!(s, "    setfield_gc(p0, 12, descr=Frame.last)");
    let _ = writeln!(s, "    jump(p0, {acc}, p2, descr=TargetToken(1))\n}}");
    s
}

/// Number of ops in a module's traces (for ops/s figures).
pub fn op_count(text: &str) -> usize {
    tracelab_ir::parse(text).map(|m| m.traces.values().map(|t| t.ops.len()).sum()).unwrap_or(0)
}

/// The text of a loop of about `ops` ops as PyPy records one (no label: it jumps back to its
/// start), for optimizer benchmarks: each block reads a boxed int from the frame, checks it,
/// adds with an overflow check, allocates a new box for the result and stores it back, so that
/// every pass of `-O` has work (unroll peels it, escape removes boxes, heap forwards and holds
/// stores, intbounds and guards drop checks).
pub fn recorded_loop_text(ops: usize) -> String {
    const PER_BLOCK: usize = 11;
    let blocks = ops.div_ceil(PER_BLOCK).max(1);
    let mut s = String::with_capacity(blocks * PER_BLOCK * 64);
    s.push_str(DESCRS);
    s.push_str("descr size.W_Int = <SizeDescr 16 class=W_IntObject>\n");
    s.push_str("descr Frame.last = <FieldS interp.Frame.last_instr 40>\n\n");
    s.push_str("loop recorded [p0, i1, i2] {\n");
    for b in 0..blocks {
        let n = b * 20 + 10;
        let idx = b % 8;
        let _ = write!(
            s,
            "    debug_merge_point(0, 0, 'f;prog.py:{b}~#{pc} BINARY_ADD')\n\
             \x20   p{n} = getfield_gc_r(p0, descr=Frame.locals)\n\
             \x20   p{n1} = getarrayitem_gc_r(p{n}, {idx}, descr=items)\n\
             \x20   guard_nonnull_class(p{n1}, ConstClass(W_IntObject)) [p0, i1, i2]\n\
             \x20   i{n2} = getfield_gc_i(p{n1}, descr=W_Int.intval)\n\
             \x20   i{n3} = int_add_ovf(i{n2}, i1)\n\
             \x20   guard_no_overflow() [p0, i1, i2]\n\
             \x20   p{n4} = new_with_vtable(descr=size.W_Int)\n\
             \x20   setfield_gc(p{n4}, i{n3}, descr=W_Int.intval)\n\
             \x20   setarrayitem_gc(p{n}, {idx}, p{n4}, descr=items)\n\
             \x20   setfield_gc(p0, {pc}, descr=Frame.last)\n",
            pc = b * 2,
            n1 = n + 1,
            n2 = n + 2,
            n3 = n + 3,
            n4 = n + 4,
        );
    }
    s.push_str("    i3 = int_lt(i1, i2)\n    guard_true(i3) [p0, i1, i2]\n    i4 = int_add(i1, 1)\n    jump(p0, i4, i2)\n}\n");
    s
}

/// A peeled loop of a few ops with `bridges` guards in its body, each with a bridge of a few
/// ops that jumps back to the loop's label (so the label is open): a module of many traces, for
/// the benchmark showing that `-O`'s work grows linearly with the number of traces.
pub fn loop_with_bridges_text(bridges: usize) -> String {
    let mut s = String::from(DESCRS);
    s.push_str("\nloop many [p0, i1, i2] {\n    label(p0, i1, i2, descr=TargetToken(1))\n");
    for k in 0..bridges {
        let _ = write!(
            s,
            "    i{a} = int_add(i1, {k})\n\
             \x20   i{b} = int_lt(i{a}, i2)\n\
             \x20   guard_true(i{b}, descr=<Guard0x{g:x}>) [p0, i1, i2]\n",
            a = 2 * k + 10,
            b = 2 * k + 11,
            g = k + 1,
        );
    }
    s.push_str("    i3 = int_add(i1, 1)\n    jump(p0, i3, i2, descr=TargetToken(1))\n}\n");
    for k in 0..bridges {
        let _ = write!(
            s,
            "bridge b{k} from Guard0x{g:x} [p{k}0, i{k}1, i{k}2] {{\n\
             \x20   p{k}3 = getfield_gc_r(p{k}0, descr=Frame.locals)\n\
             \x20   p{k}4 = getarrayitem_gc_r(p{k}3, 0, descr=items)\n\
             \x20   i{k}5 = getfield_gc_i(p{k}4, descr=W_Int.intval)\n\
             \x20   i{k}6 = int_sub(i{k}1, i{k}5)\n\
             \x20   jump(p{k}0, i{k}6, i{k}2, descr=TargetToken(1))\n}}\n",
            g = k + 1,
        );
    }
    s
}
