//! The methods of `str`.

use crate::builtins::{int_arg, str_arg, Args, Builtin, BuiltinFn};
use crate::call;
use crate::layout as L;
use crate::vm::{Res, Vm};
use tracelab_runtime::gc::{LayoutId, Ref};

fn s(vm: &Vm, a: &Args) -> String {
    vm.str_of(a.get(vm, 0)).to_string()
}

fn new_list_of(vm: &mut Vm, parts: &[String]) -> Res<Ref> {
    let l = vm.new_list(parts.len())?;
    let lr = vm.root(l);
    for p in parts {
        let x = vm.new_str(p)?;
        crate::list::append(vm, vm.get(lr), x)?;
    }
    Ok(vm.get(lr))
}

fn opt_str(vm: &mut Vm, a: &Args, i: usize) -> Res<Option<String>> {
    if a.len() > i && a.get(vm, i) != vm.none {
        return str_arg(vm, a.get(vm, i), "argument").map(Some);
    }
    Ok(None)
}

/// Char index range `[start, end)` arguments of find/count/startswith as byte offsets.
fn bounds(vm: &mut Vm, a: &Args, from: usize, text: &str) -> Res<(usize, usize)> {
    let n = text.chars().count() as i64;
    let get = |vm: &mut Vm, i: usize, default: i64| -> Res<i64> {
        if a.len() > i && a.get(vm, i) != vm.none {
            let v = int_arg(vm, a.get(vm, i), "")?;
            Ok(if v < 0 { (v + n).max(0) } else { v.min(n) })
        } else {
            Ok(default)
        }
    };
    let (st, en) = (get(vm, from, 0)?, get(vm, from + 1, n)?);
    let byte = |c: i64| text.char_indices().nth(c as usize).map_or(text.len(), |(b, _)| b);
    Ok((byte(st), byte(en.max(st))))
}

/// A decimal digit in any script: numeric, but not a letter number (Roman numerals) or a
/// vulgar fraction. (Superscript digits, which CPython counts as digits but not decimals,
/// are counted as both.)
fn is_digit(c: char) -> bool {
    let u = c as u32;
    c.is_ascii_digit()
        || (c.is_numeric()
            && !(0x2150..=0x218b).contains(&u)
            && !(0xbc..=0xbe).contains(&u)
            && !(0x3007 == u || (0x3021..=0x3029).contains(&u))
            && !(0x2460..=0x24ff).contains(&u))
}

/// Tabs replaced by spaces up to the next multiple of `size` columns; newlines restart the count.
fn expand_tabs(text: &str, size: i64) -> String {
    let mut out = String::new();
    let mut column = 0i64;
    for c in text.chars() {
        match c {
            '\t' if size > 0 => {
                let n = size - column % size;
                out.extend(std::iter::repeat(' ').take(n as usize));
                column += n;
            }
            '\t' => {}
            '\n' | '\r' => {
                out.push(c);
                column = 0;
            }
            _ => {
                out.push(c);
                column += 1;
            }
        }
    }
    out
}

fn char_index(text: &str, byte: usize) -> i64 {
    text[..byte].chars().count() as i64
}

fn strip_chars(vm: &mut Vm, a: &Args) -> Res<Option<Vec<char>>> {
    Ok(opt_str(vm, a, 1)?.map(|c| c.chars().collect()))
}

fn split(vm: &mut Vm, a: &Args, right: bool) -> Res<Ref> {
    call::arity(vm, "split", a.len(), 1, 3)?;
    let text = s(vm, a);
    let sep = match a.kw(vm, "sep") {
        Some(x) if x != vm.none => Some(str_arg(vm, x, "sep")?),
        Some(_) => None,
        None => opt_str(vm, a, 1)?,
    };
    let maxsplit = match a.kw(vm, "maxsplit") {
        Some(m) => int_arg(vm, m, "")?,
        None if a.len() > 2 => int_arg(vm, a.get(vm, 2), "")?,
        None => -1,
    };
    let parts: Vec<String> = match sep {
        Some(sep) => {
            if sep.is_empty() {
                return vm.value_error("empty separator");
            }
            match (maxsplit, right) {
                (m, false) if m >= 0 => text.splitn(m as usize + 1, sep.as_str()).map(String::from).collect(),
                (m, true) if m >= 0 => {
                    let mut v: Vec<String> = text.rsplitn(m as usize + 1, sep.as_str()).map(String::from).collect();
                    v.reverse();
                    v
                }
                _ => text.split(sep.as_str()).map(String::from).collect(),
            }
        }
        None => {
            let words: Vec<&str> = text.split_whitespace().collect();
            if maxsplit < 0 || words.len() <= maxsplit as usize {
                words.into_iter().map(String::from).collect()
            } else if !right {
                let mut out: Vec<String> = vec![];
                let mut rest = text.trim_start();
                for _ in 0..maxsplit {
                    let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
                    out.push(rest[..end].to_string());
                    rest = rest[end..].trim_start();
                }
                if !rest.is_empty() {
                    out.push(rest.to_string());
                }
                out
            } else {
                let mut out: Vec<String> = vec![];
                let mut rest = text.trim_end();
                for _ in 0..maxsplit {
                    let start = rest.rfind(char::is_whitespace).map_or(0, |i| i + 1);
                    out.push(rest[start..].to_string());
                    rest = rest[..start].trim_end();
                }
                if !rest.is_empty() {
                    out.push(rest.to_string());
                }
                out.reverse();
                out
            }
        }
    };
    new_list_of(vm, &parts)
}

