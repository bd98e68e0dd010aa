//! The memory model of the reference semantics: the heap's objects and what is known of each
//! word (written by the trace, invented from the seed, given back to the world), how calls
//! that may write clobber memory, and which descrs a word was reached through. [`Machine`] is
//! what a run leaves behind: render and equivalence checking read it.

use crate::heap::{sign_extend, Heap, HeapError, HEADER, ITEMS_OFFSET, LAZY_SIZE, LENGTH_OFFSET, SHADOW_READ, SHADOW_READ_WRITE, SHADOW_SLOW};
use crate::interp::{Config, Constraints, Exit, Step};
use crate::model::{invent_float, invent_int, Forced, Origin};
use std::collections::{BTreeMap, HashMap};
use tracelab_ir::descr::MemKind;
use tracelab_ir::{DescrId, Type};

/// Per-object bookkeeping: what it is, how big, and (for lazy objects) which words exist.
#[derive(Clone, Debug)]
pub struct ObjInfo {
    pub size: u64,
    pub kind: ObjKind,
    /// Offsets the trace wrote (what the heap comparison shows for lazy objects).
    pub written: BTreeMap<u64, u64>,
    /// Offsets whose value is known (written, or invented and remembered) → origin if invented.
    pub known: HashMap<u64, Option<Origin>>,
    /// Offsets whose value a clobbering call may have changed, but not if the memory is
    /// immutable (read through a `pure` descr): such a read still sees the memory as it was.
    pub kept_if_immutable: std::collections::HashSet<u64>,
    /// Every word is kept for immutable reads: the object was allocated by the trace (all its
    /// words defined) before a clobbering call was given it.
    pub kept_all_if_immutable: bool,
    /// For lazy objects: the values words had before the trace ran (invented before any
    /// clobbering call). A word the trace leaves with that value is not a change.
    pub initial: HashMap<u64, u64>,
    /// For lazy objects: per word, the value last invented for it (its size, origin, and the
    /// epoch it belongs to). While no clobbering call has come since, a store of that value
    /// gives the word back to the world: unwritten again, as if the trace had never written it.
    pub world: HashMap<u64, (u64, u64, Origin, u32)>,
    /// For lazy objects: per word the trace wrote, the epoch of its first write since it last
    /// belonged to the world. Written before the current epoch, the word is the trace's: a
    /// clobbering call since invented nothing for it.
    pub first_write: HashMap<u64, u32>,
    /// Per word a field, array or interior-field access of the trace reached: the descr it went
    /// through, the access's size and value type. A call whose descr states what it writes
    /// changes exactly the words of those descrs (see [`Machine::clobber_stated`]).
    pub accessed: HashMap<u64, (DescrId, u64, Type)>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ObjKind {
    /// Allocated by the trace (or a resumed virtual): `what` says by which op and descr.
    Fresh { what: std::sync::Arc<str>, item: Option<(MemKind, u64)> },
    /// Invented: an input or `ConstPtr` object of unknown layout.
    Lazy(Origin),
}

/// Every object of the heap by its start address. The heap is a bump allocator, so objects
/// come in address order: a sorted vector, appended to, searched by bisection (a tree cost
/// most of an allocation's time in compiled code).
#[derive(Default)]
pub struct Objects {
    by_start: Vec<(u64, ObjInfo)>,
}

impl Objects {
    fn push(&mut self, start: u64, info: ObjInfo) {
        assert!(self.by_start.last().is_none_or(|(s, _)| *s < start), "the heap allocates upwards");
        self.by_start.push((start, info));
    }

    fn index(&self, start: u64) -> Option<usize> {
        self.by_start.binary_search_by_key(&start, |(s, _)| *s).ok()
    }

    pub fn get(&self, start: u64) -> Option<&ObjInfo> {
        self.index(start).map(|k| &self.by_start[k].1)
    }

    pub fn get_mut(&mut self, start: u64) -> Option<&mut ObjInfo> {
        self.index(start).map(|k| &mut self.by_start[k].1)
    }

