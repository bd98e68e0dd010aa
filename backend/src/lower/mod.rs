//! Lowering one trace to a Cranelift function `fn(ctx) -> exit number`.
//!
//! - Every SSA value of the trace is a Cranelift value (`I64` for ints and refs, `F64` for
//!   floats). The trace start and each `label` begin a *segment* with a block of its own whose
//!   parameters are what the segment reads from before it (the label's parameters, the values
//!   defined earlier that ops after the first label read; the inputs for the trace start); a
//!   `jump` to a label of this trace (or to the trace start) is a back edge to that block, and
//!   an entry from the runtime loads them from their slots. Within a segment every definition
//!   dominates its uses, so no Cranelift variable stands for a trace value: memory stays
//!   linear in the trace (variables times blocks is what SSA construction keeps).
//!   Each segment block first checks the fuel.
//! - Ints, floats, comparisons, casts and `int_*_ovf` (Cranelift's overflow-checked
//!   arithmetic, whose flag `guard_no_overflow` reads) are native; guards branch to a cold block
//!   per guard that stores what the runtime needs and returns the exit number ([`crate::exits`]).
//! - Calls of registered external functions ([`tracelab_runtime::externals`]) are direct
//!   machine calls, one word per argument.
//! - Every other op (heap, allocation, calls, strings) is executed by the runtime's own
//!   implementation of it (`tl_step`): its operands go to their slots, its result comes back
//!   from its slot. One definition of what those ops mean, shared with the interpreter.
//!
//! Assumes a trace that verifies. Ops counting: `base` is the interpreter's op count at the
//! start of the current segment (a segment starts at op 0 and after each label); op `pc` of a
//! segment starting at `s` is op number `base + (pc - s) + 1`.

use crate::exits::{guard_exit_values, ExitInfo, ExitKind, Liveness};
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{types, AbiParam, Block, FuncRef, InstBuilder, MemFlagsData, Signature};
use cranelift_codegen::ir::{self, Function};
use cranelift_codegen::isa::TargetFrontendConfig;
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext, Variable};
use std::collections::HashMap;

mod memory;
pub(crate) mod pure;
use tracelab_ir::entity::EntityRef;
use tracelab_ir::trace::ValueDef;
use tracelab_ir::{Const, Module, Op, Opcode, Target, Trace, TraceId, Type, Value};
use tracelab_runtime::model::class_id;
use tracelab_runtime::externals::{ExternFn, Externals};
use tracelab_runtime::native::{ctx_offset, STATUS_OK};

/// The services a compiled trace calls, as function references in its function, and the
/// registered external functions it calls directly.
pub(crate) struct Services {
    pub step: FuncRef,
    pub class_of: FuncRef,
    /// By op index: the external function the op calls directly.
    pub externs: HashMap<usize, FuncRef>,
}

/// What lowering made: the exits, and how many ops went native or to the runtime.
#[derive(Default, Debug)]
pub struct LowerStats {
    pub native_ops: usize,
    pub runtime_ops: usize,
    pub guards: usize,
}

/// An exit whose block is filled in at the end. What it stores was read where the exit
/// branches off (its block's one predecessor), so no value is looked up again from the exit.
struct PendingExit {
    block: Block,
    number: usize,
    /// The op count and overflow flag to store.
    ops: ir::Value,
    ovf: ir::Value,
    values: Vec<(Value, ir::Value)>,
}

pub(crate) struct Lowered {
    pub exits: Vec<ExitInfo>,
    /// Where the function can be entered: op 0 and the op after each label.
    pub entries: Vec<usize>,
    pub stats: LowerStats,
}

