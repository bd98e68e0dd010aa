//! minipy's tracing JIT, built on `tracelab-jit`'s driver and recorder.
//!
//! At every backward jump the plain interpreter calls [`merge_point`] with the green key (code
//! object and loop-header index). When the driver says the position is hot, the interpreter
//! loop runs on with the recording context ([`record::Recording`]) until the loop closes at
//! the same header or the recording gives up; either way the program goes on in the plain
//! interpreter from where the recording left it (recording executes each op for real). A
//! closed loop is optimized with the pass manager (`-O`, or the pipeline of `--jit-opt`), and
//! both forms go to the log.
//!
//! The optimized trace is then compiled for minipy's heap ([`native`]), and later arrivals at
//! its header run it. A guard of the loop's frame that keeps failing gets a bridge: a trace
//! recorded from where the guard resumes to the next loop header, run on its later failures; a
//! loop whose recording reaches another compiled loop's header ends there. The runner goes from
//! trace to trace (bridge, loop at a finishing header) until one leaves for the interpreter.
//! Not yet done (docs/minipy.md): bridges entering a loop's peeled body, calls of compiled code
//! for functions with loops.

pub mod native;
pub mod record;

use crate::bytecode::CodeId;
use crate::interp::{self, Exit};
use crate::vm::{Res, Vm};
use native::NativeExit;
use record::{Outcome, Recording, Shape};
use std::time::{Duration, Instant};
use tracelab_ir::trace::OpExtra;
use tracelab_ir::{Module, Target, TraceId};
use tracelab_jit::{AbortReason, Action, Driver, GuardAction, JitParams, LoopToken};
use rustc_hash::FxHashMap;
use tracelab_passes::manager::{self, Step};

/// How the JIT runs, from the command line.
#[derive(Clone, Debug, Default)]
pub struct JitOptions {
    pub params: JitParams,
    /// The pipeline that optimizes each trace (`None`: `-O`).
    pub pipeline: Option<String>,
    /// Keep the log text (`--jit-log`).
    pub log: bool,
    /// Check each optimized trace against the trace as recorded with the reference
    /// interpreter (`tracelab equiv`) on this many seeds (0: no check).
    pub check_seeds: u64,
    /// A test mode: compiled guards also fail at random (seeded), though their conditions
    /// hold, so that resuming is exercised everywhere (`--jit-fail-guards SEED`).
    pub fail_guards: Option<u64>,
}

/// What the JIT did, for `--jit-stats` and the log's summary.
#[derive(Clone, Debug, Default)]
pub struct JitReport {
    pub stats: tracelab_jit::Stats,
    pub loops_optimized: u32,
    pub optimizer_failures: u32,
    /// Recorded traces that did not verify (a bug in the recording context).
    pub invalid_traces: u32,
    /// Optimized traces checked against the recorded ones, and those that behaved differently.
    pub equiv_checked: u32,
    pub equiv_failures: u32,
    pub ops_kept: u64,
    pub time_tracing: Duration,
    pub time_optimizing: Duration,
    pub time_compiling: Duration,
    /// Loops compiled to machine code, the bytes of it, and why the others were not.
    pub loops_native: u32,
    pub code_bytes: u64,
    pub not_native: std::collections::BTreeMap<String, u32>,
    /// Entries into compiled loops (each ends with a failing guard) and the time spent in them
    /// (including resuming).
    pub entries: u64,
    pub time_native: Duration,
    /// Compiled loops no longer entered: they kept leaving before completing an iteration.
    pub loops_given_up: u32,
    /// Exits from compiled code to the interpreter: guards without a bridge (those in an
    /// inlined call among them) and traces finishing at a header with no compiled loop.
    pub exits_to_interpreter: u64,
    pub exits_in_inlined_calls: u64,
    pub finishes_to_interpreter: u64,
}

/// A compiled trace, with its name, its entries and those that left in its preamble.
struct Installed {
    code: native::NativeLoop,
    name: String,
    entries: u64,
    early: u64,
}

