//! Modules: `import` of a file next to the script and of the built-in modules (`math`,
//! `random` with CPython's Mersenne Twister seeding, `time`, `sys`, `io.StringIO`, `array`),
//! and text files (`open`).

use crate::builtins::{int_arg, str_arg, Args, Builtin, BuiltinFn};
use crate::call;
use crate::layout as L;
use crate::ops::{self, Num};
use crate::vm::{Exc, Res, Vm};
use tracelab_runtime::gc::{LayoutId, Ref};

/// File table indices meaning the process's standard output and error.
pub const STDOUT: u64 = u64::MAX;
pub const STDERR: u64 = u64::MAX - 1;

pub fn import(vm: &mut Vm, name: &str) -> Res<Ref> {
    let top = name.split('.').next().unwrap_or(name).to_string();
    let modules = vm.modules();
    if let Some(m) = crate::dict::get_str(vm, modules, &top) {
        return Ok(m);
    }
    let m = match top.as_str() {
        "math" | "random" | "time" | "sys" | "io" | "array" => builtin_module(vm, &top)?,
        _ => file_module(vm, &top)?,
    };
    let mr = vm.root(m);
    let modules = vm.modules();
    crate::dict::set_str(vm, modules, &top, vm.get(mr))?;
    Ok(vm.get(mr))
}

fn new_module(vm: &mut Vm, name: &str) -> Res<Ref> {
    let d = crate::dict::new(vm, L::DICT)?;
    let dr = vm.root(d);
    let n = vm.new_str(name)?;
    let nr = vm.root(n);
    crate::dict::set_str(vm, vm.get(dr), "__name__", vm.get(nr))?;
    let m = vm.alloc(L::MODULE, 0)?;
    vm.heap.set_field(m, L::MODULE_NAME, vm.get(nr));
    vm.heap.set_field(m, L::MODULE_DICT, vm.get(dr));
    Ok(m)
}

fn file_module(vm: &mut Vm, name: &str) -> Res<Ref> {
    let path = vm.script_dir.join(format!("{name}.py"));
    let Ok(source) = std::fs::read_to_string(&path) else {
        return vm.raise(Exc::ModuleNotFoundError, format!("No module named '{name}'"));
    };
    let m = new_module(vm, name)?;
    let mr = vm.root(m);
    // Register first, so that circular imports see the partly run module.
    let modules = vm.modules();
    crate::dict::set_str(vm, modules, name, m)?;
    let globals = vm.heap.field(vm.get(mr), L::MODULE_DICT);
    crate::run_source(vm, &source, &path.display().to_string(), globals)?;
    Ok(vm.get(mr))
}

fn builtin_module(vm: &mut Vm, name: &str) -> Res<Ref> {
    let m = new_module(vm, name)?;
    let mr = vm.root(m);
    let prefix = format!("{name}.");
    for (id, (layout, b)) in crate::builtins::table().iter().enumerate() {
        if *layout == L::MODULE {
            if let Some(short) = b.name.strip_prefix(&prefix) {
                let f = crate::builtins::bound_builtin(vm, id as u32, Ref::NULL)?;
                let d = vm.heap.field(vm.get(mr), L::MODULE_DICT);
                crate::dict::set_str(vm, d, short, f)?;
            }
        }
    }
    let d = vm.heap.field(vm.get(mr), L::MODULE_DICT);
    let dr = vm.root(d);
    match name {
        "math" => {
            for (k, v) in [("pi", std::f64::consts::PI), ("e", std::f64::consts::E), ("tau", std::f64::consts::TAU), ("inf", f64::INFINITY), ("nan", f64::NAN)] {
                let f = vm.new_float(v)?;
                crate::dict::set_str(vm, vm.get(dr), k, f)?;
            }
        }
        "sys" => {
            let argv = vm.argv.clone();
            let l = vm.new_list(argv.len())?;
            let lr = vm.root(l);
            for a in &argv {
                let s = vm.new_str(a)?;
                crate::list::append(vm, vm.get(lr), s)?;
            }
            crate::dict::set_str(vm, vm.get(dr), "argv", vm.get(lr))?;
            let big = vm.new_int(i64::MAX)?;
            crate::dict::set_str(vm, vm.get(dr), "maxsize", big)?;
            let out = vm.alloc(L::FILE, 0)?;
            vm.heap.set_word(out, L::FILE_ID, STDOUT);
            crate::dict::set_str(vm, vm.get(dr), "stdout", out)?;
            let err = vm.alloc(L::FILE, 0)?;
            vm.heap.set_word(err, L::FILE_ID, STDERR);
            crate::dict::set_str(vm, vm.get(dr), "stderr", err)?;
            let v = vm.new_str("3.11.7 (minipy)")?;
            crate::dict::set_str(vm, vm.get(dr), "version", v)?;
            let mut roots = vec![];
            for n in [3, 11, 7] {
                let v = vm.new_int(n)?;
                roots.push(vm.root(v));
            }
            let level = vm.new_str("final")?;
            roots.push(vm.root(level));
            let serial = vm.new_int(0)?;
            roots.push(vm.root(serial));
            let version_info = vm.new_tuple_from(&roots)?;
            crate::dict::set_str(vm, vm.get(dr), "version_info", version_info)?;
            let modules = vm.modules();
            crate::dict::set_str(vm, vm.get(dr), "modules", modules)?;
        }
        "io" => {
            let t = vm.layout_types[L::STRINGIO.0 as usize];
            crate::dict::set_str(vm, vm.get(dr), "StringIO", t)?;
        }
        "array" => {
            let t = vm.layout_types[L::ARRAY.0 as usize];
            crate::dict::set_str(vm, vm.get(dr), "array", t)?;
        }
        _ => {}
    }
    Ok(vm.get(mr))
}

