//! A trace's ops: their data by stable id, and their order kept apart (Cranelift's data-flow
//! graph and `Layout`).
//!
//! An [`OpId`] names an op for as long as the trace lives; where the op stands is a doubly
//! linked list over ids. So an op can be inserted anywhere or taken out in constant time
//! without renumbering anything, and a value's `ValueDef::Op(id)` stays true through every
//! edit. An op taken out of the order keeps its data (its id is never reused); only ops in the
//! order are iterated, counted by [`Ops::len`] and executed. Tables indexed by op id are sized
//! by [`Ops::id_bound`], not by `len`. [`Trace::compacted`](crate::Trace::compacted) renumbers
//! ops and values in order once a pipeline is done.
//!
//! Invariant: `first`, `last` and the links describe one list holding exactly the ops marked
//! `placed`, `len` of them.

use crate::entity::{Arena, EntityRef};
use crate::trace::{Op, OpId};
use std::ops::{Index, IndexMut};

#[derive(Copy, Clone, Default, Debug)]
struct Link {
    prev: Option<OpId>,
    next: Option<OpId>,
    placed: bool,
}

/// Where an op goes when it is placed.
#[derive(Copy, Clone, PartialEq, Eq, Debug)]
pub enum Place {
    Before(OpId),
    After(OpId),
    /// Before every op.
    Front,
    /// After every op.
    End,
}

#[derive(Clone, Default)]
pub struct Ops {
    data: Arena<OpId, Op>,
    links: Vec<Link>,
    first: Option<OpId>,
    last: Option<OpId>,
    len: usize,
}

impl Ops {
    pub fn new() -> Ops {
        Ops::default()
    }

    pub fn with_capacity(n: usize) -> Ops {
        Ops { data: Arena::with_capacity(n), links: Vec::with_capacity(n), ..Ops::default() }
    }

    /// Ops in the order.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// One more than the largest op id handed out: the size of a table indexed by op id.
    pub fn id_bound(&self) -> usize {
        self.data.len()
    }

    /// Room for `n` more ops without moving the ones there (a pass about to add many).
    pub fn reserve(&mut self, n: usize) {
        self.data.reserve(n);
        self.links.reserve(n);
    }

    /// `ops` in this order, with ids 0, 1, ...
    pub fn from_ordered(ops: Vec<Op>) -> Ops {
        let len = ops.len();
        let id = |i: usize| (i < len).then(|| OpId::new(i));
        let links = (0..len).map(|i| Link { prev: i.checked_sub(1).map(OpId::new), next: id(i + 1), placed: true }).collect();
        Ops { data: Arena::from_vec(ops), links, first: id(0), last: len.checked_sub(1).map(OpId::new), len }
    }

    /// Puts back an earlier state: `order` is the order, ops allocated from `id_bound` on go.
    pub fn restore(&mut self, order: &[OpId], id_bound: usize) {
        self.data.truncate(id_bound);
        self.links.clear();
        self.links.resize(id_bound, Link::default());
        (self.first, self.last, self.len) = (None, None, 0);
        for &id in order {
            self.place(id, Place::End);
        }
    }

    /// Appends `op` at the end of the order.
    pub fn push(&mut self, op: Op) -> OpId {
        let id = self.alloc(op);
        self.place(id, Place::End);
        id
    }

    /// Stores `op` under a fresh id, outside the order (see [`Ops::place`]).
    pub fn alloc(&mut self, op: Op) -> OpId {
        self.links.push(Link::default());
        self.data.push(op)
    }

    /// The id the next [`alloc`](Ops::alloc) hands out.
    pub fn next_id(&self) -> OpId {
        OpId::new(self.data.len())
    }

    /// Puts op `id`, which is not in the order, at `place`.
    pub fn place(&mut self, id: OpId, place: Place) {
        assert!(!self.links[id.index()].placed, "{id:?} is already in the order");
        let (prev, next) = match place {
            Place::Before(at) => (self.link(at).prev, Some(at)),
            Place::After(at) => (Some(at), self.link(at).next),
            Place::Front => (None, self.first),
            Place::End => (self.last, None),
        };
        self.links[id.index()] = Link { prev, next, placed: true };
        match prev {
            Some(p) => self.links[p.index()].next = Some(id),
            None => self.first = Some(id),
        }
        match next {
            Some(n) => self.links[n.index()].prev = Some(id),
            None => self.last = Some(id),
        }
        self.len += 1;
    }

    /// Takes op `id` out of the order; its data stays, under the same id.
    pub fn unlink(&mut self, id: OpId) {
        let Link { prev, next, placed } = self.links[id.index()];
        assert!(placed, "{id:?} is not in the order");
        match prev {
            Some(p) => self.links[p.index()].next = next,
            None => self.first = next,
        }
        match next {
            Some(n) => self.links[n.index()].prev = prev,
            None => self.last = prev,
        }
        self.links[id.index()] = Link::default();
        self.len -= 1;
    }

    fn link(&self, id: OpId) -> Link {
        let l = self.links[id.index()];
        assert!(l.placed, "{id:?} is not in the order");
        l
    }

    pub fn is_placed(&self, id: OpId) -> bool {
        self.links.get(id.index()).is_some_and(|l| l.placed)
    }

    pub fn first(&self) -> Option<OpId> {
        self.first
    }

    pub fn last(&self) -> Option<OpId> {
        self.last
    }

    /// The op after `id` in the order.
    pub fn next(&self, id: OpId) -> Option<OpId> {
        self.link(id).next
    }

