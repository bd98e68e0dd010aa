//! Compiled code for loop traces that run on a moving GC heap ([`tracelab_runtime::gc::Heap`]),
//! the memory a live interpreter's objects are in (minipy's).
//!
//! A reference is a word index into the heap: a field at byte offset `o` of object `r` is the
//! word `r + o / 8`. Every access checks its index against the heap's length first and, out of
//! it, ends the run as a trap, so the code touches no memory the heap does not own whatever
//! its inputs are: that is what makes [`HeapCode::run`] a safe function. A `guard_class`
//! compares the header's low 16 bits (the layout id) with the id [`HeapTarget`] gives the
//! class; a `ConstPtr` is read from the table of constants the caller passes on each entry
//! (objects move between runs).
//!
//! What is compiled: the pure ops ([`crate::lower::pure`]), loads and stores of word fields and
//! array items, guards, `label` and the `jump` back to it, and what needs the GC's cooperation:
//! calls of the frontend's functions (`call_*` of `ConstClass(name)`, numbered by
//! [`HeapTarget::functions`], made through [`HeapEnv::call`]), allocations (`new_with_vtable`,
//! [`HeapEnv::alloc`]) and reference stores (the write barrier's check inline, its slow path a
//! call). A collection can happen in any call: every reference live across it is spilled to a
//! buffer that the call roots on the heap's shadow stack and read back after it (the GC has
//! updated it), and the heap's place and the constants are read again. References are kept in
//! Cranelift variables, so a reference reloaded in the loop body is the one the next iteration
//! sees. Anything else makes [`compile`] refuse the trace, naming the op, and the frontend keeps
//! interpreting it. A guard that fails returns its number with its fail args; the frontend
//! decodes the resume data.

use crate::lower::pure::{self, PureLowering};
use crate::{err, isa, BackendError, Settings};
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{self, types, AbiParam, Block, InstBuilder, MemFlagsData, Signature};
use cranelift_codegen::isa::TargetFrontendConfig;
use cranelift_codegen::Context;
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext, Variable};
use cranelift_jit::{JITBuilder, JITModule};
use cranelift_module::{Linkage, Module as _};
use std::collections::HashMap;
use tracelab_ir::descr::{DescrData, MemKind};
use tracelab_ir::entity::EntityRef;
use tracelab_ir::trace::ValueDef;
use tracelab_ir::{Const, Module, Op, OpId, Opcode, Trace, TraceId, Type, Value};
use tracelab_runtime::gc::{flags, Heap, Ref};

/// What the backend needs to know about the frontend's heap.
#[derive(Clone, Debug, Default)]
pub struct HeapTarget {
    /// The layout id of each class a `guard_class` or an allocation names (`ConstClass(name)`,
    /// a size descr's `class=`).
    pub classes: HashMap<String, u16>,
    /// The frontend's functions traces call, by the name of their `ConstClass` target.
    pub functions: HashMap<String, u32>,
    /// Compile guards to also fail when the run's countdown ([`HeapEnv::guard_countdown`])
    /// reaches them, though their conditions hold: a test mode for the resume path (a guard
    /// resumes before the bytecode it is in, so failing one that would pass only redoes
    /// work). Not `guard_no_exception`, nor a guard on a call's result: those resume where
    /// the call would run again, which is right only when the guard fails for real (a
    /// frontend lets a trace branch on a call with effects only then).
    pub random_guard_failures: bool,
}

/// What compiled code asks of the frontend while it runs.
pub trait HeapEnv {
    fn heap(&mut self) -> &mut Heap;
    /// Calls function `f` ([`HeapTarget::functions`]) with one word per argument; `Err` when
    /// it raised (the frontend keeps the exception; the trace's `guard_no_exception` fails).
    fn call(&mut self, f: u32, args: &[u64]) -> Result<u64, ()>;
    /// A new object of `layout`, zeroed but for its header; `Err` when there is no room.
    fn alloc(&mut self, layout: u16) -> Result<u64, ()>;
    /// The current word of each constant (a collection may have moved them: asked on a run's
    /// first entry and after each collection).
    fn constants(&mut self, out: &mut [u64]);
    /// With [`HeapTarget::random_guard_failures`]: the guard check at which this run fails
    /// (1 the first; 0 never).
    fn guard_countdown(&mut self) -> u64 {
        0
    }
}

/// The context compiled code gets: where the heap is, the constants and inputs, where a
/// failing guard leaves its fail args, and the buffers a call uses.
#[repr(C)]
struct HeapCtx {
    base: *mut u64,
    words: u64,
    consts: *mut u64,
    inputs: *const u64,
    exit_values: *mut u64,
    args: *mut u64,
    spill: *mut u64,
    /// Set by a call that raised, cleared by the next call.
    exception: u64,
    /// A `*mut &mut dyn HeapEnv` (thin), valid during the run.
    env: *mut u8,
    nconsts: u64,
    /// Guard checks left before one fails regardless (random guard failures; 0: never).
    countdown: u64,
}

const CTX_BASE: i32 = 0;
const CTX_WORDS: i32 = 8;
const CTX_CONSTS: i32 = 16;
const CTX_INPUTS: i32 = 24;
const CTX_EXIT_VALUES: i32 = 32;
const CTX_ARGS: i32 = 40;
const CTX_SPILL: i32 = 48;
const CTX_EXCEPTION: i32 = 56;
const CTX_COUNTDOWN: i32 = 80;

