//! `repr()` and `str()` of every object kind, as CPython writes them (float repr is the
//! shortest round-tripping form, switching to exponent notation at 1e16 and below 1e-4).

use crate::layout as L;
use crate::ops::{self, Num};
use crate::vm::{Exc, Res, Vm};
use tracelab_runtime::gc::Ref;

pub fn float_repr(f: f64) -> String {
    if f.is_nan() {
        return "nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "inf".into() } else { "-inf".into() };
    }
    if f == 0.0 {
        return if f.is_sign_negative() { "-0.0".into() } else { "0.0".into() };
    }
    // Rust's `{:e}` gives the shortest digits that round-trip.
    let e = format!("{:e}", f);
    let (mantissa, exp) = e.split_once('e').unwrap_or((&e, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let neg = mantissa.starts_with('-');
    let digits: String = mantissa.chars().filter(|c| c.is_ascii_digit()).collect();
    let mut out = String::new();
    if neg {
        out.push('-');
    }
    if (-4..16).contains(&exp) {
        if exp >= 0 {
            let int_len = exp as usize + 1;
            if digits.len() <= int_len {
                out.push_str(&digits);
                out.push_str(&"0".repeat(int_len - digits.len()));
                out.push_str(".0");
            } else {
                out.push_str(&digits[..int_len]);
                out.push('.');
                out.push_str(&digits[int_len..]);
            }
        } else {
            out.push_str("0.");
            out.push_str(&"0".repeat((-exp - 1) as usize));
            out.push_str(&digits);
        }
    } else {
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        out.push_str(&format!("e{}{:02}", if exp < 0 { '-' } else { '+' }, exp.abs()));
    }
    out
}

/// `str.isprintable` for one character, approximated without the Unicode database: control
/// and separator characters other than the space, the common format characters (zero-width,
/// bidirectional marks, soft hyphen, BOM), surrogates, private use and noncharacters are not
/// printable.
pub fn is_printable(c: char) -> bool {
    let u = c as u32;
    if c == ' ' {
        return true;
    }
    !(c.is_control()
        || c.is_whitespace()
        || u == 0xad
        || (0x200b..=0x200f).contains(&u)
        || (0x2028..=0x202e).contains(&u)
        || (0x2060..=0x206f).contains(&u)
        || u == 0xfeff
        || (0xe000..=0xf8ff).contains(&u)
        || (0xfff9..=0xfffb).contains(&u)
        || (u & 0xfffe) == 0xfffe
        || (0xf0000..).contains(&u))
}

pub fn str_repr(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') { '"' } else { '\'' };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => out.push_str(&format!("\\x{:02x}", c as u32)),
            c if (0x80..0x100).contains(&(c as u32)) && !is_printable(c) => out.push_str(&format!("\\x{:02x}", c as u32)),
            c if !is_printable(c) && (c as u32) < 0x10000 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c if !is_printable(c) => out.push_str(&format!("\\U{:08x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

fn int_string(n: &Num) -> String {
    match n {
        Num::Small(i) => i.to_string(),
        Num::Big(b) => b.to_string(),
    }
}

/// `repr(r)` as a Rust string.
pub fn repr(vm: &mut Vm, r: Ref) -> Res<String> {
    if vm.depth > vm.recursion_limit + 50 {
        return vm.raise(Exc::RecursionError, "maximum recursion depth exceeded while getting the repr of an object");
    }
    match vm.layout(r) {
        L::NONE => Ok("None".into()),
        L::BOOL => Ok(if r == vm.true_ { "True" } else { "False" }.into()),
        L::INT | L::LONG => Ok(int_string(&ops::int_of(vm, r).unwrap_or(Num::Small(0)))),
        L::FLOAT => Ok(float_repr(ops::float_of(vm, r))),
        L::STR => Ok(str_repr(vm.str_of(r))),
        L::ELLIPSIS => Ok("Ellipsis".into()),
        L::NOTIMPL => Ok("NotImplemented".into()),
        L::TUPLE => {
            let n = vm.heap.len(r);
            let inner = items_repr(vm, r, n)?;
            Ok(if n == 1 { format!("({inner},)") } else { format!("({inner})") })
        }
        L::LIST => {
            let n = crate::list::len(vm, r);
            Ok(format!("[{}]", items_repr(vm, r, n)?))
        }
        L::DICT => dict_repr(vm, r),
        L::SET => {
            if crate::set::len(vm, r) == 0 {
                return Ok("set()".into());
            }
            let keys = crate::set::to_list(vm, r)?;
            let n = crate::list::len(vm, keys);
            Ok(format!("{{{}}}", items_repr(vm, keys, n)?))
        }
        L::TYPE => {
            let name = vm.type_name(r).to_string();
            if crate::types::is_builtin_layout(vm, r) || vm.heap.word(r, L::TYPE_FLAGS) & crate::types::FLAG_EXCEPTION != 0 && is_prebuilt_exc(vm, r) {
                Ok(format!("<class '{name}'>"))
            } else {
                Ok(format!("<class '__main__.{name}'>"))
            }
        }
        L::FUNCTION => {
            let q = vm.str_of(vm.heap.field(r, L::FUNC_QUALNAME)).to_string();
            Ok(format!("<function {q} at 0x{:012x}>", addr(r)))
        }
        L::BUILTIN => {
            let name = crate::builtins::builtin_name(vm, r);
            Ok(format!("<built-in function {name}>"))
        }
        L::METHOD => {
            let f = vm.heap.field(r, L::METHOD_FUNC);
            let s = vm.heap.field(r, L::METHOD_SELF);
            let q = if vm.layout(f) == L::FUNCTION { vm.str_of(vm.heap.field(f, L::FUNC_QUALNAME)).to_string() } else { "?".into() };
            let sr = repr(vm, s)?;
            Ok(format!("<bound method {q} of {sr}>"))
        }
        L::MODULE => {
            let n = vm.str_of(vm.heap.field(r, L::MODULE_NAME)).to_string();
            Ok(format!("<module '{n}'>"))
        }
        L::RANGE => {
            let (a, b, c) = (vm.heap.word(r, 1) as i64, vm.heap.word(r, 2) as i64, vm.heap.word(r, 3) as i64);
            Ok(if c == 1 { format!("range({a}, {b})") } else { format!("range({a}, {b}, {c})") })
        }
        L::SLICE => {
            let parts: Vec<Ref> = (1..4).map(|i| vm.heap.field(r, i)).collect();
            let rr = vm.root(r);
            let mut s = vec![];
            for i in 0..3 {
                let p = vm.heap.field(vm.get(rr), 1 + i);
                let _ = parts[i];
                s.push(repr(vm, p)?);
            }
            Ok(format!("slice({}, {}, {})", s[0], s[1], s[2]))
        }
        L::GENERATOR => {
            let n = vm.str_of(vm.heap.field(r, L::GEN_NAME)).to_string();
            Ok(format!("<generator object {n} at 0x{:012x}>", addr(r)))
        }
        L::INSTANCE => instance_repr(vm, r),
        L::ARRAY => crate::array::repr(vm, r),
        _ => {
            let t = vm.type_name_of(r);
            Ok(format!("<{t} object at 0x{:012x}>", addr(r)))
        }
    }
}

fn is_prebuilt_exc(vm: &Vm, t: Ref) -> bool {
    vm.exc_types.contains(&t)
}

fn addr(r: Ref) -> u64 {
    0x7f00_0000_0000 + 8 * r.0 as u64
}

fn items_repr(vm: &mut Vm, seq: Ref, n: usize) -> Res<String> {
    let sr = vm.root(seq);
    let mut parts = Vec::with_capacity(n);
    for i in 0..n {
        let s = vm.get(sr);
        if i >= crate::list::seq_len(vm, s) {
            break;
        }
        let item = crate::list::seq_get(vm, s, i);
        vm.depth += 1;
        let r = repr(vm, item);
        vm.depth -= 1;
        parts.push(r?);
    }
    Ok(parts.join(", "))
}

fn dict_repr(vm: &mut Vm, d: Ref) -> Res<String> {
    let dr = vm.root(d);
    let mut parts = vec![];
    let mut i = 0;
    while i < crate::dict::slots(vm, vm.get(dr)) {
        let (k, v) = crate::dict::entry(vm, vm.get(dr), i);
        i += 1;
        if k.is_null() {
            continue;
        }
        let vr = vm.root(v);
        vm.depth += 1;
        let ks = repr(vm, k);
        let vs = ks.and_then(|ks| repr(vm, vm.get(vr)).map(|vs| (ks, vs)));
        vm.depth -= 1;
        let (ks, vs) = vs?;
        parts.push(format!("{ks}: {vs}"));
    }
    Ok(format!("{{{}}}", parts.join(", ")))
}

fn instance_repr(vm: &mut Vm, r: Ref) -> Res<String> {
    vm.depth += 1;
    let v = ops::call_dunder(vm, r, "__repr__", &[]);
    vm.depth -= 1;
    if let Some(v) = v? {
        if vm.layout(v) != L::STR {
            let t = vm.type_name_of(v);
            return vm.type_error(format!("__repr__ returned non-string (type {t})"));
        }
        return Ok(vm.str_of(v).to_string());
    }
    let t = vm.type_of(r);
    if vm.heap.word(t, L::TYPE_FLAGS) & crate::types::FLAG_EXCEPTION != 0 {
        let name = vm.type_name(t).to_string();
        let args = crate::exceptions::args_of(vm, r);
        let inner = if vm.layout(args) == L::TUPLE {
            let n = vm.heap.len(args);
            let s = items_repr(vm, args, n)?;
            s
        } else {
            String::new()
        };
        return Ok(format!("{name}({inner})"));
    }
    let name = vm.type_name(t).to_string();
    Ok(format!("<__main__.{name} object at 0x{:012x}>", addr(r)))
}

/// `str(r)` as a Rust string.
pub fn str(vm: &mut Vm, r: Ref) -> Res<String> {
    match vm.layout(r) {
        L::STR => Ok(vm.str_of(r).to_string()),
        L::INSTANCE => {
            let t = vm.type_of(r);
            if crate::types::lookup(vm, t, "__str__").is_some() {
                let v = ops::call_dunder(vm, r, "__str__", &[])?.unwrap_or(vm.none);
                if vm.layout(v) != L::STR {
                    let t = vm.type_name_of(v);
                    return vm.type_error(format!("__str__ returned non-string (type {t})"));
                }
                return Ok(vm.str_of(v).to_string());
            }
            if vm.heap.word(t, L::TYPE_FLAGS) & crate::types::FLAG_EXCEPTION != 0
                && crate::types::lookup(vm, t, "__repr__").is_none()
            {
                return crate::exceptions::message(vm, r);
            }
            repr(vm, r)
        }
        _ => repr(vm, r),
    }
}
