//! The reference interpreter: runs a trace op by op on the [`Heap`], the definition of what
//! every op means. Passes are checked against it (`equiv`) and compiled code is compared with it.
//!
//! - Integers wrap at 64 bits; `*_ovf` ops set an overflow flag that `guard_no_overflow` and
//!   `guard_overflow` read. Floats are IEEE doubles.
//! - Guards that fail end the run with the resumed state: each frame's values, virtuals
//!   allocated and filled, the virtualizable written back. If the module has a bridge for the
//!   guard, execution goes on in the bridge instead.
//! - `label`/`jump` loop; a jump into another trace's label continues there.
//! - Calls to `@functions` run them; external calls are modelled by their effect class
//!   ([`crate::model`]): elidable ones are pure functions of their arguments; the others are
//!   observable events, and those that can raise or force (EF >= 5) *clobber* memory: every
//!   word the trace did not write itself, and every word of the objects they are passed, reads
//!   as a fresh invented value afterwards. So an optimization that forwards a load across such
//!   a call shows up as a different result. The virtualizable's declared fields are the JIT's:
//!   only a call that may force (EF 6, 7) or is passed the frame clobbers them.
//! - Inputs not given, `ConstPtr` objects and whatever they point to are invented lazily from
//!   the seed; [`Constraints`] learned from failing guards override the invention.

use crate::heap::{HEADER, ITEMS_OFFSET, LAZY_SIZE, LENGTH_OFFSET};
use crate::externals::Externals;
use crate::machine::{size_mask, trap};
use crate::machine::{Machine, ObjKind};
use crate::model::{call_result, class_id, mix, Forced, Origin};
use std::collections::{BTreeMap, HashMap};
use tracelab_ir::descr::{ArrayDescr, DescrData, FieldDescr, MemKind};
use tracelab_ir::entity::EntityRef;
use tracelab_ir::resume::{FieldKey, ResumeValue, VableSlot};
use tracelab_ir::trace::ValueDef;
use tracelab_ir::{Const, DescrId, Module, Op, OpId, Opcode, Target, Trace, TraceId, TraceKind, Type, Value};

/// A runtime value: its type and 64 bits (ints, float bits, or an address; null is 0).
#[derive(Copy, Clone, PartialEq, Eq, Debug, Hash)]
pub struct RtValue {
    pub ty: Type,
    pub bits: u64,
}

/// Input constraints learned from failing guards: origin → what it must be.
pub type Constraints = BTreeMap<Origin, Forced>;

#[derive(Clone, Debug)]
pub struct Config {
    pub seed: u64,
    /// Ops executed before the run stops.
    pub fuel: u64,
    pub heap_bytes: usize,
    /// Values for the first inputs (ints and floats as bits); the rest are invented.
    pub args: Vec<u64>,
    pub constraints: Constraints,
    /// Functions external calls run instead of the model ([`crate::externals`]).
    pub externals: std::sync::Arc<Externals>,
}

impl Default for Config {
    fn default() -> Config {
        Config { seed: 0, fuel: 1_000_000, heap_bytes: 64 << 20, args: Vec::new(), constraints: Constraints::new(), externals: std::sync::Arc::new(Externals::standard()) }
    }
}

/// An observable event: an external call that is not elidable.
#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    pub target: String,
    pub args: Vec<RtValue>,
    pub result: Option<RtValue>,
}

/// One interpreter frame of the resumed state.
#[derive(Clone, Debug, PartialEq)]
pub struct FrameState {
    pub code: String,
    pub pc: u32,
    pub slots: Vec<Option<RtValue>>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Exit {
    Finish(Option<RtValue>),
    GuardFailed {
        trace: String,
        op: usize,
        guard_id: Option<u64>,
        fail_args: Vec<Option<RtValue>>,
        /// Present when the guard has resume data.
        frames: Option<Vec<FrameState>>,
    },
    OutOfFuel,
    /// The trace did something undefined (out-of-bounds index, division by zero, a jump
    /// out of the module...).
    Trap(String),
}

/// What a run did.
pub struct Run {
    pub exit: Exit,
    pub inputs: Vec<RtValue>,
    pub events: Vec<Event>,
    pub ops: u64,
    /// Back edges taken (jumps).
    pub iterations: u64,
    pub machine: Machine,
}

pub(crate) struct Frame<'m> {
    pub(crate) tid: TraceId,
    pub(crate) t: &'m Trace,
    pub(crate) vals: Vec<u64>,
    pub(crate) prov: Vec<Option<Origin>>,
}

pub struct Interp<'m> {
    pub(crate) m: &'m Module,
    pub machine: Machine,
    pub(crate) cfg: Config,
    events: Vec<Event>,
    pub(crate) ops: u64,
    pub(crate) iterations: u64,
    pub(crate) ovf: bool,
    bridges: HashMap<u64, TraceId>,
    /// Labels and functions by token and name: one lookup per jump and per call.
    pub(crate) index: tracelab_ir::facts::ModuleIndex,
    /// Who watches the run (the input learner), if anyone.
    observer: Option<&'m mut (dyn Observer + 'static)>,
    /// Calls of trace functions in progress (bounded: recursion must not exhaust the stack).
    depth: usize,
    alloc_sites: rustc_hash::FxHashMap<(Opcode, Option<tracelab_ir::DescrId>), (std::sync::Arc<str>, u64)>,
    /// Results `record_known_result` stated, by [`call_key`] of target and arguments.
    known_results: HashMap<u64, u64>,
    /// Elidable calls that may write (a `cond_call_value`'s function filling a cache) made so
    /// far, by key: only the first with given arguments may change memory.
    cache_calls: std::collections::HashSet<u64>,
    /// The strings `_ll_stringslice` calls made, by call key (see `string_slice`).
    slices: HashMap<u64, u64>,
}

/// Nested calls of trace functions beyond this trap.
pub const MAX_CALL_DEPTH: usize = 48;

/// What a run tells whoever watches it: the input learner ([`crate::learn`]) is one. The
/// semantics do not depend on it; only what is reported is computed for it.
pub trait Observer {
    /// A guard failed (`bridged`: its bridge goes on from here, so the run did not end there).
    fn guard_failed(&mut self, guard: FailedGuard, bridged: bool);
    /// An index was out of the bounds of an array, or past the end of its object.
    fn index_out_of_bounds(&mut self, at: OutOfBounds);
}

/// An index out of an array's bounds (or past the end of its object), and where the index and
/// the length came from if they were invented.
#[derive(Clone, Debug)]
pub struct OutOfBounds {
    pub index: u64,
    pub item_size: u64,
    pub index_origin: Option<Origin>,
    pub length_origin: Option<Origin>,
}

/// A failed guard as the input learner needs it: where, and for its operands (and, when its
/// condition was computed by a comparison, that comparison's operands) the value and origin.
#[derive(Clone, Debug)]
pub struct FailedGuard {
    pub trace: TraceId,
    pub op: OpId,
    pub operands: Vec<(u64, Option<Origin>)>,
    pub condition: Vec<(u64, Option<Origin>)>,
    /// Per condition operand that a call computed: the call's arguments (after its target),
    /// value and origin (`n % 2 == 0` with `n` invented: what to solve through the call).
    pub condition_calls: Vec<Option<Vec<(u64, Option<Origin>)>>>,
}

pub(crate) type Step<T> = Result<T, Exit>;

/// What a call's result may depend on of an argument: scalars, and of references only whether
/// they are null (an optimized trace allocates fewer objects, so addresses differ between
/// equivalent runs).
fn call_arg_bits(ty: Type, bits: u64) -> u64 {
    if ty == Type::Ref {
        u64::from(bits != 0)
    } else {
        bits
    }
}

