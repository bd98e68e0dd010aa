//! What an op may read and write, and what else it may do: the one answer every pass and
//! frontend asks (PyPy's `EffectInfo`).
//!
//! Memory is told apart by descr: two different field, array or interior-field descrs are
//! different memory (the verifier makes it so, see `verify/objects.rs`), and string contents,
//! array lengths and an object's header are memory of their own that no descr names. So what an
//! op touches is an [`Access`]: nothing, the memory of some descrs, any array's items, or
//! everything.
//!
//! For a call, its descr may state the sets (`<Callr 8 r EF=5 reads=(A.x) writes=(B.y)>`, as a
//! frontend that knows its callees can; PyPy's logs print only `EF=`). Where the text says
//! nothing the answer is the conservative one for the effect class: an elidable or
//! loop-invariant call writes nothing and reads only what its reference arguments reach (so
//! anything, if it has one); any other call reads and writes everything, may collect and may
//! invalidate. Forcing a virtualizable reads and writes nothing the trace sees (PyPy's effect
//! info for it is empty); `ll_arraycopy` reads and writes array items only.
//!
//! An op that leaves the trace or the iteration (`label`, `jump`, `finish`) reads everything:
//! whoever runs next sees memory as it is.

use crate::descr::{CallDescr, DescrData, DescrId, EffectClass, OS_ARRAYCOPY, OS_JIT_FORCE_VIRTUALIZABLE};
use crate::opcode::{DescrKind, Opcode};
use crate::trace::{Module, Op, Trace};
use crate::types::Type;
use smallvec::SmallVec;

/// Memory an op may touch.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Access {
    Nothing,
    /// The memory of these descrs (fields, arrays' items, interior fields).
    Descrs(SmallVec<[DescrId; 2]>),
    /// The items of any array.
    AnyArray,
    Everything,
}

impl Access {
    fn one(d: DescrId) -> Access {
        Access::Descrs(SmallVec::from_slice(&[d]))
    }

    /// True if the access may touch the memory of descr `d`.
    pub fn touches(&self, m: &Module, d: DescrId) -> bool {
        match self {
            Access::Nothing => false,
            Access::Descrs(ds) => ds.contains(&d),
            Access::AnyArray => matches!(m.descrs[d].data, DescrData::Array(_)),
            Access::Everything => true,
        }
    }
}

/// A call's effects, PyPy's `EffectInfo`: its descr's statements, conservative where it
/// makes none.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct CallEffects {
    pub class: EffectClass,
    pub reads: Access,
    pub writes: Access,
    pub can_raise: bool,
    /// May run the GC (and so move objects).
    pub can_collect: bool,
    /// May change a quasi-immutable field (a `guard_not_invalidated` must be checked again).
    pub can_invalidate: bool,
    /// May force virtuals or the virtualizable (`guard_not_forced`'s question).
    pub forces: bool,
}

/// The effects of call `op` (`None` if `op` is not a call).
pub fn call(m: &Module, t: &Trace, op: &Op) -> Option<CallEffects> {
    if !op.opcode.is_call() {
        return None;
    }
    let class = m.call_effect(op).unwrap_or(EffectClass::RANDOM_EFFECTS);
    let descr = call_descr(m, op);
    let oopspec = m.call_oopspec(op);
    let free = class.is_effect_free();
    let stated = |set: Option<&Vec<DescrId>>| set.map(|ds| Access::Descrs(ds.iter().copied().collect()));
    let (reads, writes) = if oopspec == Some(OS_JIT_FORCE_VIRTUALIZABLE) {
        (Access::Nothing, Access::Nothing)
    } else if oopspec == Some(OS_ARRAYCOPY) {
        (Access::AnyArray, Access::AnyArray)
    } else {
        let ref_args = op.args.iter().skip(1).any(|&a| t.ty(a) == Type::Ref);
        let reads = if free && !ref_args { Access::Nothing } else { Access::Everything };
        let writes = if free { Access::Nothing } else { Access::Everything };
        (stated(descr.and_then(|c| c.reads.as_ref())).unwrap_or(reads), stated(descr.and_then(|c| c.writes.as_ref())).unwrap_or(writes))
    };
    let quiet = free || oopspec == Some(OS_JIT_FORCE_VIRTUALIZABLE);
    Some(CallEffects {
        class,
        reads,
        writes,
        can_raise: class.can_raise(),
        can_collect: descr.and_then(|c| c.collects).unwrap_or(!quiet),
        can_invalidate: descr.and_then(|c| c.invalidates).unwrap_or(!quiet),
        forces: class.forces() || forcing_opcode(op.opcode),
    })
}