/// What compiled code returns for an access outside the heap or an allocation that failed.
const TRAP: i64 = -1;
/// What compiled code returns when it reaches its `finish`.
const FINISHED: i64 = -2;

/// How a run of compiled code ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HeapExit {
    /// Guard number `index` (in trace order, see [`HeapCode::guards`]) failed; its fail args'
    /// bits (0 for a dead one).
    Guard { index: usize, values: Vec<u64> },
    /// The trace reached its `finish` (a trace that is not a loop: a bridge, or one that
    /// leads into another loop).
    Finished,
    /// An access fell outside the heap (the inputs were not what the trace's guards assume),
    /// or an allocation found no room.
    Trap,
}

/// A compiled loop. Owns its code: dropping it frees the code.
pub struct HeapCode {
    module: Option<JITModule>,
    entry: unsafe extern "C" fn(*mut u8) -> i64,
    /// The guards in trace order: the op and how many fail args it hands back.
    pub guards: Vec<(OpId, usize)>,
    /// The `ConstPtr` names, in the order [`HeapEnv::constants`] gives their words.
    pub consts: Vec<String>,
    inputs: usize,
    most_args: usize,
    most_spilled: usize,
    pub code_size: usize,
    /// The buffers a run uses, kept for the next run (a loop left by a guard at every few
    /// iterations is entered often).
    buffers: std::cell::RefCell<Buffers>,
}

#[derive(Default)]
struct Buffers {
    exit_values: Vec<u64>,
    consts: Vec<u64>,
    args: Vec<u64>,
    spill: Vec<u64>,
    /// The heap's collection count when `consts` was last right: constants move only in a
    /// collection, so a run asks for them again only after one.
    consts_at: Option<u64>,
}

/// Collections the heap has run (minor and major).
fn collections(h: &Heap) -> u64 {
    h.stats().minor_collections + h.stats().major_collections
}

impl std::fmt::Debug for HeapCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HeapCode").field("guards", &self.guards.len()).field("consts", &self.consts).field("code_size", &self.code_size).finish()
    }
}

impl Drop for HeapCode {
    fn drop(&mut self) {
        if let Some(m) = self.module.take() {
            // SAFETY: the entry pointer dies with `self`; nothing else points into the code.
            unsafe { m.free_memory() };
        }
    }
}

impl HeapCode {
    /// How many words a run takes (one per trace input).
    pub fn inputs(&self) -> usize {
        self.inputs
    }

    /// Runs the loop on `env`'s heap from `inputs` (one word per trace input) until a guard
    /// fails.
    pub fn run(&self, env: &mut dyn HeapEnv, inputs: &[u64]) -> HeapExit {
        assert_eq!(inputs.len(), self.inputs, "one word per input");
        // A run nested in one of this code's calls (a frontend may allow it) gets its own.
        let mut taken = self.buffers.try_borrow_mut().map(|mut b| std::mem::take(&mut *b)).unwrap_or_default();
        let most = self.guards.iter().map(|g| g.1).max().unwrap_or(0);
        let Buffers { exit_values, consts, args, spill, consts_at } = &mut taken;
        exit_values.resize(most.max(1), 0);
        let now = collections(env.heap());
        if *consts_at != Some(now) || consts.len() < self.consts.len() {
            consts.resize(self.consts.len().max(1), 0);
            env.constants(&mut consts[..self.consts.len()]);
        }
        args.resize(self.most_args.max(1), 0);
        spill.resize(self.most_spilled.max(1), 0);
        let (base, words) = env.heap().raw_words();
        let mut env_ref: &mut dyn HeapEnv = env;
        let mut ctx = HeapCtx {
            base,
            words: words as u64,
            consts: consts.as_mut_ptr(),
            inputs: inputs.as_ptr(),
            exit_values: exit_values.as_mut_ptr(),
            args: args.as_mut_ptr(),
            spill: spill.as_mut_ptr(),
            exception: 0,
            env: (&mut env_ref as *mut &mut dyn HeapEnv).cast(),
            nconsts: self.consts.len() as u64,
            countdown: 0,
        };
        ctx.countdown = env_ref.guard_countdown();
        // SAFETY: the code was compiled by `compile` for a context laid out as `HeapCtx`: it
        // reads `inputs.len()` inputs and the constants (checked above), writes at most `most`
        // exit values, `most_args` arguments and `most_spilled` spilled references into the
        // buffers sized for them here, and reads and writes heap words only at indices it
        // checked against the length it holds, which it reloads (with the base) after every
        // call, the only place the heap can grow or move. The calls it makes are the shims
        // below, given this context; `env` outlives the run.
        let r = unsafe { (self.entry)((&mut ctx as *mut HeapCtx).cast()) };
        // A collection during the run refreshed the constants (`with_spilled_roots`).
        *consts_at = Some(collections(env_ref.heap()));
        let exit = match usize::try_from(r) {
            Ok(index) if index < self.guards.len() => HeapExit::Guard { index, values: exit_values[..self.guards[index].1].to_vec() },
            _ if r == FINISHED => HeapExit::Finished,
            _ => HeapExit::Trap,
        };
        if let Ok(mut b) = self.buffers.try_borrow_mut() {
            *b = taken;
        }
        exit
    }
}

