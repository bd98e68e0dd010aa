//! Descriptors: what an op needs to know about the memory or the function it touches.
//!
//! A descr is declared once per module (`descr name = <...>`) and ops refer to it by index.
//! The literal syntax is PyPy's (`<FieldS pkg.Cls.inst_x 8 pure>`, `<ArrayP 8>`, `<SizeDescr 16>`,
//! `<Callr 8 ri EF=4 OS=5>`), extended with optional `key=value` items for what PyPy's logs
//! leave out: `size=N` for a field's byte size, `class=NAME` for the vtable of a `SizeDescr`.

use crate::entity::EntityRef;
use crate::types::Type;
use std::fmt;

crate::entity!(
    /// A declared descr in a [`crate::Module`].
    DescrId,
    "descr"
);

/// The kind letter after `Field`/`Array`: how the bytes are interpreted.
#[derive(Copy, Clone, PartialEq, Eq, Hash, Debug)]
pub enum MemKind {
    /// `S`: signed integer.
    Signed,
    /// `U`: unsigned integer (also bools, chars and raw pointers).
    Unsigned,
    /// `P`: GC pointer.
    Ref,
    /// `F`: double.
    Float,
    /// `X`: a struct (arrays of structs, read with the interior-field ops).
    Struct,
    /// `V`: no value (`ArrayV`, PyPy's void arrays).
    Void,
}

impl MemKind {
    pub fn from_letter(c: char) -> Option<MemKind> {
        Some(match c {
            'S' => MemKind::Signed,
            'U' => MemKind::Unsigned,
            'P' => MemKind::Ref,
            'F' => MemKind::Float,
            'X' => MemKind::Struct,
            'V' => MemKind::Void,
            _ => return None,
        })
    }
    pub fn letter(self) -> char {
        match self {
            MemKind::Signed => 'S',
            MemKind::Unsigned => 'U',
            MemKind::Ref => 'P',
            MemKind::Float => 'F',
            MemKind::Struct => 'X',
            MemKind::Void => 'V',
        }
    }
    /// The IR type a load of this kind produces.
    pub fn value_type(self) -> Type {
        match self {
            MemKind::Signed | MemKind::Unsigned => Type::Int,
            MemKind::Ref => Type::Ref,
            MemKind::Float => Type::Float,
            MemKind::Struct | MemKind::Void => Type::Void,
        }
    }
}

#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct FieldDescr {
    /// The struct that holds the field (`pypy.objspace.std.intobject.W_IntObject`).
    pub owner: String,
    /// The field's name (`inst_intval`).
    pub name: String,
    /// Byte offset from the object's start.
    pub offset: u32,
    /// Byte size, when known; PyPy's logs do not print it and a word is assumed then.
    pub size: Option<u8>,
    pub kind: MemKind,
    /// Immutable or quasi-immutable (PyPy prints `pure`).
    pub pure: bool,
}

impl FieldDescr {
    /// The field's width in bytes: its declared size, else a word (or a byte at an odd
    /// offset, where PyPy keeps bools and chars). The one definition the interpreter, the
    /// backend and the passes use.
    pub fn width(&self) -> u64 {
        match self.size {
            Some(s) => s as u64,
            None if self.offset % 8 != 0 => 1,
            None => 8,
        }
    }
}

#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct ArrayDescr {
    pub kind: MemKind,
    pub item_size: u32,
    /// The items never change after allocation.
    pub pure: bool,
}

#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct SizeDescr {
    pub size: u32,
    /// The class whose vtable `new_with_vtable` stores, when known.
    pub class: Option<String>,
}

/// A call's effect class, PyPy's `EF=` (see `effectinfo.py`).
#[derive(Copy, Clone, PartialEq, Eq, Hash, Debug)]
pub struct EffectClass(pub u8);