pub struct Jit {
    driver: Driver<(CodeId, usize)>,
    pipeline: Vec<Step>,
    check_seeds: u64,
    /// minipy's descr declarations, the module every recording starts from.
    base: Module,
    next_token: u64,
    /// Guard ids are unique across the traces (each is recorded into its own module), so a
    /// bridge names the guard it attaches to.
    next_guard: u64,
    /// Every trace as recorded and as optimized (`None` without `--jit-log`), and the log's
    /// comment lines (aborts).
    log: Option<Module>,
    notes: Vec<String>,
    report: JitReport,
    /// Compiled code by token (loops and bridges).
    native: FxHashMap<u64, Installed>,
    target: Option<tracelab_backend::gc_heap::HeapTarget>,
    /// The random state of `fail_guards` (xorshift; `None`: off).
    fail_guards: Option<u64>,
}

impl Jit {
    /// A JIT with these options; an error names a bad pipeline.
    pub fn new(options: &JitOptions) -> Result<Jit, String> {
        let pipeline = match &options.pipeline {
            Some(text) => manager::parse_pipeline(text).map_err(|e| format!("--jit-opt: {e}"))?,
            None => tracelab_passes::DEFAULT_PIPELINE.iter().map(|p| Step::new(p)).collect(),
        };
        let base = tracelab_ir::parse(&crate::effects::declarations())
            .map_err(|d| format!("minipy's descr declarations do not parse: {}", d.first().map_or(String::new(), |d| d.message.clone())))?;
        let log = options.log.then(|| base.clone());
        Ok(Jit { driver: Driver::new(options.params.clone()), pipeline, check_seeds: options.check_seeds, base, next_token: 1, next_guard: 1, log, notes: Vec::new(), report: JitReport::default(), native: FxHashMap::default(), target: None, fail_guards: options.fail_guards.map(|seed| seed | 1) })
    }

    pub fn report(&self) -> JitReport {
        JitReport { stats: self.driver.stats().clone(), ..self.report.clone() }
    }

    /// The log: a summary and the aborts as comments, then every trace (as recorded, `NAME`,
    /// and as optimized, `NAME_opt`) in tracelab's text format.
    pub fn log_text(&self) -> Option<String> {
        let m = self.log.as_ref()?;
        let mut out = String::from("; tracelab JIT log (minipy)\n");
        for line in summary(&self.report()).lines() {
            out.push_str(&format!("; {line}\n"));
        }
        for n in &self.notes {
            out.push_str(&format!("; {n}\n"));
        }
        out.push_str(&tracelab_ir::print_module(m));
        Some(out)
    }

    /// A recorded trace ended (a loop closed, or a trace finished at `finish_at`, a loop
    /// header and stack depth): it is optimized, checked, compiled and logged.
    fn trace_ended(&mut self, recorded: Module, name: &str, token: u64, ops: usize, finish_at: Option<(usize, usize)>) {
        let started = Instant::now();
        let mut optimized = recorded.clone();
        let opts = manager::Options { verify_each: true, ..manager::Options::default() };
        let result = manager::run(&mut optimized, &self.pipeline, &opts);
        self.report.time_optimizing += started.elapsed();
        match result {
            Ok(_) => {
                self.report.loops_optimized += 1;
                self.report.ops_kept += optimized.traces.values().map(|t| t.ops.len() as u64).sum::<u64>();
                self.check(&recorded, &optimized, name);
                self.compile(optimized.clone(), name, token, finish_at);
            }
            Err(e) => {
                self.report.optimizer_failures += 1;
                self.notes.push(format!("loop {name}: the optimizer failed: {e}"));
            }
        }
        if let Some(log) = self.log.as_mut() {
            append(log, &recorded, name);
            append(log, &optimized, &format!("{name}_opt"));
        }
        self.driver.compiled(LoopToken(token as u32), ops);
    }

