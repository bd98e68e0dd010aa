//! The heap verifier, run after every collection in debug builds and in stress mode. After a
//! major collection it walks the whole heap: every object has a declared layout and fits,
//! every reference (in objects and roots) is null or the start of an old object, no collector
//! flag is left behind, and every old object is tracked by the barrier. After a minor
//! collection it checks the same of the roots and the objects just copied, which is what a
//! minor collection can have got wrong.

use super::{flags, Heap, Ref};

impl Heap {
    /// Checks the whole heap; panics with what is wrong (a collector bug, never bad input).
    pub fn verify(&self) {
        let starts = self.object_starts();
        self.verify_objects(Some(&starts), self.nursery_end, self.old_top);
    }

    /// Checks the roots and the objects in `from..old_top` (those a minor collection copied).
    /// Without the object-start map (that would make stress mode quadratic), a reference is
    /// checked to lead to an old word holding a valid, unforwarded header.
    pub(super) fn verify_after_minor(&self, from: usize) {
        self.verify_objects(None, from, self.old_top);
    }

    fn verify_objects(&self, starts: Option<&[bool]>, from: usize, to: usize) {
        assert_eq!(self.nursery_top, self.nursery_start, "nursery not empty after collection");
        let base = self.nursery_end;
        let check = |r: Ref, place: &dyn Fn() -> String| {
            let i = r.index();
            let ok = r.is_null()
                || (i >= base && i < self.old_top && match starts {
                    Some(starts) => starts[i - base],
                    None => {
                        self.layouts.get(super::LayoutId(self.mem[i] as u16)).is_some()
                            && self.mem[i] & flags::FORWARDED == 0
                    }
                });
            assert!(ok, "{}: dangling reference {}", place(), r.0);
        };
        for (i, &r) in self.roots.iter().enumerate() {
            check(r, &|| format!("root {i}"));
        }
        let mut at = from;
        while at < to {
            let header = self.mem[at];
            assert_eq!(header & (flags::FORWARDED | flags::MARKED), 0, "object {at}: stale flags");
            assert!(header & flags::TRACK_YOUNG != 0, "object {at}: not tracked by the barrier");
            let slots = self.ref_slots(at, 0, usize::MAX);
            let mut mask = slots.fixed_mask;
            while mask != 0 {
                let i = mask.trailing_zeros() as usize;
                mask &= mask - 1;
                check(Ref(self.mem[at + i] as u32), &|| format!("object {at} word {i}"));
            }
            for slot in slots.lo..slots.hi {
                check(Ref(self.mem[slot] as u32), &|| format!("object {at} item word {}", slot - at));
            }
            at += self.object_words(at);
        }
    }

    /// One flag per old-generation word: whether an object starts there.
    fn object_starts(&self) -> Vec<bool> {
        let mut starts = vec![false; self.old_top - self.nursery_end];
        let mut at = self.nursery_end;
        while at < self.old_top {
            let words = self.object_words(at);
            assert!(words >= 1 && at + words <= self.old_top, "object {at} runs past the heap");
            starts[at - self.nursery_end] = true;
            at += words;
        }
        starts
    }
}