fn call_descr<'m>(m: &'m Module, op: &Op) -> Option<&'m CallDescr> {
    match op.descr.map(|d| &m.descrs[d].data) {
        Some(DescrData::Call(c)) => Some(c),
        _ => None,
    }
}

/// Calls that may force the frame whatever their effect class says.
fn forcing_opcode(o: Opcode) -> bool {
    use Opcode::*;
    matches!(o, CallMayForceI | CallMayForceR | CallMayForceF | CallMayForceN | CallAssemblerI | CallAssemblerR | CallAssemblerF | CallAssemblerN | CallReleaseGilI | CallReleaseGilR | CallReleaseGilF | CallReleaseGilN)
}

/// What `op` may read.
pub fn reads(m: &Module, t: &Trace, op: &Op) -> Access {
    use Opcode::*;
    if let Some(c) = call(m, t, op) {
        return c.reads;
    }
    match op.opcode {
        Label | Jump | Finish | EscapeI | EscapeR | EscapeF | EscapeN => Access::Everything,
        // A class or type check reads the object's header, which no descr names and no store
        // of the trace writes.
        o if !o.reads_heap() || o.is_guard() => Access::Nothing,
        // A record of a dependency, a write barrier, a keep-alive: no memory a trace reads.
        QuasiimmutField | CondCallGcWb | CondCallGcWbArray | Keepalive | VirtualRef | VirtualRefFinish | ArraylenGc => Access::Nothing,
        o if string_memory(o) => Access::Nothing,
        _ => own_descr(m, op),
    }
}

/// What `op` may write.
pub fn writes(m: &Module, op: &Op) -> Access {
    use Opcode::*;
    if op.opcode.is_call() {
        // The reads answer needs the trace only for argument types.
        return call_writes(m, op);
    }
    match op.opcode {
        EscapeI | EscapeR | EscapeF | EscapeN => Access::Everything,
        VirtualRefFinish => Access::Descrs(vref_fields(m).into_iter().collect()),
        o if !o.writes_heap() => Access::Nothing,
        QuasiimmutField | CondCallGcWb | CondCallGcWbArray | Keepalive | VirtualRef => Access::Nothing,
        o if string_memory(o) => Access::Nothing,
        _ => own_descr(m, op),
    }
}

fn call_writes(m: &Module, op: &Op) -> Access {
    let class = m.call_effect(op).unwrap_or(EffectClass::RANDOM_EFFECTS);
    match m.call_oopspec(op) {
        Some(OS_JIT_FORCE_VIRTUALIZABLE) => Access::Nothing,
        Some(OS_ARRAYCOPY) => Access::AnyArray,
        _ => match call_descr(m, op).and_then(|c| c.writes.as_ref()) {
            Some(ds) => Access::Descrs(ds.iter().copied().collect()),
            None if class.is_effect_free() => Access::Nothing,
            None => Access::Everything,
        },
    }
}

/// True if `op` may change a quasi-immutable field.
pub fn can_invalidate(m: &Module, t: &Trace, op: &Op) -> bool {
    match call(m, t, op) {
        Some(c) => c.can_invalidate,
        None => matches!(op.opcode, Opcode::EscapeI | Opcode::EscapeR | Opcode::EscapeF | Opcode::EscapeN),
    }
}

/// String and unicode contents and lengths: memory no descr names.
fn string_memory(o: Opcode) -> bool {
    use Opcode::*;
    matches!(o, Strlen | Unicodelen | Strhash | Unicodehash | Strgetitem | Unicodegetitem | Strsetitem | Unicodesetitem | Copystrcontent | Copyunicodecontent)
}

/// The memory of the op's own descr (a field, array or interior-field access); everything if
/// it has none the model knows.
fn own_descr(m: &Module, op: &Op) -> Access {
    match (op.opcode.descr_kind(), op.descr) {
        (DescrKind::Field | DescrKind::Array | DescrKind::Interior, Some(d)) if matches!(m.descrs[d].data, DescrData::Field(_) | DescrData::Array(_) | DescrData::Interior(_)) => Access::one(d),
        _ => Access::Everything,
    }
}