/// The environment and the context behind a shim's context pointer.
///
/// # Safety
/// `ctx` must be the context `HeapCode::run` passed to the code now calling the shim.
unsafe fn env_of<'a>(ctx: *mut HeapCtx) -> (&'a mut HeapCtx, &'a mut dyn HeapEnv) {
    // SAFETY: per the contract, `ctx` points to `run`'s live context, whose `env` points to the
    // live `&mut dyn HeapEnv` on `run`'s stack; compiled code holds no Rust reference to
    // either while it calls us.
    unsafe {
        let ctx = &mut *ctx;
        let env = &mut **ctx.env.cast::<&mut dyn HeapEnv>();
        (ctx, env)
    }
}

/// Runs `f` with the `nspill` spilled references rooted on the heap's shadow stack, writes
/// their new places back, and, if a collection ran, refreshes the heap's place and the
/// constants.
///
/// # Safety
/// As [`env_of`]; the spill buffer holds at least `nspill` words.
unsafe fn with_spilled_roots(ctx: *mut HeapCtx, nspill: u64, f: impl FnOnce(&mut dyn HeapEnv, &[u64]) -> Result<u64, ()>, nargs: u64) -> u64 {
    // SAFETY: forwarded.
    let (ctx, env) = unsafe { env_of(ctx) };
    // SAFETY: `run` sized the buffers for the most references any call spills and the most
    // arguments any call passes; they are `run`'s, apart from the heap and the environment.
    let (spill, args) = unsafe { (std::slice::from_raw_parts_mut(ctx.spill, nspill as usize), std::slice::from_raw_parts(ctx.args, nargs as usize)) };
    let heap = env.heap();
    let before = collections(heap);
    let mark = heap.root_count();
    for &w in spill.iter() {
        heap.push_root(Ref(w as u32));
    }
    let r = f(&mut *env, args);
    let heap = env.heap();
    for (k, w) in spill.iter_mut().enumerate() {
        *w = heap.root(mark + k).0 as u64;
    }
    heap.pop_roots(mark);
    let (base, words) = heap.raw_words();
    ctx.base = base;
    ctx.words = words as u64;
    if collections(heap) != before {
        // SAFETY: `run` sized the table for the constants.
        let consts = unsafe { std::slice::from_raw_parts_mut(ctx.consts, ctx.nconsts as usize) };
        env.constants(consts);
    }
    ctx.exception = r.is_err() as u64;
    r.unwrap_or(0)
}

/// Calls function `f` with the `nargs` words in the context's argument buffer.
extern "C" fn heap_call(ctx: *mut HeapCtx, f: u64, nargs: u64, nspill: u64) -> u64 {
    // SAFETY: compiled code passes its context and counts within its buffers.
    unsafe { with_spilled_roots(ctx, nspill, |env, args| env.call(f as u32, args), nargs) }
}

/// Allocates an object of `layout`; 0 when there is no room.
extern "C" fn heap_alloc(ctx: *mut HeapCtx, layout: u64, nspill: u64) -> u64 {
    // SAFETY: compiled code passes its context and a spill count within the buffer.
    let r = unsafe { with_spilled_roots(ctx, nspill, |env, _| env.alloc(layout as u16), 0) };
    // SAFETY: as above; an allocation failure is not an exception of the program's.
    unsafe { (*ctx).exception = 0 };
    r
}

/// The write barrier's slow path after compiled code stored a reference into word `i` of `r`.
extern "C" fn heap_remember(ctx: *mut HeapCtx, r: u64, i: u64) {
    // SAFETY: compiled code passes its context.
    let (_, env) = unsafe { env_of(ctx) };
    env.heap().remember_store(Ref(r as u32), i as usize);
}

/// Compiles loop trace `tid` of `m` for the heap `target` describes; an error names what the
/// trace does that this backend does not compile.
pub fn compile(m: &Module, tid: TraceId, target: &HeapTarget, settings: Settings) -> Result<HeapCode, BackendError> {
    let t = &m.traces[tid];
    check(m, t, target)?;
    let isa = isa(settings)?;
    let call_conv = isa.default_call_conv();
    let mut jb = JITBuilder::with_isa(isa, cranelift_module::default_libcall_names());
    jb.symbol("heap_call", heap_call as *const u8);
    jb.symbol("heap_alloc", heap_alloc as *const u8);
    jb.symbol("heap_remember", heap_remember as *const u8);
    let mut module = JITModule::new(jb);
    let sig_of = |params: usize, result: bool| {
        let mut sig = Signature::new(call_conv);
        sig.params.extend((0..params).map(|_| AbiParam::new(types::I64)));
        if result {
            sig.returns.push(AbiParam::new(types::I64));
        }
        sig
    };
    let declare = |module: &mut JITModule, name: &str, sig: &Signature| module.declare_function(name, Linkage::Import, sig).map_err(|e| err("declaring a shim")(e.to_string()));
    let shims = [declare(&mut module, "heap_call", &sig_of(4, true))?, declare(&mut module, "heap_alloc", &sig_of(3, true))?, declare(&mut module, "heap_remember", &sig_of(3, false))?];
    let id = module.declare_function("heap_trace", Linkage::Local, &sig_of(1, true)).map_err(|e| err("declaring a trace")(e.to_string()))?;
    let mut ctx: Context = module.make_context();
    ctx.func.signature = sig_of(1, true);
    let mut fctx = FunctionBuilderContext::new();
    let live = LiveRefs::new(t);
    let lowered = {
        let b = FunctionBuilder::new(&mut ctx.func, &mut fctx);
        let refs = shims.map(|s| module.declare_func_in_func(s, b.func));
        let mut l = HeapLower::new(m, t, b, target, refs, &live);
        l.lower_trace();
        l.finish(module.target_config())
    };
    module.define_function(id, &mut ctx).map_err(|e| BackendError(format!("Cranelift rejected trace `{}`: {e:?}", t.name)))?;
    let code_size = ctx.compiled_code().map_or(0, |c| c.code_buffer().len());
    module.clear_context(&mut ctx);
    module.finalize_definitions().map_err(|e| err("linking")(e.to_string()))?;
    let ptr = module.get_finalized_function(id);
    // SAFETY: the function was declared with one pointer-sized parameter and an `i64` result
    // in the target's default (C) calling convention: this type.
    let entry = unsafe { std::mem::transmute::<*const u8, unsafe extern "C" fn(*mut u8) -> i64>(ptr) };
    Ok(HeapCode { module: Some(module), entry, guards: lowered.guards, consts: lowered.consts, inputs: t.inputs.len(), most_args: lowered.most_args, most_spilled: lowered.most_spilled, code_size, buffers: Default::default() })
}

