//! Syntax tree → IR: resolves value, descr and virtual names, gives values their types,
//! interns inline descrs, and reports every name or form error with its location.
//!
//! Type checking against opcode signatures is the verifier's job; here a value's type comes
//! from the op that defines it, and only the name's first letter is checked against it.

use super::ast::*;
use crate::descr::*;
use crate::diag::{suggest, Diagnostic};
use crate::opcode::{DescrKind, Opcode};
use crate::resume::*;
use crate::trace::*;
use crate::types::Type;
use rustc_hash::FxHashMap;
use std::collections::HashMap;

type Errors = Vec<Diagnostic>;

pub(super) fn lower(src: &str, file: File<'_>, errors: &mut Errors) -> Module {
    let mut module = Module::new();
    let mut cx = Lower { src, errors };
    for item in &file.items {
        match item {
            Item::Descr { name, lit } => cx.declare_descr(&mut module, *name, lit),
            Item::Extern { token, params, span } => cx.declare_extern(&mut module, token, params, *span),
            Item::Trace(_) => {}
        }
    }
    for item in &file.items {
        if let Item::Trace(t) = item {
            let trace = cx.trace(&mut module, t);
            if module.trace_by_name(&trace.name).is_some() {
                let span = trace.span;
                cx.err(Diagnostic::new(span, format!("a trace named `{}` is already defined", trace.name)));
            }
            module.traces.push(trace);
        }
    }
    module
}

struct Lower<'a> {
    src: &'a str,
    errors: &'a mut Errors,
}

/// Name bindings while lowering one trace.
#[derive(Default)]
struct Scope<'s> {
    values: FxHashMap<&'s str, Value>,
    /// Names whose definition was in error: uses stay quiet instead of cascading.
    poisoned: std::collections::HashSet<&'s str>,
}

impl<'a> Lower<'a> {
    fn err(&mut self, d: Diagnostic) {
        self.errors.push(d);
    }

    fn declare_descr(&mut self, module: &mut Module, name: Name<'_>, lit: &DescrLit<'_>) {
        if module.descr_by_name(name.text).is_some() {
            self.err(Diagnostic::new(name.span, format!("descr `{}` is already declared", name.text)));
            return;
        }
        match self.descr_data(module, lit) {
            Ok(data) => {
                module.push_descr(name.text.to_string(), data);
            }
            Err(d) => self.err(d),
        }
    }

    fn declare_extern(&mut self, module: &mut Module, token: &str, params: &[Name<'_>], span: Span) {
        let Some(token) = parse_int(token) else {
            self.err(Diagnostic::new(span, "target token out of range"));
            return;
        };
        let mut types = Vec::with_capacity(params.len());
        for p in params {
            match Type::from_keyword(p.text).filter(|t| *t != Type::Void) {
                Some(t) => types.push(t),
                None => self.err(Diagnostic::new(p.span, format!("unknown type `{}`", p.text))
                    .label("expected int, float, ref or vector")),
            }
        }
        let target = Target::Token(token as u64);
        if module.externs.iter().any(|e| e.token == target) {
            self.err(Diagnostic::new(span, "this extern label is declared twice"));
        }
        module.externs.push(ExternLabel { token: target, params: types });
    }

    // ---- descr literals ----

    fn descr_data(&self, module: &Module, lit: &DescrLit<'_>) -> Result<DescrData, Diagnostic> {
        let head = lit.head.text;
        if let Some(k) = head.strip_prefix("Field") {
            return Ok(DescrData::Field(field_descr(lit, k)?));
        }
        if let Some(k) = head.strip_prefix("Array") {
            return Ok(DescrData::Array(array_descr(lit, k)?));
        }
        if head == "InteriorFieldDescr" {
            return interior_descr(lit);
        }
        if head == "SizeDescr" {
            return size_descr(lit);
        }
        if let Some(k) = head.strip_prefix("Call") {
            if k.len() == 1 {
                return call_descr(module, lit, k);
            }
        }
        Ok(DescrData::Opaque(self.src[lit.span.range()].to_string()))
    }

    fn descr_ref(&mut self, module: &mut Module, r: &DescrRef<'_>) -> Option<DescrId> {
        match r {
            DescrRef::Name(n) => {
                let found = module.descr_by_name(n.text);
                if found.is_none() {
                    let names = module.descrs.values().map(|d| d.name.as_str());
                    let mut d = Diagnostic::new(n.span, format!("unknown descr `{}`", n.text))
                        .label("not declared with `descr NAME = <...>`");
                    if let Some(s) = suggest(n.text, names) {
                        d = d.note(format!("did you mean `{s}`?"));
                    }
                    self.err(d);
                }
                found
            }
            DescrRef::Lit(lit) => match self.descr_data(module, lit) {
                Ok(data) => Some(module.intern_descr(data)),
                Err(d) => {
                    self.err(d);
                    None
                }
            },
            DescrRef::TargetToken(_, span) => {
                self.err(Diagnostic::new(*span, "a TargetToken is only a descr of `label` and `jump`"));
                None
            }
        }
    }

    // ---- traces ----

    fn trace<'s>(&mut self, module: &mut Module, t: &TraceAst<'s>) -> Trace {
        let (name, kind) = self.header(&t.header);
        let mut trace = Trace::new(name, kind);
        trace.span = t.span;
        let mut scope = Scope::default();
        scope.values.reserve(t.ops.len() + t.inputs.len());
        for input in &t.inputs {
            if let Some(ty) = self.value_type_of_name(*input) {
                if scope.values.contains_key(input.text) {
                    self.err(Diagnostic::new(input.span, format!("input `{}` is listed twice", input.text)));
                }
                let v = trace.add_input(ty, Some(input.text));
                scope.values.insert(input.text, v);
            }
        }
        if let Some(vable) = &t.vable {
            trace.vable = self.vable(module, &scope, vable);
        }
        for op in &t.ops {
            self.op(module, &mut trace, &mut scope, op);
        }
        trace
    }