/// The key of a stated call result by target and arguments, objects by address: within one run
/// an address is one object, and a statement about one string says nothing of another (unlike
/// [`call_arg_bits`], which makes modelled results independent of addresses).
fn call_key(target: &str, bits: &[u64]) -> u64 {
    mix((target, bits))
}

impl<'m> Interp<'m> {
    pub fn new(m: &'m Module, cfg: Config) -> Interp<'m> {
        let mut bridges = HashMap::new();
        for (tid, t) in m.traces.iter() {
            if let TraceKind::Bridge { guard } = t.kind {
                bridges.insert(guard, tid);
            }
        }
        let machine = Machine::new(&cfg);
        let mut machine = machine;
        machine.note_accesses = m.descrs.values().any(|d| matches!(&d.data, DescrData::Call(c) if c.writes.is_some()));
        Interp { m, machine, cfg, events: Vec::new(), ops: 0, iterations: 0, ovf: false, bridges, index: tracelab_ir::facts::ModuleIndex::of(m), observer: None, depth: 0, alloc_sites: Default::default(), known_results: HashMap::new(), cache_calls: Default::default(), slices: HashMap::new() }
    }

    /// An interpreter whose run reports to `observer`.
    pub fn observed(m: &'m Module, cfg: Config, observer: &'m mut (dyn Observer + 'static)) -> Interp<'m> {
        Interp { observer: Some(observer), ..Interp::new(m, cfg) }
    }

    /// Runs trace `tid` from its start.
    pub fn run(mut self, tid: TraceId) -> Run {
        let mut frame = self.frame(tid);
        let mut inputs = Vec::new();
        let exit = match self.bind_inputs(&mut frame) {
            Ok(ins) => {
                inputs = ins;
                match self.exec(frame, 0) {
                    Ok(e) | Err(e) => e,
                }
            }
            Err(e) => e,
        };
        self.into_run(exit, inputs)
    }

    /// The run as it ended with `exit`.
    pub(crate) fn into_run(self, exit: Exit, inputs: Vec<RtValue>) -> Run {
        Run {
            exit,
            inputs,
            events: self.events,
            ops: self.ops,
            iterations: self.iterations,
            machine: self.machine,
        }
    }

    /// A frame for trace `tid` with no values yet.
    pub(crate) fn frame(&self, tid: TraceId) -> Frame<'m> {
        let t = &self.m.traces[tid];
        Frame { tid, t, vals: vec![0; t.values.len()], prov: vec![None; t.values.len()] }
    }

    pub(crate) fn bind_inputs(&mut self, f: &mut Frame<'m>) -> Step<Vec<RtValue>> {
        let mut out = Vec::new();
        for (k, &v) in f.t.inputs.iter().enumerate() {
            let ty = f.t.ty(v);
            let origin = Origin::Input(k as u32);
            let bits = match self.cfg.args.get(k) {
                Some(&b) => b,
                None => self.machine.invent(ty, origin.clone())?,
            };
            f.vals[v.index()] = bits;
            f.prov[v.index()] = Some(origin);
            out.push(RtValue { ty, bits });
        }
        Ok(out)
    }

    fn get(&mut self, f: &mut Frame<'m>, v: Value) -> Step<u64> {
        match &f.t.values[v].def {
            ValueDef::Const(c) => self.constant(c),
            _ => Ok(f.vals[v.index()]),
        }
    }

    pub(crate) fn constant(&mut self, c: &Const) -> Step<u64> {
        Ok(match c {
            Const::Int(i) => *i as u64,
            Const::Float(b) => *b,
            Const::Null => 0,
            // Through the constraints: learning may find two names to be one object.
            Const::Ptr(name) => self.machine.invent(Type::Ref, Origin::Const(name.clone()))?,
            Const::Class(name) | Const::Func(name) => class_id(name),
        })
    }

    /// Where `v`'s value came from, if invented: its provenance, or the name of a `ConstPtr`
    /// (whose object the learner may make the same as another).
    fn origin(&self, f: &Frame<'m>, v: Value) -> Option<Origin> {
        value_origin(f, v)
    }

    /// Runs `f` from op `pc` to the end of the run in the interpreter alone. Calls of trace
    /// functions keep their callers on a stack here, not on Rust's.
    pub(crate) fn exec(&mut self, mut f: Frame<'m>, mut pc: usize) -> Step<Exit> {
        let mut callers: Vec<(Frame<'m>, usize)> = Vec::new();
        loop {
            let mut end = match self.run_ops(&mut f, pc) {
                Ok((Flow::Enter(next, at), _)) => {
                    (f, pc) = (next, at);
                    continue;
                }
                Ok((Flow::Call(callee), at)) => {
                    callers.push((std::mem::replace(&mut f, callee), at));
                    pc = 0;
                    continue;
                }
                Ok((Flow::Exit(e), _)) => Ok(e),
                Ok((Flow::Next, _)) => unreachable!("run_ops returns at a transfer"),
                Err(e) => Err(e),
            };
            // The frame ended: its caller, if any, goes on with what it ended with.
            loop {
                let Some((mut caller, at)) = callers.pop() else { return end };
                match self.call_returned(&mut caller, at, end) {
                    Ok(Flow::Next) => {
                        (f, pc) = (caller, at + 1);
                        break;
                    }
                    Ok(Flow::Exit(e)) => end = Ok(e),
                    Ok(_) => unreachable!("a returning call only goes on or ends"),
                    Err(e) => end = Err(e),
                }
            }
        }
    }

    /// Executes ops of `f` from `pc` until one transfers control: a jump or bridge into another
    /// frame, a call of a trace function, the end of the run. That flow, and the op that made it.
    pub(crate) fn run_ops(&mut self, f: &mut Frame<'m>, mut pc: usize) -> Step<(Flow<'m>, usize)> {
        loop {
            let Some(op) = self.index.op_at(f.tid, pc).map(|id| &f.t.ops[id]) else {
                return Err(Exit::Trap(format!("trace `{}` ran off its end", f.t.name)));
            };
            self.ops += 1;
            if self.ops > self.cfg.fuel {
                return Err(Exit::OutOfFuel);
            }
            match self.step(f, pc, op)? {
                Flow::Next => pc += 1,
                flow => return Ok((flow, pc)),
            }
        }
    }

    fn set(&mut self, f: &mut Frame<'m>, op: &Op, bits: u64, origin: Option<Origin>) {
        if let Some(r) = op.result {
            f.vals[r.index()] = bits;
            f.prov[r.index()] = origin;
        }
    }

    pub(crate) fn step(&mut self, f: &mut Frame<'m>, pc: usize, op: &'m Op) -> Step<Flow<'m>> {
        use Opcode::*;
        let mut a = [0u64; 6];
        for (i, &v) in op.args.iter().take(6).enumerate() {
            a[i] = self.get(f, v)?;
        }
        let (x, y) = (a[0], a[1]);
        let r: u64 = match op.opcode {
            Label => {
                let l = op.label().expect("label data");
                for (k, &p) in l.params.iter().enumerate() {
                    let src = op.args[k];
                    f.vals[p.index()] = self.get(f, src)?;
                    f.prov[p.index()] = f.prov[src.index()].clone();
                }
                return Ok(Flow::Next);
            }
            Jump => return self.jump(f, op),
            Finish => {
                let v = match op.args.first() {
                    Some(&v) => Some(RtValue { ty: f.t.ty(v), bits: self.get(f, v)? }),
                    None => None,
                };
                return Ok(Flow::Exit(Exit::Finish(v)));
            }
            IntAddOvf | IntSubOvf | IntMulOvf => {
                let (xi, yi) = (x as i64, y as i64);
                let (v, o) = match op.opcode {
                    IntAddOvf => xi.overflowing_add(yi),
                    IntSubOvf => xi.overflowing_sub(yi),
                    _ => xi.overflowing_mul(yi),
                };
                self.ovf = o;
                v as u64
            }
            SameAsI | SameAsR | SameAsF | CastPtrToInt | CastIntToPtr => {
                let prov = self.origin(f, op.args[0]);
                self.set(f, op, x, prov);
                return Ok(Flow::Next);
            }
            o if o.is_pure() || matches!(o, IntFloordiv | UintFloordiv | IntMod) => match tracelab_ir::eval::pure(o, &a) {
                Some(r) => r,
                None => return Err(Exit::Trap(format!("`{o}` by zero"))),
            },
            op_ if op_.is_guard() => return self.guard(f, pc, op, &a),
            _ => {
                // Loads and stores through a descr: their words' epochs are that descr's.
                return match op.descr {
                    Some(d) => self.through(d, |me| me.memory_or_call(f, op, &a)),
                    None => self.memory_or_call(f, op, &a),
                };
            }
        };
        self.set(f, op, r, None);
        Ok(Flow::Next)
    }

    fn jump(&mut self, f: &mut Frame<'m>, op: &Op) -> Step<Flow<'m>> {
        self.iterations += 1;
        let mut vals = Vec::with_capacity(op.args.len());
        for &v in &op.args {
            vals.push((self.get(f, v)?, f.prov[v.index()].clone()));
        }
        let target = op.jump_target().unwrap_or(Target::SELF_START);
        let (tid, at, params): (TraceId, usize, &'m [Value]) = match target {
            Target::Loop(-1) => (f.tid, 0, &f.t.inputs),
            Target::Loop(n) => return Err(Exit::Trap(format!("jump to loop {n}, which is not in this module"))),
            Target::Token(_) => match self.index.label(target) {
                Some((tid, oid)) => {
                    let l = self.m.traces[tid].ops[oid].label().expect("a label");
                    let at = self.index.position(tid, oid).expect("a label in the order") + 1;
                    (tid, at, &l.params)
                }
                None => return Err(Exit::Trap(format!("jump to {target:?}, which is not in this module"))),
            },
        };
        let t = &self.m.traces[tid];
        let mut next = if tid == f.tid {
            Frame { tid, t, vals: std::mem::take(&mut f.vals), prov: std::mem::take(&mut f.prov) }
        } else {
            Frame { tid, t, vals: vec![0; t.values.len()], prov: vec![None; t.values.len()] }
        };
        for (p, (bits, prov)) in params.iter().zip(vals) {
            next.vals[p.index()] = bits;
            next.prov[p.index()] = prov;
        }
        Ok(Flow::Enter(next, at))
    }

    fn guard(&mut self, f: &mut Frame<'m>, pc: usize, op: &'m Op, a: &[u64; 6]) -> Step<Flow<'m>> {
        use Opcode::*;
        let header = |me: &mut Self, p: u64| -> Step<u64> {
            if p == 0 {
                return Ok(0);
            }
            Ok(me.machine.load(p + HEADER, 8, false, Type::Int)?.0)
        };
        let pass = match op.opcode {
            GuardTrue | VecGuardTrue => a[0] != 0,
            GuardFalse | VecGuardFalse => a[0] == 0,
            GuardValue => a[0] == a[1],
            GuardNonnull | GuardIsObject => a[0] != 0,
            GuardIsnull => a[0] == 0,
            GuardClass | GuardGcType | GuardSubclass => header(self, a[0])? == a[1],
            GuardNonnullClass => a[0] != 0 && header(self, a[0])? == a[1],
            GuardNoOverflow => !self.ovf,
            GuardOverflow => self.ovf,
            GuardNoException | GuardNotForced | GuardNotForced2 | GuardNotInvalidated | GuardFutureCondition => true,
            GuardException | GuardAlwaysFails => false,
            other => unreachable!("{other} is not a guard"),
        };
        if pass {
            if let Some(r) = op.result {
                f.vals[r.index()] = 0;
            }
            return Ok(Flow::Next);
        }
        self.guard_failed(f, pc, op)
    }

    fn guard_failed(&mut self, f: &mut Frame<'m>, pc: usize, op: &'m Op) -> Step<Flow<'m>> {
        let g = op.guard().cloned().unwrap_or_default();
        let bridge = g.id.and_then(|id| self.bridges.get(&id).copied()).filter(|&b| self.m.traces[b].inputs.len() == g.fail_args.len());
        if self.observer.is_some() {
            let failed = self.failed_guard(f, pc, op)?;
            if let Some(observer) = self.observer.as_deref_mut() {
                observer.guard_failed(failed, bridge.is_some());
            }
        }
        let mut fail_args = Vec::new();
        for v in &g.fail_args {
            fail_args.push(match v {
                Some(v) => Some(RtValue { ty: f.t.ty(*v), bits: self.get(f, *v)? }),
                None => None,
            });
        }
        if let Some(bridge) = bridge {
            let t = &self.m.traces[bridge];
            // The bridge continues from the original's state: delayed writes happen first.
            if let Some(r) = g.resume.as_ref().filter(|r| !r.pending.is_empty()) {
                self.resume(f, r)?;
            }
            let mut next = Frame { tid: bridge, t, vals: vec![0; t.values.len()], prov: vec![None; t.values.len()] };
            for (k, &inp) in t.inputs.iter().enumerate() {
                next.vals[inp.index()] = fail_args[k].map_or(0, |v| v.bits);
                next.prov[inp.index()] = g.fail_args[k].and_then(|v| f.prov[v.index()].clone());
            }
            return Ok(Flow::Enter(next, 0));
        }
        let frames = match &g.resume {
            Some(r) => Some(self.resume(f, r)?),
            None => None,
        };
        Ok(Flow::Exit(Exit::GuardFailed { trace: f.t.name.clone(), op: pc, guard_id: g.id, fail_args, frames }))
    }

    /// Runs `access` as an access through descr `d` (its words' epochs, types and accessed
    /// descrs are `d`'s; see [`Machine`]).
    fn through<T>(&mut self, d: DescrId, access: impl FnOnce(&mut Self) -> Step<T>) -> Step<T> {
        self.machine.via = memory_type(&self.m.descrs[d].data).map(|ty| (d, ty));
        let done = access(self);
        self.machine.via = None;
        done
    }

    /// The failed guard at op `pc` as an observer sees it: its operands' values and origins, and
    /// for a condition computed by a comparison, that comparison's operands too.
    fn failed_guard(&mut self, f: &mut Frame<'m>, pc: usize, op: &'m Op) -> Step<FailedGuard> {
        let mut operands = Vec::new();
        for &v in &op.args {
            operands.push((self.get(f, v)?, self.origin(f, v)));
        }
        let (mut condition, mut condition_calls) = (Vec::new(), Vec::new());
        if let Some(&v) = op.args.first() {
            if let ValueDef::Op(def) = f.t.values[v].def {
                for &a in &f.t.ops[def].args {
                    condition.push((self.get(f, a)?, self.origin(f, a)));
                    condition_calls.push(self.call_args(f, a)?);
                }
            }
        }
        let op_id = self.index.op_at(f.tid, pc).expect("the guard is in the order");
        Ok(FailedGuard { trace: f.tid, op: op_id, operands, condition, condition_calls })
    }

    /// For a value a call computed: the call's arguments after its target, value and origin.
    fn call_args(&mut self, f: &mut Frame<'m>, v: Value) -> Step<Option<Vec<(u64, Option<Origin>)>>> {
        let ValueDef::Op(def) = f.t.values[v].def else { return Ok(None) };
        let call = &f.t.ops[def];
        if !call.opcode.is_call() {
            return Ok(None);
        }
        let mut args = Vec::with_capacity(call.args.len().saturating_sub(1));
        for &a in call.args.iter().skip(1) {
            args.push((self.get(f, a)?, self.origin(f, a)));
        }
        Ok(Some(args))
    }

    /// Rebuilds the interpreter's state from resume data: virtuals allocated and filled
    /// (sharing and cycles kept), delayed writes done, the virtualizable written back.
    fn resume(&mut self, f: &mut Frame<'m>, r: &tracelab_ir::resume::Resume) -> Step<Vec<FrameState>> {
        let mut addrs = Vec::with_capacity(r.virtuals.len());
        for v in &r.virtuals {
            let descr = &self.m.descrs[v.descr];
            let (size, item) = match &descr.data {
                DescrData::Size(s) => (s.size as u64, None),
                DescrData::Array(ad) => (ITEMS_OFFSET + ad.item_size as u64 * v.length.unwrap_or(0) as u64, Some((ad.kind, ad.item_size as u64))),
                _ => (8, None),
            };
            let addr = self.machine.alloc(size, format!("{} {}", v.alloc, descr.data).into(), item)?;
            if let (DescrData::Size(s), Opcode::NewWithVtable) = (&descr.data, v.alloc) {
                let cls = s.class.as_deref().map_or(0, class_id);
                self.machine.store(addr + HEADER, 8, cls)?;
            }
            if item.is_some() {
                self.machine.store(addr + LENGTH_OFFSET, 8, v.length.unwrap_or(0) as u64)?;
            }
            addrs.push(addr);
        }
        let value = |me: &mut Self, f: &mut Frame<'m>, rv: &ResumeValue| -> Step<Option<RtValue>> {
            Ok(match rv {
                ResumeValue::Value(v) => Some(RtValue { ty: f.t.ty(*v), bits: me.get(f, *v)? }),
                ResumeValue::Virtual(id) => Some(RtValue { ty: Type::Ref, bits: addrs[id.index()] }),
                ResumeValue::Dead => None,
            })
        };
        for (v, &addr) in r.virtuals.iter().zip(&addrs) {
            for (key, rv) in &v.fields {
                let Some(val) = value(self, f, rv)? else { continue };
                let (off, size) = match key {
                    FieldKey::Field(d) => match &self.m.descrs[*d].data {
                        DescrData::Field(fd) => (fd.offset as u64, field_size(fd)),
                        _ => continue,
                    },
                    FieldKey::Item(i) => match &self.m.descrs[v.descr].data {
                        DescrData::Array(ad) => (ITEMS_OFFSET + *i as u64 * ad.item_size as u64, ad.item_size as u64),
                        _ => continue,
                    },
                };
                self.machine.store(addr + off, size, val.bits)?;
            }
        }
        for w in &r.pending {
            let (Some(obj), Some(val)) = (value(self, f, &w.object)?, value(self, f, &w.value)?) else { continue };
            // Through its descr, as the store it stands for would have gone.
            self.through(w.descr, |me| match (&me.m.descrs[w.descr].data, w.index) {
                (DescrData::Field(fd), None) => me.field_addr(&Op::new(Opcode::SetfieldGc, &[]), obj.bits, fd).and_then(|addr| me.machine.store(addr, field_size(fd), val.bits)),
                (DescrData::Array(ad), Some(i)) => me.array_store(obj.bits, i as u64, ad, val.bits, || None),
                _ => Ok(()),
            })?;
        }
        if let Some(vable) = &f.t.vable {
            let frame_obj = f.vals[vable.frame.index()];
            for e in &r.vable {
                let Some(val) = value(self, f, &e.value)? else { continue };
                match e.slot {
                    VableSlot::Field(d) => {
                        if let DescrData::Field(fd) = &self.m.descrs[d].data {
                            self.through(d, |me| me.machine.store(frame_obj + fd.offset as u64, field_size(fd), val.bits))?;
                        }
                    }
                    VableSlot::Item(d, i) => {
                        let Some(&(_, items)) = vable.arrays.iter().find(|(fld, _)| *fld == d) else { continue };
                        let (DescrData::Field(fd), DescrData::Array(ad)) = (&self.m.descrs[d].data, &self.m.descrs[items].data) else { continue };
                        let arr = self.machine.load(frame_obj + fd.offset as u64, 8, false, Type::Ref)?.0;
                        self.through(items, |me| me.array_store(arr, i as u64, ad, val.bits, || None))?;
                    }
                }
            }
        }
        let mut frames = Vec::new();
        for fr in &r.frames {
            let mut slots = Vec::new();
            for s in &fr.slots {
                slots.push(value(self, f, s)?);
            }
            frames.push(FrameState { code: fr.code.clone(), pc: fr.pc, slots });
        }
        Ok(frames)
    }

