//! The heap layouts of minipy's objects, declared once (here) and used by the interpreter, the
//! GC and, later, traces. A builtin object's class is its layout id (word 0), so a trace can
//! guard on it with one compare; instances of user classes share [`INSTANCE`] and keep their
//! class in word 1 and their attributes in a storage array indexed by a shared map (hidden
//! class, [`crate::maps`]).
//!
//! Field indices are word indices (byte offset / 8), the same numbers a descr will carry.

use tracelab_runtime::gc::{Items, Layout, LayoutId, Layouts};

macro_rules! layouts {
    ($($id:ident = $n:expr => $layout:expr;)*) => {
        $(pub const $id: LayoutId = LayoutId($n);)*
        /// Declares every layout, in id order.
        pub fn declare() -> Layouts {
            let mut l = Layouts::default();
            $( let id = l.declare($layout); debug_assert_eq!(id, $id); )*
            l
        }
        pub fn name_of(id: LayoutId) -> &'static str {
            match id { $( $id => stringify!($id), )* _ => "?" }
        }
    };
}

/// Bit mask of reference words.
const fn refs(words: &[u32]) -> u64 {
    let mut m = 0;
    let mut i = 0;
    while i < words.len() {
        m |= 1 << words[i];
        i += 1;
    }
    m
}

layouts! {
    NONE = 1 => Layout::fixed("NoneType", 1, 0);
    BOOL = 2 => Layout::fixed("bool", 2, 0);
    INT = 3 => Layout::fixed("int", 2, 0);
    LONG = 4 => Layout::var("int", 3, 0, Items::Words);
    FLOAT = 5 => Layout::fixed("float", 2, 0);
    STR = 6 => Layout::var("str", 4, 0, Items::Bytes);
    TUPLE = 7 => Layout::var("tuple", 2, 0, Items::Refs);
    LIST = 8 => Layout::fixed("list", 3, refs(&[2]));
    REFARRAY = 9 => Layout { cards: true, ..Layout::var("refarray", 2, 0, Items::Refs) };
    WORDARRAY = 10 => Layout::var("wordarray", 2, 0, Items::Words);
    DICT = 11 => Layout::fixed("dict", 6, refs(&[3, 4, 5]));
    SET = 12 => Layout::fixed("set", 6, refs(&[3, 5]));
    FUNCTION = 13 => Layout::fixed("function", 9, refs(&[2, 3, 4, 5, 6, 7, 8]));
    BUILTIN = 14 => Layout::fixed("builtin_function_or_method", 3, refs(&[2]));
    METHOD = 15 => Layout::fixed("method", 3, refs(&[1, 2]));
    CELL = 16 => Layout::fixed("cell", 2, refs(&[1]));
    TYPE = 17 => Layout::fixed("type", 8, refs(&[1, 2, 3, 4, 7]));
    INSTANCE = 18 => Layout::fixed("object", 5, refs(&[1, 3]));
    MODULE = 19 => Layout::fixed("module", 3, refs(&[1, 2]));
    FRAME = 20 => Layout::var("frame", 11, refs(&[5, 6, 7, 8, 10]), Items::Refs);
    GENERATOR = 21 => Layout::fixed("generator", 5, refs(&[1, 3, 4]));
    SLICE = 22 => Layout::fixed("slice", 4, refs(&[1, 2, 3]));
    RANGE = 23 => Layout::fixed("range", 4, 0);
    ITER = 24 => Layout::fixed("iterator", 6, refs(&[2, 5]));
    DESCRIPTOR = 25 => Layout::fixed("descriptor", 5, refs(&[2, 3, 4]));
    STRINGIO = 26 => Layout::fixed("StringIO", 3, refs(&[1]));
    FILE = 27 => Layout::fixed("file", 4, refs(&[3]));
    ARRAY = 28 => Layout::fixed("array", 4, refs(&[3]));
    ELLIPSIS = 29 => Layout::fixed("ellipsis", 1, 0);
    NOTIMPL = 30 => Layout::fixed("NotImplementedType", 1, 0);
}

// ---- field indices ----