    /// The last object starting at or before `addr`.
    fn at_or_before(&self, addr: u64) -> Option<(u64, &ObjInfo)> {
        let k = self.by_start.partition_point(|(s, _)| *s <= addr);
        self.by_start.get(k.checked_sub(1)?).map(|(s, info)| (*s, info))
    }

    /// In address order.
    pub fn iter(&self) -> impl Iterator<Item = (u64, &ObjInfo)> {
        self.by_start.iter().map(|(s, info)| (*s, info))
    }
}

/// The heap and everything known about its objects.
pub struct Machine {
    pub heap: Heap,
    pub objects: Objects,
    lazy_by_origin: HashMap<Origin, u64>,
    /// Objects of unknown layout (what a clobbering call forgets), so that a call costs the
    /// number of those, not of every object allocated.
    lazy_starts: Vec<u64>,
    seed: u64,
    pub(crate) constraints: Constraints,
    /// Calls so far that may write memory.
    epoch: u32,
    /// Clobbering calls so far, counted together: the epoch of each (`epoch` is the last that
    /// wrote everything; `descr_epoch` the last that wrote a descr its descr stated).
    ticks: u32,
    descr_epoch: HashMap<DescrId, u32>,
    /// The virtualizable's words (addresses) and the epoch of the last call that may have
    /// written them (one that forces): other calls leave them alone.
    vable_words: Vec<u64>,
    vable_epoch: u32,
    /// The descr (and value type) of the access under way, if it goes through one: its word's
    /// epoch is the last call that may have written that descr.
    pub(crate) via: Option<(DescrId, Type)>,
    /// Note, per word, the descr accesses went through (a call descr of the module states
    /// what it writes).
    pub(crate) note_accesses: bool,
    pub(crate) calls: u32,
}

/// The bits a `size`-byte access keeps.
pub(crate) fn size_mask(size: u64) -> u64 {
    if size >= 8 {
        u64::MAX
    } else {
        (1u64 << (8 * size)) - 1
    }
}

pub(crate) fn trap(e: HeapError) -> Exit {
    match e {
        HeapError::OutOfMemory => Exit::Trap("out of heap memory".into()),
        // No address in the message: equivalent runs place objects differently.
        HeapError::BadAddress(a) => Exit::Trap(format!("access outside every object (offset {} in no object)", a % 8)),
    }
}

impl Machine {
    pub(crate) fn new(cfg: &Config) -> Machine {
        Machine {
            heap: Heap::new(cfg.heap_bytes),
            objects: Objects::default(),
            lazy_by_origin: HashMap::new(),
            lazy_starts: Vec::new(),
            seed: cfg.seed,
            constraints: cfg.constraints.clone(),
            epoch: 0,
            ticks: 0,
            descr_epoch: HashMap::new(),
            vable_words: Vec::new(),
            vable_epoch: 0,
            via: None,
            note_accesses: false,
            calls: 0,
        }
    }

    /// Allocates a fresh zeroed object. The one allocation function of the runtime.
    pub fn alloc(&mut self, size: u64, what: std::sync::Arc<str>, item: Option<(MemKind, u64)>) -> Step<u64> {
        let addr = self.heap.alloc(size).map_err(trap)?;
        self.heap.set_shadow(addr, size.max(8), SHADOW_READ_WRITE);
        if let Some((_, item_size)) = item {
            self.heap.set_shadow(addr + LENGTH_OFFSET, 1, crate::heap::array_length_mark(item_size));
        }
        let info = ObjInfo { size: size.max(8), kind: ObjKind::Fresh { what, item }, written: BTreeMap::new(), known: HashMap::new(), kept_if_immutable: Default::default(), kept_all_if_immutable: false, initial: HashMap::new(), world: HashMap::new(), first_write: HashMap::new(), accessed: HashMap::new() };
        self.objects.push(addr, info);
        Ok(addr)
    }

