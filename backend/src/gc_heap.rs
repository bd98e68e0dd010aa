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
//! What is compiled: the pure ops ([`crate::lower::pure`]), loads of word fields and array
//! items, stores of words that are not references (they need no write barrier), guards,
//! `label` and the `jump` back to it. Anything else (calls, allocations, reference stores: what
//! needs the GC's cooperation while compiled code runs) makes [`compile`] refuse the trace,
//! naming the op, and the frontend keeps interpreting it. A guard that fails returns its
//! number with its fail args; the frontend decodes the resume data.

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
use tracelab_runtime::gc::Heap;

/// What the backend needs to know about the frontend's heap.
#[derive(Clone, Debug, Default)]
pub struct HeapTarget {
    /// The layout id of each class a `guard_class` may name (`ConstClass(name)`).
    pub classes: HashMap<String, u16>,
}

/// The context compiled code gets: where the heap is, the constants and inputs, where a
/// failing guard leaves its fail args.
#[repr(C)]
struct HeapCtx {
    base: *mut u64,
    words: u64,
    consts: *const u64,
    inputs: *const u64,
    exit_values: *mut u64,
}

const CTX_BASE: i32 = 0;
const CTX_WORDS: i32 = 8;
const CTX_CONSTS: i32 = 16;
const CTX_INPUTS: i32 = 24;
const CTX_EXIT_VALUES: i32 = 32;

/// What compiled code returns for an access outside the heap.
const TRAP: i64 = -1;

/// How a run of compiled code ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HeapExit {
    /// Guard number `index` (in trace order, see [`HeapCode::guards`]) failed; its fail args'
    /// bits (0 for a dead one).
    Guard { index: usize, values: Vec<u64> },
    /// An access fell outside the heap (the inputs were not what the trace's guards assume).
    Trap,
}

/// A compiled loop. Owns its code: dropping it frees the code.
pub struct HeapCode {
    module: Option<JITModule>,
    entry: unsafe extern "C" fn(*mut u8) -> i64,
    /// The guards in trace order: the op and how many fail args it hands back.
    pub guards: Vec<(OpId, usize)>,
    /// The `ConstPtr` names, in the order [`HeapCode::run`] takes their objects.
    pub consts: Vec<String>,
    inputs: usize,
    pub code_size: usize,
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
    /// Runs the loop on `heap` from `inputs` (one word per trace input) with `consts` (the
    /// current word of each object in [`HeapCode::consts`]) until a guard fails.
    pub fn run(&self, heap: &mut Heap, consts: &[u64], inputs: &[u64]) -> HeapExit {
        assert_eq!(consts.len(), self.consts.len(), "one word per constant");
        assert_eq!(inputs.len(), self.inputs, "one word per input");
        let most = self.guards.iter().map(|g| g.1).max().unwrap_or(0);
        let mut exit_values = vec![0u64; most.max(1)];
        let (base, words) = heap.raw_words();
        let mut ctx = HeapCtx { base, words: words as u64, consts: consts.as_ptr(), inputs: inputs.as_ptr(), exit_values: exit_values.as_mut_ptr() };
        // SAFETY: the code was compiled by `compile` for a context laid out as `HeapCtx`: it
        // reads `inputs.len()` inputs and `consts.len()` constants (checked above), writes at
        // most `most` exit values, and reads and writes heap words only at indices it checked
        // against `words` first. `heap` is borrowed mutably for the run, so nothing else
        // touches (or grows) its memory meanwhile; the code allocates and calls nothing.
        let r = unsafe { (self.entry)((&mut ctx as *mut HeapCtx).cast()) };
        match usize::try_from(r) {
            Ok(index) if index < self.guards.len() => {
                exit_values.truncate(self.guards[index].1);
                HeapExit::Guard { index, values: exit_values }
            }
            _ => HeapExit::Trap,
        }
    }
}

/// Compiles loop trace `tid` of `m` for the heap `target` describes; an error names what the
/// trace does that this backend does not compile.
pub fn compile(m: &Module, tid: TraceId, target: &HeapTarget, settings: Settings) -> Result<HeapCode, BackendError> {
    let t = &m.traces[tid];
    check(m, t, target)?;
    let isa = isa(settings)?;
    let call_conv = isa.default_call_conv();
    let mut module = JITModule::new(JITBuilder::with_isa(isa, cranelift_module::default_libcall_names()));
    let pointer = module.target_config().pointer_type();
    let mut sig = Signature::new(call_conv);
    sig.params.push(AbiParam::new(pointer));
    sig.returns.push(AbiParam::new(types::I64));
    let id = module.declare_function("heap_trace", Linkage::Local, &sig).map_err(|e| err("declaring a trace")(e.to_string()))?;
    let mut ctx: Context = module.make_context();
    ctx.func.signature = sig;
    let mut fctx = FunctionBuilderContext::new();
    let (guards, consts) = {
        let b = FunctionBuilder::new(&mut ctx.func, &mut fctx);
        let mut l = HeapLower::new(m, t, b, target);
        l.lower_trace();
        l.finish(module.target_config())
    };
    module.define_function(id, &mut ctx).map_err(|e| BackendError(format!("Cranelift rejected trace `{}`: {e:?}", t.name)))?;
    let code_size = ctx.compiled_code().map_or(0, |c| c.code_buffer().len());
    module.clear_context(&mut ctx);
    module.finalize_definitions().map_err(|e| err("linking")(e.to_string()))?;
    let ptr = module.get_finalized_function(id);
    // SAFETY: the function was declared with one pointer parameter and an `i64` result in the
    // target's default (C) calling convention: this type.
    let entry = unsafe { std::mem::transmute::<*const u8, unsafe extern "C" fn(*mut u8) -> i64>(ptr) };
    Ok(HeapCode { module: Some(module), entry, guards, consts, inputs: t.inputs.len(), code_size })
}