fn num(vm: &mut Vm, a: &Args, i: usize) -> Res<f64> {
    let x = a.get(vm, i);
    match ops::as_f64(vm, x)? {
        Some(f) => Ok(f),
        None => {
            let t = vm.type_name_of(x);
            vm.type_error(format!("must be real number, not {t}"))
        }
    }
}

fn float1(vm: &mut Vm, a: &Args, name: &str, f: fn(f64) -> f64, domain: fn(f64) -> bool) -> Res<Ref> {
    call::arity(vm, name, a.len(), 1, 1)?;
    let x = num(vm, a, 0)?;
    if !domain(x) {
        return vm.value_error("math domain error");
    }
    let r = f(x);
    if r.is_infinite() && x.is_finite() {
        return vm.raise(Exc::OverflowError, "math range error");
    }
    vm.new_float(r)
}

fn to_int_rounded(vm: &mut Vm, a: &Args, name: &str, f: fn(f64) -> f64) -> Res<Ref> {
    call::arity(vm, name, a.len(), 1, 1)?;
    let x = a.get(vm, 0);
    if ops::is_int(vm, x) {
        return Ok(x);
    }
    let v = num(vm, a, 0)?;
    if !v.is_finite() {
        return vm.raise(Exc::OverflowError, "cannot convert float infinity to integer");
    }
    let r = f(v);
    if r.abs() < 9.2e18 { vm.new_int(r as i64) } else { vm.new_bigint(&crate::format::float_to_big(r)) }
}

fn gcd(vm: &mut Vm, a: &Args) -> Res<Ref> {
    let mut g = num_bigint::BigInt::from(0);
    for i in 0..a.len() {
        let Some(n) = ops::int_of(vm, a.get(vm, i)) else {
            return vm.type_error("'float' object cannot be interpreted as an integer");
        };
        g = num_integer::Integer::gcd(&g, &n.big());
    }
    vm.new_bigint(&g)
}

fn factorial(vm: &mut Vm, a: &Args) -> Res<Ref> {
    call::arity(vm, "factorial", a.len(), 1, 1)?;
    let n = int_arg(vm, a.get(vm, 0), "")?;
    if n < 0 {
        return vm.value_error("factorial() not defined for negative values");
    }
    let mut r = num_bigint::BigInt::from(1);
    for k in 2..=n {
        r *= k;
    }
    vm.new_bigint(&r)
}

fn isqrt(vm: &mut Vm, a: &Args) -> Res<Ref> {
    let Some(n) = ops::int_of(vm, a.get(vm, 0)) else { return vm.type_error("isqrt() argument must be an integer") };
    let b = n.big();
    if num_traits::Signed::is_negative(&b) {
        return vm.value_error("isqrt() argument must be nonnegative");
    }
    vm.new_bigint(&b.sqrt())
}

fn log(vm: &mut Vm, a: &Args) -> Res<Ref> {
    call::arity(vm, "log", a.len(), 1, 2)?;
    let x = a.get(vm, 0);
    // Big ints: log of the value, not of its float rounding (which may overflow).
    let lx = match ops::int_of(vm, x) {
        Some(Num::Big(b)) if num_traits::Signed::is_positive(&b) => {
            let bits = b.bits() as i64;
            let shift = (bits - 60).max(0);
            let top = num_traits::ToPrimitive::to_f64(&(b >> shift as usize)).unwrap_or(1.0);
            top.ln() + shift as f64 * std::f64::consts::LN_2
        }
        _ => {
            let v = num(vm, a, 0)?;
            if v <= 0.0 {
                return vm.value_error("math domain error");
            }
            v.ln()
        }
    };
    if a.len() == 2 {
        let b = num(vm, a, 1)?;
        if b <= 0.0 || b == 1.0 {
            return vm.value_error("math domain error");
        }
        return vm.new_float(lx / b.ln());
    }
    vm.new_float(lx)
}

