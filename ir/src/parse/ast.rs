//! The syntax tree the grammar produces: text as written, with spans, before names are
//! resolved and types checked (that is [`super::lower`]'s job).

use crate::trace::Span;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Name<'s> {
    pub text: &'s str,
    pub span: Span,
}

#[derive(Debug)]
pub struct File<'s> {
    pub items: Vec<Item<'s>>,
}

#[derive(Debug)]
pub enum Item<'s> {
    Descr { name: Name<'s>, lit: DescrLit<'s> },
    /// `extern TargetToken(N) [int, ref]`: a label of another module that jumps may target.
    Extern { token: &'s str, params: Vec<Name<'s>>, span: Span },
    Trace(TraceAst<'s>),
}

#[derive(Debug)]
pub enum Header<'s> {
    Loop(Name<'s>),
    Bridge { name: Name<'s>, guard: Name<'s> },
    Func { name: Name<'s>, result: Name<'s> },
    /// A trace pasted without a header, as PyPy's logs print it.
    Bare,
}

#[derive(Debug)]
pub struct TraceAst<'s> {
    pub header: Header<'s>,
    pub inputs: Vec<Name<'s>>,
    pub vable: Option<VableAst<'s>>,
    pub ops: Vec<OpAst<'s>>,
    pub span: Span,
}

#[derive(Debug)]
pub struct VableAst<'s> {
    pub frame: Name<'s>,
    /// `field` or `field[array_descr]`.
    pub entries: Vec<(Name<'s>, Option<Name<'s>>)>,
}

#[derive(Debug)]
pub struct OpAst<'s> {
    pub result: Option<Name<'s>>,
    pub opname: Name<'s>,
    pub args: Vec<Arg<'s>>,
    pub fail_args: Option<Vec<Operand<'s>>>,
    pub resume: Option<Vec<ResumeItem<'s>>>,
    pub span: Span,
}

#[derive(Debug)]
pub enum Arg<'s> {
    Operand(Operand<'s>),
    /// `name=operand`: a label parameter with an explicit entry value.
    Bind(Name<'s>, Operand<'s>),
    Descr(DescrRef<'s>),
    Str(&'s str, Span),
}

#[derive(Debug, Clone)]
pub enum OperandKind<'s> {
    Name(&'s str),
    Int(&'s str),
    Float(&'s str),
    None,
    ConstPtr(&'s str),
    ConstClass(&'s str),
    Func(&'s str),
    Virt(&'s str),
}

#[derive(Debug, Clone)]
pub struct Operand<'s> {
    pub kind: OperandKind<'s>,
    pub span: Span,
}

#[derive(Debug)]
pub enum DescrRef<'s> {
    Name(Name<'s>),
    Lit(DescrLit<'s>),
    TargetToken(&'s str, Span),
}

#[derive(Debug)]
pub struct DescrLit<'s> {
    pub head: Name<'s>,
    pub items: Vec<DescrItem<'s>>,
    pub span: Span,
}

#[derive(Debug)]
pub enum DescrItem<'s> {
    Word(Name<'s>),
    Int(&'s str, Span),
    KeyValue(Name<'s>, Name<'s>),
    /// `key=(a, b)`: a call descr's read or write set.
    KeyList(Name<'s>, Vec<Name<'s>>),
    Nested(DescrLit<'s>),
}

#[derive(Debug)]
pub enum ResumeItem<'s> {
    Frame { code: &'s str, pc_key: Name<'s>, pc: &'s str, slots: Vec<Operand<'s>>, span: Span },
    Virtual { name: Name<'s>, alloc: Name<'s>, args: Vec<Arg<'s>>, fields: Vec<(FieldKeyAst<'s>, Operand<'s>)>, span: Span },
    Vable { field: Name<'s>, index: Option<(&'s str, Span)>, value: Operand<'s>, span: Span },
    /// A pending write: `setfield_gc(obj, value, descr=d)` or `setarrayitem_gc(obj, i, value, descr=d)`.
    Write { op: Name<'s>, args: Vec<Arg<'s>>, span: Span },
}

#[derive(Debug)]
pub enum FieldKeyAst<'s> {
    Descr(DescrRef<'s>),
    Index(&'s str, Span),
}
