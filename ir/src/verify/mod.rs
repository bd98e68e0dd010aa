//! The verifier: checks every invariant the rest of tracelab relies on, and reports all
//! violations, not just the first.
//!
//! Checked, per trace:
//! - values: each value's recorded definition agrees with the op, input or label that defines
//!   it; every use comes after its definition (inputs and constants are always defined);
//! - types: operand count and types match the opcode's signature; `guard_value` compares two
//!   values of one type; result types match the opcode;
//! - descrs: present when the opcode needs one, absent when it takes none, and of the right kind
//!   and item type (`getfield_gc_r` reads a `P` field, a call's result and argument kinds match
//!   the call op and its arguments);
//! - guards: fail args and resume values are defined; every SSA value in resume data is among the
//!   fail args; virtuals refer to allocation descrs of the right kind; virtualizable entries name
//!   declared virtualizable fields;
//! - control: `label` tokens are unique in the module; a `jump` goes to a label of the module (or
//!   to the trace start) with the right arity and types; the last op is `jump` or `finish` and
//!   nothing follows it; a function's `finish` gives its declared result type; calls to
//!   `@function` name a function of the module with matching parameters;
//! - objects: one object is not reached through overlapping fields, nor as both a struct and an
//!   array (`objects.rs`).

use crate::descr::{CallKind, DescrData, MemKind};
use crate::diag::Diagnostic;
use crate::entity::EntityRef;
use crate::opcode::{DescrKind, Opcode};
use crate::printer::{print_op, target_text};
use crate::resume::*;
use crate::trace::*;
use crate::types::Type;
use std::collections::HashMap;

mod objects;

/// A call descr's read and write sets name field, array or interior-field descrs of the module
/// (the parser makes them so; built IR may not).
fn call_sets(m: &Module) -> Vec<String> {
    let mut out = Vec::new();
    for d in m.descrs.values() {
        let crate::descr::DescrData::Call(c) = &d.data else { continue };
        for x in c.named_descrs() {
            let memory = m.descrs.get(x).is_some_and(|x| matches!(x.data, crate::descr::DescrData::Field(_) | crate::descr::DescrData::Array(_) | crate::descr::DescrData::Interior(_)));
            if !memory {
                out.push(format!("descr `{}`: its read or write set names {x:?}, which is not a field, array or interior-field descr of the module", d.name));
            }
        }
    }
    out
}

/// Verifies a whole module. `Ok(())` or every error found.
pub fn verify(m: &Module) -> Result<(), Vec<Diagnostic>> {
    let mut v = Verifier { m, errors: Vec::new(), labels: HashMap::new() };
    v.collect_labels();
    for msg in objects::overlapping_fields(m).into_iter().chain(call_sets(m)) {
        v.errors.push(Diagnostic::new(Span::NONE, msg));
    }
    for (_, t) in m.traces.iter() {
        v.trace(t);
        for (op, msg) in objects::conflicting_accesses(m, t) {
            v.error(&At { t, op: Some(op) }, msg);
        }
    }
    if v.errors.is_empty() {
        Ok(())
    } else {
        Err(v.errors)
    }
}

struct Verifier<'m> {
    m: &'m Module,
    errors: Vec<Diagnostic>,
    /// Token → (trace, label op).
    labels: HashMap<Target, (TraceId, OpId)>,
}

/// Where an error is: the op's span, or (for built IR) the op's text.
struct At<'a> {
    t: &'a Trace,
    op: Option<OpId>,
}