// ---- random (CPython's algorithms over MT19937) ----

fn seed(vm: &mut Vm, a: &Args) -> Res<Ref> {
    let n = if a.is_empty() || a.get(vm, 0) == vm.none {
        num_bigint::BigInt::from(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos()))
    } else {
        match ops::int_of(vm, a.get(vm, 0)) {
            Some(n) => n.big(),
            None => return vm.type_error("minipy seeds random only with an int"),
        }
    };
    let mag = num_traits::Signed::abs(&n);
    let mut key = mag.to_u32_digits().1;
    if key.is_empty() {
        key.push(0);
    }
    vm.random = rand_mt::Mt::new_with_key(key.into_iter());
    Ok(vm.none)
}

fn random_f64(vm: &mut Vm) -> f64 {
    let a = (vm.random.next_u32() >> 5) as f64;
    let b = (vm.random.next_u32() >> 6) as f64;
    (a * 67108864.0 + b) * (1.0 / 9007199254740992.0)
}

fn getrandbits(vm: &mut Vm, k: u32) -> num_bigint::BigUint {
    if k <= 32 {
        return num_bigint::BigUint::from(vm.random.next_u32() >> (32 - k.max(1)) as u64 & if k == 0 { 0 } else { u32::MAX });
    }
    let words = k.div_ceil(32);
    let mut digits = Vec::with_capacity(words as usize);
    let mut left = k;
    for _ in 0..words {
        let mut r = vm.random.next_u32();
        if left < 32 {
            r >>= 32 - left;
        }
        digits.push(r);
        left = left.saturating_sub(32);
    }
    num_bigint::BigUint::from_slice(&digits)
}

/// A uniform int in `0..n`, as CPython's `_randbelow_with_getrandbits`.
fn randbelow(vm: &mut Vm, n: &num_bigint::BigUint) -> num_bigint::BigUint {
    let k = n.bits() as u32;
    loop {
        let r = getrandbits(vm, k);
        if &r < n {
            return r;
        }
    }
}

fn randrange_big(vm: &mut Vm, start: num_bigint::BigInt, stop: num_bigint::BigInt, step: num_bigint::BigInt) -> Res<Ref> {
    let width = &stop - &start;
    let n = if step == num_bigint::BigInt::from(1) {
        width
    } else {
        let s = step.clone();
        num_integer::Integer::div_floor(&(width + &s - if num_traits::Signed::is_positive(&s) { 1 } else { -1 }), &s)
    };
    if !num_traits::Signed::is_positive(&n) {
        return vm.value_error("empty range for randrange()");
    }
    let r = randbelow(vm, n.magnitude());
    let v = start + num_bigint::BigInt::from(r) * step;
    vm.new_bigint(&v)
}

fn randint(vm: &mut Vm, a: &Args) -> Res<Ref> {
    call::arity(vm, "randint", a.len(), 2, 2)?;
    let (Some(lo), Some(hi)) = (ops::int_of(vm, a.get(vm, 0)), ops::int_of(vm, a.get(vm, 1))) else {
        return vm.type_error("randint() arguments must be integers");
    };
    randrange_big(vm, lo.big(), hi.big() + 1, num_bigint::BigInt::from(1))
}

fn randrange(vm: &mut Vm, a: &Args) -> Res<Ref> {
    call::arity(vm, "randrange", a.len(), 1, 3)?;
    let mut v = vec![];
    for i in 0..a.len() {
        match ops::int_of(vm, a.get(vm, i)) {
            Some(n) => v.push(n.big()),
            None => return vm.type_error("randrange() arguments must be integers"),
        }
    }
    let one = num_bigint::BigInt::from(1);
    match v.len() {
        1 => randrange_big(vm, num_bigint::BigInt::from(0), v[0].clone(), one),
        2 => randrange_big(vm, v[0].clone(), v[1].clone(), one),
        _ => randrange_big(vm, v[0].clone(), v[1].clone(), v[2].clone()),
    }
}

fn choice(vm: &mut Vm, a: &Args) -> Res<Ref> {
    call::arity(vm, "choice", a.len(), 1, 1)?;
    let s = a.get(vm, 0);
    let n = crate::methods::length(vm, s)?;
    if n == 0 {
        return vm.raise(Exc::IndexError, "Cannot choose from an empty sequence");
    }
    let i = randbelow(vm, &num_bigint::BigUint::from(n));
    let idx = vm.new_int(num_traits::ToPrimitive::to_i64(&i).unwrap_or(0))?;
    crate::seq::getitem(vm, a.get(vm, 0), idx)
}

