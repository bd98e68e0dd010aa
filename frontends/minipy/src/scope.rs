//! Name resolution before compiling: which names of each function are local, global, cells
//! (locals captured by inner functions) or free (captured from an enclosing function), as
//! CPython's symbol table decides. Scopes are keyed by the source range of the node that opens
//! them (module, def, lambda, class, comprehension).

use ruff_python_ast::{self as ast, Expr, Stmt};
use ruff_text_size::{Ranged, TextRange};
use rustc_hash::{FxHashMap, FxHashSet};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScopeKind {
    Module,
    Class,
    Function,
}

/// How a name is reached in one scope.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    Fast,
    Deref,
    Global,
    /// Class bodies (and names of a module): the namespace, then globals and builtins.
    Name,
}

#[derive(Debug)]
pub struct Scope {
    pub kind: ScopeKind,
    pub params: Vec<String>,
    assigned: FxHashSet<String>,
    used: FxHashSet<String>,
    globals: FxHashSet<String>,
    nonlocals: FxHashSet<String>,
    parent: Option<usize>,
    pub cells: Vec<String>,
    pub frees: Vec<String>,
    /// Uses `super()` or `__class__` (a method whose class must provide the `__class__` cell).
    uses_class_cell: bool,
    /// A class some of whose methods use the `__class__` cell.
    pub needs_class_cell: bool,
    pub is_generator: bool,
    pub locals: Vec<String>,
}

pub struct Scopes {
    pub scopes: Vec<Scope>,
    by_range: FxHashMap<(u32, u32), usize>,
}

impl Scopes {
    pub fn of(range: TextRange, scopes: &Scopes) -> usize {
        scopes.by_range.get(&(range.start().into(), range.end().into())).copied().unwrap_or(0)
    }

    pub fn access(&self, scope: usize, name: &str) -> Access {
        let s = &self.scopes[scope];
        if s.kind == ScopeKind::Module {
            return Access::Global;
        }
        if s.globals.contains(name) {
            return Access::Global;
        }
        if s.cells.iter().any(|c| c == name) || s.frees.iter().any(|c| c == name) {
            if s.kind == ScopeKind::Class && s.assigned.contains(name) && name != "__class__" {
                return Access::Name;
            }
            return Access::Deref;
        }
        if s.kind == ScopeKind::Class {
            return Access::Name;
        }
        if s.locals.iter().any(|l| l == name) {
            return Access::Fast;
        }
        Access::Global
    }
}

pub fn analyze(body: &[Stmt], range: TextRange) -> Scopes {
    let mut b = Builder { scopes: Vec::new(), by_range: FxHashMap::default(), stack: Vec::new() };
    b.open(ScopeKind::Module, range, vec![]);
    for s in body {
        b.stmt(s);
    }
    b.stack.pop();
    let mut scopes = Scopes { scopes: b.scopes, by_range: b.by_range };
    resolve(&mut scopes);
    scopes
}

struct Builder {
    scopes: Vec<Scope>,
    by_range: FxHashMap<(u32, u32), usize>,
    stack: Vec<usize>,
}

impl Builder {
    fn cur(&mut self) -> &mut Scope {
        let i = *self.stack.last().expect("a scope is open");
        &mut self.scopes[i]
    }

    fn open(&mut self, kind: ScopeKind, range: TextRange, params: Vec<String>) {
        let parent = self.stack.last().copied();
        let id = self.scopes.len();
        let mut assigned = FxHashSet::default();
        assigned.extend(params.iter().cloned());
        self.scopes.push(Scope {
            kind, params, assigned, used: FxHashSet::default(), globals: FxHashSet::default(),
            nonlocals: FxHashSet::default(), parent, cells: vec![], frees: vec![],
            uses_class_cell: false, needs_class_cell: false, is_generator: false, locals: vec![],
        });
        self.by_range.insert((range.start().into(), range.end().into()), id);
        self.stack.push(id);
    }

    fn assign(&mut self, name: &str) {
        self.cur().assigned.insert(name.to_string());
    }

    fn use_name(&mut self, name: &str) {
        if name == "super" || name == "__class__" {
            self.cur().uses_class_cell = true;
        }
        self.cur().used.insert(name.to_string());
    }

    fn stmts(&mut self, body: &[Stmt]) {
        for s in body {
            self.stmt(s);
        }
    }

