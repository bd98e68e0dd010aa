//! `escape`: escape analysis and allocation removal (PyPy's `virtualize` optimization, after
//! Bolz et al., "Allocation Removal by Partial Evaluation in a Tracing JIT", PEPM 2011; LuaJIT's
//! allocation sinking).
//!
//! One forward walk. An allocation (`new`, `new_with_vtable`, `new_array`/`new_array_clear` with
//! a constant length, and `virtual_ref`, laid out as `ir::descr::vref_layout` says) is not
//! emitted: it becomes a *virtual*, whose field and item writes are recorded and whose reads are
//! forwarded. `arraylen_gc`, `guard_nonnull`, `guard_class` / `guard_nonnull_class` against its
//! known class, identity comparisons (a virtual is only ever itself: nothing outside has seen
//! its address), `virtual_ref_finish`, `jit_force_virtual` (oopspec 120) of a virtual vref (it
//! gives the referent), and `arraycopy` (oopspec 1) into a virtual array at constant positions
//! fold away; `same_as_r`, `keepalive` and write barriers on it vanish.
//!
//! A virtual *escapes* when it reaches anything else: passed to a call, returned by `finish`,
//! carried around a loop other than as below, read at a non-constant index, or used by any op
//! the pass does not understand. It is then *materialized* right there: allocated, its known
//! fields written (virtuals it points to first, recursively; sharing and cycles kept), and from
//! then on it is an ordinary object.
//!
//! Stored into a field of a real object, a virtual does not escape yet: the store is *delayed*.
//! A later store to the same field of the same object makes it unobservable (PyPy's frames are
//! linked into the thread state for the length of a call this way, and unlinked after); a load
//! of that field through the object it was stored into is the virtual; a load of that field
//! through any other object, or an op that might read memory (a call that is not effect-free
//! with only scalar arguments, the end of the trace or of an iteration), does the delayed
//! stores first, in order; a guard lists them as pending writes in its resume data. Forcing a
//! virtualizable (oopspec 121) reads nothing: delayed stores stay delayed across it.
//!
//! A virtual that only appears in a guard's resume data is not allocated: the resume data
//! describes it (descr, length, fields, nested virtuals), and it is built only if the guard
//! fails. A guard without resume data gets a frame holding its fail args
//! (`GuardInfo::ensure_resume`) when it has something to describe.
//!
//! Assumes: a verified trace; fields of a fresh object that were never written read as zero
//! (the runtime zeroes allocations). Guarantees: the same observable behaviour, no new op
//! except the allocations and writes of materialization and the loads of an arraycopy from a
//! real array (at most 16 items).
//!
//! Loops: a label parameter of this trace that carries a virtual of one shape (same allocation,
//! descr, class; virtual fields of one shape themselves, up to 4 deep, none shared) on every
//! edge into the label (the entry and every jump of this trace) travels as that virtual's
//! fields, nested ones flattened: the label gets one parameter per field, jumps pass the field
//! values, and inside the loop the parameter is a virtual rebuilt from them. A probe walk finds
//! those parameters first. This is what makes a peeled loop allocate nothing for objects that
//! live from one iteration to the next. Any other virtual reaching a `label` or `jump` is
//! materialized.
//!
//! Stats: allocations removed, allocations materialized, loop-carried virtuals exploded;
//! remarks say where and why each materialization happened.

use crate::lazy_stores::{store_op, LazyStores, Store};
use crate::{edit_traces, Pass, PassContext};
use rustc_hash::FxHashMap as HashMap;
use std::collections::BTreeMap;
use tracelab_ir::descr::{DescrData, DescrId};
use tracelab_ir::entity::EntityRef;
use tracelab_ir::facts::ModuleFacts;
use tracelab_ir::resume::{FieldKey, GuardInfo, PendingWrite, Resume, ResumeValue, VirtualId, VirtualObject};
use tracelab_ir::cursor::Cursor;
use tracelab_ir::trace::ValueDef;
use tracelab_ir::{Const, Module, Op, OpExtra, OpId, Opcode, Target, Trace, Type, Value};

pub struct EscapePass;

impl Pass for EscapePass {
    fn run(&self, m: &mut Module, cx: &mut PassContext) {
        let uses_vrefs = m.traces.values().any(|t| t.ops.values().any(|op| op.opcode == Opcode::VirtualRef));
        if uses_vrefs {
            let (size, referent) = tracelab_ir::descr::vref_layout();
            m.intern_descr_named("vref.size", size);
            m.intern_descr_named("vref.referent", referent);
        }
        let facts = cx.facts.clone();
        edit_traces(m, |m, t| {
            // Only a label of this trace that no other trace enters can carry a virtual as its
            // fields; a trace without one is done by the first walk, on the trace itself.
            let own = own_labels(t, &facts);
            let original = (!own.is_empty() && may_carry_a_virtual(t, &own)).then(|| t.clone());
            // First walk: which label parameters carry a virtual of one shape on every edge.
            let mut probe = Escape::new(m, t, &facts);
            probe.probing = true;
            probe.want_remarks = cx.want_remarks;
            probe.run();
            let mut explode = probe.explodable(&own);
            // The real walk may disagree with the probe (a parameter it keeps virtual can change
            // what escapes); drop the edges it could not explode and walk again, each time on the
            // trace as it came. With nothing to explode, the real walk would do what the probe
            // did: the probe is the result.
            // Without a copy (no label of its own enters a value that may be a virtual), the
            // probe's result stands: valid, if less than a second walk might make.
            let mut e = if explode.is_empty() || original.is_none() {
                probe.finish()
            } else {
                drop(probe);
                let original = original.expect("checked above");
                loop {
                    *t = original.clone();
                    let mut e = Escape::new(m, t, &facts);
                    e.want_remarks = cx.want_remarks;
                    e.explode = explode.clone();
                    e.run();
                    let e = e.finish();
                    if e.failed_edges.is_empty() {
                        break e;
                    }
                    for k in &e.failed_edges {
                        explode.remove(k);
                    }
                }
            };
            cx.stats.add("loop-carried virtuals exploded", e.explode.len() as i64);
            cx.stats.add("allocations removed", e.removed as i64);
            cx.stats.add("allocations materialized", e.materialized as i64);
            cx.remarks.append(&mut e.remarks);
        });
    }
}

