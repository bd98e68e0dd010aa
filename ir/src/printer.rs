//! IR → canonical text.
//!
//! The output is the one spelling of a module: descr declarations first (every op refers to its
//! descr by name), then each trace as a block, four-space indented, one op per line. The parser
//! reads it back to the same IR, and printing that again gives the same text (tested over every
//! trace in the repository).
//!
//! Naming: a value keeps the name it was parsed with when that name is valid and free; other
//! values get `<type letter><n>`, `n` the value's place in definition order (not its index in
//! the value table, which passes leave with gaps). A label parameter takes its entry value's name, as PyPy
//! prints (`label(p0, i5)`), when that value is not used after the label; otherwise it is
//! printed `name=entry`.

use crate::descr::DescrData;
use crate::entity::EntityRef;
use crate::resume::*;
use crate::trace::*;
use crate::types::Type;
use std::collections::HashSet;
use std::fmt::Write;

/// The canonical text of a whole module.
pub fn print_module(m: &Module) -> String {
    let mut out = String::new();
    for d in m.descrs.values() {
        let _ = writeln!(out, "descr {} = {}", d.name, crate::descr::literal(m, &d.data));
    }
    for e in &m.externs {
        let params: Vec<&str> = e.params.iter().map(|t| t.keyword()).collect();
        let _ = writeln!(out, "extern {} [{}]", target_text(e.token), params.join(", "));
    }
    for (i, t) in m.traces.values().enumerate() {
        if i > 0 || !m.descrs.is_empty() || !m.externs.is_empty() {
            out.push('\n');
        }
        print_trace_into(&mut out, m, t);
    }
    out
}

/// The canonical text of one trace (descrs by name; declarations not included).
pub fn print_trace(m: &Module, t: &Trace) -> String {
    let mut out = String::new();
    print_trace_into(&mut out, m, t);
    out
}

/// Text of a single op as it appears in a trace, for diagnostics about built IR.
pub fn print_op(m: &Module, t: &Trace, op: OpId) -> String {
    let names = Names::assign(t);
    let mut out = String::new();
    TracePrinter { m, t, names: &names, out: &mut out }.op(op, "");
    out.trim().to_string()
}

/// Printed names of a trace's values.
pub struct Names {
    names: Vec<String>,
    /// For each label parameter printed as `name=entry`: true.
    explicit: Vec<bool>,
}

impl Names {
    pub fn assign(t: &Trace) -> Names {
        let n = t.values.len();
        let mut names = vec![String::new(); n];
        let mut explicit = vec![false; n];
        let mut taken: HashSet<String> = HashSet::new();
        let last_use = t.last_uses();
        let order = definition_order(t);
        let give = |v: Value, names: &mut Vec<String>, taken: &mut HashSet<String>| {
            let data = &t.values[v];
            let name = match data.name.as_deref() {
                Some(s) if valid_value_name(s, data.ty) && !taken.contains(s) => s.to_string(),
                _ => fresh(data.ty, order[v.index()], taken),
            };
            taken.insert(name.clone());
            names[v.index()] = name;
        };
        for &v in &t.inputs {
            give(v, &mut names, &mut taken);
        }
        for (position, op) in t.ops.values().enumerate() {
            if let Some(r) = op.result {
                give(r, &mut names, &mut taken);
            }
            let Some(l) = op.label() else { continue };
            let mut shadowed = HashSet::new();
            for (k, &p) in l.params.iter().enumerate() {
                let entry = op.args.get(k).copied();
                let can_shadow = entry.is_some_and(|e| {
                    !t.is_const(e)
                        && last_use[e.index()] <= position
                        && !shadowed.contains(&e)
                        && t.values[p].name.as_deref().is_none_or(|pn| pn == names[e.index()])
                });
                if let (true, Some(e)) = (can_shadow, entry) {
                    shadowed.insert(e);
                    names[p.index()] = names[e.index()].clone();
                } else {
                    give(p, &mut names, &mut taken);
                    explicit[p.index()] = true;
                }
            }
        }
        Names { names, explicit }
    }

    pub fn get(&self, v: Value) -> &str {
        &self.names[v.index()]
    }
}