    /// The lazy object for an origin (the same one every time).
    pub(crate) fn lazy(&mut self, origin: Origin) -> Step<u64> {
        if let Some(&a) = self.lazy_by_origin.get(&origin) {
            return Ok(a);
        }
        let addr = self.heap.alloc(LAZY_SIZE).map_err(trap)?;
        let info = ObjInfo { size: LAZY_SIZE, kind: ObjKind::Lazy(origin.clone()), written: BTreeMap::new(), known: HashMap::new(), kept_if_immutable: Default::default(), kept_all_if_immutable: false, initial: HashMap::new(), world: HashMap::new(), first_write: HashMap::new(), accessed: HashMap::new() };
        self.objects.push(addr, info);
        self.lazy_by_origin.insert(origin, addr);
        self.lazy_starts.push(addr);
        Ok(addr)
    }

    /// The object containing `addr`, if any.
    pub fn object_at(&self, addr: u64) -> Option<(u64, &ObjInfo)> {
        let (start, info) = self.objects.at_or_before(addr)?;
        (addr < start + info.size).then_some((start, info))
    }

    /// An invented value of type `ty` for `origin` (or what a constraint forces).
    pub(crate) fn invent(&mut self, ty: Type, origin: Origin) -> Step<u64> {
        match (self.constraints.get(&origin).cloned(), ty) {
            (Some(Forced::Int(v)), _) => Ok(v),
            (Some(Forced::Null), _) => Ok(0),
            (Some(Forced::Alias(other)), _) if other != origin => self.invent(Type::Ref, other),
            (Some(Forced::Alias(_)), _) => self.lazy(origin),
            (_, Type::Ref) => self.lazy(origin),
            (_, Type::Float) => Ok(invent_float(self.seed, &origin)),
            _ => Ok(invent_int(self.seed, &origin)),
        }
    }

    /// Loads `size` bytes at `addr` as a value of type `ty`; invents words of lazy objects and
    /// clobbered words on first read. Returns the value and, if invented, its origin.
    pub(crate) fn load(&mut self, addr: u64, size: u64, signed: bool, ty: Type) -> Step<(u64, Option<Origin>)> {
        self.load_as(addr, size, signed, ty, false)
    }

    /// `load`, for memory declared immutable (`pure` descrs): calls cannot have changed it, so
    /// its invented value does not depend on how many calls came before.
    pub(crate) fn load_as(&mut self, addr: u64, size: u64, signed: bool, ty: Type, immutable: bool) -> Step<(u64, Option<Origin>)> {
        let Some((start, _)) = self.object_at(addr) else {
            return Err(trap(HeapError::BadAddress(addr)));
        };
        self.note_access(start, addr, size);
        let info = self.objects.get(start).expect("found above");
        let off = addr - start;
        if immutable && (info.kept_all_if_immutable || info.kept_if_immutable.contains(&off)) {
            let raw = self.heap.read(addr, size).map_err(trap)?;
            return Ok((if signed { sign_extend(raw, size) } else { raw }, None));
        }
        if let Some(origin) = info.known.get(&off) {
            let origin = origin.clone();
            let raw = self.heap.read(addr, size).map_err(trap)?;
            return Ok((if signed { sign_extend(raw, size) } else { raw }, origin));
        }
        let epoch = if immutable {
            0
        } else if self.vable_words.contains(&addr) {
            self.vable_epoch
        } else {
            self.epoch_now()
        };
        let origin = match &info.kind {
            ObjKind::Lazy(o) => Some(Origin::Word(std::sync::Arc::new(o.clone()), off, epoch)),
            ObjKind::Fresh { .. } => None,
        };
        let Some(origin) = origin else {
            let raw = self.heap.read(addr, size).map_err(trap)?;
            return Ok((if signed { sign_extend(raw, size) } else { raw }, None));
        };
        let v = self.invent(ty, origin.clone())?;
        let v = if ty == Type::Int { v & size_mask(size) } else { v };
        self.heap.write(addr, size, v).map_err(trap)?;
        let now = self.epoch_now();
        let info = self.objects.get_mut(start).expect("found above");
        info.known.insert(off, Some(origin.clone()));
        if epoch == 0 {
            info.initial.insert(off, v);
        }
        info.world.insert(off, (v, size, origin.clone(), now));
        self.heap.set_shadow(addr, 1, SHADOW_READ);
        Ok((if signed { sign_extend(v, size) } else { v }, Some(origin)))
    }

