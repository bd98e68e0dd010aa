use super::*;

fn layouts() -> (Layouts, LayoutId, LayoutId, LayoutId) {
    let mut l = Layouts::default();
    // A pair: header, an int, two references.
    let pair = l.declare(Layout::fixed("pair", 4, 0b1100));
    let array = l.declare(Layout { cards: true, ..Layout::var("array", 2, 0, Items::Refs) });
    let bytes = l.declare(Layout::var("bytes", 2, 0, Items::Bytes));
    (l, pair, array, bytes)
}

fn small(stress: bool) -> GcConfig {
    GcConfig { nursery_words: 256, large_words: 200, min_major_words: 1024, stress, verify: true, ..GcConfig::default() }
}

/// Builds a linked list of `n` pairs (value i, next), rooted, through many collections.
fn build_list(heap: &mut Heap, pair: LayoutId, n: u64) -> usize {
    let head = heap.push_root(Ref::NULL);
    for i in 0..n {
        let p = heap.alloc(pair, 0).unwrap();
        heap.set_word(p, 1, i);
        let next = heap.root(head);
        heap.set_field(p, 2, next);
        heap.set_root(head, p);
        // Garbage in between, so that collections have something to drop.
        heap.alloc(pair, 0).unwrap();
    }
    head
}

fn list_values(heap: &Heap, head: usize) -> Vec<u64> {
    let mut out = vec![];
    let mut p = heap.root(head);
    while !p.is_null() {
        out.push(heap.word(p, 1));
        p = heap.field(p, 2);
    }
    out
}

#[test]
fn a_rooted_list_survives_minor_and_major_collections() {
    for stress in [false, true] {
        let (l, pair, _, _) = layouts();
        let mut heap = Heap::new(l, small(stress));
        let head = build_list(&mut heap, pair, 2000);
        heap.collect_major().unwrap();
        let expect: Vec<u64> = (0..2000).rev().collect();
        assert_eq!(list_values(&heap, head), expect);
        assert!(heap.stats().minor_collections > 10);
        assert!(heap.stats().major_collections >= 1);
        heap.verify();
    }
}

#[test]
fn garbage_is_reclaimed_by_compaction() {
    let (l, pair, _, _) = layouts();
    let mut heap = Heap::new(l, small(false));
    let head = build_list(&mut heap, pair, 3000);
    heap.set_root(head, Ref::NULL);
    heap.collect_major().unwrap();
    assert_eq!(heap.stats_heap_bytes() as usize, 8 * heap.nursery_end);
}

#[test]
fn the_barrier_keeps_young_objects_stored_into_old_ones() {
    let (l, pair, _, _) = layouts();
    let mut heap = Heap::new(l, small(false));
    let old = heap.alloc(pair, 0).unwrap();
    let slot = heap.push_root(old);
    heap.collect_minor().unwrap();
    let old = heap.root(slot);
    assert!(!heap.is_young(old));
    let young = heap.alloc(pair, 0).unwrap();
    heap.set_word(young, 1, 42);
    heap.set_field(old, 3, young);
    heap.collect_minor().unwrap();
    let old = heap.root(slot);
    let moved = heap.field(old, 3);
    assert!(!heap.is_young(moved));
    assert_eq!(heap.word(moved, 1), 42);
}

#[test]
fn cards_find_young_items_of_a_large_old_array() {
    let (l, pair, array, _) = layouts();
    let mut heap = Heap::new(l, small(false));
    let arr = heap.alloc(array, 1000).unwrap();
    assert!(!heap.is_young(arr), "large objects are allocated old");
    let slot = heap.push_root(arr);
    for i in [3usize, 500, 999] {
        let p = heap.alloc(pair, 0).unwrap();
        heap.set_word(p, 1, i as u64);
        let arr = heap.root(slot);
        heap.set_field(arr, 2 + i, p);
    }
    assert!(heap.remembered.is_empty(), "card-marked arrays are not remembered whole");
    heap.collect_minor().unwrap();
    let arr = heap.root(slot);
    for i in [3usize, 500, 999] {
        assert_eq!(heap.word(heap.field(arr, 2 + i), 1), i as u64);
    }
    heap.collect_major().unwrap();
    let arr = heap.root(slot);
    assert_eq!(heap.word(heap.field(arr, 2 + 500), 1), 500);
}

#[test]
fn bytes_round_trip_and_stress_mode_collects_at_every_allocation() {
    let (l, _, _, bytes) = layouts();
    let mut heap = Heap::new(l, small(true));
    let b = heap.alloc(bytes, 11).unwrap();
    heap.bytes_mut(b, 2).copy_from_slice(b"hello world");
    let slot = heap.push_root(b);
    let before = heap.stats().minor_collections;
    heap.alloc(bytes, 3).unwrap();
    assert_eq!(heap.stats().minor_collections, before + 1);
    assert_eq!(heap.bytes(heap.root(slot), 2), b"hello world");
}
