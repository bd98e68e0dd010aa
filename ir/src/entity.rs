//! Typed indices and the arenas they index.
//!
//! Every entity of the IR (a value, an op, a descr, a trace, a guard, a virtual) is a `u32`
//! index wrapped in its own type, in the manner of Cranelift's `entity_impl!`: cheap to copy,
//! impossible to mix up, and a rewritten trace is a new arena rather than a web of pointers.
//! The index is stored plus one in a `NonZeroU32`, so that an `Option` of it is 4 bytes too
//! (an op holds two: 72 bytes an op instead of 80, which the passes feel on long traces).

use std::fmt;
use std::marker::PhantomData;
use std::ops::{Index, IndexMut};

/// An index type usable as an arena key.
pub trait EntityRef: Copy + Eq {
    fn new(index: usize) -> Self;
    fn index(self) -> usize;
}

/// Declares a typed index. The second argument is the prefix used by `Debug`.
#[macro_export]
macro_rules! entity {
    ($(#[$attr:meta])* $name:ident, $prefix:expr) => {
        $(#[$attr])*
        // The index plus one, so that `Option<$name>` takes no more room than `$name`.
        #[derive(Copy, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(std::num::NonZeroU32);

        impl $crate::entity::EntityRef for $name {
            fn new(index: usize) -> Self {
                let n = u32::try_from(index).ok().and_then(|i| i.checked_add(1)).expect("entity index overflows u32");
                $name(std::num::NonZeroU32::new(n).expect("one more than an index"))
            }
            fn index(self) -> usize {
                self.0.get() as usize - 1
            }
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "{}{}", $prefix, self.0.get() - 1)
            }
        }
    };
}

/// A vector indexed by a typed key; keys are handed out by `push` (Cranelift's `PrimaryMap`).
#[derive(Clone, PartialEq)]
pub struct Arena<K, V> {
    items: Vec<V>,
    _key: PhantomData<K>,
}

impl<K: EntityRef, V> Arena<K, V> {
    pub fn new() -> Self {
        Arena { items: Vec::new(), _key: PhantomData }
    }
    pub fn with_capacity(n: usize) -> Self {
        Arena { items: Vec::with_capacity(n), _key: PhantomData }
    }
    pub fn push(&mut self, v: V) -> K {
        let k = K::new(self.items.len());
        self.items.push(v);
        k
    }
    pub fn len(&self) -> usize {
        self.items.len()
    }
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
    pub fn get(&self, k: K) -> Option<&V> {
        self.items.get(k.index())
    }
    pub fn keys(&self) -> impl DoubleEndedIterator<Item = K> + ExactSizeIterator + use<K, V> {
        (0..self.items.len()).map(K::new)
    }
    pub fn values(&self) -> std::slice::Iter<'_, V> {
        self.items.iter()
    }
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = (K, &V)> {
        self.items.iter().enumerate().map(|(i, v)| (K::new(i), v))
    }
    /// Room for `n` more items.
    pub fn reserve(&mut self, n: usize) {
        self.items.reserve(n);
    }

    /// An arena holding `items`, the first under key 0.
    pub fn from_vec(items: Vec<V>) -> Self {
        Arena { items, _key: PhantomData }
    }

    /// The items, by key order, moved out.
    pub fn into_vec(self) -> Vec<V> {
        self.items
    }

    /// Mutable access to every item, by key order.
    pub fn values_mut(&mut self) -> std::slice::IterMut<'_, V> {
        self.items.iter_mut()
    }

    /// Keeps the first `n` items.
    pub fn truncate(&mut self, n: usize) {
        self.items.truncate(n);
    }

    /// Removes and returns the last item.
    pub fn pop(&mut self) -> Option<V> {
        self.items.pop()
    }
}

impl<K: EntityRef, V> Default for Arena<K, V> {
    fn default() -> Self {
        Self::new()
    }
}

impl<K: EntityRef, V> Index<K> for Arena<K, V> {
    type Output = V;
    fn index(&self, k: K) -> &V {
        &self.items[k.index()]
    }
}

impl<K: EntityRef, V> IndexMut<K> for Arena<K, V> {
    fn index_mut(&mut self, k: K) -> &mut V {
        &mut self.items[k.index()]
    }
}

impl<K: EntityRef + fmt::Debug, V: fmt::Debug> fmt::Debug for Arena<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}
