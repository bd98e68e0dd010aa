//! The data model: a [`Module`] holds descrs and traces; a [`Trace`] is a linear SSA sequence
//! of [`Op`]s over typed [`Value`]s.
//!
//! Values are indices into the trace's value table. A value is a trace input, the result of an
//! op, a parameter of a `label`, or a constant (constants are interned values, so every operand
//! is just a `Value` and "is this a constant" is one lookup). Ops are kept by stable id, their
//! execution order apart ([`crate::layout`]); passes edit a trace in place through a
//! [`Cursor`](crate::cursor::Cursor). The value table may hold values no op defines any more
//! (their op was removed); [`Trace::compacted`] drops them once a pipeline is done.
//!
//! Loops: `label` defines block parameters (one per argument); a `jump` to a label's token
//! passes new values for them. A jump to `<Loop-1>` goes back to the trace's start, whose
//! parameters are the trace inputs (the form of PyPy's unoptimized traces).

use crate::descr::{Descr, DescrData, DescrId};
use crate::entity::{Arena, EntityRef};
use crate::layout::{Ops, Place};
use crate::opcode::Opcode;
use crate::resume::GuardInfo;
use crate::types::Type;
use smallvec::SmallVec;
use rustc_hash::FxHashMap as HashMap;

crate::entity!(
    /// An SSA value of a trace (input, op result, label parameter or constant).
    Value,
    "v"
);
crate::entity!(
    /// An op of a trace: a stable name, not a position (see [`crate::layout`]).
    OpId,
    "op"
);
crate::entity!(
    /// A trace of a module.
    TraceId,
    "trace"
);

/// A byte range in the source text the module was parsed from; `Span::NONE` for built IR.
#[derive(Copy, Clone, PartialEq, Eq, Debug, Default, Hash)]
pub struct Span {
    pub start: u32,
    pub end: u32,
}

impl Span {
    pub const NONE: Span = Span { start: u32::MAX, end: u32::MAX };
    pub fn new(start: usize, end: usize) -> Span {
        Span { start: start as u32, end: end as u32 }
    }
    pub fn is_none(self) -> bool {
        self.start == u32::MAX
    }
    pub fn range(self) -> std::ops::Range<usize> {
        self.start as usize..self.end as usize
    }
}

/// A constant operand. Floats are kept as bits so that `-0.0` and NaNs compare exactly.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub enum Const {
    Int(i64),
    Float(u64),
    /// `ConstPtr(null)`.
    Null,
    /// `ConstPtr(name)`: a GC object known by name (PyPy prints `ptr13`).
    Ptr(String),
    /// `ConstClass(name)`: the address of a class vtable or an external function.
    Class(String),
    /// `@name`: the address of a trace function defined in the same module.
    Func(String),
}

impl Const {
    pub fn ty(&self) -> Type {
        match self {
            Const::Int(_) | Const::Class(_) | Const::Func(_) => Type::Int,
            Const::Float(_) => Type::Float,
            Const::Null | Const::Ptr(_) => Type::Ref,
        }
    }
    pub fn float(f: f64) -> Const {
        Const::Float(f.to_bits())
    }
}

#[derive(Clone, PartialEq, Debug)]
pub enum ValueDef {
    /// The `n`th input of the trace.
    Input(u32),
    /// The result of an op.
    Op(OpId),
    /// The `n`th parameter of a `label` op.
    LabelParam(OpId, u32),
    Const(Const),
}

#[derive(Clone, PartialEq, Debug)]
pub struct ValueData {
    pub ty: Type,
    pub def: ValueDef,
    /// The name the value had in the text (`i5`); printing keeps it when it can. Shared, so
    /// that copying a trace (every pass does) does not copy names.
    pub name: Option<ValueName>,
}

/// A value's name from the text.
pub type ValueName = std::sync::Arc<str>;

/// Where a `label` sits or a `jump` goes.
#[derive(Copy, Clone, PartialEq, Eq, Hash, Debug)]
pub enum Target {
    /// `TargetToken(N)`: a label, in this trace or another trace of the module.
    Token(u64),
    /// `<LoopN>`: the start of a loop; `<Loop-1>` is the start of the trace itself.
    Loop(i64),
}

impl Target {
    pub const SELF_START: Target = Target::Loop(-1);
}