fn randbelow_usize(vm: &mut Vm, n: usize) -> usize {
    let r = randbelow(vm, &num_bigint::BigUint::from(n));
    num_traits::ToPrimitive::to_usize(&r).unwrap_or(0)
}

/// `random.sample(population, k)`: CPython's algorithm (a pool for small populations,
/// rejection of repeats for large ones), so the same seed picks the same items.
fn sample(vm: &mut Vm, a: &Args) -> Res<Ref> {
    call::arity(vm, "sample", a.len(), 2, 2)?;
    let population = a.get(vm, 0);
    if matches!(vm.layout(population), L::SET | L::DICT) {
        return vm.type_error("Population must be a sequence.  For dicts or sets, use sorted(d).");
    }
    let n = crate::methods::length(vm, population)?;
    let k = crate::builtins::int_arg(vm, a.get(vm, 1), "")?;
    if k < 0 || k as usize > n {
        return vm.value_error("Sample larger than population or is negative");
    }
    let k = k as usize;
    let mut setsize = 21usize;
    if k > 5 {
        // 4 ** ceil(log(3k, 4)), computed as CPython does, in floating point.
        setsize += 4usize.pow((((k * 3) as f64).ln() / 4f64.ln()).ceil() as u32);
    }
    let mut picks = Vec::with_capacity(k);
    if n <= setsize {
        let mut pool: Vec<usize> = (0..n).collect();
        for i in 0..k {
            let j = randbelow_usize(vm, n - i);
            picks.push(pool[j]);
            pool[j] = pool[n - i - 1];
        }
    } else {
        let mut selected = std::collections::HashSet::new();
        for _ in 0..k {
            let mut j = randbelow_usize(vm, n);
            while selected.contains(&j) {
                j = randbelow_usize(vm, n);
            }
            selected.insert(j);
            picks.push(j);
        }
    }
    let result = vm.new_list(k)?;
    let rr = vm.root(result);
    for j in picks {
        let idx = vm.new_int(j as i64)?;
        let item = crate::seq::getitem(vm, a.get(vm, 0), idx)?;
        crate::list::append(vm, vm.get(rr), item)?;
    }
    Ok(vm.get(rr))
}

fn shuffle(vm: &mut Vm, a: &Args) -> Res<Ref> {
    call::arity(vm, "shuffle", a.len(), 1, 1)?;
    let l = a.get(vm, 0);
    if vm.layout(l) != L::LIST {
        return vm.type_error("minipy shuffles lists only");
    }
    let n = crate::list::len(vm, l);
    for i in (1..n).rev() {
        let j = randbelow(vm, &num_bigint::BigUint::from(i + 1));
        let j = num_traits::ToPrimitive::to_usize(&j).unwrap_or(0);
        let l = a.get(vm, 0);
        let (x, y) = (crate::list::get(vm, l, i), crate::list::get(vm, l, j));
        crate::list::set(vm, l, i, y);
        crate::list::set(vm, l, j, x);
    }
    Ok(vm.none)
}

fn gauss(vm: &mut Vm, a: &Args) -> Res<Ref> {
    // CPython's normalvariate (Kinderman and Monahan), which gauss() differs from only in
    // caching a second value; minipy uses normalvariate for both.
    let (mu, sigma) = (if a.len() > 0 { num(vm, a, 0)? } else { 0.0 }, if a.len() > 1 { num(vm, a, 1)? } else { 1.0 });
    let nv_magicconst = 4.0 * (-0.5f64).exp() / 2.0f64.sqrt();
    loop {
        let u1 = random_f64(vm);
        let u2 = 1.0 - random_f64(vm);
        let z = nv_magicconst * (u1 - 0.5) / u2;
        if z * z / 4.0 <= -u2.ln() {
            return vm.new_float(mu + z * sigma);
        }
    }
}

// ---- files, StringIO, stdout ----

