//! Comparing modules up to renaming (alpha-equivalence), the way PyPy's optimizer tests compare
//! an optimized trace with the expected one: value names do not matter, constants compare by
//! value, descrs by what they describe (not by name), and a guard's fail args as a set.

use crate::descr::DescrId;
use crate::printer::print_op;
use crate::resume::{FieldKey, GuardInfo, ResumeValue, VableSlot};
use crate::trace::{Module, OpExtra, Trace, Value};
use std::collections::{HashMap, HashSet};

/// `Ok(())` if `a` and `b` are the same up to renaming; otherwise the first difference.
pub fn alpha_equivalent(a: &Module, b: &Module) -> Result<(), String> {
    if a.traces.len() != b.traces.len() {
        return Err(format!("{} traces vs {}", a.traces.len(), b.traces.len()));
    }
    let ea: HashSet<_> = a.externs.iter().map(|e| (e.token, e.params.clone())).collect();
    let eb: HashSet<_> = b.externs.iter().map(|e| (e.token, e.params.clone())).collect();
    if ea != eb {
        return Err("the extern labels differ".into());
    }
    for (ta, tb) in a.traces.values().zip(b.traces.values()) {
        Cmp { a, b, ta, tb, map: HashMap::new() }.trace()?;
    }
    Ok(())
}

struct Cmp<'m> {
    a: &'m Module,
    b: &'m Module,
    ta: &'m Trace,
    tb: &'m Trace,
    map: HashMap<Value, Value>,
}