    /// Runs the recorded and the optimized trace side by side in the reference interpreter
    /// (inputs and unknown memory invented from seeds, helper calls modelled).
    fn check(&mut self, recorded: &Module, optimized: &Module, name: &str) {
        if self.check_seeds == 0 {
            return;
        }
        let cfg = tracelab_runtime::interp::Config { fuel: 5_000, heap_bytes: 4 << 20, ..Default::default() };
        self.report.equiv_checked += 1;
        if let Err(m) = tracelab_runtime::equiv::check(recorded, optimized, None, 0, self.check_seeds, &cfg) {
            self.report.equiv_failures += 1;
            self.notes.push(format!("loop {name}: the optimized trace behaves differently from the recorded one: {m}"));
        }
    }

    /// Compiles the optimized trace for minipy's heap, or says why not.
    fn compile(&mut self, optimized: Module, name: &str, token: u64, finish_at: Option<(usize, usize)>) {
        let (Some(target), Some(tid)) = (self.target.as_ref(), optimized.traces.keys().next()) else { return };
        let started = Instant::now();
        let result = native::compile(optimized, tid, target, finish_at);
        self.report.time_compiling += started.elapsed();
        match result {
            Ok(code) => {
                self.report.loops_native += 1;
                self.report.code_bytes += code.code_size() as u64;
                self.native.insert(token, Installed { code, name: name.to_string(), entries: 0, early: 0 });
            }
            Err(why) => {
                let reason = why.split_once(": ").map_or(why.as_str(), |(_, r)| r).to_string();
                *self.report.not_native.entry(reason).or_insert(0) += 1;
                self.notes.push(format!("loop {name} not compiled: {why}"));
            }
        }
    }

    fn aborted(&mut self, name: &str, reason: AbortReason, ops: usize) {
        if self.log.is_some() {
            self.notes.push(format!("aborted {name} after {ops} ops: {reason}"));
        }
        self.driver.abort(reason, ops);
    }
}

/// Copies the traces of `from` into the log as `name` (a second trace gets a suffix), with
/// label tokens fresh in the log.
fn append(log: &mut Module, from: &Module, name: &str) {
    for (k, t) in from.traces.keys().enumerate() {
        let id = tracelab_ir::link::copy_trace(log, from, t);
        log.traces[id].name = if k == 0 { name.to_string() } else { format!("{name}_{k}") };
        retoken(log, id);
    }
}

/// Gives trace `t`'s labels tokens no other trace of `m` uses (and its jumps to them).
fn retoken(m: &mut Module, t: TraceId) {
    let mut map = Vec::new();
    let mut next = match m.fresh_token() {
        Target::Token(n) => n,
        Target::Loop(_) => 1,
    };
    let ids: Vec<_> = m.traces[t].ops.keys().collect();
    for &id in &ids {
        if let OpExtra::Label(info) = &mut m.traces[t].ops[id].extra {
            if let Target::Token(old) = info.token {
                map.push((old, next));
                info.token = Target::Token(next);
                next += 1;
            }
        }
    }
    for &id in &ids {
        if let OpExtra::Jump(Target::Token(old)) = &mut m.traces[t].ops[id].extra {
            if let Some(&(_, new)) = map.iter().find(|(o, _)| o == old) {
                *old = new;
            }
        }
    }
}