    fn stmt(&mut self, s: &Stmt) {
        match s {
            Stmt::FunctionDef(f) => {
                for d in &f.decorator_list {
                    self.expr(&d.expression);
                }
                self.param_defaults(&f.parameters);
                self.assign(f.name.as_str());
                self.open(ScopeKind::Function, f.range, param_names(&f.parameters));
                self.stmts(&f.body);
                self.stack.pop();
            }
            Stmt::ClassDef(c) => {
                for d in &c.decorator_list {
                    self.expr(&d.expression);
                }
                if let Some(args) = &c.arguments {
                    args.args.iter().for_each(|a| self.expr(a));
                    args.keywords.iter().for_each(|k| self.expr(&k.value));
                }
                self.assign(c.name.as_str());
                self.open(ScopeKind::Class, c.range, vec![]);
                self.stmts(&c.body);
                self.stack.pop();
            }
            Stmt::Return(r) => r.value.iter().for_each(|v| self.expr(v)),
            Stmt::Delete(d) => d.targets.iter().for_each(|t| self.target(t)),
            Stmt::Assign(a) => {
                self.expr(&a.value);
                a.targets.iter().for_each(|t| self.target(t));
            }
            Stmt::AugAssign(a) => {
                self.expr(&a.value);
                self.target(&a.target);
                if let Expr::Name(n) = &*a.target {
                    self.use_name(n.id.as_str());
                }
            }
            Stmt::AnnAssign(a) => {
                if let Some(v) = &a.value {
                    self.expr(v);
                    self.target(&a.target);
                }
            }
            Stmt::For(f) => {
                self.expr(&f.iter);
                self.target(&f.target);
                self.stmts(&f.body);
                self.stmts(&f.orelse);
            }
            Stmt::While(w) => {
                self.expr(&w.test);
                self.stmts(&w.body);
                self.stmts(&w.orelse);
            }
            Stmt::If(i) => {
                self.expr(&i.test);
                self.stmts(&i.body);
                for c in &i.elif_else_clauses {
                    c.test.iter().for_each(|t| self.expr(t));
                    self.stmts(&c.body);
                }
            }
            Stmt::With(w) => {
                for item in &w.items {
                    self.expr(&item.context_expr);
                    item.optional_vars.iter().for_each(|v| self.target(v));
                }
                self.stmts(&w.body);
            }
            Stmt::Raise(r) => {
                r.exc.iter().for_each(|e| self.expr(e));
                r.cause.iter().for_each(|e| self.expr(e));
            }
            Stmt::Try(t) => {
                self.stmts(&t.body);
                for ast::ExceptHandler::ExceptHandler(h) in &t.handlers {
                    h.type_.iter().for_each(|e| self.expr(e));
                    if let Some(n) = &h.name {
                        self.assign(n.as_str());
                    }
                    self.stmts(&h.body);
                }
                self.stmts(&t.orelse);
                self.stmts(&t.finalbody);
            }
            Stmt::Assert(a) => {
                self.expr(&a.test);
                a.msg.iter().for_each(|e| self.expr(e));
            }
            Stmt::Import(i) => {
                for a in &i.names {
                    let bound = match &a.asname {
                        Some(n) => n.as_str().to_string(),
                        None => a.name.as_str().split('.').next().unwrap_or("").to_string(),
                    };
                    self.assign(&bound);
                }
            }
            Stmt::ImportFrom(i) => {
                for a in &i.names {
                    self.assign(a.asname.as_ref().unwrap_or(&a.name).as_str());
                }
            }
            Stmt::Global(g) => {
                for n in &g.names {
                    self.cur().globals.insert(n.as_str().to_string());
                }
            }
            Stmt::Nonlocal(g) => {
                for n in &g.names {
                    self.cur().nonlocals.insert(n.as_str().to_string());
                }
            }
            Stmt::Expr(e) => self.expr(&e.value),
            _ => {}
        }
    }

    fn param_defaults(&mut self, p: &ast::Parameters) {
        for a in p.posonlyargs.iter().chain(&p.args).chain(&p.kwonlyargs) {
            a.default.iter().for_each(|d| self.expr(d));
        }
    }