impl EffectClass {
    pub const ELIDABLE_CANNOT_RAISE: EffectClass = EffectClass(0);
    pub const LOOPINVARIANT: EffectClass = EffectClass(1);
    pub const CANNOT_RAISE: EffectClass = EffectClass(2);
    pub const ELIDABLE_OR_MEMORYERROR: EffectClass = EffectClass(3);
    pub const ELIDABLE_CAN_RAISE: EffectClass = EffectClass(4);
    pub const CAN_RAISE: EffectClass = EffectClass(5);
    pub const FORCES_VIRTUAL_OR_VIRTUALIZABLE: EffectClass = EffectClass(6);
    pub const RANDOM_EFFECTS: EffectClass = EffectClass(7);

    pub fn is_elidable(self) -> bool {
        matches!(self.0, 0 | 3 | 4)
    }
    /// Elidable or loop-invariant: writes nothing, and the same arguments give the same result.
    pub fn is_effect_free(self) -> bool {
        matches!(self.0, 0 | 1 | 3 | 4)
    }
    pub fn can_raise(self) -> bool {
        self.0 > 2
    }
    pub fn forces(self) -> bool {
        self.0 >= 6
    }
}

/// The kind letter of a call's result or argument (`Calli`, `ri`).
#[derive(Copy, Clone, PartialEq, Eq, Hash, Debug)]
pub enum CallKind {
    Int,
    Ref,
    Float,
    Void,
    /// `L`: a long long (a float box holding 64 bits on 32-bit hosts).
    LongLong,
    /// `S`: a single-precision float passed as an int.
    SingleFloat,
}

impl CallKind {
    pub fn from_letter(c: char) -> Option<CallKind> {
        Some(match c {
            'i' => CallKind::Int,
            'r' => CallKind::Ref,
            'f' => CallKind::Float,
            'v' => CallKind::Void,
            'L' => CallKind::LongLong,
            'S' => CallKind::SingleFloat,
            _ => return None,
        })
    }
    pub fn letter(self) -> char {
        match self {
            CallKind::Int => 'i',
            CallKind::Ref => 'r',
            CallKind::Float => 'f',
            CallKind::Void => 'v',
            CallKind::LongLong => 'L',
            CallKind::SingleFloat => 'S',
        }
    }
    /// The IR type of a value of this kind.
    pub fn value_type(self) -> Type {
        match self {
            CallKind::Int | CallKind::SingleFloat => Type::Int,
            CallKind::Ref => Type::Ref,
            CallKind::Float | CallKind::LongLong => Type::Float,
            CallKind::Void => Type::Void,
        }
    }
}

#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct CallDescr {
    pub result: CallKind,
    pub result_size: u32,
    /// Kinds of the arguments after the call target, when the log printed them.
    pub args: Vec<CallKind>,
    pub effect: EffectClass,
    /// PyPy's oopspec index (`OS=`), naming what the callee is (1 arraycopy, 14 int_py_mod...).
    pub oopspec: Option<u16>,
    /// The field, array and interior-field descrs the callee may read and write (PyPy's
    /// `EffectInfo` sets, `reads=(a, b) writes=(c)`), sorted; `None`: not stated, so anything
    /// its effect class allows (PyPy's logs print only `EF=`). See [`crate::effects`].
    pub reads: Option<Vec<DescrId>>,
    pub writes: Option<Vec<DescrId>>,
    /// Whether the callee may run the GC (`collects=0|1`) and change a quasi-immutable field
    /// (`invalidates=0|1`); `None`: not stated.
    pub collects: Option<bool>,
    pub invalidates: Option<bool>,
}

impl CallDescr {
    /// A call descr stating only what PyPy's logs print.
    pub fn new(result: CallKind, result_size: u32, effect: EffectClass) -> CallDescr {
        CallDescr { result, result_size, args: Vec::new(), effect, oopspec: None, reads: None, writes: None, collects: None, invalidates: None }
    }