/// Op data that only some opcodes carry.
#[derive(Clone, PartialEq, Debug, Default)]
pub enum OpExtra {
    #[default]
    None,
    /// A guard's fail args and resume data, shared between the copies passes make of a trace
    /// while no value in it changes (`guard_mut` copies it on the first write).
    Guard(std::sync::Arc<GuardInfo>),
    /// A label's token and the parameters it defines.
    Label(Box<LabelInfo>),
    /// A jump's target.
    Jump(Target),
    /// The location string of `debug_merge_point` / `jit_debug` (shared: every pass copies it).
    Text(std::sync::Arc<str>),
}

#[derive(Clone, PartialEq, Debug)]
pub struct LabelInfo {
    pub token: Target,
    /// One parameter per argument: the argument is the value on entry by fall-through, the
    /// parameter is the value inside the loop (a phi of the entry value and the jumps' values).
    pub params: Vec<Value>,
}

/// Operand lists as passes handle them: inline for up to four values.
pub type Operands = SmallVec<[Value; 4]>;

#[derive(PartialEq, Debug)]
pub struct Op {
    pub opcode: Opcode,
    pub args: SmallVec<[Value; 3]>,
    pub result: Option<Value>,
    pub descr: Option<DescrId>,
    pub extra: OpExtra,
    pub span: Span,
}

// By hand: `SmallVec`'s own `Clone` goes through an iterator, several times the cost of copying
// the few operands (every pass clones every op it keeps).
impl Clone for Op {
    fn clone(&self) -> Op {
        Op { opcode: self.opcode, args: SmallVec::from_slice(&self.args), result: self.result, descr: self.descr, extra: self.extra.clone(), span: self.span }
    }
}

impl Op {
    pub fn guard(&self) -> Option<&GuardInfo> {
        match &self.extra {
            OpExtra::Guard(g) => Some(g),
            _ => None,
        }
    }
    pub fn guard_mut(&mut self) -> Option<&mut GuardInfo> {
        match &mut self.extra {
            OpExtra::Guard(g) => Some(std::sync::Arc::make_mut(g)),
            _ => None,
        }
    }
    pub fn label(&self) -> Option<&LabelInfo> {
        match &self.extra {
            OpExtra::Label(l) => Some(l),
            _ => None,
        }
    }
    pub fn jump_target(&self) -> Option<Target> {
        match &self.extra {
            OpExtra::Jump(t) => Some(*t),
            _ => None,
        }
    }
    pub fn text(&self) -> Option<&str> {
        match &self.extra {
            OpExtra::Text(t) => Some(t),
            _ => None,
        }
    }
    /// Every value the op reads: operands, then fail args and resume values.
    pub fn uses(&self) -> impl Iterator<Item = Value> + '_ {
        self.args.iter().copied().chain(self.guard().into_iter().flat_map(|g| g.values()))
    }

    /// Replaces every value the op reads (operands, fail args, resume values) by `f` of it.
    /// Guard data shared with another copy of the op is copied only if a value in it changes.
    pub fn map_values(&mut self, mut f: impl FnMut(Value) -> Value) {
        for a in self.args.iter_mut() {
            *a = f(*a);
        }
        if let OpExtra::Guard(g) = &mut self.extra {
            // `f` looks values up: asking twice is cheaper than copying guard data nobody changes.
            if g.any_value(|v| f(v) != v) {
                std::sync::Arc::make_mut(g).map_values(f);
            }
        }
    }

    /// `f` on every value [`uses`](Op::uses) gives, in the same order: plain loops, for the
    /// walks that visit every use of a long trace (an iterator of chained iterators costs
    /// several times as much per value).
    pub fn for_each_use(&self, mut f: impl FnMut(Value)) {
        self.args.iter().for_each(|&v| f(v));
        if let Some(g) = self.guard() {
            g.for_each_value(f);
        }
    }
}

#[derive(Clone, PartialEq, Debug)]
pub enum TraceKind {
    /// A loop or entry bridge: starts from the interpreter with its inputs.
    Loop,
    /// A bridge: starts from the failing guard with the given id, inputs are its fail args.
    Bridge { guard: u64 },
    /// A callable trace function; its body ends in `finish` with a value of `result` type.
    Function { result: Type },
}

