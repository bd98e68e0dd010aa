//! Formatting: the format-spec mini-language (`format()`, f-strings, `str.format`),
//! `%`-formatting, and parsing numbers from strings (`int()`, `float()`).

use crate::builtins::Args;
use crate::layout as L;
use crate::ops::{self, Num};
use crate::repr::float_repr;
use crate::vm::{Exc, Res, Vm};
use num_bigint::BigInt;
use tracelab_runtime::gc::Ref;

#[derive(Default, Debug)]
struct Spec {
    fill: Option<char>,
    align: Option<char>,
    sign: Option<char>,
    alt: bool,
    zero: bool,
    width: usize,
    grouping: Option<char>,
    precision: Option<usize>,
    kind: Option<char>,
}

fn parse_spec(s: &str) -> Option<Spec> {
    let c: Vec<char> = s.chars().collect();
    let mut i = 0;
    let mut spec = Spec::default();
    let is_align = |ch: char| matches!(ch, '<' | '>' | '^' | '=');
    if c.len() >= 2 && is_align(c[1]) {
        spec.fill = Some(c[0]);
        spec.align = Some(c[1]);
        i = 2;
    } else if !c.is_empty() && is_align(c[0]) {
        spec.align = Some(c[0]);
        i = 1;
    }
    if i < c.len() && matches!(c[i], '+' | '-' | ' ') {
        spec.sign = Some(c[i]);
        i += 1;
    }
    if i < c.len() && c[i] == '#' {
        spec.alt = true;
        i += 1;
    }
    if i < c.len() && c[i] == '0' {
        spec.zero = true;
        i += 1;
    }
    let start = i;
    while i < c.len() && c[i].is_ascii_digit() {
        i += 1;
    }
    spec.width = c[start..i].iter().collect::<String>().parse().unwrap_or(0);
    if i < c.len() && matches!(c[i], ',' | '_') {
        spec.grouping = Some(c[i]);
        i += 1;
    }
    if i < c.len() && c[i] == '.' {
        i += 1;
        let start = i;
        while i < c.len() && c[i].is_ascii_digit() {
            i += 1;
        }
        if start == i {
            return None;
        }
        spec.precision = c[start..i].iter().collect::<String>().parse().ok();
    }
    if i < c.len() {
        spec.kind = Some(c[i]);
        i += 1;
    }
    (i == c.len()).then_some(spec)
}

fn group(digits: &str, sep: char, every: usize) -> String {
    let mut out = String::new();
    let n = digits.len();
    for (k, ch) in digits.chars().enumerate() {
        if k > 0 && (n - k) % every == 0 {
            out.push(sep);
        }
        out.push(ch);
    }
    out
}

/// Pads `body` (with `sign` prefix) to the spec's width and alignment.
fn pad(spec: &Spec, sign: &str, body: &str, numeric: bool) -> String {
    let len = sign.chars().count() + body.chars().count();
    if len >= spec.width {
        return format!("{sign}{body}");
    }
    let fill = spec.fill.unwrap_or(if spec.zero && spec.align.is_none() { '0' } else { ' ' });
    let align = spec.align.unwrap_or(if spec.zero && numeric { '=' } else if numeric { '>' } else { '<' });
    let n = spec.width - len;
    let f = |k: usize| fill.to_string().repeat(k);
    match align {
        '<' => format!("{sign}{body}{}", f(n)),
        '>' => format!("{}{sign}{body}", f(n)),
        '^' => format!("{}{sign}{body}{}", f(n / 2), f(n - n / 2)),
        _ => format!("{sign}{}{body}", f(n)),
    }
}

fn sign_of(spec: &Spec, negative: bool) -> &'static str {
    match (negative, spec.sign) {
        (true, _) => "-",
        (false, Some('+')) => "+",
        (false, Some(' ')) => " ",
        _ => "",
    }
}

