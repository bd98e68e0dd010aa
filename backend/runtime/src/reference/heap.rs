//! The runtime heap: one region of memory that interpreted and (later) compiled traces share.
//!
//! Layout (the same for every client, documented in ARCHITECTURE.md):
//! - every object starts with a header word: its class id (`new_with_vtable`, `guard_class`),
//!   0 for plain structs;
//! - struct fields sit at their descr's byte offset from the object start (offsets include the
//!   header, as PyPy's do), `size` bytes wide (8 when the descr does not say, or 1 at an
//!   offset that is not word-aligned: PyPy's bool and char fields);
//! - arrays and strings: header, length word at offset 8, items from offset 16 (strings 1 byte
//!   per char, unicode 4);
//! - addresses are real addresses: the region is allocated once and never moves, so compiled
//!   code can use a ref as a pointer. Allocation is [`Heap::alloc`], a bump allocator: the one
//!   place a GC will plug in.
//!
//! Objects whose layout the trace does not know (trace inputs and named `ConstPtr`s, as in
//! PyPy's logs) are *lazy*: a block of [`LAZY_SIZE`] bytes whose words are invented on first
//! read, deterministically from the object's origin and the seed (see `interp`).

pub const HEADER: u64 = 0;
pub const LENGTH_OFFSET: u64 = 8;
pub const ITEMS_OFFSET: u64 = 16;
/// Bytes reserved for an object of unknown layout.
pub const LAZY_SIZE: u64 = 2048;

/// Per byte of the heap, whether an access starting there may go straight to memory (what
/// compiled code checks before a load or store; see `interp::Machine`, which keeps it true):
/// the value is defined, so reading memory gives what the interpreter would give.
pub const SHADOW_SLOW: u8 = 0;
/// Reads may go to memory; writes must go through the runtime (they are recorded).
pub const SHADOW_READ: u8 = 1;
/// Reads and writes may go to memory (an object the trace allocated).
pub const SHADOW_READ_WRITE: u8 = 2;
/// The length word of an array the trace allocated with items of `1 << k` bytes is marked
/// `SHADOW_ARRAY_LENGTH + k` (reads and writes may go to memory too): compiled code indexes
/// such an array directly when its access has the same item size.
pub const SHADOW_ARRAY_LENGTH: u8 = 0x10;

/// The shadow mark of an allocated array's length word, for items of `item_size` bytes.
pub fn array_length_mark(item_size: u64) -> u8 {
    if item_size.is_power_of_two() && item_size <= 128 {
        SHADOW_ARRAY_LENGTH + item_size.trailing_zeros() as u8
    } else {
        SHADOW_READ_WRITE
    }
}

/// Zeroed memory reached only through raw pointers: compiled code reads and writes it while the
/// runtime holds the [`Heap`], so no Rust reference to its bytes may be alive across a run of
/// compiled code. Allocated with `alloc_zeroed` (fresh zero pages for large sizes, so untouched
/// memory costs nothing) and never moved.
struct RawRegion {
    ptr: std::ptr::NonNull<u8>,
    len: usize,
}

impl RawRegion {
    fn new(len: usize) -> RawRegion {
        let layout = Self::layout(len);
        // SAFETY: the layout has a non-zero size (at least one word).
        let raw = unsafe { std::alloc::alloc_zeroed(layout) };
        let Some(ptr) = std::ptr::NonNull::new(raw) else { std::alloc::handle_alloc_error(layout) };
        RawRegion { ptr, len }
    }

    fn layout(len: usize) -> std::alloc::Layout {
        std::alloc::Layout::from_size_align(len.max(8), 8).unwrap_or_else(|_| std::alloc::Layout::new::<u64>())
    }

    fn addr(&self) -> u64 {
        self.ptr.as_ptr() as u64
    }

    fn get(&self, at: usize) -> u8 {
        assert!(at < self.len, "byte {at} outside a region of {}", self.len);
        // SAFETY: in bounds (checked above) of a live allocation of initialized (zeroed) bytes.
        unsafe { self.ptr.as_ptr().add(at).read() }
    }

    fn set(&mut self, at: usize, v: u8) {
        assert!(at < self.len, "byte {at} outside a region of {}", self.len);
        // SAFETY: in bounds (checked above) of a live allocation; u8 has no invalid values.
        unsafe { self.ptr.as_ptr().add(at).write(v) }
    }

    fn fill(&mut self, range: std::ops::Range<usize>, v: u8) {
        let end = range.end.min(self.len);
        if range.start < end {
            // SAFETY: `range.start..end` lies inside the allocation (clamped to its length).
            unsafe { self.ptr.as_ptr().add(range.start).write_bytes(v, end - range.start) }
        }
    }
}

impl Drop for RawRegion {
    fn drop(&mut self) {
        // SAFETY: allocated in `new` with this very layout, and freed once.
        unsafe { std::alloc::dealloc(self.ptr.as_ptr(), Self::layout(self.len)) }
    }
}

// SAFETY: a `RawRegion` owns its allocation like a `Box<[u8]>` does; mutation needs `&mut`.
unsafe impl Send for RawRegion {}
// SAFETY: shared access only reads.
unsafe impl Sync for RawRegion {}

/// A bump-allocated region of 8-byte words, its shadow (one byte per heap byte) and colour map,
/// all raw memory that compiled code reaches by address. A zero word follows the last object:
/// an access starting in an object stays in the region.
pub struct Heap {
    words: RawRegion,
    /// Words allocated so far (word 0 is never handed out).
    top: usize,
    /// Bytes allocated so far (`8 * top`), in memory of its own that compiled code reads by
    /// address ([`Heap::limit_address`]).
    limit: RawRegion,
    /// Per heap byte: may an access starting there go straight to memory (`SHADOW_*`).
    shadow: RawRegion,
    /// Per allocated byte, its object's colour (1..=255, consecutive objects differ; 0 after
    /// the last object): compiled code checks that a field lies in the object its base points
    /// into by comparing two colours.
    color: RawRegion,
    next_color: u8,
}

