//! Random valid traces for differential testing: typed SSA loops with int and float arithmetic
//! (overflow checks included), comparisons, guards with fail args, heap ops on fresh objects and
//! arrays and on an input object of unknown layout, allocations, calls of several effect
//! classes (modelled targets and registered external functions), a loop with label parameters
//! of every type, and often a bridge from one of the loop's guards that goes back into the loop
//! or finishes. The same seed gives the same text.

use std::fmt::Write;

/// A small deterministic generator (splitmix64).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e3779b97f4a7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58476d1ce4e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d049bb133111eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

const DESCRS: &str = "descr S.a = <FieldS rnd.S.a 8>
descr S.b = <FieldS rnd.S.b 16>
descr S.f = <FieldF rnd.S.f 24>
descr S.p = <FieldP rnd.S.p 32>
descr size.S = <SizeDescr 40 class=S>
descr items = <ArrayS 8>
descr effect = <Calli 8 ii EF=5>
descr elidable = <Calli 8 ii EF=0>
descr noraise = <Calli 8 ii EF=2>
";

const INT_CONSTS: &[i64] = &[0, 1, -1, 2, 3, 7, 63, 64, 100, -100, i64::MAX, i64::MIN];

/// Values in scope, by type.
#[derive(Clone, Default)]
struct Scope {
    ints: Vec<String>,
    floats: Vec<String>,
    refs: Vec<String>,
    /// Fresh objects of class S and fresh arrays (with their lengths).
    objects: Vec<String>,
    arrays: Vec<(String, i64)>,
    /// The object loads and stores go to when no allocated one is picked.
    base: String,
}

struct Gen {
    rng: Rng,
    out: String,
    next: usize,
    guard: usize,
    s: Scope,
    /// Guards after the label: (number, fail args), for bridges.
    body_guards: Vec<(usize, Vec<String>)>,
    in_body: bool,
    /// Every value that is an array, in any trace: one is never used as a struct (the
    /// verifier rejects an object reached both ways).
    array_values: std::collections::HashSet<String>,
}

impl Gen {
    /// A ref in scope that is not an array.
    fn struct_ref(&mut self) -> String {
        let structs: Vec<String> = self.s.refs.iter().filter(|r| !self.array_values.contains(*r)).cloned().collect();
        if structs.is_empty() {
            let p = self.fresh('p');
            self.line(format!("{p} = new_with_vtable(descr=size.S)"));
            self.s.refs.push(p.clone());
            self.s.objects.push(p.clone());
            return p;
        }
        self.rng.pick(&structs).clone()
    }

    fn fresh(&mut self, prefix: char) -> String {
        self.next += 1;
        format!("{prefix}{}", self.next)
    }

    fn int(&mut self) -> String {
        if self.rng.chance(20) || self.s.ints.is_empty() {
            self.rng.pick(INT_CONSTS).to_string()
        } else {
            self.rng.pick(&self.s.ints).clone()
        }
    }

    fn float(&mut self) -> String {
        if self.rng.chance(15) || self.s.floats.is_empty() {
            self.rng.pick(&["0.0", "1.5", "-2.25", "1e300", "-0.0"]).to_string()
        } else {
            self.rng.pick(&self.s.floats).clone()
        }
    }

    fn fail_args(&mut self) -> Vec<String> {
        let mut all: Vec<String> = self.s.ints.iter().chain(&self.s.floats).chain(&self.s.refs).cloned().collect();
        let keep = self.rng.below(all.len() + 1).min(6);
        let mut chosen = Vec::new();
        for _ in 0..keep {
            let k = self.rng.below(all.len());
            chosen.push(all.swap_remove(k));
        }
        chosen
    }

    fn line(&mut self, text: String) {
        let _ = writeln!(self.out, "    {text}");
    }

    fn guard(&mut self, text: &str) {
        self.guard += 1;
        let args = self.fail_args();
        let fa = args.join(", ");
        let g = self.guard;
        if self.in_body {
            self.body_guards.push((g, args));
        }
        let sep = if text.ends_with('(') { "" } else { ", " };
        self.line(format!("{text}{sep}descr=<Guard0x{g:x}>) [{fa}]"));
    }