fn format_int(vm: &mut Vm, n: &Num, spec: &Spec) -> Res<String> {
    let b = n.big();
    let neg = num_traits::Signed::is_negative(&b);
    let mag = num_traits::Signed::abs(&b);
    let kind = spec.kind.unwrap_or('d');
    let (digits, prefix) = match kind {
        'd' | 'n' => (mag.to_string(), ""),
        'x' => (mag.to_str_radix(16), "0x"),
        'X' => (mag.to_str_radix(16).to_uppercase(), "0X"),
        'o' => (mag.to_str_radix(8), "0o"),
        'b' => (mag.to_str_radix(2), "0b"),
        'c' => {
            let c = num_traits::ToPrimitive::to_u32(&b).and_then(char::from_u32).unwrap_or('?');
            return Ok(pad(spec, "", &c.to_string(), false));
        }
        'e' | 'E' | 'f' | 'F' | 'g' | 'G' | '%' => {
            let f = num_traits::ToPrimitive::to_f64(&b).unwrap_or(f64::INFINITY);
            return format_float(vm, f, spec);
        }
        other => {
            return vm.value_error(format!("Unknown format code '{other}' for object of type 'int'"));
        }
    };
    let digits = match spec.grouping {
        Some(g) => group(&digits, g, if matches!(kind, 'd' | 'n') { 3 } else { 4 }),
        None => digits,
    };
    let prefix = if spec.alt { prefix } else { "" };
    let sign = format!("{}{prefix}", sign_of(spec, neg));
    Ok(pad(spec, &sign, &digits, true))
}

/// `%e`-style exponent suffix as Python writes it (at least two digits).
fn python_exp(s: &str) -> String {
    match s.split_once('e') {
        Some((m, e)) => {
            let e: i32 = e.parse().unwrap_or(0);
            format!("{m}e{}{:02}", if e < 0 { '-' } else { '+' }, e.abs())
        }
        None => s.to_string(),
    }
}

fn general(f: f64, precision: usize, alt: bool) -> String {
    let p = precision.max(1);
    if f == 0.0 {
        let z = if alt { format!("{:.*}", p - 1, 0.0) } else { "0".into() };
        return if f.is_sign_negative() { format!("-{z}") } else { z };
    }
    let e = format!("{:.*e}", p - 1, f);
    let exp: i32 = e.split_once('e').map_or(0, |(_, x)| x.parse().unwrap_or(0));
    let mut s = if exp >= -4 && exp < p as i32 {
        format!("{:.*}", (p as i32 - 1 - exp).max(0) as usize, f)
    } else {
        python_exp(&e)
    };
    if !alt {
        let (mant, exp_part) = match s.find('e') {
            Some(i) => (s[..i].to_string(), s[i..].to_string()),
            None => (s.clone(), String::new()),
        };
        let mant = if mant.contains('.') { mant.trim_end_matches('0').trim_end_matches('.').to_string() } else { mant };
        s = format!("{mant}{exp_part}");
    }
    s
}

fn format_float(vm: &mut Vm, f: f64, spec: &Spec) -> Res<String> {
    let neg = f.is_sign_negative() && !f.is_nan();
    let a = f.abs();
    let body = if !a.is_finite() {
        let t = if a.is_nan() { "nan" } else { "inf" };
        if matches!(spec.kind, Some('F' | 'E' | 'G')) { t.to_uppercase() } else { t.to_string() }
    } else {
        match spec.kind {
            Some('f' | 'F') => format!("{:.*}", spec.precision.unwrap_or(6), a),
            Some('e') => python_exp(&format!("{:.*e}", spec.precision.unwrap_or(6), a)),
            Some('E') => python_exp(&format!("{:.*e}", spec.precision.unwrap_or(6), a)).to_uppercase(),
            Some('g') => general(a, spec.precision.unwrap_or(6), spec.alt),
            Some('G') => general(a, spec.precision.unwrap_or(6), spec.alt).to_uppercase(),
            Some('%') => format!("{:.*}%", spec.precision.unwrap_or(6), a * 100.0),
            None => match spec.precision {
                Some(p) => {
                    let g = general(a, p, spec.alt);
                    if g.contains(['.', 'e']) { g } else { format!("{g}.0") }
                }
                None => float_repr(a),
            },
            Some(other) => return vm.value_error(format!("Unknown format code '{other}' for object of type 'float'")),
        }
    };
    let body = match spec.grouping {
        Some(g) if a.is_finite() => {
            let (int_part, rest) = match body.find(|c: char| !c.is_ascii_digit()) {
                Some(i) => body.split_at(i),
                None => (body.as_str(), ""),
            };
            format!("{}{rest}", group(int_part, g, 3))
        }
        _ => body,
    };
    Ok(pad(spec, sign_of(spec, neg), &body, true))
}

