//! What minipy's runtime helpers read and write, as call descrs in tracelab's text format, so
//! that a trace calling them states it (PyPy's `EffectInfo`, which its logs do not print).
//!
//! [`declarations`] gives one `descr` line per heap field and array kind of minipy's layouts
//! (names `minipy.LAYOUT.FIELD`, offsets from `layout.rs`, `P` for references, `S` for words)
//! and one call descr per helper in [`HELPERS`], with its effect class, read and write sets and
//! whether it may collect. The JIT's recording context emits calls with these descrs; the
//! optimizer (`ir::effects`) then keeps what a helper cannot touch: a list append does not
//! make an instance's attribute load stale, a dict lookup by an exact `str` key writes only the
//! key's hash cache. A helper that may run Python code (a lookup whose key defines `__eq__`)
//! states nothing, which is the conservative answer.
//!
//! The array descrs name memory kinds (the items of a `REFARRAY`, `WORDARRAY`, a str's
//! bytes); their offsets follow the IR's array convention (length at 8, items at 16), which
//! minipy's `REFARRAY`/`WORDARRAY` share; a str's bytes start at word 4, so its descr is used
//! only as an effect class until compiled code reads GC objects directly (issue #19).

use crate::helpers as H;
use crate::layout as L;
use crate::vm::{Res, Vm};

/// A heap field as traces name it: descr name (`minipy.NAME`), word index, and its kind
/// letter in a descr (`S` a word, `P` a reference, `F` a float).
#[derive(Debug)]
pub struct Field {
    pub name: &'static str,
    pub word: usize,
    pub kind: char,
}

macro_rules! fields {
    ($($id:ident = $name:literal, $word:expr, $kind:literal;)*) => {
        $(pub const $id: Field = Field { name: $name, word: $word, kind: $kind };)*
        /// Every field a trace may name.
        pub const FIELDS: &[&Field] = &[$(&$id),*];
    };
}

fields! {
    INT_VALUE = "int.value", L::VALUE, 'S';
    FLOAT_VALUE = "float.value", L::VALUE, 'F';
    STR_CHARS = "str.chars", L::STR_CHARS, 'S';
    STR_HASH = "str.hash", L::STR_HASH, 'S';
    LIST_LEN = "list.len", L::LIST_LEN, 'S';
    LIST_STORAGE = "list.storage", L::LIST_STORAGE, 'P';
    DICT_LIVE = "dict.live", L::DICT_LIVE, 'S';
    DICT_USED = "dict.used", L::DICT_USED, 'S';
    DICT_ENTRIES = "dict.entries", L::DICT_ENTRIES, 'P';
    DICT_INDEX = "dict.index", L::DICT_INDEX, 'P';
    DICT_HASHES = "dict.hashes", L::DICT_HASHES, 'P';
    INST_CLASS = "instance.class", L::INST_CLASS, 'P';
    INST_MAP = "instance.map", L::INST_MAP, 'S';
    INST_STORAGE = "instance.storage", L::INST_STORAGE, 'P';
    ITER_KIND = "iter.kind", L::ITER_KIND, 'S';
    ITER_SOURCE = "iter.source", L::ITER_SOURCE, 'P';
    ITER_POS = "iter.pos", L::ITER_POS, 'S';
    ITER_END = "iter.end", L::ITER_END, 'S';
    RANGE_START = "range.start", 1, 'S';
    RANGE_STEP = "range.step", 3, 'S';
    FRAME_GLOBALS = "frame.globals", L::FRAME_GLOBALS, 'P';
    CELL_VALUE = "cell.value", L::CELL_VALUE, 'P';
    FUNC_CODE = "function.code", L::FUNC_CODE, 'S';
    FUNC_GLOBALS = "function.globals", L::FUNC_GLOBALS, 'P';
}

/// Array kinds: descr name and literal. `refarray.items` is what [`crate::exec::Exec::item`]
/// reads.
pub const ARRAYS: &[(&str, &str)] = &[("refarray.items", "<ArrayP 8>"), ("wordarray.items", "<ArrayS 8>"), ("str.bytes", "<ArrayU 1>")];

/// What a helper does, as the interpreter runs it: arguments and result are words (a
/// reference as its index, an int as its bits, 0 for no result).
pub type HelperFn = fn(&mut Vm, &[u64]) -> Res<u64>;