struct Lower<'a, 'b> {
    m: &'a Module,
    t: &'a Trace,
    b: FunctionBuilder<'b>,
    svc: Services,
    /// Each value's Cranelift value where the lowering is, valid while its entry in
    /// `defined_in` is the current segment's number (`segment_number`). Trace values are not
    /// Cranelift variables: a segment block takes what it needs as block parameters, and
    /// within a segment every definition dominates its uses, so lowering needs no SSA
    /// construction per block (whose memory grows with variables times blocks).
    current: Vec<Option<ir::Value>>,
    defined_in: Vec<u32>,
    segment_number: u32,
    /// Per segment start, the values its block takes as parameters, in order.
    seg_params: HashMap<usize, Vec<Value>>,
    ctx: ir::Value,
    vals: ir::Value,
    /// The heap region, where its allocated length is, its shadow and its colour map.
    heap: [ir::Value; 4],
    base: Variable,
    ovf: Variable,
    /// The start of the current segment.
    seg: usize,
    /// Segment start → its end (its last op).
    seg_end: HashMap<usize, usize>,
    /// The block starting each segment (the trace start and each label of this trace).
    seg_block: HashMap<usize, Block>,
    live: Liveness,
    ended: Block,
    exits: Vec<ExitInfo>,
    pending: Vec<PendingExit>,
    stats: LowerStats,
}

const TRUSTED: MemFlagsData = MemFlagsData::trusted();

/// The signature of every compiled trace: `fn(ctx: *mut NativeCtx, entry: u64) -> u32`,
/// where `entry` is op 0 or the op after a label (its parameters in their slots).
pub(crate) fn trace_signature(call_conv: cranelift_codegen::isa::CallConv) -> Signature {
    let mut sig = Signature::new(call_conv);
    sig.params.push(AbiParam::new(types::I64));
    sig.params.push(AbiParam::new(types::I64));
    sig.returns.push(AbiParam::new(types::I32));
    sig
}

/// The signature of a service: `fn(ctx, word) -> status`.
pub(crate) fn service_signature(call_conv: cranelift_codegen::isa::CallConv) -> Signature {
    let mut sig = Signature::new(call_conv);
    sig.params.push(AbiParam::new(types::I64));
    sig.params.push(AbiParam::new(types::I64));
    sig.returns.push(AbiParam::new(types::I64));
    sig
}

/// The signature of a registered external function of `arity` words: `fn(u64...) -> u64`.
pub(crate) fn extern_signature(call_conv: cranelift_codegen::isa::CallConv, arity: usize) -> Signature {
    let mut sig = Signature::new(call_conv);
    sig.params.extend((0..arity).map(|_| AbiParam::new(types::I64)));
    sig.returns.push(AbiParam::new(types::I64));
    sig
}

/// The registered external function op `op` of `t` calls directly, if any: an ordinary call
/// (not a conditional one) of a `ConstClass` target registered with the call's arity.
pub(crate) fn direct_extern<'t, 'e>(t: &'t Trace, op: &Op, externals: &'e Externals) -> Option<(&'t str, &'e ExternFn)> {
    use Opcode::*;
    let plain = matches!(
        op.opcode,
        CallI | CallR | CallF | CallN | CallPureI | CallPureR | CallPureF | CallPureN | CallMayForceI | CallMayForceR | CallMayForceF | CallMayForceN
            | CallLoopinvariantI | CallLoopinvariantR | CallLoopinvariantF | CallLoopinvariantN | CallReleaseGilI | CallReleaseGilR | CallReleaseGilF | CallReleaseGilN
    );
    let i = op.opcode.call_target_index().filter(|_| plain)?;
    let Some(Const::Class(name)) = t.as_const(*op.args.get(i)?) else { return None };
    let f = externals.get(name)?;
    (f.params.len() == op.args.len() - i - 1).then_some((name.as_str(), f))
}