    fn def_int(&mut self, rhs: String) {
        let v = self.fresh('i');
        self.line(format!("{v} = {rhs}"));
        self.s.ints.push(v);
    }

    fn def_float(&mut self, rhs: String) {
        let v = self.fresh('f');
        self.line(format!("{v} = {rhs}"));
        self.s.floats.push(v);
    }

    /// One random op (sometimes with the guard that goes with it).
    fn op(&mut self) {
        match self.rng.below(16) {
            0..=3 => {
                let op = *self.rng.pick(&["int_add", "int_sub", "int_mul", "int_and", "int_or", "int_xor", "int_lshift", "int_rshift", "uint_rshift", "uint_mul_high", "int_lt", "int_le", "int_eq", "int_ne", "int_gt", "int_ge", "uint_lt", "uint_ge", "int_floordiv", "int_mod"]);
                let x = self.int();
                // Dividing by a variable mostly traps (it may be 0): mostly by a constant.
                let y = if (op == "int_floordiv" || op == "int_mod") && self.rng.chance(80) { self.rng.pick(&["3", "7", "-2", "64"]).to_string() } else { self.int() };
                self.def_int(format!("{op}({x}, {y})"));
            }
            4 => {
                let op = self.rng.pick(&["int_neg", "int_invert", "int_is_zero", "int_is_true", "int_force_ge_zero"]);
                let x = self.int();
                self.def_int(format!("{op}({x})"));
            }
            5 => {
                let op = self.rng.pick(&["int_add_ovf", "int_sub_ovf", "int_mul_ovf"]);
                let (x, y) = (self.int(), self.int());
                self.def_int(format!("{op}({x}, {y})"));
                let g = *self.rng.pick(&["guard_no_overflow(", "guard_overflow("]);
                self.guard(g);
            }
            6 => {
                let op = self.rng.pick(&["float_add", "float_sub", "float_mul", "float_truediv"]);
                let (x, y) = (self.float(), self.float());
                self.def_float(format!("{op}({x}, {y})"));
            }
            7 => match self.rng.below(4) {
                0 => {
                    let x = self.float();
                    let op = self.rng.pick(&["float_neg", "float_abs"]);
                    self.def_float(format!("{op}({x})"));
                }
                1 => {
                    let x = self.int();
                    self.def_float(format!("cast_int_to_float({x})"));
                }
                2 => {
                    let x = self.float();
                    self.def_int(format!("cast_float_to_int({x})"));
                }
                _ => {
                    let op = self.rng.pick(&["float_lt", "float_le", "float_eq", "float_ne", "float_gt", "float_ge"]);
                    let (x, y) = (self.float(), self.float());
                    self.def_int(format!("{op}({x}, {y})"));
                }
            },
            8 | 9 if self.rng.chance(70) => {
                // Conditions that mostly hold, so that loops go round.
                let x = self.int();
                let c = self.rng.pick(INT_CONSTS);
                let (cmp, guard) = *self.rng.pick(&[("int_ne", "guard_true"), ("int_eq", "guard_false"), ("int_le", "guard_true")]);
                let rhs = if cmp == "int_le" { i64::MAX.to_string() } else { c.to_string() };
                let v = self.fresh('i');
                self.line(format!("{v} = {cmp}({x}, {rhs})"));
                self.s.ints.push(v.clone());
                self.guard(&format!("{guard}({v}"));
            }
            8 | 9 => {
                let x = self.int();
                match self.rng.below(3) {
                    0 => self.guard(&format!("guard_true({x}")),
                    1 => self.guard(&format!("guard_false({x}")),
                    _ => {
                        let c = self.rng.pick(INT_CONSTS);
                        self.guard(&format!("guard_value({x}, {c}"));
                    }
                }
            }
            10 => {
                let p = self.rng.pick(&self.s.refs).clone();
                match self.rng.below(3) {
                    0 => self.guard(&format!("guard_nonnull({p}")),
                    1 => self.guard(&format!("guard_class({p}, ConstClass(S)")),
                    _ => self.guard(&format!("guard_nonnull_class({p}, ConstClass(S)")),
                }
            }
            11 => {
                let p = self.fresh('p');
                self.line(format!("{p} = new_with_vtable(descr=size.S)"));
                self.s.refs.push(p.clone());
                self.s.objects.push(p);
            }
            12 => {
                // Stores into fresh objects or the input object, of a field of the right type.
                let target = if self.s.objects.is_empty() || self.rng.chance(30) { self.s.base.clone() } else { self.rng.pick(&self.s.objects).clone() };
                match self.rng.below(3) {
                    0 => {
                        let d = self.rng.pick(&["S.a", "S.b"]);
                        let v = self.int();
                        self.line(format!("setfield_gc({target}, {v}, descr={d})"));
                    }
                    1 => {
                        let v = self.float();
                        self.line(format!("setfield_gc({target}, {v}, descr=S.f)"));
                    }
                    _ => {
                        let v = self.struct_ref();
                        self.line(format!("setfield_gc({target}, {v}, descr=S.p)"));
                    }
                }
            }
            13 => {
                let target = if self.s.objects.is_empty() || self.rng.chance(40) { self.s.base.clone() } else { self.rng.pick(&self.s.objects).clone() };
                match self.rng.below(3) {
                    0 => {
                        let d = self.rng.pick(&["S.a", "S.b"]);
                        self.def_int(format!("getfield_gc_i({target}, descr={d})"));
                    }
                    1 => self.def_float(format!("getfield_gc_f({target}, descr=S.f)")),
                    _ => {
                        let p = self.fresh('p');
                        self.line(format!("{p} = getfield_gc_r({target}, descr=S.p)"));
                        self.s.refs.push(p);
                    }
                }
            }
            14 => {
                if self.s.arrays.is_empty() || self.rng.chance(30) {
                    let p = self.fresh('p');
                    let n = 1 + self.rng.below(5) as i64;
                    self.line(format!("{p} = new_array_clear({n}, descr=items)"));
                    self.s.refs.push(p.clone());
                    self.array_values.insert(p.clone());
                    self.s.arrays.push((p, n));
                } else {
                    let (a, n) = self.rng.pick(&self.s.arrays).clone();
                    // Mostly in bounds; sometimes any int (a trap, the same in both).
                    let i = if self.rng.chance(90) { (self.rng.below(n as usize)).to_string() } else { self.int() };
                    match self.rng.below(3) {
                        0 => {
                            let v = self.int();
                            self.line(format!("setarrayitem_gc({a}, {i}, {v}, descr=items)"));
                        }
                        1 => self.def_int(format!("getarrayitem_gc_i({a}, {i}, descr=items)")),
                        _ => self.def_int(format!("arraylen_gc({a}, descr=items)")),
                    }
                }
            }
            _ => {
                let (x, y) = (self.int(), self.int());
                let (op, d) = *self.rng.pick(&[("call_i", "effect"), ("call_pure_i", "elidable"), ("call_i", "noraise")]);
                // Modelled targets, and registered functions (a direct call in compiled code).
                let f = self.rng.pick(&["f", "g", "ll_int_py_mod__Signed_Signed", "ll_int_py_div__Signed_Signed"]);
                self.def_int(format!("{op}(ConstClass({f}), {x}, {y}, descr={d})"));
            }
        }
    }
}