impl Verifier<'_> {
    fn error(&mut self, at: &At<'_>, msg: impl Into<String>) {
        let msg = msg.into();
        let span = at.op.map_or(at.t.span, |o| at.t.ops[o].span);
        let mut d = Diagnostic::new(span, msg);
        if span.is_none() {
            let where_ = match at.op {
                Some(o) => {
                    let position = at.t.ops.keys().position(|x| x == o).unwrap_or(usize::MAX);
                    format!("in trace `{}`, op {position}: {}", at.t.name, print_op(self.m, at.t, o))
                }
                None => format!("in trace `{}`", at.t.name),
            };
            d = d.note(where_);
        }
        self.errors.push(d);
    }

    fn collect_labels(&mut self) {
        let mut dups = Vec::new();
        for (tid, t) in self.m.traces.iter() {
            for (oid, l) in t.labels() {
                if self.labels.insert(l.token, (tid, oid)).is_some() {
                    dups.push((tid, oid, l.token));
                }
            }
        }
        for (tid, oid, token) in dups {
            let t = &self.m.traces[tid];
            self.error(&At { t, op: Some(oid) }, format!("label {} is defined twice", target_text(token)));
        }
    }

    fn trace(&mut self, t: &Trace) {
        // Op id → position in the order: definitions must come before uses in the order.
        let mut position = vec![usize::MAX; t.ops.id_bound()];
        for (k, id) in t.ops.keys().enumerate() {
            position[id.index()] = k;
        }
        let defined_at = self.check_definitions(t, &position);
        self.check_vable(t);
        for (id, op) in t.ops.iter() {
            let at = At { t, op: Some(id) };
            self.check_uses(&at, op, &defined_at, position[id.index()]);
            self.check_signature(&at, op);
            self.check_descr(&at, op);
            self.check_payload(&at, op);
            if let Some(g) = op.guard() {
                self.check_guard(&at, g);
            }
            if op.opcode.is_final() && Some(id) != t.ops.last() {
                self.error(&at, format!("`{}` must be the last op of the trace", op.opcode));
            }
            match op.opcode {
                Opcode::Jump => self.check_jump(&at, op),
                Opcode::Finish => self.check_finish(&at, op),
                _ => {}
            }
            if op.opcode.call_target_index().is_some() {
                self.check_trace_call(&at, op);
            }
        }
        self.check_ending(t);
    }

    /// An op carries the data its opcode reads (a label its token and parameters) and no other
    /// kind: the interpreter and the backend take the opcode's word for it.
    fn check_payload(&mut self, at: &At<'_>, op: &Op) {
        let o = op.opcode;
        let fits = match &op.extra {
            OpExtra::None => o != Opcode::Label,
            OpExtra::Guard(_) => o.is_guard(),
            OpExtra::Label(_) => o == Opcode::Label,
            OpExtra::Jump(_) => o == Opcode::Jump,
            OpExtra::Text(_) => o.takes_text(),
        };
        if !fits {
            let has = match &op.extra {
                OpExtra::None => "no data",
                OpExtra::Guard(_) => "guard data",
                OpExtra::Label(_) => "label data",
                OpExtra::Jump(_) => "a jump target",
                OpExtra::Text(_) => "a location text",
            };
            self.error(at, format!("`{o}` carries {has}, which is not what its opcode takes"));
        }
    }

    /// For each value, the position from which it may be used (inputs and constants: 0).
    fn check_definitions(&mut self, t: &Trace, position: &[usize]) -> Vec<usize> {
        let mut defined_at = vec![usize::MAX; t.values.len()];
        for (k, &v) in t.inputs.iter().enumerate() {
            if t.values.get(v).map(|d| &d.def) != Some(&ValueDef::Input(k as u32)) {
                self.error(&At { t, op: None }, format!("input {k} is not recorded as input {k}"));
                continue;
            }
            defined_at[v.index()] = 0;
        }
        for (v, d) in t.values.iter() {
            if let ValueDef::Const(c) = &d.def {
                defined_at[v.index()] = 0;
                if c.ty() != d.ty {
                    self.error(&At { t, op: None }, format!("constant {v:?} has type {} but holds a {}", d.ty, c.ty()));
                }
            }
        }
        for (id, op) in t.ops.iter() {
            let at = At { t, op: Some(id) };
            let rty = op.opcode.result_type();
            match op.result {
                Some(r) => {
                    if t.values.get(r).map(|d| &d.def) != Some(&ValueDef::Op(id)) {
                        self.error(&at, "the op's result is recorded as defined elsewhere");
                    } else if t.ty(r) != rty {
                        self.error(&at, format!("result has type {} but `{}` produces {rty}", t.ty(r), op.opcode));
                    } else {
                        defined_at[r.index()] = position[id.index()] + 1;
                    }
                }
                None if rty != Type::Void => self.error(&at, format!("`{}` produces a {rty} but has no result value", op.opcode)),
                None => {}
            }
            if let Some(l) = op.label() {
                for (k, &p) in l.params.iter().enumerate() {
                    if t.values.get(p).map(|d| &d.def) != Some(&ValueDef::LabelParam(id, k as u32)) {
                        self.error(&at, format!("label parameter {k} is recorded as defined elsewhere"));
                    } else {
                        defined_at[p.index()] = position[id.index()] + 1;
                    }
                }
            }
        }
        defined_at
    }

    fn check_uses(&mut self, at: &At<'_>, op: &Op, defined_at: &[usize], pos: usize) {
        let mut early = Vec::new();
        op.for_each_use(|v| {
            if !defined_at.get(v.index()).is_some_and(|&d| d <= pos) {
                early.push(v);
            }
        });
        for v in early {
            let name = at.t.values.get(v).and_then(|d| d.name.as_deref()).unwrap_or("?").to_string();
            self.error(at, format!("`{name}` is used before it is defined"));
        }
    }

    fn check_signature(&mut self, at: &At<'_>, op: &Op) {
        let t = at.t;
        let opc = op.opcode;
        if let Some(l) = op.label() {
            if l.params.len() != op.args.len() {
                self.error(at, "a label needs one parameter per argument");
            }
            for (&a, &p) in op.args.iter().zip(&l.params) {
                if t.ty(a) != t.ty(p) {
                    self.error(at, format!("label parameter of type {} is entered with a {}", t.ty(p), t.ty(a)));
                }
            }
            return;
        }
        let fixed = opc.fixed_arity();
        let n = op.args.len();
        if n < fixed || (n > fixed && opc.variadic().is_none()) {
            let want = if opc.variadic().is_some() { format!("at least {fixed}") } else { fixed.to_string() };
            self.error(at, format!("`{opc}` takes {want} operand(s), not {n}"));
            return;
        }
        for (i, &a) in op.args.iter().enumerate() {
            let Some(want) = opc.operand_type(i) else { continue };
            if !want.accepts(t.ty(a)) {
                self.error(at, format!("operand {} of `{opc}` must be {want}, not {}", i + 1, t.ty(a)));
            }
        }
        if opc == Opcode::GuardValue && n == 2 && t.ty(op.args[0]) != t.ty(op.args[1]) {
            self.error(at, "`guard_value` compares two values of one type");
        }
        if opc == Opcode::Finish && n > 1 {
            self.error(at, "`finish` returns at most one value");
        }
    }

    fn check_descr(&mut self, at: &At<'_>, op: &Op) {
        let opc = op.opcode;
        let kind = opc.descr_kind();
        let Some(d) = op.descr else {
            if !matches!(kind, DescrKind::None | DescrKind::Opaque | DescrKind::Target | DescrKind::OptArray) {
                self.error(at, format!("`{opc}` needs {kind} descr"));
            }
            return;
        };
        let Some(descr) = self.m.descrs.get(d) else {
            self.error(at, "descr index out of range");
            return;
        };
        let data = &descr.data;
        let fits = matches!(
            (kind, data),
            (DescrKind::Field, DescrData::Field(_))
                | (DescrKind::Array | DescrKind::OptArray, DescrData::Array(_))
                | (DescrKind::Interior, DescrData::Interior(_))
                | (DescrKind::Size, DescrData::Size(_))
                | (DescrKind::Call, DescrData::Call(_))
                | (DescrKind::Opaque, DescrData::Opaque(_))
        );
        if !fits {
            self.error(at, format!("`{opc}` takes {kind} descr, but `{}` is {} descr", descr.name, data.kind_name()));
            return;
        }
        match data {
            DescrData::Field(f) => self.check_mem_kind(at, op, f.kind, &descr.name),
            // gc_load/gc_store give the item size explicitly; their descr is informative.
            DescrData::Array(_) if kind == DescrKind::OptArray => {}
            DescrData::Array(a) => self.check_mem_kind(at, op, a.kind, &descr.name),
            DescrData::Interior(i) => self.check_mem_kind(at, op, i.field.kind, &descr.name),
            DescrData::Call(c) => self.check_call_descr(at, op, c, &descr.name),
            _ => {}
        }
    }

    /// A load's result or a store's value must have the descr's item type.
    fn check_mem_kind(&mut self, at: &At<'_>, op: &Op, kind: MemKind, name: &str) {
        let opc = op.opcode;
        let want = kind.value_type();
        let rty = opc.result_type();
        let is_load = opc.reads_heap() && !opc.writes_heap() && rty != Type::Void && !opc.allocates();
        let is_len = matches!(opc, Opcode::ArraylenGc);
        let loaded = if is_load && !is_len && !opc.name().starts_with("vec_") { Some(rty) } else { None };
        if let Some(got) = loaded {
            if got != want {
                self.error(at, format!("`{opc}` loads a {got}, but `{name}` holds {}", kind_words(kind)));
            }
        }
        let stored = match opc {
            Opcode::SetfieldGc | Opcode::SetfieldRaw | Opcode::RecordKnownField => op.args.get(1),
            Opcode::SetarrayitemGc | Opcode::SetarrayitemRaw | Opcode::RawStore | Opcode::SetinteriorfieldGc
            | Opcode::SetinteriorfieldRaw => op.args.get(2),
            _ => None,
        };
        if let Some(&v) = stored {
            if at.t.ty(v) != want {
                let verb = if opc == Opcode::RecordKnownField { "states" } else { "stores" };
                self.error(at, format!("`{opc}` {verb} a {}, but `{name}` holds {}", at.t.ty(v), kind_words(kind)));
            }
        }
    }

    fn check_call_descr(&mut self, at: &At<'_>, op: &Op, c: &crate::descr::CallDescr, name: &str) {
        let opc = op.opcode;
        // record_known_result states the callee's result as its first operand.
        let (rty, what) = match opc {
            Opcode::RecordKnownResult => (op.args.first().map_or(Type::Void, |&a| at.t.ty(a)), "records"),
            _ => (opc.result_type(), "produces"),
        };
        if c.result.value_type() != rty {
            self.error(at, format!("`{opc}` {what} {rty}, but `{name}` says the callee returns {}", c.result.value_type()));
        }
        // The arguments are the operands after the call target.
        let skip = opc.call_target_index().map_or(0, |i| i + 1);
        let args = op.args.get(skip..).unwrap_or(&[]);
        if args.len() != c.args.len() {
            self.error(at, format!("`{name}` describes {} argument(s), the call passes {}", c.args.len(), args.len()));
            return;
        }
        for (i, (&a, &k)) in args.iter().zip(&c.args).enumerate() {
            let want = k.value_type();
            if at.t.ty(a) != want && k != CallKind::Void {
                self.error(at, format!("argument {} of the call must be {want} (per `{name}`), not {}", i + 1, at.t.ty(a)));
            }
        }
    }

    fn check_guard(&mut self, at: &At<'_>, g: &GuardInfo) {
        let Some(r) = &g.resume else { return };
        for v in r.values() {
            if let ResumeValue::Value(v) = v {
                if !at.t.is_const(v) && !g.fail_args.contains(&Some(v)) {
                    let name = at.t.values.get(v).and_then(|d| d.name.as_deref()).unwrap_or("?").to_string();
                    self.error(at, format!("resume data uses `{name}`, which is not among the fail args"));
                }
            }
            if let ResumeValue::Virtual(id) = v {
                if id.index() >= r.virtuals.len() {
                    self.error(at, "resume data refers to a virtual that does not exist");
                }
            }
        }
        for (i, v) in r.virtuals.iter().enumerate() {
            self.check_virtual(at, i, v);
        }
        for e in &r.vable {
            self.check_vable_entry(at, e);
        }
        for w in &r.pending {
            self.check_pending(at, w);
        }
    }

    fn check_pending(&mut self, at: &At<'_>, w: &PendingWrite) {
        let fits = match (self.m.descrs.get(w.descr).map(|d| &d.data), w.index) {
            (Some(DescrData::Field(_)), None) | (Some(DescrData::Array(_)), Some(_)) => true,
            _ => false,
        };
        if !fits {
            self.error(at, "a pending write needs a field descr (setfield_gc) or an array descr (setarrayitem_gc)");
        }
        let object_ok = match w.object {
            ResumeValue::Value(v) => at.t.values.get(v).is_some_and(|d| d.ty == Type::Ref),
            ResumeValue::Virtual(_) => true,
            ResumeValue::Dead => false,
        };
        if !object_ok {
            self.error(at, "a pending write's object must be a ref or a virtual");
        }
        if w.value == ResumeValue::Dead {
            self.error(at, "a pending write needs a value, not None");
        }
    }

    fn check_virtual(&mut self, at: &At<'_>, i: usize, v: &VirtualObject) {
        let Some(descr) = self.m.descrs.get(v.descr) else {
            self.error(at, format!("virtual {i}: descr index out of range"));
            return;
        };
        let is_array = matches!(v.alloc, Opcode::NewArray | Opcode::NewArrayClear);
        let ok = match (&descr.data, is_array) {
            (DescrData::Size(_), false) => matches!(v.alloc, Opcode::New | Opcode::NewWithVtable),
            (DescrData::Array(_), true) => v.length.is_some(),
            _ => false,
        };
        if !ok {
            self.error(at, format!(
                "virtual {i}: `{}` needs {}, got `{}` ({} descr)",
                v.alloc,
                if is_array { "an array descr and a length" } else { "a size descr" },
                descr.name,
                descr.data.kind_name()
            ));
        }
        for (key, _) in &v.fields {
            match (key, is_array) {
                (FieldKey::Item(idx), true) if v.length.is_some_and(|n| *idx < n) => {}
                (FieldKey::Field(d), false) if matches!(self.m.descrs.get(*d).map(|x| &x.data), Some(DescrData::Field(_))) => {}
                _ => self.error(at, format!("virtual {i}: field key does not fit a `{}`", v.alloc)),
            }
        }
    }

    fn check_vable_entry(&mut self, at: &At<'_>, e: &VableEntry) {
        let Some(vable) = &at.t.vable else {
            self.error(at, "resume data writes the virtualizable, but the trace declares none");
            return;
        };
        let declared = match e.slot {
            VableSlot::Field(d) => vable.fields.contains(&d) || vable.arrays.iter().any(|(f, _)| *f == d),
            VableSlot::Item(d, _) => vable.arrays.iter().any(|(f, _)| *f == d),
        };
        if !declared {
            self.error(at, "resume data names a field that is not part of the virtualizable");
        }
    }

    fn check_vable(&mut self, t: &Trace) {
        let Some(vable) = &t.vable else { return };
        let at = At { t, op: None };
        if !t.inputs.contains(&vable.frame) || t.ty(vable.frame) != Type::Ref {
            self.error(&at, "the virtualizable must be a ref input of the trace");
        }
        for &f in &vable.fields {
            if !matches!(self.m.descrs.get(f).map(|d| &d.data), Some(DescrData::Field(_))) {
                self.error(&at, "a virtualizable field must be a field descr");
            }
        }
        for &(f, a) in &vable.arrays {
            let field_ok = matches!(self.m.descrs.get(f).map(|d| &d.data), Some(DescrData::Field(fd)) if fd.kind == MemKind::Ref);
            let array_ok = matches!(self.m.descrs.get(a).map(|d| &d.data), Some(DescrData::Array(_)));
            if !field_ok || !array_ok {
                self.error(&at, "a virtualizable array is a ref field descr and an array descr: `field[array]`");
            }
        }
    }

    fn check_jump(&mut self, at: &At<'_>, op: &Op) {
        let Some(target) = op.jump_target() else {
            self.error(at, "`jump` has no target");
            return;
        };
        let params: Vec<Type> = match target {
            Target::Loop(-1) => at.t.inputs.iter().map(|&v| at.t.ty(v)).collect(),
            Target::Loop(_) => return, // another loop's start: its inputs are not in this module
            Target::Token(_) => match self.labels.get(&target) {
                Some(&(tid, oid)) => {
                    let lt = &self.m.traces[tid];
                    let l = lt.ops[oid].label().expect("collected labels are labels");
                    l.params.iter().map(|&p| lt.ty(p)).collect()
                }
                None if self.m.externs.iter().any(|e| e.token == target) => {
                    self.m.externs.iter().find(|e| e.token == target).map(|e| e.params.clone()).unwrap_or_default()
                }
                None => {
                    let t = target_text(target);
                    self.error(at, format!("`jump` to {t}, which no label of this module has (a label in another file is declared with `extern {t} [types]`)"));
                    return;
                }
            },
        };
        let args: Vec<Type> = op.args.iter().map(|&a| at.t.ty(a)).collect();
        if args != params {
            let fmt = |ts: &[Type]| ts.iter().map(|t| t.keyword()).collect::<Vec<_>>().join(", ");
            self.error(at, format!("`jump` passes ({}) to {} which takes ({})", fmt(&args), target_text(target), fmt(&params)));
        }
    }

    fn check_finish(&mut self, at: &At<'_>, op: &Op) {
        if let TraceKind::Function { result } = at.t.kind {
            let got = op.args.first().map_or(Type::Void, |&a| at.t.ty(a));
            if got != result {
                self.error(at, format!("function `{}` returns {result}, but `finish` gives {got}", at.t.name));
            }
        }
    }

    fn check_trace_call(&mut self, at: &At<'_>, op: &Op) {
        let Some(target_index) = op.opcode.call_target_index() else { return };
        let Some(&target) = op.args.get(target_index) else { return };
        let Some(Const::Func(name)) = at.t.as_const(target) else { return };
        let Some(fid) = self.m.trace_by_name(name) else {
            self.error(at, format!("call to `@{name}`, which is not a trace of this module"));
            return;
        };
        let f = &self.m.traces[fid];
        let TraceKind::Function { result } = f.kind else {
            self.error(at, format!("`@{name}` is not a function (declare it with `func`)"));
            return;
        };
        let params: Vec<Type> = f.inputs.iter().map(|&v| f.ty(v)).collect();
        let args: Vec<Type> = op.args[target_index + 1..].iter().map(|&a| at.t.ty(a)).collect();
        if params != args {
            self.error(at, format!("`@{name}` takes {} parameter(s) of types that differ from the call's arguments", params.len()));
        }
        if result != op.opcode.result_type() {
            self.error(at, format!("`@{name}` returns {result}, but `{}` expects {}", op.opcode, op.opcode.result_type()));
        }
    }

    fn check_ending(&mut self, t: &Trace) {
        let at = At { t, op: None };
        match (t.last_op().map(|o| o.opcode), &t.kind) {
            (Some(Opcode::Finish), _) => {}
            // A function may loop (PyPy's call_assembler targets do): it then returns through
            // a guard exit or a bridge.
            (Some(Opcode::Jump), _) => {}
            _ => self.error(&at, format!("trace `{}` must end in `jump` or `finish`", t.name)),
        }
    }
}

