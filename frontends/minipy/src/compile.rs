//! From ruff's Python AST to minipy's bytecode: one [`Code`] per module, function, lambda,
//! class body and comprehension, with a line per instruction and an exception handler per
//! instruction. Names are resolved by [`crate::scope`] first. `return`, `break` and
//! `continue` run the `finally` bodies and `with` exits they leave, compiled inline, as
//! CPython 3.11 does.

use crate::bytecode::{BinOp, CmpOp, Code, CodeFlags, CodeId, Const, Handler, Op, UnOp};
use crate::scope::{self, Access, ScopeKind, Scopes};
use ruff_python_ast::{self as ast, Expr, Stmt};
use ruff_text_size::{Ranged, TextRange};

/// A compile-time error: a syntax error or a construct minipy does not support.
#[derive(Clone, Debug)]
pub struct CompileError {
    pub kind: ErrorKind,
    pub message: String,
    pub offset: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    Syntax,
    /// A `SyntaxError` CPython reports as its subclass `IndentationError`.
    Indentation,
    Unsupported,
}

type Result<T> = std::result::Result<T, CompileError>;

fn unsupported<T>(what: &str, at: TextRange) -> Result<T> {
    Err(CompileError { kind: ErrorKind::Unsupported, message: format!("minipy does not support {what}"), offset: at.start().into() })
}

fn syntax<T>(message: &str, at: TextRange) -> Result<T> {
    Err(CompileError { kind: ErrorKind::Syntax, message: message.to_string(), offset: at.start().into() })
}

/// Parses and compiles a module; the codes go into `codes` and the module's id is returned.
pub fn compile_module(source: &str, filename: &str, name: &str, codes: &mut Vec<Code>) -> Result<CodeId> {
    let parsed = match ruff_python_parser::parse_module(source) {
        Ok(p) => p,
        Err(e) => {
            return Err(crate::syntaxerr::from_ruff(source, &e.error.to_string(), e.location));
        }
    };
    let module = parsed.into_syntax();
    let scopes = scope::analyze(&module.body, module.range);
    let lines = LineIndex::new(source);
    let mut c = Compiler { scopes: &scopes, codes, lines: &lines, filename, units: Vec::new() };
    c.push_unit(0, name, name, CodeFlags { namespace: true, ..CodeFlags::default() }, 1);
    c.stmts(&module.body)?;
    c.emit_const(Const::None);
    c.emit(Op::Return);
    Ok(c.pop_unit())
}

/// Byte offset to 1-based line and column.
pub struct LineIndex {
    starts: Vec<u32>,
}

impl LineIndex {
    pub fn new(source: &str) -> LineIndex {
        let mut starts = vec![0];
        starts.extend(source.match_indices('\n').map(|(i, _)| i as u32 + 1));
        LineIndex { starts }
    }

    pub fn line(&self, offset: u32) -> u32 {
        match self.starts.binary_search(&offset) {
            Ok(i) => i as u32 + 1,
            Err(i) => i as u32,
        }
    }

    pub fn line_start(&self, line: u32) -> u32 {
        self.starts.get(line as usize - 1).copied().unwrap_or(0)
    }
}