    fn header(&mut self, h: &Header<'_>) -> (String, TraceKind) {
        match h {
            Header::Bare => ("main".into(), TraceKind::Loop),
            Header::Loop(n) => (n.text.into(), TraceKind::Loop),
            Header::Bridge { name, guard } => {
                let id = parse_guard_id(guard.text).unwrap_or_else(|| {
                    self.err(Diagnostic::new(guard.span, "expected a guard id such as `Guard0x7f01`"));
                    0
                });
                (name.text.into(), TraceKind::Bridge { guard: id })
            }
            Header::Func { name, result } => {
                let ty = Type::from_keyword(result.text).unwrap_or_else(|| {
                    self.err(Diagnostic::new(result.span, format!("unknown type `{}`", result.text))
                        .label("expected int, float, ref or void"));
                    Type::Void
                });
                (name.text.into(), TraceKind::Function { result: ty })
            }
        }
    }

    fn value_type_of_name(&mut self, n: Name<'_>) -> Option<Type> {
        let ty = Type::from_name_prefix(n.text);
        if ty.is_none() {
            self.err(Diagnostic::new(n.span, format!("`{}` is not a value name", n.text))
                .label("value names start with their type: i (int), f (float), p or r (ref), v (vector)"));
        }
        ty
    }

    fn vable(&mut self, module: &Module, scope: &Scope<'_>, v: &VableAst<'_>) -> Option<Virtualizable> {
        let Some(&frame) = scope.values.get(v.frame.text) else {
            self.err(Diagnostic::new(v.frame.span, format!("`{}` is not an input of this trace", v.frame.text)));
            return None;
        };
        let mut out = Virtualizable { frame, fields: vec![], arrays: vec![] };
        for (field, array) in &v.entries {
            let Some(f) = self.named_descr(module, *field) else { continue };
            match array {
                None => out.fields.push(f),
                Some(a) => {
                    if let Some(a) = self.named_descr(module, *a) {
                        out.arrays.push((f, a));
                    }
                }
            }
        }
        Some(out)
    }

    fn named_descr(&mut self, module: &Module, n: Name<'_>) -> Option<DescrId> {
        let d = module.descr_by_name(n.text);
        if d.is_none() {
            self.err(Diagnostic::new(n.span, format!("unknown descr `{}`", n.text)));
        }
        d
    }

    // ---- ops ----

