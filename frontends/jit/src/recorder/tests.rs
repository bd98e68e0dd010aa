use super::*;
use tracelab_ir::resume::ResumeFrame;

fn frame(pc: u32, slots: &[Value]) -> Resume {
    let slots = slots.iter().map(|&v| ResumeValue::Value(v)).collect();
    Resume { frames: vec![ResumeFrame { code: "count".into(), pc, slots }], ..Resume::default() }
}

/// `while i < n: i += 1` as a recording context would record it.
fn counting_loop() -> Module {
    let (mut r, p) = Recorder::start_loop(Module::new(), "count", 1, &[Type::Int, Type::Int], 100);
    let (i, n) = (p[0], p[1]);
    r.debug_merge_point("count:2 LoadFast(0)");
    let lt = r.op(Opcode::IntLt, &[i, n], None).unwrap().unwrap();
    r.guard(Opcode::GuardTrue, &[lt], frame(3, &[i, n])).unwrap();
    let one = r.constant(Const::Int(1));
    let next = r.op(Opcode::IntAdd, &[i, one], None).unwrap().unwrap();
    r.close_loop(&[next, n]).expect("verifies")
}

#[test]
fn a_recorded_loop_verifies_and_prints_as_a_labelled_loop() {
    let m = counting_loop();
    let text = tracelab_ir::print_module(&m);
    assert!(text.contains("label("), "{text}");
    assert!(text.contains("int_lt("), "{text}");
    assert!(text.contains("guard_true("), "{text}");
    assert!(text.contains("jump("), "{text}");
    assert!(text.contains("debug_merge_point"), "{text}");
    // The text reads back as the same loop.
    let again = tracelab_ir::load("again", &text).expect("parses");
    assert_eq!(tracelab_ir::print_module(&again), text);
}

#[test]
fn fail_args_are_the_resume_data_s_values_once_each_without_constants() {
    let (mut r, p) = Recorder::start_loop(Module::new(), "l", 1, &[Type::Int], 100);
    let seven = r.constant(Const::Int(7));
    let c = r.op(Opcode::IntLt, &[p[0], seven], None).unwrap().unwrap();
    r.guard(Opcode::GuardTrue, &[c], frame(0, &[p[0], seven, p[0]])).unwrap();
    let m = r.close_loop(&[p[0]]).unwrap();
    let t = m.traces.values().next().expect("one trace");
    let guard = t.ops.iter().find_map(|(_, op)| op.guard()).expect("a guard");
    assert_eq!(guard.fail_args, vec![Some(p[0])]);
}

#[test]
fn recording_past_the_limit_aborts() {
    let (mut r, p) = Recorder::start_loop(Module::new(), "l", 1, &[Type::Int], 2);
    assert!(r.op(Opcode::IntAdd, &[p[0], p[0]], None).is_ok());
    assert!(r.op(Opcode::IntAdd, &[p[0], p[0]], None).is_ok());
    assert_eq!(r.op(Opcode::IntAdd, &[p[0], p[0]], None), Err(AbortReason::TooLong));
}

#[test]
fn a_jump_with_the_wrong_arguments_is_rejected_by_the_verifier() {
    let (r, p) = Recorder::start_loop(Module::new(), "l", 1, &[Type::Int, Type::Int], 10);
    assert!(r.close_loop(&[p[0]]).is_err(), "one argument for two parameters");
}

#[test]
fn the_recorded_loop_runs_until_its_guard_fails_with_the_interpreter_s_state() {
    use tracelab_runtime::interp::{Config, Exit, Interp};
    let m = counting_loop();
    let tid = m.traces.keys().next().expect("one trace");
    let run = Interp::new(&m, Config { args: vec![3, 10], ..Config::default() }).run(tid);
    assert_eq!(run.iterations, 7, "i goes from 3 to 10");
    let Exit::GuardFailed { fail_args, frames, guard_id, .. } = run.exit else {
        panic!("expected the guard to fail: {:?}", run.exit)
    };
    assert_eq!(guard_id, Some(1));
    let bits: Vec<u64> = fail_args.iter().map(|v| v.expect("live").bits).collect();
    assert_eq!(bits, vec![10, 10], "i == n when the loop exits");
    let frames = frames.expect("resume data");
    assert_eq!(frames.len(), 1);
}

/// `while i < n: i += 1`, then, from its exit guard, a bridge that raises `n` by 5 and
/// re-enters the loop, until `n` reaches 20.
#[test]
fn a_bridge_from_a_guard_jumps_back_into_the_loop() {
    use tracelab_runtime::interp::{Config, Exit, Interp};
    let loop_module = counting_loop();
    let (mut r, ins) = Recorder::start_bridge(loop_module, 1, &[Type::Int, Type::Int], 100);
    let (i, n) = (ins[0], ins[1]);
    let twenty = r.constant(Const::Int(20));
    let below = r.op(Opcode::IntLt, &[n, twenty], None).unwrap().unwrap();
    r.guard(Opcode::GuardTrue, &[below], frame(3, &[i, n])).unwrap();
    let five = r.constant(Const::Int(5));
    let bigger = r.op(Opcode::IntAdd, &[n, five], None).unwrap().unwrap();
    let m = r.close_bridge(&[i, bigger], 1).expect("verifies");
    assert_eq!(m.traces.len(), 2);
    let tid = m.traces.keys().next().expect("the loop");
    let run = Interp::new(&m, Config { args: vec![0, 10], ..Config::default() }).run(tid);
    let Exit::GuardFailed { fail_args, guard_id, .. } = run.exit else { panic!("{:?}", run.exit) };
    assert_eq!(guard_id, Some(2), "the bridge's own guard, numbered after the loop's");
    let bits: Vec<u64> = fail_args.iter().map(|v| v.expect("live").bits).collect();
    assert_eq!(bits, vec![20, 20], "10 in the loop, then the bridge raised n twice by 5");
}

#[test]
fn a_bridge_cannot_be_closed_as_a_loop() {
    let (r, ins) = Recorder::start_bridge(counting_loop(), 1, &[Type::Int, Type::Int], 10);
    let err = r.close_loop(&ins).expect_err("a bridge has no label");
    assert!(err[0].message.contains("close_bridge"), "{}", err[0].message);
}

#[test]
fn a_loop_that_ends_in_finish_loses_its_label() {
    let (mut r, p) = Recorder::start_loop(Module::new(), "entry", 1, &[Type::Int], 100);
    let one = r.constant(Const::Int(1));
    let next = r.op(Opcode::IntAdd, &[p[0], one], None).unwrap().unwrap();
    r.guard(Opcode::GuardTrue, &[next], frame(2, &[p[0], next])).unwrap();
    let m = r.close_finish(&[next]).expect("verifies");
    let text = tracelab_ir::print_module(&m);
    assert!(!text.contains("label("), "{text}");
    assert!(text.contains("int_add(i0, 1)"), "the label's parameter is its input now: {text}");
    assert!(text.contains("finish(i"), "{text}");
}
