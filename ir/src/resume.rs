//! Guard data: fail args and resume data.
//!
//! When a guard fails, the interpreter must be handed back exactly the state it would have had.
//! PyPy and LuaJIT both describe that state per guard; ours is:
//! - `fail_args`: the values the compiled code stores at the exit (PyPy's `[p0, i1, None]`);
//! - `resume` (optional, absent in PyPy's logs): one [`ResumeFrame`] per interpreter frame,
//!   outermost first, each with a position and the value of each live slot; slot values are SSA
//!   values, constants, or *virtuals*: objects the optimizer did not allocate, described here so
//!   the exit can allocate and fill them (nested, shared and cyclic virtuals are indices into
//!   one table); and the values of the virtualizable's fields, to write the frame back.
//!
//! Invariant (checked by the verifier): every non-constant value named in `resume` is also in
//! `fail_args`, so a backend only ever needs the fail args to rebuild the state.

use crate::descr::DescrId;
use crate::opcode::Opcode;
use crate::trace::Value;

crate::entity!(
    /// A virtual object in one guard's resume data.
    VirtualId,
    "virt"
);

#[derive(Clone, PartialEq, Debug, Default)]
pub struct GuardInfo {
    /// PyPy's guard identity (`<Guard0x7f..>`), which bridges name to attach to it.
    pub id: Option<u64>,
    pub fail_args: Vec<Option<Value>>,
    pub resume: Option<Resume>,
}

#[derive(Clone, PartialEq, Debug, Default)]
pub struct Resume {
    /// Outermost frame first; an inlined callee's frame stacks on top of its caller's.
    pub frames: Vec<ResumeFrame>,
    pub virtuals: Vec<VirtualObject>,
    /// Current values of the virtualizable's fields and array items.
    pub vable: Vec<VableEntry>,
    /// Writes the optimizer delayed past this guard: on failure they are done (after the
    /// virtuals are allocated, in order) before the interpreter resumes.
    pub pending: Vec<PendingWrite>,
}

/// A delayed `setfield_gc(object, value, descr=d)` (`index: None`) or
/// `setarrayitem_gc(object, index, value, descr=d)`.
#[derive(Clone, PartialEq, Debug)]
pub struct PendingWrite {
    pub object: ResumeValue,
    pub descr: DescrId,
    pub index: Option<u32>,
    pub value: ResumeValue,
}

#[derive(Clone, PartialEq, Debug)]
pub struct ResumeFrame {
    /// Which code object the frame runs (a function name, or PyPy's location string).
    pub code: String,
    /// Where to resume in it (a bytecode index).
    pub pc: u32,
    pub slots: Vec<ResumeValue>,
}

#[derive(Copy, Clone, PartialEq, Debug)]
pub enum ResumeValue {
    /// An SSA value or constant of the trace.
    Value(Value),
    /// An object to allocate on guard failure.
    Virtual(VirtualId),
    /// A slot with no live value (`None`).
    Dead,
}

/// An object that exists only in resume data until the guard fails.
#[derive(Clone, PartialEq, Debug)]
pub struct VirtualObject {
    /// The name it has in the text (`$p`), if any; printing invents `$vN` otherwise.
    pub name: Option<String>,
    /// The allocation it stands for: `new`, `new_with_vtable`, `new_array`, `new_array_clear`.
    pub alloc: Opcode,
    pub descr: DescrId,
    /// Array length, for the array allocations.
    pub length: Option<u32>,
    pub fields: Vec<(FieldKey, ResumeValue)>,
}

#[derive(Copy, Clone, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
pub enum FieldKey {
    /// A field of a struct, by its field descr.
    Field(DescrId),
    /// An item of an array, by index.
    Item(u32),
}

#[derive(Clone, PartialEq, Debug)]
pub struct VableEntry {
    pub slot: VableSlot,
    pub value: ResumeValue,
}

#[derive(Copy, Clone, PartialEq, Eq, Hash, Debug)]
pub enum VableSlot {
    /// A scalar field of the frame.
    Field(DescrId),
    /// Item `index` of the array held in the frame's field (the field descr is the key).
    Item(DescrId, u32),
}

impl Resume {
    /// Every value and virtual slot mentioned anywhere, in order (frames, virtuals, vable,
    /// pending writes).
    pub fn values(&self) -> impl Iterator<Item = ResumeValue> + '_ {
        let frames = self.frames.iter().flat_map(|f| f.slots.iter().copied());
        let virts = self.virtuals.iter().flat_map(|v| v.fields.iter().map(|(_, rv)| *rv));
        let vable = self.vable.iter().map(|e| e.value);
        let pending = self.pending.iter().flat_map(|w| [w.object, w.value]);
        frames.chain(virts).chain(vable).chain(pending)
    }

    /// Rewrites every SSA value with `f` (used when a pass copies a guard into a new trace).
    pub fn map_values(&mut self, mut f: impl FnMut(Value) -> Value) {
        let mut map = |rv: &mut ResumeValue| {
            if let ResumeValue::Value(v) = rv {
                *v = f(*v);
            }
        };
        self.frames.iter_mut().flat_map(|fr| fr.slots.iter_mut()).for_each(&mut map);
        self.virtuals.iter_mut().flat_map(|vo| vo.fields.iter_mut().map(|(_, rv)| rv)).for_each(&mut map);
        self.vable.iter_mut().map(|e| &mut e.value).for_each(&mut map);
        self.pending.iter_mut().flat_map(|w| [&mut w.object, &mut w.value]).for_each(&mut map);
    }
}