/// A runtime helper as a trace calls it.
pub struct Helper {
    pub name: &'static str,
    /// The descr literal's head: result kind and size, argument kinds, effect class.
    pub signature: &'static str,
    /// Field and array descrs it may read and write (`None`: not stated, anything).
    pub reads: Option<&'static [&'static str]>,
    pub writes: Option<&'static [&'static str]>,
    pub collects: bool,
    /// Whether it may raise (a trace checks `guard_no_exception` after it).
    pub raises: bool,
    /// Calling it again after it gave a result a guard rejects may be right: an exhausted
    /// iterator stays exhausted, so a guard that fails on null may resume before the call
    /// (a guard that fails on a value resumes after it: `Exec::iter_exhausted`).
    pub rerun_safe: bool,
    pub run: HelperFn,
    pub what: &'static str,
}

const LIST: &[&str] = &["list.len", "list.storage", "refarray.items"];
const DICT: &[&str] = &["dict.live", "dict.used", "dict.entries", "dict.index", "dict.hashes", "refarray.items", "wordarray.items"];
const DICT_STR_READS: &[&str] = &[
    "dict.live", "dict.used", "dict.entries", "dict.index", "dict.hashes", "refarray.items", "wordarray.items", "str.chars",
    "str.hash", "str.bytes",
];

macro_rules! helper {
    ($id:ident, $name:literal, $sig:literal, $reads:expr, $writes:expr, collects $c:literal, raises $r:literal, $run:expr, $what:literal) => {
        pub const $id: Helper =
            Helper { name: $name, signature: $sig, reads: $reads, writes: $writes, collects: $c, raises: $r, rerun_safe: false, run: $run, what: $what };
    };
}

// Helpers that may run Python code (a dunder method, `__eq__` of a key) state no read or write
// set: the conservative answer. None is elidable: a helper that makes an object gives a new one
// each time (`[]` in a loop), and a lookup's answer changes when a class or dict does. The integer arguments after the references are green operands
// of the bytecode (an operator, a symbol), constants in a trace.
helper!(CALL_KW, "call_kw", "Callr 8 rr EF=5", None, None, collects true, raises true, H::call_kw, "callee(args...) with the last len(names) of them keywords: callee, names, then the arguments");
helper!(MAKE_FUNCTION, "make_function", "Callr 8 rrrrr EF=5", Some(&["int.value"]), Some(&[]), collects true, raises true, H::make_function, "a function object: code number, closure, keyword and positional defaults (null when absent), globals");
helper!(LIST_APPEND, "list_append", "Callv 0 rr EF=2", Some(LIST), Some(LIST), collects true, raises false, H::list_append, "list.append(v): may grow the storage (copying it)");
helper!(DICT_LOOKUP_STR, "dict_lookup_str", "Callr 8 rr EF=2", Some(DICT_STR_READS), Some(&["str.hash"]), collects false, raises false, H::dict_lookup_str, "d[k] for an exact str key: null when absent; caches the key's hash");
helper!(STORE_GLOBAL, "store_global", "Callv 0 rrr EF=2", Some(DICT_STR_READS), Some(DICT), collects true, raises false, H::store_global, "globals[name] = v for a name (an exact str): may rebuild the table");
helper!(LOAD_GLOBAL, "load_global", "Callr 8 ri EF=5", Some(DICT_STR_READS), Some(&[]), collects true, raises true, H::load_global, "a global or builtin by symbol; NameError when neither has it");
helper!(BINARY, "binary", "Callr 8 rri EF=5", None, None, collects true, raises true, H::binary, "a binary operator on any operands (operator number * 2 + in-place)");
helper!(COMPARE, "compare", "Callr 8 rri EF=5", None, None, collects true, raises true, H::compare, "a comparison on any operands");
helper!(UNARY, "unary", "Callr 8 ri EF=5", None, None, collects true, raises true, H::unary, "a unary operator on any operand");
helper!(CONTAINS, "contains", "Calli 8 rr EF=5", None, None, collects true, raises true, H::contains, "item in container: 0 or 1");
helper!(TRUTHY, "truthy", "Calli 8 r EF=5", None, None, collects true, raises true, H::truthy, "the truth of any object (__bool__, __len__): 0 or 1");
helper!(CLASS_SHADOWS_ATTR, "class_shadows_attr", "Calli 8 ri EF=2", None, Some(&[]), collects false, raises false, H::class_shadows_attr, "whether an instance's class defines a descriptor (a property) for the name, which then decides access: 0 or 1");
helper!(GETATTR, "getattr", "Callr 8 ri EF=5", None, None, collects true, raises true, H::getattr, "obj.name by symbol");
helper!(SETATTR, "setattr", "Callv 0 rir EF=5", None, None, collects true, raises true, H::setattr, "obj.name = v by symbol");
helper!(METHOD_ON_CLASS, "method_on_class", "Callr 8 ri EF=2", None, Some(&[]), collects false, raises false, H::method_on_class, "the plain function obj.name(...) calls when an instance's class defines it and the instance does not shadow it, else null");
helper!(GETITEM, "getitem", "Callr 8 rr EF=5", None, None, collects true, raises true, H::getitem, "obj[key]");
helper!(SETITEM, "setitem", "Callv 0 rrr EF=5", None, None, collects true, raises true, H::setitem, "obj[key] = v");
helper!(GET_ITER, "get_iter", "Callr 8 r EF=5", None, None, collects true, raises true, H::get_iter, "iter(obj)");
/// `next(it)`, null when exhausted: a trace guards on the result, and asking an exhausted
/// iterator again gives null again.
pub const ITER_NEXT: Helper = Helper {
    name: "iter_next",
    signature: "Callr 8 r EF=5",
    reads: None,
    writes: None,
    collects: true,
    raises: true,
    rerun_safe: true,
    run: H::iter_next,
    what: "next(it), null when exhausted",
};
helper!(CALL, "call", "Callr 8 r EF=5", None, None, collects true, raises true, H::call, "callee(args...) with positional arguments; a Python function runs in a nested interpreter");
helper!(BUILD_TUPLE, "build_tuple", "Callr 8 r EF=2", Some(&[]), Some(&[]), collects true, raises false, H::build_tuple, "a tuple of the arguments");
helper!(BUILD_SLICE, "build_slice", "Callr 8 rrr EF=2", Some(&[]), Some(&[]), collects true, raises false, H::build_slice, "a slice object start:stop:step");
helper!(BUILD_LIST, "build_list", "Callr 8 r EF=2", Some(&[]), Some(&[]), collects true, raises false, H::build_list, "a list of the arguments");