pub fn open(vm: &mut Vm, a: &Args) -> Res<Ref> {
    call::arity(vm, "open", a.len(), 1, 3)?;
    let path = str_arg(vm, a.get(vm, 0), "open() argument 'file'")?;
    let mode = match a.kw(vm, "mode").or(if a.len() > 1 { Some(a.get(vm, 1)) } else { None }) {
        Some(m) => str_arg(vm, m, "open() argument 'mode'")?,
        None => "r".into(),
    };
    let full = if std::path::Path::new(&path).is_absolute() { std::path::PathBuf::from(&path) } else { std::path::PathBuf::from(&path) };
    let writing = mode.contains('w') || mode.contains('a');
    if mode.contains('b') {
        return vm.value_error("minipy does not support binary files");
    }
    let text = if mode.contains('r') && !writing {
        match std::fs::read_to_string(&full) {
            Ok(t) => t,
            Err(e) => return open_failed(vm, &e, &path),
        }
    } else if mode.contains('a') {
        std::fs::read_to_string(&full).unwrap_or_default()
    } else {
        String::new()
    };
    let id = vm.files.add(crate::io::OpenFile { path: full, writing, text, pos: 0 });
    let f = vm.alloc(L::FILE, 0)?;
    vm.heap.set_word(f, L::FILE_ID, id as u64);
    vm.heap.set_word(f, L::FILE_MODE, writing as u64);
    Ok(f)
}

fn open_failed<T>(vm: &mut Vm, e: &std::io::Error, path: &str) -> Res<T> {
    use std::io::ErrorKind;
    match e.kind() {
        ErrorKind::NotFound => crate::exceptions::raise_os_error(vm, Exc::FileNotFoundError, 2, "No such file or directory", path),
        ErrorKind::PermissionDenied => crate::exceptions::raise_os_error(vm, Exc::OSError, 13, "Permission denied", path),
        _ if std::path::Path::new(path).is_dir() => crate::exceptions::raise_os_error(vm, Exc::OSError, 21, "Is a directory", path),
        _ => crate::exceptions::raise_os_error(vm, Exc::OSError, e.raw_os_error().unwrap_or(5) as i64, &e.to_string(), path),
    }
}

/// The next line of a file or StringIO (with its newline), empty at the end.
fn read_line(vm: &mut Vm, f: Ref) -> Res<String> {
    if vm.layout(f) == L::STRINGIO {
        let pos = vm.heap.word(f, L::SIO_POS) as usize;
        let t = stringio_text(vm, f);
        let rest = t.get(pos..).unwrap_or("");
        let end = rest.find('\n').map_or(rest.len(), |i| i + 1);
        let line = rest[..end].to_string();
        vm.heap.set_word(f, L::SIO_POS, (pos + end) as u64);
        return Ok(line);
    }
    let id = vm.heap.word(f, L::FILE_ID) as usize;
    match vm.files.get(id) {
        Some(file) => {
            let rest = &file.text[file.pos.min(file.text.len())..];
            let end = rest.find('\n').map_or(rest.len(), |i| i + 1);
            let line = rest[..end].to_string();
            file.pos += end;
            Ok(line)
        }
        None => vm.value_error("I/O operation on closed file."),
    }
}

fn writelines(vm: &mut Vm, a: &Args) -> Res<Ref> {
    call::arity(vm, "writelines", a.len(), 2, 2)?;
    let it = crate::iter::get_iter(vm, a.get(vm, 1))?;
    let ir = vm.root(it);
    while let Some(line) = crate::iter::next(vm, vm.get(ir))? {
        let t = str_arg(vm, line, "write() argument")?;
        write_to(vm, a.get(vm, 0), &t)?;
    }
    Ok(vm.none)
}

/// Writes text to a file object, a StringIO or an instance with `write`.
pub fn write_to(vm: &mut Vm, f: Ref, text: &str) -> Res<()> {
    match vm.layout(f) {
        L::FILE => {
            let id = vm.heap.word(f, L::FILE_ID);
            if id == STDOUT {
                vm.out.write(text);
                return Ok(());
            }
            if id == STDERR {
                vm.out.write_err(text);
                return Ok(());
            }
            match vm.files.get(id as usize) {
                Some(file) if file.writing => {
                    file.text.push_str(text);
                    Ok(())
                }
                Some(_) => vm.raise(Exc::OSError, "not writable"),
                None => vm.value_error("I/O operation on closed file."),
            }
        }
        L::STRINGIO => {
            let fr = vm.root(f);
            let s = vm.new_str(text)?;
            let parts = vm.heap.field(vm.get(fr), L::SIO_PARTS);
            crate::list::append(vm, parts, s)
        }
        _ => {
            let s = vm.new_str(text)?;
            let sym = vm.sym("write");
            let m = crate::attr::get(vm, f, sym)?;
            call::call_refs(vm, m, &[s]).map(|_| ())
        }
    }
}

pub fn new_stringio(vm: &mut Vm, a: &Args) -> Res<Ref> {
    let parts = vm.new_list(4)?;
    let pr = vm.root(parts);
    if a.len() == 1 {
        crate::list::append(vm, vm.get(pr), a.get(vm, 0))?;
    }
    let s = vm.alloc(L::STRINGIO, 0)?;
    vm.heap.set_field(s, L::SIO_PARTS, vm.get(pr));
    Ok(s)
}

