//! A generational, moving garbage collector, shared by interpreters built on tracelab (minipy
//! first) and, later, the code the JIT compiles for them.
//!
//! The design follows PyPy's incminimark in its shape, not its code:
//! - **Nursery**: new objects are bump-allocated in a fixed region at the start of the heap
//!   ([`Heap::alloc`] is one add and one compare). A minor collection copies the survivors
//!   (Cheney's scan) to the old generation and empties the nursery.
//! - **Old generation**: bump-allocated after the nursery; a major collection marks from the
//!   roots and slides the live objects down (Lisp-2 mark-compact), so it moves too.
//! - **Write barrier**: every old object carries [`flags::TRACK_YOUNG`]; the first reference
//!   store into it clears the flag and remembers it, so a minor collection scans only
//!   remembered objects. Large reference arrays of a card-marked layout remember 128-word cards
//!   instead of the whole array.
//! - **Roots**: one shadow stack ([`Heap::push_root`]). The interpreter's frames are heap
//!   objects reachable from it.
//!
//! References ([`Ref`]) are word indices into one `Vec<u64>`: every access is bounds-checked
//! by the vector, so a stale reference reads a wrong word but never memory the heap does not
//! own, and the collector needs no `unsafe`. Compiled code will address `base + 8 * ref`.
//!
//! **The rule that makes moving safe:** a `Ref` held in a Rust variable is valid only until
//! the next call that may allocate (anything taking `&mut Heap` that can reach [`Heap::alloc`]).
//! A reference needed after such a call is kept in the heap (a frame slot, a field of a rooted
//! object) or pushed on the shadow stack and read back from it.

mod collect;
pub mod layout;
mod verify;

pub use layout::{Items, Layout, LayoutId, Layouts};
use std::time::Duration;

/// A reference to a heap object: the index of its header word. `Ref::NULL` is no object.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Ref(pub u32);

impl Ref {
    pub const NULL: Ref = Ref(0);

    #[inline]
    pub fn is_null(self) -> bool {
        self.0 == 0
    }

    #[inline]
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// Header flag bits (bits 16..32 of word 0).
pub mod flags {
    /// An old object not yet remembered: the next reference store into it must be recorded.
    pub const TRACK_YOUNG: u64 = 1 << 16;
    /// A nursery object that was copied; bits 32..64 give its new place.
    pub const FORWARDED: u64 = 1 << 17;
    /// Marked live by the current major collection.
    pub const MARKED: u64 = 1 << 18;
    /// An old card-marked array with at least one card set (it is in the card list).
    pub const CARDS_SET: u64 = 1 << 19;
    /// An old object large enough to use cards.
    pub const HAS_CARDS: u64 = 1 << 20;
    pub const ALL: u64 = 0xffff << 16;
}

/// Words per card of a card-marked array.
pub const CARD_WORDS: usize = 128;

/// How the heap is sized and checked.
#[derive(Clone, Debug)]
pub struct GcConfig {
    /// Nursery size in words.
    pub nursery_words: usize,
    /// Objects of at least this many words are allocated old.
    pub large_words: usize,
    /// A major collection runs when the old generation has grown to this factor of what the
    /// last one left live (PyPy's `major_collection_threshold` is 1.82).
    pub major_factor: f64,
    /// The old generation size (in words) below which no major collection runs.
    pub min_major_words: usize,
    /// A minor collection at every allocation, and the verifier after every collection.
    pub stress: bool,
    /// The verifier after every collection.
    pub verify: bool,
}

impl Default for GcConfig {
    fn default() -> Self {
        GcConfig {
            nursery_words: 512 * 1024, // 4 MiB
            large_words: 16 * 1024,
            major_factor: 1.82,
            min_major_words: 4 * 1024 * 1024, // 32 MiB
            stress: false,
            verify: cfg!(debug_assertions),
        }
    }
}

impl GcConfig {
    /// The default, with stress mode on when `TRACELAB_GC_STRESS=1` is in the environment.
    pub fn from_env() -> GcConfig {
        let mut config = GcConfig::default();
        if std::env::var("TRACELAB_GC_STRESS").is_ok_and(|v| v == "1") {
            config.stress = true;
            config.verify = true;
        }
        config
    }
}

/// What the collector did, for `--gc-stats`.
#[derive(Clone, Debug, Default)]
pub struct GcStats {
    pub minor_collections: u64,
    pub major_collections: u64,
    pub bytes_allocated: u64,
    pub bytes_copied: u64,
    pub time_in_gc: Duration,
    pub longest_pause: Duration,
    pub peak_heap_bytes: u64,
}

/// The heap: the nursery, the old generation, the roots and the barrier's records.
pub struct Heap {
    mem: Vec<u64>,
    layouts: Layouts,
    nursery_start: usize,
    nursery_top: usize,
    nursery_end: usize,
    /// The old generation is `nursery_end..old_top` (`mem.len()` may be larger).
    old_top: usize,
    next_major: usize,
    remembered: Vec<Ref>,
    card_objects: Vec<Ref>,
    /// One byte per `CARD_WORDS` words of `mem`.
    cards: Vec<u8>,
    roots: Vec<Ref>,
    config: GcConfig,
    stats: GcStats,
}

/// Why an allocation failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OutOfMemory;

impl Heap {
    pub fn new(layouts: Layouts, config: GcConfig) -> Heap {
        // Word 0 is never an object, so that index 0 can be NULL.
        let nursery_start = 1;
        let nursery_end = nursery_start + config.nursery_words.max(64);
        Heap {
            mem: vec![0; nursery_end],
            layouts,
            nursery_start,
            nursery_top: nursery_start,
            nursery_end,
            old_top: nursery_end,
            next_major: config.min_major_words,
            remembered: Vec::new(),
            card_objects: Vec::new(),
            cards: Vec::new(),
            roots: Vec::new(),
            config,
            stats: GcStats::default(),
        }
    }