/// `format(v, spec)` after a conversion (`!s`, `!r`, `!a`).
pub fn format_value(vm: &mut Vm, v: Ref, conversion: u8, spec: Option<Ref>) -> Res<Ref> {
    let vr = vm.root(v);
    let spec_text = match spec {
        Some(s) => vm.str_of(s).to_string(),
        None => String::new(),
    };
    let v = match conversion {
        b's' => {
            let s = crate::repr::str(vm, vm.get(vr))?;
            vm.new_str(&s)?
        }
        b'r' | b'a' => {
            let s = crate::repr::repr(vm, vm.get(vr))?;
            vm.new_str(&s)?
        }
        _ => vm.get(vr),
    };
    if spec_text.is_empty() && vm.layout(v) == L::STR {
        return Ok(v);
    }
    let text = format_with_spec(vm, v, &spec_text)?;
    vm.new_str(&text)
}

fn format_with_spec(vm: &mut Vm, v: Ref, spec_text: &str) -> Res<String> {
    if vm.layout(v) == L::INSTANCE {
        let t = vm.type_of(v);
        if crate::types::lookup(vm, t, "__format__").is_some() {
            let s = vm.new_str(spec_text)?;
            let r = ops::call_dunder(vm, v, "__format__", &[s])?.unwrap_or(vm.none);
            return crate::repr::str(vm, r);
        }
    }
    let Some(spec) = parse_spec(spec_text) else {
        return vm.value_error("Invalid format specifier");
    };
    match vm.layout(v) {
        L::INT | L::LONG | L::BOOL if spec.kind != Some('s') && !(vm.layout(v) == L::BOOL && spec_text.is_empty()) => {
            let n = ops::int_of(vm, v).unwrap_or(Num::Small(0));
            format_int(vm, &n, &spec)
        }
        L::FLOAT => {
            let f = ops::float_of(vm, v);
            format_float(vm, f, &spec)
        }
        _ => {
            if spec.kind.is_some_and(|k| k != 's') {
                let t = vm.type_name_of(v);
                let k = spec.kind.unwrap_or('s');
                return vm.value_error(format!("Unknown format code '{k}' for object of type '{t}'"));
            }
            let mut s = crate::repr::str(vm, v)?;
            if let Some(p) = spec.precision {
                s = s.chars().take(p).collect();
            }
            Ok(pad(&spec, "", &s, false))
        }
    }
}

