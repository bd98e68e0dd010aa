//! tracelab's native backend: traces to machine code through Cranelift.
//!
//! [`compile`] lowers one trace ([`lower`]) into a function `fn(ctx) -> exit number` that runs
//! on the runtime's heap through a [`tracelab_runtime::native::NativeCtx`]; [`run_native`]
//! runs it and lets the runtime decode the exit ([`exits`]) into the same [`Run`] the reference
//! interpreter produces for the same inputs.
//!
//! **Architecture invariant:** compiled code never decides what an op means on its own when
//! the runtime has a definition: ops it does not compute natively are executed by the runtime's
//! implementation (`tl_step`), and side exits are decoded by the interpreter's guard code. So
//! `tracelab run --native` and `tracelab run` can only differ by a backend bug, which the
//! differential tests look for.

pub mod differential;
pub mod exits;
pub mod gc_heap;
mod lower;

pub use exits::{ExitInfo, ExitKind};
pub use lower::LowerStats;

use cranelift_codegen::settings::{self, Configurable};
use cranelift_codegen::Context;
use cranelift_frontend::FunctionBuilderContext;
use cranelift_jit::{JITBuilder, JITModule};
use cranelift_module::{FuncId, Linkage, Module as _};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tracelab_runtime::externals::Externals;
use tracelab_ir::{Module, TraceId};
use tracelab_runtime::interp::{Config, Run};
use tracelab_ir::entity::EntityRef;
pub use tracelab_runtime::native::NativeCounts;
use tracelab_runtime::native::{CodeTable, NativeCode, NativeCtx};

/// Cranelift settings that trade compile time for code quality.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Settings {
    pub opt: OptLevel,
    pub regalloc: Regalloc,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OptLevel {
    None,
    Speed,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Regalloc {
    Backtracking,
    SinglePass,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings { opt: OptLevel::Speed, regalloc: Regalloc::Backtracking }
    }
}

/// What to keep besides the code.
#[derive(Clone, Copy, Debug, Default)]
pub struct Keep {
    pub clif: bool,
    pub asm: bool,
}

/// The backend could not compile a trace.
#[derive(Debug, Clone, PartialEq)]
pub struct BackendError(pub String);

impl std::fmt::Display for BackendError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for BackendError {}

fn err(what: &str) -> impl Fn(String) -> BackendError + '_ {
    move |e| BackendError(format!("{what}: {e}"))
}

/// The most values a trace may carry into a loop header (its label's parameters and what the
/// loop reads from before it) or take as inputs. Cranelift's time
/// grows with the square of the values live at once (2,500: 0.3 s, 5,000: 2 s, 10,000: 8 s,
/// 30,000: 84 s) and it panics on a block of about 65,536 parameters; PyPy's traces carry a few
/// hundred at most.
pub const MAX_CARRIED_VALUES: usize = 10_000;

/// A clear error for a trace beyond what the backend handles (never a panic inside Cranelift).
fn check_size(t: &tracelab_ir::Trace) -> Result<(), BackendError> {
    let carried = lower::most_carried(t);
    if carried > MAX_CARRIED_VALUES {
        return Err(BackendError(format!(
            "trace `{}` carries {carried} values into a loop or takes them as inputs; the backend compiles at most {MAX_CARRIED_VALUES}",
            t.name
        )));
    }
    Ok(())
}

/// Compiled traces of one module. Owns their code: dropping it frees the code.
pub struct Compiled {
    jit: Jit,
    /// The module the code was compiled from: compiled code reads its slots and exits by this
    /// module's numbering, so runs use this copy and no other (a safe API cannot pair code with
    /// a module it was not made for).
    source: Arc<Module>,
    /// By trace index: the traces compiled.
    traces: Vec<Option<CompiledTrace>>,
    /// The same code as the runtime enters it.
    table: CodeTable,
    /// The external functions compiled code calls directly (runs use them, whatever their
    /// config says, so that the interpreter's part of a run calls the same ones).
    externals: Arc<Externals>,
    /// What to keep of traces compiled later ([`Compiled::add_trace`]).
    keep: Keep,
    /// Time linking the functions (once per batch compiled).
    pub link_time: Duration,
}

