//! Minor collections (copy the nursery's survivors, Cheney's scan) and major collections
//! (mark, then slide the old generation down: Lisp-2 mark-compact).

use super::{flags, Heap, Items, OutOfMemory, Ref, CARD_WORDS};
use std::time::Instant;

const FORWARD_SHIFT: u32 = 32;

impl Heap {
    /// Copies every live nursery object to the old generation and empties the nursery.
    pub fn collect_minor(&mut self) -> Result<(), OutOfMemory> {
        let start = Instant::now();
        let scan_from = self.old_top;
        for i in 0..self.roots.len() {
            let r = self.roots[i];
            self.roots[i] = self.evacuate(r)?;
        }
        for r in std::mem::take(&mut self.remembered) {
            self.scan_refs(r.index(), 0, usize::MAX)?;
            self.mem[r.index()] |= flags::TRACK_YOUNG;
        }
        for r in std::mem::take(&mut self.card_objects) {
            self.scan_cards(r)?;
        }
        let mut scan = scan_from;
        while scan < self.old_top {
            let words = self.object_words(scan);
            self.scan_refs(scan, 0, usize::MAX)?;
            scan += words;
        }
        self.mem[self.nursery_start..self.nursery_top].fill(0);
        self.nursery_top = self.nursery_start;
        self.stats.minor_collections += 1;
        self.stats.bytes_copied += 8 * (self.old_top - scan_from) as u64;
        self.record_pause(start.elapsed());
        if self.config.verify {
            self.verify_after_minor(scan_from);
        }
        Ok(())
    }

    /// Runs a major collection if the old generation has grown past its threshold (or always
    /// in stress mode, every 1024 minor collections). The nursery must be empty or is emptied.
    pub(super) fn maybe_major(&mut self) -> Result<(), OutOfMemory> {
        let used = self.old_top - self.nursery_end;
        let stress_due = self.config.stress && self.stats.minor_collections % 1024 == 1;
        if used > self.next_major || stress_due {
            self.collect_major()?;
        }
        Ok(())
    }

    /// A full collection: empties the nursery, then marks and compacts the old generation.
    pub fn collect_major(&mut self) -> Result<(), OutOfMemory> {
        if self.nursery_top != self.nursery_start || !self.remembered.is_empty() {
            self.collect_minor()?;
        }
        let start = Instant::now();
        self.mark();
        self.compute_forwarding();
        self.update_references();
        let live_end = self.slide();
        self.old_top = live_end;
        let live = live_end - self.nursery_end;
        let grown = (live as f64 * self.config.major_factor) as usize;
        self.next_major = grown.max(self.config.min_major_words);
        self.stats.major_collections += 1;
        self.record_pause(start.elapsed());
        if self.config.verify {
            self.verify();
        }
        Ok(())
    }

    /// The size in words of the object whose header is at `at`.
    pub(super) fn object_words(&self, at: usize) -> usize {
        let header = self.mem[at];
        let layout = match self.layouts.get(super::LayoutId(header as u16)) {
            Some(l) => l,
            None => panic!("heap corrupted: word {at} has no valid layout ({header:#x})"),
        };
        let len = if layout.has_items() { self.mem[at + 1] as usize } else { 0 };
        layout.words(len)
    }

    /// Calls `visit` on the index of every reference word of the object at `at` within item
    /// range `items_from..items_to`.
    pub(super) fn ref_slots(&self, at: usize, items_from: usize, items_to: usize) -> RefSlots {
        let header = self.mem[at];
        let layout = &self.layouts.get(super::LayoutId(header as u16)).expect("valid layout");
        let mut fixed_mask = layout.ref_words;
        let (mut lo, mut hi) = (0, 0);
        if layout.items == Items::Refs {
            let len = self.mem[at + 1] as usize;
            let base = at + layout.fixed as usize;
            lo = base + items_from.min(len);
            hi = base + items_to.min(len);
        }
        if items_from != 0 {
            fixed_mask = 0;
        }
        RefSlots { at, fixed_mask, lo, hi }
    }

    fn scan_refs(&mut self, at: usize, from: usize, to: usize) -> Result<(), OutOfMemory> {
        let slots = self.ref_slots(at, from, to);
        let mut mask = slots.fixed_mask;
        while mask != 0 {
            let i = mask.trailing_zeros() as usize;
            mask &= mask - 1;
            let r = Ref(self.mem[slots.at + i] as u32);
            self.mem[slots.at + i] = self.evacuate(r)?.0 as u64;
        }
        for slot in slots.lo..slots.hi {
            let r = Ref(self.mem[slot] as u32);
            self.mem[slot] = self.evacuate(r)?.0 as u64;
        }
        Ok(())
    }