    fn target(&mut self, t: &Expr) {
        match t {
            Expr::Name(n) => self.assign(n.id.as_str()),
            Expr::Tuple(t) => t.elts.iter().for_each(|e| self.target(e)),
            Expr::List(t) => t.elts.iter().for_each(|e| self.target(e)),
            Expr::Starred(s) => self.target(&s.value),
            other => self.expr(other),
        }
    }

    fn comprehension(&mut self, range: TextRange, gens: &[ast::Comprehension], elts: &[&Expr], generator: bool) {
        // The first iterable is evaluated outside, as CPython does.
        if let Some(first) = gens.first() {
            self.expr(&first.iter);
        }
        self.open(ScopeKind::Function, range, vec![".0".to_string()]);
        self.cur().is_generator = generator;
        for (i, g) in gens.iter().enumerate() {
            if i > 0 {
                self.expr(&g.iter);
            }
            self.target(&g.target);
            g.ifs.iter().for_each(|e| self.expr(e));
        }
        elts.iter().for_each(|e| self.expr(e));
        self.stack.pop();
    }

    fn expr(&mut self, e: &Expr) {
        match e {
            Expr::Name(n) => {
                if n.ctx == ast::ExprContext::Load {
                    self.use_name(n.id.as_str());
                } else {
                    self.assign(n.id.as_str());
                }
            }
            Expr::Named(n) => {
                self.expr(&n.value);
                // The target binds in the nearest enclosing non-comprehension scope; minipy
                // binds it in the current one, which is the same outside comprehensions.
                self.target(&n.target);
            }
            Expr::Lambda(l) => {
                let params = l.parameters.as_deref().map(param_names).unwrap_or_default();
                if let Some(p) = &l.parameters {
                    self.param_defaults(p);
                }
                self.open(ScopeKind::Function, l.range, params);
                self.expr(&l.body);
                self.stack.pop();
            }
            Expr::ListComp(c) => self.comprehension(c.range, &c.generators, &[&c.elt], false),
            Expr::SetComp(c) => self.comprehension(c.range, &c.generators, &[&c.elt], false),
            Expr::Generator(c) => self.comprehension(c.range, &c.generators, &[&c.elt], true),
            Expr::DictComp(c) => {
                let key = c.key.as_deref();
                let elts: Vec<&Expr> = key.into_iter().chain(std::iter::once(&*c.value)).collect();
                self.comprehension(c.range, &c.generators, &elts, false)
            }
            Expr::Yield(y) => {
                self.cur().is_generator = true;
                y.value.iter().for_each(|v| self.expr(v));
            }
            Expr::YieldFrom(y) => {
                self.cur().is_generator = true;
                self.expr(&y.value);
            }
            other => walk_children(other, &mut |c| self.expr(c)),
        }
    }
}

/// Visits the direct sub-expressions of expressions that open no scope and bind nothing.
fn walk_children(e: &Expr, f: &mut dyn FnMut(&Expr)) {
    match e {
        Expr::BoolOp(b) => b.values.iter().for_each(f),
        Expr::BinOp(b) => {
            f(&b.left);
            f(&b.right)
        }
        Expr::UnaryOp(u) => f(&u.operand),
        Expr::If(i) => {
            f(&i.test);
            f(&i.body);
            f(&i.orelse)
        }
        Expr::Dict(d) => d.items.iter().for_each(|i| {
            i.key.iter().for_each(&mut *f);
            f(&i.value)
        }),
        Expr::Set(s) => s.elts.iter().for_each(f),
        Expr::Compare(c) => {
            f(&c.left);
            c.comparators.iter().for_each(f)
        }
        Expr::Call(c) => {
            f(&c.func);
            c.arguments.args.iter().for_each(&mut *f);
            c.arguments.keywords.iter().for_each(|k| f(&k.value))
        }
        Expr::FString(s) => {
            for part in s.value.iter() {
                if let ast::FStringPart::FString(fs) = part {
                    walk_fstring(&fs.elements, f);
                }
            }
        }
        Expr::Attribute(a) => f(&a.value),
        Expr::Subscript(s) => {
            f(&s.value);
            f(&s.slice)
        }
        Expr::Starred(s) => f(&s.value),
        Expr::List(l) => l.elts.iter().for_each(f),
        Expr::Tuple(t) => t.elts.iter().for_each(f),
        Expr::Slice(s) => {
            s.lower.iter().for_each(|e| f(e));
            s.upper.iter().for_each(|e| f(e));
            s.step.iter().for_each(|e| f(e))
        }
        Expr::Await(a) => f(&a.value),
        _ => {}
    }
}