    pub fn layouts(&self) -> &Layouts {
        &self.layouts
    }

    pub fn stats(&self) -> &GcStats {
        &self.stats
    }

    pub fn config(&self) -> &GcConfig {
        &self.config
    }

    /// Allocates an object with `len` items (0 for a fixed layout), its words zeroed. May
    /// collect: every unrooted `Ref` the caller holds is stale afterwards.
    #[inline]
    pub fn alloc(&mut self, layout: LayoutId, len: usize) -> Result<Ref, OutOfMemory> {
        let words = self.size_for(layout, len);
        let top = self.nursery_top;
        if top + words <= self.nursery_end && !self.config.stress {
            self.nursery_top = top + words;
            self.init_object(top, layout, len, words);
            return Ok(Ref(top as u32));
        }
        self.alloc_slow(layout, len, words)
    }

    #[inline]
    fn size_for(&self, layout: LayoutId, len: usize) -> usize {
        match self.layouts.get(layout) {
            Some(l) => l.words(len),
            None => panic!("allocation of undeclared layout {}", layout.0),
        }
    }

    #[inline]
    fn init_object(&mut self, at: usize, layout: LayoutId, len: usize, words: usize) {
        self.stats.bytes_allocated += 8 * words as u64;
        self.mem[at] = layout.0 as u64;
        if self.layouts.table_has_items(layout) {
            self.mem[at + 1] = len as u64;
        }
    }

    #[cold]
    fn alloc_slow(&mut self, layout: LayoutId, len: usize, words: usize) -> Result<Ref, OutOfMemory> {
        if words >= self.config.large_words || words > self.nursery_end - self.nursery_start {
            // Collect first: the new object is not rooted until the caller stores it.
            self.maybe_major()?;
            let at = self.old_alloc(words)?;
            self.mem[at..at + words].fill(0);
            self.init_object(at, layout, len, words);
            let mut header = self.mem[at] | flags::TRACK_YOUNG;
            if self.layouts.get(layout).is_some_and(|l| l.cards) && words > CARD_WORDS {
                header |= flags::HAS_CARDS;
            }
            self.mem[at] = header;
            return Ok(Ref(at as u32));
        }
        self.collect_minor()?;
        self.maybe_major()?;
        let top = self.nursery_top;
        self.nursery_top = top + words;
        self.init_object(top, layout, len, words);
        Ok(Ref(top as u32))
    }