/// Every helper a trace may call.
pub const HELPERS: &[&Helper] = &[
    &LIST_APPEND, &DICT_LOOKUP_STR, &STORE_GLOBAL, &LOAD_GLOBAL, &BINARY, &COMPARE, &UNARY, &CONTAINS, &TRUTHY, &CLASS_SHADOWS_ATTR, &GETATTR, &SETATTR,
    &METHOD_ON_CLASS, &GETITEM, &SETITEM, &GET_ITER, &ITER_NEXT, &CALL, &BUILD_TUPLE, &BUILD_SLICE, &BUILD_LIST, &MAKE_FUNCTION, &CALL_KW,
];

impl Helper {
    /// Whether it may change memory the program can see (its write set is not empty).
    pub fn has_effects(&self) -> bool {
        !matches!(self.writes, Some(w) if w.is_empty())
    }
}

fn set_text(names: &[&str]) -> String {
    format!("({})", names.iter().map(|n| format!("minipy.{n}")).collect::<Vec<_>>().join(", "))
}

/// The call descr literal of a helper.
pub fn call_descr(h: &Helper) -> String {
    let mut text = format!("<{}", h.signature);
    if let Some(r) = h.reads {
        text.push_str(&format!(" reads={}", set_text(r)));
    }
    if let Some(w) = h.writes {
        text.push_str(&format!(" writes={}", set_text(w)));
    }
    text.push_str(&format!(" collects={} invalidates=0>", h.collects as u8));
    text
}

/// The `descr` declarations of minipy's fields, arrays and helpers, in tracelab's text format.
pub fn declarations() -> String {
    let mut out = String::from("; minipy's heap layouts and runtime helpers (frontends/minipy/src/effects.rs)\n");
    for f in FIELDS {
        out.push_str(&format!("descr minipy.{} = <Field{} minipy.{} {}>\n", f.name, f.kind, f.name, f.word * 8));
    }
    // Boxed ints and floats: what a trace allocates (header and value).
    for (name, class) in [("int", "minipy.int"), ("float", "minipy.float")] {
        out.push_str(&format!("descr minipy.{name}.size = <SizeDescr 16 class={class}>\n"));
    }
    for (name, literal) in ARRAYS {
        out.push_str(&format!("descr minipy.{name} = {literal}\n"));
    }
    for h in HELPERS {
        out.push_str(&format!("; {}\ndescr minipy.call.{} = {}\n", h.what, h.name, call_descr(h)));
    }
    out
}