/// One compiled trace.
pub struct CompiledTrace {
    pub exits: Vec<ExitInfo>,
    /// Ops where the function can be entered (0 and the op after each label).
    pub entries: Vec<usize>,
    pub stats: LowerStats,
    /// Cranelift IR before Cranelift's own passes, when asked for.
    pub clif: Option<String>,
    /// The machine code as text, when asked for.
    pub asm: Option<String>,
    /// Time building Cranelift IR from the trace.
    pub lower_time: Duration,
    /// Time in Cranelift (optimization, register allocation, emission).
    pub codegen_time: Duration,
    /// Bytes of machine code.
    pub code_size: usize,
}

impl Drop for Compiled {
    fn drop(&mut self) {
        if let Some(m) = self.jit.module.take() {
            // SAFETY: the entry pointers die with `self`; nothing else points into the code.
            unsafe { m.free_memory() };
        }
    }
}

fn isa(settings: Settings) -> Result<std::sync::Arc<dyn cranelift_codegen::isa::TargetIsa>, BackendError> {
    let mut fb = settings::builder();
    let opt = match settings.opt {
        OptLevel::None => "none",
        OptLevel::Speed => "speed",
    };
    let ra = match settings.regalloc {
        Regalloc::Backtracking => "backtracking",
        Regalloc::SinglePass => "single_pass",
    };
    fb.set("opt_level", opt).map_err(|e| err("opt_level")(e.to_string()))?;
    fb.set("regalloc_algorithm", ra).map_err(|e| err("regalloc_algorithm")(e.to_string()))?;
    let native = cranelift_native::builder().map_err(|e| err("host machine")(e.to_string()))?;
    native.finish(settings::Flags::new(fb)).map_err(|e| err("target")(e.to_string()))
}

/// Compiles every trace of `m` (bridges and functions too): a guard's bridge and a loop
/// another trace jumps into run as compiled code.
pub fn compile(m: &Module, settings: Settings, keep: Keep) -> Result<Compiled, BackendError> {
    let all: Vec<TraceId> = m.traces.iter().map(|(t, _)| t).collect();
    compile_traces(m, &all, settings, keep)
}

/// Compiles the traces `tids` of `m`; the others run in the interpreter when entered.
pub fn compile_traces(m: &Module, tids: &[TraceId], settings: Settings, keep: Keep) -> Result<Compiled, BackendError> {
    compile_with(m, tids, settings, keep, Arc::new(Externals::standard()))
}

/// [`compile_traces`] with calls of the functions `externals` registers as direct calls; runs
/// of the result use them in the interpreter too.
pub fn compile_with(m: &Module, tids: &[TraceId], settings: Settings, keep: Keep, externals: Arc<Externals>) -> Result<Compiled, BackendError> {
    let jit = Jit::new(settings, &externals)?;
    let table = CodeTable { traces: Vec::new() };
    let mut code = Compiled { jit, source: Arc::new(m.clone()), traces: Vec::new(), table, externals, keep, link_time: Duration::ZERO };
    code.define(tids)?;
    Ok(code)
}

/// The Cranelift JIT module compiled traces live in, with what every trace's function calls
/// declared once: the runtime's services and the external functions.
struct Jit {
    module: Option<JITModule>,
    step: FuncId,
    class_of: FuncId,
    extern_ids: HashMap<String, FuncId>,
    sig: cranelift_codegen::ir::Signature,
    /// Functions defined so far (each trace's function gets a fresh name).
    functions: usize,
}

