//! minipy's helpers state what they read and write (`tracelab_minipy::effects`), and the
//! optimizer goes by it: a load of a field a helper cannot write survives the call, a load of
//! one it writes is made again, and a helper that may run Python code forgets everything. Each
//! run also checks the optimized trace against the original (`--check`).

use tracelab::{run_cli, Io};

const LOOP: &str = "
loop l [p0, p1, p2, p3] {
    p4 = getfield_gc_r(p0, descr=minipy.instance.storage)
    i5 = getfield_gc_i(p1, descr=minipy.list.len)
    call_n(ConstClass(list_append), p1, p0, descr=minipy.call.list_append)
    p6 = getfield_gc_r(p0, descr=minipy.instance.storage)
    i7 = getfield_gc_i(p1, descr=minipy.list.len)
    p8 = call_r(ConstClass(dict_lookup_str), p2, p3, descr=minipy.call.dict_lookup_str)
    p9 = getfield_gc_r(p0, descr=minipy.instance.storage)
    i10 = getfield_gc_i(p1, descr=minipy.list.len)
    p11 = call_r(ConstClass(getitem), p2, p0, descr=minipy.call.getitem)
    p12 = getfield_gc_r(p0, descr=minipy.instance.storage)
    i13 = int_add(i5, i7)
    i14 = int_add(i13, i10)
    finish(i14)
}
";

fn optimize(text: &str) -> String {
    // One folder per call: the tests run on parallel threads of one process.
    static CALLS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let call = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("minipy-effects-{}-{call}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("effects.trace");
    std::fs::write(&path, text).expect("write trace");
    let mut io = Io::default();
    let code = run_cli(["opt", path.to_str().expect("utf-8 path"), "-p", "heap", "--check"], &mut io);
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(code, 0, "opt failed:\n{}\n{}", io.out, io.err);
    io.out
}

#[test]
fn the_declarations_verify() {
    let text = tracelab_minipy::effects::declarations();
    let out = optimize(&format!("{text}{LOOP}"));
    assert!(out.contains("loop l"), "{out}");
}

#[test]
fn loads_survive_the_helpers_that_cannot_write_them() {
    let out = optimize(&format!("{}{LOOP}", tracelab_minipy::effects::declarations()));
    let loads = |descr: &str| out.lines().filter(|l| l.contains("getfield_gc") && l.contains(descr)).count();
    // The instance's storage is loaded once before dict_lookup (list_append and
    // dict_lookup_str cannot write it) and once more after getitem (it may run Python code).
    assert_eq!(loads("minipy.instance.storage"), 2, "{out}");
    // list.len: loaded, and again after list_append (which writes it); dict_lookup_str does
    // not write it, so the third load is the second.
    assert_eq!(loads("minipy.list.len"), 2, "{out}");
}

#[test]
fn without_the_effect_sets_every_load_is_made_again() {
    // The same helpers with only their effect class (what PyPy's logs print): every call
    // may write anything, so no load is forwarded across one.
    let mut text = tracelab_minipy::effects::declarations();
    for h in tracelab_minipy::effects::HELPERS {
        text = text.replace(&tracelab_minipy::effects::call_descr(h), &format!("<{}>", h.signature));
    }
    let out = optimize(&format!("{text}{LOOP}"));
    let loads = |descr: &str| out.lines().filter(|l| l.contains("getfield_gc") && l.contains(descr)).count();
    assert_eq!(loads("minipy.instance.storage"), 4, "{out}");
    assert_eq!(loads("minipy.list.len"), 3, "{out}");
}