    fn scan_cards(&mut self, r: Ref) -> Result<(), OutOfMemory> {
        let at = r.index();
        let fixed = self.layouts.get(super::LayoutId(self.mem[at] as u16)).map_or(2, |l| l.fixed as usize);
        let end = at + self.object_words(at);
        let first_card = (at + fixed) / CARD_WORDS;
        for card in first_card..=(end - 1) / CARD_WORDS {
            if self.cards[card] == 0 {
                continue;
            }
            self.cards[card] = 0;
            let lo = (card * CARD_WORDS).max(at + fixed) - (at + fixed);
            let hi = ((card + 1) * CARD_WORDS).min(end) - (at + fixed);
            self.scan_refs(at, lo, hi)?;
        }
        self.mem[at] &= !flags::CARDS_SET;
        Ok(())
    }

    /// The place of `r` after this minor collection: copied out if young, else unchanged.
    fn evacuate(&mut self, r: Ref) -> Result<Ref, OutOfMemory> {
        if !self.is_young(r) {
            return Ok(r);
        }
        let at = r.index();
        let header = self.mem[at];
        if header & flags::FORWARDED != 0 {
            return Ok(Ref((header >> FORWARD_SHIFT) as u32));
        }
        let words = self.object_words(at);
        let to = self.old_alloc(words)?;
        self.mem.copy_within(at..at + words, to);
        let layout = super::LayoutId(header as u16);
        let mut new_header = header | flags::TRACK_YOUNG;
        if self.layouts.get(layout).is_some_and(|l| l.cards) && words > CARD_WORDS {
            new_header |= flags::HAS_CARDS;
        }
        self.mem[to] = new_header;
        self.mem[at] = flags::FORWARDED | ((to as u64) << FORWARD_SHIFT) | (header & 0xffff);
        Ok(Ref(to as u32))
    }

    // ---- major ----

    fn mark(&mut self) {
        let mut stack: Vec<usize> = Vec::new();
        for i in 0..self.roots.len() {
            let r = self.roots[i];
            self.mark_one(r, &mut stack);
        }
        while let Some(at) = stack.pop() {
            let slots = self.ref_slots(at, 0, usize::MAX);
            let mut mask = slots.fixed_mask;
            while mask != 0 {
                let i = mask.trailing_zeros() as usize;
                mask &= mask - 1;
                let r = Ref(self.mem[slots.at + i] as u32);
                self.mark_one(r, &mut stack);
            }
            for slot in slots.lo..slots.hi {
                let r = Ref(self.mem[slot] as u32);
                self.mark_one(r, &mut stack);
            }
        }
    }

    fn mark_one(&mut self, r: Ref, stack: &mut Vec<usize>) {
        if r.is_null() {
            return;
        }
        let at = r.index();
        if self.mem[at] & flags::MARKED == 0 {
            self.mem[at] |= flags::MARKED;
            stack.push(at);
        }
    }

    /// Gives every marked object its place after sliding, in bits 32..64 of its header.
    fn compute_forwarding(&mut self) {
        let mut to = self.nursery_end;
        let mut at = self.nursery_end;
        while at < self.old_top {
            let words = self.object_words(at);
            if self.mem[at] & flags::MARKED != 0 {
                self.mem[at] = (self.mem[at] & 0xffff_ffff) | ((to as u64) << FORWARD_SHIFT);
                to += words;
            }
            at += words;
        }
    }

    fn forwarded(&self, r: Ref) -> Ref {
        if r.is_null() {
            return r;
        }
        Ref((self.mem[r.index()] >> FORWARD_SHIFT) as u32)
    }

    fn update_references(&mut self) {
        for i in 0..self.roots.len() {
            self.roots[i] = self.forwarded(self.roots[i]);
        }
        let mut at = self.nursery_end;
        while at < self.old_top {
            let words = self.object_words(at);
            if self.mem[at] & flags::MARKED != 0 {
                let slots = self.ref_slots(at, 0, usize::MAX);
                let mut mask = slots.fixed_mask;
                while mask != 0 {
                    let i = mask.trailing_zeros() as usize;
                    mask &= mask - 1;
                    self.mem[at + i] = self.forwarded(Ref(self.mem[at + i] as u32)).0 as u64;
                }
                for slot in slots.lo..slots.hi {
                    self.mem[slot] = self.forwarded(Ref(self.mem[slot] as u32)).0 as u64;
                }
            }
            at += words;
        }
    }

    /// Moves every marked object to its forwarding place; returns the new end.
    fn slide(&mut self) -> usize {
        let mut at = self.nursery_end;
        let mut end = self.nursery_end;
        while at < self.old_top {
            let words = self.object_words(at);
            let header = self.mem[at];
            if header & flags::MARKED != 0 {
                let to = (header >> FORWARD_SHIFT) as usize;
                self.mem.copy_within(at..at + words, to);
                let kept = header & 0xffff_ffff & !(flags::MARKED | flags::CARDS_SET);
                self.mem[to] = kept | flags::TRACK_YOUNG;
                end = to + words;
            }
            at += words;
        }
        end
    }
}

pub(super) struct RefSlots {
    pub(super) at: usize,
    pub(super) fixed_mask: u64,
    pub(super) lo: usize,
    pub(super) hi: usize,
}
