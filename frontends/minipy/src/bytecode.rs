//! minipy's bytecode: a stack machine close to CPython 3.11's, one [`Op`] per instruction
//! with its operands, a source line per instruction and a static exception table (no block
//! stack at run time). A code object is immutable once compiled; its position (`CodeId`, pc)
//! is what the JIT will treat as green.

/// Index of a compiled code object in the VM's code table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CodeId(pub u32);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinOp {
    Add, Sub, Mul, TrueDiv, FloorDiv, Mod, Pow, LShift, RShift, And, Or, Xor, MatMul,
}

impl BinOp {
    /// In declaration order: `op as usize` indexes it (how a trace passes an operator).
    pub const ALL: [BinOp; 13] = [
        BinOp::Add, BinOp::Sub, BinOp::Mul, BinOp::TrueDiv, BinOp::FloorDiv, BinOp::Mod, BinOp::Pow, BinOp::LShift,
        BinOp::RShift, BinOp::And, BinOp::Or, BinOp::Xor, BinOp::MatMul,
    ];
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CmpOp {
    Lt, Le, Eq, Ne, Gt, Ge,
}

impl CmpOp {
    /// In declaration order: `op as usize` indexes it.
    pub const ALL: [CmpOp; 6] = [CmpOp::Lt, CmpOp::Le, CmpOp::Eq, CmpOp::Ne, CmpOp::Gt, CmpOp::Ge];
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnOp {
    Neg, Pos, Invert, Not,
}

impl UnOp {
    /// In declaration order: `op as usize` indexes it.
    pub const ALL: [UnOp; 4] = [UnOp::Neg, UnOp::Pos, UnOp::Invert, UnOp::Not];
}

/// A compile-time constant.
#[derive(Clone, Debug, PartialEq)]
pub enum Const {
    None,
    Bool(bool),
    Int(i64),
    BigInt(num_bigint::BigInt),
    Float(f64),
    Str(String),
    Ellipsis,
    Code(CodeId),
    /// A tuple of names (keyword argument names of a call).
    Names(Vec<String>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Nop,
    Pop,
    Dup,
    DupTwo,
    Rot2,
    Rot3,
    Rot4,
    LoadConst(u32),
    LoadFast(u32),
    StoreFast(u32),
    DeleteFast(u32),
    /// Cells and free variables, indexed after the locals.
    LoadDeref(u32),
    StoreDeref(u32),
    DeleteDeref(u32),
    /// Pushes the cell object itself (to build a closure).
    LoadClosure(u32),
    LoadGlobal(u32),
    StoreGlobal(u32),
    DeleteGlobal(u32),
    /// Class bodies: the namespace dict first, then globals, then builtins.
    LoadName(u32),
    StoreName(u32),
    DeleteName(u32),
    LoadAttr(u32),
    StoreAttr(u32),
    DeleteAttr(u32),
    /// Pushes `meth, self` or `func, NULL` for `CallMethod`.
    LoadMethod(u32),
    CallMethod(u32),
    Binary(BinOp),
    InPlace(BinOp),
    Unary(UnOp),
    Compare(CmpOp),
    Is(bool),
    Contains(bool),
    Subscr,
    StoreSubscr,
    DeleteSubscr,
    BuildTuple(u32),
    BuildList(u32),
    BuildSet(u32),
    BuildMap(u32),
    /// 2 or 3 operands.
    BuildSlice(u32),
    /// Concatenates n strings (f-strings).
    BuildString(u32),
    /// `conversion` is 0, b's', b'r' or b'a'; with a spec the spec is on top.
    FormatValue { conversion: u8, has_spec: bool },
    /// Appends TOS to the list at depth n (below TOS, 1-based) and pops it.
    ListAppend(u32),
    SetAdd(u32),
    MapAdd(u32),
    ListExtend(u32),
    SetUpdate(u32),
    DictUpdate(u32),
    ListToTuple,
    UnpackSequence(u32),
    UnpackEx { before: u16, after: u16 },
    Jump(u32),
    PopJumpIfFalse(u32),
    PopJumpIfTrue(u32),
    JumpIfFalseOrPop(u32),
    JumpIfTrueOrPop(u32),
    /// Jumps to the target if TOS is not None (pops it).
    PopJumpIfNotNone(u32),
    GetIter,
    /// Pushes the next item, or pops the iterator and jumps when it is exhausted.
    ForIter(u32),
    /// `yield from`: pushes the next item, or replaces the iterator by its return value (a
    /// generator's `return` value, else None) and jumps when it is exhausted.
    YieldFromNext(u32),
    /// `n` positional arguments above the callable.
    Call(u32),
    /// `n` arguments, the last `Const::Names` of them keywords, names in the constant.
    CallKw { nargs: u32, names: u32 },
    /// `callable, args-tuple[, kwargs-dict]`.
    CallEx { has_kwargs: bool },
    /// Code constant on top; below it, as flagged: closure tuple, kw-defaults dict, defaults tuple.
    MakeFunction { defaults: bool, kwdefaults: bool, closure: bool },
    Return,
    Yield,
    /// `raise`, `raise x`, `raise x from y`.
    Raise(u32),
    /// Re-raises the exception on top (end of a finally or unmatched handler).
    Reraise,
    /// In a handler: pushes the exception being handled as the current one.
    PushExcInfo,
    /// Pops the handled exception (leaving a handler).
    PopExcept,
    /// `exc, type` → `exc, bool`.
    CheckExcMatch,
    /// `ctx` → `exit, enter()`.
    BeforeWith,
    /// `exit, exc` → calls `exit(type, exc, tb)`; pushes its truth.
    WithExceptStart,
    LoadBuildClass,
    ImportName(u32),
    ImportFrom(u32),
    ImportStar,
    LoadAssertionError,
    /// Sets the `__class__` cell of a class body (deref index) to the class on top.
    SetClassCell(u32),
}

/// Where an exception raised at an instruction goes: the value stack is truncated to
/// `depth` and execution continues at `handler` with the exception pushed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Handler {
    pub handler: u32,
    pub depth: u32,
    /// How many `except`/`finally` handlers of this frame are running around it: on entry,
    /// the handled-exception stack is cut back to this.
    pub level: u32,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CodeFlags {
    pub varargs: bool,
    pub varkw: bool,
    pub generator: bool,
    /// A class body or module: names go through `LoadName`/`StoreName`.
    pub namespace: bool,
}

/// A compiled function body, class body or module.
#[derive(Clone, Debug)]
pub struct Code {
    pub name: String,
    pub qualname: String,
    pub filename: String,
    pub first_line: u32,
    pub ops: Vec<Op>,
    pub lines: Vec<u32>,
    pub consts: Vec<Const>,
    pub names: Vec<String>,
    /// Local variable names; the first `argcount + kwonly (+1 +1)` are the parameters.
    pub varnames: Vec<String>,
    pub cellvars: Vec<String>,
    pub freevars: Vec<String>,
    /// For each cell variable that is also a parameter, its local index.
    pub cell_params: Vec<Option<u32>>,
    pub argcount: u32,
    pub kwonlyargcount: u32,
    pub flags: CodeFlags,
    /// Per instruction, the handler an exception raised there goes to.
    pub handlers: Vec<Option<Handler>>,
    pub max_stack: u32,
}

impl Code {
    /// Value slots a frame needs: locals, cells and free variables, then the stack.
    pub fn frame_slots(&self) -> usize {
        self.varnames.len() + self.cellvars.len() + self.freevars.len() + self.max_stack as usize
    }

    /// Whether the code has a loop: a jump back to an earlier instruction (the loop headers
    /// the JIT's merge points are at).
    pub fn has_loops(&self) -> bool {
        self.ops.iter().enumerate().any(|(pc, op)| match *op {
            Op::Jump(t) | Op::PopJumpIfFalse(t) | Op::PopJumpIfTrue(t) | Op::JumpIfFalseOrPop(t) | Op::JumpIfTrueOrPop(t) | Op::PopJumpIfNotNone(t) => t as usize <= pc,
            _ => false,
        })
    }

    pub fn ncells(&self) -> usize {
        self.cellvars.len() + self.freevars.len()
    }

    /// The handler of the instruction at `pc`.
    pub fn handler_for(&self, pc: u32) -> Option<Handler> {
        self.handlers.get(pc as usize).copied().flatten()
    }
}
