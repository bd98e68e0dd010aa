//! One object, one layout: the check that makes the optimizer's aliasing rule true.
//!
//! The passes assume, as PyPy's `heap.py` does, that two different field descrs never touch
//! the same bytes and that a field access never touches an array's items; the interpreter works
//! on byte offsets. This check rejects the traces where the two would disagree:
//! - two differently named field descrs of one owner whose bytes overlap (declared anywhere
//!   in the module);
//! - one object reached through two field descrs whose bytes overlap, or through both a field
//!   descr and an array or string op (or allocated as one kind and accessed as the other).
//!
//! "One object" is decided within a trace, conservatively: a value, the values a label or a
//! jump to it passes for it, and `same_as_r` copies are one object. Objects reached across
//! traces (a fail arg and the bridge input it becomes) are not linked: a bridge after a
//! `guard_class` legitimately sees the same object as another class.

use crate::descr::DescrData;
use crate::entity::EntityRef;
use crate::opcode::{DescrKind, Opcode};
use crate::trace::{Module, OpId, Target, Trace};
use crate::{DescrId, Value};
use std::collections::HashMap;

/// Field descrs of one owner whose byte ranges overlap, as messages.
pub(super) fn overlapping_fields(m: &Module) -> Vec<String> {
    let mut by_owner: HashMap<&str, Vec<(u64, u64, DescrId)>> = HashMap::new();
    for (id, d) in m.descrs.iter() {
        if let DescrData::Field(f) = &d.data {
            let start = f.offset as u64;
            by_owner.entry(&f.owner).or_default().push((start, start + f.width(), id));
        }
    }
    let field_name = |d: DescrId| match &m.descrs[d].data {
        DescrData::Field(f) => f.name.as_str(),
        _ => "",
    };
    let mut errors = Vec::new();
    for (owner, mut fields) in by_owner {
        fields.sort();
        for pair in fields.windows(2) {
            let ((s0, e0, a), (s1, e1, b)) = (pair[0], pair[1]);
            // One field name with two kinds is two struct types PyPy prints with one name
            // (RPython's tuples: `<FieldS tuple2.item0 8>` and `<FieldP tuple2.item0 8>`); the
            // per-object check below still keeps one object to one of them.
            if s1 < e0 && field_name(a) != field_name(b) {
                errors.push(format!(
                    "field descrs `{}` (bytes {s0}..{e0}) and `{}` (bytes {s1}..{e1}) of `{owner}` overlap: \
                     the optimizer takes different fields to be different memory",
                    m.descrs[a].name, m.descrs[b].name
                ));
            }
        }
    }
    errors.sort();
    errors
}

/// How an op reaches the object its first operand (or its result) is.
enum Layout {
    Field(DescrId, u64, u64),
    /// Allocated as a struct (`new`, `new_with_vtable`).
    Struct,
    /// An array or string: allocated as one, or read through an array, interior or string op.
    Items,
}

fn access(m: &Module, opcode: Opcode, descr: Option<DescrId>) -> Option<Layout> {
    let field = |d: DescrId| match &m.descrs[d].data {
        DescrData::Field(f) => Some(Layout::Field(d, f.offset as u64, f.offset as u64 + f.width())),
        _ => None,
    };
    match opcode.descr_kind() {
        DescrKind::Field => field(descr?),
        DescrKind::Array | DescrKind::Interior | DescrKind::None => Some(Layout::Items),
        _ => None,
    }
}

/// What one object has been reached as so far.
#[derive(Default)]
struct Seen {
    /// Most objects are reached through a field or two: kept inline.
    fields: smallvec::SmallVec<[(DescrId, u64, u64); 2]>,
    is_struct: bool,
    items: bool,
    /// A conflict was reported: one error per object.
    reported: bool,
}

/// The ops of `t` that reach an object in a way that conflicts with an earlier access.
pub(super) fn conflicting_accesses(m: &Module, t: &Trace) -> Vec<(OpId, String)> {
    let mut objects = same_objects(t);
    let mut seen: rustc_hash::FxHashMap<usize, Seen> = rustc_hash::FxHashMap::default();
    let mut errors = Vec::new();
    for (id, op) in t.ops.iter() {
        let (object, layout) = if op.opcode.dereferences_first_operand() {
            let Some(&base) = op.args.first() else { continue };
            (base, access(m, op.opcode, op.descr))
        } else if let Some(r) = op.result {
            match op.opcode {
                Opcode::New | Opcode::NewWithVtable => (r, Some(Layout::Struct)),
                Opcode::NewArray | Opcode::NewArrayClear | Opcode::Newstr | Opcode::Newunicode => (r, Some(Layout::Items)),
                _ => continue,
            }
        } else {
            continue;
        };
        let Some(layout) = layout else { continue };
        if t.is_const(object) {
            continue;
        }
        let s = seen.entry(objects.root(object.index())).or_default();
        if let Some(msg) = conflict(m, s, &layout).filter(|_| !s.reported) {
            errors.push((id, msg));
            s.reported = true;
        }
        match layout {
            Layout::Items => s.items = true,
            Layout::Struct => s.is_struct = true,
            Layout::Field(d, a, b) if !s.fields.iter().any(|f| f.0 == d) => s.fields.push((d, a, b)),
            Layout::Field(..) => {}
        }
    }
    errors
}

fn conflict(m: &Module, s: &Seen, layout: &Layout) -> Option<String> {
    match *layout {
        Layout::Items if s.is_struct => Some("this object was allocated as a struct, not an array or string".into()),
        Layout::Items => s.fields.first().map(|f| {
            format!("this object is an array or string, but it is also reached through field `{}`", m.descrs[f.0].name)
        }),
        Layout::Struct if s.items => Some("this object is reached as an array or string, not allocated as a struct".into()),
        Layout::Struct => None,
        Layout::Field(d, a, b) => {
            if s.items {
                return Some(format!("field `{}` of an object that is an array or string", m.descrs[d].name));
            }
            let other = s.fields.iter().find(|f| f.0 != d && f.1 < b && a < f.2)?;
            Some(format!(
                "fields `{}` and `{}` overlap in one object: the optimizer takes different fields to be different memory",
                m.descrs[other.0].name, m.descrs[d].name
            ))
        }
    }
}

/// Union-find over a trace's values: which values may be one object.
struct Objects(Vec<usize>);

impl Objects {
    /// With path halving, so that long chains of labels stay cheap.
    fn root(&mut self, mut v: usize) -> usize {
        while self.0[v] != v {
            self.0[v] = self.0[self.0[v]];
            v = self.0[v];
        }
        v
    }
    fn union(&mut self, a: Value, b: Value) {
        let (ra, rb) = (self.root(a.index()), self.root(b.index()));
        if ra != rb {
            self.0[ra.max(rb)] = ra.min(rb);
        }
    }
}

fn same_objects(t: &Trace) -> Objects {
    let mut objects = Objects((0..t.values.len()).collect());
    let mut labels: HashMap<Target, &[Value]> = HashMap::new();
    labels.insert(Target::SELF_START, &t.inputs);
    for (_, l) in t.labels() {
        labels.insert(l.token, &l.params);
    }
    for (_, op) in t.ops.iter() {
        let params = match (op.label(), op.jump_target()) {
            (Some(l), _) => Some(&l.params[..]),
            (None, Some(target)) => labels.get(&target).copied(),
            _ => None,
        };
        if let Some(params) = params {
            for (&a, &p) in op.args.iter().zip(params) {
                objects.union(a, p);
            }
        }
        if let (Opcode::SameAsR, Some(r)) = (op.opcode, op.result) {
            objects.union(op.args[0], r);
        }
    }
    objects
}
