//! tracelab's optimizer: a registry of passes by name, and the [`manager`] that runs a pipeline
//! of them with verification, printing, timing and statistics between passes.
//!
//! Each pass is one module with a `//!` doc stating what it does, what it assumes and what it
//! guarantees, and one entry point over a module ([`Pass::run`]).

pub mod close_loops;
pub mod cse;
pub mod dce;
pub mod escape;
pub mod fold;
pub mod guards;
pub mod heap;
pub mod inline;
pub mod intbounds;
pub mod lazy_stores;
pub mod loop_params;
pub mod manager;
pub mod strip_debug;
pub mod unroll;
pub mod virtualize;

use std::collections::BTreeMap;
use tracelab_ir::facts::ModuleFacts;
use tracelab_ir::Module;

/// Counters a pass reports (`--stats`): name → amount, e.g. `"ops removed" → 12`.
#[derive(Default, Debug, Clone, PartialEq)]
pub struct Stats(pub BTreeMap<&'static str, i64>);

impl Stats {
    pub fn add(&mut self, what: &'static str, n: i64) {
        *self.0.entry(what).or_default() += n;
    }
}

/// What a pass is given besides the module (facts about it, computed once), and what it may
/// report besides the module it rewrote.
pub struct PassContext {
    /// Open labels and bridged guards of the module as the pass received it.
    pub facts: std::sync::Arc<ModuleFacts>,
    pub stats: Stats,
    /// Optimization remarks: what was done, or why not (`--remarks`).
    pub remarks: Vec<String>,
    /// Someone will read the remarks: a pass that would make one per op may skip formatting
    /// them otherwise (a pass making a few makes them anyway).
    pub want_remarks: bool,
}

impl PassContext {
    /// A context for running a pass on `m`: the module's facts computed once, for every trace.
    pub fn new(m: &Module, want_remarks: bool) -> PassContext {
        PassContext { facts: std::sync::Arc::new(ModuleFacts::of(m)), stats: Stats::default(), remarks: Vec::new(), want_remarks }
    }
}

/// An optimization or cleanup over a module.
pub trait Pass {
    fn run(&self, m: &mut Module, cx: &mut PassContext);
}

/// A pass's options, from `name<key=value;key=value>` in a pipeline.
pub type PassOptions = BTreeMap<String, String>;

/// A registry entry.
pub struct PassInfo {
    pub name: &'static str,
    pub description: &'static str,
    pub make: fn(&PassOptions) -> Result<Box<dyn Pass>, String>,
}

/// For passes without options: any option is an error.
fn plain<P: Pass + 'static>(name: &str, opts: &PassOptions, p: P) -> Result<Box<dyn Pass>, String> {
    match opts.keys().next() {
        Some(k) => Err(format!("{name} takes no options (got `{k}`)")),
        None => Ok(Box::new(p)),
    }
}

/// Every pass, by name.
pub static REGISTRY: &[PassInfo] = &[
    PassInfo { name: "close-loops", description: "make the values a loop body uses from before its label into label parameters", make: |o| plain("close-loops", o, close_loops::CloseLoops) },
    PassInfo { name: "cse", description: "reuse the result of an identical earlier pure op or elidable call", make: |o| plain("cse", o, cse::Cse) },
    PassInfo { name: "dce", description: "remove pure ops and side-effect-free reads whose results nobody uses", make: |o| plain("dce", o, dce::Dce) },
    PassInfo { name: "escape", description: "escape analysis: allocations that do not escape become virtual; guards describe them", make: |o| plain("escape", o, escape::EscapePass) },
    PassInfo { name: "fold", description: "constant folding and algebraic simplification; guards on constants removed", make: |o| plain("fold", o, fold::Fold) },
    PassInfo { name: "guards", description: "remove guards that earlier guards imply (nullness, class)", make: |o| plain("guards", o, guards::Guards) },
    PassInfo { name: "heap", description: "forward stores and earlier loads to loads, by descr, invalidated by calls that may write", make: |o| plain("heap", o, heap::Heap) },
    PassInfo { name: "intbounds", description: "integer ranges: decided comparisons and guards removed, overflow checks that cannot fail dropped", make: |o| plain("intbounds", o, intbounds::IntBounds) },
    PassInfo { name: "loop-params", description: "label parameters every edge gives the same value become that value", make: |o| plain("loop-params", o, loop_params::LoopParams) },
    PassInfo { name: "inline", description: "inline calls to loop-less trace functions (options: max-depth, budget)", make: |o| Ok(Box::new(inline::Inline::from_options(o)?)) },
    PassInfo { name: "unroll", description: "loop peeling: preamble, label, body; invariant inputs and constants are not carried", make: |o| plain("unroll", o, unroll::Unroll) },
    PassInfo { name: "virtualize", description: "virtualizable elimination: the declared frame's fields and array items become SSA values", make: |o| plain("virtualize", o, virtualize::Virtualize) },
    PassInfo { name: "strip-debug", description: "remove debug_merge_point, jit_debug and portal-frame markers", make: |o| plain("strip-debug", o, strip_debug::StripDebug) },
];

/// The default pipeline (`-O`), in order. Defined here and nowhere else.
///
/// Frame first (`virtualize` turns frame traffic into values the rest can see through), then
/// `inline` (callee bodies become visible), `unroll` (a first iteration for everything after
/// it to learn from), `cse` (so that two reads of one thread-local state, through two
/// loop-invariant calls, are reads of one object), `escape` (allocations, including those
/// carried around the loop), `loop-params` (what a loop carries unchanged becomes the value
/// itself, so `heap` sees one object), `heap` (loads of what was stored or loaded before,
/// loop-invariant and loop-carried loads, stores held back), `loop-params` again (for what
/// `heap` carried), `fold`,
/// `cse` (on the values those left, so equal conditions become one value), `intbounds` (ranges
/// from the guards that are left decide comparisons and overflow checks), `guards` (checks
/// earlier ones imply, including the preamble's), `dce` (what all of them made dead), and
/// `close-loops` last (the body's uses of preamble values become label parameters).
pub const DEFAULT_PIPELINE: &[&str] =
    &["virtualize", "inline", "unroll", "cse", "escape", "loop-params", "heap", "loop-params", "fold", "cse", "intbounds", "guards", "dce", "close-loops"];

pub fn find(name: &str) -> Option<&'static PassInfo> {
    REGISTRY.iter().find(|p| p.name == name)
}

/// Runs `f` on every trace, which it edits in place (see [`tracelab_ir::cursor`]). While `f`
/// runs, the module holds an empty stand-in for that trace: such a pass reads only the
/// module's descrs and functions.
pub fn edit_traces(m: &mut Module, mut f: impl FnMut(&Module, &mut tracelab_ir::Trace)) {
    for id in m.traces.keys().collect::<Vec<_>>() {
        let stand_in = tracelab_ir::Trace::new(String::new(), m.traces[id].kind.clone());
        let mut t = std::mem::replace(&mut m.traces[id], stand_in);
        f(m, &mut t);
        m.traces[id] = t;
    }
}