/// Which input is the interpreter frame, and which of its fields and arrays the JIT owns.
#[derive(Clone, PartialEq, Debug)]
pub struct Virtualizable {
    pub frame: Value,
    /// Scalar fields (field descrs).
    pub fields: Vec<DescrId>,
    /// Arrays: the frame's field holding the array, and the array's item descr.
    pub arrays: Vec<(DescrId, DescrId)>,
}

#[derive(Clone, PartialEq, Debug)]
pub struct Trace {
    pub name: String,
    pub kind: TraceKind,
    pub inputs: Vec<Value>,
    pub values: Arena<Value, ValueData>,
    /// The ops, by id, and their order: iterating goes in execution order.
    pub ops: Ops,
    pub vable: Option<Virtualizable>,
    /// The span of the trace's header in the source.
    pub span: Span,
    consts: HashMap<Const, Value>,
}

impl Trace {
    pub fn new(name: impl Into<String>, kind: TraceKind) -> Trace {
        Trace {
            name: name.into(),
            kind,
            inputs: Vec::new(),
            values: Arena::new(),
            ops: Ops::new(),
            vable: None,
            span: Span::NONE,
            consts: HashMap::default(),
        }
    }

    /// `v` with `same_as` copies looked through (the value they copy).
    pub fn through_same_as(&self, mut v: Value) -> Value {
        while let ValueDef::Op(o) = self.values[v].def {
            let op = &self.ops[o];
            if !matches!(op.opcode, Opcode::SameAsI | Opcode::SameAsR | Opcode::SameAsF) {
                break;
            }
            v = op.args[0];
        }
        v
    }

    /// An empty trace with room for `ops` ops and `values` values.
    pub fn with_capacity(name: impl Into<String>, kind: TraceKind, ops: usize, values: usize) -> Trace {
        Trace { values: Arena::with_capacity(values), ops: Ops::with_capacity(ops), ..Trace::new(name, kind) }
    }

    pub fn ty(&self, v: Value) -> Type {
        self.values[v].ty
    }

    pub fn as_const(&self, v: Value) -> Option<&Const> {
        match &self.values[v].def {
            ValueDef::Const(c) => Some(c),
            _ => None,
        }
    }

    pub fn is_const(&self, v: Value) -> bool {
        self.as_const(v).is_some()
    }

    /// The interned value for a constant.
    pub fn constant(&mut self, c: Const) -> Value {
        if let Some(&v) = self.consts.get(&c) {
            return v;
        }
        let v = self.values.push(ValueData { ty: c.ty(), def: ValueDef::Const(c.clone()), name: None });
        self.consts.insert(c, v);
        v
    }

    pub fn int(&mut self, i: i64) -> Value {
        self.constant(Const::Int(i))
    }

    /// Renumbers ops in their order and values in definition order (inputs, then per op the
    /// constants it is first to use, its result, its label parameters), dropping ops out of the
    /// order and values that nothing defines or uses: the numbering the parser gives the
    /// printed trace. The pass manager compacts once a pipeline is done. Ops and values move
    /// into the new numbering (nothing is copied; guard data nobody else holds is renamed
    /// where it is).
    pub fn compact(&mut self) {
        let mut ops = std::mem::take(&mut self.ops).into_ordered();
        let mut renumber = Renumber::new(std::mem::take(&mut self.values).into_vec(), ops.len());
        for v in self.inputs.iter_mut() {
            *v = renumber.define(*v, None);
        }
        for (i, op) in ops.iter_mut().enumerate() {
            let id = OpId::new(i);
            op.map_values(|v| renumber.used(v));
            let ty = op.opcode.result_type();
            op.result = match op.result {
                Some(r) if ty != Type::Void => {
                    let n = renumber.define(r, Some(ValueDef::Op(id)));
                    renumber.values[n].ty = ty;
                    Some(n)
                }
                _ => (ty != Type::Void).then(|| renumber.fresh(ty, ValueDef::Op(id))),
            };
            if let OpExtra::Label(l) = &mut op.extra {
                for (k, p) in l.params.iter_mut().enumerate() {
                    *p = renumber.define(*p, Some(ValueDef::LabelParam(id, k as u32)));
                }
            }
        }
        if let Some(vb) = self.vable.as_mut() {
            vb.frame = renumber.used(vb.frame);
        }
        self.ops = Ops::from_ordered(ops);
        (self.values, self.consts) = (renumber.values, renumber.consts);
    }