    /// The op before `id` in the order.
    pub fn prev(&self, id: OpId) -> Option<OpId> {
        self.link(id).prev
    }

    /// An op's data, whether or not it is in the order.
    pub fn get(&self, id: OpId) -> Option<&Op> {
        self.data.get(id)
    }

    /// Ids in order.
    pub fn keys(&self) -> impl DoubleEndedIterator<Item = OpId> + ExactSizeIterator + '_ {
        self.iter().map(|(id, _)| id)
    }

    /// Ops in order.
    pub fn values(&self) -> impl DoubleEndedIterator<Item = &Op> + ExactSizeIterator + '_ {
        self.iter().map(|(_, op)| op)
    }

    /// Ids and ops in order.
    pub fn iter(&self) -> Iter<'_> {
        Iter { ops: self, front: self.first, back: self.last, left: self.len }
    }

    /// The ops in the order, in no particular order (by id): for walks that only count or
    /// collect, a plain slice walk.
    pub fn unordered(&self) -> impl Iterator<Item = (OpId, &Op)> + '_ {
        self.data.iter().zip(&self.links).filter(|(_, l)| l.placed).map(|((id, op), _)| (id, op))
    }

    /// Ids and ops after op `id`, in order.
    pub fn iter_after(&self, id: OpId) -> impl Iterator<Item = (OpId, &Op)> + '_ {
        std::iter::successors(self.next(id), |&i| self.next(i)).map(|i| (i, &self.data[i]))
    }

    /// The ops in order, moved out (their ids go with the old numbering).
    pub fn into_ordered(self) -> Vec<Op> {
        let order = self.ids();
        let mut data = self.data.into_vec();
        // Each op in the order is taken once; what is left in its place (an op without
        // operands, allocated nowhere) is dropped with the ops no longer in the order.
        order.into_iter().map(|id| std::mem::replace(&mut data[id.index()], Op::new(crate::Opcode::Finish, &[]))).collect()
    }

    /// Ids in order, collected: for walks that change ops as they go.
    pub fn ids(&self) -> Vec<OpId> {
        self.keys().collect()
    }
}

/// Walks [`Ops`] in order, from either end.
pub struct Iter<'a> {
    ops: &'a Ops,
    front: Option<OpId>,
    back: Option<OpId>,
    left: usize,
}

impl<'a> Iterator for Iter<'a> {
    type Item = (OpId, &'a Op);
    fn next(&mut self) -> Option<(OpId, &'a Op)> {
        if self.left == 0 {
            return None;
        }
        let id = self.front?;
        self.left -= 1;
        self.front = self.ops.links[id.index()].next;
        Some((id, &self.ops.data[id]))
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl DoubleEndedIterator for Iter<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        if self.left == 0 {
            return None;
        }
        let id = self.back?;
        self.left -= 1;
        self.back = self.ops.links[id.index()].prev;
        Some((id, &self.ops.data[id]))
    }
}

impl ExactSizeIterator for Iter<'_> {}

impl Index<OpId> for Ops {
    type Output = Op;
    fn index(&self, id: OpId) -> &Op {
        &self.data[id]
    }
}

impl IndexMut<OpId> for Ops {
    fn index_mut(&mut self, id: OpId) -> &mut Op {
        &mut self.data[id]
    }
}

/// Equal when the same ids hold the same ops in the same order (ops out of the order do not
/// count).
impl PartialEq for Ops {
    fn eq(&self, other: &Ops) -> bool {
        self.len == other.len && self.iter().zip(other.iter()).all(|(a, b)| a == b)
    }
}

impl std::fmt::Debug for Ops {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Opcode;

    fn order(ops: &Ops) -> Vec<usize> {
        ops.keys().map(|id| id.index()).collect()
    }

    #[test]
    fn inserts_and_unlinks_anywhere_keeping_ids() {
        let mut ops = Ops::new();
        let a = ops.push(Op::new(Opcode::IntAdd, &[]));
        let b = ops.push(Op::new(Opcode::IntSub, &[]));
        let c = ops.alloc(Op::new(Opcode::IntMul, &[]));
        ops.place(c, Place::Before(b));
        let d = ops.alloc(Op::new(Opcode::IntAnd, &[]));
        ops.place(d, Place::Front);
        assert_eq!(order(&ops), [3, 0, 2, 1]);
        ops.unlink(a);
        assert_eq!(order(&ops), [3, 2, 1]);
        assert_eq!(ops.iter().rev().map(|(id, _)| id.index()).collect::<Vec<_>>(), [1, 2, 3]);
        assert_eq!(ops[c].opcode, Opcode::IntMul);
        assert!(!ops.is_placed(a) && ops.is_placed(c));
        assert_eq!((ops.len(), ops.id_bound()), (3, 4));
        ops.unlink(d);
        ops.unlink(b);
        ops.unlink(c);
        assert!(ops.is_empty() && ops.first().is_none() && ops.last().is_none());
    }

    #[test]
    fn iterating_from_both_ends_meets_in_the_middle() {
        let mut ops = Ops::new();
        for _ in 0..5 {
            ops.push(Op::new(Opcode::IntAdd, &[]));
        }
        let mut it = ops.keys();
        let got: Vec<usize> = [it.next(), it.next_back(), it.next(), it.next_back(), it.next(), it.next()].iter().map(|o| o.map_or(99, |i| i.index())).collect();
        assert_eq!(got, [0, 4, 1, 3, 2, 99]);
    }
}