impl Jit {
    fn new(settings: Settings, externals: &Externals) -> Result<Jit, BackendError> {
        let isa = isa(settings)?;
        let call_conv = isa.default_call_conv();
        let mut jb = JITBuilder::with_isa(isa, cranelift_module::default_libcall_names());
        for (name, ptr) in tracelab_runtime::native::services() {
            jb.symbol(name, ptr);
        }
        for (name, f) in externals.iter() {
            jb.symbol(extern_symbol(name), f.addr());
        }
        let mut module = JITModule::new(jb);
        let mut extern_ids = HashMap::new();
        for (name, f) in externals.iter() {
            let sig = lower::extern_signature(call_conv, f.params.len());
            let id = module.declare_function(&extern_symbol(name), Linkage::Import, &sig).map_err(|e| err("declaring an external function")(e.to_string()))?;
            extern_ids.insert(name.to_string(), id);
        }
        let service_sig = lower::service_signature(call_conv);
        let step = module.declare_function("tl_step", Linkage::Import, &service_sig).map_err(|e| err("declaring tl_step")(e.to_string()))?;
        let class_of = module.declare_function("tl_class_of", Linkage::Import, &service_sig).map_err(|e| err("declaring tl_class_of")(e.to_string()))?;
        let sig = lower::trace_signature(call_conv);
        Ok(Jit { module: Some(module), step, class_of, extern_ids, sig, functions: 0 })
    }

    fn module(&mut self) -> &mut JITModule {
        self.module.as_mut().expect("the JIT module lives until the code is dropped")
    }

    /// Lowers trace `tid` of `m` and has Cranelift compile it (not yet linked).
    fn define(&mut self, m: &Module, tid: TraceId, keep: Keep, externals: &Externals) -> Result<(FuncId, CompiledTrace), BackendError> {
        let t = &m.traces[tid];
        check_size(t)?;
        let name = format!("trace{}", self.functions);
        self.functions += 1;
        let (sig, step, class_of) = (self.sig.clone(), self.step, self.class_of);
        let module = self.module.as_mut().expect("the JIT module lives until the code is dropped");
        let id = module.declare_function(&name, Linkage::Local, &sig).map_err(|e| err("declaring a trace")(e.to_string()))?;
        let mut ctx: Context = module.make_context();
        let mut fctx = FunctionBuilderContext::new();
        let started = Instant::now();
        ctx.func.signature = sig;
        let target = module.target_config();
        let extern_ids = &self.extern_ids;
        let lowered = lower::lower(m, tid, &mut ctx.func, &mut fctx, target, |func| lower::Services {
            step: module.declare_func_in_func(step, func),
            class_of: module.declare_func_in_func(class_of, func),
            // Keyed by position in the order, as lowering counts ops.
            externs: t.ops.values().enumerate().filter_map(|(pc, op)| {
                let (name, _) = lower::direct_extern(t, op, externals)?;
                Some((pc, module.declare_func_in_func(extern_ids[name], func)))
            }).collect(),
        });
        let clif = keep.clif.then(|| ctx.func.display().to_string());
        let lower_time = started.elapsed();
        let started = Instant::now();
        ctx.set_disasm(keep.asm);
        module.define_function(id, &mut ctx).map_err(|e| BackendError(format!("Cranelift rejected trace `{}`: {e:?}", t.name)))?;
        let compiled = ctx.compiled_code().expect("defined above");
        let code_size = compiled.code_buffer().len();
        let asm = if keep.asm { compiled.vcode.clone() } else { None };
        module.clear_context(&mut ctx);
        let codegen_time = started.elapsed();
        let trace = CompiledTrace { exits: lowered.exits, entries: lowered.entries, stats: lowered.stats, clif, asm, lower_time, codegen_time, code_size };
        Ok((id, trace))
    }
}