    /// Keeps the first `n` values (the rest must be unused: a walk taken back).
    pub(crate) fn truncate_values(&mut self, n: usize) {
        self.values.truncate(n);
        self.consts.retain(|_, v| v.index() < n);
    }

    /// Adds a trace input of type `ty`.
    pub fn add_input(&mut self, ty: Type, name: Option<&str>) -> Value {
        let def = ValueDef::Input(self.inputs.len() as u32);
        let v = self.values.push(ValueData { ty, def, name: name.map(Into::into) });
        self.inputs.push(v);
        v
    }

    /// Appends an op; creates its result value from the opcode's result type.
    pub fn push_op(&mut self, op: Op, result_name: Option<&str>) -> OpId {
        self.push_op_named(op, result_name.map(Into::into))
    }

    /// `push_op` with a name already shared (copying from another trace).
    pub fn push_op_named(&mut self, op: Op, result_name: Option<ValueName>) -> OpId {
        self.insert_op(Place::End, op, result_name)
    }

    /// Puts `op` at `place`, with a fresh result value of the opcode's result type (a label's
    /// parameters are added with [`add_label_param`](Trace::add_label_param)).
    pub fn insert_op(&mut self, place: Place, mut op: Op, result_name: Option<ValueName>) -> OpId {
        let id = self.ops.next_id();
        let ty = op.opcode.result_type();
        op.result = (ty != Type::Void).then(|| self.values.push(ValueData { ty, def: ValueDef::Op(id), name: result_name }));
        let id2 = self.ops.alloc(op);
        debug_assert!(id == id2);
        self.ops.place(id, place);
        id
    }

    /// Adds a parameter to the label `op` (which must already be pushed).
    pub fn add_label_param(&mut self, op: OpId, ty: Type, name: Option<&str>) -> Value {
        self.add_label_param_named(op, ty, name.map(Into::into))
    }

    /// `add_label_param` with a name already shared.
    pub fn add_label_param_named(&mut self, op: OpId, ty: Type, name: Option<ValueName>) -> Value {
        let index = self.ops[op].label().map_or(0, |l| l.params.len()) as u32;
        let v = self.values.push(ValueData { ty, def: ValueDef::LabelParam(op, index), name });
        if let OpExtra::Label(l) = &mut self.ops[op].extra {
            l.params.push(v);
        }
        v
    }

    /// For each value, the position in the order of the last op that uses it (0 if none).
    pub fn last_uses(&self) -> Vec<usize> {
        let mut last = vec![0usize; self.values.len()];
        for (k, op) in self.ops.values().enumerate() {
            op.for_each_use(|v| last[v.index()] = k);
        }
        last
    }

    /// The final op, if the trace has any.
    pub fn last_op(&self) -> Option<&Op> {
        self.ops.last().map(|id| &self.ops[id])
    }

    pub fn labels(&self) -> impl Iterator<Item = (OpId, &LabelInfo)> + '_ {
        self.ops.iter().filter_map(|(id, op)| op.label().map(|l| (id, l)))
    }

    /// Op counts that tools report: all ops, and ops that generate code (markers excluded).
    pub fn count_ops(&self) -> (usize, usize) {
        let real = self.ops.values().filter(|o| !o.opcode.is_marker()).count();
        (self.ops.len(), real)
    }
}

/// Old values to new ones for [`Trace::compact`]: each old value's data moves to the next
/// new number when it is first defined (or, for a constant, first used).
struct Renumber {
    old: Vec<ValueData>,
    map: Vec<Option<Value>>,
    values: Arena<Value, ValueData>,
    consts: HashMap<Const, Value>,
}

impl Renumber {
    fn new(old: Vec<ValueData>, ops: usize) -> Renumber {
        let map = vec![None; old.len()];
        Renumber { values: Arena::with_capacity(ops.max(old.len() / 2)), old, map, consts: HashMap::default() }
    }