    /// PyPy's `ll_arraycopy` (oopspec 1): a memory operation, not an event (like `memmove`,
    /// overlapping ranges copy as if through a buffer). Items are words unless the array was
    /// allocated here with a known item size.
    fn arraycopy(&mut self, src: u64, dst: u64, s0: u64, d0: u64, n: u64) -> Step<()> {
        let size = match self.machine.object_at(dst).map(|(_, info)| &info.kind) {
            Some(ObjKind::Fresh { item: Some((_, size)), .. }) => *size,
            _ => 8,
        };
        let mut items = Vec::with_capacity(n.min(1 << 16) as usize);
        for i in 0..n {
            let at = self.item_addr(src, s0.wrapping_add(i), size, || None)?;
            items.push(self.machine.load(at, size, false, Type::Int)?.0);
        }
        for (i, v) in items.into_iter().enumerate() {
            let at = self.item_addr(dst, d0.wrapping_add(i as u64), size, || None)?;
            self.machine.store(at, size, v)?;
        }
        Ok(())
    }

    fn array_len(&mut self, arr: u64) -> Step<u64> {
        Ok(self.array_len_origin(arr)?.0)
    }

    /// An array's length, and its origin if it was invented. Invented lengths are kept small
    /// enough for the items to fit in an object of unknown layout.
    fn array_len_origin(&mut self, arr: u64) -> Step<(u64, Option<Origin>)> {
        if arr == 0 {
            return Err(Exit::Trap("array access through null".into()));
        }
        // A length never changes: calls cannot have changed it.
        let (len, origin) = self.machine.load_as(arr + LENGTH_OFFSET, 8, false, Type::Int, true)?;
        Ok(if origin.is_some() { (len % (LAZY_SIZE / 16), origin) } else { (len, None) })
    }