/// Lowers trace `tid` into `func` (whose signature is set).
pub(crate) fn lower(m: &Module, tid: TraceId, func: &mut Function, fctx: &mut FunctionBuilderContext, target: TargetFrontendConfig, svc: impl FnOnce(&mut Function) -> Services) -> Lowered {
    let t = &m.traces[tid];
    let svc = svc(func);
    let mut b = FunctionBuilder::new(func, fctx);
    let starts = segment_starts(t);
    let mut seg_end = HashMap::new();
    for (k, &s) in starts.iter().enumerate() {
        let end = starts.get(k + 1).map_or(t.ops.len(), |&n| n) as isize - 1;
        seg_end.insert(s, end.max(s as isize) as usize);
    }
    let entry = b.create_block();
    b.append_block_params_for_function_params(entry);
    b.switch_to_block(entry);
    let ctx = b.block_params(entry)[0];
    let entry_pc = b.block_params(entry)[1];
    let vals = b.ins().load(types::I64, TRUSTED, ctx, ctx_offset::VALS);
    let heap = [ctx_offset::HEAP_BASE, ctx_offset::HEAP_LIMIT, ctx_offset::SHADOW, ctx_offset::COLOR].map(|o| b.ins().load(types::I64, TRUSTED, ctx, o));
    let base = b.declare_var(types::I64);
    let ovf = b.declare_var(types::I8);
    let ended = b.create_block();
    b.set_cold_block(ended);
    let live = Liveness::new(t, &starts);
    let mut seg_block = HashMap::new();
    let mut seg_params = HashMap::new();
    for &s in &starts {
        let block = b.create_block();
        let params = segment_params(t, &live, s);
        for &v in &params {
            b.append_block_param(block, clif_type(t.ty(v)).unwrap_or(types::I64));
        }
        seg_block.insert(s, block);
        seg_params.insert(s, params);
    }
    let n = t.values.len();
    let (current, defined_in) = (vec![None; n], vec![0; n]);
    let mut l = Lower { m, t, b, svc, current, defined_in, segment_number: 0, seg_params, ctx, vals, heap, base, ovf, seg: 0, seg_end, seg_block, live, ended, exits: Vec::new(), pending: Vec::new(), stats: LowerStats::default() };
    l.prologue(entry_pc, &starts);
    l.body();
    l.emit_exits();
    l.b.switch_to_block(l.ended);
    let zero = l.b.ins().iconst(types::I32, 0);
    l.b.ins().return_(&[zero]);
    l.b.seal_all_blocks();
    l.b.finalize(target);
    Lowered { exits: l.exits, entries: starts, stats: l.stats }
}

/// Op 0 and the op after each label: where straight-line counting restarts.
fn segment_starts(t: &Trace) -> Vec<usize> {
    let mut s = vec![0];
    s.extend(t.ops.values().enumerate().filter(|(_, op)| op.opcode == Opcode::Label).map(|(k, _)| k + 1));
    s.dedup();
    s
}

/// The most values a segment block of `t` takes as parameters (what a loop header carries).
pub(crate) fn most_carried(t: &Trace) -> usize {
    let starts = segment_starts(t);
    let live = Liveness::new(t, &starts);
    starts.iter().map(|&s| segment_params(t, &live, s).len()).max().unwrap_or(0)
}

/// The values the block of the segment starting at `start` takes: the trace's inputs for the
/// trace start (a jump back to it gives them all), else what an exit at its start would store.
fn segment_params(t: &Trace, live: &Liveness, start: usize) -> Vec<Value> {
    let params = if start == 0 { t.inputs.clone() } else { live.interpret_exit_values(t, start, start) };
    params.into_iter().filter(|&v| clif_type(t.ty(v)).is_some()).collect()
}

fn clif_type(ty: Type) -> Option<ir::Type> {
    match ty {
        Type::Int | Type::Ref => Some(types::I64),
        Type::Float => Some(types::F64),
        _ => None,
    }
}

