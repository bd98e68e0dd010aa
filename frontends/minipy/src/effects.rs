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

use crate::layout as L;

/// A heap field: descr name, owner layout name, word index, whether it holds a reference.
const FIELDS: &[(&str, usize, bool)] = &[
    ("int.value", L::VALUE, false),
    ("float.value", L::VALUE, false),
    ("str.chars", L::STR_CHARS, false),
    ("str.hash", L::STR_HASH, false),
    ("list.len", L::LIST_LEN, false),
    ("list.storage", L::LIST_STORAGE, true),
    ("dict.live", L::DICT_LIVE, false),
    ("dict.used", L::DICT_USED, false),
    ("dict.entries", L::DICT_ENTRIES, true),
    ("dict.index", L::DICT_INDEX, true),
    ("dict.hashes", L::DICT_HASHES, true),
    ("instance.class", L::INST_CLASS, true),
    ("instance.map", L::INST_MAP, false),
    ("instance.storage", L::INST_STORAGE, true),
];

/// Array kinds: descr name and literal.
const ARRAYS: &[(&str, &str)] = &[("refarray.items", "<ArrayP 8>"), ("wordarray.items", "<ArrayS 8>"), ("str.bytes", "<ArrayU 1>")];

/// A runtime helper as a trace calls it.
pub struct Helper {
    pub name: &'static str,
    /// The descr literal's head: result kind and size, argument kinds, effect class.
    pub signature: &'static str,
    /// Field and array descrs it may read and write (`None`: not stated, anything).
    pub reads: Option<&'static [&'static str]>,
    pub writes: Option<&'static [&'static str]>,
    pub collects: bool,
    pub what: &'static str,
}

const LIST: &[&str] = &["list.len", "list.storage", "refarray.items"];
const DICT: &[&str] = &["dict.live", "dict.used", "dict.entries", "dict.index", "dict.hashes", "refarray.items", "wordarray.items"];
const DICT_STR_READS: &[&str] = &[
    "dict.live", "dict.used", "dict.entries", "dict.index", "dict.hashes", "refarray.items", "wordarray.items", "str.chars",
    "str.hash", "str.bytes",
];
const STR: &[&str] = &["str.chars", "str.hash", "str.bytes"];

/// The helpers the interpreter calls that a trace will call too.
pub const HELPERS: &[Helper] = &[
    Helper { name: "list_append", signature: "Callv 0 rr EF=2", reads: Some(LIST), writes: Some(LIST), collects: true, what: "list.append(v): may grow the storage (copying it)" },
    Helper { name: "list_getitem", signature: "Callr 8 ri EF=5", reads: Some(LIST), writes: Some(&[]), collects: true, what: "l[i]: raises IndexError (allocating it) when out of range" },
    Helper { name: "list_setitem", signature: "Callv 0 rir EF=5", reads: Some(&["list.len", "list.storage"]), writes: Some(&["refarray.items"]), collects: true, what: "l[i] = v" },
    Helper { name: "dict_lookup_str", signature: "Callr 8 rr EF=2", reads: Some(DICT_STR_READS), writes: Some(&["str.hash"]), collects: false, what: "d[k] for an exact str key: null when absent; caches the key's hash" },
    Helper { name: "dict_store_str", signature: "Callv 0 rrr EF=2", reads: Some(DICT_STR_READS), writes: Some(DICT), collects: true, what: "d[k] = v for an exact str key: may rebuild the table" },
    Helper { name: "dict_lookup", signature: "Callr 8 rr EF=5", reads: None, writes: None, collects: true, what: "d[k] for any key: hashing and comparing may run Python code" },
    Helper { name: "str_concat", signature: "Callr 8 rr EF=3", reads: Some(STR), writes: Some(&[]), collects: true, what: "a + b on str: a new string" },
    Helper { name: "str_getitem", signature: "Callr 8 ri EF=4", reads: Some(STR), writes: Some(&[]), collects: true, what: "s[i]: a new one-character string, IndexError out of range" },
    Helper { name: "int_add_big", signature: "Callr 8 ii EF=3", reads: Some(&[]), writes: Some(&[]), collects: true, what: "an int addition that overflowed 64 bits: a big int" },
    Helper { name: "int_mul_big", signature: "Callr 8 ii EF=3", reads: Some(&[]), writes: Some(&[]), collects: true, what: "an int multiplication that overflowed 64 bits: a big int" },
];

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
    for (name, word, is_ref) in FIELDS {
        let kind = if *is_ref { 'P' } else { 'S' };
        out.push_str(&format!("descr minipy.{name} = <Field{kind} minipy.{name} {}>\n", word * 8));
    }
    for (name, literal) in ARRAYS {
        out.push_str(&format!("descr minipy.{name} = {literal}\n"));
    }
    for h in HELPERS {
        out.push_str(&format!("; {}\ndescr minipy.call.{} = {}\n", h.what, h.name, call_descr(h)));
    }
    out
}
