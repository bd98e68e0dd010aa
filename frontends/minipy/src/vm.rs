//! The VM: the heap, the code table, the prebuilt objects, and the error state.
//!
//! **Rooting rule** (see `tracelab_runtime::gc`): a `Ref` in a Rust variable is valid until
//! the next call that may allocate. Code that needs one across such a call keeps it on the
//! shadow stack ([`Vm::root`], read back with [`Vm::get`]); every interpreter step pops the
//! shadow stack back to where it started, so an early `?` return leaks nothing.
//! Prebuilt objects (None, True, False, the builtin types, small ints) are allocated old before
//! anything else and stay rooted: they never move, so the VM keeps their `Ref`s in fields.

use crate::bytecode::{Code, CodeId, Const};
use crate::layout::{self as L};
use crate::maps::Maps;
use num_bigint::BigInt;
use rustc_hash::FxHashMap;
use tracelab_runtime::gc::{GcConfig, Heap, LayoutId, Ref};

/// An exception is being raised; the exception object is in [`Vm::exception`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Raised;

pub type Res<T> = Result<T, Raised>;

/// A root slot on the shadow stack.
#[derive(Clone, Copy, Debug)]
pub struct Root(usize);

/// Interned attribute name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Sym(pub u32);

pub const SMALL_INT_MIN: i64 = -5;
pub const SMALL_INT_MAX: i64 = 256;

/// The builtin exception classes, in the order they are created.
pub const EXCEPTIONS: &[(&str, &str)] = &[
    ("BaseException", ""),
    ("SystemExit", "BaseException"),
    ("KeyboardInterrupt", "BaseException"),
    ("GeneratorExit", "BaseException"),
    ("Exception", "BaseException"),
    ("StopIteration", "Exception"),
    ("ArithmeticError", "Exception"),
    ("ZeroDivisionError", "ArithmeticError"),
    ("OverflowError", "ArithmeticError"),
    ("AssertionError", "Exception"),
    ("AttributeError", "Exception"),
    ("LookupError", "Exception"),
    ("IndexError", "LookupError"),
    ("KeyError", "LookupError"),
    ("NameError", "Exception"),
    ("UnboundLocalError", "NameError"),
    ("RuntimeError", "Exception"),
    ("RecursionError", "RuntimeError"),
    ("NotImplementedError", "RuntimeError"),
    ("TypeError", "Exception"),
    ("ValueError", "Exception"),
    ("UnicodeError", "ValueError"),
    ("ImportError", "Exception"),
    ("ModuleNotFoundError", "ImportError"),
    ("OSError", "Exception"),
    ("FileNotFoundError", "OSError"),
    ("EOFError", "Exception"),
    ("MemoryError", "Exception"),
    ("SyntaxError", "Exception"),
];

/// Builtin exception classes by name, as indices into `Vm::exc_types`.
#[derive(Clone, Copy, Debug)]
pub enum Exc {
    BaseException = 0,
    SystemExit = 1,
    StopIteration = 5,
    ZeroDivisionError = 7,
    OverflowError = 8,
    AssertionError = 9,
    AttributeError = 10,
    IndexError = 12,
    KeyError = 13,
    NameError = 14,
    UnboundLocalError = 15,
    RuntimeError = 16,
    RecursionError = 17,
    NotImplementedError = 18,
    TypeError = 19,
    ValueError = 20,
    ImportError = 22,
    ModuleNotFoundError = 23,
    OSError = 24,
    FileNotFoundError = 25,
    MemoryError = 27,
    EOFError_ = 26,
    SyntaxError_ = 28,
}