    /// Makes the word at `addr` of an object of unknown layout read as `v`, if nobody read it
    /// yet (an invented word is fixed once read; later it is left as it is).
    pub(crate) fn assume_word(&mut self, addr: u64, v: u64) {
        let Some((start, info)) = self.object_at(addr) else { return };
        if let (ObjKind::Lazy(o), false) = (&info.kind, info.known.contains_key(&(addr - start))) {
            let origin = Origin::Word(std::sync::Arc::new(o.clone()), addr - start, self.epoch_now());
            self.constraints.entry(origin).or_insert(Forced::Int(v));
        }
    }

    /// If a word of an object of unknown layout holds `v` in the world at this epoch (a read
    /// the trace had not made would give exactly `v`, as an int, a float or a reference): the
    /// origin of that read. A store that leaves such a word as the world has it changes nothing,
    /// whether or not the trace read the word first or wrote it in between (an optimizer may
    /// drop the read or the first store). Not for a word the trace wrote before the last
    /// clobbering call: the world invented nothing for it since.
    pub(crate) fn world_holds(&self, start: u64, info: &ObjInfo, addr: u64, size: u64, v: u64) -> Option<Origin> {
        let ObjKind::Lazy(o) = &info.kind else { return None };
        let off = addr - start;
        if matches!(info.known.get(&off), Some(Some(_))) || info.first_write.get(&off).is_some_and(|&e| e != self.epoch_now()) {
            return None;
        }
        let origin = Origin::Word(std::sync::Arc::new(o.clone()), off, self.epoch_now());
        let mask = size_mask(size);
        let holds = match self.constraints.get(&origin) {
            Some(Forced::Int(x)) => x & mask == v & mask,
            Some(Forced::Null) => v == 0,
            Some(Forced::Alias(_)) => false,
            // As a load of the store's type would have invented it: the world gives a float
            // field's word as a float, whatever int the same origin would give.
            Some(Forced::Object) | None => {
                let int = || invent_int(self.seed, &origin) & mask == v & mask;
                let float = || size == 8 && invent_float(self.seed, &origin) == v;
                let object = || self.lazy_by_origin.get(&origin) == Some(&v);
                match self.via.map(|(_, ty)| ty) {
                    Some(Type::Float) => float(),
                    Some(Type::Ref) => object(),
                    Some(_) => int(),
                    None => int() || float() || object(),
                }
            }
        };
        holds.then_some(origin)
    }