    fn op<'s>(&mut self, module: &mut Module, trace: &mut Trace, scope: &mut Scope<'s>, op: &OpAst<'s>) {
        let Some(opcode) = Opcode::from_name(op.opname.text) else {
            let mut d = Diagnostic::new(op.opname.span, format!("unknown operation `{}`", op.opname.text))
                .label("not an operation of PyPy's JIT");
            if let Some(s) = suggest(op.opname.text, Opcode::ALL.iter().map(|o| o.name())) {
                d = d.note(format!("did you mean `{s}`?"));
            }
            self.err(d);
            if let Some(r) = op.result {
                scope.poisoned.insert(r.text);
            }
            return;
        };
        if opcode == Opcode::Label {
            return self.label(trace, scope, op);
        }
        let mut new = Op::new(opcode, &[]);
        new.span = op.span;
        let mut text = None;
        let mut descr_ast = None;
        for arg in &op.args {
            match arg {
                Arg::Operand(o) => {
                    if let Some(v) = self.operand(trace, scope, o) {
                        new.args.push(v);
                    }
                }
                Arg::Descr(d) => descr_ast = Some(d),
                Arg::Str(s, span) => {
                    if !opcode.takes_text() || text.is_some() {
                        self.err(Diagnostic::new(*span, format!("`{opcode}` takes no string")));
                    }
                    text = Some(*s);
                }
                Arg::Bind(n, _) => {
                    self.err(Diagnostic::new(n.span, "`name=value` arguments belong to `label` only"));
                }
            }
        }
        if opcode.takes_text() {
            new.extra = OpExtra::Text(text.unwrap_or("").into());
        }
        self.op_descr(module, &mut new, descr_ast, op.span);
        if opcode.is_guard() {
            let mut guard = match &new.extra {
                OpExtra::Guard(g) => (**g).clone(),
                _ => GuardInfo::default(),
            };
            guard.fail_args = self.fail_args(trace, scope, op.fail_args.as_deref().unwrap_or(&[]));
            if let Some(items) = &op.resume {
                guard.resume = Some(self.resume(module, trace, scope, items));
            }
            new.extra = OpExtra::Guard(guard.into());
        } else if let Some(fa) = op.fail_args.as_ref().and_then(|f| f.first()) {
            self.err(Diagnostic::new(fa.span, format!("`{opcode}` is not a guard and has no fail args")));
        } else if op.resume.is_some() {
            self.err(Diagnostic::new(op.span, format!("`{opcode}` is not a guard and has no resume data")));
        }
        self.define_result(trace, scope, new, op.result, opcode);
    }

    fn define_result<'s>(
        &mut self,
        trace: &mut Trace,
        scope: &mut Scope<'s>,
        new: Op,
        result: Option<Name<'s>>,
        opcode: Opcode,
    ) {
        let rty = opcode.result_type();
        let name = match result {
            Some(n) if rty == Type::Void => {
                self.err(Diagnostic::new(n.span, format!("`{opcode}` produces no value to name")));
                None
            }
            Some(n) => match Type::from_name_prefix(n.text) {
                Some(t) if t == rty => Some(n),
                Some(t) => {
                    self.err(Diagnostic::new(n.span, format!(
                        "`{}` names {} value (by its first letter), but `{opcode}` produces {}",
                        n.text, t.with_article(), rty.with_article()
                    )).label(format!("expected a name starting with `{}`", rty.prefix())));
                    None
                }
                None => {
                    self.value_type_of_name(n);
                    None
                }
            },
            None => None,
        };
        if let (Some(r), None) = (result, name) {
            scope.poisoned.insert(r.text);
        }
        let id = trace.push_op(new, name.map(|n| n.text));
        if let (Some(n), Some(v)) = (name, trace.ops[id].result) {
            self.bind(scope, n, v, trace);
        }
    }

    fn bind<'s>(&mut self, scope: &mut Scope<'s>, n: Name<'s>, v: Value, trace: &Trace) {
        if let Some(&old) = scope.values.get(n.text) {
            let _ = old;
            let _ = trace;
            self.err(Diagnostic::new(n.span, format!("`{}` is already defined", n.text))
                .label("SSA: every value is defined once"));
            return;
        }
        scope.values.insert(n.text, v);
    }

    fn op_descr(&mut self, module: &mut Module, new: &mut Op, d: Option<&DescrRef<'_>>, span: Span) {
        let opcode = new.opcode;
        if opcode.is_guard() {
            if let Some(d) = d {
                let id = self.guard_id(d);
                new.extra = OpExtra::Guard(GuardInfo { id, ..Default::default() }.into());
            }
            return;
        }
        if opcode == Opcode::Jump {
            let target = match d {
                None => Target::SELF_START,
                Some(d) => self.target(d).unwrap_or(Target::SELF_START),
            };
            new.extra = OpExtra::Jump(target);
            return;
        }
        let Some(d) = d else {
            let needs = !matches!(opcode.descr_kind(), DescrKind::None | DescrKind::Opaque | DescrKind::OptArray);
            if needs {
                self.err(Diagnostic::new(span, format!("`{opcode}` needs a descr"))
                    .label(format!("add descr=... ({} descr)", opcode.descr_kind())));
            }
            return;
        };
        if opcode.descr_kind() == DescrKind::None {
            self.err(Diagnostic::new(descr_span(d), format!("`{opcode}` takes no descr")));
            return;
        }
        new.descr = self.descr_ref(module, d);
    }

    fn guard_id(&mut self, d: &DescrRef<'_>) -> Option<u64> {
        let (text, span) = match d {
            DescrRef::Lit(l) if l.items.is_empty() => (l.head.text, l.span),
            DescrRef::Name(n) => (n.text, n.span),
            DescrRef::Lit(l) => (l.head.text, l.span),
            DescrRef::TargetToken(_, s) => ("", *s),
        };
        let id = parse_guard_id(text);
        if id.is_none() {
            self.err(Diagnostic::new(span, "a guard's descr is its identity")
                .label("expected <Guard0x...>"));
        }
        id
    }

    fn target(&mut self, d: &DescrRef<'_>) -> Option<Target> {
        match d {
            DescrRef::TargetToken(text, span) => match parse_int(text) {
                Some(n) => Some(Target::Token(n as u64)),
                None => {
                    self.err(Diagnostic::new(*span, "target token out of range"));
                    None
                }
            },
            DescrRef::Lit(l) if l.head.text.starts_with("Loop") => {
                let num = l.head.text.strip_prefix("Loop").filter(|s| !s.is_empty());
                let n = match (num, l.items.as_slice()) {
                    (Some(s), []) => s.parse().ok(),
                    (None, [DescrItem::Int(s, _)]) => parse_int(s),
                    _ => None,
                };
                if n.is_none() {
                    self.err(Diagnostic::new(l.span, "expected <LoopN>"));
                }
                n.map(Target::Loop)
            }
            other => {
                self.err(Diagnostic::new(descr_span(other), "a label or jump target is `TargetToken(N)` or `<LoopN>`"));
                None
            }
        }
    }

    fn label<'s>(&mut self, trace: &mut Trace, scope: &mut Scope<'s>, op: &OpAst<'s>) {
        let mut entries = Vec::new();
        let mut token = None;
        for arg in &op.args {
            match arg {
                Arg::Operand(Operand { kind: OperandKind::Name(n), span }) => {
                    let name = Name { text: n, span: *span };
                    let v = self.lookup(trace, scope, name);
                    entries.push((name, v));
                }
                Arg::Bind(n, o) => {
                    let v = self.operand(trace, scope, o);
                    entries.push((*n, v));
                }
                Arg::Descr(d) => token = self.target(d),
                Arg::Operand(o) => self.err(Diagnostic::new(o.span, "a label argument is a value name")
                    .label("write `name=value` to enter the label with a constant")),
                Arg::Str(_, span) => self.err(Diagnostic::new(*span, "`label` takes no string")),
            }
        }
        if op.fail_args.is_some() || op.resume.is_some() {
            self.err(Diagnostic::new(op.span, "`label` is not a guard"));
        }
        if let Some(n) = op.result {
            self.err(Diagnostic::new(n.span, "`label` produces no value to name"));
        }
        let Some(token) = token else {
            self.err(Diagnostic::new(op.span, "`label` needs descr=TargetToken(N)"));
            return;
        };
        let args: Vec<Value> = entries.iter().filter_map(|(_, v)| *v).collect();
        let mut new = Op::new(Opcode::Label, &args);
        new.span = op.span;
        new.extra = OpExtra::Label(Box::new(LabelInfo { token, params: vec![] }));
        let id = trace.push_op(new, None);
        let mut seen = HashMap::new();
        for (name, v) in entries {
            let Some(v) = v else { continue };
            if seen.insert(name.text, ()).is_some() {
                self.err(Diagnostic::new(name.span, format!("`{}` is a parameter of this label twice", name.text)));
            }
            let ty = trace.ty(v);
            if Type::from_name_prefix(name.text) != Some(ty) {
                self.err(Diagnostic::new(name.span, format!("`{}` does not name {} value", name.text, ty.with_article())));
            }
            let p = trace.add_label_param(id, ty, Some(name.text));
            // A label parameter rebinds its name: the body sees the loop-carried value.
            scope.values.insert(name.text, p);
        }
    }

    fn lookup<'s>(&mut self, trace: &Trace, scope: &Scope<'s>, n: Name<'s>) -> Option<Value> {
        if let Some(&v) = scope.values.get(n.text) {
            return Some(v);
        }
        let _ = trace;
        if scope.poisoned.contains(n.text) {
            return None;
        }
        let mut d = Diagnostic::new(n.span, format!("unknown value `{}`", n.text)).label("not defined before this use");
        // A suggestion costs a walk over every name: only errors that will be shown get one.
        if self.errors.len() < crate::diag::MAX_PER_FILE {
            if let Some(s) = suggest(n.text, scope.values.keys().copied()) {
                d = d.note(format!("did you mean `{s}`?"));
            }
        }
        self.err(d);
        None
    }

    fn operand<'s>(&mut self, trace: &mut Trace, scope: &Scope<'s>, o: &Operand<'s>) -> Option<Value> {
        let c = match &o.kind {
            OperandKind::Name(n) => {
                if !scope.values.contains_key(n) {
                    if let Some(f) = special_float(n) {
                        return Some(trace.constant(Const::float(f)));
                    }
                }
                return self.lookup(trace, scope, Name { text: n, span: o.span });
            }
            OperandKind::Int(s) => match parse_int(s) {
                Some(i) => Const::Int(i),
                None => {
                    self.err(Diagnostic::new(o.span, "integer does not fit in 64 bits"));
                    return None;
                }
            },
            OperandKind::Float(s) => match parse_float(s) {
                Some(f) => Const::float(f),
                None => {
                    self.err(Diagnostic::new(o.span, "malformed float"));
                    return None;
                }
            },
            OperandKind::ConstPtr("null") => Const::Null,
            OperandKind::ConstPtr(n) => Const::Ptr(n.to_string()),
            OperandKind::ConstClass(n) => Const::Class(n.to_string()),
            OperandKind::Func(n) => Const::Func(n.to_string()),
            OperandKind::None => {
                self.err(Diagnostic::new(o.span, "`None` stands only in fail args and resume slots"));
                return None;
            }
            OperandKind::Virt(n) => {
                self.err(Diagnostic::new(o.span, format!("`${n}` is a virtual; virtuals live in resume data")));
                return None;
            }
        };
        Some(trace.constant(c))
    }

    fn fail_args<'s>(&mut self, trace: &mut Trace, scope: &Scope<'s>, args: &[Operand<'s>]) -> Vec<Option<Value>> {
        let mut out = Vec::with_capacity(args.len());
        for a in args {
            match a.kind {
                OperandKind::None => out.push(None),
                _ => {
                    if let Some(v) = self.operand(trace, scope, a) {
                        out.push(Some(v));
                    }
                }
            }
        }
        out
    }

    // ---- resume data ----

    fn resume<'s>(&mut self, module: &mut Module, trace: &mut Trace, scope: &Scope<'s>, items: &[ResumeItem<'s>]) -> Resume {
        let mut virt_ids: HashMap<&str, VirtualId> = HashMap::new();
        let mut resume = Resume::default();
        // Virtuals first, so that slots and fields may refer to any of them (sharing, cycles).
        for item in items {
            if let ResumeItem::Virtual { name, .. } = item {
                let id = <VirtualId as crate::entity::EntityRef>::new(virt_ids.len());
                if virt_ids.insert(name.text, id).is_some() {
                    self.err(Diagnostic::new(name.span, format!("virtual `${}` is defined twice", name.text)));
                }
            }
        }
        for item in items {
            match item {
                ResumeItem::Frame { code, pc_key, pc, slots, span } => {
                    if pc_key.text != "pc" {
                        self.err(Diagnostic::new(pc_key.span, "expected `pc=N`"));
                    }
                    let pc = parse_int(pc).and_then(|p| u32::try_from(p).ok()).unwrap_or_else(|| {
                        self.err(Diagnostic::new(*span, "pc must be a small non-negative integer"));
                        0
                    });
                    let slots = slots.iter().map(|s| self.slot(trace, scope, &virt_ids, s)).collect();
                    resume.frames.push(ResumeFrame { code: code.to_string(), pc, slots });
                }
                ResumeItem::Virtual { name, alloc, args, fields, span } => {
                    let v = self.virtual_object(module, trace, scope, &virt_ids, *name, *alloc, args, fields, *span);
                    resume.virtuals.push(v);
                }
                ResumeItem::Vable { field, index, value, .. } => {
                    let Some(d) = self.named_descr(module, *field) else { continue };
                    let slot = match index {
                        None => VableSlot::Field(d),
                        Some((i, span)) => match parse_int(i).and_then(|i| u32::try_from(i).ok()) {
                            Some(i) => VableSlot::Item(d, i),
                            None => {
                                self.err(Diagnostic::new(*span, "array index must be a small non-negative integer"));
                                continue;
                            }
                        },
                    };
                    let value = self.slot(trace, scope, &virt_ids, value);
                    resume.vable.push(VableEntry { slot, value });
                }
                ResumeItem::Write { op, args, span } => {
                    if let Some(w) = self.pending_write(module, trace, scope, &virt_ids, *op, args, *span) {
                        resume.pending.push(w);
                    }
                }
            }
        }
        resume
    }

    #[allow(clippy::too_many_arguments)]
    fn virtual_object<'s>(
        &mut self,
        module: &mut Module,
        trace: &mut Trace,
        scope: &Scope<'s>,
        virt_ids: &HashMap<&str, VirtualId>,
        name: Name<'s>,
        alloc: Name<'s>,
        args: &[Arg<'s>],
        fields: &[(FieldKeyAst<'s>, Operand<'s>)],
        span: Span,
    ) -> VirtualObject {
        let opcode = Opcode::from_name(alloc.text)
            .filter(|o| matches!(o, Opcode::New | Opcode::NewWithVtable | Opcode::NewArray | Opcode::NewArrayClear));
        if opcode.is_none() {
            self.err(Diagnostic::new(alloc.span, format!("`{}` is not an allocation a virtual can stand for", alloc.text))
                .label("expected new, new_with_vtable, new_array or new_array_clear"));
        }
        let mut descr = None;
        let mut length = None;
        for a in args {
            match a {
                Arg::Descr(d) => descr = self.descr_ref(module, d),
                Arg::Operand(Operand { kind: OperandKind::Int(s), span }) => {
                    length = parse_int(s).and_then(|n| u32::try_from(n).ok());
                    if length.is_none() {
                        self.err(Diagnostic::new(*span, "array length must be a small non-negative integer"));
                    }
                }
                other => self.err(Diagnostic::new(arg_span(other).unwrap_or(span), "expected a constant length or descr=...")),
            }
        }
        if descr.is_none() {
            self.err(Diagnostic::new(span, "a virtual needs descr=..."));
        }
        let mut out_fields = Vec::with_capacity(fields.len());
        for (key, value) in fields {
            let key = match key {
                FieldKeyAst::Descr(d) => self.descr_ref(module, d).map(FieldKey::Field),
                FieldKeyAst::Index(i, span) => {
                    let k = parse_int(i).and_then(|n| u32::try_from(n).ok()).map(FieldKey::Item);
                    if k.is_none() {
                        self.err(Diagnostic::new(*span, "array index must be a small non-negative integer"));
                    }
                    k
                }
            };
            let value = self.slot(trace, scope, virt_ids, value);
            if let Some(key) = key {
                out_fields.push((key, value));
            }
        }
        VirtualObject {
            name: Some(name.text.to_string()),
            alloc: opcode.unwrap_or(Opcode::New),
            descr: descr.unwrap_or(DescrId::new_index(0)),
            length,
            fields: out_fields,
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn pending_write<'s>(
        &mut self,
        module: &mut Module,
        trace: &mut Trace,
        scope: &Scope<'s>,
        virt_ids: &HashMap<&str, VirtualId>,
        op: Name<'s>,
        args: &[Arg<'s>],
        span: Span,
    ) -> Option<PendingWrite> {
        let item = match op.text {
            "setfield_gc" => false,
            "setarrayitem_gc" => true,
            _ => {
                self.err(Diagnostic::new(op.span, format!("`{}` is not something resume data can hold", op.text))
                    .label("expected frame, vable, $name = new..., setfield_gc(...) or setarrayitem_gc(...)"));
                return None;
            }
        };
        let mut descr = None;
        let mut operands = Vec::new();
        for a in args {
            match a {
                Arg::Descr(d) => descr = self.descr_ref(module, d),
                Arg::Operand(o) => operands.push(o),
                other => self.err(Diagnostic::new(arg_span(other).unwrap_or(span), "expected an operand or descr=...")),
            }
        }
        let want = if item { 3 } else { 2 };
        let (Some(descr), true) = (descr, operands.len() == want) else {
            let shape = if item { "setarrayitem_gc(object, index, value, descr=...)" } else { "setfield_gc(object, value, descr=...)" };
            self.err(Diagnostic::new(span, format!("a pending write is `{shape}`")));
            return None;
        };
        let index = if item {
            let i = match operands[1].kind {
                OperandKind::Int(s) => parse_int(s).and_then(|n| u32::try_from(n).ok()),
                _ => None,
            };
            if i.is_none() {
                self.err(Diagnostic::new(operands[1].span, "a pending array write needs a small non-negative constant index"));
                return None;
            }
            i
        } else {
            None
        };
        let object = self.slot(trace, scope, virt_ids, operands[0]);
        let value = self.slot(trace, scope, virt_ids, operands[want - 1]);
        Some(PendingWrite { object, descr, index, value })
    }

    fn slot<'s>(&mut self, trace: &mut Trace, scope: &Scope<'s>, virt_ids: &HashMap<&str, VirtualId>, o: &Operand<'s>) -> ResumeValue {
        match o.kind {
            OperandKind::None => ResumeValue::Dead,
            OperandKind::Virt(n) => match virt_ids.get(n) {
                Some(&id) => ResumeValue::Virtual(id),
                None => {
                    self.err(Diagnostic::new(o.span, format!("unknown virtual `${n}`")).label("not defined in this resume block"));
                    ResumeValue::Dead
                }
            },
            _ => self.operand(trace, scope, o).map_or(ResumeValue::Dead, ResumeValue::Value),
        }
    }
}