impl Lower<'_, '_> {
    /// Dispatches on the entry: op 0 reads the inputs from their slots; the op after a label
    /// reads the values its segment uses from before it (the label's parameters first).
    fn prologue(&mut self, entry_pc: ir::Value, starts: &[usize]) {
        for &e in starts.iter().filter(|&&e| e != 0) {
            let here = self.b.create_block();
            let other = self.b.create_block();
            let is = self.b.ins().icmp_imm_u(IntCC::Equal, entry_pc, e as i64);
            self.b.ins().brif(is, here, &[], other, &[]);
            self.b.switch_to_block(here);
            self.b.seal_block(here);
            self.load_counts();
            let args = self.seg_params[&e].clone().into_iter().map(|v| self.load_slot(v)).collect();
            self.jump_to_segment(e, args);
            self.b.switch_to_block(other);
            self.b.seal_block(other);
        }
        self.load_counts();
        let args = self.seg_params[&0].clone().into_iter().map(|v| self.load_slot(v)).collect();
        self.jump_to_segment(0, args);
        self.enter_segment(0);
    }

    /// Ends the current block with a jump to the block of the segment starting at `start`,
    /// giving it `args` for its parameters.
    fn jump_to_segment(&mut self, start: usize, args: Vec<ir::Value>) {
        let args: Vec<ir::BlockArg> = args.into_iter().map(ir::BlockArg::from).collect();
        self.b.ins().jump(self.seg_block[&start], &args);
    }

    /// What a jump or fall-through into the segment starting at `start` gives its block: for
    /// the parameters of the label before it (or the inputs, for the trace start) the
    /// values `given`, for the rest their values here.
    fn segment_args(&mut self, start: usize, params: &[Value], given: &[Value]) -> Vec<ir::Value> {
        let given: Vec<ir::Value> = given.iter().map(|&a| self.get(a)).collect();
        // By value: a loop may carry thousands of parameters.
        let param_at: HashMap<Value, usize> = params.iter().enumerate().map(|(k, &p)| (p, k)).collect();
        let wanted = self.seg_params[&start].clone();
        wanted.into_iter().map(|v| match param_at.get(&v).copied() {
            Some(k) => {
                let want = clif_type(self.t.ty(v)).unwrap_or(types::I64);
                self.bitcast_to(given[k], want)
            }
            None => self.get(v),
        }).collect()
    }

    fn load_counts(&mut self) {
        let ops = self.b.ins().load(types::I64, TRUSTED, self.ctx, ctx_offset::OPS);
        self.b.def_var(self.base, ops);
        let ovf = self.b.ins().load(types::I8, TRUSTED, self.ctx, ctx_offset::OVF);
        self.b.def_var(self.ovf, ovf);
    }

    fn body(&mut self) {
        for (pc, op) in self.t.ops.values().enumerate() {
            if self.current_block_terminated() && op.opcode != Opcode::Label {
                // Ops after a jump or finish that no label starts are never reached (no exit or
                // entry is in them): not lowered.
                continue;
            }
            self.op(pc, op);
        }
        if !self.current_block_terminated() {
            // A trace that runs off its end: the interpreter says so.
            self.interpret_exit(self.t.ops.len(), ExitKind::OffTheEnd);
        }
    }

    fn current_block_terminated(&self) -> bool {
        let Some(block) = self.b.current_block() else { return true };
        self.b.func.layout.last_inst(block).is_some_and(|i| self.b.func.dfg.insts[i].opcode().is_terminator())
    }

    /// Starts the segment at `start` in its block: the fuel check first.
    fn enter_segment(&mut self, start: usize) {
        let block = self.seg_block[&start];
        self.b.switch_to_block(block);
        self.seg = start;
        self.segment_number += 1;
        let params = self.b.block_params(block).to_vec();
        for (v, x) in self.seg_params[&start].clone().into_iter().zip(params) {
            self.set(v, x);
        }
        let len = (self.seg_end[&start] + 1 - start) as i64;
        let base = self.b.use_var(self.base);
        let fuel = self.b.ins().load(types::I64, TRUSTED, self.ctx, ctx_offset::FUEL);
        let need = self.b.ins().iadd_imm_s(base, len);
        let over = self.b.ins().icmp(IntCC::UnsignedGreaterThan, need, fuel);
        let exit = self.interpret_exit_block(start, ExitKind::Fuel);
        let go = self.b.create_block();
        self.b.ins().brif(over, exit, &[], go, &[]);
        self.b.switch_to_block(go);
        self.b.seal_block(go);
    }