/// Refuses what this backend does not compile, before Cranelift sees anything.
fn check(m: &Module, t: &Trace, target: &HeapTarget) -> Result<(), BackendError> {
    let refuse = |what: String| Err(BackendError(format!("trace `{}`: {what} is not compiled for a GC heap yet", t.name)));
    let labels = t.labels().count();
    let finishes = t.last_op().is_some_and(|o| o.opcode == Opcode::Finish);
    if labels > 1 || (labels == 0 && !finishes) {
        return refuse(format!("a loop with {labels} labels"));
    }
    let class_of = |v: Value| match &t.values[v].def {
        ValueDef::Const(Const::Class(name)) => Some(name.as_str()),
        _ => None,
    };
    for (_, op) in t.ops.iter() {
        let o = op.opcode;
        let supported = match o {
            Opcode::Label | Opcode::DebugMergePoint | Opcode::Finish => true,
            Opcode::Jump => op.jump_target() == t.labels().next().map(|(_, l)| l.token),
            Opcode::GuardClass => op.args.get(1).and_then(|&c| class_of(c)).is_some_and(|n| target.classes.contains_key(n)),
            Opcode::GuardTrue | Opcode::GuardFalse | Opcode::GuardNonnull | Opcode::GuardIsnull | Opcode::GuardValue | Opcode::GuardNoOverflow | Opcode::GuardOverflow | Opcode::GuardNoException => true,
            _ if is_call(o) => op.args.first().and_then(|&c| class_of(c)).is_some_and(|n| target.functions.contains_key(n)),
            Opcode::NewWithVtable => alloc_layout(m, op, target).is_some(),
            _ if is_load(o) => word_access(m, op).is_some(),
            Opcode::ArraylenGc => matches!(op.descr.map(|d| &m.descrs[d].data), Some(DescrData::Array(_))),
            Opcode::SetfieldGc | Opcode::SetarrayitemGc => word_access(m, op).is_some(),
            _ => pure_opcode(o),
        };
        if !supported {
            return refuse(format!("`{}`", o.name()));
        }
        // Where a class or function constant may stand: a call's target, a class guard's class.
        let class_at = match o {
            _ if is_call(o) => Some(0),
            Opcode::GuardClass => Some(1),
            _ => None,
        };
        for (k, &a) in op.args.iter().enumerate() {
            if Some(k) != class_at && class_of(a).is_some() {
                return refuse(format!("a class or function constant as an operand of `{}`", o.name()));
            }
            if let ValueDef::Const(Const::Func(_)) = t.values[a].def {
                return refuse(format!("a trace function constant in `{}`", o.name()));
            }
        }
    }
    Ok(())
}

/// The layout a `new_with_vtable` allocates: its size descr's class.
fn alloc_layout(m: &Module, op: &Op, target: &HeapTarget) -> Option<u16> {
    match &m.descrs[op.descr?].data {
        DescrData::Size(s) => target.classes.get(s.class.as_deref()?).copied(),
        _ => None,
    }
}

fn is_load(o: Opcode) -> bool {
    use Opcode::*;
    matches!(o, GetfieldGcI | GetfieldGcR | GetfieldGcF | GetfieldGcPureI | GetfieldGcPureR | GetfieldGcPureF | GetarrayitemGcI | GetarrayitemGcR | GetarrayitemGcF | GetarrayitemGcPureI | GetarrayitemGcPureR | GetarrayitemGcPureF)
}

fn is_call(o: Opcode) -> bool {
    matches!(o, Opcode::CallI | Opcode::CallR | Opcode::CallN | Opcode::CallF)
}