fn join(vm: &mut Vm, a: &Args) -> Res<Ref> {
    call::arity(vm, "join", a.len(), 2, 2)?;
    let sep = s(vm, a);
    let items = crate::iter::to_list(vm, a.get(vm, 1))?;
    let n = crate::list::len(vm, items);
    let mut out = String::new();
    for i in 0..n {
        let x = crate::list::get(vm, items, i);
        if vm.layout(x) != L::STR {
            let t = vm.type_name_of(x);
            return vm.type_error(format!("sequence item {i}: expected str instance, {t} found"));
        }
        if i > 0 {
            out.push_str(&sep);
        }
        out.push_str(vm.str_of(x));
    }
    vm.new_str(&out)
}

fn find(vm: &mut Vm, a: &Args, right: bool, raise: bool) -> Res<Ref> {
    call::arity(vm, "find", a.len(), 2, 4)?;
    let text = s(vm, a);
    let sub = str_arg(vm, a.get(vm, 1), "argument")?;
    let (lo, hi) = bounds(vm, a, 2, &text)?;
    let hay = &text[lo..hi];
    let found = if right { hay.rfind(sub.as_str()) } else { hay.find(sub.as_str()) };
    match found {
        Some(b) => vm.new_int(char_index(&text, lo + b)),
        None if raise => vm.value_error("substring not found"),
        None => vm.new_int(-1),
    }
}

fn pad(vm: &mut Vm, a: &Args, how: char) -> Res<Ref> {
    call::arity(vm, "ljust", a.len(), 2, 3)?;
    let text = s(vm, a);
    let width = int_arg(vm, a.get(vm, 1), "")?.max(0) as usize;
    let fill = match opt_str(vm, a, 2)? {
        Some(f) if f.chars().count() == 1 => f.chars().next().unwrap_or(' '),
        Some(_) => return vm.type_error("The fill character must be exactly one character long"),
        None => ' ',
    };
    let n = text.chars().count();
    if n >= width {
        return Ok(a.get(vm, 0));
    }
    let total = width - n;
    let (left, right) = match how {
        '<' => (0, total),
        '>' => (total, 0),
        _ => {
            // CPython's center: the extra space goes left when the width is odd and... as it does.
            let left = total / 2 + (total & width & 1);
            (left, total - left)
        }
    };
    let f = fill.to_string();
    let out = format!("{}{}{}", f.repeat(left), text, f.repeat(right));
    vm.new_str(&out)
}

fn pred(vm: &mut Vm, a: &Args, f: fn(&str) -> bool) -> Res<Ref> {
    let text = s(vm, a);
    Ok(vm.bool(!text.is_empty() && f(&text)))
}

fn title(text: &str) -> String {
    let mut out = String::new();
    let mut prev_cased = false;
    for c in text.chars() {
        if prev_cased {
            out.extend(c.to_lowercase());
        } else {
            out.extend(c.to_uppercase());
        }
        prev_cased = c.is_alphabetic();
    }
    out
}

fn affix(vm: &mut Vm, a: &Args, start: bool) -> Res<Ref> {
    call::arity(vm, "startswith", a.len(), 2, 4)?;
    let text = s(vm, a);
    let (lo, hi) = bounds(vm, a, 2, &text)?;
    let hay = &text[lo..hi];
    let p = a.get(vm, 1);
    let prefixes: Vec<String> = if vm.layout(p) == L::TUPLE {
        (0..vm.heap.len(p)).map(|i| vm.str_of(vm.heap.field(p, L::ITEMS + i)).to_string()).collect()
    } else {
        vec![str_arg(vm, p, "startswith first arg")?]
    };
    let r = prefixes.iter().any(|x| if start { hay.starts_with(x.as_str()) } else { hay.ends_with(x.as_str()) });
    Ok(vm.bool(r))
}