impl DescrId {
    pub(crate) fn new_index(i: usize) -> DescrId {
        <DescrId as crate::entity::EntityRef>::new(i)
    }
}

fn descr_span(d: &DescrRef<'_>) -> Span {
    match d {
        DescrRef::Name(n) => n.span,
        DescrRef::Lit(l) => l.span,
        DescrRef::TargetToken(_, s) => *s,
    }
}

fn arg_span(a: &Arg<'_>) -> Option<Span> {
    match a {
        Arg::Operand(o) => Some(o.span),
        Arg::Bind(n, _) => Some(n.span),
        Arg::Descr(d) => Some(descr_span(d)),
        Arg::Str(_, s) => Some(*s),
    }
}

/// `Guard0x7f01` (PyPy) or `Guard12` → the guard's id.
pub fn parse_guard_id(text: &str) -> Option<u64> {
    let rest = text.strip_prefix("Guard")?;
    match rest.strip_prefix("0x").or_else(|| rest.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => rest.parse().ok(),
    }
}

/// Decimal or `0x` hexadecimal, possibly negative; hex up to 2^64-1 wraps to i64 as addresses do.
pub fn parse_int(s: &str) -> Option<i64> {
    let (neg, body) = match s.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, s),
    };
    let mag: i128 = match body.strip_prefix("0x").or_else(|| body.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16).ok()? as i128,
        None => body.parse::<u64>().ok()? as i128,
    };
    let v = if neg { -mag } else { mag };
    if v < i64::MIN as i128 || v > u64::MAX as i128 {
        return None;
    }
    Some(v as i64)
}