impl Compiled {
    /// Compiles traces `tids` of the source module and links them: the code already there
    /// stays as it is.
    fn define(&mut self, tids: &[TraceId]) -> Result<(), BackendError> {
        let mut defined = Vec::new();
        for &tid in tids {
            defined.push((tid, self.jit.define(&self.source, tid, self.keep, &self.externals)?));
        }
        let started = Instant::now();
        self.jit.module().finalize_definitions().map_err(|e| err("linking")(e.to_string()))?;
        self.link_time += started.elapsed();
        let n = self.source.traces.len();
        self.traces.resize_with(n, || None);
        self.table.traces.resize_with(n, || None);
        for (tid, (id, compiled)) in defined {
            let ptr = self.jit.module().get_finalized_function(id);
            let exits = compiled.exits.iter().map(ExitInfo::leave).collect();
            // SAFETY: the function was built with `trace_signature`, which is this type under
            // the target's default (C) calling convention; it was lowered from trace `tid` of
            // the source module with these entries and exits, and that trace never changes
            // (traces are only ever added to the source).
            let code = unsafe {
                let entry = std::mem::transmute::<*const u8, unsafe extern "C" fn(*mut NativeCtx, u64) -> u32>(ptr);
                NativeCode::new(&self.source.traces[tid], entry, compiled.entries.clone(), exits)
            };
            self.table.traces[tid.index()] = Some(code);
            self.traces[tid.index()] = Some(compiled);
        }
        Ok(())
    }

    /// Adds trace `t` of `from` (a bridge, a loop, a function) to the code: it joins the source
    /// module (its descrs declared there) and is compiled alone into the same code, which keeps
    /// everything compiled before. Runs from then on take a bridge whose guard fails, enter a
    /// loop jumped to, call a function. Its id in [`Compiled::module`].
    pub fn add_trace(&mut self, from: &Module, t: TraceId) -> Result<TraceId, BackendError> {
        let mut source = (*self.source).clone();
        let tid = tracelab_ir::link::copy_trace(&mut source, from, t);
        if let Err(errors) = tracelab_ir::verify(&source) {
            let first = errors.first().map_or_else(String::new, |e| format!(": {}", e.message));
            return Err(BackendError(format!("trace `{}` does not fit the compiled module{first}", from.traces[t].name)));
        }
        // What was compiled keeps its trace: the new source only adds to the old one.
        self.source = Arc::new(source);
        self.define(&[tid])?;
        Ok(tid)
    }

    /// The compiled form of trace `tid`, if it was compiled.
    pub fn trace(&self, tid: TraceId) -> Option<&CompiledTrace> {
        self.traces.get(tid.index()).and_then(Option::as_ref)
    }

    /// Runs trace `tid` of `m` (the module this was compiled from) with `cfg`: compiled code
    /// wherever execution goes (bridges, loops other traces enter), the interpreter for what
    /// was not compiled and for the ops compiled code leaves to it.
    pub fn run(&self, tid: TraceId, cfg: Config) -> Run {
        self.run_counted(tid, cfg).0
    }

    /// The module this code was compiled from (a copy taken when compiling).
    pub fn module(&self) -> &Module {
        &self.source
    }

    /// [`Compiled::run`], and how often compiled code was entered.
    pub fn run_counted(&self, tid: TraceId, cfg: Config) -> (Run, NativeCounts) {
        let cfg = Config { externals: self.externals.clone(), ..cfg };
        tracelab_runtime::native::run(&self.source, cfg, tid, &self.table)
    }
}

/// The symbol compiled code calls external function `name` by.
fn extern_symbol(name: &str) -> String {
    format!("tl_ext_{name}")
}

/// Compiles the module and runs trace `tid`: `tracelab run --native`.
pub fn run_native(m: &Module, tid: TraceId, cfg: Config, settings: Settings) -> Result<Run, BackendError> {
    let code = compile(m, settings, Keep::default())?;
    Ok(code.run(tid, cfg))
}

#[cfg(test)]
mod tests {
    use super::*;

