//! The opcode table: every operation PyPy's JIT can record (its `resoperation` vocabulary),
//! with its text name, signature, the kind of descr it takes and the properties optimizers need.
//!
//! The table is data: one line per opcode, in the order of PyPy's own table so that a reader can
//! check it against the source. Ops whose result type varies (`getfield_gc`) are separate opcodes
//! per result type (`getfield_gc_i`, `getfield_gc_r`, `getfield_gc_f`), as PyPy prints them.
//!
//! A signature is a string `OPERANDS:RESULT`. Operand letters: `i` int, `f` float, `r` ref,
//! `v` vector, `a` any non-void type; a `*x` suffix means "then any number of `x`". The result
//! letter is one of `i f r v`, or `n` for none.

use crate::types::Type;
use std::collections::HashMap;
use std::sync::OnceLock;

/// What a `descr=` argument of an op must be.
#[derive(Copy, Clone, PartialEq, Eq, Debug)]
pub enum DescrKind {
    /// The op takes no descr.
    None,
    /// A field descr (`<FieldS ...>`).
    Field,
    /// An array descr (`<ArrayS 8>`).
    Array,
    /// An interior-field descr (`<InteriorFieldDescr <FieldS ...>>`).
    Interior,
    /// A size descr (`<SizeDescr 16>`).
    Size,
    /// A call descr (`<Calli 8 ii EF=0>`).
    Call,
    /// A loop target (`TargetToken(N)`); the op is `label` or `jump`.
    Target,
    /// An optional array descr (the backend-level `gc_load`/`gc_store` family).
    OptArray,
    /// An optional opaque descr kept verbatim (`<QuasiImmutDescr object at 0x...>`).
    Opaque,
}

impl std::fmt::Display for DescrKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            DescrKind::None => "no",
            DescrKind::Field => "a field",
            DescrKind::Array | DescrKind::OptArray => "an array",
            DescrKind::Interior => "an interior-field",
            DescrKind::Size => "a size",
            DescrKind::Call => "a call",
            DescrKind::Target => "a target",
            DescrKind::Opaque => "an opaque",
        })
    }
}

/// Op property bits. An op may have several.
pub mod flags {
    /// The result depends only on the operands; no effect, no heap read: fold and CSE freely.
    pub const PURE: u32 = 1 << 0;
    /// A guard: exits the trace when its condition does not hold.
    pub const GUARD: u32 = 1 << 1;
    /// Reads memory.
    pub const READS_HEAP: u32 = 1 << 2;
    /// Writes memory.
    pub const WRITES_HEAP: u32 = 1 << 3;
    /// Allocates a fresh object.
    pub const ALLOC: u32 = 1 << 4;
    /// Calls a function; what the callee may do is in the call descr's effect class.
    pub const CALL: u32 = 1 << 5;
    /// May raise an exception (checked by a following `guard_no_exception`).
    pub const CAN_RAISE: u32 = 1 << 6;
    /// Sets the overflow flag (checked by a following `guard_no_overflow`).
    pub const OVF: u32 = 1 << 7;
    /// Produces a boolean (0 or 1).
    pub const COMPARISON: u32 = 1 << 8;
    /// The two operands may be swapped.
    pub const COMMUTATIVE: u32 = 1 << 9;
    /// Ends the trace (`jump`, `finish`).
    pub const FINAL: u32 = 1 << 10;
    /// Has an effect outside memory that must be kept (debug counters, exceptions, GC hints).
    pub const EFFECT: u32 = 1 << 11;
    /// Generates no machine code: a marker for tools and resume (`debug_merge_point`).
    pub const MARKER: u32 = 1 << 12;
    /// Its value never changes once read (immutable reads such as `getarrayitem_gc_pure`).
    pub const IMMUTABLE_READ: u32 = 1 << 13;
    /// Reads or writes memory through its first operand, a GC reference: a null there traps
    /// (so after it the reference is known non-null; PyPy's heap and string optimizations
    /// mark it so).
    pub const DEREF: u32 = 1 << 14;
}

use flags::*;

const P: u32 = PURE;
const PB: u32 = PURE | COMPARISON;
const PBC: u32 = PURE | COMPARISON | COMMUTATIVE;
const PC: u32 = PURE | COMMUTATIVE;
const G: u32 = GUARD;
const R: u32 = READS_HEAP;
const W: u32 = WRITES_HEAP;
const A: u32 = ALLOC;
const CALLX: u32 = CALL | CAN_RAISE;
const E: u32 = EFFECT;
const M: u32 = MARKER;

