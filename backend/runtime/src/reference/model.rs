//! Deterministic models of what a trace does not define: invented values for memory and inputs
//! nobody described, external calls, class ids. Everything is a hash of the seed and a stable
//! *origin*, so two runs (an original trace and its optimized form) see the same values for the
//! same origins whatever order they read them in.

use std::hash::{Hash, Hasher};

/// Where an invented value comes from. Stable across runs: the same origin always yields the
/// same value for a seed (unless an input constraint says otherwise).
#[derive(Clone, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
pub enum Origin {
    /// Trace input number `n`.
    Input(u32),
    /// The object named by `ConstPtr(name)`.
    Const(String),
    /// The word at `offset` in the object from `origin`, as it was after `epoch` calls that
    /// may write memory.
    Word(std::sync::Arc<Origin>, u64, u32),
    /// The object passed as argument `arg` of call number `call`, whose words that call may
    /// have overwritten.
    Clobbered(u32, u32),
    /// The object an external call returned (keyed by the call's target, arguments and, for
    /// calls that are not elidable, its index).
    Result(u64),
}

/// A learned input constraint: what an origin must be for a guard to pass.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Forced {
    Int(u64),
    Null,
    Object,
    /// The same object as the one invented for another origin (`ConstPtr(name)`'s, an input's).
    Alias(Origin),
}

/// 64 well-mixed bits from anything hashable (FNV-1a, then a splitmix finalizer).
pub fn mix(parts: impl Hash) -> u64 {
    struct Fnv(u64);
    impl Hasher for Fnv {
        fn finish(&self) -> u64 {
            self.0
        }
        fn write(&mut self, bytes: &[u8]) {
            for b in bytes {
                self.0 = (self.0 ^ *b as u64).wrapping_mul(0x100000001b3);
            }
        }
    }
    let mut h = Fnv(0xcbf29ce484222325);
    parts.hash(&mut h);
    let mut z = h.finish().wrapping_add(0x9e3779b97f4a7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d049bb133111eb);
    z ^ (z >> 31)
}

/// An invented int: small and mostly non-negative (indices, lengths, counters), sometimes not.
pub fn invent_int(seed: u64, origin: &Origin) -> u64 {
    let h = mix((seed, origin));
    match h % 8 {
        0 => (h >> 8) as i64 as u64,
        1 => (-(((h >> 8) % 100) as i64)) as u64,
        _ => (h >> 8) % 100,
    }
}

/// An invented float: a modest value with a fraction.
pub fn invent_float(seed: u64, origin: &Origin) -> u64 {
    let h = mix((seed, origin, "float"));
    (((h % 20000) as f64 - 10000.0) / 64.0).to_bits()
}

/// The id stored in an object's header for `ConstClass(name)` and compared by `guard_class`.
pub fn class_id(name: &str) -> u64 {
    // PyPy's logs often name a class by its vtable address (`guard_class(p, 1403...)`).
    if let Ok(addr) = name.parse::<u64>() {
        return addr;
    }
    0x1000_0000 | (mix(("class", name)) & 0x0fff_fff8)
}

/// The result of an external call: a function of its target and arguments (and, for calls
/// that are not elidable, of its position in the sequence of calls).
pub fn call_result(seed: u64, target: &str, args: &[u64], index: Option<u32>) -> u64 {
    let h = mix((seed, target, args, index));
    (h >> 8) % 1000
}