/// The fields `virtual_ref_finish` may write: those of PyPy's `JitVirtualRef` struct (its
/// token and forced object) and of tracelab's own vref layout (`descr::vref_layout`).
pub fn vref_fields(m: &Module) -> Vec<DescrId> {
    m.descrs.iter().filter(|(_, d)| matches!(&d.data, DescrData::Field(f) if f.owner == "JitVirtualRef" || f.owner == "vref")).map(|(id, _)| id).collect()
}

/// Memory no one writes after allocation (`pure` fields and arrays).
pub fn immutable(m: &Module, d: DescrId) -> bool {
    match &m.descrs[d].data {
        DescrData::Field(f) => f.pure,
        DescrData::Array(a) => a.pure,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn module(text: &str) -> Module {
        crate::parse(text).unwrap_or_else(|d| panic!("{d:?}"))
    }

    fn ops(m: &Module) -> Vec<&Op> {
        m.traces.values().next().expect("a trace").ops.values().collect()
    }

    #[test]
    fn stated_sets_are_the_answer_and_silence_is_everything() {
        let m = module(
            "descr a = <FieldS A.a 8>\ndescr b = <FieldS A.b 16>\n\
             descr stated = <Calli 8 r EF=5 reads=(a) writes=(b) collects=0 invalidates=0>\n\
             descr silent = <Calli 8 r EF=5>\n\
             loop l [p0] {\n    i1 = call_i(ConstClass(f), p0, descr=stated)\n    i2 = call_i(ConstClass(g), p0, descr=silent)\n    finish(i1)\n}\n",
        );
        let t = m.traces.values().next().expect("a trace");
        let (a, b) = (m.descr_by_name("a").expect("a"), m.descr_by_name("b").expect("b"));
        let [stated, silent, _] = ops(&m)[..] else { panic!() };
        let c = call(&m, t, stated).expect("a call");
        assert!(c.reads.touches(&m, a) && !c.reads.touches(&m, b));
        assert!(c.writes.touches(&m, b) && !c.writes.touches(&m, a));
        assert!(!c.can_collect && !c.can_invalidate && c.can_raise);
        let s = call(&m, t, silent).expect("a call");
        assert_eq!((s.reads, s.writes), (Access::Everything, Access::Everything));
        assert!(s.can_collect && s.can_invalidate);
    }

    #[test]
    fn an_elidable_call_on_integers_reads_nothing_and_writes_nothing() {
        let m = module(
            "descr pure = <Calli 8 ii EF=0>\n\
             loop l [i0, p1] {\n    i2 = call_i(ConstClass(f), i0, 1, descr=pure)\n    i3 = call_i(ConstClass(f), p1, 1, descr=pure)\n    finish(i2)\n}\n",
        );
        let t = m.traces.values().next().expect("a trace");
        let o = ops(&m);
        assert_eq!(reads(&m, t, o[0]), Access::Nothing);
        assert_eq!(reads(&m, t, o[1]), Access::Everything, "what a reference argument reaches");
        assert_eq!(writes(&m, o[0]), Access::Nothing);
    }

    #[test]
    fn heap_ops_touch_their_descr_and_strings_touch_none() {
        let m = module(
            "descr a = <FieldS A.a 8>\ndescr arr = <ArrayS 8>\n\
             loop l [p0, p1, p2] {\n    i3 = getfield_gc_i(p0, descr=a)\n    setarrayitem_gc(p1, 0, i3, descr=arr)\n    i4 = strgetitem(p2, 0)\n    finish(i4)\n}\n",
        );
        let t = m.traces.values().next().expect("a trace");
        let (a, arr) = (m.descr_by_name("a").expect("a"), m.descr_by_name("arr").expect("arr"));
        let o = ops(&m);
        assert!(reads(&m, t, o[0]).touches(&m, a) && !reads(&m, t, o[0]).touches(&m, arr));
        assert!(writes(&m, o[1]).touches(&m, arr) && !writes(&m, o[1]).touches(&m, a));
        assert_eq!(reads(&m, t, o[2]), Access::Nothing);
        assert_eq!(reads(&m, t, o[3]), Access::Everything, "finish: the next runner sees memory");
    }

    #[test]
    fn a_class_guard_reads_no_descr_memory() {
        // It reads the header: held stores of fields need not be done before it.
        let m = module("loop l [p0] {\n    guard_class(p0, ConstClass(A), descr=<Guard0x1>) [p0]\n    finish()\n}\n");
        let t = m.traces.values().next().expect("a trace");
        assert_eq!(reads(&m, t, ops(&m)[0]), Access::Nothing);
    }
}