pub struct Vm {
    pub heap: Heap,
    pub codes: Vec<Code>,
    pub maps: Maps,
    syms: FxHashMap<String, Sym>,
    sym_names: Vec<String>,
    /// The str hash of each symbol's name, for dict lookups without rehashing.
    sym_hashes: Vec<u64>,
    /// Per code, the `Sym` of each of its names.
    pub code_syms: Vec<Vec<Sym>>,
    /// Builtin methods by (layout, name).
    pub method_table: FxHashMap<(u16, Sym), u32>,
    pub none: Ref,
    pub true_: Ref,
    pub false_: Ref,
    pub ellipsis: Ref,
    pub not_implemented: Ref,
    pub empty_tuple: Ref,
    pub empty_str: Ref,
    small_ints: Ref,
    /// Builtin types by layout id (null where a layout has no Python type).
    pub layout_types: Vec<Ref>,
    pub object_type: Ref,
    pub type_type: Ref,
    pub exc_types: Vec<Ref>,
    pub builtins: Ref,
    /// Root slots of long-lived mutable state.
    code_consts: Root,
    modules: Root,
    exception: Root,
    /// The stack of exceptions being handled (for bare `raise` and `sys.exc_info`).
    pub handled: Root,
    /// The frame running now (null between runs).
    pub frame: Root,
    pub depth: u32,
    /// The tracing JIT (`None`: interpret only).
    pub jit: Option<Box<crate::jit::Jit>>,
    pub next_identity: u64,
    pub recursion_limit: u32,
    pub argv: Vec<String>,
    pub script_dir: std::path::PathBuf,
    pub out: crate::io::Output,
    pub files: crate::io::Files,
    pub random: rand_mt::Mt,
    pub start_time: std::time::Instant,
}

impl Vm {
    pub fn new(config: GcConfig) -> Vm {
        let mut heap = Heap::new(L::declare(), config);
        let mut old = |layout: LayoutId, len: usize| heap.alloc_old(layout, len).expect("room for prebuilt objects");
        let none = old(L::NONE, 0);
        let true_ = old(L::BOOL, 0);
        let false_ = old(L::BOOL, 0);
        let ellipsis = old(L::ELLIPSIS, 0);
        let not_implemented = old(L::NOTIMPL, 0);
        let empty_tuple = old(L::TUPLE, 0);
        let empty_str = old(L::STR, 0);
        let n_small = (SMALL_INT_MAX - SMALL_INT_MIN + 1) as usize;
        let small_ints = old(L::REFARRAY, n_small);
        heap.set_word(true_, L::VALUE, 1);
        for i in 0..n_small {
            let r = heap.alloc_old(L::INT, 0).expect("room for prebuilt objects");
            heap.set_word(r, L::VALUE, (SMALL_INT_MIN + i as i64) as u64);
            heap.set_field(small_ints, L::ITEMS + i, r);
        }
        let mut vm = Vm {
            heap,
            codes: Vec::new(),
            maps: Maps::default(),
            syms: FxHashMap::default(),
            sym_names: Vec::new(),
            sym_hashes: Vec::new(),
            code_syms: Vec::new(),
            method_table: FxHashMap::default(),
            none,
            true_,
            false_,
            ellipsis,
            not_implemented,
            empty_tuple,
            empty_str,
            small_ints,
            layout_types: Vec::new(),
            object_type: Ref::NULL,
            type_type: Ref::NULL,
            exc_types: Vec::new(),
            builtins: Ref::NULL,
            code_consts: Root(0),
            modules: Root(0),
            exception: Root(0),
            handled: Root(0),
            frame: Root(0),
            depth: 0,
            jit: None,
            next_identity: 0,
            recursion_limit: 1000,
            argv: Vec::new(),
            script_dir: std::path::PathBuf::from("."),
            out: crate::io::Output::default(),
            files: crate::io::Files::default(),
            random: rand_mt::Mt::new(5489),
            start_time: std::time::Instant::now(),
        };
        for r in [none, true_, false_, ellipsis, not_implemented, empty_tuple, empty_str, small_ints] {
            vm.heap.push_root(r);
        }
        crate::types::create_builtin_types(&mut vm);
        vm.code_consts = vm.root_permanent_list();
        vm.modules = vm.root_permanent_dict();
        vm.exception = vm.root_permanent(Ref::NULL);
        vm.handled = vm.root_permanent_list();
        vm.frame = vm.root_permanent(Ref::NULL);
        if crate::builtins::install(&mut vm).is_err() {
            panic!("the builtins fit in a new heap");
        }
        vm
    }