/// The ops [`pure::lower`] computes.
fn pure_opcode(o: Opcode) -> bool {
    use Opcode::*;
    matches!(
        o,
        IntAdd | IntSub | IntMul | IntAnd | IntOr | IntXor | IntLshift | IntRshift | UintRshift | UintMulHigh | IntAddOvf | IntSubOvf | IntMulOvf | IntLt | IntLe | IntEq | IntNe | IntGt
            | IntGe | UintLt | UintLe | UintGt | UintGe | PtrEq | PtrNe | InstancePtrEq | InstancePtrNe | IntIsZero | IntIsTrue | IntNeg | IntInvert | IntForceGeZero | FloatAdd | FloatSub
            | FloatMul | FloatTruediv | FloatNeg | FloatAbs | FloatLt | FloatLe | FloatEq | FloatNe | FloatGt | FloatGe | CastFloatToInt | CastIntToFloat | SameAsI | SameAsR | SameAsF
    )
}

/// A field or array-item access of one word: its kind and, for a field, its word offset (for
/// an item, the word where items start: the IR's arrays keep their length at byte 8).
fn word_access(m: &Module, op: &Op) -> Option<(MemKind, i64)> {
    match &m.descrs[op.descr?].data {
        DescrData::Field(fd) if fd.width() == 8 && fd.offset % 8 == 0 => Some((fd.kind, fd.offset as i64 / 8)),
        DescrData::Array(ad) if ad.item_size == 8 => Some((ad.kind, 2)),
        _ => None,
    }
}

/// Which references are live across each op that may collect: defined before it and used
/// after it, or defined before the loop's label and used in the loop (the next iteration
/// needs them).
struct LiveRefs {
    /// Per op position, the references live across it (only for ops that may collect).
    across: HashMap<usize, Vec<Value>>,
}

impl LiveRefs {
    fn new(t: &Trace) -> LiveRefs {
        let ids = t.ops.ids();
        let label = ids.iter().position(|&id| t.ops[id].opcode == Opcode::Label).unwrap_or(0);
        let mut def = HashMap::new();
        let mut last = HashMap::new();
        for &v in &t.inputs {
            def.insert(v, 0usize);
        }
        for (pos, &id) in ids.iter().enumerate() {
            let op = &t.ops[id];
            let mut uses: Vec<Value> = op.args.to_vec();
            if let Some(g) = op.guard() {
                uses.extend(g.fail_args.iter().flatten().copied());
            }
            for u in uses {
                if t.ty(u) == Type::Ref && !t.is_const(u) {
                    let end = if def.get(&u).is_some_and(|&d| d <= label) && pos > label { usize::MAX } else { pos };
                    let e = last.entry(u).or_insert(0);
                    *e = (*e).max(end);
                }
            }
            if let Some(r) = op.result {
                def.insert(r, pos);
            }
            if let Some(l) = op.label() {
                for &p in &l.params {
                    def.insert(p, pos);
                }
            }
        }
        let mut across = HashMap::new();
        for (pos, &id) in ids.iter().enumerate() {
            let o = t.ops[id].opcode;
            if is_call(o) || o == Opcode::NewWithVtable {
                let mut live: Vec<Value> = last.iter().filter(|(v, &end)| def.get(v).is_some_and(|&d| d < pos || (d == 0 && t.inputs.contains(v))) && end > pos).map(|(v, _)| *v).collect();
                live.sort();
                across.insert(pos, live);
            }
        }
        LiveRefs { across }
    }
}

/// Compiled code checks every heap index, and the context's fields are valid: no access traps.
const TRUSTED: MemFlagsData = MemFlagsData::trusted();

struct Lowered {
    guards: Vec<(OpId, usize)>,
    consts: Vec<String>,
    most_args: usize,
    most_spilled: usize,
}

struct HeapLower<'a, 'f> {
    m: &'a Module,
    t: &'a Trace,
    b: FunctionBuilder<'f>,
    target: &'a HeapTarget,
    live: &'a LiveRefs,
    /// `heap_call`, `heap_alloc`, `heap_remember`.
    shims: [ir::FuncRef; 3],
    ctx: ir::Value,
    /// The heap's base and length: variables, reloaded after every call.
    base: Variable,
    words: Variable,
    /// Words and floats as SSA values; references as variables (a call may move them).
    vals: Vec<Option<ir::Value>>,
    ref_vars: HashMap<Value, Variable>,
    consts: Vec<String>,
    ovf: Variable,
    loop_block: Option<Block>,
    trap: Block,
    guards: Vec<(OpId, usize)>,
    /// Exit blocks to fill: block, guard number, the values to hand back.
    exits: Vec<(Block, usize, Vec<Option<ir::Value>>)>,
    most_args: usize,
    most_spilled: usize,
}

impl<'a, 'f> HeapLower<'a, 'f> {
    fn new(m: &'a Module, t: &'a Trace, mut b: FunctionBuilder<'f>, target: &'a HeapTarget, shims: [ir::FuncRef; 3], live: &'a LiveRefs) -> Self {
        let entry = b.create_block();
        b.append_block_params_for_function_params(entry);
        b.switch_to_block(entry);
        b.seal_block(entry);
        let ctx = b.block_params(entry)[0];
        let base = b.declare_var(types::I64);
        let words = b.declare_var(types::I64);
        let x = b.ins().load(types::I64, TRUSTED, ctx, CTX_BASE);
        b.def_var(base, x);
        let x = b.ins().load(types::I64, TRUSTED, ctx, CTX_WORDS);
        b.def_var(words, x);
        let ovf = b.declare_var(types::I8);
        let zero = b.ins().iconst(types::I8, 0);
        b.def_var(ovf, zero);
        let trap = b.create_block();
        HeapLower {
            m,
            t,
            b,
            target,
            live,
            shims,
            ctx,
            base,
            words,
            vals: vec![None; t.values.len()],
            ref_vars: HashMap::new(),
            consts: Vec::new(),
            ovf,
            loop_block: None,
            trap,
            guards: Vec::new(),
            exits: Vec::new(),
            most_args: 0,
            most_spilled: 0,
        }
    }