    /// The address of item `i` of array `arr`; `index_origin` says where `i` came from, for
    /// an observer of an index out of bounds.
    fn item_addr(&mut self, arr: u64, i: u64, item_size: u64, index_origin: impl FnOnce() -> Option<Origin>) -> Step<u64> {
        let (len, length_origin) = self.array_len_origin(arr)?;
        let size = self.machine.object_at(arr).map_or(0, |(_, info)| info.size);
        let past_the_end = i.checked_add(1).and_then(|n| n.checked_mul(item_size)).and_then(|n| n.checked_add(ITEMS_OFFSET)).is_none_or(|end| end > size);
        if i < len && !past_the_end {
            return Ok(arr + ITEMS_OFFSET + i * item_size);
        }
        if let Some(observer) = self.observer.as_deref_mut() {
            observer.index_out_of_bounds(OutOfBounds { index: i, item_size, index_origin: index_origin(), length_origin });
        }
        Err(Exit::Trap(if i >= len { format!("index {} out of bounds (length {len})", i as i64) } else { format!("index {} is past the end of the object", i as i64) }))
    }

    fn array_store(&mut self, arr: u64, i: u64, ad: &ArrayDescr, v: u64, index_origin: impl FnOnce() -> Option<Origin>) -> Step<()> {
        let addr = self.item_addr(arr, i, ad.item_size as u64, index_origin)?;
        self.machine.store(addr, ad.item_size as u64, v)
    }