macro_rules! opcodes {
    ($($variant:ident = $name:literal, $sig:literal, $descr:ident, $flags:expr;)*) => {
        /// An operation. `Opcode::ALL` lists them in table order.
        #[derive(Copy, Clone, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
        pub enum Opcode { $($variant,)* }

        static TABLE: &[OpInfo] = &[
            $(OpInfo { name: $name, sig: $sig, descr: DescrKind::$descr, flags: $flags },)*
        ];

        impl Opcode {
            pub const ALL: &'static [Opcode] = &[$(Opcode::$variant,)*];
        }
    };
}

opcodes! {
    // control
    Jump = "jump", "*a:n", Target, FINAL;
    Finish = "finish", "*a:n", Opaque, FINAL;
    Label = "label", "*a:n", Target, 0;
    // guards
    GuardTrue = "guard_true", "i:n", None, G;
    GuardFalse = "guard_false", "i:n", None, G;
    VecGuardTrue = "vec_guard_true", "v:n", None, G;
    VecGuardFalse = "vec_guard_false", "v:n", None, G;
    GuardValue = "guard_value", "aa:n", None, G;
    GuardClass = "guard_class", "ri:n", None, G | R;
    GuardNonnull = "guard_nonnull", "a:n", None, G;
    GuardIsnull = "guard_isnull", "a:n", None, G;
    GuardNonnullClass = "guard_nonnull_class", "ri:n", None, G | R;
    GuardGcType = "guard_gc_type", "ri:n", None, G | R;
    GuardIsObject = "guard_is_object", "r:n", None, G | R;
    GuardSubclass = "guard_subclass", "ri:n", None, G | R;
    GuardNoException = "guard_no_exception", ":n", None, G;
    GuardException = "guard_exception", "i:r", None, G | E;
    GuardNoOverflow = "guard_no_overflow", ":n", None, G;
    GuardOverflow = "guard_overflow", ":n", None, G;
    GuardNotForced = "guard_not_forced", ":n", None, G;
    GuardNotForced2 = "guard_not_forced_2", ":n", None, G;
    GuardNotInvalidated = "guard_not_invalidated", ":n", None, G;
    GuardFutureCondition = "guard_future_condition", ":n", None, G;
    GuardAlwaysFails = "guard_always_fails", ":n", None, G;
    // integer arithmetic
    IntAdd = "int_add", "ii:i", None, PC;
    IntSub = "int_sub", "ii:i", None, P;
    IntMul = "int_mul", "ii:i", None, PC;
    UintMulHigh = "uint_mul_high", "ii:i", None, PC;
    IntAnd = "int_and", "ii:i", None, PC;
    IntOr = "int_or", "ii:i", None, PC;
    IntXor = "int_xor", "ii:i", None, PC;
    IntRshift = "int_rshift", "ii:i", None, P;
    IntLshift = "int_lshift", "ii:i", None, P;
    UintRshift = "uint_rshift", "ii:i", None, P;
    IntSignext = "int_signext", "ii:i", None, P;
    // float arithmetic
    FloatAdd = "float_add", "ff:f", None, PC;
    FloatSub = "float_sub", "ff:f", None, P;
    FloatMul = "float_mul", "ff:f", None, PC;
    FloatTruediv = "float_truediv", "ff:f", None, P;
    FloatNeg = "float_neg", "f:f", None, P;
    FloatAbs = "float_abs", "f:f", None, P;
    // casts
    CastFloatToInt = "cast_float_to_int", "f:i", None, P;
    CastIntToFloat = "cast_int_to_float", "i:f", None, P;
    CastFloatToSinglefloat = "cast_float_to_singlefloat", "f:i", None, P;
    CastSinglefloatToFloat = "cast_singlefloat_to_float", "i:f", None, P;
    ConvertFloatBytesToLonglong = "convert_float_bytes_to_longlong", "f:i", None, P;
    ConvertLonglongBytesToFloat = "convert_longlong_bytes_to_float", "i:f", None, P;
    // vector ops (PyPy's vectorizer)
    VecIntAdd = "vec_int_add", "vv:v", None, PC;
    VecIntSub = "vec_int_sub", "vv:v", None, P;
    VecIntMul = "vec_int_mul", "vv:v", None, PC;
    VecIntAnd = "vec_int_and", "vv:v", None, PC;
    VecIntOr = "vec_int_or", "vv:v", None, PC;
    VecIntXor = "vec_int_xor", "vv:v", None, PC;
    VecFloatAdd = "vec_float_add", "vv:v", None, PC;
    VecFloatSub = "vec_float_sub", "vv:v", None, P;
    VecFloatMul = "vec_float_mul", "vv:v", None, PC;
    VecFloatTruediv = "vec_float_truediv", "vv:v", None, P;
    VecFloatNeg = "vec_float_neg", "v:v", None, P;
    VecFloatAbs = "vec_float_abs", "v:v", None, P;
    VecFloatXor = "vec_float_xor", "vv:v", None, PC;
    VecIntSignext = "vec_int_signext", "vi:v", None, P;
    VecCastFloatToInt = "vec_cast_float_to_int", "v:v", None, P;
    VecCastIntToFloat = "vec_cast_int_to_float", "v:v", None, P;
    VecCastFloatToSinglefloat = "vec_cast_float_to_singlefloat", "v:v", None, P;
    VecCastSinglefloatToFloat = "vec_cast_singlefloat_to_float", "v:v", None, P;
    VecIntIsTrue = "vec_int_is_true", "v:v", None, P;
    VecIntNe = "vec_int_ne", "vv:v", None, PC;
    VecIntEq = "vec_int_eq", "vv:v", None, PC;
    VecFloatEq = "vec_float_eq", "vv:v", None, PC;
    VecFloatNe = "vec_float_ne", "vv:v", None, PC;
    VecI = "vec_i", ":v", None, P;
    VecF = "vec_f", ":v", None, P;
    VecUnpackI = "vec_unpack_i", "vii:i", None, P;
    VecUnpackF = "vec_unpack_f", "vii:f", None, P;
    VecPackI = "vec_pack_i", "viii:v", None, P;
    VecPackF = "vec_pack_f", "vfii:v", None, P;
    VecExpandI = "vec_expand_i", "i:v", None, P;
    VecExpandF = "vec_expand_f", "f:v", None, P;
    // comparisons and unary int ops
    IntLt = "int_lt", "ii:i", None, PB;
    IntLe = "int_le", "ii:i", None, PB;
    IntEq = "int_eq", "ii:i", None, PBC;
    IntNe = "int_ne", "ii:i", None, PBC;
    IntGt = "int_gt", "ii:i", None, PB;
    IntGe = "int_ge", "ii:i", None, PB;
    UintLt = "uint_lt", "ii:i", None, PB;
    UintLe = "uint_le", "ii:i", None, PB;
    UintGt = "uint_gt", "ii:i", None, PB;
    UintGe = "uint_ge", "ii:i", None, PB;
    FloatLt = "float_lt", "ff:i", None, PB;
    FloatLe = "float_le", "ff:i", None, PB;
    FloatEq = "float_eq", "ff:i", None, PBC;
    FloatNe = "float_ne", "ff:i", None, PBC;
    FloatGt = "float_gt", "ff:i", None, PB;
    FloatGe = "float_ge", "ff:i", None, PB;
    IntIsZero = "int_is_zero", "i:i", None, PB;
    IntIsTrue = "int_is_true", "i:i", None, PB;
    IntNeg = "int_neg", "i:i", None, P;
    IntInvert = "int_invert", "i:i", None, P;
    IntForceGeZero = "int_force_ge_zero", "i:i", None, P;
    SameAsI = "same_as_i", "i:i", None, P;
    SameAsR = "same_as_r", "r:r", None, P;
    SameAsF = "same_as_f", "f:f", None, P;
    CastPtrToInt = "cast_ptr_to_int", "r:i", None, P;
    CastIntToPtr = "cast_int_to_ptr", "i:r", None, P;
    PtrEq = "ptr_eq", "rr:i", None, PBC;
    PtrNe = "ptr_ne", "rr:i", None, PBC;
    InstancePtrEq = "instance_ptr_eq", "rr:i", None, PBC;
    InstancePtrNe = "instance_ptr_ne", "rr:i", None, PBC;
    NurseryPtrIncrement = "nursery_ptr_increment", "ri:r", None, P;
    // reads of immutable memory
    ArraylenGc = "arraylen_gc", "r:i", Array, R | IMMUTABLE_READ | DEREF;
    Strlen = "strlen", "r:i", None, R | IMMUTABLE_READ | DEREF;
    Strgetitem = "strgetitem", "ri:i", None, R | DEREF;
    GetarrayitemGcPureI = "getarrayitem_gc_pure_i", "ri:i", Array, R | IMMUTABLE_READ | DEREF;
    GetarrayitemGcPureR = "getarrayitem_gc_pure_r", "ri:r", Array, R | IMMUTABLE_READ | DEREF;
    GetarrayitemGcPureF = "getarrayitem_gc_pure_f", "ri:f", Array, R | IMMUTABLE_READ | DEREF;
    Unicodelen = "unicodelen", "r:i", None, R | IMMUTABLE_READ | DEREF;
    Unicodegetitem = "unicodegetitem", "ri:i", None, R | DEREF;
    Strhash = "strhash", "r:i", None, R | IMMUTABLE_READ | DEREF;
    Unicodehash = "unicodehash", "r:i", None, R | IMMUTABLE_READ | DEREF;
    LoadFromGcTable = "load_from_gc_table", "i:r", None, P;
    LoadEffectiveAddress = "load_effective_address", "iiii:i", None, P;
    // backend-level loads
    GcLoadI = "gc_load_i", "aii:i", OptArray, R;
    GcLoadR = "gc_load_r", "aii:r", OptArray, R;
    GcLoadF = "gc_load_f", "aii:f", OptArray, R;
    GcLoadIndexedI = "gc_load_indexed_i", "aiiii:i", OptArray, R;
    GcLoadIndexedR = "gc_load_indexed_r", "aiiii:r", OptArray, R;
    GcLoadIndexedF = "gc_load_indexed_f", "aiiii:f", OptArray, R;
    // heap reads
    GetarrayitemGcI = "getarrayitem_gc_i", "ri:i", Array, R | DEREF;
    GetarrayitemGcR = "getarrayitem_gc_r", "ri:r", Array, R | DEREF;
    GetarrayitemGcF = "getarrayitem_gc_f", "ri:f", Array, R | DEREF;
    VecLoadI = "vec_load_i", "aiii:v", Array, R;
    VecLoadF = "vec_load_f", "aiii:v", Array, R;
    GetarrayitemRawI = "getarrayitem_raw_i", "ii:i", Array, R;
    GetarrayitemRawF = "getarrayitem_raw_f", "ii:f", Array, R;
    RawLoadI = "raw_load_i", "ii:i", Array, R;
    RawLoadF = "raw_load_f", "ii:f", Array, R;
    GetinteriorfieldGcI = "getinteriorfield_gc_i", "ri:i", Interior, R | DEREF;
    GetinteriorfieldGcR = "getinteriorfield_gc_r", "ri:r", Interior, R | DEREF;
    GetinteriorfieldGcF = "getinteriorfield_gc_f", "ri:f", Interior, R | DEREF;
    GetfieldGcI = "getfield_gc_i", "r:i", Field, R | DEREF;
    GetfieldGcR = "getfield_gc_r", "r:r", Field, R | DEREF;
    GetfieldGcF = "getfield_gc_f", "r:f", Field, R | DEREF;
    GetfieldRawI = "getfield_raw_i", "i:i", Field, R;
    GetfieldRawR = "getfield_raw_r", "i:r", Field, R;
    GetfieldRawF = "getfield_raw_f", "i:f", Field, R;
    // allocation
    New = "new", ":r", Size, A;
    NewWithVtable = "new_with_vtable", ":r", Size, A;
    NewArray = "new_array", "i:r", Array, A;
    NewArrayClear = "new_array_clear", "i:r", Array, A;
    Newstr = "newstr", "i:r", None, A;
    Newunicode = "newunicode", "i:r", None, A;
    ForceToken = "force_token", ":r", None, 0;
    VirtualRef = "virtual_ref", "ri:r", None, A;
    IncrementDebugCounter = "increment_debug_counter", "i:n", None, E;
    // heap writes
    SetarrayitemGc = "setarrayitem_gc", "ria:n", Array, W | DEREF;
    VecStore = "vec_store", "aiiiv:n", Array, W;
    SetarrayitemRaw = "setarrayitem_raw", "iia:n", Array, W;
    RawStore = "raw_store", "iia:n", Array, W;
    SetinteriorfieldGc = "setinteriorfield_gc", "ria:n", Interior, W | DEREF;
    SetinteriorfieldRaw = "setinteriorfield_raw", "iia:n", Interior, W;
    SetfieldGc = "setfield_gc", "ra:n", Field, W | DEREF;
    ZeroArray = "zero_array", "riiii:n", Array, W;
    SetfieldRaw = "setfield_raw", "ia:n", Field, W;
    Strsetitem = "strsetitem", "rii:n", None, W | DEREF;
    Unicodesetitem = "unicodesetitem", "rii:n", None, W | DEREF;
    CondCallGcWb = "cond_call_gc_wb", "r:n", Opaque, E;
    CondCallGcWbArray = "cond_call_gc_wb_array", "ri:n", Opaque, E;
    GcStore = "gc_store", "aiai:n", OptArray, W;
    GcStoreIndexed = "gc_store_indexed", "aiaiii:n", OptArray, W;
    // markers and misc
    DebugMergePoint = "debug_merge_point", "*i:n", None, M;
    EnterPortalFrame = "enter_portal_frame", "ii:n", None, M;
    LeavePortalFrame = "leave_portal_frame", "i:n", None, M;
    JitDebug = "jit_debug", "*i:n", None, M;
    EscapeI = "escape_i", "*a:i", None, E | R | W;
    EscapeR = "escape_r", "*a:r", None, E | R | W;
    EscapeF = "escape_f", "*a:f", None, E | R | W;
    EscapeN = "escape_n", "*a:n", None, E | R | W;
    ForceSpill = "force_spill", "a:n", None, E;
    VirtualRefFinish = "virtual_ref_finish", "rr:n", None, W;
    Copystrcontent = "copystrcontent", "rriii:n", None, R | W;
    Copyunicodecontent = "copyunicodecontent", "rriii:n", None, R | W;
    QuasiimmutField = "quasiimmut_field", "r:n", Opaque, M;
    AssertNotNone = "assert_not_none", "r:n", None, M;
    RecordExactClass = "record_exact_class", "ri:n", None, M;
    RecordExactValueR = "record_exact_value_r", "rr:n", None, M;
    RecordExactValueI = "record_exact_value_i", "ii:n", None, M;
    Keepalive = "keepalive", "a:n", None, M;
    SaveException = "save_exception", ":r", None, E;
    SaveExcClass = "save_exc_class", ":i", None, E;
    RestoreException = "restore_exception", "ir:n", None, E;
    // calls
    CallI = "call_i", "i*a:i", Call, CALLX;
    CallR = "call_r", "i*a:r", Call, CALLX;
    CallF = "call_f", "i*a:f", Call, CALLX;
    CallN = "call_n", "i*a:n", Call, CALLX;
    CondCallN = "cond_call", "ii*a:n", Call, CALLX;
    CondCallValueI = "cond_call_value_i", "ii*a:i", Call, CALLX;
    CondCallValueR = "cond_call_value_r", "ri*a:r", Call, CALLX;
    CallAssemblerI = "call_assembler_i", "*a:i", Opaque, CALLX;
    CallAssemblerR = "call_assembler_r", "*a:r", Opaque, CALLX;
    CallAssemblerF = "call_assembler_f", "*a:f", Opaque, CALLX;
    CallAssemblerN = "call_assembler_n", "*a:n", Opaque, CALLX;
    CallMayForceI = "call_may_force_i", "i*a:i", Call, CALLX;
    CallMayForceR = "call_may_force_r", "i*a:r", Call, CALLX;
    CallMayForceF = "call_may_force_f", "i*a:f", Call, CALLX;
    CallMayForceN = "call_may_force_n", "i*a:n", Call, CALLX;
    CallLoopinvariantI = "call_loopinvariant_i", "i*a:i", Call, CALLX;
    CallLoopinvariantR = "call_loopinvariant_r", "i*a:r", Call, CALLX;
    CallLoopinvariantF = "call_loopinvariant_f", "i*a:f", Call, CALLX;
    CallLoopinvariantN = "call_loopinvariant_n", "i*a:n", Call, CALLX;
    CallReleaseGilI = "call_release_gil_i", "ii*a:i", Call, CALLX;
    CallReleaseGilF = "call_release_gil_f", "ii*a:f", Call, CALLX;
    CallReleaseGilN = "call_release_gil_n", "ii*a:n", Call, CALLX;
    CallPureI = "call_pure_i", "i*a:i", Call, CALLX;
    CallPureR = "call_pure_r", "i*a:r", Call, CALLX;
    CallPureF = "call_pure_f", "i*a:f", Call, CALLX;
    CallPureN = "call_pure_n", "i*a:n", Call, CALLX;
    CheckMemoryError = "check_memory_error", "i:n", None, CAN_RAISE;
    CallMallocNursery = "call_malloc_nursery", "i:r", None, A;
    CallMallocNurseryVarsize = "call_malloc_nursery_varsize", "iii:r", Array, A;
    CallMallocNurseryVarsizeFrame = "call_malloc_nursery_varsize_frame", "i:r", None, A;
    RecordKnownResult = "record_known_result", "ai*a:n", Call, M;
    // ops of older PyPy versions, so that their logs import too
    GetfieldGcPureI = "getfield_gc_pure_i", "r:i", Field, R | IMMUTABLE_READ | DEREF;
    GetfieldGcPureR = "getfield_gc_pure_r", "r:r", Field, R | IMMUTABLE_READ | DEREF;
    GetfieldGcPureF = "getfield_gc_pure_f", "r:f", Field, R | IMMUTABLE_READ | DEREF;
    GetfieldRawPureI = "getfield_raw_pure_i", "i:i", Field, R | IMMUTABLE_READ;
    GetfieldRawPureF = "getfield_raw_pure_f", "i:f", Field, R | IMMUTABLE_READ;
    GetarrayitemRawPureI = "getarrayitem_raw_pure_i", "ii:i", Array, R | IMMUTABLE_READ;
    GetarrayitemRawPureF = "getarrayitem_raw_pure_f", "ii:f", Array, R | IMMUTABLE_READ;
    IntFloordiv = "int_floordiv", "ii:i", None, P;
    UintFloordiv = "uint_floordiv", "ii:i", None, P;
    IntMod = "int_mod", "ii:i", None, P;
    MarkOpaquePtr = "mark_opaque_ptr", "r:n", None, M;
    RecordKnownClass = "record_known_class", "ri:n", None, M;
    // tracelab's own: the statement that a field of an object holds a value (a bridge's entry
    // fact, as PyPy hands heap knowledge to a bridge's optimizer); no code
    RecordKnownField = "record_known_field", "ra:n", Field, M;
    ZeroPtrField = "zero_ptr_field", "ri:n", None, W;
    CallMallocGc = "call_malloc_gc", "i*a:r", Call, A | CALLX;
    CallReleaseGilR = "call_release_gil_r", "ii*a:r", Call, CALLX;
    // integer arithmetic with overflow check
    IntAddOvf = "int_add_ovf", "ii:i", None, OVF | COMMUTATIVE;
    IntSubOvf = "int_sub_ovf", "ii:i", None, OVF;
    IntMulOvf = "int_mul_ovf", "ii:i", None, OVF | COMMUTATIVE;
}