impl Cmp<'_> {
    fn trace(&mut self) -> Result<(), String> {
        let (ta, tb) = (self.ta, self.tb);
        if ta.name != tb.name || ta.kind != tb.kind {
            return Err(format!("trace `{}` ({:?}) vs `{}` ({:?})", ta.name, ta.kind, tb.name, tb.kind));
        }
        if ta.inputs.len() != tb.inputs.len() {
            return Err(format!("trace `{}`: {} inputs vs {}", ta.name, ta.inputs.len(), tb.inputs.len()));
        }
        for (&x, &y) in ta.inputs.iter().zip(&tb.inputs) {
            self.bind(x, y)?;
        }
        match (&ta.vable, &tb.vable) {
            (None, None) => {}
            (Some(x), Some(y)) => {
                let fields = |m: &Module, ds: &[DescrId]| ds.iter().map(|d| m.descrs[*d].data.clone()).collect::<Vec<_>>();
                if !self.same(x.frame, y.frame) || fields(self.a, &x.fields) != fields(self.b, &y.fields) || x.arrays.len() != y.arrays.len() {
                    return Err(format!("trace `{}`: the virtualizables differ", ta.name));
                }
            }
            _ => return Err(format!("trace `{}`: one declares a virtualizable, the other does not", ta.name)),
        }
        if ta.ops.len() != tb.ops.len() {
            return Err(format!("trace `{}`: {} ops vs {}", ta.name, ta.ops.len(), tb.ops.len()));
        }
        for (i, ((ia, oa), (ib, ob))) in ta.ops.iter().zip(tb.ops.iter()).enumerate() {
            self.op(oa, ob).map_err(|why| {
                format!("trace `{}`, op {i}: {why}\n  got:      {}\n  expected: {}", ta.name, print_op(self.a, ta, ia), print_op(self.b, tb, ib))
            })?;
        }
        Ok(())
    }

    fn bind(&mut self, x: Value, y: Value) -> Result<(), String> {
        if self.ta.ty(x) != self.tb.ty(y) {
            return Err(format!("a {} value vs a {} value", self.ta.ty(x), self.tb.ty(y)));
        }
        self.map.insert(x, y);
        Ok(())
    }

    fn same(&self, x: Value, y: Value) -> bool {
        match (self.ta.as_const(x), self.tb.as_const(y)) {
            (Some(cx), Some(cy)) => cx == cy,
            (None, None) => self.map.get(&x) == Some(&y),
            _ => false,
        }
    }

    fn descr(&self, x: Option<DescrId>, y: Option<DescrId>) -> bool {
        match (x, y) {
            (None, None) => true,
            (Some(x), Some(y)) => self.a.descrs[x].data == self.b.descrs[y].data,
            _ => false,
        }
    }

    fn op(&mut self, oa: &crate::Op, ob: &crate::Op) -> Result<(), String> {
        if oa.opcode != ob.opcode {
            return Err("different operations".into());
        }
        if oa.args.len() != ob.args.len() || !oa.args.iter().zip(&ob.args).all(|(&x, &y)| self.same(x, y)) {
            return Err("different operands".into());
        }
        if !self.descr(oa.descr, ob.descr) {
            return Err("different descrs".into());
        }
        match (&oa.extra, &ob.extra) {
            (OpExtra::Guard(ga), OpExtra::Guard(gb)) => self.guard(ga, gb)?,
            (OpExtra::Label(la), OpExtra::Label(lb)) => {
                if la.token != lb.token || la.params.len() != lb.params.len() {
                    return Err("different labels".into());
                }
                for (&x, &y) in la.params.iter().zip(&lb.params) {
                    self.bind(x, y)?;
                }
            }
            (x, y) if x == y => {}
            (OpExtra::None, OpExtra::Guard(_)) | (OpExtra::Guard(_), OpExtra::None) => {}
            _ => return Err("different targets or location strings".into()),
        }
        match (oa.result, ob.result) {
            (Some(x), Some(y)) => self.bind(x, y),
            (None, None) => Ok(()),
            _ => Err("one has a result, the other not".into()),
        }
    }

    fn guard(&self, ga: &GuardInfo, gb: &GuardInfo) -> Result<(), String> {
        // Fail args compare as sets (PyPy's tests do the same).
        if !self.const_fail_args_match(ga, gb) {
            return Err("different fail args".into());
        }
        match (&ga.resume, &gb.resume) {
            (None, None) => Ok(()),
            (Some(ra), Some(rb)) => {
                let rv = |x: &ResumeValue, y: &ResumeValue| match (x, y) {
                    (ResumeValue::Value(x), ResumeValue::Value(y)) => self.same(*x, *y),
                    (ResumeValue::Virtual(x), ResumeValue::Virtual(y)) => x == y,
                    (ResumeValue::Dead, ResumeValue::Dead) => true,
                    _ => false,
                };
                let frames_ok = ra.frames.len() == rb.frames.len()
                    && ra.frames.iter().zip(&rb.frames).all(|(x, y)| {
                        x.code == y.code && x.pc == y.pc && x.slots.len() == y.slots.len() && x.slots.iter().zip(&y.slots).all(|(p, q)| rv(p, q))
                    });
                let virtuals_ok = ra.virtuals.len() == rb.virtuals.len()
                    && ra.virtuals.iter().zip(&rb.virtuals).all(|(x, y)| {
                        x.alloc == y.alloc
                            && x.length == y.length
                            && self.descr(Some(x.descr), Some(y.descr))
                            && x.fields.len() == y.fields.len()
                            && x.fields.iter().zip(&y.fields).all(|((kx, vx), (ky, vy))| self.key(kx, ky) && rv(vx, vy))
                    });
                let vable_ok = ra.vable.len() == rb.vable.len()
                    && ra.vable.iter().zip(&rb.vable).all(|(x, y)| self.slot(&x.slot, &y.slot) && rv(&x.value, &y.value));
                let pending_ok = ra.pending.len() == rb.pending.len()
                    && ra.pending.iter().zip(&rb.pending).all(|(x, y)| {
                        x.index == y.index && self.descr(Some(x.descr), Some(y.descr)) && rv(&x.object, &y.object) && rv(&x.value, &y.value)
                    });
                if frames_ok && virtuals_ok && vable_ok && pending_ok {
                    Ok(())
                } else {
                    Err("different resume data".into())
                }
            }
            _ => Err("one guard has resume data, the other not".into()),
        }
    }

    /// Fail args as sets: constants by value, values through the mapping.
    fn const_fail_args_match(&self, ga: &GuardInfo, gb: &GuardInfo) -> bool {
        let key_a: HashSet<String> = ga.fail_args.iter().map(|v| self.key_of(*v, true)).collect();
        let key_b: HashSet<String> = gb.fail_args.iter().map(|v| self.key_of(*v, false)).collect();
        key_a == key_b
    }

    fn key_of(&self, v: Option<Value>, left: bool) -> String {
        let Some(v) = v else { return "None".into() };
        let (t, mapped) = if left { (self.ta, self.map.get(&v).copied()) } else { (self.tb, Some(v)) };
        match t.as_const(v) {
            Some(c) => format!("{c:?}"),
            None => format!("{:?}", mapped),
        }
    }

    fn key(&self, x: &FieldKey, y: &FieldKey) -> bool {
        match (x, y) {
            (FieldKey::Field(x), FieldKey::Field(y)) => self.descr(Some(*x), Some(*y)),
            (FieldKey::Item(x), FieldKey::Item(y)) => x == y,
            _ => false,
        }
    }

    fn slot(&self, x: &VableSlot, y: &VableSlot) -> bool {
        match (x, y) {
            (VableSlot::Field(x), VableSlot::Field(y)) => self.descr(Some(*x), Some(*y)),
            (VableSlot::Item(x, i), VableSlot::Item(y, j)) => i == j && self.descr(Some(*x), Some(*y)),
            _ => false,
        }
    }
}