/// `str.format(*args, **kwargs)`.
pub fn str_format(vm: &mut Vm, a: &Args) -> Res<Ref> {
    let template = vm.str_of(a.get(vm, 0)).to_string();
    let mut out = String::new();
    let mut auto = 0;
    let chars: Vec<char> = template.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '{' && chars.get(i + 1) == Some(&'{') {
            out.push('{');
            i += 2;
            continue;
        }
        if c == '}' && chars.get(i + 1) == Some(&'}') {
            out.push('}');
            i += 2;
            continue;
        }
        if c == '}' {
            return vm.value_error("Single '}' encountered in format string");
        }
        if c != '{' {
            out.push(c);
            i += 1;
            continue;
        }
        let mut depth = 1;
        let mut j = i + 1;
        while j < chars.len() && depth > 0 {
            match chars[j] {
                '{' => depth += 1,
                '}' => depth -= 1,
                _ => {}
            }
            j += 1;
        }
        if depth != 0 {
            return vm.value_error("Single '{' encountered in format string");
        }
        let field: String = chars[i + 1..j - 1].iter().collect();
        i = j;
        let (name_conv, spec) = match field.split_once(':') {
            Some((n, s)) => (n.to_string(), s.to_string()),
            None => (field.clone(), String::new()),
        };
        let (name, conv) = match name_conv.split_once('!') {
            Some((n, c)) => (n.to_string(), c.bytes().next().unwrap_or(0)),
            None => (name_conv, 0),
        };
        let v = field_value(vm, a, &name, &mut auto)?;
        let vr = vm.root(v);
        // A spec may hold replacement fields of its own (`{:{width}.{prec}f}`).
        let mut expanded = String::new();
        let mut rest = spec.as_str();
        while let Some(open) = rest.find('{') {
            let close = rest[open..].find('}').map_or(rest.len(), |c| open + c);
            expanded.push_str(&rest[..open]);
            let inner = field_value(vm, a, &rest[open + 1..close.min(rest.len())], &mut auto)?;
            expanded.push_str(&crate::repr::str(vm, inner)?);
            rest = rest.get(close + 1..).unwrap_or("");
        }
        expanded.push_str(rest);
        let spec_ref = if expanded.is_empty() { None } else { Some(vm.new_str(&expanded)?) };
        let s = format_value(vm, vm.get(vr), conv, spec_ref)?;
        out.push_str(vm.str_of(s));
    }
    vm.new_str(&out)
}

/// The value a replacement field names: an argument (automatic, numbered or by keyword),
/// then `.attr` and `[key]` steps.
fn field_value(vm: &mut Vm, a: &Args, name: &str, auto: &mut usize) -> Res<Ref> {
    let head_end = name.find(['.', '[']).unwrap_or(name.len());
    let head = &name[..head_end];
    let mut v = if head.is_empty() || head.parse::<usize>().is_ok() {
        let k = head.parse::<usize>().unwrap_or_else(|_| {
            *auto += 1;
            *auto - 1
        });
        if k + 1 >= a.len() {
            return vm.raise(Exc::IndexError, format!("Replacement index {k} out of range for positional args tuple"));
        }
        a.get(vm, k + 1)
    } else {
        match a.kw(vm, head) {
            Some(v) => v,
            None => {
                let k = vm.new_str(head)?;
                return crate::exceptions::raise_key_error(vm, k);
            }
        }
    };
    let mut rest = &name[head_end..];
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('.') {
            let end = r.find(['.', '[']).unwrap_or(r.len());
            let s = vm.sym(&r[..end]);
            v = crate::attr::get(vm, v, s)?;
            rest = &r[end..];
        } else if let Some(r) = rest.strip_prefix('[') {
            let end = r.find(']').unwrap_or(r.len());
            let key_text = &r[..end];
            let vr = vm.root(v);
            let key = match key_text.parse::<i64>() {
                Ok(k) => vm.new_int(k)?,
                Err(_) => vm.new_str(key_text)?,
            };
            v = crate::seq::getitem(vm, vm.get(vr), key)?;
            rest = r.get(end + 1..).unwrap_or("");
        } else {
            break;
        }
    }
    Ok(v)
}