    /// The descrs it names (in its read and write sets).
    pub fn named_descrs(&self) -> impl Iterator<Item = DescrId> + '_ {
        self.reads.iter().chain(self.writes.iter()).flatten().copied()
    }

    /// Its descrs renamed by `f` (copying it into another module).
    pub fn map_descrs(&mut self, mut f: impl FnMut(DescrId) -> DescrId) {
        for set in [&mut self.reads, &mut self.writes].into_iter().flatten() {
            set.iter_mut().for_each(|d| *d = f(*d));
            set.sort_unstable();
        }
    }

    fn fmt_with(&self, f: &mut fmt::Formatter<'_>, name: &dyn Fn(DescrId) -> String) -> fmt::Result {
        write!(f, "<Call{} {}", self.result.letter(), self.result_size)?;
        if !self.args.is_empty() {
            let args: String = self.args.iter().map(|k| k.letter()).collect();
            write!(f, " {args}")?;
        }
        write!(f, " EF={}", self.effect.0)?;
        if let Some(os) = self.oopspec {
            write!(f, " OS={os}")?;
        }
        for (key, set) in [("reads", &self.reads), ("writes", &self.writes)] {
            if let Some(ds) = set {
                let names: Vec<String> = ds.iter().map(|&d| name(d)).collect();
                write!(f, " {key}=({})", names.join(", "))?;
            }
        }
        for (key, flag) in [("collects", self.collects), ("invalidates", self.invalidates)] {
            if let Some(b) = flag {
                write!(f, " {key}={}", u8::from(b))?;
            }
        }
        f.write_str(">")
    }
}

/// A descr's literal with the descrs it names spelled by their names in `m` (what the printer
/// writes; `Display` spells them `#N`, having no module).
pub fn literal(m: &crate::Module, data: &DescrData) -> String {
    struct Named<'a>(&'a crate::Module, &'a CallDescr);
    impl fmt::Display for Named<'_> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            self.1.fmt_with(f, &|d| self.0.descrs.get(d).map_or_else(|| format!("#{}", d.index()), |x| x.name.clone()))
        }
    }
    match data {
        DescrData::Call(c) => Named(m, c).to_string(),
        other => other.to_string(),
    }
}

/// `OS=1`: `ll_arraycopy(src, dst, src_start, dst_start, length)`.
pub const OS_ARRAYCOPY: u16 = 1;
/// `OS=23`: `_ll_stringslice(s, start, stop)`, a new string of the bytes `s[start:stop]`. Its
/// callers (`ll_stringslice_startstop` and friends) clamp first: RPython's contract is
/// `0 <= start <= stop <= len(s)`, so the result has `stop - start` items (PyPy's `vstring`
/// relies on it too).
pub const OS_STR_SLICE: u16 = 23;
/// `OS=43`: the same for unicode strings (`_ll_stringslice` on `rpy_unicode`).
pub const OS_UNI_SLICE: u16 = 43;
/// `OS=120`: `jit_force_virtual(vref)`, which gives the object a `virtual_ref` refers to.
pub const OS_JIT_FORCE_VIRTUAL: u16 = 120;
/// `OS=121`: forcing a virtualizable (PyPy emits `cond_call(token != null, force, frame)`).
/// PyPy gives it an effect info that reads and writes nothing (`virtualizable.py`,
/// `clear_vable_descr`): what it writes back is what the trace already knows the fields hold.
pub const OS_JIT_FORCE_VIRTUALIZABLE: u16 = 121;

#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct InteriorDescr {
    pub field: FieldDescr,
    /// The array whose items hold the field, when known (PyPy's logs leave it out).
    pub array: Option<ArrayDescr>,
}

#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub enum DescrData {
    Field(FieldDescr),
    Array(ArrayDescr),
    Interior(InteriorDescr),
    Size(SizeDescr),
    Call(CallDescr),
    /// A descr tools need not understand, kept as written (`<QuasiImmutDescr object at 0x..>`).
    Opaque(String),
}

#[derive(Clone, PartialEq, Debug)]
pub struct Descr {
    pub name: String,
    pub data: DescrData,
}