    /// Allocates an object directly in the old generation, zeroed. Objects allocated this way
    /// before any garbage exists, and kept rooted, form a live prefix of the old generation
    /// that sliding compaction never moves: prebuilt constants may keep their `Ref`s.
    pub fn alloc_old(&mut self, layout: LayoutId, len: usize) -> Result<Ref, OutOfMemory> {
        let words = self.size_for(layout, len);
        let at = self.old_alloc(words)?;
        self.mem[at..at + words].fill(0);
        self.init_object(at, layout, len, words);
        self.mem[at] |= flags::TRACK_YOUNG;
        if self.layouts.get(layout).is_some_and(|l| l.cards) && words > CARD_WORDS {
            self.mem[at] |= flags::HAS_CARDS;
        }
        Ok(Ref(at as u32))
    }

    /// Room for `words` words at the end of the old generation (contents unspecified).
    fn old_alloc(&mut self, words: usize) -> Result<usize, OutOfMemory> {
        let at = self.old_top;
        let end = at.checked_add(words).filter(|&e| e <= u32::MAX as usize).ok_or(OutOfMemory)?;
        if end > self.mem.len() {
            let grown = (self.mem.len() * 2).max(end).min(u32::MAX as usize);
            self.mem.resize(grown, 0);
            self.cards.resize(grown.div_ceil(CARD_WORDS), 0);
            self.stats.peak_heap_bytes = self.stats.peak_heap_bytes.max(8 * grown as u64);
        }
        self.old_top = end;
        Ok(at)
    }

    // ---- reading and writing objects ----

    #[inline]
    pub fn layout_of(&self, r: Ref) -> LayoutId {
        LayoutId(self.mem[r.index()] as u16)
    }

    /// Word `i` of `r` (the header is word 0).
    #[inline]
    pub fn word(&self, r: Ref, i: usize) -> u64 {
        self.mem[r.index() + i]
    }

    /// Writes a word that is not a reference (no barrier).
    #[inline]
    pub fn set_word(&mut self, r: Ref, i: usize, w: u64) {
        self.mem[r.index() + i] = w;
    }

    #[inline]
    pub fn field(&self, r: Ref, i: usize) -> Ref {
        Ref(self.mem[r.index() + i] as u32)
    }

    /// Writes a reference into fixed word `i` or item word `i` of `r`, with the write barrier.
    #[inline]
    pub fn set_field(&mut self, r: Ref, i: usize, v: Ref) {
        let at = r.index();
        let header = self.mem[at];
        if header & flags::TRACK_YOUNG != 0 {
            self.barrier_slow(r, header, at + i);
        }
        self.mem[at + i] = v.0 as u64;
    }

    #[cold]
    fn barrier_slow(&mut self, r: Ref, header: u64, slot: usize) {
        if header & flags::HAS_CARDS != 0 {
            self.cards[slot / CARD_WORDS] = 1;
            if header & flags::CARDS_SET == 0 {
                self.mem[r.index()] = header | flags::CARDS_SET;
                self.card_objects.push(r);
            }
        } else {
            self.mem[r.index()] = header & !flags::TRACK_YOUNG;
            self.remembered.push(r);
        }
    }

    /// The write barrier's slow path for a reference already stored (by compiled code) into
    /// word `i` of `r`, whose header has [`flags::TRACK_YOUNG`]: remembers `r` (or its card).
    pub fn remember_store(&mut self, r: Ref, i: usize) {
        let header = self.mem[r.index()];
        if header & flags::TRACK_YOUNG != 0 {
            self.barrier_slow(r, header, r.index() + i);
        }
    }

    /// The item count of an object with a variable part.
    #[inline]
    pub fn len(&self, r: Ref) -> usize {
        self.mem[r.index() + 1] as usize
    }