/// Refuses what this backend does not compile, before Cranelift sees anything.
fn check(m: &Module, t: &Trace, target: &HeapTarget) -> Result<(), BackendError> {
    let refuse = |what: String| Err(BackendError(format!("trace `{}`: {what} is not compiled for a GC heap yet", t.name)));
    let labels = t.labels().count();
    if labels != 1 {
        return refuse(format!("a loop with {labels} labels"));
    }
    for (_, op) in t.ops.iter() {
        let o = op.opcode;
        let supported = match o {
            Opcode::Label | Opcode::DebugMergePoint => true,
            Opcode::Jump => op.jump_target() == t.labels().next().map(|(_, l)| l.token),
            Opcode::GuardClass => match op.args.get(1).map(|&c| &t.values[c].def) {
                Some(ValueDef::Const(Const::Class(name))) => target.classes.contains_key(name),
                _ => false,
            },
            Opcode::GuardTrue | Opcode::GuardFalse | Opcode::GuardNonnull | Opcode::GuardIsnull | Opcode::GuardValue | Opcode::GuardNoOverflow | Opcode::GuardOverflow => true,
            _ if is_load(o) => word_access(m, op).is_some(),
            Opcode::SetfieldGc => word_access(m, op).is_some_and(|(kind, _)| kind != MemKind::Ref),
            _ => pure_opcode(o),
        };
        if !supported {
            return refuse(format!("`{}`", o.name()));
        }
        for &a in &op.args {
            if let ValueDef::Const(Const::Class(_) | Const::Func(_)) = t.values[a].def {
                if o != Opcode::GuardClass {
                    return refuse(format!("a class or function constant in `{}`", o.name()));
                }
            }
        }
    }
    Ok(())
}

