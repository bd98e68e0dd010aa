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

/// A bump-allocated region of 8-byte words.
pub struct Heap {
    words: Vec<u64>,
    top: usize,
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
        Heap { words: vec![0; bytes.div_ceil(8).max(2)], top: 1 }
    }

    pub fn base(&self) -> u64 {
        self.words.as_ptr() as u64
    }

    pub fn contains(&self, addr: u64) -> bool {
        addr >= self.base() && addr < self.base() + 8 * self.top as u64
    }

    /// Allocates `bytes` zeroed bytes (word-aligned); the address of the first.
    pub fn alloc(&mut self, bytes: u64) -> Result<u64, HeapError> {
        let n = (bytes.max(8)).div_ceil(8) as usize;
        if self.top + n > self.words.len() {
            return Err(HeapError::OutOfMemory);
        }
        let addr = self.base() + 8 * self.top as u64;
        self.top += n;
        Ok(addr)
    }

    fn locate(&self, addr: u64, size: u64) -> Result<usize, HeapError> {
        if !self.contains(addr) || !self.contains(addr + size.max(1) - 1) {
            return Err(HeapError::BadAddress(addr));
        }
        Ok((addr - self.base()) as usize)
    }

    /// Reads `size` bytes (1, 2, 4 or 8) little-endian, zero-extended.
    pub fn read(&self, addr: u64, size: u64) -> Result<u64, HeapError> {
        let off = self.locate(addr, size)?;
        let bytes = as_bytes(&self.words);
        let mut v = 0u64;
        for i in (0..size as usize).rev() {
            v = (v << 8) | bytes[off + i] as u64;
        }
        Ok(v)
    }

    /// Writes the low `size` bytes of `value` little-endian.
    pub fn write(&mut self, addr: u64, size: u64, value: u64) -> Result<(), HeapError> {
        let off = self.locate(addr, size)?;
        let bytes = as_bytes_mut(&mut self.words);
        for i in 0..size as usize {
            bytes[off + i] = (value >> (8 * i)) as u8;
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

fn as_bytes(words: &[u64]) -> &[u8] {
    // SAFETY: u64 has no padding and any byte pattern is a valid u8; the slice covers exactly
    // the words' memory and lives as long as the borrow.
    unsafe { std::slice::from_raw_parts(words.as_ptr().cast::<u8>(), words.len() * 8) }
}

fn as_bytes_mut(words: &mut [u64]) -> &mut [u8] {
    // SAFETY: as in `as_bytes`, and the borrow is unique.
    unsafe { std::slice::from_raw_parts_mut(words.as_mut_ptr().cast::<u8>(), words.len() * 8) }
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
        assert_eq!(h.alloc(1 << 20), Err(HeapError::OutOfMemory));
    }
}