    fn op(&mut self, pc: usize, op: &Op) {
        use Opcode::*;
        match op.opcode {
            Label => {
                self.stats.native_ops += 1;
                self.label(pc, op)
            }
            Jump => self.jump(pc, op),
            Finish => {
                self.stats.runtime_ops += 1;
                self.interpret_exit(pc, ExitKind::Finish)
            }
            o if o.is_guard() => self.guard(pc, op),
            // Statements of facts the runtime makes true of what it invents.
            RecordKnownClass | RecordKnownField | RecordKnownResult => self.runtime_op(pc, op),
            o if o.is_marker() => self.stats.native_ops += 1,
            _ if self.memory(pc, op) => self.stats.native_ops += 1,
            _ if self.extern_call(pc, op) => self.stats.native_ops += 1,
            _ => {
                if let Some(r) = pure::lower(self, op) {
                    self.stats.native_ops += 1;
                    if let Some(v) = op.result {
                        self.def(v, r);
                    }
                } else {
                    self.runtime_op(pc, op);
                }
            }
        }
    }

    fn label(&mut self, pc: usize, op: &Op) {
        if !self.current_block_terminated() {
            let params = &op.label().expect("a label has label data").params;
            let args = self.segment_args(pc + 1, params, &op.args);
            self.advance_base(pc);
            self.jump_to_segment(pc + 1, args);
        }
        self.enter_segment(pc + 1);
    }

    /// `base` moves past the ops of the current segment up to and including `pc`.
    fn advance_base(&mut self, pc: usize) {
        let base = self.b.use_var(self.base);
        let n = self.b.ins().iadd_imm_s(base, (pc + 1 - self.seg) as i64);
        self.b.def_var(self.base, n);
    }

    fn jump(&mut self, pc: usize, op: &Op) {
        let target = op.jump_target().unwrap_or(Target::SELF_START);
        let (params, start): (Vec<Value>, usize) = match target {
            Target::Loop(-1) => (self.t.inputs.clone(), 0),
            // Only a label of this trace is a branch; any other is left to the runtime.
            Target::Token(_) => match self.t.labels().find(|(_, l)| l.token == target) {
                Some((oid, l)) => (l.params.clone(), oid.index() + 1),
                None => return self.leave(pc),
            },
            Target::Loop(_) => return self.leave(pc),
        };
        let args = self.segment_args(start, &params, &op.args);
        self.advance_base(pc);
        let it = self.b.ins().load(types::I64, TRUSTED, self.ctx, ctx_offset::ITERATIONS);
        let it = self.b.ins().iadd_imm_s(it, 1);
        self.b.ins().store(TRUSTED, it, self.ctx, ctx_offset::ITERATIONS);
        self.jump_to_segment(start, args);
        self.stats.native_ops += 1;
    }

    /// A jump into another trace: the runtime takes it.
    fn leave(&mut self, pc: usize) {
        self.stats.runtime_ops += 1;
        self.interpret_exit(pc, ExitKind::Leave);
    }

