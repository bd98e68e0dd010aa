//! Facts about a whole module that passes and frontends ask per op, computed in one walk:
//! which labels other traces enter (*open* labels) and which guards have bridges.
//!
//! A label entered only by fall-through and by jumps of its own trace is *closed*: facts about
//! SSA values defined before it stay true after it. A guard with a bridge keeps its fail args
//! (they are the bridge's inputs) and leaves nothing pending (the bridge goes on from memory as
//! it is). Both answers assume the module holds every trace that enters its labels.

use crate::entity::EntityRef;
use crate::trace::{Module, Op, OpId, Target, TraceId, TraceKind};
use rustc_hash::{FxHashMap, FxHashSet};

#[derive(Clone, Debug, Default, PartialEq)]
pub struct ModuleFacts {
    /// Labels a jump in another trace enters.
    pub open_labels: FxHashSet<Target>,
    /// Ids of the guards a bridge of the module leaves from.
    pub bridged_guards: FxHashSet<u64>,
}

impl ModuleFacts {
    /// One walk over the module's ops (for labels; a jump is a trace's last op), none for a
    /// module of one trace.
    pub fn of(m: &Module) -> ModuleFacts {
        let open_labels = if m.traces.len() < 2 { FxHashSet::default() } else { open_labels(m) };
        let bridged_guards = m
            .traces
            .values()
            .filter_map(|t| match t.kind {
                TraceKind::Bridge { guard } => Some(guard),
                _ => None,
            })
            .collect();
        ModuleFacts { open_labels, bridged_guards }
    }

    /// `op` is a label another trace enters.
    pub fn is_open_label(&self, op: &Op) -> bool {
        !self.open_labels.is_empty() && op.label().is_some_and(|l| self.open_labels.contains(&l.token))
    }

    /// `op` is a guard with a bridge.
    pub fn is_bridged(&self, op: &Op) -> bool {
        !self.bridged_guards.is_empty() && op.guard().and_then(|g| g.id).is_some_and(|id| self.bridged_guards.contains(&id))
    }
}

/// Labels a jump of another trace enters (with one trace, none: no label is entered from
/// elsewhere, and the walk over every op is spared).
fn open_labels(m: &Module) -> FxHashSet<Target> {
    let mut owner = FxHashMap::default();
    for (tid, t) in m.traces.iter() {
        for l in t.ops.unordered().filter_map(|(_, op)| op.label()) {
            owner.insert(l.token, tid);
        }
    }
    let mut open = FxHashSet::default();
    for (tid, t) in m.traces.iter() {
        if let Some(target) = t.last_op().and_then(|op| op.jump_target()) {
            if owner.get(&target).is_some_and(|&o| o != tid) {
                open.insert(target);
            }
        }
    }
    open
}

/// Where each label and each named trace is, and each trace's ops by position: lookups per
/// jump, per call and per step without a walk over the module. Built from a module that no
/// longer changes (an interpreter's, a backend's), whose runs count ops by position in the
/// order (see [`crate::layout`]).
#[derive(Clone, Debug, Default)]
pub struct ModuleIndex {
    labels: FxHashMap<Target, (TraceId, OpId)>,
    by_name: FxHashMap<String, TraceId>,
    /// Per trace: position → op.
    order: Vec<Vec<OpId>>,
    /// Per trace: op id → position (`u32::MAX` for an op out of the order).
    position: Vec<Vec<u32>>,
}

impl ModuleIndex {
    pub fn of(m: &Module) -> ModuleIndex {
        let mut index = ModuleIndex::default();
        for (tid, t) in m.traces.iter() {
            index.by_name.entry(t.name.clone()).or_insert(tid);
            for (oid, l) in t.labels() {
                index.labels.entry(l.token).or_insert((tid, oid));
            }
            let order = t.ops.ids();
            let mut position = vec![u32::MAX; t.ops.id_bound()];
            for (k, id) in order.iter().enumerate() {
                position[id.index()] = k as u32;
            }
            index.order.push(order);
            index.position.push(position);
        }
        index
    }

    /// The op at position `pc` of trace `t`.
    pub fn op_at(&self, t: TraceId, pc: usize) -> Option<OpId> {
        self.order.get(t.index())?.get(pc).copied()
    }

    /// The position of op `op` of trace `t` (`None` if it is not in the order).
    pub fn position(&self, t: TraceId, op: OpId) -> Option<usize> {
        self.position.get(t.index())?.get(op.index()).filter(|&&p| p != u32::MAX).map(|&p| p as usize)
    }

    /// The label with token `token`: its trace and op.
    pub fn label(&self, token: Target) -> Option<(TraceId, OpId)> {
        self.labels.get(&token).copied()
    }

    /// The first trace named `name`.
    pub fn trace(&self, name: &str) -> Option<TraceId> {
        self.by_name.get(name).copied()
    }
}