/// What leaving a block through `return`/`break`/`continue` must undo.
#[derive(Clone)]
enum Unwind<'a> {
    /// A `for` loop's iterator is on the stack.
    Loop { is_for: bool, start: Label, end: Label },
    Finally(&'a [Stmt]),
    /// A `with`'s exit function is on the stack.
    With,
    /// An `except` body: the handled exception is on the stack.
    Except,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
struct Label(usize);

struct Unit<'a> {
    code: Code,
    scope: usize,
    depth: i32,
    max_depth: i32,
    handlers: Vec<Option<Handler>>,
    level: u32,
    unwind: Vec<(Unwind<'a>, Option<Handler>, u32)>,
    labels: Vec<Option<u32>>,
    /// (instruction, label) pairs to patch.
    fixups: Vec<(usize, Label)>,
    line: u32,
}

struct Compiler<'a, 'c> {
    scopes: &'a Scopes,
    codes: &'c mut Vec<Code>,
    lines: &'a LineIndex,
    filename: &'a str,
    units: Vec<Unit<'a>>,
}

fn stack_effect(op: &Op) -> i32 {
    use Op::*;
    match *op {
        Nop | Rot2 | Rot3 | Rot4 | Unary(_) | GetIter | Jump(_) | LoadAttr(_) | ListToTuple
        | FormatValue { has_spec: false, .. } | DeleteFast(_) | DeleteDeref(_) | DeleteGlobal(_) | DeleteName(_)
        | LoadAssertionError | ImportFrom(_) | SetClassCell(_) => match *op {
            LoadAssertionError | ImportFrom(_) => 1,
            _ => 0,
        },
        Pop | StoreFast(_) | StoreDeref(_) | StoreGlobal(_) | StoreName(_) | DeleteAttr(_) | PopJumpIfFalse(_)
        | PopJumpIfTrue(_) | PopJumpIfNotNone(_) | Binary(_) | InPlace(_) | Compare(_) | Is(_) | Contains(_) | Subscr
        | ListAppend(_) | SetAdd(_) | ListExtend(_) | SetUpdate(_) | DictUpdate(_) | Return | Reraise
        | FormatValue { has_spec: true, .. } | ImportStar => -1,
        Dup | LoadConst(_) | LoadFast(_) | LoadDeref(_) | LoadClosure(_) | LoadGlobal(_) | LoadName(_)
        | LoadBuildClass | PushExcInfo => 1,
        DupTwo => 2,
        LoadMethod(_) => 1,
        CallMethod(n) => -(n as i32) - 1,
        StoreAttr(_) | DeleteSubscr | MapAdd(_) => -2,
        StoreSubscr => -3,
        BuildTuple(n) | BuildList(n) | BuildSet(n) | BuildString(n) => 1 - n as i32,
        BuildMap(n) => 1 - 2 * n as i32,
        BuildSlice(n) => 1 - n as i32,
        UnpackSequence(n) => n as i32 - 1,
        UnpackEx { before, after } => before as i32 + after as i32,
        JumpIfFalseOrPop(_) | JumpIfTrueOrPop(_) => -1,
        ForIter(_) | YieldFromNext(_) => 1,
        Call(n) => -(n as i32),
        CallKw { nargs, .. } => -(nargs as i32),
        CallEx { has_kwargs } => -1 - has_kwargs as i32,
        MakeFunction { defaults, kwdefaults, closure } => -(defaults as i32) - (kwdefaults as i32) - (closure as i32),
        Yield => 0,
        Raise(n) => -(n as i32),
        PopExcept => -1,
        CheckExcMatch => 0,
        BeforeWith => 1,
        WithExceptStart => 1,
        ImportName(_) => 0,
    }
}

impl<'a, 'c> Compiler<'a, 'c> {
    fn unit(&mut self) -> &mut Unit<'a> {
        self.units.last_mut().expect("a unit is open")
    }

    fn push_unit(&mut self, scope: usize, name: &str, qualname: &str, flags: CodeFlags, line: u32) {
        let sc = &self.scopes.scopes[scope];
        let code = Code {
            name: name.to_string(),
            qualname: qualname.to_string(),
            filename: self.filename.to_string(),
            first_line: line,
            ops: vec![],
            lines: vec![],
            consts: vec![],
            names: vec![],
            varnames: if sc.kind == ScopeKind::Function { sc.locals.clone() } else { vec![] },
            cellvars: sc.cells.clone(),
            freevars: sc.frees.clone(),
            cell_params: vec![],
            argcount: 0,
            kwonlyargcount: 0,
            flags,
            handlers: vec![],
            max_stack: 0,
        };
        let level = 0;
        self.units.push(Unit {
            code, scope, depth: 0, max_depth: 0, handlers: vec![None], level, unwind: vec![], labels: vec![],
            fixups: vec![], line,
        });
    }

    fn pop_unit(&mut self) -> CodeId {
        let mut u = self.units.pop().expect("a unit is open");
        for (at, label) in std::mem::take(&mut u.fixups) {
            let target = u.labels[label.0].expect("every label is placed");
            u.code.ops[at] = retarget(u.code.ops[at], target);
        }
        u.code.max_stack = u.max_depth.max(0) as u32 + 2;
        finish_handlers(&mut u.code, &u.labels);
        u.code.cell_params =
            u.code.cellvars.iter().map(|c| u.code.varnames.iter().position(|v| v == c).map(|i| i as u32)).collect();
        self.codes.push(u.code);
        CodeId(self.codes.len() as u32 - 1)
    }

    fn set_line(&mut self, at: TextRange) {
        let line = self.lines.line(at.start().into());
        self.unit().line = line;
    }

    fn emit(&mut self, op: Op) {
        let u = self.unit();
        u.code.ops.push(op);
        u.code.lines.push(u.line);
        let h = *u.handlers.last().expect("handler stack");
        u.code.handlers.push(h);
        u.depth += stack_effect(&op);
        u.max_depth = u.max_depth.max(u.depth);
    }

    fn new_label(&mut self) -> Label {
        let u = self.unit();
        u.labels.push(None);
        Label(u.labels.len() - 1)
    }

    fn place(&mut self, l: Label) {
        let u = self.unit();
        u.labels[l.0] = Some(u.code.ops.len() as u32);
    }

    fn jump(&mut self, make: fn(u32) -> Op, l: Label) {
        let at = self.unit().code.ops.len();
        self.emit(make(0));
        self.unit().fixups.push((at, l));
    }

    fn set_depth(&mut self, d: i32) {
        self.unit().depth = d;
    }

    fn depth(&mut self) -> i32 {
        self.unit().depth
    }

    fn add_const(&mut self, c: Const) -> u32 {
        let consts = &mut self.unit().code.consts;
        if let Some(i) = consts.iter().position(|k| same_const(k, &c)) {
            return i as u32;
        }
        consts.push(c);
        consts.len() as u32 - 1
    }

    fn emit_const(&mut self, c: Const) {
        let i = self.add_const(c);
        self.emit(Op::LoadConst(i));
    }

    fn name_index(&mut self, name: &str) -> u32 {
        let names = &mut self.unit().code.names;
        if let Some(i) = names.iter().position(|n| n == name) {
            return i as u32;
        }
        names.push(name.to_string());
        names.len() as u32 - 1
    }

    fn deref_index(&mut self, name: &str) -> u32 {
        let code = &self.unit().code;
        let base = code.varnames.len();
        let i = code.cellvars.iter().position(|c| c == name).or_else(|| code.freevars.iter().position(|c| c == name).map(|i| i + code.cellvars.len()));
        (base + i.unwrap_or(0)) as u32
    }

    fn push_handler(&mut self, target: Label, level: u32) {
        let depth = self.depth() as u32;
        let u = self.unit();
        // The handler's pc is patched when the label is placed (see `finish_handlers`).
        u.handlers.push(Some(Handler { handler: target.0 as u32 | HANDLER_LABEL, depth, level }));
    }

    fn pop_handler(&mut self) {
        self.unit().handlers.pop();
    }

    fn current_handler(&mut self) -> Option<Handler> {
        *self.unit().handlers.last().expect("handler stack")
    }

    // ---- names ----

    fn load_name(&mut self, name: &str) {
        let scope = self.unit().scope;
        let op = match self.scopes.access(scope, name) {
            Access::Fast => Op::LoadFast(self.local_index(name)),
            Access::Deref => Op::LoadDeref(self.deref_index(name)),
            Access::Global => Op::LoadGlobal(self.name_index(name)),
            Access::Name => Op::LoadName(self.name_index(name)),
        };
        self.emit(op);
    }

    fn store_name(&mut self, name: &str) {
        let scope = self.unit().scope;
        let op = match self.scopes.access(scope, name) {
            Access::Fast => Op::StoreFast(self.local_index(name)),
            Access::Deref => Op::StoreDeref(self.deref_index(name)),
            Access::Global => Op::StoreGlobal(self.name_index(name)),
            Access::Name => Op::StoreName(self.name_index(name)),
        };
        self.emit(op);
    }

    fn delete_name(&mut self, name: &str) {
        let scope = self.unit().scope;
        let op = match self.scopes.access(scope, name) {
            Access::Fast => Op::DeleteFast(self.local_index(name)),
            Access::Deref => Op::DeleteDeref(self.deref_index(name)),
            Access::Global => Op::DeleteGlobal(self.name_index(name)),
            Access::Name => Op::DeleteName(self.name_index(name)),
        };
        self.emit(op);
    }

    fn local_index(&mut self, name: &str) -> u32 {
        let vars = &mut self.unit().code.varnames;
        match vars.iter().position(|v| v == name) {
            Some(i) => i as u32,
            None => {
                vars.push(name.to_string());
                vars.len() as u32 - 1
            }
        }
    }

    // ---- statements ----

    fn stmts(&mut self, body: &'a [Stmt]) -> Result<()> {
        for s in body {
            self.stmt(s)?;
        }
        Ok(())
    }

    fn stmt(&mut self, s: &'a Stmt) -> Result<()> {
        self.set_line(s.range());
        match s {
            Stmt::Expr(e) => {
                self.expr(&e.value)?;
                self.emit(Op::Pop);
            }
            Stmt::Assign(a) => {
                self.expr(&a.value)?;
                for (i, t) in a.targets.iter().enumerate() {
                    if i + 1 < a.targets.len() {
                        self.emit(Op::Dup);
                    }
                    self.store_target(t)?;
                }
            }
            Stmt::AugAssign(a) => self.aug_assign(a)?,
            Stmt::AnnAssign(a) => {
                if let Some(v) = &a.value {
                    self.expr(v)?;
                    self.store_target(&a.target)?;
                }
            }
            Stmt::Pass(_) => {}
            Stmt::If(i) => self.if_stmt(i)?,
            Stmt::While(w) => self.while_stmt(w)?,
            Stmt::For(f) => self.for_stmt(f)?,
            Stmt::Break(b) => self.break_continue(true, b.range)?,
            Stmt::Continue(c) => self.break_continue(false, c.range)?,
            Stmt::Return(r) => self.return_stmt(r)?,
            Stmt::FunctionDef(f) => self.function_def(f)?,
            Stmt::ClassDef(c) => self.class_def(c)?,
            Stmt::Delete(d) => {
                for t in &d.targets {
                    self.delete_target(t)?;
                }
            }
            Stmt::Global(_) => {}
            Stmt::Nonlocal(n) if self.units.len() == 1 => return syntax("nonlocal declaration not allowed at module level", n.range),
            Stmt::Nonlocal(_) => {}
            Stmt::Raise(r) => {
                let mut n = 0;
                if let Some(e) = &r.exc {
                    self.expr(e)?;
                    n = 1;
                    if let Some(c) = &r.cause {
                        self.expr(c)?;
                        n = 2;
                    }
                }
                self.emit(Op::Raise(n));
            }
            Stmt::Assert(a) => {
                let end = self.new_label();
                self.expr(&a.test)?;
                self.jump(Op::PopJumpIfTrue, end);
                self.emit(Op::LoadAssertionError);
                if let Some(m) = &a.msg {
                    self.expr(m)?;
                    self.emit(Op::Call(1));
                }
                self.emit(Op::Raise(1));
                self.place(end);
            }
            Stmt::Try(t) => self.try_stmt(t)?,
            Stmt::With(w) => {
                if w.is_async {
                    return unsupported("async with", w.range);
                }
                self.with_items(&w.items, &w.body)?
            }
            Stmt::Import(i) => {
                for a in &i.names {
                    let level = self.add_const(Const::Int(0));
                    self.emit(Op::LoadConst(level));
                    let name = self.name_index(a.name.as_str());
                    self.emit(Op::ImportName(name));
                    match &a.asname {
                        Some(as_) => {
                            for part in a.name.as_str().split('.').skip(1) {
                                let p = self.name_index(part);
                                self.emit(Op::LoadAttr(p));
                            }
                            self.store_name(as_.as_str())
                        }
                        None => self.store_name(a.name.as_str().split('.').next().unwrap_or("")),
                    }
                }
            }
            Stmt::ImportFrom(i) => {
                if i.level != 0 {
                    return unsupported("relative imports", i.range);
                }
                let module = i.module.as_ref().map(|m| m.as_str()).unwrap_or("");
                let level = self.add_const(Const::Int(1));
                self.emit(Op::LoadConst(level));
                let name = self.name_index(module);
                self.emit(Op::ImportName(name));
                if i.names.len() == 1 && i.names[0].name.as_str() == "*" {
                    self.emit(Op::ImportStar);
                    return Ok(());
                }
                for a in &i.names {
                    let n = self.name_index(a.name.as_str());
                    self.emit(Op::ImportFrom(n));
                    self.store_name(a.asname.as_ref().unwrap_or(&a.name).as_str());
                }
                self.emit(Op::Pop);
            }
            Stmt::Match(m) => return unsupported("the match statement", m.range),
            Stmt::TypeAlias(t) => return unsupported("type aliases", t.range),
            Stmt::IpyEscapeCommand(c) => return syntax("invalid syntax", c.range),
        }
        Ok(())
    }

    fn aug_assign(&mut self, a: &'a ast::StmtAugAssign) -> Result<()> {
        let op = Op::InPlace(binop(a.op));
        match &*a.target {
            Expr::Name(n) => {
                self.load_name(n.id.as_str());
                self.expr(&a.value)?;
                self.emit(op);
                self.store_name(n.id.as_str());
            }
            Expr::Attribute(at) => {
                self.expr(&at.value)?;
                self.emit(Op::Dup);
                let n = self.name_index(at.attr.as_str());
                self.emit(Op::LoadAttr(n));
                self.expr(&a.value)?;
                self.emit(op);
                self.emit(Op::Rot2);
                self.emit(Op::StoreAttr(n));
            }
            Expr::Subscript(sub) => {
                self.expr(&sub.value)?;
                self.expr(&sub.slice)?;
                self.emit(Op::DupTwo);
                self.emit(Op::Subscr);
                self.expr(&a.value)?;
                self.emit(op);
                self.emit(Op::Rot3);
                self.emit(Op::StoreSubscr);
            }
            other => return syntax("'expression' is an illegal expression for augmented assignment", other.range()),
        }
        Ok(())
    }

    fn store_target(&mut self, t: &'a Expr) -> Result<()> {
        match t {
            Expr::Name(n) => self.store_name(n.id.as_str()),
            Expr::Attribute(a) => {
                self.expr(&a.value)?;
                let n = self.name_index(a.attr.as_str());
                self.emit(Op::StoreAttr(n));
            }
            Expr::Subscript(s) => {
                self.expr(&s.value)?;
                self.expr(&s.slice)?;
                self.emit(Op::StoreSubscr);
            }
            Expr::Tuple(ast::ExprTuple { elts, .. }) | Expr::List(ast::ExprList { elts, .. }) => {
                self.unpack(elts, t.range())?;
            }
            Expr::Starred(s) => return syntax("starred assignment target must be in a list or tuple", s.range),
            other => return syntax("cannot assign to expression", other.range()),
        }
        Ok(())
    }

    fn unpack(&mut self, elts: &'a [Expr], at: TextRange) -> Result<()> {
        let star = elts.iter().position(|e| matches!(e, Expr::Starred(_)));
        match star {
            None => self.emit(Op::UnpackSequence(elts.len() as u32)),
            Some(i) => {
                if elts.iter().filter(|e| matches!(e, Expr::Starred(_))).count() > 1 {
                    return syntax("multiple starred expressions in assignment", at);
                }
                self.emit(Op::UnpackEx { before: i as u16, after: (elts.len() - i - 1) as u16 });
            }
        }
        for e in elts {
            match e {
                Expr::Starred(s) => self.store_target(&s.value)?,
                other => self.store_target(other)?,
            }
        }
        Ok(())
    }

    fn delete_target(&mut self, t: &'a Expr) -> Result<()> {
        match t {
            Expr::Name(n) => self.delete_name(n.id.as_str()),
            Expr::Attribute(a) => {
                self.expr(&a.value)?;
                let n = self.name_index(a.attr.as_str());
                self.emit(Op::DeleteAttr(n));
            }
            Expr::Subscript(s) => {
                self.expr(&s.value)?;
                self.expr(&s.slice)?;
                self.emit(Op::DeleteSubscr);
            }
            Expr::Tuple(ast::ExprTuple { elts, .. }) | Expr::List(ast::ExprList { elts, .. }) => {
                for e in elts {
                    self.delete_target(e)?;
                }
            }
            other => return syntax("cannot delete expression", other.range()),
        }
        Ok(())
    }

    fn if_stmt(&mut self, i: &'a ast::StmtIf) -> Result<()> {
        let end = self.new_label();
        let mut next = self.new_label();
        self.cond_jump(&i.test, false, next)?;
        self.stmts(&i.body)?;
        for clause in &i.elif_else_clauses {
            self.jump(Op::Jump, end);
            self.place(next);
            next = self.new_label();
            if let Some(test) = &clause.test {
                self.set_line(test.range());
                self.cond_jump(test, false, next)?;
            }
            self.stmts(&clause.body)?;
        }
        self.place(next);
        self.place(end);
        Ok(())
    }

    /// Evaluates `test` and jumps to `target` when its truth is `when`.
    fn cond_jump(&mut self, test: &'a Expr, when: bool, target: Label) -> Result<()> {
        match test {
            Expr::UnaryOp(u) if u.op == ast::UnaryOp::Not => return self.cond_jump(&u.operand, !when, target),
            Expr::BoolOp(b) => {
                let is_and = b.op == ast::BoolOp::And;
                if is_and != when {
                    // `a and b` jumping when false (or `a or b` when true): any operand decides.
                    for v in &b.values {
                        self.cond_jump(v, when, target)?;
                    }
                } else {
                    let skip = self.new_label();
                    let (last, rest) = b.values.split_last().expect("a bool op has operands");
                    for v in rest {
                        self.cond_jump(v, !when, skip)?;
                    }
                    self.cond_jump(last, when, target)?;
                    self.place(skip);
                }
                return Ok(());
            }
            _ => {}
        }
        self.expr(test)?;
        self.jump(if when { Op::PopJumpIfTrue } else { Op::PopJumpIfFalse }, target);
        Ok(())
    }

    fn while_stmt(&mut self, w: &'a ast::StmtWhile) -> Result<()> {
        let start = self.new_label();
        let end = self.new_label();
        let orelse = self.new_label();
        self.place(start);
        self.cond_jump(&w.test, false, orelse)?;
        self.push_unwind(Unwind::Loop { is_for: false, start, end });
        self.stmts(&w.body)?;
        self.unit().unwind.pop();
        self.set_line(w.range);
        self.jump(Op::Jump, start);
        self.place(orelse);
        self.stmts(&w.orelse)?;
        self.place(end);
        Ok(())
    }

    fn push_unwind(&mut self, u: Unwind<'a>) {
        let h = self.current_handler();
        let depth = self.depth() as u32;
        self.unit().unwind.push((u, h, depth));
    }

    fn for_stmt(&mut self, f: &'a ast::StmtFor) -> Result<()> {
        if f.is_async {
            return unsupported("async for", f.range);
        }
        let start = self.new_label();
        let end = self.new_label();
        let exhausted = self.new_label();
        self.expr(&f.iter)?;
        self.emit(Op::GetIter);
        self.place(start);
        let depth = self.depth();
        self.jump(Op::ForIter, exhausted);
        self.push_unwind(Unwind::Loop { is_for: true, start, end });
        self.store_target(&f.target)?;
        self.stmts(&f.body)?;
        self.unit().unwind.pop();
        self.set_line(f.range);
        self.jump(Op::Jump, start);
        self.place(exhausted);
        self.set_depth(depth - 1);
        self.stmts(&f.orelse)?;
        self.place(end);
        Ok(())
    }

    fn break_continue(&mut self, is_break: bool, at: TextRange) -> Result<()> {
        let unwind = self.unit().unwind.clone();
        let Some(loop_at) = unwind.iter().rposition(|(u, _, _)| matches!(u, Unwind::Loop { .. })) else {
            return syntax(if is_break { "'break' outside loop" } else { "'continue' not properly in loop" }, at);
        };
        let depth = self.depth();
        let saved_handlers = self.unit().handlers.clone();
        for (u, h, _) in unwind[loop_at + 1..].iter().rev() {
            self.run_unwind(u, *h)?;
        }
        let Unwind::Loop { is_for, start, end } = unwind[loop_at].0.clone() else { unreachable!() };
        if is_break && is_for {
            self.emit(Op::Pop);
        }
        self.jump(Op::Jump, if is_break { end } else { start });
        self.unit().handlers = saved_handlers;
        self.set_depth(depth);
        Ok(())
    }

    /// Emits what leaving one block does, with `outer` as the handler while it runs.
    fn run_unwind(&mut self, u: &Unwind<'a>, outer: Option<Handler>) -> Result<()> {
        self.unit().handlers.push(outer);
        match u {
            Unwind::Loop { is_for: true, .. } => self.emit(Op::Pop),
            Unwind::Loop { .. } => {}
            Unwind::Finally(body) => self.stmts(body)?,
            Unwind::With => {
                for _ in 0..3 {
                    self.emit_const(Const::None);
                }
                self.emit(Op::Call(3));
                self.emit(Op::Pop);
            }
            Unwind::Except => self.emit(Op::PopExcept),
        }
        Ok(())
    }

    fn return_stmt(&mut self, r: &'a ast::StmtReturn) -> Result<()> {
        let kind = self.scopes.scopes[self.unit().scope].kind;
        if kind != ScopeKind::Function {
            return syntax("'return' outside function", r.range);
        }
        match &r.value {
            Some(v) => self.expr(v)?,
            None => self.emit_const(Const::None),
        }
        let unwind = self.unit().unwind.clone();
        let needs_unwind = unwind.iter().any(|(u, _, _)| matches!(u, Unwind::Finally(_) | Unwind::With));
        if needs_unwind {
            let depth = self.depth();
            let saved_handlers = self.unit().handlers.clone();
            let tmp = self.local_index(".retval");
            self.emit(Op::StoreFast(tmp));
            for (u, h, _) in unwind.iter().rev() {
                self.run_unwind(u, *h)?;
            }
            self.emit(Op::LoadFast(tmp));
            self.unit().handlers = saved_handlers;
            self.emit(Op::Return);
            self.set_depth(depth - 1);
        } else {
            self.emit(Op::Return);
        }
        Ok(())
    }

    fn try_stmt(&mut self, t: &'a ast::StmtTry) -> Result<()> {
        if t.is_star {
            return unsupported("except*", t.range);
        }
        if t.finalbody.is_empty() {
            return self.try_except(t);
        }
        let handler = self.new_label();
        let end = self.new_label();
        let level = self.unit().level;
        let depth = self.depth();
        self.push_handler(handler, level);
        self.push_unwind(Unwind::Finally(&t.finalbody));
        if t.handlers.is_empty() {
            self.stmts(&t.body)?;
            self.stmts(&t.orelse)?;
        } else {
            self.try_except(t)?;
        }
        self.unit().unwind.pop();
        self.pop_handler();
        self.stmts(&t.finalbody)?;
        self.jump(Op::Jump, end);
        // The exceptional path: the exception is on the stack while the body runs again.
        self.place_handler(handler, depth);
        self.unit().level += 1;
        self.emit(Op::PushExcInfo);
        self.emit(Op::Pop);
        let saved = self.unit().level;
        self.stmts(&t.finalbody)?;
        self.unit().level = saved - 1;
        self.emit(Op::Reraise);
        self.place(end);
        self.set_depth(depth);
        Ok(())
    }

    /// Places a handler label: the stack holds what it held at the `try` plus the exception.
    fn place_handler(&mut self, l: Label, depth: i32) {
        self.place(l);
        self.set_depth(depth + 1);
    }

    fn try_except(&mut self, t: &'a ast::StmtTry) -> Result<()> {
        let handler = self.new_label();
        let end = self.new_label();
        let level = self.unit().level;
        let depth = self.depth();
        self.push_handler(handler, level);
        self.stmts(&t.body)?;
        self.pop_handler();
        self.stmts(&t.orelse)?;
        self.jump(Op::Jump, end);
        self.place_handler(handler, depth);
        self.unit().level += 1;
        // PushExcInfo leaves [exc, exc]; the copy is popped once a clause matched.
        self.emit(Op::PushExcInfo);
        self.emit(Op::Pop);
        for ast::ExceptHandler::ExceptHandler(h) in &t.handlers {
            self.set_line(h.range);
            let next = self.new_label();
            if let Some(ty) = &h.type_ {
                self.emit(Op::Dup);
                self.expr(ty)?;
                self.emit(Op::CheckExcMatch);
                self.emit(Op::Rot2);
                self.emit(Op::Pop);
                self.jump(Op::PopJumpIfFalse, next);
            }
            match &h.name {
                Some(n) => {
                    self.emit(Op::Dup);
                    self.store_name(n.as_str());
                }
                None => {}
            }
            self.push_unwind(Unwind::Except);
            self.stmts(&h.body)?;
            self.unit().unwind.pop();
            self.emit(Op::PopExcept);
            if let Some(n) = &h.name {
                self.emit_const(Const::None);
                self.store_name(n.as_str());
            }
            self.jump(Op::Jump, end);
            self.place(next);
            self.set_depth(depth + 1);
            if h.type_.is_none() {
                break;
            }
        }
        self.emit(Op::Reraise);
        self.unit().level -= 1;
        self.place(end);
        self.set_depth(depth);
        Ok(())
    }

    fn with_items(&mut self, items: &'a [ast::WithItem], body: &'a [Stmt]) -> Result<()> {
        let Some((item, rest)) = items.split_first() else {
            return self.stmts(body);
        };
        let handler = self.new_label();
        let end = self.new_label();
        let swallow = self.new_label();
        self.expr(&item.context_expr)?;
        self.emit(Op::BeforeWith);
        match &item.optional_vars {
            Some(v) => self.store_target(v)?,
            None => self.emit(Op::Pop),
        }
        let depth = self.depth();
        let level = self.unit().level;
        self.push_handler(handler, level);
        self.push_unwind(Unwind::With);
        self.with_items(rest, body)?;
        self.unit().unwind.pop();
        self.pop_handler();
        for _ in 0..3 {
            self.emit_const(Const::None);
        }
        self.emit(Op::Call(3));
        self.emit(Op::Pop);
        self.jump(Op::Jump, end);
        // [exit, exc]
        self.place_handler(handler, depth);
        self.unit().level += 1;
        self.emit(Op::PushExcInfo);
        self.emit(Op::Pop);
        self.emit(Op::WithExceptStart);
        self.jump(Op::PopJumpIfTrue, swallow);
        self.emit(Op::Reraise);
        self.place(swallow);
        self.set_depth(depth + 1);
        self.emit(Op::PopExcept);
        self.emit(Op::Pop);
        self.unit().level -= 1;
        self.place(end);
        self.set_depth(depth - 1);
        Ok(())
    }

    // ---- functions and classes ----

    fn function_def(&mut self, f: &'a ast::StmtFunctionDef) -> Result<()> {
        if f.is_async {
            return unsupported("async functions", f.range);
        }
        for d in &f.decorator_list {
            self.expr(&d.expression)?;
        }
        let line = self.lines.line(f.range.start().into());
        let scope = Scopes::of(f.range, self.scopes);
        let qual = self.qualname(f.name.as_str());
        self.make_function(scope, f.name.as_str(), &qual, &f.parameters, line, |c| {
            c.docstring_skip_body(&f.body)
        })?;
        for _ in &f.decorator_list {
            self.emit(Op::Call(1));
        }
        self.store_name(f.name.as_str());
        Ok(())
    }

    fn docstring_skip_body(&mut self, body: &'a [Stmt]) -> Result<()> {
        self.stmts(body)?;
        self.emit_const(Const::None);
        self.emit(Op::Return);
        Ok(())
    }

    fn qualname(&mut self, name: &str) -> String {
        let parent = self.unit();
        if parent.scope == 0 {
            name.to_string()
        } else if parent.code.flags.namespace {
            format!("{}.{}", parent.code.qualname, name)
        } else {
            format!("{}.<locals>.{}", parent.code.qualname, name)
        }
    }

    /// Emits the defaults, closure and code of a function and `MakeFunction`.
    fn make_function(
        &mut self,
        scope: usize,
        name: &str,
        qualname: &str,
        params: &'a ast::Parameters,
        line: u32,
        body: impl FnOnce(&mut Self) -> Result<()>,
    ) -> Result<()> {
        let mut seen = std::collections::HashSet::new();
        for p in params.iter() {
            if !seen.insert(p.name().as_str()) {
                return syntax(&format!("duplicate argument '{}' in function definition", p.name().as_str()), p.range());
            }
        }
        let positional: Vec<&ast::ParameterWithDefault> = params.posonlyargs.iter().chain(&params.args).collect();
        let defaults: Vec<&Expr> = positional.iter().filter_map(|p| p.default.as_deref()).collect();
        let has_defaults = !defaults.is_empty();
        if has_defaults {
            for d in &defaults {
                self.expr(d)?;
            }
            self.emit(Op::BuildTuple(defaults.len() as u32));
        }
        let kwdefaults: Vec<(&str, &Expr)> =
            params.kwonlyargs.iter().filter_map(|p| p.default.as_deref().map(|d| (p.parameter.name.as_str(), d))).collect();
        let has_kw = !kwdefaults.is_empty();
        if has_kw {
            for (n, d) in &kwdefaults {
                self.emit_const(Const::Str(n.to_string()));
                self.expr(d)?;
            }
            self.emit(Op::BuildMap(kwdefaults.len() as u32));
        }
        let sc = &self.scopes.scopes[scope];
        let flags = CodeFlags {
            varargs: params.vararg.is_some(),
            varkw: params.kwarg.is_some(),
            generator: sc.is_generator,
            namespace: false,
        };
        let frees = sc.frees.clone();
        let has_closure = !frees.is_empty();
        if has_closure {
            for f in &frees {
                let i = self.deref_index(f);
                self.emit(Op::LoadClosure(i));
            }
            self.emit(Op::BuildTuple(frees.len() as u32));
        }
        self.push_unit(scope, name, qualname, flags, line);
        self.unit().code.argcount = positional.len() as u32;
        self.unit().code.kwonlyargcount = params.kwonlyargs.len() as u32;
        body(self)?;
        let code = self.pop_unit();
        self.emit_const(Const::Code(code));
        self.emit(Op::MakeFunction { defaults: has_defaults, kwdefaults: has_kw, closure: has_closure });
        Ok(())
    }

    fn class_def(&mut self, c: &'a ast::StmtClassDef) -> Result<()> {
        if c.type_params.is_some() {
            return unsupported("type parameters", c.range);
        }
        for d in &c.decorator_list {
            self.expr(&d.expression)?;
        }
        self.emit(Op::LoadBuildClass);
        let scope = Scopes::of(c.range, self.scopes);
        let line = self.lines.line(c.range.start().into());
        let qual = self.qualname(c.name.as_str());
        let frees = self.scopes.scopes[scope].frees.clone();
        let has_closure = !frees.is_empty();
        if has_closure {
            for f in &frees {
                let i = self.deref_index(f);
                self.emit(Op::LoadClosure(i));
            }
            self.emit(Op::BuildTuple(frees.len() as u32));
        }
        self.push_unit(scope, c.name.as_str(), &qual, CodeFlags { namespace: true, ..CodeFlags::default() }, line);
        self.emit_const(Const::Str(qual.clone()));
        let qn = self.name_index("__qualname__");
        self.emit(Op::StoreName(qn));
        self.stmts(&c.body)?;
        if self.scopes.scopes[scope].needs_class_cell {
            let i = self.deref_index("__class__");
            self.emit(Op::LoadClosure(i));
        } else {
            self.emit_const(Const::None);
        }
        self.emit(Op::Return);
        let code = self.pop_unit();
        self.emit_const(Const::Code(code));
        self.emit(Op::MakeFunction { defaults: false, kwdefaults: false, closure: has_closure });
        self.emit_const(Const::Str(c.name.as_str().to_string()));
        let mut n = 2;
        let mut names = vec![];
        if let Some(args) = &c.arguments {
            for a in args.args.iter() {
                if matches!(a, Expr::Starred(_)) {
                    return unsupported("starred base classes", a.range());
                }
                self.expr(a)?;
                n += 1;
            }
            for k in &args.keywords {
                let Some(arg) = &k.arg else { return unsupported("** in a class statement", k.range) };
                self.expr(&k.value)?;
                names.push(arg.as_str().to_string());
            }
        }
        if names.is_empty() {
            self.emit(Op::Call(n));
        } else {
            let nargs = n + names.len() as u32;
            let names = self.add_const(Const::Names(names));
            self.emit(Op::CallKw { nargs, names });
        }
        for _ in &c.decorator_list {
            self.emit(Op::Call(1));
        }
        self.store_name(c.name.as_str());
        Ok(())
    }

    // ---- expressions ----

    fn expr(&mut self, e: &'a Expr) -> Result<()> {
        match e {
            Expr::NumberLiteral(n) => match &n.value {
                ast::Number::Int(i) => match i.as_i64() {
                    Some(v) => self.emit_const(Const::Int(v)),
                    None => {
                        let text = i.to_string().replace('_', "");
                        let big = parse_big(&text).ok_or(CompileError {
                            kind: ErrorKind::Syntax,
                            message: "invalid integer literal".into(),
                            offset: n.range.start().into(),
                        })?;
                        self.emit_const(Const::BigInt(big))
                    }
                },
                ast::Number::Float(f) => self.emit_const(Const::Float(*f)),
                ast::Number::Complex { .. } => return unsupported("complex numbers", n.range),
            },
            Expr::StringLiteral(s) => self.emit_const(Const::Str(s.value.to_str().to_string())),
            Expr::BytesLiteral(b) => return unsupported("bytes literals", b.range),
            Expr::BooleanLiteral(b) => self.emit_const(Const::Bool(b.value)),
            Expr::NoneLiteral(_) => self.emit_const(Const::None),
            Expr::EllipsisLiteral(_) => self.emit_const(Const::Ellipsis),
            Expr::Name(n) => self.load_name(n.id.as_str()),
            Expr::BinOp(b) => {
                self.expr(&b.left)?;
                self.expr(&b.right)?;
                self.emit(Op::Binary(binop(b.op)));
            }
            Expr::UnaryOp(u) => {
                self.expr(&u.operand)?;
                self.emit(Op::Unary(match u.op {
                    ast::UnaryOp::Invert => UnOp::Invert,
                    ast::UnaryOp::Not => UnOp::Not,
                    ast::UnaryOp::UAdd => UnOp::Pos,
                    ast::UnaryOp::USub => UnOp::Neg,
                }));
            }
            Expr::BoolOp(b) => {
                let end = self.new_label();
                let (last, rest) = b.values.split_last().expect("operands");
                for v in rest {
                    self.expr(v)?;
                    let depth = self.depth();
                    self.jump(if b.op == ast::BoolOp::And { Op::JumpIfFalseOrPop } else { Op::JumpIfTrueOrPop }, end);
                    self.set_depth(depth - 1);
                }
                self.expr(last)?;
                self.place(end);
            }
            Expr::Compare(c) => self.compare(c)?,
            Expr::If(i) => {
                let other = self.new_label();
                let end = self.new_label();
                self.cond_jump(&i.test, false, other)?;
                self.expr(&i.body)?;
                self.jump(Op::Jump, end);
                self.place(other);
                let d = self.depth();
                self.set_depth(d - 1);
                self.expr(&i.orelse)?;
                self.place(end);
            }
            Expr::Named(n) => {
                self.expr(&n.value)?;
                self.emit(Op::Dup);
                self.store_target(&n.target)?;
            }
            Expr::Attribute(a) => {
                self.expr(&a.value)?;
                let n = self.name_index(a.attr.as_str());
                self.emit(Op::LoadAttr(n));
            }
            Expr::Subscript(s) => {
                self.expr(&s.value)?;
                self.expr(&s.slice)?;
                self.emit(Op::Subscr);
            }
            Expr::Slice(s) => {
                for part in [&s.lower, &s.upper] {
                    match part {
                        Some(p) => self.expr(p)?,
                        None => self.emit_const(Const::None),
                    }
                }
                match &s.step {
                    Some(p) => {
                        self.expr(p)?;
                        self.emit(Op::BuildSlice(3));
                    }
                    None => self.emit(Op::BuildSlice(2)),
                }
            }
            Expr::Tuple(t) => self.sequence(&t.elts, Op::BuildTuple, true)?,
            Expr::List(l) => self.sequence(&l.elts, Op::BuildList, false)?,
            Expr::Set(s) => {
                if s.elts.iter().any(|e| matches!(e, Expr::Starred(_))) {
                    self.emit(Op::BuildSet(0));
                    for e in &s.elts {
                        match e {
                            Expr::Starred(st) => {
                                self.expr(&st.value)?;
                                self.emit(Op::SetUpdate(1));
                            }
                            other => {
                                self.expr(other)?;
                                self.emit(Op::SetAdd(1));
                            }
                        }
                    }
                } else if s.elts.len() > 2 && s.elts.iter().all(is_literal) {
                    // CPython folds a display of three or more constants into a frozenset
                    // constant that an empty set is updated from; the table that gives (the
                    // iteration order) differs from adding the items one by one, so do the same.
                    self.emit(Op::BuildSet(0));
                    for e in &s.elts {
                        self.expr(e)?;
                    }
                    self.emit(Op::BuildSet(s.elts.len() as u32));
                    self.emit(Op::SetUpdate(1));
                } else {
                    for e in &s.elts {
                        self.expr(e)?;
                    }
                    self.emit(Op::BuildSet(s.elts.len() as u32));
                }
            }
            Expr::Dict(d) => {
                if d.items.iter().any(|i| i.key.is_none()) {
                    self.emit(Op::BuildMap(0));
                    for item in &d.items {
                        match &item.key {
                            Some(k) => {
                                self.expr(k)?;
                                self.expr(&item.value)?;
                                self.emit(Op::MapAdd(1));
                            }
                            None => {
                                self.expr(&item.value)?;
                                self.emit(Op::DictUpdate(1));
                            }
                        }
                    }
                } else {
                    for item in &d.items {
                        if let Some(k) = &item.key {
                            self.expr(k)?;
                        }
                        self.expr(&item.value)?;
                    }
                    self.emit(Op::BuildMap(d.items.len() as u32));
                }
            }
            Expr::Call(c) => self.call(c)?,
            Expr::Lambda(l) => {
                let scope = Scopes::of(l.range, self.scopes);
                let line = self.lines.line(l.range.start().into());
                let empty = Box::leak(Box::new(ast::Parameters::default()));
                let params: &'a ast::Parameters = match &l.parameters {
                    Some(p) => p,
                    None => empty,
                };
                let qual = self.qualname("<lambda>");
                self.make_function(scope, "<lambda>", &qual, params, line, |c| {
                    c.expr(&l.body)?;
                    c.emit(Op::Return);
                    Ok(())
                })?;
            }
            Expr::ListComp(c) => self.comprehension(c.range, "<listcomp>", &c.generators, Comp::List(&c.elt))?,
            Expr::SetComp(c) => self.comprehension(c.range, "<setcomp>", &c.generators, Comp::Set(&c.elt))?,
            Expr::DictComp(c) => {
                let Some(key) = &c.key else { return unsupported("** in a dict comprehension", c.range) };
                self.comprehension(c.range, "<dictcomp>", &c.generators, Comp::Dict(key, &c.value))?
            }
            Expr::Generator(c) => self.comprehension(c.range, "<genexpr>", &c.generators, Comp::Gen(&c.elt))?,
            Expr::Yield(y) => {
                match &y.value {
                    Some(v) => self.expr(v)?,
                    None => self.emit_const(Const::None),
                }
                self.emit(Op::Yield);
            }
            Expr::YieldFrom(y) => {
                // `yield from it` as a loop over it (values sent in are not forwarded); its
                // value is the iterator's return value.
                self.expr(&y.value)?;
                self.emit(Op::GetIter);
                let with_iterator = self.depth();
                let start = self.new_label();
                let done = self.new_label();
                self.place(start);
                self.jump(Op::YieldFromNext, done);
                self.emit(Op::Yield);
                self.emit(Op::Pop);
                self.jump(Op::Jump, start);
                self.place(done);
                self.set_depth(with_iterator);
            }
            Expr::FString(f) => self.fstring(f)?,
            Expr::Starred(s) => return syntax("can't use starred expression here", s.range),
            Expr::Await(a) => return unsupported("await", a.range),
            Expr::TString(t) => return unsupported("template strings", t.range),
            Expr::IpyEscapeCommand(c) => return syntax("invalid syntax", c.range),
        }
        Ok(())
    }

    fn sequence(&mut self, elts: &'a [Expr], build: fn(u32) -> Op, tuple: bool) -> Result<()> {
        if elts.iter().any(|e| matches!(e, Expr::Starred(_))) {
            self.emit(Op::BuildList(0));
            for e in elts {
                match e {
                    Expr::Starred(s) => {
                        self.expr(&s.value)?;
                        self.emit(Op::ListExtend(1));
                    }
                    other => {
                        self.expr(other)?;
                        self.emit(Op::ListAppend(1));
                    }
                }
            }
            if tuple {
                self.emit(Op::ListToTuple);
            }
            return Ok(());
        }
        for e in elts {
            self.expr(e)?;
        }
        self.emit(build(elts.len() as u32));
        Ok(())
    }

    fn compare(&mut self, c: &'a ast::ExprCompare) -> Result<()> {
        self.expr(&c.left)?;
        let n = c.ops.len();
        if n == 1 {
            self.expr(&c.comparators[0])?;
            self.emit(cmp_op(c.ops[0]));
            return Ok(());
        }
        // a < b < c: [a] b → dup b, rot3, compare; jump out with the false result.
        let cleanup = self.new_label();
        let end = self.new_label();
        for (i, (op, right)) in c.ops.iter().zip(c.comparators.iter()).enumerate() {
            self.expr(right)?;
            if i + 1 < n {
                self.emit(Op::Dup);
                self.emit(Op::Rot3);
                self.emit(cmp_op(*op));
                let d = self.depth();
                self.jump(Op::JumpIfFalseOrPop, cleanup);
                self.set_depth(d - 1);
            } else {
                self.emit(cmp_op(*op));
            }
        }
        self.jump(Op::Jump, end);
        self.place(cleanup);
        let d = self.depth();
        self.set_depth(d + 1);
        self.emit(Op::Rot2);
        self.emit(Op::Pop);
        self.place(end);
        Ok(())
    }

    fn call(&mut self, c: &'a ast::ExprCall) -> Result<()> {
        let args = &c.arguments;
        let mut seen = std::collections::HashSet::new();
        for k in &args.keywords {
            if let Some(name) = &k.arg {
                if !seen.insert(name.as_str()) {
                    return syntax(&format!("keyword argument repeated: {}", name.as_str()), k.range);
                }
            }
        }
        let starred = args.args.iter().any(|a| matches!(a, Expr::Starred(_))) || args.keywords.iter().any(|k| k.arg.is_none());
        if starred {
            self.expr(&c.func)?;
            self.sequence(&args.args, Op::BuildTuple, true)?;
            if args.keywords.is_empty() {
                self.emit(Op::CallEx { has_kwargs: false });
                return Ok(());
            }
            self.emit(Op::BuildMap(0));
            for k in &args.keywords {
                match &k.arg {
                    Some(name) => {
                        self.emit_const(Const::Str(name.as_str().to_string()));
                        self.expr(&k.value)?;
                        self.emit(Op::MapAdd(1));
                    }
                    None => {
                        self.expr(&k.value)?;
                        self.emit(Op::DictUpdate(1));
                    }
                }
            }
            self.emit(Op::CallEx { has_kwargs: true });
            return Ok(());
        }
        if let (Expr::Attribute(a), true) = (&*c.func, args.keywords.is_empty()) {
            self.expr(&a.value)?;
            let n = self.name_index(a.attr.as_str());
            self.emit(Op::LoadMethod(n));
            for arg in args.args.iter() {
                self.expr(arg)?;
            }
            self.set_line(c.range());
            self.emit(Op::CallMethod(args.args.len() as u32));
            return Ok(());
        }
        self.expr(&c.func)?;
        for arg in args.args.iter() {
            self.expr(arg)?;
        }
        for k in &args.keywords {
            self.expr(&k.value)?;
        }
        self.set_line(c.range());
        if args.keywords.is_empty() {
            self.emit(Op::Call(args.args.len() as u32));
        } else {
            let names: Vec<String> = args.keywords.iter().filter_map(|k| k.arg.as_ref().map(|a| a.as_str().to_string())).collect();
            let nargs = (args.args.len() + names.len()) as u32;
            let names = self.add_const(Const::Names(names));
            self.emit(Op::CallKw { nargs, names });
        }
        Ok(())
    }

    fn comprehension(&mut self, range: TextRange, name: &str, gens: &'a [ast::Comprehension], kind: Comp<'a>) -> Result<()> {
        let scope = Scopes::of(range, self.scopes);
        let line = self.lines.line(range.start().into());
        let first = gens.first().expect("a comprehension has a generator");
        if gens.iter().any(|g| g.is_async) {
            return unsupported("async comprehensions", range);
        }
        let frees = self.scopes.scopes[scope].frees.clone();
        let has_closure = !frees.is_empty();
        if has_closure {
            for f in &frees {
                let i = self.deref_index(f);
                self.emit(Op::LoadClosure(i));
            }
            self.emit(Op::BuildTuple(frees.len() as u32));
        }
        let qual = self.qualname(name);
        let generator = matches!(kind, Comp::Gen(_));
        self.push_unit(scope, name, &qual, CodeFlags { generator, ..CodeFlags::default() }, line);
        self.unit().code.argcount = 1;
        match kind {
            Comp::List(_) => self.emit(Op::BuildList(0)),
            Comp::Set(_) => self.emit(Op::BuildSet(0)),
            Comp::Dict(..) => self.emit(Op::BuildMap(0)),
            Comp::Gen(_) => {}
        }
        self.comp_loop(gens, 0, &kind)?;
        if generator {
            self.emit_const(Const::None);
        }
        self.emit(Op::Return);
        let code = self.pop_unit();
        self.emit_const(Const::Code(code));
        self.emit(Op::MakeFunction { defaults: false, kwdefaults: false, closure: has_closure });
        self.expr(&first.iter)?;
        self.emit(Op::GetIter);
        self.emit(Op::Call(1));
        Ok(())
    }

    fn comp_loop(&mut self, gens: &'a [ast::Comprehension], i: usize, kind: &Comp<'a>) -> Result<()> {
        let g = &gens[i];
        let start = self.new_label();
        let done = self.new_label();
        if i == 0 {
            self.emit(Op::LoadFast(0));
        } else {
            self.expr(&g.iter)?;
            self.emit(Op::GetIter);
        }
        self.place(start);
        let depth = self.depth();
        self.jump(Op::ForIter, done);
        self.store_target(&g.target)?;
        for cond in &g.ifs {
            self.cond_jump(cond, false, start)?;
        }
        if i + 1 < gens.len() {
            self.comp_loop(gens, i + 1, kind)?;
        } else {
            // The result sits below one iterator per generator.
            let at = gens.len() as u32 + 1;
            match kind {
                Comp::List(e) => {
                    self.expr(e)?;
                    self.emit(Op::ListAppend(at));
                }
                Comp::Set(e) => {
                    self.expr(e)?;
                    self.emit(Op::SetAdd(at));
                }
                Comp::Dict(k, v) => {
                    self.expr(k)?;
                    self.expr(v)?;
                    self.emit(Op::MapAdd(at));
                }
                Comp::Gen(e) => {
                    self.expr(e)?;
                    self.emit(Op::Yield);
                    self.emit(Op::Pop);
                }
            }
        }
        self.jump(Op::Jump, start);
        self.place(done);
        self.set_depth(depth - 1);
        Ok(())
    }

    fn fstring(&mut self, f: &'a ast::ExprFString) -> Result<()> {
        let mut n = 0;
        for part in f.value.iter() {
            match part {
                ast::FStringPart::Literal(l) => {
                    self.emit_const(Const::Str(l.value.to_string()));
                    n += 1;
                }
                ast::FStringPart::FString(fs) => n += self.fstring_elements(&fs.elements)?,
            }
        }
        if n != 1 {
            self.emit(Op::BuildString(n));
        }
        if n == 0 {
            // BuildString(0) pushed the empty string.
        }
        Ok(())
    }

    fn fstring_elements(&mut self, elements: &'a ast::InterpolatedStringElements) -> Result<u32> {
        let mut n = 0;
        for el in elements.iter() {
            match el {
                ast::InterpolatedStringElement::Literal(l) => {
                    self.emit_const(Const::Str(l.value.to_string()));
                    n += 1;
                }
                ast::InterpolatedStringElement::Interpolation(i) => {
                    let mut conversion = match i.conversion {
                        ast::ConversionFlag::None => 0,
                        ast::ConversionFlag::Str => b's',
                        ast::ConversionFlag::Repr => b'r',
                        ast::ConversionFlag::Ascii => b'a',
                    };
                    if let Some(debug) = &i.debug_text {
                        let text = debug.as_str().to_string();
                        self.emit_const(Const::Str(text));
                        n += 1;
                        if conversion == 0 && i.format_spec.is_none() {
                            conversion = b'r';
                        }
                    }
                    self.expr(&i.expression)?;
                    let has_spec = i.format_spec.is_some();
                    if let Some(spec) = &i.format_spec {
                        let parts = self.fstring_elements(&spec.elements)?;
                        if parts != 1 {
                            self.emit(Op::BuildString(parts));
                        }
                    }
                    self.emit(Op::FormatValue { conversion, has_spec });
                    n += 1;
                }
            }
        }
        Ok(n)
    }

}