    pub(crate) fn store(&mut self, addr: u64, size: u64, v: u64) -> Step<()> {
        let Some((start, _)) = self.object_at(addr) else {
            return Err(trap(HeapError::BadAddress(addr)));
        };
        self.note_access(start, addr, size);
        let info = self.objects.get(start).expect("found above");
        if let Some(origin) = self.world_holds(start, info, addr, size, v) {
            // The word is as the world has it: known with its origin, as if read and never
            // written.
            self.heap.write(addr, size, v).map_err(trap)?;
            self.heap.set_shadow(addr, 1, SHADOW_READ);
            let epoch = self.epoch_now();
            let info = self.objects.get_mut(start).expect("found above");
            let off = addr - start;
            info.written.remove(&off);
            info.first_write.remove(&off);
            if epoch == 0 {
                info.initial.insert(off, v);
            }
            info.world.insert(off, (v, size, origin.clone(), epoch));
            info.known.insert(off, Some(origin));
            return Ok(());
        }
        // Writing back the invented value a word already holds changes nothing (a frame written
        // back unchanged): it stays what it was, not a write the heap comparison shows.
        if matches!(info.known.get(&(addr - start)), Some(Some(_))) && self.heap.read(addr, size).ok() == Some(v) {
            return Ok(());
        }
        // Writing back what the world last put there (no clobbering call since) makes it the
        // world's again: the same state as never having written it, whatever the trace wrote in
        // between (so dropping both stores, as an optimizer may, changes nothing).
        if let Some((w, wsize, origin, epoch)) = info.world.get(&(addr - start)) {
            if *wsize == size && *epoch == self.epoch_now() && (*w & size_mask(size)) == (v & size_mask(size)) {
                let origin = origin.clone();
                self.heap.write(addr, size, v).map_err(trap)?;
                self.heap.set_shadow(addr, 1, SHADOW_READ);
                let info = self.objects.get_mut(start).expect("found above");
                info.known.insert(addr - start, Some(origin));
                info.written.remove(&(addr - start));
                info.first_write.remove(&(addr - start));
                return Ok(());
            }
        }
        self.heap.write(addr, size, v).map_err(trap)?;
        let info = self.objects.get_mut(start).expect("found above");
        let off = addr - start;
        match &info.kind {
            ObjKind::Lazy(_) => self.heap.set_shadow(addr, 1, SHADOW_READ),
            // An array's length word keeps its mark only while the items fit the object:
            // compiled code bounds-checks against it.
            ObjKind::Fresh { item: Some((_, item_size)), .. } if off == LENGTH_OFFSET => {
                let fits = v.checked_mul(*item_size).and_then(|b| b.checked_add(ITEMS_OFFSET)).is_some_and(|end| end <= info.size);
                let mark = if fits { crate::heap::array_length_mark(*item_size) } else { SHADOW_READ_WRITE };
                self.heap.set_shadow(addr, 1, mark);
            }
            // Every word of an allocated object is defined and what it holds is what the heap
            // shows: nothing to remember (compiled code's direct stores remember nothing either).
            ObjKind::Fresh { .. } => return Ok(()),
        }
        let now = self.epoch_now();
        let info = self.objects.get_mut(start).expect("found above");
        info.known.insert(off, None);
        info.first_write.entry(off).or_insert(now);
        // Back to the value it had before the trace (after other writes): no change in all.
        if info.initial.get(&off) == Some(&v) {
            info.written.remove(&off);
        } else {
            info.written.insert(off, v);
        }
        Ok(())
    }

    /// The epoch of the word an access reads or writes now: of the last call that may have
    /// written it (through the access's descr, if it has one).
    pub(crate) fn epoch_now(&self) -> u32 {
        match self.via {
            Some((d, _)) => self.epoch.max(self.descr_epoch.get(&d).copied().unwrap_or(0)),
            None => self.epoch,
        }
    }

    /// Notes the descr the access under way goes through, for the word at `addr`.
    pub(crate) fn note_access(&mut self, start: u64, addr: u64, size: u64) {
        if let (true, Some((d, ty))) = (self.note_accesses, self.via) {
            if let Some(info) = self.objects.get_mut(start) {
                info.accessed.insert(addr - start, (d, size, ty));
            }
        }
    }