    fn guard(&mut self, pc: usize, op: &Op) {
        use Opcode::*;
        self.stats.guards += 1;
        let x = op.args.first().map(|&a| self.get_int(a));
        let y = op.args.get(1).map(|&a| self.get_int(a));
        let pass = match op.opcode {
            GuardTrue | VecGuardTrue => Some(self.b.ins().icmp_imm_s(IntCC::NotEqual, x.expect("operand"), 0)),
            GuardFalse | VecGuardFalse | GuardIsnull => Some(self.b.ins().icmp_imm_s(IntCC::Equal, x.expect("operand"), 0)),
            GuardNonnull | GuardIsObject => Some(self.b.ins().icmp_imm_s(IntCC::NotEqual, x.expect("operand"), 0)),
            GuardValue => Some(self.b.ins().icmp(IntCC::Equal, x.expect("operand"), y.expect("operand"))),
            GuardClass | GuardGcType | GuardSubclass | GuardNonnullClass => {
                let p = x.expect("operand");
                let cls = self.class_of(pc, p);
                let same = self.b.ins().icmp(IntCC::Equal, cls, y.expect("operand"));
                if op.opcode == GuardNonnullClass {
                    let nonnull = self.b.ins().icmp_imm_s(IntCC::NotEqual, p, 0);
                    Some(self.b.ins().band(nonnull, same))
                } else {
                    Some(same)
                }
            }
            GuardNoOverflow => {
                let o = self.b.use_var(self.ovf);
                Some(self.b.ins().icmp_imm_s(IntCC::Equal, o, 0))
            }
            GuardOverflow => {
                let o = self.b.use_var(self.ovf);
                Some(self.b.ins().icmp_imm_s(IntCC::NotEqual, o, 0))
            }
            GuardNoException | GuardNotForced | GuardNotForced2 | GuardNotInvalidated | GuardFutureCondition => None,
            _ => Some(self.b.ins().iconst(types::I8, 0)),
        };
        if let Some(r) = op.result {
            let zero = self.b.ins().iconst(types::I64, 0);
            self.def(r, zero);
        }
        let Some(pass) = pass else { return };
        let exit = self.exit_block(pc, ExitKind::Guard, &guard_exit_values(self.t, op));
        let next = self.b.create_block();
        self.b.ins().brif(pass, next, &[], exit, &[]);
        self.b.switch_to_block(next);
        self.b.seal_block(next);
    }

    /// The class word of `p` through the runtime (the header of an object of unknown layout is
    /// invented on first read).
    fn class_of(&mut self, pc: usize, p: ir::Value) -> ir::Value {
        let n = self.ops_through(pc);
        self.b.ins().store(TRUSTED, n, self.ctx, ctx_offset::OPS);
        let status = {
            let call = self.b.ins().call(self.svc.class_of, &[self.ctx, p]);
            self.b.inst_results(call)[0]
        };
        self.check_status(status);
        self.b.ins().load(types::I64, TRUSTED, self.ctx, ctx_offset::SCRATCH)
    }

    fn check_status(&mut self, status: ir::Value) {
        let ok = self.b.create_block();
        let failed = self.b.ins().icmp_imm_s(IntCC::NotEqual, status, STATUS_OK as i64);
        self.b.ins().brif(failed, self.ended, &[], ok, &[]);
        self.b.switch_to_block(ok);
        self.b.seal_block(ok);
    }

    /// A call of a registered external function, lowered as a direct call (false: the op is
    /// not one).
    fn extern_call(&mut self, pc: usize, op: &Op) -> bool {
        let Some(&fref) = self.svc.externs.get(&pc) else { return false };
        let i = op.opcode.call_target_index().expect("a call");
        let args: Vec<ir::Value> = op.args[i + 1..].iter().map(|&a| self.get_int(a)).collect();
        let call = self.b.ins().call(fref, &args);
        let r = self.b.inst_results(call)[0];
        if let Some(v) = op.result {
            self.def(v, r);
        }
        true
    }

    /// An op the runtime executes.
    fn runtime_op(&mut self, pc: usize, op: &Op) {
        self.stats.runtime_ops += 1;
        if let Some(r) = self.runtime_call(pc, op) {
            self.def(op.result.expect("a result"), r);
        }
    }