fn parse_float(s: &str) -> Option<f64> {
    s.parse().ok()
}

fn special_float(name: &str) -> Option<f64> {
    match name {
        "inf" => Some(f64::INFINITY),
        "nan" => Some(f64::NAN),
        _ => None,
    }
}

// ---- descr literal forms ----

fn mem_kind(lit: &DescrLit<'_>, letter: &str) -> Result<MemKind, Diagnostic> {
    let mut chars = letter.chars();
    match (chars.next().and_then(MemKind::from_letter), chars.next()) {
        (Some(k), None) => Ok(k),
        _ => Err(Diagnostic::new(lit.head.span, format!("unknown descr kind `{}`", lit.head.text))
            .label("expected a kind letter S, U, P, F, X or V")),
    }
}

fn int_item<T: TryFrom<i64>>(s: &str, span: Span, what: &str) -> Result<T, Diagnostic> {
    parse_int(s)
        .and_then(|n| T::try_from(n).ok())
        .ok_or_else(|| Diagnostic::new(span, format!("{what} out of range")))
}

fn unexpected(item: &DescrItem<'_>, lit: &DescrLit<'_>, expected: &str) -> Diagnostic {
    let span = match item {
        DescrItem::Word(n) | DescrItem::KeyValue(n, _) | DescrItem::KeyList(n, _) => n.span,
        DescrItem::Int(_, s) => *s,
        DescrItem::Nested(l) => l.span,
    };
    Diagnostic::new(span, format!("unexpected item in `<{} ...>`", lit.head.text)).label(expected.to_string())
}