    const PARITY: &str = "loop parity [i0, i1] {
    label(i0, i1, descr=TargetToken(100))
    i2 = int_and(i0, 1)
    i3 = int_is_zero(i2)
    guard_true(i3, descr=<Guard0xa0>) [i0, i1]
    i4 = int_add(i1, 2)
    i5 = int_add(i0, 1)
    i6 = int_lt(i5, 10)
    guard_true(i6, descr=<Guard0xa1>) [i5, i4]
    jump(i5, i4, descr=TargetToken(100))
}
bridge odd from Guard0xa0 [i0, i1] {
    i2 = int_add(i1, 1)
    i3 = int_add(i0, 1)
    jump(i3, i2, descr=TargetToken(100))
}
";

    #[test]
    fn a_bridge_and_the_loop_it_reenters_run_compiled() {
        let m = tracelab_ir::parse(PARITY).unwrap();
        let code = compile(&m, Settings::default(), Keep::default()).unwrap();
        let cfg = Config { args: vec![0, 0], ..Config::default() };
        let (run, counts) = code.run_counted(TraceId::new(0), cfg);
        // Five odd values go through the bridge and back into the loop: 1 + 5 * 2 entries.
        assert_eq!(counts, NativeCounts { entries: 11, interpreted: 0 });
        let tracelab_runtime::interp::Exit::GuardFailed { fail_args, .. } = run.exit else { panic!("{:?}", run.exit) };
        let bits: Vec<u64> = fail_args.iter().map(|v| v.unwrap().bits).collect();
        assert_eq!(bits, vec![11, 17]);
    }

    #[test]
    fn a_bridge_added_to_compiled_code_runs_compiled_from_then_on() {
        let (loop_text, bridge_text) = PARITY.split_at(PARITY.find("bridge").unwrap());
        let m = tracelab_ir::parse(loop_text).unwrap();
        let mut code = compile(&m, Settings::default(), Keep::default()).unwrap();
        let cfg = Config { args: vec![0, 0], ..Config::default() };
        // Without the bridge, the first odd value leaves the loop.
        let (run, counts) = code.run_counted(TraceId::new(0), cfg.clone());
        let tracelab_runtime::interp::Exit::GuardFailed { guard_id, .. } = run.exit else { panic!("{:?}", run.exit) };
        assert_eq!((guard_id, counts.entries), (Some(0xa0), 1));
        let loop_entry = code.table.traces[0].as_ref().map(|c| c.entry_address());
        let from = tracelab_ir::parse(&format!("extern TargetToken(100) [int, int]\n{bridge_text}")).unwrap();
        let tid = code.add_trace(&from, TraceId::new(0)).unwrap();
        assert!(code.trace(tid).is_some());
        // The loop's code is the same; its guard's failures now go on in the compiled bridge,
        // and the run ends as the interpreter's run of loop and bridge together does.
        assert_eq!(code.table.traces[0].as_ref().map(|c| c.entry_address()), loop_entry);
        let (run, counts) = code.run_counted(TraceId::new(0), cfg.clone());
        assert_eq!(counts, NativeCounts { entries: 11, interpreted: 0 });
        let both = tracelab_ir::parse(PARITY).unwrap();
        let interp = tracelab_runtime::interp::Interp::new(&both, cfg).run(TraceId::new(0));
        assert_eq!(tracelab_runtime::render::report(&run), tracelab_runtime::render::report(&interp));
    }

    #[test]
    fn a_trace_that_does_not_fit_is_not_added() {
        let m = tracelab_ir::parse(PARITY).unwrap();
        let mut code = compile(&m, Settings::default(), Keep::default()).unwrap();
        // Its jump gives the loop's label one value where it takes two.
        let from = tracelab_ir::parse("extern TargetToken(100) [int]\nbridge b from Guard0xa1 [i0, i1] {\n    jump(i0, descr=TargetToken(100))\n}\n").unwrap();
        let e = code.add_trace(&from, TraceId::new(0)).err().expect("refused");
        assert!(e.to_string().contains("does not fit"), "{e}");
        assert_eq!(code.module().traces.len(), 2);
    }

    #[test]
    fn fuel_hands_over_to_the_interpreter_at_the_same_op() {
        let m = tracelab_ir::parse(PARITY).unwrap();
        let code = compile(&m, Settings::default(), Keep::default()).unwrap();
        for fuel in [0, 1, 5, 17, 40] {
            let cfg = Config { args: vec![0, 0], fuel, ..Config::default() };
            let native = code.run(TraceId::new(0), cfg.clone());
            let interp = tracelab_runtime::interp::Interp::new(&m, cfg).run(TraceId::new(0));
            assert_eq!(tracelab_runtime::render::report(&native), tracelab_runtime::render::report(&interp), "fuel {fuel}");
        }
    }

    const CALLER: &str = "descr fn = <Calli 8 i EF=2>