fn stringio_text(vm: &Vm, s: Ref) -> String {
    let parts = vm.heap.field(s, L::SIO_PARTS);
    (0..crate::list::len(vm, parts)).map(|i| vm.str_of(crate::list::get(vm, parts, i))).collect()
}

fn file_text(vm: &mut Vm, f: Ref) -> Res<String> {
    match vm.layout(f) {
        L::STRINGIO => {
            let pos = vm.heap.word(f, L::SIO_POS) as usize;
            let t = stringio_text(vm, f);
            vm.heap.set_word(f, L::SIO_POS, t.len() as u64);
            Ok(t.get(pos..).unwrap_or("").to_string())
        }
        _ => {
            let id = vm.heap.word(f, L::FILE_ID) as usize;
            match vm.files.get(id) {
                Some(file) => {
                    let t = file.text[file.pos.min(file.text.len())..].to_string();
                    file.pos = file.text.len();
                    Ok(t)
                }
                None => vm.value_error("I/O operation on closed file."),
            }
        }
    }
}

/// Iterating over a file: its remaining lines.
pub fn lines_iter(vm: &mut Vm, f: Ref) -> Res<Ref> {
    let t = file_text(vm, f)?;
    let l = vm.new_list(0)?;
    let lr = vm.root(l);
    for line in t.split_inclusive('\n') {
        let s = vm.new_str(line)?;
        crate::list::append(vm, vm.get(lr), s)?;
    }
    crate::iter::get_iter(vm, vm.get(lr))
}

fn close(vm: &mut Vm, a: &Args) -> Res<Ref> {
    let f = a.get(vm, 0);
    if vm.layout(f) == L::FILE {
        let id = vm.heap.word(f, L::FILE_ID);
        if id < STDERR && vm.files.close(id as usize).is_err() {
            return vm.raise(Exc::OSError, "could not write the file");
        }
    }
    Ok(vm.none)
}

pub fn sys_exit(vm: &mut Vm, a: &Args) -> Res<Ref> {
    let code = if a.is_empty() { vm.none } else { a.get(vm, 0) };
    let cr = vm.root(code);
    let args = vm.new_tuple_from(&[cr])?;
    let t = vm.exc_type(Exc::SystemExit);
    let e = crate::exceptions::new_exception(vm, t, args)?;
    vm.set_exception(e);
    Err(crate::vm::Raised)
}

macro_rules! entries {
    ($($layout:expr, $name:literal => $f:expr;)*) => {
        vec![$(($layout as LayoutId, Builtin { name: $name, f: $f as BuiltinFn }),)*]
    };
}