fn is_load(o: Opcode) -> bool {
    use Opcode::*;
    matches!(o, GetfieldGcI | GetfieldGcR | GetfieldGcF | GetfieldGcPureI | GetfieldGcPureR | GetfieldGcPureF | GetarrayitemGcI | GetarrayitemGcR | GetarrayitemGcF | GetarrayitemGcPureI | GetarrayitemGcPureR | GetarrayitemGcPureF)
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

/// Compiled code checks every heap index, and the context's fields are valid: no access traps.
const TRUSTED: MemFlagsData = MemFlagsData::trusted();

struct HeapLower<'a, 'f> {
    m: &'a Module,
    t: &'a Trace,
    b: FunctionBuilder<'f>,
    target: &'a HeapTarget,
    ctx: ir::Value,
    base: ir::Value,
    words: ir::Value,
    vals: Vec<Option<ir::Value>>,
    consts: Vec<String>,
    const_vals: HashMap<String, ir::Value>,
    ovf: Variable,
    loop_block: Option<Block>,
    trap: Block,
    guards: Vec<(OpId, usize)>,
    /// Exit blocks to fill: block, guard number, the values to hand back.
    exits: Vec<(Block, usize, Vec<Option<ir::Value>>)>,
}

impl<'a, 'f> HeapLower<'a, 'f> {
    fn new(m: &'a Module, t: &'a Trace, mut b: FunctionBuilder<'f>, target: &'a HeapTarget) -> Self {
        let entry = b.create_block();
        b.append_block_params_for_function_params(entry);
        b.switch_to_block(entry);
        b.seal_block(entry);
        let ctx = b.block_params(entry)[0];
        let base = b.ins().load(types::I64, TRUSTED, ctx, CTX_BASE);
        let words = b.ins().load(types::I64, TRUSTED, ctx, CTX_WORDS);
        let ovf = b.declare_var(types::I8);
        let zero = b.ins().iconst(types::I8, 0);
        b.def_var(ovf, zero);
        let trap = b.create_block();
        HeapLower { m, t, b, target, ctx, base, words, vals: vec![None; t.values.len()], consts: Vec::new(), const_vals: HashMap::new(), ovf, loop_block: None, trap, guards: Vec::new(), exits: Vec::new() }
    }

    fn lower_trace(&mut self) {
        let inputs = self.b.ins().load(types::I64, TRUSTED, self.ctx, CTX_INPUTS);
        for (k, &v) in self.t.inputs.iter().enumerate() {
            let w = self.b.ins().load(types::I64, TRUSTED, inputs, 8 * k as i32);
            self.def(v, w);
        }
        let ids: Vec<OpId> = self.t.ops.ids();
        for id in ids {
            self.lower_op(id);
        }
    }

    fn finish(mut self, target: TargetFrontendConfig) -> (Vec<(OpId, usize)>, Vec<String>) {
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
        (self.guards, self.consts)
    }

    fn lower_op(&mut self, id: OpId) {
        let op = &self.t.ops[id];
        let o = op.opcode;
        match o {
            Opcode::DebugMergePoint => {}
            Opcode::Label => self.label(op),
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
            Opcode::SetfieldGc => self.store(op),
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
            self.vals[p.index()] = Some(x);
        }
        self.loop_block = Some(block);
    }

    /// The heap word index `r + offset`, checked: out of the heap, the run traps.
    fn checked_index(&mut self, r: ir::Value, offset: ir::Value) -> ir::Value {
        let index = self.b.ins().iadd(r, offset);
        let inside = self.b.ins().icmp(IntCC::UnsignedLessThan, index, self.words);
        let next = self.b.create_block();
        self.b.ins().brif(inside, next, &[], self.trap, &[]);
        self.b.seal_block(next);
        self.b.switch_to_block(next);
        index
    }

    fn address(&mut self, op: &Op) -> ir::Value {
        let (_, first) = word_access(self.m, op).expect("checked");
        let r = pure::get_int(self, op.args[0]);
        let mut offset = self.b.ins().iconst(types::I64, first);
        if matches!(self.m.descrs[op.descr.expect("checked")].data, DescrData::Array(_)) {
            let i = pure::get_int(self, op.args[1]);
            offset = self.b.ins().iadd(offset, i);
        }
        let index = self.checked_index(r, offset);
        let bytes = self.b.ins().ishl_imm_u(index, 3);
        self.b.ins().iadd(self.base, bytes)
    }

    fn load(&mut self, op: &Op) -> ir::Value {
        let at = self.address(op);
        let w = self.b.ins().load(types::I64, TRUSTED, at, 0);
        match op.result.map(|r| self.t.ty(r)) {
            Some(Type::Float) => pure::bitcast_to(self, w, types::F64),
            _ => w,
        }
    }

    fn store(&mut self, op: &Op) {
        let at = self.address(op);
        let v = pure::get_int(self, op.args[1]);
        self.b.ins().store(TRUSTED, v, at, 0);
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
                let index = self.checked_index(x.expect("operand"), zero);
                let bytes = self.b.ins().ishl_imm_u(index, 3);
                let at = self.b.ins().iadd(self.base, bytes);
                let header = self.b.ins().load(types::I64, TRUSTED, at, 0);
                let layout = self.b.ins().band_imm_u(header, 0xffff);
                let want = match &self.t.values[op.args[1]].def {
                    ValueDef::Const(Const::Class(name)) => self.target.classes[name],
                    _ => unreachable!("checked: a class constant"),
                };
                self.b.ins().icmp_imm_s(IntCC::Equal, layout, want as i64)
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
        let fail_args: Vec<Option<Value>> = op.guard().map(|g| g.fail_args.clone()).unwrap_or_default();
        let values: Vec<Option<ir::Value>> = fail_args.iter().map(|a| a.map(|v| self.get(v))).collect();
        let number = self.guards.len();
        self.guards.push((id, values.len()));
        let exit = self.b.create_block();
        self.b.set_cold_block(exit);
        let next = self.b.create_block();
        self.b.ins().brif(pass, next, &[], exit, &[]);
        self.b.seal_block(next);
        self.b.switch_to_block(next);
        self.exits.push((exit, number, values));
    }

    fn def(&mut self, v: Value, x: ir::Value) {
        let want = if self.t.ty(v) == Type::Float { types::F64 } else { types::I64 };
        let x = pure::bitcast_to(self, x, want);
        self.vals[v.index()] = Some(x);
    }

    fn constant(&mut self, name: &str) -> ir::Value {
        if let Some(&x) = self.const_vals.get(name) {
            return x;
        }
        // Loaded where first used; the table does not change during a run.
        let table = self.b.ins().load(types::I64, TRUSTED, self.ctx, CTX_CONSTS);
        let x = self.b.ins().load(types::I64, TRUSTED, table, 8 * self.consts.len() as i32);
        self.consts.push(name.to_string());
        x
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
                // Refused by `check`: nothing else reads a class or function constant.
                Const::Null | Const::Class(_) | Const::Func(_) => self.b.ins().iconst(types::I64, 0),
            },
            _ => match self.vals[v.index()] {
                Some(x) => x,
                None => self.b.ins().iconst(types::I64, 0),
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