    fn root_permanent(&mut self, r: Ref) -> Root {
        Root(self.heap.push_root(r))
    }

    fn root_permanent_list(&mut self) -> Root {
        let l = self.new_list_old();
        self.root_permanent(l)
    }

    fn root_permanent_dict(&mut self) -> Root {
        let d = crate::dict::new_old(self, L::DICT);
        self.root_permanent(d)
    }

    // ---- roots ----

    #[inline]
    pub fn root(&mut self, r: Ref) -> Root {
        Root(self.heap.push_root(r))
    }

    #[inline]
    pub fn get(&self, r: Root) -> Ref {
        self.heap.root(r.0)
    }

    #[inline]
    pub fn set(&mut self, r: Root, v: Ref) {
        self.heap.set_root(r.0, v)
    }

    pub fn roots_mark(&self) -> usize {
        self.heap.root_count()
    }

    pub fn roots_reset(&mut self, mark: usize) {
        self.heap.pop_roots(mark)
    }

    pub fn modules(&self) -> Ref {
        self.get(self.modules)
    }

    // ---- allocation ----

    /// Allocates; out of memory raises `MemoryError` (a prebuilt-free path: no allocation).
    #[inline]
    pub fn alloc(&mut self, layout: LayoutId, len: usize) -> Res<Ref> {
        match self.heap.alloc(layout, len) {
            Ok(r) => Ok(r),
            Err(_) => self.raise_memory_error(),
        }
    }

    #[cold]
    fn raise_memory_error<T>(&mut self) -> Res<T> {
        let t = self.exc_types[Exc::MemoryError as usize];
        self.set(self.exception, t);
        Err(Raised)
    }

    pub fn new_int(&mut self, v: i64) -> Res<Ref> {
        if (SMALL_INT_MIN..=SMALL_INT_MAX).contains(&v) {
            return Ok(self.heap.field(self.small_ints, L::ITEMS + (v - SMALL_INT_MIN) as usize));
        }
        let r = self.alloc(L::INT, 0)?;
        self.heap.set_word(r, L::VALUE, v as u64);
        Ok(r)
    }

    /// An int from a big integer: the 64-bit form when it fits.
    pub fn new_bigint(&mut self, v: &BigInt) -> Res<Ref> {
        if let Ok(small) = i64::try_from(v) {
            return self.new_int(small);
        }
        let (sign, digits) = v.to_u64_digits();
        let r = self.alloc(L::LONG, digits.len())?;
        self.heap.set_word(r, L::LONG_SIGN, (sign == num_bigint::Sign::Minus) as u64);
        self.heap.words_mut(r, L::LONG_DIGITS, digits.len()).copy_from_slice(&digits);
        Ok(r)
    }

    pub fn new_float(&mut self, v: f64) -> Res<Ref> {
        let r = self.alloc(L::FLOAT, 0)?;
        self.heap.set_word(r, L::VALUE, v.to_bits());
        Ok(r)
    }

    pub fn bool(&self, b: bool) -> Ref {
        if b {
            self.true_
        } else {
            self.false_
        }
    }

    pub fn new_str(&mut self, s: &str) -> Res<Ref> {
        if s.is_empty() {
            return Ok(self.empty_str);
        }
        let r = self.alloc(L::STR, s.len())?;
        self.heap.set_word(r, L::STR_CHARS, s.chars().count() as u64);
        self.heap.bytes_mut(r, L::STR_BYTES).copy_from_slice(s.as_bytes());
        Ok(r)
    }

    /// The text of a `STR` object.
    pub fn str_of(&self, r: Ref) -> &str {
        std::str::from_utf8(self.heap.bytes(r, L::STR_BYTES)).unwrap_or("")
    }

    pub fn str_chars(&self, r: Ref) -> usize {
        self.heap.word(r, L::STR_CHARS) as usize
    }