    /// `v`'s new number, its data moved over (with `def`, its definition in the new numbering).
    fn define(&mut self, v: Value, def: Option<ValueDef>) -> Value {
        let mut data = std::mem::replace(&mut self.old[v.index()], ValueData { ty: Type::Void, def: ValueDef::Input(0), name: None });
        if let Some(def) = def {
            data.def = def;
        }
        let n = self.values.push(data);
        self.map[v.index()] = Some(n);
        n
    }

    /// A new value nothing had before (an op whose old result was missing).
    fn fresh(&mut self, ty: Type, def: ValueDef) -> Value {
        self.values.push(ValueData { ty, def, name: None })
    }

    /// The new number of a value read by an op: defined before, or a constant, numbered at its
    /// first use (equal constants become one value).
    fn used(&mut self, v: Value) -> Value {
        if let Some(n) = self.map[v.index()] {
            return n;
        }
        let ValueDef::Const(c) = &self.old[v.index()].def else {
            panic!("compact: {v:?} is used before it is defined");
        };
        let n = match self.consts.get(c) {
            Some(&n) => n,
            None => {
                let c = c.clone();
                let n = self.values.push(ValueData { ty: c.ty(), def: ValueDef::Const(c.clone()), name: None });
                self.consts.insert(c, n);
                n
            }
        };
        self.map[v.index()] = Some(n);
        n
    }
}

impl Op {
    pub fn new(opcode: Opcode, args: &[Value]) -> Op {
        Op { opcode, args: args.into(), result: None, descr: None, extra: OpExtra::None, span: Span::NONE }
    }
    pub fn with_descr(mut self, d: DescrId) -> Op {
        self.descr = Some(d);
        self
    }
    pub fn with_extra(mut self, e: OpExtra) -> Op {
        self.extra = e;
        self
    }
}

/// A label that lives outside the module: its token and parameter types.
#[derive(Clone, PartialEq, Debug)]
pub struct ExternLabel {
    pub token: Target,
    pub params: Vec<Type>,
}

/// A compilation unit: descrs shared by its traces, and the traces (loops, bridges, functions).
#[derive(Clone, PartialEq, Debug, Default)]
pub struct Module {
    pub descrs: Arena<DescrId, Descr>,
    /// Labels of traces outside this module that its jumps enter (a bridge's loop).
    pub externs: Vec<ExternLabel>,
    pub traces: Arena<TraceId, Trace>,
    descr_index: HashMap<DescrData, DescrId>,
    descr_names: HashMap<String, DescrId>,
}

impl Module {
    pub fn new() -> Module {
        Module::default()
    }

    /// The descr with this data, declaring it (under a fresh name) if it is new.
    pub fn intern_descr(&mut self, data: DescrData) -> DescrId {
        if let Some(&id) = self.descr_index.get(&data) {
            return id;
        }
        let name = self.fresh_descr_name(&data.suggested_name());
        self.push_descr(name, data)
    }

    /// The descr with this data; if it is new, declared under `name` (or a fresh variant of it).
    /// The descr declared with exactly this data, if any.
    pub fn descr_by_data(&self, data: &DescrData) -> Option<DescrId> {
        self.descr_index.get(data).copied()
    }

    pub fn intern_descr_named(&mut self, name: &str, data: DescrData) -> DescrId {
        if let Some(&id) = self.descr_index.get(&data) {
            return id;
        }
        let name = self.fresh_descr_name(name);
        self.push_descr(name, data)
    }

    /// Declares a descr under `name`. Two names may declare the same data; interning then
    /// finds the first.
    pub fn push_descr(&mut self, name: String, data: DescrData) -> DescrId {
        let id = self.descrs.push(Descr { name: name.clone(), data: data.clone() });
        self.descr_index.entry(data).or_insert(id);
        self.descr_names.entry(name).or_insert(id);
        id
    }

    /// Replaces what descr `id` says (its name and every reference stay).
    pub fn set_descr_data(&mut self, id: DescrId, data: DescrData) {
        let old = std::mem::replace(&mut self.descrs[id].data, data.clone());
        if self.descr_index.get(&old) == Some(&id) {
            self.descr_index.remove(&old);
        }
        self.descr_index.entry(data).or_insert(id);
    }

    pub fn descr_by_name(&self, name: &str) -> Option<DescrId> {
        self.descr_names.get(name).copied()
    }