func twice [i0] -> int {
    i1 = int_add(i0, i0)
    finish(i1)
}
loop sum [i0, i1] {
    label(i0, i1, descr=TargetToken(7))
    i2 = call_i(@twice, i0, descr=fn)
    i3 = int_add(i1, i2)
    i4 = int_add(i0, 1)
    i5 = int_lt(i4, 4)
    guard_true(i5, descr=<Guard0x1>) [i4, i3]
    jump(i4, i3, descr=TargetToken(7))
}
";

    #[test]
    fn a_called_trace_function_runs_compiled() {
        let m = tracelab_ir::parse(CALLER).unwrap();
        let code = compile(&m, Settings::default(), Keep::default()).unwrap();
        let cfg = Config { args: vec![0, 0], ..Config::default() };
        let tid = m.trace_by_name("sum").unwrap();
        let (run, counts) = code.run_counted(tid, cfg);
        // The loop once, the callee once per iteration (4 calls).
        assert_eq!(counts, NativeCounts { entries: 5, interpreted: 0 });
        let tracelab_runtime::interp::Exit::GuardFailed { fail_args, .. } = run.exit else { panic!("{:?}", run.exit) };
        assert_eq!(fail_args.iter().map(|v| v.unwrap().bits).collect::<Vec<_>>(), vec![4, 12]);
    }

    extern "C" fn add3(a: u64, b: u64, c: u64) -> u64 {
        a.wrapping_add(b).wrapping_add(c)
    }

    #[test]
    fn a_registered_external_function_is_called_directly() {
        let src = "descr f = <Calli 8 iii EF=2>
loop l [i0] {
    i1 = call_i(ConstClass(add3), i0, 10, 100, descr=f)
    guard_false(1, descr=<Guard0x1>) [i1]
    finish()
}
";
        let m = tracelab_ir::parse(src).unwrap();
        let mut ext = Externals::none();
        // SAFETY: `add3` takes three words and returns one, and touches no heap.
        unsafe { ext.register("add3", add3 as *const u8, &[tracelab_ir::Type::Int; 3], tracelab_ir::Type::Int).unwrap() };
        let tid = TraceId::new(0);
        let code = compile_with(&m, &[tid], Settings::default(), Keep::default(), Arc::new(ext)).unwrap();
        // The call is native: only `finish` is left to the runtime.
        assert_eq!(code.trace(tid).unwrap().stats.runtime_ops, 1);
        let run = code.run(tid, Config { args: vec![1], ..Config::default() });
        let tracelab_runtime::interp::Exit::GuardFailed { fail_args, .. } = run.exit else { panic!("{:?}", run.exit) };
        assert_eq!(fail_args[0].unwrap().bits, 111);
        assert!(run.events.is_empty(), "a registered function is not an event");
        // Without the registration the call is modelled: an event with an invented result.
        let run = compile(&m, Settings::default(), Keep::default()).unwrap().run(tid, Config { args: vec![1], ..Config::default() });
        assert_eq!(run.events.len(), 1);
    }
}