    /// A tuple of the values in root slots (rooted so that the allocation cannot lose them).
    pub fn new_tuple_from(&mut self, items: &[Root]) -> Res<Ref> {
        if items.is_empty() {
            return Ok(self.empty_tuple);
        }
        let t = self.alloc(L::TUPLE, items.len())?;
        for (i, r) in items.iter().enumerate() {
            let v = self.get(*r);
            self.heap.set_field(t, L::ITEMS + i, v);
        }
        Ok(t)
    }

    /// A tuple of `n` items, all None, to be filled by the caller.
    pub fn new_tuple(&mut self, n: usize) -> Res<Ref> {
        if n == 0 {
            return Ok(self.empty_tuple);
        }
        let t = self.alloc(L::TUPLE, n)?;
        let none = self.none;
        for i in 0..n {
            self.heap.set_field(t, L::ITEMS + i, none);
        }
        Ok(t)
    }

    pub fn new_list(&mut self, capacity: usize) -> Res<Ref> {
        let storage = self.alloc(L::REFARRAY, capacity.max(4))?;
        let s = self.root(storage);
        let l = self.alloc(L::LIST, 0)?;
        let storage = self.get(s);
        self.heap.set_field(l, L::LIST_STORAGE, storage);
        Ok(l)
    }

    fn new_list_old(&mut self) -> Ref {
        let storage = self.heap.alloc_old(L::REFARRAY, 4).expect("room for prebuilt objects");
        let l = self.heap.alloc_old(L::LIST, 0).expect("room for prebuilt objects");
        self.heap.set_field(l, L::LIST_STORAGE, storage);
        l
    }

    // ---- types ----

    #[inline]
    pub fn layout(&self, r: Ref) -> LayoutId {
        self.heap.layout_of(r)
    }

    pub fn type_of(&self, r: Ref) -> Ref {
        let l = self.layout(r);
        if l == L::INSTANCE {
            return self.heap.field(r, L::INST_CLASS);
        }
        self.layout_types.get(l.0 as usize).copied().unwrap_or(self.object_type)
    }

    pub fn type_name(&self, t: Ref) -> &str {
        self.str_of(self.heap.field(t, L::TYPE_NAME))
    }

    pub fn type_name_of(&self, r: Ref) -> String {
        self.type_name(self.type_of(r)).to_string()
    }

    /// Whether type `t` is `base` or derives from it.
    pub fn is_subtype(&self, t: Ref, base: Ref) -> bool {
        let mro = self.heap.field(t, L::TYPE_MRO);
        if mro.is_null() {
            return t == base;
        }
        (0..self.heap.len(mro)).any(|i| self.heap.field(mro, L::ITEMS + i) == base)
    }

    pub fn isinstance(&self, r: Ref, t: Ref) -> bool {
        self.is_subtype(self.type_of(r), t)
    }

    pub fn exc_type(&self, e: Exc) -> Ref {
        self.exc_types[e as usize]
    }

    // ---- symbols and codes ----

    pub fn sym(&mut self, name: &str) -> Sym {
        if let Some(s) = self.syms.get(name) {
            return *s;
        }
        let s = Sym(self.sym_names.len() as u32);
        self.sym_names.push(name.to_string());
        self.sym_hashes.push(crate::ops::str_hash_of(name));
        self.syms.insert(name.to_string(), s);
        s
    }

    pub fn sym_name(&self, s: Sym) -> &str {
        &self.sym_names[s.0 as usize]
    }

    /// `d[name]` for a dict with str keys, by symbol.
    pub fn dict_get_sym(&self, d: Ref, s: Sym) -> Option<Ref> {
        crate::dict::get_str_hashed(self, d, &self.sym_names[s.0 as usize], self.sym_hashes[s.0 as usize])
    }

    /// Registers compiled codes: interns their names and builds each one's constants tuple.
    pub fn add_codes(&mut self, codes: Vec<Code>) -> Res<()> {
        let first = self.codes.len() as u32;
        for code in codes {
            let syms: Vec<Sym> = code.names.iter().map(|n| self.sym(n)).collect();
            self.code_syms.push(syms);
            let mut code = code;
            // Code constants were numbered within this batch.
            for c in &mut code.consts {
                if let Const::Code(id) = c {
                    id.0 += first;
                }
            }
            self.codes.push(code);
        }
        for id in first..self.codes.len() as u32 {
            let t = self.build_consts(CodeId(id))?;
            let list = self.get(self.code_consts);
            crate::list::append(self, list, t)?;
        }
        Ok(())
    }

