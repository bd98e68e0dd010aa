//! Maps (hidden classes): instances that gained the same attributes in the same order share a
//! map, which gives each attribute's index in the instance's storage array. A trace guards on
//! the map id (a word in the instance) and reads the attribute at a fixed index, as PyPy's
//! mapdict does. Maps are immortal and live outside the heap.

use crate::vm::Sym;
use rustc_hash::FxHashMap;

/// Index of a map; map 0 is the empty map every instance starts with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct MapId(pub u32);

struct Map {
    attrs: Vec<Sym>,
    index: FxHashMap<Sym, u32>,
    transitions: FxHashMap<Sym, MapId>,
}

pub struct Maps {
    maps: Vec<Map>,
}

impl Default for Maps {
    fn default() -> Self {
        Maps { maps: vec![Map { attrs: vec![], index: FxHashMap::default(), transitions: FxHashMap::default() }] }
    }
}

impl Maps {
    pub const EMPTY: MapId = MapId(0);

    /// The storage index of `name` in instances of `map`.
    #[inline]
    pub fn lookup(&self, map: MapId, name: Sym) -> Option<usize> {
        self.maps[map.0 as usize].index.get(&name).map(|&i| i as usize)
    }

    /// The map an instance of `map` has after gaining attribute `name`.
    pub fn with(&mut self, map: MapId, name: Sym) -> MapId {
        if let Some(&next) = self.maps[map.0 as usize].transitions.get(&name) {
            return next;
        }
        let mut attrs = self.maps[map.0 as usize].attrs.clone();
        let mut index = self.maps[map.0 as usize].index.clone();
        index.insert(name, attrs.len() as u32);
        attrs.push(name);
        let id = MapId(self.maps.len() as u32);
        self.maps.push(Map { attrs, index, transitions: FxHashMap::default() });
        self.maps[map.0 as usize].transitions.insert(name, id);
        id
    }

    /// The map without attribute `name` (rebuilt from the empty map), and the index it had.
    pub fn without(&mut self, map: MapId, name: Sym) -> (MapId, Option<usize>) {
        let attrs = self.maps[map.0 as usize].attrs.clone();
        let Some(pos) = attrs.iter().position(|a| *a == name) else { return (map, None) };
        let mut m = Maps::EMPTY;
        for (i, a) in attrs.iter().enumerate() {
            if i != pos {
                m = self.with(m, *a);
            }
        }
        (m, Some(pos))
    }

    pub fn attrs(&self, map: MapId) -> &[Sym] {
        &self.maps[map.0 as usize].attrs
    }
}