enum Comp<'a> {
    List(&'a Expr),
    Set(&'a Expr),
    Dict(&'a Expr, &'a Expr),
    Gen(&'a Expr),
}

fn binop(op: ast::Operator) -> BinOp {
    match op {
        ast::Operator::Add => BinOp::Add,
        ast::Operator::Sub => BinOp::Sub,
        ast::Operator::Mult => BinOp::Mul,
        ast::Operator::MatMult => BinOp::MatMul,
        ast::Operator::Div => BinOp::TrueDiv,
        ast::Operator::Mod => BinOp::Mod,
        ast::Operator::Pow => BinOp::Pow,
        ast::Operator::LShift => BinOp::LShift,
        ast::Operator::RShift => BinOp::RShift,
        ast::Operator::BitOr => BinOp::Or,
        ast::Operator::BitXor => BinOp::Xor,
        ast::Operator::BitAnd => BinOp::And,
        ast::Operator::FloorDiv => BinOp::FloorDiv,
    }
}

fn cmp_op(op: ast::CmpOp) -> Op {
    match op {
        ast::CmpOp::Eq => Op::Compare(CmpOp::Eq),
        ast::CmpOp::NotEq => Op::Compare(CmpOp::Ne),
        ast::CmpOp::Lt => Op::Compare(CmpOp::Lt),
        ast::CmpOp::LtE => Op::Compare(CmpOp::Le),
        ast::CmpOp::Gt => Op::Compare(CmpOp::Gt),
        ast::CmpOp::GtE => Op::Compare(CmpOp::Ge),
        ast::CmpOp::Is => Op::Is(true),
        ast::CmpOp::IsNot => Op::Is(false),
        ast::CmpOp::In => Op::Contains(true),
        ast::CmpOp::NotIn => Op::Contains(false),
    }
}

/// The handler pc field holds a label (with this bit) until the unit is finished.
const HANDLER_LABEL: u32 = 1 << 31;

fn retarget(op: Op, t: u32) -> Op {
    match op {
        Op::Jump(_) => Op::Jump(t),
        Op::PopJumpIfFalse(_) => Op::PopJumpIfFalse(t),
        Op::PopJumpIfTrue(_) => Op::PopJumpIfTrue(t),
        Op::JumpIfFalseOrPop(_) => Op::JumpIfFalseOrPop(t),
        Op::JumpIfTrueOrPop(_) => Op::JumpIfTrueOrPop(t),
        Op::PopJumpIfNotNone(_) => Op::PopJumpIfNotNone(t),
        Op::ForIter(_) => Op::ForIter(t),
        Op::YieldFromNext(_) => Op::YieldFromNext(t),
        other => other,
    }
}

/// A constant CPython's compiler folds: a number, string, bool, None, `...`, or a tuple of them.
fn is_literal(e: &Expr) -> bool {
    match e {
        Expr::NumberLiteral(_) | Expr::StringLiteral(_) | Expr::BooleanLiteral(_) | Expr::NoneLiteral(_) | Expr::EllipsisLiteral(_) => true,
        Expr::UnaryOp(u) => matches!(u.op, ast::UnaryOp::USub) && matches!(&*u.operand, Expr::NumberLiteral(_)),
        Expr::Tuple(t) => t.elts.iter().all(is_literal),
        _ => false,
    }
}

fn same_const(a: &Const, b: &Const) -> bool {
    match (a, b) {
        // 1, 1.0, True and -0.0/0.0 are equal as Python values but distinct constants.
        (Const::Float(x), Const::Float(y)) => x.to_bits() == y.to_bits(),
        (Const::Int(_), Const::Int(_)) | (Const::Str(_), Const::Str(_)) | (Const::Bool(_), Const::Bool(_)) => a == b,
        (Const::None, Const::None) | (Const::Ellipsis, Const::Ellipsis) => true,
        _ => false,
    }
}

fn parse_big(text: &str) -> Option<num_bigint::BigInt> {
    let lower = text.to_ascii_lowercase();
    let (digits, radix) = if let Some(r) = lower.strip_prefix("0x") {
        (r, 16)
    } else if let Some(r) = lower.strip_prefix("0o") {
        (r, 8)
    } else if let Some(r) = lower.strip_prefix("0b") {
        (r, 2)
    } else {
        (lower.as_str(), 10)
    };
    num_bigint::BigInt::parse_bytes(digits.as_bytes(), radix)
}

/// Resolves handler labels to pcs once every label of the unit is placed.
pub(crate) fn finish_handlers(code: &mut Code, labels: &[Option<u32>]) {
    for h in code.handlers.iter_mut().flatten() {
        if h.handler & HANDLER_LABEL != 0 {
            h.handler = labels[(h.handler & !HANDLER_LABEL) as usize].unwrap_or(0);
        }
    }
}