    fn fresh_descr_name(&self, base: &str) -> String {
        let taken = |n: &str| self.descr_names.contains_key(n);
        if !taken(base) {
            return base.to_string();
        }
        (2..).map(|i| format!("{base}_{i}")).find(|n| !taken(n)).expect("some name is free")
    }

    /// Forgets what only affects presentation (source positions, value and virtual names, the
    /// numbering of values), so that two modules with the same meaning compare equal.
    pub fn strip_cosmetics(&mut self) {
        for t in self.traces.keys().collect::<Vec<_>>() {
            let t = &mut self.traces[t];
            t.compact();
            t.span = Span::NONE;
            for o in t.ops.keys().collect::<Vec<_>>() {
                let op = &mut t.ops[o];
                op.span = Span::NONE;
                if let Some(r) = op.guard_mut().and_then(|g| g.resume.as_mut()) {
                    r.virtuals.iter_mut().for_each(|v| v.name = None);
                }
            }
            for v in t.values.keys().collect::<Vec<_>>() {
                t.values[v].name = None;
            }
        }
    }

    /// Renumbers every trace's ops and values in order, dropping what passes left unused (see
    /// [`Trace::compact`]).
    pub fn compact(&mut self) {
        for t in self.traces.values_mut() {
            t.compact();
        }
    }

    pub fn trace_by_name(&self, name: &str) -> Option<TraceId> {
        self.traces.iter().find(|(_, t)| t.name == name).map(|(id, _)| id)
    }

    /// The effect class of a call op: its descr's, or what the opcode implies
    /// (`call_pure_*` elidable, `call_loopinvariant_*` loop-invariant), or `None` if unknown.
    pub fn call_effect(&self, op: &Op) -> Option<crate::descr::EffectClass> {
        use crate::descr::{DescrData, EffectClass};
        use crate::opcode::Opcode::*;
        let declared = op.descr.and_then(|d| match &self.descrs[d].data {
            DescrData::Call(c) => Some(c.effect),
            _ => None,
        });
        match op.opcode {
            CallPureI | CallPureR | CallPureF | CallPureN => Some(declared.filter(|e| e.is_elidable()).unwrap_or(EffectClass(0))),
            CallLoopinvariantI | CallLoopinvariantR | CallLoopinvariantF | CallLoopinvariantN => Some(EffectClass(1)),
            o if o.is_call() => declared,
            _ => None,
        }
    }

    /// The oopspec index of a call's descr (PyPy's `OS=`: what the callee is), if it has one.
    pub fn call_oopspec(&self, op: &Op) -> Option<u16> {
        match op.descr.map(|d| &self.descrs[d].data) {
            Some(crate::descr::DescrData::Call(c)) if op.opcode.is_call() => c.oopspec,
            _ => None,
        }
    }

    /// True for a call that writes nothing and whose result depends on its arguments only
    /// (elidable or loop-invariant): it may be merged with an identical one, and is not an
    /// event the interpreter records.
    pub fn call_is_effect_free(&self, op: &Op) -> bool {
        op.opcode == crate::opcode::Opcode::RecordKnownResult || self.call_effect(op).is_some_and(|e| e.is_effect_free())
    }

    /// True for a call whose result depends on its operands only, so that an identical call
    /// may reuse it: an effect-free call, and `cond_call_value_*` whatever its descr says (RPython
    /// emits it only for `jit.conditional_call_elidable`, whose function is elidable: it may
    /// write a cache, but the same arguments give the same result, and calling it again with
    /// them changes nothing; PyPy's `pure` optimization treats it so). Its effect class still
    /// says what its first call may write and raise.
    pub fn call_result_elidable(&self, op: &Op) -> bool {
        use crate::opcode::Opcode::{CondCallValueI, CondCallValueR};
        self.call_is_effect_free(op) || matches!(op.opcode, CondCallValueI | CondCallValueR)
    }

    /// A label token no label, jump or extern of the module uses.
    pub fn fresh_token(&self) -> Target {
        let mut max = 0;
        let mut see = |t: Option<Target>| {
            if let Some(Target::Token(n)) = t {
                max = max.max(n);
            }
        };
        for t in self.traces.values() {
            for op in t.ops.values() {
                see(op.label().map(|l| l.token));
                see(op.jump_target());
            }
        }
        for e in &self.externs {
            see(Some(e.token));
        }
        Target::Token(max + 1)
    }
}