/// For each value, its position in the order a trace copied op by op defines values: inputs,
/// then per op the constants it is first to use, its result, its label parameters. Fresh names
/// come from it rather than from the value table, so that what a trace prints does not depend
/// on how its table was built (a pass may keep old values and leave dead entries).
fn definition_order(t: &Trace) -> Vec<usize> {
    let mut order = vec![usize::MAX; t.values.len()];
    let mut next = 0;
    let mut number = |v: Value, order: &mut Vec<usize>| {
        if order[v.index()] == usize::MAX {
            order[v.index()] = next;
            next += 1;
        }
    };
    for &v in &t.inputs {
        number(v, &mut order);
    }
    for op in t.ops.values() {
        op.for_each_use(|v| {
            if t.is_const(v) {
                number(v, &mut order);
            }
        });
        op.result.into_iter().chain(op.label().into_iter().flat_map(|l| l.params.iter().copied())).for_each(|v| number(v, &mut order));
    }
    order
}

fn fresh(ty: Type, index: usize, taken: &HashSet<String>) -> String {
    let base = format!("{}{}", ty.prefix(), index);
    if !taken.contains(&base) {
        return base;
    }
    (2..).map(|k| format!("{base}_{k}")).find(|n| !taken.contains(n)).expect("a free name")
}

const KEYWORDS: &[&str] = &[
    "descr", "loop", "bridge", "func", "from", "virtualizable", "frame", "vable", "None", "TargetToken",
    "ConstPtr", "ConstClass", "inf", "nan",
];

fn valid_value_name(s: &str, ty: Type) -> bool {
    let mut chars = s.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    first_ok
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '$'))
        && Type::from_name_prefix(s) == Some(ty)
        && !KEYWORDS.contains(&s)
}

fn print_trace_into(out: &mut String, m: &Module, t: &Trace) {
    let names = Names::assign(t);
    let inputs: Vec<&str> = t.inputs.iter().map(|&v| names.get(v)).collect();
    let inputs = inputs.join(", ");
    match &t.kind {
        TraceKind::Loop => {
            let _ = write!(out, "loop {} [{inputs}]", t.name);
        }
        TraceKind::Bridge { guard } => {
            let _ = write!(out, "bridge {} from Guard0x{guard:x} [{inputs}]", t.name);
        }
        TraceKind::Function { result } => {
            let _ = write!(out, "func {} [{inputs}] -> {result}", t.name);
        }
    }
    if let Some(vable) = &t.vable {
        let mut entries: Vec<String> = vable.fields.iter().map(|&d| m.descrs[d].name.clone()).collect();
        entries.extend(vable.arrays.iter().map(|&(f, a)| format!("{}[{}]", m.descrs[f].name, m.descrs[a].name)));
        let _ = write!(out, " virtualizable {} ({})", names.get(vable.frame), entries.join(", "));
    }
    out.push_str(" {\n");
    let mut p = TracePrinter { m, t, names: &names, out };
    for id in t.ops.keys() {
        p.op(id, "    ");
    }
    out.push_str("}\n");
}

struct TracePrinter<'a> {
    m: &'a Module,
    t: &'a Trace,
    names: &'a Names,
    out: &'a mut String,
}

