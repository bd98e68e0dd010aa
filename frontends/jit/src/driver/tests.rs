use super::*;

fn driver(threshold: u32) -> Driver<(u32, u32)> {
    Driver::new(JitParams { max_aborts: 2, ..JitParams::with_threshold(threshold) })
}

#[test]
fn a_position_becomes_hot_at_the_threshold_and_closes_where_it_started() {
    let mut d = driver(3);
    let head = (0, 7);
    assert_eq!(d.merge_point(head), Action::Interpret);
    assert_eq!(d.merge_point(head), Action::Interpret);
    assert_eq!(d.merge_point(head), Action::StartTracing);
    assert!(d.is_tracing());
    assert_eq!(d.merge_point((0, 12)), Action::KeepTracing, "an inner loop header");
    assert_eq!(d.merge_point(head), Action::CloseLoop);
    d.compiled(LoopToken(4), 12);
    assert_eq!(d.stats().ops_recorded, 12);
    assert!(!d.is_tracing());
    assert_eq!(d.merge_point(head), Action::Enter(LoopToken(4)));
    assert_eq!(d.stats().loops_compiled, 1);
    assert_eq!(d.stats().traces_started, 1);
}

#[test]
fn positions_count_separately() {
    let mut d = driver(2);
    assert_eq!(d.merge_point((0, 1)), Action::Interpret);
    assert_eq!(d.merge_point((1, 1)), Action::Interpret);
    assert_eq!(d.merge_point((1, 1)), Action::StartTracing);
}

#[test]
fn threshold_one_traces_at_the_first_arrival() {
    let mut d = Driver::new(JitParams::with_threshold(0));
    assert_eq!(d.params().threshold, 1);
    assert_eq!(d.merge_point(3u32), Action::StartTracing);
}

#[test]
fn an_aborted_trace_s_position_counts_again() {
    let mut d = driver(1);
    assert_eq!(d.merge_point((0, 0)), Action::StartTracing);
    d.abort(AbortReason::TooLong, 6);
    assert!(!d.is_tracing());
    assert_eq!(d.stats().aborts.get("trace too long"), Some(&1));
    assert_eq!(d.stats().ops_recorded, 6);
    assert_eq!(d.merge_point((0, 0)), Action::StartTracing, "retried after one abort");
}

#[test]
fn a_position_that_keeps_aborting_is_blacklisted() {
    let mut d = driver(1);
    for _ in 0..2 {
        assert_eq!(d.merge_point((0, 0)), Action::StartTracing);
        d.abort(AbortReason::Unsupported("generator frame".into()), 3);
    }
    assert_eq!(d.stats().blacklisted, 1);
    assert_eq!(d.stats().total_aborts(), 2);
    for _ in 0..10 {
        assert_eq!(d.merge_point((0, 0)), Action::Interpret);
    }
    assert_eq!(d.merge_point((0, 1)), Action::StartTracing, "other positions still trace");
}

#[test]
fn invalidating_a_loop_makes_its_position_count_again() {
    let mut d = driver(1);
    d.merge_point((9, 0));
    d.compiled(LoopToken(0), 3);
    assert_eq!(d.merge_point((9, 0)), Action::Enter(LoopToken(0)));
    d.invalidate(LoopToken(0));
    assert_eq!(d.stats().loops_invalidated, 1);
    assert_eq!(d.merge_point((9, 0)), Action::StartTracing);
}

#[test]
fn abort_and_compiled_without_a_trace_change_nothing() {
    let mut d = driver(5);
    d.abort(AbortReason::TooLong, 1);
    d.compiled(LoopToken(1), 1);
    assert_eq!(*d.stats(), Stats::default());
}

#[test]
fn a_guard_gets_a_bridge_after_failing_trace_eagerness_times() {
    let mut d = Driver::<u32>::new(JitParams { trace_eagerness: 3, max_aborts: 2, ..JitParams::with_threshold(1) });
    let (token, guard) = (LoopToken(1), 4);
    assert_eq!(d.guard_failed(token, guard), GuardAction::Interpret);
    assert_eq!(d.guard_failed(token, 5), GuardAction::Interpret, "another guard counts apart");
    assert_eq!(d.guard_failed(token, guard), GuardAction::Interpret);
    assert_eq!(d.guard_failed(token, guard), GuardAction::TraceBridge);
    assert!(d.is_tracing());
    assert_eq!(d.guard_failed(token, 5), GuardAction::Interpret, "no second trace while one is under way");
    d.compiled(LoopToken(9), 20);
    assert_eq!(d.guard_failed(token, guard), GuardAction::Enter(LoopToken(9)));
    assert_eq!(d.stats().bridges_compiled, 1);
    assert_eq!(d.stats().loops_compiled, 0);
    assert_eq!(d.stats().guard_failures, 6);
}

#[test]
fn a_guard_whose_bridges_keep_aborting_is_given_up() {
    let mut d = Driver::<u32>::new(JitParams { trace_eagerness: 1, max_aborts: 2, ..JitParams::with_threshold(1) });
    for _ in 0..2 {
        assert_eq!(d.guard_failed(LoopToken(1), 0), GuardAction::TraceBridge);
        d.abort(AbortReason::TooLong, 7);
    }
    assert_eq!(d.guard_failed(LoopToken(1), 0), GuardAction::Interpret);
    assert_eq!(d.stats().blacklisted, 1);
}

#[test]
fn compiled_at_names_the_loop_a_position_enters() {
    let mut d = driver(1);
    assert_eq!(d.compiled_at((0, 3)), None);
    assert_eq!(d.merge_point((0, 3)), Action::StartTracing);
    d.compiled(LoopToken(2), 5);
    assert_eq!(d.compiled_at((0, 3)), Some(LoopToken(2)));
}