impl Resume {
    /// One frame (with no code) holding `fail_args`.
    fn of_fail_args(fail_args: &[Option<Value>]) -> Resume {
        let slots = fail_args.iter().map(|v| v.map_or(ResumeValue::Dead, ResumeValue::Value)).collect();
        Resume { frames: vec![ResumeFrame { code: String::new(), pc: 0, slots }], ..Resume::default() }
    }
}

impl GuardInfo {
    /// Gives a guard without resume data one whose only frame (with no code) holds its fail
    /// args: the same state handed back (the interpreter shows it as fail args), with room for
    /// virtuals, virtualizable entries and pending writes.
    pub fn ensure_resume(&mut self) -> &mut Resume {
        let fail_args = &self.fail_args;
        self.resume.get_or_insert_with(|| Resume::of_fail_args(fail_args))
    }

    /// A copy of the guard's resume data, or the one [`ensure_resume`](GuardInfo::ensure_resume)
    /// would give it.
    pub fn resume_or_default(&self) -> Resume {
        match &self.resume {
            Some(r) => r.clone(),
            None => Resume::of_fail_args(&self.fail_args),
        }
    }

    /// Every SSA value the guard reads beyond its operands (fail args and resume data).
    pub fn values(&self) -> impl Iterator<Item = Value> + '_ {
        let fail = self.fail_args.iter().flatten().copied();
        let resume = self.resume.iter().flat_map(|r| r.values()).filter_map(|rv| match rv {
            ResumeValue::Value(v) => Some(v),
            _ => None,
        });
        fail.chain(resume)
    }

    /// `f` on every value [`values`](GuardInfo::values) gives, in the same order.
    pub fn for_each_value(&self, mut f: impl FnMut(Value)) {
        self.fail_args.iter().flatten().for_each(|&v| f(v));
        let Some(r) = &self.resume else { return };
        let mut g = |rv: &ResumeValue| {
            if let ResumeValue::Value(v) = rv {
                f(*v);
            }
        };
        r.frames.iter().for_each(|fr| fr.slots.iter().for_each(&mut g));
        r.virtuals.iter().for_each(|vo| vo.fields.iter().for_each(|(_, rv)| g(rv)));
        r.vable.iter().for_each(|e| g(&e.value));
        r.pending.iter().for_each(|w| {
            g(&w.object);
            g(&w.value);
        });
    }

    /// True if `f` holds for some value [`values`](GuardInfo::values) gives (stops at the
    /// first; plain loops, for the check every pass makes of every guard it keeps).
    pub fn any_value(&self, mut f: impl FnMut(Value) -> bool) -> bool {
        if self.fail_args.iter().any(|v| v.is_some_and(&mut f)) {
            return true;
        }
        let Some(r) = &self.resume else { return false };
        let mut g = |rv: &ResumeValue| matches!(rv, ResumeValue::Value(v) if f(*v));
        r.frames.iter().any(|fr| fr.slots.iter().any(&mut g))
            || r.virtuals.iter().any(|vo| vo.fields.iter().any(|(_, rv)| g(rv)))
            || r.vable.iter().any(|e| g(&e.value))
            || r.pending.iter().any(|w| g(&w.object) || g(&w.value))
    }

    pub fn map_values(&mut self, mut f: impl FnMut(Value) -> Value) {
        for v in self.fail_args.iter_mut().flatten() {
            *v = f(*v);
        }
        if let Some(r) = &mut self.resume {
            r.map_values(f);
        }
    }
}

/// The interpreter frames a call site belongs to: the frames of the first guard after `call`
/// that has resume data, with every slot the call site cannot know yet (a value defined at or
/// after the call, or a virtual) dead. A guard failing inside the called function resumes these
/// frames under the callee's own: the interpreter does so for `@function` calls, and `inline`
/// stacks them the same way.
pub fn call_site_frames(t: &crate::Trace, call: crate::OpId) -> Vec<ResumeFrame> {
    use crate::entity::EntityRef;
    use crate::trace::ValueDef;
    // Ops before the call, in order: what the call site knows.
    let mut before = vec![false; t.ops.id_bound()];
    let mut ops = t.ops.iter();
    for (id, _) in ops.by_ref() {
        if id == call {
            break;
        }
        before[id.index()] = true;
    }
    let Some(r) = ops.find_map(|(_, op)| op.guard().and_then(|g| g.resume.as_ref())) else {
        return Vec::new();
    };
    let known = |v: Value| match t.values[v].def {
        ValueDef::Op(o) | ValueDef::LabelParam(o, _) => before[o.index()],
        ValueDef::Input(_) | ValueDef::Const(_) => true,
    };
    r.frames
        .iter()
        .map(|f| ResumeFrame {
            code: f.code.clone(),
            pc: f.pc,
            slots: f.slots.iter().map(|s| match s {
                ResumeValue::Value(v) if known(*v) => ResumeValue::Value(*v),
                _ => ResumeValue::Dead,
            }).collect(),
        })
        .collect()
}