/// One row of the table.
#[derive(Debug)]
pub struct OpInfo {
    pub name: &'static str,
    sig: &'static str,
    pub descr: DescrKind,
    pub flags: u32,
}

/// What an operand position accepts.
#[derive(Copy, Clone, PartialEq, Eq, Debug)]
pub enum OperandType {
    Exactly(Type),
    /// Any of int, float, ref or vector.
    Any,
}

impl OperandType {
    fn from_letter(c: u8) -> OperandType {
        match c {
            b'i' => OperandType::Exactly(Type::Int),
            b'f' => OperandType::Exactly(Type::Float),
            b'r' => OperandType::Exactly(Type::Ref),
            b'v' => OperandType::Exactly(Type::Vector),
            b'a' => OperandType::Any,
            _ => unreachable!("bad operand letter in the opcode table"),
        }
    }

    pub fn accepts(self, t: Type) -> bool {
        match self {
            OperandType::Exactly(want) => want == t,
            OperandType::Any => t != Type::Void,
        }
    }
}

impl std::fmt::Display for OperandType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OperandType::Exactly(t) => t.fmt(f),
            OperandType::Any => f.write_str("any value"),
        }
    }
}

fn name_table() -> &'static HashMap<&'static str, Opcode> {
    static NAMES: OnceLock<HashMap<&'static str, Opcode>> = OnceLock::new();
    NAMES.get_or_init(|| Opcode::ALL.iter().map(|&op| (op.name(), op)).collect())
}