    fn lower_trace(&mut self) {
        let inputs = self.b.ins().load(types::I64, TRUSTED, self.ctx, CTX_INPUTS);
        for (k, &v) in self.t.inputs.iter().enumerate() {
            let w = self.b.ins().load(types::I64, TRUSTED, inputs, 8 * k as i32);
            self.def(v, w);
        }
        let ids: Vec<OpId> = self.t.ops.ids();
        for (pos, id) in ids.into_iter().enumerate() {
            self.lower_op(pos, id);
        }
    }

    fn finish(mut self, target: TargetFrontendConfig) -> Lowered {
        for (block, number, values) in std::mem::take(&mut self.exits) {
            self.b.switch_to_block(block);
            self.b.seal_block(block);
            let out = self.b.ins().load(types::I64, TRUSTED, self.ctx, CTX_EXIT_VALUES);
            for (k, v) in values.iter().enumerate() {
                let x = match v {
                    Some(x) => pure::bitcast_to(&mut self, *x, types::I64),
                    None => self.b.ins().iconst(types::I64, 0),
                };
                self.b.ins().store(TRUSTED, x, out, 8 * k as i32);
            }
            let n = self.b.ins().iconst(types::I64, number as i64);
            self.b.ins().return_(&[n]);
        }
        self.b.switch_to_block(self.trap);
        self.b.seal_block(self.trap);
        let t = self.b.ins().iconst(types::I64, TRAP);
        self.b.ins().return_(&[t]);
        self.b.finalize(target);
        Lowered { guards: self.guards, consts: self.consts, most_args: self.most_args, most_spilled: self.most_spilled }
    }

    fn lower_op(&mut self, pos: usize, id: OpId) {
        let op = &self.t.ops[id];
        let o = op.opcode;
        match o {
            Opcode::DebugMergePoint => {}
            Opcode::Label => self.label(op),
            Opcode::Finish => {
                let done = self.b.ins().iconst(types::I64, FINISHED);
                self.b.ins().return_(&[done]);
            }
            Opcode::Jump => {
                let args: Vec<ir::BlockArg> = op.args.iter().map(|&a| ir::BlockArg::Value(self.get(a))).collect();
                let block = self.loop_block.expect("checked: one label, before its jump");
                self.b.ins().jump(block, &args);
                self.b.seal_block(block);
            }
            _ if o.is_guard() => self.guard(id, op),
            _ if is_load(o) => {
                let x = self.load(op);
                if let Some(r) = op.result {
                    self.def(r, x);
                }
            }
            Opcode::SetfieldGc | Opcode::SetarrayitemGc => self.store(op),
            Opcode::ArraylenGc => {
                // The IR's arrays keep their length at byte 8: word 1.
                let r = pure::get_int(self, op.args[0]);
                let one = self.b.ins().iconst(types::I64, 1);
                let at = self.word_address(r, one);
                let n = self.b.ins().load(types::I64, TRUSTED, at, 0);
                if let Some(v) = op.result {
                    self.def(v, n);
                }
            }
            _ if is_call(o) => self.call(pos, op),
            Opcode::NewWithVtable => self.alloc(pos, op),
            _ => {
                if let Some(x) = pure::lower(self, op) {
                    if let Some(r) = op.result {
                        self.def(r, x);
                    }
                }
            }
        }
    }

    fn label(&mut self, op: &Op) {
        let block = self.b.create_block();
        let params = op.label().map(|l| l.params.clone()).unwrap_or_default();
        for &p in &params {
            let ty = if self.t.ty(p) == Type::Float { types::F64 } else { types::I64 };
            self.b.append_block_param(block, ty);
        }
        let args: Vec<ir::BlockArg> = op.args.iter().map(|&a| ir::BlockArg::Value(self.get(a))).collect();
        self.b.ins().jump(block, &args);
        self.b.switch_to_block(block);
        for (k, &p) in params.iter().enumerate() {
            let x = self.b.block_params(block)[k];
            self.def(p, x);
        }
        self.loop_block = Some(block);
    }

    /// Continues in a new block when `ok` holds, else at `otherwise`.
    fn continue_if(&mut self, ok: ir::Value, otherwise: Block) {
        let next = self.b.create_block();
        self.b.ins().brif(ok, next, &[], otherwise, &[]);
        self.b.seal_block(next);
        self.b.switch_to_block(next);
    }

    /// The address of heap word `r + offset`, checked: out of the heap, the run traps.
    fn word_address(&mut self, r: ir::Value, offset: ir::Value) -> ir::Value {
        let index = self.b.ins().iadd(r, offset);
        let words = self.b.use_var(self.words);
        let inside = self.b.ins().icmp(IntCC::UnsignedLessThan, index, words);
        self.continue_if(inside, self.trap);
        let bytes = self.b.ins().ishl_imm_u(index, 3);
        let base = self.b.use_var(self.base);
        self.b.ins().iadd(base, bytes)
    }