/// A field value of a virtual: an old-trace value (maybe itself virtual), or the zero an
/// unwritten field holds.
#[derive(Copy, Clone, Debug)]
enum FieldVal {
    Old(Value),
    /// A value of the new trace (a label parameter carrying an exploded virtual's field).
    New(Value),
    /// Another virtual that no old value names (one rebuilt at a label from its fields).
    Virt(Vid),
    Zero(Type),
}

struct Virtual {
    alloc: Opcode,
    descr: DescrId,
    length: Option<u32>,
    /// Class id name, for `new_with_vtable` whose size descr says it.
    class: Option<String>,
    fields: BTreeMap<FieldKey, FieldVal>,
    /// Old values that denote this virtual (the allocation and its aliases).
    names: Vec<Value>,
    /// Set once materialized: the new-trace value of the real object.
    real: Option<Value>,
}

type Vid = usize;

/// What a walk did, once its cursor is gone.
struct Walked {
    explode: HashMap<(Target, usize), Shape>,
    failed_edges: Vec<(Target, usize)>,
    removed: usize,
    materialized: usize,
    remarks: Vec<String>,
}

/// True if a label of `t`'s own (`own`) is entered, by fall-through or by a jump, with a value
/// an allocation made, or a load or `same_as` gave (which may name a virtual): only such a
/// parameter can carry a virtual, and only then may a second walk explode one.
fn may_carry_a_virtual(t: &Trace, own: &[Target]) -> bool {
    let maybe_virtual = |v: Value| match t.values[v].def {
        tracelab_ir::trace::ValueDef::Op(o) => {
            let op = t.ops[o].opcode;
            op.allocates() || op == Opcode::VirtualRef || (op.reads_heap() && !op.is_call()) || matches!(op, Opcode::SameAsR)
        }
        _ => false,
    };
    t.ops.values().any(|op| {
        let token = op.label().map(|l| l.token).or_else(|| op.jump_target());
        token.is_some_and(|tok| own.contains(&tok)) && op.args.iter().any(|&a| maybe_virtual(a))
    })
}

/// The labels of `t` no other trace jumps to.
fn own_labels(t: &Trace, facts: &ModuleFacts) -> Vec<Target> {
    t.labels().map(|(_, l)| l.token).filter(|tok| !facts.open_labels.contains(tok)).collect()
}

pub struct Escape<'a> {
    m: &'a Module,
    cur: Cursor<'a>,
    virtuals: Vec<Virtual>,
    of: HashMap<Value, Vid>,
    materialized: usize,
    pub remarks: Vec<String>,
    /// Format remarks (one per materialization: only when someone reads them).
    pub want_remarks: bool,
    /// Probe walk: record the shapes label parameters get on each edge.
    probing: bool,
    /// (label token, parameter index) → the shape seen on every edge so far (None: not one).
    edges: HashMap<(Target, usize), Option<Shape>>,
    /// Label parameters to pass as their virtual's fields instead of as an object.
    pub explode: HashMap<(Target, usize), Shape>,
    /// Edges planned as exploded whose value turned out not to be a virtual of the shape.
    failed_edges: Vec<(Target, usize)>,
    /// Stores of a virtual into a field of a real object, not done yet (in order): a later
    /// store to the same field of the same object makes them unobservable; anything that could
    /// read the field does them first; a guard lists them in its resume data.
    pending: LazyStores,
    /// The descrs a `virtual_ref` is modelled with (a 16-byte object, referent at offset 8).
    vref: Option<(DescrId, DescrId)>,
    /// For each value of the trace as it came, the position of the last op that uses it.
    last_use: Vec<usize>,
    /// For each op of the trace as it came, its position.
    position: Vec<usize>,
    /// Guards with a bridge in the module.
    facts: &'a ModuleFacts,
}


/// What a loop-carried virtual looks like: enough to rebuild it from its fields.
#[derive(Clone, PartialEq, Debug)]
pub struct Shape {
    alloc: Opcode,
    descr: DescrId,
    length: Option<u32>,
    class: Option<String>,
    /// The fields carried (written on some edge), in order; an edge that did not write a
    /// scalar one carries its zero.
    keys: Vec<(FieldKey, Leaf)>,
}

/// A carried field: a value of a type, or a virtual of its own (carried as its fields).
#[derive(Clone, PartialEq, Debug)]
pub enum Leaf {
    Scalar(Type),
    Nested(Box<Shape>),
}

/// How deep virtuals inside carried virtuals are carried as fields.
const MAX_NESTING: usize = 4;