/// `INT`/`BOOL`: the value; `FLOAT`: its bits.
pub const VALUE: usize = 1;
/// `LONG`: sign (0 or 1); magnitude digits (u64, little-endian) from word 3.
pub const LONG_SIGN: usize = 2;
pub const LONG_DIGITS: usize = 3;
/// `STR`: byte length (word 1), code points, cached hash (0: not computed), bytes from 4.
pub const STR_CHARS: usize = 2;
pub const STR_HASH: usize = 3;
pub const STR_BYTES: usize = 4;
/// `TUPLE`, `REFARRAY`, `WORDARRAY`: length (word 1), items from word 2.
pub const ITEMS: usize = 2;
/// `LIST`: length, storage (`REFARRAY`, capacity = its length).
pub const LIST_LEN: usize = 1;
pub const LIST_STORAGE: usize = 2;
/// `DICT`: live entries, entries used, entries (`REFARRAY` of key/value pairs in
/// insertion order, a deleted key null), index (`WORDARRAY`, a power of two: entry + 1 per
/// slot, 0 when empty), hashes (`WORDARRAY`, one per entry).
pub const DICT_LIVE: usize = 1;
pub const DICT_USED: usize = 2;
pub const DICT_ENTRIES: usize = 3;
pub const DICT_INDEX: usize = 4;
pub const DICT_HASHES: usize = 5;
/// `SET` (see [`crate::set`]): live keys, filled slots (live + deleted), keys (`REFARRAY`,
/// one per slot, a power of two), the pop finger, hashes (`WORDARRAY`, one per slot).
pub const SET_LIVE: usize = 1;
pub const SET_FILL: usize = 2;
pub const SET_KEYS: usize = 3;
pub const SET_FINGER: usize = 4;
pub const SET_HASHES: usize = 5;
/// `FUNCTION`.
pub const FUNC_CODE: usize = 1;
pub const FUNC_GLOBALS: usize = 2;
pub const FUNC_DEFAULTS: usize = 3;
pub const FUNC_KWDEFAULTS: usize = 4;
pub const FUNC_CLOSURE: usize = 5;
pub const FUNC_NAME: usize = 6;
pub const FUNC_QUALNAME: usize = 7;
pub const FUNC_DICT: usize = 8;
/// `BUILTIN`: builtin id, bound self (or null).
pub const BUILTIN_ID: usize = 1;
pub const BUILTIN_SELF: usize = 2;
/// `METHOD`.
pub const METHOD_FUNC: usize = 1;
pub const METHOD_SELF: usize = 2;
/// `CELL`.
pub const CELL_VALUE: usize = 1;
/// `TYPE`: name, base, dict, mro (tuple), layout of instances (word), flags (word), slots.
pub const TYPE_NAME: usize = 1;
pub const TYPE_BASE: usize = 2;
pub const TYPE_DICT: usize = 3;
pub const TYPE_MRO: usize = 4;
pub const TYPE_INSTANCE_LAYOUT: usize = 5;
pub const TYPE_FLAGS: usize = 6;
pub const TYPE_SLOTS: usize = 7;
/// `INSTANCE`: class, map id (word), storage (`REFARRAY`).
pub const INST_CLASS: usize = 1;
pub const INST_MAP: usize = 2;
pub const INST_STORAGE: usize = 3;
/// `INSTANCE`: identity number for `hash`/`id` (0 until first asked: addresses move).
pub const INST_ID: usize = 4;
/// `MODULE`.
pub const MODULE_NAME: usize = 1;
pub const MODULE_DICT: usize = 2;
/// `FRAME` (the virtualizable): slot count (word 1), code id, pc, stack pointer, caller,
/// globals, namespace (class bodies), function, handled-exception base, constants (a tuple:
/// the code's constants, then its names); slots from word 11: locals, cells, value stack.
pub const FRAME_CODE: usize = 2;
pub const FRAME_PC: usize = 3;
pub const FRAME_SP: usize = 4;
pub const FRAME_BACK: usize = 5;
pub const FRAME_GLOBALS: usize = 6;
pub const FRAME_NAMESPACE: usize = 7;
pub const FRAME_FUNC: usize = 8;
pub const FRAME_HANDLED: usize = 9;
pub const FRAME_CONSTS: usize = 10;
pub const FRAME_SLOTS: usize = 11;
/// `GENERATOR`: frame, state (word), name.
pub const GEN_FRAME: usize = 1;
pub const GEN_STATE: usize = 2;
pub const GEN_NAME: usize = 3;
/// The value the generator returned (null until then, and once taken).
pub const GEN_RETURN: usize = 4;
/// `SLICE`: start, stop, step; `RANGE`: start, stop, step (words).
pub const SLICE_START: usize = 1;
pub const SLICE_STOP: usize = 2;
pub const SLICE_STEP: usize = 3;
/// `ITER`: kind (word), source, position (word), end or step (word), extra.
pub const ITER_KIND: usize = 1;
pub const ITER_SOURCE: usize = 2;
pub const ITER_POS: usize = 3;
pub const ITER_END: usize = 4;
pub const ITER_EXTRA: usize = 5;
/// `DESCRIPTOR`: kind (word: property, staticmethod, classmethod), three references.
pub const DESC_KIND: usize = 1;
pub const DESC_A: usize = 2;
pub const DESC_B: usize = 3;
pub const DESC_C: usize = 4;
/// `STRINGIO`: the text written so far (a list of str), then nothing else; `FILE`: file
/// table index, mode flags, pending text (a list of str).
pub const SIO_PARTS: usize = 1;
pub const SIO_POS: usize = 2;
pub const FILE_ID: usize = 1;
pub const FILE_MODE: usize = 2;
pub const FILE_TEXT: usize = 3;
/// `ARRAY`: typecode (word), length (word), storage (`WORDARRAY`).
pub const ARRAY_TYPECODE: usize = 1;
pub const ARRAY_LEN: usize = 2;
pub const ARRAY_STORAGE: usize = 3;