    /// Has the runtime execute op `pc`: operands to their slots, call, result from its slot.
    fn runtime_call(&mut self, pc: usize, op: &Op) -> Option<ir::Value> {
        let calls_trace = self.calls_trace_function(op);
        let mut spill: Vec<Value> = op.args.to_vec();
        if calls_trace {
            // A guard failing in the callee resumes this trace's frames at the call site.
            let call = self.t.ops.keys().nth(pc).expect("the call is in the order");
            for fr in tracelab_ir::resume::call_site_frames(self.t, call) {
                spill.extend(fr.slots.iter().filter_map(|s| match s {
                    tracelab_ir::resume::ResumeValue::Value(v) => Some(*v),
                    _ => None,
                }));
            }
        }
        // The count the run ends with if the runtime ends it here.
        let n = self.ops_through(pc);
        self.b.ins().store(TRUSTED, n, self.ctx, ctx_offset::OPS);
        for v in spill {
            if crate::exits::def_index(self.t, v).is_some() {
                self.store_slot(v);
            }
        }
        let pc_v = self.b.ins().iconst(types::I64, pc as i64);
        let call = self.b.ins().call(self.svc.step, &[self.ctx, pc_v]);
        let status = self.b.inst_results(call)[0];
        self.check_status(status);
        let result = op.result.filter(|&r| clif_type(self.t.ty(r)).is_some()).map(|r| self.load_slot(r));
        if calls_trace {
            self.after_trace_call(pc);
        }
        result
    }

    fn calls_trace_function(&self, op: &Op) -> bool {
        op.opcode.call_target_index().and_then(|i| op.args.get(i)).is_some_and(|&f| matches!(self.t.as_const(f), Some(Const::Func(_))))
    }

    /// The interpreter's op count once op `pc` has started.
    fn ops_through(&mut self, pc: usize) -> ir::Value {
        let base = self.b.use_var(self.base);
        self.b.ins().iadd_imm_s(base, (pc + 1 - self.seg) as i64)
    }

    /// A called trace function ran ops of its own: recount, and leave if the rest of the
    /// segment might run past the fuel.
    fn after_trace_call(&mut self, pc: usize) {
        let ops = self.b.ins().load(types::I64, TRUSTED, self.ctx, ctx_offset::OPS);
        let base = self.b.ins().iadd_imm_s(ops, -((pc + 1 - self.seg) as i64));
        self.b.def_var(self.base, base);
        let rest = (self.seg_end[&self.seg] - pc) as i64;
        let need = self.b.ins().iadd_imm_s(ops, rest);
        let fuel = self.b.ins().load(types::I64, TRUSTED, self.ctx, ctx_offset::FUEL);
        let over = self.b.ins().icmp(IntCC::UnsignedGreaterThan, need, fuel);
        let exit = self.interpret_exit_block(pc + 1, ExitKind::Fuel);
        let go = self.b.create_block();
        self.b.ins().brif(over, exit, &[], go, &[]);
        self.b.switch_to_block(go);
        self.b.seal_block(go);
    }

    /// Ends the current block with an interpret exit at `pc`.
    fn interpret_exit(&mut self, pc: usize, kind: ExitKind) {
        let block = self.interpret_exit_block(pc, kind);
        self.b.ins().jump(block, &[]);
    }

    fn interpret_exit_block(&mut self, pc: usize, kind: ExitKind) -> Block {
        let values = self.live.interpret_exit_values(self.t, self.seg, pc);
        self.exit_block(pc, kind, &values)
    }

    /// A cold block that will store `values`, the op count before `pc` and the overflow flag,
    /// and return the new exit's number (filled in by `emit_exits`, so that no block is left
    /// half-built).
    fn exit_block(&mut self, pc: usize, kind: ExitKind, values: &[Value]) -> Block {
        let block = self.b.create_block();
        self.b.set_cold_block(block);
        self.exits.push(ExitInfo { pc, kind });
        let base = self.b.use_var(self.base);
        let ops = self.b.ins().iadd_imm_s(base, (pc - self.seg) as i64);
        let ovf = self.b.use_var(self.ovf);
        let values = values.iter().filter(|&&v| clif_type(self.t.ty(v)).is_some()).map(|&v| (v, self.get(v))).collect();
        self.pending.push(PendingExit { block, number: self.exits.len(), ops, ovf, values });
        block
    }

