//! Hot counters, the trace lifecycle and blacklisting, keyed by an interpreter's green key.

use crate::params::JitParams;
use rustc_hash::FxHashMap;
use std::collections::BTreeMap;
use std::fmt;
use std::hash::Hash;

/// A green key: what identifies a loop header in the user's program. The interpreter chooses
/// it (minipy: code object and bytecode index); the driver only compares and hashes it.
pub trait Position: Copy + Eq + Hash + fmt::Debug {}

impl<T: Copy + Eq + Hash + fmt::Debug> Position for T {}

/// A compiled loop, as the backend names it to the driver.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LoopToken(pub u32);

/// What the interpreter does at a merge point.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Go on interpreting.
    Interpret,
    /// Start recording a trace here (the position just became hot).
    StartTracing,
    /// Go on recording: a trace is under way and this is not where it started.
    KeepTracing,
    /// The trace under way reached the position it started from: close the loop.
    CloseLoop,
    /// Enter the compiled loop with the frame's values.
    Enter(LoopToken),
}

/// What the interpreter does when a guard of compiled trace fails (after resuming from it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GuardAction {
    /// Go on interpreting.
    Interpret,
    /// Run the bridge compiled for this guard.
    Enter(LoopToken),
    /// The guard is hot: record a bridge from where it resumes.
    TraceBridge,
}

/// Why a trace was given up; counted per reason in [`Stats`].
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum AbortReason {
    /// The trace reached [`JitParams::trace_limit`] ops.
    TooLong,
    /// The frame the trace started in returned or was unwound before the loop closed.
    LeftEntryFrame,
    /// The interpreter did something its recording context cannot record (named).
    Unsupported(String),
}

impl fmt::Display for AbortReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AbortReason::TooLong => f.write_str("trace too long"),
            AbortReason::LeftEntryFrame => f.write_str("left the frame the trace started in"),
            AbortReason::Unsupported(what) => write!(f, "unsupported: {what}"),
        }
    }
}

/// What the driver counted, for `--jit-stats` and the log's summary.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    pub traces_started: u32,
    pub loops_compiled: u32,
    pub bridges_compiled: u32,
    /// Failures of compiled guards (those that ran a bridge included).
    pub guard_failures: u64,
    /// Ops recorded by the traces that ended (the recorder counts them against the limit).
    pub ops_recorded: u64,
    /// Aborted traces by reason (its `Display` text).
    pub aborts: BTreeMap<String, u32>,
    /// Positions that aborted [`JitParams::max_aborts`] times and are no longer traced.
    pub blacklisted: u32,
    pub loops_invalidated: u32,
}