/// A random loop of about `ops` ops in preamble and body.
pub fn random_loop(seed: u64, ops: usize) -> String {
    let mut g = Gen { rng: Rng(seed), out: String::new(), next: 10, guard: 0, s: Scope::default(), body_guards: Vec::new(), in_body: false, array_values: Default::default() };
    g.out.push_str(DESCRS);
    g.out.push_str("\nloop rnd [p0, i1, i2, f3] {\n");
    g.s.ints = vec!["i1".into(), "i2".into()];
    g.s.floats = vec!["f3".into()];
    g.s.refs = vec!["p0".into()];
    g.s.base = "p0".into();
    let pre = g.rng.below(ops / 3 + 1);
    for _ in 0..pre {
        g.op();
    }
    // Label parameters: a counter, and a few values of each type carried round the loop.
    let mut params = vec![("i".to_string(), "0".to_string())];
    for _ in 0..1 + g.rng.below(2) {
        let v = g.int();
        params.push(("i".into(), v));
    }
    params.push(("f".into(), g.float()));
    params.push(("p".into(), g.struct_ref()));
    let mut named = Vec::new();
    let mut entry = Vec::new();
    for (ty, init) in &params {
        let p = g.fresh(ty.chars().next().expect("a type letter"));
        entry.push(format!("{p}={init}"));
        named.push((ty.clone(), p));
    }
    g.line(format!("label({}, descr=TargetToken(1))", entry.join(", ")));
    g.in_body = true;
    // A label a bridge enters is open: the body may use only its parameters (a frame entered
    // from elsewhere has no values from before the label).
    let with_bridge = g.rng.chance(50);
    if with_bridge {
        let base = named.iter().find(|(ty, _)| ty == "p").map(|(_, p)| p.clone()).expect("a ref parameter");
        g.s = Scope { base, ..Scope::default() };
    }
    for (ty, p) in &named {
        match ty.as_str() {
            "i" => g.s.ints.push(p.clone()),
            "f" => g.s.floats.push(p.clone()),
            _ => g.s.refs.push(p.clone()),
        }
    }
    for _ in 0..ops.saturating_sub(pre).max(1) {
        g.op();
    }
    // The counter bounds the loop.
    let counter = named[0].1.clone();
    g.back_edge(&counter, &named);
    g.out.push_str("}\n");
    g.in_body = false;
    if with_bridge && !g.body_guards.is_empty() {
        let (number, fail_args) = g.rng.pick(&g.body_guards).clone();
        g.bridge(number, &fail_args, &named, ops / 4 + 1);
    }
    g.out
}