    /// A call whose descr states the memory it writes (`writes` says which descrs): the words
    /// the trace reached through those descrs change, in the objects of unknown layout the
    /// trace has not written there and in every object passed to the call, and nothing else
    /// does. A forgotten word of an object of unknown layout is invented anew on its next read
    /// (the epoch changes its origin); in an object the trace allocated, the call writes an
    /// invented value.
    pub(crate) fn clobber_stated(&mut self, ref_args: &[(u32, u64)], written: &[DescrId]) -> Step<()> {
        self.ticks += 1;
        let (call, epoch) = (self.calls, self.ticks);
        for &d in written {
            self.descr_epoch.insert(d, epoch);
        }
        let writes = |d: DescrId| written.contains(&d);
        let passed: Vec<(u32, u64)> = ref_args.iter().filter_map(|&(arg, addr)| self.object_at(addr).map(|(s, _)| (arg, s))).collect();
        let mut starts: Vec<(Option<u32>, u64)> = self.lazy_starts.iter().map(|&s| (None, s)).collect();
        starts.extend(passed.iter().map(|&(arg, s)| (Some(arg), s)));
        for (arg, start) in starts {
            let info = self.objects.get_mut(start).expect("objects stay");
            let hit: Vec<(u64, u64, Type)> = info.accessed.iter().filter(|(_, (d, _, _))| writes(*d)).map(|(&off, &(_, size, ty))| (off, size, ty)).collect();
            match (&info.kind, arg) {
                (ObjKind::Lazy(_), _) => {
                    for &(off, _, _) in &hit {
                        // Not passed, a word the trace wrote stays (as `clobber` has it).
                        let forget = arg.is_some() || matches!(info.known.get(&off), Some(Some(_)));
                        if forget && info.known.remove(&off).is_some() {
                            info.written.remove(&off);
                            info.first_write.remove(&off);
                            info.world.remove(&off);
                            self.heap.set_shadow(start + off, 1, SHADOW_SLOW);
                        }
                    }
                }
                (ObjKind::Fresh { .. }, Some(arg)) => {
                    for (off, size, ty) in hit {
                        let origin = Origin::Word(std::sync::Arc::new(Origin::Clobbered(call, arg)), off, epoch);
                        let v = self.invent(ty, origin)?;
                        let v = if ty == Type::Int { v & size_mask(size) } else { v };
                        self.heap.write(start + off, size, v).map_err(trap)?;
                    }
                }
                (ObjKind::Fresh { .. }, None) => {}
            }
        }
        Ok(())
    }

    /// A call that may write anything: invented memory not written by the trace is forgotten
    /// (the epoch changes its origin: it may read differently now), and so is every word of the
    /// objects passed to it, except header words (an object's class never changes) and the
    /// words at the addresses in `kept` when not passed (the virtualizable's fields).
    pub(crate) fn clobber(&mut self, ref_args: &[(u32, u64)], kept: &[u64]) {
        self.ticks += 1;
        self.epoch = self.ticks;
        // The virtualizable's words change only with a call that does not keep them: a word
        // first read after other calls still reads what it held at the start.
        if kept.is_empty() {
            self.vable_epoch = self.ticks;
        } else {
            self.vable_words = kept.to_vec();
        }
        let call = self.calls;
        let heap = &mut self.heap;
        for start in &self.lazy_starts {
            let info = self.objects.get_mut(*start).expect("lazy objects stay");
            info.known.retain(|&off, o| {
                let keep = o.is_none() || off == HEADER || kept.contains(&(start + off));
                if !keep {
                    heap.set_shadow(start + off, 1, SHADOW_SLOW);
                }
                keep
            });
        }
        for &(arg, addr) in ref_args {
            let Some((start, _)) = self.object_at(addr) else { continue };
            let info = self.objects.get_mut(start).expect("found above");
            if let ObjKind::Fresh { .. } = info.kind {
                // Fresh objects have no origin of their own: name the words by the call. Every
                // word was defined, so immutable ones keep their values.
                info.kind = ObjKind::Lazy(Origin::Clobbered(call, arg));
                info.kept_all_if_immutable = true;
                // Its class word was set at allocation and no call changes it.
                info.known.insert(HEADER, None);
                self.lazy_starts.push(start);
            }
            let known: Vec<u64> = info.known.keys().copied().filter(|&off| off != HEADER).collect();
            info.kept_if_immutable.extend(known);
            info.known.retain(|&off, _| off == HEADER);
            info.written.clear();
            info.first_write.clear();
            self.heap.set_shadow(start, info.size, SHADOW_SLOW);
            if info.known.contains_key(&HEADER) {
                self.heap.set_shadow(start + HEADER, 1, SHADOW_READ);
            }
        }
    }
}