fn field_descr(lit: &DescrLit<'_>, letter: &str) -> Result<FieldDescr, Diagnostic> {
    let kind = mem_kind(lit, letter)?;
    let mut it = lit.items.iter();
    let expected = "expected <FieldK owner.name OFFSET [size=N] [pure]>";
    let full = match it.next() {
        Some(DescrItem::Word(n)) => n.text,
        Some(other) => return Err(unexpected(other, lit, expected)),
        None => return Err(Diagnostic::new(lit.span, "field descr without a name").label(expected)),
    };
    let offset = match it.next() {
        Some(DescrItem::Int(s, span)) => int_item(s, *span, "field offset")?,
        Some(other) => return Err(unexpected(other, lit, expected)),
        None => return Err(Diagnostic::new(lit.span, "field descr without an offset").label(expected)),
    };
    let (owner, name) = match full.rfind('.') {
        Some(i) => (&full[..i], &full[i + 1..]),
        None => ("", full),
    };
    let mut f = FieldDescr { owner: owner.into(), name: name.into(), offset, size: None, kind, pure: false };
    for item in it {
        match item {
            DescrItem::Word(n) if n.text == "pure" => f.pure = true,
            DescrItem::KeyValue(k, v) if k.text == "size" => f.size = Some(int_item(v.text, v.span, "field size")?),
            other => return Err(unexpected(other, lit, expected)),
        }
    }
    Ok(f)
}