fn kind_words(k: MemKind) -> &'static str {
    match k {
        MemKind::Signed => "signed ints",
        MemKind::Unsigned => "unsigned ints",
        MemKind::Ref => "refs",
        MemKind::Float => "floats",
        MemKind::Struct => "structs",
        MemKind::Void => "nothing",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Fuzz finding: a `label` built without label data passed `verify`, then panicked the
    /// interpreter. Every op's data must be of the kind its opcode takes.
    #[test]
    fn an_op_carrying_data_of_another_kind_is_rejected() {
        let mut m = crate::parse("loop l [i0] {\n    label(i0, descr=TargetToken(1))\n    jump(i0, descr=TargetToken(1))\n}\n").expect("parses");
        assert!(verify(&m).is_ok());
        let t = &mut m.traces[crate::TraceId::new(0)];
        let label = t.ops.keys().next().expect("the label");
        let data = std::mem::take(&mut t.ops[label].extra);
        let jump = t.ops.keys().nth(1).expect("the jump");
        t.ops[jump].extra = data;
        let errors = verify(&m).expect_err("rejected");
        let text: Vec<String> = errors.iter().map(|d| d.message.clone()).collect();
        assert!(text.iter().any(|e| e.contains("`label` carries no data")), "{text:?}");
        assert!(text.iter().any(|e| e.contains("`jump` carries label data")), "{text:?}");
    }
}