    fn emit_exits(&mut self) {
        for e in std::mem::take(&mut self.pending) {
            self.b.switch_to_block(e.block);
            self.b.seal_block(e.block);
            for (v, x) in e.values {
                self.b.ins().store(TRUSTED, x, self.vals, Self::slot_offset(v));
            }
            self.b.ins().store(TRUSTED, e.ops, self.ctx, ctx_offset::OPS);
            self.b.ins().store(TRUSTED, e.ovf, self.ctx, ctx_offset::OVF);
            let n = self.b.ins().iconst(types::I32, e.number as i64);
            self.b.ins().return_(&[n]);
        }
    }

    fn bitcast_to(&mut self, x: ir::Value, want: ir::Type) -> ir::Value {
        pure::bitcast_to(self, x, want)
    }

    /// A value as Cranelift sees it (constants materialized; `ConstPtr`s from their slots,
    /// which the runtime filled before entry).
    fn get(&mut self, v: Value) -> ir::Value {
        match &self.t.values[v].def {
            ValueDef::Const(c) => match c {
                Const::Int(i) => self.b.ins().iconst(types::I64, *i),
                Const::Float(bits) => self.b.ins().f64const(f64::from_bits(*bits)),
                Const::Null => self.b.ins().iconst(types::I64, 0),
                Const::Class(n) | Const::Func(n) => self.b.ins().iconst(types::I64, class_id(n) as i64),
                Const::Ptr(_) => self.load_slot(v),
            },
            _ => match self.current[v.index()].filter(|_| self.defined_in[v.index()] == self.segment_number) {
                Some(x) => x,
                // Not defined on the way here (a resume value the call spilling it precedes):
                // zero, as Cranelift gives a variable never defined.
                None => match clif_type(self.t.ty(v)) {
                    Some(types::F64) => self.b.ins().f64const(0.0),
                    _ => self.b.ins().iconst(types::I64, 0),
                },
            },
        }
    }

    /// A value's bits as an `I64` (floats reinterpreted).
    fn get_int(&mut self, v: Value) -> ir::Value {
        pure::get_int(self, v)
    }

    fn def(&mut self, v: Value, x: ir::Value) {
        if let Some(want) = clif_type(self.t.ty(v)) {
            let x = self.bitcast_to(x, want);
            self.set(v, x);
        }
    }

    fn set(&mut self, v: Value, x: ir::Value) {
        self.current[v.index()] = Some(x);
        self.defined_in[v.index()] = self.segment_number;
    }

    fn slot_offset(v: Value) -> i32 {
        (v.index() * 8) as i32
    }

    fn load_slot(&mut self, v: Value) -> ir::Value {
        let ty = clif_type(self.t.ty(v)).unwrap_or(types::I64);
        self.b.ins().load(ty, TRUSTED, self.vals, Self::slot_offset(v))
    }

    fn store_slot(&mut self, v: Value) {
        if clif_type(self.t.ty(v)).is_none() {
            return;
        }
        let x = self.get(v);
        self.b.ins().store(TRUSTED, x, self.vals, Self::slot_offset(v));
    }
}

impl<'a, 'b> pure::PureLowering<'b> for Lower<'a, 'b> {
    fn b(&mut self) -> &mut FunctionBuilder<'b> {
        &mut self.b
    }

    fn get(&mut self, v: Value) -> ir::Value {
        Lower::get(self, v)
    }

    fn ty(&self, v: Value) -> Type {
        self.t.ty(v)
    }

    fn ovf(&self) -> Variable {
        self.ovf
    }
}