/// The summary `--jit-stats` prints and the log starts with.
pub fn summary(r: &JitReport) -> String {
    let s = &r.stats;
    let mut out = String::new();
    out.push_str(&format!("traces started: {}\n", s.traces_started));
    out.push_str(&format!("loops recorded: {} (optimized: {}, optimizer failures: {}, invalid traces: {})\n", s.loops_compiled, r.loops_optimized, r.optimizer_failures, r.invalid_traces));
    out.push_str(&format!("ops recorded: {}, kept after optimizing: {}\n", s.ops_recorded, r.ops_kept));
    if r.equiv_checked > 0 {
        out.push_str(&format!("optimized traces checked against the recorded ones: {}, different: {}\n", r.equiv_checked, r.equiv_failures));
    }
    out.push_str(&format!("aborts: {}, positions blacklisted: {}\n", s.total_aborts(), s.blacklisted));
    for (reason, n) in &s.aborts {
        out.push_str(&format!("  {n:>6}  {reason}\n"));
    }
    out.push_str(&format!("bridges recorded: {}, guard failures: {}\n", s.bridges_compiled, s.guard_failures));
    out.push_str(&format!("traces compiled: {} ({} bytes of code)\n", r.loops_native, r.code_bytes));
    for (reason, n) in &r.not_native {
        out.push_str(&format!("  {n:>6}  not compiled: {reason}\n"));
    }
    out.push_str(&format!("compiled traces entered: {} times, {:.1} ms in them\n", r.entries, ms(r.time_native)));
    out.push_str(&format!("back to the interpreter: {} from guards without a bridge ({} in inlined calls), {} from traces ending where no loop is compiled\n", r.exits_to_interpreter, r.exits_in_inlined_calls, r.finishes_to_interpreter));
    if r.loops_given_up > 0 {
        out.push_str(&format!("compiled loops no longer entered (most entries left before one iteration): {}\n", r.loops_given_up));
    }
    out.push_str(&format!("time tracing: {:.1} ms, optimizing: {:.1} ms, compiling: {:.1} ms\n", ms(r.time_tracing), ms(r.time_optimizing), ms(r.time_compiling)));
    out
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// The interpreter's merge point: a backward jump to `header` in `code`. May record a loop
/// (running the program on meanwhile); `Some` when the program's entry frame ended during it.
pub fn merge_point(vm: &mut Vm, code: CodeId, header: usize) -> Res<Option<Exit>> {
    let Some(mut jit) = vm.jit.take() else { return Ok(None) };
    let result = match jit.driver.merge_point((code, header)) {
        Action::StartTracing => trace_loop(vm, &mut jit, code, header),
        Action::Enter(token) => enter(vm, &mut jit, token),
        _ => Ok(None),
    };
    vm.jit = Some(jit);
    result
}

/// Records the loop at `header` of `code` (the driver has started the trace).
fn trace_loop(vm: &mut Vm, jit: &mut Jit, code: CodeId, header: usize) -> Res<Option<Exit>> {
    if jit.target.is_none() {
        let mut target = native::heap_target(vm);
        target.random_guard_failures = jit.fail_guards.is_some();
        jit.target = Some(target);
    }
    let name = loop_name(vm, code, header);
    let enters = loop_headers(vm, code).filter(|&h| h != header && jit.driver.compiled_at((code, h)).is_some()).collect();
    let token = jit.next_token;
    record(vm, jit, &name, Shape::Loop { token, header, enters })
}

/// The loop headers of `code`: the targets of its backward jumps.
fn loop_headers(vm: &Vm, code: CodeId) -> impl Iterator<Item = usize> + '_ {
    let ops = &vm.codes[code.0 as usize].ops;
    ops.iter().enumerate().filter_map(|(pc, op)| match *op {
        crate::bytecode::Op::Jump(t) if t as usize <= pc => Some(t as usize),
        _ => None,
    })
}

/// Entries after which a loop that mostly leaves before completing an iteration (from guards
/// without bridges) is no longer entered: each such entry costs the preamble and a resume.
const PREAMBLE_EXIT_PATIENCE: u64 = 1000;

/// Why compiled code handed control back.
enum Stop {
    Interpret,
    /// Guard `index` of trace `token` is hot: a bridge is to be recorded from it.
    TraceBridge { token: u64, index: usize },
    /// A trace finished at this loop header, which just became hot.
    TraceLoop { code: CodeId, header: usize },
}

/// Runs compiled trace `token` from the current frame, then whatever its exits lead to: the
/// bridge of a failing guard, the loop compiled at the header a trace finishes at.
fn enter(vm: &mut Vm, jit: &mut Jit, token: LoopToken) -> Res<Option<Exit>> {
    let started = Instant::now();
    let stop = run_compiled(vm, jit, token.0 as u64);
    jit.report.time_native += started.elapsed();
    match stop? {
        Stop::Interpret => Ok(None),
        Stop::TraceBridge { token, index } => {
            let installed = &jit.native[&token];
            let guard = installed.code.guard_id(index).unwrap_or(index as u64);
            let name = format!("bridge_{}_g{guard}", installed.name);
            let frames = installed.code.guard_frames(index);
            record(vm, jit, &name, Shape::Bridge { guard, frames })
        }
        Stop::TraceLoop { code, header } => trace_loop(vm, jit, code, header),
    }
}