fn walk_fstring(elements: &ast::InterpolatedStringElements, f: &mut dyn FnMut(&Expr)) {
    for el in elements.iter() {
        if let ast::InterpolatedStringElement::Interpolation(i) = el {
            f(&i.expression);
            if let Some(spec) = &i.format_spec {
                walk_fstring(&spec.elements, f);
            }
        }
    }
}

pub fn param_names(p: &ast::Parameters) -> Vec<String> {
    let mut names: Vec<String> = p.posonlyargs.iter().chain(&p.args).map(|a| a.parameter.name.as_str().to_string()).collect();
    names.extend(p.kwonlyargs.iter().map(|a| a.parameter.name.as_str().to_string()));
    if let Some(v) = &p.vararg {
        names.push(v.name.as_str().to_string());
    }
    if let Some(k) = &p.kwarg {
        names.push(k.name.as_str().to_string());
    }
    names
}

/// Decides locals, cells and free variables for every scope.
fn resolve(s: &mut Scopes) {
    let n = s.scopes.len();
    for i in 0..n {
        let sc = &mut s.scopes[i];
        if sc.kind == ScopeKind::Function {
            let mut locals: Vec<String> = sc.params.clone();
            let mut rest: Vec<&String> = sc.assigned.iter().filter(|a| !sc.params.contains(a)).collect();
            rest.sort();
            for a in rest {
                if !sc.globals.contains(a) && !sc.nonlocals.contains(a) {
                    locals.push(a.clone());
                }
            }
            sc.locals = locals;
        }
    }
    // A method using super() gets a `__class__` free variable from its class.
    for i in 0..n {
        if s.scopes[i].uses_class_cell && s.scopes[i].kind == ScopeKind::Function {
            s.scopes[i].used.insert("__class__".to_string());
            let mut p = s.scopes[i].parent;
            while let Some(pi) = p {
                if s.scopes[pi].kind == ScopeKind::Class {
                    s.scopes[pi].needs_class_cell = true;
                    break;
                }
                p = s.scopes[pi].parent;
            }
        }
    }
    for i in 0..n {
        if s.scopes[i].kind == ScopeKind::Class && s.scopes[i].needs_class_cell {
            s.scopes[i].cells.push("__class__".to_string());
        }
    }
    for i in 0..n {
        if s.scopes[i].kind == ScopeKind::Module {
            continue;
        }
        let mut wanted: Vec<String> = s.scopes[i].used.iter().chain(&s.scopes[i].nonlocals).cloned().collect();
        wanted.sort();
        for name in wanted {
            let sc = &s.scopes[i];
            let is_local = sc.kind == ScopeKind::Function && sc.locals.contains(&name);
            if is_local || sc.globals.contains(&name) || (sc.kind == ScopeKind::Class && name != "__class__" && sc.assigned.contains(&name)) {
                continue;
            }
            bind_free(s, i, &name);
        }
    }
}

/// Finds the enclosing function that owns `name` and threads it to scope `i` as free.
fn bind_free(s: &mut Scopes, i: usize, name: &str) {
    let mut path = vec![i];
    let mut p = s.scopes[i].parent;
    while let Some(pi) = p {
        let sc = &s.scopes[pi];
        let owns = match sc.kind {
            ScopeKind::Function => sc.locals.iter().any(|l| l == name) && !sc.nonlocals.contains(name),
            ScopeKind::Class => name == "__class__" && sc.needs_class_cell,
            ScopeKind::Module => return,
        };
        if owns {
            if !s.scopes[pi].cells.iter().any(|c| c == name) {
                s.scopes[pi].cells.push(name.to_string());
            }
            for &q in &path {
                let sq = &mut s.scopes[q];
                if sq.kind == ScopeKind::Class && name != "__class__" {
                    // A class passes a free variable through to its methods.
                }
                if !sq.frees.iter().any(|c| c == name) {
                    sq.frees.push(name.to_string());
                }
            }
            return;
        }
        if sc.kind == ScopeKind::Function || sc.kind == ScopeKind::Class {
            path.push(pi);
        }
        p = sc.parent;
    }
}

pub fn range_of(e: &impl Ranged) -> TextRange {
    e.range()
}