    fn memory_or_call(&mut self, f: &mut Frame<'m>, op: &'m Op, a: &[u64; 6]) -> Step<Flow<'m>> {
        use Opcode::*;
        let descr = op.descr.map(|d| &self.m.descrs[d].data);
        let rty = op.opcode.result_type();
        let (x, y) = (a[0], a[1]);
        let nonnull = |p: u64| if p == 0 { Err(Exit::Trap(format!("`{}` through a null reference", op.opcode))) } else { Ok(p) };
        match (op.opcode, descr) {
            (GetfieldGcI | GetfieldGcR | GetfieldGcF | GetfieldRawI | GetfieldRawR | GetfieldRawF | GetfieldGcPureI
            | GetfieldGcPureR | GetfieldGcPureF | GetfieldRawPureI | GetfieldRawPureF, Some(DescrData::Field(fd))) => {
                let addr = self.field_addr(op, nonnull(x)?, fd)?;
                let (v, o) = self.machine.load_as(addr, field_size(fd), fd.kind == MemKind::Signed, rty, fd.pure)?;
                self.set(f, op, v, o);
            }
            (SetfieldGc | SetfieldRaw, Some(DescrData::Field(fd))) => {
                let addr = self.field_addr(op, nonnull(x)?, fd)?;
                self.machine.store(addr, field_size(fd), y)?;
            }
            (GetarrayitemGcI | GetarrayitemGcR | GetarrayitemGcF | GetarrayitemGcPureI | GetarrayitemGcPureR
            | GetarrayitemGcPureF, Some(DescrData::Array(ad))) => {
                let addr = self.item_addr(x, y, ad.item_size as u64, || value_origin(f, op.args[1]))?;
                let (v, o) = self.machine.load_as(addr, ad.item_size as u64, ad.kind == MemKind::Signed, rty, ad.pure)?;
                self.set(f, op, v, o);
            }
            (SetarrayitemGc, Some(DescrData::Array(ad))) => self.array_store(x, y, ad, a[2], || value_origin(f, op.args[1]))?,
            (GetarrayitemRawI | GetarrayitemRawF | GetarrayitemRawPureI | GetarrayitemRawPureF | RawLoadI | RawLoadF, Some(DescrData::Array(ad))) => {
                let scale = if matches!(op.opcode, RawLoadI | RawLoadF) { 1 } else { ad.item_size as u64 };
                let base = self.raw_base(x)?;
                let (v, o) = self.machine.load(base + y * scale, ad.item_size as u64, ad.kind == MemKind::Signed, rty)?;
                self.set(f, op, v, o);
            }
            (SetarrayitemRaw | RawStore, Some(DescrData::Array(ad))) => {
                let scale = if op.opcode == RawStore { 1 } else { ad.item_size as u64 };
                let base = self.raw_base(x)?;
                self.machine.store(base + y * scale, ad.item_size as u64, a[2])?;
            }
            (GetinteriorfieldGcI | GetinteriorfieldGcR | GetinteriorfieldGcF, Some(DescrData::Interior(idd))) => {
                let stride = idd.array.as_ref().map_or(64, |ad| ad.item_size as u64);
                let addr = self.item_addr(x, y, stride, || value_origin(f, op.args[1]))? + idd.field.offset as u64;
                let (v, o) = self.machine.load(addr, field_size(&idd.field), idd.field.kind == MemKind::Signed, rty)?;
                self.set(f, op, v, o);
            }
            (SetinteriorfieldGc | SetinteriorfieldRaw, Some(DescrData::Interior(idd))) => {
                let stride = idd.array.as_ref().map_or(64, |ad| ad.item_size as u64);
                let addr = self.item_addr(x, y, stride, || value_origin(f, op.args[1]))? + idd.field.offset as u64;
                self.machine.store(addr, field_size(&idd.field), a[2])?;
            }
            (ArraylenGc, _) | (Strlen, _) | (Unicodelen, _) => {
                // An invented length has an origin: a guard on it can be learned.
                let (n, origin) = self.array_len_origin(x)?;
                self.set(f, op, n, origin);
            }
            (New | NewWithVtable, Some(DescrData::Size(sd))) => {
                let (what, class) = self.alloc_site(op, true);
                let addr = self.machine.alloc(sd.size as u64, what, None)?;
                if op.opcode == NewWithVtable {
                    // A fresh object's words are only memory (`store` would remember nothing).
                    self.machine.heap.write(addr + HEADER, 8, class).map_err(trap)?;
                }
                self.set(f, op, addr, None);
            }
            (NewArray | NewArrayClear, Some(DescrData::Array(ad))) => {
                let len = x;
                if len > LAZY_SIZE {
                    return Err(Exit::Trap(format!("array of {} items", len as i64)));
                }
                let (what, _) = self.alloc_site(op, true);
                let addr = self.machine.alloc(ITEMS_OFFSET + len * ad.item_size as u64, what, Some((ad.kind, ad.item_size as u64)))?;
                self.machine.store(addr + LENGTH_OFFSET, 8, len)?;
                self.set(f, op, addr, None);
            }
            (Newstr | Newunicode, _) => {
                let width = if op.opcode == Newstr { 1 } else { 4 };
                if x > LAZY_SIZE {
                    return Err(Exit::Trap(format!("string of {} chars", x as i64)));
                }
                let (what, _) = self.alloc_site(op, false);
                let addr = self.machine.alloc(ITEMS_OFFSET + x * width, what, Some((MemKind::Unsigned, width)))?;
                self.machine.store(addr + LENGTH_OFFSET, 8, x)?;
                self.set(f, op, addr, None);
            }
            (Strgetitem | Unicodegetitem, _) => {
                let width = if op.opcode == Strgetitem { 1 } else { 4 };
                let addr = self.item_addr(x, y, width, || value_origin(f, op.args[1]))?;
                let (v, o) = self.machine.load(addr, width, false, Type::Int)?;
                self.set(f, op, v, o);
            }
            (Strsetitem | Unicodesetitem, _) => {
                let width = if op.opcode == Strsetitem { 1 } else { 4 };
                let addr = self.item_addr(x, y, width, || value_origin(f, op.args[1]))?;
                self.machine.store(addr, width, a[2])?;
            }
            (Copystrcontent | Copyunicodecontent, _) => {
                let width = if op.opcode == Copystrcontent { 1 } else { 4 };
                for k in 0..a[4] {
                    let src = self.item_addr(x, a[2] + k, width, || None)?;
                    let v = self.machine.load(src, width, false, Type::Int)?.0;
                    let dst = self.item_addr(y, a[3] + k, width, || None)?;
                    self.machine.store(dst, width, v)?;
                }
            }
            (Strhash | Unicodehash, _) => {
                let n = self.array_len(x)?;
                let width = if op.opcode == Strhash { 1 } else { 4 };
                let mut chars = Vec::new();
                for k in 0..n {
                    let addr = self.item_addr(x, k, width, || None)?;
                    // Strings are immutable.
                    chars.push(self.machine.load_as(addr, width, false, Type::Int, true)?.0);
                }
                self.set(f, op, mix(("strhash", chars)) >> 1, None);
            }
            (ZeroArray, Some(DescrData::Array(_))) => {
                let start = ITEMS_OFFSET + a[1] * a[3];
                let len = a[2] * a[4];
                for k in 0..len {
                    self.machine.store(x + start + k, 1, 0)?;
                }
            }
            (GcLoadI | GcLoadR | GcLoadF, _) => {
                let size = (a[2] as i64).unsigned_abs();
                let (v, o) = self.machine.load(x.wrapping_add(y), size, (a[2] as i64) < 0, rty)?;
                self.set(f, op, v, o);
            }
            (GcLoadIndexedI | GcLoadIndexedR | GcLoadIndexedF, _) => {
                let size = (a[4] as i64).unsigned_abs();
                let addr = x.wrapping_add(y.wrapping_mul(a[2])).wrapping_add(a[3]);
                let (v, o) = self.machine.load(addr, size, (a[4] as i64) < 0, rty)?;
                self.set(f, op, v, o);
            }
            (GcStore, _) => self.machine.store(x.wrapping_add(y), a[3], a[2])?,
            (GcStoreIndexed, _) => {
                let addr = x.wrapping_add(y.wrapping_mul(a[3])).wrapping_add(a[4]);
                self.machine.store(addr, a[5], a[2])?;
            }
            (ForceToken, _) => {
                let (what, _) = self.alloc_site(op, false);
                let addr = self.machine.alloc(8, what, None)?;
                self.set(f, op, addr, None);
            }
            (VirtualRef, _) => {
                // Laid out as `new` of the vref size descr, so an optimizer may build it that way.
                let (size, referent) = tracelab_ir::descr::vref_layout();
                let (DescrData::Size(sd), DescrData::Field(fd)) = (&size, &referent) else { unreachable!("vref_layout is a size and a field") };
                let addr = self.machine.alloc(sd.size as u64, format!("new {size}").into(), None)?;
                self.machine.store(addr + fd.offset as u64, 8, x)?;
                self.set(f, op, addr, None);
            }
            (CallMallocNursery | CallMallocNurseryVarsizeFrame, _) => {
                let (what, _) = self.alloc_site(op, false);
                let addr = self.machine.alloc(x, what, None)?;
                self.set(f, op, addr, None);
            }
            (CallMallocNurseryVarsize, Some(DescrData::Array(ad))) => {
                let (what, _) = self.alloc_site(op, false);
                let addr = self.machine.alloc(ITEMS_OFFSET + y * ad.item_size as u64, what, Some((ad.kind, ad.item_size as u64)))?;
                self.machine.store(addr + LENGTH_OFFSET, 8, y)?;
                self.set(f, op, addr, None);
            }
            (IncrementDebugCounter, _) => {
                let base = self.raw_base(x)?;
                let v = self.machine.load(base, 8, false, Type::Int)?.0;
                self.machine.store(base, 8, v.wrapping_add(1))?;
            }
            (SaveException | SaveExcClass | LoadFromGcTable, _) => self.set(f, op, 0, None),
            (ZeroPtrField, _) => self.machine.store(x + y, 8, 0)?,
            (o, _) if o.is_call() || matches!(o, EscapeI | EscapeR | EscapeF | EscapeN) => return self.call(f, op),
            (RecordKnownClass, _) => self.assume_class(x, y)?,
            (RecordKnownField, Some(DescrData::Field(fd))) => {
                let addr = self.field_addr(op, nonnull(x)?, fd)?;
                self.assume_field(addr, fd, y)?;
            }
            (RecordKnownResult, _) => self.assume_result(f, op)?,
            (o, _) if o.is_marker() || matches!(o, RestoreException | VirtualRefFinish | CondCallGcWb | CondCallGcWbArray | ForceSpill | CheckMemoryError) => {}
            (o, d) => {
                return Err(Exit::Trap(format!("`{o}` is not interpreted{}", if d.is_none() && o.descr_kind() != tracelab_ir::opcode::DescrKind::None { " without its descr" } else { "" })))
            }
        }
        Ok(Flow::Next)
    }

    /// How the heap report names objects op `op` allocates (the op and, `with_descr`, its
    /// descr), and the class word of its objects: built once per site, allocation is hot in
    /// compiled code.
    fn alloc_site(&mut self, op: &Op, with_descr: bool) -> (std::sync::Arc<str>, u64) {
        let m = self.m;
        let descr = op.descr.filter(|_| with_descr);
        self.alloc_sites
            .entry((op.opcode, descr))
            .or_insert_with(|| match descr.map(|d| &m.descrs[d].data) {
                Some(d) => {
                    let class = match d {
                        DescrData::Size(sd) => sd.class.as_deref().map_or(0, class_id),
                        _ => 0,
                    };
                    (format!("{} {}", op.opcode, d).into(), class)
                }
                None => (op.opcode.to_string().into(), 0),
            })
            .clone()
    }

    /// The address of field `fd` of the object `p` points into: the field must lie in that
    /// object (reading past its end is undefined, even where another object follows).
    fn field_addr(&mut self, op: &Op, p: u64, fd: &FieldDescr) -> Step<u64> {
        let base = self.raw_base(p)?;
        let addr = base.wrapping_add(fd.offset as u64);
        match self.machine.object_at(base) {
            Some((start, info)) if addr >= base && addr + field_size(fd) <= start + info.size => Ok(addr),
            _ => Err(Exit::Trap(format!("`{}` at offset {} past the end of its object", op.opcode, fd.offset))),
        }
    }

    /// A raw address (an int) or a ref: both are addresses; unknown raw addresses get a lazy
    /// block of their own.
    fn raw_base(&mut self, addr: u64) -> Step<u64> {
        if self.machine.object_at(addr).is_some() {
            return Ok(addr);
        }
        self.machine.lazy(Origin::Const(format!("raw{addr:#x}")))
    }

    /// `jit_force_virtual(vref)` (oopspec 120): the object the vref refers to, read from its
    /// referent field (`ir::descr::vref_layout`). Every object is real here, so forcing has
    /// nothing to do: it is a read, not an event.
    fn force_virtual(&mut self, vref: u64) -> Step<u64> {
        if vref == 0 {
            return Err(Exit::Trap("`jit_force_virtual` of a null reference".into()));
        }
        let (_, referent) = tracelab_ir::descr::vref_layout();
        let DescrData::Field(fd) = referent else { unreachable!("vref_layout's referent is a field") };
        Ok(self.machine.load(vref + fd.offset as u64, 8, false, Type::Ref)?.0)
    }

    /// `record_known_class(p, c)`: a statement that `p` is an object of class `c` (a bridge's
    /// entry facts say so). An object of unknown layout whose class nobody read yet is given
    /// that class; one known to be of another class ends the run (the statement is false, so
    /// the run is outside what the trace was made for).
    fn assume_class(&mut self, p: u64, class: u64) -> Step<()> {
        if p == 0 {
            return Err(Exit::Trap("`record_known_class` of a null reference".into()));
        }
        self.machine.assume_word(p + HEADER, class);
        match self.machine.load(p + HEADER, 8, false, Type::Int)?.0 {
            h if h == class => Ok(()),
            _ => Err(Exit::Trap("`record_known_class`: the object is of another class".into())),
        }
    }

    /// `record_known_field(p, v, d)`: field `d` of `p` (at `addr`) holds `v`. A word of an object
    /// of unknown layout that nobody read yet is given `v`; one that holds something else ends
    /// the run (the statement is false).
    fn assume_field(&mut self, addr: u64, fd: &FieldDescr, v: u64) -> Step<()> {
        let size = field_size(fd);
        self.machine.assume_word(addr, v & size_mask(size));
        let (got, _) = self.machine.load(addr, size, fd.kind == MemKind::Signed, fd.kind.value_type())?;
        if got & size_mask(size) != v & size_mask(size) {
            return Err(Exit::Trap("`record_known_field`: the field holds another value".into()));
        }
        Ok(())
    }

    /// `record_known_result(r, f, args...)`: from here on an elidable or loop-invariant call of
    /// `f` with these arguments gives `r` (PyPy's meaning of the op). Stating two results for
    /// one call ends the run.
    fn assume_result(&mut self, f: &mut Frame<'m>, op: &Op) -> Step<()> {
        let r = self.get(f, op.args[0])?;
        let target = self.target_name(f, op.args[1]);
        let mut bits = Vec::with_capacity(op.args.len().saturating_sub(2));
        for &v in &op.args[2..] {
            bits.push(self.get(f, v)?);
        }
        match self.known_results.entry(call_key(&target, &bits)) {
            std::collections::hash_map::Entry::Occupied(e) if *e.get() != r => {
                Err(Exit::Trap("`record_known_result` states a second result for one call".into()))
            }
            e => {
                e.or_insert(r);
                Ok(())
            }
        }
    }

    fn call(&mut self, f: &mut Frame<'m>, op: &'m Op) -> Step<Flow<'m>> {
        use Opcode::*;
        let ti = op.opcode.call_target_index();
        let mut vals = Vec::with_capacity(op.args.len());
        for (k, &v) in op.args.iter().enumerate() {
            // A named target is not a value anybody reads (its name is): no need to hash it.
            let named = Some(k) == ti && matches!(f.t.as_const(v), Some(Const::Func(_) | Const::Class(_)));
            let bits = if named { 0 } else { self.get(f, v)? };
            vals.push(RtValue { ty: f.t.ty(v), bits });
        }
        // Conditional calls: cond_call calls if its condition holds; cond_call_value calls if
        // its value is 0 (and otherwise gives the value).
        match op.opcode {
            CondCallN if vals[0].bits == 0 => return Ok(Flow::Next),
            CondCallValueI | CondCallValueR if vals[0].bits != 0 => {
                self.set(f, op, vals[0].bits, None);
                return Ok(Flow::Next);
            }
            _ => {}
        }
        let args = match ti {
            Some(i) => vals[i + 1..].to_vec(),
            None => vals,
        };
        if let Some(i) = ti {
            match f.t.as_const(op.args[i]) {
                Some(Const::Func(name)) => return self.call_function(name, &args),
                Some(Const::Class(name)) if self.cfg.externals.get(name).is_some() => return self.call_extern(f, op, name, &args),
                _ => {}
            }
        }
        let target_name = match ti {
            Some(i) => self.target_name(f, op.args[i]),
            None => op.opcode.to_string(),
        };
        // A result `record_known_result` stated wins over what the function would compute
        // (`cse` takes the statement for every later call with those arguments).
        if !self.known_results.is_empty() && self.m.call_result_elidable(op) {
            let bits: Vec<u64> = args.iter().map(|v| v.bits).collect();
            if let Some(&r) = self.known_results.get(&call_key(&target_name, &bits)) {
                self.set(f, op, r, None);
                return Ok(Flow::Next);
            }
        }
        match (self.m.call_oopspec(op), args.as_slice()) {
            (Some(tracelab_ir::descr::OS_ARRAYCOPY), [src, dst, s0, d0, n]) => {
                self.arraycopy(src.bits, dst.bits, s0.bits, d0.bits, n.bits)?;
                return Ok(Flow::Next);
            }
            (Some(tracelab_ir::descr::OS_JIT_FORCE_VIRTUAL), [vref]) if op.result.is_some() => {
                let r = self.force_virtual(vref.bits)?;
                self.set(f, op, r, None);
                return Ok(Flow::Next);
            }
            (Some(os @ (tracelab_ir::descr::OS_STR_SLICE | tracelab_ir::descr::OS_UNI_SLICE)), [s, start, stop]) if op.result.is_some() => {
                let bits = [s.bits, start.bits, stop.bits];
                let r = self.string_slice(&target_name, os == tracelab_ir::descr::OS_UNI_SLICE, bits)?;
                self.set(f, op, r, None);
                return Ok(Flow::Next);
            }
            _ => {}
        }
        let effect = match op.descr.map(|d| &self.m.descrs[d].data) {
            Some(DescrData::Call(c)) => c.effect.0,
            _ => 7,
        };
        // Elidable and loop-invariant calls are not events, and give the same result for the
        // same arguments.
        let elidable = self.m.call_result_elidable(op);
        let bits: Vec<u64> = args.iter().map(|v| call_arg_bits(v.ty, v.bits)).collect();
        let index = (!elidable).then_some(self.machine.calls);
        let key = mix((self.cfg.seed, &target_name, &bits, index));
        let rty = op.opcode.result_type();
        // The result is invented for its call (the learner may constrain it, as a word read
        // from memory: `guard_false(endswith(...))` wants a 0).
        let origin = Origin::Result(key);
        let result = match (rty, self.machine.constraints.get(&origin)) {
            (Type::Void, _) => None,
            (Type::Ref, _) => Some(self.machine.invent(Type::Ref, origin.clone())?),
            (Type::Float, _) => Some(((call_result(self.cfg.seed, &target_name, &bits, index) as f64) / 8.0).to_bits()),
            (_, Some(Forced::Int(v))) => Some(*v),
            _ => Some(call_result(self.cfg.seed, &target_name, &bits, index)),
        };
        let result_origin = (rty != Type::Float).then_some(origin);
        let refs = || -> Vec<(u32, u64)> { args.iter().enumerate().filter(|(_, v)| v.ty == Type::Ref && v.bits != 0).map(|(k, v)| (k as u32, v.bits)).collect() };
        if !elidable {
            self.events.push(Event { target: target_name, args: args.clone(), result: result.map(|b| RtValue { ty: rty, bits: b }) });
            let vable = self.vable_words(f, effect);
            self.call_writes(f.t, op, &refs(), effect >= 5, &vable)?;
            self.machine.calls += 1;
        } else if effect >= 5 && !self.m.call_is_effect_free(op) && self.cache_calls.insert(key) {
            // An elidable function that may write (its cache): the first call with these
            // arguments may change what it is passed and what it reaches; a repeat writes what
            // is already there.
            let vable = self.vable_words(f, effect);
            self.call_writes(f.t, op, &refs(), true, &vable)?;
        }
        if let Some(r) = result {
            self.set(f, op, r, result_origin);
        }
        Ok(Flow::Next)
    }

    /// The virtualizable's declared fields (their addresses) that a call of effect class
    /// `effect` leaves alone: all of them unless it may force (EF 6, 7). The JIT owns them; a
    /// call that is not passed the frame and does not force never sees them (what `virtualize`
    /// assumes).
    fn vable_words(&self, f: &Frame<'m>, effect: u8) -> Vec<u64> {
        let Some(vable) = f.t.vable.as_ref().filter(|_| effect < 6) else { return Vec::new() };
        let frame = f.vals[vable.frame.index()];
        let field = |d: &DescrId| match &self.m.descrs[*d].data {
            DescrData::Field(fd) => Some(frame + fd.offset as u64),
            _ => None,
        };
        vable.fields.iter().chain(vable.arrays.iter().map(|(fld, _)| fld)).filter_map(field).collect()
    }

    /// What call `op` does to memory: what its descr states it writes, or (`may_write`)
    /// anything but the words in `kept` (the virtualizable's, when not passed).
    fn call_writes(&mut self, t: &Trace, op: &Op, refs: &[(u32, u64)], may_write: bool, kept: &[u64]) -> Step<()> {
        match self.stated_write_set(t, op) {
            Some(writes) => {
                let m = self.m;
                let written: Vec<DescrId> = m.descrs.keys().filter(|&d| writes.touches(m, d)).collect();
                self.machine.clobber_stated(refs, &written)
            }
            None if may_write => {
                self.machine.clobber(refs, kept);
                Ok(())
            }
            None => Ok(()),
        }
    }

    /// What call `op` writes, if its descr states it (see `tracelab_ir::effects`).
    fn stated_write_set(&self, t: &Trace, op: &Op) -> Option<tracelab_ir::effects::Access> {
        match op.descr.map(|d| &self.m.descrs[d].data) {
            Some(DescrData::Call(c)) if c.writes.is_some() => tracelab_ir::effects::call(self.m, t, op).map(|c| c.writes),
            _ => None,
        }
    }

    /// `_ll_stringslice(s, start, stop)` (oopspec 23, 43 for unicode): a new string holding
    /// `s[start:stop]`, as `newstr`/`newunicode` and a copy would make it; one per arguments, like
    /// every elidable call's result (so merging two such calls changes nothing). Outside
    /// RPython's contract (`0 <= start <= stop <= len(s)`) it traps.
    fn string_slice(&mut self, target: &str, unicode: bool, [s, start, stop]: [u64; 3]) -> Step<u64> {
        let key = mix((self.cfg.seed, target, [s, start, stop]));
        if let Some(&r) = self.slices.get(&key) {
            return Ok(r);
        }
        let (start_i, stop_i) = (start as i64, stop as i64);
        if start_i < 0 || stop_i < start_i {
            return Err(Exit::Trap(format!("`{target}`: slice [{start_i}:{stop_i}] out of range")));
        }
        let len = stop - start;
        if len > LAZY_SIZE {
            return Err(Exit::Trap(format!("string of {len} chars")));
        }
        let width = if unicode { 4 } else { 1 };
        let mut chars = Vec::with_capacity(len as usize);
        for i in 0..len {
            let at = self.item_addr(s, start + i, width, || None)?;
            chars.push(self.machine.load(at, width, false, Type::Int)?.0);
        }
        let what: std::sync::Arc<str> = if unicode { "newunicode".into() } else { "newstr".into() };
        let r = self.machine.alloc(ITEMS_OFFSET + len * width, what, Some((MemKind::Unsigned, width)))?;
        self.machine.store(r + LENGTH_OFFSET, 8, len)?;
        for (i, c) in chars.into_iter().enumerate() {
            self.machine.store(r + ITEMS_OFFSET + i as u64 * width, width, c)?;
        }
        self.slices.insert(key, r);
        Ok(r)
    }

    /// A call of a registered external function: what it computes, no event.
    fn call_extern(&mut self, f: &mut Frame<'m>, op: &Op, name: &str, args: &[RtValue]) -> Step<Flow<'m>> {
        let func = self.cfg.externals.get(name).expect("registered");
        if func.params.len() != args.len() {
            return Err(Exit::Trap(format!("`{name}` takes {} arguments, the call gives {}", func.params.len(), args.len())));
        }
        let words: Vec<u64> = args.iter().map(|a| a.bits).collect();
        let r = func.call(&words);
        self.set(f, op, r, None);
        Ok(Flow::Next)
    }

    fn target_name(&mut self, f: &Frame<'m>, v: Value) -> String {
        match f.t.as_const(v) {
            Some(Const::Class(n)) | Some(Const::Func(n)) => n.clone(),
            Some(Const::Int(i)) => format!("{i:#x}"),
            _ => format!("<computed {:#x}>", f.vals[v.index()]),
        }
    }

    fn call_function(&mut self, name: &str, args: &[RtValue]) -> Step<Flow<'m>> {
        let Some(tid) = self.index.trace(name) else {
            return Err(Exit::Trap(format!("call to unknown function @{name}")));
        };
        let t = &self.m.traces[tid];
        if self.depth >= MAX_CALL_DEPTH {
            return Err(Exit::Trap(format!("calls nested deeper than {MAX_CALL_DEPTH}")));
        }
        let mut callee = Frame { tid, t, vals: vec![0; t.values.len()], prov: vec![None; t.values.len()] };
        for (&inp, a) in t.inputs.iter().zip(args) {
            callee.vals[inp.index()] = a.bits;
        }
        // Whoever runs the callee hands its end to `call_returned`, which counts it back.
        self.depth += 1;
        Ok(Flow::Call(callee))
    }

    /// The call at op `pc` of `f` returned, its callee's run having ended with `exit`: its
    /// result goes to its slot, or the caller's run ends too.
    pub(crate) fn call_returned(&mut self, f: &mut Frame<'m>, pc: usize, exit: Step<Exit>) -> Step<Flow<'m>> {
        self.depth -= 1;
        let id = self.index.op_at(f.tid, pc).expect("the call is in the order");
        let op = &f.t.ops[id];
        match exit? {
            Exit::Finish(v) => {
                self.set(f, op, v.map_or(0, |v| v.bits), None);
                Ok(Flow::Next)
            }
            // A guard failing in the callee resumes the caller's frames at this call site too
            // (the rule `inline` follows when it stacks frames).
            Exit::GuardFailed { trace, op: at, guard_id, fail_args, frames: Some(callee_frames) } => {
                let mut frames = Vec::new();
                for fr in tracelab_ir::resume::call_site_frames(f.t, id) {
                    let mut slots = Vec::new();
                    for s in &fr.slots {
                        slots.push(match s {
                            ResumeValue::Value(v) => Some(RtValue { ty: f.t.ty(*v), bits: self.get(f, *v)? }),
                            _ => None,
                        });
                    }
                    frames.push(FrameState { code: fr.code.clone(), pc: fr.pc, slots });
                }
                frames.extend(callee_frames);
                Ok(Flow::Exit(Exit::GuardFailed { trace, op: at, guard_id, fail_args, frames: Some(frames) }))
            }
            other => Ok(Flow::Exit(other)),
        }
    }
}

/// Where execution goes after an op.
pub(crate) enum Flow<'m> {
    Next,
    /// Into this frame at this op (a jump to a label, a bridge).
    Enter(Frame<'m>, usize),
    /// A call of a trace function: run this frame (the callee's) to its end, then
    /// [`Interp::call_returned`].
    Call(Frame<'m>),
    Exit(Exit),
}

/// Where value `v` of frame `f` came from, if it was invented.
fn value_origin(f: &Frame, v: Value) -> Option<Origin> {
    match f.t.as_const(v) {
        Some(Const::Ptr(name)) => Some(Origin::Const(name.clone())),
        _ => f.prov[v.index()].clone(),
    }
}

/// A field's width ([`FieldDescr::width`]).
pub fn field_size(fd: &FieldDescr) -> u64 {
    fd.width()
}

/// The value type of memory a descr names (`None` for a descr that names no memory).
fn memory_type(d: &DescrData) -> Option<Type> {
    match d {
        DescrData::Field(f) => Some(f.kind.value_type()),
        DescrData::Array(a) => Some(a.kind.value_type()),
        DescrData::Interior(i) => Some(i.field.kind.value_type()),
        _ => None,
    }
}