impl Opcode {
    /// The plain load of a value of type `ty`: of a field (`field`), else of an array item.
    pub fn load(ty: Type, field: bool) -> Opcode {
        match (ty, field) {
            (Type::Ref, true) => Opcode::GetfieldGcR,
            (Type::Float, true) => Opcode::GetfieldGcF,
            (_, true) => Opcode::GetfieldGcI,
            (Type::Ref, false) => Opcode::GetarrayitemGcR,
            (Type::Float, false) => Opcode::GetarrayitemGcF,
            (_, false) => Opcode::GetarrayitemGcI,
        }
    }

    pub fn info(self) -> &'static OpInfo {
        &TABLE[self as usize]
    }

    pub fn name(self) -> &'static str {
        self.info().name
    }

    pub fn from_name(name: &str) -> Option<Opcode> {
        name_table().get(name).copied()
    }

    fn sig_parts(self) -> (&'static [u8], &'static [u8]) {
        let sig = self.info().sig.as_bytes();
        let colon = sig.iter().position(|&c| c == b':').expect("signature has a colon");
        (&sig[..colon], &sig[colon + 1..])
    }

    /// The fixed operand types, before any variadic tail.
    pub fn fixed_operands(self) -> impl Iterator<Item = OperandType> {
        let (ops, _) = self.sig_parts();
        let end = ops.iter().position(|&c| c == b'*').unwrap_or(ops.len());
        ops[..end].iter().map(|&c| OperandType::from_letter(c))
    }

    pub fn fixed_arity(self) -> usize {
        self.fixed_operands().count()
    }

    /// The type of each further operand, if the op takes any number of them.
    pub fn variadic(self) -> Option<OperandType> {
        let (ops, _) = self.sig_parts();
        let star = ops.iter().position(|&c| c == b'*')?;
        Some(OperandType::from_letter(ops[star + 1]))
    }

    /// The type the operand at `index` must have, or `None` if there is no such operand.
    pub fn operand_type(self, index: usize) -> Option<OperandType> {
        self.fixed_operands().nth(index).or_else(|| self.variadic())
    }

    pub fn result_type(self) -> Type {
        match self.sig_parts().1 {
            b"i" => Type::Int,
            b"f" => Type::Float,
            b"r" => Type::Ref,
            b"v" => Type::Vector,
            _ => Type::Void,
        }
    }

    pub fn descr_kind(self) -> DescrKind {
        self.info().descr
    }

    fn has(self, flag: u32) -> bool {
        self.info().flags & flag != 0
    }

    pub fn is_guard(self) -> bool {
        self.has(GUARD)
    }
    pub fn is_pure(self) -> bool {
        self.has(PURE)
    }
    pub fn is_call(self) -> bool {
        self.has(CALL)
    }
    pub fn can_raise(self) -> bool {
        self.has(CAN_RAISE)
    }
    pub fn reads_heap(self) -> bool {
        self.has(READS_HEAP)
    }
    pub fn writes_heap(self) -> bool {
        self.has(WRITES_HEAP)
    }
    pub fn allocates(self) -> bool {
        self.has(ALLOC)
    }
    pub fn is_ovf(self) -> bool {
        self.has(OVF)
    }
    pub fn is_comparison(self) -> bool {
        self.has(COMPARISON)
    }
    pub fn is_commutative(self) -> bool {
        self.has(COMMUTATIVE)
    }
    pub fn is_final(self) -> bool {
        self.has(FINAL)
    }
    pub fn is_marker(self) -> bool {
        self.has(MARKER)
    }
    pub fn is_immutable_read(self) -> bool {
        self.has(IMMUTABLE_READ)
    }
    /// See [`flags::DEREF`].
    pub fn dereferences_first_operand(self) -> bool {
        self.has(DEREF)
    }

    /// True if dropping the op when its result is unused could change what the program does.
    /// Calls count as effects here whatever their descr says; passes that know the effect class
    /// refine this with [`crate::descr::CallDescr`].
    pub fn has_side_effects(self) -> bool {
        self.has(GUARD | WRITES_HEAP | CALL | FINAL | EFFECT | CAN_RAISE | OVF) || self == Opcode::Label
    }

    /// For call ops, the index of the operand that is the function called: 0 for most calls,
    /// 1 after `cond_call`'s condition, `cond_call_value`'s value or `call_release_gil`'s
    /// save-errno flag, 1 after `record_known_result`'s result. `None` for `call_assembler`
    /// (its target is its descr) and for ops that are not calls.
    pub fn call_target_index(self) -> Option<usize> {
        use Opcode::*;
        match self {
            CondCallN | CondCallValueI | CondCallValueR | CallReleaseGilI | CallReleaseGilF
            | CallReleaseGilN | CallReleaseGilR | RecordKnownResult => Some(1),
            CallAssemblerI | CallAssemblerR | CallAssemblerF | CallAssemblerN => None,
            _ if self.is_call() => Some(0),
            _ => None,
        }
    }

    /// The op carries a source-location string (`debug_merge_point(0, 0, 'loc')`).
    pub fn takes_text(self) -> bool {
        matches!(self, Opcode::DebugMergePoint | Opcode::JitDebug)
    }

    /// A short word for the op's kind, used by `tracelab stats`.
    pub fn kind_name(self) -> &'static str {
        if self.is_guard() {
            "guard"
        } else if self.is_call() {
            "call"
        } else if self.allocates() {
            "allocation"
        } else if self.writes_heap() || self.reads_heap() {
            "heap"
        } else if self.is_marker() {
            "marker"
        } else if matches!(self, Opcode::Jump | Opcode::Finish | Opcode::Label) {
            "control"
        } else if self.is_pure() || self.is_ovf() {
            "arithmetic"
        } else {
            "other"
        }
    }
}