    /// The address an access op reads or writes, and the word index within its object.
    fn address(&mut self, op: &Op) -> (ir::Value, ir::Value) {
        let (_, first) = word_access(self.m, op).expect("checked");
        let r = pure::get_int(self, op.args[0]);
        let mut offset = self.b.ins().iconst(types::I64, first);
        if matches!(self.m.descrs[op.descr.expect("checked")].data, DescrData::Array(_)) {
            let i = pure::get_int(self, op.args[1]);
            offset = self.b.ins().iadd(offset, i);
        }
        (self.word_address(r, offset), offset)
    }

    fn load(&mut self, op: &Op) -> ir::Value {
        let (at, _) = self.address(op);
        let w = self.b.ins().load(types::I64, TRUSTED, at, 0);
        match op.result.map(|r| self.t.ty(r)) {
            Some(Type::Float) => pure::bitcast_to(self, w, types::F64),
            _ => w,
        }
    }

    /// A store; a reference stored into an object the GC tracks (an old one not yet
    /// remembered) goes through the barrier's slow path.
    fn store(&mut self, op: &Op) {
        let (at, offset) = self.address(op);
        let value = *op.args.last().expect("a store has a value");
        let v = pure::get_int(self, value);
        self.b.ins().store(TRUSTED, v, at, 0);
        let (kind, _) = word_access(self.m, op).expect("checked");
        if kind != MemKind::Ref {
            return;
        }
        let obj = pure::get_int(self, op.args[0]);
        let zero = self.b.ins().iconst(types::I64, 0);
        let header_at = self.word_address(obj, zero);
        let header = self.b.ins().load(types::I64, TRUSTED, header_at, 0);
        let tracked = self.b.ins().band_imm_u(header, flags::TRACK_YOUNG as i64);
        let slow = self.b.create_block();
        self.b.set_cold_block(slow);
        let done = self.b.create_block();
        self.b.ins().brif(tracked, slow, &[], done, &[]);
        self.b.seal_block(slow);
        self.b.switch_to_block(slow);
        self.b.ins().call(self.shims[2], &[self.ctx, obj, offset]);
        self.b.ins().jump(done, &[]);
        self.b.seal_block(done);
        self.b.switch_to_block(done);
    }

    /// Spills the references live across op `pos` into the context's buffer; returns them.
    fn spill(&mut self, pos: usize) -> Vec<Value> {
        let live = self.live.across.get(&pos).cloned().unwrap_or_default();
        let buf = self.b.ins().load(types::I64, TRUSTED, self.ctx, CTX_SPILL);
        for (k, &v) in live.iter().enumerate() {
            let x = self.get(v);
            self.b.ins().store(TRUSTED, x, buf, 8 * k as i32);
        }
        self.most_spilled = self.most_spilled.max(live.len());
        live
    }

    /// After a call: the spilled references' new places, and the heap's.
    fn reload(&mut self, live: &[Value]) {
        let buf = self.b.ins().load(types::I64, TRUSTED, self.ctx, CTX_SPILL);
        for (k, &v) in live.iter().enumerate() {
            let x = self.b.ins().load(types::I64, TRUSTED, buf, 8 * k as i32);
            self.def(v, x);
        }
        let x = self.b.ins().load(types::I64, TRUSTED, self.ctx, CTX_BASE);
        self.b.def_var(self.base, x);
        let x = self.b.ins().load(types::I64, TRUSTED, self.ctx, CTX_WORDS);
        self.b.def_var(self.words, x);
    }

    fn call(&mut self, pos: usize, op: &Op) {
        let f = match &self.t.values[op.args[0]].def {
            ValueDef::Const(Const::Class(name)) => self.target.functions[name],
            _ => unreachable!("checked: a function constant"),
        };
        let args = &op.args[1..];
        let buf = self.b.ins().load(types::I64, TRUSTED, self.ctx, CTX_ARGS);
        for (k, &a) in args.iter().enumerate() {
            let x = pure::get_int(self, a);
            self.b.ins().store(TRUSTED, x, buf, 8 * k as i32);
        }
        self.most_args = self.most_args.max(args.len());
        let live = self.spill(pos);
        let fv = self.b.ins().iconst(types::I64, f as i64);
        let n = self.b.ins().iconst(types::I64, args.len() as i64);
        let nspill = self.b.ins().iconst(types::I64, live.len() as i64);
        let inst = self.b.ins().call(self.shims[0], &[self.ctx, fv, n, nspill]);
        let r = self.b.inst_results(inst)[0];
        self.reload(&live);
        if let Some(v) = op.result {
            self.def(v, r);
        }
    }

    fn alloc(&mut self, pos: usize, op: &Op) {
        let layout = alloc_layout(self.m, op, self.target).expect("checked");
        let live = self.spill(pos);
        let l = self.b.ins().iconst(types::I64, layout as i64);
        let nspill = self.b.ins().iconst(types::I64, live.len() as i64);
        let inst = self.b.ins().call(self.shims[1], &[self.ctx, l, nspill]);
        let r = self.b.inst_results(inst)[0];
        self.reload(&live);
        let made = self.b.ins().icmp_imm_s(IntCC::NotEqual, r, 0);
        self.continue_if(made, self.trap);
        if let Some(v) = op.result {
            self.def(v, r);
        }
    }

