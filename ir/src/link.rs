//! Copying traces between modules: the descrs a trace uses are declared in the destination
//! (structurally equal descrs are shared, names kept where free), and every reference to them
//! is remapped. Used to gather traces from several sources (e.g. the sections of a PyPy log)
//! into one module.

use crate::descr::{DescrData, DescrId};
use crate::entity::EntityRef;
use crate::resume::{FieldKey, VableSlot};
use crate::trace::{Module, TraceId};

/// Copies trace `t` of `from` into `into` and returns its id there. Extern labels of `from`
/// that `into` lacks come along.
pub fn copy_trace(into: &mut Module, from: &Module, t: TraceId) -> TraceId {
    // In declaration order: a call descr's read and write sets name descrs declared before it,
    // already mapped.
    let mut map: Vec<DescrId> = Vec::with_capacity(from.descrs.len());
    for d in from.descrs.values() {
        let mut data = d.data.clone();
        if let DescrData::Call(c) = &mut data {
            c.map_descrs(|x| map[x.index()]);
        }
        let id = into.intern_descr_named(&d.name, data);
        map.push(id);
    }
    let m = |d: DescrId| map[d.index()];
    let mut trace = from.traces[t].clone();
    for op in trace.ops.keys().collect::<Vec<_>>() {
        let op = &mut trace.ops[op];
        op.descr = op.descr.map(m);
        let Some(r) = op.guard_mut().and_then(|g| g.resume.as_mut()) else { continue };
        for v in &mut r.virtuals {
            v.descr = m(v.descr);
            for (k, _) in &mut v.fields {
                if let FieldKey::Field(d) = k {
                    *d = m(*d);
                }
            }
        }
        for w in &mut r.pending {
            w.descr = m(w.descr);
        }
        for e in &mut r.vable {
            e.slot = match e.slot {
                VableSlot::Field(d) => VableSlot::Field(m(d)),
                VableSlot::Item(d, i) => VableSlot::Item(m(d), i),
            };
        }
    }
    if let Some(v) = &mut trace.vable {
        v.fields.iter_mut().for_each(|d| *d = m(*d));
        v.arrays.iter_mut().for_each(|(f, a)| (*f, *a) = (m(*f), m(*a)));
    }
    for e in &from.externs {
        if !into.externs.iter().any(|x| x.token == e.token) {
            into.externs.push(e.clone());
        }
    }
    into.traces.push(trace)
}
