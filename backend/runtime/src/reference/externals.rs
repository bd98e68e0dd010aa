//! External functions with a real implementation: what a call of `ConstClass(name)` runs when
//! `name` is registered, in the interpreter and (as a direct machine call) in compiled code.
//!
//! Calls of targets nobody registered stay modelled ([`crate::model::call_result`]): a result
//! invented from the seed and the arguments, an event unless elidable, clobbered memory for
//! effect classes that may write. A registered function replaces all of that by what it
//! computes, so the same trace runs the same way interpreted and compiled.
//!
//! The calling convention is one word per argument and one for the result, in the C ABI:
//! `extern "C" fn(u64, ...) -> u64` with ints as their bits, floats as their IEEE bits and
//! refs as addresses, at most [`MAX_ARGS`] arguments. A registered function computes from its
//! arguments only: it must not touch the heap (the interpreter would not know what it changed;
//! functions that allocate or read objects need the runtime API the GC work will add) and it
//! is not an event.

use std::collections::HashMap;
use tracelab_ir::Type;

/// The most arguments a registered function takes.
pub const MAX_ARGS: usize = 6;

/// A registered function: where its code is, what it takes and gives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExternFn {
    addr: usize,
    pub params: Vec<Type>,
    /// `Type::Void` for a function whose result is ignored.
    pub result: Type,
}

impl ExternFn {
    /// The address of its code (what compiled code calls).
    pub fn addr(&self) -> *const u8 {
        self.addr as *const u8
    }

    /// Calls it with `args` (one word each, as many as it takes).
    pub fn call(&self, args: &[u64]) -> u64 {
        assert_eq!(args.len(), self.params.len(), "arity checked by the caller");
        type W = u64;
        let a = |k: usize| args[k];
        // SAFETY: `Externals::register`'s contract: the code at `addr` has this signature.
        unsafe {
            match args.len() {
                0 => std::mem::transmute::<usize, extern "C" fn() -> W>(self.addr)(),
                1 => std::mem::transmute::<usize, extern "C" fn(W) -> W>(self.addr)(a(0)),
                2 => std::mem::transmute::<usize, extern "C" fn(W, W) -> W>(self.addr)(a(0), a(1)),
                3 => std::mem::transmute::<usize, extern "C" fn(W, W, W) -> W>(self.addr)(a(0), a(1), a(2)),
                4 => std::mem::transmute::<usize, extern "C" fn(W, W, W, W) -> W>(self.addr)(a(0), a(1), a(2), a(3)),
                5 => std::mem::transmute::<usize, extern "C" fn(W, W, W, W, W) -> W>(self.addr)(a(0), a(1), a(2), a(3), a(4)),
                _ => std::mem::transmute::<usize, extern "C" fn(W, W, W, W, W, W) -> W>(self.addr)(a(0), a(1), a(2), a(3), a(4), a(5)),
            }
        }
    }
}

/// External functions by the name calls give as their target (`ConstClass(name)`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Externals {
    by_name: HashMap<String, ExternFn>,
}

impl Externals {
    /// No function registered: every external call is modelled.
    pub fn none() -> Externals {
        Externals::default()
    }

    /// The helpers PyPy's traces call whose meaning is fixed by RPython: square root,
    /// Python's integer division and modulo.
    pub fn standard() -> Externals {
        let mut e = Externals::none();
        // SAFETY: each function below has the declared number of `u64` words in and out.
        unsafe {
            e.register("sqrt_nonneg", sqrt_nonneg as *const u8, &[Type::Float], Type::Float).expect("valid");
            e.register("ll_int_py_mod__Signed_Signed", py_mod as *const u8, &[Type::Int, Type::Int], Type::Int).expect("valid");
            e.register("ll_int_py_div__Signed_Signed", py_div as *const u8, &[Type::Int, Type::Int], Type::Int).expect("valid");
        }
        e
    }

    /// Registers `name`.
    ///
    /// # Safety
    /// `code` must be an `extern "C"` function taking `params.len()` `u64` words and returning
    /// one, that does not touch the runtime heap, for as long as calls may run it.
    pub unsafe fn register(&mut self, name: &str, code: *const u8, params: &[Type], result: Type) -> Result<(), String> {
        if params.len() > MAX_ARGS {
            return Err(format!("`{name}` takes {} arguments; at most {MAX_ARGS} are supported", params.len()));
        }
        if params.iter().any(|t| matches!(t, Type::Void | Type::Vector)) {
            return Err(format!("`{name}`: arguments are ints, floats or refs"));
        }
        self.by_name.insert(name.to_string(), ExternFn { addr: code as usize, params: params.to_vec(), result });
        Ok(())
    }

    pub fn get(&self, name: &str) -> Option<&ExternFn> {
        self.by_name.get(name)
    }

    /// Registered functions, by name.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &ExternFn)> {
        let mut all: Vec<_> = self.by_name.iter().map(|(n, f)| (n.as_str(), f)).collect();
        all.sort_by_key(|(n, _)| *n);
        all.into_iter()
    }
}

extern "C" fn sqrt_nonneg(x: u64) -> u64 {
    f64::from_bits(x).sqrt().to_bits()
}

/// Python's `%`: the result has the divisor's sign. RPython guards the divisor against 0
/// before calling; here 0 gives 0 rather than a crash.
extern "C" fn py_mod(x: u64, y: u64) -> u64 {
    let (x, y) = (x as i64, y as i64);
    if y == 0 {
        return 0;
    }
    let r = x.wrapping_rem(y);
    (if r != 0 && (r < 0) != (y < 0) { r.wrapping_add(y) } else { r }) as u64
}

/// Python's `//`: rounds towards negative infinity (0 for a divisor of 0, as `py_mod`).
extern "C" fn py_div(x: u64, y: u64) -> u64 {
    let (x, y) = (x as i64, y as i64);
    if y == 0 {
        return 0;
    }
    let q = x.wrapping_div(y);
    (if x.wrapping_rem(y) != 0 && (x < 0) != (y < 0) { q.wrapping_sub(1) } else { q }) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_division_rounds_down_and_modulo_takes_the_divisor_sign() {
        let e = Externals::standard();
        let call = |n: &str, x: i64, y: i64| e.get(n).unwrap().call(&[x as u64, y as u64]) as i64;
        for (x, y, q, r) in [(7, 2, 3, 1), (-7, 2, -4, 1), (7, -2, -4, -1), (-7, -2, 3, -1), (6, 3, 2, 0), (-6, 3, -2, 0), (i64::MIN, -1, i64::MIN, 0)] {
            assert_eq!(call("ll_int_py_div__Signed_Signed", x, y), q, "{x} // {y}");
            assert_eq!(call("ll_int_py_mod__Signed_Signed", x, y), r, "{x} % {y}");
        }
    }

    #[test]
    fn floats_travel_as_their_bits() {
        let e = Externals::standard();
        assert_eq!(f64::from_bits(e.get("sqrt_nonneg").unwrap().call(&[6.25f64.to_bits()])), 2.5);
    }

    #[test]
    fn registering_refuses_what_the_convention_cannot_carry() {
        let mut e = Externals::none();
        // SAFETY: never called.
        let r = unsafe { e.register("wide", sqrt_nonneg as *const u8, &[Type::Int; 7], Type::Int) };
        assert!(r.unwrap_err().contains("at most 6"));
        assert!(e.get("wide").is_none());
    }
}
