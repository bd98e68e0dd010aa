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
mod lower;

pub use exits::{ExitInfo, ExitKind};
pub use lower::LowerStats;

use cranelift_codegen::settings::{self, Configurable};
use cranelift_codegen::Context;
use cranelift_frontend::FunctionBuilderContext;
use cranelift_jit::{JITBuilder, JITModule};
use cranelift_module::{Linkage, Module as _};
use std::time::{Duration, Instant};
use tracelab_ir::{Module, TraceId};
use tracelab_runtime::interp::{Config, Run};
use tracelab_runtime::native::{Leave, NativeCtx, NativeRun};

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

/// A compiled trace. Owns its code: dropping it frees the code.
pub struct Compiled {
    module: Option<JITModule>,
    entry: unsafe extern "C" fn(*mut NativeCtx) -> u32,
    pub exits: Vec<ExitInfo>,
    pub stats: LowerStats,
    /// Cranelift IR before Cranelift's own passes, when asked for.
    pub clif: Option<String>,
    /// The machine code as text, when asked for.
    pub asm: Option<String>,
    /// Time building Cranelift IR from the trace.
    pub lower_time: Duration,
    /// Time in Cranelift (optimization, register allocation, emission) and linking.
    pub codegen_time: Duration,
    /// Bytes of machine code.
    pub code_size: usize,
}

impl Drop for Compiled {
    fn drop(&mut self) {
        if let Some(m) = self.module.take() {
            // SAFETY: the entry pointer dies with `self`; nothing else points into the code.
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

/// Compiles trace `tid` of `m`.
pub fn compile(m: &Module, tid: TraceId, settings: Settings, keep: Keep) -> Result<Compiled, BackendError> {
    let isa = isa(settings)?;
    let call_conv = isa.default_call_conv();
    let mut jb = JITBuilder::with_isa(isa, cranelift_module::default_libcall_names());
    for (name, ptr) in tracelab_runtime::native::services() {
        jb.symbol(name, ptr);
    }
    let mut module = JITModule::new(jb);
    let service_sig = lower::service_signature(call_conv);
    let step = module.declare_function("tl_step", Linkage::Import, &service_sig).map_err(|e| err("declaring tl_step")(e.to_string()))?;
    let class_of = module.declare_function("tl_class_of", Linkage::Import, &service_sig).map_err(|e| err("declaring tl_class_of")(e.to_string()))?;
    let sig = lower::trace_signature(call_conv);
    let name = format!("trace_{}", m.traces[tid].name);
    let id = module.declare_function(&name, Linkage::Local, &sig).map_err(|e| err("declaring the trace")(e.to_string()))?;

    let started = Instant::now();
    let mut ctx: Context = module.make_context();
    ctx.func.signature = sig;
    let mut fctx = FunctionBuilderContext::new();
    let target = module.target_config();
    let lowered = lower::lower(m, tid, &mut ctx.func, &mut fctx, target, |func| lower::Services {
        step: module.declare_func_in_func(step, func),
        class_of: module.declare_func_in_func(class_of, func),
    });
    let clif = keep.clif.then(|| ctx.func.display().to_string());
    let lower_time = started.elapsed();

    let started = Instant::now();
    ctx.set_disasm(keep.asm);
    module.define_function(id, &mut ctx).map_err(|e| BackendError(format!("Cranelift rejected trace `{}`: {e:?}", m.traces[tid].name)))?;
    let compiled = ctx.compiled_code().expect("defined above");
    let code_size = compiled.code_buffer().len();
    let asm = if keep.asm { compiled.vcode.clone() } else { None };
    module.clear_context(&mut ctx);
    module.finalize_definitions().map_err(|e| err("linking")(e.to_string()))?;
    let ptr = module.get_finalized_function(id);
    let codegen_time = started.elapsed();
    // SAFETY: the function was built with `trace_signature`, which is this type under the
    // target's default (C) calling convention.
    let entry = unsafe { std::mem::transmute::<*const u8, unsafe extern "C" fn(*mut NativeCtx) -> u32>(ptr) };
    Ok(Compiled { module: Some(module), entry, exits: lowered.exits, stats: lowered.stats, clif, asm, lower_time, codegen_time, code_size })
}

impl Compiled {
    /// Runs the compiled trace `tid` of `m` (the one it was compiled from) with `cfg`, and
    /// finishes the run in the runtime after it exits.
    pub fn run(&self, m: &Module, tid: TraceId, cfg: Config) -> Run {
        let mut session = match NativeRun::start(m, cfg, tid) {
            Ok(s) => s,
            Err(run) => return run,
        };
        // SAFETY: the context is live for the call and belongs to a run of the trace this code
        // was compiled from.
        let code = unsafe { (self.entry)(session.ctx()) };
        let leave = match code {
            0 => Leave::Ended,
            n => self.exits[n as usize - 1].leave(),
        };
        session.finish(leave)
    }
}

/// Compiles and runs trace `tid`: `tracelab run --native`.
pub fn run_native(m: &Module, tid: TraceId, cfg: Config, settings: Settings) -> Result<Run, BackendError> {
    let code = compile(m, tid, settings, Keep::default())?;
    Ok(code.run(m, tid, cfg))
}