fn run_compiled(vm: &mut Vm, jit: &mut Jit, mut token: u64) -> Res<Stop> {
    loop {
        let Some(installed) = jit.native.get_mut(&token) else { return Ok(Stop::Interpret) };
        jit.report.entries += 1;
        installed.entries += 1;
        let countdown = jit.fail_guards.as_mut().map_or(0, next_countdown);
        let index = match installed.code.run(vm, countdown)? {
            NativeExit::Finished { header } => {
                // Arriving at a loop header from compiled code counts as the interpreter's
                // arrival there would: the loop may become hot.
                let code = CodeId(vm.heap.word(vm.get(vm.frame), crate::layout::FRAME_CODE) as u32);
                match jit.driver.merge_point((code, header)) {
                    Action::Enter(next) => {
                        token = next.0 as u64;
                        continue;
                    }
                    Action::StartTracing => return Ok(Stop::TraceLoop { code, header }),
                    _ => {
                        jit.report.finishes_to_interpreter += 1;
                        return Ok(Stop::Interpret);
                    }
                }
            }
            NativeExit::Guard(index) => index,
        };
        let action = jit.driver.guard_failed(LoopToken(token as u32), index as u32);
        match action {
            GuardAction::Enter(bridge) => token = bridge.0 as u64,
            GuardAction::TraceBridge => return Ok(Stop::TraceBridge { token, index }),
            GuardAction::Interpret => {
                jit.report.exits_to_interpreter += 1;
                jit.report.exits_in_inlined_calls += (installed.code.guard_frames(index) > 1) as u64;
                installed.early += installed.code.in_preamble(index) as u64;
                if installed.entries >= PREAMBLE_EXIT_PATIENCE && installed.early * 2 > installed.entries {
                    jit.native.remove(&token);
                    jit.report.loops_given_up += 1;
                }
                return Ok(Stop::Interpret);
            }
        }
    }
}

/// The guard check at which a run fails with `--jit-fail-guards`: 1 to 32 (xorshift64).
fn next_countdown(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    1 + *state % 32
}

/// Records a trace of `shape` from the current frame while running it; the JIT is out of `vm`
/// meanwhile, so runs nested in helpers do not trace. The driver has started the trace.
fn record(vm: &mut Vm, jit: &mut Jit, name: &str, shape: Shape) -> Res<Option<Exit>> {
    let started = Instant::now();
    let token = jit.next_token;
    jit.next_token += 1;
    let mark = vm.roots_mark();
    let limit = jit.driver.params().trace_limit;
    let mut recording = Recording::start(vm, jit.base.clone(), name, shape, jit.next_guard, limit);
    let exit = interp::run(&mut recording);
    let (outcome, ops) = recording.finish();
    // Each op records at most one guard.
    jit.next_guard += ops as u64 + 1;
    vm.roots_reset(mark);
    jit.report.time_tracing += started.elapsed();
    match outcome {
        Outcome::Closed(m) => jit.trace_ended(m, name, token, ops, None),
        Outcome::Finished { module, header, sp } => jit.trace_ended(module, name, token, ops, Some((header, sp))),
        Outcome::Aborted(reason) => jit.aborted(name, reason, ops),
        Outcome::Invalid(d) => {
            jit.report.invalid_traces += 1;
            let first = d.first().map_or(String::new(), |d| d.message.clone());
            jit.aborted(name, AbortReason::Unsupported(format!("the recorded trace does not verify ({first})")), ops);
        }
    }
    match exit? {
        Exit::Left => Ok(None),
        e => Ok(Some(e)),
    }
}

/// A trace name from the code's name, its number (codes may share a name) and the header's
/// index (`loop_f_c3_12`).
fn loop_name(vm: &Vm, code: CodeId, header: usize) -> String {
    let c = &vm.codes[code.0 as usize];
    let base: String = c.name.chars().map(|ch| if ch.is_ascii_alphanumeric() { ch } else { '_' }).collect();
    format!("loop_{}_c{}_{header}", base.trim_matches('_'), code.0)
}