impl Stats {
    pub fn total_aborts(&self) -> u32 {
        self.aborts.values().sum()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Status {
    Counting(u32),
    Compiled(LoopToken),
    Blacklisted,
}

#[derive(Clone, Copy, Debug)]
struct Entry {
    status: Status,
    aborts: u32,
}

/// A compiled guard's failures and its bridge (`Status::Compiled`), counted as positions are.
type GuardEntry = Entry;


/// The JIT driver: one per interpreter instance.
#[derive(Debug)]
pub struct Driver<P: Position> {
    params: JitParams,
    positions: FxHashMap<P, Entry>,
    /// Where the trace being recorded started: a position, or (a bridge) a compiled guard.
    tracing: Option<Start<P>>,
    guards: FxHashMap<(LoopToken, u32), GuardEntry>,
    stats: Stats,
}

#[derive(Clone, Copy, Debug)]
enum Start<P> {
    Position(P),
    Guard(LoopToken, u32),
}

impl<P: Position> Driver<P> {
    pub fn new(params: JitParams) -> Self {
        Driver { params, positions: FxHashMap::default(), tracing: None, guards: FxHashMap::default(), stats: Stats::default() }
    }

    pub fn params(&self) -> &JitParams {
        &self.params
    }

    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// Whether a trace is being recorded.
    pub fn is_tracing(&self) -> bool {
        self.tracing.is_some()
    }

    /// Called at every loop header the interpreter reaches, with its green key.
    pub fn merge_point(&mut self, at: P) -> Action {
        if let Some(start) = self.tracing {
            return match start {
                Start::Position(p) if p == at => Action::CloseLoop,
                _ => Action::KeepTracing,
            };
        }
        let threshold = self.params.threshold;
        let entry = self.positions.entry(at).or_insert(Entry { status: Status::Counting(0), aborts: 0 });
        match entry.status {
            Status::Compiled(token) => Action::Enter(token),
            Status::Blacklisted => Action::Interpret,
            Status::Counting(n) if n + 1 >= threshold => {
                entry.status = Status::Counting(0);
                self.tracing = Some(Start::Position(at));
                self.stats.traces_started += 1;
                Action::StartTracing
            }
            Status::Counting(n) => {
                entry.status = Status::Counting(n + 1);
                Action::Interpret
            }
        }
    }

    /// The compiled loop at position `at`, if it has one.
    pub fn compiled_at(&self, at: P) -> Option<LoopToken> {
        match self.positions.get(&at)?.status {
            Status::Compiled(token) => Some(token),
            _ => None,
        }
    }

    /// Called when guard `guard` of compiled trace `token` failed: runs its bridge if it has
    /// one, or says to record one when it has failed [`JitParams::trace_eagerness`] times
    /// (a bridge is then under way, ended by [`Driver::compiled`] or [`Driver::abort`]).
    pub fn guard_failed(&mut self, token: LoopToken, guard: u32) -> GuardAction {
        self.stats.guard_failures += 1;
        if self.tracing.is_some() {
            return GuardAction::Interpret;
        }
        let eagerness = self.params.trace_eagerness;
        let entry = self.guards.entry((token, guard)).or_insert(Entry { status: Status::Counting(0), aborts: 0 });
        match entry.status {
            Status::Compiled(bridge) => GuardAction::Enter(bridge),
            Status::Blacklisted => GuardAction::Interpret,
            Status::Counting(n) if n + 1 >= eagerness => {
                entry.status = Status::Counting(0);
                self.tracing = Some(Start::Guard(token, guard));
                self.stats.traces_started += 1;
                GuardAction::TraceBridge
            }
            Status::Counting(n) => {
                entry.status = Status::Counting(n + 1);
                GuardAction::Interpret
            }
        }
    }

    /// Gives up the trace under way after `ops` recorded ops. Its position (or guard) counts
    /// again from zero, or is blacklisted after [`JitParams::max_aborts`] aborts.
    pub fn abort(&mut self, reason: AbortReason, ops: usize) {
        let Some(start) = self.tracing.take() else { return };
        self.stats.ops_recorded += ops as u64;
        *self.stats.aborts.entry(reason.to_string()).or_insert(0) += 1;
        let e = match start {
            Start::Position(p) => self.positions.get_mut(&p),
            Start::Guard(t, g) => self.guards.get_mut(&(t, g)),
        };
        if let Some(e) = e {
            e.aborts += 1;
            if e.aborts >= self.params.max_aborts {
                e.status = Status::Blacklisted;
                self.stats.blacklisted += 1;
            }
        }
    }

    /// The trace under way ended after `ops` recorded ops and was compiled as `token`: later
    /// arrivals at its position enter it (a bridge: later failures of its guard run it).
    pub fn compiled(&mut self, token: LoopToken, ops: usize) {
        let Some(start) = self.tracing.take() else { return };
        self.stats.ops_recorded += ops as u64;
        let e = match start {
            Start::Position(p) => {
                self.stats.loops_compiled += 1;
                self.positions.get_mut(&p)
            }
            Start::Guard(t, g) => {
                self.stats.bridges_compiled += 1;
                self.guards.get_mut(&(t, g))
            }
        };
        if let Some(e) = e {
            e.status = Status::Compiled(token);
        }
    }

    /// Forgets a compiled loop (a quasi-immutable field it relied on changed): its position
    /// counts again and may be traced anew.
    pub fn invalidate(&mut self, token: LoopToken) {
        for e in self.positions.values_mut().chain(self.guards.values_mut()) {
            if e.status == Status::Compiled(token) {
                e.status = Status::Counting(0);
                self.stats.loops_invalidated += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests;