#[derive(Debug, Clone, PartialEq)]
pub enum HeapError {
    OutOfMemory,
    /// An access outside every object the heap holds.
    BadAddress(u64),
}

impl Heap {
    /// A heap of `bytes` bytes (rounded up to whole words).
    pub fn new(bytes: usize) -> Heap {
        // Word 0 is never handed out, so that no object has address `base` + 0 = a null-ish base.
        // The regions are zeroed pages reserved up front: a run pays only for the memory it
        // touches (zeroing a whole 64 MB region per run was most of a short run's time).
        let words = bytes.div_ceil(8).max(2) + 1;
        let mut heap = Heap {
            words: RawRegion::new(words * 8),
            top: 1,
            limit: RawRegion::new(8),
            shadow: RawRegion::new(words * 8),
            color: RawRegion::new(words * 8 + 8),
            next_color: 1,
        };
        heap.set_limit(8);
        heap
    }

    pub fn base(&self) -> u64 {
        self.words.addr()
    }

    /// Bytes of the region in use: the objects and the zero word after them.
    pub fn len(&self) -> u64 {
        (self.top as u64 + 1) * 8
    }

    pub fn is_empty(&self) -> bool {
        false
    }

    /// The shadow's first byte (shadow byte `k` describes heap byte `base + k`, for `k` below
    /// the limit).
    pub fn shadow_base(&self) -> u64 {
        self.shadow.addr()
    }

    /// The colour map's first byte (see `color`).
    pub fn color_base(&self) -> u64 {
        self.color.addr()
    }

    /// Where the count of allocated bytes lives (it changes as objects are allocated).
    pub fn limit_address(&self) -> u64 {
        self.limit.addr()
    }

    fn set_limit(&mut self, bytes: u64) {
        for (i, b) in bytes.to_le_bytes().into_iter().enumerate() {
            self.limit.set(i, b);
        }
    }

    /// Marks `len` bytes from `addr` (inside the region) with `state`.
    pub fn set_shadow(&mut self, addr: u64, len: u64, state: u8) {
        let start = (addr - self.base()) as usize;
        let end = (start + len as usize).min(8 * self.top);
        self.shadow.fill(start..end, state);
    }

    pub fn contains(&self, addr: u64) -> bool {
        addr >= self.base() && addr < self.base() + 8 * self.top as u64
    }

    /// Allocates `bytes` zeroed bytes (word-aligned); the address of the first.
    pub fn alloc(&mut self, bytes: u64) -> Result<u64, HeapError> {
        let n = (bytes.max(8)).div_ceil(8) as usize;
        if self.top + n + 1 > self.words.len / 8 {
            return Err(HeapError::OutOfMemory);
        }
        let addr = self.base() + 8 * self.top as u64;
        self.top += n;
        self.set_limit(8 * self.top as u64);
        let start = (addr - self.base()) as usize;
        self.color.fill(start..start + bytes.max(8) as usize, self.next_color);
        self.next_color = self.next_color % 255 + 1;
        Ok(addr)
    }

    fn locate(&self, addr: u64, size: u64) -> Result<usize, HeapError> {
        // The first byte must be allocated; an access may run past the last object into the
        // rest of the region (zeros), as compiled code's direct accesses do.
        if !self.contains(addr) || addr + size.max(1) > self.base() + self.len() {
            return Err(HeapError::BadAddress(addr));
        }
        Ok((addr - self.base()) as usize)
    }

    /// Reads `size` bytes (1, 2, 4 or 8) little-endian, zero-extended.
    pub fn read(&self, addr: u64, size: u64) -> Result<u64, HeapError> {
        let off = self.locate(addr, size)?;
        let mut v = 0u64;
        for i in (0..size as usize).rev() {
            v = (v << 8) | self.words.get(off + i) as u64;
        }
        Ok(v)
    }

    /// Writes the low `size` bytes of `value` little-endian.
    pub fn write(&mut self, addr: u64, size: u64, value: u64) -> Result<(), HeapError> {
        let off = self.locate(addr, size)?;
        for i in 0..size as usize {
            self.words.set(off + i, (value >> (8 * i)) as u8);
        }
        Ok(())
    }

    /// Zeroes `len` bytes from `addr`.
    pub fn zero(&mut self, addr: u64, len: u64) -> Result<(), HeapError> {
        for i in 0..len {
            self.write(addr + i, 1, 0)?;
        }
        Ok(())
    }
}

pub use tracelab_ir::eval::sign_extend;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alloc_read_write() {
        let mut h = Heap::new(1024);
        let a = h.alloc(24).unwrap();
        let b = h.alloc(8).unwrap();
        assert_eq!(b, a + 24);
        h.write(a + 8, 8, 0x1122334455667788).unwrap();
        assert_eq!(h.read(a + 8, 8).unwrap(), 0x1122334455667788);
        assert_eq!(h.read(a + 8, 1).unwrap(), 0x88);
        h.write(a + 17, 1, 0xff).unwrap();
        assert_eq!(sign_extend(h.read(a + 17, 1).unwrap(), 1), u64::MAX);
        assert!(h.read(a + 10_000, 8).is_err());
        // Past the last object but inside the region: zeros, as compiled code reads them.
        assert_eq!(h.read(b + 4, 8).unwrap(), 0);
        assert_eq!(h.alloc(1 << 20), Err(HeapError::OutOfMemory));
    }
}
