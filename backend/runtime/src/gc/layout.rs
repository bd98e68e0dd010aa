//! Object layouts, declared once and read by the allocator, the collector, the verifier and
//! (later) compiled code.
//!
//! Every object starts with a header word: bits 0..16 its [`LayoutId`], bits 16..32 GC flags,
//! bits 32..64 a word index the collector uses while it moves the object (its forwarding
//! address). An object with a variable part keeps its item count in word 1 and its items from
//! its `fixed` words on, so arrays read as the IR's heap has them (length at byte 8).

/// Index of a layout in a [`Layouts`] table (the low 16 bits of every header).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LayoutId(pub u16);

/// What an object's variable part holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Items {
    /// No variable part: the object is `fixed` words long.
    None,
    /// References, one word each (the collector traces them).
    Refs,
    /// Raw words.
    Words,
    /// Raw bytes, packed eight to a word.
    Bytes,
}

/// The shape of one kind of object.
#[derive(Clone, Debug)]
pub struct Layout {
    pub name: &'static str,
    /// Words before the variable part, the header (and length word, if any) included.
    pub fixed: u32,
    /// Bit `i` set when fixed word `i` holds a reference.
    pub ref_words: u64,
    pub items: Items,
    /// Large instances of this layout use card marking in the old generation.
    pub cards: bool,
}

impl Layout {
    pub const fn fixed(name: &'static str, fixed: u32, ref_words: u64) -> Layout {
        Layout { name, fixed, ref_words, items: Items::None, cards: false }
    }

    pub const fn var(name: &'static str, fixed: u32, ref_words: u64, items: Items) -> Layout {
        Layout { name, fixed, ref_words, items, cards: false }
    }

    /// Size in words of an object of this layout with `len` items.
    #[inline]
    pub fn words(&self, len: usize) -> usize {
        let var = match self.items {
            Items::None => 0,
            Items::Refs | Items::Words => len,
            Items::Bytes => len.div_ceil(8),
        };
        self.fixed as usize + var
    }

    pub fn has_items(&self) -> bool {
        self.items != Items::None
    }
}

/// The table of layouts one heap knows. Id 0 is the filler the heap starts with.
#[derive(Clone, Debug)]
pub struct Layouts {
    table: Vec<Layout>,
}

impl Default for Layouts {
    fn default() -> Self {
        Layouts { table: vec![Layout::fixed("filler", 1, 0)] }
    }
}

impl Layouts {
    /// Declares a layout. Card-marked layouts hold references only in their items.
    pub fn declare(&mut self, layout: Layout) -> LayoutId {
        debug_assert!(layout.fixed >= 1 && layout.fixed < 64);
        debug_assert!(layout.ref_words & 1 == 0, "the header is not a reference");
        debug_assert!(!layout.has_items() || layout.fixed >= 2, "word 1 is the length");
        debug_assert!(!layout.cards || (layout.items == Items::Refs && layout.ref_words == 0));
        let id = LayoutId(self.table.len() as u16);
        self.table.push(layout);
        id
    }

    #[inline]
    pub fn get(&self, id: LayoutId) -> Option<&Layout> {
        self.table.get(id.0 as usize)
    }

    pub fn len(&self) -> usize {
        self.table.len()
    }

    pub fn is_empty(&self) -> bool {
        self.table.is_empty()
    }
}