/// `fmt % args`.
pub fn percent(vm: &mut Vm, fmt: Ref, args: Ref) -> Res<Ref> {
    let fr = vm.root(fmt);
    let ar = vm.root(args);
    let template = vm.str_of(fmt).to_string();
    let is_tuple = vm.layout(args) == L::TUPLE;
    let is_dict = vm.layout(args) == L::DICT;
    let nargs = if is_tuple { vm.heap.len(args) } else { 1 };
    let mut next_arg = 0;
    let mut out = String::new();
    let chars: Vec<char> = template.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        if chars[i] != '%' {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        i += 1;
        if i >= chars.len() {
            return vm.value_error("incomplete format");
        }
        let mut key = None;
        if chars[i] == '(' {
            let end = chars[i..].iter().position(|&c| c == ')').map(|p| p + i);
            let Some(end) = end else { return vm.value_error("incomplete format key") };
            key = Some(chars[i + 1..end].iter().collect::<String>());
            i = end + 1;
        }
        let mut spec = String::new();
        while i < chars.len() && "-+ #0123456789.*".contains(chars[i]) {
            if chars[i] == '*' {
                // A width or precision taken from the arguments.
                if !is_tuple || next_arg >= nargs {
                    return vm.type_error("not enough arguments for format string");
                }
                let star = vm.heap.field(vm.get(ar), L::ITEMS + next_arg);
                next_arg += 1;
                if vm.layout(star) != L::INT {
                    return vm.type_error("* wants int");
                }
                let n = vm.heap.word(star, L::VALUE) as i64;
                if n < 0 && !spec.contains('.') {
                    spec.insert(0, '-');
                }
                spec.push_str(&n.unsigned_abs().to_string());
            } else {
                spec.push(chars[i]);
            }
            i += 1;
        }
        let Some(&conv) = chars.get(i) else { return vm.value_error("incomplete format") };
        i += 1;
        if conv == '%' {
            out.push('%');
            continue;
        }
        let value = if let Some(k) = key {
            if !is_dict {
                return vm.type_error("format requires a mapping");
            }
            let kref = vm.new_str(&k)?;
            match crate::dict::get(vm, vm.get(ar), kref)? {
                Some(v) => v,
                None => {
                    let kref = vm.new_str(&k)?;
                    return crate::exceptions::raise_key_error(vm, kref);
                }
            }
        } else if is_tuple {
            if next_arg >= nargs {
                return vm.type_error("not enough arguments for format string");
            }
            next_arg += 1;
            vm.heap.field(vm.get(ar), L::ITEMS + next_arg - 1)
        } else {
            if next_arg >= 1 {
                return vm.type_error("not enough arguments for format string");
            }
            next_arg += 1;
            vm.get(ar)
        };
        // Translate to the format-spec language: flags, width, precision, type.
        let mut fs = String::new();
        let left = spec.contains('-');
        let zero = spec.contains('0') && !left && spec.trim_start_matches(['-', '+', ' ', '#']).starts_with('0');
        let sign = if spec.contains('+') { "+" } else if spec.contains(' ') { " " } else { "" };
        let num: String = spec.trim_start_matches(['-', '+', ' ', '#', '0']).to_string();
        // %-formatting right-aligns everything unless `-` is given; `0` pads numbers after the sign.
        let numeric = !matches!(conv, 's' | 'r' | 'a' | 'c');
        let zero = zero && numeric;
        if !zero {
            fs.push(if left { '<' } else { '>' });
        }
        fs.push_str(sign);
        if spec.contains('#') {
            fs.push('#');
        }
        if zero {
            fs.push('0');
        }
        fs.push_str(&num);
        let text = match conv {
            's' => {
                let s = crate::repr::str(vm, value)?;
                let sv = vm.new_str(&s)?;
                format_with_spec(vm, sv, &fs)?
            }
            'r' | 'a' => {
                let s = crate::repr::repr(vm, value)?;
                let sv = vm.new_str(&s)?;
                format_with_spec(vm, sv, &fs)?
            }
            'd' | 'i' | 'u' => {
                let iv = if vm.layout(value) == L::FLOAT {
                    crate::methods::to_int(vm, value)?
                } else if ops::is_int(vm, value) {
                    value
                } else {
                    let t = vm.type_name_of(value);
                    return vm.type_error(format!("%{conv} format: a real number is required, not {t}"));
                };
                let iv = if vm.layout(iv) == L::BOOL { vm.new_int(vm.heap.word(iv, L::VALUE) as i64)? } else { iv };
                format_with_spec(vm, iv, &format!("{fs}d"))?
            }
            'x' | 'X' | 'o' | 'e' | 'E' | 'f' | 'F' | 'g' | 'G' | 'c' => {
                let v = if matches!(conv, 'e' | 'E' | 'f' | 'F' | 'g' | 'G') && ops::is_int(vm, value) {
                    let f = ops::as_f64(vm, value)?.unwrap_or(0.0);
                    vm.new_float(f)?
                } else if conv == 'c' && vm.layout(value) == L::STR {
                    value
                } else {
                    value
                };
                let fs = if conv == 'c' && vm.layout(v) == L::STR { fs.clone() } else { format!("{fs}{conv}") };
                format_with_spec(vm, v, &fs)?
            }
            other => return vm.value_error(format!("unsupported format character '{other}' (0x{:x})", other as u32)),
        };
        out.push_str(&text);
    }
    if is_tuple && next_arg < nargs {
        return vm.type_error("not all arguments converted during string formatting");
    }
    let _ = fr;
    vm.new_str(&out)
}