    fn build_consts(&mut self, id: CodeId) -> Res<Ref> {
        let code = &self.codes[id.0 as usize];
        let consts = code.consts.clone();
        let names = code.names.clone();
        let mark = self.roots_mark();
        let t = self.new_tuple(consts.len() + names.len())?;
        let tr = self.root(t);
        for (i, c) in consts.iter().enumerate() {
            let v = self.const_value(c)?;
            let t = self.get(tr);
            self.heap.set_field(t, L::ITEMS + i, v);
        }
        for (i, n) in names.iter().enumerate() {
            let v = self.new_str(n)?;
            let t = self.get(tr);
            self.heap.set_field(t, L::ITEMS + consts.len() + i, v);
        }
        let t = self.get(tr);
        self.roots_reset(mark);
        Ok(t)
    }

    fn const_value(&mut self, c: &Const) -> Res<Ref> {
        Ok(match c {
            Const::None => self.none,
            Const::Bool(b) => self.bool(*b),
            Const::Int(i) => self.new_int(*i)?,
            Const::BigInt(b) => self.new_bigint(b)?,
            Const::Float(f) => self.new_float(*f)?,
            Const::Str(s) => self.new_str(s)?,
            Const::Ellipsis => self.ellipsis,
            Const::Code(id) => self.new_int(id.0 as i64)?,
            Const::Names(names) => {
                let mark = self.roots_mark();
                let mut roots = vec![];
                for n in names {
                    let s = self.new_str(n)?;
                    roots.push(self.root(s));
                }
                let t = self.new_tuple_from(&roots)?;
                self.roots_reset(mark);
                t
            }
        })
    }

    /// The constants-and-names tuple of a code.
    pub fn consts_of(&self, id: CodeId) -> Ref {
        let list = self.get(self.code_consts);
        crate::list::get(self, list, id.0 as usize)
    }

    // ---- errors ----

    pub fn exception(&self) -> Ref {
        self.get(self.exception)
    }

    pub fn set_exception(&mut self, e: Ref) {
        self.set(self.exception, e)
    }

    /// Raises a builtin exception with a message.
    pub fn raise<T>(&mut self, kind: Exc, msg: impl AsRef<str>) -> Res<T> {
        let t = self.exc_type(kind);
        self.raise_type(t, msg.as_ref())
    }

    pub fn raise_type<T>(&mut self, t: Ref, msg: &str) -> Res<T> {
        let tr = self.root(t);
        let m = self.new_str(msg)?;
        let args = {
            let mr = self.root(m);
            self.new_tuple_from(&[mr])?
        };
        let t = self.get(tr);
        let e = crate::exceptions::new_exception(self, t, args)?;
        self.set_exception(e);
        Err(Raised)
    }

    /// Raises an exception object (or class, instantiated with no arguments).
    pub fn raise_value(&mut self, e: Ref) -> Res<()> {
        let e = if self.layout(e) == L::TYPE {
            let empty = self.empty_tuple;
            crate::exceptions::new_exception(self, e, empty)?
        } else {
            e
        };
        self.set_exception(e);
        Err(Raised)
    }

    pub fn type_error<T>(&mut self, msg: impl AsRef<str>) -> Res<T> {
        self.raise(Exc::TypeError, msg)
    }

    pub fn value_error<T>(&mut self, msg: impl AsRef<str>) -> Res<T> {
        self.raise(Exc::ValueError, msg)
    }

    /// Whether the pending exception is an instance of builtin class `kind`.
    pub fn exception_is(&self, kind: Exc) -> bool {
        let e = self.exception();
        !e.is_null() && self.isinstance(e, self.exc_type(kind))
    }

    pub fn intern_str(&mut self, s: Sym) -> Res<Ref> {
        let name = self.sym_name(s).to_string();
        self.new_str(&name)
    }
}