impl<'a> Escape<'a> {
    pub fn new(m: &'a Module, t: &'a mut Trace, facts: &'a ModuleFacts) -> Escape<'a> {
        let last_use = t.last_uses();
        let mut position = vec![usize::MAX; t.ops.id_bound()];
        for (k, id) in t.ops.keys().enumerate() {
            position[id.index()] = k;
        }
        Escape {
            m,
            cur: Cursor::new(t),
            virtuals: Vec::new(),
            of: HashMap::default(),
            materialized: 0,
            remarks: Vec::new(),
            want_remarks: false,
            probing: false,
            edges: HashMap::default(),
            explode: HashMap::default(),
            failed_edges: Vec::new(),
            pending: LazyStores::default(),
            vref: vref_descrs(m),
            last_use,
            position,
            facts,
        }
    }

    /// Whether field `d` lies in virtual `vid` as the interpreter lays it out: a struct whose
    /// size covers the field. A field read from an array, or past a struct's end, reads memory
    /// the virtual does not describe (an array's length word, say): the object is built.
    fn field_fits(&self, vid: Vid, d: Option<DescrId>) -> bool {
        let v = &self.virtuals[vid];
        match (v.length, &self.m.descrs[v.descr].data, d.map(|d| &self.m.descrs[d].data)) {
            (None, DescrData::Size(sd), Some(DescrData::Field(fd))) => fd.offset as u64 + fd.width() <= sd.size as u64,
            _ => false,
        }
    }

    /// Allocations that were never materialized.
    pub fn removed(&self) -> usize {
        self.virtuals.iter().filter(|v| v.real.is_none()).count()
    }

    /// The virtual an old value denotes, if it is (still) virtual.
    fn virt(&self, v: Value) -> Option<Vid> {
        self.of.get(&v).copied().filter(|&id| self.virtuals[id].real.is_none())
    }

    fn field_value(&mut self, f: FieldVal) -> Option<Value> {
        match f {
            FieldVal::Old(x) if self.virt(x).is_some() => None,
            FieldVal::Old(x) => Some(self.cur.resolve(x)),
            FieldVal::New(v) => Some(v),
            FieldVal::Virt(id) => self.virtuals[id].real,
            FieldVal::Zero(ty) => Some(zero(self.cur.t, ty)),
        }
    }

    /// The virtual a field points to, if it (still) is one.
    fn field_virtual(&self, f: FieldVal) -> Option<Vid> {
        match f {
            FieldVal::Old(x) => self.virt(x),
            FieldVal::Virt(id) => self.virtuals[id].real.is_none().then_some(id),
            _ => None,
        }
    }

    pub fn run(&mut self) {
        while let Some(id) = self.cur.next_op_pending() {
            let op = self.cur.t.ops[id].clone();
            self.op(id, &op);
        }
    }

    /// Ends the walk (the cursor settles the trace) and keeps what it found.
    fn finish(self) -> Walked {
        let removed = self.removed();
        Walked { explode: self.explode, failed_edges: self.failed_edges, removed, materialized: self.materialized, remarks: self.remarks }
    }

    fn remark(&mut self, v: Value, id: OpId, why: &str) {
        if !self.want_remarks {
            return;
        }
        let name = self.cur.t.values[v].name.as_deref().unwrap_or("?").to_string();
        let at = self.position.get(id.index()).copied().unwrap_or(usize::MAX);
        self.remarks.push(format!("trace {}: {name} materialized at op {at} (`{}`): {why}", self.cur.t.name, self.cur.t.ops[id].opcode));
    }

    /// Makes the virtual `v` denotes a real object (emitting its allocation and writes).
    fn materialize(&mut self, v: Value, at: OpId, why: &str) {
        let Some(id) = self.virt(v) else { return };
        self.remark(v, at, why);
        self.materialize_id(id);
    }

    fn materialize_id(&mut self, id: Vid) {
        if self.virtuals[id].real.is_some() {
            return;
        }
        self.materialized += 1;
        let (alloc, descr, length) = (self.virtuals[id].alloc, self.virtuals[id].descr, self.virtuals[id].length);
        let args: Vec<Value> = length.map(|n| self.cur.t.int(n as i64)).into_iter().collect();
        let new_id = self.cur.emit(Op::new(alloc, &args).with_descr(descr));
        let real = self.cur.t.ops[new_id].result.expect("allocations produce a ref");
        self.virtuals[id].real = Some(real);
        for &name in &self.virtuals[id].names.clone() {
            self.cur.replace_uses(name, real);
        }
        let fields: Vec<(FieldKey, FieldVal)> = self.virtuals[id].fields.iter().map(|(k, f)| (*k, *f)).collect();
        for (key, f) in fields {
            let value = match f {
                FieldVal::Zero(_) => continue, // allocations are zeroed
                FieldVal::New(v) => v,
                FieldVal::Old(x) => {
                    if let Some(inner) = self.virt(x) {
                        self.materialize_id(inner);
                    }
                    self.cur.resolve(x)
                }
                FieldVal::Virt(inner) => {
                    self.materialize_id(inner);
                    self.virtuals[inner].real.expect("just materialized")
                }
            };
            let op = match key {
                FieldKey::Field(d) => Op::new(Opcode::SetfieldGc, &[real, value]).with_descr(d),
                FieldKey::Item(i) => {
                    let idx = self.cur.t.int(i as i64);
                    Op::new(Opcode::SetarrayitemGc, &[real, idx, value]).with_descr(descr)
                }
            };
            self.cur.emit(op);
        }
    }

    /// Materializes every virtual operand of `op`, then copies it.
    fn escape_all(&mut self, id: OpId, op: &Op, why: &str) {
        for &a in &op.args {
            self.materialize(a, id, why);
        }
        self.cur.keep();
    }

    fn op(&mut self, id: OpId, op: &Op) {
        use Opcode::*;
        let arg = |i: usize| op.args.get(i).copied();
        let virt_arg = |s: &Self, i: usize| arg(i).and_then(|v| s.virt(v));
        if self.m.call_oopspec(op) == Some(tracelab_ir::descr::OS_JIT_FORCE_VIRTUAL) && self.force_virtual_ref(op) {
            return;
        }
        if !self.pending.is_empty() && !reads_fields_itself(op) {
            let m = self.m;
            let reads = tracelab_ir::effects::reads(m, self.cur.t, op);
            let read: Vec<Store> = self.pending.iter().copied().filter(|p| reads.touches(m, p.descr)).collect();
            for p in read {
                if self.virt(p.value).is_some() {
                    self.remark(p.value, id, "its delayed store into a real object is done first: this op might read it");
                }
            }
            self.flush(|p| reads.touches(m, p.descr));
        }
        match op.opcode {
            VirtualRef => {
                if let (Some((size, referent)), Some(x)) = (self.vref, arg(0)) {
                    let r = op.result.expect("virtual_ref has a result");
                    let fields = BTreeMap::from([(FieldKey::Field(referent), FieldVal::Old(x))]);
                    self.of.insert(r, self.virtuals.len());
                    self.virtuals.push(Virtual { alloc: New, descr: size, length: None, class: None, fields, names: vec![r], real: None });
                    return;
                }
            }
            VirtualRefFinish => {
                // The interpreter's vref has nothing to finish: a virtual one simply goes.
                if virt_arg(self, 0).is_some() {
                    return;
                }
            }
            New | NewWithVtable => return self.new_virtual(op, None),
            NewArray | NewArrayClear => {
                if let Some(Const::Int(n)) = arg(0).and_then(|v| self.cur.t.as_const(v)) {
                    if (0..=4096).contains(n) {
                        return self.new_virtual(op, Some(*n as u32));
                    }
                }
            }
            SetfieldGc => {
                if let (Some(vid), Some(d)) = (virt_arg(self, 0), op.descr) {
                    if self.field_fits(vid, op.descr) {
                        self.virtuals[vid].fields.insert(FieldKey::Field(d), FieldVal::Old(op.args[1]));
                        return;
                    }
                    self.materialize(op.args[0], id, "written through a field it does not have");
                }
                if let Some(d) = op.descr {
                    return self.store_into_real(op.args[0], d, op.args[1]);
                }
                if let Some(x) = arg(1) {
                    self.materialize(x, id, "stored into an object that is not virtual");
                }
            }
            GetfieldGcI | GetfieldGcR | GetfieldGcF | GetfieldGcPureI | GetfieldGcPureR | GetfieldGcPureF => {
                if let (Some(vid), Some(d)) = (virt_arg(self, 0), op.descr) {
                    if self.field_fits(vid, op.descr) {
                        let ty = op.opcode.result_type();
                        let f = self.virtuals[vid].fields.get(&FieldKey::Field(d)).copied().unwrap_or(FieldVal::Zero(ty));
                        return self.forward(op, f);
                    }
                    self.materialize(op.args[0], id, "read through a field it does not have");
                }
                if let Some(d) = op.descr {
                    // Reading back a delayed store through the same object: the virtual stored
                    // (through another reference the object might be the same one: stores first).
                    let mut same_field = self.pending.iter().filter(|p| p.descr == d);
                    if let (Some(p), None) = (same_field.next(), same_field.next()) {
                        if p.object == op.args[0] {
                            let x = p.value;
                            return self.forward(op, FieldVal::Old(x));
                        }
                    }
                    self.flush(|p| p.descr == d);
                }
            }
            SetarrayitemGc => {
                if let (Some(vid), Some(i)) = (virt_arg(self, 0), self.const_index(op, 1)) {
                    if self.in_bounds(vid, i) {
                        self.virtuals[vid].fields.insert(FieldKey::Item(i), FieldVal::Old(op.args[2]));
                        return;
                    }
                }
                if let Some(x) = arg(2) {
                    self.materialize(x, id, "stored into an object that is not virtual");
                }
                if let Some(a) = arg(0) {
                    self.materialize(a, id, "written at an index that is not a known constant in bounds");
                }
            }
            GetarrayitemGcI | GetarrayitemGcR | GetarrayitemGcF | GetarrayitemGcPureI | GetarrayitemGcPureR
            | GetarrayitemGcPureF => {
                if let (Some(vid), Some(i)) = (virt_arg(self, 0), self.const_index(op, 1)) {
                    if self.in_bounds(vid, i) {
                        let ty = op.opcode.result_type();
                        let f = self.virtuals[vid].fields.get(&FieldKey::Item(i)).copied().unwrap_or(FieldVal::Zero(ty));
                        return self.forward(op, f);
                    }
                }
                if let Some(a) = arg(0) {
                    self.materialize(a, id, "read at an index that is not a known constant in bounds");
                }
            }
            ArraylenGc => {
                if let Some(vid) = virt_arg(self, 0) {
                    let n = self.cur.t.int(self.virtuals[vid].length.unwrap_or(0) as i64);
                    self.cur.replace_uses(op.result.expect("arraylen_gc has a result"), n);
                    return;
                }
            }
            SameAsR => {
                if let Some(vid) = virt_arg(self, 0) {
                    let r = op.result.expect("same_as_r has a result");
                    self.of.insert(r, vid);
                    self.virtuals[vid].names.push(r);
                    return;
                }
            }
            Keepalive | CondCallGcWb | CondCallGcWbArray | AssertNotNone => {
                if virt_arg(self, 0).is_some() {
                    return;
                }
            }
            PtrEq | PtrNe | InstancePtrEq | InstancePtrNe => {
                if let Some(same) = self.identity(op) {
                    let eq = matches!(op.opcode, PtrEq | InstancePtrEq);
                    let c = self.cur.t.int(i64::from(same == eq));
                    self.cur.replace_uses(op.result.expect("comparisons have a result"), c);
                    return;
                }
                return self.escape_all(id, op, "compared by identity with an object it might be");
            }
            o if o.is_guard() => return self.guard(id, op),
            Label | Jump => return self.loop_edge(id, op),
            Finish => return self.escape_all(id, op, "returned by finish"),
            o if o.is_call() => {
                if is_arraycopy(self.m, op) && self.virtual_arraycopy(op) {
                    return;
                }
                return self.escape_all(id, op, "passed to a call");
            }
            _ => {}
        }
        self.escape_all(id, op, "used by an op the pass does not look into")
    }

    /// The shape of the virtual `v` denotes, if it is one whose fields are not virtual.
    fn shape(&self, v: Value) -> Option<Shape> {
        self.shape_of(self.virt(v)?, &mut Vec::new())
    }

    /// The shape of virtual `vid`; `None` if a virtual inside it is shared, cyclic or too deep
    /// (carrying fields would not keep its identity).
    fn shape_of(&self, vid: Vid, seen: &mut Vec<Vid>) -> Option<Shape> {
        if seen.contains(&vid) || seen.len() > MAX_NESTING {
            return None;
        }
        seen.push(vid);
        let vir = &self.virtuals[vid];
        let mut keys = Vec::new();
        for (k, f) in &vir.fields {
            let leaf = match (*f, self.field_virtual(*f)) {
                (_, Some(inner)) => Leaf::Nested(Box::new(self.shape_of(inner, seen)?)),
                (FieldVal::Old(x), None) => Leaf::Scalar(self.cur.t.ty(x)),
                (FieldVal::New(v), None) => Leaf::Scalar(self.cur.t.ty(v)),
                (FieldVal::Virt(_), None) => Leaf::Scalar(Type::Ref),
                (FieldVal::Zero(t), None) => Leaf::Scalar(t),
            };
            keys.push((*k, leaf));
        }
        Some(Shape { alloc: vir.alloc, descr: vir.descr, length: vir.length, class: vir.class.clone(), keys })
    }

    fn record_edge(&mut self, token: Target, k: usize, shape: Option<Shape>) {
        let merged = match (self.edges.get(&(token, k)), shape) {
            (None, s) => s,
            (Some(Some(a)), Some(b)) => merge(a, &b),
            _ => None,
        };
        self.edges.insert((token, k), merged);
    }

    /// After a probe walk: the label parameters that carried one shape of virtual on every edge.
    /// Only labels of this trace that no other trace enters (`own`): a label another trace
    /// jumps to must keep its layout.
    fn explodable(&self, own: &[Target]) -> HashMap<(Target, usize), Shape> {
        self.edges.iter().filter(|((t, _), _)| own.contains(t)).filter_map(|(k, s)| s.clone().map(|s| (*k, s))).collect()
    }

    /// A `label` or `jump`: parameters that carry a virtual of one shape on every edge travel as
    /// its fields (no allocation around the loop); any other virtual is built first.
    fn loop_edge(&mut self, id: OpId, op: &Op) {
        if op.opcode == Opcode::Label {
            self.materialize_live_across(id);
        }
        let token = match (op.label(), op.jump_target()) {
            (Some(l), _) => Some(l.token),
            (None, Some(t @ Target::Token(_))) => Some(t),
            _ => None,
        };
        if self.probing {
            if let Some(tok) = token {
                for (k, &a) in op.args.iter().enumerate() {
                    let s = self.shape(a);
                    self.record_edge(tok, k, s);
                }
            }
            // The real walk's words: if nothing explodes, the probe's walk is the result.
            return self.escape_all(id, op, "carried around the loop (not as one shape of virtual on every edge)");
        }
        let exploded: Vec<(usize, Shape)> = match token {
            Some(tok) => (0..op.args.len()).filter_map(|k| self.explode.get(&(tok, k)).map(|s| (k, s.clone()))).collect(),
            None => Vec::new(),
        };
        if exploded.is_empty() {
            return self.escape_all(id, op, "carried around the loop (not as one shape of virtual on every edge)");
        }
        // Ordinary arguments (materialized if virtual), then the exploded ones' fields.
        let mut args = Vec::new();
        for (k, &a) in op.args.iter().enumerate() {
            if !exploded.iter().any(|(e, _)| *e == k) {
                self.materialize(a, id, "carried around the loop");
                args.push(self.cur.resolve(a));
            }
        }
        for (k, shape) in &exploded {
            let tok = token.expect("exploded edges have a token");
            let Some(vid) = self.virt(op.args[*k]).filter(|_| self.shape(op.args[*k]).is_some_and(|s| fits(&s, shape))) else {
                self.failed_edges.push((tok, *k));
                continue;
            };
            self.flatten(vid, shape, &mut args);
        }
        let mut new = Op::new(op.opcode, &args);
        new.span = op.span;
        match &op.extra {
            OpExtra::Label(l) => {
                new.extra = OpExtra::Label(Box::new(tracelab_ir::trace::LabelInfo { token: l.token, params: Vec::new() }));
                let nid = self.cur.emit(new);
                for (k, &p) in l.params.iter().enumerate() {
                    if !exploded.iter().any(|(e, _)| *e == k) {
                        let name = self.cur.t.values[p].name.clone();
                        let np = self.cur.t.add_label_param(nid, self.cur.t.ty(p), name.as_deref());
                        self.cur.replace_uses(p, np);
                    }
                }
                for (k, shape) in &exploded {
                    let p = l.params[*k];
                    let vid = self.rebuild(nid, shape);
                    self.virtuals[vid].names.push(p);
                    self.of.insert(p, vid);
                }
            }
            _ => {
                new.extra = op.extra.clone();
                self.cur.emit(new);
            }
        }
    }

    /// Virtuals that live across `label` (named by values defined before it and used after
    /// it, or reachable from those) are built before it: the loop body is walked once, but
    /// runs many times, and each iteration must see the one object, as it was left by the
    /// iteration before. Carried parameters are what lets a virtual cross a label.
    fn materialize_live_across(&mut self, label: OpId) {
        // Positions in the trace as it came (every value `of` names is of that trace).
        let at = |o: OpId| self.position.get(o.index()).copied().unwrap_or(usize::MAX);
        let label_at = at(label);
        let before = |v: Value| match self.cur.t.values[v].def {
            ValueDef::Input(_) => true,
            ValueDef::Op(o) | ValueDef::LabelParam(o, _) => at(o) < label_at,
            ValueDef::Const(_) => false,
        };
        let mut live: Vec<Value> = self.of.keys().copied().filter(|&v| before(v) && self.last_use.get(v.index()).is_some_and(|&u| u > label_at)).collect();
        live.sort_by_key(|v| v.index());
        for v in live {
            self.materialize(v, label, "lives across the loop header");
        }
    }

    /// The carried fields of virtual `vid` (of a shape that fits `shape`), nested ones flattened,
    /// in the order `rebuild` makes label parameters.
    fn flatten(&mut self, vid: Vid, shape: &Shape, args: &mut Vec<Value>) {
        for (key, leaf) in &shape.keys {
            let f = self.virtuals[vid].fields.get(key).copied();
            match leaf {
                Leaf::Scalar(ty) => {
                    let v = self.field_value(f.unwrap_or(FieldVal::Zero(*ty))).expect("scalar leaves are not virtual");
                    args.push(v);
                }
                Leaf::Nested(sub) => {
                    let inner = f.and_then(|f| self.field_virtual(f)).expect("fits() checked nested leaves");
                    self.flatten(inner, sub, args);
                }
            }
        }
    }

    /// A virtual of `shape` built from new parameters of label `nid`.
    fn rebuild(&mut self, nid: OpId, shape: &Shape) -> Vid {
        let mut fields = BTreeMap::new();
        for (key, leaf) in &shape.keys {
            let f = match leaf {
                Leaf::Scalar(ty) => FieldVal::New(self.cur.t.add_label_param(nid, *ty, None)),
                Leaf::Nested(sub) => FieldVal::Virt(self.rebuild(nid, sub)),
            };
            fields.insert(*key, f);
        }
        let vid = self.virtuals.len();
        self.virtuals.push(Virtual { alloc: shape.alloc, descr: shape.descr, length: shape.length, class: shape.class.clone(), fields, names: Vec::new(), real: None });
        vid
    }

    /// `setfield_gc(object, x, descr=d)` on a real object. Storing a virtual is delayed (it may
    /// be overwritten before anything can see it: an interpreter frame linked into a thread
    /// state for the length of a call); storing a real value drops a delayed store to the same
    /// field of the same object and does the others of that field first, in order.
    fn store_into_real(&mut self, object: Value, d: DescrId, x: Value) {
        if self.virt(x).is_some() {
            self.pending.push(Store { object, descr: d, index: None, value: x });
            return;
        }
        self.pending.forget(object, d, None);
        self.flush(|p| p.descr == d);
        self.cur.keep();
    }

    /// `call(arraycopy, src, dst, src_start, dst_start, length)` (PyPy's oopspec 1) into a
    /// virtual array at constant, in-bounds positions: the items are copied virtually, from a
    /// virtual source of the same descr or, for a few items (at most 16), loaded from a real one.
    fn virtual_arraycopy(&mut self, op: &Op) -> bool {
        let k = |i: usize| op.args.get(i).and_then(|&v| match self.cur.t.as_const(v) {
            Some(Const::Int(n)) if *n >= 0 && *n <= u32::MAX as i64 => Some(*n as u32),
            _ => None,
        });
        let Some(dst) = op.args.get(2).and_then(|&v| self.virt(v)) else { return false };
        let (Some(s0), Some(d0), Some(n)) = (k(3), k(4), k(5)) else { return false };
        let fits = |vid: Vid, start: u32| self.virtuals[vid].length.is_some_and(|len| start.checked_add(n).is_some_and(|end| end <= len));
        let descr = self.virtuals[dst].descr;
        let ty = match &self.m.descrs[descr].data {
            DescrData::Array(a) => a.kind.value_type(),
            _ => return false,
        };
        if !fits(dst, d0) {
            return false;
        }
        let items: Vec<FieldVal> = match op.args.get(1).map(|&v| (v, self.virt(v))) {
            Some((_, Some(src))) if fits(src, s0) && self.virtuals[src].descr == descr => {
                (0..n).map(|i| self.virtuals[src].fields.get(&FieldKey::Item(s0 + i)).copied().unwrap_or(FieldVal::Zero(ty))).collect()
            }
            Some((src, None)) if n <= 16 => {
                let load = match ty {
                    Type::Ref => Opcode::GetarrayitemGcR,
                    Type::Float => Opcode::GetarrayitemGcF,
                    _ => Opcode::GetarrayitemGcI,
                };
                let src = self.cur.resolve(src);
                (0..n)
                    .map(|i| {
                        let idx = self.cur.t.int(i64::from(s0 + i));
                        let lid = self.cur.emit(Op::new(load, &[src, idx]).with_descr(descr));
                        FieldVal::New(self.cur.t.ops[lid].result.expect("loads produce a value"))
                    })
                    .collect()
            }
            _ => return false,
        };
        for (i, f) in items.into_iter().enumerate() {
            self.virtuals[dst].fields.insert(FieldKey::Item(d0 + i as u32), f);
        }
        true
    }

    /// Does the delayed stores `which` selects, in order.
    fn flush(&mut self, which: impl Fn(&Store) -> bool) {
        for p in self.pending.take(which) {
            if let Some(vid) = self.virt(p.value) {
                self.materialize_id(vid);
            }
            let (object, value) = (self.cur.resolve(p.object), self.cur.resolve(p.value));
            let op = store_op(self.cur.t, &Store { object, value, ..p });
            self.cur.emit(op);
        }
    }

    fn new_virtual(&mut self, op: &Op, length: Option<u32>) {
        let Some(descr) = op.descr else { return };
        let class = match (&self.m.descrs[descr].data, op.opcode) {
            (DescrData::Size(s), Opcode::NewWithVtable) => s.class.clone(),
            _ => None,
        };
        let r = op.result.expect("allocations produce a ref");
        let id = self.virtuals.len();
        self.virtuals.push(Virtual { alloc: op.opcode, descr, length, class, fields: BTreeMap::new(), names: vec![r], real: None });
        self.of.insert(r, id);
    }

    /// The result of a read from a virtual is the field's value.
    /// `jit_force_virtual(vref)` of a virtual vref: the object it refers to (nothing to force,
    /// nothing read from memory). False if the vref is not virtual.
    fn force_virtual_ref(&mut self, op: &Op) -> bool {
        let vid = op.args.get(1).and_then(|&v| self.virt(v));
        let (Some(vid), Some((_, referent)), Some(_)) = (vid, self.vref, op.result) else { return false };
        let Some(&f) = self.virtuals[vid].fields.get(&FieldKey::Field(referent)) else { return false };
        self.forward(op, f);
        true
    }

    fn forward(&mut self, op: &Op, f: FieldVal) {
        let r = op.result.expect("reads produce a value");
        match f {
            FieldVal::Old(x) => match self.virt(x) {
                Some(vid) => {
                    self.of.insert(r, vid);
                    self.virtuals[vid].names.push(r);
                }
                None => {
                    let v = self.cur.resolve(x);
                    self.cur.replace_uses(r, v);
                }
            },
            FieldVal::New(v) => self.cur.replace_uses(r, v),
            FieldVal::Virt(vid) => match self.virtuals[vid].real {
                None => {
                    self.of.insert(r, vid);
                    self.virtuals[vid].names.push(r);
                }
                Some(real) => self.cur.replace_uses(r, real),
            },
            FieldVal::Zero(ty) => {
                let z = zero(self.cur.t, ty);
                self.cur.replace_uses(r, z);
            }
        }
    }

    fn const_index(&self, op: &Op, i: usize) -> Option<u32> {
        match op.args.get(i).and_then(|&v| self.cur.t.as_const(v)) {
            Some(Const::Int(n)) if *n >= 0 && *n <= u32::MAX as i64 => Some(*n as u32),
            _ => None,
        }
    }

    fn in_bounds(&self, vid: Vid, i: u32) -> bool {
        self.virtuals[vid].length.is_some_and(|n| i < n)
    }

    /// For a comparison of references: `Some(true)` if surely the same object, `Some(false)` if
    /// surely not, `None` if it depends.
    fn identity(&self, op: &Op) -> Option<bool> {
        let (a, b) = (op.args[0], op.args[1]);
        let (va, vb) = (self.virt(a), self.virt(b));
        // A virtual's address has been seen by nothing that is not virtual (it would have been
        // materialized), so it differs from every other value: constants, inputs, loads.
        match (va, vb) {
            (Some(x), Some(y)) => Some(x == y),
            (Some(_), None) | (None, Some(_)) => Some(false),
            _ => None,
        }
    }

    fn guard(&mut self, id: OpId, op: &Op) {
        use Opcode::*;
        // Guards that a virtual decides.
        if let Some(vid) = op.args.first().and_then(|&v| self.virt(v)) {
            let class_ok = |s: &Self| match (op.args.get(1).and_then(|&c| s.cur.t.as_const(c)), &s.virtuals[vid].class) {
                (Some(Const::Class(c)), Some(k)) => c == k,
                // A class named by its vtable address.
                (Some(Const::Int(n)), Some(k)) => k.parse::<i64>() == Ok(*n),
                _ => false,
            };
            let passes = match op.opcode {
                GuardNonnull | GuardIsObject => true,
                GuardClass | GuardNonnullClass => class_ok(self),
                _ => false,
            };
            if passes {
                return;
            }
        }
        if self.facts.is_bridged(op) {
            // Its fail args are the bridge's inputs, and the bridge reads memory: real objects,
            // delayed stores done.
            for &v in op.args.iter().chain(op.guard().into_iter().flat_map(|g| g.fail_args.iter().flatten())) {
                self.materialize(v, id, "passed to a bridge");
            }
            self.flush(|_| true);
            self.cur.keep();
            return;
        }
        let fail_args = op.guard().map_or(&[][..], |g| &g.fail_args[..]);
        let any_virtual = op.args.iter().chain(fail_args.iter().flatten()).any(|&v| self.virt(v).is_some());
        let resume_virtual = op.guard().and_then(|g| g.resume.as_ref()).is_some_and(|r| self.resume_has_virtual(r));
        if !any_virtual && self.pending.is_empty() && !resume_virtual {
            self.cur.keep();
            return;
        }
        let mut g = op.guard().cloned().unwrap_or_default();
        let to_describe = g.fail_args.iter().flatten().any(|&v| self.virt(v).is_some()) || !self.pending.is_empty();
        if g.resume.is_none() && to_describe {
            g.ensure_resume();
        }
        for &a in &op.args {
            self.materialize(a, id, "tested by a guard it does not pass");
        }
        if g.resume.is_none() {
            for v in g.fail_args.iter().flatten() {
                self.materialize(*v, id, "in the fail args of a guard without resume data");
            }
            self.cur.keep();
            return;
        }
        let info = self.describe(&g);
        let mut new = Op::new(op.opcode, &[]);
        new.args = op.args.iter().map(|&a| self.cur.resolve(a)).collect();
        new.descr = op.descr;
        new.span = op.span;
        new.extra = OpExtra::Guard(info.into());
        let nid = self.cur.emit(new);
        if let (Some(old_r), Some(new_r)) = (op.result, self.cur.t.ops[nid].result) {
            self.cur.replace_uses(old_r, new_r);
        }
    }

    fn resume_has_virtual(&self, r: &Resume) -> bool {
        r.values().any(|rv| matches!(rv, ResumeValue::Value(v) if self.virt(v).is_some()))
    }

    /// The guard's data with virtuals described in its resume data instead of passed.
    fn describe(&mut self, g: &GuardInfo) -> GuardInfo {
        let r = g.resume.as_ref().expect("describe is for guards with resume data");
        let mut out = Resume { frames: Vec::new(), virtuals: Vec::new(), vable: Vec::new(), pending: Vec::new() };
        let mut ids: HashMap<Vid, VirtualId> = HashMap::default();
        // The guard's own virtuals keep their indices; ours come after them.
        let own = r.virtuals.len();
        out.virtuals = r.virtuals.clone();
        let mut rv = |s: &mut Self, out: &mut Resume, v: ResumeValue| -> ResumeValue {
            match v {
                ResumeValue::Value(x) => s.resume_value(x, out, &mut ids),
                other => other,
            }
        };
        for f in &r.frames {
            let slots = f.slots.iter().map(|&v| rv(self, &mut out, v)).collect();
            out.frames.push(tracelab_ir::resume::ResumeFrame { code: f.code.clone(), pc: f.pc, slots });
        }
        for i in 0..own {
            let fields: Vec<(FieldKey, ResumeValue)> = out.virtuals[i].fields.clone();
            out.virtuals[i].fields = fields.into_iter().map(|(k, v)| (k, rv(self, &mut out, v))).collect();
        }
        for e in &r.vable {
            let value = rv(self, &mut out, e.value);
            out.vable.push(tracelab_ir::resume::VableEntry { slot: e.slot, value });
        }
        for w in &r.pending {
            let (object, value) = (rv(self, &mut out, w.object), rv(self, &mut out, w.value));
            out.pending.push(PendingWrite { object, value, ..w.clone() });
        }
        let held: Vec<Store> = self.pending.iter().copied().collect();
        for p in held {
            let object = ResumeValue::Value(self.cur.resolve(p.object));
            let value = self.resume_value(p.value, &mut out, &mut ids);
            out.pending.push(PendingWrite { object, descr: p.descr, index: None, value });
        }
        // Fail args: the real ones, plus every value the resume data now needs.
        let mut fail_args: Vec<Option<Value>> = Vec::new();
        for v in g.fail_args.iter() {
            match v {
                Some(x) if self.virt(*x).is_some() => {}
                Some(x) => fail_args.push(Some(self.cur.resolve(*x))),
                None => fail_args.push(None),
            }
        }
        for v in out.values() {
            if let ResumeValue::Value(x) = v {
                if !self.cur.t.is_const(x) && !fail_args.contains(&Some(x)) {
                    fail_args.push(Some(x));
                }
            }
        }
        GuardInfo { id: g.id, fail_args, resume: Some(out) }
    }

    /// An old value in resume data: a new-trace value, or a description of its virtual.
    fn resume_value(&mut self, x: Value, out: &mut Resume, ids: &mut HashMap<Vid, VirtualId>) -> ResumeValue {
        match self.virt(x) {
            Some(vid) => self.resume_virtual(vid, out, ids),
            None => ResumeValue::Value(self.cur.resolve(x)),
        }
    }

    /// A virtual in resume data: described once (sharing and cycles kept).
    fn resume_virtual(&mut self, vid: Vid, out: &mut Resume, ids: &mut HashMap<Vid, VirtualId>) -> ResumeValue {
        if let Some(&id) = ids.get(&vid) {
            return ResumeValue::Virtual(id);
        }
        let id = VirtualId::new(out.virtuals.len());
        ids.insert(vid, id);
        let v = &self.virtuals[vid];
        let name = v.names.first().and_then(|&n| self.cur.t.values[n].name.as_deref()).map(|n| format!("{n}_v"));
        out.virtuals.push(VirtualObject { name, alloc: v.alloc, descr: v.descr, length: v.length, fields: Vec::new() });
        let fields: Vec<(FieldKey, FieldVal)> = self.virtuals[vid].fields.iter().map(|(k, f)| (*k, *f)).collect();
        let mut described = Vec::new();
        for (k, f) in fields {
            let value = match f {
                FieldVal::Old(y) => self.resume_value(y, out, ids),
                FieldVal::New(v) => ResumeValue::Value(v),
                FieldVal::Virt(inner) => match self.virtuals[inner].real {
                    None => self.resume_virtual(inner, out, ids),
                    Some(real) => ResumeValue::Value(real),
                },
                FieldVal::Zero(_) => continue,
            };
            described.push((k, value));
        }
        out.virtuals[id.index()].fields = described;
        ResumeValue::Virtual(id)
    }
}

/// Field loads and stores: this pass handles them where they happen (a load of a delayed
/// store's field does that store first, a store to it drops or does it). What any other op may
/// read, [`tracelab_ir::effects`] says.
fn reads_fields_itself(op: &Op) -> bool {
    use Opcode::*;
    matches!(op.opcode, GetfieldGcI | GetfieldGcR | GetfieldGcF | GetfieldGcPureI | GetfieldGcPureR | GetfieldGcPureF | SetfieldGc)
}

fn is_arraycopy(m: &Module, op: &Op) -> bool {
    m.call_oopspec(op) == Some(tracelab_ir::descr::OS_ARRAYCOPY)
}

fn vref_descrs(m: &Module) -> Option<(DescrId, DescrId)> {
    let (size, referent) = tracelab_ir::descr::vref_layout();
    Some((m.descr_by_data(&size)?, m.descr_by_data(&referent)?))
}

fn zero(t: &mut Trace, ty: Type) -> Value {
    match ty {
        Type::Ref => t.constant(Const::Null),
        Type::Float => t.constant(Const::float(0.0)),
        _ => t.int(0),
    }
}

fn same_object(a: &Shape, b: &Shape) -> bool {
    a.alloc == b.alloc && a.descr == b.descr && a.length == b.length && a.class == b.class
}

/// Two edges' shapes as one: the union of their fields, nested shapes merged; `None` if they
/// disagree (another object, or a field virtual on one edge and not on the other).
fn merge(a: &Shape, b: &Shape) -> Option<Shape> {
    if !same_object(a, b) {
        return None;
    }
    let mut keys = a.keys.clone();
    for (k, leaf) in &b.keys {
        match keys.iter_mut().find(|(k2, _)| k2 == k) {
            None if matches!(leaf, Leaf::Scalar(_)) => keys.push((*k, leaf.clone())),
            None => return None,
            Some((_, mine)) => {
                *mine = match (&*mine, leaf) {
                    (Leaf::Scalar(x), Leaf::Scalar(y)) if x == y => Leaf::Scalar(*x),
                    (Leaf::Nested(x), Leaf::Nested(y)) => Leaf::Nested(Box::new(merge(x, y)?)),
                    _ => return None,
                }
            }
        }
    }
    // A nested field one edge lacks would have to be built from nothing.
    if a.keys.iter().any(|(k, l)| matches!(l, Leaf::Nested(_)) && !b.keys.iter().any(|(k2, _)| k2 == k)) {
        return None;
    }
    keys.sort_by_key(|(k, _)| *k);
    Some(Shape { keys, ..a.clone() })
}

/// A virtual's shape fits a planned one: same object, no field the plan does not carry, and
/// every nested field of the plan present and fitting.
fn fits(s: &Shape, plan: &Shape) -> bool {
    same_object(s, plan)
        && s.keys.iter().all(|(k, _)| plan.keys.iter().any(|(p, _)| p == k))
        && plan.keys.iter().all(|(k, leaf)| match (leaf, s.keys.iter().find(|(k2, _)| k2 == k).map(|(_, l)| l)) {
            (Leaf::Scalar(t), Some(Leaf::Scalar(u))) => t == u,
            (Leaf::Scalar(_), None) => true,
            (Leaf::Nested(p), Some(Leaf::Nested(x))) => fits(x, p),
            _ => false,
        })
}