pub fn entries() -> Vec<(LayoutId, Builtin)> {
    let m = L::MODULE;
    entries! {
        m, "math.sqrt" => |vm: &mut Vm, a: &Args| float1(vm, a, "sqrt", f64::sqrt, |x| x >= 0.0);
        m, "math.exp" => |vm: &mut Vm, a: &Args| float1(vm, a, "exp", f64::exp, |_| true);
        m, "math.sin" => |vm: &mut Vm, a: &Args| float1(vm, a, "sin", f64::sin, f64::is_finite);
        m, "math.cos" => |vm: &mut Vm, a: &Args| float1(vm, a, "cos", f64::cos, f64::is_finite);
        m, "math.tan" => |vm: &mut Vm, a: &Args| float1(vm, a, "tan", f64::tan, f64::is_finite);
        m, "math.asin" => |vm: &mut Vm, a: &Args| float1(vm, a, "asin", f64::asin, |x| (-1.0..=1.0).contains(&x));
        m, "math.acos" => |vm: &mut Vm, a: &Args| float1(vm, a, "acos", f64::acos, |x| (-1.0..=1.0).contains(&x));
        m, "math.atan" => |vm: &mut Vm, a: &Args| float1(vm, a, "atan", f64::atan, |_| true);
        m, "math.log2" => |vm: &mut Vm, a: &Args| float1(vm, a, "log2", f64::log2, |x| x > 0.0);
        m, "math.log10" => |vm: &mut Vm, a: &Args| float1(vm, a, "log10", f64::log10, |x| x > 0.0);
        m, "math.fabs" => |vm: &mut Vm, a: &Args| float1(vm, a, "fabs", f64::abs, |_| true);
        m, "math.degrees" => |vm: &mut Vm, a: &Args| float1(vm, a, "degrees", f64::to_degrees, |_| true);
        m, "math.radians" => |vm: &mut Vm, a: &Args| float1(vm, a, "radians", f64::to_radians, |_| true);
        m, "math.log" => log;
        m, "math.floor" => |vm: &mut Vm, a: &Args| to_int_rounded(vm, a, "floor", f64::floor);
        m, "math.ceil" => |vm: &mut Vm, a: &Args| to_int_rounded(vm, a, "ceil", f64::ceil);
        m, "math.trunc" => |vm: &mut Vm, a: &Args| to_int_rounded(vm, a, "trunc", f64::trunc);
        m, "math.atan2" => |vm: &mut Vm, a: &Args| { call::arity(vm, "atan2", a.len(), 2, 2)?; let (y, x) = (num(vm, a, 0)?, num(vm, a, 1)?); vm.new_float(y.atan2(x)) };
        m, "math.hypot" => |vm: &mut Vm, a: &Args| { let mut s = 0.0f64; for i in 0..a.len() { let v = num(vm, a, i)?; s = s.hypot(v); } vm.new_float(s) };
        m, "math.pow" => |vm: &mut Vm, a: &Args| { call::arity(vm, "pow", a.len(), 2, 2)?; let (x, y) = (num(vm, a, 0)?, num(vm, a, 1)?); if x < 0.0 && y.fract() != 0.0 { return vm.value_error("math domain error"); } vm.new_float(x.powf(y)) };
        m, "math.fmod" => |vm: &mut Vm, a: &Args| { call::arity(vm, "fmod", a.len(), 2, 2)?; let (x, y) = (num(vm, a, 0)?, num(vm, a, 1)?); if y == 0.0 { return vm.value_error("math domain error"); } vm.new_float(x % y) };
        m, "math.copysign" => |vm: &mut Vm, a: &Args| { call::arity(vm, "copysign", a.len(), 2, 2)?; let (x, y) = (num(vm, a, 0)?, num(vm, a, 1)?); vm.new_float(x.copysign(y)) };
        m, "math.isnan" => |vm: &mut Vm, a: &Args| { let x = num(vm, a, 0)?; Ok(vm.bool(x.is_nan())) };
        m, "math.isinf" => |vm: &mut Vm, a: &Args| { let x = num(vm, a, 0)?; Ok(vm.bool(x.is_infinite())) };
        m, "math.isfinite" => |vm: &mut Vm, a: &Args| { let x = num(vm, a, 0)?; Ok(vm.bool(x.is_finite())) };
        m, "math.isclose" => |vm: &mut Vm, a: &Args| { let (x, y) = (num(vm, a, 0)?, num(vm, a, 1)?); let rel = match a.kw(vm, "rel_tol") { Some(r) => ops::as_f64(vm, r)?.unwrap_or(1e-9), None => 1e-9 }; let abs = match a.kw(vm, "abs_tol") { Some(r) => ops::as_f64(vm, r)?.unwrap_or(0.0), None => 0.0 }; let close = x == y || (x - y).abs() <= (rel * x.abs().max(y.abs())).max(abs); Ok(vm.bool(close)) };
        m, "math.gcd" => gcd;
        m, "math.factorial" => factorial;
        m, "math.isqrt" => isqrt;
        m, "math.comb" => |vm: &mut Vm, a: &Args| { let (n, k) = (int_arg(vm, a.get(vm, 0), "")?, int_arg(vm, a.get(vm, 1), "")?); if n < 0 || k < 0 { return vm.value_error("n must be a non-negative integer"); } if k > n { return vm.new_int(0); } let mut r = num_bigint::BigInt::from(1); for i in 0..k { r = r * (n - i) / (i + 1); } vm.new_bigint(&r) };
        m, "random.seed" => seed;
        m, "random.random" => |vm: &mut Vm, _a: &Args| { let f = random_f64(vm); vm.new_float(f) };
        m, "random.randint" => randint;
        m, "random.randrange" => randrange;
        m, "random.choice" => choice;
        m, "random.shuffle" => shuffle;
        m, "random.sample" => sample;
        m, "random.uniform" => |vm: &mut Vm, a: &Args| { call::arity(vm, "uniform", a.len(), 2, 2)?; let (lo, hi) = (num(vm, a, 0)?, num(vm, a, 1)?); let r = random_f64(vm); vm.new_float(lo + (hi - lo) * r) };
        m, "random.gauss" => gauss;
        m, "random.normalvariate" => gauss;
        m, "random.getrandbits" => |vm: &mut Vm, a: &Args| { let k = int_arg(vm, a.get(vm, 0), "")?; if k < 0 { return vm.value_error("number of bits must be non-negative"); } let r = getrandbits(vm, k as u32); vm.new_bigint(&num_bigint::BigInt::from(r)) };
        m, "time.time" => |vm: &mut Vm, _a: &Args| { let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64()); vm.new_float(t) };
        m, "time.perf_counter" => |vm: &mut Vm, _a: &Args| { let t = vm.start_time.elapsed().as_secs_f64(); vm.new_float(t) };
        m, "time.perf_counter_ns" => |vm: &mut Vm, _a: &Args| { let t = vm.start_time.elapsed().as_nanos() as i64; vm.new_int(t) };
        m, "time.monotonic_ns" => |vm: &mut Vm, _a: &Args| { let t = vm.start_time.elapsed().as_nanos() as i64; vm.new_int(t) };
        m, "time.time_ns" => |vm: &mut Vm, _a: &Args| { let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos() as i64); vm.new_int(t) };
        m, "time.monotonic" => |vm: &mut Vm, _a: &Args| { let t = vm.start_time.elapsed().as_secs_f64(); vm.new_float(t) };
        m, "time.process_time" => |vm: &mut Vm, _a: &Args| { let t = vm.start_time.elapsed().as_secs_f64(); vm.new_float(t) };
        m, "time.sleep" => |vm: &mut Vm, a: &Args| { let s = num(vm, a, 0)?; if s < 0.0 { return vm.value_error("sleep length must be non-negative"); } std::thread::sleep(std::time::Duration::from_secs_f64(s)); Ok(vm.none) };
        m, "sys.exit" => sys_exit;
        m, "sys.setrecursionlimit" => |vm: &mut Vm, a: &Args| { let n = int_arg(vm, a.get(vm, 0), "")?; if n < 1 { return vm.value_error("recursion limit must be greater or equal than 1"); } vm.recursion_limit = (n as u32).min(20_000); Ok(vm.none) };
        m, "sys.getrecursionlimit" => |vm: &mut Vm, _a: &Args| { let n = vm.recursion_limit as i64; vm.new_int(n) };
        L::FILE, "write" => |vm: &mut Vm, a: &Args| { let t = str_arg(vm, a.get(vm, 1), "write() argument")?; let n = t.chars().count(); write_to(vm, a.get(vm, 0), &t)?; vm.new_int(n as i64) };
        L::FILE, "read" => |vm: &mut Vm, a: &Args| { let t = file_text(vm, a.get(vm, 0))?; vm.new_str(&t) };
        L::FILE, "readlines" => |vm: &mut Vm, a: &Args| { let it = lines_iter(vm, a.get(vm, 0))?; crate::iter::to_list(vm, it) };
        L::FILE, "readline" => |vm: &mut Vm, a: &Args| { let line = read_line(vm, a.get(vm, 0))?; vm.new_str(&line) };
        L::FILE, "writelines" => writelines;
        L::STRINGIO, "readline" => |vm: &mut Vm, a: &Args| { let line = read_line(vm, a.get(vm, 0))?; vm.new_str(&line) };
        L::STRINGIO, "readlines" => |vm: &mut Vm, a: &Args| { let it = lines_iter(vm, a.get(vm, 0))?; crate::iter::to_list(vm, it) };
        L::STRINGIO, "writelines" => writelines;
        L::FILE, "close" => close;
        L::FILE, "flush" => |vm: &mut Vm, _a: &Args| { vm.out.flush(); Ok(vm.none) };
        L::FILE, "__enter__" => |_vm: &mut Vm, a: &Args| Ok(a.get(_vm, 0));
        L::FILE, "__exit__" => |vm: &mut Vm, a: &Args| { close(vm, &Args { pos: &a.pos[..1], kw: None })?; Ok(vm.false_) };
        L::STRINGIO, "write" => |vm: &mut Vm, a: &Args| { let t = str_arg(vm, a.get(vm, 1), "string argument")?; let n = t.chars().count(); write_to(vm, a.get(vm, 0), &t)?; vm.new_int(n as i64) };
        L::STRINGIO, "getvalue" => |vm: &mut Vm, a: &Args| { let t = stringio_text(vm, a.get(vm, 0)); vm.new_str(&t) };
        L::STRINGIO, "read" => |vm: &mut Vm, a: &Args| { let t = file_text(vm, a.get(vm, 0))?; vm.new_str(&t) };
        L::STRINGIO, "close" => |vm: &mut Vm, _a: &Args| Ok(vm.none);
        L::STRINGIO, "__enter__" => |_vm: &mut Vm, a: &Args| Ok(a.get(_vm, 0));
        L::STRINGIO, "__exit__" => |vm: &mut Vm, _a: &Args| Ok(vm.false_);
    }
}