    fn guard(&mut self, id: OpId, op: &Op) {
        use Opcode::*;
        let x = op.args.first().map(|&a| pure::get_int(self, a));
        let pass = match op.opcode {
            GuardTrue | GuardNonnull => self.b.ins().icmp_imm_s(IntCC::NotEqual, x.expect("operand"), 0),
            GuardFalse | GuardIsnull => self.b.ins().icmp_imm_s(IntCC::Equal, x.expect("operand"), 0),
            GuardValue => {
                let y = pure::get_int(self, op.args[1]);
                self.b.ins().icmp(IntCC::Equal, x.expect("operand"), y)
            }
            GuardClass => {
                let zero = self.b.ins().iconst(types::I64, 0);
                let at = self.word_address(x.expect("operand"), zero);
                let header = self.b.ins().load(types::I64, TRUSTED, at, 0);
                let layout = self.b.ins().band_imm_u(header, 0xffff);
                let want = match &self.t.values[op.args[1]].def {
                    ValueDef::Const(Const::Class(name)) => self.target.classes[name],
                    _ => unreachable!("checked: a class constant"),
                };
                self.b.ins().icmp_imm_s(IntCC::Equal, layout, want as i64)
            }
            GuardNoException => {
                let e = self.b.ins().load(types::I64, TRUSTED, self.ctx, CTX_EXCEPTION);
                self.b.ins().icmp_imm_s(IntCC::Equal, e, 0)
            }
            GuardNoOverflow => {
                let of = self.b.use_var(self.ovf);
                self.b.ins().icmp_imm_s(IntCC::Equal, of, 0)
            }
            _ => {
                let of = self.b.use_var(self.ovf);
                self.b.ins().icmp_imm_s(IntCC::NotEqual, of, 0)
            }
        };
        let on_call = op.args.iter().any(|&a| matches!(self.t.values[a].def, ValueDef::Op(d) if is_call(self.t.ops[d].opcode)));
        let pass = if self.target.random_guard_failures && op.opcode != GuardNoException && !on_call { self.countdown(pass) } else { pass };
        let fail_args: Vec<Option<Value>> = op.guard().map(|g| g.fail_args.clone()).unwrap_or_default();
        let values: Vec<Option<ir::Value>> = fail_args.iter().map(|a| a.map(|v| self.get(v))).collect();
        let number = self.guards.len();
        self.guards.push((id, values.len()));
        let exit = self.b.create_block();
        self.b.set_cold_block(exit);
        self.continue_if(pass, exit);
        self.exits.push((exit, number, values));
    }

    /// `pass`, unless the countdown is at 1 (it counts down at each check).
    fn countdown(&mut self, pass: ir::Value) -> ir::Value {
        let c = self.b.ins().load(types::I64, TRUSTED, self.ctx, CTX_COUNTDOWN);
        let next = self.b.ins().iadd_imm_s(c, -1);
        self.b.ins().store(TRUSTED, next, self.ctx, CTX_COUNTDOWN);
        let go_on = self.b.ins().icmp_imm_s(IntCC::NotEqual, c, 1);
        self.b.ins().band(pass, go_on)
    }

    fn def(&mut self, v: Value, x: ir::Value) {
        match self.t.ty(v) {
            Type::Ref => {
                let var = match self.ref_vars.get(&v) {
                    Some(&var) => var,
                    None => {
                        let var = self.b.declare_var(types::I64);
                        self.ref_vars.insert(v, var);
                        var
                    }
                };
                let x = pure::bitcast_to(self, x, types::I64);
                self.b.def_var(var, x);
            }
            Type::Float => {
                let x = pure::bitcast_to(self, x, types::F64);
                self.vals[v.index()] = Some(x);
            }
            _ => {
                let x = pure::bitcast_to(self, x, types::I64);
                self.vals[v.index()] = Some(x);
            }
        }
    }

    /// Constant `name`'s current word: read from the table at each use (a call may move it).
    fn constant(&mut self, name: &str) -> ir::Value {
        let k = match self.consts.iter().position(|c| c == name) {
            Some(k) => k,
            None => {
                self.consts.push(name.to_string());
                self.consts.len() - 1
            }
        };
        let table = self.b.ins().load(types::I64, TRUSTED, self.ctx, CTX_CONSTS);
        self.b.ins().load(types::I64, TRUSTED, table, 8 * k as i32)
    }
}

impl<'f> PureLowering<'f> for HeapLower<'_, 'f> {
    fn b(&mut self) -> &mut FunctionBuilder<'f> {
        &mut self.b
    }

    fn get(&mut self, v: Value) -> ir::Value {
        match &self.t.values[v].def {
            ValueDef::Const(c) => match c {
                Const::Int(i) => self.b.ins().iconst(types::I64, *i),
                Const::Float(bits) => self.b.ins().f64const(f64::from_bits(*bits)),
                Const::Ptr(name) => {
                    let name = name.clone();
                    self.constant(&name)
                }
                // Refused by `check` where they would be read as values.
                Const::Null | Const::Class(_) | Const::Func(_) => self.b.ins().iconst(types::I64, 0),
            },
            _ => match self.ref_vars.get(&v) {
                Some(&var) => self.b.use_var(var),
                None => match self.vals[v.index()] {
                    Some(x) => x,
                    None => self.b.ins().iconst(types::I64, 0),
                },
            },
        }
    }

    fn ty(&self, v: Value) -> Type {
        self.t.ty(v)
    }

    fn ovf(&self) -> Variable {
        self.ovf
    }
}

#[cfg(test)]
mod tests;