    /// Sets the item count of `r` without moving or reallocating it; `len` must not exceed
    /// the count it was allocated with (shrinking tuples and strings built in place).
    pub fn shrink(&mut self, r: Ref, len: usize) {
        let old = self.len(r);
        debug_assert!(len <= old);
        self.mem[r.index() + 1] = len.min(old) as u64;
    }

    /// The words of `r` from `from` to its end (items of a `Words`/`Refs` object).
    pub fn words(&self, r: Ref, from: usize, n: usize) -> &[u64] {
        &self.mem[r.index() + from..r.index() + from + n]
    }

    pub fn words_mut(&mut self, r: Ref, from: usize, n: usize) -> &mut [u64] {
        &mut self.mem[r.index() + from..r.index() + from + n]
    }

    /// The bytes of a `Bytes` object whose items start at fixed word `fixed`.
    pub fn bytes(&self, r: Ref, fixed: usize) -> &[u8] {
        let n = self.len(r);
        let words = &self.mem[r.index() + fixed..r.index() + fixed + n.div_ceil(8)];
        &bytemuck::cast_slice(words)[..n]
    }

    pub fn bytes_mut(&mut self, r: Ref, fixed: usize) -> &mut [u8] {
        let n = self.len(r);
        let words = &mut self.mem[r.index() + fixed..r.index() + fixed + n.div_ceil(8)];
        &mut bytemuck::cast_slice_mut(words)[..n]
    }

    /// Copies `n` reference words from `src` to `dst` (which may be the same object, the
    /// ranges overlapping), with the write barrier on `dst`.
    pub fn copy_refs(&mut self, src: Ref, from: usize, dst: Ref, to: usize, n: usize) {
        if n == 0 {
            return;
        }
        let header = self.mem[dst.index()];
        if header & flags::TRACK_YOUNG != 0 {
            if header & flags::HAS_CARDS != 0 {
                for slot in (dst.index() + to..dst.index() + to + n).step_by(CARD_WORDS).chain([dst.index() + to + n - 1]) {
                    self.barrier_slow(dst, self.mem[dst.index()], slot);
                }
            } else {
                self.barrier_slow(dst, header, dst.index() + to);
            }
        }
        let s = src.index() + from;
        self.mem.copy_within(s..s + n, dst.index() + to);
    }

    /// Whether `r` is in the nursery (young).
    pub fn is_young(&self, r: Ref) -> bool {
        (self.nursery_start..self.nursery_end).contains(&r.index())
    }

    // ---- roots ----

    /// Pushes a root and returns its slot; [`Heap::root`] reads its current place.
    #[inline]
    pub fn push_root(&mut self, r: Ref) -> usize {
        self.roots.push(r);
        self.roots.len() - 1
    }

    #[inline]
    pub fn root(&self, slot: usize) -> Ref {
        self.roots[slot]
    }

    #[inline]
    pub fn set_root(&mut self, slot: usize, r: Ref) {
        self.roots[slot] = r;
    }

    /// The number of roots: a scope saves it and [`Heap::pop_roots`] back to it.
    #[inline]
    pub fn root_count(&self) -> usize {
        self.roots.len()
    }

    #[inline]
    pub fn pop_roots(&mut self, count: usize) {
        self.roots.truncate(count);
    }

    /// The heap's words, for compiled code: where they start and how many there are. Valid
    /// until the next allocation (the heap may grow and move); code reading through the
    /// pointer must check every index against the length.
    pub fn raw_words(&mut self) -> (*mut u64, usize) {
        (self.mem.as_mut_ptr(), self.mem.len())
    }

    pub fn stats_heap_bytes(&self) -> u64 {
        8 * self.old_top as u64
    }

    fn record_pause(&mut self, pause: Duration) {
        self.stats.time_in_gc += pause;
        self.stats.longest_pause = self.stats.longest_pause.max(pause);
    }
}

impl Layouts {
    fn table_has_items(&self, id: LayoutId) -> bool {
        self.get(id).is_some_and(Layout::has_items)
    }
}

#[cfg(test)]
mod tests;