impl DescrData {
    /// "a field", "an array"...: for messages.
    pub fn kind_name(&self) -> &'static str {
        match self {
            DescrData::Field(_) => "a field",
            DescrData::Array(_) => "an array",
            DescrData::Interior(_) => "an interior-field",
            DescrData::Size(_) => "a size",
            DescrData::Call(_) => "a call",
            DescrData::Opaque(_) => "an opaque",
        }
    }

    /// A name for this descr when none was declared: short, readable, derived from the data,
    /// and always a valid name in the text format.
    pub fn suggested_name(&self) -> String {
        sanitize_name(&self.raw_name())
    }

    fn raw_name(&self) -> String {
        match self {
            DescrData::Field(f) => {
                let owner = f.owner.rsplit('.').next().unwrap_or("");
                if owner.is_empty() {
                    f.name.clone()
                } else {
                    format!("{owner}.{}", f.name)
                }
            }
            DescrData::Array(a) => format!("array{}{}", a.kind.letter(), a.item_size),
            DescrData::Interior(i) => format!("interior.{}", i.field.name),
            DescrData::Size(s) => match &s.class {
                Some(c) => format!("size.{c}"),
                None => format!("size{}", s.size),
            },
            DescrData::Call(c) => {
                let args: String = c.args.iter().map(|k| k.letter()).collect();
                let mut s = format!("call{}_{}_ef{}", c.result.letter(), args, c.effect.0);
                if let Some(os) = c.oopspec {
                    s.push_str(&format!("_os{os}"));
                }
                s
            }
            DescrData::Opaque(text) => {
                let word: String = text
                    .trim_start_matches('<')
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                if word.is_empty() {
                    "opaque".into()
                } else {
                    word
                }
            }
        }
    }
}

/// `text` made into a name the lexer reads as one identifier (`[A-Za-z_][A-Za-z0-9_.$]*`).
pub fn sanitize_name(text: &str) -> String {
    let mut out: String = text
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '$') { c } else { '_' })
        .collect();
    if !out.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
        out.insert(0, '_');
    }
    out
}

fn fmt_field(f: &mut fmt::Formatter<'_>, d: &FieldDescr) -> fmt::Result {
    write!(f, "<Field{} ", d.kind.letter())?;
    if !d.owner.is_empty() {
        write!(f, "{}.", d.owner)?;
    }
    write!(f, "{} {}", d.name, d.offset)?;
    if let Some(size) = d.size {
        write!(f, " size={size}")?;
    }
    if d.pure {
        f.write_str(" pure")?;
    }
    f.write_str(">")
}

fn fmt_array(f: &mut fmt::Formatter<'_>, a: &ArrayDescr) -> fmt::Result {
    write!(f, "<Array{} {}", a.kind.letter(), a.item_size)?;
    if a.pure {
        f.write_str(" pure")?;
    }
    f.write_str(">")
}

/// Prints the literal in PyPy's syntax (plus our optional items); the parser reads it back.
impl fmt::Display for DescrData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DescrData::Field(d) => fmt_field(f, d),
            DescrData::Array(a) => fmt_array(f, a),
            DescrData::Interior(i) => {
                f.write_str("<InteriorFieldDescr ")?;
                fmt_field(f, &i.field)?;
                if let Some(a) = &i.array {
                    f.write_str(" ")?;
                    fmt_array(f, a)?;
                }
                f.write_str(">")
            }
            DescrData::Size(s) => {
                write!(f, "<SizeDescr {}", s.size)?;
                if let Some(c) = &s.class {
                    write!(f, " class={c}")?;
                }
                f.write_str(">")
            }
            DescrData::Call(c) => c.fmt_with(f, &|d| format!("#{}", d.index())),
            DescrData::Opaque(text) => f.write_str(text),
        }
    }
}

/// The layout of a `virtual_ref` (defined once, for the interpreter and the optimizer): a
/// 16-byte object without class whose word at offset 8 is the referent, i.e. what
/// `new(descr=size)` + `setfield_gc(r, referent, descr=field)` builds.
pub fn vref_layout() -> (DescrData, DescrData) {
    let size = DescrData::Size(SizeDescr { size: 16, class: None });
    let referent = DescrData::Field(FieldDescr { owner: "vref".into(), name: "referent".into(), offset: 8, size: None, kind: MemKind::Ref, pure: false });
    (size, referent)
}