impl TracePrinter<'_> {
    fn value(&self, v: Value) -> String {
        match self.t.as_const(v) {
            Some(c) => const_text(c),
            None => self.names.get(v).to_string(),
        }
    }

    fn op(&mut self, id: OpId, indent: &str) {
        let op = &self.t.ops[id];
        let mut parts: Vec<String> = Vec::with_capacity(op.args.len() + 2);
        match op.label() {
            Some(l) => {
                for (k, &p) in l.params.iter().enumerate() {
                    let name = self.names.get(p);
                    match op.args.get(k) {
                        Some(&e) if self.names.explicit[p.index()] => parts.push(format!("{name}={}", self.value(e))),
                        _ => parts.push(name.to_string()),
                    }
                }
            }
            None => parts.extend(op.args.iter().map(|&a| self.value(a))),
        }
        if let Some(text) = op.text() {
            parts.push(format!("'{text}'"));
        }
        match &op.extra {
            OpExtra::Label(l) => parts.push(format!("descr={}", target_text(l.token))),
            OpExtra::Jump(t) if *t != Target::SELF_START => parts.push(format!("descr={}", target_text(*t))),
            OpExtra::Guard(g) => {
                if let Some(id) = g.id {
                    parts.push(format!("descr=<Guard0x{id:x}>"));
                }
            }
            _ => {}
        }
        if let Some(d) = op.descr {
            parts.push(format!("descr={}", self.m.descrs[d].name));
        }
        self.out.push_str(indent);
        if let Some(r) = op.result {
            let _ = write!(self.out, "{} = ", self.names.get(r));
        }
        let _ = write!(self.out, "{}({})", op.opcode, parts.join(", "));
        if let Some(g) = op.guard() {
            self.guard_tail(g, indent);
        }
        self.out.push('\n');
    }

    fn guard_tail(&mut self, g: &GuardInfo, indent: &str) {
        if !g.fail_args.is_empty() {
            let fa: Vec<String> = g.fail_args.iter().map(|a| a.map_or("None".into(), |v| self.value(v))).collect();
            let _ = write!(self.out, " [{}]", fa.join(", "));
        }
        let Some(r) = &g.resume else { return };
        let inner = format!("{indent}    ");
        let vnames = virtual_names(r);
        self.out.push_str(" {\n");
        for f in &r.frames {
            let slots: Vec<String> = f.slots.iter().map(|s| self.slot(*s, &vnames)).collect();
            let _ = writeln!(self.out, "{inner}frame '{}' pc={} [{}]", f.code, f.pc, slots.join(", "));
        }
        for (i, v) in r.virtuals.iter().enumerate() {
            let mut args = Vec::new();
            if let Some(len) = v.length {
                args.push(len.to_string());
            }
            args.push(format!("descr={}", self.m.descrs[v.descr].name));
            let fields: Vec<String> = v.fields.iter().map(|(k, val)| {
                let key = match k {
                    FieldKey::Field(d) => self.m.descrs[*d].name.clone(),
                    FieldKey::Item(i) => i.to_string(),
                };
                format!("{key}: {}", self.slot(*val, &vnames))
            }).collect();
            let _ = write!(self.out, "{inner}${} = {}({})", vnames[i], v.alloc, args.join(", "));
            if !fields.is_empty() {
                let _ = write!(self.out, " {{{}}}", fields.join(", "));
            }
            self.out.push('\n');
        }
        for e in &r.vable {
            let slot = match e.slot {
                VableSlot::Field(d) => self.m.descrs[d].name.clone(),
                VableSlot::Item(d, i) => format!("{}[{i}]", self.m.descrs[d].name),
            };
            let _ = writeln!(self.out, "{inner}vable {slot} = {}", self.slot(e.value, &vnames));
        }
        for w in &r.pending {
            let (obj, val, d) = (self.slot(w.object, &vnames), self.slot(w.value, &vnames), &self.m.descrs[w.descr].name);
            let _ = match w.index {
                None => writeln!(self.out, "{inner}setfield_gc({obj}, {val}, descr={d})"),
                Some(i) => writeln!(self.out, "{inner}setarrayitem_gc({obj}, {i}, {val}, descr={d})"),
            };
        }
        let _ = write!(self.out, "{indent}}}");
    }

    fn slot(&self, s: ResumeValue, vnames: &[String]) -> String {
        match s {
            ResumeValue::Value(v) => self.value(v),
            ResumeValue::Virtual(id) => format!("${}", vnames.get(id.index()).map_or("?", |s| s.as_str())),
            ResumeValue::Dead => "None".into(),
        }
    }
}

fn virtual_names(r: &Resume) -> Vec<String> {
    let mut taken = HashSet::new();
    r.virtuals.iter().enumerate().map(|(i, v)| {
        let valid = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        let name = match v.name.as_deref() {
            Some(s) if valid(s) && !taken.contains(s) => s.to_string(),
            _ => (0..).map(|k| if k == 0 { format!("v{i}") } else { format!("v{i}_{k}") })
                .find(|n| !taken.contains(n)).expect("a free name"),
        };
        taken.insert(name.clone());
        name
    }).collect()
}

pub fn target_text(t: Target) -> String {
    match t {
        Target::Token(n) => format!("TargetToken({n})"),
        Target::Loop(n) => format!("<Loop{n}>"),
    }
}

/// A constant as the parser reads it.
pub fn const_text(c: &Const) -> String {
    match c {
        Const::Int(i) => i.to_string(),
        Const::Float(bits) => float_text(f64::from_bits(*bits)),
        Const::Null => "ConstPtr(null)".into(),
        Const::Ptr(n) => format!("ConstPtr({n})"),
        Const::Class(n) => format!("ConstClass({n})"),
        Const::Func(n) => format!("@{n}"),
    }
}

fn float_text(f: f64) -> String {
    if f.is_nan() {
        "nan".into()
    } else if f.is_infinite() {
        if f > 0.0 { "inf".into() } else { "-inf".into() }
    } else {
        // Debug prints the shortest text that reads back to the same bits, always with a `.`
        // or an exponent, which is what the lexer needs to see a float.
        format!("{f:?}")
    }
}

/// A descr literal's text (PyPy syntax).
pub fn descr_text(d: &DescrData) -> String {
    d.to_string()
}