fn array_descr(lit: &DescrLit<'_>, letter: &str) -> Result<ArrayDescr, Diagnostic> {
    let kind = mem_kind(lit, letter)?;
    let expected = "expected <ArrayK ITEMSIZE [pure]>";
    let mut it = lit.items.iter();
    let item_size = match it.next() {
        Some(DescrItem::Int(s, span)) => int_item(s, *span, "item size")?,
        Some(other) => return Err(unexpected(other, lit, expected)),
        None => return Err(Diagnostic::new(lit.span, "array descr without an item size").label(expected)),
    };
    let mut a = ArrayDescr { kind, item_size, pure: false };
    for item in it {
        match item {
            DescrItem::Word(n) if n.text == "pure" => a.pure = true,
            other => return Err(unexpected(other, lit, expected)),
        }
    }
    Ok(a)
}

/// A call's read or write set: declared field, array and interior-field descrs, sorted.
fn memory_descrs(module: &Module, names: &[Name<'_>]) -> Result<Vec<DescrId>, Diagnostic> {
    let mut out = Vec::with_capacity(names.len());
    for n in names {
        let d = module.descr_by_name(n.text).ok_or_else(|| {
            Diagnostic::new(n.span, format!("unknown descr `{}`", n.text)).label("a read or write set names descrs declared before it")
        })?;
        if !matches!(module.descrs[d].data, DescrData::Field(_) | DescrData::Array(_) | DescrData::Interior(_)) {
            return Err(Diagnostic::new(n.span, format!("`{}` is not memory", n.text)).label("expected a field, array or interior-field descr"));
        }
        out.push(d);
    }
    out.sort_unstable();
    out.dedup();
    Ok(out)
}

fn flag_item(v: &Name<'_>) -> Result<bool, Diagnostic> {
    match v.text {
        "0" => Ok(false),
        "1" => Ok(true),
        _ => Err(Diagnostic::new(v.span, format!("`{}` is not a flag", v.text)).label("expected 0 or 1")),
    }
}

fn interior_descr(lit: &DescrLit<'_>) -> Result<DescrData, Diagnostic> {
    let expected = "expected <InteriorFieldDescr <FieldK ...> [<ArrayK N>]>";
    let mut field = None;
    let mut array = None;
    for item in &lit.items {
        match item {
            DescrItem::Nested(l) if field.is_none() && l.head.text.starts_with("Field") => {
                field = Some(field_descr(l, &l.head.text[5..])?)
            }
            DescrItem::Nested(l) if array.is_none() && l.head.text.starts_with("Array") => {
                array = Some(array_descr(l, &l.head.text[5..])?)
            }
            other => return Err(unexpected(other, lit, expected)),
        }
    }
    let field = field.ok_or_else(|| Diagnostic::new(lit.span, "interior descr without a field").label(expected))?;
    Ok(DescrData::Interior(InteriorDescr { field, array }))
}

fn size_descr(lit: &DescrLit<'_>) -> Result<DescrData, Diagnostic> {
    let expected = "expected <SizeDescr SIZE [class=NAME]>";
    let mut size = None;
    let mut class = None;
    for item in &lit.items {
        match item {
            DescrItem::Int(s, span) if size.is_none() => size = Some(int_item(s, *span, "size")?),
            DescrItem::KeyValue(k, v) if k.text == "class" => class = Some(v.text.to_string()),
            other => return Err(unexpected(other, lit, expected)),
        }
    }
    let size = size.ok_or_else(|| Diagnostic::new(lit.span, "size descr without a size").label(expected))?;
    Ok(DescrData::Size(SizeDescr { size, class }))
}

fn call_descr(module: &Module, lit: &DescrLit<'_>, letter: &str) -> Result<DescrData, Diagnostic> {
    let expected = "expected <CallK RESULTSIZE [ARGKINDS] EF=N [OS=N] [reads=(D, ...)] [writes=(D, ...)] [collects=0|1] [invalidates=0|1]>";
    let result = letter.chars().next().and_then(CallKind::from_letter).ok_or_else(|| {
        Diagnostic::new(lit.head.span, format!("unknown call result kind in `{}`", lit.head.text))
            .label("expected Calli, Callr, Callf, Callv, CallL or CallS")
    })?;
    let mut it = lit.items.iter().peekable();
    let result_size = match it.next() {
        Some(DescrItem::Int(s, span)) => int_item(s, *span, "result size")?,
        Some(other) => return Err(unexpected(other, lit, expected)),
        None => return Err(Diagnostic::new(lit.span, "call descr without a result size").label(expected)),
    };
    let mut c = CallDescr::new(result, result_size, EffectClass::CAN_RAISE);
    let mut saw_effect = false;
    for item in it {
        match item {
            DescrItem::Word(n) if c.args.is_empty() && !saw_effect => {
                c.args = n.text.chars().map(CallKind::from_letter).collect::<Option<Vec<_>>>().ok_or_else(|| {
                    Diagnostic::new(n.span, format!("bad argument kinds `{}`", n.text)).label("expected letters among i r f L S")
                })?;
            }
            DescrItem::KeyValue(k, v) if k.text == "EF" => {
                let ef: u8 = int_item(v.text, v.span, "effect class")?;
                if ef > 7 {
                    return Err(Diagnostic::new(v.span, "effect class out of range").label("expected 0 to 7"));
                }
                c.effect = EffectClass(ef);
                saw_effect = true;
            }
            DescrItem::KeyValue(k, v) if k.text == "OS" => c.oopspec = Some(int_item(v.text, v.span, "oopspec index")?),
            DescrItem::KeyList(k, names) if k.text == "reads" && c.reads.is_none() => c.reads = Some(memory_descrs(module, names)?),
            DescrItem::KeyList(k, names) if k.text == "writes" && c.writes.is_none() => c.writes = Some(memory_descrs(module, names)?),
            DescrItem::KeyValue(k, v) if k.text == "collects" && c.collects.is_none() => c.collects = Some(flag_item(v)?),
            DescrItem::KeyValue(k, v) if k.text == "invalidates" && c.invalidates.is_none() => c.invalidates = Some(flag_item(v)?),
            other => return Err(unexpected(other, lit, expected)),
        }
    }
    if !saw_effect {
        return Err(Diagnostic::new(lit.span, "call descr without an effect class").label("expected EF=N"));
    }
    Ok(DescrData::Call(c))
}