impl Gen {
    /// The counter counts on and must stay below 20; then a jump to the label with a value of
    /// each parameter's type.
    fn back_edge(&mut self, counter: &str, params: &[(String, String)]) {
        let next = self.fresh('i');
        self.line(format!("{next} = int_add({counter}, 1)"));
        let cond = self.fresh('i');
        self.line(format!("{cond} = int_lt({next}, 20)"));
        self.s.ints.push(next.clone());
        self.guard(&format!("guard_true({cond}"));
        let mut args = vec![next];
        for (ty, _) in &params[1..] {
            args.push(match ty.as_str() {
                "i" => self.int(),
                "f" => self.float(),
                _ => self.struct_ref(),
            });
        }
        self.line(format!("jump({}, descr=TargetToken(1))", args.join(", ")));
    }

    /// A bridge from guard `number` (inputs: its fail args), a few ops, then back into the
    /// loop (when the loop counter is among the inputs, counting on) or a `finish`.
    fn bridge(&mut self, number: usize, fail_args: &[String], params: &[(String, String)], ops: usize) {
        let inputs: Vec<String> = fail_args.iter().map(|a| {
            let ty = a.chars().next().expect("a name");
            let input = self.fresh(ty);
            if self.array_values.contains(a) {
                self.array_values.insert(input.clone());
            }
            input
        }).collect();
        self.s = Scope::default();
        for v in &inputs {
            match v.chars().next() {
                Some('i') => self.s.ints.push(v.clone()),
                Some('f') => self.s.floats.push(v.clone()),
                _ => self.s.refs.push(v.clone()),
            }
        }
        let _ = writeln!(self.out, "bridge b{number} from Guard0x{number:x} [{}] {{", inputs.join(", "));
        // Ops that need a struct need one: the loop's input object is not here.
        self.s.base = self.struct_ref();
        for _ in 0..ops {
            self.op();
        }
        let counter = fail_args.iter().position(|a| *a == params[0].1).map(|k| inputs[k].clone());
        match counter {
            // The bridge bounds the loop too: it may be taken every iteration.
            Some(c) => self.back_edge(&c, params),
            None => {
                let v = self.int();
                self.line(format!("finish({v})"));
            }
        }
        self.out.push_str("}\n");
    }
}