impl std::fmt::Display for Opcode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_is_unique_and_found() {
        assert_eq!(name_table().len(), Opcode::ALL.len());
        for &op in Opcode::ALL {
            assert_eq!(Opcode::from_name(op.name()), Some(op));
        }
    }

    #[test]
    fn dereferencing_ops_access_gc_memory_through_a_reference() {
        for &op in Opcode::ALL.iter().filter(|o| o.dereferences_first_operand()) {
            assert_eq!(op.operand_type(0), Some(OperandType::Exactly(Type::Ref)), "{op}");
            assert!(op.reads_heap() || op.writes_heap(), "{op}");
            assert!(!op.is_marker(), "{op} generates code");
        }
        assert!(Opcode::GetfieldGcR.dereferences_first_operand() && Opcode::Strlen.dereferences_first_operand());
        assert!(!Opcode::GetfieldRawI.dereferences_first_operand() && !Opcode::QuasiimmutField.dereferences_first_operand());
    }

    #[test]
    fn table_covers_pypy_vocabulary() {
        // About 220 concrete ops in PyPy 7.3's resoperation table.
        assert!(Opcode::ALL.len() >= 215, "only {} opcodes", Opcode::ALL.len());
    }

    #[test]
    fn signatures_parse() {
        assert_eq!(Opcode::IntAdd.fixed_arity(), 2);
        assert_eq!(Opcode::IntAdd.result_type(), Type::Int);
        assert_eq!(Opcode::CallR.operand_type(0), Some(OperandType::Exactly(Type::Int)));
        assert_eq!(Opcode::CallR.operand_type(7), Some(OperandType::Any));
        assert_eq!(Opcode::SetfieldGc.result_type(), Type::Void);
        assert_eq!(Opcode::GuardTrue.operand_type(1), None);
        for &op in Opcode::ALL {
            let _ = op.fixed_operands().count();
            let _ = op.result_type();
        }
    }

    #[test]
    fn suffix_matches_result_type() {
        for &op in Opcode::ALL {
            let n = op.name();
            // record_exact_value_{i,r} name the operand's type; they produce nothing.
            let want = if n.starts_with("record_") {
                None
            } else if n.ends_with("_i") {
                Some(Type::Int)
            } else if n.ends_with("_r") {
                Some(Type::Ref)
            } else if n.ends_with("_f") {
                Some(if n.starts_with("vec_load") { Type::Vector } else { Type::Float })
            } else if n.ends_with("_n") {
                Some(Type::Void)
            } else {
                None
            };
            if let Some(t) = want {
                if !n.starts_with("vec_") || n.starts_with("vec_unpack") {
                    assert_eq!(op.result_type(), t, "{n}");
                }
            }
        }
    }
}