macro_rules! entries {
    ($($name:literal => $f:expr;)*) => {
        vec![$((L::STR as LayoutId, Builtin { name: $name, f: $f as BuiltinFn }),)*]
    };
}

pub fn entries() -> Vec<(LayoutId, Builtin)> {
    entries! {
        "join" => join;
        "split" => |vm: &mut Vm, a: &Args| split(vm, a, false);
        "rsplit" => |vm: &mut Vm, a: &Args| split(vm, a, true);
        "strip" => |vm: &mut Vm, a: &Args| { let t = s(vm, a); let r = match strip_chars(vm, a)? { Some(c) => t.trim_matches(|x| c.contains(&x)).to_string(), None => t.trim().to_string() }; vm.new_str(&r) };
        "lstrip" => |vm: &mut Vm, a: &Args| { let t = s(vm, a); let r = match strip_chars(vm, a)? { Some(c) => t.trim_start_matches(|x| c.contains(&x)).to_string(), None => t.trim_start().to_string() }; vm.new_str(&r) };
        "rstrip" => |vm: &mut Vm, a: &Args| { let t = s(vm, a); let r = match strip_chars(vm, a)? { Some(c) => t.trim_end_matches(|x| c.contains(&x)).to_string(), None => t.trim_end().to_string() }; vm.new_str(&r) };
        "startswith" => |vm: &mut Vm, a: &Args| affix(vm, a, true);
        "endswith" => |vm: &mut Vm, a: &Args| affix(vm, a, false);
        "find" => |vm: &mut Vm, a: &Args| find(vm, a, false, false);
        "rfind" => |vm: &mut Vm, a: &Args| find(vm, a, true, false);
        "index" => |vm: &mut Vm, a: &Args| find(vm, a, false, true);
        "rindex" => |vm: &mut Vm, a: &Args| find(vm, a, true, true);
        "count" => |vm: &mut Vm, a: &Args| { call::arity(vm, "count", a.len(), 2, 4)?; let t = s(vm, a); let sub = str_arg(vm, a.get(vm, 1), "argument")?; let (lo, hi) = bounds(vm, a, 2, &t)?; let hay = &t[lo..hi]; let c = if sub.is_empty() { hay.chars().count() + 1 } else { hay.matches(sub.as_str()).count() }; vm.new_int(c as i64) };
        "replace" => |vm: &mut Vm, a: &Args| { call::arity(vm, "replace", a.len(), 3, 4)?; let t = s(vm, a); let (old, new) = (str_arg(vm, a.get(vm, 1), "replace() argument 1")?, str_arg(vm, a.get(vm, 2), "replace() argument 2")?); let r = if a.len() == 4 { let n = int_arg(vm, a.get(vm, 3), "")?; if n < 0 { t.replace(&old, &new) } else { t.replacen(&old, &new, n as usize) } } else { t.replace(&old, &new) }; vm.new_str(&r) };
        "upper" => |vm: &mut Vm, a: &Args| { let t = s(vm, a).to_uppercase(); vm.new_str(&t) };
        "lower" => |vm: &mut Vm, a: &Args| { let t = s(vm, a).to_lowercase(); vm.new_str(&t) };
        "casefold" => |vm: &mut Vm, a: &Args| { let t = s(vm, a).to_lowercase().replace('ß', "ss"); vm.new_str(&t) };
        "title" => |vm: &mut Vm, a: &Args| { let t = title(&s(vm, a)); vm.new_str(&t) };
        "capitalize" => |vm: &mut Vm, a: &Args| { let t = s(vm, a); let mut c = t.chars(); let r = match c.next() { Some(f) => f.to_uppercase().chain(c.flat_map(|x| x.to_lowercase())).collect(), None => String::new() }; vm.new_str(&r) };
        "swapcase" => |vm: &mut Vm, a: &Args| { let t: String = s(vm, a).chars().flat_map(|c| if c.is_uppercase() { c.to_lowercase().collect::<Vec<_>>() } else { c.to_uppercase().collect() }).collect(); vm.new_str(&t) };
        "isdigit" => |vm: &mut Vm, a: &Args| pred(vm, a, |t| t.chars().all(is_digit));
        "isprintable" => |vm: &mut Vm, a: &Args| pred(vm, a, |t| t.chars().all(crate::repr::is_printable));
        "isascii" => |vm: &mut Vm, a: &Args| { let t = s(vm, a); Ok(vm.bool(t.is_ascii())) };
        "isnumeric" => |vm: &mut Vm, a: &Args| pred(vm, a, |t| t.chars().all(char::is_numeric));
        "isdecimal" => |vm: &mut Vm, a: &Args| pred(vm, a, |t| t.chars().all(is_digit));
        "isalpha" => |vm: &mut Vm, a: &Args| pred(vm, a, |t| t.chars().all(char::is_alphabetic));
        "isalnum" => |vm: &mut Vm, a: &Args| pred(vm, a, |t| t.chars().all(char::is_alphanumeric));
        "isspace" => |vm: &mut Vm, a: &Args| pred(vm, a, |t| t.chars().all(char::is_whitespace));
        "isupper" => |vm: &mut Vm, a: &Args| pred(vm, a, |t| t.chars().any(char::is_uppercase) && !t.chars().any(char::is_lowercase));
        "islower" => |vm: &mut Vm, a: &Args| pred(vm, a, |t| t.chars().any(char::is_lowercase) && !t.chars().any(char::is_uppercase));
        "isidentifier" => |vm: &mut Vm, a: &Args| pred(vm, a, |t| t.chars().next().is_some_and(|c| c == '_' || c.is_alphabetic()) && t.chars().all(|c| c == '_' || c.is_alphanumeric()));
        "zfill" => |vm: &mut Vm, a: &Args| { let t = s(vm, a); let w = int_arg(vm, a.get(vm, 1), "")?.max(0) as usize; let n = t.chars().count(); if n >= w { return Ok(a.get(vm, 0)); } let (sign, rest) = if t.starts_with('-') || t.starts_with('+') { t.split_at(1) } else { ("", t.as_str()) }; let r = format!("{sign}{}{rest}", "0".repeat(w - n)); vm.new_str(&r) };
        "center" => |vm: &mut Vm, a: &Args| pad(vm, a, '^');
        "ljust" => |vm: &mut Vm, a: &Args| pad(vm, a, '<');
        "rjust" => |vm: &mut Vm, a: &Args| pad(vm, a, '>');
        "splitlines" => |vm: &mut Vm, a: &Args| { let t = s(vm, a); let keep = a.len() > 1 && a.get(vm, 1) == vm.true_ || a.kw(vm, "keepends").is_some_and(|k| k == vm.true_); let parts: Vec<String> = if keep { t.split_inclusive('\n').map(String::from).collect() } else { t.lines().map(String::from).collect() }; new_list_of(vm, &parts) };
        "partition" => |vm: &mut Vm, a: &Args| { let t = s(vm, a); let sep = str_arg(vm, a.get(vm, 1), "argument")?; let parts = match t.split_once(sep.as_str()) { Some((x, y)) => [x.to_string(), sep.clone(), y.to_string()], None => [t.clone(), String::new(), String::new()] }; let l = new_list_of(vm, &parts)?; crate::iter::list_to_tuple(vm, l) };
        "rpartition" => |vm: &mut Vm, a: &Args| { let t = s(vm, a); let sep = str_arg(vm, a.get(vm, 1), "argument")?; let parts = match t.rsplit_once(sep.as_str()) { Some((x, y)) => [x.to_string(), sep.clone(), y.to_string()], None => [String::new(), String::new(), t.clone()] }; let l = new_list_of(vm, &parts)?; crate::iter::list_to_tuple(vm, l) };
        "expandtabs" => |vm: &mut Vm, a: &Args| { call::arity(vm, "expandtabs", a.len(), 1, 2)?; let size = if a.len() == 2 { int_arg(vm, a.get(vm, 1), "")? } else { 8 }; let r = expand_tabs(&s(vm, a), size); vm.new_str(&r) };
        "format" => crate::format::str_format;
        "encode" => |vm: &mut Vm, _a: &Args| vm.type_error("minipy does not support bytes (str.encode)");
        "removeprefix" => |vm: &mut Vm, a: &Args| { let t = s(vm, a); let p = str_arg(vm, a.get(vm, 1), "argument")?; let r = t.strip_prefix(p.as_str()).unwrap_or(&t).to_string(); vm.new_str(&r) };
        "removesuffix" => |vm: &mut Vm, a: &Args| { let t = s(vm, a); let p = str_arg(vm, a.get(vm, 1), "argument")?; let r = t.strip_suffix(p.as_str()).unwrap_or(&t).to_string(); vm.new_str(&r) };
    }
}