/// `int(s, base)`.
pub fn parse_int(vm: &mut Vm, s: Ref, base: u32) -> Res<Ref> {
    if vm.layout(s) != L::STR {
        return vm.type_error("int() can't convert non-string with explicit base");
    }
    let text = vm.str_of(s).to_string();
    let t = text.trim().replace('_', "");
    let (neg, digits) = match t.strip_prefix('-') {
        Some(r) => (true, r.to_string()),
        None => (false, t.strip_prefix('+').unwrap_or(&t).to_string()),
    };
    let lower = digits.to_ascii_lowercase();
    let (digits, base) = match base {
        0 | 16 if lower.starts_with("0x") => (digits[2..].to_string(), 16),
        0 | 8 if lower.starts_with("0o") => (digits[2..].to_string(), 8),
        0 | 2 if lower.starts_with("0b") => (digits[2..].to_string(), 2),
        0 => (digits, 10),
        b => (digits, b),
    };
    let parsed = if digits.is_empty() || !(2..=36).contains(&base) { None } else { BigInt::parse_bytes(digits.as_bytes(), base) };
    match parsed {
        Some(n) => vm.new_bigint(&if neg { -n } else { n }),
        None => {
            let r = crate::repr::str_repr(&text);
            vm.value_error(format!("invalid literal for int() with base {base}: {r}"))
        }
    }
}

pub fn parse_float(vm: &mut Vm, s: Ref) -> Res<Ref> {
    let text = vm.str_of(s).to_string();
    let t = text.trim().replace('_', "").to_ascii_lowercase();
    let v = match t.as_str() {
        "inf" | "+inf" | "infinity" | "+infinity" => Some(f64::INFINITY),
        "-inf" | "-infinity" => Some(f64::NEG_INFINITY),
        "nan" | "+nan" | "-nan" => Some(f64::NAN),
        _ if t.chars().all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | '+' | '-')) => t.parse::<f64>().ok(),
        _ => None,
    };
    match v {
        Some(f) => vm.new_float(f),
        None => {
            let r = crate::repr::str_repr(&text);
            vm.value_error(format!("could not convert string to float: {r}"))
        }
    }
}

/// An integral float as a big integer, exactly.
pub fn float_to_big(f: f64) -> BigInt {
    let bits = f.to_bits();
    let exp = ((bits >> 52) & 0x7ff) as i64 - 1075;
    let mant = (bits & ((1 << 52) - 1)) | (1 << 52);
    let m = BigInt::from(mant);
    let v = if exp >= 0 { m << exp as usize } else { m >> (-exp) as usize };
    if f < 0.0 { -v } else { v }
}
